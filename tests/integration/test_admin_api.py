"""The admin API (docs/api.md, issue 9 section 2): bearer tokens and scopes, CRUD of tenants,
users and service numbers, paging, the push of a whole tenant directory that the policy
sees at once, /v1/queue, precise 4xx errors for bad input that change nothing, and the TLS
listener."""
from __future__ import annotations

import socket
import subprocess
import time

import pytest
import requests

from adminhelp import T1, T2, Api, admin_gateway, admin_toml, expect, field_errors  # noqa: F401
from bhtest import free_port, wait_until
from smtpclient import make_message, send_raw
from trusthelp import (FAX_RCPT, TENANTS, TrustGateway, assert_reply, good_headers,
                       m365_connector, swaks)

TENANT = {"id": T1, "name": "Contoso", "domains": ["contoso.test"]}


@pytest.fixture
def api(admin_gateway):
    gw, api = admin_gateway()
    return api


def make_tenant(api, tenant=TENANT):
    return expect(api.post("/v1/tenants", json=tenant), 201)


# ---------------------------------------------------------------- authentication

def test_requests_without_a_valid_token_are_401(api):
    r = api.get("/v1/tenants", token=None)
    expect(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    for wrong in ("nonsense", "bh_0123456789abcdef_" + "0" * 64, api.admin_token[:-1] + "x",
                  api.admin_token + "0"):
        r = api.get("/v1/tenants", token=wrong)
        expect(r, 401, "unauthorized")
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"], r.headers
    r = api.get("/v1/tenants", token=None, headers={"Authorization": "Basic " + api.admin_token})
    expect(r, 401, "unauthorized")
    expect(api.get("/v1/tenants"), 200)


def test_request_log_names_token_but_never_the_secret(api):
    expect(api.get("/v1/tenants"), 200)
    token_id = api.admin_token.split("_")[1]
    line = api.gw.wait_event("admin_request", path="/v1/tenants", status=200)
    assert line["token"] == token_id and line["method"] == "GET", line
    assert api.admin_token.split("_")[2] not in api.gw.log_text()


def test_revoked_token_is_refused(api):
    token = api.token("read")
    expect(api.get("/v1/tenants", token=token), 200)
    token_id = token.split("_")[1]
    listed = api.gw.cli("token", "list")
    assert listed.returncode == 0 and token_id in listed.stdout, listed
    assert token.split("_")[2] not in listed.stdout, "token list must not show secrets"
    r = api.gw.cli("token", "revoke", token_id)
    assert r.returncode == 0, r.stdout + r.stderr
    expect(api.get("/v1/tenants", token=token), 401, "unauthorized")
    r = api.gw.cli("token", "revoke", token_id)
    assert r.returncode == 1 and "no token" in r.stderr, r


def test_token_create_refuses_bad_arguments(api):
    r = api.gw.cli("token", "create", "--scope", "root")
    assert r.returncode != 0, r
    r = api.gw.cli("token", "create", "--scope", "read", "--tenant", "not-a-guid")
    assert r.returncode == 1 and "not a tenant id" in r.stderr, r


def test_read_token_cannot_write(api):
    reader = api.token("read")
    expect(api.post("/v1/tenants", token=reader, json=TENANT), 403, "forbidden")
    expect(api.get(f"/v1/tenants/{T1}", token=reader), 404, "not_found")  # nothing was made
    writer = api.token("write")
    expect(api.post("/v1/tenants", token=writer, json=TENANT), 201)
    expect(api.get(f"/v1/tenants/{T1}", token=reader), 200)


def test_tenant_token_sees_only_its_tenant(api):
    make_tenant(api)
    make_tenant(api, {"id": T2, "name": "Fabrikam", "domains": ["fabrikam.test"]})
    expect(api.post("/v1/users", json={"address": "eve@fabrikam.test", "tenant": T2}), 201)
    expect(api.post("/v1/users", json={"address": "al@contoso.test", "tenant": T1}), 201)
    mine = api.token("write", tenant=T1)
    tenants = expect(api.get("/v1/tenants", token=mine), 200)["tenants"]
    assert [t["id"] for t in tenants] == [T1]
    expect(api.get(f"/v1/tenants/{T2}", token=mine), 404, "not_found")
    expect(api.put(f"/v1/tenants/{T2}", token=mine, json={"name": "x"}), 404, "not_found")
    expect(api.delete(f"/v1/tenants/{T2}", token=mine), 404, "not_found")
    expect(api.put(f"/v1/tenants/{T2}/directory", token=mine,
                   json={"tenant": {}, "users": []}), 404, "not_found")
    expect(api.get("/v1/users/eve@fabrikam.test", token=mine), 404, "not_found")
    expect(api.delete("/v1/users/eve@fabrikam.test", token=mine), 404, "not_found")
    expect(api.get(f"/v1/users?tenant={T2}", token=mine), 404, "not_found")
    users = expect(api.get("/v1/users", token=mine), 200)["users"]
    assert [u["address"] for u in users] == ["al@contoso.test"]
    # Its own tenant is the default for what it creates.
    expect(api.post("/v1/users", token=mine, json={"address": "bo@contoso.test"}), 201)
    r = api.post("/v1/users", token=mine, json={"address": "mal@fabrikam.test", "tenant": T2})
    assert expect(r, 400, "invalid") and field_errors(r) == {"tenant": "no such tenant"}
    expect(api.get("/v1/users/eve@fabrikam.test"), 200)  # untouched


# ---------------------------------------------------------------- CRUD

def test_tenant_crud(api):
    r = api.post("/v1/tenants", json={"id": T1.upper(), "name": "Contoso",
                                      "domains": ["Contoso.TEST", "contoso.test"]})
    created = expect(r, 201)
    assert r.headers["Location"] == f"/v1/tenants/{T1}"
    assert created == {"id": T1, "name": "Contoso", "domains": ["contoso.test"]}
    expect(api.post("/v1/tenants", json=TENANT), 409, "conflict")
    assert expect(api.get(f"/v1/tenants/{T1}"), 200) == created
    changed = expect(api.put(f"/v1/tenants/{T1}", json={"name": "Contoso Ltd",
                                                        "domains": ["contoso.test", "c.test"]}), 200)
    assert changed["name"] == "Contoso Ltd" and changed["domains"] == ["c.test", "contoso.test"]
    assert expect(api.get(f"/v1/tenants/{T1}"), 200) == changed
    expect(api.put(f"/v1/tenants/{T1}", json={"id": T2, "name": "x"}), 400, "invalid")
    expect(api.put(f"/v1/tenants/{T2}", json={"name": "x"}), 404, "not_found")
    listed = expect(api.get("/v1/tenants"), 200)
    assert listed == {"tenants": [changed], "next": None}
    expect(api.delete(f"/v1/tenants/{T1}"), 204)
    expect(api.get(f"/v1/tenants/{T1}"), 404, "not_found")
    expect(api.delete(f"/v1/tenants/{T1}"), 404, "not_found")


def test_user_crud(api):
    make_tenant(api)
    user = {"address": "Alice@Contoso.test", "tenant": T1, "display_name": "Alice",
            "aliases": ["a@contoso.test"], "fax_numbers": ["+49 30 1234567"],
            "mobile_numbers": [], "permissions": ["fax", "sms"], "send_as": []}
    r = api.post("/v1/users", json=user)
    created = expect(r, 201)
    assert r.headers["Location"] == "/v1/users/alice@contoso.test"
    assert created["address"] == "alice@contoso.test"
    assert created["fax_numbers"] == ["+49301234567"]
    expect(api.post("/v1/users", json={**user, "aliases": []}), 409, "conflict")
    assert expect(api.get("/v1/users/alice@contoso.test"), 200) == created
    assert expect(api.get("/v1/users/ALICE@contoso.test"), 200) == created
    assert expect(api.get("/v1/users/a@contoso.test"), 200) == created  # by alias
    expect(api.delete("/v1/users/a@contoso.test"), 404, "not_found")  # changes: primary only
    changed = expect(api.put("/v1/users/alice@contoso.test",
                             json={"display_name": "Alice B", "permissions": ["fax"]}), 200)
    assert changed["permissions"] == ["fax"] and changed["aliases"] == [], changed
    assert expect(api.get("/v1/users/alice@contoso.test"), 200) == changed
    r = api.post("/v1/users", json={"address": "x@elsewhere.test", "tenant": T1})
    assert expect(r, 400, "invalid") and "address" in field_errors(r)
    listed = expect(api.get(f"/v1/users?tenant={T1}"), 200)
    assert listed == {"users": [changed], "next": None}
    expect(api.delete("/v1/users/alice@contoso.test"), 204)
    expect(api.get("/v1/users/alice@contoso.test"), 404, "not_found")
    expect(api.put("/v1/users/alice@contoso.test", json={}), 404, "not_found")


def test_number_crud(api):
    make_tenant(api)
    expect(api.post("/v1/users", json={"address": "desk@contoso.test", "tenant": T1}), 201)
    number = {"number": "+49 (30) 555-0100", "tenant": T1, "mailbox": "desk@contoso.test",
              "service": "fax", "description": "front desk"}
    r = api.post("/v1/numbers", json=number)
    created = expect(r, 201)
    assert created["number"] == "+49305550100"
    assert r.headers["Location"] == "/v1/numbers/+49305550100"
    expect(api.post("/v1/numbers", json=number), 409, "conflict")
    assert expect(api.get("/v1/numbers/+49305550100"), 200) == created
    assert expect(api.get("/v1/numbers/%2B49%2030%205550100"), 200) == created
    changed = expect(api.put("/v1/numbers/+49305550100",
                             json={"mailbox": "desk@contoso.test", "description": "desk"}), 200)
    assert changed["description"] == "desk" and changed["service"] == ""
    r = api.put("/v1/numbers/+49305550100", json={"mailbox": "nobody@contoso.test"})
    assert expect(r, 400, "invalid") and "mailbox" in field_errors(r)
    assert expect(api.get(f"/v1/numbers?tenant={T1}"), 200) == {"numbers": [changed], "next": None}
    expect(api.get("/v1/numbers/12"), 400, "invalid")
    expect(api.delete("/v1/numbers/+49305550100"), 204)
    expect(api.get("/v1/numbers/+49305550100"), 404, "not_found")


def test_paging(api):
    ids = sorted(f"{i:08x}-0000-4000-8000-000000000000" for i in range(1, 8))
    for i, tenant in enumerate(ids):
        make_tenant(api, {"id": tenant, "name": f"t{i}", "domains": [f"t{i}.test"]})
    seen, after, pages = [], None, 0
    while True:
        query = "?limit=3" + (f"&after={after}" if after else "")
        page = expect(api.get("/v1/tenants" + query), 200)
        pages += 1
        assert len(page["tenants"]) <= 3
        seen += [t["id"] for t in page["tenants"]]
        after = page["next"]
        if after is None:
            break
        assert after == page["tenants"][-1]["id"]
    assert seen == ids and pages == 3, (seen, pages)
    for bad in ("limit=0", "limit=1001", "limit=x", "limit=3&limit=4", "colour=red"):
        expect(api.get("/v1/tenants?" + bad), 400, "invalid")


# ---------------------------------------------------------------- bad input

def test_bad_json_is_400_with_the_position(api):
    r = api.post("/v1/tenants", data=b'{\n "id": "x",\n "name": }',
                 headers={"Content-Type": "application/json"})
    body = expect(r, 400, "bad_json")
    assert "line 3, column" in body["error"]["message"], body
    expect(api.post("/v1/tenants", data=b"", headers={"Content-Type": "application/json"}), 400,
           "bad_json")
    expect(api.post("/v1/tenants", data=b'{"id": "\xff"}',
                    headers={"Content-Type": "application/json"}), 400, "bad_json")
    expect(api.post("/v1/tenants", data=b"{}", headers={"Content-Type": "text/plain"}), 415,
           "unsupported_media_type")
    expect(api.get("/v1/tenants"), 200)
    assert expect(api.get("/v1/tenants"), 200)["tenants"] == []


def test_unknown_fields_wrong_types_and_invalid_values_are_all_named(api):
    r = api.post("/v1/tenants", json={"id": "not-a-guid", "name": 7, "colour": "red"})
    expect(r, 400, "invalid")
    assert set(field_errors(r)) == {"id", "name", "colour"}, r.text
    r = api.post("/v1/tenants", json={"id": "not-a-guid", "domains": ["ok.test", "bad domain"]})
    expect(r, 400, "invalid")
    assert set(field_errors(r)) == {"id", "domains[1]"}, r.text
    expect(api.get("/v1/tenants/not-a-guid"), 400, "invalid")
    expect(api.post("/v1/tenants", json=[TENANT]), 400, "invalid")
    assert expect(api.get("/v1/tenants"), 200)["tenants"] == []


def test_unknown_path_and_method(api):
    expect(api.get("/v1/nothing"), 404, "not_found")
    r = api.call("PATCH", f"/v1/tenants/{T1}")
    expect(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "DELETE, GET, PUT", r.headers


def test_oversized_body_is_413(admin_gateway):
    gw, api = admin_gateway(admin={"max_body_bytes": 4096})
    big = {"id": T1, "name": "x" * 5000}
    expect(api.post("/v1/tenants", json=big), 413, "body_too_large")
    # Chunked, without a Content-Length: the limit holds as well.
    chunks = (c for c in [b'{"id": "' + T1.encode() + b'", "name": "', b"y" * 5000, b'"}'])
    expect(api.post("/v1/tenants", data=chunks, headers={"Content-Type": "application/json"}), 413,
           "body_too_large")
    assert expect(api.get("/v1/tenants"), 200)["tenants"] == []


def test_header_limit_keep_alive_and_bad_query(api):
    r = api.get("/v1/tenants", headers={"X-Big": "x" * 20000})
    expect(r, 431, "header_too_large")
    expect(api.get("/v1/tenants?after=%ff"), 400, "bad_request")
    expect(api.get("/v1/users/a%00b@contoso.test"), 400, "bad_request")
    # Two requests on one connection, the second after the first's answer.
    request = (f"GET /v1/tenants HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {api.admin_token}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as s:
        answers = []
        for _ in range(2):
            s.sendall(request)
            data = b""
            while b'"next":null}' not in data:
                chunk = s.recv(65536)
                assert chunk, data
                data += chunk
            answers.append(data)
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 400"), "malformed requests get a 400"


def test_connection_limit(admin_gateway):
    gw, api = admin_gateway(admin={"max_connections": 2})
    held = [socket.create_connection(("127.0.0.1", api.port), timeout=10) for _ in range(2)]
    try:
        time.sleep(0.3)  # both accepted
        with socket.create_connection(("127.0.0.1", api.port), timeout=10) as extra:
            extra.sendall(b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                assert extra.recv(1024) == b"", "a connection over the limit is closed"
            except ConnectionResetError:
                pass
        gw.wait_event("admin_refused", limit=2)
    finally:
        for s in held:
            s.close()

    def served():
        try:  # until the server has noticed the closed connections
            return api.get("/v1/tenants").status_code == 200
        except requests.exceptions.ConnectionError:
            return False
    assert wait_until(served, 10)


# ---------------------------------------------------------------- the push

def _users(n):
    return [{"address": f"user{i}@contoso.test", "display_name": f"User {i}",
             "fax_numbers": [f"+49 30 55501{i:02d}"], "permissions": ["fax"]} for i in range(n)]


@pytest.fixture
def trust_admin(make_gateway):
    """The M365 set-up of the trust tests (contoso's Exchange connector, tenants T1/T2) with an
    empty directory and the admin API."""
    port = free_port()
    gw = make_gateway(cls=TrustGateway, directory=True, inbound_connectors=[m365_connector()],
                      tenants=TENANTS, extra_toml=admin_toml(port))
    return gw, Api(gw, port)


def test_push_is_seen_by_the_policy_at_once(trust_admin):
    gw, api = trust_admin
    refused = swaks(gw, sender="user3@contoso.test", headers=good_headers(), subject="before")
    assert_reply(refused.final, 550, "5.7.1", where=refused.out)

    push = {"tenant": {"name": "Contoso", "domains": ["contoso.test", "contoso.onmicrosoft.com"]},
            "users": _users(10),
            "numbers": [{"number": "+49 30 5550999", "mailbox": "user0@contoso.test",
                         "service": "fax"}]}
    answer = expect(api.put(f"/v1/tenants/{T1}/directory", json=push), 200)
    assert answer["tenant"] == T1 and answer["users"] == 10 and answer["numbers"] == 1, answer
    version = answer["version"]

    # No wait: the answer came after the cache was refreshed.
    run = swaks(gw, sender="user3@contoso.test", headers=good_headers(), subject="after push")
    assert_reply(run.final, 250, "2.0.0", where=run.out)
    assert b"Subject: after push" in gw.wait_delivered(run.qid())

    # One bad number: 400 naming it, and the previous directory stays in force.
    bad = {**push, "users": _users(10)}
    bad["users"][4]["fax_numbers"] = ["+49 30 nonsense"]
    bad["users"] = bad["users"][:9]  # would also drop user9
    r = api.put(f"/v1/tenants/{T1}/directory", json=bad)
    expect(r, 400, "invalid")
    assert list(field_errors(r)) == ["users[4].fax_numbers[0]"], r.text
    users = expect(api.get(f"/v1/users?tenant={T1}&limit=100"), 200)["users"]
    assert len(users) == 10
    assert expect(api.get("/v1/users/user4@contoso.test"), 200)["fax_numbers"] == ["+49305550104"]
    run = swaks(gw, sender="user9@contoso.test", headers=good_headers(), subject="still there")
    assert_reply(run.final, 250, "2.0.0", where=run.out)

    # A second good push replaces the whole tenant: user9 goes, its mail is refused.
    smaller = {**push, "users": _users(9)}
    answer = expect(api.put(f"/v1/tenants/{T1}/directory", json=smaller), 200)
    assert answer["users"] == 9 and answer["version"] > version, answer
    run = swaks(gw, sender="user9@contoso.test", headers=good_headers(), subject="gone")
    assert_reply(run.final, 550, "5.7.1", where=run.out)
    expect(api.get("/v1/users/user9@contoso.test"), 404, "not_found")


def test_push_names_every_bad_field(api):
    push = {"tenant": {"id": T1, "domains": ["contoso.test"], "colour": 1},
            "users": [{"address": "a@contoso.test", "fax_numbers": [5]},
                      {"address": "b@other.test"}, {"address": "a@contoso.test"},
                      {"address": "c@contoso.test", "mobile_numbers": ["+1 555"]}],
            "numbers": [{"number": "+49 30 5550999", "mailbox": "nobody@contoso.test"}]}
    r = api.put(f"/v1/tenants/{T1}/directory", json=push)
    expect(r, 400, "invalid")
    assert set(field_errors(r)) == {"tenant.colour", "users[0].fax_numbers[0]", "users[1].address",
                                    "users[2].address", "users[3].mobile_numbers[0]",
                                    "numbers[0].mailbox"}, r.text
    expect(api.get(f"/v1/tenants/{T1}"), 404, "not_found")
    expect(api.put("/v1/tenants/not-a-guid/directory", json={"tenant": {}}), 400, "invalid")
    expect(api.put(f"/v1/tenants/{T1}/directory", json={"users": []}), 400, "invalid")


# ---------------------------------------------------------------- cross-tenant holes (review)

FABRIKAM = {"id": T2, "name": "Fabrikam", "domains": ["fabrikam.test"]}


def test_tenant_token_cannot_take_another_tenants_user_number(api):
    make_tenant(api)
    make_tenant(api, FABRIKAM)
    expect(api.post("/v1/users", json={"address": "eve@fabrikam.test", "permissions": ["fax"],
                                       "fax_numbers": ["+49 30 5550111"],
                                       "mobile_numbers": ["+49 151 23456789"], "tenant": T2}), 201)
    expect(api.post("/v1/users", json={"address": "al@contoso.test", "tenant": T1}), 201)
    mine = api.token("write", tenant=T1)
    for number in ("+49 30 5550111", "+49 151 23456789"):
        r = api.post("/v1/numbers", token=mine,
                     json={"number": number, "mailbox": "al@contoso.test", "service": "fax"})
        expect(r, 409, "conflict")
        # Taken, but by whom is another tenant's business: eve is not named.
        message = r.json()["error"]["message"]
        assert "another tenant" in message and "eve" not in message, r.text
    # Not even the tenant's own user's number: the owner stays the user.
    expect(api.post("/v1/users", json={"address": "bo@contoso.test", "tenant": T1,
                                       "fax_numbers": ["+49 30 5550222"]}), 201)
    expect(api.post("/v1/numbers", token=mine, json={"number": "+49 30 5550222",
                                                     "mailbox": "al@contoso.test"}), 409, "conflict")
    eve = expect(api.get("/v1/users/eve@fabrikam.test"), 200)
    assert eve["fax_numbers"] == ["+49305550111"] and eve["mobile_numbers"] == ["+4915123456789"]
    expect(api.get("/v1/numbers/+49305550111"), 404, "not_found")
    # eve's tenant can still push her with her numbers (the owner index names her).
    push = {"tenant": {"name": "Fabrikam"},
            "users": [{"address": "eve@fabrikam.test", "fax_numbers": ["+49 30 5550111"]}]}
    expect(api.put(f"/v1/tenants/{T2}/directory", json=push), 200)


def test_domains_belong_to_one_tenant_and_tenant_tokens_cannot_change_them(api):
    make_tenant(api)
    make_tenant(api, FABRIKAM)
    mine = api.token("write", tenant=T1)
    # A tenant-scoped token may not claim another tenant's domain, nor change its own.
    r = api.put(f"/v1/tenants/{T1}", token=mine,
                json={"name": "Contoso", "domains": ["contoso.test", "fabrikam.test"]})
    expect(r, 403, "forbidden")
    assert "domains" in r.json()["error"]["message"], r.text
    push = {"tenant": {"name": "Contoso", "domains": ["fabrikam.test"]},
            "users": [{"address": "eve@fabrikam.test", "permissions": ["fax"]}]}
    r = api.put(f"/v1/tenants/{T1}/directory", token=mine, json=push)
    expect(r, 403, "forbidden")
    assert "tenant.domains" in r.json()["error"]["message"], r.text
    assert expect(api.get(f"/v1/tenants/{T1}"), 200)["domains"] == ["contoso.test"]
    # Omitted domains keep the stored ones: the token may rename and push.
    renamed = expect(api.put(f"/v1/tenants/{T1}", token=mine, json={"name": "Contoso Ltd"}), 200)
    assert renamed["domains"] == ["contoso.test"], renamed
    push = {"tenant": {"name": "Contoso"},
            "users": [{"address": "al@contoso.test", "permissions": ["fax"]}]}
    expect(api.put(f"/v1/tenants/{T1}/directory", token=mine, json=push), 200)
    push["users"].append({"address": "eve@fabrikam.test"})  # not in the stored domains
    expect(api.put(f"/v1/tenants/{T1}/directory", token=mine, json=push), 400, "invalid")
    # A token for all tenants may change domains, but not to another tenant's.
    r = api.put(f"/v1/tenants/{T1}", json={"name": "Contoso", "domains": ["fabrikam.test"]})
    expect(r, 409, "conflict")
    assert T2 in r.json()["error"]["message"], r.text
    expect(api.post("/v1/tenants", json={"id": "0b0b0b0b-1111-4222-8333-444444444444",
                                         "domains": ["fabrikam.test"]}), 409, "conflict")
    changed = expect(api.put(f"/v1/tenants/{T1}", json={"domains": ["contoso.test", "c.test"]}),
                     200)
    assert changed["domains"] == ["c.test", "contoso.test"]
    assert expect(api.get(f"/v1/tenants/{T2}"), 200)["domains"] == ["fabrikam.test"]


def test_send_as_outside_the_tenants_domains_is_refused(api):
    make_tenant(api)
    user = {"address": "al@contoso.test", "tenant": T1, "send_as": ["eve@fabrikam.test"]}
    r = api.post("/v1/users", json=user)
    expect(r, 400, "invalid")
    assert list(field_errors(r)) == ["send_as[0]"], r.text
    push = {"tenant": {"name": "Contoso"}, "users": [user]}
    r = api.put(f"/v1/tenants/{T1}/directory", json=push)
    expect(r, 400, "invalid")
    assert list(field_errors(r)) == ["users[0].send_as[0]"], r.text
    user["send_as"] = ["shared@contoso.test"]
    expect(api.post("/v1/users", json=user), 201)


def test_tenant_without_domains_restricts_no_addresses_in_both_paths(api):
    expect(api.post("/v1/tenants", json={"id": T1, "name": "Imported"}), 201)
    expect(api.post("/v1/users", json={"address": "al@anything.test", "tenant": T1}), 201)
    push = {"tenant": {"name": "Imported"}, "users": [{"address": "al@anything.test"},
                                                      {"address": "bo@else.test"}]}
    expect(api.put(f"/v1/tenants/{T1}/directory", json=push), 200)


def test_configured_tenants_domains_are_refused_for_other_tenants(trust_admin):
    gw, api = trust_admin  # [[tenant]] T1 contoso.test, T2 fabrikam.test
    t3 = "0b0b0b0b-1111-4222-8333-444444444444"
    r = api.post("/v1/tenants", json={"id": t3, "domains": ["fabrikam.test"]})
    expect(r, 409, "conflict")
    assert T2 in r.json()["error"]["message"], r.text
    r = api.put(f"/v1/tenants/{t3}/directory",
                json={"tenant": {"domains": ["contoso.test"]}, "users": []})
    expect(r, 409, "conflict")
    expect(api.get(f"/v1/tenants/{t3}"), 404, "not_found")
    # Nor may a tenant without domains take addresses in a configured tenant's domains.
    r = api.put(f"/v1/tenants/{t3}/directory",
                json={"tenant": {}, "users": [{"address": "ceo@contoso.test"}]})
    expect(r, 409, "conflict")
    assert T1 in r.json()["error"]["message"], r.text
    expect(api.post("/v1/tenants", json={"id": t3}), 201)
    expect(api.post("/v1/users", json={"address": "ceo@contoso.test", "tenant": t3}), 409,
           "conflict")
    expect(api.get("/v1/users/ceo@contoso.test"), 404, "not_found")
    # The configured tenant itself may have its domains in the directory.
    expect(api.put(f"/v1/tenants/{T2}/directory",
                   json={"tenant": {"domains": ["fabrikam.test"]}, "users": []}), 200)


# ---------------------------------------------------------------- queue

def test_queue_endpoints(admin_gateway, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")  # the file connector cannot deliver: deferred
    gw, api = admin_gateway(outdir=afile / "out")
    qid = send_raw(gw.port, make_message("queued"), rcpts=("x@example.test",),
                   sender="s@origin.test")

    def state():
        for m in expect(api.get("/v1/queue"), 200)["messages"]:
            if m["id"] == qid:
                return m
        return None
    assert wait_until(lambda: (state() or {}).get("state") == "deferred", 15), state()
    listed = state()
    assert listed["sender"] == "s@origin.test" and listed["recipients"] == ["x@example.test"]
    assert isinstance(listed["next_attempt"], int) and listed["next_attempt"] > 0, listed
    deferred = expect(api.get("/v1/queue?state=deferred"), 200)["messages"]
    assert [m["id"] for m in deferred] == [qid]
    shown = expect(api.get(f"/v1/queue/{qid}"), 200)
    assert shown["state"] == "deferred" and "Subject: queued" in shown["header"], shown
    assert expect(api.post(f"/v1/queue/{qid}/hold"), 200)["state"] == "hold"
    expect(api.post(f"/v1/queue/{qid}/retry"), 409, "wrong_state")
    assert expect(api.post(f"/v1/queue/{qid}/release"), 200)["from"] == "hold"
    assert expect(api.post("/v1/queue/flush"), 200)["scheduled"] >= 0
    reader = api.token("read")
    expect(api.delete(f"/v1/queue/{qid}", token=reader), 403, "forbidden")
    assert wait_until(lambda: (state() or {}).get("state") in ("deferred", "hold"), 15), state()
    if state()["state"] == "deferred":
        expect(api.post(f"/v1/queue/{qid}/hold"), 200)
    expect(api.delete(f"/v1/queue/{qid}"), 204)
    expect(api.get(f"/v1/queue/{qid}"), 404, "not_found")
    expect(api.get("/v1/queue/..%2F..%2Fetc"), 404, "not_found")
    expect(api.get("/v1/queue?state=lost"), 400, "invalid")


def test_queue_pages_and_operator_scope(admin_gateway, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")  # the file connector cannot deliver: deferred
    gw, api = admin_gateway(outdir=afile / "out")
    qids = [send_raw(gw.port, make_message(f"m{i}"), rcpts=("x@example.test",),
                     sender="s@origin.test") for i in range(3)]

    def listed():
        return [m["id"] for m in expect(api.get("/v1/queue?state=deferred"), 200)["messages"]]
    assert wait_until(lambda: len(listed()) == 3, 15), listed()

    # Pages in id order, `next` is the last id of a full page with more after it.
    first = expect(api.get("/v1/queue?state=deferred&limit=2"), 200)
    assert [m["id"] for m in first["messages"]] == sorted(qids)[:2], first
    assert first["next"] == sorted(qids)[1], first
    second = expect(api.get(f"/v1/queue?state=deferred&limit=2&after={first['next']}"), 200)
    assert [m["id"] for m in second["messages"]] == sorted(qids)[2:], second
    assert second["next"] is None, second
    assert expect(api.get("/v1/queue"), 200)["next"] is None
    for bad in ("limit=0", "limit=1001", "limit=x", "after=..%2Fetc", "after=a"):
        expect(api.get(f"/v1/queue?{bad}"), 400, "invalid")

    # A tenant's token sees none of these (their envelopes have no tenant).
    tenant_reader = api.token("read", tenant=T1)
    page = expect(api.get("/v1/queue?limit=1", token=tenant_reader), 200)
    assert page["messages"] == [], page

    # Changing the queue is an operator's action: a write token may not.
    writer = api.token("write")
    qid = qids[0]
    expect(api.post(f"/v1/queue/{qid}/hold", token=writer), 403, "forbidden")
    expect(api.post(f"/v1/queue/{qid}/release", token=writer), 403, "forbidden")
    expect(api.post(f"/v1/queue/{qid}/retry", token=writer), 403, "forbidden")
    expect(api.post("/v1/queue/flush", token=writer), 403, "forbidden")
    expect(api.delete(f"/v1/queue/{qid}", token=writer), 403, "forbidden")
    assert expect(api.get(f"/v1/queue/{qid}", token=writer), 200)["state"] == "deferred"
    assert expect(api.post(f"/v1/queue/{qid}/hold"), 200)["state"] == "hold"


# ---------------------------------------------------------------- TLS and configuration

def test_tls_listener(make_gateway, pki):
    port = free_port()
    toml = admin_toml(port, certificate=str(pki.server), private_key=str(pki.server_key))
    gw = make_gateway(extra_toml=toml)
    api = Api(gw, port, scheme="https", verify=str(pki.ca))
    expect(api.get("/v1/tenants"), 200)
    expect(api.get("/v1/tenants", token=None), 401, "unauthorized")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/v1/tenants", timeout=10)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://127.0.0.1:{port}/v1/tenants", timeout=10, verify=True)


def test_config_needs_tls_off_loopback(make_gateway):
    gw = make_gateway(start=False, extra_toml='\n[admin]\nlisten = "0.0.0.0:8025"\n')
    gw.write_config()
    r = subprocess.run([str(gw.binary), "check-config", "-c", str(gw.config)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "admin.listen" in r.stderr and "TLS" in r.stderr, r
