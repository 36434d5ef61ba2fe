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

/**
 * SECTION:element-websocketsink
 * @title: websocketsink
 *
 * websocketsink runs a small HTTP server that shows a JPEG stream live in a
 * web browser. It serves a viewer page at `/` and sends every frame, with its
 * timestamps and detections, to each WebSocket client connected at `/ws`.
 * The page and its script are compiled into the plugin: nothing else needs
 * to be installed or served.
 *
 * The server runs in its own thread with its own #GMainContext. render()
 * only hands the newest frame to that thread and returns, so no client can
 * hold the pipeline back. Each client is sent a new frame only once the
 * previous one has left the server's user-space buffers; a client that reads
 * slower than the stream arrives gets the newest frame when it is ready again
 * and skips the ones in between (counted per client in
 * #GstWebSocketSink:stats). The memory held for a client is at most one frame
 * in libsoup plus the kernel's socket buffer, however long the client stalls.
 * On Linux the socket's unsent data is also limited with `TCP_NOTSENT_LOWAT`
 * (128 KiB), so a slow client sees fresh frames rather than a growing backlog.
 *
 * Plain HTTP answers (the page, refusals) close their connection: libsoup 3.2
 * never frees a keep-alive connection that the client closes while idle, and
 * browsers do that all the time.
 *
 * A client that connects while a frame is already known receives that frame
 * at once, so a paused pipeline still shows its picture.
 *
 * ## Properties
 *
 * * #GstWebSocketSink:address (string, default `127.0.0.1`): the address to
 *   listen on: an IP address, `0.0.0.0` or `::` for every interface, or a
 *   host name (resolved in the READY to PAUSED state change; the first address
 *   is used).
 * * #GstWebSocketSink:port (int, default 8080): the TCP port, 0 to let the
 *   system pick a free one.
 * * #GstWebSocketSink:current-port (int, read-only): the port actually bound,
 *   notified once the server listens, 0 while it does not.
 * * #GstWebSocketSink:allowed-origins (string, default empty): a
 *   comma-separated list of `Origin` values (such as
 *   `http://127.0.0.1:8080`) allowed to open the WebSocket. Empty allows any
 *   origin. When set, an upgrade whose `Origin` is missing or not listed is
 *   refused with `403 Forbidden`; list the viewer's own origin to use the
 *   built-in page.
 * * #GstWebSocketSink:max-clients (uint, default 16): the most WebSocket
 *   clients at once, 0 for no limit. Further upgrades are refused with
 *   `503 Service Unavailable`.
 * * #GstWebSocketSink:stats (#GstStructure, read-only): the #GstBaseSink
 *   statistics (`average-rate`, `dropped`, `rendered`) extended with
 *   `clients` (#guint, clients connected now), `frames-received` (#guint64,
 *   frames rendered since start), `clients-accepted` (#guint64),
 *   `clients-refused` (#guint64, refused for their origin or for
 *   max-clients) and `client-stats` (#GstValueArray of #GstStructure named
 *   `client`, one per connected client, with `id` (#guint64), `address`
 *   (#gchararray, "ip:port" of the peer), `frames-sent` (#guint64) and
 *   `frames-skipped` (#guint64, frames the client never got because it was
 *   still busy or joined late)). The last values are kept after the element
 *   stops.
 *
 * `address` and `port` can only be changed in the NULL and READY states;
 * `allowed-origins` and `max-clients` apply to the next connection attempt.
 *
 * ## Wire format
 *
 * Every frame is one binary WebSocket message:
 *
 * |[
 * +-----------------+---------------------------+------------------+
 * | N: uint32, big  | N bytes: UTF-8 JSON header | the JPEG image   |
 * | endian          |                           | (rest of message) |
 * +-----------------+---------------------------+------------------+
 * ]|
 *
 * The JSON header is an object:
 *
 * |[
 * {"seq": 41, "pts": 1366666666, "capture_time_ns": 1700000000123456789,
 *  "width": 320, "height": 240,
 *  "detections": [{"type": "motion", "id": 1, "x": 12, "y": 40,
 *                  "w": 64, "h": 48, "score": 0.82}]}
 * ]|
 *
 * * `seq`: the buffer offset (%GST_BUFFER_OFFSET) when upstream sets one,
 *   otherwise the number of frames this sink received before this one.
 *   (Encoders such as jpegenc do not carry the offset over, so after an
 *   encoder it is the sink's own count.) A gap means frames were skipped.
 * * `pts`: the buffer PTS in nanoseconds, or null.
 * * `capture_time_ns`: from a #GstReferenceTimestampMeta with reference
 *   `timestamp/x-unix` (nanoseconds since the Unix epoch), or null.
 * * `width`, `height`: the frame size from the negotiated caps, or null.
 * * `detections`: one object per #GstVideoRegionOfInterestMeta: `type` (the
 *   ROI type), `id`, `x`, `y`, `w`, `h` in frame pixels, and `score`: the
 *   `score` field of the ROI parameter structure named like the type (for
 *   example `motion`), else of the first parameter that has one, else null.
 *
 * Clients are not expected to send anything. Messages up to 1 KiB are read
 * and ignored; a larger message or a malformed frame gets that client
 * disconnected without disturbing the others. A request to `/ws` that is not
 * a WebSocket upgrade gets `400 Bad Request`. When the element stops, every
 * connection is closed with code 1001 (going away); one that does not answer
 * within a second is shut down.
 *
 * #GstBaseSink:sync is %FALSE by default: each frame is sent as soon as it
 * arrives. A viewer usually follows redisstreamsrc, whose buffers carry the
 * producer's timestamps, which mean nothing to this pipeline's clock, and
 * pacing by them would only add latency. Set `sync=true` to pace a local,
 * non-live source by its timestamps.
 *
 * ## Errors
 *
 * If the server cannot listen (the port is in use, or the address is not one
 * of this machine's), the element posts a %GST_RESOURCE_ERROR_OPEN_WRITE
 * error naming the address and port, with details `address` (string) and
 * `port` (int), and the state change fails. It posts no other messages.
 *
 * ## Example launch line
 *
 * Show a test pattern in the browser at http://127.0.0.1:8080/:
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ! jpegenc ! websocketsink
 * ]|
 *
 * Show the processed frames from Redis to the whole local network, accepting
 * only the viewer page served by this host:
 * |[
 * gst-launch-1.0 redisstreamsrc stream=processed-frames ! jpegenc ! websocketsink address=0.0.0.0 port=8080 allowed-origins=http://viewer-host:8080
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <libsoup/soup.h>

#include "gstwebsocketframe.h"
#include "gstwebsocketsink.h"
#include "gstwebsocketsinkresources.h"

GST_DEBUG_CATEGORY_STATIC (gst_websocket_sink_debug);
#define GST_CAT_DEFAULT gst_websocket_sink_debug

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_ALLOWED_ORIGINS NULL
#define DEFAULT_MAX_CLIENTS 16

/* Where the frames are; the viewer page uses the same path. */
#define WEBSOCKET_PATH "/ws"
#define RESOURCE_PREFIX "/org/gstreamer/websocketsink/"

