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
 * SECTION:element-redisstreamsrc
 * @title: redisstreamsrc
 * @see_also: redisstreamsink
 *
 * A live source that reads the entries of a Redis stream as a member of a
 * consumer group, one at a time (`XREADGROUP GROUP g c COUNT 1 BLOCK 1000
 * STREAMS key >`), and pushes each as a buffer with the caps, timestamps,
 * duration, flags, sequence number (as the buffer offset), capture time
 * (#GstReferenceTimestampMeta with caps `timestamp/x-unix`) and detections
 * (#GstVideoRegionOfInterestMeta) that redisstreamsink, or any program
 * following docs/wire-format.md, wrote into it. LZ4 payloads are
 * decompressed. Each frame goes out with the caps of its own entry, set on
 * the pad right before it when they differ from the caps of the frame
 * before (also when the reorder window or `max-age` make the frame pushed
 * another one than the entry read last). When the first entries after
 * start all have caps that downstream does not accept, that is an error
 * (#GST_STREAM_ERROR_FORMAT, "Downstream does not accept the caps of stream
 * ...") that names the stream, the caps of the entry and the caps the next
 * element accepts; the entries stay pending. Once an entry went through, an
 * entry whose caps are refused is set aside instead (below).
 *
 * Timestamps are for this pipeline's clock: by default the producer's
 * spacing placed where the first frame arrived on this pipeline's running
 * time, reported with #GstRedisStreamSrc:latency in the LATENCY query, so an
 * ordinary synchronised sink plays at once whenever the reader started
 * (#GstRedisStreamSrc:timestamp-mode: `capture` aligns streams by capture
 * time, `producer` keeps the producer's own). After a start, a reconnect or
 * any gap, delta units are held back until a key frame, and the producer is
 * asked for one across Redis (#GstRedisStreamSrc:request-key-units), so a
 * decoder never sees a frame whose reference it did not get
 * (docs/media.md).
 *
 * Every buffer carries the entry it was read from, a #GstCustomMeta
 * "GstRedisEntryMeta" (stream, group, id and a #GstRedisTicket) that
 * filters, converters, encoders, queues and tee keep. An entry is
 * acknowledged (`XACK`) once its frame's fate is known
 * (#GstRedisStreamSrc:ack-mode `done`): stored by a redisstreamsink,
 * rendered or let go by another sink, dropped on purpose on the way; so
 * frames held by a queue, an encoder, an aggregator or an application
 * between an appsink and an appsrc (which copies the meta) are never lost:
 * delivery is at-least-once, and exactly-once with
 * #GstRedisStreamSink:exactly-once. A frame dropped by a flush or a state
 * change down stays pending and is read again. The acknowledgements travel
 * with the next read, in the same round trip. An entry that cannot be
 * processed (caps refused downstream, failed by an element with the
 * ticket's #GstRedisTicket::fail signal, delivered
 * #GstRedisStreamSrc:max-deliveries times without being acknowledged) is
 * set aside in #GstRedisStreamSrc:dead-letter-stream and the source goes
 * on. A consumer of the same name first re-reads its own pending entries
 * when it starts (docs/redisstreamsrc.md, "Acknowledgements").
 *
 * Several sources with the same #GstRedisStreamSrc:group and different
 * #GstRedisStreamSrc:consumer names share the entries: each entry goes to
 * one of them. Entries another consumer of the group read but left
 * unacknowledged (a worker that died) are taken over after
 * #GstRedisStreamSrc:claim-idle-time. With #GstRedisStreamSrc:reorder-window
 * the source pushes the results of several processors in sequence-number
 * order. The connection properties are those of redisstreamsink
 * (#GstRedisStreamSink:host and the others); a Redis Cluster is found by
 * itself from any node, see docs/scaling.md.
 *
 * ## Faults and messages
 *
 * When the connection is lost (Redis restarts, or stops answering for
 * `timeout` plus `block` milliseconds), the source posts a warning
 * (%GST_RESOURCE_ERROR_READ, "Lost the connection to Redis at ...") and
 * reconnects by itself, with a backoff from 100 ms to 2 s, for up to
 * `reconnect-timeout` milliseconds (0 makes a lost connection an error at
 * once), then posts an info message ("Reconnected to Redis at ...") and
 * first re-reads its own pending entries, so an entry whose acknowledgement
 * was lost comes again (at-least-once). If the group disappears
 * (`XGROUP DESTROY`, `DEL`, Redis lost its data), it is created again after
 * the last entry read here, with a warning: what was written since is read,
 * nothing is read twice, the stream is not replayed. An `UNBLOCKED` reply
 * (the key was deleted, replaced or migrated) is not a lost connection: the
 * next read says which.
 *
 * Pending entries trimmed before they were processed (reported deleted by
 * `XAUTOCLAIM`, or found deleted when re-read at start) are counted in
 * `skipped-deleted` and named in a warning. Entries trimmed before the
 * group read them are counted in `trimmed-unread` and warned about, naming
 * the bound that trimmed them (the `retention` field redisstreamsink writes
 * in `<stream>:info`): at start and after a reconnect, the gap between the
 * group's last entry and the oldest one left (`XINFO STREAM`), and while
 * reading, from the group's lag (`XINFO GROUPS`, `XLEN`, in the round trip
 * of a read at most once a second, and before every read while the group
 * reads near the oldest entries). No false alarm after a Redis restart:
 * counts are trusted only while Redis's counters follow those seen before.
 * Moves of the group by someone else (`XGROUP SETID`) are warned about and
 * counted (`group-moves`, `skipped-moved`, `replayed`). A user whose ACL
 * rules refuse `XAUTOCLAIM`, `XINFO`, `XLEN` or `HGET` gets one
 * %GST_RESOURCE_ERROR_NOT_AUTHORIZED warning and the feature is turned
 * off.
 *
 * Bad entries (missing, unknown-valued or wrong-typed fields, corrupt LZ4, a
 * size that does not match, a size or `data` value above `max-frame-size`,
 * caps that do not parse) are skipped with a warning message naming the
 * entry id, counted in #GstRedisStreamSrc:stats, and acknowledged so they
 * are not re-read forever; they stay in the stream for inspection with
 * `XRANGE`. The pipeline keeps running.
 *
 * Errors carry the server and the stream as details (`server`, `stream`);
 * docs/redisstreamsrc.md lists their codes.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 redisstreamsrc stream=video-frames group=display ! videoconvert ! autovideosink
 * ]| Shows the frames of the stream video-frames, paced as they were sent,
 * whenever it starts.
 * |[
 * gst-launch-1.0 redisstreamsrc stream=video-frames group=display start-id=0 max-age=200 ! videoconvert ! autovideosink
 * ]| Starts from the oldest entry still in the stream, but skips frames
 * captured more than 200 ms ago so the display never falls behind.
 * |[
 * gst-launch-1.0 redisstreamsrc stream=video-frames group=processors consumer=worker-1 ! frameproc operation=motion ! redisstreamsink stream=processed-frames
 * ]| A processing stage; start it again with the same consumer name and it
 * first finishes the frames it had taken but not acknowledged.
 */


/* The element: properties, start and stop, caps, queries and events, and
 * what happens to a frame between the read loop and the pad (reorder
 * window, key frame gate, timestamps). Reading is gstredisreadloop.c, the
 * consumer group gstredisgroup.c, the reorder window gstredisreorder.c. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisstreamsrc.h"
#include "gstredisstreamselements.h"
#include "gstrediscancellable.h"
#include "gstredisreadloop.h"
#include "gstredisgroup.h"
#include "gstredisreorder.h"
#include "gstredisrange.h"
#include "gstredistiming.h"
#include "gstrediskeyunit.h"
#include "gstredismetrics.h"
#include "gstredisticket.h"
#include "gstredisdeadletter.h"
#include "gstframemeta.h"

#include <gst/video/video.h>

#include <string.h>
#include <unistd.h>

GST_DEBUG_CATEGORY (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

#define DEFAULT_GROUP "gst-redis"
#define DEFAULT_CONSUMER NULL
#define DEFAULT_START_ID "$"
#define DEFAULT_BLOCK 1000
#define DEFAULT_COUNT 1
#define DEFAULT_MAX_AGE 0
#define DEFAULT_MAX_FRAME_SIZE GST_REDIS_DEFAULT_MAX_FRAME_SIZE
#define DEFAULT_CLAIM_IDLE_TIME GST_REDIS_GROUP_DEFAULT_CLAIM_IDLE_TIME
#define DEFAULT_REORDER_WINDOW 0
#define DEFAULT_REORDER_TIMEOUT 100
#define DEFAULT_TIMESTAMP_MODE GST_REDIS_TIMESTAMP_RUNNING_TIME
#define DEFAULT_LATENCY 20
#define DEFAULT_REQUEST_KEY_UNITS TRUE
#define DEFAULT_START NULL
#define DEFAULT_STOP NULL
#define DEFAULT_ACCURATE TRUE
#define DEFAULT_ACK_MODE GST_REDIS_ACK_DONE
#define DEFAULT_DEAD_LETTER_STREAM NULL
#define DEFAULT_MAX_DELIVERIES 5
#define DEFAULT_DEAD_LETTER_MAXLEN 1000
/* Entries refused by downstream right after start before the pipeline is
 * taken as misconfigured (an error) rather than the entries as bad. */
#define REFUSED_AT_START 8

typedef enum
{
  GST_REDIS_ACK_DONE,
  GST_REDIS_ACK_PUSHED,
} GstRedisAckMode;

#define GST_TYPE_REDIS_ACK_MODE (gst_redis_ack_mode_get_type ())
static GType
gst_redis_ack_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_REDIS_ACK_DONE, "Acknowledge an entry once its frame's fate is "
          "known: stored by a redisstreamsink, rendered or dropped on purpose "
          "(frames carry the GstRedisEntryMeta)", "done"},
    {GST_REDIS_ACK_PUSHED, "Acknowledge an entry once the push of its "
          "buffer returned (frames a queue, an encoder or an application "
          "holds are lost on a crash)", "pushed"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRedisAckMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define SUMMARY_INTERVAL (5 * G_TIME_SPAN_SECOND)

enum
{
  PROP_GROUP = GST_REDIS_PROP_LAST,
  PROP_CONSUMER,
  PROP_START_ID,
  PROP_BLOCK,
  PROP_COUNT,
  PROP_MAX_AGE,
  PROP_MAX_FRAME_SIZE,
  PROP_CLAIM_IDLE_TIME,
  PROP_REORDER_WINDOW,
  PROP_REORDER_TIMEOUT,
  PROP_TIMESTAMP_MODE,
  PROP_LATENCY,
  PROP_REQUEST_KEY_UNITS,
  PROP_METRICS_INTERVAL,
  PROP_START,
  PROP_STOP,
  PROP_ACCURATE,
  PROP_ACK_MODE,
  PROP_DEAD_LETTER_STREAM,
  PROP_MAX_DELIVERIES,
  PROP_DEAD_LETTER_MAXLEN,
  PROP_STATS,
};

/* An entry downstream refused before any went through. */
typedef struct
{
  gchar *id;
  gchar *reason;
  guint deliveries;
  GstCaps *caps;
} RefusedEntry;

struct _GstRedisStreamSrc
{
  GstPushSrc parent;

  /* properties, under the object lock (max-age is the read loop's) */
  GstRedisSettings settings;
  gchar *group_name;
  gchar *consumer;
  gchar *start_id;
  guint block;
  guint count;
  guint64 max_frame_size;
  guint claim_idle_time;
  gboolean claim_idle_time_set;
  guint reorder_window;
  guint reorder_timeout;
  GstRedisTimestampMode timestamp_mode;
  guint latency;
  gboolean request_key_units;
  gchar *start;
  gchar *stop;
  gboolean accurate;
  GstRedisAckMode ack_mode;
  gchar *dead_letter_stream;
  guint max_deliveries;
  guint dead_letter_maxlen;

  /* what unlock () cancels */
  GstRedisCanceller canceller;

  /* the settings in use, copied at start () */
  GstRedisSettings active;
  /* reading, the consumer group, the reorder window */
  GstRedisReadLoop loop;
  GstRedisGroup group;
  GstRedisReorder reorder;
  /* reports for pipelines/exporter, sent with the reads */
  GstRedisMetrics metrics;
  /* replay mode (start set): a range read without a group */
  GstRedisRange range;
  GstSeekFlags seek_flags;

  /* streaming thread only, between start () and stop () */
  GstRedisTimestampMode active_timestamp_mode;
  GstRedisTiming timing;
  GstRedisKeyUnitGate gate;
  gint64 last_summary;
  /* set by a GstForceKeyUnit event from downstream, any thread */
  gint key_unit_wanted;
  /* caps of the last frame pushed, under the object lock for get_caps () */
  GstCaps *caps;
  /* what decides each entry's fate (gstredisticket.h); lives as long as
   * the element, and as long as tickets live */
  GstRedisAckTracker *tracker;
  /* ack-mode in use; pushed: the epoch of the push to settle */
  GstRedisAckMode active_ack_mode;
  guint pushed_epoch;
  /* an entry's caps went through downstream since start; entries refused
   * before that (RefusedEntry) */
  gboolean negotiated_once;
  GArray *refused;

  /* statistics, under the object lock; kept after stop () */
  guint64 held_back_delta;
  guint64 timing_resyncs;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

#define gst_redis_stream_src_parent_class parent_class
G_DEFINE_TYPE (GstRedisStreamSrc, gst_redis_stream_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (redisstreamsrc, "redisstreamsrc",
    GST_RANK_NONE, GST_TYPE_REDIS_STREAM_SRC,
    redis_streams_element_init (plugin));

static void gst_redis_stream_src_finalize (GObject * object);
static void gst_redis_stream_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_redis_stream_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_redis_stream_src_start (GstBaseSrc * bsrc);
static gboolean gst_redis_stream_src_stop (GstBaseSrc * bsrc);
static gboolean gst_redis_stream_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_redis_stream_src_unlock_stop (GstBaseSrc * bsrc);
static GstCaps *gst_redis_stream_src_get_caps (GstBaseSrc * bsrc,
    GstCaps * filter);
static gboolean gst_redis_stream_src_negotiate (GstBaseSrc * bsrc);
static gboolean gst_redis_stream_src_query (GstBaseSrc * bsrc,
    GstQuery * query);
static gboolean gst_redis_stream_src_event (GstBaseSrc * bsrc,
    GstEvent * event);
static GstFlowReturn gst_redis_stream_src_create (GstPushSrc * psrc,
    GstBuffer ** outbuf);
static gboolean gst_redis_stream_src_is_seekable (GstBaseSrc * bsrc);
static gboolean gst_redis_stream_src_do_seek (GstBaseSrc * bsrc,
    GstSegment * segment);

/* The consumer group and how it is read. */
static void
gst_redis_stream_src_install_group_properties (GObjectClass * gobject_class)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:group:
   *
   * Consumer group to read in. It is created (`XGROUP CREATE ... MKSTREAM`)
   * only when the first read says it is missing (`NOGROUP`), starting at
   * #GstRedisStreamSrc:start-id. An existing group is never created again, so
   * the source starts and reconnects while Redis is over `maxmemory`.
   */
  g_object_class_install_property (gobject_class, PROP_GROUP,
      g_param_spec_string ("group", "Group",
          "Consumer group to read in; created when missing", DEFAULT_GROUP,
          ready));
  /**
   * GstRedisStreamSrc:consumer:
   *
   * Consumer name within the group. %NULL (default) is `<hostname>-<pid>`,
   * unique per host and process; set a fixed name for a worker that must take
   * over its own pending entries after a restart.
   */
  g_object_class_install_property (gobject_class, PROP_CONSUMER,
      g_param_spec_string ("consumer", "Consumer",
          "Consumer name within the group (NULL: <hostname>-<pid>)",
          DEFAULT_CONSUMER, ready));
  /**
   * GstRedisStreamSrc:start-id:
   *
   * Where a group created by this source starts: `$` (default) for new
   * entries only, `0` for everything in the stream, or an entry id.
   */
  g_object_class_install_property (gobject_class, PROP_START_ID,
      g_param_spec_string ("start-id", "Start ID",
          "Where a newly created group starts: \"$\" new entries only, "
          "\"0\" the whole stream, or an entry id", DEFAULT_START_ID, ready));
  /**
   * GstRedisStreamSrc:block:
   *
   * Milliseconds each `XREADGROUP` waits for new entries. The element stays
   * interruptible at any time; a server that does not answer within this plus
   * #GstRedisStreamSink:timeout is a lost connection.
   */
  g_object_class_install_property (gobject_class, PROP_BLOCK,
      g_param_spec_uint ("block", "Block",
          "Milliseconds each XREADGROUP waits for new entries", 1,
          G_MAXINT / 2, DEFAULT_BLOCK, ready));
  /**
   * GstRedisStreamSrc:count:
   *
   * Entries read per `XREADGROUP`; they are pushed one by one.
   */
  g_object_class_install_property (gobject_class, PROP_COUNT,
      g_param_spec_uint ("count", "Count",
          "Entries read per XREADGROUP; they are pushed one by one", 1, 1000,
          DEFAULT_COUNT, ready));
}

/* Replay mode: a range read without a group (docs/replay.md). */
static void
gst_redis_stream_src_install_range_properties (GObjectClass * gobject_class)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:start:
   *
   * Replays the stream from this time instead of reading it in a consumer
   * group: nothing is created, acknowledged or left behind in Redis
   * (`XREVRANGE` and `XREAD`), and #GstRedisStreamSrc:group,
   * #GstRedisStreamSrc:consumer, #GstRedisStreamSrc:start-id and the
   * other group properties are not used. A time is an ISO 8601 date and
   * time (`2026-01-05T10:00:00Z`; local time without an offset), seconds
   * since 1970 (`1767607200.5`), a time relative to when the element
   * starts (`-30s`, `-5m`, `-1h30m`, `-500ms`, `now`), an entry id
   * (`1767607200123-0`) or `oldest`. The source is then not live: frames
   * are timestamped by their capture time (position 0 is the oldest entry
   * when the element started), the segment starts at the requested time,
   * and for inter-coded video the frames from the key frame before it are
   * pushed too, to be decoded and clipped away by decoders and sinks (see
   * #GstRedisStreamSrc:accurate). A start older than the stream's oldest
   * entry plays from there, with a warning naming the span that is gone.
   * The source answers DURATION and SEEKING queries and performs flushing
   * seeks in TIME.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_START,
      g_param_spec_string ("start", "Start",
          "Replay from this time without a consumer group: ISO 8601, "
          "seconds since 1970, relative to now (-30s), an entry id or "
          "\"oldest\"; NULL reads in the group", DEFAULT_START, ready));
  /**
   * GstRedisStreamSrc:stop:
   *
   * With #GstRedisStreamSrc:start, where the replay ends (EOS after the last
   * frame captured at or before it), in the same forms as start; NULL (the
   * default) follows the live stream after the replay caught up. A range of
   * which nothing is left in the stream is an error
   * (%GST_RESOURCE_ERROR_NOT_FOUND).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_STOP,
      g_param_spec_string ("stop", "Stop",
          "With start, where the replay ends (same forms); NULL follows "
          "the live stream", DEFAULT_STOP, ready));
  /**
   * GstRedisStreamSrc:accurate:
   *
   * With #GstRedisStreamSrc:start: %TRUE (the default) starts the segment
   * exactly at the start, as after an accurate seek, the frames from the
   * key frame before it only there to decode; %FALSE starts it at that key
   * frame, as after a key unit seek with GST_SEEK_FLAG_SNAP_BEFORE: for
   * muxing encoded video without re-encoding (muxers drop what comes
   * before the segment, the key frame too).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_ACCURATE,
      g_param_spec_boolean ("accurate", "Accurate",
          "With start: the segment starts exactly there (frames from the key "
          "frame before only decode); false: at that key frame",
          DEFAULT_ACCURATE, ready));
}

/* How frames are timed and how encoded video starts (docs/media.md). */
static void
gst_redis_stream_src_install_live_properties (GObjectClass * gobject_class)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:timestamp-mode:
   *
   * How frames are timestamped. `running-time` (default): at the
   * producer's spacing, placed where the first frame arrived on this
   * pipeline's running time, so a synchronised sink (sync=true, the default
   * of every video and audio sink) plays at once and at the producer's
   * pace, whenever the reader started. `capture`: at each frame's capture
   * time on this pipeline's clock, so every reader shows a frame the same
   * #GstRedisStreamSrc:latency after capture and streams captured together
   * play together (hosts with synchronised clocks, NTP/PTP). `producer`: the
   * producer's own timestamps, for recording and offline processing.
   */
  g_object_class_install_property (gobject_class, PROP_TIMESTAMP_MODE,
      g_param_spec_enum ("timestamp-mode", "Timestamp Mode",
          "How frames are timestamped: on this pipeline's running time from "
          "where they arrived, at their capture time, or as the producer "
          "stamped them", GST_TYPE_REDIS_TIMESTAMP_MODE,
          DEFAULT_TIMESTAMP_MODE, ready));
  /**
   * GstRedisStreamSrc:latency:
   *
   * How long after its arrival (or capture, with `timestamp-mode=capture`)
   * a synchronised sink shows a frame, in milliseconds: the source reports
   * it in the LATENCY query. It absorbs the jitter of the hop; a frame that
   * comes later than that is late for the sink (QoS, counted there).
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Milliseconds between a frame's arrival (or capture) and when a "
          "synchronised sink shows it", 0, 60000, DEFAULT_LATENCY, ready));
  /**
   * GstRedisStreamSrc:request-key-units:
   *
   * After a start, a reconnect or any gap, delta units are held back until
   * a key frame comes, always. With this set, the source also asks the
   * producer for a key frame (a `PUBLISH` on the channel
   * `<stream>:control`, at most once a second while waiting; redisstreamsink
   * turns it into a GstForceKeyUnit event for its encoder), and forwards
   * GstForceKeyUnit events from downstream the same way.
   */
  g_object_class_install_property (gobject_class, PROP_REQUEST_KEY_UNITS,
      g_param_spec_boolean ("request-key-units", "Request Key Units",
          "Ask the producer for a key frame (PUBLISH <stream>:control) when "
          "one is needed", DEFAULT_REQUEST_KEY_UNITS, ready));
}

/* When an entry is acknowledged, and what happens to one that cannot be
 * processed (docs/redisstreamsrc.md, "Acknowledgements"). */
static void
gst_redis_stream_src_install_ack_properties (GObjectClass * gobject_class)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:ack-mode:
   *
   * When an entry is acknowledged. `done` (default): every buffer carries
   * the entry's "GstRedisEntryMeta" (its stream, group, id and a
   * #GstRedisTicket), which filters, converters, encoders, queues and tee
   * keep, and which an application copies from an appsink's buffer to the
   * buffer it pushes into an appsrc. The entry is acknowledged once a
   * redisstreamsink stored a buffer carrying it; where the pipeline ends in
   * another sink (a display, fakesink, appsink), once that sink let it go;
   * a frame dropped on purpose on the way (videorate, QoS, a filter that
   * discards it, an element that does not keep metas such as an
   * aggregator) once something read after it was stored. A frame dropped
   * by a flush, a seek or a state change down stays pending and is read
   * again. So frames held by queues, encoders, aggregators or an
   * application are never lost when the process dies. `pushed`: once the
   * push of its buffer returned, as before 1.0's tracking: cheaper (no
   * meta), but frames a queue, an encoder or an application holds when the
   * process dies are lost.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_ACK_MODE,
      g_param_spec_enum ("ack-mode", "Acknowledgement Mode",
          "When an entry is acknowledged: once its frame's fate is known "
          "(stored, rendered, dropped on purpose), or once its push returned",
          GST_TYPE_REDIS_ACK_MODE, DEFAULT_ACK_MODE, ready));
  /**
   * GstRedisStreamSrc:dead-letter-stream:
   *
   * Where entries that cannot be processed are set aside: an entry whose
   * caps downstream refuses, one an element or the application failed
   * (#GstRedisTicket::fail), one delivered #GstRedisStreamSrc:max-deliveries
   * times without being acknowledged. Each is added to this stream with its
   * original fields and `dead-letter-reason`, `dead-letter-stream`,
   * `dead-letter-id`, `dead-letter-group`, `dead-letter-consumer`,
   * `dead-letter-deliveries` and `dead-letter-time`, then acknowledged, and
   * the source goes on with the next entry. %NULL (default):
   * `<stream>:dead-letter`. In a Redis Cluster it must hash to the slot of
   * the stream: name the stream with a hash tag (`{camera-1}:video-frames`
   * gives `{camera-1}:video-frames:dead-letter`).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_DEAD_LETTER_STREAM,
      g_param_spec_string ("dead-letter-stream", "Dead-Letter Stream",
          "Stream where entries that cannot be processed are set aside "
          "(NULL: <stream>:dead-letter)", DEFAULT_DEAD_LETTER_STREAM, ready));
  /**
   * GstRedisStreamSrc:max-deliveries:
   *
   * An entry delivered this many times without being acknowledged (its
   * delivery count in `XPENDING`: a worker that crashed or stopped on it
   * each time, whoever took it over) is set aside in
   * #GstRedisStreamSrc:dead-letter-stream instead of being pushed, so that
   * one bad entry kills a worker at most this many times, across all the
   * workers of the group. Re-reads this source makes itself (after a flush
   * or a reconnect) do not count. 0 turns it off.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MAX_DELIVERIES,
      g_param_spec_uint ("max-deliveries", "Maximum Deliveries",
          "Set aside entries delivered this many times without being "
          "acknowledged; 0: never", 0, G_MAXINT, DEFAULT_MAX_DELIVERIES,
          ready));
  /**
   * GstRedisStreamSrc:dead-letter-maxlen:
   *
   * Each dead letter trims #GstRedisStreamSrc:dead-letter-stream to about
   * this many entries (`MAXLEN ~`): a dead letter carries its frame. 0
   * keeps them all.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_DEAD_LETTER_MAXLEN,
      g_param_spec_uint ("dead-letter-maxlen", "Dead-Letter Maximum Length",
          "Trim the dead-letter stream to about this many entries; 0 keeps "
          "them all", 0, G_MAXUINT, DEFAULT_DEAD_LETTER_MAXLEN, ready));
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_ACK_MODE, 0);
}

/* Which frames are delivered, and in which order. */
static void
gst_redis_stream_src_install_frame_properties (GObjectClass * gobject_class)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:max-age:
   *
   * Entries whose capture time is older than this many milliseconds are
   * acknowledged and skipped (counted in `skipped-late`), for displays that
   * must not fall behind; 0 delivers every entry.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_AGE,
      g_param_spec_uint ("max-age", "Maximum Age",
          "Skip (and acknowledge) entries captured more than this many "
          "milliseconds ago; 0 delivers every entry", 0, G_MAXUINT,
          DEFAULT_MAX_AGE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstRedisStreamSrc:max-frame-size:
   *
   * The largest frame, in bytes, an entry may declare: a larger declared size
   * is refused before anything is allocated, and a `data` value too large to
   * hold such a frame is dropped as it arrives, never read into memory. Such
   * entries are skipped (`skipped-invalid`).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_SIZE,
      g_param_spec_uint64 ("max-frame-size", "Maximum Frame Size",
          "Largest frame in bytes an entry may declare; larger entries are "
          "skipped", 1, G_MAXSSIZE, DEFAULT_MAX_FRAME_SIZE, ready));
  /**
   * GstRedisStreamSrc:claim-idle-time:
   *
   * Entries another consumer of the group read but left unacknowledged for
   * this many milliseconds (a worker that died) are taken over with
   * `XAUTOCLAIM` and processed here (counted in `claimed`); 0 never takes
   * over. When the property is not set, it is a quarter of the time the stream
   * keeps an entry (500 to 30000 ms), so that take-over comes before the
   * producer's trimming removes them.
   */
  g_object_class_install_property (gobject_class, PROP_CLAIM_IDLE_TIME,
      g_param_spec_uint ("claim-idle-time", "Claim Idle Time",
          "Take over (XAUTOCLAIM) entries another consumer of the group has "
          "left unacknowledged for this many milliseconds; 0 never does; "
          "when not set, a quarter of the time the stream keeps its entries "
          "(at most the default)", 0, G_MAXINT, DEFAULT_CLAIM_IDLE_TIME,
          ready));
  /**
   * GstRedisStreamSrc:reorder-window:
   *
   * Several processors in one group finish frames out of order, so their
   * results reach the next stream out of order. With a window (frames; 0, the
   * default, pushes frames as they arrive) the source holds frames and pushes
   * them by sequence number (the buffer offset). A frame goes out as soon as it
   * is the next one due; a missing frame is waited for as long as fewer than
   * this many frames are held and no held frame is older than
   * #GstRedisStreamSrc:reorder-timeout, then given up (counted in
   * `reorder-gaps`). A frame that comes after it was given up, or a second
   * copy of a frame already pushed, is dropped, acknowledged and counted
   * (`reorder-late`). Frames that arrive in order are not delayed. Frames
   * without a sequence number pass straight through; a sequence number more
   * than 1000 behind the next one due is taken as a producer that started
   * counting again.
   */
  g_object_class_install_property (gobject_class, PROP_REORDER_WINDOW,
      g_param_spec_uint ("reorder-window", "Reorder Window",
          "Hold up to this many frames to push them in sequence-number "
          "order (results of several processors arrive out of order); 0 "
          "pushes frames as they arrive", 0, 1000, DEFAULT_REORDER_WINDOW,
          ready));
  /**
   * GstRedisStreamSrc:reorder-timeout:
   *
   * With #GstRedisStreamSrc:reorder-window, the longest a frame is held (ms)
   * waiting for the frames before it: the latency cost for the frames behind
   * a missing one.
   */
  g_object_class_install_property (gobject_class, PROP_REORDER_TIMEOUT,
      g_param_spec_uint ("reorder-timeout", "Reorder Timeout",
          "With a reorder window, the longest a frame waits (ms) for the "
          "frames before it; then they are given up", 1, 60000,
          DEFAULT_REORDER_TIMEOUT, ready));
  /**
   * GstRedisStreamSrc:stats:
   *
   * Counters, in a #GstStructure named
   * `application/x-redis-stream-src-stats`, kept after the element stops:
   * `frames` (#guint64, buffers pushed), `bytes-received` (#guint64, bytes read
   * from Redis), `bytes-out` (#guint64, payload bytes after decompression),
   * `redelivered` (#guint64, own pending entries read again at start),
   * `skipped-invalid` (#guint64), of which `skipped-size` (#guint64, payloads
   * that are not what their caps describe) and `skipped-names` (#guint64,
   * names beyond the budget of new names), `skipped-late` (#guint64, by
   * #GstRedisStreamSrc:max-age), `skipped-deleted` (#guint64, pending entries
   * trimmed from the stream before they were processed, own or reported by
   * XAUTOCLAIM), `no-seq` (#guint64, frames without a seq), `claimed`
   * (#guint64, entries taken over from other consumers), `trimmed-unread`
   * (#guint64, entries trimmed before the group read them, also while no
   * reader of the group ran), `trimmed-unread-ms` (#guint64, ms of the stream
   * in the gaps found at start or after a reconnect), `trimmed-uncounted`
   * (#guint64, such gaps Redis could not count), `group-moves` (#guint64,
   * moves of the group its reads do not explain), `skipped-moved` (#guint64,
   * entries such moves skipped), `replayed` (#guint64, entries delivered
   * again after a move back), `retention` (#guint, ms an entry stays in the
   * stream, 0 until measured), `claim-idle-time` (#guint, ms, the value in
   * use),
   * `reorder-late` (#guint64), `reorder-gaps` (#guint64), `reorder-held`
   * (#guint, frames held right now), `reconnects` (#guint64),
   * `disconnected-time` (#guint64, milliseconds spent without a connection
   * since start, the outage going on included), `last-entry-id`
   * (#gchararray), `latency-last`, `latency-average`, `latency-max` (#gdouble,
   * milliseconds from capture time to the moment the frame was read here),
   * `connected` (#gboolean), `held-back-delta` (#guint64, delta units held
   * back until a key frame), `key-unit-requests` (#guint64, key frames asked
   * of the producer), `timing-resyncs` (#guint64, times the timeline was
   * taken again); with #GstRedisStreamSrc:ack-mode `done`: `acked-stored`
   * (#guint64, entries whose frame a redisstreamsink stored),
   * `acked-by-sink` (#guint64, stored and acknowledged by an exactly-once
   * redisstreamsink), `acked-dropped` (#guint64, frames dropped on purpose
   * on the way), `acked-released` (#guint64, frames another sink rendered
   * or let go), `abandoned` (#guint64, frames dropped by a flush or a state
   * change: left pending, read again), `failed` (#guint64, frames failed by
   * an element or the application), `in-flight` (#guint, frames downstream
   * right now), `reread-skipped` (#guint64, own entries read again while
   * still in flight here, not pushed twice); and `dead-lettered` (#guint64,
   * entries set aside in #GstRedisStreamSrc:dead-letter-stream).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters of frames read and skipped, the last entry id and the "
          "latency from capture", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_redis_metrics_install_property (gobject_class, PROP_METRICS_INTERVAL);
}


static void
gst_redis_stream_src_class_init (GstRedisStreamSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_redis_stream_src_finalize;
  gobject_class->set_property = gst_redis_stream_src_set_property;
  gobject_class->get_property = gst_redis_stream_src_get_property;

  gst_redis_settings_install_properties (gobject_class);
  gst_redis_stream_src_install_group_properties (gobject_class);
  gst_redis_stream_src_install_frame_properties (gobject_class);
  gst_redis_stream_src_install_live_properties (gobject_class);
  gst_redis_stream_src_install_range_properties (gobject_class);
  gst_redis_stream_src_install_ack_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Redis stream source", "Source/Network",
      "Reads the entries of a Redis stream in a consumer group "
      "(XREADGROUP), acknowledging each after it was pushed",
      "The gst-redis-streams authors");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_redis_stream_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_redis_stream_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_redis_stream_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_redis_stream_src_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_redis_stream_src_get_caps);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_redis_stream_src_negotiate);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_redis_stream_src_query);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_redis_stream_src_event);
  basesrc_class->is_seekable =
      GST_DEBUG_FUNCPTR (gst_redis_stream_src_is_seekable);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR (gst_redis_stream_src_do_seek);
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_TIMESTAMP_MODE, 0);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_redis_stream_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_redis_stream_src_debug, "redisstreamsrc", 0,
      "Redis stream source");
}

static GstObject *
top_level (GstObject * object)
{
  GstObject *top = gst_object_ref (object), *parent;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  return top;
}

/* Two elements of one pipeline run on one clock: running times compare. */
static gboolean
same_top_level (GstObject * a, GstObject * b)
{
  GstObject *ta = top_level (a), *tb = top_level (b);
  gboolean same = ta == tb;

  gst_object_unref (ta);
  gst_object_unref (tb);
  return same;
}

/* redisstreamsink asks whether its frames come from a source that waits
 * for their fate: they do, here. */
static gboolean
gst_redis_stream_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GstRedisStoreMark *mark = NULL;
  GstElement *sink = NULL;
  gboolean answered;

  /* a replay: nothing is acknowledged, the span answers */
  if (gst_redis_range_is_on (&self->range)) {
    if (gst_redis_range_query (&self->range, query))
      return TRUE;
    return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
  }
  GST_OBJECT_LOCK (self);
  answered = gst_redis_ack_query_answer (query, self->settings.stream,
      self->group_name, self->ack_mode == GST_REDIS_ACK_PUSHED, &sink, &mark);
  GST_OBJECT_UNLOCK (self);
  if (answered) {
    if (mark)
      gst_redis_ack_tracker_add_mark (self->tracker, mark,
          sink && same_top_level (GST_OBJECT (self), GST_OBJECT (sink)));
    g_clear_pointer (&mark, gst_redis_store_mark_unref);
    gst_clear_object (&sink);
    /* not claimed, so that it goes on to the other sources of an
     * aggregator: the sink reads the answers anyway */
    return FALSE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime latency;

    /* A frame is timestamped where it arrived (or was captured); a
     * synchronised sink shows it this much later. */
    GST_OBJECT_LOCK (self);
    latency = self->latency * GST_MSECOND;
    GST_OBJECT_UNLOCK (self);
    gst_query_set_latency (query, TRUE, latency, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

/* A decoder or websocketsink downstream asks for a key frame: asked of the
 * producer across Redis (gstrediskeyunit.h). */
static gboolean
gst_redis_stream_src_event (GstBaseSrc * bsrc, GstEvent * event)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK &&
      gst_redis_range_is_on (&self->range)) {
    GstSeekFlags flags;
    GstFormat format;
    gdouble rate;

    /* replay seeks: TIME at rate 1.0; their flags for do_seek () */
    gst_event_parse_seek (event, &rate, &format, &flags, NULL, NULL, NULL,
        NULL);
    if (format != GST_FORMAT_TIME || rate != 1.0) {
      GST_DEBUG_OBJECT (self, "refusing a seek in %s at rate %f",
          gst_format_get_name (format), rate);
      return FALSE;
    }
    self->seek_flags = flags | GST_SEEK_FLAG_FLUSH;
    return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
  }
  if (gst_video_event_is_force_key_unit (event)) {
    GST_DEBUG_OBJECT (self, "downstream asks for a key frame");
    g_atomic_int_set (&self->key_unit_wanted, 1);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
}

/* Replay mode seeks: positions are times of the stream. */
static gboolean
gst_redis_stream_src_is_seekable (GstBaseSrc * bsrc)
{
  return gst_redis_range_is_on (&GST_REDIS_STREAM_SRC (bsrc)->range);
}

/* basesrc's first do_seek () at start has no seek behind it: the start
 * property says where to begin. A seek came through the event function
 * (flags kept there: do_seek () does not see them), or is flushing. */
static gboolean
gst_redis_stream_src_do_seek (GstBaseSrc * bsrc, GstSegment * segment)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  if (!gst_redis_range_is_on (&self->range) || segment->format !=
      GST_FORMAT_TIME)
    return GST_BASE_SRC_CLASS (parent_class)->do_seek (bsrc, segment);
  if (self->seek_flags == 0 && !(segment->flags & GST_SEGMENT_FLAG_RESET))
    return TRUE;
  gst_redis_range_seek (&self->range, segment, self->seek_flags);
  self->seek_flags = 0;
  return TRUE;
}

static void
refused_entry_clear (RefusedEntry * e)
{
  g_free (e->id);
  g_free (e->reason);
  gst_clear_caps (&e->caps);
}

/* A flush leaving the source (a flushing seek, a flush sent to the
 * element): what was pushed before it and is released unstored was
 * flushed, not dropped on purpose. At FLUSH_STOP too: a buffer made while
 * flushing is dropped by basesrc. */
static GstPadProbeReturn
gst_redis_stream_src_flush_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer tracker)
{
  gst_redis_ack_tracker_flush (tracker);
  return GST_PAD_PROBE_OK;
}

static void
gst_redis_stream_src_init (GstRedisStreamSrc * self)
{
  GstElement *element = GST_ELEMENT (self);

  gst_redis_settings_init (&self->settings);
  gst_redis_settings_init (&self->active);
  self->group_name = g_strdup (DEFAULT_GROUP);
  self->consumer = g_strdup (DEFAULT_CONSUMER);
  self->start_id = g_strdup (DEFAULT_START_ID);
  self->block = DEFAULT_BLOCK;
  self->count = DEFAULT_COUNT;
  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->claim_idle_time = DEFAULT_CLAIM_IDLE_TIME;
  self->reorder_window = DEFAULT_REORDER_WINDOW;
  self->reorder_timeout = DEFAULT_REORDER_TIMEOUT;
  gst_redis_canceller_init (&self->canceller, GST_OBJECT (self));
  gst_redis_group_init (&self->group, element, &self->active, &self->gate);
  gst_redis_read_loop_init (&self->loop, element, &self->active, &self->group,
      &self->gate);
  gst_redis_metrics_init (&self->metrics, element, &self->active, "src");
  self->loop.metrics = &self->metrics;
  self->loop.max_age = DEFAULT_MAX_AGE;
  gst_redis_reorder_init (&self->reorder, element, &self->gate);
  gst_redis_range_init (&self->range, element, &self->active, &self->loop,
      &self->gate);
  self->start = g_strdup (DEFAULT_START);
  self->stop = g_strdup (DEFAULT_STOP);
  self->accurate = DEFAULT_ACCURATE;

  /* Frames arrive when a producer writes them: a live source in TIME,
   * timestamped for this pipeline's clock (gstredistiming.c). */
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  self->timestamp_mode = DEFAULT_TIMESTAMP_MODE;
  self->latency = DEFAULT_LATENCY;
  self->request_key_units = DEFAULT_REQUEST_KEY_UNITS;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);

  self->ack_mode = DEFAULT_ACK_MODE;
  self->dead_letter_stream = g_strdup (DEFAULT_DEAD_LETTER_STREAM);
  self->max_deliveries = DEFAULT_MAX_DELIVERIES;
  self->dead_letter_maxlen = DEFAULT_DEAD_LETTER_MAXLEN;
  self->tracker = gst_redis_ack_tracker_new (element);
  self->loop.tracker = self->tracker;
  self->refused = g_array_new (FALSE, TRUE, sizeof (RefusedEntry));
  g_array_set_clear_func (self->refused, (GDestroyNotify) refused_entry_clear);
  /* a flush from here drops what is on its way downstream */
  gst_pad_add_probe (GST_BASE_SRC_PAD (self), GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      gst_redis_stream_src_flush_probe, self->tracker, NULL);
}

static void
gst_redis_stream_src_finalize (GObject * object)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (object);

  gst_redis_settings_clear (&self->settings);
  gst_redis_settings_clear (&self->active);
  g_free (self->group_name);
  g_free (self->consumer);
  g_free (self->start_id);
  g_free (self->dead_letter_stream);
  gst_redis_read_loop_clear (&self->loop);
  gst_redis_group_clear (&self->group);
  gst_redis_metrics_clear (&self->metrics);
  gst_redis_range_clear (&self->range);
  g_free (self->start);
  g_free (self->stop);
  gst_redis_canceller_clear (&self->canceller);
  gst_redis_ack_tracker_unref (self->tracker);
  g_array_unref (self->refused);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_redis_stream_src_get_stats (GstRedisStreamSrc * self)
{
  GstRedisReadStats *read = &self->loop.stats;
  GstRedisGroupStats *group = &self->group.stats;
  GstRedisGroupWatchStats *watch = &self->loop.watch.stats;
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  if (self->loop.conn)
    read->bytes_received =
        gst_redis_node_get_bytes_received (gst_redis_connection_get_node
        (self->loop.conn));
  s = gst_structure_new ("application/x-redis-stream-src-stats",
      "frames", G_TYPE_UINT64, read->frames,
      "bytes-received", G_TYPE_UINT64, read->bytes_received,
      "bytes-out", G_TYPE_UINT64, read->bytes_out,
      "redelivered", G_TYPE_UINT64, read->redelivered,
      "skipped-invalid", G_TYPE_UINT64, read->skipped_invalid,
      "skipped-size", G_TYPE_UINT64, read->skipped_size,
      "skipped-names", G_TYPE_UINT64, read->skipped_names,
      "skipped-late", G_TYPE_UINT64, read->skipped_late,
      "skipped-deleted", G_TYPE_UINT64, group->skipped_deleted,
      "no-seq", G_TYPE_UINT64, read->no_seq,
      "claimed", G_TYPE_UINT64, group->claimed,
      "trimmed-unread", G_TYPE_UINT64, watch->trimmed_unread,
      "trimmed-unread-ms", G_TYPE_UINT64, watch->trimmed_unread_ms,
      "trimmed-uncounted", G_TYPE_UINT64, watch->trimmed_uncounted,
      "group-moves", G_TYPE_UINT64, watch->group_moves,
      "skipped-moved", G_TYPE_UINT64, watch->skipped_moved,
      "replayed", G_TYPE_UINT64, watch->replayed,
      "held-back-delta", G_TYPE_UINT64, self->held_back_delta,
      "key-unit-requests", G_TYPE_UINT64, read->key_unit_requests,
      "timing-resyncs", G_TYPE_UINT64, self->timing_resyncs,
      "retention", G_TYPE_UINT, watch->retention,
      "claim-idle-time", G_TYPE_UINT, group->claim_idle,
      "reorder-late", G_TYPE_UINT64, self->reorder.late,
      "reorder-gaps", G_TYPE_UINT64, self->reorder.gaps,
      "reorder-held", G_TYPE_UINT,
      gst_redis_reorder_get_held (&self->reorder),
      "reconnects", G_TYPE_UINT64, self->loop.outage.reconnects,
      "disconnected-time", G_TYPE_UINT64,
      gst_redis_outage_get_down_time (&self->loop.outage),
      "last-entry-id", G_TYPE_STRING, read->last_id,
      "latency-last", G_TYPE_DOUBLE, read->latency_last,
      "latency-average", G_TYPE_DOUBLE, read->latency_n ?
      read->latency_sum / read->latency_n : 0.0,
      "latency-max", G_TYPE_DOUBLE, read->latency_max,
      "connected", G_TYPE_BOOLEAN,
      gst_redis_read_loop_is_connected (&self->loop),
      "dead-lettered", G_TYPE_UINT64, read->dead_lettered, NULL);
  if (self->active_ack_mode == GST_REDIS_ACK_DONE) {
    GstRedisAckStats acks;

    gst_redis_ack_tracker_get_stats (self->tracker, &acks);
    gst_structure_set (s,
        "acked-stored", G_TYPE_UINT64, acks.acked_stored,
        "acked-by-sink", G_TYPE_UINT64, acks.acked_by_sink,
        "acked-dropped", G_TYPE_UINT64, acks.acked_dropped,
        "acked-released", G_TYPE_UINT64, acks.acked_released,
        "abandoned", G_TYPE_UINT64, acks.abandoned,
        "failed", G_TYPE_UINT64, acks.failed,
        "in-flight", G_TYPE_UINT, acks.in_flight,
        "reread-skipped", G_TYPE_UINT64, read->reread_skipped, NULL);
  }
  gst_redis_range_add_stats (&self->range, s);
  GST_OBJECT_UNLOCK (self);
  return s;
}

static void
gst_redis_stream_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (object);

  if (gst_redis_settings_set_property (&self->settings, object, prop_id, value))
    return;

  /* a replay is not live: basesrc asks before start () (it takes the
   * object lock itself) */
  if (prop_id == PROP_START)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_string (value)
        == NULL);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_GROUP:
      g_free (self->group_name);
      self->group_name = g_value_dup_string (value);
      break;
    case PROP_CONSUMER:
      g_free (self->consumer);
      self->consumer = g_value_dup_string (value);
      break;
    case PROP_START_ID:
      g_free (self->start_id);
      self->start_id = g_value_dup_string (value);
      break;
    case PROP_BLOCK:
      self->block = g_value_get_uint (value);
      break;
    case PROP_COUNT:
      self->count = g_value_get_uint (value);
      break;
    case PROP_MAX_AGE:
      self->loop.max_age = g_value_get_uint (value);
      break;
    case PROP_MAX_FRAME_SIZE:
      self->max_frame_size = g_value_get_uint64 (value);
      break;
    case PROP_CLAIM_IDLE_TIME:
      self->claim_idle_time = g_value_get_uint (value);
      self->claim_idle_time_set = TRUE;
      break;
    case PROP_REORDER_WINDOW:
      self->reorder_window = g_value_get_uint (value);
      break;
    case PROP_REORDER_TIMEOUT:
      self->reorder_timeout = g_value_get_uint (value);
      break;
    case PROP_TIMESTAMP_MODE:
      self->timestamp_mode = g_value_get_enum (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_REQUEST_KEY_UNITS:
      self->request_key_units = g_value_get_boolean (value);
      break;
    case PROP_METRICS_INTERVAL:
      self->metrics.interval = g_value_get_uint (value);
      break;
    case PROP_START:
      g_free (self->start);
      self->start = g_value_dup_string (value);
      break;
    case PROP_STOP:
      g_free (self->stop);
      self->stop = g_value_dup_string (value);
      break;
    case PROP_ACCURATE:
      self->accurate = g_value_get_boolean (value);
      break;
    case PROP_ACK_MODE:
      self->ack_mode = g_value_get_enum (value);
      break;
    case PROP_DEAD_LETTER_STREAM:
      g_free (self->dead_letter_stream);
      self->dead_letter_stream = g_value_dup_string (value);
      break;
    case PROP_MAX_DELIVERIES:
      self->max_deliveries = g_value_get_uint (value);
      break;
    case PROP_DEAD_LETTER_MAXLEN:
      self->dead_letter_maxlen = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_redis_stream_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (object);

  if (gst_redis_settings_get_property (&self->settings, object, prop_id, value))
    return;

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_redis_stream_src_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_GROUP:
      g_value_set_string (value, self->group_name);
      break;
    case PROP_CONSUMER:
      /* the generated name once started, so that users can find it */
      g_value_set_string (value, self->consumer ? self->consumer :
          self->group.consumer);
      break;
    case PROP_START_ID:
      g_value_set_string (value, self->start_id);
      break;
    case PROP_BLOCK:
      g_value_set_uint (value, self->block);
      break;
    case PROP_COUNT:
      g_value_set_uint (value, self->count);
      break;
    case PROP_MAX_AGE:
      g_value_set_uint (value, self->loop.max_age);
      break;
    case PROP_MAX_FRAME_SIZE:
      g_value_set_uint64 (value, self->max_frame_size);
      break;
    case PROP_CLAIM_IDLE_TIME:
      g_value_set_uint (value, self->claim_idle_time);
      break;
    case PROP_REORDER_WINDOW:
      g_value_set_uint (value, self->reorder_window);
      break;
    case PROP_REORDER_TIMEOUT:
      g_value_set_uint (value, self->reorder_timeout);
      break;
    case PROP_TIMESTAMP_MODE:
      g_value_set_enum (value, self->timestamp_mode);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_REQUEST_KEY_UNITS:
      g_value_set_boolean (value, self->request_key_units);
      break;
    case PROP_METRICS_INTERVAL:
      g_value_set_uint (value, self->metrics.interval);
      break;
    case PROP_START:
      g_value_set_string (value, self->start);
      break;
    case PROP_STOP:
      g_value_set_string (value, self->stop);
      break;
    case PROP_ACCURATE:
      g_value_set_boolean (value, self->accurate);
      break;
    case PROP_ACK_MODE:
      g_value_set_enum (value, self->ack_mode);
      break;
    case PROP_DEAD_LETTER_STREAM:
      g_value_set_string (value, self->dead_letter_stream);
      break;
    case PROP_MAX_DELIVERIES:
      g_value_set_uint (value, self->max_deliveries);
      break;
    case PROP_DEAD_LETTER_MAXLEN:
      g_value_set_uint (value, self->dead_letter_maxlen);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Copies the properties for a start and resets the counters. Under the
 * object lock. */
static void
gst_redis_stream_src_configure (GstRedisStreamSrc * self)
{
  gchar *consumer, *dead_letter_stream;

  gst_redis_settings_copy (&self->active, &self->settings);
  consumer = self->consumer ? g_strdup (self->consumer) :
      g_strdup_printf ("%s-%d", g_get_host_name (), (gint) getpid ());
  gst_redis_group_configure (&self->group, self->group_name, consumer,
      self->start_id, self->count, self->claim_idle_time,
      self->claim_idle_time_set);
  g_free (consumer);
  gst_redis_range_configure (&self->range, self->start, self->stop,
      self->accurate);
  self->loop.group_less = self->start != NULL;
  /* a replay asks the producer for nothing: it reads what was written */
  gst_redis_read_loop_configure (&self->loop, self->block, self->count,
      self->max_frame_size, self->request_key_units && self->start == NULL);
  dead_letter_stream = self->dead_letter_stream ?
      g_strdup (self->dead_letter_stream) :
      g_strconcat (self->active.stream, GST_REDIS_DEAD_LETTER_SUFFIX, NULL);
  self->active_ack_mode = self->ack_mode;
  gst_redis_read_loop_configure_acks (&self->loop, self->tracker,
      self->ack_mode == GST_REDIS_ACK_DONE && self->start == NULL,
      self->max_deliveries,
      dead_letter_stream, self->dead_letter_maxlen);
  g_free (dead_letter_stream);
  gst_redis_ack_tracker_start (self->tracker, self->active.stream,
      self->group.name, self->group.consumer);
  self->negotiated_once = FALSE;
  g_array_set_size (self->refused, 0);
  gst_redis_reorder_start (&self->reorder, self->reorder_window,
      self->reorder_timeout);
  self->active_timestamp_mode = self->timestamp_mode;
  gst_redis_timing_reset (&self->timing);
  gst_redis_key_unit_gate_reset (&self->gate);
  g_atomic_int_set (&self->key_unit_wanted, 0);
  self->held_back_delta = self->timing_resyncs = 0;
}

static gboolean
gst_redis_stream_src_start (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GCancellable *cancellable;
  GError *err = NULL;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  gst_redis_stream_src_configure (self);
  GST_OBJECT_UNLOCK (self);

  if (!gst_redis_settings_validate (&self->active, &err) ||
      (!self->loop.group_less &&
          !gst_redis_group_validate (&self->group, &err)))
    goto failed;
  gst_redis_metrics_start (&self->metrics, self->group.name,
      self->group.consumer, self->loop.block);
  /* a replay reads history, often for a moment, with a user that may only
   * read: it leaves nothing in Redis, no report either */
  if (self->loop.group_less)
    gst_redis_metrics_disable (&self->metrics);

  self->last_summary = g_get_monotonic_time ();
  self->seek_flags = 0;
  cancellable = gst_redis_canceller_get (&self->canceller);
  ok = gst_redis_read_loop_start (&self->loop, cancellable, &err) &&
      (!self->loop.group_less || gst_redis_range_start (&self->range,
          cancellable, &err));
  g_object_unref (cancellable);
  if (!ok)
    goto failed;
  if (self->loop.group_less)
    return TRUE;

  GST_INFO_OBJECT (self, "reading stream \"%s\" as consumer \"%s\" of group "
      "\"%s\" on Redis at %s", self->active.stream, self->group.consumer,
      self->group.name, gst_redis_connection_describe (self->loop.conn));
  return TRUE;

  /* ERRORS */
failed:
  {
    GST_REDIS_ELEMENT_START_FAILED (self, err, &self->active);
    gst_redis_stream_src_stop (bsrc);
    return FALSE;
  }
}

static gboolean
gst_redis_stream_src_stop (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);

  /* what is due goes out before the connection closes; tickets released
   * from now on leave their entries pending */
  gst_redis_read_loop_finish (&self->loop, cancellable);
  g_object_unref (cancellable);
  gst_redis_ack_tracker_stop (self->tracker);
  gst_redis_read_loop_stop (&self->loop);
  gst_redis_range_stop (&self->range);
  gst_redis_group_stop (&self->group);
  GST_OBJECT_LOCK (self);
  gst_clear_caps (&self->caps);
  /* held frames stay pending in Redis: delivered again after a restart */
  gst_redis_reorder_clear (&self->reorder);
  GST_OBJECT_UNLOCK (self);
  /* refused before anything went through: they stay pending */
  g_array_set_size (self->refused, 0);
  return TRUE;
}

static gboolean
gst_redis_stream_src_unlock (GstBaseSrc * bsrc)
{
  return gst_redis_canceller_unlock (&GST_REDIS_STREAM_SRC (bsrc)->canceller);
}

static gboolean
gst_redis_stream_src_unlock_stop (GstBaseSrc * bsrc)
{
  return gst_redis_canceller_unlock_stop (&GST_REDIS_STREAM_SRC
      (bsrc)->canceller);
}

/* Until the first entry tells, any caps; then the entry's caps. */
static GstCaps *
gst_redis_stream_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self);
  if (self->caps)
    caps = gst_caps_ref (self->caps);
  GST_OBJECT_UNLOCK (self);

  if (caps == NULL)
    caps = gst_caps_new_any ();
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* Caps are set from create () when the first entry (or a change) arrives,
 * not negotiated up front: nothing is known before an entry is read. */
