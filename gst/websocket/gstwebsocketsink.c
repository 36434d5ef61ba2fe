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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include <gst/video/video.h>
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
#define DEFAULT_CAMERA NULL

/* Where the frames are; the viewer page uses the same path. */
#define WEBSOCKET_PATH "/ws"
#define RESOURCE_PREFIX "/org/gstreamer/websocketsink/"

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
/* Frames render() may leave for the server thread before the oldest go: a
 * server thread that far behind has stalled (clients of encoded video then
 * wait for the next key frame) */
#define MAX_PENDING 256
/* Key-frame requests upstream, per camera: a page reload or a slow client
 * must not make the encoder send nothing but key frames */
#define KEY_UNIT_MIN_INTERVAL_US G_USEC_PER_SEC

/* Our sources run below libsoup's (G_PRIORITY_DEFAULT). A client's socket
 * being writable then means libsoup's own output queue for it is empty:
 * while it is not, libsoup's output source is ready on the same socket and
 * wins every iteration. */
#define SINK_SOURCE_PRIORITY G_PRIORITY_DEFAULT_IDLE

typedef enum
{
  CODEC_NONE,
  CODEC_JPEG,
  CODEC_H264,
  CODEC_VP8,
  CODEC_VP9,
} Codec;

/* Indexed by Codec; the names the wire format uses */
static const gchar *const codec_names[] = { NULL, "jpeg", "h264", "vp8",
  "vp9"
};

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

enum
{
  PROP_PAD_0,
  PROP_PAD_CAMERA,
};

static GParamSpec *current_port_pspec;

/* One sink pad: one camera */
struct _GstWebSocketSinkPad
{
  GstPad parent;

  /* Under the object lock */
  gchar *camera;

  /* Set when the pad is made, then read only */
  guint id;

  /* Streaming thread only */
  Codec codec;
  gint width;
  gint height;
  GBytes *sps;
  GBytes *pps;

  /* Under the sink's lock */
  guint64 frames_received;
  guint64 key_frames;
  guint64 key_unit_requests;
  gboolean eos;
};

/* A frame on its way from a streaming thread to the server thread. A NULL
 * @frame says the camera's pad is gone. */
typedef struct
{
  guint camera_id;
  gchar *camera;
  GstPad *pad;
  GBytes *frame;
  guint64 index;
  gboolean key;
  gboolean encoded;
} PendingFrame;

/* The newest frames of one camera: server thread only, except the list
 * itself, which changes under the sink's lock */
typedef struct
{
  guint id;
  gchar *camera;
  GstPad *pad;
  gboolean encoded;
  GBytes *latest;
  guint64 latest_index;
  gboolean latest_key;
  /* The last key frame of encoded video, what a newcomer starts with */
  GBytes *key;
  guint64 key_index;
  gint64 last_key_request;
} Feed;

/* Where a client is in one camera's frames */
typedef struct
{
  /* Every frame up to @accounted was sent or counted as skipped */
  guint64 accounted;
  /* Encoded video: the client missed a frame and can only go on from a key
   * frame */
  gboolean need_key;
} ClientFeed;

typedef struct
{
  GstWebSocketSink *sink;
  SoupWebsocketConnection *conn;
  GSocket *socket;
  /* Non-NULL while frames sent are still on their way out */
  GSource *drain_source;
  gsize inflight;
  gchar *address;
  guint64 id;
  /* Refused after the upgrade (max-clients race): being closed, not counted */
  gboolean refused;
  /* Feed id -> ClientFeed, server thread only */
  GHashTable *feeds;

  /* Under the sink's lock, written by the server thread only */
  guint64 frames_sent;
  guint64 frames_skipped;
} GstWebSocketSinkClient;

struct _GstWebSocketSink
{
  GstBaseSink parent;

  /* Properties, under the object lock */
  gchar *address;
  gint port;
  gint current_port;
  gchar *allowed_origins;
  guint max_clients;
  GstStructure *stats_snapshot;
  guint next_pad_serial;
  guint next_camera_id;

