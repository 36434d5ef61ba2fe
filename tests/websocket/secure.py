#!/usr/bin/python3
"""websocketsink over HTTPS/WSS with a secret, as separate
processes: the pipeline (wsrun.py: videotestsrc ! jpegenc ! websocketsink)
and raw-socket clients in this script. Certificates come from a throw-away CA
made here with the openssl CLI; secrets reach the pipeline through its
environment (wsrun.py --secret), never its command line.

  https_token          tls-certificate-file/tls-key-file and auth-token: a
                       client trusting the CA loads the page, its script and
                       the WebSocket (frames arrive) with ?token= and with
                       Authorization: Bearer; without the token, and with
                       wrong ones (another value, the token's first half, the
                       token and more), /, /viewer.js, /ws and an unknown path
                       all get 401 with a Bearer challenge, and the WebSocket
                       no frame. stats count the refusals.
  other_ca_refused     a client that trusts another CA refuses the server
                       (certificate verify failed), as does one checking a
                       name the certificate does not hold; a plain HTTP client
                       gets no answer; the server counts the failed
                       handshakes and keeps serving.
  basic_auth           auth-user/auth-password: the right credentials load
                       the page and get frames; a wrong password, a wrong user
                       and none get 401 with a Basic challenge and no frame.
  rotate_token         auth-token set again while playing: the old token gets
                       401 from then on, the new one 200 and frames; a
                       WebSocket client connected with the old one keeps
                       receiving frames.
  token_file_and_key   auth-token-file, and the key in the certificate's file
                       (no tls-key-file): the token from the file works.
  settings_errors      a missing certificate file, a key without a
                       certificate, auth-user without auth-password, an empty
                       token file: each fails the state change with a
                       RESOURCE SETTINGS error that names what to change.
  secret_not_logged    with GST_DEBUG=*:9, a token, a user's password and the
                       wrong candidates clients sent (in the query, Bearer and
                       Basic headers) never appear in the pipeline's output.

Arguments select cases by substring. The last line is "N passed, N failed".
"""

import base64
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wstest import (Pipeline, client_tls, gst_env, http, install_signal_handlers,  # noqa: E402
                    make_ca, make_server_cert, page_load, run_cases, wait_for, ws)

TOKEN = "T0k3n-5f2c9a81d7e64b3e9c0a"
PASSWORD = "pw-9d41e7c2b8a3"


def tls_pipeline(tmp, props="", secrets=(), env=None, **kw):
    ca = make_ca(tmp, "test-ca")
    crt, key = make_server_cert(tmp, ca)
    p = Pipeline(tmp, "tls-certificate-file=%s tls-key-file=%s %s" % (crt, key, props),
                 secrets=secrets, env=env, **kw)
    return p, client_tls(ca[0]), ca


def assert_refused(port, tls, query="", headers=None, scheme="Bearer"):
    """/, /viewer.js, an unknown path and /ws all get 401, with a
    challenge, no page and no frame."""
    for path in ("/", "/viewer.js", "/no-such-file", "/index.html"):
        status, hdrs, body = http(port, path + query, headers=headers, tls=tls)
        assert status == 401, "%s%s: %s" % (path, query, status)
        assert any(c.startswith(scheme + " ") for c in hdrs.get("www-authenticate", [])), hdrs
        assert b"<canvas" not in body and b"viewerStats" not in body, body[:200]
    status, messages, hdrs = ws(port, "/ws" + query, headers=headers, tls=tls, timeout=3)
    assert status == 401, "/ws%s: %s" % (query, status)
    assert all(b"401 Unauthorized" in m and b"\x82" not in m[:1] for m in messages), messages


