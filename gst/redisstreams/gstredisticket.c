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

/**
 * SECTION:gstredisticket
 * @title: GstRedisTicket
 *
 * The ticket of one entry a redisstreamsrc read, in the "ticket" field of
 * the "GstRedisEntryMeta" custom meta of every buffer made from it. An
 * element or an application that cannot process the frame emits the
 * action signal #GstRedisTicket::fail with a reason; the source then sets
 * the entry aside in its dead-letter stream. The redisstreamsrc reference
 * in the project documentation has the details ("Acknowledgements").
 *
 * Since: 1.0
 */

/* The entry's identity travelling with the buffer (gstredisticket.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisticket.h"

#include <gst/base/gstbasesink.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_redis_stream_src_debug);
#define GST_CAT_DEFAULT gst_redis_stream_src_debug

/* Tickets dropped on purpose that wait for something read after them to be
 * stored: beyond this many, the oldest is acknowledged. */
#define MAX_WAITING 10000
/* Storing sinks a source keeps track of. */
#define MAX_MARKS 8
/* A sink that stopped this long ago no longer makes released tickets stay
 * pending: its pipeline has been torn down. */
#define MARK_DOWN_GRACE (2 * G_TIME_SPAN_SECOND)

typedef enum
{
  TICKET_PENDING,
  TICKET_STORED,
  TICKET_ACKED,
  TICKET_FAILED,
} TicketState;

struct _GstRedisStoreMark
{
  gint refcount;
  GMutex lock;
  /* running time of the newest buffer stored, NONE before one */
  GstClockTime stored_rt;
  /* the sink stored buffers without a ticket: an element on the way does
   * not keep metas (an aggregator, a parser) */
  gboolean untracked;
  /* monotonic time the sink stopped, 0 while it runs */
  gint64 down_since;
};

typedef struct
{
  GstRedisStoreMark *mark;
  gboolean same_pipeline;
} MarkRef;

typedef struct
{
  gchar *id;
  guint64 index;
  GstClockTime rt;
} Waiting;

struct _GstRedisAckTracker
{
  gint refcount;
  GMutex lock;
  /* the source, to see whether its pipeline is going down */
  GWeakRef source;

  /* set by start (), under the lock */
  gboolean active;
  guint session;
  gchar *stream;
  gchar *group;
  gchar *consumer;

  guint epoch;
  /* between unlock () (or FLUSH_START) and unlock_stop () (or FLUSH_STOP) */
  gboolean flushing;
  /* the ticket attached last while its buffer has not passed the source's
   * pad yet (not referenced: it clears this when it goes) */
  GstRedisTicket *unpushed;
  guint64 next_index;
  /* one more than the largest index stored */
  guint64 stored_index;
  gboolean reread_due;

  /* decided, to send: ids to acknowledge, dead letters */
  GPtrArray *acks;
  GQueue dead;
  /* released without being stored, waiting for a watermark */
  GQueue waiting;
  /* id -> tickets alive and decisions not sent yet */
  GHashTable *held;
  /* id -> times this session read it again itself */
  GHashTable *rereads;
  GArray *marks;
  /* the tickets alive (not referenced: each removes itself when it goes) */
  GHashTable *alive;

  GstRedisAckStats stats;
};

struct _GstRedisTicket
{
  GObject parent;

  GstRedisAckTracker *tracker;
  gchar *id;
  guint64 index;
  guint session;
  guint epoch;
  guint deliveries;
  GstClockTime rt;
  /* under the tracker's lock */
  /* its buffer passed the source's pad */
  gboolean pushed;
  TicketState state;
  gchar *reason;
  /* decided at the source's stop while still alive */
  gboolean settled;
  /* a sink of the source's pipeline kept its buffer as its last sample */
  gboolean rendered;
};

enum
{
  SIGNAL_FAIL,
  LAST_SIGNAL,
};

static guint ticket_signals[LAST_SIGNAL];

G_DEFINE_TYPE (GstRedisTicket, gst_redis_ticket, G_TYPE_OBJECT);

static void tracker_release (GstRedisAckTracker * t, GstRedisTicket * ticket);
static void tracker_settle_waiting (GstRedisAckTracker * t);
static void tracker_queue_dead_letter (GstRedisAckTracker * t,
    const gchar * id, gchar * reason, guint deliveries);

void
gst_redis_dead_letter_free (GstRedisDeadLetter * dl)
{
  if (dl == NULL)
    return;
  g_free (dl->id);
  g_free (dl->reason);
  g_free (dl);
}

