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

/* Replay mode of redisstreamsrc (gstredisrange.h).
 *
 * Positions. Redis stream ids are the server's clock in milliseconds and
 * every entry carries its capture time: a wall-clock time is looked up by
 * id (XREVRANGE <ms> -), then placed exactly by capture time. A frame's
 * PTS is its capture time minus the origin (the stream's oldest entry when
 * the element started), kept at the producer's spacing
 * (gstredistiming.c, capture mode), so a position and a time of the
 * stream are the same thing, and DURATION is the newest entry's.
 *
 * Where reading starts. A segment that starts at the frame shown at the
 * requested time, as after an accurate seek: frames before it are pushed
 * only when they are needed to decode the ones after it (inter-coded video
 * from the key frame before, Opus from 80 ms before), and decoders and
 * sinks clip them away by their timestamps. Muxers drop them too, the key
 * frame with them, so remuxing starts at the key frame (accurate=false, as
 * a key unit seek with GST_SEEK_FLAG_SNAP_BEFORE) and the
 * redisstreamsrc-range message says what an MP4 edit list skips
 * (pipelines/clip).
 *
 * What the XREVRANGE look back costs: whole entries come back (Redis has
 * no way to list ids alone), one for raw video, JPEG and audio, the
 * group of pictures before the start for inter-coded video. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisrange.h"
#include "gstredisgroup.h"
#include "gstredisstreamselements.h"
#include "gstframemeta.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* The stream's span is looked at (XINFO STREAM) this often while reading. */
#define SAMPLE_INTERVAL G_TIME_SPAN_SECOND
/* The most entries looked at backwards for a key frame. */
#define MAX_LOOK_BACK 20000
#define LOOK_BACK_BATCH 256
/* Entries added this long after a time may hold frames captured before it. */
#define LOOK_AFTER (100 * GST_MSECOND)
/* A query looks at the span at most this often. */
#define QUERY_SAMPLE_INTERVAL (G_TIME_SPAN_SECOND / 2)
/* Opus decoders converge within 80 ms (RFC 7845, section 4.6). */
#define OPUS_PREROLL (80 * GST_MSECOND)

void
gst_redis_position_clear (GstRedisPosition * pos)
{
  g_clear_pointer (&pos->id, g_free);
  pos->ns = -1;
  pos->oldest = FALSE;
}

/* "-30s", "-1h30m", "+500ms": a signed sum of numbers with units. */
static gboolean
parse_relative (const gchar * p, gint64 * out)
{
  gdouble total = 0;

  if (*p == '\0')
    return FALSE;
  while (*p) {
    gchar *end;
    gdouble v, unit;

    if (!g_ascii_isdigit (*p))
      return FALSE;
    v = g_ascii_strtod (p, &end);
    p = end;
    if (g_str_has_prefix (p, "ms")) {
      unit = GST_MSECOND;
      p += 2;
    } else if (*p == 'h') {
      unit = 3600.0 * GST_SECOND;
      p++;
    } else if (*p == 'm') {
      unit = 60.0 * GST_SECOND;
      p++;
    } else if (*p == 's') {
      unit = GST_SECOND;
      p++;
    } else {
      return FALSE;
    }
    total += v * unit;
    if (!(total < 1e18))
      return FALSE;
  }
  *out = (gint64) total;
  return TRUE;
}

/* "1767607200" or "1767607200.25": seconds since 1970, to the nanosecond. */
static gboolean
parse_epoch (const gchar * p, gint64 * out)
{
  guint64 sec = 0, frac = 0;
  gint digits = 0;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++) {
    sec = sec * 10 + (*p - '0');
    if (sec > G_MAXINT64 / GST_SECOND - 1)
      return FALSE;
  }
  if (*p == '.') {
    for (p++; g_ascii_isdigit (*p); p++) {
      if (digits < 9) {
        frac = frac * 10 + (*p - '0');
        digits++;
      }
    }
  }
  if (*p != '\0')
    return FALSE;
  for (; digits < 9; digits++)
    frac *= 10;
  *out = sec * GST_SECOND + frac;
  return TRUE;
}

gboolean
gst_redis_position_parse (const gchar * text, gint64 now_ns,
    GstRedisPosition * pos, GError ** error)
{
  GDateTime *dt;
  GTimeZone *tz;
  gint64 rel;

  gst_redis_position_clear (pos);
  if (g_str_equal (text, "oldest")) {
    pos->oldest = TRUE;
    return TRUE;
  }
  if (g_str_equal (text, "now")) {
    pos->ns = now_ns;
    return TRUE;
  }
  if ((text[0] == '-' || text[0] == '+') && parse_relative (text + 1, &rel)) {
    pos->ns = text[0] == '-' ? MAX (now_ns - rel, 0) : now_ns + rel;
    return TRUE;
  }
  if (strchr (text, '-') && g_ascii_isdigit (text[0]) &&
      gst_redis_entry_id_is_valid (text)) {
    pos->id = g_strdup (text);
    return TRUE;
  }
  if (parse_epoch (text, &pos->ns))
    return TRUE;
  /* without an offset, the local time */
  tz = g_time_zone_new_local ();
  dt = g_date_time_new_from_iso8601 (text, tz);
  g_time_zone_unref (tz);
  if (dt) {
    pos->ns = g_date_time_to_unix (dt) * GST_SECOND +
        g_date_time_get_microsecond (dt) * GST_USECOND;
    g_date_time_unref (dt);
    return TRUE;
  }
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "\"%s\" is not a time: give an ISO 8601 date and time "
      "(2026-01-05T10:00:00Z), seconds since 1970 (1767607200.5), a time "
      "relative to now (-30s, -5m, -1h30m, now), an entry id "
      "(1767607200123-0) or oldest", text);
  return FALSE;
}

