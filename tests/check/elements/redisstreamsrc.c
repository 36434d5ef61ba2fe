/* GStreamer Redis Streams elements
 * Copyright (C) 2026 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 *
 * You should have received a copy of the GNU Library General Public
 * License along with this library; if not, write to the
 * Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
 * Boston, MA 02110-1301, USA.
 */

/* redisstreamsrc against a real redis-server started per test, fed by
 * redisstreamsink or by raw XADDs. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>
#include <signal.h>

#include "redisfixture.h"

static RedisServer *server;

static void
setup (void)
{
  server = redis_server_start ();
}

static void
teardown (void)
{
  redis_server_stop (server);
  server = NULL;
}

/* A source harness; created with the group already in place so that
 * frames written right after are not missed by a "$" group. */
static GstHarness *
src_harness (const gchar * props)
{
  GstHarness *h = redis_test_harness_new ("redisstreamsrc port=%u %s",
      server->port, props ? props : "");

  /* a harness does not start a source by itself */
  gst_harness_play (h);
  return h;
}

/* TRUE when @group exists on @stream. */
static gboolean
group_exists (const gchar * stream, const gchar * group)
{
  redisReply *r = redis_server_command (server, "XINFO GROUPS %s", stream);
  gboolean found = FALSE;
  gsize g;

  if (r->type == REDIS_REPLY_ARRAY) {
    for (g = 0; g < r->elements; g++) {
      if (g_str_equal (r->element[g]->element[1]->str, group))
        found = TRUE;
    }
  }
  freeReplyObject (r);
  return found;
}

/* Waits until the group exists (the source created it in start ()). */
static void
wait_for_group (const gchar * stream, const gchar * group)
{
  test_wait_until (group_exists (stream, group), 5000,
      "group %s on stream %s", group, stream);
}

/* TRUE when one client of the server is blocked (in XREAD[GROUP]). */
static gboolean
one_client_blocked (void)
{
  redisReply *r = redis_server_command (server, "INFO clients");
  gboolean blocked = strstr (r->str, "blocked_clients:1\r\n") != NULL;

  freeReplyObject (r);
  return blocked;
}

/* Waits until a client of the server is blocked (in XREAD[GROUP]). */
static void
wait_blocked_client (void)
{
  test_wait_until (one_client_blocked (), 5000,
      "a client blocked in XREADGROUP (INFO clients)");
}

static void
check_roundtrip (GstVideoFormat format, gint width, gint height,
    const gchar * compression, gboolean noise)
{
  GstVideoInfo info;
  GstCaps *caps;
  gchar *caps_str, *props;
  GstHarness *sink, *src;
  GstBuffer *sent[4];
  gint i;

  gst_video_info_set_format (&info, format, width, height);
  info.fps_n = 30;
  info.fps_d = 1;
  caps = gst_video_info_to_caps (&info);
  caps_str = gst_caps_to_string (caps);

  props = g_strdup_printf ("stream=rt compression=%s", compression);
  src = src_harness ("stream=rt group=g");
  wait_for_group ("rt", "g");
  sink = redis_test_sink_harness (server, props, caps_str);

  for (i = 0; i < 4; i++) {
    sent[i] = redis_test_make_frame (&info, i + width, noise);
    fail_unless_equals_int (gst_harness_push (sink, gst_buffer_ref (sent[i])),
        GST_FLOW_OK);
  }
  for (i = 0; i < 4; i++) {
    GstBuffer *got = gst_harness_pull (src);
    GstCaps *got_caps;

    fail_unless (got != NULL);
    fail_unless (redis_test_buffer_equal (got, sent[i]),
        "frame %d of %s %dx%d (%s) differs", i,
        gst_video_format_to_string (format), width, height, compression);
    got_caps = gst_pad_get_current_caps (src->sinkpad);
    fail_unless (gst_caps_is_equal (got_caps, caps), "%" GST_PTR_FORMAT,
        got_caps);
    gst_caps_unref (got_caps);
    gst_buffer_unref (got);
    gst_buffer_unref (sent[i]);
  }

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  freeReplyObject (redis_server_command (server, "DEL rt"));
  g_free (props);
  g_free (caps_str);
  gst_caps_unref (caps);
}

GST_START_TEST (test_roundtrip_bit_exact)
{
  const struct
  {
    GstVideoFormat format;
    gint w, h;
  } cases[] = {
    {GST_VIDEO_FORMAT_I420, 320, 240},
    {GST_VIDEO_FORMAT_I420, 321, 241},  /* odd: chroma rounds up */
    {GST_VIDEO_FORMAT_NV12, 33, 17},
    {GST_VIDEO_FORMAT_RGB, 31, 7},      /* row stride padded to 4 */
    {GST_VIDEO_FORMAT_BGRx, 1, 1},
    {GST_VIDEO_FORMAT_GRAY8, 1921, 3},
    {GST_VIDEO_FORMAT_RGBA, 640, 480},
  };
  const gchar *compressions[] = { "none", "lz4", "auto" };
  guint c, k;

  for (c = 0; c < G_N_ELEMENTS (cases); c++) {
    for (k = 0; k < G_N_ELEMENTS (compressions); k++) {
      check_roundtrip (cases[c].format, cases[c].w, cases[c].h,
          compressions[k], TRUE);
      check_roundtrip (cases[c].format, cases[c].w, cases[c].h,
          compressions[k], FALSE);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_timestamps_flags_offset_and_metas_preserved)
{
  GstHarness *src = src_harness ("stream=meta group=g timestamp-mode=producer");
  GstHarness *sink;
  GstBuffer *buf, *got;
  GstReferenceTimestampMeta *ts;
  GstVideoRegionOfInterestMeta *roi;
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GstStructure *param;
  gdouble score;

  wait_for_group ("meta", "g");
  sink = redis_test_sink_harness (server, "stream=meta", "application/x-test");

  buf = gst_buffer_new_memdup ("payload", 7);
  GST_BUFFER_PTS (buf) = 5 * GST_SECOND;
  GST_BUFFER_DTS (buf) = 4 * GST_SECOND;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  GST_BUFFER_OFFSET (buf) = 4242;
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_HEADER);
  gst_buffer_add_reference_timestamp_meta (buf, unix_caps,
      G_GUINT64_CONSTANT (1700000000123456789), GST_CLOCK_TIME_NONE);
  roi = gst_buffer_add_video_region_of_interest_meta (buf, "motion", 10, 20,
      30, 40);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("motion", "score", G_TYPE_DOUBLE, 0.75, NULL));
  fail_unless_equals_int (gst_harness_push (sink, buf), GST_FLOW_OK);

  /* a buffer with nothing set gets a capture time stamped by the sink */
  fail_unless_equals_int (gst_harness_push (sink,
          gst_buffer_new_memdup ("x", 1)), GST_FLOW_OK);

  got = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (got), 5 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (got), 4 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (got), 40 * GST_MSECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (got), 4242);
  fail_if (GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_DELTA_UNIT));
  fail_unless (GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_DISCONT));
  fail_unless (GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_HEADER));
  fail_if (GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_GAP));
  ts = gst_buffer_get_reference_timestamp_meta (got, unix_caps);
  fail_unless (ts != NULL);
  fail_unless_equals_uint64 (ts->timestamp,
      G_GUINT64_CONSTANT (1700000000123456789));
  roi = gst_buffer_get_video_region_of_interest_meta_id (got, 0);
  fail_unless (roi != NULL);
  fail_unless_equals_string (g_quark_to_string (roi->roi_type), "motion");
  fail_unless_equals_int (roi->x, 10);
  fail_unless_equals_int (roi->y, 20);
  fail_unless_equals_int (roi->w, 30);
  fail_unless_equals_int (roi->h, 40);
  param = gst_video_region_of_interest_meta_get_param (roi, "motion");
  fail_unless (param != NULL);
  fail_unless (gst_structure_get_double (param, "score", &score));
  fail_unless (score == 0.75);
  gst_buffer_unref (got);

  got = gst_harness_pull (src);
  fail_if (GST_BUFFER_PTS_IS_VALID (got));
  fail_if (GST_BUFFER_DURATION_IS_VALID (got));
  /* no offset after numbered buffers: no seq, rather than a number of the
   * sink's own that upstream may give another frame */
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (got), GST_BUFFER_OFFSET_NONE);
  ts = gst_buffer_get_reference_timestamp_meta (got, unix_caps);
  fail_unless (ts != NULL);
  {
    gint64 now = g_get_real_time () * 1000;

    fail_unless ((gint64) ts->timestamp <= now &&
        (gint64) ts->timestamp > now - 60 * GST_SECOND);
  }
  gst_buffer_unref (got);

  /* a delta unit after a key frame (one before any key frame would be held
   * back: docs/media.md) */
  buf = gst_buffer_new_memdup ("delta", 5);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  fail_unless_equals_int (gst_harness_push (sink, buf), GST_FLOW_OK);
  got = gst_harness_pull (src);
  fail_unless (GST_BUFFER_FLAG_IS_SET (got, GST_BUFFER_FLAG_DELTA_UNIT));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (got), GST_BUFFER_OFFSET_NONE);
  gst_buffer_unref (got);

  gst_caps_unref (unix_caps);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

static GstCaps *
pull_caps_event (GstHarness * h)
{
  GstEvent *ev;

  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;

      gst_event_parse_caps (ev, &caps);
      gst_caps_ref (caps);
      gst_event_unref (ev);
      return caps;
    }
    gst_event_unref (ev);
  }
  return NULL;
}

