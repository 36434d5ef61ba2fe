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

#ifndef __GST_REDIS_STREAMS_ELEMENTS_H__
#define __GST_REDIS_STREAMS_ELEMENTS_H__

#include <gst/gst.h>
#include "gstredissettings.h"

G_BEGIN_DECLS

void redis_streams_element_init (GstPlugin * plugin);

/* A custom upstream query redisstreamsink sends to learn whether its frames
 * come from a redisstreamsrc, which acknowledges each entry on its stream
 * once the push of its buffer returned OK: a frame the sink did not store
 * must then not return OK. redisstreamsrc answers with its stream and
 * group. Like any custom query it passes filters, converters, encoders and
 * queues on its way upstream. */
GstQuery *gst_redis_ack_query_new (void);
gboolean gst_redis_ack_query_answer (GstQuery * query, const gchar * stream,
    const gchar * group);
gboolean gst_redis_ack_query_parse (GstQuery * query, gchar ** stream,
    gchar ** group);

/* Posts @err (GST_RESOURCE_ERROR, or any other domain as a READ error) as an
 * error or warning message of @element, with the server and stream as
 * details. */
#define GST_REDIS_ELEMENT_POST(element, type, err, settings)              \
  gst_redis_element_post ((GstElement *) (element), type, err, settings,  \
      __FILE__, GST_FUNCTION, __LINE__)
void gst_redis_element_post (GstElement * element, GstMessageType type,
    const GError * err, const GstRedisSettings * settings, const gchar * file,
    const gchar * function, gint line);

GST_ELEMENT_REGISTER_DECLARE (redisstreamsink);
GST_ELEMENT_REGISTER_DECLARE (redisstreamsrc);

G_END_DECLS

#endif /* __GST_REDIS_STREAMS_ELEMENTS_H__ */
