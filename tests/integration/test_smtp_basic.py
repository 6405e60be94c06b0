"""Basic SMTP behaviour: greeting, EHLO, simple commands, routing, byte-exact delivery
with raw sockets, smtplib and swaks."""
from __future__ import annotations

import concurrent.futures
import email.policy
import re
import smtplib
import subprocess
import time
from email.message import EmailMessage

import pytest

from bhtest import wait_until
from smtpclient import (CRLF, QUEUED_AS, SmtpClient, dot_stuff, ehlo_keywords, make_message,
                        send_raw, split_received)


class RecordingSMTP(smtplib.SMTP):
    """smtplib client that remembers the exact message bytes and the reply to each DATA."""

    def __init__(self, *a, **kw):
        self.sent, self.data_replies = [], []
        super().__init__(*a, **kw)

    def data(self, msg):
        b = msg if isinstance(msg, bytes) else smtplib._fix_eols(msg).encode("ascii")
        self.sent.append(b if b.endswith(CRLF) else b + CRLF)
        r = super().data(msg)
        self.data_replies.append(r)
        return r

    def last_queue_id(self):
        code, text = self.data_replies[-1]
        assert code == 250, (code, text)
        m = QUEUED_AS.search(text.decode())
        assert m, f"no queue id in DATA reply {text!r}"
        return m.group(1)


def test_greeting_and_ehlo_keywords(make_gateway):
    gw = make_gateway(limits={"message_size": 5242880})
    with SmtpClient(gw.port) as c:
        g = c.read_reply()
        c.check(g, 220, what="greeting")
        assert "localhost" in g.text
        r = c.ehlo()
        kw = ehlo_keywords(r)
        for k in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                  "CHUNKING", "DSN", "STARTTLS"):
            assert k in kw, f"EHLO does not list {k}: {r}"
        assert kw["SIZE"] == "5242880", f"SIZE must announce limits.message_size: {r}"
        c.expect("QUIT", 221)


def test_helo_is_accepted(gateway):
    with SmtpClient(gateway.port) as c:
        c.expect(None, 220)
        c.expect("HELO client.test", 250)
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@example.test>", 250)
        c.expect("QUIT", 221)


def test_simple_commands(gateway):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("VRFY postmaster", 252)
        c.expect("HELP", 214)
        c.expect("NOOP", 250)
        c.expect("RSET", 250)
        c.expect("noop", 250)  # commands are case-insensitive
        c.expect("QUIT", 221)
        assert c.wait_closed(5), "server must close the connection after QUIT"


def test_unknown_command_and_bad_sequence(gateway):
    with SmtpClient(gateway.port) as c:
        c.greet()
        r = c.cmd("XYZZY")
        assert r.code == 500, c.dump()
        c.expect("RCPT TO:<x@example.test>", 503)
        c.expect("DATA", 503)
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("MAIL FROM:<b@origin.test>", 503)
        r = c.cmd("DATA")  # no recipient yet: RFC 5321 allows 503 or 554
        assert r.code in (503, 554), c.dump()
        c.expect("RSET", 250)
        c.expect("RCPT TO:<x@example.test>", 503)  # RSET cleared the transaction
        c.expect("QUIT", 221)


def test_unrouted_recipient_is_relay_denied(gateway):
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@elsewhere.test>", 550, "5.7.1")
        c.expect("RCPT TO:<x@sub.example.test>", 550, "5.7.1")  # exact domain only
        c.expect("RCPT TO:<x@example.test.evil>", 550, "5.7.1")
        c.expect("RCPT TO:<x@EXAMPLE.TEST>", 250)  # domains are case-insensitive
        c.expect("QUIT", 221)


def test_wildcard_route(make_gateway):
    gw = make_gateway(routes=[{"domains": ["*.wild.test", "example.test"], "connector": "files"}])
    with SmtpClient(gw.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@a.wild.test>", 250)
        c.expect("RCPT TO:<x@b.c.wild.test>", 250)
        c.expect("RCPT TO:<x@wild.test>", 550, "5.7.1")
        c.expect("RCPT TO:<x@notwild.test>", 550, "5.7.1")
        c.expect("QUIT", 221)


def test_raw_delivery_is_byte_exact(gateway):
    body = (b"First line\r\n"
            b".leading dot\r\n"
            b"..two dots\r\n"
            b".\r\n"                         # a lone dot line (stuffed on the wire)
            b"\r\n"
            b"8bit: caf\xc3\xa9 \xe2\x82\xac\r\n"
            b"trailing spaces   \r\n"
            b"\ttab line\r\n"
            + b"x" * 990 + b"\r\n"
            b"last\r\n")
    msg = make_message("raw exact", body)
    qid = send_raw(gateway.port, msg, mail_params="BODY=8BITMIME")
    received = gateway.assert_delivered(qid, msg)
    assert received.endswith(CRLF)
    for line in received.split(CRLF)[:-1]:
        assert len(line) <= 998


def test_two_transactions_in_one_session(gateway):
    m1, m2 = make_message("first"), make_message("second", b"other body\r\n")
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 250)
        c.expect("RCPT TO:<x@example.test>", 250)
        r1 = c.send_data(m1)
        c.check(r1, 250, "2.0.0")
        c.expect("MAIL FROM:<b@origin.test>", 250)
        c.expect("RCPT TO:<y@example.test>", 250)
        c.expect("RCPT TO:<z@example.test>", 250)
        r2 = c.send_data(m2)
        c.check(r2, 250, "2.0.0")
        c.expect("QUIT", 221)
    q1, q2 = r1.queue_id(), r2.queue_id()
    assert q1 and q2 and q1 != q2
    gateway.assert_delivered(q1, m1)
    gateway.assert_delivered(q2, m2)


