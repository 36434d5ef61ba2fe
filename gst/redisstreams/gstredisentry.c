/* GStreamer Redis Streams elements
 * Copyright (C) 2026 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 *
 * You should have received a copy of the GNU Library General Public
 * License along with this library; if not, write to the
 * Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
 * Boston, MA 02110-1301, USA.
 */

/* The stream entry <-> GstBuffer codec, the one place that knows the wire
 * format of docs/wire-format.md. Both elements, the tests and the fuzz
 * target use it. The caps field is checked by gstrediscaps.c, the meta
 * field coded by gstredismeta.c, the payload compressed by gstredislz4.c
 * (LZ4 frames of independent blocks). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisentry.h"
#include "gstrediscaps.h"
#include "gstredislz4.h"
#include "gstredismeta.h"
#include "gstredisnames.h"
#include "gstredisdebug.h"
#include "gstframemeta.h"

#include <string.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>

#define GST_CAT_DEFAULT gst_redis_entry_debug

/**
 * GstRedisCompression:
 *
 * Whether redisstreamsink compresses an entry's payload with LZ4
 * (#GstRedisStreamSink:compression).
 *
 * Since: 1.0
 */
GType
gst_redis_compression_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_REDIS_COMPRESSION_NONE, "Send frames as they are", "none"},
    {GST_REDIS_COMPRESSION_LZ4, "Compress every frame with LZ4", "lz4"},
    {GST_REDIS_COMPRESSION_AUTO,
        "Compress raw media with LZ4, send already compressed formats "
          "(JPEG, H.264, ...) as they are", "auto"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRedisCompression", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* Buffer flags travel by name, so that other programs can read and write
 * them; GstBufferFlags values are not part of any API outside GStreamer. */
static const struct
{
  GstBufferFlags flag;
  const gchar *name;
} buffer_flags[] = {
  {GST_BUFFER_FLAG_DELTA_UNIT, "delta"},
  {GST_BUFFER_FLAG_DISCONT, "discont"},
  {GST_BUFFER_FLAG_HEADER, "header"},
  {GST_BUFFER_FLAG_GAP, "gap"},
  {GST_BUFFER_FLAG_DROPPABLE, "droppable"},
  {GST_BUFFER_FLAG_MARKER, "marker"},
  {GST_BUFFER_FLAG_RESYNC, "resync"},
  {GST_BUFFER_FLAG_CORRUPTED, "corrupted"},
};

/* Media types that compress well enough to be worth LZ4 in `auto`. Anything
 * else is taken to be compressed already (JPEG, H.264, VP8, ...). */
static gboolean
caps_are_raw (GstCaps * caps)
{
  const gchar *name;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  return g_str_equal (name, "video/x-raw") || g_str_equal (name, "audio/x-raw")
      || g_str_equal (name, "video/x-bayer")
      || g_str_equal (name, "image/x-portable-anymap");
}

/* Encoder */

/* compression=auto: LZ4 for raw media while it saves enough. A camera's raw
 * frames shrink by 5-25% only, which costs more CPU and latency than it
 * saves on a local network (docs/performance.md); a synthetic or static
 * picture shrinks 10x. So auto compresses while frames shrink at least
 * AUTO_MIN_RATIO, stops when they do not, and tries one frame again every
 * AUTO_PROBE_INTERVAL frames.
 *
 * A frame of AUTO_SAMPLE_MIN bytes or more (640x480 I420 and larger) is
 * tried on a piece of AUTO_SAMPLE bytes from its middle first, and goes
 * out as it is when the piece does not shrink enough. Trying a whole
 * 1080p camera frame cost 10 ms of LZ4, and its compressed entry, of
 * another size than the others, made redis-server and the reader take
 * fresh memory for it: 760 page faults each, 20 us apiece on the
 * benchmark's VM, every 300 frames. */
#define AUTO_MIN_RATIO 1.5
#define AUTO_PROBE_INTERVAL 300
#define AUTO_SAMPLE (64 * 1024)
#define AUTO_SAMPLE_MIN (4 * AUTO_SAMPLE)

struct _GstRedisEntryEncoder
{
  /* the format version to write */
  guint version;
  gchar *caps_str;
  /* version 2: the caps' id as written; empty when the entries carry their
   * caps inline (version 1, no caps, or an id that stands for other caps
   * in this stream) */
  gchar caps_id[16];
  gboolean raw;
  /* auto: frames to send as they are before trying LZ4 again */
  guint auto_skip;
  /* a buffer with an offset was encoded: seq numbers come from upstream */
  gboolean numbered;

  GstRedisLz4 *lz4;
  GString *numbers;
  gchar *meta_json;
  /* what the entry encoded last holds */
  GstRedisEntrySize size;
};

GstRedisEntryEncoder *
gst_redis_entry_encoder_new (void)
{
  GstRedisEntryEncoder *enc = g_new0 (GstRedisEntryEncoder, 1);

  enc->version = GST_REDIS_ENTRY_VERSION;
  enc->caps_str = g_strdup ("");
  enc->lz4 = gst_redis_lz4_new ();
  enc->numbers = g_string_sized_new (64);
  return enc;
}

void
gst_redis_entry_encoder_free (GstRedisEntryEncoder * enc)
{
  if (enc == NULL)
    return;
  g_free (enc->caps_str);
  gst_redis_lz4_free (enc->lz4);
  g_free (enc->meta_json);
  g_string_free (enc->numbers, TRUE);
  g_free (enc);
}

/* The id version 2 entries of the current caps refer to. */
static void
encoder_update_caps_id (GstRedisEntryEncoder * enc)
{
  enc->caps_id[0] = '\0';
  if (enc->version >= GST_REDIS_ENTRY_VERSION_2 && enc->caps_str[0] != '\0')
    g_snprintf (enc->caps_id, sizeof (enc->caps_id), "%u",
        gst_redis_caps_id (enc->caps_str, strlen (enc->caps_str)));
}

/* Refuses, with *@why, caps a reader would refuse (gstrediscaps.c): the
 * encoder never writes a stream that no reader can read. */
gboolean
gst_redis_entry_encoder_set_caps (GstRedisEntryEncoder * enc, GstCaps * caps,
    const gchar ** why)
{
  gchar *str = g_strdup ("");

  if (caps) {
    g_free (str);
    str = gst_redis_caps_serialize (caps, why);
    if (str == NULL)
      return FALSE;
  }
  g_free (enc->caps_str);
  enc->caps_str = str;
  encoder_update_caps_id (enc);
  enc->raw = caps_are_raw (caps);
  /* new caps, new content: find out again */
  enc->auto_skip = 0;
  return TRUE;
}

/* The version of the entries to write: 1, or 2 (the default). */
void
gst_redis_entry_encoder_set_version (GstRedisEntryEncoder * enc, guint version)
{
  g_return_if_fail (version == GST_REDIS_ENTRY_VERSION_1 ||
      version == GST_REDIS_ENTRY_VERSION_2);
  enc->version = version;
  encoder_update_caps_id (enc);
}

/* Version 2: the id the entries of the current caps refer to, and the caps
 * string it stands for, which the writer stores in <stream>:info before
 * the first entry that uses the id. FALSE when the entries carry their
 * caps themselves (version 1). */
gboolean
gst_redis_entry_encoder_get_caps_ref (GstRedisEntryEncoder * enc,
    const gchar ** id, const gchar ** caps_str)
{
  if (enc->caps_id[0] == '\0')
    return FALSE;
  *id = enc->caps_id;
  *caps_str = enc->caps_str;
  return TRUE;
}

/* The id of the current caps stands for other caps in this stream (two
 * caps strings with the same id): their entries carry the caps themselves,
 * as version 1 entries, until the caps change. */
void
gst_redis_entry_encoder_inline_caps (GstRedisEntryEncoder * enc)
{
  GST_WARNING ("caps id %s stands for other caps in this stream: writing "
      "these caps into every entry (version 1)", enc->caps_id);
  enc->caps_id[0] = '\0';
}

/* One field of the entry, its value copied into the command, or only
 * referenced with @ref (the payload); counted in enc->size. */
static void
add_field (GstRedisEntryEncoder * enc, GstRedisCommand * cmd,
    const gchar * name, const gchar * value, gsize len, gboolean ref)
{
  gst_redis_command_add (cmd, name);
  if (ref)
    gst_redis_command_add_ref (cmd, value, len);
  else
    gst_redis_command_add_len (cmd, value, len);
  enc->size.names += strlen (name);
  enc->size.values += len;
  enc->size.fields++;
}

static void
add_field_str (GstRedisEntryEncoder * enc, GstRedisCommand * cmd,
    const gchar * name, const gchar * value)
{
  add_field (enc, cmd, name, value, strlen (value), FALSE);
}

static void
add_field_u64 (GstRedisEntryEncoder * enc, GstRedisCommand * cmd,
    const gchar * name, guint64 v)
{
  gchar text[24];

  g_snprintf (text, sizeof (text), "%" G_GUINT64_FORMAT, v);
  add_field_str (enc, cmd, name, text);
}

static void
add_field_time (GstRedisEntryEncoder * enc, GstRedisCommand * cmd,
    const gchar * name, GstClockTime t)
{
  /* An unset timestamp is simply left out. */
  if (GST_CLOCK_TIME_IS_VALID (t))
    add_field_u64 (enc, cmd, name, t);
}

/* What the entry encoded last holds: its field names, its values, the
 * number of fields (what Redis stores of it, gstredisretention.h). */
void
gst_redis_entry_encoder_get_size (GstRedisEntryEncoder * enc,
    GstRedisEntrySize * size)
{
  *size = enc->size;
}

/* Appends the entry's field/value pairs to @cmd, which already holds
 * "XADD key [trimming] *". Small fields are copied into the command; the
 * payload is only referenced: @map (or the encoder's compression buffer) must
 * stay valid until the command is sent. */
gboolean
gst_redis_entry_encoder_encode (GstRedisEntryEncoder * enc,
    GstBuffer * buffer, const GstMapInfo * map, guint64 seq,
    GstRedisCompression compression, gint acceleration,
    GstRedisCommand * cmd, gsize * wire_size, GError ** error)
{
  const guint8 *payload = map->data;
  gsize payload_size = map->size;
  gboolean automatic = compression == GST_REDIS_COMPRESSION_AUTO;
  gboolean lz4 = compression == GST_REDIS_COMPRESSION_LZ4 ||
      (automatic && enc->raw);
  gint64 capture;
  gboolean v2;
  guint i;

  if (automatic && lz4 && enc->auto_skip > 0) {
    enc->auto_skip--;
    lz4 = FALSE;
  }
  if (automatic && lz4 && map->size >= AUTO_SAMPLE_MIN) {
    gsize sample_size;

    if (gst_redis_lz4_compress (enc->lz4, map->data + (map->size -
                AUTO_SAMPLE) / 2, AUTO_SAMPLE, acceleration, &sample_size,
            error) == NULL)
      return FALSE;
    if (sample_size * AUTO_MIN_RATIO > AUTO_SAMPLE) {
      GST_DEBUG ("a piece of the frame shrank %.2fx only: sending it and the "
          "next %d as they are", (gdouble) AUTO_SAMPLE / sample_size,
          AUTO_PROBE_INTERVAL);
      enc->auto_skip = AUTO_PROBE_INTERVAL;
      lz4 = FALSE;
    }
  }
  if (lz4 && map->size > 0) {
    payload = gst_redis_lz4_compress (enc->lz4, map->data, map->size,
        acceleration, &payload_size, error);
    if (payload == NULL)
      return FALSE;
    if (automatic && payload_size * AUTO_MIN_RATIO > map->size) {
      GST_DEBUG ("frame shrank %.2fx only: sending the next %d as they are",
          (gdouble) map->size / payload_size, AUTO_PROBE_INTERVAL);
      enc->auto_skip = AUTO_PROBE_INTERVAL;
    }
  } else {
    lz4 = FALSE;
  }

  /* seq: the buffer offset. The caller's own count (@seq) only while no
   * buffer had one: counted on after upstream's numbers, it would give a
   * frame the number of another (seq 7, 8, then 9 for a frame without
   * one, then upstream's real 9). Such a frame goes without seq. */
  if (GST_BUFFER_OFFSET_IS_VALID (buffer)) {
    enc->numbered = TRUE;
    seq = GST_BUFFER_OFFSET (buffer);
  } else if (enc->numbered) {
    seq = GST_BUFFER_OFFSET_NONE;
  }

  v2 = enc->caps_id[0] != '\0';
  memset (&enc->size, 0, sizeof (enc->size));
  add_field_u64 (enc, cmd, GST_REDIS_FIELD_VERSION, v2 ?
      GST_REDIS_ENTRY_VERSION_2 : GST_REDIS_ENTRY_VERSION_1);
  if (seq != GST_BUFFER_OFFSET_NONE)
    add_field_u64 (enc, cmd, GST_REDIS_FIELD_SEQ, seq);
  add_field_time (enc, cmd, GST_REDIS_FIELD_PTS, GST_BUFFER_PTS (buffer));
  if (v2 && GST_BUFFER_DTS_IS_VALID (buffer) &&
      GST_BUFFER_DTS (buffer) == GST_BUFFER_PTS (buffer)) {
    /* version 2: an empty dts is the pts, as encoders without reordering
     * write it; 8 bytes less per entry */
    add_field_str (enc, cmd, GST_REDIS_FIELD_DTS, "");
  } else {
    add_field_time (enc, cmd, GST_REDIS_FIELD_DTS, GST_BUFFER_DTS (buffer));
  }
  add_field_time (enc, cmd, GST_REDIS_FIELD_DURATION,
      GST_BUFFER_DURATION (buffer));

  g_string_truncate (enc->numbers, 0);
  for (i = 0; i < G_N_ELEMENTS (buffer_flags); i++) {
    if (GST_BUFFER_FLAG_IS_SET (buffer, buffer_flags[i].flag)) {
      if (enc->numbers->len)
        g_string_append_c (enc->numbers, ',');
      g_string_append (enc->numbers, buffer_flags[i].name);
    }
  }
  add_field (enc, cmd, GST_REDIS_FIELD_FLAGS, enc->numbers->str,
      enc->numbers->len, FALSE);

  /* Version 1: the caps in every entry, so that a reader that starts after
   * older entries were trimmed can still negotiate. Version 2: their id,
   * which any reader looks up once in <stream>:info; an Opus packet of
   * 161 bytes had 341 bytes of caps. */
  add_field_str (enc, cmd, GST_REDIS_FIELD_CAPS, v2 ? enc->caps_id :
      enc->caps_str);

  capture = gst_frame_meta_get_capture_time (buffer);
  if (capture < 0) {
    /* The first hop is where the frame was captured, as far as the rest of
     * the system can tell. */
    capture = g_get_real_time () * 1000;
  }
  add_field_u64 (enc, cmd, GST_REDIS_FIELD_CAPTURE_TIME, capture);

  g_clear_pointer (&enc->meta_json, g_free);
  enc->meta_json = gst_redis_meta_to_json (buffer);
  if (enc->meta_json) {
    add_field_str (enc, cmd, GST_REDIS_FIELD_META, enc->meta_json);
  }

  /* Both may be left out for a payload as it is; version 2 entries do,
   * version 1 entries have always had them. */
  if (lz4 || !v2) {
    add_field_str (enc, cmd, GST_REDIS_FIELD_ENCODING, lz4 ? "lz4" : "none");
    add_field_u64 (enc, cmd, GST_REDIS_FIELD_SIZE, map->size);
  }

  add_field (enc, cmd, GST_REDIS_FIELD_DATA, (const gchar *) payload,
      payload_size, TRUE);

  if (wire_size)
    *wire_size = payload_size;
  return TRUE;
}

/* Decoder */

/* What the caps of an entry ask of its payload (docs/wire-format.md,
 * "Payload"): GStreamer elements map raw video as the picture the caps
 * describe and fail on a smaller buffer ("invalid video buffer received"),
 * read raw audio in whole frames (bytes per sample times channels), and
 * have nothing to do with an empty buffer. */
typedef struct
{
  /* at least this many bytes: the picture gst_video_info_from_caps ()
   * lays out for raw video, with room for padding after it; 1 otherwise */
  gsize min_size;
  /* raw audio: whole frames of this many bytes; 1 otherwise */
  gsize frame_size;
  /* for messages: "320x240 I420", "2 channels of S16LE" */
  gchar *what;
} PayloadRule;

/* Caps of an entry: the string they came from, and what they ask. */
typedef struct
{
  gchar *str;
  GstCaps *caps;
  PayloadRule rule;
} CapsState;

static void
caps_state_clear (CapsState * st)
{
  g_clear_pointer (&st->str, g_free);
  gst_clear_caps (&st->caps);
  g_clear_pointer (&st->rule.what, g_free);
}

/* Caps of version 2 entries, by id. An id stands for the same caps
 * forever (it is their digest), so what was looked up once is kept for
 * the entries that follow; a stream has a few. At most CAPS_CACHE_MAX are
 * kept, the one used longest ago making room. */
#define CAPS_CACHE_MAX 32

typedef struct
{
  guint32 id;
  guint64 used;
  CapsState st;
} CachedCaps;

struct _GstRedisEntryDecoder
{
  gsize max_frame_size;
  GstRedisLz4 *lz4;

  /* the caps of the last version 1 entry, reused while the string stays
   * the same */
  CapsState caps;
  /* version 2 */
  CachedCaps cached[CAPS_CACHE_MAX];
  guint n_cached;
  guint64 uses;
};

GstRedisEntryDecoder *
gst_redis_entry_decoder_new (void)
{
  GstRedisEntryDecoder *dec = g_new0 (GstRedisEntryDecoder, 1);

  dec->max_frame_size = GST_REDIS_DEFAULT_MAX_FRAME_SIZE;
  dec->lz4 = gst_redis_lz4_new ();
  gst_redis_names_intern_common ();
  return dec;
}

void
gst_redis_entry_decoder_free (GstRedisEntryDecoder * dec)
{
  if (dec == NULL)
    return;
  gst_redis_lz4_free (dec->lz4);
  caps_state_clear (&dec->caps);
  while (dec->n_cached > 0)
    caps_state_clear (&dec->cached[--dec->n_cached].st);
  g_free (dec);
}

void
gst_redis_entry_decoder_set_max_frame_size (GstRedisEntryDecoder * dec,
    gsize max)
{
  dec->max_frame_size = max;
}

typedef struct
{
  const GstRedisField *version, *seq, *pts, *dts, *duration, *flags, *caps,
      *encoding, *size, *capture_time, *meta, *data;
} Fields;

#define FIELD(name, member) { name, G_STRUCT_OFFSET (Fields, member) }
static const struct
{
  const gchar *name;
  gsize offset;
} known_fields[] = {
  FIELD (GST_REDIS_FIELD_VERSION, version),
  FIELD (GST_REDIS_FIELD_SEQ, seq),
  FIELD (GST_REDIS_FIELD_PTS, pts),
  FIELD (GST_REDIS_FIELD_DTS, dts),
  FIELD (GST_REDIS_FIELD_DURATION, duration),
  FIELD (GST_REDIS_FIELD_FLAGS, flags),
  FIELD (GST_REDIS_FIELD_CAPS, caps),
  FIELD (GST_REDIS_FIELD_ENCODING, encoding),
  FIELD (GST_REDIS_FIELD_SIZE, size),
  FIELD (GST_REDIS_FIELD_CAPTURE_TIME, capture_time),
  FIELD (GST_REDIS_FIELD_META, meta),
  FIELD (GST_REDIS_FIELD_DATA, data),
};

#undef FIELD

static gboolean
field_is (const GstRedisField * f, const gchar * name)
{
  gsize len = strlen (name);

  return f->name_len == len && memcmp (f->name, name, len) == 0;
}

static gboolean
value_is (const GstRedisField * f, const gchar * value)
{
  gsize len = strlen (value);

  return f->value_len == len && memcmp (f->value, value, len) == 0;
}

#define bad_field gst_redis_wire_bad_field

/* Decimal unsigned integer, digits only, no sign, no spaces. */
static gboolean
parse_u64 (const GstRedisField * f, const gchar * name, guint64 * out,
    GError ** error)
{
  guint64 v = 0;
  gsize i;

  if (f->value_len == 0 || f->value_len > 20)
    return bad_field (error, name, "is not a decimal number");
  for (i = 0; i < f->value_len; i++) {
    guint d;

    if (!g_ascii_isdigit (f->value[i]))
      return bad_field (error, name, "is not a decimal number");
    d = f->value[i] - '0';
    if (v > (G_MAXUINT64 - d) / 10)
      return bad_field (error, name, "is out of range");
    v = v * 10 + d;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_time (const GstRedisField * f, const gchar * name, GstClockTime * out,
    GError ** error)
{
  guint64 v;

  *out = GST_CLOCK_TIME_NONE;
  if (f == NULL)
    return TRUE;
  if (!parse_u64 (f, name, &v, error))
    return FALSE;
  if (v == GST_CLOCK_TIME_NONE)
    return bad_field (error, name, "is out of range");
  *out = v;
  return TRUE;
}

static gboolean
parse_flags (const GstRedisField * f, GstBufferFlags * out, GError ** error)
{
  gchar **names, **n;
  gchar *str;
  gboolean ok = TRUE;

  *out = 0;
  if (f == NULL || f->value_len == 0)
    return TRUE;
  if (f->value_len > 256)
    return bad_field (error, GST_REDIS_FIELD_FLAGS, "is too long");

  str = g_strndup (f->value, f->value_len);
  names = g_strsplit (str, ",", -1);
  for (n = names; *n && ok; n++) {
    guint i;

    for (i = 0; i < G_N_ELEMENTS (buffer_flags); i++) {
      if (g_str_equal (*n, buffer_flags[i].name)) {
        *out |= buffer_flags[i].flag;
        break;
      }
    }
    if (i == G_N_ELEMENTS (buffer_flags)) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_BAD_FIELD,
          "field \"flags\" has an unknown flag \"%s\"", *n);
      ok = FALSE;
    }
  }
  g_strfreev (names);
  g_free (str);
  return ok;
}

/* The payload rule of fixed caps; FALSE when they are raw video or audio
 * that GStreamer cannot lay out (a frame of them could go nowhere). */
static gboolean
payload_rule_from_caps (GstCaps * caps, PayloadRule * rule, GError ** error)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);

  rule->min_size = 1;
  rule->frame_size = 1;
  rule->what = NULL;
  if (gst_structure_has_name (s, "video/x-raw")) {
    GstVideoInfo info;

    if (!gst_video_info_from_caps (&info, caps))
      return bad_field (error, GST_REDIS_FIELD_CAPS, "are raw video "
          "without the format, width and height GStreamer needs to lay out "
          "a picture");
    rule->min_size = MAX (GST_VIDEO_INFO_SIZE (&info), 1);
    rule->what = g_strdup_printf ("%dx%d %s", GST_VIDEO_INFO_WIDTH (&info),
        GST_VIDEO_INFO_HEIGHT (&info), GST_VIDEO_INFO_NAME (&info));
  } else if (gst_structure_has_name (s, "audio/x-raw")) {
    GstAudioInfo info;

    if (!gst_audio_info_from_caps (&info, caps))
      return bad_field (error, GST_REDIS_FIELD_CAPS, "are raw audio "
          "without the format, rate, channels and layout GStreamer needs to "
          "read samples");
    rule->frame_size = MAX (GST_AUDIO_INFO_BPF (&info), 1);
    rule->what = g_strdup_printf ("%d channels of %s",
        GST_AUDIO_INFO_CHANNELS (&info), GST_AUDIO_INFO_NAME (&info));
  }
  return TRUE;
}

