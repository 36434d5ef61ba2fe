/* GStreamer Redis Streams elements
 * Copyright (C) 2026 The gst-redis-streams authors
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
 * SECTION:element-redisstreamsink
 * @title: redisstreamsink
 * @see_also: redisstreamsrc
 *
 * Writes every buffer it receives as one entry of a Redis stream, with one
 * `XADD` per buffer, sent at once: no batching and no timer. The entry
 * carries the payload (LZ4-compressed or as it is), the caps, PTS, DTS,
 * duration, buffer flags, a sequence number, the capture wall-clock time
 * and the region-of-interest metas (detections) as JSON, so that
 * redisstreamsrc or any other Redis client can read it back. Every `XADD`
 * also trims the stream (#GstRedisStreamSink:maxlen,
 * #GstRedisStreamSink:max-bytes, #GstRedisStreamSink:retention).
 *
 * The server is set with #GstRedisStreamSink:host and
 * #GstRedisStreamSink:port (or #GstRedisStreamSink:socket-path, or
 * #GstRedisStreamSink:sentinels); a Redis Cluster is found from any node.
 *
 * Every reply is read and checked before the next buffer is rendered. A
 * buffer read by a redisstreamsrc carries its entry: once it is stored the
 * sink tells the source, which then acknowledges the entry, so a pipeline
 * `redisstreamsrc ! ... ! redisstreamsink` acknowledges a frame only after
 * its result was stored. With #GstRedisStreamSink:exactly-once the frame is
 * added and its input entry acknowledged in one atomic script. The sink
 * does not synchronise to the clock by default (#GstBaseSink:sync is
 * %FALSE) and keeps no last sample.
 *
 * When the connection is lost the sink posts a warning saying what happens
 * to frames meanwhile (#GstRedisStreamSink:on-disconnect), reconnects by
 * itself for up to #GstRedisStreamSink:reconnect-timeout, and posts an info
 * message once reconnected. A server that cannot be reached or refuses the
 * credentials makes the element fail to start; a command Redis refuses is
 * an error. Every message carries the server and the stream as details
 * (`server`, `stream`).
 *
 * The redisstreamsink reference in the project documentation
 * (https://github.com/gst-redis-streams/gst-redis-streams) has the whole
 * story: the entry format, trimming, outages, exactly-once, every message
 * with its code, and every statistic.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! redisstreamsink host=127.0.0.1 port=6379 stream=video-frames
 * ]| Writes raw 640x480 frames, LZ4-compressed, to the stream video-frames.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! jpegenc ! redisstreamsink socket-path=/run/redis/redis.sock stream=camera-1 maxlen=300
 * ]| Writes JPEG frames (not compressed again) over a unix socket and keeps
 * about the last 300 in Redis.
 * |[
 * gst-launch-1.0 redisstreamsrc stream=video-frames group=processors ! frameproc operation=motion ! redisstreamsink stream=processed-frames
 * ]| A processing stage: each frame is acknowledged on video-frames only once
 * its result is stored in processed-frames.
 *
 * Since: 1.0
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisstreamsink.h"
#include "gstredisstreamselements.h"
#include "gstredisconnection.h"
#include "gstrediscancellable.h"
#include "gstredisoutage.h"
#include "gstredisentry.h"
#include "gstrediswriter.h"
#include "gstrediskeyunit.h"
#include "gstredismetrics.h"
#include "gstredisticket.h"

#include <gst/video/video.h>

#include <string.h>

GST_DEBUG_CATEGORY (gst_redis_stream_sink_debug);
#define GST_CAT_DEFAULT gst_redis_stream_sink_debug

#define DEFAULT_MAXLEN 1000
#define DEFAULT_MAX_BYTES (G_GUINT64_CONSTANT (64) * 1024 * 1024)
#define DEFAULT_COMPRESSION GST_REDIS_COMPRESSION_AUTO
#define DEFAULT_LZ4_ACCELERATION 1
#define DEFAULT_ON_DISCONNECT GST_REDIS_DISCONNECT_AUTO
#define DEFAULT_MAX_BUFFERED 100
#define DEFAULT_WIRE_FORMAT GST_REDIS_ENTRY_VERSION
#define DEFAULT_EXACTLY_ONCE FALSE
/* exactly-once: this many frames in a row found done already, none stored,
 * at start: the input stream is not on this server */
#define UNCONFIRMED_LIMIT 16

typedef enum
{
  GST_REDIS_DISCONNECT_DROP,
  GST_REDIS_DISCONNECT_BUFFER,
  GST_REDIS_DISCONNECT_WAIT,
  GST_REDIS_DISCONNECT_AUTO,
} GstRedisDisconnectPolicy;

#define GST_TYPE_REDIS_DISCONNECT_POLICY (gst_redis_disconnect_policy_get_type ())
/**
 * GstRedisDisconnectPolicy:
 *
 * What redisstreamsink does with frames while Redis cannot be reached
 * (#GstRedisStreamSink:on-disconnect).
 *
 * Since: 1.0
 */
