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

/* Setting an entry aside (gstredisdeadletter.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisdeadletter.h"
#include "gstrediscaps.h"
#include "gstredisentry.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

#define FIELD_PREFIX "dead-letter-"

/* The original fields of the entry, but the dead-letter fields of an entry
 * that was a dead letter already (replayed, and set aside again); they
 * point into @values. */
static GstRedisField *
get_original_fields (const GstRedisReply * values, guint * n_fields)
{
  GstRedisField *fields = g_new0 (GstRedisField, values->elements / 2 + 1);
  gsize i;
  guint n = 0;

  for (i = 0; i + 1 < values->elements; i += 2) {
    const GstRedisReply *name = values->element[i];
    const GstRedisReply *value = values->element[i + 1];

    if (name->type != GST_REDIS_REPLY_STRING ||
        value->type != GST_REDIS_REPLY_STRING)
      continue;
    if (name->len >= strlen (FIELD_PREFIX) &&
        memcmp (name->str, FIELD_PREFIX, strlen (FIELD_PREFIX)) == 0)
      continue;
    fields[n].name = name->str;
    fields[n].name_len = name->len;
    fields[n].value = value->str;
    fields[n].value_len = value->len;
    n++;
  }
  *n_fields = n;
  return fields;
}

static void
add_field (GstRedisCommand * cmd, const gchar * name, const gchar * value)
{
  gst_redis_command_add_printf (cmd, FIELD_PREFIX "%s", name);
  gst_redis_command_add (cmd, value);
}

typedef enum
{
  CAPS_COPIED,
  /* not there to copy, or not copyable: the dead letter says why */
  CAPS_NOT_COPIED,
  CAPS_REFUSED,
  CAPS_FAILED,
} CapsCopy;

/* An exchange with a hash failed: Redis refused (@refused), or could not
 * be asked (@error). A lost connection closes the stream's connection too,
 * so that the entry, still pending, is read again after reconnecting. */
static CapsCopy
caps_not_exchanged (GstRedisConnection * conn, GstRedisInfo * info,
    GError * err, GError ** refused, GError ** error)
{
  if (gst_redis_info_lost (info)) {
    gst_redis_connection_close (conn);
    g_propagate_error (error, err);
    return CAPS_FAILED;
  }
  if (gst_redis_error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return CAPS_FAILED;
  }
  g_propagate_error (refused, err);
  return CAPS_REFUSED;
}

/* A version 2 entry refers to its caps by id: they are copied from the
 * stream's hash into the dead-letter stream's (HGET, then HSETNX and HGET
 * as a sink stores them) before the dead letter is added, so that it
 * plays as the entry did. Caps that are not there (the hash was deleted)
 * or are not those of the id are not copied: @note says so. */
static CapsCopy
copy_caps (GstRedisConnection * conn, const GstRedisDeadLetterTarget * target,
    guint32 id, gchar ** note, GError ** refused, GCancellable * cancellable,
    GError ** error)
{
  const gchar *key = gst_redis_info_get_key (target->info);
  const gchar *dl_key = gst_redis_info_get_key (target->dead_letter_info);
  g_autoptr (GstRedisReply) caps = NULL;
  GError *err = NULL;
  gchar id_str[16];

  caps = gst_redis_info_get_caps (target->info, id, cancellable, &err);
  if (caps == NULL) {
    if (!g_error_matches (err, GST_REDIS_ENTRY_ERROR,
            GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS))
      return caps_not_exchanged (conn, target->info, err, refused, error);
    g_error_free (err);
    *note = g_strdup_printf ("its caps (caps id %u) were not in \"%s\" when "
        "it was set aside (the hash was deleted, or its writer did not store "
        "them): a reader cannot play it", id, key);
    return CAPS_NOT_COPIED;
  }
  if (memchr (caps->str, '\0', caps->len) != NULL ||
      gst_redis_caps_id (caps->str, caps->len) != id) {
    *note = g_strdup_printf ("the caps stored for its caps id %u in \"%s\" "
        "are not the caps of that id: a reader cannot play it", id, key);
    return CAPS_NOT_COPIED;
  }

  g_snprintf (id_str, sizeof (id_str), "%u", id);
  if (gst_redis_info_store_caps (target->dead_letter_info, id_str, caps->str,
          cancellable, &err)) {
    GST_DEBUG ("caps id %u of \"%s\" copied to \"%s\"", id, key, dl_key);
    return CAPS_COPIED;
  }
  if (err)
    return caps_not_exchanged (conn, target->dead_letter_info, err, refused,
        error);
  /* two caps strings with one id (one pair in 2^31) */
  *note = g_strdup_printf ("\"%s\" holds other caps under its caps id %u: "
      "its own caps are field \"caps:%u\" of \"%s\"", dl_key, id, id, key);
  return CAPS_NOT_COPIED;
}

/* XRANGE, (HGET, HSETNX: the caps of a version 2 entry), XADD, XACK: a
 * refusal of any stops there (the entry stays pending, or, refused after
 * the XADD, is set aside twice at worst). */
