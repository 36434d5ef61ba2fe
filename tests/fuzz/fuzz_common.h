/* Shared set-up of the libFuzzer targets, see tests/fuzz/README.md. */

#ifndef __FUZZ_COMMON_H__
#define __FUZZ_COMMON_H__

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include "gstredisentry.h"
#include "gstredismeta.h"
#include "gstredisdebug.h"
#include "gstframemeta.h"

/* Every GST_LOG/GST_DEBUG/... of the code under test is formatted (so that a
 * bad format string or a "%.*s" past the end of a field shows up under ASan)
 * and then dropped: the fuzzer neither needs GST_DEBUG set nor prints it. */
static void
fuzz_log_discard (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *s = gst_debug_message_get (message);
  volatile gsize n = s ? strlen (s) : 0;

  (void) n;
}

/* Level of the codec's own debug category. Everything is formatted by
 * default; -DFUZZ_LOG_LEVEL=GST_LEVEL_DEBUG leaves the GST_LOG lines out
 * (to fuzz past a known bug in one of them, see README.md). */
#ifndef FUZZ_LOG_LEVEL
#define FUZZ_LOG_LEVEL GST_LEVEL_MEMDUMP
#endif

/* Criticals (and errors) abort() from the handler, before GLib's own
 * G_BREAKPOINT: libFuzzer turns SIGABRT, not SIGTRAP, into a stack trace and
 * a crash artifact. Warnings are printed, the first 20 only. */
static void
fuzz_log_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  static guint warnings = 0;

#ifdef FUZZ_KNOWN_BUGS
  /* to fuzz past the known criticals of gst_caps_from_string () (README.md);
   * never in run.sh */
  if ((level & G_LOG_LEVEL_CRITICAL) &&
      (strstr (message, "gst_structure_validate_name") ||
          strstr (message, "GST_IS_BUFFER (buffer)")))
    return;
#endif
  if (level & (G_LOG_FLAG_FATAL | G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    fprintf (stderr, "%s-CRITICAL/ERROR from the code under test: %s\n",
        domain ? domain : "", message);
    abort ();
  }
  if ((level & G_LOG_LEVEL_WARNING) && warnings++ < 20)
    fprintf (stderr, "%s-WARNING: %s\n", domain ? domain : "", message);
}

static void
fuzz_init_gst (void)
{
  g_log_set_default_handler (fuzz_log_handler, NULL);
  /* GLib criticals (g_return_if_fail in GStreamer reached with input-derived
   * values) are bugs: abort even when G_DEBUG=fatal-criticals is not set.
   * g_warning is not made fatal: GStreamer warns on a few legitimate inputs
   * (e.g. 0.10-style "video/x-raw-yuv" structure names). */
#ifndef FUZZ_KNOWN_BUGS
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
#endif
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (fuzz_log_discard, NULL, NULL);
  gst_init (NULL, NULL);
  /* the codec's categories, which the plugin makes at its init */
  gst_redis_debug_init ();
  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  /* The codec's own category, at every level, so its format strings run. */
  gst_debug_set_threshold_for_name ("redisentry", FUZZ_LOG_LEVEL);
  gst_debug_set_active (TRUE);

  /* Lazy one-time initialisations (types, metas, scanner tables) happen
   * here, not inside the first input, where LeakSanitizer would report them */
  {
    static const gchar meta[] = "{\"rois\":[{\"type\":\"a\",\"x\":1,\"y\":2,"
        "\"w\":3,\"h\":4,\"params\":{\"d\":{\"score\":0.5,\"n\":1,"
        "\"b\":true,\"s\":\"x\"}}}]}";
    GstBuffer *b = gst_buffer_new ();
    GstCaps *c = gst_caps_from_string ("video/x-raw,format=I420,width=2,"
        "height=2,framerate=1/1");
    gchar *s;

    gst_redis_meta_from_json (b, meta, strlen (meta), NULL);
    gst_redis_meta_from_json (b, "-0.0{}", 6, NULL);
    s = gst_redis_meta_to_json (b);
    g_free (s);
    gst_buffer_add_reference_timestamp_meta (b,
        gst_frame_meta_capture_time_caps (), 1, GST_CLOCK_TIME_NONE);
    gst_caps_unref (c);
    gst_buffer_unref (b);
  }
}

/* Reads every byte of @buffer, so that ASan sees a payload that is shorter
 * than the buffer claims or that points into freed memory. */
static guint
fuzz_touch_buffer (GstBuffer * buffer)
{
  GstMapInfo map;
  guint sum = 0;
  gsize i;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    abort ();
  for (i = 0; i < map.size; i++)
    sum += map.data[i];
  gst_buffer_unmap (buffer, &map);
  return sum;
}

#define FUZZ_CHECK(cond) do { if (!(cond)) { \
      fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
          #cond); abort (); } } while (0)

#endif /* __FUZZ_COMMON_H__ */
