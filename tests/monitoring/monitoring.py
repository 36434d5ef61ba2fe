#!/usr/bin/python3
"""Monitoring tests: the elements' metrics reports,
pipelines/exporter, the alerting rules and the dashboard of docs/, and
pipelines/monitor, against a private redis-server, real gst-launch-1.0
pipelines and Debian's Prometheus.

  rules      promtool check rules on docs/prometheus/alerts.yml, and on the
             rules as the alerts case renders them.
  reports    the reports of redisstreamsrc and redisstreamsink: their key,
             labels (host, pid, pipeline, element, db, stream, group,
             consumer), a TTL of three intervals (plus block), counters that
             grow, a latency histogram that counts every frame read; a
             reader killed with SIGKILL disappears after the TTL, one
             stopped writes a last report marked stopped; the reports and
             the frames go on across a restart of redis-server (the reply
             of a report sent on a lost connection is never waited for);
             metrics-interval=0 writes none.
  monitor    pipelines/monitor --once: rates from two looks, a consumer
             running, one that stopped cleanly (gone from the group), one
             stopped with an entry pending ("stopped"), one killed
             ("gone"), a group without consumers; the exporter's
             gst_redis_consumer_reporting says the same.
  trace      a camera (trace-interval=200), a processor and a viewer: one
             frame in three carries a trace field, continued by the
             processor (w, r, w stamps in time order, this host); the
             viewer's report has the four stages and the newest traced
             frame; pipelines/monitor --trace shows it stage by stage, the
             exporter serves gst_redis_src_trace_stage_seconds; traces
             written by redis-py: a valid one counts, seven broken ones are
             dropped and counted while their frames play;
             trace-interval=0 traces nothing.
  alerts     a private Prometheus (its own directory and port, scrape and
             evaluation every second) scrapes pipelines/exporter with the
             rules of docs/prometheus/alerts.yml (thresholds, for: and
             windows rendered shorter). A healthy system fires nothing;
             then, at once: a processor SIGSTOPped (GstRedisConsumerStuck,
             GstRedisLagGrowing), a camera stopped (GstRedisCameraStopped),
             a reader slower than a short stream (GstRedisFramesTrimmedUnread),
             the network between a camera and Redis cut for 3 s by killing a
             TCP relay (GstRedisDropsDuringOutage): each fires, with the
             time from the fault printed, and nothing else does; after
             SIGCONT, a restart, a faster reader and the relay back, every
             alert clears. Then redis-server stops (GstRedisUnreachable
             fires) and starts again (it clears). Meanwhile
             docs/grafana/dashboard.json is checked: it parses, every
             metric its queries name is in a scrape of the exporter, and
             every query returns data from this Prometheus.

Every process is started in its own session and stopped by PID. Arguments
select cases by substring; the last line is "N passed, N failed".
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PIPELINES = os.path.join(TOP, "pipelines")
ALERTS = os.path.join(TOP, "docs", "prometheus", "alerts.yml")
DASHBOARD = os.path.join(TOP, "docs", "grafana", "dashboard.json")
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "pylib"))
import cases as cases_runner  # noqa: E402
from procs import free_port, gst_env, read, spawn, stop, stop_all, wait_for  # noqa: E402
from redisserver import RedisServer  # noqa: E402

import redis  # noqa: E402

PYTHON = "/usr/bin/python3"
GST_LAUNCH = shutil.which("gst-launch-1.0") or "gst-launch-1.0"
PROMETHEUS = os.environ.get("PROMETHEUS") or shutil.which("prometheus") or "prometheus"
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool") or "promtool"
CAPS = "video/x-raw,format=I420,width=160,height=120,framerate=15/1"
CAMERA = "videotestsrc is-live=true pattern=ball ! " + CAPS


def launch(tmp, name, desc):
    """gst-launch-1.0 (split on spaces) in its own session."""
    return spawn([GST_LAUNCH] + desc.split(), os.path.join(tmp, name + ".log"), gst_env())


def alive(p):
    return p.poll() is None


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode()


def reports(r, pattern="*"):
    """The element reports in Redis: {key: report}."""
    out = {}
    for k in r.scan_iter(match="gst-redis:metrics:" + pattern):
        v = r.get(k)
        if v:
            out[k.decode()] = json.loads(v)
    return out


def report_of(r, kind, stream, **labels):
    for k, rep in reports(r).items():
        lab = rep["labels"]
        if rep["kind"] == kind and lab.get("stream") == stream and all(
                lab.get(n) == v for n, v in labels.items()):
            rep["key"] = k
            return rep
    return None


def start_exporter(tmp, redis_port):
    port = free_port()
    env = dict(os.environ, REDIS_HOST="127.0.0.1", REDIS_PORT=str(redis_port))
    p = spawn([PYTHON, os.path.join(PIPELINES, "exporter"), "--listen", "127.0.0.1:%d" % port],
              os.path.join(tmp, "exporter.log"), env)
    url = "http://127.0.0.1:%d/metrics" % port
    wait_for(lambda: alive(p) and "gst_redis_up" in http_get(url), 30, "the exporter",
             ignore=(OSError,))
    return p, url


def tool(tmp, name, script, redis_port, *args):
    env = dict(os.environ, REDIS_HOST="127.0.0.1", REDIS_PORT=str(redis_port))
    out = subprocess.run([PYTHON, os.path.join(PIPELINES, script)] + list(args), env=env,
                         capture_output=True, text=True, timeout=60)
    with open(os.path.join(tmp, name + ".log"), "w") as f:
        f.write(out.stdout + out.stderr)
    return out


def samples(text, name):
    """{frozenset(labels): value} of one metric in an exposition."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^%s(?:\{(.*)\})? (\S+)$" % re.escape(name), line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
            out[labels] = float(m.group(2))
    return out