static void
waiting_free (Waiting * w)
{
  g_free (w->id);
  g_free (w);
}

/* --- the meta ------------------------------------------------------------ */

static gboolean
copy_field (GQuark field, const GValue * value, gpointer to)
{
  gst_structure_id_set_value (to, field, value);
  return TRUE;
}

static GstRedisTicket *
entry_meta_ticket (GstCustomMeta * meta)
{
  const GValue *v = gst_structure_get_value (gst_custom_meta_get_structure
      (meta), "ticket");

  if (v == NULL || !G_VALUE_HOLDS (v, GST_TYPE_REDIS_TICKET))
    return NULL;
  return g_value_get_object (v);
}

static gboolean
is_entry_meta (GstMeta * meta)
{
  return gst_meta_info_is_custom (meta->info) &&
      gst_custom_meta_has_name ((GstCustomMeta *) meta,
      GST_REDIS_ENTRY_META_NAME);
}

static gboolean
buffer_has_ticket (GstBuffer * buffer, GstRedisTicket * ticket)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta (buffer, &state))) {
    if (is_entry_meta (meta) && entry_meta_ticket ((GstCustomMeta *) meta) ==
        ticket)
      return TRUE;
  }
  return FALSE;
}

/* Every transform keeps the entry (a copy, a scaled or converted frame, an
 * encoded one): the output buffer is made from it. A buffer gets each
 * ticket once. */
static gboolean
entry_meta_transform (GstBuffer * transbuf, GstCustomMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data, gpointer user_data)
{
  GstRedisTicket *ticket = entry_meta_ticket (meta);
  GstCustomMeta *copy;

  if (ticket && buffer_has_ticket (transbuf, ticket))
    return TRUE;
  copy = gst_buffer_add_custom_meta (transbuf, GST_REDIS_ENTRY_META_NAME);
  if (copy == NULL)
    return FALSE;
  gst_structure_foreach (gst_custom_meta_get_structure (meta), copy_field,
      gst_custom_meta_get_structure (copy));
  return TRUE;
}

const GstMetaInfo *
gst_redis_entry_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((gpointer *) & info)) {
    /* no tags: elements keep metas without tags */
    const gchar *tags[] = { NULL };
    const GstMetaInfo *i = gst_meta_get_info (GST_REDIS_ENTRY_META_NAME);

    /* registered already by someone else in this process (a test): use it */
    if (i == NULL)
      i = gst_meta_register_custom (GST_REDIS_ENTRY_META_NAME, tags,
          entry_meta_transform, NULL, NULL);
    g_once_init_leave ((gpointer *) & info, (gpointer) i);
  }
  return info;
}

guint
gst_redis_buffer_foreach_ticket (GstBuffer * buffer, GstRedisTicketFunc func,
    gpointer user_data)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta (buffer, &state))) {
    GstRedisTicket *ticket;

    if (!is_entry_meta (meta))
      continue;
    ticket = entry_meta_ticket ((GstCustomMeta *) meta);
    if (ticket == NULL)
      continue;
    n++;
    if (func)
      func (ticket, user_data);
  }
  return n;
}

/* --- the store mark ------------------------------------------------------ */

GstRedisStoreMark *
gst_redis_store_mark_new (void)
{
  GstRedisStoreMark *mark = g_new0 (GstRedisStoreMark, 1);

  mark->refcount = 1;
  g_mutex_init (&mark->lock);
  mark->stored_rt = GST_CLOCK_TIME_NONE;
  mark->down_since = g_get_monotonic_time ();
  return mark;
}

GstRedisStoreMark *
gst_redis_store_mark_ref (GstRedisStoreMark * mark)
{
  g_atomic_int_inc (&mark->refcount);
  return mark;
}

void
gst_redis_store_mark_unref (GstRedisStoreMark * mark)
{
  if (!g_atomic_int_dec_and_test (&mark->refcount))
    return;
  g_mutex_clear (&mark->lock);
  g_free (mark);
}

void
gst_redis_store_mark_stored (GstRedisStoreMark * mark,
    GstClockTime running_time, gboolean untracked)
{
  g_mutex_lock (&mark->lock);
  if (GST_CLOCK_TIME_IS_VALID (running_time) &&
      (!GST_CLOCK_TIME_IS_VALID (mark->stored_rt) ||
          running_time > mark->stored_rt))
    mark->stored_rt = running_time;
  if (untracked)
    mark->untracked = TRUE;
  g_mutex_unlock (&mark->lock);
}

/* At the sink's start (FALSE) and stop (TRUE). A restart forgets what
 * was stored. */
