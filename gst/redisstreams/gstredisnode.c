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

/* One connection to one Redis server: the socket, its I/O and the login.
 *
 * The socket I/O is done with GIO rather than by hiredis: hiredis 0.14 writes
 * with plain write (), so a Redis server that goes away raises SIGPIPE in the
 * streaming thread and kills the application, and its blocking reads cannot
 * be interrupted. GSocket sends with MSG_NOSIGNAL, and every wait here is a
 * g_socket_condition_timed_wait () on the element's GCancellable, so
 * unlock () interrupts it at once. Replies are parsed by GstRedisReader
 * (gstredisreader.c), which receives a frame's bulk string in place, into
 * GstRedisReply trees. Commands are written by GstRedisCommand
 * (gstrediscommand.c), which references a frame instead of copying it.
 * hiredis is not used by the plugin at all: the tests use it as an
 * independent client (the fixture, and the reference the reply reader is
 * fuzzed against) and the transport benchmark as the plain-hiredis hop.
 *
 * With tls=true the socket is connected the same way, then carries a
 * GTlsClientConnection (gstredistls.c): bytes go through its pollable
 * streams, without blocking, and every wait is still on the socket with
 * the same deadline and cancellable. A bulk string is still received
 * straight into the buffer's memory (GnuTLS decrypts a record into its own
 * buffer and copies it out: the one copy TLS costs on the way in). The
 * plain path is untouched: one test of node->tls per read and write.
 *
 * Errors are returned as GError in GST_RESOURCE_ERROR (or G_IO_ERROR_CANCELLED
 * when the wait was cancelled); nothing here posts messages, the element
 * does. After any error other than a cancelled wait the node is closed,
 * because its protocol state is unknown. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisnode.h"
#include "gstredistls.h"
#include "gstredisdebug.h"

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <gio/gunixsocketaddress.h>

#define GST_CAT_DEFAULT gst_redis_connection_debug

/* Requested send buffer of a unix socket (the kernel doubles it for its
 * bookkeeping and caps it at net.core.wmem_max). */
#define UNIX_SNDBUF (8 * 1024 * 1024)

/* With TLS, pieces of a command shorter than this are gathered into one
 * buffer before they are sent (see tls_gather ()); 16 KiB is the largest
 * TLS record. */
#define TLS_GATHER_MAX (16 * 1024)

struct _GstRedisNode
{
  GstRedisSettings settings;
  /* the server: host NULL is the settings' socket-path */
  gchar *host;
  guint port;
  /* "Redis at %s" in messages */
  gchar *description;

  GSocket *socket;
  /* tls=true: what every connection shares (CAs, client certificate), and
   * the TLS connection on the socket with its pollable streams */
  GstRedisTls *tls_config;
  GIOStream *tls;
  GPollableInputStream *tls_in;
  GPollableOutputStream *tls_out;
  GByteArray *tls_gathered;
  GstRedisReader *reader;
  /* longer bulk strings are dropped by the reader */
  guint64 max_bulk;
  /* replies owed to the commands sent */
  guint pending;
  /* after ASK: every command is preceded by ASKING, whose +OK is dropped */
  gboolean asking;
  gboolean asking_reply_next;
  /* the last close was the server's doing (EOF, reset, broken pipe) */
  gboolean closed_by_peer;
  /* no byte received on this connection yet, and the first one: a failure
   * before the first reply is explained (TLS on one side only) */
  gboolean fresh;
  guint8 first_byte;

  guint64 bytes_sent;
  guint64 bytes_received;
  /* connections made so far: replies owed on an earlier one never come */
  guint serial;
  /* the cancellable of the last wait, with a poll fd of it held
   * (wait_socket ()) */
  GCancellable *held;
};

/* Sent before each command after an ASK redirection: the importing node
 * serves the one next command for the slot it is importing. */
static const gchar asking_command[] = "*1\r\n$6\r\nASKING\r\n";

static gssize node_receive (GstRedisNode * node, GError ** error);

/* The monotonic time @ms milliseconds from now. */
gint64
gst_redis_deadline_after (guint ms)
{
  return g_get_monotonic_time () + (gint64) ms *G_TIME_SPAN_MILLISECOND;
}

