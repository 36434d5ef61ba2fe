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

/* TLS to Redis (tls, tls-ca-file, tls-server-name, tls-cert-file,
 * tls-key-file) for redisstreamsink and redisstreamsrc, against a real
 * redis-server serving TLS with certificates this program makes with the
 * openssl CLI (tests/tls/make-certs.sh): frames round trip over TLS with
 * an ACL user and with client certificates, and each way TLS can go wrong
 * is an error of the right code that names the server and what to
 * change. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>
#include <signal.h>

#include "redisfixture.h"

#define I420_640 "video/x-raw,format=I420,width=640,height=480,framerate=30/1"

/* made once by main (), for every test */
static gchar *certs;

/* "tls=true tls-ca-file=<the test CA>" */
static gchar *
tls_props (const gchar * more)
{
  return g_strdup_printf ("tls=true tls-ca-file=%s/ca.crt %s", certs,
      more ? more : "");
}

/* "tls-cert-file=... tls-key-file=..." of certificate @name */
static gchar *
client_cert_props (const gchar * name)
{
  return g_strdup_printf ("tls-cert-file=%s/%s.crt tls-key-file=%s/%s.key",
      certs, name, certs, name);
}

static GstHarness *
tls_sink (RedisServer * srv, const gchar * props, const gchar * caps)
{
  gchar *tls = tls_props (props);
  GstHarness *h = redis_test_harness_new ("redisstreamsink port=%u %s",
      srv->tls_port, tls);

  gst_harness_set_src_caps_str (h, caps);
  g_free (tls);
  return h;
}

static GstHarness *
tls_src (RedisServer * srv, const gchar * props)
{
  gchar *tls = tls_props (props);
  GstHarness *h = redis_test_harness_new ("redisstreamsrc port=%u %s",
      srv->tls_port, tls);

  /* a harness does not start a source by itself */
  gst_harness_play (h);
  g_free (tls);
  return h;
}

/* The clients of @srv logged in as @user, and how many of them came in
 * through @port (CLIENT LIST laddr). */
static guint
clients_of_user (RedisServer * srv, const gchar * user, guint port,
    guint * on_port)
{
  redisReply *r = redis_server_command (srv, "CLIENT LIST");
  gchar **lines = g_strsplit (r->str, "\n", -1);
  gchar *who = g_strdup_printf (" user=%s ", user);
  gchar *where = g_strdup_printf (" laddr=127.0.0.1:%u ", port);
  guint i, n = 0;

  *on_port = 0;
  for (i = 0; lines[i]; i++) {
    if (strstr (lines[i], who)) {
      n++;
      if (strstr (lines[i], where))
        (*on_port)++;
    }
  }
  g_free (who);
  g_free (where);
  g_strfreev (lines);
  freeReplyObject (r);
  return n;
}

static long long
subscribers (RedisServer * srv, const gchar * channel)
{
  redisReply *r = redis_server_command (srv, "PUBSUB NUMSUB %s", channel);
  long long n;

  fail_unless (r->type == REDIS_REPLY_ARRAY && r->elements == 2);
  n = r->element[1]->integer;
  freeReplyObject (r);
  return n;
}

/* TRUE when @h's element sent a GstForceKeyUnit event upstream. */
static gboolean
got_force_key_unit (GstHarness * h)
{
  GstEvent *ev;
  gboolean found = FALSE;

  while ((ev = gst_harness_try_pull_upstream_event (h))) {
    if (gst_video_event_is_force_key_unit (ev))
      found = TRUE;
    gst_event_unref (ev);
  }
  return found;
}

/* Pushes @n frames of @info through @sink and checks that @src gives them
 * back bit for bit. */
static void
check_frames_cross (GstHarness * sink, GstHarness * src,
    const GstVideoInfo * info, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *sent = redis_test_make_frame (info, i, TRUE);
    GstBuffer *got;

    fail_unless_equals_int (gst_harness_push (sink, gst_buffer_ref (sent)),
        GST_FLOW_OK);
    got = gst_harness_pull (src);
    fail_unless (got != NULL);
    fail_unless (redis_test_buffer_equal (got, sent), "frame %u differs", i);
    gst_buffer_unref (got);
    gst_buffer_unref (sent);
  }
}

