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

#ifndef __GST_REDIS_CONNECTION_H__
#define __GST_REDIS_CONNECTION_H__

#include <gst/gst.h>
#include <gio/gio.h>
#include "gstredisreader.h"

G_BEGIN_DECLS
/* Connection settings shared by redisstreamsink and redisstreamsrc: the same
 * properties, installed by one helper, documented once. */
#define GST_REDIS_DEFAULT_HOST            "127.0.0.1"
#define GST_REDIS_DEFAULT_PORT            6379
#define GST_REDIS_DEFAULT_SOCKET_PATH     NULL
#define GST_REDIS_DEFAULT_USERNAME        NULL
#define GST_REDIS_DEFAULT_PASSWORD        NULL
#define GST_REDIS_DEFAULT_DB              0
#define GST_REDIS_DEFAULT_STREAM          "video-frames"
#define GST_REDIS_DEFAULT_CONNECT_TIMEOUT 5000
#define GST_REDIS_DEFAULT_TIMEOUT         5000
#define GST_REDIS_DEFAULT_RECONNECT_TIMEOUT 30000
#define GST_REDIS_DEFAULT_SENTINELS       NULL
#define GST_REDIS_DEFAULT_MASTER_NAME     NULL
    enum
{
  GST_REDIS_PROP_0,
  GST_REDIS_PROP_HOST,
  GST_REDIS_PROP_PORT,
  GST_REDIS_PROP_SOCKET_PATH,
  GST_REDIS_PROP_USERNAME,
  GST_REDIS_PROP_PASSWORD,
  GST_REDIS_PROP_DB,
  GST_REDIS_PROP_STREAM,
  GST_REDIS_PROP_CONNECT_TIMEOUT,
  GST_REDIS_PROP_TIMEOUT,
  GST_REDIS_PROP_RECONNECT_TIMEOUT,
  GST_REDIS_PROP_SENTINELS,
  GST_REDIS_PROP_MASTER_NAME,
  /* elements number their own properties from here */
  GST_REDIS_PROP_LAST
};

typedef struct
{
  gchar *host;
  guint port;
  gchar *socket_path;
  gchar *username;
  gchar *password;
  guint db;
  gchar *stream;
  guint connect_timeout;        /* ms */
  guint timeout;                /* ms, for each reply */
  guint reconnect_timeout;      /* ms; 0: a lost connection is an error */
  gchar *sentinels;             /* "host:port,host:port"; NULL: no Sentinel */
  gchar *master_name;           /* the master the sentinels monitor */
} GstRedisSettings;

void gst_redis_settings_init (GstRedisSettings * settings);
void gst_redis_settings_clear (GstRedisSettings * settings);
void gst_redis_settings_copy (GstRedisSettings * dest,
    const GstRedisSettings * src);
void gst_redis_settings_install_properties (GObjectClass * klass);
gboolean gst_redis_settings_set_property (GstRedisSettings * settings,
    GObject * object, guint prop_id, const GValue * value);
gboolean gst_redis_settings_get_property (GstRedisSettings * settings,
    GObject * object, guint prop_id, GValue * value);
gboolean gst_redis_settings_validate (const GstRedisSettings * settings,
    GError ** error);
gchar *gst_redis_settings_describe (const GstRedisSettings * settings);

/* Bookkeeping of one outage: when the connection was lost, when to try
 * again (with a backoff from 100 ms doubling to 2 s), and when to give up.
 * Touched only by the streaming thread. */
typedef struct
{
  guint limit_ms;
  gint64 lost_at;               /* monotonic us; 0 while connected */
  gint64 next_try;
  guint backoff_ms;
  guint64 reconnects;
} GstRedisOutage;

void gst_redis_outage_init (GstRedisOutage * outage, guint limit_ms);
gboolean gst_redis_outage_begin (GstRedisOutage * outage);
gboolean gst_redis_outage_active (const GstRedisOutage * outage);
gboolean gst_redis_outage_due (const GstRedisOutage * outage);
gint64 gst_redis_outage_wait_us (const GstRedisOutage * outage);
gboolean gst_redis_outage_retry_later (GstRedisOutage * outage);
void gst_redis_outage_end (GstRedisOutage * outage);
void gst_redis_outage_give_up (GstRedisOutage * outage, GError * last,
    GstResourceError code, GError ** error);
