/* GStreamer
 * Copyright (C) 2024 gst-redis-streams contributors
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

#ifndef __GST_WEBSOCKET_SINK_PAD_H__
#define __GST_WEBSOCKET_SINK_PAD_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* What every camera's pad accepts */
#define GST_WEBSOCKET_SINK_CAPS \
  "image/jpeg; " \
  "video/x-h264, stream-format = (string) byte-stream, " \
  "alignment = (string) au; " \
  "video/x-vp8; video/x-vp9"

/* What a camera's pad receives, from its caps */
typedef enum
{
  GST_WEBSOCKET_CODEC_NONE,
  GST_WEBSOCKET_CODEC_JPEG,
  GST_WEBSOCKET_CODEC_H264,
  GST_WEBSOCKET_CODEC_VP8,
  GST_WEBSOCKET_CODEC_VP9,
} GstWebSocketCodec;

#define GST_TYPE_WEBSOCKET_SINK_PAD (gst_websocket_sink_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstWebSocketSinkPad, gst_websocket_sink_pad, GST,
    WEBSOCKET_SINK_PAD, GstGhostPad);

/* One sink pad of websocketsink: one camera. A ghost pad whose target,
 * while it is linked, is the camera's own sink inside the element. The
 * element and the camera feed read the fields directly; the comments say
 * who may touch what. */
struct _GstWebSocketSinkPad
{
  GstGhostPad parent;

  /* Under the object lock */
  gchar *camera;
  guint64 frames_received;
  guint64 key_frames;
  guint64 key_unit_requests;

  /* Set when the pad is made, then read only */
  guint id;

  /* Streaming thread only (reset in READY) */
  GstWebSocketCodec codec;
  gint width;
  gint height;
  /* The caps come from a parser (parsed=true), which numbers bytes, not
   * frames, in the buffer offset */
  gboolean parsed;
  GBytes *sps;
  GBytes *pps;
  /* Buffers that reached the pad, late ones included */
  guint64 frames_arrived;

  /* The camera's sink while the pad is linked, under the element's object
   * lock: the element's business */
  GstElement *sink;
};

const gchar *gst_websocket_codec_name (GstWebSocketCodec codec);

gchar *gst_websocket_sink_pad_dup_camera (GstWebSocketSinkPad * pad);

void gst_websocket_sink_pad_set_caps (GstWebSocketSinkPad * pad,
    GstCaps * caps);

guint64 gst_websocket_sink_pad_count_frame (GstWebSocketSinkPad * pad,
    gboolean key);

GBytes *gst_websocket_sink_pad_h264_prefix (GstWebSocketSinkPad * pad,
    GstBuffer * buffer, gboolean key);

void gst_websocket_sink_pad_request_key_unit (GstWebSocketSinkPad * pad);

void gst_websocket_sink_pad_reset_stats (GstWebSocketSinkPad * pad);

GstStructure *gst_websocket_sink_pad_get_stats (GstWebSocketSinkPad * pad);

guint64 gst_websocket_sink_pad_frame_seq (GstWebSocketSinkPad * pad,
    GstBuffer * buffer);

G_END_DECLS
#endif /* __GST_WEBSOCKET_SINK_PAD_H__ */
