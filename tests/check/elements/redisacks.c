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

/* Acknowledgements against a real redis-server: the entry meta and its
 * ticket, what a flush leaves pending, dead letters (failed, refused,
 * delivered too often; version 2 entries with their caps), replaying
 * them, exactly-once and the
 * configurations it refuses. The fault matrix with real processes is
 * tests/reliability/fault_matrix.py. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

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

static GstHarness *
src_harness (const gchar * props)
{
  GstHarness *h = redis_test_harness_new ("redisstreamsrc port=%u group=g "
      "consumer=c %s", server->port, props);

  gst_harness_play (h);
  return h;
}

static void
create_group (const gchar * stream)
{
  freeReplyObject (redis_server_command (server,
          "XGROUP CREATE %s g $ MKSTREAM", stream));
}

/* Adds entries @first .. @last - 1 (seq) of application/x-test to @stream. */
static void
add_entries (const gchar * stream, guint first, guint last)
{
  guint i;

  for (i = first; i < last; i++)
    freeReplyObject (redis_server_command (server,
            "XADD %s * v 1 caps application/x-test seq %u data x%u", stream,
            i, i));
}

static long long
pending_count (const gchar * stream)
{
  redisReply *r = redis_server_command (server, "XPENDING %s g", stream);
  long long n = r->type == REDIS_REPLY_ARRAY ? r->element[0]->integer : -1;

  freeReplyObject (r);
  return n;
}

/* The entry meta of @b: its structure (NULL when there is none). */
static const GstStructure *
entry_meta (GstBuffer * b)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (b, "GstRedisEntryMeta");

  return meta ? gst_custom_meta_get_structure (meta) : NULL;
}

static GObject *
entry_ticket (GstBuffer * b)
{
  const GstStructure *s = entry_meta (b);
  const GValue *v;

  fail_unless (s != NULL, "no GstRedisEntryMeta");
  v = gst_structure_get_value (s, "ticket");
  fail_unless (v != NULL && G_VALUE_HOLDS_OBJECT (v));
  return g_value_get_object (v);
}

/* The value of @field of the only entry of @stream. */
static gchar *
only_entry_field (const gchar * stream, const gchar * field)
{
  redisReply *r = redis_server_command (server, "XRANGE %s - +", stream);
  gchar *value = NULL;
  gsize i;

  fail_unless_equals_int (r->elements, 1);
  for (i = 0; i + 1 < r->element[0]->element[1]->elements; i += 2) {
    redisReply *f = r->element[0]->element[1];

    if (g_str_equal (f->element[i]->str, field))
      value = g_strdup (f->element[i + 1]->str);
  }
  freeReplyObject (r);
  return value;
}

/* Every buffer carries the entry meta: stream, group, id and a ticket;
 * copies share the ticket, and the entry is acknowledged once the last
 * buffer carrying it is gone, not before. */
GST_START_TEST (test_entry_acknowledged_when_its_last_buffer_goes)
{
  GstHarness *src;
  GstBuffer *b, *copy;
  const GstStructure *s;

  create_group ("a");
  src = src_harness ("stream=a");
  add_entries ("a", 0, 1);
  b = gst_harness_pull (src);
  s = entry_meta (b);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "stream"), "a");
  fail_unless_equals_string (gst_structure_get_string (s, "group"), "g");
  fail_unless (gst_structure_get_string (s, "id") != NULL);
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (entry_ticket (b)),
      "GstRedisTicket");

  copy = gst_buffer_copy (b);
  fail_unless (entry_ticket (copy) == entry_ticket (b));
  gst_buffer_unref (b);
  /* not a poll: the copy keeps it pending however long the source waits
   * (its reads block 100 ms at most while a frame is in flight) */
  g_usleep (400 * 1000);
  fail_unless_equals_int (pending_count ("a"), 1);
  gst_buffer_unref (copy);
  test_wait_until (pending_count ("a") == 0, 5000, "the entry acknowledged");
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (src, "redisstreamsrc"), "acked-released"), 1);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* A flush from the source drops the frame on its way: its entry is not
 * acknowledged but read again and pushed again (the bug: acknowledged
 * because the flow return after FLUSH_STOP is OK). */
