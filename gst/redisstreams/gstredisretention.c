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

/* Trimming by size. Redis has no "MAXBYTES": a stream is trimmed by count
 * (MAXLEN) or by id (MINID). The sink knows the size of every entry it
 * wrote, so it turns the byte budget into one of those, computed before
 * each XADD: the number of its newest entries whose sizes add up to at most
 * the budget. Entries older than the ones it recorded (written before it
 * started, by an earlier run) are counted at the size of the entry being
 * added until the sink has seen its own entries fill the budget.
 *
 * What an entry costs (gst_redis_retention_entry_cost ()) depends on its
 * size. Redis keeps a stream's entries in nodes (listpacks) of at most
 * stream-node-max-bytes (4096 by default) and stream-node-max-entries
 * (100): a large entry (a video frame) gets a node of its own, allocated
 * in the allocator's size classes; small ones (audio packets, detections)
 * share a node of 4096 bytes, where entries with the same fields as the
 * node's first keep only their values. Counting a small entry like a large
 * one overstated an Opus packet's cost 3.7 times (960 bytes counted, 259
 * in MEMORY USAGE), and the stream kept that much less history. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstredisretention.h"

/* At most this many entries are recorded: the budget of a stream of tiny
 * entries is then estimated for the older ones (see above). */
#define RING_MAX (1 << 16)

typedef struct
{
  guint64 size;
  guint64 ms;
  guint64 seq;
} Entry;

struct _GstRedisRetention
{
  Entry *ring;
  guint cap;
  guint head;
  guint len;
  guint64 bytes;
  /* An entry left the record because the budget was full: every entry
   * before the recorded ones is known not to fit. */
  gboolean exact;
};

GstRedisRetention *
gst_redis_retention_new (void)
{
  return g_new0 (GstRedisRetention, 1);
}

void
gst_redis_retention_free (GstRedisRetention * r)
{
  g_free (r->ring);
  g_free (r);
}

void
gst_redis_retention_reset (GstRedisRetention * r)
{
  r->head = r->len = 0;
  r->bytes = 0;
  r->exact = FALSE;
}

/* The node a small entry shares: Redis's default stream-node-max-bytes
 * and stream-node-max-entries, its first entry's field names (the master
 * entry: counters and the names), and what MEMORY USAGE counts for a node
 * besides its listpack (its radix-tree nodes: about 570 bytes measured
 * with Redis 7.0). */
#define NODE_BYTES 4096
#define NODE_ENTRIES 100
#define MASTER_ENTRY_OVERHEAD 16
#define SHARED_NODE_OVERHEAD 640

/* What Redis's allocator (jemalloc) takes for @size bytes: its size classes
 * are four per power of two, so a 115 KB entry takes 128 KiB and a 3.11 MB
 * one 3 MiB. MEMORY USAGE (and the server's memory) counts these. */
static guint64
allocation_size (guint64 size)
{
  guint64 spacing;
  guint k;

  if (size <= 64)
    return (size + 15) & ~G_GUINT64_CONSTANT (15);
  k = g_bit_storage (size - 1) - 1;
  spacing = G_GUINT64_CONSTANT (1) << (k - 2);
  return (size + spacing - 1) & ~(spacing - 1);
}

/* What an entry with @fields fields, @names bytes of field names and
 * @values bytes of values takes in Redis's memory, as MEMORY USAGE counts
 * it, a little generously (so the stream stays under the budget). A
 * large entry: its fields and values in a node of its own, rounded up to
 * the allocator's size class, and the node. A small one: its share of a
 * node of NODE_BYTES, which holds as many as fit next to the master
 * entry, each as its values with a header and a back-length of 1 byte
 * (values below 64 bytes) or 2 (up to 4 KiB) each, and 8 bytes of entry
 * header (flags, id deltas, count): Redis closes a node when its bytes
 * and the new entry's names and values reach NODE_BYTES. Numbers are
 * counted as text, which Redis keeps shorter, as integers. */
guint64
gst_redis_retention_entry_cost (guint64 names, guint64 values, guint fields)
{
  guint64 master = MASTER_ENTRY_OVERHEAD + names + 2 * (guint64) fields;
  guint64 raw = names + values, packed, k;

  if (master + raw >= NODE_BYTES)
    return allocation_size (raw + 4 * (guint64) fields +
        GST_REDIS_RETENTION_ENTRY_OVERHEAD) + GST_REDIS_RETENTION_NODE_OVERHEAD;

  /* as if every value had headers of 2 bytes: a few bytes generous */
  packed = values + 4 * (guint64) fields + 8;
  k = (NODE_BYTES - master - raw) / packed + 1;
  k = CLAMP (k, 1, NODE_ENTRIES);
  return (NODE_BYTES + SHARED_NODE_OVERHEAD + k - 1) / k;
}

