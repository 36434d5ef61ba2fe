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


/* The WebSocket side of websocketsink's server (gstwebsocketclients.h):
 * which frame a client gets is the camera feed's business
 * (gstwebsocketfeed.c); when a client is ready for one is decided here: a
 * client is busy while SEND_BUDGET bytes are queued for it, and frames go
 * on when its socket is writable again. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <json-glib/json-glib.h>

#include "gstwebsocketelements.h"
#include "gstwebsocketclients.h"

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

typedef struct
{
  GstWebSocketClients *clients;
  SoupWebsocketConnection *conn;
  /* From the connection we accepted (libsoup does not know it) */
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

static void client_offer (GstWebSocketClients * clients, Client * client);

void
gst_websocket_clients_init (GstWebSocketClients * clients,
    GstElement * element, GMutex * lock, GstWebSocketListener * listener)
{
  memset (clients, 0, sizeof (*clients));
  clients->element = element;
  clients->lock = lock;
  clients->listener = listener;
}

void
gst_websocket_clients_clear (GstWebSocketClients * clients)
{
  g_clear_pointer (&clients->allowed_origins, g_free);
}

void
gst_websocket_clients_start (GstWebSocketClients * clients,
    GMainContext * context, GMainLoop * loop)
{
  clients->accepted = 0;
  clients->refused = 0;
  clients->context = context;
  clients->loop = loop;
  clients->next_id = 0;
  clients->stopping = FALSE;
}

/* ---- the feeds ---- */

static GstWebSocketFeed *
feed_find (GstWebSocketClients * clients, guint id)
{
  GList *l;

  for (l = clients->feeds; l != NULL; l = l->next) {
    if (((GstWebSocketFeed *) l->data)->id == id)
      return l->data;
  }
  return NULL;
}

/* Takes one frame from a streaming thread into its camera's feed */
static void
clients_feed_frame (GstWebSocketClients * clients,
    GstWebSocketFeedFrame * frame)
{
  GstWebSocketFeed *feed = feed_find (clients, frame->camera_id);
  GList *l;

  if (frame->message == NULL) {
    /* The pad is gone */
    if (feed != NULL) {
      g_mutex_lock (clients->lock);
      clients->feeds = g_list_remove (clients->feeds, feed);
      g_mutex_unlock (clients->lock);
      for (l = clients->list; l != NULL; l = l->next) {
        Client *client = l->data;

        g_hash_table_remove (client->cursors, GUINT_TO_POINTER (feed->id));
      }
      gst_websocket_feed_free (feed);
    }
    return;
  }

  if (feed == NULL) {
    feed = gst_websocket_feed_new (frame);
    g_mutex_lock (clients->lock);
    clients->feeds = g_list_append (clients->feeds, feed);
    g_mutex_unlock (clients->lock);
  }
  gst_websocket_feed_take (feed, frame);
}

void
gst_websocket_clients_take_frame (GstWebSocketClients * clients,
    GstWebSocketFeedFrame * frame)
{
  GList *l;

  if (clients->stopping)
    return;
  clients_feed_frame (clients, frame);
  /* Only this thread removes clients, and only from "closed", which
   * libsoup never emits from inside a send */
  for (l = clients->list; l != NULL; l = l->next)
    client_offer (clients, l->data);
}

/* ---- the clients ---- */

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
  client_offer (client->clients, client);

  return G_SOURCE_REMOVE;
}

static void
client_send (GstWebSocketClients * clients, Client * client, GBytes * message)
{
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_BINARY, message);
  client->inflight += g_bytes_get_size (message);
  g_mutex_lock (clients->lock);
  client->frames_sent++;
  g_mutex_unlock (clients->lock);

  if (client->socket != NULL && client->drain_source == NULL) {
    client->drain_source = g_socket_create_source (client->socket, G_IO_OUT,
        NULL);
    g_source_set_priority (client->drain_source, GST_WEBSOCKET_SOURCE_PRIORITY);
    g_source_set_callback (client->drain_source,
        (GSourceFunc) G_CALLBACK (on_client_drained), client, NULL);
    g_source_attach (client->drain_source, clients->context);
  }
}

