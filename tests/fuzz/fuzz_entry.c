/* libFuzzer target: gst_redis_entry_decoder_decode () on arbitrary entries.
 *
 * Input layout (see README.md):
 *   byte 0  mode bits
 *           0x01 owner: the entry goes through GstRedisReader as a
 *                RESP array and the decoder gets a GstRedisReplyRef, as in
 *                redisstreamsrc (zero-copy payloads); else owner NULL
 *           0x02 LZ4-frame-compress the value of the "data" field first
 *           0x04 with 0x02: set "size" to the uncompressed length and
 *                "encoding" to "lz4" (added when missing)
 *           0x08 decode the same entry a second time with the same decoder
 *                (caps cache path), then once more with owner toggled
 *           0x10 LZ4: content checksum     0x20 LZ4: block checksums
 *           0x40 LZ4: linked blocks        0x80 LZ4: content size in header
 *   byte 1  bits 0-1 LZ4 block size (64 KiB, 256 KiB, 1 MiB, 4 MiB);
 *           bits 2-7 r: the data value is repeated r * r * 64 + 1 times
 *           (capped at 1.5 MiB) before compression, so frames have many
 *           blocks and exceed max-frame-size
 *   byte 2  damage to the compressed frame: 1..127 cut that many bytes off
 *           the end, 128..255 append (n - 127) bytes of junk
 *   byte 3  when non-zero, flip the bits of compressed byte (n - 1) % len
 *   rest    name \0 value \0 name \0 value ...; the last value runs to the
 *           end of the input and may contain NUL bytes (a payload). An odd
 *           token count gives the last name an empty value.
 *
 * Version 2 (caps by id, looked up in <stream>:info): fields whose name
 * starts with '@' are not part of the entry but fields of that hash, given
 * to the decoder as redisstreamsrc gives them, in their order, before the
 * entry is decoded:
 *   @caps   value: caps stored under their own id (what a writer does); a
 *           "caps" field of the entry whose value is "@" is replaced by
 *           that id, so the entry refers to them
 *   @<n>    value: caps stored under id n (decimal): refused unless n is
 *           their id
 * The harness checks that gst_redis_entry_decoder_wants_caps () asks for
 * exactly the ids the decoder does not know, and that add_caps () refuses
 * caps whose id is not the one given.
 */

#include "fuzz_common.h"
#include "gstrediscaps.h"
#include "gstredisentry.h"
#include "gstredisreader.h"

#include <hiredis/hiredis.h>
#include <lz4frame.h>

#define MAX_FIELDS 64
#define FUZZ_MAX_FRAME_SIZE (1024 * 1024)
#define REPEAT_CAP (1536 * 1024)

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_gst ();
  return 0;
}

typedef struct
{
  const gchar *name;
  gsize name_len;
  const gchar *value;
  gsize value_len;
} HashField;

typedef struct
{
  GstRedisField fields[MAX_FIELDS + 2];
  guint n;
  /* the '@' fields: <stream>:info */
  HashField hash[MAX_FIELDS];
  guint n_hash;
  gchar id_str[16];
  /* storage of values the harness made (compressed data, size string) */
  guint8 *lz4;
  gchar size_str[32];
  /* every name and value in a heap block of exactly its length, no NUL
   * after it (GstRedisField is pointer + length), so that ASan sees any read
   * past the end of a field */
  gpointer copies[2 * (MAX_FIELDS + 2)];
  guint n_copies;
} Entry;

static void
isolate_fields (Entry * e)
{
  guint i;

  for (i = 0; i < e->n; i++) {
    GstRedisField *f = &e->fields[i];
    gpointer n = g_malloc (MAX (f->name_len, 1));
    gpointer v = g_malloc (MAX (f->value_len, 1));

    memcpy (n, f->name, f->name_len);
    memcpy (v, f->value, f->value_len);
    f->name = n;
    f->value = v;
    e->copies[e->n_copies++] = n;
    e->copies[e->n_copies++] = v;
  }
}

