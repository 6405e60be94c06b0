"""Issue 8, the processed stamp end to end (docs/configuration.md, [stamp]): a stamp from an
untrusted client is removed and replaced by the gateway's own; a message whose stamp the
gateway made, replayed through the verified Microsoft 365 connection, is recognised as a loop
by a rule (if_stamp_valid) and routed away, while the same bytes from an untrusted client go
the normal way. And the other loop guard, the Received: limit. Helpers: test_topologies.py.
"""
from __future__ import annotations

import hashlib
import time

import pytest

from test_topologies import (STAMP, TA, TopoGateway, exo_out, exo_peer, file_out, files_in,
                             header_fields, one_stamp, send_one, session, smtp_out, tenant_message,
                             tenant_certs, topo_gateway, wait_file)  # noqa: F401  (fixture)
from trusthelp import assert_reply
from smtpclient import make_message
from smtppeers import wait_delivery


def test_forged_stamp_from_untrusted_client_is_replaced(make_gateway, make_peer):
    peer = make_peer()
    gw = topo_gateway(make_gateway, routes=[{"domains": ["example.test"], "connector": "out"}],
                      connectors=[smtp_out("out", peer, "tenant")])
    # Looks right (the gateway's own key id, now), but nobody outside has the key.
    key_id = hashlib.sha256(gw.stamp_key).hexdigest()[:8]
    forged = f"v=1; n=localhost; t={int(time.time())}; k={key_id}; s={'A' * 43}"
    msg = make_message("forged stamp", headers=[f"{STAMP}: {forged}",
                                                f"{STAMP.lower()}: v=1; n=evil; t=1; k=00000000; s=x"])
    qid = send_one(gw, "sender@origin.test", ["rcpt@example.test"], msg, m365=False)
    wait_delivery(gw, qid, "delivered")
    [got] = peer.wait_messages(1)
    stamp = one_stamp(gw, got.content)  # exactly one, and it verifies under the gateway's key
    assert stamp != forged and b"s=" + b"A" * 43 not in got.content and b"n=evil" not in got.content
    ev = gw.wait_event("policy", id=qid, stage="stamp")
    assert ev["result"] == "accepted", ev["_line"]
    assert "removed 2 processed stamp(s)" in ev["reason"] and "untrusted_peer" in ev["reason"], ev["_line"]
    # the fresh stamp comes right below the trace block (the gateway's Received: first)
    assert got.content.startswith(b"Received: "), got.content[:200]
    first_fields = [line.split(b":", 1)[0] for line in got.content.split(b"\r\n")
                    if line and not line[:1].isspace()][:2]
    assert first_fields == [b"Received", STAMP.encode()], got.content[:300]


def test_valid_stamp_is_a_loop_routed_away_by_rule(make_gateway, make_peer, pki, tenant_certs,
                                                  tmp_path):
    exo_a = exo_peer(make_peer, pki, TA)
    service, sink = tmp_path / "service", tmp_path / "sink"
    gw = topo_gateway(make_gateway,
                      routes=[{"domains": ["*"], "from_tenants": [TA], "connector": "exo-a"},
                              {"domains": ["svc.test"], "connector": "service"}],
                      connectors=[exo_out("exo-a", exo_a, pki, tenant_certs, TA),
                                  file_out("service", service), file_out("sink", sink)],
                      rules=[{"name": "loop guard", "if_stamp_valid": True, "route_to": "sink"}])
    # 1. Tenant A's message goes to A's Exchange Online with the gateway's stamp.
    sender, msg = tenant_message("round trip", TA)
    qid = send_one(gw, sender, ["someone@partner.test"], msg)
    wait_delivery(gw, qid, "delivered")
    [first] = exo_a.wait_messages(1)
    stamp = one_stamp(gw, first.content)
    assert not gw.events("policy", id=qid, stage="rules"), "no stamp yet: the rule must not match"

    # 2. Exchange sends it back (its connector excepts nothing): the stamp is valid, the rule
    #    routes it to the sink instead of the service, and no second stamp is added.
    loop_qid = send_one(gw, sender, ["user@svc.test"], first.content)
    [looped] = wait_file(gw, sink)
    assert header_fields(looped, STAMP) == [stamp], "the valid stamp is kept, none added"
    assert b"Subject: round trip" in looped
    ev = gw.wait_event("policy", id=loop_qid, stage="rules")
    assert "loop guard" in ev["reason"], ev["_line"]
    assert not gw.events("policy", id=loop_qid, stage="stamp"), "a valid stamp was removed"

    # 3. The same bytes from an untrusted client: the stamp is not believed (removed), so the
    #    message goes the normal way, with a fresh stamp of its own.
    plain_qid = send_one(gw, "sender@origin.test", ["user@svc.test"], first.content, m365=False)
    [normal] = wait_file(gw, service)
    one_stamp(gw, normal)
    assert b"Subject: round trip" in normal
    ev = gw.wait_event("policy", id=plain_qid, stage="stamp")
    assert "untrusted_peer" in ev["reason"], ev["_line"]
    assert not gw.events("policy", id=plain_qid, stage="rules")
    time.sleep(0.3)
    assert len(files_in(sink)) == 1 and len(files_in(service)) == 1
    assert len(exo_a.messages) == 1, "a looped message went back to Exchange Online"


@pytest.mark.parametrize("received,accepted", [(49, True), (50, False)])
def test_received_header_limit(make_gateway, received, accepted):
    """[limits] received_headers = 50 counts Bridgehead's own Received: field too
    (docs/configuration.md): 49 arriving + ours = 50 is accepted, 50 + ours = 51 is a loop."""
    gw = make_gateway(cls=TopoGateway, routes=[{"domains": ["example.test"], "connector": "files"}])
    hops = [f"Received: from hop{i}.test (hop{i}.test [192.0.2.{i % 250 + 1}])\r\n by hop{i + 1}.test;"
            f" Mon, 24 Nov 2025 12:00:{i % 60:02d} +0000" for i in range(received)]
    msg = make_message(f"hops {received}", headers=hops)
    [(rr, final)], dump = session(gw, [("sender@origin.test", ["rcpt@example.test"], msg)], m365=False)
    assert_reply(rr[0], 250, None, where=dump)
    if accepted:
        assert_reply(final, 250, "2.0.0", where=dump)
        data = gw.wait_delivered(final.queue_id())
        assert len(header_fields(data, "Received")) == received + 1
    else:
        assert_reply(final, 554, "5.4.6", "too many hops", where=dump)
        ev = gw.wait_event("policy", stage="loop")
        assert ev["result"] == "refused" and "51 Received: fields, limit 50" in ev["reason"], ev["_line"]
        time.sleep(0.3)
        assert not gw.delivered() and not gw.queue_list()
