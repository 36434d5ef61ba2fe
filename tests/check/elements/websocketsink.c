/* GStreamer
 * Copyright (C) 2024 gst-redis-streams contributors
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

/* websocketsink against real clients on loopback: libsoup's WebSocket
 * client on its own thread and context, and raw sockets for the clients
 * libsoup would not let us be (one that stalls, one that sends garbage). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "../testwait.h"

#define WAIT_S 10
#define CAPTURE_BASE G_GINT64_CONSTANT (1700000000000000000)

/* One lock and condition for every client's state; tests wait on them */
static GMutex test_lock;
static GCond test_cond;

/* ---- the client thread ---- */

typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupSession *session;
  gboolean ready;
} ClientLoop;

static gpointer
client_loop_thread (gpointer data)
{
  ClientLoop *cl = data;

  g_main_context_push_thread_default (cl->context);
  /* A libsoup 3 session belongs to the context it was created in */
  cl->session = soup_session_new ();
  g_mutex_lock (&test_lock);
  cl->ready = TRUE;
  g_cond_broadcast (&test_cond);
  g_mutex_unlock (&test_lock);

  g_main_loop_run (cl->loop);

  g_clear_object (&cl->session);
  while (g_main_context_iteration (cl->context, FALSE));
  g_main_context_pop_thread_default (cl->context);

  return NULL;
}

static ClientLoop *
client_loop_new (void)
{
  ClientLoop *cl = g_new0 (ClientLoop, 1);

  cl->context = g_main_context_new ();
  cl->loop = g_main_loop_new (cl->context, FALSE);
  cl->thread = g_thread_new ("test-clients", client_loop_thread, cl);
  g_mutex_lock (&test_lock);
  while (!cl->ready)
    g_cond_wait (&test_cond, &test_lock);
  g_mutex_unlock (&test_lock);

  return cl;
}

typedef struct
{
  GSourceFunc func;
  gpointer data;
  gboolean done;
} ClientCall;

static gboolean
client_call_cb (gpointer data)
{
  ClientCall *call = data;

  call->func (call->data);
  g_mutex_lock (&test_lock);
  call->done = TRUE;
  g_cond_broadcast (&test_cond);
  g_mutex_unlock (&test_lock);

  return G_SOURCE_REMOVE;
}

/* Runs @func on the client thread and waits for it */
static void
client_loop_call (ClientLoop * cl, GSourceFunc func, gpointer data)
{
  ClientCall call = { func, data, FALSE };

  g_main_context_invoke (cl->context, client_call_cb, &call);
  g_mutex_lock (&test_lock);
  while (!call.done)
    g_cond_wait (&test_cond, &test_lock);
  g_mutex_unlock (&test_lock);
}

static gboolean
quit_loop_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
client_loop_free (ClientLoop * cl)
{
  g_main_context_invoke (cl->context, quit_loop_cb, cl->loop);
  g_thread_join (cl->thread);
  g_main_loop_unref (cl->loop);
  g_main_context_unref (cl->context);
  g_free (cl);
}

/* ---- a WebSocket client (libsoup) ---- */

typedef struct
{
  ClientLoop *cl;
  guint port;
  gchar *origin;
  SoupMessage *msg;
  SoupWebsocketConnection *conn;
  /* Keep only the header and the JPEG's first bytes of each message, so
   * the test's own memory does not hide the server's */
  gboolean headers_only;

  /* under test_lock */
  gboolean connect_done;
  gboolean connected;
  guint status;
  GPtrArray *messages;
  /* GstClockTime on the system clock (the pipelines' clock) at which each
   * message arrived */
  GArray *arrivals;
  gboolean closed;
  gushort close_code;
} WsClient;

static void
on_ws_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  WsClient *c = user_data;
  gsize size = g_bytes_get_size (message);
  GstClock *clock = gst_system_clock_obtain ();
  GstClockTime now = gst_clock_get_time (clock);

  gst_object_unref (clock);
  if (c->headers_only && size > 4) {
    gsize keep = GST_READ_UINT32_BE (g_bytes_get_data (message, NULL)) + 6;

    /* A copy: a sub-GBytes would keep the whole message alive */
    message = g_bytes_new (g_bytes_get_data (message, NULL), MIN (keep, size));
  } else {
    g_bytes_ref (message);
  }

  g_mutex_lock (&test_lock);
  g_ptr_array_add (c->messages, message);
  g_array_append_val (c->arrivals, now);
  g_cond_broadcast (&test_cond);
  g_mutex_unlock (&test_lock);
}

static void
on_ws_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  WsClient *c = user_data;

  g_mutex_lock (&test_lock);
  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (conn);
  g_cond_broadcast (&test_cond);
  g_mutex_unlock (&test_lock);
}

static void
on_ws_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  WsClient *c = user_data;
  SoupWebsocketConnection *conn;
  GError *err = NULL;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &err);
  if (conn != NULL) {
    /* Frames can be bigger than libsoup's 128 KiB default */
    soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
    g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), c);
    g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), c);
  } else {
    GST_INFO ("connect failed: %s", err->message);
    g_clear_error (&err);
  }

  g_mutex_lock (&test_lock);
  c->conn = conn;
  c->connected = (conn != NULL);
  c->status = soup_message_get_status (c->msg);
  c->connect_done = TRUE;
  g_cond_broadcast (&test_cond);
  g_mutex_unlock (&test_lock);
}

static gboolean
ws_client_start_cb (gpointer data)
{
  WsClient *c = data;
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/ws", c->port);

  c->msg = soup_message_new ("GET", uri);
  g_free (uri);
  soup_session_websocket_connect_async (c->cl->session, c->msg, c->origin,
      NULL, G_PRIORITY_DEFAULT, NULL, on_ws_connected, c);

  return G_SOURCE_REMOVE;
}

/* Connects and waits for the handshake's outcome (see ->connected) */
static WsClient *
ws_client_new_full (ClientLoop * cl, guint port, const gchar * origin,
    gboolean headers_only)
{
  WsClient *c = g_new0 (WsClient, 1);
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  c->cl = cl;
  c->port = port;
  c->origin = g_strdup (origin);
  c->headers_only = headers_only;
  c->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  c->arrivals = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  client_loop_call (cl, ws_client_start_cb, c);

  g_mutex_lock (&test_lock);
  while (!c->connect_done)
    if (!g_cond_wait_until (&test_cond, &test_lock, deadline))
      break;
  g_mutex_unlock (&test_lock);
  fail_unless (c->connect_done, "WebSocket handshake did not complete");

  return c;
}

static WsClient *
ws_client_new (ClientLoop * cl, guint port, const gchar * origin)
{
  return ws_client_new_full (cl, port, origin, FALSE);
}

static gboolean
ws_client_close_cb (gpointer data)
{
  WsClient *c = data;

  if (c->conn) {
    g_signal_handlers_disconnect_by_data (c->conn, c);
    if (soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_clear_object (&c->conn);
  }
  g_clear_object (&c->msg);

  return G_SOURCE_REMOVE;
}

static void
ws_client_free (WsClient * c)
{
  client_loop_call (c->cl, ws_client_close_cb, c);
  g_ptr_array_unref (c->messages);
  g_array_unref (c->arrivals);
  g_free (c->origin);
  g_free (c);
}

static guint
ws_client_n_messages (WsClient * c)
{
  guint n;

  g_mutex_lock (&test_lock);
  n = c->messages->len;
  g_mutex_unlock (&test_lock);

  return n;
}

static gboolean
ws_client_wait_messages (WsClient * c, guint n, gint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  gboolean ok;

  g_mutex_lock (&test_lock);
  while (c->messages->len < n && !c->closed)
    if (!g_cond_wait_until (&test_cond, &test_lock, deadline))
      break;
  ok = c->messages->len >= n;
  g_mutex_unlock (&test_lock);

  return ok;
}

static gboolean
ws_client_wait_closed (WsClient * c, gint seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  gboolean closed;

  g_mutex_lock (&test_lock);
  while (!c->closed)
    if (!g_cond_wait_until (&test_cond, &test_lock, deadline))
      break;
  closed = c->closed;
  g_mutex_unlock (&test_lock);

  return closed;
}

typedef struct
{
  WsClient *client;
  GBytes *bytes;
  SoupWebsocketDataType type;
} WsSend;

static gboolean
ws_client_send_cb (gpointer data)
{
  WsSend *send = data;

  soup_websocket_connection_send_message (send->client->conn, send->type,
      send->bytes);

  return G_SOURCE_REMOVE;
}

static void
ws_client_send (WsClient * c, GBytes * bytes)
{
  WsSend send = { c, bytes, SOUP_WEBSOCKET_DATA_BINARY };

  client_loop_call (c->cl, ws_client_send_cb, &send);
}

/* Sends @text as a text message */
static void
ws_client_send_text (WsClient * c, const gchar * text)
{
  GBytes *bytes = g_bytes_new (text, strlen (text));
  WsSend send = { c, bytes, SOUP_WEBSOCKET_DATA_TEXT };

  client_loop_call (c->cl, ws_client_send_cb, &send);
  g_bytes_unref (bytes);
}

/* ---- the wire format ---- */

/* Checks the framing and returns the header; @jpeg points into @message */
static JsonObject *
frame_parse (GBytes * message, const guint8 ** jpeg, gsize * jpeg_len)
{
  JsonParser *parser;
  JsonObject *header;
  const guint8 *data;
  gsize size;
  guint32 n;
  GError *err = NULL;

  data = g_bytes_get_data (message, &size);
  fail_unless (size > 4);
  n = GST_READ_UINT32_BE (data);
  fail_unless (4 + n < size, "header length %u, message %" G_GSIZE_FORMAT,
      n, size);

  parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (parser, (const gchar *) data + 4,
          n, &err), "bad JSON header: %s", err ? err->message : "");
  fail_unless (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  header = json_object_ref (json_node_get_object (json_parser_get_root
          (parser)));
  g_object_unref (parser);

  *jpeg = data + 4 + n;
  *jpeg_len = size - 4 - n;

  return header;
}

static gint64
frame_seq (GBytes * message)
{
  const guint8 *jpeg;
  gsize jpeg_len;
  JsonObject *header = frame_parse (message, &jpeg, &jpeg_len);
  gint64 seq = json_object_get_int_member (header, "seq");

  json_object_unref (header);
  return seq;
}

/* ---- pipelines ---- */

static GstElement *
pipeline_new (const gchar * description, GstElement ** sink)
{
  GstElement *pipeline;
  GError *err = NULL;

  pipeline = gst_parse_launch (description, &err);
  fail_unless (pipeline != NULL, "%s: %s", description,
      err ? err->message : "");
  g_clear_error (&err);
  *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (*sink != NULL);

  return pipeline;
}

/* To PAUSED: the server runs from here on. Returns the bound port. */
static guint
pipeline_pause (GstElement * pipeline, GstElement * sink)
{
  GstStateChangeReturn ret;
  gint port = 0;

  ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  fail_unless (ret != GST_STATE_CHANGE_FAILURE);
  ret = gst_element_get_state (pipeline, NULL, NULL, 10 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_SUCCESS ||
      ret == GST_STATE_CHANGE_NO_PREROLL, "state change %d", ret);
  g_object_get (sink, "current-port", &port, NULL);
  fail_unless (port > 0);

  return (guint) port;
}

static void
pipeline_stop (GstElement * pipeline)
{
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

static GstMessage *
wait_eos_or_error (GstElement * pipeline, gint seconds)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  msg = gst_bus_timed_pop_filtered (bus, seconds * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_object_unref (bus);

  return msg;
}

static void
wait_eos (GstElement * pipeline, gint seconds)
{
  GstMessage *msg = wait_eos_or_error (pipeline, seconds);

  fail_unless (msg != NULL, "no EOS within %d s", seconds);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
}

static GstStructure *
sink_stats (GstElement * sink)
{
  GstStructure *stats = NULL;

  g_object_get (sink, "stats", &stats, NULL);
  fail_unless (stats != NULL);

  return stats;
}

static guint
sink_n_clients (GstElement * sink)
{
  GstStructure *stats = sink_stats (sink);
  guint n = 0;

  fail_unless (gst_structure_get_uint (stats, "clients", &n));
  gst_structure_free (stats);

  return n;
}

/* The sequence number of the last frame @c received (it has one) */
static gint64
last_frame_seq (WsClient * c)
{
  GBytes *last;
  gint64 seq;

  g_mutex_lock (&test_lock);
  last = g_bytes_ref (g_ptr_array_index (c->messages, c->messages->len - 1));
  g_mutex_unlock (&test_lock);
  seq = frame_seq (last);
  g_bytes_unref (last);
  return seq;
}

static void
wait_n_clients (GstElement * sink, guint n, gint seconds)
{
  test_wait_until (sink_n_clients (sink) == n, seconds * 1000,
      "%u clients of websocketsink (it has %u)", n, sink_n_clients (sink));
}

/* The per-client statistics of the client at @address ("ip:port"), or of
 * the first one if @address is NULL */
static GstStructure *
sink_client_stats (GstElement * sink, const gchar * address)
{
  GstStructure *stats = sink_stats (sink), *found = NULL;
  const GValue *clients = gst_structure_get_value (stats, "client-stats");
  guint i;

  fail_unless (clients != NULL && GST_VALUE_HOLDS_ARRAY (clients));
  for (i = 0; i < gst_value_array_get_size (clients); i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (clients, i));

    if (address == NULL ||
        g_strcmp0 (gst_structure_get_string (c, "address"), address) == 0) {
      found = gst_structure_copy (c);
      break;
    }
  }
  gst_structure_free (stats);

  return found;
}

static guint64
structure_get_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v = 0;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return v;
}