GST_START_TEST (test_caps_change_mid_stream)
{
  GstHarness *src = src_harness ("stream=cc group=g");
  GstHarness *sink;
  GstVideoInfo a, b;
  GstCaps *ca, *cb, *got;
  GstBuffer *buf;
  gint i;

  wait_for_group ("cc", "g");
  gst_video_info_set_format (&a, GST_VIDEO_FORMAT_I420, 64, 48);
  gst_video_info_set_format (&b, GST_VIDEO_FORMAT_RGB, 33, 21);
  ca = gst_video_info_to_caps (&a);
  cb = gst_video_info_to_caps (&b);

  sink = redis_test_harness_new ("redisstreamsink port=%u stream=cc",
      server->port);
  gst_harness_set_src_caps (sink, gst_caps_ref (ca));
  for (i = 0; i < 3; i++)
    gst_harness_push (sink, redis_test_make_frame (&a, i, TRUE));
  gst_harness_set_src_caps (sink, gst_caps_ref (cb));
  for (i = 0; i < 3; i++)
    gst_harness_push (sink, redis_test_make_frame (&b, i, TRUE));

  for (i = 0; i < 6; i++) {
    buf = gst_harness_pull (src);
    fail_unless_equals_int (gst_buffer_get_size (buf), i < 3 ?
        GST_VIDEO_INFO_SIZE (&a) : GST_VIDEO_INFO_SIZE (&b));
    if (i == 0 || i == 3) {
      got = pull_caps_event (src);
      fail_unless (got != NULL);
      fail_unless (gst_caps_is_equal (got, i == 0 ? ca : cb),
          "%" GST_PTR_FORMAT, got);
      gst_caps_unref (got);
    }
    gst_buffer_unref (buf);
  }
  /* no caps event for frames whose caps did not change */
  fail_unless (pull_caps_event (src) == NULL);

  gst_caps_unref (ca);
  gst_caps_unref (cb);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* What two consumers of one group pulled so far. */
typedef struct
{
  GstHarness *h[2];
  gboolean seen[200];
  guint got[2];
  guint total;
} TwoConsumers;

/* Pulls what both have; TRUE once all 200 arrived, each exactly once. */
static gboolean
two_consumers_pull_all (TwoConsumers * t)
{
  guint k;

  for (k = 0; k < 2; k++) {
    GstBuffer *b;

    while ((b = gst_harness_try_pull (t->h[k]))) {
      guint64 seq = GST_BUFFER_OFFSET (b);

      fail_unless (seq < 200);
      fail_if (t->seen[seq], "entry %" G_GUINT64_FORMAT " delivered twice",
          seq);
      t->seen[seq] = TRUE;
      t->total++;
      t->got[k]++;
      gst_buffer_unref (b);
    }
  }
  return t->total == 200;
}

GST_START_TEST (test_two_consumers_share_work_exactly_once)
{
  GstHarness *c1 = src_harness ("stream=work group=workers consumer=one");
  GstHarness *c2 = src_harness ("stream=work group=workers consumer=two");
  GstHarness *sink;
  TwoConsumers t = { {c1, c2}, {FALSE,}, {0, 0}, 0 };
  gint i;

  wait_for_group ("work", "workers");
  sink = redis_test_sink_harness (server, "stream=work", "application/x-test");
  for (i = 0; i < 200; i++) {
    GstBuffer *b = gst_buffer_new_memdup (&i, sizeof (i));

    GST_BUFFER_OFFSET (b) = i;
    gst_harness_push (sink, b);
  }

  test_wait_until (two_consumers_pull_all (&t), 30000,
      "200 entries shared by two consumers (got %u)", t.total);
  fail_unless_equals_int (t.total, 200);
  GST_INFO ("consumer one got %u, two got %u", t.got[0], t.got[1]);
  fail_unless (t.got[0] > 0 && t.got[1] > 0, "one %u two %u", t.got[0],
      t.got[1]);

  gst_harness_teardown (sink);
  gst_harness_teardown (c1);
  gst_harness_teardown (c2);
}

GST_END_TEST;

/* Entries a consumer took but never acknowledged (it crashed) are
 * delivered again, before new ones, when a consumer of the same name
 * starts. */
GST_START_TEST (test_unacked_entries_redelivered_after_restart)
{
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=re", "application/x-test");
  GstHarness *src;
  GstElement *e;
  redisReply *r;
  gint i;

  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE re g $ MKSTREAM"));
  for (i = 0; i < 5; i++) {
    GstBuffer *b = gst_buffer_new_memdup ("abc", 3);

    GST_BUFFER_OFFSET (b) = i;
    gst_harness_push (sink, b);
  }
  /* "worker" takes the five entries and dies before acknowledging them */
  r = redis_server_command (server,
      "XREADGROUP GROUP g worker COUNT 5 STREAMS re >");
  fail_unless_equals_int (r->element[0]->element[1]->elements, 5);
  freeReplyObject (r);
  r = redis_server_command (server, "XPENDING re g");
  fail_unless_equals_int (r->element[0]->integer, 5);
  freeReplyObject (r);

  src = src_harness ("stream=re group=g consumer=worker");
  for (i = 0; i < 5; i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  /* a frame written after the restart comes after the redelivered ones */
  {
    GstBuffer *b = gst_buffer_new_memdup ("new", 3);

    GST_BUFFER_OFFSET (b) = 99;
    gst_harness_push (sink, b);
    b = gst_harness_pull (src);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 99);
    gst_buffer_unref (b);
  }
  e = redis_test_harness_element (src, "redisstreamsrc");
  fail_unless_equals_uint64 (redis_test_get_stat (e, "redelivered"), 5);
  /* another consumer name does not get them: they were acknowledged */
  r = redis_server_command (server, "XPENDING re g");
  fail_unless (r->element[0]->integer <= 1);
  freeReplyObject (r);

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* An entry that was trimmed away while pending is skipped and counted. */
GST_START_TEST (test_trimmed_pending_entry_is_skipped)
{
  GstHarness *src;
  GstElement *e;
  redisReply *r;
  GstBuffer *b;
  gchar *first_id;

  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE tr g $ MKSTREAM"));
  freeReplyObject (redis_server_command (server,
          "XADD tr * v 1 caps application/x-test seq 1 data a"));
  freeReplyObject (redis_server_command (server,
          "XADD tr * v 1 caps application/x-test seq 2 data b"));
  r = redis_server_command (server,
      "XREADGROUP GROUP g worker COUNT 2 STREAMS tr >");
  first_id = g_strdup (r->element[0]->element[1]->element[0]->element[0]->str);
  freeReplyObject (r);
  freeReplyObject (redis_server_command (server, "XDEL tr %s", first_id));

  src = src_harness ("stream=tr group=g consumer=worker");
  e = redis_test_harness_element (src, "redisstreamsrc");
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 2);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-deleted"), 1);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "redelivered"), 1);
  g_free (first_id);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* How many entries of @stream group g holds pending. */
static long long
pending_in_group (const gchar * stream)
{
  redisReply *r = redis_server_command (server, "XPENDING %s g", stream);
  long long pending = r->element[0]->integer;

  freeReplyObject (r);
  return pending;
}

/* How many entries of @stream group g holds pending for @consumer (at
 * most 10). */
static gsize
consumer_pending (const gchar * stream, const gchar * consumer)
{
  redisReply *r = redis_server_command (server, "XPENDING %s g - + 10 %s",
      stream, consumer);
  gsize n = r->elements;

  freeReplyObject (r);
  return n;
}

/* Waits until at most one entry of @stream is pending in group "g": the
 * last one pushed, whose XACK goes out with the next read. */
static void
wait_pending_at_most_one (const gchar * stream)
{
  test_wait_until (pending_in_group (stream) <= 1, 2000,
      "at most one entry of %s pending (%lld)", stream,
      pending_in_group (stream));
}

/* A frame is acknowledged once it was pushed: at most the last one stays
 * pending while the source runs. */
GST_START_TEST (test_ack_after_push)
{
  GstHarness *src = src_harness ("stream=ack group=g consumer=c");
  GstHarness *sink;
  gint i;

  wait_for_group ("ack", "g");
  sink = redis_test_sink_harness (server, "stream=ack", "application/x-test");
  for (i = 0; i < 20; i++)
    gst_harness_push (sink, gst_buffer_new_memdup ("abc", 3));
  for (i = 0; i < 20; i++)
    gst_buffer_unref (gst_harness_pull (src));

  /* the XACK of the last one goes out with the next read */
  wait_pending_at_most_one ("ack");

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

static gdouble
time_state_change_to_null (GstElement * pipeline)
{
  gint64 t0 = g_get_monotonic_time ();

  gst_element_set_state (pipeline, GST_STATE_NULL);
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static int
cmp_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

/* Blocked in XREADGROUP BLOCK 10000 with no traffic, going to NULL takes
 * well under 100 ms. */
GST_START_TEST (test_interrupt_latency)
{
  gdouble ms[5];
  gint i;

  for (i = 0; i < 5; i++) {
    GstElement *pipeline;
    GError *err = NULL;
    gchar *desc = g_strdup_printf ("redisstreamsrc port=%u stream=idle "
        "block=10000 ! fakesink", server->port);

    pipeline = gst_parse_launch (desc, &err);
    g_assert_no_error (err);
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_get_state (pipeline, NULL, NULL,
            5 * GST_SECOND) != GST_STATE_CHANGE_FAILURE);
    wait_blocked_client ();
    ms[i] = time_state_change_to_null (pipeline);
    GST_INFO ("PLAYING -> NULL took %.2f ms", ms[i]);
    fail_unless (ms[i] < 1000.0, "took %.1f ms", ms[i]);
    gst_object_unref (pipeline);
    g_free (desc);
  }
  qsort (ms, 5, sizeof (gdouble), cmp_double);
  g_print ("interrupt latency (PLAYING -> NULL while blocked): median %.2f "
      "ms, max %.2f ms\n", ms[2], ms[4]);
  fail_unless (ms[2] < 100.0, "median %.1f ms", ms[2]);
}

GST_END_TEST;

/* Pausing interrupts the blocked read at once; an entry that Redis hands to
 * that interrupted read is not lost: it comes out after resuming. */
GST_START_TEST (test_pause_keeps_entry_of_interrupted_read)
{
  GstHarness *src = src_harness ("stream=fl group=g block=3000");
  GstHarness *sink;
  GstBuffer *b;
  gint64 t0;

  wait_for_group ("fl", "g");
  sink = redis_test_sink_harness (server, "stream=fl", "application/x-test");
  wait_blocked_client ();

  t0 = g_get_monotonic_time ();
  gst_element_set_state (src->element, GST_STATE_PAUSED);
  fail_unless (g_get_monotonic_time () - t0 < 500 * 1000);

  /* Redis delivers this entry to the interrupted read */
  b = gst_buffer_new_memdup ("after", 5);
  GST_BUFFER_OFFSET (b) = 7;
  gst_harness_push (sink, b);
  /* not a poll: a paused source pushes nothing, however long it waits */
  g_usleep (100 * 1000);
  fail_unless (gst_harness_try_pull (src) == NULL);

  gst_element_set_state (src->element, GST_STATE_PLAYING);
  b = gst_harness_pull (src);
  fail_unless (b != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 7);
  gst_buffer_unref (b);

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

static void
xadd_raw (const gchar * stream, const gchar ** fv, gsize n, const gchar * data,
    gsize data_len)
{
  const gchar *argv[64];
  gsize lens[64];
  gsize i, argc = 0;
  redisContext *c = redis_server_connect (server);
  redisReply *r;

  argv[argc] = "XADD";
  lens[argc++] = 4;
  argv[argc] = stream;
  lens[argc++] = strlen (stream);
  argv[argc] = "*";
  lens[argc++] = 1;
  for (i = 0; i < n; i++) {
    argv[argc] = fv[i];
    lens[argc++] = strlen (fv[i]);
  }
  if (data) {
    argv[argc] = "data";
    lens[argc++] = 4;
    argv[argc] = data;
    lens[argc++] = data_len;
  }
  r = redisCommandArgv (c, argc, argv, lens);
  fail_unless (r && r->type == REDIS_REPLY_STRING, "XADD failed: %s",
      r ? r->str : c->errstr);
  freeReplyObject (r);
  redisFree (c);
}

#define GOOD "v", "1", "caps", "application/x-test"

GST_START_TEST (test_bad_entries_are_skipped_and_counted)
{
  GstHarness *src = src_harness ("stream=bad group=g max-frame-size=1000000");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  struct
  {
    const gchar *fv[16];
    gsize n;
    const gchar *data;
    gsize len;
  } bad[] = {
    {{"v", "1", "caps", "application/x-test"}, 4, NULL, 0},     /* no data */
    {{"caps", "application/x-test"}, 2, "x", 1},        /* no version */
    {{"v", "1"}, 2, "x", 1},    /* no caps */
    {{"v", "3", "caps", "application/x-test"}, 4, "x", 1},      /* version */
    {{"v", "2", "caps", "application/x-test"}, 4, "x", 1},      /* no id */
    {{"v", "2", "caps", "2147483648"}, 4, "x", 1},      /* id >= 2^31 */
    {{"v", "2", "caps", "12345"}, 4, "x", 1},   /* not in bad:info */
    {{"v", "one", "caps", "application/x-test"}, 4, "x", 1},
    {{GOOD, "encoding", "zstd"}, 6, "x", 1},
    {{GOOD, "encoding", "lz4", "size", "5"}, 8, "not lz4 at all", 14},
    {{GOOD, "encoding", "lz4"}, 6, "x", 1},     /* lz4 without size */
    {{GOOD, "size", "2"}, 6, "x", 1},   /* size does not match */
    {{GOOD, "encoding", "lz4", "size", "999999999999"}, 8, "x", 1},
    {{GOOD, "size", "18446744073709551616"}, 6, "x", 1},        /* > u64 */
    {{GOOD, "seq", "-3"}, 6, "x", 1},
    {{GOOD, "pts", "12abc"}, 6, "x", 1},
    {{GOOD, "flags", "delta,sparkly"}, 6, "x", 1},
    {{"v", "1", "caps", "video/x-raw,width=(int)"}, 4, "x", 1},
    {{"v", "1", "caps", "video/x-raw,width={1,2}"}, 4, "x", 1}, /* not fixed */
    {{GOOD, "meta", "{not json"}, 6, "x", 1},
    {{GOOD, "meta", "{\"rois\":[{\"type\":\"m\",\"x\":-1,\"y\":0,\"w\":1,"
                "\"h\":1}]}"}, 6, "x", 1},
    {{GOOD, "v", "1"}, 6, "x", 1},      /* a field twice */
  };
  guint i, n_bad = G_N_ELEMENTS (bad), warnings = 0;
  GstMessage *msg;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("bad", "g");

  for (i = 0; i < n_bad; i++) {
    gchar *seq = g_strdup_printf ("%u", i);

    {
      const gchar *fv[] = { GOOD, "seq", seq, "unknown-field", "ignored" };

      /* a valid entry, with a field this reader does not know */
      xadd_raw ("bad", fv, 8, "ok", 2);
    }
    xadd_raw ("bad", bad[i].fv, bad[i].n, bad[i].data, bad[i].len);
    g_free (seq);
  }

  /* every valid entry arrives, in order, around the bad ones */
  for (i = 0; i < n_bad; i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless (b != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  /* and the last bad one was read too: one more valid entry */
  {
    const gchar *fv[] = { GOOD, "seq", "1000" };
    GstBuffer *b;

    xadd_raw ("bad", fv, 6, "ok", 2);
    b = gst_harness_pull (src);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1000);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), n_bad);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "frames"), n_bad + 1);

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "Skipped entry") != NULL);
    fail_unless (strstr (err->message, "\"bad\"") != NULL);
    g_clear_error (&err);
    gst_message_unref (msg);
    warnings++;
  }
  fail_unless_equals_int (warnings, n_bad);
  fail_if (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR));

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_value_over_max_frame_size_is_not_read)
{
  GstHarness *src = src_harness ("stream=huge group=g max-frame-size=100000");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  const gchar *fv[] = { GOOD, "seq", "1" };
  const gchar *ok[] = { GOOD, "seq", "2" };
  gchar *big = g_malloc0 (300000);
  GstMessage *msg;
  GstBuffer *b;
  gchar *debug = NULL;
  GError *err = NULL;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("huge", "g");

  /* 300 KB of data cannot be a frame of at most 100000 bytes, not even
   * LZ4-compressed: the source drops it as it arrives, skips the entry
   * (counted, a warning, acknowledged) and reads the next one */
  xadd_raw ("huge", fv, 6, big, 300000);
  xadd_raw ("huge", ok, 6, "ok", 2);
  b = gst_harness_pull (src);
  fail_unless (b != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 2);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), 1);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (strstr (err->message, "Skipped entry") != NULL);
  fail_unless (strstr (debug, "field \"data\" holds a value of 300000 "
          "bytes") != NULL, debug);
  fail_unless (strstr (debug, "not read into memory") != NULL, debug);
  fail_unless (strstr (debug, "max-frame-size is 100000") != NULL, debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  fail_if (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR));

  /* the skipped entry was acknowledged: at most the last one is pending */
  wait_pending_at_most_one ("huge");

  g_free (big);
  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_max_age_skips_old_frames)
{
  GstHarness *src = src_harness ("stream=rt group=g max-age=500");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstHarness *sink;
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GstBuffer *b;
  gint i;

  wait_for_group ("rt", "g");
  sink = redis_test_sink_harness (server, "stream=rt", "application/x-test");
  for (i = 0; i < 6; i++) {
    b = gst_buffer_new_memdup ("abc", 3);
    GST_BUFFER_OFFSET (b) = i;
    /* even frames were captured 10 s ago */
    gst_buffer_add_reference_timestamp_meta (b, unix_caps,
        g_get_real_time () * 1000 - (i % 2 ? 0 : 10 * GST_SECOND),
        GST_CLOCK_TIME_NONE);
    gst_harness_push (sink, b);
  }
  for (i = 1; i < 6; i += 2) {
    b = gst_harness_pull (src);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-late"), 3);
  /* the skipped ones are acknowledged too */
  {
    redisReply *r = redis_server_command (server, "XPENDING rt g");

    fail_unless (r->element[0]->integer <= 1);
    freeReplyObject (r);
  }

  gst_caps_unref (unix_caps);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_start_id)
{
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=old", "application/x-test");
  GstHarness *from_start, *only_new;
  GstBuffer *b;
  gint i;

  for (i = 0; i < 3; i++) {
    b = gst_buffer_new_memdup ("abc", 3);
    GST_BUFFER_OFFSET (b) = i;
    gst_harness_push (sink, b);
  }
  from_start = src_harness ("stream=old group=all start-id=0");
  only_new = src_harness ("stream=old group=new");
  wait_for_group ("old", "new");
  b = gst_buffer_new_memdup ("abc", 3);
  GST_BUFFER_OFFSET (b) = 3;
  gst_harness_push (sink, b);

  for (i = 0; i < 4; i++) {
    b = gst_harness_pull (from_start);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  b = gst_harness_pull (only_new);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 3);
  gst_buffer_unref (b);

  gst_harness_teardown (sink);
  gst_harness_teardown (from_start);
  gst_harness_teardown (only_new);
}

GST_END_TEST;

GST_START_TEST (test_count_reads_several_pushes_each)
{
  GstHarness *src = src_harness ("stream=many group=g count=7 start-id=0");
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=many", "application/x-test");
  gint i;

  for (i = 0; i < 30; i++) {
    GstBuffer *b = gst_buffer_new_memdup ("abc", 3);

    GST_BUFFER_OFFSET (b) = i;
    gst_harness_push (sink, b);
  }
  for (i = 0; i < 30; i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_stats_and_latency)
{
  GstHarness *src = src_harness ("stream=st group=g");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstHarness *sink;
  GstStructure *s;
  gdouble lat;
  gint i;

  wait_for_group ("st", "g");
  sink = redis_test_sink_harness (server, "stream=st", "application/x-test");
  for (i = 0; i < 10; i++)
    gst_harness_push (sink, gst_buffer_new_memdup ("0123456789", 10));
  for (i = 0; i < 10; i++)
    gst_buffer_unref (gst_harness_pull (src));

  g_object_get (e, "stats", &s, NULL);
  fail_unless (gst_structure_has_name (s,
          "application/x-redis-stream-src-stats"));
  fail_unless_equals_uint64 (redis_test_get_stat (e, "frames"), 10);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "bytes-out"), 100);
  fail_unless (redis_test_get_stat (e, "bytes-received") > 100);
  fail_unless (gst_structure_get_double (s, "latency-average", &lat));
  fail_unless (lat >= 0.0 && lat < 10000.0);
  fail_unless (gst_structure_get_double (s, "latency-max", &lat));
  fail_unless (gst_structure_get_string (s, "last-entry-id") != NULL);
  gst_structure_free (s);

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_src_errors_at_start)
{
  RedisServer *secure = redis_server_start_with_args ("--requirepass", "pw1",
      NULL);
  guint closed = redis_test_closed_port ();
  GstElement *pipeline;
  GstMessage *msg;
  gchar *where = g_strdup_printf ("127.0.0.1:%u", closed);

  msg = redis_test_launch_until_error (&pipeline, 10000,
      "redisstreamsrc port=%u connect-timeout=2000 ! fakesink", closed);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_OPEN_READ_WRITE, where);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  msg = redis_test_launch_until_error (&pipeline, 10000,
      "redisstreamsrc port=%u password=nope ! fakesink", secure->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, NULL);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  {
    const gchar *bad[] = { "group=\"\"", "group=\"a b\"", "consumer=\"x y\"",
      "start-id=yesterday", "stream=\"a b\""
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      msg = redis_test_launch_until_error (&pipeline, 5000,
          "redisstreamsrc port=%u %s ! fakesink", server->port, bad[i]);
      redis_test_check_error (msg, GST_RESOURCE_ERROR_SETTINGS, NULL);
      gst_message_unref (msg);
      gst_element_set_state (pipeline, GST_STATE_NULL);
      gst_object_unref (pipeline);
    }
  }

  /* a key of another type */
  freeReplyObject (redis_server_command (server, "SET notastream 1"));
  msg = redis_test_launch_until_error (&pipeline, 5000,
      "redisstreamsrc port=%u stream=notastream ! fakesink", server->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_OPEN_READ, "notastream");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  g_free (where);
  redis_server_stop (secure);
}

