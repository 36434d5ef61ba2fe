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

/* LZ4 as the entry codec uses it: the LZ4 *frame* format with independent
 * blocks and the content size in the header. Every LZ4 library
 * (python3-lz4's lz4.frame, the lz4 command) reads it without being told
 * the size, corrupt input is detected by the frame structure, and
 * independent blocks can be compressed and decompressed in parallel.
 *
 * On several cores, the 256 KiB blocks of a frame are compressed or
 * decompressed one per task on the object's GstParallelRunner, the calling
 * thread doing its share, so a large frame takes about 1/cores of the time.
 * Frames under two blocks, or frames of another shape (linked blocks,
 * checksums), go through LZ4F on the calling thread. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredislz4.h"
#include "gstrediswire.h"
#include "gstparallel.h"
#include "gstredisdebug.h"

#include <string.h>
#include <lz4.h>
#include <lz4frame.h>

#define GST_CAT_DEFAULT gst_redis_lz4_debug

#define LZ4_BLOCK_SIZE (256 * 1024)
/* More threads than this gain little on frames of a few MiB. */
#define LZ4_MAX_THREADS 8

struct _GstRedisLz4
{
  /* created for the first frame of two blocks or more */
  GstParallelRunner *runner;
  gboolean runner_tried;
  LZ4F_dctx *dctx;
  guint8 *scratch;
  gsize scratch_size;
};

/* One block. Compress: src -> dst, result the compressed size, or 0 when
 * the block does not shrink. Decompress: result the decompressed size, or
 * negative; a stored block is copied. */
typedef struct
{
  const guint8 *src;
  gint src_len;
  guint8 *dst;
  gint dst_cap;
  gboolean stored;
  gint result;
} Lz4Job;

typedef struct
{
  Lz4Job *jobs;
  gint acceleration;
} Lz4Batch;

GstRedisLz4 *
gst_redis_lz4_new (void)
{
  GstRedisLz4 *lz4 = g_new0 (GstRedisLz4, 1);

  if (LZ4F_isError (LZ4F_createDecompressionContext (&lz4->dctx, LZ4F_VERSION)))
    lz4->dctx = NULL;
  return lz4;
}

void
gst_redis_lz4_free (GstRedisLz4 * lz4)
{
  if (lz4 == NULL)
    return;
  gst_parallel_runner_free (lz4->runner);
  if (lz4->dctx)
    LZ4F_freeDecompressionContext (lz4->dctx);
  g_free (lz4->scratch);
  g_free (lz4);
}

/* The runner for frames of several blocks, or NULL on a single core (or
 * when worker threads cannot start): then frames go through LZ4F. */
static GstParallelRunner *
lz4_runner (GstRedisLz4 * lz4)
{
  guint n = MIN (g_get_num_processors (), LZ4_MAX_THREADS);
  GError *err = NULL;

  if (lz4->runner_tried || n < 2)
    return lz4->runner;
  lz4->runner_tried = TRUE;
  lz4->runner = gst_parallel_runner_new (n, &err);
  if (lz4->runner == NULL) {
    GST_WARNING ("LZ4 runs on one thread, no worker threads: %s", err->message);
    g_clear_error (&err);
  }
  return lz4->runner;
}

static guint8 *
lz4_scratch (GstRedisLz4 * lz4, gsize need)
{
  if (need > lz4->scratch_size) {
    g_free (lz4->scratch);
    lz4->scratch = g_malloc (need);
    lz4->scratch_size = need;
  }
  return lz4->scratch;
}

static void
lz4_compress_task (gpointer data, guint index)
{
  Lz4Batch *batch = data;
  Lz4Job *job = &batch->jobs[index];

  job->result = LZ4_compress_fast ((const char *) job->src,
      (char *) job->dst, job->src_len, job->dst_cap, batch->acceleration);
}

static void
lz4_decompress_task (gpointer data, guint index)
{
  Lz4Batch *batch = data;
  Lz4Job *job = &batch->jobs[index];

  if (job->stored) {
    memcpy (job->dst, job->src, job->src_len);
    job->result = job->src_len;
  } else {
    job->result = LZ4_decompress_safe ((const char *) job->src,
        (char *) job->dst, job->src_len, job->dst_cap);
  }
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

static gboolean
compress_failed (GError ** error, const gchar * why)
{
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
      "LZ4 compression failed%s%s", why ? ": " : "", why ? why : "");
  return FALSE;
}

static const guint8 *
compress_serial (GstRedisLz4 * lz4, const guint8 * data, gsize size,
    gint acceleration, gsize * out_size, GError ** error)
{
  LZ4F_preferences_t prefs;
  size_t bound, n;

  lz4_preferences (&prefs, size, acceleration);
  bound = LZ4F_compressFrameBound (size, &prefs);
  n = LZ4F_compressFrame (lz4_scratch (lz4, bound), bound, data, size, &prefs);
  if (LZ4F_isError (n)) {
    compress_failed (error, LZ4F_getErrorName (n));
    return NULL;
  }
  *out_size = n;
  return lz4->scratch;
}

