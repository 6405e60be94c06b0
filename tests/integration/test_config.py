"""`bridgehead check-config`: valid files exit 0; every problem is reported as
FILE:LINE: KEY: message and the exit status is 1. `run` refuses an invalid file."""
from __future__ import annotations

import re
import subprocess

import pytest

from bhtest import bridgehead_bin

BASE = """\
[server]
hostname = "localhost"
{server}
[[listener]]
address = "127.0.0.1:2525"
{listener}
[tls]
certificate = "{pki}/server.pem"
private_key = "{pki}/server.key"
request_client_certificate = true
client_ca_file = "{pki}/ca.pem"
{tls}
[queue]
directory = "spool"
{queue}
[limits]
{limits}
[[route]]
domains = ["example.test"]
connector = "files"
{route}
[[connector]]
name = "files"
type = "file"
directory = "out"
{connector}
"""


def write_config(tmp_path, pki, **sections) -> tuple:
    """Write BASE with extra lines per section; lines ending in '# BAD' are the ones an
    error must point at. Returns (path, [bad line numbers])."""
    text = BASE.format(pki=pki.dir, **{k: sections.get(k, "") for k in
                                       ("server", "listener", "tls", "queue", "limits", "route", "connector")})
    text += sections.get("extra", "")
    p = tmp_path / "check.toml"
    p.write_text(text)
    bad = [i for i, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith("# BAD")]
    return p, bad


def check(path, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(bridgehead_bin()), "check-config", "-c", str(path)],
                          capture_output=True, text=True, timeout=30, cwd=cwd)


def errors(r, path) -> list[tuple[int, str, str]]:
    """(line, key, message) for every `FILE:LINE: KEY: message` line in the output."""
    pat = re.compile(rf"^{re.escape(str(path))}:(\d+): ([^:\s]+): (.+)$")
    return [(int(m.group(1)), m.group(2), m.group(3))
            for m in map(pat.match, (r.stdout + r.stderr).splitlines()) if m]


def assert_error_at(r, path, line, key_part, in_message=False):
    """An error at `line` whose KEY (or, with in_message, KEY or message) names key_part."""
    errs = errors(r, path)
    assert r.returncode == 1, f"exit {r.returncode}, expected 1\n{r.stdout}{r.stderr}"
    hits = [e for e in errs if e[0] == line and key_part in (e[1] + (e[2] if in_message else ""))]
    assert hits, (f"no `{path}:{line}: <key containing {key_part!r}>: ...` error\n"
                  f"parsed: {errs}\noutput:\n{r.stdout}{r.stderr}")
    return hits


@pytest.fixture
def cfgdir(tmp_path, bh_bin):
    (tmp_path / "out").mkdir()
    return tmp_path


def test_valid_config(cfgdir, pki):
    p, _ = write_config(cfgdir, pki, limits="message_size = 1048576\nrecipients = 10\n",
                        server='log_format = "json"\nthreads = 1\n')
    r = check(p, cfgdir)
    assert r.returncode == 0, f"valid config rejected:\n{r.stdout}{r.stderr}\n{p.read_text()}"
    assert errors(r, p) == []


def test_quickstart_config_from_docs_is_valid(cfgdir, bh_bin):
    from bhtest import REPO_ROOT
    doc = (REPO_ROOT / "docs" / "configuration.md").read_text()
    m = re.search(r"## Quickstart configuration.*?```toml\n(.*?)```", doc, re.S)
    assert m, "quickstart block not found in docs/configuration.md"
    p = cfgdir / "quickstart.toml"
    p.write_text(m.group(1))
    r = check(p, cfgdir)
    assert r.returncode == 0, f"{r.stdout}{r.stderr}"


def test_unknown_key(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, server="thraeds = 4  # BAD\n")
    assert_error_at(check(p, cfgdir), p, bad, "thraeds")


def test_unknown_key_in_array_table(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, listener="require_tsl = true  # BAD\n")
    assert_error_at(check(p, cfgdir), p, bad, "require_tsl")


def test_unknown_table(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, extra="[limitz]  # BAD\nrecipients = 5\n")
    r = check(p, cfgdir)
    assert r.returncode == 1, r.stdout + r.stderr
    errs = errors(r, p)
    assert any("limitz" in k and line in (bad, bad + 1) for line, k, _ in errs), (errs, r.stdout + r.stderr)


