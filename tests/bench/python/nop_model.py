"""The model of the benchmark: returns one box at once. It times itself in
the process that calls it: wall and CPU time at its first and last call
(BENCH_FRAMES calls), written as JSON to BENCH_OUT, so that both stages are
measured at the same points, around the model."""

import json
import os
import time

FRAMES = int(os.environ.get("BENCH_FRAMES", "0"))
OUT = os.environ.get("BENCH_OUT", "")
DETECTIONS = [{"box": (100, 80, 64, 64), "label": "object", "score": 0.5, "id": 1}]
calls = 0
first = None


def process(frame):
    global calls, first
    calls += 1
    if calls == 1:
        first = (time.perf_counter(), time.process_time())
    elif calls == FRAMES:
        now = (time.perf_counter(), time.process_time())
        with open(OUT, "w") as f:
            json.dump({"calls": calls - 1, "wall": now[0] - first[0],
                       "cpu": now[1] - first[1], "shape": list(frame.shape)}, f)
    return DETECTIONS
