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

/* The connection to Redis shared by every element of the plugin.
 *
 * The socket I/O is done with GIO rather than by hiredis: hiredis 0.14 writes
 * with plain write (), so a Redis server that goes away raises SIGPIPE in the
 * streaming thread and kills the application, and its blocking reads cannot
 * be interrupted. GSocket sends with MSG_NOSIGNAL, and every wait here is a
 * g_socket_condition_timed_wait () on the element's GCancellable, so
 * unlock () interrupts it at once. hiredis is used for what it does well:
 * parsing replies with its redisReader.
 *
 * Errors are returned as GError in GST_RESOURCE_ERROR (or G_IO_ERROR_CANCELLED
 * when the wait was cancelled); the connection never posts messages itself,
 * the element does. After any error other than a cancelled wait the
 * connection is closed, because its protocol state is unknown. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisconnection.h"

#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gio/gunixsocketaddress.h>
#include <hiredis/sds.h>

GST_DEBUG_CATEGORY_STATIC (redis_connection_debug);
#define GST_CAT_DEFAULT redis_connection_debug

/* Room made in the reader's buffer before each recv (); the buffer grows
 * by doubling up to the size of the largest reply (a raw 1080p frame is
 * about 3 MB) and stays that size. */
#define READ_CHUNK (256 * 1024)
/* Unix socket paths longer than this do not fit in sockaddr_un. */
#define MAX_SOCKET_PATH 107

struct _GstRedisConnection
{
  GstRedisSettings settings;
  gchar *description;

  GSocket *socket;
  redisReader *reader;
  guint pending;

  guint64 bytes_sent;
  guint64 bytes_received;
};

static void
ensure_debug_category (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (redis_connection_debug, "redisconnection", 0,
        "Redis connection shared by the Redis Streams elements");
    g_once_init_leave (&done, 1);
  }
}

/* Settings */

void
gst_redis_settings_init (GstRedisSettings * settings)
{
  memset (settings, 0, sizeof (*settings));
  settings->host = g_strdup (GST_REDIS_DEFAULT_HOST);
  settings->port = GST_REDIS_DEFAULT_PORT;
  settings->socket_path = g_strdup (GST_REDIS_DEFAULT_SOCKET_PATH);
  settings->username = g_strdup (GST_REDIS_DEFAULT_USERNAME);
  settings->password = g_strdup (GST_REDIS_DEFAULT_PASSWORD);
  settings->db = GST_REDIS_DEFAULT_DB;
  settings->stream = g_strdup (GST_REDIS_DEFAULT_STREAM);
  settings->connect_timeout = GST_REDIS_DEFAULT_CONNECT_TIMEOUT;
  settings->timeout = GST_REDIS_DEFAULT_TIMEOUT;
  settings->reconnect_timeout = GST_REDIS_DEFAULT_RECONNECT_TIMEOUT;
}

void
gst_redis_settings_clear (GstRedisSettings * settings)
{
  g_clear_pointer (&settings->host, g_free);
  g_clear_pointer (&settings->socket_path, g_free);
  g_clear_pointer (&settings->username, g_free);
  if (settings->password) {
    /* do not leave the secret lying around in freed memory */
    memset (settings->password, 0, strlen (settings->password));
    g_clear_pointer (&settings->password, g_free);
  }
  g_clear_pointer (&settings->stream, g_free);
}

void
gst_redis_settings_copy (GstRedisSettings * dest, const GstRedisSettings * src)
{
  gst_redis_settings_clear (dest);
  *dest = *src;
  dest->host = g_strdup (src->host);
  dest->socket_path = g_strdup (src->socket_path);
  dest->username = g_strdup (src->username);
  dest->password = g_strdup (src->password);
  dest->stream = g_strdup (src->stream);
}

