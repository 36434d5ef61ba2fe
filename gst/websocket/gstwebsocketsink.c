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
 * sends every frame, with its camera name, timestamps and detections
 * (#GstVideoRegionOfInterestMeta), to each WebSocket client connected at
 * `/ws`. It takes JPEG, or H.264 (`stream-format=byte-stream`,
 * `alignment=au`), VP8 and VP9, which it passes through for the browser to
 * decode with WebCodecs.
 *
 * Every sink pad is one camera, named by its #GstWebSocketSinkPad:camera
 * property: the always pad `sink` and any number of `sink_%u` request pads.
 * The element is a bin with one #GstBaseSink per linked pad, so every
 * camera syncs on the clock, prerolls and drops late frames alike, and the
 * #GstBaseSink properties of the element (#GstWebSocketSink:sync,
 * #GstWebSocketSink:qos, #GstWebSocketSink:max-lateness, ...) apply to
 * every camera. It reaches PAUSED once every linked pad has a frame, and
 * posts EOS once every linked pad has had EOS. As with any sinks, in a live
 * pipeline no camera plays before every linked camera sent a frame;
 * #GstWebSocketSink:async %FALSE lets each play from its first frame.
 *
 * A client that connects gets the newest frame of every camera at once (of
 * encoded video the last key frame, and the element asks upstream for a new
 * one). No client can hold the pipeline back: one that reads slower than
 * the stream skips frames, counted in #GstWebSocketSink:stats.
 *
 * If the server cannot listen, the element posts a
 * %GST_RESOURCE_ERROR_OPEN_WRITE error naming the address and port, with
 * details `address` (string) and `port` (int).
 *
 * By default the server speaks plain HTTP on 127.0.0.1 and asks nothing.
 * With a certificate (#GstWebSocketSink:tls-certificate-file and
 * #GstWebSocketSink:tls-key-file) it speaks HTTPS and WSS only, which
 * browsers on other hosts need for WebCodecs; with
 * #GstWebSocketSink:auth-token-file (or basic credentials) every request
 * must carry the secret, or gets `401 Unauthorized` and no frame.
 *
 * The websocketsink reference in the project documentation
 * (https://github.com/gst-redis-streams/gst-redis-streams) has the wire
 * format, the viewer page, how slow clients are treated, and every
 * statistic.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ! jpegenc ! websocketsink
 * ]| A test pattern in the browser at http://127.0.0.1:8080/.
 * |[
 * gst-launch-1.0 websocketsink name=wall sink::camera=gate sink_0::camera=yard \
 *   videotestsrc is-live=true ! openh264enc ! h264parse ! wall.sink \
 *   videotestsrc is-live=true pattern=ball ! jpegenc ! wall.sink_0
 * ]| Two cameras on one page, H.264 passed through to the browser.
 *
 * Since: 1.0
 */

/* The element: a bin with one GstWebSocketCameraSink per linked pad
 * (gstwebsocketcamerasink.c), made when the pad is linked and dropped when
 * it is unlinked, so a pad nothing is linked to holds up neither preroll
 * nor EOS; GstBin gathers the cameras' preroll and EOS. The element owns
 * the server (gstwebsocketserver.c), starts it before the cameras and
 * stops it after them, and passes its GstBaseSink properties on to every
 * camera. The pads are gstwebsocketsinkpad.c, the camera feeds
 * gstwebsocketfeed.c. Threading: the streaming threads turn each buffer
 * into a message and hand it to the server thread through a queue under
 * the server's lock; EOS waits until the server thread took every frame. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>

#include "gstwebsocketcamerasink.h"
#include "gstwebsocketfeed.h"
#include "gstwebsocketserver.h"
#include "gstwebsocketsink.h"
#include "gstwebsocketsinkpad.h"
#include "gstwebsocketsinkresources.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_ALLOWED_ORIGINS NULL
#define DEFAULT_MAX_CLIENTS 16

/* The cameras' GstBaseSink properties: GstBaseSink's defaults, but sync */
#define DEFAULT_SYNC FALSE
#define DEFAULT_MAX_LATENESS -1
#define DEFAULT_QOS FALSE
#define DEFAULT_ASYNC TRUE
#define DEFAULT_TS_OFFSET 0
#define DEFAULT_ENABLE_LAST_SAMPLE TRUE
#define DEFAULT_BLOCKSIZE 4096
#define DEFAULT_RENDER_DELAY 0
#define DEFAULT_THROTTLE_TIME 0
#define DEFAULT_MAX_BITRATE 0
#define DEFAULT_PROCESSING_DEADLINE (20 * GST_MSECOND)

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_ALLOWED_ORIGINS,
  PROP_MAX_CLIENTS,
  PROP_STATS,
  PROP_LAST_SAMPLE,
  /* Set on every camera's sink, from PROP_SYNC to PROP_PROCESSING_DEADLINE
   * (IS_CAMERA_PROP): other properties go before or after them */
  PROP_SYNC,
  PROP_MAX_LATENESS,
  PROP_QOS,
  PROP_ASYNC,
  PROP_TS_OFFSET,
  PROP_ENABLE_LAST_SAMPLE,
  PROP_BLOCKSIZE,
  PROP_RENDER_DELAY,
  PROP_THROTTLE_TIME,
  PROP_MAX_BITRATE,
  PROP_PROCESSING_DEADLINE,
};

#define IS_CAMERA_PROP(prop_id) \
  ((prop_id) >= PROP_SYNC && (prop_id) <= PROP_PROCESSING_DEADLINE)
#define CAMERA_PROP_INDEX(prop_id) ((prop_id) - PROP_SYNC)
#define N_CAMERA_PROPS (PROP_PROCESSING_DEADLINE - PROP_SYNC + 1)

static GParamSpec *current_port_pspec;
static GParamSpec *camera_pspecs[N_CAMERA_PROPS];

struct _GstWebSocketSink
{
  GstBin parent;

  /* Properties, under the object lock */
  gchar *address;
  gint port;
  gint current_port;
  GstStructure *stats_snapshot;
  guint next_pad_serial;
  guint next_camera_id;

  /* The cameras' GstBaseSink properties, indexed by CAMERA_PROP_INDEX.
   * Under @camera_lock, which is held while they are set on the cameras'
   * sinks and while a camera's sink is made, so every sink has the latest;
   * never taken by a streaming thread, never inside the object lock. */
  GMutex camera_lock;
  GValue camera_props[N_CAMERA_PROPS];

  /* Made in init, freed in finalize; holds allowed-origins and
   * max-clients */
  GstWebSocketServer *server;
  GstWebSocketCameraShared shared;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_WEBSOCKET_SINK_CAPS));

