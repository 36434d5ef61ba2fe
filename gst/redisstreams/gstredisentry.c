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
 * target use it.
 *
 * Compression is the LZ4 *frame* format with independent blocks and the
 * content size in the header: every LZ4 library (python3-lz4's lz4.frame,
 * the lz4 command) reads it without being told the size, corrupt input is
 * detected by the frame structure, and independent blocks can be compressed
 * and decompressed in parallel. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisentry.h"
#include "gstrediscaps.h"

#include <math.h>
#include <string.h>
#include <lz4frame.h>
#include <json-glib/json-glib.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (redis_entry_debug);
#define GST_CAT_DEFAULT redis_entry_debug

G_DEFINE_QUARK (gst - redis - entry - error - quark, gst_redis_entry_error);

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

static void
ensure_debug_category (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (redis_entry_debug, "redisentry", 0,
        "Redis stream entry encoder and decoder");
    g_once_init_leave (&done, 1);
  }
}

/* Refcounted replies */

struct _GstRedisReplyRef
{
  GstRedisReply *reply;
};

static void
reply_ref_clear (gpointer data)
{
  GstRedisReplyRef *ref = data;

  gst_redis_reply_free (ref->reply);
}

GstRedisReplyRef *
gst_redis_reply_ref_new (GstRedisReply * reply)
{
  GstRedisReplyRef *ref = g_atomic_rc_box_new0 (GstRedisReplyRef);

  ref->reply = reply;
  return ref;
}

GstRedisReplyRef *
gst_redis_reply_ref_ref (GstRedisReplyRef * ref)
{
  return g_atomic_rc_box_acquire (ref);
}

void
gst_redis_reply_ref_unref (GstRedisReplyRef * ref)
{
  g_atomic_rc_box_release_full (ref, reply_ref_clear);
}

GstRedisReply *
gst_redis_reply_ref_get (GstRedisReplyRef * ref)
{
  return ref->reply;
}

/* Capture time */

