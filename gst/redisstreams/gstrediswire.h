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

#ifndef __GST_REDIS_WIRE_H__
#define __GST_REDIS_WIRE_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The names and limits of the stream entry format (docs/wire-format.md),
 * and the errors of reading it, shared by the entry codec
 * (gstredisentry.c), the meta codec (gstredismeta.c) and LZ4
 * (gstredislz4.c). */
/* Version 1: the caps string in every entry. Version 2: the caps string
 * once in the stream's hash <stream>:info (field "caps:<id>"), the entry
 * carrying its id in the "caps" field. Readers read both. */
#define GST_REDIS_ENTRY_VERSION_1 1
#define GST_REDIS_ENTRY_VERSION_2 2
#define GST_REDIS_ENTRY_VERSION GST_REDIS_ENTRY_VERSION_2

#define GST_REDIS_FIELD_VERSION      "v"
#define GST_REDIS_FIELD_SEQ          "seq"
#define GST_REDIS_FIELD_PTS          "pts"
#define GST_REDIS_FIELD_DTS          "dts"
#define GST_REDIS_FIELD_DURATION     "duration"
#define GST_REDIS_FIELD_FLAGS        "flags"
#define GST_REDIS_FIELD_CAPS         "caps"
#define GST_REDIS_FIELD_ENCODING     "encoding"
#define GST_REDIS_FIELD_SIZE         "size"
#define GST_REDIS_FIELD_CAPTURE_TIME "capture-time"
#define GST_REDIS_FIELD_META         "meta"
#define GST_REDIS_FIELD_DATA         "data"

/* The per-stream hash of what does not change from entry to entry: the
 * key is the stream's key with this suffix; a field per caps id. */
#define GST_REDIS_INFO_SUFFIX        ":info"
#define GST_REDIS_INFO_CAPS_PREFIX   "caps:"

/* Largest caps or meta field a reader accepts. */
#define GST_REDIS_MAX_TEXT_FIELD (64 * 1024)
#define GST_REDIS_DEFAULT_MAX_FRAME_SIZE (128 * 1024 * 1024)

#define GST_REDIS_ENTRY_ERROR (gst_redis_entry_error_quark ())
GQuark gst_redis_entry_error_quark (void);

typedef enum
{
  GST_REDIS_ENTRY_ERROR_MISSING_FIELD,
  GST_REDIS_ENTRY_ERROR_BAD_FIELD,
  GST_REDIS_ENTRY_ERROR_UNSUPPORTED,
  GST_REDIS_ENTRY_ERROR_TOO_LARGE,
  GST_REDIS_ENTRY_ERROR_CORRUPT,
  /* the caps or meta hold names never seen before, beyond what the
   * process may still intern (gstredisnames.h) */
  GST_REDIS_ENTRY_ERROR_TOO_MANY_NAMES,
  /* the payload is not what its caps describe: raw video smaller than
   * its picture, raw audio not whole frames, or empty */
  GST_REDIS_ENTRY_ERROR_WRONG_SIZE,
  /* a version 2 entry refers to a caps id the decoder was not given
   * (gst_redis_entry_decoder_add_caps ()): not in <stream>:info */
  GST_REDIS_ENTRY_ERROR_UNKNOWN_CAPS,
} GstRedisEntryError;

gboolean gst_redis_wire_bad_field (GError ** error, const gchar * name,
    const gchar * why);
/* @len bytes of a field value for a message, at most @max of them, invalid
 * UTF-8 and control characters written as \xNN. Free with g_free (). */
gchar *gst_redis_wire_printable (const gchar * s, gsize len, gsize max);

G_END_DECLS
#endif /* __GST_REDIS_WIRE_H__ */
