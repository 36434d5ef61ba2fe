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

/* The per-stream hash <stream>:info (gstredisinfo.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisinfo.h"
#include "gstredisdebug.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_redis_connection_debug

/* Caps ids found missing are not asked for again for a while: entries that
 * refer to caps nobody stored would otherwise cost a lookup each. */
#define MISSING_MAX 16
#define MISSING_TTL G_TIME_SPAN_SECOND

typedef struct
{
  guint32 id;
  gint64 until;
} Missing;

struct _GstRedisInfo
{
  /* the element's settings with the hash's key for the stream: the
   * topology routes by it */
  GstRedisSettings settings;
  GstRedisConnection *conn;
  /* the stream's own key, for messages */
  gchar *stream;
  /* the last exchange failed for want of a connection */
  gboolean lost;
  Missing missing[MISSING_MAX];
  guint next_missing;
};

GstRedisInfo *
gst_redis_info_new (const GstRedisSettings * settings)
{
  return gst_redis_info_new_for_stream (settings, settings->stream);
}

GstRedisInfo *
gst_redis_info_new_for_stream (const GstRedisSettings * settings,
    const gchar * stream)
{
  GstRedisInfo *info = g_new0 (GstRedisInfo, 1);

  gst_redis_settings_init (&info->settings);
  gst_redis_settings_copy (&info->settings, settings);
  info->stream = g_strdup (stream);
  g_free (info->settings.stream);
  info->settings.stream = g_strconcat (stream, GST_REDIS_INFO_SUFFIX, NULL);
  info->conn = gst_redis_connection_new (&info->settings);
  return info;
}

void
gst_redis_info_free (GstRedisInfo * info)
{
  if (info == NULL)
    return;
  gst_redis_connection_free (info->conn);
  gst_redis_settings_clear (&info->settings);
  g_free (info->stream);
  g_free (info);
}

const gchar *
gst_redis_info_get_key (GstRedisInfo * info)
{
  return info->settings.stream;
}

/* TRUE when the last exchange failed because Redis could not be reached
 * or the connection broke, rather than because Redis refused a command:
 * the element's own connection is likely gone too. */
gboolean
gst_redis_info_lost (GstRedisInfo * info)
{
  return info->lost;
}

/* One command on the hash's node, and its reply; a reply Redis sends as an
 * error too (the caller says what it means). */
static GstRedisReply *
info_call (GstRedisInfo * info, GCancellable * cancellable, GError ** error,
    const gchar * first_arg, ...)
{
  GstRedisCommand cmd;
  GstRedisReply *reply = NULL;
  GError *err = NULL;
  va_list args;

  va_start (args, first_arg);
  gst_redis_command_init_valist (&cmd, first_arg, args);
  va_end (args);
  if (gst_redis_connection_is_open (info->conn) ||
      gst_redis_connection_open (info->conn, cancellable, &err))
    reply = gst_redis_connection_call_command (info->conn, &cmd, cancellable,
        &err);
  gst_redis_command_clear (&cmd);
  if (reply == NULL) {
    info->lost = !gst_redis_error_is_cancelled (err);
    g_propagate_error (error, err);
  }
  return reply;
}