static guint64
sink_frames_received (GstElement * sink)
{
  GstStructure *stats = sink_stats (sink);
  guint64 n = structure_get_u64 (stats, "frames-received");

  gst_structure_free (stats);
  return n;
}

/* ---- raw sockets ---- */

/* A client that does the upgrade by hand, so it can misbehave afterwards.
 * @rcvbuf > 0 shrinks its receive buffer (and so its TCP window). */
static GSocket *
raw_ws_connect (guint port, gint rcvbuf, const gchar * origin,
    gchar ** local_address)
{
  GSocket *socket;
  GInetAddress *lo;
  GSocketAddress *addr;
  gchar *request, *origin_header;
  GString *response = g_string_new (NULL);
  GError *err = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  fail_unless (socket != NULL);
  if (rcvbuf > 0)
    fail_unless (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, rcvbuf,
            NULL));
  g_socket_set_timeout (socket, WAIT_S);

  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (lo, port);
  fail_unless (g_socket_connect (socket, addr, NULL, &err), "connect: %s",
      err ? err->message : "");
  g_object_unref (addr);
  g_object_unref (lo);

  origin_header = origin ? g_strdup_printf ("Origin: %s\r\n", origin) :
      g_strdup ("");
  request = g_strdup_printf ("GET /ws HTTP/1.1\r\n"
      "Host: 127.0.0.1:%u\r\n"
      "%s"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", port, origin_header);
  g_free (origin_header);
  fail_unless (g_socket_send (socket, request, strlen (request), NULL,
          NULL) == (gssize) strlen (request));
  g_free (request);

  /* One byte at a time: frames may follow the headers at once */
  while (!g_str_has_suffix (response->str, "\r\n\r\n")) {
    gchar ch;

    fail_unless (g_socket_receive (socket, &ch, 1, NULL, &err) == 1,
        "handshake: %s", err ? err->message : "closed");
    g_string_append_c (response, ch);
  }
  fail_unless (g_str_has_prefix (response->str, "HTTP/1.1 101"), "%s",
      response->str);
  g_string_free (response, TRUE);

  if (local_address) {
    GSocketAddress *local = g_socket_get_local_address (socket, NULL);

    *local_address = g_strdup_printf ("127.0.0.1:%u",
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
    g_object_unref (local);
  }

  return socket;
}

/* Reads until the server closes the connection; FALSE on timeout */
static gboolean
raw_wait_eof (GSocket * socket)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  gchar buf[16384];
  GError *err = NULL;

  /* Frames keep coming until then, so a per-read timeout is not enough */
  while (g_get_monotonic_time () < deadline) {
    gssize n = g_socket_receive (socket, buf, sizeof (buf), NULL, &err);

    if (n == 0)
      return TRUE;
    if (n < 0) {
      gboolean timeout = g_error_matches (err, G_IO_ERROR,
          G_IO_ERROR_TIMED_OUT);

      g_clear_error (&err);
      /* A reset is a close too */
      return !timeout;
    }
  }
  return FALSE;
}

/* Bytes the process has allocated and not freed. Not RSS: with frames of a
 * few hundred KB spread over four threads, glibc keeps freed memory in its
 * per-thread arenas and RSS says more about malloc than about us. */
static gsize
live_heap_bytes (void)
{
  struct mallinfo2 mi = mallinfo2 ();

  return mi.uordblks + mi.hblkhd;
}

/* ---- probes that add what frameproc and redisstreamsrc would ---- */

static GstPadProbeReturn
add_metas_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  guint *count = user_data;
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GstVideoRegionOfInterestMeta *roi;
  guint i = (*count)++;

  buffer = gst_buffer_make_writable (buffer);
  gst_buffer_add_reference_timestamp_meta (buffer, unix_caps,
      CAPTURE_BASE + i * 1000, GST_CLOCK_TIME_NONE);
  gst_caps_unref (unix_caps);

  roi = gst_buffer_add_video_region_of_interest_meta (buffer, "motion",
      10 + i, 20, 30, 40);
  roi->id = 7;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("motion", "score", G_TYPE_DOUBLE, 0.5 + i / 100.0,
          NULL));
  if (i % 2 == 0)
    gst_buffer_add_video_region_of_interest_meta (buffer, "face", 1, 2, 3, 4);

  GST_PAD_PROBE_INFO_DATA (info) = buffer;

  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
set_offset_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  guint *count = user_data;

  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_OFFSET (buffer) = 1000 + (*count)++;
  GST_PAD_PROBE_INFO_DATA (info) = buffer;

  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement * pipeline, const gchar * element, const gchar * pad,
    GstPadProbeCallback probe, guint * counter)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);
  GstPad *p = gst_element_get_static_pad (e, pad);

  gst_pad_add_probe (p, GST_PAD_PROBE_TYPE_BUFFER, probe, counter, NULL);
  gst_object_unref (p);
  gst_object_unref (e);
}

#define LIVE_PIPELINE \
  "videotestsrc is-live=true ! video/x-raw,width=160,height=120," \
  "framerate=30/1 ! jpegenc ! websocketsink name=sink port=0"

/* ---- tests ---- */

static gchar *
http_get (guint port, const gchar * path, guint * status, gchar ** content_type)
{
  SoupSession *session = soup_session_new ();
  gchar *uri = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  SoupMessage *msg = soup_message_new ("GET", uri);
  GBytes *body;
  gchar *text;
  GError *err = NULL;

  body = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (body != NULL, "GET %s: %s", uri, err ? err->message : "");
  *status = soup_message_get_status (msg);
  *content_type = g_strdup (soup_message_headers_get_one
      (soup_message_get_response_headers (msg), "Content-Type"));
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

  g_bytes_unref (body);
  g_object_unref (msg);
  g_free (uri);
  g_object_unref (session);

  return text;
}

