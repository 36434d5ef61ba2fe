#!/usr/bin/python3
"""The redis-py reader and writer of docs/wire-format.md ("Reading with
redis-py", "Writing with redis-py"), taken from the Markdown as they are,
against the elements; the reader killed mid-stream.

  docs_loop_sigkill  redisstreamsink writes 60 frames; the loop reads them in
                     a child process whose store () writes the frame's seq to
                     a results stream (30 ms of "model" before, 30 ms after);
                     the child is killed with SIGKILL 8 times across the
                     stream (at frames 4, 11, 18, ... or later), alternately
                     while an entry is being processed (read, not stored) and
                     after it was stored (not yet acknowledged), and started
                     again under the same consumer name each time. Every seq
                     reaches the results, nothing stays pending, and the
                     only duplicates are frames killed between store and
                     XACK (at-least-once).
  old_loop_loses     the same kill with the loop the page had before (reading
                     only ">"): the frame being processed stays pending
                     forever and never reaches the results. The control
                     that shows the first case can see a loss.
  docs_reader_versions
                     the page's reader reads what redisstreamsink writes in
                     both versions, mixed in one stream with a caps change
                     (wire-format=1, then 2, then 1 with other caps, then
                     2): every frame with its caps string and payload size,
                     each caps id looked up once (HGET count).
  docs_writer_to_src the page's writer, run as it is (but for the server):
                     version 2 entries and the caps in video-frames:info
                     under the id the page gives; redisstreamsrc plays
                     its 10 frames with those caps, nothing skipped; and
                     again with another caps string stored under that id
                     first: version 1 entries, which play too.
  docs_caps_id       the caps id the page gives for its example caps is
                     what its formula computes.

Child processes are started in their own session and stopped by PID; the
script starts its own redis-server. Ends with "N passed, N failed".
"""

import hashlib
import os
import re
import signal
import sys
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pylib"))
import cases  # noqa: E402
from procs import read, spawn, stop, wait_for  # noqa: E402

PYTHON = "/usr/bin/python3"
N = 60
KILLS = 8

OLD_LOOP = '''
def consume(r, stream, group, consumer, store):
    while True:
        for _, entries in r.xreadgroup(group, consumer, {stream: ">"},
                                       count=1, block=1000) or []:
            for entry_id, fields in entries:
                store(entry_id, decode(r, stream, fields))
                r.xack(stream, group, entry_id)
'''


def docs_block(title):
    """The Python code block under "### <title>" of docs/wire-format.md."""
    text = read(os.path.join(TOP, "docs", "wire-format.md"))
    m = re.search(r"### %s\n+```python\n(.*?)\n```" % re.escape(title), text, re.S)
    assert m, "no Python block under \"%s\" in docs/wire-format.md" % title
    return m.group(1) + "\n"


def docs_loop():
    return docs_block("Reading with redis-py")


# --- the child: the loop with a store () that takes its time ----------------

def child(module_path, sock, stream, consumer, log):
    import importlib.util
    spec = importlib.util.spec_from_file_location("reader", module_path)
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    r = redis.Redis(unix_socket_path=sock)

    def note(what):
        with open(log, "a") as f:
            f.write(what + "\n")
            f.flush()
            os.fsync(f.fileno())

    def store(entry_id, frame):
        note("start %d" % frame["seq"])
        time.sleep(0.03)                      # the model
        r.xadd(stream + "-results", {"seq": str(frame["seq"])})
        note("stored %d" % frame["seq"])
        time.sleep(0.03)                      # whatever comes before the XACK

    reader.consume(r, stream, "python", consumer, store)


# --- the cases -------------------------------------------------------------------


def write_frames(ctx, stream):
    p = spawn(["gst-launch-1.0", "videotestsrc", "num-buffers=%d" % N, "!",
               "video/x-raw,format=I420,width=64,height=48,framerate=30/1", "!",
               "redisstreamsink", "socket-path=" + ctx.redis.sock, "stream=" + stream,
               "maxlen=0"], os.path.join(ctx.tmp, stream + "-writer.log"))
    assert p.wait(60) == 0, read(p.log)
    # the group at the start of the stream: the loop's XGROUP CREATE then
    # finds it (BUSYGROUP) and reads everything
    ctx.r.xgroup_create(stream, "python", id="0")


