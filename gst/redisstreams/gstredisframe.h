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

#ifndef __GST_REDIS_FRAME_H__
#define __GST_REDIS_FRAME_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* A frame on its way through redisstreamsrc: the buffer decoded from one
 * entry, the caps of that entry, and the entry's id, which is acknowledged
 * once the frame's fate is known; how many times the entry was delivered,
 * this time included. */
typedef struct
{
  GstBuffer *buffer;
  GstCaps *caps;
  gchar *id;
  guint deliveries;
} GstRedisFrame;

static inline void
gst_redis_frame_clear (GstRedisFrame * frame)
{
  gst_clear_buffer (&frame->buffer);
  gst_clear_caps (&frame->caps);
  g_clear_pointer (&frame->id, g_free);
}

G_END_DECLS
#endif /* __GST_REDIS_FRAME_H__ */