static gboolean
gst_redis_stream_src_negotiate (GstBaseSrc * bsrc)
{
  return TRUE;
}

/* With a reorder window (gstredisreorder.c): frames with a sequence number
 * are held and pushed in order; the reads wait no longer than the oldest
 * held frame may. Frames without one pass straight through. */
static gboolean
gst_redis_stream_src_next_in_order (GstRedisStreamSrc * self,
    GCancellable * cancellable, GstRedisFrame * frame, GError ** error)
{
  for (;;) {
    gint64 wait_us;

    switch (gst_redis_reorder_pop (&self->reorder, g_get_monotonic_time (),
            frame, &wait_us)) {
      case GST_REDIS_REORDER_DUE:
        return TRUE;
      case GST_REDIS_REORDER_LATE:
        gst_redis_group_acknowledge (&self->group, g_steal_pointer
            (&frame->id));
        gst_redis_frame_clear (frame);
        continue;
      case GST_REDIS_REORDER_NONE:
        break;
    }

    if (!gst_redis_read_loop_next_within (&self->loop, cancellable, wait_us,
            frame, error))
      return FALSE;
    if (frame->buffer == NULL)
      continue;
    if (!GST_BUFFER_OFFSET_IS_VALID (frame->buffer))
      return TRUE;
    if (!gst_redis_reorder_hold (&self->reorder, frame)) {
      /* came after the frames behind it went out */
      gst_redis_group_acknowledge (&self->group, g_steal_pointer (&frame->id));
      gst_redis_frame_clear (frame);
    }
  }
}

