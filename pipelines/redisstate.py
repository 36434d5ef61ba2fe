"""What pipelines/monitor and pipelines/exporter read from Redis: one
snapshot of the video streams, their consumer groups and consumers, and the
metrics reports the elements write (docs/monitoring.md).

A snapshot takes two pipelined round trips plus the SCANs, whatever the
number of streams: TIME, then per stream a small read-only script (EVAL_RO)
that returns XINFO STREAM's figures without the first and last entries'
frames, MEMORY USAGE and XINFO GROUPS; then per group the oldest pending
entry (XPENDING - + 1) and XINFO CONSUMERS. The element reports
(gst-redis:metrics:*, JSON) are found with SCAN and read with MGET.

Without the right to run EVAL_RO (or before Redis 7), XINFO STREAM is used
instead, which also transfers the first and last entries (two frames per
stream): said once on stderr.

Needs Debian's python3-redis. Used by the scripts of this directory only.
"""

import json
import os
import ssl
import sys

try:
    import redis
except ImportError:
    redis = None  # --help works without it; the scripts say what is missing

METRICS_PREFIX = "gst-redis:metrics:"

# XINFO STREAM's figures and the last entry's capture-time, without sending
# the entries themselves (frames) back.
STREAM_SCRIPT = """
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local out = {}
for i = 1, #info, 2 do
  local k, v = info[i], info[i + 1]
  if k == 'first-entry' or k == 'last-entry' then
    if type(v) == 'table' then
      out[#out + 1] = k .. '-id'
      out[#out + 1] = v[1]
      if k == 'last-entry' and type(v[2]) == 'table' then
        for j = 1, #v[2], 2 do
          if v[2][j] == 'capture-time' then
            out[#out + 1] = 'last-capture-time'
            out[#out + 1] = v[2][j + 1]
          end
        end
      end
    end
  elseif type(v) == 'number' or type(v) == 'string' then
    out[#out + 1] = k
    out[#out + 1] = v
  end
end
return out
"""


