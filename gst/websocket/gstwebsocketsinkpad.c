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

/* GstWebSocketSinkPad: one camera of websocketsink. The `camera` property,
 * what the pad's caps say (codec, size), the frame numbers, the H.264
 * parameter sets its stream sent, its statistics, and the key-frame requests
 * sent upstream from it. A ghost pad: the camera's sink inside the element
 * (gstwebsocketcamerasink.c) is its target while it is linked. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstwebsocketelements.h"
#include "gstwebsocketframe.h"
#include "gstwebsocketsinkpad.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

#define DEFAULT_CAMERA NULL

enum
{
  PROP_0,
  PROP_CAMERA,
};

/* Indexed by GstWebSocketCodec; the names the wire format uses */
static const gchar *const codec_names[] = { NULL, "jpeg", "h264", "vp8",
  "vp9"
};

/**
 * GstWebSocketSinkPad:
 *
 * A sink pad of websocketsink: one camera, named by
 * #GstWebSocketSinkPad:camera.
 *
 * Since: 1.0
 */
G_DEFINE_TYPE (GstWebSocketSinkPad, gst_websocket_sink_pad, GST_TYPE_GHOST_PAD);

/* Streaming thread: counts the buffer, then on to the camera's sink */
static GstFlowReturn
gst_websocket_sink_pad_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GST_WEBSOCKET_SINK_PAD (pad)->frames_arrived++;

  return gst_proxy_pad_chain_default (pad, parent, buffer);
}

/* One buffer at a time, so that each is numbered when it is rendered (the
 * camera's sink renders the buffers of a list one by one anyway) */
static GstFlowReturn
gst_websocket_sink_pad_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list)
{
  GstFlowReturn ret = GST_FLOW_OK;
  guint i, len = gst_buffer_list_length (list);

  for (i = 0; i < len && ret == GST_FLOW_OK; i++)
    ret = gst_websocket_sink_pad_chain (pad, parent,
        gst_buffer_ref (gst_buffer_list_get (list, i)));
  gst_buffer_list_unref (list);

  return ret;
}

static void
gst_websocket_sink_pad_constructed (GObject * object)
{
  GstPad *pad = GST_PAD (object);

  G_OBJECT_CLASS (gst_websocket_sink_pad_parent_class)->constructed (object);

  /* After GstGhostPad's, which set the proxying ones */
  gst_pad_set_chain_function (pad,
      GST_DEBUG_FUNCPTR (gst_websocket_sink_pad_chain));
  gst_pad_set_chain_list_function (pad,
      GST_DEBUG_FUNCPTR (gst_websocket_sink_pad_chain_list));
}

static void
gst_websocket_sink_pad_finalize (GObject * object)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  g_free (pad->camera);
  g_clear_pointer (&pad->sps, g_bytes_unref);
  g_clear_pointer (&pad->pps, g_bytes_unref);
  gst_clear_object (&pad->sink);

  G_OBJECT_CLASS (gst_websocket_sink_pad_parent_class)->finalize (object);
}

