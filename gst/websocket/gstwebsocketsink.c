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
 * websocketsink shows live video in a web browser: one camera or a wall of
 * them. It runs a small HTTP server that serves a viewer page at `/` and
 * sends every frame, with its camera name, timestamps and detections, to
 * each WebSocket client connected at `/ws`. The page and its script are
 * compiled into the plugin: nothing else needs to be installed or served.
 *
 * It takes JPEG images, or encoded video that the browser decodes itself
 * with WebCodecs: H.264 (`stream-format=byte-stream`, `alignment=au`), VP8
 * and VP9. Encoded video is passed through as it is, which costs the viewer
 * host no encoding and the network a fraction of JPEG's bandwidth.
 *
 * ## Cameras
 *
 * Every sink pad is one camera, named by its #GstWebSocketSinkPad:camera
 * property (the pad name when unset). The always pad `sink` is the first
 * camera; request more with `sink_%u` pads. All cameras go to every client
 * on the same WebSocket, and the page shows them as a grid; a click on a
 * camera shows it large. A camera that sends nothing for a few seconds is
 * shown as stalled.
 *
 * The #GstBaseSink behaviour (#GstBaseSink:sync, statistics in `rendered`)
 * applies to the `sink` pad only: frames on request pads are sent as they
 * arrive. Once a request pad exists the element changes state without
 * prerolling (#GstBaseSink:async is %FALSE), so a camera that sends nothing
 * never holds the pipeline in PAUSED. The element posts EOS when every
 * linked pad has received EOS.
 *
 * ## Clients that join late or read slowly
 *
 * A client that connects gets the newest frame of every camera at once. For
 * encoded video that is the last key frame (for H.264 with the SPS and PPS
 * it needs, added by the sink when the encoder sent them earlier), and the
 * sink asks upstream for a new key frame with a #GstForceKeyUnit event (at
 * most once per second per camera) so the picture goes live again quickly;
 * until then the client gets no delta frame it could not decode.
 *
 * No client can hold the pipeline back. A client that reads slower than the
 * stream arrives skips frames: for JPEG it gets the newest frame when it is
 * ready again; for encoded video it waits for the next key frame (asking for
 * one as above), since a delta frame whose reference it did not get cannot
 * be decoded. Skipped frames are counted per client in
 * #GstWebSocketSink:stats. The memory held for a client is bounded (about
 * 256 KiB of queued messages plus one frame, and the kernel's socket
 * buffer) however long it stalls.
 *
 * ## Wire format
 *
 * Every frame is one binary WebSocket message:
 *
 * |[
 * +-----------------+----------------------------+--------------------+
 * | N: uint32, big  | N bytes: UTF-8 JSON header | the encoded frame  |
 * | endian          |                            | (rest of message)  |
 * +-----------------+----------------------------+--------------------+
 * ]|
 *
 * The JSON header is an object:
 *
 * |[
 * {"seq": 41, "pts": 1366666666, "capture_time_ns": 1700000000123456789,
 *  "width": 320, "height": 240, "camera": "gate", "codec": "h264",
 *  "key": false,
 *  "detections": [{"type": "motion", "id": 1, "x": 12, "y": 40,
 *                  "w": 64, "h": 48, "score": 0.82}]}
 * ]|
 *
 * * `seq`: the buffer offset (%GST_BUFFER_OFFSET) when upstream sets one,
 *   otherwise the number of frames this camera's pad received before this
 *   one. (Encoders do not carry the offset over, so after an encoder it is
 *   the sink's own count.) A gap means frames were skipped.
 * * `pts`: the buffer PTS in nanoseconds, or null.
 * * `capture_time_ns`: from a #GstReferenceTimestampMeta with reference
 *   `timestamp/x-unix` (nanoseconds since the Unix epoch), or null.
 * * `width`, `height`: the frame size from the negotiated caps, or null.
 * * `camera`: the camera name.
 * * `codec`: `jpeg`, `h264` (an access unit in Annex B), `vp8` or `vp9`.
 * * `key`: true for a frame that decodes on its own (a buffer without
 *   %GST_BUFFER_FLAG_DELTA_UNIT; every JPEG).
 * * `detections`: one object per #GstVideoRegionOfInterestMeta: `type` (the
 *   ROI type), `id`, `x`, `y`, `w`, `h` in frame pixels, and `score`: the
 *   `score` field of the ROI parameter structure named like the type (for
 *   example `motion`), else of the first parameter that has one, else null.
 *
 * Clients are not expected to send anything: small messages are ignored, a
 * large one or a malformed frame gets that client disconnected without
 * disturbing the others. A request to `/ws` that is not a WebSocket upgrade
 * gets `400 Bad Request`. When the element stops, every connection is closed
 * with code 1001 (going away).
 *
 * The page decodes encoded video with the browser's WebCodecs, which
 * browsers offer only to secure pages: `http://127.0.0.1` and
 * `http://localhost` qualify, a page from another host needs HTTPS (a
 * reverse proxy) or the browser told to trust that origin. The page says so
 * when WebCodecs or a codec is missing; JPEG works everywhere.
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
 * Two cameras on one page, H.264 passed through to the browser:
 * |[
 * gst-launch-1.0 websocketsink name=wall sink::camera=gate sink_0::camera=yard \
 *   videotestsrc is-live=true ! openh264enc ! h264parse ! wall.sink \
 *   videotestsrc is-live=true pattern=ball ! jpegenc ! wall.sink_0
 * ]|
 *
 * Show the processed frames from Redis to the whole local network, accepting
 * only the viewer page served by this host:
 * |[
 * gst-launch-1.0 redisstreamsrc stream=processed-frames ! jpegenc ! websocketsink address=0.0.0.0 port=8080 allowed-origins=http://viewer-host:8080
 * ]|
 */

