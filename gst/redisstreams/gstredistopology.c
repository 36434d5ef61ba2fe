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

/* Finding the server: Redis Cluster (the slot map, MOVED and ASK) and Redis
 * Sentinel. Everything here talks to servers through GstRedisNode, with the
 * deadline of the open () it is part of; the connection
 * (gstredisconnection.c) calls in here to open and to check each reply. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredistopology.h"
#include "gstredisdebug.h"

#include <string.h>

/* the connection's category: one switch for the log of how the server is
 * found and used */
#define GST_CAT_DEFAULT gst_redis_connection_debug

/* The number of hash slots of a Redis Cluster. */
#define CLUSTER_SLOTS 16384

typedef enum
{
  MODE_STANDALONE,
  MODE_CLUSTER,
  MODE_SENTINEL,
} TopologyMode;

struct _GstRedisTopology
{
  GstRedisSettings settings;
  /* how the server was found */
  TopologyMode mode;
  /* Redis Cluster: the hash slot of the stream key, every node of the last
   * slot map (to find the cluster again after a failover) */
  guint slot;
  GArray *known_nodes;
  /* a MOVED or ASK to follow at the next open () */
  GstRedisAddr redirect;
  gboolean redirect_ask;
  /* Sentinel: the address of each sentinel */
  GArray *sentinels;
};

GstRedisTopology *
gst_redis_topology_new (const GstRedisSettings * settings)
{
  GstRedisTopology *t;

  t = g_new0 (GstRedisTopology, 1);
  gst_redis_settings_init (&t->settings);
  gst_redis_settings_copy (&t->settings, settings);
  t->known_nodes = gst_redis_addr_list_new ();
  if (gst_redis_settings_use_sentinels (settings)) {
    t->mode = MODE_SENTINEL;
    t->sentinels = gst_redis_settings_parse_sentinels (settings->sentinels);
  }
  t->slot = gst_redis_key_hash_slot (settings->stream ? settings->stream :
      "", settings->stream ? strlen (settings->stream) : 0);
  return t;
}

void
gst_redis_topology_free (GstRedisTopology * t)
{
  if (t == NULL)
    return;
  gst_redis_settings_clear (&t->settings);
  g_array_unref (t->known_nodes);
  g_clear_pointer (&t->sentinels, g_array_unref);
  gst_redis_addr_clear (&t->redirect);
  g_free (t);
}

/* The description used in messages ("Redis at %s"): the node, and what it
 * is to us. */
static gchar *
topology_describe (GstRedisTopology * t, const gchar * host, guint port,
    TopologyMode mode)
{
  const GstRedisSettings *s = &t->settings;
  gchar *node, *desc;

  if (host == NULL)
    return gst_redis_settings_describe (s);
  node = strchr (host, ':') ? g_strdup_printf ("[%s]:%u", host, port) :
      g_strdup_printf ("%s:%u", host, port);
  switch (mode) {
    case MODE_CLUSTER:
      desc = g_strdup_printf ("%s (cluster node of slot %u)", node, t->slot);
      break;
    case MODE_SENTINEL:
      desc = g_strdup_printf ("%s (master \"%s\") db %u", node,
          s->master_name, s->db);
      break;
    default:
      desc = g_strdup_printf ("%s db %u", node, s->db);
      break;
  }
  g_free (node);
  return desc;
}

/* Describes @node as what it is now. */
static void
topology_redescribe (GstRedisTopology * t, GstRedisNode * node)
{
  gst_redis_node_set_description (node, topology_describe (t,
          gst_redis_node_get_host (node), gst_redis_node_get_port (node),
          t->mode));
}

/* Before the first open: the configured server, for messages. */
void
gst_redis_topology_init_node (GstRedisTopology * t, GstRedisNode * node)
{
  const GstRedisSettings *s = &t->settings;

  if (t->mode != MODE_SENTINEL && !gst_redis_settings_use_socket (s))
    gst_redis_node_set_address (node, s->host, s->port,
        topology_describe (t, s->host, s->port, t->mode));
}