gboolean
gst_redis_error_is_cancelled (const GError * err)
{
  return g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

GstRedisNode *
gst_redis_node_new (const GstRedisSettings * settings)
{
  GstRedisNode *node;

  node = g_new0 (GstRedisNode, 1);
  gst_redis_settings_init (&node->settings);
  gst_redis_settings_copy (&node->settings, settings);
  node->max_bulk = GST_REDIS_READER_MAX_BULK;
  node->description = gst_redis_settings_describe (settings);
  if (settings->tls) {
    node->tls_config = gst_redis_tls_new (settings);
    node->tls_gathered = g_byte_array_new ();
  }
  return node;
}

void
gst_redis_node_free (GstRedisNode * node)
{
  if (node == NULL)
    return;
  gst_redis_node_close (node);
  if (node->held) {
    g_cancellable_release_fd (node->held);
    g_object_unref (node->held);
  }
  gst_redis_tls_free (node->tls_config);
  g_clear_pointer (&node->tls_gathered, g_byte_array_unref);
  gst_redis_settings_clear (&node->settings);
  g_free (node->host);
  g_free (node->description);
  g_free (node);
}

/* Values (bulk strings) longer than @max bytes in a reply are not read into
 * memory: the reply has a GST_REDIS_REPLY_ERROR element in their place, whose
 * text says why. */
void
gst_redis_node_set_max_bulk (GstRedisNode * node, guint64 max)
{
  node->max_bulk = max;
  if (node->reader)
    gst_redis_reader_set_max_bulk (node->reader, max);
}

/* Where the next gst_redis_node_connect () goes (@host NULL: the unix
 * socket of the settings), and how messages name it. Takes @description. */
void
gst_redis_node_set_address (GstRedisNode * node, const gchar * host,
    guint port, gchar * description)
{
  if (host != node->host) {
    g_free (node->host);
    node->host = g_strdup (host);
  }
  node->port = port;
  gst_redis_node_set_description (node, description);
}

void
gst_redis_node_set_description (GstRedisNode * node, gchar * description)
{
  g_free (node->description);
  node->description = description;
}

const gchar *
gst_redis_node_describe (GstRedisNode * node)
{
  return node->description;
}

const gchar *
gst_redis_node_get_host (GstRedisNode * node)
{
  return node->host;
}

guint
gst_redis_node_get_port (GstRedisNode * node)
{
  return node->port;
}

gboolean
gst_redis_node_is_open (GstRedisNode * node)
{
  return node->socket != NULL;
}

/* ASK: this node serves the stream while its slot migrates here; each
 * command needs ASKING until the migration ends (or the node is closed). */
void
gst_redis_node_set_asking (GstRedisNode * node)
{
  node->asking = TRUE;
  node->asking_reply_next = TRUE;
}

/* TRUE when the node was closed because the server had closed it: an end
 * of file, a reset or a broken pipe, not a timeout. Redis closes
 * connections it considers idle (`timeout`), killed (CLIENT KILL) or those
 * of the process that exited (a restart); a new connection may well work at
 * once. */
gboolean
gst_redis_node_closed_by_peer (GstRedisNode * node)
{
  return node->closed_by_peer;
}

/* Before a new attempt to open: forgets how the last connection ended. */
void
gst_redis_node_reset_closed_by_peer (GstRedisNode * node)
{
  node->closed_by_peer = FALSE;
}

/* TLS: receives what can be received without waiting. Returns FALSE when
 * nothing could (the socket was readable for TLS records without data:
 * a session ticket, a key update), TRUE when bytes came, or the end of
 * the connection or an error, which the next read finds again. */
static gboolean
tls_receive_now (GstRedisNode * node)
{
  GError *err = NULL;
  gssize n = node_receive (node, &err);

  if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    g_error_free (err);
    return FALSE;
  }
  g_clear_error (&err);
  return TRUE;
}

/* Checks, without waiting, a connection that owes no reply: if the socket
 * is readable or hung up, the server closed it while it was idle (or sent
 * something nobody asked for). The node is then closed, and TRUE returned,
 * so that the caller opens a new one before sending a command that would
 * otherwise be lost with it. */
gboolean
gst_redis_node_check_idle_closed (GstRedisNode * node)
{
  GIOCondition cond;

  if (node->socket == NULL || node->pending > 0)
    return FALSE;
  cond = g_socket_condition_check (node->socket, G_IO_IN | G_IO_HUP | G_IO_ERR);
  if (cond == 0)
    return FALSE;
  /* TLS records without data (a session ticket) make the socket readable
   * too: only what a read finds tells */
  if (node->tls && cond == G_IO_IN && !tls_receive_now (node))
    return FALSE;
  GST_INFO ("Redis at %s closed the idle connection", node->description);
  gst_redis_node_close (node);
  node->closed_by_peer = TRUE;
  return TRUE;
}