  /* The hand-off from the streaming threads to the server thread, the
   * client and feed lists, EOS and the counters, under @lock. Only the
   * server thread changes the lists. */
  GMutex lock;
  GCond eos_cond;
  GQueue pending;
  GSource *dispatch_source;
  guint64 frames_received;
  guint64 frames_dropped;
  GList *clients;
  GList *feeds;
  guint64 clients_accepted;
  guint64 clients_refused;
  gboolean eos_flushing;
  /* the server thread is handing a frame to the clients (unlocked) */
  gboolean dispatch_busy;
  gboolean eos_posted;

  /* Created in start (), freed in stop () */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *server;

  /* Server thread only */
  guint64 next_client_id;
  gboolean stopping;
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

G_DEFINE_TYPE (GstWebSocketSinkPad, gst_websocket_sink_pad, GST_TYPE_PAD);

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

static void client_offer (GstWebSocketSink * self,
    GstWebSocketSinkClient * client);
static gboolean gst_websocket_sink_dispatch (gpointer user_data);

/* ---- the pad ---- */

static void
gst_websocket_sink_pad_finalize (GObject * object)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  g_free (pad->camera);
  g_clear_pointer (&pad->sps, g_bytes_unref);
  g_clear_pointer (&pad->pps, g_bytes_unref);

  G_OBJECT_CLASS (gst_websocket_sink_pad_parent_class)->finalize (object);
}

