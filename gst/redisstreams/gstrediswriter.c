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

/* How redisstreamsink stores one frame (gstrediswriter.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediswriter.h"
#include "gstredisstreamselements.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_sink_debug);
#define GST_CAT_DEFAULT gst_redis_stream_sink_debug

/* How often the INFO summary is logged; the least time between two writes
 * of how the stream is trimmed (a bound that comes and goes with the frame
 * sizes is written at most this often), and before the write is tried
 * again after Redis refused it for a passing reason (OOM). */
#define SUMMARY_INTERVAL (5 * G_TIME_SPAN_SECOND)
#define PUBLISH_INTERVAL G_TIME_SPAN_SECOND
#define PUBLISH_RETRY (10 * G_TIME_SPAN_SECOND)
/* The field of <stream>:info that says how the stream is trimmed. */
#define INFO_FIELD "retention"

void
gst_redis_writer_init (GstRedisWriter * writer, GstElement * element,
    const GstRedisSettings * settings)
{
  writer->element = element;
  writer->settings = settings;
  gst_redis_command_init (&writer->cmd);
  gst_redis_command_init (&writer->entry);
  gst_redis_command_init (&writer->info_cmd);
  gst_redis_command_init (&writer->script_args);
  gst_redis_command_init (&writer->xadd_args);
  writer->kept = gst_redis_retention_new ();
}

void
gst_redis_writer_clear (GstRedisWriter * writer)
{
  gst_redis_command_clear (&writer->cmd);
  gst_redis_command_clear (&writer->entry);
  gst_redis_command_clear (&writer->info_cmd);
  gst_redis_command_clear (&writer->script_args);
  gst_redis_command_clear (&writer->xadd_args);
  g_clear_pointer (&writer->inputs, g_free);
  g_clear_pointer (&writer->kept, gst_redis_retention_free);
  g_clear_pointer (&writer->stats.last_id, g_free);
}

void
gst_redis_writer_reset_stats (GstRedisWriter * writer)
{
  g_free (writer->stats.last_id);
  memset (&writer->stats, 0, sizeof (writer->stats));
  gst_redis_retention_reset (writer->kept);
}

/* Records the state of the connection after an exchange with Redis. The
 * sink talks to Redis only when a frame comes (or to reconnect), so this is
 * all it knows while no frame comes. */
void
gst_redis_writer_note_command (GstRedisWriter * writer)
{
  gboolean open = gst_redis_connection_is_open (writer->conn);

  GST_OBJECT_LOCK (writer->element);
  writer->stats.connected = open;
  writer->stats.last_command_time = g_get_real_time ();
  GST_OBJECT_UNLOCK (writer->element);
}

/* Connects; frames are then written in format @version (1 or 2). */
gboolean
gst_redis_writer_start (GstRedisWriter * writer, guint version,
    GCancellable * cancellable, GError ** error)
{
  writer->conn = gst_redis_connection_new (writer->settings);
  writer->encoder = gst_redis_entry_encoder_new ();
  gst_redis_entry_encoder_set_version (writer->encoder, version);
  writer->info = gst_redis_info_new (writer->settings);
  writer->stored_ids = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  writer->next_seq = 0;
  writer->last_summary = g_get_monotonic_time ();
  writer->publish_enabled = TRUE;
  writer->published_valid = FALSE;
  return gst_redis_connection_open (writer->conn, cancellable, error);
}

void
gst_redis_writer_stop (GstRedisWriter * writer)
{
  GstRedisConnection *conn;

  GST_OBJECT_LOCK (writer->element);
  conn = writer->conn;
  writer->conn = NULL;
  writer->stats.connected = FALSE;
  GST_OBJECT_UNLOCK (writer->element);

  if (conn) {
    GST_INFO_OBJECT (writer->element, "wrote %" G_GUINT64_FORMAT " frames to "
        "stream \"%s\"", writer->stats.frames, writer->settings->stream);
    gst_redis_metrics_stop (writer->metrics, conn, FALSE);
    gst_redis_connection_free (conn);
  }
  g_clear_pointer (&writer->encoder, gst_redis_entry_encoder_free);
  g_clear_pointer (&writer->info, gst_redis_info_free);
  g_clear_pointer (&writer->stored_ids, g_hash_table_unref);
}