def rules(tmp):
    out = subprocess.run([PROMTOOL, "check", "rules", ALERTS], capture_output=True, text=True)
    print("  " + (out.stdout + out.stderr).strip().replace("\n", "\n  "))
    assert out.returncode == 0, out.stdout + out.stderr
    path = os.path.join(tmp, "rendered.yml")
    with open(path, "w") as f:
        f.write(render_rules(read(ALERTS)))
    out = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    print("  the rules as the alerts case renders them: %s" % out.stdout.strip().splitlines()[-1])


# The thresholds of docs/prometheus/alerts.yml and the test's: each is found
# exactly once, so a change in the doc shows here.
THRESHOLDS = [
    ("gst_redis_group_oldest_pending_idle_seconds > 45",
     "gst_redis_group_oldest_pending_idle_seconds > 4"),
    ("gst_redis_group_lag > 100", "gst_redis_group_lag > 20"),
    ("gst_redis_stream_last_entry_age_seconds > 10", "gst_redis_stream_last_entry_age_seconds > 3"),
]


def render_rules(text):
    """The rules with test thresholds, every for: 1s (0s stays), every range
    and offset of minutes 15s."""
    for shipped, test in THRESHOLDS:
        assert text.count(shipped) == 1, "%r is not in alerts.yml once" % shipped
        text = text.replace(shipped, test)
    text = re.sub(r"for: (\d+)([smh])", lambda m: "for: %s" % ("0s" if m.group(1) == "0" else "1s"),
                  text)
    text = re.sub(r"\[\d+m\]", "[15s]", text)
    return re.sub(r"offset \d+m", "offset 15s", text)


