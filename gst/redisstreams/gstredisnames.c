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


/* The budget of new names, gstredisnames.h.
 *
 * Why a budget: GLib never frees a quark, and its array of quarks grows by
 * copying into a new array every 2048 quarks without freeing the old one
 * (the price of lock-free lookups). N new quarks therefore cost their
 * strings plus about N * N / 512 bytes of old arrays: 300 entries with
 * caps of 5000 new field names each took a reader from 22 MB to 4.4 GB.
 * Names are checked with g_quark_try_string (), which interns nothing,
 * before GStreamer or the meta codec interns them; the budget is taken
 * under a lock, so parallel readers cannot go over it together. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisnames.h"
#include "gstrediswire.h"

#include <string.h>

static GMutex budget_lock;
static guint budget_names;
static gsize budget_bytes;

/* The media types and field names of GStreamer's common media, interned
 * before any entry comes: they cost the budget nothing, so a reader whose
 * budget a flood of made-up names used up still reads what real producers
 * write (docs/media.md lists the media). */
static const gchar *const common_names[] = {
  "video/x-raw", "audio/x-raw", "text/x-raw", "video/x-bayer", "image/jpeg",
  "image/png", "video/x-h264", "video/x-h265", "video/x-vp8", "video/x-vp9",
  "video/x-av1", "audio/x-opus", "audio/x-vorbis", "audio/x-flac",
  "audio/mpeg", "video/mpegts", "video/x-matroska", "video/webm",
  "application/ogg", "application/x-rtp", "image/x-portable-anymap",
  "format", "width", "height", "framerate", "max-framerate",
  "pixel-aspect-ratio", "interlace-mode", "field-order", "colorimetry",
  "chroma-site", "multiview-mode", "multiview-flags", "views",
  "rate", "channels", "channel-mask", "layout", "channel-mapping-family",
  "channel-mapping", "stream-count", "coupled-count", "streamheader",
  "codec_data", "stream-format", "alignment", "profile", "level", "tier",
  "parsed", "framed", "chroma-format", "bit-depth-luma", "bit-depth-chroma",
  "sof-marker", "mpegversion", "mpegaudioversion", "systemstream",
  "packetsize", "media", "clock-rate", "encoding-name", "payload",
  "packetization-mode", "sprop-parameter-sets", "profile-level-id",
  "ssrc", "timestamp-offset", "seqnum-offset", "a-framerate",
};

/* Interns common_names once per process. */
void
gst_redis_names_intern_common (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    guint i;

    for (i = 0; i < G_N_ELEMENTS (common_names); i++)
      g_quark_from_static_string (common_names[i]);
    g_once_init_leave (&done, 1);
  }
}

void
gst_redis_names_init (GstRedisNames * names)
{
  names->fresh = NULL;
  names->bytes = 0;
  names->reserved = FALSE;
}

void
gst_redis_names_add (GstRedisNames * names, const gchar * name, gsize len)
{
  gchar small[128];
  gchar *copy;

  if (len < sizeof (small)) {
    memcpy (small, name, len);
    small[len] = '\0';
    if (g_quark_try_string (small) != 0)
      return;
    copy = g_strdup (small);
  } else {
    copy = g_strndup (name, len);
    if (g_quark_try_string (copy) != 0) {
      g_free (copy);
      return;
    }
  }
  if (names->fresh == NULL)
    names->fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        NULL);
  if (g_hash_table_add (names->fresh, copy))
    names->bytes += len + 1;
}

gboolean
gst_redis_names_reserve (GstRedisNames * names, const gchar * field,
    GError ** error)
{
  guint n = names->fresh ? g_hash_table_size (names->fresh) : 0;
  guint used;

  if (n == 0)
    return TRUE;
  g_mutex_lock (&budget_lock);
  used = budget_names;
  if (n <= GST_REDIS_NAMES_MAX_NEW - budget_names &&
      names->bytes <= GST_REDIS_NAMES_MAX_NEW_BYTES - budget_bytes) {
    budget_names += n;
    budget_bytes += names->bytes;
    names->reserved = TRUE;
  }
  g_mutex_unlock (&budget_lock);

  if (!names->reserved) {
    g_set_error (error, GST_REDIS_ENTRY_ERROR,
        GST_REDIS_ENTRY_ERROR_TOO_MANY_NAMES, "field \"%s\" holds %u names "
        "this process has never seen (%" G_GSIZE_FORMAT " bytes), and it has "
        "taken in %u of the %u new names it accepts from entries for its "
        "whole life (GLib keeps every name it interns: the budget bounds the "
        "memory entries can take)",
        field, n, names->bytes, used, GST_REDIS_NAMES_MAX_NEW);
    return FALSE;
  }
  return TRUE;
}

void
gst_redis_names_release (GstRedisNames * names)
{
  GHashTableIter iter;
  gpointer key;
  guint n = 0;
  gsize bytes = 0;

  if (names->fresh == NULL)
    return;
  if (names->reserved) {
    g_hash_table_iter_init (&iter, names->fresh);
    while (g_hash_table_iter_next (&iter, &key, NULL)) {
      if (g_quark_try_string (key) == 0) {
        n++;
        bytes += strlen (key) + 1;
      }
    }
    g_mutex_lock (&budget_lock);
    budget_names -= n;
    budget_bytes -= bytes;
    g_mutex_unlock (&budget_lock);
  }
  g_clear_pointer (&names->fresh, g_hash_table_unref);
  names->bytes = 0;
  names->reserved = FALSE;
}

guint
gst_redis_names_get_used (void)
{
  guint used;

  g_mutex_lock (&budget_lock);
  used = budget_names;
  g_mutex_unlock (&budget_lock);
  return used;
}
