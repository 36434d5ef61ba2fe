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
 * unlock () interrupts it at once. Replies are parsed by GstRedisReader
 * (gstredisreader.c), which receives a frame's bulk string in place, into
 * GstRedisReply trees. Commands are written by GstRedisCommand, which
 * references a frame instead of copying it. hiredis is not used by the
 * plugin at all: the tests use it as an independent client (the fixture,
 * and the reference the reply reader is fuzzed against) and the transport
 * benchmark as the plain-hiredis hop.
 *
 * Errors are returned as GError in GST_RESOURCE_ERROR (or G_IO_ERROR_CANCELLED
 * when the wait was cancelled); the connection never posts messages itself,
 * the element does. After any error other than a cancelled wait the
 * connection is closed, because its protocol state is unknown. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisconnection.h"
#include "gstredisreader.h"

#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gio/gunixsocketaddress.h>

GST_DEBUG_CATEGORY_STATIC (redis_connection_debug);
#define GST_CAT_DEFAULT redis_connection_debug

/* Unix socket paths longer than this do not fit in sockaddr_un. */
#define MAX_SOCKET_PATH 107

/* Redirections followed by gst_redis_connection_call () for one command. */
#define MAX_REDIRECTS 5
/* The number of hash slots of a Redis Cluster. */
#define CLUSTER_SLOTS 16384

typedef enum
{
  MODE_STANDALONE,
  MODE_CLUSTER,
  MODE_SENTINEL,
} ConnectionMode;

/* A node address, from the settings, a slot map or a redirection. */
typedef struct
{
  gchar *host;
  guint port;
} NodeAddr;

struct _GstRedisConnection
{
  GstRedisSettings settings;
  gchar *description;

  GSocket *socket;
  GstRedisReader *reader;
  /* longer bulk strings are dropped by the reader */
  guint64 max_bulk;
  guint pending;
  /* open () finished: replies are checked for redirections */
  gboolean ready;

  /* how the server was found, and the node in use */
  ConnectionMode mode;
  gchar *node_host;
  guint node_port;
  /* Redis Cluster: the hash slot of the stream key, every node of the last
   * slot map (NodeAddr, to find the cluster again after a failover) */
  guint slot;
  GArray *known_nodes;
  /* a MOVED or ASK to follow at the next open () */
  NodeAddr redirect;
  gboolean redirect_ask;
  gboolean redirected;
  /* after ASK: every command is preceded by ASKING, whose +OK is dropped */
  gboolean asking;
  gboolean asking_reply_next;
  /* the last close was the server's doing (EOF, reset, broken pipe) */
  gboolean closed_by_peer;
  /* Sentinel: NodeAddr of each sentinel */
  GArray *sentinels;

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
  settings->sentinels = g_strdup (GST_REDIS_DEFAULT_SENTINELS);
  settings->master_name = g_strdup (GST_REDIS_DEFAULT_MASTER_NAME);
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
  g_clear_pointer (&settings->sentinels, g_free);
  g_clear_pointer (&settings->master_name, g_free);
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
  dest->sentinels = g_strdup (src->sentinels);
  dest->master_name = g_strdup (src->master_name);
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
          "TCP port of the Redis server (1-65535; checked when the element "
          "starts, so that a wrong value is an error, not the default)", 0,
          G_MAXINT, GST_REDIS_DEFAULT_PORT, flags));
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
  g_object_class_install_property (klass, GST_REDIS_PROP_SENTINELS,
      g_param_spec_string ("sentinels", "Sentinels",
          "Comma-separated host:port list of Redis Sentinels to ask for the "
          "address of master-name; when set, host and port are not used",
          GST_REDIS_DEFAULT_SENTINELS, flags));
  g_object_class_install_property (klass, GST_REDIS_PROP_MASTER_NAME,
      g_param_spec_string ("master-name", "Master Name",
          "Name of the master the sentinels monitor (sentinel monitor "
          "<name> ...); needed with sentinels", GST_REDIS_DEFAULT_MASTER_NAME,
          flags));
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
    case GST_REDIS_PROP_SENTINELS:
      replace_string (&settings->sentinels, value);
      break;
    case GST_REDIS_PROP_MASTER_NAME:
      replace_string (&settings->master_name, value);
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
    case GST_REDIS_PROP_SENTINELS:
      g_value_set_string (value, settings->sentinels);
      break;
    case GST_REDIS_PROP_MASTER_NAME:
      g_value_set_string (value, settings->master_name);
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

/* Splits "host:port" (or "[v6]:port") into its parts; a missing port is
 * @default_port. */
static gboolean
parse_host_port (const gchar * text, guint default_port, gchar ** host,
    guint * port)
{
  const gchar *colon;
  guint64 p = default_port;
  gchar *end = NULL;

  text = text + strspn (text, " \t");
  if (*text == '[') {
    const gchar *close = strchr (text, ']');

    if (close == NULL || close == text + 1)
      return FALSE;
    *host = g_strndup (text + 1, close - text - 1);
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] != '\0' && colon == NULL)
      goto bad;
  } else {
    colon = strrchr (text, ':');
    *host = colon ? g_strndup (text, colon - text) : g_strdup (text);
    g_strstrip (*host);
  }
  if (colon) {
    p = g_ascii_strtoull (colon + 1, &end, 10);
    while (end && g_ascii_isspace (*end))
      end++;
    if (end == colon + 1 || (end && *end != '\0') || p == 0 || p > 65535)
      goto bad;
  }
  if (!name_is_valid (*host))
    goto bad;
  *port = (guint) p;
  return TRUE;

