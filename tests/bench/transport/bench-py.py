#!/usr/bin/python3
"""The original design's Python path, for the transport benchmark.

    bench-py.py send|recv --frames-file F --width W --height H --k K
        --count M --port P --stream S --compression lz4|none
        [--mode live|closed --window N --progress FIFO --pids FILE --warmup W
         --lat-file FILE]
    bench-py.py proc --port P --stream S --out-stream S2 --group G
        --width W --height H [--maxlen N]

Sender: redis-py XADD of each frame in the format of docs/wire-format.md
(lz4.frame.compress for lz4). Receiver: XREADGROUP COUNT 1 BLOCK 1000, then
lz4.frame.decompress, then XACK. Same header, checks, progress FIFO, CPU
sampling and JSON output as bench-sender/bench-receiver (bench-common.c).
Processor (tests/bench/capacity): XREADGROUP COUNT 1 BLOCK 1000 from S,
lz4.frame.decompress when the entry says lz4, frameproc's motion step in
NumPy (tests/bench/common/motion_np.py) on the luma plane, XADD of the
entry to S2 (the same fields and payload, plus `meta` with the regions as
redisstreamsink writes them), then XACK; runs until SIGINT or SIGTERM.
Run it with /usr/bin/python3 (Debian's python3-redis, python3-lz4 and, for
proc, python3-numpy).
"""
import argparse
import json
import os
import select
import signal
import struct
import sys
import time

import lz4.frame
import redis

HEADER = 16


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["send", "recv", "proc"])
    for name, default in [("frames-file", None), ("progress", None),
                          ("pids", None), ("mode", "live"), ("host", "127.0.0.1"),
                          ("socket", None), ("stream", "bench"),
                          ("group", "bench"), ("compression", "lz4"),
                          ("lat-file", None), ("out-stream", None)]:
        p.add_argument("--" + name, default=default)
    for name, default in [("width", 640), ("height", 480), ("k", 30),
                          ("count", 100), ("window", 4), ("port", 6379),
                          ("maxlen", 100), ("warmup", 10), ("fps", 30),
                          ("idle-timeout", 10)]:
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    if a.warmup >= a.count:
        a.warmup = max(0, a.count - 2)
    return a


def load_frames(a):
    size = a.width * a.height * 3 // 2
    with open(a.frames_file, "rb") as f:
        data = f.read()
    assert len(data) == size * a.k, "frames file has the wrong size"
    return size, [data[i * size:(i + 1) * size] for i in range(a.k)]


def connect(a):
    if a.socket:
        return redis.Redis(unix_socket_path=a.socket)
    return redis.Redis(host=a.host, port=a.port)


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return -1


def read_progress(fd, timeout):
    """Newest count in the FIFO, waiting up to timeout s; None if none."""
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return None
    data = os.read(fd, 4096)
    while len(data) == 4096 and select.select([fd], [], [], 0)[0]:
        data = os.read(fd, 4096)
    n = len(data) // 8
    return struct.unpack_from("<Q", data, (n - 1) * 8)[0] if n else None


def send(a):
    size, frames = load_frames(a)
    r = connect(a)
    r.ping()
    fd = os.open(a.progress, os.O_RDWR)
    caps = "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1" % (
        a.width, a.height, a.fps)
    print("READY", flush=True)
    received = read_progress(fd, 30)
    if received is None:
        sys.exit("receiver did not start")
    period = 1.0 / a.fps
    t0 = time.monotonic()
    sent = late = 0
    max_late = 0.0
    for i in range(a.count):
        if a.mode == "live":
            delay = t0 + i * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            behind = time.monotonic() - (t0 + i * period)
            max_late = max(max_late, behind * 1e3)
            if behind > period:
                late += 1
        else:
            while i - received >= a.window:
                n = read_progress(fd, 10)
                if n is None:
                    sys.exit("no progress from the receiver")
                received = n
        n = read_progress(fd, 0)
        if n is not None:
            received = n
        t = time.time_ns()
        frame = struct.pack("<QQ", t, i) + frames[i % a.k][HEADER:]
        if a.compression == "lz4":
            payload, encoding = lz4.frame.compress(frame), "lz4"
        else:
            payload, encoding = frame, "none"
        r.xadd(a.stream, {
            "v": "1", "seq": str(i), "pts": str(int(i * period * 1e9)),
            "duration": str(int(period * 1e9)), "flags": "", "caps": caps,
            "capture-time": str(t), "encoding": encoding, "size": str(size),
            "data": payload}, maxlen=a.maxlen, approximate=True)
        sent += 1
    deadline = time.monotonic() + a.idle_timeout
    while received < a.count and time.monotonic() < deadline:
        n = read_progress(fd, 0.1)
        if n is not None:
            received = n
    print(json.dumps({"sent": sent, "copies": 0, "sink_ratio": 0,
                      "late": late, "max_late_ms": max_late, "failed": 0}),
          flush=True)


