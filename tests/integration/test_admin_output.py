"""`bridgehead queue list` and `queue show` are safe to print (issue 12 item 6): addresses and
headers that carry terminal escapes (ESC ] 0; ... BEL sets a terminal's title, ESC [ 2 J
clears it), C1 controls, DEL or bytes that are not UTF-8 are shown with those bytes as \\xHH;
the output is valid UTF-8 with no control character but LF (and TAB in folded headers)."""
from __future__ import annotations

import subprocess

import pytest

from bhtest import wait_until
from smtpclient import SmtpClient

HOSTILE_SUBJECT = b"Subject: hi \x1b]0;pwned\x07 there \x1b[2J\x1b[3J"
HOSTILE_HEADERS = [
    HOSTILE_SUBJECT,
    b"X-Bad-Bytes: \xff\xfe overlong \xc0\xaf surrogate \xed\xa0\x80 lone \x80 cut \xe2\x82",
    b"X-C1: \xc2\x9b" b"31m csi, del \x7f, bell \x07, rlo \xe2\x80\xae" b"txt.exe",
    b"X-Fine: Gr\xc3\xbc\xc3\x9fe \xf0\x9f\x98\x80",
    b"X-Folded: first\r\n\tsecond\x1b[1m",
]


def _message(extra=()) -> bytes:
    head = [b"From: <sender@origin.test>", b"To: <rcpt@example.test>",
            b"Message-ID: <hostile@tests.bridgehead>", b"Date: Mon, 24 Nov 2025 12:00:00 +0000",
            *HOSTILE_HEADERS, *extra]
    return b"\r\n".join(head) + b"\r\n\r\nbody \x1b]0;body-not-shown\x07\r\n"


@pytest.fixture
def blocked(make_gateway, tmp_path):
    """A gateway whose file connector cannot deliver (its directory is below a regular file),
    so messages stay in the queue."""
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    return make_gateway(outdir=afile / "out")


def _cli_bytes(gw, *args) -> subprocess.CompletedProcess:
    cmd = [str(gw.binary), str(args[0]), "-c", str(gw.config), *map(str, args[1:])]
    return subprocess.run(cmd, capture_output=True, timeout=30, cwd=gw.tmp)


def _assert_printable(out: bytes, allow_tab: bool, what: str):
    bad = sorted({b for b in out if (b < 0x20 and b not in (0x0A, 0x09 if allow_tab else 0x0A))
                  or b == 0x7F})
    assert not bad, f"{what}: raw control bytes {[hex(b) for b in bad]} in output:\n{out!r}"
    try:
        text = out.decode("utf-8")  # strict: no invalid UTF-8
    except UnicodeDecodeError as e:
        raise AssertionError(f"{what}: output is not valid UTF-8 ({e}):\n{out!r}")
    c1 = [hex(ord(ch)) for ch in text if 0x80 <= ord(ch) <= 0x9F or ch in "\u2028\u2029\u202e"]
    assert not c1, f"{what}: C1/bidi control characters {c1} in output:\n{out!r}"
    return text


def _send(gw, sender: bytes, rcpt: bytes, msg: bytes, mail_params=b"") -> tuple[str | None, str]:
    """One transaction; returns (queue id or None when refused, transcript)."""
    with SmtpClient(gw.port) as c:
        c.greet()
        r = c.cmd(b"MAIL FROM:<" + sender + b">" + mail_params)
        if r.code != 250:
            return None, c.dump()
        r = c.cmd(b"RCPT TO:<" + rcpt + b">")
        if r.code != 250:
            return None, c.dump()
        final = c.send_data(msg)
        c.cmd("QUIT")
        return (final.queue_id() if final.code == 250 else None), c.dump()


def _wait_queued(gw, qid):
    assert wait_until(lambda: gw.queue_list().get(qid) in ("deferred", "incoming", "active"), 10), \
        f"{qid} not in the queue: {gw.queue_list()}\n{gw.log_text()[-2000:]}"


