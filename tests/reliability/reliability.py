#!/usr/bin/python3
"""Process-level fault tests of redisstreamsink / redisstreamsrc.

Every case starts its own redis-server (TCP, 127.0.0.1, free port, temp dir)
and gst-launch-1.0 processes, each in its own session, and stops all of them
by PID (process group) in a finally block, also on failure.

  processor_kill_claim     producer -> `in` -> processors pA and pB (group
                           proc, claim-idle-time=1000, frameproc invert) ->
                           `out`. pA is SIGKILLed mid-stream while it holds
                           an unacknowledged entry; pB takes it over with
                           XAUTOCLAIM. Every produced seq reaches `out` at
                           least once; duplicates and the time until pA's
                           pending entries were claimed are printed.
  processor_kill_restart   same, claim-idle-time=0 on both; pA is restarted
                           under the same consumer name and re-reads its own
                           pending entries. Every seq reaches `out`.
  consumer_stall           a redisstreamsrc consumer is SIGSTOPped: the
                           producer keeps adding (entries-added grows), XLEN
                           stays <= maxlen + one macro node, MEMORY USAGE
                           stays bounded, XINFO shows the stall (lag /
                           consumer idle); after SIGCONT it reads on, no ERROR.
  trimmed_pending_kill     a processor SIGKILLed with frames pending on a
                           stream of maxlen=100 at 30 fps: with
                           claim-idle-time not set the survivor takes them
                           over before they are trimmed; with 9000 ms they
                           are trimmed first and the survivor counts them
                           (skipped-deleted) and names their ids. Every frame
                           is in `out` or counted as lost.
  redis_restart_aof        redis-server --appendonly yes is stopped and
                           started again mid-stream: producer and consumer
                           keep running (WARNING, no ERROR) and every entry
                           in Redis after the restart reached the consumer.

Arguments select cases by substring. The last line is "N passed, N failed";
the exit status is 1 when a case failed.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (CAPS, PYTHON, RedisServer, consumer_info, errors_in, gst_env,  # noqa: E402
                    group_info, install_signal_handlers, launch, read, run_cases, spawn,
                    stop, stream_seqs, wait_for, xlen)

N_KILL = 300          # frames produced in the kill cases (10 s at 30 fps)


def producer(redis, tmp, stream, n, name="producer", extra=""):
    pipe = ("videotestsrc is-live=true num-buffers=%d ! %s ! "
            "redisstreamsink port=%d stream=%s %s" % (n, CAPS, redis.port, stream, extra))
    return launch(pipe, os.path.join(tmp, name + ".log"))


def processor(redis, tmp, consumer, claim, log_name=None):
    pipe = ("redisstreamsrc port=%d stream=in group=proc consumer=%s claim-idle-time=%d ! "
            "frameproc operation=invert ! redisstreamsink port=%d stream=out maxlen=0"
            % (redis.port, consumer, claim, redis.port))
    return launch(pipe, os.path.join(tmp, (log_name or consumer) + ".log"),
                  env=gst_env(GST_DEBUG="redisstreamsrc:4"))


def wait_consumers(r, stream, group, names, procs, timeout=30):
    def ok():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError("%s exited early:\n%s" % (p.cmd, read(p.log)))
        return all(consumer_info(r, stream, group, n) is not None for n in names)
    wait_for(ok, timeout, "consumers %s in group %s" % (names, group))


def kill_holding_pending(r, proc, consumer, timeout=30):
    """SIGKILLs proc at a moment it holds an unacknowledged entry: stop it,
    look at its pending count, kill it when > 0, else let it run on a bit."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        os.killpg(proc.pid, signal.SIGSTOP)
        # The stopped process cannot send an ack any more, but one it sent
        # just before may still be on its way to Redis: let it land, then
        # take the pending entries as Redis lists them (not a poll).
        time.sleep(0.05)
        ids = [e["message_id"] for e in
               r.xpending_range("in", "proc", "-", "+", 100, consumername=consumer)]
        if ids:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return len(ids), ids, time.monotonic()
        os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.013)   # not a poll: let it run on a bit
    raise AssertionError("%s never held a pending entry" % consumer)