void
gst_redis_store_mark_set_down (GstRedisStoreMark * mark, gboolean down)
{
  g_mutex_lock (&mark->lock);
  mark->down_since = down ? g_get_monotonic_time () : 0;
  if (!down) {
    mark->stored_rt = GST_CLOCK_TIME_NONE;
    mark->untracked = FALSE;
  }
  g_mutex_unlock (&mark->lock);
}

/* --- the tracker --------------------------------------------------------- */

GstRedisAckTracker *
gst_redis_ack_tracker_new (GstElement * source)
{
  GstRedisAckTracker *t = g_new0 (GstRedisAckTracker, 1);

  t->refcount = 1;
  g_mutex_init (&t->lock);
  g_weak_ref_init (&t->source, source);
  t->acks = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&t->dead);
  g_queue_init (&t->waiting);
  t->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->rereads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->marks = g_array_new (FALSE, FALSE, sizeof (MarkRef));
  t->alive = g_hash_table_new (NULL, NULL);
  return t;
}

GstRedisAckTracker *
gst_redis_ack_tracker_ref (GstRedisAckTracker * tracker)
{
  g_atomic_int_inc (&tracker->refcount);
  return tracker;
}

static void
tracker_clear_marks (GstRedisAckTracker * t)
{
  guint i;

  for (i = 0; i < t->marks->len; i++)
    gst_redis_store_mark_unref (g_array_index (t->marks, MarkRef, i).mark);
  g_array_set_size (t->marks, 0);
}

/* What a session leaves behind: its entries stay pending in Redis. */
static void
tracker_clear_session (GstRedisAckTracker * t)
{
  g_ptr_array_set_size (t->acks, 0);
  g_queue_clear_full (&t->dead, (GDestroyNotify) gst_redis_dead_letter_free);
  g_queue_clear_full (&t->waiting, (GDestroyNotify) waiting_free);
  g_hash_table_remove_all (t->held);
  g_hash_table_remove_all (t->rereads);
  g_hash_table_remove_all (t->alive);
  t->unpushed = NULL;
}

void
gst_redis_ack_tracker_unref (GstRedisAckTracker * tracker)
{
  GstRedisAckTracker *t = tracker;

  if (!g_atomic_int_dec_and_test (&t->refcount))
    return;
  tracker_clear_session (t);
  tracker_clear_marks (t);
  g_ptr_array_unref (t->acks);
  g_hash_table_unref (t->held);
  g_hash_table_unref (t->rereads);
  g_hash_table_unref (t->alive);
  g_array_unref (t->marks);
  g_weak_ref_clear (&t->source);
  g_free (t->stream);
  g_free (t->group);
  g_free (t->consumer);
  g_mutex_clear (&t->lock);
  g_free (t);
}

void
gst_redis_ack_tracker_start (GstRedisAckTracker * t, const gchar * stream,
    const gchar * group, const gchar * consumer)
{
  g_mutex_lock (&t->lock);
  tracker_clear_session (t);
  t->session++;
  t->active = TRUE;
  t->reread_due = FALSE;
  t->stored_index = 0;
  g_free (t->stream);
  t->stream = g_strdup (stream);
  g_free (t->group);
  t->group = g_strdup (group);
  g_free (t->consumer);
  t->consumer = g_strdup (consumer);
  memset (&t->stats, 0, sizeof (t->stats));
  g_mutex_unlock (&t->lock);
}

/* At the source's stop, the tickets still alive whose fate is known: a
 * frame stored while something still holds its buffer (an appsink keeps
 * the last sample it gave, an application a reference) is acknowledged,
 * unless another storing sink may still store it (a tee); a failed one is
 * set aside. The others stay pending. */
void
gst_redis_ack_tracker_settle_alive (GstRedisAckTracker * t)
{
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock (&t->lock);
  g_hash_table_iter_init (&iter, t->alive);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    GstRedisTicket *ticket = key;

    if (ticket->session != t->session || ticket->settled)
      continue;
    if (ticket->state == TICKET_STORED && t->marks->len <= 1) {
      GST_DEBUG ("entry %s stored, its buffer still held at stop: "
          "acknowledged", ticket->id);
      t->stats.acked_stored++;
      g_ptr_array_add (t->acks, g_strdup (ticket->id));
    } else if (ticket->state == TICKET_FAILED) {
      t->stats.failed++;
      tracker_queue_dead_letter (t, ticket->id, g_strdup (ticket->reason),
          ticket->deliveries);
    } else {
      continue;
    }
    ticket->settled = TRUE;
    t->stats.in_flight--;
  }
  g_mutex_unlock (&t->lock);
}

