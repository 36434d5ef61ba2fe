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

/* redisstreamsrc's own properties: one doc block each, their defaults, and
 * the values copied at start () (gstredissrcsettings.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredissrcsettings.h"
#include "gstredisgroup.h"
#include "gstredismetrics.h"
#include "gstrediswire.h"

#include <string.h>

#define DEFAULT_GROUP "gst-redis"
#define DEFAULT_CONSUMER NULL
#define DEFAULT_START_ID "$"
#define DEFAULT_BLOCK 1000
#define DEFAULT_COUNT 1
#define DEFAULT_MAX_AGE GST_REDIS_SRC_DEFAULT_MAX_AGE
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

/**
 * GstRedisAckMode:
 *
 * When redisstreamsrc acknowledges an entry (#GstRedisStreamSrc:ack-mode).
 *
 * Since: 1.0
 */
GType
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

/* The consumer group and how it is read. */
static void
install_group_properties (GObjectClass * klass)
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_GROUP,
      g_param_spec_string ("group", "Group",
          "Consumer group to read in; created when missing", DEFAULT_GROUP,
          ready));
  /**
   * GstRedisStreamSrc:consumer:
   *
   * Consumer name within the group. %NULL (default) is `<hostname>-<pid>`,
   * unique per host and process; set a fixed name for a worker that must take
   * over its own pending entries after a restart.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_CONSUMER,
      g_param_spec_string ("consumer", "Consumer",
          "Consumer name within the group (NULL: <hostname>-<pid>)",
          DEFAULT_CONSUMER, ready));
  /**
   * GstRedisStreamSrc:start-id:
   *
   * Where a group created by this source starts: `$` (default) for new
   * entries only, `0` for everything in the stream, or an entry id.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_START_ID,
      g_param_spec_string ("start-id", "Start ID",
          "Where a newly created group starts: \"$\" new entries only, "
          "\"0\" the whole stream, or an entry id", DEFAULT_START_ID, ready));
  /**
   * GstRedisStreamSrc:block:
   *
   * Milliseconds each `XREADGROUP` waits for new entries. The element stays
   * interruptible at any time; a server that does not answer within this plus
   * #GstRedisStreamSink:timeout is a lost connection.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_BLOCK,
      g_param_spec_uint ("block", "Block",
          "Milliseconds each XREADGROUP waits for new entries", 1,
          G_MAXINT / 2, DEFAULT_BLOCK, ready));
  /**
   * GstRedisStreamSrc:count:
   *
   * Entries read per `XREADGROUP`; they are pushed one by one.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_COUNT,
      g_param_spec_uint ("count", "Count",
          "Entries read per XREADGROUP; they are pushed one by one", 1, 1000,
          DEFAULT_COUNT, ready));
}

/* Replay mode: a range read without a group (docs/replay.md). */
static void
install_range_properties (GObjectClass * klass)
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_START,
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_STOP,
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_ACCURATE,
      g_param_spec_boolean ("accurate", "Accurate",
          "With start: the segment starts exactly there (frames from the key "
          "frame before only decode); false: at that key frame",
          DEFAULT_ACCURATE, ready));
}

/* How frames are timed and how encoded video starts (docs/media.md). */
static void
install_live_properties (GObjectClass * klass)
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_TIMESTAMP_MODE,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_LATENCY,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_REQUEST_KEY_UNITS,
      g_param_spec_boolean ("request-key-units", "Request Key Units",
          "Ask the producer for a key frame (PUBLISH <stream>:control) when "
          "one is needed", DEFAULT_REQUEST_KEY_UNITS, ready));
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_TIMESTAMP_MODE, 0);
}

/* When an entry is acknowledged, and what happens to one that cannot be
 * processed (docs/redisstreamsrc.md, "Acknowledgements"). */
static void
install_ack_properties (GObjectClass * klass)
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_ACK_MODE,
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_DEAD_LETTER_STREAM,
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_MAX_DELIVERIES,
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
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_DEAD_LETTER_MAXLEN,
      g_param_spec_uint ("dead-letter-maxlen", "Dead-Letter Maximum Length",
          "Trim the dead-letter stream to about this many entries; 0 keeps "
          "them all", 0, G_MAXUINT, DEFAULT_DEAD_LETTER_MAXLEN, ready));
  gst_type_mark_as_plugin_api (GST_TYPE_REDIS_ACK_MODE, 0);
}

