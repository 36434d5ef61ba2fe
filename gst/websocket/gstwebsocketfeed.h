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

#ifndef __GST_WEBSOCKET_FEED_H__
#define __GST_WEBSOCKET_FEED_H__

#include <gst/gst.h>

#include "gstwebsocketsinkpad.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* A frame on its way from a streaming thread to the server thread: the
 * message every client gets for it. A NULL @message says the camera's pad
 * is gone. */
typedef struct
{
  guint camera_id;
  gchar *camera;
  GstWebSocketSinkPad *pad;
  GBytes *message;
  guint64 index;
  gboolean key;
  gboolean encoded;
} GstWebSocketFeedFrame;

/* The newest frames of one camera, what a client gets of them and when to
 * ask upstream for a key frame. Server thread only. */
typedef struct
{
  guint id;
  gchar *camera;
  GstWebSocketSinkPad *pad;
  gboolean encoded;
  GBytes *latest;
  guint64 latest_index;
  gboolean latest_key;
  /* The last key frame of encoded video, what a newcomer starts with */
  GBytes *key;
  guint64 key_index;
  gint64 last_key_request;
} GstWebSocketFeed;

/* Where one client is in one camera's frames */
typedef struct
{
  /* Every frame up to @accounted was sent or counted as skipped */
  guint64 accounted;
  /* Encoded video: the client missed a frame and can only go on from a key
   * frame */
  gboolean need_key;
} GstWebSocketFeedCursor;

GstWebSocketFeedFrame *gst_websocket_feed_frame_new (GstWebSocketSinkPad * pad,
    GstBuffer * buffer);
GstWebSocketFeedFrame *gst_websocket_feed_frame_new_gone (guint camera_id);
void gst_websocket_feed_frame_free (GstWebSocketFeedFrame * frame);

GstWebSocketFeed *gst_websocket_feed_new (GstWebSocketFeedFrame * frame);
void gst_websocket_feed_free (GstWebSocketFeed * feed);
void gst_websocket_feed_take (GstWebSocketFeed * feed,
    GstWebSocketFeedFrame * frame);

GstWebSocketFeedCursor *gst_websocket_feed_cursor_new (GstWebSocketFeed * feed);
GBytes *gst_websocket_feed_next (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor, guint64 * skipped);
guint64 gst_websocket_feed_skip_busy (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor);
gboolean gst_websocket_feed_want_key (GstWebSocketFeed * feed,
    GstWebSocketFeedCursor * cursor);

G_END_DECLS
#endif /* __GST_WEBSOCKET_FEED_H__ */