GST_END_TEST;

/* Redis restarted without persistence: the group is gone; the source makes
 * it again, says so, and carries on with new frames. */
GST_START_TEST (test_group_recreated_when_stream_deleted)
{
  GstHarness *src = src_harness ("stream=gone group=g block=200");
  GstHarness *sink;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstBuffer *b;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("gone", "g");
  freeReplyObject (redis_server_command (server, "DEL gone"));
  /* the group went with the stream; the source makes it again */
  wait_for_group ("gone", "g");

  sink = redis_test_sink_harness (server, "stream=gone", "application/x-test");
  b = gst_buffer_new_memdup ("abc", 3);
  GST_BUFFER_OFFSET (b) = 5;
  gst_harness_push (sink, b);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 5);
  gst_buffer_unref (b);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_server_death_is_an_error_not_a_hang)
{
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("redisstreamsrc port=%u stream=d "
      "block=500 reconnect-timeout=0 ! fakesink", server->port);

  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  wait_for_group ("d", "gst-redis");
  redis_server_kill (server, SIGKILL);

  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* The numbered frames [0, n) a source delivered so far. */
typedef struct
{
  GstHarness *src;
  guint64 n;
  guint64 missing;
  guint dups;
  gboolean *seen;
} Arrivals;

static void
arrivals_init (Arrivals * a, GstHarness * src, guint64 n)
{
  a->src = src;
  a->n = a->missing = n;
  a->dups = 0;
  a->seen = g_new0 (gboolean, n);
}

/* Counts (and unrefs) frame @b. */
static void
arrivals_add (Arrivals * a, GstBuffer * b)
{
  guint64 seq = GST_BUFFER_OFFSET (b);

  fail_unless (seq < a->n, "unexpected seq %" G_GUINT64_FORMAT, seq);
  if (a->seen[seq])
    a->dups++;
  else
    a->missing--;
  a->seen[seq] = TRUE;
  gst_buffer_unref (b);
}

/* Takes what the source has; TRUE once every frame arrived. */
static gboolean
arrivals_pull (Arrivals * a)
{
  GstBuffer *b;

  while (a->missing > 0 && (b = gst_harness_try_pull (a->src)))
    arrivals_add (a, b);
  return a->missing == 0;
}

/* Waits (up to @timeout_s) for every frame of the source to arrive. */
static void
arrivals_wait_all (Arrivals * a, gint timeout_s)
{
  test_wait_until (arrivals_pull (a), timeout_s * 1000,
      "every frame up to seq %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
      " never arrived)", a->n - 1, a->missing);
}

/* Pulls until every seq in [0, n) was seen at least once (fails after
 * @timeout_s); returns how many extra (duplicate) deliveries there were. */
static guint
pull_all (GstHarness * src, guint64 n, gint timeout_s)
{
  Arrivals a;

  arrivals_init (&a, src, n);
  arrivals_wait_all (&a, timeout_s);
  g_free (a.seen);
  return a.dups;
}

/* Redis restarts with AOF on: the source warns, reconnects by itself, and
 * every entry that was in Redis reaches the group: those it had not read
 * yet and those written after the restart. */
GST_START_TEST (test_restart_with_aof_delivers_everything)
{
  RedisServer *aof = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  RedisServer *saved = server;
  GstHarness *src, *sink;
  GstElement *e;
  GstBus *bus = gst_bus_new ();
  guint64 seq = 0;
  guint dups;

  server = aof;
  src = src_harness ("stream=cam group=g consumer=c1 block=200");
  gst_element_set_bus (src->element, bus);
  e = redis_test_harness_element (src, "redisstreamsrc");
  wait_for_group ("cam", "g");
  sink =
      redis_test_sink_harness (server,
      "stream=cam on-disconnect=buffer max-buffered=1000",
      "application/x-test");
  for (; seq < 10; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  /* entries written right before the restart may not be read yet */
  redis_server_kill (aof, SIGTERM);
  for (; seq < 20; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  fail_unless (redis_server_restart (aof));
  for (; seq < 30; seq++) {
    gst_harness_push (sink, redis_test_numbered (seq));
    g_usleep (20 * 1000);       /* not a poll: a live source's pace */
  }

  dups = pull_all (src, seq, 30);
  GST_INFO ("%u duplicates", dups);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reconnects"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "Lost the connection"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_INFO,
          "Reconnected"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  server = saved;
  redis_server_stop (aof);
}

GST_END_TEST;

/* Redis restarts without persistence: stream and group are gone; the source
 * makes the group again, says so, and carries on with the new frames. */
GST_START_TEST (test_restart_without_persistence_recreates_group)
{
  GstHarness *src = src_harness ("stream=cam group=g block=200");
  GstHarness *sink;
  GstBus *bus = gst_bus_new ();
  guint64 seq;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("cam", "g");
  redis_server_kill (server, SIGTERM);
  /* not a poll: the source runs into the outage (block=200) */
  g_usleep (300 * 1000);
  fail_unless (redis_server_restart (server));
  wait_for_group ("cam", "g");

  sink = redis_test_sink_harness (server, "stream=cam", "application/x-test");
  for (seq = 0; seq < 10; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  fail_unless_equals_int (pull_all (src, 10, 20), 0);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_INFO,
          "Reconnected"), 1);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

GST_START_TEST (test_src_outage_longer_than_limit_is_an_error)
{
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;
  gint64 t0;
  gchar *desc = g_strdup_printf ("redisstreamsrc port=%u stream=d block=200 "
      "reconnect-timeout=500 ! fakesink", server->port);

  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  wait_for_group ("d", "gst-redis");
  redis_server_kill (server, SIGKILL);
  t0 = g_get_monotonic_time ();

  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 15 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless (g_get_monotonic_time () - t0 >= 500 * 1000);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "Gave up reconnecting") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_object_unref (bus);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* A network cut (SIGSTOP): the blocked read times out instead of hanging,
 * the source keeps trying, and frames flow again after SIGCONT. Stopping the
 * element during the outage is immediate. */
GST_START_TEST (test_src_network_cut)
{
  GstHarness *src = src_harness ("stream=cut group=g block=200 timeout=300 "
      "connect-timeout=300");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstHarness *sink;
  GstBus *bus = gst_bus_new ();
  gint i;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("cut", "g");
  redis_server_kill (server, SIGSTOP);
  test_wait_until (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "Lost the connection") > 0, 3000,
      "the warning \"Lost the connection\" (it must come within 3 s of "
      "the cut)");
  redis_server_kill (server, SIGCONT);

  sink = redis_test_sink_harness (server, "stream=cut", "application/x-test");
  for (i = 0; i < 5; i++)
    gst_harness_push (sink, redis_test_numbered (i));
  pull_all (src, 5, 20);
  fail_unless (redis_test_get_stat (e, "reconnects") >= 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  /* during an outage, stopping does not wait for the backoff */
  redis_server_kill (server, SIGSTOP);
  /* not a poll: the source gets into its reconnect backoff */
  g_usleep (800 * 1000);
  {
    gint64 t0 = g_get_monotonic_time ();

    gst_element_set_state (src->element, GST_STATE_NULL);
    fail_unless (g_get_monotonic_time () - t0 < 500 * 1000);
  }
  redis_server_kill (server, SIGCONT);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Every message names the server and the stream as details and was posted
 * from the element's own code: a skipped entry, the outage warning and the
 * info when it is over (posted through the outage helper on the element's
 * behalf), and the group made again. */
GST_START_TEST (test_messages_carry_server_stream_and_place)
{
  GstHarness *src = src_harness ("stream=msg group=g block=200");
  GstBus *bus = gst_bus_new ();
  const gchar *fv[] = { "caps", "application/x-test" };

  gst_element_set_bus (src->element, bus);
  wait_for_group ("msg", "g");
  xadd_raw ("msg", fv, G_N_ELEMENTS (fv), "x", 1);
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_WARNING, "Skipped entry", 10000), server, "msg",
      "gstredisreadloop.c");

  fail_unless (redis_server_restart (server));
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_WARNING, "Lost the connection", 10000), server, "msg",
      "gstredisreadloop.c");
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_INFO, "Reconnected", 10000), server, "msg",
      "gstredisreadloop.c");
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_WARNING, "disappeared", 10000), server, "msg",
      "gstredisgroup.c");

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Entries a dead consumer left pending are taken over (XAUTOCLAIM) by a
 * live one after claim-idle-time. */
