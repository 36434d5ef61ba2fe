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

/* The consumer-group side of redisstreamsrc (gstredisgroup.h): making the
 * group, acknowledging, taking over dead consumers' entries, and
 * claim-idle-time following how long the stream keeps its entries. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisgroup.h"
#include "gstredisstreamselements.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* Without claim-idle-time set, take over a dead worker's entries after a
 * quarter of the time the stream keeps its entries, within these bounds. */
#define AUTO_CLAIM_IDLE_MIN 500
#define AUTO_CLAIM_IDLE_DIVISOR 4

void
gst_redis_group_init (GstRedisGroup * group, GstElement * element,
    const GstRedisSettings * settings, GstRedisKeyUnitGate * gate)
{
  group->element = element;
  group->settings = settings;
  group->gate = gate;
  group->ack_now = g_ptr_array_new_with_free_func (g_free);
  gst_redis_command_init (&group->cmd);
}

void
gst_redis_group_clear (GstRedisGroup * group)
{
  g_clear_pointer (&group->name, g_free);
  g_clear_pointer (&group->consumer, g_free);
  g_clear_pointer (&group->start_id, g_free);
  g_clear_pointer (&group->read_pos, g_free);
  g_clear_pointer (&group->pushed_id, g_free);
  g_clear_pointer (&group->claim_cursor, g_free);
  g_clear_pointer (&group->ack_now, g_ptr_array_unref);
  gst_redis_command_clear (&group->cmd);
}

void
gst_redis_group_configure (GstRedisGroup * group, const gchar * name,
    const gchar * consumer, const gchar * start_id, guint count,
    guint claim_idle_time, gboolean claim_idle_time_set)
{
  g_free (group->name);
  group->name = g_strdup (name);
  g_free (group->consumer);
  group->consumer = g_strdup (consumer);
  g_free (group->start_id);
  group->start_id = g_strdup (start_id);
  group->count = count;
  memset (&group->stats, 0, sizeof (group->stats));
  group->stats.claim_idle = claim_idle_time;
  group->claim_idle_auto = !claim_idle_time_set;
  group->claim_idle_warned = FALSE;
}

/* Streaming state of a start, after gst_redis_group_configure (). */
void
gst_redis_group_start (GstRedisGroup * group)
{
  group->acks_in_flight = 0;
  group->last_claim = 0;
  g_free (group->claim_cursor);
  group->claim_cursor = g_strdup ("0-0");
  g_clear_pointer (&group->read_pos, g_free);
  group->read_pos_valid = FALSE;
}

void
gst_redis_group_stop (GstRedisGroup * group)
{
  g_clear_pointer (&group->pushed_id, g_free);
  g_clear_pointer (&group->claim_cursor, g_free);
  g_ptr_array_set_size (group->ack_now, 0);
}

/* Replies owed on a lost connection never come. */
void
gst_redis_group_connection_lost (GstRedisGroup * group)
{
  group->acks_in_flight = 0;
}

/* XGROUP CREATE ... MKSTREAM; an existing group is fine. */
gboolean
gst_redis_group_create (GstRedisGroup * group, GstRedisConnection * conn,
    const gchar * start_id, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;
  const gchar *stream = group->settings->stream;

  reply = gst_redis_connection_call (conn, cancellable, error, "XGROUP",
      "CREATE", stream, group->name, start_id, "MKSTREAM", NULL);
  if (reply == NULL)
    return FALSE;
  if (gst_redis_reply_is_error (reply, "BUSYGROUP")) {
    GST_DEBUG_OBJECT (group->element, "group \"%s\" exists", group->name);
    return TRUE;
  }
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    gst_redis_connection_set_refused (conn, reply,
        GST_RESOURCE_ERROR_OPEN_READ, error, "create the consumer group "
        "\"%s\" on stream \"%s\"%s", group->name, stream,
        g_str_has_prefix (reply->str, "WRONGTYPE") ?
        " (the key holds something else than a stream)" : "");
    return FALSE;
  }
  GST_INFO_OBJECT (group->element, "created group \"%s\" on stream \"%s\" at "
      "%s", group->name, stream, start_id);
  return TRUE;
}

/* NOGROUP: the group or the stream was deleted (XGROUP DESTROY, DEL, a
 * Redis restart without persistence). Makes it again after the last entry
 * read here, so that nothing read is read again (no replay of the stream)
 * and nothing written since is lost. */
