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

/* The JSON meta codec: the region-of-interest metas of a frame (detections)
 * <-> the "meta" field of a stream entry, docs/wire-format.md "meta". */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredismeta.h"
#include "gstredisnames.h"
#include "gstrediswire.h"
#include "gstframemeta.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include <gst/video/video.h>

#define bad_field gst_redis_wire_bad_field

/* What GstStructure accepts as a name: a letter, then letters, digits and
 * "/-_.:+". */
static gboolean
structure_name_is_valid (const gchar * name)
{
  const gchar *p;

  if (!g_ascii_isalpha (*name))
    return FALSE;
  for (p = name + 1; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("/-_.:+", *p))
      return FALSE;
  }
  return TRUE;
}

gchar *
gst_redis_meta_to_json (GstBuffer * buffer)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  JsonArray *rois = NULL;
  JsonObject *root;
  JsonNode *root_node;
  gchar *json;

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (rois == NULL)
      rois = json_array_new ();
    json_array_add_object_element (rois, gst_frame_meta_roi_to_json (roi,
            GST_FRAME_META_ROI_PARAMS));
  }

  if (rois == NULL)
    return NULL;

  root = json_object_new ();
  json_object_set_array_member (root, "rois", rois);
  root_node = json_node_init_object (json_node_alloc (), root);
  json = json_to_string (root_node, FALSE);
  json_node_unref (root_node);
  json_object_unref (root);
  return json;
}

static gboolean
json_member_to_gvalue (JsonNode * node, GValue * v)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  switch (json_node_get_value_type (node)) {
    case G_TYPE_BOOLEAN:
      g_value_init (v, G_TYPE_BOOLEAN);
      g_value_set_boolean (v, json_node_get_boolean (node));
      return TRUE;
    case G_TYPE_INT64:{
      gint64 i = json_node_get_int (node);

      if (i >= G_MININT && i <= G_MAXINT) {
        g_value_init (v, G_TYPE_INT);
        g_value_set_int (v, (gint) i);
      } else {
        g_value_init (v, G_TYPE_INT64);
        g_value_set_int64 (v, i);
      }
      return TRUE;
    }
    case G_TYPE_DOUBLE:
      g_value_init (v, G_TYPE_DOUBLE);
      g_value_set_double (v, json_node_get_double (node));
      return TRUE;
    case G_TYPE_STRING:
      g_value_init (v, G_TYPE_STRING);
      g_value_set_string (v, json_node_get_string (node));
      return TRUE;
    default:
      return FALSE;
  }
}

/* Limits of what a region may carry: every name becomes a GLib quark, which
 * lives as long as the process, so names are few and short (and the new
 * ones count against the process's budget, gstredisnames.h). */
#define MAX_PARAMS_PER_REGION 8
#define MAX_FIELDS_PER_PARAM 16
#define MAX_NAME_LENGTH 64
#define MAX_STRING_VALUE_LENGTH 256

static gboolean
text_is_valid (const gchar * text, gsize max)
{
  return text && strlen (text) <= max && g_utf8_validate (text, -1, NULL);
}

static gboolean
params_are_valid (JsonNode * node)
{
  JsonObject *params;
  GList *names, *l;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  params = json_node_get_object (node);
  if (json_object_get_size (params) > MAX_PARAMS_PER_REGION)
    return FALSE;
  names = json_object_get_members (params);
  for (l = names; l && ok; l = l->next) {
    JsonNode *pnode = json_object_get_member (params, l->data);
    GList *fields, *f;

    if (strlen (l->data) > MAX_NAME_LENGTH ||
        !structure_name_is_valid (l->data) || !JSON_NODE_HOLDS_OBJECT (pnode)
        || json_object_get_size (json_node_get_object (pnode)) >
        MAX_FIELDS_PER_PARAM) {
      ok = FALSE;
      break;
    }
    fields = json_object_get_members (json_node_get_object (pnode));
    for (f = fields; f && ok; f = f->next) {
      JsonNode *v = json_object_get_member (json_node_get_object (pnode),
          f->data);

      ok = strlen (f->data) <= MAX_NAME_LENGTH &&
          structure_name_is_valid (f->data) && JSON_NODE_HOLDS_VALUE (v);
      if (!ok)
        break;
      switch (json_node_get_value_type (v)) {
        case G_TYPE_BOOLEAN:
        case G_TYPE_INT64:
          break;
        case G_TYPE_DOUBLE:
          ok = isfinite (json_node_get_double (v));
          break;
        case G_TYPE_STRING:
          ok = text_is_valid (json_node_get_string (v),
              MAX_STRING_VALUE_LENGTH);
          break;
        default:
          ok = FALSE;
          break;
      }
    }
    g_list_free (fields);
  }
  g_list_free (names);
  return ok;
}

