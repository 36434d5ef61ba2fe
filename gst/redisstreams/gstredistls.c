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

/* TLS to Redis with GIO's TLS (GTlsClientConnection, implemented by
 * glib-networking with GnuTLS).
 *
 * The node (gstredisnode.c) connects its GSocket as for plain TCP, then
 * gst_redis_tls_handshake () puts a GTlsClientConnection on it and runs the
 * handshake: asynchronously, on a main context of its own that this thread
 * iterates, so that the connect deadline (a timeout source) and the
 * element's cancellable (unlock ()) both end it at once. After the
 * handshake the node reads and writes through the connection's pollable
 * streams, waiting on the socket as for plain TCP.
 *
 * The server's certificate is verified, always: GIO's default validation
 * against the CAs of tls-ca-file (or the system's), for the name of
 * tls-server-name (or the host). Nothing here accepts a certificate that
 * did not verify, and nothing falls back to plain text.
 *
 * A failed handshake, and the failures TLS causes on the first reply of a
 * connection, are turned into GST_RESOURCE_ERROR texts that name the server
 * and what to change: %GST_RESOURCE_ERROR_OPEN_READ_WRITE when the server
 * cannot be used as configured (it does not speak TLS, or the reverse; its
 * certificate does not verify), %GST_RESOURCE_ERROR_NOT_AUTHORIZED when it
 * refuses this client (its certificate missing or refused),
 * %GST_RESOURCE_ERROR_SETTINGS when a file of the settings cannot be read.
 * The contents of the key file never reach a message or a log. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredistls.h"
#include "gstredisdebug.h"

/* the connection's category: TLS is part of how a server is reached */
#define GST_CAT_DEFAULT gst_redis_connection_debug

struct _GstRedisTls
{
  gchar *ca_file;
  gchar *server_name;
  gchar *cert_file;
  gchar *key_file;

  /* loaded at the first handshake, for every connection of the node */
  gboolean loaded;
  GTlsDatabase *database;       /* NULL: GIO's default, the system's CAs */
  GTlsCertificate *certificate; /* the client certificate, or NULL */
};

static const gchar *
non_empty (const gchar * s)
{
  return s && *s ? s : NULL;
}

GstRedisTls *
gst_redis_tls_new (const GstRedisSettings * settings)
{
  GstRedisTls *tls;

  tls = g_new0 (GstRedisTls, 1);
  tls->ca_file = g_strdup (non_empty (settings->tls_ca_file));
  tls->server_name = g_strdup (non_empty (settings->tls_server_name));
  tls->cert_file = g_strdup (non_empty (settings->tls_cert_file));
  tls->key_file = g_strdup (non_empty (settings->tls_key_file));
  return tls;
}

void
gst_redis_tls_free (GstRedisTls * tls)
{
  if (tls == NULL)
    return;
  g_free (tls->ca_file);
  g_free (tls->server_name);
  g_free (tls->cert_file);
  g_free (tls->key_file);
  g_clear_object (&tls->database);
  /* GTlsCertificate keeps the private key; dropping it is all GIO allows */
  g_clear_object (&tls->certificate);
  g_free (tls);
}

/* Reads the CA file and the client certificate once. */
static gboolean
tls_load (GstRedisTls * tls, GError ** error)
{
  GError *err = NULL;

  if (tls->loaded)
    return TRUE;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "tls=true needs GIO's TLS support, which is not installed: install "
        "glib-networking (Debian package glib-networking)");
    return FALSE;
  }
  if (tls->ca_file) {
    tls->database = g_tls_file_database_new (tls->ca_file, &err);
    if (tls->database == NULL) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Could not read the CA certificates of tls-ca-file \"%s\": %s",
          tls->ca_file, err->message);
      g_error_free (err);
      return FALSE;
    }
  }
  if (tls->cert_file) {
    /* GIO's texts name the file and what is wrong with it, never what it
     * holds */
    if (tls->key_file)
      tls->certificate = g_tls_certificate_new_from_files (tls->cert_file,
          tls->key_file, &err);
    else
      tls->certificate = g_tls_certificate_new_from_file (tls->cert_file, &err);
    if (tls->certificate == NULL) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Could not load the client certificate of tls-cert-file \"%s\"%s%s%s: "
          "%s", tls->cert_file, tls->key_file ? " with tls-key-file \"" : "",
          tls->key_file ? tls->key_file : "", tls->key_file ? "\"" : "",
          err->message);
      g_error_free (err);
      return FALSE;
    }
  }
  tls->loaded = TRUE;
  return TRUE;
}

/* The handshake, run asynchronously on a main context of this thread's
 * own, ended by the deadline's timeout source or by the element's
 * cancellable (through a cancellable of the handshake's own). */
typedef struct
{
  GCancellable *cancel;
  gboolean done;
  gboolean timed_out;
  GError *error;
} Handshake;

