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

/* The frame as the operations see it, a leaf module below the element
 * (gstframeproc.c) and the families of operations (gstframeprocfilters.c,
 * gstframeprocmotion.c): the mapped frame component by component, the
 * per-format row functions chosen once in set_info, the scratch memory
 * allocated there, and the bands a frame is cut into to run on the shared
 * parallel runner (gst/common/gstparallel.c). Nothing in here is public
 * API. */

#ifndef __GST_FRAME_PROC_JOB_H__
#define __GST_FRAME_PROC_JOB_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "gstparallel.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

typedef enum
{
  GST_FRAME_PROC_OPERATION_PASSTHROUGH,
  GST_FRAME_PROC_OPERATION_GRAYSCALE,
  GST_FRAME_PROC_OPERATION_INVERT,
  GST_FRAME_PROC_OPERATION_BLUR,
  GST_FRAME_PROC_OPERATION_EDGES,
  GST_FRAME_PROC_OPERATION_THRESHOLD,
  GST_FRAME_PROC_OPERATION_MOTION,
} GstFrameProcOperation;

typedef enum
{
  GST_FRAME_PROC_MOTION_REFERENCE_BACKGROUND,
  GST_FRAME_PROC_MOTION_REFERENCE_PREVIOUS,
} GstFrameProcMotionReference;

/* Largest sigma the "sigma" property accepts and the kernel radius it
 * implies (ceil (3 * sigma)); the per-band padded row is sized from it. */
#define GST_FRAME_PROC_MAX_SIGMA 20.0
#define GST_FRAME_PROC_MAX_RADIUS 60

/* Blur weights are integers summing to 1 << GST_FRAME_PROC_KERNEL_BITS, so
 * the two passes together scale by 1 << 24 and a 255 input stays below
 * 2^32 in the 32-bit accumulators. */
#define GST_FRAME_PROC_KERNEL_BITS 12

/* Motion mask cells are GST_FRAME_PROC_CELL x GST_FRAME_PROC_CELL pixels;
 * band boundaries are multiples of GST_FRAME_PROC_BAND_ALIGN so that a cell
 * row, and a 2x2-subsampled chroma row, belongs to exactly one band. */
#define GST_FRAME_PROC_CELL 4
#define GST_FRAME_PROC_BAND_ALIGN 16
#define GST_FRAME_PROC_MIN_BAND_HEIGHT 32
#define GST_FRAME_PROC_MAX_BANDS 64

/* Values of the settings for one frame, copied under the object lock. */
typedef struct
{
  GstFrameProcOperation operation;
  gdouble sigma;
  guint threshold;
  GstFrameProcMotionReference motion_reference;
  gdouble learning_rate;
  guint sensitivity;
  guint min_area;
  gboolean draw;
  gboolean post_messages;
} GstFrameProcSettings;

/* One colour component of the mapped frame: sample (0, 0) is at data, the
 * next sample of a row pstride bytes further, the next row stride bytes
 * further. Luma-sized components have x_sub = y_sub = 0. */
typedef struct
{
  guint8 *data;
  gint stride;
  gint pstride;
  gint width;
  gint height;
  guint x_sub;
  guint y_sub;
} GstFrameProcComp;

/* Motion mask statistics of one cell: changed pixel count and the bounds of
 * the changed pixels, relative to the cell's top-left corner. */
typedef struct
{
  guint8 count;
  guint8 x0, x1, y0, y1;
} GstFrameProcCell;

/* Memory allocated in set_info for the negotiated size and reused for every
 * frame; the streaming thread owns it. */
typedef struct
{
  gint width;
  gint height;
  guint n_bands_max;

  /* blur: horizontal pass results of one component, width x height */
  guint32 *hpass;
  /* edges: the frame's luma; motion: the current luma (RGB input) */
  guint8 *luma;
  /* per band: a clamped, padded copy of one row, and a 32-bit row */
  guint8 *pad_row[GST_FRAME_PROC_MAX_BANDS];
  guint32 *acc_row[GST_FRAME_PROC_MAX_BANDS];

  /* blur kernel, recomputed when sigma changes */
  gdouble kernel_sigma;
  gint radius;
  guint32 weights[GST_FRAME_PROC_MAX_RADIUS + 1];

  /* motion */
  gfloat *background;
  guint8 *previous;
  gboolean have_reference;
  GstFrameProcMotionReference reference_kind;
  GstFrameProcCell *cells;
  guint32 *labels;
  gint cells_w;
  gint cells_h;
  gboolean in_motion;
} GstFrameProcScratch;

