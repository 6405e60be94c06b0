"""Forged Exchange headers (docs/inbound-trust.md step 2, last paragraph): on any connection
that is not a verified Microsoft 365 connection, X-MS-Exchange-CrossTenant-* and
X-MS-Exchange-Organization-* headers are removed before the message is queued (and the log
says `headers_removed`); everything else stays byte-exact. On a verified connection they stay."""
from __future__ import annotations

import re

import pytest

from smtpclient import CRLF, SmtpClient, split_received
from trusthelp import FAX_RCPT, T1, T2, XTID, m365_gateway, trust_gateway  # noqa: F401

# (header block incl. continuation lines, removed?)
HEADERS = [
    (f"{XTID}: {T2}", True),                                      # first header of the message
    ("Received: from mail.fabrikam.test by relay.test; Mon, 24 Nov 2025 11:59:00 +0000", False),
    ("From: <eve@fabrikam.test>", False),
    ("To: <rcpt@example.test>", False),
    ("x-ms-exchange-crosstenant-authas: Internal", True),
    ("X-MS-Exchange-Organization-AuthAs: Internal", True),
    ("X-MS-Exchange-Organization-AuthSource:\r\n\tEXO-SRV.contoso.test", True),
    ("Subject: forged exchange headers", False),
    ("X-MS-EXCHANGE-CROSSTENANT-ORIGINALARRIVALTIME: 24 Nov 2025\r\n 12:00:00.0000\r\n (UTC)", True),
    ("X-MS-Exchange-Transport-CrossTenantHeadersStamped: EXO-SRV", False),  # other prefix: kept
    (f"X-Note: copied from {XTID}: {T1}", False),
    ("Message-ID: <forged.exchange@tests.bridgehead>", False),
    ("Date: Mon, 24 Nov 2025 12:00:00 +0000", False),
    ("X-MS-Exchange-Organization-SCL: -1", True),
    ("X-MS-Has-Attach: yes", False),
    (f"X-MS-Exchange-CrossTenant-Id \t: {T1}", True),               # obsolete WSP before colon
    (f"X-MS-Exchange-CrossTenant-Id:\r\n  {T1}", True),           # last header, folded
]
BODY = (f"{XTID}: {T1}\r\nX-MS-Exchange-Organization-AuthAs: Internal\r\n\r\n"
        "body lines that look like headers are body.\r\n").encode()


def _message(headers=HEADERS, body=BODY) -> tuple[bytes, bytes]:
    """(message as sent, message as it must be delivered)."""
    def join(hs):
        return b"".join(h.encode() + CRLF for h in hs) + CRLF + body
    return join(h for h, _ in headers), join(h for h, strip in headers if not strip)


EXCHANGE_HDR = re.compile(rb"(?im)^x-ms-exchange-(crosstenant|organization)-[^:]*:")


def _assert_stripped(gw, qid, expected):
    data = gw.wait_delivered(qid)
    received, rest = split_received(data)
    head = rest.split(b"\r\n\r\n", 1)[0]
    assert not EXCHANGE_HDR.search(head), f"forged Exchange header delivered:\n{head.decode()}"
    assert not EXCHANGE_HDR.search(received), received
    assert rest == expected, (f"delivered message is not the sent one minus the Exchange headers\n"
                              f"expected: {expected!r}\ngot:      {rest!r}")
    lines = [l for l in gw.log_text().splitlines() if "headers_removed" in l]
    assert lines, f"no headers_removed log line:\n{gw.log_text()[-3000:]}"
    return lines


@pytest.fixture
def gw(trust_gateway):
    return m365_gateway(trust_gateway)


def _send(gw, msg, *, ctx=None, sender="eve@fabrikam.test", rcpt="rcpt@example.test", bdat=False):
    with SmtpClient(gw.port) as c:
        c.greet("mail.protection.outlook.com")
        if ctx is not None:
            c.starttls(ctx)
            c.ehlo("mail.protection.outlook.com")
        c.expect(f"MAIL FROM:<{sender}>", 250)
        c.expect(f"RCPT TO:<{rcpt}>", 250)
        if bdat:
            half = len(msg) // 2
            c.send(f"BDAT {half}\r\n".encode() + msg[:half])
            c.check(c.read_reply(), 250, what="BDAT 1")
            c.send(f"BDAT {len(msg) - half} LAST\r\n".encode() + msg[half:])
            r = c.read_reply()
        else:
            r = c.send_data(msg)
        c.check(r, 250, "2.0.0", "end of message")
        c.cmd("QUIT")
        return r.queue_id()


@pytest.mark.parametrize("conn", ["plain", "tls-no-cert", "tls-selfsigned", "tls-verified-other-name"])
def test_forged_headers_are_removed(gw, pki, conn):
    ctx = {"plain": None, "tls-no-cert": pki.client_context(),
           "tls-selfsigned": pki.client_context("client-selfsigned"),
           # verified by the CA, but partner.example.test is not a connector's certificate name
           "tls-verified-other-name": pki.client_context("partner")}[conn]
    sent, kept = _message()
    qid = _send(gw, sent, ctx=ctx)
    _assert_stripped(gw, qid, kept)


def test_forged_headers_removed_with_bdat(gw):
    sent, kept = _message()
    _assert_stripped(gw, _send(gw, sent, bdat=True), kept)


def test_only_forged_headers_message_keeps_the_rest(gw):
    """A message whose header section is only Exchange headers: only the blank line is left."""
    hdrs = [(f"{XTID}: {T1}", True), ("X-MS-Exchange-Organization-Network-Message-Id: 1", True)]
    sent, kept = _message(hdrs, b"just the body\r\n")
    _assert_stripped(gw, _send(gw, sent), kept)


def test_message_without_exchange_headers_is_untouched(gw):
    sent, _ = _message([h for h in HEADERS if not h[1]])
    qid = _send(gw, sent)
    gw.assert_delivered(qid, sent)


def test_headers_kept_on_verified_m365_connection(gw, pki):
    hdrs = [(f"{XTID}: {T1}", False),
            ("From: Alice <alice@contoso.test>", False),
            ("To: <x@fax.example.test>", False),
            ("Subject: genuine exchange headers", False),
            ("X-OriginatorOrg: contoso.test", False),
            ("X-MS-Exchange-CrossTenant-AuthAs: Internal", False),
            ("X-MS-Exchange-CrossTenant-OriginalArrivalTime: 24 Nov 2025\r\n 12:00:00.0000 (UTC)", False),
            ("X-MS-Exchange-Organization-AuthAs: Internal", False),
            ("Message-ID: <genuine.exchange@tests.bridgehead>", False),
            ("Date: Mon, 24 Nov 2025 12:00:00 +0000", False)]
    sent, _ = _message(hdrs, b"fax body\r\n")
    qid = _send(gw, sent, ctx=pki.client_context("client"), sender="alice@contoso.test", rcpt=FAX_RCPT)
    gw.assert_delivered(qid, sent)
