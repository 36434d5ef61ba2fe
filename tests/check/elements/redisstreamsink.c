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

/* redisstreamsink against a real redis-server started per test. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <lz4frame.h>
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

/* The value of @field in the entry @entry (an [id, [f, v, ...]] reply). */
static redisReply *
entry_field (redisReply * entry, const gchar * field)
{
  redisReply *values = entry->element[1];
  gsize i;

  for (i = 0; i + 1 < values->elements; i += 2) {
    if (g_str_equal (values->element[i]->str, field))
      return values->element[i + 1];
  }
  return NULL;
}

/* The encoding of an entry: a missing field means none. */
static const gchar *
entry_encoding (redisReply * entry)
{
  redisReply *f = entry_field (entry, "encoding");

  return f ? f->str : "none";
}

/* The caps string a version 2 entry refers to, from <stream>:info. */
static gchar *
entry_caps (const gchar * stream, redisReply * entry)
{
  redisReply *r, *id = entry_field (entry, "caps");
  gchar *caps;

  fail_unless (id != NULL);
  r = redis_server_command (server, "HGET %s:info caps:%s", stream, id->str);
  fail_unless_equals_int (r->type, REDIS_REPLY_STRING);
  caps = g_strdup (r->str);
  freeReplyObject (r);
  return caps;
}

#define I420_320 "video/x-raw,format=I420,width=320,height=240,framerate=30/1"

GST_START_TEST (test_one_entry_per_buffer)
{
  GstHarness *h =
      redis_test_sink_harness (server, "stream=cam compression=none", I420_320);
  GstVideoInfo info;
  redisReply *r;
  gint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (i = 0; i < 10; i++) {
    GstBuffer *buf = redis_test_make_frame (&info, i, TRUE);

    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    GST_BUFFER_OFFSET (buf) = 100 + i;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    /* sent at once: the entry is there when push returns */
    fail_unless_equals_int (redis_server_integer (server, "XLEN cam"), i + 1);
  }

  r = redis_server_command (server, "XRANGE cam - +");
  fail_unless_equals_int (r->type, REDIS_REPLY_ARRAY);
  fail_unless_equals_int (r->elements, 10);
  for (i = 0; i < 10; i++) {
    redisReply *e = r->element[i];
    gchar *seq = g_strdup_printf ("%d", 100 + i);
    gchar *pts = g_strdup_printf ("%" G_GUINT64_FORMAT,
        (guint64) (i * GST_SECOND / 30));

    gchar *caps = entry_caps ("cam", e), *id = redis_test_caps_id (caps);

    /* version 2: the caps' id, the caps in cam:info; no encoding and size
     * for a payload as it is */
    fail_unless_equals_string (entry_field (e, "v")->str, "2");
    fail_unless_equals_string (entry_field (e, "seq")->str, seq);
    fail_unless_equals_string (entry_field (e, "pts")->str, pts);
    fail_unless (entry_field (e, "dts") == NULL);
    fail_unless (entry_field (e, "encoding") == NULL);
    fail_unless (entry_field (e, "size") == NULL);
    fail_unless_equals_int (entry_field (e, "data")->len, 115200);
    fail_unless_equals_string (entry_field (e, "caps")->str, id);
    fail_unless (g_str_has_prefix (caps, "video/x-raw, format=(string)I420"));
    fail_unless (entry_field (e, "capture-time") != NULL);
    g_free (caps);
    g_free (id);
    g_free (seq);
    g_free (pts);
  }
  freeReplyObject (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_lz4_entries_decode_with_any_lz4_frame_reader)
{
  GstHarness *h =
      redis_test_sink_harness (server, "stream=cam compression=lz4", I420_320);
  GstVideoInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  redisReply *r, *data;
  LZ4F_dctx *dctx;
  guint8 *out;
  size_t out_n, in_n, ret;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  buf = redis_test_make_frame (&info, 7, FALSE);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (buf)),
      GST_FLOW_OK);

  r = redis_server_command (server, "XRANGE cam - +");
  fail_unless_equals_int (r->elements, 1);
  fail_unless_equals_string (entry_encoding (r->element[0]), "lz4");
  data = entry_field (r->element[0], "data");
  /* a gradient compresses */
  fail_unless (data->len < 115200 / 4);

  /* plain liblz4 frame API, no knowledge of our code */
  fail_if (LZ4F_isError (LZ4F_createDecompressionContext (&dctx,
              LZ4F_VERSION)));
  out = g_malloc (115200);
  out_n = 115200;
  in_n = data->len;
  ret = LZ4F_decompress (dctx, out, &out_n, data->str, &in_n, NULL);
  fail_unless_equals_int (ret, 0);
  fail_unless_equals_int (out_n, 115200);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless (memcmp (out, map.data, map.size) == 0);
  gst_buffer_unmap (buf, &map);
  LZ4F_freeDecompressionContext (dctx);
  g_free (out);
  freeReplyObject (r);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_auto_compression_skips_compressed_caps)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=jpeg",
      "image/jpeg,width=8,height=8");
  GstHarness *h2 = redis_test_sink_harness (server, "stream=raw", I420_320);
  GstVideoInfo info;
  redisReply *r;

  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_memdup ("\xff\xd8 not really a jpeg", 20)),
      GST_FLOW_OK);
  r = redis_server_command (server, "XRANGE jpeg - +");
  fail_unless_equals_string (entry_encoding (r->element[0]), "none");
  freeReplyObject (r);

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  fail_unless_equals_int (gst_harness_push (h2,
          redis_test_make_frame (&info, 1, FALSE)), GST_FLOW_OK);
  r = redis_server_command (server, "XRANGE raw - +");
  fail_unless_equals_string (entry_encoding (r->element[0]), "lz4");
  freeReplyObject (r);

  gst_harness_teardown (h);
  gst_harness_teardown (h2);
}

GST_END_TEST;

/* auto stops compressing frames that do not shrink (a camera's raw frames
 * shrink by 5-25% only) and tries again now and then. */
GST_START_TEST (test_auto_compression_adapts_to_content)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=adapt",
      "video/x-raw,format=GRAY8," "width=64,height=48,framerate=30/1");
  GstVideoInfo info;
  redisReply *r;
  gint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  /* noise: the first frame is tried, the next ones go as they are */
  for (i = 0; i < 5; i++)
    gst_harness_push (h, redis_test_make_frame (&info, i, TRUE));
  /* compressible frames: still not tried until the probe interval (300) */
  for (i = 0; i < 298; i++)
    gst_harness_push (h, redis_test_make_frame (&info, i, FALSE));

  r = redis_server_command (server, "XRANGE adapt - +");
  fail_unless_equals_int (r->elements, 303);
  fail_unless_equals_string (entry_encoding (r->element[0]), "lz4");
  for (i = 1; i < 301; i++)
    fail_unless_equals_string (entry_encoding (r->element[i]), "none");
  /* frame 301 is tried again, shrinks, and compression goes on */
  fail_unless_equals_string (entry_encoding (r->element[301]), "lz4");
  fail_unless_equals_string (entry_encoding (r->element[302]), "lz4");
  freeReplyObject (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* auto tries a piece of a large frame first: a frame that does not shrink
 * goes out as it is (not compressed once every 300 frames, which made
 * Redis and the reader take fresh memory for an entry of another size);
 * one that does is compressed whole. */
GST_START_TEST (test_auto_compression_tries_a_piece_of_large_frames)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=large",
      "video/x-raw,format=I420,width=1280,height=720,framerate=30/1");
  GstStructure *stats;
  GstVideoInfo info;
  redisReply *r;
  gdouble ratio = 0;
  gint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  /* noise: not one of them compressed, the first included */
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
                i, TRUE)), GST_FLOW_OK);
  g_object_get (gst_harness_find_element (h, "redisstreamsink"), "stats",
      &stats, NULL);
  gst_structure_get_double (stats, "compression-ratio", &ratio);
  gst_structure_free (stats);
  fail_unless (ratio == 1.0, "compression-ratio %f", ratio);
  gst_harness_teardown (h);

  /* a gradient: compressed, the whole frame */
  h = redis_test_sink_harness (server, "stream=large2",
      "video/x-raw,format=I420,width=1280,height=720,framerate=30/1");
  for (i = 0; i < 2; i++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
                i, FALSE)), GST_FLOW_OK);
  r = redis_server_command (server, "XRANGE large - +");
  fail_unless_equals_int (r->elements, 3);
  for (i = 0; i < 3; i++)
    fail_unless_equals_string (entry_encoding (r->element[i]), "none");
  freeReplyObject (r);
  r = redis_server_command (server, "XRANGE large2 - +");
  fail_unless_equals_int (r->elements, 2);
  for (i = 0; i < 2; i++) {
    fail_unless_equals_string (entry_encoding (r->element[i]), "lz4");
    fail_unless_equals_string (entry_field (r->element[i], "size")->str,
        "1382400");
  }
  freeReplyObject (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_maxlen_keeps_stream_bounded)
{
  GstHarness *h =
      redis_test_sink_harness (server, "stream=bounded maxlen=50", I420_320);
  GstVideoInfo info;
  GstBuffer *frame;
  long long len;
  gint i;

  /* Redis trims whole listpack nodes; small nodes make the bound tight. */
  freeReplyObject (redis_server_command (server,
          "CONFIG SET stream-node-max-entries 10"));
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  frame = redis_test_make_frame (&info, 3, TRUE);
  for (i = 0; i < 500; i++)
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_copy (frame)),
        GST_FLOW_OK);
  len = redis_server_integer (server, "XLEN bounded");
  fail_unless (len >= 50 && len <= 60, "XLEN %lld after 500 frames", len);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* retention trims by age (MINID) instead of by count. */