/* Clients have nothing to say; anything bigger is an abuse. */
#define MAX_INCOMING_PAYLOAD_SIZE 1024
/* Unsent bytes the kernel may hold for a client before the socket stops
 * being writable: small enough that a slow client does not build up seconds
 * of old frames, big enough for a fast one not to wait on wake-ups. */
#define SEND_LOW_WATERMARK (128 * 1024)
/* How long stop() waits for clients to answer the close handshake, then for
 * the connections to finish closing after a shutdown of their sockets. */
#define CLOSE_GRACE_MS 1000

/* Our sources run below libsoup's (G_PRIORITY_DEFAULT). A client's socket
 * being writable then means libsoup's own output queue for it is empty:
 * while it is not, libsoup's output source is ready on the same socket and
 * wins every iteration. */
#define SINK_SOURCE_PRIORITY G_PRIORITY_DEFAULT_IDLE

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_ALLOWED_ORIGINS,
  PROP_MAX_CLIENTS,
  PROP_STATS,
};

static GParamSpec *current_port_pspec;

typedef struct
{
  GstWebSocketSink *sink;
  SoupWebsocketConnection *conn;
  GSocket *socket;
  /* Non-NULL while the last frame sent is still on its way out */
  GSource *drain_source;
  gchar *address;
  guint64 id;
  /* Refused after the upgrade (max-clients race): being closed, not counted */
  gboolean refused;

  /* Under the sink's lock, written by the server thread only. Frames are
   * numbered from 1 in the order render() saw them; every frame up to
   * @accounted was either sent to this client or counted as skipped. */
  guint64 accounted;
  guint64 frames_sent;
  guint64 frames_skipped;
} GstWebSocketSinkClient;

