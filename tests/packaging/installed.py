#!/usr/bin/python3
"""The project installed as a user installs it, used without GST_PLUGIN_PATH.

installed.py install   `meson install --destdir` of this build directory:
    install_layout     the plugins in <libdir>/gstreamer-1.0, the commands
                       gst-redis-<stage> in <bindir> (symlinks to the scripts
                       in <datadir>/gst-redis-streams/pipelines), the docs in
                       <datadir>/doc/gst-redis-streams, nothing elsewhere
    install_help       every installed command answers --help through its
                       symlink (it finds common.sh)
    install_commands   the installed gst-redis-producer, -processor and
                       -monitor against a private redis-server: 30 frames
                       written, processed (by frameproc, and by a Python
                       function in pyframeproc when the tree has gst/python)
                       and reported

installed.py debs      debian/ turned into .debs and installed in a fresh
                       Debian 12 (bookworm) chroot:
    debs_build         `dpkg-buildpackage -us -uc -b` in a copy of the tree
    debs_lintian       lintian on the .changes: no error, no warning
    debs_contents      each package holds its files (plugins in the system
                       GStreamer plugin directory)
    debs_install       a chroot made by `debootstrap --variant=minbase
                       bookworm` from the mirror of this machine's apt
                       sources; the .debs and redis-server installed with
                       apt-get (--no-install-recommends, so Depends alone
                       must be enough)
    debs_inspect_*     gst-inspect-1.0 finds each element in the system
                       plugin directory (pyframeproc, when the tree has
                       gst/python, through GStreamer's Python plugin loader)
    debs_line          redis-server started in the chroot on a free port;
                       `videotestsrc num-buffers=30 ! redisstreamsink` then
                       `redisstreamsrc num-buffers=30 ! fakesink`
    debs_commands      gst-redis-producer, -processor and -monitor as in
                       install_commands, printing no GST_PLUGIN_PATH
    debs_demo          gst-redis-demo --duration 3: its private Redis, two
                       cameras, the viewer answering, everything stopped
    debs_viewer_page   websocketsink serves its built-in page and viewer.js
Every command in the chroot runs with `env -i` (no GST_PLUGIN_PATH). /proc
(and /dev nodes when the chroot has none) are mounted for the chroot and
unmounted at the end whatever happens; processes are stopped by PID. Nothing
under the temporary directory is removed while anything is mounted there.

The mirror is the one this machine's apt uses for bookworm (with its
-updates and -security suites), or $PACKAGING_MIRROR (bookworm main only).
The chroot is made once a day: the debootstrapped tree is kept as a tarball
bookworm-<arch>-<YYYYMMDD>.tar in $PACKAGING_CACHE
[$XDG_CACHE_HOME/gst-redis-streams/packaging, ~/.cache/...], older ones are
removed; downloaded .debs are kept there too (debootstrap's and apt's), so a
second run downloads nothing new. From nothing the test takes a few minutes.

Needs root (debootstrap, chroot, mount), the programs of
`pipelines/install-deps --packaging` and the Debian archive: when one is
missing the test is skipped with the reason (a failure under CI=true).
Ends with "N passed, N failed".
"""

import fcntl
import glob
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "pylib"))
from procs import free_port, read, spawn, stop, stop_all, wait_for  # noqa: E402

CANNOT_RUN = os.path.join(TOP, "tests", "cannot-run.sh")
STAGES = ["producer", "processor", "display", "viewer", "monitor", "exporter", "demo",
          "launch"]
SUITE = "bookworm"
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FRAMES = 30
# the tree has the Python elements (pyframeproc), packaged on their own
HAVE_PYTHON = os.path.isfile(os.path.join(TOP, "gst", "python", "meson.build"))


def cannot_run(name, why):
    sys.stdout.flush()
    os.execvp("sh", ["sh", CANNOT_RUN, name, why])


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def run(cmd, log, timeout, env=None, cwd=None):
    """Runs cmd in its own session, output appended to log; raises with the
    end of the log when it fails or outlives timeout (then it is stopped by
    its PID)."""
    with open(log, "ab") as f:
        f.write(("$ %s\n" % " ".join(cmd)).encode())
    p = spawn(cmd, log, env=env, cwd=cwd, die_with_parent=True)
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(p, signal.SIGTERM)
        raise Failed("%s: still running after %d s; end of %s:\n%s"
                     % (cmd[0], timeout, log, tail(log)))
    stop(p)
    if rc != 0:
        raise Failed("%s exited with %d; end of %s:\n%s"
                     % (" ".join(cmd[:4]), rc, log, tail(log)))


def tail(path, n=25):
    return "\n".join("    " + l for l in read(path).splitlines()[-n:])


def redis_client(port):
    import redis
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)


# --- the installed commands, on the host (meson install) or in the chroot --

