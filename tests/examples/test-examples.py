#!/usr/bin/python3
"""Runs the embedding examples (processor.c built by meson, processor.py)
against a private redis-server, with pipelines/producer feeding frames.

Per example: it processes every frame the producer wrote (the output stream
gets them all, the example reports them) and exits 0 after SIGINT; with an
unreachable Redis it prints the error's message and debug text and exits
non-zero. The appsink -> application -> appsrc examples (handoff.c,
handoff.py) are also killed (SIGKILL) in the middle and started again under
the same consumer name: every frame is in the output (at least once), the
frames the application failed are in the dead-letter stream, nothing stays
pending. The script starts redis-server on a unix socket in a temporary
directory and stops it, and every other process, by PID, also on failure.

Usage: test-examples.py PROCESSOR_EXE PROCESSOR_PY HANDOFF_EXE HANDOFF_PY.
Ends with one line
"N passed, N failed"; exit status 1 when anything failed.
"""

import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCER = os.path.join(TOP, "pipelines", "producer")
FRAMES = 60
PYTHON = "/usr/bin/python3"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
from procs import read, spawn, stop, stop_all, wait_for  # noqa: E402
from redisserver import RedisServer  # noqa: E402


class Ctx:
    pass


def processes_frames(ctx, name, cmd):
    env = dict(os.environ, REDIS_SOCKET=ctx.sock, INPUT_STREAM=name + "-in",
               OUTPUT_STREAM=name + "-out", PROCESSOR_GROUP="processors",
               OPERATION="motion")
    log = os.path.join(ctx.tmp, name + ".log")
    ex = spawn(cmd, log, env)
    wait_for(lambda: "processing " in read(log) or ex.poll() is not None, 20,
             "the example to start")
    assert ex.poll() is None, "example exited early:\n" + read(log)
    prod = spawn(["bash", PRODUCER], os.path.join(ctx.tmp, name + "-producer.log"),
                 dict(env, VIDEO_DEVICE="none", WIDTH="320", HEIGHT="240",
                      NUM_BUFFERS=str(FRAMES)))
    assert prod.wait(30) == 0, "producer failed"
    wait_for(lambda: ctx.r.xlen(name + "-out") >= FRAMES, 20,
             "%d processed frames" % FRAMES)
    wait_for(lambda: "frames/s" in read(log), 5, "a stats line")
    ex.send_signal(signal.SIGINT)
    rc = ex.wait(15)
    out = read(log)
    assert rc == 0, "exit status %d after SIGINT:\n%s" % (rc, out)
    assert "processed %d frames" % FRAMES in out, out
    groups = ctx.r.xinfo_groups(name + "-in")
    assert groups and groups[0]["pending"] == 0, groups
    print("  " + [l for l in out.splitlines() if "frames/s" in l][-1])
    print("  " + [l for l in out.splitlines() if l.startswith("processed")][-1])


def handoff_killed(ctx, name, cmd):
    """appsink -> application -> appsrc, SIGKILLed after 20 results and
    started again: nothing lost, the failed frames set aside."""
    n, fail_every = 90, 25
    env = dict(os.environ, REDIS_SOCKET=ctx.sock, INPUT_STREAM=name + "-in",
               OUTPUT_STREAM=name + "-out", PROCESSOR_GROUP="processors",
               CONSUMER=name + "-worker", FAIL_EVERY=str(fail_every))

    def start(i):
        log = os.path.join(ctx.tmp, "%s-%d.log" % (name, i))
        ex = spawn(cmd, log, env)
        wait_for(lambda: "processing" in read(log) or ex.poll() is not None, 20,
                 "the example to start")
        assert ex.poll() is None, "example exited early:\n" + read(log)
        return ex, log
    ex, _ = start(1)
    prod = spawn(["bash", PRODUCER], os.path.join(ctx.tmp, name + "-producer.log"),
                 dict(env, VIDEO_DEVICE="none", WIDTH="320", HEIGHT="240",
                      NUM_BUFFERS=str(n)))
    wait_for(lambda: ctx.r.exists(name + "-out") and ctx.r.xlen(name + "-out") >= 20, 30,
             "20 results")
    os.killpg(ex.pid, signal.SIGKILL)
    ex.wait()
    stop(ex)
    held = ctx.r.xpending(name + "-in", "processors")["pending"]
    ex, log = start(2)
    assert prod.wait(30) == 0, "producer failed"

    def done():
        g = ctx.r.xinfo_groups(name + "-in")[0]
        return g["pending"] == 0 and g["lag"] == 0
    wait_for(done, 30, "every frame read and acknowledged")
    time.sleep(0.2)     # not a poll: results of the last frames written
    out = {int(f[b"seq"]) for _, f in ctx.r.xrange(name + "-out")}
    failed = {s for s in range(n) if s % fail_every == fail_every - 1}
    missing = set(range(n)) - failed - out
    assert not missing, "frames neither in the output nor set aside: %s" % sorted(missing)
    dead = {int(f[b"seq"]): f[b"dead-letter-reason"].decode()
            for _, f in ctx.r.xrange(name + "-in:dead-letter")}
    assert set(dead) == failed, "dead letters %s, failed %s" % (sorted(dead), sorted(failed))
    assert all("cannot process" in r for r in dead.values()), dead
    ex.send_signal(signal.SIGINT)
    assert ex.wait(15) == 0, read(log)
    print("  killed with %d frames pending, started again: all %d frames in the output, "
          "%d set aside" % (held, n - len(failed), len(dead)))


def error_exits(ctx, name, cmd):
    env = dict(os.environ, REDIS_SOCKET=os.path.join(ctx.tmp, "no-such.sock"))
    log = os.path.join(ctx.tmp, name + ".log")
    ex = spawn(cmd, log, env)
    rc = ex.wait(30)
    out = read(log)
    assert rc != 0, "exit status 0 with Redis unreachable:\n" + out
    assert "ERROR from " in out and "Could not connect to Redis" in out \
        and "debug:" in out, out
    assert "processing " not in out, out
    print("  " + out.splitlines()[0] if out else "")


def main():
    exe, script, handoff_exe, handoff_script = sys.argv[1:5]
    examples = [("c", [exe]), ("python", [PYTHON, script])]
    ctx = Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-examples.")
    passed = failed = 0
    try:
        server = RedisServer(ctx.tmp, unix=True)
        ctx.sock, ctx.r = server.sock, server.client()
        cases = []
        for name, cmd in examples:
            cases.append(("%s_processes_frames" % name, processes_frames, name, cmd))
            cases.append(("%s_error_exits_non_zero" % name, error_exits, name + "-err", cmd))
        for name, cmd in (("handoff-c", [handoff_exe]), ("handoff-python", [PYTHON, handoff_script])):
            cases.append(("%s_killed" % name, handoff_killed, name, cmd))
        for case, fn, name, cmd in cases:
            print("%s:" % case, flush=True)
            try:
                fn(ctx, name, cmd)
                print("  PASS", flush=True)
                passed += 1
            except Exception:
                traceback.print_exc(file=sys.stdout)
                print("  FAIL", flush=True)
                failed += 1
    except Exception:
        traceback.print_exc(file=sys.stdout)
        failed += 1
    finally:
        stop_all()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
