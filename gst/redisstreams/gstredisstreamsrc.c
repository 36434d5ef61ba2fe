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
 * consumer group, one at a time (`XREADGROUP`), and pushes each as a buffer
 * with the caps, timestamps, flags, sequence number (the buffer offset),
 * capture time (#GstReferenceTimestampMeta with caps `timestamp/x-unix`)
 * and detections (#GstVideoRegionOfInterestMeta) that redisstreamsink, or
 * any program writing the same entry format, stored in it. Each frame goes
 * out with the caps of its own entry.
 *
 * Several sources with the same #GstRedisStreamSrc:group and different
 * #GstRedisStreamSrc:consumer names share the entries: each goes to one of
 * them. Timestamps are for this pipeline's clock
 * (#GstRedisStreamSrc:timestamp-mode), so an ordinary synchronised sink
 * plays at once whenever the reader started; after a start or any gap,
 * delta units are held back until a key frame, which is asked of the
 * producer (#GstRedisStreamSrc:request-key-units). With
 * #GstRedisStreamSrc:start set, the source replays a range of the stream
 * instead, without a group.
 *
 * Every buffer carries the entry it was read from (a #GstCustomMeta
 * "GstRedisEntryMeta" with a #GstRedisTicket), which filters, encoders and
 * queues keep. The entry is acknowledged (`XACK`) once its frame's fate is
 * known: stored by a redisstreamsink, rendered by another sink, or dropped
 * on purpose; a frame dropped by a flush or a state change stays pending
 * and is read again. Entries left pending by a consumer that died are
 * taken over after #GstRedisStreamSrc:claim-idle-time; an entry that cannot
 * be processed is set aside in #GstRedisStreamSrc:dead-letter-stream.
 *
 * When the connection is lost the source posts a warning, reconnects with
 * a backoff for up to `reconnect-timeout` milliseconds, and posts an info
 * message once reconnected. Bad entries are skipped with a warning, counted
 * in #GstRedisStreamSrc:stats and acknowledged; frames lost to trimming,
 * moves of the group and refused commands are warned about. Every message
 * carries the server and the stream as details (`server`, `stream`).
 *
 * The redisstreamsrc reference in the project documentation
 * (https://github.com/gst-redis-streams/gst-redis-streams) has the whole
 * story: acknowledgements and dead letters, replay, timestamps, every
 * message with its code, and every statistic.
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
 *
 * Since: 1.0
 */


/* The element: start and stop, queries and events, what happens to a
 * frame between the read loop and the pad (reorder window, key frame gate,
 * timestamps), and its stats. Its properties are gstredissrcsettings.c,
 * each frame's caps and the entries whose caps are refused
 * gstredisnegotiation.c, reading gstredisreadloop.c, the consumer group
 * gstredisgroup.c, the reorder window gstredisreorder.c. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisstreamsrc.h"
#include "gstredissrcsettings.h"
#include "gstredisnegotiation.h"
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

#include <unistd.h>

GST_DEBUG_CATEGORY (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

#define SUMMARY_INTERVAL (5 * G_TIME_SPAN_SECOND)

struct _GstRedisStreamSrc
{
  GstPushSrc parent;

  /* properties, under the object lock (max-age is the read loop's,
   * metrics-interval the metrics') */
  GstRedisSettings settings;
  GstRedisSrcSettings props;

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
  /* each frame's caps on the pad, entries whose caps are refused */
  GstRedisNegotiation negotiation;
  /* what decides each entry's fate (gstredisticket.h); lives as long as
   * the element, and as long as tickets live */
  GstRedisAckTracker *tracker;
  /* ack-mode in use; pushed: the epoch of the push to settle */
  GstRedisAckMode active_ack_mode;
  guint pushed_epoch;

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


/* The sinks paused first: the frames they keep as their last sample were
 * rendered, and are acknowledged when they let go of them as the pipeline
 * goes down. */
static GstStateChangeReturn
gst_redis_stream_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (element);

  if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED)
    gst_redis_ack_tracker_note_rendered (self->tracker, element);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
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
  gst_redis_src_settings_install_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Redis stream source", "Source/Network",
      "Reads the entries of a Redis stream in a consumer group "
      "(XREADGROUP), acknowledging each after it was pushed",
      "The gst-redis-streams authors");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_redis_stream_src_change_state);
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
      self->props.group, self->props.ack_mode == GST_REDIS_ACK_PUSHED, &sink,
      &mark);
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
    latency = self->props.latency * GST_MSECOND;
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

/* A flush leaving the source (a flushing seek, a flush sent to the
 * element): what was pushed before it and is released unstored was
 * flushed, not dropped on purpose. A buffer made from FLUSH_START on is
 * dropped by basesrc before it leaves (pushed or not, FLUSH_STOP comes
 * only after: it waits for the streaming thread): the tracker tells it by
 * the pad it never passed. At FLUSH_STOP the epoch changes again, for
 * ack-mode=pushed, which compares the epoch of one create () with the
 * next's. */
static GstPadProbeReturn
gst_redis_stream_src_flush_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer tracker)
{
  gboolean start = GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_FLUSH_START;

  if (start)
    gst_redis_ack_tracker_set_flushing (tracker, TRUE);
  gst_redis_ack_tracker_flush (tracker);
  if (!start)
    gst_redis_ack_tracker_set_flushing (tracker, FALSE);
  return GST_PAD_PROBE_OK;
}

/* A buffer leaves the source: its ticket was pushed (a buffer basesrc
 * drops while flushing never gets here). */
static GstPadProbeReturn
gst_redis_stream_src_push_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer tracker)
{
  gst_redis_ack_tracker_pushed (tracker);
  return GST_PAD_PROBE_OK;
}

