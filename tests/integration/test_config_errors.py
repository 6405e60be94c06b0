"""Configuration mistakes are errors, not silent choices (issue 12 item 7): check-config, run
and a SIGHUP reload refuse them with FILE:LINE: KEY: message."""
from __future__ import annotations

import re
import signal
import smtplib
import subprocess

import pytest

from bhtest import bridgehead_bin, wait_until
from test_config import BASE, assert_error_at, check


@pytest.fixture
def cfgdir(tmp_path, bh_bin):
    (tmp_path / "out").mkdir()
    return tmp_path


def write(tmp_path, pki, replace=(), extra="", queue="", server=""):
    """BASE with (old, new) replacements and extra text; lines ending in '# BAD' are the ones
    an error must point at. Returns (path, [bad line numbers])."""
    text = BASE.format(pki=pki.dir, server=server, listener="", tls="", queue=queue, limits="",
                       route="", connector="")
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new, 1)
    text += extra
    p = tmp_path / "check.toml"
    p.write_bytes(text.encode())
    bad = [i for i, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith("# BAD")]
    return p, bad


def one_error(r, path, line, key, message_part):
    hits = assert_error_at(r, path, line, key)
    assert any(message_part in m for _, _, m in hits), (hits, r.stdout + r.stderr)


def test_two_connectors_with_one_name(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, extra='\n[[connector]]\nname = "files"  # BAD\ntype = "discard"\n')
    one_error(check(p, cfgdir), p, bad, "connector[1].name", '"files" is also the name of connector[0]')


def test_two_routes_for_one_domain(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, extra='\n[[route]]\ndomains = ["EXAMPLE.test"]  # BAD\n'
                                         'connector = "files"\n')
    one_error(check(p, cfgdir), p, bad, "route[1].domains", '"example.test" is routed twice')


def test_two_listeners_on_one_address(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, extra='\n[[listener]]\naddress = "127.0.0.1:2525"  # BAD\n')
    one_error(check(p, cfgdir), p, bad, "listener[1].address", "is also the address of listener[0]")


def test_retry_delay_above_max_retry_delay(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, queue="retry_delay = 600  # BAD\nmax_retry_delay = 300\n")
    one_error(check(p, cfgdir), p, bad, "queue.retry_delay", "must not be above max_retry_delay")


@pytest.mark.parametrize("old,new,key", [
    ('directory = "spool"', 'directory = ""  # BAD', "queue.directory"),
    ('certificate = "{pki}/server.pem"', 'certificate = ""  # BAD', "tls.certificate"),
    ('private_key = "{pki}/server.key"', 'private_key = ""  # BAD', "tls.private_key"),
    ('client_ca_file = "{pki}/ca.pem"', 'client_ca_file = ""  # BAD', "tls.client_ca_file"),
    ('directory = "out"', 'directory = ""  # BAD', "connector[0].directory"),
])
def test_empty_paths(cfgdir, pki, old, new, key):
    p, (bad,) = write(cfgdir, pki, replace=[(old.format(pki=pki.dir), new)])
    one_error(check(p, cfgdir), p, bad, key, "must not be empty")


def test_empty_directory_database(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, extra='\n[directory]\ndatabase = ""  # BAD\n')
    one_error(check(p, cfgdir), p, bad, "directory.database", "must not be empty")


@pytest.mark.parametrize("value,part", [
    (r'"gw.example\r\n250 injected"', "control characters"),
    ('"gw example"', "spaces"),
    ('"gw..example"', "empty label"),
    ('"192.0.2.1"', "address literal"),
])
def test_hostname_must_be_a_host_name(cfgdir, pki, value, part):
    p, (bad,) = write(cfgdir, pki, replace=[('hostname = "localhost"', f"hostname = {value}  # BAD")])
    r = check(p, cfgdir)
    one_error(r, p, bad, "server.hostname", part)
    if "\\r" in value:  # the error shows the CR LF escaped: it cannot break the output either
        assert "\\x0D\\x0A250 injected" in r.stderr, r.stderr
        assert not re.search(r"^250 injected", r.stderr, re.M), r.stderr


def test_malformed_full_address_route_is_refused(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, replace=[('domains = ["example.test"]',
                                            'domains = ["example.test", "a@@b.test"]  # BAD')])
    one_error(check(p, cfgdir), p, bad, "route[0].domains", '"a@@b.test" is not an address')


def test_run_refuses_the_same_mistakes(cfgdir, pki):
    p, (bad,) = write(cfgdir, pki, extra='\n[[connector]]\nname = "files"  # BAD\ntype = "discard"\n')
    r = subprocess.run([str(bridgehead_bin()), "run", "-c", str(p)], capture_output=True, text=True,
                       timeout=30, cwd=cfgdir)
    assert r.returncode != 0
    assert f"{p}:{bad}: connector[1].name:" in r.stdout + r.stderr, r.stdout + r.stderr


def test_reload_refuses_the_same_mistakes(make_gateway):
    gw = make_gateway()
    gw.overrides["extra_toml"] = '\n[[connector]]\nname = "files"\ntype = "discard"\n'
    gw.write_config()
    lines = gw.config.read_text().splitlines()
    name_line = max(i for i, l in enumerate(lines, 1) if l.strip() == 'name = "files"')
    gw.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: gw.events("reload_failed"), 10), gw.log_text()[-2000:]
    reason = gw.events("reload_failed")[-1]["reason"]
    assert f"{gw.config}:{name_line}: connector[1].name:" in reason, reason
    assert not gw.events("reloaded"), "a file with a duplicate connector must change nothing"
    assert gw.alive()
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=10) as s:
        s.ehlo("client.test")
        s.mail("sender@origin.test")
        assert s.rcpt("x@example.test")[0] == 250
