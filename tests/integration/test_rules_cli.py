"""`bridgehead rules test` (issue 8 section 4, docs/rules.md): the real binary evaluates the
[[rule]] tables of a configuration file for a message described on the command line and prints
the matched rules in order and where each recipient goes. Exit 0 when evaluated, 2 on a
configuration error or a bad argument."""
from __future__ import annotations

import subprocess

import pytest

from bhtest import bridgehead_bin

TENANT = "11111111-2222-3333-4444-555555555555"

CONFIG = f"""\
[[listener]]
address = "127.0.0.1:2525"
starttls = false

[[inbound_connector]]
name = "partner"
kind = "partner"
ip_ranges = ["192.0.2.0/24"]

[[route]]
domains = ["example.test", "*.example.test"]
connector = "files"

[[connector]]
name = "files"
type = "discard"

[[connector]]
name = "hylafax"
type = "discard"

[[connector]]
name = "sms"
type = "discard"

[[rule]]
name = "processed mail goes straight on"
if_stamp_valid = true
stop = true

[[rule]]
name = "fax from tenant A"
if_tenant = ["{TENANT}"]
if_recipient_domain = ["fax.example.test"]
if_header_matches = {{ name = "Subject", regex = "(?i)^fax" }}
route_to = "hylafax"
add_header = {{ name = "X-Bridgehead-Rule", value = "fax" }}

[[rule]]
name = "sms for partner"
if_inbound_connector = ["partner"]
if_client_ip = ["192.0.2.0/24"]
if_recipient = ["sms@example.test"]
route_to = "sms"
remove_header = "X-Internal"

[[rule]]
name = "too big"
if_size_over = "1MB"
reject = {{ code = 552, enhanced = "5.3.4", text = "Message too large for fax" }}

[[rule]]
name = "null sender"
if_sender = ["<>"]
set_header = {{ name = "X-Bounce", value = "yes" }}
"""


@pytest.fixture
def config(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text(CONFIG)
    return p


def rules_test(config, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(bridgehead_bin()), "rules", "test", "-c", str(config), *args],
                          capture_output=True, text=True, timeout=30, cwd=cwd)


def lines(r, prefix):
    assert r.returncode == 0, r.stdout + r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith(prefix)]


def test_per_recipient_routes_and_the_routing_table(config):
    r = rules_test(config, "--from", "alice@contoso.test", "--tenant", TENANT.upper(),
                   "--to", "+4930123@fax.example.test", "--to", "bob@example.test",
                   "--to", "x@elsewhere.test", "--header", "Subject: FAX to Berlin")
    assert lines(r, "matched:") == ['matched: "fax from tenant A" (rule[1], line 31)']
    assert lines(r, "header:") == ['header: add "X-Bridgehead-Rule: fax"']
    assert lines(r, "to ") == [
        'to <+4930123@fax.example.test>: hylafax (rule "fax from tenant A")',
        "to <bob@example.test>: files (routing table)",
        "to <x@elsewhere.test>: refused: no route",
    ]
    assert r.stdout.splitlines()[0] == f"rules: 5 in {config}"


def test_no_rule_matches(config):
    r = rules_test(config, "--from", "alice@contoso.test", "--to", "+4930123@fax.example.test",
                   "--header", "Subject: fax")  # no tenant: the fax rule does not hold
    assert lines(r, "matched:") == ["matched: none"]
    assert lines(r, "to ") == ["to <+4930123@fax.example.test>: files (routing table)"]


def test_connector_ip_and_several_rules_in_order(config):
    r = rules_test(config, "--from", "", "--connector", "partner", "--ip", "192.0.2.9",
                   "--to", "SMS@example.test", "--to", "other@example.test")
    assert lines(r, "matched:") == ['matched: "sms for partner" (rule[2], line 39)',
                                    'matched: "null sender" (rule[4], line 52)']
    assert lines(r, "header:") == ['header: remove "X-Internal"', 'header: set "X-Bounce: yes"']
    assert lines(r, "to ") == ['to <SMS@example.test>: sms (rule "sms for partner")',
                               "to <other@example.test>: files (routing table)"]
    r = rules_test(config, "--from", "a@b.test", "--connector", "partner", "--ip", "198.51.100.1",
                   "--to", "sms@example.test")
    assert lines(r, "matched:") == ["matched: none"]


def test_stamp_valid_stops_before_everything_else(config):
    r = rules_test(config, "--from", "<>", "--stamp-valid", "--size", "5000000",
                   "--to", "bob@example.test")
    assert lines(r, "matched:") == ['matched: "processed mail goes straight on" (rule[0], line 26)']
    assert lines(r, "to ") == ["to <bob@example.test>: files (routing table)"]


