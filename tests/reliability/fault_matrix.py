#!/usr/bin/python3
"""The fault matrix: what becomes of every input frame of a
processing stage (redisstreamsrc ! ... ! redisstreamsink) under faults, in
each delivery mode, against a real redis-server and real processes.

  fault_matrix.py [--smoke] [--modes at-least-once,exactly-once] [CASE...]

Modes: at-least-once (the defaults: ack-mode=done, exactly-once=false) and
exactly-once (the sinks' exactly-once=true); `--modes pushed` runs the
sources in ack-mode=pushed, the behaviour before the tracking, for
comparison (its rows never fail the run). Cases (a substring selects):

  kill-queue       SIGKILL of the stage at random points while a queue holds
                   frames (a stage slower than the producer behind it), then
                   a restart under the same consumer name
  kill-encoder     the same through x265enc (look-ahead, B-frames)
  kill-videorate   the same through videorate to half the rate (drops)
  kill-compositor  two sources mixed by compositor (which keeps no metas)
  kill-app         appsink -> Python application (a queue, a 40 ms model,
                   the meta copied) -> appsrc
  kill-tee         tee to two sinks (`out` and, slower, `out2`)
  lost-reply       the connection of the sink closed right after each 20th
                   XADD or script reached Redis, before its reply (a proxy)
  redis-restart    redis-server (appendonly yes, appendfsync always) killed
                   with SIGKILL and started again, twice
  flush            15 cycles of PAUSED, a flush from the source, PLAYING,
                   while frames keep coming; flush-queue: with a queue;
                   flush-outage: while the output Redis is down (at-least-
                   once only: exactly-once needs one server)
  poison-caps      among good entries, one with caps width=0 and one
                   image/jpeg, into videoconvert
  poison-raise     one entry the Python function (pyframeproc) raises on
  poison-crash     one entry the stage crashes on (SIGSEGV in the function),
                   three workers restarted when they die: set aside after
                   max-deliveries (5) deaths, the 92 entries behind it read

Every input frame is identified by its capture time, which the stage
keeps. For each case and mode the table counts the input frames
  missing         acknowledged but not in the output (checked at every kill;
                  through videorate: nor dropped by it, as its log says;
                  through compositor: acknowledged ahead of the newest
                  output's running time), or at the end neither in the
                  output, nor pending, nor set aside (nor dropped by
                  videorate)
  duplicated      in the output more than once
  dead-lettered   in the dead-letter stream (and the number expected)
Goal: 0 missing in every mode, 0 duplicated with exactly-once, exactly the
poison entries dead-lettered. --smoke runs a short selection (the suite's
test). Ends with "N passed, N failed"; a row off the goal is a failure.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (GST_LAUNCH, PYTHON, RedisServer, gst_env, read, spawn,  # noqa: E402
                    stop, stop_all, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
ACKPROC = os.path.join(HERE, "ackproc.py")
RAW = "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
FRAME = 320 * 240 * 3 // 2
MODES = ("at-least-once", "exactly-once")


class Row:
    def __init__(self, case, mode):
        self.case, self.mode = case, mode
        self.inputs = self.duplicated = self.dead = 0
        # input frames missing, by entry id (or (stream, seq))
        self.missing_ids = set()
        self.expected_dead = 0
        self.dup_measured = True
        self.notes = []
        self.error = None

    @property
    def missing(self):
        return len(self.missing_ids)

    def ok(self):
        if self.mode == "pushed":
            return True
        return (self.error is None and self.missing == 0 and
                self.dead == self.expected_dead and
                (self.mode != "exactly-once" or not self.dup_measured or
                 self.duplicated == 0))


# --- Redis state -------------------------------------------------------------

def entries(r, stream):
    out, last = [], "-"
    while True:
        batch = r.xrange(stream, min=last, max="+", count=1000)
        if last != "-" and batch and batch[0][0].decode() == last:
            batch = batch[1:]
        if not batch:
            return out
        out += [(eid.decode(), f) for eid, f in batch]
        last = batch[-1][0].decode()


def ctime(fields):
    v = fields.get(b"capture-time")
    return int(v) if v is not None else None


def group_state(r, stream, group="proc"):
    """(last delivered id as (ms, seq), set of pending ids)."""
    try:
        g = [x for x in r.xinfo_groups(stream) if x["name"].decode() == group]
    except Exception:
        return None, set()
    if not g:
        return None, set()
    last = g[0]["last-delivered-id"].decode()
    pend = {e["message_id"].decode() for e in
            r.xpending_range(stream, group, "-", "+", 100000)}
    return idkey(last), pend


def idkey(eid):
    ms, _, seq = eid.partition("-")
    return int(ms), int(seq or 0)


def acked(r, stream, group="proc"):
    """Entries of @stream the group read and acknowledged."""
    last, pend = group_state(r, stream, group)
    if last is None:
        return []
    return [(eid, f) for eid, f in entries(r, stream)
            if idkey(eid) <= last and eid not in pend]


def dead_ids(r, stream="in"):
    return [f[b"dead-letter-id"].decode() for _, f in entries(r, stream + ":dead-letter")]


# --- processes ---------------------------------------------------------------

class Stage:
    """One test run's redis-server, producer and processing stages."""

    def __init__(self, tmp, name, *redis_args):
        self.tmp = os.path.join(tmp, name)
        os.makedirs(self.tmp)
        self.redis = RedisServer(self.tmp, *redis_args)
        self.r = self.redis.client()
        self.n_proc = 0
        self.deaths = 0

    def produce(self, n, streams=("in",), wait=False):
        tee = "tee name=t " + " ".join(
            "t. ! queue ! redisstreamsink port=%d stream=%s maxlen=0 key-unit-requests=false"
            % (self.redis.port, s) for s in streams)
        cmd = [GST_LAUNCH, "-q", "videotestsrc", "is-live=true", "pattern=ball",
               "num-buffers=%d" % n, "!", RAW, "!"] + tee.split()
        p = spawn(cmd, os.path.join(self.tmp, "producer.log"), gst_env())
        if wait:
            assert p.wait(120) == 0, read(p.log)
        return p

    def proc(self, consumer, *args, port=None):
        self.n_proc += 1
        log = os.path.join(self.tmp, "%s-%d.log" % (consumer, self.n_proc))
        cmd = [PYTHON, ACKPROC, "--port", str(port or self.redis.port),
               "--consumer", consumer] + [str(a) for a in args]
        p = spawn(cmd, log, gst_env())
        p.consumer, p.args = consumer, args
        return p

    def wait_playing(self, p, timeout=30):
        wait_for(lambda: "playing" in read(p.log) or p.poll() is not None, timeout,
                 "the stage to play")
        assert p.poll() is None, "the stage exited:\n" + read(p.log)[-3000:]

    def wait_drained(self, procs, streams=("in",), timeout=90):
        """Until every entry of the input streams was read and acknowledged
        (dead letters included)."""
        def done():
            for p in procs:
                if p.poll() is not None:
                    raise AssertionError("a stage exited:\n" + read(p.log)[-3000:])
            for s in streams:
                last, pend = group_state(self.r, s)
                newest = self.r.xrevrange(s, count=1)
                if last is None or pend or not newest or \
                        idkey(newest[0][0].decode()) > last:
                    return False
            return True
        try:
            wait_for(done, timeout, "the stage to read and acknowledge everything",
                     interval=0.2)
        except AssertionError as e:
            state = {s: (self.r.xlen(s), group_state(self.r, s)) for s in streams}
            raise AssertionError("%s: %s" % (e, state)) from None

    def wait_read(self, procs, streams=("in",), timeout=90):
        """Until every entry of the input streams was delivered."""
        def done():
            for s in streams:
                last, _ = group_state(self.r, s)
                newest = self.r.xrevrange(s, count=1)
                if last is None or not newest or idkey(newest[0][0].decode()) > last:
                    return False
            return True
        wait_for(done, timeout, "the stage to read everything", interval=0.2)

    def settle(self, mode, streams=("out",), r=None):
        """ack-mode=pushed: every entry acknowledged does not mean every
        frame stored (a queue may still hold some): until the output
        streams stopped growing for 2 s, before the stage is stopped, so
        that the rows count what the faults lost, not the test's stop."""
        if mode != "pushed":
            return
        r = r or self.r
        state = {"lens": None, "since": time.monotonic()}

        def quiet():
            lens = [r.xlen(s) if r.exists(s) else 0 for s in streams]
            if lens != state["lens"]:
                state["lens"], state["since"] = lens, time.monotonic()
            return time.monotonic() - state["since"] >= 2.0
        wait_for(quiet, 60, "the output to stop growing", interval=0.2)

    def drain(self, p):
        """An EOS through the stage (ackproc.py's SIGUSR1), which exits."""
        os.killpg(p.pid, signal.SIGUSR1)
        assert p.wait(60) == 0, read(p.log)[-3000:]
        assert "eos" in read(p.log), read(p.log)[-3000:]


