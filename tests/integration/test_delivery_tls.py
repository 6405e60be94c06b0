"""Outbound TLS policies (none, opportunistic, encrypt, verify, domain) against peers
without STARTTLS, with a wrong name, an untrusted CA, an expired and a good certificate;
client certificates presented to a peer that requires one."""
from __future__ import annotations

import pytest

from bhtest import CLIENT_CERT_NAME, wait_until
from smtpclient import make_message, send_raw
from smtppeers import Peer, deliveries, smtp_gateway, wait_delivery, wait_state

PEERS = ("no-starttls", "wrong-name", "untrusted", "expired", "good")
POLICIES = ("none", "opportunistic", "encrypt", "verify", "domain")

# policy -> peers that get the mail (all others: deferred, never in plaintext)
DELIVERED = {
    "none": set(PEERS),
    "opportunistic": set(PEERS),
    "encrypt": set(PEERS) - {"no-starttls"},
    "verify": {"good", "wrong-name"},
    "domain": {"good"},
}
# words one of which the deferral detail must contain, per peer and policy
REASON_WORDS = {
    "no-starttls": ("starttls", "tls"),
    "wrong-name": ("match", "name"),
    "untrusted": ("trust", "verif", "issuer", "unable to get"),
    "expired": ("expired",),
    "good": (),
}


@pytest.fixture(scope="module")
def tls_peers(pki):
    certs = {"wrong-name": (pki.wrong_name, pki.wrong_name_key),
             "untrusted": (pki.untrusted, pki.untrusted_key),
             "expired": (pki.expired, pki.expired_key),
             "good": (pki.server, pki.server_key)}
    peers = {name: Peer(tls=certs.get(name)).start() for name in PEERS}
    yield peers
    for p in peers.values():
        p.stop()


def _connector(pki, policy, peer, **extra):
    c = {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": policy, "ca_file": pki.ca,
         "idle_time": 0, **extra}
    if policy == "domain":
        c["tls_domain"] = "localhost"
    return c


def _mine(peer, sender):
    with peer.lock:
        return ([m for m in peer.messages if m.mail_from == sender],
                [c for c in peer.mail_commands if c[0] == sender])


@pytest.mark.parametrize("peer_name", PEERS)
@pytest.mark.parametrize("policy", POLICIES)
def test_policy_table(make_gateway, pki, tls_peers, policy, peer_name):
    peer = tls_peers[peer_name]
    gw = smtp_gateway(make_gateway, _connector(pki, policy, peer))
    sender = f"{policy}.{peer_name}@origin.test"
    msg = make_message(f"tls {policy} {peer_name}", sender=sender)
    qid = send_raw(gw.port, msg, sender=sender)

    if peer_name in DELIVERED[policy]:
        wait_delivery(gw, qid, "delivered")
        wait_state(gw, qid, None)
        got, _ = _mine(peer, sender)
        assert len(got) == 1, f"peer got {len(got)} copies"
        tls = got[0].tls
        if policy == "none" or peer_name == "no-starttls":
            assert tls is None, f"policy {policy} to {peer_name} must be plaintext, was {tls}"
        else:
            assert tls and tls["version"] in ("TLSv1.2", "TLSv1.3"), \
                f"policy {policy} to {peer_name} must use TLS, got {tls}"
    else:
        [d] = wait_delivery(gw, qid, "deferred")[:1]
        wait_state(gw, qid, "deferred")
        assert d["status"].startswith("4."), d["_line"]
        detail = d.get("detail", "").lower()
        assert any(w in detail for w in REASON_WORDS[peer_name]), \
            f"deferral reason should name the problem ({REASON_WORDS[peer_name]}): {d['_line']}"
        got, mails = _mine(peer, sender)
        assert got == [] and mails == [], \
            f"policy {policy} fell back to plaintext with {peer_name}: MAIL commands {mails}"
        assert gw.events("tls_fallback") == [], "only opportunistic may fall back"


def test_deferred_policy_failure_is_retried_and_stays_deferred(make_gateway, pki, tls_peers):
    """A TLS policy failure is retried (retry_delay 1 s) and never delivered in plaintext."""
    peer = tls_peers["expired"]
    gw = smtp_gateway(make_gateway, _connector(pki, "verify", peer))
    sender = "retry.expired@origin.test"
    qid = send_raw(gw.port, make_message("retry expired", sender=sender), sender=sender)
    wait_delivery(gw, qid, "deferred", n=3, timeout=20)
    assert gw.queue_list().get(qid) in ("deferred", "active")
    assert _mine(peer, sender) == ([], [])