/* Which frames are delivered, and in which order. */
static void
install_frame_properties (GObjectClass * klass)
{
  const GParamFlags ready = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSrc:max-age:
   *
   * Entries whose capture time is older than this many milliseconds are
   * acknowledged and skipped (counted in `skipped-late`), for displays that
   * must not fall behind; 0 delivers every entry.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_MAX_AGE,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_MAX_FRAME_SIZE,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_CLAIM_IDLE_TIME,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_REORDER_WINDOW,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_REORDER_TIMEOUT,
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
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_SRC_PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters of frames read and skipped, the last entry id and the "
          "latency from capture", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  gst_redis_metrics_install_property (klass,
      GST_REDIS_SRC_PROP_METRICS_INTERVAL);
}

void
gst_redis_src_settings_install_properties (GObjectClass * klass)
{
  install_group_properties (klass);
  install_frame_properties (klass);
  install_live_properties (klass);
  install_range_properties (klass);
  install_ack_properties (klass);
}

void
gst_redis_src_settings_init (GstRedisSrcSettings * settings)
{
  memset (settings, 0, sizeof (*settings));
  settings->group = g_strdup (DEFAULT_GROUP);
  settings->consumer = g_strdup (DEFAULT_CONSUMER);
  settings->start_id = g_strdup (DEFAULT_START_ID);
  settings->block = DEFAULT_BLOCK;
  settings->count = DEFAULT_COUNT;
  settings->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  settings->claim_idle_time = DEFAULT_CLAIM_IDLE_TIME;
  settings->reorder_window = DEFAULT_REORDER_WINDOW;
  settings->reorder_timeout = DEFAULT_REORDER_TIMEOUT;
  settings->timestamp_mode = DEFAULT_TIMESTAMP_MODE;
  settings->latency = DEFAULT_LATENCY;
  settings->request_key_units = DEFAULT_REQUEST_KEY_UNITS;
  settings->start = g_strdup (DEFAULT_START);
  settings->stop = g_strdup (DEFAULT_STOP);
  settings->accurate = DEFAULT_ACCURATE;
  settings->ack_mode = DEFAULT_ACK_MODE;
  settings->dead_letter_stream = g_strdup (DEFAULT_DEAD_LETTER_STREAM);
  settings->max_deliveries = DEFAULT_MAX_DELIVERIES;
  settings->dead_letter_maxlen = DEFAULT_DEAD_LETTER_MAXLEN;
}

void
gst_redis_src_settings_clear (GstRedisSrcSettings * settings)
{
  g_free (settings->group);
  g_free (settings->consumer);
  g_free (settings->start_id);
  g_free (settings->start);
  g_free (settings->stop);
  g_free (settings->dead_letter_stream);
}

static void
replace_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

