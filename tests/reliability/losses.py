#!/usr/bin/python3
"""Frames lost to trimming, counted across restarts of a reader; no false
alarm after a restart of Redis; moves of a group (XGROUP SETID) seen.

Every case starts its own redis-server and its processes (redisstreamsink in
gst-launch-1.0, redisstreamsrc in tests/reliability/gstrun.py, which reports
the seq of every frame it pushed and its stats), and an independent redis-py
reader (`Audit`: its own consumer group, NOACK, reading every entry as it
comes) that records the seq of every entry the stream held. What a reader
missed is what the independent reader saw and the reader never pushed.

  restart_behind     a reader of a maxlen=30 stream at 30 fps stops for 8 s
                     and starts again in the same group: it counts the
                     entries trimmed meanwhile (trimmed-unread, exactly the
                     seqs it never got) and warns, naming the producer's
                     maxlen and the time span.
  long_gap           the same with a 30 s gap on a maxlen=100 stream at 60 fps,
                     the restarted reader's first read held 50 ms behind its
                     look (by a relay): the frames trimmed in between counted.
  look_race          entries trimmed between the reader's look at its group and
                     the read behind it (a relay between the reader and Redis
                     adds them there: at start, and after a light look while
                     reading), and between the look's XINFO GROUPS and XINFO
                     STREAM: every one counted, none twice.
  aof_restart        redis-server --appendonly yes (rewritten automatically
                     at 64 MB) restarted mid-stream: the reader reconnects,
                     gets every frame, and counts nothing (no false alarm;
                     Redis brought back an older entries-read).
  bgrewriteaof       the same after an explicit BGREWRITEAOF, then a restart.
  trimming_named     a reader restarted behind each of the sink's three ways
                     of trimming (maxlen, retention, max-bytes) warns naming
                     that bound, as the sink publishes it in <stream>:info;
                     with a writer that does not publish it, it says so.
  setid_dollar       XGROUP SETID <group> $ while the reader is stopped: it
                     warns that the group moved forward, with the number of
                     entries skipped (exactly those it never got).
  setid_zero         XGROUP SETID <group> 0 after the reader read 91 frames:
                     it warns that the group moved back, counts the 91 frames
                     read again (replayed), and says when the replay is over.

Arguments select cases by substring. The last line is "N passed, N failed".
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (PYTHON, RedisServer, gst_env, group_info,  # noqa: E402
                    install_signal_handlers, launch, read, run_cases, spawn, stop,
                    wait_for)
from resprelay import RespRelay  # noqa: E402

import redis  # noqa: E402

GSTRUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gstrun.py")


def caps(w=320, h=240, fps=30):
    return "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1" % (w, h, fps)


class Audit(threading.Thread):
    """The independent reader: a consumer group of its own (NOACK), every
    entry recorded as id -> seq as soon as it is added (a read at most
    100 ms after the last, so it never falls behind a stream of 30
    entries). It reads again after Redis restarted."""

    def __init__(self, server, stream):
        super().__init__(daemon=True)
        self.server = server
        self.stream = stream
        self.seqs = {}
        self.done = threading.Event()
        self.errors = 0
        server.client().xgroup_create(stream, "audit", id="$", mkstream=True)

    def run(self):
        r = None
        while not self.done.is_set():
            try:
                if r is None:
                    r = self.server.client(socket_timeout=5)
                got = r.xreadgroup("audit", "a1", {self.stream: ">"}, count=1000,
                                   block=100, noack=True)
                for _, entries in got or []:
                    for eid, fields in entries:
                        if fields and b"seq" in fields:
                            self.seqs[eid.decode()] = int(fields[b"seq"])
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                # Redis restarting (LOADING, refused): read again shortly
                self.errors += 1
                r = None
                time.sleep(0.05)    # not a poll of a condition: a retry pace

    def finish(self):
        time.sleep(0.3)     # not a poll: its last read takes what is left
        self.done.set()
        self.join(10)
        return self.seqs


def producer(server, tmp, stream, n, extra, name="producer", w=320, h=240, fps=30):
    pipe = ("videotestsrc is-live=true num-buffers=%d ! %s ! redisstreamsink port=%d "
            "stream=%s %s" % (n, caps(w, h, fps), server.port, stream, extra))
    return launch(pipe, os.path.join(tmp, name + ".log"))


def reader(server, tmp, stream, name, *args, group="viewer", consumer="v1", timeout=60,
           port=None):
    """redisstreamsrc in gstrun.py: the seq of every frame it pushes, its
    stats, warnings and infos. port: another way to the server's port."""
    desc = ("redisstreamsrc name=src port=%d stream=%s group=%s consumer=%s ! "
            "fakesink name=fs sync=false signal-handoffs=true"
            % (port or server.port, stream, group, consumer))
    return spawn([PYTHON, GSTRUN, desc, "--stats", "src", "--offsets", "fs",
                  "--timeout", str(timeout)] + list(args),
                 os.path.join(tmp, name + ".log"),
                 env=gst_env(GST_DEBUG="redisstreamsrc:5"), stdout=subprocess.PIPE)


