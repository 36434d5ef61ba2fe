/* GStreamer frameproc
 * Copyright (C) 2025 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
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

/* Motion detection. A parallel pass compares every pixel's luma with the
 * reference (running background or previous frame), updates the reference
 * and records the changed pixels per 4x4 cell. A single-threaded pass then
 * labels connected groups of active cells, takes the exact bounding box of
 * the changed pixels in each group, merges boxes that are close and drops
 * the regions smaller than min-area. Last, on the streaming thread too, the
 * tracker gives each region the id of the region it continues. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gstframeprocmotion.h"

#define CELL GST_FRAME_PROC_CELL
#define NO_LABEL G_MAXUINT32

void
gst_frame_proc_motion_reset (GstFrameProcScratch * scratch)
{
  scratch->have_reference = FALSE;
}

static void
reference_init_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  GstFrameProcScratch *s = job->scratch;
  const gint w = job->width;
  gint y, x;

  for (y = band->y0; y < band->y1; y++) {
    const guint8 *l = gst_frame_proc_band_luma (job, band, y);
    gsize i = (gsize) y * w;

    if (job->settings.motion_reference ==
        GST_FRAME_PROC_MOTION_REFERENCE_BACKGROUND) {
      for (x = 0; x < w; x++)
        s->background[i + x] = l[x];
    } else {
      memcpy (s->previous + i, l, w);
    }
  }
}

static inline void
cell_add (GstFrameProcCell * cell, guint8 lx, guint8 ly)
{
  if (cell->count == 0) {
    cell->x0 = cell->x1 = lx;
    cell->y0 = cell->y1 = ly;
  } else {
    cell->x0 = MIN (cell->x0, lx);
    cell->x1 = MAX (cell->x1, lx);
    cell->y0 = MIN (cell->y0, ly);
    cell->y1 = MAX (cell->y1, ly);
  }
  cell->count++;
}

/* Band boundaries are multiples of 16, so the cell rows this band writes
 * belong to it alone. */
static void
mask_band (GstFrameProcJob * job, GstFrameProcBand * band)
{
  GstFrameProcScratch *s = job->scratch;
  const gint w = job->width;
  const gint sens = job->settings.sensitivity;
  const gfloat lr = job->settings.learning_rate;
  const gboolean use_bg = job->settings.motion_reference ==
      GST_FRAME_PROC_MOTION_REFERENCE_BACKGROUND;
  gint y, x, cy0, cy1;
  guint64 changed = 0;

  cy0 = band->y0 / CELL;
  cy1 = (band->y1 + CELL - 1) / CELL;
  memset (s->cells + (gsize) cy0 * s->cells_w, 0,
      (gsize) (cy1 - cy0) * s->cells_w * sizeof (GstFrameProcCell));

  for (y = band->y0; y < band->y1; y++) {
    const guint8 *l = gst_frame_proc_band_luma (job, band, y);
    GstFrameProcCell *crow = s->cells + (gsize) (y / CELL) * s->cells_w;
    const gsize i = (gsize) y * w;

    for (x = 0; x < w; x++) {
      gboolean hit;

      if (use_bg) {
        gfloat b = s->background[i + x];
        gfloat d = (gfloat) l[x] - b;

        hit = fabsf (d) > (gfloat) sens;
        s->background[i + x] = b + lr * d;
      } else {
        gint d = (gint) l[x] - (gint) s->previous[i + x];

        hit = ABS (d) > sens;
        s->previous[i + x] = l[x];
      }
      if (G_UNLIKELY (hit)) {
        cell_add (&crow[x / CELL], x % CELL, y % CELL);
        changed++;
      }
    }
  }
  band->changed = changed;
}