/* A producer and a consumer over TLS, logged in as an ACL user: raw
 * 640x480 frames (460 KB, many TLS records each) cross bit for bit; every
 * connection of both elements (the sink's key frame listener too) is on
 * the TLS port; an idle TLS connection is not mistaken for a closed one. */
GST_START_TEST (test_round_trip_acl_user)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);
  const gchar *login = "username=tlscam password=s3cret-tls";
  gchar *sink_props = g_strdup_printf ("stream=tls %s", login);
  GstHarness *sink, *src;
  GstElement *sink_el;
  GstVideoInfo info;
  guint total, on_tls;
  redisReply *r;

  r = redis_server_command (srv, "ACL SETUSER tlscam on >s3cret-tls "
      "~* &* +@all");
  fail_unless (r->type == REDIS_REPLY_STATUS, "%s", r->str);
  freeReplyObject (r);

  src = tls_src (srv, "stream=tls group=g username=tlscam "
      "password=s3cret-tls");
  test_wait_until (redis_server_integer (srv, "EXISTS tls") == 1, 10000,
      "the source to create its group");
  sink = tls_sink (srv, sink_props, I420_640);
  sink_el = redis_test_harness_element (sink, "redisstreamsink");

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 640, 480);
  check_frames_cross (sink, src, &info, 4);

  /* the sink's listener for key frame requests is on TLS as well */
  test_wait_until (subscribers (srv, "tls:control") == 1, 10000,
      "the sink's listener subscribed to tls:control");
  freeReplyObject (redis_server_command (srv, "PUBLISH tls:control "
          "force-key-unit"));
  test_wait_until ((gst_harness_push (sink, redis_test_make_frame (&info, 9,
                  FALSE)) == GST_FLOW_OK && got_force_key_unit (sink)), 10000,
      "a key frame request that crossed Redis over TLS");

  total = clients_of_user (srv, "tlscam", srv->tls_port, &on_tls);
  fail_unless (total >= 3, "%u clients of user tlscam", total);
  fail_unless_equals_int (on_tls, total);
  /* stale-connection checks did not take TLS records for a close */
  fail_unless_equals_uint64 (redis_test_get_stat (sink_el, "reconnects"), 0);

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  g_free (sink_props);
  redis_server_stop (srv);
}

GST_END_TEST;

/* A server that requires client certificates (tls-auth-clients yes):
 * both elements and the sink's listener present theirs. */
GST_START_TEST (test_round_trip_client_certificate)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", TRUE);
  gchar *cert = client_cert_props ("client");
  gchar *src_props = g_strdup_printf ("stream=cc group=g %s", cert);
  gchar *sink_props = g_strdup_printf ("stream=cc %s", cert);
  GstHarness *sink, *src;
  GstVideoInfo info;

  src = tls_src (srv, src_props);
  test_wait_until (redis_server_integer (srv, "EXISTS cc") == 1, 10000,
      "the source to create its group");
  sink = tls_sink (srv, sink_props, "video/x-raw,format=GRAY8,width=64,"
      "height=48,framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, 64, 48);
  check_frames_cross (sink, src, &info, 3);
  test_wait_until (subscribers (srv, "cc:control") == 1, 10000,
      "the sink's listener subscribed with its client certificate");

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  g_free (src_props);
  g_free (sink_props);
  g_free (cert);
  redis_server_stop (srv);
}

GST_END_TEST;

/* A certificate for another name is accepted when tls-server-name is that
 * name (and SNI carries it). */
GST_START_TEST (test_server_name_names_the_certificate)
{
  RedisServer *srv = redis_server_start_tls (certs, "wrong-name", FALSE);
  GstHarness *sink = tls_sink (srv, "stream=sn "
      "tls-server-name=redis.wrong.example", "application/x-test");

  fail_unless_equals_int (gst_harness_push (sink, redis_test_numbered (1)),
      GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (srv, "XLEN sn"), 1);
  gst_harness_teardown (sink);
  redis_server_stop (srv);
}

