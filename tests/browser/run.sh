#!/bin/sh
# Runs viewer.test.js (or the script and test name given: run.sh SCRIPT NAME
# [ARGS...]), installing playwright-core (the library only: the browser is
# Debian's chromium) into node_modules here when it is missing or is not the
# version package.json pins.
#
# When the test cannot run (node, npm or chromium not found, npm install
# failing), it fails under CI=true, because a CI run must not pass without
# ever opening the page; elsewhere it is skipped (exit 77) with the reason
# on stderr.
#
# Environment (set by meson): NODE, NPM, MISSING (the programs meson did not
# find), plus what viewer.test.js reads.
set -eu
cd "$(dirname "$0")"
NODE=${NODE:-node}
NPM=${NPM:-npm}
SCRIPT=${1:-viewer.test.js}
NAME=${2:-websocketsink_browser}
if [ $# -ge 2 ]; then shift 2; fi

cannot_run () {
  exec sh ../cannot-run.sh "$NAME" \
    "the viewer page was not tested in a browser: $1"
}

if [ -n "${MISSING:-}" ]; then
  cannot_run "$MISSING not found (pipelines/install-deps --tests installs them)"
fi

want=$("$NODE" -p 'require("./package.json").dependencies["playwright-core"]')
have=$("$NODE" -p 'try { require("./node_modules/playwright-core/package.json").version } catch (e) { "" }')
if [ "$want" != "$have" ]; then
  echo "run.sh: installing playwright-core $want${have:+ (replacing $have)}" >&2
  "$NPM" install --no-save >&2 ||
    cannot_run "npm install of playwright-core $want failed (see above)"
fi
exec "$NODE" "$SCRIPT" "$@"
