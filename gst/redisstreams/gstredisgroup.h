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

#ifndef __GST_REDIS_GROUP_H__
#define __GST_REDIS_GROUP_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstrediskeyunit.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The consumer-group side of redisstreamsrc: the group made when missing
 * and again when it disappears, the acknowledgements (XACK, pipelined with
 * the next read), the entries of dead consumers taken over (XAUTOCLAIM)
 * after claim-idle-time, which follows how long the stream keeps an entry
 * when it is not set (the group's position is looked at by
 * gstredisgroupwatch.c).
 *
 * Commands go out on the connection of the read loop, which calls the
 * send and read functions in the order of its round trip. Touched by the
 * streaming thread only; the stats change under the element's object
 * lock. */

/* claim-idle-time's default, and the most it follows the stream to */
#define GST_REDIS_GROUP_DEFAULT_CLAIM_IDLE_TIME 30000

typedef struct
{
  guint64 skipped_deleted;
  guint64 claimed;
  /* ms after which other consumers' entries are taken over, in use */
  guint claim_idle;
} GstRedisGroupStats;

typedef struct
{
  /* whose messages and object lock; told about gaps */
  GstElement *element;
  const GstRedisSettings *settings;
  GstRedisKeyUnitGate *gate;

  /* set by gst_redis_group_configure () */
  gchar *name;
  gchar *consumer;
  gchar *start_id;
  guint count;
  gboolean claim_idle_auto;

  GstRedisCommand cmd;

  /* the entry pushed last, acknowledged once its push returned OK; the
   * entries to acknowledge with the next read; XACKs whose replies have
   * not been read */
  gchar *pushed_id;
  GPtrArray *ack_now;
  guint acks_in_flight;

  gint64 last_claim;
  gchar *claim_cursor;
  gboolean claim_idle_warned;

  /* largest entry id read so far: where a group that disappeared is made
   * again */
  gchar *read_pos;
  gboolean read_pos_valid;
  guint64 read_pos_ms, read_pos_seq;

  /* under the element's object lock; kept after stop */
  GstRedisGroupStats stats;
} GstRedisGroup;

void gst_redis_group_init (GstRedisGroup * group, GstElement * element,
    const GstRedisSettings * settings, GstRedisKeyUnitGate * gate);
void gst_redis_group_clear (GstRedisGroup * group);
/* Under the element's object lock, at start: resets the stats. */
void gst_redis_group_configure (GstRedisGroup * group, const gchar * name,
    const gchar * consumer, const gchar * start_id, guint count,
    guint claim_idle_time, gboolean claim_idle_time_set);
gboolean gst_redis_group_validate (GstRedisGroup * group, GError ** error);
void gst_redis_group_start (GstRedisGroup * group);
void gst_redis_group_stop (GstRedisGroup * group);
void gst_redis_group_connection_lost (GstRedisGroup * group);

gboolean gst_redis_group_create (GstRedisGroup * group,
    GstRedisConnection * conn, const gchar * start_id,
    GCancellable * cancellable, GError ** error);
gboolean gst_redis_group_recreate (GstRedisGroup * group,
    GstRedisConnection * conn, const GError * nogroup,
    GCancellable * cancellable, GError ** error);
void gst_redis_group_note_read (GstRedisGroup * group, GstRedisReply * entries);

void gst_redis_group_acknowledge (GstRedisGroup * group, gchar * id);
void gst_redis_group_set_pushed (GstRedisGroup * group, gchar * id);
void gst_redis_group_settle_push (GstRedisGroup * group, GstFlowReturn last);
gboolean gst_redis_group_send_acks (GstRedisGroup * group,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);
gboolean gst_redis_group_read_acks (GstRedisGroup * group,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);

void gst_redis_group_count_deleted (GstRedisGroup * group, guint64 n);
gboolean gst_redis_group_claim (GstRedisGroup * group,
    GstRedisConnection * conn, GCancellable * cancellable,
    GstRedisReply ** claimed, GError ** error);

void gst_redis_group_follow_retention (GstRedisGroup * group,
    guint retention, gdouble rate);

gboolean gst_redis_group_leave (GstRedisGroup * group,
    GstRedisConnection * conn);

gboolean gst_redis_entry_id_is_valid (const gchar * id);
/* "<ms>-<seq>" (or "<ms>", seq 0) as two numbers; FALSE if not an id */
gboolean gst_redis_entry_id_parse (const gchar * id, guint64 * ms,
    guint64 * seq);

G_END_DECLS
#endif /* __GST_REDIS_GROUP_H__ */