gboolean
gst_redis_writer_set_caps (GstRedisWriter * writer, GstCaps * caps,
    const gchar ** why)
{
  return gst_redis_entry_encoder_set_caps (writer->encoder, caps, why);
}

/* The bound that trims the stream at the XADD being built: two numbers
 * kept, nothing written (see writer_publish_trim ()). */
static void
writer_note_trim (GstRedisWriter * writer, GstRedisTrimKind kind,
    const GstRedisWriteOptions * options)
{
  writer->trim_kind = kind;
  switch (kind) {
    case GST_REDIS_TRIM_COUNT:
      writer->trim_value = options->maxlen;
      break;
    case GST_REDIS_TRIM_AGE:
      writer->trim_value = options->retention;
      break;
    case GST_REDIS_TRIM_BYTES:
      writer->trim_value = options->max_bytes;
      break;
    case GST_REDIS_TRIM_NONE:
      writer->trim_value = 0;
      break;
  }
}

/* The exactly-once script (redisstreamsink exactly-once=true). KEYS[1] is
 * the output stream, KEYS[2..] the input streams; ARGV[1] the number of
 * inputs, then for each its group, the number of its entry ids and the
 * ids; then the XADD's arguments. The output entry is added only if one of
 * the input entries is still pending, and they are acknowledged in the
 * same step: nil when they were acknowledged before (a resend after a lost
 * reply, another worker that took the entry over, a restart). Checked
 * first, so that an XADD Redis refuses leaves the inputs pending. */
/* *INDENT-OFF* */
static const gchar exactly_once_script[] =
    "local m = tonumber(ARGV[1])\n"
    "local a = 2\n"
    "local pending = false\n"
    "for i = 1, m do\n"
    "  local n = tonumber(ARGV[a + 1])\n"
    "  for j = a + 2, a + 1 + n do\n"
    "    if #redis.call('XPENDING', KEYS[1 + i], ARGV[a], ARGV[j], ARGV[j], 1)"
    " > 0 then pending = true end\n"
    "  end\n"
    "  a = a + 2 + n\n"
    "end\n"
    "if not pending then return false end\n"
    "local id = redis.call('XADD', KEYS[1], unpack(ARGV, a))\n"
    "a = 2\n"
    "for i = 1, m do\n"
    "  local n = tonumber(ARGV[a + 1])\n"
    "  redis.call('XACK', KEYS[1 + i], ARGV[a], unpack(ARGV, a + 2, a + 1 + n))\n"
    "  a = a + 2 + n\n"
    "end\n"
    "return id\n";
/* *INDENT-ON* */

/* SHA1 of the script, for EVALSHA. */
static const gchar *
writer_script_sha (void)
{
  static gchar *sha = NULL;

  if (g_once_init_enter (&sha)) {
    gchar *s = g_compute_checksum_for_string (G_CHECKSUM_SHA1,
        exactly_once_script, -1);

    g_once_init_leave (&sha, s);
  }
  return sha;
}

/* writer->cmd for the exactly-once script: EVALSHA, or EVAL with the
 * script's text when Redis does not know it (a restart, a failover). */
static void
writer_build_script (GstRedisWriter * writer, gboolean with_text)
{
  gst_redis_command_reset (&writer->cmd);
  gst_redis_command_add (&writer->cmd, with_text ? "EVAL" : "EVALSHA");
  gst_redis_command_add (&writer->cmd, with_text ? exactly_once_script :
      writer_script_sha ());
  gst_redis_command_append (&writer->cmd, &writer->script_args);
  gst_redis_command_append (&writer->cmd, &writer->xadd_args);
}

/* Builds the XADD of one frame into writer->cmd (or, for the script, its
 * arguments into writer->xadd_args): the entry first (trimming by size
 * needs its size), then the command with the trimming that the first bound
 * reached asks for, in the same command. */