bad:
  g_clear_pointer (host, g_free);
  return FALSE;
}

static void
node_addr_clear (NodeAddr * addr)
{
  g_clear_pointer (&addr->host, g_free);
}

/* The sentinels property as an array of NodeAddr; NULL when one entry is
 * not a host:port. */
static GArray *
parse_sentinels (const gchar * list)
{
  GArray *addrs = g_array_new (FALSE, TRUE, sizeof (NodeAddr));
  gchar **parts = g_strsplit (list, ",", -1);
  guint i;

  g_array_set_clear_func (addrs, (GDestroyNotify) node_addr_clear);
  for (i = 0; parts[i]; i++) {
    NodeAddr addr = { NULL, 0 };

    if (g_strstrip (parts[i])[0] == '\0')
      continue;
    if (!parse_host_port (parts[i], 26379, &addr.host, &addr.port)) {
      g_array_unref (addrs);
      addrs = NULL;
      break;
    }
    g_array_append_val (addrs, addr);
  }
  g_strfreev (parts);
  if (addrs && addrs->len == 0)
    g_clear_pointer (&addrs, g_array_unref);
  return addrs;
}

static gboolean
settings_use_sentinels (const GstRedisSettings * s)
{
  return s->sentinels && *s->sentinels;
}

gboolean
gst_redis_settings_validate (const GstRedisSettings * s, GError ** error)
{
  if (settings_use_sentinels (s)) {
    GArray *addrs = parse_sentinels (s->sentinels);

    if (addrs == NULL) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "The sentinels \"%s\" are not a comma-separated list of host:port",
          s->sentinels);
      return FALSE;
    }
    g_array_unref (addrs);
    if (!name_is_valid (s->master_name)) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "sentinels are set but master-name is not; set it to the name the "
          "sentinels monitor (sentinel monitor <name> ...)");
      return FALSE;
    }
    if (s->socket_path && *s->socket_path) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "socket-path and sentinels cannot be used together");
      return FALSE;
    }
  } else if (s->socket_path && *s->socket_path) {
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
  if ((s->socket_path == NULL || *s->socket_path == '\0') &&
      (s->port == 0 || s->port > 65535)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The port %u is not a TCP port: set port to 1-65535 (Redis listens "
        "on 6379 by default)", s->port);
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
  if (settings_use_sentinels (s))
    return g_strdup_printf ("master \"%s\" of sentinels %s db %u",
        s->master_name ? s->master_name : "", s->sentinels, s->db);
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

/* The error an element posts when an outage lasted longer than its limit:
 * @code (GST_RESOURCE_ERROR_READ for a source, _WRITE for a sink) whatever
 * the last attempt ran into, unless Redis refused the credentials or the
 * settings, which an application tells apart. Takes @last. */
void
gst_redis_outage_give_up (GstRedisOutage * outage, GError * last,
    GstResourceError code, GError ** error)
{
  if (last->domain == GST_RESOURCE_ERROR &&
      (last->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED ||
          last->code == GST_RESOURCE_ERROR_SETTINGS))
    code = last->code;
  g_set_error (error, GST_RESOURCE_ERROR, code, "Gave up reconnecting after "
      "%u ms: %s", outage->limit_ms, last->message);
  g_error_free (last);
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

/* Appends the arguments of @args to @cmd: small ones are copied, referenced
 * ones stay references. */
void
gst_redis_command_append (GstRedisCommand * cmd, const GstRedisCommand * args)
{
  guint i;

  for (i = 0; i < args->segments->len; i++) {
    const Segment *seg = &g_array_index (args->segments, Segment, i);

    if (seg->ref != NULL) {
      g_array_append_val (cmd->segments, *seg);
      cmd->size += seg->len;
    } else {
      command_append_bytes (cmd, args->bytes->data + seg->offset, seg->len);
    }
  }
  cmd->argc += args->argc;
}

/* Connection */

/* The description used in messages ("Redis at %s"): the node in use, and
 * what it is to us. */
static void
connection_describe_node (GstRedisConnection * conn)
{
  const GstRedisSettings *s = &conn->settings;
  gchar *node;

  g_free (conn->description);
  if (conn->node_host == NULL) {
    conn->description = gst_redis_settings_describe (s);
    return;
  }
  node = strchr (conn->node_host, ':') ?
      g_strdup_printf ("[%s]:%u", conn->node_host, conn->node_port) :
      g_strdup_printf ("%s:%u", conn->node_host, conn->node_port);
  switch (conn->mode) {
    case MODE_CLUSTER:
      conn->description = g_strdup_printf ("%s (cluster node of slot %u)",
          node, conn->slot);
      break;
    case MODE_SENTINEL:
      conn->description = g_strdup_printf ("%s (master \"%s\") db %u", node,
          s->master_name, s->db);
      break;
    default:
      conn->description = g_strdup_printf ("%s db %u", node, s->db);
      break;
  }
  g_free (node);
}

static void
connection_set_node (GstRedisConnection * conn, const gchar * host, guint port)
{
  if (host != conn->node_host) {
    g_free (conn->node_host);
    conn->node_host = g_strdup (host);
  }
  conn->node_port = port;
  connection_describe_node (conn);
}

GstRedisConnection *
gst_redis_connection_new (const GstRedisSettings * settings)
{
  GstRedisConnection *conn;

  ensure_debug_category ();

  conn = g_new0 (GstRedisConnection, 1);
  gst_redis_settings_init (&conn->settings);
  gst_redis_settings_copy (&conn->settings, settings);
  conn->known_nodes = g_array_new (FALSE, TRUE, sizeof (NodeAddr));
  g_array_set_clear_func (conn->known_nodes, (GDestroyNotify) node_addr_clear);
  conn->max_bulk = GST_REDIS_READER_MAX_BULK;
  if (settings_use_sentinels (settings)) {
    conn->mode = MODE_SENTINEL;
    conn->sentinels = parse_sentinels (settings->sentinels);
  }
  conn->slot = gst_redis_key_hash_slot (settings->stream ? settings->stream :
      "", settings->stream ? strlen (settings->stream) : 0);
  if (!settings_use_sentinels (settings) && !(settings->socket_path
          && *settings->socket_path))
    connection_set_node (conn, settings->host, settings->port);
  else
    connection_describe_node (conn);
  return conn;
}

/* Values (bulk strings) longer than @max bytes in a reply are not read into
 * memory: the reply has a GST_REDIS_REPLY_ERROR element in their place, whose
 * text says why. */
void
gst_redis_connection_set_max_bulk (GstRedisConnection * conn, guint64 max)
{
  conn->max_bulk = max;
  if (conn->reader)
    gst_redis_reader_set_max_bulk (conn->reader, max);
}

void
gst_redis_connection_free (GstRedisConnection * conn)
{
  if (conn == NULL)
    return;
  gst_redis_connection_close (conn);
  gst_redis_settings_clear (&conn->settings);
  g_free (conn->description);
  g_free (conn->node_host);
  g_array_unref (conn->known_nodes);
  g_clear_pointer (&conn->sentinels, g_array_unref);
  node_addr_clear (&conn->redirect);
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

/* TRUE when the connection was closed because Redis sent the last command
 * elsewhere: MOVED or ASK (Redis Cluster), or READONLY (a master that became
 * a replica). The next gst_redis_connection_open () goes where it was sent,
 * and the command can be sent again there at once. */
gboolean
gst_redis_connection_is_redirected (GstRedisConnection * conn)
{
  return conn->redirected;
}

/* TRUE when the connection was closed because the server had closed it: an
 * end of file, a reset or a broken pipe, not a timeout. Redis closes
 * connections it considers idle (`timeout`), killed (CLIENT KILL) or those
 * of the process that exited (a restart); a new connection may well work at
 * once. */
gboolean
gst_redis_connection_closed_by_peer (GstRedisConnection * conn)
{
  return conn->closed_by_peer;
}

/* Checks, without waiting, a connection that owes no reply: if the socket
 * is readable or hung up, the server closed it while it was idle (or sent
 * something nobody asked for). The connection is then closed, and TRUE
 * returned, so that the caller opens a new one before sending a command
 * that would otherwise be lost with it. */
gboolean
gst_redis_connection_check_idle_closed (GstRedisConnection * conn)
{
  GIOCondition cond;

  if (conn->socket == NULL || conn->pending > 0)
    return FALSE;
  cond = g_socket_condition_check (conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR);
  if (cond == 0)
    return FALSE;
  GST_INFO ("Redis at %s closed the idle connection", conn->description);
  gst_redis_connection_close (conn);
  conn->closed_by_peer = TRUE;
  return TRUE;
}

gboolean
gst_redis_connection_can_read (GstRedisConnection * conn)
{
  if (conn->socket == NULL)
    return FALSE;
  if (conn->reader && gst_redis_reader_has_input (conn->reader))
    return TRUE;
  return g_socket_condition_check (conn->socket,
      G_IO_IN | G_IO_HUP | G_IO_ERR) != 0;
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
  g_clear_pointer (&conn->reader, gst_redis_reader_free);
  conn->pending = 0;
  conn->ready = FALSE;
  conn->asking = FALSE;
}

/* Hash slots: CRC16-CCITT (XMODEM), as in the Redis Cluster specification,
 * of the key or of the part between the first '{' and the next '}' when
 * that part is not empty. */
static guint16
crc16_xmodem (const guchar * p, gsize len)
{
  guint16 crc = 0;
  gint i;

  while (len--) {
    crc ^= (guint16) (*p++) << 8;
    for (i = 0; i < 8; i++)
      crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : crc << 1;
  }
  return crc;
}

guint
gst_redis_key_hash_slot (const gchar * key, gsize len)
{
  const gchar *open = memchr (key, '{', len);

  if (open) {
    const gchar *close = memchr (open + 1, '}', len - (open + 1 - key));

    if (close && close > open + 1)
      return crc16_xmodem ((const guchar *) open + 1, close - open - 1) %
          CLUSTER_SLOTS;
  }
  return crc16_xmodem ((const guchar *) key, len) % CLUSTER_SLOTS;
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
  gboolean closed_by_peer;

  if (error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return;
  }
  closed_by_peer = g_error_matches (err, G_IO_ERROR,
      G_IO_ERROR_CONNECTION_CLOSED) || g_error_matches (err, G_IO_ERROR,
      G_IO_ERROR_NOT_CONNECTED);
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
  conn->closed_by_peer = closed_by_peer;
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

/* Sent before each command after an ASK redirection: the importing node
 * serves the one next command for the slot it is importing. */
static const gchar asking_command[] = "*1\r\n$6\r\nASKING\r\n";

gboolean
gst_redis_connection_send (GstRedisConnection * conn, GstRedisCommand * cmd,
    GCancellable * cancellable, GError ** error)
{
  GOutputVector stack_vectors[16];
  GOutputVector *vectors = stack_vectors;
  gchar head[32];
  guint i, first, n_vectors = cmd->segments->len + 1;
  gsize total = 0;
  gboolean ret;

  if (conn->socket == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Not connected to Redis at %s", conn->description);
    return FALSE;
  }

  first = conn->asking ? 1 : 0;
  n_vectors += first;
  if (n_vectors > G_N_ELEMENTS (stack_vectors))
    vectors = g_new (GOutputVector, n_vectors);

  if (conn->asking) {
    vectors[0].buffer = asking_command;
    vectors[0].size = sizeof (asking_command) - 1;
    total += vectors[0].size;
  }
  vectors[first].buffer = head;
  vectors[first].size = g_snprintf (head, sizeof (head), "*%u\r\n", cmd->argc);
  total += vectors[first].size;
  for (i = 0; i < cmd->segments->len; i++) {
    const Segment *seg = &g_array_index (cmd->segments, Segment, i);

    vectors[first + i + 1].buffer = seg->ref ? seg->ref :
        cmd->bytes->data + seg->offset;
    vectors[first + i + 1].size = seg->len;
    total += seg->len;
  }

  ret = send_vectors (conn, vectors, n_vectors, total, cancellable, error);
  if (ret)
    conn->pending++;

  if (vectors != stack_vectors)
    g_free (vectors);
  return ret;
}

/* Error replies that mean "not here" or "not now" rather than "no": the
 * command went to a node that does not serve the stream (any more), or the
 * node cannot serve it at the moment. The connection is closed as if it had
 * been lost, so that the element reconnects (open () goes where Redis
 * pointed); MOVED, ASK and READONLY also mark it redirected, so that a
 * command can be sent again at once. Returns TRUE (with @error set) when
 * @reply was one of these. */
static gboolean
connection_check_redirect (GstRedisConnection * conn,
    const GstRedisReply * reply, GError ** error)
{
  /* Not UNBLOCKED: Redis ends a blocked XREADGROUP with it when the key was
   * deleted, replaced or migrated, and the reader's next read tells which
   * (NOGROUP, WRONGTYPE, or an ASK/MOVED handled here). */
  static const gchar *const transient[] = {
    "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN",
  };
  const gchar *stream = conn->settings.stream;
  guint i;

  if (reply->type != GST_REDIS_REPLY_ERROR || reply->str == NULL)
    return FALSE;

  if (g_str_has_prefix (reply->str, "MOVED ") ||
      g_str_has_prefix (reply->str, "ASK ")) {
    gboolean ask = reply->str[0] == 'A';
    gchar **parts = g_strsplit (reply->str, " ", 4);
    gchar *host = NULL;
    guint port = 0;

    /* "MOVED <slot> <host>:<port>"; an empty host is the node itself */
    if (g_strv_length (parts) >= 3) {
      if (parts[2][0] == ':') {
        guint64 p = g_ascii_strtoull (parts[2] + 1, NULL, 10);

        if (p > 0 && p <= 65535 && conn->node_host) {
          host = g_strdup (conn->node_host);
          port = (guint) p;
        }
      } else if (parse_host_port (parts[2], 0, &host, &port) && port == 0) {
        g_clear_pointer (&host, g_free);
      }
    }
    if (host == NULL) {
      GST_WARNING ("%s: cannot follow \"%s\"", conn->description, reply->str);
      g_strfreev (parts);
      return FALSE;
    }
    GST_INFO ("%s: stream \"%s\" (slot %s) %s %s:%u", conn->description,
        stream, parts[1], ask ? "is being migrated, asked to go to" :
        "moved to", host, port);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s redirected stream \"%s\" to %s:%u (%s); reconnecting "
        "there", conn->description, stream, host, port, ask ? "ASK" : "MOVED");
    node_addr_clear (&conn->redirect);
    conn->redirect.host = host;
    conn->redirect.port = port;
    conn->redirect_ask = ask;
    conn->redirected = TRUE;
    if (conn->mode != MODE_SENTINEL)
      conn->mode = MODE_CLUSTER;
    g_strfreev (parts);
    gst_redis_connection_close (conn);
    return TRUE;
  }

  if (g_str_has_prefix (reply->str, "READONLY")) {
    GST_INFO ("%s is a read-only replica now: %s", conn->description,
        reply->str);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s became a read-only replica (%s); looking for the "
        "master again", conn->description, reply->str);
    conn->redirected = TRUE;
    gst_redis_connection_close (conn);
    return TRUE;
  }

  for (i = 0; i < G_N_ELEMENTS (transient); i++) {
    if (g_str_has_prefix (reply->str, transient[i])) {
      GST_INFO ("%s cannot serve stream \"%s\" now: %s", conn->description,
          stream, reply->str);
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Redis at %s cannot serve stream \"%s\" right now (%s); "
          "reconnecting", conn->description, stream, reply->str);
      gst_redis_connection_close (conn);
      return TRUE;
    }
  }
  return FALSE;
}

GstRedisReply *
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
    GstRedisReply *reply = NULL;
    gssize n;

    if (!gst_redis_reader_get_reply (conn->reader, &reply, &err)) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Could not parse the reply from Redis at %s: %s",
          conn->description, err->message);
      g_clear_error (&err);
      gst_redis_connection_close (conn);
      return NULL;
    }
    if (reply) {
      if (conn->asking) {
        /* replies alternate: ASKING's +OK, then the command's */
        if (conn->asking_reply_next) {
          conn->asking_reply_next = FALSE;
          gst_redis_reply_free (reply);
          continue;
        }
        conn->asking_reply_next = TRUE;
      }
      if (conn->pending > 0)
        conn->pending--;
      if (conn->ready && connection_check_redirect (conn, reply, error)) {
        gst_redis_reply_free (reply);
        return NULL;
      }
      return reply;
    }

    /* Receive where the reader wants the bytes: a frame's bulk string
     * straight into the memory that becomes the buffer's. */
    {
      gsize space;
      guint8 *dest = gst_redis_reader_get_space (conn->reader, &space);

      n = g_socket_receive (conn->socket, (gchar *) dest,
          MIN (space, G_MAXINT), NULL, &err);
      if (n > 0) {
        conn->bytes_received += n;
        gst_redis_reader_advance (conn->reader, n);
        continue;
      }
    }
    if (n == 0) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Redis at %s closed the connection", conn->description);
      gst_redis_connection_close (conn);
      conn->closed_by_peer = TRUE;
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

