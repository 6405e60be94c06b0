"""Outbound SMTP outcomes: 4xx retried until delivered (exactly once), 5xx bounces with
RFC 3464 DSNs (checked field by field), NOTIFY=NEVER, null sender to hold, 8BITMIME and
SMTPUTF8 refusals, success DSN for a peer without DSN, delay DSN and queue lifetime."""
from __future__ import annotations

import re

import pytest

from bhtest import wait_until
from smtpclient import SmtpClient, make_message, send_raw, split_received
from smtppeers import deliveries, parse_dsn, smtp_gateway, wait_delivery, wait_state

SMTP_TEXT = "no such user here (bridgehead test)"


def _gw(make_gateway, peer, **kw):
    return smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                        **kw)


def _dsns(gw, qid, n=1, kind=None):
    """The DSN files written for qid (waits for n `dsn` log lines of `kind`)."""
    ev = wait_until(lambda: (lambda l: l if len(l) >= n else None)(
        [e for e in gw.events("dsn", id=qid) if kind in (None, e["kind"])]), 15)
    assert ev, f"no {n} dsn line(s) kind={kind} for {qid}:\n{gw.log_text()[-3000:]}"
    return [gw.wait_delivered(e["dsn_id"]) for e in ev]


def _field(block, name) -> str:
    v = block[name]
    assert v is not None, f"{name} missing from DSN block:\n{block}"
    return re.sub(r"\s+", " ", str(v)).strip()


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_4xx_is_retried_and_delivered_exactly_once(make_gateway, make_peer, stage):
    reply = "451 4.3.0 busy, try again later"
    kw = {"rcpt_reply": lambda a, n: reply if n <= 2 else None} if stage == "rcpt" else \
         {"data_reply": lambda m, n: reply if n <= 2 else None}
    peer = make_peer(**kw)
    gw = _gw(make_gateway, peer)
    msg = make_message(f"retry {stage}")
    qid = send_raw(gw.port, msg)
    wait_delivery(gw, qid, "delivered", timeout=20)
    wait_state(gw, qid, None)
    assert len(peer.messages) == 1, f"delivered {len(peer.messages)} times"
    assert split_received(peer.messages[0].content)[1] == msg
    deferred = deliveries(gw, qid, "deferred")
    assert len(deferred) == 2, [e["_line"] for e in deferred]
    for e in deferred:
        assert e["status"] == "4.3.0" and "451" in e["detail"], e["_line"]
    assert gw.events("dsn", id=qid) == [], "no DSN for a delivered message"


def test_deferred_message_is_listed_as_deferred(make_gateway, make_peer):
    peer = make_peer(rcpt_reply=lambda a, n: "450 4.2.1 mailbox busy")
    gw = _gw(make_gateway, peer, queue={"retry_delay": 30, "max_retry_delay": 60})
    qid = send_raw(gw.port, make_message("stays deferred"))
    wait_delivery(gw, qid, "deferred")
    wait_state(gw, qid, "deferred")
    show = gw.cli("queue", "show", qid)
    assert show.returncode == 0 and "rcpt@example.test" in show.stdout, show.stdout + show.stderr