def sigkill(p):
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    stop(p)


def stage_args(mode, shape, extra=()):
    args = ["--shape", shape] + list(extra)
    if mode == "exactly-once":
        args.append("--exactly-once")
    if mode == "pushed":
        args += ["--ack-mode", "pushed"]
    return args


# --- accounting --------------------------------------------------------------

def count_output(row, r, inputs, streams=("out",), dead=()):
    """Final counts: each input (by capture time) in every output stream;
    missing unless in @dead (ids set aside, pending or dropped)."""
    by_ct = {ctime(f): eid for eid, f in inputs}
    dead = set(dead)
    for s in streams:
        seen = {}
        for _, f in entries(r, s):
            c = ctime(f)
            if c in by_ct:
                seen[c] = seen.get(c, 0) + 1
        row.duplicated += sum(1 for n in seen.values() if n > 1)
        row.missing_ids |= {eid for c, eid in by_ct.items()
                            if c not in seen and eid not in dead}


def check_acked_stored(row, r, out_streams=("out",)):
    """At a kill: every acknowledged input is in the output."""
    outs = set()
    for s in out_streams:
        outs |= {ctime(f) for _, f in entries(r, s)}
    dead = set(dead_ids(r))
    bad = {eid for eid, f in acked(r, "in") if eid not in dead and ctime(f) not in outs}
    if bad - row.missing_ids:
        row.notes.append("%d acknowledged but not stored at a kill"
                         % len(bad - row.missing_ids))
    row.missing_ids |= bad


