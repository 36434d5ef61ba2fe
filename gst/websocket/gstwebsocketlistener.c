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


/* The connections of websocketsink's server before they are answered or
 * upgraded (gstwebsocketlistener.h).
 *
 * Connections are accepted here, not by libsoup's listener, and handed to
 * libsoup with soup_server_accept_iostream () once accepted (and, for
 * HTTPS, once the TLS handshake is done): libsoup 3.2's listener uses a
 * listen backlog of 10, and stops accepting for good after the first
 * failed accept () (EMFILE when the process is out of file descriptors).
 * Until it is answered or upgraded to a WebSocket, a connection is
 * "pending": it has request-timeout seconds to get there, and there are at
 * most max-pending-connections of them (the oldest goes for a new one). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <sys/resource.h>

#include "gstwebsocketelements.h"
#include "gstwebsocketlistener.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

/* Connections the kernel completes before we accept them (libsoup's 10
 * made bursts of connections wait a second each for a SYN retry). Linux
 * caps it at net.core.somaxconn (4096). */
#define LISTEN_BACKLOG 1024
/* Connections accepted per wake-up, so frames still go out during a flood */
#define ACCEPT_BATCH 64
/* How often accept () is tried again while the process has no descriptor
 * left (or another accept error persists) */
#define ACCEPT_RETRY_MS 100
/* Out of descriptors ends when accept () has not failed for that long */
#define EXHAUSTED_QUIET_MS 1000

/* A connection that is not (yet) a WebSocket client: accepted, maybe in
 * its TLS handshake, then libsoup's until it has been answered. Server
 * thread only. */
typedef struct
{
  GstWebSocketListener *listener;
  GList link;
  GSocket *socket;
  /* Ours until handed to libsoup; then a weak pointer, which tells us
   * when libsoup is done with it */
  GIOStream *stream;
  gboolean handed;
  GSocketAddress *local;
  GSocketAddress *remote;
  gchar *address;
  GCancellable *cancellable;
  GSource *timeout;
} Conn;

void
gst_websocket_listener_init (GstWebSocketListener * listener,
    GstElement * element, GMutex * lock,
    GstWebSocketListenerCountFunc count_clients, gpointer user_data)
{
  memset (listener, 0, sizeof (*listener));
  listener->element = element;
  listener->lock = lock;
  listener->count_clients = count_clients;
  listener->count_clients_data = user_data;
  listener->request_timeout = GST_WEBSOCKET_LISTENER_DEFAULT_REQUEST_TIMEOUT;
  listener->max_pending = GST_WEBSOCKET_LISTENER_DEFAULT_MAX_PENDING;
  g_queue_init (&listener->conns);
}

void
gst_websocket_listener_reset_stats (GstWebSocketListener * listener)
{
  listener->connections_closed = 0;
  listener->tls_failures = 0;
}