GST_END_TEST;

/* A connection Redis closed while the sink was idle (CLIENT KILL) is
 * found before the next frame, over TLS as over TCP: the frame is stored
 * on a new TLS connection, nothing is lost, no warning. */
GST_START_TEST (test_killed_idle_connection_is_replaced)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);
  GstHarness *sink = tls_sink (srv, "stream=k key-unit-requests=false",
      "application/x-test");
  GstElement *el = redis_test_harness_element (sink, "redisstreamsink");
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (sink->element, bus);
  fail_unless_equals_int (gst_harness_push (sink, redis_test_numbered (0)),
      GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (srv, "CLIENT KILL TYPE "
          "normal"), 1);
  fail_unless_equals_int (gst_harness_push (sink, redis_test_numbered (1)),
      GST_FLOW_OK);
  fail_unless_equals_int (redis_server_integer (srv, "XLEN k"), 2);
  fail_unless_equals_uint64 (redis_test_get_stat (el, "reconnects"), 1);
  fail_unless_equals_uint64 (redis_test_get_stat (el,
          "dropped-disconnected"), 0);
  fail_unless_equals_int (redis_test_count_messages (bus, GST_MESSAGE_WARNING,
          NULL), 0);

  gst_element_set_bus (sink->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (sink);
  redis_server_stop (srv);
}

GST_END_TEST;

/* TRUE once @src gave a buffer, after @sink was fed one more. */
static gboolean
frame_crosses (GstHarness * sink, GstHarness * src, guint64 * seq)
{
  GstBuffer *got;

  gst_harness_push (sink, redis_test_numbered ((*seq)++));
  got = gst_harness_try_pull (src);
  if (got == NULL)
    return FALSE;
  gst_buffer_unref (got);
  return TRUE;
}

/* A restart of the TLS server: both elements reconnect over TLS by
 * themselves (a new handshake each) and frames cross again. */
GST_START_TEST (test_reconnect_after_restart)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);
  GstHarness *sink = tls_sink (srv, "stream=rs", "application/x-test");
  GstHarness *src = tls_src (srv, "stream=rs group=g");
  guint64 seq = 0;

  test_wait_until (frame_crosses (sink, src, &seq), 10000,
      "a frame over TLS before the restart");
  fail_unless (redis_server_restart (srv));
  test_wait_until (frame_crosses (sink, src, &seq), 30000,
      "a frame over TLS after the restart");
  /* on new connections: the server is a new process */

  gst_harness_teardown (sink);
  gst_harness_teardown (src);
  redis_server_stop (srv);
}

GST_END_TEST;

/* Starts a sink pipeline and a source pipeline with @props on @port and
 * checks that each posts an error of @code whose text contains
 * @must_contain, and "TLS" and "127.0.0.1:<port>" unless it is about the
 * settings. */
static void
check_both_fail (guint port, const gchar * props, gint code,
    const gchar * must_contain)
{
  gchar *server = g_strdup_printf ("127.0.0.1:%u", port);
  guint i;

  for (i = 0; i < 2; i++) {
    GstElement *pipeline;
    GstMessage *msg;
    gchar *desc = i == 0 ?
        g_strdup_printf ("videotestsrc num-buffers=1 ! redisstreamsink "
        "stream=err port=%u %s", port, props) :
        g_strdup_printf ("redisstreamsrc stream=err port=%u %s ! fakesink",
        port, props);

    msg = redis_test_launch_until_error (&pipeline, 20000, "%s", desc);
    redis_test_check_error (msg, code, must_contain);
    /* a setting is named by its property, a server by host:port */
    if (code != GST_RESOURCE_ERROR_SETTINGS) {
      redis_test_check_error (msg, code, server);
      redis_test_check_error (msg, code, "TLS");
    }
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
    g_free (desc);
  }
  g_free (server);
}