struct _GstWebSocketSink
{
  GstBaseSink parent;

  /* Properties and caps, under the object lock */
  gchar *address;
  gint port;
  gint current_port;
  gchar *allowed_origins;
  guint max_clients;
  gint width;
  gint height;
  GstStructure *stats_snapshot;

  /* The hand-off from render() to the server thread, the client list and the
   * counters, under @lock. Only the server thread changes the list. */
  GMutex lock;
  GBytes *pending;
  guint64 pending_index;
  GSource *dispatch_source;
  guint64 frames_received;
  GList *clients;
  guint64 clients_accepted;
  guint64 clients_refused;

  /* Created in start (), freed in stop () */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *server;

  /* Server thread only */
  GBytes *latest;
  guint64 latest_index;
  guint64 next_client_id;
  gboolean stopping;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("image/jpeg"));

#define gst_websocket_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWebSocketSink, gst_websocket_sink,
    GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_websocket_sink_debug, "websocketsink", 0,
        "WebSocket sink"));
GST_ELEMENT_REGISTER_DEFINE (websocketsink, "websocketsink", GST_RANK_NONE,
    GST_TYPE_WEBSOCKET_SINK);

static void gst_websocket_sink_finalize (GObject * object);
static void gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_websocket_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_websocket_sink_start (GstBaseSink * bsink);
static gboolean gst_websocket_sink_stop (GstBaseSink * bsink);
static gboolean gst_websocket_sink_set_caps (GstBaseSink * bsink,
    GstCaps * caps);
static GstFlowReturn gst_websocket_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);

static void client_offer (GstWebSocketSink * self,
    GstWebSocketSinkClient * client);

static void
gst_websocket_sink_class_init (GstWebSocketSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_websocket_sink_finalize;
  gobject_class->set_property = gst_websocket_sink_set_property;
  gobject_class->get_property = gst_websocket_sink_get_property;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Address to listen on: an IP address, 0.0.0.0 or :: for every "
          "interface, or a host name", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "TCP port to listen on, 0 to pick a free one (see current-port)",
          0, G_MAXUINT16, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  current_port_pspec = g_param_spec_int ("current-port", "Current Port",
      "The port the server listens on, notified once bound, 0 while not "
      "listening", 0, G_MAXUINT16, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      current_port_pspec);

  g_object_class_install_property (gobject_class, PROP_ALLOWED_ORIGINS,
      g_param_spec_string ("allowed-origins", "Allowed Origins",
          "Comma-separated list of Origin values allowed to open the "
          "WebSocket, such as http://127.0.0.1:8080; empty allows any origin",
          DEFAULT_ALLOWED_ORIGINS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Maximum Clients",
          "Maximum number of WebSocket clients at once, 0 for no limit",
          0, G_MAXUINT, DEFAULT_MAX_CLIENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /* GstBaseSink's own "stats", extended with the clients (see the docs) */
  g_object_class_override_property (gobject_class, PROP_STATS, "stats");

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "WebSocket sink", "Sink/Network",
      "Serves a JPEG stream and its metadata to web browsers over WebSocket, "
      "with a built-in viewer page", "gst-redis-streams contributors");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_websocket_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_websocket_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_websocket_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_websocket_sink_render);

  /* Our own prefix, so registering globally cannot clash with anyone */
  gst_websocket_sink_register_resource ();
}