static void
gst_websocket_sink_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  switch (prop_id) {
    case PROP_PAD_CAMERA:
      GST_OBJECT_LOCK (pad);
      g_free (pad->camera);
      pad->camera = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_websocket_sink_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  switch (prop_id) {
    case PROP_PAD_CAMERA:
      GST_OBJECT_LOCK (pad);
      g_value_set_string (value, pad->camera);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_websocket_sink_pad_class_init (GstWebSocketSinkPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_websocket_sink_pad_finalize;
  gobject_class->set_property = gst_websocket_sink_pad_set_property;
  gobject_class->get_property = gst_websocket_sink_pad_get_property;

  /**
   * GstWebSocketSinkPad:camera:
   *
   * The name the viewer page shows for this pad's camera, and by which it
   * tells cameras apart: give each pad its own. Unset, the pad name
   * (`sink`, `sink_0`, ...) is used. A change applies from the next frame.
   */
  g_object_class_install_property (gobject_class, PROP_PAD_CAMERA,
      g_param_spec_string ("camera", "Camera",
          "Name of this pad's camera on the viewer page (default: the pad "
          "name)", DEFAULT_CAMERA,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

static void
gst_websocket_sink_pad_init (GstWebSocketSinkPad * pad)
{
}

/* The camera name of @pad, newly allocated */
static gchar *
pad_camera_name (GstWebSocketSinkPad * pad)
{
  gchar *name;

  GST_OBJECT_LOCK (pad);
  name = pad->camera && *pad->camera ? g_strdup (pad->camera) :
      g_strdup (GST_OBJECT_NAME (pad));
  GST_OBJECT_UNLOCK (pad);

  return name;
}

static void
pad_set_caps (GstWebSocketSink * self, GstWebSocketSinkPad * pad,
    GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);

  GST_DEBUG_OBJECT (pad, "caps %" GST_PTR_FORMAT, caps);

  if (g_str_equal (name, "video/x-h264"))
    pad->codec = CODEC_H264;
  else if (g_str_equal (name, "video/x-vp8"))
    pad->codec = CODEC_VP8;
  else if (g_str_equal (name, "video/x-vp9"))
    pad->codec = CODEC_VP9;
  else
    pad->codec = CODEC_JPEG;

  /* Encoders put the size in their caps; a JPEG source may not */
  pad->width = pad->height = 0;
  gst_structure_get_int (s, "width", &pad->width);
  gst_structure_get_int (s, "height", &pad->height);
}

/* ---- the element ---- */

static void
gst_websocket_sink_class_init (GstWebSocketSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_websocket_sink_finalize;
  gobject_class->set_property = gst_websocket_sink_set_property;
  gobject_class->get_property = gst_websocket_sink_get_property;

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
      "gst-redis-streams contributors");

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
  self->allowed_origins = g_strdup (DEFAULT_ALLOWED_ORIGINS);
  self->max_clients = DEFAULT_MAX_CLIENTS;
  g_mutex_init (&self->lock);
  g_cond_init (&self->eos_cond);
  g_queue_init (&self->pending);

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

  g_free (self->address);
  g_free (self->allowed_origins);
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

static gboolean
gst_websocket_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  /* GstBaseSink posts EOS when this pad has it; hold it until the cameras
   * on request pads are done too, and the server thread has taken every
   * frame (a client that connects after EOS gets the last one), or a flush
   * or stop interrupts */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (&self->lock);
    while (!self->eos_flushing && (!request_pads_eos (self) ||
            (self->context != NULL && (self->pending.length > 0 ||
                    self->dispatch_busy))))
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

static void pending_push (GstWebSocketSink * self, PendingFrame * item);

static void
gst_websocket_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (element);
  PendingFrame *item = g_new0 (PendingFrame, 1);

  GST_DEBUG_OBJECT (self, "releasing %s", GST_OBJECT_NAME (pad));

  /* The page keeps the camera's tile; the server forgets its frames */
  item->camera_id = GST_WEBSOCKET_SINK_PAD (pad)->id;
  pending_push (self, item);

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
      pad_set_caps (self, wpad, caps);
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

static GstStructure *
gst_websocket_sink_make_stats (GstWebSocketSink * self)
{
  GstStructure *s;
  GValue clients = G_VALUE_INIT, cameras = G_VALUE_INIT;
  guint n_clients = 0;
  GList *l;

  s = gst_base_sink_get_stats (GST_BASE_SINK (self));
  gst_structure_set_name (s, "GstWebSocketSinkStats");
  g_value_init (&clients, GST_TYPE_ARRAY);
  g_value_init (&cameras, GST_TYPE_ARRAY);

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
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;
    GValue v = G_VALUE_INIT;
    gchar *camera;

    /* The pad's lock nests inside the element's, as in GstElement */
    camera = pad_camera_name (pad);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("camera",
            "pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
            "camera", G_TYPE_STRING, camera,
            "codec", G_TYPE_STRING, codec_names[pad->codec],
            "frames-received", G_TYPE_UINT64, pad->frames_received,
            "key-frames", G_TYPE_UINT64, pad->key_frames,
            "key-unit-requests", G_TYPE_UINT64, pad->key_unit_requests, NULL));
    gst_value_array_append_and_take_value (&cameras, &v);
    g_free (camera);
  }
  GST_OBJECT_UNLOCK (self);
  gst_structure_set (s,
      "clients", G_TYPE_UINT, n_clients,
      "frames-received", G_TYPE_UINT64, self->frames_received,
      "frames-dropped", G_TYPE_UINT64, self->frames_dropped,
      "clients-accepted", G_TYPE_UINT64, self->clients_accepted,
      "clients-refused", G_TYPE_UINT64, self->clients_refused, NULL);
  g_mutex_unlock (&self->lock);

  gst_structure_take_value (s, "client-stats", &clients);
  gst_structure_take_value (s, "camera-stats", &cameras);

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


/* ---- frames: streaming threads to the server thread ---- */

static void
pending_frame_free (PendingFrame * item)
{
  g_free (item->camera);
  if (item->pad)
    gst_object_unref (item->pad);
  if (item->frame)
    g_bytes_unref (item->frame);
  g_free (item);
}

/* Leaves @item for the server thread and wakes it */
static void
pending_push (GstWebSocketSink * self, PendingFrame * item)
{
  g_mutex_lock (&self->lock);
  if (self->context == NULL) {
    g_mutex_unlock (&self->lock);
    pending_frame_free (item);
    return;
  }
  g_queue_push_tail (&self->pending, item);
  while (self->pending.length > MAX_PENDING) {
    /* The server thread has stalled: the oldest frames go (a gap in the
     * frame numbers, so clients of encoded video wait for a key frame) */
    pending_frame_free (g_queue_pop_head (&self->pending));
    self->frames_dropped++;
    GST_WARNING_OBJECT (self, "server thread behind by %u frames, dropping",
        MAX_PENDING);
  }
  if (self->dispatch_source == NULL) {
    self->dispatch_source = g_idle_source_new ();
    g_source_set_priority (self->dispatch_source, SINK_SOURCE_PRIORITY);
    g_source_set_callback (self->dispatch_source,
        (GSourceFunc) G_CALLBACK (gst_websocket_sink_dispatch), self, NULL);
    g_source_attach (self->dispatch_source, self->context);
  }
  g_mutex_unlock (&self->lock);
}

/* The H.264 parameter sets a key frame lacks, to send before it: a client
 * that starts at a key frame has seen nothing before it. NULL when it has
 * them all (or none are known yet). */
static GBytes *
h264_missing_parameter_sets (GstWebSocketSinkPad * pad, GstBuffer * buffer,
    gboolean key)
{
  GstWebSocketH264Scan scan;
  GBytes *prefix = NULL;

  gst_websocket_h264_scan (buffer, &scan);
  if (scan.sps) {
    g_clear_pointer (&pad->sps, g_bytes_unref);
    pad->sps = g_bytes_ref (scan.sps);
  }
  if (scan.pps) {
    g_clear_pointer (&pad->pps, g_bytes_unref);
    pad->pps = g_bytes_ref (scan.pps);
  }

  if (key && (scan.sps == NULL || scan.pps == NULL) && pad->sps && pad->pps) {
    GByteArray *arr = g_byte_array_new ();

    if (scan.sps == NULL)
      g_byte_array_append (arr, g_bytes_get_data (pad->sps, NULL),
          g_bytes_get_size (pad->sps));
    if (scan.pps == NULL)
      g_byte_array_append (arr, g_bytes_get_data (pad->pps, NULL),
          g_bytes_get_size (pad->pps));
    prefix = g_byte_array_free_to_bytes (arr);
  } else if (key && (scan.sps == NULL || scan.pps == NULL)) {
    GST_WARNING_OBJECT (pad, "H.264 key frame without SPS/PPS, and none seen "
        "before: browsers cannot start decoding at it. Put h264parse "
        "config-interval=-1 before the sink.");
  }
  gst_websocket_h264_scan_clear (&scan);

  return prefix;
}

/* Any streaming thread: one frame of @pad's camera */
static void
submit_frame (GstWebSocketSink * self, GstWebSocketSinkPad * pad,
    GstBuffer * buffer)
{
  GstWebSocketFrameInfo info;
  PendingFrame *item;
  GBytes *prefix = NULL;
  gchar *camera;
  guint64 index;
  gboolean key;

  if (pad->codec == CODEC_NONE)
    pad->codec = CODEC_JPEG;
  key = pad->codec == CODEC_JPEG ||
      !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  g_mutex_lock (&self->lock);
  self->frames_received++;
  index = ++pad->frames_received;
  if (key)
    pad->key_frames++;
  g_mutex_unlock (&self->lock);

  if (pad->codec == CODEC_H264)
    prefix = h264_missing_parameter_sets (pad, buffer, key);

  camera = pad_camera_name (pad);
  info.seq = GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer) :
      index - 1;
  info.width = pad->width;
  info.height = pad->height;
  info.camera = camera;
  info.codec = codec_names[pad->codec];
  info.key = key;

  item = g_new0 (PendingFrame, 1);
  item->camera_id = pad->id;
  item->pad = gst_object_ref (pad);
  item->index = index;
  item->key = key;
  item->encoded = pad->codec != CODEC_JPEG;
  /* One copy here, so no buffer from upstream is held after render() */
  item->frame = gst_websocket_frame_build_full (buffer, &info, prefix);
  item->camera = camera;
  if (prefix)
    g_bytes_unref (prefix);

  GST_LOG_OBJECT (pad, "frame %" G_GUINT64_FORMAT " (seq %" G_GUINT64_FORMAT
      "%s): %" G_GSIZE_FORMAT " bytes", index, info.seq, key ? ", key" : "",
      g_bytes_get_size (item->frame));

  pending_push (self, item);
}

static gboolean
gst_websocket_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  pad_set_caps (self, GST_WEBSOCKET_SINK_PAD (GST_BASE_SINK_PAD (bsink)), caps);

  return TRUE;
}

static GstFlowReturn
gst_websocket_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstWebSocketSink *self = GST_WEBSOCKET_SINK (bsink);

  submit_frame (self, GST_WEBSOCKET_SINK_PAD (GST_BASE_SINK_PAD (bsink)),
      buffer);

  return GST_FLOW_OK;
}

