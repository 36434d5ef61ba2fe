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

/* An element's metrics report into Redis (gstredismetrics.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredismetrics.h"
#include "gstredisdebug.h"
#include "gstredisstreamselements.h"
#include "gstredistrace.h"
#include "gstframemeta.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define GST_CAT_DEFAULT gst_redis_metrics_debug

/* The report lives this many intervals: one or two lost reports (a busy
 * moment, a reconnect) do not make a stage disappear, a dead one goes
 * within seconds. */
#define TTL_INTERVALS 3

/* Version of the report's JSON layout (docs/monitoring.md). */
#define REPORT_VERSION 1

static const gdouble bucket_ms[GST_REDIS_METRICS_N_BUCKETS] = {
  0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000
};

void
gst_redis_metrics_init (GstRedisMetrics * metrics, GstElement * element,
    const GstRedisSettings * settings, const gchar * kind)
{
  memset (metrics, 0, sizeof (*metrics));
  metrics->element = element;
  metrics->settings = settings;
  metrics->kind = kind;
  metrics->interval = GST_REDIS_METRICS_DEFAULT_INTERVAL;
  metrics->trace_interval = GST_REDIS_METRICS_DEFAULT_TRACE_INTERVAL;
  gst_redis_command_init (&metrics->cmd);
}

static void
metrics_clear_traces (GstRedisMetrics * metrics)
{
  guint i;

  for (i = 0; i < metrics->n_stages; i++)
    g_clear_pointer (&metrics->stages[i].name, g_free);
  memset (metrics->stages, 0, sizeof (metrics->stages));
  metrics->n_stages = 0;
  g_clear_pointer (&metrics->last_trace.stamps, g_free);
  g_clear_pointer (&metrics->last_trace.id, g_free);
  g_clear_pointer (&metrics->writing_stamps, g_free);
  metrics->writing = NULL;
  metrics->traces_started = metrics->traces_invalid = 0;
}

void
gst_redis_metrics_clear (GstRedisMetrics * metrics)
{
  g_clear_pointer (&metrics->key, g_free);
  g_clear_pointer (&metrics->group, g_free);
  g_clear_pointer (&metrics->consumer, g_free);
  g_clear_pointer (&metrics->pipeline, g_free);
  metrics_clear_traces (metrics);
  gst_redis_command_clear (&metrics->cmd);
}

