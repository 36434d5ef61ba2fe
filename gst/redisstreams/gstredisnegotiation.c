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

/* redisstreamsrc's caps, frame by frame, and the entries whose caps
 * downstream refuses (gstredisnegotiation.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisnegotiation.h"
#include "gstredisstreamselements.h"

#include <gst/base/gstbasesrc.h>

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* An entry downstream refused before any went through. */
typedef struct
{
  gchar *id;
  gchar *reason;
  guint deliveries;
  GstCaps *caps;
} RefusedEntry;

static void
refused_entry_clear (RefusedEntry * e)
{
  g_free (e->id);
  g_free (e->reason);
  gst_clear_caps (&e->caps);
}

void
gst_redis_negotiation_init (GstRedisNegotiation * nego, GstElement * element,
    const GstRedisSettings * settings, GstRedisAckTracker * tracker)
{
  nego->element = element;
  nego->settings = settings;
  nego->tracker = tracker;
  nego->caps = NULL;
  nego->negotiated_once = FALSE;
  nego->refused = g_array_new (FALSE, TRUE, sizeof (RefusedEntry));
  g_array_set_clear_func (nego->refused, (GDestroyNotify) refused_entry_clear);
}

void
gst_redis_negotiation_clear (GstRedisNegotiation * nego)
{
  gst_clear_caps (&nego->caps);
  g_clear_pointer (&nego->refused, g_array_unref);
}

void
gst_redis_negotiation_start (GstRedisNegotiation * nego)
{
  nego->negotiated_once = FALSE;
  g_array_set_size (nego->refused, 0);
}

void
gst_redis_negotiation_stop (GstRedisNegotiation * nego)
{
  GST_OBJECT_LOCK (nego->element);
  gst_clear_caps (&nego->caps);
  GST_OBJECT_UNLOCK (nego->element);
  /* refused before anything went through: they stay pending */
  g_array_set_size (nego->refused, 0);
}

GstCaps *
gst_redis_negotiation_get_caps (GstRedisNegotiation * nego)
{
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (nego->element);
  if (nego->caps)
    caps = gst_caps_ref (nego->caps);
  GST_OBJECT_UNLOCK (nego->element);
  return caps;
}

gboolean
gst_redis_negotiation_is_waiting (const GstRedisNegotiation * nego)
{
  return nego->refused->len > 0;
}

/* Caps as text for a message: valid UTF-8, cut after about @max bytes. */
static gchar *
caps_to_message_string (const GstCaps * caps, gsize max)
{
  gchar *str, *valid;
  const gchar *end;

  if (caps == NULL)
    return g_strdup ("nothing (the pad is not linked)");
  str = gst_caps_to_string (caps);
  valid = g_utf8_make_valid (str, -1);
  g_free (str);
  if (strlen (valid) <= max)
    return valid;
  g_utf8_validate (valid, max, &end);
  str = g_strdup_printf ("%.*s [...]", (gint) (end - valid), valid);
  g_free (valid);
  return str;
}

/* Downstream refused the caps of @frame: say which stream, which caps and
 * what the next element takes instead, rather than basesrc's bare
 * "not-negotiated". */
void
gst_redis_negotiation_post_error (GstRedisNegotiation * nego,
    const GstRedisFrame * frame)
{
  GstPad *pad = GST_BASE_SRC_PAD (nego->element);
  GstPad *peer = gst_pad_get_peer (pad);
  GstCaps *accepted = peer ? gst_pad_query_caps (peer, NULL) : NULL;
  gchar *short_caps = caps_to_message_string (frame->caps, 200);
  gchar *short_accepted = caps_to_message_string (accepted, 200);
  gchar *full_caps = caps_to_message_string (frame->caps, G_MAXSIZE);
  gchar *long_accepted = caps_to_message_string (accepted, 4096);
  gchar *peer_name = peer ? g_strdup_printf ("%s:%s",
      GST_DEBUG_PAD_NAME (peer)) : g_strdup ("no pad");

  GST_REDIS_ELEMENT_ERROR (nego->element, nego->settings, STREAM, FORMAT,
      ("Downstream does not accept the caps of stream \"%s\": %s. The "
          "next element accepts: %s. Convert or decode in front of it "
          "(videoconvert for other raw video formats, jpegdec for "
          "image/jpeg).",
          nego->settings->stream, short_caps, short_accepted),
      ("entry %s has caps %s; %s accepts %s", frame->id ? frame->id :
          "(none)", full_caps, peer_name, long_accepted));
  g_free (peer_name);
  g_free (short_caps);
  g_free (short_accepted);
  g_free (full_caps);
  g_free (long_accepted);
  gst_clear_caps (&accepted);
  if (peer)
    gst_object_unref (peer);
}

/* The reason of a dead letter for an entry whose caps downstream refused. */
static gchar *
refusal_reason (GstRedisNegotiation * nego, const GstRedisFrame * frame)
{
  GstPad *peer = gst_pad_get_peer (GST_BASE_SRC_PAD (nego->element));
  GstCaps *accepted = peer ? gst_pad_query_caps (peer, NULL) : NULL;
  gchar *short_caps = caps_to_message_string (frame->caps, 200);
  gchar *short_accepted = caps_to_message_string (accepted, 200);
  gchar *reason;

  reason = g_strdup_printf ("not-negotiated: downstream does not accept its "
      "caps %s (the next element accepts %s)", short_caps, short_accepted);
  g_free (short_caps);
  g_free (short_accepted);
  gst_clear_caps (&accepted);
  if (peer)
    gst_object_unref (peer);
  return reason;
}

