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

/* Where redisstreamsrc's consumer group stands in the stream
 * (gstredisgroupwatch.h).
 *
 * What Redis 7 tells, and what it means here. XINFO STREAM: entries-added
 * (A, every entry ever added), length (N), the oldest entry (F,
 * recorded-first-entry-id), the newest (last-generated-id) and the largest
 * id XDEL removed. XINFO GROUPS, per group: last-delivered-id (L),
 * entries-read (E) and lag (A - E). E counts the entries delivered to the
 * group: an entry trimmed before the group read it is never counted, so
 * the lag keeps it for the group's life (and an AOF replay or XGROUP SETID
 * without ENTRIESREAD leaves E unknown, nil). So:
 *
 * - lag - N is at most the number of entries the group lost to trimming
 *   (the lag also counts the unread entries still in the stream, at most
 *   N), and exactly that when L is older than F: just before a read that
 *   jumps over trimmed entries. While reading, each look counts what that
 *   lower bound grew by (`level` is what was counted so far); a look is
 *   taken before every read while the entries read are older than half of
 *   what the stream keeps, so the jump is seen.
 * - A look and the read behind it share a round trip, not a transaction:
 *   Redis may run the producer's XADD, and its trimming, between them (or
 *   between XINFO GROUPS and XINFO STREAM: a full look's lag is taken as of
 *   XINFO STREAM). The read then jumps over entries the look did not
 *   count. It shows when a full look found the group behind the oldest
 *   entry and the read returns a later one, or when the entries' seq jumps
 *   after a light look; the next look is then a full one, and counts them
 *   exactly: lag - N + the entries read from the jump on, when the entry
 *   it jumped to is still in the stream (the entries before it are not).
 * - At start, when L is older than F, the group missed A - N - E entries
 *   between L and F (entries it read were all trimmed too), over F - L
 *   milliseconds of the stream. After a reconnect the same holds only when
 *   the counters still follow those seen before (Redis kept running): a
 *   restarted Redis may have lost E or brought back an older one (an AOF
 *   rewritten earlier restores entries-read as it was then, redis/redis
 *   issue 10569), which would look like thousands of lost entries; then
 *   only the time span is told, and the counting starts again.
 * - L moving back, or E turning unknown while L moved beyond this
 *   consumer's reads, is someone else's doing (XGROUP SETID, a group made
 *   again): warned about; the entries delivered again are counted as they
 *   come, the entries skipped when Redis can tell (E known again). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisgroupwatch.h"
#include "gstredisgroup.h"
#include "gstredisstreamselements.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* The least time between two looks while the group reads fresh entries,
 * between two reads of <stream>:info, over which the stream's rate is
 * measured, and between two warnings about trimmed entries. */
#define LOOK_INTERVAL G_TIME_SPAN_SECOND
#define INFO_INTERVAL (10 * G_TIME_SPAN_SECOND)
#define RATE_INTERVAL G_TIME_SPAN_SECOND
#define TRIM_WARNING_INTERVAL (10 * G_TIME_SPAN_SECOND)
/* The least time between two full looks after a jump in seq (a stream of
 * several producers, or out of order after several processors, jumps
 * often: their full looks carry two entries), unless the last one found
 * entries lost. */
#define GAP_LOOK_INTERVAL (10 * G_TIME_SPAN_SECOND)
/* The field of <stream>:info that says how the stream is trimmed, and the
 * longest value of it quoted in a message. */
#define INFO_FIELD "retention"
#define TRIMMING_MAX_LEN 64

/* What XINFO STREAM says. */
typedef struct
{
  gint64 added, len;
  GstRedisEntryPos first, last, deleted;
  gchar first_id[GST_REDIS_ENTRY_ID_LEN];
  gchar last_id[GST_REDIS_ENTRY_ID_LEN];
} StreamLook;

static void watch_look_steady (GstRedisGroupWatch * watch,
    const GstRedisGroupLook * cur, const StreamLook * s);

void
gst_redis_group_watch_init (GstRedisGroupWatch * watch, GstElement * element,
    const GstRedisSettings * settings, GstRedisKeyUnitGate * gate)
{
  watch->element = element;
  watch->settings = settings;
  watch->gate = gate;
  gst_redis_command_init (&watch->cmd);
}

void
gst_redis_group_watch_clear (GstRedisGroupWatch * watch)
{
  g_clear_pointer (&watch->group, g_free);
  g_clear_pointer (&watch->info_key, g_free);
  g_clear_pointer (&watch->trimming, g_free);
  gst_redis_command_clear (&watch->cmd);
}

void
gst_redis_group_watch_reset_stats (GstRedisGroupWatch * watch)
{
  memset (&watch->stats, 0, sizeof (watch->stats));
}

/* Streaming state of a start: the first look is a full one. */
void
gst_redis_group_watch_start (GstRedisGroupWatch * watch, const gchar * group)
{
  g_free (watch->group);
  watch->group = g_strdup (group);
  g_free (watch->info_key);
  watch->info_key = g_strdup_printf ("%s:info", watch->settings->stream);
  watch->enabled = watch->stream_enabled = watch->info_enabled = TRUE;
  watch->owed = 0;
  watch->first_due = TRUE;
  watch->after_reconnect = watch->group_made = FALSE;
  watch->gap_pending = watch->seq_valid = watch->expect_valid = FALSE;
  watch->gap_found = FALSE;
  watch->gap_look_at = 0;
  watch->last_look = watch->info_at = 0;
  g_clear_pointer (&watch->trimming, g_free);
  watch->trimming_read = FALSE;
  watch->prev_valid = FALSE;
  watch->reads = 0;
  watch->last_read_valid = FALSE;
  watch->move_pending = watch->replaying = FALSE;
  /* until a look shows the reads of other consumers */
  watch->alone = TRUE;
  watch->level_valid = FALSE;
  watch->unwarned = 0;
  watch->last_warning = 0;
  watch->added_valid = watch->retention_new = FALSE;
}

/* This source made the group (it was missing, or disappeared): it missed
 * nothing, and its position starts here. */
