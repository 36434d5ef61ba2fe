#!/usr/bin/python3
"""One case of pyframeproc run in this process, for python_stage.py.

    inproc.py CASE RESULT.json

Builds a pipeline with pyframeproc calling a model of models/ (which records
what it was given in testrecord, shared with this process), runs it to EOS
or an error, and writes what it saw to RESULT.json: the frames the model
got, the buffers an appsink got (their memory address, pixels and region
of interest metas), the bus messages and the element's stats. The checks
are python_stage.py's. Run as a child process so that a crash fails one
case, not the run.
"""

import ctypes
import json
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, GObject, Gst, GstApp, GstVideo  # noqa: E402,F401
import numpy  # noqa: E402

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
sys.path.insert(0, MODELS)
import testrecord  # noqa: E402

Gst.init(None)


def model(name):
    return os.path.join(MODELS, name)


def plane(buf, caps):
    """The first plane of @buf as an array, from GstVideo's own reading of
    the caps and the buffer's video meta (not from pyframeproc's)."""
    info = GstVideo.VideoInfo.new_from_caps(caps)
    stride, offset = info.stride[0], info.offset[0]
    vmeta = GstVideo.buffer_get_video_meta(buf)
    if vmeta is not None:
        stride, offset = vmeta.stride[0], vmeta.offset[0]
    fmt = info.finfo.name
    mi = buf.map(Gst.MapFlags.READ)
    base = numpy.frombuffer(mi.data, numpy.uint8)
    address = base.__array_interface__["data"][0]
    bpp = info.finfo.pixel_stride[0]
    rows = [bytes(base[offset + y * stride: offset + y * stride + info.width * bpp])
            for y in range(info.height)]
    del base
    buf.unmap(mi)
    data = numpy.frombuffer(b"".join(rows), numpy.uint8)
    return {"format": fmt, "address": address + offset, "sum": int(
        data.view("<u2").sum(dtype="u8") if fmt == "GRAY16_LE" else data.sum(dtype="u8")),
        "row0": data[:info.width * bpp].tolist()[:8], "width": info.width,
        "height": info.height, "stride": stride}


def rois(buf, ids):
    """The region of interest metas of @buf with these ids (GI can look
    them up by id only), and how many the buffer has in all."""
    api = GstVideo.VideoRegionOfInterestMeta.get_info().api
    out = []
    for rid in ids:
        m = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, rid)
        if m is None:
            continue
        params = {}
        for name in ("detection",):
            p = m.get_param(name)
            if p is not None:
                params[name] = {p.nth_field_name(i): p.get_value(p.nth_field_name(i))
                                for i in range(p.n_fields())}
        out.append({"type": GLib.quark_to_string(m.roi_type), "id": m.id, "x": m.x,
                    "y": m.y, "w": m.w, "h": m.h, "params": params})
    return out, buf.get_n_meta(api)


def run(desc, push=None, timeout=30):
    """Runs the pipeline; returns (samples, messages, stats)."""
    pipeline = Gst.parse_launch(desc)
    sink = pipeline.get_by_name("out")
    proc = pipeline.get_by_name("proc")
    samples, messages = [], []
    bus = pipeline.get_bus()
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        pass    # the error is on the bus
    if push is not None:
        push(pipeline)
    done = False
    deadline = GLib.get_monotonic_time() + timeout * 1000000
    while not done and GLib.get_monotonic_time() < deadline:
        s = sink.emit("try-pull-sample", 10 * Gst.MSECOND) if sink else None
        if s is not None:
            samples.append(s)
        while True:
            msg = bus.pop()
            if msg is None:
                break
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                messages.append({"type": "error", "text": err.message, "debug": dbg,
                                 "src": msg.src.get_name()})
                done = True
            elif msg.type == Gst.MessageType.WARNING:
                err, dbg = msg.parse_warning()
                messages.append({"type": "warning", "text": err.message, "debug": dbg,
                                 "src": msg.src.get_name()})
            elif msg.type == Gst.MessageType.ELEMENT and msg.src == proc:
                messages.append({"type": "element", "structure": msg.get_structure().to_string()})
            elif msg.type == Gst.MessageType.EOS:
                done = True
    while sink:
        s = sink.emit("try-pull-sample", 0)
        if s is None:
            break
        samples.append(s)
    stats = proc.get_property("stats") if proc else None
    out = [(s.get_buffer(), s.get_caps()) for s in samples]
    pipeline.set_state(Gst.State.NULL)
    st = {}
    if stats is not None:
        for i in range(stats.n_fields()):
            n = stats.nth_field_name(i)
            st[n] = stats.get_value(n)
    return out, messages, st


def src(fmt, width, height, n, pattern="ball"):
    return ("videotestsrc num-buffers=%d pattern=%s ! video/x-raw,width=%d,height=%d,"
            "framerate=30/1 ! videoconvert ! video/x-raw,format=%s" % (n, pattern, width,
                                                                       height, fmt))


# --- cases -------------------------------------------------------------------