void
gst_redis_settings_install_properties (GObjectClass * klass)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  g_object_class_install_property (klass, GST_REDIS_PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Host name or address of the Redis server",
          GST_REDIS_DEFAULT_HOST, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "TCP port of the Redis server", 1, 65535,
          GST_REDIS_DEFAULT_PORT, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket Path",
          "Path of the Redis server's unix socket; when set, host and port "
          "are not used", GST_REDIS_DEFAULT_SOCKET_PATH, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_USERNAME,
      g_param_spec_string ("username", "Username",
          "Redis ACL user name to authenticate as (NULL: the default user "
          "when a password is set)", GST_REDIS_DEFAULT_USERNAME, flags));
  /* Write-only, so that no tool (gst-inspect-1.0, gst-launch-1.0 -v) can
   * print it. */
  g_object_class_install_property (klass, GST_REDIS_PROP_PASSWORD,
      g_param_spec_string ("password", "Password",
          "Password to authenticate with (write-only, never logged)",
          GST_REDIS_DEFAULT_PASSWORD,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, GST_REDIS_PROP_DB,
      g_param_spec_uint ("db", "Database",
          "Redis database number to SELECT", 0, G_MAXINT,
          GST_REDIS_DEFAULT_DB, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Key of the Redis stream", GST_REDIS_DEFAULT_STREAM, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect Timeout",
          "Time in milliseconds allowed for connecting and authenticating",
          1, G_MAXINT, GST_REDIS_DEFAULT_CONNECT_TIMEOUT, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Time in milliseconds allowed for each reply from Redis (a source "
          "adds its block time); past it the connection is considered dead",
          1, G_MAXINT, GST_REDIS_DEFAULT_TIMEOUT, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_RECONNECT_TIMEOUT,
      g_param_spec_uint ("reconnect-timeout", "Reconnect Timeout",
          "Milliseconds to keep reconnecting after the connection to Redis "
          "was lost, with a warning, before it becomes an error; 0 makes a "
          "lost connection an error at once", 0, G_MAXINT,
          GST_REDIS_DEFAULT_RECONNECT_TIMEOUT, flags));
}

static void
replace_string (gchar ** dest, const GValue * value)
{
  g_free (*dest);
  *dest = g_value_dup_string (value);
}

gboolean
gst_redis_settings_set_property (GstRedisSettings * settings,
    GObject * object, guint prop_id, const GValue * value)
{
  gboolean handled = TRUE;

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case GST_REDIS_PROP_HOST:
      replace_string (&settings->host, value);
      break;
    case GST_REDIS_PROP_PORT:
      settings->port = g_value_get_uint (value);
      break;
    case GST_REDIS_PROP_SOCKET_PATH:
      replace_string (&settings->socket_path, value);
      break;
    case GST_REDIS_PROP_USERNAME:
      replace_string (&settings->username, value);
      break;
    case GST_REDIS_PROP_PASSWORD:
      if (settings->password)
        memset (settings->password, 0, strlen (settings->password));
      replace_string (&settings->password, value);
      break;
    case GST_REDIS_PROP_DB:
      settings->db = g_value_get_uint (value);
      break;
    case GST_REDIS_PROP_STREAM:
      replace_string (&settings->stream, value);
      break;
    case GST_REDIS_PROP_CONNECT_TIMEOUT:
      settings->connect_timeout = g_value_get_uint (value);
      break;
    case GST_REDIS_PROP_TIMEOUT:
      settings->timeout = g_value_get_uint (value);
      break;
    case GST_REDIS_PROP_RECONNECT_TIMEOUT:
      settings->reconnect_timeout = g_value_get_uint (value);
      break;
    default:
      handled = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (object);

  return handled;
}

gboolean
gst_redis_settings_get_property (GstRedisSettings * settings,
    GObject * object, guint prop_id, GValue * value)
{
  gboolean handled = TRUE;

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case GST_REDIS_PROP_HOST:
      g_value_set_string (value, settings->host);
      break;
    case GST_REDIS_PROP_PORT:
      g_value_set_uint (value, settings->port);
      break;
    case GST_REDIS_PROP_SOCKET_PATH:
      g_value_set_string (value, settings->socket_path);
      break;
    case GST_REDIS_PROP_USERNAME:
      g_value_set_string (value, settings->username);
      break;
    case GST_REDIS_PROP_DB:
      g_value_set_uint (value, settings->db);
      break;
    case GST_REDIS_PROP_STREAM:
      g_value_set_string (value, settings->stream);
      break;
    case GST_REDIS_PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, settings->connect_timeout);
      break;
    case GST_REDIS_PROP_TIMEOUT:
      g_value_set_uint (value, settings->timeout);
      break;
    case GST_REDIS_PROP_RECONNECT_TIMEOUT:
      g_value_set_uint (value, settings->reconnect_timeout);
      break;
    default:
      handled = FALSE;
      break;
  }
  GST_OBJECT_UNLOCK (object);

  return handled;
}