/* Connects @node to @host:@port (NULL: the unix socket), described as a
 * @mode node, and logs in when @login. */
static gboolean
topology_connect (GstRedisTopology * t, GstRedisNode * node,
    const gchar * host, guint port, TopologyMode mode, gboolean login,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  if (host)
    gst_redis_node_set_address (node, host, port,
        topology_describe (t, host, port, mode));
  if (!gst_redis_node_connect (node, deadline, cancellable, error))
    return FALSE;
  if (login && !gst_redis_node_login (node, deadline, cancellable, error)) {
    gst_redis_node_close (node);
    return FALSE;
  }
  return TRUE;
}

/* Connects to one node of this topology and logs in. */
static gboolean
topology_open_node (GstRedisTopology * t, GstRedisNode * node,
    const gchar * host, guint port, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  return topology_connect (t, node, host, port, t->mode, TRUE, deadline,
      cancellable, error);
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

/* Redis Cluster */

/* A node of a CLUSTER SLOTS range: [host, port, id, ...]; an empty host
 * (or "?") is the node that answered. */
static gboolean
slots_node (GstRedisNode * node, const GstRedisReply * entry,
    const gchar ** host, guint * port)
{
  if (entry->type != GST_REDIS_REPLY_ARRAY || entry->elements < 2 ||
      entry->element[0]->type != GST_REDIS_REPLY_STRING ||
      entry->element[1]->type != GST_REDIS_REPLY_INTEGER ||
      entry->element[1]->integer <= 0 || entry->element[1]->integer > 65535)
    return FALSE;
  *host = entry->element[0]->str;
  if (**host == '\0' || g_str_equal (*host, "?"))
    *host = gst_redis_node_get_host (node);
  *port = (guint) entry->element[1]->integer;
  return TRUE;
}

/* Remembers every node of a CLUSTER SLOTS reply and sets @owner to the
 * master of the range that holds the stream's slot. */
static void
topology_read_slot_map (GstRedisTopology * t, GstRedisNode * node,
    const GstRedisReply * reply, GstRedisAddr * owner)
{
  gsize i, j;

  g_array_set_size (t->known_nodes, 0);
  gst_redis_addr_clear (owner);
  for (i = 0; i < reply->elements; i++) {
    const GstRedisReply *range = reply->element[i];
    const gchar *host;
    guint port;

    if (range->type != GST_REDIS_REPLY_ARRAY || range->elements < 3 ||
        range->element[0]->type != GST_REDIS_REPLY_INTEGER ||
        range->element[1]->type != GST_REDIS_REPLY_INTEGER)
      continue;
    for (j = 2; j < range->elements; j++) {
      if (slots_node (node, range->element[j], &host, &port))
        gst_redis_addr_list_add (t->known_nodes, host, port);
    }
    if (owner->host == NULL && range->element[0]->integer <= t->slot &&
        t->slot <= range->element[1]->integer &&
        slots_node (node, range->element[2], &host, &port)) {
      owner->host = g_strdup (host);
      owner->port = port;
    }
  }
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
topology_discover (GstRedisTopology * t, GstRedisNode * node,
    GstRedisAddr * owner, gint64 deadline, GCancellable * cancellable,
    GError ** error)
{
  const gchar *desc = gst_redis_node_describe (node);
  g_autoptr (GstRedisReply) reply = NULL;

  reply = gst_redis_node_call (node, deadline, cancellable, error, "CLUSTER",
      "SLOTS", NULL);
  if (reply == NULL)
    return DISCOVER_FAILED;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    if (g_str_has_prefix (reply->str, "NOPERM"))
      GST_INFO ("%s: this user may not run CLUSTER SLOTS (%s); using the "
          "node as it is, following MOVED and ASK if it is a cluster",
          desc, reply->str);
    else
      GST_DEBUG ("%s is not a cluster node: %s", desc, reply->str);
    return DISCOVER_STANDALONE;
  }
  if (reply->type != GST_REDIS_REPLY_ARRAY) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "Redis at %s sent a CLUSTER SLOTS reply of unexpected shape", desc);
    gst_redis_node_close (node);
    return DISCOVER_FAILED;
  }

  t->mode = MODE_CLUSTER;
  topology_read_slot_map (t, node, reply, owner);
  if (owner->host == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "No node of the Redis Cluster at %s serves slot %u of stream \"%s\" "
        "(CLUSTERDOWN); assign the slot or wait for the failover", desc,
        t->slot, t->settings.stream);
    gst_redis_node_close (node);
    return DISCOVER_FAILED;
  }
  return DISCOVER_OWNER;
}

