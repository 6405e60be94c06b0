"""Issue 11, SMS -> mail through the real gateway: the test SMSC (npm smpp) sends deliver_sm to
a number the directory gives alice; the mail reaches "Exchange Online" (aiosmtpd requiring a
client certificate) on a connection that presented the tenant's own certificate, from
<+491701234567@sms.example.com>, so that her reply goes back as an SMS, from the number the
SMS came in on. Concatenated SMS (UDH with 8- and 16-bit references, SAR TLVs) arrive in any
order and become one mail; an unknown number is refused with ESME_RINVDSTADR."""
from __future__ import annotations

import email
import email.policy

import pytest

from bhtest import wait_until
from smshelp import (ALICE, ALICE_NUMBERS, ESME_RINVDSTADR, HANDSET, SMS_DOMAIN,
                     TENANT_CERT_NAME, gsm_encode, sms_mail, sms_rig)  # noqa: F401 (fixture)

HANDSET_DISPLAY = "+49 170 1234567"


def parsed(content: bytes):
    return email.message_from_bytes(content, policy=email.policy.default)


def body_of(msg) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None, msg
    return part.get_content()


def sms_mails(rig, n: int = 1):
    """The mails (not DSNs) Exchange Online got for alice."""
    return rig.wait_mail(ALICE, null_sender=False, n=n, what="SMS mail")


def test_incoming_sms_becomes_a_mail_and_the_reply_goes_from_that_number(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    text = "Kommst du heute Abend? Gruß, Bob"
    # Sent to alice's second service number: a reply must come from it, not from her first.
    answer = rig.smsc.cmd("mo", source=HANDSET, destination=ALICE_NUMBERS[1], text=text)
    assert answer["statuses"] == [0], answer
    [mail] = sms_mails(rig)
    assert mail.tls, "delivered without TLS"
    assert mail.peer_cn() == TENANT_CERT_NAME, f"presented {mail.tls['peercert']}"
    msg = parsed(mail.content)
    assert msg["From"].addresses[0].addr_spec == f"{HANDSET}@{SMS_DOMAIN}", msg["From"]
    assert msg["To"].addresses[0].addr_spec == ALICE, msg["To"]
    assert HANDSET_DISPLAY in msg["Subject"], msg["Subject"]
    assert text in body_of(msg), body_of(msg)
    assert msg["Message-ID"], "no Message-ID"

    reply = ("Ja, um acht.\n\nOn Wed, 2 Dec 2026 at 07:00, "
             f"{HANDSET}@{SMS_DOMAIN} wrote:\n> {text}\n")
    rig.submit(sms_mail(reply, subject=f"Re: {msg['Subject']}"))
    [sub] = rig.smsc.wait_submits(gw=rig.gw)
    assert sub["destination_addr"] == HANDSET.lstrip("+"), sub
    assert (sub["source_addr_ton"], sub["source_addr"]) == (1, ALICE_NUMBERS[1].lstrip("+")), \
        "the reply goes out from the number the SMS came in on"
    # The quoted SMS is cut off: only the answer is sent.
    assert bytes.fromhex(sub["short_message"]) == gsm_encode("Ja, um acht."), sub["text"]


def test_ucs2_sms_becomes_a_mail(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    text = "Привет 😀 Grüße aus 東京"
    answer = rig.smsc.cmd("mo", source=HANDSET, destination=ALICE_NUMBERS[0], text=text,
                          coding="ucs2")
    assert answer["statuses"] == [0], answer
    [mail] = sms_mails(rig)
    assert text in body_of(parsed(mail.content))


@pytest.mark.parametrize("concat", ["udh8", "udh16", "sar"])
def test_concatenated_sms_arrives_as_one_mail(sms_rig, concat):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    text = " ".join(f"Teil{n:03d}" for n in range(50))  # 399 characters: 3 parts
    answer = rig.smsc.cmd("mo", source=HANDSET, destination=ALICE_NUMBERS[0], text=text,
                          concat=concat, ref=0x1234 if concat != "udh8" else 0x34,
                          order=[2, 3, 1])
    assert answer["parts"] == 3 and answer["statuses"] == [0, 0, 0], answer
    [mail] = sms_mails(rig)
    assert text in body_of(parsed(mail.content))
    # Only one mail for the three parts.
    assert not wait_until(lambda: len(rig.messages_to(ALICE)) > 1, 2), \
        [m.subject for m in rig.messages_to(ALICE)]


def test_sms_from_an_alphanumeric_sender_has_no_reply_address(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    answer = rig.smsc.cmd("mo", source="MyBank", source_ton=5, source_npi=0,
                          destination=ALICE_NUMBERS[0], text="Ihr Code: 123456")
    assert answer["statuses"] == [0], answer
    [mail] = sms_mails(rig)
    msg = parsed(mail.content)
    assert msg["From"].addresses[0].addr_spec == f"no-reply@{SMS_DOMAIN}", msg["From"]
    assert "MyBank" in str(msg["Subject"]) + body_of(msg)


def test_sms_to_an_unknown_number_is_refused(sms_rig):
    rig = sms_rig()
    rig.smsc.wait_bound(gw=rig.gw)
    answer = rig.smsc.cmd("mo", source=HANDSET, destination="+4930555000111", text="wrong number")
    assert answer["statuses"] == [ESME_RINVDSTADR], answer
    assert not wait_until(lambda: rig.messages_to(ALICE), 2)


def test_parts_that_never_complete_are_mailed_after_reassembly_timeout(sms_rig):
    """Parts 1 and 3 of 3 arrive, part 2 never does: after reassembly_timeout (and the sweep,
    every 10 s) the mail goes out with what came and names the missing part."""
    rig = sms_rig(reassembly_timeout=10)
    rig.smsc.wait_bound(gw=rig.gw)
    text = " ".join(f"Stueck{n:03d}" for n in range(40))  # 399 characters: 3 parts
    answer = rig.smsc.cmd("mo", source=HANDSET, destination=ALICE_NUMBERS[0], text=text,
                          concat="udh8", ref=0x77, order=[1, 3])
    assert answer["statuses"] == [0, 0], "each part is acknowledged once it is durable"
    assert not wait_until(lambda: rig.messages_to(ALICE), 5), "no mail before the timeout"
    [mail] = rig.wait_mail(ALICE, null_sender=False, timeout=40, what="incomplete SMS mail")
    body = body_of(parsed(mail.content))
    assert text[:153] in body, body  # part 1: the first 153 characters
    assert text[306:] in body, body  # part 3
    assert text[153:306] not in body, body
    assert "Part 2 of 3" in body, body
