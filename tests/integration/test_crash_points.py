"""Fault injection (issue 7.8): the gateway kills itself with SIGKILL at each named step of
enqueue, outcome recording, DSN creation and recovery (BRIDGEHEAD_CRASH_AT, a test-only
switch). After a clean restart every recipient of an acknowledged message is delivered
exactly once or bounced exactly once (one DSN), and nothing is left in the queue.

The message has recipients on two connectors, so results arrive in two answers: an aiosmtpd
next hop (ok1, ok2 accepted; bad1 refused with 550) and a file connector (l1@local.test).
DSNs go to a file connector of their own."""
from __future__ import annotations

import email
import email.policy
import os
import time

import pytest

from bhtest import wait_until
from smtpclient import SmtpClient, make_message
from smtppeers import smtp_gateway

RCPTS = ("ok1@example.test", "ok2@example.test", "bad1@example.test", "l1@local.test")

# (steps to crash at, one per start, before the clean start; whether the message must
# survive even when the client had no 250: true once the flush returned)
CASES = {
    "enqueue.written": (["enqueue.written"], False),
    "enqueue.flushed": (["enqueue.flushed"], True),
    "enqueue.visible": (["enqueue.visible"], True),
    "outcome.result_marked": (["outcome.result_marked"], True),
    "outcome.result_marked:2": (["outcome.result_marked:2"], True),
    "file.linked": (["file.linked"], True),
    "outcome.dsn_written": (["outcome.dsn_written"], True),
    "outcome.dsn_committed": (["outcome.dsn_committed"], True),
    "outcome.dsn_placed": (["outcome.dsn_placed"], True),
    "outcome.rewritten": (["outcome.rewritten"], True),
    # Recovery itself interrupted: first leave work for it, then crash inside it.
    "recovery.tmp_moved": (["outcome.dsn_committed", "recovery.tmp_moved"], True),
    "recovery.active_moved": (["outcome.result_marked", "recovery.active_moved"], True),
}


def _gateway(make_gateway, make_peer, tmp_path):
    # The first MAIL FROM waits half a second, so the two answers come in a known order: the
    # file connector's first, while the next hop has not got the message yet. (A crash while a
    # next hop is taking the message can always repeat it there: no MTA avoids that window.)
    peer = make_peer(mail_reply=lambda addr, n: time.sleep(0.5) if n == 1 else None,
                     rcpt_reply=lambda addr, n: "550 5.1.1 no such user"
                     if addr.startswith("bad") else None)
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                      start=False)
    local = tmp_path / "local"
    gw.overrides["routes"].append({"domains": ["local.test"], "connector": "local"})
    gw.overrides["connectors"].append({"name": "local", "type": "file", "directory": local})
    return gw, peer, local


def _start_crashing(gw, step: str, monkeypatch) -> bool:
    """Starts with the crash point armed; True when the gateway came up (the step lies ahead)."""
    monkeypatch.setenv("BRIDGEHEAD_CRASH_AT", step)
    try:
        gw.start()
        return True
    except AssertionError as e:  # died during start: a recovery step
        assert "crash_point" in gw.log_text(), f"died at start without reaching {step}: {e}"
        return False
    finally:
        monkeypatch.delenv("BRIDGEHEAD_CRASH_AT")


def _send(port: int) -> str | None:
    """The queue id when the client got its 250, else None (the gateway died first)."""
    try:
        with SmtpClient(port) as c:
            c.greet()
            c.expect("MAIL FROM:<a@origin.test>", 250)
            for r in RCPTS:
                c.expect(f"RCPT TO:<{r}>", 250)
            final = c.send_data(make_message("crash points"))
            return final.queue_id() if final.code == 250 else None
    except (OSError, AssertionError, ConnectionError):
        return None


def _dsn_recipients(path) -> list[str]:
    data = path.read_bytes()  # made by the gateway itself: no Received: line
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    status = msg.get_payload()[1]
    return [str(block.get("Final-Recipient", "")).split(";")[-1].strip()
            for block in status.get_payload()[1:]]


@pytest.mark.parametrize("case", list(CASES))
def test_crash_at_each_step_delivers_or_bounces_exactly_once(case, make_gateway, make_peer,
                                                            tmp_path, monkeypatch):
    steps, durable_before_ack = CASES[case]
    gw, peer, local = _gateway(make_gateway, make_peer, tmp_path)
    acked = None
    for n, step in enumerate(steps):
        up = _start_crashing(gw, step, monkeypatch)
        if n == 0:
            assert up, f"gateway did not start:\n{gw.log_text()[-3000:]}"
            acked = _send(gw.port)
        died = wait_until(lambda: not gw.alive(), 20)
        assert died, f"crash point {step} was never reached:\n{gw.log_text()[-3000:]}"
        gw.expect_exit = True
        assert f"crash_point {step.split(':')[0]}" in gw.log_text()

    gw.start()  # clean: recovery, then delivery of what is left
    drained = wait_until(lambda: gw.queue_list() == {}, 30)
    assert drained, f"queue not empty after restart: {gw.queue_list()}\n{gw.log_text()[-3000:]}"
    wait_until(lambda: not list(local.glob(".*.pending")), 5)

    delivered = [r for m in peer.messages for r in m.rcpt_tos]
    local_files = sorted(local.glob("*.eml"))
    dsns = sorted(gw.outdir.glob("*.eml"))
    bounced = [r for d in dsns for r in _dsn_recipients(d)]
    story = (f"acked={acked} peer={delivered} local={[p.name for p in local_files]} "
             f"dsn_recipients={bounced}\n{gw.log_text()[-4000:]}")
    must_arrive = acked is not None or durable_before_ack
    for r in ("ok1@example.test", "ok2@example.test"):
        assert delivered.count(r) == (1 if must_arrive else delivered.count(r)) <= 1, story
    assert "bad1@example.test" not in delivered, story
    assert len(local_files) == (1 if must_arrive else len(local_files)) <= 1, story
    assert bounced.count("bad1@example.test") == (1 if must_arrive else bounced.count(
        "bad1@example.test")) <= 1, story
    assert not list(local.glob(".*.pending")), story
    assert not [p for p in (gw.spool / "tmp").iterdir()], story
    if not must_arrive:  # nothing acknowledged and not durable: all or nothing
        assert len(delivered) in (0, 2) and len(local_files) == len(bounced) == len(delivered) // 2