def result(p, timeout=120):
    out, _ = p.communicate(timeout=timeout)
    lines = [l for l in out.decode().splitlines() if l.startswith("{")]
    assert lines, "%s printed no result:\n%s" % (p.cmd, read(p.log)[-3000:])
    res = json.loads(lines[-1])
    stop(p)
    return res


def stat(res, field):
    m = re.search(r"\b%s=\([a-z0-9]+\)([^,;]+)" % re.escape(field), res["stats"]["src"])
    assert m, "no %s in %s" % (field, res["stats"]["src"])
    return int(m.group(1))


def messages(res, kind="warnings"):
    return [w["message"] for w in res[kind]]


def wait_group(r, stream, group, procs):
    def ok():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError("%s exited early:\n%s" % (p.cmd, read(p.log)[-3000:]))
        return group_info(r, stream, group) is not None
    wait_for(ok, 30, "group %s on %s" % (group, stream))


def check_exact(res, missed, what, held=0):
    """trimmed-unread is exactly the frames the reader never got, with the
    pending entries found deleted at start (skipped-deleted): those never
    pushed, and @held pushed before the stop but left pending (the frame
    fakesink's last sample held, acknowledged once its fate is known)."""
    trimmed, deleted = stat(res, "trimmed-unread"), stat(res, "skipped-deleted")
    assert trimmed > 0, "%s: nothing counted, %d frames missed" % (what, len(missed))
    assert trimmed + deleted == len(missed) + held, (
        "%s: trimmed-unread %d + skipped-deleted %d, but the reader never got %d frames "
        "(seqs %s..%s) and %d were pushed and left pending at the stop" % (
            what, trimmed, deleted, len(missed), missed[:3], missed[-3:], held))
    return trimmed, deleted


def hold_read_after_look(seconds):
    """A RespRelay hook: the first read of new entries behind a full look
    (XINFO STREAM) goes on @seconds after Redis answered the look, so the
    producer's XADDs, and their trimming, come in between."""
    held = []

    def hook(conn, args):
        name = b" ".join(args[:2]).upper()
        if name == b"XINFO STREAM":
            conn["full"] = True
        elif args[0].upper() == b"XREADGROUP" and args[-1] == b">":
            if conn.pop("full", False) and not held:
                held.append(True)
                return lambda: time.sleep(seconds)
        return None
    hook.held = held
    return hook


