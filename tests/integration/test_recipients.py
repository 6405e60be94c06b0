"""Issue 12.3-12.5 against the real gateway: duplicate recipients are delivered once,
sender-specified routing is refused (and allowed per route when configured), a trailing dot
never reaches the next hop, RCPT TO:<Postmaster> reaches the configured postmaster, NUL in
message text is refused with nothing queued."""
from __future__ import annotations

import subprocess
import time

from smtpclient import SmtpClient, make_message, send_raw
from smtppeers import smtp_gateway, wait_state


def test_thousand_identical_recipients_are_delivered_once(make_peer, make_gateway):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"})
    with SmtpClient(gw.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        for i in range(1000):
            c.expect("RCPT TO:<dup@example.test>" if i % 2 else "RCPT TO:<dup@EXAMPLE.test.>", 250)
        final = c.send_data(make_message("dup"))
        c.check(final, 250, "2.0.0", "end of DATA")
        qid = final.queue_id()
    wait_state(gw, qid, None)
    msgs = peer.wait_messages(1)
    time.sleep(0.5)
    assert len(peer.messages) == 1
    assert [r.lower() for r in msgs[0].rcpt_tos] == ["dup@example.test"], msgs[0].rcpt_tos


def test_routed_addresses_refused_unless_the_route_allows(make_gateway):
    gw = make_gateway(start=False)
    gw.overrides["routes"] = [
        {"domains": ["example.test"], "connector": "files"},
        {"domains": ["legacy.test"], "connector": "files", "allow_routed_addresses": True}]
    gw.start()
    for rcpt in ("user%foreign.example@example.test", "foreign.example!user@example.test",
                 '"user@foreign.example"@example.test'):
        run = subprocess.run(["swaks", "--server", f"127.0.0.1:{gw.port}", "--from", "a@origin.test",
                              "--to", rcpt, "--quit-after", "RCPT"],
                             capture_output=True, text=True, timeout=30)
        assert "<** 550 5.7.1" in run.stdout and "sender-specified routing" in run.stdout, run.stdout
    qid = send_raw(gw.port, make_message("routed"), rcpts=("user%foreign.example@legacy.test",))
    gw.wait_delivered(qid)


def test_trailing_dot_is_removed_before_the_next_hop(make_peer, make_gateway):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"})
    qid = send_raw(gw.port, make_message("dot"), rcpts=("user@example.test.",))
    wait_state(gw, qid, None)
    assert peer.wait_messages(1)[0].rcpt_tos == ["user@example.test"]


def test_postmaster_without_domain_reaches_the_configured_address(make_gateway):
    gw = make_gateway(server={"postmaster": "hostmaster@example.test"})
    qid = send_raw(gw.port, make_message("to postmaster"), rcpts=("Postmaster",))
    data = gw.wait_delivered(qid)
    shown = gw.cli("queue", "list")
    assert shown.returncode == 0
    assert b"to postmaster" in data


def test_nul_in_message_text_is_refused_and_nothing_queued(gateway):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: nul\r\n\r\nfirst\r\n\x00.\r\nRSET\r\n.\r\n")
        c.check(c.read_reply(), 550, "5.6.0", "NUL in text")
        c.expect("QUIT", 221)
    time.sleep(1)
    assert gateway.delivered() == [] and gateway.queue_list() == {}
