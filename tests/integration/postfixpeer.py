"""A private, throw-away Postfix instance for interop tests (like bench/lib/postfix.sh): its
own config, queue and maillog, listening on 127.0.0.1:port only. Never the system instance.

    pf = PrivatePostfix("next-hop.localdomain", {"default_transport": "discard", ...},
                        files={"server.pem": pki.server, ...})
    with running(pf, tmp_path / "postfix-maillog"):
        ... pf.port, pf.log(), pf.outcome(message_id) ...

It lives in its own /tmp/bh-postfix-* dir, not under pytest's basetemp: concurrent pytest
sessions chmod /tmp/pytest-of-<user> back to 0700, which the postfix user then cannot
traverse. Files the instance needs (certificates, keys, tables) are copied into it.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from bhtest import free_port, wait_until

# A missing Postfix fails the test (conftest.py's postfix_installed); it never skips.
needs_postfix = pytest.mark.usefixtures("postfix_installed")

MASTER_CF = """\
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


class PrivatePostfix:
    """Postfix under its own /tmp dir (etc, queue, data, maillog) on 127.0.0.1:port.

    myhostname names the instance (mydomain is the part after its first dot). settings are
    main.cf parameters added to (or replacing) the common base: loopback only, no local
    delivery, relaying for 127.0.0.0/8, log to the maillog file. "{etc}" in a value is the
    config dir. files: name -> Path (copied) or str (written) into the config dir; names
    ending in ".key" are made readable by root only."""

    def __init__(self, myhostname: str, settings: dict[str, str],
                 files: dict[str, Path | str] | None = None):
        d = Path(tempfile.mkdtemp(prefix="bh-postfix-", dir="/tmp"))
        os.chmod(d, 0o711)
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
        for name, content in (files or {}).items():
            dest = self.etc / name
            if isinstance(content, str):
                dest.write_text(content)
            else:
                shutil.copy(content, dest)
            os.chmod(dest, 0o600 if name.endswith(".key") else 0o644)
        main_cf = {
            "compatibility_level": "3.6",
            "queue_directory": f"{d}/queue",
            "data_directory": f"{d}/data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": myhostname,
            "mydomain": myhostname.split(".", 1)[1],
            "myorigin": "$myhostname",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "mynetworks_style": "host",
            "relay_domains": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_peername_lookup": "no",
            "biff": "no",
            "append_dot_mydomain": "no",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(d),
            **{k: v.replace("{etc}", str(self.etc)) for k, v in settings.items()},
        }
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n".replace(" \n", "\n")
                                                  for k, v in main_cf.items()))
        (self.etc / "master.cf").write_text(MASTER_CF.format(port=self.port))

    def _postfix(self, *args, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", str(self.etc), *args], capture_output=True,
                              text=True, timeout=timeout)

    def start(self):
        """Start the instance and wait until its smtpd greets with 220."""
        self.started = True  # even a failed start may leave a master behind: stop() it
        r = self._postfix("start")
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
        """postfix stop (abort if the master outlives it by 15s) and wait for the master."""
        if not self.started:
            return
        try:
            pid = int((self.dir / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError):
            pid = None
        self._postfix("stop")
        if pid and not wait_until(lambda: not Path(f"/proc/{pid}").exists(), 15, 0.2):
            self._postfix("abort")
            wait_until(lambda: not Path(f"/proc/{pid}").exists(), 10, 0.2)
        self.started = False

    def close(self, keep_log_to: Path | None = None):
        """stop(), copy the maillog to keep_log_to (for post-mortems), remove the dir."""
        self.stop()
        if keep_log_to is not None and self.maillog.exists():
            shutil.copy(self.maillog, keep_log_to)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.maillog.read_text("utf-8", "replace")
        except OSError:
            return ""

    def flush(self):
        """postqueue -f: retry deferred mail now."""
        subprocess.run(["postqueue", "-c", str(self.etc), "-f"], capture_output=True, timeout=30)

    def outcome(self, message_id: str, agent: str = r"\w+") -> tuple[str, str, str] | None:
        """(queue id, status, log line) of the final status (sent or bounced) that the
        delivery agent (smtp, discard ...; any by default) logged for the message with this
        Message-ID, or None while it is still queued/deferred."""
        log = self.log()
        m = re.search(rf"postfix/cleanup\[\d+\]: ([0-9A-F]+): message-id=<{re.escape(message_id)}>", log)
        if not m:
            return None
        s = re.search(rf"^.*postfix/{agent}\[\d+\]: {m.group(1)}: .*status=(sent|bounced).*$", log, re.M)
        return (m.group(1), s.group(1), s.group(0)) if s else None


@contextmanager
def running(pf: PrivatePostfix, keep_log_to: Path | None = None):
    """Start pf for the with-block; afterwards pf.close(keep_log_to)."""
    try:
        yield pf.start()
    finally:
        pf.close(keep_log_to)