def stop_and_restart(tmp, name, stream, n, maxlen_extra, run1_s, gap_s, w=320, h=240, fps=30,
                     hold=0):
    """A reader reads for run1_s, is away for gap_s, and reads on in the
    same group (same consumer) until the producer's last frame; with
    @hold, through a RespRelay that holds its first read behind the look
    at start that long. Returns the audit's seqs, both results and the
    frames never pushed."""
    server = RedisServer(tmp, name="redis-" + name)
    r = server.client()
    audit = Audit(server, stream)
    audit.start()
    run1 = reader(server, tmp, stream, name + "-run1", timeout=run1_s + 1)
    wait_group(r, stream, "viewer", [run1])
    prod = producer(server, tmp, stream, n, maxlen_extra, name=name + "-producer", w=w, h=h,
                    fps=fps)
    res1 = result(run1)
    t_stop = time.monotonic()
    g = group_info(r, stream, "viewer")
    # entries left pending at the stop, with their seqs while they are there
    pending = [e["message_id"] for e in r.xpending_range(stream, "viewer", "-", "+", 100)]
    held = set()
    for eid in pending:
        for _, fields in r.xrange(stream, eid, eid):
            held.add(int(fields[b"seq"]))
    time.sleep(gap_s)   # not a poll: the time no reader of the group runs
    relay = None
    if hold:
        relay = RespRelay(server.port, hold_read_after_look(hold))
        relay.start()
    run2 = reader(server, tmp, stream, name + "-run2", "--until-offset", "fs=%d" % (n - 1),
                  timeout=n / fps + 60, port=relay and relay.port)
    res2 = result(run2, timeout=n / fps + 90)
    gap = time.monotonic() - t_stop
    if relay:
        relay.stop()
        assert not relay.errors and relay.hook.held, (relay.errors, relay.hook.held)
    assert prod.wait(60) == 0, read(prod.log)[-3000:]
    seqs = audit.finish()
    info = r.hget(stream + ":info", "retention")
    server.stop()
    assert sorted(seqs.values()) == list(range(n)), \
        "the independent reader did not see seqs 0..%d (%d)" % (n - 1, len(seqs))
    assert res2["result"] == "offset", "run 2 did not get the last frame: %s" % res2["result"]
    received = set(res1["offsets"]["fs"]) | set(res2["offsets"]["fs"])
    missed = sorted(set(range(n)) - received)
    print("%s: %d frames; run 1 pushed %d (group at %s when it stopped, entries-read %s), "
          "away %.1f s; run 2 pushed %d; never pushed %d (seqs %s..%s); <stream>:info "
          "retention %r" % (name, n, len(res1["offsets"]["fs"]), g["last-delivered-id"].decode(),
                            g["entries-read"], gap, len(res2["offsets"]["fs"]), len(missed),
                            missed[:1], missed[-1:], info))
    assert stat(res1, "trimmed-unread") == 0, res1["stats"]["src"]
    # pushed by run 1, left pending, and not read again by run 2: trimmed
    # while no reader ran, counted in skipped-deleted
    res2["held"] = len((held & set(res1["offsets"]["fs"])) - set(res2["offsets"]["fs"]))
    print("%s: pending at the stop %s (seqs %s), pushed before it and trimmed since: %d" % (
        name, [x.decode() for x in pending], sorted(held), res2["held"]))
    return res1, res2, missed, info


def restart_behind(tmp):
    n = 600
    res1, res2, missed, info = stop_and_restart(tmp, "restart8", "cam", n, "maxlen=30",
                                                run1_s=5, gap_s=8)
    trimmed, deleted = check_exact(res2, missed, "8 s stop", res2["held"])
    ms = stat(res2, "trimmed-unread-ms")
    warned = [w for w in messages(res2) if "missed %d frames" % trimmed in w]
    print("restart_behind: trimmed-unread %d, skipped-deleted %d, trimmed-unread-ms %d; "
          "warning: %s" % (trimmed, deleted, ms, warned[:1]))
    assert missed == list(range(missed[0], missed[-1] + 1)), "missed frames not one gap"
    assert info == b"maxlen 30", info
    assert warned and "by count (the producer's maxlen=30)" in warned[0] and \
        "while no reader of the group was running" in warned[0], messages(res2)
    # the time span: the missed frames' ids, 33 ms apart
    assert 25 * trimmed <= ms <= 45 * (trimmed + 2), (ms, trimmed)


