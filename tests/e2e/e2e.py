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
  three_processors_in_order  three processors, one slow; their results land
                         out of order. How far out of order depends on how
                         busy the machine is, so the window is chosen as
                         docs/scaling.md says, from what the slow one held
                         up in this run (at least 16): with it a consumer
                         gets every frame once, in order, no gaps; with a
                         window one frame too small, frames are given up
                         (reorder-gaps), the rest still go out in order.
  monitor_once           pipelines/monitor --once reports the streams, groups
                         and consumers; the processor that stopped idle left
                         its group (no consumers).
  stage_secrets          producer and processor as their own ACL users, the
                         password from REDIS_PASSWORD_FILE and from
                         REDIS_PASSWORD: they run with pipelines/launch,
                         frames flow, and the password is in neither the
                         printed line, the command line nor their output at
                         GST_DEBUG=*:6; a wrong password fails naming the
                         user. The viewer with VIEWER_TOKEN and HTTP basic
                         (VIEWER_AUTH_USER, VIEWER_AUTH_PASSWORD_FILE):
                         401 without, 200 with either.
  demo_start_stop        bash pipelines/demo --no-build with a free
                         VIEWER_PORT: the viewer serves its page (HTTP 200 at
                         /), processed-frames grows; after SIGTERM every
                         process the demo started is gone (its process tree
                         and its DEMO_PID_FILE) and its temp dir is removed.
  demo_tls               bash pipelines/demo --no-build --tls --cameras 2
                         (VIEWER_MODE=h264): the viewer answers over HTTPS
                         verified against the demo's CA with the token it
                         printed, 401 without it or with a wrong one, and a
                         client trusting another CA refuses it; Redis
                         refuses plain TCP, TLS without the client
                         certificate and the default user; the monitor's user
                         sees processed-frames-2 grow, the producer's cannot
                         read; no password nor the token is on the command
                         line of any process of the demo; headless Chromium
                         trusting the demo's CA (tests/browser/open-wall.js)
                         gets a secure page with WebCodecs that draws H.264
                         frames of both cameras; after SIGTERM everything is
                         gone. Skipped (a failure under CI=true) without node,
                         npm or chromium.

Every process is started in its own session and stopped by PID (its process
group), also on failure. Arguments select cases by substring. Ends with
"N passed, N failed[, N skipped]"; exit status 1 when anything failed.
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

import lz4.frame
import redis

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINES = os.path.join(TOP, "pipelines")
N = 150
W, H = 640, 480
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
import browser  # noqa: E402
import cases  # noqa: E402
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


def frames_held(order):
    """The most frames a reorder window holds for this arrival order of
    sequence numbers 0..N-1 when it waits for every missing one: a window
    this large never gives a frame up."""
    held, due, most = set(), 0, 0
    for seq in order:
        held.add(seq)
        while due in held:
            held.remove(due)
            due += 1
        most = max(most, len(held))
    return most


