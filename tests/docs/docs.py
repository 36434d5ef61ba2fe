#!/usr/bin/python3
"""The launch lines and scripts the documentation shows, run as a user would.

launch lines  Every `gst-launch-1.0` line of README.md and docs/*.md (fenced
              and indented code blocks, `\\` continuations joined, and inline
              code with a `!`) is one test case, run as a real gst-launch-1.0
              process against a private redis-server; so is every
              `pipelines/launch` line of a code block (gst-launch-1.0 with
              secrets from files: its --secret-file files are written with
              a random password, which becomes the password of the
              element's username):
                - display and audio sinks (autovideosink, ximagesink, ...)
                  become fakesink;
                - redisstreamsrc/redisstreamsink get the private server
                  (host/port, socket-path, or a private Sentinel for
                  `sentinels`), websocketsink gets port=0, an address of
                  this machine (127.0.0.1 for one that is not), and a test
                  certificate, key and token when it names files that do
                  not exist;
                - with tls=true they get the server's TLS port, and the
                  test certificates for tls-ca-file, tls-cert-file and
                  tls-key-file (tests/tls/make-certs.sh), tls-server-name
                  localhost; the server takes client certificates but
                  does not require them;
                - a username and password become an ACL user of the
                  server;
                - the first source gets num-buffers (unless it has one), so
                  the line ends with EOS;
                - for each redisstreamsrc, its stream is written first (20
                  frames, 320x240 I420, by redisstreamsink; H.264 when the
                  stream's name has "h264" or the element after the source
                  is h264parse or openh264dec, JPEG for "jpeg" or jpegdec)
                  and a live
                  producer writes into it while the line runs, as in the
                  README's "terminal 1"; a line marked
                  `<!-- docs-test: after-writer -->` runs after the writer
                  has finished, with no live producer (it must read from the
                  start);
                - a dead-letter stream (`<stream>:dead-letter`) is made as
                  users get one: its stream written by redisstreamsink
                  (version 2 entries, as by default), each entry delivered
                  to a consumer that died on it, then set aside by a
                  redisstreamsrc with max-deliveries=1; the dead letters
                  must have their caps in `<stream>:dead-letter:info`, and
                  no live producer writes there;
                - a `filesrc location=X.mp4` gets an MP4 file made first;
                - a redisstreamsrc with `start` (a replay) must leave no
                  consumer group behind, and a `filesink` must have
                  written something;
                - a fenced code block right after
                  `<!-- docs-test: file NAME -->` is written to the file
                  NAME in the folder the lines run in (the Python model of
                  docs/processing.md), and `pyframeproc module=` paths of
                  this repository (docs/examples/...) are made absolute;
                - a line with `myfilter` runs with the C template of
                  docs/examples/cfilter built outside the tree (as a team
                  builds it) on its plugin path.
              A case passes when gst-launch-1.0 reaches PLAYING, then EOS,
              exits 0 with no ERROR, every redisstreamsrc read its frames in
              its group, and every redisstreamsink stored its frames.
              A line marked `<!-- docs-test: skip (reason) -->` right before
              its code block is not run; it is listed and counted as skipped.
stop_*        What stays pending (XPENDING) after each way a redisstreamsrc
              pipeline stops, as docs/redisstreamsrc.md says.
display_*     pipelines/display refuses to start without a display, and runs
              with VIDEO_SINK=fakesink.
help_*        Every script of pipelines/ answers --help (run directly and by
              bash) with its usage, exit status 0, nothing on stderr and no
              line of its code, and names every environment variable it
              reads (those of pipelines/common.sh too when it sources it).

Processes are started in their own session and stopped by PID. Arguments
select cases by substring. Ends with "N passed, N failed, N skipped" (the
skipped ones are the marked lines); exit status 1 when anything failed.
"""

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import redis

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINES = os.path.join(TOP, "pipelines")
sys.path.insert(0, os.path.join(TOP, "tests", "pylib"))
from cfilter import build_template  # noqa: E402
from procs import free_port, read, spawn, stop, stop_all, wait_for  # noqa: E402
from redisserver import RedisServer  # noqa: E402
from tlscerts import Certs  # noqa: E402

DOCS = ["README.md"] + sorted(os.path.relpath(p, TOP) for p in glob.glob(os.path.join(TOP, "docs", "*.md")))
DISPLAY_SINKS = {"autovideosink", "ximagesink", "xvimagesink", "glimagesink", "waylandsink",
                 "autoaudiosink", "alsasink", "pulsesink"}
SOURCES_WITH_NUM_BUFFERS = {"videotestsrc", "redisstreamsrc", "audiotestsrc", "v4l2src"}
PREFILL = 20      # frames written before a reader starts
READ_N = 10       # num-buffers of a redisstreamsrc (at most PREFILL)
TEST_N = 10       # num-buffers of a test source
LINE_TIMEOUT = 60
PRODUCER_CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
AUDIO_CAPS = "audio/x-raw,format=S16LE,rate=48000,channels=2"
H264_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"
# what runs a launch line: gst-launch-1.0, or pipelines/launch (secrets from files)
LAUNCHERS = ("gst-launch-1.0 ", "pipelines/launch ")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(skip|after-writer|file)\b\s*(.*?)\s*-->\s*$")


