"""Helpers shared by Bridgehead's integration tests: the gateway process wrapper, its TOML
configuration, log parsing, the test PKI and small utilities.

Fixtures live in conftest.py; messages and the raw SMTP client are in smtpclient.py. Test
files import the plain classes and functions directly (`from bhtest import ...`).
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

from smtpclient import split_received

REPO_ROOT = Path(__file__).resolve().parents[2]
PKI_SCRIPT = REPO_ROOT / "tests" / "pki" / "make-test-pki"
CLIENT_CERT_NAME = "mail.protection.outlook.com"
QUEUE_STATES = ("incoming", "active", "deferred", "hold", "corrupt")


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
