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

#ifndef __GST_REDIS_ENTRY_H__
#define __GST_REDIS_ENTRY_H__

#include <gst/gst.h>
#include "gstrediscommand.h"
#include "gstredisreader.h"
#include "gstrediswire.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

typedef enum
{
  GST_REDIS_COMPRESSION_NONE,
  GST_REDIS_COMPRESSION_LZ4,
  GST_REDIS_COMPRESSION_AUTO,
} GstRedisCompression;

#define GST_TYPE_REDIS_COMPRESSION (gst_redis_compression_get_type ())
GType gst_redis_compression_get_type (void);

/* One field of an entry, as any reader of the stream sees it. */
typedef struct
{
  const gchar *name;
  gsize name_len;
  const gchar *value;
  gsize value_len;
} GstRedisField;

typedef struct _GstRedisEntryEncoder GstRedisEntryEncoder;

/* What an entry holds, as Redis stores it: the bytes of its field names
 * (once per stream node when entries share their fields), of its values,
 * and its number of fields. */
typedef struct
{
  gsize names;
  gsize values;
  guint fields;
} GstRedisEntrySize;

GstRedisEntryEncoder *gst_redis_entry_encoder_new (void);
void gst_redis_entry_encoder_free (GstRedisEntryEncoder * enc);
void gst_redis_entry_encoder_set_version (GstRedisEntryEncoder * enc,
    guint version);
gboolean gst_redis_entry_encoder_set_caps (GstRedisEntryEncoder * enc,
    GstCaps * caps, const gchar ** why);
gboolean gst_redis_entry_encoder_get_caps_ref (GstRedisEntryEncoder * enc,
    const gchar ** id, const gchar ** caps_str);
void gst_redis_entry_encoder_inline_caps (GstRedisEntryEncoder * enc);
void gst_redis_entry_encoder_get_size (GstRedisEntryEncoder * enc,
    GstRedisEntrySize * size);
/* @seq: the caller's own frame count, written as seq for a @buffer without
 * an offset as long as no buffer had one (after that such a frame goes
 * without seq); %GST_BUFFER_OFFSET_NONE writes none. A buffer's offset is
 * always its seq. */
gboolean gst_redis_entry_encoder_encode (GstRedisEntryEncoder * enc,
    GstBuffer * buffer, const GstMapInfo * map, guint64 seq,
    GstRedisCompression compression, gint acceleration,
    GstRedisCommand * cmd, gsize * wire_size, GError ** error);

/* The caps id of a version 2 entry (docs/wire-format.md): TRUE with @id
 * when @fields have "v 2" and a caps id, FALSE for anything else. */
gboolean gst_redis_entry_get_caps_id (const GstRedisField * fields,
    guint n_fields, guint32 * id);

typedef struct _GstRedisEntryDecoder GstRedisEntryDecoder;

GstRedisEntryDecoder *gst_redis_entry_decoder_new (void);
void gst_redis_entry_decoder_free (GstRedisEntryDecoder * dec);
void gst_redis_entry_decoder_set_max_frame_size (GstRedisEntryDecoder * dec,
    gsize max);
gboolean gst_redis_entry_decoder_wants_caps (GstRedisEntryDecoder * dec,
    const GstRedisField * fields, guint n_fields, guint32 * id);
gboolean gst_redis_entry_decoder_add_caps (GstRedisEntryDecoder * dec,
    guint32 id, const gchar * str, gsize len, GError ** error);
GstBuffer *gst_redis_entry_decoder_decode (GstRedisEntryDecoder * dec,
    const GstRedisField * fields, guint n_fields, GstRedisReplyRef * owner,
    GstCaps ** caps, GError ** error);

G_END_DECLS
#endif /* __GST_REDIS_ENTRY_H__ */
