/* libFuzzer target: GstRedisReader, the RESP2 reader of every element's
 * replies (gst/redisstreams/gstredisreader.c).
 *
 * Input layout (see README.md):
 *   byte 0  bit 0x01: structured mode, else raw mode
 *           bits 1-7: seed of the sizes in which bytes are handed to the
 *           reader, as recv () would (1 byte to everything that fits)
 *   rest    raw mode: RESP bytes as a server would send them. Every reply
 *           the reader returns must equal the one hiredis' redisReader
 *           parses from the same bytes, and a reply hiredis rejects must
 *           not be accepted. With seed bit 0x40 the reader's bulk limit
 *           is 20 bytes to 63 KB: a longer bulk must be dropped and stand
 *           as an error element that names its size.
 *           structured mode: a program that builds a reply tree (arrays,
 *           bulks up to 82 KB, statuses, errors, integers, nils), which is
 *           written as RESP and read back: the reader must return exactly
 *           that tree, consume every byte, and copy at most one read window
 *           of each large bulk out of its read buffer (the rest is
 *           received in place).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <hiredis/hiredis.h>
#include "gstredisreader.h"

#define FUZZ_CHECK(cond) do { if (!(cond)) { \
      fprintf (stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
          __LINE__); abort (); } } while (0)

#define MAX_REPLIES 64
#define MAX_NODES 256

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

/* The limit of the reader in raw mode: bulks over it are dropped and stand
 * as an error element in our reply, a string in hiredis'. */
static guint64 raw_limit;

static gboolean
replies_equal (const redisReply * a, const redisReply * b)
{
  gsize i;

  if (a->type == REDIS_REPLY_ERROR && b->type == REDIS_REPLY_STRING &&
      b->len > raw_limit) {
    gchar *want = g_strdup_printf ("a value of %" G_GSIZE_FORMAT " bytes, "
        "more than the limit of %" G_GUINT64_FORMAT " bytes", b->len,
        raw_limit);
    gboolean same = g_str_has_prefix (a->str, want);

    g_free (want);
    return same;
  }
  if (a->type != b->type)
    return FALSE;
  switch (a->type) {
    case REDIS_REPLY_INTEGER:
      return a->integer == b->integer;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return a->len == b->len && memcmp (a->str, b->str, a->len) == 0 &&
          a->str[a->len] == '\0' && b->str[b->len] == '\0';
    case REDIS_REPLY_ARRAY:
      if (a->elements != b->elements)
        return FALSE;
      for (i = 0; i < a->elements; i++)
        if (!replies_equal (a->element[i], b->element[i]))
          return FALSE;
      return TRUE;
    default:
      return TRUE;
  }
}

/* Hands @len bytes to @reader the way the connection does, in pieces of
 * at most what get_space () offers and what the seeded "recv" returns;
 * collects the replies. Returns FALSE on a protocol error. */
static gboolean
read_all (GstRedisReader * reader, const guint8 * bytes, gsize len,
    guint seed, redisReply ** replies, guint * n_replies, gsize * consumed)
{
  gsize off = 0;
  guint32 state = seed * 2654435761u + 1;

  *n_replies = 0;
  for (;;) {
    redisReply *reply = NULL;
    GError *error = NULL;
    gsize space, chunk;
    guint8 *dest;

    if (!gst_redis_reader_get_reply (reader, &reply, &error)) {
      FUZZ_CHECK (error != NULL && error->message[0] != '\0');
      g_error_free (error);
      *consumed = off;
      return FALSE;
    }
    if (reply) {
      FUZZ_CHECK (*n_replies < MAX_REPLIES);
      replies[(*n_replies)++] = reply;
      if (*n_replies == MAX_REPLIES)
        break;
      continue;
    }
    if (off == len)
      break;
    dest = gst_redis_reader_get_space (reader, &space);
    FUZZ_CHECK (dest != NULL && space > 0);
    state = state * 1103515245u + 12345u;
    switch ((state >> 16) % 4) {
      case 0:
        chunk = 1;
        break;
      case 1:
        chunk = 1 + (state >> 8) % 17;
        break;
      case 2:
        chunk = 1 + (state >> 4) % 70000;
        break;
      default:
        chunk = G_MAXSIZE;
        break;
    }
    chunk = MIN (MIN (chunk, space), len - off);
    memcpy (dest, bytes + off, chunk);
    gst_redis_reader_advance (reader, chunk);
    off += chunk;
  }
  *consumed = off;
  return TRUE;
}

static void
fuzz_raw (const guint8 * data, gsize size, guint seed)
{
  GstRedisReader *reader = gst_redis_reader_new ();
  redisReader *hi = redisReaderCreate ();
  redisReply *ours[MAX_REPLIES];
  guint n_ours, i;
  gsize consumed;

  /* half of the inputs with a limit that short inputs can exceed */
  raw_limit = (seed & 0x40) ? 20 + (seed & 0x3f) * 1000 :
      GST_REDIS_READER_MAX_BULK;
  gst_redis_reader_set_max_bulk (reader, raw_limit);
  read_all (reader, data, size, seed, ours, &n_ours, &consumed);

  /* hiredis gets the same bytes at once; each of our replies must be its
   * reply too (hiredis accepts more: it does not check digits or CRLF
   * after a bulk, and allows any size) */
  FUZZ_CHECK (redisReaderFeed (hi, (const char *) data, consumed) == REDIS_OK);
  for (i = 0; i < n_ours; i++) {
    void *theirs = NULL;

    FUZZ_CHECK (redisReaderGetReply (hi, &theirs) == REDIS_OK);
    FUZZ_CHECK (theirs != NULL);
    FUZZ_CHECK (replies_equal (ours[i], theirs));
    freeReplyObject (theirs);
    freeReplyObject (ours[i]);
  }
  redisReaderFree (hi);
  /* a reader stopped in the middle of anything frees it all */
  gst_redis_reader_free (reader);
}

