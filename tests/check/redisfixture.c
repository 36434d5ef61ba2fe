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

#include "redisfixture.h"

#include <gst/check/gstcheck.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

static guint
pick_free_port (void)
{
  GSocket *sock;
  GSocketAddress *addr, *bound;
  GInetAddress *lo;
  guint port = 0;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert (sock);
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (lo, 0);
  if (g_socket_bind (sock, addr, FALSE, NULL)) {
    bound = g_socket_get_local_address (sock, NULL);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_object_unref (bound);
  }
  g_socket_close (sock, NULL);
  g_object_unref (sock);
  g_object_unref (addr);
  g_object_unref (lo);
  return port;
}

static void
child_setup (gpointer data)
{
  /* Never outlive a test that crashed. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static const gchar *
redis_server_binary (void)
{
  const gchar *bin = g_getenv ("REDIS_SERVER");

  return bin && *bin ? bin : "redis-server";
}

static gboolean
spawn_and_wait (RedisServer * server)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GError *err = NULL;
  gchar **a;
  gint64 deadline;
  gboolean ok;

  g_ptr_array_add (argv, g_strdup (redis_server_binary ()));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", server->port));
  g_ptr_array_add (argv, g_strdup ("--bind"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("--unixsocket"));
  g_ptr_array_add (argv, g_strdup (server->socket_path));
  g_ptr_array_add (argv, g_strdup ("--unixsocketperm"));
  g_ptr_array_add (argv, g_strdup ("700"));
  g_ptr_array_add (argv, g_strdup ("--dir"));
  g_ptr_array_add (argv, g_strdup (server->dir));
  g_ptr_array_add (argv, g_strdup ("--logfile"));
  g_ptr_array_add (argv, g_strdup ("redis.log"));
  g_ptr_array_add (argv, g_strdup ("--save"));
  g_ptr_array_add (argv, g_strdup (""));
  g_ptr_array_add (argv, g_strdup ("--daemonize"));
  g_ptr_array_add (argv, g_strdup ("no"));
  if (server->tls_args) {
    g_ptr_array_add (argv, g_strdup ("--tls-port"));
    g_ptr_array_add (argv, g_strdup_printf ("%u", server->tls_port));
    for (a = server->tls_args; *a; a++)
      g_ptr_array_add (argv, g_strdup (*a));
  }
  for (a = server->extra_args; a && *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);

  ok = g_spawn_async (server->dir, (gchar **) argv->pdata, NULL,
      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
      G_SPAWN_STDOUT_TO_DEV_NULL, child_setup, NULL, &server->pid, &err);
  g_ptr_array_unref (argv);
  if (!ok) {
    g_printerr ("cannot start %s: %s\n", redis_server_binary (), err->message);
    g_clear_error (&err);
    return FALSE;
  }

  deadline = test_wait_deadline (10000);
  do {
    redisContext *c;
    int status;

    if (waitpid (server->pid, &status, WNOHANG) == server->pid) {
      server->pid = 0;
      return FALSE;             /* exited: the port was taken, most likely */
    }
    c = redisConnect ("127.0.0.1", server->port);
    if (c && !c->err) {
      redisReply *r = redisCommand (c, "PING");
      /* not up while it answers -LOADING (loading its AOF after a restart):
       * a client that connects then is refused; -NOAUTH is up */
      gboolean up = r != NULL && !(r->type == REDIS_REPLY_ERROR &&
          g_str_has_prefix (r->str, "LOADING"));

      if (r)
        freeReplyObject (r);
      redisFree (c);
      if (up && g_file_test (server->socket_path, G_FILE_TEST_EXISTS))
        return TRUE;
    } else if (c) {
      redisFree (c);
    }
  } while (test_wait_tick (deadline));
  g_printerr ("%s did not answer PING on port %u within 10 s\n",
      redis_server_binary (), server->port);
  redis_server_kill (server, SIGKILL);
  return FALSE;
}