@pytest.mark.parametrize("ret", [None, "HDRS", "FULL"])
def test_550_rcpt_produces_one_failure_dsn(make_gateway, make_peer, ret):
    peer = make_peer(rcpt_reply=lambda a, n: f"550 5.1.1 <{a}>: {SMTP_TEXT}" if a.startswith("bad") else None)
    gw = _gw(make_gateway, peer)
    body = b"The body text that only RET=FULL returns.\r\n"
    msg = make_message(f"bounce ret={ret}", body)
    mail_params = "ENVID=env-550-Xy.1" + (f" RET={ret}" if ret else "")
    with SmtpClient(gw.port) as c:
        c.greet()
        c.expect(f"MAIL FROM:<sender@origin.test> {mail_params}", 250)
        c.expect("RCPT TO:<good@example.test>", 250)
        c.expect("RCPT TO:<bad@example.test> NOTIFY=FAILURE ORCPT=rfc822;Original-Bad@example.test", 250)
        r = c.send_data(msg)
        c.check(r, 250)
        qid = r.queue_id()
    [got] = peer.wait_messages(1)
    assert got.rcpt_tos == ["good@example.test"]
    [bounce] = wait_delivery(gw, qid, "bounced")
    assert bounce["to"] == "bad@example.test" and bounce["status"] == "5.1.1", bounce["_line"]
    wait_state(gw, qid, None)

    [data] = _dsns(gw, qid, kind="failure")
    assert len(gw.events("dsn", id=qid)) == 1, "exactly one DSN"
    dsn, p = parse_dsn(data)
    assert "MAILER-DAEMON@localhost" in dsn["From"]
    assert "sender@origin.test" in dsn["To"]
    assert dsn.get_param("report-type") == "delivery-status"
    assert "bad@example.test" in p["text"] and "good@example.test" not in p["text"]

    pm = p["per_message"]
    assert _field(pm, "Reporting-MTA").lower() == "dns; localhost"
    assert _field(pm, "Original-Envelope-Id") == "env-550-Xy.1"
    assert len(p["recipients"]) == 1, "only the bounced recipient is reported"
    rb = p["recipients"][0]
    assert _field(rb, "Final-Recipient").lower() == "rfc822; bad@example.test"
    assert _field(rb, "Original-Recipient").lower() == "rfc822; original-bad@example.test"
    assert _field(rb, "Action") == "failed"
    assert _field(rb, "Status") == "5.1.1"
    assert _field(rb, "Remote-MTA").lower().startswith("dns;")
    diag = _field(rb, "Diagnostic-Code")
    assert diag.lower().startswith("smtp;") and "550" in diag and SMTP_TEXT in diag, diag

    if ret == "HDRS":
        assert p["returned_type"] == "text/rfc822-headers"
        returned = p["returned"].get_payload(decode=True)
        assert b"Subject: bounce ret=HDRS" in returned and body not in returned
    else:
        assert p["returned_type"] == "message/rfc822"
        [orig] = p["returned"].get_payload()
        assert orig["Subject"] == f"bounce ret={ret}"
        assert orig.get_payload().encode() == body


@pytest.mark.parametrize("stage", ["mail", "data"])
def test_5xx_to_mail_or_data_bounces_every_recipient(make_gateway, make_peer, stage):
    reply = "554 5.7.1 rejected by policy (bridgehead test)"
    kw = {"mail_reply": lambda a, n: reply} if stage == "mail" else {"data_reply": lambda m, n: reply}
    peer = make_peer(**kw)
    gw = _gw(make_gateway, peer)
    qid = send_raw(gw.port, make_message(f"reject at {stage}"), rcpts=("a@example.test", "b@example.test"))
    bounces = wait_delivery(gw, qid, "bounced", n=2)
    assert {e["to"] for e in bounces} == {"a@example.test", "b@example.test"}
    assert all(e["status"] == "5.7.1" for e in bounces), [e["_line"] for e in bounces]
    wait_state(gw, qid, None)
    [data] = _dsns(gw, qid, kind="failure")
    assert len(gw.events("dsn", id=qid)) == 1, "one DSN for both recipients"
    _, p = parse_dsn(data)
    finals = sorted(_field(b, "Final-Recipient").lower() for b in p["recipients"])
    assert finals == ["rfc822; a@example.test", "rfc822; b@example.test"]
    for b in p["recipients"]:
        assert _field(b, "Action") == "failed" and _field(b, "Status") == "5.7.1"
        assert "rejected by policy" in _field(b, "Diagnostic-Code")
    assert peer.messages == []


def test_notify_never_gives_no_dsn(make_gateway, make_peer):
    peer = make_peer(rcpt_reply=lambda a, n: f"550 5.1.1 {SMTP_TEXT}")
    gw = _gw(make_gateway, peer)
    qid = send_raw(gw.port, make_message("notify never"), rcpt_params="NOTIFY=NEVER")
    wait_delivery(gw, qid, "bounced")
    wait_state(gw, qid, None)  # the outcome (and any DSN) is recorded before it leaves
    assert gw.events("dsn", id=qid) == []
    assert gw.delivered() == []


def test_null_sender_bounce_goes_to_hold_without_dsn(make_gateway, make_peer):
    peer = make_peer(rcpt_reply=lambda a, n: f"550 5.1.1 {SMTP_TEXT}")
    gw = _gw(make_gateway, peer)
    qid = send_raw(gw.port, make_message("null sender bounce"), sender="")
    wait_delivery(gw, qid, "bounced")
    wait_state(gw, qid, "hold")
    assert gw.events("dsn", id=qid) == []
    assert gw.delivered() == []


