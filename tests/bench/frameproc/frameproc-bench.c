/* GStreamer frameproc benchmark
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

/* Prints a markdown table of milliseconds per frame for every frameproc
 * operation, on one thread and on all processors, next to the stock
 * elements that do something comparable, measured in the same run.
 *
 * The frames look like a camera's: the synthetic scene of the benchmarks'
 * shared generator (tests/bench/common/bench-scene.h: fractal value noise
 * with smooth areas and fine texture, flat shapes with hard edges) with a
 * little sensor noise, panned by one pixel per frame. All frames are made before the clock
 * starts. Each cell is the median time per frame. Only the measured
 * element is timed: a probe on its sink pad and
 * one on its src pad, both on the streaming thread, bracket the element's
 * chain function, so conversions a stock element needs (AYUV for
 * gaussianblur, BGRx for edgetv) run outside the measurement.
 *
 *   frameproc-bench [frames at 640x480] [frames at 1920x1080]
 *
 * A benchmark, not a test: it never fails on a time. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "bench-scene.h"

#define PAN 32
#define WARMUP 3

/* frame t: the scene (the synthetic scene of tests/bench/common) panned by
 * t pixels, plus +-2 of sensor noise on luma */
static GstBuffer *
scene_frame (const BenchScene * s, GstVideoInfo * info, guint t)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstVideoFrame frame;
  BenchNoise noise = { t * 7919 + 1 };
  uint8_t *planes[3];
  int strides[3], p;

  gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE);
  for (p = 0; p < 3; p++) {
    planes[p] = GST_VIDEO_FRAME_COMP_DATA (&frame, p);
    strides[p] = GST_VIDEO_FRAME_COMP_STRIDE (&frame, p);
  }
  bench_scene_render (s, GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), t % PAN, (t / 2) % PAN, 2, 0, &noise,
      planes, strides);
  gst_video_frame_unmap (&frame);

  GST_BUFFER_PTS (buf) = t * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  GST_BUFFER_OFFSET (buf) = t;
  return buf;
}

typedef struct
{
  GstClockTime t0;
  GArray *times;                /* GstClockTime per frame after warm-up */
  guint n;
} Timing;

static gint
compare_times (gconstpointer a, gconstpointer b)
{
  GstClockTime ta = *(const GstClockTime *) a, tb = *(const GstClockTime *) b;

  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Timing *t = data;

  t->t0 = gst_util_get_timestamp ();
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
src_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Timing *t = data;

  if (t->n++ >= WARMUP) {
    GstClockTime d = gst_util_get_timestamp () - t->t0;

    g_array_append_val (t->times, d);
  }
  return GST_PAD_PROBE_OK;
}

/* chain holds one element named "m", the one timed. Returns ms per frame,
 * or a negative value when the pipeline cannot be built. */
static gdouble
measure (const gchar * chain, GstBuffer ** frames, guint n_frames,
    GstVideoInfo * info)
{
  GstElement *pipe, *src, *m;
  GstPad *sinkpad, *srcpad;
  GstCaps *caps;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  Timing t = { 0, NULL, 0 };
  gdouble ms;
  GstBuffer **copies;
  gchar *desc;
  guint i;

  t.times = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  desc = g_strdup_printf ("appsrc name=src format=time max-buffers=4 "
      "block=true ! %s ! fakesink sync=false", chain);
  pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!pipe || err) {
    g_clear_error (&err);
    gst_clear_object (&pipe);
    g_array_free (t.times, TRUE);
    return -1.0;
  }
  src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  m = gst_bin_get_by_name (GST_BIN (pipe), "m");
  caps = gst_video_info_to_caps (info);
  gst_app_src_set_caps (GST_APP_SRC (src), caps);
  gst_caps_unref (caps);

  sinkpad = gst_element_get_static_pad (m, "sink");
  srcpad = gst_element_get_static_pad (m, "src");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &t, NULL);
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, src_probe, &t, NULL);

  /* writable copies made before the clock runs, so that in-place elements
   * never copy and no copying competes with the worker threads */
  copies = g_new (GstBuffer *, n_frames);
  for (i = 0; i < n_frames; i++)
    copies[i] = gst_buffer_copy_deep (frames[i]);

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (i = 0; i < n_frames; i++) {
    if (gst_app_src_push_buffer (GST_APP_SRC (src), copies[i]) != GST_FLOW_OK) {
      for (i = i + 1; i < n_frames; i++)
        gst_buffer_unref (copies[i]);
      break;
    }
  }
  g_free (copies);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("%s: %s\n", chain, err->message);
    g_clear_error (&err);
    t.n = 0;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);

  gst_object_unref (sinkpad);
  gst_object_unref (srcpad);
  gst_object_unref (m);
  gst_object_unref (src);
  gst_object_unref (pipe);

  /* the median: this machine may be shared, and a frame that lost its
   * core to another process says nothing about the element */
  ms = -1.0;
  if (t.n > WARMUP && t.times->len > 0) {
    g_array_sort (t.times, compare_times);
    ms = (gdouble) g_array_index (t.times, GstClockTime,
        t.times->len / 2) / GST_MSECOND;
  }
  g_array_free (t.times, TRUE);
  return ms;
}

