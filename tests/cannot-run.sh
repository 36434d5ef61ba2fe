#!/bin/sh
# What a test does when it cannot run its real component (a program, a
# Python module or a plugin missing, an install failing):
#   under CI=true it fails, because a CI run must not pass without running
#   it; elsewhere it is skipped (exit 77, which meson counts as skipped) with
#   a banner on stderr that is hard to miss.
# Usage: cannot-run.sh TEST REASON...
# Meson registers it under the test's own name when a program the test needs
# is missing (tests/meson.build: cannot_run); tests/browser/run.sh and
# tests/fuzz/run.sh call it when they find out at run time.
name=$1
shift
if [ "${CI:-}" = "true" ]; then
  echo "$name: could not run: $*" >&2
  echo "$name: under CI=true that is a failure, not a skip" >&2
  echo "not ok - $name could not run: $*"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$name: ******************************************************" >&2
echo "$name: SKIPPED: $name did NOT run" >&2
echo "$name: because $*" >&2
echo "$name: (under CI=true this is a failure)" >&2
echo "$name: ******************************************************" >&2
echo "SKIPPED: $name: $*"
echo "0 passed, 0 failed, 1 skipped"
exit 77
