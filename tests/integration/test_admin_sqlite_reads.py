"""The SQLite store while a write is in progress (docs/operations.md "Shared store", docs/api.md
"Concurrency"): reads have read connections of their own, so token checks, /metrics and directory
reads answer while the writer's lock is held, and a push waits for the lock, then answers the
version its own write made.

The lock is held without any timing: a sqlite3 session of the test begins a write transaction
(BEGIN IMMEDIATE) on the gateway's file, which every write of the gateway then waits for, as long
as the test keeps it. "The push has not answered yet" cannot be a race while the test holds it."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from adminhelp import T1, Api, admin_gateway, expect  # noqa: F401


def directory(users: list[str]) -> bytes:
    return json.dumps({"tenant": {"name": "Contoso", "domains": ["contoso.test"]},
                       "users": [{"address": f"{u}@contoso.test", "display_name": u}
                                 for u in users]}).encode()


def user_addresses(api) -> list[str]:
    body = expect(api.get(f"/v1/users?tenant={T1}"), 200)
    return sorted(u["address"] for u in body["users"])


def test_reads_answer_while_the_writer_lock_is_held(admin_gateway):
    # A long statement_timeout: the push waits for the test's lock as long as the test needs.
    gw, api = admin_gateway(extra_toml='\n[store]\nstatement_timeout = 120\n')
    first = expect(api.put(f"/v1/tenants/{T1}/directory", data=directory(["alice"]),
                           headers={"Content-Type": "application/json"}), 200)
    # The first push also brought the admin token's last_used up to date: the token checks below
    # have nothing to write.
    holder = sqlite3.connect(Path(gw.tmp) / "var" / "bridgehead.db", isolation_level=None,
                             timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    pushed: dict = {}
    answered = threading.Event()
    pusher = Api(gw, api.port)  # a session of its own: requests.Session is for one thread

    def push():
        pushed["response"] = pusher.put(f"/v1/tenants/{T1}/directory",
                                        data=directory(["bob", "carol"]),
                                        headers={"Content-Type": "application/json"})
        answered.set()

    api_push = threading.Thread(target=push)
    try:
        api_push.start()
        # While the lock is held: reads answer from what was committed, and the push waits.
        metrics = api.get("/metrics")
        assert metrics.status_code == 200, metrics.text
        tenant = expect(api.get(f"/v1/tenants/{T1}"), 200)
        assert tenant["domains"] == ["contoso.test"], tenant
        assert user_addresses(api) == ["alice@contoso.test"]
        assert not answered.is_set(), pushed
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    api_push.join(60)
    assert answered.is_set(), "the push did not answer after the lock was released"
    second = expect(pushed["response"], 200)
    assert second["version"] == first["version"] + 1, (first, second)
    assert user_addresses(api) == ["bob@contoso.test", "carol@contoso.test"]