/* Caps as text for a message: valid UTF-8, cut after about @max bytes. */
static gchar *
caps_to_message_string (const GstCaps * caps, gsize max)
{
  gchar *str, *valid;
  const gchar *end;

  if (caps == NULL)
    return g_strdup ("nothing (the pad is not linked)");
  str = gst_caps_to_string (caps);
  valid = g_utf8_make_valid (str, -1);
  g_free (str);
  if (strlen (valid) <= max)
    return valid;
  g_utf8_validate (valid, max, &end);
  str = g_strdup_printf ("%.*s [...]", (gint) (end - valid), valid);
  g_free (valid);
  return str;
}

/* Downstream refused the caps of @frame: say which stream, which caps and
 * what the next element takes instead, rather than basesrc's bare
 * "not-negotiated". */
static void
gst_redis_stream_src_post_not_negotiated (GstRedisStreamSrc * self,
    const GstRedisFrame * frame)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  GstPad *peer = gst_pad_get_peer (pad);
  GstCaps *accepted = peer ? gst_pad_query_caps (peer, NULL) : NULL;
  gchar *short_caps = caps_to_message_string (frame->caps, 200);
  gchar *short_accepted = caps_to_message_string (accepted, 200);
  gchar *full_caps = caps_to_message_string (frame->caps, G_MAXSIZE);
  gchar *long_accepted = caps_to_message_string (accepted, 4096);
  gchar *peer_name = peer ? g_strdup_printf ("%s:%s",
      GST_DEBUG_PAD_NAME (peer)) : g_strdup ("no pad");

  GST_REDIS_ELEMENT_ERROR (self, &self->active, STREAM, FORMAT,
      ("Downstream does not accept the caps of stream \"%s\": %s. The "
          "next element accepts: %s. Convert or decode in front of it "
          "(videoconvert for other raw video formats, jpegdec for "
          "image/jpeg).",
          self->active.stream, short_caps, short_accepted),
      ("entry %s has caps %s; %s accepts %s", frame->id ? frame->id :
          "(none)", full_caps, peer_name, long_accepted));
  g_free (peer_name);
  g_free (short_caps);
  g_free (short_accepted);
  g_free (full_caps);
  g_free (long_accepted);
  gst_clear_caps (&accepted);
  if (peer)
    gst_object_unref (peer);
}

