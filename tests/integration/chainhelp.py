"""Helpers for the certificate-chain tests (test_trust_chain.py, test_reload_trust.py): a
client that sends a leaf with its intermediate (like Exchange Online), can offer a previous
TLS session for resumption, and runs one fax transaction through the microsoft365 connector.

The chain PKI is made by tests/pki/make-test-pki (chain-*.pem): chain-root ("Bridgehead Test
Root G2") <- chain-int <- chain-leaf (mail.protection.outlook.com, clientAuth), and the bad
leaves chain-noeku, chain-expired and chain-foreign (its intermediate has chain-int's subject
but is signed by chain-other-root).
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from smtpclient import Reply, SmtpClient, make_message
from trusthelp import FAX_RCPT, good_headers, m365_connector, m365_gateway

TLS_VERSIONS = {"tls12": ssl.TLSVersion.TLSv1_2, "tls13": ssl.TLSVersion.TLSv1_3}


def chain_file(pki, name: str) -> Path:
    return pki.dir / f"{name}.pem"


def bundle(tmp_path: Path, name: str, *pems: Path) -> Path:
    """A CA bundle file made of the given PEM files."""
    out = tmp_path / name
    out.write_text("".join(Path(p).read_text() for p in pems))
    return out


def chain_context(pki, cert: str = "chain-leaf-full", version: str | None = None) -> ssl.SSLContext:
    """Client context: trusts the gateway's server certificate, presents pki/<cert>.pem (leaf
    followed by its intermediate), optionally pinned to one TLS version."""
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    ctx.load_cert_chain(str(pki.dir / f"{cert}.pem"), str(pki.dir / f"{cert}.key"))
    if version:
        ctx.minimum_version = ctx.maximum_version = TLS_VERSIONS[version]
    return ctx


@dataclass
class FaxRun:
    rcpt: Reply
    final: Reply | None
    session: ssl.SSLSession | None
    session_reused: bool
    version: str
    transcript: str

    @property
    def accepted(self) -> bool:
        return self.rcpt.code == 250 and self.final is not None and self.final.code == 250

    def __str__(self):
        return (f"RCPT: {self.rcpt}; end of DATA: {self.final}; {self.version}, "
                f"session_reused={self.session_reused}\n{self.transcript}")


def fax_run(gw, ctx: ssl.SSLContext, subject: str, session: ssl.SSLSession | None = None) -> FaxRun:
    """EHLO, STARTTLS (offering `session` for resumption), EHLO, MAIL, RCPT to the fax service
    (which only the microsoft365 connector may use) and, when RCPT is accepted, DATA with
    valid CrossTenant headers. Returns the replies and the TLS session (read after QUIT, so
    that TLS 1.3 tickets have arrived)."""
    c = SmtpClient(gw.port)
    try:
        c.greet("mail.protection.outlook.com")
        c.expect("STARTTLS", 220)
        assert c.buf == b"", c.dump()
        c.sock.settimeout(c.timeout)
        c.sock = ctx.wrap_socket(c.sock, server_hostname="localhost", session=session)
        reused = c.sock.session_reused
        version = c.sock.version()
        c.ehlo("mail.protection.outlook.com")
        c.expect("MAIL FROM:<alice@contoso.test>", 250)
        rcpt = c.cmd(f"RCPT TO:<{FAX_RCPT}>")
        final = None
        if rcpt.code == 250:
            final = c.send_data(make_message(subject, sender="alice@contoso.test", to=FAX_RCPT,
                                             headers=good_headers()))
        c.cmd("QUIT")
        return FaxRun(rcpt, final, c.sock.session, reused, version, c.dump())
    finally:
        c.close()


def assert_connector(gw, run: FaxRun, subject: str):
    """The connection was identified as the microsoft365 connector: the fax recipient was
    accepted, the message delivered, and the policy line names the connector."""
    assert run.accepted, f"not accepted as the microsoft365 connector: {run}\n{gw.log_text()[-3000:]}"
    qid = run.final.queue_id()
    assert qid, str(run)
    assert f"Subject: {subject}".encode() in gw.wait_delivered(qid)
    assert any(e.get("connector") == "contoso-exo" for e in gw.events("policy", id=qid)), \
        gw.log_text()[-3000:]


def assert_not_connector(gw, run: FaxRun):
    """Not identified as the connector: the fax service is refused at RCPT with 550 5.7.1."""
    assert run.rcpt.code == 550 and run.rcpt.enhanced == "5.7.1", str(run)
    assert "fax service" in run.rcpt.text, str(run)


def chain_gateway(trust_gateway, pki, tmp_path, *, connector_ca: Path | None,
                  listener_ca: Path | None = None, **overrides):
    """The microsoft365 connector contoso-exo with its own ca_file (connector_ca; None: the
    listener's bundle decides), the listener trusting listener_ca (default: chain-root)."""
    listener_ca = listener_ca or chain_file(pki, "chain-root")
    connector = m365_connector(ca_file=str(connector_ca)) if connector_ca else m365_connector()
    return m365_gateway(trust_gateway, connector=connector,
                        tls={"client_ca_file": str(listener_ca)}, **overrides)
