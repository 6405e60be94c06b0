"""STARTTLS: handshake, EHLO after TLS, plaintext command injection, require_tls,
client certificates (CA-signed and self-signed), min_version, swaks over TLS."""
from __future__ import annotations

import re
import ssl
import subprocess

import pytest

from bhtest import CLIENT_CERT_NAME, wait_until
from smtpclient import SmtpClient, dot_stuff, ehlo_keywords, make_message


def _tls_transaction(gw, ctx, subject="tls message") -> tuple[str, bytes]:
    msg = make_message(subject, b".dot over tls\r\n\xc3\xa9\r\n")
    with SmtpClient(gw.port) as c:
        c.greet()
        c.starttls(ctx)
        c.ehlo()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@example.test>", 250)
        r = c.send_data(msg)
        c.check(r, 250, "2.0.0")
        c.expect("QUIT", 221)
    return r.queue_id(), msg


def _lines_with(gw, needle: str, timeout=5.0, event="session") -> list[str]:
    """Log lines of `event` (text format: "<time> <level> <event> k=v ...") containing needle."""
    def find():
        return [l for l in gw.log_text().splitlines()
                if needle in l and re.search(rf"^\S+ \w+ {event} ", l)]
    return wait_until(find, timeout) or []


def _verified_flag(line: str) -> str | None:
    """Value of a verified=/"verified": style field in a log line, lowercased."""
    m = re.search(r'verif\w*"?\s*[=:]\s*"?(\w+)', line, re.I)
    return m.group(1).lower() if m else None


def test_starttls_then_ehlo_without_starttls(gateway, pki):
    with SmtpClient(gateway.port) as c:
        kw = ehlo_keywords(c.greet())
        assert "STARTTLS" in kw
        c.starttls(pki.client_context())
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        kw2 = ehlo_keywords(c.ehlo())
        assert "STARTTLS" not in kw2, "STARTTLS must not be offered once TLS is active"
        for k in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"):
            assert k in kw2, f"{k} missing from EHLO after TLS"
        r = c.cmd("STARTTLS")
        assert 500 <= r.code < 600, f"second STARTTLS must be refused: {r}\n{c.dump()}"
        c.expect("QUIT", 221)


def test_message_over_tls_is_byte_exact(gateway, pki):
    qid, msg = _tls_transaction(gateway, pki.client_context())
    gateway.assert_delivered(qid, msg)


def test_server_certificate_verifies_for_localhost(gateway, pki):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.starttls(pki.client_context())  # create_default_context: CA + hostname checked
        cert = c.sock.getpeercert()
        assert ("commonName", "localhost") in [x for rdn in cert["subject"] for x in rdn]


def test_commands_pipelined_behind_starttls_are_discarded(gateway, pki):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.send(b"STARTTLS\r\nRSET\r\n")
        c.check(c.read_reply(), 220, what="STARTTLS")
        extra = c.extra_data(0.5)
        assert extra == b"", f"server answered plaintext behind STARTTLS: {extra!r}\n{c.dump()}"
        c.tls_handshake(pki.client_context())
        r = c.cmd("EHLO after.tls")
        assert r.code == 250 and len(r.lines) > 1 and "PIPELINING" in ehlo_keywords(r), \
            f"first reply over TLS must be the EHLO reply, got: {r}\n{c.dump()}"
        c.expect("NOOP", 250)
        assert c.extra_data(0.3) == b"", c.dump()
        c.expect("QUIT", 221)


def test_injected_mail_from_before_tls_is_not_executed(gateway, pki):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
        c.check(c.read_reply(), 220, what="STARTTLS")
        c.tls_handshake(pki.client_context())
        r = c.cmd("EHLO after.tls")
        assert r.code == 250 and len(r.lines) > 1, c.dump()
        # had the plaintext MAIL FROM been executed, this RCPT would be accepted
        c.expect("RCPT TO:<x@example.test>", 503)
        c.expect("QUIT", 221)


def test_starttls_forgets_plaintext_state(gateway, pki):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.starttls(pki.client_context())
        r = c.cmd("MAIL FROM:<a@origin.test>")
        assert r.code == 503, f"MAIL right after STARTTLS needs a new EHLO (RFC 3207 4.2): {r}\n{c.dump()}"


def test_require_tls(make_gateway, pki):
    gw = make_gateway(listener={"require_tls": True})
    with SmtpClient(gw.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 530, "5.7.0")
        c.starttls(pki.client_context())
        c.ehlo()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@example.test>", 250)
        c.expect("QUIT", 221)


def test_listener_without_starttls(make_gateway):
    gw = make_gateway(listener={"starttls": False})
    with SmtpClient(gw.port) as c:
        kw = ehlo_keywords(c.greet())
        assert "STARTTLS" not in kw
        r = c.cmd("STARTTLS")
        assert 400 <= r.code < 600, c.dump()
        c.expect("NOOP", 250)


def test_no_tls_section(make_gateway):
    gw = make_gateway(tls=False)
    with SmtpClient(gw.port) as c:
        kw = ehlo_keywords(c.greet())
        assert "STARTTLS" not in kw
        assert 400 <= c.cmd("STARTTLS").code < 600, c.dump()