/* The reason of a dead letter for an entry whose caps downstream refused. */
static gchar *
gst_redis_stream_src_refusal_reason (GstRedisStreamSrc * self,
    const GstRedisFrame * frame)
{
  GstPad *peer = gst_pad_get_peer (GST_BASE_SRC_PAD (self));
  GstCaps *accepted = peer ? gst_pad_query_caps (peer, NULL) : NULL;
  gchar *short_caps = caps_to_message_string (frame->caps, 200);
  gchar *short_accepted = caps_to_message_string (accepted, 200);
  gchar *reason;

  reason = g_strdup_printf ("not-negotiated: downstream does not accept its "
      "caps %s (the next element accepts %s)", short_caps, short_accepted);
  g_free (short_caps);
  g_free (short_accepted);
  gst_clear_caps (&accepted);
  if (peer)
    gst_object_unref (peer);
  return reason;
}

/* Downstream refused the caps of @frame. Once an entry went through since
 * start, the pipeline works and this entry is bad: it is set aside
 * (dead-lettered) and the source goes on. Until then it may be the
 * pipeline that is wrong: the first entries refused wait, pending; when
 * REFUSED_AT_START of them in a row were refused, or no other entry comes
 * within a read's block, the not-negotiated error ends the stream (FALSE)
 * and they all stay pending. */