/* The payload of @size bytes against its caps' @rule. */
static gboolean
check_payload_size (const PayloadRule * rule, guint64 size, GError ** error)
{
  if (size == 0) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_WRONG_SIZE, "the payload is empty");
    return FALSE;
  }
  if (size < rule->min_size) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_WRONG_SIZE, "the payload has %" G_GUINT64_FORMAT
        " bytes, less than the %" G_GSIZE_FORMAT " bytes of a %s picture "
        "its caps describe", size, rule->min_size, rule->what);
    return FALSE;
  }
  if (size % rule->frame_size != 0) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_WRONG_SIZE, "the payload has %" G_GUINT64_FORMAT
        " bytes, not a whole number of %" G_GSIZE_FORMAT "-byte audio frames "
        "(%s) as its caps describe", size, rule->frame_size, rule->what);
    return FALSE;
  }
  return TRUE;
}

/* Parses the caps field into @st, or leaves @st empty when the string is
 * the decoder's current one. The decoder's caps only change once the whole
 * entry decoded (commit_caps ()), so a bad entry cannot leave half-applied
 * caps behind. */
static gboolean
parse_caps (GstRedisEntryDecoder * dec, const GstRedisField * f,
    CapsState * st, GError ** error)
{
  if (dec->caps.str && strlen (dec->caps.str) == f->value_len
      && memcmp (dec->caps.str, f->value, f->value_len) == 0)
    return TRUE;

  st->caps = gst_redis_caps_deserialize (f->value, f->value_len, error);
  if (st->caps == NULL)
    return FALSE;
  if (!payload_rule_from_caps (st->caps, &st->rule, error)) {
    caps_state_clear (st);
    return FALSE;
  }
  st->str = g_strndup (f->value, f->value_len);
  return TRUE;
}

