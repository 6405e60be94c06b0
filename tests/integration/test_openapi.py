"""docs/api/openapi.yaml describes the running server: every call of this test is checked
against the document (the path and method must be documented, the status among the
operation's responses, a JSON answer valid against its schema with $ref resolved, a request
body that succeeded valid against the request schema), and the test fails for any documented
operation it did not exercise. Operations marked x-placeholder (the trace's and metrics'
entries until they are completed) are exempt."""
from __future__ import annotations

import re

import jsonschema
import pytest
import yaml

from adminhelp import T1, Api, admin_toml
from bhtest import REPO_ROOT, free_port, wait_until
from smtpclient import make_message, send_raw
from test_fax_ingest import fax_connector, make_two_page_tiff

SPEC_PATH = REPO_ROOT / "docs" / "api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch")


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def resolve(node, spec, names=False):
    """The node with every $ref inlined and OpenAPI's nullable turned into JSON Schema
    (names: node maps property or header names, which are kept whatever they are)."""
    if isinstance(node, list):
        return [resolve(x, spec) for x in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: resolve(v, spec) for k, v in node.items()}
    if "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return resolve(target, spec)
    out = {k: resolve(v, spec, names=k in ("properties", "headers", "content", "responses"))
           for k, v in node.items()
           if k not in ("nullable", "description", "example") and not k.startswith("x-")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.operations = {}
        for template, item in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
            for method in METHODS:
                if method in item:
                    self.operations[(template, method)] = (pattern, item[method])
        self.exercised = set()

    def find(self, path, method):
        for (template, m), (pattern, op) in self.operations.items():
            if m == method and pattern.match(path):
                return template, op
        raise AssertionError(f"{method.upper()} {path} is not documented in {SPEC_PATH.name}")

    def check(self, method, path, response, sent_json=None):
        template, op = self.find(path.split("?")[0], method.lower())
        where = f"{method} {path} -> {response.status_code} {response.text[:500]}"
        documented = op.get("responses", {})
        assert str(response.status_code) in documented, f"status not documented: {where}"
        answer = resolve(documented[str(response.status_code)], self.spec)
        content = answer.get("content", {})
        if response.status_code == 204:
            assert response.content == b"" and not content, where
        elif "application/json" in content:
            assert response.headers["Content-Type"].startswith("application/json"), where
            jsonschema.validate(response.json(), content["application/json"]["schema"])
        for header in answer.get("headers", {}):
            assert header in response.headers, f"documented header {header} missing: {where}"
        if sent_json is not None and 200 <= response.status_code < 300:
            body = resolve(op["requestBody"], self.spec)["content"]["application/json"]["schema"]
            jsonschema.validate(sent_json, body)
        self.exercised.add((template, method.lower()))

    def missing(self):
        return sorted(f"{m.upper()} {t}" for (t, m), (_, op) in self.operations.items()
                      if (t, m) not in self.exercised and not op.get("x-placeholder"))


class CheckedApi(Api):
    def __init__(self, gw, port, checker):
        super().__init__(gw, port)
        self.checker = checker

    def call(self, method, path, token="", **kw):
        r = super().call(method, path, token=token, **kw)
        self.checker.check(method, path, r, kw.get("json"))
        return r


def test_spec_is_well_formed():
    spec = load_spec()
    assert spec["openapi"].startswith("3.0")
    checker = Checker(spec)
    for (template, method), (_, op) in checker.operations.items():
        assert op.get("operationId"), f"{method} {template} has no operationId"
        for status, answer in op["responses"].items():
            resolved = resolve(answer, spec)
            for media in resolved.get("content", {}).values():
                jsonschema.Draft7Validator.check_schema(media["schema"])
    for name, schema in spec["components"]["schemas"].items():
        jsonschema.Draft7Validator.check_schema(resolve(schema, spec))


def test_running_server_matches_the_document(make_gateway, tmp_path):
    checker = Checker(load_spec())
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")  # deliveries fail: messages wait in deferred/
    port = free_port()
    # A fax connector, so that POST /v1/ingest/fax exists (its mail waits in deferred/ too).
    gw = make_gateway(outdir=afile / "out", extra_toml=admin_toml(port, max_body_bytes=65536),
                      routes=[{"domains": ["example.test", "contoso.test"], "connector": "files"}],
                      connectors=[{"name": "files", "type": "file", "directory": afile / "out"},
                                  fax_connector(tmp_path / "fax-spool")])
    api = CheckedApi(gw, port, checker)
    tenant = {"id": T1, "name": "Contoso", "domains": ["contoso.test"]}
    user = {"address": "alice@contoso.test", "tenant": T1, "display_name": "Alice",
            "fax_numbers": ["+49 30 5550100"], "permissions": ["fax"]}
    number = {"number": "+49 30 5550199", "tenant": T1, "mailbox": "alice@contoso.test",
              "service": "fax"}

    def call(status, method, path, **kw):
        r = api.call(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r

    call(401, "GET", "/v1/tenants", token=None)
    call(400, "GET", "/v1/tenants?limit=0")
    call(403, "POST", "/v1/tenants", json=tenant, token=api.token("read"))
    call(201, "POST", "/v1/tenants", json=tenant)
    call(409, "POST", "/v1/tenants", json=tenant)
    call(400, "POST", "/v1/tenants", data=b"{", headers={"Content-Type": "application/json"})
    call(415, "POST", "/v1/tenants", data=b"{}", headers={"Content-Type": "text/plain"})
    call(413, "POST", "/v1/tenants", json={"id": T1, "name": "x" * 70000})
    call(200, "GET", "/v1/tenants?limit=1")
    call(200, "GET", f"/v1/tenants/{T1}")
    call(400, "GET", "/v1/tenants/not-a-guid")
    call(200, "PUT", f"/v1/tenants/{T1}", json={"name": "Contoso Ltd", "domains": ["contoso.test"]})
    call(201, "POST", "/v1/users", json=user)
    call(400, "POST", "/v1/users", json={"address": "bad"})
    call(200, "GET", f"/v1/users?tenant={T1}")
    call(200, "GET", "/v1/users/alice@contoso.test")
    call(404, "GET", "/v1/users/nobody@contoso.test")
    call(200, "PUT", "/v1/users/alice@contoso.test", json={**user, "display_name": "Alice B"})
    call(201, "POST", "/v1/numbers", json=number)
    call(200, "GET", "/v1/numbers")
    call(200, "GET", "/v1/numbers/+49305550199")
    call(200, "PUT", "/v1/numbers/+49305550199", json={**number, "description": "desk"})
    call(204, "DELETE", "/v1/numbers/+49305550199")
    call(204, "DELETE", "/v1/users/alice@contoso.test")
    push = {"tenant": {"name": "Contoso", "domains": ["contoso.test"]},
            "users": [user], "numbers": [number]}
    call(200, "PUT", f"/v1/tenants/{T1}/directory", json=push)
    call(400, "PUT", f"/v1/tenants/{T1}/directory", json={"tenant": {}, "users": [{"address": 1}]})

    # A received fax for alice's number (the push gave it to her).
    tiff = make_two_page_tiff(tmp_path).read_bytes()
    as_tiff = {"Content-Type": "image/tiff"}
    ingest = "/v1/ingest/fax?called=%2B49305550100&caller=%2B4930123456"
    r = call(202, "POST", ingest, data=tiff, headers=as_tiff)
    assert r.json()["mailbox"] == "alice@contoso.test", r.text
    other = api.token("write", tenant="9f8e7d6c-5b4a-4321-8fed-cba987654321")
    call(403, "POST", ingest, data=tiff, headers=as_tiff, token=other)
    call(400, "POST", "/v1/ingest/fax?caller=1", data=tiff, headers=as_tiff)
    call(404, "POST", "/v1/ingest/fax?called=%2B49305550177", data=tiff, headers=as_tiff)
    call(415, "POST", ingest, data=b"text", headers={"Content-Type": "text/plain"})
    call(422, "POST", ingest, data=b"%PDF" + b"\1" * 200, headers=as_tiff)
    call(204, "DELETE", f"/v1/tenants/{T1}")

    qid = send_raw(gw.port, make_message("spec"), rcpts=("x@example.test",))

    def state():
        r = call(200, "GET", "/v1/queue")
        return {m["id"]: m["state"] for m in r.json()["messages"]}.get(qid)
    assert wait_until(lambda: state() == "deferred", 15), state()
    call(200, "GET", "/v1/queue?state=deferred")
    call(200, "GET", f"/v1/queue/{qid}")
    call(200, "POST", f"/v1/queue/{qid}/hold")
    call(409, "POST", f"/v1/queue/{qid}/retry")
    call(200, "POST", f"/v1/queue/{qid}/release")
    assert wait_until(lambda: state() == "deferred", 15), state()
    call(200, "POST", f"/v1/queue/{qid}/retry")
    call(200, "POST", "/v1/queue/flush")
    assert wait_until(lambda: state() == "deferred", 15), state()
    call(204, "DELETE", f"/v1/queue/{qid}")
    call(404, "GET", f"/v1/queue/{qid}")

    # The message trace and the metrics (their author's part).
    assert wait_until(lambda: api.get(f"/v1/messages/{qid}").status_code == 200, 10)
    call(200, "GET", "/v1/messages?sender=sender@origin.test&limit=5")
    call(400, "GET", "/v1/messages?status=lost")
    call(403, "GET", "/v1/messages?tenant=other", token=api.token("read", tenant=T1))
    call(404, "GET", "/v1/messages/NOSUCH")
    call(200, "GET", "/metrics")
    call(403, "GET", "/metrics", token=api.token("read", tenant=T1))

    assert checker.missing() == [], f"documented but not exercised: {checker.missing()}"
