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
 * another one than the entry read last). Caps that downstream does not
 * accept are an error (#GST_STREAM_ERROR_FORMAT, "Downstream does not
 * accept the caps of stream ...") that names the stream, the caps of the
 * entry and the caps the next element accepts; the entry stays pending.
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
 * An entry is acknowledged (`XACK`) only after its buffer was pushed
 * downstream successfully, so in `redisstreamsrc ! ... ! redisstreamsink`
 * (one streaming thread, no queue) a frame is acknowledged only once its
 * result is stored: delivery is at-least-once. The acknowledgement of one
 * frame travels with the read of the next one, in the same round trip. A
 * frame pushed whose acknowledgement had not gone out when the element
 * stops (the last of `num-buffers`, an EOS, a stop while it was being
 * pushed) stays pending and is delivered again when a consumer of the same
 * name starts, which first re-reads its own pending entries; a source
 * stopped while it waited for the next entry leaves nothing pending
 * (docs/redisstreamsrc.md lists each way of stopping).
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
 * `skipped-deleted` and named in a warning. With each read of new entries
 * the source also asks for the group's lag and the stream's length
 * (`XINFO GROUPS`, `XLEN`, same round trip) to count entries trimmed before
 * the group read them (`trimmed-unread`, with a warning at most every
 * 10 s). A user whose ACL rules refuse `XAUTOCLAIM`, `XINFO` or `XLEN` gets
 * one %GST_RESOURCE_ERROR_NOT_AUTHORIZED warning and the feature is turned
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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisstreamsrc.h"
#include "gstredisstreamselements.h"
#include "gstredisconnection.h"
#include "gstrediscancellable.h"
#include "gstredisoutage.h"
#include "gstredisentry.h"
#include "gstredistiming.h"
#include "gstrediskeyunit.h"

#include <gst/video/video.h>

#include <string.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

#define DEFAULT_GROUP "gst-redis"
#define DEFAULT_CONSUMER NULL
#define DEFAULT_START_ID "$"
#define DEFAULT_BLOCK 1000
#define DEFAULT_COUNT 1
#define DEFAULT_MAX_AGE 0
#define DEFAULT_MAX_FRAME_SIZE GST_REDIS_DEFAULT_MAX_FRAME_SIZE
#define DEFAULT_CLAIM_IDLE_TIME 30000
/* Without claim-idle-time set, take over a dead worker's entries after a
 * quarter of the time the stream keeps its entries, within these bounds. */
#define AUTO_CLAIM_IDLE_MIN 500
#define AUTO_CLAIM_IDLE_DIVISOR 4
/* The least time over which the stream's rate is measured, and between two
 * warnings about trimmed entries. */
#define SAMPLE_INTERVAL G_TIME_SPAN_SECOND
#define TRIM_WARNING_INTERVAL (10 * G_TIME_SPAN_SECOND)
#define DEFAULT_REORDER_WINDOW 0
#define DEFAULT_REORDER_TIMEOUT 100
#define DEFAULT_TIMESTAMP_MODE GST_REDIS_TIMESTAMP_RUNNING_TIME
#define DEFAULT_LATENCY 20
#define DEFAULT_REQUEST_KEY_UNITS TRUE
/* A frame this much older than the next one due is not late: its producer
 * started counting again. */
#define REORDER_RESTART_DISTANCE 1000

typedef struct
{
  guint64 seq;
  GstBuffer *buffer;
  /* the caps of its own entry, set on the pad when it goes out */
  GstCaps *caps;
  gchar *id;
  gint64 arrived;
} HeldFrame;

static void
held_frame_free (HeldFrame * h)
{
  gst_buffer_unref (h->buffer);
  gst_caps_unref (h->caps);
  g_free (h->id);
  g_free (h);
}

static gint
held_frame_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  guint64 x = ((const HeldFrame *) a)->seq, y = ((const HeldFrame *) b)->seq;

  return x < y ? -1 : x > y;
}

#define SUMMARY_INTERVAL (5 * G_TIME_SPAN_SECOND)
/* Field/value pairs one entry may have; more is not an entry of ours. */
#define MAX_FIELDS 64

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
  PROP_STATS,
};

struct _GstRedisStreamSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  GstRedisSettings settings;
  gchar *group;
  gchar *consumer;
  gchar *start_id;
  guint block;
  guint count;
  guint max_age;
  guint64 max_frame_size;
  guint claim_idle_time;
  gboolean claim_idle_time_set;
  guint reorder_window;
  guint reorder_timeout;
  GstRedisTimestampMode timestamp_mode;
  guint latency;
  gboolean request_key_units;

  /* under the object lock: unlock () cancels, unlock_stop () replaces */
  GCancellable *cancellable;

  /* streaming thread only, between start () and stop () */
  GstRedisSettings active;
  gchar *active_group;
  gchar *active_consumer;
  gchar *active_start_id;
  guint active_block;
  guint active_count;
  GstRedisConnection *conn;
  GstRedisEntryDecoder *decoder;
  GstRedisCommand cmd;
  /* "0"-based id while re-reading our own pending entries, then NULL */
  gchar *history_id;
  /* the XREADGROUP whose reply has not been read yet (after a flush) */
  gboolean read_in_flight;
  /* XACKs sent whose replies have not been read yet */
  guint acks_in_flight;
  /* id of the last entry pushed, acknowledged with the next read once its
   * push returned OK */
  gchar *ack_id;
  /* ids to acknowledge with the next read whatever happens downstream:
   * entries skipped (invalid, late, deleted) */
  GPtrArray *ack_now;
  /* BLOCK of the next XREADGROUP, ms */
  guint read_block;
  /* reorder window: frames held, sorted by seq, and the next seq due */
  guint active_reorder_window;
  guint active_reorder_timeout;
  GQueue held;
  guint64 next_seq;
  gboolean next_seq_valid;
  /* caps of the last frame pushed, under the object lock for get_caps () */
  GstCaps *caps;
  /* entries of the last reply not pushed yet (count > 1) */
  GstRedisReplyRef *reply;
  GstRedisReply *entries;
  gsize reply_index;
  GstRedisOutage outage;
  gint64 last_claim;
  gchar *claim_cursor;
  guint claim_idle;
  gboolean claim_idle_auto;
  gboolean claim_idle_warned;
  gint64 last_summary;
  /* largest entry id read so far: where a group that disappeared is made
   * again */
  gchar *read_pos;
  gboolean read_pos_valid;
  guint64 read_pos_ms, read_pos_seq;
  /* the group's position, looked at with each read (XINFO GROUPS, XLEN) */
  gboolean sample_enabled;
  guint samples_in_flight;
  gboolean added_valid;
  gint64 added_at;
  gint64 added;
  gboolean behind_valid;
  gint64 behind;
  guint64 trimmed_unwarned;
  gint64 last_trim_warning;

  /* live timing and key frames (gstredistiming.c, gstrediskeyunit.c) */
  GstRedisTimestampMode active_timestamp_mode;
  gboolean active_request_key_units;
  GstRedisTiming timing;
  GstRedisKeyUnitGate gate;
  /* set by a GstForceKeyUnit event from downstream, any thread */
  gint key_unit_wanted;
  gchar *key_unit_channel;
  gboolean key_unit_publish_due;
  guint publishes_in_flight;

  /* statistics, under the object lock; kept after stop () */
  guint64 frames;
  guint64 held_back_delta;
  guint64 key_unit_requests;
  guint64 timing_resyncs;
  guint64 bytes_out;
  guint64 redelivered;
  guint64 skipped_invalid;
  guint64 skipped_late;
  guint64 skipped_deleted;
  guint64 claimed;
  guint64 trimmed_unread;
  guint retention;
  guint64 reorder_late;
  guint64 reorder_gaps;
  gchar *last_id;
  gdouble latency_last;
  gdouble latency_sum;
  guint64 latency_n;
  gdouble latency_max;
  guint64 bytes_received;
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
static gboolean gst_redis_stream_src_send_read (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error);
static GstRedisReply *gst_redis_stream_src_reply_entries (GstRedisStreamSrc *
    self, GstRedisReply * reply, gboolean * nogroup, GError ** error);

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
   * `skipped-invalid` (#guint64), `skipped-late` (#guint64, by
   * #GstRedisStreamSrc:max-age), `skipped-deleted` (#guint64, pending entries
   * trimmed from the stream before they were processed, own or reported by
   * XAUTOCLAIM), `claimed` (#guint64, entries taken over from other
   * consumers), `trimmed-unread` (#guint64, entries trimmed before the group
   * read them), `retention` (#guint, ms an entry stays in the stream, 0 until
   * measured), `claim-idle-time` (#guint, ms, the value in use),
   * `reorder-late` (#guint64), `reorder-gaps` (#guint64), `reorder-held`
   * (#guint, frames held right now), `reconnects` (#guint64), `last-entry-id`
   * (#gchararray), `latency-last`, `latency-average`, `latency-max` (#gdouble,
   * milliseconds from capture time to the moment the frame was read here),
   * `connected` (#gboolean), `held-back-delta` (#guint64, delta units held
   * back until a key frame), `key-unit-requests` (#guint64, key frames asked
   * of the producer), `timing-resyncs` (#guint64, times the timeline was
   * taken again).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters of frames read and skipped, the last entry id and the "
          "latency from capture", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
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

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Redis stream source", "Source/Network",
      "Reads the entries of a Redis stream in a consumer group "
      "(XREADGROUP), acknowledging each after it was pushed",
      "gst-redis-streams authors");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_redis_stream_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_redis_stream_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_redis_stream_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_redis_stream_src_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_redis_stream_src_get_caps);
  basesrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_redis_stream_src_negotiate);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_redis_stream_src_query);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_redis_stream_src_event);
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_TIMESTAMP_MODE, 0);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_redis_stream_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_redis_stream_src_debug, "redisstreamsrc", 0,
      "Redis stream source");
}

