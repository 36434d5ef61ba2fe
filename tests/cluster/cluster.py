#!/usr/bin/python3
"""Redis Cluster and Redis Sentinel tests of redisstreamsink/redisstreamsrc.

    cluster.py cluster_failover   6-node cluster: MOVED routing from a node that
                                  does not own the keys, a manual failover
                                  (MOVED), then SIGKILL of a master
    cluster.py cluster_ask        a slot migration while frames flow (ASK)
    cluster.py cluster_info       wire format version 2 with the stream's hash
                                  <stream>:info on another master than the
                                  stream: caps stored and read there (one
                                  HGET per caps id), a caps change, a late
                                  reader of a trimmed stream
    cluster.py sentinel_failover  master + replica + 3 sentinels, SIGKILL of
                                  the master
    cluster.py cluster_tls        3-master cluster on TLS only (tls-cluster
                                  yes): the slot map, MOVED (a user without
                                  CLUSTER) and ASK name TLS ports
    cluster.py sentinel_tls       sentinel_failover with every server and
                                  sentinel on TLS only

Every process is started in its own session and stopped by its PID (also on
failure); ports are free ports of 127.0.0.1; the temporary directory is
removed. Prints "N passed, N failed" and exits non-zero on failure.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pylib"))
import procs  # noqa: E402
from procs import free_port, read, spawn, stop, stop_all  # noqa: E402,F401
from redisserver import RedisServer  # noqa: E402
from tlscerts import Certs  # noqa: E402

REDIS_CLI = shutil.which("redis-cli") or "redis-cli"
GST_LAUNCH = shutil.which("gst-launch-1.0") or "gst-launch-1.0"
CAPS = "video/x-raw,format=I420,width=160,height=120,framerate=25/1"



def log(*args):
    print(*args, flush=True)


def wait_for(cond, timeout, what, interval=0.1):
    return procs.wait_for(cond, timeout, what, interval,
                          ignore=(redis.RedisError, OSError))


def Server(tmp, name, *extra, conf=None, tls=None):
    """A node (or, with conf, a Sentinel) on a free port of 127.0.0.1; on
    TLS only with tls (a Certs)."""
    return RedisServer(tmp, *extra, name=name, sentinel_conf=conf, tls=tls)


class Pipeline:
    """gst-launch-1.0; a consumer's frames (offset = seq) are timestamped as
    fakesink prints them."""

    def __init__(self, tmp, name, description, consumer=False):
        self.name = name
        self.logfile = os.path.join(tmp, name + ".log")
        self.debugfile = os.path.join(tmp, name + ".debug")
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        env["GST_DEBUG"] = "redisconnection:5,redisstreamsink:4,redisstreamsrc:4"
        env["GST_DEBUG_FILE"] = self.debugfile
        env["GST_DEBUG_NO_COLOR"] = "1"
        self.frames = []          # (monotonic time, seq)
        self.lock = threading.Lock()
        argv = [GST_LAUNCH, "-v" if consumer else "-q"] + description
        self.proc = spawn(argv, self.logfile, env,
                          stdout=subprocess.PIPE if consumer else None)
        if consumer:
            self.thread = threading.Thread(target=self._reader, daemon=True)
            self.thread.start()

    def _reader(self):
        pattern = re.compile(rb"chain.*offset: (\d+),")
        for line in self.proc.stdout:
            m = pattern.search(line)
            if m:
                with self.lock:
                    self.frames.append((time.monotonic(), int(m.group(1))))

    def count(self):
        with self.lock:
            return len(self.frames)

    def since(self, t):
        with self.lock:
            return [s for (ts, s) in self.frames if ts >= t]

    def gap(self, t0, t1):
        """The longest time without frames and the frames missing (by seq)
        among frames that arrived in [t0, t1]."""
        with self.lock:
            frames = [(ts, s) for (ts, s) in self.frames if t0 <= ts <= t1]
        if len(frames) < 2:
            return None, None
        longest = max(b[0] - a[0] for a, b in zip(frames, frames[1:]))
        seqs = sorted(set(s for (_, s) in frames))
        missing = sum(b - a - 1 for a, b in zip(seqs, seqs[1:]) if b > a + 1)
        return longest, missing

    def errors(self):
        return [l for l in read(self.logfile).splitlines() if l.startswith("ERROR")]

    def check_alive(self):
        assert self.proc.poll() is None, "%s exited (%s):\n%s" % (
            self.name, self.proc.returncode, read(self.logfile)[-3000:])
        assert not self.errors(), "%s: %s" % (self.name, self.errors())

    def debug(self):
        return read(self.debugfile)


def producer(tmp, name, conn, stream):
    return Pipeline(tmp, name, ["videotestsrc", "is-live=true", "!", CAPS, "!",
                                "redisstreamsink"] + conn +
                    ["stream=" + stream, "reconnect-timeout=60000", "maxlen=5000"])


def wait_group(node, stream):
    """Waits until the consumers' group g exists on stream (on node, the
    master that serves it): the consumer is ready for the producer."""
    def has_group():
        return any(g["name"] == b"g" for g in node.client().xinfo_groups(stream))
    wait_for(has_group, 30, "group g of %s on :%d" % (stream, node.port))


def consumer(tmp, name, conn, stream):
    return Pipeline(tmp, name, ["redisstreamsrc"] + conn +
                    ["stream=" + stream, "group=g", "consumer=c1",
                     "reconnect-timeout=60000", "!", "fakesink", "silent=false",
                     "sync=false"], consumer=True)


def stream_seqs(r, stream):
    seqs = []
    for _, fields in r.xrange(stream, count=100000):
        seqs.append(int(fields[b"seq"]))
    return seqs


def seq_loss(seqs):
    """Frames missing between the first and the last seq, and the longest
    run of them."""
    seqs = sorted(set(seqs))
    gaps = [b - a - 1 for a, b in zip(seqs, seqs[1:]) if b > a + 1]
    return sum(gaps), max(gaps) if gaps else 0


# Redis Cluster ############################################################

class Cluster:
    def __init__(self, tmp, masters=3, replicas=1, tls=None):
        # the bus port is given, as port + 10000 may be taken or too high
        self.nodes = [Server(tmp, "node%d" % i, "--cluster-enabled", "yes",
                             "--cluster-node-timeout", "2000",
                             "--cluster-config-file", "nodes.conf",
                             "--cluster-port", str(free_port()), tls=tls)
                      for i in range(masters * (1 + replicas))]
        out = subprocess.run([REDIS_CLI] + (tls.cli_args() if tls else []) +
                             ["--cluster", "create"] +
                             ["127.0.0.1:%d" % n.port for n in self.nodes] +
                             ["--cluster-replicas", str(replicas), "--cluster-yes"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=60)
        assert out.returncode == 0, out.stdout.decode(errors="replace")
        wait_for(self.healthy, 30, "cluster_state:ok on every node", 0.3)

    def alive(self):
        return [n for n in self.nodes if n.proc.poll() is None]

    def healthy(self):
        for n in self.alive():
            info = n.client().execute_command("CLUSTER", "INFO").decode()
            if "cluster_state:ok" not in info:
                return False
        return True

    def by_port(self, port):
        return next(n for n in self.nodes if n.port == port)

    def owner(self, key, via=None):
        """The master serving key's slot, per the slot map of via."""
        via = via or self.alive()[0]
        r = via.client()
        slot = r.execute_command("CLUSTER", "KEYSLOT", key)
        for start, end, master, *replicas in r.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return self.by_port(int(master[1])), slot
        return None, slot

    def replica_of(self, master):
        myid = master.client().execute_command("CLUSTER", "MYID").decode()
        for line in master.client().execute_command("CLUSTER", "NODES").decode().splitlines():
            f = line.split()
            if "slave" in f[2] and f[3] == myid:
                return self.by_port(int(f[1].split("@")[0].rsplit(":", 1)[1]))
        raise AssertionError("no replica of node %d" % master.port)

    def role(self, node):
        return node.client().execute_command("ROLE")[0].decode()


