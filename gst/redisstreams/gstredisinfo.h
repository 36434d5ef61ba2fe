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

#ifndef __GST_REDIS_INFO_H__
#define __GST_REDIS_INFO_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstredisentry.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The per-stream hash <stream>:info (docs/wire-format.md): what does not
 * change from entry to entry, written by redisstreamsink, read by every
 * reader. Its key hashes to another slot than the stream's in a Redis
 * Cluster, so it has its own connection, routed to the node that serves
 * it, opened for each exchange and closed after it: exchanges are rare (a
 * new caps id, a reconnection), and no idle socket is left for Redis's
 * `timeout` to close. Errors are those of the connection. */
typedef struct _GstRedisInfo GstRedisInfo;

GstRedisInfo *gst_redis_info_new (const GstRedisSettings * settings);
/* The hash of @stream rather than of the settings' stream (the dead-letter
 * stream's, gstredisdeadletter.h). */
GstRedisInfo *gst_redis_info_new_for_stream (const GstRedisSettings *
    settings, const gchar * stream);
void gst_redis_info_free (GstRedisInfo * info);
const gchar *gst_redis_info_get_key (GstRedisInfo * info);
gboolean gst_redis_info_lost (GstRedisInfo * info);

/* Stores @caps_str as field "caps:<@id>" unless the field is there already
 * (HSETNX), and then reads the field back (HGET). TRUE when the hash now
 * holds @caps_str for @id; FALSE with no error when it holds other caps
 * (two caps strings with one id: see gstrediscaps.h). */
gboolean gst_redis_info_store_caps (GstRedisInfo * info, const gchar * id,
    const gchar * caps_str, GCancellable * cancellable, GError ** error);

/* The caps string stored as field "caps:<@id>", as Redis sent it (a
 * string reply, unchecked): %NULL with a GST_REDIS_ENTRY_ERROR
 * (UNKNOWN_CAPS) when the hash has no such field, with a
 * GST_RESOURCE_ERROR when Redis could not be asked or refused. */
GstRedisReply *gst_redis_info_get_caps (GstRedisInfo * info, guint32 id,
    GCancellable * cancellable, GError ** error);

/* Gives @dec the caps of @id from field "caps:<@id>". FALSE with a
 * GST_REDIS_ENTRY_ERROR when the hash has no such field or the caps are
 * not valid (the entries that use the id are invalid), with a
 * GST_RESOURCE_ERROR when Redis could not be asked. */
gboolean gst_redis_info_lookup_caps (GstRedisInfo * info,
    GstRedisEntryDecoder * dec, guint32 id, GCancellable * cancellable,
    GError ** error);

G_END_DECLS
#endif /* __GST_REDIS_INFO_H__ */