static gboolean
writer_build_xadd (GstRedisWriter * writer, GstBuffer * buffer,
    const GstMapInfo * map, const GstRedisWriteOptions * options,
    GstRedisWrite * w, GError ** error)
{
  GstRedisCommand *args = w->script ? &writer->xadd_args : &writer->cmd;
  guint retention = options->retention;
  guint64 n_keep, min_ms, min_seq;
  GstRedisEntrySize size;

  gst_redis_command_reset (&writer->entry);
  if (!gst_redis_entry_encoder_encode (writer->encoder, buffer, map, w->seq,
          options->compression, options->lz4_acceleration, &writer->entry,
          &w->wire_size, error))
    return FALSE;
  gst_redis_metrics_trace_write (writer->metrics, buffer, &writer->entry);

  /* with retention, the count bound is not used */
  gst_redis_entry_encoder_get_size (writer->encoder, &size);
  writer->entry_cost = gst_redis_retention_entry_cost (size.names,
      size.values, size.fields);
  writer->trim_maxlen = retention > 0 ? 0 : options->maxlen;
  writer->trim_max_bytes = options->max_bytes;
  gst_redis_retention_plan (writer->kept, writer->entry_cost,
      writer->trim_maxlen, options->max_bytes, &n_keep, &min_ms, &min_seq);

  gst_redis_command_reset (args);
  if (!w->script) {
    gst_redis_command_add (args, "XADD");
    gst_redis_command_add (args, writer->settings->stream);
  }
  if (retention > 0) {
    /* Entry ids start with the Redis server's clock in ms; ours is close
     * enough for a retention window (NTP-synchronised hosts). The byte
     * budget, when it is the tighter bound, names its oldest entry. */
    gint64 time_ms = MAX (g_get_real_time () / 1000 - retention, 0);

    gst_redis_command_add (args, "MINID");
    gst_redis_command_add (args, "~");
    if (min_ms > (guint64) time_ms)
      gst_redis_command_add_printf (args, "%" G_GUINT64_FORMAT "-%"
          G_GUINT64_FORMAT, min_ms, min_seq);
    else
      gst_redis_command_add_printf (args, "%" G_GINT64_FORMAT, time_ms);
    writer_note_trim (writer, min_ms > (guint64) time_ms ?
        GST_REDIS_TRIM_BYTES : GST_REDIS_TRIM_AGE, options);
  } else if (n_keep != G_MAXUINT64) {
    gst_redis_command_add (args, "MAXLEN");
    gst_redis_command_add (args, "~");
    gst_redis_command_add_printf (args, "%" G_GUINT64_FORMAT, n_keep);
    writer_note_trim (writer, writer->trim_maxlen > 0 &&
        n_keep >= writer->trim_maxlen ? GST_REDIS_TRIM_COUNT :
        GST_REDIS_TRIM_BYTES, options);
  } else {
    writer_note_trim (writer, GST_REDIS_TRIM_NONE, options);
  }
  gst_redis_command_add (args, "*");
  gst_redis_command_append (args, &writer->entry);
  if (w->script)
    writer_build_script (writer, FALSE);
  return TRUE;
}

/* Starts the write of one frame in @w: its sequence number (the buffer
 * offset when upstream set one, the next of ours otherwise) and its XADD,
 * with the @options read for it. */
gboolean
gst_redis_writer_prepare (GstRedisWriter * writer, GstBuffer * buffer,
    const GstMapInfo * map, const GstRedisWriteOptions * options,
    GstRedisWrite * w, GError ** error)
{
  memset (w, 0, sizeof (*w));
  w->buffer = buffer;
  w->map = map;
  w->options = *options;
  w->seq = GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer) :
      writer->next_seq;
  writer->next_seq = w->seq + 1;
  w->size = map->size;
  return writer_build_xadd (writer, buffer, map, options, w, error);
}

static gint
compare_input (gconstpointer a, gconstpointer b)
{
  GstRedisTicket *ta = *(GstRedisTicket **) a, *tb = *(GstRedisTicket **) b;
  gint c = g_strcmp0 (gst_redis_ticket_get_stream (ta),
      gst_redis_ticket_get_stream (tb));

  return c ? c : g_strcmp0 (gst_redis_ticket_get_group (ta),
      gst_redis_ticket_get_group (tb));
}