/* Structured mode: a tiny program of the input's bytes builds a tree. */
typedef struct
{
  const guint8 *p;
  gsize left;
  guint nodes;
  guint large;
} Program;

static guint8
next_byte (Program * prog)
{
  if (prog->left == 0)
    return 0;
  prog->left--;
  return *prog->p++;
}

static redisReply *
build (Program * prog, GString * out, guint depth)
{
  guint8 op = next_byte (prog);
  redisReply *r = calloc (1, sizeof (redisReply));
  gsize len, i;

  prog->nodes++;
  switch (prog->nodes >= MAX_NODES ? 1 : op % 7) {
    case 0:
      if (depth < GST_REDIS_READER_MAX_DEPTH) {
        r->type = REDIS_REPLY_ARRAY;
        r->elements = next_byte (prog) % 6;
        r->element = r->elements ? calloc (r->elements, sizeof (void *)) : NULL;
        g_string_append_printf (out, "*%" G_GSIZE_FORMAT "\r\n", r->elements);
        for (i = 0; i < r->elements; i++)
          r->element[i] = build (prog, out, depth + 1);
        break;
      }
      /* fall through */
    case 1:
    case 2:
      /* a bulk: short, or large (a frame), of bytes that repeat the input
       * so that CR, LF and NUL appear in it */
      r->type = REDIS_REPLY_STRING;
      len = next_byte (prog);
      if (op & 0x80) {
        len = len * 256 + GST_REDIS_READER_DIRECT_MIN - 1 +
            next_byte (prog) % 3;
      }
      if (len >= GST_REDIS_READER_DIRECT_MIN)
        prog->large++;
      r->len = len;
      r->str = malloc (len + 1);
      {
        /* the next input bytes (not consumed), repeated; CR LF and NUL
         * in them end up inside the bulk */
        gsize unit = MIN (prog->left, 64);

        if (unit == 0)
          memset (r->str, '\r', len);
        for (i = 0; unit > 0 && i < len; i += unit)
          memcpy (r->str + i, prog->p, MIN (unit, len - i));
      }
      r->str[len] = '\0';
      g_string_append_printf (out, "$%" G_GSIZE_FORMAT "\r\n", len);
      g_string_append_len (out, r->str, len);
      g_string_append (out, "\r\n");
      break;
    case 3:
    case 4:
      /* a status or error line: any bytes but CR and LF */
      r->type = op % 7 == 3 ? REDIS_REPLY_STATUS : REDIS_REPLY_ERROR;
      len = next_byte (prog) % 40;
      r->str = malloc (len + 1);
      for (i = 0; i < len; i++) {
        guint8 c = next_byte (prog);

        r->str[i] = (char) (c == '\r' || c == '\n' ? ' ' : c);
      }
      r->str[len] = '\0';
      r->len = len;
      g_string_append_c (out, r->type == REDIS_REPLY_STATUS ? '+' : '-');
      g_string_append_len (out, r->str, len);
      g_string_append (out, "\r\n");
      break;
    case 5:{
      guint64 v = 0;

      r->type = REDIS_REPLY_INTEGER;
      for (i = 0; i < 8; i++)
        v = (v << 8) | next_byte (prog);
      r->integer = (long long) v;
      g_string_append_printf (out, ":%lld\r\n", r->integer);
      break;
    }
    default:
      r->type = REDIS_REPLY_NIL;
      g_string_append (out, op & 0x40 ? "*-1\r\n" : "$-1\r\n");
      break;
  }
  return r;
}

static void
fuzz_structured (const guint8 * data, gsize size, guint seed)
{
  Program prog = { data, size, 0, 0 };
  GString *out = g_string_new (NULL);
  redisReply *expected[MAX_REPLIES];
  redisReply *got[MAX_REPLIES];
  GstRedisReader *reader = gst_redis_reader_new ();
  guint n = 0, n_got, i;
  gsize consumed;

  while (prog.left > 0 && n < 8 && prog.nodes < MAX_NODES)
    expected[n++] = build (&prog, out, 1);

  FUZZ_CHECK (read_all (reader, (const guint8 *) out->str, out->len, seed,
          got, &n_got, &consumed));
  FUZZ_CHECK (consumed == out->len);
  FUZZ_CHECK (n_got == n);
  for (i = 0; i < n; i++) {
    FUZZ_CHECK (replies_equal (expected[i], got[i]));
    freeReplyObject (expected[i]);
    freeReplyObject (got[i]);
  }
  /* only the first bytes of a large bulk, read with its header, are
   * copied; the rest went to its final place */
  FUZZ_CHECK (gst_redis_reader_get_copied (reader) <=
      (guint64) prog.large * GST_REDIS_READER_WINDOW);
  gst_redis_reader_free (reader);
  g_string_free (out, TRUE);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    fuzz_structured (data + 1, size - 1, data[0] >> 1);
  else
    fuzz_raw (data + 1, size - 1, data[0] >> 1);
  return 0;
}
