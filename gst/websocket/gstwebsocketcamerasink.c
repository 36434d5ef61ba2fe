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

/* GstWebSocketCameraSink: the sink of one camera inside websocketsink, the
 * target of the camera's ghost pad while it is linked. A GstBaseSink, so
 * every camera syncs on the clock, prerolls, drops late frames and sends
 * QoS upstream exactly like any sink; websocketsink sets its GstBaseSink
 * properties. What it renders goes to the server the cameras share. Not an
 * element factory: only websocketsink makes them. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwebsocketcamerasink.h"
#include "gstwebsocketelements.h"

#define GST_CAT_DEFAULT gst_websocket_sink_debug

struct _GstWebSocketCameraSink
{
  GstBaseSink parent;

  /* Set when made, then read only */
  GstWebSocketSinkPad *pad;
  GstWebSocketCameraShared *shared;

  /* Under shared->lock: an EOS waiting for the server thread must return */
  gboolean flushing;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_WEBSOCKET_SINK_CAPS));

#define gst_websocket_camera_sink_parent_class parent_class
G_DEFINE_TYPE (GstWebSocketCameraSink, gst_websocket_camera_sink,
    GST_TYPE_BASE_SINK);

/* ---- what the camera sinks share ---- */

void
gst_websocket_camera_shared_init (GstWebSocketCameraShared * shared,
    GstWebSocketServer * server)
{
  shared->server = server;
  g_mutex_init (&shared->lock);
  g_cond_init (&shared->taken);
}

void
gst_websocket_camera_shared_clear (GstWebSocketCameraShared * shared)
{
  g_mutex_clear (&shared->lock);
  g_cond_clear (&shared->taken);
}

/* The server's GstWebSocketServerDrainedFunc: server thread, no lock held.
 * Every frame handed over was taken; an EOS may be waiting for that. */
void
gst_websocket_camera_shared_frames_taken (gpointer shared)
{
  GstWebSocketCameraShared *s = shared;

  g_mutex_lock (&s->lock);
  g_cond_broadcast (&s->taken);
  g_mutex_unlock (&s->lock);
}

/* ---- GstBaseSink ---- */

static gboolean
gst_websocket_camera_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (bsink);

  gst_websocket_sink_pad_set_caps (self->pad, caps);

  return TRUE;
}

static GstFlowReturn
gst_websocket_camera_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (bsink);

  gst_websocket_server_push (self->shared->server,
      gst_websocket_feed_frame_new (self->pad, buffer));

  return GST_FLOW_OK;
}

static gboolean
gst_websocket_camera_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (bsink);
  GstWebSocketCameraShared *shared = self->shared;

  /* GstBaseSink posts EOS once its clock wait is over; hold it until the
   * server thread has taken every frame (a client that connects after EOS
   * gets the last one), or a flush or stop interrupts. The server's lock
   * nests inside @lock; the server thread takes @lock only without its
   * own. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (&shared->lock);
    while (!self->flushing && gst_websocket_server_is_taking (shared->server))
      g_cond_wait (&shared->taken, &shared->lock);
    g_mutex_unlock (&shared->lock);
  }

  return GST_BASE_SINK_CLASS (parent_class)->event (bsink, event);
}

static gboolean
gst_websocket_camera_sink_unlock (GstBaseSink * bsink)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (bsink);

  g_mutex_lock (&self->shared->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->shared->taken);
  g_mutex_unlock (&self->shared->lock);

  return TRUE;
}

static gboolean
gst_websocket_camera_sink_unlock_stop (GstBaseSink * bsink)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (bsink);

  g_mutex_lock (&self->shared->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->shared->lock);

  return TRUE;
}

static void
gst_websocket_camera_sink_finalize (GObject * object)
{
  GstWebSocketCameraSink *self = GST_WEBSOCKET_CAMERA_SINK (object);

  gst_clear_object (&self->pad);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_websocket_camera_sink_class_init (GstWebSocketCameraSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_websocket_camera_sink_finalize;

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "WebSocket camera sink", "Sink/Network",
      "One camera of websocketsink", "gst-redis-streams contributors");

  basesink_class->set_caps =
      GST_DEBUG_FUNCPTR (gst_websocket_camera_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_websocket_camera_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_websocket_camera_sink_event);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_websocket_camera_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_websocket_camera_sink_unlock_stop);
}

static void
gst_websocket_camera_sink_init (GstWebSocketCameraSink * self)
{
}

/* The sink of @pad's camera, named after the pad, rendering to
 * @shared's server */
GstElement *
gst_websocket_camera_sink_new (GstWebSocketSinkPad * pad,
    GstWebSocketCameraShared * shared)
{
  GstWebSocketCameraSink *self;
  gchar *name = g_strdup_printf ("camera-%s", GST_OBJECT_NAME (pad));

  self = g_object_new (GST_TYPE_WEBSOCKET_CAMERA_SINK, "name", name, NULL);
  g_free (name);
  self->pad = gst_object_ref (pad);
  self->shared = shared;

  return GST_ELEMENT_CAST (self);
}
