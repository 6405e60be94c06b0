"""Helpers shared by Bridgehead's integration tests.

Fixtures live in conftest.py; this module holds the plain classes and functions
(raw SMTP client, gateway process wrapper, TOML writer, message helpers) so that
test files can import them directly (`from bhtest import ...`).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PKI_SCRIPT = REPO_ROOT / "tests" / "pki" / "make-test-pki"
CLIENT_CERT_NAME = "mail.protection.outlook.com"
QUEUE_STATES = ("incoming", "active", "deferred", "hold", "corrupt")
QUEUED_AS = re.compile(r"queued as <?([^\s<>]+)>?")
CRLF = b"\r\n"


def bridgehead_bin() -> Path:
    return Path(os.environ.get("BRIDGEHEAD_BIN", REPO_ROOT / "build" / "bridgehead"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, interval=0.05):
    """Poll pred() until it returns a truthy value; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# --------------------------------------------------------------------------- TOML

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (str, Path)):
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def render_toml(cfg: dict) -> str:
    """Write {table: {key: value}} / {array_table: [{...}, ...]} as TOML."""
    out = []
    for name, body in cfg.items():
        if body is None:
            continue
        tables = body if isinstance(body, list) else [body]
        for t in tables:
            out.append(f"[[{name}]]" if isinstance(body, list) else f"[{name}]")
            for k, v in t.items():
                if v is not None:
                    out.append(f"{k} = {_toml_value(v)}")
            out.append("")
    return "\n".join(out)


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


# --------------------------------------------------------------------------- log

_LOG_LINE = re.compile(r"^(\S+) (\w+) (\w+)(?: (.*))?$")
_LOG_KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def log_events(text: str, event: str | None = None) -> list[dict]:
    """Text-format log lines ("<time> <level> <event> k=v ...") as dicts with the fields plus
    _time/_level/_event/_line; quoted values are JSON-decoded."""
    out = []
    for line in text.splitlines():
        m = _LOG_LINE.match(line)
        if not m or (event is not None and m.group(3) != event):
            continue
        d = {"_time": m.group(1), "_level": m.group(2), "_event": m.group(3), "_line": line}
        for k, v in _LOG_KV.findall(m.group(4) or ""):
            if v.startswith('"'):
                try:
                    v = json.loads(v)
                except ValueError:
                    pass
            d[k] = v
        out.append(d)
    return out


# --------------------------------------------------------------------------- gateway

@dataclass
class Pki:
    dir: Path

    def __getattr__(self, name):  # pki.ca, pki.server_key, pki.client_selfsigned ...
        stem, _, kind = name.rpartition("_")
        if kind == "key":
            return self.dir / f"{stem.replace('_', '-')}.key"
        return self.dir / f"{name.replace('_', '-')}.pem"

    def client_context(self, cert: str | None = None, verify=True) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca)) if verify else ssl._create_unverified_context()
        if cert:
            ctx.load_cert_chain(str(self.dir / f"{cert}.pem"), str(self.dir / f"{cert}.key"))
        return ctx


def make_pki(outdir: Path) -> Pki:
    subprocess.run(["bash", str(PKI_SCRIPT), str(outdir)], check=True, capture_output=True, timeout=60)
    return Pki(Path(outdir))