/* One command and its reply. A redirection (MOVED, ASK, READONLY) is
 * followed here, by reconnecting and sending the command again: nothing
 * else is in flight on the connection at that point, so this is safe. */
GstRedisReply *
gst_redis_connection_call_command (GstRedisConnection * conn,
    GstRedisCommand * cmd, GCancellable * cancellable, GError ** error)
{
  guint redirects = 0;

  for (;;) {
    GstRedisReply *reply = NULL;
    GError *err = NULL;

    /* Replies still owed to earlier commands come first. */
    while (conn->pending > 0) {
      GstRedisReply *stale = gst_redis_connection_read_reply (conn, 0,
          cancellable, &err);

      if (stale == NULL)
        break;
      gst_redis_reply_free (stale);
    }
    if (err == NULL && gst_redis_connection_send (conn, cmd, cancellable, &err))
      reply = gst_redis_connection_read_reply (conn, 0, cancellable, &err);
    if (reply)
      return reply;

    if (conn->redirected && !error_is_cancelled (err) &&
        redirects++ < MAX_REDIRECTS) {
      GST_DEBUG ("following: %s", err->message);
      g_clear_error (&err);
      if (!gst_redis_connection_open (conn, cancellable, error))
        return NULL;
      continue;
    }
    g_propagate_error (error, err);
    return NULL;
  }
}

