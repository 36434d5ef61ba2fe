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

#ifndef __GST_WEBSOCKET_CAMERA_SINK_H__
#define __GST_WEBSOCKET_CAMERA_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

#include "gstwebsocketserver.h"
#include "gstwebsocketsinkpad.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* What the camera sinks of one websocketsink share: its server, and the
 * condition an EOS waits on until the server thread took every frame. */
typedef struct
{
  GstWebSocketServer *server;
  GMutex lock;
  GCond taken;
} GstWebSocketCameraShared;

void gst_websocket_camera_shared_init (GstWebSocketCameraShared * shared,
    GstWebSocketServer * server);
void gst_websocket_camera_shared_clear (GstWebSocketCameraShared * shared);
void gst_websocket_camera_shared_frames_taken (gpointer shared);

#define GST_TYPE_WEBSOCKET_CAMERA_SINK (gst_websocket_camera_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstWebSocketCameraSink, gst_websocket_camera_sink, GST,
    WEBSOCKET_CAMERA_SINK, GstBaseSink);

GstElement *gst_websocket_camera_sink_new (GstWebSocketSinkPad * pad,
    GstWebSocketCameraShared * shared);

G_END_DECLS
#endif /* __GST_WEBSOCKET_CAMERA_SINK_H__ */
