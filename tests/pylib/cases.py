"""The case loop of the Python test scripts of tests/python,
tests/interop/consumer-loop.py and tests/examples/test-cfilter.py.

run (cases, ctx, argv) runs the (name, fn) cases whose names contain one of
the arguments (all without arguments), each as fn (ctx): prints the name,
then PASS with the time, or the traceback and FAIL. A case that raises
CannotRun (its real component is missing) is skipped with the reason, in a
line "SKIPPED: suite: case: reason" (tests/summarize.py), and fails under
CI=true. Returns (passed, failed, skipped)."""

import os
import sys
import time
import traceback


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


def summary(passed, failed, skipped=0):
    """Prints the last line and returns the exit status."""
    print("%d passed, %d failed%s" % (passed, failed,
                                      ", %d skipped" % skipped if skipped else ""))
    return 1 if failed or not passed else 0