GstRedisReply *
gst_redis_connection_call (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * first_arg, ...)
{
  GstRedisCommand cmd;
  GstRedisReply *reply;
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
gst_redis_reply_is_error (const GstRedisReply * reply, const gchar * prefix)
{
  if (reply == NULL || reply->type != GST_REDIS_REPLY_ERROR)
    return FALSE;
  if (prefix == NULL)
    return TRUE;
  return g_str_has_prefix (reply->str, prefix);
}

/* Requested send buffer of a unix socket (the kernel doubles it for its
 * bookkeeping and caps it at net.core.wmem_max). */
#define UNIX_SNDBUF (8 * 1024 * 1024)

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
  } else {
    /* A unix stream socket holds at most SO_SNDBUF bytes in flight
     * (net.core.wmem_default, 208 KiB): a 460 KB XADD would go out in
     * several writes, each waiting for redis-server to drain the last.
     * Ask for room for a whole frame; the kernel caps the request at
     * net.core.wmem_max without an error. */
    g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, UNIX_SNDBUF, NULL);
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
  g_autoptr (GstRedisReply) reply = NULL;

  if (s->password && *s->password) {
    if (s->username && *s->username)
      reply = gst_redis_connection_call (conn, cancellable, error, "AUTH",
          s->username, s->password, NULL);
    else
      reply = gst_redis_connection_call (conn, cancellable, error, "AUTH",
          s->password, NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == GST_REDIS_REPLY_ERROR) {
      /* The reply is Redis's own text (WRONGPASS ...), which never echoes
       * the password. */
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s refused the credentials of user \"%s\" (%s); check "
          "the username and password properties", conn->description,
          s->username && *s->username ? s->username : "default", reply->str);
      return FALSE;
    }
    g_clear_pointer (&reply, gst_redis_reply_free);
  }

  /* A PING tells a server that wants a password from one that does not,
   * before the first real command. */
  reply = gst_redis_connection_call (conn, cancellable, error, "PING", NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
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
  g_clear_pointer (&reply, gst_redis_reply_free);

  if (s->db != 0) {
    gchar db[16];

    g_snprintf (db, sizeof (db), "%u", s->db);
    reply = gst_redis_connection_call (conn, cancellable, error, "SELECT", db,
        NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == GST_REDIS_REPLY_ERROR) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Redis at %s cannot select database %u: %s", conn->description,
          s->db, reply->str);
      return FALSE;
    }
  }
  return TRUE;
}