void
gst_redis_group_watch_group_made (GstRedisGroupWatch * watch)
{
  watch->group_made = TRUE;
  watch->prev_valid = watch->expect_valid = FALSE;
  watch->level_valid = FALSE;
  watch->move_pending = watch->replaying = FALSE;
  watch->added_valid = FALSE;
}

/* Replies owed on a lost connection never come. */
void
gst_redis_group_watch_connection_lost (GstRedisGroupWatch * watch)
{
  watch->owed = 0;
}

/* The first look after a reconnect is a full one. */
void
gst_redis_group_watch_reconnected (GstRedisGroupWatch * watch)
{
  watch->first_due = TRUE;
  watch->after_reconnect = TRUE;
  watch->move_pending = watch->gap_pending = watch->expect_valid = FALSE;
}

static gint
pos_cmp (const GstRedisEntryPos * a, const GstRedisEntryPos * b)
{
  if (a->ms != b->ms)
    return a->ms < b->ms ? -1 : 1;
  if (a->seq != b->seq)
    return a->seq < b->seq ? -1 : 1;
  return 0;
}

static gboolean
pos_is_zero (const GstRedisEntryPos * p)
{
  return p->ms == 0 && p->seq == 0;
}

/* An entry id of a reply into @pos and @id; FALSE when it is not one. */
static gboolean
pos_parse (const GstRedisReply * r, GstRedisEntryPos * pos, gchar * id)
{
  if (r == NULL || r->type != GST_REDIS_REPLY_STRING ||
      r->len >= GST_REDIS_ENTRY_ID_LEN ||
      !gst_redis_entry_id_parse (r->str, &pos->ms, &pos->seq))
    return FALSE;
  if (id)
    memcpy (id, r->str, r->len + 1);
  return TRUE;
}

/* The value of field @name of an XINFO reply (RESP2: name, value, ...). */
static const GstRedisReply *
xinfo_get (const GstRedisReply * reply, const gchar * name)
{
  gsize i;

  if (reply->type != GST_REDIS_REPLY_ARRAY)
    return NULL;
  for (i = 0; i + 1 < reply->elements; i += 2) {
    const GstRedisReply *k = reply->element[i];

    if (k->type == GST_REDIS_REPLY_STRING && g_str_equal (k->str, name))
      return reply->element[i + 1];
  }
  return NULL;
}

/* An integer field; FALSE when it is nil (Redis does not know it). */
static gboolean
xinfo_get_int (const GstRedisReply * reply, const gchar * name, gint64 * out)
{
  const GstRedisReply *v = xinfo_get (reply, name);

  if (v == NULL || v->type != GST_REDIS_REPLY_INTEGER)
    return FALSE;
  *out = v->integer;
  return TRUE;
}

static const GstRedisReply *
xinfo_find_group (const GstRedisReply * reply, const gchar * group)
{
  gsize g;

  if (reply->type != GST_REDIS_REPLY_ARRAY)
    return NULL;
  for (g = 0; g < reply->elements; g++) {
    const GstRedisReply *name = xinfo_get (reply->element[g], "name");

    if (name && name->type == GST_REDIS_REPLY_STRING &&
        g_str_equal (name->str, group))
      return reply->element[g];
  }
  return NULL;
}

/* The group's entry of an XINFO GROUPS reply into @look. */
static gboolean
look_parse (const GstRedisReply * g, GstRedisGroupLook * look)
{
  memset (look, 0, sizeof (*look));
  if (!pos_parse (xinfo_get (g, "last-delivered-id"), &look->pos, look->id))
    return FALSE;
  look->read_valid = xinfo_get_int (g, "entries-read", &look->read);
  look->lag_valid = xinfo_get_int (g, "lag", &look->lag);
  if (!xinfo_get_int (g, "consumers", &look->consumers))
    look->consumers = 0;
  return TRUE;
}

static gboolean
stream_look_parse (const GstRedisReply * s, StreamLook * look)
{
  memset (look, 0, sizeof (*look));
  return xinfo_get_int (s, "entries-added", &look->added) &&
      xinfo_get_int (s, "length", &look->len) &&
      pos_parse (xinfo_get (s, "recorded-first-entry-id"), &look->first,
      look->first_id) &&
      pos_parse (xinfo_get (s, "last-generated-id"), &look->last,
      look->last_id) &&
      pos_parse (xinfo_get (s, "max-deleted-entry-id"), &look->deleted, NULL);
}

/* A full look (XINFO STREAM) is due: at start, after a reconnect, to
 * measure a move or a jump. */
static gboolean
watch_full_due (GstRedisGroupWatch * watch)
{
  return watch->first_due || watch->move_pending || watch->gap_pending;
}

/* A look is due before a read of new entries: at start, after a reconnect
 * or a move (a full one), once a second, and before every read while the
 * group reads entries older than half of what the stream keeps, where the
 * next read may jump over trimmed ones. The age comes from the entry id's
 * milliseconds, the Redis server's clock (hosts are NTP-synchronised, as
 * for the sink's retention and the capture-time latency); a clock far off
 * only makes looks more or less frequent. */
static gboolean
watch_look_due (GstRedisGroupWatch * watch, gint64 now)
{
  gint64 age;

  if (watch_full_due (watch) || now - watch->last_look >= LOOK_INTERVAL)
    return TRUE;
  if (!watch->last_read_valid || watch->stats.retention == 0)
    return FALSE;
  age = g_get_real_time () / 1000 - (gint64) watch->last_read.ms;
  return age > watch->stats.retention / 2;
}

static gboolean
watch_send_command (GstRedisGroupWatch * watch, GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * a,
    const gchar * b, const gchar * c, const gchar * d)
{
  gst_redis_command_reset (&watch->cmd);
  gst_redis_command_add (&watch->cmd, a);
  gst_redis_command_add (&watch->cmd, b);
  if (c)
    gst_redis_command_add (&watch->cmd, c);
  if (d)
    gst_redis_command_add (&watch->cmd, d);
  if (!gst_redis_connection_send (conn, &watch->cmd, cancellable, error))
    return FALSE;
  watch->owed++;
  return TRUE;
}

