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

#ifndef __GST_REDIS_NODE_H__
#define __GST_REDIS_NODE_H__

#include <gio/gio.h>
#include "gstredissettings.h"
#include "gstrediscommand.h"
#include "gstredisreader.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* One connection to one Redis server (a standalone server, a cluster node,
 * a sentinel): the socket, its I/O and the login. Which server to talk to
 * is decided above it (gstredistopology.c); every wait takes its deadline
 * (monotonic time, us) and a cancellable as arguments. Errors are
 * GST_RESOURCE_ERROR, or G_IO_ERROR_CANCELLED; after any other error the
 * node is closed, because its protocol state is unknown. */
typedef struct _GstRedisNode GstRedisNode;

GstRedisNode *gst_redis_node_new (const GstRedisSettings * settings);
void gst_redis_node_free (GstRedisNode * node);
void gst_redis_node_set_max_bulk (GstRedisNode * node, guint64 max);

void gst_redis_node_set_address (GstRedisNode * node, const gchar * host,
    guint port, gchar * description);
gboolean gst_redis_node_connect (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error);
gboolean gst_redis_node_login (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error);
void gst_redis_node_close (GstRedisNode * node);

gboolean gst_redis_node_is_open (GstRedisNode * node);
const gchar *gst_redis_node_get_host (GstRedisNode * node);
guint gst_redis_node_get_port (GstRedisNode * node);
void gst_redis_node_set_description (GstRedisNode * node, gchar * description);
const gchar *gst_redis_node_describe (GstRedisNode * node);
void gst_redis_node_set_asking (GstRedisNode * node);
gboolean gst_redis_node_closed_by_peer (GstRedisNode * node);
void gst_redis_node_reset_closed_by_peer (GstRedisNode * node);
gboolean gst_redis_node_check_idle_closed (GstRedisNode * node);
gboolean gst_redis_node_can_read (GstRedisNode * node);
guint gst_redis_node_get_pending (GstRedisNode * node);
guint64 gst_redis_node_get_bytes_received (GstRedisNode * node);
guint64 gst_redis_node_get_bytes_sent (GstRedisNode * node);
guint gst_redis_node_get_serial (GstRedisNode * node);

gboolean gst_redis_node_send (GstRedisNode * node, GstRedisCommand * cmd,
    gint64 deadline, GCancellable * cancellable, GError ** error);
GstRedisReply *gst_redis_node_read_reply (GstRedisNode * node,
    gint64 deadline, GCancellable * cancellable, GError ** error);
GstRedisReply *gst_redis_node_call_command (GstRedisNode * node,
    GstRedisCommand * cmd, gint64 deadline, GCancellable * cancellable,
    GError ** error);

/* *INDENT-OFF* */
GstRedisReply *gst_redis_node_call (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error, const gchar * first_arg,
    ...) G_GNUC_NULL_TERMINATED;
/* *INDENT-ON* */

gint64 gst_redis_deadline_after (guint ms);
gboolean gst_redis_error_is_cancelled (const GError * err);

G_END_DECLS
#endif /* __GST_REDIS_NODE_H__ */
