"""The policy reads the directory from the gateway's in-memory cache of the store (issue 9
section 1): aliases stand for their user, a From: mailbox passes through a send-as delegation,
and when the store cannot be read for longer than [directory] max_stale the decisions that need
it answer 451 4.3.0 (never an unchecked accept) until it can be read again. Real gateway, real
SQLite store, swaks over STARTTLS with a client certificate as Exchange Online sends."""
from __future__ import annotations

import sqlite3
import time

import pytest

from bhtest import wait_until
from trusthelp import (FAX_RCPT, T1, TENANTS, TrustGateway, assert_nothing_queued, assert_reply,
                       good_headers, m365_connector, swaks)

HEADER = "address,tenant,permissions,aliases,send_as\n"
ROWS = [
    # alice may fax, has two aliases and may send as the shared accounts mailbox
    f"alice@contoso.test,{T1},fax,alice.smith@contoso.test;as@contoso.test,accounts@contoso.test",
    f"accounts@contoso.test,{T1},,billing@contoso.test,",  # shared mailbox, no permission
    f"fred@contoso.test,{T1},fax,,",                       # may fax, no delegation
]


class CacheGateway(TrustGateway):
    """A TrustGateway whose directory cache goes stale after one second."""

    def config_dict(self) -> dict:
        cfg = super().config_dict()
        cfg["directory"]["max_stale"] = 1
        return cfg


@pytest.fixture
def gw(make_gateway):
    g = make_gateway(start=False, cls=CacheGateway, directory=True,
                     inbound_connectors=[m365_connector()], tenants=TENANTS)
    g.write_config()
    csv = g.tmp / "users.csv"
    csv.write_text(HEADER + "\n".join(ROWS) + "\n")
    r = g.directory_cmd("import", csv)
    assert r.returncode == 0, r.stdout + r.stderr
    g.start()
    return g


def send(gw, sender, from_addr, subject):
    return swaks(gw, sender=sender, headers=good_headers(), subject=subject,
                 replace=[f"From: {from_addr}"])


def accepted(gw, run, subject):
    assert_reply(run.final, 250, "2.0.0", where=f"end of DATA\n{run.out}")
    data = gw.wait_delivered(run.qid())
    assert f"Subject: {subject}".encode() in data


@pytest.mark.parametrize("sender,from_addr,why", [
    ("Alice.Smith@contoso.test", "alice@contoso.test", "the envelope sender by alias"),
    ("alice@contoso.test", "as@contoso.test", "a From: alias of the same user"),
    ("alice@contoso.test", "accounts@contoso.test", "send-as delegation"),
    ("alice@contoso.test", "Billing@contoso.test", "send-as, the shared mailbox by its alias"),
])
def test_aliases_and_delegations_pass(gw, sender, from_addr, why):
    accepted(gw, send(gw, sender, from_addr, why), why)


def test_shared_mailbox_without_delegation_is_refused(gw):
    run = send(gw, "fred@contoso.test", "accounts@contoso.test", "no delegation")
    assert_reply(run.final, 550, "5.7.1", "From: <accounts@contoso.test> is not permitted to use "
                 "the fax service", where=run.out)
    assert_nothing_queued(gw)


def test_unreadable_store_is_a_temporary_failure_until_it_recovers(gw):
    accepted(gw, send(gw, "alice@contoso.test", "alice@contoso.test", "before"), "before")
    # Break the store under the running gateway (another process renames a directory table).
    db = sqlite3.connect(gw.dbfile, timeout=10)
    db.execute("ALTER TABLE directory_version RENAME TO directory_version_away")
    db.commit()
    assert wait_until(lambda: "directory_refresh_failed" in gw.log_text(), 10.0), gw.log_text()[-2000:]
    time.sleep(1.5)  # past max_stale (1 s) since the last successful refresh
    delivered = len(gw.delivered())
    run = send(gw, "alice@contoso.test", "alice@contoso.test", "while broken")
    assert_reply(run.final, 451, "4.3.0", "directory is unavailable", where=run.out)
    time.sleep(0.3)
    assert len(gw.delivered()) == delivered and not gw.queue_list(), "a refused message was kept"
    assert "directory unavailable" in gw.log_text(), gw.log_text()[-3000:]
    # Mail that needs no directory decision still flows.
    plain = swaks(gw, sender="alice@contoso.test", to="someone@example.test",
                  headers=good_headers(), subject="no service")
    assert_reply(plain.final, 250, "2.0.0", where=plain.out)

    db.execute("ALTER TABLE directory_version_away RENAME TO directory_version")
    db.commit()
    db.close()
    assert wait_until(lambda: "directory_refresh_recovered" in gw.log_text(), 10.0), \
        gw.log_text()[-2000:]
    accepted(gw, send(gw, "alice@contoso.test", "alice@contoso.test", "after"), "after")