static guint32
uf_find (guint32 * parent, guint32 i)
{
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

static void
uf_union (guint32 * parent, guint32 a, guint32 b)
{
  a = uf_find (parent, a);
  b = uf_find (parent, b);
  /* the smaller index becomes the root: labels come out in raster order */
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

/* A cell takes part in a region when at least a quarter of its pixels
 * changed: an edge of a moving object always fills at least one row or
 * column of the cells it crosses, scattered noise rarely does. */
static inline gboolean
cell_active (const GstFrameProcCell * cell, gint cx, gint cy, gint w, gint h)
{
  gint cw = MIN (CELL, w - cx * CELL);
  gint ch = MIN (CELL, h - cy * CELL);

  return cell->count > 0 && cell->count * 4 >= cw * ch;
}

typedef struct
{
  gint x0, y0, x1, y1;          /* inclusive */
  guint area;
  gboolean dead;
} Box;

static gint
compare_regions (gconstpointer a, gconstpointer b)
{
  const GstFrameProcRegion *ra = a, *rb = b;

  if (ra->y != rb->y)
    return ra->y < rb->y ? -1 : 1;
  if (ra->x != rb->x)
    return ra->x < rb->x ? -1 : 1;
  return 0;
}

/* Labels the active cells: union-find over 8-connected neighbours,
 * parent[c] == NO_LABEL for an inactive cell. */
static void
label_cells (GstFrameProcJob * job, guint32 * parent)
{
  GstFrameProcScratch *s = job->scratch;
  const gint w = job->width, h = job->height;
  const gint cw = s->cells_w, ch = s->cells_h;
  gint cx, cy;

  for (cy = 0; cy < ch; cy++) {
    for (cx = 0; cx < cw; cx++) {
      gsize c = (gsize) cy * cw + cx;

      if (!cell_active (&s->cells[c], cx, cy, w, h)) {
        parent[c] = NO_LABEL;
        continue;
      }
      parent[c] = c;
      /* 8-connectivity: left, up-left, up, up-right */
      if (cx > 0 && parent[c - 1] != NO_LABEL)
        uf_union (parent, c, c - 1);
      if (cy > 0) {
        gsize u = c - cw;

        if (cx > 0 && parent[u - 1] != NO_LABEL)
          uf_union (parent, c, u - 1);
        if (parent[u] != NO_LABEL)
          uf_union (parent, c, u);
        if (cx + 1 < cw && parent[u + 1] != NO_LABEL)
          uf_union (parent, c, u + 1);
      }
    }
  }
}

/* One box per group of labelled cells: the exact bounds of the changed
 * pixels in the group, and their count. */
static GArray *
collect_boxes (GstFrameProcScratch * s, guint32 * parent, guint32 * box_of)
{
  const gint cw = s->cells_w, ch = s->cells_h;
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (Box));
  gint cx, cy;

  for (cy = 0; cy < ch; cy++) {
    for (cx = 0; cx < cw; cx++) {
      gsize c = (gsize) cy * cw + cx;
      const GstFrameProcCell *cell = &s->cells[c];
      guint32 root;
      Box *b;
      gint x0, x1, y0, y1;

      if (parent[c] == NO_LABEL)
        continue;
      root = uf_find (parent, c);
      x0 = cx * CELL + cell->x0;
      x1 = cx * CELL + cell->x1;
      y0 = cy * CELL + cell->y0;
      y1 = cy * CELL + cell->y1;
      if (root == c) {
        Box nb = { x0, y0, x1, y1, cell->count, FALSE };

        box_of[c] = boxes->len;
        g_array_append_val (boxes, nb);
        continue;
      }
      b = &g_array_index (boxes, Box, box_of[root]);
      b->x0 = MIN (b->x0, x0);
      b->y0 = MIN (b->y0, y0);
      b->x1 = MAX (b->x1, x1);
      b->y1 = MAX (b->y1, y1);
      b->area += cell->count;
    }
  }
  return boxes;
}

/* Merges boxes that come within one cell of each other: one object whose
 * middle did not change (a uniform surface) otherwise reports as several
 * regions. Quadratic, but the boxes are few once scattered pixels are
 * filtered out by cell_active. */
static void
merge_boxes (GArray * boxes)
{
  gboolean merged;
  guint i, j;

  do {
    merged = FALSE;
    for (i = 0; i < boxes->len; i++) {
      Box *a = &g_array_index (boxes, Box, i);

      if (a->dead)
        continue;
      for (j = i + 1; j < boxes->len; j++) {
        Box *b = &g_array_index (boxes, Box, j);

        if (b->dead)
          continue;
        if (a->x0 - CELL <= b->x1 && b->x0 - CELL <= a->x1 &&
            a->y0 - CELL <= b->y1 && b->y0 - CELL <= a->y1) {
          a->x0 = MIN (a->x0, b->x0);
          a->y0 = MIN (a->y0, b->y0);
          a->x1 = MAX (a->x1, b->x1);
          a->y1 = MAX (a->y1, b->y1);
          a->area += b->area;
          b->dead = TRUE;
          merged = TRUE;
        }
      }
    }
  } while (merged);
}

static void
find_regions (GstFrameProcJob * job, GArray * regions)
{
  GstFrameProcScratch *s = job->scratch;
  const gsize n_cells = (gsize) s->cells_w * s->cells_h;
  guint32 *parent = s->labels;
  guint32 *box_of = s->labels + n_cells;
  GArray *boxes;
  guint i;

  label_cells (job, parent);
  boxes = collect_boxes (s, parent, box_of);
  merge_boxes (boxes);

  for (i = 0; i < boxes->len; i++) {
    const Box *b = &g_array_index (boxes, Box, i);
    GstFrameProcRegion r;

    if (b->dead || b->area < job->settings.min_area)
      continue;
    r.x = b->x0;
    r.y = b->y0;
    r.width = b->x1 - b->x0 + 1;
    r.height = b->y1 - b->y0 + 1;
    r.area = b->area;
    r.id = 0;
    g_array_append_val (regions, r);
  }
  g_array_free (boxes, TRUE);
  g_array_sort (regions, compare_regions);
}

/* ---- region ids ---- */

typedef struct
{
  gdouble iou;
  guint track;
  guint region;
} Pair;

void
gst_frame_proc_tracker_init (GstFrameProcTracker * tracker)
{
  tracker->tracks = g_array_new (FALSE, FALSE, sizeof (GstFrameProcTrack));
  tracker->next_tracks = g_array_new (FALSE, FALSE, sizeof (GstFrameProcTrack));
  tracker->pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  tracker->next_id = 1;
}

void
gst_frame_proc_tracker_clear (GstFrameProcTracker * tracker)
{
  g_clear_pointer (&tracker->tracks, g_array_unref);
  g_clear_pointer (&tracker->next_tracks, g_array_unref);
  g_clear_pointer (&tracker->pairs, g_array_unref);
}

/* Forgets every track. restart_ids numbers from 1 again (a new run);
 * otherwise numbering goes on, so an id never names two objects. */
void
gst_frame_proc_tracker_reset (GstFrameProcTracker * tracker,
    gboolean restart_ids)
{
  g_array_set_size (tracker->tracks, 0);
  if (restart_ids)
    tracker->next_id = 1;
}

/* Intersection over union of the two boxes grown by
 * GST_FRAME_PROC_TRACK_MARGIN on every side (growing both adds twice the
 * margin to the overlap on each axis). */
static gdouble
grown_iou (const GstFrameProcTrack * t, const GstFrameProcRegion * r)
{
  const gint m2 = 2 * GST_FRAME_PROC_TRACK_MARGIN;
  gint iw = MIN (t->x + t->width, r->x + r->width) - MAX (t->x, r->x) + m2;
  gint ih = MIN (t->y + t->height, r->y + r->height) - MAX (t->y, r->y) + m2;
  gdouble inter, uni;

  if (iw <= 0 || ih <= 0)
    return 0.0;
  inter = (gdouble) (iw * (gint64) ih);
  uni = (gdouble) (t->width + m2) * (t->height + m2) +
      (gdouble) (r->width + m2) * (r->height + m2) - inter;
  return inter / uni;
}

/* Best overlap first; ties in list order, so the result depends on nothing
 * but the regions of this and earlier frames. */
static gint
compare_pairs (gconstpointer a, gconstpointer b)
{
  const Pair *pa = a, *pb = b;

  if (pa->iou != pb->iou)
    return pa->iou > pb->iou ? -1 : 1;
  if (pa->track != pb->track)
    return pa->track < pb->track ? -1 : 1;
  if (pa->region != pb->region)
    return pa->region < pb->region ? -1 : 1;
  return 0;
}

static void
track_append (GArray * tracks, const GstFrameProcRegion * r)
{
  GstFrameProcTrack t = { r->id, r->x, r->y, r->width, r->height, 0, -1 };

  g_array_append_val (tracks, t);
}

/* Greedy matching by overlap: fine for the few regions motion detection
 * reports; two regions that cross each other may swap ids. */
static void
track_regions (GstFrameProcTracker * tracker, GArray * regions)
{
  GArray *tracks = tracker->tracks, *next = tracker->next_tracks;
  guint i, j;

  tracker->untracked = 0;
  g_array_set_size (tracker->pairs, 0);
  for (i = 0; i < tracks->len; i++) {
    GstFrameProcTrack *t = &g_array_index (tracks, GstFrameProcTrack, i);

    t->match = -1;
    for (j = 0; j < regions->len; j++) {
      const GstFrameProcRegion *r =
          &g_array_index (regions, GstFrameProcRegion, j);
      gdouble iou = grown_iou (t, r);

      if (iou >= GST_FRAME_PROC_TRACK_MIN_IOU) {
        Pair p = { iou, i, j };

        g_array_append_val (tracker->pairs, p);
      }
    }
  }
  g_array_sort (tracker->pairs, compare_pairs);

  for (i = 0; i < tracker->pairs->len; i++) {
    const Pair *p = &g_array_index (tracker->pairs, Pair, i);
    GstFrameProcTrack *t = &g_array_index (tracks, GstFrameProcTrack,
        p->track);
    GstFrameProcRegion *r = &g_array_index (regions, GstFrameProcRegion,
        p->region);

    if (t->match >= 0 || r->id != 0)
      continue;
    t->match = p->region;
    r->id = t->id;
  }

  /* The next frame's tracks: the matched ones, then the new regions, then
   * the recently missed ones, up to GST_FRAME_PROC_MAX_TRACKS. There is
   * always room for the matched ones, there being no more of them than
   * tracks before. */
  g_array_set_size (next, 0);
  for (j = 0; j < regions->len; j++) {
    const GstFrameProcRegion *r = &g_array_index (regions,
        GstFrameProcRegion, j);

    if (r->id != 0)
      track_append (next, r);
  }
  for (j = 0; j < regions->len; j++) {
    GstFrameProcRegion *r = &g_array_index (regions, GstFrameProcRegion, j);

    if (r->id != 0)
      continue;
    r->id = tracker->next_id;
    /* after 2^31 - 1 regions: 1 again, long gone by then */
    tracker->next_id = r->id == G_MAXINT ? 1 : r->id + 1;
    if (next->len < GST_FRAME_PROC_MAX_TRACKS)
      track_append (next, r);
    else
      tracker->untracked++;
  }
  for (i = 0; i < tracks->len; i++) {
    GstFrameProcTrack t = g_array_index (tracks, GstFrameProcTrack, i);

    if (t.match >= 0 || t.missed >= GST_FRAME_PROC_TRACK_KEEP)
      continue;
    if (next->len < GST_FRAME_PROC_MAX_TRACKS) {
      t.missed++;
      g_array_append_val (next, t);
    }
  }
  tracker->tracks = next;
  tracker->next_tracks = tracks;
}

/* Finds the moving regions of the frame into @regions, with their ids,
 * and the fraction of changed pixels into @score. */
void
gst_frame_proc_motion (GstFrameProcJob * job, GstFrameProcTracker * tracker,
    GArray * regions, gdouble * score)
{
  GstFrameProcScratch *s = job->scratch;
  const GstFrameProcMotionReference kind = job->settings.motion_reference;
  guint64 changed = 0;
  guint i;

  g_array_set_size (regions, 0);
  *score = 0.0;

  /* the first frame, or the first after a reset or a change of reference
   * kind, only becomes the reference */
  if (!s->have_reference || s->reference_kind != kind) {
    gst_frame_proc_job_run (job, reference_init_band);
    s->have_reference = TRUE;
    s->reference_kind = kind;
  } else {
    gst_frame_proc_job_run (job, mask_band);
    for (i = 0; i < job->n_bands; i++)
      changed += job->bands[i].changed;
    *score = (gdouble) changed / ((gdouble) job->width * job->height);

    if (changed > 0)
      find_regions (job, regions);
  }

  /* a frame without regions counts as a miss for every track */
  track_regions (tracker, regions);
}

/* ---- drawing ---- */

static void
put_pixel (GstFrameProcJob * job, gint x, gint y, const guint8 * colour)
{
  guint c;

  for (c = 0; c < job->n_comps; c++) {
    const GstFrameProcComp *comp = &job->comp[c];
    gint cx = x >> comp->x_sub, cy = y >> comp->y_sub;

    comp->data[(gssize) cy * comp->stride + (gssize) cx * comp->pstride] =
        colour[c];
  }
}

void
gst_frame_proc_motion_draw (GstFrameProcJob * job, GArray * regions)
{
  /* green: R, G, B; BT.601 limited range Y, U, V; white on GRAY8 */
  static const guint8 rgb_green[3] = { 0, 255, 0 };
  static const guint8 yuv_green[3] = { 145, 54, 34 };
  static const guint8 gray_white[3] = { 255, 0, 0 };
  const guint8 *colour;
  guint i;

  if (job->format->is_rgb)
    colour = rgb_green;
  else if (job->n_comps == 1)
    colour = gray_white;
  else
    colour = yuv_green;

  for (i = 0; i < regions->len; i++) {
    const GstFrameProcRegion *r =
        &g_array_index (regions, GstFrameProcRegion, i);
    gint t = MIN (GST_FRAME_PROC_BOX_THICKNESS, MIN (r->width, r->height));
    gint x, y;

    for (y = r->y; y < r->y + r->height; y++) {
      gboolean full_row = y < r->y + t || y >= r->y + r->height - t;

      for (x = r->x; x < r->x + r->width; x++) {
        if (full_row || x < r->x + t || x >= r->x + r->width - t)
          put_pixel (job, x, y, colour);
        else
          x = r->x + r->width - t - 1;  /* jump to the right edge */
      }
    }
  }
}
