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

/* The read loop of redisstreamsrc (gstredisreadloop.h): XREADGROUP sent and
 * its reply checked, entries decoded or skipped, what else is due pipelined
 * in the same round trip, and a lost connection got back. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisreadloop.h"
#include "gstrediscancellable.h"
#include "gstredisstreamselements.h"
#include "gstredisdeadletter.h"
#include "gstframemeta.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* Field/value pairs one entry may have; more is not an entry of ours. */
#define MAX_FIELDS 64
/* The longest a read blocks while frames are in flight downstream, ms: their
 * acknowledgements go out with the next read. */
#define BUSY_BLOCK 100
/* At most one dead-letter warning this often; the count in between. */
#define DEAD_LETTER_WARNING_INTERVAL (10 * G_TIME_SPAN_SECOND)

void
gst_redis_read_loop_init (GstRedisReadLoop * loop, GstElement * element,
    const GstRedisSettings * settings, GstRedisGroup * group,
    GstRedisKeyUnitGate * gate)
{
  loop->element = element;
  loop->settings = settings;
  loop->group = group;
  loop->gate = gate;
  gst_redis_command_init (&loop->cmd);
  gst_redis_group_watch_init (&loop->watch, element, settings, gate);
}

void
gst_redis_read_loop_clear (GstRedisReadLoop * loop)
{
  gst_redis_command_clear (&loop->cmd);
  gst_redis_group_watch_clear (&loop->watch);
  g_clear_pointer (&loop->key_unit_channel, g_free);
  g_clear_pointer (&loop->dead_letter_stream, g_free);
  g_clear_pointer (&loop->deliveries, g_hash_table_unref);
  g_clear_pointer (&loop->stats.last_id, g_free);
  g_clear_pointer (&loop->cursor, g_free);
}

void
gst_redis_read_loop_configure (GstRedisReadLoop * loop, guint block,
    guint count, guint64 max_frame_size, gboolean request_key_units)
{
  loop->block = block;
  loop->read_block = block;
  loop->count = count;
  loop->max_frame_size = max_frame_size;
  loop->request_key_units = request_key_units;
  loop->key_unit_publish_due = FALSE;
  loop->publishes_in_flight = 0;
  g_free (loop->key_unit_channel);
  loop->key_unit_channel = gst_redis_key_unit_channel (loop->settings->stream);
  gst_redis_outage_init (&loop->outage, loop->element, loop->settings,
      GST_RESOURCE_ERROR_READ);
  g_free (loop->stats.last_id);
  memset (&loop->stats, 0, sizeof (loop->stats));
  gst_redis_group_watch_reset_stats (&loop->watch);
}

void
gst_redis_read_loop_configure_acks (GstRedisReadLoop * loop,
    GstRedisAckTracker * tracker, gboolean track, guint max_deliveries,
    const gchar * dead_letter_stream, guint dead_letter_maxlen)
{
  loop->tracker = tracker;
  loop->track = track;
  loop->max_deliveries = max_deliveries;
  g_free (loop->dead_letter_stream);
  loop->dead_letter_stream = g_strdup (dead_letter_stream);
  loop->dead_letter_maxlen = dead_letter_maxlen;
  loop->last_dead_letter_warning = 0;
  loop->dead_letters_unwarned = 0;
}

gboolean
gst_redis_read_loop_is_connected (GstRedisReadLoop * loop)
{
  return loop->conn != NULL && !gst_redis_outage_active (&loop->outage);
}

static gboolean
read_loop_send_read (GstRedisReadLoop * loop, GCancellable * cancellable,
    GError ** error)
{
  GstRedisCommand *cmd = &loop->cmd;

  gst_redis_command_reset (cmd);
  if (loop->group_less) {
    /* nothing is created, acknowledged or left behind in Redis */
    gst_redis_command_add (cmd, "XREAD");
    gst_redis_command_add (cmd, "COUNT");
    gst_redis_command_add_printf (cmd, "%u", loop->count);
    gst_redis_command_add (cmd, "BLOCK");
    gst_redis_command_add_printf (cmd, "%u", loop->read_block);
    gst_redis_command_add (cmd, "STREAMS");
    gst_redis_command_add (cmd, loop->settings->stream);
    gst_redis_command_add (cmd, loop->cursor ? loop->cursor : "$");
    goto send;
  }
  gst_redis_command_add (cmd, "XREADGROUP");
  gst_redis_command_add (cmd, "GROUP");
  gst_redis_command_add (cmd, loop->group->name);
  gst_redis_command_add (cmd, loop->group->consumer);
  gst_redis_command_add (cmd, "COUNT");
  gst_redis_command_add_printf (cmd, "%u", loop->count);
  if (loop->history_id == NULL) {
    guint block = loop->read_block;

    /* BLOCK only applies to new entries; pending ones come at once. While
     * frames are in flight downstream, their acknowledgements are not
     * held back a whole block on an idle stream. */
    if (loop->track && block > BUSY_BLOCK &&
        gst_redis_ack_tracker_busy (loop->tracker))
      block = BUSY_BLOCK;
    gst_redis_command_add (cmd, "BLOCK");
    gst_redis_command_add_printf (cmd, "%u", block);
  }
  gst_redis_command_add (cmd, "STREAMS");
  gst_redis_command_add (cmd, loop->settings->stream);
  gst_redis_command_add (cmd, loop->history_id ? loop->history_id : ">");
send:
  if (!gst_redis_connection_send (loop->conn, cmd, cancellable, error))
    return FALSE;
  loop->read_in_flight = TRUE;
  return TRUE;
}

/* Checks the shape of an XREADGROUP reply and returns its entries array:
 * [[stream, [[id, [field, value, ...]], ...]]]. NULL with no error: no
 * entries (a timeout, or the end of our pending entries). */