RedisServer *
redis_server_start (void)
{
  return redis_server_start_with_args (NULL, NULL);
}

/* Starts @server (its arguments set) on free ports. */
static RedisServer *
start_server (RedisServer * server)
{
  gint attempt;

  server->dir = g_dir_make_tmp ("redis-test-XXXXXX", NULL);
  g_assert (server->dir);
  server->socket_path = g_build_filename (server->dir, "redis.sock", NULL);

  for (attempt = 0; attempt < 5; attempt++) {
    server->port = pick_free_port ();
    if (server->tls_args)
      server->tls_port = pick_free_port ();
    if (server->port && spawn_and_wait (server))
      return server;
  }
  g_error ("could not start redis-server (%s)%s; is it installed?",
      redis_server_binary (), server->tls_args ? " with TLS" : "");
  return NULL;
}

RedisServer *
redis_server_start_with_args (const gchar * first_extra_arg, ...)
{
  RedisServer *server = g_new0 (RedisServer, 1);
  GPtrArray *extra = g_ptr_array_new ();
  const gchar *arg;
  va_list args;

  va_start (args, first_extra_arg);
  for (arg = first_extra_arg; arg; arg = va_arg (args, const gchar *))
      g_ptr_array_add (extra, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (extra, NULL);
  server->extra_args = (gchar **) g_ptr_array_free (extra, FALSE);
  return start_server (server);
}

RedisServer *
redis_server_start_tls (const gchar * certs, const gchar * cert,
    gboolean auth_clients)
{
  RedisServer *server = g_new0 (RedisServer, 1);
  gchar *crt = g_strdup_printf ("%s/%s.crt", certs, cert);
  gchar *key = g_strdup_printf ("%s/%s.key", certs, cert);
  gchar *ca = g_strdup_printf ("%s/ca.crt", certs);
  const gchar *tls_args[] = { "--tls-cert-file", crt, "--tls-key-file", key,
    "--tls-ca-cert-file", ca, "--tls-auth-clients",
    auth_clients ? "yes" : "no", NULL
  };
  server->tls_args = g_strdupv ((gchar **) tls_args);
  g_free (crt);
  g_free (key);
  g_free (ca);
  return start_server (server);
}

gchar *
redis_test_make_certs (void)
{
  const gchar *src = g_getenv ("TEST_SOURCE_DIR");
  gchar *dir = g_dir_make_tmp ("redis-tls-XXXXXX", NULL);
  gchar *script = g_build_filename (src ? src : ".", "tests", "tls",
      "make-certs.sh", NULL);
  gchar *argv[] = { (gchar *) "sh", script, dir, NULL };
  gchar *err_out = NULL;
  GError *err = NULL;
  gint status = 0;

  g_assert (dir);
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
          G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err_out, &status,
          &err) || status != 0) {
    g_printerr ("cannot make the test certificates with %s (is openssl "
        "installed?): %s %s\n", script, err ? err->message : "it failed",
        err_out ? err_out : "");
    g_clear_error (&err);
    redis_test_remove_dir (dir);
    g_clear_pointer (&dir, g_free);
  }
  g_free (err_out);
  g_free (script);
  return dir;
}

void
redis_server_kill (RedisServer * server, gint sig)
{
  if (server->pid > 0) {
    kill (server->pid, sig);
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
      gint64 deadline = test_wait_deadline (10000);
      int status;

      while (waitpid (server->pid, &status, WNOHANG) == 0) {
        if (!test_wait_tick (deadline)) {
          kill (server->pid, SIGKILL);
          waitpid (server->pid, &status, 0);
          break;
        }
      }
      g_spawn_close_pid (server->pid);
      server->pid = 0;
    }
  }
}

/* Starts the server again on the same port, socket and directory (and so
 * with the same AOF file when the test turned persistence on). */