static void
gst_redis_stream_src_init (GstRedisStreamSrc * self)
{
  GstElement *element = GST_ELEMENT (self);

  gst_redis_settings_init (&self->settings);
  gst_redis_settings_init (&self->active);
  gst_redis_src_settings_init (&self->props);
  gst_redis_canceller_init (&self->canceller, GST_OBJECT (self));
  gst_redis_group_init (&self->group, element, &self->active, &self->gate);
  gst_redis_read_loop_init (&self->loop, element, &self->active, &self->group,
      &self->gate);
  gst_redis_metrics_init (&self->metrics, element, &self->active, "src");
  self->loop.metrics = &self->metrics;
  self->loop.max_age = GST_REDIS_SRC_DEFAULT_MAX_AGE;
  gst_redis_reorder_init (&self->reorder, element, &self->gate);
  gst_redis_range_init (&self->range, element, &self->active, &self->loop,
      &self->gate);

  /* Frames arrive when a producer writes them: a live source in TIME,
   * timestamped for this pipeline's clock (gstredistiming.c). */
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);

  self->tracker = gst_redis_ack_tracker_new (element);
  self->loop.tracker = self->tracker;
  gst_redis_negotiation_init (&self->negotiation, element, &self->active,
      self->tracker);
  /* a flush from here drops what is on its way downstream */
  gst_pad_add_probe (GST_BASE_SRC_PAD (self), GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      gst_redis_stream_src_flush_probe, self->tracker, NULL);
  /* first of the pad's probes: one that drops buffers on purpose comes
   * after it */
  gst_pad_add_probe (GST_BASE_SRC_PAD (self), GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, gst_redis_stream_src_push_probe,
      self->tracker, NULL);
}

