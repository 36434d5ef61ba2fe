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

#ifndef __GST_PARALLEL_H__
#define __GST_PARALLEL_H__

#include <gst/gst.h>

/* *INDENT-OFF* */
G_BEGIN_DECLS
/* *INDENT-ON* */

/* Most threads a runner uses, the calling thread included. */
#define GST_PARALLEL_MAX_THREADS 64

/* Runs task @index of a batch; the tasks of a batch are independent. */
typedef void (*GstParallelFunc) (gpointer data, guint index);

typedef struct _GstParallelRunner GstParallelRunner;

void gst_parallel_debug_init (void);

GstParallelRunner *gst_parallel_runner_new (guint n_threads, GError ** error);
void gst_parallel_runner_free (GstParallelRunner * runner);
guint gst_parallel_runner_get_n_threads (GstParallelRunner * runner);
void gst_parallel_runner_run (GstParallelRunner * runner, GstParallelFunc func,
    gpointer data, guint n_tasks);

G_END_DECLS
#endif /* __GST_PARALLEL_H__ */
