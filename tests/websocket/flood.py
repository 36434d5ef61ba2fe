#!/usr/bin/python3
"""websocketsink against connection floods, as separate processes:
the pipeline (wsrun.py: videotestsrc ! jpegenc ! websocketsink) with a low
descriptor limit, and this script as the attacker and the viewer.

  idle_flood           400 connections that send half a request and wait, at
                       `--nofile 128` with default properties: a page load
                       (/, /viewer.js, the WebSocket to its first frame) works
                       during the attack (max-pending-connections closes the
                       oldest), the server holds at most 64 of them, and a
                       page load works at once after the attack ends.
  descriptor_exhaustion the same with max-pending-connections=1000, so the
                       process does run out of descriptors: websocketsink
                       posts a WARNING saying so, keeps running, and within
                       5 s of the attack's end a page load works and an INFO
                       message says it accepts again. Prints the recovery
                       time.
  request_timeout      request-timeout=2: a connection that sends nothing and
                       one that sends half a request are closed after 2 s
                       (not before 1.8 s, not after 3 s); a POST with a
                       100 GB body is closed at once (within 1 s), its body
                       not read into memory (the process grows by less than
                       32 MB).
  quick_connections    1000 connect/close cycles one after the other, and
                       1000 in 10 bursts of 100, each finish in under 10 s
                       (prints the times), the server's descriptors go back
                       to where they were, and the page still loads.

FLOOD_PLUGIN_DIR, when set, replaces the plugin path (to measure another
build of the plugin with the same script). Arguments select cases by
substring. The last line is "N passed, N failed".
"""

import errno
import os
import resource
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wstest import (Pipeline, gst_env, install_signal_handlers, page_load,  # noqa: E402
                    retry_page_load, run_cases, wait_for)

NOFILE = 128
ATTACK = 400


def env():
    e = gst_env()
    if os.environ.get("FLOOD_PLUGIN_DIR"):
        e["GST_PLUGIN_PATH_1_0"] = os.environ["FLOOD_PLUGIN_DIR"]
        e["GST_REGISTRY"] = os.path.join(os.environ["FLOOD_PLUGIN_DIR"], "registry.bin")
    return e


def raise_own_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def open_connections(port, n, payload=b"", timeout=5.0):
    """n connections at once (non-blocking connects); those connected within
    the timeout get @payload. Returns (connected sockets, the others)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        assert err in (0, errno.EINPROGRESS), os.strerror(err)
        socks.append(s)
    pending = set(socks)
    done = []
    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        _, w, _ = select.select([], list(pending)[:1000], [], 0.1)
        for s in w:
            pending.discard(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                if payload:
                    try:
                        s.send(payload)
                    except OSError:
                        pass
                done.append(s)
            else:
                s.close()
    return done, list(pending)


def close_all(socks):
    for s in socks:
        s.close()


def closed_by_peer(s):
    """Whether the server closed @s (a read would return EOF or reset)."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def idle_flood(tmp):
    raise_own_limit(4 * ATTACK)
    p = Pipeline(tmp, nofile=NOFILE, env=env())
    page_load(p.port)
    base = p.fds()
    print("pipeline pid %d, port %d, limit %d descriptors, %d in use" % (
        p.pid, p.port, NOFILE, base))

    attack, failed = open_connections(p.port, ATTACK, HALF_REQUEST)
    print("attack: %d of %d connections established, %d not" % (len(attack), ATTACK, len(failed)))
    time.sleep(1)
    t = retry_page_load(p.port, 5)
    held = p.fds() - base
    closed = sum(closed_by_peer(s) for s in attack)
    print("during the attack: page loaded in %.2f s; the server holds %d more descriptors; "
          "it closed %d attack connections" % (t, held, closed))
    assert held <= 64 + 8, "the server holds %d descriptors more than before" % held
    assert p.alive()

    close_all(attack + failed)
    t = retry_page_load(p.port, 5)
    print("after the attack: page loaded in %.2f s" % t)
    assert not p.lines("ERROR"), p.lines("ERROR")
    assert not p.lines("WARNING"), p.lines("WARNING")


