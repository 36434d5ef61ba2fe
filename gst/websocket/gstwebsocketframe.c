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
#include "gstframemeta.h"

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
    JsonObject *obj = gst_frame_meta_roi_to_json (roi,
        GST_FRAME_META_ROI_SCORE);

    json_builder_add_value (builder, json_node_init_object (json_node_alloc (),
            obj));
    json_object_unref (obj);
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
  GstWebSocketFrameInfo info = { seq, width, height, NULL, NULL, TRUE };

  return gst_websocket_frame_header_to_json_full (buffer, &info, length);
}

/**
 * gst_websocket_frame_header_to_json_full:
 * @buffer: the encoded frame with its metas
 * @info: what the header says besides the metas
 * @length: (out): length of the returned string
 *
 * Returns: (transfer full): the JSON header describing @buffer, with
 * `camera`, `codec` and `key` when @info has a camera and a codec.
 */
gchar *
gst_websocket_frame_header_to_json_full (GstBuffer * buffer,
    const GstWebSocketFrameInfo * info, gsize * length)
{
  guint64 seq = info->seq;
  gint width = info->width, height = info->height;
  JsonBuilder *builder;
  JsonGenerator *generator;
  JsonNode *root;
  gint64 capture;
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

  capture = gst_frame_meta_get_capture_time (buffer);
  json_builder_set_member_name (builder, "capture_time_ns");
  if (capture >= 0)
    json_builder_add_int_value (builder, capture);
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

  if (info->camera != NULL) {
    json_builder_set_member_name (builder, "camera");
    json_builder_add_string_value (builder, info->camera);
  }
  if (info->codec != NULL) {
    json_builder_set_member_name (builder, "codec");
    json_builder_add_string_value (builder, info->codec);
    json_builder_set_member_name (builder, "key");
    json_builder_add_boolean_value (builder, info->key);
  }

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
  GstWebSocketFrameInfo info = { seq, width, height, NULL, NULL, TRUE };

  return gst_websocket_frame_build_full (buffer, &info, NULL);
}

/**
 * gst_websocket_frame_build_full:
 * @buffer: the encoded frame with its metas
 * @info: what the header says besides the metas
 * @prefix: (nullable): bytes to send before the frame's own (the H.264
 *     parameter sets a key frame lacks)
 *
 * Returns: (transfer full): the message to send.
 */
GBytes *
gst_websocket_frame_build_full (GstBuffer * buffer,
    const GstWebSocketFrameInfo * info, GBytes * prefix)
{
  gchar *json;
  gsize json_len, prefix_len, payload_len, total;
  guint8 *data, *p;

  json = gst_websocket_frame_header_to_json_full (buffer, info, &json_len);
  prefix_len = prefix ? g_bytes_get_size (prefix) : 0;
  payload_len = gst_buffer_get_size (buffer);
  total = GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE + json_len + prefix_len +
      payload_len;

  data = g_malloc (total);
  GST_WRITE_UINT32_BE (data, (guint32) json_len);
  p = data + GST_WEBSOCKET_FRAME_HEADER_LENGTH_SIZE;
  memcpy (p, json, json_len);
  p += json_len;
  if (prefix_len > 0) {
    memcpy (p, g_bytes_get_data (prefix, NULL), prefix_len);
    p += prefix_len;
  }
  gst_buffer_extract (buffer, 0, p, payload_len);
  g_free (json);

  return g_bytes_new_take (data, total);
}

/* Offset of the next Annex B start code (00 00 01) at or after @from, and
 * its length in @sc_len (4 when a zero byte precedes it), or @size. */
static gsize
h264_next_start_code (const guint8 * data, gsize size, gsize from,
    guint * sc_len)
{
  gsize i;

  for (i = from; i + 3 <= size; i++) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (i > from && data[i - 1] == 0) {
        *sc_len = 4;
        return i - 1;
      }
      *sc_len = 3;
      return i;
    }
  }
  *sc_len = 0;
  return size;
}

/**
 * gst_websocket_h264_scan:
 * @buffer: one H.264 access unit, Annex B (byte-stream)
 * @scan: (out caller-allocates): cleared first, then filled
 *
 * Finds the SPS and PPS NAL units of @buffer (the last of each when there
 * are several: one stream uses one of each in practice) and whether it holds
 * an IDR slice. The parameter sets are copied with a 4-byte start code, so
 * they can be put in front of a key frame that lacks them.
 */
void
gst_websocket_h264_scan (GstBuffer * buffer, GstWebSocketH264Scan * scan)
{
  GstMapInfo map;
  gsize pos, next;
  guint sc_len, next_sc_len;
  static const guint8 start_code[4] = { 0, 0, 0, 1 };

  memset (scan, 0, sizeof (*scan));
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;

  pos = h264_next_start_code (map.data, map.size, 0, &sc_len);
  while (pos < map.size) {
    gsize nal = pos + sc_len, nal_len;
    guint type;

    next = h264_next_start_code (map.data, map.size, nal, &next_sc_len);
    if (nal >= map.size)
      break;
    nal_len = next - nal;
    type = map.data[nal] & 0x1f;
    if (type == 5) {
      scan->idr = TRUE;
    } else if (type == 7 || type == 8) {
      guint8 *copy = g_malloc (4 + nal_len);
      GBytes **slot = type == 7 ? &scan->sps : &scan->pps;

      memcpy (copy, start_code, 4);
      memcpy (copy + 4, map.data + nal, nal_len);
      if (*slot)
        g_bytes_unref (*slot);
      *slot = g_bytes_new_take (copy, 4 + nal_len);
    }
    pos = next;
    sc_len = next_sc_len;
  }

  gst_buffer_unmap (buffer, &map);
}

void
gst_websocket_h264_scan_clear (GstWebSocketH264Scan * scan)
{
  g_clear_pointer (&scan->sps, g_bytes_unref);
  g_clear_pointer (&scan->pps, g_bytes_unref);
}
