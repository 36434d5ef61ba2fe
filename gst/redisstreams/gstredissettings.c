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

/* The connection settings of the Redis elements: the GObject properties
 * both install, their validation when an element starts, and the
 * description of the server used in messages. Parsing of host:port lists
 * (sentinels, redirections) lives here too, so that a setting and a
 * server's answer are read the same way. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredissettings.h"

#include <string.h>

/* Unix socket paths longer than this do not fit in sockaddr_un. */
#define MAX_SOCKET_PATH 107

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
  settings->tls = GST_REDIS_DEFAULT_TLS;
  settings->tls_ca_file = g_strdup (GST_REDIS_DEFAULT_TLS_CA_FILE);
  settings->tls_server_name = g_strdup (GST_REDIS_DEFAULT_TLS_SERVER_NAME);
  settings->tls_cert_file = g_strdup (GST_REDIS_DEFAULT_TLS_CERT_FILE);
  settings->tls_key_file = g_strdup (GST_REDIS_DEFAULT_TLS_KEY_FILE);
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
  g_clear_pointer (&settings->tls_ca_file, g_free);
  g_clear_pointer (&settings->tls_server_name, g_free);
  g_clear_pointer (&settings->tls_cert_file, g_free);
  g_clear_pointer (&settings->tls_key_file, g_free);
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
  dest->tls_ca_file = g_strdup (src->tls_ca_file);
  dest->tls_server_name = g_strdup (src->tls_server_name);
  dest->tls_cert_file = g_strdup (src->tls_cert_file);
  dest->tls_key_file = g_strdup (src->tls_key_file);
}

/* The properties both elements have, installed by
 * gst_redis_settings_install_properties (). Each doc block is named after
 * redisstreamsink; redisstreamsrc has the same property with the same
 * meaning. */