def exercise_commands(ctx, prefix, port):
    """gst-redis-processor waits for frames (its group starts at new
    entries), gst-redis-producer writes FRAMES frames, the processor turns
    them into FRAMES results, gst-redis-monitor --once reports both streams.
    ctx.command (argv, env) gives the argv and environment to run an
    installed command; prefix names the stream keys."""
    r = redis_client(port)
    src, out = prefix + "-in", prefix + "-out"
    env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port), "VIDEO_DEVICE": "none",
           "WIDTH": "320", "HEIGHT": "240", "NUM_BUFFERS": str(FRAMES),
           "INPUT_STREAM": src, "OUTPUT_STREAM": out}

    def has_group():
        check(p.poll() is None, "gst-redis-processor exited:\n" + tail(plog))
        return r.exists(src) and any(g["name"] == b"processors" for g in r.xinfo_groups(src))
    argv, penv = ctx.command(["gst-redis-processor"], dict(env, CONSUMER="pkg"))
    plog = os.path.join(ctx.tmp, prefix + "-processor.log")
    p = spawn(argv, plog, env=penv, die_with_parent=True)
    try:
        wait_for(has_group, 60, "gst-redis-processor to create its group on " + src)

        log = os.path.join(ctx.tmp, prefix + "-producer.log")
        argv, penv = ctx.command(["gst-redis-producer"], env)
        run(argv, log, 120, env=penv)
        first = read(log).splitlines()[1]
        print("  producer: %s" % first)
        check(first.startswith(ctx.expected_launch), "gst-redis-producer ran %r, expected it "
              "to start with %r" % (first, ctx.expected_launch))
        check(r.xlen(src) == FRAMES, "%s holds %d entries, not %d" % (src, r.xlen(src), FRAMES))

        wait_for(lambda: r.xlen(out) >= FRAMES or p.poll() is not None, 120,
                 "%d results in %s" % (FRAMES, out))
        check(p.poll() is None, "gst-redis-processor exited:\n" + tail(plog))
    finally:
        rc = stop(p)
    check(r.xlen(out) == FRAMES, "%s holds %d entries, not %d" % (out, r.xlen(out), FRAMES))
    check(rc == 0, "gst-redis-processor exited with %s after SIGINT:\n%s" % (rc, tail(plog)))
    print("  processor: %d results in %s" % (r.xlen(out), out))

    if ctx.have_python:
        python_processor(ctx, r, env, prefix)

    argv, penv = ctx.command(["gst-redis-monitor", "--once"], env)
    mlog = os.path.join(ctx.tmp, prefix + "-monitor.log")
    run(argv, mlog, 60, env=penv)
    text = read(mlog)
    for key in (src, out):
        check(("stream %s: length %d" % (key, FRAMES)) in text,
              "gst-redis-monitor --once does not report %s with %d entries:\n%s"
              % (key, FRAMES, text))
    print("  monitor reports %s and %s with %d entries each" % (src, out, FRAMES))

    argv, penv = ctx.command(["gst-redis-exporter", "--once"], env)
    elog = os.path.join(ctx.tmp, prefix + "-exporter.log")
    run(argv, elog, 60, env=penv)
    text = read(elog)
    for key in (src, out):
        check(('gst_redis_stream_length{db="db0",stream="%s"} %d' % (key, FRAMES)) in text,
              "gst-redis-exporter --once does not serve %s with %d entries:\n%s"
              % (key, FRAMES, text[-3000:]))
    print("  exporter serves %s and %s" % (src, out))


PY_FUNCTION = """
def process(frame):
    h, w = frame.shape[:2]
    return [{"box": (0, 0, w // 2, h // 2), "label": "half", "score": 0.5, "id": 1}]
"""


def python_processor(ctx, r, env, prefix):
    """gst-redis-processor with PROCESS_PY (pyframeproc, the Python
    elements' package): the FRAMES input frames read again in a group of its
    own (start-id=0), each stored with the function's box."""
    with open(ctx.model[0], "w") as f:   # ctx.model: (here, as the command sees it)
        f.write(PY_FUNCTION)
    out = prefix + "-py"
    argv, penv = ctx.command(["gst-redis-processor"], dict(
        env, CONSUMER="pkg", PROCESSOR_GROUP="py", SOURCE_PROPS="start-id=0",
        OUTPUT_STREAM=out, PROCESS_PY=ctx.model[1]))
    plog = os.path.join(ctx.tmp, prefix + "-pyprocessor.log")
    p = spawn(argv, plog, env=penv, die_with_parent=True)
    try:
        wait_for(lambda: r.xlen(out) >= FRAMES or p.poll() is not None, 120,
                 "%d results of the Python function in %s" % (FRAMES, out))
        check(p.poll() is None, "gst-redis-processor with PROCESS_PY exited:\n" + tail(plog))
    finally:
        stop(p)
    last = r.xrevrange(out, count=1)[0][1]
    check(b"half" in last.get(b"meta", b""), "the last result carries no box of the function: %r"
          % {k: v[:200] for k, v in last.items()})
    print("  Python processor (pyframeproc): %d results in %s, each with the function's box"
          % (r.xlen(out), out))


