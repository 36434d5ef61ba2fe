"""Shared helpers of the process-level reliability and security tests.

Every process (redis-server, gst-launch-1.0, helper scripts) is started in its
own session (process group) and recorded; stop_all() kills every recorded
group by PID, also when a test fails. Nothing here is killed by name.
"""

import os
import shutil
import sys

import lz4.frame
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
GST_LAUNCH = shutil.which("gst-launch-1.0") or "gst-launch-1.0"
PYTHON = "/usr/bin/python3"
CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=30/1"

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pylib"))
import cases as cases_runner  # noqa: E402
from procs import free_port, gst_env, read, spawn, stop, stop_all, wait_for  # noqa: E402,F401
from redisserver import RedisServer  # noqa: E402,F401
import wire  # noqa: E402


def launch(pipeline, log, *opts, env=None):
    """gst-launch-1.0 with a pipeline string (split on spaces, no quoting)."""
    return spawn([GST_LAUNCH] + list(opts) + pipeline.split(), log, env or gst_env())


def number(fields, name):
    v = fields.get(name.encode())
    if v is None:
        return None
    assert v.isdigit() and len(v) <= 20 and int(v) < 2 ** 64, (name, v)
    return int(v)


def decode(r, stream, fields):
    """An entry of @stream per docs/wire-format.md ("Reading with redis-py")."""
    assert b"data" in fields, fields.keys()
    caps = wire.entry_caps(r, stream, fields)
    encoding = fields.get(b"encoding", b"none")
    assert encoding in (b"lz4", b"none"), encoding
    data = fields[b"data"]
    size = number(fields, "size")
    payload = lz4.frame.decompress(data) if encoding == b"lz4" else data
    assert size is None or len(payload) == size
    return {"seq": number(fields, "seq"), "caps": caps,
            "capture_time": number(fields, "capture-time"), "payload": payload}


def stream_seqs(r, stream, decode_payload=False):
    """The seq of every entry of a stream, in stream order."""
    seqs = []
    last = "-"
    while True:
        entries = r.xrange(stream, min=last, max="+", count=500)
        if last != "-" and entries:
            entries = entries[1:] if entries[0][0].decode() == last else entries
        if not entries:
            break
        for eid, fields in entries:
            if decode_payload:
                seqs.append(decode(r, stream, fields)["seq"])
            else:
                seqs.append(number(fields, "seq"))
        last = entries[-1][0].decode()
    return seqs


def xlen(r, stream):
    try:
        return r.xlen(stream)
    except redis.ResponseError:
        return 0


def group_info(r, stream, group):
    try:
        for g in r.xinfo_groups(stream):
            if g["name"].decode() == group:
                return g
    except redis.ResponseError:
        pass
    return None


def consumer_info(r, stream, group, consumer):
    try:
        for c in r.xinfo_consumers(stream, group):
            if c["name"].decode() == consumer:
                return c
    except redis.ResponseError:
        pass
    return None


def errors_in(log_text):
    """gst-launch-1.0's ERROR lines ("ERROR: from element ...")."""
    return [l for l in log_text.splitlines() if l.startswith("ERROR")]


def run_cases(cases, argv):
    """Runs the selected cases (argv: substrings of names), prints
    "N passed, N failed" last and returns the exit status."""
    return cases_runner.run_cases(cases, argv, "rel", stop_all)


def install_signal_handlers():
    """meson test sends SIGTERM on timeout: stop what we started first."""
    cases_runner.install_signal_handlers(stop_all)