/* Every reply while opening shares the connect deadline. */
static void
connection_use_deadline (GstRedisConnection * conn, gint64 deadline)
{
  conn->settings.timeout = MAX (1,
      (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND);
}

/* Connects to @host:@port (or the socket path when @host is NULL), without
 * a handshake. */
static gboolean
connection_connect (GstRedisConnection * conn, const gchar * host, guint port,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  GError *err = NULL;

  gst_redis_connection_close (conn);
  if (host)
    connection_set_node (conn, host, port);

  if (host == NULL) {
    GSocketAddress *addr = g_unix_socket_address_new (s->socket_path);

    conn->socket = connect_address (addr, deadline, cancellable, &err);
    g_object_unref (addr);
  } else {
    GResolver *resolver = g_resolver_get_default ();
    GList *addresses, *l;

    addresses = g_resolver_lookup_by_name (resolver, host, cancellable, &err);
    g_object_unref (resolver);
    for (l = addresses; l && conn->socket == NULL; l = l->next) {
      GSocketAddress *addr = g_inet_socket_address_new (l->data, port);

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

  conn->reader = gst_redis_reader_new ();
  gst_redis_reader_set_max_bulk (conn->reader, conn->max_bulk);
  conn->pending = 0;
  return TRUE;
}

/* Connects to one node and logs in (AUTH, PING, SELECT). */
static gboolean
connection_open_node (GstRedisConnection * conn, const gchar * host,
    guint port, gint64 deadline, GCancellable * cancellable, GError ** error)
{
  if (!connection_connect (conn, host, port, deadline, cancellable, error))
    return FALSE;
  connection_use_deadline (conn, deadline);
  if (!connection_authenticate (conn, cancellable, error)) {
    gst_redis_connection_close (conn);
    return FALSE;
  }
  return TRUE;
}

static gboolean
node_addr_equal (const NodeAddr * a, const gchar * host, guint port)
{
  return a->port == port && g_strcmp0 (a->host, host) == 0;
}

static void
node_list_add (GArray * list, const gchar * host, guint port)
{
  NodeAddr addr;
  guint i;

  for (i = 0; i < list->len; i++) {
    if (node_addr_equal (&g_array_index (list, NodeAddr, i), host, port))
      return;
  }
  addr.host = g_strdup (host);
  addr.port = port;
  g_array_append_val (list, addr);
}

/* A node of a CLUSTER SLOTS range: [host, port, id, ...]; an empty host
 * (or "?") is the node that answered. */
static gboolean
slots_node (GstRedisConnection * conn, const GstRedisReply * node,
    const gchar ** host, guint * port)
{
  if (node->type != GST_REDIS_REPLY_ARRAY || node->elements < 2 ||
      node->element[0]->type != GST_REDIS_REPLY_STRING ||
      node->element[1]->type != GST_REDIS_REPLY_INTEGER ||
      node->element[1]->integer <= 0 || node->element[1]->integer > 65535)
    return FALSE;
  *host = node->element[0]->str;
  if (**host == '\0' || g_str_equal (*host, "?"))
    *host = conn->node_host;
  *port = (guint) node->element[1]->integer;
  return TRUE;
}

typedef enum
{
  DISCOVER_STANDALONE,
  DISCOVER_OWNER,
  DISCOVER_FAILED,
} DiscoverResult;

/* Asks the node just connected for the cluster's slot map (CLUSTER SLOTS,
 * which Redis 3 to 7 all answer). A server without cluster support answers
 * "ERR This instance has cluster support disabled": a standalone server.
 * Otherwise @owner is set to the master serving the stream's slot, and
 * every node of the map is remembered, to find the cluster again when this
 * one is gone. */
static DiscoverResult
connection_discover (GstRedisConnection * conn, NodeAddr * owner,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;
  gsize i, j;

  reply = gst_redis_connection_call (conn, cancellable, error, "CLUSTER",
      "SLOTS", NULL);
  if (reply == NULL)
    return DISCOVER_FAILED;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    if (g_str_has_prefix (reply->str, "NOPERM"))
      GST_INFO ("%s: this user may not run CLUSTER SLOTS (%s); using the "
          "node as it is, following MOVED and ASK if it is a cluster",
          conn->description, reply->str);
    else
      GST_DEBUG ("%s is not a cluster node: %s", conn->description, reply->str);
    return DISCOVER_STANDALONE;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "Redis at %s sent a CLUSTER SLOTS reply of unexpected shape",
        conn->description);
    gst_redis_connection_close (conn);
    return DISCOVER_FAILED;
  }

  conn->mode = MODE_CLUSTER;
  g_array_set_size (conn->known_nodes, 0);
  node_addr_clear (owner);
  for (i = 0; i < reply->elements; i++) {
    const GstRedisReply *range = reply->element[i];
    const gchar *host;
    guint port;

    if (range->type != GST_REDIS_REPLY_ARRAY || range->elements < 3 ||
        range->element[0]->type != GST_REDIS_REPLY_INTEGER ||
        range->element[1]->type != GST_REDIS_REPLY_INTEGER)
      continue;
    for (j = 2; j < range->elements; j++) {
      if (slots_node (conn, range->element[j], &host, &port))
        node_list_add (conn->known_nodes, host, port);
    }
    if (owner->host == NULL && range->element[0]->integer <= conn->slot &&
        conn->slot <= range->element[1]->integer &&
        slots_node (conn, range->element[2], &host, &port)) {
      owner->host = g_strdup (host);
      owner->port = port;
    }
  }
  if (owner->host == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "No node of the Redis Cluster at %s serves slot %u of stream \"%s\" "
        "(CLUSTERDOWN); assign the slot or wait for the failover",
        conn->description, conn->slot, conn->settings.stream);
    gst_redis_connection_close (conn);
    return DISCOVER_FAILED;
  }
  return DISCOVER_OWNER;
}

