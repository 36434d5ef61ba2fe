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

#ifndef __GST_REDIS_TICKET_H__
#define __GST_REDIS_TICKET_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The entry's identity travelling with the buffer, and what decides its
 * fate (docs/redisstreamsrc.md, "Acknowledgements").
 *
 * Every buffer redisstreamsrc pushes carries a GstCustomMeta
 * "GstRedisEntryMeta" (no tags, so filters, converters, encoders, queues
 * and tee keep it; copied for every transform) whose structure
 * "redis-entry" holds the fields `stream`, `group`, `id` (strings) and
 * `ticket` (a GstRedisTicket). Copies of a buffer share the ticket; the
 * entry's fate is decided when its last reference goes:
 *
 *  - a redisstreamsink stored a buffer carrying it: acknowledged (XACK);
 *  - the sink stored it and acknowledged it in the same script
 *    (exactly-once): nothing left to send;
 *  - failed (the "fail" action signal, with a reason): set aside in the
 *    dead-letter stream;
 *  - released without being stored: left pending when a flush came since
 *    it was pushed, when it was never pushed (basesrc dropped it: a flush
 *    began while it was read) or a pipeline is going down (it is read
 *    again); when a
 *    redisstreamsink is known downstream, dropped on purpose (videorate,
 *    QoS, a processor that discards it, an element that does not keep
 *    metas) and acknowledged once something read after it was stored;
 *    otherwise rendered or dropped by the last sink and acknowledged.
 *
 * The GstRedisAckTracker collects these decisions from any thread; only the
 * source's streaming thread talks to Redis: it takes them with each read.
 * It outlives the source while tickets live; tickets of a source that
 * stopped are ignored (their entries stay pending). */

#define GST_REDIS_ENTRY_META_NAME "GstRedisEntryMeta"
#define GST_REDIS_ENTRY_META_STRUCTURE "redis-entry"

typedef struct _GstRedisAckTracker GstRedisAckTracker;
typedef struct _GstRedisStoreMark GstRedisStoreMark;

#define GST_TYPE_REDIS_TICKET (gst_redis_ticket_get_type ())
G_DECLARE_FINAL_TYPE (GstRedisTicket, gst_redis_ticket, GST, REDIS_TICKET,
    GObject);

/* The tracker's counters, kept after stop, reset at start. */
typedef struct
{
  /* acknowledged: stored by a sink; dropped on purpose; released by a sink
   * that does not store (display, fakesink, appsink) */
  guint64 acked_stored;
  guint64 acked_dropped;
  guint64 acked_released;
  /* stored and acknowledged by an exactly-once sink */
  guint64 acked_by_sink;
  /* left pending: released after a flush or while going down */
  guint64 abandoned;
  /* failed by an element or the application (dead-lettered) */
  guint64 failed;
  /* tickets alive right now */
  guint in_flight;
} GstRedisAckStats;

/* A dead letter due: an entry to set aside with its reason. */
typedef struct
{
  gchar *id;
  gchar *reason;
  guint deliveries;
} GstRedisDeadLetter;

void gst_redis_dead_letter_free (GstRedisDeadLetter * dl);

/* Registers "GstRedisEntryMeta" (once; the plugin's shared init). */
const GstMetaInfo *gst_redis_entry_meta_get_info (void);

/* The tracker of one redisstreamsrc. */
GstRedisAckTracker *gst_redis_ack_tracker_new (GstElement * source);
GstRedisAckTracker *gst_redis_ack_tracker_ref (GstRedisAckTracker * tracker);
void gst_redis_ack_tracker_unref (GstRedisAckTracker * tracker);

/* A start: new tickets count from here; @stream, @group and @consumer name
 * the entries in the metas. Resets the counters. */
void gst_redis_ack_tracker_start (GstRedisAckTracker * tracker,
    const gchar * stream, const gchar * group, const gchar * consumer);
/* Before a stop: what is known of the tickets still alive (stored,
 * failed) is decided now. */
void gst_redis_ack_tracker_settle_alive (GstRedisAckTracker * tracker);
/* The pipeline of @source goes from PLAYING to PAUSED: the frames its sinks
 * keep as their last sample were rendered. */
void gst_redis_ack_tracker_note_rendered (GstRedisAckTracker * tracker,
    GstElement * source);
/* A stop: tickets released from now on are ignored. */
void gst_redis_ack_tracker_stop (GstRedisAckTracker * tracker);
/* A flush went downstream: tickets pushed before it and released without
 * being stored stay pending. Any thread. */
void gst_redis_ack_tracker_flush (GstRedisAckTracker * tracker);
guint gst_redis_ack_tracker_get_epoch (GstRedisAckTracker * tracker);
/* The source is flushing (from unlock () or FLUSH_START to unlock_stop ()
 * or FLUSH_STOP): a ticket whose buffer basesrc drops now, before it was
 * pushed, leaves its entry pending to be read again. Any thread. */