/* The budget the entries are planned in. Small entries share nodes, and
 * Redis trims only whole nodes (MAXLEN ~, MINID ~): the oldest node may
 * keep up to all but one of its entries past the bound asked for. A node's
 * worth of the budget is kept for them, so that the stream stays under
 * max-bytes (entries that fill a node of their own are trimmed exactly). */
static guint64
planned_budget (guint64 cost, guint64 max_bytes)
{
  guint64 node = NODE_BYTES + SHARED_NODE_OVERHEAD;

  if (2 * cost > node || max_bytes <= 2 * node)
    return max_bytes;
  return max_bytes - node;
}

static inline Entry *
nth (GstRedisRetention * r, guint i)
{
  return &r->ring[(r->head + i) % r->cap];
}

static void
drop_oldest (GstRedisRetention * r)
{
  r->bytes -= nth (r, 0)->size;
  r->head = (r->head + 1) % r->cap;
  r->len--;
}

void
gst_redis_retention_plan (GstRedisRetention * r, guint64 cost,
    guint64 maxlen, guint64 max_bytes, guint64 * n_keep, guint64 * min_ms,
    guint64 * min_seq)
{
  guint64 s = cost;
  guint64 total, n;
  guint dropped = 0;

  *n_keep = maxlen > 0 ? maxlen : G_MAXUINT64;
  *min_ms = *min_seq = 0;
  if (max_bytes == 0)
    return;
  max_bytes = planned_budget (cost, max_bytes);

  /* The recorded entries that still fit next to the new one. */
  total = r->bytes + s;
  while (dropped < r->len && total > max_bytes) {
    total -= nth (r, dropped)->size;
    dropped++;
  }
  n = r->len - dropped + 1;

  if (dropped > 0 || r->exact) {
    if (dropped < r->len && nth (r, dropped)->ms > 0) {
      *min_ms = nth (r, dropped)->ms;
      *min_seq = nth (r, dropped)->seq;
    } else if (dropped == r->len && r->len > 0 && nth (r, r->len - 1)->ms) {
      /* The new entry alone is over the budget: keep only it. */
      *min_ms = nth (r, r->len - 1)->ms;
      *min_seq = nth (r, r->len - 1)->seq + 1;
    }
  } else if (total < max_bytes) {
    /* Older entries may be in the stream: what is left of the budget at
     * the size of this entry. */
    n += (max_bytes - total) / s;
  }
  *n_keep = MIN (*n_keep, n);
}

void
gst_redis_retention_commit (GstRedisRetention * r, guint64 cost,
    const gchar * id, guint64 maxlen, guint64 max_bytes)
{
  guint64 s = cost;
  Entry *e;
  gchar *end = NULL;

  if (max_bytes == 0) {
    gst_redis_retention_reset (r);
    return;
  }
  max_bytes = planned_budget (cost, max_bytes);

  while (r->len > 0 && r->bytes + s > max_bytes) {
    drop_oldest (r);
    r->exact = TRUE;
  }
  while (maxlen > 0 && r->len > 0 && r->len >= maxlen)
    drop_oldest (r);

  if (r->len == r->cap) {
    if (r->cap < RING_MAX) {
      guint cap = MAX (64, r->cap * 2);
      Entry *ring = g_new (Entry, cap);
      guint i;

      for (i = 0; i < r->len; i++)
        ring[i] = *nth (r, i);
      g_free (r->ring);
      r->ring = ring;
      r->cap = cap;
      r->head = 0;
    } else {
      /* Forgotten, not over the budget: estimate again from here. */
      drop_oldest (r);
      r->exact = FALSE;
    }
  }

  e = &r->ring[(r->head + r->len) % r->cap];
  e->size = s;
  e->ms = e->seq = 0;
  if (id) {
    e->ms = g_ascii_strtoull (id, &end, 10);
    if (end && *end == '-')
      e->seq = g_ascii_strtoull (end + 1, NULL, 10);
    else
      e->ms = 0;
  }
  r->len++;
  r->bytes += s;
}

guint64
gst_redis_retention_get_bytes (GstRedisRetention * r)
{
  return r->bytes;
}