static GstStaticPadTemplate request_template =
GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_WEBSOCKET_SINK_CAPS));

static void gst_websocket_sink_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_websocket_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWebSocketSink, gst_websocket_sink, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_websocket_sink_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (websocketsink, "websocketsink",
    GST_RANK_NONE, GST_TYPE_WEBSOCKET_SINK, websocket_element_init (plugin));

static void gst_websocket_sink_dispose (GObject * object);
static void gst_websocket_sink_finalize (GObject * object);
static void gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_websocket_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstPad *gst_websocket_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_websocket_sink_release_pad (GstElement * element, GstPad * pad);
static GstStateChangeReturn gst_websocket_sink_change_state (GstElement *
    element, GstStateChange transition);

static GstWebSocketSinkPad *gst_websocket_sink_new_pad (GstWebSocketSink *
    self, GstPadTemplate * templ, const gchar * name);

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
   *
   * Since: 1.0
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
   *
   * Since: 1.0
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
   *
   * Since: 1.0
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
   *
   * Since: 1.0
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Maximum Clients",
          "Maximum number of WebSocket clients at once, 0 for no limit",
          0, G_MAXUINT, DEFAULT_MAX_CLIENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

/* Installs @pspec as one of the cameras' GstBaseSink properties */
static void
install_camera_property (GObjectClass * gobject_class, guint prop_id,
    GParamSpec * pspec)
{
  camera_pspecs[CAMERA_PROP_INDEX (prop_id)] = pspec;
  g_object_class_install_property (gobject_class, prop_id, pspec);
}

/* GstBaseSink's properties, set on the sink of every camera. The same
 * names, types and meanings as on any sink. */