def https_token(tmp):
    env = gst_env(VIEWER_TOKEN=TOKEN)
    p, tls, _ = tls_pipeline(tmp, secrets=["ws.auth-token=VIEWER_TOKEN"], env=env)

    page_load(p.port, tls=tls, token=TOKEN)
    status, messages, _ = ws(p.port, "/ws?token=" + TOKEN, tls=tls, frames=5)
    assert status == 101 and len(messages) == 5, (status, len(messages))
    n = int.from_bytes(messages[0][:4], "big")
    assert messages[0][4:4 + n].startswith(b"{"), messages[0][:40]
    print("WSS with ?token=: 5 frames, the first %d bytes" % len(messages[0]))
    bearer = {"Authorization": "Bearer " + TOKEN}
    status, _, body = http(p.port, "/", headers=bearer, tls=tls)
    assert status == 200 and b"<canvas" in body, status
    status, messages, _ = ws(p.port, "/ws", headers=bearer, tls=tls)
    assert status == 101 and messages, status
    print("Authorization: Bearer: page 200, WSS frames")

    before = p.stats()["requests-unauthorized"]
    assert_refused(p.port, tls)
    for wrong in ("wrong", TOKEN[:len(TOKEN) // 2], TOKEN + "x", TOKEN.lower(), ""):
        assert_refused(p.port, tls, query="?token=" + wrong)
        assert_refused(p.port, tls, headers={"Authorization": "Bearer " + wrong})
    assert_refused(p.port, tls, headers={"Authorization": "Basic " +
                                         base64.b64encode(b"u:" + TOKEN.encode()).decode()})
    after = p.stats()["requests-unauthorized"]
    print("refused: no token, 5 wrong ones in the query and as Bearer, a Basic header: "
          "%d requests got 401" % (after - before))
    assert after - before == 5 * 12, (before, after)
    page_load(p.port, tls=tls, token=TOKEN)


def other_ca_refused(tmp):
    p, tls, _ = tls_pipeline(tmp)
    other_ca = make_ca(tmp, "other-ca")
    try:
        http(p.port, "/", tls=client_tls(other_ca[0]))
        raise AssertionError("a client trusting another CA got an answer")
    except ssl.SSLCertVerificationError as e:
        print("client trusting another CA: %s" % e.verify_message)
        assert "unable to get local issuer certificate" in e.verify_message, e
    try:
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        tls.wrap_socket(s, server_hostname="viewer.example.com")
        raise AssertionError("a client checking another name got through")
    except ssl.SSLCertVerificationError as e:
        print("client checking the name viewer.example.com: %s" % e.verify_message)
        assert "mismatch" in e.verify_message, e
    status, _, body = http(p.port, "/")
    print("plain HTTP to the HTTPS port: status %s, %d bytes" % (status, len(body)))
    assert status is None and b"<canvas" not in body, (status, body[:100])
    failures = wait_for(lambda: p.stats()["tls-handshake-failures"] >= 3 and
                        p.stats()["tls-handshake-failures"], 5, "3 failed handshakes counted")
    print("tls-handshake-failures: %d" % failures)
    page_load(p.port, tls=tls)


def basic_auth(tmp):
    env = gst_env(VIEWER_PASSWORD=PASSWORD)
    p, tls, _ = tls_pipeline(tmp, "auth-user=operator",
                             secrets=["ws.auth-password=VIEWER_PASSWORD"], env=env)

    def basic(user, pw):
        return {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()}

    good = basic("operator", PASSWORD)
    for path in ("/", "/viewer.js"):
        status, _, _ = http(p.port, path, headers=good, tls=tls)
        assert status == 200, (path, status)
    status, messages, _ = ws(p.port, "/ws", headers=good, tls=tls, frames=3)
    assert status == 101 and len(messages) == 3, status
    print("Basic operator:<password>: page and script 200, 3 WSS frames")
    assert_refused(p.port, tls, scheme="Basic")
    assert_refused(p.port, tls, headers=basic("operator", PASSWORD + "x"), scheme="Basic")
    assert_refused(p.port, tls, headers=basic("operatorx", PASSWORD), scheme="Basic")
    assert_refused(p.port, tls, headers=basic("operator", ""), scheme="Basic")
    assert_refused(p.port, tls, headers={"Authorization": "Basic !!notbase64"}, scheme="Basic")
    assert_refused(p.port, tls, query="?token=" + PASSWORD, scheme="Basic")
    print("no credentials, wrong password, wrong user, empty password, junk, the password "
          "as a token: 401 with a Basic challenge")


def rotate_token(tmp):
    env = gst_env(OLD_TOKEN=TOKEN, NEW_TOKEN="N3w-" + TOKEN)
    p = Pipeline(tmp, secrets=["ws.auth-token=OLD_TOKEN"], env=env)
    page_load(p.port, token=TOKEN)
    # a viewer connected with the old token
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws?token=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (TOKEN, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head

    assert p.command("secret ws.auth-token NEW_TOKEN", "OK")
    assert_refused(p.port, None, query="?token=" + TOKEN)
    page_load(p.port, token="N3w-" + TOKEN)
    print("after the rotation: the old token gets 401, the new one the page and frames")
    # the old viewer still gets frames
    got = 0
    t0 = time.monotonic()
    s.settimeout(5)
    while got < 200000 and time.monotonic() - t0 < 5:
        chunk = s.recv(65536)
        assert chunk, "the viewer connected with the old token was disconnected"
        got += len(chunk)
    print("the viewer connected before the rotation received %d more bytes" % got)
    assert got >= 200000, got
    s.close()


def token_file_and_key(tmp):
    ca = make_ca(tmp, "test-ca")
    crt, key = make_server_cert(tmp, ca)
    both = os.path.join(tmp, "server-and-key.pem")
    with open(both, "w") as f:
        f.write(open(crt).read() + open(key).read())
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write("  %s  \nsecond line ignored\n" % TOKEN)
    os.chmod(token_file, 0o600)
    p = Pipeline(tmp, "tls-certificate-file=%s auth-token-file=%s" % (both, token_file))
    tls = client_tls(ca[0])
    page_load(p.port, tls=tls, token=TOKEN)
    assert_refused(p.port, tls, query="?token=second")
    print("token from its file, key in the certificate's file: page and frames; others 401")


def settings_errors(tmp):
    ca = make_ca(tmp, "test-ca")
    crt, key = make_server_cert(tmp, ca)
    empty = os.path.join(tmp, "empty-token")
    open(empty, "w").write("\n\n")
    cases = [
        ("tls-certificate-file=%s/missing.pem tls-key-file=%s" % (tmp, key), "missing.pem"),
        ("tls-key-file=%s" % key, "tls-certificate-file is not"),
        ("tls-certificate-file=%s tls-key-file=%s" % (crt, crt), "key"),
        ("auth-user=operator", "auth-password"),
        ("auth-token-file=%s" % empty, "empty-token"),
        ("auth-token-file=%s/none" % tmp, "auth-token-file"),
    ]
    for i, (props, what) in enumerate(cases):
        p = Pipeline(tmp, props, name="settings%d" % i, expect_port=False)
        rc = p.p.wait(30)
        errors = p.lines("ERROR")
        print("%s -> %s" % (props.replace(tmp, "$TMP"), errors[0].replace(tmp, "$TMP")
                            if errors else "no error (exit %s)" % rc))
        assert rc != 0 and errors, p.text()[-2000:]
        assert errors[0].startswith("ERROR (resource settings) "), errors[0]
        assert what in errors[0], errors[0]
        p.stop()


def secret_not_logged(tmp):
    wrong = "Wr0ng-c4ndidate-71e3"
    env = gst_env(VIEWER_TOKEN=TOKEN, VIEWER_PASSWORD=PASSWORD, GST_DEBUG="*:9",
                  GST_DEBUG_NO_COLOR="1", G_MESSAGES_DEBUG="all")
    p, tls, _ = tls_pipeline(tmp, "auth-user=operator",
                             secrets=["ws.auth-token=VIEWER_TOKEN",
                                      "ws.auth-password=VIEWER_PASSWORD"], env=env)

    def basic(user, pw):
        return {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()}

    page_load(p.port, tls=tls, token=TOKEN)
    http(p.port, "/", headers={"Authorization": "Bearer " + TOKEN}, tls=tls)
    http(p.port, "/", headers=basic("operator", PASSWORD), tls=tls)
    ws(p.port, "/ws", headers=basic("operator", PASSWORD), tls=tls)
    assert_refused(p.port, tls, query="?token=" + wrong, scheme="Basic")
    assert_refused(p.port, tls, headers={"Authorization": "Bearer " + wrong}, scheme="Basic")
    assert_refused(p.port, tls, headers=basic("operator", wrong), scheme="Basic")
    p.command("stats ws", "STATS")
    p.stop()
    text = open(p.log, "rb").read()
    print("GST_DEBUG=*:9 output: %d lines, %.1f MB" % (text.count(b"\n"), len(text) / 1e6))
    assert text.count(b"\n") > 1000, "GST_DEBUG=*:9 did not log"
    assert b"refusing GET / from" in text, "the refusals are not in the log"
    forbidden = {"token": TOKEN, "password": PASSWORD, "wrong candidate": wrong}
    for name, value in list(forbidden.items()):
        forbidden[name + " (base64 in Basic)"] = base64.b64encode(
            ("operator:%s" % value).encode()).decode()
    for name, value in forbidden.items():
        n = text.count(value.encode())
        print("%s: %d occurrences" % (name, n))
        assert n == 0, "the %s appears in the debug output: %s" % (
            name, [l for l in text.splitlines() if value.encode() in l][:3])


CASES = [https_token, other_ca_refused, basic_auth, rotate_token, token_file_and_key,
         settings_errors, secret_not_logged]

if __name__ == "__main__":
    install_signal_handlers()
    sys.exit(run_cases(CASES, sys.argv[1:]))
