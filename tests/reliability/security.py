#!/usr/bin/python3
"""Security tests of the Redis Streams elements and websocketsink.

  acl_least_privilege  redis-server 7 ACL users with exactly the rules of
                       docs/security.md (producer, processor, consumer,
                       monitor), read from the doc: frames flow end to end,
                       a version 2 entry the processor cannot process is
                       set aside with its caps (dead-letter stream's hash);
                       each rule is needed (the stage fails, no longer
                       claims, reports or leaves its group, or the monitor
                       and the exporter fail or say what was refused).
  acl_recipes          every ACL SETUSER line of docs/security.md as written,
                       with the stage named above it: frames flow, the
                       elements report their metrics, readers leave their
                       group at stop, pipelines/monitor and
                       pipelines/exporter read everything, no warning.
  acl_refused          beyond those rules the elements get a clear error naming
                       the stream: the producer user cannot XREADGROUP or write
                       another stream, the consumer user cannot XADD; redis-py
                       as the producer user cannot DEL, XRANGE or read the
                       other stream.
  no_secret_leaks      a distinctive password set with set_property (python3-gi)
                       never appears in GST_DEBUG=*:9 output, stats, bus
                       messages, nor the wrong-password error; with the
                       password on a gst-launch-1.0 -v command line, the only
                       lines that show it are GStreamer core's parser lines
                       (reported), never one of our categories.
  tls_secret_leaks     the same over TLS with a client certificate (a server
                       with tls-auth-clients yes): neither the password nor
                       a line of the client's private key appears in
                       GST_DEBUG=*:9 and G_MESSAGES_DEBUG=all output (GIO's
                       TLS included), stats or bus messages; a refused
                       client certificate's error names the file only.
  websocket_bind_origin  websocketsink listens on 127.0.0.1 only by default
                       (/proc/net/tcp{,6}) and refuses an upgrade whose Origin
                       is not in allowed-origins (403), accepts a listed one.
  names_flood_caps     redis-py writes 300 entries whose caps carry 5000 field
                       names never seen before (without the budget a reader went from
                       28 MB to 4.4 GB); a gst-launch-1.0 reader skips them
                       all with a warning each (most for the budget of new
                       names), its peak RSS (VmHWM) stays under 100 MB, and
                       it still plays the real frame redisstreamsink writes
                       after them.
  names_flood_meta     the same with 300 meta fields of about 4000 new region
                       types, param names and field names each (5.4 GB
                       before): the entries within the budget play, the
                       others are skipped.

Arguments select cases by substring. The last line is "N passed, N failed".
"""

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (CAPS, GST_LAUNCH, PYTHON, RedisServer, group_info,  # noqa: E402
                    gst_env, install_signal_handlers, launch, read, run_cases, spawn,
                    stop, stream_seqs, wait_for, xlen)
from tlscerts import Certs  # noqa: E402  (on the path common.py sets)

import redis  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GSTRUN = os.path.join(HERE, "gstrun.py")
SECRET = "Zq9-SeKrEt-4711-xyzzy"

DOC = os.path.join(HERE, "..", "..", "docs", "security.md")
PIPELINES = os.path.join(HERE, "..", "..", "pipelines")
BASE = ["on", "resetkeys", "resetchannels", "-@all"]


def acl_tokens(text):
    """The arguments of an ACL SETUSER line: a selector "(...)" is one."""
    tokens, depth, cur = [], 0, ""
    for ch in text:
        if ch == " " and depth == 0:
            if cur:
                tokens.append(cur)
            cur = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        cur += ch
    if cur:
        tokens.append(cur)
    return tokens


def doc_recipes():
    """Every "ACL SETUSER <user> ..." line of docs/security.md, as written:
    {user: {"for": the comment line above it, "args": its arguments,
    "password": the password it sets, "rules": the rules beyond BASE and
    the password}}."""
    recipes, comment = {}, ""
    for line in read(DOC).splitlines():
        if line.startswith("# "):
            comment = line[2:]
        m = re.match(r"ACL SETUSER (\S+) (.*)$", line)
        if m:
            args = acl_tokens(m.group(2))
            pw = [a[1:] for a in args if a.startswith(">")]
            assert len(pw) == 1, "recipe for %s sets %d passwords" % (m.group(1), len(pw))
            recipes[m.group(1)] = {"for": comment, "args": args, "password": pw[0],
                                   "rules": [a for a in args
                                             if a not in BASE and not a.startswith(">")]}
    return recipes


# The rules of docs/security.md, as the doc writes them.
RULES = {u: r["rules"] for u, r in doc_recipes().items()}
# the group a role's source reads in (the stages below)
READ_GROUP = {"processor": ("video-frames", "proc"), "consumer": ("processed-frames", "display")}
# key frame requests: the stream a role reads (it publishes there) and the
# one it writes (its sink subscribes there)
READS = {"processor": "video-frames", "consumer": "processed-frames"}
WRITES = {"producer": "video-frames", "processor": "processed-frames"}
H264_DELTA = {"v": "1", "seq": "0", "flags": "delta",
              "caps": "video/x-h264,stream-format=byte-stream,alignment=au",
              "encoding": "none", "data": b"\0\0\0\1\x41" + b"\0" * 64}
PASSWORDS = {"producer": "pw-producer", "processor": "pw-processor", "consumer": "pw-consumer",
             "monitor": "pw-monitor", "replayer": "pw-replayer"}


def gstrun(tmp, name, desc, *args, timeout=60, env=None):
    """Runs gstrun.py in its own process group; returns (json, output)."""
    log = os.path.join(tmp, name + ".log")
    p = spawn([PYTHON, GSTRUN, desc] + list(args), log, env or gst_env())
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(p)
        raise AssertionError("%s did not finish:\n%s" % (name, read(log)[-2000:]))
    out = read(log)
    last = [l for l in out.splitlines() if l.startswith("{")]
    assert last, "%s printed no result (status %s):\n%s" % (name, p.returncode, out[-3000:])
    return json.loads(last[-1]), out


