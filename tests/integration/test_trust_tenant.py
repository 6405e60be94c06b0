"""Microsoft 365 inbound trust (docs/inbound-trust.md, steps 2 and 3) driven by swaks over
STARTTLS with client certificates: the certificate only says "some Exchange Online tenant";
the CrossTenant header, the tenant's domains and the directory decide who may use the fax
service. Includes the EchoSpoofing scenario (a foreign tenant through the same certificate)."""
from __future__ import annotations

import pytest

from smtpclient import SmtpClient
from trusthelp import (DIRECTORY, FAX_RCPT, M365_CONNECTOR, T1, T2, XTID, assert_nothing_queued,
                       assert_reply, good_headers, m365_connector, m365_gateway, swaks,
                       trust_gateway)  # noqa: F401  (fixture)


@pytest.fixture
def gw(trust_gateway):
    return m365_gateway(trust_gateway)


def _accepted(gw, run, subject):
    assert run.rc == 0 and run.final is not None, f"swaks failed (rc={run.rc}):\n{run.out}"
    assert_reply(run.final, 250, "2.0.0", where=f"end of DATA\n{run.out}")
    qid = run.qid()
    assert qid, f"no queue id:\n{run.out}"
    data = gw.wait_delivered(qid)
    assert f"Subject: {subject}".encode() in data, data[:2000]
    return data


def _refused_at_data(gw, run, *phrases):
    assert_reply(run.reply_to("RCPT"), 250, None, where=f"RCPT (the refusal belongs to end of DATA)\n{run.out}")
    assert_reply(run.final, 550, "5.7.1", *phrases, where=f"end of DATA\n{run.out}")
    assert_nothing_queued(gw)
    return run.final


# ---------------------------------------------------------------- accepted

@pytest.mark.parametrize("sender,from_hdr", [
    ("alice@contoso.test", None),
    ("alice@contoso.test", "From: Alice Example <alice@contoso.test>"),
    ("alice@contoso.test", "From: alice@contoso.onmicrosoft.com"),
])
def test_tenant_member_with_permission_is_delivered(gw, sender, from_hdr):
    run = swaks(gw, sender=sender, headers=good_headers(), subject="fax from alice",
                replace=[from_hdr] if from_hdr else ())
    data = _accepted(gw, run, "fax from alice")
    assert f"{XTID}: {T1}".encode() in data, "verified connection: the CrossTenant header must be kept"
    lines = gw.policy_lines()
    assert lines, f"no policy log line for an accepted message:\n{gw.log_text()[-3000:]}"


def test_uppercase_tenant_guid_is_the_same_tenant(gw):
    run = swaks(gw, headers=[f"{XTID}: {T1.upper()}", "X-OriginatorOrg: contoso.test",
                             "X-MS-Exchange-CrossTenant-AuthAs: Internal"],
                subject="uppercase guid")
    _accepted(gw, run, "uppercase guid")


def test_runtime_directory_import_is_seen_after_the_next_refresh(gw):
    r = _refused_at_data(gw, swaks(gw, sender="bob@contoso.test", headers=good_headers()),
                         "not permitted to use the fax service")
    gw.import_directory_and_wait(
        [*DIRECTORY[:1], ("bob@contoso.test", T1, "sms;fax"), *DIRECTORY[2:]])
    listing = gw.directory_cmd("list")
    assert listing.returncode == 0 and "bob@contoso.test" in listing.stdout, listing.stdout + listing.stderr
    run = swaks(gw, sender="bob@contoso.test", headers=good_headers(), subject="bob after import")
    _accepted(gw, run, "bob after import")
    assert r.code == 550


def test_internet_mail_allowed_when_configured(trust_gateway):
    g = m365_gateway(trust_gateway, m365_connector(allow_internet_mail=True))
    run = swaks(g, headers=[f"{XTID}: {T1}", "X-OriginatorOrg: contoso.test",
                            "X-MS-Exchange-CrossTenant-FromEntityHeader: Internet"], subject="internet ok")
    _accepted(g, run, "internet ok")


# ---------------------------------------------------------------- tenant (CrossTenant headers)

@pytest.mark.parametrize("sender", ["eve@fabrikam.test", "alice@contoso.test"])
def test_echospoofing_foreign_tenant_through_same_certificate(gw, sender):
    """Tenant T2 shares Exchange Online's certificate and IPs: the connector accepts only T1."""
    frm = "From: eve@fabrikam.test" if sender.startswith("eve") else None
    run = swaks(gw, sender=sender, headers=good_headers(T2, "fabrikam.test"),
                replace=[frm] if frm else ())
    r = _refused_at_data(gw, run, "is not accepted by connector", M365_CONNECTOR)
    assert T2 in r.text.lower(), f"reply should name the tenant: {r}"
    assert any(M365_CONNECTOR in l for l in gw.policy_lines()), gw.log_text()[-3000:]