gboolean
gst_redis_group_recreate (GstRedisGroup * group, GstRedisConnection * conn,
    const GError * nogroup, GCancellable * cancellable, GError ** error)
{
  const gchar *at = group->read_pos ? group->read_pos : group->start_id;

  if (group->read_pos) {
    GST_REDIS_ELEMENT_WARNING (group->element, group->settings, RESOURCE, READ,
        ("The consumer group \"%s\" of stream \"%s\" disappeared; "
            "creating it again after entry %s, the last one read "
            "here: entries written since are read, older ones are "
            "not read again.", group->name, group->settings->stream, at),
        ("%s", nogroup->message));
  } else {
    GST_REDIS_ELEMENT_WARNING (group->element, group->settings, RESOURCE, READ,
        ("The consumer group \"%s\" of stream \"%s\" disappeared "
            "before anything was read; creating it again at "
            "start-id %s.", group->name, group->settings->stream, at),
        ("%s", nogroup->message));
  }
  return gst_redis_group_create (group, conn, at, cancellable, error);
}

/* An entry id as Redis writes them: "<ms>-<seq>" or "<ms>". */
gboolean
gst_redis_entry_id_is_valid (const gchar * id)
{
  const gchar *p = id;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '-') {
    p++;
    if (!g_ascii_isdigit (*p))
      return FALSE;
    while (g_ascii_isdigit (*p))
      p++;
  }
  return *p == '\0' && p - id <= 41;
}

/* "<ms>-<seq>" (or "<ms>") as two numbers, to compare entry ids. */
gboolean
gst_redis_entry_id_parse (const gchar * id, guint64 * ms, guint64 * seq)
{
  gchar *end;

  if (!gst_redis_entry_id_is_valid (id))
    return FALSE;
  *ms = g_ascii_strtoull (id, &end, 10);
  *seq = *end == '-' ? g_ascii_strtoull (end + 1, NULL, 10) : 0;
  return TRUE;
}

/* Remembers the largest entry id of a reply: a group that disappears is
 * made again after it, so that what was read here is not read again and
 * what came after is not lost. */
void
gst_redis_group_note_read (GstRedisGroup * group, GstRedisReply * entries)
{
  gsize i;

  for (i = 0; i < entries->elements; i++) {
    GstRedisReply *e = entries->element[i];
    guint64 ms, seq;

    if (e->type != GST_REDIS_REPLY_ARRAY || e->elements < 1 ||
        e->element[0]->type != GST_REDIS_REPLY_STRING ||
        !gst_redis_entry_id_parse (e->element[0]->str, &ms, &seq))
      continue;
    if (group->read_pos_valid && (ms < group->read_pos_ms ||
            (ms == group->read_pos_ms && seq <= group->read_pos_seq)))
      continue;
    g_free (group->read_pos);
    group->read_pos = g_strdup (e->element[0]->str);
    group->read_pos_ms = ms;
    group->read_pos_seq = seq;
    group->read_pos_valid = TRUE;
  }
}

/* Takes @id, to acknowledge with the next read whatever happens downstream:
 * an entry skipped (invalid, late, deleted) or dropped. */
void
gst_redis_group_acknowledge (GstRedisGroup * group, gchar * id)
{
  g_ptr_array_add (group->ack_now, id);
}

/* Takes @id, the entry whose buffer is being pushed: acknowledged by
 * gst_redis_group_settle_push () once the push returned OK. */
void
gst_redis_group_set_pushed (GstRedisGroup * group, gchar * id)
{
  g_free (group->pushed_id);
  group->pushed_id = id;
}

/* The entry pushed last is acknowledged once its push came back OK (@last);
 * a flush that dropped it leaves it pending, to be read again. */
void
gst_redis_group_settle_push (GstRedisGroup * group, GstFlowReturn last)
{
  if (group->pushed_id == NULL)
    return;
  if (last == GST_FLOW_OK) {
    g_ptr_array_add (group->ack_now, g_steal_pointer (&group->pushed_id));
  } else {
    GST_DEBUG_OBJECT (group->element, "not acknowledging %s: %s",
        group->pushed_id, gst_flow_get_name (last));
    g_clear_pointer (&group->pushed_id, g_free);
  }
}

/* Sends one XACK for the entries pushed or skipped since the last read,
 * without waiting for the reply: it is read before the next XREADGROUP
 * reply. */
