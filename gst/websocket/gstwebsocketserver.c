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

/* The server of websocketsink: a libsoup server in its own thread and
 * GMainContext (as gstmultisocketsink does), the viewer page, the WebSocket
 * clients (allowed origins, max-clients), and the hand-off of frames from
 * the streaming threads. Which frame a client gets is the camera feed's
 * business (gstwebsocketfeed.c); when a client is ready for one is decided
 * here: a client is busy while SEND_BUDGET bytes are queued for it, and
 * frames go on when its socket is writable again. The viewer page is
 * gstwebsocketpage.c's. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libsoup/soup.h>

#include "gstwebsocketserver.h"
#include "gstwebsocketpage.h"

GST_DEBUG_CATEGORY_EXTERN (gst_websocket_sink_debug);
#define GST_CAT_DEFAULT gst_websocket_sink_debug

/* Clients have nothing to say; anything bigger is an abuse. */
#define MAX_INCOMING_PAYLOAD_SIZE 1024
/* Unsent bytes the kernel may hold for a client before the socket stops
 * being writable: small enough that a slow client does not build up seconds
 * of old frames, big enough for a fast one not to wait on wake-ups. */
#define SEND_LOW_WATERMARK (128 * 1024)
/* Bytes a client may have queued in libsoup before it counts as busy. One
 * JPEG is usually more than that, so JPEG clients have one frame in flight;
 * H.264 deltas are a few KiB, so a short hiccup on the way to a client does
 * not cost it a whole GOP. */
#define SEND_BUDGET (256 * 1024)
/* How long stop() waits for clients to answer the close handshake, then for
 * the connections to finish closing after a shutdown of their sockets. */
#define CLOSE_GRACE_MS 1000
/* Frames the streaming threads may leave for the server thread before the
 * oldest go: a server thread that far behind has stalled (clients of
 * encoded video then wait for the next key frame) */
#define MAX_PENDING 256

/* Our sources run below libsoup's (G_PRIORITY_DEFAULT). A client's socket
 * being writable then means libsoup's own output queue for it is empty:
 * while it is not, libsoup's output source is ready on the same socket and
 * wins every iteration. */
#define SERVER_SOURCE_PRIORITY G_PRIORITY_DEFAULT_IDLE

typedef struct
{
  GstWebSocketServer *server;
  SoupWebsocketConnection *conn;
  GSocket *socket;
  /* Non-NULL while frames sent are still on their way out */
  GSource *drain_source;
  gsize inflight;
  gchar *address;
  guint64 id;
  /* Refused after the upgrade (max-clients race): being closed, not counted */
  gboolean refused;
  /* Feed id -> GstWebSocketFeedCursor, server thread only */
  GHashTable *cursors;

  /* Under the server's lock, written by the server thread only */
  guint64 frames_sent;
  guint64 frames_skipped;
} Client;

struct _GstWebSocketServer
{
  /* For messages in the log only */
  GstElement *element;
  GstWebSocketServerDrainedFunc drained;
  gpointer drained_data;

  /* The settings, the hand-off from the streaming threads, the client and
   * feed lists and the counters, under @lock. Only the server thread
   * changes the lists. */
  GMutex lock;
  gchar *allowed_origins;
  guint max_clients;
  GQueue pending;
  GSource *dispatch_source;
  /* the server thread is handing a frame to the clients (unlocked) */
  gboolean dispatch_busy;
  guint64 frames_received;
  guint64 frames_dropped;
  GList *clients;
  GList *feeds;
  guint64 clients_accepted;
  guint64 clients_refused;
  /* Non-NULL from listen () to stop (): frames are taken */
  GMainContext *context;

  /* Created in listen (), freed in stop () */
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;

  /* Server thread only */
  guint64 next_client_id;
  gboolean stopping;
};

static void client_offer (GstWebSocketServer * server, Client * client);
static gboolean server_dispatch (gpointer user_data);

