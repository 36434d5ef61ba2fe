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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrediskeyunit.h"

gchar *
gst_redis_key_unit_channel (const gchar * stream)
{
  return g_strconcat (stream, GST_REDIS_KEY_UNIT_CHANNEL_SUFFIX, NULL);
}

void
gst_redis_key_unit_gate_reset (GstRedisKeyUnitGate * gate)
{
  gate->waiting = TRUE;
  gate->request = FALSE;
  gate->last_request = 0;
  gate->held_back = 0;
  gate->requests = 0;
}

void
gst_redis_key_unit_gate_gap (GstRedisKeyUnitGate * gate)
{
  gate->waiting = TRUE;
}

void
gst_redis_key_unit_gate_want (GstRedisKeyUnitGate * gate)
{
  gate->request = TRUE;
}

/* Raw video, audio and intra-only codecs (JPEG, PNG) never set
 * GST_BUFFER_FLAG_DELTA_UNIT: every unit passes, and nothing is asked. */
gboolean
gst_redis_key_unit_gate_pass (GstRedisKeyUnitGate * gate, GstBuffer * buffer)
{
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    gate->waiting = FALSE;
    gate->request = FALSE;
    return TRUE;
  }
  if (!gate->waiting)
    return TRUE;
  gate->held_back++;
  gate->request = TRUE;
  return FALSE;
}

gboolean
gst_redis_key_unit_gate_take_request (GstRedisKeyUnitGate * gate, gint64 now_us)
{
  if (!gate->request)
    return FALSE;
  if (gate->last_request != 0 &&
      now_us - gate->last_request < GST_REDIS_KEY_UNIT_REQUEST_INTERVAL)
    return FALSE;
  gate->last_request = now_us;
  gate->requests++;
  /* asked again a second later while still waiting */
  gate->request = gate->waiting;
  return TRUE;
}
