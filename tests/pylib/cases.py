"""The case runner of the Python test scripts (tests/reliability,
tests/websocket): each case is a function of a fresh temporary directory,
run in order; a failure prints its traceback and keeps the directory. The
last line is "N passed, N failed", as tests/summarize.py counts it.
"""

import os
import shutil
import signal
import tempfile
import time
import traceback


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
