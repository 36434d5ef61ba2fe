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

#ifndef __GST_REDIS_KEY_UNIT_H__
#define __GST_REDIS_KEY_UNIT_H__

#include <gst/gst.h>

#include "gstredisconnection.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Key frames across Redis: a reader holds back delta units after a gap
 * until a key frame comes, and asks the producer for one (the role of
 * RTCP PLI/FIR in RTP); the producer's sink turns the request into a
 * GstForceKeyUnit event for its encoder. docs/media.md. */

/* The Pub/Sub channel of a stream's requests, and the message. */
#define GST_REDIS_KEY_UNIT_CHANNEL_SUFFIX ":control"
#define GST_REDIS_KEY_UNIT_REQUEST "force-key-unit"

/* At most one request a second from a reader, one event every half second
 * from a sink. */
#define GST_REDIS_KEY_UNIT_REQUEST_INTERVAL (G_USEC_PER_SEC)
#define GST_REDIS_KEY_UNIT_EVENT_INTERVAL (G_USEC_PER_SEC / 2)

gchar *gst_redis_key_unit_channel (const gchar * stream);

typedef struct
{
  /* a gap happened and no key frame came since: delta units are held back */
  gboolean waiting;
  /* a request is due (a gap, or a GstForceKeyUnit event from downstream) */
  gboolean request;
  gint64 last_request;
  guint64 held_back;
  guint64 requests;
} GstRedisKeyUnitGate;

void gst_redis_key_unit_gate_reset (GstRedisKeyUnitGate * gate);
/* Frames were lost or skipped, or reading starts: wait for a key frame. */
void gst_redis_key_unit_gate_gap (GstRedisKeyUnitGate * gate);
/* Downstream asked for a key frame (a decoder, websocketsink). */
void gst_redis_key_unit_gate_want (GstRedisKeyUnitGate * gate);
/* FALSE when @buffer is a delta unit (of a media type with inter-frame
 * prediction, @caps) that must not go out (counted). */
gboolean gst_redis_key_unit_gate_pass (GstRedisKeyUnitGate * gate,
    GstBuffer * buffer, const GstCaps * caps);
gboolean gst_redis_key_unit_caps_are_inter_coded (const GstCaps * caps);
/* TRUE when a request should be sent now (rate-limited); marks it sent. */
gboolean gst_redis_key_unit_gate_take_request (GstRedisKeyUnitGate * gate,
    gint64 now_us);

/* The producer's side: a connection subscribed to a stream's channel. */
typedef struct _GstRedisKeyUnitListener GstRedisKeyUnitListener;

GstRedisKeyUnitListener *gst_redis_key_unit_listener_new (const
    GstRedisSettings * settings);
void gst_redis_key_unit_listener_free (GstRedisKeyUnitListener * listener);
/* Subscribes when not subscribed (again at most every 2 s after a failure)
 * and reads what arrived, without waiting for more. Returns TRUE when a
 * request came and a GstForceKeyUnit event is due (at most one every half
 * second). When Redis refuses the subscription (ACL), sets @refused once
 * and gives up. */
gboolean gst_redis_key_unit_listener_poll (GstRedisKeyUnitListener *
    listener, GCancellable * cancellable, gint64 now_us, GError ** refused);

G_END_DECLS
#endif /* __GST_REDIS_KEY_UNIT_H__ */