/* The frame header (with its checksum byte), written by LZ4F itself into
 * @out; 0 on failure. */
static gsize
compress_header (const LZ4F_preferences_t * prefs, guint8 * out)
{
  LZ4F_cctx *cctx;
  size_t header;

  if (LZ4F_isError (LZ4F_createCompressionContext (&cctx, LZ4F_VERSION)))
    return 0;
  header = LZ4F_compressBegin (cctx, out, LZ4F_HEADER_SIZE_MAX, prefs);
  LZ4F_freeCompressionContext (cctx);
  return LZ4F_isError (header) ? 0 : header;
}

/* The same frame as compress_serial () would write, its blocks compressed
 * in parallel: each into its own slot of the scratch buffer, then moved
 * together. */
static const guint8 *
compress_parallel (GstRedisLz4 * lz4, const guint8 * data, gsize size,
    gint acceleration, gsize * out_size, GError ** error)
{
  guint n_blocks = (size + LZ4_BLOCK_SIZE - 1) / LZ4_BLOCK_SIZE, i;
  const gsize slot = 4 + LZ4_COMPRESSBOUND (LZ4_BLOCK_SIZE);
  LZ4F_preferences_t prefs;
  Lz4Batch batch = { NULL, MAX (acceleration, 1) };
  guint8 *out;
  gsize header, pos;

  lz4_preferences (&prefs, size, acceleration);
  out = lz4_scratch (lz4, LZ4F_HEADER_SIZE_MAX + n_blocks * slot + 4);
  header = compress_header (&prefs, out);
  if (header == 0) {
    compress_failed (error, NULL);
    return NULL;
  }

  batch.jobs = g_new0 (Lz4Job, n_blocks);
  for (i = 0; i < n_blocks; i++) {
    gsize off = (gsize) i * LZ4_BLOCK_SIZE;

    batch.jobs[i].src = data + off;
    batch.jobs[i].src_len = MIN (LZ4_BLOCK_SIZE, size - off);
    batch.jobs[i].dst = out + header + i * slot + 4;
    /* a block that does not shrink is stored as it is */
    batch.jobs[i].dst_cap = batch.jobs[i].src_len - 1;
  }
  gst_parallel_runner_run (lz4->runner, lz4_compress_task, &batch, n_blocks);

  pos = header;
  for (i = 0; i < n_blocks; i++) {
    const Lz4Job *job = &batch.jobs[i];

    if (job->result > 0) {
      write_le32 (out + pos, job->result);
      memmove (out + pos + 4, job->dst, job->result);
      pos += 4 + job->result;
    } else {
      write_le32 (out + pos, job->src_len | 0x80000000u);
      memcpy (out + pos + 4, job->src, job->src_len);
      pos += 4 + job->src_len;
    }
  }
  write_le32 (out + pos, 0);    /* end mark */
  g_free (batch.jobs);
  *out_size = pos + 4;
  return out;
}

/* Compresses @size bytes at @data into one LZ4 frame. The result lives in
 * @lz4's scratch memory until the next call. */
const guint8 *
gst_redis_lz4_compress (GstRedisLz4 * lz4, const guint8 * data, gsize size,
    gint acceleration, gsize * out_size, GError ** error)
{
  if (size < 2 * LZ4_BLOCK_SIZE || lz4_runner (lz4) == NULL)
    return compress_serial (lz4, data, size, acceleration, out_size, error);
  return compress_parallel (lz4, data, size, acceleration, out_size, error);
}

/* Fills one job per block of the frame body @src (after its header) from
 * the block table; FALSE when the blocks do not add up to @size. */
static gboolean
plan_blocks (const guint8 * src, gsize len, gsize pos, gsize block_max,
    guint8 * out, gsize size, Lz4Job * jobs, gsize n_blocks)
{
  gsize i;

  /* every block but the last decompresses to block_max bytes */
  for (i = 0; i < n_blocks; i++) {
    gsize blen, out_len = MIN (block_max, size - i * block_max);
    guint32 bs;

    if (len - pos < 4)
      return FALSE;
    bs = read_le32 (src + pos);
    pos += 4;
    blen = bs & 0x7fffffffu;
    if (blen == 0 || blen > block_max || blen > len - pos)
      return FALSE;
    jobs[i].stored = (bs & 0x80000000u) != 0;
    /* stored as it is: exactly the output size */
    if (jobs[i].stored && blen != out_len)
      return FALSE;
    jobs[i].src = src + pos;
    jobs[i].src_len = blen;
    jobs[i].dst = out + i * block_max;
    jobs[i].dst_cap = out_len;
    jobs[i].result = -1;
    pos += blen;
  }
  return len - pos == 4 && read_le32 (src + pos) == 0;
}

/* Decompresses a frame of independent blocks without checksums (what
 * redisstreamsink writes) block by block in parallel. Returns FALSE without
 * an error when the frame has another shape: the caller uses LZ4F. */