class Line:
    def __init__(self, path, lineno, text, marker):
        self.path, self.lineno, self.text, self.marker = path, lineno, text, marker

    @property
    def name(self):
        return "%s:%d" % (self.path, self.lineno)


def extract(path):
    """The gst-launch-1.0 lines of one Markdown file, with their markers."""
    lines = read(os.path.join(TOP, path)).split("\n")
    out = []
    marker = None          # (kind, reason, line number) waiting for its line
    fenced = False
    covered = set()

    def take(i, first):
        text, j = first.strip(), i
        while text.endswith("\\") and j + 1 < len(lines):
            j += 1
            text = text[:-1].rstrip() + " " + lines[j].strip()
        return text, j

    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m and m.group(1) == "file":
            i += 1
            continue
        if m:
            assert marker is None, "%s:%d: two markers in a row" % (path, i + 1)
            marker = (m.group(1), m.group(2), i + 1)
            # the marker must be right before a code block or a paragraph
            # whose inline code is the line
            nxt = next((l for l in lines[i + 1:] if l.strip()), "")
            assert (nxt.startswith("```") or nxt.startswith("    ")
                    or "`gst-launch-1.0 " in nxt), \
                "%s:%d: a docs-test marker not right before a code block" % (path, i + 1)
            i += 1
            continue
        if line.startswith("```"):
            fenced = not fenced
            i += 1
            continue
        found = None
        if (fenced or line.startswith("    ")) and line.strip().startswith(LAUNCHERS):
            text, j = take(i, line)
            found = (i, text)
            i = j
        elif not fenced:
            for m in re.finditer(r"`(gst-launch-1\.0 [^`]*)`", line):
                if "!" in m.group(1):
                    found = (i, m.group(1))
        if found:
            out.append(Line(path, found[0] + 1, found[1], marker))
            covered.add(found[0])
            marker = None
        i += 1
    # a launch line written some other way (after a prompt or a variable,
    # inline code over two lines) would be missed: refuse it
    missed = [n + 1 for n, l in enumerate(lines)
              if re.search(r"gst-launch-1\.0 .*!", l) and n not in covered]
    assert not missed, "%s: lines %s look like launch lines this test cannot run" % (path, missed)
    assert marker is None, "%s:%d: a docs-test marker with no launch line after it" % (path, marker[2])
    return out


def extract_files(path):
    """The files a Markdown file defines: {NAME: text} of every fenced code
    block right after a `<!-- docs-test: file NAME -->` marker."""
    lines = read(os.path.join(TOP, path)).split("\n")
    files = {}
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m or m.group(1) != "file":
            continue
        name = m.group(2)
        assert name and "/" not in name, "%s:%d: a file marker without a plain name" % (path, i + 1)
        assert i + 1 < len(lines) and lines[i + 1].startswith("```"), \
            "%s:%d: a file marker not right before a fenced code block" % (path, i + 1)
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        files[name] = "\n".join(lines[i + 2:end]) + "\n"
    return files


class Ctx:
    pass


def log(ctx, name):
    return os.path.join(ctx.tmp, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".log")


def gst(ctx, args, name, program="gst-launch-1.0", **kw):
    return spawn([program] + args, log(ctx, name), cwd=ctx.work, **kw)


def myfilter_env(ctx):
    """The environment with the C template built (once) on the plugin path."""
    if ctx.myfilter is None:
        ctx.myfilter = build_template(ctx.tmp)
    path = os.environ.get("GST_PLUGIN_PATH_1_0", os.environ.get("GST_PLUGIN_PATH", ""))
    return dict(os.environ, GST_PLUGIN_PATH_1_0=ctx.myfilter + (":" + path if path else ""))


def producer_args(ctx, stream, n=None, media=None):
    """What writes @stream for a line that reads it: media, or by the
    stream's name, audio (a name with "audio"), H.264 (with "h264"), JPEG
    (with "jpeg") or raw video."""
    count = ["num-buffers=%d" % n] if n else ["is-live=true"]
    if media is None:
        media = next((m for m in ("audio", "h264", "jpeg") if m in stream), "raw")
    if media == "audio":
        chain = ["audiotestsrc"] + count + ["!", "audioconvert", "!", AUDIO_CAPS]
    elif media == "h264":
        chain = (["videotestsrc", "pattern=ball"] + count + ["!", PRODUCER_CAPS, "!",
                 "openh264enc", "gop-size=30", "!", "h264parse", "!", H264_CAPS])
    elif media == "jpeg":
        chain = ["videotestsrc", "pattern=ball"] + count + ["!", PRODUCER_CAPS, "!", "jpegenc"]
    else:
        chain = ["videotestsrc", "pattern=ball"] + count + ["!", PRODUCER_CAPS]
    return chain + ["!", "redisstreamsink", "host=127.0.0.1",
                    "port=%d" % ctx.redis.port, "stream=" + stream, "maxlen=1000"]