/* A node that thinks the cluster is down answers CLUSTERDOWN to every
 * command: not worth connecting to yet (a failover is on its way). */
static gboolean
connection_check_cluster_state (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;

  reply = gst_redis_connection_call (conn, cancellable, error, "CLUSTER",
      "INFO", NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_STRING
      || reply->type == GST_REDIS_REPLY_STATUS) {
    if (strstr (reply->str, "cluster_state:ok") == NULL) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE,
          "The Redis Cluster is down at %s (cluster_state is not ok); "
          "waiting for it to recover", conn->description);
      gst_redis_connection_close (conn);
      return FALSE;
    }
  }
  return TRUE;
}

/* Redis Cluster or standalone: asks the configured node, then every node of
 * the last slot map (the configured one may be the master that died), for
 * the slot map, and connects to the owner of the stream's slot. */
static gboolean
connection_open_discover (GstRedisConnection * conn, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  GArray *candidates = g_array_new (FALSE, TRUE, sizeof (NodeAddr));
  NodeAddr owner = { NULL, 0 };
  gchar *last_host = g_strdup (conn->node_host);
  guint last_port = conn->node_port, i;
  GError *err = NULL;
  gboolean ok = FALSE;

  g_array_set_clear_func (candidates, (GDestroyNotify) node_addr_clear);
  node_list_add (candidates, s->host, s->port);
  for (i = 0; i < conn->known_nodes->len; i++) {
    NodeAddr *n = &g_array_index (conn->known_nodes, NodeAddr, i);

    /* the node just lost goes last */
    if (!node_addr_equal (n, last_host, last_port))
      node_list_add (candidates, n->host, n->port);
  }
  if (conn->known_nodes->len > 0)
    node_list_add (candidates, last_host, last_port);

  for (i = 0; i < candidates->len && !ok; i++) {
    NodeAddr *c = &g_array_index (candidates, NodeAddr, i);

    g_clear_error (&err);
    if (!connection_open_node (conn, c->host, c->port, deadline, cancellable,
            &err)) {
      if (error_is_cancelled (err))
        break;
      GST_DEBUG ("%s", err->message);
      continue;
    }
    connection_use_deadline (conn, deadline);
    switch (connection_discover (conn, &owner, cancellable, &err)) {
      case DISCOVER_STANDALONE:
        conn->mode = MODE_STANDALONE;
        connection_describe_node (conn);
        ok = TRUE;
        break;
      case DISCOVER_OWNER:
        if (!node_addr_equal (&owner, conn->node_host, conn->node_port)) {
          GST_INFO ("stream \"%s\" (slot %u) is served by %s:%u",
              s->stream, conn->slot, owner.host, owner.port);
          if (!connection_open_node (conn, owner.host, owner.port, deadline,
                  cancellable, &err))
            break;
        } else {
          connection_describe_node (conn);
        }
        connection_use_deadline (conn, deadline);
        ok = connection_check_cluster_state (conn, cancellable, &err);
        break;
      case DISCOVER_FAILED:
        break;
    }
    /* The slot map named an owner that cannot be reached (a master that
     * died and is not replaced yet), or the cluster is down: asking other
     * nodes would give the same answer. Wait for the next attempt. */
    if (!ok && owner.host)
      break;
    if (!ok && err && error_is_cancelled (err))
      break;
  }

  node_addr_clear (&owner);
  g_free (last_host);
  g_array_unref (candidates);
  if (!ok)
    g_propagate_error (error, err);
  else
    g_clear_error (&err);
  return ok;
}

