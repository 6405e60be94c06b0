"""`bridgehead directory sync ldap` against a real OpenLDAP (issue 9 section 3): users with
Active Directory's attribute names (mail, proxyAddresses, facsimileTelephoneNumber, mobile,
displayName), permissions from group membership, paged searches past the server's size limit,
changes in LDAP reaching the directory, bad entries reported by DN (abort or skip), a wrong
password changing nothing, StartTLS and LDAPS with the test CA, the periodic mode, and a
running gateway's policy following the sync. Nested groups and send-on-behalf delegations:
test_ldap_nesting.py.

The results are read back with `bridgehead directory list|show|tenants`, from the same store."""
from __future__ import annotations

import signal
import subprocess

from bhtest import wait_until
from ldappeer import (EXPECTED, SYNC_DN, TENANT, Bridgehead, failed, group_dn, ok, person,
                      populate, slapd, synced, user_dn)  # noqa: F401 (slapd: fixture)
from trusthelp import T1, good_headers, m365_gateway, swaks, trust_gateway  # noqa: F401


def test_sync_reads_ad_attributes_groups_and_pages(slapd, make_gateway):
    populate(slapd)
    # The server gives the sync account at most PAGE entries without paging...
    plain = slapd.search_as_sync("(objectClass=inetOrgPerson)", "dn")
    assert plain.returncode == 4, plain  # sizeLimitExceeded
    bh = Bridgehead(make_gateway, slapd)
    r = ok(bh.sync())
    # ... so five users in three pages show that the sync pages.
    assert f"ldap {TENANT}: 5 entries in 3 page(s): 5 user(s) (5 added, 0 removed, 0 changed)" \
        in r.stdout, r.stdout
    assert "travel unencrypted" in r.stderr, "plain ldap:// is warned about"
    # The test gateway's routes have no service: both groups are warned about.
    assert "warning: service 'fax' of [directory.ldap.groups] is the service of no route" \
        in r.stderr, r.stderr
    assert bh.users() == EXPECTED
    alice = bh.show("alice@contoso.test")
    assert alice["_head"] == "user alice@contoso.test"
    assert alice["display_name"] == "Alice Smith"
    # smtp: entries are aliases; X500: and SIP: are no mail addresses.
    assert alice["aliases"] == "a@contoso.test;alice.smith@contoso.test"
    assert alice["fax_numbers"] == "+49301234567"
    assert alice["mobile_numbers"] == "+4915123456789"
    assert alice["permissions"] == "fax;sms"
    assert bh.show("A@contoso.test")["_head"] == "user alice@contoso.test", "found by alias"
    assert bh.show("+49 30 7654321")["_head"] == "user bob@contoso.test", "found by fax number"
    assert bh.show("carol@contoso.test")["mobile_numbers"] == "+12025550143"
    erin = bh.show("erin@contoso.test")  # no mail: the SMTP: proxy address is the primary
    assert erin["aliases"] == "e@contoso.test"
    tenants = ok(bh.run("tenants")).stdout
    assert f'{TENANT} "Contoso" contoso.test' in tenants, tenants
    # A second pass with nothing new writes nothing.
    assert "nothing to change" in ok(bh.sync()).stdout


def test_changes_in_ldap_reach_the_directory(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    ok(bh.sync())
    slapd.modify(f"dn: {group_dn('Fax Users')}\nchangetype: modify\ndelete: member\n"
                 f"member: {user_dn('Bob')}\n")
    slapd.delete(user_dn("Dave"))
    slapd.modify(f"dn: {user_dn('Carol')}\nchangetype: modify\nadd: mail\nmail: c@contoso.test\n")
    r = ok(bh.sync())
    assert "4 user(s) (0 added, 1 removed, 2 changed)" in r.stdout, r.stdout
    expected = dict(EXPECTED, **{"bob@contoso.test": ""})
    del expected["dave@contoso.test"]
    assert bh.users() == expected
    # A second mail value is one more address of the user.
    assert bh.show("c@contoso.test")["_head"] == "user carol@contoso.test"


def test_membership_from_member_of_alone(slapd, make_gateway):
    """Membership from the users' memberOf alone (slapd's overlay keeps it, as AD does) and
    from the groups' member attribute alone."""
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd, attributes={"member": "uniqueMember"})
    ok(bh.sync())
    assert bh.users() == EXPECTED
    # Neither source: nobody has a permission (so each source above was what counted) ...
    bh.source["attributes"] = {"member": "uniqueMember", "member_of": ""}
    bh.write()
    ok(bh.sync())
    assert bh.users() == {address: "" for address in EXPECTED}
    # ... and the group's member attribute alone gives them back.
    bh.source["attributes"] = {"member_of": ""}
    bh.write()
    ok(bh.sync())
    assert bh.users() == EXPECTED


