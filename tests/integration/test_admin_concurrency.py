"""The admin API serves requests at once (docs/api.md "Concurrency", issue 9 section 2): token
checks and handlers run on `[admin] workers` threads while the listener's own thread does the I/O,
so a large directory push never stalls /metrics or the other calls; two pushes at once are each
all or nothing; a deadline still ends a request that waits for a worker; a client that leaves and a
stop while a handler runs harm nothing.

Most tests run on a real PostgreSQL server and hold the push inside its transaction without any
timing: a psql session of the test locks the row of directory_version that every directory write
updates first (SELECT ... FOR UPDATE). A push then waits on that lock, which pg_stat_activity
shows, for as long as the test keeps the lock: "the push is being handled" is a fact the test can
see, and "the push has not answered yet" cannot be a race. Committing the test's session lets the
push go on."""
from __future__ import annotations

import http.client
import itertools
import json
import signal
import socket
import subprocess
import threading

import pytest
import requests

from adminhelp import T1, T2, Api, admin_gateway, admin_toml, expect  # noqa: F401
from bhtest import Gateway, free_port, log_events, wait_until
from pghelp import PostgresServer
from test_config import check

USERS = 40_000  # a large tenant: the push's JSON is about 5 MB
DATABASES = itertools.count()


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


def users(n: int, prefix: str = "user", domain: str = "contoso.test", first_number: int = 5550000):
    return [{"address": f"{prefix}{i}@{domain}", "display_name": f"User {i}",
             "fax_numbers": [f"+49 30 {first_number + i}"], "permissions": ["fax"]}
            for i in range(n)]


def push_body(n: int, domain: str = "contoso.test", prefix: str = "user",
              first_number: int = 5550000) -> bytes:
    return json.dumps({"tenant": {"name": domain, "domains": [domain]},
                       "users": users(n, prefix, domain, first_number)}).encode()


class Database:
    """One gateway's PostgreSQL database, and what the test sees in it."""

    def __init__(self, pg: PostgresServer, name: str):
        self.pg = pg
        self.name = name
        self.url = pg.create_database(name)

    def toml(self) -> str:
        # Long store and request timeouts: a push may wait on the test's lock as long as the test
        # needs (the tests of deadlines set their own request_timeout).
        return f'\n[store]\nbackend = "postgresql"\nurl = "{self.url}"\nstatement_timeout = 300\n'

    def pushes_waiting(self) -> int:
        """Directory writes of the gateway waiting for the test's lock on directory_version."""
        return int(self.pg.psql(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE directory_version%'", self.name))


class VersionLock:
    """A psql session that holds the row lock every directory write takes first."""

    def __init__(self, db: Database):
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db.url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write("BEGIN;\nSELECT version FROM directory_version WHERE id = 1 "
                              "FOR UPDATE;\n\\echo locked\n")
        self.proc.stdin.flush()
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if line.strip() == "locked":
                return
        raise AssertionError(f"psql did not take the lock: {''.join(seen)}")

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n\\q\n")
            self.proc.stdin.close()
            assert self.proc.wait(30) == 0, self.proc.stdout.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class Call(threading.Thread):
    """One request on a thread of its own (its own connection); response or error when done."""

    def __init__(self, api: Api, method: str, path: str, body: bytes | None = None, timeout=300):
        super().__init__(daemon=True)
        self.api, self.method, self.path, self.body, self.timeout = api, method, path, body, timeout
        self.response: requests.Response | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self):
        try:
            headers = {"Authorization": f"Bearer {self.api.admin_token}"}
            if self.body is not None:
                headers["Content-Type"] = "application/json"
            self.response = requests.request(self.method, self.api.base + self.path,
                                             data=self.body, headers=headers,
                                             timeout=self.timeout)
        except BaseException as error:  # noqa: BLE001 - reported by result()
            self.error = error

    def result(self, timeout=300) -> requests.Response:
        self.join(timeout)
        assert not self.is_alive(), f"{self.method} {self.path} did not answer"
        assert self.error is None, f"{self.method} {self.path}: {self.error!r}"
        return self.response


@pytest.fixture
def pg_gateway(make_gateway, pg):
    """Factory: pg_gateway(**admin_keys) -> (gw, api, db) on a fresh database."""

    def factory(**admin):
        db = Database(pg, f"concurrency_{next(DATABASES)}")
        port = free_port()
        gw = make_gateway(extra_toml=db.toml() + admin_toml(port, **admin))
        return gw, Api(gw, port), db

    return factory


def wait_for_pushes_waiting(db: Database, n: int, gw: Gateway):
    assert wait_until(lambda: db.pushes_waiting() == n, 120, 0.1), (
        f"{n} directory writes never waited on the test's lock (saw {db.pushes_waiting()})\n"
        f"{gw.log_text()[-3000:]}")


def tenant_ids(api: Api) -> list[str]:
    return [t["id"] for t in expect(api.get("/v1/tenants?limit=1000"), 200)["tenants"]]


def all_addresses(api: Api, tenant: str) -> set[str]:
    found, after = set(), ""
    while True:
        page = expect(api.get(f"/v1/users?tenant={tenant}&limit=1000&after={after}"), 200)
        found |= {u["address"] for u in page["users"]}
        if page["next"] is None:
            return found
        after = page["next"]


def request_lines(gw: Gateway, event: str = "admin_request") -> list[dict]:
    return log_events(gw.log_text(), event)


# ---------------------------------------------------------------- a large push and the others

def test_metrics_and_lists_answer_while_a_large_push_is_being_handled(pg_gateway):
    gw, api, db = pg_gateway()
    with VersionLock(db) as lock:
        push = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(USERS))
        wait_for_pushes_waiting(db, 1, gw)  # the push is in its handler, inside its transaction

        metrics = api.get("/metrics")
        assert metrics.status_code == 200, metrics.text
        assert "bridgehead_queue_messages" in metrics.text, metrics.text[:500]
        # All or nothing: nothing of the push is visible while it runs.
        assert T1 not in tenant_ids(api)
        expect(api.get(f"/v1/tenants/{T1}"), 404, "not_found")
        assert push.is_alive() and push.response is None, "the push answered while it was held"
        lock.release()

    answer = expect(push.result(), 200)
    assert answer["tenant"] == T1 and answer["users"] == USERS, answer
    assert T1 in tenant_ids(api)
    expect(api.get(f"/v1/users/user{USERS - 1}@contoso.test"), 200)
    # The server's own order: the GETs were answered (and logged) before the push.
    order = [(line["method"], line["path"]) for line in request_lines(gw)]
    put = order.index(("PUT", f"/v1/tenants/{T1}/directory"))
    assert order.index(("GET", "/metrics")) < put and order.index(("GET", "/v1/tenants")) < put, order