/* Where the server is and how to log in. */
static void
install_server_properties (GObjectClass * klass)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSink:host:
   *
   * Host name or address of the Redis server, or of any node of a Redis
   * Cluster: the element asks that node for the cluster's slot map and
   * connects to the node that owns the stream's hash slot, follows `MOVED`
   * and `ASK` redirections, and finds the new owner after a failover. Not
   * used with #GstRedisStreamSink:socket-path or
   * #GstRedisStreamSink:sentinels.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Host name or address of the Redis server",
          GST_REDIS_DEFAULT_HOST, flags));
  /**
   * GstRedisStreamSink:port:
   *
   * TCP port of the Redis server. The range is checked when the element
   * starts (1-65535), so that a wrong value is an error
   * (%GST_RESOURCE_ERROR_SETTINGS), not the default.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "TCP port of the Redis server (1-65535; checked when the element "
          "starts, so that a wrong value is an error, not the default)", 0,
          G_MAXINT, GST_REDIS_DEFAULT_PORT, flags));
  /**
   * GstRedisStreamSink:socket-path:
   *
   * Path of the Redis server's unix socket (`unixsocket` in redis.conf);
   * when set, #GstRedisStreamSink:host and #GstRedisStreamSink:port are not
   * used. A unix socket is a standalone server: it cannot be combined with
   * #GstRedisStreamSink:sentinels.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket Path",
          "Path of the Redis server's unix socket; when set, host and port "
          "are not used", GST_REDIS_DEFAULT_SOCKET_PATH, flags));
  /**
   * GstRedisStreamSink:username:
   *
   * Redis ACL user to authenticate as (`AUTH username password`); needs
   * #GstRedisStreamSink:password. %NULL authenticates as the default user
   * when a password is set. The security page of the project
   * documentation lists the rights each element needs.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_USERNAME,
      g_param_spec_string ("username", "Username",
          "Redis ACL user name to authenticate as (NULL: the default user "
          "when a password is set)", GST_REDIS_DEFAULT_USERNAME, flags));
  /**
   * GstRedisStreamSink:password:
   *
   * Password to authenticate with. Write-only, so that no tool
   * (gst-inspect-1.0, gst-launch-1.0 -v) can print it; it never appears
   * in a log or a message. A refused password is
   * %GST_RESOURCE_ERROR_NOT_AUTHORIZED.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_PASSWORD,
      g_param_spec_string ("password", "Password",
          "Password to authenticate with (write-only, never logged)",
          GST_REDIS_DEFAULT_PASSWORD,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstRedisStreamSink:db:
   *
   * Redis database number to `SELECT` after logging in (not available in
   * a Redis Cluster, which has database 0 only).
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_DB,
      g_param_spec_uint ("db", "Database",
          "Redis database number to SELECT", 0, G_MAXINT,
          GST_REDIS_DEFAULT_DB, flags));
  /**
   * GstRedisStreamSink:stream:
   *
   * Key of the Redis stream: a non-empty name without spaces or control
   * characters.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Key of the Redis stream", GST_REDIS_DEFAULT_STREAM, flags));
}

/* How long to wait, and how to find a server that moves (Sentinel). */
static void
install_connection_properties (GObjectClass * klass)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSink:connect-timeout:
   *
   * Milliseconds allowed for connecting and logging in (`AUTH`, `PING`,
   * `SELECT`), and with a cluster or sentinels for finding the node, all
   * together.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect Timeout",
          "Time in milliseconds allowed for connecting and authenticating",
          1, G_MAXINT, GST_REDIS_DEFAULT_CONNECT_TIMEOUT, flags));
  /**
   * GstRedisStreamSink:timeout:
   *
   * Milliseconds allowed for each reply from Redis; a source adds the
   * time each read blocks (#GstRedisStreamSrc:block). Past it the
   * connection is considered dead: this is how a server that stops
   * answering (a network cut) is detected.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Time in milliseconds allowed for each reply from Redis (a source "
          "adds its block time); past it the connection is considered dead",
          1, G_MAXINT, GST_REDIS_DEFAULT_TIMEOUT, flags));
  /**
   * GstRedisStreamSink:reconnect-timeout:
   *
   * When the connection is lost, the element posts a warning and
   * reconnects by itself, with a backoff from 100 ms to 2 s, for up to
   * this many milliseconds; then the outage is an error. On success it
   * posts an info message. 0 makes a lost connection an error at once.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_RECONNECT_TIMEOUT,
      g_param_spec_uint ("reconnect-timeout", "Reconnect Timeout",
          "Milliseconds to keep reconnecting after the connection to Redis "
          "was lost, with a warning, before it becomes an error; 0 makes a "
          "lost connection an error at once", 0, G_MAXINT,
          GST_REDIS_DEFAULT_RECONNECT_TIMEOUT, flags));
  /**
   * GstRedisStreamSink:sentinels:
   *
   * Comma-separated `host:port` list of Redis Sentinels (port 26379 when
   * omitted). When set, the element asks them where the master named
   * #GstRedisStreamSink:master-name is, instead of using
   * #GstRedisStreamSink:host and #GstRedisStreamSink:port, and asks again
   * after every failover. Sentinels are asked without authentication
   * (over TLS with #GstRedisStreamSink:tls).
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_SENTINELS,
      g_param_spec_string ("sentinels", "Sentinels",
          "Comma-separated host:port list of Redis Sentinels to ask for the "
          "address of master-name; when set, host and port are not used",
          GST_REDIS_DEFAULT_SENTINELS, flags));
  /**
   * GstRedisStreamSink:master-name:
   *
   * Name of the master the sentinels monitor (`sentinel monitor <name>
   * ...` in sentinel.conf); needed with #GstRedisStreamSink:sentinels.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_MASTER_NAME,
      g_param_spec_string ("master-name", "Master Name",
          "Name of the master the sentinels monitor (sentinel monitor "
          "<name> ...); needed with sentinels", GST_REDIS_DEFAULT_MASTER_NAME,
          flags));
}

/* TLS: encryption, and whom to trust (docs/security.md). */
static void
install_tls_properties (GObjectClass * klass)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstRedisStreamSink:tls:
   *
   * Connect with TLS (Redis's `tls-port`), to every server the element
   * talks to: the server of #GstRedisStreamSink:host, every node of a
   * Redis Cluster (`tls-cluster yes`, so that the slot map and the
   * redirections name TLS ports), the sentinels and the master they name.
   * The server's certificate is always verified: against
   * #GstRedisStreamSink:tls-ca-file, or the system's trusted CAs, and for
   * the name #GstRedisStreamSink:tls-server-name (by default the host
   * connected to). There is no fallback to plain text: a server that does
   * not speak TLS, or a certificate that does not verify, is an error
   * that says what to change. Needs GIO's TLS backend (Debian package
   * `glib-networking`). Not with #GstRedisStreamSink:socket-path (Redis
   * serves TLS on TCP only).
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TLS,
      g_param_spec_boolean ("tls", "TLS",
          "Connect with TLS to every server (Redis's tls-port), verifying "
          "its certificate; never falls back to plain text",
          GST_REDIS_DEFAULT_TLS, flags));
  /**
   * GstRedisStreamSink:tls-ca-file:
   *
   * PEM file of the CA certificates to trust for the server's certificate
   * (the CA that signed it, like `tls-ca-cert-file` in redis.conf, or a
   * self-signed server certificate itself). %NULL trusts the system's CAs
   * (`/etc/ssl/certs`), as for a managed Redis service with a public
   * certificate. A file that cannot be read is
   * %GST_RESOURCE_ERROR_SETTINGS.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TLS_CA_FILE,
      g_param_spec_string ("tls-ca-file", "TLS CA File",
          "PEM file of the CA certificates that verify the server's "
          "certificate (NULL: the system's trusted CAs)",
          GST_REDIS_DEFAULT_TLS_CA_FILE, flags));
  /**
   * GstRedisStreamSink:tls-server-name:
   *
   * Name the server's certificate must hold, also sent as SNI. %NULL: the
   * host connected to (#GstRedisStreamSink:host, or the address a cluster
   * node or a sentinel announces; an IP address must then be in the
   * certificate's subjectAltName). Set it when the certificate names a
   * host other than the one connected to (an address, a tunnel, every node
   * of a cluster sharing one certificate).
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TLS_SERVER_NAME,
      g_param_spec_string ("tls-server-name", "TLS Server Name",
          "Name the server's certificate must hold, sent as SNI (NULL: the "
          "host connected to)", GST_REDIS_DEFAULT_TLS_SERVER_NAME, flags));
  /**
   * GstRedisStreamSink:tls-cert-file:
   *
   * PEM file of the client certificate to present, for a server that
   * requires one (`tls-auth-clients yes`); it may hold the private key as
   * well. The key file's contents never appear in a log or a message.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TLS_CERT_FILE,
      g_param_spec_string ("tls-cert-file", "TLS Certificate File",
          "PEM file of the client certificate for a server that requires "
          "one (tls-auth-clients yes)", GST_REDIS_DEFAULT_TLS_CERT_FILE,
          flags));
  /**
   * GstRedisStreamSink:tls-key-file:
   *
   * PEM file of the private key of #GstRedisStreamSink:tls-cert-file
   * (unencrypted). %NULL: the key is in the certificate file.
   *
   * Since: 1.0
   */
  g_object_class_install_property (klass, GST_REDIS_PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS Key File",
          "PEM file of the client certificate's private key (NULL: in "
          "tls-cert-file)", GST_REDIS_DEFAULT_TLS_KEY_FILE, flags));
}