GST_START_TEST (test_retention_trims_by_age)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=aged "
      "retention=300 maxlen=5", "application/x-test");
  gint i;

  freeReplyObject (redis_server_command (server,
          "CONFIG SET stream-node-max-entries 10"));
  for (i = 0; i < 40; i++)
    gst_harness_push (h, redis_test_numbered (i));
  /* all recent: nothing trimmed, maxlen is not used */
  fail_unless_equals_int (redis_server_integer (server, "XLEN aged"), 40);
  /* not a poll: the entries age past retention=300 */
  g_usleep (600 * 1000);
  for (i = 40; i < 45; i++)
    gst_harness_push (h, redis_test_numbered (i));
  /* the 40 old ones went, node by node */
  fail_unless (redis_server_integer (server, "XLEN aged") <= 10);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_maxlen_zero_keeps_everything)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=all maxlen=0",
      "application/x-test");
  gint i;

  for (i = 0; i < 300; i++)
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_memdup ("abc", 3)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (server, "XLEN all"), 300);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_stats)
{
  GstHarness *h =
      redis_test_sink_harness (server, "stream=s compression=lz4", I420_320);
  GstElement *sink = redis_test_harness_element (h, "redisstreamsink");
  GstVideoInfo info;
  GstStructure *s;
  gdouble ratio;
  const gchar *last;
  redisReply *r;
  gint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (i = 0; i < 5; i++)
    gst_harness_push (h, redis_test_make_frame (&info, i, FALSE));

  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_has_name (s,
          "application/x-redis-stream-sink-stats"));
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "frames"), 5);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "bytes-in"),
      5 * 115200);
  fail_unless (redis_test_get_stat (sink, "bytes-out") < 5 * 115200);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "errors"), 0);
  fail_unless (gst_structure_get_double (s, "compression-ratio", &ratio));
  fail_unless (ratio > 2.0);
  /* the base sink's own counters are there too */
  fail_unless (gst_structure_has_field (s, "rendered"));
  last = gst_structure_get_string (s, "last-entry-id");
  r = redis_server_command (server, "XREVRANGE s + - COUNT 1");
  fail_unless_equals_string (last, r->element[0]->element[0]->str);
  freeReplyObject (r);
  gst_structure_free (s);

  /* kept after stop */
  gst_element_set_state (h->element, GST_STATE_NULL);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "frames"), 5);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_unix_socket)
{
  GstHarness *h = redis_test_harness_new ("redisstreamsink socket-path=%s "
      "stream=unix", server->socket_path);

  gst_harness_set_src_caps_str (h, "application/x-test");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup ("x",
              1)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (server, "XLEN unix"), 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_db_select)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=indb db=3",
      "application/x-test");

  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup ("x",
              1)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (server, "EXISTS indb"), 0);
  gst_harness_teardown (h);
  {
    redisContext *c = redis_server_connect (server);
    redisReply *r = redisCommand (c, "SELECT 3");

    freeReplyObject (r);
    r = redisCommand (c, "XLEN indb");
    fail_unless_equals_int (r->integer, 1);
    freeReplyObject (r);
    redisFree (c);
  }
}

GST_END_TEST;

GST_START_TEST (test_unreachable_server_is_an_error)
{
  GstElement *pipeline;
  GstMessage *msg;
  guint port = redis_test_closed_port ();
  gchar *where = g_strdup_printf ("127.0.0.1:%u", port);

  msg = redis_test_launch_until_error (&pipeline, 10000,
      "fakesrc num-buffers=1 ! redisstreamsink port=%u stream=cam "
      "connect-timeout=2000", port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_OPEN_READ_WRITE, where);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (where);
}

GST_END_TEST;

GST_START_TEST (test_wrong_password_is_not_authorized)
{
  RedisServer *secure =
      redis_server_start_with_args ("--requirepass", "s3cret-pw",
      NULL);
  GstElement *pipeline;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  /* no password at all */
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "fakesrc num-buffers=1 ! redisstreamsink port=%u", secure->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "authentication");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* a wrong one, which must not show up in the message */
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "fakesrc num-buffers=1 ! redisstreamsink port=%u password=wrong-pw-42",
      secure->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "credentials");
  gst_message_parse_error (msg, &err, &debug);
  fail_if (strstr (err->message, "wrong-pw-42"));
  fail_if (strstr (debug, "wrong-pw-42"));
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* the right one works */
  msg = redis_test_launch_until_error (&pipeline, 3000,
      "fakesrc num-buffers=3 sizetype=fixed sizemax=16 filltype=random ! "
      "redisstreamsink port=%u password=s3cret-pw stream=ok", secure->port);
  fail_unless (msg == NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  {
    redisContext *c = redis_server_connect (secure);
    redisReply *r = redisCommand (c, "AUTH s3cret-pw");

    freeReplyObject (r);
    r = redisCommand (c, "XLEN ok");
    fail_unless_equals_int (r->integer, 3);
    freeReplyObject (r);
    redisFree (c);
  }
  redis_server_stop (secure);
}

GST_END_TEST;

