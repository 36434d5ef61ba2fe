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

/* RESP2 replies, read the way the elements need them: a frame's bulk string
 * is received into its final allocation (see gstredisreader.h).
 *
 * The reader keeps a small read buffer for headers, lines and short bulks.
 * get_space () offers at most GST_REDIS_READER_WINDOW bytes of it at a
 * time, so that a read never pulls much of a large bulk into it. When a
 * bulk header announces GST_REDIS_READER_DIRECT_MIN bytes or more and the
 * bulk has not arrived yet, the string is allocated at its size, the part
 * already read is copied in, and from then on get_space () points into the
 * string itself until it is complete.
 *
 * Every declared size is checked before anything is allocated for it. A
 * bulk longer than the reader's limit is read in chunks and dropped; the
 * reply gets an error element in its place. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisreader.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  GstRedisReply *array;
  gsize filled;
} ReaderLevel;

struct _GstRedisReader
{
  guint8 *buf;
  gsize size;                   /* allocated */
  gsize start;                  /* first byte not parsed yet */
  gsize end;                    /* first byte not received yet */
  gsize want;                   /* bytes from start needed for the next step */

  /* arrays being filled, outermost first; not linked to their parent yet */
  ReaderLevel levels[GST_REDIS_READER_MAX_DEPTH];
  guint depth;

  /* a large bulk being received in place, or (discarding) the error
   * element that stands for a bulk over the limit being dropped */
  GstRedisReply *bulk;
  gsize bulk_have;
  gboolean discarding;
  guint64 discard_left;
  guint64 bulk_declared;

  guint64 max_bulk;
  guint64 copied;
  guint64 direct;
  guint64 discarded;
};

GstRedisReader *
gst_redis_reader_new (void)
{
  GstRedisReader *reader = g_new0 (GstRedisReader, 1);

  reader->size = 2 * GST_REDIS_READER_WINDOW;
  reader->buf = g_malloc (reader->size);
  reader->max_bulk = GST_REDIS_READER_MAX_BULK;
  return reader;
}

/* Bulks longer than @max bytes are dropped (see gstredisreader.h). */
void
gst_redis_reader_set_max_bulk (GstRedisReader * reader, guint64 max)
{
  reader->max_bulk = max;
}

void
gst_redis_reader_reset (GstRedisReader * reader)
{
  /* inner arrays first: none of them is linked to its parent yet */
  while (reader->depth > 0) {
    reader->depth--;
    gst_redis_reply_free (reader->levels[reader->depth].array);
  }
  if (reader->bulk) {
    gst_redis_reply_free (reader->bulk);
    reader->bulk = NULL;
  }
  reader->bulk_have = 0;
  reader->discarding = FALSE;
  reader->discard_left = 0;
  reader->start = reader->end = 0;
  reader->want = 0;
}

void
gst_redis_reader_free (GstRedisReader * reader)
{
  if (reader == NULL)
    return;
  gst_redis_reader_reset (reader);
  g_free (reader->buf);
  g_free (reader);
}

/* Makes room for @room bytes after end, moving the unparsed bytes to the
 * front first. */
static void
reader_reserve (GstRedisReader * reader, gsize room)
{
  gsize pending = reader->end - reader->start;

  if (reader->start > 0) {
    if (pending > 0)
      memmove (reader->buf, reader->buf + reader->start, pending);
    reader->start = 0;
    reader->end = pending;
  }
  if (reader->size - reader->end < room) {
    gsize size = reader->size;

    while (size - reader->end < room)
      size *= 2;
    reader->buf = g_realloc (reader->buf, size);
    reader->size = size;
  }
}

