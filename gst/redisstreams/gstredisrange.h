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

#ifndef __GST_REDIS_RANGE_H__
#define __GST_REDIS_RANGE_H__

#include <gst/gst.h>
#include "gstredisreadloop.h"
#include "gstredistiming.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* redisstreamsrc's replay mode: a range of a stream read without a
 * consumer group (XREVRANGE to find where to start, then XREAD after an
 * id through the read loop), from a start to an optional stop given as
 * wall-clock times or entry ids. The frame shown at the start (for
 * inter-coded media the key frame before it, the frames in between only
 * there to be decoded) is found by looking back; frames are timestamped
 * by their capture time, so a position is a time of the stream; seeks are
 * positions mapped back to ids. Touched by the streaming thread, but for
 * the span and the stats (the element's object lock). */

/* A time or place in a stream, as the start and stop properties say it. */
typedef struct
{
  /* wall-clock nanoseconds since 1970 (UTC), or -1 */
  gint64 ns;
  /* an entry id instead of a time, or NULL */
  gchar *id;
  /* the oldest entry still in the stream */
  gboolean oldest;
} GstRedisPosition;

gboolean gst_redis_position_parse (const gchar * text, gint64 now_ns,
    GstRedisPosition * pos, GError ** error);
void gst_redis_position_clear (GstRedisPosition * pos);
/* "2026-01-05T10:00:00.250Z" */
gchar *gst_redis_time_to_string (gint64 ns);

typedef struct
{
  /* frames pushed before the start to decode the ones after it */
  guint64 decode_only;
  /* delta units after a gap that could not be decoded, not pushed */
  guint64 held_back;
  guint64 seeks;
  /* what was asked for but is no longer in the stream */
  guint64 trimmed_ms;
  gchar *trimmed_from;
  gchar *trimmed_to;
  /* the start and stop in use */
  gchar *start;
  gchar *stop;
} GstRedisRangeStats;

typedef struct
{
  GstElement *element;
  const GstRedisSettings *settings;
  GstRedisReadLoop *loop;
  GstRedisKeyUnitGate *gate;

  /* copied at start */
  gchar *start_text;
  gchar *stop_text;
  gboolean accurate;

  /* resolved at start */
  GstRedisPosition stop;
  /* position 0: a frame's PTS is its capture time minus origin */
  gint64 origin;

  /* where to go next: the start, then each seek */
  gboolean locate_due;
  GstRedisPosition target;
  gboolean key_unit;
  gboolean snap_after;
  /* the segment to send with the next frame */
  GstSegment segment;
  gboolean segment_due;
  /* the stop of the current segment, wall clock (-1: none) */
  gint64 segment_stop;

  /* frames starting before this are there to decode, not to show; the
   * frame asked for (also with a key unit start); the first frame's PTS */
  gint64 present_from;
  gint64 asked_from;
  GstClockTime first_pts;
  gboolean discont;
  GstRedisTiming timing;
  /* the producer's spacing kept strictly until the frame shown first */
  gboolean strict;
  guint64 presented;
  gint64 last_time;

  /* the stream's first and last entry, under the object lock */
  gboolean span_known;
  gint64 first_ns;
  gint64 last_ns;
  gint64 last_sample;
  gboolean sample_enabled;
  gboolean deleted_any;
  /* a connection of the queries' own, under query_lock */
  GMutex query_lock;
  GstRedisConnection *query_conn;
  gboolean query_enabled;
  gint64 last_query_sample;

  /* under the element's object lock; kept after stop */
  GstRedisRangeStats stats;
} GstRedisRange;

typedef enum
{
  GST_REDIS_RANGE_FRAME,
  GST_REDIS_RANGE_EOS,
  GST_REDIS_RANGE_ERROR,
} GstRedisRangeResult;

void gst_redis_range_init (GstRedisRange * range, GstElement * element,
    const GstRedisSettings * settings, GstRedisReadLoop * loop,
    GstRedisKeyUnitGate * gate);
void gst_redis_range_clear (GstRedisRange * range);
/* Under the element's object lock, at start: NULL @start is the consumer
 * group mode (nothing of this module runs). */
void gst_redis_range_configure (GstRedisRange * range, const gchar * start,
    const gchar * stop, gboolean accurate);
gboolean gst_redis_range_is_on (GstRedisRange * range);
/* The read loop connected: parses the positions, looks at the stream. */
gboolean gst_redis_range_start (GstRedisRange * range,
    GCancellable * cancellable, GError ** error);
void gst_redis_range_stop (GstRedisRange * range);

/* The next frame to push, timestamped, or the end of the range. */
GstRedisRangeResult gst_redis_range_next (GstRedisRange * range,
    GCancellable * cancellable, GstRedisFrame * frame, gboolean * decode_only,
    GError ** error);
/* TRUE with @segment when a new segment goes before the frame, and
 * @message, the redisstreamsrc-range element message that says where the
 * frames begin (docs/redisstreamsrc.md). */
gboolean gst_redis_range_take_segment (GstRedisRange * range,
    GstSegment * segment, GstStructure ** message);

/* A flushing seek (basesrc's do_seek): @segment's start is a position. */
void gst_redis_range_seek (GstRedisRange * range, const GstSegment * segment,
    GstSeekFlags flags);
/* DURATION and SEEKING from the stream's span; any thread. */
gboolean gst_redis_range_query (GstRedisRange * range, GstQuery * query);
/* The range-* fields of the stats, under the object lock. */
void gst_redis_range_add_stats (GstRedisRange * range, GstStructure * s);

G_END_DECLS
#endif /* __GST_REDIS_RANGE_H__ */