void
gst_redis_settings_install_properties (GObjectClass * klass)
{
  install_server_properties (klass);
  install_connection_properties (klass);
  install_tls_properties (klass);
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
    case GST_REDIS_PROP_TLS:
      settings->tls = g_value_get_boolean (value);
      break;
    case GST_REDIS_PROP_TLS_CA_FILE:
      replace_string (&settings->tls_ca_file, value);
      break;
    case GST_REDIS_PROP_TLS_SERVER_NAME:
      replace_string (&settings->tls_server_name, value);
      break;
    case GST_REDIS_PROP_TLS_CERT_FILE:
      replace_string (&settings->tls_cert_file, value);
      break;
    case GST_REDIS_PROP_TLS_KEY_FILE:
      replace_string (&settings->tls_key_file, value);
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
    case GST_REDIS_PROP_TLS:
      g_value_set_boolean (value, settings->tls);
      break;
    case GST_REDIS_PROP_TLS_CA_FILE:
      g_value_set_string (value, settings->tls_ca_file);
      break;
    case GST_REDIS_PROP_TLS_SERVER_NAME:
      g_value_set_string (value, settings->tls_server_name);
      break;
    case GST_REDIS_PROP_TLS_CERT_FILE:
      g_value_set_string (value, settings->tls_cert_file);
      break;
    case GST_REDIS_PROP_TLS_KEY_FILE:
      g_value_set_string (value, settings->tls_key_file);
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
gboolean
gst_redis_parse_host_port (const gchar * text, guint default_port,
    gchar ** host, guint * port)
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

void
gst_redis_addr_clear (GstRedisAddr * addr)
{
  g_clear_pointer (&addr->host, g_free);
}

gboolean
gst_redis_addr_equal (const GstRedisAddr * a, const gchar * host, guint port)
{
  return a->port == port && g_strcmp0 (a->host, host) == 0;
}

/* An array of GstRedisAddr that frees its hosts. */
GArray *
gst_redis_addr_list_new (void)
{
  GArray *list = g_array_new (FALSE, TRUE, sizeof (GstRedisAddr));

  g_array_set_clear_func (list, (GDestroyNotify) gst_redis_addr_clear);
  return list;
}

/* Appends @host:@port unless @list has it already. */
void
gst_redis_addr_list_add (GArray * list, const gchar * host, guint port)
{
  GstRedisAddr addr;
  guint i;

  for (i = 0; i < list->len; i++) {
    if (gst_redis_addr_equal (&g_array_index (list, GstRedisAddr, i), host,
            port))
      return;
  }
  addr.host = g_strdup (host);
  addr.port = port;
  g_array_append_val (list, addr);
}

/* The sentinels property as an array of NodeAddr; NULL when one entry is
 * not a host:port. */
GArray *
gst_redis_settings_parse_sentinels (const gchar * list)
{
  GArray *addrs = gst_redis_addr_list_new ();
  gchar **parts = g_strsplit (list, ",", -1);
  guint i;

  for (i = 0; parts[i]; i++) {
    GstRedisAddr addr = { NULL, 0 };

    if (g_strstrip (parts[i])[0] == '\0')
      continue;
    if (!gst_redis_parse_host_port (parts[i], GST_REDIS_DEFAULT_SENTINEL_PORT,
            &addr.host, &addr.port)) {
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

gboolean
gst_redis_settings_use_sentinels (const GstRedisSettings * s)
{
  return s->sentinels && *s->sentinels;
}

gboolean
gst_redis_settings_use_socket (const GstRedisSettings * s)
{
  return s->socket_path && *s->socket_path;
}

/* The TLS properties make sense together only: a tls-* file set while tls
 * is off would connect in plain text although the user asked for
 * certificates, so it is an error rather than ignored. */
static gboolean
validate_tls (const GstRedisSettings * s, GError ** error)
{
  const gchar *set = NULL;

  if (s->tls_key_file && *s->tls_key_file && !(s->tls_cert_file &&
          *s->tls_cert_file)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "tls-key-file is set without tls-cert-file: set tls-cert-file to the "
        "client certificate of that key");
    return FALSE;
  }
  if (!s->tls) {
    if (s->tls_ca_file && *s->tls_ca_file)
      set = "tls-ca-file";
    else if (s->tls_server_name && *s->tls_server_name)
      set = "tls-server-name";
    else if (s->tls_cert_file && *s->tls_cert_file)
      set = "tls-cert-file";
    if (set) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "%s is set but tls is off, which would connect in plain text: set "
          "tls=true to connect with TLS, or unset %s", set, set);
      return FALSE;
    }
    return TRUE;
  }
  if (gst_redis_settings_use_socket (s)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "tls cannot be used with socket-path: Redis serves TLS on TCP only "
        "(tls-port); set host and port instead");
    return FALSE;
  }
  if (s->tls_server_name && *s->tls_server_name &&
      !name_is_valid (s->tls_server_name)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The tls-server-name \"%s\" is not a host name", s->tls_server_name);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_redis_settings_validate (const GstRedisSettings * s, GError ** error)
{
  if (gst_redis_settings_use_sentinels (s)) {
    GArray *addrs = gst_redis_settings_parse_sentinels (s->sentinels);

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
  return validate_tls (s, error);
}

gchar *
gst_redis_settings_describe (const GstRedisSettings * s)
{
  if (gst_redis_settings_use_sentinels (s))
    return g_strdup_printf ("master \"%s\" of sentinels %s db %u",
        s->master_name ? s->master_name : "", s->sentinels, s->db);
  if (s->socket_path && *s->socket_path)
    return g_strdup_printf ("unix:%s db %u", s->socket_path, s->db);
  if (strchr (s->host, ':'))
    return g_strdup_printf ("[%s]:%u db %u", s->host, s->port, s->db);
  return g_strdup_printf ("%s:%u db %u", s->host, s->port, s->db);
}
