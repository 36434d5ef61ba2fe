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

#ifndef __GST_REDIS_CONNECTION_H__
#define __GST_REDIS_CONNECTION_H__

#include <gst/gst.h>
#include <gio/gio.h>
#include "gstredissettings.h"
#include "gstrediscommand.h"
#include "gstredisreader.h"
#include "gstredisnode.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The connection an element uses: to the server of its settings, or to the
 * node of a Redis Cluster or the master of Redis Sentinel that serves its
 * stream (gstredistopology.c), over one GstRedisNode (gstredisnode.c). It
 * reconnects only when asked to (gst_redis_connection_open ()); what to do
 * during an outage is the element's business (gstredisoutage.c). */
typedef struct _GstRedisConnection GstRedisConnection;

GstRedisConnection *gst_redis_connection_new (const GstRedisSettings *
    settings);
void gst_redis_connection_free (GstRedisConnection * conn);
GstRedisNode *gst_redis_connection_get_node (GstRedisConnection * conn);
gboolean gst_redis_connection_open (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error);
void gst_redis_connection_close (GstRedisConnection * conn);
gboolean gst_redis_connection_is_open (GstRedisConnection * conn);
const gchar *gst_redis_connection_describe (GstRedisConnection * conn);
gboolean gst_redis_connection_may_follow (GstRedisConnection * conn,
    const GError * err, guint * redirects);
gboolean gst_redis_connection_can_read (GstRedisConnection * conn);
guint gst_redis_connection_get_opens (GstRedisConnection * conn);

gboolean gst_redis_connection_send (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error);
GstRedisReply *gst_redis_connection_read_reply (GstRedisConnection * conn,
    guint extra_timeout_ms, GCancellable * cancellable, GError ** error);
GstRedisReply *gst_redis_connection_read_reply_here (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error);

/* *INDENT-OFF* */
GstRedisReply *gst_redis_connection_call (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * first_arg,
    ...) G_GNUC_NULL_TERMINATED;
/* *INDENT-ON* */

GstRedisReply *gst_redis_connection_call_command (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error);

/* *INDENT-OFF* */
void gst_redis_connection_set_refused (GstRedisConnection * conn,
    const GstRedisReply * reply, GstResourceError code, GError ** error,
    const gchar * format, ...) G_GNUC_PRINTF (5, 6);
/* *INDENT-ON* */

G_END_DECLS
#endif /* __GST_REDIS_CONNECTION_H__ */