gboolean
gst_redis_group_send_acks (GstRedisGroup * group, GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  guint i;

  if (group->ack_now->len == 0)
    return TRUE;

  gst_redis_command_reset (&group->cmd);
  gst_redis_command_add (&group->cmd, "XACK");
  gst_redis_command_add (&group->cmd, group->settings->stream);
  gst_redis_command_add (&group->cmd, group->name);
  for (i = 0; i < group->ack_now->len; i++)
    gst_redis_command_add (&group->cmd, g_ptr_array_index (group->ack_now, i));
  if (!gst_redis_connection_send (conn, &group->cmd, cancellable, error))
    return FALSE;
  group->acks_in_flight++;
  GST_LOG_OBJECT (group->element, "acknowledged %u entries",
      group->ack_now->len);
  g_ptr_array_set_size (group->ack_now, 0);
  return TRUE;
}

gboolean
gst_redis_group_read_acks (GstRedisGroup * group, GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  while (group->acks_in_flight > 0) {
    GstRedisReply *reply = gst_redis_connection_read_reply (conn, 0,
        cancellable, error);

    if (reply == NULL)
      return FALSE;
    group->acks_in_flight--;
    if (gst_redis_reply_is_error (reply, "NOGROUP") ||
        gst_redis_reply_is_error (reply, "WRONGTYPE")) {
      /* the stream or the group is gone: the next read says which */
      GST_INFO_OBJECT (group->element, "acknowledgement refused: %s",
          reply->str);
    } else if (reply->type != GST_REDIS_REPLY_INTEGER) {
      gst_redis_connection_set_refused (conn, reply,
          GST_RESOURCE_ERROR_WRITE, error, "acknowledge an entry of stream "
          "\"%s\" in group \"%s\"", group->settings->stream, group->name);
      gst_redis_reply_free (reply);
      return FALSE;
    }
    gst_redis_reply_free (reply);
  }
  return TRUE;
}

/* Pending entries that were trimmed from the stream before they were
 * processed: lost. */
void
gst_redis_group_count_deleted (GstRedisGroup * group, guint64 n)
{
  GST_OBJECT_LOCK (group->element);
  group->stats.skipped_deleted += n;
  GST_OBJECT_UNLOCK (group->element);
}

static void
group_claim_deleted (GstRedisGroup * group, GstRedisConnection * conn,
    GstRedisReply * ids)
{
  GString *list = g_string_new (NULL);
  gsize i;

  for (i = 0; i < ids->elements; i++) {
    if (ids->element[i]->type != GST_REDIS_REPLY_STRING)
      continue;
    GST_WARNING_OBJECT (group->element, "pending entry %s of group \"%s\" "
        "was trimmed from stream \"%s\" before it was taken over: lost",
        ids->element[i]->str, group->name, group->settings->stream);
    if (i < 20)
      g_string_append_printf (list, "%s%s", i ? " " : "", ids->element[i]->str);
  }
  if (ids->elements > 20)
    g_string_append (list, " ...");
  gst_redis_group_count_deleted (group, ids->elements);
  GST_REDIS_ELEMENT_WARNING (group->element, group->settings, RESOURCE, READ,
      ("%" G_GSIZE_FORMAT " frames of stream \"%s\" that a consumer of group "
          "\"%s\" had read but not acknowledged (it stopped or died) were "
          "trimmed from the stream before they could be taken over: they are "
          "lost. Lower claim-idle-time (now %u ms) or raise the producer's "
          "maxlen.", ids->elements, group->settings->stream, group->name,
          group->stats.claim_idle), ("entries %s", list->str));
  g_string_free (list, TRUE);
}

/* An XAUTOCLAIM that Redis refused: a user without +xautoclaim is told
 * once, and claiming stops; anything else (NOGROUP) shows up in the next
 * read. */
static void
group_claim_refused (GstRedisGroup * group, GstRedisConnection * conn,
    GstRedisReply * reply)
{
  if (g_str_has_prefix (reply->str, "NOPERM")) {
    GST_REDIS_ELEMENT_WARNING (group->element, group->settings,
        RESOURCE, NOT_AUTHORIZED,
        ("Redis at %s does not let this user run XAUTOCLAIM on stream "
            "\"%s\", so entries left by dead consumers will not be taken "
            "over; grant +xautoclaim or set claim-idle-time=0.",
            gst_redis_connection_describe (conn), group->settings->stream),
        ("%s", reply->str));
    group->stats.claim_idle = 0;
  } else {
    GST_WARNING_OBJECT (group->element, "XAUTOCLAIM failed: %s", reply->str);
  }
}