static GType
gst_redis_disconnect_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_REDIS_DISCONNECT_DROP, "Drop frames while disconnected (counted)",
        "drop"},
    {GST_REDIS_DISCONNECT_BUFFER, "Keep up to max-buffered frames while "
          "disconnected and send them after reconnecting", "buffer"},
    {GST_REDIS_DISCONNECT_WAIT, "Hold the frame until it is stored: block "
          "while reconnecting, an error after reconnect-timeout", "wait"},
    {GST_REDIS_DISCONNECT_AUTO, "wait when the frames come from a "
          "redisstreamsrc (which acknowledges them once stored), drop "
          "otherwise", "auto"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRedisDisconnectPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

enum
{
  PROP_MAXLEN = GST_REDIS_PROP_LAST,
  PROP_MAX_BYTES,
  PROP_RETENTION,
  PROP_COMPRESSION,
  PROP_LZ4_ACCELERATION,
  PROP_ON_DISCONNECT,
  PROP_MAX_BUFFERED,
  PROP_KEY_UNIT_REQUESTS,
  PROP_METRICS_INTERVAL,
  PROP_TRACE_INTERVAL,
  PROP_WIRE_FORMAT,
  PROP_EXACTLY_ONCE,
  PROP_STATS,
};

struct _GstRedisStreamSink
{
  GstBaseSink parent;

  /* properties, under the object lock */
  GstRedisSettings settings;
  guint maxlen;
  guint64 max_bytes;
  guint retention;
  GstRedisCompression compression;
  gint lz4_acceleration;
  GstRedisDisconnectPolicy on_disconnect;
  guint max_buffered;
  gboolean key_unit_requests;
  guint wire_format;
  gboolean exactly_once;

  /* what unlock () cancels */
  GstRedisCanceller canceller;

  /* the settings in use, copied at start () */
  GstRedisSettings active;
  /* the XADD of each frame, its connection and its counters */
  GstRedisWriter writer;
  /* reports for pipelines/exporter, sent with the XADDs */
  GstRedisMetrics metrics;

  /* streaming thread only, between start () and stop () */
  /* readers' key frame requests (gstrediskeyunit.h) */
  GstRedisKeyUnitListener *listener;
  guint key_unit_count;
  GstRedisOutage outage;
  /* what this outage does with frames (auto resolved when it began) */
  GstRedisDisconnectPolicy outage_policy;
  /* frames kept during an outage, under the object lock */
  GQueue held;
  /* what the sources upstream learn from this sink (gstredisticket.h) */
  GstRedisStoreMark *mark;
  /* exactly-once in use; a buffer carried an entry meta (a source waits
   * for it, also across an appsrc); sources that answered the
   * acknowledgement query; a script stored a frame, or found it done */
  gboolean active_exactly_once;
  gboolean tracked_seen;
  guint sources;
  gchar *source_stream, *source_group;
  gboolean untracked_warned;
  gboolean confirmed;
  guint unconfirmed;

  /* statistics, under the object lock; kept after stop () */
  guint64 key_unit_events;
  guint64 dropped;
  guint64 duplicates_suppressed;
  guint64 untracked;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

#define gst_redis_stream_sink_parent_class parent_class
G_DEFINE_TYPE (GstRedisStreamSink, gst_redis_stream_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (redisstreamsink, "redisstreamsink",
    GST_RANK_NONE, GST_TYPE_REDIS_STREAM_SINK,
    redis_streams_element_init (plugin));

static void gst_redis_stream_sink_finalize (GObject * object);
static void gst_redis_stream_sink_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_redis_stream_sink_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_redis_stream_sink_start (GstBaseSink * bsink);
static gboolean gst_redis_stream_sink_stop (GstBaseSink * bsink);
static gboolean gst_redis_stream_sink_unlock (GstBaseSink * bsink);
static gboolean gst_redis_stream_sink_unlock_stop (GstBaseSink * bsink);
static gboolean gst_redis_stream_sink_set_caps (GstBaseSink * bsink,
    GstCaps * caps);
static GstFlowReturn gst_redis_stream_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static GstStateChangeReturn gst_redis_stream_sink_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_redis_stream_sink_ask_sources (GstRedisStreamSink * self);

/* How each XADD trims the stream. */
static void
gst_redis_stream_sink_install_trim_properties (GObjectClass * gobject_class)
{
  /**
   * GstRedisStreamSink:maxlen:
   *
   * Every `XADD` trims the stream to about this many entries (`MAXLEN ~`,
   * which lets Redis trim whole nodes, so a few more may stay). Not used when
   * #GstRedisStreamSink:retention is set. Whichever bound of this,
   * #GstRedisStreamSink:max-bytes and #GstRedisStreamSink:retention is reached
   * first wins. 0 keeps every entry (as far as the other bounds allow).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAXLEN,
      g_param_spec_uint ("maxlen", "Maximum Length",
          "Trim the stream to about this many entries on every XADD "
          "(MAXLEN ~); 0 keeps every entry", 0, G_MAXUINT, DEFAULT_MAXLEN,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSink:max-bytes:
   *
   * The most bytes of entries the stream keeps, the role of Kafka's
   * `retention.bytes`: every `XADD` trims the stream (with the same
   * `MAXLEN ~` or `MINID ~` that #GstRedisStreamSink:maxlen or
   * #GstRedisStreamSink:retention use, no extra command) to the newest
   * entries whose sizes add up to at most this, counted as Redis stores
   * them (a large entry: compressed payload, caps and the other fields,
   * plus 64 bytes, rounded up to the size classes of Redis's allocator,
   * plus 640 bytes for its stream node; small entries such as audio
   * packets: their share of the 4 KiB node they share: what `MEMORY USAGE`
   * reports). Whichever
   * bound is reached first wins. The default, 64 MiB, bounds a default
   * pipeline at any resolution: 21 raw 1080p I420 frames, 42 at 720p, 127
   * at 640x480; an H.264 stream reaches #GstRedisStreamSink:maxlen first.
   * 0 turns the byte bound off.
   *
   * Entries the stream held before this sink started are counted at the
   * size of the sink's current entry until its own entries fill the
   * budget.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BYTES,
      g_param_spec_uint64 ("max-bytes", "Maximum Bytes",
          "Trim the stream on every XADD to the newest entries whose sizes "
          "add up to at most this many bytes (with maxlen/retention, the "
          "first bound reached wins); 0 turns the byte bound off", 0,
          G_MAXUINT64, DEFAULT_MAX_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSink:retention:
   *
   * When set, every `XADD` trims the entries older than this many
   * milliseconds (`MINID ~`, from the entry ids' millisecond part, which is the
   * Redis server's clock; the sink's clock must be close to it, as on
   * NTP-synchronised hosts) instead of trimming by
   * #GstRedisStreamSink:maxlen. 0 trims by count.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_RETENTION,
      g_param_spec_uint ("retention", "Retention",
          "Trim entries older than this many milliseconds on every XADD "
          "(MINID ~) instead of by count; 0 trims by maxlen", 0, G_MAXINT,
          0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

/* How frames are written, and what happens to them during an outage. */
static void
gst_redis_stream_sink_install_write_properties (GObjectClass * gobject_class)
{
  /**
   * GstRedisStreamSink:compression:
   *
   * How payloads are compressed. `none`: as they are; `lz4`: always LZ4;
   * `auto` (default): formats that are compressed already (image/jpeg,
   * video/x-h264, ...) go as they are, and raw media is compressed with LZ4
   * only while it pays: a frame that shrinks less than 1.5x makes the next 300
   * go uncompressed, then one is tried again (a frame of 256 KiB or more on
   * 64 KiB from its middle first: when those do not shrink, the frame goes
   * as it is). A camera's raw frames shrink 1.05-1.25x and so go
   * uncompressed; synthetic pictures shrink 10x.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_COMPRESSION,
      g_param_spec_enum ("compression", "Compression",
          "How frame payloads are compressed", GST_TYPE_REDIS_COMPRESSION,
          DEFAULT_COMPRESSION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSink:lz4-acceleration:
   *
   * LZ4 fast-mode acceleration: 1 compresses best, higher values trade
   * ratio for speed.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_LZ4_ACCELERATION,
      g_param_spec_int ("lz4-acceleration", "LZ4 Acceleration",
          "LZ4 fast-mode acceleration: 1 compresses best, higher values are "
          "faster and compress less", 1, 65537, DEFAULT_LZ4_ACCELERATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSink:on-disconnect:
   *
   * What happens to frames while the connection is lost. `auto` (default):
   * `wait` when the frames come from a redisstreamsrc (it answers a query the
   * sink sends upstream, through filters, converters and queues, or the
   * frames carry its entry meta), which waits for each frame to be stored;
   * `drop` otherwise (a camera). `wait`: render () returns only once the frame is stored,
   * reconnecting meanwhile (interruptible by a flush or a state change); after
   * #GstRedisStreamSink:reconnect-timeout an error, and the frame is not
   * reported stored. `drop`: dropped and counted in `dropped-disconnected`.
   * `buffer`: keep up to #GstRedisStreamSink:max-buffered frames in memory,
   * oldest dropped first, and write them in order once reconnected; frames kept
   * are written with the caps current when they are sent. With `drop` or
   * `buffer` render () returns for frames not stored: behind a redisstreamsrc
   * (ack-mode=done) a frame kept stays pending until it is written (read
   * again if the process stops first), a frame dropped is acknowledged as
   * dropped on purpose, and lost.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_ON_DISCONNECT,
      g_param_spec_enum ("on-disconnect", "On Disconnect",
          "What happens to frames while the connection to Redis is lost",
          GST_TYPE_REDIS_DISCONNECT_POLICY, DEFAULT_ON_DISCONNECT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSink:max-buffered:
   *
   * Frames kept in memory during an outage with `on-disconnect=buffer`;
   * when full, the oldest is dropped (counted in `dropped-disconnected`).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAX_BUFFERED,
      g_param_spec_uint ("max-buffered", "Maximum Buffered",
          "Frames kept in memory while disconnected with "
          "on-disconnect=buffer; older ones are dropped (counted)", 0, 100000,
          DEFAULT_MAX_BUFFERED, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_DISCONNECT_POLICY, 0);
  /**
   * GstRedisStreamSink:wire-format:
   *
   * The version of the entry format written. 2 (the
   * default): the caps are stored once per stream, in the hash
   * `<stream>:info` (field `caps:<id>`, written before the first entry
   * that uses them, which needs `HSETNX` and `HGET` on that key), and each
   * entry carries their short id: an Opus packet of 161 bytes takes about
   * 230 bytes in Redis instead of 650. 1: the caps in every entry, for
   * readers older than version 2 (they skip version 2 entries with a
   * warning naming the version).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_WIRE_FORMAT,
      g_param_spec_uint ("wire-format", "Wire Format",
          "Version of the entry format to write: 2 stores the caps once in "
          "<stream>:info, 1 writes them into every entry (for old readers)",
          GST_REDIS_ENTRY_VERSION_1, GST_REDIS_ENTRY_VERSION_2,
          DEFAULT_WIRE_FORMAT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstRedisStreamSink:key-unit-requests:
   *
   * Listen for readers' key frame requests (`SUBSCRIBE <stream>:control`,
   * on a second connection) and send a GstForceKeyUnit event upstream for
   * each (at most one every half second), so that an encoder with a long
   * GOP emits a key frame for a reader that just joined or lost frames
   * (redisstreamsrc's #GstRedisStreamSrc:request-key-units). Needs the
   * right to subscribe to that channel; without it the sink warns once and
   * goes on.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_KEY_UNIT_REQUESTS,
      g_param_spec_boolean ("key-unit-requests", "Key Unit Requests",
          "Turn readers' key frame requests (SUBSCRIBE <stream>:control) "
          "into GstForceKeyUnit events for the encoder upstream", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstRedisStreamSink:exactly-once:
   *
   * Store each frame that carries an entry of a redisstreamsrc (its
   * "GstRedisEntryMeta") with one script that adds the output entry only
   * if the input entry is still pending and acknowledges it in the same
   * atomic step (`EVALSHA`, like Kafka's transactional
   * consume-transform-produce): after a crash, a lost reply or a take-over
   * by another worker, each input frame is in the output stream exactly
   * once. A frame whose input was acknowledged before is not added again
   * (counted in `duplicates-suppressed`). Needs both streams on one Redis
   * server (in a Cluster, in one hash slot: name them with one hash tag,
   * `{camera-1}:video-frames` and `{camera-1}:processed-frames`), the source
   * in `ack-mode=done`, and a user allowed to run `EVALSHA` and `EVAL`;
   * a configuration that cannot be atomic is an error naming the fix.
   * Frames without an entry meta are stored with a plain `XADD` (counted in
   * `untracked`, one warning). Costs a copy of the frame inside Redis.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_EXACTLY_ONCE,
      g_param_spec_boolean ("exactly-once", "Exactly Once",
          "Add each frame and acknowledge its input entry in one atomic "
          "script, so that each input frame is stored exactly once",
          DEFAULT_EXACTLY_ONCE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstRedisStreamSink:stats:
   *
   * Counters, in a #GstStructure named
   * `application/x-redis-stream-sink-stats`, kept after the element stops: the
   * fields of gst_base_sink_get_stats () (`average-rate`, `dropped`,
   * `rendered`) plus `frames` (#guint64, entries added), `bytes-in` (#guint64,
   * payload bytes received), `bytes-out` (#guint64, payload bytes written to
   * Redis after compression), `compression-ratio` (#gdouble, bytes-in /
   * bytes-out), `errors` (#guint64, commands Redis refused), `retained-bytes`
   * (#guint64, what the sink's newest entries take in Redis, as counted for
   * #GstRedisStreamSink:max-bytes), `dropped-disconnected` (#guint64, frames
   * dropped during outages), `buffered` (#guint, frames held right now),
   * `reconnects` (#guint64, new connections after one was lost or closed by
   * Redis), `disconnected-time` (#guint64, milliseconds spent without a
   * connection since start, the outage going on included), `last-entry-id`
   * (#gchararray), `connected` (#gboolean),
   * `last-command-time` (#gint64), `key-unit-requests` (#guint64,
   * GstForceKeyUnit events sent upstream for readers' requests),
   * `duplicates-suppressed` (#guint64, with
   * #GstRedisStreamSink:exactly-once: frames not added because their input
   * entry was acknowledged before) and `untracked` (#guint64, with
   * exactly-once: frames without an entry meta, stored with a plain XADD).
   *
   * The sink talks to Redis only when a frame comes (or to reconnect):
   * `connected` is the state of the connection after the last exchange with
   * Redis, and `last-command-time` when that was, in microseconds since the
   * Unix epoch (g_get_real_time (); 0 before the first). A sink that gets no
   * frames does not notice an outage until the next one.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters of frames and bytes written, compression ratio, errors "
          "and the last entry id", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_redis_metrics_install_property (gobject_class, PROP_METRICS_INTERVAL);
  gst_redis_metrics_install_trace_property (gobject_class, PROP_TRACE_INTERVAL);
}

static void
gst_redis_stream_sink_class_init (GstRedisStreamSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_redis_stream_sink_finalize;
  gobject_class->set_property = gst_redis_stream_sink_set_property;
  gobject_class->get_property = gst_redis_stream_sink_get_property;

  gst_redis_settings_install_properties (gobject_class);
  gst_redis_stream_sink_install_trim_properties (gobject_class);
  gst_redis_stream_sink_install_write_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Redis stream sink", "Sink/Network",
      "Writes each buffer as one entry of a Redis stream (XADD)",
      "The gst-redis-streams authors");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_redis_stream_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_redis_stream_sink_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_redis_stream_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_redis_stream_sink_unlock_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_redis_stream_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_redis_stream_sink_render);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_redis_stream_sink_change_state);

  GST_DEBUG_CATEGORY_INIT (gst_redis_stream_sink_debug, "redisstreamsink", 0,
      "Redis stream sink");
}

static void
gst_redis_stream_sink_init (GstRedisStreamSink * self)
{
  gst_redis_settings_init (&self->settings);
  gst_redis_settings_init (&self->active);
  self->maxlen = DEFAULT_MAXLEN;
  self->max_bytes = DEFAULT_MAX_BYTES;
  self->compression = DEFAULT_COMPRESSION;
  self->lz4_acceleration = DEFAULT_LZ4_ACCELERATION;
  self->on_disconnect = DEFAULT_ON_DISCONNECT;
  self->max_buffered = DEFAULT_MAX_BUFFERED;
  self->key_unit_requests = TRUE;
  self->wire_format = DEFAULT_WIRE_FORMAT;
  self->exactly_once = DEFAULT_EXACTLY_ONCE;
  self->mark = gst_redis_store_mark_new ();
  g_queue_init (&self->held);
  gst_redis_canceller_init (&self->canceller, GST_OBJECT (self));
  gst_redis_writer_init (&self->writer, GST_ELEMENT (self), &self->active);
  gst_redis_metrics_init (&self->metrics, GST_ELEMENT (self), &self->active,
      "sink");
  self->writer.metrics = &self->metrics;

  /* Frames are sent as soon as they arrive, whatever their timestamps:
   * pacing a processing stage by them would only add latency. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* The last sample would keep the last frame, and so its entry's ticket
   * (gstredisticket.h), until the next frame: its acknowledgement would
   * wait for that. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_redis_stream_sink_finalize (GObject * object)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (object);

  gst_redis_settings_clear (&self->settings);
  gst_redis_settings_clear (&self->active);
  gst_redis_canceller_clear (&self->canceller);
  gst_redis_writer_clear (&self->writer);
  gst_redis_metrics_clear (&self->metrics);
  gst_redis_store_mark_unref (self->mark);
  g_free (self->source_stream);
  g_free (self->source_group);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_redis_stream_sink_get_stats (GstRedisStreamSink * self)
{
  GstStructure *s = gst_base_sink_get_stats (GST_BASE_SINK (self));
  GstRedisWriteStats *w = &self->writer.stats;

  gst_structure_set_name (s, "application/x-redis-stream-sink-stats");
  GST_OBJECT_LOCK (self);
  gst_structure_set (s,
      "frames", G_TYPE_UINT64, w->frames,
      "bytes-in", G_TYPE_UINT64, w->bytes_in,
      "bytes-out", G_TYPE_UINT64, w->bytes_out,
      "compression-ratio", G_TYPE_DOUBLE, w->bytes_out ?
      (gdouble) w->bytes_in / w->bytes_out : 1.0,
      "errors", G_TYPE_UINT64, w->errors,
      "key-unit-requests", G_TYPE_UINT64, self->key_unit_events,
      "retained-bytes", G_TYPE_UINT64,
      gst_redis_retention_get_bytes (self->writer.kept),
      "dropped-disconnected", G_TYPE_UINT64, self->dropped,
      "buffered", G_TYPE_UINT, g_queue_get_length (&self->held),
      "reconnects", G_TYPE_UINT64,
      self->outage.reconnects + w->stale_reconnects,
      "disconnected-time", G_TYPE_UINT64,
      gst_redis_outage_get_down_time (&self->outage),
      "last-entry-id", G_TYPE_STRING, w->last_id,
      "connected", G_TYPE_BOOLEAN, w->connected,
      "last-command-time", G_TYPE_INT64, w->last_command_time,
      "duplicates-suppressed", G_TYPE_UINT64, self->duplicates_suppressed,
      "untracked", G_TYPE_UINT64, self->untracked, NULL);
  GST_OBJECT_UNLOCK (self);
  return s;
}

static void
gst_redis_stream_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (object);

  if (gst_redis_settings_set_property (&self->settings, object, prop_id, value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MAXLEN:
      self->maxlen = g_value_get_uint (value);
      break;
    case PROP_MAX_BYTES:
      self->max_bytes = g_value_get_uint64 (value);
      break;
    case PROP_RETENTION:
      self->retention = g_value_get_uint (value);
      break;
    case PROP_COMPRESSION:
      self->compression = g_value_get_enum (value);
      break;
    case PROP_LZ4_ACCELERATION:
      self->lz4_acceleration = g_value_get_int (value);
      break;
    case PROP_ON_DISCONNECT:
      self->on_disconnect = g_value_get_enum (value);
      break;
    case PROP_MAX_BUFFERED:
      self->max_buffered = g_value_get_uint (value);
      break;
    case PROP_KEY_UNIT_REQUESTS:
      self->key_unit_requests = g_value_get_boolean (value);
      break;
    case PROP_METRICS_INTERVAL:
      self->metrics.interval = g_value_get_uint (value);
      break;
    case PROP_TRACE_INTERVAL:
      self->metrics.trace_interval = g_value_get_uint (value);
      break;
    case PROP_WIRE_FORMAT:
      self->wire_format = g_value_get_uint (value);
      break;
    case PROP_EXACTLY_ONCE:
      self->exactly_once = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_redis_stream_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (object);

  if (gst_redis_settings_get_property (&self->settings, object, prop_id, value))
    return;

  switch (prop_id) {
    case PROP_MAXLEN:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->maxlen);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RETENTION:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->retention);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_COMPRESSION:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->compression);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LZ4_ACCELERATION:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->lz4_acceleration);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ON_DISCONNECT:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->on_disconnect);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BUFFERED:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_buffered);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_KEY_UNIT_REQUESTS:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->key_unit_requests);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_METRICS_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->metrics.interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TRACE_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->metrics.trace_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WIRE_FORMAT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->wire_format);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EXACTLY_ONCE:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->exactly_once);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_redis_stream_sink_get_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}


/* Readers asked for a key frame: ask the encoder upstream. */
static void
gst_redis_stream_sink_poll_key_units (GstRedisStreamSink * self,
    GCancellable * cancellable)
{
  GError *refused = NULL;

  if (gst_redis_key_unit_listener_poll (self->listener, cancellable,
          g_get_monotonic_time (), &refused)) {
    GstEvent *event = gst_video_event_new_upstream_force_key_unit
        (GST_CLOCK_TIME_NONE, TRUE, ++self->key_unit_count);

    GST_DEBUG_OBJECT (self, "a reader of stream \"%s\" asks for a key frame",
        self->active.stream);
    GST_OBJECT_LOCK (self);
    self->key_unit_events++;
    GST_OBJECT_UNLOCK (self);
    gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  }
  if (refused) {
    GST_REDIS_ELEMENT_WARNING (self, &self->active, RESOURCE, NOT_AUTHORIZED,
        ("Readers of stream \"%s\" cannot ask for key frames: %s. They "
            "start at the next key frame the encoder sends. Allow "
            "+subscribe and the channel &%s:control in the user's ACL, or "
            "set key-unit-requests=false.", self->active.stream,
            self->active.stream, refused->message), (NULL));
    g_error_free (refused);
  }
}

static gboolean
gst_redis_stream_sink_start (GstBaseSink * bsink)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (bsink);
  GCancellable *cancellable;
  GError *err = NULL;
  guint wire_format;

  GST_OBJECT_LOCK (self);
  gst_redis_settings_copy (&self->active, &self->settings);
  wire_format = self->wire_format;
  gst_redis_writer_reset_stats (&self->writer);
  self->dropped = 0;
  self->key_unit_events = 0;
  self->duplicates_suppressed = self->untracked = 0;
  self->active_exactly_once = self->exactly_once;
  self->tracked_seen = self->untracked_warned = self->confirmed = FALSE;
  self->sources = self->unconfirmed = 0;
  gst_redis_outage_init (&self->outage, GST_ELEMENT (self), &self->active,
      GST_RESOURCE_ERROR_WRITE);
  GST_OBJECT_UNLOCK (self);

  if (!gst_redis_settings_validate (&self->active, &err))
    goto failed;
  gst_redis_metrics_start (&self->metrics, NULL, NULL, 0);

  cancellable = gst_redis_canceller_get (&self->canceller);
  if (!gst_redis_writer_start (&self->writer, wire_format, cancellable, &err)) {
    g_object_unref (cancellable);
    goto failed;
  }
  if (self->key_unit_requests) {
    self->listener = gst_redis_key_unit_listener_new (&self->active);
    gst_redis_stream_sink_poll_key_units (self, cancellable);
  }
  g_object_unref (cancellable);
  gst_redis_writer_note_command (&self->writer);

  /* the sources upstream learn from now on that this sink stores their
   * frames (another query goes with the caps, for links made later) */
  gst_redis_store_mark_set_down (self->mark, FALSE);
  if (!gst_redis_stream_sink_ask_sources (self)) {
    gst_redis_stream_sink_stop (bsink);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "writing to stream \"%s\" on Redis at %s",
      self->active.stream, gst_redis_connection_describe (self->writer.conn));
  return TRUE;

  /* ERRORS */
failed:
  {
    GST_REDIS_ELEMENT_START_FAILED (self, err, &self->active);
    gst_redis_stream_sink_stop (bsink);
    return FALSE;
  }
}

/* Going down: frames released from now on, by this sink's flush or by the
 * elements before it (which change state after it), were not dropped on
 * purpose; their sources leave them pending. */
static GstStateChangeReturn
gst_redis_stream_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (element);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_redis_store_mark_set_down (self->mark, TRUE);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_redis_stream_sink_stop (GstBaseSink * bsink)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (bsink);

  gst_redis_store_mark_set_down (self->mark, TRUE);
  gst_redis_writer_stop (&self->writer);
  g_clear_pointer (&self->listener, gst_redis_key_unit_listener_free);
  GST_OBJECT_LOCK (self);
  if (!g_queue_is_empty (&self->held))
    GST_WARNING_OBJECT (self, "stopping with %u frames never sent",
        g_queue_get_length (&self->held));
  g_queue_clear_full (&self->held, (GDestroyNotify) gst_buffer_unref);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_redis_stream_sink_unlock (GstBaseSink * bsink)
{
  return gst_redis_canceller_unlock (&GST_REDIS_STREAM_SINK (bsink)->canceller);
}

static gboolean
gst_redis_stream_sink_unlock_stop (GstBaseSink * bsink)
{
  return gst_redis_canceller_unlock_stop (&GST_REDIS_STREAM_SINK
      (bsink)->canceller);
}

/* Asks upstream for the redisstreamsrc elements whose frames come here:
 * they learn that a sink stores them (their frames dropped on the way are
 * dropped on purpose), and this sink learns that sources wait for its
 * frames (on-disconnect=auto). FALSE, with an error posted, for a source
 * that acknowledges once pushed behind an exactly-once sink. */
static gboolean
gst_redis_stream_sink_ask_sources (GstRedisStreamSink * self)
{
  GstQuery *query = gst_redis_ack_query_new (GST_ELEMENT (self), self->mark);
  gchar *stream = NULL, *group = NULL;
  gboolean pushed = FALSE, ok = TRUE;

  gst_pad_peer_query (GST_BASE_SINK_PAD (self), query);
  self->sources = gst_redis_ack_query_parse (query, &stream, &group, &pushed);
  gst_query_unref (query);
  GST_DEBUG_OBJECT (self, "%u redisstreamsrc upstream", self->sources);
  if (self->sources > 0) {
    g_free (self->source_stream);
    self->source_stream = g_strdup (stream);
    g_free (self->source_group);
    self->source_group = g_strdup (group);
  }
  if (self->active_exactly_once && pushed) {
    GST_REDIS_ELEMENT_ERROR (self, &self->active, RESOURCE, SETTINGS,
        ("exactly-once needs the redisstreamsrc upstream (stream \"%s\", "
            "group \"%s\") in ack-mode=done: with ack-mode=pushed it "
            "acknowledges frames itself before they are stored.", stream,
            group), (NULL));
    ok = FALSE;
  }
  g_free (stream);
  g_free (group);
  return ok;
}

static gboolean
gst_redis_stream_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (bsink);

  const gchar *why = NULL;

  if (!gst_redis_stream_sink_ask_sources (self))
    return FALSE;

  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT, caps);
  if (!gst_redis_writer_set_caps (&self->writer, caps, &why)) {
    gchar *str = gst_caps_to_string (caps);

    GST_REDIS_ELEMENT_ERROR (self, &self->active, STREAM, FORMAT,
        ("Cannot write to stream \"%s\": no reader could read these caps: "
            "the caps string %s.", self->active.stream, why),
        ("caps %.1000s", str));
    g_free (str);
    return FALSE;
  }
  return TRUE;
}

/* Writes one frame (gstrediswriter.c): XADD, then waits for and checks its
 * reply. Returns GST_FLOW_OK, GST_FLOW_FLUSHING, or GST_FLOW_ERROR with
 * @error set; after an error the connection is closed when it was lost
 * (retry later) and still open when Redis refused the command (a real
 * error). A flush or a pause during an attempt waits for preroll like a
 * sink waiting for its clock, then the frame is finished. */
static void
add_ticket (GstRedisTicket * ticket, gpointer tickets)
{
  g_ptr_array_add (tickets, ticket);
}

static void
ticket_stored (GstRedisTicket * ticket, gpointer mark)
{
  gst_redis_ticket_stored (ticket, mark);
}

/* What this frame's sources learn once it is stored: each of its entries
 * stored (or, by the script, acknowledged), and what the sink stored
 * last. FALSE, with @error set, when two exactly-once sinks stored one
 * entry (behind a tee): the second found it done. */
static gboolean
gst_redis_stream_sink_stored (GstRedisStreamSink * self, GstBuffer * buffer,
    GPtrArray * tickets, const GstRedisWrite * w, GError ** error)
{
  GstBaseSink *bsink = GST_BASE_SINK (self);
  GstClockTime rt;
  guint i, n;

  if (w->script) {
    for (i = 0; i < tickets->len; i++) {
      if (gst_redis_ticket_acked (tickets->pdata[i], self->mark) ||
          !w->suppressed)
        continue;
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "exactly-once: entry %s of stream \"%s\" was stored and "
          "acknowledged by another exactly-once redisstreamsink of this "
          "process (a tee?): one input can have one exactly-once output. "
          "Set exactly-once=false on all but one.",
          gst_redis_ticket_get_id (tickets->pdata[i]),
          gst_redis_ticket_get_stream (tickets->pdata[i]));
      return FALSE;
    }
    n = tickets->len;
  } else {
    n = gst_redis_buffer_foreach_ticket (buffer, ticket_stored, self->mark);
  }
  if (n > 0)
    self->tracked_seen = TRUE;
  rt = bsink->segment.format == GST_FORMAT_TIME ?
      gst_segment_to_running_time (&bsink->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buffer)) : GST_CLOCK_TIME_NONE;
  gst_redis_store_mark_stored (self->mark, rt, n == 0);
  return TRUE;
}

