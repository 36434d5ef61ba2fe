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

#ifndef __GST_REDIS_TRACE_H__
#define __GST_REDIS_TRACE_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The optional `trace` field of an entry (docs/wire-format.md): the times
 * one frame was written into and read from each stream on its way, as a
 * JSON array of stamps ["w" or "r", stream, host, "nanoseconds since the
 * Unix epoch"], oldest first. A sink appends its "w" stamp and writes the
 * field; a source checks the field, appends its "r" stamp and keeps the
 * array on the buffer in a custom meta (GstRedisTraceMeta), which the next
 * sink of the pipeline continues. */

#define GST_REDIS_TRACE_FIELD "trace"
#define GST_REDIS_TRACE_META "GstRedisTraceMeta"
#define GST_REDIS_TRACE_MAX_BYTES 4096
#define GST_REDIS_TRACE_MAX_STAMPS 32

/* Checks a field value; returns the array of stamps or NULL with the reason
 * in @why. */
JsonArray *gst_redis_trace_parse (const gchar * value, gsize len,
    const gchar ** why);
void gst_redis_trace_append (JsonArray * stamps, gboolean read,
    const gchar * stream, gint64 time_ns);
gchar *gst_redis_trace_to_string (JsonArray * stamps);

/* The stamps carried by @buffer (a new reference), or NULL. */
JsonArray *gst_redis_trace_get (GstBuffer * buffer);
/* Replaces the stamps carried by @buffer, which must be writable. */
void gst_redis_trace_set (GstBuffer * buffer, JsonArray * stamps);

/* One stamp of an array checked by gst_redis_trace_parse (). */
void gst_redis_trace_stamp (JsonArray * stamps, guint i, gboolean * read,
    const gchar ** stream, const gchar ** host, gint64 * time_ns);

G_END_DECLS
#endif /* __GST_REDIS_TRACE_H__ */
