"""Throw-away TLS certificates for the Python tests and benchmarks, made by
tests/tls/make-certs.sh with the openssl CLI (tests/cluster, tests/docs,
tests/bench/transport).

    certs = Certs(tmp)                  # tmp/certs/ca.crt, server.crt, ...
    RedisServer(tmp, tls=certs)         # TLS only, on server.port
    certs.props()                       # ["tls=true", "tls-ca-file=..."]
    certs.spki()                        # the CA key's hash, for Chromium
"""

import base64
import hashlib
import os
import subprocess

MAKE_CERTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "tls", "make-certs.sh")


class Certs:
    """The certificates of make-certs.sh in dir/certs (see its header for
    the names: server, wrong-name, expired, untrusted, client)."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "certs")
        out = subprocess.run(["sh", MAKE_CERTS, self.dir], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60)
        assert out.returncode == 0, "make-certs.sh failed (is openssl installed?): %s" % (
            out.stdout.decode(errors="replace"))
        self.ca = self.path("ca.crt")

    def path(self, name):
        return os.path.join(self.dir, name)

    def spki(self, cert="ca"):
        """The SHA-256 of cert's public key (base64), see spki ()."""
        return spki(self.path(cert + ".crt"))

    def server_args(self, cert="server", auth_clients=False):
        """redis-server arguments for TLS with certificate cert; clients
        must present a certificate when auth_clients (True, False or
        "optional"); replication, the cluster bus and a sentinel's
        connections use TLS too, with the client certificate (the cluster
        bus always requires one)."""
        return ["--tls-cert-file", self.path(cert + ".crt"),
                "--tls-key-file", self.path(cert + ".key"),
                "--tls-client-cert-file", self.path("client.crt"),
                "--tls-client-key-file", self.path("client.key"),
                "--tls-ca-cert-file", self.ca,
                "--tls-auth-clients", auth_clients if isinstance(auth_clients, str)
                else "yes" if auth_clients else "no",
                "--tls-replication", "yes", "--tls-cluster", "yes"]

    def server_conf(self, cert="server", auth_clients=False):
        """The same as configuration lines (sentinel.conf)."""
        args = self.server_args(cert, auth_clients)
        return "".join("%s %s\n" % (k[2:], v) for k, v in zip(args[::2], args[1::2]))

    def props(self, client=None):
        """Element properties: TLS verified against the test CA, with the
        client certificate client ("client") when given."""
        p = ["tls=true", "tls-ca-file=" + self.ca]
        if client:
            p += ["tls-cert-file=" + self.path(client + ".crt"),
                  "tls-key-file=" + self.path(client + ".key")]
        return p

    def client_kw(self):
        """redis-py keyword arguments for a TLS connection."""
        return {"ssl": True, "ssl_ca_certs": self.ca, "ssl_cert_reqs": "required"}

    def cli_args(self):
        """redis-cli arguments for a TLS connection."""
        return ["--tls", "--cacert", self.ca]


def spki(path):
    """The SHA-256 of the public key of the certificate file path, base64:
    what Chromium's --ignore-certificate-errors-spki-list takes to trust
    it."""
    pub = subprocess.run(["openssl", "x509", "-in", path, "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