def pick_keys(cluster, n):
    """n keys {camX}:video-frames in slots of n different masters."""
    keys, owners = [], []
    for i in range(1, 200):
        key = "{cam%d}:video-frames" % i
        owner, _ = cluster.owner(key)
        if owner not in owners:
            keys.append(key)
            owners.append(owner)
            if len(keys) == n:
                return keys, owners
    raise AssertionError("no keys on %d masters" % n)


def wait_frames(pipelines, timeout, after=None, n=10):
    after = after if after is not None else time.monotonic()
    wait_for(lambda: all(len(p.since(after)) >= n for p in pipelines), timeout,
             "%d new frames on %s" % (n, ", ".join(p.name for p in pipelines)), 0.2)


def check_slot_logged(pipeline, key, slot):
    text = pipeline.debug()
    m = re.search(r'stream "%s" \(slot (\d+)\) is served by' % re.escape(key), text)
    assert m, "%s: no routing line in its debug log" % pipeline.name
    assert int(m.group(1)) == slot, (pipeline.name, m.group(1), slot)


def test_cluster_failover(tmp):
    cluster = Cluster(tmp)
    (key_a, key_b), (master_a, master_b) = pick_keys(cluster, 2)
    seed = next(n for n in cluster.nodes
                if n not in (master_a, master_b) and cluster.role(n) == "master")
    conn = ["host=127.0.0.1", "port=%d" % seed.port]
    log("  keys %s on :%d, %s on :%d; pipelines pointed at :%d" % (
        key_a, master_a.port, key_b, master_b.port, seed.port))

    pipes = {}
    for tag, key in (("a", key_a), ("b", key_b)):
        pipes["cons_" + tag] = consumer(tmp, "consumer-" + tag, conn, key)
    wait_group(master_a, key_a)
    wait_group(master_b, key_b)
    for tag, key in (("a", key_a), ("b", key_b)):
        pipes["prod_" + tag] = producer(tmp, "producer-" + tag, conn, key)
    cons = [pipes["cons_a"], pipes["cons_b"]]
    wait_frames(cons, 40, n=25)
    for p in pipes.values():
        p.check_alive()
    # routed by slot: the stream lives on its owner, the pipelines computed
    # the same slot as Redis, and nothing was written to the seed
    for key, master in ((key_a, master_a), (key_b, master_b)):
        assert master.client().xlen(key) > 0, key
        _, slot = cluster.owner(key)
        check_slot_logged(pipes["prod_" + ("a" if key == key_a else "b")], key, slot)
        check_slot_logged(pipes["cons_" + ("a" if key == key_a else "b")], key, slot)
    log("  routed to the slot owners (CRC16 slots match CLUSTER KEYSLOT)")

    # 1. graceful manual failover of B's master: its connections get MOVED
    replica_b = cluster.replica_of(master_b)
    t0 = time.monotonic()
    replica_b.client().execute_command("CLUSTER", "FAILOVER")
    wait_for(lambda: cluster.role(replica_b) == "master", 30, "manual failover")
    wait_frames(cons, 30, after=time.monotonic(), n=25)
    t1 = time.monotonic()
    for p in pipes.values():
        p.check_alive()
    longest, missing = pipes["cons_b"].gap(t0 - 1, t1)
    moved = "MOVED" in pipes["prod_b"].debug() or "MOVED" in pipes["cons_b"].debug()
    assert moved, "no MOVED followed after CLUSTER FAILOVER"
    log("  manual failover of %s (MOVED): consumer gap %.2f s, %d frames missing" % (
        key_b, longest, missing))

    # 2. SIGKILL of A's master: its replica is promoted after node-timeout
    replica_a = cluster.replica_of(master_a)
    seqs_before = len(stream_seqs(master_a.client(), key_a))
    t_kill = time.monotonic()
    master_a.kill()
    wait_for(lambda: cluster.role(replica_a) == "master", 40, "promotion of the replica of A")
    t_promoted = time.monotonic()
    wait_for(cluster.healthy, 30, "cluster_state:ok after the failover", 0.3)
    wait_frames(cons, 60, after=time.monotonic(), n=50)
    t_end = time.monotonic()
    for p in pipes.values():
        p.check_alive()
    seqs = stream_seqs(replica_a.client(), key_a)
    lost, run = seq_loss(seqs)
    longest_a, missing_a = pipes["cons_a"].gap(t_kill - 2, t_end)
    longest_b, missing_b = pipes["cons_b"].gap(t_kill - 2, t_end)
    log("  SIGKILL of the master of %s: replica promoted after %.2f s" % (
        key_a, t_promoted - t_kill))
    log("  loss window %s: consumer %.2f s without frames, %d frames missing; "
        "stream on the new master misses %d frames (longest run %d, %.2f s at 25 fps)" % (
            key_a, longest_a, missing_a, lost, run, run / 25.0))
    log("  other stream %s during the failover: consumer %.2f s without frames, "
        "%d frames missing" % (key_b, longest_b, missing_b))
    assert len(seqs) > 0 and seqs_before > 0
    for p in pipes.values():
        stop(p.proc)