static void
handshake_done (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Handshake *h = user_data;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result,
      &h->error);
  h->done = TRUE;
}

static gboolean
handshake_timed_out (gpointer user_data)
{
  Handshake *h = user_data;

  h->timed_out = TRUE;
  g_cancellable_cancel (h->cancel);
  return G_SOURCE_REMOVE;
}

/* Runs in the thread that cancels the element's cancellable (unlock ()). */
static void
handshake_cancelled (GCancellable * cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
run_handshake (GTlsConnection * conn, gint64 deadline,
    GCancellable * cancellable, Handshake * h)
{
  GMainContext *context = g_main_context_new ();
  gint64 remaining = MAX (deadline - g_get_monotonic_time (), 0);
  GSource *timeout;
  gulong handler = 0;

  g_main_context_push_thread_default (context);
  h->cancel = g_cancellable_new ();
  /* called at once when @cancellable is cancelled already: a handshake
   * does not start after unlock () */
  if (cancellable)
    handler = g_cancellable_connect (cancellable,
        G_CALLBACK (handshake_cancelled), g_object_ref (h->cancel),
        g_object_unref);
  timeout = g_timeout_source_new ((guint) MIN ((remaining + 999) / 1000,
          G_MAXUINT));
  g_source_set_callback (timeout, handshake_timed_out, h, NULL);
  g_source_attach (timeout, context);

  g_tls_connection_handshake_async (conn, G_PRIORITY_DEFAULT, h->cancel,
      handshake_done, h);
  while (!h->done)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);
  g_clear_object (&h->cancel);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

/* "redis.example, 10.0.0.5": the names and addresses @cert is for. */
static gchar *
certificate_names (GTlsCertificate * cert)
{
  GString *names = g_string_new (NULL);
  GPtrArray *dns = g_tls_certificate_get_dns_names (cert);
  GPtrArray *ips = g_tls_certificate_get_ip_addresses (cert);
  guint i;

  for (i = 0; dns && i < dns->len; i++) {
    gsize len;
    const gchar *name = g_bytes_get_data (g_ptr_array_index (dns, i), &len);

    g_string_append_printf (names, "%s%.*s", names->len ? ", " : "",
        (gint) len, name);
  }
  for (i = 0; ips && i < ips->len; i++) {
    gchar *ip = g_inet_address_to_string (g_ptr_array_index (ips, i));

    g_string_append_printf (names, "%s%s", names->len ? ", " : "", ip);
    g_free (ip);
  }
  g_clear_pointer (&dns, g_ptr_array_unref);
  g_clear_pointer (&ips, g_ptr_array_unref);
  if (names->len == 0) {
    gchar *subject = g_tls_certificate_get_subject_name (cert);

    if (subject)
      g_string_append (names, subject);
    g_free (subject);
  }
  if (names->len == 0)
    g_string_append (names, "other names");
  return g_string_free (names, FALSE);
}

/* "; it expired on 2020-02-01 00:00:00 UTC: renew ...": @clause with the
 * date (taken) after @prefix, or without it when there is none. */
static void
append_dated (GString * text, const gchar * clause, GDateTime * date,
    const gchar * prefix, const gchar * action)
{
  gchar *when = date ? g_date_time_format (date, "%Y-%m-%d %H:%M:%S UTC") :
      NULL;

  g_string_append_printf (text, "; %s%s%s: %s", clause, when ? prefix : "",
      when ? when : "", action);
  g_free (when);
  if (date)
    g_date_time_unref (date);
}

/* One clause per problem GIO found with the server's certificate, each
 * with what to change. */
static gchar *
describe_certificate_errors (GstRedisTls * tls, GTlsConnection * conn,
    const gchar * host)
{
  GTlsCertificateFlags flags = g_tls_connection_get_peer_certificate_errors
      (conn);
  GTlsCertificate *cert = g_tls_connection_get_peer_certificate (conn);
  GString *text = g_string_new (NULL);

  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA) {
    gchar *issuer = cert ? g_tls_certificate_get_issuer_name (cert) : NULL;
    gchar *detail = issuer ? g_strdup_printf (" (issuer %s)", issuer) :
        g_strdup ("");

    if (tls->ca_file)
      g_string_append_printf (text, "; no CA of tls-ca-file \"%s\" signed "
          "it%s: set tls-ca-file to the CA certificate that did (Redis's "
          "tls-ca-cert-file, or the server's own certificate if it is "
          "self-signed)", tls->ca_file, detail);
    else
      g_string_append_printf (text, "; no CA the system trusts signed it%s: "
          "set tls-ca-file to the CA certificate that did (Redis's "
          "tls-ca-cert-file)", detail);
    g_free (detail);
    g_free (issuer);
  }
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY) {
    gchar *names = cert ? certificate_names (cert) : g_strdup ("other names");

    g_string_append_printf (text, "; it is for %s, not for \"%s\": set "
        "tls-server-name to a name it holds, or connect to the server by "
        "that name", names, host);
    g_free (names);
  }
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    append_dated (text, "it expired", cert ?
        g_tls_certificate_get_not_valid_after (cert) : NULL, " on ",
        "renew the server's certificate (tls-cert-file in redis.conf)");
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    append_dated (text, "it is not valid yet", cert ?
        g_tls_certificate_get_not_valid_before (cert) : NULL, ", not before ",
        "check the clocks of this host and of the server");
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    g_string_append (text, "; it was revoked: the server needs a new one");
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    g_string_append (text, "; it uses an insecure algorithm: the server "
        "needs a new one");
  if (text->len == 0)
    g_string_append (text, "; it could not be verified");
  /* drop the first "; " */
  g_string_erase (text, 0, 2);
  return g_string_free (text, FALSE);
}