guint8 *
gst_redis_reader_get_space (GstRedisReader * reader, gsize * size)
{
  gsize room = GST_REDIS_READER_WINDOW;

  if (reader->discarding && reader->discard_left > 0) {
    /* into the read buffer, to be dropped */
    room = MIN (reader->discard_left, GST_REDIS_READER_DISCARD_CHUNK);
    reader_reserve (reader, room);
    *size = room;
    return reader->buf + reader->end;
  }
  if (reader->bulk && !reader->discarding &&
      reader->bulk_have < reader->bulk->len) {
    *size = reader->bulk->len - reader->bulk_have;
    return (guint8 *) reader->bulk->str + reader->bulk_have;
  }
  /* a short bulk or a line that is known to be longer than what is here:
   * room for all of it */
  if (reader->want > reader->end - reader->start)
    room = MAX (room, reader->want - (reader->end - reader->start));
  reader_reserve (reader, room);
  *size = room;
  return reader->buf + reader->end;
}

void
gst_redis_reader_advance (GstRedisReader * reader, gsize n)
{
  if (reader->bulk && !reader->discarding &&
      reader->bulk_have < reader->bulk->len) {
    g_assert (n <= reader->bulk->len - reader->bulk_have);
    reader->bulk_have += n;
    reader->direct += n;
  } else {
    g_assert (reader->end + n <= reader->size);
    reader->end += n;
  }
}

void
gst_redis_reader_feed (GstRedisReader * reader, const guint8 * data, gsize len)
{
  while (len > 0) {
    gsize size;
    guint8 *space = gst_redis_reader_get_space (reader, &size);

    size = MIN (size, len);
    memcpy (space, data, size);
    gst_redis_reader_advance (reader, size);
    data += size;
    len -= size;
  }
}

guint64
gst_redis_reader_get_copied (GstRedisReader * reader)
{
  return reader->copied;
}

guint64
gst_redis_reader_get_direct (GstRedisReader * reader)
{
  return reader->direct;
}

guint64
gst_redis_reader_get_discarded (GstRedisReader * reader)
{
  return reader->discarded;
}

/* *INDENT-OFF* */
static gboolean reader_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static gboolean
reader_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
      "protocol error: %s", msg);
  g_free (msg);
  return FALSE;
}

/* A decimal integer as Redis writes them: "0", or an optional '-' and 1 to
 * 19 digits without a leading zero; nothing else (as hiredis' string2ll). */
static gboolean
reader_parse_integer (const guint8 * p, gsize len, gint64 * value)
{
  gboolean negative = FALSE;
  guint64 v = 0;
  gsize i = 0;

  if (len == 1 && p[0] == '0') {
    *value = 0;
    return TRUE;
  }
  if (len > 0 && p[0] == '-') {
    negative = TRUE;
    i = 1;
  }
  if (i == len || len - i > 19 || p[i] < '1' || p[i] > '9')
    return FALSE;
  for (; i < len; i++) {
    if (p[i] < '0' || p[i] > '9')
      return FALSE;
    v = v * 10 + (p[i] - '0');
  }
  if (v > (guint64) G_MAXINT64 + (negative ? 1 : 0))
    return FALSE;
  *value = negative ? (gint64) (0 - v) : (gint64) v;
  return TRUE;
}

void
gst_redis_reply_free (GstRedisReply * reply)
{
  gsize i;

  if (reply == NULL)
    return;
  if (reply->element) {
    for (i = 0; i < reply->elements; i++)
      gst_redis_reply_free (reply->element[i]);
    g_free (reply->element);
  }
  g_free (reply->str);
  g_free (reply);
}

/* Refcounted replies, which buffers point into */

struct _GstRedisReplyRef
{
  GstRedisReply *reply;
};

static void
reply_ref_clear (gpointer data)
{
  GstRedisReplyRef *ref = data;

  gst_redis_reply_free (ref->reply);
}

GstRedisReplyRef *
gst_redis_reply_ref_new (GstRedisReply * reply)
{
  GstRedisReplyRef *ref = g_atomic_rc_box_new0 (GstRedisReplyRef);

  ref->reply = reply;
  return ref;
}

GstRedisReplyRef *
gst_redis_reply_ref_ref (GstRedisReplyRef * ref)
{
  return g_atomic_rc_box_acquire (ref);
}