gboolean gst_redis_wait_cancellable (GCancellable * cancellable,
    gint64 timeout_us);

/* An element's cancellable, kept under its object lock: unlock () cancels
 * it, unlock_stop () renews it, and the streaming thread holds a reference
 * for each wait, so a wait that has not started yet refuses to start after
 * unlock (). */
GCancellable *gst_redis_cancellable_get (GstObject * object,
    GCancellable ** slot);
void gst_redis_cancellable_cancel (GstObject * object, GCancellable ** slot);
void gst_redis_cancellable_renew (GstObject * object, GCancellable ** slot);

/* A command in RESP form, built from small arguments copied into one buffer
 * and large ones (frame payloads) only referenced, so that sending it never
 * joins a frame into a new buffer. */
typedef struct
{
  GByteArray *bytes;
  GArray *segments;
  guint argc;
  gsize size;
} GstRedisCommand;

void gst_redis_command_init (GstRedisCommand * cmd);
void gst_redis_command_clear (GstRedisCommand * cmd);
void gst_redis_command_reset (GstRedisCommand * cmd);
void gst_redis_command_add (GstRedisCommand * cmd, const gchar * arg);
void gst_redis_command_add_len (GstRedisCommand * cmd, const void *data,
    gsize len);
void
gst_redis_command_add_printf (GstRedisCommand * cmd, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);
     void gst_redis_command_add_ref (GstRedisCommand * cmd, const void *data,
    gsize len);
     void gst_redis_command_append (GstRedisCommand * cmd,
    const GstRedisCommand * args);

     typedef struct _GstRedisConnection GstRedisConnection;

     GstRedisConnection *gst_redis_connection_new (const GstRedisSettings *
    settings);
     void gst_redis_connection_free (GstRedisConnection * conn);
     void gst_redis_connection_set_max_bulk (GstRedisConnection * conn,
    guint64 max);
     gboolean gst_redis_connection_open (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error);
     void gst_redis_connection_close (GstRedisConnection * conn);
     gboolean gst_redis_connection_is_open (GstRedisConnection * conn);
     const gchar *gst_redis_connection_describe (GstRedisConnection * conn);
     gboolean gst_redis_connection_is_redirected (GstRedisConnection * conn);
     gboolean gst_redis_connection_closed_by_peer (GstRedisConnection * conn);
     gboolean gst_redis_connection_check_idle_closed (GstRedisConnection *
    conn);
/* TRUE when a reply or a Pub/Sub message can be read without waiting
 * (or the connection was closed: reading then says so). */
gboolean gst_redis_connection_can_read (GstRedisConnection * conn);

/* The Redis Cluster hash slot of a key: CRC16 of the key, or of its
 * {hash tag}, modulo 16384. */
     guint gst_redis_key_hash_slot (const gchar * key, gsize len);

     gboolean gst_redis_connection_send (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error);
     GstRedisReply *gst_redis_connection_read_reply (GstRedisConnection * conn,
    guint extra_timeout_ms, GCancellable * cancellable, GError ** error);
     guint gst_redis_connection_get_pending (GstRedisConnection * conn);
     guint64 gst_redis_connection_get_bytes_received (GstRedisConnection *
    conn);
     guint64 gst_redis_connection_get_bytes_sent (GstRedisConnection * conn);

     GstRedisReply *gst_redis_connection_call (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * first_arg,
    ...) G_GNUC_NULL_TERMINATED;
     GstRedisReply *gst_redis_connection_call_command (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error);

     gboolean gst_redis_reply_is_error (const GstRedisReply * reply,
    const gchar * prefix);

/* Posts @err (GST_RESOURCE_ERROR, or any other domain as a READ error) as an
 * error or warning message of @element, with the server and stream as
 * details. The text is for a user; it never holds a secret. */
#define GST_REDIS_ELEMENT_POST(element, type, err, settings)              \
  gst_redis_element_post ((GstElement *) (element), type, err, settings,  \
      __FILE__, GST_FUNCTION, __LINE__)
     void gst_redis_element_post (GstElement * element, GstMessageType type,
    const GError * err, const GstRedisSettings * settings, const gchar * file,
    const gchar * function, gint line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstRedisReply, gst_redis_reply_free);

G_END_DECLS
#endif /* __GST_REDIS_CONNECTION_H__ */
