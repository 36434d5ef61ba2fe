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

/* The `trace` field of an entry and the meta that carries it through a
 * pipeline (gstredistrace.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredistrace.h"

#include <string.h>

/* longest stream and host names a stamp may hold */
#define MAX_NAME 1024

static const gchar *
trace_register (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    /* no tags: copied along with the buffer by filters and encoders */
    static const gchar *tags[] = { NULL };

    gst_meta_register_custom (GST_REDIS_TRACE_META, tags, NULL, NULL, NULL);
    g_once_init_leave (&done, 1);
  }
  return GST_REDIS_TRACE_META;
}

static gboolean
trace_is_time (const gchar * s)
{
  gsize n = strlen (s);

  return n > 0 && n <= 19 && strspn (s, "0123456789") == n;
}

JsonArray *
gst_redis_trace_parse (const gchar * value, gsize len, const gchar ** why)
{
  JsonParser *parser;
  JsonNode *root;
  JsonArray *stamps = NULL;
  guint i, n;

  *why = NULL;
  if (len > GST_REDIS_TRACE_MAX_BYTES) {
    *why = "longer than 4096 bytes";
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, value, len, NULL)) {
    *why = "not JSON";
    goto done;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root)) {
    *why = "not a JSON array";
    goto done;
  }
  stamps = json_node_get_array (root);
  n = json_array_get_length (stamps);
  if (n == 0 || n > GST_REDIS_TRACE_MAX_STAMPS) {
    *why = "not 1 to 32 stamps";
    goto done;
  }
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (stamps, i);
    JsonArray *stamp;
    guint j;

    if (!JSON_NODE_HOLDS_ARRAY (node) ||
        json_array_get_length (stamp = json_node_get_array (node)) != 4) {
      *why = "a stamp is not an array of 4";
      goto done;
    }
    for (j = 0; j < 4; j++) {
      JsonNode *v = json_array_get_element (stamp, j);

      /* json-glib lets a lone surrogate (\ud800) through as bytes that are
       * not UTF-8, which no JSON writer writes back */
      if (!JSON_NODE_HOLDS_VALUE (v) ||
          json_node_get_value_type (v) != G_TYPE_STRING ||
          strlen (json_node_get_string (v)) > MAX_NAME ||
          !g_utf8_validate (json_node_get_string (v), -1, NULL)) {
        *why = "a stamp holds something else than 4 strings of UTF-8";
        goto done;
      }
    }
    if (g_strcmp0 (json_array_get_string_element (stamp, 0), "w") != 0 &&
        g_strcmp0 (json_array_get_string_element (stamp, 0), "r") != 0) {
      *why = "a stamp's kind is neither \"w\" nor \"r\"";
      goto done;
    }
    if (!trace_is_time (json_array_get_string_element (stamp, 3))) {
      *why = "a stamp's time is not a decimal number of nanoseconds";
      goto done;
    }
  }

done:
  if (*why == NULL)
    json_array_ref (stamps);
  else
    stamps = NULL;
  g_object_unref (parser);
  return stamps;
}

void
gst_redis_trace_append (JsonArray * stamps, gboolean read,
    const gchar * stream, gint64 time_ns)
{
  JsonArray *stamp = json_array_sized_new (4);
  gchar time[24];

  g_snprintf (time, sizeof (time), "%" G_GINT64_FORMAT, time_ns);
  json_array_add_string_element (stamp, read ? "r" : "w");
  json_array_add_string_element (stamp, stream);
  json_array_add_string_element (stamp, g_get_host_name ());
  json_array_add_string_element (stamp, time);
  json_array_add_array_element (stamps, stamp);
  /* the oldest stamps give way: a frame that went round more hops */
  while (json_array_get_length (stamps) > GST_REDIS_TRACE_MAX_STAMPS)
    json_array_remove_element (stamps, 0);
}

gchar *
gst_redis_trace_to_string (JsonArray * stamps)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  gchar *text;

  json_node_set_array (node, stamps);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}

JsonArray *
gst_redis_trace_get (GstBuffer * buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, trace_register ());
  const gchar *text, *why;

  if (meta == NULL)
    return NULL;
  text = gst_structure_get_string (gst_custom_meta_get_structure (meta),
      "stamps");
  return text ? gst_redis_trace_parse (text, strlen (text), &why) : NULL;
}

void
gst_redis_trace_set (GstBuffer * buffer, JsonArray * stamps)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, trace_register ());
  gchar *text = gst_redis_trace_to_string (stamps);

  if (meta == NULL)
    meta = gst_buffer_add_custom_meta (buffer, trace_register ());
  gst_structure_set (gst_custom_meta_get_structure (meta), "stamps",
      G_TYPE_STRING, text, NULL);
  g_free (text);
}

void
gst_redis_trace_stamp (JsonArray * stamps, guint i, gboolean * read,
    const gchar ** stream, const gchar ** host, gint64 * time_ns)
{
  JsonArray *stamp = json_array_get_array_element (stamps, i);

  *read = json_array_get_string_element (stamp, 0)[0] == 'r';
  *stream = json_array_get_string_element (stamp, 1);
  *host = json_array_get_string_element (stamp, 2);
  *time_ns = g_ascii_strtoll (json_array_get_string_element (stamp, 3), NULL,
      10);
}