void
gst_redis_metrics_install_property (GObjectClass * klass, guint prop_id)
{
  /**
   * GstRedisStreamSink:metrics-interval:
   *
   * Every this many milliseconds the element writes its `stats`, a
   * histogram of the latency from capture and its labels (host, process,
   * pipeline, element, stream, group, consumer) into Redis, as the JSON
   * value of the key `gst-redis:metrics:{<stream>}:<host>:<pid>:<pipeline>:<element>`,
   * which expires after three intervals. `pipelines/exporter` serves these
   * reports, and the state of the streams and groups, to Prometheus. The
   * `SET` goes out on the element's connection
   * together with a command it sends anyway (the source's `XREADGROUP`,
   * the sink's `XADD`): no round trip and no connection of its own; a sink
   * reports only while frames come. The user's ACL rules must allow it
   * (`+set` on `%W~gst-redis:metrics:*`); without them
   * the element warns once and goes on without reporting. 0 turns the
   * reports off.
   *
   * Since: 1.0
   */
  /**
   * GstRedisStreamSrc:metrics-interval:
   *
   * As #GstRedisStreamSink:metrics-interval: the reports of this source,
   * written with its reads (at least every #GstRedisStreamSrc:block while
   * no entry comes). A replay (#GstRedisStreamSrc:start set) never
   * reports: it leaves nothing in Redis.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, prop_id,
      g_param_spec_uint ("metrics-interval", "Metrics Interval",
          "Write the stats into Redis for pipelines/exporter every this many "
          "milliseconds (key gst-redis:metrics:..., expires after three "
          "intervals); 0 turns it off", 0, 3600 * 1000,
          GST_REDIS_METRICS_DEFAULT_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

/* What Redis Cluster hashes of @stream: its hash tag, or all of it. */
static gchar *
metrics_hash_part (const gchar * stream)
{
  const gchar *open = strchr (stream, '{');
  const gchar *close = open ? strchr (open + 1, '}') : NULL;

  if (open && close && close > open + 1)
    return g_strndup (open + 1, close - open - 1);
  return g_strdup (stream);
}

/* The name of the pipeline (the top-level bin) @element is in. */
static gchar *
metrics_pipeline_name (GstElement * element)
{
  GstObject *top = gst_object_ref (GST_OBJECT (element));
  GstObject *parent;
  gchar *name;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  name =
      top == GST_OBJECT (element) ? g_strdup ("") : gst_object_get_name (top);
  gst_object_unref (top);
  return name;
}

void
gst_redis_metrics_start (GstRedisMetrics * metrics, const gchar * group,
    const gchar * consumer, guint quiet_ms)
{
  gchar *hash, *name;

  g_clear_pointer (&metrics->key, g_free);
  g_free (metrics->group);
  metrics->group = g_strdup (group);
  g_free (metrics->consumer);
  metrics->consumer = g_strdup (consumer);
  g_free (metrics->pipeline);
  metrics->pipeline = metrics_pipeline_name (metrics->element);
  memset (metrics->buckets, 0, sizeof (metrics->buckets));
  metrics->latency_sum = 0;
  metrics->in_flight = FALSE;
  metrics->warned = FALSE;
  metrics->started = g_get_real_time ();

  metrics_clear_traces (metrics);
  GST_OBJECT_LOCK (metrics->element);
  metrics->active_interval = metrics->interval;
  metrics->active_trace_interval = metrics->trace_interval;
  GST_OBJECT_UNLOCK (metrics->element);
  metrics->next_trace = g_get_monotonic_time ();
  metrics->enabled = metrics->active_interval > 0;
  metrics->ttl = MIN ((guint64) TTL_INTERVALS * metrics->active_interval +
      quiet_ms, G_MAXINT);
  /* the first report right away: the stage shows up as it starts */
  metrics->next_report = g_get_monotonic_time ();
  if (!metrics->enabled)
    return;

  hash = metrics_hash_part (metrics->settings->stream);
  if (strchr (hash, '}')) {
    /* no key can share the stream's cluster slot by a hash tag */
    GST_WARNING_OBJECT (metrics->element, "stream name \"%s\" has a '}' "
        "outside a hash tag: no metrics reports", metrics->settings->stream);
    metrics->enabled = FALSE;
    g_free (hash);
    return;
  }
  name = gst_object_get_name (GST_OBJECT (metrics->element));
  metrics->key = g_strdup_printf (GST_REDIS_METRICS_KEY_PREFIX
      "{%s}:%s:%d:%s:%s", hash, g_get_host_name (), (gint) getpid (),
      metrics->pipeline, name);
  g_free (name);
  g_free (hash);
  GST_DEBUG_OBJECT (metrics->element, "reporting metrics every %u ms to %s",
      metrics->active_interval, metrics->key);
}

void
gst_redis_metrics_disable (GstRedisMetrics * metrics)
{
  metrics->enabled = FALSE;
}

void
gst_redis_metrics_observe_latency (GstRedisMetrics * metrics,
    gdouble latency_ms)
{
  guint i;

  if (metrics == NULL)
    return;
  for (i = 0; i < GST_REDIS_METRICS_N_BUCKETS; i++) {
    if (latency_ms <= bucket_ms[i])
      metrics->buckets[i]++;
  }
  metrics->buckets[GST_REDIS_METRICS_N_BUCKETS]++;
  metrics->latency_sum += latency_ms;
}

static void
metrics_keep_trace (GstRedisMetrics * metrics, gchar * stamps,
    const gchar * id, GstBuffer * buffer)
{
  GstRedisMetricsTrace *last = &metrics->last_trace;

  g_free (last->stamps);
  last->stamps = stamps;
  g_free (last->id);
  last->id = g_strdup (id);
  last->seq = GST_BUFFER_OFFSET (buffer);
  last->capture = gst_frame_meta_get_capture_time (buffer);
}

void
gst_redis_metrics_observe_stored (GstRedisMetrics * metrics,
    GstBuffer * buffer, const gchar * id)
{
  gint64 capture;

  if (metrics == NULL)
    return;
  capture = gst_frame_meta_get_capture_time (buffer);
  if (capture >= 0)
    gst_redis_metrics_observe_latency (metrics,
        (g_get_real_time () * 1000 - capture) / 1e6);
  if (metrics->writing == buffer && metrics->writing_stamps) {
    metrics_keep_trace (metrics, g_steal_pointer (&metrics->writing_stamps),
        id, buffer);
    metrics->writing = NULL;
  }
}

void
gst_redis_metrics_install_trace_property (GObjectClass * klass, guint prop_id)
{
  /**
   * GstRedisStreamSink:trace-interval:
   *
   * Every this many milliseconds the sink starts a trace on the frame it
   * writes, when it is where the frame is captured (a frame without a
   * capture time from upstream): the entry gets a `trace` field with the
   * time it was written, each redisstreamsrc that reads it adds the time
   * it read it, and each redisstreamsink downstream of that source the
   * time it wrote the frame's result, so that one frame's way across
   * processes and hosts can be followed (`pipelines/monitor --trace`, the
   * `gst_redis_src_trace_stage_seconds` metric). Frames
   * that come with a trace from upstream always continue it. 0 starts no
   * trace.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, prop_id,
      g_param_spec_uint ("trace-interval", "Trace Interval",
          "Start a trace (the entry's trace field, continued by every stage "
          "downstream) on one frame every this many milliseconds; 0 starts "
          "none", 0, G_MAXINT, GST_REDIS_METRICS_DEFAULT_TRACE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

/* The stage @name (taken) took @ms more. */
static void
metrics_add_stage (GstRedisMetrics * metrics, gchar * name, gdouble ms)
{
  GstRedisMetricsStage *stage = NULL;
  guint i;

  for (i = 0; i < metrics->n_stages && stage == NULL; i++) {
    if (g_str_equal (metrics->stages[i].name, name))
      stage = &metrics->stages[i];
  }
  if (stage == NULL && metrics->n_stages < GST_REDIS_METRICS_MAX_STAGES - 1) {
    stage = &metrics->stages[metrics->n_stages++];
    stage->name = g_steal_pointer (&name);
  }
  if (stage == NULL) {
    /* a bounded number of labels, whatever the entries say */
    stage = &metrics->stages[GST_REDIS_METRICS_MAX_STAGES - 1];
    if (stage->name == NULL) {
      stage->name = g_strdup ("other");
      metrics->n_stages = GST_REDIS_METRICS_MAX_STAGES;
    }
  }
  stage->sum += ms;
  stage->count++;
  g_free (name);
}

void
gst_redis_metrics_trace_read (GstRedisMetrics * metrics,
    const GstRedisReply * values, const gchar * id, GstBuffer * buffer)
{
  const GstRedisReply *field = NULL;
  JsonArray *stamps;
  const gchar *why;
  gint64 prev;
  guint i, n;

  if (metrics == NULL || values->type != GST_REDIS_REPLY_ARRAY)
    return;
  for (i = 0; i + 1 < values->elements && field == NULL; i += 2) {
    const GstRedisReply *name = values->element[i];

    if (name->type == GST_REDIS_REPLY_STRING &&
        name->len == strlen (GST_REDIS_TRACE_FIELD) &&
        memcmp (name->str, GST_REDIS_TRACE_FIELD, name->len) == 0 &&
        values->element[i + 1]->type == GST_REDIS_REPLY_STRING)
      field = values->element[i + 1];
  }
  if (field == NULL)
    return;
  stamps = gst_redis_trace_parse (field->str, field->len, &why);
  if (stamps == NULL) {
    /* optional: the frame plays, the trace is dropped and counted */
    GST_DEBUG_OBJECT (metrics->element, "entry %s: field \"trace\" is %s: "
        "ignored", id, why);
    metrics->traces_invalid++;
    return;
  }
  gst_redis_trace_append (stamps, TRUE, metrics->settings->stream,
      g_get_real_time () * 1000);
  gst_redis_trace_set (buffer, stamps);

  /* each stamp ends a stage that began at the stamp before, the first one
   * at the capture */
  prev = gst_frame_meta_get_capture_time (buffer);
  n = json_array_get_length (stamps);
  for (i = 0; i < n; i++) {
    const gchar *stream, *host;
    gboolean read;
    gint64 t;

    gst_redis_trace_stamp (stamps, i, &read, &stream, &host, &t);
    if (prev >= 0)
      metrics_add_stage (metrics, g_strdup_printf ("%s %s", read ? "read" :
              "write", stream), (t - prev) / 1e6);
    prev = t;
  }
  metrics_keep_trace (metrics, gst_redis_trace_to_string (stamps), id, buffer);
  json_array_unref (stamps);
}

void
gst_redis_metrics_trace_write (GstRedisMetrics * metrics, GstBuffer * buffer,
    GstRedisCommand * entry)
{
  gint64 now = g_get_monotonic_time ();
  JsonArray *stamps;

  if (metrics == NULL)
    return;
  if (metrics->writing == buffer && metrics->writing_stamps) {
    /* the same frame encoded again (another attempt): the same trace */
    gst_redis_command_add (entry, GST_REDIS_TRACE_FIELD);
    gst_redis_command_add (entry, metrics->writing_stamps);
    return;
  }
  metrics->writing = NULL;
  g_clear_pointer (&metrics->writing_stamps, g_free);
  stamps = gst_redis_trace_get (buffer);
  if (stamps == NULL) {
    /* traces start where frames are captured: a frame that came through
     * Redis (it has a capture time) only continues a trace */
    if (metrics->active_trace_interval == 0 || now < metrics->next_trace ||
        gst_frame_meta_get_capture_time (buffer) >= 0)
      return;
    metrics->next_trace = now + (gint64) metrics->active_trace_interval *
        G_TIME_SPAN_MILLISECOND;
    metrics->traces_started++;
    stamps = json_array_new ();
  }
  gst_redis_trace_append (stamps, FALSE, metrics->settings->stream,
      g_get_real_time () * 1000);
  metrics->writing = buffer;
  metrics->writing_stamps = gst_redis_trace_to_string (stamps);
  json_array_unref (stamps);
  gst_redis_command_add (entry, GST_REDIS_TRACE_FIELD);
  gst_redis_command_add (entry, metrics->writing_stamps);
}

static void
metrics_add_label (JsonBuilder * b, const gchar * name, const gchar * value)
{
  if (value == NULL || *value == '\0')
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static gboolean
metrics_add_field (GQuark field, const GValue * value, gpointer user_data)
{
  JsonBuilder *b = user_data;
  GType type = G_VALUE_TYPE (value);

  json_builder_set_member_name (b, g_quark_to_string (field));
  if (type == G_TYPE_UINT64)
    json_builder_add_int_value (b, (gint64) MIN (g_value_get_uint64 (value),
            G_MAXINT64));
  else if (type == G_TYPE_INT64)
    json_builder_add_int_value (b, g_value_get_int64 (value));
  else if (type == G_TYPE_UINT)
    json_builder_add_int_value (b, g_value_get_uint (value));
  else if (type == G_TYPE_INT)
    json_builder_add_int_value (b, g_value_get_int (value));
  else if (type == G_TYPE_DOUBLE)
    json_builder_add_double_value (b, g_value_get_double (value));
  else if (type == G_TYPE_BOOLEAN)
    json_builder_add_boolean_value (b, g_value_get_boolean (value));
  else if (type == G_TYPE_STRING)
    json_builder_add_string_value (b, g_value_get_string (value));
  else
    json_builder_add_null_value (b);
  return TRUE;
}

/* The traces' part of a report: counts, the stages (seconds), the newest
 * traced frame. */
static void
metrics_add_traces (GstRedisMetrics * metrics, JsonBuilder * b)
{
  GstRedisMetricsTrace *last = &metrics->last_trace;
  guint i;

  json_builder_set_member_name (b, "trace");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "started");
  json_builder_add_int_value (b, metrics->traces_started);
  json_builder_set_member_name (b, "invalid");
  json_builder_add_int_value (b, metrics->traces_invalid);
  json_builder_set_member_name (b, "stages");
  json_builder_begin_array (b);
  for (i = 0; i < metrics->n_stages; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "stage");
    json_builder_add_string_value (b, metrics->stages[i].name);
    json_builder_set_member_name (b, "sum");
    json_builder_add_double_value (b, metrics->stages[i].sum / 1e3);
    json_builder_set_member_name (b, "count");
    json_builder_add_int_value (b, metrics->stages[i].count);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  if (last->stamps) {
    JsonParser *parser = json_parser_new_immutable ();

    json_builder_set_member_name (b, "last");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, last->id);
    if (last->seq != GST_BUFFER_OFFSET_NONE) {
      json_builder_set_member_name (b, "seq");
      json_builder_add_int_value (b, (gint64) MIN (last->seq, G_MAXINT64));
    }
    if (last->capture >= 0) {
      gchar capture[24];

      g_snprintf (capture, sizeof (capture), "%" G_GINT64_FORMAT,
          last->capture);
      json_builder_set_member_name (b, "capture-time");
      json_builder_add_string_value (b, capture);
    }
    if (json_parser_load_from_data (parser, last->stamps, -1, NULL)) {
      json_builder_set_member_name (b, "stamps");
      json_builder_add_value (b,
          json_node_copy (json_parser_get_root (parser)));
    }
    g_object_unref (parser);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
}

static gchar *
metrics_build_report (GstRedisMetrics * metrics, gboolean stopped)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  JsonNode *root;
  GstStructure *stats = NULL;
  gchar *name, *pid, *db, *json;
  guint i;

  g_object_get (metrics->element, "stats", &stats, NULL);
  name = gst_object_get_name (GST_OBJECT (metrics->element));
  pid = g_strdup_printf ("%d", (gint) getpid ());
  db = g_strdup_printf ("db%u", metrics->settings->db);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, REPORT_VERSION);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, metrics->kind);
  json_builder_set_member_name (b, "time");
  json_builder_add_double_value (b, g_get_real_time () / 1e6);
  json_builder_set_member_name (b, "started");
  json_builder_add_double_value (b, metrics->started / 1e6);
  json_builder_set_member_name (b, "interval");
  json_builder_add_double_value (b, metrics->active_interval / 1e3);
  if (stopped) {
    json_builder_set_member_name (b, "stopped");
    json_builder_add_boolean_value (b, TRUE);
  }

  json_builder_set_member_name (b, "labels");
  json_builder_begin_object (b);
  metrics_add_label (b, "host", g_get_host_name ());
  metrics_add_label (b, "pid", pid);
  metrics_add_label (b, "pipeline", metrics->pipeline);
  metrics_add_label (b, "element", name);
  metrics_add_label (b, "db", db);
  metrics_add_label (b, "stream", metrics->settings->stream);
  metrics_add_label (b, "group", metrics->group);
  metrics_add_label (b, "consumer", metrics->consumer);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "stats");
  json_builder_begin_object (b);
  if (stats)
    gst_structure_foreach (stats, metrics_add_field, b);
  json_builder_end_object (b);

  /* Prometheus's histogram: cumulative counts, seconds */
  json_builder_set_member_name (b, "latency");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "le");
  json_builder_begin_array (b);
  for (i = 0; i < GST_REDIS_METRICS_N_BUCKETS; i++) {
    gchar le[G_ASCII_DTOSTR_BUF_SIZE];

    /* as Prometheus's le label: the shortest form */
    json_builder_add_string_value (b, g_ascii_formatd (le, sizeof (le), "%g",
            bucket_ms[i] / 1e3));
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "buckets");
  json_builder_begin_array (b);
  for (i = 0; i <= GST_REDIS_METRICS_N_BUCKETS; i++)
    json_builder_add_int_value (b, metrics->buckets[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sum");
  json_builder_add_double_value (b, metrics->latency_sum / 1e3);
  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, metrics->buckets[GST_REDIS_METRICS_N_BUCKETS]);
  json_builder_end_object (b);
  metrics_add_traces (metrics, b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);

  g_object_unref (gen);
  json_node_unref (root);
  g_object_unref (b);
  if (stats)
    gst_structure_free (stats);
  g_free (name);
  g_free (pid);
  g_free (db);
  return json;
}