def test_foreign_tenant_uppercase_guid_is_refused(gw):
    _refused_at_data(gw, swaks(gw, sender="eve@fabrikam.test", headers=[f"{XTID}: {T2.upper()}"]))


@pytest.mark.parametrize("case", ["absent", "only-in-body", "other-header-name"])
def test_missing_crosstenant_header(gw, case):
    headers = ["X-OriginatorOrg: contoso.test"]
    body = None
    if case == "only-in-body":
        body = f"{XTID}: {T1}\n"
    if case == "other-header-name":
        headers.append(f"X-MS-Exchange-CrossTenant-Id-Foo: {T1}")
    _refused_at_data(gw, swaks(gw, headers=headers, body=body), f"no {XTID} header")


@pytest.mark.parametrize("values", [
    [f"{XTID}: {T1}", f"{XTID}: {T1}"],
    [f"{XTID}: {T1}", f"{XTID}: {T2}"],
    [f"{XTID}: {T1}", f"{XTID.lower()}: {T1}"],
])
def test_several_crosstenant_headers(gw, values):
    _refused_at_data(gw, swaks(gw, headers=[*values, "X-OriginatorOrg: contoso.test"]),
                     f"several {XTID} headers")


@pytest.mark.parametrize("value", ["not-a-guid", T1 + "0", T1[:-1], T1[:-1] + "g", f"{T1},{T2}"])
def test_malformed_tenant_id(gw, value):
    _refused_at_data(gw, swaks(gw, headers=[f"{XTID}: {value}", "X-OriginatorOrg: contoso.test"]),
                     "is not a tenant id")


def test_originator_org_of_another_tenant(gw):
    _refused_at_data(gw, swaks(gw, headers=good_headers(T1, "fabrikam.test")),
                     "X-OriginatorOrg", "does not belong to the tenant")


@pytest.mark.parametrize("header", ["X-MS-Exchange-CrossTenant-FromEntityHeader: Internet",
                                    "X-MS-Exchange-CrossTenant-AuthAs: Anonymous"])
def test_mail_from_the_internet_may_not_use_the_service(gw, header):
    _refused_at_data(gw, swaks(gw, headers=[f"{XTID}: {T1}", "X-OriginatorOrg: contoso.test", header]),
                     "entered the tenant from the internet")


# ---------------------------------------------------------------- sender (directory)

def test_sender_without_permission(gw):
    bob = _refused_at_data(gw, swaks(gw, sender="bob@contoso.test", headers=good_headers()),
                           "Sender <bob@contoso.test> is not permitted to use the fax service")
    unknown = _refused_at_data(gw, swaks(gw, sender="mallory@contoso.test", headers=good_headers()),
                               "not permitted to use the fax service")
    # no directory content leaks: a known sender without permission and an unknown sender
    # get the same answer
    assert bob.text.replace("bob@", "X@") == unknown.text.replace("mallory@", "X@"), (bob, unknown)


@pytest.mark.parametrize("from_hdr", ["From: eve@fabrikam.test",
                                      'From: "alice@contoso.test" <eve@fabrikam.test>'])
def test_from_header_of_another_tenant(gw, from_hdr):
    _refused_at_data(gw, swaks(gw, headers=good_headers(), replace=[from_hdr]),
                     "From: address does not belong to the sending tenant")


def test_envelope_sender_of_another_tenant(gw):
    """eve has the fax permission, but the mail claims tenant T1."""
    _refused_at_data(gw, swaks(gw, sender="eve@fabrikam.test", headers=good_headers(),
                               replace=["From: alice@contoso.test"]),
                     "Sender <eve@fabrikam.test> does not belong to the sending tenant")


# ---------------------------------------------------------------- connector validation probe

def test_connector_validation_probe_is_accepted_not_delivered(gw):
    run = swaks(gw, sender="", headers=[f"{XTID}: {T1}", "X-OriginatorOrg: contoso.onmicrosoft.com"],
                replace=["From: O365ConnectorValidation@contoso.onmicrosoft.com"], subject="probe")
    assert "MAIL FROM:<>" in run.out, run.out
    assert_reply(run.final, 250, "2.0.0", "connector validation probe", where=run.out)
    # barrier: a real message after the probe is delivered, the probe never is
    _accepted(gw, swaks(gw, headers=good_headers(), subject="after probe"), "after probe")
    files = gw.delivered()
    assert len(files) == 1, f"the probe was delivered: {files}"
    assert b"Subject: probe" not in files[0].read_bytes()
    assert not gw.queue_list()


def test_probe_from_foreign_tenant_is_refused(gw):
    run = swaks(gw, sender="", headers=[f"{XTID}: {T2}"],
                replace=["From: O365ConnectorValidation@fabrikam.onmicrosoft.com"])
    _refused_at_data(gw, run, "is not accepted by connector")


