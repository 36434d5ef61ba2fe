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

/* The viewer page of websocketsink, compiled into the plugin as a
 * GResource, served over plain HTTP by the element's server. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwebsocketpage.h"
#include "gstwebsocketsinkresources.h"

GST_DEBUG_CATEGORY_EXTERN (gst_websocket_sink_debug);
#define GST_CAT_DEFAULT gst_websocket_sink_debug

#define RESOURCE_PREFIX "/org/gstreamer/websocketsink/"

/* Serves the viewer page and its script from the plugin's GResource */
void
gst_websocket_page_handle (SoupServer * soup, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  GstElement *element = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *file, *content_type;
  SoupMessageHeaders *headers;
  GBytes *bytes;
  gchar *resource_path;
  GError *err = NULL;

  /* libsoup 3.2 never frees an idle keep-alive connection that the client
   * closes (fixed in 3.3): its socket and fd stay open for good. Browsers
   * close them all the time, so answer and close ourselves. A page and its
   * script are cheap to fetch on fresh connections. */
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");

  /* libsoup interns method names */
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Allow", "GET, HEAD");
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }

  if (g_str_equal (path, "/") || g_str_equal (path, "/index.html")) {
    file = "index.html";
    content_type = "text/html; charset=utf-8";
  } else if (g_str_equal (path, "/viewer.js")) {
    file = "viewer.js";
    content_type = "text/javascript; charset=utf-8";
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }

  resource_path = g_strconcat (RESOURCE_PREFIX, file, NULL);
  bytes = g_resource_lookup_data (gst_websocket_sink_get_resource (),
      resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, &err);
  g_free (resource_path);
  if (bytes == NULL) {
    GST_WARNING_OBJECT (element, "viewer file %s missing: %s", file,
        err->message);
    g_clear_error (&err);
    soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        NULL);
    return;
  }

  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Content-Type", content_type);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      bytes);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  g_bytes_unref (bytes);
}
