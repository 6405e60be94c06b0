"""Outbound SMTP connector, plain relaying: byte-exact relay to smtp-sink and aiosmtpd,
envelope and DSN parameters passed on, MX lookup through [dns] local_data, connection reuse."""
from __future__ import annotations

from bhtest import CLIENT_CERT_NAME, free_port, wait_until
from smtpclient import CRLF, SmtpClient, make_message, send_raw, split_received
from smtppeers import deliveries, smtp_gateway, wait_delivery, wait_state

EIGHT_BIT_BODY = (b"First line\r\n.leading dot\r\n..two dots\r\n.\r\n"
                  + b"x" * 900 + b"\r\n" + "caf\u00e9 \u00fcber\r\n".encode() + b"\tTab line \r\n")


def _send_session(port, msgs, rcpt="rcpt@example.test"):
    """Several transactions over one SMTP session; returns the queue ids."""
    ids = []
    with SmtpClient(port) as c:
        c.greet()
        for m in msgs:
            c.expect("MAIL FROM:<sender@origin.test>", 250)
            c.expect(f"RCPT TO:<{rcpt}>", 250)
            r = c.send_data(m)
            c.check(r, 250, what="end of DATA")
            ids.append(r.queue_id())
        c.cmd("QUIT")
    return ids


def _params(args: str) -> dict[str, str]:
    """'<addr> K=V K2=V2' -> {K: V} (keys upper-cased)."""
    out = {}
    for tok in args.split()[1:]:
        k, _, v = tok.partition("=")
        out[k.upper()] = v
    return out


def test_relay_to_smtp_sink_byte_exact_with_dsn_parameters(make_gateway, make_sink):
    sink = make_sink()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{sink.port}"], "tls": "none",
                                     "helo_name": "gw.bridgehead.test"})
    msg = make_message("sink relay", EIGHT_BIT_BODY, headers=["MIME-Version: 1.0",
                       "Content-Type: text/plain; charset=utf-8",
                       "Content-Transfer-Encoding: 8bit"])
    qid = send_raw(gw.port, msg, rcpts=("a@example.test", "b@example.test"),
                   mail_params="BODY=8BITMIME ENVID=env-basic-1 RET=HDRS",
                   rcpt_params="NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@example.test")
    [got] = sink.wait_messages(1)
    wait_state(gw, qid, None)

    assert got.helo == "gw.bridgehead.test"
    assert got.mail_args.split()[0] == "<sender@origin.test>", got.mail_args
    mp = _params(got.mail_args)
    assert mp.get("ENVID") == "env-basic-1", got.mail_args
    assert mp.get("RET", "").upper() == "HDRS", got.mail_args
    assert mp.get("BODY", "").upper() == "8BITMIME", got.mail_args
    assert [a.split()[0] for a in got.rcpt_args] == ["<a@example.test>", "<b@example.test>"]
    for a in got.rcpt_args:
        rp = _params(a)
        assert set(rp.get("NOTIFY", "").upper().split(",")) == {"SUCCESS", "FAILURE"}, a
        assert rp.get("ORCPT", "").lower() == "rfc822;orig@example.test", a

    # smtp-sink dumps LF line ends; the relayed text is Bridgehead's Received + the original.
    relayed = got.content.replace(b"\n", CRLF)
    received, rest = split_received(relayed)
    assert rest == msg, f"relayed message differs\nexpected: {msg!r}\ngot:      {rest!r}"
    assert received.count(b"Received:") == 1

    ok = deliveries(gw, qid, "delivered")
    assert len(ok) == 2 and {e["to"] for e in ok} == {"a@example.test", "b@example.test"}, ok
    assert all(e["status"].startswith("2.") for e in ok), ok
    # The peer offers DSN, so NOTIFY=SUCCESS travelled on: no "relayed" report from us.
    assert gw.events("dsn", id=qid) == [], gw.events("dsn", id=qid)
    assert gw.delivered() == []


def test_relay_to_aiosmtpd_byte_exact_envelope_and_size(make_gateway, make_peer):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"]})
    msg = make_message("aiosmtpd relay", EIGHT_BIT_BODY + b"." * 80 + b"\r\n" + b"end\r\n")
    rcpts = ("one@example.test", "two@example.test", "three@example.test")
    qid = send_raw(gw.port, msg, rcpts=rcpts, mail_params="BODY=8BITMIME")
    [got] = peer.wait_messages(1)
    wait_state(gw, qid, None)

    assert got.mail_from == "sender@origin.test"
    assert got.rcpt_tos == list(rcpts), "one transaction, recipients in the order received"
    assert got.tls is None, "the peer offers no STARTTLS: plaintext"
    opts = {o.split("=", 1)[0]: o.partition("=")[2] for o in got.mail_options}
    assert opts.get("BODY") == "8BITMIME", got.mail_options
    assert "SIZE" in opts and int(opts["SIZE"]) >= len(msg), \
        f"SIZE offered by the peer must be used with the message size: {got.mail_options}"
    received, rest = split_received(got.content)
    assert rest == msg, f"relayed message differs\nexpected: {msg!r}\ngot:      {rest!r}"
    assert b"localhost" in received, received
    assert len(deliveries(gw, qid, "delivered")) == 3
    assert peer.connections == 1