def test_reject(config):
    r = rules_test(config, "--from", "a@b.test", "--size", "2000000", "--to", "bob@example.test",
                   "--to", "nowhere@elsewhere.test")
    assert r.returncode == 0, r.stderr
    assert lines(r, "rejected:") == ['rejected: 552 5.3.4 Message too large for fax (rule "too big")']
    assert lines(r, "to ") == ["to <bob@example.test>: refused: 552 5.3.4 Message too large for fax",
                               "to <nowhere@elsewhere.test>: refused: no route"]


def test_message_file_header_and_size(config, tmp_path):
    eml = tmp_path / "fax.eml"
    eml.write_bytes(b"From: alice@contoso.test\nSubject: Fax: invoice\n\n" + b"x" * 2_000_000)
    r = rules_test(config, "--from", "alice@contoso.test", "--tenant", TENANT,
                   "--to", "1@fax.example.test", "--message", str(eml))
    assert lines(r, "matched:") == ['matched: "fax from tenant A" (rule[1], line 31)',
                                    'matched: "too big" (rule[3], line 47)']
    r = rules_test(config, "--from", "alice@contoso.test", "--tenant", TENANT, "--size", "10",
                   "--to", "1@fax.example.test", "--message", str(eml))
    assert lines(r, "to ") == ['to <1@fax.example.test>: hylafax (rule "fax from tenant A")']


def test_configuration_errors_exit_2_with_file_and_line(config, tmp_path):
    bad = tmp_path / "bad.toml"
    text = CONFIG.replace('route_to = "hylafax"', 'route_to = "hylafx"').replace(
        'regex = "(?i)^fax"', 'regex = "(?i)^fax["')
    bad.write_text(text)
    r = rules_test(bad, "--from", "a@b.test", "--to", "bob@example.test")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert f'{bad}:35: rule[1].if_header_matches.regex: "(?i)^fax[" is not a valid regular ' \
           "expression: missing ]: [" in r.stderr.splitlines()
    assert f'{bad}:36: rule[1].route_to: connector "hylafx" is not defined' in r.stderr.splitlines()
    # check-config reports the same (and exits 1, as it does for every error)
    c = subprocess.run([str(bridgehead_bin()), "check-config", "-c", str(bad)], capture_output=True,
                       text=True, timeout=30)
    assert c.returncode == 1
    assert f'{bad}:36: rule[1].route_to: connector "hylafx" is not defined' in c.stderr
    assert rules_test(tmp_path / "missing.toml", "--to", "a@example.test").returncode == 2


@pytest.mark.parametrize("args, message", [
    (["--from", "a@b.test"], "at least one --to is required"),
    (["--from", "not an address", "--to", "bob@example.test"], '--from "not an address": not an address'),
    (["--to", "bob"], '--to "bob": not an address'),
    (["--to", "bob@example.test", "--ip", "300.1.1.1"], '--ip "300.1.1.1": not an IP address'),
    (["--to", "bob@example.test", "--connector", "exo"], '--connector "exo": no such inbound_connector'),
    (["--to", "bob@example.test", "--tenant", "contoso"], '--tenant "contoso": not a tenant id'),
    (["--to", "bob@example.test", "--header", "no colon"], '--header "no colon": must be "Name: value"'),
    (["--from", "a\x1b[31m@b.test", "--to", "bob@example.test"], '--from "a\\x1B[31m@b.test"'),
    (["--to", "bob@example.test", "--message", "/nonexistent.eml"], "cannot open"),
    (["--to", "bob@example.test", "--size", "many"], "--size"),
    (["--to", "bob@example.test", "--frm", "a@b.test"], "--frm"),
])
def test_bad_arguments_exit_2(config, args, message):
    r = rules_test(config, *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert r.stderr.startswith("rules test: ")


def test_config_option_is_required():
    r = subprocess.run([str(bridgehead_bin()), "rules", "test", "--to", "a@example.test"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "--config is required" in r.stderr


def test_help(config):
    r = subprocess.run([str(bridgehead_bin()), "rules", "test", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0
    assert "--stamp-valid" in r.stdout


GOOD_RULE = '\n[[rule]]\nname = "tag"\nadd_header = { name = "X-Tag", value = "1" }\n'


def test_run_and_reload_refuse_a_bad_rule(make_gateway):
    """The same checks at start and at a SIGHUP reload (a bad file changes nothing)."""
    from bhtest import wait_until
    import signal

    bad_rule = '\n[[rule]]\nname = "bad"\nif_header_matches = { name = "Subject", regex = "a(" }\n' \
               'stop = true\n'
    gw = make_gateway(start=False, extra_toml=bad_rule)
    with pytest.raises(AssertionError, match="is not a valid regular expression: missing \\)"):
        gw.start(timeout=5)

    gw = make_gateway(extra_toml=GOOD_RULE)
    gw.config.write_text(gw.config.read_text() + bad_rule)
    gw.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: gw.events("reload_failed"), 10), gw.log_text()[-2000:]
    reason = gw.events("reload_failed")[-1]["reason"]
    assert "rule[1].if_header_matches.regex" in reason and str(gw.config) in reason, reason
    assert gw.alive()