def videorate_dropped(logs):
    """The seqs videorate (drop-only) dropped, by the log of the last
    process that read each: it entered videorate there and did not leave
    it. Drop-only decides on arrival and keeps nothing, so a frame that
    entered and did not leave was dropped (or was inside videorate's chain,
    for microseconds, when the process was killed)."""
    last = {}
    for log in logs:
        entered, left = {}, set()
        for line in read(log).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "in":
                entered[int(parts[1])] = int(parts[2])
            elif len(parts) == 2 and parts[0] == "out":
                left.add(int(parts[1]))
        for seq, pts in entered.items():
            last[seq] = pts not in left
    return {seq for seq, dropped in last.items() if dropped}


def check_videorate(row, r, logs):
    """At a kill of the videorate stage: every input acknowledged and not
    in the output was dropped by videorate on purpose (its frame can never
    be stored): the source acknowledges such a frame once nothing read
    after it can still be stored before it, also when nothing is in
    flight (a frame dropped right after the last one stored)."""
    outs = {ctime(f) for _, f in entries(r, "out")}
    dead = set(dead_ids(r))
    dropped = videorate_dropped(logs)
    bad = {eid for eid, f in acked(r, "in") if eid not in dead and ctime(f) not in outs
           and int(f[b"seq"]) not in dropped}
    if bad - row.missing_ids:
        row.notes.append("%d acknowledged, neither stored nor dropped by videorate, "
                         "at a kill" % len(bad - row.missing_ids))
    row.missing_ids |= bad


def check_compositor(row, stage, p, since):
    """At a kill of the compositor stage: the inputs it read and that are
    acknowledged came at or before the newest output it stored (running
    time), with one frame of slack."""
    outs = [int(f[b"pts"]) for eid, f in entries(stage.r, "out")
            if idkey(eid) > since and b"pts" in f]
    newest = max(outs, default=-1)
    acked_seqs = {(s, int(f[b"seq"])) for s in ("in", "in2")
                  for eid, f in acked(stage.r, s)}
    streams = {"sink_0": "in", "sink_1": "in2"}
    bad = set()
    for line in read(p.log_in).splitlines():
        _, pad, seq, rt = line.split()
        key = (streams[pad], int(seq))
        if key in acked_seqs and int(rt) > newest + 34_000_000:
            bad.add(key)
    row.missing_ids |= bad
    if bad:
        row.notes.append("%d acknowledged ahead of the output" % len(bad))