/* A stream key, group or consumer name a user can type and read back:
 * not empty, no whitespace or control characters. Redis itself would accept
 * them, but a name like "video frames" is a mistake far more often than a
 * wish, and it breaks every shell command that names the stream. */
static gboolean
name_is_valid (const gchar * name)
{
  const guchar *p;

  if (name == NULL || *name == '\0')
    return FALSE;
  for (p = (const guchar *) name; *p; p++) {
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      return FALSE;
  }
  return TRUE;
}

gboolean
gst_redis_settings_validate (const GstRedisSettings * s, GError ** error)
{
  if (s->socket_path && *s->socket_path) {
    if (strlen (s->socket_path) > MAX_SOCKET_PATH) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "The socket-path \"%s\" is longer than %d bytes, the limit of a "
          "unix socket address", s->socket_path, MAX_SOCKET_PATH);
      return FALSE;
    }
  } else if (!name_is_valid (s->host) || strchr (s->host, '/')) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The host \"%s\" is not a valid host name or address; set host (or "
        "socket-path) to the Redis server", s->host ? s->host : "");
    return FALSE;
  }
  if (!name_is_valid (s->stream)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The stream name \"%s\" is not valid: it must be a non-empty key "
        "without spaces or control characters", s->stream ? s->stream : "");
    return FALSE;
  }
  if (s->username && *s->username && !name_is_valid (s->username)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The username \"%s\" is not a valid Redis ACL user name", s->username);
    return FALSE;
  }
  if (s->username && *s->username && (s->password == NULL
          || *s->password == '\0')) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "A username (\"%s\") was set without a password", s->username);
    return FALSE;
  }
  return TRUE;
}

gchar *
gst_redis_settings_describe (const GstRedisSettings * s)
{
  if (s->socket_path && *s->socket_path)
    return g_strdup_printf ("unix:%s db %u", s->socket_path, s->db);
  if (strchr (s->host, ':'))
    return g_strdup_printf ("[%s]:%u db %u", s->host, s->port, s->db);
  return g_strdup_printf ("%s:%u db %u", s->host, s->port, s->db);
}

/* Outages */

#define OUTAGE_FIRST_BACKOFF 100
#define OUTAGE_MAX_BACKOFF 2000

void
gst_redis_outage_init (GstRedisOutage * outage, guint limit_ms)
{
  memset (outage, 0, sizeof (*outage));
  outage->limit_ms = limit_ms;
}

/* Returns TRUE when this starts a new outage (time to warn the user). */
gboolean
gst_redis_outage_begin (GstRedisOutage * outage)
{
  if (outage->lost_at != 0)
    return FALSE;
  outage->lost_at = g_get_monotonic_time ();
  outage->backoff_ms = OUTAGE_FIRST_BACKOFF;
  /* the first attempt right away: most outages are a restart */
  outage->next_try = outage->lost_at;
  return TRUE;
}

gboolean
gst_redis_outage_active (const GstRedisOutage * outage)
{
  return outage->lost_at != 0;
}

gboolean
gst_redis_outage_due (const GstRedisOutage * outage)
{
  return g_get_monotonic_time () >= outage->next_try;
}

gint64
gst_redis_outage_wait_us (const GstRedisOutage * outage)
{
  return MAX (0, outage->next_try - g_get_monotonic_time ());
}

/* After a failed attempt: schedules the next one. Returns FALSE when the
 * outage has lasted longer than the limit: time to give up. */