gchar *
gst_websocket_address_to_string (GSocketAddress * address)
{
  GInetAddress *inet;
  gchar *ip, *str;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  ip = g_inet_address_to_string (inet);
  /* "[::1]:80" as in URLs, so the port cannot be mistaken for a group */
  str = g_strdup_printf (g_inet_address_get_family (inet) ==
      G_SOCKET_FAMILY_IPV6 ? "[%s]:%u" : "%s:%u", ip,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
  g_free (ip);

  return str;
}

/* ---- connections, from accept () to an answer or a WebSocket ---- */

/* The Conn of a connection, on the remote address handed to libsoup (which
 * a SoupServerMessage gives back) and on our stream during its TLS
 * handshake */
static GQuark
conn_quark (void)
{
  static GQuark quark;

  if (quark == 0)
    quark = g_quark_from_static_string ("GstWebSocketServerConn");
  return quark;
}

static void conn_stream_gone (gpointer data, GObject * where_the_object_was);

/* The pending connection @msg came on, NULL if it is not pending */
static Conn *
conn_find (SoupServerMessage * msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote ? g_object_get_qdata (G_OBJECT (remote), conn_quark ()) : NULL;
}

/* Forgets @conn: its connection is closed, or libsoup is done with it, or
 * it became a WebSocket client. Does not close it. */
static void
conn_forget (Conn * conn)
{
  GstWebSocketListener *listener = conn->listener;

  g_queue_unlink (&listener->conns, &conn->link);
  g_mutex_lock (listener->lock);
  listener->n_pending--;
  g_mutex_unlock (listener->lock);

  if (conn->timeout) {
    g_source_destroy (conn->timeout);
    g_source_unref (conn->timeout);
  }
  if (conn->cancellable) {
    g_cancellable_cancel (conn->cancellable);
    g_object_unref (conn->cancellable);
  }
  g_object_set_qdata (G_OBJECT (conn->remote), conn_quark (), NULL);
  if (conn->stream != NULL) {
    if (conn->handed) {
      g_object_weak_unref (G_OBJECT (conn->stream), conn_stream_gone, conn);
    } else {
      /* A TLS handshake still running holds the stream until it fails */
      g_object_set_qdata (G_OBJECT (conn->stream), conn_quark (), NULL);
      g_object_unref (conn->stream);
    }
  }
  g_object_unref (conn->socket);
  g_object_unref (conn->local);
  g_object_unref (conn->remote);
  g_free (conn->address);
  g_free (conn);
}

/* libsoup let go of the stream: the connection is closed (weak notify) */
static void
conn_stream_gone (gpointer data, GObject * where_the_object_was)
{
  Conn *conn = data;

  conn->stream = NULL;
  conn_forget (conn);
}

/* Closes @conn, and its descriptor at once: during a flood the next
 * accept () needs it. Whoever has its stream (libsoup, a TLS handshake)
 * sees the socket fail ("Socket is already closed", whatever the
 * descriptor's number is used for next) and lets go of it. */
static void
conn_close (Conn * conn)
{
  GstWebSocketListener *listener = conn->listener;

  g_mutex_lock (listener->lock);
  listener->connections_closed++;
  g_mutex_unlock (listener->lock);
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  g_socket_close (conn->socket, NULL);
  conn_forget (conn);
}

static gboolean
conn_timed_out (gpointer user_data)
{
  Conn *conn = user_data;
  guint timeout;

  g_mutex_lock (conn->listener->lock);
  timeout = conn->listener->request_timeout;
  g_mutex_unlock (conn->listener->lock);
  GST_INFO_OBJECT (conn->listener->element, "closing the connection from "
      "%s: no complete request and answer in time (request-timeout %u s)",
      conn->address, timeout);
  conn_close (conn);

  return G_SOURCE_REMOVE;
}

static void
conn_hand_to_soup (Conn * conn)
{
  GstWebSocketListener *listener = conn->listener;
  GIOStream *stream = conn->stream;
  GError *err = NULL;

  g_object_set_qdata (G_OBJECT (stream), conn_quark (), NULL);
  conn->handed = TRUE;
  g_object_weak_ref (G_OBJECT (stream), conn_stream_gone, conn);
  /* libsoup may already be done with it when this returns (a client that
   * closed at once), or, after the unref, @conn may be gone */
  if (!soup_server_accept_iostream (listener->soup, stream, conn->local,
          conn->remote, &err)) {
    GST_WARNING_OBJECT (listener->element, "libsoup refused the connection "
        "from %s: %s", conn->address, err->message);
    g_clear_error (&err);
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  }
  g_object_unref (stream);
}

static void
conn_handshake_done (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  Conn *conn = g_object_get_qdata (source, conn_quark ());
  GError *err = NULL;
  gboolean done;

  done = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result,
      &err);
  if (conn == NULL) {
    /* closed meanwhile */
    g_clear_error (&err);
    return;
  }
  if (!done) {
    GstWebSocketListener *listener = conn->listener;

    /* A client that does not trust our certificate, or that speaks plain
     * HTTP to the HTTPS port, ends here */
    GST_INFO_OBJECT (listener->element, "TLS handshake with %s failed: %s",
        conn->address, err->message);
    g_clear_error (&err);
    g_mutex_lock (listener->lock);
    listener->tls_failures++;
    g_mutex_unlock (listener->lock);
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    conn_forget (conn);
    return;
  }
  conn_hand_to_soup (conn);
}