static void
gst_websocket_sink_init (GstWebSocketSink * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->allowed_origins = g_strdup (DEFAULT_ALLOWED_ORIGINS);
  self->max_clients = DEFAULT_MAX_CLIENTS;
  g_mutex_init (&self->lock);

  /* Show the newest frame at once: see the element documentation. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_websocket_sink_finalize (GObject * object)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  g_free (self->address);
  g_free (self->allowed_origins);
  if (self->stats_snapshot)
    gst_structure_free (self->stats_snapshot);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_websocket_sink_make_stats (GstWebSocketSink * self)
{
  GstStructure *s;
  GValue clients = G_VALUE_INIT;
  guint n_clients = 0;
  GList *l;

  s = gst_base_sink_get_stats (GST_BASE_SINK (self));
  gst_structure_set_name (s, "GstWebSocketSinkStats");
  g_value_init (&clients, GST_TYPE_ARRAY);

  g_mutex_lock (&self->lock);
  for (l = self->clients; l != NULL; l = l->next) {
    GstWebSocketSinkClient *client = l->data;
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
  gst_structure_set (s,
      "clients", G_TYPE_UINT, n_clients,
      "frames-received", G_TYPE_UINT64, self->frames_received,
      "clients-accepted", G_TYPE_UINT64, self->clients_accepted,
      "clients-refused", G_TYPE_UINT64, self->clients_refused, NULL);
  g_mutex_unlock (&self->lock);

  gst_structure_take_value (s, "client-stats", &clients);

  return s;
}

static void
gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      if (self->address == NULL || *self->address == '\0') {
        g_free (self->address);
        self->address = g_strdup (DEFAULT_ADDRESS);
      }
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_ALLOWED_ORIGINS:
      g_free (self->allowed_origins);
      self->allowed_origins = g_value_dup_string (value);
      break;
    case PROP_MAX_CLIENTS:
      self->max_clients = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_websocket_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  switch (prop_id) {
    case PROP_ADDRESS:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->address);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PORT:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->port);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CURRENT_PORT:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->current_port);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ALLOWED_ORIGINS:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->allowed_origins);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_CLIENTS:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_clients);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:{
      GstStructure *s = NULL;

      GST_OBJECT_LOCK (self);
      if (self->stats_snapshot)
        s = gst_structure_copy (self->stats_snapshot);
      GST_OBJECT_UNLOCK (self);
      /* Not under the object lock: basesink takes it for its part */
      if (s == NULL)
        s = gst_websocket_sink_make_stats (self);
      g_value_take_boxed (value, s);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* ---- clients (server thread) ---- */

static void
client_free (GstWebSocketSinkClient * client)
{
  if (client->drain_source) {
    g_source_destroy (client->drain_source);
    g_source_unref (client->drain_source);
  }
  g_signal_handlers_disconnect_by_data (client->conn, client);
  g_object_unref (client->conn);
  g_clear_object (&client->socket);
  g_free (client->address);
  g_free (client);
}

static gboolean
on_client_drained (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  GstWebSocketSinkClient *client = user_data;

  g_source_unref (client->drain_source);
  client->drain_source = NULL;
  client_offer (client->sink, client);

  return G_SOURCE_REMOVE;
}

/* Sends the newest frame to @client unless it is still busy with the last
 * one, and keeps its skip count. */
static void
client_offer (GstWebSocketSink * self, GstWebSocketSinkClient * client)
{
  guint64 skipped = 0;

  if (self->latest == NULL || client->refused ||
      client->accounted >= self->latest_index)
    return;

  if (client->drain_source != NULL ||
      soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN) {
    /* Busy: whatever comes before the newest frame will never be sent */
    if (self->latest_index - 1 > client->accounted) {
      g_mutex_lock (&self->lock);
      client->frames_skipped += self->latest_index - 1 - client->accounted;
      client->accounted = self->latest_index - 1;
      g_mutex_unlock (&self->lock);
    }
    return;
  }

  g_mutex_lock (&self->lock);
  skipped = self->latest_index - 1 - client->accounted;
  client->frames_skipped += skipped;
  client->frames_sent++;
  client->accounted = self->latest_index;
  g_mutex_unlock (&self->lock);

  GST_LOG_OBJECT (self, "client %s: sending frame %" G_GUINT64_FORMAT
      " (%" G_GUINT64_FORMAT " skipped)", client->address, self->latest_index,
      skipped);
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_BINARY, self->latest);

  if (client->socket != NULL) {
    client->drain_source = g_socket_create_source (client->socket, G_IO_OUT,
        NULL);
    g_source_set_priority (client->drain_source, SINK_SOURCE_PRIORITY);
    g_source_set_callback (client->drain_source,
        (GSourceFunc) G_CALLBACK (on_client_drained), client, NULL);
    g_source_attach (client->drain_source, self->context);
  }
}

static void
on_client_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  GstWebSocketSinkClient *client = user_data;
  GstWebSocketSink *self = client->sink;
  gboolean last;

  GST_INFO_OBJECT (self, "client %s disconnected (close code %u)",
      client->address, soup_websocket_connection_get_close_code (conn));

  g_mutex_lock (&self->lock);
  self->clients = g_list_remove (self->clients, client);
  last = (self->clients == NULL);
  g_mutex_unlock (&self->lock);

  client_free (client);

  if (self->stopping && last)
    g_main_loop_quit (self->loop);
}

static void
on_client_message (SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  GstWebSocketSinkClient *client = user_data;

  GST_LOG_OBJECT (client->sink, "client %s: ignoring a %" G_GSIZE_FORMAT
      "-byte message", client->address, g_bytes_get_size (message));
}