static void
gst_websocket_sink_install_camera_properties (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:sync:
   *
   * Whether every camera's frames are sent at their running time on the
   * clock (#GstBaseSink:sync of each camera's sink). %FALSE by default: a
   * viewer usually follows redisstreamsrc, whose timestamps are on the
   * producer's schedule, and pacing by them would only add latency. Set it
   * to pace a local, non-live source by its timestamps.
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_SYNC,
      g_param_spec_boolean ("sync", "Sync",
          "Sync every camera on the clock", DEFAULT_SYNC,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:max-lateness:
   *
   * How late, in nanoseconds, a camera's frame may be before it is dropped,
   * -1 for no limit (#GstBaseSink:max-lateness of each camera's sink). Only
   * with #GstWebSocketSink:sync.
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_MAX_LATENESS,
      g_param_spec_int64 ("max-lateness", "Max Lateness",
          "Maximum number of nanoseconds that a camera's frame can be late "
          "before it is dropped (-1 unlimited)", -1, G_MAXINT64,
          DEFAULT_MAX_LATENESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:qos:
   *
   * Whether each camera sends Quality-of-Service events upstream and posts
   * QoS messages for the frames it drops (#GstBaseSink:qos of each camera's
   * sink).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_QOS,
      g_param_spec_boolean ("qos", "Qos",
          "Generate Quality-of-Service events upstream, per camera",
          DEFAULT_QOS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:async:
   *
   * Whether the cameras go to PAUSED asynchronously, each once it has a
   * frame (#GstBaseSink:async of each camera's sink). %FALSE lets the
   * element change state at once, so a camera that sends nothing does not
   * hold the pipeline in PAUSED.
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_ASYNC,
      g_param_spec_boolean ("async", "Async",
          "Go asynchronously to PAUSED, once every linked camera has a frame",
          DEFAULT_ASYNC, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:ts-offset:
   *
   * Nanoseconds added to every camera's running time when syncing
   * (#GstBaseSink:ts-offset of each camera's sink).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_TS_OFFSET,
      g_param_spec_int64 ("ts-offset", "TS Offset",
          "Timestamp offset in nanoseconds, for every camera", G_MININT64,
          G_MAXINT64, DEFAULT_TS_OFFSET,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:enable-last-sample:
   *
   * Whether each camera keeps its last frame for
   * #GstWebSocketSink:last-sample (#GstBaseSink:enable-last-sample).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_ENABLE_LAST_SAMPLE,
      g_param_spec_boolean ("enable-last-sample", "Enable Last Buffer",
          "Enable the last-sample property", DEFAULT_ENABLE_LAST_SAMPLE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:blocksize:
   *
   * #GstBaseSink:blocksize of each camera's sink: bytes per buffer in pull
   * mode, which websocketsink does not use.
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_BLOCKSIZE,
      g_param_spec_uint ("blocksize", "Block size",
          "Size in bytes to pull per buffer (0 = default)", 0, G_MAXUINT,
          DEFAULT_BLOCKSIZE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:render-delay:
   *
   * Nanoseconds each camera reports as its rendering delay in the latency
   * query (#GstBaseSink:render-delay).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_RENDER_DELAY,
      g_param_spec_uint64 ("render-delay", "Render Delay",
          "Additional render delay of every camera in nanoseconds", 0,
          G_MAXUINT64, DEFAULT_RENDER_DELAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:throttle-time:
   *
   * The time each camera keeps between the frames it sends, 0 for none
   * (#GstBaseSink:throttle-time).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_THROTTLE_TIME,
      g_param_spec_uint64 ("throttle-time", "Throttle time",
          "The time to keep between the frames of a camera (0 = disabled)", 0,
          G_MAXUINT64, DEFAULT_THROTTLE_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:max-bitrate:
   *
   * The most bits per second each camera sends, 0 for no limit
   * (#GstBaseSink:max-bitrate).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_MAX_BITRATE,
      g_param_spec_uint64 ("max-bitrate", "Max Bitrate",
          "The maximum bits per second every camera sends (0 = disabled)", 0,
          G_MAXUINT64, DEFAULT_MAX_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:processing-deadline:
   *
   * The time, in nanoseconds, each camera's frames may take upstream
   * before they are late, added to the latency (#GstBaseSink:processing-deadline).
   *
   * Since: 1.0
   */
  install_camera_property (gobject_class, PROP_PROCESSING_DEADLINE,
      g_param_spec_uint64 ("processing-deadline", "Processing deadline",
          "Maximum processing time for a frame in nanoseconds", 0,
          G_MAXUINT64, DEFAULT_PROCESSING_DEADLINE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWebSocketSink:last-sample:
   *
   * The last frame of the camera on the `sink` pad, or of the first linked
   * request pad when `sink` is not linked (#GstBaseSink:last-sample), with
   * its caps. %NULL when #GstWebSocketSink:enable-last-sample is %FALSE.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_LAST_SAMPLE,
      g_param_spec_boxed ("last-sample", "Last Sample",
          "The last sample received by the first linked camera",
          GST_TYPE_SAMPLE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_websocket_sink_install_stats_property (GObjectClass * gobject_class)
{
  /**
   * GstWebSocketSink:stats:
   *
   * Statistics in a structure named `GstWebSocketSinkStats`:
   *
   * * `average-rate` (#gdouble), `dropped` (#guint64), `rendered`
   *   (#guint64): the #GstBaseSink statistics of the linked cameras' sinks,
   *   their mean (0 when no pad is linked) and their sums
   * * `clients` (#guint): clients connected now
   * * `frames-received` (#guint64): frames rendered on all pads since start
   *   (those dropped as late are not)
   * * `frames-dropped` (#guint64): frames the server thread never saw
   *   because it was more than 256 frames behind
   * * `clients-accepted` (#guint64)
   * * `clients-refused` (#guint64): refused for their origin or for
   *   max-clients
   * * `connections-pending` (#guint): connections accepted but not yet
   *   answered nor upgraded
   * * `connections-closed` (#guint64): closed by the server for
   *   request-timeout, max-pending-connections, a request body, or to free
   *   a file descriptor
   * * `requests-unauthorized` (#guint64): requests answered 401
   * * `tls-handshake-failures` (#guint64)
   * * `client-stats` (#GstValueArray of #GstStructure named `client`), one
   *   per connected client: `id` (#guint64), `address` (#gchararray,
   *   "ip:port" of the peer), `frames-sent` (#guint64) and `frames-skipped`
   *   (#guint64, frames of any camera the client never got because it was
   *   busy or was waiting for a key frame)
   * * `camera-stats` (#GstValueArray of #GstStructure named `camera`), one
   *   per pad: `pad` (#gchararray), `camera` (#gchararray), `codec`
   *   (#gchararray, null before caps), `frames-received` (#guint64),
   *   `key-frames` (#guint64), `key-unit-requests` (#guint64, the
   *   #GstForceKeyUnit events sent upstream) and `dropped` (#guint64, frames
   *   dropped as too late, see #GstWebSocketSink:max-lateness)
   *
   * The last values are kept after the element stops.
   *
   * Since: 1.0
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

  gobject_class->dispose = gst_websocket_sink_dispose;
  gobject_class->finalize = gst_websocket_sink_finalize;
  gobject_class->set_property = gst_websocket_sink_set_property;
  gobject_class->get_property = gst_websocket_sink_get_property;

  gst_websocket_sink_install_listen_properties (gobject_class);
  gst_websocket_sink_install_client_properties (gobject_class);
  gst_websocket_sink_install_camera_properties (gobject_class);
  gst_websocket_sink_install_stats_property (gobject_class);
  /* request-timeout, max-pending-connections, tls-*, auth-* */
  gst_websocket_server_install_properties (gobject_class);

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
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_websocket_sink_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_WEBSOCKET_SINK_PAD, 0);

  /* Our own prefix, so registering globally cannot clash with anyone */
  gst_websocket_sink_register_resource ();
}

static void
gst_websocket_sink_init (GstWebSocketSink * self)
{
  GstPadTemplate *templ;
  guint i;

  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->server = gst_websocket_server_new (GST_ELEMENT_CAST (self),
      gst_websocket_camera_shared_frames_taken, &self->shared);
  gst_websocket_camera_shared_init (&self->shared, self->server);
  gst_websocket_server_set_allowed_origins (self->server,
      DEFAULT_ALLOWED_ORIGINS);
  gst_websocket_server_set_max_clients (self->server, DEFAULT_MAX_CLIENTS);

  g_mutex_init (&self->camera_lock);
  for (i = 0; i < N_CAMERA_PROPS; i++) {
    g_value_init (&self->camera_props[i],
        G_PARAM_SPEC_VALUE_TYPE (camera_pspecs[i]));
    g_param_value_set_default (camera_pspecs[i], &self->camera_props[i]);
  }

  /* A sink even while no pad is linked, when it has no sink inside */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
  gst_bin_set_suppressed_flags (GST_BIN (self),
      GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK);

  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      "sink");
  gst_element_add_pad (GST_ELEMENT_CAST (self),
      GST_PAD_CAST (gst_websocket_sink_new_pad (self, templ, "sink")));
}

static void
gst_websocket_sink_dispose (GObject * object)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);
  GList *l;

  /* GstBin drops the cameras' sinks; the pads, going next, must not try */
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;

    g_signal_handlers_disconnect_by_data (pad, self);
    gst_clear_object (&pad->sink);
  }
  GST_OBJECT_UNLOCK (self);

  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_websocket_sink_finalize (GObject * object)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);
  guint i;

  gst_websocket_server_free (self->server);
  gst_websocket_camera_shared_clear (&self->shared);
  g_free (self->address);
  if (self->stats_snapshot)
    gst_structure_free (self->stats_snapshot);
  for (i = 0; i < N_CAMERA_PROPS; i++)
    g_value_unset (&self->camera_props[i]);
  g_mutex_clear (&self->camera_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ---- GstChildProxy: "sink_0::camera=gate" in gst-launch ---- */

/* The children are the pads, not GstBin's elements: the cameras' sinks
 * are the element's own business */
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

/* ---- the cameras' sinks ---- */

/* The sinks of the linked cameras, each with a ref */
static GList *
gst_websocket_sink_list_cameras (GstWebSocketSink * self)
{
  GList *cameras = NULL, *l;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;

    if (pad->sink)
      cameras = g_list_append (cameras, gst_object_ref (pad->sink));
  }
  GST_OBJECT_UNLOCK (self);

  return cameras;
}

/* @pad was linked: its camera gets a sink, with the element's GstBaseSink
 * properties, in the element's state. Any thread.
 *
 * A camera that joins an element already in PAUSED or PLAYING does not
 * preroll: a sink that starts an asynchronous state change there makes the
 * whole pipeline lose its state until that camera sends a frame, and a
 * live source linked to it would be left in PAUSED. Like playsink's
 * subtitle sink it joins with `async` off, which is restored once it is in
 * the element's state, for the state changes to come. */
static void
gst_websocket_sink_add_camera (GstWebSocketSink * self,
    GstWebSocketSinkPad * pad)
{
  GstElement *camera;
  GstPad *target;
  gboolean joining;
  guint i;

  g_mutex_lock (&self->camera_lock);
  GST_OBJECT_LOCK (self);
  if (pad->sink != NULL) {
    GST_OBJECT_UNLOCK (self);
    g_mutex_unlock (&self->camera_lock);
    return;
  }
  joining = GST_STATE (self) >= GST_STATE_PAUSED &&
      GST_STATE_PENDING (self) == GST_STATE_VOID_PENDING;
  GST_OBJECT_UNLOCK (self);

  camera = gst_object_ref_sink (gst_websocket_camera_sink_new (pad,
          &self->shared));
  for (i = 0; i < N_CAMERA_PROPS; i++)
    g_object_set_property (G_OBJECT (camera), camera_pspecs[i]->name,
        &self->camera_props[i]);
  if (joining)
    gst_base_sink_set_async_enabled (GST_BASE_SINK (camera), FALSE);

  GST_OBJECT_LOCK (self);
  pad->sink = gst_object_ref (camera);
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->camera_lock);

  GST_DEBUG_OBJECT (self, "camera on %s linked%s", GST_OBJECT_NAME (pad),
      joining ? ", joining a running element" : "");
  if (!gst_bin_add (GST_BIN (self), camera))
    GST_WARNING_OBJECT (self, "could not add %s", GST_OBJECT_NAME (camera));
  /* Running before the first frame can reach it */
  gst_element_sync_state_with_parent (camera);
  target = gst_element_get_static_pad (camera, "sink");
  if (!gst_ghost_pad_set_target (GST_GHOST_PAD (pad), target))
    GST_WARNING_OBJECT (self, "could not link %s to its camera's sink",
        GST_OBJECT_NAME (pad));
  gst_object_unref (target);

  if (joining) {
    g_mutex_lock (&self->camera_lock);
    g_object_set_property (G_OBJECT (camera), "async",
        &self->camera_props[CAMERA_PROP_INDEX (PROP_ASYNC)]);
    g_mutex_unlock (&self->camera_lock);
  }
  gst_object_unref (camera);
}

/* @pad was unlinked or is going: its camera's sink goes, and neither its
 * preroll nor its EOS are waited for any more. Any thread. */
static void
gst_websocket_sink_remove_camera (GstWebSocketSink * self,
    GstWebSocketSinkPad * pad)
{
  GstElement *camera;

  GST_OBJECT_LOCK (self);
  camera = pad->sink;
  pad->sink = NULL;
  GST_OBJECT_UNLOCK (self);
  if (camera == NULL)
    return;

  GST_DEBUG_OBJECT (self, "camera on %s unlinked", GST_OBJECT_NAME (pad));
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), NULL);
  gst_element_set_locked_state (camera, TRUE);
  gst_element_set_state (camera, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (self), camera);
  gst_object_unref (camera);
}

static void
on_pad_linked (GstPad * pad, GstPad * peer, gpointer user_data)
{
  gst_websocket_sink_add_camera (user_data, GST_WEBSOCKET_SINK_PAD (pad));
}

static void
on_pad_unlinked (GstPad * pad, GstPad * peer, gpointer user_data)
{
  gst_websocket_sink_remove_camera (user_data, GST_WEBSOCKET_SINK_PAD (pad));
}

/* Sets one of the cameras' GstBaseSink properties on every camera's sink,
 * and on those to come */
static void
gst_websocket_sink_set_camera_property (GstWebSocketSink * self,
    guint prop_id, GParamSpec * pspec, const GValue * value)
{
  GList *cameras, *l;

  g_mutex_lock (&self->camera_lock);
  g_value_copy (value, &self->camera_props[CAMERA_PROP_INDEX (prop_id)]);
  cameras = gst_websocket_sink_list_cameras (self);
  for (l = cameras; l != NULL; l = l->next)
    g_object_set_property (l->data, pspec->name, value);
  g_mutex_unlock (&self->camera_lock);

  g_list_free_full (cameras, gst_object_unref);
}

static void
gst_websocket_sink_get_camera_property (GstWebSocketSink * self,
    guint prop_id, GValue * value)
{
  g_mutex_lock (&self->camera_lock);
  g_value_copy (&self->camera_props[CAMERA_PROP_INDEX (prop_id)], value);
  g_mutex_unlock (&self->camera_lock);
}

/* The last sample of the first linked camera */
static GstSample *
gst_websocket_sink_get_last_sample (GstWebSocketSink * self)
{
  GList *cameras = gst_websocket_sink_list_cameras (self);
  GstSample *sample = NULL;

  /* The always pad is the first in the list */
  if (cameras != NULL)
    sample = gst_base_sink_get_last_sample (cameras->data);
  g_list_free_full (cameras, gst_object_unref);

  return sample;
}

/* ---- pads ---- */

/* A new camera pad, not added yet */
static GstWebSocketSinkPad *
gst_websocket_sink_new_pad (GstWebSocketSink * self, GstPadTemplate * templ,
    const gchar * name)
{
  GstWebSocketSinkPad *pad;

  pad = g_object_new (GST_TYPE_WEBSOCKET_SINK_PAD, "name", name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  GST_OBJECT_LOCK (self);
  pad->id = ++self->next_camera_id;
  GST_OBJECT_UNLOCK (self);

  g_signal_connect (pad, "linked", G_CALLBACK (on_pad_linked), self);
  g_signal_connect (pad, "unlinked", G_CALLBACK (on_pad_unlinked), self);

  return pad;
}

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

  pad = gst_websocket_sink_new_pad (self, templ, pad_name);
  g_free (pad_name);

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

  gst_websocket_sink_remove_camera (self, GST_WEBSOCKET_SINK_PAD (pad));
  g_signal_handlers_disconnect_by_data (pad, self);

  /* The page keeps the camera's tile; the server forgets its frames */
  gst_websocket_server_push (self->server,
      gst_websocket_feed_frame_new_gone (GST_WEBSOCKET_SINK_PAD (pad)->id));

  gst_child_proxy_child_removed (GST_CHILD_PROXY (self), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_element_remove_pad (element, pad);
}

/* ---- properties ---- */

/* The `camera` structure of @pad, with its sink's drops */
static GstStructure *
gst_websocket_sink_camera_stats (GstWebSocketSinkPad * pad, GstElement * camera)
{
  GstStructure *s = gst_websocket_sink_pad_get_stats (pad);
  guint64 dropped = 0;

  if (camera != NULL) {
    GstStructure *bs = gst_base_sink_get_stats (GST_BASE_SINK (camera));

    gst_structure_get_uint64 (bs, "dropped", &dropped);
    gst_structure_free (bs);
  }
  gst_structure_set (s, "dropped", G_TYPE_UINT64, dropped, NULL);

  return s;
}

static GstStructure *
gst_websocket_sink_make_stats (GstWebSocketSink * self)
{
  GstStructure *s;
  GValue cameras = G_VALUE_INIT;
  GList *pads = NULL, *l;
  guint64 rendered = 0, dropped = 0;
  gdouble rate_sum = 0;
  guint n_rates = 0;

  g_value_init (&cameras, GST_TYPE_ARRAY);
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next)
    pads = g_list_append (pads, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self);

  /* Without the element's lock: a camera's sink takes its own, and posts
   * messages under it */
  for (l = pads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;
    GstElement *camera;
    GValue v = G_VALUE_INIT;

    GST_OBJECT_LOCK (self);
    camera = pad->sink ? gst_object_ref (pad->sink) : NULL;
    GST_OBJECT_UNLOCK (self);

    if (camera != NULL) {
      GstStructure *bs = gst_base_sink_get_stats (GST_BASE_SINK (camera));
      guint64 r = 0, d = 0;
      gdouble rate = -1;

      gst_structure_get_uint64 (bs, "rendered", &r);
      gst_structure_get_uint64 (bs, "dropped", &d);
      gst_structure_get_double (bs, "average-rate", &rate);
      rendered += r;
      dropped += d;
      rate_sum += rate;
      n_rates++;
      gst_structure_free (bs);
    }

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_websocket_sink_camera_stats (pad, camera));
    gst_value_array_append_and_take_value (&cameras, &v);
    if (camera)
      gst_object_unref (camera);
  }
  g_list_free_full (pads, gst_object_unref);

  s = gst_structure_new ("GstWebSocketSinkStats",
      "average-rate", G_TYPE_DOUBLE, n_rates ? rate_sum / n_rates : 0.0,
      "dropped", G_TYPE_UINT64, dropped,
      "rendered", G_TYPE_UINT64, rendered, NULL);
  gst_websocket_server_add_stats (self->server, s);
  gst_structure_take_value (s, "camera-stats", &cameras);

  return s;
}

static void
gst_websocket_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  if (IS_CAMERA_PROP (prop_id)) {
    gst_websocket_sink_set_camera_property (self, prop_id, pspec, value);
    return;
  }

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
      if (!gst_websocket_server_set_property (self->server, prop_id, value,
              pspec))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_websocket_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (object);

  if (IS_CAMERA_PROP (prop_id)) {
    gst_websocket_sink_get_camera_property (self, prop_id, value);
    return;
  }

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
      if (s == NULL)
        s = gst_websocket_sink_make_stats (self);
      g_value_take_boxed (value, s);
      break;
    }
    case PROP_LAST_SAMPLE:
      g_value_take_boxed (value, gst_websocket_sink_get_last_sample (self));
      break;
    default:
      if (!gst_websocket_server_get_property (self->server, prop_id, value,
              pspec))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* ---- starting and stopping ---- */

/* A fresh count on every pad */
static void
gst_websocket_sink_reset (GstWebSocketSink * self)
{
  GList *l;

  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->stats_snapshot, gst_structure_free);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next)
    gst_websocket_sink_pad_reset_stats (l->data);
  GST_OBJECT_UNLOCK (self);
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

/* READY to PAUSED, before the cameras: the server listens and runs */
static gboolean
gst_websocket_sink_start (GstWebSocketSink * self)
{
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

  GST_INFO_OBJECT (self, "serving %s://%s:%d/ (WebSocket at %s)",
      gst_websocket_server_get_scheme (self->server), address, bound_port,
      GST_WEBSOCKET_SERVER_PATH);
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
    if (err->domain == GST_RESOURCE_ERROR) {
      /* A certificate, key or token file: the text says what to change */
      GST_ELEMENT_ERROR_WITH_DETAILS (self, RESOURCE, SETTINGS,
          ("%s", err->message), (NULL),
          ("address", G_TYPE_STRING, address, "port", G_TYPE_INT, port, NULL));
    } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
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

/* PAUSED to READY, after the cameras: nothing is rendered any more */
static void
gst_websocket_sink_stop (GstWebSocketSink * self)
{
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
}

static GstStateChangeReturn
gst_websocket_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_websocket_sink_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE)
        gst_websocket_sink_stop (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_websocket_sink_stop (self);
      break;
    default:
      break;
  }

  return ret;
}