static gboolean
gst_redis_stream_src_refused (GstRedisStreamSrc * self,
    const GstRedisFrame * frame)
{
  RefusedEntry e;

  if (self->negotiated_once) {
    GST_INFO_OBJECT (self, "downstream refused the caps of entry %s: "
        "setting it aside", frame->id);
    gst_redis_ack_tracker_dead_letter (self->tracker, frame->id,
        gst_redis_stream_src_refusal_reason (self, frame), frame->deliveries);
    return TRUE;
  }
  if (self->refused->len + 1 >= REFUSED_AT_START) {
    gst_redis_stream_src_post_not_negotiated (self, frame);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "downstream refused the caps of entry %s before any "
      "entry went through: it stays pending for now", frame->id);
  e.id = g_strdup (frame->id);
  e.reason = gst_redis_stream_src_refusal_reason (self, frame);
  e.deliveries = frame->deliveries;
  e.caps = gst_caps_ref (frame->caps);
  g_array_append_val (self->refused, e);
  return TRUE;
}

/* An entry went through: the pipeline works, the ones refused before it
 * are bad entries and set aside. */
static void
gst_redis_stream_src_negotiated (GstRedisStreamSrc * self)
{
  guint i;

  self->negotiated_once = TRUE;
  for (i = 0; i < self->refused->len; i++) {
    RefusedEntry *e = &g_array_index (self->refused, RefusedEntry, i);

    gst_redis_ack_tracker_dead_letter (self->tracker, e->id,
        g_steal_pointer (&e->reason), e->deliveries);
  }
  g_array_set_size (self->refused, 0);
}