static void
on_client_error (SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  GstWebSocketSinkClient *client = user_data;

  /* libsoup closes the connection itself after protocol errors */
  GST_INFO_OBJECT (client->sink, "client %s: %s", client->address,
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
client_tune_socket (GstWebSocketSink * self, GstWebSocketSinkClient * client)
{
  GError *err = NULL;

  if (client->socket == NULL)
    return;

  /* A frame's last segment should not wait for an ACK */
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NODELAY, 1, &err)) {
    GST_DEBUG_OBJECT (self, "TCP_NODELAY: %s", err->message);
    g_clear_error (&err);
  }
#ifdef TCP_NOTSENT_LOWAT
  if (!g_socket_set_option (client->socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
          SEND_LOW_WATERMARK, &err)) {
    GST_DEBUG_OBJECT (self, "TCP_NOTSENT_LOWAT: %s", err->message);
    g_clear_error (&err);
  }
#endif
}

static void
on_websocket_connected (SoupServer * server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * conn, gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  GstWebSocketSinkClient *client;
  GSocket *socket;
  guint max_clients, n_clients = 0;
  GList *l;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  GST_OBJECT_UNLOCK (self);

  client = g_new0 (GstWebSocketSinkClient, 1);
  client->sink = self;
  client->conn = g_object_ref (conn);
  socket = soup_server_message_get_socket (msg);
  client->socket = socket ? g_object_ref (socket) : NULL;
  client->address =
      address_to_string (soup_server_message_get_remote_address (msg));
  client->id = ++self->next_client_id;

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      MAX_INCOMING_PAYLOAD_SIZE);
  client_tune_socket (self, client);

  g_signal_connect (conn, "closed", G_CALLBACK (on_client_closed), client);
  g_signal_connect (conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_client_error), client);

  g_mutex_lock (&self->lock);
  for (l = self->clients; l != NULL; l = l->next) {
    if (!((GstWebSocketSinkClient *) l->data)->refused)
      n_clients++;
  }
  /* Two upgrades can pass the check in the request handler before either
   * gets here; the list is the truth. */
  if (self->stopping || (max_clients > 0 && n_clients >= max_clients)) {
    client->refused = TRUE;
    self->clients_refused++;
  } else {
    self->clients_accepted++;
    /* A newcomer starts with the newest frame, nothing counts as skipped */
    client->accounted = self->latest ? self->latest_index - 1 :
        self->latest_index;
  }
  self->clients = g_list_append (self->clients, client);
  g_mutex_unlock (&self->lock);

  if (client->refused) {
    GST_INFO_OBJECT (self, "client %s refused: too many clients",
        client->address);
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Too many clients");
    return;
  }

  GST_INFO_OBJECT (self, "client %s connected (origin %s)", client->address,
      GST_STR_NULL (soup_websocket_connection_get_origin (conn)));
  client_offer (self, client);
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

/* Runs before libsoup answers an upgrade on WEBSOCKET_PATH: a status set
 * here replaces the handshake. */
static void
on_websocket_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  const gchar *origin;
  gchar *allowed_origins;
  guint max_clients, n_clients = 0;
  gchar *peer;
  GError *err = NULL;
  GList *l;

  origin = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");

  GST_OBJECT_LOCK (self);
  allowed_origins = g_strdup (self->allowed_origins);
  max_clients = self->max_clients;
  GST_OBJECT_UNLOCK (self);

  peer = address_to_string (soup_server_message_get_remote_address (msg));

  /* libsoup would answer a plain request itself, on a connection it then
   * keeps alive: see on_page_request () */
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err)) {
    GST_DEBUG_OBJECT (self, "not a WebSocket upgrade from %s: %s", peer,
        err->message);
    g_clear_error (&err);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST,
        "WebSocket upgrade expected");
    goto done;
  }

  if (!origin_is_allowed (allowed_origins, origin)) {
    /* See on_page_request () for why refusals close the connection */
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    GST_INFO_OBJECT (self, "refusing %s: origin %s is not allowed", peer,
        GST_STR_NULL (origin));
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN,
        "Origin not allowed");
    g_mutex_lock (&self->lock);
    self->clients_refused++;
    g_mutex_unlock (&self->lock);
    goto done;
  }

  g_mutex_lock (&self->lock);
  for (l = self->clients; l != NULL; l = l->next) {
    if (!((GstWebSocketSinkClient *) l->data)->refused)
      n_clients++;
  }
  if (self->stopping || (max_clients > 0 && n_clients >= max_clients)) {
    self->clients_refused++;
    g_mutex_unlock (&self->lock);
    GST_INFO_OBJECT (self, "refusing %s: %u clients already", peer, n_clients);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "Too many clients");
    goto done;
  }
  g_mutex_unlock (&self->lock);

