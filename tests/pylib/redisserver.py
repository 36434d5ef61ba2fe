"""A private redis-server for a test script, shared by tests/e2e,
tests/examples, tests/interop, tests/reliability and tests/cluster.

Each server runs in its own directory under the test's temporary directory,
with no persistence unless the extra arguments ask for it, on a free TCP port
of 127.0.0.1 or (unix=True) on a unix socket only. It is started with
procs.spawn () and stopped by its PID (procs.stop), never by name; it also
dies with the script (PR_SET_PDEATHSIG), so a test killed by a timeout leaves
no server behind.
"""

import os
import shutil
import signal

import redis

from procs import free_port, read, spawn, stop, wait_for

REDIS_SERVER = (os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
                or "redis-server")


class RedisServer:
    """redis-server in tmp/<name>, its log in tmp/<name>.log.

    extra: more redis-server arguments ("--appendonly", "yes", ...).
    unix: listen on tmp/<name>/redis.sock only (port 0), else on a free
    port of 127.0.0.1; with tcp=True as well, on both (client () then
    uses the socket). sentinel_conf: run as a Sentinel with this
    configuration text (port, bind and dir are written first).
    tls: a tlscerts.Certs: serve TLS only (tls-port, port 0) on port, with
    its server certificate (tls_cert, tls_auth_clients); replication, the
    cluster bus and a sentinel's connections use TLS too, and client ()
    connects with TLS."""

    def __init__(self, tmp, *extra, name="redis", unix=False, tcp=None,
                 sentinel_conf=None, start=True, tls=None, tls_cert="server",
                 tls_auth_clients=False):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "redis.sock") if unix else None
        if tcp is None:
            tcp = not unix
        self.port = free_port() if tcp else 0
        self.log = self.logfile = os.path.join(tmp, name + ".log")
        self.extra = list(extra)
        self.sentinel_conf = sentinel_conf
        self.tls = tls
        self.tls_cert = tls_cert
        self.tls_auth_clients = tls_auth_clients
        self.proc = None
        if start:
            self.start()

    def _args(self):
        if self.sentinel_conf is not None:
            path = os.path.join(self.dir, "sentinel.conf")
            with open(path, "w") as f:
                if self.tls:
                    f.write("port 0\ntls-port %d\n" % self.port + self.tls.server_conf(
                        self.tls_cert, self.tls_auth_clients))
                else:
                    f.write("port %d\n" % self.port)
                f.write("bind 127.0.0.1\ndir %s\n" % self.dir + self.sentinel_conf)
            return [REDIS_SERVER, path, "--sentinel"]
        if self.tls:
            listen = ["--port", "0", "--tls-port", str(self.port)] + self.tls.server_args(
                self.tls_cert, self.tls_auth_clients)
        else:
            listen = ["--port", str(self.port)]
        args = [REDIS_SERVER] + listen + ["--dir", self.dir,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--logfile", ""]
        if self.sock:
            args += ["--unixsocket", self.sock, "--unixsocketperm", "700"]
        if self.port:
            args += ["--bind", "127.0.0.1"]
        return args + self.extra

    def start(self):
        """Starts the server (again, on the same port or socket) and waits
        until it answers PING. A server that exits at once because its free
        port was taken meanwhile is retried on another port."""
        for attempt in range(5):
            self.proc = spawn(self._args(), self.log, die_with_parent=True)
            try:
                wait_for(self.ping, 20, "%s (%s)" % (self.name, self.where()))
                return
            except AssertionError:
                taken = "Address already in use" in read(self.log)
                if not self.port or not taken or attempt == 4:
                    raise
                stop(self.proc)
                self.port = free_port()

    def where(self):
        return " and ".join(
            ([("unix:" + self.sock)] if self.sock else [])
            + (["%sport %d" % ("TLS " if self.tls else "", self.port)] if self.port else []))

    def ping(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited:\n%s" % (self.name, read(self.log)))
        try:
            # while an AOF loads, PING answers -LOADING (BusyLoadingError)
            return self.client(socket_timeout=5).ping()
        except (redis.RedisError, OSError):
            return False

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        if self.sock:
            return redis.Redis(unix_socket_path=self.sock, **kw)
        if self.tls:
            kw.update(self.tls.client_kw())
            if self.tls_auth_clients:
                kw.update(ssl_certfile=self.tls.path("client.crt"),
                          ssl_keyfile=self.tls.path("client.key"))
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the server by its PID and returns its exit status."""
        return stop(self.proc, sig, timeout=timeout)

    def kill(self):
        return self.stop(signal.SIGKILL)