static void
ticket_note_rendered (GstRedisTicket * ticket, gpointer user_data)
{
  GstRedisAckTracker *t = user_data;

  if (ticket->tracker != t)
    return;
  g_mutex_lock (&t->lock);
  ticket->rendered = TRUE;
  g_mutex_unlock (&t->lock);
}

static void
sink_note_rendered (const GValue * item, gpointer user_data)
{
  GstElement *element = g_value_get_object (item);
  GType appsink = g_type_from_name ("GstAppSink");
  GstSample *sample;
  GstBuffer *buffer;

  /* an appsink's last sample may wait for the application still */
  if (!GST_IS_BASE_SINK (element) || (appsink != 0 &&
          g_type_is_a (G_OBJECT_TYPE (element), appsink)))
    return;
  sample = gst_base_sink_get_last_sample (GST_BASE_SINK (element));
  if (sample == NULL)
    return;
  buffer = gst_sample_get_buffer (sample);
  if (buffer)
    gst_redis_buffer_foreach_ticket (buffer, ticket_note_rendered, user_data);
  /* without the lock: this may be the last reference to the buffer */
  gst_sample_unref (sample);
}

/* The sinks paused before the source and still hold their last sample:
 * the frame a sink keeps (after its clock wait, not late: rendered, or
 * prerolled) is the one it lets go of only as the pipeline goes down. A
 * frame still on its way to a sink (a queue, the sink's clock wait) is
 * not marked. */
void
gst_redis_ack_tracker_note_rendered (GstRedisAckTracker * t,
    GstElement * source)
{
  GstObject *top = gst_object_ref (source), *parent;
  GstIterator *it;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (GST_IS_BIN (top)) {
    it = gst_bin_iterate_recurse (GST_BIN (top));
    while (gst_iterator_foreach (it, sink_note_rendered, t) ==
        GST_ITERATOR_RESYNC)
      gst_iterator_resync (it);
    gst_iterator_free (it);
  }
  gst_object_unref (top);
}

void
gst_redis_ack_tracker_stop (GstRedisAckTracker * t)
{
  g_mutex_lock (&t->lock);
  t->active = FALSE;
  if (t->acks->len > 0 || t->dead.length > 0)
    GST_INFO ("stream \"%s\": %u acknowledgements and %u dead letters not "
        "sent at stop: those entries stay pending", t->stream, t->acks->len,
        t->dead.length);
  tracker_clear_session (t);
  g_mutex_unlock (&t->lock);
}

void
gst_redis_ack_tracker_flush (GstRedisAckTracker * t)
{
  g_mutex_lock (&t->lock);
  t->epoch++;
  t->reread_due = TRUE;
  g_mutex_unlock (&t->lock);
}

void
gst_redis_ack_tracker_set_flushing (GstRedisAckTracker * t, gboolean flushing)
{
  g_mutex_lock (&t->lock);
  t->flushing = flushing;
  g_mutex_unlock (&t->lock);
}

void
gst_redis_ack_tracker_pushed (GstRedisAckTracker * t)
{
  g_mutex_lock (&t->lock);
  if (t->unpushed) {
    t->unpushed->pushed = TRUE;
    t->unpushed = NULL;
  }
  g_mutex_unlock (&t->lock);
}

guint
gst_redis_ack_tracker_get_epoch (GstRedisAckTracker * t)
{
  guint epoch;

  g_mutex_lock (&t->lock);
  epoch = t->epoch;
  g_mutex_unlock (&t->lock);
  return epoch;
}

static void
tracker_hold (GstRedisAckTracker * t, const gchar * id)
{
  gpointer key, value;

  if (g_hash_table_lookup_extended (t->held, id, &key, &value))
    g_hash_table_insert (t->held, g_strdup (id),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (value) + 1));
  else
    g_hash_table_insert (t->held, g_strdup (id), GUINT_TO_POINTER (1));
}

static void
tracker_unhold (GstRedisAckTracker * t, const gchar * id)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (t->held, id));

  if (n <= 1)
    g_hash_table_remove (t->held, id);
  else
    g_hash_table_insert (t->held, g_strdup (id), GUINT_TO_POINTER (n - 1));
}

