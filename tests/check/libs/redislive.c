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

/* Unit tests of the live-reading helpers of redisstreamsrc: timestamps on
 * the reader's clock (gstredistiming.c) and the key-frame gate
 * (gstrediskeyunit.c). The elements' behaviour with real pipelines is
 * tested in tests/media/live.py. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>

#include "gstredistiming.h"
#include "gstrediskeyunit.h"
#include "gstredisdebug.h"

#define MS GST_MSECOND

static GstBuffer *
frame (GstClockTime pts, GstClockTime dts)
{
  GstBuffer *b = gst_buffer_new ();

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DTS (b) = dts;
  return b;
}

/* The producer's running times (hours in) land where the first frame
 * arrived, 33 ms apart as they were sent. */
GST_START_TEST (test_running_time_keeps_spacing)
{
  GstRedisTiming t;
  GstClockTime producer0 = 3600 * GST_SECOND, now0 = 5 * GST_SECOND;
  gint i;

  gst_redis_timing_reset (&t);
  for (i = 0; i < 10; i++) {
    GstBuffer *b = frame (producer0 + i * 33 * MS, GST_CLOCK_TIME_NONE);
    /* arrival jitters by up to 4 ms */
    gboolean resync = gst_redis_timing_apply (&t,
        GST_REDIS_TIMESTAMP_RUNNING_TIME, b,
        now0 + i * 33 * MS + (i % 3) * 2 * MS,
        0, -1);

    fail_unless_equals_int (resync, i == 0);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), now0 + i * 33 * MS);
    gst_buffer_unref (b);
  }
}

GST_END_TEST;

/* A producer that restarts (its running time starts again) or a gap of
 * more than a second: placed again where the frame arrives. */
GST_START_TEST (test_running_time_resyncs)
{
  GstRedisTiming t;
  GstBuffer *b;

  gst_redis_timing_reset (&t);
  b = frame (100 * GST_SECOND, GST_CLOCK_TIME_NONE);
  gst_redis_timing_apply (&t, GST_REDIS_TIMESTAMP_RUNNING_TIME, b, GST_SECOND,
      0, -1);
  gst_buffer_unref (b);

  /* restarted producer: its times went back */
  b = frame (0, GST_CLOCK_TIME_NONE);
  fail_unless (gst_redis_timing_apply (&t, GST_REDIS_TIMESTAMP_RUNNING_TIME,
          b, 2 * GST_SECOND, 0, -1));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 2 * GST_SECOND);
  gst_buffer_unref (b);

  /* frames arriving later than their place by more than 200 ms */
  b = frame (33 * MS, GST_CLOCK_TIME_NONE);
  fail_unless (gst_redis_timing_apply (&t, GST_REDIS_TIMESTAMP_RUNNING_TIME,
          b, 3 * GST_SECOND, 0, -1));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 3 * GST_SECOND);
  gst_buffer_unref (b);
  fail_unless_equals_uint64 (t.resyncs, 2);
}

GST_END_TEST;

/* B-frames: DTS decides, PTS moves with it, the order stays. */
GST_START_TEST (test_running_time_shifts_pts_and_dts)
{
  GstRedisTiming t;
  GstBuffer *b;

  gst_redis_timing_reset (&t);
  b = frame (10 * GST_SECOND + 66 * MS, 10 * GST_SECOND);
  gst_redis_timing_apply (&t, GST_REDIS_TIMESTAMP_RUNNING_TIME, b,
      2 * GST_SECOND, 0, -1);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (b), 2 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 2 * GST_SECOND + 66 * MS);
  gst_buffer_unref (b);
}

GST_END_TEST;

/* capture: the capture time on the reader's clock; two streams captured
 * together land together whatever their producers' running times. */
GST_START_TEST (test_capture_time_aligns_streams)
{
  GstRedisTiming video, audio;
  const gint64 epoch = G_GINT64_CONSTANT (1700000000) * GST_SECOND;
  GstBuffer *v, *a;

  gst_redis_timing_reset (&video);
  gst_redis_timing_reset (&audio);
  /* captured at the same instant, arriving 40 ms and 5 ms later, with
   * unrelated producer times */
  v = frame (77 * GST_SECOND, GST_CLOCK_TIME_NONE);
  a = frame (3 * GST_SECOND, GST_CLOCK_TIME_NONE);
  gst_redis_timing_apply (&video, GST_REDIS_TIMESTAMP_CAPTURE, v,
      10 * GST_SECOND + 40 * MS, epoch + 40 * MS, epoch);
  gst_redis_timing_apply (&audio, GST_REDIS_TIMESTAMP_CAPTURE, a,
      10 * GST_SECOND + 5 * MS, epoch + 5 * MS, epoch);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (v), 10 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (a), 10 * GST_SECOND);
  gst_buffer_unref (v);
  gst_buffer_unref (a);
}

GST_END_TEST;

GST_START_TEST (test_producer_mode_keeps_timestamps)
{
  GstRedisTiming t;
  GstBuffer *b = frame (42 * GST_SECOND, 41 * GST_SECOND);

  gst_redis_timing_reset (&t);
  fail_if (gst_redis_timing_apply (&t, GST_REDIS_TIMESTAMP_PRODUCER, b,
          GST_SECOND, 0, -1));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 42 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (b), 41 * GST_SECOND);
  gst_buffer_unref (b);
}

GST_END_TEST;

static GstCaps *h264;