GST_START_TEST (test_acl_user)
{
  GstElement *pipeline;
  GstMessage *msg;

  freeReplyObject (redis_server_command (server,
          "ACL SETUSER cam on >campw ~cam:* +xadd +ping"));

  msg = redis_test_launch_until_error (&pipeline, 3000,
      "fakesrc num-buffers=2 sizetype=fixed sizemax=8 filltype=zero ! "
      "redisstreamsink "
      "port=%u username=cam password=campw stream=cam:1", server->port);
  fail_unless (msg == NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  fail_unless_equals_int (redis_server_integer (server, "XLEN cam:1"), 2);

  /* a key outside the user's pattern is refused by Redis: not authorized */
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "fakesrc num-buffers=2 sizetype=fixed sizemax=8 filltype=zero ! "
      "redisstreamsink "
      "port=%u username=cam password=campw stream=other", server->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "other");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_invalid_settings)
{
  const gchar *bad[] = {
    "stream=\"two words\"",
    "stream=\"\"",
    "host=\"\"",
    "host=\"no such host\"",
    "username=someone",         /* without a password */
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstElement *pipeline;
    GstMessage *msg = redis_test_launch_until_error (&pipeline, 5000,
        "fakesrc num-buffers=1 ! redisstreamsink port=%u %s", server->port,
        bad[i]);

    redis_test_check_error (msg, GST_RESOURCE_ERROR_SETTINGS, NULL);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

GST_START_TEST (test_port_out_of_range_is_an_error)
{
  const guint bad[] = { 0, 65536 };
  guint i;

  /* not silently replaced by the default: an error before anything runs */
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstElement *pipeline;
    GstMessage *msg = redis_test_launch_until_error (&pipeline, 5000,
        "fakesrc num-buffers=1 ! redisstreamsink port=%u", bad[i]);

    redis_test_check_error (msg, GST_RESOURCE_ERROR_SETTINGS, "port");
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

/* Redis going away in the middle of a stream is an error message, not a
 * SIGPIPE that kills the process. */
GST_START_TEST (test_server_death_is_an_error_not_sigpipe)
{
  GstHarness *h = redis_test_sink_harness (server,
      "stream=dying compression=none " "reconnect-timeout=0", I420_320);
  GstVideoInfo info;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstFlowReturn ret = GST_FLOW_OK;
  gint i;

  gst_element_set_bus (h->element, bus);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
              0, TRUE)), GST_FLOW_OK);

  redis_server_kill (server, SIGKILL);
  for (i = 0; i < 20 && ret == GST_FLOW_OK; i++)
    ret = gst_harness_push (h, redis_test_make_frame (&info, i, TRUE));
  fail_unless_equals_int (ret, GST_FLOW_ERROR);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail_unless (err->domain == GST_RESOURCE_ERROR);
    fail_unless (err->code == GST_RESOURCE_ERROR_WRITE ||
        err->code == GST_RESOURCE_ERROR_READ);
    g_clear_error (&err);
  }
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* gst-inspect-1.0 lists both elements with a description for every
 * property. */
GST_START_TEST (test_gst_inspect_describes_every_property)
{
  const gchar *elements[] = { "redisstreamsink", "redisstreamsrc" };
  guint e;

  for (e = 0; e < G_N_ELEMENTS (elements); e++) {
    gchar *argv[] = { (gchar *) "gst-inspect-1.0", (gchar *) elements[e],
      NULL
    };
    gchar *out = NULL;
    gint status;
    GError *err = NULL;
    GstElement *element;
    GParamSpec **props;
    guint n, i;

    fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
            G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
            &err), "%s", err ? err->message : "");
    fail_unless (g_spawn_check_wait_status (status, NULL), "%s", out);
    fail_unless (strstr (out, "Element Properties:") != NULL);

    element = gst_element_factory_make (elements[e], NULL);
    props = g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);
    for (i = 0; i < n; i++) {
      gchar *pattern = g_strdup_printf ("\n  %s", props[i]->name);
      const gchar *line = strstr (out, pattern);
      const gchar *colon, *eol;

      fail_unless (line != NULL, "%s: %s not listed", elements[e],
          props[i]->name);
      colon = strchr (line + 1, ':');
      eol = strchr (line + 1, '\n');
      fail_unless (colon && eol && colon < eol);
      /* something after "name : " */
      fail_unless (eol - colon > 3, "%s: %s has no description",
          elements[e], props[i]->name);
      fail_unless (g_param_spec_get_blurb (props[i]) &&
          strlen (g_param_spec_get_blurb (props[i])) > 10);
      g_free (pattern);
    }
    g_free (props);
    gst_object_unref (element);
    g_free (out);
  }
}

GST_END_TEST;

static GstHarness *
sink_with_bus (const gchar * props, GstBus ** bus)
{
  GstHarness *h = redis_test_sink_harness (server, props, "application/x-test");

  *bus = gst_bus_new ();
  gst_element_set_bus (h->element, *bus);
  return h;
}

static void
sink_with_bus_teardown (GstHarness * h, GstBus * bus)
{
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static gboolean
sink_connected (GstHarness * h)
{
  GstStructure *s;
  gboolean connected = FALSE;

  g_object_get (redis_test_harness_element (h, "redisstreamsink"), "stats",
      &s, NULL);
  gst_structure_get_boolean (s, "connected", &connected);
  gst_structure_free (s);
  return connected;
}

/* Pushes frame *@seq (and counts it); TRUE when the sink is connected. */
static gboolean
push_then_connected (GstHarness * h, guint64 * seq)
{
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered ((*seq)++)),
      GST_FLOW_OK);
  return sink_connected (h);
}

/* Pushes numbered frames from @seq, one per poll, until the sink is
 * connected again (at most 10 s); returns the next sequence number. */
static guint64
push_until_connected (GstHarness * h, guint64 seq)
{
  test_wait_until (push_then_connected (h, &seq), 10000,
      "the sink to reconnect while frames keep coming");
  return seq;
}

/* Stream entries' seq fields, in stream order. */
static GArray *
stream_seqs (RedisServer * srv, const gchar * stream)
{
  redisReply *r = redis_server_command (srv, "XRANGE %s - +", stream);
  GArray *seqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  gsize i;

  for (i = 0; i < r->elements; i++) {
    guint64 v = g_ascii_strtoull (entry_field (r->element[i], "seq")->str,
        NULL, 10);
    g_array_append_val (seqs, v);
  }
  freeReplyObject (r);
  return seqs;
}

/* The outage messages name the server and the stream as details and come
 * from the element's own code, not from the outage helper that posts them
 * on its behalf. */
GST_START_TEST (test_messages_carry_server_stream_and_place)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=msg",
      "application/x-test");
  GstBus *bus = gst_bus_new ();
  guint64 seq = 0;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq++)),
      GST_FLOW_OK);
  redis_server_kill (server, SIGTERM);
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq++)),
      GST_FLOW_OK);
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_WARNING, "Lost the connection", 10000), server, "msg",
      "gstredisstreamsink.c");
  fail_unless (redis_server_restart (server));
  push_until_connected (h, seq);
  redis_test_check_message_origin (redis_test_wait_message (bus,
          GST_MESSAGE_INFO, "Reconnected", 10000), server, "msg",
      "gstredisstreamsink.c");

  sink_with_bus_teardown (h, bus);
}

GST_END_TEST;

/* Redis restarts (AOF on): the sink warns, drops and counts frames while it
 * is away, reconnects by itself, and never posts an error. */
GST_START_TEST (test_restart_drop_policy)
{
  RedisServer *aof = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  GstBus *bus;
  GstHarness *h;
  GstElement *sink;
  guint64 seq = 0, before, dropped;
  GArray *seqs;
  gchar *props = g_strdup_printf ("port=%u stream=cam", aof->port);

  h = redis_test_harness_new ("redisstreamsink %s", props);
  gst_harness_set_src_caps_str (h, "application/x-test");
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  sink = redis_test_harness_element (h, "redisstreamsink");

  for (; seq < 10; seq++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);
  redis_server_kill (aof, SIGTERM);
  /* frames keep coming while Redis is away: not an error */
  for (before = seq; seq < before + 10; seq++) {
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);
    g_usleep (10 * 1000);       /* not a poll: a live source's pace */
  }
  fail_if (sink_connected (h));
  fail_unless (redis_server_restart (aof));
  seq = push_until_connected (h, seq);
  before = seq;
  for (; seq < before + 10; seq++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);

  dropped = redis_test_get_stat (sink, "dropped-disconnected");
  fail_unless (dropped >= 10);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "reconnects"), 1);
  seqs = stream_seqs (aof, "cam");
  /* what was written before stayed (AOF), the rest came after */
  fail_unless_equals_int (seqs->len + dropped, seq);
  fail_unless_equals_uint64 (g_array_index (seqs, guint64, 9), 9);
  fail_unless_equals_uint64 (g_array_index (seqs, guint64, seqs->len - 1),
      seq - 1);
  g_array_unref (seqs);

  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "Lost the connection"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_INFO,
          "Reconnected"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  redis_server_stop (aof);
  g_free (props);
}