/* TRUE when a reply or a Pub/Sub message can be read without waiting (or
 * the connection was closed: reading then says so). */
gboolean
gst_redis_node_can_read (GstRedisNode * node)
{
  if (node->socket == NULL)
    return FALSE;
  if (node->reader && gst_redis_reader_has_input (node->reader))
    return TRUE;
  if (node->tls)
    return tls_receive_now (node);
  return g_socket_condition_check (node->socket,
      G_IO_IN | G_IO_HUP | G_IO_ERR) != 0;
}

guint
gst_redis_node_get_pending (GstRedisNode * node)
{
  return node->pending;
}

guint64
gst_redis_node_get_bytes_received (GstRedisNode * node)
{
  return node->bytes_received;
}

guint64
gst_redis_node_get_bytes_sent (GstRedisNode * node)
{
  return node->bytes_sent;
}

/* Changes with every connection made: a reply owed to a command sent
 * under another serial never comes. */
guint
gst_redis_node_get_serial (GstRedisNode * node)
{
  return node->serial;
}

void
gst_redis_node_close (GstRedisNode * node)
{
  if (node->socket) {
    GST_DEBUG ("closing connection to %s", node->description);
    g_socket_close (node->socket, NULL);
    /* after the socket: closing the TLS connection then cannot wait for
     * its close_notify to go out to a server that stopped reading */
    g_clear_object (&node->tls);
    node->tls_in = NULL;
    node->tls_out = NULL;
    g_clear_object (&node->socket);
  }
  g_clear_pointer (&node->reader, gst_redis_reader_free);
  node->pending = 0;
  node->asking = FALSE;
}

/* Waits for @condition until @deadline (monotonic, us).
 *
 * g_socket_condition_timed_wait () polls the cancellable's fd too, which
 * GLib makes for the wait and closes after it when nobody else holds one:
 * an eventfd () and a close () per wait, three waits per frame in a
 * source. The node holds one of the cancellable it waits with, so that
 * the fd stays. */
static gboolean
wait_socket (GstRedisNode * node, GIOCondition condition, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  gint64 remaining = MAX (deadline - g_get_monotonic_time (), 0);

  if (cancellable != node->held) {
    GPollFD fd;

    if (node->held) {
      g_cancellable_release_fd (node->held);
      g_object_unref (node->held);
      node->held = NULL;
    }
    if (cancellable && g_cancellable_make_pollfd (cancellable, &fd))
      node->held = g_object_ref (cancellable);
  }

  return g_socket_condition_timed_wait (node->socket, condition, remaining,
      cancellable, error);
}

/* A failure (@err NULL: the server closed the connection) before the first
 * byte of the first reply of a TCP connection: TLS on one side only, or a
 * client certificate the server wants. Sets @error and returns TRUE when
 * that explains it. */
static gboolean
node_explain_first_reply (GstRedisNode * node, const GError * err,
    GError ** error)
{
  if (!node->fresh || node->host == NULL)
    return FALSE;
  return gst_redis_tls_explain_first_reply (node->tls_config, node->tls != NULL,
      err, node->description, node->port, error);
}

/* Turns an I/O failure into a GST_RESOURCE_ERROR and closes the node,
 * unless it was a cancellation, which leaves the node as it is. */
static void
fail_io (GstRedisNode * node, GError * err, GstResourceError code,
    const gchar * what, GError ** error)
{
  gboolean closed_by_peer;

  if (gst_redis_error_is_cancelled (err)) {
    g_propagate_error (error, err);
    return;
  }
  closed_by_peer = gst_redis_tls_error_is_closed (err);
  if (node_explain_first_reply (node, err, error)) {
    /* said */
  } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    g_set_error (error, GST_RESOURCE_ERROR, code,
        "Timed out %s Redis at %s", what, node->description);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR, code,
        "Lost the connection to Redis at %s while %s: %s",
        node->description, what, err->message);
  }
  g_error_free (err);
  gst_redis_node_close (node);
  node->closed_by_peer = closed_by_peer;
}