typedef struct _GstFrameProcJob GstFrameProcJob;

/* One horizontal band of luma rows [y0, y1). changed is a per-band result
 * (motion) summed by the caller after the bands joined. */
typedef struct
{
  GstFrameProcJob *job;
  guint index;
  gint y0;
  gint y1;
  guint64 changed;
} GstFrameProcBand;

typedef void (*GstFrameProcBandFunc) (GstFrameProcJob * job,
    GstFrameProcBand * band);

/* What differs between the formats frameproc handles, chosen once per
 * caps in set_info (as gstvideobalance.c does) rather than per row. */
typedef struct
{
  gboolean is_rgb;
  /* the components that carry the picture: R, G, B, or Y alone */
  guint n_picture_comps;
  /* the luma of row y: a pointer into the frame (Y), or computed into
   * tmp (RGB, BT.601 weights) */
  const guint8 *(*get_luma) (const GstFrameProcJob * job, gint y, guint8 * tmp);
  /* writes a gray row: Y (the chroma is left alone), or R = G = B */
  void (*put_gray) (const GstFrameProcJob * job, gint y, const guint8 * gray);
  /* the chroma rows of the band to 128 (no colour); nothing for RGB */
  void (*neutral_chroma) (const GstFrameProcJob * job,
      const GstFrameProcBand * band);
} GstFrameProcFormat;

struct _GstFrameProcJob
{
  GstVideoFrame *frame;
  const GstFrameProcFormat *format;
  gint width;
  gint height;
  /* Y, U, V (I420, NV12), Y only (GRAY8) or R, G, B */
  guint n_comps;
  GstFrameProcComp comp[3];

  GstFrameProcSettings settings;
  GstFrameProcScratch *scratch;
  /* blur: the component the passes currently work on */
  guint cur_comp;

  GstParallelRunner *runner;
  GstFrameProcBandFunc band_func;
  guint n_bands;
  GstFrameProcBand bands[GST_FRAME_PROC_MAX_BANDS];
};

const GstFrameProcFormat *gst_frame_proc_format_get (GstVideoFormat format);

gboolean gst_frame_proc_scratch_alloc (GstFrameProcScratch * scratch,
    gint width, gint height, guint n_bands);
void gst_frame_proc_scratch_free (GstFrameProcScratch * scratch);

void gst_frame_proc_job_init (GstFrameProcJob * job, GstVideoFrame * frame,
    const GstFrameProcFormat * format, GstFrameProcScratch * scratch,
    GstParallelRunner * runner);
void gst_frame_proc_job_run (GstFrameProcJob * job, GstFrameProcBandFunc func);

static inline guint8 *
gst_frame_proc_comp_row (const GstFrameProcComp * comp, gint y)
{
  return comp->data + comp->stride * (gssize) y;
}

/* The rows of comp that belong to the luma band [y0, y1). Rounding both
 * ends up partitions the component's rows between consecutive bands. */
static inline void
gst_frame_proc_comp_rows (const GstFrameProcComp * comp,
    const GstFrameProcBand * band, gint * r0, gint * r1)
{
  *r0 = GST_VIDEO_SUB_SCALE (comp->y_sub, band->y0);
  *r1 = GST_VIDEO_SUB_SCALE (comp->y_sub, band->y1);
  if (*r1 > comp->height)
    *r1 = comp->height;
}

/* The luma of row y of the band, in the band's padded row when it has to
 * be computed. */
static inline const guint8 *
gst_frame_proc_band_luma (const GstFrameProcJob * job,
    const GstFrameProcBand * band, gint y)
{
  return job->format->get_luma (job, y, job->scratch->pad_row[band->index]);
}

G_END_DECLS
#endif /* __GST_FRAME_PROC_JOB_H__ */
