"""Slow clients (issue 12 item 2): idle_timeout is a deadline for each complete command line
and each line of message text, bytes that trickle in do not extend it, and DATA/BDAT must
keep up limits.min_data_rate once idle_timeout has passed. A client that sends one byte
every half second is cut off with 421 4.4.2 soon after idle_timeout (the old per-read timer
kept it until session_timeout); ordinary clients, slow or pipelining, are not affected.

Timing: the bounds are loose on purpose (cut off before 3x idle_timeout, never before
idle_timeout); the exact moments are proven by the golden transcripts with a fake clock
(tests/unit/transcripts/timeout_*.smtp)."""
from __future__ import annotations

import select
import smtplib
import subprocess
import time

from smtpclient import SmtpClient, dot_stuff, make_message, send_raw

IDLE = 2  # seconds: limits.idle_timeout in these tests
LIMIT = 3 * IDLE  # a trickle still open after this has not been cut off


def _trickle(c: SmtpClient, data: bytes, interval: float = 0.5, limit: float = LIMIT):
    """Send `data` one byte every `interval` seconds until the server answers (returns the
    reply and the seconds since the trickle began) or `limit` seconds pass (reply None)."""
    t0 = time.monotonic()
    for i in range(len(data)):
        readable, _, _ = select.select([c.sock], [], [], interval)
        if readable or c.buf:
            return c.read_reply(timeout=5), time.monotonic() - t0
        if time.monotonic() - t0 >= limit:
            break
        try:
            c.send(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return c.read_reply(timeout=5), time.monotonic() - t0
    assert time.monotonic() - t0 >= limit, "trickle data too short for the limit"
    return None, time.monotonic() - t0


def _assert_cut_off(c: SmtpClient, reply, elapsed: float, what: str):
    assert reply is not None, (f"{what}: still connected after {elapsed:.1f} s "
                               f"(idle_timeout {IDLE} s)\n{c.dump()}")
    c.check(reply, 421, "4.4.2", what)
    assert "timeout exceeded" in reply.text, reply
    assert elapsed >= IDLE - 0.5, f"{what}: cut off after {elapsed:.2f} s, before idle_timeout"
    assert elapsed < LIMIT, f"{what}: cut off only after {elapsed:.1f} s"
    assert c.wait_closed(5), f"{what}: connection must be closed after 421\n{c.dump()}"


def _assert_nothing_queued(gw):
    time.sleep(0.5)
    assert gw.delivered() == [], f"unexpected deliveries: {gw.delivered()}"
    assert gw.queue_list() == {}, f"unexpected queue entries: {gw.queue_list()}"


def _open_transaction(c: SmtpClient):
    c.greet()
    c.expect("MAIL FROM:<a@origin.test>", 250)
    c.expect("RCPT TO:<x@example.test>", 250)


def test_trickle_in_command_line_is_cut_off(make_gateway):
    gw = make_gateway(limits={"idle_timeout": IDLE})
    with SmtpClient(gw.port) as c:
        c.greet()
        reply, elapsed = _trickle(c, b"MAIL FROM:<" + b"a" * 200 + b"@origin.test>\r\n")
        _assert_cut_off(c, reply, elapsed, "trickle in a command line")
    gw.wait_event("session", result="command timeout")


def test_trickle_in_command_line_after_starttls_is_cut_off(make_gateway):
    gw = make_gateway(limits={"idle_timeout": IDLE})
    with SmtpClient(gw.port) as c:
        c.greet()
        c.starttls(gw.pki.client_context())
        c.ehlo()
        reply, elapsed = _trickle(c, b"MAIL FROM:<" + b"a" * 200 + b"@origin.test>\r\n")
        _assert_cut_off(c, reply, elapsed, "trickle in a command line over TLS")
    gw.wait_event("session", result="command timeout")


def test_trickle_in_data_is_cut_off(make_gateway):
    gw = make_gateway(limits={"idle_timeout": IDLE})
    with SmtpClient(gw.port) as c:
        _open_transaction(c)
        c.expect("DATA", 354)
        reply, elapsed = _trickle(c, b"Subject: slow " + b"x" * 200 + b"\r\n\r\nbody\r\n.\r\n")
        _assert_cut_off(c, reply, elapsed, "trickle in DATA")
    gw.wait_event("session", result="data timeout")
    _assert_nothing_queued(gw)


def test_trickle_in_bdat_chunk_is_cut_off(make_gateway):
    gw = make_gateway(limits={"idle_timeout": IDLE})
    chunk = b"Subject: slow " + b"x" * 200 + b"\r\n\r\nbody\r\n"
    with SmtpClient(gw.port) as c:
        _open_transaction(c)
        c.send(f"BDAT {len(chunk)} LAST\r\n".encode())
        reply, elapsed = _trickle(c, chunk)
        _assert_cut_off(c, reply, elapsed, "trickle in a BDAT chunk")
    gw.wait_event("session", result="data timeout")
    _assert_nothing_queued(gw)


def test_data_below_min_rate_is_cut_off(make_gateway):
    """Complete 100-byte lines every 0.25 s (400 bytes/s): each line is in time, but after
    idle_timeout the client has not sent min_data_rate (1000 bytes/s) x elapsed."""
    gw = make_gateway(limits={"idle_timeout": IDLE, "min_data_rate": 1000})
    line = b"y" * 98 + b"\r\n"
    with SmtpClient(gw.port) as c:
        _open_transaction(c)
        c.expect("DATA", 354)
        c.send(b"Subject: steady but slow\r\n\r\n")
        t0 = time.monotonic()
        reply = None
        while time.monotonic() - t0 < LIMIT:
            readable, _, _ = select.select([c.sock], [], [], 0.25)
            if readable:
                reply = c.read_reply(timeout=5)
                break
            try:
                c.send(line)
            except (BrokenPipeError, ConnectionResetError):
                reply = c.read_reply(timeout=5)
                break
        _assert_cut_off(c, reply, time.monotonic() - t0, "DATA below min_data_rate")
    gw.wait_event("session", result="data rate below 1000 bytes/s")
    _assert_nothing_queued(gw)


def test_ordinary_clients_pass(make_gateway, tmp_path):
    """With the same short limits: smtplib (a 200 KiB message), swaks (plain and pipelined),
    a pipelined batch after a pause, and a client slow between complete commands."""
    gw = make_gateway(limits={"idle_timeout": IDLE, "min_data_rate": 1000})

    big = make_message("smtplib big", (b"z" * 98 + b"\r\n") * 2000)
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=20) as s:
        s.ehlo("client.test")
        code, _ = s.mail("a@origin.test")
        assert code == 250
        code, _ = s.rcpt("x@example.test")
        assert code == 250
        code, text = s.data(big)
        assert code == 250, text
        qid = text.decode().rsplit(" ", 1)[-1].strip("<>")
    gw.assert_delivered(qid, big)

    msg = make_message("swaks slow clients", b"body\r\n")
    f = tmp_path / "swaks-data.eml"
    f.write_bytes(dot_stuff(msg) + b".")
    for extra in ([], ["--pipeline"]):
        r = subprocess.run(["swaks", "-s", "127.0.0.1", "-p", str(gw.port), "-f", "a@origin.test",
                            "-t", "x@example.test", "--helo", "client.test", "-ndf",
                            "--data", f"@{f}", *extra], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"swaks {extra} failed:\n{r.stdout}\n{r.stderr}"
        assert "250 2.0.0 Ok: queued as" in r.stdout, r.stdout

    # Pipelined: a pause shorter than idle_timeout, then everything at once.
    with SmtpClient(gw.port) as c:
        c.expect(None, 220)
        time.sleep(IDLE * 0.6)
        c.send(b"EHLO client.test\r\nMAIL FROM:<a@origin.test>\r\n"
               + b"".join(b"RCPT TO:<r%d@example.test>\r\n" % i for i in range(30))
               + b"DATA\r\n" + make_message("pipelined") + b".\r\nQUIT\r\n")
        codes = [c.read_reply().code for _ in range(1 + 1 + 30 + 1 + 1 + 1)]
        assert codes == [250, 250] + [250] * 30 + [354, 250, 221], c.dump()

    # Slow but complete: each command within idle_timeout, the session longer than 2x it.
    with SmtpClient(gw.port) as c:
        c.greet()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.5 * IDLE:
            time.sleep(IDLE * 0.6)
            c.expect("NOOP", 250)
        c.expect("QUIT", 221)

    qid = send_raw(gw.port, make_message("raw after the others"))
    assert gw.wait_delivered(qid)