/* Drops what @n bytes sent of @vectors covered; returns the vectors left. */
static guint
vectors_advance (GOutputVector ** vectors, guint n_vectors, gsize n)
{
  GOutputVector *v = *vectors;

  while (n_vectors > 0 && n >= v->size) {
    n -= v->size;
    v++;
    n_vectors--;
  }
  if (n_vectors > 0 && n > 0) {
    v->buffer = (const guint8 *) v->buffer + n;
    v->size -= n;
  }
  *vectors = v;
  return n_vectors;
}

/* TLS sends each write as one record at least, with its own syscall and
 * 22 bytes of its own: the small pieces of a command (the array header,
 * the arguments copied into the command) are gathered into one buffer,
 * while a frame is encrypted from where it is. Rewrites @vectors; returns
 * how many there are now. The gathered bytes stay put until the next
 * command, as GnuTLS wants the same buffer again after a write that would
 * have blocked. */
static guint
tls_gather (GstRedisNode * node, GOutputVector * vectors, guint n_vectors)
{
  gsize small = 0;
  guint8 *p;
  guint i, j;

  for (i = 0; i < n_vectors; i++) {
    if (vectors[i].size < TLS_GATHER_MAX)
      small += vectors[i].size;
  }
  g_byte_array_set_size (node->tls_gathered, small);
  p = node->tls_gathered->data;

  for (i = 0, j = 0; i < n_vectors; j++) {
    guint8 *start = p;

    if (vectors[i].size >= TLS_GATHER_MAX) {
      vectors[j] = vectors[i++];
      continue;
    }
    while (i < n_vectors && vectors[i].size < TLS_GATHER_MAX) {
      memcpy (p, vectors[i].buffer, vectors[i].size);
      p += vectors[i].size;
      i++;
    }
    vectors[j].buffer = start;
    vectors[j].size = p - start;
  }
  return j;
}

/* Writes what can be written of @vectors now, like g_socket_send_message ()
 * (-1 with G_IO_ERROR_WOULD_BLOCK when nothing can). */
static gssize
node_write (GstRedisNode * node, GOutputVector * vectors, guint n_vectors,
    GError ** error)
{
  gsize written = 0;

  if (node->tls == NULL)
    return g_socket_send_message (node->socket, NULL, vectors, n_vectors,
        NULL, 0, 0, NULL, error);

  switch (g_pollable_output_stream_writev_nonblocking (node->tls_out, vectors,
          n_vectors, &written, NULL, error)) {
    case G_POLLABLE_RETURN_OK:
      return written;
    case G_POLLABLE_RETURN_WOULD_BLOCK:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
          "Would block");
      return -1;
    default:
      return -1;
  }
}

static gboolean
send_vectors (GstRedisNode * node, GOutputVector * vectors, guint n_vectors,
    gsize total, gint64 deadline, GCancellable * cancellable, GError ** error)
{
  gsize sent = 0;
  GError *err = NULL;

  if (node->tls)
    n_vectors = tls_gather (node, vectors, n_vectors);

  while (n_vectors > 0) {
    gssize n = node_write (node, vectors, n_vectors, &err);

    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&err);
        if (wait_socket (node, G_IO_OUT, deadline, cancellable, &err))
          continue;
      }
      goto failed;
    }
    sent += n;
    node->bytes_sent += n;
    n_vectors = vectors_advance (&vectors, n_vectors, n);
  }
  g_assert (sent == total);
  return TRUE;

  /* ERRORS */
failed:
  {
    /* A command cut in the middle leaves the protocol out of step: the
     * connection cannot be used for anything else. */
    if (sent > 0 && gst_redis_error_is_cancelled (err)) {
      g_clear_error (&err);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
          "Cancelled in the middle of a command");
      gst_redis_node_close (node);
      return FALSE;
    }
    fail_io (node, err, GST_RESOURCE_ERROR_WRITE, "sending to", error);
    return FALSE;
  }
}

gboolean
gst_redis_node_send (GstRedisNode * node, GstRedisCommand * cmd,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  GOutputVector stack_vectors[16];
  GOutputVector *vectors = stack_vectors;
  gchar head[GST_REDIS_COMMAND_HEAD_SIZE];
  guint first, n_vectors;
  gsize total = 0;
  gboolean ret;

  if (node->socket == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Not connected to Redis at %s", node->description);
    return FALSE;
  }

  first = node->asking ? 1 : 0;
  n_vectors = first + gst_redis_command_n_vectors (cmd);
  if (n_vectors > G_N_ELEMENTS (stack_vectors))
    vectors = g_new (GOutputVector, n_vectors);

  if (node->asking) {
    vectors[0].buffer = asking_command;
    vectors[0].size = sizeof (asking_command) - 1;
    total += vectors[0].size;
  }
  total += gst_redis_command_get_vectors (cmd, head, vectors + first);

  ret = send_vectors (node, vectors, n_vectors, total, deadline, cancellable,
      error);
  if (ret)
    node->pending++;

  if (vectors != stack_vectors)
    g_free (vectors);
  return ret;
}

