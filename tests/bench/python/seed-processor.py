#!/usr/bin/python3
"""The original design's Python processor, for tests/bench/python/run-bench:
redis-py XREADGROUP COUNT 1 of a frame in the wire format
(docs/wire-format.md), lz4.frame.decompress, NumPy decode into an array
(the I420 buffer as (height * 3 / 2, width), or with --bgr converted to a
BGR image with OpenCV as a model wanting BGR gets it), the model
(nop_model.py), then encode (with --bgr back to I420 with OpenCV),
lz4.frame.compress, XADD of the frame with the detections as `meta`
(the rois redisstreamsink writes), XACK.

    seed-processor.py --port P --stream S --out-stream S2 --group G
        --width W --height H [--bgr]
"""
import argparse
import json
import os
import sys

import lz4.frame
import numpy as np
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nop_model  # noqa: E402


def meta(detections):
    rois = []
    for d in detections:
        x, y, w, h = (int(v) for v in d["box"])
        roi = {"type": d.get("label", "object"), "id": int(d.get("id", 0)), "parent-id": 0,
               "x": x, "y": y, "w": w, "h": h, "params": {}}
        if d.get("score") is not None:
            roi["params"]["detection"] = {"score": float(d["score"])}
        rois.append(roi)
    return json.dumps({"rois": rois})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--out-stream", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--bgr", action="store_true")
    a = ap.parse_args()
    if a.bgr:
        import cv2
    r = redis.Redis(host="127.0.0.1", port=a.port)
    copied = set()
    while True:
        reply = r.xreadgroup(a.group, "seed", {a.stream: ">"}, count=1, block=1000)
        if not reply:
            continue
        entry_id, fields = reply[0][1][0]
        data = fields[b"data"]
        if fields.get(b"encoding") == b"lz4":
            data = lz4.frame.decompress(data)
        frame = np.frombuffer(data, np.uint8).reshape(a.height * 3 // 2, a.width)
        if a.bgr:
            frame = cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420)
        detections = nop_model.process(frame)
        if a.bgr:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
        out = dict(fields)
        if fields.get(b"v") == b"2":
            # version 2: the caps go with their id into the output's hash
            # (docs/wire-format.md), once
            field = b"caps:" + fields[b"caps"]
            if field not in copied:
                r.hsetnx(a.out_stream + ":info", field,
                         r.hget(a.stream + ":info", field))
                copied.add(field)
        out[b"encoding"] = b"lz4"
        out[b"size"] = str(len(frame.tobytes()))
        out[b"data"] = lz4.frame.compress(frame.tobytes())
        out[b"meta"] = meta(detections)
        r.xadd(a.out_stream, out, maxlen=100, approximate=True)
        r.xack(a.stream, a.group, entry_id)


if __name__ == "__main__":
    main()