GST_END_TEST;

/* on-disconnect=buffer: frames written while Redis was away are sent after
 * it came back, in order, none lost. */
GST_START_TEST (test_restart_buffer_policy_loses_nothing)
{
  RedisServer *aof = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  GstHarness *h;
  GstElement *sink;
  guint64 seq = 0, i;
  GArray *seqs;

  h = redis_test_harness_new ("redisstreamsink port=%u stream=cam "
      "on-disconnect=buffer max-buffered=1000", aof->port);
  gst_harness_set_src_caps_str (h, "application/x-test");
  sink = redis_test_harness_element (h, "redisstreamsink");

  for (; seq < 10; seq++)
    gst_harness_push (h, redis_test_numbered (seq));
  redis_server_kill (aof, SIGTERM);
  for (; seq < 30; seq++) {
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);
    g_usleep (10 * 1000);       /* not a poll: a live source's pace */
  }
  fail_unless (redis_server_restart (aof));
  seq = push_until_connected (h, seq);
  gst_harness_push (h, redis_test_numbered (seq++));

  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);
  seqs = stream_seqs (aof, "cam");
  fail_unless_equals_int (seqs->len, seq);
  for (i = 0; i < seq; i++)
    fail_unless_equals_uint64 (g_array_index (seqs, guint64, i), i);
  g_array_unref (seqs);
  gst_harness_teardown (h);
  redis_server_stop (aof);
}

GST_END_TEST;

/* max-buffered bounds the memory: the oldest frames make room, counted. */
GST_START_TEST (test_buffer_policy_is_bounded)
{
  GstHarness *h = redis_test_sink_harness (server,
      "stream=cam on-disconnect=buffer " "max-buffered=5",
      "application/x-test");
  GstElement *sink = redis_test_harness_element (h, "redisstreamsink");
  GstStructure *s;
  guint buffered = 0;
  guint64 seq;

  gst_harness_push (h, redis_test_numbered (0));
  redis_server_kill (server, SIGKILL);
  for (seq = 1; seq < 21; seq++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);
  g_object_get (sink, "stats", &s, NULL);
  gst_structure_get_uint (s, "buffered", &buffered);
  gst_structure_free (s);
  fail_unless_equals_int (buffered, 5);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 15);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* An outage longer than reconnect-timeout is an error. */
GST_START_TEST (test_outage_longer_than_limit_is_an_error)
{
  GstBus *bus;
  GstHarness *h = sink_with_bus ("stream=cam reconnect-timeout=300", &bus);
  GstFlowReturn ret = GST_FLOW_OK;
  gint64 start;
  guint64 seq = 0;

  gst_harness_push (h, redis_test_numbered (seq++));
  redis_server_kill (server, SIGKILL);
  start = g_get_monotonic_time ();
  test_wait_until ((ret = gst_harness_push (h,
              redis_test_numbered (seq++))) != GST_FLOW_OK, 10000,
      "the sink to give up reconnecting (frame %" G_GUINT64_FORMAT ")", seq);
  fail_unless_equals_int (ret, GST_FLOW_ERROR);
  /* not before the limit */
  fail_unless (g_get_monotonic_time () - start >= 300 * 1000);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          "Gave up reconnecting"), 1);
  sink_with_bus_teardown (h, bus);
}

GST_END_TEST;

/* A network cut (the server stops answering, SIGSTOP): detected by the
 * reply timeout, not a hang; the sink carries on when it answers again. */
GST_START_TEST (test_network_cut_detected_by_timeout)
{
  GstBus *bus;
  GstHarness *h = sink_with_bus ("stream=cut timeout=300 connect-timeout=300",
      &bus);
  gint64 t0;
  guint64 seq = 0;

  gst_harness_push (h, redis_test_numbered (seq++));
  redis_server_kill (server, SIGSTOP);
  t0 = g_get_monotonic_time ();
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq++)),
      GST_FLOW_OK);
  /* one reply timeout, and some slack for a loaded machine */
  fail_unless (g_get_monotonic_time () - t0 < 2 * G_TIME_SPAN_SECOND);
  fail_if (sink_connected (h));
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "Lost the connection"), 1);

  redis_server_kill (server, SIGCONT);
  seq = push_until_connected (h, seq);
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
      GST_FLOW_OK);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);
  sink_with_bus_teardown (h, bus);
}

GST_END_TEST;

/* Stale connections and chains. */

typedef enum
{
  FAULT_IDLE_TIMEOUT,
  FAULT_CLIENT_KILL,
  FAULT_RESTART,
} StaleFault;

/* Writes numbered frames [@from, @to) to @stream of @srv, as a producer
 * would; video frames (I420 320x240) when @video. */
static void
produce (RedisServer * srv, const gchar * stream, guint64 from, guint64 to,
    gboolean video)
{
  gchar *props = g_strdup_printf ("stream=%s", stream);
  GstHarness *h = redis_test_sink_harness (srv, props,
      video ? I420_320 : "application/x-test");
  GstVideoInfo info;
  guint64 seq;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (seq = from; seq < to; seq++) {
    GstBuffer *b;

    if (video) {
      b = redis_test_make_frame (&info, (guint) seq, FALSE);
      GST_BUFFER_OFFSET (b) = seq;
    } else {
      b = redis_test_numbered (seq);
    }
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  gst_harness_teardown (h);
  g_free (props);
}

/* The clients of @srv whose last command was @cmd, as "id=N" lines. */
static guint
clients_with_cmd (RedisServer * srv, const gchar * cmd, long long *id)
{
  redisReply *r = redis_server_command (srv, "CLIENT LIST");
  gchar **lines = g_strsplit (r->str, "\n", -1);
  gchar *needle = g_strdup_printf (" cmd=%s ", cmd);
  guint i, n = 0;

  for (i = 0; lines[i]; i++) {
    if (strstr (lines[i], needle)) {
      n++;
      if (id)
        *id = g_ascii_strtoll (lines[i] + strlen ("id="), NULL, 10);
    }
  }
  g_free (needle);
  g_strfreev (lines);
  freeReplyObject (r);
  return n;
}

/* Waits up to 30 s for @n clients whose last command was @cmd. */
static void
wait_clients_with_cmd (RedisServer * srv, const gchar * cmd, guint n)
{
  test_wait_until (clients_with_cmd (srv, cmd, NULL) == n, 30000,
      "%u clients whose last command is %s (CLIENT LIST)", n, cmd);
}

/* Makes the connection of the only client writing to @srv (the sink under
 * test) stale while it is idle: Redis closes it (idle timeout), kills it
 * (CLIENT KILL) or restarts (AOF on: the streams and groups stay). */
static void
make_stale (RedisServer * srv, StaleFault fault)
{
  long long id = -1;
  redisReply *r;

  wait_clients_with_cmd (srv, "xadd", 1);
  switch (fault) {
    case FAULT_IDLE_TIMEOUT:
      r = redis_server_command (srv, "CONFIG SET timeout 2");
      freeReplyObject (r);
      /* an idle gap longer than 2 s: Redis closes the sink's connection */
      wait_clients_with_cmd (srv, "xadd", 0);
      r = redis_server_command (srv, "CONFIG SET timeout 0");
      freeReplyObject (r);
      break;
    case FAULT_CLIENT_KILL:
      clients_with_cmd (srv, "xadd", &id);
      fail_unless_equals_int (redis_server_integer (srv,
              "CLIENT KILL ID %lld", id), 1);
      break;
    case FAULT_RESTART:
      fail_unless (redis_server_restart (srv));
      break;
  }
}

/* Entries of @stream, counted per seq: each of [0, @n) exactly once. */
static void
check_each_seq_once (RedisServer * srv, const gchar * stream, guint64 n)
{
  GArray *seqs = stream_seqs (srv, stream);
  guint8 *seen = g_new0 (guint8, n);
  guint i;

  for (i = 0; i < seqs->len; i++) {
    guint64 s = g_array_index (seqs, guint64, i);

    fail_unless (s < n, "unexpected seq %" G_GUINT64_FORMAT, s);
    seen[s]++;
  }
  for (i = 0; i < n; i++)
    fail_unless (seen[i] == 1, "seq %u stored %u times in %s", i, seen[i],
        stream);
  g_array_unref (seqs);
  g_free (seen);
}

/* Live camera (frames pushed straight into the sink, default
 * on-disconnect): a connection Redis closed while the sink was idle is
 * replaced at the next frame, which is stored; Redis was up, so nothing is
 * dropped and there is no outage. */
static void
check_camera_stale (StaleFault fault)
{
  RedisServer *srv = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  GstBus *bus;
  GstHarness *h;
  GstElement *sink;
  guint64 seq;

  h = redis_test_sink_harness (srv, "stream=cam", "application/x-test");
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  sink = redis_test_harness_element (h, "redisstreamsink");
  for (seq = 0; seq < 10; seq++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);

  make_stale (srv, fault);

  for (; seq < 20; seq++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (seq)),
        GST_FLOW_OK);
  check_each_seq_once (srv, "cam", 20);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "frames"), 20);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "reconnects"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          NULL), 0);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  sink_with_bus_teardown (h, bus);
  redis_server_stop (srv);
}

