"""The case loop of the Python test scripts of tests/python,
tests/interop/consumer-loop.py and tests/examples/test-cfilter.py; run_cases ()
is the runner of tests/reliability and tests/websocket (a fresh temporary
directory per case).

main (cases, suite) is a whole script's main (): a temporary folder and a
private redis-server for the cases, everything stopped and removed after.

run (cases, ctx, argv) runs the (name, fn) cases whose names contain one of
the arguments (all without arguments), each as fn (ctx): prints the name,
then PASS with the time, or the traceback and FAIL. A case that raises
CannotRun (its real component is missing) is skipped with the reason, in a
line "SKIPPED: suite: case: reason" (tests/summarize.py), and fails under
CI=true. Returns (passed, failed, skipped)."""

import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from procs import stop_all
from redisserver import RedisServer


class CannotRun(Exception):
    pass


def run(cases, ctx, argv, suite):
    selected = [c for c in cases if not argv or any(a in c[0] for a in argv)]
    passed = failed = skipped = 0
    for name, fn in selected:
        print("%s:" % name, flush=True)
        t0 = time.monotonic()
        try:
            fn(ctx)
            print("  PASS (%.1f s)" % (time.monotonic() - t0), flush=True)
            passed += 1
        except CannotRun as e:
            if os.environ.get("CI") == "true":
                print("  FAIL: could not run (a failure under CI=true): %s" % e, flush=True)
                failed += 1
            else:
                print("SKIPPED: %s: %s: %s" % (suite, name, e), flush=True)
                skipped += 1
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print("  FAIL", flush=True)
            failed += 1
        finally:
            after = getattr(ctx, "after_case", None)
            if after is not None:
                after()
    return passed, failed, skipped


class Ctx:
    """What the cases share: tmp (a temporary folder), redis (a private
    redis-server on a unix socket in it), r (its client)."""


def main(case_list, suite, after_case=None):
    """Runs the cases of sys.argv's selection with a Ctx, stops every
    process a case started and removes the folder; returns the exit
    status. after_case (ctx), when given, runs after every case."""
    ctx = Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-%s." % suite)
    result = (0, 1, 0)
    try:
        ctx.redis = RedisServer(ctx.tmp, unix=True)
        ctx.r = ctx.redis.client()
        if after_case is not None:
            ctx.after_case = lambda: after_case(ctx)
        result = run(case_list, ctx, sys.argv[1:], suite)
    except Exception:
        traceback.print_exc(file=sys.stdout)
    finally:
        stop_all()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    return summary(*result)


def summary(passed, failed, skipped=0):
    """Prints the last line and returns the exit status."""
    print("%d passed, %d failed%s" % (passed, failed,
                                      ", %d skipped" % skipped if skipped else ""))
    return 1 if failed or not passed else 0


def run_cases(cases, argv, prefix, cleanup):
    """Runs the cases whose names contain one of argv's strings (all when
    argv is empty), calling cleanup () after each; returns the exit
    status."""
    selected = [c for c in cases if not argv or any(a in c.__name__ for a in argv)]
    passed = failed = 0
    for case in selected:
        tmp = tempfile.mkdtemp(prefix="%s-%s-" % (prefix, case.__name__))
        t0 = time.monotonic()
        print("=== %s" % case.__name__, flush=True)
        try:
            case(tmp)
            passed += 1
            print("PASS %s (%.1f s)" % (case.__name__, time.monotonic() - t0), flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
        except BaseException as e:
            failed += 1
            traceback.print_exc()
            print("FAIL %s (%.1f s): %s; logs kept in %s" % (
                case.__name__, time.monotonic() - t0,
                str(e).splitlines()[0] if str(e) else type(e).__name__, tmp), flush=True)
            if isinstance(e, KeyboardInterrupt):
                break
        finally:
            cleanup()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or not selected else 0


def install_signal_handlers(cleanup):
    """meson test sends SIGTERM on timeout: cleanup () (stop what the test
    started) first."""
    def handler(signum, frame):
        cleanup()
        print("0 passed, 1 failed (terminated by signal %d)" % signum, flush=True)
        os._exit(1)
    signal.signal(signal.SIGTERM, handler)