/* Redis Sentinel: each sentinel in turn is asked where the master is
 * (SENTINEL get-master-addr-by-name), until one names a node that is
 * reachable and says it is a master (ROLE). Sentinels are asked without
 * authentication. */
static gboolean
connection_open_sentinel (GstRedisConnection * conn, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  GArray *tried = g_array_new (FALSE, TRUE, sizeof (NodeAddr));
  GError *err = NULL;
  gboolean ok = FALSE;
  guint i;

  g_array_set_clear_func (tried, (GDestroyNotify) node_addr_clear);
  for (i = 0; i < conn->sentinels->len && !ok; i++) {
    NodeAddr *sentinel = &g_array_index (conn->sentinels, NodeAddr, i);
    g_autoptr (GstRedisReply) reply = NULL;
    gchar *host = NULL;
    guint64 port;

    g_clear_error (&err);
    conn->mode = MODE_STANDALONE;
    if (!connection_connect (conn, sentinel->host, sentinel->port, deadline,
            cancellable, &err)) {
      conn->mode = MODE_SENTINEL;
      if (error_is_cancelled (err))
        break;
      GST_DEBUG ("sentinel: %s", err->message);
      continue;
    }
    connection_use_deadline (conn, deadline);
    reply = gst_redis_connection_call (conn, cancellable, &err, "SENTINEL",
        "get-master-addr-by-name", s->master_name, NULL);
    gst_redis_connection_close (conn);
    conn->mode = MODE_SENTINEL;
    if (reply == NULL) {
      if (error_is_cancelled (err))
        break;
      continue;
    }
    if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != GST_REDIS_REPLY_STRING ||
        reply->element[1]->type != GST_REDIS_REPLY_STRING) {
      g_set_error (&err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE,
          "The sentinel at %s:%u does not know a master named \"%s\" (%s)",
          sentinel->host, sentinel->port, s->master_name,
          reply->type == GST_REDIS_REPLY_ERROR ? reply->str : "no address");
      GST_DEBUG ("%s", err->message);
      continue;
    }
    port = g_ascii_strtoull (reply->element[1]->str, NULL, 10);
    host = reply->element[0]->str;
    if (port == 0 || port > 65535)
      continue;
    if (tried->len > 0 && node_addr_equal (&g_array_index (tried, NodeAddr,
                tried->len - 1), host, port))
      continue;
    node_list_add (tried, host, port);

    if (!connection_open_node (conn, host, port, deadline, cancellable, &err)) {
      if (error_is_cancelled (err))
        break;
      continue;
    }
    g_clear_pointer (&reply, gst_redis_reply_free);
    connection_use_deadline (conn, deadline);
    reply = gst_redis_connection_call (conn, cancellable, &err, "ROLE", NULL);
    if (reply == NULL)
      continue;
    if (reply->type == GST_REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->type == GST_REDIS_REPLY_STRING &&
        !g_str_equal (reply->element[0]->str, "master")) {
      g_set_error (&err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE,
          "Redis at %s, named master by the sentinel at %s:%u, is a %s "
          "(failover in progress?)", conn->description, sentinel->host,
          sentinel->port, reply->element[0]->str);
      gst_redis_connection_close (conn);
      continue;
    }
    /* ROLE refused (NOPERM): trust the sentinel */
    GST_INFO ("sentinel %s:%u: master \"%s\" is at %s", sentinel->host,
        sentinel->port, s->master_name, conn->description);
    ok = TRUE;
  }

  g_array_unref (tried);
  if (ok) {
    g_clear_error (&err);
    return TRUE;
  }
  if (err && error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return FALSE;
  }
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "Could not find the master \"%s\" through the sentinels %s: %s",
      s->master_name, s->sentinels, err ? err->message : "no answer");
  g_clear_error (&err);
  g_clear_pointer (&conn->node_host, g_free);
  connection_describe_node (conn);
  return FALSE;
}

