"""`bridgehead directory import|export|show|tenants` with the full model (issue 9 section 3):
a header row naming the columns (the optional ones in any order), numbers normalised with
[directory] default_region, service numbers from their own file (`import --numbers`), errors with
line numbers that change nothing, and export -> import -> export giving the same bytes."""
from __future__ import annotations

import subprocess

import pytest

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
T2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"

USERS = (
    "display_name,address,tenant,permissions,aliases,fax_numbers,mobile_numbers,send_as\r\n"
    f'"Smith, Alice",Alice@Contoso.test,{T1},sms;fax,a@contoso.test,030 1234567,'
    f"+49 151 23456789,fax@contoso.test\r\n"
    f'"The ""Fax"" box",fax@contoso.test,{T1},fax,,,,\r\n'
    f",#hash@contoso.test,{T1},,,,,\r\n"
    f",bob@fabrikam.test,{T2},fax,b@fabrikam.test,+1 202 555 0143,,\r\n")

NUMBERS = ("number,tenant,mailbox,service,description\r\n"
           f'030 5551000,{T1},fax@contoso.test,fax,"Fax line, 3rd floor"\r\n'
           f"+49 30 5551001,{T1},A@contoso.test,,\r\n")


@pytest.fixture
def gw(make_gateway):
    g = make_gateway(start=False, routes=[
        {"domains": ["fax.example.test"], "connector": "files", "service": "fax"},
        {"domains": ["sms.example.test"], "connector": "files", "service": "sms"},
        {"domains": ["example.test"], "connector": "files"}],
        extra_toml='\n[directory]\ndefault_region = "DE"\n')
    g.write_config()
    return g


def run(gw, *args) -> subprocess.CompletedProcess:
    cmd = [str(gw.binary), "directory", "-c", str(gw.config), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, timeout=30, cwd=gw.tmp)


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout!r}\nstderr: {r.stderr!r}"
    return r


def refused(r, *parts: str) -> str:
    err = r.stderr.decode()
    assert r.returncode == 1, f"expected exit 1, got {r.returncode}: {r.stdout!r} {r.stderr!r}"
    for part in parts:
        assert part in err, f"{part!r} not in:\n{err}"
    return err


def import_file(gw, text: str, *flags, name="users.csv"):
    path = gw.tmp / name
    path.write_bytes(text.encode())
    return run(gw, "import", *flags, path)


def show(gw, what: str) -> str:
    return ok(run(gw, "show", what)).stdout.decode()


def test_full_model_import_and_show(gw):
    r = ok(import_file(gw, USERS))
    assert b"imported 4 user(s) of 2 tenant(s)" in r.stdout, r.stdout
    alice = show(gw, "a@contoso.test")
    assert alice.startswith("user alice@contoso.test\n"), alice
    for line in ('display_name: Smith, Alice', "aliases: a@contoso.test",
                 "fax_numbers: +49301234567", "mobile_numbers: +4915123456789",
                 "permissions: fax;sms", "send_as: fax@contoso.test", f"tenant: {T1}"):
        assert f"  {line}\n" in alice, alice
    assert 'display_name: The "Fax" box' in show(gw, "fax@contoso.test")
    assert show(gw, "+1 (202) 555-0143").startswith("user bob@fabrikam.test\n")
    tenants = ok(run(gw, "tenants")).stdout.decode()
    assert f'{T1} "" \n' in tenants and f'{T2} "" \n' in tenants, tenants
    listed = ok(run(gw, "list", "--tenant", T2)).stdout.decode()
    assert listed == f"bob@fabrikam.test {T2} fax\n-- 1 user(s)\n", listed


def test_export_import_export_is_identical(gw):
    ok(import_file(gw, USERS))
    ok(import_file(gw, NUMBERS, "--numbers", name="numbers.csv"))
    users1 = ok(run(gw, "export")).stdout
    numbers1 = ok(run(gw, "export", "--numbers")).stdout
    assert users1.startswith(b"address,tenant,permissions,display_name,aliases,fax_numbers,"
                             b"mobile_numbers,send_as\r\n"), users1
    assert b'"#hash@contoso.test"' in users1 and b'"The ""Fax"" box"' in users1, users1
    assert numbers1 == (b"number,tenant,mailbox,service,description\r\n"
                        + f'+49305551000,{T1},fax@contoso.test,fax,"Fax line, 3rd floor"\r\n'
                          f"+49305551001,{T1},a@contoso.test,,\r\n".encode()), numbers1
    ok(import_file(gw, users1.decode(), name="export-users.csv"))
    ok(import_file(gw, numbers1.decode(), "--numbers", name="export-numbers.csv"))
    assert ok(run(gw, "export")).stdout == users1
    assert ok(run(gw, "export", "--numbers")).stdout == numbers1
    only_t2 = ok(run(gw, "export", "--tenant", T2.upper())).stdout.decode()
    assert only_t2.splitlines()[1:] == [f"bob@fabrikam.test,{T2},fax,,b@fabrikam.test,"
                                        "+12025550143,,"], only_t2