def check_all_delivered(r, n, prod, procs, what):
    rc = prod.wait(120)
    assert rc == 0, "producer exited with %d:\n%s" % (rc, read(prod.log))
    in_seqs = stream_seqs(r, "in")
    assert sorted(in_seqs) == list(range(n)), "`in` does not hold seqs 0..%d (%d entries)" % (n - 1, len(in_seqs))

    def done():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError("processor exited:\n" + read(p.log))
        return set(range(n)) <= set(stream_seqs(r, "out"))
    try:
        wait_for(done, 90, "every seq in `out`", interval=0.25)
    except AssertionError:
        missing = sorted(set(range(n)) - set(stream_seqs(r, "out")))
        raise AssertionError("%s: %d seqs never reached `out`: %s; pending %s" % (
            what, len(missing), missing[:20], r.xpending("in", "proc")))
    out = stream_seqs(r, "out", decode_payload=True)
    dups = len(out) - len(set(out))
    dup_seqs = sorted({s for s in out if out.count(s) > 1})
    return out, dups, dup_seqs


def processor_kill_claim(tmp):
    redis = RedisServer(tmp)
    r = redis.client()
    pa = processor(redis, tmp, "pA", 1000)
    pb = processor(redis, tmp, "pB", 1000)
    wait_consumers(r, "in", "proc", ["pA", "pB"], [pa, pb])
    prod = producer(redis, tmp, "in", N_KILL, extra="maxlen=0")
    wait_for(lambda: xlen(r, "out") >= N_KILL // 3, 60, "a third of the frames in `out`")
    pending, ids, t_kill = kill_holding_pending(r, pa, "pA")
    out_at_kill = set(stream_seqs(r, "out"))
    held = [int(r.xrange("in", i, i)[0][1][b"seq"]) for i in ids]
    print("SIGKILL pA holding %d pending entr%s (seq %s; %s already in `out`)" % (
        pending, "y" if pending == 1 else "ies", held,
        "all" if set(held) <= out_at_kill else "not all"))
    # pB claims them after claim-idle-time (1000 ms) with its next XAUTOCLAIM
    wait_for(lambda: (consumer_info(r, "in", "proc", "pA") or {"pending": 0})["pending"] == 0,
             30, "pA's pending entries to be claimed", interval=0.02)
    t_claim = time.monotonic() - t_kill
    out, dups, dup_seqs = check_all_delivered(r, N_KILL, prod, [pb], "kill+claim")
    t_all = time.monotonic() - t_kill
    assert set(held) <= set(out)
    print("processor_kill_claim: produced %d, in `out` %d entries, %d unique, "
          "duplicates %d (seqs %s); pA's entries claimed %.2f s after the kill "
          "(claim-idle-time 1.0 s); all seqs present %.1f s after the kill" % (
              N_KILL, len(out), len(set(out)), dups, dup_seqs, t_claim, t_all))
    assert "claimed" in read(pb.log) or t_claim < 30
    assert not errors_in(read(pb.log)), read(pb.log)[-3000:]


def processor_kill_restart(tmp):
    redis = RedisServer(tmp)
    r = redis.client()
    pa = processor(redis, tmp, "pA", 0)
    pb = processor(redis, tmp, "pB", 0)
    wait_consumers(r, "in", "proc", ["pA", "pB"], [pa, pb])
    prod = producer(redis, tmp, "in", N_KILL, extra="maxlen=0")
    wait_for(lambda: xlen(r, "out") >= N_KILL // 3, 60, "a third of the frames in `out`")
    pending, ids, t_kill = kill_holding_pending(r, pa, "pA")
    held = [int(r.xrange("in", i, i)[0][1][b"seq"]) for i in ids]
    print("SIGKILL pA holding %d pending entr%s (seq %s)" % (
        pending, "y" if pending == 1 else "ies", held))
    # claim-idle-time=0: nobody takes them over while pA is down (not a
    # poll: a while in which nothing may happen)
    time.sleep(1.5)
    still = consumer_info(r, "in", "proc", "pA")["pending"]
    assert still == pending, "pA's pending entries moved while it was down (%d -> %d)" % (pending, still)
    t_restart = time.monotonic()
    pa2 = processor(redis, tmp, "pA", 0, log_name="pA-restarted")
    wait_for(lambda: consumer_info(r, "in", "proc", "pA")["pending"] == 0 or
             set(ids) - {e["message_id"] for e in r.xpending_range("in", "proc", "-", "+", 100, consumername="pA")} == set(ids),
             30, "restarted pA to finish its own pending entries", interval=0.02)
    t_rec = time.monotonic() - t_restart
    out, dups, dup_seqs = check_all_delivered(r, N_KILL, prod, [pb, pa2], "kill+restart")
    assert set(held) <= set(out)
    print("processor_kill_restart: produced %d, in `out` %d entries, %d unique, "
          "duplicates %d (seqs %s); restarted pA re-read its pending entries "
          "%.2f s after it was started" % (N_KILL, len(out), len(set(out)), dups, dup_seqs, t_rec))
    for p in (pb, pa2):
        assert not errors_in(read(p.log)), read(p.log)[-3000:]


GSTRUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gstrun.py")


def stat_of(res, field):
    m = re.search(r"\b%s=\([a-z0-9]+\)([^,;]+)" % re.escape(field), res["stats"]["src"])
    return int(m.group(1)) if m else None


def trimmed_pending_kill(tmp):
    """A worker SIGKILLed with frames pending on a stream of maxlen=100 at 30
    fps (about 3.3 s of frames): each of its frames is processed by the other
    worker or counted as lost, never silently gone. With claim-idle-time not
    set it follows the stream and takes over in time (nothing lost); with
    claim-idle-time=9000 (longer than the stream keeps them) the frames are
    trimmed first, and the survivor counts them and names their ids."""
    import json
    n = 450
    for claim in (None, 9000):
        redis = RedisServer(tmp)
        r = redis.client()
        extra = "" if claim is None else "claim-idle-time=%d" % claim
        pipe = ("redisstreamsrc name=src port=%d stream=in group=proc consumer=%%s %s ! "
                "frameproc operation=invert ! redisstreamsink port=%d stream=out maxlen=0"
                % (redis.port, extra, redis.port))
        pa = launch(pipe % "pA", os.path.join(tmp, "pA-%s.log" % claim))
        pb = spawn([PYTHON, GSTRUN, pipe % "pB", "--timeout", "40", "--stats", "src"],
                   os.path.join(tmp, "pB-%s.log" % claim), env=gst_env(),
                   stdout=subprocess.PIPE)
        wait_consumers(r, "in", "proc", ["pA", "pB"], [pa, pb])
        prod = producer(redis, tmp, "in", n, name="producer-%s" % claim, extra="maxlen=100")
        wait_for(lambda: xlen(r, "out") >= 100, 60, "100 frames in `out`")
        pending, ids, t_kill = kill_holding_pending(r, pa, "pA")
        held = [int(r.xrange("in", i, i)[0][1][b"seq"]) for i in ids]
        assert prod.wait(120) == 0, read(prod.log)
        out_s, _ = pb.communicate(timeout=120)
        res = json.loads([l for l in out_s.decode().splitlines() if l.startswith("{")][-1])
        out = set(stream_seqs(r, "out"))
        missing = sorted(set(range(n)) - out)
        deleted = stat_of(res, "skipped-deleted")
        trimmed = stat_of(res, "trimmed-unread")
        idle = stat_of(res, "claim-idle-time")
        print("claim-idle-time %s: pA held %s (ids %s); pB claimed %s, skipped-deleted %d, "
              "trimmed-unread %d, claim-idle-time in use %d ms, retention %s ms; "
              "seqs not in `out`: %s" % (claim or "not set", held, ids, stat_of(res, "claimed"),
                                          deleted, trimmed, idle, stat_of(res, "retention"), missing))
        # every frame is processed, or counted as lost
        assert len(missing) <= deleted + trimmed, (missing, deleted, trimmed)
        assert set(missing) - set(held) == set() or trimmed > 0, missing
        if claim is None:
            assert idle < 30000
            assert set(held) <= out, "pA's frames were not taken over in time"
        else:
            # trimmed before claim-idle-time: counted and named
            assert deleted >= len([s for s in held if s not in out]) and deleted >= 1
            text = " ".join(w["message"] + " " + (w["debug"] or "") for w in res["warnings"])
            for i in ids:
                i = i.decode() if isinstance(i, bytes) else i
                assert i in text, "id %s of a lost frame not named: %s" % (i, text[:2000])
        stop(pb)
        redis.stop()


def consumer_stall(tmp):
    maxlen = 100
    redis = RedisServer(tmp)
    r = redis.client()
    node = int(r.config_get("stream-node-max-entries")["stream-node-max-entries"])
    cons = launch("redisstreamsrc port=%d stream=in group=viewers consumer=c1 ! fakesink sync=false"
                  % redis.port, os.path.join(tmp, "consumer.log"))
    wait_consumers(r, "in", "viewers", ["c1"], [cons])
    prod = producer(redis, tmp, "in", 100000, extra="maxlen=%d" % maxlen)

    def added():
        try:
            return r.xinfo_stream("in")["entries-added"]
        except Exception:
            return 0
    wait_for(lambda: ((group_info(r, "in", "viewers") or {}).get("entries-read") or 0) >= 30, 60,
             "the consumer to read 30 entries")
    os.killpg(cons.pid, signal.SIGSTOP)
    t_stop = time.monotonic()
    a0 = added()
    g0 = group_info(r, "in", "viewers")
    samples = []
    # the producer goes on: 4 x maxlen more entries while the consumer sleeps
    while added() < a0 + 4 * maxlen:
        assert prod.poll() is None, "producer exited:\n" + read(prod.log)
        n = r.xlen("in")
        mem = r.memory_usage("in", samples=0)
        samples.append((added(), n, mem))
        assert time.monotonic() - t_stop < 120, "producer did not go on: %s" % samples[-1:]
        time.sleep(0.2)     # the sampling interval of the stream's memory
    g1 = group_info(r, "in", "viewers")
    c1 = consumer_info(r, "in", "viewers", "c1")
    stall = time.monotonic() - t_stop
    max_len = max(s[1] for s in samples)
    full = [s[2] for s in samples if s[0] >= a0 + 2 * maxlen]
    mem_max = max(s[2] for s in samples)
    print("consumer_stall: stalled %.1f s; entries-added %d -> %d; XLEN max %d (maxlen %d, node %d); "
          "MEMORY USAGE in: after 2x maxlen %d..%d bytes, max %d; group before: lag %s pending %s "
          "entries-read %s; during: lag %s pending %s entries-read %s; consumer idle %d ms" % (
              stall, a0, added(), max_len, maxlen, node, min(full), max(full), mem_max,
              g0["lag"], g0["pending"], g0["entries-read"], g1["lag"], g1["pending"],
              g1["entries-read"], c1["idle"]))
    assert max_len <= maxlen + node, "XLEN %d > maxlen %d + %d" % (max_len, maxlen, node)
    # bounded: once the stream is full, memory does not keep growing with
    # the entries added (allow 25% for entry size variations)
    assert max(full) <= 1.25 * min(full) + 65536, (min(full), max(full))
    # the XREADGROUP BLOCK in flight when it stopped is still served: +1 entry
    assert g1["entries-read"] <= g0["entries-read"] + 1, "the stopped consumer read on?"
    assert g1["lag"] is None or g1["lag"] >= 3 * maxlen - maxlen, g1["lag"]
    assert c1["idle"] >= 1000 * (stall - 1.5), c1
    # resume
    os.killpg(cons.pid, signal.SIGCONT)
    t_cont = time.monotonic()
    wait_for(lambda: (group_info(r, "in", "viewers")["entries-read"] or 0) > (g1["entries-read"] or 0),
             30, "the consumer to read again")
    t_res = time.monotonic() - t_cont
    def eid(b):
        ms, sq = b.decode().split("-")
        return (int(ms), int(sq))
    head = eid(r.xinfo_stream("in")["last-generated-id"])
    wait_for(lambda: eid(group_info(r, "in", "viewers")["last-delivered-id"]) >= head, 60,
             "the consumer to catch up with the stream's head")
    t_catch = time.monotonic() - t_cont
    g2 = group_info(r, "in", "viewers")
    stop(prod)
    time.sleep(0.5)     # not a poll: the consumer outlives the producer's end
    assert cons.poll() is None, "consumer exited after SIGCONT:\n" + read(cons.log)
    rc = stop(cons)
    log = read(cons.log)
    print("consumer_stall: after SIGCONT read again in %.2f s, reached the stream head in %.2f s; "
          "group then: lag %s pending %s; consumer exit status %s; warnings: %s" % (
              t_res, t_catch, g2["lag"], g2["pending"], rc,
              [l for l in log.splitlines() if l.startswith("WARNING")][:3]))
    assert not errors_in(log), log[-3000:]


def redis_restart_aof(tmp):
    n = 450
    redis = RedisServer(tmp, "--appendonly", "yes", "--appendfsync", "everysec")
    r = redis.client()
    cons = launch("redisstreamsrc port=%d stream=in group=g consumer=c1 ! fakesink name=fs silent=false sync=false"
                  % redis.port, os.path.join(tmp, "consumer.log"), "-v")
    wait_consumers(r, "in", "g", ["c1"], [cons])
    prod = producer(redis, tmp, "in", n, extra="maxlen=0 on-disconnect=buffer max-buffered=1000")
    wait_for(lambda: xlen(r, "in") >= n // 3, 60, "a third of the frames")
    before = len(stream_seqs(r, "in"))
    t_down = time.monotonic()
    rc = redis.stop(signal.SIGTERM)     # shutdown: the AOF is flushed
    assert rc == 0, "redis-server exited with %s" % rc
    time.sleep(1.0)     # not a poll: an outage of 1 s
    redis.start()
    t_up = time.monotonic()
    r = redis.client()
    after = stream_seqs(r, "in")
    assert len(after) >= before, "AOF lost entries: %d before, %d after" % (before, len(after))
    assert group_info(r, "in", "g") is not None, "the group did not survive the restart"
    wait_for(lambda: xlen(r, "in") > len(after), 40, "the producer to write again")
    t_prod = time.monotonic() - t_up
    g_read = group_info(r, "in", "g")["entries-read"] or 0
    wait_for(lambda: (group_info(r, "in", "g")["entries-read"] or 0) > g_read, 40,
             "the consumer to read again")
    t_cons = time.monotonic() - t_up
    rc = prod.wait(120)
    assert rc == 0, "producer failed:\n" + read(prod.log)
    final = stream_seqs(r, "in")

    def got():
        return [int(m) for m in re.findall(r"last-message = chain .*?offset: (\d+),", read(cons.log))]
    wait_for(lambda: set(final) <= set(got()), 60, "every seq in Redis at the consumer", interval=0.25)
    received = got()
    # fakesink keeps its last buffer (enable-last-sample): that frame's
    # entry stays pending until the next frame or the stop; every other one
    # is acknowledged
    last_id = r.xrevrange("in", count=1)[0][0]

    def pending_ids():
        return [e["message_id"] for e in r.xpending_range("in", "g", "-", "+", 100)]
    wait_for(lambda: pending_ids() in ([], [last_id]), 10,
             "no pending entry but the last one (fakesink's last sample)")
    assert cons.poll() is None, "consumer exited:\n" + read(cons.log)[-3000:]
    stop(cons)
    # and that one is acknowledged at the stop: fakesink rendered it
    # (docs/redisstreamsrc.md, what stays pending after a stop)
    assert not pending_ids(), "pending after the stop: %s" % pending_ids()
    plog, clog = read(prod.log), read(cons.log)
    assert not errors_in(plog), plog[-3000:]
    assert not errors_in(clog), clog[-3000:]
    warned = [l for l in (plog + clog).splitlines() if l.startswith("WARNING")]
    assert warned, "no WARNING about the lost connection"
    dups = len(received) - len(set(received))
    missing_prod = sorted(set(range(n)) - set(final))
    print("redis_restart_aof: %d entries before the restart, %d after it (AOF); redis down %.2f s; "
          "producer wrote again %.2f s and consumer read again %.2f s after redis was up; "
          "%d/%d seqs in Redis (missing from the producer: %s), all %d delivered to the group, "
          "duplicates %d" % (before, len(after), t_up - t_down, t_prod, t_cons, len(set(final)), n,
                              missing_prod[:10], len(set(final)), dups))
    for l in warned[:4]:
        print("  " + l[:240])


CASES = [processor_kill_claim, processor_kill_restart, trimmed_pending_kill, consumer_stall,
         redis_restart_aof]

if __name__ == "__main__":
    install_signal_handlers()
    sys.exit(run_cases(CASES, sys.argv[1:]))