gboolean
redis_server_restart (RedisServer * server)
{
  gint64 deadline;

  redis_server_kill (server, SIGTERM);
  /* the port can stay taken for a moment after the old server exited */
  deadline = test_wait_deadline (30000);
  while (!spawn_and_wait (server)) {
    if (g_get_monotonic_time () >= deadline) {
      g_printerr ("%s could not start again on port %u within 30 s\n",
          redis_server_binary (), server->port);
      return FALSE;
    }
    /* pacing of the attempts, not a poll: each attempt waits for PING */
    g_usleep (100 * 1000);
  }
  return TRUE;
}

void
redis_test_remove_dir (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir))) {
    gchar *child = g_build_filename (path, name, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR)
        && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      redis_test_remove_dir (child);
    else
      g_unlink (child);
    g_free (child);
  }
  g_dir_close (dir);
  g_rmdir (path);
}

void
redis_server_stop (RedisServer * server)
{
  if (server == NULL)
    return;
  redis_server_kill (server, SIGTERM);
  redis_test_remove_dir (server->dir);
  g_free (server->dir);
  g_free (server->socket_path);
  g_strfreev (server->extra_args);
  g_strfreev (server->tls_args);
  g_free (server);
}

redisContext *
redis_server_connect (RedisServer * server)
{
  redisContext *c = redisConnect ("127.0.0.1", server->port);

  g_assert (c != NULL);
  if (c->err)
    g_error ("cannot connect to test redis on port %u: %s", server->port,
        c->errstr);
  return c;
}

static redisReply *
command_v (RedisServer * server, const gchar * format, va_list args)
{
  redisContext *c = redis_server_connect (server);
  redisReply *r = redisvCommand (c, format, args);

  g_assert (r != NULL);
  redisFree (c);
  return r;
}

redisReply *
redis_server_command (RedisServer * server, const gchar * format, ...)
{
  redisReply *r;
  va_list args;

  va_start (args, format);
  r = command_v (server, format, args);
  va_end (args);
  return r;
}

long long
redis_server_integer (RedisServer * server, const gchar * format, ...)
{
  redisReply *r;
  long long v;
  va_list args;

  va_start (args, format);
  r = command_v (server, format, args);
  va_end (args);
  if (r->type != REDIS_REPLY_INTEGER)
    g_error ("expected an integer reply to \"%s\", got type %d %s", format,
        r->type, r->str ? r->str : "");
  v = r->integer;
  freeReplyObject (r);
  return v;
}

/* Calls of the command @cmd (lower case, "xadd") since the server started
 * or the last CONFIG RESETSTAT (INFO commandstats). */
long long
redis_server_command_calls (RedisServer * server, const gchar * cmd)
{
  redisReply *r = redis_server_command (server, "INFO commandstats");
  gchar *key = g_strdup_printf ("cmdstat_%s:calls=", cmd);
  const gchar *p = strstr (r->str, key);
  long long n = p ? g_ascii_strtoll (p + strlen (key), NULL, 10) : 0;

  g_free (key);
  freeReplyObject (r);
  return n;
}

/* Fields of the hash @key whose names start with @prefix ("caps:"). */
long long
redis_server_count_fields (RedisServer * server, const gchar * key,
    const gchar * prefix)
{
  redisReply *r = redis_server_command (server, "HKEYS %s", key);
  long long n = 0;
  gsize i;

  for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
    n += g_str_has_prefix (r->element[i]->str, prefix);
  freeReplyObject (r);
  return n;
}

/* The caps id of the caps string @caps as docs/wire-format.md defines it,
 * computed here without the plugin's code: the first four bytes of the
 * SHA-256 digest, big-endian, highest bit cleared, in decimal. */
gchar *
redis_test_caps_id (const gchar * caps)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 d[32];
  gsize n = sizeof (d);

  g_checksum_update (sum, (const guchar *) caps, strlen (caps));
  g_checksum_get_digest (sum, d, &n);
  g_checksum_free (sum);
  return g_strdup_printf ("%u", GST_READ_UINT32_BE (d) & 0x7fffffff);
}

/* GStreamer helpers */

