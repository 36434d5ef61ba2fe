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

#ifndef __GST_WEBSOCKET_SINK_H__
#define __GST_WEBSOCKET_SINK_H__

#include <gst/gst.h>

#include "gstwebsocketelements.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

#define GST_TYPE_WEBSOCKET_SINK (gst_websocket_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstWebSocketSink, gst_websocket_sink, GST,
    WEBSOCKET_SINK, GstBin);

G_END_DECLS
#endif /* __GST_WEBSOCKET_SINK_H__ */
