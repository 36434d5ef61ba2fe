/* GStreamer frameproc
 * Copyright (C) 2025 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
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

/* The frame as the operations see it: per-format row functions, scratch
 * memory, and the bands of a frame on the parallel runner. See
 * gstframeprocjob.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstframeprocjob.h"

#include <string.h>

/* luma of an RGB pixel: BT.601 weights scaled to 256, rounded */
static inline guint8
rgb_luma (guint r, guint g, guint b)
{
  return (guint8) ((77 * r + 150 * g + 29 * b + 128) >> 8);
}

static const guint8 *
yuv_get_luma (const GstFrameProcJob * job, gint y, guint8 * tmp)
{
  return gst_frame_proc_comp_row (&job->comp[0], y);
}

/* R, G and B share their pixel stride in every packed RGB format. */
static const guint8 *
rgb_get_luma (const GstFrameProcJob * job, gint y, guint8 * tmp)
{
  const gint ps = job->comp[0].pstride;
  const guint8 *r = gst_frame_proc_comp_row (&job->comp[0], y);
  const guint8 *g = gst_frame_proc_comp_row (&job->comp[1], y);
  const guint8 *b = gst_frame_proc_comp_row (&job->comp[2], y);
  gint x;

  for (x = 0; x < job->width; x++)
    tmp[x] = rgb_luma (r[x * ps], g[x * ps], b[x * ps]);
  return tmp;
}

static void
yuv_put_gray (const GstFrameProcJob * job, gint y, const guint8 * gray)
{
  guint8 *dst = gst_frame_proc_comp_row (&job->comp[0], y);

  /* gray may be the row itself (yuv_get_luma ()) */
  if (dst != gray)
    memcpy (dst, gray, job->width);
}

static void
rgb_put_gray (const GstFrameProcJob * job, gint y, const guint8 * gray)
{
  const gint ps = job->comp[0].pstride;
  guint8 *r = gst_frame_proc_comp_row (&job->comp[0], y);
  guint8 *g = gst_frame_proc_comp_row (&job->comp[1], y);
  guint8 *b = gst_frame_proc_comp_row (&job->comp[2], y);
  gint x;

  for (x = 0; x < job->width; x++)
    r[x * ps] = g[x * ps] = b[x * ps] = gray[x];
}

static void
yuv_neutral_chroma (const GstFrameProcJob * job, const GstFrameProcBand * band)
{
  guint c;

  for (c = 1; c < job->n_comps; c++) {
    const GstFrameProcComp *comp = &job->comp[c];
    gint y, x, r0, r1;

    gst_frame_proc_comp_rows (comp, band, &r0, &r1);
    for (y = r0; y < r1; y++) {
      guint8 *p = gst_frame_proc_comp_row (comp, y);

      if (comp->pstride == 1) {
        memset (p, 128, comp->width);
      } else {
        for (x = 0; x < comp->width; x++)
          p[x * comp->pstride] = 128;
      }
    }
  }
}

static void
rgb_neutral_chroma (const GstFrameProcJob * job, const GstFrameProcBand * band)
{
}

/* I420, NV12 and GRAY8 (whose chroma loop has nothing to do) */
static const GstFrameProcFormat format_yuv = {
  FALSE, 1, yuv_get_luma, yuv_put_gray, yuv_neutral_chroma
};

static const GstFrameProcFormat format_rgb = {
  TRUE, 3, rgb_get_luma, rgb_put_gray, rgb_neutral_chroma
};

/* The row functions for @format, or NULL when frameproc does not handle
 * it. */
const GstFrameProcFormat *
gst_frame_proc_format_get (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_GRAY8:
      return &format_yuv;
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
      return &format_rgb;
    default:
      return NULL;
  }
}

void
gst_frame_proc_scratch_free (GstFrameProcScratch * s)
{
  guint i;

  g_clear_pointer (&s->hpass, g_free);
  g_clear_pointer (&s->luma, g_free);
  g_clear_pointer (&s->background, g_free);
  g_clear_pointer (&s->previous, g_free);
  g_clear_pointer (&s->cells, g_free);
  g_clear_pointer (&s->labels, g_free);
  for (i = 0; i < GST_FRAME_PROC_MAX_BANDS; i++) {
    g_clear_pointer (&s->pad_row[i], g_free);
    g_clear_pointer (&s->acc_row[i], g_free);
  }
  memset (s, 0, sizeof (*s));
}

/* Everything any operation needs for this size, so the operation can
 * change between two frames without allocating. */
