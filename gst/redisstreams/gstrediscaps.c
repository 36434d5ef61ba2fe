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

/* Caps on the wire. GStreamer's own parser reads them: every caps string
 * GStreamer writes (stream headers, codec data, nested structures, flag
 * sets) crosses as it is. Before the parser sees a string written by
 * someone else, this file refuses only what would hurt the reader:
 *
 * - length over GST_REDIS_CAPS_MAX_LENGTH, control characters, invalid
 *   UTF-8;
 * - nesting of <> {} [] deeper than MAX_DEPTH (the parser recurses once per
 *   level: ~20000 levels overflow the stack);
 * - an invalid structure name, at the start, after ';' or opening a nested
 *   structure, and a (buffer) value that is not hex digits: GStreamer 1.22
 *   raises a GLib critical for both (fatal in applications that make
 *   criticals fatal);
 * - a type cast other than plain values, enums, flags, flag sets, and
 *   nested structures or caps in GStreamer's bracket form: a quoted nested
 *   string, a sample or a tag list would be parsed again from inside.
 *
 * After that, the parse itself: one structure, fixed, and the same caps
 * again after GStreamer writes and reads them (that also refuses NaN, which
 * is never equal to itself). Every field and structure name becomes a GLib
 * quark for the life of the process, also when the caps are then refused:
 * so before the parse, the names GLib does not know yet are taken out of
 * the process's budget of new names (gstredisnames.h), and caps that do
 * not fit are refused unparsed. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediscaps.h"
#include "gstredisnames.h"
#include "gstrediswire.h"

#include <string.h>
#include <gst/video/video.h>

#define MAX_DEPTH 8

static gsize
skip_spaces (const gchar * str, gsize len, gsize i)
{
  while (i < len && str[i] == ' ')
    i++;
  return i;
}

/* A structure name at @i: a letter, then letters, digits and "/-_.:+". */
static gboolean
name_is_valid_at (const gchar * str, gsize len, gsize i)
{
  i = skip_spaces (str, len, i);
  if (i == len || !g_ascii_isalpha (str[i]))
    return FALSE;
  for (i++; i < len; i++) {
    if (g_ascii_isalnum (str[i]) || strchr ("/-_.:+", str[i]))
      continue;
    return str[i] == ',' || str[i] == ';' || str[i] == ']' || str[i] == ' ';
  }
  return TRUE;
}

/* After ';': another structure, or nothing (GStreamer ends a nested
 * structure with ";]"). */
static gboolean
after_semicolon_is_valid (const gchar * str, gsize len, gsize i)
{
  gsize j = skip_spaces (str, len, i);

  return j == len || str[j] == ']' || name_is_valid_at (str, len, i);
}

/* After '[': a nested structure, whose name must be valid. Not a range
 * ("[1, 5]"): ranges are never fixed, and GStreamer raises a critical for
 * one that ends before it starts. */
static const gchar *
after_bracket_problem (const gchar * str, gsize len, gsize i)
{
  gsize j = skip_spaces (str, len, i);

  if (j < len && !g_ascii_isalpha (str[j]))
    return "holds a range, which is not one fixed value";
  if (!name_is_valid_at (str, len, i))
    return "holds a nested structure with an invalid name";
  return NULL;
}

static gboolean
cast_is (const gchar * type, gsize len, const gchar * name)
{
  return strlen (name) == len && memcmp (type, name, len) == 0;
}

typedef enum
{
  CAST_PLAIN,
  CAST_BUFFER,
  CAST_NESTED,
  CAST_REFUSED,
} CastKind;

static CastKind
classify_cast (const gchar * type, gsize len)
{
  static const gchar *plain[] = { "int", "i", "uint", "u", "int64",
    "uint64", "double", "d", "float", "f", "boolean", "bool", "b", "string",
    "str", "s", "fraction", "bitmask", "flagset", "date", "datetime", "gint",
    "guint", "gint64", "guint64", "gdouble", "gfloat", "gboolean",
    "gchararray", "GstFraction", "GstBitmask", "GstFlagSet", "GstDateTime",
    "GDate"
  };
  static const gchar *nested[] = { "structure", "GstStructure", "caps",
    "GstCaps"
  };
  gchar name[64];
  GType gtype;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (plain); i++) {
    if (cast_is (type, len, plain[i]))
      return CAST_PLAIN;
  }
  if (cast_is (type, len, "buffer") || cast_is (type, len, "GstBuffer"))
    return CAST_BUFFER;
  for (i = 0; i < G_N_ELEMENTS (nested); i++) {
    if (cast_is (type, len, nested[i]))
      return CAST_NESTED;
  }
  /* Enums, flags and flag sets registered in this process (video caps
   * carry GstVideoMultiviewFlagsSet): their parsers read plain text. */
  if (len >= sizeof (name))
    return CAST_REFUSED;
  memcpy (name, type, len);
  name[len] = '\0';
  gtype = g_type_from_name (name);
  if (gtype != 0 && (G_TYPE_IS_ENUM (gtype) || G_TYPE_IS_FLAGS (gtype) ||
          g_type_is_a (gtype, GST_TYPE_FLAG_SET)))
    return CAST_PLAIN;
  return CAST_REFUSED;
}

