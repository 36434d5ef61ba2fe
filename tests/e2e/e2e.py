#!/usr/bin/python3
"""End-to-end test of the pipelines in pipelines/.

Runs the stage scripts (each execs one gst-launch-1.0) as separate processes
against a private redis-server (unix socket in a temporary directory):

  pipeline_in_order      producer (videotestsrc pattern=ball is-live=true
                         num-buffers=N, I420 640x480 30 fps) -> video-frames
                         -> processor (frameproc operation=motion)
                         -> processed-frames -> a redis-py reader (XREADGROUP,
                         decoding per docs/wire-format.md). All N frames
                         arrive, processed, in order (seq 0..N-1), with
                         detections (the ROI JSON `meta`) on the frames where
                         the ball moved, capture times equal to the input
                         entry's of the same seq. Prints the latency from
                         capture to the reader, p50/p95/max (a figure, not a
                         threshold).
  two_processors_share   two processors in one group: every frame is
                         processed exactly once, both got some.
  three_processors_in_order  three processors; their results land out of
                         order; redisstreamsrc reorder-window=16 gives a
                         consumer every frame once, in order.
  monitor_once           pipelines/monitor --once reports the streams, groups
                         and consumers.
  demo_start_stop        bash pipelines/demo --no-build with a free
                         VIEWER_PORT: the viewer serves its page (HTTP 200 at
                         /), processed-frames grows; after SIGTERM every
                         process the demo started is gone (its process tree
                         and its DEMO_PID_FILE) and its temp dir is removed.

Every process is started in its own session and stopped by PID (its process
group), also on failure. Arguments select cases by substring. Ends with
"N passed, N failed"; exit status 1 when anything failed.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

import lz4.frame
import redis

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINES = os.path.join(TOP, "pipelines")
N = 150
W, H = 640, 480
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
from procs import free_port, read, spawn, stop, stop_all, wait_for  # noqa: E402,F401
from redisserver import RedisServer  # noqa: E402
import wire  # noqa: E402


def number(fields, name):
    v = fields.get(name.encode())
    if v is None:
        return None
    assert v.isdigit() and len(v) <= 20 and int(v) < 2 ** 64, (name, v)
    return int(v)


def decode(r, stream, fields):
    """docs/wire-format.md, "Reading with redis-py"."""
    assert b"data" in fields
    caps = wire.entry_caps(r, stream, fields)
    encoding = fields.get(b"encoding", b"none")
    data = fields[b"data"]
    size = number(fields, "size")
    payload = lz4.frame.decompress(data) if encoding == b"lz4" else data
    assert encoding in (b"lz4", b"none"), encoding
    assert size is None or len(payload) == size
    return {"seq": number(fields, "seq"), "caps": caps,
            "capture_time": number(fields, "capture-time"),
            "meta": json.loads(fields[b"meta"]) if b"meta" in fields else None,
            "payload": payload}


class Reader(threading.Thread):
    """Reads processed-frames in its own group as the entries arrive and
    notes when each arrived."""

    def __init__(self, sock, stream):
        super().__init__(daemon=True)
        self.r = redis.Redis(unix_socket_path=sock)
        self.stream = stream
        self.r.xgroup_create(stream, "e2e-check", id="0", mkstream=True)
        self.frames = []
        self.done = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.done.is_set():
                for _, entries in self.r.xreadgroup("e2e-check", "reader", {self.stream: ">"},
                                                    count=10, block=100) or []:
                    now = time.time_ns()
                    for entry_id, fields in entries:
                        f = decode(self.r, self.stream, fields)
                        f["id"] = entry_id.decode()
                        f["arrived"] = now
                        self.frames.append(f)
                        self.r.xack(self.stream, "e2e-check", entry_id)
        except Exception as e:   # reported by the test case
            self.error = e


class Ctx:
    pass


def stage_env(ctx, **kw):
    env = dict(os.environ, REDIS_SOCKET=ctx.sock, VIDEO_DEVICE="none",
               WIDTH=str(W), HEIGHT=str(H), FPS="30", OPERATION="motion")
    env.pop("DISPLAY", None)
    env.update(kw)
    return env


def start_stage(ctx, name, log_name, env):
    return spawn(["bash", os.path.join(PIPELINES, name)],
                 os.path.join(ctx.tmp, log_name + ".log"), env)


def group_exists(r, stream, group):
    try:
        return any(g["name"].decode() == group for g in r.xinfo_groups(stream))
    except redis.ResponseError:
        return False


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def run_chain(ctx, prefix, n_processors, debug=None, processor_env=None, **env_extra):
    """Producer -> n processors -> reader; returns (reader, input entries, logs)."""
    ins, outs = prefix + "-in", prefix + "-out"
    env = stage_env(ctx, INPUT_STREAM=ins, OUTPUT_STREAM=outs, MAXLEN="0",
                    PROCESSOR_GROUP="processors", **env_extra)
    reader = Reader(ctx.sock, outs)
    reader.start()
    ctx.readers.append(reader)
    processors = []
    penv = dict(env, GST_DEBUG=debug, GST_DEBUG_NO_COLOR="1") if debug else env
    for i in range(n_processors):
        extra = (processor_env or {}).get(i, {})
        processors.append(start_stage(ctx, "processor", "%s-processor%d" % (prefix, i),
                                      dict(penv, CONSUMER="%s-worker-%d" % (prefix, i), **extra)))
    # The group is created at "$" when the processor starts: wait for it
    # before producing, or the first frames would not be delivered.
    wait_for(lambda: all(p.poll() is None for p in processors) and
             len(ctx.r.xinfo_consumers(ins, "processors")) == n_processors
             if group_exists(ctx.r, ins, "processors") else False, 20,
             "the processors' consumers")
    prod = start_stage(ctx, "producer", prefix + "-producer", dict(env, NUM_BUFFERS=str(N)))
    rc = prod.wait(60)
    assert rc == 0, "producer exited with %d:\n%s" % (
        rc, read(os.path.join(ctx.tmp, prefix + "-producer.log")))
    try:
        wait_for(lambda: len(reader.frames) >= N or reader.error, 30,
                 "%d processed frames (have %d)" % (N, len(reader.frames)))
        time.sleep(0.3)  # anything extra (duplicates) would arrive now
    finally:
        reader.done.set()
        reader.join(5)
    assert reader.error is None, repr(reader.error)
    for p in processors:
        assert p.poll() is None, "a processor died"
        stop(p)
    inputs = {}
    for entry_id, fields in ctx.r.xrange(ins, "-", "+"):
        inputs[number(fields, "seq")] = (entry_id.decode(), number(fields, "capture-time"))
    return reader, inputs


def pipeline_in_order(ctx):
    reader, inputs = run_chain(ctx, "chain", 1)
    frames = reader.frames
    print("  producer wrote %d frames, reader got %d processed frames" % (len(inputs), len(frames)))
    assert sorted(inputs) == list(range(N)), "producer seqs: %s" % sorted(inputs)[:10]
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(N)), "processed seqs not 0..N-1 in order: %s" % seqs[:20]
    for f in frames:
        assert "format=(string)I420" in f["caps"] and "width=(int)%d" % W in f["caps"], f["caps"]
        assert len(f["payload"]) == W * H * 3 // 2
        assert f["capture_time"] == inputs[f["seq"]][1], \
            "seq %d: capture-time %s, input %s" % (f["seq"], f["capture_time"], inputs[f["seq"]][1])
    # The first frame only becomes frameproc's reference; the ball moves on
    # every later frame.
    with_meta = [f["seq"] for f in frames if f["meta"]]
    assert frames[0]["meta"] is None, frames[0]["meta"]
    missing = [s for s in range(1, N) if s not in set(with_meta)]
    assert not missing, "frames without detections: %s" % missing
    for f in frames[1:]:
        rois = f["meta"]["rois"]
        assert rois and all(r["type"] == "motion" and r["w"] > 0 and r["h"] > 0 for r in rois), rois
    print("  detections on %d of %d frames (all but the reference frame 0); e.g. seq %d: %s"
          % (len(with_meta), N, frames[N // 2]["seq"],
             json.dumps([{k: r[k] for k in ("type", "x", "y", "w", "h")}
                         for r in frames[N // 2]["meta"]["rois"]])))
    lat = [(f["arrived"] - f["capture_time"]) / 1e6 for f in frames]
    hop = [int(f["id"].split("-")[0]) - int(inputs[f["seq"]][0].split("-")[0]) for f in frames]
    print("  latency capture -> processed-frames reader (ms): p50 %.2f, p95 %.2f, max %.2f"
          % (percentile(lat, 50), percentile(lat, 95), max(lat)))
    print("  XADD video-frames -> XADD processed-frames (entry ids, ms): p50 %d, p95 %d, max %d"
          % (percentile(hop, 50), percentile(hop, 95), max(hop)))
    ctx.latency = (percentile(lat, 50), percentile(lat, 95), max(lat))


def two_processors_share(ctx):
    reader, inputs = run_chain(ctx, "shared", 2, debug="frameproc:5")
    seqs = [f["seq"] for f in reader.frames]
    assert sorted(seqs) == list(range(N)), \
        "not every frame exactly once: %d frames, %d distinct" % (len(seqs), len(set(seqs)))
    # frameproc:5 logs "frame N processed in ..." for every frame.
    done = []
    for i in range(2):
        log = read(os.path.join(ctx.tmp, "shared-processor%d.log" % i))
        done.append({int(l.split(" frame ", 1)[1].split()[0])
                     for l in log.splitlines() if " processed in " in l and " frame " in l})
    print("  %d frames, each processed once: %d by processor 0, %d by processor 1"
          % (len(seqs), len(done[0]), len(done[1])))
    assert done[0] and done[1], "one processor got no frames"
    assert not (done[0] & done[1]), "frames processed twice: %s" % sorted(done[0] & done[1])
    assert done[0] | done[1] == set(range(N))


def three_processors_in_order(ctx):
    """Three processors in one group; their results reach processed-frames
    out of order; a consumer with a reorder window gets every frame once, in
    order."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    # processor 0 blurs with a wide kernel, longer than a frame interval at
    # 60 fps: its results come after those of the frames behind it
    reader, inputs = run_chain(ctx, "three", 3, FPS="60", WIDTH="1280", HEIGHT="720", processor_env={
        0: {"OPERATION": "blur", "FRAMEPROC_PROPS": "sigma=20 n-threads=1"}})
    stored = [f["seq"] for f in sorted(reader.frames, key=lambda f: tuple(
        int(x) for x in f["id"].split("-")))]
    assert sorted(stored) == list(range(N)), "not every frame once in the stream"
    inversions = sum(1 for a, b in zip(stored, stored[1:]) if b < a)
    print("  processed-frames holds %d frames, %d of them right after a later one"
          % (len(stored), inversions))
    assert inversions > 0, "the results came in order: nothing to reorder"
    pipeline = Gst.parse_launch(
        "redisstreamsrc socket-path=%s stream=three-out group=ordered start-id=0 "
        "reorder-window=16 reorder-timeout=500 ! appsink name=out sync=false" % ctx.sock)
    sink = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    got = []
    try:
        for _ in range(N):
            sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
            assert sample is not None, "only %d frames arrived" % len(got)
            got.append(sample.get_buffer().offset)
        stats = pipeline.get_by_name("redisstreamsrc0").get_property("stats")
    finally:
        pipeline.set_state(Gst.State.NULL)
    assert got == list(range(N)), "not in order: %s" % got[:30]
    print("  consumer with reorder-window=16: %d frames in order; reorder-gaps %d, "
          "reorder-late %d" % (len(got), stats.get_value("reorder-gaps"),
                               stats.get_value("reorder-late")))


