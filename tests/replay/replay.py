#!/usr/bin/python3
"""Replay, export and seek over what Redis keeps, against a real
redis-server, with real encoders, as an operator uses them.

A producer writes frames whose picture says their number (16 black or
white blocks, the bits of the frame number) at 30 fps in real time, each
with its capture time, through redisstreamsink; its encoder is none (raw
I420), openh264enc with a 10 s group of pictures (gop-size=300), or
another. redisstreamsrc then reads time ranges of the stream without a
consumer group (start/stop), and the frames a sink is given (appsink, which
drops what is outside the segment as every sink does) or written to a file
(pipelines/clip: mp4mux or matroskamux, read back with a GStreamer
pipeline) are checked by the number in their picture:

  raw_range            raw I420: the first frame shown was captured within
                       one frame interval of the requested start, the last
                       one at or before the stop, every frame in between
                       once, EOS; no consumer group and no key left in
                       Redis by the replay.
  raw_range_by_ids     start and stop as entry ids: exactly those entries.
  h264_gop10_range     H.264 with a 10 s GOP, a start 2.2 s after a key
                       frame: decoded, the first frame shown is the one of
                       the start (within one frame interval), the frames
                       before it were pushed only to decode (stats).
  h264_gop10_export    the same range exported by pipelines/clip without
                       re-encoding: an MP4 (remuxed from the key frame, its
                       edit list beginning the movie at the start) plays
                       from the frame of the start to the stop; Matroska
                       (no edit lists) from the key frame.
  trimmed_start        a start older than the stream's oldest entry (maxlen
                       trimmed it): a warning naming the span that is gone,
                       the range-trimmed-* stats, the rest plays.
  nothing_left         a range entirely trimmed away: an error
                       (GST_RESOURCE_ERROR_NOT_FOUND) saying so, no frame.
  follow_live          no stop: the replay catches up and goes on with the
                       frames the producer writes afterwards.
  seeks_while_writing  a player on the H.264 stream (start=oldest, no stop)
                       while the producer writes: DURATION grows, SEEKING
                       gives the span, accurate flushing seeks land on the
                       frame of the position asked, key unit seeks on a key
                       frame; seek latency printed (a figure).
  clip_script          pipelines/clip exports raw video (encoded) to
                       Matroska and H.264 (remuxed) to MP4, both beginning
                       with the frame of START and ending with STOP's.
  record_events        pipelines/record-events on a detections stream:
                       events of the type asked whose clips overlap make
                       one clip, a later one its own; each file runs from
                       PRE before its first event to POST after its last,
                       from the camera's stream.
  docs_player          the Python player of docs/replay.md as it is there:
                       plays, seeks to the oldest frame and near the
                       newest, prints positions inside the span.
  read_only_user       a replay with an ACL user that may only read the
                       stream (docs/security.md).
  media_<type>         JPEG, H.265, VP8, VP9 and Opus: a range plays from
                       its start through the decoder, frames before the
                       start only to decode for the inter-coded ones and
                       80 ms of Opus; with accurate=false the video ones
                       begin with a key frame. (H.265 is parsed, not
                       decoded: Debian 12's libde265dec crashes on
                       x265enc's output even without Redis in between,
                       `x265enc key-int-max=30 ! h265parse ! libde265dec`.)

Prints "N passed, N failed, N skipped".
"""

import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import gi  # noqa: E402
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402,F401
import numpy  # noqa: E402
from cases import main  # noqa: E402
from procs import read, spawn, stop, wait_for  # noqa: E402

Gst.init(None)

FPS = 30
INTERVAL = 1e9 / FPS
W, H = 320, 240
X_UNIX = Gst.Caps.from_string("timestamp/x-unix")


