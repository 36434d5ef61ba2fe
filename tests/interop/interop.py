#!/usr/bin/python3
"""Interoperability test of the Redis stream entry format.

Follows only docs/wire-format.md, with Debian's python3-redis and
python3-lz4 as the "other" Redis client:

  (a) redisstreamsink writes frames (compression none, lz4, auto; odd sizes)
      that this script reads with XRANGE and XREADGROUP, decodes and compares
      with the frames the same videotestsrc pipeline gives to an appsink;
  (b) this script writes frames (encoding none and LZ4 frames made with
      different lz4.frame options, ROI metadata, capture times) that
      redisstreamsrc plays into an appsink, checked bit for bit;
  (c) invalid entries are skipped, counted in the source's stats,
      acknowledged and left in the stream, while the valid entries around
      them still play: among them payloads that are not what their caps
      describe (raw video smaller than its picture, raw audio that is not
      whole frames, empty payloads) and seq 2^64 - 1;
  (d) seq: an entry without one plays without an offset, also through a
      reorder window, and a processing stage writes it on without one
      rather than giving it another frame's number.

Both versions of the format: (a) with the default (version 2: caps ids,
the caps in <stream>:info) and with wire-format=1; (b) and (c) with entries
of either version, and streams that mix them.

Every GStreamer pipeline runs in a child process of this script (the same
file with --child), so a crash of an element fails one test case instead of
the whole run. The script starts its own redis-server on a free port in a
temporary directory and stops it by PID, also on failure. The plugin is found
through GST_PLUGIN_PATH_1_0 (set by meson). Ends with one line
"N passed, N failed" and exits non-zero when anything failed. Arguments, if
any, select the test cases whose names contain one of them.
"""

import base64
import ctypes
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import gi
import lz4.frame
import redis

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstAudio", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstApp, GstAudio, GstVideo  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
from procs import stop_all  # noqa: E402
from redisserver import RedisServer  # noqa: E402

PYTHON = sys.executable or "/usr/bin/python3"
UNIX_CAPS = "timestamp/x-unix"
NONE_TIME = (1 << 64) - 1          # GST_CLOCK_TIME_NONE / GST_BUFFER_OFFSET_NONE
MAX_FRAME_SIZE = 128 * 1024 * 1024  # redisstreamsrc's default max-frame-size
# Tests that start later fail at once, so that the whole run stays within
# meson's timeout of 300 s even when every pipeline hangs until its timeout.
TIME_BUDGET = 250

# docs/wire-format.md "flags"
FLAG_NAMES = [
    ("delta", Gst.BufferFlags.DELTA_UNIT),
    ("discont", Gst.BufferFlags.DISCONT),
    ("header", Gst.BufferFlags.HEADER),
    ("gap", Gst.BufferFlags.GAP),
    ("droppable", Gst.BufferFlags.DROPPABLE),
    ("marker", Gst.BufferFlags.MARKER),
    ("resync", Gst.BufferFlags.RESYNC),
    ("corrupted", Gst.BufferFlags.CORRUPTED),
]
# docs/wire-format.md "Fields": the order redisstreamsink writes them in
FIELD_ORDER = ["v", "seq", "pts", "dts", "duration", "flags", "caps",
               "capture-time", "meta", "encoding", "size", "data", "trace"]


# --------------------------------------------------------------------------
# Child process: runs one pipeline and reports what came out of it as JSON.
# --------------------------------------------------------------------------

def structure_to_dict(s):
    out = {}
    for i in range(s.n_fields()):
        name = s.nth_field_name(i)
        v = s.get_value(name)
        out[name] = v if isinstance(v, (bool, int, float, str)) or v is None \
            else str(v)
    return out


def sample_to_dict(sample, roi_ids, param_names):
    buf = sample.get_buffer()
    caps = sample.get_caps()
    ref = buf.get_reference_timestamp_meta(Gst.Caps.from_string(UNIX_CAPS))
    api = GstVideo.VideoRegionOfInterestMeta.get_info().api
    rois = []
    for rid in roi_ids:
        m = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, rid)
        if m is None:
            continue
        params = {}
        for pname in param_names:
            s = m.get_param(pname)
            if s is not None:
                params[pname] = structure_to_dict(s)
        rois.append({"type": GLib.quark_to_string(m.roi_type), "id": m.id,
                     "parent-id": m.parent_id, "x": m.x, "y": m.y, "w": m.w,
                     "h": m.h, "params": params})
    size = buf.get_size()
    return {
        "data": base64.b64encode(buf.extract_dup(0, size) if size else b"")
        .decode(),
        "pts": buf.pts, "dts": buf.dts, "duration": buf.duration,
        "offset": buf.offset,
        "flags": [n for n, f in FLAG_NAMES if buf.has_flags(f)],
        "caps": caps.to_string() if caps is not None else None,
        "capture": ref.timestamp if ref is not None else None,
        "n_rois": buf.get_n_meta(api),
        "rois": rois,
    }


def child_main(spec_path, result_path):
    with open(spec_path) as f:
        spec = json.load(f)
    Gst.init(None)
    res = {"samples": [], "eos": False, "error": None, "warnings": [],
           "stats": {}}
    pipeline = Gst.parse_launch(spec["pipeline"])
    sink = pipeline.get_by_name("sink")
    bus = pipeline.get_bus()
    roi_ids = spec.get("roi_ids", [])
    param_names = spec.get("param_names", [])
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        res["error"] = "could not set the pipeline to PLAYING"
    deadline = time.monotonic() + spec.get("timeout", 15)
    types = Gst.MessageType.EOS | Gst.MessageType.ERROR | \
        Gst.MessageType.WARNING
    while res["error"] is None and time.monotonic() < deadline:
        if sink is not None:
            s = sink.try_pull_sample(20 * Gst.MSECOND)
            if s is not None:
                res["samples"].append(sample_to_dict(s, roi_ids, param_names))
                continue
        msg = bus.timed_pop_filtered(20 * Gst.MSECOND, types)
        if msg is None:
            continue
        if msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            res["warnings"].append("%s | %s" % (err.message, dbg))
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            res["error"] = "%s | %s" % (err.message, dbg)
        elif msg.type == Gst.MessageType.EOS:
            res["eos"] = True
            break
    if sink is not None:
        while True:
            s = sink.try_pull_sample(0)
            if s is None:
                break
            res["samples"].append(sample_to_dict(s, roi_ids, param_names))
    while True:
        msg = bus.pop_filtered(Gst.MessageType.WARNING)
        if msg is None:
            break
        err, dbg = msg.parse_warning()
        res["warnings"].append("%s | %s" % (err.message, dbg))
    for name in spec.get("stats", []):
        el = pipeline.get_by_name(name)
        st = el.get_property("stats") if el is not None else None
        res["stats"][name] = structure_to_dict(st) if st is not None else None
    pipeline.set_state(Gst.State.NULL)
    with open(result_path, "w") as f:
        json.dump(res, f)
    return 0


# --------------------------------------------------------------------------
# Parent: Redis server, test runner
# --------------------------------------------------------------------------

def die_with_parent():
    # Never outlive this script (a meson timeout kills it with SIGTERM/KILL).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


R = None        # redis.Redis
PORT = None
WORKDIR = None
_counter = [0]


def new_stream(prefix):
    _counter[0] += 1
    return "%s-%d" % (prefix, _counter[0])