static void
gst_websocket_sink_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  switch (prop_id) {
    case PROP_CAMERA:
      GST_OBJECT_LOCK (pad);
      g_free (pad->camera);
      pad->camera = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_websocket_sink_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWebSocketSinkPad *pad = GST_WEBSOCKET_SINK_PAD (object);

  switch (prop_id) {
    case PROP_CAMERA:
      GST_OBJECT_LOCK (pad);
      g_value_set_string (value, pad->camera);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_websocket_sink_pad_class_init (GstWebSocketSinkPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->constructed = gst_websocket_sink_pad_constructed;
  gobject_class->finalize = gst_websocket_sink_pad_finalize;
  gobject_class->set_property = gst_websocket_sink_pad_set_property;
  gobject_class->get_property = gst_websocket_sink_pad_get_property;

  /**
   * GstWebSocketSinkPad:camera:
   *
   * The name the viewer page shows for this pad's camera, and by which it
   * tells cameras apart: give each pad its own. Unset, the pad name
   * (`sink`, `sink_0`, ...) is used. A change applies from the next frame.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_CAMERA,
      g_param_spec_string ("camera", "Camera",
          "Name of this pad's camera on the viewer page (default: the pad "
          "name)", DEFAULT_CAMERA,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

static void
gst_websocket_sink_pad_init (GstWebSocketSinkPad * pad)
{
}

/* The name the wire format uses for @codec, NULL before caps */
const gchar *
gst_websocket_codec_name (GstWebSocketCodec codec)
{
  return codec_names[codec];
}

/* The camera name of @pad, newly allocated */
gchar *
gst_websocket_sink_pad_dup_camera (GstWebSocketSinkPad * pad)
{
  gchar *name;

  GST_OBJECT_LOCK (pad);
  name = pad->camera && *pad->camera ? g_strdup (pad->camera) :
      g_strdup (GST_OBJECT_NAME (pad));
  GST_OBJECT_UNLOCK (pad);

  return name;
}

/* Streaming thread */
void
gst_websocket_sink_pad_set_caps (GstWebSocketSinkPad * pad, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  gboolean parsed = FALSE;

  GST_DEBUG_OBJECT (pad, "caps %" GST_PTR_FORMAT, caps);

  if (g_str_equal (name, "video/x-h264"))
    pad->codec = GST_WEBSOCKET_CODEC_H264;
  else if (g_str_equal (name, "video/x-vp8"))
    pad->codec = GST_WEBSOCKET_CODEC_VP8;
  else if (g_str_equal (name, "video/x-vp9"))
    pad->codec = GST_WEBSOCKET_CODEC_VP9;
  else
    pad->codec = GST_WEBSOCKET_CODEC_JPEG;

  /* Encoders put the size in their caps; a JPEG source may not */
  pad->width = pad->height = 0;
  gst_structure_get_int (s, "width", &pad->width);
  gst_structure_get_int (s, "height", &pad->height);

  pad->parsed = gst_structure_get_boolean (s, "parsed", &parsed) && parsed;
}

/* Streaming thread, while the camera's sink renders @buffer, the last
 * buffer that reached the pad: its frame number, `seq` on the wire.
 *
 * GstBuffer's offset is a frame number for video frames and a byte offset
 * for compressed data, and encoders put what they like in it (vp8enc and
 * vp9enc: times). It is taken when it looks like a frame number: set, with
 * an end offset unset (redisstreamsrc, which restores the producer's
 * number) or one more (raw video sources such as v4l2src), and not from a
 * parser (h264parse, jpegparse: bytes). Otherwise the frames that reached
 * this pad are counted, late ones included, so a gap still means frames
 * skipped. */
guint64
gst_websocket_sink_pad_frame_seq (GstWebSocketSinkPad * pad, GstBuffer * buffer)
{
  guint64 offset = GST_BUFFER_OFFSET (buffer);
  guint64 end = GST_BUFFER_OFFSET_END (buffer);

  if (offset != GST_BUFFER_OFFSET_NONE && !pad->parsed &&
      (end == GST_BUFFER_OFFSET_NONE || end == offset + 1))
    return offset;

  return pad->frames_arrived > 0 ? pad->frames_arrived - 1 : 0;
}

/* Streaming thread: counts one more frame, returns how many the pad has
 * received, this one included */
guint64
gst_websocket_sink_pad_count_frame (GstWebSocketSinkPad * pad, gboolean key)
{
  guint64 index;

  GST_OBJECT_LOCK (pad);
  index = ++pad->frames_received;
  if (key)
    pad->key_frames++;
  GST_OBJECT_UNLOCK (pad);

  return index;
}

/* Streaming thread. Remembers the H.264 parameter sets in @buffer, and
 * returns those a key frame lacks, to send before it: a client that starts
 * at a key frame has seen nothing before it. NULL when it has them all (or
 * none are known yet). */
GBytes *
gst_websocket_sink_pad_h264_prefix (GstWebSocketSinkPad * pad,
    GstBuffer * buffer, gboolean key)
{
  GstWebSocketH264Scan scan;
  GBytes *prefix = NULL;

  gst_websocket_h264_scan (buffer, &scan);
  if (scan.sps) {
    g_clear_pointer (&pad->sps, g_bytes_unref);
    pad->sps = g_bytes_ref (scan.sps);
  }
  if (scan.pps) {
    g_clear_pointer (&pad->pps, g_bytes_unref);
    pad->pps = g_bytes_ref (scan.pps);
  }

  if (key && (scan.sps == NULL || scan.pps == NULL) && pad->sps && pad->pps) {
    GByteArray *arr = g_byte_array_new ();

    if (scan.sps == NULL)
      g_byte_array_append (arr, g_bytes_get_data (pad->sps, NULL),
          g_bytes_get_size (pad->sps));
    if (scan.pps == NULL)
      g_byte_array_append (arr, g_bytes_get_data (pad->pps, NULL),
          g_bytes_get_size (pad->pps));
    prefix = g_byte_array_free_to_bytes (arr);
  } else if (key && (scan.sps == NULL || scan.pps == NULL)) {
    GST_WARNING_OBJECT (pad, "H.264 key frame without SPS/PPS, and none seen "
        "before: browsers cannot start decoding at it. Put h264parse "
        "config-interval=-1 before the sink.");
  }
  gst_websocket_h264_scan_clear (&scan);

  return prefix;
}

/* Asks the camera's encoder for a key frame, and counts it. Upstream events
 * may be sent from any thread. */
void
gst_websocket_sink_pad_request_key_unit (GstWebSocketSinkPad * pad)
{
  guint count;

  GST_OBJECT_LOCK (pad);
  count = (guint)++ pad->key_unit_requests;
  GST_OBJECT_UNLOCK (pad);

  GST_DEBUG_OBJECT (pad, "asking upstream for a key frame (%u)", count);
  gst_pad_push_event (GST_PAD_CAST (pad),
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          count));
}

void
gst_websocket_sink_pad_reset_stats (GstWebSocketSinkPad * pad)
{
  GST_OBJECT_LOCK (pad);
  pad->frames_received = pad->key_frames = pad->key_unit_requests = 0;
  GST_OBJECT_UNLOCK (pad);
  /* No streaming thread runs in READY */
  pad->frames_arrived = 0;
}

/* The `camera` structure of the element's stats */
GstStructure *
gst_websocket_sink_pad_get_stats (GstWebSocketSinkPad * pad)
{
  GstStructure *s;

  GST_OBJECT_LOCK (pad);
  s = gst_structure_new ("camera",
      "pad", G_TYPE_STRING, GST_OBJECT_NAME (pad),
      "camera", G_TYPE_STRING, pad->camera && *pad->camera ? pad->camera :
      GST_OBJECT_NAME (pad),
      "codec", G_TYPE_STRING, codec_names[pad->codec],
      "frames-received", G_TYPE_UINT64, pad->frames_received,
      "key-frames", G_TYPE_UINT64, pad->key_frames,
      "key-unit-requests", G_TYPE_UINT64, pad->key_unit_requests, NULL);
  GST_OBJECT_UNLOCK (pad);

  return s;
}
