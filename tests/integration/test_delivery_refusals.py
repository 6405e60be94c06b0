"""Issue 7.10: a next hop that will not talk to us (5xx or 421 greeting) costs a try, never a
bounce: the next smarthost is tried and, with none left, the message waits. Mail whose route a
reload removed goes to hold/ with a log line instead of bouncing."""
from __future__ import annotations

import socket
import threading

from bhtest import free_port, wait_until
from smtpclient import make_message, send_raw
from smtppeers import deliveries, smtp_gateway, wait_delivery, wait_state
from test_reload import reload


class RefusingGreeter:
    """Accepts TCP connections and greets with `greeting`, then closes (a host that will not
    talk to us)."""

    def __init__(self, greeting: bytes):
        self.greeting = greeting
        self.port = free_port()
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                try:
                    conn.sendall(self.greeting)
                    conn.settimeout(2)
                    conn.recv(512)  # QUIT, if the client says it
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                except OSError:
                    pass

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def test_5xx_greeting_tries_the_next_smarthost(make_gateway, make_peer):
    refuser = RefusingGreeter(b"554 5.7.1 refuser.test no SMTP service here\r\n")
    peer = make_peer()
    try:
        gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{refuser.port}",
                                                        f"127.0.0.1:{peer.port}"], "tls": "none"})
        qid = send_raw(gw.port, make_message("second host"))
        wait_delivery(gw, qid, "delivered")
        assert refuser.connections >= 1
        assert [m.subject for m in peer.messages] == ["second host"]
        assert not list(gw.outdir.glob("*.eml")), "a refusing greeting must not bounce"
    finally:
        refuser.stop()


def test_5xx_and_421_greetings_defer_without_a_dsn(make_gateway):
    for greeting in (b"554 5.3.2 busy, go away\r\n", b"421 4.3.2 shutting down\r\n"):
        refuser = RefusingGreeter(greeting)
        try:
            gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{refuser.port}"],
                                             "tls": "none"})
            qid = send_raw(gw.port, make_message("only host refuses"))
            got = wait_delivery(gw, qid, "deferred")
            assert got[0]["status"].startswith("4."), got[0]
            wait_state(gw, qid, "deferred")
            assert not deliveries(gw, qid, "bounced")
            assert not list(gw.outdir.glob("*.eml")), "no DSN for a host that refused to talk"
            gw.stop()
        finally:
            refuser.stop()


def test_route_removed_by_reload_holds_the_message(make_gateway, make_peer):
    peer = make_peer(rcpt_reply=lambda addr, n: "451 4.3.0 try later")
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                      domains=("example.test", "gone.test"))
    qid = send_raw(gw.port, make_message("route goes"), rcpts=("x@gone.test",))
    wait_delivery(gw, qid, "deferred")
    gw.overrides["routes"][0]["domains"] = ["example.test"]  # gone.test removed
    gw.write_config()
    reload(gw, "reloaded", 1)
    wait_state(gw, qid, "hold", timeout=20)  # at its next attempt (retry_delay is 1 s here)
    held = gw.wait_event("message_held", id=qid)
    assert "gone.test" in held["reason"] and "reload" in held["reason"], held
    assert not deliveries(gw, qid, "bounced")
    assert not list(gw.outdir.glob("*.eml")), "no DSN: the administrator decides"
    assert wait_until(lambda: gw.queue_list().get(qid) == "hold", 3)
