"""An inbound connector's own CA bundle (ca_file): when the listener trusts several CAs (one
bundle for all partners), a partner's CA must still never vouch for Exchange Online."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace

from trusthelp import good_headers, m365_connector, m365_gateway, swaks, trust_gateway  # noqa: F401


def rogue_pki(pki, tmp_path):
    """A client certificate named mail.protection.outlook.com, signed by the *other* CA."""
    d = tmp_path / "rogue"
    d.mkdir()
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(d / "rogue.key"), "-out", str(d / "rogue.csr"), "-subj",
                    "/CN=mail.protection.outlook.com"], check=True, capture_output=True)
    (d / "ext.cnf").write_text("subjectAltName=DNS:mail.protection.outlook.com\n"
                               "extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(d / "rogue.csr"), "-CA",
                    str(pki.dir / "other-ca.pem"), "-CAkey", str(pki.dir / "other-ca.key"),
                    "-CAcreateserial", "-days", "30", "-out", str(d / "rogue.pem"), "-extfile",
                    str(d / "ext.cnf")], check=True, capture_output=True)
    both = tmp_path / "all-partner-cas.pem"
    both.write_text((pki.dir / "ca.pem").read_text() + (pki.dir / "other-ca.pem").read_text())
    return SimpleNamespace(dir=d), both


def rcpt_reply(run):
    return run.reply_to("RCPT")


def test_connector_ca_file_refuses_a_certificate_from_another_trusted_ca(trust_gateway, pki,
                                                                         tmp_path):
    rogue, both = rogue_pki(pki, tmp_path)
    gw = m365_gateway(trust_gateway, connector=m365_connector(ca_file=str(pki.dir / "ca.pem")),
                      tls={"client_ca_file": str(both)})
    # The rogue certificate verifies against the listener's bundle, not the connector's.
    run = swaks(gw, headers=good_headers(), cert="rogue", pki=rogue, subject="rogue")
    r = rcpt_reply(run)
    assert r is not None and r.code == 550 and r.enhanced == "5.7.1", run.out
    assert "fax service" in r.text, run.out
    # The genuine certificate (from the connector's CA) is still the connector.
    ok = swaks(gw, headers=good_headers(), subject="genuine")
    assert ok.reply_to(".").code == 250, ok.out


def test_without_ca_file_the_listener_bundle_decides(trust_gateway, pki, tmp_path):
    """The same rogue certificate matches when the connector names no bundle of its own:
    this is why a listener that trusts partner CAs should give the Microsoft 365 connector
    its own ca_file."""
    rogue, both = rogue_pki(pki, tmp_path)
    gw = m365_gateway(trust_gateway, tls={"client_ca_file": str(both)})
    run = swaks(gw, headers=good_headers(), cert="rogue", pki=rogue, subject="rogue")
    assert rcpt_reply(run).code == 250, run.out