/* The server ended a TLS session it had begun (its certificate came and
 * verified) @when ("during the handshake", "before the first reply"), with
 * @err (NULL: it closed the connection): a server that wants a client
 * certificate and did not get one, or refused the one it got. */
static gboolean
explain_client_refused (GstRedisTls * tls, const GError * err,
    const gchar * when, const gchar * description, GError ** error)
{
  const gchar *reason = err ? err->message : "closed the connection";
  gboolean certain = err && err->domain == G_TLS_ERROR &&
      err->code != G_TLS_ERROR_NOT_TLS;

  if (err && err->domain != G_TLS_ERROR && !gst_redis_tls_error_is_closed (err))
    return FALSE;
  /* TLS 1.3: the server checks the client's certificate at the end of the
   * handshake, and says no with an alert and a close, which the client's
   * last handshake write or its first read or write after the handshake
   * finds (as the alert, or as a reset or broken pipe that lost it) */
  if (g_error_matches (err, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED) ||
      tls->certificate == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Redis at %s ended the TLS "
        "session %s (%s): it %s a client certificate (tls-auth-clients "
        "yes); set tls-cert-file and tls-key-file to a certificate signed by "
        "a CA of the server's tls-ca-cert-file", description, when, reason,
        certain ? "requires" : "probably requires");
    return TRUE;
  }
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
      "Redis at %s ended the TLS session %s (%s): it %s the client "
      "certificate of tls-cert-file \"%s\"; it must be signed by a CA of "
      "the server's tls-ca-cert-file, be valid now and be meant for clients "
      "(extendedKeyUsage clientAuth)", description, when, reason,
      certain ? "refused" : "probably refused", tls->cert_file);
  return TRUE;
}

/* A failed handshake as an error a user can act on. Takes @err. */
static void
handshake_failed (GstRedisTls * tls, GTlsConnection * conn, GError * err,
    const gchar * host, guint port, const gchar * description,
    gint64 started, GError ** error)
{
  GTlsCertificate *peer = g_tls_connection_get_peer_certificate (conn);
  GTlsCertificateFlags problems = g_tls_connection_get_peer_certificate_errors
      (conn);

  /* GIO calls a session that broke off before its end NOT_TLS; after the
   * server's certificate came and verified, the server does speak TLS */
  if (peer && problems == 0 && (err->domain == G_TLS_ERROR ||
          gst_redis_tls_error_is_closed (err))) {
    explain_client_refused (tls, err, "during the handshake", description,
        error);
  } else if (g_error_matches (err, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Redis at %s does not speak TLS "
        "on port %u (%s): set port to the server's tls-port, or tls=false "
        "for a server without TLS", description, port, err->message);
  } else if (g_error_matches (err, G_TLS_ERROR,
          G_TLS_ERROR_CERTIFICATE_REQUIRED)) {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NOT_AUTHORIZED, "Redis at %s requires a TLS "
        "client certificate (tls-auth-clients yes): set tls-cert-file and "
        "tls-key-file to a certificate signed by a CA of the server's "
        "tls-ca-cert-file", description);
  } else if (problems != 0) {
    gchar *text = describe_certificate_errors (tls, conn,
        tls->server_name ? tls->server_name : host);

    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "The TLS certificate of Redis "
        "at %s is not trusted: %s", description, text);
    g_free (text);
  } else {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "The TLS handshake with Redis at "
        "%s failed after %" G_GINT64_FORMAT " ms: %s", description,
        (g_get_monotonic_time () - started) / 1000, err->message);
  }
  g_error_free (err);
}

/* Puts TLS on @socket, connected to @host:@port, and runs the handshake
 * until @deadline. Returns the GTlsClientConnection to read and write
 * through; on failure @error says why (G_IO_ERROR_CANCELLED when
 * @cancellable was cancelled) and @socket is left as it was. */
