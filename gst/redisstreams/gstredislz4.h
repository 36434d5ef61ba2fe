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

#ifndef __GST_REDIS_LZ4_H__
#define __GST_REDIS_LZ4_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* LZ4 frames of independent blocks, compressed and decompressed on several
 * cores. One per encoder or decoder: it owns its scratch memory and its
 * worker threads, and is used by one thread at a time. */
typedef struct _GstRedisLz4 GstRedisLz4;

GstRedisLz4 *gst_redis_lz4_new (void);
void gst_redis_lz4_free (GstRedisLz4 * lz4);
const guint8 *gst_redis_lz4_compress (GstRedisLz4 * lz4, const guint8 * data,
    gsize size, gint acceleration, gsize * out_size, GError ** error);
gboolean gst_redis_lz4_decompress (GstRedisLz4 * lz4, const guint8 * src,
    gsize len, guint8 * out, gsize size, GError ** error);

G_END_DECLS
#endif /* __GST_REDIS_LZ4_H__ */
