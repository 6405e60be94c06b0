"""Nested groups and send-on-behalf delegations in `bridgehead directory sync ldap`, against a
real OpenLDAP (issue 9 section 3): members of groups nested two levels below a configured group
(through a cycle) get its permission, a chain one level deeper than the limit is refused and
named, nested_groups = false reads direct members only; publicDelegates on a mailbox and
publicDelegatesBL on a user become the user's send_as, DNs outside the synced users are warned
about and ignored, a mailbox skipped with on_error = "skip" keeps its delegates; and a running
gateway's SMTP policy lets the nested member send faxes, as the shared mailbox while she is its
delegate. Review fixes: a nested member behind a referral (another domain) is a plain member
with a warning, a configured group behind one an error; a mail-enabled group the filter matches is
expanded, gets no permission itself, and is no delegate. Read back with
`bridgehead directory list|show`."""
from __future__ import annotations

from ldappeer import (EXPECTED, SUFFIX, TENANT, Bridgehead, Slapd, failed, group, group_dn, ok,
                      person, populate, slapd, synced, user_dn)  # noqa: F401 (slapd: fixture)
from trusthelp import T1, good_headers, m365_gateway, swaks, trust_gateway  # noqa: F401


def populate_nested(slapd: Slapd):
    """Fax Users > Sales > Sales Berlin > Fax Users (a cycle): alice directly, bob one level and
    carol two levels below the configured group; dave only in SMS Users."""
    slapd.add("\n".join([
        person("Alice", "alice@contoso.test"), person("Bob", "bob@contoso.test"),
        person("Carol", "carol@contoso.test"), person("Dave", "dave@contoso.test"),
        group("Sales Berlin", "Carol"),
        group("Sales", "Bob", groups=["Sales Berlin"]),
        group("Fax Users", "Alice", groups=["Sales"]),
        group("SMS Users", "Dave"),
    ]))
    slapd.modify(f"dn: {group_dn('Sales Berlin')}\nchangetype: modify\nadd: member\n"
                 f"member: {group_dn('Fax Users')}\n")


NESTED = {"alice@contoso.test": "fax", "bob@contoso.test": "fax", "carol@contoso.test": "fax",
          "dave@contoso.test": "sms"}


def test_nested_groups_two_levels_down_and_a_cycle(slapd, make_gateway):
    populate_nested(slapd)
    bh = Bridgehead(make_gateway, slapd)
    r = ok(bh.sync())
    assert "4 user(s) (4 added, 0 removed, 0 changed)" in r.stdout, r.stdout
    assert bh.users() == NESTED
    # nested_groups = false: the configured groups' direct members only.
    bh.source["nested_groups"] = False
    bh.write()
    r = ok(bh.sync())
    assert "(0 added, 0 removed, 2 changed)" in r.stdout, r.stdout
    assert bh.users() == dict(NESTED, **{"bob@contoso.test": "", "carol@contoso.test": ""})
    # Nested again, sms from Sales Berlin: the cycle through Fax Users and Sales leads back to
    # it, so all three have sms too (and dave, only in SMS Users, has nothing).
    bh.source["nested_groups"] = True
    bh.source["groups"] = {"fax": group_dn("Fax Users"), "sms": group_dn("Sales Berlin")}
    bh.write()
    ok(bh.sync())
    assert bh.users() == {"alice@contoso.test": "fax;sms", "bob@contoso.test": "fax;sms",
                          "carol@contoso.test": "fax;sms", "dave@contoso.test": ""}


def test_groups_nested_too_deep_are_an_error_naming_the_chain(slapd, make_gateway):
    populate(slapd)
    levels = 17  # L0 > L1 > ... > L17: L17 is 17 levels below L0, one more than the limit
    slapd.add("\n".join(
        [group(f"L{levels}", "Dave")] +
        [group(f"L{i}", "Erin", groups=[f"L{i + 1}"]) for i in reversed(range(levels))]))
    bh = Bridgehead(make_gateway, slapd)
    ok(bh.sync())
    bh.source["groups"] = {"fax": group_dn("L0")}
    bh.write()
    chain = " > ".join(f'"{group_dn(f"L{i}")}"' for i in range(levels + 1))
    failed(bh.sync(), f"group of service fax: {chain}: nested more than 16 levels deep",
           "nothing changed")
    assert bh.users() == EXPECTED, "a refused sync changes nothing"
    # Sixteen levels below L1: within the limit, so Dave has the permission.
    bh.source["groups"] = {"fax": group_dn("L1")}
    bh.write()
    ok(bh.sync())
    assert bh.users()["dave@contoso.test"] == "fax"


def test_a_missing_configured_group_is_an_error_with_nesting_too(slapd, make_gateway):
    populate_nested(slapd)
    bh = Bridgehead(make_gateway, slapd, on_error="skip")
    bh.source["groups"] = {"fax": [group_dn("Fax Users"), group_dn("Gone")]}
    bh.write()
    failed(bh.sync(), f'group of service fax: "{group_dn("Gone")}": no such entry',
           "nothing changed")
    assert bh.users() == {}


# --------------------------------------------------------------------------- send on behalf

