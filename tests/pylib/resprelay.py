"""A TCP relay between a Redis client and a real redis-server that reads
the client's commands (RESP2) and can run something of its own at a chosen
point between two of them, after Redis has answered every command before
that point: what another client's commands do between two commands of a
pipeline, made certain instead of left to the scheduler.

  relay = RespRelay(redis_port, hook)
  relay.start()        # listens on relay.port

hook(conn, args) is called in the relay's thread of a client connection
before each command of it goes on (args: the command's arguments, bytes);
it returns None to let the command go on at once, or a callable, which the
relay runs once Redis has answered every command of that connection sent
before, and then lets the command go on. conn is a dict the hook may keep
the connection's state in. Stop it with stop()."""

import socket
import threading


def resp_end(buf, i=0):
    """The end of the RESP2 value starting at buf[i], or None while it is
    not all there."""
    if i >= len(buf):
        return None
    j = buf.find(b"\r\n", i)
    if j < 0:
        return None
    kind = buf[i:i + 1]
    if kind in (b"+", b"-", b":"):
        return j + 2
    n = int(buf[i + 1:j])
    if kind == b"$":
        end = j + 2 + (n + 2 if n >= 0 else 0)
        return end if len(buf) >= end else None
    if kind == b"*":
        k = j + 2
        for _ in range(max(n, 0)):
            k = resp_end(buf, k)
            if k is None:
                return None
        return k
    raise ValueError("not RESP2: %r" % buf[i:i + 20])


def command_args(buf, end):
    """The arguments of the command (an array of bulk strings) in buf[:end]."""
    args, j = [], buf.find(b"\r\n") + 2
    while j < end:
        k = buf.find(b"\r\n", j)
        n = int(buf[j + 1:k])
        args.append(bytes(buf[k + 2:k + 2 + n]))
        j = k + 2 + n + 2
    return args


class RespRelay(threading.Thread):
    def __init__(self, redis_port, hook):
        super().__init__(daemon=True)
        self.redis_port = redis_port
        self.hook = hook
        self.errors = []
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.socks = []

    def run(self):
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.redis_port))
            except OSError:
                client.close()
                continue
            self.socks += [client, upstream]
            state = {"sent": 0, "answered": 0, "cv": threading.Condition()}
            threading.Thread(target=self._commands, args=(client, upstream, state),
                             daemon=True).start()
            threading.Thread(target=self._replies, args=(upstream, client, state),
                             daemon=True).start()

    def _commands(self, client, upstream, state):
        buf, conn = b"", {}
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    end = resp_end(buf)
                    if end is None:
                        break
                    action = self.hook(conn, command_args(buf, end))
                    if action is not None:
                        with state["cv"]:
                            if not state["cv"].wait_for(
                                    lambda: state["answered"] >= state["sent"], 30):
                                raise TimeoutError("Redis did not answer in 30 s")
                        action()
                    with state["cv"]:
                        state["sent"] += 1
                    upstream.sendall(buf[:end])
                    buf = buf[end:]
        except Exception as e:      # noqa: BLE001 (reported by the test)
            if not isinstance(e, OSError):
                self.errors.append(repr(e))
        finally:
            self._close(client, upstream)

    def _replies(self, upstream, client, state):
        buf, pos = b"", 0
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                client.sendall(data)
                buf += data
                while True:
                    end = resp_end(buf, pos)
                    if end is None:
                        break
                    pos = end
                    with state["cv"]:
                        state["answered"] += 1
                        state["cv"].notify_all()
                buf, pos = buf[pos:], 0
        except Exception as e:      # noqa: BLE001
            if not isinstance(e, OSError):
                self.errors.append(repr(e))
        finally:
            self._close(upstream, client)

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.srv.close()
        self._close(*self.socks)
        for s in self.socks:
            s.close()