GstCaps *
gst_redis_unix_timestamp_caps (void)
{
  static GstCaps *caps = NULL;

  if (g_once_init_enter (&caps)) {
    GstCaps *c = gst_caps_new_empty_simple ("timestamp/x-unix");
    GST_MINI_OBJECT_FLAG_SET (c, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    g_once_init_leave (&caps, c);
  }
  return caps;
}

/* Nanoseconds since the Unix epoch, or -1. */
gint64
gst_redis_buffer_get_capture_time (GstBuffer * buffer)
{
  GstReferenceTimestampMeta *meta;

  meta = gst_buffer_get_reference_timestamp_meta (buffer,
      gst_redis_unix_timestamp_caps ());
  if (meta == NULL || !GST_CLOCK_TIME_IS_VALID (meta->timestamp))
    return -1;
  return (gint64) meta->timestamp;
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
 * AUTO_PROBE_INTERVAL frames. */
#define AUTO_MIN_RATIO 1.5
#define AUTO_PROBE_INTERVAL 300

struct _GstRedisEntryEncoder
{
  gchar *caps_str;
  gboolean raw;
  /* auto: frames to send as they are before trying LZ4 again */
  guint auto_skip;

  guint8 *scratch;
  gsize scratch_size;
  GString *numbers;
  gchar *meta_json;
};

GstRedisEntryEncoder *
gst_redis_entry_encoder_new (void)
{
  GstRedisEntryEncoder *enc = g_new0 (GstRedisEntryEncoder, 1);

  ensure_debug_category ();
  enc->caps_str = g_strdup ("");
  enc->numbers = g_string_sized_new (64);
  return enc;
}

void
gst_redis_entry_encoder_free (GstRedisEntryEncoder * enc)
{
  if (enc == NULL)
    return;
  g_free (enc->caps_str);
  g_free (enc->scratch);
  g_free (enc->meta_json);
  g_string_free (enc->numbers, TRUE);
  g_free (enc);
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
  enc->raw = caps_are_raw (caps);
  /* new caps, new content: find out again */
  enc->auto_skip = 0;
  return TRUE;
}

static void
add_field_u64 (GstRedisCommand * cmd, const gchar * name, guint64 v)
{
  gst_redis_command_add (cmd, name);
  gst_redis_command_add_printf (cmd, "%" G_GUINT64_FORMAT, v);
}

static void
add_field_time (GstRedisCommand * cmd, const gchar * name, GstClockTime t)
{
  /* An unset timestamp is simply left out. */
  if (GST_CLOCK_TIME_IS_VALID (t))
    add_field_u64 (cmd, name, t);
}

/* LZ4 on several cores. The frame format's independent blocks (256 KiB
 * each) are compressed or decompressed one per job on a shared pool of
 * (cores - 1) threads while the calling thread does its share, so a large
 * frame takes about 1/cores of the time. Frames under two blocks, or frames
 * of another shape (linked blocks, checksums), go through LZ4F as one job. */
#include <lz4.h>

#define LZ4_BLOCK_SIZE (256 * 1024)

typedef struct
{
  GMutex lock;
  GCond cond;
  guint pending;
  gboolean failed;
} Lz4Batch;

typedef struct
{
  Lz4Batch *batch;
  gboolean compress;
  const guint8 *src;
  gint src_len;
  guint8 *dst;
  gint dst_cap;
  gint acceleration;
  gint result;
} Lz4Job;

static void
lz4_job_run (Lz4Job * job)
{
  if (job->compress)
    job->result = LZ4_compress_fast ((const char *) job->src,
        (char *) job->dst, job->src_len, job->dst_cap, job->acceleration);
  else
    job->result = LZ4_decompress_safe ((const char *) job->src,
        (char *) job->dst, job->src_len, job->dst_cap);
}

static void
lz4_pool_func (gpointer data, gpointer user_data)
{
  Lz4Job *job = data;
  Lz4Batch *batch = job->batch;

  lz4_job_run (job);
  g_mutex_lock (&batch->lock);
  batch->pending--;
  g_cond_signal (&batch->cond);
  g_mutex_unlock (&batch->lock);
}

static GThreadPool *
lz4_pool (void)
{
  static GThreadPool *pool = NULL;

  if (g_once_init_enter (&pool)) {
    guint n = g_get_num_processors ();
    GThreadPool *p = NULL;

    if (n > 1)
      p = g_thread_pool_new (lz4_pool_func, NULL, MIN (n - 1, 7), FALSE, NULL);
    g_once_init_leave (&pool, p ? p : (GThreadPool *) GINT_TO_POINTER (1));
  }
  return pool == GINT_TO_POINTER (1) ? NULL : pool;
}

/* Runs @jobs: every other one on the pool, the rest here. */
static void
lz4_run_jobs (Lz4Job * jobs, guint n)
{
  GThreadPool *pool = lz4_pool ();
  Lz4Batch batch;
  guint i;

  if (pool == NULL || n < 2) {
    for (i = 0; i < n; i++)
      lz4_job_run (&jobs[i]);
    return;
  }
  g_mutex_init (&batch.lock);
  g_cond_init (&batch.cond);
  batch.pending = 0;
  batch.failed = FALSE;
  for (i = 0; i < n; i++) {
    jobs[i].batch = &batch;
    if (i % 2 == 1) {
      g_mutex_lock (&batch.lock);
      batch.pending++;
      g_mutex_unlock (&batch.lock);
      g_thread_pool_push (pool, &jobs[i], NULL);
    }
  }
  for (i = 0; i < n; i += 2)
    lz4_job_run (&jobs[i]);
  g_mutex_lock (&batch.lock);
  while (batch.pending > 0)
    g_cond_wait (&batch.cond, &batch.lock);
  g_mutex_unlock (&batch.lock);
  g_mutex_clear (&batch.lock);
  g_cond_clear (&batch.cond);
}

static void
write_le32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static guint32
read_le32 (const guint8 * p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* What every frame the encoder writes looks like: independent 256 KiB
 * blocks, the content size in the header, no checksums. */
static void
lz4_preferences (LZ4F_preferences_t * prefs, gsize size, gint acceleration)
{
  memset (prefs, 0, sizeof (*prefs));
  prefs->frameInfo.blockSizeID = LZ4F_max256KB;
  prefs->frameInfo.blockMode = LZ4F_blockIndependent;
  prefs->frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs->frameInfo.contentSize = size;
  /* LZ4F's fast mode takes the acceleration as a negative level. */
  prefs->compressionLevel = acceleration > 1 ? -acceleration : 0;
}

static const guint8 *
compress_lz4_serial (GstRedisEntryEncoder * enc, const GstMapInfo * map,
    gint acceleration, gsize * out_size, GError ** error)
{
  LZ4F_preferences_t prefs;
  size_t bound, n;

  lz4_preferences (&prefs, map->size, acceleration);

  bound = LZ4F_compressFrameBound (map->size, &prefs);
  if (bound > enc->scratch_size) {
    g_free (enc->scratch);
    enc->scratch = g_malloc (bound);
    enc->scratch_size = bound;
  }
  n = LZ4F_compressFrame (enc->scratch, enc->scratch_size, map->data,
      map->size, &prefs);
  if (LZ4F_isError (n)) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "LZ4 compression failed: %s", LZ4F_getErrorName (n));
    return NULL;
  }
  *out_size = n;
  return enc->scratch;
}

/* The same frame as compress_lz4_serial () would write (independent 256 KiB
 * blocks, content size, no checksums), its blocks compressed in parallel:
 * each into its own slot of the scratch buffer, then moved together. */
static const guint8 *
compress_lz4 (GstRedisEntryEncoder * enc, const GstMapInfo * map,
    gint acceleration, gsize * out_size, GError ** error)
{
  LZ4F_preferences_t prefs;
  guint n_blocks = (map->size + LZ4_BLOCK_SIZE - 1) / LZ4_BLOCK_SIZE;
  gsize slot = 4 + LZ4_COMPRESSBOUND (LZ4_BLOCK_SIZE), header, pos, need;
  Lz4Job stack_jobs[16], *jobs = stack_jobs;
  LZ4F_cctx *cctx;
  guint i;

  if (n_blocks < 2 || lz4_pool () == NULL)
    return compress_lz4_serial (enc, map, acceleration, out_size, error);

  lz4_preferences (&prefs, map->size, acceleration);

  need = LZ4F_HEADER_SIZE_MAX + n_blocks * slot + 4;
  if (need > enc->scratch_size) {
    g_free (enc->scratch);
    enc->scratch = g_malloc (need);
    enc->scratch_size = need;
  }
  /* the header (with its checksum byte) from LZ4F itself */
  if (LZ4F_isError (LZ4F_createCompressionContext (&cctx, LZ4F_VERSION)))
    goto failed;
  header = LZ4F_compressBegin (cctx, enc->scratch, LZ4F_HEADER_SIZE_MAX,
      &prefs);
  LZ4F_freeCompressionContext (cctx);
  if (LZ4F_isError (header))
    goto failed;

  if (n_blocks > G_N_ELEMENTS (stack_jobs))
    jobs = g_new0 (Lz4Job, n_blocks);
  for (i = 0; i < n_blocks; i++) {
    gsize off = (gsize) i * LZ4_BLOCK_SIZE;

    jobs[i].compress = TRUE;
    jobs[i].src = map->data + off;
    jobs[i].src_len = MIN (LZ4_BLOCK_SIZE, map->size - off);
    jobs[i].dst = enc->scratch + header + i * slot + 4;
    /* a block that does not shrink is stored as it is */
    jobs[i].dst_cap = jobs[i].src_len - 1;
    jobs[i].acceleration = MAX (acceleration, 1);
    jobs[i].result = 0;
  }
  lz4_run_jobs (jobs, n_blocks);

  pos = header;
  for (i = 0; i < n_blocks; i++) {
    guint8 *out = enc->scratch + pos;

    if (jobs[i].result > 0) {
      write_le32 (out, jobs[i].result);
      memmove (out + 4, jobs[i].dst, jobs[i].result);
      pos += 4 + jobs[i].result;
    } else {
      write_le32 (out, jobs[i].src_len | 0x80000000u);
      memcpy (out + 4, jobs[i].src, jobs[i].src_len);
      pos += 4 + jobs[i].src_len;
    }
  }
  write_le32 (enc->scratch + pos, 0);   /* end mark */
  pos += 4;
  if (jobs != stack_jobs)
    g_free (jobs);
  *out_size = pos;
  return enc->scratch;

failed:
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
      "LZ4 compression failed");
  return NULL;
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
  guint i;

  if (automatic && lz4 && enc->auto_skip > 0) {
    enc->auto_skip--;
    lz4 = FALSE;
  }
  if (lz4 && map->size > 0) {
    payload = compress_lz4 (enc, map, acceleration, &payload_size, error);
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

  add_field_u64 (cmd, GST_REDIS_FIELD_VERSION, GST_REDIS_ENTRY_VERSION);
  add_field_u64 (cmd, GST_REDIS_FIELD_SEQ, seq);
  add_field_time (cmd, GST_REDIS_FIELD_PTS, GST_BUFFER_PTS (buffer));
  add_field_time (cmd, GST_REDIS_FIELD_DTS, GST_BUFFER_DTS (buffer));
  add_field_time (cmd, GST_REDIS_FIELD_DURATION, GST_BUFFER_DURATION (buffer));

  g_string_truncate (enc->numbers, 0);
  for (i = 0; i < G_N_ELEMENTS (buffer_flags); i++) {
    if (GST_BUFFER_FLAG_IS_SET (buffer, buffer_flags[i].flag)) {
      if (enc->numbers->len)
        g_string_append_c (enc->numbers, ',');
      g_string_append (enc->numbers, buffer_flags[i].name);
    }
  }
  gst_redis_command_add (cmd, GST_REDIS_FIELD_FLAGS);
  gst_redis_command_add_len (cmd, enc->numbers->str, enc->numbers->len);

  /* Caps go into every entry: a reader that starts after older entries
   * were trimmed must still be able to negotiate, and ~100 bytes are
   * nothing next to a frame. */
  gst_redis_command_add (cmd, GST_REDIS_FIELD_CAPS);
  gst_redis_command_add (cmd, enc->caps_str);

  capture = gst_redis_buffer_get_capture_time (buffer);
  if (capture < 0) {
    /* The first hop is where the frame was captured, as far as the rest of
     * the system can tell. */
    capture = g_get_real_time () * 1000;
  }
  add_field_u64 (cmd, GST_REDIS_FIELD_CAPTURE_TIME, capture);

  g_clear_pointer (&enc->meta_json, g_free);
  enc->meta_json = gst_redis_meta_to_json (buffer);
  if (enc->meta_json) {
    gst_redis_command_add (cmd, GST_REDIS_FIELD_META);
    gst_redis_command_add (cmd, enc->meta_json);
  }

  gst_redis_command_add (cmd, GST_REDIS_FIELD_ENCODING);
  gst_redis_command_add (cmd, lz4 ? "lz4" : "none");
  add_field_u64 (cmd, GST_REDIS_FIELD_SIZE, map->size);

  gst_redis_command_add (cmd, GST_REDIS_FIELD_DATA);
  gst_redis_command_add_ref (cmd, payload, payload_size);

  if (wire_size)
    *wire_size = payload_size;
  return TRUE;
}

/* Decoder */

struct _GstRedisEntryDecoder
{
  gsize max_frame_size;
  LZ4F_dctx *dctx;

  /* the caps of the last entry, reused while the string stays the same */
  gchar *caps_str;
  GstCaps *caps;
};

GstRedisEntryDecoder *
gst_redis_entry_decoder_new (void)
{
  GstRedisEntryDecoder *dec = g_new0 (GstRedisEntryDecoder, 1);

  ensure_debug_category ();
  dec->max_frame_size = GST_REDIS_DEFAULT_MAX_FRAME_SIZE;
  if (LZ4F_isError (LZ4F_createDecompressionContext (&dec->dctx, LZ4F_VERSION)))
    dec->dctx = NULL;
  return dec;
}

void
gst_redis_entry_decoder_free (GstRedisEntryDecoder * dec)
{
  if (dec == NULL)
    return;
  if (dec->dctx)
    LZ4F_freeDecompressionContext (dec->dctx);
  g_free (dec->caps_str);
  gst_clear_caps (&dec->caps);
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

/* What GstStructure accepts as a name: a letter, then letters, digits and
 * "/-_.:+". */
static gboolean
structure_name_is_valid (const gchar * name)
{
  const gchar *p;

  if (!g_ascii_isalpha (*name))
    return FALSE;
  for (p = name + 1; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("/-_.:+", *p))
      return FALSE;
  }
  return TRUE;
}

static gboolean
bad_field (GError ** error, const gchar * name, const gchar * why)
{
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_BAD_FIELD,
      "field \"%s\" %s", name, why);
  return FALSE;
}

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