def is_metrics_selector(rule):
    return rule.startswith("(") and "gst-redis:metrics:" in rule


def metrics_reports(r, stream, kind):
    """The element reports of kind ("src", "sink") for stream in Redis."""
    found = []
    for k in r.scan_iter(match="gst-redis:metrics:{%s}:*" % stream):
        v = r.get(k)
        if v and json.loads(v).get("kind") == kind:
            found.append(json.loads(v))
    return found


def consumers(r, stream, group):
    try:
        return [c["name"].decode() for c in r.xinfo_consumers(stream, group)]
    except redis.ResponseError:
        return []


def run_tool(tmp, name, tool, port, user, password, *args):
    """pipelines/<tool> as user; returns (status, output)."""
    log = os.path.join(tmp, name + ".log")
    env = dict(os.environ, REDIS_HOST="127.0.0.1", REDIS_PORT=str(port),
               REDIS_USERNAME=user, REDIS_PASSWORD=password)
    p = spawn([PYTHON, os.path.join(PIPELINES, tool)] + list(args), log, env)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        stop(p)
        raise AssertionError("%s did not finish:\n%s" % (name, read(log)[-2000:]))
    return p.returncode, read(log)


def monitoring_complaints(tmp, name, port, user="monitor", password=None):
    """What the monitor and the exporter, run as user, say went wrong
    (exit status, refused commands); with the output of both."""
    password = password or PASSWORDS["monitor"]
    rc, out = run_tool(tmp, name + "-monitor", "monitor", port, user, password, "--once",
                       "--interval", "0.2", "--stream", "video-frames",
                       "--stream", "processed-frames")
    erc, eout = run_tool(tmp, name + "-exporter", "exporter", port, user, password, "--once")
    wrong = []
    if rc != 0:
        wrong.append("monitor exit %s: %s" % (rc, out.strip().splitlines()[-1:]))
    said = lambda l: ((l.startswith(("exporter:", "redisstate:", "Redis ")) and  # noqa: E731
                       ("refused" in l or "NOPERM" in l)) or "Traceback" in l)
    wrong += ["monitor: " + l for l in out.splitlines() if said(l)]
    if erc != 0:
        wrong.append("exporter exit %s: %s" % (erc, eout.strip().splitlines()[-1:]))
    wrong += ["exporter: " + l for l in eout.splitlines() if said(l)]
    return wrong, out, eout


def monitoring_works(tmp, name, port, user="monitor", password=None):
    """The monitor and the exporter as user, with a group proc on
    video-frames and a sink's report: (ok, what is wrong)."""
    wrong, out, eout = monitoring_complaints(tmp, name, port, user, password)
    if not wrong:
        for want in ("stream video-frames: length", "group proc"):
            if want not in out:
                wrong.append("monitor output lacks %r:\n%s" % (want, out))
        for want in ('gst_redis_stream_length{db="db0",stream="video-frames"}',
                     'gst_redis_group_pending{db="db0",stream="video-frames",group="proc"}',
                     "gst_redis_sink_frames_total{", "gst_redis_up 1"):
            if want not in eout:
                wrong.append("exporter output lacks %r" % want)
    return not wrong, wrong
def seed_v2(admin, stream, caps, data, seq=0):
    """A version 2 entry as redisstreamsink writes it: its caps in
    <stream>:info under their id (docs/wire-format.md)."""
    cid = int.from_bytes(hashlib.sha256(caps.encode()).digest()[:4], "big") & 0x7FFFFFFF
    admin.hset(stream + ":info", "caps:%d" % cid, caps)
    admin.xadd(stream, {"v": "2", "seq": str(seq), "caps": str(cid), "data": data})
    return cid