# --- installed.py install ------------------------------------------------------

class InstallCtx:
    pass


def install_layout(ctx):
    run([os.environ["MESON"], "install", "-C", os.environ["MESON_BUILD_ROOT"], "--no-rebuild",
         "--destdir", ctx.destdir, "--quiet"], os.path.join(ctx.tmp, "install.log"), 300)
    root = ctx.root
    files = sorted(os.path.relpath(os.path.join(d, f), ctx.destdir)
                   for d, _, fs in os.walk(ctx.destdir) for f in fs)
    outside = [f for f in files if not ("/" + f).startswith(ctx.prefix.rstrip("/") + "/")]
    check(not outside, "installed outside the prefix %s: %s" % (ctx.prefix, outside))
    for p in ctx.plugins:
        path = os.path.join(ctx.plugin_dir, "libgst%s.so" % p)
        check(os.path.isfile(path), "plugin %s not installed at %s" % (p, path))
    if os.environ.get("INSTALL_PYTHON") in ("built", "run"):
        path = os.path.join(ctx.plugin_dir, "python", "pyframeproc.py")
        check(os.path.isfile(path), "pyframeproc not installed at %s" % path)
    pipelines = os.path.join(root, ctx.datadir, "gst-redis-streams", "pipelines")
    for s in STAGES:
        cmd = os.path.join(root, ctx.bindir, "gst-redis-" + s)
        check(os.path.islink(cmd), "%s is not a symlink" % cmd)
        target = os.path.realpath(cmd)
        check(target == os.path.join(pipelines, s),
              "%s points to %s, not to the script in %s" % (cmd, target, pipelines))
        check(os.access(target, os.X_OK), "%s is not executable" % target)
    check(os.path.isfile(os.path.join(pipelines, "common.sh")), "common.sh not installed")
    check(os.path.isfile(os.path.join(pipelines, "redisstate.py")),
          "redisstate.py (for monitor and exporter) not installed")
    check(not os.path.exists(os.path.join(pipelines, "install-deps")),
          "install-deps (for a source tree) was installed")
    docdir = os.path.join(root, ctx.datadir, "doc", "gst-redis-streams")
    want = ["README.md"] + ["docs/" + os.path.basename(p)
                            for p in glob.glob(os.path.join(TOP, "docs", "*.md"))]
    missing = [d for d in want if not os.path.isfile(os.path.join(docdir, d))]
    check(not missing, "docs not installed in %s: %s" % (docdir, missing))
    print("  %d files under %s; plugins in %s, %d commands in %s, %d docs"
          % (len(files), ctx.prefix, os.path.relpath(ctx.plugin_dir, root), len(STAGES),
             ctx.bindir, len(want)))


def install_help(ctx):
    for s in STAGES:
        argv, env = ctx.command(["gst-redis-" + s, "--help"], {})
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        check(out.returncode == 0 and out.stderr == "" and "usage" in out.stdout.lower(),
              "gst-redis-%s --help: exit %d, stderr %r, stdout:\n%s"
              % (s, out.returncode, out.stderr, out.stdout))
    print("  %d commands answer --help" % len(STAGES))


def install_commands(ctx):
    from redisserver import RedisServer
    server = RedisServer(ctx.tmp)
    try:
        exercise_commands(ctx, "installed", server.port)
    finally:
        server.stop()


def main_install():
    ctx = InstallCtx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-install.")
    ctx.destdir = os.path.join(ctx.tmp, "destdir")
    ctx.prefix = os.environ["INSTALL_PREFIX"]
    ctx.bindir = os.environ["INSTALL_BINDIR"]
    ctx.datadir = os.environ["INSTALL_DATADIR"]
    ctx.root = ctx.destdir + ctx.prefix
    ctx.plugin_dir = os.path.join(ctx.root, os.environ["INSTALL_LIBDIR"], "gstreamer-1.0")
    ctx.plugins = os.environ["INSTALL_PLUGINS"].split()
    # Installed in a prefix GStreamer does not scan, the commands put the
    # prefix's plugin directory on GST_PLUGIN_PATH themselves; the plugins
    # of the DESTDIR are given here as a user would give them.
    installed_dir = os.path.join(ctx.prefix, os.environ["INSTALL_LIBDIR"], "gstreamer-1.0")
    if installed_dir == os.environ.get("GST_SYSTEM_PLUGIN_DIR"):
        ctx.expected_launch = "GST_PLUGIN_PATH=%s gst-launch-1.0" % ctx.plugin_dir
    else:
        ctx.expected_launch = "GST_PLUGIN_PATH=%s:%s gst-launch-1.0" % (installed_dir, ctx.plugin_dir)

    def command(argv, extra):
        env = dict(os.environ, GST_PLUGIN_PATH=ctx.plugin_dir,
                   GST_REGISTRY=os.path.join(ctx.tmp, "registry.bin"), **extra)
        env.pop("GST_PLUGIN_PATH_1_0", None)
        env.pop("BUILDDIR", None)
        return [os.path.join(ctx.root, ctx.bindir, argv[0])] + argv[1:], env
    ctx.command = command
    ctx.model = (os.path.join(ctx.tmp, "pkgmodel.py"),) * 2
    # pyframeproc built, and GStreamer's Python plugin loader here to run it
    ctx.have_python = os.environ.get("INSTALL_PYTHON") == "run"
    cases = [("install_layout", install_layout, None),
             ("install_help", install_help, "install_layout"),
             ("install_commands", install_commands, "install_layout")]
    try:
        return run_cases(ctx, cases)
    finally:
        stop_all()
        shutil.rmtree(ctx.tmp, ignore_errors=True)