static void
split_fields (const guint8 * data, size_t size, Entry * e)
{
  const guint8 *p = data, *end = data + size;

  e->n = 0;
  while (p < end && e->n < MAX_FIELDS) {
    const guint8 *name = p, *nul = memchr (p, '\0', end - p);
    GstRedisField *f = &e->fields[e->n++];

    if (nul == NULL) {
      f->name = (const gchar *) name;
      f->name_len = end - name;
      f->value = "";
      f->value_len = 0;
      break;
    }
    f->name = (const gchar *) name;
    f->name_len = nul - name;
    p = nul + 1;
    nul = memchr (p, '\0', end - p);
    if (nul == NULL || e->n == MAX_FIELDS) {
      f->value = (const gchar *) p;
      f->value_len = end - p;
      break;
    }
    f->value = (const gchar *) p;
    f->value_len = nul - p;
    p = nul + 1;
  }
}

/* Moves the '@' fields out of the entry into e->hash; a caps field "@"
 * refers to the last "@caps". */
static void
take_hash_fields (Entry * e)
{
  guint i, k = 0;
  GstRedisField *caps = NULL;

  for (i = 0; i < e->n; i++) {
    GstRedisField *f = &e->fields[i];

    if (f->name_len > 0 && f->name[0] == '@') {
      HashField *h = &e->hash[e->n_hash++];

      h->name = f->name + 1;
      h->name_len = f->name_len - 1;
      h->value = f->value;
      h->value_len = f->value_len;
      if (h->name_len == 4 && memcmp (h->name, "caps", 4) == 0)
        g_snprintf (e->id_str, sizeof (e->id_str), "%u",
            gst_redis_caps_id (h->value, h->value_len));
      continue;
    }
    if (f->name_len == 4 && memcmp (f->name, "caps", 4) == 0 &&
        f->value_len == 1 && f->value[0] == '@')
      caps = &e->fields[k];
    e->fields[k++] = *f;
  }
  e->n = k;
  if (caps && e->id_str[0]) {
    caps->value = e->id_str;
    caps->value_len = strlen (e->id_str);
  }
}

/* Gives the decoder the '@' fields, as the source does with what it reads
 * from <stream>:info. */
static void
add_hash_fields (GstRedisEntryDecoder * dec, Entry * e)
{
  guint i;

  for (i = 0; i < e->n_hash; i++) {
    HashField *h = &e->hash[i];
    gchar *name = g_strndup (h->name, h->name_len);
    guint32 id, real = gst_redis_caps_id (h->value, h->value_len);
    GError *err = NULL;
    gboolean ok;

    if (g_str_equal (name, "caps"))
      id = real;
    else
      id = (guint32) g_ascii_strtoull (name, NULL, 10);
    g_free (name);
    ok = gst_redis_entry_decoder_add_caps (dec, id, h->value, h->value_len,
        &err);
    if (ok) {
      FUZZ_CHECK (err == NULL && id == real);
    } else {
      FUZZ_CHECK (err != NULL && err->domain == GST_REDIS_ENTRY_ERROR);
      g_error_free (err);
    }
  }
}

static GstRedisField *
find_field (Entry * e, const gchar * name)
{
  guint i;

  for (i = 0; i < e->n; i++) {
    if (e->fields[i].name_len == strlen (name) &&
        memcmp (e->fields[i].name, name, e->fields[i].name_len) == 0)
      return &e->fields[i];
  }
  return NULL;
}

static void
set_field (Entry * e, const gchar * name, const gchar * value, gsize len)
{
  GstRedisField *f = find_field (e, name);

  if (f == NULL) {
    if (e->n >= G_N_ELEMENTS (e->fields))
      return;
    f = &e->fields[e->n++];
    f->name = name;
    f->name_len = strlen (name);
  }
  f->value = value;
  f->value_len = len;
}

