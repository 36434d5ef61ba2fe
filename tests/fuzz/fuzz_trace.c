/* libFuzzer target: gst_redis_trace_parse () on arbitrary bytes (the
 * "trace" field of an entry, docs/wire-format.md). An accepted trace keeps
 * the documented bounds, goes onto a buffer and comes back the same
 * (gst_redis_trace_set (), gst_redis_trace_get ()), takes one more stamp
 * within the bounds, and its text parses again into the same text. */

#include "fuzz_common.h"
#include "gstredistrace.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_gst ();
  return 0;
}

static void
check_bounds (JsonArray * stamps)
{
  guint i, n = json_array_get_length (stamps);

  FUZZ_CHECK (n >= 1 && n <= GST_REDIS_TRACE_MAX_STAMPS);
  for (i = 0; i < n; i++) {
    const gchar *stream, *host;
    gboolean read;
    gint64 t;

    gst_redis_trace_stamp (stamps, i, &read, &stream, &host, &t);
    FUZZ_CHECK (stream != NULL && host != NULL && t >= 0);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  JsonArray *stamps, *again, *got;
  GstBuffer *buf;
  const gchar *why = NULL;
  gchar *text, *text2;

  /* the bytes of the field: an exact length, no terminator */
  stamps = gst_redis_trace_parse ((const gchar *) data, size, &why);
  if (stamps == NULL) {
    FUZZ_CHECK (why != NULL);
    return 0;
  }
  FUZZ_CHECK (why == NULL && size <= GST_REDIS_TRACE_MAX_BYTES);
  check_bounds (stamps);

  buf = gst_buffer_new ();
  gst_redis_trace_set (buf, stamps);
  got = gst_redis_trace_get (buf);
  FUZZ_CHECK (got != NULL);
  text = gst_redis_trace_to_string (stamps);
  text2 = gst_redis_trace_to_string (got);
  FUZZ_CHECK (strcmp (text, text2) == 0);
  g_free (text2);

  gst_redis_trace_append (got, TRUE, "fuzz", G_MAXINT64);
  check_bounds (got);
  g_free (text2 = gst_redis_trace_to_string (got));

  again = gst_redis_trace_parse (text, strlen (text), &why);
  FUZZ_CHECK (again != NULL);
  text2 = gst_redis_trace_to_string (again);
  FUZZ_CHECK (strcmp (text, text2) == 0);

  g_free (text);
  g_free (text2);
  json_array_unref (again);
  json_array_unref (got);
  json_array_unref (stamps);
  gst_buffer_unref (buf);
  return 0;
}