/* A field value for a message: valid UTF-8 (GStreamer refuses anything
 * else and drops the whole text), at most @max bytes of it, with invalid
 * bytes and control characters written as \xNN so that the reader still
 * sees what the producer sent. */
static gchar *
printable (const gchar * s, gsize len, gsize max)
{
  GString *out = g_string_sized_new (MIN (len, max) + 8);
  const gchar *p = s, *end = s + MIN (len, max);

  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);

    if (c == (gunichar) - 1 || c == (gunichar) - 2 || c < 0x20 || c == 0x7f) {
      g_string_append_printf (out, "\\x%02x", (guint8) * p);
      p++;
    } else {
      const gchar *next = g_utf8_next_char (p);

      g_string_append_len (out, p, next - p);
      p = next;
    }
  }
  if (len > max)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

/* Parses the caps field, reusing the last caps when the string did not
 * change. The decoder's caps only change once the whole entry decoded
 * (commit_caps ()), so a bad entry cannot leave half-applied caps behind. */
static gboolean
parse_caps (GstRedisEntryDecoder * dec, const GstRedisField * f,
    gchar ** str_out, GstCaps ** caps_out, GError ** error)
{
  const gchar *why = NULL;
  GstCaps *caps;
  gchar *str;

  *str_out = NULL;
  *caps_out = NULL;
  if (dec->caps_str && strlen (dec->caps_str) == f->value_len
      && memcmp (dec->caps_str, f->value, f->value_len) == 0)
    return TRUE;

  caps = gst_redis_caps_deserialize (f->value, f->value_len, &why);
  if (caps == NULL) {
    gchar *shown = printable (f->value, f->value_len, 200);

    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field \"caps\" %s: \"%s\"", why,
        shown);
    g_free (shown);
    return FALSE;
  }
  str = g_strndup (f->value, f->value_len);
  *str_out = str;
  *caps_out = caps;
  return TRUE;
}