/* redisstreamsink asks whether its frames will be acknowledged on a
 * stream once it returns: they are, here. */
static gboolean
gst_redis_stream_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  gboolean answered;

  GST_OBJECT_LOCK (self);
  answered = gst_redis_ack_query_answer (query, self->settings.stream,
      self->group);
  GST_OBJECT_UNLOCK (self);
  if (answered)
    return TRUE;
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

  if (gst_video_event_is_force_key_unit (event)) {
    GST_DEBUG_OBJECT (self, "downstream asks for a key frame");
    g_atomic_int_set (&self->key_unit_wanted, 1);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
}

static void
gst_redis_stream_src_init (GstRedisStreamSrc * self)
{
  gst_redis_settings_init (&self->settings);
  gst_redis_settings_init (&self->active);
  self->group = g_strdup (DEFAULT_GROUP);
  self->consumer = g_strdup (DEFAULT_CONSUMER);
  self->start_id = g_strdup (DEFAULT_START_ID);
  self->block = DEFAULT_BLOCK;
  self->count = DEFAULT_COUNT;
  self->max_age = DEFAULT_MAX_AGE;
  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->claim_idle_time = DEFAULT_CLAIM_IDLE_TIME;
  self->reorder_window = DEFAULT_REORDER_WINDOW;
  self->reorder_timeout = DEFAULT_REORDER_TIMEOUT;
  self->ack_now = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&self->held);
  self->cancellable = g_cancellable_new ();
  gst_redis_command_init (&self->cmd);

  /* Frames arrive when a producer writes them: a live source in TIME,
   * timestamped for this pipeline's clock (gstredistiming.c). */
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  self->timestamp_mode = DEFAULT_TIMESTAMP_MODE;
  self->latency = DEFAULT_LATENCY;
  self->request_key_units = DEFAULT_REQUEST_KEY_UNITS;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_redis_stream_src_finalize (GObject * object)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (object);

  gst_redis_settings_clear (&self->settings);
  gst_redis_settings_clear (&self->active);
  g_free (self->group);
  g_free (self->consumer);
  g_free (self->start_id);
  g_free (self->active_group);
  g_free (self->active_consumer);
  g_free (self->active_start_id);
  g_free (self->read_pos);
  g_free (self->last_id);
  g_clear_object (&self->cancellable);
  gst_redis_command_clear (&self->cmd);
  g_ptr_array_unref (self->ack_now);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_redis_stream_src_get_stats (GstRedisStreamSrc * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  if (self->conn)
    self->bytes_received = gst_redis_connection_get_bytes_received (self->conn);
  s = gst_structure_new ("application/x-redis-stream-src-stats",
      "frames", G_TYPE_UINT64, self->frames,
      "bytes-received", G_TYPE_UINT64, self->bytes_received,
      "bytes-out", G_TYPE_UINT64, self->bytes_out,
      "redelivered", G_TYPE_UINT64, self->redelivered,
      "skipped-invalid", G_TYPE_UINT64, self->skipped_invalid,
      "skipped-late", G_TYPE_UINT64, self->skipped_late,
      "skipped-deleted", G_TYPE_UINT64, self->skipped_deleted,
      "claimed", G_TYPE_UINT64, self->claimed,
      "trimmed-unread", G_TYPE_UINT64, self->trimmed_unread,
      "held-back-delta", G_TYPE_UINT64, self->held_back_delta,
      "key-unit-requests", G_TYPE_UINT64, self->key_unit_requests,
      "timing-resyncs", G_TYPE_UINT64, self->timing_resyncs,
      "retention", G_TYPE_UINT, self->retention,
      "claim-idle-time", G_TYPE_UINT, self->claim_idle,
      "reorder-late", G_TYPE_UINT64, self->reorder_late,
      "reorder-gaps", G_TYPE_UINT64, self->reorder_gaps,
      "reorder-held", G_TYPE_UINT, g_queue_get_length (&self->held),
      "reconnects", G_TYPE_UINT64, self->outage.reconnects,
      "last-entry-id", G_TYPE_STRING, self->last_id,
      "latency-last", G_TYPE_DOUBLE, self->latency_last,
      "latency-average", G_TYPE_DOUBLE, self->latency_n ?
      self->latency_sum / self->latency_n : 0.0,
      "latency-max", G_TYPE_DOUBLE, self->latency_max,
      "connected", G_TYPE_BOOLEAN, self->conn != NULL &&
      !gst_redis_outage_active (&self->outage), NULL);
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

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_GROUP:
      g_free (self->group);
      self->group = g_value_dup_string (value);
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
      self->max_age = g_value_get_uint (value);
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
      g_value_set_string (value, self->group);
      break;
    case PROP_CONSUMER:
      /* the generated name once started, so that users can find it */
      g_value_set_string (value, self->consumer ? self->consumer :
          self->active_consumer);
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
      g_value_set_uint (value, self->max_age);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GCancellable *
gst_redis_stream_src_get_cancellable (GstRedisStreamSrc * self)
{
  return gst_redis_cancellable_get (GST_OBJECT (self), &self->cancellable);
}

/* An entry id as Redis writes them: "<ms>-<seq>" or "<ms>". */
static gboolean
entry_id_is_valid (const gchar * id)
{
  const gchar *p = id;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '-') {
    p++;
    if (!g_ascii_isdigit (*p))
      return FALSE;
    while (g_ascii_isdigit (*p))
      p++;
  }
  return *p == '\0' && p - id <= 41;
}

static gboolean
gst_redis_stream_src_validate (GstRedisStreamSrc * self, GError ** error)
{
  const gchar *bad = NULL, *what = NULL;

  if (!gst_redis_settings_validate (&self->active, error))
    return FALSE;
  if (self->active_group == NULL || *self->active_group == '\0' ||
      strpbrk (self->active_group, " \t\r\n")) {
    bad = self->active_group;
    what = "group name";
  } else if (self->active_consumer == NULL || *self->active_consumer == '\0'
      || strpbrk (self->active_consumer, " \t\r\n")) {
    bad = self->active_consumer;
    what = "consumer name";
  } else if (self->start_id == NULL || (strcmp (self->start_id, "$") != 0
          && !entry_id_is_valid (self->start_id))) {
    bad = self->start_id;
    what = "start-id (\"$\", \"0\" or an entry id like 1700000000000-0)";
  }
  if (what) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The %s \"%s\" is not valid: it must be non-empty and without "
        "spaces", what, bad ? bad : "");
    return FALSE;
  }
  return TRUE;
}

/* XGROUP CREATE ... MKSTREAM; an existing group is fine. */
static gboolean
gst_redis_stream_src_create_group (GstRedisStreamSrc * self,
    const gchar * start_id, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;

  reply = gst_redis_connection_call (self->conn, cancellable, error, "XGROUP",
      "CREATE", self->active.stream, self->active_group, start_id,
      "MKSTREAM", NULL);
  if (reply == NULL)
    return FALSE;
  if (gst_redis_reply_is_error (reply, "BUSYGROUP")) {
    GST_DEBUG_OBJECT (self, "group \"%s\" exists", self->active_group);
    return TRUE;
  }
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    gst_redis_connection_set_refused (self->conn, reply,
        GST_RESOURCE_ERROR_OPEN_READ, error, "create the consumer group "
        "\"%s\" on stream \"%s\"%s", self->active_group, self->active.stream,
        g_str_has_prefix (reply->str, "WRONGTYPE") ?
        " (the key holds something else than a stream)" : "");
    return FALSE;
  }
  GST_INFO_OBJECT (self, "created group \"%s\" on stream \"%s\" at %s",
      self->active_group, self->active.stream, start_id);
  return TRUE;
}

/* "<ms>-<seq>" (or "<ms>") as two numbers, to compare entry ids. */
static gboolean
entry_id_parse (const gchar * id, guint64 * ms, guint64 * seq)
{
  gchar *end;

  if (!entry_id_is_valid (id))
    return FALSE;
  *ms = g_ascii_strtoull (id, &end, 10);
  *seq = *end == '-' ? g_ascii_strtoull (end + 1, NULL, 10) : 0;
  return TRUE;
}

/* Remembers the largest entry id of a reply: a group that disappears is
 * made again after it, so that what was read here is not read again and
 * what came after is not lost. */