/* Caps belong to each frame, and the frame pushed is not always the entry
 * read last (a reorder window, entries skipped by max-age): the pad gets
 * the caps of the frame about to go out, right before it, when they differ
 * from its current caps (as appsrc queues caps in line with buffers).
 * A caps event downstream refuses would only show up when the buffer
 * behind it is pushed, as basesrc's bare not-negotiated: ask first
 * (ACCEPT_CAPS goes through queues), then check that the peer took them. */
static GstFlowReturn
gst_redis_stream_src_set_frame_caps (GstRedisStreamSrc * self,
    const GstRedisFrame * frame)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  GstCaps *caps = frame->caps;
  GstCaps *current = gst_pad_get_current_caps (pad);
  gboolean same = current && gst_caps_is_equal (current, caps);
  GstPad *peer;

  gst_clear_caps (&current);
  if (same)
    return GST_FLOW_OK;

  GST_DEBUG_OBJECT (self, "caps from entry %s: %" GST_PTR_FORMAT, frame->id,
      caps);
  GST_OBJECT_LOCK (self);
  gst_caps_replace (&self->caps, caps);
  GST_OBJECT_UNLOCK (self);

  if (!gst_pad_peer_query_accept_caps (pad, caps) ||
      !gst_base_src_set_caps (GST_BASE_SRC (self), caps))
    goto refused;

  peer = gst_pad_get_peer (pad);
  if (peer == NULL)
    return GST_FLOW_OK;         /* not linked: the push says so */
  current = gst_pad_get_current_caps (peer);
  same = current && gst_caps_is_equal (current, caps);
  gst_clear_caps (&current);
  if (!same && GST_PAD_IS_FLUSHING (peer))
    same = TRUE;                /* not sent yet: it goes with the buffer */
  gst_object_unref (peer);
  if (!same)
    goto refused;
  return GST_FLOW_OK;