static gboolean
decompress_parallel (GstRedisLz4 * lz4, const guint8 * src, gsize len,
    guint8 * out, gsize size, gboolean * ok, GError ** error)
{
  static const gsize block_sizes[] = { 64 * 1024, 256 * 1024, 1024 * 1024,
    4 * 1024 * 1024
  };
  Lz4Batch batch = { NULL, 0 };
  LZ4F_frameInfo_t info;
  size_t header = len;
  gsize block_max, n_blocks, i;

  *ok = FALSE;
  LZ4F_resetDecompressionContext (lz4->dctx);
  if (LZ4F_isError (LZ4F_getFrameInfo (lz4->dctx, &info, src, &header)))
    return FALSE;
  LZ4F_resetDecompressionContext (lz4->dctx);
  if (info.blockMode != LZ4F_blockIndependent || info.blockChecksumFlag ||
      info.contentChecksumFlag || info.blockSizeID < LZ4F_max64KB ||
      info.blockSizeID > LZ4F_max4MB)
    return FALSE;
  block_max = block_sizes[info.blockSizeID - LZ4F_max64KB];
  n_blocks = (size + block_max - 1) / block_max;

  batch.jobs = g_new0 (Lz4Job, n_blocks);
  if (plan_blocks (src, len, header, block_max, out, size, batch.jobs,
          n_blocks)) {
    gst_parallel_runner_run (lz4->runner, lz4_decompress_task, &batch,
        n_blocks);
    for (i = 0; i < n_blocks; i++) {
      if (batch.jobs[i].result != batch.jobs[i].dst_cap)
        break;
    }
    *ok = i == n_blocks;
  }
  g_free (batch.jobs);
  if (!*ok)
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "LZ4 payload is corrupt or does not decode to the declared size of %"
        G_GSIZE_FORMAT " bytes", size);
  return TRUE;
}

/* Nothing to write to (out may be NULL): only an empty frame is valid. */
static gboolean
decompress_empty (GstRedisLz4 * lz4, const guint8 * src, gsize len,
    GError ** error)
{
  LZ4F_decompressOptions_t opts = { 1, 0, 0, 0 };
  LZ4F_frameInfo_t info;
  size_t src_n = len;

  LZ4F_resetDecompressionContext (lz4->dctx);
  if (!LZ4F_isError (LZ4F_getFrameInfo (lz4->dctx, &info, src,
              &src_n)) && info.contentSize == 0) {
    size_t dst_n = 0, left = len - src_n, rest = left;
    size_t ret = LZ4F_decompress (lz4->dctx, NULL, &dst_n, src + src_n,
        &rest, &opts);

    if (ret == 0 && dst_n == 0 && rest == left)
      return TRUE;
  }
  LZ4F_resetDecompressionContext (lz4->dctx);
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
      "LZ4 payload is not an empty frame, as its size 0 says");
  return FALSE;
}

/* Any LZ4 frame, through LZ4F on this thread. */
static gboolean
decompress_serial (GstRedisLz4 * lz4, const guint8 * src, gsize len,
    guint8 * out, gsize size, GError ** error)
{
  /* stableDst: the output is the whole frame; checksums, when a writer
   * added them, are verified. */
  LZ4F_decompressOptions_t opts = { 1, 0, 0, 0 };
  gsize src_left = len, out_pos = 0;
  size_t ret = 1;

  LZ4F_resetDecompressionContext (lz4->dctx);
  while (src_left > 0 && ret != 0) {
    size_t src_n = src_left, dst_n = size - out_pos;

    ret = LZ4F_decompress (lz4->dctx, out + out_pos, &dst_n, src, &src_n,
        &opts);
    if (LZ4F_isError (ret)) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_CORRUPT, "LZ4 payload is corrupt: %s",
          LZ4F_getErrorName (ret));
      LZ4F_resetDecompressionContext (lz4->dctx);
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
    LZ4F_resetDecompressionContext (lz4->dctx);
    return FALSE;
  }
  return TRUE;
}

/* Decompresses the LZ4 frame @src of @len bytes into exactly @size bytes at
 * @out; anything else (a corrupt frame, another size) is an error. */
gboolean
gst_redis_lz4_decompress (GstRedisLz4 * lz4, const guint8 * src, gsize len,
    guint8 * out, gsize size, GError ** error)
{
  gboolean ok = FALSE;

  if (lz4->dctx == NULL) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_CORRUPT,
        "no LZ4 decompression context");
    return FALSE;
  }
  if (size == 0)
    return decompress_empty (lz4, src, len, error);
  /* what redisstreamsink writes, on every core */
  if (size >= 2 * LZ4_BLOCK_SIZE && lz4_runner (lz4) != NULL &&
      decompress_parallel (lz4, src, len, out, size, &ok, error))
    return ok;
  return decompress_serial (lz4, src, len, out, size, error);
}