static void
compress_data (Entry * e, guint8 mode, guint8 b1, guint8 b2, guint8 b3)
{
  static const LZ4F_blockSizeID_t ids[] = { LZ4F_max64KB, LZ4F_max256KB,
    LZ4F_max1MB, LZ4F_max4MB
  };
  GstRedisField *f = find_field (e, "data");
  LZ4F_preferences_t prefs;
  guint8 *src;
  gsize src_len, reps, i, bound, n, junk;

  if (f == NULL)
    return;
  reps = (gsize) (b1 >> 2) * (b1 >> 2) * 64 + 1;
  if (f->value_len > 0 && reps > REPEAT_CAP / f->value_len)
    reps = MAX (1, REPEAT_CAP / f->value_len);
  src_len = f->value_len * reps;
  src = g_malloc (src_len + 1);
  for (i = 0; i < reps; i++)
    memcpy (src + i * f->value_len, f->value, f->value_len);

  memset (&prefs, 0, sizeof (prefs));
  prefs.frameInfo.blockSizeID = ids[b1 & 3];
  prefs.frameInfo.blockMode = (mode & 0x40) ? LZ4F_blockLinked :
      LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = (mode & 0x10) ?
      LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = (mode & 0x20) ?
      LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentSize = (mode & 0x80) ? src_len : 0;
  prefs.compressionLevel = 0;

  bound = LZ4F_compressFrameBound (src_len, &prefs);
  junk = b2 >= 128 ? b2 - 127 : 0;
  e->lz4 = g_malloc (bound + junk);
  n = LZ4F_compressFrame (e->lz4, bound, src, src_len, &prefs);
  if (LZ4F_isError (n))
    abort ();                   /* the harness got the bound wrong */
  if (b2 > 0 && b2 < 128)
    n = n > b2 ? n - b2 : 0;
  for (i = 0; i < junk; i++)
    e->lz4[n++] = (guint8) (i * 37 + b3);
  if (b3 && n > 0)
    e->lz4[(b3 - 1) % n] ^= 0xff;
  g_free (src);
  /* exactly n bytes, as for the other fields */
  src = g_malloc (MAX (n, 1));
  memcpy (src, e->lz4, n);
  g_free (e->lz4);
  e->lz4 = src;

  f->value = (const gchar *) e->lz4;
  f->value_len = n;
  if (mode & 0x04) {
    g_snprintf (e->size_str, sizeof (e->size_str), "%" G_GSIZE_FORMAT, src_len);
    set_field (e, "size", e->size_str, strlen (e->size_str));
    set_field (e, "encoding", "lz4", 3);
  }
}

/* Builds the RESP array of the fields and reads it with GstRedisReader the
 * way redisstreamsrc receives its entries (large values in place, at most a
 * read window at a time); the fields then point into the reply. */
static GstRedisReplyRef *
make_owner (const Entry * e, GstRedisField * out)
{
  GString *resp = g_string_new (NULL);
  GstRedisReader *reader = gst_redis_reader_new ();
  GstRedisReply *reply = NULL;
  GstRedisReply *r;
  gsize off = 0;
  guint i;

  g_string_append_printf (resp, "*%u\r\n", e->n * 2);
  for (i = 0; i < e->n; i++) {
    g_string_append_printf (resp, "$%" G_GSIZE_FORMAT "\r\n",
        e->fields[i].name_len);
    g_string_append_len (resp, e->fields[i].name, e->fields[i].name_len);
    g_string_append (resp, "\r\n");
    g_string_append_printf (resp, "$%" G_GSIZE_FORMAT "\r\n",
        e->fields[i].value_len);
    g_string_append_len (resp, e->fields[i].value, e->fields[i].value_len);
    g_string_append (resp, "\r\n");
  }
  for (;;) {
    gsize space;
    guint8 *dest;

    if (!gst_redis_reader_get_reply (reader, &reply, NULL))
      abort ();
    if (reply)
      break;
    FUZZ_CHECK (off < resp->len);
    dest = gst_redis_reader_get_space (reader, &space);
    space = MIN (space, resp->len - off);
    memcpy (dest, resp->str + off, space);
    gst_redis_reader_advance (reader, space);
    off += space;
  }
  FUZZ_CHECK (off == resp->len);
  gst_redis_reader_free (reader);
  g_string_free (resp, TRUE);

  r = reply;
  FUZZ_CHECK (r->type == GST_REDIS_REPLY_ARRAY && r->elements == e->n * 2);
  for (i = 0; i < e->n; i++) {
    out[i].name = r->element[2 * i]->str;
    out[i].name_len = r->element[2 * i]->len;
    out[i].value = r->element[2 * i + 1]->str;
    out[i].value_len = r->element[2 * i + 1]->len;
  }
  return gst_redis_reply_ref_new (r);
}

static void
check_buffer (GstBuffer * buf, GstCaps * caps)
{
  gchar *s, *json;

  FUZZ_CHECK (caps != NULL && gst_caps_is_fixed (caps));
  FUZZ_CHECK (gst_buffer_get_size (buf) <= FUZZ_MAX_FRAME_SIZE);
  s = gst_caps_to_string (caps);
  g_free (s);
  (void) gst_frame_meta_get_capture_time (buf);
  (void) fuzz_touch_buffer (buf);

  /* What a redisstreamsink downstream would write again */
  json = gst_redis_meta_to_json (buf);
  if (json) {
    GstBuffer *again = gst_buffer_new ();
    GError *err = NULL;

    if (!gst_redis_meta_from_json (again, json, strlen (json), &err)) {
      fprintf (stderr, "meta does not round-trip: %s\n%s\n", err->message,
          json);
      abort ();
    }
    gst_buffer_unref (again);
    g_free (json);
  }
}