static void
gst_redis_stream_src_note_read (GstRedisStreamSrc * self,
    GstRedisReply * entries)
{
  gsize i;

  for (i = 0; i < entries->elements; i++) {
    GstRedisReply *e = entries->element[i];
    guint64 ms, seq;

    if (e->type != GST_REDIS_REPLY_ARRAY || e->elements < 1 ||
        e->element[0]->type != GST_REDIS_REPLY_STRING ||
        !entry_id_parse (e->element[0]->str, &ms, &seq))
      continue;
    if (self->read_pos_valid && (ms < self->read_pos_ms ||
            (ms == self->read_pos_ms && seq <= self->read_pos_seq)))
      continue;
    g_free (self->read_pos);
    self->read_pos = g_strdup (e->element[0]->str);
    self->read_pos_ms = ms;
    self->read_pos_seq = seq;
    self->read_pos_valid = TRUE;
  }
}

/* The first command on the group: XREADGROUP of this consumer's own pending
 * entries (STREAMS key 0). The group is created only when Redis answers
 * NOGROUP: XGROUP CREATE is a write, refused over maxmemory even for a group
 * that exists, while reading and acknowledging still work there. The
 * entries read are kept for create (). */
static gboolean
gst_redis_stream_src_first_read (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  guint attempt;

  for (attempt = 0;; attempt++) {
    GstRedisReply *reply, *entries;
    gboolean nogroup = FALSE;
    GError *err = NULL;

    if (!gst_redis_stream_src_send_read (self, cancellable, error))
      return FALSE;
    reply = gst_redis_connection_read_reply (self->conn, 0, cancellable, error);
    if (reply == NULL)
      return FALSE;
    self->read_in_flight = FALSE;
    entries = gst_redis_stream_src_reply_entries (self, reply, &nogroup, &err);
    if (entries) {
      self->reply = gst_redis_reply_ref_new (reply);
      self->entries = entries;
      self->reply_index = 0;
      gst_redis_stream_src_note_read (self, entries);
      return TRUE;
    }
    gst_redis_reply_free (reply);
    if (err == NULL) {
      GST_DEBUG_OBJECT (self, "no pending entries, reading new ones");
      g_clear_pointer (&self->history_id, g_free);
      return TRUE;
    }
    if (!nogroup || attempt > 0) {
      /* the stream cannot be opened for reading as configured */
      if (err->domain == GST_RESOURCE_ERROR &&
          err->code == GST_RESOURCE_ERROR_READ)
        err->code = GST_RESOURCE_ERROR_OPEN_READ;
      g_propagate_error (error, err);
      return FALSE;
    }
    g_clear_error (&err);
    if (!gst_redis_stream_src_create_group (self, self->active_start_id,
            cancellable, error))
      return FALSE;
  }
}

/* Reads a field of an XINFO GROUPS entry (RESP2: name, value, ...): an
 * integer, or FALSE when it is nil (Redis does not know it). */
static gboolean
xinfo_get_int (const GstRedisReply * group, const gchar * name, gint64 * out)
{
  gsize i;

  for (i = 0; i + 1 < group->elements; i += 2) {
    const GstRedisReply *k = group->element[i], *v = group->element[i + 1];

    if (k->type == GST_REDIS_REPLY_STRING && g_str_equal (k->str, name)) {
      if (v->type != GST_REDIS_REPLY_INTEGER)
        return FALSE;
      *out = v->integer;
      return TRUE;
    }
  }
  return FALSE;
}

static const GstRedisReply *
xinfo_find_group (const GstRedisReply * reply, const gchar * group)
{
  gsize g, i;

  if (reply->type != GST_REDIS_REPLY_ARRAY)
    return NULL;
  for (g = 0; g < reply->elements; g++) {
    const GstRedisReply *e = reply->element[g];

    if (e->type != GST_REDIS_REPLY_ARRAY)
      continue;
    for (i = 0; i + 1 < e->elements; i += 2) {
      if (e->element[i]->type == GST_REDIS_REPLY_STRING &&
          g_str_equal (e->element[i]->str, "name") &&
          e->element[i + 1]->type == GST_REDIS_REPLY_STRING &&
          g_str_equal (e->element[i + 1]->str, group))
        return e;
    }
  }
  return NULL;
}

/* Before each read of new entries, in the same round trip: the group's
 * read counter and lag (XINFO GROUPS) and the stream's length (XLEN). Redis
 * 7 counts every entry ever added (entries-added = entries-read + lag) and,
 * once it knows the group's position, each entry the group reads; an entry
 * trimmed before the group read it is never counted as read. Just before a
 * read that jumps over trimmed entries, every entry still in the stream is
 * unread, so lag minus the stream's length is the number of entries the
 * group will never see; when it grows, retention removed entries before
 * they were read: they are counted (trimmed-unread) and reported. The
 * growth of entries-added also gives how long the stream keeps an entry
 * (XLEN / rate): retention, from which claim-idle-time is chosen when it is
 * not set. Only commands and small replies are added, no round trip. */
static gboolean
gst_redis_stream_src_send_sample (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  if (!self->sample_enabled || self->history_id)
    return TRUE;
  gst_redis_command_reset (&self->cmd);
  gst_redis_command_add (&self->cmd, "XINFO");
  gst_redis_command_add (&self->cmd, "GROUPS");
  gst_redis_command_add (&self->cmd, self->active.stream);
  if (!gst_redis_connection_send (self->conn, &self->cmd, cancellable, error))
    return FALSE;
  self->samples_in_flight++;
  gst_redis_command_reset (&self->cmd);
  gst_redis_command_add (&self->cmd, "XLEN");
  gst_redis_command_add (&self->cmd, self->active.stream);
  if (!gst_redis_connection_send (self->conn, &self->cmd, cancellable, error))
    return FALSE;
  self->samples_in_flight++;
  return TRUE;
}

static void
gst_redis_stream_src_use_sample (GstRedisStreamSrc * self,
    const GstRedisReply * info, const GstRedisReply * len)
{
  const GstRedisReply *group;
  gint64 now = g_get_monotonic_time ();
  gint64 read, lag, added, behind;

  if (gst_redis_reply_is_error (info, "NOPERM") ||
      gst_redis_reply_is_error (len, "NOPERM")) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
        ("Redis at %s does not let this user run XINFO GROUPS or XLEN on "
            "stream \"%s\", so entries trimmed before they were read cannot "
            "be counted and claim-idle-time cannot follow the stream; grant "
            "+xinfo|groups +xlen.", gst_redis_connection_describe (self->conn),
            self->active.stream), ("%s", info->type == GST_REDIS_REPLY_ERROR ?
            info->str : len->str));
    self->sample_enabled = FALSE;
    return;
  }
  if (info->type == GST_REDIS_REPLY_ERROR
      || len->type != GST_REDIS_REPLY_INTEGER) {
    /* the stream is gone: the read says NOGROUP */
    GST_DEBUG_OBJECT (self, "cannot sample the group: %s",
        info->type == GST_REDIS_REPLY_ERROR ? info->str : "XLEN failed");
    return;
  }
  group = xinfo_find_group (info, self->active_group);
  if (group == NULL || !xinfo_get_int (group, "entries-read", &read) ||
      !xinfo_get_int (group, "lag", &lag)) {
    /* Redis does not know the group's position yet (a group created at an
     * id in the middle of the stream): it does once the group read the
     * stream's first or last entry */
    GST_LOG_OBJECT (self, "group position unknown");
    self->behind_valid = FALSE;
    self->added_valid = FALSE;
    return;
  }

  added = read + lag;
  behind = MAX (0, lag - len->integer);
  if (self->behind_valid && behind > self->behind) {
    guint64 lost = behind - self->behind;

    GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " entries of stream \"%s\" "
        "were trimmed before group \"%s\" read them (last read %s)", lost,
        self->active.stream, self->active_group, self->read_pos);
    GST_OBJECT_LOCK (self);
    self->trimmed_unread += lost;
    gst_redis_key_unit_gate_gap (&self->gate);
    GST_OBJECT_UNLOCK (self);
    self->trimmed_unwarned += lost;
    self->behind = behind;
  } else if (!self->behind_valid) {
    /* The first look. Later ones only count growth: once the group reads
     * on into the stream, lag minus length drops below the number lost. */
    self->behind = behind;
  }
  self->behind_valid = TRUE;
  if (self->trimmed_unwarned > 0 && (self->last_trim_warning == 0 ||
          now - self->last_trim_warning >= TRIM_WARNING_INTERVAL)) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("%" G_GUINT64_FORMAT " frames of stream \"%s\" were trimmed (the "
            "producer's maxlen) before consumer group \"%s\" read them: the "
            "group reads slower than the producer writes. Add consumers to "
            "the group, raise maxlen, or skip old frames with max-age.",
            self->trimmed_unwarned, self->active.stream, self->active_group),
        ("%" G_GUINT64_FORMAT " entries trimmed unread since start; stream "
            "length %" G_GINT64_FORMAT ", group lag %" G_GINT64_FORMAT,
            self->trimmed_unread, len->integer, lag));
    self->trimmed_unwarned = 0;
    self->last_trim_warning = now;
  }

  if (!self->added_valid || added < self->added) {
    self->added = added;
    self->added_at = now;
    self->added_valid = TRUE;
  } else if (now - self->added_at >= SAMPLE_INTERVAL) {
    if (added > self->added && len->integer > 0) {
      gdouble rate = (added - self->added) * (gdouble) G_TIME_SPAN_SECOND /
          (now - self->added_at);
      guint retention = (guint) MIN (len->integer * 1000.0 / rate, G_MAXINT);

      GST_OBJECT_LOCK (self);
      self->retention = retention;
      if (self->claim_idle_auto && self->claim_idle > 0)
        self->claim_idle = CLAMP (retention / AUTO_CLAIM_IDLE_DIVISOR,
            AUTO_CLAIM_IDLE_MIN, DEFAULT_CLAIM_IDLE_TIME);
      GST_OBJECT_UNLOCK (self);
      GST_LOG_OBJECT (self, "stream keeps %u ms (%.1f entries/s), claiming "
          "after %u ms", retention, rate, self->claim_idle);
      if (!self->claim_idle_auto && self->claim_idle > retention &&
          !self->claim_idle_warned) {
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
            ("claim-idle-time=%u ms is longer than stream \"%s\" keeps its "
                "entries (about %u ms at %.0f entries/s): the frames of a "
                "consumer that died are trimmed before another one takes "
                "them over, and are lost (counted in skipped-deleted). Leave "
                "claim-idle-time unset, set it below %u, or raise maxlen.",
                self->claim_idle, self->active.stream, retention, rate,
                retention / AUTO_CLAIM_IDLE_DIVISOR), (NULL));
        self->claim_idle_warned = TRUE;
      }
    }
    self->added = added;
    self->added_at = now;
  }
}

