"""Who is connecting (docs/inbound-trust.md step 1): listener access lists (block/allow,
block_at connect or rcpt), partner lockdown (restrict_sender_domains -> 550 5.7.51
TenantInboundAttribution), connector require_tls and matching by IP range or certificate.
Clients bind to 127.0.0.1 / 127.0.0.2 (all of 127/8 is loopback) and ::1."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from smtpclient import make_message
from trusthelp import (T1, TENANTS, BoundClient, assert_reply, ipv6_available,  # noqa: F401
                       trust_gateway)

RCPT = "rcpt@example.test"


def _session(gw, source="127.0.0.1", *, port=None, host=None):
    c = BoundClient(port or gw.port, source, host)
    return c


@contextmanager
def _mail_from(gw, source, sender, *, port=None, host=None, ctx=None):
    """A session from source (STARTTLS with ctx if given) with MAIL FROM accepted."""
    with _session(gw, source, port=port, host=host) as c:
        c.greet()
        if ctx is not None:
            c.starttls(ctx)
            c.ehlo()
        c.expect(f"MAIL FROM:<{sender}>", 250)
        yield c


def _deliver_from(gw, source, sender, subject, *, port=None, host=None, ctx=None):
    """A full transaction from source; asserts 250 at every step and the delivery."""
    msg = make_message(subject, sender=sender)
    with _mail_from(gw, source, sender, port=port, host=host, ctx=ctx) as c:
        c.expect(f"RCPT TO:<{RCPT}>", 250)
        r = c.send_data(msg)
        c.check(r, 250, "2.0.0", "end of DATA")
        c.cmd("QUIT")
    gw.assert_delivered(r.queue_id(), msg)


def _rcpt_reply(gw, source, sender, *, port=None, host=None, ctx=None):
    with _mail_from(gw, source, sender, port=port, host=host, ctx=ctx) as c:
        r = c.cmd(f"RCPT TO:<{RCPT}>")
        r2 = c.cmd("DATA")
        assert r2.code != 354, f"DATA accepted without a recipient:\n{c.dump()}"
        c.cmd("QUIT")
        return r, c.dump()


def _assert_blocked_at_connect(gw, source, *, port=None, host=None):
    before = gw.delivered()
    with _session(gw, source, port=port, host=host) as c:
        g = c.read_reply()
        assert_reply(g, 554, "5.7.1", where=f"greeting for {source}\n{c.dump()}")
        # whatever the client tries afterwards, no mail is taken
        try:
            r = c.cmd("EHLO blocked.test")
            r = c.cmd("MAIL FROM:<a@origin.test>")
            assert r.code >= 500, f"blocked client got {r} to MAIL FROM\n{c.dump()}"
            r = c.cmd(f"RCPT TO:<{RCPT}>")
            assert r.code >= 500, f"blocked client got {r} to RCPT TO\n{c.dump()}"
        except (ConnectionError, OSError):
            pass  # closing the connection after the 554 greeting is fine
    assert gw.delivered() == before and not gw.queue_list()


# ---------------------------------------------------------------- access lists

def test_block_at_connect(trust_gateway):
    gw = trust_gateway(access={"block": ["127.0.0.0/8"]})
    _assert_blocked_at_connect(gw, "127.0.0.1")
    _assert_blocked_at_connect(gw, "127.0.0.2")


def test_allow_overrides_block(trust_gateway):
    gw = trust_gateway(access={"allow": ["127.0.0.2/32"], "block": ["127.0.0.0/8"]})
    _assert_blocked_at_connect(gw, "127.0.0.1")
    _assert_blocked_at_connect(gw, "127.0.0.3")
    _deliver_from(gw, "127.0.0.2", "a@origin.test", "allowed client")


def test_unlisted_client_is_not_blocked(trust_gateway):
    gw = trust_gateway(access={"block": ["127.0.0.2/32"], "block_at": "connect"})
    _deliver_from(gw, "127.0.0.1", "a@origin.test", "not in block")
    _assert_blocked_at_connect(gw, "127.0.0.2")


def test_block_at_rcpt(trust_gateway):
    gw = trust_gateway(access={"allow": ["127.0.0.2/32"], "block": ["127.0.0.0/8"], "block_at": "rcpt"})
    with _session(gw, "127.0.0.1") as c:
        assert_reply(c.read_reply(), 220, None, where=c.dump())
        c.ehlo()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        for rcpt in (RCPT, "other@example.test"):
            assert_reply(c.cmd(f"RCPT TO:<{rcpt}>"), 554, "5.7.1", where=f"RCPT {rcpt}\n{c.dump()}")
        assert c.cmd("DATA").code != 354, c.dump()
        c.cmd("QUIT")
    _deliver_from(gw, "127.0.0.2", "a@origin.test", "allowed at rcpt")
    assert len(gw.delivered()) == 1


@pytest.mark.usefixtures("ipv6_loopback")
def test_ipv6_block_and_allow(trust_gateway):
    gw = trust_gateway(ipv6=True, access={"block": ["::/0"]})
    _assert_blocked_at_connect(gw, "::1", port=gw.port6)
    _deliver_from(gw, "127.0.0.1", "a@origin.test", "v4 not in ::/0")
    gw2 = trust_gateway(ipv6=True, access={"block": ["::/0", "0.0.0.0/0"], "allow": ["::1/128"]})
    _deliver_from(gw2, "::1", "a@origin.test", "v6 allowed", port=gw2.port6)
    _assert_blocked_at_connect(gw2, "127.0.0.1")


# ---------------------------------------------------------------- partner lockdown

def _partner(name="partner-lock", ranges=("127.0.0.2/32",), domains=("*",), **kw):
    return {"name": name, "kind": "partner", "ip_ranges": list(ranges),
            "restrict_sender_domains": None if domains is None else list(domains), **kw}


def _assert_locked(gw, r, dump, connector="partner-lock"):
    assert_reply(r, 550, "5.7.51", "TenantInboundAttribution", connector, where=dump)
    assert any(connector in l for l in gw.policy_lines()), \
        f"no policy log line naming {connector}:\n{gw.log_text()[-3000:]}"


def test_partner_lockdown_all_domains(trust_gateway):
    gw = trust_gateway(inbound_connectors=[_partner()])
    r, dump = _rcpt_reply(gw, "127.0.0.1", "x@any.test")
    _assert_locked(gw, r, dump)
    _deliver_from(gw, "127.0.0.2", "x@any.test", "through the partner connector")
    assert len(gw.delivered()) == 1


def test_partner_lockdown_one_domain(trust_gateway):
    gw = trust_gateway(inbound_connectors=[_partner(domains=["contoso.test"])])
    for sender in ("x@contoso.test", "Y@CONTOSO.TEST"):
        r, dump = _rcpt_reply(gw, "127.0.0.1", sender)
        _assert_locked(gw, r, dump)
    _deliver_from(gw, "127.0.0.1", "x@other.test", "other domain from anywhere")
    _deliver_from(gw, "127.0.0.1", "x@notcontoso.test", "suffix is another domain")
    _deliver_from(gw, "127.0.0.2", "x@contoso.test", "locked domain via its connector")
    assert len(gw.delivered()) == 3


def test_partner_matched_by_certificate(trust_gateway, pki):
    gw = trust_gateway(inbound_connectors=[{
        "name": "partner-cert", "kind": "partner", "certificate_names": ["partner.example.test"],
        "restrict_sender_domains": ["partner.test"]}])
    _deliver_from(gw, "127.0.0.1", "x@partner.test", "partner with its cert",
                  ctx=pki.client_context("partner"))
    for ctx in (None, pki.client_context(), pki.client_context("client"),
                pki.client_context("client-selfsigned")):
        r, dump = _rcpt_reply(gw, "127.0.0.1", "x@partner.test", ctx=ctx)
        _assert_locked(gw, r, dump, "partner-cert")


def test_wildcard_certificate_name(trust_gateway, pki):
    gw = trust_gateway(inbound_connectors=[{
        "name": "exo-wild", "kind": "partner", "certificate_names": ["*.protection.outlook.com"],
        "restrict_sender_domains": ["contoso.test"]}])
    _deliver_from(gw, "127.0.0.1", "x@contoso.test", "wildcard name", ctx=pki.client_context("client"))
    r, dump = _rcpt_reply(gw, "127.0.0.1", "x@contoso.test", ctx=pki.client_context("partner"))
    _assert_locked(gw, r, dump, "exo-wild")


def test_connector_require_tls(trust_gateway, pki):
    gw = trust_gateway(inbound_connectors=[_partner(domains=None, require_tls=True)])
    with _session(gw, "127.0.0.2") as c:
        c.greet()
        assert_reply(c.cmd("MAIL FROM:<x@any.test>"), 530, "5.7.0", where=c.dump())
    _deliver_from(gw, "127.0.0.2", "x@any.test", "partner over tls", ctx=pki.client_context())
    _deliver_from(gw, "127.0.0.1", "x@any.test", "not the partner, plain")


@pytest.mark.usefixtures("ipv6_loopback")
def test_partner_lockdown_ipv6(trust_gateway):
    gw = trust_gateway(ipv6=True, inbound_connectors=[_partner(ranges=["::1/128"])])
    _deliver_from(gw, "::1", "x@any.test", "partner over v6", port=gw.port6)
    r, dump = _rcpt_reply(gw, "127.0.0.1", "x@any.test")
    _assert_locked(gw, r, dump)


def test_empty_restrict_list_means_no_lockdown(trust_gateway):
    """docs/inbound-trust.md's example connector has `restrict_sender_domains = []`."""
    gw = trust_gateway(inbound_connectors=[_partner(domains=[])])
    _deliver_from(gw, "127.0.0.1", "x@any.test", "no lockdown")


