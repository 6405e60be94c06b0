"""Issue 8 end to end, on loopback with the real binary: two tenants through one verified
Microsoft 365 inbound connector, routes scoped by tenant to per-tenant smtp connectors that
present each tenant's own client certificate to an "Exchange Online inbound" peer; the signed
processed stamp; header hygiene by audience; transport rules in the live path; the hop limit;
the refusal at end of DATA when a tenant has no route. The stamp's trust, the loop guard and
the hop limit are in test_topology_stamp.py (it imports the helpers below).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import smtplib
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from bhtest import _toml_value, wait_until
from smtpclient import SmtpClient, make_message
from smtppeers import FAST_QUEUE, wait_delivery
from trusthelp import TrustGateway, assert_reply

TA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"   # tenant A, domain a.example
TB = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"   # tenant B, domain b.example
EXO_IN = "exo-in"
TENANTS = [{"id": TA, "name": "tenant-a", "domains": ["a.example"]},
           {"id": TB, "name": "tenant-b", "domains": ["b.example"]}]
STAMP = "X-Bridgehead-Processed"
STAMP_RE = re.compile(r"v=1; n=([!-:<-~]+); t=(\d+); k=([0-9a-f]{8}); s=([A-Za-z0-9_-]{43})")
TENANT_NAMES = {TA: "mail.a.example", TB: "mail.b.example"}


# --------------------------------------------------------------------------- PKI

@pytest.fixture(scope="module")
def tenant_certs(pki, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """{tenant id: (cert, key)}: client certificates CN/SAN mail.a.example and mail.b.example
    (clientAuth) signed by the test CA, as Exchange Online wants one per tenant."""
    out = tmp_path_factory.mktemp("tenant-pki")
    env = {**os.environ, "OPENSSL_CONF": "/dev/null"}
    certs = {}
    for tenant, name in TENANT_NAMES.items():
        key, csr, ext, pem = (out / f"{name}.{x}" for x in ("key", "csr", "ext", "pem"))
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       f"extendedKeyUsage=clientAuth\nsubjectAltName=DNS:{name}\n")
        for cmd in (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                    ["req", "-new", "-key", key, "-subj", f"/O=Bridgehead Tests/CN={name}", "-out", csr],
                    ["x509", "-req", "-in", csr, "-CA", pki.ca, "-CAkey", pki.ca_key, "-days", "30",
                     "-sha256", "-extfile", ext, "-set_serial", "0x" + os.urandom(8).hex(), "-out", pem]):
            r = subprocess.run(["openssl", *map(str, cmd)], capture_output=True, text=True, env=env)
            assert r.returncode == 0, f"openssl {cmd[0]}: {r.stderr}"
        key.chmod(0o600)
        certs[tenant] = (pem, key)
    return certs


# --------------------------------------------------------------------------- gateway

def _value(v) -> str:
    if isinstance(v, dict):  # an inline table: reject = { code = 550, ... }
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return _toml_value(v)


def render(cfg: dict) -> str:
    """render_toml plus inline tables and [[connector.tenant_certificate]] sub-tables."""
    out = []
    for name, body in cfg.items():
        if body is None:
            continue
        for t in (body if isinstance(body, list) else [body]):
            out.append(f"[[{name}]]" if isinstance(body, list) else f"[{name}]")
            out += [f"{k} = {_value(v)}" for k, v in t.items()
                    if v is not None and k != "tenant_certificate"]
            for sub in t.get("tenant_certificate", ()):
                out.append(f"[[{name}.tenant_certificate]]")
                out += [f"{k} = {_value(v)}" for k, v in sub.items()]
            out.append("")
    return "\n".join(out)


class TopoGateway(TrustGateway):
    """TrustGateway plus [stamp] (a 0600 key of 32 random bytes, gw.stamp_key) and [[rule]]
    (overrides rules=[...])."""

    def __post_init__(self):
        super().__post_init__()
        self.stamp_file = self.tmp / "stamp.key"
        self.stamp_key = os.urandom(32)
        self.stamp_file.write_bytes(self.stamp_key)
        self.stamp_file.chmod(0o600)

    def config_dict(self) -> dict:
        cfg = super().config_dict()
        cfg["stamp"] = {"key_file": self.stamp_file}
        cfg["rule"] = self.overrides.get("rules")
        return cfg

    def write_config(self):
        self.config.write_text(render(self.config_dict()))


def exo_inbound(tenants=(TA, TB)) -> dict:
    """The microsoft365 inbound connector: test-CA certificate named like Exchange Online."""
    return {"name": EXO_IN, "kind": "microsoft365",
            "certificate_names": ["mail.protection.outlook.com"], "tenants": list(tenants)}


def smtp_out(name, peer, audience="tenant", **kw) -> dict:
    return {"name": name, "type": "smtp", "smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
            "audience": audience, "idle_time": 0, **kw}


def file_out(name, directory) -> dict:
    return {"name": name, "type": "file", "directory": directory}


def topo_gateway(make_gateway, routes, connectors, **kw):
    return make_gateway(cls=TopoGateway, routes=routes, connectors=connectors, tenants=TENANTS,
                        inbound_connectors=[exo_inbound()], queue=dict(FAST_QUEUE), **kw)


def exo_peer(make_peer, pki, tenant):
    """An "Exchange Online inbound" peer for one tenant: STARTTLS, requires a client
    certificate from the test CA, and refuses (451 at DATA, so the message would stay deferred)
    one that is not named for its tenant, as Exchange's certificate-based inbound connector does."""
    want = TENANT_NAMES[tenant]

    def check(rec, n):
        cn = rec.peer_cn()
        return None if cn == want else f"451 4.7.1 client certificate {cn} is not {want}"
    return make_peer(tls=(pki.server, pki.server_key), client_ca=pki.ca, require_client_cert=True,
                     data_reply=check)