def test_min_version_tls13(make_gateway, pki):
    gw = make_gateway(tls={"min_version": "TLSv1.3"})
    ctx12 = pki.client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    with SmtpClient(gw.port) as c:
        c.greet()
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            c.starttls(ctx12)
    with SmtpClient(gw.port) as c:
        c.greet()
        c.starttls(pki.client_context())
        assert c.sock.version() == "TLSv1.3"
        c.ehlo()


def test_garbage_instead_of_client_hello(gateway, pki):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("STARTTLS", 220)
        c.send(b"this is not a TLS record\r\n" * 10)
        assert c.wait_closed(10), "server must drop a failed handshake"
    qid, msg = _tls_transaction(gateway, pki.client_context(), "after garbage")
    gateway.assert_delivered(qid, msg)


def test_ca_signed_client_certificate_logged_as_verified(gateway, pki):
    qid, msg = _tls_transaction(gateway, pki.client_context("client"), "client cert")
    gateway.assert_delivered(qid, msg)
    lines = _lines_with(gateway, CLIENT_CERT_NAME)
    assert lines, f"no log line mentions {CLIENT_CERT_NAME}:\n{gateway.log_text()[-3000:]}"
    flags = {_verified_flag(l) for l in lines} - {None}
    assert flags & {"true", "yes", "1", "ok", "verified"}, \
        "client certificate not logged as verified:\n" + "\n".join(lines)


def test_selfsigned_client_certificate_accepted_not_verified(gateway, pki):
    qid, msg = _tls_transaction(gateway, pki.client_context("client-selfsigned"), "self-signed cert")
    gateway.assert_delivered(qid, msg)  # a client certificate is never required
    lines = _lines_with(gateway, CLIENT_CERT_NAME)
    assert lines, f"no log line mentions {CLIENT_CERT_NAME}:\n{gateway.log_text()[-3000:]}"
    flags = {_verified_flag(l) for l in lines} - {None}
    assert flags and not (flags & {"true", "yes", "1", "ok", "verified"}), \
        "self-signed client certificate must not count as verified:\n" + "\n".join(lines)


def test_client_cert_without_client_ca_is_not_verified(make_gateway, pki):
    gw = make_gateway(tls={"client_ca_file": None})
    _tls_transaction(gw, pki.client_context("client"), "no client ca")
    lines = _lines_with(gw, CLIENT_CERT_NAME)
    assert lines, f"no log line mentions {CLIENT_CERT_NAME}:\n{gw.log_text()[-3000:]}"
    flags = {_verified_flag(l) for l in lines} - {None}
    assert flags and not (flags & {"true", "yes", "1", "ok", "verified"}), "\n".join(lines)


def test_tls_without_client_certificate(gateway, pki):
    qid, msg = _tls_transaction(gateway, pki.client_context(), "no client cert")
    gateway.assert_delivered(qid, msg)
    assert CLIENT_CERT_NAME not in gateway.log_text()


# ---------------------------------------------------------------- swaks

def _swaks(gw, tmp_path, msg, *extra):
    f = tmp_path / "swaks-data.eml"
    f.write_bytes(dot_stuff(msg) + b".")  # -ndf: sent verbatim, swaks adds the final CRLF
    r = subprocess.run(["swaks", "-s", "127.0.0.1", "-p", str(gw.port), "-f", "a@origin.test",
                        "-t", "x@example.test", "--helo", "client.test", "-ndf", "--data", f"@{f}",
                        *extra], capture_output=True, text=True, timeout=60)
    if "TLS not available" in r.stdout + r.stderr:
        pytest.fail("swaks lacks TLS support: install libnet-ssleay-perl", pytrace=False)
    assert r.returncode == 0, f"swaks failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert "<** " not in r.stdout, f"swaks saw an error reply:\n{r.stdout}"
    m = re.search(r"<[-~]\s+250 2\.0\.0 Ok: queued as <?([^\s<>]+)>?", r.stdout)
    assert m, f"no 250 queue id in swaks output:\n{r.stdout}"
    if "--tls" in extra:
        assert " -> STARTTLS" in r.stdout and "TLS started" in r.stdout, r.stdout
    return m.group(1), r.stdout


def test_swaks_starttls(gateway, tmp_path):
    msg = make_message("swaks tls", b".dot\r\n\xc3\xa9\r\n")
    qid, _ = _swaks(gateway, tmp_path, msg, "--tls")
    gateway.assert_delivered(qid, msg)


def test_swaks_starttls_pipeline(gateway, tmp_path):
    msg = make_message("swaks tls pipeline")
    qid, _ = _swaks(gateway, tmp_path, msg, "--tls", "--pipeline")
    gateway.assert_delivered(qid, msg)


def test_swaks_client_certificate(gateway, tmp_path, pki):
    msg = make_message("swaks client cert")
    qid, out = _swaks(gateway, tmp_path, msg, "--tls", "--tls-cert", str(pki.client),
                      "--tls-key", str(pki.client_key))
    gateway.assert_delivered(qid, msg)
    lines = _lines_with(gateway, CLIENT_CERT_NAME)
    assert lines, f"session log does not mention {CLIENT_CERT_NAME}:\n{gateway.log_text()[-3000:]}"
