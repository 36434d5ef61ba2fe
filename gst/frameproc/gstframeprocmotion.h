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

#ifndef __GST_FRAME_PROC_MOTION_H__
#define __GST_FRAME_PROC_MOTION_H__

#include "gstframeprocjob.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

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

/* Motion detection and region ids, gstframeprocmotion.c. */
void gst_frame_proc_motion (GstFrameProcJob * job,
    GstFrameProcTracker * tracker, GArray * regions, gdouble * score);
void gst_frame_proc_motion_draw (GstFrameProcJob * job, GArray * regions);
void gst_frame_proc_motion_reset (GstFrameProcScratch * scratch);
void gst_frame_proc_tracker_init (GstFrameProcTracker * tracker);
void gst_frame_proc_tracker_clear (GstFrameProcTracker * tracker);
void gst_frame_proc_tracker_reset (GstFrameProcTracker * tracker,
    gboolean restart_ids);

G_END_DECLS
#endif /* __GST_FRAME_PROC_MOTION_H__ */