/* Receives where the reader wants the bytes: a frame's bulk string straight
 * into the memory that becomes the buffer's. Returns what g_socket_receive ()
 * returned. */
static gssize
node_receive (GstRedisNode * node, GError ** error)
{
  gsize space;
  guint8 *dest = gst_redis_reader_get_space (node->reader, &space);
  gssize n;

  if (node->tls == NULL)
    n = g_socket_receive (node->socket, (gchar *) dest, MIN (space, G_MAXINT),
        NULL, error);
  else
    n = g_pollable_input_stream_read_nonblocking (node->tls_in, dest,
        MIN (space, G_MAXINT), NULL, error);
  if (n > 0) {
    if (node->fresh) {
      node->first_byte = dest[0];
      node->fresh = FALSE;
    }
    node->bytes_received += n;
    gst_redis_reader_advance (node->reader, n);
  }
  return n;
}

/* A complete reply from what was received, skipping ASKING's +OK. Returns
 * FALSE (the node closed) when the reply does not parse. */
static gboolean
node_parse_reply (GstRedisNode * node, GstRedisReply ** reply, GError ** error)
{
  GError *err = NULL;

  for (;;) {
    if (!gst_redis_reader_get_reply (node->reader, reply, &err)) {
      if (node->tls || node->host == NULL ||
          !gst_redis_tls_explain_first_byte (node->first_byte,
              node->description, node->port, error))
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            "Could not parse the reply from Redis at %s: %s",
            node->description, err->message);
      g_clear_error (&err);
      gst_redis_node_close (node);
      return FALSE;
    }
    if (*reply == NULL || !node->asking)
      break;
    /* replies alternate: ASKING's +OK, then the command's */
    if (!node->asking_reply_next) {
      node->asking_reply_next = TRUE;
      break;
    }
    node->asking_reply_next = FALSE;
    g_clear_pointer (reply, gst_redis_reply_free);
  }
  if (*reply && node->pending > 0)
    node->pending--;
  return TRUE;
}

GstRedisReply *
gst_redis_node_read_reply (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  GError *err = NULL;

  if (node->socket == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "Not connected to Redis at %s", node->description);
    return NULL;
  }

  for (;;) {
    GstRedisReply *reply = NULL;
    gssize n;

    if (!node_parse_reply (node, &reply, error))
      return NULL;
    if (reply)
      return reply;

    n = node_receive (node, &err);
    if (n > 0)
      continue;
    if (n == 0)
      goto closed;
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      if (wait_socket (node, G_IO_IN, deadline, cancellable, &err))
        continue;
    }
    fail_io (node, err, GST_RESOURCE_ERROR_READ, "waiting for a reply from",
        error);
    return NULL;
  }

  /* ERRORS */
closed:
  {
    if (!node_explain_first_reply (node, NULL, error))
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "Redis at %s closed the connection", node->description);
    gst_redis_node_close (node);
    node->closed_by_peer = TRUE;
    return NULL;
  }
}

/* One command and its reply; replies still owed to earlier commands are
 * read and dropped first. */
GstRedisReply *
gst_redis_node_call_command (GstRedisNode * node, GstRedisCommand * cmd,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  while (node->pending > 0) {
    GstRedisReply *stale = gst_redis_node_read_reply (node, deadline,
        cancellable, error);

    if (stale == NULL)
      return NULL;
    gst_redis_reply_free (stale);
  }
  if (!gst_redis_node_send (node, cmd, deadline, cancellable, error))
    return NULL;
  return gst_redis_node_read_reply (node, deadline, cancellable, error);
}