# --- installed.py debs ------------------------------------------------------------

class DebsCtx:
    pass


def apt_sources():
    """(uri, suite, components) of the enabled deb entries of this machine's
    apt sources, one-line and deb822 formats."""
    entries = []
    paths = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in paths:
        for line in read(path).splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], words[2], words[3:]))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", read(path)):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#"):
                    continue
                m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                if m:
                    key = m.group(1).lower()
                    fields[key] = m.group(2)
                elif key and line[:1] in (" ", "\t"):
                    fields[key] += " " + line.strip()
            if "deb" not in fields.get("types", "").split() or \
                    fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    entries.append((uri, suite, fields.get("components", "").split()))
    return entries


def chroot_sources(entries):
    """The chroot's sources.list: this machine's bookworm, bookworm-updates
    and bookworm-security entries (main only), and the mirror for
    debootstrap."""
    lines, mirror = [], None
    for uri, suite, comps in entries:
        if suite in (SUITE, SUITE + "-updates", SUITE + "-security") and "main" in comps:
            line = "deb %s %s main" % (uri, suite)
            if line not in lines:
                lines.append(line)
            if suite == SUITE and mirror is None:
                mirror = uri
    if mirror is None:
        mirror = "http://deb.debian.org/debian"
        lines.insert(0, "deb %s %s main" % (mirror, SUITE))
    return mirror, "\n".join(lines) + "\n"


def proxy_env():
    """http_proxy for debootstrap when apt uses a proxy."""
    out = subprocess.run(["apt-config", "shell", "P", "Acquire::http::Proxy"],
                         capture_output=True, text=True).stdout
    m = re.search(r"P='([^']*)'", out)
    return {"http_proxy": m.group(1)} if m and m.group(1) else {}


def mounts_under(path):
    """Mount points at or below path, deepest first."""
    path = os.path.realpath(path).rstrip("/")
    found = []
    for line in read("/proc/self/mountinfo").splitlines():
        mp = line.split()[4].encode().decode("unicode_escape")
        if mp == path or mp.startswith(path + "/"):
            found.append(mp)
    return sorted(found, key=len, reverse=True)


def unmount_all(path):
    """Unmounts everything at or below path; True when nothing is left."""
    for mp in mounts_under(path):
        if subprocess.run(["umount", mp], capture_output=True).returncode != 0:
            print("  %s busy: unmounting it lazily" % mp)
            subprocess.run(["umount", "-l", mp], capture_output=True)
    left = mounts_under(path)
    if left:
        print("  STILL MOUNTED: %s" % ", ".join(left))
    return not left


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True, capture_output=True)


def chroot_argv(root, argv, extra=None):
    env = ["PATH=" + CHROOT_PATH, "HOME=/root", "LANG=C.UTF-8",
           "DEBIAN_FRONTEND=noninteractive"]
    env += ["%s=%s" % kv for kv in (extra or {}).items()]
    return ["chroot", root, "env", "-i"] + env + argv