@pytest.fixture(scope="module")
def cert_peer(pki):
    """A STARTTLS peer that requires a client certificate from the test CA."""
    p = Peer(tls=(pki.server, pki.server_key), client_ca=pki.ca, require_client_cert=True).start()
    yield p
    p.stop()


@pytest.mark.parametrize("policy", ["encrypt", "verify", "domain"])
def test_client_certificate_is_presented(make_gateway, pki, cert_peer, policy):
    gw = smtp_gateway(make_gateway, _connector(pki, policy, cert_peer,
                                               client_certificate=pki.client,
                                               client_key=pki.client_key))
    sender = f"ccert.{policy}@origin.test"
    qid = send_raw(gw.port, make_message(f"client cert {policy}", sender=sender), sender=sender)
    wait_delivery(gw, qid, "delivered")
    [got], _ = _mine(cert_peer, sender)
    assert got.tls, "delivered without TLS"
    assert got.peer_cn() == CLIENT_CERT_NAME, f"peer saw client certificate {got.tls['peercert']}"
    issuer = dict(x for rdn in got.tls["peercert"]["issuer"] for x in rdn)
    assert issuer.get("commonName") == "Bridgehead Test CA"


def test_no_client_certificate_with_encrypt_defers(make_gateway, pki, cert_peer):
    gw = smtp_gateway(make_gateway, _connector(pki, "encrypt", cert_peer))
    sender = "noccert.encrypt@origin.test"
    qid = send_raw(gw.port, make_message("no client cert", sender=sender), sender=sender)
    wait_delivery(gw, qid, "deferred")
    wait_state(gw, qid, "deferred")
    assert _mine(cert_peer, sender) == ([], []), "must not fall back to plaintext"


@pytest.mark.parametrize("max_tls", ["TLSv1_2", "TLSv1_3"])
def test_no_client_certificate_opportunistic_falls_back(make_gateway, pki, max_tls):
    """The handshake fails (the peer wants a certificate we do not have): opportunistic TLS
    retries in plaintext, and says so in the log. With TLS 1.3 the client sees the failure
    (the peer's certificate_required alert) only on its first read after the handshake,
    i.e. the EHLO reply: that is still a failed handshake."""
    peer = Peer(tls=(pki.server, pki.server_key), client_ca=pki.ca, require_client_cert=True,
                max_tls=max_tls).start()
    try:
        gw = smtp_gateway(make_gateway, _connector(pki, "opportunistic", peer))
        sender = "noccert.opportunistic@origin.test"
        qid = send_raw(gw.port, make_message("fallback", sender=sender), sender=sender)
        wait_delivery(gw, qid, "delivered")
        [got], _ = _mine(peer, sender)
    finally:
        peer.stop()
    assert got.tls is None
    assert gw.events("tls_fallback"), f"no tls_fallback log line:\n{gw.log_text()[-2000:]}"


def test_domain_policy_defaults_to_the_host_name(make_gateway, pki, tls_peers):
    """Without tls_domain the certificate must match the host name connected to: smarthost
    "localhost" matches the good certificate (DNS:localhost), not the wrong-name one."""
    results = {}
    for name in ("good", "wrong-name"):
        peer = tls_peers[name]
        gw = smtp_gateway(make_gateway, {"smarthosts": [f"localhost:{peer.port}"], "tls": "domain",
                                         "ca_file": pki.ca, "idle_time": 0})
        sender = f"default-name.{name}@origin.test"
        qid = send_raw(gw.port, make_message(f"default name {name}", sender=sender), sender=sender)
        # localhost is 127.0.0.1 and ::1 (nothing listens there): the name check shows in
        # the connect_failed line of 127.0.0.1, the delivery line may name the last address.
        ev = wait_until(lambda: [e["result"] for e in deliveries(gw, qid, "delivered")] or
                        ["deferred" for e in gw.events("connect_failed")
                         if "does not match localhost" in e.get("reason", "")], 15)
        assert ev, f"no conclusive delivery line for {qid}:\n{gw.log_text()[-2000:]}"
        results[name] = ev[0]
    assert results == {"good": "delivered", "wrong-name": "deferred"}, results