GST_START_TEST (test_autoclaim_takes_over_dead_consumer_entries)
{
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=cl", "application/x-test");
  GstHarness *src;
  GstElement *e;
  redisReply *r;
  guint64 seq;

  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE cl g $ MKSTREAM"));
  for (seq = 0; seq < 5; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  r = redis_server_command (server,
      "XREADGROUP GROUP g dead COUNT 5 STREAMS cl >");
  freeReplyObject (r);

  src = src_harness ("stream=cl group=g consumer=alive claim-idle-time=300");
  e = redis_test_harness_element (src, "redisstreamsrc");
  for (; seq < 10; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  fail_unless_equals_int (pull_all (src, 10, 20), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "claimed"), 5);
  /* the dead consumer's entries are acknowledged now */
  test_wait_until (consumer_pending ("cl", "dead") == 0, 5000,
      "the claimed entries of consumer dead to be acknowledged");

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* frameproc's detections travel through Redis: ROI metas written by
 * redisstreamsink come back as ROI metas from redisstreamsrc, ids
 * included. */
GST_START_TEST (test_frameproc_detections_survive_redis)
{
  GstHarness *src = src_harness ("stream=det group=g");
  GstElement *pipeline;
  GstMessage *msg;
  guint i, with_roi = 0;

  wait_for_group ("det", "g");
  msg = redis_test_launch_until_error (&pipeline, 0,
      "videotestsrc num-buffers=10 pattern=ball ! "
      "video/x-raw,format=I420,width=160,height=120 ! "
      "frameproc operation=motion ! redisstreamsink port=%u stream=det",
      server->port);
  fail_unless (msg == NULL);
  for (i = 0; i < 10; i++) {
    GstBuffer *b = gst_harness_pull (src);
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)
        gst_buffer_get_meta (b, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);

    if (roi) {
      GstStructure *param;
      gdouble score = -1;

      fail_unless_equals_string (g_quark_to_string (roi->roi_type), "motion");
      /* the ball, followed from frame to frame, is region 1 throughout */
      fail_unless_equals_int (roi->id, 1);
      fail_unless (roi->w > 0 && roi->h > 0);
      fail_unless (roi->x + roi->w <= 160 && roi->y + roi->h <= 120);
      param = gst_video_region_of_interest_meta_get_param (roi, "motion");
      fail_unless (param != NULL);
      fail_unless (gst_structure_get_double (param, "score", &score));
      fail_unless (score > 0.0 && score <= 1.0);
      with_roi++;
    }
    gst_buffer_unref (b);
  }
  /* the first frame is frameproc's reference; the ball moves after it */
  fail_unless (with_roi >= 8, "%u frames with detections", with_roi);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  gst_harness_teardown (src);
}

GST_END_TEST;

static void
xadd_seq (guint64 seq)
{
  freeReplyObject (redis_server_command (server, "XADD ord * v 1 caps "
          "application/x-test seq %" G_GUINT64_FORMAT " data x", seq));
}

/* Results of several processors arrive out of order: a reorder window
 * pushes them in sequence order. */
GST_START_TEST (test_reorder_window_restores_order)
{
  GstHarness *src = src_harness ("stream=ord group=g reorder-window=8 "
      "reorder-timeout=2000");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  const guint64 order[] = { 2, 0, 1, 5, 3, 4, 7, 6, 9, 8, 10 };
  guint i;

  wait_for_group ("ord", "g");
  for (i = 0; i < G_N_ELEMENTS (order); i++)
    xadd_seq (order[i]);
  for (i = 0; i < G_N_ELEMENTS (order); i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), i);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reorder-late"), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reorder-gaps"), 0);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* A frame that does not come within the window is given up; when it comes
 * later it is dropped, counted and acknowledged. Duplicates are dropped. */
GST_START_TEST (test_reorder_gives_up_and_drops_late_frames)
{
  GstHarness *src = src_harness ("stream=ord group=g reorder-window=3 "
      "reorder-timeout=5000");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  const guint64 order[] = { 0, 1, 3, 4, 5, 6 };
  const guint64 expect[] = { 0, 1, 3, 4, 5, 6, 7 };
  redisReply *r;
  guint i;

  wait_for_group ("ord", "g");
  for (i = 0; i < G_N_ELEMENTS (order); i++)
    xadd_seq (order[i]);
  /* frame 2 is missing: held are 3, 4, 5, 6: one more than the window */
  for (i = 0; i < 6; i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), expect[i]);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reorder-gaps"), 1);
  /* now 2 comes, too late, and 5 again */
  xadd_seq (2);
  xadd_seq (5);
  xadd_seq (7);
  {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 7);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reorder-late"), 2);
  /* the late ones were acknowledged: at most the last pushed is pending */
  r = redis_server_command (server, "XPENDING ord g");
  fail_unless (r->element[0]->integer <= 1);
  freeReplyObject (r);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Large LZ4 frames are decoded block by block on every core; a damaged one
 * is skipped and counted like any other. */
