/* GStreamer frameproc
 * Copyright (C) 2025 The gst-redis-streams authors
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
 * SECTION:element-frameproc
 * @title: frameproc
 *
 * Processes raw video frames in place (#GstFrameProc:operation): colour
 * filters (`grayscale`, `invert`, `threshold`), a Gaussian `blur`, Sobel
 * `edges`, and `motion` detection with bounding boxes. The operation and
 * its knobs can change while playing. It takes I420, NV12, GRAY8 and the
 * packed RGB formats, of any size and stride; alpha and padding bytes are
 * never modified. #GstFrameProc:n-threads splits each frame into bands
 * processed in parallel, with output byte-identical whatever the number of
 * threads.
 *
 * Motion detection compares each frame with a running average or the
 * previous frame (#GstFrameProc:motion-reference) and attaches a
 * #GstVideoRegionOfInterestMeta of type "motion" per moving region, with a
 * param structure "motion" (`score`, #gdouble; `area`, #guint). A region
 * keeps its id while it moves from frame to frame; #GstFrameProc:draw
 * paints the boxes into the frame.
 *
 * ## Messages
 *
 * "frameproc" (element message, with #GstFrameProc:post-messages), one per
 * frame: `timestamp`, `stream-time`, `running-time`, `duration`, `frame`
 * and `processing-time` (#guint64, the last in nanoseconds), `motion-score`
 * (#gdouble) and `regions` (#GstValueList of #GstStructure "region" with `id` (#gint),
 * `x`, `y`, `width`, `height`, `area` (#guint) and `score` (#gdouble)).
 *
 * "frameproc-motion" (element message, always, with the motion operation)
 * when motion starts and stops: `motion` (#gboolean), `score` (#gdouble),
 * and `frame`, `timestamp`, `stream-time`, `running-time`, `duration`
 * (#guint64).
 *
 * The frameproc reference in the project documentation
 * (https://github.com/gst-redis-streams/gst-redis-streams) gives the exact
 * arithmetic of every operation, how regions are found and tracked, and
 * the cost per frame.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball ! video/x-raw,format=I420 ! frameproc operation=motion draw=true ! videoconvert ! autovideosink
 * ]| Draws a box around the moving ball.
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=ball ! frameproc operation=motion min-area=200 ! fakesink
 * ]| Prints the "frameproc-motion" start and stop messages.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! video/x-raw,format=BGRx ! frameproc operation=blur sigma=3 n-threads=4 ! videoconvert ! autovideosink
 * ]| Blurs a camera on four threads.
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=5 ! frameproc operation=edges post-messages=true ! fakesink
 * ]| Prints a "frameproc" message with the processing time of each frame.
 *
 * Since: 1.0
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstframeproc.h"
#include "gstframeprocelements.h"
#include "gstframeprocjob.h"
#include "gstframeprocfilters.h"
#include "gstframeprocmotion.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (frame_proc_debug);
#define GST_CAT_DEFAULT frame_proc_debug

enum
{
  PROP_0,
  PROP_OPERATION,
  PROP_SIGMA,
  PROP_THRESHOLD,
  PROP_MOTION_REFERENCE,
  PROP_LEARNING_RATE,
  PROP_SENSITIVITY,
  PROP_MIN_AREA,
  PROP_DRAW,
  PROP_POST_MESSAGES,
  PROP_N_THREADS,
  PROP_STATS,
};

#define DEFAULT_OPERATION GST_FRAME_PROC_OPERATION_PASSTHROUGH
#define DEFAULT_SIGMA 2.0
#define DEFAULT_THRESHOLD 128
#define DEFAULT_MOTION_REFERENCE GST_FRAME_PROC_MOTION_REFERENCE_BACKGROUND
#define DEFAULT_LEARNING_RATE 0.01
#define DEFAULT_SENSITIVITY 25
#define DEFAULT_MIN_AREA 64
#define DEFAULT_DRAW FALSE
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_N_THREADS 0

#define LIVE_PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE)

#define FRAMEPROC_FORMATS "{ I420, NV12, GRAY8, RGBx, BGRx, xRGB, xBGR, " \
    "RGBA, BGRA, ARGB, ABGR, RGB, BGR }"

static GstStaticPadTemplate gst_frame_proc_src_template =
GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FRAMEPROC_FORMATS))
    );

static GstStaticPadTemplate gst_frame_proc_sink_template =
GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FRAMEPROC_FORMATS))
    );

struct _GstFrameProc
{
  GstVideoFilter parent;

  /* properties and statistics: object lock */
  GstFrameProcSettings settings;
  guint n_threads;
  guint64 frames;
  GstClockTime last_processing_time;
  GstClockTime total_processing_time;
  gdouble last_motion_score;

  /* set in start (), freed in stop () */
  GstParallelRunner *runner;
  guint n_threads_used;

  /* streaming thread */
  const GstFrameProcFormat *format;
  GstFrameProcScratch scratch;
  GArray *regions;
  GstFrameProcTracker tracker;
  GstFrameProcOperation last_operation;
};

