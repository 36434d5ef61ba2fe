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

#ifndef __GST_REDIS_SETTINGS_H__
#define __GST_REDIS_SETTINGS_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

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
#define GST_REDIS_DEFAULT_TLS             FALSE
#define GST_REDIS_DEFAULT_TLS_CA_FILE     NULL
#define GST_REDIS_DEFAULT_TLS_SERVER_NAME NULL
#define GST_REDIS_DEFAULT_TLS_CERT_FILE   NULL
#define GST_REDIS_DEFAULT_TLS_KEY_FILE    NULL
/* The port sentinels listen on when an entry of sentinels names none. */
#define GST_REDIS_DEFAULT_SENTINEL_PORT   26379

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
  GST_REDIS_PROP_TLS,
  GST_REDIS_PROP_TLS_CA_FILE,
  GST_REDIS_PROP_TLS_SERVER_NAME,
  GST_REDIS_PROP_TLS_CERT_FILE,
  GST_REDIS_PROP_TLS_KEY_FILE,
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
  gboolean tls;                 /* TLS to every server (gstredistls.c) */
  gchar *tls_ca_file;           /* NULL: the system's trusted CAs */
  gchar *tls_server_name;       /* NULL: the host connected to */
  gchar *tls_cert_file;         /* client certificate, or NULL */
  gchar *tls_key_file;          /* NULL: the key is in tls_cert_file */
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
gboolean gst_redis_settings_use_sentinels (const GstRedisSettings * settings);
gboolean gst_redis_settings_use_socket (const GstRedisSettings * settings);

/* A node address: from the settings, a slot map or a redirection. */
typedef struct
{
  gchar *host;
  guint port;
} GstRedisAddr;

void gst_redis_addr_clear (GstRedisAddr * addr);
gboolean gst_redis_addr_equal (const GstRedisAddr * a, const gchar * host,
    guint port);
GArray *gst_redis_addr_list_new (void);
void gst_redis_addr_list_add (GArray * list, const gchar * host, guint port);
gboolean gst_redis_parse_host_port (const gchar * text, guint default_port,
    gchar ** host, guint * port);
GArray *gst_redis_settings_parse_sentinels (const gchar * list);

G_END_DECLS
#endif /* __GST_REDIS_SETTINGS_H__ */