/* The replies of the last send_sample (), which come before the read's. */
static gboolean
gst_redis_stream_src_read_sample (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) info = NULL;
  g_autoptr (GstRedisReply) len = NULL;

  if (self->samples_in_flight == 0)
    return TRUE;
  info = gst_redis_connection_read_reply (self->conn, 0, cancellable, error);
  if (info == NULL)
    return FALSE;
  self->samples_in_flight--;
  len = gst_redis_connection_read_reply (self->conn, 0, cancellable, error);
  if (len == NULL)
    return FALSE;
  self->samples_in_flight--;
  if (self->sample_enabled)
    gst_redis_stream_src_use_sample (self, info, len);
  return TRUE;
}

static gboolean
gst_redis_stream_src_start (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GCancellable *cancellable;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  gst_redis_settings_copy (&self->active, &self->settings);
  g_free (self->active_group);
  self->active_group = g_strdup (self->group);
  g_free (self->active_consumer);
  self->active_consumer = self->consumer ? g_strdup (self->consumer) :
      g_strdup_printf ("%s-%d", g_get_host_name (), (gint) getpid ());
  g_free (self->active_start_id);
  self->active_start_id = g_strdup (self->start_id);
  self->active_block = self->block;
  self->read_block = self->block;
  self->active_count = self->count;
  self->frames = self->bytes_out = self->redelivered = 0;
  self->skipped_invalid = self->skipped_late = self->skipped_deleted = 0;
  self->claimed = 0;
  self->trimmed_unread = 0;
  self->retention = 0;
  self->reorder_late = self->reorder_gaps = 0;
  self->claim_idle = self->claim_idle_time;
  self->claim_idle_auto = !self->claim_idle_time_set;
  self->claim_idle_warned = FALSE;
  self->active_reorder_window = self->reorder_window;
  self->active_reorder_timeout = self->reorder_timeout;
  self->active_timestamp_mode = self->timestamp_mode;
  self->active_request_key_units = self->request_key_units;
  gst_redis_timing_reset (&self->timing);
  gst_redis_key_unit_gate_reset (&self->gate);
  g_atomic_int_set (&self->key_unit_wanted, 0);
  self->key_unit_publish_due = FALSE;
  self->publishes_in_flight = 0;
  self->held_back_delta = self->key_unit_requests = self->timing_resyncs = 0;
  g_free (self->key_unit_channel);
  self->key_unit_channel = gst_redis_key_unit_channel (self->active.stream);
  self->next_seq_valid = FALSE;
  gst_redis_outage_init (&self->outage, GST_ELEMENT (self),
      GST_RESOURCE_ERROR_READ, self->active.reconnect_timeout);
  self->latency_last = self->latency_sum = self->latency_max = 0;
  self->latency_n = 0;
  self->bytes_received = 0;
  g_clear_pointer (&self->last_id, g_free);
  GST_OBJECT_UNLOCK (self);

  if (!gst_redis_stream_src_validate (self, &err))
    goto failed;

  self->conn = gst_redis_connection_new (&self->active);
  self->decoder = gst_redis_entry_decoder_new ();
  GST_OBJECT_LOCK (self);
  gst_redis_entry_decoder_set_max_frame_size (self->decoder,
      self->max_frame_size);
  /* A value that cannot hold a frame of max-frame-size bytes, even
   * LZ4-compressed at its worst (+1/255, block headers), is dropped as it
   * arrives instead of being read into memory; the entry is skipped. */
  gst_redis_connection_set_max_bulk (self->conn,
      self->max_frame_size > G_MAXUINT64 / 2 ? G_MAXUINT64 :
      self->max_frame_size + self->max_frame_size / 255 + 64 * 1024);
  GST_OBJECT_UNLOCK (self);
  /* Our own pending entries first, then new ones. */
  self->history_id = g_strdup ("0");
  self->read_in_flight = FALSE;
  self->acks_in_flight = 0;
  self->last_summary = g_get_monotonic_time ();
  self->last_claim = 0;
  g_free (self->claim_cursor);
  self->claim_cursor = g_strdup ("0-0");
  g_clear_pointer (&self->read_pos, g_free);
  self->read_pos_valid = FALSE;
  self->sample_enabled = TRUE;
  self->samples_in_flight = 0;
  self->added_valid = self->behind_valid = FALSE;
  self->trimmed_unwarned = 0;
  self->last_trim_warning = 0;

  cancellable = gst_redis_stream_src_get_cancellable (self);
  if (!gst_redis_connection_open (self->conn, cancellable, &err) ||
      !gst_redis_stream_src_first_read (self, cancellable, &err)) {
    g_object_unref (cancellable);
    goto failed;
  }
  g_object_unref (cancellable);

  GST_INFO_OBJECT (self, "reading stream \"%s\" as consumer \"%s\" of group "
      "\"%s\" on Redis at %s", self->active.stream, self->active_consumer,
      self->active_group, gst_redis_connection_describe (self->conn));
  return TRUE;

  /* ERRORS */
failed:
  {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      GST_DEBUG_OBJECT (self, "start cancelled");
    else
      GST_REDIS_ELEMENT_POST (self, GST_MESSAGE_ERROR, err, &self->active);
    g_clear_error (&err);
    gst_redis_stream_src_stop (bsrc);
    return FALSE;
  }
}

