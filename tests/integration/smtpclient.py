"""Messages and a raw SMTP client for Bridgehead's integration tests: building and
checking message bytes, a deliberately dumb client that sends exactly what it is given, and
one-shot plain submission (`from smtpclient import ...`)."""
from __future__ import annotations

import re
import socket
import ssl
import time
from dataclasses import dataclass

QUEUED_AS = re.compile(r"queued as <?([^\s<>]+)>?")
CRLF = b"\r\n"


# --------------------------------------------------------------------------- messages

def make_message(subject: str, body: bytes | str = b"Hello.\r\n", *, headers=None,
                 sender="sender@origin.test", to="rcpt@example.test") -> bytes:
    """A CRLF message ending in CRLF."""
    if isinstance(body, str):
        body = body.encode()
    hdrs = [f"From: <{sender}>", f"To: <{to}>", f"Subject: {subject}",
            f"Message-ID: <{subject.replace(' ', '.')}@tests.bridgehead>",
            "Date: Mon, 24 Nov 2025 12:00:00 +0000"]
    hdrs += list(headers or [])
    msg = CRLF.join(h.encode() for h in hdrs) + CRLF + CRLF + body
    if not msg.endswith(CRLF):
        msg += CRLF
    return msg


def dot_stuff(msg: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", msg)


def split_received(data: bytes) -> tuple[bytes, bytes]:
    """Split a delivered .eml into (Received header incl. its CRLF, rest)."""
    assert data.startswith(b"Received: from"), f"delivered file does not start with 'Received: from': {data[:200]!r}"
    pos = 0
    while True:
        i = data.find(CRLF, pos)
        assert i >= 0, f"unterminated Received header: {data[:400]!r}"
        nxt = data[i + 2:i + 3]
        if nxt in (b" ", b"\t"):
            pos = i + 2
            continue
        return data[:i + 2], data[i + 2:]


def header_value(msg: bytes, name: str) -> str | None:
    head = msg.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"\r\n[ \t]+", b" ", head)
    for line in head.split(CRLF):
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode("utf-8", "replace")
    return None

# --------------------------------------------------------------------------- raw SMTP

@dataclass
class Reply:
    code: int
    lines: list  # text after "ddd-" / "ddd "
    raw: bytes

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str:
        first = self.lines[0] if self.lines else ""
        tok = first.split(" ", 1)[0]
        return tok if re.fullmatch(r"\d\.\d{1,3}\.\d{1,3}", tok) else ""

    def queue_id(self) -> str | None:
        m = QUEUED_AS.search(self.text)
        return m.group(1) if m else None

    def __str__(self):
        return self.raw.decode("utf-8", "replace").rstrip()


class SmtpClient:
    """A deliberately dumb SMTP client: sends exactly the bytes it is given."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.transcript: list[tuple[str, bytes]] = []

    # -- io
    def send(self, data: bytes | str):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(("C", data))
        self.sock.sendall(data)

    def _fill(self, timeout) -> bool:
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise
        if not chunk:
            return False
        self.transcript.append(("S", chunk))
        self.buf += chunk
        return True

    def read_reply(self, timeout: float | None = None) -> Reply:
        deadline = time.monotonic() + (timeout or self.timeout)
        lines, raw = [], b""
        while True:
            while CRLF not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no complete reply; partial={self.buf!r}\n{self.dump()}")
                if not self._fill(left):
                    raise ConnectionError(f"connection closed; partial={self.buf!r}\n{self.dump()}")
            line, self.buf = self.buf.split(CRLF, 1)
            raw += line + CRLF
            assert re.match(rb"^\d{3}[ -]", line) or re.fullmatch(rb"\d{3}", line), \
                f"malformed reply line {line!r}\n{self.dump()}"
            lines.append(line[4:].decode("utf-8", "replace"))
            if len(line) == 3 or line[3:4] == b" ":
                return Reply(int(line[:3]), lines, raw)

    def cmd(self, line: str | bytes, timeout=None) -> Reply:
        if isinstance(line, str):
            line = line.encode()
        self.send(line + CRLF)
        return self.read_reply(timeout)

    def expect(self, line, code: int, enhanced: str | None = None) -> Reply:
        r = self.cmd(line) if line is not None else self.read_reply()
        self.check(r, code, enhanced, what=line)
        return r

    def check(self, r: Reply, code: int, enhanced: str | None = None, what=None):
        assert r.code == code, f"{what!r}: expected {code}, got: {r}\n{self.dump()}"
        if enhanced is not None:
            assert r.enhanced == enhanced, f"{what!r}: expected {code} {enhanced}, got: {r}\n{self.dump()}"

    def extra_data(self, wait: float = 0.5) -> bytes:
        """Whatever arrives within `wait` seconds beyond what was consumed (b'' if none)."""
        extra = self.buf
        self.buf = b""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return extra
            try:
                self.sock.settimeout(left)
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return extra
            except OSError:
                return extra
            if not chunk:
                return extra
            self.transcript.append(("S", chunk))
            extra += chunk

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection within timeout (data is discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                return True
            if not chunk:
                return True
            self.transcript.append(("S", chunk))
        return False

    def starttls(self, context: ssl.SSLContext, server_hostname="localhost"):
        """Issue STARTTLS (expects 220) and wrap the socket."""
        r = self.expect("STARTTLS", 220)
        self.tls_handshake(context, server_hostname)
        return r

    def tls_handshake(self, context: ssl.SSLContext, server_hostname="localhost"):
        assert self.buf == b"", f"plaintext data after 220 to STARTTLS: {self.buf!r}\n{self.dump()}"
        self.sock.settimeout(self.timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.transcript.append(("*", f"TLS established {self.sock.version()}".encode()))

    def ehlo(self, name="client.test") -> Reply:
        return self.expect(f"EHLO {name}", 250)

    def greet(self, name="client.test") -> Reply:
        self.expect(None, 220)
        return self.ehlo(name)

    def send_data(self, msg: bytes) -> Reply:
        """DATA + dot-stuffed msg + terminator; returns the final reply."""
        self.expect("DATA", 354)
        assert msg.endswith(CRLF)
        self.send(dot_stuff(msg) + b".\r\n")
        return self.read_reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def dump(self) -> str:
        out = []
        for who, data in self.transcript:
            text = data.decode("utf-8", "backslashreplace")
            if len(text) > 600:
                text = text[:300] + f"...<{len(text) - 600} chars>..." + text[-300:]
            out.append(f"{who}: {text!r}")
        return "transcript:\n  " + "\n  ".join(out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ehlo_keywords(reply: Reply) -> dict[str, str]:
    """EHLO reply -> {KEYWORD: params} (first line is the greeting, skipped)."""
    kw = {}
    for line in reply.lines[1:]:
        k, _, v = line.partition(" ")
        kw[k.upper()] = v
    return kw


def send_raw(port: int, msg: bytes, rcpts=("rcpt@example.test",), sender="sender@origin.test",
             mail_params="", rcpt_params="") -> str:
    """One plain DATA transaction over a raw socket; returns the queue id."""
    with SmtpClient(port) as c:
        c.greet()
        c.expect(f"MAIL FROM:<{sender}>{(' ' + mail_params) if mail_params else ''}", 250)
        for r in rcpts:
            c.expect(f"RCPT TO:<{r}>{(' ' + rcpt_params) if rcpt_params else ''}", 250)
        final = c.send_data(msg)
        c.check(final, 250, "2.0.0", "end of DATA")
        qid = final.queue_id()
        assert qid, f"no queue id in {final}"
        c.cmd("QUIT")
        return qid