/* Opens the connection: to the configured server; in a Redis Cluster to the
 * node serving the stream's slot (or where the last MOVED or ASK pointed);
 * with sentinels to the master they name. Called again after the
 * connection was lost, it finds the server again the same way, so a
 * failover is followed. */
gboolean
gst_redis_connection_open (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &conn->settings;
  gint64 deadline = g_get_monotonic_time () +
      (gint64) s->connect_timeout * G_TIME_SPAN_MILLISECOND;
  guint saved_timeout = conn->settings.timeout;
  GError *err = NULL;
  gboolean ok;

  gst_redis_connection_close (conn);
  conn->redirected = FALSE;
  conn->closed_by_peer = FALSE;

  if (conn->mode == MODE_SENTINEL) {
    ok = connection_open_sentinel (conn, deadline, cancellable, error);
  } else if (s->socket_path && *s->socket_path) {
    /* A unix socket is a standalone server: redirections name TCP nodes */
    ok = connection_open_node (conn, NULL, 0, deadline, cancellable, error);
  } else if (conn->redirect.host) {
    NodeAddr target = conn->redirect;
    gboolean ask = conn->redirect_ask;

    conn->redirect.host = NULL;
    ok = connection_open_node (conn, target.host, target.port, deadline,
        cancellable, &err);
    if (ok) {
      /* ASK: this node serves the stream while its slot migrates here; each
       * command needs ASKING until the migration ends. */
      conn->asking = ask;
      conn->asking_reply_next = TRUE;
      GST_INFO ("followed %s to %s", ask ? "ASK" : "MOVED", conn->description);
    } else if (!error_is_cancelled (err)) {
      GST_INFO ("could not follow the redirection (%s); asking the cluster",
          err->message);
      g_clear_error (&err);
      ok = connection_open_discover (conn, deadline, cancellable, error);
    }
    if (err)
      g_propagate_error (error, err);
    node_addr_clear (&target);
  } else {
    ok = connection_open_discover (conn, deadline, cancellable, error);
  }

  conn->settings.timeout = saved_timeout;
  if (!ok) {
    gst_redis_connection_close (conn);
    return FALSE;
  }
  conn->ready = TRUE;
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