/* The caps id of a version 2 entry: a decimal number below 2^31. */
static gboolean
parse_caps_id (const GstRedisField * f, guint32 * id, GError ** error)
{
  guint64 v = 0;

  if (!parse_u64 (f, GST_REDIS_FIELD_CAPS, &v, NULL) ||
      v > GST_REDIS_CAPS_ID_MAX)
    return bad_field (error, GST_REDIS_FIELD_CAPS, "is not a caps id "
        "(version 2: a decimal number below 2^31)");
  *id = v;
  return TRUE;
}

static CachedCaps *
find_cached_caps (GstRedisEntryDecoder * dec, guint32 id)
{
  guint i;

  for (i = 0; i < dec->n_cached; i++) {
    if (dec->cached[i].id == id) {
      dec->cached[i].used = ++dec->uses;
      return &dec->cached[i];
    }
  }
  return NULL;
}

static const GstRedisField *
find_field (const GstRedisField * fields, guint n_fields, const gchar * name)
{
  guint i;

  for (i = 0; i < n_fields; i++) {
    if (field_is (&fields[i], name))
      return &fields[i];
  }
  return NULL;
}

/* TRUE, with its @id, when @fields are a version 2 entry with a caps id;
 * FALSE for anything else, invalid entries included. */
gboolean
gst_redis_entry_get_caps_id (const GstRedisField * fields, guint n_fields,
    guint32 * id)
{
  const GstRedisField *v, *caps;

  *id = 0;
  v = find_field (fields, n_fields, GST_REDIS_FIELD_VERSION);
  caps = find_field (fields, n_fields, GST_REDIS_FIELD_CAPS);
  return v != NULL && caps != NULL && value_is (v, "2") &&
      parse_caps_id (caps, id, NULL);
}