PAYROLL = f"cn=Payroll,ou=Shared,{SUFFIX}"  # a mailbox outside base_dn


def add_delegations(slapd: Slapd):
    """The shared mailbox Accounts may be sent for by alice and by a DN that is no entry
    (publicDelegates); bob's publicDelegatesBL names Accounts and Payroll, which is outside the
    search."""
    slapd.add("\n".join([
        person("Accounts", "accounts@contoso.test", proxies=["smtp:billing@contoso.test"],
               delegates=[user_dn("Alice"), user_dn("Ghost")]),
        person("Payroll", "payroll@contoso.test", ou="Shared"),
    ]))
    slapd.modify(f"dn: {user_dn('Bob')}\nchangetype: modify\nadd: objectClass\n"
                 f"objectClass: bridgeheadTestMailUser\n-\nadd: publicDelegatesBL\n"
                 f"publicDelegatesBL: {user_dn('Accounts')}\npublicDelegatesBL: {PAYROLL}\n")


def test_delegations_become_send_as(slapd, make_gateway):
    populate(slapd)
    add_delegations(slapd)
    bh = Bridgehead(make_gateway, slapd)
    r = ok(bh.sync())
    assert bh.users() == dict(EXPECTED, **{"accounts@contoso.test": ""})
    assert bh.show("alice@contoso.test")["send_as"] == "accounts@contoso.test", "publicDelegates"
    assert bh.show("bob@contoso.test")["send_as"] == "accounts@contoso.test", "publicDelegatesBL"
    assert bh.show("carol@contoso.test")["send_as"] == ""
    assert bh.show("accounts@contoso.test")["send_as"] == ""
    # DNs that are no synced user are ignored, each with a warning naming it.
    assert (f'warning: "{user_dn("Accounts")}": publicDelegates: "{user_dn("Ghost")}" is not '
            "among the synced users; that delegation is ignored") in r.stderr, r.stderr
    assert (f'warning: "{user_dn("Bob")}": publicDelegatesBL: "{PAYROLL}" is not among the '
            "synced users") in r.stderr, r.stderr
    assert "nothing to change" in ok(bh.sync()).stdout

    # The delegation removed in LDAP is gone after the next sync.
    slapd.modify(f"dn: {user_dn('Accounts')}\nchangetype: modify\ndelete: publicDelegates\n"
                 f"publicDelegates: {user_dn('Alice')}\n")
    r = ok(bh.sync())
    assert "(0 added, 0 removed, 1 changed)" in r.stdout, r.stdout
    assert bh.show("alice@contoso.test")["send_as"] == ""
    assert bh.show("bob@contoso.test")["send_as"] == "accounts@contoso.test"
    # Neither attribute read: nobody has a delegation.
    bh.source["attributes"] = {"delegates": "", "send_as_of": ""}
    bh.write()
    ok(bh.sync())
    assert bh.show("bob@contoso.test")["send_as"] == ""


def test_a_skipped_mailbox_does_not_take_its_delegates_along(slapd, make_gateway):
    """With on_error = "skip" a mailbox that is left out (its address is outside the tenant's
    domains) is no delegation target; its delegate stays, with a warning naming the mailbox."""
    populate(slapd)
    foreign = user_dn("Foreign")
    slapd.add(person("Foreign", "foreign@elsewhere.test", delegates=[user_dn("Carol")]))
    slapd.modify(f"dn: {user_dn('Carol')}\nchangetype: modify\nadd: objectClass\n"
                 f"objectClass: bridgeheadTestMailUser\n-\nadd: publicDelegatesBL\n"
                 f"publicDelegatesBL: {foreign}\n")
    bh = Bridgehead(make_gateway, slapd, on_error="skip")
    r = ok(bh.sync())
    assert f"\"{foreign}\": mail: 'foreign@elsewhere.test' is not in a domain of the tenant" \
        in r.stderr, r.stderr
    assert f'"{user_dn("Carol")}": publicDelegatesBL: "{foreign}" is not among the synced users' \
        in r.stderr, r.stderr
    assert "1 entry skipped" in r.stdout, r.stdout
    assert bh.users() == EXPECTED
    assert bh.show("carol@contoso.test")["send_as"] == ""
    # With "abort" the same directory is refused as a whole.
    bh.source["on_error"] = "abort"
    bh.write()
    failed(bh.sync(), "is not in a domain of the tenant", "nothing changed")