def long_gap(tmp):
    fps, n = 60, 60 * 40
    # the read behind the look at start held 50 ms (3 frames): Redis runs
    # the producer's XADD MAXLEN between the look and the read, as it may
    # do unheld when the reader's commands come in two writes
    res1, res2, missed, info = stop_and_restart(tmp, "gap30", "cam", n, "maxlen=100",
                                                run1_s=4, gap_s=30, w=160, h=120, fps=fps,
                                                hold=0.05)
    trimmed, deleted = check_exact(res2, missed, "30 s gap", res2["held"])
    ms = stat(res2, "trimmed-unread-ms")
    print("long_gap: trimmed-unread %d, skipped-deleted %d, trimmed-unread-ms %d (%.1f s)"
          % (trimmed, deleted, ms, ms / 1000))
    assert trimmed > 1000, trimmed
    # the gap found at start, with its time span; frames trimmed after that
    # look and before the first read come at once in a warning of their
    # own. Frames trimmed later still, while the reader catches up from the
    # oldest entry, are counted too (the total is exact, above), but warned
    # about at most every 10 s: those of the last 10 s may be in none.
    at_start = [int(m.group(1)) for w in messages(res2) for m in [re.search(
        r"missed (\d+) frames \(%.1f s of the stream\) while no reader" % (ms / 1000.0), w)] if m]
    later = [int(m.group(1)) for w in messages(res2) for m in [re.match(
        r"(\d+) frames of stream \"cam\" were trimmed before consumer group", w)] if m]
    assert len(at_start) == 1 and later and at_start[0] + sum(later) <= trimmed, (
        at_start, later, trimmed, messages(res2))


def aof_case(tmp, name, n, w, h, extra_args, rewrite, sink_extra=""):
    """A reader and the independent one while redis-server (AOF) is
    restarted; rewrite() runs before the restart (the AOF rewritten)."""
    stream = "cam"
    server = RedisServer(tmp, "--appendonly", "yes", "--appendfsync", "everysec", *extra_args,
                         name="redis-" + name)
    r = server.client()
    audit = Audit(server, stream)
    audit.start()
    rd = reader(server, tmp, stream, name + "-reader", "--until-offset", "fs=%d" % (n - 1),
                timeout=n / 30 + 60)
    wait_group(r, stream, "viewer", [rd])
    prod = producer(server, tmp, stream, n, "maxlen=100 on-disconnect=buffer max-buffered=1000 "
                    + sink_extra, name=name + "-producer", w=w, h=h)
    rewrite(r)
    time.sleep(2)       # not a poll: frames read after the rewrite
    before = group_info(r, stream, "viewer")
    t_down = time.monotonic()
    assert server.stop(signal.SIGTERM) == 0
    time.sleep(1)       # not a poll: an outage of 1 s
    server.start()
    r = server.client()
    after = group_info(r, stream, "viewer")
    print("%s: restarted after %.1f s down; group before: last-delivered-id %s entries-read %s "
          "lag %s; after (AOF loaded): %s, entries-read %s, lag %s" % (
              name, time.monotonic() - t_down, before["last-delivered-id"].decode(),
              before["entries-read"], before["lag"], after["last-delivered-id"].decode(),
              after["entries-read"], after["lag"]))
    res = result(rd, timeout=n / 30 + 90)
    assert prod.wait(60) == 0, read(prod.log)[-3000:]
    seqs = audit.finish()
    server.stop()
    got = set(res["offsets"]["fs"])
    assert sorted(set(seqs.values())) == list(range(n)), \
        "the independent reader did not see seqs 0..%d" % (n - 1)
    print("%s: the independent reader saw all %d seqs; the reader pushed %d frames (%d distinct), "
          "reconnects %d, trimmed-unread %d; warnings: %s" % (
              name, n, len(res["offsets"]["fs"]), len(got), stat(res, "reconnects"),
              stat(res, "trimmed-unread"), [m[:120] for m in messages(res)]))
    assert got == set(range(n)), "the reader missed %s" % sorted(set(range(n)) - got)[:20]
    assert stat(res, "reconnects") >= 1
    # no false alarm: nothing was lost, nothing is counted or warned about
    assert stat(res, "trimmed-unread") == 0, "a false alarm: %s" % messages(res)
    assert not [m for m in messages(res) if "trimmed" in m or "missed" in m], messages(res)
    assert stat(res, "trimmed-uncounted") == 0
    return before, after