GstHarness *
redis_test_harness_new (const gchar * format, ...)
{
  GstHarness *h;
  gchar *desc;
  va_list args;

  va_start (args, format);
  desc = g_strdup_vprintf (format, args);
  va_end (args);
  h = gst_harness_new_parse (desc);
  g_assert (h != NULL);
  g_free (desc);
  return h;
}

GstElement *
redis_test_harness_element (GstHarness * h, const gchar * factory)
{
  GstElement *e;

  if (GST_IS_BIN (h->element)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (h->element));
    GValue v = G_VALUE_INIT;

    e = NULL;
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstElement *child = g_value_get_object (&v);
      GstElementFactory *f = gst_element_get_factory (child);

      if (f && g_str_equal (GST_OBJECT_NAME (f), factory))
        e = child;
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  } else {
    e = h->element;
  }
  g_assert (e != NULL);
  return e;
}

/* A frame of @info's size: noise (incompressible, like a camera's raw
 * frame at the bit level) or a smooth gradient (compressible). */
GstBuffer *
redis_test_make_frame (const GstVideoInfo * info, guint seed, gboolean noise)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info),
      NULL);
  GstMapInfo map;
  GRand *rand = g_rand_new_with_seed (seed);
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++) {
    if (noise)
      map.data[i] = g_rand_int (rand) & 0xff;
    else
      map.data[i] = (i / 7 + seed) & 0xff;
  }
  gst_buffer_unmap (buf, &map);
  g_rand_free (rand);
  return buf;
}

gboolean
redis_test_buffer_equal (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gboolean eq;

  gst_buffer_map (a, &ma, GST_MAP_READ);
  gst_buffer_map (b, &mb, GST_MAP_READ);
  eq = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return eq;
}

/* Launches a pipeline to PLAYING and returns the first error message, or
 * NULL if none came within @timeout_ms. The pipeline is left for the
 * caller to stop. */
GstMessage *
redis_test_launch_until_error (GstElement ** pipeline, guint timeout_ms,
    const gchar * format, ...)
{
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;
  gchar *desc;
  va_list args;

  va_start (args, format);
  desc = g_strdup_vprintf (format, args);
  va_end (args);
  *pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  g_free (desc);

  gst_element_set_state (*pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (*pipeline);
  msg = gst_bus_timed_pop_filtered (bus, timeout_ms * GST_MSECOND,
      GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  return msg;
}

guint64
redis_test_get_stat (GstElement * element, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (element, "stats", &s, NULL);
  g_assert (s != NULL);
  if (!gst_structure_get_uint64 (s, field, &v))
    g_error ("stats has no guint64 field %s: %s", field,
        gst_structure_to_string (s));
  gst_structure_free (s);
  return v;
}

/* A loopback port nothing listens on. */
guint
redis_test_closed_port (void)
{
  return pick_free_port ();
}

/* Counts the messages of @type (containing @text) on @bus, keeping the
 * others for the next call: gst_bus_pop_filtered () would drop them. */
guint
redis_test_count_messages (GstBus * bus, GstMessageType type,
    const gchar * text)
{
  GQueue keep = G_QUEUE_INIT;
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop (bus))) {
    GError *err = NULL;

    if (GST_MESSAGE_TYPE (msg) != type) {
      g_queue_push_tail (&keep, msg);
      continue;
    }
    if (type == GST_MESSAGE_WARNING)
      gst_message_parse_warning (msg, &err, NULL);
    else if (type == GST_MESSAGE_INFO)
      gst_message_parse_info (msg, &err, NULL);
    else
      gst_message_parse_error (msg, &err, NULL);
    if (text == NULL || strstr (err->message, text))
      n++;
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  while ((msg = g_queue_pop_head (&keep))) {
    gst_bus_post (bus, msg);
  }
  return n;
}

/* redisstreamsink on @server with @props, fed @caps. */
GstHarness *
redis_test_sink_harness (RedisServer * server, const gchar * props,
    const gchar * caps)
{
  GstHarness *h = redis_test_harness_new ("redisstreamsink port=%u %s",
      server->port, props ? props : "");

  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Checks that @msg is a GST_RESOURCE_ERROR of @code whose text contains
 * @must_contain (when not NULL). */
void
redis_test_check_error (GstMessage * msg, gint code, const gchar * must_contain)
{
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s (%s)", err->message, debug);
  fail_unless (err->domain == GST_RESOURCE_ERROR, "domain %s",
      g_quark_to_string (err->domain));
  fail_unless_equals_int (err->code, code);
  if (must_contain)
    fail_unless (strstr (err->message, must_contain) != NULL,
        "\"%s\" not in \"%s\"", must_contain, err->message);
  g_clear_error (&err);
  g_free (debug);
}

/* A buffer carrying @seq as its offset and its content. */
GstBuffer *
redis_test_numbered (guint64 seq)
{
  GstBuffer *b = gst_buffer_new_memdup (&seq, sizeof (seq));

  GST_BUFFER_OFFSET (b) = seq;
  return b;
}

/* The text of a warning, error or info message, and its debug text. */
static GError *
parse_message (GstMessage * msg, gchar ** debug)
{
  GError *err = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, debug);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, debug);
      break;
    case GST_MESSAGE_INFO:
      gst_message_parse_info (msg, &err, debug);
      break;
    default:
      break;
  }
  return err;
}