/* TRUE, with its @id, when @fields are a version 2 entry whose caps id the
 * decoder does not know: look the caps up in <stream>:info (field
 * "caps:<id>") and give them to gst_redis_entry_decoder_add_caps () before
 * decoding the entry. FALSE for anything else, invalid entries included
 * (decoding says what is wrong with them). */
gboolean
gst_redis_entry_decoder_wants_caps (GstRedisEntryDecoder * dec,
    const GstRedisField * fields, guint n_fields, guint32 * id)
{
  return gst_redis_entry_get_caps_id (fields, n_fields, id) &&
      find_cached_caps (dec, *id) == NULL;
}

/* The caps string stored for caps id @id, as read from <stream>:info:
 * checked (it must be the caps of that id, and caps a reader accepts, as
 * in a version 1 entry) and kept for the entries that refer to it. FALSE
 * with @error when they are not; the entries are then invalid. */
gboolean
gst_redis_entry_decoder_add_caps (GstRedisEntryDecoder * dec, guint32 id,
    const gchar * str, gsize len, GError ** error)
{
  CachedCaps *slot;
  CapsState st = { NULL, };
  guint32 real = gst_redis_caps_id (str, len);
  guint i;

  if (real != id) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_BAD_FIELD,
        "the caps stored for caps id %u are not the caps of that id (theirs "
        "is %u)", id, real);
    return FALSE;
  }
  if (find_cached_caps (dec, id))
    return TRUE;
  st.caps = gst_redis_caps_deserialize (str, len, error);
  if (st.caps == NULL)
    return FALSE;
  if (!payload_rule_from_caps (st.caps, &st.rule, error)) {
    caps_state_clear (&st);
    return FALSE;
  }
  st.str = g_strndup (str, len);

  if (dec->n_cached < CAPS_CACHE_MAX) {
    slot = &dec->cached[dec->n_cached++];
  } else {
    slot = &dec->cached[0];
    for (i = 1; i < dec->n_cached; i++) {
      if (dec->cached[i].used < slot->used)
        slot = &dec->cached[i];
    }
    GST_DEBUG ("forgetting caps id %u for caps id %u", slot->id, id);
    caps_state_clear (&slot->st);
  }
  slot->id = id;
  slot->used = ++dec->uses;
  slot->st = st;
  return TRUE;
}