gboolean
gst_redis_outage_retry_later (GstRedisOutage * outage)
{
  gint64 now = g_get_monotonic_time ();

  if (now - outage->lost_at >=
      (gint64) outage->limit_ms * G_TIME_SPAN_MILLISECOND)
    return FALSE;
  outage->next_try = now + (gint64) outage->backoff_ms *
      G_TIME_SPAN_MILLISECOND;
  outage->backoff_ms = MIN (outage->backoff_ms * 2, OUTAGE_MAX_BACKOFF);
  return TRUE;
}

void
gst_redis_outage_end (GstRedisOutage * outage)
{
  if (outage->lost_at != 0)
    outage->reconnects++;
  outage->lost_at = 0;
}

/* Sleeps for @timeout_us unless @cancellable is cancelled first; returns
 * FALSE when cancelled. */
gboolean
gst_redis_wait_cancellable (GCancellable * cancellable, gint64 timeout_us)
{
  GPollFD pfd;

  if (g_cancellable_is_cancelled (cancellable))
    return FALSE;
  if (!g_cancellable_make_pollfd (cancellable, &pfd)) {
    g_usleep (timeout_us);
    return !g_cancellable_is_cancelled (cancellable);
  }
  g_poll (&pfd, 1, (gint) MIN (timeout_us / 1000 + 1, G_MAXINT));
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_is_cancelled (cancellable);
}

GCancellable *
gst_redis_cancellable_get (GstObject * object, GCancellable ** slot)
{
  GCancellable *c;

  GST_OBJECT_LOCK (object);
  c = g_object_ref (*slot);
  GST_OBJECT_UNLOCK (object);
  return c;
}

void
gst_redis_cancellable_cancel (GstObject * object, GCancellable ** slot)
{
  GST_OBJECT_LOCK (object);
  g_cancellable_cancel (*slot);
  GST_OBJECT_UNLOCK (object);
}

/* A new cancellable rather than g_cancellable_reset (), which must not be
 * called on one that a wait may still be using. */
void
gst_redis_cancellable_renew (GstObject * object, GCancellable ** slot)
{
  GST_OBJECT_LOCK (object);
  g_object_unref (*slot);
  *slot = g_cancellable_new ();
  GST_OBJECT_UNLOCK (object);
}

/* Commands */

typedef struct
{
  const guint8 *ref;            /* NULL: the data is in cmd->bytes */
  gsize offset;
  gsize len;
} Segment;

void
gst_redis_command_init (GstRedisCommand * cmd)
{
  cmd->bytes = g_byte_array_sized_new (512);
  cmd->segments = g_array_sized_new (FALSE, FALSE, sizeof (Segment), 8);
  cmd->argc = 0;
  cmd->size = 0;
}

void
gst_redis_command_clear (GstRedisCommand * cmd)
{
  g_clear_pointer (&cmd->bytes, g_byte_array_unref);
  g_clear_pointer (&cmd->segments, g_array_unref);
}

void
gst_redis_command_reset (GstRedisCommand * cmd)
{
  g_byte_array_set_size (cmd->bytes, 0);
  g_array_set_size (cmd->segments, 0);
  cmd->argc = 0;
  cmd->size = 0;
}

/* Extends the last in-buffer segment, or starts a new one. */
static void
command_append_bytes (GstRedisCommand * cmd, const void *data, gsize len)
{
  Segment *last = NULL;

  if (cmd->segments->len > 0)
    last = &g_array_index (cmd->segments, Segment, cmd->segments->len - 1);
  if (last == NULL || last->ref != NULL) {
    Segment seg = { NULL, cmd->bytes->len, 0 };
    g_array_append_val (cmd->segments, seg);
    last = &g_array_index (cmd->segments, Segment, cmd->segments->len - 1);
  }
  g_byte_array_append (cmd->bytes, data, len);
  last->len += len;
  cmd->size += len;
}

static void
command_append_header (GstRedisCommand * cmd, gsize len)
{
  gchar head[32];
  gint n = g_snprintf (head, sizeof (head), "$%" G_GSIZE_FORMAT "\r\n", len);

  command_append_bytes (cmd, head, n);
  cmd->argc++;
}