# ---------------------------------------------------------------- pushes at once

def test_two_pushes_to_two_tenants_at_once_both_succeed(pg_gateway):
    gw, api, db = pg_gateway()
    with VersionLock(db) as lock:
        first = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(3000))
        second = Call(api, "PUT", f"/v1/tenants/{T2}/directory",
                      push_body(2000, domain="fabrikam.test", prefix="f", first_number=5560000))
        wait_for_pushes_waiting(db, 2, gw)  # both handlers run at once
        lock.release()
    assert expect(first.result(), 200)["users"] == 3000
    assert expect(second.result(), 200)["users"] == 2000
    assert all_addresses(api, T1) == {f"user{i}@contoso.test" for i in range(3000)}
    assert all_addresses(api, T2) == {f"f{i}@fabrikam.test" for i in range(2000)}


def test_two_pushes_to_two_tenants_at_once_on_sqlite(admin_gateway):
    # One SQLite connection: the two transactions take turns; both succeed, neither is lost.
    gw, api = admin_gateway()
    first = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(3000))
    second = Call(api, "PUT", f"/v1/tenants/{T2}/directory",
                  push_body(2000, domain="fabrikam.test", prefix="f", first_number=5560000))
    assert expect(first.result(), 200)["users"] == 3000
    assert expect(second.result(), 200)["users"] == 2000
    assert all_addresses(api, T1) == {f"user{i}@contoso.test" for i in range(3000)}
    assert all_addresses(api, T2) == {f"f{i}@fabrikam.test" for i in range(2000)}


def test_two_pushes_to_one_tenant_at_once_take_turns(pg_gateway):
    gw, api, db = pg_gateway()
    a = {f"a{i}@contoso.test" for i in range(1000)}
    b = {f"b{i}@contoso.test" for i in range(1500)}
    with VersionLock(db) as lock:
        first = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(1000, prefix="a"))
        second = Call(api, "PUT", f"/v1/tenants/{T1}/directory",
                      push_body(1500, prefix="b", first_number=5560000))
        wait_for_pushes_waiting(db, 2, gw)
        lock.release()
    assert expect(first.result(), 200)["users"] == 1000
    assert expect(second.result(), 200)["users"] == 1500
    # One after the other: the tenant is wholly one push's, never a mix of both.
    final = all_addresses(api, T1)
    assert final in (a, b), (len(final), len(final & a), len(final & b))
    # This node's cache (what the policy decides with) has the same.
    assert wait_until(lambda: gw.events("directory_loaded")[-1]["users"] == str(len(final)), 10), \
        gw.events("directory_loaded")