/* Returns a reference to the caps of the entry just decoded: the new ones,
 * or the ones kept from an earlier entry with the same string. */
static GstCaps *
commit_caps (GstRedisEntryDecoder * dec, gchar * str, GstCaps * caps)
{
  if (caps) {
    g_free (dec->caps_str);
    dec->caps_str = str;
    gst_caps_take (&dec->caps, caps);
  }
  return gst_caps_ref (dec->caps);
}

/* Decompresses a frame of independent blocks without checksums (what
 * redisstreamsink writes) block by block in parallel. Returns FALSE without
 * an error when the frame has another shape: the caller uses LZ4F. */
static gboolean
decompress_lz4_parallel (GstRedisEntryDecoder * dec,
    const GstRedisField * data, guint8 * out, gsize size, gboolean * ok,
    GError ** error)
{
  const guint8 *src = (const guint8 *) data->value;
  gsize len = data->value_len, pos, block_max, n_blocks, i;
  Lz4Job stack_jobs[16], *jobs = stack_jobs;
  LZ4F_frameInfo_t info;
  size_t header = len;
  static const gsize block_sizes[] = { 64 * 1024, 256 * 1024, 1024 * 1024,
    4 * 1024 * 1024
  };

  *ok = FALSE;
  if (size < 2 * LZ4_BLOCK_SIZE || lz4_pool () == NULL)
    return FALSE;
  LZ4F_resetDecompressionContext (dec->dctx);
  if (LZ4F_isError (LZ4F_getFrameInfo (dec->dctx, &info, src, &header)))
    return FALSE;
  LZ4F_resetDecompressionContext (dec->dctx);
  if (info.blockMode != LZ4F_blockIndependent || info.blockChecksumFlag ||
      info.contentChecksumFlag || info.blockSizeID < LZ4F_max64KB ||
      info.blockSizeID > LZ4F_max4MB)
    return FALSE;
  block_max = block_sizes[info.blockSizeID - LZ4F_max64KB];
  n_blocks = (size + block_max - 1) / block_max;
  if (n_blocks > G_N_ELEMENTS (stack_jobs))
    jobs = g_new0 (Lz4Job, n_blocks);

  /* every block but the last decompresses to block_max bytes */
  pos = header;
  for (i = 0; i < n_blocks; i++) {
    guint32 bs;
    gsize blen, out_len = MIN (block_max, size - i * block_max);

    if (len - pos < 4)
      goto corrupt;
    bs = read_le32 (src + pos);
    pos += 4;
    blen = bs & 0x7fffffffu;
    if (blen == 0 || blen > block_max || blen > len - pos)
      goto corrupt;
    jobs[i].compress = !(bs & 0x80000000u) ? FALSE : TRUE;
    jobs[i].src = src + pos;
    jobs[i].src_len = blen;
    jobs[i].dst = out + i * block_max;
    jobs[i].dst_cap = out_len;
    jobs[i].result = -1;
    if (bs & 0x80000000u) {
      /* stored as it is */
      if (blen != out_len)
        goto corrupt;
      memcpy (jobs[i].dst, jobs[i].src, blen);
      jobs[i].result = blen;
      jobs[i].src_len = 0;
    }
    pos += blen;
  }
  if (len - pos != 4 || read_le32 (src + pos) != 0)
    goto corrupt;

  {
    /* only the compressed blocks need a job */
    Lz4Job *todo = g_new (Lz4Job, n_blocks);
    guint n = 0;

    for (i = 0; i < n_blocks; i++) {
      if (jobs[i].src_len > 0) {
        jobs[i].compress = FALSE;
        todo[n++] = jobs[i];
      }
    }
    lz4_run_jobs (todo, n);
    for (i = 0; i < n; i++) {
      if (todo[i].result != todo[i].dst_cap) {
        g_free (todo);
        goto corrupt;
      }
    }
    g_free (todo);
  }
  if (jobs != stack_jobs)
    g_free (jobs);
  *ok = TRUE;
  return TRUE;

corrupt:
  if (jobs != stack_jobs)
    g_free (jobs);
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
      "LZ4 payload is corrupt or does not decode to the declared size of %"
      G_GSIZE_FORMAT " bytes", size);
  return TRUE;
}