static void
gst_redis_stream_src_finalize (GObject * object)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (object);

  gst_redis_settings_clear (&self->settings);
  gst_redis_settings_clear (&self->active);
  gst_redis_src_settings_clear (&self->props);
  gst_redis_read_loop_clear (&self->loop);
  gst_redis_group_clear (&self->group);
  gst_redis_metrics_clear (&self->metrics);
  gst_redis_range_clear (&self->range);
  gst_redis_canceller_clear (&self->canceller);
  gst_redis_negotiation_clear (&self->negotiation);
  gst_redis_ack_tracker_unref (self->tracker);

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
  if (prop_id == GST_REDIS_SRC_PROP_START)
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_string (value)
        == NULL);
  if (gst_redis_src_settings_set_property (&self->props, object, prop_id,
          value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case GST_REDIS_SRC_PROP_MAX_AGE:
      self->loop.max_age = g_value_get_uint (value);
      break;
    case GST_REDIS_SRC_PROP_METRICS_INTERVAL:
      self->metrics.interval = g_value_get_uint (value);
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

  if (prop_id == GST_REDIS_SRC_PROP_STATS) {
    g_value_take_boxed (value, gst_redis_stream_src_get_stats (self));
    return;
  }
  if (prop_id != GST_REDIS_SRC_PROP_CONSUMER &&
      gst_redis_src_settings_get_property (&self->props, object, prop_id,
          value))
    return;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case GST_REDIS_SRC_PROP_CONSUMER:
      /* the generated name once started, so that users can find it */
      g_value_set_string (value, self->props.consumer ? self->props.consumer :
          self->group.consumer);
      break;
    case GST_REDIS_SRC_PROP_MAX_AGE:
      g_value_set_uint (value, self->loop.max_age);
      break;
    case GST_REDIS_SRC_PROP_METRICS_INTERVAL:
      g_value_set_uint (value, self->metrics.interval);
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
  const GstRedisSrcSettings *props = &self->props;
  gchar *consumer, *dead_letter_stream;

  gst_redis_settings_copy (&self->active, &self->settings);
  consumer = props->consumer ? g_strdup (props->consumer) :
      g_strdup_printf ("%s-%d", g_get_host_name (), (gint) getpid ());
  gst_redis_group_configure (&self->group, props->group, consumer,
      props->start_id, props->count, props->claim_idle_time,
      props->claim_idle_time_set);
  g_free (consumer);
  gst_redis_range_configure (&self->range, props->start, props->stop,
      props->accurate);
  self->loop.group_less = props->start != NULL;
  /* a replay asks the producer for nothing: it reads what was written */
  gst_redis_read_loop_configure (&self->loop, props->block, props->count,
      props->max_frame_size, props->request_key_units && props->start == NULL);
  dead_letter_stream = props->dead_letter_stream ?
      g_strdup (props->dead_letter_stream) :
      g_strconcat (self->active.stream, GST_REDIS_DEAD_LETTER_SUFFIX, NULL);
  self->active_ack_mode = props->ack_mode;
  gst_redis_read_loop_configure_acks (&self->loop, self->tracker,
      props->ack_mode == GST_REDIS_ACK_DONE && props->start == NULL,
      props->max_deliveries, dead_letter_stream, props->dead_letter_maxlen);
  g_free (dead_letter_stream);
  gst_redis_ack_tracker_start (self->tracker, self->active.stream,
      self->group.name, self->group.consumer);
  gst_redis_negotiation_start (&self->negotiation);
  gst_redis_reorder_start (&self->reorder, props->reorder_window,
      props->reorder_timeout);
  self->active_timestamp_mode = props->timestamp_mode;
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
  /* held frames stay pending in Redis: delivered again after a restart */
  gst_redis_reorder_clear (&self->reorder);
  GST_OBJECT_UNLOCK (self);
  gst_redis_negotiation_stop (&self->negotiation);
  return TRUE;
}

/* basesrc flushes (a flush, an EOS sent to the element, a stop): before
 * it drops a buffer create () made meanwhile, so the tracker knows. */
static gboolean
gst_redis_stream_src_unlock (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  gst_redis_ack_tracker_set_flushing (self->tracker, TRUE);
  return gst_redis_canceller_unlock (&self->canceller);
}

static gboolean
gst_redis_stream_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);

  gst_redis_ack_tracker_set_flushing (self->tracker, FALSE);
  return gst_redis_canceller_unlock_stop (&self->canceller);
}

/* Until the first entry tells, any caps; then the entry's caps. */
static GstCaps *
gst_redis_stream_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstRedisStreamSrc *self = GST_REDIS_STREAM_SRC (bsrc);
  GstCaps *caps = gst_redis_negotiation_get_caps (&self->negotiation);

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
  ret = gst_redis_negotiation_set_caps (&self->negotiation, &frame);
  if (ret == GST_FLOW_NOT_NEGOTIATED)
    gst_redis_negotiation_post_error (&self->negotiation, &frame);
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
    if (!gst_redis_stream_src_next (self, &frame,
            gst_redis_negotiation_is_waiting (&self->negotiation), &err))
      goto failed;
    if (frame.buffer == NULL)
      goto refused_idle;
    gst_redis_stream_src_timestamp (self, frame.buffer);

    ret = gst_redis_negotiation_set_caps (&self->negotiation, &frame);
    if (ret == GST_FLOW_OK)
      break;
    if (ret != GST_FLOW_NOT_NEGOTIATED) {
      GST_DEBUG_OBJECT (self, "flushing, entry %s stays pending", frame.id);
      gst_redis_frame_clear (&frame);
      return ret;
    }
    if (!gst_redis_negotiation_refused (&self->negotiation, &frame))
      goto not_negotiated;
    gst_redis_frame_clear (&frame);
  }

  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " from entry %s, pts %"
      GST_TIME_FORMAT ", %" G_GSIZE_FORMAT " bytes, latency %.2f ms",
      GST_BUFFER_OFFSET (frame.buffer), frame.id,
      GST_TIME_ARGS (GST_BUFFER_PTS (frame.buffer)),
      gst_buffer_get_size (frame.buffer), self->loop.stats.latency_last);
  gst_redis_stream_src_log_summary (self);
  gst_redis_negotiation_passed (&self->negotiation);

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
  return gst_redis_negotiation_give_up (&self->negotiation);
}
