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

#ifndef __GST_REDIS_WRITER_H__
#define __GST_REDIS_WRITER_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstredisentry.h"
#include "gstredisinfo.h"
#include "gstredisretention.h"
#include "gstredismetrics.h"
#include "gstredisticket.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* How redisstreamsink stores one frame: the entry encoded and the XADD
 * built with the trimming that the first bound reached asks for (count,
 * age, or the byte budget of gstredisretention.c), in the same command;
 * then sent and its reply checked, a connection Redis closed replaced and
 * a redirection followed. Each attempt is the caller's, which decides what
 * a cancelled one means (a sink waits for preroll). Streaming thread only;
 * the stats change under the element's object lock. */

/* The sink's properties a write uses; they change while playing. */
typedef struct
{
  guint maxlen;
  guint64 max_bytes;
  guint retention;
  GstRedisCompression compression;
  gint lz4_acceleration;
} GstRedisWriteOptions;

/* Where the write of one frame stands, across attempts. */
typedef struct
{
  /* the frame, and the options read for it (the XADD may be built again) */
  GstBuffer *buffer;
  const GstMapInfo *map;
  GstRedisWriteOptions options;
  guint64 seq;
  /* payload bytes in, and written to Redis */
  gsize size;
  gsize wire_size;
  /* the XADD is on its way (its reply not read yet) */
  gboolean sent;
  /* the connection was opened for this frame; it was resent once; the
   * connection is being replaced after Redis closed it */
  gboolean fresh, resent, replacing;
  guint redirects;
  /* exactly-once: stored by the script; the script found its input
   * entries acknowledged already (nothing added); Redis did not know the
   * script (sent again with EVAL) */
  gboolean script;
  gboolean suppressed;
  gboolean noscript;
} GstRedisWrite;

typedef struct
{
  guint64 frames;
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 errors;
  /* connections replaced after Redis closed them while idle */
  guint64 stale_reconnects;
  gchar *last_id;
  /* the connection as of the last exchange with Redis, and when that was
   * (g_get_real_time (), us; 0 before the first) */
  gboolean connected;
  gint64 last_command_time;
} GstRedisWriteStats;

/* Which bound trimmed the stream at an XADD, as redisstreamsink publishes
 * it in the `retention` field of the stream's `<stream>:info` hash. */
typedef enum
{
  GST_REDIS_TRIM_NONE,
  GST_REDIS_TRIM_COUNT,
  GST_REDIS_TRIM_AGE,
  GST_REDIS_TRIM_BYTES,
} GstRedisTrimKind;

typedef struct
{
  /* whose object lock guards the stats and conn */
  GstElement *element;
  const GstRedisSettings *settings;
  /* the element's metrics reports, sent with the XADDs (or NULL) */
  GstRedisMetrics *metrics;

  /* between start and stop; conn is cleared under the object lock */
  GstRedisConnection *conn;
  GstRedisEntryEncoder *encoder;
  /* version 2: <stream>:info, and the caps ids stored there since conn
   * was last opened (gst_redis_connection_get_opens ()) */
  GstRedisInfo *info;
  GHashTable *stored_ids;
  guint stored_opens;
  GstRedisCommand cmd;
  GstRedisCommand entry;
  /* exactly-once: the script's keys and arguments before the XADD's, and
   * the XADD's own (trimming, id, entry); the input streams for messages */
  GstRedisCommand script_args;
  GstRedisCommand xadd_args;
  gchar *inputs;
  /* what the sink wrote, to trim by size; the bounds of the last XADD */
  GstRedisRetention *kept;
  guint64 entry_cost;
  guint64 trim_maxlen;
  guint64 trim_max_bytes;
  guint64 next_seq;
  gint64 last_summary;
  /* the bound that trims at the XADD being built, and the one published
   * in <stream>:info and when; publishing stops when Redis refuses it */
  GstRedisTrimKind trim_kind;
  guint64 trim_value;
  gboolean publish_enabled, published_valid;
  GstRedisTrimKind published_kind;
  guint64 published_value;
  gint64 published_at;
  GstRedisCommand info_cmd;

  /* under the element's object lock; kept after stop */
  GstRedisWriteStats stats;
} GstRedisWriter;

void gst_redis_writer_init (GstRedisWriter * writer, GstElement * element,
    const GstRedisSettings * settings);
void gst_redis_writer_clear (GstRedisWriter * writer);
/* Under the element's object lock, at start. */
void gst_redis_writer_reset_stats (GstRedisWriter * writer);
gboolean gst_redis_writer_start (GstRedisWriter * writer, guint version,
    GCancellable * cancellable, GError ** error);
void gst_redis_writer_stop (GstRedisWriter * writer);
gboolean gst_redis_writer_set_caps (GstRedisWriter * writer, GstCaps * caps,
    const gchar ** why);
void gst_redis_writer_note_command (GstRedisWriter * writer);

gboolean gst_redis_writer_prepare (GstRedisWriter * writer,
    GstBuffer * buffer, const GstMapInfo * map,
    const GstRedisWriteOptions * options, GstRedisWrite * w, GError ** error);
/* Like gst_redis_writer_prepare (), for exactly-once: one script adds the
 * entry only if one of the input entries of @tickets (GstRedisTicket) is
 * still pending, and acknowledges them in the same step. */
gboolean gst_redis_writer_prepare_exactly_once (GstRedisWriter * writer,
    GstBuffer * buffer, const GstMapInfo * map,
    const GstRedisWriteOptions * options, GPtrArray * tickets,
    GstRedisWrite * w, GError ** error);
gboolean gst_redis_writer_attempt (GstRedisWriter * writer, GstRedisWrite * w,
    GCancellable * cancellable, GError ** error);
gboolean gst_redis_writer_should_resend (GstRedisWriter * writer,
    GstRedisWrite * w, const GError * err);
void gst_redis_writer_commit (GstRedisWriter * writer, GstRedisWrite * w);

G_END_DECLS
#endif /* __GST_REDIS_WRITER_H__ */