void
gst_redis_reply_ref_unref (GstRedisReplyRef * ref)
{
  g_atomic_rc_box_release_full (ref, reply_ref_clear);
}

GstRedisReply *
gst_redis_reply_ref_get (GstRedisReplyRef * ref)
{
  return ref->reply;
}

/* Sizes come from the network (bounded, but up to the bulk limit), so
 * allocations that fail are an error, not an abort. */
static GstRedisReply *
reader_new_reply (gint type)
{
  GstRedisReply *r = g_try_new0 (GstRedisReply, 1);

  if (r)
    r->type = type;
  return r;
}

/* A string reply (bulk, status or error) of @len bytes, NUL-terminated. */
static GstRedisReply *
reader_new_string (gint type, gsize len)
{
  GstRedisReply *r = reader_new_reply (type);

  if (r == NULL)
    return NULL;
  r->str = g_try_malloc (len + 1);
  if (r->str == NULL) {
    g_free (r);
    return NULL;
  }
  r->str[len] = '\0';
  r->len = len;
  return r;
}

/* Puts a complete element into the array being filled, and every array
 * that this completes into its parent. TRUE when that completes the
 * reply. */
static gboolean
reader_place (GstRedisReader * reader, GstRedisReply * element,
    GstRedisReply ** reply)
{
  while (reader->depth > 0) {
    ReaderLevel *level = &reader->levels[reader->depth - 1];

    level->array->element[level->filled++] = element;
    if (level->filled < level->array->elements)
      return FALSE;
    element = level->array;
    reader->depth--;
  }
  *reply = element;
  return TRUE;
}

/* What one step of parsing came to. reader_error () returns FALSE, which
 * is STEP_ERROR. */
typedef enum
{
  STEP_ERROR = 0,
  STEP_NEED_MORE,               /* wait for more bytes */
  STEP_ELEMENT,                 /* a complete element, to place */
  STEP_CONTINUE,                /* parse on */
} ReaderStep;

/* The end of the bulk string being received (or dropped): its CRLF. */
static ReaderStep
reader_finish_bulk (GstRedisReader * reader, GstRedisReply ** element,
    GError ** error)
{
  const guint8 *p = reader->buf + reader->start;
  gsize avail = reader->end - reader->start;

  if (reader->discarding) {
    gsize drop = MIN (avail, reader->discard_left);

    reader->start += drop;
    reader->discard_left -= drop;
    reader->discarded += drop;
    if (reader->discard_left > 0)
      return STEP_NEED_MORE;
    p += drop;
    avail -= drop;
  } else if (reader->bulk_have < reader->bulk->len) {
    return STEP_NEED_MORE;
  }
  if (avail < 2) {
    reader->want = 2;
    return STEP_NEED_MORE;
  }
  if (p[0] != '\r' || p[1] != '\n')
    return reader_error (error, "a bulk string of %" G_GUINT64_FORMAT
        " bytes is not followed by CRLF", reader->bulk_declared);
  reader->start += 2;
  *element = reader->bulk;
  reader->bulk = NULL;
  reader->bulk_have = 0;
  reader->discarding = FALSE;
  return STEP_ELEMENT;
}

/* A bulk string longer than the limit: its bytes are dropped as they come,
 * and an error element takes its place. */
static ReaderStep
reader_discard_bulk (GstRedisReader * reader, gint64 n, gsize header_len,
    GError ** error)
{
  gchar *why = g_strdup_printf ("a value of %" G_GINT64_FORMAT
      " bytes, more than the limit of %" G_GUINT64_FORMAT
      " bytes; it was not read into memory", n, reader->max_bulk);
  GstRedisReply *element;

  element = reader_new_string (GST_REDIS_REPLY_ERROR, strlen (why));
  if (element)
    memcpy (element->str, why, element->len);
  g_free (why);
  if (element == NULL)
    return reader_error (error, "out of memory");
  reader->start += header_len;
  reader->bulk = element;
  reader->bulk_declared = n;
  reader->discarding = TRUE;
  reader->discard_left = n;
  reader->want = 0;
  return STEP_CONTINUE;
}