GST_START_TEST (test_page_served)
{
  GstElement *pipeline, *sink;
  guint port, status;
  gchar *body, *type;

  pipeline = pipeline_new ("videotestsrc ! jpegenc ! websocketsink name=sink "
      "port=0", &sink);
  port = pipeline_pause (pipeline, sink);

  body = http_get (port, "/", &status, &type);
  fail_unless_equals_int (status, 200);
  fail_unless (g_str_has_prefix (type, "text/html"), "%s", type);
  fail_unless (strstr (body, "<canvas") != NULL);
  fail_unless (strstr (body, "viewer.js") != NULL);
  g_free (body);
  g_free (type);

  body = http_get (port, "/viewer.js", &status, &type);
  fail_unless_equals_int (status, 200);
  fail_unless (g_str_has_prefix (type, "text/javascript"), "%s", type);
  fail_unless (strstr (body, "/ws") != NULL);
  fail_unless (strstr (body, "viewerStats") != NULL);
  g_free (body);
  g_free (type);

  body = http_get (port, "/no-such-file", &status, &type);
  fail_unless_equals_int (status, 404);
  g_free (body);
  g_free (type);

  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_frames_in_order_with_meta)
{
  /* 100 ms between frames (sync=true paces the non-live source): every
   * frame must arrive, even on a loaded machine (a client late by a whole
   * frame would rightly skip one) */
  const guint n_frames = 20;
  GstElement *pipeline, *sink;
  GstStructure *stats, *client_stats;
  ClientLoop *cl;
  WsClient *c;
  guint port, i, meta_count = 0, offset_count = 0;
  guint64 frames_received = 0;

  pipeline = pipeline_new ("videotestsrc num-buffers=20 ! "
      "video/x-raw,width=160,height=120,framerate=10/1 ! jpegenc name=enc ! "
      "websocketsink name=sink port=0 sync=true", &sink);
  /* The metas go in before the encoder, as they would in the real pipeline;
   * the offset after it, since encoders drop offsets */
  add_probe (pipeline, "enc", "sink", add_metas_probe, &meta_count);
  add_probe (pipeline, "sink", "sink", set_offset_probe, &offset_count);
  port = pipeline_pause (pipeline, sink);

  cl = client_loop_new ();
  c = ws_client_new (cl, port, NULL);
  fail_unless (c->connected);
  wait_n_clients (sink, 1, WAIT_S);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_eos (pipeline, WAIT_S);
  fail_unless (ws_client_wait_messages (c, n_frames, WAIT_S),
      "got %u of %u frames", ws_client_n_messages (c), n_frames);

  for (i = 0; i < n_frames; i++) {
    const guint8 *jpeg;
    gsize jpeg_len;
    JsonObject *header, *det;
    JsonArray *dets;

    header = frame_parse (g_ptr_array_index (c->messages, i), &jpeg, &jpeg_len);
    fail_unless_equals_int64 (json_object_get_int_member (header, "seq"),
        1000 + i);
    fail_unless_equals_int64 (json_object_get_int_member (header, "pts"),
        gst_util_uint64_scale (i, GST_SECOND, 10));
    fail_unless_equals_int64 (json_object_get_int_member (header,
            "capture_time_ns"), CAPTURE_BASE + i * 1000);
    fail_unless_equals_int (json_object_get_int_member (header, "width"), 160);
    fail_unless_equals_int (json_object_get_int_member (header, "height"), 120);

    dets = json_object_get_array_member (header, "detections");
    fail_unless_equals_int (json_array_get_length (dets), i % 2 ? 1 : 2);
    det = json_array_get_object_element (dets, 0);
    fail_unless_equals_string (json_object_get_string_member (det, "type"),
        "motion");
    fail_unless_equals_int (json_object_get_int_member (det, "id"), 7);
    fail_unless_equals_int (json_object_get_int_member (det, "x"), 10 + i);
    fail_unless_equals_int (json_object_get_int_member (det, "y"), 20);
    fail_unless_equals_int (json_object_get_int_member (det, "w"), 30);
    fail_unless_equals_int (json_object_get_int_member (det, "h"), 40);
    fail_unless (ABS (json_object_get_double_member (det, "score") -
            (0.5 + i / 100.0)) < 1e-9);
    if (i % 2 == 0) {
      det = json_array_get_object_element (dets, 1);
      fail_unless_equals_string (json_object_get_string_member (det, "type"),
          "face");
      fail_unless (json_object_get_null_member (det, "score"));
    }

    /* A whole JPEG follows the header */
    fail_unless (jpeg_len > 4);
    fail_unless (jpeg[0] == 0xff && jpeg[1] == 0xd8);
    fail_unless (jpeg[jpeg_len - 2] == 0xff && jpeg[jpeg_len - 1] == 0xd9);
    json_object_unref (header);
  }

  client_stats = sink_client_stats (sink, NULL);
  fail_unless (client_stats != NULL);
  fail_unless_equals_uint64 (structure_get_u64 (client_stats, "frames-sent"),
      n_frames);
  fail_unless_equals_uint64 (structure_get_u64 (client_stats,
          "frames-skipped"), 0);
  gst_structure_free (client_stats);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);

  /* The counts survive stop () */
  stats = sink_stats (sink);
  fail_unless (gst_structure_get_uint64 (stats, "frames-received",
          &frames_received));
  fail_unless_equals_uint64 (frames_received, n_frames);
  gst_structure_free (stats);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_seq_without_offset)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *c;
  guint port, i;

  /* jpegenc drops the offset: seq is the sink's own count */
  pipeline = pipeline_new ("videotestsrc num-buffers=5 ! "
      "video/x-raw,width=64,height=48,framerate=10/1 ! jpegenc ! "
      "websocketsink name=sink port=0 sync=true", &sink);
  port = pipeline_pause (pipeline, sink);
  cl = client_loop_new ();
  c = ws_client_new (cl, port, NULL);
  wait_n_clients (sink, 1, WAIT_S);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_eos (pipeline, WAIT_S);
  fail_unless (ws_client_wait_messages (c, 5, WAIT_S));
  for (i = 0; i < 5; i++)
    fail_unless_equals_int64 (frame_seq (g_ptr_array_index (c->messages, i)),
        i);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_late_client_gets_newest_frame)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *c;
  guint port;

  pipeline = pipeline_new ("videotestsrc num-buffers=10 ! "
      "video/x-raw,width=64,height=48,framerate=100/1 ! jpegenc ! "
      "websocketsink name=sink port=0", &sink);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_eos (pipeline, WAIT_S);

  /* After EOS the last picture is still there for a newcomer */
  cl = client_loop_new ();
  c = ws_client_new (cl, port, NULL);
  fail_unless (c->connected);
  fail_unless (ws_client_wait_messages (c, 1, WAIT_S));
  fail_unless_equals_int64 (frame_seq (g_ptr_array_index (c->messages, 0)), 9);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

static void
push_buffer (GstElement * src, GstBuffer * buf)
{
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf),
      GST_FLOW_OK);
}

static void
push_eos (GstElement * src)
{
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (src)),
      GST_FLOW_OK);
}

static GstElement *
bin_child (GstElement * pipeline, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (e != NULL, "no element %s", name);
  return e;
}

/* The frames of @desc (a launch line ending in an encoder), encoded before
 * the test starts timing anything: encoding is not what it measures */
static GPtrArray *
encode_frames (const gchar * desc)
{
  GPtrArray *frames =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  gchar *line = g_strdup_printf ("%s ! appsink name=out sync=false", desc);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (line, &err);
  GstElement *out;
  GstSample *sample;

  g_assert_no_error (err);
  g_free (line);
  out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (out)))) {
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  gst_object_unref (out);
  pipeline_stop (pipeline);
  return frames;
}

GST_START_TEST (test_stalled_client)
{
  const guint n_frames = 150, fps = 50;
  GstElement *pipeline, *sink;
  GstStructure *stalled, *good;
  ClientLoop *cl;
  WsClient *c;
  GSocket *raw;
  gchar *raw_address;
  guint port;
  gint64 start, elapsed_ms;
  gsize heap_before, heap_after;
  guint64 sent, skipped, good_sent;
  GstMessage *msg;
  GstElement *src;
  GPtrArray *frames;
  guint i;

  /* Big, barely compressible frames: a backlog would show at once. Encoded
   * first: on a busy machine, encoding 150 of them takes longer than the
   * 3 s they last, and the pace measured below is the sink's */
  frames = encode_frames ("videotestsrc num-buffers=150 pattern=snow ! "
      "video/x-raw,width=640,height=480,framerate=50/1 ! jpegenc quality=95");
  fail_unless_equals_int (frames->len, n_frames);
  pipeline = pipeline_new ("appsrc name=src format=time "
      "caps=image/jpeg,width=640,height=480,framerate=50/1 ! "
      "websocketsink name=sink port=0 sync=true", &sink);
  src = bin_child (pipeline, "src");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < frames->len; i++)
    push_buffer (src, gst_buffer_ref (g_ptr_array_index (frames, i)));
  push_eos (src);
  gst_object_unref (src);
  g_ptr_array_unref (frames);
  port = pipeline_pause (pipeline, sink);

  raw = raw_ws_connect (port, 4096, NULL, &raw_address);
  cl = client_loop_new ();
  c = ws_client_new_full (cl, port, NULL, TRUE);
  fail_unless (c->connected);
  wait_n_clients (sink, 2, WAIT_S);

  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (ws_client_wait_messages (c, 20, WAIT_S));
  heap_before = live_heap_bytes ();

  msg = wait_eos_or_error (pipeline, 30);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  /* The stream ran at its own pace, the stalled client notwithstanding */
  fail_unless (elapsed_ms < n_frames * 1000 / fps + 2000,
      "took %" G_GINT64_FORMAT " ms", elapsed_ms);

  /* The good client ends up with the last frame */
  fail_unless (ws_client_wait_messages (c, 1, WAIT_S));
  test_wait_until (last_frame_seq (c) == n_frames - 1, WAIT_S * 1000,
      "the good client to get the last frame");
  heap_after = live_heap_bytes ();

  stalled = sink_client_stats (sink, raw_address);
  fail_unless (stalled != NULL);
  sent = structure_get_u64 (stalled, "frames-sent");
  skipped = structure_get_u64 (stalled, "frames-skipped");
  GST_INFO ("stalled client: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT
      " skipped; good client got %u; heap %" G_GSIZE_FORMAT " -> %"
      G_GSIZE_FORMAT, sent, skipped, ws_client_n_messages (c), heap_before,
      heap_after);
  fail_unless (sent < n_frames / 10, "stalled client was sent %"
      G_GUINT64_FORMAT " frames", sent);
  fail_unless (skipped > n_frames / 2, "stalled client skipped %"
      G_GUINT64_FORMAT, skipped);
  fail_unless (sent + skipped <= n_frames);
  gst_structure_free (stalled);

  good = sink_client_stats (sink, NULL);
  fail_unless (good != NULL);
  gst_structure_free (good);
  /* Most frames reached the reading client */
  good_sent = ws_client_n_messages (c);
  fail_unless (good_sent >= n_frames * 7 / 10, "good client got %"
      G_GUINT64_FORMAT " of %u", good_sent, n_frames);

  /* ~130 frames of ~300 KB would be ~40 MB if they queued up */
  fail_unless (heap_after < heap_before + 8 * 1024 * 1024,
      "heap grew from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT, heap_before,
      heap_after);

  /* Stopping does not hang on the client that never reads */
  start = g_get_monotonic_time ();
  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
  fail_unless (g_get_monotonic_time () - start < 5 * G_TIME_SPAN_SECOND);

  g_object_unref (raw);
  g_free (raw_address);
}

GST_END_TEST;

static void
on_notify_count (GObject * object, GParamSpec * pspec, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

GST_START_TEST (test_port_zero_current_port)
{
  GstElement *pipeline, *sink;
  gint port = -1, notified = 0;
  gchar *body, *type;
  guint status;

  pipeline = pipeline_new ("videotestsrc ! jpegenc ! websocketsink name=sink "
      "port=0", &sink);
  g_object_get (sink, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);
  g_signal_connect (sink, "notify::current-port",
      G_CALLBACK (on_notify_count), &notified);

  port = (gint) pipeline_pause (pipeline, sink);
  fail_unless (port > 0 && port <= 65535);
  fail_unless (g_atomic_int_get (&notified) >= 1);

  body = http_get (port, "/", &status, &type);
  fail_unless_equals_int (status, 200);
  g_free (body);
  g_free (type);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (sink, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);

  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Checks that the pipeline failed to start with OPEN_WRITE naming @needle1
 * and @needle2, with the address and port in the details */
static void
check_open_write_error (GstElement * pipeline, const gchar * needle1,
    const gchar * needle2, const gchar * address, gint port)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  const GstStructure *details = NULL;
  GError *err = NULL;
  gchar *debug = NULL;
  gint details_port = -1;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s (%s)", err->message, debug);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_WRITE), "%s", err->message);
  fail_unless (strstr (err->message, needle1) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, needle2) != NULL, "%s", err->message);

  gst_message_parse_error_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless_equals_string (gst_structure_get_string (details, "address"),
      address);
  fail_unless (gst_structure_get_int (details, "port", &details_port));
  fail_unless_equals_int (details_port, port);

  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_object_unref (bus);
}