/* Takes over entries that other consumers of the group read but did not
 * acknowledge within claim-idle-time (a worker that died): XAUTOCLAIM,
 * at most once a second. Sets @claimed to the reply when it has entries,
 * in the shape of an XREADGROUP reply's entries at element 1. Not while
 * this consumer re-reads its own pending entries. */
gboolean
gst_redis_group_claim (GstRedisGroup * group, GstRedisConnection * conn,
    GCancellable * cancellable, GstRedisReply ** claimed, GError ** error)
{
  GstRedisReply *reply;
  gint64 now = g_get_monotonic_time ();
  guint claim_idle = group->stats.claim_idle;
  gchar idle[16], count[16];

  *claimed = NULL;
  /* at most once a second, or twice per claim-idle-time when shorter */
  if (claim_idle == 0 || now - group->last_claim < MIN (G_TIME_SPAN_SECOND,
          (gint64) claim_idle * 1000 / 2))
    return TRUE;
  group->last_claim = now;

  g_snprintf (idle, sizeof (idle), "%u", claim_idle);
  g_snprintf (count, sizeof (count), "%u", group->count);
  reply = gst_redis_connection_call (conn, cancellable, error,
      "XAUTOCLAIM", group->settings->stream, group->name, group->consumer,
      idle, group->claim_cursor, "COUNT", count, NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    group_claim_refused (group, conn, reply);
    gst_redis_reply_free (reply);
    return TRUE;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[0]->type != GST_REDIS_REPLY_STRING ||
      reply->element[1]->type != GST_REDIS_REPLY_ARRAY) {
    gst_redis_reply_free (reply);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s sent an XAUTOCLAIM reply of unexpected shape",
        gst_redis_connection_describe (conn));
    return FALSE;
  }
  g_free (group->claim_cursor);
  group->claim_cursor = g_strdup (reply->element[0]->str);
  /* Redis 7: the ids of pending entries that were trimmed from the stream,
   * which XAUTOCLAIM has just removed from the pending list. Their frames
   * are lost; say which. */
  if (reply->elements >= 3 && reply->element[2]->type == GST_REDIS_REPLY_ARRAY
      && reply->element[2]->elements > 0)
    group_claim_deleted (group, conn, reply->element[2]);
  if (reply->element[1]->elements == 0) {
    gst_redis_reply_free (reply);
    return TRUE;
  }
  GST_INFO_OBJECT (group->element, "claimed %" G_GSIZE_FORMAT " entries idle "
      "for more than %u ms", reply->element[1]->elements, claim_idle);
  GST_OBJECT_LOCK (group->element);
  group->stats.claimed += reply->element[1]->elements;
  GST_OBJECT_UNLOCK (group->element);
  *claimed = reply;
  /* more may be waiting: look again at the next read */
  if (!g_str_equal (group->claim_cursor, "0-0"))
    group->last_claim = 0;
  return TRUE;
}

/* How long the stream keeps an entry (@retention ms at @rate entries/s, as
 * the read loop measured it): claim-idle-time follows it when it is not
 * set, and is reported when it is set longer. */
void
gst_redis_group_follow_retention (GstRedisGroup * group, guint retention,
    gdouble rate)
{
  GST_OBJECT_LOCK (group->element);
  if (group->claim_idle_auto && group->stats.claim_idle > 0)
    group->stats.claim_idle = CLAMP (retention / AUTO_CLAIM_IDLE_DIVISOR,
        AUTO_CLAIM_IDLE_MIN, GST_REDIS_GROUP_DEFAULT_CLAIM_IDLE_TIME);
  GST_OBJECT_UNLOCK (group->element);
  GST_LOG_OBJECT (group->element, "stream keeps %u ms (%.1f entries/s), "
      "claiming after %u ms", retention, rate, group->stats.claim_idle);
  if (!group->claim_idle_auto && group->stats.claim_idle > retention &&
      !group->claim_idle_warned) {
    GST_REDIS_ELEMENT_WARNING (group->element, group->settings,
        RESOURCE, SETTINGS,
        ("claim-idle-time=%u ms is longer than stream \"%s\" keeps its "
            "entries (about %u ms at %.0f entries/s): the frames of a "
            "consumer that died are trimmed before another one takes "
            "them over, and are lost (counted in skipped-deleted). Leave "
            "claim-idle-time unset, set it below %u, or raise maxlen.",
            group->stats.claim_idle, group->settings->stream, retention, rate,
            retention / AUTO_CLAIM_IDLE_DIVISOR), (NULL));
    group->claim_idle_warned = TRUE;
  }
}

