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
 * gstwebsocketpage.c's, the secret gstwebsocketauth.c's.
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
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "gstwebsocketauth.h"
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

#define DEFAULT_REQUEST_TIMEOUT 10
#define DEFAULT_MAX_PENDING_CONNECTIONS 64

/* The element's properties that the server implements: ids far above the
 * element's own */
enum
{
  PROP_SERVER_0 = GST_WEBSOCKET_SERVER_PROP_BASE,
  PROP_REQUEST_TIMEOUT,
  PROP_MAX_PENDING_CONNECTIONS,
  PROP_TLS_CERTIFICATE_FILE,
  PROP_TLS_KEY_FILE,
  PROP_TLS_CERTIFICATE,
  PROP_AUTH_TOKEN,
  PROP_AUTH_TOKEN_FILE,
  PROP_AUTH_USER,
  PROP_AUTH_PASSWORD,
};

/* A connection that is not (yet) a WebSocket client: accepted, maybe in
 * its TLS handshake, then libsoup's until it has been answered. Server
 * thread only. */
typedef struct _Conn Conn;
struct _Conn
{
  GstWebSocketServer *server;
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
};

typedef struct
{
  GstWebSocketServer *server;
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

  /* Settings under @lock: the connection limits, read at each accept; the
   * secrets, read at each request; TLS, read at listen () */
  guint request_timeout;
  guint max_pending;
  GstWebSocketAuth auth;
  gchar *auth_token_file;
  gchar *tls_certificate_file;
  gchar *tls_key_file;
  GTlsCertificate *tls_certificate;

  /* Counters under @lock */
  guint n_pending;
  guint64 connections_closed;
  guint64 requests_unauthorized;
  guint64 tls_failures;

  /* Created in listen (), freed in stop () */
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  GSocket *listen_socket;
  gchar *listen_address;
  gint listen_port;
  /* The certificate in use, NULL for plain HTTP */
  GTlsCertificate *tls;

  /* Server thread only */
  guint64 next_client_id;
  gboolean stopping;
  /* Pending connections (Conn), oldest first */
  GQueue conns;
  /* Watches the listening socket; NULL while accepting is paused */
  GSource *accept_source;
  GSource *accept_retry;
  /* Out of file descriptors: since when, and when it last happened
   * (monotonic time, 0 when not), how often accept () failed, and the
   * last successful accept (); the timer that notices the end */
  gint64 exhausted_since;
  gint64 exhausted_last;
  guint64 exhausted_failures;
  gint64 accepted_last;
  GSource *exhausted_check;
  guint accept_errors;
};

static void client_offer (GstWebSocketServer * server, Client * client);
static gboolean server_dispatch (gpointer user_data);
static GSocket *conn_take_socket (SoupServerMessage * msg);
static Conn *conn_find (SoupServerMessage * msg);
static void conn_close (Conn * conn);
static gchar *address_to_string (GSocketAddress * address);
static guint server_count_clients (GstWebSocketServer * server);

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
  g_queue_init (&server->conns);
  server->request_timeout = DEFAULT_REQUEST_TIMEOUT;
  server->max_pending = DEFAULT_MAX_PENDING_CONNECTIONS;
  gst_websocket_auth_init (&server->auth);

  return server;
}

