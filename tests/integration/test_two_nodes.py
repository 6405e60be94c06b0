"""Issue 9.4: two gateway nodes on one real PostgreSQL store (initdb in a temporary folder).
Each node keeps its own spool; the directory, the message trace, the admin tokens and the
pending references live in the store they share:

- a directory pushed through node A's admin API is what node B's policy decides with;
- node B's trace and node A's trace are both readable from either node;
- a pending report (the webhook's callback) that arrives at node B resolves the message that
  node A holds, and the other way round (docs/operations.md, "Two nodes")."""
from __future__ import annotations

import json
import smtplib
import time

import pytest

from adminhelp import Api, admin_toml, expect
from bhtest import free_port, wait_until
from pghelp import PostgresServer
from smtpclient import make_message, send_raw
from smtppeers import FAST_QUEUE, wait_delivery, wait_state
from test_webhook import CALLBACK_SECRET, SECRET, certs, make_hook, post_callback, write_secret  # noqa: F401

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
ALICE = "alice@contoso.test"
FAX = "+4930123456@fax.example.test"


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as pg:
        yield pg


def node(make_gateway, tmp_path, certs, hook, name: str, url: str):
    """A gateway named NAME (its node id in the store): fax.example.test needs the fax
    permission and goes to the webhook connector "hook" (202: pending, callbacks on its own
    port); contoso.test (the DSNs) to a file connector."""
    admin_port, callback_port = free_port(), free_port()
    gw = make_gateway(start=False, server={"hostname": f"{name}.test"}, queue=dict(FAST_QUEUE))
    secret = write_secret(tmp_path / f"hook-{name}.key", SECRET)
    callback_secret = write_secret(tmp_path / f"callback-{name}.key", CALLBACK_SECRET)
    o = gw.overrides
    o["routes"] = [{"domains": ["fax.example.test"], "connector": "hook", "service": "fax"},
                   {"domains": ["contoso.test"], "connector": "dsn"}]
    o["connectors"] = [{"name": "hook", "type": "webhook",
                        "url": f"https://localhost:{hook.port}/hook", "secret_file": secret,
                        "ca_file": certs.ca, "timeout": 5,
                        "callback_listen": f"127.0.0.1:{callback_port}",
                        "callback_secret_file": callback_secret},
                       {"name": "dsn", "type": "file", "directory": gw.outdir}]
    # The fax service is for the LAN's mail servers (here: loopback), whose users are in the
    # directory the nodes share.
    lan = ('\n[[inbound_connector]]\nname = "lan"\nkind = "internal"\n'
           'ip_ranges = ["127.0.0.1/32"]\nservices = ["fax"]\ndirectory_tenants = true\n')
    o["extra_toml"] = (lan + f'\n[store]\nbackend = "postgresql"\nurl = "{url}"\npool_size = 2\n'
                       + "\n[directory]\nrefresh_interval = 200\n" + admin_toml(admin_port))
    gw.start()
    gw.wait_event("webhook_callbacks", connector="hook")
    return gw, Api(gw, admin_port), callback_port


def send_as_alice(gw, subject: str) -> str:
    return send_raw(gw.port, make_message(subject, sender=ALICE, to=FAX), rcpts=(FAX,),
                    sender=ALICE)


def refused_as_alice(gw, subject: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", gw.port, timeout=15) as s:
        try:
            s.sendmail(ALICE, [FAX], make_message(subject, sender=ALICE, to=FAX))
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
    raise AssertionError("accepted before the directory allowed alice")


def messages(api, **query) -> dict[str, dict]:
    body = expect(api.get("/v1/messages", params=query), 200)
    return {m["id"]: m for m in body["messages"]}


def test_two_nodes_share_directory_trace_tokens_and_pending(make_gateway, make_hook, tmp_path,
                                                            certs, postgres):
    url = postgres.create_database("two_nodes")
    hook = make_hook(lambda n, r: (202, json.dumps({"id": f"job-{r.json()['id']}"}).encode(), 0))
    a, api_a, callback_a = node(make_gateway, tmp_path, certs, hook, "node-a", url)
    b, api_b, callback_b = node(make_gateway, tmp_path, certs, hook, "node-b", url)

    # The tokens are in the store too: A's first-start token works at B.
    expect(api_b.get("/v1/tenants", token=api_a.admin_token), 200)

    code, reply = refused_as_alice(b, "before the push")
    assert code == 550 and b"5.7.1" in reply, reply

    push = {"tenant": {"name": "Contoso", "domains": ["contoso.test"]},
            "users": [{"address": ALICE, "permissions": ["fax"],
                       "fax_numbers": ["+49 30 5550100"]}]}
    answer = expect(api_a.put(f"/v1/tenants/{T1}/directory", json=push), 200)
    assert answer["users"] == 1, answer
    # B reads it from the store, and its cache follows within its refresh interval.
    assert expect(api_b.get(f"/v1/users/{ALICE}"), 200)["fax_numbers"] == ["+49305550100"]
    qb = None
    for _ in range(50):  # 10 s; the refresh interval is 200 ms
        try:
            qb = send_as_alice(b, "through node b")
            break
        except AssertionError:  # still refused: the cache has not caught up yet
            time.sleep(0.2)
    assert qb, f"node B never accepted alice after the push:\n{b.log_text()[-3000:]}"
    qa = send_as_alice(a, "through node a")
    wait_delivery(a, qa, "pending")
    wait_delivery(b, qb, "pending")

    # Each report arrives at the other node, which does not hold the message.
    assert post_callback(callback_b, {"id": f"job-{qa}", "status": "delivered",
                                      "detail": "faxed, 1 page"})[0] == 200
    assert post_callback(callback_a, {"id": f"job-{qb}", "status": "failed",
                                      "detail": "busy, 3 tries"})[0] == 200
    wait_state(a, qa, None)
    wait_state(b, qb, None)
    assert not a.events("dsn", id=qa), "a delivered fax sends no failure DSN"
    assert wait_until(lambda: b.events("dsn", id=qb), 15), "B bounced its fax with a DSN"

    # Both nodes' traces, from either node.
    def both_final(api):
        found = messages(api, sender=ALICE)
        return (qa in found and qb in found and found[qa]["status"] == "delivered"
                and found[qb]["status"] == "bounced")

    for api in (api_a, api_b):
        assert wait_until(lambda: both_final(api), 15), messages(api, sender=ALICE)
        found = messages(api, sender=ALICE)
        assert found[qa]["node"] == "node-a.test" and found[qb]["node"] == "node-b.test", found
        refused = [m for m in found.values() if m["status"] == "refused"]
        assert refused and refused[0]["node"] == "node-b.test", found
        detail = expect(api.get(f"/v1/messages/{qa}"), 200)
        kinds = [e["kind"] for e in detail["events"]]
        assert "received" in kinds and "pending" in kinds and "delivered" in kinds, kinds
        pending = [e for e in detail["events"] if e["kind"] == "pending"]
        assert f"job-{qa}" in json.dumps(pending), pending