static gboolean
same_input (GstRedisTicket * a, GstRedisTicket * b)
{
  return compare_input (&a, &b) == 0;
}

/* The script's keys and arguments before the XADD's: the output stream,
 * the input streams, and per input its group and entry ids. */
static void
writer_build_script_args (GstRedisWriter * writer, GPtrArray * tickets)
{
  GstRedisCommand *args = &writer->script_args;
  GString *inputs = g_string_new (NULL);
  guint i, j, n_inputs = 0;

  g_ptr_array_sort (tickets, compare_input);
  for (i = 0; i < tickets->len; i++) {
    if (i == 0 || !same_input (tickets->pdata[i - 1], tickets->pdata[i]))
      n_inputs++;
  }
  gst_redis_command_reset (args);
  gst_redis_command_add_printf (args, "%u", 1 + n_inputs);
  gst_redis_command_add (args, writer->settings->stream);
  for (i = 0; i < tickets->len; i++) {
    GstRedisTicket *t = tickets->pdata[i];

    if (i > 0 && same_input (tickets->pdata[i - 1], t))
      continue;
    gst_redis_command_add (args, gst_redis_ticket_get_stream (t));
    g_string_append_printf (inputs, "%s\"%s\" (group \"%s\")",
        inputs->len ? ", " : "", gst_redis_ticket_get_stream (t),
        gst_redis_ticket_get_group (t));
  }
  gst_redis_command_add_printf (args, "%u", n_inputs);
  for (i = 0; i < tickets->len; i = j) {
    GstRedisTicket *t = tickets->pdata[i];

    for (j = i + 1; j < tickets->len && same_input (t, tickets->pdata[j]); j++);
    gst_redis_command_add (args, gst_redis_ticket_get_group (t));
    gst_redis_command_add_printf (args, "%u", j - i);
    for (; i < j; i++)
      gst_redis_command_add (args, gst_redis_ticket_get_id (tickets->pdata[i]));
  }
  g_free (writer->inputs);
  writer->inputs = g_string_free (inputs, FALSE);
}

gboolean
gst_redis_writer_prepare_exactly_once (GstRedisWriter * writer,
    GstBuffer * buffer, const GstMapInfo * map,
    const GstRedisWriteOptions * options, GPtrArray * tickets,
    GstRedisWrite * w, GError ** error)
{
  memset (w, 0, sizeof (*w));
  w->script = TRUE;
  w->seq = GST_BUFFER_OFFSET_IS_VALID (buffer) ? GST_BUFFER_OFFSET (buffer) :
      writer->next_seq;
  writer->next_seq = w->seq + 1;
  w->size = map->size;
  writer_build_script_args (writer, tickets);
  return writer_build_xadd (writer, buffer, map, options, w, error);
}

/* The exactly-once script refused: what to change, in the user's terms. */
static void
writer_script_refused (GstRedisWriter * writer, GstRedisReply * reply,
    GError ** error)
{
  const gchar *server = gst_redis_connection_describe (writer->conn);
  const gchar *out = writer->settings->stream;

  if (strstr (reply->str, "CROSSSLOT")) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "exactly-once needs the input stream %s and the output stream \"%s\" "
        "in one hash slot of the Redis Cluster at %s, so that one script "
        "acknowledges one and adds to the other: name both with one hash "
        "tag, e.g. {camera-1}:video-frames and {camera-1}:processed-frames. "
        "Redis said: %s", writer->inputs, out, server, reply->str);
  } else if (strstr (reply->str, "NOGROUP")) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "exactly-once needs the input stream %s on the Redis server of the "
        "output stream \"%s\" (%s), where it is not: the acknowledgement "
        "and the output entry cannot be one atomic step across two servers. "
        "Write both streams to one server, or set exactly-once=false. "
        "Redis said: %s", writer->inputs, out, server, reply->str);
  } else if (gst_redis_reply_is_error (reply, "NOPERM") ||
      strstr (reply->str, "NOPERM")) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Redis at %s does not let this "
        "user run the exactly-once script (EVALSHA and EVAL, with XPENDING and "
        "XACK on the input stream %s and XADD on \"%s\"): grant them in the "
        "user's ACL, or set exactly-once=false. Redis said: %s",
        server, writer->inputs, out, reply->str);
  } else {
    gst_redis_connection_set_refused (writer->conn, reply,
        GST_RESOURCE_ERROR_WRITE, error, "store a frame in stream \"%s\" "
        "and acknowledge its input %s (exactly-once)", out, writer->inputs);
  }
}