def test_queue_show_escapes_hostile_headers(blocked):
    qid, dump = _send(blocked, b"sender@origin.test", b"rcpt@example.test", _message())
    assert qid, f"the message with hostile headers must be accepted (it is data):\n{dump}"
    _wait_queued(blocked, qid)

    show = _cli_bytes(blocked, "queue", "show", qid)
    assert show.returncode == 0, show
    text = _assert_printable(show.stdout, allow_tab=True, what="queue show")
    assert "Subject: hi \\x1B]0;pwned\\x07 there \\x1B[2J\\x1B[3J\n" in text, text
    assert ("X-Bad-Bytes: \\xFF\\xFE overlong \\xC0\\xAF surrogate \\xED\\xA0\\x80 lone \\x80 "
            "cut \\xE2\\x82\n") in text, text
    assert "X-C1: \\xC2\\x9B31m csi, del \\x7F, bell \\x07, rlo \\xE2\\x80\\xAEtxt.exe\n" in text, text
    assert "X-Fine: Grüße 😀\n" in text, "valid UTF-8 text is shown as it is"
    assert "X-Folded: first\n\tsecond\\x1B[1m\n" in text, "folded lines keep their tab"
    assert "body-not-shown" not in text, "queue show prints the header only"

    listed = _cli_bytes(blocked, "queue", "list")
    assert listed.returncode == 0, listed
    _assert_printable(listed.stdout, allow_tab=False, what="queue list")


@pytest.mark.parametrize("sender,rcpt,params", [
    # Quoted local parts with terminal escapes: refused by the parser where it enforces
    # RFC 5321, otherwise they reach the queue and must be shown escaped.
    (b'"a\\\x1b]0;owned\\\x07"@origin.test', b'"b\\\x1b[2J"@example.test', b""),
    # SMTPUTF8 with C1 controls, a right-to-left override, bytes that are not UTF-8.
    (b"c1\xc2\x9b" b"31m@origin.test", b"c1\xc2\x85@example.test", b" SMTPUTF8"),
    (b"bad\xff\xfe@origin.test", b"bad\xc0\xaf\xed\xa0\x80@example.test", b" SMTPUTF8"),
    (b"rlo\xe2\x80\xae" b"gpj.exe@origin.test", b"rlo\xe2\x80\xae@example.test", b" SMTPUTF8"),
])
def test_queue_list_and_show_escape_hostile_addresses(blocked, sender, rcpt, params):
    qid, dump = _send(blocked, sender, rcpt, _message(), mail_params=params)
    if qid is None:
        # Refused at MAIL or RCPT: nothing hostile is in the queue; what is there must still
        # print safely.
        listed = _cli_bytes(blocked, "queue", "list")
        _assert_printable(listed.stdout, allow_tab=False, what="queue list")
        return
    _wait_queued(blocked, qid)
    listed = _cli_bytes(blocked, "queue", "list")
    assert listed.returncode == 0, listed
    text = _assert_printable(listed.stdout, allow_tab=False, what="queue list")
    line = [l for l in text.splitlines() if l.startswith(qid)]
    assert len(line) == 1, text
    assert "from=" in line[0] and "\\x" in line[0], f"escaped addresses expected: {line[0]!r}"

    show = _cli_bytes(blocked, "queue", "show", qid)
    assert show.returncode == 0, show
    text = _assert_printable(show.stdout, allow_tab=True, what="queue show")
    sender_line = [l for l in text.splitlines() if l.startswith("sender: ")]
    rcpt_line = [l for l in text.splitlines() if l.startswith("recipient: ")]
    assert sender_line and "\\x" in sender_line[0], text
    assert rcpt_line and "\\x" in rcpt_line[0], text


def test_queue_show_of_unknown_hostile_id_is_escaped(gateway):
    r = _cli_bytes(gateway, "queue", "show", "\x1b]0;x\x07")
    assert r.returncode != 0
    _assert_printable(r.stdout + r.stderr, allow_tab=False, what="queue show error")
    assert b"\\x1B]0;x\\x07" in r.stderr, r.stderr