void
gst_redis_ack_tracker_attach (GstRedisAckTracker * t, GstBuffer * buffer,
    const gchar * id, guint deliveries, GstClockTime running_time)
{
  GstRedisTicket *ticket = g_object_new (GST_TYPE_REDIS_TICKET, NULL);
  GstCustomMeta *meta;

  g_mutex_lock (&t->lock);
  ticket->tracker = gst_redis_ack_tracker_ref (t);
  ticket->id = g_strdup (id);
  ticket->index = t->next_index++;
  ticket->session = t->session;
  ticket->epoch = t->epoch;
  ticket->deliveries = deliveries;
  ticket->rt = running_time;
  tracker_hold (t, id);
  t->stats.in_flight++;
  g_hash_table_add (t->alive, ticket);
  t->unpushed = ticket;
  g_mutex_unlock (&t->lock);

  gst_redis_entry_meta_get_info ();
  meta = gst_buffer_add_custom_meta (buffer, GST_REDIS_ENTRY_META_NAME);
  gst_structure_set (gst_custom_meta_get_structure (meta),
      "stream", G_TYPE_STRING, t->stream,
      "group", G_TYPE_STRING, t->group,
      "id", G_TYPE_STRING, id, "ticket", GST_TYPE_REDIS_TICKET, ticket, NULL);
  g_object_unref (ticket);
}

guint
gst_redis_ack_tracker_take_acks (GstRedisAckTracker * t, GPtrArray * ids)
{
  guint i, n;

  g_mutex_lock (&t->lock);
  /* what waits may be settled by a sink's mark, which does not call us */
  tracker_settle_waiting (t);
  n = t->acks->len;
  for (i = 0; i < n; i++) {
    gchar *id = g_ptr_array_index (t->acks, i);

    tracker_unhold (t, id);
    g_hash_table_remove (t->rereads, id);
    g_ptr_array_add (ids, id);
  }
  /* the strings moved to @ids */
  g_ptr_array_set_free_func (t->acks, NULL);
  g_ptr_array_set_size (t->acks, 0);
  g_ptr_array_set_free_func (t->acks, g_free);
  g_mutex_unlock (&t->lock);
  return n;
}

GstRedisDeadLetter *
gst_redis_ack_tracker_pop_dead_letter (GstRedisAckTracker * t)
{
  GstRedisDeadLetter *dl;

  g_mutex_lock (&t->lock);
  dl = g_queue_pop_head (&t->dead);
  if (dl) {
    tracker_unhold (t, dl->id);
    g_hash_table_remove (t->rereads, dl->id);
  }
  g_mutex_unlock (&t->lock);
  return dl;
}

static void
tracker_queue_dead_letter (GstRedisAckTracker * t, const gchar * id,
    gchar * reason, guint deliveries)
{
  GstRedisDeadLetter *dl = g_new0 (GstRedisDeadLetter, 1);

  dl->id = g_strdup (id);
  dl->reason = reason;
  dl->deliveries = deliveries;
  tracker_hold (t, id);
  g_queue_push_tail (&t->dead, dl);
}

void
gst_redis_ack_tracker_dead_letter (GstRedisAckTracker * t, const gchar * id,
    gchar * reason, guint deliveries)
{
  g_mutex_lock (&t->lock);
  if (t->active)
    tracker_queue_dead_letter (t, id, reason, deliveries);
  else
    g_free (reason);
  g_mutex_unlock (&t->lock);
}

/* Marks that tell something: a sink that stopped a while ago is forgotten. */
static void
tracker_prune_marks (GstRedisAckTracker * t, gint64 now)
{
  guint i = 0;

  while (i < t->marks->len) {
    GstRedisStoreMark *mark = g_array_index (t->marks, MarkRef, i).mark;
    gboolean gone;

    g_mutex_lock (&mark->lock);
    gone = mark->down_since != 0 && now - mark->down_since > MARK_DOWN_GRACE;
    g_mutex_unlock (&mark->lock);
    if (gone) {
      gst_redis_store_mark_unref (mark);
      g_array_remove_index (t->marks, i);
    } else {
      i++;
    }
  }
}

/* Under the lock. Acknowledges the tickets dropped on purpose that nothing
 * can still carry: something read after them was stored (@stored_index);
 * or, where an element on the way does not keep metas (a sink stored
 * buffers without tickets: an aggregator, a parser), a sink of the
 * source's pipeline stored a buffer at or after their running time (it
 * may hold what they were merged into); or, where tickets travel
 * unharmed to the sinks, no ticket is alive any more. */