# --- the cases ---------------------------------------------------------------

SHAPES = {
    "kill-queue": ("queue", ("out",)),
    "kill-encoder": ("encoder", ("out",)),
    "kill-videorate": ("videorate", ("out",)),
    "kill-compositor": ("compositor", ("out",)),
    "kill-app": ("app", ("out",)),
    "kill-tee": ("tee", ("out", "out2")),
}
KILLS = {"kill-queue": 4, "kill-encoder": 4, "kill-videorate": 3, "kill-compositor": 3,
         "kill-app": 3, "kill-tee": 3}


def case_kill(tmp, case, mode, opts):
    shape, outs = SHAPES[case]
    kills = 1 if opts.smoke else KILLS[case]
    n = 150 + 90 * kills
    row = Row(case, mode)
    st = Stage(tmp, "%s-%s" % (case, mode))
    streams = ("in", "in2") if shape == "compositor" else ("in",)
    extra = []

    logs = []

    def start():
        args = stage_args(mode, shape, extra)
        if shape in ("compositor", "videorate"):
            log_in = os.path.join(st.tmp, "inputs-%d.log" % (st.n_proc + 1))
            args += ["--log", log_in]
            logs.append(log_in)
        p = st.proc("w1", *args)
        if shape == "compositor":
            p.log_in = log_in
            p.since = idkey(st.r.xrevrange("out", count=1)[0][0].decode()) \
                if st.r.exists("out") else (0, 0)
        st.wait_playing(p)
        return p

    for s in streams:
        st.r.xgroup_create(s, "proc", "$", mkstream=True)
    p = start()
    prod = st.produce(n, streams)
    if mode == "exactly-once" and shape == "tee":
        # two exactly-once outputs of one input cannot be one atomic step:
        # refused at the first frame
        wait_for(lambda: p.poll() is not None, 60, "the stage to refuse")
        assert "another exactly-once redisstreamsink" in read(p.log), read(p.log)[-3000:]
        row.dup_measured = False
        row.notes.append("refused with an error at the first frame, as documented")
        return row
    for k in range(kills):
        time.sleep(random.uniform(2.5, 4.0))
        sigkill(p)
        if shape == "compositor":
            check_compositor(row, st, p, p.since)
        elif shape == "videorate":
            check_videorate(row, st.r, logs)
        else:
            check_acked_stored(row, st.r, outs)
        p = start()
    assert prod.wait(120) == 0, read(prod.log)
    if shape in ("encoder", "compositor"):
        # they hold the last frames until more come, or an EOS
        st.wait_read([p], streams)
        st.drain(p)
    drained = p.poll() is not None
    st.wait_drained([] if drained else [p], streams, timeout=5 if drained else 90)
    st.settle(mode, outs)
    stop(p)
    inputs = entries(st.r, "in")
    row.inputs = len(inputs) + (len(entries(st.r, "in2")) if shape == "compositor" else 0)
    row.dead = len(dead_ids(st.r))
    if shape == "compositor":
        row.dup_measured = False
        row.notes.append("outputs mix two inputs: duplicates not attributable")
    elif shape == "videorate":
        dropped = videorate_dropped(logs)
        count_output(row, st.r, inputs, outs,
                     dead={eid for eid, f in inputs if int(f[b"seq"]) in dropped})
        row.notes.append("%d dropped by videorate" % len(dropped))
    else:
        count_output(row, st.r, inputs, outs)
    if shape == "tee" and mode == "exactly-once":
        row.notes.append("exactly-once on both sinks")
    row.notes.append("%d kills" % kills)
    return row