/* Streaming thread of a request pad: what render() is for the `sink` pad */
static GstFlowReturn
gst_websocket_sink_pad_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  submit_frame (GST_WEBSOCKET_SINK (parent), GST_WEBSOCKET_SINK_PAD (pad),
      buffer);
  gst_buffer_unref (buffer);

  return GST_FLOW_OK;
}

/* ---- cameras and clients (server thread) ---- */

static void
feed_free (Feed * feed)
{
  g_free (feed->camera);
  if (feed->pad)
    gst_object_unref (feed->pad);
  if (feed->latest)
    g_bytes_unref (feed->latest);
  if (feed->key)
    g_bytes_unref (feed->key);
  g_free (feed);
}

static Feed *
feed_find (GstWebSocketSink * self, guint id)
{
  GList *l;

  for (l = self->feeds; l != NULL; l = l->next) {
    if (((Feed *) l->data)->id == id)
      return l->data;
  }
  return NULL;
}

/* Asks the camera's encoder for a key frame, at most once per
 * KEY_UNIT_MIN_INTERVAL_US. Upstream events may be sent from any thread. */
static void
feed_request_key_unit (GstWebSocketSink * self, Feed * feed)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (feed->pad);
  gint64 now = g_get_monotonic_time ();
  guint count;

  if (feed->last_key_request != 0 &&
      now - feed->last_key_request < KEY_UNIT_MIN_INTERVAL_US)
    return;
  feed->last_key_request = now;

  g_mutex_lock (&self->lock);
  count = (guint)++ pad->key_unit_requests;
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (feed->pad, "asking upstream for a key frame (%u)", count);
  gst_pad_push_event (feed->pad,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          count));
}

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
  g_hash_table_unref (client->feeds);
  g_free (client->address);
  g_free (client);
}