static void gst_frame_proc_finalize (GObject * object);
static void gst_frame_proc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_frame_proc_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_frame_proc_start (GstBaseTransform * trans);
static gboolean gst_frame_proc_stop (GstBaseTransform * trans);
static gboolean gst_frame_proc_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static void gst_frame_proc_before_transform (GstBaseTransform * trans,
    GstBuffer * buf);
static gboolean gst_frame_proc_set_info (GstVideoFilter * vfilter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_frame_proc_transform_frame_ip (GstVideoFilter *
    vfilter, GstVideoFrame * frame);

G_DEFINE_TYPE (GstFrameProc, gst_frame_proc, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (frameproc, "frameproc", GST_RANK_NONE,
    GST_TYPE_FRAME_PROC);

/**
 * GstFrameProcOperation:
 *
 * What frameproc does to each frame (#GstFrameProc:operation).
 *
 * Since: 1.0
 */
GType
gst_frame_proc_operation_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FRAME_PROC_OPERATION_PASSTHROUGH, "Leave the pixels alone",
        "passthrough"},
    {GST_FRAME_PROC_OPERATION_GRAYSCALE, "Remove the colour", "grayscale"},
    {GST_FRAME_PROC_OPERATION_INVERT, "Invert the colour components",
        "invert"},
    {GST_FRAME_PROC_OPERATION_BLUR, "Gaussian blur", "blur"},
    {GST_FRAME_PROC_OPERATION_EDGES, "Sobel edge magnitude", "edges"},
    {GST_FRAME_PROC_OPERATION_THRESHOLD, "Binary threshold on luma",
        "threshold"},
    {GST_FRAME_PROC_OPERATION_MOTION, "Motion detection", "motion"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstFrameProcOperation", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * GstFrameProcMotionReference:
 *
 * What frameproc's motion detection compares a frame with
 * (#GstFrameProc:motion-reference).
 *
 * Since: 1.0
 */
GType
gst_frame_proc_motion_reference_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FRAME_PROC_MOTION_REFERENCE_BACKGROUND,
        "Running average of past frames", "background"},
    {GST_FRAME_PROC_MOTION_REFERENCE_PREVIOUS, "Previous frame", "previous"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstFrameProcMotionReference", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* The properties of the motion operation. */
static void
gst_frame_proc_install_motion_properties (GObjectClass * gobject_class)
{
  /**
   * GstFrameProc:motion-reference:
   *
   * What the motion operation compares each frame with: a running average
   * of past frames (see #GstFrameProc:learning-rate) or the previous frame.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MOTION_REFERENCE,
      g_param_spec_enum ("motion-reference", "Motion Reference",
          "What each frame is compared with to detect motion",
          GST_TYPE_FRAME_PROC_MOTION_REFERENCE, DEFAULT_MOTION_REFERENCE,
          LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:learning-rate:
   *
   * Weight of the current frame in the running background average,
   * B += learning-rate * (luma - B). 0 keeps the first frame as the
   * background for good; 1 makes it the previous frame. Higher values
   * adapt faster to lighting changes but leave longer "ghost" trails
   * behind moving objects: at 0.01 a pixel must be covered for about a
   * dozen frames by an object 200 luma levels brighter before it is still
   * reported once the object has gone (with sensitivity 25).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning Rate",
          "Weight of each new frame in the running background average",
          0.0, 1.0, DEFAULT_LEARNING_RATE, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:sensitivity:
   *
   * A pixel counts as changed when its luma differs from the reference by
   * more than this; raise it for noisy sources.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_SENSITIVITY,
      g_param_spec_uint ("sensitivity", "Sensitivity",
          "Luma difference from the reference above which a pixel changed",
          0, 255, DEFAULT_SENSITIVITY, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:min-area:
   *
   * Moving regions with fewer changed pixels than this are ignored.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_MIN_AREA,
      g_param_spec_uint ("min-area", "Minimum Area",
          "Fewest changed pixels a moving region needs to be reported",
          0, G_MAXINT, DEFAULT_MIN_AREA, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:draw:
   *
   * Paint the box of each moving region onto the frame.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_DRAW,
      g_param_spec_boolean ("draw", "Draw",
          "Paint the box of each moving region onto the frame",
          DEFAULT_DRAW, LIVE_PARAM_FLAGS));
}

static void
gst_frame_proc_class_init (GstFrameProcClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstBaseTransformClass *trans_class = (GstBaseTransformClass *) klass;
  GstVideoFilterClass *vfilter_class = (GstVideoFilterClass *) klass;

  GST_DEBUG_CATEGORY_INIT (frame_proc_debug, "frameproc", 0,
      "Per-frame video processing");
  gst_parallel_debug_init ();

  gst_frame_proc_filters_init ();

  gobject_class->finalize = gst_frame_proc_finalize;
  gobject_class->set_property = gst_frame_proc_set_property;
  gobject_class->get_property = gst_frame_proc_get_property;

  /**
   * GstFrameProc:operation:
   *
   * What to do with each frame; see the element documentation for the
   * exact formula of each operation.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_OPERATION,
      g_param_spec_enum ("operation", "Operation",
          "What to do with each frame", GST_TYPE_FRAME_PROC_OPERATION,
          DEFAULT_OPERATION, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:sigma:
   *
   * Standard deviation in pixels of the Gaussian of the blur operation; the
   * kernel radius is ceil (3 * sigma).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_SIGMA,
      g_param_spec_double ("sigma", "Sigma",
          "Standard deviation in pixels of the blur's Gaussian, "
          "kernel radius ceil (3 * sigma)", 0.1, GST_FRAME_PROC_MAX_SIGMA,
          DEFAULT_SIGMA, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:threshold:
   *
   * Luma at or above which the threshold operation outputs 255 (else 0).
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_uint ("threshold", "Threshold",
          "Luma at or above which the threshold operation outputs white",
          0, 255, DEFAULT_THRESHOLD, LIVE_PARAM_FLAGS));

  gst_frame_proc_install_motion_properties (gobject_class);

  /**
   * GstFrameProc:post-messages:
   *
   * Post a "frameproc" element message for every frame.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post Messages",
          "Post a frameproc element message for every frame",
          DEFAULT_POST_MESSAGES, LIVE_PARAM_FLAGS));

  /**
   * GstFrameProc:n-threads:
   *
   * Threads working on each frame, 0 for one per processor. The output
   * does not depend on it.
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Number of Threads",
          "Threads working on each frame, 0 for one per processor",
          0, GST_FRAME_PROC_MAX_BANDS, DEFAULT_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstFrameProc:stats:
   *
   * A "frameproc-stats" structure, reset on start and kept after stop:
   *
   * * `frames` (G_TYPE_UINT64): frames processed
   * * `last-processing-time` (G_TYPE_UINT64): nanoseconds spent on the
   *   last frame
   * * `average-processing-time` (G_TYPE_UINT64): mean nanoseconds per
   *   frame
   * * `last-motion-score` (G_TYPE_DOUBLE): motion score of the last frame
   *
   * Since: 1.0
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Frames processed, processing time and last motion score",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class,
      "Frame processor", "Filter/Effect/Video/Analyzer",
      "Colour filters, blur, edges, threshold and motion detection with "
      "regions of interest", "The gst-redis-streams authors");

  gst_element_class_add_static_pad_template (element_class,
      &gst_frame_proc_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &gst_frame_proc_src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_frame_proc_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_frame_proc_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_frame_proc_sink_event);
  trans_class->before_transform =
      GST_DEBUG_FUNCPTR (gst_frame_proc_before_transform);
  /* passthrough is an operation of ours, never GstBaseTransform's: every
   * frame is counted and reported */
  trans_class->transform_ip_on_passthrough = FALSE;

  vfilter_class->set_info = GST_DEBUG_FUNCPTR (gst_frame_proc_set_info);
  vfilter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_frame_proc_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_FRAME_PROC_OPERATION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FRAME_PROC_MOTION_REFERENCE, 0);
}

static void
gst_frame_proc_init (GstFrameProc * self)
{
  self->settings.operation = DEFAULT_OPERATION;
  self->settings.sigma = DEFAULT_SIGMA;
  self->settings.threshold = DEFAULT_THRESHOLD;
  self->settings.motion_reference = DEFAULT_MOTION_REFERENCE;
  self->settings.learning_rate = DEFAULT_LEARNING_RATE;
  self->settings.sensitivity = DEFAULT_SENSITIVITY;
  self->settings.min_area = DEFAULT_MIN_AREA;
  self->settings.draw = DEFAULT_DRAW;
  self->settings.post_messages = DEFAULT_POST_MESSAGES;
  self->n_threads = DEFAULT_N_THREADS;
  self->n_threads_used = 1;
  self->last_motion_score = 0.0;
  self->regions = g_array_new (FALSE, FALSE, sizeof (GstFrameProcRegion));
  gst_frame_proc_tracker_init (&self->tracker);
  self->last_operation = DEFAULT_OPERATION;
}

static void
gst_frame_proc_finalize (GObject * object)
{
  GstFrameProc *self = GST_FRAME_PROC (object);

  gst_frame_proc_scratch_free (&self->scratch);
  g_array_free (self->regions, TRUE);
  gst_frame_proc_tracker_clear (&self->tracker);

  G_OBJECT_CLASS (gst_frame_proc_parent_class)->finalize (object);
}

static void
gst_frame_proc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstFrameProc *self = GST_FRAME_PROC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_OPERATION:
      self->settings.operation = g_value_get_enum (value);
      break;
    case PROP_SIGMA:
      self->settings.sigma = g_value_get_double (value);
      break;
    case PROP_THRESHOLD:
      self->settings.threshold = g_value_get_uint (value);
      break;
    case PROP_MOTION_REFERENCE:
      self->settings.motion_reference = g_value_get_enum (value);
      break;
    case PROP_LEARNING_RATE:
      self->settings.learning_rate = g_value_get_double (value);
      break;
    case PROP_SENSITIVITY:
      self->settings.sensitivity = g_value_get_uint (value);
      break;
    case PROP_MIN_AREA:
      self->settings.min_area = g_value_get_uint (value);
      break;
    case PROP_DRAW:
      self->settings.draw = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->settings.post_messages = g_value_get_boolean (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static GstStructure *
gst_frame_proc_get_stats (GstFrameProc * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("frameproc-stats",
      "frames", G_TYPE_UINT64, self->frames,
      "last-processing-time", G_TYPE_UINT64, self->last_processing_time,
      "average-processing-time", G_TYPE_UINT64, self->frames > 0 ?
      self->total_processing_time / self->frames : (guint64) 0,
      "last-motion-score", G_TYPE_DOUBLE, self->last_motion_score, NULL);
  GST_OBJECT_UNLOCK (self);

  return s;
}

static void
gst_frame_proc_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstFrameProc *self = GST_FRAME_PROC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_frame_proc_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_OPERATION:
      g_value_set_enum (value, self->settings.operation);
      break;
    case PROP_SIGMA:
      g_value_set_double (value, self->settings.sigma);
      break;
    case PROP_THRESHOLD:
      g_value_set_uint (value, self->settings.threshold);
      break;
    case PROP_MOTION_REFERENCE:
      g_value_set_enum (value, self->settings.motion_reference);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_double (value, self->settings.learning_rate);
      break;
    case PROP_SENSITIVITY:
      g_value_set_uint (value, self->settings.sensitivity);
      break;
    case PROP_MIN_AREA:
      g_value_set_uint (value, self->settings.min_area);
      break;
    case PROP_DRAW:
      g_value_set_boolean (value, self->settings.draw);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->settings.post_messages);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_frame_proc_start (GstBaseTransform * trans)
{
  GstFrameProc *self = GST_FRAME_PROC (trans);
  guint n_threads;

  GST_OBJECT_LOCK (self);
  n_threads = self->n_threads;
  self->frames = 0;
  self->last_processing_time = 0;
  self->total_processing_time = 0;
  self->last_motion_score = 0.0;
  GST_OBJECT_UNLOCK (self);

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, GST_FRAME_PROC_MAX_BANDS);

  if (n_threads > 1) {
    GError *err = NULL;

    self->runner = gst_parallel_runner_new (n_threads, &err);
    if (self->runner == NULL) {
      GST_WARNING_OBJECT (self, "Cannot start worker threads, running on "
          "the streaming thread alone: %s", err->message);
      g_clear_error (&err);
      n_threads = 1;
    }
  }
  self->n_threads_used = n_threads;
  self->last_operation = DEFAULT_OPERATION;
  self->scratch.in_motion = FALSE;
  gst_frame_proc_motion_reset (&self->scratch);
  gst_frame_proc_tracker_reset (&self->tracker, TRUE);

  GST_DEBUG_OBJECT (self, "started with %u threads", n_threads);
  return TRUE;
}

static gboolean
gst_frame_proc_stop (GstBaseTransform * trans)
{
  GstFrameProc *self = GST_FRAME_PROC (trans);

  g_clear_pointer (&self->runner, gst_parallel_runner_free);
  self->n_threads_used = 1;
  gst_frame_proc_scratch_free (&self->scratch);

  GST_DEBUG_OBJECT (self, "stopped");
  return TRUE;
}

static gboolean
gst_frame_proc_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFrameProc *self = GST_FRAME_PROC (trans);

  /* after a flush the next frame need not follow the last one: start the
   * motion reference again rather than report the jump as motion, and let
   * no region inherit the id of one from before the jump */
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    gst_frame_proc_motion_reset (&self->scratch);
    gst_frame_proc_tracker_reset (&self->tracker, FALSE);
  }

  return GST_BASE_TRANSFORM_CLASS (gst_frame_proc_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_frame_proc_set_info (GstVideoFilter * vfilter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFrameProc *self = GST_FRAME_PROC (vfilter);
  gint width = GST_VIDEO_INFO_WIDTH (in_info);
  gint height = GST_VIDEO_INFO_HEIGHT (in_info);

  GST_DEBUG_OBJECT (self, "setting caps: in %" GST_PTR_FORMAT " out %"
      GST_PTR_FORMAT, incaps, outcaps);

  /* the row functions of this format, for every frame until new caps */
  self->format = gst_frame_proc_format_get (GST_VIDEO_INFO_FORMAT (in_info));
  if (self->format == NULL)
    goto unsupported_format;

  if (width < 1 || height < 1)
    goto invalid_size;

  if (!gst_frame_proc_scratch_alloc (&self->scratch, width, height,
          self->n_threads_used))
    goto no_memory;

  self->scratch.in_motion = FALSE;
  gst_frame_proc_motion_reset (&self->scratch);
  gst_frame_proc_tracker_reset (&self->tracker, FALSE);
  return TRUE;

  /* ERRORS */
unsupported_format:
  {
    GST_ERROR_OBJECT (self, "Unsupported format %s; frameproc handles %s",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
        FRAMEPROC_FORMATS);
    return FALSE;
  }
invalid_size:
  {
    GST_ERROR_OBJECT (self, "Invalid frame size %dx%d", width, height);
    return FALSE;
  }
no_memory:
  {
    gst_frame_proc_scratch_free (&self->scratch);
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Not enough memory to process %dx%d frames.", width, height),
        ("Allocating about %" G_GSIZE_FORMAT " bytes of scratch failed",
            (gsize) width * height * 10));
    return FALSE;
  }
}