static void
tracker_settle_waiting (GstRedisAckTracker * t)
{
  GstClockTime rt_mark = GST_CLOCK_TIME_NONE;
  gboolean untracked = FALSE;
  GList *l, *next;
  guint i;

  if (t->waiting.length == 0)
    return;
  for (i = 0; i < t->marks->len; i++) {
    MarkRef *m = &g_array_index (t->marks, MarkRef, i);

    g_mutex_lock (&m->mark->lock);
    untracked |= m->mark->untracked;
    if (m->same_pipeline && GST_CLOCK_TIME_IS_VALID (m->mark->stored_rt) &&
        (!GST_CLOCK_TIME_IS_VALID (rt_mark) || m->mark->stored_rt > rt_mark))
      rt_mark = m->mark->stored_rt;
    g_mutex_unlock (&m->mark->lock);
  }

  for (l = t->waiting.head; l; l = next) {
    Waiting *w = l->data;

    next = l->next;
    if (w->index < t->stored_index || (untracked &&
            GST_CLOCK_TIME_IS_VALID (rt_mark) &&
            GST_CLOCK_TIME_IS_VALID (w->rt) && w->rt <= rt_mark) ||
        (t->stats.in_flight == 0 && !untracked) ||
        t->waiting.length > MAX_WAITING) {
      GST_LOG ("entry %s dropped on purpose, acknowledged", w->id);
      g_ptr_array_add (t->acks, g_steal_pointer (&w->id));
      t->stats.acked_dropped++;
      waiting_free (w);
      g_queue_delete_link (&t->waiting, l);
    }
  }
}

/* The source's pipeline, or a sink that stored its frames, is going down
 * (a state change to READY or NULL): frames released now were not dropped
 * on purpose. For the pipeline that is from its PAUSED on: its elements
 * flush only in PAUSED->READY, and until then (the sinks pausing) a frame
 * is let go of as in PLAYING, a sink's last sample replaced by the next
 * rendered frame for one. The parents are read without their locks: a
 * ticket may be released under any element's lock, and the chain of a
 * running source does not change. */
static gboolean
tracker_going_down (GstRedisAckTracker * t, gint64 now)
{
  GstElement *source = g_weak_ref_get (&t->source);
  gboolean down = FALSE;
  guint i;

  if (source) {
    GstObject *top = GST_OBJECT (source);

    while (GST_OBJECT_PARENT (top))
      top = GST_OBJECT_PARENT (top);
    down = GST_STATE_TARGET (top) <= GST_STATE_READY
        && GST_STATE (top) <= GST_STATE_PAUSED;
    gst_object_unref (source);
  }
  for (i = 0; !down && i < t->marks->len; i++) {
    GstRedisStoreMark *mark = g_array_index (t->marks, MarkRef, i).mark;

    g_mutex_lock (&mark->lock);
    down = mark->down_since != 0 && now - mark->down_since <= MARK_DOWN_GRACE;
    g_mutex_unlock (&mark->lock);
  }
  return down;
}

/* The last reference to @ticket went: its fate. */
static void
tracker_release (GstRedisAckTracker * t, GstRedisTicket * ticket)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&t->lock);
  g_hash_table_remove (t->alive, ticket);
  if (t->unpushed == ticket)
    t->unpushed = NULL;
  if (!t->active || ticket->session != t->session) {
    /* the source stopped: the entry stays pending */
    GST_DEBUG ("entry %s released after its source stopped: left pending",
        ticket->id);
    g_mutex_unlock (&t->lock);
    return;
  }
  if (ticket->settled) {
    /* acknowledged when it was stored */
    tracker_unhold (t, ticket->id);
    g_mutex_unlock (&t->lock);
    return;
  }
  t->stats.in_flight--;
  switch (ticket->state) {
    case TICKET_FAILED:
      t->stats.failed++;
      tracker_queue_dead_letter (t, ticket->id, g_steal_pointer
          (&ticket->reason), ticket->deliveries);
      break;
    case TICKET_ACKED:
      t->stats.acked_by_sink++;
      break;
    case TICKET_STORED:
      t->stats.acked_stored++;
      g_ptr_array_add (t->acks, g_strdup (ticket->id));
      tracker_hold (t, ticket->id);
      break;
    case TICKET_PENDING:
      tracker_prune_marks (t, now);
      if (!ticket->pushed && t->flushing) {
        /* basesrc dropped it: a flush (or an EOS, a stop) began while it
         * was read. The flush's epoch is no help: the ticket was made after
         * FLUSH_START and goes before FLUSH_STOP. */
        GST_DEBUG ("entry %s read as a flush began, never pushed: left "
            "pending to be read again", ticket->id);
        t->stats.abandoned++;
        t->reread_due = TRUE;
      } else if (ticket->epoch != t->epoch) {
        /* flushed: read again after the flush */
        GST_DEBUG ("entry %s flushed, left pending to be read again",
            ticket->id);
        t->stats.abandoned++;
        t->reread_due = TRUE;
      } else if (tracker_going_down (t, now)) {
        if (ticket->rendered && t->marks->len == 0) {
          /* a sink's last sample (a display's last frame), with no
           * redisstreamsink that may still have to store it */
          GST_DEBUG ("entry %s rendered, let go of while going down: "
              "acknowledged", ticket->id);
          t->stats.acked_released++;
          g_ptr_array_add (t->acks, g_strdup (ticket->id));
          tracker_hold (t, ticket->id);
        } else {
          GST_DEBUG ("entry %s released while going down, left pending",
              ticket->id);
          t->stats.abandoned++;
        }
      } else if (t->marks->len > 0) {
        Waiting *w = g_new0 (Waiting, 1);

        w->id = g_strdup (ticket->id);
        w->index = ticket->index;
        w->rt = ticket->rt;
        g_queue_push_tail (&t->waiting, w);
        tracker_hold (t, ticket->id);
      } else {
        GST_LOG ("entry %s released, acknowledged", ticket->id);
        t->stats.acked_released++;
        g_ptr_array_add (t->acks, g_strdup (ticket->id));
        tracker_hold (t, ticket->id);
      }
      break;
  }
  tracker_unhold (t, ticket->id);
  tracker_settle_waiting (t);
  g_mutex_unlock (&t->lock);
}

