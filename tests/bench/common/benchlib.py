"""Shared by the benchmark drivers of tests/bench (run-bench, run-capacity):
the frames (bench-frames with the synthetic scene or a natural photo) and
the figures computed from a receiver's --lat-file.
"""
import json
import os
import subprocess

# Natural photos shipped by Debian 12 packages, the lightest first:
# python-matplotlib-data (2.7 MB, pipelines/install-deps --bench) and
# python3-skimage (with SciPy, matplotlib and more).
PHOTOS = [
    "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
    "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
]


def default_photo():
    """The first photo of PHOTOS that exists; exits with what to install."""
    for p in PHOTOS:
        if os.path.exists(p):
            return p
    raise SystemExit("no natural photo found (%s): run pipelines/install-deps "
                     "--bench, or pass --photo PATH" % ", ".join(PHOTOS))


def frames_k(w, h):
    """Frames made per size: one pan cycle (30, or 16 above 720p)."""
    return 30 if w * h <= 1280 * 720 else 16


def make_frames(exe, w, h, path, photo=None, k=None):
    """Runs bench-frames; returns (path, k, info) where info is its JSON
    (frame_size, lz4_ratio, source, photo size)."""
    k = k or frames_k(w, h)
    cmd = [exe] + (["--photo", photo] if photo else []) + [
        str(w), str(h), str(k), path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench-frames failed: %s" % r.stderr.strip())
    info = json.loads(r.stdout)
    info["photo"] = photo
    return path, k, info


def pct(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[int(q * (len(sorted_values) - 1) + 0.5)]


def lat_stats(path, skip=0):
    """Figures over the frames of a --lat-file (send and receive time in ns
    per frame, in arrival order), leaving out the first `skip`: p50, p99,
    max (ms), and fps from the send time of the first frame counted to the
    arrival of the last one. None when the file is missing or empty."""
    try:
        with open(path) as f:
            rows = [tuple(map(int, line.split())) for line in f if line.strip()]
    except OSError:
        return None
    rows = rows[skip:]
    if not rows:
        return None
    lat = sorted((r - s) / 1e6 for s, r in rows)
    span = (rows[-1][1] - min(s for s, _ in rows)) / 1e9
    return {"n": len(rows), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
            "max": lat[-1], "fps": len(rows) / span if span > 0 else None}