done:
  g_free (allowed_origins);
  g_free (peer);
}

/* Serves the viewer page and its script from the plugin's GResource */
static void
on_page_request (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *file, *content_type;
  SoupMessageHeaders *headers;
  GBytes *bytes;
  gchar *resource_path;
  GError *err = NULL;

  /* libsoup 3.2 never frees an idle keep-alive connection that the client
   * closes (fixed in 3.3): its socket and fd stay open for good. Browsers
   * close them all the time, so answer and close ourselves. A page and its
   * script are cheap to fetch on fresh connections. */
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");

  /* libsoup interns method names */
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, HEAD");
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }

  if (g_str_equal (path, "/") || g_str_equal (path, "/index.html")) {
    file = "index.html";
    content_type = "text/html; charset=utf-8";
  } else if (g_str_equal (path, "/viewer.js")) {
    file = "viewer.js";
    content_type = "text/javascript; charset=utf-8";
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }

  resource_path = g_strconcat (RESOURCE_PREFIX, file, NULL);
  bytes = g_resource_lookup_data (gst_websocket_sink_get_resource (),
      resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, &err);
  g_free (resource_path);
  if (bytes == NULL) {
    GST_WARNING_OBJECT (self, "viewer file %s missing: %s", file, err->message);
    g_clear_error (&err);
    soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        NULL);
    return;
  }

  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Content-Type", content_type);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      bytes);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  g_bytes_unref (bytes);
}

/* Hands the frame render() left to every client */
static gboolean
dispatch_frame (gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  GBytes *frame;
  guint64 index;
  GList *l;

  g_mutex_lock (&self->lock);
  frame = self->pending;
  index = self->pending_index;
  self->pending = NULL;
  g_source_unref (self->dispatch_source);
  self->dispatch_source = NULL;
  g_mutex_unlock (&self->lock);

  if (frame == NULL || self->stopping) {
    if (frame)
      g_bytes_unref (frame);
    return G_SOURCE_REMOVE;
  }

  if (self->latest)
    g_bytes_unref (self->latest);
  self->latest = frame;
  self->latest_index = index;

  /* Only this thread removes clients, and only from "closed", which libsoup
   * never emits from inside a send */
  for (l = self->clients; l != NULL; l = l->next)
    client_offer (self, l->data);

  return G_SOURCE_REMOVE;
}

static gboolean
quit_server_loop (gpointer user_data)
{
  GstWebSocketSink *self = user_data;

  GST_WARNING_OBJECT (self, "%u connections did not close in time",
      g_list_length (self->clients));
  g_main_loop_quit (self->loop);

  return G_SOURCE_REMOVE;
}

/* Clients that did not answer the close handshake (a stalled one cannot
 * even receive it): shutting the socket down makes libsoup's pending I/O
 * fail, and it closes the connection */