def aof_restart(tmp):
    def auto_rewrite(r):
        # uncompressed 640x480 frames fill the 64 MB of
        # auto-aof-rewrite-min-size in 5 s
        wait_for(lambda: r.info("persistence")["aof_rewrites"] >= 1 and
                 not r.info("persistence")["aof_rewrite_in_progress"], 60,
                 "an automatic AOF rewrite")
    aof_case(tmp, "aof", 600, 640, 480, [], auto_rewrite, "compression=none")


def bgrewriteaof(tmp):
    def rewrite(r):
        time.sleep(3)   # not a poll: frames before the rewrite
        r.bgrewriteaof()
        wait_for(lambda: r.info("persistence")["aof_rewrites"] >= 1 and
                 not r.info("persistence")["aof_rewrite_in_progress"], 60,
                 "BGREWRITEAOF to finish")
    aof_case(tmp, "bgrewrite", 450, 320, 240, ["--auto-aof-rewrite-percentage", "0"], rewrite)


class Writer:
    """A writer that is not redisstreamsink: valid entries (docs/wire-format.md)
    with seqs 0, 1, ... and XADD MAXLEN maxlen (exact), from any thread;
    nothing in <stream>:info."""

    def __init__(self, server, stream, maxlen=30):
        self.r = server.client()
        self.stream, self.maxlen = stream, maxlen
        self.n = 0
        self.lock = threading.Lock()

    def add(self, count=1):
        with self.lock:
            for _ in range(count):
                self.r.xadd(self.stream, {"v": "1", "seq": str(self.n),
                                          "caps": "application/x-test", "data": b"x"},
                            maxlen=self.maxlen, approximate=False)
                self.n += 1


class PyWriter(threading.Thread):
    """Writer's entries, n of them at 30 entries/s."""

    def __init__(self, server, stream, n):
        super().__init__(daemon=True)
        self.w = Writer(server, stream)
        self.n = n

    def run(self):
        t0 = time.monotonic()
        for i in range(self.n):
            self.w.add()
            time.sleep(max(0, t0 + (i + 1) / 30 - time.monotonic()))   # 30 entries/s


def trimming_named(tmp):
    n = 240
    modes = [("maxlen=30", b"maxlen 30", "by count (the producer's maxlen=30)"),
             ("retention=1000", b"max-age 1000", "by age (the producer's retention=1000 ms)"),
             ("max-bytes=4000000 compression=none", b"max-bytes 4000000",
              "by size (the producer's max-bytes=4000000 bytes)")]
    for extra, value, phrase in modes:
        name = extra.split("=")[0]
        res1, res2, missed, info = stop_and_restart(tmp, name, "cam-" + name, n, extra,
                                                    run1_s=2, gap_s=3)
        trimmed, _ = check_exact(res2, missed, extra, res2["held"])
        warned = [w for w in messages(res2) if "missed" in w]
        print("trimming_named %s: <stream>:info retention %r; warning: %s" % (extra, info, warned))
        assert info == value, info
        assert warned and phrase in warned[0], (phrase, warned)
    # a writer that does not say how it trims
    server = RedisServer(tmp, name="redis-pywriter")
    r = server.client()
    r.xgroup_create("py", "viewer", id="$", mkstream=True)
    run1 = reader(server, tmp, "py", "py-run1", timeout=3)
    writer = PyWriter(server, "py", n)
    writer.start()
    result(run1)
    time.sleep(3)       # not a poll: no reader for 3 s
    run2 = reader(server, tmp, "py", "py-run2", "--until-offset", "fs=%d" % (n - 1), timeout=30)
    res2 = result(run2)
    writer.join(30)
    server.stop()
    warned = [w for w in messages(res2) if "missed" in w]
    print("trimming_named python writer: trimmed-unread %d; warning: %s"
          % (stat(res2, "trimmed-unread"), warned))
    assert stat(res2, "trimmed-unread") > 0
    assert warned and "by its writer, which does not say how (no \"retention\" field in " \
        "\"py:info\")" in warned[0], warned


