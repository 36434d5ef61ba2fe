/* Shared set-up of the libFuzzer targets, see tests/fuzz/README.md. */

#ifndef __FUZZ_COMMON_H__
#define __FUZZ_COMMON_H__

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include "gstredisentry.h"
#include "gstredismeta.h"
#include "gstredisnames.h"
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

/* GLib numbers quarks 1, 2, 3... and g_quark_to_string () of a number not
 * given out yet is NULL: the number of quarks, found without interning
 * anything. */
static guint
fuzz_count_quarks (void)
{
  guint lo = 0, hi = 1;

  while (g_quark_to_string (hi) != NULL) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    guint mid = lo + (hi - lo) / 2;

    if (g_quark_to_string (mid) != NULL)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* Quarks GStreamer and GLib may still make lazily on their own (a type
 * registered on first use, a debug category), not from the input. */
#define FUZZ_QUARK_SLACK 512

static guint fuzz_quarks_at_start;

/* The bound of gstredisnames.h holds: the process made no more quarks
 * since the start than the budget of new names allows, and (a finer
 * check of what the codec collects before parsing) no more than the
 * budget has counted. Without the bound, every input with new names grows
 * the process for good (tests/fuzz/README.md). */
static void
fuzz_check_quarks (void)
{
  guint made = fuzz_count_quarks () - fuzz_quarks_at_start;

  if (made > GST_REDIS_NAMES_MAX_NEW + FUZZ_QUARK_SLACK) {
    fprintf (stderr, "invariant failed: %u quarks made from the input, "
        "beyond the budget of %u new names\n", made, GST_REDIS_NAMES_MAX_NEW);
    abort ();
  }
#ifndef FUZZ_BEFORE_BUDGET
  if (made > gst_redis_names_get_used () + FUZZ_QUARK_SLACK) {
    fprintf (stderr, "invariant failed: %u quarks made from the input, the "
        "budget counted %u\n", made, gst_redis_names_get_used ());
    abort ();
  }
#endif
}

/* Makes every '~' of @data a name part never seen before: 8 hex digits
 * of a count of calls (the same in one call, so "~a" and "~b" stay two
 * names). A regression input of many "~name" fields then brings new names
 * on every run, as a writer flooding a stream does. Returns a copy of
 * exactly @size bytes (g_free ()), or NULL when @data has no '~'. */
static gchar *
fuzz_fresh_names (const guint8 * data, gsize size, gsize * out_size)
{
  static guint calls = 0;
  GString *out;
  gchar tag[9], *copy;
  gsize i;

  if (memchr (data, '~', size) == NULL)
    return NULL;
  g_snprintf (tag, sizeof (tag), "%08x", calls++);
  out = g_string_sized_new (size + 64);
  for (i = 0; i < size; i++) {
    if (data[i] == '~')
      g_string_append_len (out, tag, 8);
    else
      g_string_append_c (out, data[i]);
  }
  *out_size = out->len;
  copy = g_memdup2 (out->str, MAX (out->len, 1));
  g_string_free (out, TRUE);
  return copy;
}

/* Runs @test on the input, its '~' made new names (fuzz_fresh_names ()),
 * then checks the quark bound (fuzz_check_quarks ()). */
static void
fuzz_run_with_fresh_names (const guint8 * data, gsize size,
    int (*test) (const guint8 * data, size_t size))
{
  gsize fresh_size;
  gchar *fresh = fuzz_fresh_names (data, size, &fresh_size);

  if (fresh) {
    test ((const guint8 *) fresh, fresh_size);
    g_free (fresh);
  } else {
    test (data, size);
  }
  fuzz_check_quarks ();
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
#ifndef FUZZ_BEFORE_BUDGET
  gst_redis_names_intern_common ();
#endif
  fuzz_quarks_at_start = fuzz_count_quarks ();
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