/* Checks the reply to one XADD (or script, @w): the new entry's id; for
 * the script, nil when the input entries were acknowledged before. */
static gboolean
writer_check_reply (GstRedisWriter * writer, GstRedisWrite * w,
    GstRedisReply * reply, GError ** error)
{
  if (reply->type == GST_REDIS_REPLY_NIL && (w == NULL || w->script)) {
    /* a script's (for a frame a flush interrupted, when @w is NULL) */
    if (w)
      w->suppressed = TRUE;
    return TRUE;
  }
  if (w && w->script && gst_redis_reply_is_error (reply, "NOSCRIPT")) {
    w->noscript = TRUE;
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Redis at %s does not know the exactly-once script",
        gst_redis_connection_describe (writer->conn));
    return FALSE;
  }
  if (reply->type == GST_REDIS_REPLY_STRING) {
    GST_OBJECT_LOCK (writer->element);
    g_free (writer->stats.last_id);
    writer->stats.last_id = g_strndup (reply->str, reply->len);
    GST_OBJECT_UNLOCK (writer->element);
    return TRUE;
  }

  GST_OBJECT_LOCK (writer->element);
  writer->stats.errors++;
  GST_OBJECT_UNLOCK (writer->element);
  if (w && w->script && reply->type == GST_REDIS_REPLY_ERROR)
    writer_script_refused (writer, reply, error);
  else
    gst_redis_connection_set_refused (writer->conn, reply,
        GST_RESOURCE_ERROR_WRITE, error, "add a frame to stream \"%s\"",
        writer->settings->stream);
  return FALSE;
}

/* Reads one reply owed to an XADD and checks it: the one of the frame of
 * @w, or (@w NULL) of one whose wait a flush interrupted. */
static gboolean
writer_read_checked (GstRedisWriter * writer, GstRedisWrite * w,
    GCancellable * cancellable, GError ** error)
{
  GstRedisReply *reply;
  gboolean ok;

  /* a metrics report goes right before an XADD: its reply comes first,
   * and may be the only one owed (the XADD was not sent) */
  if (!gst_redis_metrics_read_reply (writer->metrics, writer->conn,
          cancellable, error))
    return FALSE;
  if (gst_redis_node_get_pending (gst_redis_connection_get_node
          (writer->conn)) == 0)
    return TRUE;
  reply = gst_redis_connection_read_reply (writer->conn, 0, cancellable, error);
  if (reply == NULL)
    return FALSE;
  ok = writer_check_reply (writer, w, reply, error);
  gst_redis_reply_free (reply);
  return ok;
}

/* Version 2: the caps of the frame of @w stored in <stream>:info before
 * its entry refers to them, once per caps id and connection (what a
 * restarted server lost is stored again). The reply is awaited: a reader
 * that sees the entry finds the caps, also in a Redis Cluster, where the
 * hash is on another node. A hash that holds other caps for the id makes
 * these caps go into every entry instead (version 1 entries). */