/* A connection accepted on the listening socket */
static void
conn_accept (GstWebSocketListener * listener, GSocket * socket)
{
  GIOStream *base;
  GError *err = NULL;
  guint max_pending, timeout;
  Conn *conn;

  g_mutex_lock (listener->lock);
  max_pending = listener->max_pending;
  timeout = listener->request_timeout;
  g_mutex_unlock (listener->lock);

  conn = g_new0 (Conn, 1);
  conn->listener = listener;
  conn->link.data = conn;
  conn->remote = g_socket_get_remote_address (socket, NULL);
  conn->local = g_socket_get_local_address (socket, NULL);
  if (conn->remote == NULL || conn->local == NULL) {
    /* The peer left already */
    g_clear_object (&conn->remote);
    g_clear_object (&conn->local);
    g_free (conn);
    g_socket_close (socket, NULL);
    return;
  }

  while (listener->conns.length >= max_pending) {
    Conn *oldest = listener->conns.head->data;

    GST_INFO_OBJECT (listener->element, "closing the connection from %s: %u "
        "connections pending (max-pending-connections)", oldest->address,
        listener->conns.length);
    conn_close (oldest);
  }

  conn->socket = g_object_ref (socket);
  conn->address = gst_websocket_address_to_string (conn->remote);
  g_object_set_qdata (G_OBJECT (conn->remote), conn_quark (), conn);
  g_queue_push_tail_link (&listener->conns, &conn->link);
  g_mutex_lock (listener->lock);
  listener->n_pending++;
  g_mutex_unlock (listener->lock);
  GST_DEBUG_OBJECT (listener->element, "connection from %s", conn->address);

  conn->timeout = g_timeout_source_new (timeout * 1000);
  g_source_set_callback (conn->timeout, conn_timed_out, conn, NULL);
  g_source_attach (conn->timeout, listener->context);

  base = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
  if (listener->tls == NULL) {
    conn->stream = base;
    conn_hand_to_soup (conn);
    return;
  }

  conn->stream = G_IO_STREAM (g_tls_server_connection_new (base,
          listener->tls, &err));
  g_object_unref (base);
  if (conn->stream == NULL) {
    GST_WARNING_OBJECT (listener->element, "no TLS for %s: %s",
        conn->address, err->message);
    g_clear_error (&err);
    conn_close (conn);
    return;
  }
  /* Browsers often close without a close_notify; the answer is complete
   * anyway (as libsoup does) */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (conn->stream),
      FALSE);
  g_object_set_qdata (G_OBJECT (conn->stream), conn_quark (), conn);
  conn->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (conn->stream),
      G_PRIORITY_DEFAULT, conn->cancellable, conn_handshake_done, NULL);
}

GSocket *
gst_websocket_listener_take_socket (GstWebSocketListener * listener,
    SoupServerMessage * msg)
{
  Conn *conn = conn_find (msg);
  GSocket *socket;

  if (conn == NULL)
    return NULL;
  socket = g_object_ref (conn->socket);
  conn_forget (conn);

  return socket;
}

gboolean
gst_websocket_listener_drop (GstWebSocketListener * listener,
    SoupServerMessage * msg, const gchar * why)
{
  Conn *conn = conn_find (msg);

  if (conn == NULL)
    return FALSE;
  GST_INFO_OBJECT (listener->element, "closing the connection from %s: %s",
      conn->address, why);
  conn_close (conn);
  return TRUE;
}

/* ---- accepting ---- */

static gboolean on_incoming (GSocket * socket, GIOCondition condition,
    gpointer user_data);

static void
listener_watch_socket (GstWebSocketListener * listener)
{
  listener->accept_source = g_socket_create_source (listener->socket,
      G_IO_IN, NULL);
  g_source_set_callback (listener->accept_source,
      (GSourceFunc) G_CALLBACK (on_incoming), listener, NULL);
  g_source_attach (listener->accept_source, listener->context);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  GstWebSocketListener *listener = user_data;

  g_source_unref (listener->accept_retry);
  listener->accept_retry = NULL;
  listener_watch_socket (listener);

  return G_SOURCE_REMOVE;
}

