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

/* The debug categories of the plugin's shared modules (gstredisdebug.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisdebug.h"
#include "gstparallel.h"

GST_DEBUG_CATEGORY (gst_redis_connection_debug);
GST_DEBUG_CATEGORY (gst_redis_outage_debug);
GST_DEBUG_CATEGORY (gst_redis_entry_debug);
GST_DEBUG_CATEGORY (gst_redis_lz4_debug);
GST_DEBUG_CATEGORY (gst_redis_metrics_debug);

void
gst_redis_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (gst_redis_connection_debug, "redisconnection", 0,
      "Redis connection shared by the Redis Streams elements");
  GST_DEBUG_CATEGORY_INIT (gst_redis_outage_debug, "redisoutage", 0,
      "Outages of the Redis Streams elements' connections");
  GST_DEBUG_CATEGORY_INIT (gst_redis_entry_debug, "redisentry", 0,
      "Redis stream entry encoder and decoder");
  GST_DEBUG_CATEGORY_INIT (gst_redis_lz4_debug, "redislz4", 0,
      "Redis stream entry LZ4 frames");
  GST_DEBUG_CATEGORY_INIT (gst_redis_metrics_debug, "redismetrics", 0,
      "Metrics reports of the Redis Streams elements");
  gst_parallel_debug_init ();
}