def read_in_order(ctx, group, window, timeout_ms):
    """The offsets a consumer with reorder-window=window pushes, reading
    three-out from the start, and its stats."""
    from gi.repository import Gst
    pipeline = Gst.parse_launch(
        "redisstreamsrc name=src socket-path=%s stream=three-out group=%s start-id=0 "
        "reorder-window=%d reorder-timeout=%d ! appsink name=out sync=false"
        % (ctx.sock, group, window, timeout_ms))
    sink = pipeline.get_by_name("out")
    src = pipeline.get_by_name("src")
    pipeline.set_state(Gst.State.PLAYING)
    got = []
    try:
        # Every entry is in the stream already. Done once each frame went
        # out or was given up, and each one given up came late and was
        # dropped; or after 10 s without progress.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sample = sink.emit("try-pull-sample", Gst.SECOND // 10)
            stats = src.get_property("stats")
            if sample is not None:
                got.append(sample.get_buffer().offset)
                deadline = time.monotonic() + 10
            # every frame pushed once or dropped as late (given up, or
            # before the first one pushed, whose predecessors the window
            # cannot know)
            late = stats.get_value("reorder-late")
            if len(got) + late >= N and late >= stats.get_value("reorder-gaps"):
                break
    finally:
        pipeline.set_state(Gst.State.NULL)
    return got, {k: stats.get_value(k) for k in ("reorder-gaps", "reorder-late", "reorder-held")}


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
    held = frames_held(stored)
    print("  processed-frames holds %d frames, %d of them right after a later one; "
          "in order with a window of %d" % (len(stored), inversions, held))
    assert inversions > 0, "the results came in order: nothing to reorder"

    # docs/scaling.md: a window of at least the frames the workers hold up.
    # How many the slow one holds up grows with the machine's load (16 on
    # a quiet machine; 19-23 with the cores busy), so the window is taken
    # from this run. The stream is complete before the consumer starts: the
    # timeout only has to cover reading the window's frames, which on a busy
    # machine can take longer than a processing time.
    window = max(16, held)
    got, stats = read_in_order(ctx, "ordered", window, 10000)
    assert got == list(range(N)), "reorder-window=%d: %d frames, not 0..%d in order " \
        "(%s): %s" % (window, len(got), N - 1, stats, got[:30])
    assert stats["reorder-gaps"] == 0 and stats["reorder-late"] == 0, stats
    print("  consumer with reorder-window=%d: %d frames in order; reorder-gaps %d, "
          "reorder-late %d" % (window, len(got), stats["reorder-gaps"], stats["reorder-late"]))

    # one frame too small: the oldest missing frames are given up, every
    # other frame goes out once, in order, and the given-up ones, which come
    # later, are dropped as late
    got, stats = read_in_order(ctx, "small-window", held - 1, 10000) if held > 1 else ([], {})
    if held > 1:
        assert got == sorted(set(got)), "reorder-window=%d: out of order: %s" % (held - 1, got)
        # given up: counted as gaps, dropped as late when they come; when the
        # window overflows before the first frame went out, the window cannot
        # know the frames before it: no gap, only late
        assert stats["reorder-late"] > 0 and len(got) + stats["reorder-late"] == N, \
            "reorder-window=%d: %d frames pushed, %s" % (held - 1, len(got), stats)
        assert stats["reorder-late"] >= stats["reorder-gaps"], stats
        print("  consumer with reorder-window=%d: %d frames in order; reorder-gaps %d, "
              "reorder-late %d" % (held - 1, len(got), stats["reorder-gaps"],
                                   stats["reorder-late"]))


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
    # the processor stopped idle, with nothing pending: it left its group
    assert "consumer chain-worker-0" not in out.stdout, out.stdout
    assert "no consumers: nobody reads this group now" in out.stdout, out.stdout
    bad = subprocess.run(["/usr/bin/python3", os.path.join(PIPELINES, "monitor"), "--once"],
                         env=dict(env, REDIS_SOCKET=os.path.join(ctx.tmp, "none.sock")),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "none.sock" in bad.stderr, (bad.returncode, bad.stderr)


def stage_secrets(ctx):
    """The stage scripts with an ACL user and its password, from a file
    (REDIS_PASSWORD_FILE) and from the environment (REDIS_PASSWORD): they
    run with pipelines/launch, frames flow, and the password is in neither
    the printed line, the command line, nor GStreamer's log at level 6; a
    wrong one fails naming the user. The viewer's token from VIEWER_TOKEN and
    HTTP basic from VIEWER_AUTH_USER/VIEWER_AUTH_PASSWORD_FILE."""
    cam_pw, proc_pw, view_pw, token = (os.urandom(16).hex() for _ in range(4))
    ctx.r.execute_command("ACL", "SETUSER", "s-camera", "on", ">" + cam_pw, "resetkeys",
                          "resetchannels", "-@all", "%W~s-in", "~s-in:info", "+xadd",
                          "+hsetnx", "+hget", "+hset", "+ping", "&s-in:control", "+subscribe")
    ctx.r.execute_command("ACL", "SETUSER", "s-processor", "on", ">" + proc_pw, "resetkeys",
                          "resetchannels", "-@all", "~s-in", "%R~s-in:info", "~s-out",
                          "~s-out:info", "+xreadgroup", "+xack", "+xgroup|create",
                          "+xautoclaim", "+xinfo|groups", "+xinfo|stream", "+xlen", "+hget",
                          "+xadd", "+hsetnx", "+hset", "+ping", "&s-in:control", "&s-out:control",
                          "+publish", "+subscribe")
    pw_file = os.path.join(ctx.tmp, "s-camera.password")
    with open(pw_file, "w") as f:
        f.write(cam_pw + "\n")
    os.chmod(pw_file, 0o600)
    env = stage_env(ctx, INPUT_STREAM="s-in", OUTPUT_STREAM="s-out", GST_DEBUG="*:6",
                    GST_DEBUG_NO_COLOR="1")
    proc = start_stage(ctx, "processor", "s-processor", dict(
        env, REDIS_USER="s-processor", REDIS_PASSWORD=proc_pw, CONSUMER="s-worker"))
    wait_for(lambda: proc.poll() is not None or group_exists(ctx.r, "s-in", "processors"), 20,
             "the processor's group")
    assert proc.poll() is None, read(proc.log)[-3000:]
    prod = start_stage(ctx, "producer", "s-producer", dict(
        env, REDIS_USER="s-camera", REDIS_PASSWORD_FILE=pw_file, NUM_BUFFERS="30"))
    cmdlines = [cmdline(p.pid, full=True) for p in (prod, proc)]
    assert prod.wait(60) == 0, read(prod.log)[-3000:]
    wait_for(lambda: ctx.r.exists("s-out") and ctx.r.xlen("s-out") >= 30, 20,
             "30 processed frames")
    stop(proc)
    for p, pw in ((prod, cam_pw), (proc, proc_pw)):
        text = read(p.log)
        first = text.splitlines()[0]
        assert "/pipelines/launch --secret-" in first and pw not in first, first
        assert pw not in text, "the password is in %s's output" % p.log
    assert not any(pw in c for c in cmdlines for pw in (cam_pw, proc_pw)), cmdlines
    print("  producer (REDIS_PASSWORD_FILE) and processor (REDIS_PASSWORD) as their own ACL "
          "users: 30 frames through; %d and %d lines of output at GST_DEBUG=*:6, the "
          "password in none, nor in their command lines" % (
              len(read(prod.log).splitlines()), len(read(proc.log).splitlines())))
    print("  the producer's line: " + read(prod.log).splitlines()[0][:160] + " ...")
    with open(pw_file, "w") as f:
        f.write("wrong\n")
    bad = start_stage(ctx, "producer", "s-wrong", dict(
        env, GST_DEBUG="", REDIS_USER="s-camera", REDIS_PASSWORD_FILE=pw_file, NUM_BUFFERS="5"))
    rc = bad.wait(60)
    err = [l for l in read(bad.log).splitlines() if l.startswith("ERROR")]
    print("  a wrong password: exit %d, %s" % (rc, err[0] if err else "-"))
    assert rc == 1 and err and '"s-camera"' in err[0] and "wrong" not in err[0], read(bad.log)

    # the viewer's secrets from the environment and a file
    port = free_port()
    basic_file = os.path.join(ctx.tmp, "viewer.password")
    with open(basic_file, "w") as f:
        f.write(view_pw + "\n")
    viewer = start_stage(ctx, "viewer", "s-viewer", stage_env(
        ctx, VIEWER_PORT=str(port), VIEWER_TOKEN=token, VIEWER_AUTH_USER="operator",
        VIEWER_AUTH_PASSWORD_FILE=basic_file, STREAM="s-out"))

    def get(headers):
        req = urllib.request.Request("http://127.0.0.1:%d/" % port, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
    import base64
    basic = "Basic " + base64.b64encode(("operator:" + view_pw).encode()).decode()
    wait_for(lambda: viewer.poll() is not None or get({}) == 401, 20, "the viewer",
             ignore=(OSError,))
    got = (get({}), get({"Authorization": "Bearer " + token}), get({"Authorization": basic}),
           get({"Authorization": "Bearer " + token[:-1]}))
    stop(viewer)
    print("  viewer with VIEWER_TOKEN and VIEWER_AUTH_USER/VIEWER_AUTH_PASSWORD_FILE: "
          "no secret %d, the token %d, HTTP basic %d, a wrong token %d" % got)
    assert got == (401, 200, 200, 401), got
    line = read(viewer.log).splitlines()[0]
    assert token not in line and view_pw not in line and "VIEWER_TOKEN" in line, line


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


def cmdline(pid, full=False):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            text = f.read().replace(b"\0", b" ").decode(errors="replace")
            return text if full else text[:100]
    except OSError:
        return "?"


def start_demo(ctx, name, args=(), **env_extra):
    """bash pipelines/demo --no-build ARGS with a free VIEWER_PORT; returns
    (process, log, port) once it printed its viewer URL."""
    if os.environ.get("E2E_HAVE_WEBSOCKET") == "0":
        raise AssertionError("websocketsink is not built: the demo needs it")
    port = free_port()
    pidfile = os.path.join(ctx.tmp, name + ".pids")
    log = os.path.join(ctx.tmp, name + ".log")
    env = dict(os.environ, VIEWER_PORT=str(port), DEMO_PID_FILE=pidfile,
               BUILDDIR=os.environ.get("E2E_BUILD_DIR", os.path.join(TOP, "build")),
               WIDTH="640", HEIGHT="480")
    env.update(env_extra)
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "GST_PLUGIN_PATH"):
        env.pop(k, None)
    demo = spawn(["bash", os.path.join(PIPELINES, "demo"), "--no-build"] + list(args), log, env,
                 cwd=TOP)
    ctx.demo_pidfiles.append(pidfile)
    wait_for(lambda: "\nViewer:   " in read(log) or demo.poll() is not None, 90,
             "the demo to print the viewer URL")
    assert demo.poll() is None, "demo exited with %s:\n%s" % (demo.returncode, read(log))
    print("  " + read(log).replace("\n", "\n  ").rstrip())
    demo.pidfile = pidfile
    return demo, log, port


def demo_processes(demo):
    """(the demo's process tree, {name: pid} it recorded, its temp dir)"""
    tree = descendants(demo.pid)
    recorded = {}
    for line in read(demo.pidfile).splitlines():
        name, value = line.split(" ", 1)
        recorded[name] = value
    tmpdir = recorded.pop("tmpdir")
    started = {name: int(pid) for name, pid in recorded.items()}
    assert set(started) >= {"redis", "producer", "processor", "viewer"}, started
    assert all(p in tree for p in started.values()), (started, tree)
    assert os.path.isdir(tmpdir), tmpdir
    print("  demo pid %d, %d processes below it: %s" % (
        demo.pid, len(tree), ", ".join("%s=%d" % kv for kv in started.items())))
    return tree, started, tmpdir


def stop_demo(demo, log, port, tree, started, tmpdir):
    """SIGTERM: exit 0, nothing it started left, its temp dir gone, the
    viewer port closed."""
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


def demo_start_stop(ctx):
    demo, log, port = start_demo(ctx, "demo")
    url = "http://127.0.0.1:%d/" % port
    assert ("Viewer:   " + url) in read(log), read(log)
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
    stop_demo(demo, log, port, *demo_processes(demo))


def demo_output(log, pattern):
    m = re.search(pattern, read(log))
    assert m, "the demo did not print %r:\n%s" % (pattern, read(log))
    return m.group(1)


def https_get(url, ca, token=None, timeout=5):
    """(status, body) of a GET over HTTPS verified against the CA file ca;
    an HTTP error status is returned, a TLS or connection error raised."""
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token}
                                 if token else {})
    ctx = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def demo_tls(ctx):
    """pipelines/demo --tls: Redis on TLS only with client certificates and
    one ACL user per stage, the viewer over HTTPS with a token; Chromium
    trusting the demo's CA draws H.264 frames of both cameras; no password
    nor the token on any command line; everything gone after SIGTERM."""
    browser.prepare("e2e")
    demo, log, port = start_demo(ctx, "demo-tls", ["--tls", "--cameras", "2"],
                                 VIEWER_MODE="h264", WIDTH="320", HEIGHT="240", FPS="15")
    tree, started, tmpdir = demo_processes(demo)
    url = demo_output(log, r"\nViewer:   (https://127\.0\.0\.1:%d/\?token=[0-9a-f]{32})\n" % port)
    token = url.rsplit("=", 1)[1]
    ca = demo_output(log, r"throw-away CA (\S+/ca\.crt)")
    spki = demo_output(log, r"--ignore-certificate-errors-spki-list=(\S+) ")
    rport = int(demo_output(log, r"TLS only on 127\.0\.0\.1:(\d+),"))
    tls_dir = os.path.dirname(ca)
    secrets = os.path.join(tmpdir, "secrets")

    # the viewer: HTTPS verified against the CA, the token or 401
    status, body = https_get("https://127.0.0.1:%d/" % port, ca, token)
    assert status == 200 and b"<html" in body.lower(), (status, body[:200])
    status, _ = https_get("https://127.0.0.1:%d/" % port, ca)
    assert status == 401, "without the token: %d" % status
    status, _ = https_get("https://127.0.0.1:%d/ws" % port, ca, "0" * 32)
    assert status == 401, "a wrong token at /ws: %d" % status
    other = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                            os.path.join(ctx.tmp, "other.key"), "-out",
                            os.path.join(ctx.tmp, "other.crt"), "-days", "1", "-subj",
                            "/CN=another CA"], capture_output=True)
    assert other.returncode == 0, other.stderr
    try:
        https_get("https://127.0.0.1:%d/" % port, os.path.join(ctx.tmp, "other.crt"), token)
        raise AssertionError("a client trusting another CA accepted the viewer")
    except urllib.error.URLError as e:
        assert isinstance(e.reason, ssl.SSLCertVerificationError), e
        print("  a client trusting another CA: %s" % e.reason.verify_message)
    print("  viewer: 200 with the token over HTTPS, 401 without it and with a wrong one")

    # Redis: TLS only, client certificate, one user per stage
    def client(**kw):
        return redis.Redis(host="127.0.0.1", port=rport, socket_timeout=5, **kw)
    tls_kw = dict(ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required",
                  ssl_certfile=os.path.join(tls_dir, "stages.crt"),
                  ssl_keyfile=os.path.join(tls_dir, "stages.key"))
    refused = {}
    for what, kw in (("plain TCP", {}),
                     ("TLS without a client certificate",
                      dict(ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")),
                     ("TLS, the default user", tls_kw)):
        try:
            client(**kw).xlen("processed-frames")
            raise AssertionError("Redis answered %s" % what)
        except (redis.ConnectionError, redis.AuthenticationError, redis.ResponseError) as e:
            refused[what] = str(e).splitlines()[0][:90]
    print("  Redis refused: %s" % "; ".join("%s (%s)" % kv for kv in refused.items()))

    def password(user):
        return read(os.path.join(secrets, user + ".password")).strip()
    monitor = client(username="monitor", password=password("monitor"), **tls_kw)
    n1 = wait_for(lambda: monitor.xlen("processed-frames-2"), 20, "processed frames")
    wait_for(lambda: monitor.xlen("processed-frames-2") > n1, 10, "processed-frames-2 to grow")
    producer = client(username="producer", password=password("producer"), **tls_kw)
    try:
        producer.xrange("video-frames", count=1)
        raise AssertionError("the producer's user can read video-frames")
    except redis.exceptions.NoPermissionError:
        pass
    secrets_list = [password(u) for u in ("producer", "processor", "viewer", "display",
                                          "monitor")] + [token]
    for pid in tree:
        cmd = cmdline(pid, full=True)
        assert not any(x in cmd for x in secrets_list), \
            "a secret on the command line of %d: %s" % (pid, cmd[:200])
    print("  processed-frames-2 grows (as user monitor); the producer's user cannot read;"
          " no password nor the token on the command line of the %d processes" % len(tree))

    # Chromium trusting the demo's CA: a secure page, both cameras drawn
    seen = browser.open_wall(url, os.path.join(ctx.tmp, "demo-tls-browser.log"), spki=spki,
                             seconds=5, cameras=2)
    cams = {k: {x: v[x] for x in ("frames", "received", "codec", "unsupported")}
            for k, v in seen["cameras"].items()}
    print("  chromium: status %s, secure %s, webcodecs %s, cameras %s" % (
        seen["status"], seen.get("secure"), seen.get("webcodecs"), cams))
    assert seen["status"] == 200 and seen["secure"] and seen["webcodecs"], seen
    assert set(cams) == {"camera-1", "camera-2"}, cams
    for name, c in seen["cameras"].items():
        assert c["codec"] == "h264" and c["unsupported"] is None, (name, c)
        assert len(c["drawn"]) >= 15, "%s: %d frames drawn in 5 s" % (name, len(c["drawn"]))
    assert not seen["page_errors"], seen["page_errors"]
    # each stage's user has every right it uses (docs/security.md's
    # recipes): no command refused in any stage's output
    refusals = []
    for name in sorted(os.listdir(tmpdir)):
        if name.endswith(".log"):
            for line in read(os.path.join(tmpdir, name)).splitlines():
                if "NOPERM" in line or "does not let this user" in line:
                    refusals.append("%s: %s" % (name, line[:240]))
    assert not refusals, "\n".join(refusals)
    stop_demo(demo, log, port, tree, started, tmpdir)


def cleanup_demo(ctx):
    """After each case: stop what a demo recorded and is still running, by
    PID, and remove its temp dir."""
    for pidfile in ctx.demo_pidfiles:
        for line in read(pidfile).splitlines():
            name, value = line.split(" ", 1)
            if name != "tmpdir" and alive(int(value)):
                try:
                    os.killpg(int(value), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            elif name == "tmpdir":
                shutil.rmtree(value, ignore_errors=True)
    ctx.demo_pidfiles = []


CASES = [("pipeline_in_order", pipeline_in_order),
         ("two_processors_share", two_processors_share),
         ("three_processors_in_order", three_processors_in_order),
         ("monitor_once", monitor_once),
         ("stage_secrets", stage_secrets),
         ("demo_start_stop", demo_start_stop),
         ("demo_tls", demo_tls)]


def main():
    ctx = cases.Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-e2e.")
    ctx.readers = []
    ctx.demo_pidfiles = []
    ctx.after_case = lambda: cleanup_demo(ctx)
    result = (0, 1, 0)
    try:
        ctx.redis = RedisServer(ctx.tmp, unix=True)
        ctx.sock = ctx.redis.sock
        ctx.r = ctx.redis.client()
        result = cases.run(CASES, ctx, sys.argv[1:], "e2e")
    except Exception:
        traceback.print_exc(file=sys.stdout)
    finally:
        for rd in ctx.readers:
            rd.done.set()
        stop_all()
        cleanup_demo(ctx)
        if result[1]:
            for f in sorted(os.listdir(ctx.tmp)):
                if f.endswith(".log") and f != "redis.log":
                    print("--- %s (end):\n    %s" % (f, "\n    ".join(
                        read(os.path.join(ctx.tmp, f)).splitlines()[-8:])))
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    return cases.summary(*result)


if __name__ == "__main__":
    sys.exit(main())