/* A node that thinks the cluster is down answers CLUSTERDOWN to every
 * command: not worth connecting to yet (a failover is on its way). */
static gboolean
topology_check_cluster_state (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;

  reply = gst_redis_node_call (node, deadline, cancellable, error, "CLUSTER",
      "INFO", NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_STRING
      || reply->type == GST_REDIS_REPLY_STATUS) {
    if (strstr (reply->str, "cluster_state:ok") == NULL) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE,
          "The Redis Cluster is down at %s (cluster_state is not ok); "
          "waiting for it to recover", gst_redis_node_describe (node));
      gst_redis_node_close (node);
      return FALSE;
    }
  }
  return TRUE;
}

/* The nodes to ask for the slot map, in order: the configured one, then
 * every node of the last slot map (the configured one may be the master
 * that died), the node just lost last. */
static GArray *
topology_candidates (GstRedisTopology * t, const gchar * last_host,
    guint last_port)
{
  GArray *candidates = gst_redis_addr_list_new ();
  guint i;

  gst_redis_addr_list_add (candidates, t->settings.host, t->settings.port);
  for (i = 0; i < t->known_nodes->len; i++) {
    GstRedisAddr *n = &g_array_index (t->known_nodes, GstRedisAddr, i);

    if (!gst_redis_addr_equal (n, last_host, last_port))
      gst_redis_addr_list_add (candidates, n->host, n->port);
  }
  if (t->known_nodes->len > 0)
    gst_redis_addr_list_add (candidates, last_host, last_port);
  return candidates;
}

/* Asks the node just opened where the stream is served, and goes there. */
static gboolean
topology_follow_slot_map (GstRedisTopology * t, GstRedisNode * node,
    GstRedisAddr * owner, gint64 deadline, GCancellable * cancellable,
    GError ** error)
{
  switch (topology_discover (t, node, owner, deadline, cancellable, error)) {
    case DISCOVER_STANDALONE:
      t->mode = MODE_STANDALONE;
      topology_redescribe (t, node);
      return TRUE;
    case DISCOVER_OWNER:
      if (!gst_redis_addr_equal (owner, gst_redis_node_get_host (node),
              gst_redis_node_get_port (node))) {
        GST_INFO ("stream \"%s\" (slot %u) is served by %s:%u",
            t->settings.stream, t->slot, owner->host, owner->port);
        if (!topology_open_node (t, node, owner->host, owner->port, deadline,
                cancellable, error))
          return FALSE;
      } else {
        topology_redescribe (t, node);
      }
      return topology_check_cluster_state (node, deadline, cancellable, error);
    case DISCOVER_FAILED:
      break;
  }
  return FALSE;
}

/* Redis Cluster or standalone: asks each candidate in turn for the slot
 * map, and connects to the owner of the stream's slot. */
static gboolean
topology_open_discover (GstRedisTopology * t, GstRedisNode * node,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  GstRedisAddr owner = { NULL, 0 };
  GArray *candidates;
  GError *err = NULL;
  gboolean ok = FALSE;
  guint i;

  candidates = topology_candidates (t, gst_redis_node_get_host (node),
      gst_redis_node_get_port (node));
  for (i = 0; i < candidates->len && !ok; i++) {
    GstRedisAddr *c = &g_array_index (candidates, GstRedisAddr, i);

    g_clear_error (&err);
    if (!topology_open_node (t, node, c->host, c->port, deadline, cancellable,
            &err)) {
      if (gst_redis_error_is_cancelled (err))
        break;
      GST_DEBUG ("%s", err->message);
      continue;
    }
    ok = topology_follow_slot_map (t, node, &owner, deadline, cancellable,
        &err);
    /* The slot map named an owner that cannot be reached (a master that
     * died and is not replaced yet), or the cluster is down: asking other
     * nodes would give the same answer. Wait for the next attempt. */
    if (!ok && owner.host)
      break;
    if (!ok && err && gst_redis_error_is_cancelled (err))
      break;
  }

  gst_redis_addr_clear (&owner);
  g_array_unref (candidates);
  if (!ok)
    g_propagate_error (error, err);
  else
    g_clear_error (&err);
  return ok;
}

