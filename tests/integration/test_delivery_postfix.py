"""Postfix smtpd as the next hop (a private, throw-away instance like bench/lib/postfix.sh):
Bridgehead delivers over verified TLS and presents its client certificate, which Postfix
checks against the test CA and records."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from bhtest import CLIENT_CERT_NAME, free_port, make_message, send_raw, wait_until
from smtppeers import smtp_gateway, wait_delivery, wait_state

pytestmark = pytest.mark.skipif(shutil.which("postfix") is None, reason="postfix not installed")

MASTER_CF = """\
127.0.0.1:{port} inet n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PrivatePostfix:
    """Postfix under DIR (config, queue, data, maillog), listening on 127.0.0.1:port only,
    discarding every message it accepts. Never touches the system instance."""

    def __init__(self, pki):
        # Not under pytest's tmp tree: that is 0700 (re-tightened by every pytest that
        # starts), and Postfix's daemons run as the postfix user.
        d = Path(tempfile.mkdtemp(prefix="bh-postfix-", dir="/tmp"))
        os.chmod(d, 0o755)
        self.dir, self.port = d, free_port()
        self.etc, self.maillog = d / "etc", d / "maillog"
        self.started = False
        for sub in ("etc", "queue", "data"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.etc, 0o755)
        tls = {}
        for name, src in (("cert.pem", pki.server), ("key.pem", pki.server_key), ("ca.pem", pki.ca)):
            tls[name] = self.etc / name
            shutil.copy(src, tls[name])
            os.chmod(tls[name], 0o600 if name == "key.pem" else 0o644)
        os.chown(d / "queue", 0, 0)
        os.chmod(d / "queue", 0o755)
        shutil.chown(d / "data", "postfix", "postfix")
        self.maillog.touch()
        shutil.chown(self.maillog, "postfix", "postfix")
        # Postfix logs only the start of a header: the WARN text carries the certificate.
        (self.etc / "header_checks").write_text(
            '/^Received: .*\\(Client CN "([^"]*)", Issuer "([^"]*)" \\(([^)]*)\\)\\)/'
            ' WARN client certificate: CN=<$1> issuer=<$2> ($3)\n')
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = next-hop.localdomain
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
mynetworks_style = host
relay_domains =
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
biff = no
maillog_file = {self.maillog}
maillog_file_prefixes = {d}
smtpd_tls_cert_file = {tls["cert.pem"]}
smtpd_tls_key_file = {tls["key.pem"]}
smtpd_tls_security_level = may
smtpd_tls_ask_ccert = yes
smtpd_tls_CAfile = {tls["ca.pem"]}
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
header_checks = regexp:{self.etc}/header_checks
""")
        (self.etc / "master.cf").write_text(MASTER_CF.format(port=self.port))

    def start(self):
        r = subprocess.run(["postfix", "-c", str(self.etc), "start"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, f"postfix start failed: {r.stdout}{r.stderr}\n{self.log()[-2000:]}"
        self.started = True

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
            subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True, timeout=60)
            pidfile = self.dir / "queue" / "pid" / "master.pid"
            try:
                pid = int(pidfile.read_text().split()[0])
                wait_until(lambda: not Path(f"/proc/{pid}").exists(), 15, 0.2)
            except (OSError, ValueError):
                pass
            self.started = False

    def remove(self, keep_log_to: Path | None = None):
        if keep_log_to is not None and self.maillog.exists():
            shutil.copy(self.maillog, keep_log_to)  # for post-mortems
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.maillog.read_text("utf-8", "replace")
        except OSError:
            return ""


@pytest.fixture
def postfix(tmp_path, pki):
    pf = PrivatePostfix(pki)
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()
        pf.remove(keep_log_to=tmp_path / "postfix-maillog")


def _discarded(pf, message_id: str) -> str | None:
    """The queue id Postfix gave the message with this Message-ID, once discard sent it."""
    m = re.search(rf"postfix/cleanup\[\d+\]: ([0-9A-F]+): message-id=<{re.escape(message_id)}>", pf.log())
    if not m:
        return None
    return m.group(1) if re.search(rf"{m.group(1)}: .*status=sent", pf.log()) else None


def _deliver(make_gateway, pf, subject, connector):
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{pf.port}"],
                                     "helo_name": "gw.bridgehead.test", **connector})
    msg = make_message(subject)
    qid = send_raw(gw.port, msg)
    [ok] = wait_delivery(gw, qid, "delivered", timeout=30)
    wait_state(gw, qid, None)
    mid = f"{subject.replace(' ', '.')}@tests.bridgehead"
    pfid = wait_until(lambda: _discarded(pf, mid), 20, 0.2)
    assert pfid, f"postfix never logged the message as sent:\n{pf.log()[-3000:]}"
    return gw, ok, pfid


def test_postfix_sees_trusted_client_certificate(make_gateway, postfix, pki):
    gw, ok, pfid = _deliver(make_gateway, postfix, "client cert to postfix",
                            {"tls": "verify", "ca_file": pki.ca,
                             "client_certificate": pki.client, "client_key": pki.client_key})
    assert ok["status"].startswith("2."), ok["_line"]
    log = postfix.log()
    tls_lines = [l for l in log.splitlines() if "TLS connection established from" in l]
    assert tls_lines, f"no TLS connection in postfix's log:\n{log[-3000:]}"
    assert all("Trusted TLS connection established" in l for l in tls_lines), \
        "postfix did not verify the client certificate against the test CA:\n" + "\n".join(tls_lines)
    # smtpd_tls_received_header records the certificate; header_checks WARN logs that header.
    hdr = [l for l in log.splitlines() if "client certificate" in l and pfid in l]
    assert hdr, f"no Received header with the client certificate:\n{log[-3000:]}"
    assert hdr[0].endswith(f"client certificate: CN=<{CLIENT_CERT_NAME}> "
                           f"issuer=<Bridgehead Test CA> (verified OK)"), hdr[0]
    assert "helo=<gw.bridgehead.test>" in hdr[0], hdr[0]
    # Postfix offers CHUNKING and PIPELINING: the message went as BDAT, after STARTTLS.
    disc = wait_until(lambda: [l for l in postfix.log().splitlines()
                               if "disconnect from" in l and "starttls=1" in l], 15, 0.2)
    assert disc, f"no disconnect line of the TLS session:\n{postfix.log()[-3000:]}"
    assert re.search(r"\bbdat=1\b", disc[0]) and not re.search(r"\bdata=", disc[0]), disc[0]
    assert re.search(r"\bquit=1\b", disc[0]), f"connection not closed with QUIT: {disc[0]}"


def test_postfix_without_client_certificate_is_anonymous(make_gateway, postfix, pki):
    _deliver(make_gateway, postfix, "no client cert to postfix",
             {"tls": "domain", "tls_domain": "localhost", "ca_file": pki.ca})
    log = postfix.log()
    tls_lines = [l for l in log.splitlines() if "TLS connection established from" in l]
    assert tls_lines and all("Anonymous TLS connection" in l for l in tls_lines), \
        "\n".join(tls_lines) or log[-3000:]
    assert "client certificate: CN=" not in log


def test_postfix_plaintext_with_policy_none(make_gateway, postfix):
    _deliver(make_gateway, postfix, "plain to postfix", {"tls": "none"})
    assert "TLS connection established" not in postfix.log()
