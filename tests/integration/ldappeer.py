"""A real OpenLDAP server (slapd) for the LDAP sync tests: its own slapd.conf, an mdb database
and a free loopback port in a temporary folder, plain LDAP and LDAPS (with StartTLS) from the
test PKI, Active Directory's attribute names from tests/integration/ldap/ad-attributes.schema,
and slapd's memberof overlay, so users carry memberOf as in AD.

The search account cn=sync may read at most PAGE entries per request and per non-paged
search, so a sync that reads more users proves that it pages (RFC 2696).

Below the server: what the LDAP sync tests (test_ldap_sync.py, test_ldap_nesting.py) share:
the slapd fixture, the standard five users, and Bridgehead, a configuration with one
[[directory.ldap]] source and the CLI on its store."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bhtest import REPO_ROOT, free_port, wait_until

SUFFIX = "dc=contoso,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "admin-secret"
SYNC_DN = f"cn=sync,{SUFFIX}"
SYNC_PW = "sync-secret"
PAGE = 2
SCHEMA = REPO_ROOT / "tests" / "integration" / "ldap" / "ad-attributes.schema"


class Slapd:
    def __init__(self, tmp: Path, pki=None):
        for tool in ("slapd", "ldapadd", "ldapmodify", "ldapdelete", "ldapsearch"):
            if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
                raise AssertionError(f"{tool} not found: install slapd and ldap-utils "
                                     "(scripts/install-deps --test)")
        self.dir = Path(tmp)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "db").mkdir(exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if pki else 0
        self.pki = pki
        self.url = f"ldap://127.0.0.1:{self.port}"
        # 127.0.0.1, not localhost: libldap checks a certificate for "localhost" against the
        # machine's own name instead (its ldap_host_connected_to canonicalisation).
        self.ldaps_url = f"ldaps://127.0.0.1:{self.tls_port}" if pki else ""
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        tls = ""
        if self.pki:
            tls = (f"TLSCACertificateFile {self.pki.ca}\n"
                   f"TLSCertificateFile {self.pki.server}\n"
                   f"TLSCertificateKeyFile {self.pki.server_key}\n")
        return f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {SCHEMA}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
{tls}
database mdb
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {self.dir}/db
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
limits dn.exact="{SYNC_DN}" size.soft={PAGE} size.hard={PAGE} size.pr={PAGE} size.prtotal=unlimited
overlay memberof
"""

    def start(self) -> "Slapd":
        conf = self.dir / "slapd.conf"
        conf.write_text(self.config())
        urls = self.url + "/" + (f" ldaps://127.0.0.1:{self.tls_port}/" if self.pki else "")
        self.log = open(self.dir / "slapd.log", "wb")
        # -d: stay in the foreground (the test owns the process).
        self.proc = subprocess.Popen(["/usr/sbin/slapd", "-d", "256", "-h", urls, "-f", str(conf)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"slapd exited with {self.proc.returncode}:\n{self.log_text()}")
            r = subprocess.run(["ldapsearch", "-x", "-H", self.url, "-b", "", "-s", "base",
                                "(objectClass=*)", "namingContexts"],
                               capture_output=True, timeout=10)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"slapd did not answer on {self.url}:\n{self.log_text()}")
        self.add(f"""
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Contoso
dc: contoso

dn: ou=People,{SUFFIX}
objectClass: organizationalUnit
ou: People

dn: ou=Groups,{SUFFIX}
objectClass: organizationalUnit
ou: Groups

dn: ou=Shared,{SUFFIX}
objectClass: organizationalUnit
ou: Shared

dn: {SYNC_DN}
objectClass: person
cn: sync
sn: sync
userPassword: {SYNC_PW}
""")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self.log.close()

    def log_text(self) -> str:
        try:
            return (self.dir / "slapd.log").read_text("utf-8", "replace")[-4000:]
        except FileNotFoundError:
            return ""

    def _tool(self, tool: str, *args: str, ldif: str | None = None) -> subprocess.CompletedProcess:
        r = subprocess.run([tool, "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW, *args],
                           input=ldif.encode() if ldif is not None else None,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, f"{tool} {args} failed: {r.stdout!r} {r.stderr!r}"
        return r

    def add(self, ldif: str):
        self._tool("ldapadd", ldif=ldif.strip() + "\n")

    def modify(self, ldif: str):
        self._tool("ldapmodify", ldif=ldif.strip() + "\n")

    def delete(self, dn: str):
        self._tool("ldapdelete", dn)

    def search_as_sync(self, *args: str) -> subprocess.CompletedProcess:
        """ldapsearch as the sync account (with its size limit), below ou=People."""
        return subprocess.run(["ldapsearch", "-x", "-H", self.url, "-D", SYNC_DN, "-w", SYNC_PW,
                               "-b", f"ou=People,{SUFFIX}", *args],
                              capture_output=True, timeout=30)


def person(cn: str, mail: str | None = None, proxies=(), fax=(), mobile=(),
           display: str | None = None, delegates=(), delegates_bl=(), ou="People") -> str:
    """LDIF of one user below ou=People (or ou). delegates: DNs of who may send on behalf of
    this mailbox (publicDelegates); delegates_bl: DNs of the mailboxes this user may send for
    (publicDelegatesBL, which AD keeps and OpenLDAP does not: written as given)."""
    lines = [f"dn: cn={cn},ou={ou},{SUFFIX}", "objectClass: inetOrgPerson"]
    if proxies or delegates or delegates_bl:
        lines.append("objectClass: bridgeheadTestMailUser")
    lines += [f"cn: {cn}", f"sn: {cn}"]
    if mail:
        lines.append(f"mail: {mail}")
    lines += [f"proxyAddresses: {p}" for p in proxies]
    lines += [f"publicDelegates: {d}" for d in delegates]
    lines += [f"publicDelegatesBL: {d}" for d in delegates_bl]
    lines += [f"facsimileTelephoneNumber: {n}" for n in fax]
    lines += [f"mobile: {n}" for n in mobile]
    if display:
        lines.append(f"displayName: {display}")
    return "\n".join(lines) + "\n"


def group(cn: str, *members: str, groups=()) -> str:
    """LDIF of one group below ou=Groups: members are users' cn, groups other groups' cn
    (nested). groupOfNames needs a member: pass one."""
    lines = [f"dn: cn={cn},ou=Groups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: cn={m},ou=People,{SUFFIX}" for m in members]
    lines += [f"member: {group_dn(g)}" for g in groups]
    return "\n".join(lines) + "\n"


def user_dn(cn: str) -> str:
    return f"cn={cn},ou=People,{SUFFIX}"


def group_dn(cn: str) -> str:
    return f"cn={cn},ou=Groups,{SUFFIX}"


# --------------------------------------------------------------------------- the sync

TENANT = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def slapd(tmp_path, pki):
    s = Slapd(tmp_path / "slapd", pki).start()
    yield s
    s.stop()


def populate(slapd: Slapd):
    """Five users (more than two pages of PAGE=2), a fax group and an sms group."""
    slapd.add("\n".join([
        person("Alice", "Alice@Contoso.test",
               proxies=["SMTP:alice@contoso.test", "smtp:a@contoso.test",
                        "smtp:alice.smith@contoso.test", "X500:/o=Contoso/ou=Exchange/cn=alice",
                        "SIP:alice@contoso.test"],
               fax=["+49 30 1234567"], mobile=["0049 151 23456789"], display="Alice Smith"),
        person("Bob", "bob@contoso.test", fax=["+49 (30) 7654321"]),
        person("Carol", "carol@contoso.test", mobile=["+1 202 555 0143"]),
        person("Dave", "dave@contoso.test"),
        person("Erin", proxies=["SMTP:erin@contoso.test", "smtp:e@contoso.test"]),
        group("Fax Users", "Alice", "Bob"),
        group("SMS Users", "Alice", "Carol"),
    ]))


class Bridgehead:
    """A configuration with one [[directory.ldap]] source and the CLI on its store."""

    def __init__(self, make_gateway, slapd: Slapd, gw=None, **source):
        self.gw = gw or make_gateway(start=False)
        self.password_file = self.gw.tmp / "ldap-password"
        self.set_password(SYNC_PW)
        self.source = {
            "tenant": TENANT, "tenant_name": "Contoso", "domains": ["contoso.test"],
            "url": slapd.url, "bind_dn": SYNC_DN, "password_file": str(self.password_file),
            "base_dn": "ou=People,dc=contoso,dc=test", "filter": "(objectClass=inetOrgPerson)",
            "page_size": PAGE,
            "groups": {"fax": group_dn("Fax Users"), "sms": [group_dn("SMS Users")]},
            **source}
        if self.source["url"].startswith("ldap://") and not self.source.get("starttls"):
            # The test's slapd on loopback; without this plain ldap:// is refused.
            self.source.setdefault("allow_plaintext", True)
        self.write()

    def set_password(self, password: str):
        self.password_file.write_text(password + "\n")
        os.chmod(self.password_file, 0o600)

    def write(self):
        lines = ["", "[[directory.ldap]]"]
        tables = {k: v for k, v in self.source.items() if isinstance(v, dict)}
        lines += [f"{k} = {toml(v)}" for k, v in self.source.items() if k not in tables]
        for name, table in tables.items():
            lines.append(f"[directory.ldap.{name}]")
            lines += [f"{k} = {toml(v)}" for k, v in table.items()]
        self.gw.overrides["extra_toml"] = "\n".join(lines) + "\n"
        self.gw.write_config()

    def run(self, *args, timeout=60) -> subprocess.CompletedProcess:
        return self.gw.cli("directory", *args, timeout=timeout)

    def sync(self, *args) -> subprocess.CompletedProcess:
        return self.run("sync", "ldap", "--once", *args)

    def users(self) -> dict[str, str]:
        """address -> permissions, from `directory list`."""
        r = ok(self.run("list", "--tenant", TENANT))
        out = {}
        for line in r.stdout.splitlines():
            if line.startswith("--"):
                continue
            address, tenant, *permissions = line.split(" ")
            assert tenant == TENANT, line
            out[address] = permissions[0] if permissions else ""
        return out

    def show(self, what: str) -> dict[str, str]:
        r = ok(self.run("show", what))
        fields = {}
        for line in r.stdout.splitlines()[1:]:
            key, _, value = line.strip().partition(": ")
            fields[key.rstrip(":")] = value
        fields["_head"] = r.stdout.splitlines()[0]
        return fields


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(str(value))


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def failed(r: subprocess.CompletedProcess, *parts: str) -> str:
    assert r.returncode == 1, f"expected exit 1, got {r.returncode}\n{r.stdout}\n{r.stderr}"
    for part in parts:
        assert part in r.stderr, f"{part!r} not in:\n{r.stderr}"
    return r.stderr


EXPECTED = {"alice@contoso.test": "fax;sms", "bob@contoso.test": "fax",
            "carol@contoso.test": "sms", "dave@contoso.test": "", "erin@contoso.test": ""}


def synced(gw, bh: Bridgehead) -> subprocess.CompletedProcess:
    """One sync, and the running gateway's cache has loaded what it wrote."""
    loads = gw.directory_loads()
    r = ok(bh.sync())
    assert wait_until(lambda: gw.directory_loads() > loads, 10.0, 0.02), gw.log_text()[-2000:]
    return r