GST_START_TEST (test_camera_idle_timeout_loses_nothing)
{
  check_camera_stale (FAULT_IDLE_TIMEOUT);
}

GST_END_TEST;

GST_START_TEST (test_camera_client_kill_loses_nothing)
{
  check_camera_stale (FAULT_CLIENT_KILL);
}

GST_END_TEST;

GST_START_TEST (test_camera_restart_while_idle_loses_nothing)
{
  check_camera_stale (FAULT_RESTART);
}

GST_END_TEST;

/* XPENDING count of @group on @stream. */
static long long
pending_count (RedisServer * srv, const gchar * stream, const gchar * group)
{
  redisReply *r = redis_server_command (srv, "XPENDING %s %s", stream, group);
  long long n;

  fail_unless (r->type == REDIS_REPLY_ARRAY && r->elements == 4);
  n = r->element[0]->integer;
  freeReplyObject (r);
  return n;
}

/* Waits up to 30 s until @src pushed @frames frames and acknowledged them
 * all. */
static void
wait_pushed_and_acked (GstElement * src, RedisServer * srv, guint64 frames)
{
  test_wait_until (redis_test_get_stat (src, "frames") >= frames &&
      pending_count (srv, "in", "g") == 0, 30000,
      "the source to push %" G_GUINT64_FORMAT " frames and acknowledge them "
      "all (pushed %" G_GUINT64_FORMAT ", %lld pending)", frames,
      redis_test_get_stat (src, "frames"), pending_count (srv, "in", "g"));
  fail_unless_equals_uint64 (redis_test_get_stat (src, "frames"), frames);
  fail_unless_equals_int (pending_count (srv, "in", "g"), 0);
}

static GstElement *
chain_start (RedisServer * in, RedisServer * out, const gchar * middle,
    GstBus ** bus)
{
  GstElement *pipeline;
  GError *err = NULL;
  gchar *desc;

  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=in group=g "
      "start-id=0 ! %s%sredisstreamsink name=sink port=%u stream=out",
      in->port, middle, *middle ? " ! " : "", out->port);
  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  *bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static void
chain_stop (GstElement * pipeline, GstBus * bus)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

/* A processing stage (redisstreamsrc ! redisstreamsink, default
 * properties, one Redis): its output connection goes stale while no frame
 * comes; every input frame still reaches the output stream, each once, and
 * each input entry is acknowledged only after that. */
static void
check_chain_stale (StaleFault fault)
{
  RedisServer *srv = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  GstElement *pipeline, *src, *sink;
  GstBus *bus;

  produce (srv, "in", 0, 10, FALSE);
  pipeline = chain_start (srv, srv, "", &bus);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  wait_pushed_and_acked (src, srv, 10);

  make_stale (srv, fault);

  produce (srv, "in", 10, 20, FALSE);
  wait_pushed_and_acked (src, srv, 20);
  check_each_seq_once (srv, "out", 20);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  gst_object_unref (src);
  gst_object_unref (sink);
  chain_stop (pipeline, bus);
  redis_server_stop (srv);
}

GST_START_TEST (test_chain_idle_timeout_loses_nothing)
{
  check_chain_stale (FAULT_IDLE_TIMEOUT);
}

GST_END_TEST;

GST_START_TEST (test_chain_client_kill_loses_nothing)
{
  check_chain_stale (FAULT_CLIENT_KILL);
}

GST_END_TEST;

GST_START_TEST (test_chain_restart_loses_nothing)
{
  check_chain_stale (FAULT_RESTART);
}

GST_END_TEST;

/* A processing stage whose output Redis goes away while frames come
 * (input and output on two servers): with default properties the sink
 * waits for its Redis instead of dropping, and after the restart every
 * frame is stored. @middle: elements between source and sink. Without a
 * queue, the frame the sink holds stays pending on the input stream; with
 * one, the source acknowledged what the queue took (@queued). */
static void
check_chain_output_outage (const gchar * middle, gboolean video,
    gboolean queued)
{
  RedisServer *in = redis_server_start ();
  RedisServer *out = redis_server_start_with_args ("--appendonly", "yes",
      "--appendfsync", "always", NULL);
  GstElement *pipeline, *src, *sink;
  GstBus *bus;

  produce (in, "in", 0, 10, video);
  pipeline = chain_start (in, out, middle, &bus);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  wait_pushed_and_acked (src, in, 10);
  /* Behind a queue, acknowledged does not mean stored: Redis stopped while
   * an XADD is on its way may have stored it without answering, and the
   * sink sends it again (at-least-once, documented): the outage begins
   * once the sink stored the first ten. */
  test_wait_until (redis_test_get_stat (sink, "frames") >= 10, 30000,
      "the sink to store 10 frames");

  redis_server_kill (out, SIGTERM);
  produce (in, "in", 10, 20, video);
  /* the source pushed what it could; what is not stored is not acked */
  test_wait_until (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "held back until they are stored: they come from redisstreamsrc "
          "(stream \"in\", group \"g\")") > 0, 30000,
      "the warning that frames are held back");
  fail_unless (redis_test_get_stat (src, "frames") > 10);
  if (!queued)
    fail_unless (pending_count (in, "in", "g") >= 1);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);

  fail_unless (redis_server_restart (out));
  wait_pushed_and_acked (src, in, 20);
  /* behind a queue, acknowledged does not mean stored yet */
  test_wait_until (redis_test_get_stat (sink, "frames") >= 20, 30000,
      "the sink to store 20 frames");
  check_each_seq_once (out, "out", 20);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_ERROR,
          NULL), 0);

  gst_object_unref (src);
  gst_object_unref (sink);
  chain_stop (pipeline, bus);
  redis_server_stop (in);
  redis_server_stop (out);
}

GST_START_TEST (test_chain_output_outage_waits)
{
  check_chain_output_outage ("", FALSE, FALSE);
}

GST_END_TEST;

/* The same through a processing element and a converter. */
GST_START_TEST (test_chain_output_outage_waits_through_elements)
{
  check_chain_output_outage ("frameproc operation=invert ! videoconvert ! "
      "video/x-raw,format=NV12", TRUE, FALSE);
}

GST_END_TEST;

/* With a queue between source and sink: the source acknowledges a frame
 * once the queue took it; the sink still waits, so the frames in the queue
 * are stored after the restart rather than dropped. */
GST_START_TEST (test_chain_output_outage_waits_behind_queue)
{
  check_chain_output_outage ("queue", FALSE, TRUE);
}

GST_END_TEST;

/* The sink only learns about its connection when it talks to Redis:
 * `connected` is the state as of `last-command-time`. */