class LosingProxy(threading.Thread):
    """TCP proxy to Redis that closes the client's connection instead of
    passing on the reply to every @every-th XADD/EVALSHA/EVAL: the command
    reached Redis, its reply is lost."""

    def __init__(self, target_port, every):
        super().__init__(daemon=True)
        self.target, self.every = target_port, every
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.writes = 0
        self.lost = 0
        self.running = True

    def run(self):
        while self.running:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.target))
            state = {"drop": False}
            threading.Thread(target=self.up, args=(c, s, state), daemon=True).start()
            threading.Thread(target=self.down, args=(s, c, state), daemon=True).start()

    def up(self, c, s, state):
        try:
            while True:
                data = c.recv(1 << 16)
                if not data:
                    break
                if b"XADD" in data or b"EVALSHA" in data or b"\r\nEVAL\r\n" in data:
                    self.writes += 1
                    if self.writes % self.every == 0:
                        state["drop"] = True
                s.sendall(data)
        except OSError:
            pass
        finally:
            for x in (c, s):
                try:
                    x.close()
                except OSError:
                    pass

    def down(self, s, c, state):
        try:
            while True:
                data = s.recv(1 << 16)
                if not data:
                    break
                if state["drop"]:
                    self.lost += 1
                    break
                c.sendall(data)
        except OSError:
            pass
        finally:
            for x in (c, s):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                    x.close()
                except OSError:
                    pass

    def close(self):
        self.running = False
        self.listener.close()


def case_lost_reply(tmp, case, mode, opts):
    n = 120 if opts.smoke else 300
    row = Row(case, mode)
    st = Stage(tmp, "%s-%s" % (case, mode))
    proxy = LosingProxy(st.redis.port, 20)
    proxy.start()
    st.r.xgroup_create("in", "proc", "$", mkstream=True)
    p = st.proc("w1", *stage_args(mode, "plain", ["--sink-port", proxy.port]))
    st.wait_playing(p)
    prod = st.produce(n)
    assert prod.wait(120) == 0, read(prod.log)
    st.wait_drained([p])
    st.settle(mode)
    stop(p)
    proxy.close()
    inputs = entries(st.r, "in")
    row.inputs = len(inputs)
    row.dead = len(dead_ids(st.r))
    count_output(row, st.r, inputs)
    row.notes.append("%d replies lost" % proxy.lost)
    assert proxy.lost > 0, "no reply was lost"
    return row


def case_redis_restart(tmp, case, mode, opts):
    n = 240 if opts.smoke else 420
    row = Row(case, mode)
    st = Stage(tmp, "%s-%s" % (case, mode), "--appendonly", "yes", "--appendfsync", "always")
    st.r.xgroup_create("in", "proc", "$", mkstream=True)
    p = st.proc("w1", *stage_args(mode, "queue"))
    st.wait_playing(p)
    prod = st.produce(n)
    restarts = 1 if opts.smoke else 2
    for _ in range(restarts):
        time.sleep(random.uniform(2.0, 3.5))
        st.redis.stop(signal.SIGKILL)
        time.sleep(0.3)
        st.redis.start()
        st.r = st.redis.client()
    assert prod.wait(120) == 0, read(prod.log)
    st.wait_drained([p])
    st.settle(mode)
    stop(p)
    inputs = entries(st.r, "in")
    row.inputs = len(inputs)
    row.dead = len(dead_ids(st.r))
    count_output(row, st.r, inputs)
    row.notes.append("%d restarts (SIGKILL), a queue in the stage" % restarts)
    return row


def case_flush(tmp, case, mode, opts):
    cycles = 4 if opts.smoke else 15
    row = Row(case, mode)
    outage = case == "flush-outage"
    if outage and mode == "exactly-once":
        return None
    st = Stage(tmp, "%s-%s" % (case, mode))
    extra = ["--flush-cycles", cycles, "--flush-interval", 0.4, "--drain-s", 4]
    if case == "flush-queue":
        extra.append("--flush-queue")
    out = None
    if outage:
        out = RedisServer(st.tmp, "--appendonly", "yes", name="out")
        extra += ["--out-port", out.port]
    st.r.xgroup_create("in", "proc", "$", mkstream=True)
    p = st.proc("w1", *stage_args(mode, "plain", extra))
    st.wait_playing(p)
    prod = st.produce(int(30 * (cycles * 0.55 + 1)))
    if outage:
        time.sleep(cycles * 0.55 / 3)
        out.stop()
        time.sleep(cycles * 0.55 / 3)
        out.start()
    assert prod.wait(120) == 0, read(prod.log)
    assert p.wait(120) == 0, read(p.log)[-3000:]
    done = read(p.log).count("cycle ")
    assert done == cycles, "%d cycles of %d" % (done, cycles)
    # what is still pending is read again by the next start: not missing
    _, pend = group_state(st.r, "in")
    inputs = entries(st.r, "in")
    r_out = out.client() if out else st.r
    row.inputs = len(inputs)
    row.dead = len(dead_ids(st.r))
    count_output(row, r_out, inputs, dead=pend)
    row.notes.append("%d cycles, %d left pending for the next start" % (cycles, len(pend)))
    return row


