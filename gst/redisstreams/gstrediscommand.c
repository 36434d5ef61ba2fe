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

/* RESP commands, the writing half of the protocol (gstredisreader.c is the
 * reading half). A command is kept as segments: small arguments and the
 * RESP headers are copied into one byte array, large arguments (a frame's
 * payload) are only referenced, so that the connection sends a frame with
 * one vectored write straight from the buffer's memory.
 *
 * This replaces hiredis's redisFormatCommandArgv (), which joins every
 * argument into one new string: a copy of every frame. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediscommand.h"

#include <string.h>


typedef struct
{
  const guint8 *ref;            /* NULL: the data is in cmd->bytes */
  gsize offset;
  gsize len;
} Segment;

void
gst_redis_command_init (GstRedisCommand * cmd)
{
  cmd->bytes = g_byte_array_sized_new (512);
  cmd->segments = g_array_sized_new (FALSE, FALSE, sizeof (Segment), 8);
  cmd->argc = 0;
  cmd->size = 0;
}

/* A command of the NULL-terminated string arguments @first_arg, @args. */
void
gst_redis_command_init_valist (GstRedisCommand * cmd, const gchar * first_arg,
    va_list args)
{
  const gchar *arg;

  gst_redis_command_init (cmd);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const gchar *))
      gst_redis_command_add (cmd, arg);
}

void
gst_redis_command_clear (GstRedisCommand * cmd)
{
  g_clear_pointer (&cmd->bytes, g_byte_array_unref);
  g_clear_pointer (&cmd->segments, g_array_unref);
}

void
gst_redis_command_reset (GstRedisCommand * cmd)
{
  g_byte_array_set_size (cmd->bytes, 0);
  g_array_set_size (cmd->segments, 0);
  cmd->argc = 0;
  cmd->size = 0;
}

/* Extends the last in-buffer segment, or starts a new one. */
static void
command_append_bytes (GstRedisCommand * cmd, const void *data, gsize len)
{
  Segment *last = NULL;

  if (cmd->segments->len > 0)
    last = &g_array_index (cmd->segments, Segment, cmd->segments->len - 1);
  if (last == NULL || last->ref != NULL) {
    Segment seg = { NULL, cmd->bytes->len, 0 };
    g_array_append_val (cmd->segments, seg);
    last = &g_array_index (cmd->segments, Segment, cmd->segments->len - 1);
  }
  g_byte_array_append (cmd->bytes, data, len);
  last->len += len;
  cmd->size += len;
}

static void
command_append_header (GstRedisCommand * cmd, gsize len)
{
  gchar head[32];
  gint n = g_snprintf (head, sizeof (head), "$%" G_GSIZE_FORMAT "\r\n", len);

  command_append_bytes (cmd, head, n);
  cmd->argc++;
}

void
gst_redis_command_add_len (GstRedisCommand * cmd, const void *data, gsize len)
{
  command_append_header (cmd, len);
  command_append_bytes (cmd, data, len);
  command_append_bytes (cmd, "\r\n", 2);
}

void
gst_redis_command_add (GstRedisCommand * cmd, const gchar * arg)
{
  gst_redis_command_add_len (cmd, arg, strlen (arg));
}

void
gst_redis_command_add_printf (GstRedisCommand * cmd, const gchar * format, ...)
{
  gchar buf[128];
  gchar *big = NULL;
  va_list args;
  gint n;

  va_start (args, format);
  n = g_vsnprintf (buf, sizeof (buf), format, args);
  va_end (args);
  if (n >= (gint) sizeof (buf)) {
    va_start (args, format);
    big = g_strdup_vprintf (format, args);
    va_end (args);
    gst_redis_command_add (cmd, big);
    g_free (big);
  } else {
    gst_redis_command_add_len (cmd, buf, n);
  }
}

void
gst_redis_command_add_ref (GstRedisCommand * cmd, const void *data, gsize len)
{
  Segment seg = { data, 0, len };

  if (len == 0) {
    gst_redis_command_add_len (cmd, "", 0);
    return;
  }
  command_append_header (cmd, len);
  g_array_append_val (cmd->segments, seg);
  cmd->size += len;
  command_append_bytes (cmd, "\r\n", 2);
}

/* Appends the arguments of @args to @cmd: small ones are copied, referenced
 * ones stay references. */
void
gst_redis_command_append (GstRedisCommand * cmd, const GstRedisCommand * args)
{
  guint i;

  for (i = 0; i < args->segments->len; i++) {
    const Segment *seg = &g_array_index (args->segments, Segment, i);

    if (seg->ref != NULL) {
      g_array_append_val (cmd->segments, *seg);
      cmd->size += seg->len;
    } else {
      command_append_bytes (cmd, args->bytes->data + seg->offset, seg->len);
    }
  }
  cmd->argc += args->argc;
}

/* Vectors gst_redis_command_get_vectors () fills in. */
guint
gst_redis_command_n_vectors (const GstRedisCommand * cmd)
{
  return cmd->segments->len + 1;
}

/* Fills in @vectors (gst_redis_command_n_vectors () of them) with the whole
 * command, the array header written into @head first; returns its size. */
gsize
gst_redis_command_get_vectors (const GstRedisCommand * cmd,
    gchar head[GST_REDIS_COMMAND_HEAD_SIZE], GOutputVector * vectors)
{
  gsize total;
  guint i;

  vectors[0].buffer = head;
  vectors[0].size = g_snprintf (head, GST_REDIS_COMMAND_HEAD_SIZE, "*%u\r\n",
      cmd->argc);
  total = vectors[0].size;
  for (i = 0; i < cmd->segments->len; i++) {
    const Segment *seg = &g_array_index (cmd->segments, Segment, i);

    vectors[i + 1].buffer = seg->ref ? seg->ref :
        cmd->bytes->data + seg->offset;
    vectors[i + 1].size = seg->len;
    total += seg->len;
  }
  return total;
}