static gboolean
gst_redis_stream_src_stop (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GstRedisConnection *conn;

  GST_OBJECT_LOCK (self);
  conn = self->conn;
  if (conn)
    self->bytes_received = gst_redis_connection_get_bytes_received (conn);
  self->conn = NULL;
  GST_OBJECT_UNLOCK (self);

  if (conn) {
    GST_INFO_OBJECT (self, "read %" G_GUINT64_FORMAT " frames from stream "
        "\"%s\"%s%s", self->frames, self->active.stream,
        self->ack_id ? ", left pending: " : "",
        self->ack_id ? self->ack_id : "");
    gst_redis_connection_free (conn);
  }
  g_clear_pointer (&self->decoder, gst_redis_entry_decoder_free);
  self->entries = NULL;
  g_clear_pointer (&self->reply, gst_redis_reply_ref_unref);
  g_clear_pointer (&self->history_id, g_free);
  g_clear_pointer (&self->ack_id, g_free);
  g_clear_pointer (&self->claim_cursor, g_free);
  g_clear_pointer (&self->key_unit_channel, g_free);
  g_ptr_array_set_size (self->ack_now, 0);
  GST_OBJECT_LOCK (self);
  gst_clear_caps (&self->caps);
  /* held frames stay pending in Redis: delivered again after a restart */
  g_queue_clear_full (&self->held, (GDestroyNotify) held_frame_free);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_redis_stream_src_unlock (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  GST_LOG_OBJECT (self, "unlocking");
  gst_redis_cancellable_cancel (GST_OBJECT (self), &self->cancellable);
  return TRUE;
}

static gboolean
gst_redis_stream_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  GST_LOG_OBJECT (self, "unlock stop");
  gst_redis_cancellable_renew (GST_OBJECT (self), &self->cancellable);
  return TRUE;
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

/* The entry pushed last is acknowledged once its push came back OK; a
 * flush that dropped it leaves it pending, to be read again. */
static void
gst_redis_stream_src_settle_push (GstRedisStreamSrc * self)
{
  GstFlowReturn last = gst_pad_get_last_flow_return (GST_BASE_SRC_PAD (self));

  if (self->ack_id == NULL)
    return;
  if (last == GST_FLOW_OK) {
    g_ptr_array_add (self->ack_now, g_steal_pointer (&self->ack_id));
  } else {
    GST_DEBUG_OBJECT (self, "not acknowledging %s: %s", self->ack_id,
        gst_flow_get_name (last));
    g_clear_pointer (&self->ack_id, g_free);
  }
}

/* Sends one XACK for the entries pushed or skipped since the last read,
 * without waiting for the reply: it is read before the next XREADGROUP
 * reply. */
static gboolean
gst_redis_stream_src_send_acks (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  guint i;

  if (self->ack_now->len == 0)
    return TRUE;

  gst_redis_command_reset (&self->cmd);
  gst_redis_command_add (&self->cmd, "XACK");
  gst_redis_command_add (&self->cmd, self->active.stream);
  gst_redis_command_add (&self->cmd, self->active_group);
  for (i = 0; i < self->ack_now->len; i++)
    gst_redis_command_add (&self->cmd, g_ptr_array_index (self->ack_now, i));
  if (!gst_redis_connection_send (self->conn, &self->cmd, cancellable, error))
    return FALSE;
  self->acks_in_flight++;
  GST_LOG_OBJECT (self, "acknowledged %u entries", self->ack_now->len);
  g_ptr_array_set_size (self->ack_now, 0);
  return TRUE;
}

static gboolean
gst_redis_stream_src_send_read (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  gst_redis_command_reset (&self->cmd);
  gst_redis_command_add (&self->cmd, "XREADGROUP");
  gst_redis_command_add (&self->cmd, "GROUP");
  gst_redis_command_add (&self->cmd, self->active_group);
  gst_redis_command_add (&self->cmd, self->active_consumer);
  gst_redis_command_add (&self->cmd, "COUNT");
  gst_redis_command_add_printf (&self->cmd, "%u", self->active_count);
  if (self->history_id == NULL) {
    /* BLOCK only applies to new entries; pending ones come at once. */
    gst_redis_command_add (&self->cmd, "BLOCK");
    gst_redis_command_add_printf (&self->cmd, "%u", self->read_block);
  }
  gst_redis_command_add (&self->cmd, "STREAMS");
  gst_redis_command_add (&self->cmd, self->active.stream);
  gst_redis_command_add (&self->cmd, self->history_id ? self->history_id : ">");
  if (!gst_redis_connection_send (self->conn, &self->cmd, cancellable, error))
    return FALSE;
  self->read_in_flight = TRUE;
  return TRUE;
}

static gboolean
gst_redis_stream_src_read_acks (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  while (self->acks_in_flight > 0) {
    GstRedisReply *reply = gst_redis_connection_read_reply (self->conn, 0,
        cancellable, error);

    if (reply == NULL)
      return FALSE;
    self->acks_in_flight--;
    if (reply->type != GST_REDIS_REPLY_INTEGER) {
      gst_redis_connection_set_refused (self->conn, reply,
          GST_RESOURCE_ERROR_WRITE, error, "acknowledge an entry of stream "
          "\"%s\" in group \"%s\"", self->active.stream, self->active_group);
      gst_redis_reply_free (reply);
      return FALSE;
    }
    gst_redis_reply_free (reply);
  }
  return TRUE;
}

/* Asks the producer for a key frame (gstrediskeyunit.h), pipelined with the
 * next read like the XACKs: a PUBLISH whose reply is read before the read's
 * reply. */
static gboolean
gst_redis_stream_src_send_key_unit_request (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  if (!self->key_unit_publish_due)
    return TRUE;
  self->key_unit_publish_due = FALSE;
  gst_redis_command_reset (&self->cmd);
  gst_redis_command_add (&self->cmd, "PUBLISH");
  gst_redis_command_add (&self->cmd, self->key_unit_channel);
  gst_redis_command_add (&self->cmd, GST_REDIS_KEY_UNIT_REQUEST);
  if (!gst_redis_connection_send (self->conn, &self->cmd, cancellable, error))
    return FALSE;
  self->publishes_in_flight++;
  GST_OBJECT_LOCK (self);
  self->key_unit_requests++;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "asked for a key frame on channel \"%s\"",
      self->key_unit_channel);
  return TRUE;
}

/* PUBLISH answers with the number of subscribers. One this user may not
 * publish on turns requests off, with one warning: the stream still plays
 * from the next key frame. */
static gboolean
gst_redis_stream_src_read_key_unit_replies (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  while (self->publishes_in_flight > 0) {
    GstRedisReply *reply = gst_redis_connection_read_reply (self->conn, 0,
        cancellable, error);

    if (reply == NULL)
      return FALSE;
    self->publishes_in_flight--;
    if (reply->type == GST_REDIS_REPLY_INTEGER) {
      GST_LOG_OBJECT (self, "key frame request heard by %" G_GINT64_FORMAT
          " producers", reply->integer);
    } else if (self->active_request_key_units) {
      gint code = gst_redis_reply_is_error (reply, "NOPERM") ?
          GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_WRITE;

      self->active_request_key_units = FALSE;
      gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_WARNING,
          GST_RESOURCE_ERROR, code, g_strdup_printf ("Redis at %s does not "
              "let this user ask the producer of stream \"%s\" for key "
              "frames (PUBLISH %s): playback starts at the next key frame "
              "the producer sends. Allow the channel in the user's ACL "
              "(docs/security.md).",
              gst_redis_connection_describe (self->conn),
              self->active.stream, self->key_unit_channel),
          g_strdup (reply->str ? reply->str : ""), __FILE__, GST_FUNCTION,
          __LINE__);
    }
    gst_redis_reply_free (reply);
  }
  return TRUE;
}

/* Checks the shape of an XREADGROUP reply and returns its entries array:
 * [[stream, [[id, [field, value, ...]], ...]]]. NULL with no error: no
 * entries (a timeout, or the end of our pending entries). */
static GstRedisReply *
gst_redis_stream_src_reply_entries (GstRedisStreamSrc * self,
    GstRedisReply * reply, gboolean * nogroup, GError ** error)
{
  GstRedisReply *stream;

  if (reply->type == GST_REDIS_REPLY_NIL)
    return NULL;
  /* NOGROUP: the group (or stream) is gone */
  if (nogroup)
    *nogroup = gst_redis_reply_is_error (reply, "NOGROUP");
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    gst_redis_connection_set_refused (self->conn, reply,
        GST_RESOURCE_ERROR_READ, error, "read stream \"%s\" in group \"%s\"%s",
        self->active.stream, self->active_group,
        g_str_has_prefix (reply->str, "WRONGTYPE") ?
        " (the key holds something else than a stream now)" : "");
    return NULL;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != GST_REDIS_REPLY_ARRAY ||
      reply->element[0]->elements != 2 ||
      reply->element[0]->element[1]->type != GST_REDIS_REPLY_ARRAY)
    goto bad_reply;
  stream = reply->element[0]->element[1];
  if (stream->elements == 0)
    return NULL;
  return stream;

bad_reply:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "Redis at %s sent an XREADGROUP reply of unexpected shape",
      gst_redis_connection_describe (self->conn));
  return NULL;
}

static void
gst_redis_stream_src_skip (GstRedisStreamSrc * self, const gchar * id,
    guint64 * counter)
{
  GST_OBJECT_LOCK (self);
  (*counter)++;
  GST_OBJECT_UNLOCK (self);
  g_ptr_array_add (self->ack_now, g_strdup (id));
  /* whatever came after it may refer to it */
  gst_redis_key_unit_gate_gap (&self->gate);
}

/* Decodes one entry of the current reply. Returns a buffer and the caps
 * of its entry in @caps, or NULL when the entry was skipped (and is to be
 * acknowledged). */