def prefill(ctx, stream, n=PREFILL, media=None):
    p = gst(ctx, producer_args(ctx, stream, n, media), "prefill-" + stream)
    rc = p.wait(60)
    assert rc == 0, "writing %s failed:\n%s" % (stream, read(p.log))


DEAD_LETTER = ":dead-letter"


def prefill_dead_letters(ctx, stream, media=None):
    """@stream, a dead-letter stream, as a source makes it: PREFILL frames
    written into the stream it belongs to, delivered once to a consumer
    that died on them, then set aside by a redisstreamsrc with
    max-deliveries=1 (docs/redisstreamsrc.md, Dead letters)."""
    base = stream[:-len(DEAD_LETTER)]
    prefill(ctx, base, media=media)
    ctx.r.xgroup_create(base, "workers", id="0")
    ctx.r.xreadgroup("workers", "crashed", {base: ">"})
    p = gst(ctx, ["redisstreamsrc", "host=127.0.0.1", "port=%d" % ctx.redis.port,
                  "stream=" + base, "group=workers", "consumer=crashed", "max-deliveries=1",
                  "!", "fakesink"], "dead-letters-" + base)
    try:
        wait_for(lambda: xlen(ctx, stream) == PREFILL and
                 ctx.r.xpending(base, "workers")["pending"] == 0, 30,
                 "%d entries of %s set aside in %s" % (PREFILL, base, stream))
    finally:
        stop(p)
    for _, fields in ctx.r.xrange(stream):
        assert fields[b"v"] == b"2", "not a version 2 entry: %s" % fields.get(b"v")
        assert ctx.r.hexists(stream + ":info", b"caps:" + fields[b"caps"]), (
            "dead letter with caps id %s, not in %s:info" % (fields[b"caps"], stream))
    print("  %d version 2 entries of %s set aside in %s, their caps in %s:info" % (
        PREFILL, base, stream, stream), flush=True)


def make_mp4(ctx, name):
    p = gst(ctx, ["videotestsrc", "num-buffers=30", "!", "video/x-raw,width=320,height=240", "!",
                  "jpegenc", "!", "qtmux", "!", "filesink", "location=" + name], "make-" + name)
    assert p.wait(60) == 0, read(p.log)


def sentinel(ctx):
    if ctx.sentinel is None:
        ctx.sentinel = RedisServer(ctx.tmp, name="sentinel", sentinel_conf=(
            "sentinel monitor mymaster 127.0.0.1 %d 1\n" % ctx.redis.port))
    return ctx.sentinel


def split_elements(tokens):
    """[[element, prop=value, ...], ...] and, for each, whether it starts a
    chain (the first, or one that follows another without "!": a line with
    several chains, such as audio and video)."""
    elems, starts, cur = [], [], []
    linked = True
    for t in tokens:
        if t == "!":
            elems.append(cur)
            starts.append(not linked)
            cur, linked = [], True
        elif cur and "=" not in t:
            # a new element right after another one: a new chain
            elems.append(cur)
            starts.append(not linked)
            cur, linked = [t], False
        else:
            cur.append(t)
    elems.append(cur)
    starts.append(not linked)
    starts[0] = True
    return elems, starts


def set_tls(ctx, e):
    """A tls=true element: the server's TLS port and the test
    certificates in place of the line's files and name."""
    set_prop(e, "host", "127.0.0.1")
    set_prop(e, "port", str(ctx.tls_port))
    for name, path in (("tls-ca-file", ctx.certs.ca),
                       ("tls-cert-file", ctx.certs.path("client.crt")),
                       ("tls-key-file", ctx.certs.path("client.key"))):
        if prop(e, name) is not None:
            set_prop(e, name, path)
    if prop(e, "tls-server-name") is not None:
        set_prop(e, "tls-server-name", "localhost")


def prop(elem, name):
    for t in elem[1:]:
        if t.startswith(name + "="):
            return t.split("=", 1)[1].strip('"')
    return None


def set_prop(elem, name, value):
    """Sets name=value on an element (replacing it), or removes it (None)."""
    elem[1:] = [t for t in elem[1:] if not t.startswith(name + "=")]
    if value is not None:
        elem.append("%s=%s" % (name, value))


