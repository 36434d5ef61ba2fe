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

/* What travels with a frame besides its data (gstframemeta.h): one reader
 * of the capture time and one writer of regions as JSON, for the entry
 * codec of redisstreams and the viewer messages of websocketsink. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstframemeta.h"

#include <math.h>

GstCaps *
gst_frame_meta_capture_time_caps (void)
{
  static GstCaps *caps = NULL;

  if (g_once_init_enter (&caps)) {
    GstCaps *c = gst_caps_new_empty_simple ("timestamp/x-unix");
    GST_MINI_OBJECT_FLAG_SET (c, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    g_once_init_leave (&caps, c);
  }
  return caps;
}

gint64
gst_frame_meta_get_capture_time (GstBuffer * buffer)
{
  GstReferenceTimestampMeta *meta;

  meta = gst_buffer_get_reference_timestamp_meta (buffer,
      gst_frame_meta_capture_time_caps ());
  if (meta == NULL || !GST_CLOCK_TIME_IS_VALID (meta->timestamp))
    return -1;
  return (gint64) meta->timestamp;
}

static JsonNode *
value_to_json (const GValue * v)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  switch (G_VALUE_TYPE (v)) {
    case G_TYPE_BOOLEAN:
      json_node_set_boolean (node, g_value_get_boolean (v));
      break;
    case G_TYPE_INT:
      json_node_set_int (node, g_value_get_int (v));
      break;
    case G_TYPE_UINT:
      json_node_set_int (node, g_value_get_uint (v));
      break;
    case G_TYPE_INT64:
      json_node_set_int (node, g_value_get_int64 (v));
      break;
    case G_TYPE_UINT64:
      json_node_set_int (node, (gint64) g_value_get_uint64 (v));
      break;
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:{
      gdouble d = G_VALUE_TYPE (v) == G_TYPE_FLOAT ?
          g_value_get_float (v) : g_value_get_double (v);

      /* JSON has no inf or nan; and json-glib 1.6 writes a number with an
       * exponent as invalid JSON ("1e-300.0"), so magnitudes that need one
       * (below 1e-5, 1e17 and above) are rounded to 0 or left out. */
      if (!isfinite (d) || fabs (d) >= 1e17) {
        json_node_unref (node);
        return NULL;
      }
      json_node_set_double (node, fabs (d) < 1e-5 ? 0.0 : d);
      break;
    }
    case G_TYPE_STRING:
      json_node_set_string (node, g_value_get_string (v));
      break;
    default:{
      gchar *s = gst_value_serialize (v);

      if (s == NULL) {
        json_node_unref (node);
        return NULL;
      }
      json_node_set_string (node, s);
      g_free (s);
      break;
    }
  }
  return node;
}

static gboolean
structure_field_to_json (GQuark field, const GValue * value, gpointer data)
{
  JsonObject *obj = data;
  JsonNode *node = value_to_json (value);

  if (node)
    json_object_set_member (obj, g_quark_to_string (field), node);
  return TRUE;
}

static JsonObject *
roi_params_to_json (GstVideoRegionOfInterestMeta * roi)
{
  JsonObject *params = json_object_new ();
  GList *l;

  for (l = roi->params; l; l = l->next) {
    GstStructure *s = l->data;
    JsonObject *fields = json_object_new ();

    gst_structure_foreach (s, structure_field_to_json, fields);
    json_object_set_object_member (params, gst_structure_get_name (s), fields);
  }
  return params;
}

static gboolean
value_to_double (const GValue * value, gdouble * out)
{
  GValue d = G_VALUE_INIT;

  if (value == NULL)
    return FALSE;

  g_value_init (&d, G_TYPE_DOUBLE);
  if (!g_value_type_transformable (G_VALUE_TYPE (value), G_TYPE_DOUBLE) ||
      !g_value_transform (value, &d)) {
    g_value_unset (&d);
    return FALSE;
  }
  *out = g_value_get_double (&d);
  g_value_unset (&d);
  return TRUE;
}

/* The score of a region: the "score" field of the parameter structure named
 * like the region type ("motion" for frameproc's motion regions), else of the
 * first parameter structure that has one. */
static gboolean
roi_get_score (GstVideoRegionOfInterestMeta * roi, const gchar * type,
    gdouble * score)
{
  GstStructure *s;
  GList *l;

  s = gst_video_region_of_interest_meta_get_param (roi, type);
  if (s != NULL && value_to_double (gst_structure_get_value (s, "score"),
          score))
    return TRUE;

  for (l = roi->params; l != NULL; l = l->next) {
    if (value_to_double (gst_structure_get_value (l->data, "score"), score))
      return TRUE;
  }

  return FALSE;
}

/* A region as a JSON object: "type", "id", ["parent-id"], "x", "y", "w",
 * "h", ["params"], ["score"], in this order. */
JsonObject *
gst_frame_meta_roi_to_json (GstVideoRegionOfInterestMeta * roi,
    GstFrameMetaRoiMembers members)
{
  JsonObject *obj = json_object_new ();
  const gchar *type = g_quark_to_string (roi->roi_type);
  gdouble score;

  json_object_set_string_member (obj, "type", type ? type : "");
  json_object_set_int_member (obj, "id", roi->id);
  if (members & GST_FRAME_META_ROI_PARAMS)
    json_object_set_int_member (obj, "parent-id", roi->parent_id);
  json_object_set_int_member (obj, "x", roi->x);
  json_object_set_int_member (obj, "y", roi->y);
  json_object_set_int_member (obj, "w", roi->w);
  json_object_set_int_member (obj, "h", roi->h);
  if (members & GST_FRAME_META_ROI_PARAMS)
    json_object_set_object_member (obj, "params", roi_params_to_json (roi));
  if (members & GST_FRAME_META_ROI_SCORE) {
    if (type != NULL && roi_get_score (roi, type, &score))
      json_object_set_double_member (obj, "score", score);
    else
      json_object_set_null_member (obj, "score");
  }
  return obj;
}
