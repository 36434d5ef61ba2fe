"""frameproc's `operation=motion` (gst/frameproc/gstframeprocmotion.c, with
its defaults: motion-reference=background, learning-rate 0.01, sensitivity
25, min-area 64, draw=false) in Python with NumPy, for the processor of the
design being replaced in tests/bench/capacity.

Same steps as the C code: per pixel, |luma - background| > sensitivity marks
a changed pixel and the background (float32) moves towards the luma by the
learning rate; changed pixels are counted per 4x4 cell with their bounding
box inside the cell; a cell is active when at least a quarter of its pixels
changed; active cells are grouped by 8-connectivity; each group's box is the
exact box of its changed pixels; boxes that come within one cell of each
other are merged (repeated until none merges); regions under min-area
changed pixels are dropped; regions sorted by (y, x). The first frame only
becomes the background.

Differences, honestly: the per-pixel pass and the per-cell statistics are
vectorised NumPy over the whole frame (several temporary arrays per frame,
one thread; C does one pass per band of rows on n-threads threads with no
temporaries); the grouping is a run-based labelling (runs of active cells
per cell row, unions between overlapping runs of adjacent rows) in plain
Python, where C runs union-find over cells in one raster pass: the same
groups, found differently. Float rounding of the background may differ
from C's in the last bit (C may fuse the multiply-add).
"""
import numpy as np

CELL = 4


class Motion:
    def __init__(self, sensitivity=25, learning_rate=0.01, min_area=64):
        self.sens = float(sensitivity)
        self.lr = np.float32(learning_rate)
        self.min_area = min_area
        self.background = None

    def process(self, luma):
        """luma: 2-D uint8 array. Returns (score, regions); regions are
        (x, y, w, h, area) tuples."""
        h, w = luma.shape
        if self.background is None or self.background.shape != luma.shape:
            self.background = luma.astype(np.float32)
            return 0.0, []
        d = luma.astype(np.float32) - self.background
        hit = np.abs(d) > self.sens
        self.background += self.lr * d
        changed = int(np.count_nonzero(hit))
        score = changed / float(w * h)
        if not changed:
            return score, []
        return score, self._regions(hit, w, h)

    def _regions(self, hit, w, h):
        ch, cw = -(-h // CELL), -(-w // CELL)
        if ch * CELL != h or cw * CELL != w:
            padded = np.zeros((ch * CELL, cw * CELL), bool)
            padded[:h, :w] = hit
            hit = padded
        m4 = hit.reshape(ch, CELL, cw, CELL)
        count = m4.sum(axis=(1, 3))
        cols = m4.any(axis=1)                       # (ch, cw, CELL): x
        rows = m4.any(axis=3).transpose(0, 2, 1)    # (ch, cw, CELL): y
        cx0 = cols.argmax(axis=2)
        cx1 = CELL - 1 - cols[:, :, ::-1].argmax(axis=2)
        cy0 = rows.argmax(axis=2)
        cy1 = CELL - 1 - rows[:, :, ::-1].argmax(axis=2)
        cell_w = np.minimum(CELL, w - np.arange(cw) * CELL)
        cell_h = np.minimum(CELL, h - np.arange(ch) * CELL)
        active = (count > 0) & (count * 4 >= cell_h[:, None] * cell_w[None, :])
        if not active.any():
            return []

        # runs of active cells per cell row, as (row, start, end inclusive)
        edges = np.diff(np.pad(active, ((0, 0), (1, 1))).astype(np.int8),
                        axis=1)
        starts_r, starts_c = np.nonzero(edges == 1)
        _, ends_c = np.nonzero(edges == -1)
        runs = list(zip(starts_r.tolist(), starts_c.tolist(),
                        (ends_c - 1).tolist()))
        parent = list(range(len(runs)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        # 8-connectivity between runs of adjacent rows; the run first in
        # raster order becomes the root, like C's smaller cell index
        prev_lo = prev_hi = cur_lo = 0
        row = -1
        for i, (r, s, e) in enumerate(runs):
            if r != row:
                if r == row + 1:
                    prev_lo, prev_hi = cur_lo, i
                else:
                    prev_lo = prev_hi = i
                cur_lo, row = i, r
            for j in range(prev_lo, prev_hi):
                _, ps, pe = runs[j]
                if ps <= e + 1 and s <= pe + 1:
                    a, b = find(i), find(j)
                    if a != b:
                        parent[max(a, b)] = min(a, b)

        label = np.full((ch, cw), -1, np.int64)
        for i, (r, s, e) in enumerate(runs):
            label[r, s:e + 1] = find(i)
        roots = sorted(set(find(i) for i in range(len(runs))))
        index = {root: n for n, root in enumerate(roots)}
        ys, xs = np.nonzero(active)
        lab = np.array([index[v] for v in label[ys, xs].tolist()], np.int64)
        n = len(roots)
        big = np.iinfo(np.int64).max
        bx0 = np.full(n, big, np.int64)
        by0 = np.full(n, big, np.int64)
        bx1 = np.full(n, -1, np.int64)
        by1 = np.full(n, -1, np.int64)
        area = np.zeros(n, np.int64)
        np.minimum.at(bx0, lab, xs * CELL + cx0[ys, xs])
        np.minimum.at(by0, lab, ys * CELL + cy0[ys, xs])
        np.maximum.at(bx1, lab, xs * CELL + cx1[ys, xs])
        np.maximum.at(by1, lab, ys * CELL + cy1[ys, xs])
        np.add.at(area, lab, count[ys, xs])

        boxes = [[int(bx0[i]), int(by0[i]), int(bx1[i]), int(by1[i]),
                  int(area[i]), False] for i in range(n)]
        merged = True
        while merged:
            merged = False
            for i, a in enumerate(boxes):
                if a[5]:
                    continue
                for b in boxes[i + 1:]:
                    if b[5]:
                        continue
                    if (a[0] - CELL <= b[2] and b[0] - CELL <= a[2] and
                            a[1] - CELL <= b[3] and b[1] - CELL <= a[3]):
                        a[0], a[1] = min(a[0], b[0]), min(a[1], b[1])
                        a[2], a[3] = max(a[2], b[2]), max(a[3], b[3])
                        a[4] += b[4]
                        b[5] = True
                        merged = True
        regions = [(b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1, b[4])
                   for b in boxes if not b[5] and b[4] >= self.min_area]
        regions.sort(key=lambda r: (r[1], r[0]))
        return regions