# ---------------------------------------------------------------- connection identity

@pytest.mark.parametrize("cert", ["client-selfsigned", None])
def test_unverified_certificate_does_not_match_connector(gw, cert):
    """Same CN/SAN, not issued by the CA (or no certificate): no connector, no fax service."""
    run = swaks(gw, cert=cert, headers=good_headers())
    assert_reply(run.reply_to("MAIL"), 250, None, where=run.out)
    assert_reply(run.reply_to("RCPT"), 550, "5.7.1", where=run.out)
    assert run.final is None, f"DATA must not be reached without an accepted recipient:\n{run.out}"
    assert_nothing_queued(gw)
    # ordinary routes still work on that connection
    ok = swaks(gw, cert=cert, to="x@example.test", sender="someone@origin.test", subject="normal route")
    _accepted(gw, ok, "normal route")


def test_ip_range_must_match_too(trust_gateway):
    g = m365_gateway(trust_gateway, m365_connector(ip_ranges=["192.0.2.0/24"]))
    run = swaks(g, headers=good_headers())
    assert_reply(run.reply_to("RCPT"), 550, "5.7.1", where=run.out)
    assert_nothing_queued(g)


# ---------------------------------------------------------------- one session, several messages

def _raw(hdrs, body=b"page\r\n"):
    return b"".join(h.encode() + b"\r\n" for h in hdrs) + b"\r\n" + body


def test_tenant_is_decided_per_message_not_per_session(gw, pki):
    """A good T1 message must not make the next message of the same connection trusted;
    a refusal must not poison the next good one. BDAT is checked like DATA."""
    good = _raw(["From: <alice@contoso.test>", f"To: <{FAX_RCPT}>", "Subject: first",
                 f"{XTID}: {T1}", "X-OriginatorOrg: contoso.test",
                 "X-MS-Exchange-CrossTenant-AuthAs: Internal"])
    bad = _raw(["From: <eve@fabrikam.test>", f"To: <{FAX_RCPT}>", "Subject: second",
                f"{XTID}: {T2}", "X-OriginatorOrg: fabrikam.test"])
    with SmtpClient(gw.port) as c:
        c.greet("mail.protection.outlook.com")
        c.starttls(pki.client_context("client"))
        c.ehlo("mail.protection.outlook.com")
        outcomes = []
        for sender, msg, bdat in [("alice@contoso.test", good, False), ("eve@fabrikam.test", bad, False),
                                  ("eve@fabrikam.test", bad, True), ("alice@contoso.test", good, True),
                                  ("bob@contoso.test", good.replace(b"alice@", b"bob@"), True)]:
            c.expect(f"MAIL FROM:<{sender}>", 250)
            c.expect(f"RCPT TO:<{FAX_RCPT}>", 250)
            c.expect("RCPT TO:<y@example.test>", 250)  # a mixed transaction: one refusal for all
            if bdat:
                c.send(f"BDAT {len(msg)} LAST\r\n".encode() + msg)
                outcomes.append(c.read_reply())
            else:
                outcomes.append(c.send_data(msg))
        c.cmd("QUIT")
    where = c.dump()
    assert_reply(outcomes[0], 250, "2.0.0", where=where)
    assert_reply(outcomes[1], 550, "5.7.1", "is not accepted by connector", where=where)
    assert_reply(outcomes[2], 550, "5.7.1", "is not accepted by connector", where=where)
    assert_reply(outcomes[3], 250, "2.0.0", where=where)
    assert_reply(outcomes[4], 550, "5.7.1", "not permitted to use the fax service", where=where)
    for r in (outcomes[0], outcomes[3]):
        gw.wait_delivered(r.queue_id())
    # Each accepted message went to two file connectors (fax and files) that share a folder:
    # two deliveries each, both visible (a file connector never overwrites).
    from bhtest import wait_until
    expected = {f"{r.queue_id()}{suffix}" for r in (outcomes[0], outcomes[3]) for suffix in ("", "-2")}
    wait_until(lambda: {p.stem for p in gw.delivered()} == expected, 10)
    assert {p.stem for p in gw.delivered()} == expected and not gw.queue_list(), gw.delivered()


def test_policy_log_names_connector_tenant_and_reason(gw):
    _accepted(gw, swaks(gw, headers=good_headers(), subject="logged"), "logged")
    swaks(gw, sender="eve@fabrikam.test", headers=good_headers(T2, "fabrikam.test"),
          replace=["From: eve@fabrikam.test"])
    lines = gw.policy_lines()
    ok = [l for l in lines if "accepted" in l and T1 in l and M365_CONNECTOR in l]
    bad = [l for l in lines if "refused" in l and T2 in l and M365_CONNECTOR in l and "reason=" in l]
    assert ok and bad, "policy lines must name connector, tenant and reason:\n" + "\n".join(lines)
