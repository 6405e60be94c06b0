"""Log lines stay parseable whatever the client sends (issue 7 item 10): with
log_format = "json" every line is valid UTF-8 that json.loads accepts; in both formats no line
carries a raw control character (C0, DEL, C1) or a byte that is not UTF-8."""
from __future__ import annotations

import json
import re

import pytest

from smtpclient import SmtpClient

HOSTILE = [
    # (MAIL FROM path, RCPT TO path, MAIL parameters)
    (b"c1\xc2\x9b" b"31m@origin.test", b"rlo\xe2\x80\xae@example.test", b" SMTPUTF8"),
    (b"bad\xff\xfe@origin.test", b"bad\xc0\xaf\xed\xa0\x80@example.test", b" SMTPUTF8"),
    (b"trunc\xe2\x82@origin.test", b"x@example.test", b" SMTPUTF8"),
    (b'"esc\\\x1b]0;t\\\x07"@origin.test', b"x@example.test", b""),
    (b"ok@origin.test", b"x@example.test", b" X-OPT=\x1b[2J\xff"),
]


def _hostile_sessions(gw):
    for sender, rcpt, params in HOSTILE:
        with SmtpClient(gw.port) as c:
            c.greet()
            if c.cmd(b"MAIL FROM:<" + sender + b">" + params).code == 250 and \
                    c.cmd(b"RCPT TO:<" + rcpt + b">").code == 250:
                c.send_data(b"Subject: x\r\n\r\nbody\r\n")
            c.cmd(b"NOOP \x1b]0;noop\x07\xff")
            c.cmd(b"\x1b[2J\xc0\xaf unknown")
            c.cmd("QUIT")


def _log_lines(gw) -> list[bytes]:
    gw.stop()  # every line written
    return [l for l in gw.logfile.read_bytes().split(b"\n") if l and not l.startswith(b"===== start")]


def _assert_clean(line: bytes) -> str:
    raw = [hex(b) for b in line if b < 0x20 or b == 0x7F]
    assert not raw, f"raw control bytes {raw} in log line {line!r}"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"log line is not valid UTF-8 ({e}): {line!r}")
    c1 = [hex(ord(ch)) for ch in text if 0x80 <= ord(ch) <= 0x9F]
    assert not c1, f"raw C1 controls {c1} in log line {line!r}"
    return text


def test_json_log_lines_are_valid_json_and_utf8(make_gateway):
    gw = make_gateway(server={"log_format": "json"})
    _hostile_sessions(gw)
    lines = _log_lines(gw)
    assert len(lines) > 5, lines
    events = []
    for line in lines:
        text = _assert_clean(line)
        try:
            events.append(json.loads(text))
        except ValueError as e:
            raise AssertionError(f"not JSON ({e}): {line!r}")
    assert all(isinstance(e, dict) and "event" in e for e in events), events
    assert any(e["event"] == "session" for e in events)
    # What the clients sent is still there, readable: escaped, not dropped.
    accepted = [e for e in events if e["event"] == "message" and "c1" in e.get("from", "")]
    assert accepted and accepted[0]["from"] == "c1\u009b31m@origin.test", accepted


def test_text_log_lines_escape_control_bytes(make_gateway):
    gw = make_gateway()
    _hostile_sessions(gw)
    lines = _log_lines(gw)
    assert len(lines) > 5, lines
    for line in lines:
        _assert_clean(line)
    text = b"\n".join(lines).decode()
    assert re.search(r'from="c1\\u009b31m@origin\.test"', text), text[-3000:]
