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

#ifndef __GST_WEBSOCKET_AUTH_H__
#define __GST_WEBSOCKET_AUTH_H__

#include <gst/gst.h>
#include <libsoup/soup.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* The realm of the WWW-Authenticate challenges */
#define GST_WEBSOCKET_AUTH_REALM "websocketsink"
/* The secrets websocketsink asks every HTTP and WebSocket request for: a
 * token (`?token=` or `Authorization: Bearer`) and/or a user and password
 * (HTTP basic). Only SHA-256 digests are compared, in constant time; the
 * clear values are kept for reading back the user and for recomputing the
 * basic digest, and are wiped when replaced. Not thread-safe: the server
 * keeps it under its lock and checks requests against a copy. */
typedef struct
{
  gchar *token;
  gchar *user;
  gchar *password;

  /* Derived from the above */
  gboolean token_set;
  gboolean basic_set;
  guint8 token_digest[32];
  guint8 basic_digest[32];
} GstWebSocketAuth;

void gst_websocket_auth_init (GstWebSocketAuth * auth);
void gst_websocket_auth_clear (GstWebSocketAuth * auth);
void gst_websocket_auth_copy_digests (GstWebSocketAuth * dest,
    const GstWebSocketAuth * src);

void gst_websocket_auth_set_token (GstWebSocketAuth * auth,
    const gchar * token);
void gst_websocket_auth_set_user (GstWebSocketAuth * auth, const gchar * user);
void gst_websocket_auth_set_password (GstWebSocketAuth * auth,
    const gchar * password);

gboolean gst_websocket_auth_required (const GstWebSocketAuth * auth);
gboolean gst_websocket_auth_check (const GstWebSocketAuth * auth,
    SoupServerMessage * msg, GHashTable * query);
void gst_websocket_auth_challenge (const GstWebSocketAuth * auth,
    SoupServerMessage * msg);

gchar *gst_websocket_auth_read_token_file (const gchar * path, GError ** error);

G_END_DECLS
#endif /* __GST_WEBSOCKET_AUTH_H__ */
