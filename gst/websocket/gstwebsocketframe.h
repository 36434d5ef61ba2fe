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

#ifndef __GST_WEBSOCKET_FRAME_H__
#define __GST_WEBSOCKET_FRAME_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The wire format of one WebSocket binary message (see the element docs):
 * a 4-byte big-endian length N, N bytes of UTF-8 JSON, then the encoded
 * picture (a JPEG, an H.264 access unit in Annex B, a VP8 or VP9 frame). */
#define GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE 4

/* What the header says about a frame besides its metas */
typedef struct
{
  guint64 seq;
  gint width;                   /* 0 if unknown */
  gint height;                  /* 0 if unknown */
  const gchar *camera;          /* NULL: no "camera" member */
  const gchar *codec;           /* NULL: no "codec" member */
  gboolean key;                 /* decodable on its own */
} GstWebSocketFrameInfo;

GBytes *gst_websocket_frame_build (GstBuffer * buffer, guint64 seq,
    gint width, gint height);

GBytes *gst_websocket_frame_build_full (GstBuffer * buffer,
    const GstWebSocketFrameInfo * info, GBytes * prefix);

gchar *gst_websocket_frame_header_to_json (GstBuffer * buffer, guint64 seq,
    gint width, gint height, gsize * length);

gchar *gst_websocket_frame_header_to_json_full (GstBuffer * buffer,
    const GstWebSocketFrameInfo * info, gsize * length);

/* H.264 parameter sets seen in an Annex B access unit */
typedef struct
{
  GBytes *sps;                  /* last SPS NAL with its start code, or NULL */
  GBytes *pps;                  /* last PPS NAL with its start code, or NULL */
  gboolean idr;                 /* the access unit holds an IDR slice */
} GstWebSocketH264Scan;

void gst_websocket_h264_scan (GstBuffer * buffer, GstWebSocketH264Scan * scan);
void gst_websocket_h264_scan_clear (GstWebSocketH264Scan * scan);

G_END_DECLS
#endif /* __GST_WEBSOCKET_FRAME_H__ */