static gboolean
get_int_member (JsonObject * obj, const gchar * name, gint64 min, gint64 max,
    gint64 * out)
{
  JsonNode *node = json_object_get_member (obj, name);

  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}


/* A region: {"type": string, "x", "y", "w", "h": non-negative integers,
 * "params": {name: {field: number, string or boolean}}}, within the
 * limits above. */
static gboolean
roi_is_valid (JsonNode * node)
{
  JsonObject *obj;
  JsonNode *type;
  gint64 v;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  obj = json_node_get_object (node);
  type = json_object_get_member (obj, "type");
  if (type == NULL || !JSON_NODE_HOLDS_VALUE (type) ||
      json_node_get_value_type (type) != G_TYPE_STRING)
    return FALSE;
  if (!get_int_member (obj, "x", 0, G_MAXUINT, &v) ||
      !get_int_member (obj, "y", 0, G_MAXUINT, &v) ||
      !get_int_member (obj, "w", 0, G_MAXUINT, &v) ||
      !get_int_member (obj, "h", 0, G_MAXUINT, &v))
    return FALSE;
  if (!text_is_valid (json_object_get_string_member (obj, "type"), 64))
    return FALSE;
  return !json_object_has_member (obj, "params") ||
      params_are_valid (json_object_get_member (obj, "params"));
}

/* Adds the params of a valid region to @meta, one structure per name. */
static void
roi_add_params (GstVideoRegionOfInterestMeta * meta, JsonObject * params)
{
  GList *names = json_object_get_members (params), *l;

  for (l = names; l; l = l->next) {
    JsonObject *fields =
        json_node_get_object (json_object_get_member (params, l->data));
    GstStructure *s = gst_structure_new_empty (l->data);
    GList *fnames = json_object_get_members (fields), *fl;

    for (fl = fnames; fl; fl = fl->next) {
      GValue v = G_VALUE_INIT;

      if (json_member_to_gvalue (json_object_get_member (fields, fl->data), &v))
        gst_structure_take_value (s, fl->data, &v);
    }
    g_list_free (fnames);
    gst_video_region_of_interest_meta_add_param (meta, s);
  }
  g_list_free (names);
}

/* Adds a valid region to @buffer. */
static void
roi_add (GstBuffer * buffer, JsonObject * obj)
{
  GstVideoRegionOfInterestMeta *meta;
  gint64 x = 0, y = 0, w = 0, h = 0, v;

  get_int_member (obj, "x", 0, G_MAXUINT, &x);
  get_int_member (obj, "y", 0, G_MAXUINT, &y);
  get_int_member (obj, "w", 0, G_MAXUINT, &w);
  get_int_member (obj, "h", 0, G_MAXUINT, &h);
  meta = gst_buffer_add_video_region_of_interest_meta (buffer,
      json_object_get_string_member (obj, "type"), x, y, w, h);
  /* missing: GStreamer's own defaults */
  if (get_int_member (obj, "id", G_MININT, G_MAXINT, &v))
    meta->id = v;
  if (get_int_member (obj, "parent-id", G_MININT, G_MAXINT, &v))
    meta->parent_id = v;
  if (json_object_has_member (obj, "params"))
    roi_add_params (meta, json_object_get_object_member (obj, "params"));
}