/* tls=true against a plain Redis port: it never answers the TLS hello */
GST_START_TEST (test_error_server_speaks_plain_resp)
{
  RedisServer *srv = redis_server_start ();
  gchar *props = tls_props ("connect-timeout=1000");

  check_both_fail (srv->port, props, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "did not answer the TLS handshake");
  g_free (props);
  redis_server_stop (srv);
}

GST_END_TEST;

/* tls=false against a TLS port: it resets the connection (before: "Error
 * receiving data: Connection reset by peer") */
GST_START_TEST (test_error_plain_client_on_tls_port)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);

  check_both_fail (srv->tls_port, "", GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "is probably a TLS port (tls-port); set tls=true");
  redis_server_stop (srv);
}

GST_END_TEST;

/* A TLS server presenting certificate @cert (and requiring a client
 * certificate when @auth_clients): both elements, trusting the test CA,
 * with @more properties, fail with @code and @must_contain. */
static void
check_server_refused (const gchar * cert, gboolean auth_clients,
    const gchar * more, gint code, const gchar * must_contain)
{
  RedisServer *srv = redis_server_start_tls (certs, cert, auth_clients);
  gchar *props = tls_props (more);

  check_both_fail (srv->tls_port, props, code, must_contain);
  g_free (props);
  redis_server_stop (srv);
}

GST_START_TEST (test_error_unknown_ca)
{
  RedisServer *srv;

  check_server_refused ("untrusted", FALSE, NULL,
      GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "signed it (issuer CN=another test CA): set tls-ca-file");
  /* without tls-ca-file: the system's CAs, which do not know the test CA */
  srv = redis_server_start_tls (certs, "server", FALSE);
  check_both_fail (srv->tls_port, "tls=true",
      GST_RESOURCE_ERROR_OPEN_READ_WRITE, "no CA the system trusts");
  redis_server_stop (srv);
}

GST_END_TEST;

GST_START_TEST (test_error_name_mismatch)
{
  check_server_refused ("wrong-name", FALSE, NULL,
      GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "it is for redis.wrong.example, not for \"127.0.0.1\": set "
      "tls-server-name");
  /* the name asked for is the one checked, not the host */
  check_server_refused ("server", FALSE, "tls-server-name=other.example",
      GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "it is for localhost, 127.0.0.1, not for \"other.example\"");
}

GST_END_TEST;

GST_START_TEST (test_error_expired_certificate)
{
  check_server_refused ("expired", FALSE, NULL,
      GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "it expired on 2020-02-01 00:00:00 UTC: renew the server's "
      "certificate");
}

GST_END_TEST;

GST_START_TEST (test_error_client_certificate_missing)
{
  check_server_refused ("server", TRUE, NULL,
      GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "client certificate (tls-auth-clients yes); set tls-cert-file and "
      "tls-key-file");
}

GST_END_TEST;

/* A client certificate of a CA the server does not trust */
GST_START_TEST (test_error_client_certificate_refused)
{
  gchar *cert = client_cert_props ("untrusted");

  check_server_refused ("server", TRUE, cert,
      GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "refused the client certificate of tls-cert-file");
  g_free (cert);
}

GST_END_TEST;

/* Settings that cannot work are refused at start, never a plain
 * connection instead. */
GST_START_TEST (test_error_tls_settings)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);
  gchar *ca = g_strdup_printf ("tls-ca-file=%s/ca.crt", certs);
  gchar *socket = g_strdup_printf ("tls=true socket-path=%s",
      srv->socket_path);
  gchar *missing = g_strdup_printf ("tls=true tls-ca-file=%s/nothing.crt",
      certs);
  gchar *bad_key = g_strdup_printf ("tls=true tls-ca-file=%s/ca.crt "
      "tls-cert-file=%s/client.crt tls-key-file=%s/ca.crt", certs, certs,
      certs);

  /* a CA file without tls=true would have meant plain text */
  check_both_fail (srv->tls_port, ca, GST_RESOURCE_ERROR_SETTINGS,
      "tls-ca-file is set but tls is off, which would connect in plain text");
  check_both_fail (srv->tls_port, socket, GST_RESOURCE_ERROR_SETTINGS,
      "tls cannot be used with socket-path");
  check_both_fail (srv->tls_port, missing, GST_RESOURCE_ERROR_SETTINGS,
      "Could not read the CA certificates of tls-ca-file");
  check_both_fail (srv->tls_port, bad_key, GST_RESOURCE_ERROR_SETTINGS,
      "Could not load the client certificate of tls-cert-file");
  g_free (ca);
  g_free (socket);
  g_free (missing);
  g_free (bad_key);
  redis_server_stop (srv);
}