def prepare_root(ctx, root):
    """Mounts /proc in root, /dev nodes when it has none, and the shared apt
    archive cache; writes its apt sources and resolv.conf."""
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    for node in ("null", "zero", "random", "urandom"):
        path = os.path.join(root, "dev", node)
        if not (os.path.exists(path) and stat.S_ISCHR(os.stat(path).st_mode)):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.exists(path):
                open(path, "w").close()
            mount("--bind", "/dev/" + node, path)
    archives = os.path.join(ctx.cache, "apt-archives")
    os.makedirs(os.path.join(archives, "partial"), exist_ok=True)
    mount("--bind", archives, os.path.join(root, "var/cache/apt/archives"))
    with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
        f.write(ctx.sources)
    # no daemon started by a package's postinst (redis-server): the test
    # starts its own, by PID
    policy = os.path.join(root, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(policy, 0o755)
    # a throwaway system: dpkg need not sync every file it unpacks
    with open(os.path.join(root, "etc/dpkg/dpkg.cfg.d/unsafe-io"), "w") as f:
        f.write("force-unsafe-io\n")
    proxy = proxy_env()
    if proxy:
        with open(os.path.join(root, "etc/apt/apt.conf.d/01proxy"), "w") as f:
            f.write('Acquire::http::Proxy "%s";\n' % proxy["http_proxy"])
    resolv = os.path.join(root, "etc/resolv.conf")
    if os.path.islink(resolv):
        os.unlink(resolv)
    shutil.copyfile("/etc/resolv.conf", resolv)


def base_tarball(ctx):
    """Today's debootstrapped bookworm tree as a tarball in the cache, made
    when missing (older ones removed)."""
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True, check=True).stdout.strip()
    tarball = os.path.join(ctx.cache, "%s-%s-%s.tar" % (SUITE, arch, time.strftime("%Y%m%d")))
    with open(os.path.join(ctx.cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # another run making it: wait
        if os.path.exists(tarball):
            print("  chroot from the cache: %s" % tarball)
            return tarball
        t0 = time.monotonic()
        base = os.path.join(ctx.tmp, "base")
        debs = os.path.join(ctx.cache, "debootstrap-debs")
        os.makedirs(debs, exist_ok=True)
        log = os.path.join(ctx.tmp, "debootstrap.log")
        run(["debootstrap", "--variant=minbase", "--arch=" + arch, "--cache-dir=" + debs,
             SUITE, base, ctx.mirror], log, 1800, env=dict(os.environ, **proxy_env()))
        try:
            prepare_root(ctx, base)
            run(chroot_argv(base, ["apt-get", "update", "-q"]), log, 600)
        finally:
            check(unmount_all(base), "could not unmount everything under %s" % base)
        for p in glob.glob(os.path.join(base, "var/cache/apt/archives/*.deb")):
            os.unlink(p)
        run(["tar", "-C", base, "--numeric-owner", "-cf", tarball + ".part", "."], log, 600)
        os.rename(tarball + ".part", tarball)
        for old in glob.glob(os.path.join(ctx.cache, "%s-%s-*.tar*" % (SUITE, arch))):
            if old != tarball:
                os.unlink(old)
        shutil.rmtree(base)
        print("  debootstrap %s from %s: %.0f s, cached as %s (%d MB)"
              % (SUITE, ctx.mirror, time.monotonic() - t0, tarball,
                 os.path.getsize(tarball) >> 20))
        return tarball


def copy_tree(dst):
    """The source tree as git sees it (tracked files and new ones that are
    not ignored): no build directories, no node_modules."""
    out = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True)
    if out.returncode == 0:
        names = [n.decode() for n in out.stdout.split(b"\0") if n]
    else:   # not a git checkout: everything but build products
        names = []
        for d, dirs, files in os.walk(TOP):
            dirs[:] = [x for x in dirs if x not in (".git", "node_modules")
                       and not os.path.exists(os.path.join(d, x, "meson-private"))
                       and not x.startswith("obj-")]
            names += [os.path.relpath(os.path.join(d, f), TOP) for f in files]
    for n in names:
        src, to = os.path.join(TOP, n), os.path.join(dst, n)
        if not os.path.lexists(src):
            continue   # deleted in the work tree, not yet in git
        os.makedirs(os.path.dirname(to), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), to)
        else:
            shutil.copy2(src, to)
    return len(names)