GST_START_TEST (test_flush_leaves_entry_pending_done)
{
  GstHarness *src;
  GstBuffer *b;
  GstElement *e;
  guint64 seq;

  create_group ("f");
  src = src_harness ("stream=f");
  e = redis_test_harness_element (src, "redisstreamsrc");
  add_entries ("f", 0, 1);
  b = gst_harness_pull (src);
  seq = GST_BUFFER_OFFSET (b);
  fail_unless (gst_element_send_event (e, gst_event_new_flush_start ()));
  gst_buffer_unref (b);
  fail_unless (gst_element_send_event (e, gst_event_new_flush_stop (TRUE)));

  /* the same entry comes again */
  b = gst_harness_pull (src);
  fail_unless (b != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), seq);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "abandoned"), 1);
  gst_buffer_unref (b);
  add_entries ("f", 1, 2);
  gst_buffer_unref (gst_harness_pull (src));
  test_wait_until (pending_count ("f") == 0, 5000,
      "acknowledged after the flush (%lld pending)", pending_count ("f"));
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Holds the first buffer that reaches the harness until a flush. */
static GstPadProbeReturn
block_push (GstPad * pad, GstPadProbeInfo * info, gpointer blocked)
{
  g_atomic_int_set ((gint *) blocked, 1);
  return GST_PAD_PROBE_OK;
}

/* ack-mode=pushed: a flush that comes during the push (downstream still
 * holds it: the push comes back FLUSHING) leaves the entry pending, and
 * it is pushed again after the flush, though FLUSH_STOP resets the pad's
 * flow return to OK. */
GST_START_TEST (test_flush_leaves_entry_pending_pushed)
{
  GstHarness *src;
  GstBuffer *b;
  GstElement *e;
  gint blocked = 0;
  gulong probe;

  create_group ("f");
  src = src_harness ("stream=f ack-mode=pushed");
  e = redis_test_harness_element (src, "redisstreamsrc");
  probe = gst_pad_add_probe (src->sinkpad, GST_PAD_PROBE_TYPE_BLOCK |
      GST_PAD_PROBE_TYPE_BUFFER, block_push, &blocked, NULL);
  add_entries ("f", 0, 1);
  test_wait_until (g_atomic_int_get (&blocked), 5000, "the push under way");
  fail_unless_equals_int (pending_count ("f"), 1);
  fail_unless (gst_element_send_event (e, gst_event_new_flush_start ()));
  gst_pad_remove_probe (src->sinkpad, probe);
  fail_unless (gst_element_send_event (e, gst_event_new_flush_stop (TRUE)));

  /* the same entry comes again: nothing reached the harness before */
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
  gst_buffer_unref (b);
  add_entries ("f", 1, 2);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1);
  gst_buffer_unref (b);
  /* the second push returned: its entry waits for the next read only */
  test_wait_until (pending_count ("f") <= 1, 5000,
      "the first entry acknowledged (%lld pending)", pending_count ("f"));
  gst_harness_teardown (src);
}

GST_END_TEST;

/* ack-mode=pushed: an entry is acknowledged once its push returned OK; a
 * flush afterwards (the harness still holding the buffer, as a queue
 * would) does not bring it back. */
GST_START_TEST (test_pushed_entry_stays_acknowledged_after_flush)
{
  GstHarness *src;
  GstBuffer *b;
  GstElement *e;

  create_group ("f");
  src = src_harness ("stream=f ack-mode=pushed");
  e = redis_test_harness_element (src, "redisstreamsrc");
  add_entries ("f", 0, 1);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
  /* settled by the source's next read, behind the returned push */
  test_wait_until (pending_count ("f") == 0, 5000, "the entry acknowledged");
  fail_unless (gst_element_send_event (e, gst_event_new_flush_start ()));
  gst_buffer_unref (b);
  fail_unless (gst_element_send_event (e, gst_event_new_flush_stop (TRUE)));

  /* the source reads its own pending entries first: none */
  add_entries ("f", 1, 2);
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1);
  gst_buffer_unref (b);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* ack-mode=pushed: no meta, acknowledged once pushed. */
GST_START_TEST (test_pushed_mode_has_no_meta)
{
  GstHarness *src;
  GstBuffer *b;

  create_group ("p");
  src = src_harness ("stream=p ack-mode=pushed");
  add_entries ("p", 0, 2);
  b = gst_harness_pull (src);
  fail_unless (entry_meta (b) == NULL);
  gst_buffer_unref (b);
  gst_buffer_unref (gst_harness_pull (src));
  gst_harness_teardown (src);
}

