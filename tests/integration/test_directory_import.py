"""`bridgehead directory import FILE.csv` takes what spreadsheets write (issue 12 item 8): a
UTF-8 BOM, RFC 4180 quoting; refuses an empty file unless --allow-empty, short rows, duplicate
addresses (naming both lines) and permission names that are no service names; warns about
permissions no route uses; error messages never carry raw control bytes."""
from __future__ import annotations

import subprocess

import pytest

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
HEADER = b"address,tenant,permissions\r\n"


@pytest.fixture
def gw(make_gateway):
    """A configuration (not started: the directory commands need none) with routes whose
    services are fax and sms."""
    g = make_gateway(start=False, routes=[
        {"domains": ["fax.example.test"], "connector": "files", "service": "fax"},
        {"domains": ["sms.example.test"], "connector": "files", "service": "SMS"},
        {"domains": ["example.test"], "connector": "files"}])
    g.write_config()
    return g


def run(gw, *args) -> subprocess.CompletedProcess:
    cmd = [str(gw.binary), "directory", "-c", str(gw.config), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, timeout=30, cwd=gw.tmp)


def import_csv(gw, data: bytes, *flags, name="users.csv") -> subprocess.CompletedProcess:
    path = gw.tmp / name
    path.write_bytes(data)
    return run(gw, "import", path, *flags)


def users(gw) -> list[str]:
    r = run(gw, "list")
    assert r.returncode == 0, r
    return [l for l in r.stdout.decode().splitlines() if not l.startswith("--")]


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout!r}\nstderr: {r.stderr!r}"
    return r


def refused(r, *parts: str):
    err = r.stderr.decode("utf-8")  # strict: messages are valid UTF-8
    assert r.returncode == 1, f"expected a refusal, got {r.returncode}: {r.stdout!r} {r.stderr!r}"
    assert not [b for b in r.stderr if b < 0x20 and b != 0x0A or b == 0x7F], r.stderr
    for part in parts:
        assert part in err, f"{part!r} not in:\n{err}"
    return err


def test_empty_file_is_refused_and_keeps_the_users(gw):
    ok(import_csv(gw, HEADER + f"alice@contoso.test,{T1},fax\r\n".encode()))
    assert users(gw) == [f"alice@contoso.test {T1} fax"]
    for data in (b"", HEADER, b"\xef\xbb\xbf" + HEADER, HEADER + b"\r\n,,\r\n"):
        refused(import_csv(gw, data), "would remove every user", "--allow-empty")
        assert users(gw) == [f"alice@contoso.test {T1} fax"], "a refused import changes nothing"
    ok(import_csv(gw, HEADER, "--allow-empty"))
    assert users(gw) == []


def test_excel_csv_with_bom_and_quotes(gw):
    data = (b"\xef\xbb\xbf" + HEADER
            + f'"Alice@Contoso.test","{T1}","fax;sms"\r\n'.encode()
            + f'"""a,b""@contoso.test",{T1},""\r\n'.encode()
            + f'bob@contoso.test,{T1.upper()},SMS\r\n'.encode())
    r = ok(import_csv(gw, data))
    assert b"imported 3 user(s)" in r.stdout, r.stdout
    assert r.stderr == b"", r.stderr
    assert sorted(users(gw)) == sorted([f"alice@contoso.test {T1} fax;sms",
                                        f'"a,b"@contoso.test {T1} ',
                                        f"bob@contoso.test {T1} sms"])


def test_line_break_inside_quotes_and_line_numbers(gw):
    data = (HEADER + f'a@contoso.test,{T1},"fax;\r\nsms"\r\n'.encode()
            + f"b@contoso.test,{T1}\r\n".encode())
    refused(import_csv(gw, data), "users.csv:2: '\\x0D\\x0Asms' is not a service name",
            "users.csv:4: expected 3 fields (address,tenant,permissions), found 2")


def test_short_rows_are_refused(gw):
    data = HEADER + f"a@contoso.test,{T1},fax\r\nb@contoso.test,{T1}\r\nc@contoso.test\r\n".encode()
    refused(import_csv(gw, data), "users.csv:3: expected 3 fields", "users.csv:4: expected 3 fields")
    assert users(gw) == []


def test_duplicate_rows_name_both_lines(gw):
    data = HEADER + f"a@contoso.test,{T1},fax\r\nb@contoso.test,{T1},\r\nA@CONTOSO.test,{T1},sms\r\n".encode()
    refused(import_csv(gw, data), "users.csv:4: 'a@contoso.test' is also on line 2")


def test_permission_names_must_be_service_names(gw):
    refused(import_csv(gw, HEADER + f"a@contoso.test,{T1},fax machine\r\n".encode()),
            "users.csv:2: 'fax machine' is not a service name")
    refused(import_csv(gw, HEADER + f'a@contoso.test,{T1},"fax,sms"\r\n'.encode()),
            "users.csv:2: 'fax,sms' is not a service name")


def test_unused_permissions_are_a_warning(gw):
    r = ok(import_csv(gw, HEADER + f"a@contoso.test,{T1},fax;pager\r\nb@contoso.test,{T1},pager;sms\r\n".encode()))
    err = r.stderr.decode()
    assert "warning: permission 'pager' (lines 2, 3) is the service of no route" in err, err
    assert "'fax'" not in err and "'sms'" not in err, err
    assert len(users(gw)) == 2


def test_control_bytes_in_errors_are_escaped(gw):
    data = (HEADER + f"\x1b]0;owned\x07@contoso.test,{T1},fax\r\n".encode()
            + b"b@contoso.test,\x1b[2J\xff,fax\r\n")
    refused(import_csv(gw, data), "users.csv:2: '\\x1B]0;owned\\x07@contoso.test' is not a mail address",
            "users.csv:3: '\\x1B[2J\\xFF' is not a tenant id")
    refused(import_csv(gw, b"", name="evil\x1b[2J.csv"), "evil\\x1B[2J.csv")