/* Before a read of new entries, in the same round trip, when a look is
 * due: XINFO GROUPS, XINFO STREAM (a full look), XLEN, and HGET of
 * <stream>:info at most every INFO_INTERVAL. Their replies come before the
 * read's. */
gboolean
gst_redis_group_watch_send (GstRedisGroupWatch * watch,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error)
{
  const gchar *stream = watch->settings->stream;
  gint64 now = g_get_monotonic_time ();

  if (!watch->enabled || watch->owed > 0 || !watch_look_due (watch, now))
    return TRUE;
  watch->sent_full = watch_full_due (watch) && watch->stream_enabled;
  watch->sent_info = watch->info_enabled && (watch->sent_full ||
      !watch->trimming_read || now - watch->info_at >= INFO_INTERVAL);
  watch->last_look = now;
  GST_LOG_OBJECT (watch->element, "%s look at group \"%s\"%s",
      watch->sent_full ? "full" : "light", watch->group,
      watch->sent_info ? ", and at its producer's trimming" : "");
  if (!watch_send_command (watch, conn, cancellable, error, "XINFO", "GROUPS",
          stream, NULL))
    return FALSE;
  if (watch->sent_full && !watch_send_command (watch, conn, cancellable,
          error, "XINFO", "STREAM", stream, NULL))
    return FALSE;
  /* with a full look too: a user who may not run it hears so at start */
  if (!watch_send_command (watch, conn, cancellable, error, "XLEN", stream,
          NULL, NULL))
    return FALSE;
  if (watch->sent_info) {
    watch->info_at = now;
    if (!watch_send_command (watch, conn, cancellable, error, "HGET",
            watch->info_key, INFO_FIELD, NULL))
      return FALSE;
  }
  return TRUE;
}

/* The `retention` field of <stream>:info: how the producer trims. Anyone
 * who may write the hash writes it, so it is kept only when short, and
 * quoted escaped. A user who may not read it is told once; in a Redis
 * Cluster the hash may be on another node (MOVED): not followed, the
 * stream's connection stays where the stream is. */
static void
watch_use_info (GstRedisGroupWatch * watch, GstRedisConnection * conn,
    const GstRedisReply * info)
{
  if (info->type == GST_REDIS_REPLY_ERROR) {
    watch->info_enabled = FALSE;
    if (g_str_has_prefix (info->str, "NOPERM")) {
      GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings,
          RESOURCE, NOT_AUTHORIZED,
          ("Redis at %s does not let this user read \"%s\" (HGET), where "
              "the producer of stream \"%s\" says how it trims the stream: "
              "warnings about trimmed frames cannot name it; allow "
              "%%R~%s +hget.", gst_redis_connection_describe (conn),
              watch->info_key, watch->settings->stream, watch->info_key),
          ("%s", info->str));
    } else {
      GST_INFO_OBJECT (watch->element, "not reading \"%s\": %s",
          watch->info_key, info->str);
    }
    return;
  }
  g_clear_pointer (&watch->trimming, g_free);
  if (info->type == GST_REDIS_REPLY_STRING) {
    gchar *v = g_strndup (info->str, MIN (info->len, TRIMMING_MAX_LEN));

    watch->trimming = g_strescape (v, NULL);
    g_free (v);
  }
  watch->trimming_read = TRUE;
}

/* How the stream is trimmed, for a message, and what to raise. */
static gchar *
watch_describe_trimming (GstRedisGroupWatch * watch, const gchar ** advice)
{
  const gchar *t = watch->trimming;
  static const struct
  {
    const gchar *prefix, *how, *property, *unit;
  } forms[] = {
    {"maxlen ", "by count", "maxlen", ""},
    {"max-age ", "by age", "retention", " ms"},
    {"max-bytes ", "by size", "max-bytes", " bytes"},
  };
  guint i;

  *advice = "keep more entries in the stream";
  if (!watch->trimming_read)
    return g_strdup ("by its writer");
  if (t == NULL)
    return g_strdup_printf ("by its writer, which does not say how (no "
        "\"%s\" field in \"%s\")", INFO_FIELD, watch->info_key);
  for (i = 0; i < G_N_ELEMENTS (forms); i++) {
    const gchar *n = t + strlen (forms[i].prefix);
    gchar *end = NULL;
    guint64 v;

    if (!g_str_has_prefix (t, forms[i].prefix) || !g_ascii_isdigit (*n))
      continue;
    v = g_ascii_strtoull (n, &end, 10);
    if (*end != '\0')
      continue;
    *advice = i == 0 ? "raise the producer's maxlen" : i == 1 ?
        "raise the producer's retention" : "raise the producer's max-bytes";
    return g_strdup_printf ("%s (the producer's %s=%" G_GUINT64_FORMAT "%s)",
        forms[i].how, forms[i].property, v, forms[i].unit);
  }
  return g_strdup_printf ("by its writer (\"%s\" in \"%s\": %s)", INFO_FIELD,
      watch->info_key, t);
}

/* Entries lost to trimming: counted (a key frame is awaited after the gap,
 * as after any); the warning is the caller's. */
static void
watch_count_trimmed (GstRedisGroupWatch * watch, guint64 n, guint64 ms)
{
  GST_OBJECT_LOCK (watch->element);
  watch->stats.trimmed_unread += n;
  watch->stats.trimmed_unread_ms += ms;
  if (n == 0)
    watch->stats.trimmed_uncounted++;
  gst_redis_key_unit_gate_gap (watch->gate);
  GST_OBJECT_UNLOCK (watch->element);
}

/* While reading: the warning about the entries counted since the last one,
 * at most every TRIM_WARNING_INTERVAL. */