def websocket_files(ctx, elem):
    """A websocketsink's certificate, key and token files, made in the
    work directory when the line names files that do not exist (a
    self-signed certificate for 127.0.0.1, a random token)."""
    crt, key, token = (prop(elem, n) for n in ("tls-certificate-file", "tls-key-file",
                                               "auth-token-file"))
    if crt and not os.path.exists(os.path.join(ctx.work, crt)):
        key_out = os.path.join(ctx.work, "websocketsink-test.key")
        crt_out = os.path.join(ctx.work, "websocketsink-test.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_out,
                        "-out", crt_out, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        set_prop(elem, "tls-certificate-file", crt_out)
        set_prop(elem, "tls-key-file", key_out if key else None)
    if token and not os.path.exists(os.path.join(ctx.work, token)):
        path = os.path.join(ctx.work, "websocketsink-test.token")
        with open(path, "w") as f:
            f.write(os.urandom(16).hex() + "\n")
        set_prop(elem, "auth-token-file", path)


# what the element right after a redisstreamsrc says about the stream's media
DECODES = {"h264parse": "h264", "openh264dec": "h264", "avdec_h264": "h264",
           "jpegdec": "jpeg", "jpegparse": "jpeg"}


def launch_secrets(ctx, tokens, env):
    """The --secret-file/--secret-env options at the start of a
    pipelines/launch line: each file is written in the work folder with a
    random password (each variable set in env); returns (the options as
    they run here, {factory: {property: secret}}, the rest)."""
    opts, secrets = [], {}
    while tokens and tokens[0] in ("--secret-file", "--secret-env"):
        kind, spec = tokens[0], tokens[1]
        tokens = tokens[2:]
        factories, prop, source = spec.split(":", 2)
        value = os.urandom(12).hex()
        if kind == "--secret-file":
            path = os.path.join(ctx.work, "secret-%d" % len(opts))
            with open(path, "w") as f:
                f.write(value + "\n")
            os.chmod(path, 0o600)
            source = path
        else:
            env[source] = value
        opts += [kind, "%s:%s:%s" % (factories, prop, source)]
        for factory in factories.split(","):
            secrets.setdefault(factory, {})[prop] = value
    return opts, secrets, tokens


def prepare(ctx, line):
    """The line as it runs here, and what it needs: (program, args,
    environment, readers, writers, n) where readers are (stream, group,
    media), writers are stream names and n is the num-buffers of its first
    element."""
    tokens = shlex.split(line.text)
    assert tokens[0] in ("gst-launch-1.0", "pipelines/launch"), tokens
    program, env, secrets, opts = "gst-launch-1.0", None, {}, []
    tokens = tokens[1:]
    if line.text.startswith("pipelines/launch"):
        program, env = os.path.join(PIPELINES, "launch"), dict(os.environ)
        opts, secrets, tokens = launch_secrets(ctx, tokens, env)
    while tokens and tokens[0].startswith("-"):
        opts.append(tokens.pop(0))
    elems, starts = split_elements(tokens)
    readers, writers = [], []
    n = None
    for k, e in enumerate(elems):
        name = e[0]
        if name in DISPLAY_SINKS:
            e[0] = "fakesink"
        if name in ("redisstreamsrc", "redisstreamsink"):
            user = prop(e, "username")
            password = prop(e, "password") or secrets.get(name, {}).get("password")
            if password is not None:
                ctx.r.execute_command("ACL", "SETUSER", user or "default", "on",
                                      ">" + password, "~*", "&*", "+@all")
            if prop(e, "tls") == "true":
                set_tls(ctx, e)
            elif prop(e, "sentinels") is not None:
                set_prop(e, "sentinels", "127.0.0.1:%d" % sentinel(ctx).port)
            elif prop(e, "socket-path") is not None:
                set_prop(e, "socket-path", ctx.redis_sock)
            else:
                set_prop(e, "host", "127.0.0.1")
                set_prop(e, "port", str(ctx.redis.port))
        if name == "redisstreamsrc":
            # a replay (start=...) reads without a group: None
            after = elems[k + 1][0] if k + 1 < len(elems) and not starts[k + 1] else None
            readers.append((prop(e, "stream") or "video-frames",
                            None if prop(e, "start") else prop(e, "group") or "gst-redis",
                            DECODES.get(after)))
        if name == "redisstreamsink":
            writers.append(prop(e, "stream") or "video-frames")
        if name == "websocketsink":
            set_prop(e, "port", "0")
            if prop(e, "address") not in (None, "0.0.0.0", "::", "127.0.0.1", "localhost"):
                set_prop(e, "address", "127.0.0.1")
            websocket_files(ctx, e)
        if name == "pyframeproc":
            mod = prop(e, "module")
            if mod and not os.path.isabs(mod) and not os.path.exists(os.path.join(ctx.work, mod)) \
                    and os.path.exists(os.path.join(TOP, mod)):
                set_prop(e, "module", os.path.join(TOP, mod))
        if name == "filesrc":
            loc = prop(e, "location")
            if loc and not os.path.exists(os.path.join(ctx.work, loc)) and loc.endswith(".mp4"):
                make_mp4(ctx, loc)
        if starts[k] and name in SOURCES_WITH_NUM_BUFFERS and prop(e, "num-buffers") is None:
            set_prop(e, "num-buffers", str(READ_N if name == "redisstreamsrc" else TEST_N))
        if k == 0 and prop(e, "num-buffers") is not None:
            n = int(prop(e, "num-buffers"))
    args = opts[:]
    for k, e in enumerate(elems):
        if k and not starts[k]:
            args.append("!")
        args += e
    return program, args, env, readers, writers, n


def uses(args, element):
    return element in args


def xlen(ctx, stream):
    return ctx.r.xlen(stream)


def group_read(ctx, stream, group):
    try:
        for g in ctx.r.xinfo_groups(stream):
            if g["name"].decode() == group:
                return g["entries-read"] or 0
    except redis.ResponseError:
        pass
    return 0


def run_line(ctx, line):
    ctx.r.flushall()
    program, args, env, readers, writers, n = prepare(ctx, line)
    after_writer = line.marker and line.marker[0] == "after-writer"
    assert not after_writer or readers, "after-writer on a line without redisstreamsrc"
    for stream, _, media in readers:
        if stream.endswith(DEAD_LETTER):
            prefill_dead_letters(ctx, stream, media=media)
        else:
            prefill(ctx, stream, media=media)
    before = {s: xlen(ctx, s) for s in writers}
    live = []
    if not after_writer:
        for stream, _, media in readers:
            if not stream.endswith(DEAD_LETTER):
                live.append(gst(ctx, producer_args(ctx, stream, media=media), "live-" + stream))
    print("  runs: %s %s" % (program, " ".join(shlex.quote(a) for a in args)), flush=True)
    if uses(args, "myfilter"):
        env = myfilter_env(ctx)
    p = gst(ctx, args, line.name, program=program, env=env)
    try:
        try:
            rc = p.wait(LINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            stop(p)
            raise AssertionError("no EOS within %d s:\n%s" % (LINE_TIMEOUT, tail(p.log))) from None
    finally:
        for q in live:
            stop(q)
    out = read(p.log)
    assert rc == 0, "exit status %d:\n%s" % (rc, tail(p.log))
    assert "Setting pipeline to PLAYING" in out, tail(p.log)
    assert "Got EOS from element" in out, "no EOS:\n" + tail(p.log)
    errors = [l for l in out.splitlines() if l.startswith("ERROR") or "CRITICAL" in l]
    assert not errors, "\n".join(errors)
    for stream, group, _ in readers:
        if group is None:
            # a replay leaves nothing behind in Redis
            assert ctx.r.xinfo_groups(stream) == [], "a replay made a group on %s" % stream
            continue
        got = group_read(ctx, stream, group)
        assert got >= (n or READ_N), "group %s read %d entries of %s" % (group, got, stream)
    for loc in [prop(e, "location") for e in split_elements(args)[0] if e[0] == "filesink"]:
        path = os.path.join(ctx.work, loc)
        assert os.path.getsize(path) > 0, "%s is empty" % loc
    for s in writers:
        grown = xlen(ctx, s) - before[s]
        assert grown >= (n or 1), "%s grew by %d entries" % (s, grown)
    # (entries-read of a group created at $ counts the entries before it too)
    summary = ", ".join(["%s group %s entries-read %d" % (s, g, group_read(ctx, s, g))
                         if g else "%s replayed, no group" % s for s, g, _ in readers] +
                        ["%s +%d entries" % (s, xlen(ctx, s) - before[s]) for s in writers])
    print("  PLAYING, EOS, exit 0" + (": " + summary if summary else ""))


def tail(path, n=15):
    return "\n".join(read(path).splitlines()[-n:])


# --- what stays pending after a stop (docs/redisstreamsrc.md) ------------

def src_args(ctx, *more):
    return ["redisstreamsrc", "port=%d" % ctx.redis.port, "stream=stop", "group=g",
            "consumer=c", "start-id=0"] + list(more)


def pending(ctx):
    return ctx.r.xpending("stop", "g")["pending"]


def stop_case(ctx, name, args, sig, busy):
    """Starts args reading "stop" (PREFILL entries), waits until the source is
    idle (every entry read and acknowledged, blocked in the next read) or
    busy (the second entry read and still in its push: the first push came
    back, so the pipeline is PLAYING), sends sig, and returns (exit status,
    pending entry ids, the stream's first entry ids, gst-launch output)."""
    ctx.r.flushall()
    prefill(ctx, "stop")
    p = gst(ctx, args, name)
    if busy:
        wait_for(lambda: group_read(ctx, "stop", "g") == 2 and pending(ctx) == 1, 30,
                 "the second entry in its push")
    else:
        wait_for(lambda: group_read(ctx, "stop", "g") == PREFILL and pending(ctx) == 0, 30,
                 "every entry read and acknowledged")
    if sig is not None:
        os.kill(p.pid, sig)
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        stop(p, signal.SIGKILL)
        raise AssertionError("did not stop:\n" + tail(p.log))
    ids = [e["message_id"].decode() for e in ctx.r.xpending_range("stop", "g", "-", "+", 100)]
    first = [i.decode() for i, _ in ctx.r.xrange("stop", "-", "+", PREFILL)]
    print("  exit %s, XPENDING %d %s (entries-read %d)" % (
        rc, len(ids), ["entry %d of the stream" % first.index(i) for i in ids],
        group_read(ctx, "stop", "g")))
    return rc, ids, first, read(p.log)


def consumers(ctx):
    return [c["name"].decode() for c in ctx.r.xinfo_consumers("stop", "g")]


def stop_num_buffers(ctx):
    """num-buffers=5 into a fakesink that keeps its last sample (the
    default): it lets go of the fifth frame, which it rendered, only when
    the pipeline goes down; that frame is acknowledged then: 0 pending, and
    the consumer left its group."""
    ctx.r.flushall()
    prefill(ctx, "stop")
    p = gst(ctx, src_args(ctx, "num-buffers=5") + ["!", "fakesink"], "stop-num-buffers")
    rc = p.wait(30)
    ids = [e["message_id"].decode() for e in ctx.r.xpending_range("stop", "g", "-", "+", 100)]
    print("  exit %s, XPENDING %s, entries-read %d, consumers %s" % (
        rc, ids, group_read(ctx, "stop", "g"), consumers(ctx)))
    assert rc == 0 and "Got EOS" in read(p.log), tail(p.log)
    assert ids == [] and group_read(ctx, "stop", "g") == 5, ids
    assert consumers(ctx) == [], consumers(ctx)


# a sink that lets go of each frame once it rendered it
FAKESINK = ["!", "fakesink", "enable-last-sample=false"]


def stop_sigint_idle(ctx):
    """SIGINT while waiting for the next entry, without -e (to NULL): the
    last entry was acknowledged once the sink let go of it: 0 pending."""
    rc, ids, _, _ = stop_case(ctx, "stop-sigint-idle", src_args(ctx) + FAKESINK,
                              signal.SIGINT, False)
    assert rc == 0 and ids == [], (rc, ids)


def last_sample_case(ctx, name, sink):
    """SIGINT while waiting, into @sink that keeps its last sample: the last
    frame, let go of only when the pipeline goes down, was rendered: it is
    acknowledged then (0 pending), and the consumer leaves its group."""
    ctx.r.flushall()
    prefill(ctx, "stop")
    p = gst(ctx, src_args(ctx) + sink, name)
    wait_for(lambda: group_read(ctx, "stop", "g") == PREFILL and pending(ctx) == 1, 30,
             "every entry read, the last one still held by the sink")
    p.send_signal(signal.SIGINT)
    rc = p.wait(30)
    ids = [e["message_id"].decode() for e in ctx.r.xpending_range("stop", "g", "-", "+", 100)]
    print("  exit %s, XPENDING %s, consumers %s" % (rc, ids, consumers(ctx)))
    assert rc == 0 and ids == [], (rc, ids, tail(p.log))
    assert consumers(ctx) == [], "the consumer stayed in its group: %s" % consumers(ctx)


def stop_sigint_idle_last_sample(ctx):
    """The same into a plain fakesink (it keeps its last sample, the
    default)."""
    last_sample_case(ctx, "stop-sigint-idle-last-sample", ["!", "fakesink"])


def stop_sigint_idle_bin_sink(ctx):
    """The same into a sink that is a bin (fakevideosink: a fakesink behind
    a ghost pad, as autovideosink wraps the display's sink) with sync=true,
    a display's default."""
    last_sample_case(ctx, "stop-sigint-idle-bin-sink",
                     ["!", "videoconvert", "!", "fakevideosink", "sync=true"])


def stop_sigint_queue(ctx):
    """SIGINT while a queue in front of a slow sink holds frames: the frames
    the sink rendered are acknowledged (the last one as the pipeline goes
    down), those the flush dropped from the queue and the one on its way
    stay pending: no frame lost. A frame the sink prerolled as it paused
    may go either way."""
    ctx.r.flushall()
    prefill(ctx, "stop")
    p = gst(ctx, ["-v"] + src_args(ctx) + ["!", "queue", "!", "identity", "sleep-time=300000",
                                           "!", "fakesink", "silent=false"], "stop-sigint-queue")

    def rendered():
        return [l for l in read(p.log).splitlines() if "fakesink0" in l and "chain" in l]

    wait_for(lambda: group_read(ctx, "stop", "g") == PREFILL and len(rendered()) >= 3, 30,
             "every entry read, the sink rendering the third")
    p.send_signal(signal.SIGINT)
    rc = p.wait(30)
    ids = [e["message_id"].decode() for e in ctx.r.xpending_range("stop", "g", "-", "+", 100)]
    first = [i.decode() for i, _ in ctx.r.xrange("stop", "-", "+", PREFILL)]
    chains = len(rendered())
    # the first frame is prerolled, then rendered; one prerolled after the
    # last one rendered came as the sink paused
    sink = [l for l in read(p.log).splitlines() if "fakesink0" in l]
    last = max(i for i, l in enumerate(sink) if "chain" in l)
    prerolls = len([l for l in sink[last:] if "preroll" in l])
    print("  exit %s, rendered %d, prerolled %d, XPENDING %d (from entry %s)" % (
        rc, chains, prerolls, len(ids), first.index(ids[0]) if ids else None))
    assert rc == 0, tail(p.log)
    assert chains < PREFILL, "the sink rendered every frame: nothing was queued"
    assert any(ids == first[k:] for k in range(chains, chains + prerolls + 1)), \
        "rendered %d, pending %s" % (chains, [first.index(i) for i in ids])


def stop_eos_idle(ctx):
    """gst-launch-1.0 -e and SIGINT (an EOS event) while waiting: 0 pending."""
    rc, ids, _, out = stop_case(ctx, "stop-eos-idle", ["-e"] + src_args(ctx) + FAKESINK,
                                signal.SIGINT, False)
    assert rc == 0 and "Got EOS" in out and ids == [], (rc, ids, out[-500:])


def stop_sigterm_idle(ctx):
    """SIGTERM (gst-launch-1.0 dies at once) while waiting: 0 pending."""
    rc, ids, _, _ = stop_case(ctx, "stop-sigterm-idle", src_args(ctx) + FAKESINK,
                              signal.SIGTERM, False)
    assert rc == -signal.SIGTERM and ids == [], (rc, ids)


# each push takes 3 s: time enough to see the state and send the signal
def stop_sigkill_idle(ctx):
    """SIGKILL while waiting: 0 pending."""
    rc, ids, _, _ = stop_case(ctx, "stop-sigkill-idle", src_args(ctx) + FAKESINK,
                              signal.SIGKILL, False)
    assert rc == -signal.SIGKILL and ids == [], (rc, ids)


BUSY = ["!", "identity", "sleep-time=3000000", "!", "fakesink", "silent=false",
        "enable-last-sample=false"]


def stop_sigint_busy(ctx):
    """SIGINT without -e while a frame is in its push (a slow downstream):
    the push comes back FLUSHING, the entry is not acknowledged: 1 pending."""
    rc, ids, first, out = stop_case(ctx, "stop-sigint-busy", ["-v"] + src_args(ctx) + BUSY,
                                    signal.SIGINT, True)
    assert rc == 0 and ids == [first[1]], (rc, ids)


def stop_eos_busy(ctx):
    """-e and SIGINT while a frame is in its push: the push completes (the
    frame reaches the sink, which lets go of it), then EOS: the frame's
    acknowledgement goes out as the source stops: 0 pending."""
    rc, ids, first, out = stop_case(ctx, "stop-eos-busy", ["-e", "-v"] + src_args(ctx) + BUSY,
                                    signal.SIGINT, True)
    chains = [l for l in out.splitlines() if "fakesink0" in l and "chain" in l]
    assert rc == 0 and "Got EOS" in out and ids == [], (rc, ids)
    assert len(chains) == 2, "the sink got %d buffers:\n%s" % (len(chains), "\n".join(chains))


# --- pipelines/display without a display --------------------------------

def display_env(ctx, **kw):
    env = dict(os.environ, REDIS_HOST="127.0.0.1", REDIS_PORT=str(ctx.redis.port),
               OUTPUT_STREAM="shown", **kw)
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "GST_PLUGIN_PATH"):
        env.pop(k, None)
    for k, v in kw.items():
        env[k] = v
    return env


def display_refuses_headless(ctx):
    ctx.r.flushall()
    out = subprocess.run([os.path.join(PIPELINES, "display")], env=display_env(ctx),
                         capture_output=True, text=True, timeout=30)
    print("  exit %d, stderr: %s" % (out.returncode, out.stderr.strip()))
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr)
    assert "DISPLAY" in out.stderr and "VIDEO_SINK=fakesink" in out.stderr, out.stderr
    assert "gst-launch-1.0" not in out.stdout, out.stdout
    assert not ctx.r.exists("shown"), "display ran a pipeline"