GST_END_TEST;

/* An element or the application fails the ticket: the entry goes to the
 * dead-letter stream with its fields and the reason, is acknowledged, and
 * the source goes on; a source on the dead-letter stream plays it. */
GST_START_TEST (test_failed_entry_set_aside_and_replayed)
{
  GstHarness *src, *replay;
  GstBus *bus = gst_bus_new ();
  GstElement *e;
  GstBuffer *b;
  GstMessage *msg;
  gchar *id, *v;

  create_group ("d");
  src = src_harness ("stream=d");
  gst_element_set_bus (src->element, bus);
  add_entries ("d", 0, 2);
  b = gst_harness_pull (src);
  id = g_strdup (gst_structure_get_string (entry_meta (b), "id"));
  g_signal_emit_by_name (entry_ticket (b), "fail", "the model gave up");
  gst_buffer_unref (b);
  gst_buffer_unref (gst_harness_pull (src));

  test_wait_until (redis_server_integer (server, "XLEN d:dead-letter") == 1,
      5000, "a dead letter");
  test_wait_until (pending_count ("d") == 0, 5000, "nothing pending");
  v = only_entry_field ("d:dead-letter", "dead-letter-reason");
  fail_unless_equals_string (v, "the model gave up");
  g_free (v);
  v = only_entry_field ("d:dead-letter", "dead-letter-id");
  fail_unless_equals_string (v, id);
  g_free (v);
  v = only_entry_field ("d:dead-letter", "dead-letter-consumer");
  fail_unless_equals_string (v, "c");
  g_free (v);
  v = only_entry_field ("d:dead-letter", "seq");
  fail_unless_equals_string (v, "0");
  g_free (v);
  msg = redis_test_wait_message (bus, GST_MESSAGE_WARNING,
      "aside in \"d:dead-letter\"", 5000);
  gst_message_unref (msg);
  e = redis_test_harness_element (src, "redisstreamsrc");
  fail_unless_equals_uint64 (redis_test_get_stat (e, "failed"), 1);
  fail_unless_equals_uint64 (redis_test_get_stat (e, "dead-lettered"), 1);

  replay = redis_test_harness_new ("redisstreamsrc port=%u "
      "stream=d:dead-letter group=replay start-id=0", server->port);
  gst_harness_play (replay);
  b = gst_harness_pull (replay);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (replay, "redisstreamsrc"), "skipped-invalid"), 0);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (replay);
  gst_harness_teardown (src);
  g_free (id);
}

GST_END_TEST;

/* An entry delivered max-deliveries times without being acknowledged (a
 * worker that crashed on it each time) is set aside instead of pushed, and
 * the entries behind it are read. */
GST_START_TEST (test_entry_delivered_too_often_set_aside)
{
  GstHarness *src;
  GstBuffer *b;
  gchar *v;
  gint i;

  create_group ("m");
  add_entries ("m", 0, 2);
  freeReplyObject (redis_server_command (server,
          "XREADGROUP GROUP g c COUNT 1 STREAMS m >"));
  for (i = 0; i < 2; i++)
    freeReplyObject (redis_server_command (server,
            "XREADGROUP GROUP g c COUNT 1 STREAMS m 0"));

  src = src_harness ("stream=m max-deliveries=3");
  b = gst_harness_pull (src);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 1);
  gst_buffer_unref (b);
  test_wait_until (redis_server_integer (server, "XLEN m:dead-letter") == 1,
      5000, "a dead letter");
  v = only_entry_field ("m:dead-letter", "dead-letter-deliveries");
  fail_unless_equals_string (v, "3");
  g_free (v);
  v = only_entry_field ("m:dead-letter", "dead-letter-reason");
  fail_unless (g_str_has_prefix (v, "delivered 3 times"), "%s", v);
  g_free (v);
  test_wait_until (pending_count ("m") == 0, 5000, "nothing pending");
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Below max-deliveries, and after re-reads the source makes itself (a
 * flush), the entry is pushed again. */
