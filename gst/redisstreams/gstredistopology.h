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

#ifndef __GST_REDIS_TOPOLOGY_H__
#define __GST_REDIS_TOPOLOGY_H__

#include "gstredisnode.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Which server to talk to: the configured one, the node of a Redis Cluster
 * that owns the stream's hash slot (and where MOVED and ASK point), or the
 * master that Redis Sentinel names. The topology opens a GstRedisNode there
 * and reads the replies that say the stream is served elsewhere. */
typedef struct _GstRedisTopology GstRedisTopology;

GstRedisTopology *gst_redis_topology_new (const GstRedisSettings * settings);
void gst_redis_topology_free (GstRedisTopology * topology);
void gst_redis_topology_init_node (GstRedisTopology * topology,
    GstRedisNode * node);
gboolean gst_redis_topology_open (GstRedisTopology * topology,
    GstRedisNode * node, gint64 deadline, GCancellable * cancellable,
    GError ** error);

/* What a reply said about where the stream is served. */
typedef enum
{
  GST_REDIS_ROUTE_HERE,         /* an answer from the right node */
  GST_REDIS_ROUTE_REDIRECTED,   /* MOVED, ASK, READONLY: go elsewhere now */
  GST_REDIS_ROUTE_UNAVAILABLE,  /* CLUSTERDOWN, TRYAGAIN, ...: not now */
} GstRedisRoute;

GstRedisRoute gst_redis_topology_check_reply (GstRedisTopology * topology,
    GstRedisNode * node, const GstRedisReply * reply, GError ** error);

/* The Redis Cluster hash slot of a key: CRC16 of the key, or of its
 * {hash tag}, modulo 16384. */
guint gst_redis_key_hash_slot (const gchar * key, gsize len);

G_END_DECLS
#endif /* __GST_REDIS_TOPOLOGY_H__ */