/* Returns a reference to the caps of the entry just decoded: the new ones
 * of @st, or the ones kept from an earlier entry with the same string. */
static GstCaps *
commit_caps (GstRedisEntryDecoder * dec, CapsState * st)
{
  if (st->caps) {
    caps_state_clear (&dec->caps);
    dec->caps = *st;
    memset (st, 0, sizeof (*st));
  }
  return gst_caps_ref (dec->caps.caps);
}

static void
payload_release (gpointer data)
{
  gst_redis_reply_ref_unref (data);
}

/* Finds the known fields of an entry; a field that appears twice is an
 * error. */
static gboolean
collect_fields (const GstRedisField * fields, guint n_fields, Fields * f,
    GError ** error)
{
  guint i, k;

  for (i = 0; i < n_fields; i++) {
    const GstRedisField *field = &fields[i];
    const GstRedisField **slot = NULL;

    for (k = 0; k < G_N_ELEMENTS (known_fields); k++) {
      if (field_is (field, known_fields[k].name)) {
        slot = G_STRUCT_MEMBER_P (f, known_fields[k].offset);
        break;
      }
    }

    if (slot == NULL) {
      if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
        /* a copy: GStreamer's printf ignores the precision of %.*s */
        gchar *name = g_strndup (field->name, MIN (field->name_len, 64));

        GST_LOG ("ignoring unknown field \"%s\"", name);
        g_free (name);
      }
      continue;
    }
    if (*slot != NULL) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field \"%.*s\" appears twice",
          (gint) field->name_len, field->name);
      return FALSE;
    }
    *slot = field;
  }

  if (f->version == NULL || f->caps == NULL || f->data == NULL) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_MISSING_FIELD,
        "required field \"%s\" is missing", f->version == NULL ?
        GST_REDIS_FIELD_VERSION : f->caps == NULL ? GST_REDIS_FIELD_CAPS :
        GST_REDIS_FIELD_DATA);
    return FALSE;
  }
  return TRUE;
}

