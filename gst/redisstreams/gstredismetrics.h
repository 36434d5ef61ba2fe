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

#ifndef __GST_REDIS_METRICS_H__
#define __GST_REDIS_METRICS_H__

#include <gst/gst.h>
#include "gstredisconnection.h"
#include "gstrediscommand.h"
#include "gstredisreader.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* An element's report into Redis for pipelines/exporter (docs/monitoring.md):
 * every metrics-interval, its `stats` structure, a histogram of the latency
 * from capture and its labels (host, pid, pipeline, element, stream, group,
 * consumer, db) as one JSON value, written with
 * `SET gst-redis:metrics:{<stream>}:<host>:<pid>:<pipeline>:<element> <json>
 * PX <3 intervals>` on the element's own connection, sent with a command the
 * element sends anyway (the source's XREADGROUP, the sink's XADD) and its
 * reply read before that command's: no round trip and no connection of its
 * own. The key expires when the element stops reporting, so a stage that
 * died disappears from the exporter. The `{<stream>}` hash tag keeps the key
 * in the stream's slot of a Redis Cluster.
 *
 * Touched by the streaming thread only, but for the interval, which the
 * element sets under its object lock. */

#define GST_REDIS_METRICS_DEFAULT_INTERVAL 5000
#define GST_REDIS_METRICS_KEY_PREFIX "gst-redis:metrics:"
/* how long the last report of a consumer that stays in its group lives, ms */
#define GST_REDIS_METRICS_STOPPED_KEEP (24 * 3600 * 1000)
/* upper bounds of the latency histogram's buckets, ms (+Inf is implied) */
#define GST_REDIS_METRICS_N_BUCKETS 14
#define GST_REDIS_METRICS_DEFAULT_TRACE_INTERVAL 1000
/* distinct stages of traces one element accounts for; more go to "other" */
#define GST_REDIS_METRICS_MAX_STAGES 16

/* One stage of the traced frames' way (docs/monitoring.md): the time from
 * the stamp before (or the capture) to a stamp of this name. */
typedef struct
{
  gchar *name;
  gdouble sum;                  /* ms */
  guint64 count;
} GstRedisMetricsStage;

/* The newest traced frame an element wrote or read. */
typedef struct
{
  gchar *stamps;                /* JSON */
  gchar *id;
  guint64 seq;
  gint64 capture;               /* ns, -1: none */
} GstRedisMetricsTrace;

typedef struct
{
  GstElement *element;
  const GstRedisSettings *settings;
  /* "src" or "sink" */
  const gchar *kind;

  /* the properties, under the element's object lock */
  guint interval;
  guint trace_interval;

  /* between start and the next start */
  guint active_interval;
  gboolean enabled;
  gchar *key;
  gchar *group;
  gchar *consumer;
  gchar *pipeline;
  gint64 started;               /* real time, us */
  gint64 next_report;           /* monotonic, us */
  guint ttl;                    /* ms */
  /* the SET whose reply has not been read, on which connection */
  gboolean in_flight;
  GstRedisNode *in_flight_node;
  guint in_flight_serial;
  gboolean warned;
  GstRedisCommand cmd;

  /* latency from capture, cumulative per bucket (the last is +Inf) */
  guint64 buckets[GST_REDIS_METRICS_N_BUCKETS + 1];
  gdouble latency_sum;          /* ms */

  /* tracing: a sink starts a trace every trace-interval; a source accounts
   * the stages of the traces it reads */
  guint active_trace_interval;
  gint64 next_trace;            /* monotonic, us */
  guint64 traces_started;
  guint64 traces_invalid;
  GstRedisMetricsStage stages[GST_REDIS_METRICS_MAX_STAGES];
  guint n_stages;
  GstRedisMetricsTrace last_trace;
  /* a sink's trace of the frame being written, until it is stored */
  GstBuffer *writing;
  gchar *writing_stamps;
} GstRedisMetrics;

void gst_redis_metrics_init (GstRedisMetrics * metrics, GstElement * element,
    const GstRedisSettings * settings, const gchar * kind);
void gst_redis_metrics_clear (GstRedisMetrics * metrics);
void gst_redis_metrics_install_property (GObjectClass * klass, guint prop_id);

/* At start (outside the object lock): the labels and the key; resets the
 * histogram. @group and @consumer are NULL for a sink; @quiet_ms is the
 * longest the element goes without a command while it is well (a source's
 * block), which the key's lifetime covers. */
void gst_redis_metrics_start (GstRedisMetrics * metrics, const gchar * group,
    const gchar * consumer, guint quiet_ms);

/* No reports until the next start, whatever metrics-interval says. */
void gst_redis_metrics_disable (GstRedisMetrics * metrics);

/* Sends the report when one is due, before the command it travels with.
 * NULL-safe. */
gboolean gst_redis_metrics_send (GstRedisMetrics * metrics,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);
/* 1 when the reply of the report sent last is owed on @conn, else 0. */
guint gst_redis_metrics_owed (GstRedisMetrics * metrics,
    GstRedisConnection * conn);
/* Reads the reply of the report sent last, if it is owed on @conn. */
gboolean gst_redis_metrics_read_reply (GstRedisMetrics * metrics,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error);

/* At stop: the last report, marked stopped (one round trip). With @stays
 * (a consumer that stays in its group, with entries pending) it is kept
 * GST_REDIS_METRICS_STOPPED_KEEP, so that monitors show that consumer as
 * stopped, not dead. NULL-safe. */
void gst_redis_metrics_stop (GstRedisMetrics * metrics,
    GstRedisConnection * conn, gboolean stays);

/* A frame's latency from capture, ms. NULL-safe. */
void gst_redis_metrics_observe_latency (GstRedisMetrics * metrics,
    gdouble latency_ms);
/* A sink stored @buffer as entry @id: its latency, its trace. */
void gst_redis_metrics_observe_stored (GstRedisMetrics * metrics,
    GstBuffer * buffer, const gchar * id);

/* redisstreamsink's trace-interval property. */
void gst_redis_metrics_install_trace_property (GObjectClass * klass,
    guint prop_id);
/* A source decoded entry @id, of field/value pairs @values, into @buffer:
 * its trace field, if any, with this read's stamp, goes onto the buffer and
 * into the stages. */
void gst_redis_metrics_trace_read (GstRedisMetrics * metrics,
    const GstRedisReply * values, const gchar * id, GstBuffer * buffer);
/* A sink encoded @buffer into @entry: the trace field, when the buffer
 * carries a trace or one is due, with this write's stamp. */
void gst_redis_metrics_trace_write (GstRedisMetrics * metrics,
    GstBuffer * buffer, GstRedisCommand * entry);

/* The JSON report as it would be sent now (tests, the monitor's view). */
gchar *gst_redis_metrics_build_report (GstRedisMetrics * metrics);

G_END_DECLS
#endif /* __GST_REDIS_METRICS_H__ */