def test_dsn_is_sent_with_the_null_sender(make_gateway, make_peer):
    """The DSN travels like any message; to an SMTP next hop its envelope sender is <>."""
    peer = make_peer(rcpt_reply=lambda a, n: f"550 5.1.1 {SMTP_TEXT}" if a.startswith("bad") else None)
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                      dsn_connector={"type": "smtp", "smarthosts": [f"127.0.0.1:{peer.port}"],
                                     "tls": "none"})
    qid = send_raw(gw.port, make_message("dsn envelope"), rcpts=("bad@example.test",))
    [dsn] = peer.wait_messages(1)
    assert dsn.mail_from == "<>", f"DSN envelope sender {dsn.mail_from!r}"
    assert dsn.rcpt_tos == ["sender@origin.test"]
    parse_dsn(dsn.content)
    wait_state(gw, qid, None)


@pytest.mark.parametrize("kind", ["8bit", "smtputf8"])
def test_refused_content_for_a_peer_without_the_extension(make_gateway, make_peer, kind):
    if kind == "8bit":
        peer = make_peer(drop_ehlo=("8BITMIME",))
        params, status = "BODY=8BITMIME", "5.6.3"
        msg = make_message("eight bit", "caf\u00e9\r\n".encode())
    else:
        peer = make_peer(smtputf8=False)
        params, status = "SMTPUTF8 BODY=8BITMIME", "5.6.7"
        msg = make_message("utf8 \u00fcber", b"body\r\n")
    gw = _gw(make_gateway, peer)
    qid = send_raw(gw.port, msg, mail_params=params)
    ascii_qid = send_raw(gw.port, make_message(f"plain ascii {kind}"))
    [bounce] = wait_delivery(gw, qid, "bounced")
    assert bounce["status"] == status, bounce["_line"]
    [data] = _dsns(gw, qid, kind="failure")
    _, p = parse_dsn(data)
    assert _field(p["recipients"][0], "Status") == status
    wait_delivery(gw, ascii_qid, "delivered")
    assert [m.subject for m in peer.messages] == [f"plain ascii {kind}"]
    assert all(c[0] == "sender@origin.test" for c in peer.mail_commands)
    assert len(peer.mail_commands) == 1, f"the refused message reached MAIL: {peer.mail_commands}"


def test_success_dsn_when_the_peer_has_no_dsn(make_gateway, make_peer):
    peer = make_peer()
    gw = _gw(make_gateway, peer)
    qid = send_raw(gw.port, make_message("notify success"), mail_params="ENVID=succ-1",
                   rcpt_params="NOTIFY=SUCCESS,FAILURE")
    peer.wait_messages(1)
    [data] = _dsns(gw, qid, kind="success")
    _, p = parse_dsn(data)
    assert _field(p["per_message"], "Original-Envelope-Id") == "succ-1"
    [rb] = p["recipients"]
    assert _field(rb, "Action") == "relayed"
    assert _field(rb, "Status").startswith("2.")
    assert _field(rb, "Final-Recipient").lower() == "rfc822; rcpt@example.test"
    assert p["returned_type"] == "text/rfc822-headers", "a success report returns headers only"


def test_delay_dsn_once_then_expiry_bounce(make_gateway, make_peer):
    peer = make_peer(rcpt_reply=lambda a, n: "451 4.2.0 come back later")
    gw = _gw(make_gateway, peer, queue={"delay_warning_time": 1, "max_queue_lifetime": 5})
    qid = send_raw(gw.port, make_message("delay and expire"))
    [delay] = _dsns(gw, qid, kind="delay")
    _, p = parse_dsn(delay)
    assert _field(p["recipients"][0], "Action") == "delayed"
    assert _field(p["recipients"][0], "Status") == "4.2.0"
    assert p["recipients"][0]["Will-Retry-Until"], "a delay DSN says until when it retries"
    [fail] = _dsns(gw, qid, kind="failure")
    _, p = parse_dsn(fail)
    assert _field(p["recipients"][0], "Action") == "failed"
    assert _field(p["recipients"][0], "Status") in ("4.4.7", "5.4.7", "4.2.0")
    assert "4.2.0 come back later" in _field(p["recipients"][0], "Diagnostic-Code")
    wait_state(gw, qid, None)
    kinds = [e["kind"] for e in gw.events("dsn", id=qid)]
    assert sorted(kinds) == ["delay", "failure"], f"one delay and one failure DSN: {kinds}"
    assert peer.messages == []
