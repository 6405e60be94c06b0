"""SIGHUP and client-certificate trust anchors (issue 7, item 6): a reload reads
tls.client_ca_file and every inbound connector's ca_file again, whether the path or only the
file's content changed, and the new connectors never verify against the old anchors. A bundle
that cannot be read, or a change to request_client_certificate, is refused with a
reload_failed line naming the key, and the running rules stay in force."""
from __future__ import annotations

import signal

from bhtest import wait_until
from chainhelp import (assert_connector, assert_not_connector, bundle, chain_context, chain_file,
                       chain_gateway, fax_run)
from trusthelp import m365_connector, trust_gateway  # noqa: F401  (fixture)


def sighup(gw, event: str) -> dict:
    """Send SIGHUP and wait for one more `event` line (reloaded / reload_failed)."""
    before = len(gw.events(event))
    gw.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: len(gw.events(event)) > before, 10), gw.log_text()[-3000:]
    return gw.events(event)[-1]


def test_connector_ca_file_rewritten_in_place(trust_gateway, pki, tmp_path):
    """Same path, new content: the connector trusts another root after the reload, so the
    chain it accepted before is no longer the connector."""
    anchors = bundle(tmp_path, "exo-anchors.pem", chain_file(pki, "chain-root"))
    both = bundle(tmp_path, "both-roots.pem", chain_file(pki, "chain-root"),
                  chain_file(pki, "chain-other-root"))
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=anchors, listener_ca=both)
    ctx = chain_context(pki)
    assert_connector(gw, fax_run(gw, ctx, "before reload"), "before reload")

    anchors.write_text(chain_file(pki, "chain-other-root").read_text())
    line = sighup(gw, "reloaded")
    assert_not_connector(gw, fax_run(gw, ctx, "after reload"))  # never the old anchors
    assert "ca_file" in line["note"], line["_line"]
    # and the other root's chain is the connector now
    assert_connector(gw, fax_run(gw, chain_context(pki, "chain-foreign-full"), "foreign root"),
                     "foreign root")


def test_connector_ca_file_path_changed(trust_gateway, pki, tmp_path):
    other = chain_file(pki, "chain-other-root")
    both = bundle(tmp_path, "both-roots.pem", chain_file(pki, "chain-root"), other)
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=other, listener_ca=both)
    ctx = chain_context(pki)
    assert_not_connector(gw, fax_run(gw, ctx, "before reload"))

    gw.overrides["inbound_connectors"] = [m365_connector(ca_file=str(chain_file(pki, "chain-root")))]
    gw.write_config()
    sighup(gw, "reloaded")
    assert_connector(gw, fax_run(gw, ctx, "after reload"), "after reload")


def test_client_ca_file_rewritten_in_place(trust_gateway, pki, tmp_path):
    """The connector has no ca_file: the listener's bundle decides, and a reload replaces
    the server context's verify store."""
    listener = bundle(tmp_path, "client-cas.pem", chain_file(pki, "chain-root"))
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=None, listener_ca=listener)
    ctx = chain_context(pki)
    assert_connector(gw, fax_run(gw, ctx, "before reload"), "before reload")

    listener.write_text(chain_file(pki, "chain-other-root").read_text())
    sighup(gw, "reloaded")
    assert_not_connector(gw, fax_run(gw, ctx, "after reload"))
    tls = gw.events("tls")[-1]
    assert tls["cert_verified"] == "false", tls["_line"]

    listener.write_text(chain_file(pki, "chain-root").read_text())
    sighup(gw, "reloaded")
    assert_connector(gw, fax_run(gw, ctx, "reloaded again"), "reloaded again")


def test_client_ca_file_path_changed(trust_gateway, pki, tmp_path):
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=None,
                       listener_ca=chain_file(pki, "chain-other-root"))
    ctx = chain_context(pki)
    assert_not_connector(gw, fax_run(gw, ctx, "before reload"))

    gw.overrides["tls"] = {"client_ca_file": str(chain_file(pki, "chain-root"))}
    gw.write_config()
    sighup(gw, "reloaded")
    assert_connector(gw, fax_run(gw, ctx, "after reload"), "after reload")


def test_unreadable_connector_ca_file_is_refused(trust_gateway, pki, tmp_path):
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=chain_file(pki, "chain-root"))
    missing = tmp_path / "missing.pem"
    gw.overrides["inbound_connectors"] = [m365_connector(ca_file=str(missing))]
    gw.write_config()
    failed = sighup(gw, "reload_failed")
    assert failed["key"] == "inbound_connector.ca_file", failed["_line"]
    assert "contoso-exo" in failed["reason"] and str(missing) in failed["reason"], failed["_line"]
    assert gw.events("reloaded") == []
    assert_connector(gw, fax_run(gw, chain_context(pki), "old rules"), "old rules")


def test_unreadable_client_ca_file_is_refused(trust_gateway, pki, tmp_path):
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=None)
    missing = tmp_path / "missing.pem"
    gw.overrides["tls"] = {"client_ca_file": str(missing)}
    gw.write_config()
    failed = sighup(gw, "reload_failed")
    assert failed["key"] == "tls.client_ca_file", failed["_line"]
    assert str(missing) in failed["reason"], failed["_line"]
    assert gw.events("reloaded") == []
    assert_connector(gw, fax_run(gw, chain_context(pki), "old rules"), "old rules")


def test_request_client_certificate_change_is_refused(make_gateway):
    gw = make_gateway()
    gw.overrides["tls"] = {"request_client_certificate": False}
    gw.write_config()
    failed = sighup(gw, "reload_failed")
    assert failed["key"] == "tls.request_client_certificate", failed["_line"]
    assert "restart" in failed["reason"], failed["_line"]


def test_reload_warns_about_a_connector_ca_file_without_the_exchange_root(trust_gateway, pki,
                                                                         tmp_path):
    """The DigiCert Global Root G2 check runs again for the reloaded connectors."""
    digicert = "/etc/ssl/certs/DigiCert_Global_Root_G2.pem"
    gw = chain_gateway(trust_gateway, pki, tmp_path, connector_ca=digicert)
    assert gw.events("tls_warning") == [], gw.log_text()[-3000:]
    root = chain_file(pki, "chain-root")
    gw.overrides["inbound_connectors"] = [m365_connector(ca_file=str(root))]
    gw.write_config()
    sighup(gw, "reloaded")
    assert wait_until(lambda: gw.events("tls_warning", connector="contoso-exo", ca_file=root), 5), \
        gw.log_text()[-3000:]
