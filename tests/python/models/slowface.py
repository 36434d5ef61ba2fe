"""docs/examples/python/facedetect.py made at least min_time seconds slow,
so that a detector is slower than the frame rate whatever this machine's
speed; with log=PATH it appends its process id per frame, so a test can
tell which process took which frame."""

import importlib.util
import os
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("facedetect", os.path.join(
    _here, "..", "..", "..", "docs", "examples", "python", "facedetect.py"))
facedetect = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(facedetect)


def process(frame, min_time=0.0, log=""):
    t0 = time.monotonic()
    faces = facedetect.process(frame)
    spent = time.monotonic() - t0
    if spent < min_time:
        time.sleep(min_time - spent)
    if log:
        with open(log, "a") as f:
            f.write("%d %.1f\n" % (os.getpid(), spent * 1000))
    return faces
