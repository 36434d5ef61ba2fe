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

#ifndef __GST_REDIS_OUTAGE_H__
#define __GST_REDIS_OUTAGE_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstredisstreamselements.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Bookkeeping of one outage: when the connection was lost, when to try
 * again (with a backoff from 100 ms doubling to 2 s), and when to give up.
 * Touched only by the streaming thread. */
typedef struct
{
  /* whose messages, with the server and stream of its settings;
   * GST_RESOURCE_ERROR_READ for a source, _WRITE for a sink */
  GstElement *element;
  const GstRedisSettings *settings;
  GstResourceError code;
  guint limit_ms;
  gint64 lost_at;               /* monotonic us; 0 while connected */
  gint64 next_try;
  guint backoff_ms;
  guint64 reconnects;
  /* us spent in the outages that ended */
  gint64 down_us;
} GstRedisOutage;

typedef enum
{
  GST_REDIS_RECONNECT_OK,
  GST_REDIS_RECONNECT_LATER,    /* failed; try again when due */
  GST_REDIS_RECONNECT_CANCELLED,
  GST_REDIS_RECONNECT_GAVE_UP,  /* reconnect-timeout ran out */
} GstRedisReconnect;

/* The element's reconnect-timeout, from @settings, is the limit. */
void gst_redis_outage_init (GstRedisOutage * outage, GstElement * element,
    const GstRedisSettings * settings, GstResourceError code);
gboolean gst_redis_outage_is_loss (const GstRedisOutage * outage,
    GstRedisConnection * conn, const GError * err);
gboolean gst_redis_outage_begin (GstRedisOutage * outage);
/* The messages are the element's, posted at @site (GST_REDIS_HERE where
 * the element calls). */
void gst_redis_outage_warn (GstRedisOutage * outage,
    GstRedisConnection * conn, const GError * err, const gchar * consequence,
    const GstRedisSite * site);
gboolean gst_redis_outage_active (const GstRedisOutage * outage);
gboolean gst_redis_outage_due (const GstRedisOutage * outage);
gint64 gst_redis_outage_wait_us (const GstRedisOutage * outage);
GstRedisReconnect gst_redis_outage_reconnect (GstRedisOutage * outage,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);
void gst_redis_outage_end (GstRedisOutage * outage,
    GstRedisConnection * conn, const GstRedisSite * site);
guint64 gst_redis_outage_get_down_time (const GstRedisOutage * outage);

G_END_DECLS
#endif /* __GST_REDIS_OUTAGE_H__ */
