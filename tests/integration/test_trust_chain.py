"""Real certificate chains on the microsoft365 inbound connector (issue 7, item 5): Exchange
Online presents leaf <- intermediate <- DigiCert Global Root G2, and the connector's own
ca_file holds only the root. The chain must verify on the first handshake and on a connection
that tries to resume that session; a leaf without clientAuth, an expired leaf and a leaf from
an intermediate of another root are never the connector.

Listeners that ask for client certificates do not resume sessions (docs/inbound-trust.md):
a resumed session would bring back the leaf without its intermediate.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from chainhelp import (assert_connector, assert_not_connector, bundle, chain_context, chain_file,
                       chain_gateway, fax_run)
from trusthelp import m365_connector, m365_gateway, trust_gateway  # noqa: F401  (fixture)

DIGICERT_G2 = Path("/etc/ssl/certs/DigiCert_Global_Root_G2.pem")

# Who decides the chain: the connector's own ca_file, or (no ca_file) the listener's bundle.
ANCHORS = ["connector_ca_file", "listener_client_ca_file"]


def _gateway(trust_gateway, pki, tmp_path, anchors, listener_ca=None):
    root = chain_file(pki, "chain-root")
    return chain_gateway(trust_gateway, pki, tmp_path,
                         connector_ca=root if anchors == "connector_ca_file" else None,
                         listener_ca=listener_ca or root)


@pytest.mark.parametrize("version", ["tls12", "tls13"])
@pytest.mark.parametrize("anchors", ANCHORS)
def test_leaf_with_intermediate_is_the_connector(trust_gateway, pki, tmp_path, anchors, version):
    gw = _gateway(trust_gateway, pki, tmp_path, anchors)
    run = fax_run(gw, chain_context(pki, version=version), f"chain {anchors} {version}")
    assert run.version == {"tls12": "TLSv1.2", "tls13": "TLSv1.3"}[version], str(run)
    assert_connector(gw, run, f"chain {anchors} {version}")


@pytest.mark.parametrize("version", ["tls12", "tls13"])
@pytest.mark.parametrize("anchors", ANCHORS)
def test_resumed_session_is_still_the_connector(trust_gateway, pki, tmp_path, anchors, version):
    """A client that offers its previous session gets a full handshake (resumption is off on
    listeners that ask for client certificates) and is the connector again. Before the fix the
    gateway resumed the session, the connector's store saw the leaf without its intermediate,
    and the genuine Exchange Online connection got 550 5.7.1."""
    gw = _gateway(trust_gateway, pki, tmp_path, anchors)
    ctx = chain_context(pki, version=version)
    first = fax_run(gw, ctx, f"first {version}")
    assert_connector(gw, first, f"first {version}")
    assert first.session is not None
    second = fax_run(gw, ctx, f"second {version}", session=first.session)
    assert_connector(gw, second, f"second {version}")
    assert second.session_reused is False, f"the gateway resumed a session: {second}"
    assert not first.session.has_ticket, "the gateway issued a session ticket"


@pytest.mark.parametrize("anchors", ANCHORS)
def test_leaf_without_client_auth_is_not_the_connector(trust_gateway, pki, tmp_path, anchors):
    gw = _gateway(trust_gateway, pki, tmp_path, anchors)
    assert_not_connector(gw, fax_run(gw, chain_context(pki, "chain-noeku-full"), "no eku"))
    tls = gw.events("tls")[-1]
    assert tls["cert_cn"] == "mail.protection.outlook.com", tls["_line"]
    if anchors == "listener_client_ca_file":
        assert tls["cert_verified"] == "false" and "purpose" in tls["verify_error"], tls["_line"]
    assert_connector(gw, fax_run(gw, chain_context(pki), "genuine after no eku"),
                     "genuine after no eku")


@pytest.mark.parametrize("anchors", ANCHORS)
def test_expired_leaf_is_not_the_connector(trust_gateway, pki, tmp_path, anchors):
    gw = _gateway(trust_gateway, pki, tmp_path, anchors)
    assert_not_connector(gw, fax_run(gw, chain_context(pki, "chain-expired-full"), "expired"))
    tls = gw.events("tls")[-1]
    assert tls["cert_verified"] == "false" and "expired" in tls["verify_error"], tls["_line"]
    assert_connector(gw, fax_run(gw, chain_context(pki), "genuine after expired"),
                     "genuine after expired")


def test_intermediate_from_another_root_is_not_the_connector(trust_gateway, pki, tmp_path):
    """The listener trusts both roots (a partner's too), so the chain verifies there; the
    connector's ca_file holds only its own root. The foreign intermediate even has the
    genuine intermediate's subject name."""
    both = bundle(tmp_path, "both-roots.pem", chain_file(pki, "chain-root"),
                  chain_file(pki, "chain-other-root"))
    gw = _gateway(trust_gateway, pki, tmp_path, "connector_ca_file", listener_ca=both)
    assert_not_connector(gw, fax_run(gw, chain_context(pki, "chain-foreign-full"), "foreign"))
    tls = gw.events("tls")[-1]
    assert tls["cert_verified"] == "true", f"the listener's bundle should verify it: {tls['_line']}"
    assert_connector(gw, fax_run(gw, chain_context(pki), "genuine after foreign"),
                     "genuine after foreign")


def test_intermediate_from_another_root_without_connector_ca_file(trust_gateway, pki, tmp_path):
    gw = _gateway(trust_gateway, pki, tmp_path, "listener_client_ca_file")
    assert_not_connector(gw, fax_run(gw, chain_context(pki, "chain-foreign-full"), "foreign"))
    tls = gw.events("tls")[-1]
    assert tls["cert_verified"] == "false", tls["_line"]


# ------------------------------------------------- DigiCert Global Root G2 warning (item 10)

def test_exchange_root_warning_names_the_connector_ca_file(trust_gateway, pki, tmp_path):
    """The connector's own ca_file lacks DigiCert Global Root G2: the warning names it. The
    listener's bundle does not matter for a connector with its own ca_file."""
    root = chain_file(pki, "chain-root")
    gw = m365_gateway(trust_gateway, connector=m365_connector(ca_file=str(root)),
                      tls={"client_ca_file": str(DIGICERT_G2)})
    warnings = gw.events("tls_warning")
    assert [(w.get("connector"), w.get("ca_file")) for w in warnings] == \
        [("contoso-exo", str(root))], gw.log_text()[-3000:]
    assert "DigiCert Global Root G2" in warnings[0]["reason"]


def test_no_exchange_root_warning_when_the_connector_ca_file_has_it(trust_gateway, pki):
    assert DIGICERT_G2.exists(), "install ca-certificates (DigiCert Global Root G2)"
    gw = m365_gateway(trust_gateway, connector=m365_connector(ca_file=str(DIGICERT_G2)),
                      tls={"client_ca_file": str(pki.ca)})
    assert gw.events("tls_warning") == [], gw.log_text()[-3000:]


def test_exchange_root_warning_for_the_listener_bundle(trust_gateway, pki):
    """Without a ca_file of its own the connector relies on tls.client_ca_file."""
    gw = m365_gateway(trust_gateway, tls={"client_ca_file": str(pki.ca)})
    warnings = gw.events("tls_warning")
    assert [w.get("client_ca_file") for w in warnings] == [str(pki.ca)], gw.log_text()[-3000:]