static GstRedisReply *
read_loop_reply_entries (GstRedisReadLoop * loop, GstRedisReply * reply,
    gboolean * nogroup, GError ** error)
{
  GstRedisReply *stream;

  if (reply->type == GST_REDIS_REPLY_NIL)
    return NULL;
  /* NOGROUP: the group (or stream) is gone */
  if (nogroup)
    *nogroup = gst_redis_reply_is_error (reply, "NOGROUP");
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    gst_redis_connection_set_refused (loop->conn, reply,
        GST_RESOURCE_ERROR_READ, error, "read stream \"%s\"%s%s%s%s",
        loop->settings->stream, loop->group_less ? "" : " in group \"",
        loop->group_less ? "" : loop->group->name,
        loop->group_less ? "" : "\"",
        g_str_has_prefix (reply->str, "WRONGTYPE") ?
        " (the key holds something else than a stream now)" : "");
    return NULL;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != GST_REDIS_REPLY_ARRAY ||
      reply->element[0]->elements != 2 ||
      reply->element[0]->element[1]->type != GST_REDIS_REPLY_ARRAY)
    goto bad_reply;
  stream = reply->element[0]->element[1];
  if (stream->elements == 0)
    return NULL;
  return stream;

bad_reply:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "Redis at %s sent an XREADGROUP reply of unexpected shape",
      gst_redis_connection_describe (loop->conn));
  return NULL;
}

/* The entries of @reply (@entries within it) are decoded next. Takes
 * @reply. */
static void
read_loop_take_entries (GstRedisReadLoop * loop, GstRedisReply * reply,
    GstRedisReply * entries)
{
  loop->reply = gst_redis_reply_ref_new (reply);
  loop->entries = entries;
  loop->reply_index = 0;
}

/* The delivery counts (XPENDING) of this consumer's pending entries from
 * @start to @end, at most @count: those the next read of its own pending
 * entries, or the claim just made, hands over. Only with max-deliveries. A
 * refusal (NOGROUP before the group exists) leaves them unknown; a user
 * whose ACL refuses XPENDING is told once, and max-deliveries is off. */
static gboolean
read_loop_fetch_deliveries (GstRedisReadLoop * loop, const gchar * start,
    const gchar * end, gsize count, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;
  gchar n[24];
  gsize i;

  if (loop->deliveries)
    g_hash_table_remove_all (loop->deliveries);
  if (loop->max_deliveries == 0)
    return TRUE;
  if (loop->deliveries == NULL)
    loop->deliveries = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, NULL);
  g_snprintf (n, sizeof (n), "%" G_GSIZE_FORMAT, count);
  reply = gst_redis_connection_call (loop->conn, cancellable, error,
      "XPENDING", loop->settings->stream, loop->group->name, start, end, n,
      loop->group->consumer, NULL);
  if (reply == NULL)
    return FALSE;
  if (gst_redis_reply_is_error (reply, "NOPERM")) {
    GST_REDIS_ELEMENT_WARNING (loop->element, loop->settings, RESOURCE,
        NOT_AUTHORIZED, ("Redis at %s does not let this user run XPENDING on "
            "stream \"%s\", so entries delivered again and again cannot be "
            "counted: max-deliveries is off. Grant +xpending in the user's "
            "ACL.", gst_redis_connection_describe (loop->conn),
            loop->settings->stream), ("%s", reply->str));
    loop->max_deliveries = 0;
    return TRUE;
  }
  GST_LOG_OBJECT (loop->element, "XPENDING %s %s: %" G_GSIZE_FORMAT
      " entries", start, end, reply->type == GST_REDIS_REPLY_ARRAY ?
      reply->elements : 0);
  if (reply->type != GST_REDIS_REPLY_ARRAY)
    return TRUE;
  for (i = 0; i < reply->elements; i++) {
    const GstRedisReply *e = reply->element[i];

    if (e->type != GST_REDIS_REPLY_ARRAY || e->elements < 4 ||
        e->element[0]->type != GST_REDIS_REPLY_STRING ||
        e->element[3]->type != GST_REDIS_REPLY_INTEGER)
      continue;
    g_hash_table_insert (loop->deliveries, g_strdup (e->element[0]->str),
        GUINT_TO_POINTER ((guint) CLAMP (e->element[3]->integer, 0,
                G_MAXUINT)));
  }
  return TRUE;
}

/* The delivery counts of the entries the next read of own pending entries
 * returns: those after history_id. */
static gboolean
read_loop_fetch_history_deliveries (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error)
{
  gchar *start;
  gboolean ok;

  if (loop->max_deliveries == 0)
    return TRUE;
  start = g_str_equal (loop->history_id, "0") ? g_strdup ("-") :
      g_strconcat ("(", loop->history_id, NULL);
  ok = read_loop_fetch_deliveries (loop, start, "+", loop->count, cancellable,
      error);
  g_free (start);
  return ok;
}

/* The first command on the group: XREADGROUP of this consumer's own pending
 * entries (STREAMS key 0). The group is created only when Redis answers
 * NOGROUP: XGROUP CREATE is a write, refused over maxmemory even for a group
 * that exists, while reading and acknowledging still work there. The
 * entries read are kept for the first frames. */
static gboolean
read_loop_first_read (GstRedisReadLoop * loop, GCancellable * cancellable,
    GError ** error)
{
  guint attempt;

  for (attempt = 0;; attempt++) {
    GstRedisReply *reply, *entries;
    gboolean nogroup = FALSE;
    GError *err = NULL;

    if (!read_loop_fetch_history_deliveries (loop, cancellable, error) ||
        !read_loop_send_read (loop, cancellable, error))
      return FALSE;
    reply = gst_redis_connection_read_reply (loop->conn, 0, cancellable, error);
    if (reply == NULL)
      return FALSE;
    loop->read_in_flight = FALSE;
    entries = read_loop_reply_entries (loop, reply, &nogroup, &err);
    if (entries) {
      read_loop_take_entries (loop, reply, entries);
      gst_redis_group_note_read (loop->group, entries);
      return TRUE;
    }
    gst_redis_reply_free (reply);
    if (err == NULL) {
      GST_DEBUG_OBJECT (loop->element, "no pending entries, reading new ones");
      g_clear_pointer (&loop->history_id, g_free);
      return TRUE;
    }
    if (!nogroup || attempt > 0) {
      /* the stream cannot be opened for reading as configured */
      if (err->domain == GST_RESOURCE_ERROR &&
          err->code == GST_RESOURCE_ERROR_READ)
        err->code = GST_RESOURCE_ERROR_OPEN_READ;
      g_propagate_error (error, err);
      return FALSE;
    }
    g_clear_error (&err);
    if (!gst_redis_group_create (loop->group, loop->conn,
            loop->group->start_id, cancellable, error))
      return FALSE;
    gst_redis_group_watch_group_made (&loop->watch);
  }
}