GST_START_TEST (test_stats_connected_as_of_last_command)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=cam",
      "application/x-test");
  GstElement *sink = redis_test_harness_element (h, "redisstreamsink");
  gint64 before, t1, t2;
  GstStructure *s;

  before = g_get_real_time ();
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (0)),
      GST_FLOW_OK);
  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_get_int64 (s, "last-command-time", &t1));
  gst_structure_free (s);
  fail_unless (t1 >= before && t1 <= g_get_real_time ());
  fail_unless (sink_connected (h));

  redis_server_kill (server, SIGKILL);
  /* no frame, no command: what is known is still the last command's (not a
   * poll: a while in which nothing happens) */
  g_usleep (100 * 1000);
  fail_unless (sink_connected (h));
  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_get_int64 (s, "last-command-time", &t2));
  gst_structure_free (s);
  fail_unless_equals_int64 (t2, t1);

  /* the next frame finds out */
  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (1)),
      GST_FLOW_OK);
  fail_if (sink_connected (h));
  g_object_get (sink, "stats", &s, NULL);
  fail_unless (gst_structure_get_int64 (s, "last-command-time", &t2));
  gst_structure_free (s);
  fail_unless (t2 > t1);
  gst_harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  GstHarness *h;
  guint64 seq;
} PushJob;

static gpointer
push_thread (gpointer data)
{
  PushJob *job = data;

  return GINT_TO_POINTER (gst_harness_push (job->h,
          redis_test_numbered (job->seq)));
}

/* The id of a client of @srv blocked by CLIENT PAUSE, other than @not_id;
 * -1 when none. */
static long long
paused_client (RedisServer * srv, long long not_id)
{
  redisReply *r = redis_server_command (srv, "CLIENT LIST");
  gchar **lines = g_strsplit (r->str, "\n", -1);
  long long found = -1;
  guint i;

  for (i = 0; lines[i] && found < 0; i++) {
    long long id = g_ascii_strtoll (lines[i] + strlen ("id="), NULL, 10);

    if (strstr (lines[i], " flags=b ") && id != not_id)
      found = id;
  }
  g_strfreev (lines);
  freeReplyObject (r);
  return found;
}

static long long
wait_paused_client (RedisServer * srv, long long not_id)
{
  long long id;

  test_wait_until ((id = paused_client (srv, not_id)) >= 0, 30000,
      "a client waiting in CLIENT PAUSE");
  return id;
}

/* Redis closes the connection after the XADD was sent, before its reply
 * (CLIENT KILL while CLIENT PAUSE holds the command): the frame is sent
 * again at once on a new connection and stored, not dropped. */
GST_START_TEST (test_connection_closed_before_reply_resends)
{
  GstBus *bus;
  GstHarness *h = sink_with_bus ("stream=cam", &bus);
  GstElement *sink = redis_test_harness_element (h, "redisstreamsink");
  PushJob job = { h, 1 };
  GThread *thread;
  long long killed;
  redisReply *r;

  fail_unless_equals_int (gst_harness_push (h, redis_test_numbered (0)),
      GST_FLOW_OK);
  r = redis_server_command (server, "CLIENT PAUSE 30000 WRITE");
  freeReplyObject (r);
  thread = g_thread_new ("push", push_thread, &job);
  killed = wait_paused_client (server, -1);
  fail_unless_equals_int (redis_server_integer (server, "CLIENT KILL ID %lld",
          killed), 1);
  /* the frame again, on a new connection */
  wait_paused_client (server, killed);
  r = redis_server_command (server, "CLIENT UNPAUSE");
  freeReplyObject (r);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      GST_FLOW_OK);

  check_each_seq_once (server, "cam", 2);
  fail_unless_equals_uint64 (redis_test_get_stat (sink,
          "dropped-disconnected"), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (sink, "reconnects"), 1);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          NULL), 0);
  sink_with_bus_teardown (h, bus);
}

GST_END_TEST;

/* A processing stage whose output Redis stays away longer than
 * reconnect-timeout: an error naming the server, and the frame the sink
 * held is still pending on the input stream (another worker, or this one
 * restarted, gets it). */
GST_START_TEST (test_chain_output_outage_too_long_is_an_error)
{
  RedisServer *in = redis_server_start ();
  RedisServer *out = redis_server_start ();
  GstElement *pipeline, *src;
  GstMessage *msg;
  GError *err = NULL;
  gchar *desc;
  GstBus *bus;

  produce (in, "in", 0, 5, FALSE);
  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=in "
      "group=g start-id=0 ! redisstreamsink port=%u stream=out "
      "reconnect-timeout=500", in->port, out->port);
  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  wait_pushed_and_acked (src, in, 5);

  redis_server_kill (out, SIGKILL);
  produce (in, "in", 5, 10, FALSE);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ERROR);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_WRITE,
      "Gave up reconnecting after 500 ms");
  gst_message_unref (msg);
  fail_unless (pending_count (in, "in", "g") >= 1);

  gst_object_unref (src);
  chain_stop (pipeline, bus);
  redis_server_stop (in);
  redis_server_stop (out);
}

GST_END_TEST;

/* A sink waiting for its Redis stops at once when the pipeline stops; the
 * frame it held is not acknowledged. */
GST_START_TEST (test_waiting_sink_is_interruptible)
{
  RedisServer *in = redis_server_start ();
  RedisServer *out = redis_server_start ();
  GstElement *pipeline, *src;
  GstBus *bus;
  gint64 t0;

  produce (in, "in", 0, 3, FALSE);
  pipeline = chain_start (in, out, "", &bus);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  wait_pushed_and_acked (src, in, 3);
  redis_server_kill (out, SIGKILL);
  produce (in, "in", 3, 6, FALSE);
  test_wait_until (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          "held back until they are stored") > 0, 30000,
      "the warning that frames are held back");

  t0 = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  /* well within the 30 s reconnect-timeout */
  fail_unless (g_get_monotonic_time () - t0 < 5 * G_TIME_SPAN_SECOND);
  fail_unless (pending_count (in, "in", "g") >= 1);

  gst_object_unref (src);
  chain_stop (pipeline, bus);
  redis_server_stop (in);
  redis_server_stop (out);
}

GST_END_TEST;

/* MEMORY USAGE of @stream, every node counted. */
static long long
stream_memory (const gchar * stream)
{
  return redis_server_integer (server, "MEMORY USAGE %s SAMPLES 0", stream);
}

static void
push_frames (GstHarness * h, gint width, gint height, gint count)
{
  GstVideoInfo info;
  GstBuffer *frame;
  gchar *caps;
  gint i;

  caps = g_strdup_printf ("video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=30/1", width, height);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, width, height);
  frame = redis_test_make_frame (&info, width, TRUE);
  for (i = 0; i < count; i++)
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_copy (frame)),
        GST_FLOW_OK);
  gst_buffer_unref (frame);
}

/* Pushes @count frames of @width x @height into a sink with a budget of
 * @budget bytes and checks the stream: under the budget, and holding
 * between @lo and @hi entries (the budget is used, not only respected). */
static void
check_budget (GstHarness * h, const gchar * stream, long long budget,
    gint width, gint height, gint count, long long lo, long long hi)
{
  long long mem, len;

  push_frames (h, width, height, count);
  mem = stream_memory (stream);
  len = redis_server_integer (server, "XLEN %s", stream);
  GST_INFO ("%dx%d: %lld entries, %lld bytes", width, height, len, mem);
  fail_unless (mem <= budget, "%lld bytes over a budget of %lld", mem, budget);
  fail_unless (len >= lo && len <= hi, "XLEN %lld at %dx%d", len, width,
      height);
}

/* max-bytes keeps the stream's memory under the budget whatever the frame
 * size, and uses the budget: a caps change to bigger or smaller frames
 * changes how many entries are kept. */