static gboolean
writer_store_caps (GstRedisWriter * writer, GstRedisWrite * w,
    GCancellable * cancellable, GError ** error)
{
  guint opens = gst_redis_connection_get_opens (writer->conn);
  const gchar *id, *caps;
  GError *err = NULL;

  if (!gst_redis_entry_encoder_get_caps_ref (writer->encoder, &id, &caps))
    return TRUE;
  if (opens != writer->stored_opens) {
    g_hash_table_remove_all (writer->stored_ids);
    writer->stored_opens = opens;
  }
  if (g_hash_table_contains (writer->stored_ids, id))
    return TRUE;

  if (gst_redis_info_store_caps (writer->info, id, caps, cancellable, &err)) {
    GST_INFO_OBJECT (writer->element, "caps id %s of stream \"%s\" stored "
        "in \"%s\"", id, writer->settings->stream,
        gst_redis_info_get_key (writer->info));
    g_hash_table_add (writer->stored_ids, g_strdup (id));
    return TRUE;
  }
  if (err) {
    /* without Redis, the frame's own connection is lost too: the outage
     * policy applies */
    if (gst_redis_info_lost (writer->info))
      gst_redis_connection_close (writer->conn);
    g_propagate_error (error, err);
    return FALSE;
  }
  GST_REDIS_ELEMENT_WARNING (writer->element, writer->settings, STREAM,
      ENCODE, ("Stream \"%s\": "
          "the caps id %s in \"%s\" stands for other caps; writing these "
          "caps into every entry (format version 1).",
          writer->settings->stream, id, gst_redis_info_get_key (writer->info)),
      ("caps %s", caps));
  gst_redis_entry_encoder_inline_caps (writer->encoder);
  return writer_build_xadd (writer, w->buffer, w->map, &w->options, w, error);
}

/* Opens the connection when it is not, for the frame of @w. */
static gboolean
writer_ensure_open (GstRedisWriter * writer, GstRedisWrite * w,
    GCancellable * cancellable, GError ** error)
{
  GError *err = NULL;

  if (gst_redis_connection_is_open (writer->conn))
    return TRUE;
  /* A send cut in half by a flush leaves the connection closed. */
  if (!gst_redis_connection_open (writer->conn, cancellable, &err)) {
    if (w->replacing && !g_error_matches (err, G_IO_ERROR,
            G_IO_ERROR_CANCELLED)) {
      /* what the user needs to know is that Redis went away */
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
          "Redis at %s closed the connection and connecting again failed: "
          "%s", gst_redis_connection_describe (writer->conn), err->message);
      g_error_free (err);
    } else {
      g_propagate_error (error, err);
    }
    return FALSE;
  }
  w->fresh = TRUE;
  if (w->replacing) {
    w->replacing = FALSE;
    GST_OBJECT_LOCK (writer->element);
    writer->stats.stale_reconnects++;
    GST_OBJECT_UNLOCK (writer->element);
  }
  return TRUE;
}

/* Tells readers how the stream is trimmed: the `retention` field of the
 * stream's <stream>:info hash ("maxlen 1000", "max-age 30000", "max-bytes
 * 67108864" or "none"), so that a reader that lost frames to trimming can
 * say which bound did it. Written with the first frame and when the bound
 * changes (at most every PUBLISH_INTERVAL): one HSET and its reply before
 * the XADD then, nothing with the other frames. A user who may not write
 * the hash is told once; in a Redis Cluster the hash may live on another
 * node (MOVED): not followed, the connection stays with the stream. */