def test_every_error_is_reported(cfgdir, pki):
    p, bad = write_config(cfgdir, pki, server='log_level = "loud"  # BAD\n',
                          queue="retry_dealy = 5  # BAD\n",
                          limits='recipients = "many"  # BAD\n')
    r = check(p, cfgdir)
    assert_error_at(r, p, bad[0], "log_level")
    assert_error_at(r, p, bad[1], "retry_dealy")
    assert_error_at(r, p, bad[2], "recipients")


@pytest.mark.parametrize("section,line,key", [
    ("server", 'threads = "four"  # BAD', "threads"),
    ("server", 'log_format = "xml"  # BAD', "log_format"),
    ("tls", 'min_version = "TLSv1.0"  # BAD', "min_version"),
    ("limits", "message_size = -1  # BAD", "message_size"),
    ("limits", 'idle_timeout = "5m"  # BAD', "idle_timeout"),
    ("queue", "active_limit = true  # BAD", "active_limit"),
])
def test_bad_values(cfgdir, pki, section, line, key):
    p, (bad,) = write_config(cfgdir, pki, **{section: line + "\n"})
    assert_error_at(check(p, cfgdir), p, bad, key)


def test_route_to_unknown_connector(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, extra='\n[[route]]\ndomains = ["other.test"]\n'
                                                 'connector = "nowhere"  # BAD\n')
    assert_error_at(check(p, cfgdir), p, bad, "connector", in_message=True)


def test_unknown_connector_type(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, extra='\n[[connector]]\nname = "x"\ntype = "carrier-pigeon"  # BAD\n')
    assert_error_at(check(p, cfgdir), p, bad, "type")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.1:99999", "not-an-ip:25", "[::1:2525"])
def test_bad_listener_address(cfgdir, pki, address):
    p, (bad,) = write_config(cfgdir, pki, extra=f'\n[[listener]]\naddress = "{address}"  # BAD\n')
    assert_error_at(check(p, cfgdir), p, bad, "address")


def test_missing_required_key_names_file_and_key(cfgdir, pki):
    p, _ = write_config(cfgdir, pki, extra='\n[[listener]]\nstarttls = false\n')
    r = check(p, cfgdir)
    assert r.returncode == 1
    assert any("address" in k for _, k, _ in errors(r, p)), r.stdout + r.stderr


def test_toml_syntax_error(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, server='hostname2 = "unterminated  # BAD\n')
    r = check(p, cfgdir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(rf"^{re.escape(str(p))}:{bad}:", r.stdout + r.stderr, re.M), r.stdout + r.stderr


def test_missing_file(cfgdir):
    r = check(cfgdir / "does-not-exist.toml", cfgdir)
    assert r.returncode != 0
    assert "does-not-exist.toml" in r.stdout + r.stderr


def test_run_refuses_invalid_config(cfgdir, pki):
    p, (bad,) = write_config(cfgdir, pki, server="thraeds = 4  # BAD\n")
    r = subprocess.run([str(bridgehead_bin()), "run", "-c", str(p)], capture_output=True,
                       text=True, timeout=30, cwd=cfgdir)
    assert r.returncode != 0
    assert f"{p}:{bad}:" in r.stdout + r.stderr, r.stdout + r.stderr


def test_unloadable_tls_files_are_reported(cfgdir, pki, tmp_path):
    """check-config loads what the gateway will load: a missing certificate or a key that
    does not match is an error before a restart, not after."""
    p, _ = write_config(cfgdir, pki)
    text = p.read_text().replace(f"{pki.dir}/server.key", str(tmp_path / "missing.key"))
    p.write_text(text)
    r = check(p, cfgdir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "missing.key" in r.stderr and "tls" in r.stderr, r.stderr

    p2, _ = write_config(cfgdir, pki, extra=(
        '\n[[route]]\ndomains = ["relay.test"]\nconnector = "out"\n'
        '[[connector]]\nname = "out"\ntype = "smtp"\nsmarthosts = ["127.0.0.1:25"]\n'
        f'client_certificate = "{pki.dir}/server.pem"\nclient_key = "{pki.dir}/ca.key"\n'))
    r2 = check(p2, cfgdir)
    assert r2.returncode == 1, r2.stdout + r2.stderr
    assert "connector out" in r2.stderr and ("mismatch" in r2.stderr or "does not match" in r2.stderr), r2.stderr
