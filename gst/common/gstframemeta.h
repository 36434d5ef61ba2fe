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

#ifndef __GST_FRAME_META_H__
#define __GST_FRAME_META_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* What travels with a frame between the project's elements besides its
 * data, read and written the same way by every plugin: the capture time, a
 * GstReferenceTimestampMeta with caps timestamp/x-unix (nanoseconds since
 * the Unix epoch), and the detections, GstVideoRegionOfInterestMeta, as
 * JSON objects. */

/* timestamp/x-unix; not a new reference. */
GstCaps *gst_frame_meta_capture_time_caps (void);
/* Nanoseconds since the Unix epoch, or -1. */
gint64 gst_frame_meta_get_capture_time (GstBuffer * buffer);

/* Which members a region's JSON object has besides "type", "id", "x", "y",
 * "w" and "h". */
typedef enum
{
  /* "parent-id", and "params": {structure name: {field: value}} (the
   * "meta" field of a stream entry) */
  GST_FRAME_META_ROI_PARAMS = 1 << 0,
  /* "score": the "score" field of the parameter named like the region's
   * type, else of the first that has one, else null (the viewer) */
  GST_FRAME_META_ROI_SCORE = 1 << 1,
} GstFrameMetaRoiMembers;

JsonObject *gst_frame_meta_roi_to_json (GstVideoRegionOfInterestMeta * roi,
    GstFrameMetaRoiMembers members);

G_END_DECLS
#endif /* __GST_FRAME_META_H__ */