def test_smtplib_sendmail_8bit_and_dots(gateway):
    msg = make_message("smtplib sendmail",
                       b".starts with a dot\r\n..two\r\n\xc3\xa4\xc3\xb6\xc3\xbc 8bit\r\n.\r\nend\r\n")
    with RecordingSMTP("127.0.0.1", gateway.port, local_hostname="client.test", timeout=10) as s:
        refused = s.sendmail("a@origin.test", ["x@example.test", "y@example.test"], msg,
                             mail_options=["BODY=8BITMIME"])
        assert refused == {}
        qid = s.last_queue_id()
    assert s.sent == [msg]
    gateway.assert_delivered(qid, msg)


def test_smtplib_send_message(gateway):
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "Sender <a@origin.test>"
    m["To"] = "x@example.test"
    m["Subject"] = "send_message \u00fcmlaut"
    m["Message-ID"] = "<send-message@tests.bridgehead>"
    m.set_content(".dot first\nGr\u00fc\u00dfe aus K\u00f6ln\n.\nbye\n", cte="8bit")
    with RecordingSMTP("127.0.0.1", gateway.port, timeout=10) as s:
        s.send_message(m, mail_options=["BODY=8BITMIME"])
        qid = s.last_queue_id()
    (sent,) = s.sent
    assert b"\r\n.dot first\r\n" in sent and b"Gr\xc3\xbc\xc3\x9fe" in sent
    gateway.assert_delivered(qid, sent)


def test_smtputf8_addresses(gateway):
    msg = make_message("utf8", "H\u00e9llo w\u00f6rld\r\n".encode())
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("MAIL FROM:<j\u00f8s\u00e9@origin.test> SMTPUTF8 BODY=8BITMIME".encode(), 250)
        c.expect("RCPT TO:<\u00fcn\u00ef@example.test>".encode(), 250)
        r = c.send_data(msg)
        c.check(r, 250, "2.0.0")
        c.expect("QUIT", 221)
    gateway.assert_delivered(r.queue_id(), msg)


def test_dsn_parameters_accepted(gateway):
    msg = make_message("dsn")
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test> RET=HDRS ENVID=xyz", 250)
        c.expect("RCPT TO:<x@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@example.test", 250)
        c.expect("RCPT TO:<y@example.test> NOTIFY=NEVER", 250)
        r = c.send_data(msg)
        c.check(r, 250, "2.0.0")
        c.expect("QUIT", 221)
    gateway.assert_delivered(r.queue_id(), msg)


def test_pipelined_transaction(gateway):
    msg = make_message("pipelined")
    with SmtpClient(gateway.port) as c:
        c.greet()
        c.send(b"MAIL FROM:<a@origin.test>\r\nRCPT TO:<x@example.test>\r\n"
               b"RCPT TO:<nope@elsewhere.test>\r\nRCPT TO:<y@example.test>\r\nDATA\r\n")
        codes = [c.read_reply().code for _ in range(5)]
        assert codes == [250, 250, 550, 250, 354], c.dump()
        c.send(dot_stuff(msg) + b".\r\nQUIT\r\n")
        r = c.read_reply()
        c.check(r, 250, "2.0.0")
        c.check(c.read_reply(), 221)
    gateway.assert_delivered(r.queue_id(), msg)


def _swaks(gw, tmp_path, msg: bytes, *extra) -> subprocess.CompletedProcess:
    f = tmp_path / "swaks-data.eml"
    f.write_bytes(dot_stuff(msg) + b".")  # -ndf: sent verbatim, swaks adds the final CRLF
    return subprocess.run(["swaks", "-s", "127.0.0.1", "-p", str(gw.port), "-f", "a@origin.test",
                           "-t", "x@example.test", "--helo", "client.test", "-ndf",
                           "--data", f"@{f}", *extra],
                          capture_output=True, text=True, timeout=60)


