"""The SMS connector's test rig: the test SMSC (tests/support/smsc/smsc.js on npm `smpp`), the
gateway set up as a tenant's Exchange Online would use it, and small SMS helpers.

The gateway: the microsoft365 inbound connector "contoso-exo" offers the "sms" service to the
tenant contoso (contoso.test); sms.example.com is routed to the sms connector "sms" (service
"sms"), contoso.test to the smtp connector "exo", which presents the tenant's own client
certificate (mail.contoso.test) to the "Exchange Online" peer (aiosmtpd, STARTTLS, a client
certificate from the test CA required). The directory: alice may send SMS and owns the service
numbers ALICE_NUMBERS (sms); bob has no sms permission.

The SMSC records every PDU of interest as a JSON line (records()); its control port takes
the commands of tests/support/smsc/README.md (cmd()).
"""
from __future__ import annotations

import json
import os
import re
import select
import smtplib
import socket
import subprocess
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from bhtest import REPO_ROOT, wait_until
from smtppeers import FAST_QUEUE, Peer
from test_fax_end_to_end import FaxGateway, _value, tenant_certificate

SMSC_DIR = REPO_ROOT / "tests" / "support" / "smsc"
TENANT = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
TENANT_DOMAIN = "contoso.test"
TENANT_CERT_NAME = "mail.contoso.test"
SMS_DOMAIN = "sms.example.com"
ALICE = f"alice@{TENANT_DOMAIN}"
BOB = f"bob@{TENANT_DOMAIN}"
ALICE_NUMBERS = ("+4915100000001", "+4915100000002")  # her service numbers, sorted
HANDSET = "+491701234567"  # the mobile phone alice texts with
SYSTEM_ID, PASSWORD = "bridgehead", "secret"
XTID = "X-MS-Exchange-CrossTenant-Id"

# SMPP command_status values the tests name.
ESME_ROK, ESME_RTHROTTLED, ESME_RINVDSTADR = 0x00, 0x58, 0x0B


# --------------------------------------------------------------------------- GSM 03.38

GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
                 "]": 0x3E, "|": 0x40, "€": 0x65}
_GSM_EXT_DECODE = {v: k for k, v in GSM_EXTENSION.items()}


def gsm_encode(text: str) -> bytes:
    """GSM 03.38 default alphabet, one septet per octet (unpacked), as SMPP data_coding 0."""
    out = bytearray()
    for ch in text:
        if ch in GSM_EXTENSION:
            out += bytes([0x1B, GSM_EXTENSION[ch]])
        else:
            i = GSM_BASIC.find(ch)
            assert i >= 0 and ch != "\x1b", f"{ch!r} is not in the GSM 03.38 default alphabet"
            out.append(i)
    return bytes(out)


def gsm_decode(data: bytes) -> str:
    out, i = [], 0
    while i < len(data):
        b = data[i]
        if b == 0x1B and i + 1 < len(data):
            i += 1
            out.append(_GSM_EXT_DECODE.get(data[i], " "))
        else:
            out.append(GSM_BASIC[b & 0x7F])
        i += 1
    return "".join(out)


def sm_text(data: bytes, data_coding: int) -> str:
    """The text of short_message octets (the UDH already taken off)."""
    if data_coding == 0x08:
        return data.decode("utf-16-be")
    if data_coding == 0x03:
        return data.decode("latin-1")
    assert data_coding in (0x00, 0x01), f"data_coding {data_coding:#x}"
    return gsm_decode(data) if data_coding == 0 else data.decode("ascii")


def concat_udh(udh_hex: str | None) -> tuple[int, int, int] | None:
    """(reference, total, sequence) of a concatenation IE (00 or 08) in a UDH, else None."""
    if not udh_hex:
        return None
    udh = bytes.fromhex(udh_hex)
    assert udh[0] == len(udh) - 1, f"UDH length octet {udh[0]} for {len(udh)} octets"
    i = 1
    while i + 1 < len(udh):
        iei, n = udh[i], udh[i + 1]
        data = udh[i + 2:i + 2 + n]
        if iei == 0x00 and n == 3:
            return data[0], data[1], data[2]
        if iei == 0x08 and n == 4:
            return data[0] << 8 | data[1], data[2], data[3]
        i += 2 + n
    return None


