"""Interop: Postfix plays Exchange Online. It relays to Bridgehead over mandatory TLS with the
CA-signed mail.protection.outlook.com client certificate (a private instance, never the
system one). A message of tenant T1 from alice is delivered; the same path carrying tenant
T2's CrossTenant header (EchoSpoofing) is refused with 550 5.7.1 and Postfix bounces it."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from bhtest import CRLF, SmtpClient, free_port, split_received, wait_until
from trusthelp import FAX_RCPT, T1, T2, XTID, m365_gateway, trust_gateway  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("postfix") is None, reason="postfix not installed")

POSTFIX_MASTER_CF = """\
127.0.0.1:{port} inet n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class SendingPostfix:
    """A private Postfix (never the system one) on 127.0.0.1:port that relays everything to
    127.0.0.1:relay_port over mandatory TLS, presenting cert/key (like Exchange Online does).
    It lives in its own /tmp/bh-trust-postfix-* dir, not under pytest's basetemp: concurrent
    pytest sessions chmod /tmp/pytest-of-root back to 0700, which the postfix user then
    cannot traverse. stop() removes the dir (call keep_log() first to copy the maillog)."""

    def __init__(self, relay_port: int, cert: Path, key: Path, logcopy: Path | None = None):
        d = Path(tempfile.mkdtemp(prefix="bh-trust-postfix-", dir="/tmp"))
        os.chmod(d, 0o711)
        self.logcopy = logcopy
        self.dir, self.port = d, free_port()
        self.etc, self.maillog = d / "etc", d / "maillog"
        self.started = False
        for sub in ("etc", "queue", "data"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.etc, 0o755)
        os.chown(d / "queue", 0, 0)
        os.chmod(d / "queue", 0o755)
        shutil.chown(d / "data", "postfix", "postfix")
        self.maillog.touch()
        shutil.chown(self.maillog, "postfix", "postfix")
        shutil.copy(cert, self.etc / "client.pem")
        shutil.copy(key, self.etc / "client.key")
        os.chmod(self.etc / "client.key", 0o600)
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = exo-sim.outlook.test
mydomain = outlook.test
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
mynetworks_style = host
relay_domains =
relayhost = [127.0.0.1]:{relay_port}
default_transport = smtp
relay_transport = smtp
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_tls_security_level = encrypt
smtp_tls_cert_file = {self.etc}/client.pem
smtp_tls_key_file = {self.etc}/client.key
smtp_tls_loglevel = 1
smtp_helo_name = mail.protection.outlook.com
biff = no
append_dot_mydomain = no
maillog_file = {self.maillog}
maillog_file_prefixes = {d}
""")
        (self.etc / "master.cf").write_text(POSTFIX_MASTER_CF.format(port=self.port))

    def start(self):
        self.started = True  # even a failed start may leave a master behind: stop() it
        r = subprocess.run(["postfix", "-c", str(self.etc), "start"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, f"postfix start failed: {r.stdout}{r.stderr}\n{self.log()[-2000:]}"

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.settimeout(5)
                    ok = s.recv(200).startswith(b"220")
                    s.sendall(b"QUIT\r\n")
                    return ok
            except OSError:
                return False
        assert wait_until(up, 20, 0.2), f"postfix does not answer on {self.port}\n{self.log()[-2000:]}"
        return self

    def stop(self):
        if self.started:
            try:
                pid = int((self.dir / "queue" / "pid" / "master.pid").read_text().split()[0])
            except (OSError, ValueError):
                pid = None
            subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True, timeout=60)
            if pid and not wait_until(lambda: not Path(f"/proc/{pid}").exists(), 15, 0.2):
                subprocess.run(["postfix", "-c", str(self.etc), "abort"], capture_output=True, timeout=60)
                wait_until(lambda: not Path(f"/proc/{pid}").exists(), 10, 0.2)
            self.started = False
        if self.logcopy is not None and self.maillog.exists():
            shutil.copy(self.maillog, self.logcopy)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.maillog.read_text("utf-8", "replace")
        except OSError:
            return ""

    def flush(self):
        subprocess.run(["postqueue", "-c", str(self.etc), "-f"], capture_output=True, timeout=30)

    def outcome(self, message_id: str) -> tuple[str, str] | None:
        """(status, full log line) of the smtp client's final status for the message, or None
        while it is still queued/deferred."""
        log = self.log()
        m = re.search(rf"postfix/cleanup\[\d+\]: ([0-9A-F]+): message-id=<{re.escape(message_id)}>", log)
        if not m:
            return None
        s = re.search(rf"^.*postfix/smtp\[\d+\]: {m.group(1)}: .*status=(sent|bounced).*$", log, re.M)
        return (s.group(1), s.group(0)) if s else None


@pytest.fixture
def setup(trust_gateway, tmp_path, pki):
    gw = m365_gateway(trust_gateway)
    pf = SendingPostfix(gw.port, pki.client, pki.client_key, logcopy=tmp_path / "postfix-maillog")
    try:
        pf.start()
        yield gw, pf
    finally:
        pf.stop()


def _message(mid, sender, tenant, org, subject) -> bytes:
    hdrs = [f"From: <{sender}>", f"To: <{FAX_RCPT}>", f"Subject: {subject}",
            f"Message-ID: <{mid}>", "Date: Mon, 24 Nov 2025 12:00:00 +0000",
            f"{XTID}: {tenant}", f"X-OriginatorOrg: {org}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal"]
    return CRLF.join(h.encode() for h in hdrs) + CRLF + CRLF + b"fax page 1\r\n"


def _submit(pf, sender, msg):
    """Hand the message to Postfix's smtpd; NOTIFY=NEVER so a bounce creates no new mail."""
    with SmtpClient(pf.port) as c:
        c.greet("submitter.test")
        c.expect(f"MAIL FROM:<{sender}>", 250)
        c.expect(f"RCPT TO:<{FAX_RCPT}> NOTIFY=NEVER", 250)
        c.check(c.send_data(msg), 250, what="postfix end of DATA")
        c.cmd("QUIT")


