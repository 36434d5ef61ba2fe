#!/usr/bin/python3
"""The whole system as separate hosts: network namespaces made by this
test, as docs/deployment.md lays a deployment out.

Topology (made with `ip netns`, removed at the end whatever happens): a
"switch" namespace holding a bridge, and five hosts, each a namespace with
one veth link to the bridge and an address of 10.20.0.0/24:

    camera     10.20.0.11  three H.264 cameras: pipelines/producer
                           ENCODING=h264 (openh264enc), video-frames-1..3
    redis      10.20.0.12  redis-server on TLS only (--port 0 --tls-port
                           6380), client certificates required, the ACL file
                           of docs/deployment.md (one least-privilege user per
                           stage, the default user off)
    processor  10.20.0.13  one pipelines/processor per camera, DECODE=h264
                           frameproc motion ENCODING=h264, processed-frames-N
    viewer     10.20.0.14  pipelines/viewer: the wall of the three cameras
                           (pass: H.264 as stored) over HTTPS on 8443 with a
                           token
    operator   10.20.0.15  headless Chromium (tests/browser/open-wall.js),
                           pipelines/monitor, the clients of the checks

docs/deployment.md is what runs: its certificate and secret commands
(certs.sh, secrets.sh: openssl) make the files in an admin folder, each goes
where its table says on its host (tmp/hosts/ROLE stands for that host's /),
its redis.conf and ACL file (the passwords' SHA-256 filled in) configure
redis-server, its redis.env is loaded on every stage host, and the commands
of its "deployment-run" blocks start the stages on their hosts (`ip netns
exec`), with only the picture size, a test pattern for the cameras and a
longer camera stream (to count the frames sent) changed.

Cases:
  wall_over_https       Chromium on the operator host opens
                        https://10.20.0.14:8443/?token=... trusting the test
                        CA: a secure page with WebCodecs that draws H.264
                        pictures of all three cameras, each in every third
                        of the watch, each picture one its camera sent
                        (matched by capture time). Prints, per camera,
                        the frames drawn against the frames sent (the
                        cameras' entries whose capture time falls in the
                        watch), capture-to-canvas p50/p95, and the CPU of
                        each host: the figures of docs/performance.md.
  plain_http_needs_https the same wall served over plain HTTP (a second
                        viewer, port 8080) and opened from the operator host:
                        the page loads, is not a secure context, and every
                        camera's tile says it needs HTTPS; nothing is drawn.
  viewer_secret_and_ca  from the operator host: without the token, with a
                        wrong one, and for the WebSocket upgrade without it,
                        401 and no frame; with it, 200. A client trusting
                        another CA refuses the viewer (Python's ssl, and
                        Chromium: ERR_CERT_AUTHORITY_INVALID).
  redis_refusals        Redis refuses plain TCP, TLS without a client
                        certificate and the default user; a redisstreamsrc on
                        the processor host trusting another CA refuses Redis
                        (an error naming the server); each stage's user can
                        do its own work only (camera-1 cannot write
                        video-frames-2 nor read video-frames-1, the viewer
                        cannot write, the monitor cannot write).
  monitor_over_tls      pipelines/monitor --once --all on the operator host,
                        as user monitor over TLS, reports the six streams.
  no_secret_in_processes no password and no token in the command line or
                        the environment of any process on any host.
  rotate_secrets        the rotations of docs/deployment.md: a new viewer
                        token (old one 401, new one 200 after the viewer's
                        restart) and a new password for camera-1 (both valid
                        meanwhile, the old one refused after; the camera
                        writes again).

Needs root, `ip netns`, openssl, openh264enc, node, npm and chromium: when
one is missing it is skipped with the reason (tests/cannot-run.sh; a
failure under CI=true). Every process runs in its own session and is
stopped by PID; then every process left in a namespace of this test (`ip
netns pids`) is killed by PID, and the namespaces (with their links) are
deleted, also after a failure, SIGTERM (meson's timeout) or, for a test
killed by SIGKILL, at the start of the next run (namespaces named after a
test PID that no longer exists). Environment: NETNS_WIDTH [640],
NETNS_HEIGHT [480], NETNS_FPS [15], NETNS_SECONDS [20] (the watch).
"""

import bisect
import contextlib
import ctypes
import hashlib
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PIPELINES = os.path.join(TOP, "pipelines")
DOC = os.path.join(TOP, "docs", "deployment.md")
CANNOT_RUN = os.path.join(TOP, "tests", "cannot-run.sh")
sys.path.insert(0, os.path.join(TOP, "tests", "pylib"))
import browser  # noqa: E402
import cases  # noqa: E402
from cases import CannotRun  # noqa: E402
from procs import read, spawn, stop, stop_all, wait_for  # noqa: E402
from tlscerts import spki  # noqa: E402

import redis  # noqa: E402

SUITE = "deployment_netns"
NET = "10.20.0."
HOSTS = {"camera": NET + "11", "redis": NET + "12", "processor": NET + "13",
         "viewer": NET + "14", "operator": NET + "15"}
REDIS_PORT = 6380
VIEWER_PORT = 8443
PLAIN_PORT = 8080
CAMERAS = [1, 2, 3]
WIDTH = int(os.environ.get("NETNS_WIDTH", "640"))
HEIGHT = int(os.environ.get("NETNS_HEIGHT", "480"))
FPS = int(os.environ.get("NETNS_FPS", "15"))
SECONDS = float(os.environ.get("NETNS_SECONDS", "20"))
PREFIX = "gsrdep"
CLONE_NEWNET = 0x40000000
USERS = ["admin", "camera-1", "camera-2", "camera-3", "processor", "viewer", "monitor"]
# which host keeps which user's password file (docs/deployment.md)
USER_HOST = {"camera-1": "camera", "camera-2": "camera", "camera-3": "camera",
             "processor": "processor", "viewer": "viewer", "monitor": "operator"}