def case_formats():
    """Every kind of format: the model's array against the buffer the
    appsink gets (the same memory, the same pixels)."""
    out = []
    for fmt, w, h, writable in [("BGR", 321, 7, False), ("RGB", 64, 9, False),
                                ("RGBA", 33, 5, False), ("xBGR", 16, 4, False),
                                ("GRAY8", 321, 7, False), ("GRAY16_LE", 33, 5, False),
                                ("BGR", 50, 6, True)]:
        testrecord.calls.clear()
        testrecord.behaviour = None
        if writable:
            def draw(frame, n):
                frame[0, :, :] = 200
            testrecord.behaviour = draw
        buffers, messages, stats = run(
            "%s ! pyframeproc name=proc module=%s format=%s writable=%s ! "
            "appsink name=out sync=false" % (src(fmt, w, h, 2), model("record.py"), fmt,
                                             "true" if writable else "false"))
        out.append({"format": fmt, "width": w, "height": h, "writable": writable,
                    "calls": testrecord.calls[:],
                    "buffers": [plane(b, c) for b, c in buffers],
                    "messages": messages, "stats": stats})
    return out


def case_convert():
    """Frames in another format than the function's: I420 in, the function
    gets BGR (converted once, by the element), GRAY8 (a view of the luma
    plane, no conversion); the buffers go on in I420 with the metas."""
    out = []
    for fmt in ("BGR", "GRAY8", "RGBA"):
        testrecord.calls.clear()
        testrecord.behaviour = lambda frame, n: [{"box": (1, 2, 3, 4), "label": "x",
                                                  "score": 0.5, "id": 1}]
        buffers, messages, stats = run(
            "%s ! pyframeproc name=proc module=%s format=%s ! appsink name=out sync=false"
            % (src("I420", 65, 9, 3), model("record.py"), fmt))
        out.append({"format": fmt, "calls": testrecord.calls[:],
                    "buffers": [dict(plane(b, c), caps=c.to_string(), rois=rois(b, [1]))
                                for b, c in buffers],
                    "messages": messages, "stats": stats})
    return out


def behaviour_detections(frame, n):
    h, w = frame.shape[:2]
    if n == 1:
        return [{"box": (10.4, 20.6, 30, 40), "label": "face", "score": 0.9, "id": 7},
                (1, 2, 3, 4),
                {"box": numpy.array([5, 6, 7, 8], numpy.int32), "label": "car", "id": 8,
                 "score": numpy.float32(0.25), "extra": "ignored"},
                {"box": (-10, -10, 30, 30), "label": "edge", "id": 9},
                {"box": (w - 5, h - 5, 20, 20), "label": "corner", "id": 10}]
    if n == 2:
        # OpenCV's detectMultiScale: an (n, 4) int32 array
        return numpy.array([[1, 2, 3, 4], [5, 6, 7, 8]], numpy.int32)
    if n == 3:
        return ()   # detectMultiScale finding nothing
    return None


def case_detections():
    testrecord.calls.clear()
    testrecord.behaviour = behaviour_detections
    buffers, messages, stats = run(
        "%s ! pyframeproc name=proc module=%s post-messages=true ! appsink name=out "
        "sync=false" % (src("BGR", 64, 48, 4), model("record.py")))
    return {"buffers": [rois(b, [0, 7, 8, 9, 10]) for b, _ in buffers],
            "messages": messages, "stats": stats}


BAD = [
    ("a string", "no detections"),
    ({"box": (1, 2, 3, 4)}, "a dict, not a list"),
    (42, "a number"),
    (numpy.zeros(5), "a 1-d array"),
    ([("a", "b", "c", "d")], "box of strings"),
    ([(1, 2, 3)], "3 numbers"),
    ([{"label": "x"}], "no box"),
    ([{"box": (float("nan"), 0, 1, 1)}], "NaN"),
    ([{"box": (0, 0, 5, 5), "label": 5}], "label not a string"),
    ([{"box": (0, 0, 5, 5), "label": "x" * 65}], "label too long"),
    ([{"box": (0, 0, 5, 5), "label": "\ud800"}], "lone surrogate"),
    ([{"box": (0, 0, 5, 5), "score": float("inf")}], "infinite score"),
    ([{"box": (0, 0, 5, 5), "score": "high"}], "score a string"),
    ([{"box": (0, 0, 5, 5), "id": 2 ** 40}], "id beyond 32 bits"),
    ([{"box": (0, 0, 5, 5), "id": 1.5}], "id not an integer"),
    ([{"box": (10000, 10000, 5, 5)}], "outside the frame"),
    ([{"box": (0, 0, 0, 5)}], "empty"),
    ([None], "None as a detection"),
    ([{"box": (1, 1, 5, 5), "id": 3}, "junk", {"box": (2, 2, 5, 5), "id": 4}],
     "one bad among good"),
]