GstWebSocketServer *
gst_websocket_server_new (GstElement * element,
    GstWebSocketServerDrainedFunc drained, gpointer user_data)
{
  GstWebSocketServer *server = g_new0 (GstWebSocketServer, 1);

  server->element = element;
  server->drained = drained;
  server->drained_data = user_data;
  g_mutex_init (&server->lock);
  g_queue_init (&server->pending);

  return server;
}

void
gst_websocket_server_free (GstWebSocketServer * server)
{
  gst_websocket_server_stop (server);
  g_free (server->allowed_origins);
  g_mutex_clear (&server->lock);
  g_free (server);
}

/* ---- settings, read at each connection attempt ---- */

void
gst_websocket_server_set_allowed_origins (GstWebSocketServer * server,
    const gchar * allowed_origins)
{
  g_mutex_lock (&server->lock);
  g_free (server->allowed_origins);
  server->allowed_origins = g_strdup (allowed_origins);
  g_mutex_unlock (&server->lock);
}

gchar *
gst_websocket_server_dup_allowed_origins (GstWebSocketServer * server)
{
  gchar *allowed_origins;

  g_mutex_lock (&server->lock);
  allowed_origins = g_strdup (server->allowed_origins);
  g_mutex_unlock (&server->lock);

  return allowed_origins;
}

void
gst_websocket_server_set_max_clients (GstWebSocketServer * server,
    guint max_clients)
{
  g_mutex_lock (&server->lock);
  server->max_clients = max_clients;
  g_mutex_unlock (&server->lock);
}

guint
gst_websocket_server_get_max_clients (GstWebSocketServer * server)
{
  guint max_clients;

  g_mutex_lock (&server->lock);
  max_clients = server->max_clients;
  g_mutex_unlock (&server->lock);

  return max_clients;
}

/* ---- frames: streaming threads to the server thread ---- */

/* Any thread: leaves @frame for the server thread and wakes it */
void
gst_websocket_server_push (GstWebSocketServer * server,
    GstWebSocketFeedFrame * frame)
{
  g_mutex_lock (&server->lock);
  if (frame->message != NULL)
    server->frames_received++;
  if (server->context == NULL) {
    g_mutex_unlock (&server->lock);
    gst_websocket_feed_frame_free (frame);
    return;
  }
  g_queue_push_tail (&server->pending, frame);
  while (server->pending.length > MAX_PENDING) {
    /* The server thread has stalled: the oldest frames go (a gap in the
     * frame numbers, so clients of encoded video wait for a key frame) */
    gst_websocket_feed_frame_free (g_queue_pop_head (&server->pending));
    server->frames_dropped++;
    GST_WARNING_OBJECT (server->element, "server thread behind by %u frames, "
        "dropping", MAX_PENDING);
  }
  if (server->dispatch_source == NULL) {
    server->dispatch_source = g_idle_source_new ();
    g_source_set_priority (server->dispatch_source, SERVER_SOURCE_PRIORITY);
    g_source_set_callback (server->dispatch_source,
        (GSourceFunc) G_CALLBACK (server_dispatch), server, NULL);
    g_source_attach (server->dispatch_source, server->context);
  }
  g_mutex_unlock (&server->lock);
}

/* Whether frames handed over are still to be taken by the server thread */
gboolean
gst_websocket_server_is_taking (GstWebSocketServer * server)
{
  gboolean taking;

  g_mutex_lock (&server->lock);
  taking = server->context != NULL && (server->pending.length > 0 ||
      server->dispatch_busy);
  g_mutex_unlock (&server->lock);

  return taking;
}

static GstWebSocketFeed *
feed_find (GstWebSocketServer * server, guint id)
{
  GList *l;

  for (l = server->feeds; l != NULL; l = l->next) {
    if (((GstWebSocketFeed *) l->data)->id == id)
      return l->data;
  }
  return NULL;
}

/* Server thread: takes one frame from a streaming thread into its camera's
 * feed */
