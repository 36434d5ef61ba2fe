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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediskeyunit.h"

gchar *
gst_redis_key_unit_channel (const gchar * stream)
{
  return g_strconcat (stream, GST_REDIS_KEY_UNIT_CHANNEL_SUFFIX, NULL);
}

void
gst_redis_key_unit_gate_reset (GstRedisKeyUnitGate * gate)
{
  gate->waiting = TRUE;
  gate->request = FALSE;
  gate->last_request = 0;
  gate->held_back = 0;
  gate->requests = 0;
}

void
gst_redis_key_unit_gate_gap (GstRedisKeyUnitGate * gate)
{
  gate->waiting = TRUE;
}

void
gst_redis_key_unit_gate_want (GstRedisKeyUnitGate * gate)
{
  gate->request = TRUE;
}

/* Media types whose delta units refer to earlier units: video codecs with
 * inter-frame prediction and the containers that carry them. Anything else
 * (raw media, audio, images, intra-only video, text) is never held back,
 * whatever its flags: some encoders mark every PNG or JPEG frame delta. */
static const gchar *const inter_coded[] = {
  "video/x-h264", "video/x-h265", "video/x-vp8", "video/x-vp9",
  "video/x-av1", "video/mpeg", "video/x-theora", "video/x-divx",
  "video/x-xvid", "video/x-wmv", "video/x-h263", "video/mpegts",
  "video/x-matroska", "video/webm", "video/quicktime", "application/ogg",
};

gboolean
gst_redis_key_unit_caps_are_inter_coded (const GstCaps * caps)
{
  const gchar *name;
  guint i;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  for (i = 0; i < G_N_ELEMENTS (inter_coded); i++) {
    if (g_str_equal (name, inter_coded[i]))
      return TRUE;
  }
  return FALSE;
}

/* Raw video, audio and intra-only codecs (JPEG, PNG) never set
 * GST_BUFFER_FLAG_DELTA_UNIT: every unit passes, and nothing is asked. A
 * muxer's output (Matroska, MPEG-TS) marks the buffers that do not start at
 * a key frame: a reader starts at one that does. */
gboolean
gst_redis_key_unit_gate_pass (GstRedisKeyUnitGate * gate, GstBuffer * buffer,
    const GstCaps * caps)
{
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT) ||
      !gst_redis_key_unit_caps_are_inter_coded (caps)) {
    gate->waiting = FALSE;
    gate->request = FALSE;
    return TRUE;
  }
  /* Stream headers (a muxer's, a codec's) are what a decoder needs before
   * any frame: they always go out; marked delta, they do not end the
   * wait. */
  if (!gate->waiting || GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER))
    return TRUE;
  gate->held_back++;
  gate->request = TRUE;
  return FALSE;
}

gboolean
gst_redis_key_unit_gate_take_request (GstRedisKeyUnitGate * gate, gint64 now_us)
{
  if (!gate->request)
    return FALSE;
  if (gate->last_request != 0 &&
      now_us - gate->last_request < GST_REDIS_KEY_UNIT_REQUEST_INTERVAL)
    return FALSE;
  gate->last_request = now_us;
  gate->requests++;
  /* asked again a second later while still waiting */
  gate->request = gate->waiting;
  return TRUE;
}

#define LISTENER_RETRY_INTERVAL (2 * G_USEC_PER_SEC)

struct _GstRedisKeyUnitListener
{
  GstRedisConnection *conn;
  gchar *channel;
  gboolean subscribed;
  gboolean refused;
  gint64 retry_at;
  gboolean request;
  gint64 last_event;
};

GstRedisKeyUnitListener *
gst_redis_key_unit_listener_new (const GstRedisSettings * settings)
{
  GstRedisKeyUnitListener *l = g_new0 (GstRedisKeyUnitListener, 1);

  l->conn = gst_redis_connection_new (settings);
  l->channel = gst_redis_key_unit_channel (settings->stream);
  return l;
}

void
gst_redis_key_unit_listener_free (GstRedisKeyUnitListener * listener)
{
  gst_redis_connection_free (listener->conn);
  g_free (listener->channel);
  g_free (listener);
}

static void
listener_lost (GstRedisKeyUnitListener * l, gint64 now_us, GError * err)
{
  GST_DEBUG ("key frame requests of %s: %s", l->channel,
      err ? err->message : "connection closed");
  g_clear_error (&err);
  gst_redis_connection_close (l->conn);
  l->subscribed = FALSE;
  l->retry_at = now_us + LISTENER_RETRY_INTERVAL;
}

static void
listener_subscribe (GstRedisKeyUnitListener * l, GCancellable * cancellable,
    gint64 now_us, GError ** refused)
{
  GstRedisReply *reply;
  GError *err = NULL;

  if (!gst_redis_connection_is_open (l->conn) &&
      !gst_redis_connection_open (l->conn, cancellable, &err)) {
    listener_lost (l, now_us, err);
    return;
  }
  reply = gst_redis_connection_call (l->conn, cancellable, &err, "SUBSCRIBE",
      l->channel, NULL);
  if (reply == NULL) {
    listener_lost (l, now_us, err);
    return;
  }
  if (reply->type == GST_REDIS_REPLY_ARRAY) {
    l->subscribed = TRUE;
    GST_DEBUG ("listening for key frame requests on %s", l->channel);
  } else {
    l->refused = TRUE;
    g_set_error (refused, GST_RESOURCE_ERROR,
        gst_redis_reply_is_error (reply, "NOPERM") ?
        GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_READ,
        "Redis at %s does not let this user listen for key frame requests "
        "(SUBSCRIBE %s): %s", gst_redis_connection_describe (l->conn),
        l->channel, reply->str ? reply->str : "unexpected reply");
    gst_redis_connection_close (l->conn);
  }
  gst_redis_reply_free (reply);
}

/* A message: ["message", channel, payload], the payload exactly the
 * request: Redis messages are binary, and "force-key-unit\0junk" or
 * "force-key-unit " is not one. */
static gboolean
is_request (GstRedisKeyUnitListener * l, const GstRedisReply * r)
{
  return r->type == GST_REDIS_REPLY_ARRAY && r->elements == 3 &&
      gst_redis_reply_is_string (r->element[0], "message") &&
      gst_redis_reply_is_string (r->element[1], l->channel) &&
      gst_redis_reply_is_string (r->element[2], GST_REDIS_KEY_UNIT_REQUEST);
}

gboolean
gst_redis_key_unit_listener_poll (GstRedisKeyUnitListener * l,
    GCancellable * cancellable, gint64 now_us, GError ** refused)
{
  if (l->refused)
    return FALSE;
  if (!l->subscribed && now_us >= l->retry_at)
    listener_subscribe (l, cancellable, now_us, refused);

  while (l->subscribed && gst_redis_connection_can_read (l->conn)) {
    GError *err = NULL;
    GstRedisReply *reply = gst_redis_connection_read_reply (l->conn, 0,
        cancellable, &err);

    if (reply == NULL) {
      listener_lost (l, now_us, err);
      break;
    }
    if (is_request (l, reply))
      l->request = TRUE;
    gst_redis_reply_free (reply);
  }

  if (!l->request || (l->last_event != 0 &&
          now_us - l->last_event < GST_REDIS_KEY_UNIT_EVENT_INTERVAL))
    return FALSE;
  l->request = FALSE;
  l->last_event = now_us;
  return TRUE;
}