gchar *
gst_redis_time_to_string (gint64 ns)
{
  GDateTime *dt = g_date_time_new_from_unix_utc (ns / GST_SECOND);
  gchar *day, *out;

  if (dt == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ns", ns);
  day = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  out = g_strdup_printf ("%s.%03dZ", day,
      (gint) ((ns % GST_SECOND) / GST_MSECOND));
  g_free (day);
  g_date_time_unref (dt);
  return out;
}

void
gst_redis_range_init (GstRedisRange * range, GstElement * element,
    const GstRedisSettings * settings, GstRedisReadLoop * loop,
    GstRedisKeyUnitGate * gate)
{
  memset (range, 0, sizeof (*range));
  range->element = element;
  range->settings = settings;
  range->loop = loop;
  range->gate = gate;
  range->stop.ns = range->target.ns = -1;
  g_mutex_init (&range->query_lock);
}

static void
range_stats_clear (GstRedisRangeStats * stats)
{
  g_free (stats->trimmed_from);
  g_free (stats->trimmed_to);
  g_free (stats->start);
  g_free (stats->stop);
  memset (stats, 0, sizeof (*stats));
}

void
gst_redis_range_clear (GstRedisRange * range)
{
  g_clear_pointer (&range->start_text, g_free);
  g_clear_pointer (&range->stop_text, g_free);
  gst_redis_position_clear (&range->stop);
  gst_redis_position_clear (&range->target);
  range_stats_clear (&range->stats);
  g_mutex_clear (&range->query_lock);
}

void
gst_redis_range_configure (GstRedisRange * range, const gchar * start,
    const gchar * stop, gboolean accurate)
{
  g_free (range->start_text);
  range->start_text = g_strdup (start);
  g_free (range->stop_text);
  range->stop_text = g_strdup (stop);
  range->accurate = accurate;
  range_stats_clear (&range->stats);
}

gboolean
gst_redis_range_is_on (GstRedisRange * range)
{
  return range->start_text != NULL;
}

/* The capture time of a frame, or its entry's time when it has none. */
static gint64
frame_time (const GstRedisFrame * frame)
{
  gint64 t = frame->buffer ?
      gst_frame_meta_get_capture_time (frame->buffer) : -1;
  guint64 ms, seq;

  if (t >= 0)
    return t;
  if (frame->id && gst_redis_entry_id_parse (frame->id, &ms, &seq))
    return (gint64) MIN (ms, G_MAXINT64 / GST_MSECOND) * GST_MSECOND;
  return 0;
}

static gint
id_compare (const gchar * a, const gchar * b)
{
  guint64 ams = 0, aseq = 0, bms = 0, bseq = 0;

  gst_redis_entry_id_parse (a, &ams, &aseq);
  gst_redis_entry_id_parse (b, &bms, &bseq);
  if (ams != bms)
    return ams < bms ? -1 : 1;
  return aseq < bseq ? -1 : aseq > bseq;
}

/* The id right before @id: XREAD after it reads @id first. */
static gchar *
id_before (const gchar * id)
{
  guint64 ms = 0, seq = 0;

  gst_redis_entry_id_parse (id, &ms, &seq);
  if (seq > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, ms,
        seq - 1);
  if (ms > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
        ms - 1, G_MAXUINT64);
  return g_strdup ("0-0");
}

/* Media whose frames need frames before them to decode. */
static gboolean
needs_frames_before (const GstCaps * caps, GstClockTime * preroll)
{
  *preroll = 0;
  if (gst_redis_key_unit_caps_are_inter_coded (caps))
    return TRUE;
  if (caps && gst_caps_get_size (caps) > 0 &&
      gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "audio/x-opus")) {
    *preroll = OPUS_PREROLL;
    return TRUE;
  }
  return FALSE;
}

/* A command whose reply was not read whole leaves the connection out of
 * step: it is made again before the next one. */
static GstRedisReply *
range_call (GstRedisRange * range, GCancellable * cancellable,
    GError ** error, const gchar * first, ...)
{
  GstRedisConnection *conn = range->loop->conn;
  GstRedisCommand cmd;
  GstRedisReply *reply;
  const gchar *arg;
  va_list args;

  gst_redis_command_init (&cmd);
  va_start (args, first);
  for (arg = first; arg; arg = va_arg (args, const gchar *))
      gst_redis_command_add (&cmd, arg);
  va_end (args);
  reply = gst_redis_connection_call_command (conn, &cmd, cancellable, error);
  gst_redis_command_clear (&cmd);
  if (reply == NULL)
    range->loop->read_in_flight = TRUE;
  return reply;
}

static gboolean
range_refused (GstRedisRange * range, GstRedisReply * reply,
    const gchar * what, GError ** error)
{
  if (reply->type != GST_REDIS_REPLY_ERROR)
    return FALSE;
  gst_redis_connection_set_refused (range->loop->conn, reply,
      GST_RESOURCE_ERROR_READ, error, "%s stream \"%s\"%s", what,
      range->settings->stream, g_str_has_prefix (reply->str, "WRONGTYPE") ?
      " (the key holds something else than a stream)" : "");
  return TRUE;
}