static void
server_take_frame (GstWebSocketServer * server, GstWebSocketFeedFrame * frame)
{
  GstWebSocketFeed *feed = feed_find (server, frame->camera_id);
  GList *l;

  if (frame->message == NULL) {
    /* The pad is gone */
    if (feed != NULL) {
      g_mutex_lock (&server->lock);
      server->feeds = g_list_remove (server->feeds, feed);
      g_mutex_unlock (&server->lock);
      for (l = server->clients; l != NULL; l = l->next) {
        Client *client = l->data;

        g_hash_table_remove (client->cursors, GUINT_TO_POINTER (feed->id));
      }
      gst_websocket_feed_free (feed);
    }
    return;
  }

  if (feed == NULL) {
    feed = gst_websocket_feed_new (frame);
    g_mutex_lock (&server->lock);
    server->feeds = g_list_append (server->feeds, feed);
    g_mutex_unlock (&server->lock);
  }
  gst_websocket_feed_take (feed, frame);
}

/* Hands the frames the streaming threads left to every client, in order */
static gboolean
server_dispatch (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  GstWebSocketFeedFrame *frame;
  GList *l;

  g_mutex_lock (&server->lock);
  g_source_unref (server->dispatch_source);
  server->dispatch_source = NULL;
  while ((frame = g_queue_pop_head (&server->pending)) != NULL) {
    server->dispatch_busy = TRUE;
    g_mutex_unlock (&server->lock);

    if (!server->stopping) {
      server_take_frame (server, frame);
      /* Only this thread removes clients, and only from "closed", which
       * libsoup never emits from inside a send */
      for (l = server->clients; l != NULL; l = l->next)
        client_offer (server, l->data);
    }
    gst_websocket_feed_frame_free (frame);

    g_mutex_lock (&server->lock);
    server->dispatch_busy = FALSE;
  }
  g_mutex_unlock (&server->lock);

  /* an EOS may be waiting for the frames to be taken */
  server->drained (server->drained_data);

  return G_SOURCE_REMOVE;
}

/* ---- the clients (server thread) ---- */

static void
client_free (Client * client)
{
  if (client->drain_source) {
    g_source_destroy (client->drain_source);
    g_source_unref (client->drain_source);
  }
  g_signal_handlers_disconnect_by_data (client->conn, client);
  g_object_unref (client->conn);
  g_clear_object (&client->socket);
  g_hash_table_unref (client->cursors);
  g_free (client->address);
  g_free (client);
}

static gboolean
on_client_drained (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  Client *client = user_data;

  g_source_unref (client->drain_source);
  client->drain_source = NULL;
  client->inflight = 0;
  client_offer (client->server, client);

  return G_SOURCE_REMOVE;
}

static void
client_send (GstWebSocketServer * server, Client * client, GBytes * message)
{
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_BINARY, message);
  client->inflight += g_bytes_get_size (message);
  g_mutex_lock (&server->lock);
  client->frames_sent++;
  g_mutex_unlock (&server->lock);

  if (client->socket != NULL && client->drain_source == NULL) {
    client->drain_source = g_socket_create_source (client->socket, G_IO_OUT,
        NULL);
    g_source_set_priority (client->drain_source, SERVER_SOURCE_PRIORITY);
    g_source_set_callback (client->drain_source,
        (GSourceFunc) G_CALLBACK (on_client_drained), client, NULL);
    g_source_attach (client->drain_source, server->context);
  }
}

static void
client_count_skipped (GstWebSocketServer * server, Client * client,
    guint64 skipped)
{
  if (skipped == 0)
    return;
  g_mutex_lock (&server->lock);
  client->frames_skipped += skipped;
  g_mutex_unlock (&server->lock);
}

static GstWebSocketFeedCursor *
client_get_cursor (Client * client, GstWebSocketFeed * feed)
{
  GstWebSocketFeedCursor *cursor = g_hash_table_lookup (client->cursors,
      GUINT_TO_POINTER (feed->id));

  if (cursor == NULL) {
    cursor = gst_websocket_feed_cursor_new (feed);
    g_hash_table_insert (client->cursors, GUINT_TO_POINTER (feed->id), cursor);
  }
  return cursor;
}

