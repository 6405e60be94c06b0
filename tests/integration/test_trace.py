"""The message trace and the metrics (docs/api.md, issue 9): /v1/messages/{id} shows a
delivered message's whole life (received with its client, every decision, the route, the
attempt with the peer's reply, the outcome); refused RCPTs and refused messages are found
by sender with the reply they got; `bridgehead trace` prints the same; /metrics counts what
happened. Retention is purged by the recorder (tests/unit/trace/recorder_test.cpp)."""
from __future__ import annotations

import json
import re

import pytest

from adminhelp import T1, admin_gateway, admin_toml, Api, expect  # noqa: F401  (fixture)
from bhtest import free_port, wait_until
from smtpclient import SmtpClient, make_message, send_raw
from smtppeers import smtp_gateway, wait_delivery
from test_webhook import callback_gateway, certs, make_hook, post_callback  # noqa: F401  (fixtures)
from trusthelp import (M365_CONNECTOR, T2, TENANTS, TrustGateway, assert_reply, good_headers,
                       m365_connector, swaks)


def wait_trace(api, qid, status=None, timeout=10.0):
    """The trace of qid once the recorder wrote it (and, with status, once it has that status)."""
    def ready():
        r = api.get(f"/v1/messages/{qid}")
        if r.status_code != 200:
            return None
        body = r.json()
        return body if status is None or body["status"] == status else None
    body = wait_until(ready, timeout)
    assert body, (f"no trace of {qid} (status {status}) within {timeout}s: "
                  f"{api.get(f'/v1/messages/{qid}').text}\n{api.gw.log_text()[-3000:]}")
    return body


def send_with_refused_rcpt(port, sender="alice@origin.test", subject="traced"):
    """One transaction: a refused recipient, an accepted one, the message; returns the queue id."""
    with SmtpClient(port) as c:
        c.greet()
        c.expect(f"MAIL FROM:<{sender}>", 250)
        r = c.cmd("RCPT TO:<nobody@nowhere.invalid>")
        c.check(r, 550, "5.7.1", "RCPT to an unrouted domain")
        c.expect("RCPT TO:<bob@example.test>", 250)
        final = c.send_data(make_message(subject, sender=sender, to="bob@example.test"))
        c.check(final, 250, "2.0.0", "end of DATA")
        c.cmd("QUIT")
        return final.queue_id()


def send_refused_data(port, sender="mallory@origin.test"):
    """A message with a NUL byte: refused at the end of DATA with 550 5.6.0."""
    with SmtpClient(port) as c:
        c.greet()
        c.expect(f"MAIL FROM:<{sender}>", 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        final = c.send_data(make_message("nul", body=b"a\x00b\r\n", sender=sender))
        c.check(final, 550, "5.6.0", "end of DATA")
        c.cmd("QUIT")
        return final


def kinds(trace):
    return [e["kind"] for e in trace["events"]]


def events_of(trace, kind):
    return [e for e in trace["events"] if e["kind"] == kind]


def test_delivered_message_shows_every_step(admin_gateway):
    gw, api = admin_gateway()
    qid = send_with_refused_rcpt(gw.port)
    gw.wait_delivered(qid)
    trace = wait_trace(api, qid, status="delivered")
    assert trace["id"] == qid and trace["sender"] == "alice@origin.test", trace
    assert trace["subject"] == "traced", trace
    assert trace["node"] == "localhost", trace
    recipients = {r["address"]: r for r in trace["recipients"]}
    assert recipients["bob@example.test"]["status"] == "delivered", recipients
    assert recipients["bob@example.test"]["connector"] == "files", recipients
    assert recipients["nobody@nowhere.invalid"]["status"] == "refused", recipients

    k = kinds(trace)
    for needed in ("decision", "refused", "received", "route", "attempt", "delivered"):
        assert needed in k, f"no {needed} event: {k}\n{json.dumps(trace, indent=1)}"
    assert k.index("received") < k.index("route") < k.index("attempt") < k.index("delivered"), k

    identity = [e for e in events_of(trace, "decision") if e["stage"] == "identity"]
    assert identity and "matches no inbound connector" in identity[0]["detail"], trace
    refused = events_of(trace, "refused")[0]
    assert refused["recipient"] == "nobody@nowhere.invalid", refused
    assert (refused["code"], refused["enhanced_code"]) == (550, "5.7.1"), refused
    assert "Relay access denied" in refused["detail"], refused

    received = events_of(trace, "received")[0]
    facts = received["facts"]
    assert facts["client_ip"] == "127.0.0.1" and facts["helo"] == "client.test", facts
    assert facts["tls"] == "none" and facts["inbound_connector"] == "none", facts
    assert facts["message_id"] == "<traced@tests.bridgehead>", facts
    assert int(facts["size"]) > 100, facts
    assert received["recipients"] == ["bob@example.test"], received

    route = events_of(trace, "route")[0]
    assert route["recipient"] == "bob@example.test" and route["connector"] == "files", route
    attempt = events_of(trace, "attempt")[0]
    assert attempt["connector"] == "files" and attempt["stage"] == "delivered", attempt
    assert attempt["duration_ms"] >= 0 and attempt["enhanced_code"].startswith("2."), attempt
    for e in trace["events"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]), e

    # The refused recipient finds the message too.
    listed = expect(api.get("/v1/messages", params={"recipient": "NOBODY@nowhere.invalid"}), 200)
    assert [m["id"] for m in listed["messages"]] == [qid], listed