static gboolean
decompress_lz4 (GstRedisEntryDecoder * dec, const GstRedisField * data,
    guint8 * out, gsize size, GError ** error)
{
  /* stableDst: the output is the whole frame; checksums, when a writer
   * added them, are verified. */
  LZ4F_decompressOptions_t opts = { 1, 0, 0, 0 };
  const guint8 *src = (const guint8 *) data->value;
  gsize src_left = data->value_len, out_pos = 0;
  size_t ret = 1;

  if (dec->dctx == NULL) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "no LZ4 decompression context");
    return FALSE;
  }
  if (size == 0) {
    /* nothing to write to (out may be NULL): only an empty frame is valid */
    LZ4F_frameInfo_t info;
    size_t src_n = data->value_len;

    LZ4F_resetDecompressionContext (dec->dctx);
    if (!LZ4F_isError (LZ4F_getFrameInfo (dec->dctx, &info, src,
                &src_n)) && info.contentSize == 0) {
      size_t dst_n = 0, left = data->value_len - src_n, rest = left;
      size_t ret = LZ4F_decompress (dec->dctx, NULL, &dst_n, src + src_n,
          &rest, &opts);

      if (ret == 0 && dst_n == 0 && rest == left)
        return TRUE;
    }
    LZ4F_resetDecompressionContext (dec->dctx);
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "LZ4 payload is not an empty frame, as its size 0 says");
    return FALSE;
  }
  {
    gboolean ok = FALSE;

    /* what redisstreamsink writes, on every core */
    if (decompress_lz4_parallel (dec, data, out, size, &ok, error))
      return ok;
  }

  LZ4F_resetDecompressionContext (dec->dctx);

  while (src_left > 0 && ret != 0) {
    size_t src_n = src_left, dst_n = size - out_pos;

    ret = LZ4F_decompress (dec->dctx, out + out_pos, &dst_n, src, &src_n,
        &opts);
    if (LZ4F_isError (ret)) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_CORRUPT, "LZ4 payload is corrupt: %s",
          LZ4F_getErrorName (ret));
      LZ4F_resetDecompressionContext (dec->dctx);
      return FALSE;
    }
    src += src_n;
    src_left -= src_n;
    out_pos += dst_n;
    if (src_n == 0 && dst_n == 0)
      break;                    /* no progress: output full or input short */
  }

  if (ret != 0 || src_left != 0 || out_pos != size) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "LZ4 payload does not decode to the declared size of %" G_GSIZE_FORMAT
        " bytes (%s)", size, ret != 0 ? "truncated or larger" :
        src_left ? "trailing bytes" : "shorter");
    LZ4F_resetDecompressionContext (dec->dctx);
    return FALSE;
  }
  return TRUE;
}