void
gst_redis_command_add_len (GstRedisCommand * cmd, const void *data, gsize len)
{
  command_append_header (cmd, len);
  command_append_bytes (cmd, data, len);
  command_append_bytes (cmd, "\r\n", 2);
}

void
gst_redis_command_add (GstRedisCommand * cmd, const gchar * arg)
{
  gst_redis_command_add_len (cmd, arg, strlen (arg));
}

void
gst_redis_command_add_printf (GstRedisCommand * cmd, const gchar * format, ...)
{
  gchar buf[128];
  gchar *big = NULL;
  va_list args;
  gint n;

  va_start (args, format);
  n = g_vsnprintf (buf, sizeof (buf), format, args);
  va_end (args);
  if (n >= (gint) sizeof (buf)) {
    va_start (args, format);
    big = g_strdup_vprintf (format, args);
    va_end (args);
    gst_redis_command_add (cmd, big);
    g_free (big);
  } else {
    gst_redis_command_add_len (cmd, buf, n);
  }
}

void
gst_redis_command_add_ref (GstRedisCommand * cmd, const void *data, gsize len)
{
  Segment seg = { data, 0, len };

  if (len == 0) {
    gst_redis_command_add_len (cmd, "", 0);
    return;
  }
  command_append_header (cmd, len);
  g_array_append_val (cmd->segments, seg);
  cmd->size += len;
  command_append_bytes (cmd, "\r\n", 2);
}

/* Connection */

GstRedisConnection *
gst_redis_connection_new (const GstRedisSettings * settings)
{
  GstRedisConnection *conn;

  ensure_debug_category ();

  conn = g_new0 (GstRedisConnection, 1);
  gst_redis_settings_init (&conn->settings);
  gst_redis_settings_copy (&conn->settings, settings);
  conn->description = gst_redis_settings_describe (settings);
  return conn;
}

void
gst_redis_connection_free (GstRedisConnection * conn)
{
  if (conn == NULL)
    return;
  gst_redis_connection_close (conn);
  gst_redis_settings_clear (&conn->settings);
  g_free (conn->description);
  g_free (conn);
}

const gchar *
gst_redis_connection_describe (GstRedisConnection * conn)
{
  return conn->description;
}

gboolean
gst_redis_connection_is_open (GstRedisConnection * conn)
{
  return conn->socket != NULL;
}

guint
gst_redis_connection_get_pending (GstRedisConnection * conn)
{
  return conn->pending;
}

guint64
gst_redis_connection_get_bytes_received (GstRedisConnection * conn)
{
  return conn->bytes_received;
}

guint64
gst_redis_connection_get_bytes_sent (GstRedisConnection * conn)
{
  return conn->bytes_sent;
}

void
gst_redis_connection_close (GstRedisConnection * conn)
{
  if (conn->socket) {
    GST_DEBUG ("closing connection to %s", conn->description);
    g_socket_close (conn->socket, NULL);
    g_clear_object (&conn->socket);
  }
  g_clear_pointer (&conn->reader, redisReaderFree);
  conn->pending = 0;
}

