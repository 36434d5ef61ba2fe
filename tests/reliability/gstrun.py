#!/usr/bin/python3
"""Runs one GStreamer pipeline with python3-gi and reports it as JSON.

  gstrun.py '<pipeline description>' [--set NAME.PROP=VALUE]... [--timeout S]
            [--stats NAME]... [--until-frames NAME=N [--linger S]]
            [--offsets NAME] [--until-offset NAME=N] [--until-warning TEXT]

Properties given with --set are set with GObject's set_property on the
element called NAME after parsing, so their values never go through the
parse string (used for passwords). The pipeline runs until EOS, an ERROR
message, --until-frames (NAME's stats "frames" >= N; then --linger more
seconds, 0 by default, while messages are still collected), --until-offset (the
fakesink NAME got a buffer of offset N), --until-warning (a WARNING whose
text contains TEXT) or the timeout. --offsets NAME records
the offset (a redisstreamsrc's seq) of every buffer the fakesink NAME gets
(it needs signal-handoffs=true). The last line of stdout is one JSON object:
{"result": "eos"|"error"|"timeout"|"frames"|"offset"|"warning", "error": {"domain",
"code", "message", "debug", "src"} or null, "warnings": [...], "infos": [...],
"stats": {NAME: "<structure string>"}, "offsets": {NAME: [...]}}.
"""

import json
import sys
import time

import gi
gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def code_name(domain, code):
    enums = {"gst-resource-error-quark": Gst.ResourceError,
             "gst-stream-error-quark": Gst.StreamError,
             "gst-core-error-quark": Gst.CoreError}
    try:
        return enums[domain](code).value_nick
    except (KeyError, ValueError):
        return str(code)


def main():
    args = sys.argv[1:]
    desc = args.pop(0)
    sets, stats_of, timeout, until, linger = [], [], 30.0, None, 0.0
    offsets_of, until_offset, until_warning = [], None, None
    while args:
        a = args.pop(0)
        if a == "--set":
            sets.append(args.pop(0))
        elif a == "--stats":
            stats_of.append(args.pop(0))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--until-frames":
            name, n = args.pop(0).split("=")
            until = (name, int(n))
        elif a == "--linger":
            linger = float(args.pop(0))
        elif a == "--offsets":
            offsets_of.append(args.pop(0))
        elif a == "--until-offset":
            name, n = args.pop(0).split("=")
            until_offset = (name, int(n))
        elif a == "--until-warning":
            until_warning = args.pop(0)
        else:
            raise SystemExit("unknown argument " + a)
    Gst.init(None)
    pipeline = Gst.parse_launch(desc)
    for s in sets:
        target, value = s.split("=", 1)
        name, prop = target.split(".", 1)
        el = pipeline.get_by_name(name)
        pspec = el.find_property(prop)
        if pspec.value_type.name in ("guint", "gint", "guint64", "gint64"):
            el.set_property(prop, int(value))
        else:
            el.set_property(prop, value)
    out = {"result": None, "error": None, "warnings": [], "infos": [], "stats": {},
           "offsets": {}}
    seen = {"offset": False}

    def on_handoff(sink, buf, pad, name):
        out["offsets"][name].append(buf.offset)
        if until_offset and until_offset[0] == name and buf.offset == until_offset[1]:
            seen["offset"] = True

    for name in offsets_of:
        out["offsets"][name] = []
        pipeline.get_by_name(name).connect("handoff", on_handoff, name)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    end = time.monotonic() + timeout
    while True:
        msg = bus.timed_pop_filtered(100 * Gst.MSECOND,
                                     Gst.MessageType.EOS | Gst.MessageType.ERROR |
                                     Gst.MessageType.WARNING | Gst.MessageType.INFO)
        if msg is not None:
            if msg.type == Gst.MessageType.EOS:
                out["result"] = "eos"
                break
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                out["result"] = "error"
                out["error"] = {"domain": err.domain, "code": err.code,
                                "code_name": code_name(err.domain, err.code),
                                "message": err.message, "debug": dbg,
                                "src": msg.src.get_name()}
                break
            if msg.type == Gst.MessageType.WARNING:
                err, dbg = msg.parse_warning()
                out["warnings"].append({"message": err.message, "debug": dbg})
                if until_warning and until_warning in err.message:
                    out["result"] = "warning"
                    break
            if msg.type == Gst.MessageType.INFO:
                err, dbg = msg.parse_info()
                out["infos"].append({"message": err.message, "debug": dbg})
        if seen["offset"]:
            out["result"] = "offset"
            break
        if until and out["result"] is None:
            st = pipeline.get_by_name(until[0]).get_property("stats")
            ok, frames = st.get_uint64("frames")
            if ok and frames >= until[1]:
                out["result"] = "frames"
                end = time.monotonic() + linger
        if out["result"] == "frames" and time.monotonic() >= end:
            break
        if time.monotonic() > end:
            out["result"] = "timeout"
            break
    # what is still queued: warnings and infos posted before the end
    while True:
        msg = bus.pop_filtered(Gst.MessageType.WARNING | Gst.MessageType.INFO)
        if msg is None:
            break
        if msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            out["warnings"].append({"message": err.message, "debug": dbg})
        else:
            err, dbg = msg.parse_info()
            out["infos"].append({"message": err.message, "debug": dbg})
    for name in stats_of:
        out["stats"][name] = pipeline.get_by_name(name).get_property("stats").to_string()
    pipeline.set_state(Gst.State.NULL)
    for name in stats_of:
        out["stats"][name + "@null"] = pipeline.get_by_name(name).get_property("stats").to_string()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
