"""A real OpenLDAP server (slapd) for the LDAP sync tests: its own slapd.conf, an mdb database
and a free loopback port in a temporary folder, plain LDAP and LDAPS (with StartTLS) from the
test PKI, Active Directory's attribute names from tests/integration/ldap/ad-attributes.schema,
and slapd's memberof overlay, so users carry memberOf as in AD.

The search account cn=sync may read at most PAGE entries per request and per non-paged
search, so a sync that reads more users proves that it pages (RFC 2696)."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bhtest import REPO_ROOT, free_port

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
           display: str | None = None) -> str:
    """LDIF of one user below ou=People."""
    lines = [f"dn: cn={cn},ou=People,{SUFFIX}", "objectClass: inetOrgPerson"]
    if proxies:
        lines.append("objectClass: bridgeheadTestMailUser")
    lines += [f"cn: {cn}", f"sn: {cn}"]
    if mail:
        lines.append(f"mail: {mail}")
    lines += [f"proxyAddresses: {p}" for p in proxies]
    lines += [f"facsimileTelephoneNumber: {n}" for n in fax]
    lines += [f"mobile: {n}" for n in mobile]
    if display:
        lines.append(f"displayName: {display}")
    return "\n".join(lines) + "\n"


def group(cn: str, *members: str) -> str:
    lines = [f"dn: cn={cn},ou=Groups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: cn={m},ou=People,{SUFFIX}" for m in members]
    return "\n".join(lines) + "\n"


def user_dn(cn: str) -> str:
    return f"cn={cn},ou=People,{SUFFIX}"


def group_dn(cn: str) -> str:
    return f"cn={cn},ou=Groups,{SUFFIX}"