static GstBuffer *
gst_redis_stream_src_decode_entry (GstRedisStreamSrc * self,
    GstRedisReply * entry, GstCaps ** caps, GError ** error)
{
  GstRedisField fields[MAX_FIELDS];
  GstRedisReply *values, *id;
  GstBuffer *buf;
  GError *err = NULL;
  guint max_age;
  gsize i, n;

  if (entry->type != GST_REDIS_REPLY_ARRAY || entry->elements != 2 ||
      entry->element[0]->type != GST_REDIS_REPLY_STRING) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s sent a stream entry of unexpected shape",
        gst_redis_connection_describe (self->conn));
    return NULL;
  }
  id = entry->element[0];
  values = entry->element[1];

  if (self->history_id) {
    g_free (self->history_id);
    self->history_id = g_strdup (id->str);
  }

  if (values->type == GST_REDIS_REPLY_NIL) {
    /* A pending entry that MAXLEN trimmed away before we read it again. */
    GST_WARNING_OBJECT (self, "pending entry %s was deleted from stream "
        "\"%s\" before it could be read again", id->str, self->active.stream);
    gst_redis_stream_src_skip (self, id->str, &self->skipped_deleted);
    return NULL;
  }
  if (values->type != GST_REDIS_REPLY_ARRAY || values->elements % 2 != 0 ||
      values->elements / 2 > MAX_FIELDS) {
    err = g_error_new (GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "it has %" G_GSIZE_FORMAT
        " values, not field/value pairs (at most %d)", values->elements,
        MAX_FIELDS);
    goto invalid;
  }

  n = values->elements / 2;
  for (i = 0; i < n; i++) {
    GstRedisReply *name = values->element[2 * i];
    GstRedisReply *value = values->element[2 * i + 1];

    if (name->type == GST_REDIS_REPLY_STRING
        && value->type == GST_REDIS_REPLY_ERROR) {
      /* the connection dropped a value too large for max-frame-size */
      err = g_error_new (GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_TOO_LARGE, "field \"%.*s\" holds %s "
          "(max-frame-size is %" G_GUINT64_FORMAT ")", (gint) MIN (name->len,
              64), name->str, value->str, self->max_frame_size);
      goto invalid;
    }
    if (name->type != GST_REDIS_REPLY_STRING
        || value->type != GST_REDIS_REPLY_STRING) {
      err =
          g_error_new (GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_BAD_FIELD,
          "field %" G_GSIZE_FORMAT " is not a string", i);
      goto invalid;
    }
    fields[i].name = name->str;
    fields[i].name_len = name->len;
    fields[i].value = value->str;
    fields[i].value_len = value->len;
  }

  buf = gst_redis_entry_decoder_decode (self->decoder, fields, n, self->reply,
      caps, &err);
  if (buf == NULL)
    goto invalid;

  GST_OBJECT_LOCK (self);
  max_age = self->max_age;
  GST_OBJECT_UNLOCK (self);
  {
    gint64 capture = gst_redis_buffer_get_capture_time (buf);

    if (capture >= 0) {
      gdouble latency = (g_get_real_time () * 1000 - capture) / 1e6;

      if (max_age > 0 && latency > max_age) {
        GST_DEBUG_OBJECT (self, "entry %s is %.1f ms old, skipping", id->str,
            latency);
        gst_buffer_unref (buf);
        gst_clear_caps (caps);
        gst_redis_stream_src_skip (self, id->str, &self->skipped_late);
        return NULL;
      }
      GST_OBJECT_LOCK (self);
      self->latency_last = latency;
      self->latency_sum += latency;
      self->latency_n++;
      self->latency_max = MAX (self->latency_max, latency);
      GST_OBJECT_UNLOCK (self);
    }
  }

  GST_OBJECT_LOCK (self);
  self->frames++;
  self->bytes_out += gst_buffer_get_size (buf);
  if (self->history_id)
    self->redelivered++;
  g_free (self->last_id);
  self->last_id = g_strdup (id->str);
  GST_OBJECT_UNLOCK (self);
  g_free (self->ack_id);
  self->ack_id = g_strdup (id->str);
  return buf;

invalid:
  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      ("Skipped entry %s of stream \"%s\": it is not a frame this element "
          "can read.", id->str, self->active.stream),
      ("entry %s: %s", id->str, err->message));
  g_clear_error (&err);
  gst_redis_stream_src_skip (self, id->str, &self->skipped_invalid);
  return NULL;
}

static void
gst_redis_stream_src_log_summary (GstRedisStreamSrc * self)
{
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_summary < SUMMARY_INTERVAL)
    return;
  self->last_summary = now;
  GST_INFO_OBJECT (self, "Read %" G_GUINT64_FORMAT " frames | latency last "
      "%.2f ms, average %.2f ms | skipped %" G_GUINT64_FORMAT " invalid, %"
      G_GUINT64_FORMAT " late | last entry %s", self->frames,
      self->latency_last, self->latency_n ?
      self->latency_sum / self->latency_n : 0.0, self->skipped_invalid,
      self->skipped_late, self->last_id);
}

static void
gst_redis_stream_src_claim_deleted (GstRedisStreamSrc * self,
    GstRedisReply * ids)
{
  GString *list = g_string_new (NULL);
  gsize i;

  for (i = 0; i < ids->elements; i++) {
    if (ids->element[i]->type != GST_REDIS_REPLY_STRING)
      continue;
    GST_WARNING_OBJECT (self, "pending entry %s of group \"%s\" was trimmed "
        "from stream \"%s\" before it was taken over: lost",
        ids->element[i]->str, self->active_group, self->active.stream);
    if (i < 20)
      g_string_append_printf (list, "%s%s", i ? " " : "", ids->element[i]->str);
  }
  if (ids->elements > 20)
    g_string_append (list, " ...");
  GST_OBJECT_LOCK (self);
  self->skipped_deleted += ids->elements;
  GST_OBJECT_UNLOCK (self);
  GST_ELEMENT_WARNING (self, RESOURCE, READ,
      ("%" G_GSIZE_FORMAT " frames of stream \"%s\" that a consumer of group "
          "\"%s\" had read but not acknowledged (it stopped or died) were "
          "trimmed from the stream before they could be taken over: they are "
          "lost. Lower claim-idle-time (now %u ms) or raise the producer's "
          "maxlen.", ids->elements, self->active.stream, self->active_group,
          self->claim_idle), ("entries %s", list->str));
  g_string_free (list, TRUE);
}

/* Takes over entries that other consumers of the group read but did not
 * acknowledge within claim-idle-time (a worker that died): XAUTOCLAIM,
 * at most once a second. Returns the claimed entries in self->entries. */
static gboolean
gst_redis_stream_src_autoclaim (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  GstRedisReply *reply;
  gint64 now = g_get_monotonic_time ();
  gchar idle[16], count[16];

  /* at most once a second, or twice per claim-idle-time when shorter */
  if (self->claim_idle == 0 || self->history_id ||
      now - self->last_claim < MIN (G_TIME_SPAN_SECOND,
          (gint64) self->claim_idle * 1000 / 2))
    return TRUE;
  self->last_claim = now;

  g_snprintf (idle, sizeof (idle), "%u", self->claim_idle);
  g_snprintf (count, sizeof (count), "%u", self->active_count);
  reply = gst_redis_connection_call (self->conn, cancellable, error,
      "XAUTOCLAIM", self->active.stream, self->active_group,
      self->active_consumer, idle, self->claim_cursor, "COUNT", count, NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    /* A user without +xautoclaim: say so once, then stop trying; anything
     * else (NOGROUP) shows up in the next read. */
    if (g_str_has_prefix (reply->str, "NOPERM")) {
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_AUTHORIZED,
          ("Redis at %s does not let this user run XAUTOCLAIM on stream "
              "\"%s\", so entries left by dead consumers will not be taken "
              "over; grant +xautoclaim or set claim-idle-time=0.",
              gst_redis_connection_describe (self->conn),
              self->active.stream), ("%s", reply->str));
      self->claim_idle = 0;
    } else {
      GST_WARNING_OBJECT (self, "XAUTOCLAIM failed: %s", reply->str);
    }
    gst_redis_reply_free (reply);
    return TRUE;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[0]->type != GST_REDIS_REPLY_STRING ||
      reply->element[1]->type != GST_REDIS_REPLY_ARRAY) {
    gst_redis_reply_free (reply);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s sent an XAUTOCLAIM reply of unexpected shape",
        gst_redis_connection_describe (self->conn));
    return FALSE;
  }
  g_free (self->claim_cursor);
  self->claim_cursor = g_strdup (reply->element[0]->str);
  /* Redis 7: the ids of pending entries that were trimmed from the stream,
   * which XAUTOCLAIM has just removed from the pending list. Their frames
   * are lost; say which. */
  if (reply->elements >= 3 && reply->element[2]->type == GST_REDIS_REPLY_ARRAY
      && reply->element[2]->elements > 0)
    gst_redis_stream_src_claim_deleted (self, reply->element[2]);
  if (reply->element[1]->elements == 0) {
    gst_redis_reply_free (reply);
    return TRUE;
  }
  GST_INFO_OBJECT (self, "claimed %" G_GSIZE_FORMAT " entries idle for more "
      "than %u ms", reply->element[1]->elements, self->claim_idle);
  GST_OBJECT_LOCK (self);
  self->claimed += reply->element[1]->elements;
  GST_OBJECT_UNLOCK (self);
  self->reply = gst_redis_reply_ref_new (reply);
  self->entries = reply->element[1];
  self->reply_index = 0;
  /* more may be waiting: look again at the next read */
  if (!g_str_equal (self->claim_cursor, "0-0"))
    self->last_claim = 0;
  return TRUE;
}

/* Connection lost: warn once, then try again with a backoff until it
 * works, the element is stopped (cancelled), or reconnect-timeout ran out.
 * Pending entries of this consumer are read again afterwards, so a frame
 * whose acknowledgement was lost comes again rather than not at all. */