GST_START_TEST (test_port_in_use)
{
  GstElement *pipeline, *sink;
  GSocket *blocker;
  GInetAddress *lo;
  GSocketAddress *addr, *bound;
  gchar *port_str;
  gint port;

  blocker = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (lo, 0);
  fail_unless (g_socket_bind (blocker, addr, TRUE, NULL));
  fail_unless (g_socket_listen (blocker, NULL));
  bound = g_socket_get_local_address (blocker, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  pipeline = pipeline_new ("videotestsrc ! jpegenc ! websocketsink name=sink",
      &sink);
  g_object_set (sink, "port", port, NULL);
  port_str = g_strdup_printf ("port %d", port);
  check_open_write_error (pipeline, "127.0.0.1", port_str, "127.0.0.1", port);

  g_free (port_str);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (blocker);
}

GST_END_TEST;

GST_START_TEST (test_bad_bind_address)
{
  GstElement *pipeline, *sink;

  /* TEST-NET-1: never an address of this machine */
  pipeline = pipeline_new ("videotestsrc ! jpegenc ! "
      "websocketsink name=sink address=192.0.2.1 port=0", &sink);
  check_open_write_error (pipeline, "192.0.2.1", "port 0", "192.0.2.1", 0);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_non_jpeg_caps_refused)
{
  GstElement *pipeline, *src, *sink;
  GstPad *pad;
  GstCaps *caps;

  sink = gst_element_factory_make ("websocketsink", NULL);
  fail_unless (sink != NULL);
  pad = gst_element_get_static_pad (sink, "sink");

  caps = gst_caps_from_string ("video/x-raw,format=I420,width=64,height=48");
  fail_if (gst_pad_query_accept_caps (pad, caps));
  gst_caps_unref (caps);
  caps = gst_caps_from_string ("image/png");
  fail_if (gst_pad_query_accept_caps (pad, caps));
  gst_caps_unref (caps);
  caps = gst_caps_from_string ("image/jpeg,width=64,height=48");
  fail_unless (gst_pad_query_accept_caps (pad, caps));
  gst_caps_unref (caps);
  gst_object_unref (pad);

  /* Raw video cannot even be linked */
  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("videotestsrc", NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  fail_if (gst_element_link (src, sink));
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_allowed_origins)
{
  GstElement *pipeline, *sink;
  GstStructure *stats;
  ClientLoop *cl;
  WsClient *evil, *none, *good, *other;
  guint port;
  guint64 refused = 0;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  g_object_set (sink, "allowed-origins",
      "http://good.example, http://127.0.0.1:1234", NULL);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();

  evil = ws_client_new (cl, port, "http://evil.example");
  fail_if (evil->connected);
  fail_unless_equals_int (evil->status, 403);

  /* A listed origin must be present: no Origin is not an exemption */
  none = ws_client_new (cl, port, NULL);
  fail_if (none->connected);
  fail_unless_equals_int (none->status, 403);

  good = ws_client_new (cl, port, "http://good.example");
  fail_unless (good->connected);
  other = ws_client_new (cl, port, "http://127.0.0.1:1234");
  fail_unless (other->connected);
  fail_unless (ws_client_wait_messages (good, 3, WAIT_S));

  stats = sink_stats (sink);
  fail_unless (gst_structure_get_uint64 (stats, "clients-refused", &refused));
  fail_unless_equals_uint64 (refused, 2);
  gst_structure_free (stats);

  ws_client_free (evil);
  ws_client_free (none);
  ws_client_free (good);
  ws_client_free (other);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_max_clients)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *c1, *c2, *c3, *c4;
  guint port;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  g_object_set (sink, "max-clients", 2, NULL);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();

  c1 = ws_client_new (cl, port, NULL);
  c2 = ws_client_new (cl, port, NULL);
  fail_unless (c1->connected && c2->connected);
  wait_n_clients (sink, 2, WAIT_S);

  c3 = ws_client_new (cl, port, NULL);
  fail_if (c3->connected);
  fail_unless_equals_int (c3->status, 503);

  /* The first two are not disturbed */
  fail_unless (ws_client_wait_messages (c1, 5, WAIT_S));
  fail_unless (ws_client_wait_messages (c2, 5, WAIT_S));

  /* A place freed is a place taken */
  ws_client_free (c1);
  wait_n_clients (sink, 1, WAIT_S);
  c4 = ws_client_new (cl, port, NULL);
  fail_unless (c4->connected);
  fail_unless (ws_client_wait_messages (c4, 3, WAIT_S));

  ws_client_free (c2);
  ws_client_free (c3);
  ws_client_free (c4);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_garbage_client_disconnected)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *good;
  GSocket *raw;
  guint8 garbage[64];
  guint port, n;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();
  good = ws_client_new (cl, port, NULL);
  fail_unless (good->connected);
  raw = raw_ws_connect (port, 0, NULL, NULL);
  wait_n_clients (sink, 2, WAIT_S);

  /* Reserved opcodes and no mask: not WebSocket */
  memset (garbage, 0xff, sizeof (garbage));
  fail_unless (g_socket_send (raw, (const gchar *) garbage, sizeof (garbage),
          NULL, NULL) == sizeof (garbage));
  fail_unless (raw_wait_eof (raw), "the garbage client was not disconnected");
  wait_n_clients (sink, 1, WAIT_S);

  n = ws_client_n_messages (good);
  fail_unless (ws_client_wait_messages (good, n + 10, WAIT_S));
  fail_if (good->closed);

  g_object_unref (raw);
  ws_client_free (good);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_huge_message_disconnected)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *good, *bad;
  GBytes *huge;
  guint port, n;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();
  good = ws_client_new (cl, port, NULL);
  bad = ws_client_new (cl, port, NULL);
  fail_unless (good->connected && bad->connected);
  wait_n_clients (sink, 2, WAIT_S);

  /* A small message is ignored */
  huge = g_bytes_new_take (g_malloc0 (16), 16);
  ws_client_send (bad, huge);
  g_bytes_unref (huge);
  n = ws_client_n_messages (bad);
  fail_unless (ws_client_wait_messages (bad, n + 3, WAIT_S));
  fail_if (bad->closed);

  huge = g_bytes_new_take (g_malloc0 (1024 * 1024), 1024 * 1024);
  ws_client_send (bad, huge);
  g_bytes_unref (huge);
  /* libsoup drops the connection at once, so the client may see an
   * abnormal close rather than code 1009 */
  fail_unless (ws_client_wait_closed (bad, WAIT_S));
  wait_n_clients (sink, 1, WAIT_S);

  n = ws_client_n_messages (good);
  fail_unless (ws_client_wait_messages (good, n + 10, WAIT_S));
  fail_if (good->closed);

  ws_client_free (good);
  ws_client_free (bad);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_stop_closes_clients)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *c1, *c2;
  guint port;
  gint64 start;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();
  c1 = ws_client_new (cl, port, NULL);
  c2 = ws_client_new (cl, port, NULL);
  fail_unless (ws_client_wait_messages (c1, 3, WAIT_S));
  fail_unless (ws_client_wait_messages (c2, 3, WAIT_S));

  start = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (g_get_monotonic_time () - start < 3 * G_TIME_SPAN_SECOND);
  fail_unless (ws_client_wait_closed (c1, WAIT_S));
  fail_unless (ws_client_wait_closed (c2, WAIT_S));
  fail_unless_equals_int (c1->close_code, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  fail_unless_equals_int (c2->close_code, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);

  /* And the port is free again */
  g_object_set (sink, "port", port, NULL);
  fail_unless_equals_int (pipeline_pause (pipeline, sink), port);

  ws_client_free (c1);
  ws_client_free (c2);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_clients_come_and_go)
{
  const guint n_rounds = 5, n_clients = 8;
  GstElement *pipeline, *sink;
  GstStructure *stats;
  ClientLoop *cl;
  WsClient *clients[8];
  guint port, round, i;
  guint64 accepted = 0, received_before = 0;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();

  for (round = 0; round < n_rounds; round++) {
    for (i = 0; i < n_clients; i++) {
      clients[i] = ws_client_new (cl, port, NULL);
      fail_unless (clients[i]->connected);
    }
    for (i = 0; i < n_clients; i++)
      fail_unless (ws_client_wait_messages (clients[i], 2, WAIT_S));
    /* Leave in a different order each round */
    for (i = 0; i < n_clients; i++)
      ws_client_free (clients[(i + round) % n_clients]);
  }
  wait_n_clients (sink, 0, WAIT_S);

  stats = sink_stats (sink);
  fail_unless (gst_structure_get_uint64 (stats, "clients-accepted", &accepted));
  fail_unless_equals_uint64 (accepted, n_rounds * n_clients);
  fail_unless (gst_structure_get_uint64 (stats, "frames-received",
          &received_before));
  gst_structure_free (stats);

  /* Still streaming */
  test_wait_until (sink_frames_received (sink) > received_before,
      WAIT_S * 1000,
      "websocketsink to receive frames after the clients left (%"
      G_GUINT64_FORMAT " before)", received_before);

  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

static guint
count_open_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);

  return n;
}

/* One of every kind of visit: page loads on keep-alive connections that the
 * client then drops, accepted, refused and misbehaving WebSocket clients */
