"""Postfix smtpd as the next hop (a private, throw-away instance like bench/lib/postfix.sh):
Bridgehead delivers over verified TLS and presents its client certificate, which Postfix
checks against the test CA and records."""
from __future__ import annotations

import re

import pytest

from bhtest import CLIENT_CERT_NAME, wait_until
from postfixpeer import PrivatePostfix, needs_postfix, running
from smtpclient import make_message, send_raw
from smtppeers import smtp_gateway, wait_delivery, wait_state

pytestmark = needs_postfix

# Postfix logs only the start of a header: the WARN text carries the certificate.
HEADER_CHECKS = ('/^Received: .*\\(Client CN "([^"]*)", Issuer "([^"]*)" \\(([^)]*)\\)\\)/'
                 ' WARN client certificate: CN=<$1> issuer=<$2> ($3)\n')


@pytest.fixture
def postfix(tmp_path, pki):
    """The next hop: verifies client certificates against the test CA, records them in its
    Received header (logged by header_checks) and discards every message it accepts."""
    pf = PrivatePostfix("next-hop.localdomain", {
        "default_transport": "discard",
        "relay_transport": "discard",
        "local_transport": "discard",
        "virtual_transport": "discard",
        "smtpd_tls_cert_file": "{etc}/server.pem",
        "smtpd_tls_key_file": "{etc}/server.key",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_ask_ccert": "yes",
        "smtpd_tls_CAfile": "{etc}/ca.pem",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_received_header": "yes",
        "header_checks": "regexp:{etc}/header_checks",
    }, files={"server.pem": pki.server, "server.key": pki.server_key, "ca.pem": pki.ca,
              "header_checks": HEADER_CHECKS})
    with running(pf, tmp_path / "postfix-maillog"):
        yield pf


def _discarded(pf, message_id: str) -> str | None:
    """The queue id Postfix gave the message with this Message-ID, once discard sent it."""
    o = pf.outcome(message_id)
    return o[0] if o and o[1] == "sent" else None


def _deliver(make_gateway, pf, subject, connector):
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{pf.port}"],
                                     "helo_name": "gw.bridgehead.test", **connector})
    msg = make_message(subject)
    qid = send_raw(gw.port, msg)
    [ok] = wait_delivery(gw, qid, "delivered", timeout=30)
    wait_state(gw, qid, None)
    mid = f"{subject.replace(' ', '.')}@tests.bridgehead"
    pfid = wait_until(lambda: _discarded(pf, mid), 20, 0.2)
    assert pfid, f"postfix never logged the message as sent:\n{pf.log()[-3000:]}"
    return gw, ok, pfid


def test_postfix_sees_trusted_client_certificate(make_gateway, postfix, pki):
    gw, ok, pfid = _deliver(make_gateway, postfix, "client cert to postfix",
                            {"tls": "verify", "ca_file": pki.ca,
                             "client_certificate": pki.client, "client_key": pki.client_key})
    assert ok["status"].startswith("2."), ok["_line"]
    log = postfix.log()
    tls_lines = [l for l in log.splitlines() if "TLS connection established from" in l]
    assert tls_lines, f"no TLS connection in postfix's log:\n{log[-3000:]}"
    assert all("Trusted TLS connection established" in l for l in tls_lines), \
        "postfix did not verify the client certificate against the test CA:\n" + "\n".join(tls_lines)
    # smtpd_tls_received_header records the certificate; header_checks WARN logs that header.
    hdr = [l for l in log.splitlines() if "client certificate" in l and pfid in l]
    assert hdr, f"no Received header with the client certificate:\n{log[-3000:]}"
    assert hdr[0].endswith(f"client certificate: CN=<{CLIENT_CERT_NAME}> "
                           f"issuer=<Bridgehead Test CA> (verified OK)"), hdr[0]
    assert "helo=<gw.bridgehead.test>" in hdr[0], hdr[0]
    # Postfix offers CHUNKING and PIPELINING: the message went as BDAT, after STARTTLS.
    disc = wait_until(lambda: [l for l in postfix.log().splitlines()
                               if "disconnect from" in l and "starttls=1" in l], 15, 0.2)
    assert disc, f"no disconnect line of the TLS session:\n{postfix.log()[-3000:]}"
    assert re.search(r"\bbdat=1\b", disc[0]) and not re.search(r"\bdata=", disc[0]), disc[0]
    assert re.search(r"\bquit=1\b", disc[0]), f"connection not closed with QUIT: {disc[0]}"


def test_postfix_without_client_certificate_is_anonymous(make_gateway, postfix, pki):
    _deliver(make_gateway, postfix, "no client cert to postfix",
             {"tls": "domain", "tls_domain": "localhost", "ca_file": pki.ca})
    log = postfix.log()
    tls_lines = [l for l in log.splitlines() if "TLS connection established from" in l]
    assert tls_lines and all("Anonymous TLS connection" in l for l in tls_lines), \
        "\n".join(tls_lines) or log[-3000:]
    assert "client certificate: CN=" not in log


def test_postfix_plaintext_with_policy_none(make_gateway, postfix):
    _deliver(make_gateway, postfix, "plain to postfix", {"tls": "none"})
    assert "TLS connection established" not in postfix.log()