/* Called from the accept source's callback, which then returns
 * G_SOURCE_REMOVE: tries again in ACCEPT_RETRY_MS. (The listening socket
 * stays readable while connections wait, so watching it would spin.) */
static void
listener_pause_accepting (GstWebSocketListener * listener)
{
  g_source_unref (listener->accept_source);
  listener->accept_source = NULL;
  listener->accept_retry = g_timeout_source_new (ACCEPT_RETRY_MS);
  g_source_set_callback (listener->accept_retry, on_accept_retry, listener,
      NULL);
  g_source_attach (listener->accept_retry, listener->context);
}

static guint64
open_files_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  return limit.rlim_cur;
}

static void
listener_stop_exhausted_check (GstWebSocketListener * listener)
{
  if (listener->exhausted_check) {
    g_source_destroy (listener->exhausted_check);
    g_clear_pointer (&listener->exhausted_check, g_source_unref);
  }
  listener->exhausted_since = listener->exhausted_last = 0;
  listener->exhausted_failures = 0;
}

/* Timer while out of descriptors: the shortage is over once accept ()
 * worked after the last failure and EXHAUSTED_QUIET_MS passed without one
 * (a flood makes it fail and work by turns: one message each way) */
static gboolean
on_exhausted_check (gpointer user_data)
{
  GstWebSocketListener *listener = user_data;
  gint64 now = g_get_monotonic_time ();
  gdouble seconds;

  if (listener->accepted_last <= listener->exhausted_last ||
      now - listener->exhausted_last < EXHAUSTED_QUIET_MS * 1000)
    return G_SOURCE_CONTINUE;

  seconds = (listener->exhausted_last - listener->exhausted_since) /
      (gdouble) G_USEC_PER_SEC;
  GST_ELEMENT_INFO_WITH_DETAILS (listener->element, RESOURCE, FAILED,
      ("The viewer server on %s port %d accepts connections again: it ran "
          "out of file descriptors for %.1f s (%" G_GUINT64_FORMAT " failed "
          "accepts).", listener->address, listener->port, seconds,
          listener->exhausted_failures), (NULL),
      ("address", G_TYPE_STRING, listener->address,
          "port", G_TYPE_INT, listener->port,
          "unavailable-seconds", G_TYPE_DOUBLE, seconds,
          "failed-accepts", G_TYPE_UINT64, listener->exhausted_failures, NULL));
  listener_stop_exhausted_check (listener);

  return G_SOURCE_REMOVE;
}

/* accept () failed for want of a file descriptor */
static void
listener_out_of_descriptors (GstWebSocketListener * listener, GError * err)
{
  guint n_clients;

  listener->exhausted_last = g_get_monotonic_time ();
  listener->exhausted_failures++;
  if (listener->exhausted_since == 0) {
    listener->exhausted_since = listener->exhausted_last;
    n_clients = listener->count_clients (listener->count_clients_data);
    /* Posted by the server thread itself: nobody else sees it happen */
    GST_ELEMENT_WARNING_WITH_DETAILS (listener->element, RESOURCE, FAILED,
        ("The viewer server on %s port %d cannot accept connections: this "
            "process has no file descriptor left (limit %" G_GUINT64_FORMAT
            "). It keeps trying and accepts again once descriptors are "
            "free. Raise the limit (ulimit -n, LimitNOFILE= in systemd) or "
            "lower max-pending-connections and max-clients.",
            listener->address, listener->port, open_files_limit ()),
        ("accept: %s; %u connections pending, %u WebSocket clients",
            err->message, listener->conns.length, n_clients),
        ("address", G_TYPE_STRING, listener->address,
            "port", G_TYPE_INT, listener->port,
            "open-files-limit", G_TYPE_UINT64, open_files_limit (),
            "pending-connections", G_TYPE_UINT, listener->conns.length,
            "clients", G_TYPE_UINT, n_clients, NULL));
    listener->exhausted_check = g_timeout_source_new (EXHAUSTED_QUIET_MS / 2);
    g_source_set_callback (listener->exhausted_check, on_exhausted_check,
        listener, NULL);
    g_source_attach (listener->exhausted_check, listener->context);
  }

  /* Ours are the descriptors we can free: the oldest pending connection
   * goes, so the server gets on with new ones even while a flood lasts */
  if (listener->conns.head != NULL) {
    Conn *oldest = listener->conns.head->data;

    GST_INFO_OBJECT (listener->element, "closing the connection from %s: out "
        "of file descriptors", oldest->address);
    conn_close (oldest);
  }
}

