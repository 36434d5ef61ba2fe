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

/* The per-pixel and neighbourhood filters: grayscale, invert, threshold,
 * blur and edges. Every function works on one band of luma rows [y0, y1)
 * and the chroma rows that belong to it, so the bands of a frame can run
 * on different threads. The formulas are in the element's documentation
 * (gstframeproc.c) and in docs/frameproc.md. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstframeprocfilters.h"

/* floor (sqrt (s)) for every s below 255 * 255, and 255 at index 255 * 255
 * where every larger sum is clamped to (a branch-free MIN: on noisy input
 * a branch mispredicts half the time) */
#define SQRT_LUT_LAST (255 * 255)
static guint8 sqrt_lut[SQRT_LUT_LAST + 1];

void
gst_frame_proc_filters_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized)) {
    guint k, s;

    for (k = 0; k < 255; k++) {
      for (s = k * k; s < (k + 1) * (k + 1); s++)
        sqrt_lut[s] = k;
    }
    sqrt_lut[SQRT_LUT_LAST] = 255;
    g_once_init_leave (&initialized, 1);
  }
}

#define comp_row gst_frame_proc_comp_row
#define comp_rows gst_frame_proc_comp_rows

/* ---- grayscale ---- */

/* Y stays as it is; R, G and B take the luma */
static void
grayscale_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const GstFrameProcFormat *format = job->format;
  gint y;

  for (y = band->y0; y < band->y1; y++)
    format->put_gray (job, y, gst_frame_proc_band_luma (job, band, y));
  format->neutral_chroma (job, band);
}

void
gst_frame_proc_grayscale (GstFrameProcJob * job)
{
  gst_frame_proc_job_run (job, grayscale_band);
}

/* ---- invert ---- */

static void
invert_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  guint c;
  gint y, x, r0, r1;

  for (c = 0; c < job->n_comps; c++) {
    const GstFrameProcComp *comp = &job->comp[c];
    const gint ps = comp->pstride;

    comp_rows (comp, band, &r0, &r1);
    for (y = r0; y < r1; y++) {
      guint8 *p = comp_row (comp, y);

      for (x = 0; x < comp->width; x++)
        p[x * ps] = 255 - p[x * ps];
    }
  }
}

void
gst_frame_proc_invert (GstFrameProcJob * job)
{
  gst_frame_proc_job_run (job, invert_band);
}

/* ---- threshold ---- */

static void
threshold_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const GstFrameProcFormat *format = job->format;
  const guint t = job->settings.threshold;
  guint8 *out = job->scratch->pad_row[band->index];
  gint y, x;

  for (y = band->y0; y < band->y1; y++) {
    const guint8 *l = gst_frame_proc_band_luma (job, band, y);

    for (x = 0; x < job->width; x++)
      out[x] = l[x] >= t ? 255 : 0;
    format->put_gray (job, y, out);
  }
  format->neutral_chroma (job, band);
}

void
gst_frame_proc_threshold (GstFrameProcJob * job)
{
  gst_frame_proc_job_run (job, threshold_band);
}

/* ---- blur ---- */

void
gst_frame_proc_blur_kernel (gdouble sigma, gint * radius, guint32 * weights)
{
  gdouble g[GST_FRAME_PROC_MAX_RADIUS + 1];
  gdouble sum;
  guint32 side = 0;
  gint r, k;

  r = (gint) ceil (3.0 * sigma);
  r = CLAMP (r, 1, GST_FRAME_PROC_MAX_RADIUS);

  sum = 0.0;
  for (k = 0; k <= r; k++) {
    g[k] = exp (-(gdouble) (k * k) / (2.0 * sigma * sigma));
    sum += k == 0 ? g[k] : 2.0 * g[k];
  }
  /* the centre weight takes the rounding remainder so that the weights sum
   * to exactly 1 << GST_FRAME_PROC_KERNEL_BITS */
  for (k = 1; k <= r; k++) {
    weights[k] =
        (guint32) floor ((1 << GST_FRAME_PROC_KERNEL_BITS) * g[k] / sum + 0.5);
    side += weights[k];
  }
  weights[0] = (1 << GST_FRAME_PROC_KERNEL_BITS) - 2 * side;
  *radius = r;
}

/* Horizontal pass of component job->cur_comp: each row is copied, clamped
 * to its edge samples, into a padded row so the inner loops need no bounds
 * checks; results are kept unrounded (32 bits) in scratch->hpass. */