def test_cluster_ask(tmp):
    cluster = Cluster(tmp)
    (key,), (source,) = pick_keys(cluster, 1)
    target = next(n for n in cluster.nodes
                  if n is not source and cluster.role(n) == "master")
    seed = target
    conn = ["host=127.0.0.1", "port=%d" % seed.port]
    _, slot = cluster.owner(key)
    log("  key %s (slot %d) on :%d, migrating to :%d" % (key, slot, source.port, target.port))

    cons = consumer(tmp, "consumer", conn, key)
    wait_group(source, key)
    prod = producer(tmp, "producer", conn, key)
    wait_frames([cons], 40, n=25)

    src_id = source.client().execute_command("CLUSTER", "MYID").decode()
    dst_id = target.client().execute_command("CLUSTER", "MYID").decode()
    target.client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    source.client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    # not a poll: frames go on for a while with the slot in migration
    time.sleep(1)
    t0 = time.monotonic()
    # as redis-cli --cluster reshard does: every key of the slot moves, the
    # stream and its <stream>:info hash (same hash tag, same slot)
    keys = source.client().execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
    assert key.encode() in keys, keys
    source.client().execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
                                    "KEYS", *keys)
    # the key now lives on the target while the slot is still the source's:
    # the source answers ASK
    wait_frames([cons], 30, after=time.monotonic(), n=25)
    asking = target.client(single_connection_client=True)

    def importing_len():
        asking.execute_command("ASKING")
        return asking.xlen(key)
    grown = importing_len()
    wait_for(lambda: importing_len() > grown, 10,
             "the stream to grow on the importing node")
    assert source.client().execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert "followed ASK" in prod.debug(), "the producer did not follow ASK"
    assert "followed ASK" in cons.debug(), "the consumer did not follow ASK"
    longest, missing = cons.gap(t0 - 1, time.monotonic())
    log("  during the migration (ASK): consumer gap %.2f s, %d frames missing" % (
        longest, missing))

    # end of the migration: the slot is the target's everywhere
    for n in cluster.alive():
        if cluster.role(n) == "master":
            n.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    wait_for(lambda: cluster.owner(key, via=source)[0] is target, 20, "slot map update")
    wait_frames([cons], 30, after=time.monotonic(), n=25)
    for p in (prod, cons):
        p.check_alive()
    lost, run = seq_loss(stream_seqs(target.client(), key))
    log("  after the migration: stream misses %d frames (longest run %d)" % (lost, run))
    for p in (prod, cons):
        stop(p.proc)