_libc = ctypes.CDLL(None, use_errno=True)


# --- the topology ---------------------------------------------------------------

def ip(*args, check=True):
    out = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)
    if check and out.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), out.stderr.strip()))
    return out


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Topology:
    """The namespaces of this run: PREFIX<pid>-<role>."""

    def __init__(self):
        self.prefix = "%s%d" % (PREFIX, os.getpid())
        self.made = []

    def ns(self, role):
        return "%s-%s" % (self.prefix, role)

    def create(self):
        sw = self.ns("switch")
        self._add(sw)
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for role, addr in HOSTS.items():
            ns = self.ns(role)
            self._add(ns)
            ip("-n", sw, "link", "add", "to-" + role, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", sw, "link", "set", "to-" + role, "master", "br0", "up")
            ip("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")

    def _add(self, ns):
        ip("netns", "add", ns)
        self.made.append(ns)

    def destroy(self):
        """Kills every process left in the namespaces (by PID), then
        deletes them; the links go with them. Returns what was removed."""
        removed = []
        for ns in reversed(self.made):
            remove_namespace(ns)
            removed.append(ns)
        self.made = []
        return removed


def remove_namespace(ns):
    for _ in range(50):
        pids = [int(p) for p in ip("netns", "pids", ns, check=False).stdout.split()]
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    ip("netns", "del", ns, check=False)


def remove_stale():
    """Namespaces of an earlier run killed before it could clean up (its
    PID is gone)."""
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"^%s(\d+)-[a-z]+$" % PREFIX, name)
        if m and not pid_alive(int(m.group(1))):
            print("removing namespace %s of an earlier run (pid %s is gone)" % (name, m.group(1)))
            remove_namespace(name)


@contextlib.contextmanager
def in_netns(ns):
    """Runs the block's socket calls in the network namespace ns (this
    thread only): a client on that host."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns to " + ns)
        yield
    finally:
        if _libc.setns(own, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(own)
        os.close(target)


def probe():
    """Why this machine cannot make the topology, or None."""
    if os.geteuid() != 0:
        return "it needs root (ip netns add)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    name = "%s%d-probe" % (PREFIX, os.getpid())
    out = ip("netns", "add", name, check=False)
    if out.returncode != 0:
        return "ip netns add does not work here: %s" % out.stderr.strip()
    try:
        out = ip("-n", name, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1",
                 check=False)
        if out.returncode != 0:
            return "no veth links here: %s" % out.stderr.strip()
        out = ip("-n", name, "link", "add", "br0", "type", "bridge", check=False)
        if out.returncode != 0:
            return "no bridges here: %s" % out.stderr.strip()
    finally:
        remove_namespace(name)
    for prog in ("openssl", "redis-server", "gst-launch-1.0"):
        if shutil.which(prog) is None:
            return "%s is missing" % prog
    if subprocess.run(["gst-inspect-1.0", "openh264enc"], capture_output=True).returncode:
        return "openh264enc is missing (gstreamer1.0-plugins-bad)"
    return None


# --- the hosts' files, from docs/deployment.md ---------------------------------

def doc_block(marker):
    """The code block right after <!-- marker --> in docs/deployment.md."""
    m = re.search(r"<!-- %s -->\s*```[a-z]*\n([\s\S]*?)```" % re.escape(marker), read(DOC))
    assert m, "%s has no code block after <!-- %s -->" % (DOC, marker)
    return m.group(1)


def on_host(ctx, role, text):
    """text with the docs' paths as they are on host role here."""
    return (text.replace("/etc/gst-redis/", host_dir(ctx, role, "etc", "gst-redis") + "/")
            .replace("/etc/redis/", host_dir(ctx, role, "etc", "redis") + "/"))


def acl_file(passwords):
    """The ACL file of docs/deployment.md with each user's password hash."""
    text = doc_block("deployment-acl")
    for user, pw in passwords.items():
        placeholder = "#SHA256-OF-%s-PASSWORD" % user.upper()
        assert placeholder in text, "the ACL file of the docs has no %s" % placeholder
        text = text.replace(placeholder, "#" + hashlib.sha256(pw.encode()).hexdigest())
    assert "SHA256-OF" not in text, "a user of the docs' ACL file this test does not know"
    return text


def doc_commands(ctx, role):
    """The commands of docs/deployment.md for host role: [(environment
    settings, command words)], with the docs' paths as they are here."""
    out = []
    for line in doc_block("deployment-run " + role).splitlines():
        if not line.strip():
            continue
        words = shlex.split(on_host(ctx, role, line))
        env = {}
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            k, v = words.pop(0).split("=", 1)
            env[k] = v
        words = [os.path.join(TOP, w) if w.startswith("pipelines/") else w for w in words]
        out.append((env, words))
    assert out, "no commands for the %s host in the docs" % role
    return out


def host_dir(ctx, role, *path):
    return os.path.join(ctx.tmp, "hosts", role, *path)


def install(src, dst, mode=0o644):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, mode)
    return dst