GST_START_TEST (test_own_rereads_do_not_count)
{
  GstHarness *src;
  GstElement *e;
  GstBuffer *b;
  gint i;

  create_group ("o");
  src = src_harness ("stream=o max-deliveries=2");
  e = redis_test_harness_element (src, "redisstreamsrc");
  add_entries ("o", 0, 1);
  for (i = 0; i < 4; i++) {
    b = gst_harness_pull (src);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), 0);
    fail_unless (gst_element_send_event (e, gst_event_new_flush_start ()));
    gst_buffer_unref (b);
    fail_unless (gst_element_send_event (e, gst_event_new_flush_stop (TRUE)));
  }
  gst_buffer_unref (gst_harness_pull (src));
  test_wait_until (pending_count ("o") == 0, 5000, "nothing pending");
  fail_unless_equals_int (redis_server_integer (server,
          "EXISTS o:dead-letter"), 0);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* Caps downstream refuses, once an entry went through: that entry is set
 * aside and the stream goes on (without: tests/check redisstreamsrc's
 * not-negotiated error for a pipeline that refuses every entry). */
GST_START_TEST (test_refused_caps_set_aside)
{
  GstElement *pipeline, *src;
  gchar *desc, *v;
  const gchar *good = "video/x-raw,format=GRAY8,width=4,height=2,"
      "framerate=30/1";
  gint i;

  create_group ("c");
  for (i = 0; i < 5; i++)
    freeReplyObject (redis_server_command (server,
            "XADD c * v 1 seq %d caps %s data 12345678", i,
            i == 2 ? "image/jpeg,width=4,height=2" : good));
  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=c group=g "
      "start-id=0 ! videoconvert ! fakesink enable-last-sample=false",
      server->port);
  pipeline = gst_parse_launch (desc, NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  /* all read, the one refused set aside, the pipeline still playing */
  test_wait_until (redis_test_get_stat (src, "frames") == 5 &&
      redis_server_integer (server, "XLEN c:dead-letter") == 1 &&
      pending_count ("c") == 0, 10000, "every entry read, one dead letter");
  v = only_entry_field ("c:dead-letter", "dead-letter-reason");
  fail_unless (g_str_has_prefix (v, "not-negotiated"), "%s", v);
  g_free (v);
  v = only_entry_field ("c:dead-letter", "seq");
  fail_unless_equals_string (v, "2");
  g_free (v);
  fail_unless_equals_int (GST_STATE (pipeline), GST_STATE_PLAYING);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* A sink that keeps its last sample (fakesink's default, the video sinks)
 * lets go of its last frame only as the pipeline goes down: it rendered
 * it, so it is acknowledged then and the consumer leaves its group. With a
 * redisstreamsink downstream (a tee's slower branch) that frame may still
 * have to be stored: it stays pending, as do the frames the stopping
 * branch did not store. No frame lost either way. */
GST_START_TEST (test_last_sample_acknowledged_at_stop)
{
  GstElement *pipeline, *src;
  redisReply *r;
  gchar *desc;
  long long stored;

  create_group ("l");
  add_entries ("l", 0, 3);
  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=l group=g "
      "consumer=c start-id=0 ! fakesink", server->port);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  test_wait_until (redis_test_get_stat (src, "frames") == 3 &&
      pending_count ("l") == 1, 10000, "3 read, the last one kept by the sink "
      "(%lld pending)", pending_count ("l"));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless_equals_int (pending_count ("l"), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (src, "acked-released"), 3);
  fail_unless_equals_uint64 (redis_test_get_stat (src, "abandoned"), 0);
  /* the consumer left its group */
  r = redis_server_command (server, "XINFO CONSUMERS l g");
  fail_unless (r->type == REDIS_REPLY_ARRAY && r->elements == 0);
  freeReplyObject (r);
  gst_object_unref (src);
  gst_object_unref (pipeline);

  create_group ("t");
  add_entries ("t", 0, 3);
  desc = g_strdup_printf ("redisstreamsrc name=src port=%u stream=t group=g "
      "consumer=c start-id=0 ! tee name=t ! queue ! fakesink "
      "t. ! queue ! identity sleep-time=1000000 ! redisstreamsink port=%u "
      "stream=t-out", server->port, server->port);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  test_wait_until (redis_test_get_stat (src, "frames") == 3 &&
      redis_server_integer (server, "XLEN t-out") >= 1, 10000,
      "3 read, the first stored");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  stored = redis_server_integer (server, "XLEN t-out");
  fail_unless (stored < 3, "the slow branch stored every frame: nothing to "
      "test");
  fail_unless_equals_int (pending_count ("t"), 3 - stored);
  fail_unless_equals_uint64 (redis_test_get_stat (src, "acked-released"), 0);
  gst_object_unref (src);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Writes @n frames of @caps into @stream with a real redisstreamsink with
 * default properties (version 2 entries), to EOS. */
static void
produce (const gchar * stream, const gchar * caps, guint n)
{
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;

  msg = redis_test_launch_until_error (&pipeline, 0, "videotestsrc "
      "num-buffers=%u ! %s ! redisstreamsink port=%u stream=%s", n, caps,
      server->port, stream);
  fail_unless (msg == NULL);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "the producer did not reach EOS");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* The value of @field of every entry of @stream, in order (NULL where an
 * entry has none). */
static GPtrArray *
entries_field (const gchar * stream, const gchar * field)
{
  redisReply *r = redis_server_command (server, "XRANGE %s - +", stream);
  GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
  gsize i, j;

  for (i = 0; i < r->elements; i++) {
    redisReply *f = r->element[i]->element[1];
    gchar *value = NULL;

    for (j = 0; j + 1 < f->elements; j += 2) {
      if (g_str_equal (f->element[j]->str, field))
        value = g_strdup (f->element[j + 1]->str);
    }
    g_ptr_array_add (values, value);
  }
  freeReplyObject (r);
  return values;
}

/* The caps of every buffer that reached a pad, as the pad had them. */
typedef struct
{
  GMutex lock;
  GPtrArray *caps;
} SeenCaps;

static GstPadProbeReturn
record_caps (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SeenCaps *seen = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);

  g_mutex_lock (&seen->lock);
  g_ptr_array_add (seen->caps, caps);
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

/* The caps buffer @i came with. */
static GstCaps *
seen_caps (SeenCaps * seen, guint i)
{
  GstCaps *caps = NULL;

  g_mutex_lock (&seen->lock);
  if (i < seen->caps->len && g_ptr_array_index (seen->caps, i))
    caps = gst_caps_ref (g_ptr_array_index (seen->caps, i));
  g_mutex_unlock (&seen->lock);
  return caps;
}

/* Version 2 entries, written by a real redisstreamsink with default
 * properties in two caps, set aside: their caps go along into the
 * dead-letter stream's hash under the same ids, and a source on the
 * dead-letter stream plays them with their own caps, as
 * docs/redisstreamsrc.md shows. */
GST_START_TEST (test_v2_dead_letters_keep_their_caps)
{
  const gchar *caps[] = {
    "video/x-raw,format=I420,width=64,height=48,framerate=30/1",
    "video/x-raw,format=GRAY8,width=32,height=24,framerate=30/1",
  };
  GstHarness *src, *replay;
  GPtrArray *versions, *ids, *notes;
  SeenCaps seen;
  GstBuffer *b;
  guint i;

  create_group ("cam");
  produce ("cam", caps[0], 2);
  produce ("cam", caps[1], 1);
  versions = entries_field ("cam", "v");
  ids = entries_field ("cam", "caps");
  fail_unless_equals_int (versions->len, 3);
  for (i = 0; i < 3; i++)
    fail_unless_equals_string (g_ptr_array_index (versions, i), "2");
  fail_unless_equals_int (redis_server_count_fields (server, "cam:info",
          "caps:"), 2);

  src = src_harness ("stream=cam");
  for (i = 0; i < 3; i++) {
    b = gst_harness_pull (src);
    g_signal_emit_by_name (entry_ticket (b), "fail", "the model gave up");
    gst_buffer_unref (b);
  }
  test_wait_until (redis_server_integer (server, "XLEN cam:dead-letter") == 3
      && pending_count ("cam") == 0, 10000, "three dead letters");
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (src, "redisstreamsrc"), "dead-lettered"), 3);

  /* copied verbatim, caps ids included, and the caps under those ids */
  fail_unless_equals_int (redis_server_count_fields (server,
          "cam:dead-letter:info", "caps:"), 2);
  for (i = 0; i < 3; i++) {
    const gchar *id = g_ptr_array_index (ids, i);
    redisReply *a = redis_server_command (server, "HGET cam:info caps:%s", id);
    redisReply *d = redis_server_command (server,
        "HGET cam:dead-letter:info caps:%s", id);

    fail_unless (a->type == REDIS_REPLY_STRING);
    fail_unless (d->type == REDIS_REPLY_STRING, "no caps:%s in the "
        "dead-letter stream's hash", id);
    fail_unless_equals_string (d->str, a->str);
    freeReplyObject (a);
    freeReplyObject (d);
  }
  g_ptr_array_unref (versions);
  versions = entries_field ("cam:dead-letter", "caps");
  notes = entries_field ("cam:dead-letter", "dead-letter-note");
  for (i = 0; i < 3; i++) {
    fail_unless_equals_string (g_ptr_array_index (versions, i),
        g_ptr_array_index (ids, i));
    fail_unless (g_ptr_array_index (notes, i) == NULL, "%s",
        (gchar *) g_ptr_array_index (notes, i));
  }

  /* played back as the docs say, each frame with its caps */
  replay = redis_test_harness_new ("redisstreamsrc port=%u "
      "stream=cam:dead-letter group=replay start-id=0", server->port);
  g_mutex_init (&seen.lock);
  seen.caps = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_caps_unref);
  gst_pad_add_probe (replay->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, record_caps,
      &seen, NULL);
  gst_harness_play (replay);
  for (i = 0; i < 3; i++) {
    GstCaps *want = gst_caps_from_string (caps[i < 2 ? 0 : 1]);
    GstCaps *got;
    GstVideoInfo vinfo;

    b = gst_harness_pull (replay);
    got = seen_caps (&seen, i);
    fail_unless (got != NULL, "frame %u came without caps", i);
    fail_unless (gst_caps_is_subset (got, want), "frame %u played as %"
        GST_PTR_FORMAT ", written as %s", i, got, caps[i < 2 ? 0 : 1]);
    fail_unless (gst_video_info_from_caps (&vinfo, got));
    fail_unless_equals_uint64 (gst_buffer_get_size (b), vinfo.size);
    gst_caps_unref (got);
    gst_caps_unref (want);
    gst_buffer_unref (b);
  }
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (replay, "redisstreamsrc"), "skipped-invalid"), 0);

  gst_harness_teardown (replay);
  gst_harness_teardown (src);
  g_ptr_array_unref (seen.caps);
  g_mutex_clear (&seen.lock);
  g_ptr_array_unref (notes);
  g_ptr_array_unref (versions);
  g_ptr_array_unref (ids);
}

