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

#ifndef __GST_REDIS_DEAD_LETTER_H__
#define __GST_REDIS_DEAD_LETTER_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstredisinfo.h"
#include "gstredisticket.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Setting an entry aside: its original fields, untouched (XRANGE), added
 * to the dead-letter stream with the reason, where it came from and who
 * read it (XADD ... MAXLEN ~), then acknowledged on its stream (XACK).
 * XADD before XACK: at worst a second dead letter of one entry, never an
 * entry lost. An entry trimmed meanwhile is recorded without its frame.
 * The extra fields all start with "dead-letter-", which readers ignore: a
 * redisstreamsrc on the dead-letter stream plays them again. For that, the
 * caps of a version 2 entry (an id in the entry, the string in
 * <stream>:info) are copied into <dead-letter-stream>:info under the same
 * id before the XADD; an entry whose caps are not there any more is
 * recorded with a note saying so. */

#define GST_REDIS_DEAD_LETTER_SUFFIX ":dead-letter"

typedef struct
{
  const gchar *stream;
  const gchar *group;
  const gchar *consumer;
  const gchar *dead_letter_stream;
  guint maxlen;
  /* the hashes of the stream and of the dead-letter stream (caps by id) */
  GstRedisInfo *info;
  GstRedisInfo *dead_letter_info;
} GstRedisDeadLetterTarget;

/* What became of a dead letter. */
typedef enum
{
  GST_REDIS_DEAD_LETTER_WRITTEN,
  /* written without the frame: the entry had been trimmed */
  GST_REDIS_DEAD_LETTER_TRIMMED,
  /* written without its caps (@why says why): a version 2 entry whose
   * caps were not in the stream's hash */
  GST_REDIS_DEAD_LETTER_NO_CAPS,
  /* Redis refused (@why says what): the entry stays pending */
  GST_REDIS_DEAD_LETTER_REFUSED,
} GstRedisDeadLetterResult;

/* Returns FALSE with @error when the connection failed (@conn is closed
 * when the connection to a hash was lost, so that the entry, still
 * pending, is read again after reconnecting); nothing else may be in
 * flight on @conn. */
gboolean gst_redis_dead_letter_write (GstRedisConnection * conn,
    const GstRedisDeadLetterTarget * target, const GstRedisDeadLetter * dl,
    GstRedisDeadLetterResult * result, GError ** why,
    GCancellable * cancellable, GError ** error);

G_END_DECLS
#endif /* __GST_REDIS_DEAD_LETTER_H__ */