def recv(a):
    size, frames = load_frames(a)
    pids = []
    if a.pids:
        with open(a.pids) as f:
            for line in f:
                name, pid = line.split()
                pids.append((name, int(pid)))
    pids.append(("receiver", os.getpid()))
    fd = os.open(a.progress, os.O_RDWR | os.O_NONBLOCK)
    r = connect(a)
    try:
        r.xgroup_create(a.stream, a.group, id="0", mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise
    os.write(fd, struct.pack("<Q", 0))
    seen = bytearray(a.count)
    lat, received, bad, dups, idle = [], 0, 0, 0, 0
    all_frames = []   # (send, receive) ns per frame in arrival order
    cpu0 = cpu1 = None
    t_start = t_last = 0
    start_count = 0
    while received < a.count:
        reply = r.xreadgroup(a.group, "c", {a.stream: ">"}, count=1,
                             block=1000)
        now = time.time_ns()
        if not reply:
            idle += 1
            if idle >= (a.idle_timeout if received else 3 * a.idle_timeout):
                print("receiver: timed out", file=sys.stderr)
                break
            continue
        idle = 0
        entry_id, fields = reply[0][1][0]
        data = fields[b"data"]
        if fields.get(b"encoding") == b"lz4":
            data = lz4.frame.decompress(data)
        r.xack(a.stream, a.group, entry_id)
        if len(data) != size or int(fields[b"size"]) != size:
            bad += 1
            continue
        t, n = struct.unpack_from("<QQ", data)
        if n >= a.count:
            bad += 1
            continue
        if seen[n]:
            dups += 1
            continue
        seen[n] = 1
        if data[HEADER:] != frames[n % a.k][HEADER:]:
            bad += 1
            print("frame %d is not bit-exact" % n, file=sys.stderr)
        if received >= a.warmup:
            lat.append((now - t) / 1e6)
        all_frames.append((t, now))
        received += 1
        t_last = now
        try:
            os.write(fd, struct.pack("<Q", received))
        except BlockingIOError:
            pass
        if received == a.warmup + 1:
            cpu0 = [cpu_ticks(p) for _, p in pids]
            t_start, start_count = now, received
    if cpu0 is not None:
        cpu1 = [cpu_ticks(p) for _, p in pids]
    window = received - start_count if cpu0 is not None else 0
    secs = (t_last - t_start) / 1e9 if window else 0
    lat.sort()
    if a.lat_file:
        with open(a.lat_file, "w") as f:
            f.writelines("%d %d\n" % x for x in all_frames)

    def pct(q):
        return lat[int(q * (len(lat) - 1) + 0.5)] if lat else 0

    tick_ms = 1000.0 / os.sysconf("SC_CLK_TCK")
    cpu = {}
    for i, (name, _) in enumerate(pids):
        ok = window and cpu0[i] >= 0 and cpu1[i] >= 0
        cpu[name] = (cpu1[i] - cpu0[i]) * tick_ms if ok else -1
    print(json.dumps({
        "received": received, "bad": bad, "dups": dups, "meta_mismatch": 0,
        "meta_missing": 0, "window": window, "seconds": secs,
        "fps": window / secs if secs else 0, "p50": pct(0.5),
        "p95": pct(0.95), "p99": pct(0.99), "max": lat[-1] if lat else 0,
        "warmup": a.warmup, "cpu_ms": cpu}), flush=True)


def proc(a):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "common"))
    import numpy as np
    import motion_np
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    r = connect(a)
    try:
        r.xgroup_create(a.stream, a.group, id="0", mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise
    motion = motion_np.Motion()
    n_luma = a.width * a.height
    print("READY", flush=True)
    processed = 0
    try:
        while True:
            reply = r.xreadgroup(a.group, "p", {a.stream: ">"}, count=1,
                                 block=1000)
            if not reply:
                continue
            entry_id, fields = reply[0][1][0]
            data = fields[b"data"]
            if fields.get(b"encoding") == b"lz4":
                data = lz4.frame.decompress(data)
            luma = np.frombuffer(data, np.uint8, count=n_luma).reshape(
                a.height, a.width)
            _, regions = motion.process(luma)
            out = dict(fields)
            out.pop(b"meta", None)
            if regions:
                out[b"meta"] = json.dumps({"rois": [
                    {"type": "motion", "id": 0, "parent-id": 0, "x": x,
                     "y": y, "w": w, "h": h, "params": {"motion": {
                         "score": area / float(w * h), "area": area}}}
                    for x, y, w, h, area in regions]})
            r.xadd(a.out_stream, out, maxlen=a.maxlen, approximate=True)
            r.xack(a.stream, a.group, entry_id)
            processed += 1
    except KeyboardInterrupt:
        pass
    print(json.dumps({"processed": processed}), flush=True)


if __name__ == "__main__":
    args = parse()
    {"send": send, "recv": recv, "proc": proc}[args.role](args)