static void
payload_release (gpointer data)
{
  gst_redis_reply_ref_unref (data);
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
  GstBuffer *buffer = NULL;
  GstCaps *new_caps = NULL;
  gchar *new_caps_str = NULL;
  GstBufferFlags flags;
  GstClockTime pts, dts, duration;
  guint64 version, seq = GST_BUFFER_OFFSET_NONE, size, capture = 0;
  gboolean lz4 = FALSE;
  guint i, k;

  *caps = NULL;
  for (i = 0; i < n_fields; i++) {
    const GstRedisField *field = &fields[i];
    const GstRedisField **slot = NULL;

    for (k = 0; k < G_N_ELEMENTS (known_fields); k++) {
      if (field_is (field, known_fields[k].name)) {
        slot = G_STRUCT_MEMBER_P (&f, known_fields[k].offset);
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
      return NULL;
    }
    *slot = field;
  }

  if (f.version == NULL || f.caps == NULL || f.data == NULL) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_MISSING_FIELD,
        "required field \"%s\" is missing", f.version == NULL ?
        GST_REDIS_FIELD_VERSION : f.caps == NULL ? GST_REDIS_FIELD_CAPS :
        GST_REDIS_FIELD_DATA);
    return NULL;
  }
  if (!parse_u64 (f.version, GST_REDIS_FIELD_VERSION, &version, error))
    return NULL;
  if (version != GST_REDIS_ENTRY_VERSION) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_UNSUPPORTED,
        "format version %" G_GUINT64_FORMAT " is not supported (this reader "
        "understands version %d)", version, GST_REDIS_ENTRY_VERSION);
    return NULL;
  }

  if (f.seq && !parse_u64 (f.seq, GST_REDIS_FIELD_SEQ, &seq, error))
    return NULL;
  if (!parse_time (f.pts, GST_REDIS_FIELD_PTS, &pts, error) ||
      !parse_time (f.dts, GST_REDIS_FIELD_DTS, &dts, error) ||
      !parse_time (f.duration, GST_REDIS_FIELD_DURATION, &duration, error) ||
      !parse_flags (f.flags, &flags, error))
    return NULL;
  if (f.capture_time && !parse_u64 (f.capture_time,
          GST_REDIS_FIELD_CAPTURE_TIME, &capture, error))
    return NULL;
  if (capture > G_MAXINT64) {
    bad_field (error, GST_REDIS_FIELD_CAPTURE_TIME, "is out of range");
    return NULL;
  }

  if (f.encoding == NULL || value_is (f.encoding, "none")) {
    lz4 = FALSE;
  } else if (value_is (f.encoding, "lz4")) {
    lz4 = TRUE;
  } else {
    gchar *shown = printable (f.encoding->value, f.encoding->value_len, 32);

    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_UNSUPPORTED,
        "encoding \"%s\" is not supported (none, lz4)", shown);
    g_free (shown);
    return NULL;
  }

  if (f.size) {
    if (!parse_u64 (f.size, GST_REDIS_FIELD_SIZE, &size, error))
      return NULL;
  } else if (lz4) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_MISSING_FIELD,
        "field \"size\" is required with encoding lz4");
    return NULL;
  } else {
    size = f.data->value_len;
  }

  if (size > dec->max_frame_size) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_TOO_LARGE,
        "declared size %" G_GUINT64_FORMAT " is larger than max-frame-size %"
        G_GSIZE_FORMAT, size, dec->max_frame_size);
    return NULL;
  }
  if (!lz4 && size != f.data->value_len) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "field \"size\" says %" G_GUINT64_FORMAT " bytes but the payload has %"
        G_GSIZE_FORMAT, size, f.data->value_len);
    return NULL;
  }

  if (!parse_caps (dec, f.caps, &new_caps_str, &new_caps, error))
    return NULL;

  if (lz4) {
    GstMapInfo map;

    buffer = gst_buffer_new_allocate (NULL, size, NULL);
    if (buffer == NULL) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_TOO_LARGE, "cannot allocate %" G_GUINT64_FORMAT
          " bytes", size);
      goto failed;
    }
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    if (!decompress_lz4 (dec, f.data, map.data, size, error)) {
      gst_buffer_unmap (buffer, &map);
      goto failed;
    }
    gst_buffer_unmap (buffer, &map);
  } else if (size == 0) {
    buffer = gst_buffer_new ();
  } else if (owner) {
    /* The frame stays where the reply parser put it. */
    buffer = gst_buffer_new_wrapped_full (0, (gpointer) f.data->value, size,
        0, size, gst_redis_reply_ref_ref (owner), payload_release);
  } else {
    buffer = gst_buffer_new_memdup (f.data->value, size);
  }

  if (f.meta && !gst_redis_meta_from_json (buffer, f.meta->value,
          f.meta->value_len, error))
    goto failed;

  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DTS (buffer) = dts;
  GST_BUFFER_DURATION (buffer) = duration;
  GST_BUFFER_OFFSET (buffer) = seq;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_FLAGS (buffer) = flags;
  if (f.capture_time)
    gst_buffer_add_reference_timestamp_meta (buffer,
        gst_redis_unix_timestamp_caps (), capture, GST_CLOCK_TIME_NONE);

  *caps = commit_caps (dec, new_caps_str, new_caps);
  return buffer;

failed:
  gst_clear_buffer (&buffer);
  gst_clear_caps (&new_caps);
  g_free (new_caps_str);
  return NULL;
}

/* Metadata as JSON: the region-of-interest metas of the frame (detections),
 * docs/wire-format.md "meta". */

