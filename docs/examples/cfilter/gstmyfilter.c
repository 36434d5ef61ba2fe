/* myfilter: a template for a team's own processing stage in C
 * Copyright (C) 2026 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
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

/**
 * SECTION:element-myfilter
 * @title: myfilter
 *
 * A template: a #GstVideoFilter that looks at every frame in place and
 * attaches what it finds as #GstVideoRegionOfInterestMeta, which
 * redisstreamsink writes into the stream entry's `meta` and websocketsink's
 * viewer draws. Copy this folder, rename it, and replace
 * gst_my_filter_detect () with your model; everything else (registration,
 * formats, the metas) stays.
 *
 * What it finds as shipped: the bounding box of the pixels whose luma is
 * at least #GstMyFilter:threshold, as one region "bright" with a parameter
 * structure "detection" whose `score` (G_TYPE_DOUBLE) is the share of such
 * pixels in the box. It reads the luma plane only, so it takes the planar
 * YUV formats and GRAY8 as they come (no conversion), and never changes a
 * pixel.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 redisstreamsrc stream=video-frames group=processors ! myfilter threshold=200 ! redisstreamsink stream=processed-frames
 * ]| The processing stage: frames from Redis, the bright region of each in
 * the stored entries' meta.
 */

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#define GST_TYPE_MY_FILTER (gst_my_filter_get_type ())
G_DECLARE_FINAL_TYPE (GstMyFilter, gst_my_filter, GST, MY_FILTER,
    GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (myfilter);

struct _GstMyFilter
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  guint threshold;
};

GST_DEBUG_CATEGORY_STATIC (gst_my_filter_debug);
#define GST_CAT_DEFAULT gst_my_filter_debug

#define DEFAULT_THRESHOLD 200

enum
{
  PROP_0,
  PROP_THRESHOLD,
};

/* Formats whose first plane is 8-bit luma */
#define FORMATS "{ I420, YV12, NV12, NV21, Y42B, Y444, Y41B, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define gst_my_filter_parent_class parent_class
G_DEFINE_TYPE (GstMyFilter, gst_my_filter, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (myfilter, "myfilter", GST_RANK_NONE,
    GST_TYPE_MY_FILTER);

/* One detection: a box in pixels, its label and score. */
typedef struct
{
  const gchar *label;
  guint x, y, w, h;
  gdouble score;
} GstMyFilterDetection;

/* The model: looks at the luma plane (width x height, rows @stride bytes
 * apart) and fills @det. Returns FALSE when it found nothing. Replace it
 * with yours; it runs on the streaming thread, once per frame. */
static gboolean
gst_my_filter_detect (const guint8 * luma, gint stride, gint width,
    gint height, guint threshold, GstMyFilterDetection * det)
{
  gint x, y, x0 = width, y0 = height, x1 = -1, y1 = -1;
  guint64 count = 0;

  for (y = 0; y < height; y++) {
    const guint8 *row = luma + (gsize) y * stride;

    for (x = 0; x < width; x++) {
      if (row[x] >= threshold) {
        x0 = MIN (x0, x);
        x1 = MAX (x1, x);
        y0 = MIN (y0, y);
        y1 = MAX (y1, y);
        count++;
      }
    }
  }
  if (count == 0)
    return FALSE;

  det->label = "bright";
  det->x = x0;
  det->y = y0;
  det->w = x1 - x0 + 1;
  det->h = y1 - y0 + 1;
  det->score = (gdouble) count / ((gdouble) det->w * det->h);
  return TRUE;
}

static GstFlowReturn
gst_my_filter_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstMyFilter *self = GST_MY_FILTER (filter);
  GstMyFilterDetection det;
  GstVideoRegionOfInterestMeta *meta;
  guint threshold;

  GST_OBJECT_LOCK (self);
  threshold = self->threshold;
  GST_OBJECT_UNLOCK (self);

  if (!gst_my_filter_detect (GST_VIDEO_FRAME_COMP_DATA (frame, 0),
          GST_VIDEO_FRAME_COMP_STRIDE (frame, 0),
          GST_VIDEO_FRAME_COMP_WIDTH (frame, 0),
          GST_VIDEO_FRAME_COMP_HEIGHT (frame, 0), threshold, &det)) {
    GST_LOG_OBJECT (self, "nothing found");
    return GST_FLOW_OK;
  }

  /* The buffer is writable here: GstBaseTransform made it so for an
   * in-place filter, which is what adding a meta needs. */
  meta = gst_buffer_add_video_region_of_interest_meta (frame->buffer,
      det.label, det.x, det.y, det.w, det.h);
  gst_video_region_of_interest_meta_add_param (meta,
      gst_structure_new ("detection", "score", G_TYPE_DOUBLE, det.score, NULL));
  GST_LOG_OBJECT (self, "%s at %u,%u %ux%u, score %.3f", det.label, det.x,
      det.y, det.w, det.h, det.score);
  return GST_FLOW_OK;
}

static void
gst_my_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMyFilter *self = GST_MY_FILTER (object);

  switch (prop_id) {
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->threshold = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_my_filter_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstMyFilter *self = GST_MY_FILTER (object);

  switch (prop_id) {
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->threshold);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_my_filter_class_init (GstMyFilterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_my_filter_set_property;
  gobject_class->get_property = gst_my_filter_get_property;

  /**
   * GstMyFilter:threshold:
   *
   * Pixels whose luma is at least this value are "bright".
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_uint ("threshold", "Threshold",
          "Luma from which a pixel counts as bright", 0, 255,
          DEFAULT_THRESHOLD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "My filter",
      "Filter/Analyzer/Video",
      "Finds the bright region of every frame and attaches it as a "
      "region-of-interest meta (a template for your own model)",
      "Your team <team@example.com>");

  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_my_filter_transform_frame_ip);

  GST_DEBUG_CATEGORY_INIT (gst_my_filter_debug, "myfilter", 0,
      "myfilter, a processing stage template");
}

static void
gst_my_filter_init (GstMyFilter * self)
{
  self->threshold = DEFAULT_THRESHOLD;
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (myfilter, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, myfilter,
    "A processing stage template: regions of interest from a model",
    plugin_init, VERSION, "LGPL", PACKAGE, "https://example.com/myfilter")