/* "$<n>": a bulk string copied out of the read buffer when it is all
 * there, received in place when it is large, or dropped when too large. */
static ReaderStep
reader_parse_bulk (GstRedisReader * reader, const guint8 * p, gsize avail,
    gsize line_len, GstRedisReply ** element, GError ** error)
{
  gsize header_len = line_len + 3;
  gint64 n;

  if (!reader_parse_integer (p + 1, line_len, &n) || n < -1)
    return reader_error (error, "bad bulk string length");
  if (n >= 0 && (guint64) n > reader->max_bulk)
    return reader_discard_bulk (reader, n, header_len, error);
  if (n == -1) {
    *element = reader_new_reply (GST_REDIS_REPLY_NIL);
    if (*element == NULL)
      return reader_error (error, "out of memory");
    reader->start += header_len;
    return STEP_ELEMENT;
  }
  if (avail - header_len >= (gsize) n + 2) {
    /* all here: copy it out of the read buffer */
    if (p[header_len + n] != '\r' || p[header_len + n + 1] != '\n')
      return reader_error (error, "a bulk string of %" G_GINT64_FORMAT
          " bytes is not followed by CRLF", n);
    *element = reader_new_string (GST_REDIS_REPLY_STRING, n);
    if (*element == NULL)
      return reader_error (error, "out of memory");
    memcpy ((*element)->str, p + header_len, n);
    if (n >= GST_REDIS_READER_DIRECT_MIN)
      reader->copied += n;
    reader->start += header_len + n + 2;
    return STEP_ELEMENT;
  }
  if (n < GST_REDIS_READER_DIRECT_MIN) {
    reader->want = header_len + n + 2;
    return STEP_NEED_MORE;
  }
  /* large and not here yet: receive the rest in place */
  reader->bulk = reader_new_string (GST_REDIS_REPLY_STRING, n);
  if (reader->bulk == NULL)
    return reader_error (error, "out of memory for a bulk string of %"
        G_GINT64_FORMAT " bytes", n);
  reader->bulk_have = MIN (avail - header_len, (gsize) n);
  memcpy (reader->bulk->str, p + header_len, reader->bulk_have);
  reader->copied += reader->bulk_have;
  reader->start += header_len + reader->bulk_have;
  reader->bulk_declared = n;
  reader->want = 0;
  return STEP_CONTINUE;
}

/* "*<n>": an array; its elements are placed into it as they come. */
static ReaderStep
reader_parse_array (GstRedisReader * reader, const guint8 * p,
    gsize line_len, GstRedisReply ** element, GError ** error)
{
  GstRedisReply *array;
  gint64 n;

  if (!reader_parse_integer (p + 1, line_len, &n) || n < -1)
    return reader_error (error, "bad array length");
  if (n > GST_REDIS_READER_MAX_ELEMENTS)
    return reader_error (error, "an array of %" G_GINT64_FORMAT
        " elements, more than %d", n, GST_REDIS_READER_MAX_ELEMENTS);
  array = reader_new_reply (n == -1 ? GST_REDIS_REPLY_NIL :
      GST_REDIS_REPLY_ARRAY);
  if (array == NULL)
    return reader_error (error, "out of memory");
  reader->start += line_len + 3;
  if (n <= 0) {
    *element = array;
    return STEP_ELEMENT;
  }
  if (reader->depth == GST_REDIS_READER_MAX_DEPTH) {
    gst_redis_reply_free (array);
    return reader_error (error, "arrays nested more than %d deep",
        GST_REDIS_READER_MAX_DEPTH);
  }
  array->element = g_try_new0 (GstRedisReply *, n);
  if (array->element == NULL) {
    gst_redis_reply_free (array);
    return reader_error (error, "out of memory");
  }
  array->elements = n;
  reader->levels[reader->depth].array = array;
  reader->levels[reader->depth].filled = 0;
  reader->depth++;
  return STEP_CONTINUE;
}