/* exactly-once: the tickets of @buffer, or NULL (a plain XADD) when it
 * carries none: counted, with one warning. */
static GPtrArray *
gst_redis_stream_sink_exactly_once_tickets (GstRedisStreamSink * self,
    GstBuffer * buffer)
{
  GPtrArray *tickets = g_ptr_array_new ();

  if (gst_redis_buffer_foreach_ticket (buffer, add_ticket, tickets) > 0)
    return tickets;
  g_ptr_array_unref (tickets);
  GST_OBJECT_LOCK (self);
  self->untracked++;
  GST_OBJECT_UNLOCK (self);
  if (!self->untracked_warned) {
    self->untracked_warned = TRUE;
    GST_REDIS_ELEMENT_WARNING (self, &self->active, STREAM, FAILED,
        ("exactly-once: frames without an entry of a redisstreamsrc (no "
            "GstRedisEntryMeta) are stored in stream \"%s\" with a plain "
            "XADD, not exactly once: the element before this sink does not "
            "keep metas, or the application did not copy the meta from the "
            "appsink's buffer to the one it pushes into its appsrc. Counted "
            "in untracked.", self->active.stream), (NULL));
  }
  return NULL;
}

/* exactly-once: a script found the input entries of its frame done
 * already, before any frame was stored since start: over and over, it is
 * not a resend but an input stream on another server with the same name. */
