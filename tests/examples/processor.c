/* The processing stage of pipelines/processor, built in C without
 * gst_parse_launch ():
 *
 *   redisstreamsrc ! frameproc ! redisstreamsink
 *
 * Every second it prints the frames per second read and written, the latency
 * from capture (the src's stats) and frameproc's processing time. Errors and
 * warnings from the bus are printed with their debug text; an error ends the
 * program with status 1. SIGINT or SIGTERM send EOS and the program exits 0
 * once the pipeline has drained (or after 3 s, when it does not).
 *
 * Configured like pipelines/processor, by environment variables:
 *   REDIS_HOST [127.0.0.1], REDIS_PORT [6379], REDIS_SOCKET (unix socket,
 *   unset), INPUT_STREAM [video-frames], OUTPUT_STREAM [processed-frames],
 *   PROCESSOR_GROUP [processors], CONSUMER [<hostname>-<pid>],
 *   OPERATION [motion].
 *
 * Build: gcc processor.c -o processor $(pkg-config --cflags --libs gstreamer-1.0)
 * (meson builds it as tests/examples/processor). Run with the plugins on
 * GST_PLUGIN_PATH, e.g. GST_PLUGIN_PATH=build/gst build/tests/examples/processor
 */

#include <gst/gst.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>

typedef struct
{
  GstElement *pipeline, *src, *proc, *sink;
  GMainLoop *loop;
  int exit_code;
  gboolean stopping;
  guint64 last_in, last_out;
  gint64 last_time;
} App;

static const gchar *
env (const gchar * name, const gchar * fallback)
{
  const gchar *v = g_getenv (name);
  return (v && *v) ? v : fallback;
}

/* Reads a guint64 field of an element's `stats` structure. */
static guint64
stat_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;
  gst_structure_get_uint64 (s, field, &v);
  return v;
}

static gdouble
stat_double (const GstStructure * s, const gchar * field)
{
  gdouble v = 0;
  gst_structure_get_double (s, field, &v);
  return v;
}

static void
print_stats (App * app, gboolean final)
{
  GstStructure *src_stats = NULL, *sink_stats = NULL, *proc_stats = NULL;
  guint64 in, out;
  gint64 now = g_get_monotonic_time ();
  gdouble dt = (now - app->last_time) / 1e6;

  g_object_get (app->src, "stats", &src_stats, NULL);
  g_object_get (app->sink, "stats", &sink_stats, NULL);
  g_object_get (app->proc, "stats", &proc_stats, NULL);
  in = stat_u64 (src_stats, "frames");
  out = stat_u64 (sink_stats, "frames");

  if (final) {
    g_print ("processed %" G_GUINT64_FORMAT " frames (read %" G_GUINT64_FORMAT
        ", written %" G_GUINT64_FORMAT "), latency from capture: average "
        "%.1f ms, max %.1f ms\n", stat_u64 (proc_stats, "frames"), in, out,
        stat_double (src_stats, "latency-average"),
        stat_double (src_stats, "latency-max"));
  } else {
    g_print ("in %5.1f frames/s, out %5.1f frames/s | latency from capture: "
        "last %.1f ms, average %.1f ms | processing %.2f ms | total %"
        G_GUINT64_FORMAT "\n",
        dt > 0 ? (in - app->last_in) / dt : 0.0,
        dt > 0 ? (out - app->last_out) / dt : 0.0,
        stat_double (src_stats, "latency-last"),
        stat_double (src_stats, "latency-average"),
        stat_u64 (proc_stats, "average-processing-time") / 1e6, out);
  }
  app->last_in = in;
  app->last_out = out;
  app->last_time = now;
  gst_structure_free (src_stats);
  gst_structure_free (sink_stats);
  gst_structure_free (proc_stats);
}