static void
watch_warn_trimmed (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur)
{
  gint64 now = g_get_monotonic_time ();
  const gchar *advice;
  gchar *how;

  if (watch->unwarned == 0 || (watch->last_warning != 0 &&
          now - watch->last_warning < TRIM_WARNING_INTERVAL))
    return;
  how = watch_describe_trimming (watch, &advice);
  GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
      ("%" G_GUINT64_FORMAT " frames of stream \"%s\" were trimmed before "
          "consumer group \"%s\" read them: the group fell further behind "
          "the producer than the stream keeps (it is trimmed %s). Add "
          "consumers to the group, %s, or skip old frames with max-age.",
          watch->unwarned, watch->settings->stream, watch->group, how,
          advice),
      ("%" G_GUINT64_FORMAT " entries trimmed unread since start; stream "
          "length %" G_GINT64_FORMAT ", group lag %" G_GINT64_FORMAT
          ", last entry delivered to the group %s",
          watch->stats.trimmed_unread, cur->len, cur->lag, cur->id));
  g_free (how);
  watch->unwarned = 0;
  watch->last_warning = now;
}

/* A look while reading: what the lower bound of the entries lost to
 * trimming grew by since the level counted so far. The bound is lag -
 * length, plus @read_kept: entries the group read that are known to be
 * still in the stream (the lag does not count those). */
static void
watch_count_level (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur,
    gint64 read_kept)
{
  gint64 bound;

  if (!cur->read_valid || !cur->lag_valid) {
    /* Redis does not know the group's position (a group created or set at
     * an id in the middle of the stream): it does once the group read the
     * stream's first or last entry */
    GST_LOG_OBJECT (watch->element, "group position unknown");
    watch->level_valid = FALSE;
    return;
  }
  bound = cur->lag - cur->len + read_kept;
  if (!watch->level_valid) {
    /* When Redis has just worked out E (from nil), it is exact: nothing
     * lost is in the lag. */
    watch->level = MAX (0, bound);
    watch->level_valid = TRUE;
    return;
  }
  if (bound > watch->level) {
    guint64 lost = bound - watch->level;

    GST_WARNING_OBJECT (watch->element, "%" G_GUINT64_FORMAT " entries of "
        "stream \"%s\" were trimmed before group \"%s\" read them (last "
        "delivered %s)", lost, watch->settings->stream, watch->group, cur->id);
    watch_count_trimmed (watch, lost, 0);
    watch->unwarned += lost;
    watch->level = bound;
  } else if (cur->lag < watch->level) {
    /* the level was an estimate (at start), and too high: the lag counts
     * every entry lost */
    watch->level = cur->lag;
  }
  watch_warn_trimmed (watch, cur);
}

/* The level at start: the entries lost to trimming that Redis's lag holds
 * already. lag - length when the group is behind the oldest entry; the lag
 * when the group read the newest; in between, the lag less the entries
 * after the group's position, estimated from the ids' times. */
static gint64
watch_first_level (const GstRedisGroupLook * cur, const StreamLook * s)
{
  gint64 bound = MAX (0, cur->lag - cur->len), unread;
  guint64 span;

  if (s == NULL)
    return bound;
  if (pos_cmp (&cur->pos, &s->last) >= 0)
    return MAX (0, cur->lag);
  if (s->len == 0 || pos_cmp (&cur->pos, &s->first) < 0)
    return bound;
  span = s->last.ms - s->first.ms;
  unread = span > 0 ? (gint64) ((gdouble) s->len * (s->last.ms -
          cur->pos.ms) / span + 0.5) : s->len / 2;
  unread = CLAMP (unread, 1, s->len);
  return CLAMP (cur->lag - unread, bound, MAX (bound, cur->lag));
}

/* A gap at start or after a reconnect: the group's last entry is older
 * than the oldest one left. @count is what Redis can tell (-1: it cannot,
 * @why says why); @ms the time span in between. */
static void
watch_warn_gap (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur,
    const StreamLook * s, gint64 count, guint64 ms, const gchar * why)
{
  const gchar *when = watch->after_reconnect ?
      "while this reader was disconnected" :
      "while no reader of the group was running";
  const gchar *advice;
  gchar *how = watch_describe_trimming (watch, &advice);
  const gchar *oldest = s->len > 0 ? s->first_id : "(none: the stream is "
      "empty)";

  if (count >= 0) {
    GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
        ("Consumer group \"%s\" of stream \"%s\" missed %" G_GINT64_FORMAT
            " frames (%.1f s of the stream) %s: they were trimmed %s before "
            "the group read them. Keep a reader of the group running, or %s.",
            watch->group, watch->settings->stream, count, ms / 1000.0, when,
            how, advice),
        ("last entry delivered to the group %s, oldest entry in the stream "
            "%s; entries-added %" G_GINT64_FORMAT ", length %" G_GINT64_FORMAT
            ", entries-read %" G_GINT64_FORMAT, cur->id, oldest, s->added,
            s->len, cur->read));
  } else {
    GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
        ("Consumer group \"%s\" of stream \"%s\" missed the frames of %.1f s "
            "of the stream %s: they were trimmed %s before the group read "
            "them; Redis cannot tell how many (%s). Keep a reader of the "
            "group running, or %s.", watch->group, watch->settings->stream,
            ms / 1000.0, when, how, why, advice),
        ("last entry delivered to the group %s, oldest entry in the stream "
            "%s; entries-added %" G_GINT64_FORMAT ", length %" G_GINT64_FORMAT,
            cur->id, oldest, s->added, s->len));
  }
  g_free (how);
}

/* Whether Redis's counters now follow those of the last look, before the
 * connection was lost: the same server, kept running. */
static gboolean
watch_counters_follow (GstRedisGroupWatch * watch,
    const GstRedisGroupLook * cur)
{
  const GstRedisGroupLook *prev = &watch->prev;

  return watch->prev_valid && prev->read_valid && cur->read_valid &&
      cur->read >= prev->read && pos_cmp (&cur->pos, &prev->pos) >= 0 &&
      (!prev->added_valid || !cur->added_valid || cur->added >= prev->added);
}

/* The first look at start or after a reconnect (a full one when the user
 * may run XINFO STREAM): the gap between the group's last entry and the
 * oldest one left, counted and warned about; the level counted from. */
