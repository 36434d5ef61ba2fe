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

#ifndef __GST_REDIS_READER_H__
#define __GST_REDIS_READER_H__

#include <gio/gio.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* A RESP2 reply reader that receives large bulk strings in place.
 *
 * It builds trees of the same shape as hiredis' redisReader (freed with
 * gst_redis_reply_free ()), but a bulk string of
 * GST_REDIS_READER_DIRECT_MIN bytes or more is allocated at its final size
 * as soon as its header is parsed, and the rest of it is received straight
 * into that allocation: a frame goes from the socket into the memory that
 * becomes the GstBuffer's, without being assembled in a read buffer first.
 *
 * Use: get_space () says where the next bytes belong and how many fit
 * there; receive into it and advance () by the count; get_reply () parses
 * what has arrived. Everything is kept between calls, so a wait that is
 * interrupted in the middle of a reply loses nothing. */

/* Bulk strings this large are received in place. */
#define GST_REDIS_READER_DIRECT_MIN (16 * 1024)
/* Bytes asked of the socket while reading headers: at most this much of a
 * large bulk is received into the read buffer and copied from it. */
#define GST_REDIS_READER_WINDOW (4 * 1024)
/* Bulk strings longer than the reader's limit are not kept: their bytes are
 * read and dropped, and the reply holds a GST_REDIS_REPLY_ERROR element in
 * their place that says so. The default limit is Redis' own default
 * proto-max-bulk-len; gst_redis_reader_set_max_bulk () changes it (the fuzz
 * targets build with a lower default). */
#ifndef GST_REDIS_READER_MAX_BULK
#define GST_REDIS_READER_MAX_BULK (512 * 1024 * 1024)
#endif
/* Bytes asked of the socket at a time while dropping a bulk. */
#define GST_REDIS_READER_DISCARD_CHUNK (256 * 1024)
/* Limits on what a reply may declare before it is allocated. */
#define GST_REDIS_READER_MAX_ELEMENTS (1024 * 1024)
#define GST_REDIS_READER_MAX_DEPTH 7
#define GST_REDIS_READER_MAX_LINE (64 * 1024)

/* A reply, as the reader builds it: the shape of hiredis's redisReply, but
 * our own type, allocated with GLib and freed with gst_redis_reply_free ()
 * (hiredis frees its replies with its own allocator, which hiredis 1.0 made
 * replaceable: the two must not meet). */
typedef enum
{
  GST_REDIS_REPLY_STRING = 1,
  GST_REDIS_REPLY_ARRAY,
  GST_REDIS_REPLY_INTEGER,
  GST_REDIS_REPLY_NIL,
  GST_REDIS_REPLY_STATUS,
  GST_REDIS_REPLY_ERROR,
} GstRedisReplyType;

typedef struct _GstRedisReply GstRedisReply;

struct _GstRedisReply
{
  GstRedisReplyType type;
  gint64 integer;
  /* STRING, STATUS, ERROR: len bytes and a NUL */
  gsize len;
  gchar *str;
  /* ARRAY */
  gsize elements;
  GstRedisReply **element;
};

void gst_redis_reply_free (GstRedisReply * reply);
gboolean gst_redis_reply_is_error (const GstRedisReply * reply,
    const gchar * prefix);
gboolean gst_redis_reply_is_string (const GstRedisReply * reply,
    const gchar * str);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstRedisReply, gst_redis_reply_free);

/* A refcounted reply, so that buffers can point into it without a copy: a
 * frame's payload is one of its bulk strings, received in place. */
typedef struct _GstRedisReplyRef GstRedisReplyRef;
GstRedisReplyRef *gst_redis_reply_ref_new (GstRedisReply * reply);
GstRedisReplyRef *gst_redis_reply_ref_ref (GstRedisReplyRef * ref);
void gst_redis_reply_ref_unref (GstRedisReplyRef * ref);
GstRedisReply *gst_redis_reply_ref_get (GstRedisReplyRef * ref);

typedef struct _GstRedisReader GstRedisReader;

GstRedisReader *gst_redis_reader_new (void);
void gst_redis_reader_free (GstRedisReader * reader);
void gst_redis_reader_reset (GstRedisReader * reader);
void gst_redis_reader_set_max_bulk (GstRedisReader * reader, guint64 max);

guint8 *gst_redis_reader_get_space (GstRedisReader * reader, gsize * size);
void gst_redis_reader_advance (GstRedisReader * reader, gsize n);
void gst_redis_reader_feed (GstRedisReader * reader, const guint8 * data,
    gsize len);

gboolean gst_redis_reader_get_reply (GstRedisReader * reader,
    GstRedisReply ** reply, GError ** error);

/* Since creation: bytes of large bulks (GST_REDIS_READER_DIRECT_MIN or more)
 * that were copied out of the read buffer, bytes received in place, and
 * bytes of bulks over the limit that were dropped. */
guint64 gst_redis_reader_get_copied (GstRedisReader * reader);
gboolean gst_redis_reader_has_input (GstRedisReader * reader);
guint64 gst_redis_reader_get_direct (GstRedisReader * reader);
guint64 gst_redis_reader_get_discarded (GstRedisReader * reader);

G_END_DECLS
#endif /* __GST_REDIS_READER_H__ */