/* Connects and reads this consumer's own pending entries first. */
gboolean
gst_redis_read_loop_start (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error)
{
  guint64 max = loop->max_frame_size;

  loop->conn = gst_redis_connection_new (loop->settings);
  loop->decoder = gst_redis_entry_decoder_new ();
  gst_redis_entry_decoder_set_max_frame_size (loop->decoder, max);
  loop->info = gst_redis_info_new (loop->settings);
  /* A value that cannot hold a frame of max-frame-size bytes, even
   * LZ4-compressed at its worst (+1/255, block headers), is dropped as it
   * arrives instead of being read into memory; the entry is skipped. */
  gst_redis_node_set_max_bulk (gst_redis_connection_get_node (loop->conn),
      max > G_MAXUINT64 / 2 ? G_MAXUINT64 : max + max / 255 + 64 * 1024);
  loop->read_in_flight = FALSE;
  if (loop->group_less) {
    /* where to read is gstredisrange.c's to say */
    return gst_redis_connection_open (loop->conn, cancellable, error);
  }
  /* Our own pending entries first, then new ones. */
  loop->history_id = g_strdup ("0");
  loop->history_at_start = TRUE;
  loop->claimed_entries = FALSE;
  gst_redis_group_start (loop->group);
  gst_redis_group_watch_start (&loop->watch, loop->group->name);

  return gst_redis_connection_open (loop->conn, cancellable, error) &&
      read_loop_first_read (loop, cancellable, error);
}

void
gst_redis_read_loop_stop (GstRedisReadLoop * loop)
{
  GstRedisConnection *conn;

  GST_OBJECT_LOCK (loop->element);
  conn = loop->conn;
  if (conn)
    loop->stats.bytes_received =
        gst_redis_node_get_bytes_received (gst_redis_connection_get_node
        (conn));
  loop->conn = NULL;
  GST_OBJECT_UNLOCK (loop->element);

  if (conn) {
    const gchar *pending = loop->group_less ? NULL : loop->group->pushed_id;

    GST_INFO_OBJECT (loop->element, "read %" G_GUINT64_FORMAT " frames from "
        "stream \"%s\"%s%s", loop->stats.frames, loop->settings->stream,
        pending ? ", left pending: " : "", pending ? pending : "");
    if (!gst_redis_outage_active (&loop->outage))
      gst_redis_metrics_stop (loop->metrics, conn, !loop->group_less &&
          !gst_redis_group_leave (loop->group, conn));
    gst_redis_connection_free (conn);
  }
  g_clear_pointer (&loop->decoder, gst_redis_entry_decoder_free);
  g_clear_pointer (&loop->info, gst_redis_info_free);
  g_clear_pointer (&loop->dead_letter_info, gst_redis_info_free);
  loop->entries = NULL;
  g_clear_pointer (&loop->reply, gst_redis_reply_ref_unref);
  g_clear_pointer (&loop->history_id, g_free);
  g_clear_pointer (&loop->cursor, g_free);
  g_clear_pointer (&loop->key_unit_channel, g_free);
}

/* An entry that does not go out: counted in @counter, acknowledged with
 * the next read. */
static void
read_loop_skip (GstRedisReadLoop * loop, const gchar * id, guint64 * counter)
{
  GST_OBJECT_LOCK (loop->element);
  (*counter)++;
  GST_OBJECT_UNLOCK (loop->element);
  if (!loop->group_less)
    gst_redis_group_acknowledge (loop->group, g_strdup (id));
  /* whatever came after it may refer to it */
  gst_redis_key_unit_gate_gap (loop->gate);
}

/* The field/value pairs of an entry, checked: strings, and values the
 * connection did not drop for being too large. */
static gboolean
read_loop_get_fields (GstRedisReadLoop * loop, GstRedisReply * values,
    GstRedisField * fields, gsize * n_fields, GError ** error)
{
  gsize i, n;

  if (values->type != GST_REDIS_REPLY_ARRAY || values->elements % 2 != 0 ||
      values->elements / 2 > MAX_FIELDS) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "it has %" G_GSIZE_FORMAT
        " values, not field/value pairs (at most %d)", values->elements,
        MAX_FIELDS);
    return FALSE;
  }

  n = values->elements / 2;
  for (i = 0; i < n; i++) {
    GstRedisReply *name = values->element[2 * i];
    GstRedisReply *value = values->element[2 * i + 1];

    if (name->type == GST_REDIS_REPLY_STRING
        && value->type == GST_REDIS_REPLY_ERROR) {
      /* the connection dropped a value too large for max-frame-size */
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_TOO_LARGE, "field \"%.*s\" holds %s "
          "(max-frame-size is %" G_GUINT64_FORMAT ")", (gint) MIN (name->len,
              64), name->str, value->str, loop->max_frame_size);
      return FALSE;
    }
    if (name->type != GST_REDIS_REPLY_STRING
        || value->type != GST_REDIS_REPLY_STRING) {
      g_set_error (error, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field %" G_GSIZE_FORMAT
          " is not a string", i);
      return FALSE;
    }
    fields[i].name = name->str;
    fields[i].name_len = name->len;
    fields[i].value = value->str;
    fields[i].value_len = value->len;
  }
  *n_fields = n;
  return TRUE;
}

/* A decoded frame of entry @id: skipped when it was captured more than
 * max-age ago (returns FALSE), counted otherwise. */
static gboolean
read_loop_count_frame (GstRedisReadLoop * loop, const gchar * id,
    GstBuffer * buf)
{
  gint64 capture = gst_frame_meta_get_capture_time (buf);
  guint max_age;

  GST_OBJECT_LOCK (loop->element);
  max_age = loop->max_age;
  GST_OBJECT_UNLOCK (loop->element);
  if (capture >= 0) {
    gdouble latency = (g_get_real_time () * 1000 - capture) / 1e6;

    if (max_age > 0 && !loop->group_less && latency > max_age) {
      GST_DEBUG_OBJECT (loop->element, "entry %s is %.1f ms old, skipping",
          id, latency);
      read_loop_skip (loop, id, &loop->stats.skipped_late);
      return FALSE;
    }
    gst_redis_metrics_observe_latency (loop->metrics, latency);
    GST_OBJECT_LOCK (loop->element);
    loop->stats.latency_last = latency;
    loop->stats.latency_sum += latency;
    loop->stats.latency_n++;
    loop->stats.latency_max = MAX (loop->stats.latency_max, latency);
    GST_OBJECT_UNLOCK (loop->element);
  }

  GST_OBJECT_LOCK (loop->element);
  loop->stats.frames++;
  loop->stats.bytes_out += gst_buffer_get_size (buf);
  if (!GST_BUFFER_OFFSET_IS_VALID (buf))
    loop->stats.no_seq++;
  if (loop->history_id)
    loop->stats.redelivered++;
  g_free (loop->stats.last_id);
  loop->stats.last_id = g_strdup (id);
  GST_OBJECT_UNLOCK (loop->element);
  return TRUE;
}