def frame_bytes(n):
    """An I420 picture whose 4x4 blocks are the 16 bits of n."""
    bits = numpy.array([(n >> k) & 1 for k in range(16)], dtype=numpy.uint8).reshape(4, 4)
    y = numpy.kron(bits * 219 + 16, numpy.ones((H // 4, W // 4), dtype=numpy.uint8))
    return y.astype(numpy.uint8).tobytes() + bytes([128]) * (W * H // 2)


def frame_number(buf):
    """The number a decoded I420 picture shows."""
    ok, info = buf.map(Gst.MapFlags.READ)
    assert ok
    try:
        y = numpy.frombuffer(info.data, dtype=numpy.uint8, count=W * H).reshape(H, W)
        n = 0
        for k in range(16):
            r, c = divmod(k, 4)
            block = y[r * H // 4 + 15:(r + 1) * H // 4 - 15, c * W // 4 + 20:(c + 1) * W // 4 - 20]
            if block.mean() > 128:
                n |= 1 << k
        return n
    finally:
        buf.unmap(info)


class Producer:
    """Numbered frames at FPS in real time into @stream, through @encoder
    (a gst-launch fragment, or None for raw I420). times[n] is frame n's
    capture time (ns since 1970), which it carries as its meta."""

    def __init__(self, ctx, stream, encoder=None, maxlen=100000, jitter=None):
        self.stream = stream
        # jitter(n): how late frame n is taken and stamped (s), a loaded camera
        self.jitter = jitter
        self.times = {}
        self.pipeline = Gst.parse_launch(
            "appsrc name=src is-live=true format=time caps=video/x-raw,format=I420,"
            "width=%d,height=%d,framerate=%d/1 ! %s ! redisstreamsink socket-path=%s "
            "stream=%s maxlen=%d" % (W, H, FPS, encoder or "identity", ctx.redis.sock,
                                     stream, maxlen))
        self.src = self.pipeline.get_by_name("src")
        self.stopping = threading.Event()
        self.error = None
        self.pipeline.set_state(Gst.State.PLAYING)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        t0 = time.monotonic()
        n = 0
        while not self.stopping.is_set():
            delay = t0 + n / FPS + (self.jitter(n) if self.jitter else 0) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            buf = Gst.Buffer.new_wrapped(frame_bytes(n))
            buf.pts = int(n * INTERVAL)
            buf.duration = int(INTERVAL)
            buf.offset = n
            now = time.time_ns()
            buf.add_reference_timestamp_meta(X_UNIX, now, Gst.CLOCK_TIME_NONE)
            self.times[n] = now
            if self.src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                self.error = "push-buffer failed at frame %d" % n
                break
            n += 1

    def wait_frames(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.times) < n:
            assert time.monotonic() < deadline, "the producer wrote %d frames" % len(self.times)
            assert self.error is None, self.error
            time.sleep(0.05)

    def number_at(self, t):
        """The frame captured last at or before t."""
        return max(n for n, c in self.times.items() if c <= t)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.src.emit("end-of-stream")
        self.pipeline.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS |
                                                    Gst.MessageType.ERROR)
        self.pipeline.set_state(Gst.State.NULL)


def secs(ns):
    """Seconds since 1970 as start and stop take them, to the nanosecond
    (a float would round the last digits away)."""
    return "%d.%09d" % divmod(int(ns), 1_000_000_000)


class Played:
    pass


def play(ctx, props, chain, timeout=60, number=True, expect_error=False, flags=False):
    """Runs redisstreamsrc @props ! @chain ! appsink until EOS or an error;
    returns what the sink got: frames [(pts, number or None, capture)],
    the warnings and errors (GError, debug), the source's stats."""
    p = Gst.parse_launch("redisstreamsrc name=src socket-path=%s %s ! %s ! appsink name=sink "
                         "sync=false" % (ctx.redis.sock, props, chain))
    sink = p.get_by_name("sink")
    bus = p.get_bus()
    out = Played()
    out.frames, out.warnings, out.errors, out.segments = [], [], [], []
    out.delta = []
    p.set_state(Gst.State.PLAYING)
    deadline = time.monotonic() + timeout
    done = False
    while not done:
        assert time.monotonic() < deadline, "no EOS within %d s" % timeout
        smp = sink.try_pull_sample(50 * Gst.MSECOND)
        if smp is not None:
            buf = smp.get_buffer()
            meta = buf.get_reference_timestamp_meta(X_UNIX)
            out.frames.append((buf.pts, frame_number(buf) if number else None,
                               meta.timestamp if meta else None))
            out.segments.append(smp.get_segment().start)
            out.delta.append(buf.has_flags(Gst.BufferFlags.DELTA_UNIT))
        while True:
            msg = bus.pop_filtered(Gst.MessageType.EOS | Gst.MessageType.ERROR |
                                   Gst.MessageType.WARNING)
            if msg is None:
                break
            if msg.type == Gst.MessageType.WARNING:
                out.warnings.append(msg.parse_warning())
            elif msg.type == Gst.MessageType.ERROR:
                out.errors.append(msg.parse_error())
                done = True
            else:
                done = True
        if done:
            while True:
                smp = sink.try_pull_sample(0)
                if smp is None:
                    break
                buf = smp.get_buffer()
                meta = buf.get_reference_timestamp_meta(X_UNIX)
                out.frames.append((buf.pts, frame_number(buf) if number else None,
                                   meta.timestamp if meta else None))
    out.stats = p.get_by_name("src").get_property("stats")
    p.set_state(Gst.State.NULL)
    if not expect_error:
        assert not out.errors, out.errors
    return out


def keys(ctx):
    return sorted(k.decode() for k in ctx.r.keys("*"))


def no_group_left(ctx, stream, keys_before):
    groups = ctx.r.xinfo_groups(stream)
    assert groups == [], "the replay left groups: %s" % groups
    assert keys(ctx) == keys_before, "keys before %s, after %s" % (keys_before, keys(ctx))


def starts_right(prod, first, start):
    """The first frame shown is the one on screen at start (captured last
    before it) or the next one: within one frame interval, counted in the
    producer's frames (whose capture times jitter under load)."""
    k = prod.number_at(start)
    assert first in (k, k + 1), "the first frame is %d; at the start, %d was captured %.1f ms " \
        "before, %d %.1f ms after" % (first, k, (start - prod.times[k]) / 1e6, k + 1,
                                      (prod.times.get(k + 1, 0) - start) / 1e6)


def check_range(prod, out, start, stop):
    """The frames shown begin with the one captured within a frame interval
    of start, end with the last one captured by stop, each once in order."""
    numbers = [n for _, n, _ in out.frames]
    assert numbers, "no frame shown"
    first, last = numbers[0], numbers[-1]
    delta = (prod.times[first] - start) / 1e6
    print("  %d frames shown, %d..%d; first captured %+.1f ms from the start, last %.1f ms "
          "before the stop" % (len(numbers), first, last, delta,
                               (stop - prod.times[last]) / 1e6))
    starts_right(prod, first, start)
    assert numbers == list(range(first, last + 1)), "frames missing or repeated: %s" % numbers
    assert prod.times[last] <= stop, "frame %d captured after the stop" % last
    assert prod.number_at(stop) == last, "stopped at %d, not at %d" % (last, prod.number_at(stop))


# --- raw -------------------------------------------------------------------

def raw_producer(ctx):
    if getattr(ctx, "raw", None) is None:
        ctx.raw = Producer(ctx, "raw", maxlen=100000)
        ctx.raw.wait_frames(5 * FPS)
    return ctx.raw


def raw_range(ctx):
    ctx.keep = "raw"
    prod = raw_producer(ctx)
    before = keys(ctx)
    start = prod.times[30] + 12_345_678
    stop = prod.times[100] + 7_000_000
    out = play(ctx, "stream=raw start=%s stop=%s" % (secs(start), secs(stop)), "identity")
    check_range(prod, out, start, stop)
    no_group_left(ctx, "raw", before)
    assert out.stats.get_value("range-decode-only") == 0


def raw_range_by_ids(ctx):
    ctx.keep = "raw"
    prod = raw_producer(ctx)
    entries = ctx.r.xrange("raw", "-", "+", count=80)
    first, last = entries[40][0].decode(), entries[70][0].decode()
    out = play(ctx, "stream=raw start=%s stop=%s" % (first, last), "identity")
    numbers = [n for _, n, _ in out.frames]
    seq = [int(e[1][b"seq"]) for e in entries]
    print("  entries %s..%s: frames %d..%d" % (first, last, numbers[0], numbers[-1]))
    assert numbers == seq[40:71], numbers


# --- H.264, 10 s groups of pictures ------------------------------------------

GOP10 = ("openh264enc gop-size=300 bitrate=500000 ! h264parse ! "
         "video/x-h264,stream-format=byte-stream,alignment=au")


def h264_producer(ctx):
    if getattr(ctx, "h264", None) is None:
        ctx.h264 = Producer(ctx, "h264", GOP10)
        # a key frame at 0 and at 10 s; the range starts 2.2 s after it
        ctx.h264.wait_frames(13 * FPS + 20)
    return ctx.h264


def h264_gop10_range(ctx):
    ctx.keep = "h264"
    prod = h264_producer(ctx)
    before = keys(ctx)
    start = prod.times[300 + 66] + 9_000_000
    stop = prod.times[300 + 66 + 30] + 3_000_000
    out = play(ctx, "stream=h264 start=%s stop=%s" % (secs(start), secs(stop)),
               "h264parse ! openh264dec")
    check_range(prod, out, start, stop)
    decode_only = out.stats.get_value("range-decode-only")
    print("  %d frames pushed only to decode (from the key frame at 10 s)" % decode_only)
    assert decode_only >= 66, decode_only
    no_group_left(ctx, "h264", before)


def file_frames(path):
    """(duration, [number, ...]) of a video file, decoded by GStreamer."""
    p = Gst.parse_launch("filesrc location=%s ! decodebin ! videoconvert ! "
                         "video/x-raw,format=I420 ! appsink name=sink sync=false" % path)
    sink = p.get_by_name("sink")
    p.set_state(Gst.State.PAUSED)
    p.get_state(10 * Gst.SECOND)
    ok, duration = p.query_duration(Gst.Format.TIME)
    p.set_state(Gst.State.PLAYING)
    numbers, pts = [], []
    while True:
        smp = sink.try_pull_sample(5 * Gst.SECOND)
        if smp is None:
            break
        numbers.append(frame_number(smp.get_buffer()))
        pts.append(smp.get_buffer().pts)
    p.set_state(Gst.State.NULL)
    return (duration if ok else None), numbers, pts


def h264_gop10_export(ctx):
    """pipelines/clip of the range into MP4 (remuxed from the key frame at
    10 s, the edit list beginning the movie at the start) and Matroska
    (no edit lists: from the key frame), nothing re-encoded."""
    prod = h264_producer(ctx)
    prod.wait_frames(300 + 66 + 60 + 10)
    start = prod.times[300 + 66] + 9_000_000
    stop = prod.times[300 + 66 + 60] + 3_000_000
    for out in ("clip.mp4", "clip.mkv"):
        path = os.path.join(ctx.tmp, out)
        p = spawn(["bash", os.path.join(PIPELINES, "clip")], path + ".log",
                  env=script_env(ctx, STREAM="h264", START=secs(start), STOP=secs(stop),
                                 OUTPUT=path))
        assert p.wait(60) == 0, read(p.log)
        assert "encodebin" not in read(p.log) and "openh264enc" not in read(p.log)
        if out.endswith(".mp4"):
            check_file(prod, path, start, stop)
        else:
            _, numbers, pts = file_frames(path)
            print("  %s: frames %d..%d (from the key frame)" % (out, numbers[0], numbers[-1]))
            assert numbers[0] == 300 and numbers[-1] == prod.number_at(stop), numbers
            assert numbers == list(range(300, numbers[-1] + 1))


# --- what is gone ------------------------------------------------------------

def trimmed_start(ctx):
    prod = Producer(ctx, "short", maxlen=40)
    try:
        prod.wait_frames(4 * FPS)
        start = prod.times[10]
        stop = prod.times[4 * FPS - 1]
        out = play(ctx, "stream=short start=%s stop=%s" % (secs(start), secs(stop)), "identity")
    finally:
        prod.stop()
    texts = [e.message for e, _ in out.warnings]
    print("  warning: %s" % texts)
    assert any("were trimmed" in t for t in texts), texts
    s = out.stats
    print("  range-trimmed-ms %d, from %s to %s" % (s.get_value("range-trimmed-ms"),
                                                   s.get_value("range-trimmed-from"),
                                                   s.get_value("range-trimmed-to")))
    assert s.get_value("range-trimmed-ms") > 1000
    assert s.get_value("range-trimmed-from") and s.get_value("range-trimmed-to")
    assert out.frames, "nothing played"


def nothing_left(ctx):
    prod = Producer(ctx, "gone", maxlen=40)
    try:
        prod.wait_frames(4 * FPS)
        start, stop = prod.times[5], prod.times[30]
        out = play(ctx, "stream=gone start=%s stop=%s" % (secs(start), secs(stop)),
                   "identity", expect_error=True)
    finally:
        prod.stop()
    print("  error: %s" % [e.message for e, _ in out.errors])
    assert out.errors and out.errors[0][0].matches(Gst.ResourceError.quark(),
                                                   Gst.ResourceError.NOT_FOUND), out.errors
    assert "Nothing of stream" in out.errors[0][0].message, out.errors
    assert not out.frames


def follow_live(ctx):
    prod = Producer(ctx, "live")
    try:
        prod.wait_frames(FPS)
        start = prod.times[10]
        p = Gst.parse_launch("redisstreamsrc socket-path=%s stream=live start=%s ! "
                             "appsink name=sink sync=false" % (ctx.redis.sock, secs(start)))
        sink = p.get_by_name("sink")
        p.set_state(Gst.State.PLAYING)
        got = []
        deadline = time.monotonic() + 30
        target = len(prod.times) + 2 * FPS
        while not got or got[-1] < target:
            assert time.monotonic() < deadline, got[-5:]
            smp = sink.try_pull_sample(100 * Gst.MSECOND)
            if smp:
                got.append(frame_number(smp.get_buffer()))
        p.set_state(Gst.State.NULL)
    finally:
        prod.stop()
    print("  frames %d..%d, the last written after the replay began" % (got[0], got[-1]))
    assert got == list(range(got[0], got[-1] + 1))


# --- seeking -------------------------------------------------------------------

def seek_and_take(p, sink, position, flags):
    """A flushing seek; the first frame the sink gets after it, and how
    long it took."""
    t0 = time.monotonic()
    assert p.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | flags, position)
    while True:
        smp = sink.try_pull_sample(10 * Gst.SECOND)
        assert smp is not None, "no frame after a seek to %d" % position
        if smp.get_segment().start >= 0:
            # numbers only: appsink 1.22 wants its samples back (a sample
            # kept here makes its next gst_sample_set_caps () fail)
            return frame_number(smp.get_buffer()), time.monotonic() - t0


def seeks_while_writing(ctx):
    prod = Producer(ctx, "seek", ("openh264enc gop-size=60 bitrate=500000 ! h264parse ! "
                                  "video/x-h264,stream-format=byte-stream,alignment=au"))
    try:
        prod.wait_frames(6 * FPS)
        p = Gst.parse_launch("redisstreamsrc name=src socket-path=%s stream=seek start=oldest ! "
                             "h264parse ! openh264dec ! appsink name=sink sync=false max-buffers=2"
                             % ctx.redis.sock)
        sink = p.get_by_name("sink")
        p.set_state(Gst.State.PLAYING)
        assert sink.try_pull_sample(10 * Gst.SECOND) is not None
        # position -> capture time: PTS is the capture time minus an origin
        smp = sink.try_pull_sample(10 * Gst.SECOND)
        origin = prod.times[frame_number(smp.get_buffer())] - smp.get_buffer().pts
        del smp
        ok, d1 = p.query_duration(Gst.Format.TIME)
        time.sleep(1.0)
        ok2, d2 = p.query_duration(Gst.Format.TIME)
        print("  DURATION %.2f s, a second later %.2f s" % (d1 / 1e9, d2 / 1e9))
        assert ok and ok2 and d2 > d1 + 0.5e9, (d1, d2)
        q = Gst.Query.new_seeking(Gst.Format.TIME)
        assert p.query(q)
        _, seekable, seg_start, seg_end = q.parse_seeking()
        assert seekable and seg_end > seg_start
        rnd = random.Random(24)
        latencies, errors = [], []
        for i in range(20):
            q = Gst.Query.new_seeking(Gst.Format.TIME)
            p.query(q)
            _, _, seg_start, seg_end = q.parse_seeking()
            pos = rnd.randint(seg_start + Gst.SECOND, seg_end - Gst.SECOND)
            n, took = seek_and_take(p, sink, pos, Gst.SeekFlags.ACCURATE)
            latencies.append(took)
            err = (prod.times[n] - (origin + pos)) / 1e6
            errors.append(err)
            assert abs(err) < 2 * INTERVAL / 1e6, "seek to %d: frame %d, %+.1f ms" % (pos, n, err)
        n, took = seek_and_take(p, sink, pos, Gst.SeekFlags.KEY_UNIT | Gst.SeekFlags.SNAP_BEFORE)
        stats = p.get_by_name("src").get_property("stats")
        p.set_state(Gst.State.NULL)
    finally:
        prod.stop()
    latencies.sort()
    print("  20 accurate seeks: frame shown %+.1f..%+.1f ms from the position; latency p50 "
          "%.1f ms, max %.1f ms; key unit seek: frame %d" % (
              min(errors), max(errors), statistics.median(latencies) * 1e3,
              latencies[-1] * 1e3, n))
    assert n % 60 == 0, "a key unit seek gave frame %d, not a key frame" % n
    assert stats.get_value("range-seeks") == 21


def jittery_capture(ctx):
    """A camera under load stamps its frames late, each by its own amount
    (0 to 60 ms, sometimes more than a frame interval) while its PTS keep
    the frame rate: a replayed raw range has PTS that never go back, and
    begins with the frame of the start."""
    ctx.keep = "raw"
    rng = random.Random(7)
    late = {}

    def jitter(n):
        if n not in late:
            late[n] = rng.choice((0, 0, 0, 0.005, 0.025, 0.045, 0.060))
        return late[n]

    prod = Producer(ctx, "jittery", jitter=jitter)
    try:
        prod.wait_frames(4 * FPS)
    finally:
        prod.stop()
    start = prod.times[20] + 3_000_000
    stop = prod.times[110] + 2_000_000
    out = play(ctx, "stream=jittery start=%s stop=%s" % (secs(start), secs(stop)), "identity")
    pts = [p for p, _, _ in out.frames]
    back = [(i, pts[i - 1], pts[i]) for i in range(1, len(pts)) if pts[i] <= pts[i - 1]]
    print("  %d frames, %d PTS not after the previous one%s" % (
        len(pts), len(back), ": %s" % ["#%d %.4f -> %.4f s" % (i, a / 1e9, b / 1e9)
                                        for i, a, b in back[:5]] if back else ""))
    check_range(prod, out, start, stop)
    assert not back, "PTS went back or stood still %d times" % len(back)


# --- pipelines/clip and pipelines/record-events ---------------------------------

PIPELINES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pipelines")


def script_env(ctx, **kw):
    e = dict(os.environ, REDIS_SOCKET=ctx.redis.sock)
    e.pop("DISPLAY", None)
    e.update(kw)
    return e


def check_file(prod, path, start, stop):
    duration, numbers, pts = file_frames(path)
    delta = (prod.times[numbers[0]] - start) / 1e6
    print("  %s: %.3f s, frames %d..%d, the first captured %+.1f ms from the start" % (
        os.path.basename(path), duration / 1e9, numbers[0], numbers[-1], delta))
    starts_right(prod, numbers[0], start)
    assert numbers == list(range(numbers[0], numbers[-1] + 1)), numbers
    assert numbers[-1] == prod.number_at(stop), (numbers[-1], prod.number_at(stop))


def clip_script(ctx):
    """pipelines/clip: raw video encoded into Matroska, H.264 remuxed into
    MP4 (an edit list), each beginning with the frame of START."""
    ctx.keep = "h264"
    raw, h264 = raw_producer(ctx), h264_producer(ctx)
    for prod, stream, out in ((raw, "raw", "raw.mkv"), (h264, "h264", "h264.mp4")):
        n = len(prod.times)
        start, stop = prod.times[n - 70] + 5_000_000, prod.times[n - 20] + 5_000_000
        path = os.path.join(ctx.tmp, out)
        p = spawn(["bash", os.path.join(PIPELINES, "clip")], path + ".log",
                  env=script_env(ctx, STREAM=stream, START=secs(start), STOP=secs(stop),
                                 OUTPUT=path))
        assert p.wait(60) == 0, read(p.log)
        check_file(prod, path, start, stop)
    ctx.raw.stop()
    ctx.raw = None


def record_events(ctx):
    """pipelines/record-events: three events on a detections stream, the
    first two 3 s apart (one clip), the third 8 s later (a second clip):
    each clip from PRE s before its first event to POST s after its last,
    cut from the camera's stream."""
    prod = h264_producer(ctx)
    out_dir = os.path.join(ctx.tmp, "events")
    p = spawn([os.path.join(PIPELINES, "record-events"), "--duration", "20"],
              os.path.join(ctx.tmp, "record-events.log"),
              env=script_env(ctx, OUTPUT_STREAM="detections", CLIP_STREAM="h264", PRE="2",
                             POST="1.5", OUTPUT_DIR=out_dir, EVENT_TYPE="person"))
    meta = '{"rois":[{"type":"person","x":1,"y":2,"w":30,"h":40}]}'
    other = '{"rois":[{"type":"cat","x":1,"y":2,"w":30,"h":40}]}'
    # it reads new entries only (XREAD $): once it has said so
    wait_for(lambda: "watching" in read(p.log), 30, "record-events to start")
    time.sleep(0.5)
    events = []
    for delay, m in ((0.5, meta), (3.0, meta), (1.0, other), (7.0, meta)):
        time.sleep(delay)
        n = len(prod.times) - 1
        ctx.r.xadd("detections", {"v": "1", "caps": "text/x-raw,format=utf8", "data": "x",
                                  "capture-time": str(prod.times[n]), "meta": m})
        if m == meta:
            events.append(prod.times[n])
    assert p.wait(60) == 0, read(p.log)
    lines = [l.split() for l in read(p.log).splitlines() if l.startswith("clip ")]
    print("  " + "\n  ".join(" ".join(l) for l in lines))
    logs = "".join("\n--- %s:\n%s" % (f, read(os.path.join(out_dir, f))[-3000:])
                   for f in sorted(os.listdir(out_dir)) if f.endswith(".log"))
    assert len(lines) == 2, read(p.log) + logs
    want = [(events[0] - 2e9, events[1] + 1.5e9, 2), (events[2] - 2e9, events[2] + 1.5e9, 1)]
    for (_, path, start, stop, n), (w_start, w_stop, w_n) in zip(lines, want):
        assert int(n) == w_n, (n, w_n)
        assert abs(float(start) * 1e9 - w_start) < 2e6 and abs(float(stop) * 1e9 - w_stop) < 2e6
        # the times the recorder asked for, to the millisecond
        check_file(prod, path, round(float(start) * 1e3) * 1_000_000,
                   round(float(stop) * 1e3) * 1_000_000)


# --- the docs' player, a read-only user ------------------------------------------

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")


def docs_player(ctx):
    """The Python player of docs/replay.md, as it is there, on a stream the
    producer keeps writing: it plays, seeks to the oldest frame and to 3 s
    before the newest, and prints positions inside the span."""
    text = read(os.path.join(DOCS, "replay.md"))
    block = text.split("<!-- docs-test: file replay-seek.py -->\n```python\n")[1].split("```")[0]
    path = os.path.join(ctx.tmp, "replay-seek.py")
    with open(path, "w") as f:
        f.write(block)
    prod = Producer(ctx, "player", GOP10.replace("gop-size=300", "gop-size=60"))
    try:
        prod.wait_frames(6 * FPS)
        p = spawn(["/usr/bin/python3", path, "player", "socket-path=" + ctx.redis.sock],
                  os.path.join(ctx.tmp, "player.log"), env=script_env(ctx, VIDEO_SINK="fakesink"))
        rc = p.wait(60)
    finally:
        prod.stop()
    out = read(p.log)
    print("  " + "\n  ".join(l for l in out.splitlines() if "position" in l))
    assert rc == 0, out
    rows = [l for l in out.splitlines() if "position" in l]
    assert len(rows) == 3, out
    for row in rows:
        w = row.split()
        pos, first, last = float(w[-9]), float(w[-5]), float(w[-2])
        assert first - 0.1 <= pos <= last + 0.1, row


def read_only_user(ctx):
    """A replay needs read access only: an ACL user with %R~stream
    %R~stream:info +xread +xrange +xrevrange +xinfo|stream +hget
    (docs/security.md) replays a range."""
    prod = raw_producer(ctx)
    ctx.r.execute_command("ACL", "SETUSER", "replayer", "on", ">replay-secret", "resetkeys",
                          "resetchannels", "-@all", "%R~raw", "%R~raw:info", "+xread", "+xrange",
                          "+xrevrange", "+xinfo|stream", "+hget", "+ping")
    n = len(prod.times)
    start, stop = prod.times[n - 60], prod.times[n - 30]
    out = play(ctx, "username=replayer password=replay-secret stream=raw start=%s stop=%s"
               % (secs(start), secs(stop)), "identity")
    check_range(prod, out, start, stop)
    assert not out.warnings, out.warnings


# --- other media ---------------------------------------------------------------

MEDIA = {
    "jpeg": ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
             "framerate=30/1 ! jpegenc", "jpegdec", False),
    "h265": ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
             "framerate=30/1 ! x265enc key-int-max=30 ! h265parse config-interval=-1",
             "h265parse", True),
    "vp8": ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
            "framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=30", "vp8dec", True),
    "vp9": ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,"
            "framerate=30/1 ! vp9enc deadline=1 keyframe-max-dist=30", "vp9dec", True),
    "opus": ("audiotestsrc is-live=true wave=ticks ! audio/x-raw,rate=48000,channels=2 ! "
             "opusenc frame-size=20", "opusdec", True),
}