/* The time of entry @e of @owner (decoded for its capture time). */
static gint64
entry_time (GstRedisRange * range, GstRedisReply * e, GstRedisReplyRef * owner,
    GCancellable * cancellable)
{
  GstRedisFrame f;
  GError *err = NULL;
  gint64 t = -1;

  if (gst_redis_read_loop_decode (range->loop, e, owner, cancellable, &f, &err)) {
    t = frame_time (&f);
  } else if (e->type == GST_REDIS_REPLY_ARRAY && e->elements == 2 &&
      e->element[0]->type == GST_REDIS_REPLY_STRING) {
    f.buffer = NULL;
    f.id = e->element[0]->str;
    t = frame_time (&f);
    f.id = NULL;
  }
  g_clear_error (&err);
  gst_redis_frame_clear (&f);
  return t;
}

/* The time of an entry by its id alone. */
static gint64
entry_id_time (GstRedisReply * e)
{
  GstRedisFrame f = { NULL, };

  if (e->type != GST_REDIS_REPLY_ARRAY || e->elements != 2 ||
      e->element[0]->type != GST_REDIS_REPLY_STRING)
    return -1;
  f.id = e->element[0]->str;
  return frame_time (&f);
}

/* The span of an XINFO STREAM reply, the entries decoded for their
 * capture times (streaming thread; takes @reply) or by their ids. */
static void
range_take_span (GstRedisRange * range, GstRedisReply * reply, gboolean decode,
    GCancellable * cancellable)
{
  GstRedisReplyRef *ref = decode ? gst_redis_reply_ref_new (reply) : NULL;
  gint64 first = -1, last = -1, length = 0, added = 0;
  gsize i;

  for (i = 0; i + 1 < reply->elements; i += 2) {
    GstRedisReply *k = reply->element[i], *v = reply->element[i + 1];

    if (gst_redis_reply_is_string (k, "first-entry"))
      first = decode ? entry_time (range, v, ref, cancellable) :
          entry_id_time (v);
    else if (gst_redis_reply_is_string (k, "last-entry"))
      last = decode ? entry_time (range, v, ref, cancellable) :
          entry_id_time (v);
    else if (gst_redis_reply_is_string (k, "length"))
      length = v->integer;
    else if (gst_redis_reply_is_string (k, "entries-added"))
      added = v->integer;
  }
  if (ref)
    gst_redis_reply_ref_unref (ref);

  GST_OBJECT_LOCK (range->element);
  range->span_known = first >= 0 && last >= 0;
  range->first_ns = first;
  range->last_ns = MAX (first, last);
  /* fewer entries than were ever added: trimmed (or deleted) */
  range->deleted_any = added > length;
  GST_OBJECT_UNLOCK (range->element);
  GST_LOG_OBJECT (range->element, "stream span %" G_GINT64_FORMAT " - %"
      G_GINT64_FORMAT, first, last);
}

/* The stream's first and last entry (XINFO STREAM), and whether anything
 * was ever trimmed from it. A stream that does not exist has no span;
 * a user without +xinfo has none either (one warning). */
static gboolean
range_sample (GstRedisRange * range, GCancellable * cancellable,
    GError ** error)
{
  GstRedisReply *reply;

  range->last_sample = g_get_monotonic_time ();
  reply = range_call (range, cancellable, error, "XINFO", "STREAM",
      range->settings->stream, NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    if (gst_redis_reply_is_error (reply, "NOPERM")) {
      GST_REDIS_ELEMENT_WARNING (range->element, range->settings, RESOURCE,
          NOT_AUTHORIZED, ("Redis at %s does not let this user run XINFO "
              "STREAM on stream \"%s\": the stream's span is unknown, so "
              "trimmed ranges are not told and DURATION is not answered; "
              "grant +xinfo|stream in the user's ACL.",
              gst_redis_connection_describe (range->loop->conn),
              range->settings->stream), ("%s", reply->str));
      range->sample_enabled = FALSE;
    } else if (!gst_redis_reply_is_error (reply, "ERR no such key") &&
        range_refused (range, reply, "look at", error)) {
      gst_redis_reply_free (reply);
      return FALSE;
    }
    gst_redis_reply_free (reply);
    GST_OBJECT_LOCK (range->element);
    range->span_known = FALSE;
    GST_OBJECT_UNLOCK (range->element);
    return TRUE;
  }
  range_take_span (range, reply, TRUE, cancellable);
  return TRUE;
}

/* For a query from any thread, at most every QUERY_SAMPLE_INTERVAL: the
 * span on a connection of its own (the streaming thread's may be blocked
 * in a read or a push), by entry ids alone. */
static void
range_refresh_span (GstRedisRange * range)
{
  gint64 now = g_get_monotonic_time ();
  GstRedisReply *reply;
  GError *err = NULL;

  g_mutex_lock (&range->query_lock);
  if (!range->query_enabled || now - range->last_query_sample <
      QUERY_SAMPLE_INTERVAL)
    goto done;
  range->last_query_sample = now;
  if (range->query_conn == NULL)
    range->query_conn = gst_redis_connection_new (range->settings);
  if (!gst_redis_connection_is_open (range->query_conn) &&
      !gst_redis_connection_open (range->query_conn, NULL, &err))
    goto failed;
  reply = gst_redis_connection_call (range->query_conn, NULL, &err, "XINFO",
      "STREAM", range->settings->stream, NULL);
  if (reply == NULL)
    goto failed;
  if (reply->type == GST_REDIS_REPLY_ARRAY)
    range_take_span (range, reply, FALSE, NULL);
  gst_redis_reply_free (reply);
done:
  g_mutex_unlock (&range->query_lock);
  return;

failed:
  GST_DEBUG_OBJECT (range->element, "span for a query: %s", err->message);
  g_clear_error (&err);
  gst_redis_connection_close (range->query_conn);
  g_mutex_unlock (&range->query_lock);
}