def debs_build(ctx):
    src = os.path.join(ctx.tmp, "src", "gst-redis-streams")
    n = copy_tree(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=%d" % (os.cpu_count() or 1))
    for k in ("GST_PLUGIN_PATH", "GST_PLUGIN_PATH_1_0", "GST_REGISTRY", "MAKEFLAGS", "MFLAGS",
              "DESTDIR"):
        env.pop(k, None)
    t0 = time.monotonic()
    run(["dpkg-buildpackage", "-us", "-uc", "-b"], os.path.join(ctx.tmp, "build.log"), 1800,
        env=env, cwd=src)
    ctx.changes = glob.glob(os.path.join(ctx.tmp, "src", "*.changes"))[0]
    ctx.debs = sorted(p for p in glob.glob(os.path.join(ctx.tmp, "src", "*.deb"))
                      if "-dbgsym_" not in p)
    print("  %d files copied, built in %.0f s: %s" % (n, time.monotonic() - t0, ", ".join(
        os.path.basename(p) for p in ctx.debs)))


def debs_lintian(ctx):
    log = os.path.join(ctx.tmp, "lintian.log")
    out = subprocess.run(["lintian", "--display-info", "--pedantic",
                          "--fail-on", "error,warning", ctx.changes],
                         capture_output=True, text=True, timeout=600)
    tags = [l for l in (out.stdout + out.stderr).splitlines()
            if re.match(r"^[EWIPXO]: ", l)]
    with open(log, "w") as f:
        f.write(out.stdout + out.stderr)
    for t in tags:
        print("  " + t)
    check(out.returncode == 0, "lintian found errors or warnings (exit %d):\n%s"
          % (out.returncode, out.stdout + out.stderr))
    print("  lintian: %d tags (info and pedantic included), no error or warning" % len(tags))


def deb_files(path):
    out = subprocess.run(["dpkg-deb", "--contents", path], capture_output=True, text=True,
                         check=True).stdout
    return [re.sub(r" -> .*$", "", l.split(None, 5)[5]).lstrip(".") for l in out.splitlines()]


def debs_contents(ctx):
    ma = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                        text=True, check=True).stdout.strip()
    plugindir = "/usr/lib/%s/gstreamer-1.0/" % ma
    want = {
        "gstreamer1.0-redisstreams": [plugindir + "libgstredisstreams.so"],
        "gstreamer1.0-frameproc": [plugindir + "libgstframeproc.so"],
        "gstreamer1.0-websocketsink": [plugindir + "libgstwebsocket.so"],
        "gst-redis-streams-tools":
            ["/usr/bin/gst-redis-" + s for s in STAGES]
            + ["/usr/share/man/man1/gst-redis-%s.1.gz" % s for s in STAGES]
            + ["/usr/share/gst-redis-streams/pipelines/" + s for s in STAGES + ["common.sh"]],
        "gst-redis-streams-doc": ["/usr/share/doc/gst-redis-streams/README.md",
                                  "/usr/share/doc/gst-redis-streams/docs/wire-format.md"],
    }
    if HAVE_PYTHON:
        want["gstreamer1.0-redisstreams-python"] = [plugindir + "python/pyframeproc.py"]
    built = {os.path.basename(p).split("_")[0]: p for p in ctx.debs}
    check(set(built) == set(want), "packages built: %s; expected: %s"
          % (sorted(built), sorted(want)))
    for pkg, paths in sorted(want.items()):
        files = deb_files(built[pkg])
        for p in paths:
            check(any(f == p or f.startswith(p) and p.endswith("/") for f in files),
                  "%s does not contain %s; it holds:\n    %s" % (pkg, p, "\n    ".join(files)))
        shown = [f for f in files if not f.endswith("/") and "/usr/share/doc/" + pkg not in f
                 and not f.startswith("/usr/share/lintian/")]
        print("  %s (%d KB): %s" % (pkg, os.path.getsize(built[pkg]) >> 10,
                                   summarize_paths(shown)))


def summarize_paths(paths):
    """/a/b/x, /a/b/y -> /a/b/{x,y}"""
    by_dir = {}
    for p in paths:
        d, f = os.path.split(p)
        by_dir.setdefault(d, []).append(f)
    parts = []
    for d, fs in sorted(by_dir.items()):
        parts.append("%s/%s" % (d, fs[0] if len(fs) == 1 else "{%s}" % ",".join(sorted(fs))))
    return " ".join(parts)


def debs_install(ctx):
    tarball = base_tarball(ctx)
    t0 = time.monotonic()
    root = ctx.root
    os.makedirs(root)
    run(["tar", "-C", root, "--numeric-owner", "-xpf", tarball],
        os.path.join(ctx.tmp, "chroot.log"), 600)
    prepare_root(ctx, root)
    print("  chroot unpacked in %.0f s" % (time.monotonic() - t0))
    os.makedirs(os.path.join(root, "tmp", "debs"), exist_ok=True)
    inside = []
    for p in ctx.debs:
        shutil.copy(p, os.path.join(root, "tmp", "debs"))
        inside.append("/tmp/debs/" + os.path.basename(p))
    log = os.path.join(ctx.tmp, "apt.log")
    install = chroot_argv(root, ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
                          + inside + ["redis-server"])
    try:
        run(install, log, 1200)
    except Failed:
        # the cached package lists may be older than the archive
        print("  apt-get install failed; apt-get update and again")
        run(chroot_argv(root, ["apt-get", "update", "-q"]), log, 600)
        run(install, log, 1200)
    newly = re.search(r"(\d+) newly installed", read(log))
    run(chroot_argv(root, ["apt-get", "autoclean", "-q"]), log, 300)
    print("  %s packages installed (%s) in %.0f s"
          % (newly.group(1) if newly else "?", ", ".join(os.path.basename(p).split("_")[0]
                                                        for p in ctx.debs) + ", redis-server",
             time.monotonic() - t0))


def chroot_run(ctx, argv, extra=None, timeout=120):
    """argv in the chroot (env -i: no GST_PLUGIN_PATH); its output."""
    log = os.path.join(ctx.tmp, "chroot-%s.log" % os.path.basename(argv[0]))
    start = len(read(log))
    run(chroot_argv(ctx.root, argv, extra), log, timeout)
    return read(log)[start:]