GST_END_TEST;

/* A version 2 entry whose caps are gone from the stream's hash by the time
 * it is set aside (the hash was deleted): set aside all the same, with a
 * dead-letter-note and a warning that say so. */
GST_START_TEST (test_v2_dead_letter_without_its_caps)
{
  GstHarness *src;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstBuffer *b;
  gchar *v;

  create_group ("cam");
  produce ("cam", "video/x-raw,format=GRAY8,width=32,height=24,"
      "framerate=30/1", 1);
  src = src_harness ("stream=cam");
  gst_element_set_bus (src->element, bus);
  b = gst_harness_pull (src);
  freeReplyObject (redis_server_command (server, "DEL cam:info"));
  g_signal_emit_by_name (entry_ticket (b), "fail", "the model gave up");
  gst_buffer_unref (b);

  test_wait_until (redis_server_integer (server, "XLEN cam:dead-letter") == 1
      && pending_count ("cam") == 0, 10000, "a dead letter");
  v = only_entry_field ("cam:dead-letter", "dead-letter-note");
  fail_unless (v != NULL && strstr (v, "were not in \"cam:info\""), "%s", v);
  g_free (v);
  v = only_entry_field ("cam:dead-letter", "dead-letter-reason");
  fail_unless_equals_string (v, "the model gave up");
  g_free (v);
  fail_unless_equals_int (redis_server_integer (server,
          "EXISTS cam:dead-letter:info"), 0);
  msg = redis_test_wait_message (bus, GST_MESSAGE_WARNING,
      "Its caps could not be copied", 5000);
  gst_message_unref (msg);
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (src, "redisstreamsrc"), "dead-lettered"), 1);

  gst_element_set_bus (src->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (src);
}

