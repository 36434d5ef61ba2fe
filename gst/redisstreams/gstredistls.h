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

#ifndef __GST_REDIS_TLS_H__
#define __GST_REDIS_TLS_H__

#include <gst/gst.h>
#include <gio/gio.h>
#include "gstredissettings.h"

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* TLS of the connections of one GstRedisNode (gstredisnode.c): the trusted
 * CAs and the client certificate of the settings, loaded once, the
 * handshake of each new connection within its deadline, and TLS failures
 * turned into errors a user can act on. */
typedef struct _GstRedisTls GstRedisTls;

GstRedisTls *gst_redis_tls_new (const GstRedisSettings * settings);
void gst_redis_tls_free (GstRedisTls * tls);

GIOStream *gst_redis_tls_handshake (GstRedisTls * tls, GSocket * socket,
    const gchar * host, guint port, const gchar * description,
    gint64 deadline, GCancellable * cancellable, GError ** error);

gboolean gst_redis_tls_explain_first_reply (GstRedisTls * tls,
    gboolean use_tls, const GError * err, const gchar * description,
    guint port, GError ** error);
gboolean gst_redis_tls_explain_first_byte (guint8 first_byte,
    const gchar * description, guint port, GError ** error);
gboolean gst_redis_tls_error_is_closed (const GError * err);

G_END_DECLS
#endif /* __GST_REDIS_TLS_H__ */