class Prometheus:
    """A private prometheus: its own directory, a free port, scrape and
    evaluation every second, the exporter as job gst-redis."""

    def __init__(self, tmp, target, rules_text):
        d = os.path.join(tmp, "prometheus")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "rules.yml"), "w") as f:
            f.write(rules_text)
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [rules.yml]\n"
                    "scrape_configs:\n  - job_name: gst-redis\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = spawn([PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
                           "--storage.tsdb.path=" + os.path.join(d, "data"),
                           "--web.listen-address=127.0.0.1:%d" % self.port,
                           "--log.level=warn"], os.path.join(tmp, "prometheus.log"),
                          cwd=d, die_with_parent=True)
        wait_for(lambda: alive(self.proc) and "Ready" in http_get(self.url + "/-/ready"), 60,
                 "prometheus", ignore=(OSError,))

    def api(self, path, **params):
        url = self.url + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        res = json.loads(http_get(url))
        assert res["status"] == "success", res
        return res["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def alerts(self):
        """{(alertname, stream): state} of our rules' alerts."""
        out = {}
        for a in self.api("alerts")["alerts"]:
            key = (a["labels"]["alertname"], a["labels"].get("stream"))
            if out.get(key) != "firing":
                out[key] = a["state"]
        return out


def dashboard_checks(prom, scrape, stream):
    """docs/grafana/dashboard.json: parses; the metrics of every query are in
    the scrape; every query returns data with $camera = stream."""
    dash = json.loads(read(DASHBOARD))
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                exprs.append((p["title"], t["expr"]))
            walk(p.get("panels", []))
    walk(dash["panels"])
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert "camera" in variables and any(p.get("repeat") == "camera" for p in dash["panels"]), \
        "no row repeated per camera"
    query = variables["camera"]["query"]["query"]
    m = re.match(r"label_values\((\w+), (\w+)\)$", query)
    assert m, query
    values = prom.api("label/%s/values" % m.group(2), **{"match[]": m.group(1)})
    assert stream in values, (query, values)
    served = set(re.findall(r"^(gst_redis_\w+)", scrape, re.M))
    missing, empty = [], []
    for title, expr in exprs:
        for name in set(re.findall(r"\b(gst_redis_\w+)", expr)):
            if name not in served:
                missing.append((title, name))
        q = expr.replace("$camera", stream).replace("$__rate_interval", "1m")
        if not prom.query(q):
            empty.append((title, q))
    print("  dashboard: %d panels' queries, %d metrics, checked against a scrape and "
          "Prometheus" % (len(exprs), len({n for _, e in exprs for n in re.findall(
              r"\b(gst_redis_\w+)", e)})))
    assert not missing, "metrics the exporter does not serve: %s" % missing
    assert not empty, "queries without data: %s" % empty


def alerts(tmp):
    srv = RedisServer(tmp)
    rp = srv.port
    exporter, url = start_exporter(tmp, rp)
    prom = Prometheus(tmp, url.split("/")[2], render_rules(read(ALERTS)))
    mi = "metrics-interval=1000"
    relay_port = free_port()
    relay_cmd = [PYTHON, os.path.join(HERE, "tcpproxy.py"), str(relay_port), str(rp)]
    relay = spawn(relay_cmd, os.path.join(tmp, "relay.log"))
    wait_for(lambda: "relaying" in read(os.path.join(tmp, "relay.log")), 20, "the relay")
    p = {}
    p["cam-a"] = launch(tmp, "cam-a", "%s ! redisstreamsink port=%d stream=cam-a %s" % (CAMERA, rp, mi))
    p["proc-a"] = launch(tmp, "proc-a", "redisstreamsrc port=%d stream=cam-a group=processors %s ! "
                         "frameproc operation=invert ! redisstreamsink port=%d stream=cam-a-out %s"
                         % (rp, mi, rp, mi))
    p["cam-b"] = launch(tmp, "cam-b", "%s ! redisstreamsink port=%d stream=cam-b %s" % (CAMERA, rp, mi))
    p["cam-c"] = launch(tmp, "cam-c", "%s ! redisstreamsink port=%d stream=cam-c maxlen=30 %s"
                        % (CAMERA, rp, mi))
    reader_c = "redisstreamsrc port=%d stream=cam-c group=slow %s ! %sfakesink" % (rp, mi, "%s")
    p["reader-c"] = launch(tmp, "reader-c", reader_c % "")
    p["cam-d"] = launch(tmp, "cam-d", "%s ! redisstreamsink port=%d stream=cam-d %s"
                        % (CAMERA, relay_port, mi))
    r = srv.client()

    def healthy():
        if not all(alive(x) for x in p.values()):
            raise AssertionError("a pipeline exited: %s" % [
                (n, read(x.log)[-1500:]) for n, x in p.items() if not alive(x)])
        res = prom.query("count(gst_redis_element_up == 1)")
        return res and int(float(res[0]["value"][1])) == 7
    wait_for(healthy, 90, "7 elements reporting, scraped by prometheus", interval=0.5)
    time.sleep(6)   # rates need a few samples
    scrape = http_get(url)
    print("  scrape: %d bytes, %d samples" % (len(scrape), sum(
        1 for line in scrape.splitlines() if line and not line.startswith("#"))))
    dashboard_checks(prom, scrape, "cam-a")
    # a healthy system fires nothing
    end = time.monotonic() + 5
    while time.monotonic() < end:
        active = prom.alerts()
        assert not active, "alerts on a healthy system: %s" % active
        time.sleep(0.5)
    print("  healthy: no alert pending or firing for 5 s")

    required = {("GstRedisConsumerStuck", "cam-a"), ("GstRedisLagGrowing", "cam-a"),
                ("GstRedisCameraStopped", "cam-b"), ("GstRedisFramesTrimmedUnread", "cam-c"),
                ("GstRedisDropsDuringOutage", "cam-d")}
    # what the faults also cause: the processor's output stops with it,
    # the slow reader's lag grows too, the camera behind the relay stops
    # adding while cut
    allowed = required | {("GstRedisCameraStopped", "cam-a-out"),
                          ("GstRedisLagGrowing", "cam-c"),
                          ("GstRedisCameraStopped", "cam-d")}
    t0 = time.monotonic()
    os.killpg(p["proc-a"].pid, signal.SIGSTOP)
    stop(p.pop("cam-b"))
    stop(p.pop("reader-c"))
    p["reader-c"] = launch(tmp, "reader-c-slow", reader_c % "identity sleep-time=200000 ! ")
    stop(relay, signal.SIGKILL)
    cut = time.monotonic()
    fired = {}

    def watch():
        if "relay" not in p and time.monotonic() - cut > 3:
            p["relay"] = spawn(relay_cmd, os.path.join(tmp, "relay.log"))
        for key, state in prom.alerts().items():
            if state == "firing" and key not in fired:
                fired[key] = time.monotonic() - t0
                print("  %-30s %-10s firing %.1f s after the fault" % (key[0], key[1], fired[key]))
        extra = set(fired) - allowed
        assert not extra, "alerts that should not fire: %s" % extra
        return required <= set(fired)
    wait_for(watch, 120, "every alert to fire (fired: %s)" % fired, interval=0.25)
    print("  fault -> firing (rules rendered: thresholds and for: shorter, 15 s windows, "
          "scrape and evaluation every 1 s):")
    for key in sorted(required):
        print("    %-30s %5.1f s" % (key[0], fired[key]))

    # recovery
    t1 = time.monotonic()
    os.killpg(p["proc-a"].pid, signal.SIGCONT)
    p["cam-b"] = launch(tmp, "cam-b-again", "%s ! redisstreamsink port=%d stream=cam-b %s"
                        % (CAMERA, rp, mi))
    stop(p.pop("reader-c"))
    p["reader-c"] = launch(tmp, "reader-c-again", reader_c % "")
    cleared = {}

    def all_clear():
        active = prom.alerts()
        for key in fired:
            if key not in active and key not in cleared:
                cleared[key] = time.monotonic() - t1
                print("  %-30s %-10s cleared %.1f s after the recovery" % (key[0], key[1],
                                                                        cleared[key]))
        assert not set(active) - allowed, "alerts that should not fire: %s" % active
        return not active
    wait_for(all_clear, 120, "every alert to clear", interval=0.25)
    assert all(alive(x) for x in p.values()), [n for n, x in p.items() if not alive(x)]

    # Redis away: only the exporter can tell
    t2 = time.monotonic()
    srv.stop()
    wait_for(lambda: prom.alerts().get(("GstRedisUnreachable", None)) == "firing", 60,
             "GstRedisUnreachable")
    print("  %-30s %-10s firing %.1f s after redis-server stopped" % (
        "GstRedisUnreachable", "", time.monotonic() - t2))
    srv.start()
    t3 = time.monotonic()
    wait_for(lambda: ("GstRedisUnreachable", None) not in prom.alerts(), 60,
             "GstRedisUnreachable to clear")
    print("  %-30s %-10s cleared %.1f s after redis-server started again" % (
        "GstRedisUnreachable", "", time.monotonic() - t3))
    for name, x in p.items():
        stop(x)
    stop(prom.proc)
    stop(exporter)
    assert r is not None


def reports_case(tmp):
    srv = RedisServer(tmp)
    rp = srv.port
    r = srv.client()
    host = socket.gethostname()
    cam = launch(tmp, "cam", "%s ! redisstreamsink name=cam port=%d stream=rep metrics-interval=500"
                 % (CAMERA, rp))
    rd = launch(tmp, "reader", "redisstreamsrc name=rd port=%d stream=rep group=g "
                "metrics-interval=500 ! fakesink" % rp)
    sink = wait_for(lambda: report_of(r, "sink", "rep"), 30, "the sink's report")
    src = wait_for(lambda: (report_of(r, "src", "rep") or {}).get("stats", {}).get("frames")
                   and report_of(r, "src", "rep"), 30, "the source's report with frames")
    assert sink["key"] == "gst-redis:metrics:{rep}:%s:%d:pipeline0:cam" % (host, cam.pid), sink["key"]
    assert sink["labels"] == {"host": host, "pid": str(cam.pid), "pipeline": "pipeline0",
                              "element": "cam", "db": "db0", "stream": "rep"}, sink["labels"]
    assert src["labels"] == {"host": host, "pid": str(rd.pid), "pipeline": "pipeline0",
                             "element": "rd", "db": "db0", "stream": "rep", "group": "g",
                             "consumer": "%s-%d" % (host, rd.pid)}, src["labels"]
    ttl = r.pttl(src["key"])
    assert 0 < ttl <= 3 * 500 + 1000, ttl
    ttl = r.pttl(sink["key"])
    assert 0 < ttl <= 3 * 500, ttl
    time.sleep(1.2)
    later = report_of(r, "src", "rep")
    assert later["time"] > src["time"] and later["stats"]["frames"] > src["stats"]["frames"], \
        (src, later)
    hist = later["latency"]
    assert hist["count"] == later["stats"]["frames"] and hist["buckets"][-1] == hist["count"], hist
    assert hist["buckets"] == sorted(hist["buckets"]) and len(hist["le"]) + 1 == len(hist["buckets"])
    print("  keys, labels, TTL, counters and histogram as documented (%d frames read, %d within "
          "5 ms)" % (hist["count"], hist["buckets"][hist["le"].index("0.005")]))

    # a reader killed: its report expires, nothing says stopped
    key = later["key"]
    stop(rd, signal.SIGKILL)
    t = time.monotonic()
    wait_for(lambda: not r.exists(key), 10, "the killed reader's report to expire")
    print("  SIGKILLed reader: report gone after %.1f s (TTL %d ms)" % (
        time.monotonic() - t, 3 * 500 + 1000))
    # a camera stopped: its last report says so
    stop(cam)
    last = json.loads(r.get(sink["key"]))
    assert last.get("stopped") is True and last["stats"]["frames"] > 0, last
    print("  stopped camera: last report marked stopped, %d frames" % last["stats"]["frames"])

    # across a restart of redis-server the reports and the frames go on
    r.flushall()
    cam = launch(tmp, "cam2", "%s ! redisstreamsink name=cam port=%d stream=rep metrics-interval=200"
                 % (CAMERA, rp))
    rd = launch(tmp, "reader2", "redisstreamsrc name=rd port=%d stream=rep group=g "
                "metrics-interval=200 ! fakesink" % rp)
    wait_for(lambda: (report_of(r, "src", "rep") or {}).get("stats", {}).get("frames", 0) > 10,
             30, "frames read")
    srv.stop()
    time.sleep(0.5)
    srv.start()
    r = srv.client()

    def after_restart():
        s = report_of(r, "src", "rep")
        k = report_of(r, "sink", "rep")
        return (s and k and s["stats"]["reconnects"] >= 1 and k["stats"]["reconnects"] >= 1
                and s["stats"]["frames"] > 10 and s)
    first = wait_for(after_restart, 30, "reports after the restart")
    time.sleep(1)
    again = report_of(r, "src", "rep")
    assert again["stats"]["frames"] > first["stats"]["frames"], (first["stats"], again["stats"])
    assert alive(cam) and alive(rd), read(cam.log)[-2000:] + read(rd.log)[-2000:]
    assert "ERROR" not in read(rd.log) + read(cam.log)
    print("  redis-server restarted: reports and frames go on (reader: %d reconnects, %.0f ms "
          "without a connection)" % (again["stats"]["reconnects"],
                                     again["stats"]["disconnected-time"]))
    stop(cam)
    stop(rd)
    r.flushall()
    cam = launch(tmp, "cam3", "%s ! redisstreamsink port=%d stream=off metrics-interval=0"
                 % (CAMERA, rp))
    wait_for(lambda: r.exists("off") and r.xlen("off") > 10, 30, "frames")
    assert not reports(r), reports(r)
    stop(cam)
    print("  metrics-interval=0: no report")


def monitor_case(tmp):
    srv = RedisServer(tmp)
    rp = srv.port
    r = srv.client()
    cam = launch(tmp, "cam", "%s ! redisstreamsink port=%d stream=mon" % (CAMERA, rp))
    wait_for(lambda: r.exists("mon"), 30, "the stream")
    procs = {}
    # killed holds the first frame it pushed for 20 s: its entry is pending;
    # clean's fakesink (like a display) rendered its last frame, which is
    # acknowledged as it stops: nothing pending; stopped's appsink still
    # held its 3 frames for an application that took none: those entries
    # stay pending (docs/redisstreamsrc.md, what stays pending after a stop)
    for name, extra, down in [("running", "", ""),
                              ("clean", "", ""),
                              ("stopped", "num-buffers=3 ", ""),
                              ("killed", "", "identity sleep-time=20000000 ! ")]:
        sink = "appsink wait-on-eos=false" if name == "stopped" else "fakesink"
        procs[name] = launch(tmp, name, "redisstreamsrc port=%d stream=mon group=g consumer=%s "
                             "claim-idle-time=0 %s! %s%s" % (rp, name, extra, down, sink))
    r.xgroup_create("mon", "export-1", id="0")
    wait_for(lambda: procs["stopped"].poll() is not None, 30, "the num-buffers=3 reader to stop")

    def consumers():
        return {c["name"].decode(): c["pending"] for c in r.xinfo_consumers("mon", "g")}
    wait_for(lambda: consumers().get("killed") == 1, 30, "the reader to hold an entry")
    os.killpg(procs["killed"].pid, signal.SIGKILL)
    stop(procs.pop("killed"))
    stop(procs.pop("clean"))
    assert "clean" not in consumers(), consumers()
    assert consumers().get("stopped") == 3, consumers()
    # the killed reader's report expires (3 x 5 s + block)
    wait_for(lambda: not report_of(r, "src", "mon", consumer="killed"), 30,
             "the killed reader's report to expire")
    out = tool(tmp, "monitor", "monitor", rp, "--once", "--stream", "mon")
    print("  " + out.stdout.replace("\n", "\n  ").rstrip())
    assert out.returncode == 0, out.stderr
    text = out.stdout
    m = re.search(r"stream mon: length \d+, memory [^,]+, added \d+ \(([\d.]+)/s\)", text)
    assert m and 10 < float(m.group(1)) < 20, "no rate of 15/s from --once: %s" % text
    assert re.search(r"group g .*entries-read \d+ \(1\d\.\d/s\)", text), text
    lines = {n: next((l for l in text.splitlines() if "consumer %s " % n in l), "")
             for n in ("running", "stopped", "killed", "clean")}
    assert lines["running"].rstrip().endswith("running"), lines
    assert re.search(r"stopped [\d.]+ (ms|s) ago; its 3 pending entries wait", lines["stopped"]), lines
    assert "gone (no report" in lines["killed"] and "its 1 pending entry waits" in lines["killed"], lines
    assert lines["clean"] == "", lines
    assert "group export-1" in text and "no consumers: nobody reads this group now" in text, text
    assert "STOPPED frames 3" in text, text
    out = tool(tmp, "exporter", "exporter", rp, "--once", "--stream", "mon")
    rep = {dict(k)["consumer"]: v for k, v in samples(out.stdout, "gst_redis_consumer_reporting").items()}
    assert rep == {"running": 1, "stopped": 0, "killed": 0}, rep
    print("  exporter: gst_redis_consumer_reporting %s" % rep)
    for x in procs.values():
        stop(x)
    stop(cam)


def trace(tmp):
    srv = RedisServer(tmp)
    rp = srv.port
    r = srv.client()
    host = socket.gethostname()
    mi = "metrics-interval=500"
    proc = launch(tmp, "processor", "redisstreamsrc port=%d stream=t-in group=p %s ! "
                  "frameproc operation=invert ! redisstreamsink port=%d stream=t-out %s"
                  % (rp, mi, rp, mi))
    view = launch(tmp, "viewer", "redisstreamsrc port=%d stream=t-out group=v %s ! "
                  "videoconvert ! jpegenc ! fakesink" % (rp, mi))
    wait_for(lambda: r.exists("t-in") and r.exists("t-out"), 30, "the groups")
    cam = launch(tmp, "camera", "%s ! redisstreamsink port=%d stream=t-in trace-interval=200 %s"
                 % (CAMERA, rp, mi))

    def traced(stream):
        return [(eid, json.loads(f[b"trace"]), int(f[b"capture-time"]))
                for eid, f in r.xrange(stream) if b"trace" in f]
    wait_for(lambda: len(traced("t-out")) >= 5, 30, "traced frames in t-out")
    n_in, n_out = len(r.xrange("t-in")), len(r.xrange("t-out"))
    tin, tout = traced("t-in"), traced("t-out")
    # one frame in about 3 (15 fps, a trace every 200 ms), every one of
    # them continued by the processor
    assert 0 < len(tin) < n_in, (len(tin), n_in)
    for eid, stamps, capture in tout:
        assert [s[:3] for s in stamps] == [["w", "t-in", host], ["r", "t-in", host],
                                           ["w", "t-out", host]], stamps
        times = [int(s[3]) for s in stamps]
        assert capture <= times[0] <= times[1] <= times[2], (capture, times)
    print("  %d of %d frames of t-in traced, %d in t-out, e.g. %s" % (
        len(tin), n_in, len(tout), json.dumps(tout[-1][1])))

    def stages():
        rep = report_of(r, "src", "t-out")
        st = {x["stage"]: x for x in rep["trace"]["stages"]} if rep else {}
        return rep if set(st) == {"write t-in", "read t-in", "write t-out", "read t-out"} \
            and all(x["count"] >= 3 for x in st.values()) and rep["trace"].get("last") else None
    rep = wait_for(stages, 30, "the viewer's report of four stages")
    last = rep["trace"]["last"]
    assert [s[:2] for s in last["stamps"]] == [["w", "t-in"], ["r", "t-in"], ["w", "t-out"],
                                                ["r", "t-out"]], last
    assert report_of(r, "sink", "t-in")["trace"]["started"] >= 3
    assert report_of(r, "sink", "t-out")["trace"]["started"] == 0, "a processor starts no trace"
    print("  the viewer's report: %s" % ", ".join(
        "%s %.2f ms (%d)" % (x["stage"], x["sum"] / x["count"] * 1000, x["count"])
        for x in rep["trace"]["stages"]))
    out = tool(tmp, "monitor", "monitor", rp, "--once", "--trace", "--stream", "t-in",
               "--stream", "t-out")
    assert out.returncode == 0, out.stderr
    text = out.stdout[out.stdout.index("trace t-out"):]
    print("  " + text.replace("\n", "\n  ").rstrip())
    for want in ("capture", "write t-in", "read t-in", "write t-out (processing)", "read t-out",
                 "average, %s" % host):
        assert want in text, (want, text)
    exp = tool(tmp, "exporter", "exporter", rp, "--once")
    counts = {dict(k)["stage"]: v for k, v in samples(
        exp.stdout, "gst_redis_src_trace_stage_seconds_count").items()
        if dict(k)["stream"] == "t-out"}
    assert set(counts) == {"write t-in", "read t-in", "write t-out", "read t-out"}, counts

    # traces another program wrote: a valid one counts, a broken one is
    # dropped and counted, the frames play
    stop(cam)
    stop(view)
    frame = {"v": "1", "caps": "video/x-raw,format=I420,width=16,height=16,framerate=30/1",
             "encoding": "none", "data": b"\x80" * (16 * 16 * 3 // 2)}
    reader = launch(tmp, "reader", "redisstreamsrc port=%d stream=t-ext group=g start-id=0 "
                    "%s ! fakesink" % (rp, mi))
    now = time.time_ns()
    good = json.dumps([["w", "t-ext", "elsewhere", str(now)]])
    bad = ["not json", json.dumps({"w": 1}), json.dumps([["w", "t-ext", "h"]]),
           json.dumps([["x", "t-ext", "h", "1"]]), json.dumps([["w", "t-ext", "h", "12a"]]),
           json.dumps([["w", "t-ext", "h", str(now)]] * 33), "[" + " " * 4100 + "]"]
    r.xadd("t-ext", dict(frame, **{"capture-time": str(now - 1000000), "trace": good}))
    for b in bad:
        r.xadd("t-ext", dict(frame, trace=b))

    def counted():
        rep = report_of(r, "src", "t-ext")
        return rep if rep and rep["stats"]["frames"] == 1 + len(bad) else None
    rep = wait_for(counted, 30, "the reader to play the %d frames" % (1 + len(bad)))
    assert rep["trace"]["invalid"] == len(bad), rep["trace"]
    assert {x["stage"] for x in rep["trace"]["stages"]} == {"write t-ext", "read t-ext"}, rep
    assert rep["stats"]["skipped-invalid"] == 0, rep["stats"]
    print("  another program's traces: 1 valid counted, %d broken ones dropped and counted "
          "(trace.invalid), every frame played" % len(bad))
    stop(reader)
    # trace-interval=0: nothing traced
    r.delete("t-in")
    cam = launch(tmp, "camera-0", "%s ! redisstreamsink port=%d stream=t-in trace-interval=0"
                 % (CAMERA, rp))
    wait_for(lambda: r.exists("t-in") and r.xlen("t-in") > 20, 30, "frames")
    assert not traced("t-in")
    print("  trace-interval=0: no frame traced")
    for x in (cam, proc):
        stop(x)


def main():
    cases = [rules, reports_case, monitor_case, trace, alerts]
    for c in cases:
        c.__name__ = c.__name__.replace("_case", "")
    cases_runner.install_signal_handlers(stop_all)
    return cases_runner.run_cases(cases, sys.argv[1:], "monitoring", stop_all)


if __name__ == "__main__":
    sys.exit(main())
