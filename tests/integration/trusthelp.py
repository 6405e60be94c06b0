"""Helpers for the inbound-trust tests (docs/inbound-trust.md): a gateway with [access],
[[inbound_connector]], [[tenant]] and [directory] tables, directory import, a swaks wrapper
that parses the transcript and a client bound to a chosen source address.

Import the fixture into a test module with `from trusthelp import trust_gateway`.
"""
from __future__ import annotations

import re
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

from bhtest import Gateway, wait_until
from smtpclient import Reply, SmtpClient

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"   # contoso: accepted by the connector
T2 = "9f8e7d6c-5b4a-4321-8fed-cba987654321"   # fabrikam: a foreign tenant on the same EXO
M365_CONNECTOR = "contoso-exo"
TENANTS = [
    {"id": T1, "name": "contoso", "domains": ["contoso.test", "contoso.onmicrosoft.com"],
     "check_originator_org": True},
    {"id": T2, "name": "fabrikam", "domains": ["fabrikam.test"]},
]
# alice's onmicrosoft.com alias is listed too: with sender_check = "envelope_and_from" (the
# default) a From: mailbox other than the envelope sender needs its own directory entry.
DIRECTORY = [("alice@contoso.test", T1, "fax"), ("bob@contoso.test", T1, ""),
             ("eve@fabrikam.test", T2, "fax"), ("alice@contoso.onmicrosoft.com", T1, "fax")]
FAX_RCPT = "x@fax.example.test"
XTID = "X-MS-Exchange-CrossTenant-Id"


def m365_connector(**kw) -> dict:
    return {"name": M365_CONNECTOR, "kind": "microsoft365",
            "certificate_names": ["mail.protection.outlook.com"], "tenants": [T1],
            "services": ["fax"], **kw}


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port6() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