static void
watch_look_first (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur,
    const StreamLook * s)
{
  gboolean follow = watch->after_reconnect &&
      watch_counters_follow (watch, cur);
  const gchar *why = NULL;
  gint64 count = -1;
  guint64 ms;

  if (follow && watch->level_valid) {
    /* Redis kept running: what was trimmed while this reader was away
     * shows as the lag's growth, as while reading */
    watch_look_steady (watch, cur, s);
    return;
  }
  watch->level_valid = cur->read_valid && cur->lag_valid;
  watch->level = watch->level_valid ? watch_first_level (cur, s) : 0;
  if (s == NULL || watch->group_made || pos_is_zero (&cur->pos))
    return;
  /* the group's last entry is still in the stream, or the next one is */
  if (s->len > 0 ? pos_cmp (&cur->pos, &s->first) >= 0 :
      pos_cmp (&cur->pos, &s->last) >= 0)
    return;

  ms = (s->len > 0 ? s->first.ms : s->last.ms) - cur->pos.ms;
  if (watch->after_reconnect && !follow)
    why = "its counters changed while this reader was away: Redis "
        "restarted, or another server took over";
  else if (!cur->read_valid)
    why = "it does not know how many entries the group read: the group was "
        "set or made at an id without ENTRIESREAD, or Redis restarted";
  else if (!pos_is_zero (&s->deleted) && pos_cmp (&s->deleted, &s->first) >= 0)
    why = "entries still in the stream were deleted with XDEL";
  else
    count = s->added - s->len - cur->read;
  if (count < 0 && why == NULL) {
    why = "its counters do not add up: the group read more entries than "
        "were removed from the stream";
    count = -1;
  }

  if (count == 0)
    return;
  if (count < 0 && s->len > 1 && s->last.ms > s->first.ms) {
    /* without a count: nothing to say when the span is not even that of
     * one entry at the stream's rate (the entry after the group's was
     * kept, only the group's own was trimmed) */
    gdouble per_entry = (gdouble) (s->last.ms - s->first.ms) / (s->len - 1);

    if (ms < 1.5 * per_entry)
      return;
  }
  watch_count_trimmed (watch, MAX (count, 0), ms);
  watch_warn_gap (watch, cur, s, count, ms, why);
}

/* The group moved back (XGROUP SETID to an older id, or a group deleted
 * and made again): the entries up to where it was come again; they are
 * counted as they come. */
static void
watch_moved_back (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur)
{
  const GstRedisGroupLook *prev = &watch->prev;
  gchar *count;

  watch->replaying = TRUE;
  watch->replay_count = 0;
  watch->replay_to = prev->pos;
  memcpy (watch->replay_to_id, prev->id, sizeof (prev->id));
  if (watch->last_read_valid && pos_cmp (&watch->last_read,
          &watch->replay_to) > 0) {
    watch->replay_to = watch->last_read;
    memcpy (watch->replay_to_id, watch->last_read_id, sizeof (prev->id));
  }
  if (cur->read_valid && prev->read_valid &&
      (gint64) (prev->read + watch->reads) > cur->read)
    count = g_strdup_printf ("%" G_GINT64_FORMAT " of them by Redis's "
        "counters", (gint64) (prev->read + watch->reads) - cur->read);
  else
    count = g_strdup_printf ("at most %" G_GINT64_FORMAT ", the stream's "
        "length; Redis does not tell how many before they are read", cur->len);
  GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
      ("Consumer group \"%s\" of stream \"%s\" was moved back from entry %s "
          "to %s (XGROUP SETID, or the group was deleted and made again): "
          "the entries after %s that are still in the stream are delivered "
          "again (%s). They are counted in \"replayed\".", watch->group,
          watch->settings->stream, watch->replay_to_id, cur->id, cur->id,
          count), ("last-delivered-id %s -> %s, entries-read %s -> %s",
          prev->id, cur->id, prev->read_valid ? "known" : "nil",
          cur->read_valid ? "known" : "nil"));
  g_free (count);
}

/* The group moved forward over entries nobody read: @skipped of them
 * (-1: Redis cannot tell how many). */
static void
watch_warn_skipped (GstRedisGroupWatch * watch,
    const GstRedisGroupLook * from, const GstRedisGroupLook * to,
    gint64 skipped)
{
  gchar *count = skipped >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT
      " entries", skipped) : g_strdup ("Redis cannot tell how many");

  if (skipped > 0) {
    GST_OBJECT_LOCK (watch->element);
    watch->stats.skipped_moved += skipped;
    gst_redis_key_unit_gate_gap (watch->gate);
    GST_OBJECT_UNLOCK (watch->element);
  }
  GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
      ("Consumer group \"%s\" of stream \"%s\" was moved forward from entry "
          "%s to %s by something else than its reads (XGROUP SETID): the "
          "entries in between that the group had not read are skipped (%s, "
          "%.1f s of the stream).", watch->group, watch->settings->stream,
          from->id, to->id, count, (to->pos.ms - from->pos.ms) / 1000.0),
      ("last-delivered-id %s -> %s", from->id, to->id));
  g_free (count);
}

/* A full look after a move forward: where the group is now as a count of
 * entries (entries-added when it read the newest entry, or Redis's
 * entries-read once it knows it again), less where it was and the entries
 * this consumer read since. Only when this consumer is the only one
 * reading; otherwise the others' reads would count as skipped. */
static void
watch_measure_move (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur,
    const StreamLook * s)
{
  gint64 now = -1;

  watch->move_pending = FALSE;
  if (s && pos_cmp (&cur->pos, &s->last) == 0)
    now = s->added;
  else if (cur->read_valid)
    now = cur->read;
  watch_warn_skipped (watch, &watch->move_from, &watch->move_to, now >= 0 ?
      MAX (0, now - watch->move_base - (gint64) watch->reads) : -1);
  watch->level_valid = cur->read_valid && cur->lag_valid;
  watch->level = watch->level_valid ? watch_first_level (cur, s) : 0;
}

/* Whether the group moved in a way its reads do not explain: back, or
 * forward past this consumer's reads while Redis forgot (or lowered) the
 * group's read counter. Reads of other consumers move it forward too, but
 * keep the counter. */