GST_START_TEST (test_max_bytes_bounds_memory_across_sizes)
{
  const long long budget = 4 * 1024 * 1024;
  GstHarness *h = redis_test_sink_harness (server, "stream=sized "
      "compression=none max-bytes=4194304", I420_320);

  /* 115200-byte frames take 128 KiB each in Redis's allocator: 31 fit */
  check_budget (h, "sized", budget, 320, 240, 100, 30, 32);
  /* 460800 bytes: 512 KiB each, 7 fit */
  check_budget (h, "sized", budget, 640, 480, 30, 7, 8);
  /* 28800 bytes: 32 KiB each, 126 fit */
  check_budget (h, "sized", budget, 160, 120, 300, 120, 128);
  fail_unless (redis_test_get_stat (gst_harness_find_element (h,
              "redisstreamsink"), "retained-bytes") <= (guint64) budget);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Small entries (audio packets, detections) share Redis's 4 KiB stream
 * nodes: max-bytes keeps them under the budget and uses it, in both
 * versions of the format, instead of counting each as a node of its own
 * (which used a quarter of the budget for Opus packets). */
GST_START_TEST (test_max_bytes_small_entries_share_nodes)
{
  const long long budget = 256 * 1024;
  const gchar *formats[] = { "1", "2" };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *props = g_strdup_printf ("stream=small-%s compression=none "
        "maxlen=0 max-bytes=262144 wire-format=%s", formats[f], formats[f]);
    gchar *stream = g_strdup_printf ("small-%s", formats[f]);
    GstHarness *h = redis_test_sink_harness (server, props, I420_320);
    long long mem, len;

    /* 16x10 GRAY8: 160-byte frames, thousands in the budget */
    gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=16,"
        "height=10,framerate=30/1");
    {
      GstVideoInfo info;
      GstBuffer *frame;
      gint i;

      gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 16, 10);
      frame = redis_test_make_frame (&info, 1, TRUE);
      for (i = 0; i < 4000; i++)
        fail_unless_equals_int (gst_harness_push (h, gst_buffer_copy (frame)),
            GST_FLOW_OK);
      gst_buffer_unref (frame);
    }
    mem = stream_memory (stream);
    len = redis_server_integer (server, "XLEN %s", stream);
    GST_INFO ("wire-format=%s: %lld entries, %lld bytes", formats[f], len, mem);
    fail_unless (mem <= budget, "wire-format=%s: %lld bytes over a budget of "
        "%lld", formats[f], mem, budget);
    fail_unless (mem >= budget * 6 / 10, "wire-format=%s: %lld bytes of a "
        "budget of %lld (%lld entries)", formats[f], mem, budget, len);
    gst_harness_teardown (h);
    g_free (stream);
    g_free (props);
  }
}

GST_END_TEST;

/* With default properties a raw 1080p stream stays within the default
 * budget (64 MiB, 21 frames) instead of maxlen's 1000 frames (3 GB). */
GST_START_TEST (test_max_bytes_default_bounds_1080p)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=hd", I420_320);

  /* 3110400 bytes: 3 MiB each, 21 fit */
  check_budget (h, "hd", 64 * 1024 * 1024, 1920, 1080, 60, 19, 22);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* With retention (MINID) the byte budget still holds, in the same XADD. */
GST_START_TEST (test_max_bytes_with_retention)
{
  const long long budget = 2 * 1024 * 1024;
  GstHarness *h = redis_test_sink_harness (server, "stream=timed "
      "compression=none retention=60000 max-bytes=2097152", I420_320);

  check_budget (h, "timed", budget, 320, 240, 60, 14, 16);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Entries an earlier run left in the stream count against the budget from
 * the first frame. */
GST_START_TEST (test_max_bytes_counts_older_entries)
{
  const long long budget = 1024 * 1024;
  GstHarness *h = redis_test_sink_harness (server, "stream=old "
      "compression=none max-bytes=0 maxlen=0", I420_320);
  long long mem;

  push_frames (h, 320, 240, 40);
  gst_harness_teardown (h);
  fail_unless (stream_memory ("old") > 4 * budget);

  h = redis_test_sink_harness (server, "stream=old compression=none "
      "max-bytes=1048576", I420_320);
  push_frames (h, 320, 240, 1);
  mem = stream_memory ("old");
  fail_unless (mem <= budget, "%lld bytes over a budget of %lld", mem, budget);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* wire-format=1: the caps in every entry, encoding and size always, and
 * nothing in <stream>:info, for readers older than version 2. */
GST_START_TEST (test_wire_format_1_writes_caps_in_every_entry)
{
  GstHarness *h = redis_test_sink_harness (server,
      "stream=old compression=none wire-format=1", I420_320);
  GstVideoInfo info;
  redisReply *r;
  guint i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
                i, TRUE)), GST_FLOW_OK);
  r = redis_server_command (server, "XRANGE old - +");
  fail_unless_equals_int (r->elements, 3);
  for (i = 0; i < 3; i++) {
    redisReply *e = r->element[i];

    fail_unless_equals_string (entry_field (e, "v")->str, "1");
    fail_unless (g_str_has_prefix (entry_field (e, "caps")->str,
            "video/x-raw, format=(string)I420"));
    fail_unless_equals_string (entry_field (e, "encoding")->str, "none");
    fail_unless_equals_string (entry_field (e, "size")->str, "115200");
  }
  freeReplyObject (r);
  fail_unless_equals_int (redis_server_count_fields (server, "old:info",
          "caps:"), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Version 2: each caps string is stored once in <stream>:info, before the
 * first entry that refers to it, also when the caps change and change
 * back; a second sink with the same caps finds them there. */
GST_START_TEST (test_caps_stored_once_per_id)
{
  const gchar *gray = "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=30/1";
  GstHarness *h = redis_test_sink_harness (server, "stream=cc", I420_320);
  GstHarness *h2;
  GstVideoInfo i420, gray8;
  redisReply *r;
  gchar *caps[3], *ids[3];
  long long hget;
  guint i;

  freeReplyObject (redis_server_command (server, "CONFIG RESETSTAT"));
  gst_video_info_set_format (&i420, GST_VIDEO_FORMAT_I420, 320, 240);
  gst_video_info_set_format (&gray8, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  for (i = 0; i < 15; i++) {
    if (i == 5)
      gst_harness_set_src_caps_str (h, gray);
    if (i == 10)
      gst_harness_set_src_caps_str (h, I420_320);
    fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (i / 5
                == 1 ? &gray8 : &i420, i, TRUE)), GST_FLOW_OK);
  }
  /* two caps strings, two fields, stored once each */
  fail_unless_equals_int (redis_server_count_fields (server, "cc:info",
          "caps:"), 2);
  fail_unless_equals_int (redis_server_command_calls (server, "hsetnx"), 2);
  fail_unless_equals_int (redis_server_command_calls (server, "xadd"), 15);

  r = redis_server_command (server, "XRANGE cc - +");
  fail_unless_equals_int (r->elements, 15);
  for (i = 0; i < 3; i++) {
    caps[i] = entry_caps ("cc", r->element[i * 5]);
    ids[i] = redis_test_caps_id (caps[i]);
    fail_unless_equals_string (entry_field (r->element[i * 5 + 4],
            "caps")->str, ids[i]);
    fail_unless_equals_string (entry_field (r->element[i * 5], "v")->str, "2");
  }
  fail_unless (g_str_has_prefix (caps[0], "video/x-raw, format=(string)I420"));
  fail_unless (g_str_has_prefix (caps[1], "video/x-raw, format=(string)GRAY8"));
  fail_unless_equals_string (caps[2], caps[0]);
  freeReplyObject (r);

  /* a second sink: HSETNX finds the field, HGET shows it is the same */
  hget = redis_server_command_calls (server, "hget");
  h2 = redis_test_sink_harness (server, "stream=cc", gray);
  fail_unless_equals_int (gst_harness_push (h2, redis_test_make_frame (&gray8,
              1, TRUE)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_command_calls (server, "hsetnx"), 3);
  fail_unless_equals_int (redis_server_command_calls (server, "hget"),
      hget + 1);
  fail_unless_equals_int (redis_server_count_fields (server, "cc:info",
          "caps:"), 2);
  r = redis_server_command (server, "XREVRANGE cc + - COUNT 1");
  fail_unless_equals_string (entry_field (r->element[0], "caps")->str, ids[1]);
  fail_unless_equals_string (entry_field (r->element[0], "v")->str, "2");
  freeReplyObject (r);

  for (i = 0; i < 3; i++) {
    g_free (caps[i]);
    g_free (ids[i]);
  }
  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The hash holds other caps under the id of ours (two caps strings with
 * one id): the sink warns and writes its caps into every entry, as
 * version 1 entries, and leaves the hash alone. */
GST_START_TEST (test_caps_id_taken_writes_caps_inline)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstVideoInfo info;
  GstMessage *msg;
  redisReply *r;
  gchar *id, *caps;

  /* the caps string the sink writes for I420_320 */
  h = redis_test_sink_harness (server, "stream=probe", I420_320);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  gst_harness_push (h, redis_test_make_frame (&info, 0, TRUE));
  r = redis_server_command (server, "XRANGE probe - +");
  caps = entry_caps ("probe", r->element[0]);
  id = redis_test_caps_id (caps);
  freeReplyObject (r);
  gst_harness_teardown (h);

  freeReplyObject (redis_server_command (server,
          "HSET taken:info caps:%s text/x-other", id));
  h = redis_test_sink_harness (server, "stream=taken", I420_320);
  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
              1, TRUE)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
              2, TRUE)), GST_FLOW_OK);
  r = redis_server_command (server, "XRANGE taken - +");
  fail_unless_equals_int (r->elements, 2);
  fail_unless_equals_string (entry_field (r->element[0], "v")->str, "1");
  fail_unless_equals_string (entry_field (r->element[1], "v")->str, "1");
  fail_unless_equals_string (entry_field (r->element[1], "caps")->str, caps);
  freeReplyObject (r);
  r = redis_server_command (server, "HGET taken:info caps:%s", id);
  fail_unless_equals_string (r->str, "text/x-other");
  freeReplyObject (r);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  {
    GError *err = NULL;

    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "stands for other caps") != NULL,
        "%s", err->message);
    g_clear_error (&err);
  }
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (caps);
  g_free (id);
}

