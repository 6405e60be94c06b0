"""Issue 11, mail -> SMS through the real gateway and a real SMPP peer (npm smpp, the test SMSC
of tests/support/smsc): the bind, what a mail becomes on the wire (GSM 7-bit, UCS-2 with
emoji, a long text in concatenated parts that the test puts back together from the SMSC's
records), and what never reaches the SMSC: a sender without the sms permission, an address
that is no number, a text too long for max_parts. Receipts, notices and restarts are in
test_sms_receipts.py, SMS -> mail in test_sms_inbound.py."""
from __future__ import annotations

from bhtest import wait_until
from smshelp import (ALICE, ALICE_NUMBERS, BOB, HANDSET, SMS_DOMAIN, SYSTEM_ID, gsm_decode,
                     gsm_encode, reassemble, sms_mail, sms_rig)  # noqa: F401 (fixture)
from smtppeers import parse_dsn, wait_delivery, wait_state

NUMBER = HANDSET.lstrip("+")


def gsm_decode_hex(sm: str) -> str:
    return gsm_decode(bytes.fromhex(sm))


def failure_dsn(rig, status: str):
    """The one failure DSN alice got: (parts of parse_dsn, its recipient block)."""
    [dsn] = rig.wait_mail(ALICE, null_sender=True, what="DSN")
    _, parts = parse_dsn(dsn.content)
    [block] = parts["recipients"]
    assert str(block["Action"]).strip() == "failed", block
    assert str(block["Status"]).strip() == status, block
    return parts, block


# --------------------------------------------------------------------------- the bind

def test_binds_as_transceiver_and_keeps_the_link_alive(sms_rig):
    rig = sms_rig(enquire_link_interval=5)  # the smallest the kind allows
    rig.smsc.wait_bound(gw=rig.gw)
    [bind] = rig.smsc.records("bind")
    assert (bind["command"], bind["system_id"], bind["status"]) == \
        ("bind_transceiver", SYSTEM_ID, 0), bind
    assert bind["interface_version"] == 0x34, bind
    # A quiet link is probed after enquire_link_interval.
    rig.smsc.wait_records("enquire_link", timeout=15, gw=rig.gw)
    assert len(rig.smsc.records("connect")) == 1, "one bind, not reconnecting"


def test_a_refused_bind_is_retried_and_mail_waits(sms_rig):
    """The SMSC wants another password: every bind is refused (ESME_RINVPASWD), the gateway
    keeps trying (at reconnect_max) and keeps running; a mail defers with 4.4.1 after
    submit_wait instead of bouncing."""
    rig = sms_rig(smsc={"password": "other"}, submit_wait=2)
    binds = rig.smsc.wait_records("bind", n=2, timeout=15, gw=rig.gw)
    assert all(b["status"] == 0x0E for b in binds), binds
    qid = rig.submit(sms_mail("waiting for the bind"))
    [deferred] = wait_delivery(rig.gw, qid, "deferred", timeout=30)
    assert deferred["status"] == "4.4.1", deferred["_line"]
    assert not rig.smsc.records("submit_sm"), "nothing is submitted without a bind"
    assert rig.gw.alive()


# --------------------------------------------------------------------------- what is sent