static gboolean
watch_detect_move (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur)
{
  const GstRedisGroupLook *prev = &watch->prev;
  const GstRedisEntryPos *expected = &prev->pos;

  if (pos_cmp (&cur->pos, &prev->pos) < 0) {
    watch->level_valid = FALSE;
    if (watch->replaying)
      return TRUE;              /* seen in the entries read already */
    GST_OBJECT_LOCK (watch->element);
    watch->stats.group_moves++;
    GST_OBJECT_UNLOCK (watch->element);
    watch_moved_back (watch, cur);
    return TRUE;
  }
  if (watch->reads > 0 && pos_cmp (&watch->last_read, expected) > 0)
    expected = &watch->last_read;
  if (pos_cmp (&cur->pos, expected) <= 0 || !prev->read_valid ||
      (cur->read_valid && cur->read >= prev->read + (gint64) watch->reads))
    return FALSE;

  GST_OBJECT_LOCK (watch->element);
  watch->stats.group_moves++;
  GST_OBJECT_UNLOCK (watch->element);
  watch->level_valid = FALSE;
  /* from the entry this consumer read last (or where the group was) */
  watch->move_from = *prev;
  if (expected == &watch->last_read) {
    watch->move_from.pos = watch->last_read;
    memcpy (watch->move_from.id, watch->last_read_id, GST_REDIS_ENTRY_ID_LEN);
  }
  watch->move_to = *cur;
  watch->move_base = prev->read + watch->reads;
  if (cur->read_valid) {
    /* XGROUP SETID ... ENTRIESREAD: Redis knows where the group is */
    watch_warn_skipped (watch, &watch->move_from, cur, watch->alone &&
        cur->read >= watch->move_base ? cur->read - watch->move_base : -1);
  } else if (watch->stream_enabled && watch->alone) {
    /* it knows once the group read the newest entry: the next full look */
    watch->move_pending = TRUE;
  } else {
    watch_warn_skipped (watch, &watch->move_from, cur, -1);
  }
  return TRUE;
}

/* A look while reading. A full one after a jump in seq also knows the
 * oldest entry: the entries read from the jump on are still in the stream
 * when the entry it jumped to is. */
static void
watch_look_steady (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur,
    const StreamLook * s)
{
  gboolean gap = s && watch->gap_pending, was_valid = watch->level_valid;
  gint64 read_kept = 0, was = watch->level;

  if (gap)
    watch->gap_found = FALSE;
  if (watch->prev_valid && watch_detect_move (watch, cur))
    return;
  if (gap && s->len > 0 && pos_cmp (&watch->gap_pos, &s->first) >= 0)
    read_kept = watch->gap_reads;
  watch_count_level (watch, cur, read_kept);
  /* the jumps were losses: the next one is looked at without a pause */
  if (gap)
    watch->gap_found = was_valid && watch->level > was;
}

/* How long the stream keeps an entry, from the growth of entries-added
 * over at least RATE_INTERVAL: length / rate. */
static void
watch_measure_rate (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur)
{
  gint64 now = g_get_monotonic_time ();

  if (!cur->added_valid)
    return;
  if (!watch->added_valid || cur->added < watch->added) {
    watch->added = cur->added;
    watch->added_at = now;
    watch->added_valid = TRUE;
    return;
  }
  if (now - watch->added_at < RATE_INTERVAL)
    return;
  if (cur->added > watch->added && cur->len > 0) {
    gdouble rate = (cur->added - watch->added) * (gdouble) G_TIME_SPAN_SECOND /
        (now - watch->added_at);

    GST_OBJECT_LOCK (watch->element);
    watch->stats.retention = (guint) MIN (cur->len * 1000.0 / rate, G_MAXINT);
    GST_OBJECT_UNLOCK (watch->element);
    watch->rate = rate;
    watch->retention_new = TRUE;
  }
  watch->added = cur->added;
  watch->added_at = now;
}

/* Whether this consumer alone moved the group's read counter between the
 * last two looks: the others' reads would count as skipped entries. */
static void
watch_note_alone (GstRedisGroupWatch * watch, const GstRedisGroupLook * cur)
{
  if (!watch->prev_valid || !cur->read_valid || !watch->prev.read_valid)
    return;
  watch->alone = cur->read == watch->prev.read + (gint64) watch->reads;
}

/* A refusal of the user's ACL rules: told once, and what needs the
 * command is turned off. TRUE when @reply is one. */
static gboolean
watch_refused (GstRedisGroupWatch * watch, GstRedisConnection * conn,
    const GstRedisReply * groups, const GstRedisReply * stream,
    const GstRedisReply * len)
{
  const GstRedisReply *refused = gst_redis_reply_is_error (groups, "NOPERM") ?
      groups : gst_redis_reply_is_error (len, "NOPERM") ? len : NULL;

  if (refused) {
    GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings,
        RESOURCE, NOT_AUTHORIZED,
        ("Redis at %s does not let this user run XINFO GROUPS or XLEN on "
            "stream \"%s\", so entries trimmed before they were read cannot "
            "be counted and claim-idle-time cannot follow the stream; grant "
            "+xinfo|groups +xlen.", gst_redis_connection_describe (conn),
            watch->settings->stream), ("%s", refused->str));
    watch->enabled = FALSE;
    return TRUE;
  }
  if (stream && gst_redis_reply_is_error (stream, "NOPERM")) {
    GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings,
        RESOURCE, NOT_AUTHORIZED,
        ("Redis at %s does not let this user run XINFO STREAM on stream "
            "\"%s\", so frames trimmed while no reader of the group ran, or "
            "while this one was disconnected, cannot be counted; grant "
            "+xinfo|stream.", gst_redis_connection_describe (conn),
            watch->settings->stream), ("%s", stream->str));
    watch->stream_enabled = FALSE;
    return TRUE;
  }
  return FALSE;
}

/* The replies of a look: XINFO GROUPS, XINFO STREAM (a full look, else
 * NULL), XLEN and HGET <stream>:info (or NULL). */
