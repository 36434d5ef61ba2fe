#!/usr/bin/python3
"""The C template of docs/processing.md (docs/examples/cfilter), as a team
uses it: copied to a temporary folder and built there with meson and ninja
against the installed GStreamer headers only (warnings as errors), then run
as the processing stage between two Redis streams of a private
redis-server:

  build             the copy builds; gst-inspect-1.0 myfilter describes the
                    element and its property
  stage             videotestsrc pattern=ball (a white ball on black) ->
                    redisstreamsink -> redisstreamsrc ! myfilter !
                    redisstreamsink: every output entry carries the ball as
                    a "bright" region with its "detection" score, where the
                    ball is

Every process is started in its own session and stopped by PID. Ends with
"N passed, N failed".
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
from cfilter import build_template  # noqa: E402
import cases  # noqa: E402
from procs import read, spawn, stop, wait_for  # noqa: E402

N = 30



def plugin_env(ctx):
    path = os.environ.get("GST_PLUGIN_PATH_1_0", os.environ.get("GST_PLUGIN_PATH", ""))
    env = dict(os.environ, GST_PLUGIN_PATH_1_0=ctx.plugin + (":" + path if path else ""))
    return env


def build(ctx):
    t0 = time.monotonic()
    ctx.plugin = build_template(ctx.tmp)
    out = subprocess.run(["gst-inspect-1.0", "myfilter"], env=plugin_env(ctx),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "threshold" in out.stdout and "Luma from which a pixel counts as bright" in out.stdout, \
        out.stdout
    assert "Filter/Analyzer/Video" in out.stdout
    print("  built in %.1f s outside the project, found by gst-inspect-1.0 in %s"
          % (time.monotonic() - t0, ctx.plugin))


def stage(ctx):
    assert getattr(ctx, "plugin", None), "the template was not built"
    sock = ctx.redis.sock
    env = plugin_env(ctx)
    proc = spawn(["gst-launch-1.0", "redisstreamsrc", "socket-path=" + sock, "stream=c-in",
                  "group=processors", "!", "myfilter", "!", "redisstreamsink",
                  "socket-path=" + sock, "stream=c-out", "maxlen=0"],
                 os.path.join(ctx.tmp, "stage.log"), env=env)
    wait_for(lambda: proc.poll() is not None or groups(ctx), 30, "the processor's group")
    assert proc.poll() is None, read(proc.log)
    prod = spawn(["gst-launch-1.0", "videotestsrc", "pattern=ball", "is-live=true",
                  "num-buffers=%d" % N, "!",
                  "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!",
                  "redisstreamsink", "socket-path=" + sock, "stream=c-in", "maxlen=0"],
                 os.path.join(ctx.tmp, "producer.log"), env=env)
    assert prod.wait(60) == 0, read(prod.log)
    wait_for(lambda: ctx.r.exists("c-out") and ctx.r.xlen("c-out") >= N, 30,
             "%d processed frames" % N)
    stop(proc)
    entries = ctx.r.xrange("c-out", "-", "+")
    assert len(entries) == N, len(entries)
    for _, fields in entries:
        seq = int(fields[b"seq"])
        assert b"meta" in fields, "seq %d: no meta" % seq
        rois = json.loads(fields[b"meta"])["rois"]
        assert len(rois) == 1 and rois[0]["type"] == "bright", "seq %d: %s" % (seq, rois)
        r = rois[0]
        score = r["params"]["detection"]["score"]
        # videotestsrc's ball: 40 pixels across, white on black
        assert 30 <= r["w"] <= 44 and 30 <= r["h"] <= 44 and 0.5 < score <= 1, \
            "seq %d: %s is not the ball" % (seq, r)
        assert r["x"] + r["w"] <= 320 and r["y"] + r["h"] <= 240, r
    first = json.loads(entries[0][1][b"meta"])["rois"][0]
    print("  %d of %d output entries carry the ball, e.g. %s" % (len(entries), N, first))


def groups(ctx):
    try:
        return ctx.r.xinfo_groups("c-in")
    except Exception:
        return None


def main():
    return cases.main([("build", build), ("stage", stage)], "c_template")


if __name__ == "__main__":
    sys.exit(main())
