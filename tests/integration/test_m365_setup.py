"""`bridgehead m365 setup` (docs/m365-setup.md): the real binary on configuration files and
certificates this test writes (openssl CLI). Exit 0 with the PowerShell on stdout; exit 2 with
every problem on stderr, one per line, each naming its configuration key, and nothing on stdout.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from bhtest import bridgehead_bin, render_toml

CONTOSO = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
FABRIKAM = "9f8e7d6c-5b4a-4321-8fed-cba987654321"
GATEWAY = "gw.example.net"
STAMP_KEY = b"s" * 32


def openssl(*args: str, cwd: Path):
    env = dict(os.environ, OPENSSL_CONF="/dev/null")
    subprocess.run(["openssl", *args], cwd=cwd, env=env, check=True, capture_output=True)


def issue(pki: Path, name: str, cn: str, sans: list[str]):
    """NAME.pem / NAME.key signed by the test CA in pki (created on first use)."""
    if not (pki / "ca.pem").exists():
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=m365 Test CA",
                cwd=pki)
    (pki / f"{name}.ext").write_text("subjectAltName=" + ",".join(f"DNS:{s}" for s in sans) + "\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=pki)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", str(abs(hash(name)) % 10**9), "-days", "30", "-extfile",
            f"{name}.ext", "-out", f"{name}.pem", cwd=pki)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("m365pki")
    issue(d, "server", GATEWAY, [GATEWAY])
    issue(d, "contoso", "bridgehead.contoso.com", ["bridgehead.contoso.com", "contoso.com"])
    issue(d, "wrong", "bridgehead.example.org", ["bridgehead.example.org"])
    key = d / "stamp.key"
    key.write_bytes(STAMP_KEY)
    key.chmod(0o600)
    return d


def config(pki: Path, routes: list[dict], **changes) -> dict:
    """The gateway with tenant contoso; changes replace whole tables (None removes one)."""
    cfg = {
        "server": {"hostname": GATEWAY},
        "listener": [{"address": "0.0.0.0:25"}],
        "tls": {"certificate": pki / "server.pem", "private_key": pki / "server.key",
                "request_client_certificate": True, "client_ca_file": pki / "ca.pem"},
        "stamp": {"key_file": pki / "stamp.key"},
        "tenant": [{"id": CONTOSO, "name": "contoso",
                    "domains": ["contoso.com", "contoso.onmicrosoft.com"]}],
        "inbound_connector": [{"name": "contoso-exo", "kind": "microsoft365",
                               "certificate_names": ["mail.protection.outlook.com"],
                               "tenants": [CONTOSO], "services": ["fax"]}],
        "route": routes,
        "connector": [
            {"name": "to-exo", "type": "smtp",
             "smarthosts": ["contoso-com.mail.protection.outlook.com"], "tls": "domain",
             "tls_domain": "mail.protection.outlook.com", "audience": "tenant"},
            {"name": "internet", "type": "smtp"},
            {"name": "fax", "type": "discard"},
        ],
    }
    cfg.update(changes)
    return cfg


def write(tmp_path: Path, cfg: dict, cert: str | None = "contoso") -> Path:
    text = render_toml(cfg)
    if cert is not None:  # [[connector.tenant_certificate]] of "to-exo", the first connector
        pki = Path(cfg["tls"]["certificate"]).parent if cfg.get("tls") else tmp_path
        first = text.index("[[connector]]")
        second = text.index("[[connector]]", first + 1)
        text = (text[:second] + "[[connector.tenant_certificate]]\n"
                f'tenant = "{CONTOSO}"\nclient_certificate = "{pki / (cert + ".pem")}"\n'
                f'client_key = "{pki / (cert + ".key")}"\n\n' + text[second:])
    path = tmp_path / "bridgehead.toml"
    path.write_text(text)
    return path


def setup(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bridgehead_bin()), "m365", "setup", "-c", str(path), *args],
                          capture_output=True, text=True, timeout=60)


ROUTES = {
    "davor": [{"domains": ["contoso.com"], "connector": "to-exo"},
              {"domains": ["*"], "connector": "internet"}],
    "daneben1": [{"domains": ["*"], "connector": "to-exo"}],
    "daneben2": [{"domains": ["*"], "connector": "to-exo"}],
    "service": [{"domains": ["fax.example.net"], "connector": "fax", "service": "fax"},
                {"domains": ["contoso.com"], "connector": "to-exo"}],
}

EXPECTED = {
    "davor": ["-ConnectorType Partner `", "-RecipientDomains '*' `",
              "-RestrictDomainsToCertificate $true `", "-IsTransportRuleScoped $false"],
    "daneben1": ["-ConnectorType OnPremises `", "-IsTransportRuleScoped $true `",
                 "-CloudServicesMailEnabled $false", "New-TransportRule `",
                 "-RouteMessageOutboundConnector 'To Bridgehead gw.example.net' `",
                 "-ExceptIfHeaderMatchesMessageHeader 'X-Bridgehead-Processed' `",
                 "-RemoveHeader 'X-Bridgehead-Processed'"],
    "daneben2": ["-ConnectorType OnPremises `", "-Name 'Only through Bridgehead gw.example.net' `",
                 "-RestrictDomainsToCertificate $true `", "New-TransportRule `"],
    "service": ["-RecipientDomains 'fax.example.net' `",
                "-SenderDomains 'fax.example.net','gw.example.net' `",
                "-ConnectorType Partner `"],
}


@pytest.mark.parametrize("topology", sorted(ROUTES))
def test_each_topology_prints_its_script(tmp_path, pki, topology):
    r = setup(write(tmp_path, config(pki, ROUTES[topology])), "--topology", topology)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # certificates from a CA, STARTTLS on port 25: nothing to warn about
    out = r.stdout
    assert out.startswith("# Exchange Online set-up for the Bridgehead gateway gw.example.net")
    assert "$ErrorActionPreference = 'Stop'" in out
    assert "  -TlsSenderCertificateName 'contoso.com'" in out
    assert "  -SmartHosts 'gw.example.net' `\n  -TlsSettings DomainValidation `\n" \
           "  -TlsDomain 'gw.example.net'" in out
    for line in EXPECTED[topology]:
        assert line in out, line
    # Every command has a comment right above it.
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("New-", "$ErrorActionPreference")):
            assert lines[i - 1].startswith("# "), line
    has_rule = "New-TransportRule" in out
    assert has_rule == topology.startswith("daneben")


def test_the_exception_names_the_stamp_key_ids(tmp_path, pki):
    previous = tmp_path / "previous.key"
    previous.write_bytes(b"p" * 40)
    previous.chmod(0o600)
    cfg = config(pki, ROUTES["daneben1"],
                 stamp={"key_file": pki / "stamp.key", "previous_key_file": previous})
    r = setup(write(tmp_path, cfg), "--topology", "daneben1")
    assert r.returncode == 0, r.stderr
    current_id = hashlib.sha256(STAMP_KEY).hexdigest()[:8]
    previous_id = hashlib.sha256(b"p" * 40).hexdigest()[:8]
    assert f"  -ExceptIfHeaderMatchesPatterns 'k={current_id};','k={previous_id};'\n" in r.stdout


def problems(r: subprocess.CompletedProcess) -> list[str]:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""  # no partial script
    return r.stderr.splitlines()


def test_no_client_certificate_for_the_tenant(tmp_path, pki):
    lines = problems(setup(write(tmp_path, config(pki, ROUTES["service"]), cert=None),
                           "--topology", "service"))
    assert lines == [
        f'{tmp_path}/bridgehead.toml: connector "to-exo": tenant_certificate: no client '
        f'certificate for tenant "contoso" ({CONTOSO}) and no client_certificate: Exchange Online '
        f"attributes the gateway's mail to the tenant by it; add a [[connector.tenant_certificate]] "
        f'with tenant = "{CONTOSO}"']


def test_certificate_name_that_is_no_tenant_domain(tmp_path, pki):
    lines = problems(setup(write(tmp_path, config(pki, ROUTES["daneben1"]), cert="wrong"),
                           "--topology", "daneben1"))
    assert len(lines) == 1
    assert 'connector "to-exo": tenant_certificate: ' in lines[0]
    assert "names bridgehead.example.org, none a domain of tenant" in lines[0]


def test_route_toward_the_tenant_without_tls(tmp_path, pki):
    cfg = config(pki, ROUTES["daneben2"])
    cfg["connector"][0]["tls"] = "opportunistic"
    del cfg["connector"][0]["tls_domain"]
    lines = problems(setup(write(tmp_path, cfg), "--topology", "daneben2"))
    assert lines == [f'{tmp_path}/bridgehead.toml: connector "to-exo": tls: "opportunistic" does '
                     "not require TLS, and Exchange Online identifies the gateway by its TLS client "
                     'certificate (RequireTls): use "domain" with tls_domain = '
                     '"mail.protection.outlook.com"']


def test_every_problem_is_reported_at_once(tmp_path, pki):
    cfg = config(pki, ROUTES["davor"])
    cfg["connector"][0]["tls"] = "opportunistic"
    del cfg["connector"][0]["tls_domain"]
    del cfg["connector"][0]["smarthosts"]
    lines = problems(setup(write(tmp_path, cfg, cert="wrong"), "--topology", "davor"))
    keys = [line.split(": ")[1] + ": " + line.split(": ")[2] for line in lines]
    assert keys == ['connector "to-exo": tls', 'connector "to-exo": smarthosts',
                    'connector "to-exo": tenant_certificate'], lines


def test_tenant_choice(tmp_path, pki):
    cfg = config(pki, ROUTES["daneben1"])
    cfg["tenant"].append({"id": FABRIKAM, "name": "fabrikam", "domains": ["fabrikam.com"]})
    path = write(tmp_path, cfg)
    lines = problems(setup(path, "--topology", "daneben1"))
    assert lines == [f'--tenant: 2 tenants are configured ("contoso" ({CONTOSO}), "fabrikam" '
                     f"({FABRIKAM})); name one by id or name"]
    assert setup(path, "--topology", "daneben1", "--tenant", "contoso").returncode == 0
    assert setup(path, "--topology", "daneben1", "--tenant", CONTOSO.upper()).returncode == 0
    lines = problems(setup(path, "--topology", "daneben1", "--tenant", "northwind"))
    assert lines[0].startswith('--tenant "northwind": no [[tenant]] has this id or name')
    # fabrikam is known, but nothing is set up for it.
    lines = problems(setup(path, "--topology", "daneben1", "--tenant", "fabrikam"))
    assert any("inbound_connector: no microsoft365 connector lists tenant" in l for l in lines)
    assert any('connector "to-exo": tenant_certificate: no client certificate' in l for l in lines)


def test_daneben_needs_the_stamp_key(tmp_path, pki):
    cfg = config(pki, ROUTES["daneben1"], stamp={"key_file": tmp_path / "missing.key"})
    lines = problems(setup(write(tmp_path, cfg), "--topology", "daneben1"))
    assert len(lines) == 1 and ": stamp.key_file: " in lines[0], lines
    # The other topologies have no rule and do not read the key.
    cfg = config(pki, ROUTES["service"], stamp={"key_file": tmp_path / "missing.key"})
    assert setup(write(tmp_path, cfg), "--topology", "service").returncode == 0


def test_warnings_do_not_stop_the_script(tmp_path, pki):
    cfg = config(pki, ROUTES["service"], listener=[{"address": "127.0.0.1:2525"}])
    r = setup(write(tmp_path, cfg), "--topology", "service")
    assert r.returncode == 0
    assert r.stderr.startswith("warning: ") and "no [[listener]] with STARTTLS on port 25" in r.stderr
    assert "New-OutboundConnector" in r.stdout


def test_bad_arguments_and_configuration(tmp_path, pki):
    path = write(tmp_path, config(pki, ROUTES["service"]))
    r = setup(path, "--topology", "hybrid")
    assert r.returncode == 2 and "--topology must be davor, daneben1, daneben2 or service" in r.stderr
    r = setup(path)
    assert r.returncode == 2 and "--topology" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nhostnme = \"x\"\n")
    r = setup(bad, "--topology", "service")
    assert r.returncode == 2 and "server.hostnme: unknown key" in r.stderr and r.stdout == ""
