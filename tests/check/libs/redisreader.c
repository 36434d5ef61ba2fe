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

/* GstRedisReader, the RESP2 reader behind every element's replies: the
 * reply trees it builds, its limits on what a server declares, and that a
 * frame's bulk string goes from the socket into its final memory. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "gstredisreader.h"
#include "gstredisdebug.h"

/* Hands @len bytes to @reader in pieces of at most @chunk bytes (and of
 * what get_space () offers) and returns the replies, NULL-terminated; on a
 * protocol error returns NULL with @error set. */
static GstRedisReply **
read_replies (GstRedisReader * reader, const gchar * bytes, gsize len,
    gsize chunk, GError ** error)
{
  GPtrArray *replies = g_ptr_array_new ();
  gsize off = 0;

  for (;;) {
    GstRedisReply *reply = NULL;
    gsize space;
    guint8 *dest;

    if (!gst_redis_reader_get_reply (reader, &reply, error)) {
      g_ptr_array_set_free_func (replies,
          (GDestroyNotify) gst_redis_reply_free);
      g_ptr_array_free (replies, TRUE);
      return NULL;
    }
    if (reply) {
      g_ptr_array_add (replies, reply);
      continue;
    }
    if (off == len)
      break;
    dest = gst_redis_reader_get_space (reader, &space);
    fail_unless (dest != NULL && space > 0);
    space = MIN (MIN (space, chunk), len - off);
    memcpy (dest, bytes + off, space);
    gst_redis_reader_advance (reader, space);
    off += space;
  }
  g_ptr_array_add (replies, NULL);
  return (GstRedisReply **) g_ptr_array_free (replies, FALSE);
}

static void
free_replies (GstRedisReply ** replies)
{
  GstRedisReply **r;

  for (r = replies; *r; r++)
    gst_redis_reply_free (*r);
  g_free (replies);
}

/* Hands over bytes that do not complete a reply. */
static void
read_no_reply (GstRedisReader * reader, const gchar * bytes, gsize len,
    gsize chunk)
{
  GstRedisReply **r = read_replies (reader, bytes, len, chunk, NULL);

  fail_unless (r != NULL && r[0] == NULL);
  g_free (r);
}

static void
check_string (const GstRedisReply * r, gint type, const gchar * str)
{
  fail_unless_equals_int (r->type, type);
  fail_unless_equals_int (r->len, strlen (str));
  fail_unless_equals_string (r->str, str);
}

static const gchar all_types[] =
    "+OK\r\n-ERR wrong\r\n:42\r\n:-9223372036854775808\r\n$5\r\nab\r\nc\r\n"
    "$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n"
    "*2\r\n*1\r\n$1\r\nx\r\n*2\r\n:1\r\n+s\r\n";

static void
check_all_types (GstRedisReply ** r)
{
  check_string (r[0], GST_REDIS_REPLY_STATUS, "OK");
  check_string (r[1], GST_REDIS_REPLY_ERROR, "ERR wrong");
  fail_unless_equals_int (r[2]->type, GST_REDIS_REPLY_INTEGER);
  fail_unless_equals_int64 (r[2]->integer, 42);
  fail_unless_equals_int64 (r[3]->integer, G_MININT64);
  /* a bulk may hold CR LF */
  check_string (r[4], GST_REDIS_REPLY_STRING, "ab\r\nc");
  check_string (r[5], GST_REDIS_REPLY_STRING, "");
  fail_unless_equals_int (r[6]->type, GST_REDIS_REPLY_NIL);
  fail_unless_equals_int (r[7]->type, GST_REDIS_REPLY_NIL);
  fail_unless_equals_int (r[8]->type, GST_REDIS_REPLY_ARRAY);
  fail_unless_equals_int (r[8]->elements, 0);
  fail_unless_equals_int (r[9]->type, GST_REDIS_REPLY_ARRAY);
  fail_unless_equals_int (r[9]->elements, 2);
  fail_unless_equals_int (r[9]->element[0]->elements, 1);
  check_string (r[9]->element[0]->element[0], GST_REDIS_REPLY_STRING, "x");
  fail_unless_equals_int64 (r[9]->element[1]->element[0]->integer, 1);
  check_string (r[9]->element[1]->element[1], GST_REDIS_REPLY_STATUS, "s");
  fail_unless (r[10] == NULL);
}

