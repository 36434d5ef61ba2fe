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

#ifndef __GST_FRAME_PROC_H__
#define __GST_FRAME_PROC_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

#define GST_TYPE_FRAME_PROC (gst_frame_proc_get_type ())
G_DECLARE_FINAL_TYPE (GstFrameProc, gst_frame_proc, GST, FRAME_PROC,
    GstVideoFilter);

#define GST_TYPE_FRAME_PROC_OPERATION (gst_frame_proc_operation_get_type ())
GType gst_frame_proc_operation_get_type (void);

#define GST_TYPE_FRAME_PROC_MOTION_REFERENCE \
    (gst_frame_proc_motion_reference_get_type ())
GType gst_frame_proc_motion_reference_get_type (void);

G_END_DECLS
#endif /* __GST_FRAME_PROC_H__ */
