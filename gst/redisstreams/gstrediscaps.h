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

#ifndef __GST_REDIS_CAPS_H__
#define __GST_REDIS_CAPS_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The longest caps string an entry may carry. Stream headers make caps
 * long: Vorbis's are about 8 KB as text. */
#define GST_REDIS_CAPS_MAX_LENGTH (64 * 1024)
/* Caps from an entry's "caps" field, written by anyone: %NULL, with a
 * GST_REDIS_ENTRY_ERROR saying what is wrong, unless @str is one fixed
 * media type that GStreamer parses and writes back unchanged. Bounded: the
 * length, the nesting and the value types are checked, and the names never
 * seen before taken out of the process's budget (gstredisnames.h, code
 * TOO_MANY_NAMES when it is spent), before GStreamer's parser sees the
 * string. */
GstCaps *gst_redis_caps_deserialize (const gchar * str, gsize len,
    GError ** error);

/* The string a sink writes for @caps: %NULL, with *@why, when a reader
 * would refuse it. Free with g_free (). */
gchar *gst_redis_caps_serialize (const GstCaps * caps, const gchar ** why);

/* The id of a caps string in version 2 entries: the first four bytes of
 * its SHA-256 digest, big-endian, highest bit cleared (below 2^31, which
 * Redis keeps as a 4-byte integer). Ids stand for their caps forever, so
 * a reader may keep what it looked up; two caps strings of one stream with
 * the same id (one pair in 2^31) make the writer fall back to version 1
 * entries for the second. */
#define GST_REDIS_CAPS_ID_MAX G_MAXINT32
guint32 gst_redis_caps_id (const gchar * str, gsize len);

G_END_DECLS
#endif /* __GST_REDIS_CAPS_H__ */
