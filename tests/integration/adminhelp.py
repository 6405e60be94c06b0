"""Helpers for the admin API tests (docs/api.md): a gateway with an [admin] table, its
first-start admin token, tokens made with `bridgehead token create`, and calls through
`requests`."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from bhtest import free_port, wait_until

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
T2 = "9f8e7d6c-5b4a-4321-8fed-cba987654321"


def admin_toml(port: int, **extra) -> str:
    lines = ["", "[admin]", f'listen = "127.0.0.1:{port}"', 'token_file = "admin-token"']
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str)
                     else f"{key} = {value}")
    return "\n".join(lines) + "\n"


class Api:
    """Calls to one gateway's admin API; token defaults to the first-start admin token."""

    def __init__(self, gw, port: int, scheme: str = "http", verify=True):
        self.gw = gw
        self.port = port
        self.base = f"{scheme}://127.0.0.1:{port}"
        self.verify = verify
        self.session = requests.Session()
        token_file = Path(gw.tmp) / "admin-token"
        assert wait_until(token_file.exists, 10), f"no admin-token file:\n{gw.log_text()[-3000:]}"
        self.admin_token = token_file.read_text().strip()

    def call(self, method: str, path: str, token: str | None = "", **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token == "":
            token = self.admin_token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base + path, headers=headers, timeout=30,
                                    verify=self.verify, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def token(self, scope: str, tenant: str | None = None, description: str = "test") -> str:
        args = ["token", "create", "--scope", scope, "--description", description]
        if tenant:
            args += ["--tenant", tenant]
        r = self.gw.cli(*args)
        assert r.returncode == 0, f"token create failed: {r.stdout}{r.stderr}"
        return r.stdout.strip()


def expect(r: requests.Response, status: int, code: str | None = None) -> dict | None:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    if status == 204:
        assert r.content == b"", r.content
        return None
    body = r.json()
    if code is not None:
        assert body["error"]["status"] == status, body
        assert body["error"]["code"] == code, body
    return body


def field_errors(r: requests.Response) -> dict[str, str]:
    return {f["field"]: f["message"] for f in r.json()["error"].get("fields", [])}


@pytest.fixture
def admin_gateway(make_gateway):
    """Factory: admin_gateway(admin={extra [admin] keys}, cls=Gateway, **overrides) -> (gw, Api)."""

    def factory(admin=None, **overrides):
        port = free_port()
        overrides["extra_toml"] = overrides.get("extra_toml", "") + admin_toml(port, **(admin or {}))
        gw = make_gateway(**overrides)
        return gw, Api(gw, port)

    return factory