def write_secret(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def run_doc_script(ctx, marker):
    """Runs a sh block of the docs in the admin folder (where the CA is)."""
    path = os.path.join(ctx.admin, marker.split()[-1])
    with open(path, "w") as f:
        f.write(doc_block(marker))
    out = subprocess.run(["sh", "-e", path], cwd=ctx.admin, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, "%s of the docs failed:\n%s%s" % (path, out.stdout, out.stderr)


def make_files(ctx):
    """The certificates and secrets made with the commands of
    docs/deployment.md, each file put where its table says, on its host
    (tmp/hosts/ROLE stands for the host's /); and another CA, trusted by
    the clients that must refuse the servers."""
    ctx.admin = os.path.join(ctx.tmp, "admin")
    os.makedirs(ctx.admin)
    run_doc_script(ctx, "deployment-file certs.sh")
    run_doc_script(ctx, "deployment-file secrets.sh")

    def admin_file(name):
        return os.path.join(ctx.admin, name)
    ctx.passwords = {u: read(admin_file(u + ".password")).strip() for u in USERS}
    ctx.token = read(admin_file("viewer.token")).strip()
    assert all(len(v) == 32 for v in list(ctx.passwords.values()) + [ctx.token])
    env_file = doc_block("deployment-file redis.env")
    for role in ("camera", "processor", "viewer", "operator"):
        etc = host_dir(ctx, role, "etc", "gst-redis")
        install(admin_file("ca.crt"), os.path.join(etc, "ca.crt"))
        install(admin_file(role + "-host.crt"), os.path.join(etc, "client.crt"))
        install(admin_file(role + "-host.key"), os.path.join(etc, "client.key"), 0o600)
        with open(os.path.join(etc, "redis.env"), "w") as f:
            f.write(on_host(ctx, role, env_file))
    for user, host in USER_HOST.items():
        install(admin_file(user + ".password"),
                host_dir(ctx, host, "etc", "gst-redis", user + ".password"), 0o600)
    install(admin_file("admin.password"), host_dir(ctx, "redis", "etc", "redis", "admin.password"),
            0o600)
    rtls = host_dir(ctx, "redis", "etc", "redis", "tls")
    install(admin_file("admin.crt"), os.path.join(rtls, "admin.crt"))
    install(admin_file("admin.key"), os.path.join(rtls, "admin.key"), 0o600)
    install(admin_file("redis.crt"), os.path.join(rtls, "redis.crt"))
    install(admin_file("redis.key"), os.path.join(rtls, "redis.key"), 0o600)
    install(admin_file("ca.crt"), os.path.join(rtls, "ca.crt"))
    with open(host_dir(ctx, "redis", "etc", "redis", "users.acl"), "w") as f:
        f.write(acl_file(ctx.passwords))
    with open(host_dir(ctx, "redis", "etc", "redis", "redis.conf"), "w") as f:
        f.write(on_host(ctx, "redis", doc_block("deployment-file redis.conf")))
    vetc = host_dir(ctx, "viewer", "etc", "gst-redis")
    install(admin_file("viewer-chain.crt"), os.path.join(vetc, "viewer-chain.crt"))
    install(admin_file("viewer.key"), os.path.join(vetc, "viewer.key"), 0o600)
    install(admin_file("viewer.token"), os.path.join(vetc, "viewer.token"), 0o600)
    ctx.spki = spki(admin_file("ca.crt"))
    # another CA
    ctx.other_ca = os.path.join(ctx.tmp, "other-ca.crt")
    out = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                          os.path.join(ctx.tmp, "other-ca.key"), "-out", ctx.other_ca,
                          "-days", "2", "-subj", "/CN=another CA"], capture_output=True)
    assert out.returncode == 0, out.stderr
    ctx.other_spki = spki(ctx.other_ca)


# --- processes ----------------------------------------------------------------

def stage_env(ctx, role, settings, **extra):
    """The environment of a stage on host role: its redis.env loaded (set
    -a; . /etc/gst-redis/redis.env), then settings (the command's own, from
    the docs), then what the test changes (extra)."""
    env = dict(os.environ, GST_DEBUG_NO_COLOR="1")
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "REDIS_PASSWORD", "REDIS_SOCKET", "VIEWER_TOKEN"):
        env.pop(k, None)
    for line in read(host_dir(ctx, role, "etc", "gst-redis", "redis.env")).splitlines():
        if line.strip() and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v
    env.update(settings)
    env.update(extra)
    return env


# what the test changes in the docs' commands: a smaller picture (the test
# machine runs all hosts), a test pattern for the camera, a longer stream
# to count the frames sent
TEST_SETTINGS = dict(WIDTH=str(WIDTH), HEIGHT=str(HEIGHT), FPS=str(FPS))
CAMERA_SETTINGS = dict(VIDEO_DEVICE="none", MAXLEN="5000")
PATTERNS = ["ball", "smpte", "pinwheel"]


def run_in(ctx, role, cmd, name, env=None):
    """Starts cmd on host role (its own session, its log in tmp; killed
    when this script dies, even by SIGKILL)."""
    p = spawn(["ip", "netns", "exec", ctx.net.ns(role)] + cmd,
              os.path.join(ctx.tmp, name + ".log"), env=env or os.environ.copy(),
              die_with_parent=True)
    p.name = name
    ctx.procs[name] = p
    return p


def doc_stage(ctx, role, index, name, **extra):
    """Starts the index-th command of the docs for host role."""
    settings, words = doc_commands(ctx, role)[index]
    return run_in(ctx, role, words, name, stage_env(ctx, role, settings, **TEST_SETTINGS,
                                                    **extra))


def start_camera(ctx, n):
    return doc_stage(ctx, "camera", n - 1, "camera-%d" % n, PATTERN=PATTERNS[n - 1],
                     **CAMERA_SETTINGS)


def tail(path, n=12):
    return "\n    ".join(read(path).splitlines()[-n:])


