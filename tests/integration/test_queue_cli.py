"""`bridgehead queue` CLI: list/show/hold/release/delete/retry against a spool whose
file connector cannot deliver (its directory lies under a regular file, which even
root cannot create), so messages stay deferred."""
from __future__ import annotations

import time

import pytest

from bhtest import wait_until
from smtpclient import make_message, send_raw

ACTIVE_STATES = ("incoming", "active", "deferred")


@pytest.fixture
def blocked(make_gateway, tmp_path):
    """Gateway whose connector directory is <tmp>/afile/out with afile a regular file."""
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    gw = make_gateway(outdir=afile / "out")
    gw.afile = afile
    return gw


def _unblock(gw):
    gw.afile.unlink()
    (gw.afile / "out").mkdir(parents=True)


def _wait_state(gw, qid, states, timeout=10.0):
    if isinstance(states, str):
        states = (states,)
    q = wait_until(lambda: (lambda l: l if l.get(qid) in states else None)(gw.queue_list()), timeout)
    assert q, f"{qid} not in state {states} within {timeout}s: {gw.queue_list()}\n{gw.log_text()[-2000:]}"


def _ok(r):
    assert r.returncode == 0, f"{r.args} -> {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def test_empty_queue_list(gateway):
    r = _ok(gateway.cli("queue", "list"))
    assert gateway.queue_list() == {}, r.stdout


def test_failed_delivery_is_deferred_and_shown(blocked):
    msg = make_message("deferred")
    qid = send_raw(blocked.port, msg, rcpts=("x@example.test", "y@example.test"),
                   sender="envelope.sender@origin.test")
    _wait_state(blocked, qid, "deferred")
    line = [l for l in _ok(blocked.cli("queue", "list")).stdout.splitlines() if l.startswith(qid)]
    assert len(line) == 1 and line[0].split()[1] == "deferred", line
    show = _ok(blocked.cli("queue", "show", qid)).stdout
    assert "envelope.sender@origin.test" in show, show
    assert "x@example.test" in show and "y@example.test" in show, show
    assert blocked.delivered() == []


def test_dsn_parameters_are_kept_in_the_queue(blocked):
    msg = make_message("dsn in queue")
    qid = send_raw(blocked.port, msg, mail_params="RET=HDRS ENVID=xyz-envid-42",
                   rcpt_params="NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@example.test")
    _wait_state(blocked, qid, ("deferred", "incoming", "active"))
    show = _ok(blocked.cli("queue", "show", qid)).stdout
    assert "xyz-envid-42" in show, f"ENVID missing from queue show:\n{show}"
    up = show.upper()
    assert "SUCCESS" in up and "FAILURE" in up, f"NOTIFY missing from queue show:\n{show}"
    assert "HDRS" in up, f"RET missing from queue show:\n{show}"


def test_hold_release_delete(blocked):
    ma, mb = make_message("to hold"), make_message("to delete")
    a = send_raw(blocked.port, ma)
    b = send_raw(blocked.port, mb)
    _wait_state(blocked, a, "deferred")
    _wait_state(blocked, b, "deferred")

    _ok(blocked.cli("queue", "hold", a))
    assert blocked.queue_list().get(a) == "hold"

    _ok(blocked.cli("queue", "delete", b))
    assert b not in blocked.queue_list()

    _unblock(blocked)
    time.sleep(2)
    assert not blocked.eml_path(a).exists(), "a held message must not be delivered"
    assert blocked.queue_list().get(a) == "hold"

    _ok(blocked.cli("queue", "release", a))
    state = blocked.queue_list().get(a)
    assert state in ACTIVE_STATES or (state is None and blocked.eml_path(a).exists()), state
    if state == "deferred":
        _ok(blocked.cli("queue", "retry", a))
    blocked.assert_delivered(a, ma)
    assert wait_until(lambda: a not in blocked.queue_list(), 10), blocked.queue_list()
    time.sleep(1)
    assert not blocked.eml_path(b).exists(), "a deleted message must never be delivered"
    assert blocked.queue_list() == {}


def test_retry_delivers_before_retry_delay(blocked):
    msg = make_message("retry me", b".dot\r\nbody\r\n")
    qid = send_raw(blocked.port, msg)
    _wait_state(blocked, qid, "deferred")
    _unblock(blocked)
    time.sleep(1.5)
    assert not blocked.eml_path(qid).exists(), "retry_delay is 300 s: no retry expected yet"
    _ok(blocked.cli("queue", "retry", qid))
    blocked.assert_delivered(qid, msg)
    assert wait_until(lambda: blocked.queue_list() == {}, 10), blocked.queue_list()


def test_hold_survives_restart(blocked):
    msg = make_message("held across restart")
    qid = send_raw(blocked.port, msg)
    _wait_state(blocked, qid, "deferred")
    _ok(blocked.cli("queue", "hold", qid))
    assert blocked.stop() == 0
    assert blocked.queue_list().get(qid) == "hold", "queue list must work without a running gateway"
    _unblock(blocked)
    blocked.start()
    time.sleep(2)
    assert blocked.queue_list().get(qid) == "hold"
    assert not blocked.eml_path(qid).exists()
    _ok(blocked.cli("queue", "release", qid))
    if blocked.queue_list().get(qid) == "deferred":
        _ok(blocked.cli("queue", "retry", qid))
    blocked.assert_delivered(qid, msg)


def test_deferred_message_is_delivered_after_restart(blocked):
    msg = make_message("deferred then restart")
    qid = send_raw(blocked.port, msg)
    _wait_state(blocked, qid, "deferred")
    blocked.stop()
    _unblock(blocked)
    blocked.start()
    if blocked.queue_list().get(qid) == "deferred":
        _ok(blocked.cli("queue", "retry", qid))
    blocked.assert_delivered(qid, msg)


@pytest.mark.parametrize("verb", ["show", "hold", "release", "delete", "retry"])
def test_unknown_queue_id_fails(gateway, verb):
    r = gateway.cli("queue", verb, "NOSUCHQUEUEID")
    assert r.returncode != 0, f"queue {verb} of an unknown id must fail: {r.stdout}{r.stderr}"
    assert r.stderr.strip() or r.stdout.strip(), "an error message is expected"


@pytest.mark.parametrize("order", ["queue -c FILE list", "queue list -c FILE"])
def test_config_option_position(gateway, order):
    """Both spellings of the documented `bridgehead queue list [-c FILE]` must work."""
    import subprocess
    args = [a if a != "FILE" else str(gateway.config) for a in order.split()]
    r = subprocess.run([str(gateway.binary), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"`bridgehead {order}` -> {r.returncode}: {r.stdout}{r.stderr}"
