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

#ifndef __GST_REDIS_TIMING_H__
#define __GST_REDIS_TIMING_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* How redisstreamsrc timestamps the frames it reads (docs/media.md). */
typedef enum
{
  /* The producer's spacing, placed on this pipeline's running time where
   * the first frame arrived: a synchronised sink plays at the producer's
   * pace, whenever the reader started. */
  GST_REDIS_TIMESTAMP_RUNNING_TIME,
  /* Each frame at its capture time plus the source's latency, on this
   * pipeline's clock: every reader shows a frame the same delay after
   * capture, and streams captured together play together (hosts with
   * synchronised clocks). */
  GST_REDIS_TIMESTAMP_CAPTURE,
  /* The producer's own timestamps, for recording and offline processing. */
  GST_REDIS_TIMESTAMP_PRODUCER,
} GstRedisTimestampMode;

GType gst_redis_timestamp_mode_get_type (void);
#define GST_TYPE_REDIS_TIMESTAMP_MODE (gst_redis_timestamp_mode_get_type ())

/* Beyond this, a frame's place on the reader's clock is taken again from
 * where it arrives (running-time) or from its capture time (capture): the
 * producer restarted, a gap, or a clock that drifted. */
#define GST_REDIS_TIMING_MAX_AHEAD (1 * GST_SECOND)
#define GST_REDIS_TIMING_MAX_BEHIND (200 * GST_MSECOND)
#define GST_REDIS_TIMING_CAPTURE_TOLERANCE (20 * GST_MSECOND)
/* capture: the timeline moves forward (later capture times) only once every
 * frame of this much of the producer's time was stamped later than it says
 * (at once beyond GST_REDIS_TIMING_MAX_AHEAD): a camera under load stamps
 * frames late, runs of them for most of a second, and following them
 * would take the next ones back */
#define GST_REDIS_TIMING_CAPTURE_WINDOW (1 * GST_SECOND)
/* When the timeline is taken again, a frame goes at least this much after
 * the frame pushed last: timestamps never go back nor stand still. */
#define GST_REDIS_TIMING_MIN_STEP (1 * GST_MSECOND)
/* running-time: for this much of the producer's time after the timeline
 * was taken, a frame that arrives earlier than it says moves it down (the
 * frame it was taken from was held up on its way) */
#define GST_REDIS_TIMING_SETTLE (5 * GST_SECOND)

typedef struct
{
  gboolean anchored;
  /* running time = producer time + offset */
  GstClockTimeDiff offset;
  GstClockTime last_producer;
  /* producer time of the frame the offset was taken from */
  GstClockTime anchor_producer;
  /* DTS (or PTS) of the frame pushed last, on our running time */
  GstClockTime last_out;
  /* capture: producer time of the first of the frames stamped later than
   * the timeline since then, and the least of their lateness */
  GstClockTime late_since;
  GstClockTimeDiff late_min;
  guint64 resyncs;
} GstRedisTiming;

void gst_redis_timing_reset (GstRedisTiming * timing);

/* Rewrites the PTS and DTS of @buffer for @mode: the time the frame arrived
 * (running-time) or was captured (capture), kept at the producer's
 * spacing. A synchronised sink shows it the source's latency later (the
 * source reports it in the LATENCY query). @now is this pipeline's running
 * time as the frame is pushed, @realtime_now the wall clock at the same
 * moment (ns since the epoch), @capture the frame's capture time (ns since
 * the epoch, -1 when unknown). Returns TRUE when the timeline was taken
 * again (a discontinuity). */
gboolean gst_redis_timing_apply (GstRedisTiming * timing,
    GstRedisTimestampMode mode, GstBuffer * buffer, GstClockTime now,
    gint64 realtime_now, gint64 capture);

G_END_DECLS
#endif /* __GST_REDIS_TIMING_H__ */
