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

/* The connection an element uses: a GstRedisNode opened where
 * GstRedisTopology says the stream is served, and the one place where a
 * redirection (MOVED, ASK, READONLY) is followed. Replies are checked for
 * redirections here, before an element sees them. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisconnection.h"
#include "gstredisnode.h"
#include "gstredistopology.h"
#include "gstredisdebug.h"

#define GST_CAT_DEFAULT gst_redis_connection_debug

/* Redirections followed for one command. */
#define MAX_REDIRECTS 5

struct _GstRedisConnection
{
  GstRedisSettings settings;
  GstRedisNode *node;
  GstRedisTopology *topology;
  /* the node was closed because Redis sent the last command elsewhere */
  gboolean redirected;
  /* successful opens so far */
  guint opens;
};

GstRedisConnection *
gst_redis_connection_new (const GstRedisSettings * settings)
{
  GstRedisConnection *conn;

  conn = g_new0 (GstRedisConnection, 1);
  gst_redis_settings_init (&conn->settings);
  gst_redis_settings_copy (&conn->settings, settings);
  conn->node = gst_redis_node_new (settings);
  conn->topology = gst_redis_topology_new (settings);
  gst_redis_topology_init_node (conn->topology, conn->node);
  return conn;
}

void
gst_redis_connection_free (GstRedisConnection * conn)
{
  if (conn == NULL)
    return;
  gst_redis_node_free (conn->node);
  gst_redis_topology_free (conn->topology);
  gst_redis_settings_clear (&conn->settings);
  g_free (conn);
}

/* The socket under the connection, the same one for the connection's
 * life (it is reopened in place), for what only it knows: bytes counted,
 * replies owed, whether the server closed it, the largest value it reads
 * (gstredisnode.h). */
GstRedisNode *
gst_redis_connection_get_node (GstRedisConnection * conn)
{
  return conn->node;
}

const gchar *
gst_redis_connection_describe (GstRedisConnection * conn)
{
  return gst_redis_node_describe (conn->node);
}

gboolean
gst_redis_connection_is_open (GstRedisConnection * conn)
{
  return gst_redis_node_is_open (conn->node);
}

void
gst_redis_connection_close (GstRedisConnection * conn)
{
  gst_redis_node_close (conn->node);
}

/* After a command failed with @err: TRUE when the connection was closed
 * because Redis sent the command elsewhere (MOVED or ASK in a Redis
 * Cluster, READONLY from a master that became a replica) and fewer than
 * MAX_REDIRECTS of @redirects were followed for it. The next
 * gst_redis_connection_open () goes where it was sent, and the command can
 * be sent again there at once. */
gboolean
gst_redis_connection_may_follow (GstRedisConnection * conn,
    const GError * err, guint * redirects)
{
  if (!conn->redirected || gst_redis_error_is_cancelled (err))
    return FALSE;
  return (*redirects)++ < MAX_REDIRECTS;
}

/* How many times the connection was opened: what the server was told
 * before may be lost when it changes (a restarted server, a failover). */
guint
gst_redis_connection_get_opens (GstRedisConnection * conn)
{
  return conn->opens;
}

gboolean
gst_redis_connection_can_read (GstRedisConnection * conn)
{
  return gst_redis_node_can_read (conn->node);
}

/* Opens the connection where the topology says, within connect-timeout.
 * Called again after the connection was lost, it finds the server again,
 * so a failover is followed. */
gboolean
gst_redis_connection_open (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  gint64 deadline = gst_redis_deadline_after (conn->settings.connect_timeout);

  gst_redis_node_close (conn->node);
  conn->redirected = FALSE;
  gst_redis_node_reset_closed_by_peer (conn->node);

  if (!gst_redis_topology_open (conn->topology, conn->node, deadline,
          cancellable, error)) {
    gst_redis_node_close (conn->node);
    return FALSE;
  }
  GST_INFO ("connected to Redis at %s", gst_redis_node_describe (conn->node));
  conn->opens++;
  return TRUE;
}

gboolean
gst_redis_connection_send (GstRedisConnection * conn, GstRedisCommand * cmd,
    GCancellable * cancellable, GError ** error)
{
  return gst_redis_node_send (conn->node, cmd,
      gst_redis_deadline_after (conn->settings.timeout), cancellable, error);
}

/* The next reply, within timeout plus @extra_timeout_ms (a blocking read's
 * block time). A reply that says the stream is served elsewhere, or not
 * now, closes the connection and is returned as @error. */
GstRedisReply *
gst_redis_connection_read_reply (GstRedisConnection * conn,
    guint extra_timeout_ms, GCancellable * cancellable, GError ** error)
{
  gint64 deadline = gst_redis_deadline_after (conn->settings.timeout) +
      (gint64) extra_timeout_ms * G_TIME_SPAN_MILLISECOND;
  GstRedisReply *reply;

  reply = gst_redis_node_read_reply (conn->node, deadline, cancellable, error);
  if (reply == NULL)
    return NULL;
  switch (gst_redis_topology_check_reply (conn->topology, conn->node, reply,
          error)) {
    case GST_REDIS_ROUTE_HERE:
      return reply;
    case GST_REDIS_ROUTE_REDIRECTED:
      conn->redirected = TRUE;
      break;
    case GST_REDIS_ROUTE_UNAVAILABLE:
      break;
  }
  gst_redis_reply_free (reply);
  return NULL;
}

/* The next reply as the server sent it, a redirection included: for a
 * command on a key that may live on another node of a Redis Cluster (the
 * stream's `<stream>:info` hash), whose answer is not worth moving the
 * connection away from the stream. The connection stays where it is. */
GstRedisReply *
gst_redis_connection_read_reply_here (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error)
{
  return gst_redis_node_read_reply (conn->node,
      gst_redis_deadline_after (conn->settings.timeout), cancellable, error);
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
    while (gst_redis_node_get_pending (conn->node) > 0) {
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

    if (!gst_redis_connection_may_follow (conn, err, &redirects)) {
      g_propagate_error (error, err);
      return NULL;
    }
    GST_DEBUG ("following: %s", err->message);
    g_clear_error (&err);
    if (!gst_redis_connection_open (conn, cancellable, error))
      return NULL;
  }
}

GstRedisReply *
gst_redis_connection_call (GstRedisConnection * conn,
    GCancellable * cancellable, GError ** error, const gchar * first_arg, ...)
{
  GstRedisCommand cmd;
  GstRedisReply *reply;
  va_list args;

  va_start (args, first_arg);
  gst_redis_command_init_valist (&cmd, first_arg, args);
  va_end (args);

  reply = gst_redis_connection_call_command (conn, &cmd, cancellable, error);
  gst_redis_command_clear (&cmd);
  return reply;
}

/* Sets @error for a command Redis refused with @reply: "Redis at <server>
 * refused to <@format ...>: <Redis's error text>". A refusal by the user's
 * ACL rules (NOPERM) is a matter of rights, like a wrong password:
 * GST_RESOURCE_ERROR_NOT_AUTHORIZED; anything else is @code. */
void
gst_redis_connection_set_refused (GstRedisConnection * conn,
    const GstRedisReply * reply, GstResourceError code, GError ** error,
    const gchar * format, ...)
{
  gboolean is_error = reply->type == GST_REDIS_REPLY_ERROR;
  va_list args;
  gchar *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (gst_redis_reply_is_error (reply, "NOPERM"))
    code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  g_set_error (error, GST_RESOURCE_ERROR, code, "Redis at %s refused to %s: "
      "%s", gst_redis_connection_describe (conn), what,
      is_error ? reply->str : "unexpected reply");
  g_free (what);
}
