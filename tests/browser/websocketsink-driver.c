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

/* The pipeline behind the browser test: one or more cameras
 *
 *   videotestsrc is-live=true pattern=P ! video/x-raw,WxH,30/1 ! ENCODER !
 *       valve ! websocketsink
 *
 * where ENCODER is jpegenc, openh264enc ! h264parse (H.264), vp8enc or
 * vp9enc, with a
 * probe before it that stands in for frameproc and the capture side: it
 * paints a white square that moves with the frame number, attaches a
 * "motion" GstVideoRegionOfInterestMeta exactly around it, and a
 * GstReferenceTimestampMeta (timestamp/x-unix) with the wall-clock time.
 * gst-launch cannot add metas, hence this program. The first camera goes to
 * the sink's always pad `sink`, the others to request pads.
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
 * --camera NAME:CODEC[:PATTERN] adds a camera (default: one JPEG camera
 * named "camera"); --gop N sets the encoders' key-frame interval in frames.
 * Reads commands on stdin: "stop NAME" closes the camera's valve (its frames
 * stop reaching the sink), "start NAME" opens it again.
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

/* The encoder part of one camera's branch */
static gchar *
encoder_description (const gchar * codec, gint gop, gint bitrate)
{
  if (g_str_equal (codec, "jpeg"))
    return g_strdup ("jpegenc");
  /* h264parse as a camera's pipeline would have it: it numbers bytes in
   * the buffer offset, which must not show as skipped frames */
  if (g_str_equal (codec, "h264"))
    return g_strdup_printf ("openh264enc gop-size=%d bitrate=%d ! h264parse ! "
        "video/x-h264,stream-format=byte-stream,alignment=au", gop, bitrate);
  if (g_str_equal (codec, "vp8"))
    return g_strdup_printf ("vp8enc keyframe-max-dist=%d deadline=1 "
        "target-bitrate=%d lag-in-frames=0", gop, bitrate);
  if (g_str_equal (codec, "vp9"))
    return g_strdup_printf ("vp9enc keyframe-max-dist=%d deadline=1 "
        "target-bitrate=%d lag-in-frames=0", gop, bitrate);
  return NULL;
}

static gboolean
on_stdin (GIOChannel * channel, GIOCondition condition, gpointer user_data)
{
  GstElement *pipeline = user_data;
  gchar *line = NULL;
  GIOStatus status;

  status = g_io_channel_read_line (channel, &line, NULL, NULL, NULL);
  if (status == G_IO_STATUS_NORMAL && line != NULL) {
    gchar **words = g_strsplit (g_strstrip (line), " ", 2);

    if (words[0] && words[1]) {
      gchar *name = g_strdup_printf ("valve-%s", words[1]);
      GstElement *valve = gst_bin_get_by_name (GST_BIN (pipeline), name);

      if (valve) {
        g_object_set (valve, "drop", g_str_equal (words[0], "stop"), NULL);
        gst_object_unref (valve);
        g_print ("OK %s %s\n", words[0], words[1]);
      } else {
        g_print ("ERROR no camera %s\n", words[1]);
      }
      fflush (stdout);
      g_free (name);
    }
    g_strfreev (words);
  }
  g_free (line);

  return status != G_IO_STATUS_EOF && status != G_IO_STATUS_ERROR;
}

int
main (int argc, char **argv)
{
  gint port = 0, width = 320, height = 240, gop = 30, bitrate = 1000000;
  gchar *pattern = NULL;
  gchar **camera_args = NULL;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (0: any free)", "N"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height", "H"},
    {"pattern", 0, 0, G_OPTION_ARG_STRING, &pattern,
        "videotestsrc pattern of cameras that name none", "NAME"},
    {"camera", 0, 0, G_OPTION_ARG_STRING_ARRAY, &camera_args,
        "A camera (repeatable)", "NAME:CODEC[:PATTERN]"},
    {"gop", 0, 0, G_OPTION_ARG_INT, &gop, "Key-frame interval in frames", "N"},
    {"bitrate", 0, 0, G_OPTION_ARG_INT, &bitrate,
        "H.264/VP8/VP9 bit rate (bit/s)", "N"},
    {NULL}
  };
  GOptionContext *ctx;
  GstElement *pipeline, *sink;
  GstVideoInfo vinfo;
  GMainLoop *loop;
  GIOChannel *in;
  GstBus *bus;
  GString *description, *branches;
  GError *err = NULL;
  gint bound_port = 0;
  guint i, n_cameras;

  ctx = g_option_context_new ("- websocketsink browser test pipeline");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);

  if (camera_args == NULL || camera_args[0] == NULL) {
    g_strfreev (camera_args);
    camera_args = g_new0 (gchar *, 2);
    camera_args[0] = g_strdup ("camera:jpeg");
  }
  n_cameras = g_strv_length (camera_args);

  /* The sink with its pad properties first, then one branch per camera */
  description = g_string_new (NULL);
  branches = g_string_new (NULL);
  g_string_append_printf (description, "websocketsink name=sink port=%d", port);
  for (i = 0; i < n_cameras; i++) {
    gchar **f = g_strsplit (camera_args[i], ":", 3);
    gchar *enc, *pad;

    if (f[0] == NULL || f[1] == NULL ||
        (enc = encoder_description (f[1], gop, bitrate)) == NULL) {
      g_printerr ("bad --camera %s (NAME:jpeg|h264|vp8|vp9[:PATTERN])\n",
          camera_args[i]);
      return 2;
    }
    pad = i == 0 ? g_strdup ("sink") : g_strdup_printf ("sink_%u", i - 1);
    g_string_append_printf (description, " %s::camera=%s", pad, f[0]);
    g_string_append_printf (branches, " videotestsrc is-live=true "
        "pattern=%s ! video/x-raw,format=I420,width=%d,height=%d,"
        "framerate=%d/1 ! identity name=mark-%s ! %s ! valve name=valve-%s ! "
        "sink.%s", f[2] ? f[2] : (pattern ? pattern : "smpte75"), width,
        height, FPS, f[0], enc, f[0], pad);
    g_free (pad);
    g_free (enc);
    g_strfreev (f);
  }
  g_string_append (description, branches->str);
  g_string_free (branches, TRUE);

  pipeline = gst_parse_launch (description->str, &err);
  g_string_free (description, TRUE);
  if (pipeline == NULL) {
    g_printerr ("%s\n", err->message);
    return 2;
  }

  gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_I420, width, height);
  for (i = 0; i < n_cameras; i++) {
    gchar **f = g_strsplit (camera_args[i], ":", 3);
    gchar *name = g_strdup_printf ("mark-%s", f[0]);
    GstElement *mark = gst_bin_get_by_name (GST_BIN (pipeline), name);
    GstPad *pad = gst_element_get_static_pad (mark, "src");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, motion_probe, &vinfo,
        NULL);
    gst_object_unref (pad);
    gst_object_unref (mark);
    g_free (name);
    g_strfreev (f);
  }

  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus_message, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP, on_stdin, pipeline);

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
  g_io_channel_unref (in);
  g_free (pattern);
  g_strfreev (camera_args);

  return exit_code;
}
