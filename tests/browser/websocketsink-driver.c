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

/* The pipeline behind the browser test:
 *
 *   videotestsrc is-live=true pattern=smpte75 ! video/x-raw,WxH,30/1 !
 *       jpegenc ! websocketsink
 *
 * with a probe before jpegenc that stands in for frameproc and the capture
 * side: it paints a white square that moves with the frame number, attaches
 * a "motion" GstVideoRegionOfInterestMeta exactly around it, and a
 * GstReferenceTimestampMeta (timestamp/x-unix) with the wall-clock time.
 * gst-launch cannot add metas, hence this program.
 *
 * The square of frame n (n = PTS in frames) is at
 *   x = MARGIN + (n * STEP_X) % (width - 2 * MARGIN - SIZE)
 *   y = MARGIN + (n * STEP_Y) % (height - 2 * MARGIN - SIZE)
 * with SIZE x SIZE pixels; viewer.test.js repeats the formula.
 *
 * Every frame also carries a "person" ROI (score 0.75) of EDGE_W x EDGE_H in
 * the top-right corner, with nothing painted under it: there is no room for
 * its label above it or to its right, so the viewer must move the label to
 * keep it on the canvas.
 *
 * Prints "PORT <n>" once the server listens, runs until SIGINT or SIGTERM,
 * and exits non-zero on a pipeline error.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#define SQUARE_SIZE 40
#define SQUARE_MARGIN 8
#define SQUARE_STEP_X 4
#define SQUARE_STEP_Y 3
#define FPS 30
#define EDGE_W 20
#define EDGE_H 30

static gint exit_code = 0;

static void
paint_square (GstVideoFrame * frame, gint x0, gint y0, gint size)
{
  guint8 *y_plane = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  guint8 *u_plane = GST_VIDEO_FRAME_COMP_DATA (frame, 1);
  guint8 *v_plane = GST_VIDEO_FRAME_COMP_DATA (frame, 2);
  gint u_stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 1);
  gint v_stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 2);
  gint row;

  for (row = y0; row < y0 + size; row++)
    memset (y_plane + row * stride + x0, 235, size);
  /* Neutral chroma: white, whatever the pattern had there */
  for (row = y0 / 2; row < (y0 + size) / 2; row++) {
    memset (u_plane + row * u_stride + x0 / 2, 128, size / 2);
    memset (v_plane + row * v_stride + x0 / 2, 128, size / 2);
  }
}

static GstPadProbeReturn
motion_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoInfo *vinfo = user_data;
  GstVideoFrame frame;
  GstVideoRegionOfInterestMeta *roi;
  GstCaps *unix_caps;
  guint64 n;
  gint x, y;

  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;

  n = gst_util_uint64_scale_round (GST_BUFFER_PTS (buffer), FPS, GST_SECOND);
  x = SQUARE_MARGIN + (n * SQUARE_STEP_X) %
      (GST_VIDEO_INFO_WIDTH (vinfo) - 2 * SQUARE_MARGIN - SQUARE_SIZE);
  y = SQUARE_MARGIN + (n * SQUARE_STEP_Y) %
      (GST_VIDEO_INFO_HEIGHT (vinfo) - 2 * SQUARE_MARGIN - SQUARE_SIZE);
  /* Even, so the chroma planes line up with the luma square */
  x &= ~1;
  y &= ~1;

  buffer = gst_buffer_make_writable (buffer);
  if (gst_video_frame_map (&frame, vinfo, buffer, GST_MAP_WRITE)) {
    paint_square (&frame, x, y, SQUARE_SIZE);
    gst_video_frame_unmap (&frame);
  }

  roi = gst_buffer_add_video_region_of_interest_meta (buffer, "motion", x, y,
      SQUARE_SIZE, SQUARE_SIZE);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("motion", "score", G_TYPE_DOUBLE, 0.9, NULL));

  roi = gst_buffer_add_video_region_of_interest_meta (buffer, "person",
      GST_VIDEO_INFO_WIDTH (vinfo) - EDGE_W, 0, EDGE_W, EDGE_H);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("person", "score", G_TYPE_DOUBLE, 0.75, NULL));

  unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  gst_buffer_add_reference_timestamp_meta (buffer, unix_caps,
      g_get_real_time () * 1000, GST_CLOCK_TIME_NONE);
  gst_caps_unref (unix_caps);

  GST_PAD_PROBE_INFO_DATA (info) = buffer;

  return GST_PAD_PROBE_OK;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GMainLoop *loop = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("ERROR: %s (%s)\n", err->message, GST_STR_NULL (debug));
      g_clear_error (&err);
      g_free (debug);
      exit_code = 1;
      g_main_loop_quit (loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (loop);
      break;
    default:
      break;
  }

  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 0, width = 320, height = 240;
  gchar *pattern = NULL;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (0: any free)", "N"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height", "H"},
    {"pattern", 0, 0, G_OPTION_ARG_STRING, &pattern, "videotestsrc pattern",
        "NAME"},
    {NULL}
  };
  GOptionContext *ctx;
  GstElement *pipeline, *sink, *enc;
  GstVideoInfo vinfo;
  GMainLoop *loop;
  GstBus *bus;
  GstPad *pad;
  gchar *description;
  GError *err = NULL;
  gint bound_port = 0;

  ctx = g_option_context_new ("- websocketsink browser test pipeline");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  description = g_strdup_printf ("videotestsrc is-live=true pattern=%s ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
      "jpegenc name=enc ! websocketsink name=sink port=%d",
      pattern ? pattern : "smpte75", width, height, FPS, port);
  pipeline = gst_parse_launch (description, &err);
  g_free (description);
  if (pipeline == NULL) {
    g_printerr ("%s\n", err->message);
    return 2;
  }

  gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_I420, width, height);
  enc = gst_bin_get_by_name (GST_BIN (pipeline), "enc");
  pad = gst_element_get_static_pad (enc, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, motion_probe, &vinfo,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (enc);

  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus_message, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* The error is on the bus */
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    if (msg) {
      on_bus_message (bus, msg, loop);
      gst_message_unref (msg);
    }
    exit_code = 1;
  } else {
    sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    g_object_get (sink, "current-port", &bound_port, NULL);
    gst_object_unref (sink);
    g_print ("PORT %d\n", bound_port);
    fflush (stdout);
    g_main_loop_run (loop);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  g_free (pattern);

  return exit_code;
}