static gboolean
force_close_clients (gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  GSource *timeout;
  GList *l;

  for (l = self->clients; l != NULL; l = l->next) {
    GstWebSocketSinkClient *client = l->data;

    GST_DEBUG_OBJECT (self, "client %s: no close answer, shutting it down",
        client->address);
    if (client->socket)
      g_socket_shutdown (client->socket, TRUE, TRUE, NULL);
  }

  timeout = g_timeout_source_new (CLOSE_GRACE_MS);
  g_source_set_callback (timeout, quit_server_loop, self, NULL);
  g_source_attach (timeout, self->context);
  g_source_unref (timeout);

  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_server (gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  GSource *timeout;
  GList *l;

  self->stopping = TRUE;
  /* Closes the listening socket and any plain HTTP connection; WebSocket
   * connections belong to us now */
  soup_server_disconnect (self->server);

  if (self->clients == NULL) {
    g_main_loop_quit (self->loop);
    return G_SOURCE_REMOVE;
  }

  for (l = self->clients; l != NULL; l = l->next) {
    GstWebSocketSinkClient *client = l->data;

    if (soup_websocket_connection_get_state (client->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "Pipeline stopped");
  }

  timeout = g_timeout_source_new (CLOSE_GRACE_MS);
  g_source_set_callback (timeout, force_close_clients, self, NULL);
  g_source_attach (timeout, self->context);
  g_source_unref (timeout);

  return G_SOURCE_REMOVE;
}

static gpointer
server_thread_func (gpointer user_data)
{
  GstWebSocketSink *self = user_data;

  /* libsoup attaches its sources to the thread-default context */
  g_main_context_push_thread_default (self->context);
  GST_DEBUG_OBJECT (self, "server thread running");
  g_main_loop_run (self->loop);
  GST_DEBUG_OBJECT (self, "server thread done");
  g_main_context_pop_thread_default (self->context);

  return NULL;
}

/* ---- GstBaseSink ---- */

static GInetAddress *
resolve_address (const gchar * address, GError ** error)
{
  GInetAddress *inet;
  GResolver *resolver;
  GList *list;

  inet = g_inet_address_new_from_string (address);
  if (inet != NULL)
    return inet;

  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, address, NULL, error);
  g_object_unref (resolver);
  if (list == NULL)
    return NULL;

  inet = g_object_ref (list->data);
  g_resolver_free_addresses (list);

  return inet;
}

static void
gst_websocket_sink_free_server (GstWebSocketSink * self)
{
  GList *clients, *l;

  g_mutex_lock (&self->lock);
  clients = self->clients;
  self->clients = NULL;
  if (self->dispatch_source) {
    g_source_destroy (self->dispatch_source);
    g_source_unref (self->dispatch_source);
    self->dispatch_source = NULL;
  }
  if (self->pending) {
    g_bytes_unref (self->pending);
    self->pending = NULL;
  }
  g_mutex_unlock (&self->lock);

  if (self->context)
    g_main_context_push_thread_default (self->context);
  for (l = clients; l != NULL; l = l->next)
    client_free (l->data);
  g_list_free (clients);
  g_clear_object (&self->server);
  if (self->context)
    g_main_context_pop_thread_default (self->context);

  if (self->latest) {
    g_bytes_unref (self->latest);
    self->latest = NULL;
  }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
}

static gboolean
gst_websocket_sink_start (GstBaseSink * bsink)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);
  GInetAddress *inet;
  GSocketAddress *sockaddr = NULL;
  GSList *listeners;
  gchar *address;
  gint port, bound_port = 0;
  gboolean listening;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  port = self->port;
  g_clear_pointer (&self->stats_snapshot, gst_structure_free);
  self->width = self->height = 0;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->frames_received = 0;
  self->clients_accepted = 0;
  self->clients_refused = 0;
  g_mutex_unlock (&self->lock);
  self->latest_index = 0;
  self->next_client_id = 0;
  self->stopping = FALSE;

  inet = resolve_address (address, &err);
  if (inet == NULL)
    goto resolve_failed;
  sockaddr = g_inet_socket_address_new (inet, port);
  g_object_unref (inet);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);

  /* The server listens, and later accepts, on the thread-default context of
   * the thread that calls listen */
  g_main_context_push_thread_default (self->context);
  self->server = soup_server_new ("server-header", "GStreamer-websocketsink ",
      NULL);
  /* JPEG does not compress, and deflate would cost CPU per client */
  soup_server_remove_websocket_extension (self->server,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (self->server, "/", on_page_request, self, NULL);
  soup_server_add_handler (self->server, WEBSOCKET_PATH, on_websocket_request,
      self, NULL);
  soup_server_add_websocket_handler (self->server, WEBSOCKET_PATH, NULL, NULL,
      on_websocket_connected, self, NULL);
  listening = soup_server_listen (self->server, sockaddr, 0, &err);
  g_main_context_pop_thread_default (self->context);
  if (!listening)
    goto listen_failed;

  listeners = soup_server_get_listeners (self->server);
  if (listeners != NULL) {
    GSocketAddress *local = g_socket_get_local_address (listeners->data, NULL);

    if (local != NULL) {
      bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
          (local));
      g_object_unref (local);
    }
  }
  g_slist_free (listeners);

  self->thread = g_thread_try_new ("websocketsink", server_thread_func, self,
      &err);
  if (self->thread == NULL)
    goto thread_failed;

  GST_INFO_OBJECT (self, "serving http://%s:%d/ (WebSocket at %s)", address,
      bound_port, WEBSOCKET_PATH);

  GST_OBJECT_LOCK (self);
  self->current_port = bound_port;
  GST_OBJECT_UNLOCK (self);
  g_object_notify_by_pspec (G_OBJECT (self), current_port_pspec);

  g_object_unref (sockaddr);
  g_free (address);

  return TRUE;

  /* ERRORS */