static gboolean
on_client_drained (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  GstWebSocketSinkClient *client = user_data;

  g_source_unref (client->drain_source);
  client->drain_source = NULL;
  client->inflight = 0;
  client_offer (client->sink, client);

  return G_SOURCE_REMOVE;
}

static void
client_send (GstWebSocketSink * self, GstWebSocketSinkClient * client,
    GBytes * frame)
{
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_BINARY, frame);
  client->inflight += g_bytes_get_size (frame);
  g_mutex_lock (&self->lock);
  client->frames_sent++;
  g_mutex_unlock (&self->lock);

  if (client->socket != NULL && client->drain_source == NULL) {
    client->drain_source = g_socket_create_source (client->socket, G_IO_OUT,
        NULL);
    g_source_set_priority (client->drain_source, SINK_SOURCE_PRIORITY);
    g_source_set_callback (client->drain_source,
        (GSourceFunc) G_CALLBACK (on_client_drained), client, NULL);
    g_source_attach (client->drain_source, self->context);
  }
}

static void
client_skip (GstWebSocketSink * self, GstWebSocketSinkClient * client,
    ClientFeed * cf, guint64 upto)
{
  if (upto <= cf->accounted)
    return;
  g_mutex_lock (&self->lock);
  client->frames_skipped += upto - cf->accounted;
  g_mutex_unlock (&self->lock);
  cf->accounted = upto;
}