static gboolean
writer_publish_trim (GstRedisWriter * writer, GCancellable * cancellable,
    GError ** error)
{
  GstRedisCommand *cmd = &writer->info_cmd;
  GstRedisReply *reply;
  gchar value[48];
  gint64 now;

  if (!writer->publish_enabled || (writer->published_valid &&
          writer->published_kind == writer->trim_kind &&
          writer->published_value == writer->trim_value))
    return TRUE;
  now = g_get_monotonic_time ();
  if (writer->published_at != 0 && now - writer->published_at <
      PUBLISH_INTERVAL)
    return TRUE;

  switch (writer->trim_kind) {
    case GST_REDIS_TRIM_COUNT:
      g_snprintf (value, sizeof (value), "maxlen %" G_GUINT64_FORMAT,
          writer->trim_value);
      break;
    case GST_REDIS_TRIM_AGE:
      g_snprintf (value, sizeof (value), "max-age %" G_GUINT64_FORMAT,
          writer->trim_value);
      break;
    case GST_REDIS_TRIM_BYTES:
      g_snprintf (value, sizeof (value), "max-bytes %" G_GUINT64_FORMAT,
          writer->trim_value);
      break;
    default:
      g_strlcpy (value, "none", sizeof (value));
      break;
  }
  gst_redis_command_reset (cmd);
  gst_redis_command_add (cmd, "HSET");
  gst_redis_command_add_printf (cmd, "%s:info", writer->settings->stream);
  gst_redis_command_add (cmd, INFO_FIELD);
  gst_redis_command_add (cmd, value);
  if (!gst_redis_connection_send (writer->conn, cmd, cancellable, error))
    return FALSE;
  reply = gst_redis_connection_read_reply_here (writer->conn, cancellable,
      error);
  if (reply == NULL)
    return FALSE;
  writer->published_at = now;
  if (reply->type != GST_REDIS_REPLY_ERROR) {
    writer->published_valid = TRUE;
    writer->published_kind = writer->trim_kind;
    writer->published_value = writer->trim_value;
    GST_DEBUG_OBJECT (writer->element, "stream \"%s\" is trimmed: %s",
        writer->settings->stream, value);
  } else if (g_str_has_prefix (reply->str, "NOPERM")) {
    writer->publish_enabled = FALSE;
    GST_REDIS_ELEMENT_WARNING (writer->element, writer->settings,
        RESOURCE, NOT_AUTHORIZED,
        ("Redis at %s does not let this user write \"%s:info\" (HSET), "
            "where readers of stream \"%s\" learn how it is trimmed: "
            "their warnings about frames lost to trimming cannot name the "
            "bound. Allow %%W~%s:info +hset.",
            gst_redis_connection_describe (writer->conn),
            writer->settings->stream, writer->settings->stream,
            writer->settings->stream), ("%s", reply->str));
  } else if (g_str_has_prefix (reply->str, "MOVED") ||
      g_str_has_prefix (reply->str, "ASK") ||
      g_str_has_prefix (reply->str, "WRONGTYPE")) {
    writer->publish_enabled = FALSE;
    GST_INFO_OBJECT (writer->element, "not writing \"%s:info\": %s",
        writer->settings->stream, reply->str);
  } else {
    /* OOM and the like: tried again later */
    writer->published_at = now - PUBLISH_INTERVAL + PUBLISH_RETRY;
    GST_DEBUG_OBJECT (writer->element, "writing \"%s:info\": %s",
        writer->settings->stream, reply->str);
  }
  gst_redis_reply_free (reply);
  return TRUE;
}

/* One attempt to store the frame of @w: its XADD (unless it is on its way
 * already) and its reply. */
gboolean
gst_redis_writer_attempt (GstRedisWriter * writer, GstRedisWrite * w,
    GCancellable * cancellable, GError ** error)
{
  GstRedisNode *node = gst_redis_connection_get_node (writer->conn);

  while (!w->sent) {
    if (!writer_ensure_open (writer, w, cancellable, error))
      return FALSE;
    /* Replies to XADDs whose wait a flush interrupted come first. */
    while (gst_redis_node_get_pending (node) > 0) {
      if (!writer_read_checked (writer, NULL, cancellable, error))
        return FALSE;
    }
    if (!w->fresh && gst_redis_node_check_idle_closed (node)) {
      GST_INFO_OBJECT (writer->element, "Redis at %s closed the idle "
          "connection; sending frame %" G_GUINT64_FORMAT " on a new one",
          gst_redis_connection_describe (writer->conn), w->seq);
      w->replacing = TRUE;
      continue;
    }
    /* the hashes' round trips first: their replies are read at once, before
     * the metrics report's and the XADD's are owed */
    if (!writer_store_caps (writer, w, cancellable, error) ||
        !writer_publish_trim (writer, cancellable, error) ||
        !gst_redis_metrics_send (writer->metrics, writer->conn, cancellable,
            error) || !gst_redis_connection_send (writer->conn, &writer->cmd,
            cancellable, error))
      return FALSE;
    w->sent = TRUE;
  }
  if (!writer_ensure_open (writer, w, cancellable, error))
    return FALSE;
  while (gst_redis_node_get_pending (node) -
      gst_redis_metrics_owed (writer->metrics, writer->conn) > 1) {
    if (!writer_read_checked (writer, NULL, cancellable, error))
      return FALSE;
  }
  return writer_read_checked (writer, w, cancellable, error);
}