def test_refused_message_is_found_by_sender_with_its_reply(admin_gateway):
    gw, api = admin_gateway()
    final = send_refused_data(gw.port)
    refusal = gw.wait_event("refused", status="5.6.0")

    def found():
        body = expect(api.get("/v1/messages", params={"sender": "mallory@origin.test"}), 200)
        return body["messages"]
    messages = wait_until(found, 10)
    assert len(messages) == 1, messages
    m = messages[0]
    assert m["status"] == "refused" and m["id"] == refusal["id"], (m, refusal)
    assert [r["address"] for r in m["recipients"]] == ["bob@example.test"], m
    trace = expect(api.get(f"/v1/messages/{m['id']}"), 200)
    refused = events_of(trace, "refused")
    assert len(refused) == 1, trace
    assert (refused[0]["code"], refused[0]["enhanced_code"]) == (550, "5.6.0"), refused
    assert refused[0]["detail"] in final.text, (refused, final)
    assert refused[0]["stage"] == "data", refused
    assert "received" not in kinds(trace), trace
    by_status = expect(api.get("/v1/messages", params={"status": "refused"}), 200)
    assert m["id"] in [x["id"] for x in by_status["messages"]], by_status


def test_unknown_tenant_refusal_is_traced(admin_gateway):
    """EchoSpoofing: a foreign tenant through Exchange Online's certificate, refused at DATA."""
    gw, api = admin_gateway(cls=TrustGateway, inbound_connectors=[m365_connector()],
                            tenants=TENANTS)
    run = swaks(gw, sender="eve@fabrikam.test", headers=good_headers(T2, "fabrikam.test"),
                replace=["From: eve@fabrikam.test"])
    assert_reply(run.final, 550, "5.7.1", "is not accepted by connector", where=run.out)

    def found():
        return expect(api.get("/v1/messages", params={"sender": "eve@fabrikam.test"}),
                      200)["messages"]
    messages = wait_until(found, 10)
    assert len(messages) == 1 and messages[0]["status"] == "refused", messages
    trace = expect(api.get(f"/v1/messages/{messages[0]['id']}"), 200)
    identity = [e for e in events_of(trace, "decision") if e["stage"] == "identity"]
    assert identity and M365_CONNECTOR in identity[0]["detail"], trace
    refused = events_of(trace, "refused")[0]
    assert refused["stage"] == "data" and refused["code"] == 550, refused
    assert T2 in refused["detail"].lower(), refused
    assert refused["facts"]["tls"].startswith("TLS"), refused
    data = [e for e in events_of(trace, "decision") if e["stage"] == "data"]
    assert data and data[0]["facts"]["result"] == "refused", trace


def test_bounce_shows_the_peers_reply_and_the_dsn(make_gateway, make_peer):
    """The next hop refuses the recipient: the attempt carries its reply, the message is
    bounced, the DSN's id is traced and the DSN has a trace of its own."""
    peer = make_peer(rcpt_reply=lambda addr, n: "550 5.1.1 no such user here")
    port = free_port()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                      extra_toml=admin_toml(port))
    api = Api(gw, port)
    qid = send_raw(gw.port, make_message("bounce me"), rcpts=("x@example.test",))
    wait_delivery(gw, qid, "bounced")
    trace = wait_trace(api, qid, status="bounced")
    attempt = events_of(trace, "attempt")[0]
    assert attempt["stage"] == "bounced" and attempt["connector"] == "out", attempt
    assert (attempt["code"], attempt["enhanced_code"]) == (550, "5.1.1"), attempt
    assert "no such user here" in attempt["detail"], attempt
    assert attempt["facts"]["remote"], attempt
    assert events_of(trace, "bounced")[0]["recipient"] == "x@example.test", trace
    dsn = wait_until(lambda: events_of(wait_trace(api, qid), "dsn"), 10)
    assert dsn and dsn[0]["stage"] == "failure", trace
    dsn_id = dsn[0]["facts"]["dsn_id"]
    dsn_trace = wait_trace(api, dsn_id, status="delivered")
    made = events_of(dsn_trace, "received")[0]
    assert made["stage"] == "dsn" and made["facts"]["original_id"] == qid, made
    assert dsn_trace["sender"] == "" and dsn_trace["recipients"][0]["address"] == \
        "sender@origin.test", dsn_trace