def redis_client(ctx, role, user, **kw):
    """A redis-py client as host role would use it: TLS verified against
    its CA, with its client certificate, as user (None: no AUTH)."""
    if user == "admin":     # on the Redis host: its files in /etc/redis
        tls = host_dir(ctx, role, "etc", "redis", "tls")
        ca, crt, key = (os.path.join(tls, f) for f in ("ca.crt", "admin.crt", "admin.key"))
    else:
        etc = host_dir(ctx, role, "etc", "gst-redis")
        ca, crt, key = (os.path.join(etc, f) for f in ("ca.crt", "client.crt", "client.key"))
    args = dict(host=HOSTS["redis"], port=REDIS_PORT, socket_timeout=5,
                ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required",
                ssl_check_hostname=True, ssl_certfile=crt, ssl_keyfile=key)
    if user:
        args.update(username=user, password=ctx.passwords[user])
    args.update(kw)
    return redis.Redis(**args)


def on(ctx, role, user, fn, **kw):
    """fn (client) run on host role as user; the client is closed after."""
    with in_netns(ctx.net.ns(role)):
        r = redis_client(ctx, role, user, **kw)
        try:
            return fn(r)
        finally:
            r.close()


def admin(ctx, fn):
    return on(ctx, "redis", "admin", fn)


def xlen(ctx, key):
    return admin(ctx, lambda r: r.xlen(key) if r.exists(key) else 0)


def start_system(ctx):
    net = ctx.net
    data = host_dir(ctx, "redis", "var", "lib", "redis")
    os.makedirs(data)
    redis_server = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    run_in(ctx, "redis", [
        redis_server, host_dir(ctx, "redis", "etc", "redis", "redis.conf"),
        "--dir", data, "--save", "", "--appendonly", "no", "--logfile", ""], "redis")
    wait_for(lambda: admin(ctx, lambda r: r.ping()), 20, "redis-server on the redis host",
             ignore=(redis.RedisError, OSError))
    print("redis host: redis-server on TLS port %d only, client certificates, users %s"
          % (REDIS_PORT, ", ".join(USERS)), flush=True)
    # the processors first: their groups must exist before the cameras write
    for n in CAMERAS:
        doc_stage(ctx, "processor", n - 1, "processor-%d" % n)

    def groups():
        check_alive(ctx)
        return admin(ctx, lambda r: all(r.exists("video-frames-%d" % n) and r.xinfo_groups(
            "video-frames-%d" % n) for n in CAMERAS))
    wait_for(groups, 60, "the processors' consumer groups")
    for n in CAMERAS:
        start_camera(ctx, n)
    start_viewer(ctx)

    def flowing():
        check_alive(ctx)
        return all(xlen(ctx, "processed-frames-%d" % n) > 0 for n in CAMERAS)
    wait_for(flowing, 60, "processed frames of every camera", interval=0.5)
    print("frames flow: camera host -> Redis -> processor host -> Redis -> viewer host",
          flush=True)


def start_viewer(ctx, name="viewer", tls=True):
    """The viewer of the docs; tls=False: the same without its certificate
    on PLAIN_PORT, in a group of its own."""
    settings, words = doc_commands(ctx, "viewer")[0]
    port = VIEWER_PORT
    if not tls:
        port = PLAIN_PORT
        settings = {k: v for k, v in settings.items() if not k.startswith("VIEWER_TLS_")}
        settings.update(VIEWER_PORT=str(port), VIEWER_GROUP="viewer-plain",
                        VIEWER_ALLOWED_ORIGINS="http://%s:%d" % (HOSTS["viewer"], port))
    assert settings["VIEWER_PORT"] == str(port), settings
    p = run_in(ctx, "viewer", words, name, stage_env(ctx, "viewer", settings, **TEST_SETTINGS))
    scheme = "https" if tls else "http"
    wait_for(lambda: check_alive(ctx) or viewer_status(ctx, scheme, port, "/", ctx.token)[0] == 200,
             30, "the %s viewer on %s:%d" % (scheme, HOSTS["viewer"], port), interval=0.2,
             ignore=(OSError,))
    return p


def check_alive(ctx):
    for name, p in ctx.procs.items():
        if p.poll() is not None:
            raise AssertionError("%s exited with %s:\n    %s" % (name, p.returncode, tail(p.log)))
    return False


def viewer_status(ctx, scheme, port, path, token=None, ca=None, headers=None):
    """(status, body) of a GET from the operator host."""
    url = "%s://%s:%d%s" % (scheme, HOSTS["viewer"], port, path)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    sslctx = ssl.create_default_context(
        cafile=ca or host_dir(ctx, "operator", "etc", "gst-redis", "ca.crt"))
    with in_netns(ctx.net.ns("operator")):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=5,
                                        context=sslctx if scheme == "https" else None) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


# --- figures ------------------------------------------------------------------

def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def host_cpu(ctx):
    return {role: cpu_ticks(int(p) for p in ip("netns", "pids", ctx.net.ns(role),
                                                check=False).stdout.split())
            for role in HOSTS}


def sent_capture_ms(ctx, n, t0_ms):
    """Capture times (ms) of camera n's frames captured from 5 s before
    t0_ms on."""
    def fetch(r):
        out = []
        for _, fields in r.xrange("video-frames-%d" % n, min="%d-0" % (t0_ms - 5000)):
            ct = fields.get(b"capture-time")
            if ct:
                out.append(int(ct) / 1e6)
        first = r.xrange("video-frames-%d" % n, count=1)
        return out, first
    times, first = admin(ctx, fetch)
    assert first and int(first[0][1][b"capture-time"]) / 1e6 < t0_ms, \
        "camera %d's stream was trimmed before the watch: raise MAXLEN" % n
    return sorted(t for t in times if t >= t0_ms - 5000)


