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

#ifndef __GST_REDIS_SRC_SETTINGS_H__
#define __GST_REDIS_SRC_SETTINGS_H__

#include <gst/gst.h>
#include "gstredissettings.h"
#include "gstredistiming.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* redisstreamsrc's own properties (the connection's are gstredissettings.h):
 * their ids, defaults and documentation, and the values of those that are
 * copied at start () (GstRedisSrcSettings, under the element's object
 * lock). max-age, metrics-interval and stats are installed here too, but
 * their values live in the read loop, the metrics and the element. */
enum
{
  GST_REDIS_SRC_PROP_GROUP = GST_REDIS_PROP_LAST,
  GST_REDIS_SRC_PROP_CONSUMER,
  GST_REDIS_SRC_PROP_START_ID,
  GST_REDIS_SRC_PROP_BLOCK,
  GST_REDIS_SRC_PROP_COUNT,
  GST_REDIS_SRC_PROP_MAX_AGE,
  GST_REDIS_SRC_PROP_MAX_FRAME_SIZE,
  GST_REDIS_SRC_PROP_CLAIM_IDLE_TIME,
  GST_REDIS_SRC_PROP_REORDER_WINDOW,
  GST_REDIS_SRC_PROP_REORDER_TIMEOUT,
  GST_REDIS_SRC_PROP_TIMESTAMP_MODE,
  GST_REDIS_SRC_PROP_LATENCY,
  GST_REDIS_SRC_PROP_REQUEST_KEY_UNITS,
  GST_REDIS_SRC_PROP_METRICS_INTERVAL,
  GST_REDIS_SRC_PROP_START,
  GST_REDIS_SRC_PROP_STOP,
  GST_REDIS_SRC_PROP_ACCURATE,
  GST_REDIS_SRC_PROP_ACK_MODE,
  GST_REDIS_SRC_PROP_DEAD_LETTER_STREAM,
  GST_REDIS_SRC_PROP_MAX_DELIVERIES,
  GST_REDIS_SRC_PROP_DEAD_LETTER_MAXLEN,
  GST_REDIS_SRC_PROP_STATS,
};

/* max-age's default: every entry is delivered */
#define GST_REDIS_SRC_DEFAULT_MAX_AGE 0

/* When an entry is acknowledged (ack-mode). */
typedef enum
{
  GST_REDIS_ACK_DONE,
  GST_REDIS_ACK_PUSHED,
} GstRedisAckMode;

GType gst_redis_ack_mode_get_type (void);
#define GST_TYPE_REDIS_ACK_MODE (gst_redis_ack_mode_get_type ())

typedef struct
{
  /* the consumer group and how it is read */
  gchar *group;
  gchar *consumer;              /* NULL: <hostname>-<pid> */
  gchar *start_id;
  guint block;
  guint count;
  /* which frames are delivered, and in which order */
  guint64 max_frame_size;
  guint claim_idle_time;
  gboolean claim_idle_time_set;
  guint reorder_window;
  guint reorder_timeout;
  /* timing, and how encoded video starts */
  GstRedisTimestampMode timestamp_mode;
  guint latency;
  gboolean request_key_units;
  /* replay mode: start set */
  gchar *start;
  gchar *stop;
  gboolean accurate;
  /* acknowledgements and dead letters */
  GstRedisAckMode ack_mode;
  gchar *dead_letter_stream;    /* NULL: <stream>:dead-letter */
  guint max_deliveries;
  guint dead_letter_maxlen;
} GstRedisSrcSettings;

void gst_redis_src_settings_init (GstRedisSrcSettings * settings);
void gst_redis_src_settings_clear (GstRedisSrcSettings * settings);
void gst_redis_src_settings_install_properties (GObjectClass * klass);
/* Under the object lock of @object, which they take; FALSE when @prop_id
 * is not one whose value is in @settings. */
gboolean gst_redis_src_settings_set_property (GstRedisSrcSettings * settings,
    GObject * object, guint prop_id, const GValue * value);
gboolean gst_redis_src_settings_get_property (GstRedisSrcSettings * settings,
    GObject * object, guint prop_id, GValue * value);

G_END_DECLS
#endif /* __GST_REDIS_SRC_SETTINGS_H__ */