gboolean
gst_redis_range_start (GstRedisRange * range, GCancellable * cancellable,
    GError ** error)
{
  gint64 now = g_get_real_time () * GST_USECOND;
  gchar *start_s, *stop_s;

  gst_redis_position_clear (&range->stop);
  if (!gst_redis_position_parse (range->start_text, now, &range->target, error))
    goto bad_start;
  if (range->stop_text && !gst_redis_position_parse (range->stop_text, now,
          &range->stop, error))
    goto bad_stop;
  if (range->stop.oldest) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "stop=oldest is not a place to stop: give a time or an entry id");
    return FALSE;
  }
  if (range->target.ns >= 0 && range->stop.ns >= 0 &&
      range->stop.ns < range->target.ns) {
    start_s = gst_redis_time_to_string (range->target.ns);
    stop_s = gst_redis_time_to_string (range->stop.ns);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "stop (%s) is before start (%s)", stop_s, start_s);
    g_free (start_s);
    g_free (stop_s);
    return FALSE;
  }

  range->sample_enabled = TRUE;
  range->span_known = FALSE;
  if (!range_sample (range, cancellable, error))
    return FALSE;
  /* position 0: the oldest entry, or the start when there is none */
  if (range->span_known)
    range->origin = range->first_ns;
  else
    range->origin = range->target.ns >= 0 ? range->target.ns : now;
  if (range->target.ns >= 0)
    range->origin = MIN (range->origin, range->target.ns);

  range->key_unit = !range->accurate;
  range->snap_after = FALSE;
  gst_segment_init (&range->segment, GST_FORMAT_TIME);
  range->segment_stop = range->stop.ns;
  range->locate_due = TRUE;
  range->presented = 0;
  g_mutex_lock (&range->query_lock);
  range->query_enabled = TRUE;
  range->last_query_sample = 0;
  g_mutex_unlock (&range->query_lock);

  GST_OBJECT_LOCK (range->element);
  range->stats.start = range->target.oldest ? g_strdup ("oldest") :
      range->target.id ? g_strdup (range->target.id) :
      gst_redis_time_to_string (range->target.ns);
  range->stats.stop = range->stop.id ? g_strdup (range->stop.id) :
      range->stop.ns >= 0 ? gst_redis_time_to_string (range->stop.ns) : NULL;
  GST_OBJECT_UNLOCK (range->element);
  GST_INFO_OBJECT (range->element, "replaying stream \"%s\" from %s to %s",
      range->settings->stream, range->stats.start,
      range->stats.stop ? range->stats.stop : "the live end");
  return TRUE;

bad_start:
  g_prefix_error (error, "start: ");
  return FALSE;
bad_stop:
  g_prefix_error (error, "stop: ");
  return FALSE;
}

void
gst_redis_range_stop (GstRedisRange * range)
{
  range->locate_due = FALSE;
  g_mutex_lock (&range->query_lock);
  range->query_enabled = FALSE;
  g_clear_pointer (&range->query_conn, gst_redis_connection_free);
  g_mutex_unlock (&range->query_lock);
}

/* Counts @ms more milliseconds trimmed and names the last span gone, for
 * the stats. */
static void
range_note_trimmed (GstRedisRange * range, guint64 ms, const gchar * from,
    const gchar * to)
{
  GST_OBJECT_LOCK (range->element);
  range->stats.trimmed_ms += ms;
  g_free (range->stats.trimmed_from);
  range->stats.trimmed_from = g_strdup (from);
  g_free (range->stats.trimmed_to);
  range->stats.trimmed_to = g_strdup (to);
  GST_OBJECT_UNLOCK (range->element);
}

/* The requested start is older than anything the stream holds. */
static void
range_tell_trimmed (GstRedisRange * range, gint64 want, gint64 first)
{
  gchar *want_s = gst_redis_time_to_string (want);
  gchar *first_s = gst_redis_time_to_string (first);
  gdouble gone = (first - want) / 1e9;

  if (range->deleted_any) {
    range_note_trimmed (range, (first - want) / GST_MSECOND, want_s, first_s);
    GST_REDIS_ELEMENT_WARNING (range->element, range->settings, RESOURCE,
        READ, ("The start %s asked of stream \"%s\" is older than its oldest "
            "entry (%s): the %.3f s from %s to %s were trimmed (the "
            "producer's maxlen, max-age or max-bytes); playing from %s.",
            want_s, range->settings->stream, first_s, gone, want_s,
            first_s, first_s), ("trimmed %.3f s", gone));
  } else {
    GST_REDIS_ELEMENT_WARNING (range->element, range->settings, RESOURCE,
        READ, ("Stream \"%s\" begins at %s, %.3f s after the start %s "
            "asked: nothing was written before; playing from %s.",
            range->settings->stream, first_s, gone, want_s, first_s),
        ("nothing written before %s", first_s));
  }
  g_free (want_s);
  g_free (first_s);
}