static gboolean
gst_redis_stream_sink_check_confirmed (GstRedisStreamSink * self,
    const GstRedisWrite * w, GError ** error)
{
  if (!w->script)
    return TRUE;
  if (!w->suppressed) {
    self->confirmed = TRUE;
    return TRUE;
  }
  GST_OBJECT_LOCK (self);
  self->duplicates_suppressed++;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": its input %s was "
      "acknowledged before, not added again", w->seq, self->writer.inputs);
  if (self->confirmed || ++self->unconfirmed < UNCONFIRMED_LIMIT)
    return TRUE;
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "exactly-once: the input entries of the first %u frames were not "
      "pending on the server of stream \"%s\" (%s): the input stream %s is "
      "probably on another Redis server. exactly-once needs both streams on "
      "one server; write them to one, or set exactly-once=false.",
      UNCONFIRMED_LIMIT, self->active.stream,
      gst_redis_connection_describe (self->writer.conn), self->writer.inputs);
  return FALSE;
}

static GstFlowReturn
gst_redis_stream_sink_write (GstRedisStreamSink * self, GstBuffer * buffer,
    GError ** error)
{
  GstRedisWriteOptions options;
  GstRedisWrite w;
  GstFlowReturn ret = GST_FLOW_OK;
  GstMapInfo map;
  GError *err = NULL;
  GPtrArray *tickets = NULL;
  gboolean prepared;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    goto map_failed;

  GST_OBJECT_LOCK (self);
  options.maxlen = self->maxlen;
  options.max_bytes = self->max_bytes;
  options.retention = self->retention;
  options.compression = self->compression;
  options.lz4_acceleration = self->lz4_acceleration;
  GST_OBJECT_UNLOCK (self);
  if (self->active_exactly_once)
    tickets = gst_redis_stream_sink_exactly_once_tickets (self, buffer);
  if (tickets)
    prepared = gst_redis_writer_prepare_exactly_once (&self->writer, buffer,
        &map, &options, tickets, &w, &err);
  else
    prepared = gst_redis_writer_prepare (&self->writer, buffer, &map,
        &options, &w, &err);
  if (!prepared)
    goto encode_failed;

  for (;;) {
    GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);
    gboolean ok = gst_redis_writer_attempt (&self->writer, &w, cancellable,
        &err);

    g_object_unref (cancellable);
    if (ok)
      break;
    if (gst_redis_writer_should_resend (&self->writer, &w, err)) {
      g_clear_error (&err);
      continue;
    }
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      goto write_failed;
    /* Flushing or going to PAUSED: wait like a sink waiting for its clock,
     * then finish this frame (its XADD may already be on its way). */
    g_clear_error (&err);
    if (!gst_redis_connection_is_open (self->writer.conn))
      w.sent = FALSE;
    ret = gst_base_sink_wait_preroll (GST_BASE_SINK (self));
    if (ret != GST_FLOW_OK) {
      GST_DEBUG_OBJECT (self, "flushing, frame %" G_GUINT64_FORMAT " %s",
          w.seq, w.sent ? "sent, reply pending" : "not sent");
      gst_buffer_unmap (buffer, &map);
      g_clear_pointer (&tickets, g_ptr_array_unref);
      return ret;
    }
  }

  if (w.suppressed)
    gst_redis_writer_note_command (&self->writer);
  else {
    gst_redis_writer_commit (&self->writer, &w);
    gst_redis_metrics_observe_stored (&self->metrics, buffer,
        self->writer.stats.last_id);
  }
  gst_buffer_unmap (buffer, &map);
  if (!gst_redis_stream_sink_check_confirmed (self, &w, &err) ||
      !gst_redis_stream_sink_stored (self, buffer, tickets, &w, &err)) {
    g_clear_pointer (&tickets, g_ptr_array_unref);
    g_propagate_error (error, err);
    return GST_FLOW_ERROR;
  }
  g_clear_pointer (&tickets, g_ptr_array_unref);
  return GST_FLOW_OK;

  /* ERRORS */
