"""Restart during outbound delivery: the gateway is killed (SIGKILL) or stopped (SIGTERM)
while the next hop sits on its DATA reply. After a restart on the same spool every message
reaches the peer at least once; messages recorded as delivered before the stop are not sent
again. (A message whose DATA reply was lost may arrive twice: RFC 5321 6.1 allows that.)"""
from __future__ import annotations

import time

import pytest

from bhtest import wait_until
from smtpclient import make_message, send_raw
from smtppeers import deliveries, smtp_gateway, wait_delivery, wait_state

DATA_DELAY = 3.0


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_restart_during_delivery_loses_nothing(make_gateway, make_peer, how):
    # The peer records each message as soon as its data is complete, *before* replying:
    # what it holds when the gateway dies is what the gateway may duplicate, not lose.
    peer = make_peer(record_early=True)
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "max_connections": 2, "data_timeout": 60, "idle_time": 1})

    # Phase 1: three messages delivered and recorded before anything happens.
    done = {send_raw(gw.port, make_message(f"done {i}")): f"done {i}" for i in range(3)}
    for qid in done:
        wait_delivery(gw, qid, "delivered")
        wait_state(gw, qid, None)

    # Phase 2: slow DATA replies; two messages in flight (max_connections 2), three waiting.
    peer.data_delay = DATA_DELAY
    later = {send_raw(gw.port, make_message(f"later {i}")): f"later {i}" for i in range(5)}
    assert wait_until(lambda: peer.data_attempts >= len(done) + 2, 10), \
        f"deliveries did not reach DATA: {peer.data_attempts}\n{gw.log_text()[-2000:]}"
    delivered_before = {e["id"] for e in gw.events("delivery", result="delivered")}
    at_peer_before = peer.by_subject()
    in_flight = [s for s in later.values() if at_peer_before.get(s)]
    assert in_flight and not set(later) <= delivered_before, \
        f"nothing was in flight at the {how}: {at_peer_before}"
    if how == "SIGKILL":
        gw.kill9()
    else:
        gw.stop(timeout=30)
    log_before = gw.log_text()
    # SIGTERM is a graceful stop: deliveries in flight finish within shutdown_grace (the
    # peer answers after DATA_DELAY), no new one starts.
    delivered_at_stop = {e["id"] for e in gw.events("delivery", result="delivered")}
    if how == "SIGTERM":
        in_flight_ids = {qid for qid, s in later.items() if at_peer_before.get(s)}
        assert in_flight_ids <= delivered_at_stop, \
            f"deliveries in flight did not finish within the grace: {log_before[-3000:]}"

    peer.data_delay = 0
    gw.start()
    for qid in later:
        wait_delivery(gw, qid, "delivered", timeout=30)
        wait_state(gw, qid, None, timeout=30)
    assert gw.queue_list() == {}, gw.queue_list()

    counts = peer.by_subject()
    # Recorded as delivered before the stop: never again.
    for qid, subject in {**done, **later}.items():
        if qid in delivered_at_stop or qid in done:
            assert counts.get(subject) == 1, \
                f"{subject} ({qid}) was recorded delivered before the {how} and sent again: {counts}"
    # Everything else: at least once, at most once more than the peer had before the stop.
    for qid, subject in later.items():
        n, before = counts.get(subject, 0), at_peer_before.get(subject, 0)
        assert n >= 1, f"{subject} ({qid}) lost: {counts}\n{gw.log_text()[-3000:]}"
        assert n <= before + 1, f"{subject} ({qid}) delivered {n} times (peer had {before} before)"
        if before == 0:
            assert n == 1, f"{subject} never reached the peer before the {how}, yet arrived {n} times"
    # Only messages in flight at the stop can have been sent twice.
    dups = [s for s, n in counts.items() if n > 1]
    assert len(dups) <= 2, f"more duplicates than connections in flight: {counts}"
    # The delivery log after the restart covers every later message not finished before.
    after = gw.log_text()[len(log_before):]
    for qid in later:
        if qid not in delivered_at_stop:
            assert f"id={qid}" in after, f"{qid} not attempted after the restart"


def test_sigterm_with_idle_connection_is_prompt(make_gateway, make_peer):
    """A lingering (idle) outbound connection must not hold up shutdown."""
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "idle_time": 60})
    qid = send_raw(gw.port, make_message("idle at shutdown"))
    peer.wait_messages(1)
    wait_state(gw, qid, None)
    t0 = time.monotonic()
    rc = gw.stop(timeout=20)
    elapsed = time.monotonic() - t0
    assert rc == 0, f"exit status {rc} after SIGTERM:\n{gw.log_text()[-2000:]}"
    assert elapsed < 5, f"SIGTERM took {elapsed:.1f}s with an idle outbound connection"
    assert len(deliveries(gw, qid, "delivered")) == 1