/* Sends the newest frames to @client unless it is still busy, and keeps its
 * skip counts */
static void
client_offer (GstWebSocketServer * server, Client * client)
{
  gboolean busy;
  GList *l;

  if (client->refused)
    return;

  busy = client->inflight >= SEND_BUDGET ||
      soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN;

  for (l = server->feeds; l != NULL; l = l->next) {
    GstWebSocketFeed *feed = l->data;
    GstWebSocketFeedCursor *cursor = client_get_cursor (client, feed);
    guint64 skipped = 0;
    GBytes *message;

    if (busy) {
      client_count_skipped (server, client,
          gst_websocket_feed_skip_busy (feed, cursor));
      continue;
    }
    message = gst_websocket_feed_next (feed, cursor, &skipped);
    client_count_skipped (server, client, skipped);
    if (message != NULL)
      client_send (server, client, message);
    busy = client->inflight >= SEND_BUDGET;
  }
}

/* Under the lock */
static guint
server_count_clients (GstWebSocketServer * server)
{
  guint n_clients = 0;
  GList *l;

  for (l = server->clients; l != NULL; l = l->next) {
    if (!((Client *) l->data)->refused)
      n_clients++;
  }
  return n_clients;
}

static void
on_client_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  Client *client = user_data;
  GstWebSocketServer *server = client->server;
  gboolean last;

  GST_INFO_OBJECT (server->element, "client %s disconnected (close code %u)",
      client->address, soup_websocket_connection_get_close_code (conn));

  g_mutex_lock (&server->lock);
  server->clients = g_list_remove (server->clients, client);
  last = (server->clients == NULL);
  g_mutex_unlock (&server->lock);

  client_free (client);

  if (server->stopping && last)
    g_main_loop_quit (server->loop);
}

static void
on_client_message (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  Client *client = user_data;

  GST_LOG_OBJECT (client->server->element, "client %s: ignoring a %"
      G_GSIZE_FORMAT "-byte message", client->address,
      g_bytes_get_size (message));
}

static void
on_client_error (SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  Client *client = user_data;

  /* libsoup closes the connection itself after protocol errors */
  GST_INFO_OBJECT (client->server->element, "client %s: %s", client->address,
      error->message);
}

static gchar *
address_to_string (GSocketAddress * address)
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

static void
client_tune_socket (GstWebSocketServer * server, Client * client)
{
  GError *err = NULL;

  if (client->socket == NULL)
    return;

  /* A frame's last segment should not wait for an ACK */
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NODELAY, 1, &err)) {
    GST_DEBUG_OBJECT (server->element, "TCP_NODELAY: %s", err->message);
    g_clear_error (&err);
  }
#ifdef TCP_NOTSENT_LOWAT
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
          SEND_LOW_WATERMARK, &err)) {
    GST_DEBUG_OBJECT (server->element, "TCP_NOTSENT_LOWAT: %s", err->message);
    g_clear_error (&err);
  }
#endif
}

static Client *
client_new (GstWebSocketServer * server, SoupServerMessage * msg,
    SoupWebsocketConnection * conn)
{
  Client *client = g_new0 (Client, 1);
  GSocket *socket = soup_server_message_get_socket (msg);

  client->server = server;
  client->conn = g_object_ref (conn);
  client->socket = socket ? g_object_ref (socket) : NULL;
  client->address =
      address_to_string (soup_server_message_get_remote_address (msg));
  client->id = ++server->next_client_id;
  client->cursors = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MAX_INCOMING_PAYLOAD_SIZE);
  client_tune_socket (server, client);

  g_signal_connect (conn, "closed", G_CALLBACK (on_client_closed), client);
  g_signal_connect (conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_client_error), client);

  return client;
}