def test_m365_connector_locks_tenant_domain(trust_gateway, pki):
    """Spoofing contoso.test by connecting directly (not through Exchange Online) is refused
    at RCPT TO when the microsoft365 connector locks the domain."""
    gw = trust_gateway(inbound_connectors=[{
        "name": "contoso-exo", "kind": "microsoft365", "certificate_names": ["mail.protection.outlook.com"],
        "tenants": [T1], "restrict_sender_domains": ["contoso.test"]}], tenants=TENANTS)
    for ctx in (None, pki.client_context(), pki.client_context("client-selfsigned"),
                pki.client_context("partner")):
        r, dump = _rcpt_reply(gw, "127.0.0.1", "ceo@contoso.test", ctx=ctx)
        _assert_locked(gw, r, dump, "contoso-exo")
    _deliver_from(gw, "127.0.0.1", "x@other.test", "other domain direct")


@pytest.mark.parametrize("overrides,needle", [
    ({"inbound_connectors": [{"name": "nothing", "kind": "partner"}]}, "inbound_connector"),
    ({"inbound_connectors": [_partner(ranges=["127.0.0.300/32"])]}, "ip_ranges"),
    ({"inbound_connectors": [_partner(ranges=["127.0.0.0/33"])]}, "ip_ranges"),
    ({"inbound_connectors": [_partner(kind="exchange")]}, "kind"),
    ({"access": {"block": ["::1/129"]}}, "block"),
    ({"access": {"block": ["127.0.0.0/8"], "block_at": "helo"}}, "block_at"),
])
def test_invalid_trust_config_is_refused(trust_gateway, overrides, needle):
    gw = trust_gateway(start=False, **overrides)
    gw.write_config()
    r = gw.cli("check-config")
    assert r.returncode != 0, f"check-config accepted an invalid file:\n{gw.config.read_text()}"
    assert needle in r.stdout + r.stderr, r.stdout + r.stderr
