/* libFuzzer target: the caps field. The input is the value of "caps" in an
 * otherwise valid minimal entry (v 1, data "x"). A caps string the decoder
 * accepts must be fixed, and must come out of redisstreamsink (the encoder,
 * gst_caps_to_string ()) as a caps field the decoder accepts again: a
 * processing stage reads an entry and writes its caps on. */

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

static GstBuffer *
decode (GstRedisEntryDecoder * dec, const gchar * caps, gsize caps_len,
    GstCaps ** out_caps, GError ** err)
{
  GstRedisField f[3] = {
    {"v", 1, "1", 1},
    {"caps", 4, caps, caps_len},
    {"data", 4, "x", 1},
  };

  *out_caps = NULL;
  return gst_redis_entry_decoder_decode (dec, f, 3, NULL, out_caps, err);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GstRedisEntryDecoder *dec = gst_redis_entry_decoder_new ();
  GError *err = NULL;
  GstBuffer *buf;
  GstCaps *caps, *again, *other;
  gchar *str;

  buf = decode (dec, (const gchar *) data, size, &caps, &err);
  if (buf == NULL) {
    FUZZ_CHECK (err != NULL && err->domain == GST_REDIS_ENTRY_ERROR);
    FUZZ_CHECK (caps == NULL);
    g_clear_error (&err);
    gst_redis_entry_decoder_free (dec);
    return 0;
  }
  FUZZ_CHECK (caps != NULL && gst_caps_is_fixed (caps));
  gst_buffer_unref (buf);
#ifdef FUZZ_KNOWN_BUGS
  /* to fuzz past a known bug (README.md); never in run.sh */
  if (gst_caps_is_any (caps)) {
    gst_caps_unref (caps);
    gst_redis_entry_decoder_free (dec);
    return 0;
  }
#endif
  /* no ANY caps: they cannot be negotiated downstream */
  FUZZ_CHECK (!gst_caps_is_any (caps) && !gst_caps_is_empty (caps));

  /* same string again: the same caps, not parsed again */
  buf = decode (dec, (const gchar *) data, size, &again, &err);
  FUZZ_CHECK (buf != NULL);
  FUZZ_CHECK (again == caps);
  gst_caps_unref (again);
  gst_buffer_unref (buf);

  /* what the encoder writes for these caps */
  str = gst_caps_to_string (caps);
  {
    GstRedisEntryDecoder *dec2 = gst_redis_entry_decoder_new ();
    GstRedisEntryEncoder *enc = gst_redis_entry_encoder_new ();
    const gchar *why = NULL;

    /* caps a reader accepted, a writer accepts: they come back the same */
    FUZZ_CHECK (gst_redis_entry_encoder_set_caps (enc, caps, &why));
    buf = decode (dec2, str, strlen (str), &other, &err);
#ifdef FUZZ_KNOWN_BUGS
    if (buf == NULL && (g_str_equal (str, "ANY") || g_str_equal (str, "EMPTY")
            || g_str_equal (str, "NONE"))) {
      g_clear_error (&err);
      buf = gst_buffer_new ();
    }
#endif
    FUZZ_CHECK (buf != NULL);
    gst_clear_caps (&other);
    gst_buffer_unref (buf);
    gst_redis_entry_encoder_free (enc);
    gst_redis_entry_decoder_free (dec2);
  }
  g_free (str);

  /* a different caps string afterwards replaces them; the frame decoded
   * first keeps its own */
  buf = decode (dec, "text/x-raw", 10, &other, &err);
  FUZZ_CHECK (buf != NULL);
  FUZZ_CHECK (other != NULL && gst_caps_is_fixed (other));
  FUZZ_CHECK (gst_caps_is_fixed (caps));
  gst_caps_unref (other);
  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  gst_redis_entry_decoder_free (dec);
  return 0;
}
