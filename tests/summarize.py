#!/usr/bin/python3
"""Counts test cases across every test program meson ran.

A GstCheck program prints "NN%: Checks: N, Failures: F, Errors: E"; the
project's other test programs (Python, Node) print "N passed, N failed" and
optionally ", N skipped". A program that crashed or timed out before printing
its own count counts as one failed case more than it reported. Prints one
line "N passed, N failed, N skipped" and exits non-zero when anything failed
or when no test case ran. Before it, the name of every program with a failed
case ("FAILED: name (N failed)") and of every program with a skipped case
("SKIPPED: name (N skipped)", with the reason a test gave in a line
"SKIPPED: name: reason", as tests/cannot-run.sh prints).
"""
import json
import re
import sys

CHECK = re.compile(r"^\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)", re.M)
REASON = re.compile(r"^SKIPPED: [^:\n]+: (.*)$", re.M)
PLAIN = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", re.M)

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        ok = t["result"] in ("OK", "EXPECTEDFAIL")
        p = fl = s = 0
        counted = False
        for m in CHECK.finditer(out):
            n, fails, errs = map(int, m.groups())
            p += n - fails - errs
            fl += fails + errs
            counted = True
        if not counted:
            for m in PLAIN.finditer(out):
                p += int(m.group(1))
                fl += int(m.group(2))
                s += int(m.group(3) or 0)
                counted = True
        if t["result"] == "SKIP":
            s += 1 if not counted else 0
        elif not counted:
            if ok:
                p += 1
            else:
                fl += 1
        elif not ok and fl == 0:
            # It said all passed but exited non-zero (a crash at teardown, a
            # leak checker): that is a failure of its own.
            fl += 1
        if fl:
            print("FAILED: %s (%d failed)" % (t["name"], fl))
        if s:
            why = REASON.search(out)
            print("SKIPPED: %s (%d skipped)%s" % (
                t["name"], s, ": " + why.group(1) if why else ""))
        passed += p
        failed += fl
        skipped += s

print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed or passed == 0 else 0)