def test_service_numbers_are_shown_and_checked(gw):
    ok(import_file(gw, USERS))
    r = ok(import_file(gw, NUMBERS, "--numbers", name="numbers.csv"))
    assert b"imported 2 service number(s) of 1 tenant(s)" in r.stdout, r.stdout
    number = show(gw, "+49 30 5551000")
    assert number.startswith("service number +49305551000\n"), number
    assert "  mailbox: fax@contoso.test\n" in number and "  service: fax\n" in number, number
    before = ok(run(gw, "export", "--numbers")).stdout
    refused(import_file(gw, "number,tenant,mailbox\r\n" f"+4930555200,{T1},nobody@contoso.test\r\n"
                        f"+4930555201,{T1},fax@contoso.test\r\n", "--numbers", name="n2.csv"),
            "n2.csv:2: mailbox: 'nobody@contoso.test' is neither a user's address nor an alias")
    refused(import_file(gw, "number,tenant,mailbox\r\n"
                        "+4930555202,00000000-1111-4222-8333-444444444444,x@y.test\r\n",
                        "--numbers", name="n3.csv"),
            "n3.csv:2: tenant 00000000-1111-4222-8333-444444444444 is not in the directory")
    refused(import_file(gw, "number,tenant,mailbox\r\n" f"not a number,{T1},fax@contoso.test\r\n",
                        "--numbers", name="n4.csv"), "n4.csv:2: number:")
    assert ok(run(gw, "export", "--numbers")).stdout == before, "refused imports change nothing"
    # A number that a user has as fax number cannot also be a service number.
    refused(import_file(gw, "number,tenant,mailbox\r\n" f"+49301234567,{T1},fax@contoso.test\r\n",
                        "--numbers", name="n5.csv"), "n5.csv:2:", "'+49301234567' is also")


def test_bad_rows_name_line_and_column_and_change_nothing(gw):
    ok(import_file(gw, USERS))
    before = ok(run(gw, "export")).stdout
    refused(import_file(gw, "address,tenant,permissions,pager\r\n", name="bad1.csv"),
            "bad1.csv:1: unknown column 'pager'")
    refused(import_file(gw, "address,tenant,fax_numbers\r\n", name="bad2.csv"),
            "bad2.csv:1: the column 'permissions' is missing")
    refused(import_file(gw, "address,tenant,permissions,fax_numbers,aliases\r\n"
                        f"c@contoso.test,{T1},fax,12,\r\n"
                        f"d@contoso.test,{T1},fax,,not-an-address\r\n", name="bad3.csv"),
            "bad3.csv:2: fax_numbers: '12'", "bad3.csv:3: aliases: 'not-an-address' is not a mail")
    # Two users with one alias: named by line (the check across rows).
    refused(import_file(gw, "address,tenant,permissions,aliases\r\n"
                        f"c@contoso.test,{T1},fax,shared@contoso.test\r\n"
                        f"d@contoso.test,{T1},fax,shared@contoso.test\r\n", name="bad4.csv"),
            "bad4.csv:3:", "'shared@contoso.test' is also")
    assert ok(run(gw, "export")).stdout == before


def test_show_and_arguments(gw):
    ok(import_file(gw, USERS))
    refused(run(gw, "show", "nobody@contoso.test"), "is no user's address or alias")
    refused(run(gw, "show", "+49 30 999999"), "is not in the directory")
    refused(run(gw, "show", "hello"), "neither an address nor a phone number")
    r = run(gw, "sync", "ldap", "--once", "--every", "5")
    assert r.returncode == 2, r
    r = run(gw, "frobnicate")
    assert r.returncode == 2, r
    assert b"subcommand" in r.stderr, r.stderr