/* A version 2 entry whose caps id the decoder does not know yet: its caps
 * looked up in <stream>:info, once (the decoder keeps them). FALSE with a
 * GST_REDIS_ENTRY_ERROR when the entry is invalid for it (no such caps);
 * with another error when Redis could not be asked: a lost connection
 * then closes the stream's connection too, so that the entry, still
 * pending, is read again after reconnecting. */
static gboolean
read_loop_resolve_caps (GstRedisReadLoop * loop, const GstRedisField * fields,
    gsize n, GCancellable * cancellable, GError ** error)
{
  guint32 id;

  if (!gst_redis_entry_decoder_wants_caps (loop->decoder, fields, n, &id))
    return TRUE;
  if (gst_redis_info_lookup_caps (loop->info, loop->decoder, id, cancellable,
          error))
    return TRUE;
  if (gst_redis_info_lost (loop->info))
    gst_redis_connection_close (loop->conn);
  return FALSE;
}

/* The fields of an entry decoded into @frame (buffer and caps), the caps of
 * a version 2 entry looked up first. FALSE with a GST_REDIS_ENTRY_ERROR
 * for an entry that is not a frame, another error when Redis could not be
 * asked for its caps. */
static gboolean
read_loop_decode_values (GstRedisReadLoop * loop, GstRedisReply * values,
    GstRedisReplyRef * owner, GCancellable * cancellable,
    GstRedisFrame * frame, GError ** error)
{
  GstRedisField fields[MAX_FIELDS];
  gsize n;

  if (!read_loop_get_fields (loop, values, fields, &n, error) ||
      !read_loop_resolve_caps (loop, fields, n, cancellable, error))
    return FALSE;
  frame->buffer = gst_redis_entry_decoder_decode (loop->decoder, fields, n,
      owner, &frame->caps, error);
  return frame->buffer != NULL;
}

gboolean
gst_redis_read_loop_decode (GstRedisReadLoop * loop, GstRedisReply * entry,
    GstRedisReplyRef * owner, GCancellable * cancellable,
    GstRedisFrame * frame, GError ** error)
{
  memset (frame, 0, sizeof (*frame));
  if (entry->type != GST_REDIS_REPLY_ARRAY || entry->elements != 2 ||
      entry->element[0]->type != GST_REDIS_REPLY_STRING ||
      entry->element[1]->type != GST_REDIS_REPLY_ARRAY) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "not a stream entry");
    return FALSE;
  }
  if (!read_loop_decode_values (loop, entry->element[1], owner, cancellable,
          frame, error))
    return FALSE;
  frame->id = g_strdup (entry->element[0]->str);
  return TRUE;
}

/* An entry read again (own pending entries, or claimed): not pushed when
 * it is in flight here already (a flush or a claim raced a queue, an
 * application holding it), nor when it was delivered max-deliveries times
 * without being acknowledged (a worker that stopped or crashed on it each
 * time): then it is set aside. Deliveries this source caused itself by
 * reading again after a flush or a reconnect do not count. Sets
 * @deliveries to this delivery's number. */
static gboolean
read_loop_check_again (GstRedisReadLoop * loop, const gchar * id,
    guint * deliveries)
{
  guint count, own, before;

  if (loop->track && gst_redis_ack_tracker_holds (loop->tracker, id)) {
    GST_DEBUG_OBJECT (loop->element, "entry %s is in flight here already: "
        "not pushed again", id);
    gst_redis_ack_tracker_count_reread (loop->tracker, id);
    GST_OBJECT_LOCK (loop->element);
    loop->stats.reread_skipped++;
    GST_OBJECT_UNLOCK (loop->element);
    return FALSE;
  }
  count = loop->deliveries ?
      GPOINTER_TO_UINT (g_hash_table_lookup (loop->deliveries, id)) : 0;
  GST_LOG_OBJECT (loop->element, "entry %s read again, delivered %u times",
      id, count);
  if (count == 0)
    return TRUE;
  /* a claim counted itself already */
  before = loop->claimed_entries ? count - 1 : count;
  own = gst_redis_ack_tracker_get_rereads (loop->tracker, id);
  before = before > own ? before - own : 0;
  *deliveries = before + 1;
  if (!loop->history_at_start || loop->claimed_entries)
    gst_redis_ack_tracker_count_reread (loop->tracker, id);
  if (loop->max_deliveries == 0 || before < loop->max_deliveries)
    return TRUE;

  GST_INFO_OBJECT (loop->element, "entry %s was delivered %u times without "
      "being acknowledged: setting it aside", id, before);
  gst_redis_ack_tracker_dead_letter (loop->tracker, id,
      g_strdup_printf ("delivered %u times without being acknowledged "
          "(max-deliveries=%u): the consumers that read it stopped or "
          "crashed before its result was stored", before,
          loop->max_deliveries), before);
  /* whatever came after it may refer to it */
  gst_redis_key_unit_gate_gap (loop->gate);
  return FALSE;
}

/* Decodes one entry of the current reply into @frame. Returns FALSE with
 * @frame left empty when the entry was skipped (and is to be acknowledged),
 * or with @error when the reply is not what Redis sends or Redis could not
 * be asked for the entry's caps. */
