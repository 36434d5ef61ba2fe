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

/* One camera's frames on their way to the clients: the message a buffer
 * becomes (in the streaming thread), then on the server thread the newest
 * frame and the last key frame, what a client that joins or falls behind
 * gets next, and when to ask upstream for a key frame. The clients' side
 * (who is busy, what was sent) is gstwebsocketserver.c's. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwebsocketelements.h"
#include "gstwebsocketfeed.h"
#include "gstwebsocketframe.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

/* Key-frame requests upstream, per camera: a page reload or a slow client
 * must not make the encoder send nothing but key frames */
#define KEY_UNIT_MIN_INTERVAL_US G_USEC_PER_SEC

/* The streaming thread of @pad, rendering @buffer: the message for this
 * frame of the pad's camera */
GstWebSocketFeedFrame *
gst_websocket_feed_frame_new (GstWebSocketSinkPad * pad, GstBuffer * buffer)
{
  GstWebSocketFrameInfo info;
  GstWebSocketFeedFrame *frame;
  GBytes *prefix = NULL;
  gchar *camera;
  guint64 index;
  gboolean key;

  if (pad->codec == GST_WEBSOCKET_CODEC_NONE)
    pad->codec = GST_WEBSOCKET_CODEC_JPEG;
  key = pad->codec == GST_WEBSOCKET_CODEC_JPEG ||
      !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  index = gst_websocket_sink_pad_count_frame (pad, key);

  if (pad->codec == GST_WEBSOCKET_CODEC_H264)
    prefix = gst_websocket_sink_pad_h264_prefix (pad, buffer, key);

  camera = gst_websocket_sink_pad_dup_camera (pad);
  info.seq = gst_websocket_sink_pad_frame_seq (pad, buffer);
  info.width = pad->width;
  info.height = pad->height;
  info.camera = camera;
  info.codec = gst_websocket_codec_name (pad->codec);
  info.key = key;

  frame = g_new0 (GstWebSocketFeedFrame, 1);
  frame->camera_id = pad->id;
  frame->pad = gst_object_ref (pad);
  frame->index = index;
  frame->key = key;
  frame->encoded = pad->codec != GST_WEBSOCKET_CODEC_JPEG;
  /* One copy here, so no buffer from upstream is held after render() */
  frame->message = gst_websocket_frame_build_full (buffer, &info, prefix);
  frame->camera = camera;
  if (prefix)
    g_bytes_unref (prefix);

  GST_LOG_OBJECT (pad, "frame %" G_GUINT64_FORMAT " (seq %" G_GUINT64_FORMAT
      "%s): %" G_GSIZE_FORMAT " bytes", index, info.seq, key ? ", key" : "",
      g_bytes_get_size (frame->message));

  return frame;
}

/* Tells the server thread to forget camera @camera_id: its pad is gone */
GstWebSocketFeedFrame *
gst_websocket_feed_frame_new_gone (guint camera_id)
{
  GstWebSocketFeedFrame *frame = g_new0 (GstWebSocketFeedFrame, 1);

  frame->camera_id = camera_id;

  return frame;
}

void
gst_websocket_feed_frame_free (GstWebSocketFeedFrame * frame)
{
  g_free (frame->camera);
  if (frame->pad)
    gst_object_unref (frame->pad);
  if (frame->message)
    g_bytes_unref (frame->message);
  g_free (frame);
}

/* The feed of the camera whose first frame is @frame; take it next */
GstWebSocketFeed *
gst_websocket_feed_new (GstWebSocketFeedFrame * frame)
{
  GstWebSocketFeed *feed = g_new0 (GstWebSocketFeed, 1);

  feed->id = frame->camera_id;
  feed->pad = gst_object_ref (frame->pad);

  return feed;
}

void
gst_websocket_feed_free (GstWebSocketFeed * feed)
{
  g_free (feed->camera);
  if (feed->pad)
    gst_object_unref (feed->pad);
  if (feed->latest)
    g_bytes_unref (feed->latest);
  if (feed->key)
    g_bytes_unref (feed->key);
  g_free (feed);
}