def run_pipeline(desc, timeout=8, stats=(), roi_ids=(), param_names=()):
    """Runs @desc in a child process; returns its result dict."""
    _counter[0] += 1
    spec_path = os.path.join(WORKDIR, "spec-%d.json" % _counter[0])
    result_path = os.path.join(WORKDIR, "result-%d.json" % _counter[0])
    with open(spec_path, "w") as f:
        json.dump({"pipeline": desc, "timeout": timeout, "stats": list(stats),
                   "roi_ids": list(roi_ids),
                   "param_names": list(param_names)}, f)
    proc = subprocess.run([PYTHON, os.path.abspath(__file__), "--child",
                           spec_path, result_path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout + 20, preexec_fn=die_with_parent)
    if proc.returncode != 0 or not os.path.exists(result_path):
        raise AssertionError(
            "pipeline process failed (exit status %d): %s\n  pipeline: %s\n"
            "  stderr: %s" % (proc.returncode,
                              "killed by signal %d" % -proc.returncode
                              if proc.returncode < 0 else "error",
                              desc, proc.stderr.decode(errors="replace")[-2000:]))
    with open(result_path) as f:
        res = json.load(f)
    for s in res["samples"]:
        s["data"] = base64.b64decode(s["data"])
    return res


def src_desc(stream, n, extra=""):
    # timestamp-mode=producer: the fields as written (by default a reader
    # timestamps frames for its own clock, docs/media.md)
    return ("redisstreamsrc name=src host=127.0.0.1 port=%d stream=%s "
            "group=interop consumer=c1 start-id=0 block=200 num-buffers=%d "
            "timestamp-mode=producer %s ! appsink name=sink sync=false"
            % (PORT, stream, n, extra))


# --------------------------------------------------------------------------
# The format, as docs/wire-format.md describes it
# --------------------------------------------------------------------------

class InvalidEntry(Exception):
    pass


TIME_FIELDS = ("pts", "dts", "duration")


def parse_dec(fields, name):
    """An optional unsigned decimal field: None when absent."""
    v = fields.get(name.encode())
    if v is None:
        return None
    if not v or not v.isdigit() or len(v) > 20 or int(v) > NONE_TIME:
        raise InvalidEntry("%s is not a decimal number: %r" % (name, v))
    if name in TIME_FIELDS + ("seq",) and int(v) == NONE_TIME:
        raise InvalidEntry("%s is out of range" % name)
    return int(v)


def check_size_against_caps(caps, size):
    """docs/wire-format.md "Payload": raw video at least the picture its
    caps describe (GStreamer's default layout), raw audio whole frames,
    never empty."""
    if size == 0:
        raise InvalidEntry("empty payload")
    c = Gst.Caps.from_string(caps)
    if c is None or c.get_size() != 1:
        return      # this reader does not check caps beyond that
    name = c.get_structure(0).get_name()
    info_type = {"video/x-raw": GstVideo.VideoInfo,
                 "audio/x-raw": GstAudio.AudioInfo}.get(name)
    if info_type is None:
        return
    try:
        info = info_type.new_from_caps(c)
    except TypeError:       # the constructor returned NULL
        info = None
    if info is None:
        raise InvalidEntry("%s caps GStreamer cannot lay out" % name)
    if name == "video/x-raw":
        if size < info.size:
            raise InvalidEntry("%d bytes for a %d-byte picture" % (size, info.size))
    else:
        if size % info.bpf != 0:
            raise InvalidEntry("%d bytes, not whole %d-byte frames" % (size, info.bpf))


def caps_id(caps):
    """docs/wire-format.md: the caps id of a caps string."""
    if isinstance(caps, str):
        caps = caps.encode()
    return int.from_bytes(hashlib.sha256(caps).digest()[:4], "big") & 0x7FFFFFFF


def entry_caps(stream, fields, version):
    """The caps string of an entry: its caps field (version 1), or the field
    caps:<id> of <stream>:info, checked against the id (version 2)."""
    if version == 1:
        return fields[b"caps"].decode()
    cid = fields[b"caps"]
    if not cid.isdigit() or len(cid) > 20 or int(cid) >= 2**31:
        raise InvalidEntry("caps %r is not a caps id" % cid)
    caps = R.hget(stream + ":info", b"caps:%d" % int(cid))
    if caps is None:
        raise InvalidEntry("caps id %s not in %s:info" % (cid, stream))
    if caps_id(caps) != int(cid):
        raise InvalidEntry("caps:%s are the caps of another id" % cid)
    return caps.decode()


def read_entry(stream, fields, max_frame_size=MAX_FRAME_SIZE):
    """Decodes the field dict of one entry of @stream (bytes -> bytes) into
    a frame, raising InvalidEntry where docs/wire-format.md says to skip
    it."""
    for name in (b"v", b"caps", b"data"):
        if name not in fields:
            raise InvalidEntry("missing %s" % name.decode())
    version = parse_dec(fields, "v")
    if version not in (1, 2):
        raise InvalidEntry("unknown version")
    empty_dts = version == 2 and fields.get(b"dts") == b""
    frame = {k: parse_dec(fields, k) for k in
             ("seq", "pts", "dts", "duration", "capture-time")
             if not (k == "dts" and empty_dts)}
    frame["dts"] = frame["pts"] if empty_dts else frame["dts"]
    frame["version"] = version
    flags = fields.get(b"flags", b"")
    frame["flags"] = flags.decode().split(",") if flags else []
    known = [n for n, _ in FLAG_NAMES]
    if any(f not in known for f in frame["flags"]):
        raise InvalidEntry("unknown flag in %r" % flags)
    frame["caps"] = entry_caps(stream, fields, version)
    encoding = fields.get(b"encoding", b"none")
    data = fields[b"data"]
    size = parse_dec(fields, "size")
    if encoding == b"lz4" and size is None:
        raise InvalidEntry("lz4 without size")
    if size is None:
        size = len(data)
    if size > max_frame_size:
        raise InvalidEntry("too large")
    if encoding == b"none":
        payload = data
    elif encoding == b"lz4":
        try:
            payload = lz4.frame.decompress(data)
        except RuntimeError as e:
            raise InvalidEntry("corrupt lz4: %s" % e)
    else:
        raise InvalidEntry("unknown encoding %r" % encoding)
    if len(payload) != size:
        raise InvalidEntry("size mismatch")
    check_size_against_caps(frame["caps"], size)
    frame["encoding"] = encoding.decode()
    frame["size"] = size
    frame["payload"] = payload
    frame["meta"] = json.loads(fields[b"meta"]) if b"meta" in fields else None
    return frame


def write_frame(stream, payload, caps, encoding="none", seq=None, pts=None,
                dts=None, duration=None, flags=None, capture=None, meta=None,
                lz4_args=None, extra=None, override=None, drop=(),
                order=None, version=1):
    """XADDs one entry in the documented field order; @override replaces or
    adds raw field values, @drop removes fields, @order reorders. Version
    2: the caps stored in <stream>:info first (HSETNX), their id in the
    entry, and a dts equal to the pts written empty."""
    fields = {"v": str(version)}
    for name, v in (("seq", seq), ("pts", pts), ("dts", dts),
                    ("duration", duration)):
        if v is not None:
            fields[name] = str(v)
    if version == 2 and dts is not None and dts == pts:
        fields["dts"] = ""
    if flags is not None:
        fields["flags"] = ",".join(flags)
    if version == 2:
        R.hsetnx(stream + ":info", "caps:%d" % caps_id(caps), caps)
        fields["caps"] = str(caps_id(caps))
    else:
        fields["caps"] = caps
    if capture is not None:
        fields["capture-time"] = str(capture)
    if meta is not None:
        fields["meta"] = json.dumps(meta)
    fields["encoding"] = encoding
    fields["size"] = str(len(payload))
    if encoding == "lz4":
        fields["data"] = lz4.frame.compress(payload, **(lz4_args or {}))
    else:
        fields["data"] = payload
    for k, v in (extra or {}).items():
        fields[k] = v
    for k, v in (override or {}).items():
        fields[k] = v
    for k in drop:
        fields.pop(k, None)
    if order:
        fields = {k: fields[k] for k in order if k in fields} | \
            {k: v for k, v in fields.items() if k not in order}
    return R.xadd(stream, fields, maxlen=None).decode()


def video_size(caps):
    info = GstVideo.VideoInfo.new_from_caps(Gst.Caps.from_string(caps))
    return info.size


def make_payload(size, seed):
    """Partly compressible, partly random bytes, different for every seed."""
    rnd = random.Random(seed)
    noise = rnd.randbytes(size // 4)
    ramp = bytes((i * 7 + seed) & 0xFF for i in range(256))
    body = (ramp * (size // 256 + 1))[: size - len(noise)]
    return body[: len(body) // 2] + noise + body[len(body) // 2:]


def caps_equal(a, b):
    if a is None or b is None:
        return False
    return Gst.Caps.from_string(a).is_equal(Gst.Caps.from_string(b))


# --------------------------------------------------------------------------
# Test runner
# --------------------------------------------------------------------------

TESTS = []


def test(name):
    def deco(fn):
        TESTS.append((name, fn))
        return fn
    return deco


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, expected %r" % (what, got, want))


def check_payload(got, want, what):
    if got != want:
        first = next((i for i in range(min(len(got), len(want)))
                      if got[i] != want[i]), min(len(got), len(want)))
        raise AssertionError("%s: payload differs (%d bytes, expected %d; "
                             "first difference at byte %d)"
                             % (what, len(got), len(want), first))


# --------------------------------------------------------------------------
# (a) redisstreamsink -> Python
# --------------------------------------------------------------------------

N_A = 5
# compression, width, height, wire-format
SINK_CONFIGS = [
    ("none", 320, 240, 2), ("lz4", 320, 240, 2), ("auto", 320, 240, 2),
    ("none", 33, 17, 2), ("lz4", 33, 17, 2), ("auto", 101, 75, 2),
    ("lz4", 1, 1, 2), ("none", 320, 240, 1), ("lz4", 33, 17, 1),
]
_sink_runs = {}


def sink_run(compression, w, h, version=2):
    """Writes N_A videotestsrc frames with redisstreamsink (once per config).
    A tee gives the very same buffers to an appsink: the expected bytes,
    including whatever the row padding of odd sizes holds."""
    key = (compression, w, h, version)
    if key in _sink_runs:
        if isinstance(_sink_runs[key], Exception):
            raise _sink_runs[key]
        return _sink_runs[key]
    try:
        stream = new_stream("sink-%s-%dx%d-v%d" % key)
        desc = ("videotestsrc num-buffers=%d pattern=ball ! "
                "video/x-raw,format=I420,width=%d,height=%d ! tee name=t "
                "t. ! queue ! redisstreamsink name=rsink host=127.0.0.1 "
                "port=%d stream=%s compression=%s maxlen=0 %s "
                "t. ! queue ! appsink name=sink sync=false"
                % (N_A, w, h, PORT, stream, compression,
                   "" if version == 2 else "wire-format=%d" % version))
        before = time.time_ns()
        res = run_pipeline(desc, stats=["rsink"])
        after = time.time_ns()
        check(res["error"] is None and res["eos"],
              "sink pipeline: error %s, eos %s" % (res["error"], res["eos"]))
        check_eq(len(res["samples"]), N_A, "appsink samples")
        entries = R.xrange(stream, "-", "+")
        run = {"ref": res["samples"], "entries": entries, "before": before,
               "after": after, "stream": stream, "stats": res["stats"]["rsink"]}
    except Exception as e:  # noqa: BLE001
        _sink_runs[key] = e
        raise
    _sink_runs[key] = run
    return run


def add_sink_tests(compression, w, h, version):
    tag = "sink->python %s%s %dx%d" % ("wire-format=1 " if version == 1
                                       else "", compression, w, h)

    def sink_run_():
        return sink_run(compression, w, h, version)

    def read_entry_(fields):
        return read_entry(sink_run_()["stream"], fields)

    @test(tag + ": entry fields and order")
    def _fields():
        run = sink_run_()
        check_eq(len(run["entries"]), N_A, "entries in the stream")
        want_enc = "none" if compression == "none" else "lz4"
        for i, (eid, fields) in enumerate(run["entries"]):
            names = [k.decode() for k in fields]
            check_eq(names, [n for n in FIELD_ORDER if n in names],
                     "entry %d field order" % i)
            frame = read_entry_(fields)
            # version 2 leaves encoding and size out for a payload as it is
            required = ["v", "seq", "flags", "caps", "capture-time", "data"]
            if version == 1 or frame["encoding"] == "lz4":
                required += ["encoding", "size"]
            else:
                check(b"encoding" not in fields and b"size" not in fields,
                      "entry %d: encoding or size for a payload as it is" % i)
            for req in required:
                check(req in names, "entry %d has no %s" % (i, req))
            check_eq(fields[b"v"], str(version).encode(), "v")
            check_eq(frame["encoding"], want_enc, "encoding")
            check_eq(frame["size"], video_size(frame["caps"]),
                     "size vs. the caps' default layout")
            if b"trace" in fields:
                # "trace": the sink, the capture point, started one
                stamps = json.loads(fields[b"trace"])
                check(len(fields[b"trace"]) <= 4096 and len(stamps) == 1 and
                      len(stamps[0]) == 4 and stamps[0][:2] == ["w", run["stream"]] and
                      stamps[0][3].isdigit() and
                      int(stamps[0][3]) >= int(fields[b"capture-time"]),
                      "entry %d trace %r" % (i, stamps))
        # trace-interval (1 s) starts a trace on the first frame
        check(b"trace" in run["entries"][0][1], "entry 0 has no trace")

    @test(tag + ": payload bit-exact")
    def _payload():
        run = sink_run_()
        check_eq(len(run["entries"]), N_A, "entries in the stream")
        for i, (eid, fields) in enumerate(run["entries"]):
            frame = read_entry_(fields)
            check_payload(frame["payload"], run["ref"][i]["data"],
                          "frame %d" % i)
            if frame["encoding"] == "none":
                check_eq(len(fields[b"data"]), frame["size"], "data length")

    @test(tag + ": seq, pts, dts, duration, flags")
    def _times():
        run = sink_run_()
        check_eq(len(run["entries"]), N_A, "entries in the stream")
        for i, (eid, fields) in enumerate(run["entries"]):
            frame = read_entry_(fields)
            ref = run["ref"][i]
            check_eq(frame["seq"], i, "seq of entry %d" % i)
            check_eq(frame["pts"], ref["pts"], "pts of entry %d" % i)
            check_eq(frame["dts"], None if ref["dts"] == NONE_TIME
                     else ref["dts"], "dts of entry %d" % i)
            check_eq(frame["duration"], ref["duration"],
                     "duration of entry %d" % i)
            check_eq(sorted(frame["flags"]), sorted(ref["flags"]),
                     "flags of entry %d" % i)

    @test(tag + ": caps")
    def _caps():
        run = sink_run_()
        check_eq(len(run["entries"]), N_A, "entries in the stream")
        for i, (eid, fields) in enumerate(run["entries"]):
            caps = read_entry_(fields)["caps"]
            if version == 2:
                check_eq(int(fields[b"caps"]), caps_id(caps), "caps id")
                check_eq([k for k in R.hkeys(run["stream"] + ":info")
                          if k.startswith(b"caps:")],
                         [b"caps:%d" % caps_id(caps)], "caps fields of the hash")
            else:
                check_eq(fields[b"caps"].decode(), caps, "caps field")
                check_eq([k for k in R.hkeys(run["stream"] + ":info")
                          if k.startswith(b"caps:")], [],
                         "caps in the hash for version 1")
            parsed = Gst.Caps.from_string(caps)
            check(parsed is not None and parsed.is_fixed(),
                  "caps %r do not parse to fixed caps" % caps)
            check(caps_equal(caps, run["ref"][i]["caps"]),
                  "caps %r, expected %r" % (caps, run["ref"][i]["caps"]))
            st = parsed.get_structure(0)
            check_eq((st.get_name(), st.get_value("format"),
                      st.get_value("width"), st.get_value("height")),
                     ("video/x-raw", "I420", w, h), "caps fields")

    @test(tag + ": capture-time")
    def _capture():
        run = sink_run_()
        check_eq(len(run["entries"]), N_A, "entries in the stream")
        last = 0
        for i, (eid, fields) in enumerate(run["entries"]):
            t = read_entry_(fields)["capture-time"]
            check(t is not None, "no capture-time")
            check(run["before"] - 10**9 <= t <= run["after"] + 10**9,
                  "capture-time %d not within the run [%d, %d]"
                  % (t, run["before"], run["after"]))
            check(t >= last, "capture-time goes backwards")
            last = t
            # The entry id is the Redis server's clock in ms: same host.
            ms = int(eid.decode().split("-")[0])
            check(abs(ms - t // 10**6) < 1000,
                  "capture-time %d far from entry id %s" % (t, eid))


for _c in SINK_CONFIGS:
    add_sink_tests(*_c)


@test("sink->python: lz4 frames have independent blocks and content size")
def _lz4_frame_info():
    run = sink_run("lz4", 320, 240)
    for eid, fields in run["entries"]:
        info = lz4.frame.get_frame_info(fields[b"data"])
        check_eq(info["block_linked"], False, "block_linked")
        check_eq(info["content_size"], int(fields[b"size"]), "content_size")
        check_eq(info["block_size"], 256 * 1024, "block_size")
        check_eq(info["content_checksum"], False, "content_checksum")


@test("sink->python: stats match the stream")
def _sink_stats():
    run = sink_run("lz4", 320, 240)
    st = run["stats"]
    check_eq(st["frames"], N_A, "stats frames")
    check_eq(st["bytes-in"], sum(int(f[b"size"]) for _, f in run["entries"]),
             "stats bytes-in")
    check_eq(st["bytes-out"], sum(len(f[b"data"]) for _, f in run["entries"]),
             "stats bytes-out")
    check_eq(st["last-entry-id"], run["entries"][-1][0].decode(),
             "stats last-entry-id")


@test("sink->python: XREADGROUP COUNT 1 + XACK reads every frame")
def _xreadgroup():
    run = sink_run("auto", 320, 240)
    stream = run["stream"]
    R.xgroup_create(stream, "py", id="0")
    got = []
    while True:
        reply = R.xreadgroup("py", "reader", {stream: ">"}, count=1)
        if not reply:
            break
        for _, entries in reply:
            for eid, fields in entries:
                got.append(read_entry(stream, fields))
                R.xack(stream, "py", eid)
    check_eq(len(got), N_A, "frames read")
    for i, frame in enumerate(got):
        check_payload(frame["payload"], run["ref"][i]["data"], "frame %d" % i)
    check_eq(R.xpending(stream, "py")["pending"], 0, "pending entries")


@test("sink->python: auto sends JPEG as it is (encoding none)")
def _auto_jpeg():
    if Gst.ElementFactory.find("jpegenc") is None:
        raise AssertionError("jpegenc not installed (gst-plugins-good)")
    src = "videotestsrc num-buffers=3 pattern=ball ! " \
          "video/x-raw,format=I420,width=64,height=48 ! jpegenc"
    ref = run_pipeline(src + " ! appsink name=sink sync=false")
    stream = new_stream("sink-jpeg")
    res = run_pipeline(src + " ! redisstreamsink port=%d stream=%s "
                       "compression=auto" % (PORT, stream))
    check(res["error"] is None, res["error"])
    entries = R.xrange(stream)
    check_eq(len(entries), 3, "entries")
    for i, (eid, fields) in enumerate(entries):
        frame = read_entry(stream, fields)
        check_eq(frame["encoding"], "none", "encoding")
        check(frame["caps"].startswith("image/jpeg"), "caps")
        check_payload(frame["payload"], ref["samples"][i]["data"],
                      "jpeg frame %d" % i)


@test("sink->python: an empty buffer is encoding none, size 0, empty data, "
      "which readers skip")
def _sink_empty():
    for version, want in ((1, (b"none", b"0", b"")), (2, (None, None, b""))):
        stream = new_stream("sink-empty")
        res = run_pipeline("fakesrc num-buffers=2 sizetype=empty ! "
                           "application/x-interop ! redisstreamsink port=%d "
                           "stream=%s compression=lz4 wire-format=%d"
                           % (PORT, stream, version))
        check(res["error"] is None, res["error"])
        entries = R.xrange(stream)
        check_eq(len(entries), 2, "entries")
        for eid, fields in entries:
            check_eq((fields.get(b"encoding"), fields.get(b"size"),
                      fields.get(b"data")), want,
                     "version %d: encoding, size, data" % version)
            check_empty_skipped(stream, fields)


def check_empty_skipped(stream, fields):
    if True:
        try:
            read_entry(stream, fields)
        except InvalidEntry:
            pass
        else:
            raise AssertionError("a reader takes an empty payload")


# --------------------------------------------------------------------------
# (b) Python -> redisstreamsrc
# --------------------------------------------------------------------------

CAPS_A = "video/x-raw,format=I420,width=64,height=48,framerate=25/1"
CAPS_ODD = "video/x-raw,format=I420,width=33,height=17,framerate=30/1"
CAPS_HD = "video/x-raw,format=I420,width=1280,height=720,framerate=30/1"


def expected_frames(caps, n, seed, seq0=1000, pts0=5 * 10**9,
                    dur=40 * 10**6):
    size = video_size(caps)
    frames = []
    for i in range(n):
        frames.append({
            "payload": make_payload(size, seed + i), "caps": caps,
            "seq": seq0 + i, "pts": pts0 + i * dur, "dts": pts0 + i * dur,
            "duration": dur,
            # a key frame first: a reader holds back delta units until one
            "flags": [[], ["delta"], ["delta", "marker"], ["header"]][i % 4],
            "capture": 1_700_000_000_000_000_000 + i * 1234567,
        })
    return frames


def write_expected(stream, frames, **kw):
    ids = []
    for f in frames:
        ids.append(write_frame(stream, f["payload"], f["caps"], seq=f["seq"],
                               pts=f["pts"], dts=f["dts"],
                               duration=f["duration"], flags=f["flags"],
                               capture=f["capture"], **kw))
    return ids


def check_samples(res, frames, check_stats=True):
    check(res["error"] is None, "pipeline error: %s" % res["error"])
    check_eq(len(res["samples"]), len(frames), "buffers played")
    for i, (s, f) in enumerate(zip(res["samples"], frames)):
        check_payload(s["data"], f["payload"], "buffer %d" % i)
        check(caps_equal(s["caps"], f["caps"]),
              "buffer %d caps %r, expected %r" % (i, s["caps"], f["caps"]))
        check_eq(s["pts"], f.get("pts", NONE_TIME), "buffer %d pts" % i)
        check_eq(s["dts"], f.get("dts", NONE_TIME), "buffer %d dts" % i)
        check_eq(s["duration"], f.get("duration", NONE_TIME),
                 "buffer %d duration" % i)
        check_eq(s["offset"], f.get("seq", NONE_TIME), "buffer %d offset" % i)
        got_flags = set(s["flags"])
        if i == 0:
            got_flags.discard("discont")    # a source's first buffer
        check_eq(sorted(got_flags), sorted(f.get("flags", [])),
                 "buffer %d flags" % i)
        check_eq(s["capture"], f.get("capture"), "buffer %d capture time" % i)
    if check_stats:
        st = res["stats"]["src"]
        check_eq(st["frames"], len(frames), "stats frames")
        check_eq(st["skipped-invalid"], 0, "stats skipped-invalid")


def add_src_lz4_test(name, caps, n, lz4_args):
    @test("python->src: " + name)
    def _t():
        stream = new_stream("src-lz4")
        frames = expected_frames(caps, n, seed=len(TESTS) * 10)
        write_expected(stream, frames, encoding="lz4", lz4_args=lz4_args)
        first = R.xrange(stream, count=1)[0][1][b"data"]
        info = lz4.frame.get_frame_info(first)
        for k in ("block_linked", "content_checksum", "block_checksum"):
            if k in lz4_args:
                check_eq(info[k], lz4_args[k], "frame info " + k)
        if lz4_args.get("store_size") is False:
            check_eq(info["content_size"], 0, "content size not stored")
        check_samples(run_pipeline(src_desc(stream, n), stats=["src"]), frames)


@test("python->src: encoding none, timestamps, seq, flags, capture-time")
def _src_none():
    stream = new_stream("src-none")
    frames = expected_frames(CAPS_A, 4, seed=1)
    write_expected(stream, frames)
    check_samples(run_pipeline(src_desc(stream, 4), stats=["src"]), frames)


@test("python->src: encoding none, odd size (33x17 I420)")
def _src_none_odd():
    stream = new_stream("src-none-odd")
    frames = expected_frames(CAPS_ODD, 3, seed=2)
    write_expected(stream, frames)
    check_samples(run_pipeline(src_desc(stream, 3), stats=["src"]), frames)


add_src_lz4_test("lz4.frame.compress defaults (linked blocks, size stored)",
                 CAPS_A, 3, {})
add_src_lz4_test("lz4 store_size=False", CAPS_A, 3, {"store_size": False})
add_src_lz4_test("lz4 block_linked=False", CAPS_ODD, 3,
                 {"block_linked": False})
add_src_lz4_test("lz4 block_linked=False store_size=False", CAPS_A, 3,
                 {"block_linked": False, "store_size": False})
add_src_lz4_test("lz4 content and block checksums", CAPS_A, 3,
                 {"content_checksum": True, "block_checksum": True})
add_src_lz4_test("lz4 1280x720, 64 KiB linked blocks, level 9", CAPS_HD, 2,
                 {"compression_level": 9})
add_src_lz4_test("lz4 1280x720, 4 MiB block, no stored size", CAPS_HD, 2,
                 {"block_size": lz4.frame.BLOCKSIZE_MAX4MB,
                  "store_size": False})


ROI_META = {"rois": [
    {"type": "person", "id": 1, "parent-id": -1, "x": 4, "y": 6, "w": 20,
     "h": 30, "params": {"detection": {"label": "person", "confidence": 0.875,
                                       "track": 17, "moving": True}}},
    {"type": "face", "id": 2, "parent-id": 1, "x": 8, "y": 7, "w": 6,
     "h": 8, "params": {"detection": {"label": "face", "confidence": 0.5},
                        "landmarks": {"eyes": 2}}},
    {"type": "car", "id": 3, "x": 40, "y": 30, "w": 10, "h": 5},
]}


@test("python->src: meta rois become GstVideoRegionOfInterestMeta")
def _src_rois():
    stream = new_stream("src-rois")
    frames = expected_frames(CAPS_A, 2, seed=3)
    write_frame(stream, frames[0]["payload"], CAPS_A, seq=frames[0]["seq"],
                pts=frames[0]["pts"], dts=frames[0]["dts"],
                duration=frames[0]["duration"], flags=frames[0]["flags"],
                capture=frames[0]["capture"], meta=ROI_META, encoding="lz4")
    write_expected(stream, frames[1:])
    res = run_pipeline(src_desc(stream, 2), stats=["src"], roi_ids=[1, 2, 3],
                       param_names=["detection", "landmarks"])
    check_samples(res, frames)
    s = res["samples"][0]
    check_eq(s["n_rois"], 3, "ROI metas on buffer 0")
    check_eq(res["samples"][1]["n_rois"], 0, "ROI metas on buffer 1")
    got = {r["id"]: r for r in s["rois"]}
    for want in ROI_META["rois"]:
        r = got.get(want["id"])
        check(r is not None, "no ROI with id %d" % want["id"])
        for k in ("type", "x", "y", "w", "h"):
            check_eq(r[k], want[k], "ROI %d %s" % (want["id"], k))
        check_eq(r["parent-id"], want.get("parent-id", 0),
                 "ROI %d parent-id" % want["id"])
        check_eq(r["params"], want.get("params", {}),
                 "ROI %d params" % want["id"])


@test("python->src: minimal entry (v, caps, data) gets no timestamps")
def _src_minimal():
    # After a complete entry: GstBaseSrc may timestamp a source's first
    # buffer with 0 when it has none.
    stream = new_stream("src-min")
    frames = expected_frames(CAPS_A, 1, seed=4)
    write_expected(stream, frames)
    payload = make_payload(video_size(CAPS_A), 4)
    R.xadd(stream, {"v": "1", "caps": CAPS_A, "data": payload})
    res = run_pipeline(src_desc(stream, 2), stats=["src"])
    check_samples(res, frames + [{"payload": payload, "caps": CAPS_A}])


@test("python->src: unknown fields ignored, any field order")
def _src_unknown_fields():
    stream = new_stream("src-unknown")
    frames = expected_frames(CAPS_A, 2, seed=5)
    order = ["data", "size", "encoding", "x-producer", "caps", "capture-time",
             "flags", "duration", "dts", "pts", "seq", "v"]
    write_expected(stream, frames, encoding="lz4", order=order,
                   extra={"x-producer": "interop.py", "roi-count": "0",
                          "zzz": b"\x00\xff"})
    check_samples(run_pipeline(src_desc(stream, 2), stats=["src"]), frames)


@test("python->src: caps change between entries renegotiates")
def _src_caps_change():
    stream = new_stream("src-capschange")
    frames = expected_frames(CAPS_A, 2, seed=6) + \
        expected_frames(CAPS_ODD, 2, seed=7, seq0=1002, pts0=5_080_000_000)
    write_expected(stream, frames, encoding="lz4")
    check_samples(run_pipeline(src_desc(stream, 4), stats=["src"]), frames)


@test("python->src: version 2 entries (caps id, caps in <stream>:info, "
      "empty dts) play")
def _src_v2():
    stream = new_stream("src-v2")
    frames = expected_frames(CAPS_A, 4, seed=21)
    write_expected(stream[:], frames[:2], version=2)
    write_expected(stream, frames[2:], version=2, encoding="lz4")
    entries = R.xrange(stream)
    check_eq([f[b"dts"] for _, f in entries], [b""] * 4, "dts equal to pts")
    check_eq(R.hkeys(stream + ":info"), [b"caps:%d" % caps_id(CAPS_A)],
             "fields of the hash")
    check_samples(run_pipeline(src_desc(stream, 4), stats=["src"]), frames)


@test("python->src: versions 1 and 2 mixed, caps changing within and "
      "between them")
def _src_mixed_versions():
    stream = new_stream("src-mixed")
    a1 = expected_frames(CAPS_A, 2, seed=31)
    a2 = expected_frames(CAPS_A, 2, seed=33, seq0=1002, pts0=5_080_000_000)
    b2 = expected_frames(CAPS_ODD, 2, seed=35, seq0=1004, pts0=5_160_000_000)
    b1 = expected_frames(CAPS_ODD, 2, seed=37, seq0=1006, pts0=5_240_000_000)
    a3 = expected_frames(CAPS_A, 2, seed=39, seq0=1008, pts0=5_320_000_000)
    for frames, version in ((a1, 1), (a2, 2), (b2, 2), (b1, 1), (a3, 2)):
        write_expected(stream, frames, version=version, encoding="lz4")
    frames = a1 + a2 + b2 + b1 + a3
    check_samples(run_pipeline(src_desc(stream, len(frames)), stats=["src"]),
                  frames)


@test("python->src: a version 2 stream read after a trim, by a group "
      "created later")
def _src_v2_after_trim():
    stream = new_stream("src-v2-trim")
    frames = expected_frames(CAPS_ODD, 6, seed=41)
    write_expected(stream, frames, version=2)
    R.xtrim(stream, maxlen=2, approximate=False)
    check_samples(run_pipeline(src_desc(stream, 2), stats=["src"]),
                  frames[4:])


CAPS_1080 = "video/x-raw,format=I420,width=1920,height=1080,framerate=30/1"
CAPS_S16 = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2"
CAPS_F32_PLANAR = ("audio/x-raw,format=F32LE,layout=non-interleaved,"
                   "rate=48000,channels=2")


def check_skipped(res, stream, bad_ids, frames):
    """@frames played, every entry of @bad_ids skipped with a warning
    naming it, counted, acknowledged and left in the stream."""
    check_samples(res, frames, check_stats=False)
    st = res["stats"]["src"]
    check_eq(st["skipped-invalid"], len(bad_ids), "stats skipped-invalid")
    check_eq(st["frames"], len(frames), "stats frames")
    pending = [p["message_id"].decode() for p in
               R.xpending_range(stream, "interop", "-", "+", 100)]
    for bad_id in bad_ids:
        check(any(bad_id in w for w in res["warnings"]),
              "no warning names entry %s: %r" % (bad_id, res["warnings"]))
        check(bad_id not in pending, "entry %s not acknowledged" % bad_id)
        fields = R.xrange(stream, bad_id, bad_id)
        check(len(fields) == 1, "entry %s no longer in the stream" % bad_id)
        try:
            read_entry(stream, fields[0][1])
        except InvalidEntry:
            pass
        else:
            raise AssertionError("the reader of this script accepts %s"
                                 % bad_id)


@test("python->src: payloads checked against their caps")
def _src_size_against_caps():
    stream = new_stream("src-size")
    pic = video_size(CAPS_A)
    good = [
        # exactly the picture; a picture with padding after it
        {"payload": make_payload(pic, 40), "caps": CAPS_A, "seq": 0},
        {"payload": make_payload(pic + 100, 41), "caps": CAPS_A, "seq": 1},
        # 480 stereo S16 frames; 100 planar F32 frames
        {"payload": make_payload(480 * 4, 42), "caps": CAPS_S16, "seq": 2},
        {"payload": make_payload(100 * 8, 43), "caps": CAPS_F32_PLANAR,
         "seq": 3},
        {"payload": b"x", "caps": "application/x-interop", "seq": 4},
    ]
    bad = [
        (b"abcd", CAPS_1080),                        # far too little data
        (make_payload(pic - 1, 44), CAPS_A),
        (b"", CAPS_A),
        (make_payload(480 * 4 + 1, 45), CAPS_S16),
        (make_payload(100 * 8 - 4, 46), CAPS_F32_PLANAR),
        (b"", CAPS_S16),
        # what redisstreamsink writes for an empty buffer: nothing to play
        (b"", "application/x-interop"),
        (make_payload(64, 47), "video/x-raw,format=I420"),
    ]
    # good and bad entries alternate, a good one last (num-buffers)
    bad_ids = []
    for i, (payload, caps) in enumerate(bad):
        bad_ids.append(write_frame(stream, payload, caps, seq=100 + i,
                                   pts=i * 1000 + 1))
        if i < len(good) - 1 or i == len(bad) - 1:
            f = good[min(i, len(good) - 1)]
            f["pts"] = i * 1000 + 2
            write_frame(stream, f["payload"], f["caps"], seq=f["seq"],
                        pts=f["pts"])
    res = run_pipeline(src_desc(stream, len(good)), stats=["src"])
    check_skipped(res, stream, bad_ids, good)
    # counted apart as well: payloads that are not what their caps say (the
    # last one has caps without a size, a bad caps field)
    check_eq(res["stats"]["src"]["skipped-size"], len(bad_ids) - 1,
             "stats skipped-size")
    check_eq(res["stats"]["src"]["skipped-names"], 0, "stats skipped-names")


@test("python->src: 1080p caps with 4 bytes skipped before videoconvert")
def _src_short_picture_downstream():
    # Before, the frame went out and videoconvert failed with "Internal
    # GStreamer error: code not implemented", without the entry id.
    stream = new_stream("src-short")
    caps = "video/x-raw,format=I420,width=192,height=108,framerate=30/1"
    good = make_payload(video_size(caps), 48)
    bad_id = write_frame(stream, b"abcd", CAPS_1080, seq=0, pts=0)
    write_frame(stream, good, caps, seq=1, pts=1000)
    res = run_pipeline(
        "redisstreamsrc name=src port=%d stream=%s group=interop start-id=0 "
        "num-buffers=1 ! videoconvert ! video/x-raw,format=RGB ! "
        "appsink name=sink sync=false" % (PORT, stream), stats=["src"])
    check(res["error"] is None, "pipeline error: %s" % res["error"])
    check_eq(len(res["samples"]), 1, "frames converted")
    check_eq(res["stats"]["src"]["skipped-invalid"], 1, "skipped-invalid")
    check(any(bad_id in w and "less than the" in w for w in res["warnings"]),
          "no warning names entry %s with the size: %r"
          % (bad_id, res["warnings"]))
    check(not any("Internal GStreamer error" in w for w in res["warnings"]),
          res["warnings"])


@test("python->src: caps names beyond the budget counted in skipped-names")
def _src_names_budget():
    # 20 entries of 5000 field names never seen before: the budget of new
    # names per process (65536, docs/security.md) takes the first ones
    # (skipped for another reason: not a picture), the others are skipped
    # for the budget and counted apart; the frame after them plays
    stream = new_stream("src-names")
    for i in range(20):
        caps = "video/x-raw," + ",".join("n%05d%04d=1" % (i, k)
                                         for k in range(5000))
        R.xadd(stream, {"v": "1", "seq": str(i), "caps": caps, "data": b"x"})
    frames = [{"payload": b"ok", "caps": "application/x-interop", "seq": 20,
               "pts": 0}]
    write_frame(stream, b"ok", "application/x-interop", seq=20, pts=0)
    res = run_pipeline(src_desc(stream, 1), timeout=20, stats=["src"])
    check_samples(res, frames, check_stats=False)
    st = res["stats"]["src"]
    budget = [w for w in res["warnings"]
              if "names this process has never seen" in w]
    check(len(budget) > 0, "no entry refused for the budget: %r"
          % [w[:200] for w in res["warnings"]])
    check_eq(st["skipped-invalid"], 20, "stats skipped-invalid")
    check_eq(st["skipped-names"], len(budget), "stats skipped-names")
    check_eq(st["skipped-size"], 0, "stats skipped-size")


@test("python->src: seq missing plays without offset, 2^64-1 and "
      "non-numbers are invalid")
def _src_seq():
    stream = new_stream("src-seq")
    caps = "application/x-interop"
    frames = [{"payload": b"a", "caps": caps, "seq": 5, "pts": 0},
              {"payload": b"b", "caps": caps, "pts": 1000},
              {"payload": b"c", "caps": caps, "seq": 7, "pts": 2000},
              {"payload": b"d", "caps": caps, "seq": 6, "pts": 3000}]
    bad_ids = []
    for i, f in enumerate(frames):
        write_frame(stream, f["payload"], caps, seq=f.get("seq"), pts=f["pts"])
        if i == 0:
            for v in (str(NONE_TIME), "12 ", "0x10", "+3", ""):
                bad_ids.append(write_frame(stream, b"z", caps, pts=500,
                                           override={"seq": v}))
    res = run_pipeline(src_desc(stream, 4), stats=["src"])
    check_skipped(res, stream, bad_ids, frames)
    # the frame without seq is counted (and none of the invalid ones)
    check_eq(res["stats"]["src"]["no-seq"], 1, "stats no-seq")
    check_eq(res["stats"]["src"]["skipped-size"], 0, "stats skipped-size")
    # in a reorder window the frame without seq passes straight through
    # (docs/redisstreamsrc.md), the others come out in order
    res = run_pipeline(src_desc(stream, 4, "reorder-window=4 group=reorder")
                       .replace("group=interop ", ""), stats=["src"])
    offsets = [s["offset"] for s in res["samples"]]
    check_eq([o for o in offsets if o != NONE_TIME], [5, 6, 7],
             "offsets with seq through reorder-window=4")
    check_eq(offsets.count(NONE_TIME), 1, "frames without seq")


@test("python->src->sink->python: frames without seq keep none")
def _roundtrip_seq():
    caps = "application/x-interop"
    cases = [
        # upstream numbers, one frame without: it stays without
        ([0, 1, None, 2, None, 3], [0, 1, None, 2, None, 3]),
        # no numbers at all: the sink numbers them
        ([None, None, None], [0, 1, 2]),
    ]
    for seqs, want in cases:
        stream_in = new_stream("rtseq-in")
        stream_out = new_stream("rtseq-out")
        for i, seq in enumerate(seqs):
            write_frame(stream_in, b"f%d" % i, caps, seq=seq, pts=i * 1000)
        res = run_pipeline(
            "redisstreamsrc host=127.0.0.1 port=%d stream=%s group=rt "
            "start-id=0 num-buffers=%d timestamp-mode=producer ! "
            "redisstreamsink port=%d stream=%s" % (PORT, stream_in, len(seqs),
                                                   PORT, stream_out))
        check(res["error"] is None, res["error"])
        got = [read_entry(stream_out, f)["seq"] for _, f in R.xrange(stream_out)]
        check_eq(got, want, "seq written for %r" % seqs)


@test("python->src->sink->python: seq, pts, capture-time, meta preserved")
def _roundtrip():
    stream_in = new_stream("rt-in")
    stream_out = new_stream("rt-out")
    frames = expected_frames(CAPS_A, 3, seed=8)
    for i, f in enumerate(frames):
        write_frame(stream_in, f["payload"], f["caps"], seq=f["seq"],
                    pts=f["pts"], dts=f["dts"], duration=f["duration"],
                    flags=f["flags"], capture=f["capture"],
                    meta=ROI_META if i == 1 else None, encoding="lz4")
    desc = ("redisstreamsrc host=127.0.0.1 port=%d stream=%s group=rt "
            "start-id=0 num-buffers=3 timestamp-mode=producer ! "
            "redisstreamsink port=%d stream=%s "
            "compression=lz4" % (PORT, stream_in, PORT, stream_out))
    res = run_pipeline(desc)
    check(res["error"] is None, res["error"])
    out = R.xrange(stream_out)
    check_eq(len(out), 3, "entries written")
    for i, ((eid, fields), f) in enumerate(zip(out, frames)):
        got = read_entry(stream_out, fields)
        check_payload(got["payload"], f["payload"], "frame %d" % i)
        for k, want in (("seq", f["seq"]), ("pts", f["pts"]),
                        ("dts", f["dts"]), ("duration", f["duration"]),
                        ("capture-time", f["capture"])):
            check_eq(got[k], want, "frame %d %s" % (i, k))
        check(caps_equal(got["caps"], f["caps"]), "frame %d caps" % i)
        want_flags = set(f["flags"]) | ({"discont"} if i == 0 else set())
        check_eq(set(got["flags"]), want_flags, "frame %d flags" % i)
        if i != 1:
            check_eq(got["meta"], None, "frame %d meta" % i)
            continue
        rois = got["meta"]["rois"]
        check_eq(len(rois), 3, "rois")
        for r, want in zip(sorted(rois, key=lambda r: r["id"]),
                           ROI_META["rois"]):
            check_eq(list(r.keys()), ["type", "id", "parent-id", "x", "y",
                                      "w", "h", "params"], "roi keys")
            for k in ("type", "id", "x", "y", "w", "h"):
                check_eq(r[k], want[k], "roi %s" % k)
            check_eq(r["parent-id"], want.get("parent-id", 0), "parent-id")
            check_eq(r["params"], want.get("params", {}), "roi params")


# --------------------------------------------------------------------------
# (c) invalid entries
# --------------------------------------------------------------------------

def corrupt_lz4(payload):
    c = bytearray(lz4.frame.compress(payload, block_linked=False))
    for i in range(12, len(c) - 4, 7):     # keep the header, ruin blocks
        c[i] ^= 0xA5
    return bytes(c)


def bad_checksum_lz4(payload):
    # a valid frame but for its content checksum (the last 4 bytes)
    c = bytearray(lz4.frame.compress(payload, content_checksum=True))
    c[-1] ^= 0xFF
    return bytes(c)


def truncated_lz4(payload):
    c = lz4.frame.compress(payload)
    return c[: len(c) // 2]


INVALID = [
    # name, kwargs for write_frame (payload/caps given by the runner), extra
    # src properties
    ("missing data", {"drop": ["data"]}, ""),
    ("missing caps", {"drop": ["caps"]}, ""),
    ("missing v", {"drop": ["v"]}, ""),
    ("unknown version v=3", {"override": {"v": "3"}}, ""),
    ("version 2: caps not a caps id", {"version": 2,
                                       "override": {"caps": "video/x-raw"}}, ""),
    ("version 2: caps id 2^31", {"version": 2,
                                 "override": {"caps": str(2**31)}}, ""),
    ("version 2: caps id not in the hash", {"version": 2,
                                            "override": {"caps": "12345"}}, ""),
    ("version 2: caps of another id in the hash", {"version": 2,
                                                   "override": {"caps": "77"}},
     "caps:77"),
    ("version 1: empty dts", {"override": {"dts": ""}}, ""),
    ("unknown encoding zstd", {"override": {"encoding": "zstd"}}, ""),
    ("lz4 without size", {"encoding": "lz4", "drop": ["size"]}, ""),
    ("corrupt lz4", {"encoding": "lz4", "override": {"data": None}}, ""),
    ("truncated lz4", {"encoding": "lz4", "override": {"data": "trunc"}}, ""),
    ("lz4 content checksum mismatch", {"encoding": "lz4",
                                       "override": {"data": "badsum"}}, ""),
    ("not lz4 at all", {"encoding": "lz4",
                        "override": {"data": b"definitely not lz4"}}, ""),
    ("lz4 size larger than content", {"encoding": "lz4",
                                      "override": {"size": "SIZE+1"}}, ""),
    ("lz4 size smaller than content", {"encoding": "lz4",
                                       "override": {"size": "SIZE-1"}}, ""),
    ("none size mismatch", {"override": {"size": "SIZE+1"}}, ""),
    ("huge declared size (lz4)", {"encoding": "lz4",
                                  "override": {"size": str(10**15)}}, ""),
    ("huge declared size (none)", {"override": {"size": str(2**63)}}, ""),
    ("size beyond 64 bits", {"override": {"size": "9" * 25}}, ""),
    ("size above max-frame-size", {}, "max-frame-size"),
    ("pts not a number", {"override": {"pts": "12abc"}}, ""),
    ("pts is GST_CLOCK_TIME_NONE", {"override": {"pts": str(NONE_TIME)}}, ""),
    ("negative seq", {"override": {"seq": "-1"}}, ""),
    ("seq is GST_BUFFER_OFFSET_NONE", {"override": {"seq": str(NONE_TIME)}},
     ""),
    ("empty duration", {"override": {"duration": ""}}, ""),
    ("capture-time not a number", {"override": {"capture-time": "1e18"}}, ""),
    ("unknown flag", {"flags": ["delta", "sparkly"]}, ""),
    ("caps that do not parse", {"override": {"caps": "video/x-raw,,=="}}, ""),
    ("caps that are not fixed", {"override": {
        "caps": "video/x-raw,format=I420,width=[1,100],height=48"}}, ""),
    ("meta not JSON", {"override": {"meta": "{not json"}}, ""),
    ("meta roi without x", {"meta": {"rois": [{"type": "a", "y": 1, "w": 1,
                                                "h": 1}]}}, ""),
    ("meta rois not an array", {"meta": {"rois": {"type": "a"}}}, ""),
]


def add_invalid_test(name, kw, extra):
    @test("invalid entry skipped, counted, acked, kept: " + name)
    def _t():
        stream = new_stream("bad")
        good = expected_frames(CAPS_A, 2, seed=len(TESTS))
        size = len(good[0]["payload"])
        bad_payload = make_payload(size, 99)
        kw2 = {k: (dict(v) if isinstance(v, dict) else v)
               for k, v in kw.items()}
        ov = kw2.get("override", {})
        if "data" in ov:
            ov["data"] = truncated_lz4(bad_payload) if ov["data"] == "trunc" \
                else bad_checksum_lz4(bad_payload) if ov["data"] == "badsum" \
                else corrupt_lz4(bad_payload) if ov["data"] is None \
                else ov["data"]
        if "size" in ov and ov["size"].startswith("SIZE"):
            ov["size"] = str(size + int(ov["size"][4:]))
        props = ""
        if extra == "caps:77":
            R.hset(stream + ":info", "caps:77", CAPS_A)
        if extra == "max-frame-size":
            # the valid frames just fit, the invalid one is twice as large
            props = "max-frame-size=%d" % size
            bad_payload = make_payload(size * 2, 98)
        write_expected(stream, good[:1], encoding="lz4")
        bad_id = write_frame(stream, bad_payload, CAPS_A, seq=7, pts=1,
                             duration=1, **{"flags": [], **kw2})
        write_expected(stream, good[1:])
        res = run_pipeline(src_desc(stream, 2, props), stats=["src"])
        check_samples(res, good, check_stats=False)
        st = res["stats"]["src"]
        check_eq(st["skipped-invalid"], 1, "stats skipped-invalid")
        check_eq(st["frames"], 2, "stats frames")
        check(any(bad_id in w for w in res["warnings"]),
              "no warning message names entry %s: %r"
              % (bad_id, res["warnings"]))
        check_eq([e[0].decode() for e in R.xrange(stream, bad_id, bad_id)],
                 [bad_id], "invalid entry still in the stream")
        pending = [p["message_id"].decode() for p in
                   R.xpending_range(stream, "interop", "-", "+", 100)]
        check(bad_id not in pending, "invalid entry %s not acknowledged "
              "(pending: %r)" % (bad_id, pending))
        # And the Python reader of this file agrees it is invalid.
        fields = R.xrange(stream, bad_id, bad_id)[0][1]
        try:
            read_entry(stream, fields,
                       max_frame_size=size if props else MAX_FRAME_SIZE)
        except (InvalidEntry, ValueError):
            pass
        else:
            # This reader does not parse caps or check meta contents.
            if not name.startswith("meta") and "caps" not in name:
                raise AssertionError("the reader of this script accepts it")


for _n, _kw, _x in INVALID:
    add_invalid_test(_n, _kw, _x)


@test("invalid entry first: the valid entry after it still gets its caps")
def _invalid_first():
    stream = new_stream("bad-first")
    good = expected_frames(CAPS_A, 1, seed=11)
    write_frame(stream, good[0]["payload"], CAPS_A, encoding="lz4",
                override={"data": corrupt_lz4(good[0]["payload"])})
    write_expected(stream, good)
    res = run_pipeline(src_desc(stream, 1), stats=["src"])
    check_samples(res, good, check_stats=False)
    check_eq(res["stats"]["src"]["skipped-invalid"], 1, "skipped-invalid")


@test("invalid entry with new caps between valid ones: caps still change")
def _invalid_new_caps():
    stream = new_stream("bad-caps")
    a = expected_frames(CAPS_A, 1, seed=12)
    b = expected_frames(CAPS_ODD, 1, seed=13, seq0=1001)
    write_expected(stream, a)
    write_frame(stream, b[0]["payload"], CAPS_ODD, encoding="lz4",
                override={"data": corrupt_lz4(b[0]["payload"])})
    write_expected(stream, b)
    res = run_pipeline(src_desc(stream, 2), stats=["src"])
    check_samples(res, a + b, check_stats=False)
    check_eq(res["stats"]["src"]["skipped-invalid"], 1, "skipped-invalid")


# --------------------------------------------------------------------------

def main():
    global R, PORT, WORKDIR

    def on_signal(signum, frame):
        raise SystemExit("killed by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    Gst.init(None)
    WORKDIR = tempfile.mkdtemp(prefix="interop-")
    passed = failed = 0
    try:
        missing = [e for e in ("redisstreamsink", "redisstreamsrc")
                   if Gst.ElementFactory.find(e) is None]
        if missing:
            raise RuntimeError("elements not found: %s (GST_PLUGIN_PATH_1_0=%s)"
                               % (", ".join(missing),
                                  os.environ.get("GST_PLUGIN_PATH_1_0")))
        server = RedisServer(WORKDIR)
        PORT = server.port
        R = redis.Redis(host="127.0.0.1", port=PORT)
        selected = sys.argv[1:]
        budget_end = time.monotonic() + TIME_BUDGET
        for name, fn in TESTS:
            if selected and not any(s in name for s in selected):
                continue
            t0 = time.monotonic()
            try:
                if t0 > budget_end:
                    raise AssertionError("not run: the %d s time budget is "
                                         "used up" % TIME_BUDGET)
                fn()
            except Exception as e:  # noqa: BLE001
                failed += 1
                msg = str(e) if isinstance(e, AssertionError) \
                    else traceback.format_exc()
                print("FAIL %s (%.1fs): %s" % (name, time.monotonic() - t0,
                                                msg), flush=True)
            else:
                passed += 1
                print("ok   %s (%.1fs)" % (name, time.monotonic() - t0),
                      flush=True)
    except BaseException as e:  # noqa: BLE001
        failed += 1
        print("FAIL run aborted: %s" % (e if isinstance(e, (RuntimeError,
                                                      SystemExit))
                                  else traceback.format_exc()), flush=True)
    finally:
        stop_all()
        shutil.rmtree(WORKDIR, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[3]))
    sys.exit(main())
