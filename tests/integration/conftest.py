"""pytest fixtures for Bridgehead's integration tests.

Run:  /usr/bin/python3 -m pytest tests/integration
Env:  BRIDGEHEAD_BIN  path of the gateway binary (default <repo>/build/bridgehead)

Every gateway gets its own tmp dir (spool, connector dir, config, log) and its own
loopback port, so tests may run in parallel.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest

from bhtest import Gateway, bridgehead_bin, make_pki


@pytest.fixture(scope="session", autouse=True)
def bh_bin(tmp_path_factory):
    """A snapshot of the gateway binary, so a rebuild during the run cannot break tests.
    BRIDGEHEAD_BIN is pointed at the copy for everything that calls bridgehead_bin()."""
    b = bridgehead_bin()
    if not b.exists():
        pytest.fail(f"gateway binary not found: {b} (build it or set BRIDGEHEAD_BIN)", pytrace=False)
    dest = tmp_path_factory.mktemp("bin") / "bridgehead"
    for _ in range(30):  # the binary may be in the middle of being linked
        try:
            before = b.stat()
            shutil.copy2(b, dest)
            if b.stat().st_mtime == before.st_mtime and os.access(b, os.X_OK):
                break
        except OSError:
            pass
        time.sleep(2)
    else:
        pytest.fail(f"could not copy a stable {b}", pytrace=False)
    os.environ["BRIDGEHEAD_BIN"] = str(dest)
    return dest


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Test CA, server cert (localhost/127.0.0.1), CA-signed and self-signed client certs."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def make_gateway(tmp_path, pki, bh_bin):
    """Factory: make_gateway(limits={...}, tls={...}|False, listener={...}, server={...},
    queue={...}, routes=[...], connectors=[...], outdir=PATH, extra_toml=STR, start=True,
    cls=Gateway (or a subclass such as trusthelp.TrustGateway)).
    Every gateway made is stopped on teardown; an unexpected exit (crash) fails the test."""
    made = []

    def factory(start=True, cls=Gateway, **overrides):
        d = tmp_path / f"gw{len(made)}"
        d.mkdir()
        gw = cls(d, pki, binary=bh_bin, overrides=overrides)
        made.append(gw)
        if start:
            gw.start()
        return gw

    yield factory

    problems = []
    for gw in made:
        if gw.proc is None:
            continue
        if gw.proc.poll() is not None and not gw.expect_exit:
            problems.append(f"gateway on port {gw.port} died during the test with status "
                            f"{gw.proc.returncode}:\n{gw.log_text()[-4000:]}")
        gw.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def gateway(make_gateway):
    """A running gateway with the default test configuration."""
    return make_gateway()


@pytest.fixture
def make_peer():
    """Factory: make_peer(**Peer options) -> started aiosmtpd next hop (smtppeers.Peer);
    all are stopped on teardown."""
    from smtppeers import Peer
    made = []

    def factory(**kw):
        p = Peer(**kw)
        made.append(p)
        return p.start()

    yield factory
    for p in made:
        p.stop()


@pytest.fixture
def make_sink(tmp_path):
    """Factory: make_sink(*extra smtp-sink args) -> started smtp-sink (smtppeers.SmtpSink)."""
    from smtppeers import SmtpSink
    made = []

    def factory(*extra_args):
        s = SmtpSink(tmp_path / f"sink{len(made)}", extra_args)
        made.append(s)
        return s.start()

    yield factory
    for s in made:
        s.stop()


@pytest.fixture
def postfix_installed():
    """Tests that run Postfix fail when it is missing (CI installs it); they never skip."""
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    if shutil.which("postfix", path=search) is None or shutil.which("smtp-sink", path=search + ":/usr/lib/postfix/sbin") is None:
        pytest.fail("Postfix is not installed: scripts/install-deps installs it", pytrace=False)


@pytest.fixture
def ipv6_loopback():
    """IPv6 tests fail when ::1 cannot be bound; they never skip."""
    import socket
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        pytest.fail(f"IPv6 loopback ::1 is not available: {e}", pytrace=False)