# Redis Sentinel ###########################################################

def run_gst(tmp, name, args):
    log_path = os.path.join(tmp, name + ".log")
    p = spawn([GST_LAUNCH] + args, log_path)
    assert p.wait(120) == 0, "%s failed:\n%s" % (name, read(log_path)[-3000:])
    return read(log_path)


def test_cluster_info(tmp):
    cluster = Cluster(tmp, replicas=0)
    # a key without hash tag whose hash key hashes to another master
    for i in range(1, 500):
        key = "cam-%d" % i
        owner, slot = cluster.owner(key)
        info_owner, info_slot = cluster.owner(key + ":info")
        if owner is not info_owner:
            break
    seed = next(n for n in cluster.nodes if n not in (owner, info_owner))
    conn = ["host=127.0.0.1", "port=%d" % seed.port]
    log("  stream %s (slot %d) on :%d, %s:info (slot %d) on :%d, pipelines "
        "pointed at :%d" % (key, slot, owner.port, key, info_slot, info_owner.port,
                           seed.port))
    info_owner.client().config_resetstat()
    cons = consumer(tmp, "consumer", conn, key)
    wait_group(owner, key)
    caps_b = "video/x-raw,format=I420,width=96,height=64,framerate=25/1"
    for i, caps in enumerate((CAPS, caps_b, CAPS)):
        run_gst(tmp, "producer-%d" % i, ["videotestsrc", "num-buffers=30", "!", caps, "!",
                                         "redisstreamsink"] + conn +
                ["stream=" + key, "maxlen=0"])
    wait_for(lambda: cons.count() >= 90, 60, "90 frames at the consumer", 0.2)
    cons.check_alive()
    info = info_owner.client()
    fields = sorted(f.decode() for f in info.hkeys(key + ":info")
                    if f.startswith(b"caps:"))
    versions = set(f[b"v"] for _, f in owner.client().xrange(key))
    assert len(fields) == 2 and versions == {b"2"}, (fields, versions)
    hget = info.info("commandstats").get("cmdstat_hget", {}).get("calls", 0)
    hsetnx = info.info("commandstats").get("cmdstat_hsetnx", {}).get("calls", 0)
    log("  90 frames in 3 runs of 2 caps read; %s on :%d: %s; HSETNX %d, HGET %d "
        "(the sink found the first caps again, the reader asked once per id)" % (
            key + ":info", info_owner.port, fields, hsetnx, hget))
    assert hsetnx == 3 and hget == 1 + 2, (hsetnx, hget)

    # a reader that starts after a trim, with the writers gone
    owner.client().xtrim(key, maxlen=10, approximate=False)
    out = run_gst(tmp, "late-reader", ["-m", "redisstreamsrc"] + conn +
                  ["stream=" + key, "group=late", "start-id=0", "num-buffers=10",
                   "!", "fakesink"])
    assert "Skipped entry" not in out and "EOS" in out, out[-2000:]
    log("  a new group read the 10 entries left after XTRIM")
    stop(cons.proc)