GST_END_TEST;

/* The clients connected to @srv, besides the one asking. */
static guint
other_clients (RedisServer * srv)
{
  redisReply *r = redis_server_command (srv, "CLIENT LIST");
  gchar **lines = g_strsplit (r->str, "\n", -1);
  guint i, n = 0;

  for (i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "id=") && !strstr (lines[i], " cmd=client"))
      n++;
  }
  g_strfreev (lines);
  freeReplyObject (r);
  return n;
}

/* A source reconnecting after an outage to a port that now never answers
 * the TLS hello (a plain Redis took the TLS port) is in a handshake of up
 * to connect-timeout (60 s); stopping the pipeline interrupts it at
 * once. */
GST_START_TEST (test_stop_interrupts_handshake)
{
  RedisServer *srv = redis_server_start_tls (certs, "server", FALSE);
  GstElement *pipeline;
  gchar *desc, *props = tls_props ("connect-timeout=60000 "
      "reconnect-timeout=120000");
  GError *err = NULL;
  gint64 start;

  desc = g_strdup_printf ("redisstreamsrc stream=h port=%u %s ! fakesink",
      srv->tls_port, props);
  pipeline = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  test_wait_until (redis_server_integer (srv, "EXISTS h") == 1, 10000,
      "the source to create its group");

  /* The same server again, plain on what was its TLS port: the
   * reconnecting source's TLS hello is never answered there. */
  redis_server_kill (srv, SIGKILL);
  srv->port = srv->tls_port;
  g_clear_pointer (&srv->tls_args, g_strfreev);
  fail_unless (redis_server_restart (srv));
  test_wait_until (other_clients (srv) >= 1, 20000,
      "the source connecting to the plain server");

  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_NULL);
  fail_unless ((g_get_monotonic_time () - start) < 5 * G_USEC_PER_SEC,
      "stopping took %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - start) / 1000);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (props);
  redis_server_stop (srv);
}

GST_END_TEST;

static Suite *
redistls_suite (void)
{
  Suite *s = suite_create ("redistls");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_round_trip_acl_user);
  tcase_add_test (tc, test_round_trip_client_certificate);
  tcase_add_test (tc, test_server_name_names_the_certificate);
  tcase_add_test (tc, test_killed_idle_connection_is_replaced);
  tcase_add_test (tc, test_reconnect_after_restart);
  tcase_add_test (tc, test_error_server_speaks_plain_resp);
  tcase_add_test (tc, test_error_plain_client_on_tls_port);
  tcase_add_test (tc, test_error_unknown_ca);
  tcase_add_test (tc, test_error_name_mismatch);
  tcase_add_test (tc, test_error_expired_certificate);
  tcase_add_test (tc, test_error_client_certificate_missing);
  tcase_add_test (tc, test_error_client_certificate_refused);
  tcase_add_test (tc, test_error_tls_settings);
  tcase_add_test (tc, test_stop_interrupts_handshake);
  return s;
}

int
main (int argc, char **argv)
{
  gint failed;

  gst_check_init (&argc, &argv);
  certs = redis_test_make_certs ();
  if (certs == NULL)
    return 1;
  failed = gst_check_run_suite (redistls_suite (), "redistls", __FILE__);
  redis_test_remove_dir (certs);
  g_free (certs);
  return failed ? 1 : 0;
}
