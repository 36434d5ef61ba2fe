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

#ifndef __GST_REDIS_RETENTION_H__
#define __GST_REDIS_RETENTION_H__

#include <glib.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* What redisstreamsink keeps of the entries it wrote, to trim the stream by
 * size with the same single XADD ... MAXLEN ~ / MINID ~ it trims by count
 * or age with: the sizes (and ids) of its newest entries, at most as many
 * as fit in the byte budget. */
typedef struct _GstRedisRetention GstRedisRetention;

/* Redis's memory for one entry beyond its field/value bytes (listpack
 * entry headers, the entry id, the master-entry field of its node), a
 * little generous so that MEMORY USAGE stays under the budget. The sum is
 * then rounded up to the allocator's size class. */
#define GST_REDIS_RETENTION_ENTRY_OVERHEAD 64
/* And outside that allocation: a large entry gets a stream node of its own,
 * with its radix-tree node and key (370 to 510 bytes measured with Redis
 * 7.0's MEMORY USAGE: a 64 MiB stream of 32 KB JPEG frames went 33 KB over
 * the budget with 512). */
#define GST_REDIS_RETENTION_NODE_OVERHEAD 640

GstRedisRetention *gst_redis_retention_new (void);
void gst_redis_retention_free (GstRedisRetention * r);
void gst_redis_retention_reset (GstRedisRetention * r);

/* What an entry costs in Redis's memory (what MEMORY USAGE counts), from
 * the bytes of its field names and values and its number of fields. */
guint64 gst_redis_retention_entry_cost (guint64 names, guint64 values,
    guint fields);

/* The trimming for an entry of @cost bytes about to be added, with the
 * bounds @maxlen (entries, 0: none) and @max_bytes (0: none):
 * *@n_keep is how many entries the stream should hold after the XADD,
 * that entry included (G_MAXUINT64 when nothing bounds it), and
 * *@min_ms/@min_seq the id of the oldest entry the byte budget keeps when
 * that is known (the entries before it were written by this sink and went
 * over the budget); *@min_ms is 0 otherwise. */
void gst_redis_retention_plan (GstRedisRetention * r, guint64 cost,
    guint64 maxlen, guint64 max_bytes, guint64 * n_keep, guint64 * min_ms,
    guint64 * min_seq);

/* Records an entry of @cost bytes Redis stored, with the id it gave it
 * ("ms-seq"), under
 * the same bounds as the plan. */
void gst_redis_retention_commit (GstRedisRetention * r, guint64 cost,
    const gchar * id, guint64 maxlen, guint64 max_bytes);

/* Bytes of the entries recorded and still within the bounds. */
guint64 gst_redis_retention_get_bytes (GstRedisRetention * r);

G_END_DECLS
#endif /* __GST_REDIS_RETENTION_H__ */