def inspect_case(element, plugin):
    """plugin: the plugin file libgst<plugin>.so that gst-inspect-1.0 names
    (for a Python element, GStreamer's Python plugin loader)."""
    def case(ctx):
        out = chroot_run(ctx, ["gst-inspect-1.0", element])
        m = re.search(r"^\s*Filename\s+(\S+)", out, re.M)
        want = "/usr/lib/%s/gstreamer-1.0/libgst%s.so" % (ctx.multiarch, plugin)
        # GStreamer names it by the path it scanned: /lib/... on merged /usr
        check(m and os.path.realpath(ctx.root + m.group(1)) == os.path.realpath(ctx.root + want),
              "gst-inspect-1.0 %s: plugin file %s, not %s:\n%s"
              % (element, m and m.group(1), want, out))
        print("  %s from %s (%s)" % (element, m.group(1), want))
    return case


def chroot_redis(ctx):
    from redisserver import RedisServer

    class ChrootRedis(RedisServer):
        def _args(self):
            return chroot_argv(ctx.root, [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", "/tmp", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--logfile", ""])
    if ctx.redis is None:
        ctx.redis = ChrootRedis(ctx.tmp, name="chroot-redis")
        print("  redis-server in the chroot, port %d, pid %d" % (ctx.redis.port, ctx.redis.proc.pid))
    return ctx.redis


def debs_line(ctx):
    server = chroot_redis(ctx)
    r = redis_client(server.port)
    conn = "host=127.0.0.1 port=%d" % server.port
    chroot_run(ctx, ["gst-launch-1.0", "videotestsrc", "num-buffers=%d" % FRAMES, "!",
                     "redisstreamsink"] + conn.split() + ["stream=pkg-frames"])
    check(r.xlen("pkg-frames") == FRAMES, "pkg-frames holds %d entries, not %d"
          % (r.xlen("pkg-frames"), FRAMES))
    out = chroot_run(ctx, ["gst-launch-1.0", "redisstreamsrc"] + conn.split()
                     + ["stream=pkg-frames", "group=pkg", "start-id=0",
                        "num-buffers=%d" % FRAMES,
                        "!", "fakesink"])
    check("ERROR" not in out, "the consumer reported an error:\n" + out)
    group = r.xinfo_groups("pkg-frames")[0]
    check(group["entries-read"] == FRAMES and group["lag"] == 0,
          "group pkg read %s entries (lag %s), not %d" % (group["entries-read"], group["lag"], FRAMES))
    print("  %d frames written and read in group pkg (pending %d, as num-buffers leaves the last)"
          % (FRAMES, group["pending"]))


def debs_commands(ctx):
    exercise_commands(ctx, "commands", chroot_redis(ctx).port)


def debs_demo(ctx):
    out = chroot_run(ctx, ["gst-redis-demo", "--duration", "3", "--cameras", "2", "--no-display"],
                     {"VIEWER_PORT": "0", "VIDEO_DEVICE": "none", "WIDTH": "320",
                      "HEIGHT": "240"}, timeout=180)
    check("Viewer:   http://127.0.0.1:" in out and "stopping" in out,
          "gst-redis-demo did not serve the viewer and stop:\n" + out)
    print("  " + "\n  ".join(l for l in out.splitlines() if l.startswith(("Viewer:", "Cameras:",
                                                                          "Monitor:"))))


def debs_viewer_page(ctx):
    port = free_port()
    log = os.path.join(ctx.tmp, "viewer.log")
    p = spawn(chroot_argv(ctx.root, [
        "gst-launch-1.0", "videotestsrc", "is-live=true", "!", "jpegenc", "!",
        "websocketsink", "address=127.0.0.1", "port=%d" % port]), log, die_with_parent=True)
    try:
        def get(path):
            if p.poll() is not None:
                raise Failed("gst-launch-1.0 with websocketsink exited:\n" + tail(log))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                            timeout=5) as resp:
                    return resp.status, resp.read()
            except OSError:
                return None
        status, page = wait_for(lambda: get("/"), 60, "the viewer page on port %d" % port)
        check(status == 200 and b"viewer.js" in page, "GET /: %s\n%r" % (status, page[:300]))
        status, js = get("/viewer.js")
        check(status == 200 and len(js) > 1000, "GET /viewer.js: %s, %d bytes" % (status, len(js)))
        print("  GET / %d bytes, GET /viewer.js %d bytes (compiled into the plugin)"
              % (len(page), len(js)))
    finally:
        stop(p)