/* The element: properties, pads, EOS across pads, start and stop. The
 * pads are gstwebsocketsinkpad.c, the camera feeds gstwebsocketfeed.c, the
 * server and its clients gstwebsocketserver.c. Threading: the streaming
 * threads turn each buffer into a message and hand it to the server thread
 * through a queue under the server's lock; EOS waits until the server
 * thread took every frame. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>

#include "gstwebsocketfeed.h"
#include "gstwebsocketserver.h"
#include "gstwebsocketsink.h"
#include "gstwebsocketsinkpad.h"
#include "gstwebsocketsinkresources.h"

GST_DEBUG_CATEGORY (gst_websocket_sink_debug);
#define GST_CAT_DEFAULT gst_websocket_sink_debug

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_ALLOWED_ORIGINS NULL
#define DEFAULT_MAX_CLIENTS 16

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

struct _GstWebSocketSink
{
  GstBaseSink parent;

  /* Properties, under the object lock */
  gchar *address;
  gint port;
  gint current_port;
  GstStructure *stats_snapshot;
  guint next_pad_serial;
  guint next_camera_id;

  /* Made in init, freed in finalize; holds allowed-origins and
   * max-clients */
  GstWebSocketServer *server;

  /* EOS across pads (and the pads' eos flags), under @lock */
  GMutex lock;
  GCond eos_cond;
  gboolean eos_flushing;
  gboolean eos_posted;
};

#define SINK_CAPS \
  "image/jpeg; " \
  "video/x-h264, stream-format = (string) byte-stream, " \
  "alignment = (string) au; " \
  "video/x-vp8; video/x-vp9"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (SINK_CAPS));

static GstStaticPadTemplate request_template =
GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS (SINK_CAPS));

static void gst_websocket_sink_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_websocket_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWebSocketSink, gst_websocket_sink,
    GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_websocket_sink_debug, "websocketsink", 0,
        "WebSocket sink");
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_websocket_sink_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (websocketsink, "websocketsink", GST_RANK_NONE,
    GST_TYPE_WEBSOCKET_SINK);

static void gst_websocket_sink_finalize (GObject * object);
static void gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_websocket_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstPad *gst_websocket_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_websocket_sink_release_pad (GstElement * element, GstPad * pad);
static gboolean gst_websocket_sink_start (GstBaseSink * bsink);
static gboolean gst_websocket_sink_stop (GstBaseSink * bsink);
static gboolean gst_websocket_sink_set_caps (GstBaseSink * bsink,
    GstCaps * caps);
static gboolean gst_websocket_sink_event (GstBaseSink * bsink,
    GstEvent * event);
static gboolean gst_websocket_sink_unlock (GstBaseSink * bsink);
static gboolean gst_websocket_sink_unlock_stop (GstBaseSink * bsink);
static GstFlowReturn gst_websocket_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static void gst_websocket_sink_frames_taken (gpointer user_data);

