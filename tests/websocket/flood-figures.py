#!/usr/bin/python3
"""The figures of docs/reliability.md, "websocketsink under connection
floods": the same attacks as flood.py, measured rather than asserted, so
that a build without the defences (FLOOD_PLUGIN_DIR=<its plugin directory>)
can be measured too. Not a test.

  flood-figures.py [RUNS]

For each run: 400 idle half-requests against a pipeline limited to 128
descriptors (default properties), held 3 s, then closed; the time from the
attack's end until a page load (/, /viewer.js, the WebSocket to its first
frame) works, tried for up to 30 s; the bus messages. Then 1000 sequential
connect/close cycles and one burst of 1000 connects against a pipeline with
4096 descriptors.
"""

import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flood  # noqa: E402
from wstest import Pipeline, page_load, retry_page_load, stop_started  # noqa: E402


def recovery(tmp, run):
    p = Pipeline(tmp, nofile=128, env=flood.env(), name="recovery%d" % run)
    page_load(p.port)
    attack, failed = flood.open_connections(p.port, 400, flood.HALF_REQUEST)
    time.sleep(3)
    fds = p.fds()
    flood.close_all(attack + failed)
    try:
        t = "%.2f s" % retry_page_load(p.port, 30)
    except AssertionError:
        t = "none within 30 s"
    time.sleep(1.5)
    print("400 idle connections at 128 descriptors: %d established, server held %d "
          "descriptors; page load after the attack: %s; bus: %d WARNING, %d INFO" % (
              len(attack), fds, t, len(p.lines("WARNING")), len(p.lines("INFO"))))
    p.stop()


def quick(tmp, run):
    p = Pipeline(tmp, nofile=4096, env=flood.env(), name="quick%d" % run)
    page_load(p.port)
    t0 = time.monotonic()
    for _ in range(1000):
        s = socket.create_connection(("127.0.0.1", p.port), timeout=30)
        s.close()
    seq = time.monotonic() - t0
    t0 = time.monotonic()
    ok, failed = flood.open_connections(p.port, 1000, timeout=120)
    burst = time.monotonic() - t0
    flood.close_all(ok + failed)
    print("1000 sequential connect/close: %.2f s; one burst of 1000 connects: %d in %.2f s" % (
        seq, len(ok), burst))
    p.stop()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    flood.raise_own_limit(3000)
    tmp = tempfile.mkdtemp(prefix="ws-figures-")
    print("plugin: %s" % (os.environ.get("FLOOD_PLUGIN_DIR") or
                          os.environ.get("GST_PLUGIN_PATH_1_0")))
    try:
        for run in range(runs):
            recovery(tmp, run)
            quick(tmp, run)
    finally:
        stop_started()


main()