@dataclass
class Gateway:
    tmp: Path
    pki: Pki | None
    port: int = 0
    binary: Path = field(default_factory=bridgehead_bin)
    overrides: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    expect_exit: bool = False

    def __post_init__(self):
        self.tmp = Path(self.tmp)
        self.spool = self.tmp / "spool"
        self.outdir = self.tmp / "out"
        self.config = self.tmp / "bridgehead.toml"
        self.logfile = self.tmp / "gateway.log"
        self.outdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()

    # -- configuration
    def config_dict(self) -> dict:
        o = self.overrides
        cfg = {
            "server": {"hostname": "localhost", "log_level": "info", **o.get("server", {})},
            "listener": [{"address": f"127.0.0.1:{self.port}", **o.get("listener", {})}],
            "queue": {"directory": self.spool, **o.get("queue", {})},
            "limits": o.get("limits") or None,
            "dns": o.get("dns"),
            "route": o.get("routes") or [{"domains": ["example.test"], "connector": "files"}],
            "connector": o.get("connectors") or [
                {"name": "files", "type": "file", "directory": o.get("outdir", self.outdir)}],
        }
        tls = o.get("tls", {})
        if tls is not False and self.pki is not None:
            cfg["tls"] = {"certificate": self.pki.server, "private_key": self.pki.server_key,
                          "request_client_certificate": True, "client_ca_file": self.pki.ca, **tls}
        else:
            cfg["listener"][0].setdefault("starttls", False)
        # keep a stable, readable table order
        order = ["server", "listener", "tls", "queue", "limits", "dns", "route", "connector"]
        return {k: cfg[k] for k in order if k in cfg}

    def write_config(self):
        self.config.write_text(render_toml(self.config_dict()) + self.overrides.get("extra_toml", ""))

    # -- process control
    def start(self, timeout: float = 15.0):
        if not self.binary.exists():
            raise AssertionError(f"gateway binary not found: {self.binary} (set BRIDGEHEAD_BIN)")
        self.write_config()
        log = open(self.logfile, "ab")
        log.write(f"===== start port={self.port} {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        self.expect_exit = False
        self.proc = subprocess.Popen([str(self.binary), "run", "-c", str(self.config)],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.tmp)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.expect_exit = True
                raise AssertionError(f"gateway exited with {self.proc.returncode} during startup:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    greeting = s.recv(512)
                    if greeting.startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        try:  # let the probe session end so it does not count against limits
                            while s.recv(512):
                                pass
                        except OSError:
                            pass
                        time.sleep(0.1)
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"gateway did not accept on port {self.port} within {timeout}s:\n{self.log_text()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        self.expect_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def kill9(self):
        self.expect_exit = True
        self.proc.kill()
        self.proc.wait(5)

    def log_text(self) -> str:
        try:
            return self.logfile.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def events(self, event: str, **match) -> list[dict]:
        """Parsed log lines of `event` whose fields equal every key=value in match."""
        return [e for e in log_events(self.log_text(), event)
                if all(e.get(k) == str(v) for k, v in match.items())]

    def wait_event(self, event: str, timeout: float = 10.0, **match) -> dict:
        found = wait_until(lambda: self.events(event, **match), timeout)
        assert found, (f"no '{event}' log line with {match} within {timeout}s; queue={self.queue_list()}\n"
                       f"log tail:\n{self.log_text()[-3000:]}")
        return found[0]

    # -- CLI
    def cli(self, *args, timeout=30) -> subprocess.CompletedProcess:
        """`bridgehead <args[0]> -c CONFIG <args[1:]>`, e.g. cli("queue", "list")."""
        cmd = [str(self.binary), str(args[0]), "-c", str(self.config), *map(str, args[1:])]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.tmp)

    def queue_list(self) -> dict[str, str]:
        r = self.cli("queue", "list")
        assert r.returncode == 0, f"queue list failed ({r.returncode}): {r.stdout}{r.stderr}"
        out = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] in QUEUE_STATES:
                out[parts[0]] = parts[1]
        return out

    # -- delivery
    def eml_path(self, qid: str) -> Path:
        return Path(self.overrides.get("outdir", self.outdir)) / f"{qid}.eml"

    def wait_delivered(self, qid: str, timeout: float = 10.0) -> bytes:
        p = self.eml_path(qid)
        if not wait_until(p.exists, timeout):
            raise AssertionError(f"{p.name} not delivered within {timeout}s; queue={self.queue_list()}\n"
                                 f"log tail:\n{self.log_text()[-3000:]}")
        prev = None
        for _ in range(50):  # let an in-progress write settle
            cur = p.read_bytes()
            if cur == prev:
                return cur
            prev = cur
            time.sleep(0.05)
        return prev

    def assert_delivered(self, qid: str, expected: bytes, timeout: float = 10.0) -> bytes:
        data = self.wait_delivered(qid, timeout)
        received, body = split_received(data)
        assert body == expected, (f"{qid}.eml differs from the bytes sent\n"
                                  f"received header: {received!r}\nexpected: {expected[:2000]!r}\n"
                                  f"got:      {body[:2000]!r}")
        return received

    def delivered(self) -> list[Path]:
        return sorted(Path(self.overrides.get("outdir", self.outdir)).glob("*.eml"))


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
