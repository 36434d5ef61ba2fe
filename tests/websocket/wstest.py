"""What the websocketsink server tests share: the pipeline process (wsrun.py),
plain HTTP and WebSocket clients over raw sockets (with TLS when asked), a
throw-away certificate authority made with the openssl CLI, and the case
runner. Every process is started in its own session and stopped by PID.
"""

import base64
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "pylib"))
import cases as cases_runner  # noqa: E402
from procs import gst_env, read, stop, stop_all, wait_for  # noqa: E402,F401

PYTHON = "/usr/bin/python3"
WSRUN = os.path.join(HERE, "wsrun.py")
SOURCE = ("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
          "jpegenc ! ")
_started = []


class Pipeline:
    """A wsrun.py process serving SOURCE ! websocketsink name=ws port=0
    <props>; stdout (its PORT/WARNING/INFO/STATS lines) and stderr go to
    log."""

    def __init__(self, tmp, props="", nofile=None, sets=(), secrets=(), env=None,
                 name="pipeline", expect_port=True):
        self.log = os.path.join(tmp, name + ".log")
        cmd = [PYTHON, WSRUN]
        if nofile:
            cmd += ["--nofile", str(nofile)]
        for s in sets:
            cmd += ["--set", s]
        for s in secrets:
            cmd += ["--secret", s]
        cmd.append(SOURCE + "websocketsink name=ws port=0 " + props)
        f = open(self.log, "ab")
        self.p = subprocess.Popen(cmd, stdout=f, stderr=f, stdin=subprocess.PIPE,
                                  env=env or gst_env(), start_new_session=True)
        f.close()
        self.p.log = self.log
        _started.append(self.p)
        self.pid = self.p.pid
        self.port = None
        if expect_port:
            m = wait_for(lambda: self._port_or_death(), 30, "the pipeline's port")
            self.port = int(m.group(1))

    def _port_or_death(self):
        m = re.search(r"^PORT (\d+)$", self.text(), re.M)
        if m:
            return m
        if self.p.poll() is not None:
            raise AssertionError("pipeline exited (%s):\n%s" % (self.p.returncode, self.text()[-3000:]))
        return None

    def text(self):
        return read(self.log)

    def lines(self, prefix):
        return [l for l in self.text().splitlines() if l == prefix or l.startswith(prefix + " ")]

    def command(self, line, reply=None, timeout=10):
        """Sends a command on stdin; waits for a new line starting with
        reply (when given) and returns it."""
        before = len(self.lines(reply)) if reply else 0
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()
        if reply:
            return wait_for(lambda: len(self.lines(reply)) > before and self.lines(reply)[-1],
                            timeout, "a reply to " + line.split()[0])
        return None

    def stats(self):
        s = self.command("stats ws", "STATS")
        return {k: int(v) for k, v in re.findall(r"([a-z-]+)=\(g?u?int(?:64)?\)(\d+)", s)}

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        rc = stop(self.p)
        if self.p in _started:
            _started.remove(self.p)
        return rc


def stop_started():
    while _started:
        p = _started.pop()
        stop(p)
    stop_all()


# ---- clients ----

def connect(port, tls=None, timeout=5, host="127.0.0.1", server_name="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=timeout)
    if tls is not None:
        s = tls.wrap_socket(s, server_hostname=server_name)
    return s


def recv_until(s, marker, limit=1 << 20):
    buf = b""
    while marker not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            break
    return buf


def parse_head(raw):
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, rest
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, rest


def http(port, path="/", headers=None, tls=None, timeout=5, method="GET"):
    """One request on a fresh connection: (status, headers, body); the
    server closes the connection after each answer."""
    s = connect(port, tls, timeout)
    try:
        req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, port)
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        s.sendall((req + "\r\n").encode())
        raw = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
    finally:
        s.close()
    return parse_head(raw)


def ws(port, path="/ws", headers=None, tls=None, timeout=5, frames=1):
    """A WebSocket handshake, then up to @frames binary messages:
    (status, [payload, ...], headers). No frame is read unless the status
    is 101."""
    s = connect(port, tls, timeout)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (path, port, key))
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        s.sendall((req + "\r\n").encode())
        raw = recv_until(s, b"\r\n\r\n")
        status, hdrs, rest = parse_head(raw)
        messages = []
        if status != 101:
            # whatever follows must not be a frame: read to the end
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            except socket.timeout:
                pass
            return status, [rest] if rest else [], hdrs
        buf = rest

        def need(n):
            nonlocal buf
            while len(buf) < n:
                chunk = s.recv(65536)
                if not chunk:
                    raise AssertionError("connection closed inside a frame")
                buf += chunk

        while len(messages) < frames:
            need(2)
            b0, b1 = buf[0], buf[1]
            n, off = b1 & 0x7f, 2
            if n == 126:
                need(4)
                n, off = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                need(10)
                n, off = struct.unpack(">Q", buf[2:10])[0], 10
            need(off + n)
            payload, buf = buf[off:off + n], buf[off + n:]
            if b0 & 0x0f == 0x2:
                messages.append(payload)
            elif b0 & 0x0f == 0x8:
                break
        return status, messages, hdrs
    finally:
        s.close()


def page_load(port, tls=None, token=None, timeout=5):
    """What a browser does to show the page: /, /viewer.js, and the
    WebSocket up to its first frame. Raises on any failure."""
    q = "?token=" + token if token else ""
    status, _, body = http(port, "/" + q, tls=tls, timeout=timeout)
    assert status == 200 and b"<canvas" in body, ("/", status)
    status, _, body = http(port, "/viewer.js" + q, tls=tls, timeout=timeout)
    assert status == 200 and b"viewerStats" in body, ("/viewer.js", status)
    status, messages, _ = ws(port, "/ws" + q, tls=tls, timeout=timeout)
    assert status == 101 and messages, ("/ws", status, len(messages))
    return True


def retry_page_load(port, within, **kw):
    """Loads the page again and again until it works; returns the seconds it
    took, or raises after @within seconds."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < within:
        try:
            page_load(port, timeout=max(0.5, min(2.0, within - (time.monotonic() - t0))), **kw)
            return time.monotonic() - t0
        except (OSError, AssertionError) as e:
            last = e
            time.sleep(0.05)
    raise AssertionError("no page load within %.1f s (last: %r)" % (within, last))


# ---- certificates ----

def openssl(tmp, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=tmp, capture_output=True, text=True)
    assert r.returncode == 0, "openssl %s: %s" % (" ".join(args), r.stderr)
    return r.stdout


def make_ca(tmp, name):
    """A CA: (cert path, key path)."""
    crt, key = os.path.join(tmp, name + ".crt"), os.path.join(tmp, name + ".key")
    openssl(tmp, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return crt, key


def make_server_cert(tmp, ca, name="server", sans="IP:127.0.0.1,DNS:localhost"):
    """A server certificate signed by @ca (cert, key): (cert path, key
    path)."""
    crt, key = os.path.join(tmp, name + ".crt"), os.path.join(tmp, name + ".key")
    csr = os.path.join(tmp, name + ".csr")
    ext = os.path.join(tmp, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=CA:FALSE\n" % sans)
    openssl(tmp, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    openssl(tmp, "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o600)
    return crt, key


def client_tls(ca_crt):
    ctx = ssl.create_default_context(cafile=ca_crt)
    return ctx


# ---- running ----

def run_cases(cases, argv):
    """Runs the selected cases (argv: substrings of names), prints
    "N passed, N failed" last and returns the exit status."""
    return cases_runner.run_cases(cases, argv, "ws", stop_started)


def install_signal_handlers():
    cases_runner.install_signal_handlers(stop_started)