static gboolean
read_loop_decode_entry (GstRedisReadLoop * loop, GstRedisReply * entry,
    GCancellable * cancellable, GstRedisFrame * frame, GError ** error)
{
  GstRedisReply *values, *id;
  GError *err = NULL;

  if (entry->type != GST_REDIS_REPLY_ARRAY || entry->elements != 2 ||
      entry->element[0]->type != GST_REDIS_REPLY_STRING) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s sent a stream entry of unexpected shape",
        gst_redis_connection_describe (loop->conn));
    return FALSE;
  }
  id = entry->element[0];
  values = entry->element[1];

  if (loop->history_id) {
    g_free (loop->history_id);
    loop->history_id = g_strdup (id->str);
  }
  if (loop->group_less) {
    /* the next XREAD reads after it, whether it plays or is skipped */
    g_free (loop->cursor);
    loop->cursor = g_strdup (id->str);
  }

  if (values->type == GST_REDIS_REPLY_NIL) {
    /* A pending entry that MAXLEN trimmed away before we read it again. */
    GST_WARNING_OBJECT (loop->element, "pending entry %s was deleted from "
        "stream \"%s\" before it could be read again", id->str,
        loop->settings->stream);
    gst_redis_group_count_deleted (loop->group, 1);
    gst_redis_group_acknowledge (loop->group, g_strdup (id->str));
    gst_redis_key_unit_gate_gap (loop->gate);
    return FALSE;
  }
  frame->deliveries = 1;
  if ((loop->history_id || loop->claimed_entries) &&
      !read_loop_check_again (loop, id->str, &frame->deliveries))
    return FALSE;
  if (!read_loop_decode_values (loop, values, loop->reply, cancellable, frame,
          &err)) {
    if (err->domain == GST_REDIS_ENTRY_ERROR)
      goto invalid;
    g_propagate_error (error, err);
    return FALSE;
  }
  if (!read_loop_count_frame (loop, id->str, frame->buffer)) {
    gst_redis_frame_clear (frame);
    return FALSE;
  }
  gst_redis_metrics_trace_read (loop->metrics, values, id->str, frame->buffer);
  frame->id = g_strdup (id->str);
  return TRUE;

invalid:
  GST_REDIS_ELEMENT_WARNING (loop->element, loop->settings, STREAM, DECODE,
      ("Skipped entry %s of stream \"%s\", not a frame this element can "
          "read: %s.", id->str, loop->settings->stream, err->message),
      ("entry %s: %s", id->str, err->message));
  /* two reasons counted apart as well: a payload that is not what its caps
   * say, names beyond the budget of new ones */
  GST_OBJECT_LOCK (loop->element);
  if (g_error_matches (err, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_WRONG_SIZE))
    loop->stats.skipped_size++;
  else if (g_error_matches (err, GST_REDIS_ENTRY_ERROR,
          GST_REDIS_ENTRY_ERROR_TOO_MANY_NAMES))
    loop->stats.skipped_names++;
  GST_OBJECT_UNLOCK (loop->element);
  g_clear_error (&err);
  read_loop_skip (loop, id->str, &loop->stats.skipped_invalid);
  return FALSE;
}

/* Asks the producer for a key frame (gstrediskeyunit.h), pipelined with the
 * next read like the XACKs: a PUBLISH whose reply is read before the read's
 * reply. */
static gboolean
read_loop_send_key_unit_request (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error)
{
  if (!loop->key_unit_publish_due)
    return TRUE;
  loop->key_unit_publish_due = FALSE;
  gst_redis_command_reset (&loop->cmd);
  gst_redis_command_add (&loop->cmd, "PUBLISH");
  gst_redis_command_add (&loop->cmd, loop->key_unit_channel);
  gst_redis_command_add (&loop->cmd, GST_REDIS_KEY_UNIT_REQUEST);
  if (!gst_redis_connection_send (loop->conn, &loop->cmd, cancellable, error))
    return FALSE;
  loop->publishes_in_flight++;
  GST_OBJECT_LOCK (loop->element);
  loop->stats.key_unit_requests++;
  GST_OBJECT_UNLOCK (loop->element);
  GST_DEBUG_OBJECT (loop->element, "asked for a key frame on channel \"%s\"",
      loop->key_unit_channel);
  return TRUE;
}

/* PUBLISH answers with the number of subscribers. One this user may not
 * publish on turns requests off, with one warning: the stream still plays
 * from the next key frame. */
static gboolean
read_loop_read_key_unit_replies (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error)
{
  while (loop->publishes_in_flight > 0) {
    GstRedisReply *reply = gst_redis_connection_read_reply (loop->conn, 0,
        cancellable, error);

    if (reply == NULL)
      return FALSE;
    loop->publishes_in_flight--;
    if (reply->type == GST_REDIS_REPLY_INTEGER) {
      GST_LOG_OBJECT (loop->element, "key frame request heard by %"
          G_GINT64_FORMAT " producers", reply->integer);
    } else if (loop->request_key_units) {
      gint code = gst_redis_reply_is_error (reply, "NOPERM") ?
          GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_WRITE;

      loop->request_key_units = FALSE;
      gst_redis_element_post (loop->element, loop->settings,
          GST_MESSAGE_WARNING, GST_RESOURCE_ERROR, code,
          g_strdup_printf ("Redis at %s does not let this user ask the "
              "producer of stream \"%s\" for key frames (PUBLISH %s): "
              "playback starts at the next key frame the producer sends. "
              "Allow +publish and the channel &%s in the user's ACL.",
              gst_redis_connection_describe (loop->conn),
              loop->settings->stream, loop->key_unit_channel,
              loop->key_unit_channel),
          g_strdup (reply->str ? reply->str : ""), GST_REDIS_HERE);
    }
    gst_redis_reply_free (reply);
  }
  return TRUE;
}

/* TRUE while key frames may be asked of the producer. */
gboolean
gst_redis_read_loop_can_ask_key_unit (GstRedisReadLoop * loop)
{
  return loop->request_key_units;
}

/* Asks the producer for a key frame with the next read. */
void
gst_redis_read_loop_ask_key_unit (GstRedisReadLoop * loop)
{
  loop->key_unit_publish_due = TRUE;
}

/* Connection lost: warn once, then try again with a backoff until it
 * works, the element is stopped (cancelled), or reconnect-timeout ran out.
 * Pending entries of this consumer are read again afterwards, so a frame
 * whose acknowledgement was lost comes again rather than not at all. */
