"""Issue 8.3 (first part): routes name address spaces as Exchange Online has them (full
addresses, domains, *.domain, *), and the most specific match wins whatever the order."""
from __future__ import annotations

from smtpclient import make_message, send_raw


def test_most_specific_address_space_wins(make_gateway, tmp_path):
    dirs = {name: tmp_path / name for name in ("star", "sub", "domain", "address")}
    gw = make_gateway(start=False)
    gw.overrides["routes"] = [  # least specific first: the order must not matter
        {"domains": ["*"], "connector": "star"},
        {"domains": ["*.example.test"], "connector": "sub"},
        {"domains": ["example.test"], "connector": "domain"},
        {"domains": ["Fax@Example.test"], "connector": "address"}]
    gw.overrides["connectors"] = [{"name": n, "type": "file", "directory": d}
                                  for n, d in dirs.items()]
    gw.start()
    cases = {"fax@example.test": "address", "FAX@example.TEST": "address",
             "other@example.test": "domain", "x@a.example.test": "sub",
             "y@somewhere.else": "star"}
    for rcpt, expected in cases.items():
        qid = send_raw(gw.port, make_message(rcpt), rcpts=(rcpt,))
        gw.overrides["outdir"] = dirs[expected]
        gw.wait_delivered(qid)
    for name, d in dirs.items():
        assert len(list(d.glob("*.eml"))) == list(cases.values()).count(name), name