/* Redis Sentinel */

/* Asks one sentinel where the master is (SENTINEL get-master-addr-by-name),
 * on @node described as a plain server. Returns FALSE with @error set when
 * it could not say. */
static gboolean
topology_ask_sentinel (GstRedisTopology * t, GstRedisNode * node,
    const GstRedisAddr * sentinel, gint64 deadline,
    GCancellable * cancellable, gchar ** host, guint * port, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;
  guint64 p;

  if (!topology_connect (t, node, sentinel->host, sentinel->port,
          MODE_STANDALONE, FALSE, deadline, cancellable, error)) {
    if (!gst_redis_error_is_cancelled (*error))
      GST_DEBUG ("sentinel: %s", (*error)->message);
    return FALSE;
  }
  reply = gst_redis_node_call (node, deadline, cancellable, error, "SENTINEL",
      "get-master-addr-by-name", t->settings.master_name, NULL);
  gst_redis_node_close (node);
  if (reply == NULL)
    return FALSE;
  if (reply->type != GST_REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != GST_REDIS_REPLY_STRING ||
      reply->element[1]->type != GST_REDIS_REPLY_STRING) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "The sentinel at %s:%u does not know a master named \"%s\" (%s)",
        sentinel->host, sentinel->port, t->settings.master_name,
        reply->type == GST_REDIS_REPLY_ERROR ? reply->str : "no address");
    GST_DEBUG ("%s", (*error)->message);
    return FALSE;
  }
  p = g_ascii_strtoull (reply->element[1]->str, NULL, 10);
  if (p == 0 || p > 65535)
    return FALSE;
  *host = g_strdup (reply->element[0]->str);
  *port = (guint) p;
  return TRUE;
}

/* Checks that the node a sentinel named says it is a master (ROLE); a ROLE
 * refused (NOPERM) trusts the sentinel. */
static gboolean
topology_check_master (GstRedisNode * node, const GstRedisAddr * sentinel,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstRedisReply) reply = NULL;

  reply = gst_redis_node_call (node, deadline, cancellable, error, "ROLE",
      NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ARRAY && reply->elements > 0 &&
      reply->element[0]->type == GST_REDIS_REPLY_STRING &&
      !g_str_equal (reply->element[0]->str, "master")) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "Redis at %s, named master by the sentinel at %s:%u, is a %s "
        "(failover in progress?)", gst_redis_node_describe (node),
        sentinel->host, sentinel->port, reply->element[0]->str);
    gst_redis_node_close (node);
    return FALSE;
  }
  return TRUE;
}

/* Asks each sentinel in turn where the master is, until one names a node
 * that is reachable and says it is a master. Sentinels are asked without
 * authentication, over TLS when the settings say so (the node connects
 * them like any server). */