def exo_out(name, peer, pki, tenant_certs, tenant) -> dict:
    cert, key = tenant_certs[tenant]
    return smtp_out(name, peer, tls="verify", ca_file=pki.ca,
                    tenant_certificate=[{"tenant": tenant, "client_certificate": cert,
                                         "client_key": key}])


# --------------------------------------------------------------------------- clients

def tenant_headers(tenant, org) -> list[str]:
    return [f"X-MS-Exchange-CrossTenant-Id: {tenant}", f"X-OriginatorOrg: {org}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal",
            "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted"]


def tenant_message(subject, tenant, *, to="someone@partner.test", headers=()) -> tuple[str, bytes]:
    """(envelope sender, message) of a tenant's user, with the CrossTenant headers."""
    dom = "a.example" if tenant == TA else "b.example"
    sender = f"user@{dom}"
    return sender, make_message(subject, sender=sender, to=to,
                                headers=[*tenant_headers(tenant, dom), *headers])


def session(gw, transactions, *, m365=True, cert="client"):
    """One SMTP session; transactions = [(sender, [rcpts], msg)]. m365: STARTTLS presenting
    pki/<cert>.pem (Exchange Online's name, from the test CA), else plain text from 127.0.0.1
    (no inbound connector). Returns ([(RCPT replies, end-of-DATA reply or None)], transcript)."""
    results = []
    with SmtpClient(gw.port) as c:
        c.greet("mail.protection.outlook.com")
        if m365:
            c.starttls(gw.pki.client_context(cert))
            c.ehlo("mail.protection.outlook.com")
        for sender, rcpts, msg in transactions:
            c.expect(f"MAIL FROM:<{sender}>", 250)
            rr = [c.cmd(f"RCPT TO:<{r}>") for r in rcpts]
            final = c.send_data(msg) if any(r.code == 250 for r in rr) else None
            if final is None:
                c.expect("RSET", 250)
            results.append((rr, final))
        c.cmd("QUIT")
    return results, c.dump()


def send_one(gw, sender, rcpts, msg, *, m365=True) -> str:
    """One accepted message; returns its queue id."""
    [(rr, final)], dump = session(gw, [(sender, rcpts, msg)], m365=m365)
    for r in rr:
        assert_reply(r, 250, None, where=f"RCPT\n{dump}")
    assert_reply(final, 250, "2.0.0", where=f"end of DATA\n{dump}\n{gw.log_text()[-2000:]}")
    return final.queue_id()