def entry_times(ctx, key):
    """[(capture time in ms, the ms of the entry's id)] of the entries of
    key, sorted (Redis makes an id from its clock when it adds the entry)."""
    def fetch(r):
        return sorted((int(f[b"capture-time"]) / 1e6, int(i.split(b"-")[0]))
                      for i, f in r.xrange(key) if f.get(b"capture-time"))
    return admin(ctx, fetch)


def find(entries, ct):
    """The id ms of the entry captured at ct (ms, to 0.01 ms), or None."""
    k = bisect.bisect_left(entries, (ct - 0.01,))
    if k < len(entries) and abs(entries[k][0] - ct) <= 0.01:
        return entries[k][1]
    return None


def hops(ctx, seen):
    """Where the time goes, for the frames drawn that are still in both
    streams (processed-frames-N keeps the last 100): camera to Redis
    (capture to the id of its video-frames entry), the processor (that id
    to the id of its processed-frames entry), the viewer and the browser
    (that id to the canvas); (frames, p50, p95) of each, in ms."""
    parts = ([], [], [])
    for n in CAMERAS:
        cam, proc = entry_times(ctx, "video-frames-%d" % n), entry_times(
            ctx, "processed-frames-%d" % n)
        for ct, lat in seen["cameras"]["camera-%d" % n]["drawn"]:
            if ct is None:
                continue
            a, b = find(cam, ct), find(proc, ct)
            if a is not None and b is not None:
                parts[0].append(a - ct)
                parts[1].append(b - a)
                parts[2].append(ct + lat - b)
    return [(len(p), browser.percentile(p, 50), browser.percentile(p, 95)) if p else None
            for p in parts]


# --- cases ----------------------------------------------------------------------

def wall_over_https(ctx):
    url = "https://%s:%d/?token=%s" % (HOSTS["viewer"], VIEWER_PORT, ctx.token)
    before, t_before = host_cpu(ctx), time.monotonic()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seen = browser.open_wall(url, os.path.join(ctx.tmp, "chromium-https.log"), spki=ctx.spki,
                             seconds=SECONDS, cameras=len(CAMERAS), timeout=60,
                             netns=ctx.net.ns("operator"))
    after, elapsed = host_cpu(ctx), time.monotonic() - t_before
    # the operator's browser (node and the chromium processes it reaped)
    hz = os.sysconf("SC_CLK_TCK")
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    after["operator"] = before["operator"] + round(
        (ru.ru_utime + ru.ru_stime - children.ru_utime - children.ru_stime) * hz)
    check_alive(ctx)
    print("  operator host: status %s, secure context %s, WebCodecs %s, protocol %s, "
          "page errors %s" % (seen["status"], seen.get("secure"), seen.get("webcodecs"),
                              seen.get("protocol"), seen["page_errors"]))
    assert seen["status"] == 200 and seen.get("secure") and seen.get("webcodecs"), seen
    assert seen.get("protocol") == "https:", seen
    names = ["camera-%d" % n for n in CAMERAS]
    assert sorted(seen["cameras"]) == names, sorted(seen["cameras"])
    # frames captured while the page watched, but early enough to be drawn
    t0, t1 = seen["start_ms"], seen["end_ms"] - 2000
    all_lat = []
    rows = []
    for n, name in zip(CAMERAS, names):
        c = seen["cameras"][name]
        assert c["codec"] == "h264" and c["unsupported"] is None, (name, c)
        assert (c["width"], c["height"]) == (WIDTH, HEIGHT), (name, c["width"], c["height"])
        captured = sent_capture_ms(ctx, n, t0)
        sent = [t for t in captured if t0 <= t <= t1]
        drawn, lat = browser.drawn_stats(seen, name, t0, t1)
        # every frame drawn is one the camera captured: its capture time
        # crossed Redis twice, the processor and the viewer
        unmatched = []
        for ct, lt in (d for d in c["drawn"] if d[0] is not None and t0 <= d[0] <= t1):
            k = bisect.bisect_left(captured, ct)
            near = [abs(captured[i] - ct) for i in (k - 1, k) if 0 <= i < len(captured)]
            if not near or min(near) > 0.01:
                unmatched.append("capture %.3f (latency %.1f ms): the nearest frame %s ms away"
                                 % (ct, lt, min(near) if near else "-"))
        all_lat += lat
        rows.append((name, len(sent), drawn, lat, unmatched, c))
        assert drawn > 0 and lat, "%s: nothing drawn while watching" % name
        assert not unmatched, "%s: %d frames drawn with a capture time no camera frame has: %s" % (
            name, len(unmatched), "; ".join(unmatched[:5]))
    print("  %dx%d H.264 at %d fps per camera (the docs' commands: openh264enc at the stages'"
          " default 2 Mbit/s, GOP 60), watched %.1f s; frames captured in [watch start, watch"
          " end - 2 s]:" % (WIDTH, HEIGHT, FPS, (seen["end_ms"] - seen["start_ms"]) / 1000.0))
    print("  | camera | frames sent | frames drawn | drawn/sent | capture-to-canvas p50 ms "
          "| p95 ms | max ms | skipped, dropped, decode errors while watching |")
    for name, sent, drawn, lat, _, c in rows:
        print("  | %s | %d | %d | %.1f %% | %.0f | %.0f | %.0f | %s |" % (
            name, sent, drawn, 100.0 * drawn / max(1, sent), browser.percentile(lat, 50),
            browser.percentile(lat, 95), max(lat), ", ".join(
                str(c[k] - (c["at_start"] or {}).get(k, 0))
                for k in ("skipped", "dropped", "decodeErrors"))))
    print("  all cameras: capture-to-canvas p50 %.0f ms, p95 %.0f ms (%d frames)" % (
        browser.percentile(all_lat, 50), browser.percentile(all_lat, 95), len(all_lat)))
    parts = hops(ctx, seen)
    if not all(parts):
        print("  where the time goes: none of the frames drawn is still in processed-frames "
              "(it keeps the last 100)")
    else:
        print("  where the time goes (p50 / p95 ms, the last %d frames drawn, Redis entry ids at"
              " 1 ms resolution): camera to Redis %.0f / %.0f, processor host (read, decode, "
              "detect, encode, write) %.0f / %.0f, viewer host and browser (read, send, decode,"
              " draw) %.0f / %.0f" % (parts[0][0], parts[0][1], parts[0][2], parts[1][1],
                                      parts[1][2], parts[2][1], parts[2][2]))
    print("  CPU per host over the %.0f s of the browser run, Chromium's start included "
          "(100 %% = one core): %s" % (
        elapsed, ", ".join("%s %.0f %%" % (role, 100.0 * (after[role] - before[role]) / hz /
                                           elapsed) for role in HOSTS)))
    with open("/proc/loadavg") as f:
        print("  load average: %s" % " ".join(f.read().split()[:3]))
    # The wall stays live: every camera drew pictures in each third of the
    # watch (6 s or more: longer than a GOP, after which a page whose decoder
    # fell behind starts again). How many of the frames sent it drew
    # depends on how busy the machine is: a figure, printed above.
    thirds = [t0 + (t1 - t0) * i / 3.0 for i in range(4)]
    for name, sent, drawn, lat, _, c in rows:
        times = [d[0] for d in c["drawn"] if d[0] is not None]
        empty = [i + 1 for i in range(3)
                 if not any(thirds[i] <= t <= thirds[i + 1] for t in times)]
        assert not empty, "%s drew nothing in third %s of the watch (%d of %d frames drawn)" % (
            name, empty, drawn, sent)