/* address, port, current-port */
static void
gst_websocket_sink_install_listen_properties (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:address:
   *
   * The address to listen on: an IP address, `0.0.0.0` or `::` for every
   * interface, or a host name (resolved in the READY to PAUSED state change;
   * the first address is used).
   */
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Address to listen on: an IP address, 0.0.0.0 or :: for every "
          "interface, or a host name", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:port:
   *
   * The TCP port to listen on, 0 to let the system pick a free one (read it
   * back from #GstWebSocketSink:current-port).
   */
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "TCP port to listen on, 0 to pick a free one (see current-port)",
          0, G_MAXUINT16, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWebSocketSink:current-port:
   *
   * The port the server actually listens on, notified once it is bound, 0
   * while the element does not listen.
   */
  current_port_pspec = g_param_spec_int ("current-port", "Current Port",
      "The port the server listens on, notified once bound, 0 while not "
      "listening", 0, G_MAXUINT16, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      current_port_pspec);
}

/* allowed-origins, max-clients */
static void
gst_websocket_sink_install_client_properties (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:allowed-origins:
   *
   * A comma-separated list of `Origin` values (such as
   * `http://127.0.0.1:8080`) allowed to open the WebSocket. Empty allows any
   * origin. When set, an upgrade whose `Origin` is missing or not listed is
   * refused with `403 Forbidden`; list the viewer's own origin to use the
   * built-in page. Applies to the next connection attempt.
   */
  g_object_class_install_property (gobject_class, PROP_ALLOWED_ORIGINS,
      g_param_spec_string ("allowed-origins", "Allowed Origins",
          "Comma-separated list of Origin values allowed to open the "
          "WebSocket, such as http://127.0.0.1:8080; empty allows any origin",
          DEFAULT_ALLOWED_ORIGINS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstWebSocketSink:max-clients:
   *
   * The most WebSocket clients at once, 0 for no limit. Further upgrades
   * are refused with `503 Service Unavailable`. Applies to the next
   * connection attempt.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Maximum Clients",
          "Maximum number of WebSocket clients at once, 0 for no limit",
          0, G_MAXUINT, DEFAULT_MAX_CLIENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

static void
gst_websocket_sink_install_stats_property (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:stats:
   *
   * The #GstBaseSink statistics (`average-rate`, `dropped`, `rendered`, for
   * the `sink` pad) in a structure named `GstWebSocketSinkStats`, extended
   * with:
   *
   * * `clients` (#guint): clients connected now
   * * `frames-received` (#guint64): frames received on all pads since start
   * * `frames-dropped` (#guint64): frames the server thread never saw
   *   because it was more than 256 frames behind
   * * `clients-accepted` (#guint64)
   * * `clients-refused` (#guint64): refused for their origin or for
   *   max-clients
   * * `client-stats` (#GstValueArray of #GstStructure named `client`), one
   *   per connected client: `id` (#guint64), `address` (#gchararray,
   *   "ip:port" of the peer), `frames-sent` (#guint64) and `frames-skipped`
   *   (#guint64, frames of any camera the client never got because it was
   *   busy or was waiting for a key frame)
   * * `camera-stats` (#GstValueArray of #GstStructure named `camera`), one
   *   per pad: `pad` (#gchararray), `camera` (#gchararray), `codec`
   *   (#gchararray, null before caps), `frames-received` (#guint64),
   *   `key-frames` (#guint64) and `key-unit-requests` (#guint64, the
   *   #GstForceKeyUnit events sent upstream)
   *
   * The last values are kept after the element stops.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Server and per-client statistics, kept after the element stops",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_websocket_sink_class_init (GstWebSocketSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_websocket_sink_finalize;
  gobject_class->set_property = gst_websocket_sink_set_property;
  gobject_class->get_property = gst_websocket_sink_get_property;

  gst_websocket_sink_install_listen_properties (gobject_class);
  gst_websocket_sink_install_client_properties (gobject_class);
  gst_websocket_sink_install_stats_property (gobject_class);

  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new_from_static_pad_template_with_gtype (&sink_template,
          GST_TYPE_WEBSOCKET_SINK_PAD));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new_from_static_pad_template_with_gtype
      (&request_template, GST_TYPE_WEBSOCKET_SINK_PAD));
  gst_element_class_set_static_metadata (element_class,
      "WebSocket sink", "Sink/Network",
      "Serves JPEG, H.264, VP8 or VP9 streams and their metadata to web "
      "browsers over WebSocket, with a built-in viewer page for many cameras",
      "The gst-redis-streams authors");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_websocket_sink_request_new_pad);
  element_class->release_pad =
      GST_DEBUG_FUNCPTR (gst_websocket_sink_release_pad);

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_websocket_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_websocket_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_websocket_sink_set_caps);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_websocket_sink_event);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_websocket_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_websocket_sink_unlock_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_websocket_sink_render);

  gst_type_mark_as_plugin_api (GST_TYPE_WEBSOCKET_SINK_PAD, 0);

  /* Our own prefix, so registering globally cannot clash with anyone */
  gst_websocket_sink_register_resource ();
}

static void
gst_websocket_sink_init (GstWebSocketSink * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->server = gst_websocket_server_new (GST_ELEMENT_CAST (self),
      gst_websocket_sink_frames_taken, self);
  gst_websocket_server_set_allowed_origins (self->server,
      DEFAULT_ALLOWED_ORIGINS);
  gst_websocket_server_set_max_clients (self->server, DEFAULT_MAX_CLIENTS);
  g_mutex_init (&self->lock);
  g_cond_init (&self->eos_cond);

  /* Send each frame as soon as it arrives: a viewer usually follows
   * redisstreamsrc, whose buffers carry the producer's timestamps, which
   * mean nothing to this pipeline's clock; pacing by them would only add
   * latency. sync=true paces a local, non-live source. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_websocket_sink_finalize (GObject * object)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  gst_websocket_server_free (self->server);
  g_free (self->address);
  if (self->stats_snapshot)
    gst_structure_free (self->stats_snapshot);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->eos_cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ---- GstChildProxy: "sink_0::camera=gate" in gst-launch ---- */

static GObject *
gst_websocket_sink_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GObject *obj;

  GST_OBJECT_LOCK (proxy);
  obj = g_list_nth_data (GST_ELEMENT_CAST (proxy)->sinkpads, index);
  if (obj)
    gst_object_ref (obj);
  GST_OBJECT_UNLOCK (proxy);

  return obj;
}

static guint
gst_websocket_sink_child_proxy_get_children_count (GstChildProxy * proxy)
{
  guint count;

  GST_OBJECT_LOCK (proxy);
  count = GST_ELEMENT_CAST (proxy)->numsinkpads;
  GST_OBJECT_UNLOCK (proxy);

  return count;
}

static void
gst_websocket_sink_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index = gst_websocket_sink_child_proxy_get_child_by_index;
  iface->get_children_count = gst_websocket_sink_child_proxy_get_children_count;
}

/* ---- EOS: posted once every linked pad has had it ---- */

/* Under @lock. Whether every linked request pad has received EOS. */
static gboolean
request_pads_eos (GstWebSocketSink * self)
{
  gboolean all = TRUE;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;

    if (GST_PAD_CAST (pad) == GST_BASE_SINK_PAD (self))
      continue;
    if (gst_pad_is_linked (GST_PAD_CAST (pad)) && !pad->eos)
      all = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  return all;
}

/* A request pad reached EOS, or went away: the `sink` pad may be waiting
 * for the others, or, when it is not linked, the element posts EOS itself */
static void
request_pad_eos_changed (GstWebSocketSink * self)
{
  gboolean post = FALSE;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->eos_cond);
  if (!gst_pad_is_linked (GST_BASE_SINK_PAD (self)) && !self->eos_posted &&
      request_pads_eos (self)) {
    self->eos_posted = TRUE;
    post = TRUE;
  }
  g_mutex_unlock (&self->lock);

  if (post) {
    GST_DEBUG_OBJECT (self, "every request pad is at EOS");
    gst_element_post_message (GST_ELEMENT_CAST (self),
        gst_message_new_eos (GST_OBJECT_CAST (self)));
  }
}

/* Server thread, no lock held: every frame handed over was taken, an EOS
 * may be waiting for that */
static void
gst_websocket_sink_frames_taken (gpointer user_data)
{
  GstWebSocketSink *self = user_data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->eos_cond);
  g_mutex_unlock (&self->lock);
}

static gboolean
gst_websocket_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  /* GstBaseSink posts EOS when this pad has it; hold it until the cameras
   * on request pads are done too, and the server thread has taken every
   * frame (a client that connects after EOS gets the last one), or a flush
   * or stop interrupts. The server's lock nests inside @lock; the server
   * thread takes @lock only without its own to wake us. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (&self->lock);
    while (!self->eos_flushing && (!request_pads_eos (self) ||
            gst_websocket_server_is_taking (self->server)))
      g_cond_wait (&self->eos_cond, &self->lock);
    g_mutex_unlock (&self->lock);
  }

  return GST_BASE_SINK_CLASS (parent_class)->event (bsink, event);
}

static gboolean
gst_websocket_sink_unlock (GstBaseSink * bsink)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  g_mutex_lock (&self->lock);
  self->eos_flushing = TRUE;
  g_cond_broadcast (&self->eos_cond);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_websocket_sink_unlock_stop (GstBaseSink * bsink)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  g_mutex_lock (&self->lock);
  self->eos_flushing = FALSE;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/* ---- request pads ---- */

static GstFlowReturn gst_websocket_sink_pad_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buffer);
static gboolean gst_websocket_sink_pad_event (GstPad * pad,
    GstObject * parent, GstEvent * event);

static GstPad *
gst_websocket_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (element);
  GstWebSocketSinkPad *pad;
  gchar *pad_name;
  guint serial;

  GST_OBJECT_LOCK (self);
  if (name != NULL && sscanf (name, "sink_%u", &serial) == 1) {
    pad_name = g_strdup (name);
    self->next_pad_serial = MAX (self->next_pad_serial, serial + 1);
  } else {
    pad_name = g_strdup_printf ("sink_%u", self->next_pad_serial++);
  }
  GST_OBJECT_UNLOCK (self);

  pad = g_object_new (GST_TYPE_WEBSOCKET_SINK_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  g_free (pad_name);
  GST_OBJECT_LOCK (self);
  pad->id = ++self->next_camera_id;
  GST_OBJECT_UNLOCK (self);

  gst_pad_set_chain_function (GST_PAD_CAST (pad),
      GST_DEBUG_FUNCPTR (gst_websocket_sink_pad_chain));
  gst_pad_set_event_function (GST_PAD_CAST (pad),
      GST_DEBUG_FUNCPTR (gst_websocket_sink_pad_event));

  /* A camera that sends nothing must not hold the pipeline in PAUSED, nor
   * must the `sink` pad when only request pads are linked */
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);

  if (!gst_element_add_pad (element, GST_PAD_CAST (pad))) {
    GST_WARNING_OBJECT (self, "could not add pad %s: the name is taken", name);
    gst_object_unref (pad);
    return NULL;
  }
  gst_child_proxy_child_added (GST_CHILD_PROXY (self), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  GST_DEBUG_OBJECT (self, "camera pad %s", GST_OBJECT_NAME (pad));

  return GST_PAD_CAST (pad);
}

static void
gst_websocket_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (element);

  GST_DEBUG_OBJECT (self, "releasing %s", GST_OBJECT_NAME (pad));

  /* The page keeps the camera's tile; the server forgets its frames */
  gst_websocket_server_push (self->server,
      gst_websocket_feed_frame_new_gone (GST_WEBSOCKET_SINK_PAD (pad)->id));

  gst_child_proxy_child_removed (GST_CHILD_PROXY (self), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_element_remove_pad (element, pad);
  request_pad_eos_changed (self);
}

/* Streaming thread of a request pad */
static gboolean
gst_websocket_sink_pad_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (parent);
  GstWebSocketSinkPad *wpad = GST_WEBSOCKET_SINK_PAD (pad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      gst_websocket_sink_pad_set_caps (wpad, caps);
      break;
    }
    case GST_EVENT_EOS:
      g_mutex_lock (&self->lock);
      wpad->eos = TRUE;
      g_mutex_unlock (&self->lock);
      request_pad_eos_changed (self);
      break;
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      g_mutex_lock (&self->lock);
      wpad->eos = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }

  /* Nothing downstream: every event ends here */
  gst_event_unref (event);

  return TRUE;
}

/* Streaming thread of a request pad: what render() is for the `sink` pad */
static GstFlowReturn
gst_websocket_sink_pad_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  gst_websocket_server_push (GST_WEBSOCKET_SINK (parent)->server,
      gst_websocket_feed_frame_new (GST_WEBSOCKET_SINK_PAD (pad), buffer));
  gst_buffer_unref (buffer);

  return GST_FLOW_OK;
}

/* ---- properties ---- */

static GstStructure *
gst_websocket_sink_make_stats (GstWebSocketSink * self)
{
  GstStructure *s;
  GValue cameras = G_VALUE_INIT;
  GList *l;

  s = gst_base_sink_get_stats (GST_BASE_SINK (self));
  gst_structure_set_name (s, "GstWebSocketSinkStats");
  gst_websocket_server_add_stats (self->server, s);

  g_value_init (&cameras, GST_TYPE_ARRAY);
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GValue v = G_VALUE_INIT;

    /* The pad's lock nests inside the element's, as in GstElement */
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_websocket_sink_pad_get_stats (l->data));
    gst_value_array_append_and_take_value (&cameras, &v);
  }
  GST_OBJECT_UNLOCK (self);
  gst_structure_take_value (s, "camera-stats", &cameras);

  return s;
}