def debs_prerequisites(ctx):
    """Skips (fails under CI=true) when a component is missing."""
    name = "packaging_debs"
    if os.geteuid() != 0:
        cannot_run(name, "it needs root (debootstrap, chroot and mount); run it as root")
    missing = [p for p in ("debootstrap", "dpkg-buildpackage", "dh", "lintian", "chroot",
                           "mount", "umount", "tar", "git")
               if shutil.which(p) is None]
    if missing:
        cannot_run(name, "%s not found (pipelines/install-deps --packaging installs them)"
                   % ", ".join(missing))
    probe = tempfile.mkdtemp(prefix="gst-redis-mount-probe.")
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "probe", probe],
                                 capture_output=True, text=True)
        if mounted.returncode == 0:
            subprocess.run(["umount", probe], check=True)
    finally:
        os.rmdir(probe)
    if mounted.returncode != 0:
        cannot_run(name, "this machine does not let it mount /proc for the chroot (%s)"
                   % mounted.stderr.strip())
    try:
        import redis  # noqa: F401
    except ImportError:
        cannot_run(name, "python3-redis not found (pipelines/install-deps --tests installs it)")
    deps = subprocess.run(["dpkg-checkbuilddeps"], cwd=TOP, capture_output=True, text=True)
    if deps.returncode != 0:
        cannot_run(name, "the build dependencies of debian/control are missing: %s "
                   "(pipelines/install-deps --packaging installs them)"
                   % deps.stderr.strip().replace("\n", " "))
    release = ctx.mirror.rstrip("/") + "/dists/%s/Release" % SUITE
    proxy = proxy_env()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(
        {"http": proxy["http_proxy"]} if proxy else None))
    try:
        with opener.open(release, timeout=30) as resp:
            resp.read(100)
    except OSError as e:
        cannot_run(name, "debootstrap cannot reach the Debian archive: %s: %s" % (release, e))


def main_debs():
    ctx = DebsCtx()
    ctx.mirror, ctx.sources = chroot_sources(apt_sources())
    if os.environ.get("PACKAGING_MIRROR"):
        ctx.mirror = os.environ["PACKAGING_MIRROR"]
        ctx.sources = "deb %s %s main\n" % (ctx.mirror, SUITE)
    debs_prerequisites(ctx)
    ctx.cache = os.environ.get("PACKAGING_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "gst-redis-streams", "packaging")
    os.makedirs(ctx.cache, exist_ok=True)
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-debs.", dir=os.environ.get("PACKAGING_TMP"))
    ctx.root = os.path.join(ctx.tmp, "root")
    ctx.redis = None
    ctx.multiarch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    ctx.expected_launch = "gst-launch-1.0 "

    def command(argv, extra):
        return chroot_argv(ctx.root, argv, extra), None
    ctx.command = command
    ctx.model = (ctx.root + "/tmp/pkgmodel.py", "/tmp/pkgmodel.py")
    ctx.have_python = HAVE_PYTHON
    print("mirror %s, chroot sources:\n  %s" % (ctx.mirror, ctx.sources.strip().replace(
        "\n", "\n  ")))
    print("cache %s, work in %s" % (ctx.cache, ctx.tmp))
    cases = [("debs_build", debs_build, None),
             ("debs_lintian", debs_lintian, "debs_build"),
             ("debs_contents", debs_contents, "debs_build"),
             ("debs_install", debs_install, "debs_build")]
    cases += [("debs_inspect_" + e, inspect_case(e, p), "debs_install")
              for e, p in (("redisstreamsink", "redisstreams"), ("redisstreamsrc", "redisstreams"),
                           ("frameproc", "frameproc"), ("websocketsink", "websocket"))
              + ((("pyframeproc", "python"),) if HAVE_PYTHON else ())]
    cases += [("debs_line", debs_line, "debs_install"),
              ("debs_commands", debs_commands, "debs_install"),
              ("debs_demo", debs_demo, "debs_install"),
              ("debs_viewer_page", debs_viewer_page, "debs_install")]
    passed = failed = 0
    try:
        passed, failed = run_cases(ctx, cases)
    finally:
        stop_all()
        clean = unmount_all(ctx.tmp)
        if clean:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
        else:
            print("FAIL: something is still mounted under %s: it is left in place" % ctx.tmp)
            failed += 1
    return passed, failed


# --- both ------------------------------------------------------------------------

def run_cases(ctx, cases):
    """Runs the cases in order; one whose prerequisite failed fails without
    running. Returns (passed, failed)."""
    results = {}
    t_all = time.monotonic()
    for name, fn, needs in cases:
        print("%s:" % name, flush=True)
        t0 = time.monotonic()
        if needs and not results.get(needs):
            print("  FAIL (not run: %s failed)" % needs, flush=True)
            results[name] = False
            continue
        try:
            fn(ctx)
            print("  PASS (%.1f s)" % (time.monotonic() - t0), flush=True)
            results[name] = True
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print("  FAIL (%.1f s)" % (time.monotonic() - t0), flush=True)
            results[name] = False
    print("all cases: %.0f s" % (time.monotonic() - t_all))
    passed = sum(1 for v in results.values() if v)
    return passed, len(results) - passed


def main():
    # meson's timeout sends SIGTERM: clean up (unmount, stop) as on Ctrl-C
    def on_term(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, on_term)
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "install":
        passed, failed = main_install()
    elif what == "debs":
        passed, failed = main_debs()
    else:
        sys.exit("usage: installed.py install|debs")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
