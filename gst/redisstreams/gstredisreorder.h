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

#ifndef __GST_REDIS_REORDER_H__
#define __GST_REDIS_REORDER_H__

#include <gst/gst.h>
#include "gstredisframe.h"
#include "gstrediskeyunit.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* redisstreamsrc's reorder window: frames held, sorted by sequence number
 * (the buffer offset), and pushed in order. Touched by the streaming
 * thread; the held queue and the counters change under the element's
 * object lock, so that its stats can be read from any thread. */
typedef struct
{
  GstElement *element;
  /* told when frames are given up */
  GstRedisKeyUnitGate *gate;

  /* set by gst_redis_reorder_start () */
  guint window;
  gint64 timeout_us;

  GQueue held;
  guint64 next_seq;
  gboolean next_seq_valid;

  /* stats, under the element's object lock; kept after stop */
  guint64 late;
  guint64 gaps;
} GstRedisReorder;

typedef enum
{
  /* nothing is due yet */
  GST_REDIS_REORDER_NONE,
  /* the frame to push next */
  GST_REDIS_REORDER_DUE,
  /* a second copy of a frame already pushed: acknowledge and drop it */
  GST_REDIS_REORDER_LATE,
} GstRedisReorderResult;

void gst_redis_reorder_init (GstRedisReorder * reorder, GstElement * element,
    GstRedisKeyUnitGate * gate);
/* Under the element's object lock. */
void gst_redis_reorder_start (GstRedisReorder * reorder, guint window,
    guint timeout_ms);
void gst_redis_reorder_clear (GstRedisReorder * reorder);
gboolean gst_redis_reorder_is_on (const GstRedisReorder * reorder);
guint gst_redis_reorder_get_held (GstRedisReorder * reorder);

GstRedisReorderResult gst_redis_reorder_pop (GstRedisReorder * reorder,
    gint64 now, GstRedisFrame * frame, gint64 * wait_us);
gboolean gst_redis_reorder_hold (GstRedisReorder * reorder,
    GstRedisFrame * frame);

G_END_DECLS
#endif /* __GST_REDIS_REORDER_H__ */