def test_sentinel_failover(tmp, tls=None):
    master = Server(tmp, "master", tls=tls)
    replica = Server(tmp, "replica", "--replicaof", "127.0.0.1", str(master.port),
                     tls=tls)
    wait_for(lambda: replica.client().info("replication")["master_link_status"] == "up",
             20, "replication link")
    conf = ("sentinel monitor mymaster 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 5000\n" % master.port)
    sentinels = [Server(tmp, "sentinel%d" % i, conf=conf, tls=tls) for i in range(3)]

    def discovered():
        for s in sentinels:
            r = s.client()
            if len(r.execute_command("SENTINEL", "SENTINELS", "mymaster")) < 2:
                return False
            if len(r.execute_command("SENTINEL", "REPLICAS", "mymaster")) < 1:
                return False
        return True
    wait_for(discovered, 40, "sentinels to find each other and the replica", 0.5)

    conn = ['sentinels="%s"' % ",".join("127.0.0.1:%d" % s.port for s in sentinels),
            "master-name=mymaster"] + (tls.props() if tls else [])
    key = "video-frames"
    cons = consumer(tmp, "consumer", conn, key)
    wait_group(master, key)
    prod = producer(tmp, "producer", conn, key)
    wait_frames([cons], 40, n=25)
    for p in (prod, cons):
        p.check_alive()
    assert master.client().xlen(key) > 0
    assert "master \"mymaster\" is at 127.0.0.1:%d" % master.port in prod.debug()

    def master_addr():
        return sentinels[0].client().execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")

    t_kill = time.monotonic()
    master.kill()
    wait_for(lambda: int(master_addr()[1]) == replica.port, 60, "sentinel failover", 0.2)
    t_promoted = time.monotonic()
    wait_frames([cons], 60, after=time.monotonic(), n=50)
    t_end = time.monotonic()
    for p in (prod, cons):
        p.check_alive()
    assert "master \"mymaster\" is at 127.0.0.1:%d" % replica.port in prod.debug()
    seqs = stream_seqs(replica.client(), key)
    lost, run = seq_loss(seqs)
    longest, missing = cons.gap(t_kill - 2, t_end)
    log("  SIGKILL of the master: sentinels switched after %.2f s" % (t_promoted - t_kill))
    log("  loss window: consumer %.2f s without frames, %d frames missing; stream on "
        "the new master misses %d frames (longest run %d, %.2f s at 25 fps)" % (
            longest, missing, lost, run, run / 25.0))
    for p in (prod, cons):
        stop(p.proc)
    if tls:
        # every server the elements talked to was on TLS only: the
        # sentinels, the master, and the replica it became
        for p in (prod, cons):
            assert p.debug().count("TLS with") >= 3, "%s: TLS handshakes: %d" % (
                p.name, p.debug().count("TLS with"))
        log("  every connection over TLS (sentinels, master, new master)")