/* The key frame a start needs was trimmed. */
static void
range_tell_key_trimmed (GstRedisRange * range, gint64 want, gint64 oldest)
{
  gchar *want_s = gst_redis_time_to_string (want);
  gchar *oldest_s = gst_redis_time_to_string (oldest);

  range_note_trimmed (range, 0, want_s, oldest_s);
  GST_REDIS_ELEMENT_WARNING (range->element, range->settings, RESOURCE,
      READ, ("The key frame needed to decode stream \"%s\" at %s was "
          "trimmed (the oldest entry is from %s): playing from the next key "
          "frame.", range->settings->stream, want_s, oldest_s),
      ("no key frame at or before %s", want_s));
  g_free (want_s);
  g_free (oldest_s);
}

typedef struct
{
  gint64 want;
  /* where reading starts, and its time */
  gchar *from;
  gint64 from_time;
  GstClockTime from_pts;
  /* the frame shown at the start (an entry id's own, or the one captured
   * last at or before the time): where it will be */
  const gchar *target_id;
  gint64 target_time;
  GstClockTime target_pts;
  gboolean known;
  gboolean needs_before;
  GstClockTime preroll;
  gboolean key_found;
  gboolean exhausted;
  guint scanned;
} Look;

/* One entry of the look back, newest first. TRUE when it is where reading
 * starts. */