/* The group and consumer names and start-id, before anything is sent. */
gboolean
gst_redis_group_validate (GstRedisGroup * group, GError ** error)
{
  const gchar *bad = NULL, *what = NULL;

  if (group->name == NULL || *group->name == '\0' ||
      strpbrk (group->name, " \t\r\n")) {
    bad = group->name;
    what = "group name";
  } else if (group->consumer == NULL || *group->consumer == '\0'
      || strpbrk (group->consumer, " \t\r\n")) {
    bad = group->consumer;
    what = "consumer name";
  } else if (group->start_id == NULL || (strcmp (group->start_id, "$") != 0
          && !gst_redis_entry_id_is_valid (group->start_id))) {
    bad = group->start_id;
    what = "start-id (\"$\", \"0\" or an entry id like 1700000000000-0)";
  }
  if (what) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The %s \"%s\" is not valid: it must be non-empty and without "
        "spaces", what, bad ? bad : "");
    return FALSE;
  }
  return TRUE;
}

/* At stop: a consumer that has nothing pending leaves the group (XGROUP
 * DELCONSUMER), so that a reader that stopped cleanly is not listed with a
 * growing idle time, as a dead one is. One with pending entries stays, so
 * that it (the same name at its next start) or another consumer (after
 * claim-idle-time) finishes them: DELCONSUMER would drop them from the
 * group's pending list for good, hence XPENDING for its name first. A read
 * still blocked on @conn is not waited for: the connection is made again,
 * and an entry Redis delivered to that read meanwhile shows up as pending.
 * Best effort: a refusal (ACL rules without +xpending +xgroup|delconsumer)
 * or a failure only leaves the consumer listed, as before. Returns TRUE
 * when the consumer left. */
gboolean
gst_redis_group_leave (GstRedisGroup * group, GstRedisConnection * conn)
{
  const gchar *stream = group->settings->stream;
  g_autoptr (GstRedisReply) pending = NULL;
  g_autoptr (GstRedisReply) deleted = NULL;
  GError *err = NULL;

  if (group->name == NULL || group->consumer == NULL)
    return FALSE;
  if (gst_redis_node_get_pending (gst_redis_connection_get_node (conn)) > 0
      && !gst_redis_connection_open (conn, NULL, &err))
    goto failed;
  pending = gst_redis_connection_call (conn, NULL, &err, "XPENDING", stream,
      group->name, "-", "+", "1", group->consumer, NULL);
  if (pending == NULL)
    goto failed;
  if (pending->type != GST_REDIS_REPLY_ARRAY || pending->elements > 0) {
    GST_DEBUG_OBJECT (group->element, "consumer \"%s\" stays in group \"%s\""
        ": %s", group->consumer, group->name,
        pending->type == GST_REDIS_REPLY_ARRAY ? "it has entries pending" :
        pending->type == GST_REDIS_REPLY_ERROR ? pending->str : "XPENDING?");
    return FALSE;
  }
  deleted = gst_redis_connection_call (conn, NULL, &err, "XGROUP",
      "DELCONSUMER", stream, group->name, group->consumer, NULL);
  if (deleted == NULL)
    goto failed;
  if (deleted->type == GST_REDIS_REPLY_INTEGER) {
    GST_INFO_OBJECT (group->element, "consumer \"%s\" left group \"%s\" of "
        "stream \"%s\"", group->consumer, group->name, stream);
    return TRUE;
  }
  GST_INFO_OBJECT (group->element, "consumer \"%s\" stays in group \"%s\": %s",
      group->consumer, group->name,
      deleted->type == GST_REDIS_REPLY_ERROR ? deleted->str : "DELCONSUMER?");
  return FALSE;

failed:
  GST_INFO_OBJECT (group->element, "consumer \"%s\" stays in group \"%s\": "
      "%s", group->consumer, group->name, err->message);
  g_error_free (err);
  return FALSE;
}