static gboolean
read_loop_reconnect (GstRedisReadLoop * loop, GCancellable * cancellable,
    GError ** error)
{
  GstRedisReconnect res;

  if (gst_redis_outage_begin (&loop->outage))
    gst_redis_outage_warn (&loop->outage, loop->conn, *error, NULL,
        GST_REDIS_HERE);
  g_clear_error (error);
  loop->read_in_flight = FALSE;
  gst_redis_group_connection_lost (loop->group);
  gst_redis_group_watch_connection_lost (&loop->watch);
  loop->entries = NULL;
  g_clear_pointer (&loop->reply, gst_redis_reply_ref_unref);

  /* No XGROUP CREATE here: it is a write, refused over maxmemory. A group
   * that Redis lost shows up as NOGROUP at the next read. */
  do {
    if (!gst_redis_wait_cancellable (cancellable,
            gst_redis_outage_wait_us (&loop->outage))) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      return FALSE;
    }
    res = gst_redis_outage_reconnect (&loop->outage, loop->conn, cancellable,
        error);
  } while (res == GST_REDIS_RECONNECT_LATER);
  if (res != GST_REDIS_RECONNECT_OK)
    return FALSE;

  if (!loop->group_less) {
    g_free (loop->history_id);
    loop->history_id = g_strdup ("0");
    loop->history_at_start = FALSE;
    loop->claimed_entries = FALSE;
    gst_redis_group_watch_reconnected (&loop->watch);
  }
  gst_redis_outage_end (&loop->outage, loop->conn, GST_REDIS_HERE);
  /* frames may have been lost: wait for a key frame; a PUBLISH sent on the
   * lost connection has no reply to read */
  gst_redis_key_unit_gate_gap (loop->gate);
  loop->publishes_in_flight = 0;
  return TRUE;
}

/* What one step of reading came to. */
typedef enum
{
  READ_STEP_AGAIN,              /* a frame, or read on */
  READ_STEP_EMPTY,              /* a read came back empty */
  READ_STEP_ERROR,
} ReadStep;

/* claim-idle-time follows how long the stream keeps an entry, as the
 * group's watch measured it. */
static void
read_loop_follow_retention (GstRedisReadLoop * loop)
{
  guint retention;
  gdouble rate;

  if (gst_redis_group_watch_take_retention (&loop->watch, &retention, &rate))
    gst_redis_group_follow_retention (loop->group, retention, rate);
}

/* A dead letter written, or refused: a warning, the first at once, then at
 * most one every DEAD_LETTER_WARNING_INTERVAL with the count since. */
static void
read_loop_warn_dead_letter (GstRedisReadLoop * loop,
    const GstRedisDeadLetter * dl, GstRedisDeadLetterResult result,
    const GError * why)
{
  gint64 now = g_get_monotonic_time ();
  guint64 more = loop->dead_letters_unwarned;

  if (loop->last_dead_letter_warning != 0 &&
      now - loop->last_dead_letter_warning < DEAD_LETTER_WARNING_INTERVAL) {
    loop->dead_letters_unwarned++;
    return;
  }
  loop->last_dead_letter_warning = now;
  loop->dead_letters_unwarned = 0;
  if (result == GST_REDIS_DEAD_LETTER_REFUSED) {
    GST_REDIS_ELEMENT_WARNING (loop->element, loop->settings, RESOURCE,
        WRITE, ("Could not set entry %s of stream \"%s\" aside in the "
            "dead-letter stream \"%s\" (%s): it stays pending and is read "
            "again. Allow XRANGE on the stream, XADD on the dead-letter "
            "stream, and HSETNX and HGET on its hash \"%s\" for the caps "
            "of version 2 entries.", dl->id,
            loop->settings->stream, loop->dead_letter_stream, dl->reason,
            gst_redis_info_get_key (loop->dead_letter_info)),
        ("%s; %" G_GUINT64_FORMAT " more dead letters since the last "
            "warning", why->message, more));
    return;
  }
  GST_REDIS_ELEMENT_WARNING (loop->element, loop->settings, STREAM, FAILED,
      ("Set entry %s of stream \"%s\" aside in \"%s\" (group \"%s\", "
          "consumer \"%s\"): %s.%s", dl->id, loop->settings->stream,
          loop->dead_letter_stream, loop->group->name, loop->group->consumer,
          dl->reason, result == GST_REDIS_DEAD_LETTER_TRIMMED ?
          " It had been trimmed from the stream: the dead letter has no "
          "frame." : result == GST_REDIS_DEAD_LETTER_NO_CAPS ?
          " Its caps could not be copied along: the dead letter cannot be "
          "played (its dead-letter-note says why)." : ""),
      ("entry %s set aside, %" G_GUINT64_FORMAT " more since the last "
          "warning; inspect them with XRANGE %s - +%s%s", dl->id, more,
          loop->dead_letter_stream,
          result == GST_REDIS_DEAD_LETTER_NO_CAPS ? "; " : "",
          result == GST_REDIS_DEAD_LETTER_NO_CAPS ? why->message : ""));
}

/* Sets aside the entries due (gstredisdeadletter.c); nothing else may be
 * in flight. FALSE with @error when the connection failed: the entry stays
 * pending. */
static gboolean
read_loop_write_dead_letters (GstRedisReadLoop * loop,
    GCancellable * cancellable, GError ** error)
{
  GstRedisDeadLetterTarget target = { loop->settings->stream,
    loop->group->name, loop->group->consumer, loop->dead_letter_stream,
    loop->dead_letter_maxlen, loop->info, NULL
  };
  GstRedisDeadLetter *dl;

  while ((dl = gst_redis_ack_tracker_pop_dead_letter (loop->tracker))) {
    GstRedisDeadLetterResult result = GST_REDIS_DEAD_LETTER_WRITTEN;
    GError *why = NULL;

    if (loop->dead_letter_info == NULL)
      loop->dead_letter_info = gst_redis_info_new_for_stream (loop->settings,
          loop->dead_letter_stream);
    target.dead_letter_info = loop->dead_letter_info;
    if (!gst_redis_dead_letter_write (loop->conn, &target, dl, &result,
            &why, cancellable, error)) {
      gst_redis_dead_letter_free (dl);
      return FALSE;
    }
    if (result != GST_REDIS_DEAD_LETTER_REFUSED) {
      GST_OBJECT_LOCK (loop->element);
      loop->stats.dead_lettered++;
      GST_OBJECT_UNLOCK (loop->element);
    }
    read_loop_warn_dead_letter (loop, dl, result, why);
    g_clear_error (&why);
    gst_redis_dead_letter_free (dl);
  }
  return TRUE;
}