static gboolean
gst_redis_stream_src_reconnect (GstRedisStreamSrc * self,
    GCancellable * cancellable, GError ** error)
{
  GstRedisReconnect res;

  if (gst_redis_outage_begin (&self->outage))
    gst_redis_outage_warn (&self->outage, self->conn, *error, NULL);
  g_clear_error (error);
  self->read_in_flight = FALSE;
  self->acks_in_flight = 0;
  self->samples_in_flight = 0;
  self->entries = NULL;
  g_clear_pointer (&self->reply, gst_redis_reply_ref_unref);

  /* No XGROUP CREATE here: it is a write, refused over maxmemory. A group
   * that Redis lost shows up as NOGROUP at the next read. */
  do {
    if (!gst_redis_wait_cancellable (cancellable,
            gst_redis_outage_wait_us (&self->outage))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      return FALSE;
    }
    res = gst_redis_outage_reconnect (&self->outage, self->conn, cancellable,
        error);
  } while (res == GST_REDIS_RECONNECT_LATER);
  if (res != GST_REDIS_RECONNECT_OK)
    return FALSE;

  g_free (self->history_id);
  self->history_id = g_strdup ("0");
  gst_redis_outage_end (&self->outage, self->conn, self->active.stream);
  /* frames may have been lost: wait for a key frame; a PUBLISH sent on the
   * lost connection has no reply to read */
  gst_redis_key_unit_gate_gap (&self->gate);
  self->publishes_in_flight = 0;
  return TRUE;
}

/* NOGROUP: the group or the stream was deleted (XGROUP DESTROY, DEL, a
 * Redis restart without persistence). Makes it again after the last entry
 * read here, so that nothing read is read again (no replay of the stream)
 * and nothing written since is lost. */
static gboolean
gst_redis_stream_src_recreate_group (GstRedisStreamSrc * self,
    const GError * nogroup, GCancellable * cancellable, GError ** error)
{
  const gchar *at = self->read_pos ? self->read_pos : self->active_start_id;

  if (self->read_pos) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("The consumer group \"%s\" of stream \"%s\" disappeared; "
            "creating it again after entry %s, the last one read "
            "here: entries written since are read, older ones are "
            "not read again.", self->active_group,
            self->active.stream, at), ("%s", nogroup->message));
  } else {
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("The consumer group \"%s\" of stream \"%s\" disappeared "
            "before anything was read; creating it again at "
            "start-id %s.", self->active_group, self->active.stream,
            at), ("%s", nogroup->message));
  }
  g_clear_pointer (&self->history_id, g_free);
  self->behind_valid = self->added_valid = FALSE;
  return gst_redis_stream_src_create_group (self, at, cancellable, error);
}

/* What one step of reading came to. */
typedef enum
{
  SRC_STEP_AGAIN,               /* a frame in *buf, or read on */
  SRC_STEP_EMPTY,               /* a read came back empty */
  SRC_STEP_ERROR,
} SrcStep;

/* One step of reading: the next entry of the last reply, or the
 * acknowledgements, claims and samples due and the next XREADGROUP, with
 * its reply. */
static SrcStep
gst_redis_stream_src_read_step (GstRedisStreamSrc * self,
    GCancellable * cancellable, GstBuffer ** buf, GstCaps ** caps,
    GError ** error)
{
  GstRedisReply *reply;
  gboolean nogroup = FALSE;
  GError *err = NULL;

  if (!gst_redis_stream_src_send_acks (self, cancellable, &err) ||
      !gst_redis_stream_src_send_key_unit_request (self, cancellable, &err))
    goto failed;

  /* Entries left from a read of several. */
  if (self->entries && self->reply_index < self->entries->elements) {
    *buf = gst_redis_stream_src_decode_entry (self,
        self->entries->element[self->reply_index++], caps, &err);
    if (*buf == NULL && err)
      goto failed;
    return SRC_STEP_AGAIN;
  }
  self->entries = NULL;
  g_clear_pointer (&self->reply, gst_redis_reply_ref_unref);

  if (!self->read_in_flight) {
    if (!gst_redis_stream_src_read_acks (self, cancellable, &err) ||
        !gst_redis_stream_src_read_key_unit_replies (self, cancellable, &err) ||
        !gst_redis_stream_src_autoclaim (self, cancellable, &err))
      goto failed;
    if (self->entries)
      return SRC_STEP_AGAIN;
    if (!gst_redis_stream_src_send_sample (self, cancellable, &err) ||
        !gst_redis_stream_src_send_read (self, cancellable, &err))
      goto failed;
  }
  if (!gst_redis_stream_src_read_acks (self, cancellable, &err) ||
      !gst_redis_stream_src_read_key_unit_replies (self, cancellable, &err) ||
      !gst_redis_stream_src_read_sample (self, cancellable, &err))
    goto failed;

  reply = gst_redis_connection_read_reply (self->conn, self->active_block,
      cancellable, &err);
  if (reply == NULL)
    goto failed;
  self->read_in_flight = FALSE;
  if (gst_redis_reply_is_error (reply, "UNBLOCKED")) {
    /* Redis ended the blocked read: the stream was deleted (DEL), replaced
     * (SET), or moved to another node (MIGRATE). The next read says
     * which: NOGROUP, WRONGTYPE, or ASK. Not a lost connection. */
    GST_INFO_OBJECT (self, "read of stream \"%s\" ended by Redis: %s",
        self->active.stream, reply->str);
    gst_redis_reply_free (reply);
    return SRC_STEP_AGAIN;
  }
  self->reply = gst_redis_reply_ref_new (reply);
  self->reply_index = 0;
  self->entries = gst_redis_stream_src_reply_entries (self, reply, &nogroup,
      &err);
  if (self->entries)
    gst_redis_stream_src_note_read (self, self->entries);

  if (self->entries == NULL) {
    g_clear_pointer (&self->reply, gst_redis_reply_ref_unref);
    if (err) {
      if (nogroup) {
        gboolean made = gst_redis_stream_src_recreate_group (self, err,
            cancellable, error);

        g_clear_error (&err);
        return made ? SRC_STEP_AGAIN : SRC_STEP_ERROR;
      }
      goto failed;
    }
    if (self->history_id) {
      GST_DEBUG_OBJECT (self, "no more pending entries, reading new ones");
      g_clear_pointer (&self->history_id, g_free);
      return SRC_STEP_AGAIN;
    }
    return SRC_STEP_EMPTY;
  }
  /* entries to push: the next step takes the first */
  return SRC_STEP_AGAIN;

  /* ERRORS */
failed:
  {
    g_propagate_error (error, err);
    return SRC_STEP_ERROR;
  }
}

/* The next frame of the stream and the caps of its entry. With @wait,
 * reads until there is one; without, returns TRUE with *@out NULL when a
 * read came back empty (after self->read_block ms). FALSE with @error when
 * reading failed for good (a lost connection is retried first) or was
 * cancelled. */
static gboolean
gst_redis_stream_src_next (GstRedisStreamSrc * self, GCancellable * cancellable,
    gboolean wait, GstBuffer ** out, GstCaps ** out_caps, GError ** error)
{
  GstBuffer *buf = NULL;
  GstCaps *caps = NULL;
  GError *err = NULL;

  *out = NULL;
  *out_caps = NULL;
  while (buf == NULL) {
    switch (gst_redis_stream_src_read_step (self, cancellable, &buf, &caps,
            &err)) {
      case SRC_STEP_AGAIN:
        break;
      case SRC_STEP_EMPTY:
        if (!wait)
          return TRUE;
        break;
      case SRC_STEP_ERROR:
        /* a lost connection is retried; anything else ends the stream */
        if (!gst_redis_outage_is_loss (&self->outage, self->conn, err) ||
            !gst_redis_stream_src_reconnect (self, cancellable, &err))
          goto failed;
        break;
    }
  }
  *out = buf;
  *out_caps = caps;
  return TRUE;

  /* ERRORS */
failed:
  {
    g_propagate_error (error, err);
    return FALSE;
  }
}

/* With a reorder window: frames are held, sorted by sequence number, and
 * pushed in order. A frame goes out when it is the next one due, or when
 * waiting longer would break the window (more than reorder-window frames
 * held, or the oldest held for reorder-timeout ms): the missing ones before
 * it are given up (reorder-gaps), and if they come later they are dropped
 * and acknowledged (reorder-late). Frames without a sequence number pass
 * straight through. */
