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


#ifndef __GST_WEBSOCKET_CLIENTS_H__
#define __GST_WEBSOCKET_CLIENTS_H__

#include <gst/gst.h>
#include <libsoup/soup.h>

#include "gstwebsocketfeed.h"
#include "gstwebsocketlistener.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Our sources run below libsoup's (G_PRIORITY_DEFAULT). A client's socket
 * being writable then means libsoup's own output queue for it is empty:
 * while it is not, libsoup's output source is ready on the same socket and
 * wins every iteration. */
#define GST_WEBSOCKET_SOURCE_PRIORITY G_PRIORITY_DEFAULT_IDLE

/* The WebSocket side of websocketsink's server: the upgrade checked
 * (allowed-origins, max-clients), the clients, the camera feeds and which
 * frame of each a client is sent when: a client is busy while 256 KiB are
 * queued for it, and frames go on when its socket is writable again (which
 * frame is the feed's business, gstwebsocketfeed.c); key-frame requests
 * from the page; closing at stop.
 *
 * Server thread only, but for what is under the server's lock (@lock):
 * the settings, the counters, and the lists, which only the server thread
 * changes. */
typedef struct
{
  /* for messages; the server's lock; the sockets of new clients */
  GstElement *element;
  GMutex *lock;
  GstWebSocketListener *listener;

  /* settings under @lock, read at each upgrade */
  gchar *allowed_origins;
  guint max_clients;

  /* under @lock, changed by the server thread only */
  GList *list;
  GList *feeds;
  guint64 accepted;
  guint64 refused;

  /* server thread only, from start () on: the server's context, and its
   * loop, which quits when the last client closed once stopping */
  GMainContext *context;
  GMainLoop *loop;
  guint64 next_id;
  gboolean stopping;
} GstWebSocketClients;

void gst_websocket_clients_init (GstWebSocketClients * clients,
    GstElement * element, GMutex * lock, GstWebSocketListener * listener);
void gst_websocket_clients_clear (GstWebSocketClients * clients);
/* Under the lock: counters back to 0, and the server's @context and
 * @loop, for a new start. */
void gst_websocket_clients_start (GstWebSocketClients * clients,
    GMainContext * context, GMainLoop * loop);

/* libsoup's handlers of GST_WEBSOCKET_SERVER_PATH, with @clients as their
 * user data: the upgrade request, checked before libsoup answers it, and
 * the WebSocket once connected. */
void gst_websocket_clients_handle_upgrade (SoupServer * soup,
    SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer clients);
void gst_websocket_clients_handle_connected (SoupServer * soup,
    SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer clients);

/* Takes @frame (not its ownership) into its camera's feed and offers every
 * client what it should get next; nothing once stopping. */
void gst_websocket_clients_take_frame (GstWebSocketClients * clients,
    GstWebSocketFeedFrame * frame);

/* Stopping: no more clients, no more frames. */
void gst_websocket_clients_stop (GstWebSocketClients * clients);
/* Starts the close handshake of every open client (code 1001); FALSE when
 * there is none left. */
gboolean gst_websocket_clients_close_all (GstWebSocketClients * clients);
/* Shuts down the sockets of the clients that did not answer the close
 * handshake (a stalled one cannot even receive it). */
void gst_websocket_clients_shut_down (GstWebSocketClients * clients);
/* Frees every client and feed; no thread may run. */
void gst_websocket_clients_free_all (GstWebSocketClients * clients);

/* Under the lock: the clients that count (not those refused after the
 * upgrade). */
guint gst_websocket_clients_count (GstWebSocketClients * clients);
/* Under the lock: an array of one structure per client that counts (id,
 * address, frames sent and skipped) in @array (initialised here); returns
 * their number. */
guint gst_websocket_clients_get_stats (GstWebSocketClients * clients,
    GValue * array);

G_END_DECLS
#endif /* __GST_WEBSOCKET_CLIENTS_H__ */