/* Once an entry went through since start, the pipeline works and this
 * entry is bad: it is set aside (dead-lettered) and the source goes on.
 * Until then it may be the pipeline that is wrong: the first entries
 * refused wait, pending; when GST_REDIS_NEGOTIATION_REFUSED_AT_START of
 * them in a row were refused, or no other entry comes within a read's
 * block (gst_redis_negotiation_give_up ()), the not-negotiated error ends
 * the stream (FALSE) and they all stay pending. */
gboolean
gst_redis_negotiation_refused (GstRedisNegotiation * nego,
    const GstRedisFrame * frame)
{
  RefusedEntry e;

  if (nego->negotiated_once) {
    GST_INFO_OBJECT (nego->element, "downstream refused the caps of entry "
        "%s: setting it aside", frame->id);
    gst_redis_ack_tracker_dead_letter (nego->tracker, frame->id,
        refusal_reason (nego, frame), frame->deliveries);
    return TRUE;
  }
  if (nego->refused->len + 1 >= GST_REDIS_NEGOTIATION_REFUSED_AT_START) {
    gst_redis_negotiation_post_error (nego, frame);
    return FALSE;
  }
  GST_INFO_OBJECT (nego->element, "downstream refused the caps of entry %s "
      "before any entry went through: it stays pending for now", frame->id);
  e.id = g_strdup (frame->id);
  e.reason = refusal_reason (nego, frame);
  e.deliveries = frame->deliveries;
  e.caps = gst_caps_ref (frame->caps);
  g_array_append_val (nego->refused, e);
  return TRUE;
}

/* An entry went through: the pipeline works, the ones refused before it
 * are bad entries and set aside. */
void
gst_redis_negotiation_passed (GstRedisNegotiation * nego)
{
  guint i;

  if (nego->negotiated_once)
    return;
  nego->negotiated_once = TRUE;
  for (i = 0; i < nego->refused->len; i++) {
    RefusedEntry *e = &g_array_index (nego->refused, RefusedEntry, i);

    gst_redis_ack_tracker_dead_letter (nego->tracker, e->id,
        g_steal_pointer (&e->reason), e->deliveries);
  }
  g_array_set_size (nego->refused, 0);
}

GstFlowReturn
gst_redis_negotiation_give_up (GstRedisNegotiation * nego)
{
  RefusedEntry *last = &g_array_index (nego->refused, RefusedEntry,
      nego->refused->len - 1);
  GstRedisFrame frame = { NULL, };

  frame.id = g_strdup (last->id);
  frame.caps = gst_caps_ref (last->caps);
  gst_redis_negotiation_post_error (nego, &frame);
  gst_redis_frame_clear (&frame);
  return GST_FLOW_NOT_NEGOTIATED;
}

/* Caps belong to each frame, and the frame pushed is not always the entry
 * read last (a reorder window, entries skipped by max-age): the pad gets
 * the caps of the frame about to go out, right before it, when they differ
 * from its current caps (as appsrc queues caps in line with buffers).
 * A caps event downstream refuses would only show up when the buffer
 * behind it is pushed, as basesrc's bare not-negotiated: ask first
 * (ACCEPT_CAPS goes through queues), then check that the peer took them. */
GstFlowReturn
gst_redis_negotiation_set_caps (GstRedisNegotiation * nego,
    const GstRedisFrame * frame)
{
  GstPad *pad = GST_BASE_SRC_PAD (nego->element);
  GstCaps *caps = frame->caps;
  GstCaps *current = gst_pad_get_current_caps (pad);
  gboolean same = current && gst_caps_is_equal (current, caps);
  GstPad *peer;

  gst_clear_caps (&current);
  if (same)
    return GST_FLOW_OK;

  GST_DEBUG_OBJECT (nego->element, "caps from entry %s: %" GST_PTR_FORMAT,
      frame->id, caps);
  GST_OBJECT_LOCK (nego->element);
  gst_caps_replace (&nego->caps, caps);
  GST_OBJECT_UNLOCK (nego->element);

  if (!gst_pad_peer_query_accept_caps (pad, caps) ||
      !gst_base_src_set_caps (GST_BASE_SRC (nego->element), caps))
    goto refused;

  peer = gst_pad_get_peer (pad);
  if (peer == NULL)
    return GST_FLOW_OK;         /* not linked: the push says so */
  current = gst_pad_get_current_caps (peer);
  same = current && gst_caps_is_equal (current, caps);
  gst_clear_caps (&current);
  if (!same && GST_PAD_IS_FLUSHING (peer))
    same = TRUE;                /* not sent yet: it goes with the buffer */
  gst_object_unref (peer);
  if (!same)
    goto refused;
  return GST_FLOW_OK;

refused:
  /* shutting down or seeking is not a refusal */
  if (GST_PAD_IS_FLUSHING (pad))
    return GST_FLOW_FLUSHING;
  return GST_FLOW_NOT_NEGOTIATED;
}