# --------------------------------------------------------------------------- messages

def header_fields(msg: bytes, name: str) -> list[str]:
    """Every field `name` of the header, unfolded, values stripped."""
    head = re.sub(rb"\r\n[ \t]+", b" ", msg.split(b"\r\n\r\n", 1)[0])
    out = []
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.lower() == name.lower().encode():
            out.append(v.strip().decode("utf-8", "replace"))
    return out


def check_stamp(gw, msg: bytes, value: str, now=None):
    """The stamp has the documented form, the gateway's key id, a recent time, and its
    signature verifies (HMAC-SHA256 over the NUL-separated parts and the Message-ID)."""
    m = STAMP_RE.fullmatch(value)
    assert m, f"stamp does not look like v=1; n=...; t=...; k=...; s=...: {value!r}"
    node, t, k, s = m.groups()
    assert node == "localhost", value  # [stamp] node defaults to [server] hostname
    assert k == hashlib.sha256(gw.stamp_key).hexdigest()[:8], f"key id {k} is not the key's"
    assert abs(int(t) - (now or time.time())) < 120, f"stamp time {t} is not now"
    [mid] = header_fields(msg, "Message-ID")[:1] or [""]
    text = b"\0".join([STAMP.encode(), b"v=1", f"n={node}".encode(), f"t={t}".encode(),
                       f"k={k}".encode(), f"m={mid}".encode()])
    mac = base64.urlsafe_b64encode(hmac.new(gw.stamp_key, text, "sha256").digest()).rstrip(b"=")
    assert s == mac.decode(), f"stamp signature does not verify: {value!r}"


def one_stamp(gw, msg: bytes) -> str:
    stamps = header_fields(msg, STAMP)
    assert len(stamps) == 1, f"expected exactly one {STAMP}, got {stamps}:\n{msg[:1500]!r}"
    check_stamp(gw, msg, stamps[0])
    return stamps[0]


def files_in(d: Path) -> list[Path]:
    return sorted(Path(d).glob("*.eml"))


def wait_file(gw, d: Path, n=1) -> list[bytes]:
    ok = wait_until(lambda: len(files_in(d)) >= n, 10)
    assert ok, f"{d.name}: {len(files_in(d))} of {n} files; queue={gw.queue_list()}\n{gw.log_text()[-3000:]}"
    time.sleep(0.1)
    return [p.read_bytes() for p in files_in(d)]


# =========================================================================== tests

def test_two_tenants_each_to_its_exchange_with_its_own_certificate(make_gateway, make_peer, pki,
                                                                   tenant_certs):
    peer_a, peer_b = exo_peer(make_peer, pki, TA), exo_peer(make_peer, pki, TB)
    # The peers really check the name: B's certificate (same CA) is refused by A's peer.
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    ctx.load_cert_chain(*map(str, tenant_certs[TB]))
    with smtplib.SMTP("127.0.0.1", peer_a.port, timeout=10) as s:
        s.starttls(context=ctx)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.sendmail("x@b.example", ["y@partner.test"], b"Subject: probe\r\n\r\nx\r\n")
    assert refused.value.smtp_code == 451 and b"mail.b.example" in refused.value.smtp_error
    assert not peer_a.messages and peer_a.data_attempts == 1

    gw = topo_gateway(make_gateway,
                      routes=[{"domains": ["*"], "from_tenants": [TA], "connector": "exo-a"},
                              {"domains": ["*"], "from_tenants": [TB], "connector": "exo-b"}],
                      connectors=[exo_out("exo-a", peer_a, pki, tenant_certs, TA),
                                  exo_out("exo-b", peer_b, pki, tenant_certs, TB)])
    sa, ma = tenant_message("from tenant A", TA)
    sb, mb = tenant_message("from tenant B", TB)
    # One Exchange Online connection carries both tenants' mail, to the same recipient.
    results, dump = session(gw, [(sa, ["someone@partner.test"], ma),
                                 (sb, ["someone@partner.test"], mb)])
    qids = []
    for rr, final in results:
        assert_reply(final, 250, "2.0.0", where=f"end of DATA\n{dump}\n{gw.log_text()[-2000:]}")
        qids.append(final.queue_id())
    for qid in qids:
        wait_delivery(gw, qid, "delivered")
    [got_a], [got_b] = peer_a.wait_messages(1), peer_b.wait_messages(1)
    assert got_a.subject == "from tenant A" and got_b.subject == "from tenant B"
    assert got_a.peer_cn() == "mail.a.example", got_a.tls
    assert got_b.peer_cn() == "mail.b.example", got_b.tls
    assert ("DNS", "mail.a.example") in got_a.tls["peercert"]["subjectAltName"]
    assert (peer_a.data_attempts, peer_b.data_attempts) == (2, 1), "a wrong certificate was tried"
    for got, tenant in ((got_a, TA), (got_b, TB)):
        one_stamp(gw, got.content)
        # audience = "tenant": the CrossTenant header goes back to the tenant unchanged
        assert header_fields(got.content, "X-MS-Exchange-CrossTenant-Id") == [tenant]
    assert not gw.events("delivery", result="deferred"), gw.log_text()[-3000:]


