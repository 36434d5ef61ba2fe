#!/bin/sh
# Runs viewer.test.js, installing playwright-core (the library only: the
# browser is Debian's chromium) into node_modules here when it is missing.
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/playwright-core/package.json ]; then
  echo "run.sh: installing playwright-core" >&2
  if ! npm install --no-save >&2; then
    echo "run.sh: npm install failed, cannot run the browser test" >&2
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
  fi
fi
exec node viewer.test.js