def plain_http_needs_https(ctx):
    start_viewer(ctx, "viewer-plain", tls=False)
    try:
        url = "http://%s:%d/?token=%s" % (HOSTS["viewer"], PLAIN_PORT, ctx.token)
        seen = browser.open_wall(url, os.path.join(ctx.tmp, "chromium-http.log"), seconds=3,
                                 cameras=len(CAMERAS), timeout=40, netns=ctx.net.ns("operator"))
    finally:
        stop(ctx.procs.pop("viewer-plain"))
    print("  http://%s:%d/ from the operator host: status %s, secure context %s, WebCodecs %s"
          % (HOSTS["viewer"], PLAIN_PORT, seen["status"], seen.get("secure"),
             seen.get("webcodecs")))
    assert seen["status"] == 200 and seen.get("secure") is False and \
        seen.get("webcodecs") is False, seen
    assert sorted(seen["cameras"]) == ["camera-%d" % n for n in CAMERAS], seen["cameras"]
    for name, c in sorted(seen["cameras"].items()):
        print("  %s: %d frames received, %d drawn; the tile says: %s" % (
            name, c["received"], c["frames"], c["overlay"]))
        assert c["received"] > 0 and c["frames"] == 0, (name, c)
        assert c["unsupported"] and "HTTPS" in c["unsupported"], (name, c["unsupported"])
        assert c["overlay"] == c["unsupported"], (name, c["overlay"])


def ws_upgrade(ctx, path, ca=None):
    """A WebSocket upgrade to the viewer from the operator host: (status
    line, bytes that came after the headers within a second)."""
    sslctx = ssl.create_default_context(
        cafile=ca or host_dir(ctx, "operator", "etc", "gst-redis", "ca.crt"))
    with in_netns(ctx.net.ns("operator")):
        raw = socket.create_connection((HOSTS["viewer"], VIEWER_PORT), timeout=5)
    with sslctx.wrap_socket(raw, server_hostname=HOSTS["viewer"]) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nOrigin: https://%s:%d\r\n\r\n"
                   % (path, HOSTS["viewer"], VIEWER_PORT, HOSTS["viewer"], VIEWER_PORT)).encode())
        data = b""
        end = time.monotonic() + 1.5
        s.settimeout(0.3)
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(errors="replace"), head, rest


def viewer_secret_and_ca(ctx):
    results = []
    for path, token in (("/", None), ("/", "0" * 32), ("/", ctx.token[:16]),
                        ("/viewer.js", None), ("/ws", None)):
        status, body = viewer_status(ctx, "https", VIEWER_PORT, path, token)
        results.append("%s %s: %d" % (path, "no token" if token is None else "a wrong token",
                                      status))
        assert status == 401 and b"viewer.js" not in body, (results[-1], body[:200])
    line, head, rest = ws_upgrade(ctx, "/ws")
    results.append("WebSocket upgrade without the token: %s, %d bytes after" % (line, len(rest)))
    assert line.startswith("HTTP/1.1 401"), results[-1]
    line, head, rest = ws_upgrade(ctx, "/ws?token=" + ctx.token)
    results.append("with it: %s, %d bytes of frames in 1.5 s" % (line, len(rest)))
    assert " 101 " in line and len(rest) > 0, results[-1]
    status, body = viewer_status(ctx, "https", VIEWER_PORT, "/", ctx.token)
    results.append("/ with the token: %d" % status)
    assert status == 200 and b"<html" in body.lower(), results[-1]
    print("  from the operator host over HTTPS: " + "; ".join(results))
    try:
        viewer_status(ctx, "https", VIEWER_PORT, "/", ctx.token, ca=ctx.other_ca)
        raise AssertionError("a client trusting another CA accepted the viewer")
    except urllib.error.URLError as e:
        assert isinstance(e.reason, ssl.SSLCertVerificationError), e
        print("  Python trusting another CA: %s" % e.reason.verify_message)
    seen = browser.open_wall("https://%s:%d/?token=%s" % (HOSTS["viewer"], VIEWER_PORT, ctx.token),
                             os.path.join(ctx.tmp, "chromium-other-ca.log"), spki=ctx.other_spki,
                             seconds=1, netns=ctx.net.ns("operator"))
    print("  Chromium trusting another CA: %s" % seen["error"])
    assert seen["error"] and "ERR_CERT_AUTHORITY_INVALID" in seen["error"], seen


