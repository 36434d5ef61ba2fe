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

/* A field value for a message: valid UTF-8 (GStreamer refuses anything
 * else and drops the whole text), at most @max bytes of it, with invalid
 * bytes and control characters written as \xNN so that the reader still
 * sees what the producer sent. */
gchar *
gst_redis_wire_printable (const gchar * s, gsize len, gsize max)
{
  GString *out = g_string_sized_new (MIN (len, max) + 8);
  const gchar *p = s, *end = s + MIN (len, max);

  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);

    if (c == (gunichar) - 1 || c == (gunichar) - 2 || c < 0x20 || c == 0x7f) {
      g_string_append_printf (out, "\\x%02x", (guint8) * p);
      p++;
    } else {
      const gchar *next = g_utf8_next_char (p);

      g_string_append_len (out, p, next - p);
      p = next;
    }
  }
  if (len > max)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}