gboolean
gst_redis_dead_letter_write (GstRedisConnection * conn,
    const GstRedisDeadLetterTarget * target, const GstRedisDeadLetter * dl,
    GstRedisDeadLetterResult * result, GError ** why,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) original = NULL;
  g_autoptr (GstRedisReply) added = NULL;
  g_autoptr (GstRedisReply) acked = NULL;
  g_autofree GstRedisField *fields = NULL;
  g_autofree gchar *note = NULL;
  guint i, n_fields = 0;
  guint32 caps_id;
  GstRedisCommand cmd;

  original = gst_redis_connection_call (conn, cancellable, error, "XRANGE",
      target->stream, dl->id, dl->id, NULL);
  if (original == NULL)
    return FALSE;
  if (original->type != GST_REDIS_REPLY_ARRAY) {
    gst_redis_connection_set_refused (conn, original,
        GST_RESOURCE_ERROR_READ, why, "read entry %s of stream \"%s\" "
        "(XRANGE) to set it aside", dl->id, target->stream);
    *result = GST_REDIS_DEAD_LETTER_REFUSED;
    return TRUE;
  }
  if (original->elements == 1 &&
      original->element[0]->type == GST_REDIS_REPLY_ARRAY &&
      original->element[0]->elements == 2 &&
      original->element[0]->element[1]->type == GST_REDIS_REPLY_ARRAY)
    fields = get_original_fields (original->element[0]->element[1], &n_fields);

  if (fields == NULL) {
    note = g_strdup ("the entry was trimmed from the stream before it was "
        "set aside: its frame is not here");
  } else if (gst_redis_entry_get_caps_id (fields, n_fields, &caps_id)) {
    switch (copy_caps (conn, target, caps_id, &note, why, cancellable, error)) {
      case CAPS_COPIED:
      case CAPS_NOT_COPIED:
        break;
      case CAPS_REFUSED:
        *result = GST_REDIS_DEAD_LETTER_REFUSED;
        return TRUE;
      case CAPS_FAILED:
        return FALSE;
    }
  }

  gst_redis_command_init (&cmd);
  gst_redis_command_add (&cmd, "XADD");
  gst_redis_command_add (&cmd, target->dead_letter_stream);
  if (target->maxlen > 0) {
    gst_redis_command_add (&cmd, "MAXLEN");
    gst_redis_command_add (&cmd, "~");
    gst_redis_command_add_printf (&cmd, "%u", target->maxlen);
  }
  gst_redis_command_add (&cmd, "*");
  for (i = 0; i < n_fields; i++) {
    gst_redis_command_add_len (&cmd, fields[i].name, fields[i].name_len);
    gst_redis_command_add_ref (&cmd, fields[i].value, fields[i].value_len);
  }
  add_field (&cmd, "reason", dl->reason);
  add_field (&cmd, "stream", target->stream);
  add_field (&cmd, "id", dl->id);
  add_field (&cmd, "group", target->group);
  add_field (&cmd, "consumer", target->consumer);
  gst_redis_command_add (&cmd, FIELD_PREFIX "deliveries");
  gst_redis_command_add_printf (&cmd, "%u", dl->deliveries);
  gst_redis_command_add (&cmd, FIELD_PREFIX "time");
  gst_redis_command_add_printf (&cmd, "%" G_GINT64_FORMAT,
      g_get_real_time () / 1000);
  if (note)
    add_field (&cmd, "note", note);
  added = gst_redis_connection_call_command (conn, &cmd, cancellable, error);
  gst_redis_command_clear (&cmd);
  if (added == NULL)
    return FALSE;
  if (added->type != GST_REDIS_REPLY_STRING) {
    gst_redis_connection_set_refused (conn, added, GST_RESOURCE_ERROR_WRITE,
        why, "add entry %s of stream \"%s\" to the dead-letter stream "
        "\"%s\"", dl->id, target->stream, target->dead_letter_stream);
    *result = GST_REDIS_DEAD_LETTER_REFUSED;
    return TRUE;
  }
  GST_DEBUG ("entry %s of stream \"%s\" set aside as %s in \"%s\": %s",
      dl->id, target->stream, added->str, target->dead_letter_stream,
      dl->reason);

  acked = gst_redis_connection_call (conn, cancellable, error, "XACK",
      target->stream, target->group, dl->id, NULL);
  if (acked == NULL)
    return FALSE;
  if (acked->type != GST_REDIS_REPLY_INTEGER) {
    gst_redis_connection_set_refused (conn, acked, GST_RESOURCE_ERROR_WRITE,
        why, "acknowledge entry %s of stream \"%s\" in group \"%s\" "
        "after setting it aside", dl->id, target->stream, target->group);
    *result = GST_REDIS_DEAD_LETTER_REFUSED;
    return TRUE;
  }
  if (fields == NULL) {
    *result = GST_REDIS_DEAD_LETTER_TRIMMED;
  } else if (note) {
    *result = GST_REDIS_DEAD_LETTER_NO_CAPS;
    g_set_error_literal (why, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS, note);
  } else {
    *result = GST_REDIS_DEAD_LETTER_WRITTEN;
  }
  return TRUE;
}