def jpeg_frame():
    """One 320x240 JPEG, made by jpegenc."""
    path = tempfile.mktemp(suffix=".jpg")
    subprocess.run([GST_LAUNCH, "-q", "videotestsrc", "num-buffers=1", "!", RAW, "!",
                    "jpegenc", "!", "filesink", "location=" + path], check=True,
                   env=gst_env())
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    return data


def uniform_i420(luma):
    return bytes([luma]) * (320 * 240) + bytes([128]) * (320 * 240 // 2)


def raw_entry(seq, data, caps=RAW):
    return {"v": "1", "seq": str(seq), "pts": str(seq * 33_333_333),
            "duration": "33333333", "caps": caps,
            "capture-time": str(time.time_ns()), "size": str(len(data)), "data": data}


def write_poisoned(r, good, poison_at):
    """@good frames (from the producer's stream `src`) into `in`, with the
    poison entries (index -> fields) where @poison_at says; returns the
    ids of the poison entries. The producer writes version 2 entries,
    whose caps are in `src:info` by id: copied to `in:info` first."""
    frames = entries(r, "src")[:good]
    # the producer's entries are version 2 (the default): their caps ids
    # stand for caps in the producer's hash, which a writer of `in` stores
    # in `in:info` first (docs/wire-format.md)
    for field, caps in r.hgetall("src:info").items():
        if field.startswith(b"caps:"):
            r.hsetnx("in:info", field, caps)
    ids, seq = [], 0
    for i, (_, f) in enumerate(frames):
        if i in poison_at:
            ids.append(r.xadd("in", poison_at[i](seq)).decode())
            seq += 1
        f = dict(f)
        f[b"seq"] = str(seq).encode()
        f[b"capture-time"] = str(time.time_ns()).encode()
        r.xadd("in", f)
        seq += 1
    return ids


def model(tmp, text):
    path = os.path.join(tmp, "model.py")
    with open(path, "w") as f:
        f.write(text)
    return path


RAISING = """
def process(frame):
    if (frame == 3).all():
        raise ValueError("poison frame")
    return None
"""
CRASHING = """
import ctypes

def process(frame):
    if (frame == 5).all():
        ctypes.string_at(0)    # a segmentation fault, in this thread, now
    return None
"""


def case_poison(tmp, case, mode, opts):
    row = Row(case, mode)
    st = Stage(tmp, "%s-%s" % (case, mode))
    good = 60 if opts.smoke else 100
    st.produce(good, ("src",), wait=True)
    workers, extra = ["w1"], []
    if case == "poison-caps":
        jpeg = jpeg_frame()
        poison = {20: lambda s: raw_entry(s, uniform_i420(90),
                                          RAW.replace("width=320", "width=0")),
                  40: lambda s: raw_entry(s, jpeg, "image/jpeg,width=320,height=240,"
                                          "framerate=30/1")}
        shape = "convert"
    elif case == "poison-raise":
        poison = {30: lambda s: raw_entry(s, uniform_i420(3))}
        shape, extra = "pyframeproc", ["--model", model(st.tmp, RAISING)]
    else:
        # 8 good, the poison, the rest (92 with the full run) behind it
        poison = {8: lambda s: raw_entry(s, uniform_i420(5))}
        shape = "pyframeproc"
        extra = ["--model", model(st.tmp, CRASHING), "--claim", 500]
        workers = ["w1", "w2", "w3"]
    st.r.xgroup_create("in", "proc", "$", mkstream=True)
    procs = {w: st.proc(w, *stage_args(mode, shape, extra)) for w in workers}
    for p in procs.values():
        st.wait_playing(p)
    bad = write_poisoned(st.r, good, poison)
    row.expected_dead = len(bad)

    def done():
        for w, p in list(procs.items()):
            if p.poll() is not None:
                st.deaths += 1
                stop(p)
                time.sleep(0.5)
                procs[w] = st.proc(w, *stage_args(mode, shape, extra))
        last, pend = group_state(st.r, "in")
        newest = st.r.xrevrange("in", count=1)[0][0].decode()
        return last is not None and not pend and idkey(newest) <= last
    wait_for(done, 240, "every entry read and acknowledged", interval=0.3)
    st.settle(mode)
    for p in procs.values():
        stop(p)
    inputs = [(eid, f) for eid, f in entries(st.r, "in") if eid not in bad]
    row.inputs = len(inputs) + len(bad)
    dead = dead_ids(st.r)
    row.dead = len(dead)
    if sorted(dead) != sorted(bad):
        if mode == "pushed":
            # no tickets: what the pipeline drops is acknowledged as pushed
            row.notes.append("%d of %d poison entries set aside, the others "
                             "acknowledged as pushed" % (len(dead), len(bad)))
        else:
            row.error = "dead letters %s, poison entries %s" % (dead, bad)
    count_output(row, st.r, inputs)
    if case == "poison-crash":
        row.notes.append("%d deaths of workers (max-deliveries 5)" % st.deaths)
        if st.deaths > 5:
            row.error = "%d deaths: more than max-deliveries" % st.deaths
    reasons = {f[b"dead-letter-reason"].decode()[:40] for _, f in entries(st.r, "in:dead-letter")}
    if reasons:
        row.notes.append("reasons: %s" % "; ".join(sorted(reasons)))
    return row


CASES = [("kill-queue", case_kill), ("kill-encoder", case_kill), ("kill-videorate", case_kill),
         ("kill-compositor", case_kill), ("kill-app", case_kill), ("kill-tee", case_kill),
         ("lost-reply", case_lost_reply), ("redis-restart", case_redis_restart),
         ("flush", case_flush), ("flush-queue", case_flush), ("flush-outage", case_flush),
         ("poison-caps", case_poison), ("poison-raise", case_poison),
         ("poison-crash", case_poison)]
SMOKE = ("kill-queue", "kill-app", "lost-reply", "flush-queue", "poison-caps", "poison-crash")


def print_table(rows):
    print()
    print("| case | mode | input frames | missing | duplicated | dead-lettered (expected) | notes |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r.error:
            print("| %s | %s | | | | | ERROR: %s |" % (r.case, r.mode, r.error.splitlines()[0]))
            continue
        dup = r.duplicated if r.dup_measured else "-"
        print("| %s | %s | %d | %d | %s | %d (%d) | %s |" % (
            r.case, r.mode, r.inputs, r.missing, dup, r.dead, r.expected_dead,
            "; ".join(r.notes)))
    print(flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("cases", nargs="*")
    opts = ap.parse_args()
    seed = opts.seed if opts.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    print("seed %d" % seed, flush=True)
    selected = [(n, f) for n, f in CASES
                if (not opts.cases or any(c in n for c in opts.cases)) and
                (not opts.smoke or opts.cases or n in SMOKE)]
    tmp = tempfile.mkdtemp(prefix="fault-matrix-")
    rows, failed = [], 0
    try:
        for name, fn in selected:
            for mode in opts.modes.split(","):
                t0 = time.monotonic()
                print("=== %s, %s" % (name, mode), flush=True)
                try:
                    row = fn(tmp, name, mode, opts)
                except Exception as e:
                    import traceback
                    traceback.print_exc()
                    row = Row(name, mode)
                    row.error = "%s: %s" % (type(e).__name__, e)
                finally:
                    stop_all()
                if row is None:
                    print("  not applicable", flush=True)
                    continue
                rows.append(row)
                ok = row.ok()
                failed += not ok
                print("  %s (%.1f s): %d in, %d missing, %s duplicated, %d dead-lettered%s"
                      % ("PASS" if ok else "FAIL", time.monotonic() - t0, row.inputs,
                         row.missing, row.duplicated if row.dup_measured else "-", row.dead,
                         (": " + row.error) if row.error else ""), flush=True)
        print_table(rows)
    finally:
        stop_all()
        if not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("logs kept in %s" % tmp)
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