/* A run of hex digit pairs at @i; returns the index after it, or 0. */
static gsize
hex_end (const gchar * str, gsize len, gsize i)
{
  gsize start = i;

  while (i < len && g_ascii_isxdigit (str[i]))
    i++;
  if (i == start || (i - start) % 2 != 0)
    return 0;
  return i;
}

/* A (buffer) value at @i: hex, or an array of hex values "< 0a0b, 0c >".
 * Returns the index of its last character, or 0. */
static gsize
buffer_value_end (const gchar * str, gsize len, gsize i)
{
  i = skip_spaces (str, len, i);
  if (i < len && str[i] != '<') {
    gsize end = hex_end (str, len, i);

    return end ? end - 1 : 0;
  }
  for (i++;;) {
    i = hex_end (str, len, skip_spaces (str, len, i));
    if (i == 0)
      return 0;
    i = skip_spaces (str, len, i);
    if (i == len)
      return 0;
    if (str[i] == '>')
      return i;
    if (str[i] != ',')
      return 0;
    i++;
  }
}

/* Where the scan of a caps string is: the brackets open (what closes
 * each) and the position. */
typedef struct
{
  const gchar *str;
  gsize len;
  gsize i;
  gchar closing[MAX_DEPTH];
  guint depth;
} Scan;

static const gchar *
scan_open (Scan * sc, gchar c)
{
  gsize k;

  if (c == '[') {
    const gchar *problem = after_bracket_problem (sc->str, sc->len, sc->i + 1);

    if (problem)
      return problem;
  }
  /* GStreamer 1.22's parser leaks on malformed arrays and lists
   * (unterminated, empty elements, no comma after one): refused */
  if (sc->depth == MAX_DEPTH)
    return "nests values more than 8 levels deep";
  sc->closing[sc->depth++] = c == '<' ? '>' : c == '{' ? '}' : ']';
  k = skip_spaces (sc->str, sc->len, sc->i + 1);
  if (k < sc->len && (sc->str[k] == ',' ||
          sc->str[k] == sc->closing[sc->depth - 1]))
    return "holds an empty array, list or element";
  return NULL;
}

static const gchar *
scan_close (Scan * sc, gchar c)
{
  gsize k;

  if (sc->depth == 0 || sc->closing[sc->depth - 1] != c)
    return "has unbalanced brackets";
  sc->depth--;
  k = skip_spaces (sc->str, sc->len, sc->i + 1);
  if (k < sc->len && !strchr (",>}];", sc->str[k]))
    return "has no comma after an array, list or nested structure";
  return NULL;
}

static const gchar *
scan_comma (Scan * sc)
{
  gsize k = skip_spaces (sc->str, sc->len, sc->i + 1);

  /* in a structure, top-level or nested ("[name, a=1]"), a field name
   * comes next; in an array or a list, a value */
  if ((sc->depth == 0 || sc->closing[sc->depth - 1] == ']') &&
      (k == sc->len || !g_ascii_isalpha (sc->str[k])))
    return "has a comma that no field name follows";
  if (sc->depth > 0 && (k == sc->len || strchr (",>}]", sc->str[k])))
    return "holds an empty array, list or element";
  return NULL;
}

/* A type cast, "(int)" or "( buffer )" (GStreamer skips the spaces), and
 * for a buffer its value. Leaves sc->i on the last character read. */