def run_with_kills(ctx, code, stream, kills, wait_end):
    module = os.path.join(ctx.tmp, stream + "_reader.py")
    with open(module, "w") as f:
        f.write(code)
    log = os.path.join(ctx.tmp, stream + ".notes")
    write_frames(ctx, stream)

    def start():
        return spawn([PYTHON, os.path.abspath(__file__), "--child", module, ctx.redis.sock,
                      stream, "reader-1", log], os.path.join(ctx.tmp, stream + ".log"))

    def notes():
        return read(log).split("\n")[:-1]

    p = start()
    pending_at_kill = []
    for k in range(kills):
        # spread over the stream: the k-th kill at frame 4 + 7k or later
        want, target = ("start" if k % 2 == 0 else "stored"), 4 + 7 * k
        line = wait_for(lambda: next((n for n in notes() if n.split()[0] == want and
                                      int(n.split()[1]) >= target), None),
                        30, "a %r note of frame %d or later" % (want, target), interval=0.002)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)
        stop(p)
        pending = ctx.r.xpending(stream, "python")["pending"]
        pending_at_kill.append((line, pending))
        p = start()
    if wait_end:
        wait_for(lambda: group(ctx, stream)["entries-read"] == N and
                 group(ctx, stream)["pending"] == 0, 60, "every entry read and acknowledged")
    else:
        wait_for(lambda: group(ctx, stream)["entries-read"] == N and
                 group(ctx, stream)["pending"] <= kills, 60, "every entry read")
        time.sleep(1.5)         # the loop's next reads: nothing more comes
    stop(p, signal.SIGKILL)
    results = [int(f[b"seq"]) for _, f in ctx.r.xrange(stream + "-results", "-", "+")]
    return results, pending_at_kill, group(ctx, stream)


def group(ctx, stream):
    return next(g for g in ctx.r.xinfo_groups(stream) if g["name"] == b"python")


def docs_loop_sigkill(ctx):
    results, at_kill, g = run_with_kills(ctx, docs_loop(), "docs", KILLS, True)
    missing = sorted(set(range(N)) - set(results))
    dups = sorted(s for s in set(results) if results.count(s) > 1)
    killed_stored = [int(line.split()[1]) for line, _ in at_kill if line.startswith("stored")]
    print("  %d kills (note at the kill, entries pending): %s"
          % (len(at_kill), ", ".join("%s: %d" % x for x in at_kill)))
    print("  results: %d entries for %d frames, missing %s, twice %s; pending %d"
          % (len(results), N, missing or "none", dups or "none", g["pending"]))
    assert all(p == 1 for _, p in at_kill), "a kill found no entry pending: %s" % at_kill
    assert not missing, "frames lost: %s" % missing
    assert g["pending"] == 0, "%d entries still pending" % g["pending"]
    assert set(dups) <= set(killed_stored), \
        "duplicates %s beyond the frames killed after store (%s)" % (dups, killed_stored)


def old_loop_loses(ctx):
    code = docs_loop()
    # the page's decode () and imports, the old loop
    code = code[:code.index("def consume(")] + OLD_LOOP
    results, at_kill, g = run_with_kills(ctx, code, "old", 1, False)
    missing = sorted(set(range(N)) - set(results))
    print("  killed at %r: missing %s, pending %d after the restart read everything"
          % (at_kill[0][0], missing, g["pending"]))
    lost = int(at_kill[0][0].split()[1])
    assert missing == [lost] and g["pending"] == 1, \
        "the old loop did not lose the frame in processing: missing %s, pending %d" \
        % (missing, g["pending"])


# --- the page's reader and writer against the elements ---------------------------

def load_module(ctx, name, code):
    import importlib.util
    path = os.path.join(ctx.tmp, name + ".py")
    with open(path, "w") as f:
        f.write(code)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gst_launch(ctx, name, args):
    p = spawn(["gst-launch-1.0"] + args, os.path.join(ctx.tmp, name + ".log"))
    assert p.wait(60) == 0, read(p.log)
    return read(p.log)


def sink_frames(ctx, stream, caps, n, seq0, wire_format):
    gst_launch(ctx, "%s-%d" % (stream, seq0), [
        "videotestsrc", "num-buffers=%d" % n, "!", caps, "!",
        "redisstreamsink", "socket-path=" + ctx.redis.sock, "stream=" + stream,
        "maxlen=0", "wire-format=%d" % wire_format])


