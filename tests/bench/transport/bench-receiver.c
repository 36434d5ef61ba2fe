/* Receiver of the transport benchmark (see docs/performance.md).
 *
 *   redis    redisstreamsrc start-id=0 ! appsink (TLS with --tls-ca-file,
 *            its ack-mode with --ack-mode)
 *   tcp      tcpclientsrc ! gdpdepay ! appsink
 *   shm      shmsrc is-live=true ! appsink
 *   hiredis  plain hiredis: XACK of the previous entry pipelined with
 *            XREADGROUP COUNT 1 BLOCK 1000, no GStreamer
 *
 * For every frame: latency = receive time (CLOCK_REALTIME) - send time from
 * the frame's first 16 bytes; bytes 16.. must equal the pre-made frame's
 * (raw I420, or an encoded frame of --sizes-file, of its size);
 * for redis the restored capture-time meta must equal the send time. After
 * each frame the count received goes to the progress FIFO (the sender's
 * flow control). CPU of every process named in the pids file and of this
 * one is sampled from /proc/<pid>/stat when frame `warmup`+1 arrives and
 * when the last one does. Prints one JSON line. */
#include "bench-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <hiredis/hiredis.h>

static BenchRx rx;
static GMutex lock;
static GCond cond;
static int is_redis;
static GstCaps *unix_caps;

static GstFlowReturn
new_sample (GstAppSink * sink, gpointer user_data)
{
  uint64_t now = bench_now_real ();
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  GstMapInfo map;
  int64_t meta_time = -1;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (sample);
  if (is_redis) {
    GstReferenceTimestampMeta *m =
        gst_buffer_get_reference_timestamp_meta (buf, unix_caps);

    meta_time = m ? (int64_t) m->timestamp : -2;
  }
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_mutex_lock (&lock);
    if (bench_rx_frame (&rx, map.data, map.size, now, meta_time))
      g_cond_signal (&cond);
    g_mutex_unlock (&lock);
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* Waits until every frame came, or idle_timeout seconds pass without one. */
static int
wait_done (GstElement * pipeline, const BenchArgs * a)
{
  uint64_t last_count = 0;
  gint64 last_change = g_get_monotonic_time ();
  int failed = 0;

  g_mutex_lock (&lock);
  while (!rx.done) {
    g_cond_wait_until (&cond, &lock, g_get_monotonic_time () + 100000);
    if (rx.received != last_count) {
      last_count = rx.received;
      last_change = g_get_monotonic_time ();
    }
    g_mutex_unlock (&lock);
    failed = bench_check_bus (pipeline, "receiver");
    g_mutex_lock (&lock);
    /* An error after the last frame (a sender that already stopped, as
     * shmsrc reports it) is not a failure of this run. */
    if (rx.done)
      failed = 0;
    if (failed)
      break;
    if (g_get_monotonic_time () - last_change >
        (gint64) a->idle_timeout * G_USEC_PER_SEC) {
      fprintf (stderr, "receiver: no frame for %d s, %llu of %d received\n",
          a->idle_timeout, (unsigned long long) rx.received, a->count);
      break;
    }
  }
  g_mutex_unlock (&lock);
  return failed;
}

static redisReply *
entry_field (redisReply * fields, const char *name)
{
  size_t i;

  for (i = 0; i + 1 < fields->elements; i += 2)
    if (fields->element[i]->type == REDIS_REPLY_STRING
        && strcmp (fields->element[i]->str, name) == 0)
      return fields->element[i + 1];
  return NULL;
}

static int
run_hiredis (BenchArgs * a)
{
  struct timeval tv = { 5, 0 };
  redisContext *c = a->socket ? redisConnectUnixWithTimeout (a->socket, tv) :
      redisConnectWithTimeout (a->host, a->port, tv);
  redisReply *r;
  char *ack = NULL;
  int idle = 0;

  if (c == NULL || c->err) {
    fprintf (stderr, "hiredis: %s\n", c ? c->errstr : "no memory");
    return 1;
  }
  r = redisCommand (c, "XGROUP CREATE %s %s 0 MKSTREAM", a->stream, a->group);
  if (r == NULL) {
    fprintf (stderr, "XGROUP: %s\n", c->errstr);
    return 1;
  }
  freeReplyObject (r);
  bench_progress_write (rx.progress_fd, 0);

  while (!rx.done) {
    redisReply *entries, *entry, *data;
    uint64_t now;

    if (ack) {
      redisAppendCommand (c, "XACK %s %s %s", a->stream, a->group, ack);
    }
    redisAppendCommand (c, "XREADGROUP GROUP %s c COUNT 1 BLOCK 1000 "
        "STREAMS %s >", a->group, a->stream);
    if (ack) {
      if (redisGetReply (c, (void **) &r) != REDIS_OK) {
        fprintf (stderr, "XACK: %s\n", c->errstr);
        return 1;
      }
      freeReplyObject (r);
      free (ack);
      ack = NULL;
    }
    if (redisGetReply (c, (void **) &r) != REDIS_OK) {
      fprintf (stderr, "XREADGROUP: %s\n", c->errstr);
      return 1;
    }
    now = bench_now_real ();
    if (r->type == REDIS_REPLY_NIL) {
      freeReplyObject (r);
      if (rx.received > 0 && ++idle >= a->idle_timeout)
        break;
      if (rx.received == 0 && ++idle >= 3 * a->idle_timeout)
        break;
      continue;
    }
    idle = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
      fprintf (stderr, "unexpected XREADGROUP reply\n");
      return 1;
    }
    entries = r->element[0]->element[1];
    entry = entries->element[0];
    data = entry_field (entry->element[1], "data");
    ack = strdup (entry->element[0]->str);
    if (data)
      bench_rx_frame (&rx, (const uint8_t *) data->str, data->len, now, -1);
    else
      rx.bad++;
    freeReplyObject (r);
  }
  if (ack) {
    r = redisCommand (c, "XACK %s %s %s", a->stream, a->group, ack);
    if (r)
      freeReplyObject (r);
    free (ack);
  }
  redisFree (c);
  return 0;
}