static const gchar *
scan_cast (Scan * sc)
{
  const gchar *str = sc->str;
  gsize len = sc->len, j, k, start;
  CastKind kind;

  start = skip_spaces (str, len, sc->i + 1);
  j = start;
  while (j < len && str[j] != ')' && str[j] != ',' && str[j] != ' ' &&
      str[j] != '(')
    j++;
  k = skip_spaces (str, len, j);
  if (j == start || k == len || str[k] != ')')
    return "holds a '(' that does not start a type cast";
  kind = classify_cast (str + start, j - start);
  if (kind == CAST_REFUSED)
    return "holds a value of a type other than numbers, strings, buffers, "
        "fractions, flags and nested structures";
  if (kind == CAST_BUFFER) {
    gsize end = buffer_value_end (str, len, k + 1);

    if (end == 0)
      return "holds a (buffer) value that is not hex digits";
    sc->i = end;
    k = skip_spaces (str, len, end + 1);
    if (k < len && !strchr (",>}];", str[k]))
      return "has no comma after a (buffer) value";
    return NULL;
  }
  if (kind == CAST_NESTED) {
    k = skip_spaces (str, len, k + 1);
    if (k == len || str[k] != '[')
      return "holds a nested structure or caps in quotes";
    if (!name_is_valid_at (str, len, k + 1))
      return "holds a nested structure with an invalid name";
  }
  sc->i = j;
  return NULL;
}

/* A bare NULL is a string GStreamer reads as missing and then cannot write
 * (a critical inside arrays). */
static const gchar *
scan_null (Scan * sc)
{
  const gchar *str = sc->str;
  gsize len = sc->len, i = sc->i, p = i;

  while (p > 0 && str[p - 1] == ' ')
    p--;
  if (len - i >= 4 && memcmp (str + i, "NULL", 4) == 0 &&
      (i + 4 == len || !(g_ascii_isalnum (str[i + 4]) ||
              strchr ("_-.:+/", str[i + 4]))) &&
      p > 0 && strchr ("=<{,)", str[p - 1]))
    return "holds the word NULL as a value";
  return NULL;
}

static const gchar *
scan_start (const gchar * str, gsize len)
{
  gsize i = 0;

  if (len == 0)
    return "is empty";
  if (len > GST_REDIS_CAPS_MAX_LENGTH)
    return "is longer than 65536 bytes";
  if (!g_utf8_validate_len (str, len, NULL))
    return "is not valid UTF-8";
  if (name_is_valid_at (str, len, 0))
    return NULL;
  while (i < len && str[i] != ',' && str[i] != '(')
    i++;
  if (i < len && str[i] == '(')
    return "has caps features (such as memory:DMABuf), which do not cross "
        "processes";
  return "does not start with a valid media type name";
}

static const gchar *
check_string (const gchar * str, gsize len)
{
  Scan sc = { str, len, 0, {0}, 0 };
  gboolean quoted = FALSE;
  const gchar *problem = scan_start (str, len);

  for (; problem == NULL && sc.i < len; sc.i++) {
    gchar c = str[sc.i];

    if ((guchar) c < 0x20 || c == 0x7f)
      return "holds a control character";
    if (quoted) {
      if (c == '\\' && sc.i + 1 < len)
        sc.i++;
      else if (c == '"')
        quoted = FALSE;
      continue;
    }
    switch (c) {
      case '"':
        /* GStreamer reads a bare "" as the integer 0, through a path that
         * leaks inside arrays; it writes an empty string as (string)"" */
        if (sc.i + 1 < len && str[sc.i + 1] == '"' && str[sc.i - 1] != ')')
          return "holds an empty string without (string) before it";
        quoted = TRUE;
        break;
      case '[':
      case '<':
      case '{':
        problem = scan_open (&sc, c);
        break;
      case ']':
      case '>':
      case '}':
        problem = scan_close (&sc, c);
        break;
      case ',':
        problem = scan_comma (&sc);
        break;
      case ';':
        if (!after_semicolon_is_valid (str, len, sc.i + 1))
          problem = "holds a structure with an invalid name";
        break;
      case '(':
        problem = scan_cast (&sc);
        break;
      case 'N':
        problem = scan_null (&sc);
        break;
      default:
        break;
    }
  }
  if (problem)
    return problem;
  if (quoted)
    return "ends inside a quoted string";
  if (sc.depth > 0)
    return "has unbalanced brackets";
  return NULL;
}

/* Every structure name (at the start, after ';' and after '[', which
 * the check lets open nested structures only) and every field name (a word
 * before '=', GStreamer skipping spaces and "\ " in between) of a string
 * check_string () accepted: what gst_caps_from_string () may intern, and at
 * most a few words more (the budget gives those back afterwards). */
/* What GStreamer takes for a character of a name (GST_ASCII_IS_STRING). */
static gboolean
is_name_char (gchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("/-_.:+", c));
}