def docs_reader_versions(ctx):
    reader = load_module(ctx, "docs_reader", docs_loop())
    stream = "versions"
    a = "video/x-raw,format=I420,width=64,height=48,framerate=30/1"
    b = "video/x-raw,format=RGB,width=33,height=21,framerate=30/1"
    parts = [(a, 5, 1), (a, 5, 2), (b, 5, 1), (b, 5, 2)]
    for i, (caps, n, wf) in enumerate(parts):
        sink_frames(ctx, stream, caps, n, 5 * i, wf)
    versions = [int(f[b"v"]) for _, f in ctx.r.xrange(stream)]
    assert versions == [1] * 5 + [2] * 5 + [1] * 5 + [2] * 5, versions
    ctx.r.config_resetstat()
    reader.CAPS.clear()
    got = []
    for entry_id, fields in ctx.r.xrange(stream):
        frame = reader.decode(ctx.r, stream, fields)
        got.append((frame["seq"], frame["caps"].split(",")[1].strip(),
                    len(frame["payload"])))
    want = [(i % 5, "format=(string)I420" if i < 10 else "format=(string)RGB",
             64 * 48 * 3 // 2 if i < 10 else 100 * 21) for i in range(20)]
    print("  %d frames: %s" % (len(got), sorted(set((g[1], g[2]) for g in got))))
    assert got == want, got
    hget = ctx.r.info("commandstats").get("cmdstat_hget", {}).get("calls", 0)
    assert hget == 2, "%d HGETs for 2 caps ids" % hget


def run_docs_writer(ctx):
    code = docs_block("Writing with redis-py")
    server = 'redis.Redis(host="127.0.0.1", port=6379)'
    assert server in code, "the writer does not connect as expected"
    code = code.replace(server, "redis.Redis(unix_socket_path=%r)" % ctx.redis.sock)
    load_module(ctx, "docs_writer_%d" % time.monotonic_ns(), code)
    return code


def play(ctx, group):
    out = gst_launch(ctx, "play-" + group, [
        "-m", "redisstreamsrc", "name=src", "socket-path=" + ctx.redis.sock,
        "stream=video-frames", "group=" + group, "start-id=0", "num-buffers=10",
        "timestamp-mode=producer", "!", "video/x-raw,format=I420,width=320,height=240", "!",
        "fakesink"])
    assert "Skipped entry" not in out, out
    return out


def docs_writer_to_src(ctx):
    ctx.r.flushall()
    code = run_docs_writer(ctx)
    caps = re.search(r'^caps = "(.*?)" %', code, re.M).group(1) % (320, 240)
    cid = int.from_bytes(hashlib.sha256(caps.encode()).digest()[:4], "big") & 0x7FFFFFFF
    entries = ctx.r.xrange("video-frames")
    assert len(entries) == 10, len(entries)
    assert all(f[b"v"] == b"2" and f[b"caps"] == str(cid).encode() for _, f in entries), \
        entries[0][1].keys()
    assert ctx.r.hget("video-frames:info", "caps:%d" % cid) == caps.encode()
    play(ctx, "playback")
    print("  10 version 2 entries, caps:%d in video-frames:info, played" % cid)

    # the id taken by other caps: the writer falls back to version 1
    ctx.r.flushall()
    ctx.r.hset("video-frames:info", "caps:%d" % cid, "text/x-other")
    run_docs_writer(ctx)
    entries = ctx.r.xrange("video-frames")
    assert all(f[b"v"] == b"1" and f[b"caps"] == caps.encode() for _, f in entries)
    play(ctx, "playback-v1")
    print("  with the id taken: 10 version 1 entries, played")


def docs_caps_id(ctx):
    text = read(os.path.join(TOP, "docs", "wire-format.md"))
    m = re.search(r"\(`(video/x-raw, format=\(string\)I420, [^`]*)`\)\s+it is `(\d+)`", text)
    assert m, "no example caps id on the page"
    caps, cid = m.group(1), int(m.group(2))
    assert int.from_bytes(hashlib.sha256(caps.encode()).digest()[:4], "big") & 0x7FFFFFFF == cid
    assert ("caps:%d" % cid) in text and ('"%d"' % cid) in text, "the worked example uses another id"


CASES = [("docs_loop_sigkill", docs_loop_sigkill), ("old_loop_loses", old_loop_loses),
         ("docs_reader_versions", docs_reader_versions),
         ("docs_writer_to_src", docs_writer_to_src), ("docs_caps_id", docs_caps_id)]


def main():
    return cases.main(CASES, "interop_consumer_loop")


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
