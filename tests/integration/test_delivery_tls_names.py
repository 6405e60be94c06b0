"""Outbound DomainValidation names through OpenSSL (issue 7, item 7): an IP-literal smarthost
is checked against the certificate's IP SANs, a wildcard tls_domain accepts a direct child
name only, and neither a wildcard nor an IP literal is ever sent as SNI."""
from __future__ import annotations

import subprocess

import pytest

from smtpclient import make_message, send_raw
from smtppeers import Peer, smtp_gateway, wait_delivery, wait_state


def _server_cert(pki, tmp_path, name: str):
    """A server certificate from the test CA with CN and DNS SAN `name`."""
    key, csr, pem, ext = (tmp_path / f"{name}.{s}" for s in ("key", "csr", "pem", "ext"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", f"/CN={name}"], check=True, capture_output=True)
    ext.write_text(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(pki.ca), "-CAkey",
                    str(pki.ca_key), "-CAcreateserial", "-days", "30", "-out", str(pem),
                    "-extfile", str(ext)], check=True, capture_output=True)
    return pem, key


class SniPeer:
    """A STARTTLS peer that records the SNI name of every TLS handshake (None: no SNI)."""

    def __init__(self, cert, key):
        self.names: list = []
        self.peer = Peer(tls=(cert, key))
        ctx = self.peer.controller.SMTP_kwargs["tls_context"]
        ctx.sni_callback = lambda _obj, name, _ctx: self.names.append(name)

    def __enter__(self):
        self.peer.start()
        return self

    def __exit__(self, *exc):
        self.peer.stop()


def _deliver(make_gateway, pki, peer, host: str, sender: str, **connector):
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"{host}:{peer.port}"], "tls": "domain",
                                     "ca_file": pki.ca, "idle_time": 0, **connector})
    qid = send_raw(gw.port, make_message(sender, sender=sender), sender=sender)
    return gw, qid


def test_ip_literal_smarthost_matches_an_ip_san(make_gateway, pki):
    """server.pem has IP:127.0.0.1: an IP-literal smarthost with the domain policy and no
    tls_domain is checked against it (before: against DNS names only, deferred). No SNI."""
    with SniPeer(pki.server, pki.server_key) as p:
        gw, qid = _deliver(make_gateway, pki, p.peer, "127.0.0.1", "ip.good@origin.test")
        wait_delivery(gw, qid, "delivered")
        wait_state(gw, qid, None)
        assert p.names and all(n is None for n in p.names), f"SNI sent to an IP literal: {p.names}"


def test_ip_literal_smarthost_without_the_ip_san_is_deferred(make_gateway, pki):
    with SniPeer(pki.wrong_name, pki.wrong_name_key) as p:
        gw, qid = _deliver(make_gateway, pki, p.peer, "127.0.0.1", "ip.wrong@origin.test")
        [d] = wait_delivery(gw, qid, "deferred")[:1]
        assert "does not match 127.0.0.1" in d.get("detail", ""), d["_line"]
        assert p.peer.messages == []


@pytest.mark.parametrize("cert_name,delivered", [
    ("mx.wild.test", True),
    ("a.b.wild.test", False),   # a wildcard stands for one label
    ("wild.test", False),       # not the domain itself
    ("mx.wild.example", False),
])
def test_wildcard_tls_domain_is_not_sent_as_sni(make_gateway, pki, tmp_path, cert_name,
                                                delivered):
    cert, key = _server_cert(pki, tmp_path, cert_name)
    with SniPeer(cert, key) as p:
        sender = f"wild.{cert_name}@origin.test"
        gw, qid = _deliver(make_gateway, pki, p.peer, "localhost", sender,
                           tls_domain="*.wild.test")
        if delivered:
            wait_delivery(gw, qid, "delivered")
        else:
            [d] = wait_delivery(gw, qid, "deferred")[:1]
            assert "does not match *.wild.test" in d.get("detail", ""), d["_line"]
        assert p.names, "no TLS handshake reached the peer"
        assert all(n == "localhost" for n in p.names), f"SNI sent: {p.names}"


def test_exact_tls_domain_is_the_sni(make_gateway, pki, tmp_path):
    cert, key = _server_cert(pki, tmp_path, "mx.exact.test")
    with SniPeer(cert, key) as p:
        gw, qid = _deliver(make_gateway, pki, p.peer, "127.0.0.1", "exact@origin.test",
                           tls_domain="mx.exact.test")
        wait_delivery(gw, qid, "delivered")
        assert p.names and all(n == "mx.exact.test" for n in p.names), p.names


def test_single_label_wildcard_tls_domain_is_a_configuration_error(make_gateway, pki):
    """tls_domain "*.test" would stand for every name in a top-level domain: check-config (and
    start) refuse it with file and line, before any mail could be sent under it."""
    gw = smtp_gateway(make_gateway, {"smarthosts": ["127.0.0.1:25"], "tls": "domain",
                                     "ca_file": pki.ca, "tls_domain": "*.test"}, start=False)
    gw.write_config()
    r = gw.cli("check-config")
    assert r.returncode != 0, r.stdout + r.stderr
    assert 'tls_domain: "*.test" is a wildcard over a whole top-level domain' in r.stdout + r.stderr