static void
gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  switch (prop_id) {
    case PROP_ADDRESS:
      GST_OBJECT_LOCK (self);
      g_free (self->address);
      self->address = g_value_dup_string (value);
      if (self->address == NULL || *self->address == '\0') {
        g_free (self->address);
        self->address = g_strdup (DEFAULT_ADDRESS);
      }
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PORT:
      GST_OBJECT_LOCK (self);
      self->port = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ALLOWED_ORIGINS:
      gst_websocket_server_set_allowed_origins (self->server,
          g_value_get_string (value));
      break;
    case PROP_MAX_CLIENTS:
      gst_websocket_server_set_max_clients (self->server,
          g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
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
      g_value_take_string (value,
          gst_websocket_server_dup_allowed_origins (self->server));
      break;
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value,
          gst_websocket_server_get_max_clients (self->server));
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

/* ---- GstBaseSink ---- */

static gboolean
gst_websocket_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  gst_websocket_sink_pad_set_caps (GST_WEBSOCKET_SINK_PAD (GST_BASE_SINK_PAD
          (bsink)), caps);

  return TRUE;
}

static GstFlowReturn
gst_websocket_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  gst_websocket_server_push (self->server,
      gst_websocket_feed_frame_new (GST_WEBSOCKET_SINK_PAD (GST_BASE_SINK_PAD
              (bsink)), buffer));

  return GST_FLOW_OK;
}