static ClientFeed *
client_feed_get (GstWebSocketSinkClient * client, Feed * feed)
{
  ClientFeed *cf = g_hash_table_lookup (client->feeds,
      GUINT_TO_POINTER (feed->id));

  if (cf == NULL) {
    cf = g_new0 (ClientFeed, 1);
    /* A newcomer starts with the newest frame, or with the last key frame
     * of encoded video: nothing before counts as skipped */
    cf->accounted = feed->encoded && feed->key ? feed->key_index - 1 :
        feed->latest_index - 1;
    cf->need_key = feed->encoded;
    g_hash_table_insert (client->feeds, GUINT_TO_POINTER (feed->id), cf);
  }
  return cf;
}

/* Sends @client what it should get next of @feed's camera */
static void
client_offer_feed (GstWebSocketSink * self, GstWebSocketSinkClient * client,
    Feed * feed)
{
  ClientFeed *cf = client_feed_get (client, feed);
  guint64 newest = feed->latest_index;

  if (feed->latest == NULL || cf->accounted >= newest)
    return;

  if (!feed->encoded) {
    /* Any JPEG will do: the newest */
    client_skip (self, client, cf, newest - 1);
    client_send (self, client, feed->latest);
    cf->accounted = newest;
  } else if ((!cf->need_key && cf->accounted == newest - 1) || feed->latest_key) {
    /* The next frame in order, or a fresh start */
    client_skip (self, client, cf, newest - 1);
    client_send (self, client, feed->latest);
    cf->accounted = newest;
    cf->need_key = FALSE;
  } else {
    /* A delta frame whose reference the client did not get. A newcomer
     * gets the last key frame for a first picture; then everyone waits for
     * the key frame we ask for. */
    if (feed->key != NULL && cf->accounted < feed->key_index) {
      client_skip (self, client, cf, feed->key_index - 1);
      client_send (self, client, feed->key);
      cf->accounted = feed->key_index;
    }
    client_skip (self, client, cf, newest);
    cf->need_key = TRUE;
    feed_request_key_unit (self, feed);
  }
}

/* Sends the newest frames to @client unless it is still busy, and keeps its
 * skip counts */