def test_short_gsm_text(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    text = "Hallo Bob, das Paket ist da: 2 Stück @ 5€ [Tür 3]."
    qid = rig.submit(sms_mail(text + "\n"))
    [sub] = rig.smsc.wait_submits(gw=rig.gw)
    assert (sub["dest_addr_ton"], sub["dest_addr_npi"], sub["destination_addr"]) == (1, 1, NUMBER)
    # No conversation yet: alice's first service number for SMS.
    assert (sub["source_addr_ton"], sub["source_addr_npi"], sub["source_addr"]) == \
        (1, 1, ALICE_NUMBERS[0].lstrip("+")), sub
    assert sub["data_coding"] == 0 and not sub["esm_class"] & 0x40 and sub["udh"] is None, sub
    assert bytes.fromhex(sub["short_message"]) == gsm_encode(text), sub["text"]
    assert sub["registered_delivery"] & 0x03 == 1, "a receipt is requested"
    assert sub["tlvs"] == {}, sub["tlvs"]
    wait_delivery(rig.gw, qid, "pending")
    # The SMSC's DELIVRD receipt resolves it; success_notice = "dsn" and no NOTIFY=SUCCESS:
    # no notice.
    wait_state(rig.gw, qid, None, timeout=30)
    assert rig.gw.events("pending_resolved", id=qid, result="delivered"), rig.gw.log_text()[-3000:]
    assert not rig.messages_to(ALICE), "no notice was asked for"


def test_ucs2_text_with_emoji(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    text = "Grüße aus Köln 😀 — Привет, 你好!"
    rig.submit(sms_mail(text))
    [sub] = rig.smsc.wait_submits(gw=rig.gw)
    assert sub["data_coding"] == 0x08 and sub["udh"] is None, sub
    # UTF-16BE: the emoji is a surrogate pair (d83d de00).
    assert bytes.fromhex(sub["short_message"]) == text.encode("utf-16-be"), sub["text"]
    assert "d83dde00" in sub["short_message"]


def test_long_text_goes_in_concatenated_parts(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    words = "Lieferung Rechnung Angebot Termin Besprechung Projekt Zeitplan Budget".split()
    text = " ".join(words[i % len(words)] for i in range(80))[:399] + "."
    assert len(text) == 400 and text.strip() == text
    qid = rig.submit(sms_mail(text + "\n", subject="long"))
    wait_delivery(rig.gw, qid, "pending", timeout=30)
    parts = rig.smsc.submits()
    # 153 septets a part after the 6-octet UDH: 400 characters are 3 parts.
    assert len(parts) == 3, [len(bytes.fromhex(p["short_message"])) for p in parts]
    for p in parts:
        # SMPP carries GSM septets unpacked, one an octet: the 6-octet UDH and at most 153
        # septets (140 octets once packed for the air).
        sm = bytes.fromhex(p["short_message"])
        assert sm[0] == 5 and len(sm) - 6 <= 153, (len(sm), p["udh"])
        assert (p["destination_addr"], p["data_coding"]) == (NUMBER, 0), p
    assert reassemble(parts) == text
    # Three receipts, one outcome.
    wait_state(rig.gw, qid, None, timeout=30)
    assert len(rig.gw.events("pending_resolved", id=qid)) == 1


def test_long_text_with_sar_tlvs_or_message_payload(sms_rig):
    """long_messages = "sar": parts without a UDH, the sar_* TLVs carrying reference, total
    and sequence; "message_payload": one submit_sm, sm_length 0, the whole text in the TLV."""
    text = " ".join(f"Wort{n:03d}" for n in range(50))  # 399 characters
    sar = sms_rig(long_messages="sar", validity_period="000001000000000R")
    sar.smsc.wait_bound(gw=sar.gw)
    sar.submit(sms_mail(text))
    parts = sar.smsc.wait_submits(3, gw=sar.gw)
    refs = set()
    for n, p in enumerate(parts, 1):
        assert p["udh"] is None and not p["esm_class"] & 0x40, p
        tlvs = p["tlvs"]
        refs.add(tlvs["0x020c"])
        assert (int(tlvs["0x020e"], 16), int(tlvs["0x020f"], 16)) == (3, n), tlvs
        assert p["validity_period"] == "000001000000000R", p["validity_period"]
    assert len(refs) == 1 and len(next(iter(refs))) == 4, f"one 16-bit reference: {refs}"
    assert "".join(gsm_decode_hex(p["short_message"]) for p in parts) == text

    payload = sms_rig(long_messages="message_payload")
    payload.smsc.wait_bound(gw=payload.gw)
    payload.submit(sms_mail(text))
    [one] = payload.smsc.wait_submits(gw=payload.gw)
    assert one["sm_length"] == 0 and one["short_message"] == "", one
    assert bytes.fromhex(one["tlvs"]["0x0424"]) == gsm_encode(text)


def test_a_submit_refused_by_the_smsc_bounces(sms_rig):
    """ESME_RINVDSTADR from the SMSC: 5.1.1, the DSN naming the SMPP status."""
    rig = sms_rig(smsc={"reject": f"{NUMBER}=11"})
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("to a number the SMSC refuses"))
    [bounce] = wait_delivery(rig.gw, qid, "bounced", timeout=30)
    assert bounce["status"] == "5.1.1", bounce["_line"]
    parts, block = failure_dsn(rig, "5.1.1")
    assert "ESME_RINVDSTADR" in str(block["Diagnostic-Code"]), block
    assert [r["status"] for r in rig.smsc.records("submit_sm")] == [0x0B], "not retried"


# --------------------------------------------------------------------------- refused

def test_sender_without_the_sms_permission_is_refused(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    code, reply = rig.try_submit(sms_mail("not allowed", sender=BOB),
                                 rcpts=(f"{HANDSET}@{SMS_DOMAIN}",), sender=BOB)
    assert code == 550 and reply.startswith(b"5.7.1"), (code, reply)
    assert b"sms" in reply.lower(), reply
    assert not rig.gw.queue_list(), "a refused message was queued"
    assert not rig.smsc.records("submit_sm")


def test_an_address_that_is_no_number_bounces_5_1_3(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("to nobody", to=f"ann@{SMS_DOMAIN}"),
                     rcpts=(f"ann@{SMS_DOMAIN}",))
    [bounce] = wait_delivery(rig.gw, qid, "bounced", timeout=30)
    assert bounce["status"] == "5.1.3", bounce["_line"]
    parts, block = failure_dsn(rig, "5.1.3")
    assert f"ann@{SMS_DOMAIN}" in str(block["Final-Recipient"]), block
    assert not rig.smsc.records("submit_sm")


def test_a_text_too_long_for_max_parts_bounces_5_3_4_saying_the_length(sms_rig):
    rig = sms_rig(max_parts=2)
    rig.smsc.wait_bound(gw=rig.gw)
    qid = rig.submit(sms_mail("x" * 400))
    [bounce] = wait_delivery(rig.gw, qid, "bounced", timeout=30)
    assert bounce["status"] == "5.3.4", bounce["_line"]
    parts, block = failure_dsn(rig, "5.3.4")
    # Two parts of 153 GSM characters: at most 306.
    said = parts["text"] + str(block.get("Diagnostic-Code", ""))
    assert "306" in said, said
    assert not rig.smsc.records("submit_sm")


# --------------------------------------------------------------------------- TLS

def test_binds_over_tls_verifying_the_smsc(sms_rig, pki):
    rig = sms_rig(smsc={"tls-key": pki.server_key, "tls-cert": pki.server},
                  bind_extra={"tls": True, "tls_ca_file": pki.ca, "tls_server_name": "localhost"})
    rig.smsc.wait_bound(gw=rig.gw)
    rig.submit(sms_mail("over TLS"))
    [sub] = rig.smsc.wait_submits(gw=rig.gw)
    assert bytes.fromhex(sub["short_message"]) == gsm_encode("over TLS")


def test_two_binds_share_the_work(sms_rig):
    rig = sms_rig(binds=2)
    rig.smsc.wait_bound(count=2, gw=rig.gw)
    for n in range(6):
        rig.submit(sms_mail(f"message {n}"))
    subs = rig.smsc.wait_submits(6, gw=rig.gw)
    assert sorted(s["text"] for s in subs) == [f"message {n}" for n in range(6)]
    assert wait_until(lambda: len({s["session"] for s in rig.smsc.submits()}) == 2, 1), \
        f"all submits went through one bind: {[s['session'] for s in subs]}"