def reassemble(parts: list[dict]) -> str:
    """The text of one concatenated SMS from the SMSC's submit_sm records (UDH), checking the
    parts agree: one reference, total = number of parts, sequences 1..total, UDHI set."""
    keys = [concat_udh(p["udh"]) for p in parts]
    assert all(keys), f"a part without a concatenation UDH: {[p['udh'] for p in parts]}"
    assert all(p["esm_class"] & 0x40 for p in parts), "UDHI (esm_class 0x40) not set"
    assert len({k[0] for k in keys}) == 1, f"parts with different references: {keys}"
    assert {k[1] for k in keys} == {len(parts)}, f"total != {len(parts)} parts: {keys}"
    ordered = sorted(zip(keys, parts), key=lambda kp: kp[0][2])
    assert [k[2] for k, _ in ordered] == list(range(1, len(parts) + 1)), keys
    text = ""
    for _, p in ordered:
        sm = bytes.fromhex(p["short_message"])
        text += sm_text(sm[sm[0] + 1:], p["data_coding"])
    return text


# --------------------------------------------------------------------------- the SMSC

class Smsc:
    """tests/support/smsc/smsc.js as a child process on a free loopback port. options are its
    command-line options without the dashes (receipt=["491701234567=UNDELIV"], ids="hex")."""

    def __init__(self, tmp: Path, **options):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.records_file = self.tmp / "smsc-records.jsonl"
        self.log = self.tmp / "smsc.log"
        self.options = {"system-id": SYSTEM_ID, "password": PASSWORD, **options}
        self.proc = None
        self.port = self.control_port = 0

    def start(self, timeout: float = 20.0) -> "Smsc":
        script = SMSC_DIR / "smsc.js"
        if not (SMSC_DIR / "node_modules" / "smpp").is_dir():
            pytest.fail(f"npm smpp is not installed in {SMSC_DIR}: run scripts/install-deps",
                        pytrace=False)
        args = ["node", str(script), "--records", str(self.records_file), "--port", str(self.port)]
        for k, v in self.options.items():
            for one in (v if isinstance(v, (list, tuple)) else [v]):
                args += [f"--{k.replace('_', '-')}", str(one)]
        err = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=SMSC_DIR)
        err.close()
        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        m = re.match(rb"ready port=(\d+) control=(\d+)", line)
        if not m:
            self.stop()
            raise AssertionError(f"the SMSC did not start: {line!r}\n{self.log.read_text()}")
        self.port, self.control_port = int(m.group(1)), int(m.group(2))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cmd(self, cmd: str, timeout: float = 30.0, **args) -> dict:
        """One control command; fails the test when the SMSC answers ok=false."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as s:
            s.sendall((json.dumps({"cmd": cmd, **args}) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                assert chunk, f"the SMSC closed the control connection on {cmd}"
                buf += chunk
        reply = json.loads(buf)
        assert reply.get("ok"), f"SMSC {cmd} {args}: {reply}"
        return reply

    def records(self, event: str | None = None, **match) -> list[dict]:
        try:
            lines = self.records_file.read_text("utf-8").split("\n")[:-1]  # whole lines only
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            r = json.loads(line)
            if (event is None or r["event"] == event) and all(r.get(k) == v for k, v in match.items()):
                out.append(r)
        return out

    def submits(self, **match) -> list[dict]:
        """submit_sm records the SMSC accepted (status 0), in order."""
        return self.records("submit_sm", status=0, **match)

    def wait_records(self, event: str, n: int = 1, timeout: float = 30.0, what: str = "",
                     gw=None, **match) -> list[dict]:
        got = wait_until(lambda: (lambda r: r if len(r) >= n else None)(self.records(event, **match)),
                         timeout, 0.05)
        assert got, (f"the SMSC saw {len(self.records(event, **match))} of {n} {event} {match} "
                     f"{what} within {timeout}s\nSMSC records:\n"
                     + "\n".join(json.dumps(r) for r in self.records()[-30:])
                     + (f"\ngateway log tail:\n{gw.log_text()[-4000:]}" if gw else ""))
        return got

    def wait_submits(self, n: int = 1, timeout: float = 30.0, gw=None, **match) -> list[dict]:
        return self.wait_records("submit_sm", n, timeout, gw=gw, status=0, **match)

    def wait_bound(self, count: int = 1, timeout: float = 20.0, gw=None) -> None:
        """Until `count` sessions are bound; the failure shows the SMSC's records and the
        gateway's log (gw)."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout + 5) as s:
            s.sendall((json.dumps({"cmd": "wait_bound", "count": count,
                                   "timeout_ms": int(timeout * 1000)}) + "\n").encode())
            reply = json.loads(s.makefile("rb").readline())
        assert reply.get("ok"), (f"{reply.get('bound')} of {count} binds within {timeout}s\n"
                                 "SMSC records:\n" + "\n".join(json.dumps(r) for r in self.records()[-20:])
                                 + (f"\ngateway log tail:\n{gw.log_text()[-4000:]}" if gw else ""))