/* Waits for @condition until @deadline (monotonic, us). */
static gboolean
wait_socket (GstRedisConnection * conn, GIOCondition condition,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  gint64 remaining = deadline - g_get_monotonic_time ();
  GError *err = NULL;

  if (remaining <= 0)
    remaining = 0;
  if (!g_socket_condition_timed_wait (conn->socket, condition, remaining,
          cancellable, &err)) {
    g_propagate_error (error, err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
error_is_cancelled (const GError * err)
{
  return g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Turns an I/O failure into a GST_RESOURCE_ERROR and closes the connection,
 * unless it was a cancellation, which leaves the connection as it is. */
static void
fail_io (GstRedisConnection * conn, GError * err, GstResourceError code,
    const gchar * what, GError ** error)
{
  if (error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return;
  }
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_set_error (error, GST_RESOURCE_ERROR, code,
        "Timed out %s Redis at %s", what, conn->description);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR, code,
        "Lost the connection to Redis at %s while %s: %s",
        conn->description, what, err->message);
  }
  g_error_free (err);
  gst_redis_connection_close (conn);
}

static gboolean
send_vectors (GstRedisConnection * conn, GOutputVector * vectors,
    guint n_vectors, gsize total, GCancellable * cancellable, GError ** error)
{
  gint64 deadline = g_get_monotonic_time () +
      (gint64) conn->settings.timeout * G_TIME_SPAN_MILLISECOND;
  gsize sent = 0;
  GError *err = NULL;

  while (n_vectors > 0) {
    gssize n = g_socket_send_message (conn->socket, NULL, vectors, n_vectors,
        NULL, 0, 0, NULL, &err);

    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&err);
        if (wait_socket (conn, G_IO_OUT, deadline, cancellable, &err))
          continue;
      }
      /* A command cut in the middle leaves the protocol out of step: the
       * connection cannot be used for anything else. */
      if (sent > 0 && error_is_cancelled (err)) {
        g_clear_error (&err);
        g_set_error (&err, G_IO_ERROR, G_IO_ERROR_CANCELLED,
            "Cancelled in the middle of a command");
        gst_redis_connection_close (conn);
        g_propagate_error (error, err);
        return FALSE;
      }
      fail_io (conn, err, GST_RESOURCE_ERROR_WRITE, "sending to", error);
      return FALSE;
    }

    sent += n;
    conn->bytes_sent += n;
    while (n_vectors > 0 && (gsize) n >= vectors->size) {
      n -= vectors->size;
      vectors++;
      n_vectors--;
    }
    if (n_vectors > 0 && n > 0) {
      vectors->buffer = (const guint8 *) vectors->buffer + n;
      vectors->size -= n;
    }
  }
  g_assert (sent == total);
  return TRUE;
}

gboolean
gst_redis_connection_send (GstRedisConnection * conn, GstRedisCommand * cmd,
    GCancellable * cancellable, GError ** error)
{
  GOutputVector stack_vectors[16];
  GOutputVector *vectors = stack_vectors;
  gchar head[32];
  guint i, n_vectors = cmd->segments->len + 1;
  gsize total;
  gboolean ret;

  if (conn->socket == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Not connected to Redis at %s", conn->description);
    return FALSE;
  }

  if (n_vectors > G_N_ELEMENTS (stack_vectors))
    vectors = g_new (GOutputVector, n_vectors);

  vectors[0].buffer = head;
  vectors[0].size = g_snprintf (head, sizeof (head), "*%u\r\n", cmd->argc);
  total = vectors[0].size;
  for (i = 0; i < cmd->segments->len; i++) {
    const Segment *seg = &g_array_index (cmd->segments, Segment, i);

    vectors[i + 1].buffer = seg->ref ? seg->ref : cmd->bytes->data +
        seg->offset;
    vectors[i + 1].size = seg->len;
    total += seg->len;
  }

  ret = send_vectors (conn, vectors, n_vectors, total, cancellable, error);
  if (ret)
    conn->pending++;

  if (vectors != stack_vectors)
    g_free (vectors);
  return ret;
}