class TrustGateway(Gateway):
    """Gateway with the trust tables. Extra overrides: access={...}, inbound_connectors=[...],
    tenants=[...], directory=True, ipv6=True (second listener on [::1]). Default routes:
    fax.example.test (service "fax") and example.test, both to file connectors in outdir."""

    def __post_init__(self):
        super().__post_init__()
        self.port6 = free_port6() if self.overrides.get("ipv6") else 0
        self.dbfile = self.tmp / "directory.db"

    def config_dict(self) -> dict:
        o = self.overrides
        cfg = super().config_dict()
        if "routes" not in o:
            cfg["route"] = [{"domains": ["fax.example.test"], "connector": "fax", "service": "fax"},
                            {"domains": ["example.test"], "connector": "files"}]
        if "connectors" not in o:
            cfg["connector"] = [{"name": "fax", "type": "file", "directory": self.outdir},
                                {"name": "files", "type": "file", "directory": self.outdir}]
        if self.port6:
            cfg["listener"].append({**cfg["listener"][0], "address": f"[::1]:{self.port6}"})
        cfg["access"] = o.get("access")
        cfg["inbound_connector"] = o.get("inbound_connectors")
        cfg["tenant"] = o.get("tenants")
        if o.get("directory"):
            # A short poll: `directory import` from another process is seen within it.
            cfg["directory"] = {"database": self.dbfile, "refresh_interval": 100}
        return cfg

    def start(self, timeout: float = 15.0):
        """Like Gateway.start, but a 554 greeting (access list blocks 127.0.0.1) counts as up."""
        self.write_config()
        with open(self.logfile, "ab") as log:
            log.write(f"===== start port={self.port} {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.expect_exit = False
            self.proc = subprocess.Popen([str(self.binary), "run", "-c", str(self.config)],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.tmp)

        def up():
            if self.proc.poll() is not None:
                return True
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    ok = s.recv(512)[:3] in (b"220", b"554")
                    s.sendall(b"QUIT\r\n")
                    try:
                        while s.recv(512):
                            pass
                    except OSError:
                        pass
                    return ok
            except OSError:
                return False
        wait_until(up, timeout, 0.05)
        if self.proc.poll() is not None:
            self.expect_exit = True
            raise AssertionError(f"gateway exited with {self.proc.returncode} during startup:\n"
                                 f"{self.log_text()}\nconfig:\n{self.config.read_text()}")
        if not up():
            self.stop()
            raise AssertionError(f"gateway did not answer on {self.port}:\n{self.log_text()}")
        time.sleep(0.1)
        return self

    # -- directory
    def directory_cmd(self, *args) -> subprocess.CompletedProcess:
        cmd = [str(self.binary), "directory", *map(str, args), "-c", str(self.config)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=self.tmp)

    def import_directory(self, rows=DIRECTORY):
        self.write_config()
        csv = self.tmp / f"directory-{time.monotonic_ns()}.csv"
        csv.write_text("address,tenant,permissions\n" + "".join(f"{a},{t},{p}\n" for a, t, p in rows))
        r = self.directory_cmd("import", csv)
        assert r.returncode == 0, f"directory import failed ({r.returncode}):\n{r.stdout}{r.stderr}"
        return r

    def directory_loads(self) -> int:
        """How often the gateway loaded a changed directory (log event directory_loaded)."""
        return self.log_text().count("directory_loaded")

    def import_directory_and_wait(self, rows=DIRECTORY):
        """Import while the gateway runs and wait until its cache has the new version."""
        loads = self.directory_loads()
        r = self.import_directory(rows)
        wait_until(lambda: self.directory_loads() > loads, 10.0, 0.02)
        assert self.directory_loads() > loads, f"the import never reached the gateway:\n{self.log_text()[-2000:]}"
        return r

    def policy_lines(self) -> list[str]:
        return [l for l in self.log_text().splitlines() if re.match(r"^\S+ \w+ policy\b", l)]


@pytest.fixture
def trust_gateway(make_gateway):
    """Factory: trust_gateway(directory_rows=DIRECTORY|None, start=True, **overrides): a
    TrustGateway made (and stopped on teardown) by make_gateway. With directory_rows the
    directory is enabled and imported before the start."""

    def factory(start=True, directory_rows=None, **overrides):
        if directory_rows is not None:
            overrides["directory"] = True
        gw = make_gateway(start=False, cls=TrustGateway, **overrides)
        if directory_rows is not None:
            gw.import_directory(directory_rows)
        if start:
            gw.start()
        return gw

    return factory


def m365_gateway(trust_gateway, connector=None, **overrides):
    """The standard M365 set-up: connector contoso-exo (T1, fax), tenants T1/T2, directory."""
    return trust_gateway(directory_rows=overrides.pop("directory_rows", DIRECTORY),
                         inbound_connectors=[connector or m365_connector()],
                         tenants=overrides.pop("tenants", TENANTS), **overrides)


# --------------------------------------------------------------------------- replies

def assert_reply(r: Reply, code: int, enhanced: str | None, *phrases, where=""):
    """Code and enhanced code exactly, each phrase as a case-insensitive substring."""
    assert r is not None, f"no reply {where}"
    assert r.code == code and (enhanced is None or r.enhanced == enhanced), \
        f"{where}: expected {code} {enhanced or ''}, got: {r}"
    for p in phrases:
        assert p.lower() in r.text.lower(), f"{where}: reply lacks {p!r}: {r}"


class BoundClient(SmtpClient):
    """SmtpClient whose connection comes from `source` (127.0.0.2, ::1 ...)."""

    def __init__(self, port: int, source: str = "127.0.0.1", host: str | None = None,
                 timeout: float = 10.0):
        self.timeout = timeout
        host = host or ("::1" if ":" in source else "127.0.0.1")
        self.sock = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
        self.buf = b""
        self.transcript = []


# --------------------------------------------------------------------------- swaks

@dataclass
class SwaksRun:
    rc: int
    out: str
    replies: list  # (client line the reply answers, Reply)

    def reply_to(self, prefix: str) -> Reply | None:
        """The reply to the first client line starting with prefix ('.' = end of data)."""
        for cmd, r in self.replies:
            if (cmd == "." if prefix == "." else cmd.upper().startswith(prefix.upper())):
                return r
        return None

    @property
    def final(self) -> Reply | None:
        return self.reply_to(".")

    def qid(self) -> str | None:
        return self.final.queue_id() if self.final else None


def parse_swaks(out: str) -> list:
    replies, last_cmd, lines, raw = [], "", [], b""
    for line in out.splitlines():
        if line[:1] == "<" and len(line) > 4 and re.match(r"\d{3}[ -]?", line[4:]):
            text = line[4:]
            lines.append(text[4:])
            raw += text.encode() + b"\r\n"
            if len(text) == 3 or text[3] == " ":
                replies.append((last_cmd, Reply(int(text[:3]), lines, raw)))
                lines, raw = [], b""
        elif line[:4] in (" -> ", " ~> ", "**> ", "*~> ") or line in (" ->", " ~>"):
            last_cmd = line[4:]
    return replies


def swaks(gw, *, sender="alice@contoso.test", to=FAX_RCPT, headers=(), replace=(),
          cert: str | None = "client", tls=True, body=None, subject="trust test", pki=None,
          extra=()) -> SwaksRun:
    """swaks against gw: STARTTLS with pki/<cert>.pem (None: no client cert), --add-header for
    each of headers, --header for each of replace (replaces a header, e.g. From:)."""
    pki = pki or gw.pki
    args = ["swaks", "-s", "127.0.0.1", "-p", str(gw.port), "-f", sender or "<>", "-t", to,
            "--helo", "mail.protection.outlook.com", "--header", f"Subject: {subject}"]
    if tls:
        args.append("--tls")
        if cert:
            args += ["--tls-cert", str(pki.dir / f"{cert}.pem"), "--tls-key", str(pki.dir / f"{cert}.key")]
    for h in headers:
        args += ["--add-header", h]
    for h in replace:
        args += ["--header", h]
    if body is not None:
        args += ["--body", body]
    args += list(extra)
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if "TLS not available" in r.stdout + r.stderr:
        pytest.fail("swaks lacks TLS support: install libnet-ssleay-perl", pytrace=False)
    if tls:
        assert "TLS started" in r.stdout, f"swaks did not start TLS:\n{r.stdout}\n{r.stderr}"
    return SwaksRun(r.returncode, r.stdout + r.stderr, parse_swaks(r.stdout))


def good_headers(tenant=T1, org="contoso.test") -> list[str]:
    return [f"{XTID}: {tenant}", f"X-OriginatorOrg: {org}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal",
            "X-MS-Exchange-CrossTenant-FromEntityHeader: Hosted"]


def assert_nothing_queued(gw):
    """No message delivered and none in the queue (after a rejection, nothing may be kept)."""
    time.sleep(0.3)
    assert not gw.delivered(), f"a rejected message was delivered: {gw.delivered()}"
    q = gw.queue_list()
    assert not q, f"a rejected message is in the queue: {q}"
