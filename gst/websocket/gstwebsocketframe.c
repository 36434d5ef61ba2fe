/* GStreamer
 * Copyright (C) 2024 gst-redis-streams contributors
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

/* The message format websocketsink sends, kept apart from the element so the
 * element only deals with clients and threads. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "gstwebsocketframe.h"

static GstStaticCaps unix_time_caps = GST_STATIC_CAPS ("timestamp/x-unix");

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

static void
add_detections (JsonBuilder * builder, GstBuffer * buffer)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;

  json_builder_set_member_name (builder, "detections");
  json_builder_begin_array (builder);

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    const gchar *type = g_quark_to_string (roi->roi_type);
    gdouble score;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "type");
    json_builder_add_string_value (builder, type ? type : "");
    json_builder_set_member_name (builder, "id");
    json_builder_add_int_value (builder, roi->id);
    json_builder_set_member_name (builder, "x");
    json_builder_add_int_value (builder, roi->x);
    json_builder_set_member_name (builder, "y");
    json_builder_add_int_value (builder, roi->y);
    json_builder_set_member_name (builder, "w");
    json_builder_add_int_value (builder, roi->w);
    json_builder_set_member_name (builder, "h");
    json_builder_add_int_value (builder, roi->h);
    json_builder_set_member_name (builder, "score");
    if (type != NULL && roi_get_score (roi, type, &score))
      json_builder_add_double_value (builder, score);
    else
      json_builder_add_null_value (builder);
    json_builder_end_object (builder);
  }

  json_builder_end_array (builder);
}

/**
 * gst_websocket_frame_header_to_json:
 * @buffer: the encoded frame with its metas
 * @seq: the sequence number to send
 * @width: frame width from the caps, 0 if unknown
 * @height: frame height from the caps, 0 if unknown
 * @length: (out): length of the returned string
 *
 * Returns: (transfer full): the JSON header describing @buffer.
 */
gchar *
gst_websocket_frame_header_to_json (GstBuffer * buffer, guint64 seq,
    gint width, gint height, gsize * length)
{
  JsonBuilder *builder;
  JsonGenerator *generator;
  JsonNode *root;
  GstReferenceTimestampMeta *ts_meta;
  GstCaps *caps;
  gchar *json;

  builder = json_builder_new ();
  json_builder_begin_object (builder);

  /* JSON numbers are read as doubles by browsers: exact up to 2^53, which
   * frame counters and PTS never reach; a Unix time in ns is off by at most
   * a few hundred ns, far below what a latency display shows. */
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, (gint64) seq);

  json_builder_set_member_name (builder, "pts");
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    json_builder_add_int_value (builder, (gint64) GST_BUFFER_PTS (buffer));
  else
    json_builder_add_null_value (builder);

  caps = gst_static_caps_get (&unix_time_caps);
  ts_meta = gst_buffer_get_reference_timestamp_meta (buffer, caps);
  gst_caps_unref (caps);
  json_builder_set_member_name (builder, "capture_time_ns");
  if (ts_meta != NULL && GST_CLOCK_TIME_IS_VALID (ts_meta->timestamp))
    json_builder_add_int_value (builder, (gint64) ts_meta->timestamp);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "width");
  if (width > 0)
    json_builder_add_int_value (builder, width);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "height");
  if (height > 0)
    json_builder_add_int_value (builder, height);
  else
    json_builder_add_null_value (builder);

  add_detections (builder, buffer);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, length);

  json_node_unref (root);
  g_object_unref (generator);
  g_object_unref (builder);

  return json;
}

/**
 * gst_websocket_frame_build:
 * @buffer: the JPEG frame with its metas
 * @seq: the sequence number to send
 * @width: frame width from the caps, 0 if unknown
 * @height: frame height from the caps, 0 if unknown
 *
 * Builds the whole message in one allocation, since libsoup sends a message
 * from a single #GBytes.
 *
 * Returns: (transfer full): the message to send.
 */
GBytes *
gst_websocket_frame_build (GstBuffer * buffer, guint64 seq, gint width,
    gint height)
{
  gchar *json;
  gsize json_len, jpeg_len, total;
  guint8 *data;

  json = gst_websocket_frame_header_to_json (buffer, seq, width, height,
      &json_len);
  jpeg_len = gst_buffer_get_size (buffer);
  total = GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE + json_len + jpeg_len;

  data = g_malloc (total);
  GST_WRITE_UINT32_BE (data, (guint32) json_len);
  memcpy (data + GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE, json, json_len);
  gst_buffer_extract (buffer, 0,
      data + GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE + json_len, jpeg_len);
  g_free (json);

  return g_bytes_new_take (data, total);
}