# --------------------------------------------------------------------------- the gateway

class SmsGateway(FaxGateway):
    """FaxGateway whose [[connector]] tables may have [[connector.bind]] and
    [[connector.tenant_certificate]] sub-tables."""

    SUB_TABLES = ("bind", "tenant_certificate")

    def write_config(self):
        out = []
        for name, body in self.config_dict().items():
            if body is None:
                continue
            for table in body if isinstance(body, list) else [body]:
                out.append(f"[[{name}]]" if isinstance(body, list) else f"[{name}]")
                out += [f"{k} = {_value(v)}" for k, v in table.items()
                        if v is not None and k not in self.SUB_TABLES]
                for key in self.SUB_TABLES:
                    for sub in table.get(key, ()) if isinstance(table, dict) else ():
                        out.append(f"[[{name}.{key}]]")
                        out += [f"{k} = {_value(v)}" for k, v in sub.items()]
                out.append("")
        self.config.write_text("\n".join(out))

    def import_numbers(self, rows: list[dict]):
        columns = list(rows[0])
        csv = self.tmp / "numbers.csv"
        csv.write_text(",".join(columns) + "\r\n" +
                       "".join(",".join(r[c] for c in columns) + "\r\n" for r in rows))
        r = self.directory_cmd("import", "--numbers", csv)
        assert r.returncode == 0, f"directory import --numbers: {r.stdout}{r.stderr}"


@dataclass
class SmsRig:
    gw: SmsGateway
    smsc: Smsc
    exo: Peer

    def submit(self, message: bytes, rcpts=(f"{HANDSET}@{SMS_DOMAIN}",), sender=ALICE,
               rcpt_options=()) -> str:
        """The message over the Microsoft 365 inbound connector; returns the queue id."""
        code, reply = self.try_submit(message, rcpts, sender, rcpt_options)
        assert code == 250, f"end of DATA: {code} {reply}\n{self.gw.log_text()[-3000:]}"
        m = re.search(rb"queued as <?([^\s<>]+)>?", reply)
        assert m, reply
        return m.group(1).decode()

    def try_submit(self, message: bytes, rcpts, sender=ALICE, rcpt_options=()):
        """(code, text) of the first refusal (RCPT or end of DATA), or of the end of DATA."""
        with smtplib.SMTP("127.0.0.1", self.gw.port, local_hostname="mail.protection.outlook.com",
                          timeout=30) as s:
            s.starttls(context=self.gw.pki.client_context("client"))
            s.ehlo("mail.protection.outlook.com")
            code, reply = s.mail(sender)
            assert code == 250, reply
            for r in rcpts:
                code, reply = s.rcpt(r, list(rcpt_options))
                if code != 250:
                    return code, reply
            try:
                return s.data(message)
            except smtplib.SMTPDataError as e:  # smtplib raises on a refused end of DATA
                return e.smtp_code, e.smtp_error

    def messages_to(self, address: str, null_sender: bool | None = None) -> list:
        return [m for m in list(self.exo.messages) if address in m.rcpt_tos and
                (null_sender is None or (m.mail_from in ("<>", "")) == null_sender)]

    def wait_mail(self, address: str, null_sender: bool | None = None, n: int = 1,
                  timeout: float = 60.0, what: str = "mail") -> list:
        got = wait_until(lambda: (lambda l: l if len(l) >= n else None)(
            self.messages_to(address, null_sender)), timeout, 0.1)
        assert got, (f"Exchange Online got {len(self.messages_to(address, null_sender))} of {n} "
                     f"{what} for {address} within {timeout}s (got: "
                     f"{[(m.mail_from, m.rcpt_tos, m.subject) for m in self.exo.messages]}); "
                     f"queue={self.gw.queue_list()}\nlog tail:\n{self.gw.log_text()[-4000:]}")
        return got