static JsonNode *
value_to_json (const GValue * v)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  switch (G_VALUE_TYPE (v)) {
    case G_TYPE_BOOLEAN:
      json_node_set_boolean (node, g_value_get_boolean (v));
      break;
    case G_TYPE_INT:
      json_node_set_int (node, g_value_get_int (v));
      break;
    case G_TYPE_UINT:
      json_node_set_int (node, g_value_get_uint (v));
      break;
    case G_TYPE_INT64:
      json_node_set_int (node, g_value_get_int64 (v));
      break;
    case G_TYPE_UINT64:
      json_node_set_int (node, (gint64) g_value_get_uint64 (v));
      break;
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:{
      gdouble d = G_VALUE_TYPE (v) == G_TYPE_FLOAT ?
          g_value_get_float (v) : g_value_get_double (v);

      /* JSON has no inf or nan; and json-glib 1.6 writes a number with an
       * exponent as invalid JSON ("1e-300.0"), so magnitudes that need one
       * (below 1e-5, 1e17 and above) are rounded to 0 or left out. */
      if (!isfinite (d) || fabs (d) >= 1e17) {
        json_node_unref (node);
        return NULL;
      }
      json_node_set_double (node, fabs (d) < 1e-5 ? 0.0 : d);
      break;
    }
    case G_TYPE_STRING:
      json_node_set_string (node, g_value_get_string (v));
      break;
    default:{
      gchar *s = gst_value_serialize (v);

      if (s == NULL) {
        json_node_unref (node);
        return NULL;
      }
      json_node_set_string (node, s);
      g_free (s);
      break;
    }
  }
  return node;
}

static gboolean
structure_field_to_json (GQuark field, const GValue * value, gpointer data)
{
  JsonObject *obj = data;
  JsonNode *node = value_to_json (value);

  if (node)
    json_object_set_member (obj, g_quark_to_string (field), node);
  return TRUE;
}

gchar *
gst_redis_meta_to_json (GstBuffer * buffer)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  JsonArray *rois = NULL;
  JsonObject *root;
  JsonNode *root_node;
  gchar *json;

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    JsonObject *obj = json_object_new ();
    JsonObject *params = json_object_new ();
    GList *l;

    if (rois == NULL)
      rois = json_array_new ();
    json_object_set_string_member (obj, "type",
        roi->roi_type ? g_quark_to_string (roi->roi_type) : "");
    json_object_set_int_member (obj, "id", roi->id);
    json_object_set_int_member (obj, "parent-id", roi->parent_id);
    json_object_set_int_member (obj, "x", roi->x);
    json_object_set_int_member (obj, "y", roi->y);
    json_object_set_int_member (obj, "w", roi->w);
    json_object_set_int_member (obj, "h", roi->h);
    for (l = roi->params; l; l = l->next) {
      GstStructure *s = l->data;
      JsonObject *fields = json_object_new ();

      gst_structure_foreach (s, structure_field_to_json, fields);
      json_object_set_object_member (params, gst_structure_get_name (s),
          fields);
    }
    json_object_set_object_member (obj, "params", params);
    json_array_add_object_element (rois, obj);
  }

  if (rois == NULL)
    return NULL;

  root = json_object_new ();
  json_object_set_array_member (root, "rois", rois);
  root_node = json_node_init_object (json_node_alloc (), root);
  json = json_to_string (root_node, FALSE);
  json_node_unref (root_node);
  json_object_unref (root);
  return json;
}

static gboolean
json_member_to_gvalue (JsonNode * node, GValue * v)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  switch (json_node_get_value_type (node)) {
    case G_TYPE_BOOLEAN:
      g_value_init (v, G_TYPE_BOOLEAN);
      g_value_set_boolean (v, json_node_get_boolean (node));
      return TRUE;
    case G_TYPE_INT64:{
      gint64 i = json_node_get_int (node);

      if (i >= G_MININT && i <= G_MAXINT) {
        g_value_init (v, G_TYPE_INT);
        g_value_set_int (v, (gint) i);
      } else {
        g_value_init (v, G_TYPE_INT64);
        g_value_set_int64 (v, i);
      }
      return TRUE;
    }
    case G_TYPE_DOUBLE:
      g_value_init (v, G_TYPE_DOUBLE);
      g_value_set_double (v, json_node_get_double (node));
      return TRUE;
    case G_TYPE_STRING:
      g_value_init (v, G_TYPE_STRING);
      g_value_set_string (v, json_node_get_string (node));
      return TRUE;
    default:
      return FALSE;
  }
}

/* Limits of what a region may carry: every name becomes a GLib quark, which
 * lives as long as the process, so names are few and short. */
#define MAX_PARAMS_PER_REGION 8
#define MAX_FIELDS_PER_PARAM 16
#define MAX_NAME_LENGTH 64
#define MAX_STRING_VALUE_LENGTH 256

static gboolean
text_is_valid (const gchar * text, gsize max)
{
  return text && strlen (text) <= max && g_utf8_validate (text, -1, NULL);
}

static gboolean
params_are_valid (JsonNode * node)
{
  JsonObject *params;
  GList *names, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  params = json_node_get_object (node);
  if (json_object_get_size (params) > MAX_PARAMS_PER_REGION)
    return FALSE;
  names = json_object_get_members (params);
  for (l = names; l && ok; l = l->next) {
    JsonNode *pnode = json_object_get_member (params, l->data);
    GList *fields, *f;

    if (strlen (l->data) > MAX_NAME_LENGTH ||
        !structure_name_is_valid (l->data) || !JSON_NODE_HOLDS_OBJECT (pnode)
        || json_object_get_size (json_node_get_object (pnode)) >
        MAX_FIELDS_PER_PARAM) {
      ok = FALSE;
      break;
    }
    fields = json_object_get_members (json_node_get_object (pnode));
    for (f = fields; f && ok; f = f->next) {
      JsonNode *v = json_object_get_member (json_node_get_object (pnode),
          f->data);

      ok = strlen (f->data) <= MAX_NAME_LENGTH &&
          structure_name_is_valid (f->data) && JSON_NODE_HOLDS_VALUE (v);
      if (!ok)
        break;
      switch (json_node_get_value_type (v)) {
        case G_TYPE_BOOLEAN:
        case G_TYPE_INT64:
          break;
        case G_TYPE_DOUBLE:
          ok = isfinite (json_node_get_double (v));
          break;
        case G_TYPE_STRING:
          ok = text_is_valid (json_node_get_string (v),
              MAX_STRING_VALUE_LENGTH);
          break;
        default:
          ok = FALSE;
          break;
      }
    }
    g_list_free (fields);
  }
  g_list_free (names);
  return ok;
}