resolve_failed:
  {
    GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
        ("Could not listen on %s port %d: the address cannot be resolved. "
            "Set the address property to an IP address of this machine.",
            address, port), ("%s", err->message),
        ("address", G_TYPE_STRING, address, "port", G_TYPE_INT, port, NULL));
    g_clear_error (&err);
    g_free (address);
    return FALSE;
  }
listen_failed:
  {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
          ("Could not listen on %s port %d: the port is already in use. "
              "Stop the program using it, or choose another port (port=0 "
              "picks a free one).", address, port), ("%s", err->message),
          ("address", G_TYPE_STRING, address, "port", G_TYPE_INT, port, NULL));
    } else {
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, OPEN_WRITE,
          ("Could not listen on %s port %d. Check that the address is one of "
              "this machine's (0.0.0.0 listens on all of them) and that the "
              "port may be used.", address, port), ("%s", err->message),
          ("address", G_TYPE_STRING, address, "port", G_TYPE_INT, port, NULL));
    }
    g_clear_error (&err);
    g_object_unref (sockaddr);
    g_free (address);
    gst_websocket_sink_free_server (self);
    return FALSE;
  }
thread_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not start the server thread for %s port %d.", address, port),
        ("%s", err->message));
    g_clear_error (&err);
    g_object_unref (sockaddr);
    g_free (address);
    gst_websocket_sink_free_server (self);
    return FALSE;
  }
}

static gboolean
gst_websocket_sink_stop (GstBaseSink * bsink)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);
  GstStructure *snapshot;

  /* Before the clients go, so their counts stay readable */
  snapshot = gst_websocket_sink_make_stats (self);

  if (self->thread != NULL) {
    GSource *source = g_idle_source_new ();

    g_source_set_priority (source, G_PRIORITY_HIGH);
    g_source_set_callback (source, shutdown_server, self, NULL);
    g_source_attach (source, self->context);
    g_source_unref (source);

    g_thread_join (self->thread);
    self->thread = NULL;
  }

  gst_websocket_sink_free_server (self);

  GST_OBJECT_LOCK (self);
  self->current_port = 0;
  if (self->stats_snapshot)
    gst_structure_free (self->stats_snapshot);
  self->stats_snapshot = snapshot;
  GST_OBJECT_UNLOCK (self);
  g_object_notify_by_pspec (G_OBJECT (self), current_port_pspec);

  GST_DEBUG_OBJECT (self, "stopped");

  return TRUE;
}

static gboolean
gst_websocket_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint width = 0, height = 0;

  /* jpegenc puts the size in its caps; a JPEG source may not */
  gst_structure_get_int (s, "width", &width);
  gst_structure_get_int (s, "height", &height);

  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT, caps);

  GST_OBJECT_LOCK (self);
  self->width = width;
  self->height = height;
  GST_OBJECT_UNLOCK (self);

  return TRUE;
}

static GstFlowReturn
gst_websocket_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);
  GBytes *frame;
  guint64 index, seq;
  gint width, height;

  GST_OBJECT_LOCK (self);
  width = self->width;
  height = self->height;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  index = ++self->frames_received;
  g_mutex_unlock (&self->lock);

  seq = GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer) :
      index - 1;

  /* One copy here, so no buffer from upstream is held after render() */
  frame = gst_websocket_frame_build (buffer, seq, width, height);

  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " (seq %" G_GUINT64_FORMAT
      "): %" G_GSIZE_FORMAT " bytes", index, seq, g_bytes_get_size (frame));

  g_mutex_lock (&self->lock);
  /* An undelivered older frame is replaced: the server thread only ever
   * wants the newest one */
  if (self->pending)
    g_bytes_unref (self->pending);
  self->pending = frame;
  self->pending_index = index;
  if (self->dispatch_source == NULL && self->context != NULL) {
    self->dispatch_source = g_idle_source_new ();
    g_source_set_priority (self->dispatch_source, SINK_SOURCE_PRIORITY);
    g_source_set_callback (self->dispatch_source, dispatch_frame, self, NULL);
    g_source_attach (self->dispatch_source, self->context);
  }
  g_mutex_unlock (&self->lock);

  return GST_FLOW_OK;
}
