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

/* Pushes frames @spacing apart in producer time, the first arriving
 * @first_late after the path's delay, the others on time, and returns the
 * PTS of the last; every PTS is checked not to go back. */
static GstClockTime
push_after_late_first (GstRedisTiming * t, GstClockTime producer0,
    GstClockTime now0, GstClockTime spacing, GstClockTime first_late, gint n)
{
  GstClockTime last = 0;
  gint i;

  for (i = 0; i < n; i++) {
    GstBuffer *b = frame (producer0 + i * spacing, GST_CLOCK_TIME_NONE);

    gst_redis_timing_apply (t, GST_REDIS_TIMESTAMP_RUNNING_TIME, b,
        now0 + i * spacing + (i == 0 ? first_late : 0), 0, -1);
    fail_unless (GST_BUFFER_PTS (b) >= last, "frame %d at %" GST_TIME_FORMAT
        " before frame %d at %" GST_TIME_FORMAT, i,
        GST_TIME_ARGS (GST_BUFFER_PTS (b)), i - 1, GST_TIME_ARGS (last));
    last = GST_BUFFER_PTS (b);
    gst_buffer_unref (b);
  }
  return last;
}

/* The first frame was held up 60 ms on its way (a busy reader): the
 * timeline follows the frames that came on time within a few frames,
 * never going back, without a resync. Audio (10 ms buffers) and video
 * (33 ms) of one producer, read by two sources whose first frames were
 * held up differently, end up together. */
GST_START_TEST (test_running_time_first_frame_held_up)
{
  GstRedisTiming video, audio;
  GstClockTime producer0 = 3600 * GST_SECOND, now0 = 5 * GST_SECOND;

  gst_redis_timing_reset (&video);
  gst_redis_timing_reset (&audio);
  /* 10 video frames: the last one where it arrived */
  fail_unless_equals_uint64 (push_after_late_first (&video, producer0, now0,
          33 * MS, 60 * MS, 10), now0 + 9 * 33 * MS);
  fail_unless_equals_uint64 (video.resyncs, 0);
  /* 30 audio buffers of the same 300 ms, the first one on time */
  fail_unless_equals_uint64 (push_after_late_first (&audio, producer0, now0,
          10 * MS, 0, 30), now0 + 29 * 10 * MS);
  fail_unless_equals_int64 (video.offset, audio.offset);
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

/* Pushes @n frames 33 ms apart in capture mode, frame i captured at
 * @epoch + i * 33 ms + stamped (i), read at once; every DTS-or-PTS is
 * checked to come after the one before. Returns the PTS of the last. */
static GstClockTime
push_captured (GstRedisTiming * t, gint64 epoch, gint first, gint n,
    gint64 (*stamped) (gint i))
{
  GstClockTime last = GST_CLOCK_TIME_NONE;
  gint i;

  for (i = first; i < first + n; i++) {
    GstBuffer *b = frame (50 * GST_SECOND + i * 33 * MS, GST_CLOCK_TIME_NONE);
    gint64 capture = epoch + i * 33 * MS + stamped (i);

    gst_redis_timing_apply (t, GST_REDIS_TIMESTAMP_CAPTURE, b,
        10 * GST_SECOND + i * 33 * MS, epoch + i * 33 * MS, capture);
    fail_unless (!GST_CLOCK_TIME_IS_VALID (last) || GST_BUFFER_PTS (b) > last,
        "frame %d at %" GST_TIME_FORMAT ", not after %" GST_TIME_FORMAT, i,
        GST_TIME_ARGS (GST_BUFFER_PTS (b)), GST_TIME_ARGS (last));
    last = GST_BUFFER_PTS (b);
    gst_buffer_unref (b);
  }
  return last;
}

static gint64
stamped_late_by_load (gint i)
{
  /* single frames stamped 25 to 60 ms late, more than a frame interval */
  static const gint late[] = { 0, 0, 45, 0, 60, 25, 0, 0, 50, 0, 0 };

  return late[i % G_N_ELEMENTS (late)] * MS;
}

static gint64
stamped_later_from_frame_10 (gint i)
{
  return i >= 10 ? 30 * MS : 0;
}

static gint64
clock_stepped_back_at_frame_10 (gint i)
{
  return i >= 10 ? -(gint64) (100 * MS) : 0;
}

/* capture: a camera under load stamps single frames late; the timeline
 * keeps the producer's spacing, never going back (a replayed range once
 * went back 6 ms). Capture times later for a second (clocks that drift
 * apart) move it forward; earlier ones (a clock stepped back) down, the
 * frames coming at least a millisecond apart until it is caught up. */
GST_START_TEST (test_capture_time_jitter_keeps_order)
{
  GstRedisTiming t;
  const gint64 epoch = G_GINT64_CONSTANT (1700000000) * GST_SECOND;
  GstClockTime last;

  gst_redis_timing_reset (&t);
  fail_unless_equals_uint64 (push_captured (&t, epoch, 0, 60,
          stamped_late_by_load), 10 * GST_SECOND + 59 * 33 * MS);
  fail_unless_equals_uint64 (t.resyncs, 0);

  gst_redis_timing_reset (&t);
  fail_unless_equals_uint64 (push_captured (&t, epoch, 0, 60,
          stamped_later_from_frame_10), 10 * GST_SECOND + 59 * 33 * MS +
      30 * MS);
  fail_unless_equals_uint64 (t.resyncs, 1);

  /* caught up within the tolerance */
  gst_redis_timing_reset (&t);
  last = push_captured (&t, epoch, 0, 30, clock_stepped_back_at_frame_10);
  fail_unless (last >= 10 * GST_SECOND + 29 * 33 * MS - 100 * MS &&
      last <= 10 * GST_SECOND + 29 * 33 * MS - 80 * MS,
      "the last frame at %" GST_TIME_FORMAT, GST_TIME_ARGS (last));
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
  tcase_add_test (tc, test_running_time_first_frame_held_up);
  tcase_add_test (tc, test_running_time_shifts_pts_and_dts);
  tcase_add_test (tc, test_capture_time_aligns_streams);
  tcase_add_test (tc, test_capture_time_jitter_keeps_order);
  tcase_add_test (tc, test_producer_mode_keeps_timestamps);
  tcase_add_test (tc, test_gate_holds_delta_units_after_gap);
  tcase_add_test (tc, test_gate_passes_streams_without_delta_units);
  tcase_add_test (tc, test_gate_passes_headers);
  tcase_add_test (tc, test_gate_ignores_intra_only_media);
  tcase_add_test (tc, test_gate_forwards_downstream_request_once);
  return s;
}

GST_CHECK_MAIN (redislive);