RULES_TOML = """
[[rule]]
name = "tag"
add_header = { name = "X-Tag", value = "tagged \\"here\\"" }
remove_header = ["X-Internal"]
"""


def test_rule_header_edits_are_traced_field_by_field(make_gateway, make_peer):
    """Each field a transport rule adds or removes is its own header_edit event, with the
    rule's name, and the delivered message carries the edits."""
    peer = make_peer()
    port = free_port()
    gw = smtp_gateway(make_gateway, {"smarthosts": [f"127.0.0.1:{peer.port}"], "tls": "none"},
                      extra_toml=admin_toml(port) + RULES_TOML)
    api = Api(gw, port)
    message = make_message("edited").replace(b"\r\n\r\n", b"\r\nX-Internal: secret\r\n\r\n", 1)
    qid = send_raw(gw.port, message, rcpts=("x@example.test",))
    wait_delivery(gw, qid, "delivered")
    trace = wait_trace(api, qid, status="delivered")
    edits = [e["detail"] for e in events_of(trace, "header_edit")]
    assert 'rule tag: add X-Tag: tagged "here"' in edits, trace
    assert "rule tag: removed 1 X-Internal field" in edits, trace
    assert kinds(trace).index("header_edit") < kinds(trace).index("received"), kinds(trace)
    [delivered] = peer.wait_messages(1)
    assert b"X-Internal" not in delivered.content, delivered.content[:2000]
    assert b'X-Tag: tagged "here"' in delivered.content, delivered.content[:2000]
    ev = gw.wait_event("policy", id=qid, stage="header_edit")
    assert "rule tag:" in ev["reason"], ev["_line"]


def test_cli_prints_the_same_trace(admin_gateway):
    gw, api = admin_gateway()
    qid = send_with_refused_rcpt(gw.port, sender="carol@origin.test")
    trace = wait_trace(api, qid, status="delivered")

    shown = gw.cli("trace", qid)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"message {qid} status=delivered" in shown.stdout, shown.stdout
    for e in trace["events"]:
        assert f"{e['time']} {e['kind']}" in shown.stdout, (e, shown.stdout)
    assert "recipient bob@example.test delivered via files" in shown.stdout, shown.stdout

    as_json = gw.cli("trace", qid, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == trace

    listed = gw.cli("trace", "--sender", "carol@origin.test")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.startswith(f"{qid} "), listed.stdout
    assert "-- 1 message(s)" in listed.stdout, listed.stdout
    listed = gw.cli("trace", "--recipient", "bob@example.test", "--status", "delivered",
                    "--since", "2020-01-01T00:00:00Z")
    assert listed.returncode == 0 and qid in listed.stdout, listed.stdout + listed.stderr

    missing = gw.cli("trace", "NOSUCHID")
    assert missing.returncode == 1 and "no message NOSUCHID" in missing.stderr, missing
    for bad in (["--since", "yesterday"], ["--status", "lost"], []):
        r = gw.cli("trace", *bad)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)