def s(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def pairs(reply):
    """A flat [name, value, ...] reply as a dict with text keys."""
    if not isinstance(reply, (list, tuple)):
        return {}
    return {s(reply[i]): reply[i + 1] for i in range(0, len(reply) - 1, 2)}


def as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def id_ms(entry_id):
    """The millisecond part of an entry id (Redis's clock when added)."""
    try:
        return int(s(entry_id).split("-")[0])
    except (AttributeError, ValueError):
        return None


def env(name, default=None):
    return os.environ.get(name) or default


def password(prog):
    path = env("REDIS_PASSWORD_FILE")
    if path and env("REDIS_PASSWORD"):
        sys.exit("%s: both REDIS_PASSWORD_FILE and REDIS_PASSWORD are set: set one" % prog)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                value = f.readline().strip()
        except OSError as e:
            sys.exit("%s: cannot read REDIS_PASSWORD_FILE %s: %s" % (prog, path, e.strerror))
        if not value:
            sys.exit("%s: REDIS_PASSWORD_FILE %s is empty" % (prog, path))
        return value
    return env("REDIS_PASSWORD")


def tls_connection_class():
    class TLSConnection(redis.Connection):
        """A redis-py connection over TLS that verifies the server as the
        elements do: its certificate against tls_ca_file (or the system's
        CAs) and the name tls_server_name (or the host) in it. redis-py's
        own SSLConnection checks no name by default and cannot check
        another name than the host's."""

        def __init__(self, tls_ca_file=None, tls_server_name=None, tls_cert_file=None,
                     tls_key_file=None, **kw):
            super().__init__(**kw)
            self.tls_context = ssl.create_default_context(cafile=tls_ca_file)
            if tls_cert_file:
                self.tls_context.load_cert_chain(tls_cert_file, tls_key_file)
            self.tls_server_name = tls_server_name or self.host

        def _connect(self):
            sock = super()._connect()
            try:
                return self.tls_context.wrap_socket(sock, server_hostname=self.tls_server_name)
            except (ssl.SSLError, ssl.CertificateError) as e:
                sock.close()
                raise redis.ConnectionError(
                    "TLS to %s:%s failed: %s (REDIS_TLS_CA_FILE, REDIS_TLS_SERVER_NAME)"
                    % (self.host, self.port, e))
            except OSError:
                sock.close()
                raise
    return TLSConnection


def connect(prog):
    """The server of the environment, as the stage scripts read it
    (pipelines/common.sh): REDIS_SOCKET, or REDIS_HOST/REDIS_PORT with
    REDIS_TLS and its files; REDIS_USER (or REDIS_USERNAME),
    REDIS_PASSWORD_FILE or REDIS_PASSWORD, REDIS_DB. Returns (client,
    description); exits with a message naming @prog on settings that
    cannot work."""
    kw = dict(password=password(prog),
              username=env("REDIS_USER") or env("REDIS_USERNAME"),
              db=int(env("REDIS_DB", "0")),
              socket_timeout=5, socket_connect_timeout=5)
    tls = env("REDIS_TLS", "0") in ("1", "true", "yes")
    sock = env("REDIS_SOCKET")
    if sock:
        if tls:
            sys.exit("%s: REDIS_TLS=1 with REDIS_SOCKET: Redis never speaks TLS "
                     "on a unix socket" % prog)
        return redis.Redis(unix_socket_path=sock, **kw), "unix:" + sock
    host = env("REDIS_HOST", "127.0.0.1")
    port = int(env("REDIS_PORT", "6379"))
    where = "%s:%d" % (host, port)
    if not tls:
        for name in ("REDIS_TLS_CA_FILE", "REDIS_TLS_SERVER_NAME", "REDIS_TLS_CERT_FILE",
                     "REDIS_TLS_KEY_FILE"):
            if env(name):
                sys.exit("%s: %s is set but REDIS_TLS is not 1" % (prog, name))
        return redis.Redis(host=host, port=port, **kw), where
    try:
        pool = redis.ConnectionPool(
            connection_class=tls_connection_class(), host=host, port=port,
            tls_ca_file=env("REDIS_TLS_CA_FILE"), tls_server_name=env("REDIS_TLS_SERVER_NAME"),
            tls_cert_file=env("REDIS_TLS_CERT_FILE"), tls_key_file=env("REDIS_TLS_KEY_FILE"),
            **kw)
        pool.make_connection()   # the files are read here: fail at once
    except (OSError, ssl.SSLError) as e:
        sys.exit("%s: TLS settings: %s" % (prog, e))
    return redis.Redis(connection_pool=pool), "%s (TLS)" % where


class Reader:
    """Takes snapshots of one Redis database; keeps what it learnt (whether
    the stream script may run) between them."""

    def __init__(self, r, streams=None):
        self.r = r
        # the extended form's reply, as Redis sends it
        r.set_response_callback("XPENDING", lambda reply, **kw: reply)
        self.db = r.connection_pool.connection_kwargs.get("db", 0)
        self.streams = streams
        self.use_script = True

    def stream_names(self):
        if self.streams:
            return list(self.streams)
        return sorted(s(k) for k in self.r.scan_iter(_type="STREAM", count=1000))

    def reports(self):
        keys = list(self.r.scan_iter(match=METRICS_PREFIX + "*", count=1000))
        found = []
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            for key, value in zip(batch, self.r.mget(batch)):
                if value is None:
                    continue            # expired meanwhile
                try:
                    rep = json.loads(value)
                    rep["labels"] = {str(k): str(v) for k, v in rep["labels"].items()}
                    rep["key"] = s(key)
                    found.append(rep)
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue            # not a report of ours
        return found

    def _stream_figures(self, pipe, name):
        if self.use_script:
            pipe.execute_command("EVAL_RO", STREAM_SCRIPT, 1, name)
        else:
            pipe.execute_command("XINFO", "STREAM", name)

    def snapshot(self, with_reports=True):
        """A dict: time (Redis's clock, s), db, streams (list of dicts,
        each with its groups and their consumers), reports (the elements'
        metrics reports), errors (commands Redis refused, as text: the
        figures they give are missing)."""
        names = self.stream_names()
        pipe = self.r.pipeline(transaction=False)
        pipe.execute_command("TIME")
        for name in names:
            self._stream_figures(pipe, name)
            pipe.execute_command("MEMORY", "USAGE", name)
            pipe.execute_command("XINFO", "GROUPS", name)
        res = pipe.execute(raise_on_error=False)
        if isinstance(res[0], Exception):
            raise res[0]
        now = int(res[0][0]) + int(res[0][1]) / 1e6
        refused = [res[1 + 3 * i] for i in range(len(names))
                   if is_refused(res[1 + 3 * i])]
        if self.use_script and refused:
            err = refused[0]
            print("redisstate: EVAL_RO refused (%s): using XINFO STREAM, which "
                  "also sends the first and last entries" % err, file=sys.stderr)
            self.use_script = False
            return self.snapshot(with_reports)

        streams = []
        errors = []

        def refused(what, err):
            if isinstance(err, Exception) and not is_missing(err):
                text = "%s: %s" % (what, err)
                if text not in errors:
                    errors.append(text)

        for i, name in enumerate(names):
            fig, mem, groups = res[1 + 3 * i:4 + 3 * i]
            refused("XINFO STREAM %s" % name, fig)
            refused("MEMORY USAGE %s" % name, mem)
            refused("XINFO GROUPS %s" % name, groups)
            st = {"name": name, "exists": not isinstance(fig, Exception),
                  "error": None, "groups": []}
            streams.append(st)
            if isinstance(fig, Exception):
                if not is_missing(fig):
                    st["error"] = str(fig)
                continue
            info = pairs(fig)
            if not self.use_script:
                for k in ("first-entry", "last-entry"):
                    e = info.get(k)
                    if e:
                        info[k + "-id"] = e[0]
                        if k == "last-entry":
                            info["last-capture-time"] = pairs(e[1]).get("capture-time")
            st.update(length=as_int(info.get("length")),
                      entries_added=as_int(info.get("entries-added")),
                      last_id=s(info.get("last-generated-id")),
                      first_entry_id=s(info.get("first-entry-id")),
                      last_entry_id=s(info.get("last-entry-id")),
                      last_capture_ns=as_int(s(info.get("last-capture-time"))),
                      memory=None if isinstance(mem, Exception) else as_int(mem),
                      memory_error=str(mem) if isinstance(mem, Exception) else None)
            if isinstance(groups, Exception):
                st["error"] = str(groups)
                continue
            for g in groups:
                g = pairs(g)
                st["groups"].append({
                    "name": s(g.get("name")),
                    "consumers": as_int(g.get("consumers")),
                    "pending": as_int(g.get("pending")),
                    "last_delivered": s(g.get("last-delivered-id")),
                    "entries_read": as_int(g.get("entries-read")),
                    "lag": as_int(g.get("lag")),
                    "oldest_pending_id": None, "oldest_pending_idle_ms": None,
                    "oldest_pending_deliveries": None,
                    "consumer_list": []})

        pipe = self.r.pipeline(transaction=False)
        todo = [(st, g) for st in streams for g in st["groups"]]
        for st, g in todo:
            pipe.execute_command("XPENDING", st["name"], g["name"], "-", "+", 1)
            pipe.execute_command("XINFO", "CONSUMERS", st["name"], g["name"])
        res = pipe.execute(raise_on_error=False) if todo else []
        for i, (st, g) in enumerate(todo):
            pend, cons = res[2 * i], res[2 * i + 1]
            refused("XPENDING %s %s" % (st["name"], g["name"]), pend)
            refused("XINFO CONSUMERS %s %s" % (st["name"], g["name"]), cons)
            if isinstance(pend, list) and pend:
                e = pend[0]
                g["oldest_pending_id"] = s(e[0])
                g["oldest_pending_idle_ms"] = as_int(e[2])
                g["oldest_pending_deliveries"] = as_int(e[3])
            if isinstance(cons, list):
                for c in cons:
                    c = pairs(c)
                    g["consumer_list"].append({"name": s(c.get("name")),
                                               "pending": as_int(c.get("pending")),
                                               "idle_ms": as_int(c.get("idle"))})
        return {"time": now, "db": self.db, "streams": streams, "errors": errors,
                "reports": self.reports() if with_reports else []}


def is_refused(err):
    """EVAL_RO not allowed to this user, or not known (Redis before 7)."""
    text = str(err).lower()
    # redis-py drops the NOPERM code from the text of a NoPermissionError
    return isinstance(err, Exception) and ("noperm" in text or "no permissions" in text
                                           or "unknown command" in text)


def is_missing(err):
    """XINFO on a key that does not exist."""
    return "no such key" in str(err).lower()


def reporting_consumers(snap):
    """(stream, group, consumer) -> the report of every source whose report
    is in Redis: running, or stopped (its "stopped" is true: the last
    report, written at stop, kept a day when the consumer stayed in its
    group with entries pending). One that died leaves none once its report
    expired."""
    return {(r["labels"].get("stream"), r["labels"].get("group"),
             r["labels"].get("consumer")): r
            for r in snap["reports"] if r.get("kind") == "src"}