GST_START_TEST (test_large_lz4_frames_damaged_are_skipped)
{
  GstHarness *sink = redis_test_sink_harness (server, "stream=big "
      "compression=lz4", "video/x-raw,format=GRAY8,width=1280,height=960");
  GstHarness *src;
  GstElement *e;
  GstVideoInfo info;
  GstBuffer *frame, *b;
  redisReply *r, *data = NULL;
  gchar *good;
  gsize len, i;
  const gchar *caps = "video/x-raw,format=GRAY8,width=1280,height=960";

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 1280, 960);
  frame = redis_test_make_frame (&info, 5, FALSE);
  gst_harness_push (sink, gst_buffer_ref (frame));
  r = redis_server_command (server, "XRANGE big - +");
  for (i = 0; i + 1 < r->element[0]->element[1]->elements; i += 2) {
    if (g_str_equal (r->element[0]->element[1]->element[i]->str, "data"))
      data = r->element[0]->element[1]->element[i + 1];
  }
  fail_unless (data != NULL);
  len = data->len;
  good = g_memdup2 (data->str, len);
  freeReplyObject (r);
  freeReplyObject (redis_server_command (server, "DEL big"));

  src = src_harness ("stream=big group=g");
  e = redis_test_harness_element (src, "redisstreamsrc");
  wait_for_group ("big", "g");
  {
    redisContext *c = redis_server_connect (server);
    gchar *bad = g_memdup2 (good, len);
    gchar *size = g_strdup_printf ("%" G_GSIZE_FORMAT,
        (gsize) GST_VIDEO_INFO_SIZE (&info));
    gchar *size1 = g_strdup_printf ("%" G_GSIZE_FORMAT,
        (gsize) GST_VIDEO_INFO_SIZE (&info) + 1);

    for (i = len / 3; i < len / 3 + 64; i++)
      bad[i] ^= 0x5a;
    /* damaged in the middle, cut short, a size that does not match, good */
    freeReplyObject (redisCommand (c, "XADD big * v 1 seq 1 caps %s "
            "encoding lz4 size %s data %b", caps, size, bad, len));
    freeReplyObject (redisCommand (c, "XADD big * v 1 seq 2 caps %s "
            "encoding lz4 size %s data %b", caps, size, good, len / 2));
    freeReplyObject (redisCommand (c, "XADD big * v 1 seq 3 caps %s "
            "encoding lz4 size %s data %b", caps, size1, good, len));
    freeReplyObject (redisCommand (c, "XADD big * v 1 seq 4 caps %s "
            "encoding lz4 size %s data %b", caps, size, good, len));
    redisFree (c);
    g_free (bad);
    g_free (size);
    g_free (size1);
  }
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 4);
  fail_unless (redis_test_buffer_equal (b, frame));
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), 3);

  g_free (good);
  gst_buffer_unref (frame);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* A missing frame is waited for at most reorder-timeout. */
GST_START_TEST (test_reorder_timeout_bounds_the_wait)
{
  GstHarness *src = src_harness ("stream=ord group=g reorder-window=100 "
      "reorder-timeout=300");
  GstBuffer *b;
  gint64 t0;

  wait_for_group ("ord", "g");
  xadd_seq (0);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
  gst_buffer_unref (b);

  t0 = g_get_monotonic_time ();
  xadd_seq (2);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 2);
  gst_buffer_unref (b);
  /* waited for 1 about reorder-timeout, not the block time or forever */
  fail_unless (g_get_monotonic_time () - t0 >= 250 * 1000);
  fail_unless (g_get_monotonic_time () - t0 < 3 * G_TIME_SPAN_SECOND);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* A producer that starts counting again is not a stream of late frames. */
GST_START_TEST (test_reorder_follows_a_restarted_sequence)
{
  GstHarness *src = src_harness ("stream=ord group=g reorder-window=4 "
      "reorder-timeout=200");
  guint64 expect[] = { 5000, 5001, 0, 1 };
  guint i;

  wait_for_group ("ord", "g");
  xadd_seq (5000);
  xadd_seq (5001);
  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    GstBuffer *b;

    if (i == 2) {
      /* the producer restarted */
      xadd_seq (0);
      xadd_seq (1);
    }
    b = gst_harness_pull (src);

    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), expect[i]);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Frames whose caps are told by their own entry: GRAY8, @width x 2 (rows
 * of a multiple of 4 bytes need no padding), sequence number @seq, captured
 * @age_ms milliseconds ago. */
static void
xadd_gray (const gchar * stream, guint64 seq, gint width, gint64 age_ms)
{
  gchar caps[160], data[64];

  g_assert (width * 2 <= (gint) sizeof (data) && width % 4 == 0);
  memset (data, (gint) (seq & 0xff), sizeof (data));
  g_snprintf (caps, sizeof (caps), "video/x-raw, format=(string)GRAY8, "
      "width=(int)%d, height=(int)2, framerate=(fraction)0/1", width);
  freeReplyObject (redis_server_command (server, "XADD %s * v 1 caps %s "
          "seq %" G_GUINT64_FORMAT " capture-time %" G_GINT64_FORMAT
          " data %b", stream, caps, seq,
          g_get_real_time () * 1000 - age_ms * 1000000, data,
          (size_t) width * 2));
}

/* What each buffer arrived with at the harness: its offset, its size and
 * the width of the caps current on the pad at that moment (-1: none). */
typedef struct
{
  GMutex lock;
  GArray *seen;
} CapsLog;

typedef struct
{
  guint64 seq;
  gsize size;
  gint width;
} CapsLogEntry;

static GstPadProbeReturn
caps_log_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  CapsLog *log = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  CapsLogEntry e = { GST_BUFFER_OFFSET (buf), gst_buffer_get_size (buf), -1 };

  if (caps) {
    gst_structure_get_int (gst_caps_get_structure (caps, 0), "width", &e.width);
    gst_caps_unref (caps);
  }
  g_mutex_lock (&log->lock);
  g_array_append_val (log->seen, e);
  g_mutex_unlock (&log->lock);
  return GST_PAD_PROBE_OK;
}

static void
caps_log_attach (CapsLog * log, GstHarness * h)
{
  g_mutex_init (&log->lock);
  log->seen = g_array_new (FALSE, FALSE, sizeof (CapsLogEntry));
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, caps_log_probe,
      log, NULL);
}

/* Pulls @n buffers and checks that they came with sequence numbers
 * @expect, each under the caps of its own entry: width 8 before seq
 * @change, 16 from it on. */
static void
caps_log_check (CapsLog * log, GstHarness * h, const guint64 * expect,
    guint n, guint64 change)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *b = gst_harness_pull (h);

    fail_unless (b != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), expect[i]);
    gst_buffer_unref (b);
  }
  g_mutex_lock (&log->lock);
  fail_unless_equals_int (log->seen->len, n);
  for (i = 0; i < n; i++) {
    CapsLogEntry *e = &g_array_index (log->seen, CapsLogEntry, i);
    gint width = e->seq < change ? 8 : 16;

    fail_unless_equals_uint64 (e->seq, expect[i]);
    fail_unless (e->width == width, "frame %" G_GUINT64_FORMAT " (%"
        G_GSIZE_FORMAT " bytes) pushed under caps of width %d, its entry "
        "says %d", e->seq, e->size, e->width, width);
    fail_unless_equals_int (e->size, width * 2);
  }
  g_mutex_unlock (&log->lock);
  g_array_unref (log->seen);
  g_mutex_clear (&log->lock);
}

static void
check_reorder_caps (const gchar * stream, const guint64 * order, guint n)
{
  gchar *props = g_strdup_printf ("stream=%s group=g reorder-window=8 "
      "reorder-timeout=2000", stream);
  GstHarness *src = src_harness (props);
  guint64 expect[64];
  CapsLog log;
  guint i;

  g_assert (n <= G_N_ELEMENTS (expect));
  wait_for_group (stream, "g");
  caps_log_attach (&log, src);
  for (i = 0; i < n; i++) {
    xadd_gray (stream, order[i], order[i] < 10 ? 8 : 16, 0);
    expect[i] = i;
  }
  caps_log_check (&log, src, expect, n, 10);
  gst_harness_teardown (src);
  g_free (props);
}

/* With a reorder window, the frame pushed is not the entry decoded last:
 * each frame still goes out under the caps of its own entry. */
GST_START_TEST (test_reorder_frames_keep_their_caps)
{
  /* every pair swapped; the caps change at 10, which comes after 11 */
  const guint64 swapped[] = { 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12,
    15, 14, 17, 16, 19, 18
  };
  /* in order up to the change, then 11 before 10 */
  const guint64 late_change[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 10, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29
  };
  /* the new caps held behind old ones still to come */
  const guint64 early_change[] = { 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 8, 9,
    13, 14, 15
  };

  check_reorder_caps ("swapped", swapped, G_N_ELEMENTS (swapped));
  check_reorder_caps ("late", late_change, G_N_ELEMENTS (late_change));
  check_reorder_caps ("early", early_change, G_N_ELEMENTS (early_change));
}

GST_END_TEST;

/* max-age skips the first entry of new caps: the frames after it still go
 * out under the new caps. */
GST_START_TEST (test_max_age_skip_keeps_caps_of_next_frames)
{
  GstHarness *src = src_harness ("stream=ma group=g max-age=5000");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  const guint64 expect[] = { 0, 1, 2, 3, 4, 6, 7, 8, 9 };
  CapsLog log;
  guint i;

  wait_for_group ("ma", "g");
  caps_log_attach (&log, src);
  for (i = 0; i < 10; i++)
    xadd_gray ("ma", i, i < 5 ? 8 : 16, i == 5 ? 60000 : 0);
  caps_log_check (&log, src, expect, G_N_ELEMENTS (expect), 5);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-late"), 1);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* The line of docs/scaling.md, on an ordinary in-order stream: the first
 * frame, held in the window, goes out with its caps. */
GST_START_TEST (test_reorder_window_into_videoconvert)
{
  GstElement *pipeline, *sink, *src;
  GstHarness *producer;
  GstVideoInfo info;
  GstMessage *msg;
  GstBus *bus;
  gchar *desc;
  guint64 i;

  desc = g_strdup_printf ("redisstreamsrc port=%u stream=processed-frames "
      "group=display reorder-window=16 reorder-timeout=100 num-buffers=10 "
      "name=src ! videoconvert ! video/x-raw,format=RGB ! fakesink name=out",
      server->port);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipeline != NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_for_group ("processed-frames", "display");

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 64, 48);
  info.fps_n = 30;
  info.fps_d = 1;
  producer = redis_test_sink_harness (server, "stream=processed-frames",
      "video/x-raw, format=(string)I420, width=(int)64, height=(int)48, "
      "framerate=(fraction)30/1");
  for (i = 0; i < 10; i++) {
    GstBuffer *b = redis_test_make_frame (&info, i, TRUE);

    GST_BUFFER_OFFSET (b) = i;
    GST_BUFFER_PTS (b) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (producer, b), GST_FLOW_OK);
  }

  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "neither EOS nor an error within 30 s");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    fail ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg), err->message,
        debug);
  }
  gst_message_unref (msg);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  {
    GstSample *last = NULL;
    GstCaps *caps;
    GstBuffer *b;

    g_object_get (sink, "last-sample", &last, NULL);
    fail_unless (last != NULL);
    caps = gst_sample_get_caps (last);
    fail_unless (caps != NULL);
    b = gst_sample_get_buffer (last);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 9);
    fail_unless_equals_int (gst_buffer_get_size (b), 64 * 48 * 3);
    gst_sample_unref (last);
  }
  gst_object_unref (sink);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  fail_unless_equals_uint64 (redis_test_get_stat (src, "frames"), 10);
  gst_object_unref (src);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  gst_harness_teardown (producer);
}

