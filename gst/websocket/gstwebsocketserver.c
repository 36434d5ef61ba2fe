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
 * GMainContext (as gstmultisocketsink does), the hand-off of frames from
 * the streaming threads, the HTTP side (every request checked for a body
 * and for the secret, the TLS and authentication settings), starting and
 * stopping, and the statistics. The connections until they are answered
 * or upgraded, and the limits on them, are gstwebsocketlistener.c's; the
 * WebSocket clients and what each is sent gstwebsocketclients.c's; the
 * viewer page gstwebsocketpage.c's, the secret gstwebsocketauth.c's. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <libsoup/soup.h>

#include "gstwebsocketelements.h"
#include "gstwebsocketauth.h"
#include "gstwebsocketclients.h"
#include "gstwebsocketlistener.h"
#include "gstwebsocketserver.h"
#include "gstwebsocketpage.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

/* How long stop() waits for clients to answer the close handshake, then for
 * the connections to finish closing after a shutdown of their sockets. */
#define CLOSE_GRACE_MS 1000
/* Frames the streaming threads may leave for the server thread before the
 * oldest go: a server thread that far behind has stalled (clients of
 * encoded video then wait for the next key frame) */
#define MAX_PENDING 256

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

struct _GstWebSocketServer
{
  /* For messages in the log only */
  GstElement *element;
  GstWebSocketServerDrainedFunc drained;
  gpointer drained_data;

  /* The hand-off from the streaming threads, the settings and the
   * counters, here and in the listener and the clients, under @lock. */
  GMutex lock;
  GQueue pending;
  GSource *dispatch_source;
  /* the server thread is handing a frame to the clients (unlocked) */
  gboolean dispatch_busy;
  guint64 frames_received;
  guint64 frames_dropped;
  /* Non-NULL from listen () to stop (): frames are taken */
  GMainContext *context;

  /* Settings under @lock: the secrets, read at each request; TLS, read at
   * listen () */
  GstWebSocketAuth auth;
  gchar *auth_token_file;
  gchar *tls_certificate_file;
  gchar *tls_key_file;
  GTlsCertificate *tls_certificate;
  /* Counter under @lock */
  guint64 requests_unauthorized;

  /* The connections until they are answered or upgraded, and the limits
   * on them (gstwebsocketlistener.h) */
  GstWebSocketListener listener;
  /* The WebSocket clients and the camera feeds (gstwebsocketclients.h) */
  GstWebSocketClients clients;

  /* Created in listen (), freed in stop () */
  GMainLoop *loop;
  GThread *thread;
  SoupServer *soup;
  /* The certificate in use, NULL for plain HTTP */
  GTlsCertificate *tls;
};

static gboolean server_dispatch (gpointer user_data);

/* The WebSocket clients, for the listener's messages */
static guint
server_count_clients (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  guint n_clients;

  g_mutex_lock (&server->lock);
  n_clients = gst_websocket_clients_count (&server->clients);
  g_mutex_unlock (&server->lock);
  return n_clients;
}

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
  gst_websocket_listener_init (&server->listener, element, &server->lock,
      server_count_clients, server);
  gst_websocket_clients_init (&server->clients, element, &server->lock,
      &server->listener);
  gst_websocket_auth_init (&server->auth);

  return server;
}

void
gst_websocket_server_free (GstWebSocketServer * server)
{
  gst_websocket_server_stop (server);
  gst_websocket_clients_clear (&server->clients);
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
  g_free (server->clients.allowed_origins);
  server->clients.allowed_origins = g_strdup (allowed_origins);
  g_mutex_unlock (&server->lock);
}

gchar *
gst_websocket_server_dup_allowed_origins (GstWebSocketServer * server)
{
  gchar *allowed_origins;

  g_mutex_lock (&server->lock);
  allowed_origins = g_strdup (server->clients.allowed_origins);
  g_mutex_unlock (&server->lock);

  return allowed_origins;
}

void
gst_websocket_server_set_max_clients (GstWebSocketServer * server,
    guint max_clients)
{
  g_mutex_lock (&server->lock);
  server->clients.max_clients = max_clients;
  g_mutex_unlock (&server->lock);
}

