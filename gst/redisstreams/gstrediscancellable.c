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

/* Interruptible waits of the elements: the cancellable that unlock ()
 * cancels and unlock_stop () renews, and a sleep that it interrupts. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediscancellable.h"

/* Sleeps for @timeout_us unless @cancellable is cancelled first; returns
 * FALSE when cancelled. */
gboolean
gst_redis_wait_cancellable (GCancellable * cancellable, gint64 timeout_us)
{
  GPollFD pfd;

  if (g_cancellable_is_cancelled (cancellable))
    return FALSE;
  if (!g_cancellable_make_pollfd (cancellable, &pfd)) {
    g_usleep (timeout_us);
    return !g_cancellable_is_cancelled (cancellable);
  }
  g_poll (&pfd, 1, (gint) MIN (timeout_us / 1000 + 1, G_MAXINT));
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_is_cancelled (cancellable);
}

void
gst_redis_canceller_init (GstRedisCanceller * canceller, GstObject * owner)
{
  canceller->owner = owner;
  canceller->current = g_cancellable_new ();
}

void
gst_redis_canceller_clear (GstRedisCanceller * canceller)
{
  g_clear_object (&canceller->current);
}

GCancellable *
gst_redis_canceller_get (GstRedisCanceller * canceller)
{
  GCancellable *c;

  GST_OBJECT_LOCK (canceller->owner);
  c = g_object_ref (canceller->current);
  GST_OBJECT_UNLOCK (canceller->owner);
  return c;
}

/* An element's unlock (): interrupts the wait under way and refuses the
 * next ones. */
gboolean
gst_redis_canceller_unlock (GstRedisCanceller * canceller)
{
  GST_LOG_OBJECT (canceller->owner, "unlocking");
  GST_OBJECT_LOCK (canceller->owner);
  g_cancellable_cancel (canceller->current);
  GST_OBJECT_UNLOCK (canceller->owner);
  return TRUE;
}

/* An element's unlock_stop (): a new cancellable rather than
 * g_cancellable_reset (), which must not be called on one that a wait may
 * still be using. */
gboolean
gst_redis_canceller_unlock_stop (GstRedisCanceller * canceller)
{
  GST_LOG_OBJECT (canceller->owner, "unlock stop");
  GST_OBJECT_LOCK (canceller->owner);
  g_object_unref (canceller->current);
  canceller->current = g_cancellable_new ();
  GST_OBJECT_UNLOCK (canceller->owner);
  return TRUE;
}