GST_END_TEST;

/* exactly-once: a frame whose input entry was acknowledged already (a
 * resend, another worker) is not added; the others are added and
 * acknowledged by the script. */
GST_START_TEST (test_exactly_once_adds_each_input_once)
{
  GstHarness *src, *sink;
  GstBuffer *b;
  gchar *id;

  create_group ("e");
  src = src_harness ("stream=e");
  sink = redis_test_sink_harness (server, "stream=eo exactly-once=true "
      "maxlen=0", "application/x-test");
  add_entries ("e", 0, 2);

  b = gst_harness_pull (src);
  id = g_strdup (gst_structure_get_string (entry_meta (b), "id"));
  freeReplyObject (redis_server_command (server, "XACK e g %s", id));
  fail_unless_equals_int (gst_harness_push (sink, b), GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (server, "EXISTS eo"), 0);
  fail_unless_equals_uint64 (redis_test_get_stat (redis_test_harness_element
          (sink, "redisstreamsink"), "duplicates-suppressed"), 1);

  b = gst_harness_pull (src);
  fail_unless_equals_int (pending_count ("e"), 1);
  fail_unless_equals_int (gst_harness_push (sink, b), GST_FLOW_OK);
  /* acknowledged by the script itself, at once */
  fail_unless_equals_int (pending_count ("e"), 0);
  fail_unless_equals_int (redis_server_integer (server, "XLEN eo"), 1);
  gst_harness_teardown (sink);
  test_wait_until (redis_test_get_stat (redis_test_harness_element (src,
              "redisstreamsrc"), "acked-by-sink") == 2, 5000,
      "both tickets acked by the sink");
  gst_harness_teardown (src);
  g_free (id);
}