gchar *
gst_redis_metrics_build_report (GstRedisMetrics * metrics)
{
  return metrics_build_report (metrics, FALSE);
}

/* The SET of a report into metrics->cmd, living @ttl ms. */
static void
metrics_build_command (GstRedisMetrics * metrics, gboolean stopped, guint ttl)
{
  gchar *json = metrics_build_report (metrics, stopped);

  gst_redis_command_reset (&metrics->cmd);
  gst_redis_command_add (&metrics->cmd, "SET");
  gst_redis_command_add (&metrics->cmd, metrics->key);
  gst_redis_command_add (&metrics->cmd, json);
  gst_redis_command_add (&metrics->cmd, "PX");
  gst_redis_command_add_printf (&metrics->cmd, "%u", ttl);
  g_free (json);
}

/* At stop, on a connection with no reply owed: the last report, marked
 * stopped, so that monitors tell a stage that stopped from one that died
 * (whose report just expires). One round trip; best effort. */
void
gst_redis_metrics_stop (GstRedisMetrics * metrics, GstRedisConnection * conn,
    gboolean stays)
{
  GstRedisReply *reply;
  GError *err = NULL;

  if (metrics == NULL || !metrics->enabled || conn == NULL ||
      !gst_redis_connection_is_open (conn) ||
      gst_redis_node_get_pending (gst_redis_connection_get_node (conn)) > 0)
    return;
  metrics->in_flight = FALSE;
  metrics_build_command (metrics, TRUE, stays ?
      MAX (metrics->ttl, GST_REDIS_METRICS_STOPPED_KEEP) : metrics->ttl);
  reply = gst_redis_connection_call_command (conn, &metrics->cmd, NULL, &err);
  if (reply == NULL) {
    GST_DEBUG_OBJECT (metrics->element, "no last report: %s", err->message);
    g_error_free (err);
    return;
  }
  GST_DEBUG_OBJECT (metrics->element, "last report written to %s",
      metrics->key);
  gst_redis_reply_free (reply);
}

