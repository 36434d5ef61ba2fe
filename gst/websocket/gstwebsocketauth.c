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

/* The secret websocketsink asks every request for. A candidate is hashed
 * and its SHA-256 digest compared with the secret's in constant time: the
 * time taken says nothing about how much of a guess was right, not even its
 * length. Nothing here logs a secret or a candidate. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstwebsocketauth.h"

#define DIGEST_SIZE 32

/* Overwrites @len bytes in a way the compiler cannot drop as a dead
 * store */
static void
wipe (gpointer data, gsize len)
{
  volatile guint8 *p = data;

  while (len--)
    *p++ = 0;
}

static void
free_secret (gchar ** secret)
{
  if (*secret != NULL) {
    wipe (*secret, strlen (*secret));
    g_free (*secret);
    *secret = NULL;
  }
}

static void
digest (const guint8 * data, gsize len, guint8 out[DIGEST_SIZE])
{
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize out_len = DIGEST_SIZE;

  g_checksum_update (checksum, data, len);
  g_checksum_get_digest (checksum, out, &out_len);
  g_checksum_free (checksum);
}

/* Every byte is looked at whatever the others are */
static gboolean
digest_equal (const guint8 a[DIGEST_SIZE], const guint8 b[DIGEST_SIZE])
{
  volatile guint8 diff = 0;
  guint i;

  for (i = 0; i < DIGEST_SIZE; i++)
    diff |= a[i] ^ b[i];

  return diff == 0;
}

static gboolean
candidate_matches (const gchar * candidate, gsize len,
    const guint8 expected[DIGEST_SIZE])
{
  guint8 d[DIGEST_SIZE];
  gboolean equal;

  digest ((const guint8 *) candidate, len, d);
  equal = digest_equal (d, expected);
  wipe (d, sizeof (d));

  return equal;
}

void
gst_websocket_auth_init (GstWebSocketAuth * auth)
{
  memset (auth, 0, sizeof (*auth));
}

void
gst_websocket_auth_clear (GstWebSocketAuth * auth)
{
  free_secret (&auth->token);
  g_free (auth->user);
  free_secret (&auth->password);
  wipe (auth, sizeof (*auth));
}

/* What checking needs, the digests: @dest gets no clear value */
void
gst_websocket_auth_copy_digests (GstWebSocketAuth * dest,
    const GstWebSocketAuth * src)
{
  *dest = *src;
  dest->token = dest->user = dest->password = NULL;
}

static void
update_basic (GstWebSocketAuth * auth)
{
  gchar *credentials;

  auth->basic_set = auth->user != NULL && auth->password != NULL;
  if (!auth->basic_set) {
    wipe (auth->basic_digest, DIGEST_SIZE);
    return;
  }
  /* What a client sends, base64-decoded: "user:password" */
  credentials = g_strconcat (auth->user, ":", auth->password, NULL);
  digest ((const guint8 *) credentials, strlen (credentials),
      auth->basic_digest);
  free_secret (&credentials);
}

/* NULL or "" turns the token off */
void
gst_websocket_auth_set_token (GstWebSocketAuth * auth, const gchar * token)
{
  free_secret (&auth->token);
  if (token != NULL && *token != '\0')
    auth->token = g_strdup (token);
  auth->token_set = auth->token != NULL;
  if (auth->token_set)
    digest ((const guint8 *) auth->token, strlen (auth->token),
        auth->token_digest);
  else
    wipe (auth->token_digest, DIGEST_SIZE);
}

void
gst_websocket_auth_set_user (GstWebSocketAuth * auth, const gchar * user)
{
  g_free (auth->user);
  auth->user = (user != NULL && *user != '\0') ? g_strdup (user) : NULL;
  update_basic (auth);
}

void
gst_websocket_auth_set_password (GstWebSocketAuth * auth,
    const gchar * password)
{
  free_secret (&auth->password);
  if (password != NULL && *password != '\0')
    auth->password = g_strdup (password);
  update_basic (auth);
}

gboolean
gst_websocket_auth_required (const GstWebSocketAuth * auth)
{
  return auth->token_set || auth->basic_set;
}

/* "Scheme value": @value points into @header when its scheme is @scheme
 * (case-insensitive, as in RFC 9110) */
static const gchar *
auth_param (const gchar * header, const gchar * scheme)
{
  gsize len = strlen (scheme);

  if (header == NULL || g_ascii_strncasecmp (header, scheme, len) != 0 ||
      header[len] != ' ')
    return NULL;
  header += len;
  while (*header == ' ')
    header++;

  return header;
}

/* Whether @msg carries one of the secrets: `token` in the query, or an
 * `Authorization` header, Bearer or Basic. */
gboolean
gst_websocket_auth_check (const GstWebSocketAuth * auth,
    SoupServerMessage * msg, GHashTable * query)
{
  const gchar *header, *value;
  gboolean ok = FALSE;

  if (!gst_websocket_auth_required (auth))
    return TRUE;

  header = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");

  if (auth->token_set) {
    value = query ? g_hash_table_lookup (query, "token") : NULL;
    if (value != NULL)
      ok |= candidate_matches (value, strlen (value), auth->token_digest);
    value = auth_param (header, "Bearer");
    if (value != NULL)
      ok |= candidate_matches (value, strlen (value), auth->token_digest);
  }

  if (auth->basic_set && (value = auth_param (header, "Basic")) != NULL) {
    guchar *decoded;
    gsize len;

    /* Tolerates junk, which then simply does not match */
    decoded = g_base64_decode (value, &len);
    ok |= candidate_matches ((const gchar *) decoded, len, auth->basic_digest);
    wipe (decoded, len);
    g_free (decoded);
  }

  return ok;
}

/* Answers @msg with 401 and the challenges of the configured schemes */
void
gst_websocket_auth_challenge (const GstWebSocketAuth * auth,
    SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  static const gchar body[] =
      "401 Unauthorized: this viewer needs its secret. Open the address you "
      "were given, with its ?token=, or sign in.\n";

  if (auth->basic_set)
    soup_message_headers_append (headers, "WWW-Authenticate",
        "Basic realm=\"" GST_WEBSOCKET_AUTH_REALM "\", charset=\"UTF-8\"");
  if (auth->token_set)
    soup_message_headers_append (headers, "WWW-Authenticate",
        "Bearer realm=\"" GST_WEBSOCKET_AUTH_REALM "\"");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_STATIC, body, sizeof (body) - 1);
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
}

/* The token in the file at @path: its first line without the surrounding
 * white space. The error never quotes the file's contents. */
gchar *
gst_websocket_auth_read_token_file (const gchar * path, GError ** error)
{
  gchar *contents = NULL, *token = NULL, *end;
  gsize len, line_len;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;

  end = memchr (contents, '\n', len);
  line_len = end ? (gsize) (end - contents) : len;
  if (memchr (contents, '\0', line_len) != NULL) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "the first line of %s holds a NUL byte", path);
    goto done;
  }
  contents[line_len] = '\0';
  g_strstrip (contents);
  if (*contents == '\0') {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "the first line of %s is empty", path);
    goto done;
  }
  token = g_strdup (contents);

done:
  wipe (contents, len);
  g_free (contents);

  return token;
}