static void
client_count_skipped (GstWebSocketClients * clients, Client * client,
    guint64 skipped)
{
  if (skipped == 0)
    return;
  g_mutex_lock (clients->lock);
  client->frames_skipped += skipped;
  g_mutex_unlock (clients->lock);
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
client_offer (GstWebSocketClients * clients, Client * client)
{
  gboolean busy;
  GList *l;

  if (client->refused)
    return;

  busy = client->inflight >= SEND_BUDGET ||
      soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN;

  for (l = clients->feeds; l != NULL; l = l->next) {
    GstWebSocketFeed *feed = l->data;
    GstWebSocketFeedCursor *cursor = client_get_cursor (client, feed);
    guint64 skipped = 0;
    GBytes *message;

    if (busy) {
      client_count_skipped (clients, client,
          gst_websocket_feed_skip_busy (feed, cursor));
      continue;
    }
    message = gst_websocket_feed_next (feed, cursor, &skipped);
    client_count_skipped (clients, client, skipped);
    if (message != NULL)
      client_send (clients, client, message);
    busy = client->inflight >= SEND_BUDGET;
  }
}

guint
gst_websocket_clients_count (GstWebSocketClients * clients)
{
  guint n_clients = 0;
  GList *l;

  for (l = clients->list; l != NULL; l = l->next) {
    if (!((Client *) l->data)->refused)
      n_clients++;
  }
  return n_clients;
}

static void
on_client_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  Client *client = user_data;
  GstWebSocketClients *clients = client->clients;
  gboolean last;

  GST_INFO_OBJECT (clients->element, "client %s disconnected (close code %u)",
      client->address, soup_websocket_connection_get_close_code (conn));

  g_mutex_lock (clients->lock);
  clients->list = g_list_remove (clients->list, client);
  last = (clients->list == NULL);
  g_mutex_unlock (clients->lock);

  client_free (client);

  if (clients->stopping && last)
    g_main_loop_quit (clients->loop);
}

/* The camera named in a text message {"key-frame": "<camera>"}, or NULL */
static gchar *
parse_key_frame_request (gint type, GBytes * message)
{
  JsonParser *parser;
  JsonNode *root;
  gchar *camera = NULL;
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT || size == 0)
    return NULL;
  parser = json_parser_new_immutable ();
  if (json_parser_load_from_data (parser, data, size, NULL)) {
    root = json_parser_get_root (parser);
    if (JSON_NODE_HOLDS_OBJECT (root)) {
      JsonNode *member = json_object_get_member (json_node_get_object (root),
          "key-frame");

      if (member && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING)
        camera = g_strdup (json_node_get_string (member));
    }
  }
  g_object_unref (parser);
  return camera;
}

/* A client asks for a key frame of a camera of encoded video when its
 * decoder fell behind or failed: rather than wait up to a GOP, it gets the
 * next key frame, asked for upstream. Anything else is ignored. */
static void
on_client_message (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  Client *client = user_data;
  GstWebSocketClients *clients = client->clients;
  gchar *camera;
  GList *l;

  if (client->refused)
    return;
  camera = parse_key_frame_request (type, message);
  if (camera == NULL) {
    GST_LOG_OBJECT (clients->element, "client %s: ignoring a %"
        G_GSIZE_FORMAT "-byte message", client->address,
        g_bytes_get_size (message));
    return;
  }
  for (l = clients->feeds; l != NULL; l = l->next) {
    GstWebSocketFeed *feed = l->data;

    if (g_strcmp0 (feed->camera, camera) == 0 &&
        gst_websocket_feed_want_key (feed, client_get_cursor (client, feed))) {
      GST_DEBUG_OBJECT (clients->element, "client %s asks for a key frame "
          "of camera %s", client->address, camera);
      break;
    }
  }
  g_free (camera);
}

static void
on_client_error (SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  Client *client = user_data;

  /* libsoup closes the connection itself after protocol errors */
  GST_INFO_OBJECT (client->clients->element, "client %s: %s",
      client->address, error->message);
}

static void
client_tune_socket (GstWebSocketClients * clients, Client * client)
{
  GError *err = NULL;

  if (client->socket == NULL)
    return;

  /* A frame's last segment should not wait for an ACK */
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NODELAY, 1, &err)) {
    GST_DEBUG_OBJECT (clients->element, "TCP_NODELAY: %s", err->message);
    g_clear_error (&err);
  }
#ifdef TCP_NOTSENT_LOWAT
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
          SEND_LOW_WATERMARK, &err)) {
    GST_DEBUG_OBJECT (clients->element, "TCP_NOTSENT_LOWAT: %s", err->message);
    g_clear_error (&err);
  }
#endif
}

static Client *
client_new (GstWebSocketClients * clients, SoupServerMessage * msg,
    SoupWebsocketConnection * conn)
{
  Client *client = g_new0 (Client, 1);

  client->clients = clients;
  client->conn = g_object_ref (conn);
  client->socket = gst_websocket_listener_take_socket (clients->listener, msg);
  client->address =
      gst_websocket_address_to_string (soup_server_message_get_remote_address
      (msg));
  client->id = ++clients->next_id;
  client->cursors = g_hash_table_new_full (NULL, NULL, NULL, g_free);

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MAX_INCOMING_PAYLOAD_SIZE);
  client_tune_socket (clients, client);

  g_signal_connect (conn, "closed", G_CALLBACK (on_client_closed), client);
  g_signal_connect (conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_client_error), client);

  return client;
}