static void
watch_use (GstRedisGroupWatch * watch, GstRedisConnection * conn,
    const GstRedisReply * groups, const GstRedisReply * stream,
    const GstRedisReply * len, const GstRedisReply * info)
{
  const GstRedisReply *g;
  GstRedisGroupLook cur;
  StreamLook s;
  gboolean full = stream != NULL;

  watch->expect_valid = FALSE;
  if (info)
    watch_use_info (watch, conn, info);
  if (watch_refused (watch, conn, groups, stream, len))
    return;
  if (groups->type == GST_REDIS_REPLY_ERROR ||
      len->type != GST_REDIS_REPLY_INTEGER ||
      (stream && stream->type == GST_REDIS_REPLY_ERROR)) {
    /* the stream is gone: the read says NOGROUP */
    GST_DEBUG_OBJECT (watch->element, "cannot look at the group: %s",
        groups->type == GST_REDIS_REPLY_ERROR ? groups->str :
        len->type == GST_REDIS_REPLY_ERROR ? len->str : "no stream");
    return;
  }
  g = xinfo_find_group (groups, watch->group);
  if (g == NULL || !look_parse (g, &cur)) {
    watch->prev_valid = watch->level_valid = FALSE;
    return;
  }
  cur.len = len->integer;
  cur.added = cur.read + cur.lag;
  cur.added_valid = cur.read_valid && cur.lag_valid;
  if (full) {
    if (!stream_look_parse (stream, &s)) {
      GST_DEBUG_OBJECT (watch->element, "XINFO STREAM reply without the "
          "Redis 7 fields");
      watch->stream_enabled = FALSE;
      return;
    }
    /* XINFO GROUPS ran before XINFO STREAM, and entries added in between
     * are in the stream's counters: the lag as of XINFO STREAM, when Redis
     * gave it as entries-added - entries-read (no XDEL after the group's
     * entry; otherwise it estimates the group's position) */
    if (cur.added_valid && s.added > cur.added && (pos_is_zero (&s.deleted)
            || pos_cmp (&s.deleted, &s.first) < 0
            || pos_cmp (&s.deleted, &cur.pos) < 0))
      cur.lag += s.added - cur.added;
    cur.len = s.len;
    cur.added = s.added;
    cur.added_valid = TRUE;
    watch->expect_valid = s.len > 0 && pos_cmp (&cur.pos, &s.first) < 0;
    watch->expected = s.first;
    GST_LOG_OBJECT (watch->element, "stream: oldest entry %s, newest %s, "
        "entries-added %" G_GINT64_FORMAT ", length %" G_GINT64_FORMAT,
        s.len > 0 ? s.first_id : "(none)", s.last_id, s.added, s.len);
  }

  watch_note_alone (watch, &cur);
  GST_LOG_OBJECT (watch->element, "group at %s, entries-read %" G_GINT64_FORMAT
      "%s, lag %" G_GINT64_FORMAT "%s, length %" G_GINT64_FORMAT ", %"
      G_GUINT64_FORMAT " read here since the last look%s", cur.id, cur.read,
      cur.read_valid ? "" : " (nil)", cur.lag, cur.lag_valid ? "" : " (nil)",
      cur.len, watch->reads, watch->alone ? ", alone" : "");
  if (watch->first_due && (full || !watch->stream_enabled)) {
    watch->first_due = FALSE;
    watch_look_first (watch, &cur, full ? &s : NULL);
    watch->after_reconnect = watch->group_made = FALSE;
  } else if (full && watch->move_pending) {
    watch_measure_move (watch, &cur, &s);
  } else {
    watch_look_steady (watch, &cur, full ? &s : NULL);
  }
  if (full || !watch->stream_enabled)
    watch->gap_pending = FALSE;
  watch->prev = cur;
  watch->prev_valid = TRUE;
  watch->reads = 0;
  watch_measure_rate (watch, &cur);
}

/* The replies of the last gst_redis_group_watch_send (), which come
 * before the read's. */
gboolean
gst_redis_group_watch_read (GstRedisGroupWatch * watch,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) groups = NULL;
  g_autoptr (GstRedisReply) stream = NULL;
  g_autoptr (GstRedisReply) len = NULL;
  g_autoptr (GstRedisReply) info = NULL;

  if (watch->owed == 0)
    return TRUE;
  if (!(groups = gst_redis_connection_read_reply (conn, 0, cancellable, error)))
    return FALSE;
  watch->owed--;
  if (watch->sent_full) {
    if (!(stream = gst_redis_connection_read_reply (conn, 0, cancellable,
                error)))
      return FALSE;
    watch->owed--;
  }
  if (!(len = gst_redis_connection_read_reply (conn, 0, cancellable, error)))
    return FALSE;
  watch->owed--;
  if (watch->sent_info) {
    info = gst_redis_connection_read_reply_here (conn, cancellable, error);
    if (info == NULL)
      return FALSE;
    watch->owed--;
  }
  if (watch->enabled)
    watch_use (watch, conn, groups, stream, len, info);
  return TRUE;
}

/* The `seq` field of an entry of a reply, when it has one. */
static gboolean
entry_get_seq (const GstRedisReply * e, guint64 * seq)
{
  const GstRedisReply *f;
  gsize i;

  if (e->elements < 2 || e->element[1]->type != GST_REDIS_REPLY_ARRAY)
    return FALSE;
  f = e->element[1];
  for (i = 0; i + 1 < f->elements; i += 2) {
    const GstRedisReply *k = f->element[i], *v = f->element[i + 1];
    gchar *end;

    if (k->type != GST_REDIS_REPLY_STRING || k->len != 3 ||
        memcmp (k->str, "seq", 3) != 0)
      continue;
    if (v->type != GST_REDIS_REPLY_STRING || v->len == 0 || v->len > 20 ||
        !g_ascii_isdigit (v->str[0]))
      return FALSE;
    *seq = g_ascii_strtoull (v->str, &end, 10);
    return *end == '\0';
  }
  return FALSE;
}

/* A read of this consumer alone whose entry's seq is past the next one: it
 * may have jumped over trimmed entries, and not only those a look before it
 * counted: a burst of writes between two looks, or entries trimmed between
 * the look and the read behind it (the look's commands and the read are
 * not one transaction). The next look is a full one, which tells whether
 * the entry it jumped to is still the oldest (the lag then leaves out the
 * entries read from it on). @checked: the entry was checked against the
 * oldest entry a full look saw just before (watch_note_expected ()). */