static gboolean
look_at (GstRedisRange * range, Look * look, GstRedisReply * e,
    GstRedisReplyRef * owner, GCancellable * cancellable)
{
  GstRedisFrame f;
  GError *err = NULL;
  gint64 t;
  gboolean done = FALSE;

  look->scanned++;
  if (!gst_redis_read_loop_decode (range->loop, e, owner, cancellable, &f,
          &err)) {
    g_clear_error (&err);
    return FALSE;
  }
  t = frame_time (&f);
  if (look->target_id ? g_str_equal (f.id, look->target_id) :
      (t <= look->want && look->target_time < 0)) {
    look->target_time = t;
    look->target_pts = GST_BUFFER_PTS (f.buffer);
  }
  if (!look->known) {
    look->known = TRUE;
    look->needs_before = needs_frames_before (f.caps, &look->preroll);
    /* a key unit seek that snaps after reads on from the start */
    if (range->snap_after)
      look->needs_before = FALSE;
  }
  if (t <= look->want - (gint64) look->preroll) {
    g_free (look->from);
    look->from = g_strdup (f.id);
    look->from_time = t;
    look->from_pts = GST_BUFFER_PTS (f.buffer);
    done = !look->needs_before || look->preroll > 0 ||
        !GST_BUFFER_FLAG_IS_SET (f.buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    look->key_found = done;
  }
  gst_redis_frame_clear (&f);
  return done;
}

/* Looks back from @look->want (XREVRANGE <ms> - COUNT n, growing) for the
 * entry shown then, and for inter-coded media on to the key frame before
 * it. */
static gboolean
range_look_back (GstRedisRange * range, Look * look,
    GCancellable * cancellable, GError ** error)
{
  /* From the entry itself, or a little after the time: an entry is added
   * (its id) after its frame was captured, by the encoder's latency. */
  gchar *end = look->target_id ? g_strdup (look->target_id) :
      g_strdup_printf ("%" G_GINT64_FORMAT, (look->want + LOOK_AFTER) /
      GST_MSECOND);
  guint count = look->target_id ? 1 : 4;

  for (;;) {
    GstRedisReply *reply;
    GstRedisReplyRef *ref;
    gchar count_s[16];
    gboolean done = FALSE;
    gsize i, n;

    g_snprintf (count_s, sizeof (count_s), "%u", count);
    reply = range_call (range, cancellable, error, "XREVRANGE",
        range->settings->stream, end, "-", "COUNT", count_s, NULL);
    if (reply == NULL)
      goto failed;
    if (range_refused (range, reply, "look back in", error)) {
      gst_redis_reply_free (reply);
      goto failed;
    }
    n = reply->type == GST_REDIS_REPLY_ARRAY ? reply->elements : 0;
    ref = gst_redis_reply_ref_new (reply);
    for (i = 0; i < n && !done; i++) {
      GstRedisReply *e = reply->element[i];

      if (e->type != GST_REDIS_REPLY_ARRAY || e->elements != 2 ||
          e->element[0]->type != GST_REDIS_REPLY_STRING)
        continue;
      g_free (end);
      end = g_strconcat ("(", e->element[0]->str, NULL);
      done = look_at (range, look, e, ref, cancellable);
    }
    gst_redis_reply_ref_unref (ref);
    if (done)
      break;
    if (n < count) {
      look->exhausted = TRUE;
      break;
    }
    if (look->scanned >= MAX_LOOK_BACK) {
      GST_WARNING_OBJECT (range->element, "no key frame in the %u entries "
          "before the start", look->scanned);
      break;
    }
    count = MIN (count * 4, LOOK_BACK_BATCH);
  }
  g_free (end);
  return TRUE;

failed:
  g_free (end);
  return FALSE;
}

/* An entry id as a start: its own time. */
static gboolean
range_id_time (GstRedisRange * range, const gchar * id, gint64 * t,
    GCancellable * cancellable, GError ** error)
{
  GstRedisReply *reply;
  GstRedisReplyRef *ref;
  guint64 ms = 0, seq = 0;

  gst_redis_entry_id_parse (id, &ms, &seq);
  *t = (gint64) MIN (ms, G_MAXINT64 / GST_MSECOND) * GST_MSECOND;
  reply = range_call (range, cancellable, error, "XRANGE",
      range->settings->stream, id, "+", "COUNT", "1", NULL);
  if (reply == NULL)
    return FALSE;
  if (range_refused (range, reply, "read", error)) {
    gst_redis_reply_free (reply);
    return FALSE;
  }
  ref = gst_redis_reply_ref_new (reply);
  if (reply->type == GST_REDIS_REPLY_ARRAY && reply->elements > 0) {
    gint64 et = entry_time (range, reply->element[0], ref, cancellable);

    if (et >= 0)
      *t = et;
  }
  gst_redis_reply_ref_unref (ref);
  return TRUE;
}

/* Where reading starts for the target, and the segment that goes with it
 * (sent with the first frame, whose timestamp a key unit start takes). */
static gboolean
range_locate (GstRedisRange * range, GCancellable * cancellable,
    GError ** error)
{
  Look look = { 0, };
  gchar *cursor;
  gboolean ok;

  /* a read cut short by the seek is dropped first */
  if (!gst_redis_read_loop_set_cursor (range->loop, "0-0", cancellable, error))
    return FALSE;
  if (range->sample_enabled && !range_sample (range, cancellable, error))
    return FALSE;

  gst_redis_timing_reset (&range->timing);
  gst_redis_key_unit_gate_reset (range->gate);
  range->discont = TRUE;
  range->strict = TRUE;
  range->segment_due = TRUE;

  if (range->target.oldest) {
    /* from the first entry on, all of it shown */
    range->present_from = range->asked_from = G_MININT64;
    return gst_redis_read_loop_set_cursor (range->loop, "0-0", cancellable,
        error);
  }
  if (range->target.id && !range_id_time (range, range->target.id,
          &range->target.ns, cancellable, error))
    return FALSE;

  look.want = range->target.ns;
  look.target_id = range->target.id;
  look.target_pts = GST_CLOCK_TIME_NONE;
  look.target_time = -1;
  if (!range_look_back (range, &look, cancellable, error))
    return FALSE;

  range->present_from = look.want;
  /* The frame shown at the start first: the segment starts where it will
   * be, not at the time asked (a frame before it that ends a nanosecond
   * after the time would be shown too). Frames keep the producer's spacing
   * from the first one pushed, so its place is known from its timestamp
   * and the first one's; 1 ms more keeps the one before it out whatever
   * the rounding of their durations. */
  if (look.from && look.target_time >= 0 &&
      GST_CLOCK_TIME_IS_VALID (look.target_pts) &&
      GST_CLOCK_TIME_IS_VALID (look.from_pts))
    range->present_from = look.from_time + (GstClockTimeDiff) look.target_pts
        - (GstClockTimeDiff) look.from_pts + GST_MSECOND;
  if (look.from == NULL && look.exhausted && range->span_known &&
      range->first_ns > look.want) {
    /* older than the stream: from its oldest entry */
    range_tell_trimmed (range, look.want, range->first_ns);
    range->present_from = range->first_ns;
    cursor = g_strdup ("0-0");
  } else if (look.from == NULL) {
    /* nothing at or before the start (an empty stream): what comes */
    cursor = g_strdup (look.exhausted ? "0-0" : "$");
  } else {
    if (look.needs_before && !look.key_found && look.exhausted)
      range_tell_key_trimmed (range, look.want, look.from_time);
    cursor = id_before (look.from);
  }
  range->asked_from = range->present_from;
  if (range->key_unit)
    range->present_from = G_MININT64;
  GST_DEBUG_OBJECT (range->element, "start at %s: reading after %s (%u "
      "entries looked at%s)", range->stats.start, cursor, look.scanned,
      look.key_found && look.needs_before ? ", key frame found" : "");
  ok = gst_redis_read_loop_set_cursor (range->loop, cursor, cancellable, error);
  g_free (cursor);
  g_free (look.from);
  return ok;
}

/* Entries between the last one read and the oldest one left were trimmed
 * before they were read (the reader is slower than the producer's
 * trimming). */
static void
range_check_overtaken (GstRedisRange * range, gint64 last_time)
{
  gint64 first;
  gchar *from, *to;

  GST_OBJECT_LOCK (range->element);
  first = range->span_known ? range->first_ns : -1;
  GST_OBJECT_UNLOCK (range->element);
  if (first < 0 || last_time < 0 || first <= last_time + GST_SECOND)
    return;
  from = gst_redis_time_to_string (last_time);
  to = gst_redis_time_to_string (first);
  range_note_trimmed (range, (first - last_time) / GST_MSECOND, from, to);
  GST_REDIS_ELEMENT_WARNING (range->element, range->settings, RESOURCE, READ,
      ("Stream \"%s\" was trimmed faster than it was replayed: the frames "
          "from %s to %s are gone.", range->settings->stream, from, to),
      ("replay fell behind the producer's trimming"));
  gst_redis_key_unit_gate_gap (range->gate);
  g_free (from);
  g_free (to);
}

/* The producer's spacing, placed at the capture time (gstredistiming.c,
 * capture mode). From where reading starts to the frame shown first, the
 * spacing is kept strictly, anchored at the first frame: the segment start
 * was worked out that way from the look back (a drift between the
 * producer's timestamps and its capture times must not move the frame
 * shown first); after it, the timeline follows the capture times again. */
static void
range_retime (GstRedisRange * range, GstBuffer * buf, gint64 t)
{
  GstClockTime producer = GST_BUFFER_PTS (buf);
  GstClockTimeDiff offset;

  if (!range->strict || !GST_CLOCK_TIME_IS_VALID (producer)) {
    range->strict = FALSE;
    gst_redis_timing_apply (&range->timing, GST_REDIS_TIMESTAMP_CAPTURE, buf,
        0, range->origin, t);
    return;
  }
  if (!range->timing.anchored) {
    range->timing.anchored = TRUE;
    range->timing.offset = (t - range->origin) - (GstClockTimeDiff) producer;
  }
  offset = range->timing.offset;
  GST_BUFFER_PTS (buf) = (GstClockTimeDiff) producer + offset > 0 ?
      producer + offset : 0;
  if (GST_BUFFER_DTS_IS_VALID (buf))
    GST_BUFFER_DTS (buf) = (GstClockTimeDiff) GST_BUFFER_DTS (buf) + offset >
        0 ? GST_BUFFER_DTS (buf) + offset : 0;
  range->timing.last_producer = GST_BUFFER_DTS_OR_PTS (buf) - offset;
  range->timing.last_out = GST_BUFFER_DTS_OR_PTS (buf);
  /* the frame shown first: the capture times lead again */
  if (range->present_from == G_MININT64 ||
      (GstClockTimeDiff) GST_BUFFER_PTS (buf) >= range->present_from -
      range->origin - GST_MSECOND)
    range->strict = FALSE;
}

/* EOS, or an error when nothing of the range was there to play. */
static GstRedisRangeResult
range_end (GstRedisRange * range, GError ** error)
{
  gchar *start_s, *stop_s, *first_s;

  if (range->presented > 0)
    return GST_REDIS_RANGE_EOS;
  start_s = g_strdup (range->stats.start);
  stop_s = range->stop.id ? g_strdup (range->stop.id) :
      gst_redis_time_to_string (range->segment_stop);
  GST_OBJECT_LOCK (range->element);
  first_s = range->span_known ? gst_redis_time_to_string (range->first_ns) :
      NULL;
  GST_OBJECT_UNLOCK (range->element);
  if (first_s && range->deleted_any)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "Nothing of stream \"%s\" from %s to %s is left: its oldest entry is "
        "from %s (the producer's maxlen, max-age or max-bytes trimmed the "
        "rest).", range->settings->stream, start_s, stop_s, first_s);
  else
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "Stream \"%s\" holds no frame from %s to %s%s%s.",
        range->settings->stream, start_s, stop_s,
        first_s ? "; its oldest entry is from " : " (it is empty)",
        first_s ? first_s : "");
  g_free (start_s);
  g_free (stop_s);
  g_free (first_s);
  return GST_REDIS_RANGE_ERROR;
}

