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

#ifndef __GST_REDIS_COMMAND_H__
#define __GST_REDIS_COMMAND_H__

#include <gio/gio.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* A command in RESP form, built from small arguments copied into one buffer
 * and large ones (frame payloads) only referenced, so that sending it never
 * joins a frame into a new buffer. */
typedef struct
{
  GByteArray *bytes;
  GArray *segments;
  guint argc;
  gsize size;
} GstRedisCommand;

/* Room gst_redis_command_get_vectors () needs for the array header. */
#define GST_REDIS_COMMAND_HEAD_SIZE 32

void gst_redis_command_init (GstRedisCommand * cmd);
void gst_redis_command_init_valist (GstRedisCommand * cmd,
    const gchar * first_arg, va_list args);
void gst_redis_command_clear (GstRedisCommand * cmd);
void gst_redis_command_reset (GstRedisCommand * cmd);
void gst_redis_command_add (GstRedisCommand * cmd, const gchar * arg);
void gst_redis_command_add_len (GstRedisCommand * cmd, const void *data,
    gsize len);

/* *INDENT-OFF* */
void gst_redis_command_add_printf (GstRedisCommand * cmd,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

void gst_redis_command_add_ref (GstRedisCommand * cmd, const void *data,
    gsize len);
void gst_redis_command_append (GstRedisCommand * cmd,
    const GstRedisCommand * args);
guint gst_redis_command_n_vectors (const GstRedisCommand * cmd);
gsize gst_redis_command_get_vectors (const GstRedisCommand * cmd,
    gchar head[GST_REDIS_COMMAND_HEAD_SIZE], GOutputVector * vectors);

G_END_DECLS
#endif /* __GST_REDIS_COMMAND_H__ */