refused:
  /* shutting down or seeking is not a refusal */
  if (GST_PAD_IS_FLUSHING (pad))
    return GST_FLOW_FLUSHING;
  return GST_FLOW_NOT_NEGOTIATED;
}

/* Holds back a delta unit after a start or a gap (skipped or trimmed
 * entries, frames given up by the reorder window, a reconnect, a DISCONT
 * from the producer): acknowledged, counted, not pushed, so no decoder
 * sees a frame whose reference it never got. Returns FALSE for such a
 * frame, whose id it takes. Also decides when the producer is asked for a
 * key frame. */
static gboolean
gst_redis_stream_src_gate (GstRedisStreamSrc * self, GstRedisFrame * frame)
{
  gboolean pass;

  /* A producer that lost frames marks the next one DISCONT. (Sequence
   * numbers cannot tell: parsers number buffers by byte offset.) */
  if (GST_BUFFER_FLAG_IS_SET (frame->buffer, GST_BUFFER_FLAG_DISCONT))
    gst_redis_key_unit_gate_gap (&self->gate);
  if (g_atomic_int_compare_and_exchange (&self->key_unit_wanted, 1, 0))
    gst_redis_key_unit_gate_want (&self->gate);

  pass = gst_redis_key_unit_gate_pass (&self->gate, frame->buffer, frame->caps);
  if (!pass) {
    GST_LOG_OBJECT (self, "holding back delta unit %s until a key frame",
        frame->id);
    GST_OBJECT_LOCK (self);
    self->held_back_delta++;
    GST_OBJECT_UNLOCK (self);
    gst_redis_group_acknowledge (&self->group, g_steal_pointer (&frame->id));
  }
  if (gst_redis_read_loop_can_ask_key_unit (&self->loop) &&
      gst_redis_key_unit_gate_take_request (&self->gate,
          g_get_monotonic_time ()))
    gst_redis_read_loop_ask_key_unit (&self->loop);
  return pass;
}