void
gst_websocket_server_free (GstWebSocketServer * server)
{
  gst_websocket_server_stop (server);
  g_free (server->allowed_origins);
  gst_websocket_auth_clear (&server->auth);
  g_free (server->auth_token_file);
  g_free (server->tls_certificate_file);
  g_free (server->tls_key_file);
  g_clear_object (&server->tls_certificate);
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

/* ---- the element's properties that belong to the server ---- */

/* request-timeout, max-pending-connections, tls-*, auth-*: installed on
 * the element's class with ids from GST_WEBSOCKET_SERVER_PROP_BASE, and
 * handled by gst_websocket_server_set_property () and _get_property () */
void
gst_websocket_server_install_properties (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:request-timeout:
   *
   * Seconds a connection has, from the moment it is accepted, to complete
   * its TLS handshake (HTTPS) and its request, and to read the answer, or
   * to become a WebSocket. A connection that takes longer is closed, so
   * idle or slow connections cannot hold the server's file descriptors.
   * WebSocket clients are not affected once connected. Applies to
   * connections accepted after the change.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request Timeout",
          "Seconds a connection has to complete its request (and TLS "
          "handshake) and read the answer, or become a WebSocket, before it "
          "is closed", 1, 3600, DEFAULT_REQUEST_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstWebSocketSink:max-pending-connections:
   *
   * The most connections at once that are not yet answered nor upgraded to
   * a WebSocket (see #GstWebSocketSink:request-timeout). When a new
   * connection arrives with that many pending, the oldest of them is
   * closed: a flood of idle connections cannot lock out a viewer, whose
   * request takes milliseconds. Each pending connection holds one file
   * descriptor. Applies to the next connection.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PENDING_CONNECTIONS,
      g_param_spec_uint ("max-pending-connections", "Maximum Pending "
          "Connections", "Most connections at once not yet answered nor "
          "upgraded to a WebSocket; the oldest is closed for a new one",
          1, 65535, DEFAULT_MAX_PENDING_CONNECTIONS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstWebSocketSink:tls-certificate-file:
   *
   * A PEM file with the server's certificate (followed by any intermediate
   * certificates). Setting it, or #GstWebSocketSink:tls-certificate, makes
   * the server speak HTTPS and WSS only. The private key may be in the
   * same file, or in #GstWebSocketSink:tls-key-file. Read when the element
   * starts. Needs GLib's TLS backend (Debian package glib-networking).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE_FILE,
      g_param_spec_string ("tls-certificate-file", "TLS Certificate File",
          "PEM file with the certificate chain; makes the server speak HTTPS "
          "and WSS", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:tls-key-file:
   *
   * A PEM file with the private key of
   * #GstWebSocketSink:tls-certificate-file, when it is not in that file.
   * Keep it readable by the pipeline's user only.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS Key File",
          "PEM file with the private key, when not in tls-certificate-file",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:tls-certificate:
   *
   * The server's certificate, with its private key, for applications that
   * hold it in memory or in a PKCS #11 token. Takes precedence over
   * #GstWebSocketSink:tls-certificate-file.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE,
      g_param_spec_object ("tls-certificate", "TLS Certificate",
          "Certificate with its private key; makes the server speak HTTPS "
          "and WSS (takes precedence over tls-certificate-file)",
          G_TYPE_TLS_CERTIFICATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:auth-token:
   *
   * A secret every HTTP request and WebSocket must carry, as `?token=` in
   * the URL or as an `Authorization: Bearer` header. Any other request gets
   * `401 Unauthorized` (the page, its script and the WebSocket alike, so no
   * frame). Open the page as `http://HOST:PORT/?token=SECRET`: the page
   * passes it on to its script and the WebSocket. Compared in constant
   * time, never logged and not readable back. Use a long random value
   * (`openssl rand -hex 16`). Can be changed while playing (to rotate it);
   * clients already connected stay connected. Empty turns it off.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Authentication Token",
          "Secret every request must carry as ?token= or Authorization: "
          "Bearer, else 401 (write-only, never logged)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstWebSocketSink:auth-token-file:
   *
   * A file whose first line is the token (surrounding white space
   * ignored), read when the element starts; it then replaces
   * #GstWebSocketSink:auth-token. Keeps the secret off the command line,
   * where other users can see it with `ps`.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN_FILE,
      g_param_spec_string ("auth-token-file", "Authentication Token File",
          "File whose first line is the auth-token, read when the element "
          "starts", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:auth-user:
   *
   * With #GstWebSocketSink:auth-password: HTTP basic authentication. A
   * request with these credentials in its `Authorization: Basic` header is
   * accepted (as is one with the token, when both are set); browsers ask
   * for them. Send them over HTTPS only. May not contain `:`.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_USER,
      g_param_spec_string ("auth-user", "Authentication User",
          "User name of HTTP basic authentication (with auth-password)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstWebSocketSink:auth-password:
   *
   * The password of #GstWebSocketSink:auth-user. Compared in constant time,
   * never logged and not readable back.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_PASSWORD,
      g_param_spec_string ("auth-password", "Authentication Password",
          "Password of HTTP basic authentication (write-only, never logged)",
          NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

/* Returns FALSE when @prop_id is not one of the server's */
gboolean
gst_websocket_server_set_property (GstWebSocketServer * server,
    guint prop_id, const GValue * value, GParamSpec * pspec)
{
  g_mutex_lock (&server->lock);
  switch (prop_id) {
    case PROP_REQUEST_TIMEOUT:
      server->request_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      server->max_pending = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      g_free (server->tls_certificate_file);
      server->tls_certificate_file = g_value_dup_string (value);
      break;
    case PROP_TLS_KEY_FILE:
      g_free (server->tls_key_file);
      server->tls_key_file = g_value_dup_string (value);
      break;
    case PROP_TLS_CERTIFICATE:
      g_clear_object (&server->tls_certificate);
      server->tls_certificate = g_value_dup_object (value);
      break;
    case PROP_AUTH_TOKEN:
      gst_websocket_auth_set_token (&server->auth, g_value_get_string (value));
      break;
    case PROP_AUTH_TOKEN_FILE:
      g_free (server->auth_token_file);
      server->auth_token_file = g_value_dup_string (value);
      break;
    case PROP_AUTH_USER:
      gst_websocket_auth_set_user (&server->auth, g_value_get_string (value));
      break;
    case PROP_AUTH_PASSWORD:
      gst_websocket_auth_set_password (&server->auth,
          g_value_get_string (value));
      break;
    default:
      g_mutex_unlock (&server->lock);
      return FALSE;
  }
  g_mutex_unlock (&server->lock);

  return TRUE;
}

/* Returns FALSE when @prop_id is not one of the server's readable ones */
gboolean
gst_websocket_server_get_property (GstWebSocketServer * server,
    guint prop_id, GValue * value, GParamSpec * pspec)
{
  g_mutex_lock (&server->lock);
  switch (prop_id) {
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, server->request_timeout);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      g_value_set_uint (value, server->max_pending);
      break;
    case PROP_TLS_CERTIFICATE_FILE:
      g_value_set_string (value, server->tls_certificate_file);
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string (value, server->tls_key_file);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, server->tls_certificate);
      break;
    case PROP_AUTH_TOKEN_FILE:
      g_value_set_string (value, server->auth_token_file);
      break;
    case PROP_AUTH_USER:
      g_value_set_string (value, server->auth.user);
      break;
    default:
      g_mutex_unlock (&server->lock);
      return FALSE;
  }
  g_mutex_unlock (&server->lock);

  return TRUE;
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
  GstWebSocketServer *server = client->server;
  gchar *camera;
  GList *l;

  if (client->refused)
    return;
  camera = parse_key_frame_request (type, message);
  if (camera == NULL) {
    GST_LOG_OBJECT (server->element, "client %s: ignoring a %" G_GSIZE_FORMAT
        "-byte message", client->address, g_bytes_get_size (message));
    return;
  }
  for (l = server->feeds; l != NULL; l = l->next) {
    GstWebSocketFeed *feed = l->data;

    if (g_strcmp0 (feed->camera, camera) == 0 &&
        gst_websocket_feed_want_key (feed, client_get_cursor (client, feed))) {
      GST_DEBUG_OBJECT (server->element, "client %s asks for a key frame of "
          "camera %s", client->address, camera);
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

  client->server = server;
  client->conn = g_object_ref (conn);
  client->socket = conn_take_socket (msg);
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

/* Runs on every request once its headers are in, before its body and
 * before any other handler: a status set here is the answer. */
static void
on_request_early (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageHeaders *request_headers =
      soup_server_message_get_request_headers (msg);
  GstWebSocketAuth auth;
  gboolean allowed;
  Conn *conn;

  /* No request here has a use for a body. libsoup would read it all, into
   * memory, in a loop that a fast sender keeps busy for seconds: the
   * connection is closed instead. */
  if (soup_message_headers_get_encoding (request_headers) !=
      SOUP_ENCODING_NONE &&
      (soup_message_headers_get_encoding (request_headers) !=
          SOUP_ENCODING_CONTENT_LENGTH ||
          soup_message_headers_get_content_length (request_headers) > 0)) {
    conn = conn_find (msg);
    soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        NULL);
    if (conn != NULL) {
      GST_INFO_OBJECT (server->element, "closing the connection from %s: "
          "%s %s with a body", conn->address,
          soup_server_message_get_method (msg), path);
      conn_close (conn);
    }
    return;
  }
  /* The page's URL may carry the token: it must not travel on in a
   * Referer (the page links nowhere, but a user may paste it) */
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");

  g_mutex_lock (&server->lock);
  gst_websocket_auth_copy_digests (&auth, &server->auth);
  g_mutex_unlock (&server->lock);

  allowed = gst_websocket_auth_check (&auth, msg, query);
  if (!allowed) {
    gchar *peer =
        address_to_string (soup_server_message_get_remote_address (msg));

    /* The path only: the query may hold a (wrong) token */
    GST_INFO_OBJECT (server->element, "refusing %s %s from %s: no valid "
        "secret (401)", soup_server_message_get_method (msg), path, peer);
    g_free (peer);
    g_mutex_lock (&server->lock);
    server->requests_unauthorized++;
    g_mutex_unlock (&server->lock);
    gst_websocket_auth_challenge (&auth, msg);
    soup_message_headers_replace (headers, "Connection", "close");
  }
  gst_websocket_auth_clear (&auth);
}

/* ---- connections, from accept () to an answer or a WebSocket (server
 * thread) ---- */

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
  GstWebSocketServer *server = conn->server;

  g_queue_unlink (&server->conns, &conn->link);
  g_mutex_lock (&server->lock);
  server->n_pending--;
  g_mutex_unlock (&server->lock);

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
  GstWebSocketServer *server = conn->server;

  g_mutex_lock (&server->lock);
  server->connections_closed++;
  g_mutex_unlock (&server->lock);
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  g_socket_close (conn->socket, NULL);
  conn_forget (conn);
}

static gboolean
conn_timed_out (gpointer user_data)
{
  Conn *conn = user_data;
  guint timeout;

  g_mutex_lock (&conn->server->lock);
  timeout = conn->server->request_timeout;
  g_mutex_unlock (&conn->server->lock);
  GST_INFO_OBJECT (conn->server->element, "closing the connection from %s: "
      "no complete request and answer in time (request-timeout %u s)",
      conn->address, timeout);
  conn_close (conn);

  return G_SOURCE_REMOVE;
}

static void
conn_hand_to_soup (Conn * conn)
{
  GstWebSocketServer *server = conn->server;
  GIOStream *stream = conn->stream;
  GError *err = NULL;

  g_object_set_qdata (G_OBJECT (stream), conn_quark (), NULL);
  conn->handed = TRUE;
  g_object_weak_ref (G_OBJECT (stream), conn_stream_gone, conn);
  /* libsoup may already be done with it when this returns (a client that
   * closed at once), or, after the unref, @conn may be gone */
  if (!soup_server_accept_iostream (server->soup, stream, conn->local,
          conn->remote, &err)) {
    GST_WARNING_OBJECT (server->element, "libsoup refused the connection "
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
    GstWebSocketServer *server = conn->server;

    /* A client that does not trust our certificate, or that speaks plain
     * HTTP to the HTTPS port, ends here */
    GST_INFO_OBJECT (server->element, "TLS handshake with %s failed: %s",
        conn->address, err->message);
    g_clear_error (&err);
    g_mutex_lock (&server->lock);
    server->tls_failures++;
    g_mutex_unlock (&server->lock);
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    conn_forget (conn);
    return;
  }
  conn_hand_to_soup (conn);
}

/* A connection accepted on the listening socket */
static void
conn_accept (GstWebSocketServer * server, GSocket * socket)
{
  GIOStream *base;
  GError *err = NULL;
  guint max_pending, timeout;
  Conn *conn;

  g_mutex_lock (&server->lock);
  max_pending = server->max_pending;
  timeout = server->request_timeout;
  g_mutex_unlock (&server->lock);

  conn = g_new0 (Conn, 1);
  conn->server = server;
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

  while (server->conns.length >= max_pending) {
    Conn *oldest = server->conns.head->data;

    GST_INFO_OBJECT (server->element, "closing the connection from %s: %u "
        "connections pending (max-pending-connections)", oldest->address,
        server->conns.length);
    conn_close (oldest);
  }

  conn->socket = g_object_ref (socket);
  conn->address = address_to_string (conn->remote);
  g_object_set_qdata (G_OBJECT (conn->remote), conn_quark (), conn);
  g_queue_push_tail_link (&server->conns, &conn->link);
  g_mutex_lock (&server->lock);
  server->n_pending++;
  g_mutex_unlock (&server->lock);
  GST_DEBUG_OBJECT (server->element, "connection from %s", conn->address);

  conn->timeout = g_timeout_source_new (timeout * 1000);
  g_source_set_callback (conn->timeout, conn_timed_out, conn, NULL);
  g_source_attach (conn->timeout, server->context);

  base = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
  if (server->tls == NULL) {
    conn->stream = base;
    conn_hand_to_soup (conn);
    return;
  }

  conn->stream = G_IO_STREAM (g_tls_server_connection_new (base, server->tls,
          &err));
  g_object_unref (base);
  if (conn->stream == NULL) {
    GST_WARNING_OBJECT (server->element, "no TLS for %s: %s", conn->address,
        err->message);
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

/* The connection @msg came on turned into a WebSocket client: returns its
 * socket (a new reference), and it is no longer pending */
static GSocket *
conn_take_socket (SoupServerMessage * msg)
{
  Conn *conn = conn_find (msg);
  GSocket *socket;

  if (conn == NULL)
    return NULL;
  socket = g_object_ref (conn->socket);
  conn_forget (conn);

  return socket;
}

/* ---- accepting ---- */

static gboolean on_incoming (GSocket * socket, GIOCondition condition,
    gpointer user_data);

static void
server_watch_listen_socket (GstWebSocketServer * server)
{
  server->accept_source = g_socket_create_source (server->listen_socket,
      G_IO_IN, NULL);
  g_source_set_callback (server->accept_source,
      (GSourceFunc) G_CALLBACK (on_incoming), server, NULL);
  g_source_attach (server->accept_source, server->context);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  GstWebSocketServer *server = user_data;

  g_source_unref (server->accept_retry);
  server->accept_retry = NULL;
  server_watch_listen_socket (server);

  return G_SOURCE_REMOVE;
}

/* Called from the accept source's callback, which then returns
 * G_SOURCE_REMOVE: tries again in ACCEPT_RETRY_MS. (The listening socket
 * stays readable while connections wait, so watching it would spin.) */
static void
server_pause_accepting (GstWebSocketServer * server)
{
  g_source_unref (server->accept_source);
  server->accept_source = NULL;
  server->accept_retry = g_timeout_source_new (ACCEPT_RETRY_MS);
  g_source_set_callback (server->accept_retry, on_accept_retry, server, NULL);
  g_source_attach (server->accept_retry, server->context);
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
server_stop_exhausted_check (GstWebSocketServer * server)
{
  if (server->exhausted_check) {
    g_source_destroy (server->exhausted_check);
    g_clear_pointer (&server->exhausted_check, g_source_unref);
  }
  server->exhausted_since = server->exhausted_last = 0;
  server->exhausted_failures = 0;
}

/* Timer while out of descriptors: the shortage is over once accept ()
 * worked after the last failure and EXHAUSTED_QUIET_MS passed without one
 * (a flood makes it fail and work by turns: one message each way) */
static gboolean
on_exhausted_check (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  gint64 now = g_get_monotonic_time ();
  gdouble seconds;

  if (server->accepted_last <= server->exhausted_last ||
      now - server->exhausted_last < EXHAUSTED_QUIET_MS * 1000)
    return G_SOURCE_CONTINUE;

  seconds = (server->exhausted_last - server->exhausted_since) /
      (gdouble) G_USEC_PER_SEC;
  GST_ELEMENT_INFO_WITH_DETAILS (server->element, RESOURCE, FAILED,
      ("The viewer server on %s port %d accepts connections again: it ran "
          "out of file descriptors for %.1f s (%" G_GUINT64_FORMAT " failed "
          "accepts).", server->listen_address, server->listen_port, seconds,
          server->exhausted_failures), (NULL),
      ("address", G_TYPE_STRING, server->listen_address,
          "port", G_TYPE_INT, server->listen_port,
          "unavailable-seconds", G_TYPE_DOUBLE, seconds,
          "failed-accepts", G_TYPE_UINT64, server->exhausted_failures, NULL));
  server_stop_exhausted_check (server);

  return G_SOURCE_REMOVE;
}

/* accept () failed for want of a file descriptor */
static void
server_out_of_descriptors (GstWebSocketServer * server, GError * err)
{
  guint n_clients;

  server->exhausted_last = g_get_monotonic_time ();
  server->exhausted_failures++;
  if (server->exhausted_since == 0) {
    server->exhausted_since = server->exhausted_last;
    g_mutex_lock (&server->lock);
    n_clients = server_count_clients (server);
    g_mutex_unlock (&server->lock);
    /* Posted by the server thread itself: nobody else sees it happen */
    GST_ELEMENT_WARNING_WITH_DETAILS (server->element, RESOURCE, FAILED,
        ("The viewer server on %s port %d cannot accept connections: this "
            "process has no file descriptor left (limit %" G_GUINT64_FORMAT
            "). It keeps trying and accepts again once descriptors are "
            "free. Raise the limit (ulimit -n, LimitNOFILE= in systemd) or "
            "lower max-pending-connections and max-clients.",
            server->listen_address, server->listen_port, open_files_limit ()),
        ("accept: %s; %u connections pending, %u WebSocket clients",
            err->message, server->conns.length, n_clients),
        ("address", G_TYPE_STRING, server->listen_address,
            "port", G_TYPE_INT, server->listen_port,
            "open-files-limit", G_TYPE_UINT64, open_files_limit (),
            "pending-connections", G_TYPE_UINT, server->conns.length,
            "clients", G_TYPE_UINT, n_clients, NULL));
    server->exhausted_check = g_timeout_source_new (EXHAUSTED_QUIET_MS / 2);
    g_source_set_callback (server->exhausted_check, on_exhausted_check,
        server, NULL);
    g_source_attach (server->exhausted_check, server->context);
  }

  /* Ours are the descriptors we can free: the oldest pending connection
   * goes, so the server gets on with new ones even while a flood lasts */
  if (server->conns.head != NULL) {
    Conn *oldest = server->conns.head->data;

    GST_INFO_OBJECT (server->element, "closing the connection from %s: out "
        "of file descriptors", oldest->address);
    conn_close (oldest);
  }
}

static gboolean
on_incoming (GSocket * listen_socket, GIOCondition condition,
    gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  guint i;

  for (i = 0; i < ACCEPT_BATCH && !server->stopping; i++) {
    GError *err = NULL;
    GSocket *socket = g_socket_accept (listen_socket, NULL, &err);

    if (socket == NULL) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        break;
      }
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)) {
        server_out_of_descriptors (server, err);
        g_error_free (err);
        server_pause_accepting (server);
        return G_SOURCE_REMOVE;
      }
      /* A client that reset before we accepted it, or the kernel short of
       * memory: the latter must not make us spin */
      GST_DEBUG_OBJECT (server->element, "accept: %s", err->message);
      g_error_free (err);
      if (++server->accept_errors >= 8) {
        server->accept_errors = 0;
        server_pause_accepting (server);
        return G_SOURCE_REMOVE;
      }
      continue;
    }
    server->accept_errors = 0;
    server->accepted_last = g_get_monotonic_time ();
    conn_accept (server, socket);
    g_object_unref (socket);
  }

  return G_SOURCE_CONTINUE;
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

/* No more connections: the listening socket and pending connections
 * closed */
static void
server_close_listener (GstWebSocketServer * server)
{
  if (server->accept_source) {
    g_source_destroy (server->accept_source);
    g_clear_pointer (&server->accept_source, g_source_unref);
  }
  if (server->accept_retry) {
    g_source_destroy (server->accept_retry);
    g_clear_pointer (&server->accept_retry, g_source_unref);
  }
  if (server->listen_socket)
    g_socket_close (server->listen_socket, NULL);
  server_stop_exhausted_check (server);
  while (server->conns.head != NULL)
    conn_close (server->conns.head->data);
}

static gboolean
shutdown_server (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  GList *l;

  server->stopping = TRUE;
  server_close_listener (server);
  /* Closes any plain HTTP connection; WebSocket connections belong to us
   * now */
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
  /* When the thread never ran */
  server_close_listener (server);
  for (l = clients; l != NULL; l = l->next)
    client_free (l->data);
  g_list_free (clients);
  g_clear_object (&server->soup);
  if (context)
    g_main_context_pop_thread_default (context);

  g_list_free_full (feeds, (GDestroyNotify) gst_websocket_feed_free);
  g_clear_pointer (&server->loop, g_main_loop_unref);
  g_clear_object (&server->listen_socket);
  g_clear_object (&server->tls);
  g_clear_pointer (&server->listen_address, g_free);
  if (context)
    g_main_context_unref (context);
}

/* The listening socket, with a backlog that absorbs bursts */
static GSocket *
server_listen_socket (GSocketAddress * address, GError ** error)
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

#define SETTINGS_ERROR(error, ...) \
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, \
      __VA_ARGS__)

/* The certificate to serve HTTPS with, from the tls-* settings (under the
 * lock); NULL with no error for plain HTTP */
static GTlsCertificate *
server_load_certificate (GstWebSocketServer * server, GError ** error)
{
  GTlsCertificate *cert;
  GError *err = NULL;

  if (server->tls_certificate != NULL) {
    cert = g_object_ref (server->tls_certificate);
  } else if (server->tls_certificate_file != NULL) {
    if (server->tls_key_file != NULL)
      cert = g_tls_certificate_new_from_files (server->tls_certificate_file,
          server->tls_key_file, &err);
    else
      cert = g_tls_certificate_new_from_file (server->tls_certificate_file,
          &err);
    if (cert == NULL) {
      SETTINGS_ERROR (error, "Could not load the TLS certificate from %s and "
          "its key from %s: %s. Give PEM files readable by this user "
          "(tls-certificate-file, and tls-key-file when the key is in a file "
          "of its own).", server->tls_certificate_file,
          server->tls_key_file ? server->tls_key_file :
          server->tls_certificate_file, err->message);
      g_clear_error (&err);
      return NULL;
    }
  } else if (server->tls_key_file != NULL) {
    SETTINGS_ERROR (error, "tls-key-file is set but tls-certificate-file is "
        "not: set both to serve HTTPS, or neither for plain HTTP.");
    return NULL;
  } else {
    return NULL;
  }

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    SETTINGS_ERROR (error, "HTTPS needs GLib's TLS backend, which is not "
        "installed: install glib-networking.");
    g_object_unref (cert);
    return NULL;
  }

  return cert;
}

/* The certificate's end of validity, in the log and, when it is past, as a
 * warning: browsers refuse it */
static void
server_check_certificate (GstWebSocketServer * server, GTlsCertificate * cert)
{
  GDateTime *not_after = g_tls_certificate_get_not_valid_after (cert);
  GDateTime *now;
  gchar *when;

  if (not_after == NULL)
    return;
  now = g_date_time_new_now_utc ();
  when = g_date_time_format_iso8601 (not_after);
  if (g_date_time_compare (not_after, now) < 0) {
    GST_ELEMENT_WARNING (server->element, RESOURCE, SETTINGS,
        ("The viewer's TLS certificate expired on %s: browsers will refuse "
            "the page. Renew it.", when), (NULL));
  } else {
    GST_INFO_OBJECT (server->element, "TLS certificate valid until %s", when);
  }
  g_free (when);
  g_date_time_unref (now);
  g_date_time_unref (not_after);
}

/* Reads what the settings name (certificate, key, token file) and checks
 * that they make sense; @cert is NULL for plain HTTP */
static gboolean
server_load_settings (GstWebSocketServer * server, GTlsCertificate ** cert,
    GError ** error)
{
  gchar *token;
  GError *err = NULL;
  gboolean ok = FALSE;

  g_mutex_lock (&server->lock);
  *cert = server_load_certificate (server, &err);
  if (err != NULL)
    goto done;

  if (server->auth_token_file != NULL) {
    GError *file_err = NULL;

    token = gst_websocket_auth_read_token_file (server->auth_token_file,
        &file_err);
    if (token == NULL) {
      SETTINGS_ERROR (&err, "Could not read the token from %s "
          "(auth-token-file): %s.", server->auth_token_file, file_err->message);
      g_clear_error (&file_err);
      goto done;
    }
    gst_websocket_auth_set_token (&server->auth, token);
    /* wiped by the auth module's rules: overwrite before freeing */
    memset (token, 0, strlen (token));
    g_free (token);
  }
  if ((server->auth.user != NULL) != (server->auth.password != NULL)) {
    SETTINGS_ERROR (&err, "HTTP basic authentication needs both auth-user "
        "and auth-password; only %s is set.",
        server->auth.user ? "auth-user" : "auth-password");
    goto done;
  }
  if (server->auth.user != NULL && strchr (server->auth.user, ':') != NULL) {
    SETTINGS_ERROR (&err, "auth-user may not contain ':' (HTTP basic "
        "authentication separates user and password with it).");
    goto done;
  }
  ok = TRUE;

done:
  g_mutex_unlock (&server->lock);
  if (!ok) {
    g_clear_object (cert);
    g_propagate_error (error, err);
  }
  return ok;
}

/* Listens on @address and resets the counters; the clients are served
 * once run () started the thread. Returns the port in @bound_port. Errors
 * in GST_RESOURCE_ERROR (SETTINGS) are about the certificate, key or
 * token file and say what to change; others are the socket's. */
gboolean
gst_websocket_server_listen (GstWebSocketServer * server,
    GSocketAddress * address, gint * bound_port, GError ** error)
{
  GInetAddress *inet;
  GTlsCertificate *cert;

  if (!server_load_settings (server, &cert, error))
    return FALSE;

  g_mutex_lock (&server->lock);
  server->frames_received = 0;
  server->frames_dropped = 0;
  server->clients_accepted = 0;
  server->clients_refused = 0;
  server->connections_closed = 0;
  server->requests_unauthorized = 0;
  server->tls_failures = 0;
  server->context = g_main_context_new ();
  g_mutex_unlock (&server->lock);
  server->next_client_id = 0;
  server->stopping = FALSE;
  server->accept_errors = 0;
  server->accepted_last = 0;
  server->tls = cert;
  server->loop = g_main_loop_new (server->context, FALSE);

  /* libsoup attaches its sources to the thread-default context */
  g_main_context_push_thread_default (server->context);
  server->soup = soup_server_new ("server-header", "GStreamer-websocketsink ",
      NULL);
  /* JPEG does not compress, and deflate would cost CPU per client */
  soup_server_remove_websocket_extension (server->soup,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_early_handler (server->soup, "/", on_request_early, server,
      NULL);
  soup_server_add_handler (server->soup, "/", gst_websocket_page_handle,
      server->element, NULL);
  soup_server_add_early_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      on_request_early, server, NULL);
  soup_server_add_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      on_websocket_request, server, NULL);
  soup_server_add_websocket_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      NULL, NULL, on_websocket_connected, server, NULL);
  g_main_context_pop_thread_default (server->context);

  server->listen_socket = server_listen_socket (address, error);
  if (server->listen_socket == NULL) {
    server_free_resources (server);
    return FALSE;
  }
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  server->listen_address = g_inet_address_to_string (inet);
  server->listen_port = socket_bound_port (server->listen_socket);
  server_watch_listen_socket (server);
  if (cert != NULL)
    server_check_certificate (server, cert);
  *bound_port = server->listen_port;

  return TRUE;
}

/* "https" when serving TLS, else "http" */
const gchar *
gst_websocket_server_get_scheme (GstWebSocketServer * server)
{
  return server->tls != NULL ? "https" : "http";
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
 * `frames-received`, `frames-dropped`, `clients-accepted`,
 * `clients-refused`, `connections-pending`, `connections-closed`,
 * `requests-unauthorized`, `tls-handshake-failures`, `client-stats` */
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
      "clients-refused", G_TYPE_UINT64, server->clients_refused,
      "connections-pending", G_TYPE_UINT, server->n_pending,
      "connections-closed", G_TYPE_UINT64, server->connections_closed,
      "requests-unauthorized", G_TYPE_UINT64, server->requests_unauthorized,
      "tls-handshake-failures", G_TYPE_UINT64, server->tls_failures, NULL);
  g_mutex_unlock (&server->lock);

  gst_structure_take_value (stats, "client-stats", &clients);
}
