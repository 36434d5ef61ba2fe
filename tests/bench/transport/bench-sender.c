/* Sender of the transport benchmark (see docs/performance.md).
 *
 * Pushes pre-made frames (bench-frames) through one transport:
 *   redis    appsrc ! redisstreamsink (compression, host/port or socket,
 *            TLS with --tls-ca-file)
 *   tcp      appsrc ! gdppay ! tcpserversink
 *   shm      appsrc ! shmsink wait-for-connection=true
 *   hiredis  plain hiredis XADD of the raw frame, no GStreamer
 * mode live: frame i leaves at t0 + i/fps (clock_nanosleep TIMER_ABSTIME on
 * CLOCK_MONOTONIC); mode closed: as fast as possible with at most `window`
 * frames sent but not yet received (the receiver writes its count of
 * received frames to the progress FIFO).
 *
 * The frames are raw I420, or encoded frames (--sizes-file): H.264 access
 * units, or JPEG pictures with --codec jpeg; those are sent as they are,
 * with caps video/x-h264 or image/jpeg and no delta flag (nothing decodes
 * them).
 *
 * Before a frame leaves, its first 16 bytes get the send time
 * (CLOCK_REALTIME ns) and the frame number; for redis the same time also
 * goes into a GstReferenceTimestampMeta (timestamp/x-unix), which
 * redisstreamsink writes as the entry's capture-time. The frames are not
 * copied: each buffer wraps the pre-made frame (a frame still in flight when
 * its slot comes round again is copied instead, and counted).
 *
 * Prints "READY" once it can send, waits for the receiver's first count,
 * sends, waits for the receiver to count every frame (or a timeout), then
 * prints one JSON line. */
#include "bench-common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <hiredis/hiredis.h>

typedef struct
{
  gint in_use;
} Slot;

static gint client_connected = 0;
static guint64 copies = 0;
/* live mode: frames that left more than one frame interval after their
 * time (a camera would have dropped or queued them), and the worst delay */
static guint64 late = 0;
static double max_late_ms = 0;

static void
on_client (void)
{
  g_atomic_int_set (&client_connected, 1);
}

static void
slot_release (gpointer data)
{
  Slot *slot = data;

  g_atomic_int_add (&slot->in_use, -1);
}

static void
copy_release (gpointer data)
{
  g_free (data);
}

static void
sleep_until (uint64_t mono_ns)
{
  struct timespec ts;

  ts.tv_sec = mono_ns / 1000000000ull;
  ts.tv_nsec = mono_ns % 1000000000ull;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR);
}

static gchar *
make_pipeline (const BenchArgs * a, const BenchFrames * f)
{
  gchar *caps = bench_frames_caps (f, a->codec, a->fps);
  gchar *src = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "caps=\"%s\"", caps);
  gchar *desc;

  if (strcmp (a->transport, "redis") == 0) {
    gchar *tls = bench_tls_props (a);
    gchar *where = a->socket ? g_strdup_printf ("socket-path=%s", a->socket) :
        g_strdup_printf ("host=%s port=%d%s", a->host, a->port, tls);

    if (a->defaults)
      desc = g_strdup_printf ("%s ! redisstreamsink name=sink %s stream=%s",
          src, where, a->stream);
    else
      desc = g_strdup_printf ("%s ! redisstreamsink name=sink %s stream=%s "
          "maxlen=%d compression=%s", src, where, a->stream, a->maxlen,
          a->compression);
    g_free (where);
    g_free (tls);
  } else if (strcmp (a->transport, "tcp") == 0) {
    desc = g_strdup_printf ("%s ! gdppay ! tcpserversink name=sink host=%s "
        "port=%d sync=false", src, a->host, a->port);
  } else if (strcmp (a->transport, "shm") == 0) {
    guint64 shm_size = MAX ((guint64) 64 << 20, (guint64) f->size * 24);

    desc = g_strdup_printf ("%s ! shmsink name=sink socket-path=%s "
        "shm-size=%" G_GUINT64_FORMAT " wait-for-connection=true sync=false",
        src, a->shm_path, shm_size);
  } else {
    desc = NULL;
  }
  g_free (caps);
  g_free (src);
  return desc;
}