# ---------------------------------------------------------------- deadlines

def test_requests_overtaken_by_their_deadline_are_503(pg_gateway):
    gw, api, db = pg_gateway(workers=1, request_timeout=3)
    with VersionLock(db) as lock:
        push = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(50))
        wait_for_pushes_waiting(db, 1, gw)  # the one worker is held by the push
        # Waiting for the worker past request_timeout: never started, so nothing changed.
        r = api.get("/metrics")
        expect(r, 503, "unavailable")
        assert "not started" in r.json()["error"]["message"], r.text
        r = api.post("/v1/tenants", json={"id": T2, "name": "Fabrikam", "domains": ["f.test"]})
        expect(r, 503, "unavailable")
        # The push itself ran past its deadline: its outcome is not known when it is answered.
        r = push.result()
        expect(r, 503, "timeout")
        assert r.headers.get("Connection", "").lower() == "close", r.headers
        lock.release()
    # It goes on, and the log says how it ended.
    late = gw.wait_event("admin_request_late", timeout=60, method="PUT")
    assert late["status"] == "200", late
    ids = tenant_ids(api)
    assert T1 in ids and T2 not in ids, ids


# ---------------------------------------------------------------- clients that leave, stop

def test_client_that_leaves_while_its_push_runs_harms_nothing(pg_gateway):
    gw, api, db = pg_gateway()
    body = push_body(2000)
    head = (f"PUT /v1/tenants/{T1}/directory HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {api.admin_token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with VersionLock(db) as lock:
        with socket.create_connection(("127.0.0.1", api.port)) as gone:
            gone.sendall(head + body)
            wait_for_pushes_waiting(db, 1, gw)
        # A second client leaves halfway through its body.
        with socket.create_connection(("127.0.0.1", api.port)) as halfway:
            halfway.sendall(head.replace(T1.encode(), T2.encode()) + body[: len(body) // 2])
        assert api.get("/metrics").status_code == 200
        lock.release()
    # The push whose client left is applied all the same, and logged.
    line = gw.wait_event("admin_request", timeout=60, method="PUT",
                         path=f"/v1/tenants/{T1}/directory")
    assert line["status"] == "200", line
    assert len(all_addresses(api, T1)) == 2000
    assert T2 not in tenant_ids(api)  # the half-sent push was never handled
    assert gw.alive()
    assert not gw.events("admin_error") and not gw.events("coroutine_error"), gw.log_text()[-3000:]


def test_sigterm_while_a_push_runs_answers_it_and_exits_0(pg_gateway):
    gw, api, db = pg_gateway()
    with VersionLock(db) as lock:
        push = Call(api, "PUT", f"/v1/tenants/{T1}/directory", push_body(2000))
        wait_for_pushes_waiting(db, 1, gw)
        # A kept-alive connection between two requests.
        idle = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        idle.request("GET", "/metrics", headers={"Authorization": f"Bearer {api.admin_token}"})
        reply = idle.getresponse()
        assert reply.status == 200 and reply.read() and not reply.will_close
        gw.proc.send_signal(signal.SIGTERM)
        stopping = gw.wait_event("admin_stopping", timeout=30)
        assert stopping["requests_running"] == "1", stopping
        # stop() waits for the running handler; the idle connection is closed at once.
        assert idle.sock.recv(100) == b""
        idle.close()
        assert gw.alive()
        lock.release()
    r = push.result()
    assert expect(r, 200)["users"] == 2000
    assert r.headers.get("Connection", "").lower() == "close", r.headers
    gw.expect_exit = True
    assert gw.proc.wait(30) == 0, gw.log_text()[-3000:]
    assert gw.events("stopped"), gw.log_text()[-3000:]


# ---------------------------------------------------------------- configuration

@pytest.mark.parametrize("workers", [0, 65, "\"4\""])
def test_workers_outside_1_to_64_is_a_config_error(tmp_path, workers):
    gw = Gateway(tmp_path, None, overrides={"extra_toml": admin_toml(free_port()) +
                                            f"workers = {workers}\n"})
    gw.write_config()
    r = check(gw.config, tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 1 and "workers: must be an integer from 1 to 64" in out, out


def test_workers_are_logged_at_start(admin_gateway):
    gw, api = admin_gateway(admin={"workers": 7})
    assert gw.wait_event("admin_listening")["workers"] == "7"
    expect(api.get("/v1/tenants"), 200)