GST_END_TEST;

/* Runs @launch until an error and checks that it is redisstreamsrc's
 * "Downstream does not accept the caps of stream ..." with the entry's
 * caps and what downstream takes. */
static void
check_caps_refused (const gchar * launch, const gchar * stream,
    const gchar * entry_caps, const gchar * downstream_caps)
{
  GstElement *pipeline;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *prefix;
  const gchar *accepts;

  msg = redis_test_launch_until_error (&pipeline, 30000, "%s", launch);
  fail_unless (msg != NULL, "no error from %s", launch);
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
      err->message, debug);
  fail_unless (g_str_has_prefix (GST_MESSAGE_SRC_NAME (msg),
          "redisstreamsrc"), "first error from %s: %s",
      GST_MESSAGE_SRC_NAME (msg), err->message);
  fail_unless (err->domain == GST_STREAM_ERROR, "domain %s",
      g_quark_to_string (err->domain));
  fail_unless_equals_int (err->code, GST_STREAM_ERROR_FORMAT);
  prefix = g_strdup_printf ("Downstream does not accept the caps of stream "
      "\"%s\"", stream);
  fail_unless (g_str_has_prefix (err->message, prefix), "%s", err->message);
  /* the entry's caps, then what the next element takes */
  fail_unless (strstr (err->message, entry_caps) != NULL, "%s not in %s",
      entry_caps, err->message);
  accepts = strstr (err->message, "The next element accepts: ");
  fail_unless (accepts != NULL, "%s", err->message);
  fail_unless (strstr (err->message, entry_caps) < accepts);
  fail_unless (strstr (accepts, downstream_caps) != NULL, "%s not in %s",
      downstream_caps, accepts);
  fail_unless (debug != NULL && strstr (debug, entry_caps) != NULL);
  g_free (prefix);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* The text the docs promise is the one users get. */
static void
check_doc_mentions (const gchar * doc, const gchar * text)
{
  const gchar *top = g_getenv ("TEST_SOURCE_DIR");
  gchar *path, *contents = NULL;

  /* set by tests/check/meson.build and tests/valgrind/run-* */
  fail_unless (top != NULL, "TEST_SOURCE_DIR is not set");
  path = g_build_filename (top, doc, NULL);
  fail_unless (g_file_get_contents (path, &contents, NULL, NULL), "%s", path);
  fail_unless (strstr (contents, text) != NULL, "\"%s\" not in %s", text, path);
  g_free (contents);
  g_free (path);
}

/* JPEG entries straight into videoconvert. */
GST_START_TEST (test_caps_refused_by_videoconvert_are_named)
{
  gchar *launch;

  freeReplyObject (redis_server_command (server, "XADD jpeg * v 1 caps %s "
          "seq 0 data %b", "image/jpeg, width=(int)64, height=(int)48, "
          "framerate=(fraction)30/1", "\xff\xd8\xff\xe0", (size_t) 4));
  launch = g_strdup_printf ("redisstreamsrc port=%u stream=jpeg group=g "
      "start-id=0 ! videoconvert ! fakesink", server->port);
  check_caps_refused (launch, "jpeg", "image/jpeg", "video/x-raw");
  g_free (launch);

  check_doc_mentions ("docs/redisstreamsrc.md",
      "Downstream does not accept the caps of stream");
  check_doc_mentions ("docs/redisstreamsrc.md", "The next element accepts:");
  check_doc_mentions ("docs/troubleshooting.md",
      "Downstream does not accept the caps of stream");
  check_doc_mentions ("docs/troubleshooting.md", "The next element accepts:");
}

GST_END_TEST;

/* A producer that let videotestsrc pick its format (ABGR64_LE) into
 * frameproc, which takes I420, NV12, GRAY8 and packed RGB. */
GST_START_TEST (test_caps_refused_by_frameproc_are_named)
{
  GstElement *producer;
  GstMessage *msg;
  gchar *launch;

  msg = redis_test_launch_until_error (&producer, 0, "videotestsrc "
      "num-buffers=2 ! video/x-raw,format=ABGR64_LE,width=64,height=48 ! "
      "redisstreamsink port=%u stream=wide", server->port);
  fail_unless (msg == NULL);
  {
    GstBus *bus = gst_element_get_bus (producer);

    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
    gst_message_unref (msg);
    gst_object_unref (bus);
  }
  gst_element_set_state (producer, GST_STATE_NULL);
  gst_object_unref (producer);

  launch = g_strdup_printf ("redisstreamsrc port=%u stream=wide group=g "
      "start-id=0 ! frameproc ! fakesink", server->port);
  check_caps_refused (launch, "wide", "ABGR64_LE", "I420");
  g_free (launch);
}

GST_END_TEST;

/* Waits (up to @timeout_s) until stats field @field of @e is at least
 * @want; returns the last value. */
static guint64
wait_stat_at_least (GstElement * e, const gchar * field, guint64 want,
    gint timeout_s)
{
  gint64 deadline = test_wait_deadline (timeout_s * 1000);
  guint64 v;

  while ((v = redis_test_get_stat (e, field)) < want &&
      test_wait_tick (deadline));
  return v;
}

/* The bus message of @type whose text holds @text, or NULL. */
static GstMessage *
find_message (GstBus * bus, GstMessageType type, const gchar * text)
{
  GstMessage *msg, *found = NULL;
  GQueue keep = G_QUEUE_INIT;

  while ((msg = gst_bus_pop (bus))) {
    GError *err = NULL;

    if (found == NULL && GST_MESSAGE_TYPE (msg) == type) {
      if (type == GST_MESSAGE_WARNING)
        gst_message_parse_warning (msg, &err, NULL);
      else
        gst_message_parse_error (msg, &err, NULL);
      if (strstr (err->message, text)) {
        g_clear_error (&err);
        found = msg;
        continue;
      }
      g_clear_error (&err);
    }
    g_queue_push_tail (&keep, msg);
  }
  while ((msg = g_queue_pop_head (&keep)))
    gst_bus_post (bus, msg);
  return found;
}

/* XGROUP DESTROY while playing: the group is made again after the last
 * entry read, so nothing already read comes again (no replay of what is
 * left in the stream) and what is written afterwards is read. */
GST_START_TEST (test_destroyed_group_does_not_replay_the_stream)
{
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=dg", "application/x-test");
  GstHarness *src;
  GstBus *bus = gst_bus_new ();
  GstElement *e;
  GstMessage *msg;
  GstBuffer *b;
  guint64 seq;

  src = src_harness ("stream=dg group=g start-id=0 block=200");
  e = redis_test_harness_element (src, "redisstreamsrc");
  gst_element_set_bus (src->element, bus);
  for (seq = 0; seq < 20; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  fail_unless_equals_int (pull_all (src, 20, 20), 0);

  freeReplyObject (redis_server_command (server, "XGROUP DESTROY dg g"));
  wait_for_group ("dg", "g");
  for (seq = 20; seq < 25; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  for (seq = 20; seq < 25; seq++) {
    b = gst_harness_pull (src);
    fail_unless (b != NULL);
    /* before: the group came back at 0 and seq 0.. came again */
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), seq);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (e, "frames"), 25);
  msg = find_message (bus, GST_MESSAGE_WARNING, "disappeared");
  fail_unless (msg != NULL);
  {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "after entry") != NULL, "%s",
        err->message);
    fail_unless (err->domain == GST_RESOURCE_ERROR);
    fail_unless_equals_int (err->code, GST_RESOURCE_ERROR_READ);
    g_clear_error (&err);
  }
  gst_message_unref (msg);
  fail_unless (find_message (bus, GST_MESSAGE_WARNING,
          "Lost the connection") == NULL);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Over maxmemory with noeviction Redis refuses writes that allocate
 * (XGROUP CREATE, XADD) but still serves XREADGROUP and XACK: a source
 * starts on the existing group, and reconnects, and reads. */
GST_START_TEST (test_reads_over_maxmemory)
{
  GstHarness *sink =
      redis_test_sink_harness (server, "stream=mm", "application/x-test");
  GstHarness *src;
  GstElement *e;
  GstBus *bus = gst_bus_new ();
  redisReply *r;
  Arrivals arrivals;
  guint64 seq, got = 0;

  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE mm g 0 MKSTREAM"));
  for (seq = 0; seq < 10; seq++)
    gst_harness_push (sink, redis_test_numbered (seq));
  gst_harness_teardown (sink);
  /* fill Redis over its limit: a value larger than maxmemory */
  freeReplyObject (redis_server_command (server,
          "CONFIG SET maxmemory-policy noeviction"));
  r = redis_server_command (server, "SETRANGE ballast %d x", 4 * 1024 * 1024);
  freeReplyObject (r);
  freeReplyObject (redis_server_command (server, "CONFIG SET maxmemory %d",
          2 * 1024 * 1024));
  r = redis_server_command (server, "XGROUP CREATE mm g $");
  fail_unless (r->type == REDIS_REPLY_ERROR && g_str_has_prefix (r->str,
          "OOM"), "Redis is not over maxmemory: %s", r->str ? r->str : "?");
  freeReplyObject (r);

  src = src_harness ("stream=mm group=g consumer=c block=200");
  e = redis_test_harness_element (src, "redisstreamsrc");
  gst_element_set_bus (src->element, bus);
  arrivals_init (&arrivals, src, 10);
  for (got = 0; got < 5; got++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless (b != NULL, "nothing read over maxmemory");
    arrivals_add (&arrivals, b);
  }
  /* a reconnect: every client but ours is disconnected */
  freeReplyObject (redis_server_command (server, "CLIENT KILL TYPE normal"));
  /* The source may have read all ten before the kill: it notices the kill
   * when its read returns, then reconnects and reads its pending entries
   * and new ones, over maxmemory, until it blocks for new ones. */
  test_wait_until (redis_test_get_stat (e, "reconnects") >= 1, 20000,
      "the source to reconnect after CLIENT KILL");
  wait_blocked_client ();
  arrivals_wait_all (&arrivals, 20);
  g_free (arrivals.seen);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  freeReplyObject (redis_server_command (server, "CONFIG SET maxmemory 0"));
  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* DEL of the stream under a blocked read: Redis answers UNBLOCKED. That is
 * not a lost connection: the group is made again (with the disappeared
 * warning) and reading carries on. SET of the key: a clear error. */
GST_START_TEST (test_unblocked_is_not_a_lost_connection)
{
  GstHarness *src = src_harness ("stream=ub group=g block=10000");
  GstHarness *sink;
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstBuffer *b;
  GError *err = NULL;

  gst_element_set_bus (src->element, bus);
  wait_for_group ("ub", "g");
  wait_blocked_client ();
  freeReplyObject (redis_server_command (server, "DEL ub"));
  wait_for_group ("ub", "g");
  sink = redis_test_sink_harness (server, "stream=ub", "application/x-test");
  gst_harness_push (sink, redis_test_numbered (7));
  b = gst_harness_pull (src);
  fail_unless (b != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 7);
  gst_buffer_unref (b);
  fail_unless (find_message (bus, GST_MESSAGE_WARNING,
          "Lost the connection") == NULL);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "disappeared"), 1);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "reconnects"), 0);

  /* the key replaced by a string */
  wait_blocked_client ();
  freeReplyObject (redis_server_command (server, "SET ub x"));
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "something else than a stream") != NULL,
      "%s", err->message);
  fail_unless (strstr (err->message, "\"ub\"") != NULL, "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  fail_unless (find_message (bus, GST_MESSAGE_WARNING,
          "Lost the connection") == NULL);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Caps with bytes that are not UTF-8: the entry is skipped with a warning
 * that is valid UTF-8, keeps its explanation and shows the bytes. */