def descriptor_exhaustion(tmp):
    raise_own_limit(4 * ATTACK)
    p = Pipeline(tmp, "max-pending-connections=1000", nofile=NOFILE, env=env())
    page_load(p.port)
    print("pipeline pid %d, port %d, limit %d descriptors, %d in use" % (
        p.pid, p.port, NOFILE, p.fds()))

    attack, failed = open_connections(p.port, ATTACK, HALF_REQUEST)
    print("attack: %d of %d connections established, %d not" % (len(attack), ATTACK, len(failed)))
    warning = wait_for(lambda: p.lines("WARNING"), 10, "a warning about descriptors")[0]
    print("warning: " + warning)
    assert "file descriptor" in warning, warning
    print("the server holds %d descriptors of %d" % (p.fds(), NOFILE))
    # the attack lasts a while, shorter than request-timeout (10 s)
    time.sleep(2)
    assert p.alive(), p.text()[-2000:]

    close_all(attack + failed)
    t = retry_page_load(p.port, 5)
    print("RECOVERY: page loaded %.2f s after the attack ended" % t)
    info = wait_for(lambda: [l for l in p.lines("INFO") if "accepts connections again" in l], 5,
                    "an info message that it accepts again")
    print("info: " + info[0])
    assert not p.lines("ERROR"), p.lines("ERROR")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request_timeout(tmp):
    p = Pipeline(tmp, "request-timeout=2", env=env())
    page_load(p.port)
    rss0 = rss_kb(p.pid)
    silent = socket.create_connection(("127.0.0.1", p.port))
    half = socket.create_connection(("127.0.0.1", p.port))
    half.sendall(HALF_REQUEST)
    post = socket.create_connection(("127.0.0.1", p.port))
    post.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000000\r\n\r\n")
    t0 = time.monotonic()
    closed = {}
    chunk = b"x" * 65536
    sent = 0
    post.setblocking(False)
    while len(closed) < 3 and time.monotonic() - t0 < 6:
        for name, s in (("silent", silent), ("half request", half), ("POST body", post)):
            if name not in closed and closed_by_peer(s):
                closed[name] = time.monotonic() - t0
        if "POST body" not in closed:
            try:
                sent += post.send(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                closed["POST body"] = time.monotonic() - t0
        else:
            time.sleep(0.01)
    growth = (rss_kb(p.pid) - rss0) / 1024
    print("closed after: %s; POST body sent before the close: %.0f MB; pipeline RSS grew %.1f MB" % (
        ", ".join("%s %.2f s" % kv for kv in sorted(closed.items())), sent / 1e6, growth))
    for name in ("silent", "half request", "POST body"):
        assert name in closed, "%s connection still open after 6 s" % name
    for name in ("silent", "half request"):
        assert 1.8 <= closed[name] <= 3, "%s closed after %.2f s" % (name, closed[name])
    assert closed["POST body"] < 1, "POST body closed after %.2f s" % closed["POST body"]
    assert growth < 32, "RSS grew by %.1f MB" % growth
    page_load(p.port)
    stats = p.stats()
    print("stats: connections-closed %d, connections-pending %d" % (
        stats["connections-closed"], stats["connections-pending"]))
    assert stats["connections-closed"] >= 3, stats
    for s in (silent, half, post):
        s.close()


def quick_connections(tmp):
    raise_own_limit(1000)
    p = Pipeline(tmp, nofile=1024, env=env())
    page_load(p.port)
    base = p.fds()

    t0 = time.monotonic()
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", p.port), timeout=30)
        s.close()
    sequential = time.monotonic() - t0
    print("QUICK: 1000 sequential connect/close cycles in %.2f s" % sequential)

    t0 = time.monotonic()
    done = 0
    for burst in range(10):
        ok, failed = open_connections(p.port, 100, timeout=30)
        done += len(ok)
        close_all(ok + failed)
    bursts = time.monotonic() - t0
    print("QUICK: %d connect/close cycles in 10 bursts of 100 in %.2f s" % (done, bursts))

    assert sequential < 10, "1000 sequential connections took %.1f s" % sequential
    assert done == 1000, "only %d of 1000 connected" % done
    assert bursts < 10, "1000 connections in bursts took %.1f s" % bursts
    fds = wait_for(lambda: p.fds() <= base + 2 and p.fds(), 10,
                   "the server's descriptors back to %d (now %d)" % (base, p.fds()))
    print("server descriptors: %d before, %d after" % (base, fds))
    page_load(p.port)


CASES = [idle_flood, descriptor_exhaustion, request_timeout, quick_connections]

if __name__ == "__main__":
    install_signal_handlers()
    sys.exit(run_cases(CASES, sys.argv[1:]))
