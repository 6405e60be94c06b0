"""Graceful stop (issue 8 section 2): on SIGTERM the listeners close, a session waiting for a
command gets 421 4.3.2 at once, a session in the middle of a message may finish it within
[server] shutdown_grace (and gets 421 4.3.2 when the grace runs out), and what was acknowledged
is delivered after the next start."""
from __future__ import annotations

import signal
import socket
import time

from bhtest import wait_until
from smtpclient import SmtpClient


def _start(make_gateway, grace: int):
    return make_gateway(tls=False, server={"shutdown_grace": grace})


def test_idle_session_gets_421_4_3_2_and_the_gateway_exits(make_gateway):
    gw = _start(make_gateway, 30)
    c = SmtpClient(gw.port)
    c.expect(None, 220)
    c.expect("EHLO client.test", 250)
    started = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    r = c.read_reply(timeout=10)
    assert (r.code, r.enhanced) == (421, "4.3.2"), str(r)
    assert "shutting down" in r.text
    gw.expect_exit = True
    assert gw.proc.wait(15) == 0
    # An idle session does not keep the gateway for its grace.
    assert time.monotonic() - started < 25
    assert gw.events("drained", sessions_cut="0", deliveries_cut="0")
    session = gw.events("session", result="shutdown")
    assert session, gw.log_text()[-2000:]


def test_listener_closes_at_once(make_gateway):
    gw = _start(make_gateway, 5)
    c = SmtpClient(gw.port)  # keeps the gateway in its grace
    c.expect(None, 220)
    c.expect("EHLO client.test", 250)
    c.expect("MAIL FROM:<a@example.test>", 250)
    c.expect("RCPT TO:<b@example.test>", 250)
    c.expect("DATA", 354)
    gw.proc.send_signal(signal.SIGTERM)
    gw.expect_exit = True

    def refused():
        try:
            with socket.create_connection(("127.0.0.1", gw.port), timeout=1) as s:
                s.settimeout(1)
                return s.recv(100) == b""  # accepted by the kernel backlog, never served
        except OSError:
            return True

    assert wait_until(refused, timeout=5), "the listener still accepts after SIGTERM"
    assert gw.proc.poll() is None, "the gateway left before the grace of a session in DATA"


def test_message_in_progress_finishes_within_the_grace_and_is_delivered_after_restart(
        make_gateway):
    gw = _start(make_gateway, 20)
    c = SmtpClient(gw.port)
    c.expect(None, 220)
    c.expect("EHLO client.test", 250)
    c.expect("MAIL FROM:<a@example.test>", 250)
    c.expect("RCPT TO:<b@example.test>", 250)
    c.expect("DATA", 354)
    c.send(b"Subject: in flight\r\n\r\nfirst line\r\n")
    gw.proc.send_signal(signal.SIGTERM)
    gw.expect_exit = True
    time.sleep(0.5)
    assert gw.proc.poll() is None
    c.send(b"last line\r\n.\r\n")
    r = c.read_reply(timeout=10)
    assert r.code == 250, str(r)
    qid = r.queue_id()
    assert qid
    # The transaction is over: the next command is answered with the shutdown.
    r = c.cmd("MAIL FROM:<a@example.test>")
    assert (r.code, r.enhanced) == (421, "4.3.2"), str(r)
    assert gw.proc.wait(15) == 0
    # Acknowledged means durable: the next start delivers it.
    gw.start()
    body = gw.wait_delivered(qid)
    assert b"first line\r\nlast line\r\n" in body


def test_grace_runs_out_for_a_stalled_message(make_gateway):
    gw = _start(make_gateway, 1)
    c = SmtpClient(gw.port)
    c.expect(None, 220)
    c.expect("EHLO client.test", 250)
    c.expect("MAIL FROM:<a@example.test>", 250)
    c.expect("RCPT TO:<b@example.test>", 250)
    c.expect("DATA", 354)
    c.send(b"Subject: stalled\r\n\r\nnever finished\r\n")
    started = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    gw.expect_exit = True
    r = c.read_reply(timeout=10)
    assert (r.code, r.enhanced) == (421, "4.3.2"), str(r)
    assert time.monotonic() - started >= 0.9  # not before the grace
    assert gw.proc.wait(15) == 0
    assert not gw.queue_list(), "a message that was never finished must not be queued"