void
gst_websocket_clients_handle_connected (SoupServer * soup,
    SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  GstWebSocketClients *clients = user_data;
  Client *client = client_new (clients, msg, conn);

  g_mutex_lock (clients->lock);
  /* Two upgrades can pass the check in the request handler before either
   * gets here; the list is the truth. */
  if (clients->stopping || (clients->max_clients > 0 &&
          gst_websocket_clients_count (clients) >= clients->max_clients)) {
    client->refused = TRUE;
    clients->refused++;
  } else {
    clients->accepted++;
  }
  clients->list = g_list_append (clients->list, client);
  g_mutex_unlock (clients->lock);

  if (client->refused) {
    GST_INFO_OBJECT (clients->element, "client %s refused: too many clients",
        client->address);
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Too many clients");
    return;
  }

  GST_INFO_OBJECT (clients->element, "client %s connected (origin %s)",
      client->address,
      GST_STR_NULL (soup_websocket_connection_get_origin (conn)));
  client_offer (clients, client);
}

/* ---- the upgrade ---- */

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
void
gst_websocket_clients_handle_upgrade (SoupServer * soup,
    SoupServerMessage * msg, const char *path, GHashTable * query,
    gpointer user_data)
{
  GstWebSocketClients *clients = user_data;
  const gchar *origin;
  gchar *allowed_origins;
  guint n_clients;
  gboolean full;
  gchar *peer;
  GError *err = NULL;

  origin = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");
  peer = gst_websocket_address_to_string
      (soup_server_message_get_remote_address (msg));

  /* libsoup would answer a plain request itself, on a connection it then
   * keeps alive: see gst_websocket_page_handle () */
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err)) {
    GST_DEBUG_OBJECT (clients->element, "not a WebSocket upgrade from %s: %s",
        peer, err->message);
    g_clear_error (&err);
    refuse_request (msg, SOUP_STATUS_BAD_REQUEST, "WebSocket upgrade expected");
    goto done;
  }

  g_mutex_lock (clients->lock);
  allowed_origins = g_strdup (clients->allowed_origins);
  g_mutex_unlock (clients->lock);
  if (!origin_is_allowed (allowed_origins, origin)) {
    GST_INFO_OBJECT (clients->element, "refusing %s: origin %s is not "
        "allowed", peer, GST_STR_NULL (origin));
    refuse_request (msg, SOUP_STATUS_FORBIDDEN, "Origin not allowed");
    g_mutex_lock (clients->lock);
    clients->refused++;
    g_mutex_unlock (clients->lock);
    g_free (allowed_origins);
    goto done;
  }
  g_free (allowed_origins);

  g_mutex_lock (clients->lock);
  n_clients = gst_websocket_clients_count (clients);
  full = clients->stopping || (clients->max_clients > 0 &&
      n_clients >= clients->max_clients);
  if (full)
    clients->refused++;
  g_mutex_unlock (clients->lock);
  if (full) {
    GST_INFO_OBJECT (clients->element, "refusing %s: %u clients already",
        peer, n_clients);
    refuse_request (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many clients");
  }

done:
  g_free (peer);
}

/* ---- stopping ---- */

void
gst_websocket_clients_stop (GstWebSocketClients * clients)
{
  clients->stopping = TRUE;
}

gboolean
gst_websocket_clients_close_all (GstWebSocketClients * clients)
{
  GList *l;

  if (clients->list == NULL)
    return FALSE;

  for (l = clients->list; l != NULL; l = l->next) {
    Client *client = l->data;

    if (soup_websocket_connection_get_state (client->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "Pipeline stopped");
  }
  return TRUE;
}

/* Shutting the socket down makes libsoup's pending I/O fail, and it closes
 * the connection */
void
gst_websocket_clients_shut_down (GstWebSocketClients * clients)
{
  GList *l;

  for (l = clients->list; l != NULL; l = l->next) {
    Client *client = l->data;

    GST_DEBUG_OBJECT (clients->element, "client %s: no close answer, "
        "shutting it down", client->address);
    if (client->socket)
      g_socket_shutdown (client->socket, TRUE, TRUE, NULL);
  }
}

void
gst_websocket_clients_free_all (GstWebSocketClients * clients)
{
  GList *list, *feeds;

  g_mutex_lock (clients->lock);
  list = clients->list;
  clients->list = NULL;
  feeds = clients->feeds;
  clients->feeds = NULL;
  g_mutex_unlock (clients->lock);

  g_list_free_full (list, (GDestroyNotify) client_free);
  g_list_free_full (feeds, (GDestroyNotify) gst_websocket_feed_free);
  clients->context = NULL;
  clients->loop = NULL;
}

/* ---- statistics ---- */

guint
gst_websocket_clients_get_stats (GstWebSocketClients * clients, GValue * array)
{
  guint n_clients = 0;
  GList *l;

  g_value_init (array, GST_TYPE_ARRAY);
  for (l = clients->list; l != NULL; l = l->next) {
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
    gst_value_array_append_and_take_value (array, &v);
    n_clients++;
  }
  return n_clients;
}
