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

#ifndef __GST_REDIS_NEGOTIATION_H__
#define __GST_REDIS_NEGOTIATION_H__

#include <gst/gst.h>
#include "gstredisframe.h"
#include "gstredissettings.h"
#include "gstredisticket.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* redisstreamsrc's caps, frame by frame: the caps of each entry set on the
 * pad right before its frame and checked with the peer, and what happens
 * to an entry whose caps downstream refuses. Before any entry went through
 * since start it may be the pipeline that is wrong: refused entries wait,
 * pending, and the not-negotiated error ends the stream when
 * GST_REDIS_NEGOTIATION_REFUSED_AT_START were refused in a row or no other
 * entry comes; once one went through, a refused entry is bad and set aside
 * (a dead letter). Touched by the streaming thread; @caps also by
 * get_caps (), under the element's object lock. */
typedef struct
{
  /* whose pad and messages; the active settings, for the messages */
  GstElement *element;
  const GstRedisSettings *settings;
  /* sets refused entries aside */
  GstRedisAckTracker *tracker;

  /* the caps of the last frame pushed, under the element's object lock */
  GstCaps *caps;
  /* an entry's caps went through downstream since start; the entries
   * refused before that */
  gboolean negotiated_once;
  GArray *refused;
} GstRedisNegotiation;

/* Entries refused by downstream right after start before the pipeline is
 * taken as misconfigured (an error) rather than the entries as bad. */
#define GST_REDIS_NEGOTIATION_REFUSED_AT_START 8

void gst_redis_negotiation_init (GstRedisNegotiation * nego,
    GstElement * element, const GstRedisSettings * settings,
    GstRedisAckTracker * tracker);
void gst_redis_negotiation_clear (GstRedisNegotiation * nego);
void gst_redis_negotiation_start (GstRedisNegotiation * nego);
/* Refused entries stay pending in Redis. */
void gst_redis_negotiation_stop (GstRedisNegotiation * nego);
/* The caps of the last frame pushed (a reference), or NULL. */
GstCaps *gst_redis_negotiation_get_caps (GstRedisNegotiation * nego);

/* Sets the caps of @frame on the pad when they differ from its current
 * ones: GST_FLOW_NOT_NEGOTIATED when downstream refuses them,
 * GST_FLOW_FLUSHING when the pad is flushing. */
GstFlowReturn gst_redis_negotiation_set_caps (GstRedisNegotiation * nego,
    const GstRedisFrame * frame);
/* Downstream refused the caps of @frame: FALSE when that is the
 * not-negotiated error (posted), else the entry waits or is set aside. */
gboolean gst_redis_negotiation_refused (GstRedisNegotiation * nego,
    const GstRedisFrame * frame);
/* A frame went through: entries refused before it are set aside. */
void gst_redis_negotiation_passed (GstRedisNegotiation * nego);
/* Whether refused entries wait for a verdict. */
gboolean gst_redis_negotiation_is_waiting (const GstRedisNegotiation * nego);
/* No other entry came while refused ones waited: the error, posted for
 * the last of them. Returns GST_FLOW_NOT_NEGOTIATED. */
GstFlowReturn gst_redis_negotiation_give_up (GstRedisNegotiation * nego);
/* Posts the not-negotiated error for @frame: which stream, which caps, and
 * what the next element accepts. */
void gst_redis_negotiation_post_error (GstRedisNegotiation * nego,
    const GstRedisFrame * frame);

G_END_DECLS
#endif /* __GST_REDIS_NEGOTIATION_H__ */
