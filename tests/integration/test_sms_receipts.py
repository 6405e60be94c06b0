"""Issue 11: what happens after submit_sm, through the real gateway and the test SMSC: delivery
receipts resolve the pending recipient (a report with success_notice = "report", a success DSN
on NOTIFY=SUCCESS, a failure DSN with Diagnostic-Code x-smpp for UNDELIV/EXPIRED/REJECTD),
ESME_RTHROTTLED is retried, an SMSC restart is survived, a receipt that comes after the gateway
restarted (or while it was down) still resolves, and receipts in another base than the
submit_sm_resp's ids match with receipt_ids."""
from __future__ import annotations

import email
import email.policy
import re

import pytest

from bhtest import wait_until
from smshelp import ALICE, ESME_RTHROTTLED, HANDSET, gsm_encode, sms_mail, sms_rig  # noqa: F401
from smtppeers import parse_dsn, wait_delivery, wait_state

NUMBER = HANDSET.lstrip("+")
HANDSET_DISPLAY = "+49 170 1234567"


def text_of(content: bytes) -> str:
    msg = email.message_from_bytes(content, policy=email.policy.default)
    out = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            out += [str(block) for block in part.get_payload()]
        elif part.get_content_maintype() == "text":
            out.append(part.get_content())
    return "\n".join(out)


def resolved(rig, qid: str, result: str, timeout: float = 30.0) -> dict:
    found = wait_until(lambda: rig.gw.events("pending_resolved", id=qid, result=result), timeout)
    assert found, f"{qid} not resolved as {result}:\n{rig.gw.log_text()[-4000:]}"
    return found[0]


# --------------------------------------------------------------------------- notices

def test_a_delivered_receipt_becomes_a_report(sms_rig):
    rig = sms_rig(success_notice="report")
    rig.smsc.wait_bound(gw=rig.gw)
    never = rig.submit(sms_mail("no report, please"), rcpt_options=("NOTIFY=NEVER",))
    qid = rig.submit(sms_mail("Bitte zurückrufen."))
    resolved(rig, never, "delivered")
    resolved(rig, qid, "delivered")
    rig.wait_mail(ALICE, null_sender=True, what="report")
    assert not wait_until(lambda: len(rig.messages_to(ALICE)) > 1, 3), \
        "NOTIFY=NEVER: no report"
    [report] = rig.messages_to(ALICE)
    text = text_of(report.content)
    assert HANDSET_DISPLAY in text or HANDSET in text, text
    assert "delivered" in text.lower(), text
    wait_state(rig.gw, qid, None)
    wait_state(rig.gw, never, None)


def test_notify_success_gets_a_success_dsn(sms_rig):
    rig = sms_rig()  # success_notice = "dsn"
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("tell me"), rcpt_options=("NOTIFY=SUCCESS,FAILURE",))
    resolved(rig, qid, "delivered")
    [dsn] = rig.wait_mail(ALICE, null_sender=True, what="success DSN")
    _, parts = parse_dsn(dsn.content)
    [block] = parts["recipients"]
    assert str(block["Action"]).strip() == "delivered", block
    assert str(block["Status"]).strip() == "2.0.0", block
    assert f"{HANDSET}@" in str(block["Final-Recipient"]) or f"{HANDSET}@" in \
        str(block.get("Original-Recipient", "")), block


@pytest.mark.parametrize("stat,status", [("UNDELIV", "5.4.0"), ("EXPIRED", "5.4.7"),
                                         ("REJECTD", "5.7.1")])
def test_a_failed_receipt_becomes_a_dsn(sms_rig, stat, status):
    rig = sms_rig(smsc={"receipt": f"{NUMBER}={stat}:034"})
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("this one will not arrive"))
    bounce = resolved(rig, qid, "bounced")
    [dsn] = rig.wait_mail(ALICE, null_sender=True, what="failure DSN")
    _, parts = parse_dsn(dsn.content)
    [block] = parts["recipients"]
    assert str(block["Action"]).strip() == "failed", block
    assert str(block["Status"]).strip() == status, (block, bounce["_line"])
    diagnostic = " ".join(str(block["Diagnostic-Code"]).split())
    assert diagnostic.lower().startswith("x-smpp;"), diagnostic
    assert f"stat:{stat}" in diagnostic, diagnostic
    # err:034 in the text, network_error_code 03 0022 in the TLV: either way the error 34.
    assert re.search(r"err:0*34\b|\b3:0*34\b", diagnostic), diagnostic
    wait_state(rig.gw, qid, None)