void gst_redis_ack_tracker_set_flushing (GstRedisAckTracker * tracker,
    gboolean flushing);
/* A buffer passed the source's pad: the ticket attached last went
 * downstream (a probe on the pad, in the streaming thread). */
void gst_redis_ack_tracker_pushed (GstRedisAckTracker * tracker);

/* Attaches an entry meta with a new ticket for entry @id to @buffer
 * (writable), read @deliveries times so far; @running_time is the
 * buffer's running time in the source's segment (or NONE). */
void gst_redis_ack_tracker_attach (GstRedisAckTracker * tracker,
    GstBuffer * buffer, const gchar * id, guint deliveries,
    GstClockTime running_time);

/* Streaming thread of the source. Appends the entries whose
 * acknowledgement is due to @ids (strings, taken by the array). Returns
 * the number appended. */
guint gst_redis_ack_tracker_take_acks (GstRedisAckTracker * tracker,
    GPtrArray * ids);
/* The next dead letter due, NULL when none. */
GstRedisDeadLetter *gst_redis_ack_tracker_pop_dead_letter (GstRedisAckTracker *
    tracker);
/* Queues a dead letter for an entry the source itself sets aside. Takes
 * @reason. */
void gst_redis_ack_tracker_dead_letter (GstRedisAckTracker * tracker,
    const gchar * id, gchar * reason, guint deliveries);
gboolean gst_redis_ack_tracker_has_dead_letters (GstRedisAckTracker * tracker);
/* TRUE while some ticket is alive or some decision waits to be sent: reads
 * should not block long. */
gboolean gst_redis_ack_tracker_busy (GstRedisAckTracker * tracker);
/* TRUE once after a flush or an abandoned ticket: the source's own pending
 * entries are to be read again. */
gboolean gst_redis_ack_tracker_take_reread (GstRedisAckTracker * tracker);
/* TRUE when entry @id is held here (a ticket alive, or a decision not sent
 * yet): a re-read or a claim must not push it again. */
gboolean gst_redis_ack_tracker_holds (GstRedisAckTracker * tracker,
    const gchar * id);
/* This source read entry @id again itself (after a flush, a reconnect, a
 * claim of its own entry), which raised its delivery count; returns how
 * many times it did so in this session, this one included. */
guint gst_redis_ack_tracker_count_reread (GstRedisAckTracker * tracker,
    const gchar * id);
guint gst_redis_ack_tracker_get_rereads (GstRedisAckTracker * tracker,
    const gchar * id);
void gst_redis_ack_tracker_get_stats (GstRedisAckTracker * tracker,
    GstRedisAckStats * stats);

/* A redisstreamsink's mark: what it last stored, and whether it is going
 * down. Refcounted; the sink owns one. */
GstRedisStoreMark *gst_redis_store_mark_new (void);
GstRedisStoreMark *gst_redis_store_mark_ref (GstRedisStoreMark * mark);
void gst_redis_store_mark_unref (GstRedisStoreMark * mark);
/* The sink stored a buffer of @running_time (NONE: not known) that
 * carried no ticket (@untracked). */
void gst_redis_store_mark_stored (GstRedisStoreMark * mark,
    GstClockTime running_time, gboolean untracked);
void gst_redis_store_mark_set_down (GstRedisStoreMark * mark, gboolean down);

/* The source answered a sink's query: that sink (@mark) is downstream of
 * it; @same_pipeline when both run on one clock. */
void gst_redis_ack_tracker_add_mark (GstRedisAckTracker * tracker,
    GstRedisStoreMark * mark, gboolean same_pipeline);

/* The tickets of a buffer: calls @func for each entry meta's ticket. */
typedef void (*GstRedisTicketFunc) (GstRedisTicket * ticket,
    gpointer user_data);
guint gst_redis_buffer_foreach_ticket (GstBuffer * buffer,
    GstRedisTicketFunc func, gpointer user_data);

/* What a sink does with a ticket. */
void gst_redis_ticket_stored (GstRedisTicket * ticket,
    GstRedisStoreMark * mark);
/* Stored and acknowledged in the same script; FALSE when another
 * exactly-once sink did so already (two of them behind a tee). */
gboolean gst_redis_ticket_acked (GstRedisTicket * ticket,
    GstRedisStoreMark * mark);
void gst_redis_ticket_fail (GstRedisTicket * ticket, const gchar * reason);
const gchar *gst_redis_ticket_get_id (GstRedisTicket * ticket);
const gchar *gst_redis_ticket_get_stream (GstRedisTicket * ticket);
const gchar *gst_redis_ticket_get_group (GstRedisTicket * ticket);
GstRedisAckTracker *gst_redis_ticket_get_tracker (GstRedisTicket * ticket);

G_END_DECLS
#endif /* __GST_REDIS_TICKET_H__ */