static gboolean
topology_open_sentinel (GstRedisTopology * t, GstRedisNode * node,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &t->settings;
  GArray *tried = gst_redis_addr_list_new ();
  GError *err = NULL;
  gboolean ok = FALSE;
  guint i;

  for (i = 0; i < t->sentinels->len && !ok; i++) {
    GstRedisAddr *sentinel = &g_array_index (t->sentinels, GstRedisAddr, i);
    GstRedisAddr master = { NULL, 0 };

    g_clear_error (&err);
    if (!topology_ask_sentinel (t, node, sentinel, deadline, cancellable,
            &master.host, &master.port, &err)) {
      if (err && gst_redis_error_is_cancelled (err))
        break;
      continue;
    }
    if (!(tried->len > 0 && gst_redis_addr_equal (&g_array_index (tried,
                    GstRedisAddr, tried->len - 1), master.host, master.port))) {
      gst_redis_addr_list_add (tried, master.host, master.port);
      ok = topology_open_node (t, node, master.host, master.port, deadline,
          cancellable, &err)
          && topology_check_master (node, sentinel, deadline, cancellable,
          &err);
      if (ok)
        GST_INFO ("sentinel %s:%u: master \"%s\" is at %s", sentinel->host,
            sentinel->port, s->master_name, gst_redis_node_describe (node));
    }
    gst_redis_addr_clear (&master);
    if (!ok && err && gst_redis_error_is_cancelled (err))
      break;
  }
  g_array_unref (tried);

  if (ok) {
    g_clear_error (&err);
    return TRUE;
  }
  if (err && gst_redis_error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return FALSE;
  }
  /* a refused login or client certificate, or a TLS file that cannot be
   * read, keeps its code: no other sentinel will do better */
  g_set_error (error, GST_RESOURCE_ERROR, err && err->domain ==
      GST_RESOURCE_ERROR && (err->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED ||
          err->code == GST_RESOURCE_ERROR_SETTINGS) ? err->code :
      GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "Could not find the master \"%s\" through the sentinels %s: %s",
      s->master_name, s->sentinels, err ? err->message : "no answer");
  g_clear_error (&err);
  gst_redis_node_set_address (node, NULL, 0, gst_redis_settings_describe (s));
  return FALSE;
}

/* Follows the last MOVED or ASK; a target that cannot be reached sends us
 * back to the slot map. */
static gboolean
topology_open_redirect (GstRedisTopology * t, GstRedisNode * node,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  GstRedisAddr target = t->redirect;
  GError *err = NULL;
  gboolean ok;

  t->redirect.host = NULL;
  ok = topology_open_node (t, node, target.host, target.port, deadline,
      cancellable, &err);
  if (ok) {
    if (t->redirect_ask)
      gst_redis_node_set_asking (node);
    GST_INFO ("followed %s to %s", t->redirect_ask ? "ASK" : "MOVED",
        gst_redis_node_describe (node));
  } else if (!gst_redis_error_is_cancelled (err)) {
    GST_INFO ("could not follow the redirection (%s); asking the cluster",
        err->message);
    g_clear_error (&err);
    ok = topology_open_discover (t, node, deadline, cancellable, error);
  }
  if (err)
    g_propagate_error (error, err);
  gst_redis_addr_clear (&target);
  return ok;
}

/* Opens @node: to the configured server; in a Redis Cluster to the node
 * serving the stream's slot (or where the last MOVED or ASK pointed); with
 * sentinels to the master they name. Called again after the connection was
 * lost, it finds the server again the same way, so a failover is
 * followed. */
gboolean
gst_redis_topology_open (GstRedisTopology * t, GstRedisNode * node,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  if (t->mode == MODE_SENTINEL)
    return topology_open_sentinel (t, node, deadline, cancellable, error);
  /* A unix socket is a standalone server: redirections name TCP nodes */
  if (gst_redis_settings_use_socket (&t->settings))
    return topology_open_node (t, node, NULL, 0, deadline, cancellable, error);
  if (t->redirect.host)
    return topology_open_redirect (t, node, deadline, cancellable, error);
  return topology_open_discover (t, node, deadline, cancellable, error);
}

/* "MOVED <slot> <host>:<port>" or "ASK ...": where to go, in @target; an
 * empty host is the node itself. */
static gboolean
parse_redirect (GstRedisNode * node, gchar ** parts, GstRedisAddr * target)
{
  if (g_strv_length (parts) < 3)
    return FALSE;
  if (parts[2][0] == ':') {
    guint64 p = g_ascii_strtoull (parts[2] + 1, NULL, 10);

    if (p == 0 || p > 65535 || gst_redis_node_get_host (node) == NULL)
      return FALSE;
    target->host = g_strdup (gst_redis_node_get_host (node));
    target->port = (guint) p;
    return TRUE;
  }
  if (!gst_redis_parse_host_port (parts[2], 0, &target->host, &target->port))
    return FALSE;
  if (target->port == 0) {
    gst_redis_addr_clear (target);
    return FALSE;
  }
  return TRUE;
}