static gboolean
on_tick (gpointer user_data)
{
  print_stats (user_data, FALSE);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_drain_timeout (gpointer user_data)
{
  App *app = user_data;

  g_printerr ("no EOS within 3 s, stopping anyway\n");
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

/* SIGINT/SIGTERM: send EOS so the frame in flight is finished and stored
 * (and acknowledged) before the pipeline stops; a second signal stops at once. */
static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  if (app->stopping) {
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }
  app->stopping = TRUE;
  g_print ("stopping\n");
  gst_element_send_event (app->pipeline, gst_event_new_eos ());
  g_timeout_add_seconds (3, on_drain_timeout, app);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      if (app->exit_code != 0)
        break;                  /* the first error is the reason; skip the rest */
      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("ERROR from %s: %s\n  debug: %s\n", GST_OBJECT_NAME (msg->src),
          err->message, debug ? debug : "(none)");
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      g_printerr ("WARNING from %s: %s\n  debug: %s\n",
          GST_OBJECT_NAME (msg->src), err->message, debug ? debug : "(none)");
      break;
    case GST_MESSAGE_EOS:
      g_print ("end of stream\n");
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  return G_SOURCE_CONTINUE;
}

static GstElement *
make (const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL)
    g_printerr ("element %s not found: is GST_PLUGIN_PATH set to the build's "
        "gst directory?\n", factory);
  return e;
}

/* The connection properties both Redis elements share. */
static void
set_redis (GstElement * e, const gchar * stream)
{
  const gchar *sock = env ("REDIS_SOCKET", NULL);

  if (sock)
    g_object_set (e, "socket-path", sock, NULL);
  else
    g_object_set (e, "host", env ("REDIS_HOST", "127.0.0.1"),
        "port", (guint) atoi (env ("REDIS_PORT", "6379")), NULL);
  g_object_set (e, "stream", stream, NULL);
}

int
main (int argc, char **argv)
{
  App app = { 0 };
  GstBus *bus;
  guint bus_watch;

  gst_init (&argc, &argv);

  app.src = make ("redisstreamsrc", "src");
  app.proc = make ("frameproc", "proc");
  app.sink = make ("redisstreamsink", "sink");
  if (!app.src || !app.proc || !app.sink)
    return 1;

  set_redis (app.src, env ("INPUT_STREAM", "video-frames"));
  g_object_set (app.src, "group", env ("PROCESSOR_GROUP", "processors"), NULL);
  if (env ("CONSUMER", NULL))   /* else redisstreamsrc uses <hostname>-<pid> */
    g_object_set (app.src, "consumer", env ("CONSUMER", NULL), NULL);
  /* enums can be set from their nick */
  gst_util_set_object_arg (G_OBJECT (app.proc), "operation",
      env ("OPERATION", "motion"));
  set_redis (app.sink, env ("OUTPUT_STREAM", "processed-frames"));

  app.pipeline = gst_pipeline_new ("processor");
  gst_bin_add_many (GST_BIN (app.pipeline), app.src, app.proc, app.sink, NULL);
  if (!gst_element_link_many (app.src, app.proc, app.sink, NULL)) {
    g_printerr ("could not link the elements\n");
    return 1;
  }

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (app.pipeline);
  bus_watch = gst_bus_add_watch (bus, on_bus_message, &app);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_timeout_add_seconds (1, on_tick, &app);
  app.last_time = g_get_monotonic_time ();

  {
    gchar *consumer = NULL;

    if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      /* the reason is on the bus: the watch prints it and sets exit_code */
      while (g_main_context_iteration (NULL, FALSE));
      app.exit_code = 1;
      goto done;
    }
    g_object_get (app.src, "consumer", &consumer, NULL);
    g_print ("processing %s -> %s as consumer %s of group %s\n",
        env ("INPUT_STREAM", "video-frames"),
        env ("OUTPUT_STREAM", "processed-frames"),
        consumer ? consumer : "(default)",
        env ("PROCESSOR_GROUP", "processors"));
    g_free (consumer);
  }

  g_main_loop_run (app.loop);

done:
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  print_stats (&app, TRUE);
  g_source_remove (bus_watch);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  return app.exit_code;
}