/* Waits up to @timeout_ms for a message of @type whose text holds @text,
 * and returns it; the other messages stay on @bus. */
GstMessage *
redis_test_wait_message (GstBus * bus, GstMessageType type,
    const gchar * text, guint timeout_ms)
{
  gint64 deadline = test_wait_deadline (timeout_ms);
  GQueue keep = G_QUEUE_INIT;
  GstMessage *msg, *found = NULL;

  do {
    while (found == NULL && (msg = gst_bus_pop (bus))) {
      GError *err = GST_MESSAGE_TYPE (msg) == type ?
          parse_message (msg, NULL) : NULL;

      if (err && strstr (err->message, text))
        found = msg;
      else
        g_queue_push_tail (&keep, msg);
      g_clear_error (&err);
    }
  } while (found == NULL && test_wait_tick (deadline));
  while ((msg = g_queue_pop_head (&keep)))
    gst_bus_post (bus, msg);
  fail_unless (found != NULL, "timed out after %u ms waiting for a message "
      "\"%s\"", timeout_ms, text);
  return found;
}

/* @msg names the server @srv and @stream as its details, and was posted
 * from @file (the element's own code, not a helper's). Takes @msg. */
void
redis_test_check_message_origin (GstMessage * msg, RedisServer * srv,
    const gchar * stream, const gchar * file)
{
  const GstStructure *details = NULL;
  gchar *debug = NULL, *where;
  GError *err = parse_message (msg, &debug);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error_details (msg, &details);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning_details (msg, &details);
      break;
    default:
      gst_message_parse_info_details (msg, &details);
      break;
  }
  GST_INFO ("\"%s\" (%s) %" GST_PTR_FORMAT, err->message, debug, details);
  fail_unless (details != NULL, "no details in \"%s\"", err->message);
  where = g_strdup_printf (":%u db 0", srv->port);
  fail_unless (g_str_has_suffix (gst_structure_get_string (details, "server"),
          where), "server \"%s\" in \"%s\"",
      gst_structure_get_string (details, "server"), err->message);
  g_free (where);
  fail_unless_equals_string (gst_structure_get_string (details, "stream"),
      stream);
  /* the debug text starts with "file(line): function (): " */
  where = g_strdup_printf ("/%s(", file);
  fail_unless (debug && strstr (debug, where) && strstr (debug, where) <
      strchr (debug, ':'), "\"%s\" was posted at %s, not in %s",
      err->message, debug, file);
  g_free (where);
  g_free (debug);
  g_clear_error (&err);
  gst_message_unref (msg);
}