static gboolean
on_incoming (GSocket * listen_socket, GIOCondition condition,
    gpointer user_data)
{
  GstWebSocketListener *listener = user_data;
  guint i;

  for (i = 0; i < ACCEPT_BATCH && !listener->closed; i++) {
    GError *err = NULL;
    GSocket *socket = g_socket_accept (listen_socket, NULL, &err);

    if (socket == NULL) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        break;
      }
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)) {
        listener_out_of_descriptors (listener, err);
        g_error_free (err);
        listener_pause_accepting (listener);
        return G_SOURCE_REMOVE;
      }
      /* A client that reset before we accepted it, or the kernel short of
       * memory: the latter must not make us spin */
      GST_DEBUG_OBJECT (listener->element, "accept: %s", err->message);
      g_error_free (err);
      if (++listener->accept_errors >= 8) {
        listener->accept_errors = 0;
        listener_pause_accepting (listener);
        return G_SOURCE_REMOVE;
      }
      continue;
    }
    listener->accept_errors = 0;
    listener->accepted_last = g_get_monotonic_time ();
    conn_accept (listener, socket);
    g_object_unref (socket);
  }

  return G_SOURCE_CONTINUE;
}

/* ---- opening and closing ---- */

/* The listening socket, with a backlog that absorbs bursts */
static GSocket *
listen_socket_new (GSocketAddress * address, GError ** error)
{
  GSocket *socket;

  socket = g_socket_new (g_socket_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  /* accept () in the loop until there is nothing left, never waiting */
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_bind (socket, address, TRUE, error) ||
      !g_socket_listen (socket, error)) {
    g_object_unref (socket);
    return NULL;
  }

  return socket;
}

/* The port @socket listens on, 0 if unknown */
static gint
socket_bound_port (GSocket * socket)
{
  GSocketAddress *local = g_socket_get_local_address (socket, NULL);
  gint port = 0;

  if (local != NULL) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    g_object_unref (local);
  }

  return port;
}

gboolean
gst_websocket_listener_open (GstWebSocketListener * listener,
    GSocketAddress * address, GMainContext * context, SoupServer * soup,
    GTlsCertificate * tls, GError ** error)
{
  GInetAddress *inet;

  listener->closed = FALSE;
  listener->accept_errors = 0;
  listener->accepted_last = 0;
  listener->context = context;
  listener->soup = soup;
  listener->tls = tls;
  listener->socket = listen_socket_new (address, error);
  if (listener->socket == NULL)
    return FALSE;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  listener->address = g_inet_address_to_string (inet);
  listener->port = socket_bound_port (listener->socket);
  listener_watch_socket (listener);

  return TRUE;
}

void
gst_websocket_listener_close (GstWebSocketListener * listener)
{
  listener->closed = TRUE;
  if (listener->accept_source) {
    g_source_destroy (listener->accept_source);
    g_clear_pointer (&listener->accept_source, g_source_unref);
  }
  if (listener->accept_retry) {
    g_source_destroy (listener->accept_retry);
    g_clear_pointer (&listener->accept_retry, g_source_unref);
  }
  if (listener->socket)
    g_socket_close (listener->socket, NULL);
  listener_stop_exhausted_check (listener);
  while (listener->conns.head != NULL)
    conn_close (listener->conns.head->data);
}

void
gst_websocket_listener_clear (GstWebSocketListener * listener)
{
  g_clear_object (&listener->socket);
  g_clear_pointer (&listener->address, g_free);
  listener->tls = NULL;
  listener->soup = NULL;
  listener->context = NULL;
}