gboolean
gst_redis_src_settings_set_property (GstRedisSrcSettings * settings,
    GObject * object, guint prop_id, const GValue * value)
{
  gboolean handled = TRUE;

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case GST_REDIS_SRC_PROP_GROUP:
      replace_string (&settings->group, value);
      break;
    case GST_REDIS_SRC_PROP_CONSUMER:
      replace_string (&settings->consumer, value);
      break;
    case GST_REDIS_SRC_PROP_START_ID:
      replace_string (&settings->start_id, value);
      break;
    case GST_REDIS_SRC_PROP_BLOCK:
      settings->block = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_COUNT:
      settings->count = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_MAX_FRAME_SIZE:
      settings->max_frame_size = g_value_get_uint64 (value);
      break;
    case GST_REDIS_SRC_PROP_CLAIM_IDLE_TIME:
      settings->claim_idle_time = g_value_get_uint (value);
      settings->claim_idle_time_set = TRUE;
      break;
    case GST_REDIS_SRC_PROP_REORDER_WINDOW:
      settings->reorder_window = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_REORDER_TIMEOUT:
      settings->reorder_timeout = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_TIMESTAMP_MODE:
      settings->timestamp_mode = g_value_get_enum (value);
      break;
    case GST_REDIS_SRC_PROP_LATENCY:
      settings->latency = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_REQUEST_KEY_UNITS:
      settings->request_key_units = g_value_get_boolean (value);
      break;
    case GST_REDIS_SRC_PROP_START:
      replace_string (&settings->start, value);
      break;
    case GST_REDIS_SRC_PROP_STOP:
      replace_string (&settings->stop, value);
      break;
    case GST_REDIS_SRC_PROP_ACCURATE:
      settings->accurate = g_value_get_boolean (value);
      break;
    case GST_REDIS_SRC_PROP_ACK_MODE:
      settings->ack_mode = g_value_get_enum (value);
      break;
    case GST_REDIS_SRC_PROP_DEAD_LETTER_STREAM:
      replace_string (&settings->dead_letter_stream, value);
      break;
    case GST_REDIS_SRC_PROP_MAX_DELIVERIES:
      settings->max_deliveries = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_DEAD_LETTER_MAXLEN:
      settings->dead_letter_maxlen = g_value_get_uint (value);
      break;
    default:
      handled = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (object);
  return handled;
}

gboolean
gst_redis_src_settings_get_property (GstRedisSrcSettings * settings,
    GObject * object, guint prop_id, GValue * value)
{
  gboolean handled = TRUE;

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case GST_REDIS_SRC_PROP_GROUP:
      g_value_set_string (value, settings->group);
      break;
    case GST_REDIS_SRC_PROP_CONSUMER:
      g_value_set_string (value, settings->consumer);
      break;
    case GST_REDIS_SRC_PROP_START_ID:
      g_value_set_string (value, settings->start_id);
      break;
    case GST_REDIS_SRC_PROP_BLOCK:
      g_value_set_uint (value, settings->block);
      break;
    case GST_REDIS_SRC_PROP_COUNT:
      g_value_set_uint (value, settings->count);
      break;
    case GST_REDIS_SRC_PROP_MAX_FRAME_SIZE:
      g_value_set_uint64 (value, settings->max_frame_size);
      break;
    case GST_REDIS_SRC_PROP_CLAIM_IDLE_TIME:
      g_value_set_uint (value, settings->claim_idle_time);
      break;
    case GST_REDIS_SRC_PROP_REORDER_WINDOW:
      g_value_set_uint (value, settings->reorder_window);
      break;
    case GST_REDIS_SRC_PROP_REORDER_TIMEOUT:
      g_value_set_uint (value, settings->reorder_timeout);
      break;
    case GST_REDIS_SRC_PROP_TIMESTAMP_MODE:
      g_value_set_enum (value, settings->timestamp_mode);
      break;
    case GST_REDIS_SRC_PROP_LATENCY:
      g_value_set_uint (value, settings->latency);
      break;
    case GST_REDIS_SRC_PROP_REQUEST_KEY_UNITS:
      g_value_set_boolean (value, settings->request_key_units);
      break;
    case GST_REDIS_SRC_PROP_START:
      g_value_set_string (value, settings->start);
      break;
    case GST_REDIS_SRC_PROP_STOP:
      g_value_set_string (value, settings->stop);
      break;
    case GST_REDIS_SRC_PROP_ACCURATE:
      g_value_set_boolean (value, settings->accurate);
      break;
    case GST_REDIS_SRC_PROP_ACK_MODE:
      g_value_set_enum (value, settings->ack_mode);
      break;
    case GST_REDIS_SRC_PROP_DEAD_LETTER_STREAM:
      g_value_set_string (value, settings->dead_letter_stream);
      break;
    case GST_REDIS_SRC_PROP_MAX_DELIVERIES:
      g_value_set_uint (value, settings->max_deliveries);
      break;
    case GST_REDIS_SRC_PROP_DEAD_LETTER_MAXLEN:
      g_value_set_uint (value, settings->dead_letter_maxlen);
      break;
    default:
      handled = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (object);
  return handled;
}