/* The next element's header line, and what its type byte says. */
static ReaderStep
reader_parse_header (GstRedisReader * reader, GstRedisReply ** element,
    GError ** error)
{
  const guint8 *p = reader->buf + reader->start;
  gsize avail = reader->end - reader->start;
  const guint8 *cr;
  gsize line_len;
  gint64 n;

  if (avail == 0) {
    reader->want = 0;
    return STEP_NEED_MORE;
  }
  cr = avail > 1 ? memchr (p, '\r', avail - 1) : NULL;
  while (cr && cr[1] != '\n')
    cr = memchr (cr + 1, '\r', avail - 1 - (cr + 1 - p));
  if (cr == NULL) {
    if (avail > GST_REDIS_READER_MAX_LINE)
      return reader_error (error, "a line of more than %d bytes",
          GST_REDIS_READER_MAX_LINE);
    reader->want = avail + 1;
    return STEP_NEED_MORE;
  }
  line_len = cr - p - 1;

  switch (p[0]) {
    case '+':
    case '-':
      *element = reader_new_string (p[0] == '+' ? GST_REDIS_REPLY_STATUS :
          GST_REDIS_REPLY_ERROR, line_len);
      if (*element == NULL)
        return reader_error (error, "out of memory");
      memcpy ((*element)->str, p + 1, line_len);
      reader->start += line_len + 3;
      return STEP_ELEMENT;
    case ':':
      if (!reader_parse_integer (p + 1, line_len, &n))
        return reader_error (error, "bad integer");
      *element = reader_new_reply (GST_REDIS_REPLY_INTEGER);
      if (*element == NULL)
        return reader_error (error, "out of memory");
      (*element)->integer = n;
      reader->start += line_len + 3;
      return STEP_ELEMENT;
    case '$':
      return reader_parse_bulk (reader, p, avail, line_len, element, error);
    case '*':
      return reader_parse_array (reader, p, line_len, element, error);
    default:
      return reader_error (error, "a reply element starts with byte 0x%02x",
          p[0]);
  }
}

gboolean
gst_redis_reader_get_reply (GstRedisReader * reader, GstRedisReply ** reply,
    GError ** error)
{
  *reply = NULL;

  for (;;) {
    GstRedisReply *element = NULL;
    ReaderStep step;

    if (reader->bulk)
      step = reader_finish_bulk (reader, &element, error);
    else
      step = reader_parse_header (reader, &element, error);
    switch (step) {
      case STEP_ERROR:
        return FALSE;
      case STEP_NEED_MORE:
        return TRUE;
      case STEP_CONTINUE:
        continue;
      case STEP_ELEMENT:
        break;
    }
    reader->want = 0;
    if (reader_place (reader, element, reply))
      return TRUE;
  }
}

/* TRUE when @reply is an error reply, starting with @prefix if not NULL. */
gboolean
gst_redis_reply_is_error (const GstRedisReply * reply, const gchar * prefix)
{
  if (reply == NULL || reply->type != GST_REDIS_REPLY_ERROR)
    return FALSE;
  if (prefix == NULL)
    return TRUE;
  return g_str_has_prefix (reply->str, prefix);
}

/* TRUE when @reply is a string of exactly the bytes of @str: no more (a
 * bulk may hold a NUL and anything after it), no less. */
gboolean
gst_redis_reply_is_string (const GstRedisReply * reply, const gchar * str)
{
  gsize len = strlen (str);

  return reply != NULL && reply->type == GST_REDIS_REPLY_STRING &&
      reply->len == len && memcmp (reply->str, str, len) == 0;
}

/* TRUE when bytes were received that no reply returned yet. */
gboolean
gst_redis_reader_has_input (GstRedisReader * reader)
{
  return reader->end > reader->start || reader->depth > 0 ||
      reader->bulk != NULL;
}