gboolean
gst_redis_ack_tracker_has_dead_letters (GstRedisAckTracker * t)
{
  gboolean due;

  g_mutex_lock (&t->lock);
  due = t->dead.length > 0;
  g_mutex_unlock (&t->lock);
  return due;
}

gboolean
gst_redis_ack_tracker_busy (GstRedisAckTracker * t)
{
  gboolean busy;

  g_mutex_lock (&t->lock);
  /* what waits may be settled by a sink's mark, which does not call us */
  tracker_settle_waiting (t);
  busy = t->stats.in_flight > 0 || t->acks->len > 0 || t->dead.length > 0 ||
      t->waiting.length > 0;
  g_mutex_unlock (&t->lock);
  return busy;
}

gboolean
gst_redis_ack_tracker_take_reread (GstRedisAckTracker * t)
{
  gboolean due;

  g_mutex_lock (&t->lock);
  due = t->reread_due;
  t->reread_due = FALSE;
  g_mutex_unlock (&t->lock);
  return due;
}

gboolean
gst_redis_ack_tracker_holds (GstRedisAckTracker * t, const gchar * id)
{
  gboolean held;

  g_mutex_lock (&t->lock);
  held = g_hash_table_contains (t->held, id);
  g_mutex_unlock (&t->lock);
  return held;
}

guint
gst_redis_ack_tracker_count_reread (GstRedisAckTracker * t, const gchar * id)
{
  guint n;

  g_mutex_lock (&t->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (t->rereads, id)) + 1;
  g_hash_table_insert (t->rereads, g_strdup (id), GUINT_TO_POINTER (n));
  g_mutex_unlock (&t->lock);
  return n;
}

guint
gst_redis_ack_tracker_get_rereads (GstRedisAckTracker * t, const gchar * id)
{
  guint n;

  g_mutex_lock (&t->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (t->rereads, id));
  g_mutex_unlock (&t->lock);
  return n;
}

void
gst_redis_ack_tracker_get_stats (GstRedisAckTracker * t,
    GstRedisAckStats * stats)
{
  g_mutex_lock (&t->lock);
  *stats = t->stats;
  g_mutex_unlock (&t->lock);
}

/* Under the lock. */
static void
tracker_add_mark (GstRedisAckTracker * t, GstRedisStoreMark * mark,
    gboolean same_pipeline)
{
  MarkRef ref;
  guint i;

  for (i = 0; i < t->marks->len; i++) {
    MarkRef *m = &g_array_index (t->marks, MarkRef, i);

    if (m->mark == mark) {
      m->same_pipeline |= same_pipeline;
      return;
    }
  }
  if (t->marks->len >= MAX_MARKS)
    return;
  ref.mark = gst_redis_store_mark_ref (mark);
  ref.same_pipeline = same_pipeline;
  g_array_append_val (t->marks, ref);
}

void
gst_redis_ack_tracker_add_mark (GstRedisAckTracker * t,
    GstRedisStoreMark * mark, gboolean same_pipeline)
{
  g_mutex_lock (&t->lock);
  tracker_add_mark (t, mark, same_pipeline);
  g_mutex_unlock (&t->lock);
}