RAW_CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=30/1"
RAW_FRAME = b"\0" * (320 * 240 * 3 // 2)


def add_poison(admin):
    """Behind the stream's entries, a version 2 entry whose caps frameproc
    refuses (image/jpeg), then a good one: the processor sets the first
    aside (docs/redisstreamsrc.md, Dead letters). Returns its caps id."""
    cid = seed_v2(admin, "video-frames", "image/jpeg", b"\xff\xd8\xff\xd9", seq=1)
    seed_v2(admin, "video-frames", RAW_CAPS, RAW_FRAME, seq=2)
    return cid


def set_user(r, name, rules, password=None):
    r.execute_command("ACL", "DELUSER", name)
    r.execute_command("ACL", "SETUSER", name, *BASE, ">" + (password or PASSWORDS[name]), *rules)


def produce(tmp, port, name, n, user="producer", stream="video-frames", password=None):
    return gstrun(tmp, name,
                  "videotestsrc num-buffers=%d ! %s ! redisstreamsink name=snk port=%d "
                  "stream=%s username=%s maxlen=0" % (n, CAPS, port, stream, user),
                  "--set", "snk.password=" + (password or PASSWORDS[user]), "--stats", "snk")


def process(tmp, port, name, n, user="processor", extra="", timeout="8", password=None,
            until_warning=None):
    """The processor until it pushed n frames (or posted a warning with the
    text until_warning); n=None: until the timeout (it stops idle, having
    acknowledged everything)."""
    password = password or PASSWORDS[user]
    return gstrun(tmp, name,
                  "redisstreamsrc name=src port=%d stream=video-frames group=proc "
                  "start-id=0 username=%s %s ! frameproc operation=invert ! "
                  "redisstreamsink name=snk port=%d stream=processed-frames username=%s maxlen=0"
                  % (port, user, extra, port, user),
                  "--set", "src.password=" + password, "--set", "snk.password=" + password,
                  *(["--until-frames", "src=%d" % n] if n else []),
                  *(["--until-warning", until_warning] if until_warning else []),
                  "--timeout", timeout, "--stats", "src", "--stats", "snk")


def consume(tmp, port, name, n, user="consumer", extra="", timeout="8", password=None):
    return gstrun(tmp, name,
                  "redisstreamsrc name=src port=%d stream=processed-frames group=display "
                  "start-id=0 username=%s %s ! fakesink" % (port, user, extra),
                  "--set", "src.password=" + (password or PASSWORDS[user]),
                  *(["--until-frames", "src=%d" % n] if n else []),
                  "--timeout", timeout, "--stats", "src")


def replay(tmp, port, name, start, user="replayer", password=None):
    """A replay of video-frames from start to now (its end when it began)."""
    return gstrun(tmp, name,
                  "redisstreamsrc name=src port=%d stream=video-frames start=%s stop=now "
                  "username=%s ! fakesink" % (port, start, user),
                  "--set", "src.password=" + (password or PASSWORDS[user]), "--timeout", "20",
                  "--stats", "src")


def stat(res, name, field):
    m = re.search(r"\b%s=\([a-z0-9]+\)([^,;]+)" % re.escape(field), res["stats"][name])
    return m.group(1) if m else None


def acl_least_privilege(tmp):
    srv = RedisServer(tmp)
    admin = srv.client()
    for u, rules in RULES.items():
        set_user(admin, u, rules)
    print("ACL LIST:\n  " + "\n  ".join(x.decode() for x in admin.execute_command("ACL", "LIST")))
    n = 20
    res, out = produce(tmp, srv.port, "producer", n)
    assert res["result"] == "eos", out[-3000:]
    res, out = process(tmp, srv.port, "processor", n)
    assert res["result"] == "frames", out[-3000:]
    res, out = consume(tmp, srv.port, "consumer", n)
    assert res["result"] == "frames", out[-3000:]
    assert sorted(stream_seqs(admin, "processed-frames", decode_payload=True)) == list(range(n))
    print("full rules: %d frames flow producer -> processor -> consumer" % n)
    # a version 2 entry the processor cannot process: set aside, with its
    # caps copied into the dead-letter stream's hash
    # (after a good entry: refused first entries mean a wrong pipeline)
    seed_v2(admin, "video-frames", RAW_CAPS, RAW_FRAME, seq=n)
    cid = add_poison(admin)
    res, out = process(tmp, srv.port, "processor-dead-letter", 3, timeout="8")
    refused = [w["message"] for w in res["warnings"] if "Could not set entry" in w["message"]]
    wait_for(lambda: admin.xlen("video-frames:dead-letter") == 1, 10, "the dead letter")
    assert not refused and admin.xpending("video-frames", "proc")["pending"] == 0, (
        refused, out[-3000:])
    assert admin.hget("video-frames:dead-letter:info", "caps:%d" % cid) == b"image/jpeg"
    print("full rules: a version 2 entry set aside, its caps in video-frames:dead-letter:info")
    wrong, _, _ = monitoring_complaints(tmp, "monitor", srv.port)
    assert not wrong, wrong
    print("full rules: the monitor and the exporter read everything")

    # every rule is needed: drop one at a time
    needed = []
    for role, rules in RULES.items():
        for rule in rules:
            fewer = [x for x in rules if x != rule]
            set_user(admin, role, fewer)
            admin.delete("video-frames", "processed-frames", "processed-frames:info",
                         "video-frames:dead-letter", "video-frames:dead-letter:info")
            if role != "producer":
                admin.delete("video-frames:info")
            # (the producer finds its caps stored by the full run: a
            # restarted producer, which reads them back with HGET)
            if role != "producer":
                # version 2 entries, as the stages write them by default
                for stream in ("video-frames", "processed-frames"):
                    seed_v2(admin, stream, "video/x-raw,format=I420,width=320,height=240,framerate=30/1",
                            b"\0" * (320 * 240 * 3 // 2))
            if role == "replayer":
                # from an entry id (XRANGE) and from a time (XREVRANGE back to
                # it, XINFO STREAM for the span): the replay fails without a
                # rule it needs
                first = admin.xrange("video-frames", count=1)[0][0].decode()
                bad = []
                for start in (first, "-30s"):
                    res, out = replay(tmp, srv.port, "replayer-no-%s" % rule, start)
                    # a rule the replay can do without: it says so (XINFO STREAM)
                    refused = [w["message"] for w in res["warnings"]
                               if "does not let this user" in w["message"]]
                    if res["result"] != "eos" or int(stat(res, "src", "frames") or 0) != 1:
                        bad.append("start=%s: %s" % (start, res["error"]["message"] if res[
                            "error"] else "%s, %s frames" % (res["result"], stat(res, "src",
                                                                                "frames"))))
                    elif refused:
                        bad.append("start=%s: plays, and warns: %s" % (start, refused[0]))
                ok = bool(bad)
                print("  %-9s without %-24s -> %s" % (role, rule, "; ".join(bad) if ok
                                                        else "still works"))
            elif role == "monitor":
                # a group with a pending entry, so that every command runs
                admin.xgroup_create("video-frames", "proc", id="0")
                admin.xreadgroup("proc", "worker", {"video-frames": ">"}, count=1)
                wrong, _, _ = monitoring_complaints(tmp, "monitor-no-" + rule, srv.port)
                ok = bool(wrong)
                print("  %-9s without %-24s -> %s" % (role, rule, "; ".join(
                    w[:160] for w in wrong[:2]) if ok else "still works"))
            elif is_metrics_selector(rule):
                # the elements run, and say once that they cannot report
                if role == "producer":
                    res, out = produce(tmp, srv.port, "producer-no-metrics", 3)
                elif role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-metrics", 1)
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-metrics", 1)
                warned = [w["message"] for w in res["warnings"]]
                ok = res["result"] in ("eos", "frames") and any(
                    "write the metrics" in w for w in warned)
                print("  %-9s without %-24s -> %s (bus warnings: %s)" % (
                    role, rule[:24], "no metrics reports" if ok else "still works",
                    warned or "none"))
            elif rule in ("+xpending", "+xgroup|delconsumer"):
                # only for leaving the group at stop: it runs, stops idle
                # with nothing pending, and stays listed
                stream, group = READ_GROUP[role]
                if role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-" + rule, None, timeout="3")
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, None, timeout="3")
                left = consumers(admin, stream, group)
                ok = res["result"] == "timeout" and int(stat(res, "src", "frames") or 0) == 1 \
                    and len(left) == 1
                if rule == "+xpending":
                    # and max-deliveries: its delivery counts, when own
                    # pending entries are read again at start, are off
                    warned = [w["message"] for w in res["warnings"]]
                    ok = ok and any("XPENDING" in w for w in warned)
                print("  %-9s without %-24s -> %s" % (role, rule, "stays in group %s: %s" % (
                    group, left) if ok else "still works (%s, consumers %s)" % (
                        res["result"], left)))
            elif rule == "+xautoclaim":
                # XAUTOCLAIM only matters for a dead worker's entries: make one
                stream, group = ("video-frames", "proc") if role == "processor" else ("processed-frames", "display")
                admin.xgroup_create(stream, group, id="0")
                admin.xreadgroup(group, "dead-worker", {stream: ">"}, count=1)
                time.sleep(1.1)     # not a poll: idle past claim-idle-time
                extra = "claim-idle-time=1000"
                if role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-xautoclaim", 1, extra=extra)
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-xautoclaim", 1, extra=extra, timeout="4")
                claimed = int(stat(res, "src", "claimed") or 0)
                # it fails to claim, and says so on the bus
                ok = claimed == 0 and any("XAUTOCLAIM" in w["message"]
                                          for w in res["warnings"])
                warned = [w["message"] for w in res["warnings"]]
                print("  %-9s without %-18s -> %s (claimed %d of a dead worker's entries; "
                      "bus warnings: %s)" % (role, rule, "fails to claim" if ok else "still works", claimed,
                                              warned or "none"))
            elif rule == "+publish" or rule == "&%s:control" % READS.get(role):
                # a reader asks for a key frame only while it holds back
                # delta units: give it encoded video without a key frame
                stream = READS[role]
                admin.delete(stream)
                for _ in range(3):
                    admin.xadd(stream, H264_DELTA)
                if role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-" + rule, 1, timeout="4")
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, 1, timeout="4")
                warned = [w["message"] for w in res["warnings"]]
                ok = any("ask the producer" in w for w in warned)
                print("  %-9s without %-24s -> %s (bus warnings: %s)" % (
                    role, rule, "cannot ask for key frames" if ok else "still works", warned or "none"))
            elif rule in ("+subscribe", "+hset", "&%s:control" % WRITES.get(role),
                          "%%W~%s:info" % WRITES.get(role)):
                # the sink listens for key frame requests from its start, and
                # tells readers how it trims the stream with its first frame:
                # it runs, and says once what it cannot do
                if rule in ("+hset", "%%W~%s:info" % WRITES.get(role)):
                    phrase, verdict = "(HSET)", "trimming not published"
                else:
                    phrase, verdict = "cannot ask for key frames", "key frame requests off"
                if role == "producer":
                    res, out = produce(tmp, srv.port, "producer-no-" + rule, 3)
                else:
                    res, out = process(tmp, srv.port, "processor-no-" + rule, 1)
                warned = [w["message"] for w in res["warnings"]]
                ok = res["result"] in ("eos", "frames") and any(phrase in w for w in warned)
                print("  %-9s without %-24s -> %s (bus warnings: %s)" % (
                    role, rule, verdict if ok else "still works", warned or "none"))
            elif rule == "+xinfo|stream":
                # the source reads on, and says once what it cannot do:
                # count what was trimmed while it was not running. (Without
                # HGET on <stream>:info it cannot read version 2 entries,
                # whose caps are there: an error, below; the retention it
                # reads there too is then moot.)
                if role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-" + rule, 1)
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, 1)
                warned = [w["message"] for w in res["warnings"]]
                what = "XINFO STREAM" if rule == "+xinfo|stream" else "(HGET)"
                ok = res["result"] == "frames" and any(what in w for w in warned)
                print("  %-9s without %-24s -> %s (bus warnings: %s)" % (
                    role, rule, "says it cannot" if ok else "still works", warned or "none"))
            elif rule in ("+xrange", "~video-frames:dead-letter",
                          "~video-frames:dead-letter:info"):
                # setting an entry aside (here: a version 2 entry whose caps
                # frameproc refuses, after a good entry; its caps go along
                # into the dead-letter stream's hash): the entry stays
                # pending, with a warning
                cid = add_poison(admin)
                poison = [eid for eid, f in admin.xrange("video-frames")
                          if f.get(b"caps") == str(cid).encode()]
                res, out = process(tmp, srv.port, "processor-no-" + rule, 3, timeout="30",
                                   until_warning="Could not set entry")
                warned = [w["message"] for w in res["warnings"]]
                pending = [e["message_id"] for e in
                           admin.xpending_range("video-frames", "proc", "-", "+", 10)]
                ok = any("Could not set entry" in w for w in warned) and \
                    poison[0] in pending and not admin.exists("video-frames:dead-letter")
                print("  %-9s without %-26s -> %s (bus warnings: %s)" % (
                    role, rule, "cannot set entries aside: it stays pending" if ok else
                    "still works", warned or "none"))
            elif rule in ("+xinfo|groups", "+xlen"):
                # only for counting trimmed entries: the source runs and says
                # once that it cannot count them
                if role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-" + rule, 1)
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, 1)
                warned = [w["message"] for w in res["warnings"]]
                ok = res["result"] == "frames" and any("XINFO GROUPS or XLEN" in w for w in warned)
                print("  %-9s without %-18s -> %s (bus warnings: %s)" % (
                    role, rule, "cannot count trimmed entries" if ok else "still works", warned or "none"))
            else:
                # the stream holds one entry: waiting for a second one, the
                # stage runs until its error (an XADD or XACK refused after
                # the first frame was read) or its timeout
                if role == "producer":
                    res, out = produce(tmp, srv.port, "producer-no-" + rule, 3)
                elif role == "processor":
                    res, out = process(tmp, srv.port, "processor-no-" + rule, 2)
                elif rule == "+xack":
                    # fakesink keeps its last frame: the first XACK goes out
                    # once the second frame came
                    for seq in (1, 2):
                        admin.xadd("processed-frames", {"v": "1", "seq": str(seq), "caps": "video/x-raw,format=I420,width=320,height=240,framerate=30/1",
                                                        "encoding": "none", "data": b"\0" * (320 * 240 * 3 // 2)})
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, 10, timeout="4")
                else:
                    res, out = consume(tmp, srv.port, "consumer-no-" + rule, 2)
                ok = res["result"] == "error"
                print("  %-9s without %-18s -> %s" % (role, rule, "%s: %s" % (
                    res["error"]["code_name"], res["error"]["message"]) if ok else "still works (%s)" % res["result"]))
            if not ok:
                needed.append((role, rule))
            set_user(admin, role, rules)
    # control for the claim check: with +xautoclaim the entry is claimed
    admin.delete("processed-frames")
    admin.xadd("processed-frames", {"v": "1", "seq": "0", "caps": "text/x-raw,format=utf8", "data": "x"})
    admin.xgroup_create("processed-frames", "display", id="0")
    admin.xreadgroup("display", "dead-worker", {"processed-frames": ">"}, count=1)
    time.sleep(1.1)     # not a poll: idle past claim-idle-time
    res, out = consume(tmp, srv.port, "consumer-claims", 1, extra="claim-idle-time=1000", timeout="6")
    assert int(stat(res, "src", "claimed") or 0) == 1, res
    assert not needed, "rules that are not needed: %s" % needed


def acl_recipes(tmp):
    """Each ACL SETUSER line of docs/security.md as written there, with
    the stage named in the comment above it: it does all of its work."""
    srv = RedisServer(tmp)
    admin = srv.client()
    recipes = doc_recipes()
    stages = {"producer": "redisstreamsink stream=video-frames",
              "processor": "redisstreamsrc stream=video-frames ! ... ! "
                           "redisstreamsink stream=processed-frames",
              "consumer": "redisstreamsrc stream=processed-frames",
              "monitor": "pipelines/monitor and pipelines/exporter",
              "replayer": "redisstreamsrc stream=video-frames start=-30s stop=now"}
    assert set(recipes) == set(stages), (
        "docs/security.md has recipes for %s; this test runs stages for %s: add the stage "
        "of a new recipe here" % (sorted(recipes), sorted(stages)))
    for user, rec in sorted(recipes.items()):
        assert stages[user] in rec["for"], (
            "the comment above ACL SETUSER %s says %r; this test runs %r"
            % (user, rec["for"], stages[user]))
        admin.execute_command("ACL", "DELUSER", user)
        admin.execute_command("ACL", "SETUSER", user, *rec["args"])
        print("  %s (%s): ACL SETUSER %s %s" % (user, rec["for"], user, " ".join(rec["args"])))
    pw = {u: r["password"] for u, r in recipes.items()}
    bad = []

    def check(what, cond, detail):
        print("  %-60s %s" % (what, "ok" if cond else "FAILED: %s" % detail))
        if not cond:
            bad.append(what)

    n = 20
    res, out = produce(tmp, srv.port, "producer", n, password=pw["producer"])
    check("producer: writes %d frames" % n, res["result"] == "eos" and
          admin.xlen("video-frames") == n, out[-2000:])
    check("producer: no warning", not res["warnings"], res["warnings"])
    reports = metrics_reports(admin, "video-frames", "sink")
    check("producer: its sink reported %d frames" % n,
          reports and reports[0]["stats"]["frames"] == n, reports)

    res, out = gstrun(tmp, "processor",
                      "redisstreamsrc name=src port=%d stream=video-frames group=proc start-id=0 "
                      "username=processor ! frameproc operation=invert ! redisstreamsink name=snk "
                      "port=%d stream=processed-frames username=processor" % (srv.port, srv.port),
                      "--set", "src.password=" + pw["processor"],
                      "--set", "snk.password=" + pw["processor"], "--until-frames",
                      "src=%d" % n, "--linger", "1", "--timeout", "30", "--stats", "src")
    check("processor: processes %d frames" % n, res["result"] == "frames" and
          admin.xlen("processed-frames") == n, out[-2000:])
    check("processor: no warning", not res["warnings"], res["warnings"])
    check("processor: its source and its sink reported",
          metrics_reports(admin, "video-frames", "src") and
          metrics_reports(admin, "processed-frames", "sink"), admin.keys("gst-redis:*"))
    left = consumers(admin, "video-frames", "proc")
    check("processor: left group proc at stop", left == [], left)

    res, out = gstrun(tmp, "consumer",
                      "redisstreamsrc name=src port=%d stream=processed-frames group=display "
                      "start-id=0 username=consumer ! fakesink enable-last-sample=false"
                      % srv.port,
                      "--set", "src.password=" + pw["consumer"], "--until-frames", "src=%d" % n,
                      "--linger", "1", "--timeout", "30", "--stats", "src")
    check("consumer: reads %d frames" % n, res["result"] == "frames", out[-2000:])
    check("consumer: no warning", not res["warnings"], res["warnings"])
    check("consumer: its source reported",
          metrics_reports(admin, "processed-frames", "src"), admin.keys("gst-redis:*"))
    # (a sink that keeps its last sample leaves that entry pending, and the
    # consumer in the group: docs/redisstreamsrc.md, what stays pending)
    left = consumers(admin, "processed-frames", "display")
    check("consumer: left group display at stop", left == [], left)

    res, out = replay(tmp, srv.port, "replayer", "-30s", password=pw["replayer"])
    check("replayer: replays the %d frames of the last 30 s" % n,
          res["result"] == "eos" and int(stat(res, "src", "frames") or 0) == n, out[-2000:])
    # (it says that nothing was written before the start asked: a fact)
    refused = [w for w in res["warnings"] if "NOPERM" in (w["debug"] or "") + w["message"]
               or "does not let this user" in w["message"]]
    check("replayer: no warning about its rights", not refused, refused)

    ok, wrong = monitoring_works(tmp, "monitor", srv.port, password=pw["monitor"])
    check("monitor: pipelines/monitor --once and pipelines/exporter --once read everything",
          ok, wrong)
    assert not bad, bad


def acl_refused(tmp):
    srv = RedisServer(tmp)
    admin = srv.client()
    for u, rules in RULES.items():
        set_user(admin, u, rules)
    admin.xadd("processed-frames", {"v": "1", "caps": "text/x-raw,format=utf8", "data": "x"})
    # the producer user cannot read its stream with a group
    res, out = gstrun(tmp, "producer-reads",
                      "redisstreamsrc name=src port=%d stream=video-frames username=producer ! fakesink" % srv.port,
                      "--set", "src.password=" + PASSWORDS["producer"], "--timeout", "10")
    checks = [("producer user: redisstreamsrc stream=video-frames", res, "video-frames")]
    # ... nor write another stream
    res, _ = produce(tmp, srv.port, "producer-other-stream", 3, stream="processed-frames")
    checks.append(("producer user: redisstreamsink stream=processed-frames", res, "processed-frames"))
    # the consumer user cannot XADD
    res, _ = produce(tmp, srv.port, "consumer-writes", 3, user="consumer", stream="processed-frames")
    checks.append(("consumer user: redisstreamsink stream=processed-frames", res, "processed-frames"))
    # the processor user cannot read a third stream
    res, _ = gstrun(tmp, "processor-other",
                    "redisstreamsrc name=src port=%d stream=secret-frames username=processor ! fakesink" % srv.port,
                    "--set", "src.password=" + PASSWORDS["processor"], "--timeout", "10")
    checks.append(("processor user: redisstreamsrc stream=secret-frames", res, "secret-frames"))
    bad = []
    for what, res, stream in checks:
        e = res["error"]
        print("  %s -> %s" % (what, "%s/%s: %s" % (e["domain"], e["code_name"], e["message"]) if e else res["result"]))
        if (not e or '"%s"' % stream not in e["message"] or "NOPERM" not in e["message"]
                or e["code_name"] != "not-authorized"):
            bad.append(what)
    # redis-py as the producer user
    pr = srv.client(username="producer", password=PASSWORDS["producer"])
    for name, fn in [("DEL video-frames", lambda: pr.delete("video-frames")),
                     ("XRANGE video-frames", lambda: pr.xrange("video-frames")),
                     ("XREADGROUP processed-frames", lambda: pr.xreadgroup("g", "c", {"processed-frames": ">"})),
                     ("XLEN processed-frames", lambda: pr.xlen("processed-frames")),
                     ("KEYS *", lambda: pr.keys("*")),
                     ("CONFIG GET", lambda: pr.config_get("*"))]:
        try:
            fn()
            bad.append("producer user may " + name)
            print("  producer user: %s -> allowed!" % name)
        except redis.exceptions.NoPermissionError as e:
            print("  producer user: %s -> %s" % (name, e))
    cr = srv.client(username="consumer", password=PASSWORDS["consumer"])
    for name, fn in [("XADD processed-frames", lambda: cr.xadd("processed-frames", {"a": "b"})),
                     ("XTRIM processed-frames", lambda: cr.xtrim("processed-frames", 0)),
                     ("XRANGE video-frames", lambda: cr.xrange("video-frames"))]:
        try:
            fn()
            bad.append("consumer user may " + name)
            print("  consumer user: %s -> allowed!" % name)
        except redis.exceptions.NoPermissionError as e:
            print("  consumer user: %s -> %s" % (name, e))
    assert not bad, bad


def no_secret_leaks(tmp):
    srv = RedisServer(tmp)
    admin = srv.client()
    admin.execute_command("ACL", "SETUSER", "cam", "on", ">" + SECRET, "~*", "+@all")
    env = gst_env(GST_DEBUG="*:9")
    outputs = {}
    # (1) our code paths: password set with set_property, everything at level 9
    res, outputs["producer"] = gstrun(
        tmp, "producer", "videotestsrc num-buffers=10 ! %s ! redisstreamsink name=snk port=%d "
        "stream=sec username=cam" % (CAPS, srv.port), "--set", "snk.password=" + SECRET,
        "--stats", "snk", env=env)
    assert res["result"] == "eos", outputs["producer"][-2000:]
    res, outputs["consumer"] = gstrun(
        tmp, "consumer", "redisstreamsrc name=src port=%d stream=sec start-id=0 username=cam ! "
        "fakesink" % srv.port, "--set", "src.password=" + SECRET, "--until-frames", "src=10",
        "--stats", "src", env=env)
    assert res["result"] == "frames", outputs["consumer"][-2000:]
    # wrong password: the error names the user, never the password tried
    wrong = SECRET + "-WRONG"
    res, outputs["wrong-password"] = gstrun(
        tmp, "wrong", "videotestsrc num-buffers=3 ! %s ! redisstreamsink name=snk port=%d "
        "stream=sec username=cam" % (CAPS, srv.port), "--set", "snk.password=" + wrong,
        "--stats", "snk", env=env)
    assert res["result"] == "error" and res["error"]["code_name"] == "not-authorized", res
    print("wrong password error: %s" % res["error"]["message"])
    # a password on a server without ACL user: WRONGPASS/NOAUTH paths
    lines = sum(len(o.splitlines()) for o in outputs.values())
    leaks = [(k, l) for k, o in outputs.items() for l in o.splitlines() if SECRET in l]
    print("set_property path: %d lines of output (GST_DEBUG=*:9, stats, bus messages) checked, "
          "%d contain the secret" % (lines, len(leaks)))
    for k, l in leaks[:10]:
        print("  LEAK (%s): %s" % (k, l[:300]))
    assert not leaks

    # (2) gst-launch-1.0 -v with the password in the pipeline string
    log = os.path.join(tmp, "gst-launch.log")
    p = launch("videotestsrc num-buffers=10 ! %s ! redisstreamsink port=%d stream=sec2 username=cam "
               "password=%s" % (CAPS, srv.port, SECRET), log, "-v", env=env)
    assert p.wait(60) == 0, read(log)[-2000:]
    log2 = os.path.join(tmp, "gst-launch-src.log")
    p = launch("redisstreamsrc port=%d stream=sec2 start-id=0 username=cam password=%s num-buffers=10 "
               "! fakesink" % (srv.port, SECRET), log2, "-v", env=env)
    assert p.wait(60) == 0, read(log2)[-2000:]
    text = read(log) + read(log2)
    leak_lines = [l for l in text.splitlines() if SECRET in l]
    core = re.compile(r"\s(gstparse\.c|parse\.l|types\.h|grammar\.y|gstutils\.c|gstvalue\.c):\d+:")
    ours = [l for l in leak_lines if not core.search(l)]
    print("gst-launch-1.0 -v path: %d lines checked, %d show the secret, all from GStreamer "
          "core: %s" % (len(text.splitlines()), len(leak_lines), not ours))
    seen = set()
    for l in leak_lines:
        m = re.search(r"(\S+\s+\S+\.[cly]:\d+:\S+)", l)
        key = m.group(1) if m else l[:120]
        if key not in seen:
            seen.add(key)
            print("  core line: " + re.sub(r"^\S+\s+\d+\s+0x[0-9a-f]+\s+", "", l)[:200].replace(SECRET, "<SECRET>"))
    assert not ours, ours[:5]
    assert "redisstreamsink" in text and "AUTH" not in [w for l in leak_lines for w in l.split()]


def ws_request(port, headers):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (port, key))
    for k, v in headers.items():
        req += "%s: %s\r\n" % (k, v)
    s.sendall((req + "\r\n").encode())
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else None


def listening(port):
    """(local address, family) of LISTEN sockets on port from /proc/net/tcp{,6}."""
    found = []
    for path, fam in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        try:
            rows = open(path).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            f = row.split()
            addr, p = f[1].split(":")
            if int(p, 16) == port and f[3] == "0A":
                found.append((addr, fam))
    return found


def websocket_bind_origin(tmp):
    if os.environ.get("HAVE_WEBSOCKET", "1") != "1":
        print("websocketsink not built: skipped")
        return
    log = os.path.join(tmp, "ws.log")
    good = "http://viewer.example:8080"
    p = launch("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=10/1 ! jpegenc ! "
               "websocketsink port=0 allowed-origins=%s" % good, log, "-v")
    port = int(wait_for(lambda: re.search(r"current-port = (\d+)", read(log)) and
                        int(re.search(r"current-port = (\d+)", read(log)).group(1)) or
                        (p.poll() is not None and (_ for _ in ()).throw(AssertionError(read(log)))),
                        30, "websocketsink's current-port"))
    socks = listening(port)
    print("websocketsink current-port %d; listening sockets: %s" % (port, socks))
    assert socks == [("0100007F", 4)], socks      # 127.0.0.1 only, no 0.0.0.0 / ::
    # reachable on 127.0.0.1
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status = s.recv(64).split(b" ")[1]
    s.close()
    assert status == b"200", status
    codes = {"wrong Origin": ws_request(port, {"Origin": "http://evil.example"}),
             "no Origin": ws_request(port, {}),
             "listed Origin": ws_request(port, {"Origin": good})}
    print("WebSocket upgrade with allowed-origins=%s: %s" % (good, codes))
    assert codes == {"wrong Origin": 403, "no Origin": 403, "listed Origin": 101}, codes
    stop(p)


def tls_secret_leaks(tmp):
    certs = Certs(tmp)
    srv = RedisServer(tmp, tls=certs, tls_auth_clients=True)
    srv.client().execute_command("ACL", "SETUSER", "cam", "on", ">" + SECRET, "~*", "&*",
                                 "+@all")
    key_lines = [l for l in read(certs.path("client.key")).splitlines()
                 if l and not l.startswith("-----")]
    assert key_lines
    tls = "tls=true tls-ca-file=%s tls-cert-file=%s tls-key-file=%s" % (
        certs.ca, certs.path("client.crt"), certs.path("client.key"))
    env = gst_env(GST_DEBUG="*:9", G_MESSAGES_DEBUG="all")
    outputs = {}
    res, outputs["producer"] = gstrun(
        tmp, "producer", "videotestsrc num-buffers=10 ! %s ! redisstreamsink name=snk port=%d "
        "stream=sec username=cam %s" % (CAPS, srv.port, tls), "--set", "snk.password=" + SECRET,
        "--stats", "snk", env=env)
    assert res["result"] == "eos", outputs["producer"][-2000:]
    res, outputs["consumer"] = gstrun(
        tmp, "consumer", "redisstreamsrc name=src port=%d stream=sec start-id=0 username=cam "
        "%s ! fakesink" % (srv.port, tls), "--set", "src.password=" + SECRET,
        "--until-frames", "src=10", "--stats", "src", env=env)
    assert res["result"] == "frames", outputs["consumer"][-2000:]
    # a client certificate the server refuses: the error names the file
    bad = "tls=true tls-ca-file=%s tls-cert-file=%s tls-key-file=%s" % (
        certs.ca, certs.path("untrusted.crt"), certs.path("untrusted.key"))
    bad_key = [l for l in read(certs.path("untrusted.key")).splitlines()
               if l and not l.startswith("-----")]
    res, outputs["refused"] = gstrun(
        tmp, "refused", "videotestsrc num-buffers=3 ! %s ! redisstreamsink name=snk port=%d "
        "stream=sec username=cam %s" % (CAPS, srv.port, bad), "--set", "snk.password=" + SECRET,
        env=env)
    assert res["result"] == "error" and res["error"]["code_name"] == "not-authorized", res
    assert certs.path("untrusted.crt") in res["error"]["message"], res["error"]["message"]
    print("refused client certificate: %s" % res["error"]["message"])
    secrets = [SECRET] + key_lines + bad_key
    lines = sum(len(o.splitlines()) for o in outputs.values())
    tls_lines = sum(1 for o in outputs.values() for l in o.splitlines() if "TLS" in l or "tls" in l)
    leaks = [(k, l) for k, o in outputs.items() for l in o.splitlines()
             if any(x in l for x in secrets)]
    print("TLS with a client certificate: %d lines of output (GST_DEBUG=*:9, "
          "G_MESSAGES_DEBUG=all, stats, bus messages; %d about TLS) checked, %d contain the "
          "password or a line of a private key" % (lines, tls_lines, len(leaks)))
    for k, l in leaks[:10]:
        print("  LEAK (%s): %s" % (k, l[:300]))
    assert not leaks



FLOOD_ENTRIES = 300
FLOOD_RSS_LIMIT_KB = 100 * 1024


def flood_caps(i):
    """Caps of 5000 field names never seen before, within 65536 bytes."""
    return "video/x-raw," + ",".join("q%05d%04d=1" % (i, k) for k in range(5000))


def flood_meta(i):
    """A meta field of regions whose type, param and field names are all
    new: 1 + 1 + 16 names per region, as many regions as fit 64 KiB."""
    rois, size = [], 10
    while True:
        k = "%x%05x" % (i, len(rois))
        roi = {"type": "t" + k, "x": 0, "y": 0, "w": 1, "h": 1,
               "params": {"p" + k: {"f%s%x" % (k, f): 1 for f in range(16)}}}
        size += len(json.dumps(roi, separators=(",", ":"))) + 1
        if size > 65000:
            return json.dumps({"rois": rois}, separators=(",", ":"))
        rois.append(roi)


def vm_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def names_flood(tmp, kind):
    """A writer floods a stream with entries of names never seen before;
    a gst-launch-1.0 reader reads them all and stays small."""
    server = RedisServer(tmp)
    r = server.client()
    stream = "flood"
    names = 0
    for i in range(FLOOD_ENTRIES):
        if kind == "caps":
            r.xadd(stream, {"v": "1", "seq": str(i), "caps": flood_caps(i), "data": b"x"})
            names += 5000
        else:
            meta = flood_meta(i)
            names += len(json.loads(meta)["rois"]) * 18
            r.xadd(stream, {"v": "1", "seq": str(i), "caps": "text/x-raw,format=utf8",
                            "meta": meta, "data": b"x"})
    # then a real frame, as a producer writes it
    log = os.path.join(tmp, "producer.log")
    p = launch("videotestsrc num-buffers=1 ! %s ! redisstreamsink port=%d stream=%s"
               % (CAPS, server.port, stream), log)
    p.wait(30)
    assert p.returncode == 0, read(log)[-2000:]
    last = r.xrevrange(stream, count=1)[0][0].decode()
    print("%d entries with %d names never seen before, then a real frame (%s)"
          % (FLOOD_ENTRIES, names, last))

    log = os.path.join(tmp, "reader.log")
    reader = launch("redisstreamsrc port=%d stream=%s group=g start-id=0 ! "
                    "fakesink silent=false enable-last-sample=false" % (server.port, stream),
                    log, "-v")
    group = None
    try:
        wait_for(lambda: (group_info(r, stream, "g") or {}).get("last-delivered-id", b"").decode() == last
                 and group_info(r, stream, "g")["pending"] == 0, 120,
                 "the reader to read and acknowledge every entry")
        group = group_info(r, stream, "g")
        hwm, rss = vm_kb(reader.pid, "VmHWM"), vm_kb(reader.pid, "VmRSS")
    finally:
        stop(reader)
    out = read(log)
    skipped = out.count("Skipped entry ")
    budget = len(re.findall(r"names this process has never seen", out))
    played = re.findall(r"chain   \*+ \(fakesink0:sink\) \((\d+) bytes", out)
    print("reader: VmHWM %d kB, VmRSS %d kB; %d entries skipped with a warning "
          "(%d for the budget of new names), %d frame(s) played (the last of "
          "%s bytes)" % (hwm, rss, skipped, budget, len(played),
                         played[-1] if played else "no"))
    assert group["entries-read"] == FLOOD_ENTRIES + 1, group
    assert hwm < FLOOD_RSS_LIMIT_KB, "the reader peaked at %d kB" % hwm
    # entries within the budget are read (meta) or refused for another
    # reason (caps: not a picture, too long written back); the rest are
    # refused for the budget; the real frame after them plays
    assert budget > 0, "no entry was refused for the budget of new names"
    assert skipped + len(played) - 1 == FLOOD_ENTRIES, (skipped, len(played))
    assert played[-1] == str(320 * 240 * 3 // 2), played


def names_flood_caps(tmp):
    names_flood(tmp, "caps")


def names_flood_meta(tmp):
    names_flood(tmp, "meta")


CASES = [acl_least_privilege, acl_recipes, acl_refused, no_secret_leaks, tls_secret_leaks, websocket_bind_origin,
         names_flood_caps, names_flood_meta]

if __name__ == "__main__":
    install_signal_handlers()
    sys.exit(run_cases(CASES, sys.argv[1:]))