int
main (int argc, char **argv)
{
  BenchArgs a;
  BenchFrames f;
  Slot *slots;
  GstElement *pipeline = NULL, *appsrc = NULL, *sink = NULL;
  redisContext *rc = NULL;
  GstCaps *unix_caps = NULL;
  int progress_fd, hiredis_mode, i, failed = 0, sent = 0;
  uint64_t received = 0, t0, period;
  double ratio = 0;
  char maxlen_str[16];

  bench_args_parse (&a, argc, argv);
  hiredis_mode = strcmp (a.transport, "hiredis") == 0;
  if (bench_frames_load (&f, a.frames_file, a.sizes_file, a.width, a.height,
          a.k) < 0)
    return 1;
  slots = calloc (a.k, sizeof (Slot));
  progress_fd = bench_progress_open (a.progress, 0);
  if (progress_fd < 0)
    return 1;
  snprintf (maxlen_str, sizeof (maxlen_str), "%d", a.maxlen);

  if (hiredis_mode) {
    struct timeval tv = { 5, 0 };

    client_connected = 1;

    rc = a.socket ? redisConnectUnixWithTimeout (a.socket, tv) :
        redisConnectWithTimeout (a.host, a.port, tv);
    if (rc == NULL || rc->err) {
      fprintf (stderr, "hiredis: %s\n", rc ? rc->errstr : "no memory");
      return 1;
    }
  } else {
    gchar *desc;
    GError *err = NULL;

    gst_init (&argc, &argv);
    desc = make_pipeline (&a, &f);
    if (desc == NULL) {
      fprintf (stderr, "unknown transport %s\n", a.transport);
      return 2;
    }
    pipeline = gst_parse_launch (desc, &err);
    if (pipeline == NULL) {
      fprintf (stderr, "%s: %s\n", desc, err->message);
      return 1;
    }
    g_free (desc);
    appsrc = gst_bin_get_by_name (GST_BIN (pipeline), "src");
    sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    if (strcmp (a.transport, "tcp") == 0)
      g_signal_connect_swapped (sink, "client-added", G_CALLBACK (on_client),
          NULL);
    else if (strcmp (a.transport, "shm") == 0)
      g_signal_connect_swapped (sink, "client-connected",
          G_CALLBACK (on_client), NULL);
    else
      client_connected = 1;
    unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
    if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE || bench_check_bus (pipeline, "sender")) {
      bench_check_bus (pipeline, "sender");
      fprintf (stderr, "sender pipeline does not start\n");
      return 1;
    }
  }
  printf ("READY\n");
  fflush (stdout);

  /* The receiver's first count (0) says it is listening. */
  if (bench_progress_read (progress_fd, 30000, &received) <= 0) {
    fprintf (stderr, "receiver did not start\n");
    failed = 1;
    goto out;
  }
  for (i = 0; i < 1000 && !g_atomic_int_get (&client_connected); i++)
    g_usleep (10000);
  if (!g_atomic_int_get (&client_connected)) {
    fprintf (stderr, "receiver did not connect\n");
    failed = 1;
    goto out;
  }

  period = 1000000000ull / a.fps;
  t0 = bench_now_mono ();
  for (i = 0; i < a.count; i++) {
    Slot *slot = &slots[i % a.k];
    uint8_t *p = bench_frame_data (&f, i % a.k);
    size_t size = bench_frame_size (&f, i % a.k);
    uint64_t t;

    if (strcmp (a.mode, "live") == 0) {
      uint64_t due = t0 + (uint64_t) i * period, now;

      sleep_until (due);
      now = bench_now_mono ();
      if (now > due) {
        max_late_ms = MAX (max_late_ms, (now - due) / 1e6);
        if (now - due > period)
          late++;
      }
    } else {
      while ((uint64_t) i - received >= (uint64_t) a.window) {
        int r = bench_progress_read (progress_fd, 10000, &received);

        if (r <= 0) {
          fprintf (stderr, "no progress from the receiver at frame %d "
              "(%llu received)\n", i, (unsigned long long) received);
          failed = 1;
          goto out;
        }
      }
    }
    /* Poll for counts without waiting, so the FIFO never fills. */
    bench_progress_read (progress_fd, 0, &received);

    if (hiredis_mode) {
      const char *argv_[] = { "XADD", a.stream, "MAXLEN", "~", maxlen_str,
        "*", "data", NULL
      };
      size_t lens[8];
      redisReply *reply;
      int j;

      for (j = 0; j < 7; j++)
        lens[j] = strlen (argv_[j]);
      t = bench_now_real ();
      bench_header_write (p, t, i);
      argv_[7] = (const char *) p;
      lens[7] = size;
      reply = redisCommandArgv (rc, 8, argv_, lens);
      if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        fprintf (stderr, "XADD failed: %s\n", reply ? reply->str : rc->errstr);
        failed = 1;
        goto out;
      }
      freeReplyObject (reply);
    } else {
      GstBuffer *buf;

      if (g_atomic_int_get (&slot->in_use) > 0) {
        /* still in flight from k frames ago: send a copy */
        uint8_t *copy = g_memdup2 (p, size);

        copies++;
        t = bench_now_real ();
        bench_header_write (copy, t, i);
        buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, copy,
            size, 0, size, copy, copy_release);
      } else {
        g_atomic_int_inc (&slot->in_use);
        t = bench_now_real ();
        bench_header_write (p, t, i);
        buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, p,
            size, 0, size, slot, slot_release);
      }
      GST_BUFFER_PTS (buf) = (GstClockTime) i *period;
      GST_BUFFER_DURATION (buf) = period;
      GST_BUFFER_OFFSET (buf) = i;
      if (strcmp (a.transport, "redis") == 0)
        gst_buffer_add_reference_timestamp_meta (buf, unix_caps, t,
            GST_CLOCK_TIME_NONE);
      if (gst_app_src_push_buffer (GST_APP_SRC (appsrc), buf) != GST_FLOW_OK
          || bench_check_bus (pipeline, "sender")) {
        fprintf (stderr, "push failed at frame %d\n", i);
        failed = 1;
        goto out;
      }
    }
    sent = i + 1;
  }

  /* Wait for the receiver to have everything (it may be behind). */
  {
    uint64_t deadline =
        bench_now_mono () + (uint64_t) a.idle_timeout * 1000000000ull;

    while (received < (uint64_t) a.count && bench_now_mono () < deadline) {
      if (pipeline && bench_check_bus (pipeline, "sender")) {
        failed = 1;
        break;
      }
      bench_progress_read (progress_fd, 100, &received);
    }
  }

out:
  if (sink && strcmp (a.transport, "redis") == 0) {
    GstStructure *stats = NULL;

    g_object_get (sink, "stats", &stats, NULL);
    if (stats) {
      gst_structure_get_double (stats, "compression-ratio", &ratio);
      gst_structure_free (stats);
    }
  }
  if (pipeline) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (appsrc);
    gst_object_unref (sink);
    gst_object_unref (pipeline);
    gst_caps_unref (unix_caps);
  }
  if (rc)
    redisFree (rc);
  printf ("{\"sent\": %d, \"copies\": %llu, \"sink_ratio\": %.4f, "
      "\"late\": %llu, \"max_late_ms\": %.3f, \"failed\": %d}\n", sent,
      (unsigned long long) copies, ratio, (unsigned long long) late,
      max_late_ms, failed);
  fflush (stdout);
  return failed;
}