static gboolean
range_past_stop (GstRedisRange * range, const GstRedisFrame * frame, gint64 t)
{
  if (range->stop.id && id_compare (frame->id, range->stop.id) > 0)
    return TRUE;
  return range->segment_stop >= 0 && t > range->segment_stop;
}

GstRedisRangeResult
gst_redis_range_next (GstRedisRange * range, GCancellable * cancellable,
    GstRedisFrame * frame, gboolean * decode_only, GError ** error)
{
  GstRedisReadLoop *loop = range->loop;

  for (;;) {
    GstClockTime pts, end, from;
    gint64 t;
    gboolean shown;

    if (range->locate_due) {
      if (!range_locate (range, cancellable, error))
        return GST_REDIS_RANGE_ERROR;
      range->locate_due = FALSE;
    }
    if (range->sample_enabled && !loop->read_in_flight &&
        g_get_monotonic_time () - range->last_sample >= SAMPLE_INTERVAL) {
      if (!range_sample (range, cancellable, error))
        return GST_REDIS_RANGE_ERROR;
      range_check_overtaken (range, range->last_time);
    }

    if (!gst_redis_read_loop_next_within (loop, cancellable, -1, frame, error))
      return GST_REDIS_RANGE_ERROR;
    if (frame->buffer == NULL) {
      /* nothing new: the stop is past once the producer had time to
       * write what it captured before it */
      if (range->segment_stop >= 0 && g_get_real_time () * GST_USECOND >
          range->segment_stop + (gint64) loop->block * GST_MSECOND)
        return range_end (range, error);
      continue;
    }

    t = frame_time (frame);
    if (range_past_stop (range, frame, t)) {
      gst_redis_frame_clear (frame);
      return range_end (range, error);
    }
    if (GST_BUFFER_FLAG_IS_SET (frame->buffer, GST_BUFFER_FLAG_DISCONT))
      gst_redis_key_unit_gate_gap (range->gate);
    if (!gst_redis_key_unit_gate_pass (range->gate, frame->buffer, frame->caps)) {
      GST_LOG_OBJECT (range->element, "holding back delta unit %s until a "
          "key frame", frame->id);
      GST_OBJECT_LOCK (range->element);
      range->stats.held_back++;
      GST_OBJECT_UNLOCK (range->element);
      gst_redis_frame_clear (frame);
      continue;
    }

    range_retime (range, frame->buffer, t);
    pts = GST_BUFFER_PTS (frame->buffer);
    end = pts + (GST_BUFFER_DURATION_IS_VALID (frame->buffer) ?
        GST_BUFFER_DURATION (frame->buffer) : 0);
    from = range->present_from == G_MININT64 ? 0 :
        range->present_from > range->origin ?
        range->present_from - range->origin : 0;
    shown = end > from || pts >= from;
    if (!shown) {
      GstClockTime preroll;

      if (!needs_frames_before (frame->caps, &preroll) ||
          (preroll > 0 && pts + preroll < from)) {
        gst_redis_frame_clear (frame);
        continue;
      }
    }

    if (range->segment_due) {
      GstSegment *seg = &range->segment;

      seg->start = range->present_from == G_MININT64 ? pts : from;
      seg->time = seg->start;
      seg->position = seg->start;
      /* The stop is the source's EOS, not the segment's: with a segment
       * stop, encodebin's smart encoder (avoid-reencoding) re-encoded the
       * last group of pictures too, and once lost a timestamp doing so. */
      seg->stop = GST_CLOCK_TIME_NONE;
      if (range->present_from == G_MININT64)
        range->present_from = range->origin + pts;
      range->first_pts = pts;
    }
    if (range->discont) {
      GST_BUFFER_FLAG_SET (frame->buffer, GST_BUFFER_FLAG_DISCONT);
      range->discont = FALSE;
    }
    *decode_only = !shown;
    range->last_time = t;
    GST_OBJECT_LOCK (range->element);
    if (shown)
      range->presented++;
    else
      range->stats.decode_only++;
    GST_OBJECT_UNLOCK (range->element);
    return GST_REDIS_RANGE_FRAME;
  }
}