static void
on_websocket_connected (SoupServer * soup, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * conn, gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  Client *client = client_new (server, msg, conn);

  g_mutex_lock (&server->lock);
  /* Two upgrades can pass the check in the request handler before either
   * gets here; the list is the truth. */
  if (server->stopping || (server->max_clients > 0 &&
          server_count_clients (server) >= server->max_clients)) {
    client->refused = TRUE;
    server->clients_refused++;
  } else {
    server->clients_accepted++;
  }
  server->clients = g_list_append (server->clients, client);
  g_mutex_unlock (&server->lock);

  if (client->refused) {
    GST_INFO_OBJECT (server->element, "client %s refused: too many clients",
        client->address);
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Too many clients");
    return;
  }

  GST_INFO_OBJECT (server->element, "client %s connected (origin %s)",
      client->address,
      GST_STR_NULL (soup_websocket_connection_get_origin (conn)));
  client_offer (server, client);
}

static gboolean
origin_is_allowed (const gchar * allowed_origins, const gchar * origin)
{
  gchar **allowed;
  gboolean any = TRUE, found = FALSE;
  guint i;

  if (allowed_origins == NULL)
    return TRUE;

  allowed = g_strsplit (allowed_origins, ",", -1);
  for (i = 0; allowed[i] != NULL; i++) {
    gchar *entry = g_strstrip (allowed[i]);

    if (*entry == '\0')
      continue;
    any = FALSE;
    /* Scheme and host are case-insensitive, and browsers send them in
     * lower case anyway */
    if (origin != NULL && g_ascii_strcasecmp (entry, origin) == 0)
      found = TRUE;
  }
  g_strfreev (allowed);

  return any || found;
}

/* Answers @msg with @status and closes the connection: see
 * gst_websocket_page_handle () for why refusals close it */
static void
refuse_request (SoupServerMessage * msg, guint status, const gchar * reason)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  soup_server_message_set_status (msg, status, reason);
}

/* Runs before libsoup answers an upgrade on GST_WEBSOCKET_SERVER_PATH: a
 * status set here replaces the handshake. */
static void
on_websocket_request (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  const gchar *origin;
  gchar *allowed_origins;
  guint n_clients;
  gboolean full;
  gchar *peer;
  GError *err = NULL;

  origin = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");
  peer = address_to_string (soup_server_message_get_remote_address (msg));

  /* libsoup would answer a plain request itself, on a connection it then
   * keeps alive: see gst_websocket_page_handle () */
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err)) {
    GST_DEBUG_OBJECT (server->element, "not a WebSocket upgrade from %s: %s",
        peer, err->message);
    g_clear_error (&err);
    refuse_request (msg, SOUP_STATUS_BAD_REQUEST, "WebSocket upgrade expected");
    goto done;
  }

  allowed_origins = gst_websocket_server_dup_allowed_origins (server);
  if (!origin_is_allowed (allowed_origins, origin)) {
    GST_INFO_OBJECT (server->element, "refusing %s: origin %s is not allowed",
        peer, GST_STR_NULL (origin));
    refuse_request (msg, SOUP_STATUS_FORBIDDEN, "Origin not allowed");
    g_mutex_lock (&server->lock);
    server->clients_refused++;
    g_mutex_unlock (&server->lock);
    g_free (allowed_origins);
    goto done;
  }
  g_free (allowed_origins);

  g_mutex_lock (&server->lock);
  n_clients = server_count_clients (server);
  full = server->stopping || (server->max_clients > 0 &&
      n_clients >= server->max_clients);
  if (full)
    server->clients_refused++;
  g_mutex_unlock (&server->lock);
  if (full) {
    GST_INFO_OBJECT (server->element, "refusing %s: %u clients already", peer,
        n_clients);
    refuse_request (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many clients");
  }

done:
  g_free (peer);
}

/* ---- starting and stopping ---- */

/* Runs @func on the server thread once the clients had CLOSE_GRACE_MS to
 * close */