def case_bad_results():
    testrecord.calls.clear()
    testrecord.behaviour = lambda frame, n: BAD[n - 1][0]
    buffers, messages, stats = run(
        "%s ! pyframeproc name=proc module=%s ! appsink name=out sync=false"
        % (src("BGR", 64, 48, len(BAD)), model("record.py")))
    return {"n": len(BAD), "frames": len(buffers),
            "rois": [rois(b, [0, 3, 4])[1] for b, _ in buffers],
            "last": rois(buffers[-1][0], [3, 4])[0] if buffers else None,
            "messages": messages, "stats": stats}


def case_raising():
    testrecord.calls.clear()

    def every_third(frame, n):
        if n % 3 == 0:
            raise ValueError("model failed on call %d" % n)
        return [(0, 0, 4, 4)]
    testrecord.behaviour = every_third
    buffers, messages, stats = run(
        "%s ! pyframeproc name=proc module=%s ! appsink name=out sync=false"
        % (src("BGR", 64, 48, 9), model("record.py")))
    return {"frames": len(buffers), "pts": [b.pts for b, _ in buffers],
            "messages": messages, "stats": stats}


class Ticket(GObject.Object):
    """A stand-in for redisstreamsrc's GstRedisTicket: only the interface
    pyframeproc uses (the "fail" action signal with a reason)."""
    __gtype_name__ = "GstRedisTicket"
    __gsignals__ = {"fail": (GObject.SignalFlags.RUN_LAST | GObject.SignalFlags.ACTION,
                             None, (str,))}

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.reasons = []
        self.connect("fail", lambda t, reason: t.reasons.append(reason))


def add_entry_meta(buf, fields):
    """Adds a "GstRedisEntryMeta" with these fields to @buf. Through GI,
    CustomMeta.get_structure () gives a copy (a boxed returned transfer
    none), so the fields are set on the meta's own structure in C, from
    the pointers PyGObject's wrappers hash to."""
    gst = ctypes.CDLL("libgstreamer-1.0.so.0")
    gst.gst_custom_meta_get_structure.restype = ctypes.c_void_p
    gst.gst_custom_meta_get_structure.argtypes = [ctypes.c_void_p]
    gst.gst_structure_set_value.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                            ctypes.c_void_p]
    meta = buf.add_custom_meta("GstRedisEntryMeta")
    structure = gst.gst_custom_meta_get_structure(hash(meta))
    for name, value in fields.items():
        gtype = value.__gtype__ if isinstance(value, GObject.Object) else str
        v = GObject.Value(gtype, value)
        gst.gst_structure_set_value(structure, name.encode(), hash(v))
        v.unset()


def case_tickets():
    """Frames carrying a "GstRedisEntryMeta" whose ticket must be failed when
    the function raises, as the acknowledgement interface says; frames
    without one are dropped and counted all the same."""
    Gst.meta_register_custom("GstRedisEntryMeta", [], None, None)
    testrecord.calls.clear()

    def odd_calls_raise(frame, n):
        if n % 2 == 0:
            raise ValueError("no luck with frame %d" % n)
        return None
    testrecord.behaviour = odd_calls_raise
    tickets = [Ticket("t%d" % i) for i in range(4)]

    def push(pipeline):
        appsrc = pipeline.get_by_name("src")
        for i in range(6):
            buf = Gst.Buffer.new_allocate(None, 16 * 16 * 3, None)
            buf.pts = i * Gst.SECOND // 30
            buf.duration = Gst.SECOND // 30
            if i < len(tickets):
                add_entry_meta(buf, {"stream": "video-frames", "group": "processors",
                                     "id": "1-%d" % i, "ticket": tickets[i]})
            appsrc.emit("push-buffer", buf)
        appsrc.emit("end-of-stream")
    buffers, messages, stats = run(
        "appsrc name=src format=time caps=video/x-raw,format=BGR,width=16,height=16,"
        "framerate=30/1 ! pyframeproc name=proc module=%s ! appsink name=out sync=false"
        % model("record.py"), push=push)
    return {"frames": [round(b.pts * 30 / Gst.SECOND) for b, _ in buffers],
            "reasons": {t.name: t.reasons for t in tickets},
            "messages": messages, "stats": stats}


def case_keep_one():
    testrecord.kept.clear()
    buffers, messages, stats = run(
        "%s ! pyframeproc name=proc module=%s ! appsink name=out sync=false"
        % (src("BGR", 64, 48, 30), model("keep.py")))
    return {"frames": len(buffers), "messages": messages, "stats": stats}


def case_keep_all():
    testrecord.kept.clear()
    buffers, messages, stats = run(
        "%s ! pyframeproc name=proc module=%s parameters=p,keep=100 ! appsink name=out "
        "sync=false" % (src("BGR", 64, 48, 40), model("keep.py")))
    return {"frames": len(buffers), "messages": messages, "stats": stats}


def main():
    case, result = sys.argv[1], sys.argv[2]
    data = globals()["case_" + case]()
    with open(result, "w") as f:
        json.dump(data, f, default=repr)


if __name__ == "__main__":
    main()