GST_START_TEST (test_every_reply_type)
{
  GstRedisReader *reader = gst_redis_reader_new ();
  GstRedisReply **r;
  gsize chunk;

  /* all at once, then byte by byte and in odd pieces: the same replies */
  for (chunk = 1; chunk <= sizeof (all_types); chunk += 6) {
    r = read_replies (reader, all_types, strlen (all_types), chunk, NULL);
    fail_unless (r != NULL);
    check_all_types (r);
    free_replies (r);
  }
  gst_redis_reader_feed (reader, (const guint8 *) all_types,
      strlen (all_types));
  r = read_replies (reader, "", 0, 1, NULL);
  check_all_types (r);
  free_replies (r);
  gst_redis_reader_free (reader);
}

GST_END_TEST;

#define CAPS "video/x-raw, format=I420, width=640, height=480"

/* The reply of XREADGROUP to one entry with a frame of @size bytes. */
static GString *
xreadgroup_reply (gsize size, guint8 ** frame)
{
  GString *s = g_string_new (NULL);
  gsize i;

  *frame = g_malloc (size);
  for (i = 0; i < size; i++)
    (*frame)[i] = (guint8) (i * 7 + (i >> 9));
  g_string_append (s, "*1\r\n*2\r\n$12\r\nvideo-frames\r\n*1\r\n*2\r\n"
      "$15\r\n1700000000000-0\r\n*6\r\n$1\r\nv\r\n$1\r\n1\r\n$4\r\ncaps\r\n");
  g_string_append_printf (s, "$%" G_GSIZE_FORMAT "\r\n%s\r\n",
      strlen (CAPS), CAPS);
  g_string_append (s, "$4\r\ndata\r\n");
  g_string_append_printf (s, "$%" G_GSIZE_FORMAT "\r\n", size);
  g_string_append_len (s, (const gchar *) *frame, size);
  g_string_append (s, "\r\n");
  return s;
}

static void
check_frame (GstRedisReply * reply, const guint8 * frame, gsize size)
{
  GstRedisReply *fields = reply->element[0]->element[1]->element[0]->element[1];
  GstRedisReply *data = fields->element[5];

  fail_unless_equals_int (fields->elements, 6);
  check_string (fields->element[3], GST_REDIS_REPLY_STRING, CAPS);
  fail_unless_equals_int (data->type, GST_REDIS_REPLY_STRING);
  fail_unless_equals_int (data->len, size);
  fail_unless (memcmp (data->str, frame, size) == 0);
  fail_unless_equals_int (data->str[size], '\0');
}

GST_START_TEST (test_frame_received_in_place)
{
  gsize size = 640 * 480 * 3 / 2;
  guint8 *frame;
  GString *s = xreadgroup_reply (size, &frame);
  GstRedisReader *reader = gst_redis_reader_new ();
  GstRedisReply **r;
  gsize chunks[] = { 1, 100, 1500, 65536, G_MAXSIZE };
  guint i;

  /* whatever sizes recv () returns, at most one read window of the frame
   * is received into the read buffer and copied: the rest goes straight
   * to where the reply keeps it */
  for (i = 0; i < G_N_ELEMENTS (chunks); i++) {
    guint64 copied = gst_redis_reader_get_copied (reader);
    guint64 direct = gst_redis_reader_get_direct (reader);

    r = read_replies (reader, s->str, s->len, chunks[i], NULL);
    fail_unless (r != NULL && r[0] != NULL && r[1] == NULL);
    check_frame (r[0], frame, size);
    copied = gst_redis_reader_get_copied (reader) - copied;
    direct = gst_redis_reader_get_direct (reader) - direct;
    GST_INFO ("pieces of %" G_GSIZE_FORMAT ": %" G_GUINT64_FORMAT
        " bytes copied, %" G_GUINT64_FORMAT " in place", chunks[i], copied,
        direct);
    fail_unless (copied < GST_REDIS_READER_WINDOW);
    fail_unless_equals_uint64 (copied + direct, size);
    free_replies (r);
  }
  gst_redis_reader_free (reader);
  g_string_free (s, TRUE);
  g_free (frame);
}

GST_END_TEST;

typedef struct
{
  GSocket *socket;
  GString *bytes;
} Writer;