GST_START_TEST (test_invalid_utf8_caps_warning_explains)
{
  GstHarness *src = src_harness ("stream=u8 group=g start-id=0");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  const gchar caps[] = "video/x-raw,format=I\xff\xfe" "420";
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  GstBuffer *b;

  gst_element_set_bus (src->element, bus);
  freeReplyObject (redis_server_command (server,
          "XADD u8 * v 1 caps %b seq 1 data a", caps, strlen (caps)));
  freeReplyObject (redis_server_command (server,
          "XADD u8 * v 1 caps application/x-test seq 2 data b"));
  b = gst_harness_pull (src);
  fail_unless (b != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 2);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), 1);

  msg = find_message (bus, GST_MESSAGE_WARNING, "Skipped entry");
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (err->domain == GST_STREAM_ERROR);
  fail_unless (debug != NULL);
  fail_unless (g_utf8_validate (debug, -1, NULL));
  fail_unless (strstr (debug, "field \"caps\" is not valid UTF-8") != NULL,
      "%s", debug);
  fail_unless (g_utf8_validate (err->message, -1, NULL));
  fail_unless (strstr (err->message, "field \"caps\" is not valid UTF-8")
      != NULL, "%s", err->message);
  fail_unless (strstr (debug, "format=I\\xff\\xfe420") != NULL, "%s", debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Pending entries of a dead consumer trimmed before they were taken over:
 * XAUTOCLAIM removes them from the pending list and says which; they are
 * counted and named, never silently gone. */
GST_START_TEST (test_autoclaim_counts_trimmed_pending_entries)
{
  GstHarness *src;
  GstElement *e;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *first;
  redisReply *r;
  gint i;

  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE ct g $ MKSTREAM"));
  for (i = 0; i < 5; i++)
    freeReplyObject (redis_server_command (server,
            "XADD ct * v 1 caps application/x-test seq %d data x", i));
  r = redis_server_command (server,
      "XREADGROUP GROUP g dead COUNT 5 STREAMS ct >");
  first = g_strdup (r->element[0]->element[1]->element[0]->element[0]->str);
  freeReplyObject (r);
  /* retention removes them, and the stream goes on */
  freeReplyObject (redis_server_command (server, "XTRIM ct MAXLEN 0"));
  freeReplyObject (redis_server_command (server,
          "XADD ct * v 1 caps application/x-test seq 5 data x"));
  /* not a poll: the entries get idle past claim-idle-time=200 */
  g_usleep (300 * 1000);

  src = src_harness ("stream=ct group=g consumer=alive claim-idle-time=200 "
      "block=200");
  e = redis_test_harness_element (src, "redisstreamsrc");
  gst_element_set_bus (src->element, bus);
  fail_unless_equals_uint64 (wait_stat_at_least (e, "skipped-deleted", 5, 20),
      5);
  /* the entry written after them is read, and acknowledged once the test
   * took its buffer */
  gst_buffer_unref (gst_harness_pull (src));
  test_wait_until (pending_in_group ("ct") == 0, 20000, "nothing pending");

  /* the first warning names the first of them (one per XAUTOCLAIM) */
  msg = find_message (bus, GST_MESSAGE_WARNING, "trimmed from the stream");
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (strstr (err->message, "stream \"ct\"") != NULL, "%s",
      err->message);
  fail_unless (strstr (debug, first) != NULL, "%s", debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  g_free (first);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* A reader slower than the producer on a trimmed stream: the entries it
 * never got are counted (trimmed-unread) and reported. */
GST_START_TEST (test_slow_reader_counts_trimmed_entries)
{
  GstHarness *src = src_harness ("stream=sl group=g block=100");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  guint64 frames = 0, trimmed, len;
  gint i;

  gst_element_set_bus (src->element, bus);
  /* pushes wait for pulls: the reader is as slow as the test */
  gst_harness_set_blocking_push_mode (src);
  wait_for_group ("sl", "g");
  for (i = 0; i < 5; i++) {
    GstBuffer *b;

    freeReplyObject (redis_server_command (server,
            "XADD sl MAXLEN 100 * v 1 caps application/x-test seq %d data x",
            i));
    b = gst_harness_pull (src);
    fail_unless (b != NULL);
    gst_buffer_unref (b);
    frames++;
    /* not a poll: the reader's pace; the group's position is looked at
     * once a second */
    g_usleep (300 * 1000);
  }
  /* 300 more while the reader is busy with one of them */
  for (i = 5; i < 305; i++)
    freeReplyObject (redis_server_command (server,
            "XADD sl MAXLEN 100 * v 1 caps application/x-test seq %d data x",
            i));
  len = redis_server_integer (server, "XLEN sl");
  fail_unless_equals_uint64 (len, 100);
  for (;;) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless (b != NULL);
    frames++;
    i = GST_BUFFER_OFFSET (b);
    gst_buffer_unref (b);
    if (i == 304)
      break;
  }
  /* every entry was read or counted */
  trimmed = wait_stat_at_least (e, "trimmed-unread", 305 - frames, 20);
  fail_unless_equals_uint64 (trimmed, 305 - frames);
  fail_unless (trimmed >= 300 - 100 - 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "were trimmed"), 1);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

static guint
get_stat_uint (GstElement * e, const gchar * field)
{
  GstStructure *s;
  guint v = 0;

  g_object_get (e, "stats", &s, NULL);
  fail_unless (gst_structure_get_uint (s, field, &v), "no field %s", field);
  gst_structure_free (s);
  return v;
}

/* claim-idle-time follows the stream when not set (a quarter of how long it
 * keeps entries), and a value set longer than that is warned about. */
GST_START_TEST (test_claim_idle_time_follows_retention)
{
  GstHarness *a = src_harness ("stream=rt2 group=g consumer=a block=100");
  GstHarness *b =
      src_harness ("stream=rt2 group=h consumer=b block=100 "
      "claim-idle-time=30000");
  GstElement *ea = redis_test_harness_element (a, "redisstreamsrc");
  GstElement *eb = redis_test_harness_element (b, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  gint64 deadline;
  guint64 idle, retention;
  gint i = 0;

  gst_element_set_bus (b->element, bus);
  wait_for_group ("rt2", "g");
  wait_for_group ("rt2", "h");
  /* 100 entries kept, 50 added a second: about 2 s of stream */
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < deadline) {
    GstBuffer *buf;

    freeReplyObject (redis_server_command (server,
            "XADD rt2 MAXLEN 100 * v 1 caps application/x-test seq %d data x",
            i++));
    while ((buf = gst_harness_try_pull (a)))
      gst_buffer_unref (buf);
    while ((buf = gst_harness_try_pull (b)))
      gst_buffer_unref (buf);
    g_usleep (20 * 1000);       /* not a poll: the producer's pace */
    if (get_stat_uint (ea, "retention") > 0 &&
        get_stat_uint (eb, "retention") > 0 && i > 150)
      break;
  }
  retention = get_stat_uint (ea, "retention");
  idle = get_stat_uint (ea, "claim-idle-time");
  fail_unless (retention > 0, "the stream's retention was never measured");
  fail_unless_equals_uint64 (idle, CLAMP (retention / 4, 500, 30000));
  fail_unless (idle < 30000);
  /* set explicitly: kept, with a warning naming the problem */
  fail_unless_equals_uint64 (get_stat_uint (eb, "claim-idle-time"), 30000);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "claim-idle-time=30000 ms is longer than stream \"rt2\" keeps"), 1);

  gst_element_set_bus (b->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (a);
  gst_harness_teardown (b);
}

GST_END_TEST;

/* The domain and code an application sees on the bus, as
 * docs/redisstreamsrc.md lists them. */
GST_START_TEST (test_error_codes_apps_see)
{
  RedisServer *secure = redis_server_start_with_args ("--requirepass", "pw1",
      NULL);
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;
  gchar *desc;

  /* wrong password at start */
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "redisstreamsrc port=%u password=nope ! fakesink", secure->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "refused "
      "the credentials");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* the password changes while playing: the reconnect is refused */
  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=pw "
      "block=200 reconnect-timeout=500 ! fakesink", secure->port);
  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");

    g_object_set (src, "password", "pw1", NULL);
    gst_object_unref (src);
  }
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND)
      != GST_STATE_CHANGE_FAILURE);
  {
    redisContext *c = redis_server_connect (secure);
    redisReply *r = redisCommand (c, "AUTH pw1");

    freeReplyObject (r);
    freeReplyObject (redisCommand (c, "CONFIG SET requirepass pw2"));
    freeReplyObject (redisCommand (c, "CLIENT KILL TYPE normal"));
    redisFree (c);
  }
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 15 * GST_SECOND, GST_MESSAGE_ERROR);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "Gave up reconnecting");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* Redis gone for longer than reconnect-timeout */
  desc = g_strdup_printf ("redisstreamsrc port=%u stream=d block=200 "
      "reconnect-timeout=500 ! fakesink", server->port);
  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND);
  wait_for_group ("d", "gst-redis");
  redis_server_kill (server, SIGKILL);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 15 * GST_SECOND, GST_MESSAGE_ERROR);
  /* before: GST_RESOURCE_ERROR_OPEN_READ_WRITE, while the docs said READ */
  redis_test_check_error (msg, GST_RESOURCE_ERROR_READ, "Gave up reconnecting");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  redis_server_stop (secure);
}

GST_END_TEST;

/* Writes @n frames of @info (seeds from @seed) with a redisstreamsink of
 * @props into @stream. */
static void
sink_write (const gchar * stream, const gchar * props, GstVideoInfo * info,
    guint seed, guint n)
{
  GstCaps *caps = gst_video_info_to_caps (info);
  gchar *caps_str = gst_caps_to_string (caps);
  gchar *all = g_strdup_printf ("stream=%s %s", stream, props);
  GstHarness *sink = redis_test_sink_harness (server, all, caps_str);
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *b = redis_test_make_frame (info, seed + i, TRUE);

    GST_BUFFER_OFFSET (b) = seed + i;
    fail_unless_equals_int (gst_harness_push (sink, b), GST_FLOW_OK);
  }
  gst_harness_teardown (sink);
  g_free (all);
  g_free (caps_str);
  gst_caps_unref (caps);
}

/* Pulls @n frames; checks their seq (from @seed on) and their size (the
 * reader checked it against the caps of the entry). */
static void
pull_check (GstHarness * src, GstVideoInfo * info, guint seed, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *b = gst_harness_pull (src);

    fail_unless (b != NULL);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), seed + i);
    fail_unless_equals_int (gst_buffer_get_size (b), GST_VIDEO_INFO_SIZE
        (info));
    gst_buffer_unref (b);
  }
}