def redis_refusals(ctx):
    refused = []

    def expect_refused(what, fn, errors=(redis.ConnectionError, redis.AuthenticationError,
                                         redis.ResponseError)):
        try:
            fn()
        except errors as e:
            refused.append("%s: %s" % (what, str(e).splitlines()[0][:80]))
            return
        raise AssertionError("%s was allowed" % what)

    ops = ctx.net.ns("operator")

    def plain():
        with in_netns(ops):
            redis.Redis(host=HOSTS["redis"], port=REDIS_PORT, socket_timeout=5).ping()
    expect_refused("plain TCP", plain)
    expect_refused("TLS without a client certificate", lambda: on(
        ctx, "operator", "monitor", lambda r: r.ping(), ssl_certfile=None, ssl_keyfile=None))
    expect_refused("the default user", lambda: on(ctx, "operator", None, lambda r: r.xlen(
        "processed-frames-1")))
    expect_refused("camera-1 writing video-frames-2", lambda: on(
        ctx, "camera", "camera-1", lambda r: r.xadd("video-frames-2", {"x": "1"})))
    expect_refused("camera-1 reading video-frames-1", lambda: on(
        ctx, "camera", "camera-1", lambda r: r.xrange("video-frames-1", count=1)))
    expect_refused("the viewer writing processed-frames-1", lambda: on(
        ctx, "viewer", "viewer", lambda r: r.xadd("processed-frames-1", {"x": "1"})))
    expect_refused("the viewer reading video-frames-1", lambda: on(
        ctx, "viewer", "viewer", lambda r: r.xlen("video-frames-1")))
    expect_refused("the monitor writing", lambda: on(
        ctx, "operator", "monitor", lambda r: r.xadd("video-frames-1", {"x": "1"})))
    expect_refused("the monitor deleting", lambda: on(
        ctx, "operator", "monitor", lambda r: r.delete("video-frames-1")))
    for line in refused:
        print("  refused: " + line)
    # a reader on the processor host that trusts another CA
    etc = host_dir(ctx, "processor", "etc", "gst-redis")
    p = run_in(ctx, "processor", [
        "gst-launch-1.0", "redisstreamsrc", "host=" + HOSTS["redis"], "port=%d" % REDIS_PORT,
        "tls=true", "tls-ca-file=" + ctx.other_ca,
        "tls-cert-file=" + os.path.join(etc, "client.crt"),
        "tls-key-file=" + os.path.join(etc, "client.key"),
        "stream=video-frames-1", "num-buffers=1", "!", "fakesink"], "other-ca-reader",
        dict(os.environ, GST_DEBUG_NO_COLOR="1"))
    try:
        rc = p.wait(60)
    finally:
        del ctx.procs["other-ca-reader"]
        stop(p)
    err = [l for l in read(p.log).splitlines() if l.startswith("ERROR")]
    print("  redisstreamsrc trusting another CA: exit %d, %s" % (rc, err[0] if err else "-"))
    assert rc != 0 and err and HOSTS["redis"] in err[0] and "trusted" in err[0], read(p.log)
    check_alive(ctx)


def monitor_over_tls(ctx):
    settings, words = doc_commands(ctx, "operator")[0]
    out = subprocess.run(["ip", "netns", "exec", ctx.net.ns("operator")] + words + ["--once"],
                         capture_output=True, text=True, timeout=60,
                         env=stage_env(ctx, "operator", settings))
    print("  " + out.stdout.replace("\n", "\n  ").rstrip())
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Redis %s:%d (TLS)" % (HOSTS["redis"], REDIS_PORT)), out.stdout
    for n in CAMERAS:
        assert "stream video-frames-%d: length" % n in out.stdout, out.stdout
        assert "stream processed-frames-%d: length" % n in out.stdout, out.stdout
    assert "group processors" in out.stdout and "group viewer" in out.stdout


def no_secret_in_processes(ctx):
    secrets = list(ctx.passwords.values()) + [ctx.token]
    checked = 0
    for role in HOSTS:
        for pid in ip("netns", "pids", ctx.net.ns(role), check=False).stdout.split():
            for what in ("cmdline", "environ"):
                try:
                    with open("/proc/%s/%s" % (pid, what), "rb") as f:
                        text = f.read().decode(errors="replace")
                except OSError:
                    continue
                leaked = [s for s in secrets if s in text]
                assert not leaked, "a secret in /proc/%s/%s (%s host): %s" % (
                    pid, what, role, text.replace("\0", " ")[:300])
            checked += 1
    print("  %d processes on the five hosts: no password and no token in their command "
          "lines or environments" % checked)
    assert checked >= 8, checked