int
main (int argc, char **argv)
{
  BenchArgs a;
  BenchFrames f;
  GstElement *pipeline, *sink;
  GError *err = NULL;
  gchar *desc;
  int failed = 0;

  bench_args_parse (&a, argc, argv);
  if (bench_frames_load (&f, a.frames_file, a.sizes_file, a.width, a.height,
          a.k) < 0)
    return 1;
  bench_rx_init (&rx, &a, &f);

  if (strcmp (a.transport, "hiredis") == 0) {
    failed = run_hiredis (&a);
    bench_rx_print (&rx, NULL);
    return failed;
  }

  gst_init (&argc, &argv);
  is_redis = strcmp (a.transport, "redis") == 0;
  unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  if (is_redis) {
    gchar *tls = bench_tls_props (&a);
    gchar *ack = a.ack_mode ? g_strdup_printf (" ack-mode=%s", a.ack_mode) :
        g_strdup ("");
    gchar *where = a.socket ?
        g_strdup_printf ("socket-path=%s%s", a.socket, ack) :
        g_strdup_printf ("host=%s port=%d%s%s", a.host, a.port, tls, ack);

    /* with defaults: group gst-redis, start-id $ (the group is created
     * before the sender starts: it waits for this receiver's first count) */
    if (a.defaults)
      desc = g_strdup_printf ("redisstreamsrc %s stream=%s ! appsink "
          "name=sink sync=false", where, a.stream);
    else
      desc = g_strdup_printf ("redisstreamsrc %s stream=%s group=%s "
          "consumer=c start-id=0 ! appsink name=sink sync=false", where,
          a.stream, a.group);
    g_free (where);
    g_free (tls);
    g_free (ack);
  } else if (strcmp (a.transport, "tcp") == 0) {
    desc = g_strdup_printf ("tcpclientsrc host=%s port=%d ! gdpdepay ! "
        "appsink name=sink sync=false", a.host, a.port);
  } else if (strcmp (a.transport, "shm") == 0) {
    desc = g_strdup_printf ("shmsrc socket-path=%s is-live=true ! "
        "appsink name=sink sync=false", a.shm_path);
  } else {
    fprintf (stderr, "unknown transport %s\n", a.transport);
    return 2;
  }
  pipeline = gst_parse_launch (desc, &err);
  if (pipeline == NULL) {
    fprintf (stderr, "%s: %s\n", desc, err->message);
    return 1;
  }
  g_free (desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  {
    GstAppSinkCallbacks cb;

    memset (&cb, 0, sizeof (cb));
    cb.new_sample = new_sample;
    gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, NULL, NULL);
  }
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    bench_check_bus (pipeline, "receiver");
    fprintf (stderr, "receiver pipeline does not start\n");
    return 1;
  }
  /* The sources connect (and redisstreamsrc creates its group) in start (),
   * done when set_state () returns; tcpclientsrc is not live, so the
   * pipeline prerolls only once frames come: do not wait for it. */
  failed = bench_check_bus (pipeline, "receiver");
  if (!failed) {
    bench_progress_write (rx.progress_fd, 0);
    failed = wait_done (pipeline, &a);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_mutex_lock (&lock);
  bench_rx_print (&rx, NULL);
  g_mutex_unlock (&lock);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return failed;
}
