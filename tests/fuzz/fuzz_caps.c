/* libFuzzer target: the caps field. The input is the value of "caps" in an
 * otherwise valid minimal entry (v 1, data "x", or as many bytes as raw
 * caps ask for). A caps string the decoder accepts must be fixed, and must
 * come out of redisstreamsink (the encoder, gst_caps_to_string ()) as a
 * caps field the decoder accepts again: a processing stage reads an entry
 * and writes its caps on. Every '~' of the input is a part of a name that
 * is new on every run (fuzz_fresh_names ()), and the process never makes
 * more quarks than the budget of new names allows (fuzz_check_quarks ()). */

#include "fuzz_common.h"
#include "gstrediscaps.h"
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
decode_sized (GstRedisEntryDecoder * dec, const gchar * caps, gsize caps_len,
    const gchar * data, gsize size, GstCaps ** out_caps, GError ** err)
{
  GstRedisField f[3] = {
    {"v", 1, "1", 1},
    {"caps", 4, caps, caps_len},
    {"data", 4, data, size},
  };

  *out_caps = NULL;
  return gst_redis_entry_decoder_decode (dec, f, 3, NULL, out_caps, err);
}

/* The payload size raw caps ask for (a picture, one audio frame); 0 when
 * they ask for nothing special or for more than 1 MiB. */
static gsize
size_for_caps (GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gsize size = 0;

  if (gst_structure_has_name (s, "video/x-raw")) {
    GstVideoInfo info;

    if (gst_video_info_from_caps (&info, caps))
      size = GST_VIDEO_INFO_SIZE (&info);
  } else if (gst_structure_has_name (s, "audio/x-raw")) {
    GstAudioInfo info;

    if (gst_audio_info_from_caps (&info, caps))
      size = GST_AUDIO_INFO_BPF (&info);
  }
  return size <= 1024 * 1024 ? size : 0;
}

/* Decodes an entry with these caps and "x" as its data; when the payload
 * does not fit raw caps, again with a payload of the size they ask. */
static GstBuffer *
decode (GstRedisEntryDecoder * dec, const gchar * caps, gsize caps_len,
    GstCaps ** out_caps, GError ** err)
{
  GstBuffer *buf = decode_sized (dec, caps, caps_len, "x", 1, out_caps, err);
  GstCaps *parsed;
  gsize size;

  if (buf || !g_error_matches (*err, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_WRONG_SIZE))
    return buf;
  parsed = gst_redis_caps_deserialize (caps, caps_len, NULL);
  FUZZ_CHECK (parsed != NULL);
  size = size_for_caps (parsed);
  gst_caps_unref (parsed);
  if (size > 1) {
    gchar *data = g_malloc0 (size);

    g_clear_error (err);
    buf = decode_sized (dec, caps, caps_len, data, size, out_caps, err);
    g_free (data);
  }
  return buf;
}

static int test_caps (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_run_with_fresh_names (data, size, test_caps);
  return 0;
}

static int
test_caps (const guint8 * data, size_t size)
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