/* Decodes @e; the caps of the entry in @caps, which the caller unrefs. */
static GstBuffer *
decode_once (GstRedisEntryDecoder * dec, Entry * e, gboolean with_owner,
    GstCaps ** caps)
{
  GstRedisField owned[MAX_FIELDS + 2];
  GstRedisReplyRef *owner = NULL;
  GError *err = NULL;
  GstBuffer *buf;
  gboolean wants;
  guint32 id;

  *caps = NULL;
  if (with_owner)
    owner = make_owner (e, owned);
  wants = gst_redis_entry_decoder_wants_caps (dec, owner ? owned : e->fields,
      e->n, &id);
  buf = gst_redis_entry_decoder_decode (dec, owner ? owned : e->fields, e->n,
      owner, caps, &err);
  /* the source drops its reference right after decoding: the buffer must
   * keep the reply alive on its own */
  if (owner)
    gst_redis_reply_ref_unref (owner);
  if (buf == NULL) {
    FUZZ_CHECK (err != NULL && err->domain == GST_REDIS_ENTRY_ERROR &&
        err->message != NULL);
    FUZZ_CHECK (*caps == NULL);
    /* an id the decoder knows is never reported unknown */
    if (err->code == GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS)
      FUZZ_CHECK (wants);
    g_error_free (err);
    return NULL;
  }
  FUZZ_CHECK (err == NULL);
  /* a frame of a version 2 entry: its caps were known */
  FUZZ_CHECK (!wants);
  check_buffer (buf, *caps);
  return buf;
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GstRedisEntryDecoder *dec;
  GstBuffer *b1, *b2 = NULL, *b3 = NULL;
  GstCaps *c1, *c2 = NULL, *c3 = NULL;
  Entry e = { 0, };
  guint8 mode;

  if (size < 4)
    return 0;
  mode = data[0];
  split_fields (data + 4, size - 4, &e);
  take_hash_fields (&e);
  isolate_fields (&e);
  if (mode & 0x02)
    compress_data (&e, mode, data[1], data[2], data[3]);

  dec = gst_redis_entry_decoder_new ();
  gst_redis_entry_decoder_set_max_frame_size (dec, FUZZ_MAX_FRAME_SIZE);
  add_hash_fields (dec, &e);

  b1 = decode_once (dec, &e, mode & 0x01, &c1);
  if (mode & 0x08) {
    b2 = decode_once (dec, &e, mode & 0x01, &c2);
    /* the same caps string again gives the same caps, not parsed again */
    if (b1 && b2)
      FUZZ_CHECK (c1 == c2);
    /* and decoding is deterministic */
    FUZZ_CHECK ((b1 == NULL) == (b2 == NULL));
    if (b1 && b2) {
      FUZZ_CHECK (gst_buffer_get_size (b1) == gst_buffer_get_size (b2));
    }
    b3 = decode_once (dec, &e, !(mode & 0x01), &c3);
    FUZZ_CHECK ((b1 == NULL) == (b3 == NULL));
  }
  gst_redis_entry_decoder_free (dec);

  /* buffers and their caps outlive the decoder and (with an owner) the
   * reply reference */
  if (b1) {
    gchar *str = gst_caps_to_string (c1);

    fuzz_touch_buffer (b1);
    g_free (str);
  }
  if (b2 && b1 && gst_buffer_get_size (b1) > 0) {
    GstMapInfo m;

    gst_buffer_map (b1, &m, GST_MAP_READ);
    FUZZ_CHECK (gst_buffer_memcmp (b2, 0, m.data, m.size) == 0);
    gst_buffer_unmap (b1, &m);
  }
  gst_clear_buffer (&b1);
  gst_clear_buffer (&b2);
  gst_clear_buffer (&b3);
  gst_clear_caps (&c1);
  gst_clear_caps (&c2);
  gst_clear_caps (&c3);
  g_free (e.lz4);
  while (e.n_copies > 0)
    g_free (e.copies[--e.n_copies]);
  fuzz_check_quarks ();
  return 0;
}
