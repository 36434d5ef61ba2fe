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

#ifndef __GST_REDIS_CANCELLABLE_H__
#define __GST_REDIS_CANCELLABLE_H__

#include <gst/gst.h>
#include <gio/gio.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

gboolean gst_redis_wait_cancellable (GCancellable * cancellable,
    gint64 timeout_us);

/* An element's cancellable, kept under its object lock: unlock () cancels
 * it, unlock_stop () renews it, and the streaming thread holds a reference
 * for each wait, so a wait that has not started yet refuses to start after
 * unlock (). Both elements' unlock () and unlock_stop () are these. */
typedef struct
{
  GstObject *owner;
  /* under the owner's object lock */
  GCancellable *current;
} GstRedisCanceller;

void gst_redis_canceller_init (GstRedisCanceller * canceller,
    GstObject * owner);
void gst_redis_canceller_clear (GstRedisCanceller * canceller);
/* A reference for one wait (or a few in a row), to unref after. */
GCancellable *gst_redis_canceller_get (GstRedisCanceller * canceller);
gboolean gst_redis_canceller_unlock (GstRedisCanceller * canceller);
gboolean gst_redis_canceller_unlock_stop (GstRedisCanceller * canceller);

G_END_DECLS
#endif /* __GST_REDIS_CANCELLABLE_H__ */
