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


#ifndef __GST_REDIS_NAMES_H__
#define __GST_REDIS_NAMES_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Names that an entry makes GLib intern for the life of the process: the
 * structure and field names of its caps, the types, param names and param
 * field names of its regions. A name that is not a quark yet counts
 * against one budget of the whole process, checked before anything is
 * interned; what goes over it is refused (docs/security.md has the worst
 * case this allows). */
#define GST_REDIS_NAMES_MAX_NEW 65536
#define GST_REDIS_NAMES_MAX_NEW_BYTES (4 * 1024 * 1024)

/* The names one field is about to intern. */
typedef struct
{
  /* copies of the names not interned when they were added (a set) */
  GHashTable *fresh;
  gsize bytes;
  gboolean reserved;
} GstRedisNames;

/* Interns, once per process, the names of GStreamer's common media types,
 * so that a used-up budget never refuses the caps real producers write. */
void gst_redis_names_intern_common (void);

void gst_redis_names_init (GstRedisNames * names);
/* A name the caller may intern next: counted when it is no quark yet. */
void gst_redis_names_add (GstRedisNames * names, const gchar * name, gsize len);
/* Takes the new names out of the budget; FALSE with a TOO_MANY_NAMES
 * error (in the field @field) when they do not fit. */
gboolean gst_redis_names_reserve (GstRedisNames * names,
    const gchar * field, GError ** error);
/* After the caller interned what it would: gives back what was reserved
 * for names that are still no quark (a parse that stopped early), and
 * frees @names. */
void gst_redis_names_release (GstRedisNames * names);

/* New names taken out of the budget so far. */
guint gst_redis_names_get_used (void);

G_END_DECLS
#endif /* __GST_REDIS_NAMES_H__ */