/* Parses @json with @parser and gives its "rois" array, NULL when the
 * object has none. */
static gboolean
parse_rois (JsonParser * parser, const gchar * json, gsize len,
    JsonArray ** rois, GError ** error)
{
  JsonObject *root_obj;
  JsonNode *root, *node;
  GError *err = NULL;

  *rois = NULL;
  if (!json_parser_load_from_data (parser, json, len, &err)) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field \"meta\" is not JSON: %s",
        err->message);
    g_clear_error (&err);
    return FALSE;
  }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return bad_field (error, GST_REDIS_FIELD_META, "is not a JSON object");
  root_obj = json_node_get_object (root);
  if (!json_object_has_member (root_obj, "rois"))
    return TRUE;
  node = json_object_get_member (root_obj, "rois");
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return bad_field (error, GST_REDIS_FIELD_META, "has \"rois\" that is not "
        "an array");
  *rois = json_node_get_array (node);
  return TRUE;
}

/* Every region valid (roi_is_valid ()), and not too many. */
static gboolean
rois_are_valid (JsonArray * rois, GError ** error)
{
  guint i, n = rois ? json_array_get_length (rois) : 0;

  if (n > 1024)
    return bad_field (error, GST_REDIS_FIELD_META, "has more than 1024 "
        "regions");
  for (i = 0; i < n; i++) {
    if (!roi_is_valid (json_array_get_element (rois, i)))
      return bad_field (error, GST_REDIS_FIELD_META, "has a region that is "
          "not {\"type\": string, \"x\", \"y\", \"w\", \"h\": non-negative "
          "integers, \"params\": {name: {field: number, string or "
          "boolean}}} within the documented limits");
  }
  return TRUE;
}

/* The names the regions will intern: each type, param name and field
 * name (every field, also those roi_add_params () then drops). */
static void
collect_names (JsonArray * rois, GstRedisNames * names)
{
  guint i, n = rois ? json_array_get_length (rois) : 0;

  for (i = 0; i < n; i++) {
    JsonObject *obj = json_array_get_object_element (rois, i);
    const gchar *type = json_object_get_string_member (obj, "type");
    JsonObject *params;
    GList *pnames, *l;

    gst_redis_names_add (names, type, strlen (type));
    if (!json_object_has_member (obj, "params"))
      continue;
    params = json_object_get_object_member (obj, "params");
    pnames = json_object_get_members (params);
    for (l = pnames; l; l = l->next) {
      GList *fnames = json_object_get_members (json_object_get_object_member
          (params, l->data)), *f;

      gst_redis_names_add (names, l->data, strlen (l->data));
      for (f = fnames; f; f = f->next)
        gst_redis_names_add (names, f->data, strlen (f->data));
      g_list_free (fnames);
    }
    g_list_free (pnames);
  }
}

/* Adds the metas described by @json to @buffer; all or nothing: every
 * region is validated, and its new names taken out of the process's
 * budget (gstredisnames.h), before the first is added. */
gboolean
gst_redis_meta_from_json (GstBuffer * buffer, const gchar * json, gsize len,
    GError ** error)
{
  GstRedisNames names;
  JsonParser *parser;
  JsonArray *rois;
  guint i, n;
  gboolean ok;

  if (len > GST_REDIS_MAX_TEXT_FIELD) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_TOO_LARGE, "field \"meta\" is larger than %d "
        "bytes", GST_REDIS_MAX_TEXT_FIELD);
    return FALSE;
  }

  gst_redis_names_init (&names);
  parser = json_parser_new_immutable ();
  ok = parse_rois (parser, json, len, &rois, error) &&
      rois_are_valid (rois, error);
  if (ok) {
    collect_names (rois, &names);
    ok = gst_redis_names_reserve (&names, GST_REDIS_FIELD_META, error);
  }
  n = ok && rois ? json_array_get_length (rois) : 0;
  for (i = 0; i < n; i++)
    roi_add (buffer, json_array_get_object_element (rois, i));
  gst_redis_names_release (&names);
  g_object_unref (parser);
  return ok;
}
