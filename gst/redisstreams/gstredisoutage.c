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

/* What an element does while its connection to Redis is lost: try again
 * with a backoff from 100 ms doubling to 2 s, warn the user once per
 * outage, tell them when it is over, and give up after reconnect-timeout.
 * Element side: it posts the element's messages, the connection never
 * does. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisoutage.h"
#include "gstredisdebug.h"

#include <string.h>


#define OUTAGE_FIRST_BACKOFF 100
#define OUTAGE_MAX_BACKOFF 2000

#define GST_CAT_DEFAULT gst_redis_outage_debug

void
gst_redis_outage_init (GstRedisOutage * outage, GstElement * element,
    const GstRedisSettings * settings, GstResourceError code)
{
  memset (outage, 0, sizeof (*outage));
  outage->element = element;
  outage->settings = settings;
  outage->code = code;
  outage->limit_ms = settings->reconnect_timeout;
}

/* TRUE when @err, from a command on @conn, is a lost connection that the
 * element should try to get back: the connection is closed (not a command
 * Redis refused), the wait was not cancelled, and reconnect-timeout is
 * not 0. */
gboolean
gst_redis_outage_is_loss (const GstRedisOutage * outage,
    GstRedisConnection * conn, const GError * err)
{
  return err && err->domain == GST_RESOURCE_ERROR &&
      !gst_redis_connection_is_open (conn) && outage->limit_ms > 0;
}

/* Returns TRUE when this starts a new outage (time to warn the user with
 * gst_redis_outage_warn ()). */
gboolean
gst_redis_outage_begin (GstRedisOutage * outage)
{
  if (outage->lost_at != 0)
    return FALSE;
  outage->lost_at = g_get_monotonic_time ();
  outage->backoff_ms = OUTAGE_FIRST_BACKOFF;
  /* the first attempt right away: most outages are a restart */
  outage->next_try = outage->lost_at;
  return TRUE;
}

gboolean
gst_redis_outage_active (const GstRedisOutage * outage)
{
  return outage->lost_at != 0;
}

gboolean
gst_redis_outage_due (const GstRedisOutage * outage)
{
  return g_get_monotonic_time () >= outage->next_try;
}

gint64
gst_redis_outage_wait_us (const GstRedisOutage * outage)
{
  return MAX (0, outage->next_try - g_get_monotonic_time ());
}

/* After a failed attempt: schedules the next one. Returns FALSE when the
 * outage has lasted longer than the limit: time to give up. */
static gboolean
gst_redis_outage_retry_later (GstRedisOutage * outage)
{
  gint64 now = g_get_monotonic_time ();

  if (now - outage->lost_at >=
      (gint64) outage->limit_ms * G_TIME_SPAN_MILLISECOND)
    return FALSE;
  outage->next_try = now + (gint64) outage->backoff_ms *
      G_TIME_SPAN_MILLISECOND;
  outage->backoff_ms = MIN (outage->backoff_ms * 2, OUTAGE_MAX_BACKOFF);
  return TRUE;
}

/* The error an element posts when an outage lasted longer than its limit:
 * outage->code whatever the last attempt ran into, unless Redis refused the
 * credentials or the settings, which an application tells apart
 * (docs/redisstreamsrc.md lists the codes). Takes @last. */
static void
outage_give_up (GstRedisOutage * outage, GError * last, GError ** error)
{
  GstResourceError code = outage->code;

  if (last->domain == GST_RESOURCE_ERROR &&
      (last->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED ||
          last->code == GST_RESOURCE_ERROR_SETTINGS))
    code = last->code;
  g_set_error (error, GST_RESOURCE_ERROR, code, "Gave up reconnecting after "
      "%u ms: %s", outage->limit_ms, last->message);
  g_error_free (last);
}

/* Posts a message of outage->element in GST_RESOURCE_ERROR outage->code,
 * at the element's @site. Takes @text. */
static void
outage_post (GstRedisOutage * outage, GstMessageType type, gchar * text,
    const gchar * debug, const GstRedisSite * site)
{
  gst_redis_element_post (outage->element, outage->settings, type,
      GST_RESOURCE_ERROR, outage->code, text, g_strdup (debug), site);
}

/* The warning that starts an outage: what was lost, for how long the
 * element keeps trying, and @consequence (a sentence, or NULL) for what
 * happens meanwhile. */
void
gst_redis_outage_warn (GstRedisOutage * outage, GstRedisConnection * conn,
    const GError * err, const gchar * consequence, const GstRedisSite * site)
{
  outage_post (outage, GST_MESSAGE_WARNING, g_strdup_printf ("Lost the "
          "connection to Redis at %s; trying to reconnect for up to %u ms.%s%s",
          gst_redis_connection_describe (conn), outage->limit_ms,
          consequence ? " " : "", consequence ? consequence : ""),
      err->message, site);
}

/* One attempt to open @conn again. On GST_REDIS_RECONNECT_LATER the next
 * attempt is scheduled (gst_redis_outage_due ()); @error is set for
 * _CANCELLED and _GAVE_UP. The caller ends the outage with
 * gst_redis_outage_end () after _OK. */
GstRedisReconnect
gst_redis_outage_reconnect (GstRedisOutage * outage,
    GstRedisConnection * conn, GCancellable * cancellable, GError ** error)
{
  GError *err = NULL;

  if (gst_redis_connection_open (conn, cancellable, &err))
    return GST_REDIS_RECONNECT_OK;
  GST_DEBUG_OBJECT (outage->element, "reconnecting failed: %s", err->message);
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_propagate_error (error, err);
    return GST_REDIS_RECONNECT_CANCELLED;
  }
  if (gst_redis_outage_retry_later (outage)) {
    g_error_free (err);
    return GST_REDIS_RECONNECT_LATER;
  }
  outage_give_up (outage, err, error);
  return GST_REDIS_RECONNECT_GAVE_UP;
}

/* Connected again: counts the reconnection and tells the user. */
void
gst_redis_outage_end (GstRedisOutage * outage, GstRedisConnection * conn,
    const GstRedisSite * site)
{
  if (outage->lost_at != 0) {
    outage->reconnects++;
    outage->down_us += g_get_monotonic_time () - outage->lost_at;
  }
  outage->lost_at = 0;
  outage_post (outage, GST_MESSAGE_INFO, g_strdup_printf ("Reconnected to "
          "Redis at %s; %s stream \"%s\" again.",
          gst_redis_connection_describe (conn),
          outage->code == GST_RESOURCE_ERROR_WRITE ? "writing to" : "reading",
          outage->settings->stream), NULL, site);
}

/* Milliseconds spent without a connection since the element started: the
 * outages that ended and the one going on. */
guint64
gst_redis_outage_get_down_time (const GstRedisOutage * outage)
{
  gint64 lost_at = outage->lost_at;
  gint64 down = outage->down_us;

  if (lost_at != 0)
    down += g_get_monotonic_time () - lost_at;
  return down / G_TIME_SPAN_MILLISECOND;
}