def test_smtp_policy_nested_member_faxes_and_delegate_sends_as_the_shared_mailbox(
        slapd, make_gateway, trust_gateway):
    """Through a running gateway: carol, two levels below the fax group, may send faxes, and
    with From: the shared mailbox Accounts (which has no fax permission) because Accounts'
    publicDelegates names her; once the delegation is removed in LDAP, that From: is refused."""
    assert T1 == TENANT
    populate_nested(slapd)
    slapd.add(person("Accounts", "accounts@contoso.test", delegates=[user_dn("Carol")]))
    gw = m365_gateway(trust_gateway, start=False)
    bh = Bridgehead(make_gateway, slapd, gw=gw,
                    domains=["contoso.test", "contoso.onmicrosoft.com"])
    gw.start()

    def fax(sender, from_addr, subject):
        return swaks(gw, sender=sender, headers=good_headers(), subject=subject,
                     replace=[f"From: {from_addr}"])

    synced(gw, bh)
    own = fax("carol@contoso.test", "carol@contoso.test", "carol two levels down")
    assert own.final is not None and own.final.code == 250, own.out
    gw.wait_delivered(own.qid())
    shared = fax("carol@contoso.test", "accounts@contoso.test", "carol for accounts")
    assert shared.final is not None and shared.final.code == 250, shared.out
    gw.wait_delivered(shared.qid())
    assert "by send-as delegation" in gw.log_text(), gw.log_text()[-3000:]
    # bob (one level down) may fax as himself, not as the shared mailbox.
    bob = fax("bob@contoso.test", "accounts@contoso.test", "bob for accounts")
    assert bob.final is not None and bob.final.code == 550, bob.out
    assert "From: <accounts@contoso.test> is not permitted to use the fax service" \
        in bob.final.text, bob.out
    dave = fax("dave@contoso.test", "dave@contoso.test", "dave is sms only")
    assert dave.final is not None and dave.final.code == 550, dave.out

    slapd.modify(f"dn: {user_dn('Accounts')}\nchangetype: modify\ndelete: publicDelegates\n")
    synced(gw, bh)
    gone = fax("carol@contoso.test", "accounts@contoso.test", "delegation removed")
    assert gone.final is not None and gone.final.code == 550, gone.out
    assert "From: <accounts@contoso.test> is not permitted to use the fax service" \
        in gone.final.text, gone.out


# --------------------------------------------------------------------------- review fixes

REMOTE_OU = f"ou=Fabrikam,{SUFFIX}"  # a referral, as AD answers for another domain's partition
REMOTE_REF = "ldap://dc1.fabrikam.test/ou=People,dc=fabrikam,dc=test"


def add_referral(slapd: Slapd):
    slapd.add(f"dn: {REMOTE_OU}\nobjectClass: referral\nobjectClass: extensibleObject\n"
              f"ou: Fabrikam\nref: {REMOTE_REF}\n")


def test_a_nested_member_behind_a_referral_is_a_plain_member_with_a_warning(slapd, make_gateway):
    """A universal group with a member from another domain of the forest: reading that member
    answers a referral (10), which the sync does not follow. The member counts as a plain one,
    with a warning naming it; the sync goes on. A configured group behind a referral still stops
    it (skipping it would take the permission from every member)."""
    populate_nested(slapd)
    add_referral(slapd)
    zed = f"cn=Zed,{REMOTE_OU}"
    slapd.modify(f"dn: {group_dn('Sales')}\nchangetype: modify\nadd: member\nmember: {zed}\n")
    bh = Bridgehead(make_gateway, slapd)
    r = ok(bh.sync())
    assert bh.users() == NESTED
    assert (f'warning: "{zed}" (a member of "{group_dn("Sales")}") cannot be read: Referral (10), '
            f"to ldap://dc1.fabrikam.test/") in r.stderr, r.stderr
    assert "it counts as a plain member (groups nested in it are not followed)" in r.stderr
    # A configured group in the other partition: an error with either on_error.
    bh.source["groups"] = {"fax": [group_dn("Fax Users"), f"cn=Fax,{REMOTE_OU}"]}
    bh.source["on_error"] = "skip"
    bh.write()
    failed(bh.sync(), f'group of service fax: "cn=Fax,{REMOTE_OU}": Referral (10)',
           "nothing changed")
    assert bh.users() == NESTED, "a refused sync changes nothing"


def test_a_mail_enabled_group_the_filter_matches_is_expanded(slapd, make_gateway):
    """A filter that matches a mail-enabled group (mail and member values) too: the group is
    still expanded, so its members get the permission; it stays a synced entry without
    permissions of its own (it is no mailbox that sends), and a delegation naming it as the
    delegate is ignored with a warning."""
    populate(slapd)
    team = user_dn("Team")
    slapd.add(f"dn: {team}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\n"
              f"cn: Team\nmail: team@contoso.test\nmember: {user_dn('Dave')}\n"
              f"member: {user_dn('Erin')}\n")
    slapd.modify(f"dn: {group_dn('Fax Users')}\nchangetype: modify\nadd: member\n"
                 f"member: {team}\n")
    slapd.add(person("Accounts", "accounts@contoso.test", delegates=[team, user_dn("Carol")]))
    bh = Bridgehead(make_gateway, slapd, filter="(|(mail=*)(proxyAddresses=*))")
    r = ok(bh.sync())
    assert bh.users() == dict(EXPECTED, **{"dave@contoso.test": "fax", "erin@contoso.test": "fax",
                                           "team@contoso.test": "", "accounts@contoso.test": ""})
    assert bh.show("carol@contoso.test")["send_as"] == "accounts@contoso.test"
    assert bh.show("team@contoso.test")["send_as"] == ""
    assert (f'warning: "{user_dn("Accounts")}": publicDelegates: "{team}": the delegate is a '
            "group; a delegation to a group is not expanded to its members and is ignored") \
        in r.stderr, r.stderr