def _swaks_qid(r) -> str:
    assert r.returncode == 0, f"swaks failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert "<** " not in r.stdout, f"swaks saw an error reply:\n{r.stdout}"
    m = re.search(r"<[-~]\s+250 2\.0\.0 Ok: queued as <?([^\s<>]+)>?", r.stdout)
    assert m, f"no 250 queue id in swaks output:\n{r.stdout}"
    return m.group(1)


@pytest.mark.parametrize("extra", [[], ["--pipeline"]], ids=["plain", "pipeline"])
def test_swaks_delivery(gateway, tmp_path, extra):
    msg = make_message(f"swaks {' '.join(extra)}", b".dot\r\nbody \xc3\xa9\r\n\r\nend\r\n")
    r = _swaks(gateway, tmp_path, msg, *extra)
    gateway.assert_delivered(_swaks_qid(r), msg)


def test_concurrent_senders(gateway):
    def one(i):
        msg = make_message(f"concurrent {i}", f"message number {i}\r\n".encode())
        with RecordingSMTP("127.0.0.1", gateway.port, timeout=20) as s:
            s.sendmail("a@origin.test", [f"r{i}@example.test"], msg)
            return s.last_queue_id(), msg

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, range(40)))
    assert len({q for q, _ in results}) == 40, "queue ids must be unique"
    for qid, msg in results:
        gateway.assert_delivered(qid, msg)


def test_log_mentions_queue_id(gateway):
    qid = send_raw(gateway.port, make_message("log line"))
    gateway.wait_delivered(qid)
    assert wait_until(lambda: qid in gateway.log_text(), 5), \
        f"queue id {qid} not in the gateway log:\n{gateway.log_text()[-3000:]}"


def test_relative_paths_resolve_against_start_directory(make_gateway):
    gw = make_gateway(start=False, queue={"directory": "rel-spool"}, outdir="rel-out")
    (gw.tmp / "rel-out").mkdir()
    gw.start()  # started with cwd = gw.tmp
    msg = make_message("relative")
    qid = send_raw(gw.port, msg)
    p = gw.tmp / "rel-out" / f"{qid}.eml"
    assert wait_until(p.exists, 10), f"not delivered to {p}"
    time.sleep(0.2)
    assert split_received(p.read_bytes())[1] == msg
    assert (gw.tmp / "rel-spool").is_dir()


def test_sigterm_shuts_down_cleanly(gateway):
    send_raw(gateway.port, make_message("before shutdown"))
    t0 = time.monotonic()
    status = gateway.stop(timeout=10)
    assert time.monotonic() - t0 < 10, "gateway ignored SIGTERM"
    assert status == 0, f"exit status {status} after SIGTERM:\n{gateway.log_text()[-2000:]}"


def test_json_log_format(make_gateway):
    import json
    gw = make_gateway(server={"log_format": "json"})
    qid = send_raw(gw.port, make_message("json log"))
    gw.wait_delivered(qid)

    def parsed():
        out = []
        for line in gw.log_text().splitlines():
            if line.strip() and not line.startswith("===== start"):
                out.append(json.loads(line))  # every line must be one JSON object
        return out
    assert wait_until(lambda: any(qid in json.dumps(o) for o in parsed()), 5), gw.log_text()
    assert all(isinstance(o, dict) and "event" in o for o in parsed())


def test_discard_connector(make_gateway):
    gw = make_gateway(start=False,
                      routes=[{"domains": ["example.test"], "connector": "files"},
                              {"domains": ["void.test"], "connector": "void"}],
                      connectors=[{"name": "files", "type": "file", "directory": None},
                                  {"name": "void", "type": "discard"}])
    gw.overrides["connectors"][0]["directory"] = gw.outdir
    gw.start()
    qid = send_raw(gw.port, make_message("to the void"), rcpts=("x@void.test",))
    assert wait_until(lambda: gw.queue_list() == {}, 10), gw.queue_list()
    assert not gw.eml_path(qid).exists()
    msg = make_message("to files")
    gw.assert_delivered(send_raw(gw.port, msg), msg)


def test_second_listener(make_gateway, pki):
    from bhtest import free_port
    port2 = free_port()
    gw = make_gateway(extra_toml=f'\n[[listener]]\naddress = "127.0.0.1:{port2}"\nrequire_tls = true\n')
    msg = make_message("first listener")
    gw.assert_delivered(send_raw(gw.port, msg), msg)
    with SmtpClient(port2) as c:
        c.greet()
        c.expect("MAIL FROM:<a@origin.test>", 530, "5.7.0")
        c.starttls(pki.client_context())
        c.ehlo()
        c.expect("MAIL FROM:<a@origin.test>", 250)
