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

#ifndef __GST_REDIS_META_H__
#define __GST_REDIS_META_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The "meta" field of a stream entry: the region-of-interest metas of a
 * frame as JSON, docs/wire-format.md. */
gchar *gst_redis_meta_to_json (GstBuffer * buffer);
gboolean gst_redis_meta_from_json (GstBuffer * buffer, const gchar * json,
    gsize len, GError ** error);

G_END_DECLS
#endif /* __GST_REDIS_META_H__ */