def _outcome(pf, mid):
    def done():
        o = pf.outcome(mid)
        if o is None:
            pf.flush()  # a deferred attempt (e.g. gateway slow to answer) is retried now
        return o
    o = wait_until(done, 60, 0.5)
    assert o, f"postfix did not finish {mid} within 60s:\n{pf.log()[-4000:]}"
    return o


def test_postfix_relays_tenant_mail_with_client_certificate(setup):
    gw, pf = setup
    msg = _message("t1.alice@exo-sim.test", "alice@contoso.test", T1, "contoso.test", "fax via postfix")
    _submit(pf, "alice@contoso.test", msg)
    status, line = _outcome(pf, "t1.alice@exo-sim.test")
    assert status == "sent", f"postfix could not deliver to the gateway:\n{line}\n{pf.log()[-4000:]}"
    m = re.search(r"250 2\.0\.0 .*queued as <?([^\s<>)]+)>?", line)
    assert m, line
    data = gw.wait_delivered(m.group(1))
    _, rest = split_received(data)
    assert b"Subject: fax via postfix" in rest and b"fax page 1\r\n" in rest, rest[:2000]
    assert f"{XTID}: {T1}".encode() in rest, "verified M365 connection: header must be kept"
    tls = [l for l in pf.log().splitlines() if "TLS connection established to" in l]
    assert tls, f"postfix did not use TLS:\n{pf.log()[-3000:]}"
    assert any("contoso-exo" in l for l in gw.policy_lines()), gw.log_text()[-3000:]


def test_postfix_foreign_tenant_is_bounced(setup):
    gw, pf = setup
    msg = _message("t2.eve@exo-sim.test", "eve@fabrikam.test", T2, "fabrikam.test", "echospoof via postfix")
    _submit(pf, "eve@fabrikam.test", msg)
    status, line = _outcome(pf, "t2.eve@exo-sim.test")
    assert status == "bounced", f"expected a bounce, got:\n{line}"
    assert re.search(r"said: 550 5\.7\.1 .*not accepted by connector", line, re.I), line
    assert "in reply to end of DATA command" in line, line
    assert not gw.delivered() and not gw.queue_list()
    assert any("contoso-exo" in l for l in gw.policy_lines()), gw.log_text()[-3000:]


def test_postfix_sender_without_permission_is_bounced(setup):
    gw, pf = setup
    msg = _message("t1.bob@exo-sim.test", "bob@contoso.test", T1, "contoso.test", "bob via postfix")
    _submit(pf, "bob@contoso.test", msg)
    status, line = _outcome(pf, "t1.bob@exo-sim.test")
    assert status == "bounced", line
    assert re.search(r"said: 550 5\.7\.1 .*not permitted to use the fax service", line, re.I), line
    assert not gw.delivered()