/* What an entry says about its frame, apart from caps, meta and data. */
typedef struct
{
  guint version;
  guint64 seq;
  GstClockTime pts, dts, duration;
  GstBufferFlags flags;
  gboolean has_capture;
  guint64 capture;
} Header;

static gboolean
parse_header (const Fields * f, Header * h, GError ** error)
{
  guint64 version;

  if (!parse_u64 (f->version, GST_REDIS_FIELD_VERSION, &version, error))
    return FALSE;
  if (version != GST_REDIS_ENTRY_VERSION_1 &&
      version != GST_REDIS_ENTRY_VERSION_2) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_UNSUPPORTED,
        "format version %" G_GUINT64_FORMAT " is not supported (this reader "
        "understands versions %d and %d)", version, GST_REDIS_ENTRY_VERSION_1,
        GST_REDIS_ENTRY_VERSION_2);
    return FALSE;
  }
  h->version = version;

  /* no seq: no offset; 2^64 - 1 is GStreamer's "none", which a number
   * from the writer cannot mean */
  h->seq = GST_BUFFER_OFFSET_NONE;
  if (f->seq && !parse_u64 (f->seq, GST_REDIS_FIELD_SEQ, &h->seq, error))
    return FALSE;
  if (f->seq && h->seq == GST_BUFFER_OFFSET_NONE)
    return bad_field (error, GST_REDIS_FIELD_SEQ, "is out of range");
  if (!parse_time (f->pts, GST_REDIS_FIELD_PTS, &h->pts, error) ||
      !parse_time (f->duration, GST_REDIS_FIELD_DURATION, &h->duration,
          error) || !parse_flags (f->flags, &h->flags, error))
    return FALSE;
  /* version 2: an empty dts is the pts */
  if (h->version == GST_REDIS_ENTRY_VERSION_2 && f->dts &&
      f->dts->value_len == 0)
    h->dts = h->pts;
  else if (!parse_time (f->dts, GST_REDIS_FIELD_DTS, &h->dts, error))
    return FALSE;
  h->capture = 0;
  h->has_capture = f->capture_time != NULL;
  if (f->capture_time && !parse_u64 (f->capture_time,
          GST_REDIS_FIELD_CAPTURE_TIME, &h->capture, error))
    return FALSE;
  if (h->capture > G_MAXINT64)
    return bad_field (error, GST_REDIS_FIELD_CAPTURE_TIME, "is out of range");
  return TRUE;
}