static void
collect_names (const gchar * str, gsize len, GstRedisNames * names)
{
  gboolean quoted = FALSE, name_next = TRUE;
  gsize i = 0;

  while (i < len) {
    gchar c = str[i];

    if (quoted) {
      if (c == '\\' && i + 1 < len)
        i++;
      else if (c == '"')
        quoted = FALSE;
      i++;
    } else if (is_name_char (c)) {
      gsize start = i, j;

      while (i < len && is_name_char (str[i]))
        i++;
      for (j = i; j < len; j++) {
        if (str[j] == '\\' && j + 1 < len && str[j + 1] == ' ')
          j++;
        else if (str[j] != ' ')
          break;
      }
      if (name_next || (j < len && str[j] == '='))
        gst_redis_names_add (names, str + start, i - start);
      name_next = FALSE;
    } else {
      if (c == '"')
        quoted = TRUE;
      if (c == ';' || c == '[')
        name_next = TRUE;
      else if (c != ' ')
        name_next = FALSE;
      i++;
    }
  }
}

/* The parse itself, once the string passed check_string (). Refused caps
 * leave their names interned: that is why the budget is taken first. */
static GstCaps *
parse_checked (const gchar * str, gsize len, const gchar ** why)
{
  GstCaps *caps, *again = NULL;
  gchar *copy, *written = NULL;
  const gchar *reason;

  copy = g_strndup (str, len);
  caps = gst_caps_from_string (copy);
  g_free (copy);
  if (caps == NULL) {
    *why = "is not a caps string GStreamer can parse";
    return NULL;
  }
  if (gst_caps_is_any (caps) || gst_caps_is_empty (caps) ||
      gst_caps_get_size (caps) != 1 || !gst_caps_is_fixed (caps)) {
    *why = "is not one fixed media type (no lists, ranges, ANY or EMPTY)";
    goto refused;
  }
  /* What a writer would send for them must be acceptable too (GStreamer
   * writes a structure nested twice in quotes, which is refused). */
  written = gst_caps_to_string (caps);
  reason = check_string (written, strlen (written));
  if (reason) {
    *why = reason;
    goto refused;
  }
  again = gst_caps_from_string (written);
  if (again == NULL || !gst_caps_is_equal (caps, again)) {
    *why = "does not come back the same after GStreamer writes and reads " "it";
    goto refused;
  }
  g_free (written);
  gst_caps_unref (again);
  return caps;

refused:
  g_free (written);
  gst_clear_caps (&again);
  gst_caps_unref (caps);
  return NULL;
}

/* Checks, takes the new names out of the budget, parses. NULL with *@why
 * (a static string) when refused, and with @error too when the budget
 * refused. */
static GstCaps *
deserialize (const gchar * str, gsize len, const gchar ** why, GError ** error)
{
  GstRedisNames names;
  GstCaps *caps;

  /* Video caps carry a GstVideoMultiviewFlagsSet, a type GStreamer's
   * parser knows only once it is registered. */
  g_type_ensure (GST_TYPE_VIDEO_MULTIVIEW_FLAGSET);

  *why = check_string (str, len);
  if (*why)
    return NULL;

  gst_redis_names_init (&names);
  collect_names (str, len, &names);
  if (!gst_redis_names_reserve (&names, GST_REDIS_FIELD_CAPS, error)) {
    *why = "holds more names never seen before than this process may still "
        "take in";
    gst_redis_names_release (&names);
    return NULL;
  }
  caps = parse_checked (str, len, why);
  gst_redis_names_release (&names);
  return caps;
}

GstCaps *
gst_redis_caps_deserialize (const gchar * str, gsize len, GError ** error)
{
  GError *budget = NULL;
  const gchar *why = NULL;
  GstCaps *caps = deserialize (str, len, &why, &budget);

  if (caps == NULL && budget) {
    g_propagate_error (error, budget);
  } else if (caps == NULL) {
    gchar *shown = gst_redis_wire_printable (str, len, 200);

    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_BAD_FIELD, "field \"caps\" %s: \"%s\"", why,
        shown);
    g_free (shown);
  }
  return caps;
}

gchar *
gst_redis_caps_serialize (const GstCaps * caps, const gchar ** why)
{
  gchar *str = gst_caps_to_string (caps);
  GError *budget = NULL;
  GstCaps *read;

  read = deserialize (str, strlen (str), why, &budget);
  g_clear_error (&budget);
  if (read == NULL) {
    g_free (str);
    return NULL;
  }
  gst_caps_unref (read);
  return str;
}

guint32
gst_redis_caps_id (const gchar * str, gsize len)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize n = sizeof (digest);

  g_checksum_update (sum, (const guchar *) str, len);
  g_checksum_get_digest (sum, digest, &n);
  g_checksum_free (sum);
  return GST_READ_UINT32_BE (digest) & GST_REDIS_CAPS_ID_MAX;
}