static gboolean
get_int_member (JsonObject * obj, const gchar * name, gint64 min, gint64 max,
    gint64 * out)
{
  JsonNode *node = json_object_get_member (obj, name);

  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* Adds the metas described by @json to @buffer; all or nothing. */
gboolean
gst_redis_meta_from_json (GstBuffer * buffer, const gchar * json, gsize len,
    GError ** error)
{
  JsonParser *parser;
  JsonNode *root;
  JsonArray *rois = NULL;
  GError *err = NULL;
  guint i, n;
  gboolean ok = FALSE;

  if (len > GST_REDIS_MAX_TEXT_FIELD) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_TOO_LARGE, "field \"meta\" is larger than %d "
        "bytes", GST_REDIS_MAX_TEXT_FIELD);
    return FALSE;
  }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, len, &err)) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field \"meta\" is not JSON: %s",
        err->message);
    g_clear_error (&err);
    goto out;
  }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    bad_field (error, GST_REDIS_FIELD_META, "is not a JSON object");
    goto out;
  }
  if (json_object_has_member (json_node_get_object (root), "rois")) {
    JsonNode *node = json_object_get_member (json_node_get_object (root),
        "rois");

    if (!JSON_NODE_HOLDS_ARRAY (node)) {
      bad_field (error, GST_REDIS_FIELD_META, "has \"rois\" that is not an "
          "array");
      goto out;
    }
    rois = json_node_get_array (node);
  }

  n = rois ? json_array_get_length (rois) : 0;
  if (n > 1024) {
    bad_field (error, GST_REDIS_FIELD_META, "has more than 1024 regions");
    goto out;
  }

  /* Validate everything first, so that a bad region leaves no half-done
   * metas on the buffer. */
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (rois, i);
    JsonObject *obj;
    gint64 v;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      goto bad_roi;
    obj = json_node_get_object (node);
    if (!json_object_has_member (obj, "type") ||
        !JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "type")) ||
        json_node_get_value_type (json_object_get_member (obj, "type")) !=
        G_TYPE_STRING)
      goto bad_roi;
    if (!get_int_member (obj, "x", 0, G_MAXUINT, &v) ||
        !get_int_member (obj, "y", 0, G_MAXUINT, &v) ||
        !get_int_member (obj, "w", 0, G_MAXUINT, &v) ||
        !get_int_member (obj, "h", 0, G_MAXUINT, &v))
      goto bad_roi;
    if (!text_is_valid (json_object_get_string_member (obj, "type"), 64))
      goto bad_roi;
    if (json_object_has_member (obj, "params") &&
        !params_are_valid (json_object_get_member (obj, "params")))
      goto bad_roi;
  }

  for (i = 0; i < n; i++) {
    JsonObject *obj = json_array_get_object_element (rois, i);
    GstVideoRegionOfInterestMeta *meta;
    gint64 x, y, w, h, v;

    get_int_member (obj, "x", 0, G_MAXUINT, &x);
    get_int_member (obj, "y", 0, G_MAXUINT, &y);
    get_int_member (obj, "w", 0, G_MAXUINT, &w);
    get_int_member (obj, "h", 0, G_MAXUINT, &h);
    meta = gst_buffer_add_video_region_of_interest_meta (buffer,
        json_object_get_string_member (obj, "type"), x, y, w, h);
    /* missing: GStreamer's own defaults */
    if (get_int_member (obj, "id", G_MININT, G_MAXINT, &v))
      meta->id = v;
    if (get_int_member (obj, "parent-id", G_MININT, G_MAXINT, &v))
      meta->parent_id = v;

    if (json_object_has_member (obj, "params")) {
      JsonObject *params = json_object_get_object_member (obj, "params");
      GList *names = json_object_get_members (params), *l;

      for (l = names; l; l = l->next) {
        JsonNode *pnode = json_object_get_member (params, l->data);
        GstStructure *s;
        GList *fnames, *fl;

        s = gst_structure_new_empty (l->data);
        fnames = json_object_get_members (json_node_get_object (pnode));
        for (fl = fnames; fl; fl = fl->next) {
          GValue v = G_VALUE_INIT;

          if (json_member_to_gvalue (json_object_get_member
                  (json_node_get_object (pnode), fl->data), &v))
            gst_structure_take_value (s, fl->data, &v);
        }
        g_list_free (fnames);
        gst_video_region_of_interest_meta_add_param (meta, s);
      }
      g_list_free (names);
    }
  }
  ok = TRUE;
  goto out;

bad_roi:
  bad_field (error, GST_REDIS_FIELD_META, "has a region that is not "
      "{\"type\": string, \"x\", \"y\", \"w\", \"h\": non-negative "
      "integers, \"params\": {name: {field: number, string or boolean}}} "
      "within the documented limits");
out:
  g_object_unref (parser);
  return ok;
}