def stages_have_their_rights(ctx):
    # each stage runs as the ACL user deployment.md gives it: no command
    # refused in the output of any of them (a missing right is a warning,
    # and a feature silently off: max-deliveries, metrics, dead letters)
    refusals, checked = [], []
    for name, p in sorted(ctx.procs.items()):
        checked.append(name)
        for line in read(p.log).splitlines():
            if "NOPERM" in line or "does not let this user" in line:
                refusals.append("%s: %s" % (name, line[:240]))
    assert not refusals, "\n".join(refusals)
    print("  no command refused in the output of %s" % ", ".join(checked))
    assert len(checked) >= 7, checked


def rotate_secrets(ctx):
    # the viewer's token: a new file, the viewer restarted (it reads the
    # file at each start); the old token is refused from then on
    vetc = host_dir(ctx, "viewer", "etc", "gst-redis")
    old = ctx.token
    ctx.token = os.urandom(16).hex()
    write_secret(os.path.join(vetc, "viewer.token"), ctx.token)
    stop(ctx.procs.pop("viewer"))
    start_viewer(ctx)
    assert viewer_status(ctx, "https", VIEWER_PORT, "/", old)[0] == 401
    assert viewer_status(ctx, "https", VIEWER_PORT, "/", ctx.token)[0] == 200
    print("  viewer token rotated: the old one gets 401, the new one 200")
    # camera-1's Redis password: add the new one, give the camera its
    # file, restart it, remove the old one
    new = os.urandom(16).hex()
    old_pw = ctx.passwords["camera-1"]
    admin(ctx, lambda r: r.execute_command(
        "ACL", "SETUSER", "camera-1", "#" + hashlib.sha256(new.encode()).hexdigest()))
    write_secret(host_dir(ctx, "camera", "etc", "gst-redis", "camera-1.password"), new)
    stop(ctx.procs.pop("camera-1"))
    ctx.passwords["camera-1"] = new
    start_camera(ctx, 1)
    n0 = xlen(ctx, "video-frames-1")
    wait_for(lambda: check_alive(ctx) or xlen(ctx, "video-frames-1") > n0 + FPS, 30,
             "camera-1 to write with its new password")
    admin(ctx, lambda r: r.execute_command(
        "ACL", "SETUSER", "camera-1", "!" + hashlib.sha256(old_pw.encode()).hexdigest()))
    admin(ctx, lambda r: r.execute_command("ACL", "SAVE"))
    acl = read(host_dir(ctx, "redis", "etc", "redis", "users.acl"))
    assert hashlib.sha256(new.encode()).hexdigest() in acl and \
        hashlib.sha256(old_pw.encode()).hexdigest() not in acl, acl
    ctx.passwords["camera-1"] = old_pw
    try:
        on(ctx, "camera", "camera-1", lambda r: r.ping())
        raise AssertionError("the old password of camera-1 still works")
    except redis.ResponseError as e:
        assert "WRONGPASS" in str(e), e
    finally:
        ctx.passwords["camera-1"] = new
    n1 = xlen(ctx, "video-frames-1")
    wait_for(lambda: check_alive(ctx) or xlen(ctx, "video-frames-1") > n1 + FPS, 30,
             "camera-1 to go on writing")
    print("  camera-1's password rotated: the camera writes with the new one, the old one is "
          "refused (ACL SETUSER camera-1 #NEW, restart, ACL SETUSER camera-1 !OLD, ACL SAVE)")


CASES = [("wall_over_https", wall_over_https),
         ("plain_http_needs_https", plain_http_needs_https),
         ("viewer_secret_and_ca", viewer_secret_and_ca),
         ("redis_refusals", redis_refusals),
         ("monitor_over_tls", monitor_over_tls),
         ("no_secret_in_processes", no_secret_in_processes),
         ("stages_have_their_rights", stages_have_their_rights),
         ("rotate_secrets", rotate_secrets)]


def main():
    why = probe()
    if why is None:
        try:
            browser.prepare(SUITE)
        except CannotRun as e:
            why = str(e)
    if why:
        os.execvp("sh", ["sh", CANNOT_RUN, SUITE, why])
    remove_stale()
    ctx = cases.Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-netns.")
    os.chmod(ctx.tmp, 0o755)
    ctx.net = Topology()
    ctx.procs = {}
    result = (0, 1, 0)

    def cleanup():
        stop_all()
        removed = ctx.net.destroy()
        left = [ns for ns in removed if os.path.exists("/run/netns/" + ns)]
        if removed:
            print("removed namespaces %s%s" % (", ".join(removed),
                                                "; STILL THERE: %s" % left if left else ""))
        return left

    def on_signal(signum, frame):
        cleanup()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        print("0 passed, 1 failed (terminated by signal %d)" % signum, flush=True)
        os._exit(1)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # the registry once, before the stages start at the same time
        subprocess.run(["gst-inspect-1.0", "redisstreamsrc"], capture_output=True, timeout=120)
        make_files(ctx)
        ctx.net.create()
        print("topology: bridge in %s; %s" % (ctx.net.ns("switch"), ", ".join(
            "%s %s" % (ctx.net.ns(role), addr) for role, addr in HOSTS.items())), flush=True)
        start_system(ctx)
        result = cases.run(CASES, ctx, sys.argv[1:], SUITE)
    except Exception:
        traceback.print_exc(file=sys.stdout)
    finally:
        if result[1]:
            for name in sorted(os.listdir(ctx.tmp)):
                if name.endswith(".log"):
                    print("--- %s (end):\n    %s" % (name, tail(os.path.join(ctx.tmp, name))))
        left = cleanup()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        if left:
            result = (result[0], result[1] + 1, result[2])
    return cases.summary(*result)


if __name__ == "__main__":
    sys.exit(main())