gboolean
gst_frame_proc_scratch_alloc (GstFrameProcScratch * s, gint width,
    gint height, guint n_bands)
{
  const gsize n = (gsize) width * height;
  guint i;

  gst_frame_proc_scratch_free (s);
  s->width = width;
  s->height = height;
  s->n_bands_max = n_bands;
  s->cells_w = (width + GST_FRAME_PROC_CELL - 1) / GST_FRAME_PROC_CELL;
  s->cells_h = (height + GST_FRAME_PROC_CELL - 1) / GST_FRAME_PROC_CELL;

  s->hpass = g_try_malloc (n * sizeof (guint32));
  s->luma = g_try_malloc (n);
  s->background = g_try_malloc (n * sizeof (gfloat));
  s->previous = g_try_malloc (n);
  s->cells = g_try_malloc0 ((gsize) s->cells_w * s->cells_h *
      sizeof (GstFrameProcCell));
  /* union-find parents, then the box index of each root */
  s->labels = g_try_malloc ((gsize) s->cells_w * s->cells_h * 2 *
      sizeof (guint32));
  if (!s->hpass || !s->luma || !s->background || !s->previous || !s->cells
      || !s->labels)
    return FALSE;

  for (i = 0; i < n_bands; i++) {
    s->pad_row[i] = g_malloc (width + 2 * GST_FRAME_PROC_MAX_RADIUS);
    s->acc_row[i] = g_malloc ((gsize) width * sizeof (guint32));
  }
  s->kernel_sigma = -1.0;
  return TRUE;
}

/* Bands of at least GST_FRAME_PROC_MIN_BAND_HEIGHT rows, boundaries on
 * multiples of GST_FRAME_PROC_BAND_ALIGN; the last band takes the rest. */
static void
plan_bands (GstFrameProcJob * job)
{
  const gint h = job->height;
  guint n, i;

  n = MIN (job->scratch->n_bands_max,
      (guint) (h / GST_FRAME_PROC_MIN_BAND_HEIGHT));
  n = MAX (n, 1);
  if (job->runner == NULL)
    n = 1;

  job->n_bands = n;
  for (i = 0; i < n; i++) {
    GstFrameProcBand *b = &job->bands[i];

    b->job = job;
    b->index = i;
    b->changed = 0;
    b->y0 = i == 0 ? 0 :
        (gint) (((gint64) h * i / n) & ~(GST_FRAME_PROC_BAND_ALIGN - 1));
    b->y1 = i == n - 1 ? h :
        (gint) (((gint64) h * (i + 1) / n) & ~(GST_FRAME_PROC_BAND_ALIGN - 1));
  }
}

/* Describes @frame for the operations; the settings are the caller's to
 * fill. @runner NULL: one band, on the calling thread. */
void
gst_frame_proc_job_init (GstFrameProcJob * job, GstVideoFrame * frame,
    const GstFrameProcFormat * format, GstFrameProcScratch * scratch,
    GstParallelRunner * runner)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint c;

  job->frame = frame;
  job->format = format;
  job->width = GST_VIDEO_FRAME_WIDTH (frame);
  job->height = GST_VIDEO_FRAME_HEIGHT (frame);
  /* R, G, B are components 0, 1, 2 of every RGB format, Y, U, V of every
   * YUV format; alpha and padding are never listed */
  job->n_comps = format->is_rgb ? 3 : GST_VIDEO_FRAME_N_COMPONENTS (frame);
  for (c = 0; c < job->n_comps; c++) {
    GstFrameProcComp *comp = &job->comp[c];

    comp->data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    comp->stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    comp->pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    comp->width = GST_VIDEO_FRAME_COMP_WIDTH (frame, c);
    comp->height = GST_VIDEO_FRAME_COMP_HEIGHT (frame, c);
    comp->x_sub = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    comp->y_sub = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
  }
  job->scratch = scratch;
  job->runner = runner;
  job->cur_comp = 0;
  plan_bands (job);
}

static void
band_task (gpointer data, guint index)
{
  GstFrameProcJob *job = data;

  job->band_func (job, &job->bands[index]);
}

/* Runs @func on every band of @job and returns when all bands are done. */
void
gst_frame_proc_job_run (GstFrameProcJob * job, GstFrameProcBandFunc func)
{
  guint i;

  job->band_func = func;
  for (i = 0; i < job->n_bands; i++)
    job->bands[i].changed = 0;
  gst_parallel_runner_run (job->runner, band_task, job, job->n_bands);
}