def monitor_once(ctx):
    env = dict(os.environ, REDIS_SOCKET=ctx.sock, INPUT_STREAM="chain-in",
               OUTPUT_STREAM="chain-out")
    out = subprocess.run(["/usr/bin/python3", os.path.join(PIPELINES, "monitor"), "--once"],
                         env=env, capture_output=True, text=True, timeout=30)
    print("  " + out.stdout.replace("\n", "\n  ").rstrip())
    assert out.returncode == 0, out.stderr
    assert "stream chain-in: length %d" % N in out.stdout, out.stdout
    assert "stream chain-out: length %d" % N in out.stdout, out.stdout
    assert "group processors" in out.stdout and "group e2e-check" in out.stdout
    assert "consumer chain-worker-0" in out.stdout
    bad = subprocess.run(["/usr/bin/python3", os.path.join(PIPELINES, "monitor"), "--once"],
                         env=dict(env, REDIS_SOCKET=os.path.join(ctx.tmp, "none.sock")),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "none.sock" in bad.stderr, (bad.returncode, bad.stderr)


def descendants(pid):
    """pids of the whole process tree below pid, from /proc."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:100]
    except OSError:
        return "?"


def demo_start_stop(ctx):
    if os.environ.get("E2E_HAVE_WEBSOCKET") == "0":
        raise AssertionError("websocketsink is not built: the demo needs it")
    port = free_port()
    pidfile = os.path.join(ctx.tmp, "demo.pids")
    log = os.path.join(ctx.tmp, "demo.log")
    env = dict(os.environ, VIEWER_PORT=str(port), DEMO_PID_FILE=pidfile,
               BUILDDIR=os.environ.get("E2E_BUILD_DIR", os.path.join(TOP, "build")),
               WIDTH="640", HEIGHT="480")
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "GST_PLUGIN_PATH"):
        env.pop(k, None)
    demo = spawn(["bash", os.path.join(PIPELINES, "demo"), "--no-build"], log, env, cwd=TOP)
    ctx.demo_pidfile = pidfile
    url = "http://127.0.0.1:%d/" % port
    wait_for(lambda: ("Viewer:   " + url) in read(log) or demo.poll() is not None, 90,
             "the demo to print the viewer URL")
    assert demo.poll() is None, "demo exited with %s:\n%s" % (demo.returncode, read(log))
    print("  " + read(log).replace("\n", "\n  ").rstrip())
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
        assert resp.status == 200 and b"<html" in body.lower(), (resp.status, body[:200])
    sock = [l.split("unix socket ", 1)[1].strip() for l in read(log).splitlines()
            if "private Redis: unix socket " in l][0]
    r = redis.Redis(unix_socket_path=sock)
    n1 = wait_for(lambda: r.xlen("processed-frames"), 10, "processed frames")
    t1 = time.monotonic()
    n2 = wait_for(lambda: r.xlen("processed-frames") > n1 and r.xlen("processed-frames"), 10,
                  "processed-frames to grow past %d entries" % n1)
    print("  processed-frames: %d -> %d entries in %.1f s" % (n1, n2, time.monotonic() - t1))
    tree = descendants(demo.pid)
    recorded = {}
    for line in read(pidfile).splitlines():
        name, value = line.split(" ", 1)
        recorded[name] = value
    tmpdir = recorded.pop("tmpdir")
    started = {name: int(pid) for name, pid in recorded.items()}
    assert set(started) >= {"redis", "producer", "processor", "viewer"}, started
    assert all(p in tree for p in started.values()), (started, tree)
    assert os.path.isdir(tmpdir), tmpdir
    print("  demo pid %d, %d processes below it: %s" % (
        demo.pid, len(tree), ", ".join("%s=%d" % kv for kv in started.items())))
    demo.send_signal(signal.SIGTERM)
    rc = demo.wait(30)
    print("  " + read(log).splitlines()[-1])
    assert rc == 0, "demo exited with %d after SIGTERM:\n%s" % (rc, read(log))
    left = [p for p in tree + list(started.values()) if alive(p)]
    assert not left, "still running: %s" % ["%d %s" % (p, cmdline(p)) for p in left]
    assert not os.path.exists(tmpdir), "temp dir %s is still there" % tmpdir
    s = socket.socket()
    try:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "viewer port still open"
    finally:
        s.close()


def cleanup_demo(ctx):
    """On failure: stop what the demo recorded, by PID."""
    for line in read(getattr(ctx, "demo_pidfile", "")).splitlines():
        name, value = line.split(" ", 1)
        if name != "tmpdir" and alive(int(value)):
            try:
                os.killpg(int(value), signal.SIGKILL)
            except ProcessLookupError:
                pass
        elif name == "tmpdir":
            shutil.rmtree(value, ignore_errors=True)


CASES = [("pipeline_in_order", pipeline_in_order),
         ("two_processors_share", two_processors_share),
         ("three_processors_in_order", three_processors_in_order),
         ("monitor_once", monitor_once),
         ("demo_start_stop", demo_start_stop)]


def main():
    selected = [c for c in CASES if not sys.argv[1:] or any(a in c[0] for a in sys.argv[1:])]
    ctx = Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-e2e.")
    ctx.readers = []
    passed = failed = 0
    try:
        ctx.redis = RedisServer(ctx.tmp, unix=True)
        ctx.sock = ctx.redis.sock
        ctx.r = ctx.redis.client()
        for name, fn in selected:
            print("%s:" % name, flush=True)
            t0 = time.monotonic()
            try:
                fn(ctx)
                print("  PASS (%.1f s)" % (time.monotonic() - t0), flush=True)
                passed += 1
            except Exception:
                traceback.print_exc(file=sys.stdout)
                for f in sorted(os.listdir(ctx.tmp)):
                    if f.endswith(".log") and f != "redis.log":
                        print("  --- %s (end):\n    %s" % (f, "\n    ".join(
                            read(os.path.join(ctx.tmp, f)).splitlines()[-8:])))
                print("  FAIL", flush=True)
                failed += 1
    except Exception:
        traceback.print_exc(file=sys.stdout)
        failed += 1
    finally:
        for rd in ctx.readers:
            rd.done.set()
        stop_all()
        cleanup_demo(ctx)
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
