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

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

#define FIELD_PREFIX "dead-letter-"

/* The original fields of the entry, but the dead-letter fields of an entry
 * that was a dead letter already (replayed, and set aside again). */
static void
add_original_fields (GstRedisCommand * cmd, const GstRedisReply * values)
{
  gsize i;

  for (i = 0; i + 1 < values->elements; i += 2) {
    const GstRedisReply *name = values->element[i];
    const GstRedisReply *value = values->element[i + 1];

    if (name->type != GST_REDIS_REPLY_STRING ||
        value->type != GST_REDIS_REPLY_STRING)
      continue;
    if (name->len >= strlen (FIELD_PREFIX) &&
        memcmp (name->str, FIELD_PREFIX, strlen (FIELD_PREFIX)) == 0)
      continue;
    gst_redis_command_add_len (cmd, name->str, name->len);
    gst_redis_command_add_ref (cmd, value->str, value->len);
  }
}

static void
add_field (GstRedisCommand * cmd, const gchar * name, const gchar * value)
{
  gst_redis_command_add_printf (cmd, FIELD_PREFIX "%s", name);
  gst_redis_command_add (cmd, value);
}

/* XRANGE, XADD, XACK: a refusal of any stops there (the entry stays
 * pending, or, refused after the XADD, is set aside twice at worst). */
gboolean
gst_redis_dead_letter_write (GstRedisConnection * conn,
    const GstRedisDeadLetterTarget * target, const GstRedisDeadLetter * dl,
    GstRedisDeadLetterResult * result, GError ** refused,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) original = NULL;
  g_autoptr (GstRedisReply) added = NULL;
  g_autoptr (GstRedisReply) acked = NULL;
  const GstRedisReply *values = NULL;
  GstRedisCommand cmd;

  original = gst_redis_connection_call (conn, cancellable, error, "XRANGE",
      target->stream, dl->id, dl->id, NULL);
  if (original == NULL)
    return FALSE;
  if (original->type != GST_REDIS_REPLY_ARRAY) {
    gst_redis_connection_set_refused (conn, original,
        GST_RESOURCE_ERROR_READ, refused, "read entry %s of stream \"%s\" "
        "(XRANGE) to set it aside", dl->id, target->stream);
    *result = GST_REDIS_DEAD_LETTER_REFUSED;
    return TRUE;
  }
  if (original->elements == 1 &&
      original->element[0]->type == GST_REDIS_REPLY_ARRAY &&
      original->element[0]->elements == 2 &&
      original->element[0]->element[1]->type == GST_REDIS_REPLY_ARRAY)
    values = original->element[0]->element[1];

  gst_redis_command_init (&cmd);
  gst_redis_command_add (&cmd, "XADD");
  gst_redis_command_add (&cmd, target->dead_letter_stream);
  if (target->maxlen > 0) {
    gst_redis_command_add (&cmd, "MAXLEN");
    gst_redis_command_add (&cmd, "~");
    gst_redis_command_add_printf (&cmd, "%u", target->maxlen);
  }
  gst_redis_command_add (&cmd, "*");
  if (values)
    add_original_fields (&cmd, values);
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
  if (values == NULL)
    add_field (&cmd, "note", "the entry was trimmed from the stream before "
        "it was set aside: its frame is not here");
  added = gst_redis_connection_call_command (conn, &cmd, cancellable, error);
  gst_redis_command_clear (&cmd);
  if (added == NULL)
    return FALSE;
  if (added->type != GST_REDIS_REPLY_STRING) {
    gst_redis_connection_set_refused (conn, added, GST_RESOURCE_ERROR_WRITE,
        refused, "add entry %s of stream \"%s\" to the dead-letter stream "
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
        refused, "acknowledge entry %s of stream \"%s\" in group \"%s\" "
        "after setting it aside", dl->id, target->stream, target->group);
    *result = GST_REDIS_DEAD_LETTER_REFUSED;
    return TRUE;
  }
  *result = values ? GST_REDIS_DEAD_LETTER_WRITTEN :
      GST_REDIS_DEAD_LETTER_TRIMMED;
  return TRUE;
}
