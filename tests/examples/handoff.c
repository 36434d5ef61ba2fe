/* Your own code between two Redis streams, outside GStreamer, in C: frames
 * taken from an appsink, handed to the application (here a "model" that
 * copies the frame), its result pushed into an appsrc (docs/embedding.md,
 * "From appsink to appsrc"):
 *
 *   redisstreamsrc ! appsink      the application      appsrc ! redisstreamsink
 *
 * The input entry is acknowledged once the result is stored: the
 * application copies the entry's meta (GstRedisEntryMeta) from the frame it
 * took to the buffer it pushes (gst_buffer_copy_into (..., META)), and lets
 * go of the frame. A frame the model cannot process is failed (the ticket's
 * "fail" signal): the source sets its entry aside in the dead-letter stream.
 *
 * Environment: REDIS_SOCKET (or REDIS_HOST [127.0.0.1], REDIS_PORT [6379]),
 * INPUT_STREAM [video-frames], OUTPUT_STREAM [processed-frames],
 * PROCESSOR_GROUP [processors], CONSUMER [handoff], FAIL_EVERY [0] (fail
 * the frames whose seq % FAIL_EVERY == FAIL_EVERY - 1). SIGINT or SIGTERM:
 * EOS, then exit 0.
 *
 * Build: gcc handoff.c -o handoff $(pkg-config --cflags --libs gstreamer-1.0)
 * (appsink and appsrc through their signals: no gstreamer-app-1.0 needed).
 */

#include <gst/gst.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>

typedef struct
{
  GstElement *reading, *writing, *appsink, *appsrc;
  GMainLoop *loop;
  guint64 fail_every;
  guint64 processed, failed;
  gboolean error;
  gint stopping;
} App;

static const gchar *
env (const gchar * name, const gchar * fallback)
{
  const gchar *v = g_getenv (name);
  return (v && *v) ? v : fallback;
}

static gchar *
connection (void)
{
  if (g_getenv ("REDIS_SOCKET"))
    return g_strdup_printf ("socket-path=%s", g_getenv ("REDIS_SOCKET"));
  return g_strdup_printf ("host=%s port=%s", env ("REDIS_HOST", "127.0.0.1"),
      env ("REDIS_PORT", "6379"));
}

/* The frame could not be processed: its entry's ticket is failed, with a
 * reason for the dead letter. */
static void
fail_frame (GstBuffer * frame, const gchar * reason)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (frame, "GstRedisEntryMeta");
  const GValue *ticket;

  if (meta == NULL)
    return;                     /* not from a redisstreamsrc */
  /* a GstRedisTicket, an object of the plugin's: reached as a GObject */
  ticket = gst_structure_get_value (gst_custom_meta_get_structure (meta),
      "ticket");
  g_signal_emit_by_name (g_value_get_object (ticket), "fail", reason);
}