def test_relay_to_bridgehead_over_verified_tls_with_chunking(make_gateway, pki):
    """Next hop: a second gateway (CHUNKING, PIPELINING, DSN, STARTTLS, asks for a client
    certificate). Lines that start with a dot and bare 8-bit must survive BDAT unchanged."""
    hop = make_gateway()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{hop.port}"], "tls": "verify",
                                     "ca_file": pki.ca, "client_certificate": pki.client,
                                     "client_key": pki.client_key})
    msg = make_message("bridgehead to bridgehead", EIGHT_BIT_BODY + b".\r\n.\r\nlast\r\n")
    qid = send_raw(gw.port, msg, mail_params="BODY=8BITMIME ENVID=hop-1",
                   rcpt_params="NOTIFY=FAILURE ORCPT=rfc822;rcpt@example.test")
    [ok] = wait_delivery(gw, qid, "delivered")
    hop_id = ok["detail"].split()[-1].strip("<>") if "queued as" in ok["detail"] else None
    files = wait_until(hop.delivered, 10)
    assert len(files) == 1, files
    hop_recv, rest = split_received(files[0].read_bytes())
    gw_recv, rest = split_received(rest)
    assert rest == msg, f"relayed message differs\nexpected: {msg!r}\ngot:      {rest!r}"
    [m] = hop.events("message", result="queued")
    assert m.get("tls", "none") != "none", m["_line"]
    assert CLIENT_CERT_NAME in m.get("client_cert", ""), m["_line"]
    if hop_id:
        assert files[0].name == f"{hop_id}.eml"
    wait_state(gw, qid, None)


def test_smarthosts_are_tried_in_order(make_gateway, make_peer):
    peer = make_peer()
    dead = free_port()  # nothing listens there
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{dead}", f"127.0.0.1:{peer.port}"],
                                     "tls": "none"})
    qid = send_raw(gw.port, make_message("second smarthost"))
    peer.wait_messages(1)
    wait_delivery(gw, qid, "delivered")
    assert any(f":{dead}" in e["_line"] for e in gw.events("connect_failed")), gw.log_text()[-2000:]


def test_mx_lookup_with_local_data_and_mx_preference(make_gateway, make_peer):
    peer = make_peer()
    dns = {"resolv_conf": "", "local_data": [
        "example.test. MX 10 mx1.example.test.",
        "example.test. MX 5 mx0.example.test.",   # preferred, but nothing listens there
        "mx0.example.test. A 127.0.0.2",
        "mx1.example.test. A 127.0.0.1"]}
    gw = smtp_gateway(make_gateway, {"port": peer.port, "tls": "none", "connect_timeout": 5},
                      dns=dns)
    msg = make_message("via mx")
    qid = send_raw(gw.port, msg)
    [got] = peer.wait_messages(1)
    assert split_received(got.content)[1] == msg
    [ok] = wait_delivery(gw, qid, "delivered")
    assert "mx1.example.test" in ok.get("remote", ""), ok["_line"]
    # mx0 (preference 5) was tried first and refused the connection.
    assert any("mx0.example.test" in e["_line"] for e in gw.events("connect_failed")), \
        gw.log_text()[-2000:]
    wait_state(gw, qid, None)


def test_domain_without_mail_hosts_bounces(make_gateway, make_peer):
    """.test is a locally served zone: a domain without data there does not exist (NXDOMAIN),
    which is permanent: the recipient bounces and the sender gets a DSN."""
    gw = smtp_gateway(make_gateway, {"port": 25, "tls": "none"}, domains=("nowhere.test",),
                      dns={"resolv_conf": "", "local_data": ["example.test. MX 10 mx1.example.test."]})
    qid = send_raw(gw.port, make_message("no such domain", to="x@nowhere.test"),
                   rcpts=("x@nowhere.test",))
    [bounce] = wait_delivery(gw, qid, "bounced")
    assert bounce["status"].startswith("5."), bounce["_line"]
    gw.wait_event("dsn", id=qid, kind="failure")
    wait_state(gw, qid, None)


def test_connection_reuse(make_gateway, make_peer):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "idle_time": 5})
    msgs = [make_message(f"reuse {i}") for i in range(5)]
    ids = _send_session(gw.port, msgs)
    got = peer.wait_messages(5)
    assert sorted(m.subject for m in got) == [f"reuse {i}" for i in range(5)]
    for q in ids:
        wait_state(gw, q, None)
    assert 1 <= peer.connections < 5, f"{peer.connections} connections for 5 messages: no reuse"


def test_max_messages_per_connection(make_gateway, make_peer):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "max_connections": 1, "max_messages_per_connection": 2,
                                     "idle_time": 10})
    ids = _send_session(gw.port, [make_message(f"limit {i}") for i in range(5)])
    peer.wait_messages(5)
    for q in ids:
        wait_state(gw, q, None)
    assert peer.connections == 3, f"5 messages, 2 per connection, 1 at a time: {peer.connections}"
    # Every connection but the last was used for exactly two transactions.
    per_conn = {}
    for m in peer.messages:
        per_conn[m.conn] = per_conn.get(m.conn, 0) + 1
    assert sorted(per_conn.values()) == [1, 2, 2], per_conn


def test_idle_connection_is_closed_with_quit(make_gateway, make_peer):
    peer = make_peer()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none",
                                     "idle_time": 1})
    qid = send_raw(gw.port, make_message("idle"))
    peer.wait_messages(1)
    wait_state(gw, qid, None)
    # After idle_time the connection goes away; the next message needs a new one.
    assert wait_until(lambda: _open_conns(peer.port) == 0, 10), "idle connection not closed"
    send_raw(gw.port, make_message("after idle"))
    peer.wait_messages(2)
    assert peer.connections == 2


def _open_conns(port: int) -> int:
    """Established TCP connections to 127.0.0.1:port (from /proc/net/tcp)."""
    n = 0
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, st = line.split()[1], line.split()[3]
        if local.endswith(f":{port:04X}") and st == "01":
            n += 1
    return n