def test_an_invalid_number_is_reported_by_dn_and_aborts(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    ok(bh.sync())
    slapd.add(person("Mallory", "mallory@contoso.test", fax=["not a number"]))
    slapd.add(person("Oscar", "oscar@elsewhere.test"))
    slapd.delete(user_dn("Dave"))
    err = failed(bh.sync(), f'"{user_dn("Mallory")}": facsimileTelephoneNumber:',
                 "not a phone number", f'"{user_dn("Oscar")}": mail:',
                 "not in a domain of the tenant", "nothing changed")
    assert "abort" in err, err
    assert bh.users() == EXPECTED, "a refused sync changes nothing (Dave is still there)"


def test_on_error_skip_applies_the_good_entries(slapd, make_gateway):
    populate(slapd)
    slapd.add(person("Mallory", "mallory@contoso.test", fax=["not a number"]))
    slapd.add(person("Nobody"))  # no address at all
    bh = Bridgehead(make_gateway, slapd, on_error="skip")
    r = ok(bh.sync())
    assert f'"{user_dn("Mallory")}": facsimileTelephoneNumber:' in r.stderr, r.stderr
    assert f'"{user_dn("Nobody")}": has no mail address' in r.stderr, r.stderr
    assert "5 user(s) (5 added, 0 removed, 0 changed), 2 entries skipped" in r.stdout, r.stdout
    assert bh.users() == EXPECTED


def test_a_wrong_password_changes_nothing(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    ok(bh.sync())
    slapd.delete(user_dn("Dave"))
    bh.set_password("wrong")
    failed(bh.sync(), f'bind as "{SYNC_DN}": Invalid credentials (49)', "nothing changed")
    assert bh.users() == EXPECTED
    bh.password_file.chmod(0o644)
    failed(bh.sync(), "permissions 0644 are too open")
    bh.set_password("")
    failed(bh.sync(), "the bind password is empty")
    assert bh.users() == EXPECTED


def test_a_search_that_finds_nobody_is_refused(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    ok(bh.sync())
    bh.source["filter"] = "(cn=nobody-has-this-name)"
    bh.write()
    failed(bh.sync(), "found no user", "allow_empty")
    assert bh.users() == EXPECTED
    bh.source["allow_empty"] = True
    bh.write()
    ok(bh.sync())
    assert bh.users() == {}


def test_a_missing_group_is_an_error(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    bh.source["groups"] = {"fax": group_dn("No Such Group")}
    bh.write()
    failed(bh.sync(), "group of service fax", "no such entry", "nothing changed")
    assert bh.users() == {}


def test_starttls_and_ldaps_verify_the_server(slapd, make_gateway, pki):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd, starttls=True, ca_file=str(pki.ca))
    r = ok(bh.sync())
    assert "unencrypted" not in r.stderr, r.stderr
    assert bh.users() == EXPECTED
    del bh.source["starttls"]
    bh.source["url"] = slapd.ldaps_url
    bh.write()
    assert "nothing to change" in ok(bh.sync()).stdout
    bh.source["ca_file"] = str(pki.other_ca)  # a CA that did not sign the server's certificate
    bh.write()
    failed(bh.sync(), "Can't contact LDAP server", "nothing changed")


def test_config_errors_name_the_key(slapd, make_gateway):
    bh = Bridgehead(make_gateway, slapd, starttls=True, url="ldaps://localhost:1",
                    on_error="ignore", page_size=5000)
    bh.source["groups"] = {"Fax": "cn=x"}
    bh.write()
    r = bh.sync()
    assert r.returncode == 2, r
    for part in ("directory.ldap[0].starttls: ldaps:// is TLS already",
                 'directory.ldap[0].on_error: must be "abort" or "skip"',
                 "directory.ldap[0].page_size: must be an integer from 1 to 1000",
                 "directory.ldap[0].groups.Fax: is not a service name"):
        assert part in r.stderr, r.stderr

    # Plain ldap:// without StartTLS would send the bind password in clear: refused.
    plain = Bridgehead(make_gateway, slapd)
    del plain.source["allow_plaintext"]
    plain.write()
    r = plain.sync()
    assert r.returncode == 2, r
    assert "would send the bind password in clear" in r.stderr, r.stderr


def test_periodic_sync_until_sigterm(slapd, make_gateway):
    populate(slapd)
    bh = Bridgehead(make_gateway, slapd)
    cmd = [str(bh.gw.binary), "directory", "-c", str(bh.gw.config), "sync", "ldap", "--every", "1"]
    proc = subprocess.Popen(cmd, cwd=bh.gw.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert wait_until(lambda: bh.users() == EXPECTED, timeout=30), bh.users()
        slapd.delete(user_dn("Dave"))
        expected = dict(EXPECTED)
        del expected["dave@contoso.test"]
        assert wait_until(lambda: bh.users() == expected, timeout=30), bh.users()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out, err)
    assert "directory sync ldap: stopped" in out, out


def test_a_running_gateway_follows_the_sync(slapd, make_gateway, trust_gateway):
    """The policy of a running gateway sees what a sync wrote within its refresh interval:
    bob may send faxes once LDAP puts him in the fax group, and not after he leaves it."""
    assert T1 == TENANT
    populate(slapd)
    gw = m365_gateway(trust_gateway, start=False)
    bh = Bridgehead(make_gateway, slapd, gw=gw,
                    domains=["contoso.test", "contoso.onmicrosoft.com"])
    gw.start()

    def fax_from_bob(subject):
        return swaks(gw, sender="bob@contoso.test", headers=good_headers(), subject=subject)

    before = fax_from_bob("before the sync")
    assert before.final is not None and before.final.code == 550, before.out
    synced(gw, bh)
    after = fax_from_bob("bob in the fax group")
    assert after.final is not None and after.final.code == 250, after.out
    gw.wait_delivered(after.qid())
    slapd.modify(f"dn: {group_dn('Fax Users')}\nchangetype: modify\ndelete: member\n"
                 f"member: {user_dn('Bob')}\n")
    synced(gw, bh)
    gone = fax_from_bob("bob left the fax group")
    assert gone.final is not None and gone.final.code == 550, gone.out
    assert "not permitted to use the fax service" in gone.final.text, gone.out