gboolean
gst_redis_metrics_send (GstRedisMetrics * metrics, GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  GstRedisNode *node;
  gint64 now = g_get_monotonic_time ();

  if (metrics == NULL || !metrics->enabled || metrics->in_flight ||
      now < metrics->next_report)
    return TRUE;
  metrics->next_report = now + (gint64) metrics->active_interval *
      G_TIME_SPAN_MILLISECOND;
  metrics_build_command (metrics, FALSE, metrics->ttl);
  if (!gst_redis_connection_send (conn, &metrics->cmd, cancellable, error))
    return FALSE;
  node = gst_redis_connection_get_node (conn);
  metrics->in_flight = TRUE;
  metrics->in_flight_node = node;
  metrics->in_flight_serial = gst_redis_node_get_serial (node);
  GST_LOG_OBJECT (metrics->element, "metrics report sent to %s", metrics->key);
  return TRUE;
}

/* A refused report: said once, and the reports stop when the user may not
 * write them; anything else (maxmemory, a replica) is tried again at the
 * next interval. */
static void
metrics_refused (GstRedisMetrics * metrics, GstRedisConnection * conn,
    GstRedisReply * reply)
{
  if (gst_redis_reply_is_error (reply, "NOPERM")) {
    metrics->enabled = FALSE;
    gst_redis_element_post (metrics->element, metrics->settings,
        GST_MESSAGE_WARNING, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        g_strdup_printf ("Redis at %s does not let this user write the "
            "metrics of this element (SET %s): pipelines/exporter does not "
            "see it. Allow +set on %%W~" GST_REDIS_METRICS_KEY_PREFIX "* in "
            "the user's ACL, or set metrics-interval=0.",
            gst_redis_connection_describe (conn), metrics->key),
        g_strdup (reply->str ? reply->str : ""), GST_REDIS_HERE);
    return;
  }
  if (!metrics->warned) {
    GST_WARNING_OBJECT (metrics->element, "Redis at %s refused the metrics "
        "report (SET %s): %s; trying again every %u ms",
        gst_redis_connection_describe (conn), metrics->key,
        reply->type == GST_REDIS_REPLY_ERROR ? reply->str : "unexpected reply",
        metrics->active_interval);
    metrics->warned = TRUE;
  }
}

guint
gst_redis_metrics_owed (GstRedisMetrics * metrics, GstRedisConnection * conn)
{
  GstRedisNode *node;

  if (metrics == NULL || !metrics->in_flight)
    return 0;
  node = gst_redis_connection_get_node (conn);
  if (node != metrics->in_flight_node ||
      gst_redis_node_get_serial (node) != metrics->in_flight_serial ||
      !gst_redis_node_is_open (node)) {
    /* sent on a connection that is gone: its reply never comes */
    metrics->in_flight = FALSE;
    return 0;
  }
  return 1;
}

gboolean
gst_redis_metrics_read_reply (GstRedisMetrics * metrics,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error)
{
  GstRedisReply *reply;

  if (gst_redis_metrics_owed (metrics, conn) == 0)
    return TRUE;
  reply = gst_redis_connection_read_reply (conn, 0, cancellable, error);
  if (reply == NULL)
    return FALSE;
  metrics->in_flight = FALSE;
  if (reply->type != GST_REDIS_REPLY_STATUS)
    metrics_refused (metrics, conn, reply);
  gst_redis_reply_free (reply);
  return TRUE;
}