GstRedisReply *
gst_redis_node_call (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error, const gchar * first_arg, ...)
{
  GstRedisCommand cmd;
  GstRedisReply *reply;
  va_list args;

  va_start (args, first_arg);
  gst_redis_command_init_valist (&cmd, first_arg, args);
  va_end (args);

  reply = gst_redis_node_call_command (node, &cmd, deadline, cancellable,
      error);
  gst_redis_command_clear (&cmd);
  return reply;
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

/* Logs in: AUTH when there is a password, a PING, SELECT for a database
 * other than 0. */
gboolean
gst_redis_node_login (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &node->settings;
  g_autoptr (GstRedisReply) reply = NULL;

  if (s->password && *s->password) {
    if (s->username && *s->username)
      reply = gst_redis_node_call (node, deadline, cancellable, error, "AUTH",
          s->username, s->password, NULL);
    else
      reply = gst_redis_node_call (node, deadline, cancellable, error, "AUTH",
          s->password, NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == GST_REDIS_REPLY_ERROR) {
      /* The reply is Redis's own text (WRONGPASS ...), which never echoes
       * the password. */
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s refused the credentials of user \"%s\" (%s); check "
          "the username and password properties", node->description,
          s->username && *s->username ? s->username : "default", reply->str);
      return FALSE;
    }
    g_clear_pointer (&reply, gst_redis_reply_free);
  }

  /* A PING tells a server that wants a password from one that does not,
   * before the first real command. */
  reply =
      gst_redis_node_call (node, deadline, cancellable, error, "PING", NULL);
  if (reply == NULL)
    return FALSE;
  if (reply->type == GST_REDIS_REPLY_ERROR) {
    if (g_str_has_prefix (reply->str, "NOAUTH")) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s requires authentication (%s); set the password "
          "property (and username for an ACL user)", node->description,
          reply->str);
    } else if (g_str_has_prefix (reply->str, "NOPERM")) {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED,
          "Redis at %s does not let this user run PING (%s); the elements "
          "need +ping: add it to the user's ACL", node->description,
          reply->str);
    } else {
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Redis at %s is not ready (%s)",
          node->description, reply->str);
    }
    return FALSE;
  }
  g_clear_pointer (&reply, gst_redis_reply_free);

  if (s->db != 0) {
    gchar db[16];

    g_snprintf (db, sizeof (db), "%u", s->db);
    reply =
        gst_redis_node_call (node, deadline, cancellable, error, "SELECT", db,
        NULL);
    if (reply == NULL)
      return FALSE;
    if (reply->type == GST_REDIS_REPLY_ERROR) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Redis at %s cannot select database %u: %s", node->description,
          s->db, reply->str);
      return FALSE;
    }
  }
  return TRUE;
}

/* Connects to the address set with gst_redis_node_set_address (), without
 * logging in. */
gboolean
gst_redis_node_connect (GstRedisNode * node, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  const GstRedisSettings *s = &node->settings;
  const gchar *host = node->host;
  GError *err = NULL;

  gst_redis_node_close (node);
  if (host == NULL) {
    GSocketAddress *addr = g_unix_socket_address_new (s->socket_path);

    node->socket = connect_address (addr, deadline, cancellable, &err);
    g_object_unref (addr);
  } else {
    GResolver *resolver = g_resolver_get_default ();
    GList *addresses, *l;

    addresses = g_resolver_lookup_by_name (resolver, host, cancellable, &err);
    g_object_unref (resolver);
    for (l = addresses; l && node->socket == NULL; l = l->next) {
      GSocketAddress *addr = g_inet_socket_address_new (l->data, node->port);

      g_clear_error (&err);
      node->socket = connect_address (addr, deadline, cancellable, &err);
      g_object_unref (addr);
    }
    g_resolver_free_addresses (addresses);
  }

  if (node->socket == NULL) {
    if (err && gst_redis_error_is_cancelled (err)) {
      g_propagate_error (error, err);
      return FALSE;
    }
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "Could not connect to Redis at %s: %s. Is redis-server running "
        "there?", node->description, err ? err->message : "no address");
    g_clear_error (&err);
    return FALSE;
  }

  if (node->tls_config && host) {
    node->tls = gst_redis_tls_handshake (node->tls_config, node->socket, host,
        node->port, node->description, deadline, cancellable, error);
    if (node->tls == NULL) {
      gst_redis_node_close (node);
      return FALSE;
    }
    node->tls_in =
        G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (node->tls));
    node->tls_out =
        G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (node->tls));
  }

  node->fresh = TRUE;
  node->reader = gst_redis_reader_new ();
  gst_redis_reader_set_max_bulk (node->reader, node->max_bulk);
  node->pending = 0;
  node->serial++;
  return TRUE;
}