/* Timestamps for this pipeline's clock (gstredistiming.c). */
static void
gst_redis_stream_src_timestamp (GstRedisStreamSrc * self, GstBuffer * buf)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now;

  if (clock == NULL)
    return;
  now = gst_clock_get_time (clock) - gst_element_get_base_time (GST_ELEMENT
      (self));
  gst_object_unref (clock);
  if (gst_redis_timing_apply (&self->timing, self->active_timestamp_mode, buf,
          now, g_get_real_time () * 1000,
          gst_frame_meta_get_capture_time (buf))) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    GST_OBJECT_LOCK (self);
    self->timing_resyncs = self->timing.resyncs;
    GST_OBJECT_UNLOCK (self);
  }
}

static void
gst_redis_stream_src_log_summary (GstRedisStreamSrc * self)
{
  const GstRedisReadStats *read = &self->loop.stats;
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_summary < SUMMARY_INTERVAL)
    return;
  self->last_summary = now;
  GST_INFO_OBJECT (self, "Read %" G_GUINT64_FORMAT " frames | latency last "
      "%.2f ms, average %.2f ms | skipped %" G_GUINT64_FORMAT " invalid, %"
      G_GUINT64_FORMAT " late | last entry %s", read->frames,
      read->latency_last, read->latency_n ?
      read->latency_sum / read->latency_n : 0.0, read->skipped_invalid,
      read->skipped_late, read->last_id);
}

/* The next frame that may go out: read (in order with a reorder window)
 * and through the key frame gate. With @until_idle, TRUE with @frame empty
 * once a read came back empty. */
static gboolean
gst_redis_stream_src_next (GstRedisStreamSrc * self, GstRedisFrame * frame,
    gboolean until_idle, GError ** error)
{
  GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);
  gboolean ok;

  for (;;) {
    if (gst_redis_reorder_is_on (&self->reorder)) {
      ok = gst_redis_stream_src_next_in_order (self, cancellable, frame, error);
    } else if (until_idle) {
      ok = gst_redis_read_loop_next_within (&self->loop, cancellable, -1,
          frame, error);
      if (ok && frame->buffer == NULL)
        break;
    } else {
      ok = gst_redis_read_loop_next (&self->loop, cancellable, frame, error);
    }
    if (!ok || gst_redis_stream_src_gate (self, frame))
      break;
    gst_redis_frame_clear (frame);
  }
  g_object_unref (cancellable);
  return ok;
}

/* A frame could not be read: cancelled (flushing), or an error posted. */
static GstFlowReturn
gst_redis_stream_src_read_failed (GstRedisStreamSrc * self, GError * err)
{
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    GST_DEBUG_OBJECT (self, "cancelled%s", self->loop.read_in_flight ?
        ", read reply still to come" : "");
    g_clear_error (&err);
    return GST_FLOW_FLUSHING;
  }
  GST_REDIS_ELEMENT_POST (self, GST_MESSAGE_ERROR, err, &self->active);
  g_clear_error (&err);
  return GST_FLOW_ERROR;
}

/* Replay mode (gstredisrange.c): the next frame of the range, with a new
 * segment after the start or a seek. Frames there only to be decoded do
 * not count against num-buffers. */
static GstFlowReturn
gst_redis_stream_src_create_range (GstRedisStreamSrc * self,
    GstBuffer ** outbuf)
{
  GstBaseSrc *bsrc = GST_BASE_SRC (self);
  GstRedisFrame frame = { NULL, };
  GCancellable *cancellable = gst_redis_canceller_get (&self->canceller);
  GstRedisRangeResult res;
  gboolean decode_only = FALSE;
  GstStructure *where;
  GstSegment segment;
  GError *err = NULL;
  GstFlowReturn ret;

  res = gst_redis_range_next (&self->range, cancellable, &frame, &decode_only,
      &err);
  g_object_unref (cancellable);
  if (res == GST_REDIS_RANGE_EOS)
    return GST_FLOW_EOS;
  if (res == GST_REDIS_RANGE_ERROR)
    return gst_redis_stream_src_read_failed (self, err);

  if (gst_redis_range_take_segment (&self->range, &segment, &where)) {
    gst_base_src_new_segment (bsrc, &segment);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), where));
  }
  if (decode_only && bsrc->num_buffers_left >= 0)
    bsrc->num_buffers_left++;
  ret = gst_redis_stream_src_set_frame_caps (self, &frame);
  if (ret == GST_FLOW_NOT_NEGOTIATED)
    gst_redis_stream_src_post_not_negotiated (self, &frame);
  if (ret != GST_FLOW_OK) {
    gst_redis_frame_clear (&frame);
    return ret;
  }
  GST_LOG_OBJECT (self, "frame from entry %s, pts %" GST_TIME_FORMAT "%s",
      frame.id, GST_TIME_ARGS (GST_BUFFER_PTS (frame.buffer)),
      decode_only ? ", only to decode" : "");
  *outbuf = g_steal_pointer (&frame.buffer);
  gst_redis_frame_clear (&frame);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_redis_stream_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (psrc);
  GstRedisFrame frame = { NULL, };
  GError *err = NULL;
  GstFlowReturn ret;

  if (gst_redis_range_is_on (&self->range))
    return gst_redis_stream_src_create_range (self, outbuf);
  if (self->active_ack_mode == GST_REDIS_ACK_PUSHED) {
    GstFlowReturn last = gst_pad_get_last_flow_return (GST_BASE_SRC_PAD (self));

    /* a flush since the push dropped it, whatever the flow return says
     * (FLUSH_STOP resets it to OK) */
    if (self->pushed_epoch != gst_redis_ack_tracker_get_epoch (self->tracker))
      last = GST_FLOW_FLUSHING;
    gst_redis_group_settle_push (&self->group, last);
  }

  for (;;) {
    /* entries refused right after start wait for a verdict: one that goes
     * through, or an idle stream */
    if (!gst_redis_stream_src_next (self, &frame, self->refused->len > 0, &err))
      goto failed;
    if (frame.buffer == NULL)
      goto refused_idle;
    gst_redis_stream_src_timestamp (self, frame.buffer);

    ret = gst_redis_stream_src_set_frame_caps (self, &frame);
    if (ret == GST_FLOW_OK)
      break;
    if (ret != GST_FLOW_NOT_NEGOTIATED) {
      GST_DEBUG_OBJECT (self, "flushing, entry %s stays pending", frame.id);
      gst_redis_frame_clear (&frame);
      return ret;
    }
    if (!gst_redis_stream_src_refused (self, &frame))
      goto not_negotiated;
    gst_redis_frame_clear (&frame);
  }

  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " from entry %s, pts %"
      GST_TIME_FORMAT ", %" G_GSIZE_FORMAT " bytes, latency %.2f ms",
      GST_BUFFER_OFFSET (frame.buffer), frame.id,
      GST_TIME_ARGS (GST_BUFFER_PTS (frame.buffer)),
      gst_buffer_get_size (frame.buffer), self->loop.stats.latency_last);
  gst_redis_stream_src_log_summary (self);
  if (!self->negotiated_once)
    gst_redis_stream_src_negotiated (self);

  if (self->active_ack_mode == GST_REDIS_ACK_DONE) {
    /* acknowledged once its fate is known (gstredisticket.h) */
    GstClockTime rt;

    frame.buffer = gst_buffer_make_writable (frame.buffer);
    GST_OBJECT_LOCK (self);
    rt = gst_segment_to_running_time (&GST_BASE_SRC (self)->segment,
        GST_FORMAT_TIME, GST_BUFFER_PTS (frame.buffer));
    GST_OBJECT_UNLOCK (self);
    gst_redis_ack_tracker_attach (self->tracker, frame.buffer, frame.id,
        frame.deliveries, rt);
  } else {
    /* acknowledged once the push returned OK (the next create ()) */
    self->pushed_epoch = gst_redis_ack_tracker_get_epoch (self->tracker);
    gst_redis_group_set_pushed (&self->group, g_steal_pointer (&frame.id));
  }
  *outbuf = g_steal_pointer (&frame.buffer);
  gst_redis_frame_clear (&frame);
  return GST_FLOW_OK;

  /* ERRORS */
failed:
  return gst_redis_stream_src_read_failed (self, err);
not_negotiated:
  {
    /* not pushed: the entries refused stay pending */
    gst_redis_frame_clear (&frame);
    return GST_FLOW_NOT_NEGOTIATED;
  }
refused_idle:
  {
    RefusedEntry *last = &g_array_index (self->refused, RefusedEntry,
        self->refused->len - 1);

    frame.id = g_strdup (last->id);
    frame.caps = gst_caps_ref (last->caps);
    gst_redis_stream_src_post_not_negotiated (self, &frame);
    gst_redis_frame_clear (&frame);
    return GST_FLOW_NOT_NEGOTIATED;
  }
}