def display_headless_sink(ctx):
    ctx.r.flushall()
    live = gst(ctx, producer_args(ctx, "shown"), "display-live")
    p = spawn([os.path.join(PIPELINES, "display")], log(ctx, "display"),
              env=display_env(ctx, VIDEO_SINK="fakesink"))
    try:
        wait_for(lambda: group_read(ctx, "shown", "display") >= 10 or p.poll() is not None, 30,
                 "the display group to read 10 frames")
        assert p.poll() is None, "display exited:\n" + tail(p.log)
    finally:
        stop(p)
        stop(live)
    assert "fakesink" in read(p.log).splitlines()[0], read(p.log)
    print("  group display read %d frames" % group_read(ctx, "shown", "display"))


# --- --help of every script ------------------------------------------------

# upper-case names the scripts use that are not settings: bash's own, the
# globals of pipelines/common.sh and what the installed install-paths.sh sets
NOT_SETTINGS = {"BASH_SOURCE", "SECONDS", "ENCODER", "LAUNCH_SECRETS", "PRINT_ONLY",
                "REDIS_PROPS", "STAGE_WARNINGS", "SUDO", "GST_REDIS_STREAMS_PLUGIN_DIR"}


def variables_read(path):
    """The environment variables a script of pipelines/ reads: $NAME and
    ${NAME...} in bash (with pipelines/common.sh when it sources it),
    env("NAME") and os.environ.get("NAME") in Python."""
    text = read(path)
    if re.search(r"^source .*common\.sh", text, re.M):
        text += read(os.path.join(PIPELINES, "common.sh"))
    code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    names = set(re.findall(r"\$\{?!?([A-Z][A-Z0-9_]+)", code))
    names |= set(re.findall(r"(?:\benv|environ\.get)\(\"([A-Z][A-Z0-9_]+)\"", code))
    return names - NOT_SETTINGS

