"""Next-hop SMTP servers for the delivery tests: an aiosmtpd-based Peer (optionally with
STARTTLS, client-certificate checks, scripted replies, slow DATA, trimmed EHLO) and a
wrapper around Postfix's smtp-sink. Plus gateway set-up for an outbound `smtp` connector.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import re
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from bhtest import free_port, wait_until

FAST_QUEUE = {"retry_delay": 1, "max_retry_delay": 2}


# --------------------------------------------------------------------------- aiosmtpd peer

@dataclass
class Received:
    """One transaction the peer accepted with 250 (or saw the end of, see Peer.record_early)."""
    conn: int
    helo: str
    mail_from: str
    mail_options: list
    rcpt_tos: list
    rcpt_options: list
    content: bytes  # dot-unstuffed, CRLF as sent
    tls: dict | None  # {"version", "cipher", "peercert"} or None for plaintext

    @property
    def subject(self) -> str | None:
        m = re.search(rb"(?mi)^Subject: ?(.*?)\r?$", self.content.split(b"\r\n\r\n", 1)[0])
        return m.group(1).decode("utf-8", "replace") if m else None

    def peer_cn(self) -> str | None:
        cert = (self.tls or {}).get("peercert") or {}
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None


class _PeerSMTP(SMTP):
    """One instance per TCP connection: numbers the connection and counts how many
    sessions that said EHLO/HELO are open at once."""

    def __init__(self, handler, *args, **kwargs):
        super().__init__(handler, *args, **kwargs)
        self.conn_no = next(handler.peer._conn_numbers)
        self._counted = False

    async def smtp_EHLO(self, hostname):
        self._count_open()
        return await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname):
        self._count_open()
        return await super().smtp_HELO(hostname)

    def _count_open(self):
        if self._counted:
            return
        self._counted = True
        peer = self.event_handler.peer
        with peer.lock:
            peer.open_sessions += 1
            peer.max_concurrent = max(peer.max_concurrent, peer.open_sessions)

    def connection_lost(self, error):
        if self._counted:
            peer = self.event_handler.peer
            with peer.lock:
                peer.open_sessions -= 1
        return super().connection_lost(error)


class _PeerController(Controller):
    def factory(self):
        return _PeerSMTP(self.handler, **self.SMTP_kwargs)


class _PeerHandler:
    def __init__(self, peer: "Peer"):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # the 5-argument hook has to do this itself
        p = self.peer
        with p.lock:
            p.ehlo_connections.add(server.conn_no)
            p.helo_names.append(hostname)
        drop = {k.upper() for k in p.drop_ehlo}
        kept = responses[:1] + [r for r in responses[1:-1] if r[4:].split(" ", 1)[0].upper() not in drop]
        return kept + p.extra_ehlo + [responses[-1]]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.peer.lock:
            self.peer.mail_commands.append((address, list(mail_options)))
            n = len(self.peer.mail_commands)
        reply = self.peer.mail_reply(address, n) if self.peer.mail_reply else None
        if reply and not reply.startswith("2"):
            return reply
        # aiosmtpd refuses RCPT after a falsy mail_from: keep the null sender as "<>".
        envelope.mail_from = address or "<>"
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        p = self.peer
        with p.lock:
            n = p.rcpt_attempts[address] = p.rcpt_attempts.get(address, 0) + 1
        reply = p.rcpt_reply(address, n) if p.rcpt_reply else None
        if reply and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(list(rcpt_options))
        return reply or "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        p = self.peer
        tls = None
        if session.ssl:
            obj = session.ssl.get("ssl_object")
            tls = {"version": obj.version() if obj else None, "cipher": session.ssl.get("cipher"),
                   "peercert": session.ssl.get("peercert")}
        rec = Received(server.conn_no, session.host_name, envelope.mail_from,
                       list(envelope.mail_options), list(envelope.rcpt_tos),
                       [list(o) for o in envelope.rcpt_options],
                       bytes(envelope.original_content), tls)
        with p.lock:
            p.data_attempts += 1
            n = p.data_attempts
        if p.record_early:  # the peer "has" the message before it answers (duplicates possible)
            with p.lock:
                p.messages.append(rec)
        if p.data_delay:
            await asyncio.sleep(p.data_delay)
        reply = p.data_reply(rec, n) if p.data_reply else None
        if reply and not reply.startswith("2"):
            return reply
        if not p.record_early:
            with p.lock:
                p.messages.append(rec)
        return reply or "250 2.0.0 OK queued"


class Peer:
    """An aiosmtpd server on 127.0.0.1:<free port>.

    tls=(cert, key) offers STARTTLS; client_ca=PATH asks for a client certificate and
    requires it (CERT_REQUIRED) when require_client_cert, else CERT_OPTIONAL.
    drop_ehlo removes EHLO keywords (e.g. "8BITMIME"); smtputf8=False does not offer SMTPUTF8.
    mail_reply(address, n) / rcpt_reply(address, attempt_no) / data_reply(Received, attempt_no)
    return a reply line
    (non-2xx refuses) or None for the default 250.
    """

    def __init__(self, *, tls=None, client_ca=None, require_client_cert=True, drop_ehlo=(),
                 extra_ehlo=(), smtputf8=True, mail_reply=None, rcpt_reply=None, data_reply=None,
                 data_delay: float = 0.0, record_early=False, hostname="peer.test",
                 max_tls: str | None = None):
        self.port = free_port()
        self.lock = threading.Lock()
        self._conn_numbers = itertools.count(1)
        self.open_sessions = 0
        self.max_concurrent = 0
        self.ehlo_connections: set[int] = set()
        self.helo_names: list[str] = []
        self.mail_commands: list = []
        self.rcpt_attempts: dict[str, int] = {}
        self.data_attempts = 0
        self.messages: list[Received] = []
        self.drop_ehlo = tuple(drop_ehlo)
        self.extra_ehlo = [f"250-{k}" for k in extra_ehlo]
        self.mail_reply, self.rcpt_reply, self.data_reply = mail_reply, rcpt_reply, data_reply
        self.data_delay, self.record_early = data_delay, record_early
        ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            if max_tls:  # "TLSv1_2": keep the handshake from completing on the client side
                ctx.maximum_version = getattr(ssl.TLSVersion, max_tls)
            if client_ca:
                ctx.load_verify_locations(str(client_ca))
                ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
        self.controller = _PeerController(
            _PeerHandler(self), hostname="127.0.0.1", port=self.port, server_hostname=hostname,
            tls_context=ctx, require_starttls=False, enable_SMTPUTF8=smtputf8, decode_data=False,
            ready_timeout=10)

    @property
    def connections(self) -> int:
        """Connections that sent EHLO (the controller's own readiness probe does not)."""
        with self.lock:
            return len(self.ehlo_connections)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        try:
            self.controller.stop()
        except Exception:  # already stopped / loop gone
            pass

    def wait_messages(self, n: int, timeout: float = 15.0) -> list[Received]:
        ok = wait_until(lambda: len(self.messages) >= n, timeout)
        assert ok, f"peer got {len(self.messages)} of {n} messages within {timeout}s"
        with self.lock:
            return list(self.messages)

    def by_subject(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for m in self.messages:
                counts[m.subject] = counts.get(m.subject, 0) + 1
        return counts


# --------------------------------------------------------------------------- smtp-sink

@dataclass
class SinkMessage:
    helo: str
    mail_args: str
    rcpt_args: list
    content: bytes  # as smtp-sink dumped it: LF line ends, dot-unstuffed


class SmtpSink:
    """Postfix's smtp-sink writing one file per transaction into dir (-d DIR/%M.)."""

    def __init__(self, directory: Path, extra_args=()):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.args = ["smtp-sink", "-u", "root", *extra_args, "-d", f"{self.dir}/%M.",
                     f"127.0.0.1:{self.port}", "100"]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    return s.recv(100).startswith(b"220")
            except OSError:
                return False
        assert wait_until(up, 10), f"smtp-sink did not start: {self.proc.poll()}"
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def messages(self) -> list[SinkMessage]:
        out = []
        for f in sorted(self.dir.iterdir()):
            data = f.read_bytes()
            # Dump: X-... records, a 3-line Received header, the message, one empty line.
            m = re.match(rb"((?:X-[\w-]+: [^\n]*\n)*)Received: [^\n]*\n\t[^\n]*\n\t[^\n]*\n", data)
            if not m or not data.endswith(b"\n\n"):
                continue  # still being written
            fields = re.findall(rb"^(X-[\w-]+): (.*)$", m.group(1), re.M)
            get = lambda k: [v.decode() for n, v in fields if n.decode() == k]
            out.append(SinkMessage((get("X-Helo-Args") or [""])[0], get("X-Mail-Args")[0],
                                   get("X-Rcpt-Args"), data[m.end():-1]))
        return out

    def wait_messages(self, n: int, timeout: float = 15.0) -> list[SinkMessage]:
        got = wait_until(lambda: (lambda l: l if len(l) >= n else None)(self.messages()), timeout)
        assert got, f"smtp-sink got {len(self.messages())} of {n} messages within {timeout}s"
        return got


# --------------------------------------------------------------------------- gateway set-up

def smtp_gateway(make_gateway, connector: dict, *, queue=None, dns=None,
                 domains=("example.test",), dsn_connector: dict | None = None, start=True, **kw):
    """A gateway routing `domains` to an smtp connector "out" (settings from `connector`) and
    origin.test (the test senders' domain, so DSNs) to a file connector writing gw.outdir, or
    to `dsn_connector` when given."""
    gw = make_gateway(start=False, **kw)
    o = gw.overrides
    o["routes"] = [{"domains": list(domains), "connector": "out"},
                   {"domains": ["origin.test"], "connector": "dsn"}]
    o["connectors"] = [{"name": "out", "type": "smtp", **connector},
                       dsn_connector and {"name": "dsn", **dsn_connector}
                       or {"name": "dsn", "type": "file", "directory": gw.outdir}]
    o["queue"] = {**FAST_QUEUE, **(queue or {})}
    if dns is not None:
        o["dns"] = dns
    if start:
        gw.start()
    return gw


def deliveries(gw, qid: str, result: str | None = None) -> list[dict]:
    return [e for e in gw.events("delivery", id=qid) if result is None or e.get("result") == result]


def wait_delivery(gw, qid: str, result: str, timeout: float = 15.0, n: int = 1) -> list[dict]:
    got = wait_until(lambda: (lambda l: l if len(l) >= n else None)(deliveries(gw, qid, result)),
                     timeout)
    assert got, (f"no {n}x 'delivery id={qid} result={result}' within {timeout}s; "
                 f"seen: {[e['_line'] for e in deliveries(gw, qid)]}\nqueue={gw.queue_list()}\n"
                 f"log tail:\n{gw.log_text()[-3000:]}")
    return got


def wait_state(gw, qid: str, state: str | None, timeout: float = 15.0):
    """Wait until qid is in `state` (None: no longer queued at all)."""
    ok = wait_until(lambda: gw.queue_list().get(qid) == state, timeout)
    assert ok, (f"{qid} not {state or 'gone from the queue'} within {timeout}s: {gw.queue_list()}\n"
                f"log tail:\n{gw.log_text()[-3000:]}")


def parse_dsn(data: bytes):
    """(message, {"text", "per_message", "recipients", "returned", "returned_type"})."""
    if data.startswith(b"Received:"):
        from bhtest import split_received
        data = split_received(data)[1]
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    parts = msg.get_payload()
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert isinstance(parts, list) and len(parts) == 3, f"a DSN has 3 parts, got {len(parts)}"
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status", status.get_content_type()
    blocks = status.get_payload()
    return msg, {"text": parts[0].get_payload(decode=True).decode("ascii", "replace"),
                 "per_message": blocks[0], "recipients": blocks[1:],
                 "returned": parts[2], "returned_type": parts[2].get_content_type()}