static void
visit_every_way (ClientLoop * cl, GstElement * sink, guint port)
{
  WsClient *clients[4], *extra, *stranger;
  guint8 garbage[64];
  GSocket *raw;
  gchar *body, *type;
  guint status, i;

  body = http_get (port, "/", &status, &type);
  g_free (body);
  g_free (type);
  body = http_get (port, "/no-such-file", &status, &type);
  g_free (body);
  g_free (type);
  /* Not an upgrade */
  body = http_get (port, "/ws", &status, &type);
  fail_unless_equals_int (status, 400);
  g_free (body);
  g_free (type);

  for (i = 0; i < G_N_ELEMENTS (clients); i++) {
    clients[i] = ws_client_new (cl, port, "http://ok.example");
    fail_unless (clients[i]->connected);
  }
  for (i = 0; i < G_N_ELEMENTS (clients); i++)
    fail_unless (ws_client_wait_messages (clients[i], 1, WAIT_S));
  extra = ws_client_new (cl, port, "http://ok.example");
  fail_unless_equals_int (extra->status, 503);
  for (i = 0; i < G_N_ELEMENTS (clients); i++)
    ws_client_free (clients[i]);
  ws_client_free (extra);
  wait_n_clients (sink, 0, WAIT_S);

  stranger = ws_client_new (cl, port, "http://stranger.example");
  fail_unless_equals_int (stranger->status, 403);
  ws_client_free (stranger);

  raw = raw_ws_connect (port, 0, "http://ok.example", NULL);
  memset (garbage, 0xff, sizeof (garbage));
  fail_unless (g_socket_send (raw, (const gchar *) garbage, sizeof (garbage),
          NULL, NULL) == sizeof (garbage));
  fail_unless (raw_wait_eof (raw));
  g_object_unref (raw);
  wait_n_clients (sink, 0, WAIT_S);
}

GST_START_TEST (test_no_fd_leak)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  guint port, round, fds_before, fds_after = 0;
  gint64 deadline;

  pipeline = pipeline_new (LIVE_PIPELINE, &sink);
  g_object_set (sink, "max-clients", 4, "allowed-origins", "http://ok.example",
      NULL);
  port = pipeline_pause (pipeline, sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  cl = client_loop_new ();

  /* Once first, for whatever libraries open once and keep */
  visit_every_way (cl, sink, port);
  /* not a poll: what the first visit left behind settles */
  g_usleep (200 * 1000);
  fds_before = count_open_fds ();

  for (round = 0; round < 5; round++)
    visit_every_way (cl, sink, port);

  /* Closing finishes asynchronously on both sides */
  deadline = test_wait_deadline (5000);
  while ((fds_after = count_open_fds ()) > fds_before &&
      test_wait_tick (deadline));
  GST_INFO ("open fds: %u before, %u after", fds_before, fds_after);
  fail_unless (fds_after <= fds_before + 1, "%u fds open before, %u after",
      fds_before, fds_after);

  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_properties_documented)
{
  GstElement *sink = gst_element_factory_make ("websocketsink", NULL);
  GParamSpec **pspecs;
  guint n, i;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (sink), &n);
  for (i = 0; i < n; i++) {
    const gchar *blurb = g_param_spec_get_blurb (pspecs[i]);

    fail_unless (blurb != NULL && *blurb != '\0', "%s has no description",
        pspecs[i]->name);
    fail_if (g_str_equal (blurb, g_param_spec_get_nick (pspecs[i])),
        "%s: description is just the nick", pspecs[i]->name);
  }
  g_free (pspecs);
  gst_object_unref (sink);
}

GST_END_TEST;

/* ---- encoded video and cameras ---- */

/* Annex B NAL units: fake payloads, real NAL headers */
static const guint8 nal_sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xaa };
static const guint8 nal_pps[] = { 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80 };
static const guint8 nal_idr[] = { 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21 };
static const guint8 nal_slice[] = { 0, 0, 0, 1, 0x41, 0x9a, 0x21, 0x6c };

/* One access unit: SPS + PPS + IDR, IDR alone, or a delta slice */
static GstBuffer *
h264_access_unit (gboolean key, gboolean with_params, guint n)
{
  GstBuffer *buf = gst_buffer_new ();

  if (with_params) {
    gst_buffer_append_memory (buf, gst_memory_new_wrapped (0,
            g_memdup2 (nal_sps, sizeof (nal_sps)), sizeof (nal_sps), 0,
            sizeof (nal_sps), NULL, NULL));
    gst_buffer_append_memory (buf, gst_memory_new_wrapped (0,
            g_memdup2 (nal_pps, sizeof (nal_pps)), sizeof (nal_pps), 0,
            sizeof (nal_pps), NULL, NULL));
  }
  if (key)
    gst_buffer_append_memory (buf, gst_memory_new_wrapped (0,
            g_memdup2 (nal_idr, sizeof (nal_idr)), sizeof (nal_idr), 0,
            sizeof (nal_idr), NULL, NULL));
  else
    gst_buffer_append_memory (buf, gst_memory_new_wrapped (0,
            g_memdup2 (nal_slice, sizeof (nal_slice)), sizeof (nal_slice), 0,
            sizeof (nal_slice), NULL, NULL));
  if (!key)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  GST_BUFFER_PTS (buf) = n * GST_SECOND / 30;

  return buf;
}

static GstPadProbeReturn
count_key_unit_requests (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  gint *count = user_data;

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info))) {
    g_mutex_lock (&test_lock);
    (*count)++;
    g_cond_broadcast (&test_cond);
    g_mutex_unlock (&test_lock);
  }

  return GST_PAD_PROBE_OK;
}

static JsonObject *
message_header (WsClient * c, guint i, const guint8 ** payload, gsize * len)
{
  GBytes *message;

  g_mutex_lock (&test_lock);
  message = g_bytes_ref (g_ptr_array_index (c->messages, i));
  g_mutex_unlock (&test_lock);
  /* @payload stays valid: the client's array keeps the message */
  g_bytes_unref (message);

  return frame_parse (message, payload, len);
}

static void
push_and_wait (GstElement * src, WsClient * c, GstBuffer * buf, guint n)
{
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf),
      GST_FLOW_OK);
  fail_unless (ws_client_wait_messages (c, n, WAIT_S), "%u of %u messages",
      ws_client_n_messages (c), n);
}

/* appsrc (H.264 access units) ! websocketsink, playing; @requests counts
 * the key-unit requests that reach the appsrc (under test_lock) */
static GstElement *
h264_pipeline_play (GstElement ** sink, GstElement ** src, gint * requests,
    guint * port)
{
  GstElement *pipeline;
  GstPad *pad;

  pipeline = pipeline_new ("appsrc name=src format=time is-live=true "
      "caps=video/x-h264,stream-format=byte-stream,alignment=au,width=64,"
      "height=48 ! websocketsink name=sink port=0", sink);
  *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  pad = gst_element_get_static_pad (*src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      count_key_unit_requests, requests, NULL);
  gst_object_unref (pad);
  *port = pipeline_pause (pipeline, *sink);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  return pipeline;
}

/* Waits until @requests (under test_lock) reached @n, and checks it is
 * not more */
static void
wait_requests (gint * requests, gint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  g_mutex_lock (&test_lock);
  while (*requests < n && g_cond_wait_until (&test_cond, &test_lock, deadline));
  fail_unless_equals_int (*requests, n);
  g_mutex_unlock (&test_lock);
}

/* A client that joins in the middle of a GOP gets the last key frame first,
 * with the SPS and PPS it needs even when the encoder sent them with an
 * earlier key frame only, then no delta frame until the next key frame,
 * which the sink has asked upstream for. */
GST_START_TEST (test_h264_late_client_starts_at_key_frame)
{
  GstElement *pipeline, *sink, *src;
  ClientLoop *cl;
  WsClient *early, *late;
  JsonObject *h;
  const guint8 *payload;
  gsize len;
  gint requests = 0;
  guint port, i;

  pipeline = h264_pipeline_play (&sink, &src, &requests, &port);

  cl = client_loop_new ();
  early = ws_client_new (cl, port, NULL);
  fail_unless (early->connected);

  /* Frames 0-9: key with parameter sets, 5 deltas, key without, 3 deltas */
  for (i = 0; i < 10; i++)
    push_and_wait (src, early, h264_access_unit (i == 0 || i == 6, i == 0, i),
        i + 1);
  g_mutex_lock (&test_lock);
  fail_unless_equals_int (requests, 0);
  g_mutex_unlock (&test_lock);

  late = ws_client_new (cl, port, NULL);
  fail_unless (late->connected);
  fail_unless (ws_client_wait_messages (late, 1, WAIT_S));
  h = message_header (late, 0, &payload, &len);
  fail_unless_equals_string (json_object_get_string_member (h, "codec"),
      "h264");
  fail_unless_equals_string (json_object_get_string_member (h, "camera"),
      "sink");
  fail_unless (json_object_get_boolean_member (h, "key"));
  fail_unless_equals_int64 (json_object_get_int_member (h, "seq"), 6);
  /* SPS and PPS from frame 0 in front of frame 6's IDR */
  fail_unless_equals_int (len, sizeof (nal_sps) + sizeof (nal_pps) +
      sizeof (nal_idr));
  fail_unless (memcmp (payload, nal_sps, sizeof (nal_sps)) == 0);
  fail_unless (memcmp (payload + sizeof (nal_sps), nal_pps,
          sizeof (nal_pps)) == 0);
  json_object_unref (h);

  /* The sink asked upstream for a key frame, once */
  wait_requests (&requests, 1);

  /* A delta frame: the early client gets it, the late one cannot use it */
  push_and_wait (src, early, h264_access_unit (FALSE, FALSE, 10), 11);
  /* The next key frame: both get it, and the late client goes on from it */
  push_and_wait (src, early, h264_access_unit (TRUE, TRUE, 11), 12);
  push_and_wait (src, early, h264_access_unit (FALSE, FALSE, 12), 13);
  fail_unless (ws_client_wait_messages (late, 3, WAIT_S));
  fail_unless_equals_int (ws_client_n_messages (late), 3);
  h = message_header (late, 1, &payload, &len);
  fail_unless_equals_int64 (json_object_get_int_member (h, "seq"), 11);
  fail_unless (json_object_get_boolean_member (h, "key"));
  json_object_unref (h);
  h = message_header (late, 2, &payload, &len);
  fail_unless_equals_int64 (json_object_get_int_member (h, "seq"), 12);
  fail_unless (!json_object_get_boolean_member (h, "key"));
  json_object_unref (h);

  /* The early client got every frame, in order */
  for (i = 0; i < 13; i++) {
    h = message_header (early, i, &payload, &len);
    fail_unless_equals_int64 (json_object_get_int_member (h, "seq"), i);
    json_object_unref (h);
  }

  ws_client_free (early);
  ws_client_free (late);
  client_loop_free (cl);
  gst_object_unref (src);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* The seq of every message @c received */
static gchar *
received_seqs (WsClient * c)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < ws_client_n_messages (c); i++) {
    const guint8 *payload;
    gsize len;
    JsonObject *h = message_header (c, i, &payload, &len);

    g_string_append_printf (out, "%s%" G_GINT64_FORMAT "%s", i ? " " : "",
        json_object_get_int_member (h, "seq"),
        json_object_get_boolean_member (h, "key") ? "k" : "");
    json_object_unref (h);
  }
  return g_string_free (out, FALSE);
}

