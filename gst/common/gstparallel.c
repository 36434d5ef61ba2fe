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

/* The project's one parallel runner, shared by the redisstreams plugin (LZ4
 * blocks) and frameproc (bands of a frame). Modelled on the parallelized
 * task runner of gst-plugins-base's video-converter.c: a GstSharedTaskPool
 * of (n_threads - 1) threads owned by the runner, the calling thread doing
 * its share, run () returning once every task is done. Unlike the
 * converter's runner, a batch may hold more tasks than there are threads:
 * each worker takes the next task index until none is left, so a batch of
 * many small tasks keeps every thread busy.
 *
 * Whoever creates a runner owns it and its threads: gst_parallel_runner_free
 * () stops them. There is no process-wide pool. A runner is used by one
 * thread at a time. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstparallel.h"

GST_DEBUG_CATEGORY (gst_parallel_debug);
#define GST_CAT_DEFAULT gst_parallel_debug

struct _GstParallelRunner
{
  /* NULL with a single thread */
  GstTaskPool *pool;
  guint n_threads;
};

typedef struct
{
  GstParallelFunc func;
  gpointer data;
  guint n_tasks;
  gint next;                    /* atomic: the next task to take */
} Batch;

/* Called once by the element init of each plugin that links the runner. */
void
gst_parallel_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (gst_parallel_debug, "parallel", 0,
      "Parallel task runner");
}

/* Creates a runner of @n_threads threads (0: one per processor), the
 * calling thread of run () included. Returns NULL with @error when the
 * worker threads cannot be set up; a caller can then run its tasks itself
 * (gst_parallel_runner_run () accepts a NULL runner). */
GstParallelRunner *
gst_parallel_runner_new (guint n_threads, GError ** error)
{
  GstParallelRunner *runner;

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, GST_PARALLEL_MAX_THREADS);

  runner = g_new0 (GstParallelRunner, 1);
  runner->n_threads = n_threads;
  if (n_threads > 1) {
    GError *err = NULL;

    runner->pool = gst_shared_task_pool_new ();
    /* the calling thread takes its share too */
    gst_shared_task_pool_set_max_threads (GST_SHARED_TASK_POOL (runner->pool),
        n_threads - 1);
    gst_task_pool_prepare (runner->pool, &err);
    if (err) {
      g_propagate_error (error, err);
      gst_object_unref (runner->pool);
      g_free (runner);
      return NULL;
    }
  }
  GST_DEBUG ("runner %p with %u threads", runner, n_threads);
  return runner;
}

void
gst_parallel_runner_free (GstParallelRunner * runner)
{
  if (runner == NULL)
    return;
  if (runner->pool) {
    gst_task_pool_cleanup (runner->pool);
    gst_object_unref (runner->pool);
  }
  g_free (runner);
}

guint
gst_parallel_runner_get_n_threads (GstParallelRunner * runner)
{
  return runner ? runner->n_threads : 1;
}

static void
batch_work (gpointer user_data)
{
  Batch *batch = user_data;
  guint i;

  while ((i = (guint) g_atomic_int_add (&batch->next, 1)) < batch->n_tasks)
    batch->func (batch->data, i);
}

/* Runs @func for every index in [0, @n_tasks) and returns when all are
 * done. Which thread runs which index is not fixed, so a task must depend
 * on its index only. */
void
gst_parallel_runner_run (GstParallelRunner * runner, GstParallelFunc func,
    gpointer data, guint n_tasks)
{
  gpointer ids[GST_PARALLEL_MAX_THREADS] = { NULL, };
  Batch batch = { func, data, n_tasks, 0 };
  guint n_workers, i;

  n_workers = MIN (gst_parallel_runner_get_n_threads (runner), n_tasks);
  for (i = 1; i < n_workers; i++) {
    GError *err = NULL;

    ids[i] = gst_task_pool_push (runner->pool, batch_work, &batch, &err);
    if (ids[i] == NULL) {
      /* the other workers, this thread at least, take its tasks */
      GST_WARNING ("Cannot start a worker: %s", err ? err->message : "?");
      g_clear_error (&err);
      break;
    }
  }
  batch_work (&batch);
  for (i = 1; i < n_workers; i++) {
    if (ids[i])
      gst_task_pool_join (runner->pool, ids[i]);
  }
}