def test_one_connector_two_tenant_certificates_never_share_a_connection(make_gateway, make_peer,
                                                                          pki, tenant_certs):
    """Both tenants' certificates on one connector to one smarthost: each message goes out with
    its own tenant's certificate, on connections of that tenant only."""
    def check(rec, n):
        [tenant] = header_fields(rec.content, "X-MS-Exchange-CrossTenant-Id")
        cn = rec.peer_cn()
        return None if cn == TENANT_NAMES.get(tenant) else f"451 4.7.1 {cn} sent mail of {tenant}"
    peer = make_peer(tls=(pki.server, pki.server_key), client_ca=pki.ca, data_reply=check)
    connector = smtp_out("exo", peer, tls="verify", ca_file=pki.ca, idle_time=2, tenant_certificate=[
        {"tenant": t, "client_certificate": c, "client_key": k} for t, (c, k) in tenant_certs.items()])
    gw = topo_gateway(make_gateway, routes=[{"domains": ["*"], "connector": "exo"}],
                      connectors=[connector])
    order = [TA, TB, TA, TB, TA]  # interleaved in one inbound session
    messages = [tenant_message(f"msg {i}", t) for i, t in enumerate(order)]
    results, dump = session(gw, [(sender, ["someone@partner.test"], msg) for sender, msg in messages])
    for _, final in results:
        assert_reply(final, 250, "2.0.0", where=dump)
        wait_delivery(gw, final.queue_id(), "delivered")
    got = peer.wait_messages(len(order))
    assert peer.data_attempts == len(order), "a message went out with the wrong certificate"
    conns = {t: {m.conn for m in got if m.peer_cn() == TENANT_NAMES[t]} for t in (TA, TB)}
    assert sum(m.peer_cn() == "mail.a.example" for m in got) == 3, [m.peer_cn() for m in got]
    assert conns[TA] and conns[TB] and not conns[TA] & conns[TB], conns