/* start (): a fresh count, every pad out of EOS */
static void
gst_websocket_sink_reset (GstWebSocketSink * self)
{
  GList *l;

  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->stats_snapshot, gst_structure_free);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->eos_posted = FALSE;
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;

    gst_websocket_sink_pad_reset_stats (pad);
    pad->eos = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->lock);
}

static GSocketAddress *
resolve_address (const gchar * address, gint port, GError ** error)
{
  GInetAddress *inet;
  GResolver *resolver;
  GSocketAddress *sockaddr;
  GList *list;

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL) {
    resolver = g_resolver_get_default ();
    list = g_resolver_lookup_by_name (resolver, address, NULL, error);
    g_object_unref (resolver);
    if (list == NULL)
      return NULL;
    inet = g_object_ref (list->data);
    g_resolver_free_addresses (list);
  }

  sockaddr = g_inet_socket_address_new (inet, port);
  g_object_unref (inet);

  return sockaddr;
}

static void
gst_websocket_sink_set_current_port (GstWebSocketSink * self, gint port)
{
  GST_OBJECT_LOCK (self);
  self->current_port = port;
  GST_OBJECT_UNLOCK (self);
  g_object_notify_by_pspec (G_OBJECT (self), current_port_pspec);
}

static gboolean
gst_websocket_sink_start (GstBaseSink * bsink)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);
  GSocketAddress *sockaddr;
  gchar *address;
  gint port, bound_port = 0;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  port = self->port;
  GST_OBJECT_UNLOCK (self);

  gst_websocket_sink_reset (self);

  sockaddr = resolve_address (address, port, &err);
  if (sockaddr == NULL)
    goto resolve_failed;
  if (!gst_websocket_server_listen (self->server, sockaddr, &bound_port, &err))
    goto listen_failed;
  if (!gst_websocket_server_run (self->server, &err))
    goto thread_failed;

  GST_INFO_OBJECT (self, "serving http://%s:%d/ (WebSocket at %s)", address,
      bound_port, GST_WEBSOCKET_SERVER_PATH);
  gst_websocket_sink_set_current_port (self, bound_port);

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
    gst_websocket_server_stop (self->server);
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

  gst_websocket_server_stop (self->server);

  GST_OBJECT_LOCK (self);
  if (self->stats_snapshot)
    gst_structure_free (self->stats_snapshot);
  self->stats_snapshot = snapshot;
  GST_OBJECT_UNLOCK (self);
  gst_websocket_sink_set_current_port (self, 0);

  GST_DEBUG_OBJECT (self, "stopped");

  return TRUE;
}
