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

#ifndef __GST_REDIS_READ_LOOP_H__
#define __GST_REDIS_READ_LOOP_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstredisentry.h"
#include "gstredisframe.h"
#include "gstredisgroup.h"
#include "gstredisgroupwatch.h"
#include "gstredisinfo.h"
#include "gstrediskeyunit.h"
#include "gstredismetrics.h"
#include "gstredisoutage.h"
#include "gstredisticket.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* How redisstreamsrc reads: XREADGROUP (its own pending entries first,
 * then new ones), each entry decoded into a frame or skipped, with what
 * is due pipelined in the same round trip (the group's acknowledgements,
 * looks at the group's position, key frame requests to the producer); a
 * lost connection is got back here. Touched by the streaming thread only, but for the fields
 * marked otherwise. */

typedef struct
{
  guint64 frames;
  guint64 bytes_received;
  guint64 bytes_out;
  guint64 redelivered;
  guint64 skipped_invalid;
  /* of those: payloads that do not match their caps, names beyond the
   * budget of new names */
  guint64 skipped_size;
  guint64 skipped_names;
  guint64 skipped_late;
  /* frames pushed without a seq (buffer offset NONE) */
  guint64 no_seq;
  guint64 key_unit_requests;
  guint64 dead_lettered;
  guint64 reread_skipped;
  gchar *last_id;
  /* ms from capture time to the moment a frame was read */
  gdouble latency_last;
  gdouble latency_sum;
  guint64 latency_n;
  gdouble latency_max;
} GstRedisReadStats;

typedef struct
{
  /* whose messages and object lock; the group read in; told about gaps */
  GstElement *element;
  const GstRedisSettings *settings;
  GstRedisGroup *group;
  GstRedisKeyUnitGate *gate;
  /* the element's metrics reports, sent with the reads (or NULL) */
  GstRedisMetrics *metrics;
  /* the group's position in the stream */
  GstRedisGroupWatch watch;
  /* the source's acknowledgement tracker (gstredisticket.h) */
  GstRedisAckTracker *tracker;

  /* max-age (ms), under the element's object lock: it changes while
   * playing */
  guint max_age;

  /* set by gst_redis_read_loop_configure () */
  guint block;
  guint count;
  guint64 max_frame_size;
  gboolean request_key_units;
  gchar *key_unit_channel;
  /* ack-mode=done: frames carry tickets; entries delivered this many times
   * without being acknowledged are dead-lettered (0: never); where */
  gboolean track;
  guint max_deliveries;
  gchar *dead_letter_stream;
  guint dead_letter_maxlen;

  /* between start and stop; conn is set and cleared under the element's
   * object lock */
  GstRedisConnection *conn;
  GstRedisEntryDecoder *decoder;
  /* where version 2 entries' caps are looked up; where those of dead
   * letters are copied (made with the first dead letter) */
  GstRedisInfo *info;
  GstRedisInfo *dead_letter_info;
  GstRedisCommand cmd;
  GstRedisOutage outage;
  /* "0"-based id while re-reading our own pending entries, then NULL;
   * whether this re-read is the one at start (a new delivery) or one after
   * a flush or a reconnect (this source's own doing) */
  gchar *history_id;
  /* group-less reading (gstredisrange.c): XREAD after this id, which
   * follows every entry read; nothing of the group is sent */
  gboolean group_less;
  gchar *cursor;
  gboolean history_at_start;
  /* entry id -> delivery count (XPENDING) of the entries about to be
   * decoded, while re-reading own pending entries or after a claim */
  GHashTable *deliveries;
  gboolean claimed_entries;
  /* dead letters: warnings rate-limited */
  gint64 last_dead_letter_warning;
  guint64 dead_letters_unwarned;
  /* the XREADGROUP whose reply has not been read yet (after a flush) */
  gboolean read_in_flight;
  /* BLOCK of the next XREADGROUP, ms */
  guint read_block;
  /* entries of the last reply not decoded yet (count > 1, or claimed) */
  GstRedisReplyRef *reply;
  GstRedisReply *entries;
  gsize reply_index;
  /* a PUBLISH asking the producer for a key frame is due; PUBLISHes whose
   * replies have not been read */
  gboolean key_unit_publish_due;
  guint publishes_in_flight;

  /* under the element's object lock; kept after stop */
  GstRedisReadStats stats;
} GstRedisReadLoop;

void gst_redis_read_loop_init (GstRedisReadLoop * loop, GstElement * element,
    const GstRedisSettings * settings, GstRedisGroup * group,
    GstRedisKeyUnitGate * gate);
void gst_redis_read_loop_clear (GstRedisReadLoop * loop);
/* Under the element's object lock, at start: resets the stats. */
void gst_redis_read_loop_configure (GstRedisReadLoop * loop, guint block,
    guint count, guint64 max_frame_size, gboolean request_key_units);
/* Under the element's object lock, at start, after the above. */
void gst_redis_read_loop_configure_acks (GstRedisReadLoop * loop,
    GstRedisAckTracker * tracker, gboolean track, guint max_deliveries,
    const gchar * dead_letter_stream, guint dead_letter_maxlen);
gboolean gst_redis_read_loop_start (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error);
void gst_redis_read_loop_stop (GstRedisReadLoop * loop);
void gst_redis_read_loop_finish (GstRedisReadLoop * loop,
    GCancellable * cancellable);
gboolean gst_redis_read_loop_is_connected (GstRedisReadLoop * loop);

gboolean gst_redis_read_loop_next (GstRedisReadLoop * loop,
    GCancellable * cancellable, GstRedisFrame * frame, GError ** error);
gboolean gst_redis_read_loop_next_within (GstRedisReadLoop * loop,
    GCancellable * cancellable, gint64 wait_us, GstRedisFrame * frame,
    GError ** error);

/* Group-less reading (gstredisrange.h): the next XREAD reads the entries
 * after @id; a read or entries still on their way are dropped (a reply
 * owed is not waited for: the connection is made again). */
gboolean gst_redis_read_loop_set_cursor (GstRedisReadLoop * loop,
    const gchar * id, GCancellable * cancellable, GError ** error);
/* Decodes one entry of a reply ([id, [field, value, ...]]) as the read
 * loop does, without counting or skipping it: FALSE with @error for an
 * entry that is not a frame (a GST_REDIS_ENTRY_ERROR), or when Redis could
 * not be asked for the caps of a version 2 entry. @owner holds the reply
 * the buffer points into. */
gboolean gst_redis_read_loop_decode (GstRedisReadLoop * loop,
    GstRedisReply * entry, GstRedisReplyRef * owner,
    GCancellable * cancellable, GstRedisFrame * frame, GError ** error);

gboolean gst_redis_read_loop_can_ask_key_unit (GstRedisReadLoop * loop);
void gst_redis_read_loop_ask_key_unit (GstRedisReadLoop * loop);

G_END_DECLS
#endif /* __GST_REDIS_READ_LOOP_H__ */