def look_race(tmp):
    """Entries trimmed between the reader's look at its group and the read
    behind it (two commands of one pipeline, between which Redis may run
    the producer's XADD ... MAXLEN), made certain by a relay that adds the
    entries there: at start, after the full look that finds the group
    behind the oldest entry (5 entries), and twice while reading, after a
    light look (maxlen + 2 entries: the 2 the read jumps over; the second
    time within 10 s of the full look the first jump brought); and one
    entry between the full look's XINFO GROUPS and XINFO STREAM. Every
    entry trimmed unread is counted, none twice."""
    stream, maxlen = "cam", 30
    server = RedisServer(tmp, name="redis-race")
    r = server.client()
    w = Writer(server, stream, maxlen)
    # the group read seqs 0..9, then 60 more were added: 10..39 trimmed
    r.xgroup_create(stream, "viewer", id="$", mkstream=True)
    w.add(10)
    got = r.xreadgroup("viewer", "v1", {stream: ">"}, count=10)
    r.xack(stream, "viewer", *[eid for eid, _ in got[0][1]])
    w.add(60)
    added = {}

    def add(what, n):
        w.add(n)
        added[what] = (w.n - n, w.n - 1)

    def hook(conn, args):
        name = b" ".join(args[:2]).upper()
        if name == b"XINFO GROUPS":
            conn["look"] = "light"
        elif name == b"XINFO STREAM":
            conn["look"] = "full"
            if "skew" not in added:
                return lambda: add("skew", 1)
        elif args[0].upper() == b"XREADGROUP" and args[-1] == b">":
            look, conn["look"] = conn.get("look"), None
            if look == "full" and "full" not in added:
                return lambda: add("full", 5)
            if look == "light" and "full" in added and "light2" not in added:
                return lambda: add("light2" if "light" in added else "light", maxlen + 2)
        return None

    relay = RespRelay(server.port, hook)
    relay.start()
    last = 70 + 1 + 5 + 2 * (maxlen + 2) - 1
    rd = reader(server, tmp, stream, "race-reader", "--until-offset", "fs=%d" % last,
                timeout=60, port=relay.port)
    res = result(rd, timeout=90)
    relay.stop()
    server.stop()
    assert not relay.errors, relay.errors
    assert res["result"] == "offset", res
    missed = sorted(set(range(10, last + 1)) - set(res["offsets"]["fs"]))
    print("look_race: entries added by the relay (first and last seq): %s; the reader "
          "never got %d frames (%s); trimmed-unread %d; warnings: %s" % (
              added, len(missed), missed, stat(res, "trimmed-unread"),
              [m[:100] for m in messages(res)]))
    assert set(added) == {"skew", "full", "light", "light2"}, added
    # 10..40 (the skew entry trimmed 40), 41..45, and at least 2 after each
    # light look (more if the reader had not read all before it by then)
    first, second = added["light"][0], added["light2"][0]
    assert missed[:36] == list(range(10, 46)), missed
    assert {first, first + 1, second, second + 1} <= set(missed) <= \
        set(range(10, second + 2)), missed
    check_exact(res, missed, "look race")
    assert stat(res, "skipped-deleted") == 0
    assert any("missed 31 frames" in m for m in messages(res)), messages(res)
    assert any(m.startswith("5 frames of stream \"cam\" were trimmed") for m in messages(res)), \
        messages(res)