gboolean
gst_redis_info_store_caps (GstRedisInfo * info, const gchar * id,
    const gchar * caps_str, GCancellable * cancellable, GError ** error)
{
  const gchar *key = info->settings.stream;
  gchar *field = g_strconcat (GST_REDIS_INFO_CAPS_PREFIX, id, NULL);
  GstRedisReply *reply;
  gboolean ok = FALSE, same = FALSE;

  info->lost = FALSE;
  reply = info_call (info, cancellable, error, "HSETNX", key, field, caps_str,
      NULL);
  if (reply == NULL)
    goto done;
  if (reply->type == GST_REDIS_REPLY_INTEGER && reply->integer == 1) {
    GST_DEBUG ("stored caps id %s in %s", id, key);
    ok = same = TRUE;
    goto done;
  }
  if (reply->type != GST_REDIS_REPLY_INTEGER) {
    gst_redis_connection_set_refused (info->conn, reply,
        GST_RESOURCE_ERROR_WRITE, error, "store the caps of stream \"%s\" in "
        "hash \"%s\" (HSETNX, which the user's ACL must allow on that key)",
        info->stream, key);
    goto done;
  }

  /* there already: ours, unless two caps strings share the id */
  gst_redis_reply_free (reply);
  reply = info_call (info, cancellable, error, "HGET", key, field, NULL);
  if (reply == NULL)
    goto done;
  if (reply->type == GST_REDIS_REPLY_STRING) {
    ok = TRUE;
    same = reply->len == strlen (caps_str) &&
        memcmp (reply->str, caps_str, reply->len) == 0;
    GST_DEBUG ("caps id %s in %s: %s", id, key, same ? "there already" :
        "other caps");
  } else if (reply->type == GST_REDIS_REPLY_NIL) {
    /* deleted in between: the next attempt stores it again */
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Redis at %s: field \"%s\" of hash \"%s\" disappeared while the "
        "caps were being stored", gst_redis_connection_describe (info->conn),
        field, key);
  } else {
    gst_redis_connection_set_refused (info->conn, reply,
        GST_RESOURCE_ERROR_READ, error, "read field \"%s\" of hash \"%s\" "
        "(HGET, which the user's ACL must allow on that key)", field, key);
  }

done:
  gst_redis_reply_free (reply);
  gst_redis_connection_close (info->conn);
  g_free (field);
  return ok && same;
}

/* TRUE when @id was found missing less than MISSING_TTL ago. */
static gboolean
info_known_missing (GstRedisInfo * info, guint32 id)
{
  gint64 now = g_get_monotonic_time ();
  guint i;

  for (i = 0; i < MISSING_MAX; i++) {
    if (info->missing[i].id == id && info->missing[i].until > now)
      return TRUE;
  }
  return FALSE;
}

GstRedisReply *
gst_redis_info_get_caps (GstRedisInfo * info, guint32 id,
    GCancellable * cancellable, GError ** error)
{
  const gchar *key = info->settings.stream;
  gchar *field = g_strdup_printf (GST_REDIS_INFO_CAPS_PREFIX "%u", id);
  GstRedisReply *reply = NULL;

  info->lost = FALSE;
  if (info_known_missing (info, id))
    goto missing;
  reply = info_call (info, cancellable, error, "HGET", key, field, NULL);
  if (reply == NULL)
    goto done;
  switch (reply->type) {
    case GST_REDIS_REPLY_STRING:
      GST_DEBUG ("caps id %u from %s: %s", id, key, reply->str);
      break;
    case GST_REDIS_REPLY_NIL:
      info->missing[info->next_missing].id = id;
      info->missing[info->next_missing].until = g_get_monotonic_time () +
          MISSING_TTL;
      info->next_missing = (info->next_missing + 1) % MISSING_MAX;
      goto missing;
    default:
      gst_redis_connection_set_refused (info->conn, reply,
          GST_RESOURCE_ERROR_READ, error, "read the caps of stream \"%s\" "
          "from hash \"%s\" (HGET %s, which the user's ACL must allow on "
          "that key)", info->stream, key, field);
      g_clear_pointer (&reply, gst_redis_reply_free);
      break;
  }

done:
  gst_redis_connection_close (info->conn);
  g_free (field);
  return reply;

missing:
  g_clear_pointer (&reply, gst_redis_reply_free);
  g_set_error (error, GST_REDIS_ENTRY_ERROR,
      GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS, "its caps id %u is not in the "
      "stream's hash \"%s\" (no field \"%s\"): the hash was deleted or its "
      "writer did not store the caps", id, key, field);
  goto done;
}

gboolean
gst_redis_info_lookup_caps (GstRedisInfo * info, GstRedisEntryDecoder * dec,
    guint32 id, GCancellable * cancellable, GError ** error)
{
  GstRedisReply *caps;
  gboolean ok;

  caps = gst_redis_info_get_caps (info, id, cancellable, error);
  if (caps == NULL)
    return FALSE;
  ok = gst_redis_entry_decoder_add_caps (dec, id, caps->str, caps->len, error);
  gst_redis_reply_free (caps);
  return ok;
}
