"""Outbound connection limits: per destination and for the whole connector. Mail beyond a
limit waits for a free connection; none is lost or deferred for it."""
from __future__ import annotations

import threading

from smtpclient import make_message, send_raw
from smtppeers import smtp_gateway


def send_many(port: int, items: list[tuple[str, str]]) -> None:
    threads = [threading.Thread(target=send_raw, args=(port, make_message(subject)),
                                kwargs={"rcpts": (rcpt,)}) for subject, rcpt in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_total_limit_serialises_destinations(make_gateway, make_peer):
    """max_total_connections = 1: two MX destinations share one connection slot, and both
    get all their mail (the second waits until the first connection is done)."""
    # Two MX destinations (one.test, two.test) on the same peer: the peer counts how many
    # sessions are open at once across both.
    first = make_peer(data_delay=0.3)
    dns = {"resolv_conf": "", "local_data": [
        "one.test. MX 10 mx.one.test.", "mx.one.test. A 127.0.0.1",
        "two.test. MX 10 mx.two.test.", "mx.two.test. A 127.0.0.1"]}
    gw = smtp_gateway(make_gateway, {"port": first.port, "tls": "none",
                                     "max_total_connections": 1, "idle_time": 0},
                      domains=("one.test", "two.test"), dns=dns)
    items = [(f"one {i}", f"r{i}@one.test") for i in range(3)] + \
            [(f"two {i}", f"r{i}@two.test") for i in range(3)]
    send_many(gw.port, items)
    got = first.wait_messages(6, timeout=30)
    assert sorted(m.subject for m in got) == sorted(s for s, _ in items)
    assert first.max_concurrent == 1, first.max_concurrent
    assert not [e for e in gw.events("delivery") if e.get("result") != "delivered"]


def test_per_destination_limit(make_gateway, make_peer):
    peer = make_peer(data_delay=0.3)
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "max_connections": 2, "idle_time": 0})
    items = [(f"m {i}", "rcpt@example.test") for i in range(6)]
    send_many(gw.port, items)
    got = peer.wait_messages(6, timeout=30)
    assert len(got) == 6
    assert peer.max_concurrent <= 2, peer.max_concurrent
    assert peer.max_concurrent >= 1