def test_sentinel_tls(tmp):
    test_sentinel_failover(tmp, tls=Certs(tmp))


# Redis Cluster on TLS only ################################################

def test_cluster_tls(tmp):
    """tls-cluster yes, TLS ports only: the slot map (CLUSTER SLOTS), MOVED
    (for a user who may not run CLUSTER SLOTS) and ASK (a slot migration)
    all name TLS ports, which the elements follow with TLS."""
    certs = Certs(tmp)
    cluster = Cluster(tmp, masters=3, replicas=0, tls=certs)
    (key,), (owner,) = pick_keys(cluster, 1)
    seed = next(n for n in cluster.nodes if n is not owner)
    _, slot = cluster.owner(key)
    # ACLs are per node: a producer user without the CLUSTER command
    for n in cluster.nodes:
        n.client().execute_command("ACL", "SETUSER", "cam", "on", ">cam-secret",
                                   "~*", "&*", "+@all", "-cluster")
    conn = ["host=127.0.0.1", "port=%d" % seed.port] + certs.props()
    log("  key %s (slot %d) on :%d; pipelines pointed at :%d" % (
        key, slot, owner.port, seed.port))

    cons = consumer(tmp, "consumer", conn, key)
    wait_group(owner, key)
    prod = producer(tmp, "producer", conn + ["username=cam", "password=cam-secret"], key)
    wait_frames([cons], 40, n=25)
    for p in (prod, cons):
        p.check_alive()
    assert owner.client().xlen(key) > 0
    check_slot_logged(cons, key, slot)
    assert "stream \"%s\" (slot %d) moved to 127.0.0.1:%d" % (key, slot, owner.port) \
        in prod.debug(), "the producer did not follow MOVED to the TLS port"
    log("  consumer routed by CLUSTER SLOTS, producer by MOVED, to TLS port %d" % owner.port)

    # a slot migration while frames flow: ASK to the importing node's TLS port
    target = next(n for n in cluster.nodes if n is not owner)
    src_id = owner.client().execute_command("CLUSTER", "MYID").decode()
    dst_id = target.client().execute_command("CLUSTER", "MYID").decode()
    target.client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    owner.client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    owner.client().execute_command("MIGRATE", "127.0.0.1", target.port, key, 0, 5000)
    wait_frames([cons], 30, after=time.monotonic(), n=25)
    assert "followed ASK to 127.0.0.1:%d" % target.port in prod.debug(), \
        "the producer did not follow ASK to the TLS port"
    for n in cluster.nodes:
        n.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    wait_frames([cons], 30, after=time.monotonic(), n=25)
    for p in (prod, cons):
        p.check_alive()
        assert "TLS with" in p.debug(), p.name
    lost, run = seq_loss(stream_seqs(target.client(), key))
    log("  ASK to TLS port %d during the migration; stream misses %d frames "
        "(longest run %d)" % (target.port, lost, run))
    for p in (prod, cons):
        stop(p.proc)


TESTS = {
    "cluster_failover": test_cluster_failover,
    "cluster_ask": test_cluster_ask,
    "sentinel_failover": test_sentinel_failover,
    "cluster_tls": test_cluster_tls,
    "sentinel_tls": test_sentinel_tls,
    "cluster_info": test_cluster_info,
}


def main():
    selected = sys.argv[1:] or list(TESTS)
    passed = failed = 0
    for name in selected:
        tmp = tempfile.mkdtemp(prefix="gst-redis-%s-" % name)
        log("%s ..." % name)
        t = time.monotonic()
        try:
            TESTS[name](tmp)
            passed += 1
            log("%s: PASS (%.1f s)" % (name, time.monotonic() - t))
        except Exception:
            failed += 1
            traceback.print_exc()
            for f in sorted(os.listdir(tmp)):
                if f.endswith(".log"):
                    log("---- %s (tail)" % f)
                    log(read(os.path.join(tmp, f))[-2000:])
            log("%s: FAIL (%.1f s)" % (name, time.monotonic() - t))
        finally:
            stop_all()
            if os.environ.get("CLUSTER_TEST_KEEP"):
                log("kept %s" % tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    log("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
