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

/* What the element (gstframeproc.c) and the families of operations
 * (gstframeprocfilters.c, gstframeprocmotion.c) share: a per-frame job that
 * describes the mapped frame component by component, a snapshot of the
 * settings, the scratch memory allocated in set_info, and the band runner.
 * Nothing in here is public API. */

#ifndef __GST_FRAME_PROC_OPS_H__
#define __GST_FRAME_PROC_OPS_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

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

/* Thickness in pixels of the outline draw=true paints inside each box. */
#define GST_FRAME_PROC_BOX_THICKNESS 2

/* Region ids: a region takes the id of the remembered region (track) its
 * box overlaps best, both boxes grown by TRACK_MARGIN pixels on every side
 * and provided intersection / union >= MIN_IOU. The margin keeps thin
 * regions (the leading edge of a uniform object seen with the previous
 * frame as reference) and fast ones matched. A track is kept while it has
 * been unmatched for at most TRACK_KEEP consecutive frames, so a region
 * missed for a frame or two keeps its id; at most MAX_TRACKS are kept,
 * which bounds memory and matching time. */
#define GST_FRAME_PROC_TRACK_MARGIN 8
#define GST_FRAME_PROC_TRACK_MIN_IOU 0.1
#define GST_FRAME_PROC_TRACK_KEEP 5
#define GST_FRAME_PROC_MAX_TRACKS 256

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

/* A moving region, in pixels of the frame; id > 0 once tracked. */
typedef struct
{
  gint x, y, width, height;
  guint area;
  gint id;
} GstFrameProcRegion;

/* A region remembered from earlier frames. */
typedef struct
{
  gint id;
  gint x, y, width, height;
  /* consecutive frames without a matching region */
  guint missed;
  /* this frame: index of the matching region, or -1 */
  gint match;
} GstFrameProcTrack;

/* Gives motion regions ids that persist while the object moves. It lives
 * next to the scratch, not in it, because the numbering goes on across
 * caps changes. The streaming thread owns it. */
typedef struct
{
  GArray *tracks;               /* GstFrameProcTrack */
  GArray *next_tracks;          /* built for the next frame, then swapped */
  GArray *pairs;                /* matching candidates of one frame */
  gint next_id;
  /* this frame: new regions left out of the tracks (no room) */
  guint untracked;
} GstFrameProcTracker;

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

struct _GstFrameProcJob
{
  GstVideoFrame *frame;
  gboolean is_rgb;
  gint width;
  gint height;
  /* Y, U, V (I420, NV12), Y only (GRAY8) or R, G, B */
  guint n_comps;
  GstFrameProcComp comp[3];

  GstFrameProcSettings settings;
  GstFrameProcScratch *scratch;
  /* blur: the component the passes currently work on */
  guint cur_comp;

  GstTaskPool *pool;
  GstFrameProcBandFunc band_func;
  guint n_bands;
  GstFrameProcBand bands[GST_FRAME_PROC_MAX_BANDS];

  /* motion results */
  gdouble motion_score;
  GArray *regions;
  GstFrameProcTracker *tracker;
};

/* gstframeproc.c: runs func on every band of job, the calling thread taking
 * band 0, and returns when all bands are done. */
void gst_frame_proc_job_run (GstFrameProcJob * job, GstFrameProcBandFunc func);

/* gstframeprocfilters.c */
void gst_frame_proc_filters_init (void);
void gst_frame_proc_grayscale (GstFrameProcJob * job);
void gst_frame_proc_invert (GstFrameProcJob * job);
void gst_frame_proc_threshold (GstFrameProcJob * job);
void gst_frame_proc_blur (GstFrameProcJob * job);
void gst_frame_proc_edges (GstFrameProcJob * job);
void gst_frame_proc_blur_kernel (gdouble sigma, gint * radius,
    guint32 * weights);

/* gstframeprocmotion.c */
void gst_frame_proc_motion (GstFrameProcJob * job);
void gst_frame_proc_motion_draw (GstFrameProcJob * job);
void gst_frame_proc_motion_reset (GstFrameProcScratch * scratch);
void gst_frame_proc_tracker_init (GstFrameProcTracker * tracker);
void gst_frame_proc_tracker_clear (GstFrameProcTracker * tracker);
void gst_frame_proc_tracker_reset (GstFrameProcTracker * tracker,
    gboolean restart_ids);

/* luma of an RGB pixel: BT.601 weights scaled to 256, rounded */
#define GST_FRAME_PROC_LUMA(r,g,b) \
    ((guint8) ((77 * (guint) (r) + 150 * (guint) (g) + 29 * (guint) (b) \
        + 128) >> 8))

G_END_DECLS

#endif /* __GST_FRAME_PROC_OPS_H__ */
