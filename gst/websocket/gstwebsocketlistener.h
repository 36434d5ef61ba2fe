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


#ifndef __GST_WEBSOCKET_LISTENER_H__
#define __GST_WEBSOCKET_LISTENER_H__

#include <gio/gio.h>
#include <gst/gst.h>
#include <libsoup/soup.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* websocketsink's connections until they are answered or become WebSocket
 * clients, and the limits that keep a flood of them from locking viewers
 * out: the listening socket (a backlog that absorbs bursts), accept () in
 * batches, a process out of file descriptors (the oldest pending
 * connection goes, accepting pauses and resumes, a warning and an info),
 * the TLS handshake, request-timeout and max-pending-connections. Accepted
 * connections are handed to libsoup with soup_server_accept_iostream ().
 *
 * Server thread only, but for the settings and counters, which are under
 * the server's lock (@lock). */

#define GST_WEBSOCKET_LISTENER_DEFAULT_REQUEST_TIMEOUT 10
#define GST_WEBSOCKET_LISTENER_DEFAULT_MAX_PENDING 64

/* The number of WebSocket clients, for a message; called without the lock */
typedef guint (*GstWebSocketListenerCountFunc) (gpointer user_data);

typedef struct
{
  /* for messages; the server's lock */
  GstElement *element;
  GMutex *lock;
  GstWebSocketListenerCountFunc count_clients;
  gpointer count_clients_data;

  /* settings under @lock, read at each accept () */
  guint request_timeout;
  guint max_pending;

  /* counters under @lock */
  guint n_pending;
  guint64 connections_closed;
  guint64 tls_failures;

  /* from open () to clear (): the server's context, libsoup server and
   * certificate (NULL for plain HTTP), which the server owns; the listening
   * socket and where it listens */
  GMainContext *context;
  SoupServer *soup;
  GTlsCertificate *tls;
  GSocket *socket;
  gchar *address;
  gint port;

  /* server thread only */
  gboolean closed;
  /* pending connections, oldest first */
  GQueue conns;
  /* watches the listening socket; NULL while accepting is paused */
  GSource *accept_source;
  GSource *accept_retry;
  guint accept_errors;
  /* out of file descriptors: since when, and when it last happened
   * (monotonic time, 0 when not), how often accept () failed, and the
   * last successful accept (); the timer that notices the end */
  gint64 exhausted_since;
  gint64 exhausted_last;
  guint64 exhausted_failures;
  gint64 accepted_last;
  GSource *exhausted_check;
} GstWebSocketListener;

void gst_websocket_listener_init (GstWebSocketListener * listener,
    GstElement * element, GMutex * lock,
    GstWebSocketListenerCountFunc count_clients, gpointer user_data);
/* Under the lock: the counters back to 0 for a new start. */
void gst_websocket_listener_reset_stats (GstWebSocketListener * listener);
/* Listens on @address and starts watching it in @context; connections go
 * to @soup, through a TLS handshake when @tls is set. */
gboolean gst_websocket_listener_open (GstWebSocketListener * listener,
    GSocketAddress * address, GMainContext * context, SoupServer * soup,
    GTlsCertificate * tls, GError ** error);
/* No more connections: the listening socket and the pending connections
 * closed. */
void gst_websocket_listener_close (GstWebSocketListener * listener);
/* Frees what open () made, after close (). */
void gst_websocket_listener_clear (GstWebSocketListener * listener);

/* The connection @msg came on turned into a WebSocket client: its socket
 * (a new reference, or NULL), and it is no longer pending. */
GSocket *gst_websocket_listener_take_socket (GstWebSocketListener * listener,
    SoupServerMessage * msg);
/* Closes the pending connection @msg came on, saying @why in the log;
 * FALSE when it is not pending. */
gboolean gst_websocket_listener_drop (GstWebSocketListener * listener,
    SoupServerMessage * msg, const gchar * why);

/* "[::1]:80" or "127.0.0.1:80" */
gchar *gst_websocket_address_to_string (GSocketAddress * address);

G_END_DECLS
#endif /* __GST_WEBSOCKET_LISTENER_H__ */