redisReply *
gst_redis_connection_read_reply (GstRedisConnection * conn,
    guint extra_timeout_ms, GCancellable * cancellable, GError ** error)
{
  gint64 deadline = g_get_monotonic_time () +
      ((gint64) conn->settings.timeout + extra_timeout_ms) *
      G_TIME_SPAN_MILLISECOND;
  GError *err = NULL;

  if (conn->socket == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Not connected to Redis at %s", conn->description);
    return NULL;
  }

  for (;;) {
    void *reply = NULL;
    gssize n;

    if (redisReaderGetReply (conn->reader, &reply) != REDIS_OK) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Could not parse the reply from Redis at %s: %s",
          conn->description, conn->reader->errstr);
      gst_redis_connection_close (conn);
      return NULL;
    }
    if (reply) {
      if (conn->pending > 0)
        conn->pending--;
      return reply;
    }

    /* Receive straight into the reader's own buffer rather than into one of
     * ours that redisReaderFeed () would copy from: one copy less per
     * frame. The buffer keeps its size between replies (maxbuf = 0). */
    {
      redisReader *r = conn->reader;
      sds grown = sdsMakeRoomFor (r->buf, READ_CHUNK);

      if (grown == NULL) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            "Out of memory reading a reply from Redis at %s",
            conn->description);
        gst_redis_connection_close (conn);
        return NULL;
      }
      r->buf = grown;
      n = g_socket_receive (conn->socket, r->buf + sdslen (r->buf),
          MIN (sdsavail (r->buf), G_MAXINT), NULL, &err);
      if (n > 0) {
        conn->bytes_received += n;
        sdsIncrLen (r->buf, (int) n);
        r->len = sdslen (r->buf);
        continue;
      }
    }
    if (n == 0) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Redis at %s closed the connection", conn->description);
      gst_redis_connection_close (conn);
      return NULL;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      if (wait_socket (conn, G_IO_IN, deadline, cancellable, &err))
        continue;
    }
    fail_io (conn, err, GST_RESOURCE_ERROR_READ, "waiting for a reply from",
        error);
    return NULL;
  }
}

redisReply *
gst_redis_connection_call_command (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error)
{
  /* Replies still owed to earlier commands come first. */
  while (conn->pending > 0) {
    redisReply *stale = gst_redis_connection_read_reply (conn, 0,
        cancellable, error);

    if (stale == NULL)
      return NULL;
    freeReplyObject (stale);
  }
  if (!gst_redis_connection_send (conn, cmd, cancellable, error))
    return NULL;
  return gst_redis_connection_read_reply (conn, 0, cancellable, error);
}

redisReply *
gst_redis_connection_call (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * first_arg, ...)
{
  GstRedisCommand cmd;
  redisReply *reply;
  const gchar *arg;
  va_list args;

  gst_redis_command_init (&cmd);
  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const gchar *))
      gst_redis_command_add (&cmd, arg);
  va_end (args);

  reply = gst_redis_connection_call_command (conn, &cmd, cancellable, error);
  gst_redis_command_clear (&cmd);
  return reply;
}

gboolean
gst_redis_reply_is_error (const redisReply * reply, const gchar * prefix)
{
  if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
    return FALSE;
  if (prefix == NULL)
    return TRUE;
  return g_str_has_prefix (reply->str, prefix);
}

static GSocket *
connect_address (GSocketAddress * address, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  GSocket *socket;
  GError *err = NULL;

  socket = g_socket_new (g_socket_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);

  if (!g_socket_connect (socket, address, cancellable, &err)) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PENDING))
      goto failed;
    g_clear_error (&err);
    {
      gint64 remaining = MAX (deadline - g_get_monotonic_time (), 0);

      if (!g_socket_condition_timed_wait (socket, G_IO_OUT, remaining,
              cancellable, &err))
        goto failed;
    }
    if (!g_socket_check_connect_result (socket, &err))
      goto failed;
  }

  if (g_socket_address_get_family (address) != G_SOCKET_FAMILY_UNIX) {
    /* Frames go out as soon as they are written. */
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  }
  return socket;

failed:
  g_propagate_error (error, err);
  g_socket_close (socket, NULL);
  g_object_unref (socket);
  return NULL;
}