typedef enum
{
  STOCK_NONE,
  STOCK_VIDEOCONVERT,
  STOCK_GAUSSIANBLUR,
  STOCK_EDGETV,
  STOCK_MOTIONCELLS,
} Stock;

typedef struct
{
  const gchar *op;              /* frameproc operation and extra settings */
  Stock stock;
} Row;

static const Row rows[] = {
  {"passthrough", STOCK_NONE},
  {"grayscale", STOCK_VIDEOCONVERT},
  {"invert", STOCK_NONE},
  {"blur sigma=2", STOCK_GAUSSIANBLUR},
  {"edges", STOCK_EDGETV},
  {"threshold", STOCK_NONE},
  {"motion", STOCK_MOTIONCELLS},
  {"motion draw=true motion-reference=previous", STOCK_NONE},
};

static void
cell (gdouble ms)
{
  if (ms < 0)
    g_print (" n/a |");
  else
    g_print (" %.2f |", ms);
}

int
main (int argc, char **argv)
{
  const gint dims[2][2] = { {640, 480}, {1920, 1080} };
  guint n_frames[2] = { 150, 50 };
  guint n_cpus = g_get_num_processors ();
  gboolean have_motioncells;
  guint d, r, i;

  gst_init (&argc, &argv);
  if (argc > 1)
    n_frames[0] = MAX (WARMUP + 1, atoi (argv[1]));
  if (argc > 2)
    n_frames[1] = MAX (WARMUP + 1, atoi (argv[2]));

  have_motioncells = gst_element_factory_find ("motioncells") != NULL;

  g_print ("frameproc %s, %s, %u processors; ms per frame, "
      "I420 input, median of %u (640x480) and %u (1920x1080) frames after "
      "%d warm-up frames\n\n", VERSION, gst_version_string (), n_cpus,
      n_frames[0] - WARMUP, n_frames[1] - WARMUP, WARMUP);
  g_print ("| size | operation | frameproc 1 thread | frameproc %u threads "
      "| stock element | stock 1 thread | stock %u threads |\n", n_cpus,
      n_cpus);
  g_print ("|---|---|---:|---:|---|---:|---:|\n");

  for (d = 0; d < 2; d++) {
    GstVideoInfo info;
    BenchScene *scene = bench_scene_new_synthetic (dims[d][0], dims[d][1],
        PAN, PAN);
    GstBuffer **frames = g_new (GstBuffer *, n_frames[d]);

    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, dims[d][0],
        dims[d][1]);
    GST_VIDEO_INFO_FPS_N (&info) = 30;
    GST_VIDEO_INFO_FPS_D (&info) = 1;
    for (i = 0; i < n_frames[d]; i++)
      frames[i] = scene_frame (scene, &info, i);

    for (r = 0; r < G_N_ELEMENTS (rows); r++) {
      const Row *row = &rows[r];
      gchar *c1 = g_strdup_printf ("frameproc name=m n-threads=1 "
          "operation=%s", row->op);
      gchar *cn = g_strdup_printf ("frameproc name=m n-threads=0 "
          "operation=%s", row->op);

      g_print ("| %dx%d | %s |", dims[d][0], dims[d][1], row->op);
      cell (measure (c1, frames, n_frames[d], &info));
      cell (measure (cn, frames, n_frames[d], &info));

      switch (row->stock) {
        case STOCK_NONE:
          g_print (" | | |\n");
          break;
        case STOCK_VIDEOCONVERT:
          g_print (" videoconvert I420 to GRAY8 |");
          cell (measure ("videoconvert name=m n-threads=1 ! "
                  "video/x-raw,format=GRAY8", frames, n_frames[d], &info));
          cell (measure ("videoconvert name=m n-threads=0 ! "
                  "video/x-raw,format=GRAY8", frames, n_frames[d], &info));
          g_print ("\n");
          break;
        case STOCK_GAUSSIANBLUR:
          /* gaussianblur takes AYUV only; the conversion is not timed */
          g_print (" gaussianblur sigma=2 (AYUV) |");
          cell (measure ("videoconvert ! video/x-raw,format=AYUV ! "
                  "gaussianblur name=m sigma=2", frames, n_frames[d], &info));
          g_print (" single-threaded |\n");
          break;
        case STOCK_EDGETV:
          g_print (" edgetv (BGRx) |");
          cell (measure ("videoconvert ! video/x-raw,format=BGRx ! "
                  "edgetv name=m", frames, n_frames[d], &info));
          g_print (" single-threaded |\n");
          break;
        case STOCK_MOTIONCELLS:
          if (have_motioncells) {
            g_print (" motioncells (BGR) |");
            cell (measure ("videoconvert ! video/x-raw,format=BGR ! "
                    "motioncells name=m", frames, n_frames[d], &info));
            g_print (" single-threaded |\n");
          } else {
            g_print (" motioncells | not installed "
                "(needs gstreamer1.0-opencv) | |\n");
          }
          break;
      }
      g_free (c1);
      g_free (cn);
    }

    for (i = 0; i < n_frames[d]; i++)
      gst_buffer_unref (frames[i]);
    g_free (frames);
    bench_scene_free (scene);
  }
  return 0;
}