/* The application's thread: frames in, results out. */
static gpointer
work (gpointer data)
{
  App *app = data;
  gboolean caps_set = FALSE;

  for (;;) {
    GstSample *sample = NULL;
    GstBuffer *frame, *result;
    GstFlowReturn ret;
    GstMapInfo map;
    gboolean eos;

    g_signal_emit_by_name (app->appsink, "try-pull-sample",
        (GstClockTime) (100 * GST_MSECOND), &sample);
    if (sample == NULL) {
      g_object_get (app->appsink, "eos", &eos, NULL);
      if (eos)
        g_signal_emit_by_name (app->appsrc, "end-of-stream", &ret);
      if (eos || g_atomic_int_get (&app->stopping))
        return NULL;
      continue;
    }
    frame = gst_sample_get_buffer (sample);
    if (!caps_set) {
      g_object_set (app->appsrc, "caps", gst_sample_get_caps (sample), NULL);
      caps_set = TRUE;
    }
    if (app->fail_every &&
        GST_BUFFER_OFFSET (frame) % app->fail_every == app->fail_every - 1) {
      gchar *reason = g_strdup_printf ("handoff: cannot process seq %"
          G_GUINT64_FORMAT, GST_BUFFER_OFFSET (frame));

      fail_frame (frame, reason);
      g_free (reason);
      app->failed++;
      gst_sample_unref (sample);
      continue;
    }

    /* the model: here the result is the frame itself */
    gst_buffer_map (frame, &map, GST_MAP_READ);
    result = gst_buffer_new_memdup (map.data, map.size);
    gst_buffer_unmap (frame, &map);
    /* the essential line: the entry's meta (and the timestamps, the flags)
     * go with the result */
    gst_buffer_copy_into (result, frame, GST_BUFFER_COPY_METADATA, 0, -1);
    /* the frame is let go of: the entry is acknowledged once no buffer
     * carries it any more (here: once the result is stored) */
    gst_sample_unref (sample);
    g_signal_emit_by_name (app->appsrc, "push-buffer", result, &ret);
    gst_buffer_unref (result);
    if (ret != GST_FLOW_OK)
      return NULL;
    app->processed++;
  }
}

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  App *app = data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    g_printerr ("ERROR from %s: %s\n  debug: %s\n", GST_OBJECT_NAME
        (GST_MESSAGE_SRC (msg)), err->message, debug ? debug : "");
    g_clear_error (&err);
    g_free (debug);
    app->error = TRUE;
    g_main_loop_quit (app->loop);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS &&
      GST_MESSAGE_SRC (msg) == GST_OBJECT (app->writing)) {
    g_main_loop_quit (app->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
quit (gpointer data)
{
  g_main_loop_quit (((App *) data)->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  gst_element_send_event (app->reading, gst_event_new_eos ());
  g_timeout_add_seconds (3, quit, app);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  App app = { NULL, };
  gchar *conn, *desc;
  GError *err = NULL;
  GThread *thread = NULL;
  GstBus *bus;

  gst_init (&argc, &argv);
  conn = connection ();
  desc = g_strdup_printf ("redisstreamsrc %s stream=%s group=%s consumer=%s ! "
      "appsink name=frames sync=false max-buffers=8", conn,
      env ("INPUT_STREAM", "video-frames"), env ("PROCESSOR_GROUP",
          "processors"), env ("CONSUMER", "handoff"));
  app.reading = gst_parse_launch (desc, &err);
  g_free (desc);
  desc = g_strdup_printf ("appsrc name=results format=time ! "
      "redisstreamsink %s stream=%s", conn, env ("OUTPUT_STREAM",
          "processed-frames"));
  if (app.reading)
    app.writing = gst_parse_launch (desc, &err);
  g_free (desc);
  g_free (conn);
  if (err) {
    g_printerr ("ERROR: %s\n", err->message);
    return 1;
  }
  app.appsink = gst_bin_get_by_name (GST_BIN (app.reading), "frames");
  app.appsrc = gst_bin_get_by_name (GST_BIN (app.writing), "results");
  app.fail_every = g_ascii_strtoull (env ("FAIL_EVERY", "0"), NULL, 10);
  app.loop = g_main_loop_new (NULL, FALSE);

  bus = gst_element_get_bus (app.reading);
  gst_bus_add_watch (bus, on_message, &app);
  gst_object_unref (bus);
  bus = gst_element_get_bus (app.writing);
  gst_bus_add_watch (bus, on_message, &app);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);

  /* the writing side first, so that the reading side never waits for it */
  if (gst_element_set_state (app.writing, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE ||
      gst_element_set_state (app.reading, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error is on the bus */
    g_idle_add (quit, &app);
    app.error = TRUE;
  } else {
    thread = g_thread_new ("handoff", work, &app);
    g_print ("processing\n");
  }
  g_main_loop_run (app.loop);

  /* the reading side stops first: what it still has in flight stays
   * pending, read again at the next start */
  g_atomic_int_set (&app.stopping, 1);
  gst_element_set_state (app.reading, GST_STATE_NULL);
  gst_element_set_state (app.writing, GST_STATE_NULL);
  if (thread)
    g_thread_join (thread);
  g_print ("processed %" G_GUINT64_FORMAT " frames, failed %" G_GUINT64_FORMAT
      "\n", app.processed, app.failed);
  gst_object_unref (app.appsink);
  gst_object_unref (app.appsrc);
  gst_object_unref (app.reading);
  gst_object_unref (app.writing);
  g_main_loop_unref (app.loop);
  return app.error ? 1 : 0;
}