static void
gst_frame_proc_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  GstClockTime timestamp, stream_time;

  timestamp = GST_BUFFER_TIMESTAMP (buf);
  stream_time =
      gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, timestamp);

  GST_LOG_OBJECT (trans, "sync to %" GST_TIME_FORMAT,
      GST_TIME_ARGS (timestamp));

  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (trans), stream_time);
}

static GstStructure *
gst_frame_proc_message_structure (GstFrameProc * self, const gchar * name,
    GstBuffer * buf, guint64 frame_no)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime timestamp, duration, running_time, stream_time;

  timestamp = GST_BUFFER_TIMESTAMP (buf);
  duration = GST_BUFFER_DURATION (buf);
  running_time =
      gst_segment_to_running_time (segment, GST_FORMAT_TIME, timestamp);
  stream_time =
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, timestamp);

  return gst_structure_new (name,
      "timestamp", G_TYPE_UINT64, timestamp,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, duration,
      "frame", G_TYPE_UINT64, frame_no, NULL);
}

static void
gst_frame_proc_post_motion_change (GstFrameProc * self, GstBuffer * buf,
    guint64 frame_no, gboolean motion, gdouble score)
{
  GstStructure *s;

  GST_INFO_OBJECT (self, "motion %s at frame %" G_GUINT64_FORMAT
      " (score %.4f)", motion ? "started" : "stopped", frame_no, score);

  s = gst_frame_proc_message_structure (self, "frameproc-motion", buf,
      frame_no);
  gst_structure_set (s, "motion", G_TYPE_BOOLEAN, motion,
      "score", G_TYPE_DOUBLE, score, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
gst_frame_proc_post_frame_message (GstFrameProc * self, GstBuffer * buf,
    guint64 frame_no, GstClockTime processing_time, gdouble score)
{
  GstStructure *s;
  GValue regions = G_VALUE_INIT;
  guint i;

  s = gst_frame_proc_message_structure (self, "frameproc", buf, frame_no);

  g_value_init (&regions, GST_TYPE_LIST);
  for (i = 0; i < self->regions->len; i++) {
    const GstFrameProcRegion *r =
        &g_array_index (self->regions, GstFrameProcRegion, i);
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("region",
            "id", G_TYPE_INT, r->id,
            "x", G_TYPE_UINT, (guint) r->x,
            "y", G_TYPE_UINT, (guint) r->y,
            "width", G_TYPE_UINT, (guint) r->width,
            "height", G_TYPE_UINT, (guint) r->height,
            "area", G_TYPE_UINT, r->area,
            "score", G_TYPE_DOUBLE,
            (gdouble) r->area / ((gdouble) r->width * r->height), NULL));
    gst_value_list_append_and_take_value (&regions, &v);
  }

  gst_structure_set (s, "processing-time", G_TYPE_UINT64, processing_time,
      "motion-score", G_TYPE_DOUBLE, score, NULL);
  gst_structure_take_value (s, "regions", &regions);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
gst_frame_proc_add_roi_metas (GstFrameProc * self, GstBuffer * buf)
{
  guint i;

  for (i = 0; i < self->regions->len; i++) {
    const GstFrameProcRegion *r =
        &g_array_index (self->regions, GstFrameProcRegion, i);
    GstVideoRegionOfInterestMeta *meta;

    meta = gst_buffer_add_video_region_of_interest_meta (buf, "motion",
        r->x, r->y, r->width, r->height);
    meta->id = r->id;
    gst_video_region_of_interest_meta_add_param (meta,
        gst_structure_new ("motion",
            "score", G_TYPE_DOUBLE,
            (gdouble) r->area / ((gdouble) r->width * r->height),
            "area", G_TYPE_UINT, r->area, NULL));
  }
}

/* Runs the operation of job->settings on the frame; returns the motion
 * score (0 for the other operations). */
static gdouble
gst_frame_proc_apply (GstFrameProc * self, GstFrameProcJob * job,
    GstBuffer * buf)
{
  gdouble score = 0.0;

  if (job->settings.operation != self->last_operation &&
      job->settings.operation == GST_FRAME_PROC_OPERATION_MOTION) {
    gst_frame_proc_motion_reset (&self->scratch);
    gst_frame_proc_tracker_reset (&self->tracker, FALSE);
  }
  self->last_operation = job->settings.operation;

  switch (job->settings.operation) {
    case GST_FRAME_PROC_OPERATION_PASSTHROUGH:
      break;
    case GST_FRAME_PROC_OPERATION_GRAYSCALE:
      gst_frame_proc_grayscale (job);
      break;
    case GST_FRAME_PROC_OPERATION_INVERT:
      gst_frame_proc_invert (job);
      break;
    case GST_FRAME_PROC_OPERATION_BLUR:
      if (self->scratch.kernel_sigma != job->settings.sigma) {
        gst_frame_proc_blur_kernel (job->settings.sigma, &self->scratch.radius,
            self->scratch.weights);
        self->scratch.kernel_sigma = job->settings.sigma;
        GST_DEBUG_OBJECT (self, "blur sigma %f, radius %d, centre weight %u",
            job->settings.sigma, self->scratch.radius,
            self->scratch.weights[0]);
      }
      gst_frame_proc_blur (job);
      break;
    case GST_FRAME_PROC_OPERATION_EDGES:
      gst_frame_proc_edges (job);
      break;
    case GST_FRAME_PROC_OPERATION_THRESHOLD:
      gst_frame_proc_threshold (job);
      break;
    case GST_FRAME_PROC_OPERATION_MOTION:
      gst_frame_proc_motion (job, &self->tracker, self->regions, &score);
      gst_frame_proc_add_roi_metas (self, buf);
      if (job->settings.draw)
        gst_frame_proc_motion_draw (job, self->regions);
      break;
  }
  return score;
}

static GstFlowReturn
gst_frame_proc_transform_frame_ip (GstVideoFilter * vfilter,
    GstVideoFrame * frame)
{
  GstFrameProc *self = GST_FRAME_PROC (vfilter);
  GstFrameProcJob job;
  GstFrameProcSettings *settings = &job.settings;
  GstBuffer *buf = frame->buffer;
  GstClockTime start, elapsed;
  guint64 frame_no, frames;
  gboolean was_in_motion, in_motion;
  gdouble score;

  if (G_UNLIKELY (self->scratch.hpass == NULL))
    goto not_negotiated;

  start = gst_util_get_timestamp ();

  /* The lock is held only to copy the settings: every band of the frame
   * then uses the same values, and reading a property never waits for a
   * frame to be processed. */
  GST_OBJECT_LOCK (self);
  job.settings = self->settings;
  frame_no = GST_BUFFER_OFFSET_IS_VALID (buf) ? GST_BUFFER_OFFSET (buf) :
      self->frames;
  GST_OBJECT_UNLOCK (self);

  gst_frame_proc_job_init (&job, frame, self->format, &self->scratch,
      self->runner);
  /* regions of this frame only: none unless motion finds some */
  g_array_set_size (self->regions, 0);

  score = gst_frame_proc_apply (self, &job, buf);

  elapsed = gst_util_get_timestamp () - start;

  was_in_motion = self->scratch.in_motion;
  in_motion = self->regions->len > 0;
  self->scratch.in_motion = in_motion;

  GST_OBJECT_LOCK (self);
  self->frames++;
  frames = self->frames;
  self->last_processing_time = elapsed;
  self->total_processing_time += elapsed;
  self->last_motion_score = score;
  GST_OBJECT_UNLOCK (self);

  GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " processed in %"
      GST_TIME_FORMAT " (%u bands), motion score %.4f, %u regions", frame_no,
      GST_TIME_ARGS (elapsed), job.n_bands, score, self->regions->len);
  if (G_UNLIKELY (settings->operation == GST_FRAME_PROC_OPERATION_MOTION
          && self->tracker.untracked > 0)) {
    GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %u new regions "
        "beyond the %u tracked, their ids will not persist", frame_no,
        self->tracker.untracked, GST_FRAME_PROC_MAX_TRACKS);
  }
  if (frames % 100 == 0) {
    GST_INFO_OBJECT (self, "Processed %" G_GUINT64_FORMAT " frames | last: "
        "frame %" G_GUINT64_FORMAT " (%.1f ms)", frames, frame_no,
        (gdouble) elapsed / GST_MSECOND);
  }

  if (in_motion != was_in_motion)
    gst_frame_proc_post_motion_change (self, buf, frame_no, in_motion, score);
  if (settings->post_messages)
    gst_frame_proc_post_frame_message (self, buf, frame_no, elapsed, score);

  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ERROR_OBJECT (self, "Not negotiated yet");
    return GST_FLOW_NOT_NEGOTIATED;
  }
}
