#!/usr/bin/python3
"""The processing stage of tests/bench/python/run-bench, the line
pipelines/processor runs, in this process so that the element's stats can
be read at the end:

    stage.py PORT ELEMENT FRAMES RESULT.json
        ELEMENT: pyframeproc:FORMAT, or frameproc (passthrough: the stage
        without Python, for reference)

With pyframeproc the model (nop_model.py, BENCH_FRAMES and BENCH_OUT in
the environment) times itself; with frameproc a probe on the sink's pad
times the first and the last frame. Adds pyframeproc's average-overhead
(ns) and the time from the first frame to the last, then writes RESULT."""
import json
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    port, element, frames, result = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    Gst.init(None)
    if element.startswith("pyframeproc:"):
        stage = "pyframeproc name=proc module=%s format=%s" % (
            os.path.join(HERE, "nop_model.py"), element.split(":", 1)[1])
    else:
        stage = "frameproc name=proc operation=passthrough"
    pipeline = Gst.parse_launch(
        "redisstreamsrc host=127.0.0.1 port=%s stream=in group=bench consumer=c ! %s ! "
        "redisstreamsink name=sink host=127.0.0.1 port=%s stream=out maxlen=100"
        % (port, stage, port))
    out = os.environ["BENCH_OUT"]
    times = []

    def probe(pad, info):
        times.append((time.perf_counter(), time.process_time()))
        if len(times) == frames:
            with open(out, "w") as f:
                json.dump({"calls": frames - 1, "wall": times[-1][0] - times[0][0],
                           "cpu": times[-1][1] - times[0][1], "shape": []}, f)
        return Gst.PadProbeReturn.OK
    if element == "frameproc":
        pipeline.get_by_name("sink").get_static_pad("sink").add_probe(
            Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    deadline = time.monotonic() + 60 + frames
    while not os.path.exists(out) and time.monotonic() < deadline:
        msg = bus.timed_pop_filtered(50 * Gst.MSECOND, Gst.MessageType.ERROR)
        if msg is not None:
            err, dbg = msg.parse_error()
            sys.exit("ERROR: %s\n%s" % (err.message, dbg))
    time.sleep(0.05)
    stats = pipeline.get_by_name("proc").get_property("stats")
    pipeline.set_state(Gst.State.NULL)
    with open(out) as f:
        res = json.load(f)
    if element.startswith("pyframeproc"):
        res["overhead"] = stats.get_value("average-overhead") / 1e9
    with open(result, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
