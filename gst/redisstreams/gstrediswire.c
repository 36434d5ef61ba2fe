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

/* The errors of the stream entry format, gstrediswire.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediswire.h"

/* Written out rather than with G_DEFINE_QUARK (), whose bare-word argument
 * gst-indent turns into "gst - redis - entry - error - quark". */
GQuark
gst_redis_entry_error_quark (void)
{
  return g_quark_from_static_string ("gst-redis-entry-error-quark");
}

/* Sets a BAD_FIELD error "field "@name" @why" and returns FALSE. */
gboolean
gst_redis_wire_bad_field (GError ** error, const gchar * name,
    const gchar * why)
{
  g_set_error (error, GST_REDIS_ENTRY_ERROR, GST_REDIS_ENTRY_ERROR_BAD_FIELD,
      "field \"%s\" %s", name, why);
  return FALSE;
}