gboolean
gst_redis_range_take_segment (GstRedisRange * range, GstSegment * segment,
    GstStructure ** message)
{
  GstClockTime asked;

  if (!range->segment_due)
    return FALSE;
  range->segment_due = FALSE;
  gst_segment_copy_into (&range->segment, segment);
  /* where the frames pushed begin, and the frame asked for: what an
   * edit list skips in a file muxed from the key frame (pipelines/clip) */
  asked = range->asked_from == G_MININT64 ||
      range->asked_from <= range->origin ? range->first_pts :
      (GstClockTime) (range->asked_from - range->origin);
  *message = gst_structure_new ("redisstreamsrc-range",
      "first", G_TYPE_UINT64, range->first_pts,
      "start", G_TYPE_UINT64, MAX (asked, range->first_pts),
      "segment-start", G_TYPE_UINT64, segment->start, NULL);
  return TRUE;
}

void
gst_redis_range_seek (GstRedisRange * range, const GstSegment * segment,
    GstSeekFlags flags)
{
  gst_redis_position_clear (&range->target);
  range->target.ns = range->origin + (gint64) MIN (segment->start,
      (guint64) G_MAXINT64 / 2);
  range->key_unit = (flags & GST_SEEK_FLAG_KEY_UNIT) &&
      !(flags & GST_SEEK_FLAG_ACCURATE);
  range->snap_after = range->key_unit && (flags & GST_SEEK_FLAG_SNAP_AFTER)
      && !(flags & GST_SEEK_FLAG_SNAP_BEFORE);
  gst_segment_copy_into (segment, &range->segment);
  if (GST_CLOCK_TIME_IS_VALID (segment->stop))
    range->segment_stop = range->origin + (gint64) MIN (segment->stop,
        (guint64) G_MAXINT64 / 2);
  else
    range->segment_stop = range->stop.ns;
  range->locate_due = TRUE;
  range->presented = 1;         /* a seek past the end is an EOS */
  GST_OBJECT_LOCK (range->element);
  range->stats.seeks++;
  GST_OBJECT_UNLOCK (range->element);
  GST_DEBUG_OBJECT (range->element, "seek to %" GST_TIME_FORMAT "%s",
      GST_TIME_ARGS (segment->start), range->key_unit ? " (key unit)" : "");
}

gboolean
gst_redis_range_query (GstRedisRange * range, GstQuery * query)
{
  GstFormat format;
  gboolean known;
  gint64 first, last, origin;

  if (GST_QUERY_TYPE (query) == GST_QUERY_DURATION ||
      GST_QUERY_TYPE (query) == GST_QUERY_SEEKING)
    range_refresh_span (range);
  GST_OBJECT_LOCK (range->element);
  known = range->span_known;
  first = range->first_ns;
  last = range->last_ns;
  origin = range->origin;
  GST_OBJECT_UNLOCK (range->element);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_DURATION:
      gst_query_parse_duration (query, &format, NULL);
      if (format != GST_FORMAT_TIME || !known)
        return FALSE;
      gst_query_set_duration (query, GST_FORMAT_TIME, MAX (last - origin, 0));
      return TRUE;
    case GST_QUERY_SEEKING:
      gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
      if (format != GST_FORMAT_TIME)
        return FALSE;
      gst_query_set_seeking (query, GST_FORMAT_TIME, TRUE,
          known ? MAX (first - origin, 0) : 0,
          known ? MAX (last - origin, 0) : -1);
      return TRUE;
    default:
      return FALSE;
  }
}

void
gst_redis_range_add_stats (GstRedisRange * range, GstStructure * s)
{
  GstRedisRangeStats *st = &range->stats;

  gst_structure_set (s,
      "range-start", G_TYPE_STRING, st->start,
      "range-stop", G_TYPE_STRING, st->stop,
      "range-decode-only", G_TYPE_UINT64, st->decode_only,
      "range-held-back", G_TYPE_UINT64, st->held_back,
      "range-seeks", G_TYPE_UINT64, st->seeks,
      "range-trimmed-ms", G_TYPE_UINT64, st->trimmed_ms,
      "range-trimmed-from", G_TYPE_STRING, st->trimmed_from,
      "range-trimmed-to", G_TYPE_STRING, st->trimmed_to, NULL);
}
