"""The camera wall in Debian's chromium for the Python tests that run the
whole system (tests/e2e, tests/deployment): tests/browser/open-wall.js,
driven through tests/browser/run.sh, which installs playwright-core
(pinned in tests/browser/package.json) when it is missing.

    prepare()                         # raises CannotRun without node/npm/chromium
    seen = open_wall(url, log, spki=..., seconds=10, cameras=3, netns="ns")
    stats = drawn_stats(seen, "camera-1", t0_ms, t1_ms)
"""

import json
import os
import shutil
import subprocess

from cases import CannotRun
from procs import read, spawn, stop

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSER = os.path.join(TOP, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def prepare(name):
    """Checks that node, npm and chromium are there and playwright-core is
    installed (run.sh installs it, which needs the npm registry: do it
    before entering a network namespace without a way out). Raises
    CannotRun with the reason otherwise."""
    missing = [p for p in ("node", "npm") if shutil.which(os.environ.get(p.upper(), p)) is None]
    if not os.path.exists(CHROMIUM):
        missing.append("chromium")
    if missing:
        raise CannotRun("%s not found (pipelines/install-deps --tests installs them)"
                        % ", ".join(missing))
    env = dict(os.environ, CHROMIUM=CHROMIUM, MISSING="")
    out = subprocess.run(["sh", os.path.join(BROWSER, "run.sh"), "open-wall.js", name, "--check"],
                         capture_output=True, text=True, timeout=600, env=env)
    if out.returncode == 77:
        raise CannotRun("tests/browser/run.sh: %s" % out.stdout.strip())
    if out.returncode != 0:
        raise AssertionError("open-wall.js --check failed (%d):\n%s%s"
                             % (out.returncode, out.stdout, out.stderr))


def open_wall(url, log, spki=None, seconds=10, cameras=1, timeout=30, netns=None, env=None):
    """Runs open-wall.js (inside the network namespace netns when given)
    and returns its JSON. Its stderr goes to the file log. The URL goes
    in the environment (WALL_URL), off the command line."""
    cmd = [os.environ.get("NODE", "node"), os.path.join(BROWSER, "open-wall.js"),
           "--seconds", str(seconds), "--cameras", str(cameras), "--timeout", str(timeout)]
    if spki:
        cmd += ["--spki", spki]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    e = dict(env or os.environ, CHROMIUM=CHROMIUM, WALL_URL=url)
    p = spawn(cmd, log, env=e, stdout=subprocess.PIPE, cwd=BROWSER)
    try:
        out, _ = p.communicate(timeout=seconds + timeout + 90)
    except subprocess.TimeoutExpired:
        stop(p)
        raise AssertionError("open-wall.js did not finish:\n" + read(log)[-3000:])
    stop(p)
    lines = out.decode(errors="replace").strip().splitlines()
    if p.returncode != 0 or not lines:
        raise AssertionError("open-wall.js failed (%s):\n%s" % (p.returncode, read(log)[-3000:]))
    return json.loads(lines[-1])


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def drawn_stats(seen, camera, t0_ms=None, t1_ms=None):
    """(frames drawn whose capture time is in [t0_ms, t1_ms], their
    capture-to-canvas latencies in ms)"""
    drawn = [d for d in seen["cameras"].get(camera, {}).get("drawn", []) if d[0] is not None]
    if t0_ms is not None:
        drawn = [d for d in drawn if t0_ms <= d[0] <= t1_ms]
    return len(drawn), [d[1] for d in drawn]
