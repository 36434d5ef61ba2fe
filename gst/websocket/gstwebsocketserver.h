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

#ifndef __GST_WEBSOCKET_SERVER_H__
#define __GST_WEBSOCKET_SERVER_H__

#include <gio/gio.h>
#include <gst/gst.h>

#include "gstwebsocketfeed.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Where the frames are; the viewer page uses the same path. */
#define GST_WEBSOCKET_SERVER_PATH "/ws"
/* The ids of the element properties the server implements start here, far
 * above the element's own */
#define GST_WEBSOCKET_SERVER_PROP_BASE 1000
/* The HTTP and WebSocket server of websocketsink, in its own thread: the
 * viewer page, the clients and what each is sent. The element hands it
 * frames from any streaming thread. */
typedef struct _GstWebSocketServer GstWebSocketServer;

/* Called on the server thread, without any lock held, each time it has
 * taken every frame handed to it */
typedef void (*GstWebSocketServerDrainedFunc) (gpointer user_data);

GstWebSocketServer *gst_websocket_server_new (GstElement * element,
    GstWebSocketServerDrainedFunc drained, gpointer user_data);
void gst_websocket_server_free (GstWebSocketServer * server);

void gst_websocket_server_set_allowed_origins (GstWebSocketServer * server,
    const gchar * allowed_origins);
gchar *gst_websocket_server_dup_allowed_origins (GstWebSocketServer * server);
void gst_websocket_server_set_max_clients (GstWebSocketServer * server,
    guint max_clients);
guint gst_websocket_server_get_max_clients (GstWebSocketServer * server);

void gst_websocket_server_install_properties (GObjectClass * gobject_class);
gboolean gst_websocket_server_set_property (GstWebSocketServer * server,
    guint prop_id, const GValue * value, GParamSpec * pspec);
gboolean gst_websocket_server_get_property (GstWebSocketServer * server,
    guint prop_id, GValue * value, GParamSpec * pspec);

gboolean gst_websocket_server_listen (GstWebSocketServer * server,
    GSocketAddress * address, gint * bound_port, GError ** error);
gboolean gst_websocket_server_run (GstWebSocketServer * server,
    GError ** error);
void gst_websocket_server_stop (GstWebSocketServer * server);
const gchar *gst_websocket_server_get_scheme (GstWebSocketServer * server);

void gst_websocket_server_push (GstWebSocketServer * server,
    GstWebSocketFeedFrame * frame);
gboolean gst_websocket_server_is_taking (GstWebSocketServer * server);

void gst_websocket_server_add_stats (GstWebSocketServer * server,
    GstStructure * stats);

G_END_DECLS
#endif /* __GST_WEBSOCKET_SERVER_H__ */