static GstBuffer *
unit (gboolean delta)
{
  GstBuffer *b = gst_buffer_new ();

  if (delta)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

/* From the start and after a gap, delta units wait for a key frame; a
 * request goes out at most once a second while waiting. */
GST_START_TEST (test_gate_holds_delta_units_after_gap)
{
  GstRedisKeyUnitGate g;
  GstBuffer *d = unit (TRUE), *k = unit (FALSE);

  gst_redis_key_unit_gate_reset (&g);
  fail_if (gst_redis_key_unit_gate_pass (&g, d, h264));
  fail_unless (gst_redis_key_unit_gate_take_request (&g, 1000));
  fail_if (gst_redis_key_unit_gate_pass (&g, d, h264));
  fail_if (gst_redis_key_unit_gate_take_request (&g, 500000));
  fail_unless (gst_redis_key_unit_gate_take_request (&g, 1001000));
  fail_unless (gst_redis_key_unit_gate_pass (&g, k, h264));
  fail_unless (gst_redis_key_unit_gate_pass (&g, d, h264));
  fail_if (gst_redis_key_unit_gate_take_request (&g, 5000000));
  fail_unless_equals_uint64 (g.held_back, 2);
  fail_unless_equals_uint64 (g.requests, 2);

  gst_redis_key_unit_gate_gap (&g);
  fail_if (gst_redis_key_unit_gate_pass (&g, d, h264));
  fail_unless (gst_redis_key_unit_gate_pass (&g, k, h264));
  gst_buffer_unref (d);
  gst_buffer_unref (k);
}

GST_END_TEST;

/* Intra-only and raw media are never held back, whatever their flags
 * (some encoders mark every PNG frame delta). */
GST_START_TEST (test_gate_ignores_intra_only_media)
{
  GstRedisKeyUnitGate g;
  GstBuffer *d = unit (TRUE);
  const gchar *types[] = { "image/png", "image/jpeg", "video/x-raw",
    "audio/x-opus"
  };
  guint i;

  gst_redis_key_unit_gate_reset (&g);
  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    GstCaps *caps = gst_caps_new_empty_simple (types[i]);

    gst_redis_key_unit_gate_gap (&g);
    fail_unless (gst_redis_key_unit_gate_pass (&g, d, caps), "%s", types[i]);
    gst_caps_unref (caps);
  }
  /* the same buffer of an inter-coded type after a gap is held back */
  gst_redis_key_unit_gate_gap (&g);
  fail_if (gst_redis_key_unit_gate_pass (&g, d, h264));
  gst_buffer_unref (d);
}

GST_END_TEST;

/* Stream headers pass while waiting, and do not end the wait (Matroska
 * marks its headers delta). */
GST_START_TEST (test_gate_passes_headers)
{
  GstRedisKeyUnitGate g;
  GstBuffer *h = unit (TRUE), *d = unit (TRUE);

  GST_BUFFER_FLAG_SET (h, GST_BUFFER_FLAG_HEADER);
  gst_redis_key_unit_gate_reset (&g);
  fail_unless (gst_redis_key_unit_gate_pass (&g, h, h264));
  fail_if (gst_redis_key_unit_gate_pass (&g, d, h264));
  gst_buffer_unref (h);
  gst_buffer_unref (d);
}

GST_END_TEST;

/* Raw video and audio have no delta units: nothing held, nothing asked. */
GST_START_TEST (test_gate_passes_streams_without_delta_units)
{
  GstRedisKeyUnitGate g;
  GstBuffer *k = unit (FALSE);
  gint i;

  gst_redis_key_unit_gate_reset (&g);
  for (i = 0; i < 5; i++) {
    fail_unless (gst_redis_key_unit_gate_pass (&g, k, h264));
    gst_redis_key_unit_gate_gap (&g);
  }
  fail_if (gst_redis_key_unit_gate_take_request (&g, 1000));
  gst_buffer_unref (k);
}

GST_END_TEST;

/* A request from downstream goes out once. */
GST_START_TEST (test_gate_forwards_downstream_request_once)
{
  GstRedisKeyUnitGate g;
  GstBuffer *k = unit (FALSE);

  gst_redis_key_unit_gate_reset (&g);
  fail_unless (gst_redis_key_unit_gate_pass (&g, k, h264));
  gst_redis_key_unit_gate_want (&g);
  fail_unless (gst_redis_key_unit_gate_take_request (&g, 1000));
  fail_if (gst_redis_key_unit_gate_take_request (&g, 5000000));
  fail_unless_equals_string (gst_redis_key_unit_channel ("cam"), "cam:control");
  gst_buffer_unref (k);
}

GST_END_TEST;

static Suite *
redislive_suite (void)
{
  Suite *s = suite_create ("redislive");
  TCase *tc = tcase_create ("general");

  h264 = gst_caps_new_empty_simple ("video/x-h264");

  /* the modules' debug categories, which the plugin makes at its init */
  gst_redis_debug_init ();
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_running_time_keeps_spacing);
  tcase_add_test (tc, test_running_time_resyncs);
  tcase_add_test (tc, test_running_time_shifts_pts_and_dts);
  tcase_add_test (tc, test_capture_time_aligns_streams);
  tcase_add_test (tc, test_producer_mode_keeps_timestamps);
  tcase_add_test (tc, test_gate_holds_delta_units_after_gap);
  tcase_add_test (tc, test_gate_passes_streams_without_delta_units);
  tcase_add_test (tc, test_gate_passes_headers);
  tcase_add_test (tc, test_gate_ignores_intra_only_media);
  tcase_add_test (tc, test_gate_forwards_downstream_request_once);
  return s;
}

GST_CHECK_MAIN (redislive);