def help_case(script):
    path = os.path.join(PIPELINES, script)

    def case(ctx):
        # its code: the lines that are neither comments nor in a string
        # (the usage text of pipelines/monitor is its docstring)
        text = re.sub(r'"""[\s\S]*?"""', "", read(path))
        code = [l.strip() for l in text.splitlines()
                if l.strip() and not l.lstrip().startswith("#") and len(l.strip()) > 3]
        for how in ([path], ["bash", path]):
            out = subprocess.run(how + ["--help"], capture_output=True, text=True, timeout=30,
                                 env=dict(os.environ, REDIS_PORT="1"))
            what = " ".join(how[:-1] + [script, "--help"])
            assert out.returncode == 0, "%s: exit %d, %s" % (what, out.returncode, out.stderr)
            assert out.stderr == "", "%s wrote on stderr: %s" % (what, out.stderr)
            assert "usage:" in out.stdout.lower(), \
                "%s: no usage text:\n%s" % (what, out.stdout)
            stray = [l for l in out.stdout.splitlines() if l.strip() in code]
            assert not stray, "%s printed lines of its code: %s" % (what, stray)
            undocumented = sorted(v for v in variables_read(path)
                                  if not re.search(r"\b%s\b" % v, out.stdout))
            assert not undocumented, "%s does not name %s" % (what, ", ".join(undocumented))
        print("  %d lines of usage, exit 0, nothing on stderr (run directly and by bash); "
              "names all %d variables it reads" % (len(out.stdout.splitlines()),
                                                    len(variables_read(path))))
    return case