def setid_dollar(tmp):
    n, stream = 450, "cam"
    server = RedisServer(tmp)
    r = server.client()
    rd = reader(server, tmp, stream, "setid-reader", "--until-offset", "fs=%d" % (n - 1),
                timeout=n / 30 + 60)
    wait_group(r, stream, "viewer", [rd])
    prod = producer(server, tmp, stream, n, "maxlen=0")
    wait_for(lambda: (group_info(r, stream, "viewer")["entries-read"] or 0) >= 90, 30,
             "the reader to read 90 frames")
    os.killpg(rd.pid, signal.SIGSTOP)
    time.sleep(2)       # not a poll: 60 frames the stopped reader does not read
    before = group_info(r, stream, "viewer")["last-delivered-id"].decode()
    r.execute_command("XGROUP", "SETID", stream, "viewer", "$")
    after = group_info(r, stream, "viewer")["last-delivered-id"].decode()
    os.killpg(rd.pid, signal.SIGCONT)
    skipped_ids = [e[0].decode() for e in r.xrange(stream, "(" + before, after)]
    skipped = sorted(int(f[b"seq"]) for _, f in r.xrange(stream, "(" + before, after))
    res = result(rd, timeout=n / 30 + 90)
    assert prod.wait(60) == 0
    server.stop()
    got = set(res["offsets"]["fs"])
    never = sorted(set(range(n)) - got)
    warned = [w for w in messages(res) if "moved forward" in w]
    print("setid_dollar: XGROUP SETID viewer $ moved the group from %s to %s over %d entries "
          "(seqs %s..%s); the reader never got %d frames; warning: %s" % (
              before, after, len(skipped_ids), skipped[:1], skipped[-1:], len(never), warned))
    assert never == skipped, (never[:10], skipped[:10])
    assert warned and "from entry %s to %s" % (before, after) in warned[0] and \
        "(%d entries" % len(skipped) in warned[0], warned
    print("setid_dollar: group-moves %d, skipped-moved %d" % (stat(res, "group-moves"),
                                                            stat(res, "skipped-moved")))
    assert stat(res, "group-moves") == 1
    assert stat(res, "skipped-moved") == len(skipped)


def setid_zero(tmp):
    n, stream = 91, "cam"
    server = RedisServer(tmp)
    r = server.client()
    rd = reader(server, tmp, stream, "setid0-reader", "--until-offset", "fs=%d" % n, timeout=60)
    wait_group(r, stream, "viewer", [rd])
    prod = producer(server, tmp, stream, n, "maxlen=0")
    assert prod.wait(60) == 0
    last = r.xrevrange(stream, count=1)[0][0].decode()
    wait_for(lambda: group_info(r, stream, "viewer")["last-delivered-id"].decode() == last, 30,
             "the reader to read all %d frames" % n)
    time.sleep(1.5)     # not a poll: the reader waits at the stream's head
    r.execute_command("XGROUP", "SETID", stream, "viewer", "0")
    # it reads them all again, then one more frame ends the replay
    wait_for(lambda: group_info(r, stream, "viewer")["last-delivered-id"].decode() == last, 30,
             "the reader to read the stream again")
    r.xadd(stream, {"v": "1", "seq": str(n), "caps": caps(), "encoding": "none",
                    "data": b"\0" * (320 * 240 * 3 // 2)})
    res = result(rd)
    server.stop()
    offsets = res["offsets"]["fs"]
    back = [w for w in messages(res) if "moved back" in w]
    over = [w for w in messages(res, "infos") if "delivered a second time" in w]
    print("setid_zero: the reader pushed %d frames (seqs 0..%d twice: %s, then %d); "
          "warning: %s; info: %s" % (len(offsets), n - 1, offsets == list(range(n)) * 2 + [n],
                                     n, back, over))
    assert offsets == list(range(n)) * 2 + [n], offsets
    # seen at the first entry read again, or at the look that finds the
    # group at 0-0 if that comes first: one warning naming where it was
    assert len(back) == 1 and last in back[0], back
    assert over and "%d entries were delivered a second time" % n in over[0], over
    print("setid_zero: group-moves %d, replayed %d" % (stat(res, "group-moves"),
                                                      stat(res, "replayed")))
    assert stat(res, "group-moves") == 1
    assert stat(res, "replayed") == n


CASES = [restart_behind, long_gap, look_race, aof_restart, bgrewriteaof, trimming_named,
         setid_dollar, setid_zero]

if __name__ == "__main__":
    install_signal_handlers()
    sys.exit(run_cases(CASES, sys.argv[1:]))