static void
watch_note_seq (GstRedisGroupWatch * watch, const GstRedisReply * e,
    const GstRedisEntryPos * pos, gboolean checked)
{
  gint64 now;
  guint64 seq;

  if (!entry_get_seq (e, &seq))
    return;
  if (watch->seq_valid && seq > watch->max_seq + 1 && !checked &&
      watch->alone && watch->stream_enabled && !watch->gap_pending &&
      !watch->first_due && !watch->move_pending) {
    now = g_get_monotonic_time ();
    if (watch->gap_look_at == 0 || watch->gap_found ||
        now - watch->gap_look_at >= GAP_LOOK_INTERVAL) {
      GST_DEBUG_OBJECT (watch->element, "seq %" G_GUINT64_FORMAT " after %"
          G_GUINT64_FORMAT ": the read may have jumped over trimmed entries",
          seq, watch->max_seq);
      watch->gap_pending = TRUE;
      watch->gap_pos = *pos;
      watch->gap_reads = 0;
      watch->gap_look_at = now;
    }
  }
  if (!watch->seq_valid || seq > watch->max_seq)
    watch->max_seq = seq;
  watch->seq_valid = TRUE;
}

/* The first entry of the read behind a full look that found the group
 * behind the oldest entry: when it is not that entry, the entries in
 * between were trimmed after the look, and the look did not count them.
 * The next look is a full one, which counts them (as after a jump in seq,
 * without the pause between two such looks: this is no guess). */
static void
watch_note_expected (GstRedisGroupWatch * watch, const GstRedisEntryPos * pos,
    const gchar * id)
{
  if (pos_cmp (pos, &watch->expected) <= 0 || !watch->alone ||
      watch->gap_pending || watch->first_due || watch->move_pending ||
      watch->replaying)
    return;
  GST_DEBUG_OBJECT (watch->element, "read %s, but the look before the read "
      "found the oldest entry at %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
      ": entries were trimmed between the look and the read", id,
      watch->expected.ms, watch->expected.seq);
  watch->gap_pending = TRUE;
  watch->gap_pos = *pos;
  watch->gap_reads = 0;
}

/* A read of new entries returned an entry this consumer read before: the
 * group was moved back (a read of new entries never returns an entry at or
 * before the group's last one, and this consumer's entries are at or
 * before it). Warned about at once; the look that sees the group's new
 * position says nothing more. */
static void
watch_replay_begins (GstRedisGroupWatch * watch, const gchar * id)
{
  GST_OBJECT_LOCK (watch->element);
  watch->stats.group_moves++;
  GST_OBJECT_UNLOCK (watch->element);
  watch->replaying = TRUE;
  watch->replay_count = 0;
  watch->replay_to = watch->last_read;
  memcpy (watch->replay_to_id, watch->last_read_id, GST_REDIS_ENTRY_ID_LEN);
  watch->level_valid = FALSE;
  GST_REDIS_ELEMENT_WARNING (watch->element, watch->settings, RESOURCE, READ,
      ("Consumer group \"%s\" of stream \"%s\" was moved back (XGROUP "
          "SETID, or the group was deleted and made again): entry %s comes "
          "again after %s was read, and the entries up to %s that are still "
          "in the stream are delivered again. They are counted in "
          "\"replayed\".", watch->group, watch->settings->stream, id,
          watch->replay_to_id, watch->replay_to_id), (NULL));
}

/* The entries of a read of new entries (XREADGROUP >): how many, the
 * newest, those delivered again after a move back, and jumps in seq. */
void
gst_redis_group_watch_note_read (GstRedisGroupWatch * watch,
    GstRedisReply * entries)
{
  gsize i;

  for (i = 0; i < entries->elements; i++) {
    GstRedisReply *e = entries->element[i];
    GstRedisEntryPos pos;
    gchar id[GST_REDIS_ENTRY_ID_LEN];
    gboolean checked = FALSE;

    if (e->type != GST_REDIS_REPLY_ARRAY || e->elements < 1 ||
        !pos_parse (e->element[0], &pos, id))
      continue;
    watch->reads++;
    if (!watch->replaying && watch->last_read_valid &&
        pos_cmp (&pos, &watch->last_read) <= 0)
      watch_replay_begins (watch, id);
    if (watch->expect_valid) {
      watch->expect_valid = FALSE;
      checked = TRUE;
      watch_note_expected (watch, &pos, id);
    }
    watch_note_seq (watch, e, &pos, checked);
    if (watch->gap_pending)
      watch->gap_reads++;
    if (!watch->last_read_valid || pos_cmp (&pos, &watch->last_read) > 0) {
      watch->last_read = pos;
      memcpy (watch->last_read_id, id, sizeof (id));
      watch->last_read_valid = TRUE;
    }
    if (!watch->replaying)
      continue;
    if (pos_cmp (&pos, &watch->replay_to) <= 0) {
      watch->replay_count++;
      GST_OBJECT_LOCK (watch->element);
      watch->stats.replayed++;
      GST_OBJECT_UNLOCK (watch->element);
      continue;
    }
    watch->replaying = FALSE;
    GST_REDIS_ELEMENT_INFO (watch->element, watch->settings, RESOURCE, READ,
        ("Consumer group \"%s\" of stream \"%s\" is past entry %s again: %"
            G_GUINT64_FORMAT " entries were delivered a second time after "
            "the group was moved back.", watch->group,
            watch->settings->stream, watch->replay_to_id,
            watch->replay_count), (NULL));
  }
}

/* TRUE once after the time the stream keeps an entry was measured again,
 * with it (ms) and the stream's rate (entries/s). */
gboolean
gst_redis_group_watch_take_retention (GstRedisGroupWatch * watch,
    guint * retention, gdouble * rate)
{
  if (!watch->retention_new)
    return FALSE;
  watch->retention_new = FALSE;
  *retention = watch->stats.retention;
  *rate = watch->rate;
  return TRUE;
}