/* After a failed attempt: TRUE when the frame is to be sent again at once,
 * on the connection Redis pointed to or on a new one.
 *
 * A connection that had been working and that Redis closed (idle
 * `timeout`, CLIENT KILL, a restart) is not an outage: it is replaced at
 * once. When Redis closed it while it was idle, which is seen before
 * sending, nothing was lost with it. When the close shows only after the
 * XADD was sent (end of file or reset instead of the reply), the frame is
 * sent once more on a new connection: had Redis stored it before closing,
 * it is then stored twice (at-least-once, like the rest of the chain). */
gboolean
gst_redis_writer_should_resend (GstRedisWriter * writer, GstRedisWrite * w,
    const GError * err)
{
  /* Redis does not know the exactly-once script (restarted, failed over):
   * its text goes with the frame this time, once. */
  if (w->noscript) {
    w->noscript = FALSE;
    writer_build_script (writer, TRUE);
    w->sent = FALSE;
    GST_INFO_OBJECT (writer->element, "Redis at %s did not know the "
        "exactly-once script: sending its text", gst_redis_connection_describe
        (writer->conn));
    return TRUE;
  }
  /* Redis Cluster MOVED/ASK, or a master turned replica: the connection
   * knows where to go; send this frame again there. */
  if (gst_redis_connection_may_follow (writer->conn, err, &w->redirects)) {
    GST_INFO_OBJECT (writer->element, "frame %" G_GUINT64_FORMAT ": %s",
        w->seq, err->message);
    w->sent = FALSE;
    return TRUE;
  }
  /* Redis closed a connection that had been working, while the XADD or its
   * reply was on its way: once more at once on a new connection. */
  if (!w->fresh && !w->resent && err->domain == GST_RESOURCE_ERROR &&
      gst_redis_node_closed_by_peer (gst_redis_connection_get_node
          (writer->conn))) {
    GST_INFO_OBJECT (writer->element, "frame %" G_GUINT64_FORMAT " %s: %s; "
        "sending it again on a new connection", w->seq,
        w->sent ? "sent" : "not sent", err->message);
    w->resent = w->replacing = TRUE;
    w->sent = FALSE;
    return TRUE;
  }
  return FALSE;
}

static void
writer_log_summary (GstRedisWriter * writer)
{
  const GstRedisWriteStats *s = &writer->stats;
  gint64 now = g_get_monotonic_time ();

  if (now - writer->last_summary < SUMMARY_INTERVAL)
    return;
  writer->last_summary = now;
  GST_INFO_OBJECT (writer->element, "Sent %" G_GUINT64_FORMAT " frames | "
      "%.1f MB in, %.1f MB out (ratio %.2f) | last entry %s", s->frames,
      s->bytes_in / 1e6, s->bytes_out / 1e6,
      s->bytes_out ? (gdouble) s->bytes_in / s->bytes_out : 1.0, s->last_id);
}

/* The frame of @w is stored: counted, and its entry added to the byte
 * budget. */
void
gst_redis_writer_commit (GstRedisWriter * writer, GstRedisWrite * w)
{
  gst_redis_writer_note_command (writer);
  GST_OBJECT_LOCK (writer->element);
  gst_redis_retention_commit (writer->kept, writer->entry_cost,
      writer->stats.last_id, writer->trim_maxlen, writer->trim_max_bytes);
  writer->stats.frames++;
  writer->stats.bytes_in += w->size;
  writer->stats.bytes_out += w->wire_size;
  GST_OBJECT_UNLOCK (writer->element);

  GST_DEBUG_OBJECT (writer->element, "frame %" G_GUINT64_FORMAT " (%"
      G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT " bytes) -> entry %s", w->seq,
      w->size, w->wire_size, writer->stats.last_id);
  writer_log_summary (writer);
}