/* MOVED or ASK: remembers where to go at the next open (). */
static GstRedisRoute
topology_check_moved (GstRedisTopology * t, GstRedisNode * node,
    const GstRedisReply * reply, GError ** error)
{
  const gchar *desc = gst_redis_node_describe (node);
  gboolean ask = reply->str[0] == 'A';
  gchar **parts = g_strsplit (reply->str, " ", 4);
  GstRedisAddr target = { NULL, 0 };

  if (!parse_redirect (node, parts, &target)) {
    GST_WARNING ("%s: cannot follow \"%s\"", desc, reply->str);
    g_strfreev (parts);
    return GST_REDIS_ROUTE_HERE;
  }
  GST_INFO ("%s: stream \"%s\" (slot %s) %s %s:%u", desc, t->settings.stream,
      parts[1], ask ? "is being migrated, asked to go to" : "moved to",
      target.host, target.port);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "Redis at %s redirected stream \"%s\" to %s:%u (%s); reconnecting "
      "there", desc, t->settings.stream, target.host, target.port,
      ask ? "ASK" : "MOVED");
  gst_redis_addr_clear (&t->redirect);
  t->redirect = target;
  t->redirect_ask = ask;
  if (t->mode != MODE_SENTINEL)
    t->mode = MODE_CLUSTER;
  g_strfreev (parts);
  gst_redis_node_close (node);
  return GST_REDIS_ROUTE_REDIRECTED;
}

/* Error replies that mean "not here" or "not now" rather than "no": the
 * command went to a node that does not serve the stream (any more), or the
 * node cannot serve it at the moment. The node is closed as if it had
 * been lost, so that the element reconnects (open () goes where Redis
 * pointed); MOVED, ASK and READONLY return GST_REDIS_ROUTE_REDIRECTED, so
 * that a command can be sent again at once. @error is set unless the reply
 * is an answer (GST_REDIS_ROUTE_HERE). */
GstRedisRoute
gst_redis_topology_check_reply (GstRedisTopology * t, GstRedisNode * node,
    const GstRedisReply * reply, GError ** error)
{
  /* Not UNBLOCKED: Redis ends a blocked XREADGROUP with it when the key was
   * deleted, replaced or migrated, and the reader's next read tells which
   * (NOGROUP, WRONGTYPE, or an ASK/MOVED handled here). */
  static const gchar *const transient[] = {
    "CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN",
  };
  const gchar *desc = gst_redis_node_describe (node);
  const gchar *stream = t->settings.stream;
  guint i;

  if (reply->type != GST_REDIS_REPLY_ERROR || reply->str == NULL)
    return GST_REDIS_ROUTE_HERE;

  if (g_str_has_prefix (reply->str, "MOVED ") ||
      g_str_has_prefix (reply->str, "ASK "))
    return topology_check_moved (t, node, reply, error);

  if (g_str_has_prefix (reply->str, "READONLY")) {
    GST_INFO ("%s is a read-only replica now: %s", desc, reply->str);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Redis at %s became a read-only replica (%s); looking for the "
        "master again", desc, reply->str);
    gst_redis_node_close (node);
    return GST_REDIS_ROUTE_REDIRECTED;
  }

  for (i = 0; i < G_N_ELEMENTS (transient); i++) {
    if (g_str_has_prefix (reply->str, transient[i])) {
      GST_INFO ("%s cannot serve stream \"%s\" now: %s", desc, stream,
          reply->str);
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Redis at %s cannot serve stream \"%s\" right now (%s); "
          "reconnecting", desc, stream, reply->str);
      gst_redis_node_close (node);
      return GST_REDIS_ROUTE_UNAVAILABLE;
    }
  }
  return GST_REDIS_ROUTE_HERE;
}
