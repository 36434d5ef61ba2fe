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
#include "gstredisticket.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

void redis_streams_element_init (GstPlugin * plugin);

/* A custom upstream query redisstreamsink sends to learn whether its frames
 * come from redisstreamsrc elements, which wait for each frame's fate: a
 * frame the sink did not store must then not return OK. Like any custom
 * query it passes filters, converters, encoders and queues on its way
 * upstream. Each redisstreamsrc it reaches notes the sink's store mark
 * (gstredisticket.h), counts itself in, and lets the query go on to the
 * other sources of an aggregator by not claiming it: the sink reads the
 * answers whatever the query returned. */
GstQuery *gst_redis_ack_query_new (GstElement * sink, GstRedisStoreMark * mark);
/* For a source: FALSE when @query is not the acknowledgement query. Adds
 * @stream and @group (the first source's are kept), @pushed (ack-mode=
 * pushed) and sets @sink and @mark to the asking sink's (refs). */
gboolean gst_redis_ack_query_answer (GstQuery * query, const gchar * stream,
    const gchar * group, gboolean pushed, GstElement ** sink,
    GstRedisStoreMark ** mark);
/* For the sink: the number of sources that answered (0: none), the first
 * one's stream and group, whether any acknowledges once pushed. */
guint gst_redis_ack_query_parse (GstQuery * query, gchar ** stream,
    gchar ** group, gboolean * pushed);

/* The one way the elements post errors, warnings and infos. Every message
 * carries the server and the stream of @settings as details (`server`,
 * `stream`, strings) and the location where the element posts it: its own
 * file, function and line, taken at the call site (GST_REDIS_HERE) and
 * handed down to helpers that post on its behalf (gstredisoutage.c). */
typedef struct
{
  const gchar *file;
  const gchar *function;
  gint line;
} GstRedisSite;

#define GST_REDIS_HERE \
  (&(const GstRedisSite) { __FILE__, GST_FUNCTION, __LINE__ })

/* Takes @text and @debug, either NULL (as gst_element_message_full ()). */
void gst_redis_element_post (GstElement * element,
    const GstRedisSettings * settings, GstMessageType type, GQuark domain,
    gint code, gchar * text, gchar * debug, const GstRedisSite * site);
/* @err's message as the text (GST_RESOURCE_ERROR keeps its code, any other
 * domain is a READ error), the server and stream as the debug text. */
void gst_redis_element_post_error (GstElement * element,
    const GstRedisSettings * settings, GstMessageType type,
    const GError * err, const GstRedisSite * site);

/* Posts @err as an error or warning message of @element (see above). */
#define GST_REDIS_ELEMENT_POST(element, type, err, settings)              \
  gst_redis_element_post_error ((GstElement *) (element), settings, type, \
      err, GST_REDIS_HERE)

/* start () failed with @err: an error message, unless start () was
 * cancelled by a state change away. Takes @err. */
#define GST_REDIS_ELEMENT_START_FAILED(element, err, settings)          \
  gst_redis_element_start_failed ((GstElement *) (element), settings,   \
      err, GST_REDIS_HERE)
void gst_redis_element_start_failed (GstElement * element,
    const GstRedisSettings * settings, GError * err, const GstRedisSite * site);

/* GST_ELEMENT_ERROR (), GST_ELEMENT_WARNING () and GST_ELEMENT_INFO () with
 * the details above: the same arguments after @settings, logged the same
 * way in the caller's debug category. */
#define GST_REDIS_ELEMENT_MESSAGE(el, settings, type, log, what, domain,  \
    code, text, debug)                                                    \
G_STMT_START {                                                            \
  gchar *__txt = _gst_element_error_printf text;                          \
  gchar *__dbg = _gst_element_error_printf debug;                         \
  if (__txt)                                                              \
    log (el, what ": %s", __txt);                                         \
  if (__dbg)                                                              \
    log (el, what ": %s", __dbg);                                         \
  gst_redis_element_post (GST_ELEMENT (el), settings,                     \
      GST_MESSAGE_ ## type, GST_ ## domain ## _ERROR,                     \
      GST_ ## domain ## _ERROR_ ## code, __txt, __dbg, GST_REDIS_HERE);   \
} G_STMT_END
#define GST_REDIS_ELEMENT_ERROR(el, settings, domain, code, text, debug)  \
  GST_REDIS_ELEMENT_MESSAGE (el, settings, ERROR, GST_WARNING_OBJECT,     \
      "error", domain, code, text, debug)
#define GST_REDIS_ELEMENT_WARNING(el, settings, domain, code, text, debug) \
  GST_REDIS_ELEMENT_MESSAGE (el, settings, WARNING, GST_WARNING_OBJECT,    \
      "warning", domain, code, text, debug)
#define GST_REDIS_ELEMENT_INFO(el, settings, domain, code, text, debug)   \
  GST_REDIS_ELEMENT_MESSAGE (el, settings, INFO, GST_INFO_OBJECT, "info", \
      domain, code, text, debug)

GST_ELEMENT_REGISTER_DECLARE (redisstreamsink);
GST_ELEMENT_REGISTER_DECLARE (redisstreamsrc);

G_END_DECLS
#endif /* __GST_REDIS_STREAMS_ELEMENTS_H__ */