def test_control_headers_stay_with_the_tenant_and_leave_toward_the_internet(make_gateway, make_peer):
    peers = {aud: make_peer() for aud in ("tenant", "partner", "internet")}
    gw = topo_gateway(make_gateway,
                      routes=[{"domains": [f"{aud}.test"], "connector": f"to-{aud}"} for aud in peers],
                      connectors=[smtp_out(f"to-{aud}", p, aud) for aud, p in peers.items()])
    control = ["X-MS-Exchange-Organization-Foo: secret\r\n\tfolded on", "x-ms-exchange-organization-bar: 2",
               "X-Bridgehead-Rule: fax"]
    sender, msg = tenant_message("hygiene", TA, to="a@tenant.test", headers=control)
    qid = send_one(gw, sender, [f"x@{aud}.test" for aud in peers], msg)
    wait_delivery(gw, qid, "delivered", n=3)
    [kept] = peers["tenant"].wait_messages(1)
    for name in ("X-MS-Exchange-Organization-Foo", "X-MS-Exchange-Organization-Bar",
                 "X-Bridgehead-Rule", STAMP):
        assert len(header_fields(kept.content, name)) == 1, f"tenant audience lost {name}"
    one_stamp(gw, kept.content)
    assert header_fields(kept.content, "X-MS-Exchange-Organization-Foo") == ["secret folded on"]
    # Nothing else differs: the outside copies are the tenant copy without those fields.
    expected = re.sub(rb"(?mi)^(x-ms-exchange-organization-|x-bridgehead-)[^\r]*\r\n([ \t][^\r]*\r\n)*",
                      b"", kept.content)
    for aud in ("partner", "internet"):
        [sent] = peers[aud].wait_messages(1)
        assert sent.content == expected, f"{aud}: {sent.content!r}\ntenant copy:\n{kept.content!r}"
        assert header_fields(sent.content, "X-MS-Exchange-CrossTenant-Id") == [TA]


def test_rules_reject_and_add_header_in_the_live_path(make_gateway, tmp_path):
    out = tmp_path / "rules-out"
    gw = topo_gateway(make_gateway, routes=[{"domains": ["example.test"], "connector": "files"}],
                      connectors=[file_out("files", out)], outdir=out, rules=[
        {"name": "no secrets", "if_header_matches": {"name": "Subject", "regex": "(?i)^secret"},
         "reject": {"code": 550, "enhanced": "5.7.1", "text": "Secret mail is not accepted here"}},
        {"name": "tag", "if_recipient_domain": ["example.test"],
         "add_header": {"name": "X-Topology-Tag", "value": "tagged by rule"}}])
    results, dump = session(gw, [
        ("sender@origin.test", ["rcpt@example.test"], make_message("Secret plans")),
        ("sender@origin.test", ["rcpt@example.test"], make_message("ordinary"))], m365=False)
    (rr1, refused), (_, ok) = results
    assert_reply(rr1[0], 250, None, where=f"RCPT (rules run at end of DATA)\n{dump}")
    assert refused.code == 550 and refused.enhanced == "5.7.1", dump
    assert refused.text == "5.7.1 Secret mail is not accepted here", dump
    ev = gw.wait_event("policy", stage="rules", result="refused")
    assert "no secrets" in ev["reason"], ev["_line"]
    assert_reply(ok, 250, "2.0.0", where=dump)
    [data] = wait_file(gw, out)
    assert b"Subject: ordinary" in data
    assert header_fields(data, "X-Topology-Tag") == ["tagged by rule"], data[:2000]
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.endswith(b"\r\nX-Topology-Tag: tagged by rule"), "add_header adds at the end"
    time.sleep(0.3)
    assert len(files_in(out)) == 1, "the rejected message was delivered"


def test_tenant_without_a_route_is_refused_at_end_of_data(make_gateway, tmp_path):
    out = tmp_path / "a-only"
    gw = topo_gateway(make_gateway,
                      routes=[{"domains": ["*"], "from_tenants": [TA], "connector": "files"}],
                      connectors=[file_out("files", out)], outdir=out)
    sb, mb = tenant_message("from B, no route", TB)
    sa, ma = tenant_message("from A, routed", TA)
    results, dump = session(gw, [(sb, ["someone@partner.test"], mb),
                                 (sa, ["someone@partner.test"], ma)])
    (rr_b, final_b), (_, final_a) = results
    assert_reply(rr_b[0], 250, None, where=f"RCPT: the tenant is not known yet\n{dump}")
    assert_reply(final_b, 550, "5.7.1", "no route", where=dump)
    ev = gw.wait_event("policy", stage="route", result="refused")
    assert TB in ev["reason"], ev["_line"]
    assert_reply(final_a, 250, "2.0.0", where=dump)
    [data] = wait_file(gw, out)
    assert b"Subject: from A, routed" in data
    time.sleep(0.3)
    assert len(files_in(out)) == 1 and not gw.queue_list()