/* The encoding and the frame size, checked against the payload and the
 * decoder's max-frame-size before anything is allocated. */
static gboolean
parse_payload_size (GstRedisEntryDecoder * dec, const Fields * f,
    gboolean * lz4, guint64 * size, GError ** error)
{
  if (f->encoding == NULL || value_is (f->encoding, "none")) {
    *lz4 = FALSE;
  } else if (value_is (f->encoding, "lz4")) {
    *lz4 = TRUE;
  } else {
    gchar *shown =
        gst_redis_wire_printable (f->encoding->value, f->encoding->value_len,
        32);

    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_UNSUPPORTED,
        "encoding \"%s\" is not supported (none, lz4)", shown);
    g_free (shown);
    return FALSE;
  }

  if (f->size) {
    if (!parse_u64 (f->size, GST_REDIS_FIELD_SIZE, size, error))
      return FALSE;
  } else if (*lz4) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_MISSING_FIELD,
        "field \"size\" is required with encoding lz4");
    return FALSE;
  } else {
    *size = f->data->value_len;
  }

  if (*size > dec->max_frame_size) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_TOO_LARGE,
        "declared size %" G_GUINT64_FORMAT " is larger than max-frame-size %"
        G_GSIZE_FORMAT, *size, dec->max_frame_size);
    return FALSE;
  }
  if (!*lz4 && *size != f->data->value_len) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "field \"size\" says %" G_GUINT64_FORMAT " bytes but the payload has %"
        G_GSIZE_FORMAT, *size, f->data->value_len);
    return FALSE;
  }
  return TRUE;
}