# --------------------------------------------------------------------------- the SMSC's moods

def test_throttled_submits_are_retried(sms_rig):
    rig = sms_rig(smsc={"throttle": 2})
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("throttled twice"))
    [accepted] = rig.smsc.wait_submits(gw=rig.gw)
    tries = rig.smsc.records("submit_sm")
    assert [t["status"] for t in tries] == [ESME_RTHROTTLED, ESME_RTHROTTLED, 0], tries
    assert {t["short_message"] for t in tries} == {gsm_encode("throttled twice").hex()}
    resolved(rig, qid, "delivered")
    assert not rig.gw.events("delivery", id=qid, result="deferred"), \
        "throttling is retried by the connector, not deferred"


def test_survives_an_smsc_restart(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    first = rig.submit(sms_mail("before the restart"))
    rig.smsc.wait_submits(gw=rig.gw)
    resolved(rig, first, "delivered")
    rig.smsc.cmd("restart", down_ms=1500)
    # The gateway notices the lost session and binds again once the SMSC is back.
    rig.smsc.wait_records("bind", n=2, timeout=30, gw=rig.gw)
    rig.smsc.wait_bound(gw=rig.gw)
    second = rig.submit(sms_mail("after the restart"))
    [_, sub] = rig.smsc.wait_submits(2, gw=rig.gw)
    assert bytes.fromhex(sub["short_message"]) == gsm_encode("after the restart")
    assert sub["session"] != rig.smsc.submits()[0]["session"]
    resolved(rig, second, "delivered")


def test_receipts_after_a_gateway_restart_resolve(sms_rig):
    """Receipts held back by the SMSC: one sent while the gateway is down (the SMSC keeps it
    until the next bind), one after the gateway is back; both resolve their messages, which
    the gateway kept pending across the restart."""
    rig = sms_rig(smsc={"receipt-default": "none"}, success_notice="report")
    rig.smsc.wait_bound(gw=rig.gw)
    a = rig.submit(sms_mail("receipt while down"))
    b = rig.submit(sms_mail("receipt after restart"))
    subs = rig.smsc.wait_submits(2, gw=rig.gw)
    wait_delivery(rig.gw, a, "pending")
    wait_delivery(rig.gw, b, "pending")
    ids = {s["text"]: s["message_id"] for s in subs}
    rig.gw.stop()
    assert wait_until(lambda: rig.smsc.cmd("stats")["sessions"] == 0, 10)
    queued = rig.smsc.cmd("receipt", id=ids["receipt while down"], stat="DELIVRD")
    assert queued["status"] is None, "no receiver bound: the SMSC keeps the receipt"
    rig.gw.start()
    rig.smsc.wait_records("bind", n=2, timeout=30, gw=rig.gw)
    rig.smsc.wait_bound(gw=rig.gw)
    later = rig.smsc.cmd("receipt", id=ids["receipt after restart"], stat="DELIVRD")
    assert later["status"] == 0, later
    resolved(rig, a, "delivered")
    resolved(rig, b, "delivered")
    rig.wait_mail(ALICE, null_sender=True, n=2, what="reports")
    # Each receipt acknowledged, the last answer to each ok (a transient refusal before is
    # allowed: the SMSC sends it again).
    last = {r["message_id"]: r["status"] for r in rig.smsc.records("deliver_sm_resp", kind="receipt")}
    assert last == {ids["receipt while down"]: 0, ids["receipt after restart"]: 0}, last


def test_receipt_ids_in_another_base(sms_rig):
    """The SMSC answers submit_sm with hex ids ("000003E8") and writes receipts in decimal
    ("1000"): receipt_ids = "hex_to_decimal" matches them."""
    rig = sms_rig(smsc={"ids": "hex", "receipt-ids": "dec", "id-start": 1000},
                  receipt_ids="hex_to_decimal")
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("ids in hex"))
    [sub] = rig.smsc.wait_submits(gw=rig.gw)
    assert sub["message_id"] == "000003E8"
    [receipt] = rig.smsc.wait_records("deliver_sm", kind="receipt", gw=rig.gw)
    assert receipt["message_id"] == "1000"
    resolved(rig, qid, "delivered")