/* Sends what is due before a read and reads the replies owed to what was
 * sent before it, in the order they were sent; with no read in flight,
 * sets aside the entries due, takes over dead consumers' entries and sends
 * the next XREADGROUP. */
static gboolean
read_loop_round_trip (GstRedisReadLoop * loop, GCancellable * cancellable,
    GError ** error)
{
  GstRedisGroup *group = loop->group;
  GstRedisConnection *conn = loop->conn;

  if (loop->group_less) {
    return (loop->read_in_flight ||
        (gst_redis_metrics_send (loop->metrics, conn, cancellable, error) &&
            read_loop_send_read (loop, cancellable, error))) &&
        read_loop_read_key_unit_replies (loop, cancellable, error) &&
        gst_redis_metrics_read_reply (loop->metrics, conn, cancellable, error);
  }
  if (!loop->read_in_flight) {
    GstRedisReply *claimed = NULL;

    if (!gst_redis_group_read_acks (group, conn, cancellable, error) ||
        !read_loop_read_key_unit_replies (loop, cancellable, error) ||
        !gst_redis_metrics_read_reply (loop->metrics, conn, cancellable, error)
        || !read_loop_write_dead_letters (loop, cancellable, error))
      return FALSE;
    if (loop->history_id == NULL &&
        !gst_redis_group_claim (group, conn, cancellable, &claimed, error))
      return FALSE;
    if (claimed) {
      GstRedisReply *entries = claimed->element[1];
      GstRedisReply *first = entries->element[0];
      GstRedisReply *last = entries->element[entries->elements - 1];

      read_loop_take_entries (loop, claimed, entries);
      loop->claimed_entries = TRUE;
      if (first->type == GST_REDIS_REPLY_ARRAY && first->elements > 0 &&
          first->element[0]->type == GST_REDIS_REPLY_STRING &&
          last->type == GST_REDIS_REPLY_ARRAY && last->elements > 0 &&
          last->element[0]->type == GST_REDIS_REPLY_STRING)
        return read_loop_fetch_deliveries (loop, first->element[0]->str,
            last->element[0]->str, entries->elements, cancellable, error);
      return TRUE;
    }
    if (loop->history_id &&
        !read_loop_fetch_history_deliveries (loop, cancellable, error))
      return FALSE;
    if ((loop->history_id == NULL &&
            !gst_redis_group_watch_send (&loop->watch, conn, cancellable,
                error)) ||
        !gst_redis_metrics_send (loop->metrics, conn, cancellable, error) ||
        !read_loop_send_read (loop, cancellable, error))
      return FALSE;
  }
  if (!gst_redis_group_read_acks (group, conn, cancellable, error) ||
      !read_loop_read_key_unit_replies (loop, cancellable, error) ||
      !gst_redis_group_watch_read (&loop->watch, conn, cancellable, error) ||
      !gst_redis_metrics_read_reply (loop->metrics, conn, cancellable, error))
    return FALSE;
  read_loop_follow_retention (loop);
  return TRUE;
}

/* The reply of an XREADGROUP: its entries are decoded next; a group that
 * disappeared is made again. */
static ReadStep
read_loop_take_reply (GstRedisReadLoop * loop, GstRedisReply * reply,
    GCancellable * cancellable, GError ** error)
{
  gboolean nogroup = FALSE;
  GError *err = NULL;

  loop->reply = gst_redis_reply_ref_new (reply);
  loop->reply_index = 0;
  loop->claimed_entries = FALSE;
  loop->entries = read_loop_reply_entries (loop, reply, &nogroup, &err);
  if (loop->entries) {
    /* entries to push: the next step takes the first */
    if (!loop->group_less) {
      gst_redis_group_note_read (loop->group, loop->entries);
      if (loop->history_id == NULL)
        gst_redis_group_watch_note_read (&loop->watch, loop->entries);
    }
    return READ_STEP_AGAIN;
  }

  g_clear_pointer (&loop->reply, gst_redis_reply_ref_unref);
  if (err) {
    if (nogroup) {
      gboolean made;

      g_clear_pointer (&loop->history_id, g_free);
      made = gst_redis_group_recreate (loop->group, loop->conn, err,
          cancellable, error);
      gst_redis_group_watch_group_made (&loop->watch);
      g_clear_error (&err);
      return made ? READ_STEP_AGAIN : READ_STEP_ERROR;
    }
    g_propagate_error (error, err);
    return READ_STEP_ERROR;
  }
  if (loop->history_id) {
    GST_DEBUG_OBJECT (loop->element, "no more pending entries, reading new "
        "ones");
    g_clear_pointer (&loop->history_id, g_free);
    return READ_STEP_AGAIN;
  }
  return READ_STEP_EMPTY;
}

/* One step of reading: the next entry of the last reply, or the
 * acknowledgements, claims and samples due and the next XREADGROUP, with
 * its reply. */
static ReadStep
read_loop_step (GstRedisReadLoop * loop, GCancellable * cancellable,
    GstRedisFrame * frame, GError ** error)
{
  GstRedisReply *reply;
  GError *err = NULL;

  /* Nothing goes out behind a read still in flight (interrupted by a
   * flush): its reply comes first, and is read first. */
  if (!loop->read_in_flight) {
    gst_redis_ack_tracker_take_acks (loop->tracker, loop->group->ack_now);
    if (!gst_redis_group_send_acks (loop->group, loop->conn, cancellable,
            &err) || !read_loop_send_key_unit_request (loop, cancellable, &err))
      goto failed;
  }

  /* Entries left from a read of several. */
  if (loop->entries && loop->reply_index < loop->entries->elements) {
    if (!read_loop_decode_entry (loop,
            loop->entries->element[loop->reply_index++], cancellable, frame,
            &err) && err)
      goto failed;
    return READ_STEP_AGAIN;
  }
  loop->entries = NULL;
  g_clear_pointer (&loop->reply, gst_redis_reply_ref_unref);

  /* After a flush, frames dropped on the way are read again first. */
  if (!loop->read_in_flight && loop->history_id == NULL &&
      gst_redis_ack_tracker_take_reread (loop->tracker)) {
    GST_DEBUG_OBJECT (loop->element, "reading own pending entries again");
    loop->history_id = g_strdup ("0");
    loop->history_at_start = FALSE;
  }
  if (!read_loop_round_trip (loop, cancellable, &err))
    goto failed;
  if (loop->entries)
    return READ_STEP_AGAIN;

  reply = gst_redis_connection_read_reply (loop->conn, loop->block,
      cancellable, &err);
  if (reply == NULL)
    goto failed;
  loop->read_in_flight = FALSE;
  if (gst_redis_reply_is_error (reply, "UNBLOCKED")) {
    /* Redis ended the blocked read: the stream was deleted (DEL), replaced
     * (SET), or moved to another node (MIGRATE). The next read says
     * which: NOGROUP, WRONGTYPE, or ASK. Not a lost connection. */
    GST_INFO_OBJECT (loop->element, "read of stream \"%s\" ended by Redis: "
        "%s", loop->settings->stream, reply->str);
    gst_redis_reply_free (reply);
    return READ_STEP_AGAIN;
  }
  return read_loop_take_reply (loop, reply, cancellable, error);

  /* ERRORS */
failed:
  {
    g_propagate_error (error, err);
    return READ_STEP_ERROR;
  }
}