static void
server_after_grace (GstWebSocketServer * server, GSourceFunc func)
{
  GSource *timeout = g_timeout_source_new (CLOSE_GRACE_MS);

  g_source_set_callback (timeout, func, server, NULL);
  g_source_attach (timeout, server->context);
  g_source_unref (timeout);
}

static gboolean
quit_server_loop (gpointer user_data)
{
  GstWebSocketServer *server = user_data;

  GST_WARNING_OBJECT (server->element, "%u connections did not close in time",
      g_list_length (server->clients));
  g_main_loop_quit (server->loop);

  return G_SOURCE_REMOVE;
}

/* Clients that did not answer the close handshake (a stalled one cannot
 * even receive it): shutting the socket down makes libsoup's pending I/O
 * fail, and it closes the connection */
static gboolean
force_close_clients (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  GList *l;

  for (l = server->clients; l != NULL; l = l->next) {
    Client *client = l->data;

    GST_DEBUG_OBJECT (server->element, "client %s: no close answer, shutting "
        "it down", client->address);
    if (client->socket)
      g_socket_shutdown (client->socket, TRUE, TRUE, NULL);
  }

  server_after_grace (server, quit_server_loop);

  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_server (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  GList *l;

  server->stopping = TRUE;
  /* Closes the listening socket and any plain HTTP connection; WebSocket
   * connections belong to us now */
  soup_server_disconnect (server->soup);

  if (server->clients == NULL) {
    g_main_loop_quit (server->loop);
    return G_SOURCE_REMOVE;
  }

  for (l = server->clients; l != NULL; l = l->next) {
    Client *client = l->data;

    if (soup_websocket_connection_get_state (client->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "Pipeline stopped");
  }

  server_after_grace (server, force_close_clients);

  return G_SOURCE_REMOVE;
}

static gpointer
server_thread_func (gpointer user_data)
{
  GstWebSocketServer *server = user_data;

  /* libsoup attaches its sources to the thread-default context */
  g_main_context_push_thread_default (server->context);
  GST_DEBUG_OBJECT (server->element, "server thread running");
  g_main_loop_run (server->loop);
  GST_DEBUG_OBJECT (server->element, "server thread done");
  g_main_context_pop_thread_default (server->context);

  return NULL;
}

/* Frees what listen () made; no thread may run */
static void
server_free_resources (GstWebSocketServer * server)
{
  GList *clients, *feeds, *l;
  GMainContext *context;

  g_mutex_lock (&server->lock);
  clients = server->clients;
  server->clients = NULL;
  feeds = server->feeds;
  server->feeds = NULL;
  if (server->dispatch_source) {
    g_source_destroy (server->dispatch_source);
    g_source_unref (server->dispatch_source);
    server->dispatch_source = NULL;
  }
  g_queue_clear_full (&server->pending,
      (GDestroyNotify) gst_websocket_feed_frame_free);
  /* No more frames for the server thread from here on */
  context = server->context;
  server->context = NULL;
  g_mutex_unlock (&server->lock);

  if (context)
    g_main_context_push_thread_default (context);
  for (l = clients; l != NULL; l = l->next)
    client_free (l->data);
  g_list_free (clients);
  g_clear_object (&server->soup);
  if (context)
    g_main_context_pop_thread_default (context);

  g_list_free_full (feeds, (GDestroyNotify) gst_websocket_feed_free);
  g_clear_pointer (&server->loop, g_main_loop_unref);
  if (context)
    g_main_context_unref (context);
}

/* The port @soup listens on, 0 if unknown */
static gint
server_bound_port (SoupServer * soup)
{
  GSList *listeners = soup_server_get_listeners (soup);
  gint port = 0;

  if (listeners != NULL) {
    GSocketAddress *local = g_socket_get_local_address (listeners->data, NULL);

    if (local != NULL) {
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      g_object_unref (local);
    }
  }
  g_slist_free (listeners);

  return port;
}

/* Listens on @address and resets the counters; the clients are served
 * once run () started the thread. Returns the port in @bound_port. */
gboolean
gst_websocket_server_listen (GstWebSocketServer * server,
    GSocketAddress * address, gint * bound_port, GError ** error)
{
  gboolean listening;

  g_mutex_lock (&server->lock);
  server->frames_received = 0;
  server->frames_dropped = 0;
  server->clients_accepted = 0;
  server->clients_refused = 0;
  server->context = g_main_context_new ();
  g_mutex_unlock (&server->lock);
  server->next_client_id = 0;
  server->stopping = FALSE;
  server->loop = g_main_loop_new (server->context, FALSE);

  /* The server listens, and later accepts, on the thread-default context of
   * the thread that calls listen */
  g_main_context_push_thread_default (server->context);
  server->soup = soup_server_new ("server-header", "GStreamer-websocketsink ",
      NULL);
  /* JPEG does not compress, and deflate would cost CPU per client */
  soup_server_remove_websocket_extension (server->soup,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (server->soup, "/", gst_websocket_page_handle,
      server->element, NULL);
  soup_server_add_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      on_websocket_request, server, NULL);
  soup_server_add_websocket_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      NULL, NULL, on_websocket_connected, server, NULL);
  listening = soup_server_listen (server->soup, address, 0, error);
  g_main_context_pop_thread_default (server->context);

  if (!listening) {
    server_free_resources (server);
    return FALSE;
  }
  *bound_port = server_bound_port (server->soup);

  return TRUE;
}

/* Starts the server thread after listen () */
gboolean
gst_websocket_server_run (GstWebSocketServer * server, GError ** error)
{
  server->thread = g_thread_try_new ("websocketsink", server_thread_func,
      server, error);

  return server->thread != NULL;
}

/* Closes every connection (code 1001), waits for the thread and frees what
 * listen () made. Does nothing when not listening. */
void
gst_websocket_server_stop (GstWebSocketServer * server)
{
  if (server->thread != NULL) {
    GSource *source = g_idle_source_new ();

    g_source_set_priority (source, G_PRIORITY_HIGH);
    g_source_set_callback (source, shutdown_server, server, NULL);
    g_source_attach (source, server->context);
    g_source_unref (source);

    g_thread_join (server->thread);
    server->thread = NULL;
  }

  server_free_resources (server);
}

/* ---- statistics ---- */

/* Adds the server's fields to the element's stats: `clients`,
 * `frames-received`, `frames-dropped`, `clients-accepted`, `clients-refused`, `client-stats` */
void
gst_websocket_server_add_stats (GstWebSocketServer * server,
    GstStructure * stats)
{
  GValue clients = G_VALUE_INIT;
  guint n_clients = 0;
  GList *l;

  g_value_init (&clients, GST_TYPE_ARRAY);

  g_mutex_lock (&server->lock);
  for (l = server->clients; l != NULL; l = l->next) {
    Client *client = l->data;
    GValue v = G_VALUE_INIT;

    if (client->refused)
      continue;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("client",
            "id", G_TYPE_UINT64, client->id,
            "address", G_TYPE_STRING, client->address,
            "frames-sent", G_TYPE_UINT64, client->frames_sent,
            "frames-skipped", G_TYPE_UINT64, client->frames_skipped, NULL));
    gst_value_array_append_and_take_value (&clients, &v);
    n_clients++;
  }
  gst_structure_set (stats,
      "clients", G_TYPE_UINT, n_clients,
      "frames-received", G_TYPE_UINT64, server->frames_received,
      "frames-dropped", G_TYPE_UINT64, server->frames_dropped,
      "clients-accepted", G_TYPE_UINT64, server->clients_accepted,
      "clients-refused", G_TYPE_UINT64, server->clients_refused, NULL);
  g_mutex_unlock (&server->lock);

  gst_structure_take_value (stats, "client-stats", &clients);
}
