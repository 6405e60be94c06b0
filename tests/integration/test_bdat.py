"""CHUNKING (RFC 3030): BDAT over a raw socket, byte-exact delivery, no dot handling,
sequencing errors and size limits."""
from __future__ import annotations

import time

import pytest

from smtpclient import SmtpClient, make_message


def _begin(c, rcpts=("x@example.test",)):
    c.greet()
    c.expect("MAIL FROM:<a@origin.test>", 250)
    for r in rcpts:
        c.expect(f"RCPT TO:<{r}>", 250)


def _bdat(c, chunk: bytes, last=False):
    c.send(f"BDAT {len(chunk)}{' LAST' if last else ''}\r\n".encode() + chunk)
    return c.read_reply()


def _split(data: bytes, sizes):
    out, pos = [], 0
    for n in sizes:
        out.append(data[pos:pos + n])
        pos += n
    out.append(data[pos:])
    return out


BODY = (b".leading dot is not stuffed in BDAT\r\n"
        b"..two dots stay two dots\r\n"
        b".\r\n"
        b"8bit \xc3\xa9\xe2\x82\xac\r\n"
        b"\r\n"
        b"end\r\n")


def test_bdat_chunks_then_bdat_0_last(gateway):
    msg = make_message("bdat zero last", BODY)
    with SmtpClient(gateway.port) as c:
        _begin(c)
        # odd chunk boundaries, including one that splits a CRLF
        cr = msg.index(b"\r\n", 40)
        for chunk in _split(msg, [7, cr + 1 - 7, 1, 50]):
            c.check(_bdat(c, chunk), 250, what="BDAT chunk")
        r = _bdat(c, b"", last=True)
        c.check(r, 250, "2.0.0", "BDAT 0 LAST")
        assert r.queue_id(), c.dump()
        c.expect("QUIT", 221)
    gateway.assert_delivered(r.queue_id(), msg)


def test_bdat_n_last(gateway):
    msg = make_message("bdat n last", BODY)
    with SmtpClient(gateway.port) as c:
        _begin(c)
        first, rest = msg[:100], msg[100:]
        c.check(_bdat(c, first), 250)
        r = _bdat(c, rest, last=True)
        c.check(r, 250, "2.0.0", "BDAT n LAST")
        c.expect("QUIT", 221)
    gateway.assert_delivered(r.queue_id(), msg)


def test_bdat_single_chunk_with_terminator_lookalike(gateway):
    # the DATA terminator inside a BDAT chunk is just data
    msg = make_message("bdat terminator", b"before\r\n.\r\nMAIL FROM:<evil@victim.test>\r\nafter\r\n")
    with SmtpClient(gateway.port) as c:
        _begin(c)
        r = _bdat(c, msg, last=True)
        c.check(r, 250, "2.0.0")
        assert c.extra_data(0.5) == b"", c.dump()
        c.expect("QUIT", 221)
    gateway.assert_delivered(r.queue_id(), msg)


def test_bdat_pipelined(gateway):
    msg = make_message("bdat pipelined", BODY * 20)
    chunks = _split(msg, [300, 300, 300])
    with SmtpClient(gateway.port) as c:
        c.greet()
        payload = b"MAIL FROM:<a@origin.test>\r\nRCPT TO:<x@example.test>\r\nRCPT TO:<y@example.test>\r\n"
        for i, ch in enumerate(chunks):
            last = " LAST" if i == len(chunks) - 1 else ""
            payload += f"BDAT {len(ch)}{last}\r\n".encode() + ch
        c.send(payload + b"QUIT\r\n")
        replies = [c.read_reply() for _ in range(3 + len(chunks) + 1)]
        assert [r.code for r in replies] == [250] * (3 + len(chunks)) + [221], c.dump()
        qid = replies[-2].queue_id()
        assert qid, c.dump()
    gateway.assert_delivered(qid, msg)


def test_two_bdat_messages_in_one_session(gateway):
    m1, m2 = make_message("bdat one"), make_message("bdat two", b"second\r\n")
    with SmtpClient(gateway.port) as c:
        _begin(c)
        r1 = _bdat(c, m1, last=True)
        c.check(r1, 250, "2.0.0")
        c.expect("MAIL FROM:<b@origin.test>", 250)
        c.expect("RCPT TO:<y@example.test>", 250)
        c.check(_bdat(c, m2[:10]), 250)
        r2 = _bdat(c, m2[10:], last=True)
        c.check(r2, 250, "2.0.0")
        c.expect("QUIT", 221)
    assert r1.queue_id() != r2.queue_id()
    gateway.assert_delivered(r1.queue_id(), m1)
    gateway.assert_delivered(r2.queue_id(), m2)


def test_bdat_without_transaction_consumes_chunk(gateway):
    chunk = b"MAIL FROM:<smuggled@victim.test>\r\n"
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
        c.check(c.read_reply(), 503, what="BDAT without MAIL")
        assert c.extra_data(0.5) == b"", f"chunk data was executed as commands\n{c.dump()}"
        c.expect("RCPT TO:<x@example.test>", 503)  # the MAIL inside the chunk did not run
        c.expect("NOOP", 250)
        c.expect("QUIT", 221)


def test_data_after_bdat_is_refused(gateway):
    with SmtpClient(gateway.port) as c:
        _begin(c)
        c.check(_bdat(c, b"Subject: mixed\r\n\r\n"), 250)
        c.expect("DATA", 503)
        c.expect("RSET", 250)
        c.expect("QUIT", 221)
    time.sleep(1)
    assert gateway.delivered() == []


@pytest.mark.parametrize("command", ["BDAT abc", "BDAT"])
def test_bdat_bad_argument(gateway, command):
    """501 5.5.4. The chunk size is unknown, so the server may give up on the session,
    but RFC 5321 3.8 says it closes only after a 421 reply."""
    with SmtpClient(gateway.port) as c:
        _begin(c)
        c.expect(command, 501, "5.5.4")
        try:
            r = c.cmd("NOOP")
        except (ConnectionError, OSError):
            raise AssertionError(f"connection closed without a 421 reply\n{c.dump()}")
        assert r.code in (250, 421), c.dump()


def test_bdat_trailing_bare_cr_is_not_silently_dropped(gateway):
    """A last chunk ending in a lone CR: refuse it (bare CR, 550 5.5.2) or keep the byte."""
    msg = make_message("bdat trailing cr") + b"tail\r"
    with SmtpClient(gateway.port) as c:
        _begin(c)
        r = _bdat(c, msg, last=True)
        c.expect("QUIT", 221)
    if r.code == 550:
        assert r.enhanced == "5.5.2", c.dump()
        return
    c.check(r, 250, "2.0.0")
    gateway.assert_delivered(r.queue_id(), msg)


def test_bdat_over_message_size(make_gateway):
    gw = make_gateway(limits={"message_size": 10000})
    msg = make_message("bdat too big", b"q" * 78 + b"\r\n") + (b"w" * 78 + b"\r\n") * 200
    with SmtpClient(gw.port) as c:
        _begin(c)
        replies = []
        for chunk in _split(msg, [4000, 4000, 4000]):
            replies.append(_bdat(c, chunk))
            if replies[-1].code != 250:
                break
        else:
            replies.append(_bdat(c, b"", last=True))
        bad = [r for r in replies if r.code != 250]
        assert bad and bad[0].code == 552 and bad[0].enhanced == "5.3.4", c.dump()
        c.expect("RSET", 250)
        c.expect("NOOP", 250)
    time.sleep(1)
    assert gw.delivered() == []