def sms_mail(body: str, subject: str = "SMS", to: str = f"{HANDSET}@{SMS_DOMAIN}",
             sender: str = ALICE, message_id: str | None = None) -> bytes:
    """A plain-text mail as Exchange Online relays it for the tenant (the cross-tenant
    headers), quoted-printable UTF-8."""
    m = EmailMessage(policy=SMTP)
    m["From"] = f"Alice <{sender}>" if sender == ALICE else f"<{sender}>"
    m["To"] = f"<{to}>"
    m["Subject"] = subject
    m["Message-ID"] = message_id or f"<{time.monotonic_ns()}@{TENANT_DOMAIN}>"
    m["Date"] = "Wed, 02 Dec 2026 07:00:00 +0000"
    for name, value in ((XTID, TENANT), ("X-OriginatorOrg", TENANT_DOMAIN),
                        ("X-MS-Exchange-CrossTenant-AuthAs", "Internal"),
                        ("X-MS-Exchange-CrossTenant-FromEntityHeader", "Hosted")):
        m[name] = value
    m.set_content(body, charset="utf-8", cte="quoted-printable")
    return m.as_bytes()


def sms_connector(smsc: Smsc, password_file: Path, binds: int = 1, bind_extra=None,
                  **settings) -> dict:
    """The [[connector]] table of type "sms" with short timers for the tests."""
    bind = {"host": "127.0.0.1", "port": smsc.port, "system_id": SYSTEM_ID,
            "password_file": password_file, **(bind_extra or {})}
    return {"name": "sms", "type": "sms", "domains": [SMS_DOMAIN], "default_region": "DE",
            "reconnect_min_ms": 200, "reconnect_max_ms": 1000, "throttle_backoff_ms": 200,
            "throttle_backoff_max_ms": 1000, "response_timeout": 5, "connect_timeout": 5,
            "submit_wait": 20, **settings, "bind": [dict(bind) for _ in range(binds)]}


@pytest.fixture
def sms_rig(make_gateway, make_peer, pki, tmp_path):
    """Factory: sms_rig(smsc={SMSC options}, start=True, **sms connector settings) -> SmsRig,
    with the SMSC started first (so its port is known). Stops the SMSC on teardown."""
    made = []

    def factory(smsc=None, start=True, **settings):
        n = len(made)
        peer = Smsc(tmp_path / f"smsc{n}", **(smsc or {})).start()
        made.append(peer)
        exo = make_peer(tls=(pki.server, pki.server_key), client_ca=pki.ca,
                        require_client_cert=True)
        certs = tmp_path / f"tenant{n}"
        certs.mkdir()
        cert, key = tenant_certificate(pki, certs)
        password_file = tmp_path / f"smpp-password{n}"
        password_file.write_text(PASSWORD + "\n")
        password_file.chmod(0o600)
        exo_connector = {"name": "exo", "type": "smtp", "smarthosts": [f"127.0.0.1:{exo.port}"],
                         "tls": "verify", "ca_file": pki.ca, "idle_time": 0, "audience": "tenant",
                         "client_certificate": pki.client, "client_key": pki.client_key,
                         "tenant_certificate": [{"tenant": TENANT, "client_certificate": cert,
                                                 "client_key": key}]}
        gw = make_gateway(
            start=False, cls=SmsGateway, directory=True, queue=dict(FAST_QUEUE),
            tenants=[{"id": TENANT, "name": "contoso", "domains": [TENANT_DOMAIN]}],
            inbound_connectors=[{"name": "contoso-exo", "kind": "microsoft365",
                                 "certificate_names": ["mail.protection.outlook.com"],
                                 "tenants": [TENANT], "services": ["sms"]}],
            routes=[{"domains": [SMS_DOMAIN], "connector": "sms", "service": "sms"},
                    {"domains": [TENANT_DOMAIN], "connector": "exo"}],
            connectors=[sms_connector(peer, password_file, **settings), exo_connector])
        gw.write_config()
        gw.import_users([{"address": ALICE, "tenant": TENANT, "permissions": "sms",
                          "mobile_numbers": "+4915799999999"},
                         {"address": BOB, "tenant": TENANT, "permissions": "",
                          "mobile_numbers": ""}])
        gw.import_numbers([{"number": n, "tenant": TENANT, "mailbox": ALICE, "service": "sms"}
                           for n in ALICE_NUMBERS])
        rig = SmsRig(gw, peer, exo)
        if start:
            gw.start()
        return rig

    yield factory
    for peer in made:
        peer.stop()


def submit_record_matches(rec: dict, text: str, coding: int) -> bool:
    return rec["data_coding"] == coding and rec["udh"] is None and \
        bytes.fromhex(rec["short_message"]) == (gsm_encode(text) if coding == 0 else
                                                text.encode("utf-16-be"))