def media_case(name):
    producer, decoder, before = MEDIA[name]

    def case(ctx):
        stream = "media-" + name
        p = spawn(["gst-launch-1.0"] + producer.split() + [
            "!", "redisstreamsink", "socket-path=" + ctx.redis.sock, "stream=" + stream],
            os.path.join(ctx.tmp, stream + ".log"))
        try:
            deadline = time.monotonic() + 30
            while ctx.r.xlen(stream) < 130 if ctx.r.exists(stream) else True:
                assert time.monotonic() < deadline and p.poll() is None, read(p.log)
                time.sleep(0.1)
        finally:
            stop(p)
        entries = ctx.r.xrange(stream, "-", "+")
        times = [int(f[b"capture-time"]) for _, f in entries]
        start = times[70] + 5_000_000
        stop_t = times[100] + 5_000_000
        out = play(ctx, "stream=%s start=%s stop=%s" % (stream, secs(start), secs(stop_t)),
                   decoder, number=False)
        s = out.stats
        shown = len(out.frames)
        first = out.frames[0][0] - out.segments[0]
        print("  %d buffers shown, the first %.1f ms after the segment start; %d pushed "
              "only to decode" % (shown, first / 1e6, s.get_value("range-decode-only")))
        assert shown > 0
        # parsed, not decoded, H.265's B-frames come in decoding order: the
        # first one shown may be a later picture than the start's; vp9enc
        # hides alt-ref frames that vp9dec decodes without showing
        assert abs(first) < {"h265": 4, "vp9": 2}.get(name, 1) * INTERVAL, first
        if before:
            assert s.get_value("range-decode-only") > 0
        else:
            assert s.get_value("range-decode-only") == 0
        if name in ("h265", "vp8", "vp9"):
            # accurate=false: the segment starts at the key frame, the
            # first buffer the sink gets
            key = play(ctx, "stream=%s start=%s stop=%s accurate=false" % (
                stream, secs(start), secs(stop_t)), "identity", number=False, flags=True)
            print("  accurate=false: %d buffers, the first %s" % (
                len(key.frames), "a key frame" if not key.delta[0] else "a delta unit"))
            assert not key.delta[0] and key.frames[0][0] == key.segments[0]
    return case


def after_case(ctx):
    """The shared producers run through the cases that use them, in
    order, and stop after the last one (each case says which it keeps)."""
    for name in ("raw", "h264"):
        prod = getattr(ctx, name, None)
        if prod is not None and getattr(ctx, "keep", None) != name:
            prod.stop()
            setattr(ctx, name, None)
    ctx.keep = None


CASES = [
    ("raw_range", raw_range),
    ("raw_range_by_ids", raw_range_by_ids),
    ("jittery_capture", jittery_capture),
    ("h264_gop10_range", h264_gop10_range),
    ("h264_gop10_export", h264_gop10_export),
    ("trimmed_start", trimmed_start),
    ("nothing_left", nothing_left),
    ("follow_live", follow_live),
    ("seeks_while_writing", seeks_while_writing),
    ("clip_script", clip_script),
    ("record_events", record_events),
    ("docs_player", docs_player),
    ("read_only_user", read_only_user),
] + [("media_" + m, media_case(m)) for m in MEDIA]


if __name__ == "__main__":
    sys.exit(main(CASES, "replay", after_case))