GST_END_TEST;

/* exactly-once with the input stream on another server: refused with an
 * error that says why and what to do. */
GST_START_TEST (test_exactly_once_refuses_two_servers)
{
  RedisServer *other = redis_server_start ();
  GstHarness *src, *sink;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  create_group ("x");
  src = src_harness ("stream=x");
  sink = redis_test_sink_harness (other, "stream=xo exactly-once=true",
      "application/x-test");
  gst_element_set_bus (sink->element, bus);
  add_entries ("x", 0, 1);
  fail_unless_equals_int (gst_harness_push (sink, gst_harness_pull (src)),
      GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_SETTINGS,
      "exactly-once needs the input stream \"x\" (group \"g\") on the Redis "
      "server of the output stream \"xo\"");
  gst_message_unref (msg);
  /* nothing stored, the input still pending */
  fail_unless_equals_int (redis_server_integer (other, "EXISTS xo"), 0);
  fail_unless_equals_int (pending_count ("x"), 1);
  gst_element_set_bus (sink->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  redis_server_stop (other);
}

GST_END_TEST;

/* exactly-once behind a source in ack-mode=pushed cannot be atomic. */
GST_START_TEST (test_exactly_once_refuses_pushed_mode)
{
  GstElement *pipeline;
  GstMessage *msg;

  create_group ("y");
  add_entries ("y", 0, 1);
  msg = redis_test_launch_until_error (&pipeline, 10000,
      "redisstreamsrc port=%u stream=y group=g start-id=0 ack-mode=pushed ! "
      "redisstreamsink port=%u stream=yo exactly-once=true", server->port,
      server->port);
  redis_test_check_error (msg, GST_RESOURCE_ERROR_SETTINGS, "ack-mode=done");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
redisacks_suite (void)
{
  Suite *s = suite_create ("redisacks");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_entry_acknowledged_when_its_last_buffer_goes);
  tcase_add_test (tc, test_flush_leaves_entry_pending_done);
  tcase_add_test (tc, test_flush_leaves_entry_pending_pushed);
  tcase_add_test (tc, test_pushed_entry_stays_acknowledged_after_flush);
  tcase_add_test (tc, test_pushed_mode_has_no_meta);
  tcase_add_test (tc, test_failed_entry_set_aside_and_replayed);
  tcase_add_test (tc, test_entry_delivered_too_often_set_aside);
  tcase_add_test (tc, test_own_rereads_do_not_count);
  tcase_add_test (tc, test_refused_caps_set_aside);
  tcase_add_test (tc, test_v2_dead_letters_keep_their_caps);
  tcase_add_test (tc, test_v2_dead_letter_without_its_caps);
  tcase_add_test (tc, test_exactly_once_adds_each_input_once);
  tcase_add_test (tc, test_exactly_once_refuses_two_servers);
  tcase_add_test (tc, test_exactly_once_refuses_pushed_mode);
  tcase_add_test (tc, test_last_sample_acknowledged_at_stop);
  return s;
}

GST_CHECK_MAIN (redisacks);