map_failed:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "Could not read the buffer's memory");
    return GST_FLOW_ERROR;
  }
encode_failed:
  {
    g_propagate_prefixed_error (error, err, "Could not encode frame %"
        G_GUINT64_FORMAT ": ", w.seq);
    gst_buffer_unmap (buffer, &map);
    g_clear_pointer (&tickets, g_ptr_array_unref);
    return GST_FLOW_ERROR;
  }
write_failed:
  {
    gst_redis_writer_note_command (&self->writer);
    g_propagate_error (error, err);
    gst_buffer_unmap (buffer, &map);
    g_clear_pointer (&tickets, g_ptr_array_unref);
    return GST_FLOW_ERROR;
  }
}

/* While disconnected: keep the frame for later (on-disconnect=buffer, the
 * oldest making room) or drop it; both counted. */
static void
gst_redis_stream_sink_hold (GstRedisStreamSink * self, GstBuffer * buffer)
{
  guint max;

  GST_OBJECT_LOCK (self);
  max = self->max_buffered;
  if (self->outage_policy == GST_REDIS_DISCONNECT_BUFFER && max > 0) {
    while (g_queue_get_length (&self->held) >= max) {
      gst_buffer_unref (g_queue_pop_head (&self->held));
      self->dropped++;
    }
    g_queue_push_tail (&self->held, gst_buffer_ref (buffer));
  } else {
    self->dropped++;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Tries to connect again when the backoff allows. Returns FALSE (with
 * @error) once the outage lasted longer than reconnect-timeout. */
static gboolean
gst_redis_stream_sink_reconnect (GstRedisStreamSink * self, GError ** error)
{
  GCancellable *cancellable;
  GstRedisReconnect res;
  GError *err = NULL;

  if (!gst_redis_outage_due (&self->outage))
    return TRUE;

  cancellable = gst_redis_canceller_get (&self->canceller);
  res = gst_redis_outage_reconnect (&self->outage, self->writer.conn,
      cancellable, &err);
  g_object_unref (cancellable);
  if (res != GST_REDIS_RECONNECT_CANCELLED)
    gst_redis_writer_note_command (&self->writer);

  switch (res) {
    case GST_REDIS_RECONNECT_OK:
      gst_redis_outage_end (&self->outage, self->writer.conn, GST_REDIS_HERE);
      return TRUE;
    case GST_REDIS_RECONNECT_GAVE_UP:
      g_propagate_error (error, err);
      return FALSE;
    default:
      /* a flush or a pause interrupts the wait that comes next */
      g_clear_error (&err);
      return TRUE;
  }
}

/* What this outage does with frames. auto: wait when a redisstreamsrc
 * upstream answers the acknowledgement query, as it acknowledges each frame
 * once render () returned (with a queue in between, once the queue took
 * it), so returning for a frame not stored would lose it; drop otherwise
 * (a camera: the newest frames matter). Sets @what to a sentence for the
 * user. */
static GstRedisDisconnectPolicy
gst_redis_stream_sink_resolve_policy (GstRedisStreamSink * self, gchar ** what)
{
  GstRedisDisconnectPolicy policy;
  GstQuery *query;
  gchar *stream = NULL, *group = NULL;

  GST_OBJECT_LOCK (self);
  policy = self->on_disconnect;
  GST_OBJECT_UNLOCK (self);

  switch (policy) {
    case GST_REDIS_DISCONNECT_DROP:
      *what = g_strdup ("dropped and counted (on-disconnect=drop)");
      return policy;
    case GST_REDIS_DISCONNECT_BUFFER:
      *what = g_strdup ("kept (up to max-buffered) and sent after "
          "reconnecting (on-disconnect=buffer)");
      return policy;
    case GST_REDIS_DISCONNECT_WAIT:
      *what = g_strdup ("held back until they are stored "
          "(on-disconnect=wait)");
      return policy;
    case GST_REDIS_DISCONNECT_AUTO:
      break;
  }

  /* a buffer that carried an entry meta came from a source that waits for
   * it (also across an appsrc); else ask upstream again (a new link) */
  if (!self->tracked_seen && self->sources == 0) {
    query = gst_redis_ack_query_new (GST_ELEMENT (self), self->mark);
    gst_pad_peer_query (GST_BASE_SINK_PAD (self), query);
    self->sources = gst_redis_ack_query_parse (query, &stream, &group, NULL);
    gst_query_unref (query);
  } else if (self->source_stream) {
    stream = g_strdup (self->source_stream);
    group = g_strdup (self->source_group);
  }
  if (self->tracked_seen || self->sources > 0) {
    *what = stream ? g_strdup_printf ("held back until they are stored: "
        "they come from redisstreamsrc (stream \"%s\", group \"%s\"), "
        "which waits for each frame to be stored here", stream, group) :
        g_strdup ("held back until they are stored: they come from a "
        "redisstreamsrc, which waits for each frame to be stored here");
    policy = GST_REDIS_DISCONNECT_WAIT;
  } else {
    *what = g_strdup ("dropped and counted (on-disconnect=auto, no "
        "redisstreamsrc upstream)");
    policy = GST_REDIS_DISCONNECT_DROP;
  }
  GST_DEBUG_OBJECT (self, "on-disconnect=auto: %s", *what);
  g_free (stream);
  g_free (group);
  return policy;
}

/* on-disconnect=wait, between two attempts to reconnect: sleeps until the
 * next one is due. A flush or a pause interrupts the sleep, like a sink
 * waiting for its clock. */
static GstFlowReturn
gst_redis_stream_sink_wait_next_try (GstRedisStreamSink * self)
{
  GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);
  gboolean slept;

  slept = gst_redis_wait_cancellable (cancellable,
      gst_redis_outage_wait_us (&self->outage));
  g_object_unref (cancellable);
  if (slept)
    return GST_FLOW_OK;
  return gst_base_sink_wait_preroll (GST_BASE_SINK (self));
}

/* Writes the frames held during an outage, in order; one that could not be
 * written goes back to the front. */
static GstFlowReturn
gst_redis_stream_sink_write_held (GstRedisStreamSink * self, GError ** error)
{
  for (;;) {
    GstBuffer *held;
    GstFlowReturn ret;

    GST_OBJECT_LOCK (self);
    held = g_queue_pop_head (&self->held);
    GST_OBJECT_UNLOCK (self);
    if (held == NULL)
      return GST_FLOW_OK;
    ret = gst_redis_stream_sink_write (self, held, error);
    if (ret != GST_FLOW_OK) {
      GST_OBJECT_LOCK (self);
      g_queue_push_head (&self->held, held);
      GST_OBJECT_UNLOCK (self);
      return ret;
    }
    gst_buffer_unref (held);
  }
}

static GstFlowReturn
gst_redis_stream_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstRedisStreamSink *self = GST_REDIS_STREAM_SINK (bsink);
  GstFlowReturn ret;
  GError *err = NULL;

  /* a source waits for this frame: never dropped during an outage */
  if (!self->tracked_seen &&
      gst_redis_buffer_foreach_ticket (buffer, NULL, NULL) > 0)
    self->tracked_seen = TRUE;
  if (self->listener) {
    GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);

    gst_redis_stream_sink_poll_key_units (self, cancellable);
    g_object_unref (cancellable);
  }

  for (;;) {
    if (gst_redis_outage_active (&self->outage)) {
      if (!gst_redis_stream_sink_reconnect (self, &err))
        goto error;
      if (gst_redis_outage_active (&self->outage)) {
        if (self->outage_policy != GST_REDIS_DISCONNECT_WAIT) {
          gst_redis_stream_sink_hold (self, buffer);
          return GST_FLOW_OK;
        }
        ret = gst_redis_stream_sink_wait_next_try (self);
        if (ret != GST_FLOW_OK)
          return ret;
        continue;
      }
    }

    /* Frames held during an outage go first, in order. */
    ret = gst_redis_stream_sink_write_held (self, &err);
    if (ret == GST_FLOW_OK)
      ret = gst_redis_stream_sink_write (self, buffer, &err);
    if (ret == GST_FLOW_OK || ret == GST_FLOW_FLUSHING)
      return ret;

    /* Lost the connection: reconnect when allowed, warn once per outage. */
    if (!gst_redis_outage_is_loss (&self->outage, self->writer.conn, err))
      goto error;
    if (gst_redis_outage_begin (&self->outage)) {
      gchar *what = NULL, *consequence;

      self->outage_policy = gst_redis_stream_sink_resolve_policy (self, &what);
      consequence = g_strdup_printf ("Frames meanwhile are %s.", what);
      gst_redis_outage_warn (&self->outage, self->writer.conn, err,
          consequence, GST_REDIS_HERE);
      g_free (consequence);
      g_free (what);
    }
    g_clear_error (&err);
    /* the current frame is kept (or dropped) like any during an outage */
    if (self->outage_policy != GST_REDIS_DISCONNECT_WAIT) {
      gst_redis_stream_sink_hold (self, buffer);
      return GST_FLOW_OK;
    }
  }

error:
  if (err->domain == GST_RESOURCE_ERROR)
    GST_REDIS_ELEMENT_POST (self, GST_MESSAGE_ERROR, err, &self->active);
  else
    GST_REDIS_ELEMENT_ERROR (self, &self->active, STREAM, ENCODE,
        ("Could not write a frame to stream \"%s\".", self->active.stream),
        ("%s", err->message));
  g_clear_error (&err);
  return GST_FLOW_ERROR;
}
