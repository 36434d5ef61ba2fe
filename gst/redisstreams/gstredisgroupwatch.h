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

#ifndef __GST_REDIS_GROUP_WATCH_H__
#define __GST_REDIS_GROUP_WATCH_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstrediskeyunit.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Where redisstreamsrc's consumer group stands in the stream, looked at
 * now and then in the round trip of a read (no round trip of its own):
 * entries trimmed before the group read them, at start and after a
 * reconnect (the gap between the group's last entry and the oldest one
 * still in the stream) and while reading; moves of the group that its
 * reads do not explain (XGROUP SETID); how long the stream keeps an entry;
 * and how the producer trims it (the `retention` field of the stream's
 * `<stream>:info` hash, written by redisstreamsink).
 *
 * A look is XINFO GROUPS and XLEN (a few hundred bytes), sent before a read
 * of new entries at most once a second, and before every read while the
 * group reads entries older than half of what the stream keeps (when a
 * read may jump over trimmed entries). A full look adds XINFO STREAM: at
 * start, after a reconnect, after a move of the group, and after a read
 * whose seq jumped without a look before it. HGET of `<stream>:info` goes
 * with a look at most every 10 s. Touched by the streaming thread only;
 * the stats change under the element's object lock. */

/* An entry id as two numbers. */
typedef struct
{
  guint64 ms;
  guint64 seq;
} GstRedisEntryPos;

#define GST_REDIS_ENTRY_ID_LEN 48

typedef struct
{
  /* entries trimmed before the group read them: the gaps found at start
   * or after a reconnect, and what was trimmed while reading */
  guint64 trimmed_unread;
  /* ms of the stream in the gaps found at start or after a reconnect */
  guint64 trimmed_unread_ms;
  /* such gaps whose number of entries Redis could not tell */
  guint64 trimmed_uncounted;
  /* moves of the group's position its reads do not explain, the entries
   * they skipped (when Redis could tell) and those read again */
  guint64 group_moves;
  guint64 skipped_moved;
  guint64 replayed;
  /* ms an entry stays in the stream, 0 until measured */
  guint retention;
} GstRedisGroupWatchStats;

typedef struct
{
  /* the group as one look saw it */
  GstRedisEntryPos pos;
  gchar id[GST_REDIS_ENTRY_ID_LEN];
  gboolean read_valid, lag_valid, added_valid;
  gint64 read, lag, added, len, consumers;
} GstRedisGroupLook;

typedef struct
{
  /* whose messages and object lock; told about gaps */
  GstElement *element;
  const GstRedisSettings *settings;
  GstRedisKeyUnitGate *gate;

  /* set by gst_redis_group_watch_start () */
  gchar *group;
  gchar *info_key;
  GstRedisCommand cmd;

  /* what Redis lets this user run */
  gboolean enabled, stream_enabled, info_enabled;

  /* the look on its way: replies owed, and which */
  guint owed;
  gboolean sent_full, sent_info;

  /* the first look, at start or after a reconnect, is due (a full one,
   * with XINFO STREAM, like the looks that measure a move or a jump); the
   * group was made by this source */
  gboolean first_due, after_reconnect, group_made;
  gint64 last_look, info_at;
  /* the `retention` field of <stream>:info; read at least once */
  gchar *trimming;
  gboolean trimming_read;

  /* the group at the last look, and this consumer's reads of new entries
   * since: how many, the last one and when it was added */
  gboolean prev_valid;
  GstRedisGroupLook prev;
  guint64 reads;
  gboolean last_read_valid;
  GstRedisEntryPos last_read;
  gchar last_read_id[GST_REDIS_ENTRY_ID_LEN];

  /* this consumer alone moved the group's read counter between the last
   * two looks */
  gboolean alone;
  /* a move forward being measured: the group's read counter before it
   * plus this consumer's reads since, and where it moved from and to */
  gboolean move_pending;
  gint64 move_base;
  GstRedisGroupLook move_from, move_to;
  /* a read that jumped over entries the looks did not count (its seq past
   * the next one, or past the oldest entry the look before it saw): where,
   * the reads from it on, when a jump in seq was last looked at, and
   * whether the last look at a jump found entries lost; the largest seq
   * read */
  gboolean gap_pending;
  GstRedisEntryPos gap_pos;
  guint64 gap_reads;
  gint64 gap_look_at;
  gboolean gap_found;
  gboolean seq_valid;
  guint64 max_seq;
  /* a full look found the group behind the oldest entry (`expected`): the
   * read behind the look returns that entry, unless entries were trimmed
   * between the look and the read (Redis runs other clients' commands in
   * between) */
  gboolean expect_valid;
  GstRedisEntryPos expected;
  /* after a move back: entries up to replay_to are delivered again */
  gboolean replaying;
  GstRedisEntryPos replay_to;
  gchar replay_to_id[GST_REDIS_ENTRY_ID_LEN];
  guint64 replay_count;

  /* entries the group lost to trimming as far as counted (Redis's lag
   * counts them for the group's life), and those not warned about yet */
  gboolean level_valid;
  gint64 level;
  guint64 unwarned;
  gint64 last_warning;

  /* the stream's rate, from entries-added over at least a second */
  gboolean added_valid;
  gint64 added, added_at;
  gboolean retention_new;
  gdouble rate;

  /* under the element's object lock; kept after stop */
  GstRedisGroupWatchStats stats;
} GstRedisGroupWatch;

void gst_redis_group_watch_init (GstRedisGroupWatch * watch,
    GstElement * element, const GstRedisSettings * settings,
    GstRedisKeyUnitGate * gate);
void gst_redis_group_watch_clear (GstRedisGroupWatch * watch);
/* Under the element's object lock, at start. */
void gst_redis_group_watch_reset_stats (GstRedisGroupWatch * watch);
void gst_redis_group_watch_start (GstRedisGroupWatch * watch,
    const gchar * group);
void gst_redis_group_watch_group_made (GstRedisGroupWatch * watch);
void gst_redis_group_watch_connection_lost (GstRedisGroupWatch * watch);
void gst_redis_group_watch_reconnected (GstRedisGroupWatch * watch);

gboolean gst_redis_group_watch_send (GstRedisGroupWatch * watch,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);
gboolean gst_redis_group_watch_read (GstRedisGroupWatch * watch,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);
void gst_redis_group_watch_note_read (GstRedisGroupWatch * watch,
    GstRedisReply * entries);
gboolean gst_redis_group_watch_take_retention (GstRedisGroupWatch * watch,
    guint * retention, gdouble * rate);

G_END_DECLS
#endif /* __GST_REDIS_GROUP_WATCH_H__ */
