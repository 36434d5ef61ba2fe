"""Processes of the Python test scripts, shared by tests/e2e, tests/examples,
tests/interop, tests/reliability and tests/cluster.

Every process is started in its own session (process group) and recorded;
stop() stops a group by the PID of its leader and reaps it, stop_all() every
recorded one, also when a test fails. Nothing is ever killed by name.
"""

import ctypes
import os
import signal
import socket
import subprocess
import time

_procs = []


def gst_env(**extra):
    """The environment for a GStreamer process: no display, no colours in
    its log, and @extra."""
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.setdefault("GST_DEBUG_NO_COLOR", "1")
    env.update(extra)
    return env


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    # PR_SET_PDEATHSIG: SIGKILL when the thread that started it exits, so
    # that a script killed by a meson timeout leaves nothing behind
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def spawn(cmd, log, env=None, stdout=None, cwd=None, die_with_parent=False):
    """Starts cmd in its own session; stderr (and stdout unless another
    file or subprocess.PIPE is given) appended to the file log.
    die_with_parent: killed when this script dies, even by SIGKILL (only
    for processes started from the main thread)."""
    f = open(log, "ab")
    p = subprocess.Popen(cmd, stdout=stdout or f, stderr=f,
                         stdin=subprocess.DEVNULL, env=env or os.environ.copy(),
                         cwd=cwd, start_new_session=True,
                         preexec_fn=_die_with_parent if die_with_parent else None)
    f.close()
    p.log = p.logfile = log
    p.cmd = cmd
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGINT, timeout=10):
    """Stops the process group of p (by its PID), reaps it, and forgets it.
    Returns its exit status."""
    if p is None:
        return None
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGCONT)   # a stopped process cannot exit
            os.killpg(p.pid, sig)
            p.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    # anything else left in its group
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if p in _procs:
        _procs.remove(p)
    return p.returncode


def stop_all():
    while _procs:
        stop(_procs[-1])


def wait_for(cond, timeout, what, interval=0.05, ignore=()):
    """Polls cond () until it returns something true; exceptions of the
    types in ignore count as not yet."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = cond()
        except ignore:
            v = None
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(interval)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""
