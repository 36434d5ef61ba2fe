#!/usr/bin/python3
"""The redis-py consumer loop of docs/wire-format.md ("Reading with
redis-py"), taken from the Markdown as it is, killed mid-stream.

  docs_loop_sigkill  redisstreamsink writes 60 frames; the loop reads them in
                     a child process whose store () writes the frame's seq to
                     a results stream (30 ms of "model" before, 30 ms after);
                     the child is killed with SIGKILL 8 times across the
                     stream (at frames 4, 11, 18, ... or later), alternately
                     while an entry is being processed (read, not stored) and
                     after it was stored (not yet acknowledged), and started
                     again under the same consumer name each time. Every seq
                     reaches the results, nothing stays pending, and the
                     only duplicates are frames killed between store and
                     XACK (at-least-once).
  old_loop_loses     the same kill with the loop the page had before (reading
                     only ">"): the frame being processed stays pending
                     forever and never reaches the results. The control
                     that shows the first case can see a loss.

Child processes are started in their own session and stopped by PID; the
script starts its own redis-server. Ends with "N passed, N failed".
"""

import os
import re
import signal
import sys
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pylib"))
import cases  # noqa: E402
from procs import read, spawn, stop, wait_for  # noqa: E402

PYTHON = "/usr/bin/python3"
N = 60
KILLS = 8

OLD_LOOP = '''
def consume(r, stream, group, consumer, store):
    while True:
        for _, entries in r.xreadgroup(group, consumer, {stream: ">"},
                                       count=1, block=1000) or []:
            for entry_id, fields in entries:
                store(entry_id, decode(fields))
                r.xack(stream, group, entry_id)
'''


def docs_loop():
    """The code block under "### Reading with redis-py"."""
    text = read(os.path.join(TOP, "docs", "wire-format.md"))
    m = re.search(r"### Reading with redis-py\n+```python\n(.*?)\n```", text, re.S)
    assert m, "no Python block under \"Reading with redis-py\" in docs/wire-format.md"
    return m.group(1) + "\n"


# --- the child: the loop with a store () that takes its time ----------------

def child(module_path, sock, stream, consumer, log):
    import importlib.util
    spec = importlib.util.spec_from_file_location("reader", module_path)
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    r = redis.Redis(unix_socket_path=sock)

    def note(what):
        with open(log, "a") as f:
            f.write(what + "\n")
            f.flush()
            os.fsync(f.fileno())

    def store(entry_id, frame):
        note("start %d" % frame["seq"])
        time.sleep(0.03)                      # the model
        r.xadd(stream + "-results", {"seq": str(frame["seq"])})
        note("stored %d" % frame["seq"])
        time.sleep(0.03)                      # whatever comes before the XACK

    reader.consume(r, stream, "python", consumer, store)


# --- the cases -------------------------------------------------------------------


def write_frames(ctx, stream):
    p = spawn(["gst-launch-1.0", "videotestsrc", "num-buffers=%d" % N, "!",
               "video/x-raw,format=I420,width=64,height=48,framerate=30/1", "!",
               "redisstreamsink", "socket-path=" + ctx.redis.sock, "stream=" + stream,
               "maxlen=0"], os.path.join(ctx.tmp, stream + "-writer.log"))
    assert p.wait(60) == 0, read(p.log)
    # the group at the start of the stream: the loop's XGROUP CREATE then
    # finds it (BUSYGROUP) and reads everything
    ctx.r.xgroup_create(stream, "python", id="0")


def run_with_kills(ctx, code, stream, kills, wait_end):
    module = os.path.join(ctx.tmp, stream + "_reader.py")
    with open(module, "w") as f:
        f.write(code)
    log = os.path.join(ctx.tmp, stream + ".notes")
    write_frames(ctx, stream)

    def start():
        return spawn([PYTHON, os.path.abspath(__file__), "--child", module, ctx.redis.sock,
                      stream, "reader-1", log], os.path.join(ctx.tmp, stream + ".log"))

    def notes():
        return read(log).split("\n")[:-1]

    p = start()
    pending_at_kill = []
    for k in range(kills):
        # spread over the stream: the k-th kill at frame 4 + 7k or later
        want, target = ("start" if k % 2 == 0 else "stored"), 4 + 7 * k
        line = wait_for(lambda: next((n for n in notes() if n.split()[0] == want and
                                      int(n.split()[1]) >= target), None),
                        30, "a %r note of frame %d or later" % (want, target), interval=0.002)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)
        stop(p)
        pending = ctx.r.xpending(stream, "python")["pending"]
        pending_at_kill.append((line, pending))
        p = start()
    if wait_end:
        wait_for(lambda: group(ctx, stream)["entries-read"] == N and
                 group(ctx, stream)["pending"] == 0, 60, "every entry read and acknowledged")
    else:
        wait_for(lambda: group(ctx, stream)["entries-read"] == N and
                 group(ctx, stream)["pending"] <= kills, 60, "every entry read")
        time.sleep(1.5)         # the loop's next reads: nothing more comes
    stop(p, signal.SIGKILL)
    results = [int(f[b"seq"]) for _, f in ctx.r.xrange(stream + "-results", "-", "+")]
    return results, pending_at_kill, group(ctx, stream)


def group(ctx, stream):
    return next(g for g in ctx.r.xinfo_groups(stream) if g["name"] == b"python")


def docs_loop_sigkill(ctx):
    results, at_kill, g = run_with_kills(ctx, docs_loop(), "docs", KILLS, True)
    missing = sorted(set(range(N)) - set(results))
    dups = sorted(s for s in set(results) if results.count(s) > 1)
    killed_stored = [int(line.split()[1]) for line, _ in at_kill if line.startswith("stored")]
    print("  %d kills (note at the kill, entries pending): %s"
          % (len(at_kill), ", ".join("%s: %d" % x for x in at_kill)))
    print("  results: %d entries for %d frames, missing %s, twice %s; pending %d"
          % (len(results), N, missing or "none", dups or "none", g["pending"]))
    assert all(p == 1 for _, p in at_kill), "a kill found no entry pending: %s" % at_kill
    assert not missing, "frames lost: %s" % missing
    assert g["pending"] == 0, "%d entries still pending" % g["pending"]
    assert set(dups) <= set(killed_stored), \
        "duplicates %s beyond the frames killed after store (%s)" % (dups, killed_stored)


def old_loop_loses(ctx):
    code = docs_loop()
    # the page's decode () and imports, the old loop
    code = code[:code.index("def consume(")] + OLD_LOOP
    results, at_kill, g = run_with_kills(ctx, code, "old", 1, False)
    missing = sorted(set(range(N)) - set(results))
    print("  killed at %r: missing %s, pending %d after the restart read everything"
          % (at_kill[0][0], missing, g["pending"]))
    lost = int(at_kill[0][0].split()[1])
    assert missing == [lost] and g["pending"] == 1, \
        "the old loop did not lose the frame in processing: missing %s, pending %d" \
        % (missing, g["pending"])


CASES = [("docs_loop_sigkill", docs_loop_sigkill), ("old_loop_loses", old_loop_loses)]


def main():
    return cases.main(CASES, "interop_consumer_loop")


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