static void
blur_hpass_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const GstFrameProcComp *comp = &job->comp[job->cur_comp];
  GstFrameProcScratch *s = job->scratch;
  const gint w = comp->width, ps = comp->pstride, r = s->radius;
  const guint32 *wt = s->weights;
  guint8 *pad = s->pad_row[band->index];
  gint y, x, k;

  for (y = band->y0; y < band->y1; y++) {
    const guint8 *src = comp_row (comp, y);
    guint32 *out = s->hpass + (gsize) y * w;

    for (x = 0; x < r; x++)
      pad[x] = src[0];
    for (x = 0; x < w; x++)
      pad[r + x] = src[x * ps];
    for (x = 0; x < r; x++)
      pad[r + w + x] = src[(w - 1) * ps];

    for (x = 0; x < w; x++)
      out[x] = wt[0] * pad[r + x];
    for (k = 1; k <= r; k++) {
      const guint32 wk = wt[k];
      const guint8 *a = pad + r - k;
      const guint8 *b = pad + r + k;

      for (x = 0; x < w; x++)
        out[x] += wk * (guint32) (a[x] + b[x]);
    }
  }
}

/* Vertical pass: rows above and below the image repeat the edge rows. The
 * sum of all terms is at most 255 << 24, so no partial sum overflows. */
static void
blur_vpass_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const GstFrameProcComp *comp = &job->comp[job->cur_comp];
  GstFrameProcScratch *s = job->scratch;
  const gint w = comp->width, h = comp->height, ps = comp->pstride;
  const gint r = s->radius;
  const guint32 *wt = s->weights;
  guint32 *acc = s->acc_row[band->index];
  gint y, x, k;

  for (y = band->y0; y < band->y1; y++) {
    const guint32 *h0 = s->hpass + (gsize) y * w;
    guint8 *dst = comp_row (comp, y);

    for (x = 0; x < w; x++)
      acc[x] = wt[0] * h0[x];
    for (k = 1; k <= r; k++) {
      const guint32 wk = wt[k];
      const guint32 *a = s->hpass + (gsize) MAX (y - k, 0) * w;
      const guint32 *b = s->hpass + (gsize) MIN (y + k, h - 1) * w;

      for (x = 0; x < w; x++)
        acc[x] += wk * (a[x] + b[x]);
    }
    for (x = 0; x < w; x++)
      dst[x * ps] = (acc[x] + (1u << 23)) >> 24;
  }
}

void
gst_frame_proc_blur (GstFrameProcJob * job)
{
  /* YUV: luma only; RGB: R, G and B, one after the other so one 32-bit
   * plane of scratch is enough */
  guint n = job->format->n_picture_comps;

  for (job->cur_comp = 0; job->cur_comp < n; job->cur_comp++) {
    gst_frame_proc_job_run (job, blur_hpass_band);
    gst_frame_proc_job_run (job, blur_vpass_band);
  }
}

/* ---- edges ---- */

/* Copies (YUV) or computes (RGB) the luma of the band into scratch->luma,
 * which the Sobel pass reads: the output rows of a neighbouring band may
 * already be overwritten when this band needs them. */
static void
luma_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const gint w = job->width;
  guint8 *luma = job->scratch->luma;
  gint y;

  for (y = band->y0; y < band->y1; y++) {
    guint8 *out = luma + (gsize) y * w;
    const guint8 *l = job->format->get_luma (job, y, out);

    if (l != out)
      memcpy (out, l, w);
  }
}

static inline guint8
sobel (const guint8 * lm, const guint8 * l0, const guint8 * lp, gint xm,
    gint x, gint xp)
{
  gint gx, gy;
  guint s;

  gx = (lm[xp] + 2 * l0[xp] + lp[xp]) - (lm[xm] + 2 * l0[xm] + lp[xm]);
  gy = (lp[xm] + 2 * lp[x] + lp[xp]) - (lm[xm] + 2 * lm[x] + lm[xp]);
  s = (guint) (gx * gx + gy * gy);

  return sqrt_lut[MIN (s, SQRT_LUT_LAST)];
}

static void
sobel_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  const gint w = job->width, h = job->height;
  const guint8 *luma = job->scratch->luma;
  guint8 *mag = job->scratch->pad_row[band->index];
  gint y, x;

  for (y = band->y0; y < band->y1; y++) {
    const guint8 *lm = luma + (gsize) MAX (y - 1, 0) * w;
    const guint8 *l0 = luma + (gsize) y * w;
    const guint8 *lp = luma + (gsize) MIN (y + 1, h - 1) * w;

    mag[0] = sobel (lm, l0, lp, 0, 0, MIN (1, w - 1));
    for (x = 1; x < w - 1; x++)
      mag[x] = sobel (lm, l0, lp, x - 1, x, x + 1);
    if (w > 1)
      mag[w - 1] = sobel (lm, l0, lp, w - 2, w - 1, w - 1);

    job->format->put_gray (job, y, mag);
  }
  job->format->neutral_chroma (job, band);
}

void
gst_frame_proc_edges (GstFrameProcJob * job)
{
  gst_frame_proc_job_run (job, luma_band);
  gst_frame_proc_job_run (job, sobel_band);
}