static gboolean
gst_redis_stream_src_next_in_order (GstRedisStreamSrc * self,
    GCancellable * cancellable, GstBuffer ** out, GstCaps ** out_caps,
    GError ** error)
{
  const gint64 timeout = (gint64) self->active_reorder_timeout * 1000;

  *out = NULL;
  *out_caps = NULL;
  for (;;) {
    HeldFrame *h = g_queue_peek_head (&self->held);
    gint64 now = g_get_monotonic_time ();
    GstBuffer *buf;
    GstCaps *caps;
    gchar *id;
    guint64 seq;

    self->read_block = self->active_block;
    if (h && self->next_seq_valid && h->seq < self->next_seq) {
      /* a second copy of a frame already pushed (at-least-once) */
      GST_OBJECT_LOCK (self);
      g_queue_pop_head (&self->held);
      self->reorder_late++;
      GST_OBJECT_UNLOCK (self);
      g_ptr_array_add (self->ack_now, g_steal_pointer (&h->id));
      held_frame_free (h);
      continue;
    }
    if (h) {
      gboolean due = self->next_seq_valid && h->seq == self->next_seq;

      if (due || g_queue_get_length (&self->held) >
          self->active_reorder_window || now - h->arrived >= timeout) {
        if (!due && self->next_seq_valid) {
          GST_DEBUG_OBJECT (self, "giving up on frames %" G_GUINT64_FORMAT
              "..%" G_GUINT64_FORMAT, self->next_seq, h->seq - 1);
          GST_OBJECT_LOCK (self);
          self->reorder_gaps += h->seq - self->next_seq;
          gst_redis_key_unit_gate_gap (&self->gate);
          GST_OBJECT_UNLOCK (self);
        }
        GST_OBJECT_LOCK (self);
        g_queue_pop_head (&self->held);
        GST_OBJECT_UNLOCK (self);
        self->next_seq = h->seq + 1;
        self->next_seq_valid = TRUE;
        g_free (self->ack_id);
        self->ack_id = h->id;
        *out = h->buffer;
        *out_caps = h->caps;
        g_free (h);
        return TRUE;
      }
      self->read_block = MAX (1, MIN (self->active_block,
              (h->arrived + timeout - now) / 1000 + 1));
    }

    if (!gst_redis_stream_src_next (self, cancellable, FALSE, &buf, &caps,
            error))
      return FALSE;
    if (buf == NULL)
      continue;

    if (!GST_BUFFER_OFFSET_IS_VALID (buf)) {
      *out = buf;
      *out_caps = caps;
      return TRUE;
    }
    seq = GST_BUFFER_OFFSET (buf);
    id = g_steal_pointer (&self->ack_id);
    if (self->next_seq_valid && seq < self->next_seq) {
      if (self->next_seq - seq <= REORDER_RESTART_DISTANCE) {
        GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " came after "
            "frame %" G_GUINT64_FORMAT ", dropping it", seq,
            self->next_seq - 1);
        GST_OBJECT_LOCK (self);
        self->reorder_late++;
        GST_OBJECT_UNLOCK (self);
        g_ptr_array_add (self->ack_now, id);
        gst_buffer_unref (buf);
        gst_caps_unref (caps);
        continue;
      }
      GST_INFO_OBJECT (self, "sequence numbers start again at %"
          G_GUINT64_FORMAT, seq);
      self->next_seq_valid = FALSE;
    }
    h = g_new0 (HeldFrame, 1);
    h->seq = seq;
    h->buffer = buf;
    h->caps = caps;
    h->id = id;
    h->arrived = g_get_monotonic_time ();
    GST_OBJECT_LOCK (self);
    g_queue_insert_sorted (&self->held, h, held_frame_compare, NULL);
    GST_OBJECT_UNLOCK (self);
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

/* Downstream refused the caps of a frame: say which stream, which caps and
 * what the next element takes instead, rather than basesrc's bare
 * "not-negotiated". */
static void
gst_redis_stream_src_post_not_negotiated (GstRedisStreamSrc * self,
    GstCaps * caps)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  GstPad *peer = gst_pad_get_peer (pad);
  GstCaps *accepted = peer ? gst_pad_query_caps (peer, NULL) : NULL;
  gchar *short_caps = caps_to_message_string (caps, 200);
  gchar *short_accepted = caps_to_message_string (accepted, 200);
  gchar *full_caps = caps_to_message_string (caps, G_MAXSIZE);
  gchar *long_accepted = caps_to_message_string (accepted, 4096);
  gchar *peer_name = peer ? g_strdup_printf ("%s:%s",
      GST_DEBUG_PAD_NAME (peer)) : g_strdup ("no pad");

  GST_ELEMENT_ERROR (self, STREAM, FORMAT,
      ("Downstream does not accept the caps of stream \"%s\": %s. The "
          "next element accepts: %s. Convert or decode in front of it "
          "(videoconvert for other raw video formats, jpegdec for "
          "image/jpeg).",
          self->active.stream, short_caps, short_accepted),
      ("entry %s has caps %s; %s accepts %s", self->ack_id ? self->ack_id :
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

/* Caps belong to each frame, and the frame pushed is not always the entry
 * read last (a reorder window, entries skipped by max-age): the pad gets
 * the caps of the frame about to go out, right before it, when they differ
 * from its current caps (as appsrc queues caps in line with buffers).
 * A caps event downstream refuses would only show up when the buffer
 * behind it is pushed, as basesrc's bare not-negotiated: ask first
 * (ACCEPT_CAPS goes through queues), then check that the peer took them. */
static GstFlowReturn
gst_redis_stream_src_set_frame_caps (GstRedisStreamSrc * self, GstCaps * caps)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  GstCaps *current = gst_pad_get_current_caps (pad);
  gboolean same = current && gst_caps_is_equal (current, caps);
  GstPad *peer;

  gst_clear_caps (&current);
  if (same)
    return GST_FLOW_OK;

  GST_DEBUG_OBJECT (self, "caps from entry %s: %" GST_PTR_FORMAT,
      self->ack_id, caps);
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
 * frame. Also decides when the producer is asked for a key frame. */
static gboolean
gst_redis_stream_src_gate (GstRedisStreamSrc * self, GstBuffer * buf,
    GstCaps * caps)
{
  gboolean pass;

  /* A producer that lost frames marks the next one DISCONT. (Sequence
   * numbers cannot tell: parsers number buffers by byte offset.) */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    gst_redis_key_unit_gate_gap (&self->gate);
  if (g_atomic_int_compare_and_exchange (&self->key_unit_wanted, 1, 0))
    gst_redis_key_unit_gate_want (&self->gate);

  pass = gst_redis_key_unit_gate_pass (&self->gate, buf, caps);
  if (!pass) {
    GST_LOG_OBJECT (self, "holding back delta unit %s until a key frame",
        self->ack_id);
    GST_OBJECT_LOCK (self);
    self->held_back_delta++;
    GST_OBJECT_UNLOCK (self);
    g_ptr_array_add (self->ack_now, g_steal_pointer (&self->ack_id));
  }
  if (self->active_request_key_units &&
      gst_redis_key_unit_gate_take_request (&self->gate,
          g_get_monotonic_time ()))
    self->key_unit_publish_due = TRUE;
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
          gst_redis_buffer_get_capture_time (buf))) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    GST_OBJECT_LOCK (self);
    self->timing_resyncs = self->timing.resyncs;
    GST_OBJECT_UNLOCK (self);
  }
}

static GstFlowReturn
gst_redis_stream_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (psrc);
  GCancellable *cancellable = gst_redis_stream_src_get_cancellable (self);
  GstBuffer *buf = NULL;
  GstCaps *caps = NULL;
  GError *err = NULL;
  GstFlowReturn ret;
  gboolean ok;

  gst_redis_stream_src_settle_push (self);
  for (;;) {
    if (self->active_reorder_window > 0)
      ok = gst_redis_stream_src_next_in_order (self, cancellable, &buf, &caps,
          &err);
    else
      ok = gst_redis_stream_src_next (self, cancellable, TRUE, &buf, &caps,
          &err);
    if (!ok)
      break;
    if (gst_redis_stream_src_gate (self, buf, caps))
      break;
    gst_buffer_unref (buf);
    gst_caps_unref (caps);
  }
  g_object_unref (cancellable);
  if (!ok)
    goto failed;
  gst_redis_stream_src_timestamp (self, buf);

  ret = gst_redis_stream_src_set_frame_caps (self, caps);
  if (ret == GST_FLOW_NOT_NEGOTIATED)
    goto not_negotiated;
  gst_caps_unref (caps);
  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT (self, "flushing, entry %s stays pending", self->ack_id);
    g_clear_pointer (&self->ack_id, g_free);
    gst_buffer_unref (buf);
    return ret;
  }

  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " from entry %s, pts %"
      GST_TIME_FORMAT ", %" G_GSIZE_FORMAT " bytes, latency %.2f ms",
      GST_BUFFER_OFFSET (buf), self->ack_id,
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)), gst_buffer_get_size (buf),
      self->latency_last);
  gst_redis_stream_src_log_summary (self);

  *outbuf = buf;
  return GST_FLOW_OK;

  /* ERRORS */
failed:
  {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      GST_DEBUG_OBJECT (self, "cancelled%s", self->read_in_flight ?
          ", read reply still to come" : "");
      g_clear_error (&err);
      return GST_FLOW_FLUSHING;
    }
    GST_REDIS_ELEMENT_POST (self, GST_MESSAGE_ERROR, err, &self->active);
    g_clear_error (&err);
    return GST_FLOW_ERROR;
  }
not_negotiated:
  {
    gst_redis_stream_src_post_not_negotiated (self, caps);
    /* not pushed: the entry stays pending */
    g_clear_pointer (&self->ack_id, g_free);
    gst_caps_unref (caps);
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
}