/* --- the ticket ---------------------------------------------------------- */

/* A sink stored a buffer carrying @ticket. When it is the one storing
 * sink the source knows of, the entry's result is in its output: it is
 * acknowledged now, whatever else still holds a buffer of it (an appsink
 * keeps the sample it gave last, a videorate a copy). With several (a
 * tee to two sinks) it waits for its last buffer to go. */
void
gst_redis_ticket_stored (GstRedisTicket * ticket, GstRedisStoreMark * mark)
{
  GstRedisAckTracker *t = ticket->tracker;

  g_mutex_lock (&t->lock);
  if (ticket->state == TICKET_PENDING)
    ticket->state = TICKET_STORED;
  if (ticket->session == t->session && t->active) {
    t->stored_index = MAX (t->stored_index, ticket->index + 1);
    if (mark)
      tracker_add_mark (t, mark, FALSE);
    if (ticket->state == TICKET_STORED && !ticket->settled &&
        t->marks->len == 1) {
      ticket->settled = TRUE;
      t->stats.acked_stored++;
      t->stats.in_flight--;
      g_ptr_array_add (t->acks, g_strdup (ticket->id));
      tracker_hold (t, ticket->id);
    }
  }
  g_mutex_unlock (&t->lock);
}

gboolean
gst_redis_ticket_acked (GstRedisTicket * ticket, GstRedisStoreMark * mark)
{
  GstRedisAckTracker *t = ticket->tracker;
  gboolean first;

  g_mutex_lock (&t->lock);
  first = ticket->state != TICKET_ACKED;
  if (ticket->state != TICKET_FAILED)
    ticket->state = TICKET_ACKED;
  if (ticket->session == t->session) {
    t->stored_index = MAX (t->stored_index, ticket->index + 1);
    if (mark && t->active)
      tracker_add_mark (t, mark, FALSE);
  }
  g_mutex_unlock (&t->lock);
  return first;
}

static void
gst_redis_ticket_real_fail (GstRedisTicket * ticket, const gchar * reason)
{
  GstRedisAckTracker *t = ticket->tracker;

  if (t == NULL)
    return;
  g_mutex_lock (&t->lock);
  if (ticket->state != TICKET_FAILED) {
    GST_DEBUG ("entry %s failed: %s", ticket->id, reason);
    ticket->state = TICKET_FAILED;
    ticket->reason = g_strdup (reason && *reason ? reason :
        "failed (no reason given)");
  }
  g_mutex_unlock (&t->lock);
}

void
gst_redis_ticket_fail (GstRedisTicket * ticket, const gchar * reason)
{
  g_signal_emit (ticket, ticket_signals[SIGNAL_FAIL], 0, reason);
}

const gchar *
gst_redis_ticket_get_id (GstRedisTicket * ticket)
{
  return ticket->id;
}

const gchar *
gst_redis_ticket_get_stream (GstRedisTicket * ticket)
{
  return ticket->tracker->stream;
}

const gchar *
gst_redis_ticket_get_group (GstRedisTicket * ticket)
{
  return ticket->tracker->group;
}

GstRedisAckTracker *
gst_redis_ticket_get_tracker (GstRedisTicket * ticket)
{
  return ticket->tracker;
}

static void
gst_redis_ticket_finalize (GObject * object)
{
  GstRedisTicket *ticket = GST_REDIS_TICKET (object);

  if (ticket->tracker) {
    tracker_release (ticket->tracker, ticket);
    gst_redis_ack_tracker_unref (ticket->tracker);
  }
  g_free (ticket->id);
  g_free (ticket->reason);
  G_OBJECT_CLASS (gst_redis_ticket_parent_class)->finalize (object);
}

static void
gst_redis_ticket_class_init (GstRedisTicketClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_redis_ticket_finalize;

  /**
   * GstRedisTicket::fail:
   * @ticket: the ticket of the entry
   * @reason: why the frame could not be processed, for the dead letter
   *
   * The frame of this entry could not be processed (the model raised, a
   * decoder refused it): once the last buffer carrying the ticket is gone,
   * redisstreamsrc writes the entry to its dead-letter stream with
   * @reason and acknowledges it, instead of reading it again.
   *
   * Since: 1.0
   */
  ticket_signals[SIGNAL_FAIL] = g_signal_new_class_handler ("fail",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_redis_ticket_real_fail), NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gst_redis_ticket_init (GstRedisTicket * ticket)
{
  ticket->rt = GST_CLOCK_TIME_NONE;
}