def main():
    selected = sys.argv[1:]
    ctx = Ctx()
    ctx.tmp = tempfile.mkdtemp(prefix="gst-redis-docs.")
    ctx.work = os.path.join(ctx.tmp, "work")
    os.makedirs(ctx.work)
    ctx.sentinel = None
    ctx.myfilter = None
    passed = failed = skipped = 0
    try:
        ctx.redis_sock = os.path.join(ctx.tmp, "redis.sock")
        # plain (the test's writers and checks), unix socket and TLS
        ctx.certs = Certs(ctx.tmp)
        ctx.tls_port = free_port()
        ctx.redis = RedisServer(ctx.tmp, "--unixsocket", ctx.redis_sock,
                                "--tls-port", str(ctx.tls_port),
                                *ctx.certs.server_args(auth_clients="optional"))
        ctx.r = ctx.redis.client()
        cases = []
        nlines = 0
        written = {}
        for path in DOCS:
            for name, text in extract_files(path).items():
                assert name not in written, "%s defines %s, as %s does" % (path, name, written[name])
                written[name] = path
                with open(os.path.join(ctx.work, name), "w") as f:
                    f.write(text)
        for path in DOCS:
            for line in extract(path):
                nlines += 1
                cases.append(("line " + line.name, line))
        scripts = sorted(f for f in os.listdir(PIPELINES)
                         if os.access(os.path.join(PIPELINES, f), os.X_OK))
        cases += [(fn.__name__, fn) for fn in (
            stop_num_buffers, stop_sigint_idle, stop_sigint_idle_last_sample, stop_sigint_idle_bin_sink,
            stop_sigint_queue, stop_eos_idle,
            stop_sigterm_idle, stop_sigkill_idle, stop_sigint_busy, stop_eos_busy, display_refuses_headless, display_headless_sink)]
        cases += [("help_" + s, help_case(s)) for s in scripts]
        print("%d gst-launch-1.0 lines in %d Markdown files; files they use: %s"
              % (nlines, len(DOCS), ", ".join("%s (%s)" % kv for kv in written.items()) or "none"),
              flush=True)
        skips = []
        for name, what in cases:
            if selected and not any(s in name for s in selected):
                continue
            if isinstance(what, Line) and what.marker and what.marker[0] == "skip":
                print("%s: SKIP %s\n  %s" % (name, what.marker[1], what.text), flush=True)
                skips.append(name)
                skipped += 1
                continue
            print("%s:" % name, flush=True)
            if isinstance(what, Line):
                print("  " + what.text)
            t0 = time.monotonic()
            try:
                if isinstance(what, Line):
                    run_line(ctx, what)
                else:
                    what(ctx)
                print("  PASS (%.1f s)" % (time.monotonic() - t0), flush=True)
                passed += 1
            except Exception:
                traceback.print_exc(file=sys.stdout)
                print("  FAIL", flush=True)
                failed += 1
        print("lines marked docs-test: skip: %d (%s)" % (len(skips), ", ".join(skips) or "none"))
    except Exception:
        traceback.print_exc(file=sys.stdout)
        failed += 1
    finally:
        stop_all()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