/* A client whose decoder fell behind asks for a key frame
 * ({"key-frame": CAMERA}, a text message): the sink asks upstream, once,
 * and sends that client nothing of the camera until the next key frame,
 * while the other clients get every frame. Other messages (binary, another
 * camera, not JSON) change nothing. */
GST_START_TEST (test_h264_client_asks_for_key_frame)
{
  GstElement *pipeline, *sink, *src;
  ClientLoop *cl;
  WsClient *asking, *other, *idle;
  gint requests = 0;
  gchar *seqs;
  guint port, i;

  pipeline = h264_pipeline_play (&sink, &src, &requests, &port);

  cl = client_loop_new ();
  asking = ws_client_new (cl, port, NULL);
  other = ws_client_new (cl, port, NULL);
  idle = ws_client_new (cl, port, NULL);
  fail_unless (asking->connected && other->connected && idle->connected);
  wait_n_clients (sink, 3, WAIT_S);

  /* Frames 0-4: a key frame and 4 deltas, to everyone */
  for (i = 0; i < 5; i++)
    push_and_wait (src, other, h264_access_unit (i == 0, i == 0, i), i + 1);
  fail_unless (ws_client_wait_messages (asking, 5, WAIT_S));
  fail_unless (ws_client_wait_messages (idle, 5, WAIT_S));

  /* Messages that are no key-frame request, then a close: once the sink
   * saw the client go, it had read them all */
  ws_client_send_text (idle, "{\"key-frame\": \"nope\"}");
  ws_client_send_text (idle, "{\"key-frame\": 1}");
  ws_client_send_text (idle, "key-frame sink");
  {
    const gchar *json = "{\"key-frame\": \"sink\"}";
    GBytes *binary = g_bytes_new (json, strlen (json));

    ws_client_send (idle, binary);
    g_bytes_unref (binary);
  }
  ws_client_free (idle);
  wait_n_clients (sink, 2, WAIT_S);
  g_mutex_lock (&test_lock);
  fail_unless_equals_int (requests, 0);
  g_mutex_unlock (&test_lock);

  /* The request: asked upstream once */
  ws_client_send_text (asking, "{\"key-frame\": \"sink\"}");
  wait_requests (&requests, 1);

  /* Deltas 5-6 go to the other client only; key frame 7 and delta 8 to
   * both */
  for (i = 5; i < 9; i++)
    push_and_wait (src, other, h264_access_unit (i == 7, FALSE, i), i + 1);
  fail_unless (ws_client_wait_messages (asking, 7, WAIT_S));
  seqs = received_seqs (asking);
  fail_unless_equals_string (seqs, "0k 1 2 3 4 7k 8");
  g_free (seqs);
  seqs = received_seqs (other);
  fail_unless_equals_string (seqs, "0k 1 2 3 4 5 6 7k 8");
  g_free (seqs);
  g_mutex_lock (&test_lock);
  fail_unless_equals_int (requests, 1);
  g_mutex_unlock (&test_lock);

  ws_client_free (asking);
  ws_client_free (other);
  client_loop_free (cl);
  gst_object_unref (src);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* With a real encoder: the key-frame request reaches openh264enc, which
 * sends a key frame long before its GOP of 1000 frames would. */
GST_START_TEST (test_h264_key_unit_request_reaches_encoder)
{
  GstElement *pipeline, *sink;
  ClientLoop *cl;
  WsClient *early, *late;
  JsonObject *h;
  const guint8 *payload;
  gsize len;
  guint port, i, n;
  gint64 first_seq = -1;
  gboolean fresh_key = FALSE;

  if (!gst_registry_check_feature_version (gst_registry_get (), "openh264enc",
          1, 0, 0)) {
    /* The test suite's dependencies include openh264enc
     * (pipelines/install-deps --tests): its absence is a failure */
    fail ("openh264enc is not installed (gstreamer1.0-plugins-bad)");
  }

  pipeline = pipeline_new ("videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! "
      "openh264enc gop-size=1000 ! websocketsink name=sink port=0", &sink);
  port = pipeline_pause (pipeline, sink);
  /* The early client is there before the first frame (a live source sends
   * none while paused): one that connects after the second frame is a late
   * joiner itself, and its request would reach the encoder */
  cl = client_loop_new ();
  early = ws_client_new (cl, port, NULL);
  wait_n_clients (sink, 1, WAIT_S);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  /* Past the first key frame */
  fail_unless (ws_client_wait_messages (early, 10, WAIT_S));

  late = ws_client_new (cl, port, NULL);
  fail_unless (ws_client_wait_messages (late, 1, WAIT_S));
  h = message_header (late, 0, &payload, &len);
  fail_unless (json_object_get_boolean_member (h, "key"));
  first_seq = json_object_get_int_member (h, "seq");
  /* An SPS NAL is in it: a decoder can start here */
  fail_unless (len > 5 && payload[0] == 0 && payload[1] == 0 &&
      (payload[2] == 1 ? payload[3] : payload[4]) == 0x67);
  json_object_unref (h);

  /* A new key frame, within a second (30 frames) of joining */
  for (n = 2; n < 40 && !fresh_key; n++) {
    fail_unless (ws_client_wait_messages (late, n, WAIT_S));
    h = message_header (late, n - 1, &payload, &len);
    fresh_key = json_object_get_boolean_member (h, "key") &&
        json_object_get_int_member (h, "seq") > first_seq;
    json_object_unref (h);
  }
  fail_unless (fresh_key, "no key frame in the %u messages after joining", n);
  /* The early client never got a second key frame unasked: the GOP is long */
  for (i = 1; i < 10; i++) {
    h = message_header (early, i, &payload, &len);
    fail_if (json_object_get_boolean_member (h, "key"));
    json_object_unref (h);
  }

  ws_client_free (early);
  ws_client_free (late);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

static guint
count_camera (WsClient * c, const gchar * camera)
{
  const guint8 *payload;
  gsize len;
  guint i, n = 0;
  gint64 last_seq = -1;

  for (i = 0; i < ws_client_n_messages (c); i++) {
    JsonObject *h = message_header (c, i, &payload, &len);

    if (g_str_equal (json_object_get_string_member (h, "camera"), camera)) {
      /* Each camera's frames in order, numbered on their own */
      fail_unless_equals_int64 (json_object_get_int_member (h, "seq"),
          last_seq + 1);
      last_seq = json_object_get_int_member (h, "seq");
      fail_unless_equals_string (json_object_get_string_member (h, "codec"),
          "jpeg");
      n++;
    }
    json_object_unref (h);
  }
  return n;
}

/* Two live cameras on request pads named in the launch line, the always pad
 * unlinked: the pipeline still plays, each camera's frames reach the client
 * under its name, and the element posts EOS once both are done. */
GST_START_TEST (test_request_pads_named_cameras)
{
  GstElement *pipeline, *sink;
  GstStructure *stats;
  const GValue *cameras;
  ClientLoop *cl;
  WsClient *c;
  guint port;

  pipeline = pipeline_new ("websocketsink name=sink port=0 "
      "sink_0::camera=left sink_1::camera=right "
      "videotestsrc num-buffers=5 is-live=true ! "
      "video/x-raw,width=64,height=48,framerate=30/1 ! jpegenc ! sink.sink_0 "
      "videotestsrc num-buffers=8 is-live=true pattern=ball ! "
      "video/x-raw,width=64,height=48,framerate=30/1 ! jpegenc ! sink.sink_1",
      &sink);
  port = pipeline_pause (pipeline, sink);

  cl = client_loop_new ();
  c = ws_client_new (cl, port, NULL);
  fail_unless (c->connected);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_eos (pipeline, WAIT_S);
  fail_unless (ws_client_wait_messages (c, 13, WAIT_S), "%u messages",
      ws_client_n_messages (c));

  fail_unless_equals_int (count_camera (c, "left"), 5);
  fail_unless_equals_int (count_camera (c, "right"), 8);

  stats = sink_stats (sink);
  fail_unless_equals_int (structure_get_u64 (stats, "frames-received"), 13);
  cameras = gst_structure_get_value (stats, "camera-stats");
  fail_unless_equals_int (gst_value_array_get_size (cameras), 3);
  gst_structure_free (stats);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* The always pad ends first: the element's EOS waits for the camera on the
 * request pad */
GST_START_TEST (test_eos_waits_for_every_camera)
{
  GstElement *pipeline, *sink;
  GstStructure *stats;
  guint port;

  pipeline = pipeline_new ("websocketsink name=sink port=0 sync=false "
      "videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
      "jpegenc ! sink.sink "
      "videotestsrc num-buffers=30 is-live=true ! "
      "video/x-raw,width=64,height=48,framerate=30/1 ! jpegenc ! sink.sink_0",
      &sink);
  port = pipeline_pause (pipeline, sink);
  fail_unless (port > 0);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_eos (pipeline, WAIT_S);

  stats = sink_stats (sink);
  fail_unless_equals_int (structure_get_u64 (stats, "frames-received"), 32);
  gst_structure_free (stats);

  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* ---- every pad a sink of its own: sync, preroll, QoS, EOS ---- */

/* To PAUSED with a client connected and counted: the client of @cl */
static WsClient *
pipeline_pause_with_client (GstElement * pipeline, GstElement * sink,
    ClientLoop ** cl)
{
  guint port = pipeline_pause (pipeline, sink);
  WsClient *c;

  *cl = client_loop_new ();
  c = ws_client_new (*cl, port, NULL);
  fail_unless (c->connected);
  wait_n_clients (sink, 1, WAIT_S);

  return c;
}


#define FRAME_DURATION (33 * GST_MSECOND)

/* Not a picture: the sink does not look inside */
static GstBuffer *
fake_jpeg (GstClockTime pts)
{
  static const guint8 data[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a,
    0x46, 0x49, 0x46, 0xff, 0xd9
  };
  GstBuffer *buf = gst_buffer_new_memdup (data, sizeof (data));

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME_DURATION;

  return buf;
}

/* A counter of the `camera` structure of pad @pad in the sink's stats */
static guint64
camera_stat (GstElement * sink, const gchar * pad, const gchar * field)
{
  GstStructure *stats = sink_stats (sink);
  const GValue *cameras = gst_structure_get_value (stats, "camera-stats");
  guint64 v = G_MAXUINT64;
  guint i;

  for (i = 0; i < gst_value_array_get_size (cameras); i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (cameras, i));

    if (g_strcmp0 (gst_structure_get_string (c, "pad"), pad) == 0)
      v = structure_get_u64 (c, field);
  }
  gst_structure_free (stats);
  fail_if (v == G_MAXUINT64, "no camera on pad %s", pad);

  return v;
}

static GstClockTime
running_time_now (GstElement * pipeline)
{
  GstClock *clock = gst_pipeline_get_clock (GST_PIPELINE (pipeline));
  GstClockTime now = gst_clock_get_time (clock);
  GstClockTime base = gst_element_get_base_time (pipeline);

  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

/* Two cameras on request pads, sync=true, live sources whose frames are all
 * pushed at once: each frame reaches the client no earlier than its running
 * time on the pipeline's clock, on both pads. */
GST_START_TEST (test_request_pads_sync_on_clock)
{
  const guint n_frames = 10;
  const GstClockTime step = 100 * GST_MSECOND;
  GstElement *pipeline, *sink, *a, *b;
  GstClock *clock;
  ClientLoop *cl;
  WsClient *c;
  GstClockTime base, first = GST_CLOCK_TIME_NONE, last = 0;
  guint i;

  pipeline = pipeline_new ("websocketsink name=sink port=0 sync=true "
      "sink_0::camera=a sink_1::camera=b "
      "appsrc name=a is-live=true format=time caps=image/jpeg ! sink.sink_0 "
      "appsrc name=b is-live=true format=time caps=image/jpeg ! sink.sink_1",
      &sink);
  a = bin_child (pipeline, "a");
  b = bin_child (pipeline, "b");
  c = pipeline_pause_with_client (pipeline, sink, &cl);

  /* The client's arrival times and the pipeline are on the system clock */
  clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (pipeline), clock);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  base = gst_element_get_base_time (pipeline);

  /* Everything at once: the sink, not the source, paces the frames */
  for (i = 0; i < n_frames; i++) {
    push_buffer (a, fake_jpeg (i * step));
    push_buffer (b, fake_jpeg (i * step + step / 2));
  }
  fail_unless (ws_client_wait_messages (c, 2 * n_frames, WAIT_S),
      "%u of %u frames", ws_client_n_messages (c), 2 * n_frames);

  for (i = 0; i < 2 * n_frames; i++) {
    const guint8 *payload;
    gsize len;
    JsonObject *h = message_header (c, i, &payload, &len);
    GstClockTime pts = json_object_get_int_member (h, "pts");
    GstClockTime arrival;

    g_mutex_lock (&test_lock);
    arrival = g_array_index (c->arrivals, GstClockTime, i);
    g_mutex_unlock (&test_lock);
    fail_unless (arrival >= base + pts, "camera %s: the frame of running "
        "time %" GST_TIME_FORMAT " arrived at %" GST_TIME_FORMAT,
        json_object_get_string_member (h, "camera"), GST_TIME_ARGS (pts),
        GST_TIME_ARGS (arrival - base));
    first = MIN (first, arrival);
    last = MAX (last, arrival);
    json_object_unref (h);
  }
  GST_INFO ("%u frames over %" GST_TIME_FORMAT, 2 * n_frames,
      GST_TIME_ARGS (last - first));
  /* Each camera's frames in order, all of them */
  fail_unless_equals_int (count_camera (c, "a"), n_frames);
  fail_unless_equals_int (count_camera (c, "b"), n_frames);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (clock);
  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

static gboolean
sink_has_last_sample (GstElement * sink)
{
  GstSample *sample = NULL;

  g_object_get (sink, "last-sample", &sample, NULL);
  if (sample == NULL)
    return FALSE;
  gst_sample_unref (sample);
  return TRUE;
}

/* Two cameras on request pads: the element reaches PAUSED only once both
 * have a frame, and renders neither before PLAYING */
GST_START_TEST (test_request_pads_preroll_each)
{
  GstElement *pipeline, *sink, *a, *b;

  pipeline = pipeline_new ("websocketsink name=sink port=0 sync=true "
      "appsrc name=a format=time caps=image/jpeg ! sink.sink_0 "
      "appsrc name=b format=time caps=image/jpeg ! sink.sink_1", &sink);
  a = bin_child (pipeline, "a");
  b = bin_child (pipeline, "b");

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_ASYNC);
  push_buffer (a, fake_jpeg (0));
  /* Camera a prerolled: its frame is the element's last sample */
  test_wait_until (sink_has_last_sample (sink), WAIT_S * 1000,
      "the camera on sink_0 to preroll");
  fail_unless_equals_int (gst_element_get_state (sink, NULL, NULL, 0),
      GST_STATE_CHANGE_ASYNC);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL, 0),
      GST_STATE_CHANGE_ASYNC);

  push_buffer (b, fake_jpeg (0));
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          WAIT_S * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_uint64 (camera_stat (sink, "sink_0", "frames-received"),
      0);
  fail_unless_equals_uint64 (camera_stat (sink, "sink_1", "frames-received"),
      0);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  push_buffer (a, fake_jpeg (FRAME_DURATION));
  push_buffer (b, fake_jpeg (FRAME_DURATION));
  push_eos (a);
  push_eos (b);
  wait_eos (pipeline, WAIT_S);
  fail_unless_equals_uint64 (camera_stat (sink, "sink_0", "frames-received"),
      2);
  fail_unless_equals_uint64 (camera_stat (sink, "sink_1", "frames-received"),
      2);

  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* async=false: no camera is waited for */
GST_START_TEST (test_async_false_does_not_wait)
{
  GstElement *pipeline, *sink;

  pipeline = pipeline_new ("websocketsink name=sink port=0 async=false "
      "appsrc name=a format=time caps=image/jpeg ! sink.sink "
      "appsrc name=b format=time caps=image/jpeg ! sink.sink_0", &sink);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL, 0),
      GST_STATE_CHANGE_SUCCESS);

  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* async=false in a live pipeline: a camera that sends nothing does not
 * keep the others from being shown (the way pipelines/viewer runs) */
GST_START_TEST (test_async_false_silent_camera)
{
  GstElement *pipeline, *sink, *a;
  ClientLoop *cl;
  WsClient *c;
  guint i;

  pipeline = pipeline_new ("websocketsink name=sink port=0 async=false "
      "appsrc name=a is-live=true format=time caps=image/jpeg ! sink.sink "
      "appsrc name=silent is-live=true format=time caps=image/jpeg ! "
      "sink.sink_0", &sink);
  a = bin_child (pipeline, "a");
  c = pipeline_pause_with_client (pipeline, sink, &cl);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_SUCCESS);

  for (i = 0; i < 3; i++)
    push_and_wait (a, c, fake_jpeg (i * FRAME_DURATION), i + 1);
  fail_unless_equals_int (count_camera (c, "sink"), 3);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (a);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* A camera linked while the pipeline plays gets its own sink at once, and
 * one released while it plays goes without stopping the others */
GST_START_TEST (test_camera_linked_and_released_while_playing)
{
  GstElement *pipeline, *sink, *a, *b;
  GstPad *srcpad, *sinkpad;
  GstCaps *caps;
  ClientLoop *cl;
  WsClient *c;
  guint i, n;

  pipeline = pipeline_new ("websocketsink name=sink port=0 "
      "appsrc name=a is-live=true format=time caps=image/jpeg ! sink.sink",
      &sink);
  a = bin_child (pipeline, "a");
  c = pipeline_pause_with_client (pipeline, sink, &cl);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  push_and_wait (a, c, fake_jpeg (0), 1);

  b = gst_element_factory_make ("appsrc", "b");
  caps = gst_caps_new_empty_simple ("image/jpeg");
  g_object_set (b, "is-live", TRUE, "format", GST_FORMAT_TIME, "caps", caps,
      NULL);
  gst_caps_unref (caps);
  gst_bin_add (GST_BIN (pipeline), gst_object_ref (b));
  sinkpad = gst_element_request_pad_simple (sink, "sink_%u");
  fail_unless (sinkpad != NULL);
  g_object_set (sinkpad, "camera", "late", NULL);
  srcpad = gst_element_get_static_pad (b, "src");
  fail_unless_equals_int (gst_pad_link (srcpad, sinkpad), GST_PAD_LINK_OK);
  fail_unless (gst_element_sync_state_with_parent (b));

  n = 1;
  for (i = 1; i < 4; i++) {
    push_buffer (a, fake_jpeg (i * FRAME_DURATION));
    push_buffer (b, fake_jpeg (i * FRAME_DURATION));
    n += 2;
    fail_unless (ws_client_wait_messages (c, n, WAIT_S), "%u of %u messages",
        ws_client_n_messages (c), n);
  }
  fail_unless_equals_int (count_camera (c, "late"), 3);

  /* The new camera goes; the first goes on */
  gst_pad_unlink (srcpad, sinkpad);
  gst_element_release_request_pad (sink, sinkpad);
  gst_object_unref (sinkpad);
  gst_object_unref (srcpad);
  gst_element_set_state (b, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (pipeline), b);
  for (i = 4; i < 7; i++)
    push_and_wait (a, c, fake_jpeg (i * FRAME_DURATION), ++n);
  fail_unless_equals_int (count_camera (c, "sink"), 7);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

typedef struct
{
  gint qos;
  gint late;
} QosCount;

static GstPadProbeReturn
count_qos_events (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  QosCount *count = user_data;

  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    GstClockTimeDiff diff;

    gst_event_parse_qos (event, NULL, NULL, &diff, NULL);
    g_mutex_lock (&test_lock);
    count->qos++;
    if (diff > 0)
      count->late++;
    g_mutex_unlock (&test_lock);
  }

  return GST_PAD_PROBE_OK;
}

/* sync, qos and max-lateness on the element: a camera on a request pad
 * drops its late frames and tells upstream, exactly like the camera on the
 * always pad */
GST_START_TEST (test_request_pad_drops_late_like_first_pad)
{
  const gchar *pads[] = { "sink", "sink_0" };
  const gchar *srcs[] = { "a", "b" };
  const guint n_late = 5, n_on_time = 5;
  GstElement *pipeline, *sink, *src[2];
  QosCount counts[2] = { {0, 0}, {0, 0} };
  GstClockTime now;
  guint i, k;

  pipeline = pipeline_new ("websocketsink name=sink port=0 sync=true qos=true "
      "max-lateness=20000000 "
      "appsrc name=a is-live=true format=time caps=image/jpeg ! sink.sink "
      "appsrc name=b is-live=true format=time caps=image/jpeg ! sink.sink_0",
      &sink);
  for (i = 0; i < 2; i++) {
    GstPad *pad;

    src[i] = bin_child (pipeline, srcs[i]);
    pad = gst_element_get_static_pad (src[i], "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        count_qos_events, &counts[i], NULL);
    gst_object_unref (pad);
  }
  pipeline_pause (pipeline, sink);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  /* Frames of running time 0 to 132 ms, pushed once the clock is far past
   * them: later than max-lateness, however slow the machine */
  test_wait_until (running_time_now (pipeline) > 500 * GST_MSECOND,
      WAIT_S * 1000, "the pipeline's running time to pass 500 ms");
  for (k = 0; k < n_late; k++)
    for (i = 0; i < 2; i++)
      push_buffer (src[i], fake_jpeg (k * FRAME_DURATION));
  /* Then frames 3 s ahead of the clock, on time even on a loaded machine */
  now = running_time_now (pipeline);
  for (k = 0; k < n_on_time; k++)
    for (i = 0; i < 2; i++)
      push_buffer (src[i], fake_jpeg (now + 3 * GST_SECOND +
              k * FRAME_DURATION));

  for (i = 0; i < 2; i++)
    test_wait_until (camera_stat (sink, pads[i], "frames-received") ==
        n_on_time, WAIT_S * 1000, "the %u frames on time on %s", n_on_time,
        pads[i]);
  for (i = 0; i < 2; i++) {
    GST_INFO ("%s: %" G_GUINT64_FORMAT " dropped, %d QoS events (%d late)",
        pads[i], camera_stat (sink, pads[i], "dropped"), counts[i].qos,
        counts[i].late);
    fail_unless_equals_uint64 (camera_stat (sink, pads[i], "dropped"), n_late);
    fail_unless_equals_uint64 (camera_stat (sink, pads[i], "frames-received"),
        n_on_time);
    g_mutex_lock (&test_lock);
    fail_unless (counts[i].late > 0, "%s sent no QoS event for a late frame "
        "upstream (%d QoS events)", pads[i], counts[i].qos);
    g_mutex_unlock (&test_lock);
  }

  for (i = 0; i < 2; i++)
    gst_object_unref (src[i]);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* Three cameras, two of them on request pads: EOS once all three are done */
GST_START_TEST (test_eos_from_every_pad)
{
  const gchar *names[] = { "s", "a", "b" };
  GstElement *pipeline, *sink, *src[3];
  GstMessage *msg;
  guint i;

  pipeline = pipeline_new ("websocketsink name=sink port=0 "
      "appsrc name=s format=time caps=image/jpeg ! sink.sink "
      "appsrc name=a format=time caps=image/jpeg ! sink.sink_0 "
      "appsrc name=b format=time caps=image/jpeg ! sink.sink_1", &sink);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_ASYNC);
  for (i = 0; i < 3; i++) {
    src[i] = bin_child (pipeline, names[i]);
    push_buffer (src[i], fake_jpeg (0));
  }
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          WAIT_S * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  push_eos (src[0]);
  push_eos (src[1]);
  /* Not a poll: nothing may happen while the third camera goes on */
  msg = wait_eos_or_error (pipeline, 1);
  fail_unless (msg == NULL, "%s before the last camera ended",
      GST_MESSAGE_TYPE_NAME (msg));

  push_buffer (src[2], fake_jpeg (FRAME_DURATION));
  push_eos (src[2]);
  wait_eos (pipeline, WAIT_S);
  fail_unless_equals_uint64 (camera_stat (sink, "sink_1", "frames-received"),
      2);

  for (i = 0; i < 3; i++)
    gst_object_unref (src[i]);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

/* ---- seq: frame numbers ---- */

static GstPadProbeReturn
record_offset (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  guint64 *max_offset = user_data;

  if (GST_BUFFER_OFFSET_IS_VALID (buffer))
    *max_offset = MAX (*max_offset, GST_BUFFER_OFFSET (buffer));

  return GST_PAD_PROBE_OK;
}

/* @encoder's frames, each with its seq: 0, 1, 2... whatever the encoder or
 * parser put in the buffer offset */
static void
check_seq_counts_frames (const gchar * encoder)
{
  const guint n_frames = 15;
  GstElement *pipeline, *sink;
  GstPad *pad;
  ClientLoop *cl;
  WsClient *c;
  guint64 max_offset = 0;
  gchar *description;
  guint i;

  if (!gst_registry_check_feature_version (gst_registry_get (),
          g_str_has_prefix (encoder, "openh264enc") ? "openh264enc" : "vp8enc",
          1, 0, 0)) {
    /* The test suite's dependencies include openh264enc and vp8enc
     * (pipelines/install-deps --tests): their absence is a failure */
    fail ("%s is not installed", encoder);
  }

  description = g_strdup_printf ("videotestsrc num-buffers=%u ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! %s ! "
      "websocketsink name=sink port=0 sync=true", n_frames, encoder);
  pipeline = pipeline_new (description, &sink);
  g_free (description);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_offset,
      &max_offset, NULL);
  gst_object_unref (pad);
  c = pipeline_pause_with_client (pipeline, sink, &cl);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_eos (pipeline, WAIT_S);
  fail_unless (ws_client_wait_messages (c, n_frames, WAIT_S),
      "%u of %u frames", ws_client_n_messages (c), n_frames);
  /* The offsets were no frame numbers */
  GST_INFO ("%s: largest buffer offset %" G_GUINT64_FORMAT, encoder,
      max_offset);
  fail_unless (max_offset >= n_frames, "%s: offsets up to %" G_GUINT64_FORMAT,
      encoder, max_offset);
  for (i = 0; i < n_frames; i++) {
    gint64 seq = frame_seq (g_ptr_array_index (c->messages, i));

    fail_unless_equals_int64 (seq, i);
  }

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

/* h264parse numbers bytes in the buffer offset */
GST_START_TEST (test_seq_h264_after_parser)
{
  check_seq_counts_frames ("openh264enc ! h264parse ! "
      "video/x-h264,stream-format=byte-stream,alignment=au");
}

GST_END_TEST;

/* vp8enc puts times in the buffer offset */
GST_START_TEST (test_seq_vp8)
{
  check_seq_counts_frames ("vp8enc deadline=1");
}

GST_END_TEST;

static GstBuffer *
numbered_jpeg (guint64 offset, guint64 offset_end)
{
  GstBuffer *buf = fake_jpeg (GST_CLOCK_TIME_NONE);

  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset_end;

  return buf;
}

/* Frame numbers from upstream are kept, gaps included: offset end unset (as
 * redisstreamsrc leaves it) or one more (as raw video sources set it). A
 * parser's offsets are not frame numbers, even small ones. */
GST_START_TEST (test_seq_frame_numbers_kept)
{
  const guint64 numbers[] = { 100, 101, 105 };
  const guint64 bytes[] = { 0, 2, 4 };
  GstElement *pipeline, *sink, *a, *b, *p;
  ClientLoop *cl;
  WsClient *c;
  const guint8 *payload;
  gsize len;
  guint i, n = 0, n_a = 0, n_b = 0, n_p = 0;

  pipeline = pipeline_new ("websocketsink name=sink port=0 "
      "appsrc name=a is-live=true format=time caps=image/jpeg ! sink.sink "
      "appsrc name=b is-live=true format=time caps=image/jpeg ! sink.sink_0 "
      "appsrc name=p is-live=true format=time caps=image/jpeg,parsed=true ! "
      "sink.sink_1", &sink);
  a = bin_child (pipeline, "a");
  b = bin_child (pipeline, "b");
  p = bin_child (pipeline, "p");
  c = pipeline_pause_with_client (pipeline, sink, &cl);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  /* Every camera's first frame before any is rendered: each camera
   * prerolls, live or not */
  for (i = 0; i < G_N_ELEMENTS (numbers); i++) {
    push_buffer (a, numbered_jpeg (numbers[i], GST_BUFFER_OFFSET_NONE));
    push_buffer (b, numbered_jpeg (numbers[i], numbers[i] + 1));
    push_buffer (p, numbered_jpeg (bytes[i], GST_BUFFER_OFFSET_NONE));
    n += 3;
    fail_unless (ws_client_wait_messages (c, n, WAIT_S), "%u of %u messages",
        ws_client_n_messages (c), n);
  }
  for (i = 0; i < n; i++) {
    JsonObject *h = message_header (c, i, &payload, &len);
    const gchar *camera = json_object_get_string_member (h, "camera");
    gint64 seq = json_object_get_int_member (h, "seq");
    guint k = g_str_equal (camera, "sink") ? n_a++ :
        g_str_equal (camera, "sink_0") ? n_b++ : n_p++;

    /* A parser's offsets are bytes: the frames are counted */
    fail_unless_equals_int64 (seq, g_str_equal (camera, "sink_1") ? k :
        numbers[k]);
    json_object_unref (h);
  }
  fail_unless (n_a == 3 && n_b == 3 && n_p == 3, "%u, %u and %u frames", n_a,
      n_b, n_p);

  ws_client_free (c);
  client_loop_free (cl);
  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (p);
  gst_object_unref (sink);
  pipeline_stop (pipeline);
}

GST_END_TEST;

static Suite *
websocketsink_suite (void)
{
  Suite *s = suite_create ("websocketsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_page_served);
  tcase_add_test (tc, test_frames_in_order_with_meta);
  tcase_add_test (tc, test_seq_without_offset);
  tcase_add_test (tc, test_late_client_gets_newest_frame);
  tcase_add_test (tc, test_stalled_client);
  tcase_add_test (tc, test_port_zero_current_port);
  tcase_add_test (tc, test_port_in_use);
  tcase_add_test (tc, test_bad_bind_address);
  tcase_add_test (tc, test_non_jpeg_caps_refused);
  tcase_add_test (tc, test_allowed_origins);
  tcase_add_test (tc, test_max_clients);
  tcase_add_test (tc, test_garbage_client_disconnected);
  tcase_add_test (tc, test_huge_message_disconnected);
  tcase_add_test (tc, test_stop_closes_clients);
  tcase_add_test (tc, test_clients_come_and_go);
  tcase_add_test (tc, test_no_fd_leak);
  tcase_add_test (tc, test_properties_documented);
  tcase_add_test (tc, test_h264_late_client_starts_at_key_frame);
  tcase_add_test (tc, test_h264_key_unit_request_reaches_encoder);
  tcase_add_test (tc, test_h264_client_asks_for_key_frame);
  tcase_add_test (tc, test_request_pads_named_cameras);
  tcase_add_test (tc, test_eos_waits_for_every_camera);
  tcase_add_test (tc, test_request_pads_sync_on_clock);
  tcase_add_test (tc, test_request_pads_preroll_each);
  tcase_add_test (tc, test_async_false_does_not_wait);
  tcase_add_test (tc, test_async_false_silent_camera);
  tcase_add_test (tc, test_camera_linked_and_released_while_playing);
  tcase_add_test (tc, test_request_pad_drops_late_like_first_pad);
  tcase_add_test (tc, test_eos_from_every_pad);
  tcase_add_test (tc, test_seq_h264_after_parser);
  tcase_add_test (tc, test_seq_vp8);
  tcase_add_test (tc, test_seq_frame_numbers_kept);

  return s;
}

GST_CHECK_MAIN (websocketsink);