/* The next caps event of @src is @info's caps. */
static void
check_next_caps (GstHarness * src, GstVideoInfo * info)
{
  GstCaps *want = gst_video_info_to_caps (info);
  GstCaps *got = pull_caps_event (src);

  fail_unless (got != NULL);
  if (!gst_caps_is_equal (got, want)) {
    gchar *g = gst_caps_to_string (got), *w = gst_caps_to_string (want);

    fail ("caps %s, expected %s", g, w);
    g_free (g);
    g_free (w);
  }
  gst_caps_unref (got);
  gst_caps_unref (want);
}

/* A stream of version 1 and version 2 entries, with caps changes between
 * and within them (as when producers are upgraded one by one): every frame
 * plays with its caps; each caps id is looked up once, whatever the number
 * of frames. */
GST_START_TEST (test_mixed_v1_v2_stream)
{
  GstHarness *src = src_harness ("stream=mix group=g");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstVideoInfo a, b;
  gint64 deadline;

  wait_for_group ("mix", "g");
  /* the source's first look at the group (with its HGET of how the
   * producer trims, repeated at most every 10 s) comes after the group is
   * made: counting starts after it */
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (redis_server_command_calls (server, "hget") < 1) {
    fail_unless (g_get_monotonic_time () < deadline,
        "the source did not look at its group");
    g_usleep (5000);
  }
  freeReplyObject (redis_server_command (server, "CONFIG RESETSTAT"));
  gst_video_info_set_format (&a, GST_VIDEO_FORMAT_I420, 64, 48);
  gst_video_info_set_format (&b, GST_VIDEO_FORMAT_RGB, 33, 21);
  sink_write ("mix", "wire-format=1", &a, 0, 3);
  sink_write ("mix", "", &a, 3, 20);
  sink_write ("mix", "wire-format=1", &b, 23, 2);
  sink_write ("mix", "", &b, 25, 20);
  sink_write ("mix", "", &a, 45, 2);
  sink_write ("mix", "wire-format=1", &a, 47, 2);

  pull_check (src, &a, 0, 23);
  pull_check (src, &b, 23, 22);
  pull_check (src, &a, 45, 4);
  /* a caps event where the caps change, not where the version does */
  check_next_caps (src, &a);
  check_next_caps (src, &b);
  check_next_caps (src, &a);
  fail_unless (pull_caps_event (src) == NULL);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), 0);
  /* the sinks stored each caps string (the second time it was there
   * already), the reader asked for each id once */
  fail_unless_equals_int (redis_server_count_fields (server, "mix:info",
          "caps:"), 2);
  fail_unless_equals_int (redis_server_command_calls (server, "hsetnx"), 3);
  fail_unless_equals_int (redis_server_command_calls (server, "hget"), 2 + 1);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Readers that never saw the first entries find the caps: a group created
 * after the caps were stored (at the end, and at the start of a stream
 * trimmed since), and a reader of a stream whose writer is gone. */
GST_START_TEST (test_late_joiner_after_trim_finds_caps)
{
  GstHarness *late, *from_start;
  GstVideoInfo a;

  gst_video_info_set_format (&a, GST_VIDEO_FORMAT_I420, 64, 48);
  sink_write ("late", "", &a, 0, 30);
  /* the entries that came with the caps (and their first use) are gone */
  freeReplyObject (redis_server_command (server, "XTRIM late MAXLEN 5"));
  fail_unless_equals_int (redis_server_integer (server, "XLEN late"), 5);

  from_start = src_harness ("stream=late group=from-start start-id=0");
  pull_check (from_start, &a, 25, 5);
  check_next_caps (from_start, &a);
  late = src_harness ("stream=late group=late");
  wait_for_group ("late", "late");
  /* a new writer: the caps are there already */
  sink_write ("late", "", &a, 30, 3);
  pull_check (late, &a, 30, 3);
  check_next_caps (late, &a);
  pull_check (from_start, &a, 30, 3);
  gst_harness_teardown (late);
  gst_harness_teardown (from_start);
}

GST_END_TEST;

/* A version 2 entry whose caps are not in <stream>:info (deleted), or
 * whose stored caps are not the caps of its id: skipped, counted,
 * acknowledged, with a warning that says which; the frames around it
 * play. */
GST_START_TEST (test_caps_id_not_in_info_is_skipped)
{
  GstHarness *src = src_harness ("stream=gone group=g start-id=0");
  GstElement *e = redis_test_harness_element (src, "redisstreamsrc");
  GstBus *bus = gst_bus_new ();
  const gchar *text = "text/x-raw, format=(string)utf8";
  gchar *id = redis_test_caps_id (text);
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *want;
  GstBuffer *b;

  gst_element_set_bus (src->element, bus);
  freeReplyObject (redis_server_command (server,
          "HSET gone:info caps:%s %s", id, text));
  /* stored under another id: not the caps of that id */
  freeReplyObject (redis_server_command (server,
          "HSET gone:info caps:77 %s", text));
  freeReplyObject (redis_server_command (server,
          "XADD gone * v 2 seq 1 caps %s data a", id));
  freeReplyObject (redis_server_command (server,
          "XADD gone * v 2 seq 2 caps 12345 data b"));
  freeReplyObject (redis_server_command (server,
          "XADD gone * v 2 seq 3 caps 77 data c"));
  freeReplyObject (redis_server_command (server,
          "XADD gone * v 2 seq 4 caps %s data d", id));
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1);
  gst_buffer_unref (b);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 4);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "skipped-invalid"), 2);
  fail_unless_equals_int (redis_server_integer (server, "XLEN gone"), 4);
  test_wait_until (redis_server_integer (server, "XLEN gone") == 4 &&
      redis_test_get_stat (e, "frames") == 2, 5000, "two frames");

  msg = find_message (bus, GST_MESSAGE_WARNING, "Skipped entry");
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (strstr (debug, "caps id 12345 is not in the stream's hash "
          "\"gone:info\" (no field \"caps:12345\")") != NULL, "%s", debug);
  /* the reason is in the message itself, not only in the debug text */
  fail_unless (strstr (err->message, "caps id 12345 is not in the stream's "
          "hash \"gone:info\"") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  msg = find_message (bus, GST_MESSAGE_WARNING, "Skipped entry");
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  want = g_strdup_printf ("the caps stored for caps id 77 are not the caps "
      "of that id (theirs is %s)", id);
  fail_unless (strstr (debug, want) != NULL, "%s", debug);
  g_free (want);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
  g_free (id);
}

GST_END_TEST;

/* A reader without the right to read <stream>:info: an error that names
 * the hash and the recipe, not frames skipped one by one. */
GST_START_TEST (test_acl_without_info_rights_is_not_authorized)
{
  GstVideoInfo a;
  GstElement *pipeline;
  GstMessage *msg;

  gst_video_info_set_format (&a, GST_VIDEO_FORMAT_I420, 64, 48);
  sink_write ("cam:1", "", &a, 0, 3);
  freeReplyObject (redis_server_command (server,
          "ACL SETUSER viewer on >vpw ~cam:* +xreadgroup +xgroup +xack "
          "+xautoclaim +xinfo +xlen +publish +ping &*"));
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "redisstreamsrc port=%u username=viewer password=vpw stream=cam:1 "
      "group=v start-id=0 num-buffers=3 ! fakesink", server->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "cam:1:info");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  freeReplyObject (redis_server_command (server, "ACL SETUSER viewer +hget"));
  msg = redis_test_launch_until_error (&pipeline, 5000,
      "redisstreamsrc port=%u username=viewer password=vpw stream=cam:1 "
      "group=v2 start-id=0 num-buffers=3 ! fakesink", server->port);
  fail_unless (msg == NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
redisstreamsrc_suite (void)
{
  Suite *s = suite_create ("redisstreamsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_roundtrip_bit_exact);
  tcase_add_test (tc, test_timestamps_flags_offset_and_metas_preserved);
  tcase_add_test (tc, test_caps_change_mid_stream);
  tcase_add_test (tc, test_mixed_v1_v2_stream);
  tcase_add_test (tc, test_late_joiner_after_trim_finds_caps);
  tcase_add_test (tc, test_caps_id_not_in_info_is_skipped);
  tcase_add_test (tc, test_acl_without_info_rights_is_not_authorized);
  tcase_add_test (tc, test_two_consumers_share_work_exactly_once);
  tcase_add_test (tc, test_unacked_entries_redelivered_after_restart);
  tcase_add_test (tc, test_ack_after_push);
  tcase_add_test (tc, test_interrupt_latency);
  tcase_add_test (tc, test_pause_keeps_entry_of_interrupted_read);
  tcase_add_test (tc, test_trimmed_pending_entry_is_skipped);
  tcase_add_test (tc, test_bad_entries_are_skipped_and_counted);
  tcase_add_test (tc, test_value_over_max_frame_size_is_not_read);
  tcase_add_test (tc, test_max_age_skips_old_frames);
  tcase_add_test (tc, test_start_id);
  tcase_add_test (tc, test_count_reads_several_pushes_each);
  tcase_add_test (tc, test_stats_and_latency);
  tcase_add_test (tc, test_src_errors_at_start);
  tcase_add_test (tc, test_group_recreated_when_stream_deleted);
  tcase_add_test (tc, test_server_death_is_an_error_not_a_hang);
  tcase_add_test (tc, test_restart_with_aof_delivers_everything);
  tcase_add_test (tc, test_restart_without_persistence_recreates_group);
  tcase_add_test (tc, test_src_outage_longer_than_limit_is_an_error);
  tcase_add_test (tc, test_src_network_cut);
  tcase_add_test (tc, test_messages_carry_server_stream_and_place);
  tcase_add_test (tc, test_autoclaim_takes_over_dead_consumer_entries);
  tcase_add_test (tc, test_large_lz4_frames_damaged_are_skipped);
  tcase_add_test (tc, test_reorder_window_restores_order);
  tcase_add_test (tc, test_reorder_gives_up_and_drops_late_frames);
  tcase_add_test (tc, test_reorder_timeout_bounds_the_wait);
  tcase_add_test (tc, test_reorder_follows_a_restarted_sequence);
  tcase_add_test (tc, test_reorder_frames_keep_their_caps);
  tcase_add_test (tc, test_max_age_skip_keeps_caps_of_next_frames);
  tcase_add_test (tc, test_reorder_window_into_videoconvert);
  tcase_add_test (tc, test_caps_refused_by_videoconvert_are_named);
  tcase_add_test (tc, test_destroyed_group_does_not_replay_the_stream);
  tcase_add_test (tc, test_reads_over_maxmemory);
  tcase_add_test (tc, test_unblocked_is_not_a_lost_connection);
  tcase_add_test (tc, test_invalid_utf8_caps_warning_explains);
  tcase_add_test (tc, test_autoclaim_counts_trimmed_pending_entries);
  tcase_add_test (tc, test_slow_reader_counts_trimmed_entries);
  tcase_add_test (tc, test_claim_idle_time_follows_retention);
  tcase_add_test (tc, test_error_codes_apps_see);
  /* only where the frameproc plugin was built next to this one */
  if (gst_registry_check_feature_version (gst_registry_get (), "frameproc",
          0, 0, 0)) {
    tcase_add_test (tc, test_frameproc_detections_survive_redis);
    tcase_add_test (tc, test_caps_refused_by_frameproc_are_named);
  }
  return s;
}

GST_CHECK_MAIN (redisstreamsrc);
