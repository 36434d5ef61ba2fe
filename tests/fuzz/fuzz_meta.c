/* libFuzzer target: gst_redis_meta_from_json () on arbitrary bytes (the
 * "meta" field of an entry), then the round trip: gst_redis_meta_to_json ()
 * of the buffer must parse again, into the same JSON. Every '~' of the
 * input is a part of a name that is new on every run (fuzz_fresh_names ()),
 * and the process never makes more quarks than the budget of new names
 * allows (fuzz_check_quarks ()). */

#include "fuzz_common.h"
#include "gstredisentry.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_gst ();
  return 0;
}

static guint
count_rois (GstBuffer * buf)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buf, &state,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    n++;
  return n;
}

static int test_meta (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_run_with_fresh_names (data, size, test_meta);
  return 0;
}

static int
test_meta (const guint8 * data, size_t size)
{
  GstBuffer *buf = gst_buffer_new ();
  GError *err = NULL;
  gchar *json, *json2;
  guint n;

  /* The decoder hands over the bytes of the field, not a C string: an exact
   * length, no terminator, just as libFuzzer's input (a heap block of exactly
   * @size bytes, so ASan catches any read past the end). */
  if (!gst_redis_meta_from_json (buf, (const gchar *) data, size, &err)) {
    FUZZ_CHECK (err != NULL && err->domain == GST_REDIS_ENTRY_ERROR);
    /* all or nothing */
    FUZZ_CHECK (count_rois (buf) == 0);
    g_error_free (err);
    gst_buffer_unref (buf);
    return 0;
  }
  FUZZ_CHECK (err == NULL);
  n = count_rois (buf);
  FUZZ_CHECK (n <= 4096);

  json = gst_redis_meta_to_json (buf);
  FUZZ_CHECK ((json == NULL) == (n == 0));
  if (json) {
    GstBuffer *again = gst_buffer_new ();

    if (!gst_redis_meta_from_json (again, json, strlen (json), &err)) {
#ifdef FUZZ_KNOWN_BUGS
      /* to fuzz past known bugs (README.md); never in run.sh */
      {
        g_clear_error (&err);
        gst_buffer_unref (again);
        g_free (json);
        gst_buffer_unref (buf);
        return 0;
      }
#endif
      fprintf (stderr, "second parse failed: %s\n%s\n", err->message, json);
      abort ();
    }
    FUZZ_CHECK (count_rois (again) == n);
    /* to_json (from_json (to_json (x))) == to_json (x) */
    json2 = gst_redis_meta_to_json (again);
    if (json2 == NULL || strcmp (json, json2) != 0) {
      fprintf (stderr, "meta JSON is not stable:\n%s\n%s\n", json,
          GST_STR_NULL (json2));
      abort ();
    }
    g_free (json2);
    gst_buffer_unref (again);
    g_free (json);
  }
  gst_buffer_unref (buf);
  return 0;
}