/* Steps until there is a frame, or until a read came back empty unless
 * @wait. A lost connection is retried; FALSE with @error when reading
 * failed for good or was cancelled. */
static gboolean
read_loop_next (GstRedisReadLoop * loop, GCancellable * cancellable,
    gboolean wait, GstRedisFrame * frame, GError ** error)
{
  GError *err = NULL;

  memset (frame, 0, sizeof (*frame));
  while (frame->buffer == NULL) {
    /* No step starts after unlock (): the socket is only polled (and the
     * cancellable seen) when a reply is not there yet, so a quick one
     * would be read and its entry made into a buffer basesrc drops. */
    if (g_cancellable_set_error_if_cancelled (cancellable, &err))
      goto failed;
    switch (read_loop_step (loop, cancellable, frame, &err)) {
      case READ_STEP_AGAIN:
        break;
      case READ_STEP_EMPTY:
        if (!wait)
          return TRUE;
        break;
      case READ_STEP_ERROR:
        /* a lost connection is retried; anything else ends the stream */
        if (!gst_redis_outage_is_loss (&loop->outage, loop->conn, err) ||
            !read_loop_reconnect (loop, cancellable, &err))
          goto failed;
        break;
    }
  }
  return TRUE;

  /* ERRORS */
failed:
  {
    g_propagate_error (error, err);
    return FALSE;
  }
}

/* The next frame of the stream, its caps and its entry's id in @frame:
 * reads until there is one. FALSE with @error when reading failed for good
 * (a lost connection is retried first) or was cancelled. */
gboolean
gst_redis_read_loop_next (GstRedisReadLoop * loop, GCancellable * cancellable,
    GstRedisFrame * frame, GError ** error)
{
  return read_loop_next (loop, cancellable, TRUE, frame, error);
}

/* Like gst_redis_read_loop_next (), but returns TRUE with @frame empty once
 * a read came back empty; reads block for at most @wait_us (-1: block). */
gboolean
gst_redis_read_loop_next_within (GstRedisReadLoop * loop,
    GCancellable * cancellable, gint64 wait_us, GstRedisFrame * frame,
    GError ** error)
{
  loop->read_block = wait_us < 0 ? loop->block :
      MAX (1, MIN (loop->block, wait_us / 1000 + 1));
  return read_loop_next (loop, cancellable, FALSE, frame, error);
}

/* A reply still owed would be read after the next command's: the
 * connection is made again instead (cheaper than waiting for a blocked
 * XREAD to come back). */
gboolean
gst_redis_read_loop_set_cursor (GstRedisReadLoop * loop, const gchar * id,
    GCancellable * cancellable, GError ** error)
{
  loop->entries = NULL;
  g_clear_pointer (&loop->reply, gst_redis_reply_ref_unref);
  g_free (loop->cursor);
  loop->cursor = g_strdup (id);
  loop->read_block = loop->block;
  if (!loop->read_in_flight && loop->publishes_in_flight == 0)
    return TRUE;
  GST_DEBUG_OBJECT (loop->element, "dropping a reply still on its way");
  loop->read_in_flight = FALSE;
  loop->publishes_in_flight = 0;
  gst_redis_connection_close (loop->conn);
  return gst_redis_connection_open (loop->conn, cancellable, error);
}

/* At stop, before the connection closes: the acknowledgements and dead
 * letters due are sent. A read still in flight is not waited for: on a
 * live stream it would hand over the next entry, to stay pending; the
 * connection is made again instead (what a read answered already stays
 * pending). Nothing is sent when nothing is due, so stopping while waiting
 * for an entry stays immediate; a failure leaves the entries pending. */
void
gst_redis_read_loop_finish (GstRedisReadLoop * loop, GCancellable * cancellable)
{
  GstRedisGroup *group = loop->group;
  GError *err = NULL;

  if (loop->conn == NULL || gst_redis_outage_active (&loop->outage) ||
      !gst_redis_connection_is_open (loop->conn))
    return;
  gst_redis_ack_tracker_settle_alive (loop->tracker);
  gst_redis_ack_tracker_take_acks (loop->tracker, group->ack_now);
  if (group->ack_now->len == 0 &&
      !gst_redis_ack_tracker_has_dead_letters (loop->tracker))
    return;
  if (!gst_redis_group_read_acks (group, loop->conn, cancellable, &err) ||
      !read_loop_read_key_unit_replies (loop, cancellable, &err) ||
      !gst_redis_group_watch_read (&loop->watch, loop->conn, cancellable,
          &err) || !gst_redis_metrics_read_reply (loop->metrics, loop->conn,
          cancellable, &err))
    goto failed;
  if (loop->read_in_flight) {
    GST_DEBUG_OBJECT (loop->element, "a read in flight at stop: connecting "
        "again to send what is due");
    loop->read_in_flight = FALSE;
    gst_redis_connection_close (loop->conn);
    if (!gst_redis_connection_open (loop->conn, cancellable, &err))
      goto failed;
  }
  if (!gst_redis_group_send_acks (group, loop->conn, cancellable, &err) ||
      !gst_redis_group_read_acks (group, loop->conn, cancellable, &err) ||
      !read_loop_write_dead_letters (loop, cancellable, &err))
    goto failed;
  return;

failed:
  GST_INFO_OBJECT (loop->element, "could not send what was due at stop (%s): "
      "those entries stay pending", err->message);
  g_clear_error (&err);
}