static gpointer
write_thread (gpointer data)
{
  Writer *w = data;
  gsize off = 0;

  /* in pieces, with pauses, like a server writing a large reply */
  while (off < w->bytes->len) {
    gssize n = g_socket_send (w->socket, w->bytes->str + off,
        MIN (w->bytes->len - off, 100000), NULL, NULL);

    fail_unless (n > 0);
    off += n;
    g_usleep (2000);            /* not a poll: the writer's pace */
  }
  return NULL;
}

GST_START_TEST (test_frame_from_socket)
{
  gsize size = 1920 * 1080 * 3 / 2;
  guint8 *frame;
  GString *s;
  GstRedisReader *reader = gst_redis_reader_new ();
  GSocket *pair[2];
  gint fds[2];
  Writer w;
  GThread *thread;
  GstRedisReply *reply = NULL;
  guint recvs = 0;

  /* ":1" first: the XACK reply that precedes a frame in redisstreamsrc */
  s = xreadgroup_reply (size, &frame);
  g_string_prepend (s, ":1\r\n");
  fail_unless (socketpair (AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  pair[0] = g_socket_new_from_fd (fds[0], NULL);
  pair[1] = g_socket_new_from_fd (fds[1], NULL);
  w.socket = pair[1];
  w.bytes = s;
  thread = g_thread_new ("writer", write_thread, &w);

  for (;;) {
    gsize space;
    guint8 *dest;
    gssize n;

    fail_unless (gst_redis_reader_get_reply (reader, &reply, NULL));
    if (reply) {
      if (reply->type == GST_REDIS_REPLY_INTEGER) {
        gst_redis_reply_free (reply);
        continue;
      }
      break;
    }
    dest = gst_redis_reader_get_space (reader, &space);
    n = g_socket_receive (pair[0], (gchar *) dest, space, NULL, NULL);
    fail_unless (n > 0);
    gst_redis_reader_advance (reader, n);
    recvs++;
  }
  check_frame (reply, frame, size);
  GST_INFO ("%u recv () calls, %" G_GUINT64_FORMAT " bytes copied", recvs,
      gst_redis_reader_get_copied (reader));
  fail_unless (gst_redis_reader_get_copied (reader) < GST_REDIS_READER_WINDOW);
  gst_redis_reply_free (reply);

  g_thread_join (thread);
  g_object_unref (pair[0]);
  g_object_unref (pair[1]);
  gst_redis_reader_free (reader);
  g_string_free (s, TRUE);
  g_free (frame);
}

GST_END_TEST;

static void
check_refused (const gchar * bytes, const gchar * why)
{
  GstRedisReader *reader = gst_redis_reader_new ();
  GError *error = NULL;
  GstRedisReply **r;

  r = read_replies (reader, bytes, strlen (bytes), G_MAXSIZE, &error);
  fail_unless (r == NULL, "accepted: %s", bytes);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  fail_unless (strstr (error->message, why) != NULL, "%s: %s", bytes,
      error->message);
  g_error_free (error);
  gst_redis_reader_free (reader);
}

GST_START_TEST (test_bad_input_refused)
{
  gchar *long_line;

  check_refused ("!3\r\nabc\r\n", "starts with byte 0x21");
  check_refused (":12a\r\n", "bad integer");
  check_refused (":99999999999999999999\r\n", "bad integer");
  check_refused (":\r\n", "bad integer");
  check_refused (":007\r\n", "bad integer");
  check_refused (":-0\r\n", "bad integer");
  check_refused (":+1\r\n", "bad integer");
  check_refused ("$03\r\nabc\r\n", "bad bulk string length");
  check_refused ("$-2\r\n", "bad bulk string length");
  check_refused ("$3\r\nabcde", "not followed by CRLF");
  check_refused ("*-5\r\n", "bad array length");
  check_refused ("*1x\r\n", "bad array length");
  /* sizes are checked before anything is allocated for them (bulks over
   * the limit: test_bulk_over_limit_dropped) */
  check_refused ("$9223372036854775808\r\n", "bad bulk string length");
  check_refused ("*1048577\r\n", "more than 1048576");
  {
    GString *s = g_string_new (NULL);
    guint i;

    for (i = 0; i <= GST_REDIS_READER_MAX_DEPTH; i++)
      g_string_append (s, "*1\r\n");
    check_refused (s->str, "nested more than 7 deep");
    g_string_free (s, TRUE);
  }
  /* a line that never ends does not grow the buffer without bound */
  long_line = g_strnfill (GST_REDIS_READER_MAX_LINE + 10, 'x');
  long_line[0] = '+';
  check_refused (long_line, "a line of more than");
  g_free (long_line);
}

GST_END_TEST;

GST_START_TEST (test_reset_in_the_middle)
{
  GstRedisReader *reader = gst_redis_reader_new ();
  guint8 *frame;
  GString *s = xreadgroup_reply (100000, &frame);
  GstRedisReply **r;

  /* stopped in the middle of the frame (nested arrays half built and the
   * bulk half received): everything is freed (valgrind/ASan check it), and
   * the reader reads the next reply from scratch */
  read_no_reply (reader, s->str, s->len / 2, 4096);
  gst_redis_reader_reset (reader);
  r = read_replies (reader, s->str, s->len, 4096, NULL);
  fail_unless (r != NULL && r[0] != NULL && r[1] == NULL);
  check_frame (r[0], frame, 100000);
  free_replies (r);

  /* and freed with a half-read reply in it */
  read_no_reply (reader, s->str, s->len - 1, 70000);
  gst_redis_reader_free (reader);
  g_string_free (s, TRUE);
  g_free (frame);
}

GST_END_TEST;

GST_START_TEST (test_bulk_over_limit_dropped)
{
  GstRedisReader *reader = gst_redis_reader_new ();
  guint8 *frame;
  GString *s = xreadgroup_reply (300000, &frame);
  GstRedisReply **r;
  GstRedisReply *fields, *dropped;
  gsize chunks[] = { 1, 5000, G_MAXSIZE };
  guint i;

  /* a frame over the limit, then a reply that must still be read right */
  g_string_append (s, ":7\r\n");
  gst_redis_reader_set_max_bulk (reader, 100000);
  for (i = 0; i < G_N_ELEMENTS (chunks); i++) {
    guint64 discarded = gst_redis_reader_get_discarded (reader);
    guint64 kept = gst_redis_reader_get_copied (reader) +
        gst_redis_reader_get_direct (reader);

    r = read_replies (reader, s->str, s->len, chunks[i], NULL);
    fail_unless (r != NULL && r[0] != NULL && r[1] != NULL && r[2] == NULL);
    fields = r[0]->element[0]->element[1]->element[0]->element[1];
    check_string (fields->element[3], GST_REDIS_REPLY_STRING, CAPS);
    dropped = fields->element[5];
    fail_unless_equals_int (dropped->type, GST_REDIS_REPLY_ERROR);
    fail_unless (strstr (dropped->str, "a value of 300000 bytes, more than "
            "the limit of 100000 bytes") != NULL, dropped->str);
    fail_unless_equals_int64 (r[1]->integer, 7);
    /* nothing of it was kept */
    fail_unless_equals_uint64 (gst_redis_reader_get_discarded (reader) -
        discarded, 300000);
    fail_unless_equals_uint64 (gst_redis_reader_get_copied (reader) +
        gst_redis_reader_get_direct (reader), kept);
    free_replies (r);
  }

  /* reset in the middle of dropping one */
  read_no_reply (reader, s->str, s->len / 2, 4096);
  gst_redis_reader_reset (reader);
  r = read_replies (reader, ":1\r\n", 4, G_MAXSIZE, NULL);
  fail_unless (r != NULL && r[0] != NULL && r[0]->integer == 1);
  free_replies (r);

  /* a declared size far beyond memory is dropped the same way: the
   * reader allocates nothing for it and waits for its bytes */
  gst_redis_reader_set_max_bulk (reader, GST_REDIS_READER_MAX_BULK);
  read_no_reply (reader, "$9223372036854775807\r\nabc", 25, G_MAXSIZE);

  gst_redis_reader_free (reader);
  g_string_free (s, TRUE);
  g_free (frame);
}

GST_END_TEST;

static Suite *
redisreader_suite (void)
{
  Suite *s = suite_create ("redisreader");
  TCase *tc = tcase_create ("general");

  /* the modules' debug categories, which the plugin makes at its init */
  gst_redis_debug_init ();
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_every_reply_type);
  tcase_add_test (tc, test_frame_received_in_place);
  tcase_add_test (tc, test_frame_from_socket);
  tcase_add_test (tc, test_bad_input_refused);
  tcase_add_test (tc, test_reset_in_the_middle);
  tcase_add_test (tc, test_bulk_over_limit_dropped);
  return s;
}

GST_CHECK_MAIN (redisreader);