static gboolean
connection_authenticate (GstRedisConnection * conn, GCancellable * cancellable,
    GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  g_autoptr (redisReply) reply = NULL;

  if (s->password && *s->password) {
    if (s->username && *s->username)
      reply = gst_redis_connection_call (conn, cancellable, error, "AUTH",
          s->username, s->password, NULL);
    else
      reply = gst_redis_connection_call (conn, cancellable, error, "AUTH",
          s->password, NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == REDIS_REPLY_ERROR) {
      /* The reply is Redis's own text (WRONGPASS ...), which never echoes
       * the password. */
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s refused the credentials of user \"%s\" (%s); check "
          "the username and password properties", conn->description,
          s->username && *s->username ? s->username : "default", reply->str);
      return FALSE;
    }
    g_clear_pointer (&reply, freeReplyObject);
  }

  /* A PING tells a server that wants a password from one that does not,
   * before the first real command. */
  reply = gst_redis_connection_call (conn, cancellable, error, "PING", NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == REDIS_REPLY_ERROR) {
    if (g_str_has_prefix (reply->str, "NOAUTH")) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s requires authentication (%s); set the password "
          "property (and username for an ACL user)", conn->description,
          reply->str);
    } else if (g_str_has_prefix (reply->str, "NOPERM")) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s does not let this user run PING (%s); the elements "
          "need +ping, see docs/security.md", conn->description, reply->str);
    } else {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Redis at %s is not ready (%s)",
          conn->description, reply->str);
    }
    return FALSE;
  }
  g_clear_pointer (&reply, freeReplyObject);

  if (s->db != 0) {
    gchar db[16];

    g_snprintf (db, sizeof (db), "%u", s->db);
    reply = gst_redis_connection_call (conn, cancellable, error, "SELECT", db,
        NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == REDIS_REPLY_ERROR) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Redis at %s cannot select database %u: %s", conn->description,
          s->db, reply->str);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
gst_redis_connection_open (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  gint64 deadline = g_get_monotonic_time () +
      (gint64) s->connect_timeout * G_TIME_SPAN_MILLISECOND;
  GError *err = NULL;
  guint saved_timeout;
  gboolean ok;

  gst_redis_connection_close (conn);

  if (s->socket_path && *s->socket_path) {
    GSocketAddress *addr = g_unix_socket_address_new (s->socket_path);

    conn->socket = connect_address (addr, deadline, cancellable, &err);
    g_object_unref (addr);
  } else {
    GResolver *resolver = g_resolver_get_default ();
    GList *addresses, *l;

    addresses = g_resolver_lookup_by_name (resolver, s->host, cancellable,
        &err);
    g_object_unref (resolver);
    for (l = addresses; l && conn->socket == NULL; l = l->next) {
      GSocketAddress *addr = g_inet_socket_address_new (l->data, s->port);

      g_clear_error (&err);
      conn->socket = connect_address (addr, deadline, cancellable, &err);
      g_object_unref (addr);
    }
    g_resolver_free_addresses (addresses);
  }

  if (conn->socket == NULL) {
    if (err && error_is_cancelled (err)) {
      g_propagate_error (error, err);
      return FALSE;
    }
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "Could not connect to Redis at %s: %s. Is redis-server running "
        "there?", conn->description, err ? err->message : "no address");
    g_clear_error (&err);
    return FALSE;
  }

  conn->reader = redisReaderCreate ();
  /* Keep the reader's buffer between replies instead of freeing it after
   * each frame and growing it again for the next one. */
  conn->reader->maxbuf = 0;
  conn->pending = 0;

  /* The handshake shares the connect deadline. */
  saved_timeout = conn->settings.timeout;
  conn->settings.timeout = MAX (1,
      (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND);
  ok = connection_authenticate (conn, cancellable, error);
  conn->settings.timeout = saved_timeout;
  if (!ok) {
    gst_redis_connection_close (conn);
    return FALSE;
  }

  GST_INFO ("connected to Redis at %s", conn->description);
  return TRUE;
}

void
gst_redis_element_post (GstElement * element, GstMessageType type,
    const GError * err, const GstRedisSettings * settings, const gchar * file,
    const gchar * function, gint line)
{
  GstStructure *details;
  gchar *server = gst_redis_settings_describe (settings);
  gint code = err->domain == GST_RESOURCE_ERROR ? err->code :
      GST_RESOURCE_ERROR_READ;

  details = gst_structure_new ("details", "server", G_TYPE_STRING, server,
      "stream", G_TYPE_STRING, settings->stream, NULL);
  gst_element_message_full_with_details (element, type, GST_RESOURCE_ERROR,
      code, g_strdup (err->message),
      g_strdup_printf ("server %s, stream \"%s\"", server, settings->stream),
      file, function, line, details);
  g_free (server);
}