/* The frame itself: decompressed, or pointing into @owner's reply. */
static GstBuffer *
make_payload (GstRedisEntryDecoder * dec, const GstRedisField * data,
    gboolean lz4, guint64 size, GstRedisReplyRef * owner, GError ** error)
{
  GstBuffer *buffer;
  GstMapInfo map;
  gboolean ok;

  if (!lz4 && size == 0)
    return gst_buffer_new ();
  if (!lz4 && owner) {
    /* The frame stays where the reply parser put it. */
    return gst_buffer_new_wrapped_full (0, (gpointer) data->value, size,
        0, size, gst_redis_reply_ref_ref (owner), payload_release);
  }
  if (!lz4)
    return gst_buffer_new_memdup (data->value, size);

  buffer = gst_buffer_new_allocate (NULL, size, NULL);
  if (buffer == NULL) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_TOO_LARGE, "cannot allocate %" G_GUINT64_FORMAT
        " bytes", size);
    return NULL;
  }
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  ok = gst_redis_lz4_decompress (dec->lz4, (const guint8 *) data->value,
      data->value_len, map.data, size, error);
  gst_buffer_unmap (buffer, &map);
  if (!ok)
    gst_clear_buffer (&buffer);
  return buffer;
}

/* Builds a buffer from the fields of one entry, and gives the caps of that
 * entry in @caps (a reference): the caps belong to the frame, since a
 * reader may push frames in another order than it decodes them. Unknown
 * field names are ignored (a later writer may add fields that older
 * readers need not understand); anything a reader must understand but
 * cannot is an error, and nothing is allocated beyond the decoder's
 * max-frame-size. */
GstBuffer *
gst_redis_entry_decoder_decode (GstRedisEntryDecoder * dec,
    const GstRedisField * fields, guint n_fields, GstRedisReplyRef * owner,
    GstCaps ** caps, GError ** error)
{
  Fields f = { NULL, };
  Header h;
  GstBuffer *buffer = NULL;
  CapsState new_caps = { NULL, };
  CachedCaps *by_id = NULL;
  const PayloadRule *rule;
  guint64 size;
  gboolean lz4;

  *caps = NULL;
  if (!collect_fields (fields, n_fields, &f, error) ||
      !parse_header (&f, &h, error) ||
      !parse_payload_size (dec, &f, &lz4, &size, error))
    return NULL;
  if (h.version == GST_REDIS_ENTRY_VERSION_2) {
    guint32 id = 0;

    if (!parse_caps_id (f.caps, &id, error))
      return NULL;
    by_id = find_cached_caps (dec, id);
    if (by_id == NULL) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS, "its caps id %u is unknown: "
          "the stream's hash \"<stream>" GST_REDIS_INFO_SUFFIX "\" has no "
          "field \"" GST_REDIS_INFO_CAPS_PREFIX "%u\"", id, id);
      return NULL;
    }
    rule = &by_id->st.rule;
  } else {
    if (!parse_caps (dec, f.caps, &new_caps, error))
      return NULL;
    rule = new_caps.caps ? &new_caps.rule : &dec->caps.rule;
  }
  if (!check_payload_size (rule, size, error))
    goto failed;

  buffer = make_payload (dec, f.data, lz4, size, owner, error);
  if (buffer == NULL)
    goto failed;
  if (f.meta && !gst_redis_meta_from_json (buffer, f.meta->value,
          f.meta->value_len, error))
    goto failed;

  GST_BUFFER_PTS (buffer) = h.pts;
  GST_BUFFER_DTS (buffer) = h.dts;
  GST_BUFFER_DURATION (buffer) = h.duration;
  GST_BUFFER_OFFSET (buffer) = h.seq;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_FLAGS (buffer) = h.flags;
  if (h.has_capture)
    gst_buffer_add_reference_timestamp_meta (buffer,
        gst_frame_meta_capture_time_caps (), h.capture, GST_CLOCK_TIME_NONE);

  *caps = by_id ? gst_caps_ref (by_id->st.caps) : commit_caps (dec, &new_caps);
  return buffer;

  /* ERRORS */
failed:
  {
    gst_clear_buffer (&buffer);
    caps_state_clear (&new_caps);
    return NULL;
  }
}