GIOStream *
gst_redis_tls_handshake (GstRedisTls * tls, GSocket * socket,
    const gchar * host, guint port, const gchar * description,
    gint64 deadline, GCancellable * cancellable, GError ** error)
{
  GSocketConnection *base;
  GSocketConnectable *identity;
  GIOStream *conn;
  Handshake h = { NULL, FALSE, FALSE, NULL };
  gint64 started = g_get_monotonic_time ();
  GError *err = NULL;

  if (!tls_load (tls, error))
    return NULL;

  base = g_socket_connection_factory_create_connection (socket);
  identity = g_network_address_new (tls->server_name ? tls->server_name :
      host, port);
  conn = g_tls_client_connection_new (G_IO_STREAM (base), identity, &err);
  g_object_unref (identity);
  g_object_unref (base);
  if (conn == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Could not set up TLS for Redis at %s: %s", description, err->message);
    g_error_free (err);
    return NULL;
  }
  if (tls->database)
    g_tls_connection_set_database (G_TLS_CONNECTION (conn), tls->database);
  if (tls->certificate)
    g_tls_connection_set_certificate (G_TLS_CONNECTION (conn),
        tls->certificate);
  /* RESP frames itself: a connection cut without close_notify loses no
   * reply unnoticed, and is a closed connection like any other */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (conn), FALSE);

  run_handshake (G_TLS_CONNECTION (conn), deadline, cancellable, &h);
  if (h.error == NULL) {
    gchar *suite =
        g_tls_connection_get_ciphersuite_name (G_TLS_CONNECTION (conn));

    GST_DEBUG ("TLS with %s: %s, %s, handshake %.1f ms", description,
        g_tls_connection_get_protocol_version (G_TLS_CONNECTION (conn)) ==
        G_TLS_PROTOCOL_VERSION_TLS_1_3 ? "TLS 1.3" : "TLS 1.2 or older",
        suite ? suite : "unknown cipher suite",
        (g_get_monotonic_time () - started) / 1000.0);
    g_free (suite);
    return conn;
  }

  if (g_error_matches (h.error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      cancellable && g_cancellable_is_cancelled (cancellable)) {
    g_propagate_error (error, h.error);
  } else if (h.timed_out) {
    /* A plain Redis port reads a TLS hello as the start of an inline
     * command and waits for its end: it never answers. */
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Redis at %s did not answer the "
        "TLS handshake within %" G_GINT64_FORMAT " ms: port %u is probably a "
        "plain (non-TLS) port, which never answers one; set port to the "
        "server's tls-port, or tls=false for a server without TLS",
        description, (g_get_monotonic_time () - started) / 1000, port);
    g_error_free (h.error);
  } else {
    handshake_failed (tls, G_TLS_CONNECTION (conn), h.error, host, port,
        description, started, error);
  }
  /* the caller closes the socket, so that closing the TLS connection
   * cannot wait for a close_notify to go out */
  g_object_unref (conn);
  return NULL;
}

/* TRUE when @err means the server closed the connection (an end of file,
 * a reset, a broken pipe), with or without TLS. */
gboolean
gst_redis_tls_error_is_closed (const GError * err)
{
  return g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
      g_error_matches (err, G_TLS_ERROR, G_TLS_ERROR_EOF);
}

/* The first command of a new connection failed with @err (NULL: the
 * server closed the connection) before any byte of its reply came: the
 * usual sign of TLS on one side only, or of a server that refuses this
 * client's certificate. Sets @error and returns TRUE when that explains
 * it. */
gboolean
gst_redis_tls_explain_first_reply (GstRedisTls * tls, gboolean use_tls,
    const GError * err, const gchar * description, guint port, GError ** error)
{
  if (!use_tls) {
    if (err && !gst_redis_tls_error_is_closed (err))
      return FALSE;
    /* A TLS port reads the command as a broken TLS record and resets the
     * connection without a word. */
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Redis at %s closed the "
        "connection before answering the first command: port %u is probably "
        "a TLS port (tls-port); set tls=true (and tls-ca-file for a private "
        "CA), or set port to the server's plain port", description, port);
    return TRUE;
  }

  return explain_client_refused (tls, err, "before the first reply",
      description, error);
}

/* The first byte a plain connection received is a TLS record's (an alert
 * or a handshake message), not a RESP reply's: sets @error and returns
 * TRUE. */
gboolean
gst_redis_tls_explain_first_byte (guint8 first_byte, const gchar * description,
    guint port, GError ** error)
{
  /* TLS record content types: 0x15 alert, 0x16 handshake */
  if (first_byte != 0x15 && first_byte != 0x16)
    return FALSE;
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "Redis at %s answered in TLS: port %u is a TLS port; set tls=true (and "
      "tls-ca-file for a private CA), or set port to the server's plain port",
      description, port);
  return TRUE;
}
