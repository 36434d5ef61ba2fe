"""Raises ValueError on every third call (3, 6, 9, ...), returns one box
otherwise; with log=PATH appends "called" or "raised" per call."""

calls = 0


def process(frame, log=""):
    global calls
    calls += 1
    failed = calls % 3 == 0
    if log:
        with open(log, "a") as f:
            f.write("raised\n" if failed else "called\n")
    if failed:
        raise ValueError("the model gave up on call %d" % calls)
    return [{"box": (8, 8, 16, 16), "label": "thing", "score": 0.5, "id": calls}]