GST_END_TEST;

/* A new connection stores the caps again before the next entry: what a
 * restarted server lost (here: the hash deleted, the connection killed). */
GST_START_TEST (test_caps_stored_again_on_a_new_connection)
{
  GstHarness *h = redis_test_sink_harness (server, "stream=again", I420_320);
  GstVideoInfo info;
  redisReply *r;
  gchar *caps;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
              0, TRUE)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_count_fields (server, "again:info",
          "caps:"), 1);
  freeReplyObject (redis_server_command (server, "DEL again:info"));
  freeReplyObject (redis_server_command (server,
          "CLIENT KILL TYPE normal SKIPME yes"));
  fail_unless_equals_int (gst_harness_push (h, redis_test_make_frame (&info,
              1, TRUE)), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (server, "XLEN again"), 2);
  r = redis_server_command (server, "XREVRANGE again + - COUNT 1");
  caps = entry_caps ("again", r->element[0]);
  fail_unless (g_str_has_prefix (caps, "video/x-raw"));
  g_free (caps);
  freeReplyObject (r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A user that may add entries but not store caps in <stream>:info: an
 * error that says so, not entries no reader can read. */
GST_START_TEST (test_acl_without_info_rights_is_not_authorized)
{
  GstElement *pipeline;
  GstMessage *msg;

  freeReplyObject (redis_server_command (server,
          "ACL SETUSER cam on >campw ~cam:* +xadd +ping"));
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
      "redisstreamsink port=%u username=cam password=campw stream=cam:1",
      server->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "cam:1:info");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  fail_unless_equals_int (redis_server_integer (server, "EXISTS cam:1"), 0);

  /* with them, as docs/security.md's recipe gives them */
  freeReplyObject (redis_server_command (server,
          "ACL SETUSER cam +hsetnx +hget"));
  msg = redis_test_launch_until_error (&pipeline, 3000,
      "videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
      "redisstreamsink port=%u username=cam password=campw stream=cam:1",
      server->port);
  fail_unless (msg == NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  fail_unless_equals_int (redis_server_integer (server, "XLEN cam:1"), 2);
}

GST_END_TEST;

static Suite *
redisstreamsink_suite (void)
{
  Suite *s = suite_create ("redisstreamsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_one_entry_per_buffer);
  tcase_add_test (tc, test_wire_format_1_writes_caps_in_every_entry);
  tcase_add_test (tc, test_caps_stored_once_per_id);
  tcase_add_test (tc, test_caps_id_taken_writes_caps_inline);
  tcase_add_test (tc, test_caps_stored_again_on_a_new_connection);
  tcase_add_test (tc, test_acl_without_info_rights_is_not_authorized);
  tcase_add_test (tc, test_lz4_entries_decode_with_any_lz4_frame_reader);
  tcase_add_test (tc, test_auto_compression_skips_compressed_caps);
  tcase_add_test (tc, test_auto_compression_adapts_to_content);
  tcase_add_test (tc, test_auto_compression_tries_a_piece_of_large_frames);
  tcase_add_test (tc, test_maxlen_keeps_stream_bounded);
  tcase_add_test (tc, test_retention_trims_by_age);
  tcase_add_test (tc, test_maxlen_zero_keeps_everything);
  tcase_add_test (tc, test_max_bytes_bounds_memory_across_sizes);
  tcase_add_test (tc, test_max_bytes_small_entries_share_nodes);
  tcase_add_test (tc, test_max_bytes_default_bounds_1080p);
  tcase_add_test (tc, test_max_bytes_with_retention);
  tcase_add_test (tc, test_max_bytes_counts_older_entries);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_unix_socket);
  tcase_add_test (tc, test_db_select);
  tcase_add_test (tc, test_unreachable_server_is_an_error);
  tcase_add_test (tc, test_wrong_password_is_not_authorized);
  tcase_add_test (tc, test_acl_user);
  tcase_add_test (tc, test_invalid_settings);
  tcase_add_test (tc, test_port_out_of_range_is_an_error);
  tcase_add_test (tc, test_server_death_is_an_error_not_sigpipe);
  tcase_add_test (tc, test_gst_inspect_describes_every_property);
  tcase_add_test (tc, test_restart_drop_policy);
  tcase_add_test (tc, test_restart_buffer_policy_loses_nothing);
  tcase_add_test (tc, test_buffer_policy_is_bounded);
  tcase_add_test (tc, test_outage_longer_than_limit_is_an_error);
  tcase_add_test (tc, test_network_cut_detected_by_timeout);
  tcase_add_test (tc, test_messages_carry_server_stream_and_place);
  tcase_add_test (tc, test_camera_idle_timeout_loses_nothing);
  tcase_add_test (tc, test_camera_client_kill_loses_nothing);
  tcase_add_test (tc, test_camera_restart_while_idle_loses_nothing);
  tcase_add_test (tc, test_chain_idle_timeout_loses_nothing);
  tcase_add_test (tc, test_chain_client_kill_loses_nothing);
  tcase_add_test (tc, test_chain_restart_loses_nothing);
  tcase_add_test (tc, test_chain_output_outage_waits);
  tcase_add_test (tc, test_chain_output_outage_waits_through_elements);
  tcase_add_test (tc, test_chain_output_outage_waits_behind_queue);
  tcase_add_test (tc, test_chain_output_outage_too_long_is_an_error);
  tcase_add_test (tc, test_waiting_sink_is_interruptible);
  tcase_add_test (tc, test_connection_closed_before_reply_resends);
  tcase_add_test (tc, test_stats_connected_as_of_last_command);
  return s;
}

GST_CHECK_MAIN (redisstreamsink);
