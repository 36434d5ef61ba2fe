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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisstreamselements.h"
#include "gstredisentry.h"
#include "gstredisdebug.h"

/* What every element of the plugin needs once, whichever registers first. */
void
redis_streams_element_init (GstPlugin * plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    gst_redis_debug_init ();
    gst_type_mark_as_plugin_api (GST_TYPE_REDIS_COMPRESSION, 0);
    /* the entry meta, whichever element comes first (gstredisticket.h) */
    gst_redis_entry_meta_get_info ();
    gst_type_mark_as_plugin_api (GST_TYPE_REDIS_TICKET, 0);
    g_once_init_leave (&done, 1);
  }
}

#define ACK_QUERY_NAME "GstRedisStreamAcknowledges"

GstQuery *
gst_redis_ack_query_new (GstElement * sink, GstRedisStoreMark * mark)
{
  return gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new (ACK_QUERY_NAME, "sink", GST_TYPE_ELEMENT, sink,
          "mark", G_TYPE_POINTER, mark, "sources", G_TYPE_UINT, 0,
          "pushed", G_TYPE_BOOLEAN, FALSE, NULL));
}

gboolean
gst_redis_ack_query_answer (GstQuery * query, const gchar * stream,
    const gchar * group, gboolean pushed, GstElement ** sink,
    GstRedisStoreMark ** mark)
{
  GstStructure *s;
  gboolean any_pushed = FALSE;
  GstRedisStoreMark *m = NULL;
  guint n = 0;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return FALSE;
  s = gst_query_writable_structure (query);
  if (s == NULL || !gst_structure_has_name (s, ACK_QUERY_NAME))
    return FALSE;
  gst_structure_get_uint (s, "sources", &n);
  gst_structure_get_boolean (s, "pushed", &any_pushed);
  if (n == 0)
    gst_structure_set (s, "stream", G_TYPE_STRING, stream, "group",
        G_TYPE_STRING, group, NULL);
  gst_structure_set (s, "sources", G_TYPE_UINT, n + 1, "pushed",
      G_TYPE_BOOLEAN, any_pushed || pushed, NULL);
  *sink = NULL;
  *mark = NULL;
  gst_structure_get (s, "sink", GST_TYPE_ELEMENT, sink, NULL);
  if (gst_structure_get (s, "mark", G_TYPE_POINTER, &m, NULL) && m)
    *mark = gst_redis_store_mark_ref (m);
  return TRUE;
}

guint
gst_redis_ack_query_parse (GstQuery * query, gchar ** stream, gchar ** group,
    gboolean * pushed)
{
  const GstStructure *s = gst_query_get_structure (query);
  guint n = 0;

  if (s == NULL || !gst_structure_has_name (s, ACK_QUERY_NAME) ||
      !gst_structure_get_uint (s, "sources", &n) || n == 0)
    return 0;
  if (stream)
    *stream = g_strdup (gst_structure_get_string (s, "stream"));
  if (group)
    *group = g_strdup (gst_structure_get_string (s, "group"));
  if (pushed)
    gst_structure_get_boolean (s, "pushed", pushed);
  return n;
}

/* The one posting route of the elements (gstredisstreamselements.h): the
 * text a user reads, with the server and the stream as details and the
 * element's own location. The text is for a user; it never holds a
 * secret (gst_redis_settings_describe () leaves the password out). */
void
gst_redis_element_post (GstElement * element,
    const GstRedisSettings * settings, GstMessageType type, GQuark domain,
    gint code, gchar * text, gchar * debug, const GstRedisSite * site)
{
  gchar *server = gst_redis_settings_describe (settings);
  GstStructure *details;

  details = gst_structure_new ("details", "server", G_TYPE_STRING, server,
      "stream", G_TYPE_STRING, settings->stream, NULL);
  gst_element_message_full_with_details (element, type, domain, code, text,
      debug, site->file, site->function, site->line, details);
  g_free (server);
}

void
gst_redis_element_post_error (GstElement * element,
    const GstRedisSettings * settings, GstMessageType type,
    const GError * err, const GstRedisSite * site)
{
  gchar *server = gst_redis_settings_describe (settings);
  gint code = err->domain == GST_RESOURCE_ERROR ? err->code :
      GST_RESOURCE_ERROR_READ;

  gst_redis_element_post (element, settings, type, GST_RESOURCE_ERROR, code,
      g_strdup (err->message), g_strdup_printf ("server %s, stream \"%s\"",
          server, settings->stream), site);
  g_free (server);
}

void
gst_redis_element_start_failed (GstElement * element,
    const GstRedisSettings * settings, GError * err, const GstRedisSite * site)
{
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    GST_DEBUG_OBJECT (element, "start cancelled");
  else
    gst_redis_element_post_error (element, settings, GST_MESSAGE_ERROR, err,
        site);
  g_error_free (err);
}