/* @frame is the camera's newest now */
void
gst_websocket_feed_take (GstWebSocketFeed * feed, GstWebSocketFeedFrame * frame)
{
  g_free (feed->camera);
  feed->camera = g_strdup (frame->camera);
  if (feed->encoded != frame->encoded) {
    /* New caps: what came before says nothing about what comes now */
    g_clear_pointer (&feed->key, g_bytes_unref);
    feed->encoded = frame->encoded;
  }
  if (feed->latest)
    g_bytes_unref (feed->latest);
  feed->latest = g_bytes_ref (frame->message);
  feed->latest_index = frame->index;
  feed->latest_key = frame->key;
  if (frame->key && frame->encoded) {
    if (feed->key)
      g_bytes_unref (feed->key);
    feed->key = g_bytes_ref (frame->message);
    feed->key_index = frame->index;
  }
}

/* Asks the camera's encoder for a key frame, at most once per
 * KEY_UNIT_MIN_INTERVAL_US */
static void
feed_request_key_unit (GstWebSocketFeed * feed)
{
  gint64 now = g_get_monotonic_time ();

  if (feed->last_key_request != 0 &&
      now - feed->last_key_request < KEY_UNIT_MIN_INTERVAL_US)
    return;
  feed->last_key_request = now;

  gst_websocket_sink_pad_request_key_unit (feed->pad);
}

/* Where a client that has seen nothing of @feed starts */
GstWebSocketFeedCursor *
gst_websocket_feed_cursor_new (GstWebSocketFeed * feed)
{
  GstWebSocketFeedCursor *cursor = g_new0 (GstWebSocketFeedCursor, 1);

  /* A newcomer starts with the newest frame, or with the last key frame of
   * encoded video: nothing before counts as skipped */
  cursor->accounted = feed->encoded && feed->key ? feed->key_index - 1 :
      feed->latest_index - 1;
  cursor->need_key = feed->encoded;

  return cursor;
}

/* Moves @cursor past every frame up to @upto that it did not get */
static void
cursor_skip (GstWebSocketFeedCursor * cursor, guint64 upto, guint64 * skipped)
{
  if (upto <= cursor->accounted)
    return;
  *skipped += upto - cursor->accounted;
  cursor->accounted = upto;
}

/* What a client at @cursor that is ready to send gets next of @feed: a
 * message it must send, or NULL. Adds the frames it will never get to
 * @skipped. */
GBytes *
gst_websocket_feed_next (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor, guint64 * skipped)
{
  guint64 newest = feed->latest_index;
  GBytes *message = NULL;

  if (feed->latest == NULL || cursor->accounted >= newest)
    return NULL;

  if (!feed->encoded) {
    /* Any JPEG will do: the newest */
    cursor_skip (cursor, newest - 1, skipped);
    message = feed->latest;
    cursor->accounted = newest;
  } else if ((!cursor->need_key && cursor->accounted == newest - 1) ||
      feed->latest_key) {
    /* The next frame in order, or a fresh start */
    cursor_skip (cursor, newest - 1, skipped);
    message = feed->latest;
    cursor->accounted = newest;
    cursor->need_key = FALSE;
  } else {
    /* A delta frame whose reference the client did not get. A newcomer
     * gets the last key frame for a first picture; then everyone waits for
     * the key frame we ask for. */
    if (feed->key != NULL && cursor->accounted < feed->key_index) {
      cursor_skip (cursor, feed->key_index - 1, skipped);
      message = feed->key;
      cursor->accounted = feed->key_index;
    }
    cursor_skip (cursor, newest, skipped);
    cursor->need_key = TRUE;
    feed_request_key_unit (feed);
  }

  return message;
}

/* A client at @cursor asked for a key frame of @feed (its decoder fell
 * behind, or failed): it gets nothing more of the camera until the next key
 * frame, which is asked for upstream. Returns FALSE when @feed is not
 * encoded video (every JPEG is a key frame). */
gboolean
gst_websocket_feed_want_key (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor)
{
  if (!feed->encoded)
    return FALSE;
  cursor->need_key = TRUE;
  feed_request_key_unit (feed);
  return TRUE;
}

/* A client at @cursor is busy: whatever comes before the newest frame will
 * never be sent to it. Returns how many frames that is. */
guint64
gst_websocket_feed_skip_busy (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor)
{
  guint64 skipped = 0;

  /* A newcomer still gets the last key frame when it is ready */
  if (feed->encoded && feed->key != NULL && cursor->accounted < feed->key_index)
    return 0;
  if (feed->latest != NULL && feed->latest_index - 1 > cursor->accounted) {
    cursor_skip (cursor, feed->latest_index - 1, &skipped);
    cursor->need_key = feed->encoded;
  }

  return skipped;
}
