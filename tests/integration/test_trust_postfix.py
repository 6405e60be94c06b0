"""Interop: Postfix plays Exchange Online. It relays to Bridgehead over mandatory TLS with the
CA-signed mail.protection.outlook.com client certificate (a private instance, never the
system one). A message of tenant T1 from alice is delivered; the same path carrying tenant
T2's CrossTenant header (EchoSpoofing) is refused with 550 5.7.1 and Postfix bounces it."""
from __future__ import annotations

import re

import pytest

from bhtest import wait_until
from postfixpeer import PrivatePostfix, needs_postfix, running
from smtpclient import CRLF, SmtpClient, split_received
from trusthelp import FAX_RCPT, T1, T2, XTID, m365_gateway, trust_gateway  # noqa: F401

pytestmark = needs_postfix


@pytest.fixture
def setup(trust_gateway, tmp_path, pki):
    """The M365 gateway and a Postfix that relays everything to it over mandatory TLS,
    presenting the mail.protection.outlook.com client certificate (as Exchange Online does)."""
    gw = m365_gateway(trust_gateway)
    pf = PrivatePostfix("exo-sim.outlook.test", {
        "relayhost": f"[127.0.0.1]:{gw.port}",
        "default_transport": "smtp",
        "relay_transport": "smtp",
        "local_transport": "error:local delivery is disabled",
        "smtp_tls_security_level": "encrypt",
        "smtp_tls_cert_file": "{etc}/client.pem",
        "smtp_tls_key_file": "{etc}/client.key",
        "smtp_tls_loglevel": "1",
        "smtp_helo_name": "mail.protection.outlook.com",
    }, files={"client.pem": pki.client, "client.key": pki.client_key})
    with running(pf, tmp_path / "postfix-maillog"):
        yield gw, pf


def _message(mid, sender, tenant, org, subject) -> bytes:
    hdrs = [f"From: <{sender}>", f"To: <{FAX_RCPT}>", f"Subject: {subject}",
            f"Message-ID: <{mid}>", "Date: Mon, 24 Nov 2025 12:00:00 +0000",
            f"{XTID}: {tenant}", f"X-OriginatorOrg: {org}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal"]
    return CRLF.join(h.encode() for h in hdrs) + CRLF + CRLF + b"fax page 1\r\n"


def _submit(pf, sender, msg):
    """Hand the message to Postfix's smtpd; NOTIFY=NEVER so a bounce creates no new mail."""
    with SmtpClient(pf.port) as c:
        c.greet("submitter.test")
        c.expect(f"MAIL FROM:<{sender}>", 250)
        c.expect(f"RCPT TO:<{FAX_RCPT}> NOTIFY=NEVER", 250)
        c.check(c.send_data(msg), 250, what="postfix end of DATA")
        c.cmd("QUIT")


def _relay(pf, mid, sender, tenant, org, subject) -> tuple[str, str]:
    """Submit the message to Postfix and wait for its final (status, log line): the relay
    to the gateway either went through or bounced."""
    _submit(pf, sender, _message(mid, sender, tenant, org, subject))

    def done():
        o = pf.outcome(mid, agent="smtp")
        if o is None:
            pf.flush()  # a deferred attempt (e.g. gateway slow to answer) is retried now
        return o
    o = wait_until(done, 60, 0.5)
    assert o, f"postfix did not finish {mid} within 60s:\n{pf.log()[-4000:]}"
    return o[1], o[2]


def test_postfix_relays_tenant_mail_with_client_certificate(setup):
    gw, pf = setup
    status, line = _relay(pf, "t1.alice@exo-sim.test", "alice@contoso.test", T1, "contoso.test",
                          "fax via postfix")
    assert status == "sent", f"postfix could not deliver to the gateway:\n{line}\n{pf.log()[-4000:]}"
    m = re.search(r"250 2\.0\.0 .*queued as <?([^\s<>)]+)>?", line)
    assert m, line
    data = gw.wait_delivered(m.group(1))
    _, rest = split_received(data)
    assert b"Subject: fax via postfix" in rest and b"fax page 1\r\n" in rest, rest[:2000]
    assert f"{XTID}: {T1}".encode() in rest, "verified M365 connection: header must be kept"
    tls = [l for l in pf.log().splitlines() if "TLS connection established to" in l]
    assert tls, f"postfix did not use TLS:\n{pf.log()[-3000:]}"
    assert any("contoso-exo" in l for l in gw.policy_lines()), gw.log_text()[-3000:]


def test_postfix_foreign_tenant_is_bounced(setup):
    gw, pf = setup
    status, line = _relay(pf, "t2.eve@exo-sim.test", "eve@fabrikam.test", T2, "fabrikam.test",
                          "echospoof via postfix")
    assert status == "bounced", f"expected a bounce, got:\n{line}"
    assert re.search(r"said: 550 5\.7\.1 .*not accepted by connector", line, re.I), line
    assert "in reply to end of DATA command" in line, line
    assert not gw.delivered() and not gw.queue_list()
    assert any("contoso-exo" in l for l in gw.policy_lines()), gw.log_text()[-3000:]


def test_postfix_sender_without_permission_is_bounced(setup):
    gw, pf = setup
    status, line = _relay(pf, "t1.bob@exo-sim.test", "bob@contoso.test", T1, "contoso.test",
                          "bob via postfix")
    assert status == "bounced", line
    assert re.search(r"said: 550 5\.7\.1 .*not permitted to use the fax service", line, re.I), line
    assert not gw.delivered()