def metric(text: str, name: str, **labels) -> float:
    """The value of one series of the exposition (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == (f"{name}{{{want}}}" if want else name):
            return float(value)
    return 0.0


def test_metrics_count_what_happened(admin_gateway):
    gw, api = admin_gateway()
    before = api.get("/metrics")
    assert before.status_code == 200, before.text
    assert before.headers["Content-Type"].startswith("text/plain; version=0.0.4"), before.headers
    assert "# TYPE bridgehead_messages_total counter" in before.text, before.text
    qid = send_with_refused_rcpt(gw.port)
    send_refused_data(gw.port)
    with SmtpClient(gw.port) as c:  # a STARTTLS handshake
        c.greet()
        c.starttls(gw.pki.client_context())
        c.ehlo()
        c.cmd("QUIT")
    gw.wait_delivered(qid)
    wait_trace(api, qid, status="delivered")

    after = api.get("/metrics").text
    def moved(name, **labels):
        return metric(after, name, **labels) - metric(before.text, name, **labels)
    assert moved("bridgehead_messages_total", outcome="accepted") == 1, after
    assert moved("bridgehead_messages_total", outcome="refused") == 1, after
    assert moved("bridgehead_messages_total", outcome="delivered") == 1, after
    assert moved("bridgehead_refusals_total", stage="route", status="5.7.1") == 1, after
    assert moved("bridgehead_refusals_total", stage="data", status="5.6.0") == 1, after
    assert moved("bridgehead_connections_total", result="accepted") == 3, after
    assert moved("bridgehead_tls_handshakes_total", result="ok") == 1, after
    assert moved("bridgehead_delivery_duration_seconds_count", connector="files") == 1, after
    assert metric(after, "bridgehead_delivery_duration_seconds_bucket", connector="files",
                  le="+Inf") >= 1, after
    for state in ("incoming", "active", "deferred", "hold"):
        assert f'bridgehead_queue_messages{{state="{state}"}} ' in after, after
    assert metric(after, "bridgehead_trace_events_written_total") > 0, after
    assert metric(after, "bridgehead_trace_events_dropped_total") == 0, after

    # The metrics need a token like every endpoint, and one of every tenant: the numbers
    # are the whole gateway's.
    assert api.get("/metrics", token=None).status_code == 401
    refused = api.get("/metrics", token=api.token("read", tenant=T1))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden", refused.text


def test_tenant_token_sees_only_its_tenant(admin_gateway):
    gw, api = admin_gateway()
    qid = send_with_refused_rcpt(gw.port)
    wait_trace(api, qid)
    token = api.token("read", tenant=T1)
    listed = expect(api.get("/v1/messages", token=token), 200)
    assert listed["messages"] == [], listed  # the message has no tenant
    expect(api.get(f"/v1/messages/{qid}", token=token), 404, "not_found")
    expect(api.get("/v1/messages", token=token, params={"tenant": "someone-else"}), 403,
           "forbidden")


def test_bad_queries_are_400_and_name_the_parameter(admin_gateway):
    gw, api = admin_gateway()
    for params, field in (({"since": "yesterday"}, "since"), ({"status": "lost"}, "status"),
                          ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
                          ({"colour": "red"}, "colour"),
                          ([("sender", "a@b"), ("sender", "c@d")], "sender")):
        r = api.get("/v1/messages", params=params)
        body = expect(r, 400, "invalid")
        assert [f["field"] for f in body["error"]["fields"]] == [field], body
    expect(api.get("/v1/messages/NOSUCH"), 404, "not_found")


def test_paging_walks_every_message(admin_gateway):
    gw, api = admin_gateway()
    ids = [send_with_refused_rcpt(gw.port, sender="pager@origin.test", subject=f"p{i}")
           for i in range(3)]
    for qid in ids:
        wait_trace(api, qid)
    seen, after = [], None
    for _ in range(5):
        params = {"sender": "pager@origin.test", "limit": "2"}
        if after:
            params["after"] = after
        page = expect(api.get("/v1/messages", params=params), 200)
        seen += [m["id"] for m in page["messages"]]
        after = page["next"]
        if after is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 3, (seen, ids)


def test_trace_disabled_records_nothing(admin_gateway):
    gw, api = admin_gateway(extra_toml="\n[trace]\nenabled = false\n")
    qid = send_with_refused_rcpt(gw.port)
    gw.wait_delivered(qid)
    expect(api.get("/v1/messages"), 404)
    metrics = api.get("/metrics").text
    assert metric(metrics, "bridgehead_messages_total", outcome="accepted") == 1, metrics


@pytest.mark.parametrize("value", ["0", "\"30\"", "true"])
def test_bad_trace_settings_are_refused(make_gateway, value):
    gw = make_gateway(start=False, extra_toml=f"\n[trace]\nretention_days = {value}\n")
    gw.write_config()
    r = gw.cli("check-config")
    assert r.returncode != 0 and "trace.retention_days" in r.stderr, (r.stdout, r.stderr)


def test_pending_reference_and_report_are_traced(make_gateway, make_hook, tmp_path, certs):
    """A webhook answers 202 with a job id: the trace shows the pending reference, then the
    report that delivered it (read here with `bridgehead trace --json`)."""
    hook = make_hook(lambda n, r: (202, b'{"id": "job-42"}', 0))
    gw, port = callback_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("pending traced"))
    wait_delivery(gw, qid, "pending")
    assert post_callback(port, {"id": "job-42", "status": "delivered", "detail": "faxed"})[0] == 200

    def traced():
        r = gw.cli("trace", qid, "--json")
        doc = json.loads(r.stdout) if r.returncode == 0 else None
        return doc if doc and doc["status"] == "delivered" else None
    trace = wait_until(traced, 15)
    assert trace, gw.cli("trace", qid).stdout
    pending = events_of(trace, "pending")
    assert pending and pending[0]["facts"]["reference"] == "job-42", trace
    assert pending[0]["connector"] == "hook", pending
    final = events_of(trace, "delivered")
    assert final and final[0]["stage"] == "report", trace
    assert kinds(trace).index("pending") < kinds(trace).index("delivered"), kinds(trace)
