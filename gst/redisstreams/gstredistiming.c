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

/* Timestamps for a live reader.
 *
 * A frame read from Redis carries the producer's PTS/DTS, which are running
 * times of the producer's pipeline: they mean nothing to the reader's
 * clock, so a synchronised sink would wait for them (a reader started an
 * hour after the producer waits an hour). Like rtpjitterbuffer, the source
 * keeps the producer's spacing and places it on its own running time: an
 * offset, taken at the first frame and again whenever the frames stop
 * fitting it (a gap, a restarted producer, clocks that drift apart). A
 * first frame that was held up on its way (a busy reader or network) would
 * leave the whole stream that much late, and two streams played together
 * (audio and video) apart by the difference: for the first seconds
 * (GST_REDIS_TIMING_SETTLE of the producer's time) the offset moves down to
 * a frame that arrives earlier than it says, never so far that the
 * timeline goes back. DTS
 * decides where a frame falls (decode order); PTS moves with it, so
 * reordered B-frames keep their order. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredistiming.h"

/**
 * GstRedisTimestampMode:
 *
 * How redisstreamsrc timestamps the frames it reads
 * (#GstRedisStreamSrc:timestamp-mode).
 *
 * Since: 1.0
 */
GType
gst_redis_timestamp_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_REDIS_TIMESTAMP_RUNNING_TIME, "The producer's spacing on this "
          "pipeline's running time, from where the first frame arrived",
        "running-time"},
    {GST_REDIS_TIMESTAMP_CAPTURE, "Capture time plus latency, on this "
          "pipeline's clock (needs synchronised host clocks)", "capture"},
    {GST_REDIS_TIMESTAMP_PRODUCER, "The producer's own timestamps (recording, "
          "offline processing)", "producer"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRedisTimestampMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

void
gst_redis_timing_reset (GstRedisTiming * timing)
{
  timing->anchored = FALSE;
  timing->offset = 0;
  timing->resyncs = 0;
  timing->last_producer = GST_CLOCK_TIME_NONE;
  timing->anchor_producer = GST_CLOCK_TIME_NONE;
  timing->last_out = GST_CLOCK_TIME_NONE;
  timing->late_since = GST_CLOCK_TIME_NONE;
  timing->late_min = 0;
}

static GstClockTime
shift (GstClockTime t, GstClockTimeDiff offset)
{
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return t;
  if (offset < 0 && t < (GstClockTime) (-offset))
    return 0;
  return t + offset;
}

gboolean
gst_redis_timing_apply (GstRedisTiming * timing, GstRedisTimestampMode mode,
    GstBuffer * buffer, GstClockTime now, gint64 realtime_now, gint64 capture)
{
  GstClockTime producer = GST_BUFFER_DTS_OR_PTS (buffer);
  GstClockTimeDiff want;
  gboolean resync = FALSE;

  if (mode == GST_REDIS_TIMESTAMP_PRODUCER)
    return FALSE;

  if (!GST_CLOCK_TIME_IS_VALID (producer)) {
    /* nothing to keep the spacing of: where it arrived, or was captured */
    GstClockTimeDiff at = (GstClockTimeDiff) now;

    if (mode == GST_REDIS_TIMESTAMP_CAPTURE && capture >= 0)
      at += capture - realtime_now;
    GST_BUFFER_PTS (buffer) = MAX (at, 0);
    GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
    return FALSE;
  }

  /* Where this frame should go on our running time, on its own. */
  if (mode == GST_REDIS_TIMESTAMP_CAPTURE && capture >= 0) {
    GstClockTimeDiff capture_rt = (GstClockTimeDiff) now +
        (capture - realtime_now);

    want = capture_rt - (GstClockTimeDiff) producer;
  } else {
    want = (GstClockTimeDiff) now - (GstClockTimeDiff) producer;
  }

  if (!timing->anchored) {
    resync = TRUE;
  } else if (mode == GST_REDIS_TIMESTAMP_CAPTURE && capture >= 0) {
    /* follow the capture times, within a tolerance that keeps the
     * producer's spacing smooth. A capture time is taken when the frame
     * reaches the first hop, so a busy camera stamps late, never early:
     * the timeline goes down to a frame stamped earlier than it says
     * (the frame it was taken from was stamped late), and up only when all
     * the frames of a while are later (clocks that drift apart) */
    GstClockTimeDiff late = want - timing->offset;

    if (late > (GstClockTimeDiff) GST_REDIS_TIMING_MAX_AHEAD ||
        (GST_CLOCK_TIME_IS_VALID (timing->last_producer) &&
            producer + GST_REDIS_TIMING_MAX_AHEAD < timing->last_producer)) {
      /* a gap, a restarted producer */
      resync = TRUE;
    } else if (late > (GstClockTimeDiff) GST_REDIS_TIMING_CAPTURE_TOLERANCE) {
      if (!GST_CLOCK_TIME_IS_VALID (timing->late_since) ||
          producer < timing->late_since) {
        timing->late_since = producer;
        timing->late_min = late;
      }
      timing->late_min = MIN (timing->late_min, late);
      if (producer >= timing->late_since + GST_REDIS_TIMING_CAPTURE_WINDOW) {
        want = timing->offset + timing->late_min;
        resync = TRUE;
      }
    } else {
      timing->late_since = GST_CLOCK_TIME_NONE;
      resync = late < -(GstClockTimeDiff) GST_REDIS_TIMING_CAPTURE_TOLERANCE;
    }
  } else {
    /* where the frame would go with the current offset, against now */
    GstClockTimeDiff ahead = timing->offset - want;

    resync = ahead > (GstClockTimeDiff) GST_REDIS_TIMING_MAX_AHEAD ||
        ahead < -(GstClockTimeDiff) GST_REDIS_TIMING_MAX_BEHIND ||
        (GST_CLOCK_TIME_IS_VALID (timing->last_producer) &&
        producer + GST_REDIS_TIMING_MAX_AHEAD < timing->last_producer);
    if (!resync && ahead > 0 && producer >= timing->anchor_producer &&
        producer < timing->anchor_producer + GST_REDIS_TIMING_SETTLE &&
        producer >= timing->last_producer) {
      /* earlier than the frame the offset was taken from: down to this
       * one, at most by the spacing, so that it does not go before the
       * frame pushed last */
      timing->offset = MAX (want, timing->offset -
          (GstClockTimeDiff) (producer - timing->last_producer));
    }
  }
  if (resync) {
    if (timing->anchored)
      timing->resyncs++;
    timing->anchored = TRUE;
    timing->offset = want;
    timing->anchor_producer = producer;
    timing->late_since = GST_CLOCK_TIME_NONE;
    /* never before the frame pushed last: a timeline taken again earlier
     * is caught up with by the frames that follow, as they keep coming
     * at least a step apart */
    if (GST_CLOCK_TIME_IS_VALID (timing->last_out) &&
        (GstClockTimeDiff) producer + timing->offset <
        (GstClockTimeDiff) (timing->last_out + GST_REDIS_TIMING_MIN_STEP))
      timing->offset = (GstClockTimeDiff) (timing->last_out +
          GST_REDIS_TIMING_MIN_STEP) - (GstClockTimeDiff) producer;
  }
  timing->last_producer = producer;

  GST_BUFFER_PTS (buffer) = shift (GST_BUFFER_PTS (buffer), timing->offset);
  GST_BUFFER_DTS (buffer) = shift (GST_BUFFER_DTS (buffer), timing->offset);
  timing->last_out = GST_BUFFER_DTS_OR_PTS (buffer);
  return resync;
}