guint
gst_websocket_server_get_max_clients (GstWebSocketServer * server)
{
  guint max_clients;

  g_mutex_lock (&server->lock);
  max_clients = server->clients.max_clients;
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
          "is closed", 1, 3600, GST_WEBSOCKET_LISTENER_DEFAULT_REQUEST_TIMEOUT,
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
          1, 65535, GST_WEBSOCKET_LISTENER_DEFAULT_MAX_PENDING,
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
      server->listener.request_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      server->listener.max_pending = g_value_get_uint (value);
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
      g_value_set_uint (value, server->listener.request_timeout);
      break;
    case PROP_MAX_PENDING_CONNECTIONS:
      g_value_set_uint (value, server->listener.max_pending);
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
    g_source_set_priority (server->dispatch_source,
        GST_WEBSOCKET_SOURCE_PRIORITY);
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

/* Hands the frames the streaming threads left to every client, in order */
static gboolean
server_dispatch (gpointer user_data)
{
  GstWebSocketServer *server = user_data;
  GstWebSocketFeedFrame *frame;

  g_mutex_lock (&server->lock);
  g_source_unref (server->dispatch_source);
  server->dispatch_source = NULL;
  while ((frame = g_queue_pop_head (&server->pending)) != NULL) {
    server->dispatch_busy = TRUE;
    g_mutex_unlock (&server->lock);

    gst_websocket_clients_take_frame (&server->clients, frame);
    gst_websocket_feed_frame_free (frame);

    g_mutex_lock (&server->lock);
    server->dispatch_busy = FALSE;
  }
  g_mutex_unlock (&server->lock);

  /* an EOS may be waiting for the frames to be taken */
  server->drained (server->drained_data);

  return G_SOURCE_REMOVE;
}

/* ---- the HTTP side (server thread) ---- */

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

  /* No request here has a use for a body. libsoup would read it all, into
   * memory, in a loop that a fast sender keeps busy for seconds: the
   * connection is closed instead. */
  if (soup_message_headers_get_encoding (request_headers) !=
      SOUP_ENCODING_NONE &&
      (soup_message_headers_get_encoding (request_headers) !=
          SOUP_ENCODING_CONTENT_LENGTH ||
          soup_message_headers_get_content_length (request_headers) > 0)) {
    gchar *why = g_strdup_printf ("%s %s with a body",
        soup_server_message_get_method (msg), path);

    soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        NULL);
    gst_websocket_listener_drop (&server->listener, msg, why);
    g_free (why);
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
    gchar *peer = gst_websocket_address_to_string
        (soup_server_message_get_remote_address (msg));

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
      g_list_length (server->clients.list));
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

  gst_websocket_clients_shut_down (&server->clients);
  server_after_grace (server, quit_server_loop);

  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_server (gpointer user_data)
{
  GstWebSocketServer *server = user_data;

  gst_websocket_clients_stop (&server->clients);
  gst_websocket_listener_close (&server->listener);
  /* Closes any plain HTTP connection; WebSocket connections belong to us
   * now */
  soup_server_disconnect (server->soup);

  if (!gst_websocket_clients_close_all (&server->clients)) {
    g_main_loop_quit (server->loop);
    return G_SOURCE_REMOVE;
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
  GMainContext *context;

  g_mutex_lock (&server->lock);
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
  gst_websocket_listener_close (&server->listener);
  gst_websocket_clients_free_all (&server->clients);
  g_clear_object (&server->soup);
  if (context)
    g_main_context_pop_thread_default (context);

  g_clear_pointer (&server->loop, g_main_loop_unref);
  gst_websocket_listener_clear (&server->listener);
  g_clear_object (&server->tls);
  if (context)
    g_main_context_unref (context);
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
  GTlsCertificate *cert;

  if (!server_load_settings (server, &cert, error))
    return FALSE;

  g_mutex_lock (&server->lock);
  server->frames_received = 0;
  server->frames_dropped = 0;
  server->requests_unauthorized = 0;
  gst_websocket_listener_reset_stats (&server->listener);
  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  gst_websocket_clients_start (&server->clients, server->context, server->loop);
  g_mutex_unlock (&server->lock);
  server->tls = cert;

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
      gst_websocket_clients_handle_upgrade, &server->clients, NULL);
  soup_server_add_websocket_handler (server->soup, GST_WEBSOCKET_SERVER_PATH,
      NULL, NULL, gst_websocket_clients_handle_connected, &server->clients,
      NULL);
  g_main_context_pop_thread_default (server->context);

  if (!gst_websocket_listener_open (&server->listener, address,
          server->context, server->soup, cert, error)) {
    server_free_resources (server);
    return FALSE;
  }
  if (cert != NULL)
    server_check_certificate (server, cert);
  *bound_port = server->listener.port;

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
  guint n_clients;

  g_mutex_lock (&server->lock);
  n_clients = gst_websocket_clients_get_stats (&server->clients, &clients);
  gst_structure_set (stats,
      "clients", G_TYPE_UINT, n_clients,
      "frames-received", G_TYPE_UINT64, server->frames_received,
      "frames-dropped", G_TYPE_UINT64, server->frames_dropped,
      "clients-accepted", G_TYPE_UINT64, server->clients.accepted,
      "clients-refused", G_TYPE_UINT64, server->clients.refused,
      "connections-pending", G_TYPE_UINT, server->listener.n_pending,
      "connections-closed", G_TYPE_UINT64,
      server->listener.connections_closed,
      "requests-unauthorized", G_TYPE_UINT64, server->requests_unauthorized,
      "tls-handshake-failures", G_TYPE_UINT64, server->listener.tls_failures,
      NULL);
  g_mutex_unlock (&server->lock);

  gst_structure_take_value (stats, "client-stats", &clients);
}
