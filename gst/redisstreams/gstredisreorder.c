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

/* The reorder window of redisstreamsrc: several processors in one group
 * finish frames out of order; the source holds them and pushes them by
 * sequence number. A frame goes out when it is the next one due, or when
 * waiting longer would break the window (more than window frames held, or
 * the oldest held for timeout ms): the missing ones before it are given up
 * (gaps), and if they come later they are dropped and acknowledged (late).
 * Frames without a sequence number never come here. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisreorder.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* A frame this much older than the next one due is not late: its producer
 * started counting again. */
#define REORDER_RESTART_DISTANCE 1000

typedef struct
{
  guint64 seq;
  GstRedisFrame frame;
  gint64 arrived;
} HeldFrame;

static void
held_frame_free (HeldFrame * h)
{
  gst_redis_frame_clear (&h->frame);
  g_free (h);
}

static gint
held_frame_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  guint64 x = ((const HeldFrame *) a)->seq, y = ((const HeldFrame *) b)->seq;

  return x < y ? -1 : x > y;
}

void
gst_redis_reorder_init (GstRedisReorder * reorder, GstElement * element,
    GstRedisKeyUnitGate * gate)
{
  reorder->element = element;
  reorder->gate = gate;
  g_queue_init (&reorder->held);
}

void
gst_redis_reorder_start (GstRedisReorder * reorder, guint window,
    guint timeout_ms)
{
  reorder->window = window;
  reorder->timeout_us = timeout_ms * G_TIME_SPAN_MILLISECOND;
  reorder->next_seq_valid = FALSE;
  reorder->late = reorder->gaps = 0;
}

/* Held frames stay pending in Redis: delivered again after a restart. */
void
gst_redis_reorder_clear (GstRedisReorder * reorder)
{
  g_queue_clear_full (&reorder->held, (GDestroyNotify) held_frame_free);
}

gboolean
gst_redis_reorder_is_on (const GstRedisReorder * reorder)
{
  return reorder->window > 0;
}

guint
gst_redis_reorder_get_held (GstRedisReorder * reorder)
{
  return g_queue_get_length (&reorder->held);
}

/* Moves the frame of the oldest held one into @frame. Under the element's
 * object lock. */
static void
reorder_pop_head (GstRedisReorder * reorder, GstRedisFrame * frame)
{
  HeldFrame *h = g_queue_pop_head (&reorder->held);

  *frame = h->frame;
  g_free (h);
}

/* The held frame to push at @now, if one is due, or a copy of a frame
 * already pushed (at-least-once), to be acknowledged and dropped. With
 * GST_REDIS_REORDER_NONE, @wait_us is how much longer the oldest held
 * frame may wait for the ones before it, -1 when none is held. */
GstRedisReorderResult
gst_redis_reorder_pop (GstRedisReorder * reorder, gint64 now,
    GstRedisFrame * frame, gint64 * wait_us)
{
  HeldFrame *h = g_queue_peek_head (&reorder->held);
  gboolean due;

  *wait_us = -1;
  if (h == NULL)
    return GST_REDIS_REORDER_NONE;
  if (reorder->next_seq_valid && h->seq < reorder->next_seq) {
    GST_OBJECT_LOCK (reorder->element);
    reorder_pop_head (reorder, frame);
    reorder->late++;
    GST_OBJECT_UNLOCK (reorder->element);
    return GST_REDIS_REORDER_LATE;
  }

  due = reorder->next_seq_valid && h->seq == reorder->next_seq;
  if (!due && g_queue_get_length (&reorder->held) <= reorder->window &&
      now - h->arrived < reorder->timeout_us) {
    *wait_us = h->arrived + reorder->timeout_us - now;
    return GST_REDIS_REORDER_NONE;
  }
  if (!due && reorder->next_seq_valid) {
    GST_DEBUG_OBJECT (reorder->element, "giving up on frames %"
        G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT, reorder->next_seq, h->seq - 1);
    GST_OBJECT_LOCK (reorder->element);
    reorder->gaps += h->seq - reorder->next_seq;
    gst_redis_key_unit_gate_gap (reorder->gate);
    GST_OBJECT_UNLOCK (reorder->element);
  }
  reorder->next_seq = h->seq + 1;
  reorder->next_seq_valid = TRUE;
  GST_OBJECT_LOCK (reorder->element);
  reorder_pop_head (reorder, frame);
  GST_OBJECT_UNLOCK (reorder->element);
  return GST_REDIS_REORDER_DUE;
}

/* Holds @frame, which has a sequence number, and takes it; or returns
 * FALSE, leaving it to the caller, when it came after the frames behind it
 * went out: to be acknowledged and dropped. */
gboolean
gst_redis_reorder_hold (GstRedisReorder * reorder, GstRedisFrame * frame)
{
  guint64 seq = GST_BUFFER_OFFSET (frame->buffer);
  HeldFrame *h;

  if (reorder->next_seq_valid && seq < reorder->next_seq) {
    if (reorder->next_seq - seq <= REORDER_RESTART_DISTANCE) {
      GST_DEBUG_OBJECT (reorder->element, "frame %" G_GUINT64_FORMAT " came "
          "after frame %" G_GUINT64_FORMAT ", dropping it", seq,
          reorder->next_seq - 1);
      GST_OBJECT_LOCK (reorder->element);
      reorder->late++;
      GST_OBJECT_UNLOCK (reorder->element);
      return FALSE;
    }
    GST_INFO_OBJECT (reorder->element, "sequence numbers start again at %"
        G_GUINT64_FORMAT, seq);
    reorder->next_seq_valid = FALSE;
  }
  h = g_new0 (HeldFrame, 1);
  h->seq = seq;
  h->frame = *frame;
  memset (frame, 0, sizeof (*frame));
  h->arrived = g_get_monotonic_time ();
  GST_OBJECT_LOCK (reorder->element);
  g_queue_insert_sorted (&reorder->held, h, held_frame_compare, NULL);
  GST_OBJECT_UNLOCK (reorder->element);
  return TRUE;
}
