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

#ifndef __REDIS_FIXTURE_H__
#define __REDIS_FIXTURE_H__

#include <glib.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

/* A private redis-server for one test: its own free port on 127.0.0.1, its
 * own unix socket and its own temporary directory, stopped by its PID. */
typedef struct
{
  GPid pid;
  guint port;
  gchar *dir;
  gchar *socket_path;
  gchar **extra_args;
  /* redis_server_start_tls (): the TLS port, and its arguments */
  guint tls_port;
  gchar **tls_args;
} RedisServer;

RedisServer *redis_server_start (void);
RedisServer *redis_server_start_with_args (const gchar * first_extra_arg,
    ...) G_GNUC_NULL_TERMINATED;

/* TLS: the certificates of tests/tls/make-certs.sh, made in a new
 * temporary directory (NULL, with the reason printed, when openssl
 * cannot make them), removed with redis_test_remove_dir (). */
gchar *redis_test_make_certs (void);
void redis_test_remove_dir (const gchar * path);
/* A redis-server that also serves TLS on server->tls_port, with the
 * certificate @cert of @certs ("server", "expired", "wrong-name", ...),
 * trusting the test CA for client certificates, which it requires when
 * @auth_clients. The plain port stays, for the fixture's own client. */
RedisServer *redis_server_start_tls (const gchar * certs, const gchar * cert,
    gboolean auth_clients);
gboolean redis_server_restart (RedisServer * server);
void redis_server_kill (RedisServer * server, gint sig);
void redis_server_stop (RedisServer * server);

/* A plain hiredis client to set up and inspect the server from a test. */
redisContext *redis_server_connect (RedisServer * server);
redisReply *redis_server_command (RedisServer * server, const gchar * format,
    ...);
long long redis_server_integer (RedisServer * server, const gchar * format,
    ...);
long long redis_server_command_calls (RedisServer * server,
    const gchar * cmd);
long long redis_server_count_fields (RedisServer * server, const gchar * key,
    const gchar * prefix);

/* GStreamer helpers shared by the element tests. */
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

/* test_wait_until (): every wait of a test is a condition with a deadline */
#include "testwait.h"

GstHarness *redis_test_harness_new (const gchar * format, ...)
    G_GNUC_PRINTF (1, 2);
GstElement *redis_test_harness_element (GstHarness * h, const gchar * factory);
GstBuffer *redis_test_make_frame (const GstVideoInfo * info, guint seed,
    gboolean noise);
gboolean redis_test_buffer_equal (GstBuffer * a, GstBuffer * b);
GstMessage *redis_test_launch_until_error (GstElement ** pipeline,
    guint timeout_ms, const gchar * format, ...) G_GNUC_PRINTF (3, 4);
guint64 redis_test_get_stat (GstElement * element, const gchar * field);
guint redis_test_closed_port (void);
GstHarness *redis_test_sink_harness (RedisServer * server,
    const gchar * props, const gchar * caps);
void redis_test_check_error (GstMessage * msg, gint code,
    const gchar * must_contain);
GstBuffer *redis_test_numbered (guint64 seq);
GstMessage *redis_test_wait_message (GstBus * bus, GstMessageType type,
    const gchar * text, guint timeout_ms);
void redis_test_check_message_origin (GstMessage * msg, RedisServer * srv,
    const gchar * stream, const gchar * file);
guint redis_test_count_messages (GstBus * bus, GstMessageType type,
    const gchar * text);
gchar *redis_test_caps_id (const gchar * caps);

G_END_DECLS

#endif /* __REDIS_FIXTURE_H__ */