static void
client_offer (GstWebSocketSink * self, GstWebSocketSinkClient * client)
{
  gboolean busy;
  GList *l;

  if (client->refused)
    return;

  busy = client->inflight >= SEND_BUDGET ||
      soup_websocket_connection_get_state (client->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN;

  for (l = self->feeds; l != NULL; l = l->next) {
    Feed *feed = l->data;

    if (busy) {
      /* Whatever comes before the newest frame will never be sent */
      ClientFeed *cf = client_feed_get (client, feed);

      /* A newcomer still gets the last key frame when it is ready */
      if (feed->encoded && feed->key != NULL && cf->accounted < feed->key_index)
        continue;
      if (feed->latest != NULL && feed->latest_index - 1 > cf->accounted) {
        client_skip (self, client, cf, feed->latest_index - 1);
        cf->need_key = feed->encoded;
      }
      continue;
    }
    client_offer_feed (self, client, feed);
    busy = client->inflight >= SEND_BUDGET;
  }
}

/* Takes one frame from a streaming thread into its camera's feed */
static void
feed_take (GstWebSocketSink * self, PendingFrame * item)
{
  Feed *feed = feed_find (self, item->camera_id);
  GList *l;

  if (item->frame == NULL) {
    /* The pad is gone */
    if (feed != NULL) {
      g_mutex_lock (&self->lock);
      self->feeds = g_list_remove (self->feeds, feed);
      g_mutex_unlock (&self->lock);
      for (l = self->clients; l != NULL; l = l->next) {
        GstWebSocketSinkClient *client = l->data;

        g_hash_table_remove (client->feeds, GUINT_TO_POINTER (feed->id));
      }
      feed_free (feed);
    }
    return;
  }

  if (feed == NULL) {
    feed = g_new0 (Feed, 1);
    feed->id = item->camera_id;
    feed->pad = gst_object_ref (item->pad);
    g_mutex_lock (&self->lock);
    self->feeds = g_list_append (self->feeds, feed);
    g_mutex_unlock (&self->lock);
  }
  g_free (feed->camera);
  feed->camera = g_strdup (item->camera);
  if (feed->encoded != item->encoded) {
    /* New caps: what came before says nothing about what comes now */
    g_clear_pointer (&feed->key, g_bytes_unref);
    feed->encoded = item->encoded;
  }
  if (feed->latest)
    g_bytes_unref (feed->latest);
  feed->latest = g_bytes_ref (item->frame);
  feed->latest_index = item->index;
  feed->latest_key = item->key;
  if (item->key && item->encoded) {
    if (feed->key)
      g_bytes_unref (feed->key);
    feed->key = g_bytes_ref (item->frame);
    feed->key_index = item->index;
  }
}

/* Hands the frames the streaming threads left to every client, in order */
static gboolean
gst_websocket_sink_dispatch (gpointer user_data)
{
  GstWebSocketSink *self = user_data;
  PendingFrame *item;
  GList *l;

  g_mutex_lock (&self->lock);
  g_source_unref (self->dispatch_source);
  self->dispatch_source = NULL;
  while ((item = g_queue_pop_head (&self->pending)) != NULL) {
    self->dispatch_busy = TRUE;
    g_mutex_unlock (&self->lock);

    if (!self->stopping) {
      feed_take (self, item);
      /* Only this thread removes clients, and only from "closed", which
       * libsoup never emits from inside a send */
      for (l = self->clients; l != NULL; l = l->next)
        client_offer (self, l->data);
    }
    pending_frame_free (item);

    g_mutex_lock (&self->lock);
    self->dispatch_busy = FALSE;
  }
  /* an EOS may be waiting for the frames to be taken */
  g_cond_broadcast (&self->eos_cond);
  g_mutex_unlock (&self->lock);

  return G_SOURCE_REMOVE;
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
  client->feeds = g_hash_table_new_full (NULL, NULL, NULL, g_free);

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
  GList *clients, *feeds, *l;
  GMainContext *context;

  g_mutex_lock (&self->lock);
  clients = self->clients;
  self->clients = NULL;
  feeds = self->feeds;
  self->feeds = NULL;
  if (self->dispatch_source) {
    g_source_destroy (self->dispatch_source);
    g_source_unref (self->dispatch_source);
    self->dispatch_source = NULL;
  }
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_frame_free);
  /* No more frames for the server thread from here on */
  context = self->context;
  self->context = NULL;
  g_mutex_unlock (&self->lock);

  if (context)
    g_main_context_push_thread_default (context);
  for (l = clients; l != NULL; l = l->next)
    client_free (l->data);
  g_list_free (clients);
  g_clear_object (&self->server);
  if (context)
    g_main_context_pop_thread_default (context);

  g_list_free_full (feeds, (GDestroyNotify) feed_free);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  if (context)
    g_main_context_unref (context);
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
  GList *l;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  port = self->port;
  g_clear_pointer (&self->stats_snapshot, gst_structure_free);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->frames_received = 0;
  self->frames_dropped = 0;
  self->clients_accepted = 0;
  self->clients_refused = 0;
  self->eos_posted = FALSE;
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT_CAST (self)->sinkpads; l != NULL; l = l->next) {
    GstWebSocketSinkPad *pad = l->data;

    pad->frames_received = pad->key_frames = pad->key_unit_requests = 0;
    pad->eos = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->lock);
  self->next_client_id = 0;
  self->stopping = FALSE;

  inet = resolve_address (address, &err);
  if (inet == NULL)
    goto resolve_failed;
  sockaddr = g_inet_socket_address_new (inet, port);
  g_object_unref (inet);

  g_mutex_lock (&self->lock);
  self->context = g_main_context_new ();
  g_mutex_unlock (&self->lock);
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
