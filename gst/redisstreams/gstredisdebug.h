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

#ifndef __GST_REDIS_DEBUG_H__
#define __GST_REDIS_DEBUG_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The debug categories of the plugin's shared modules. The shared element
 * init (redis_streams_element_init ()) creates them once; a program that
 * links the modules without the plugin (the unit tests, the fuzz targets)
 * calls gst_redis_debug_init () itself. The elements' own categories
 * (redisstreamsrc, redisstreamsink) are made in their class_init. */
GST_DEBUG_CATEGORY_EXTERN (gst_redis_connection_debug);
GST_DEBUG_CATEGORY_EXTERN (gst_redis_outage_debug);
GST_DEBUG_CATEGORY_EXTERN (gst_redis_entry_debug);
GST_DEBUG_CATEGORY_EXTERN (gst_redis_lz4_debug);
GST_DEBUG_CATEGORY_EXTERN (gst_redis_metrics_debug);

void gst_redis_debug_init (void);

G_END_DECLS
#endif /* __GST_REDIS_DEBUG_H__ */
