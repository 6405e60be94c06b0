"""SIGHUP: routes, inbound connectors, tenants and access lists change without a restart;
a broken file or a route to an unknown connector changes nothing."""
from __future__ import annotations

import signal
import smtplib

from smtpclient import make_message, send_raw


def rcpt_reply(port: int, rcpt: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("client.test")
        s.mail("sender@origin.test")
        code, text = s.rcpt(rcpt)
        return code, text.decode()


def reload(gw, event: str, count: int) -> dict:
    gw.proc.send_signal(signal.SIGHUP)
    events = []

    def seen():
        events[:] = gw.events(event)
        return len(events) >= count

    from bhtest import wait_until
    assert wait_until(seen, 10), gw.log_text()[-2000:]
    return events[-1]


def test_new_route_takes_effect_without_restart(make_gateway):
    gw = make_gateway()
    pid = gw.proc.pid
    assert rcpt_reply(gw.port, "x@new.test")[0] == 550  # no route yet: relay denied

    gw.overrides["routes"] = [{"domains": ["example.test", "new.test"], "connector": "files"}]
    gw.write_config()
    line = reload(gw, "reloaded", 1)
    assert line["routes"] == "1" or line["routes"] == 1

    assert gw.proc.pid == pid and gw.alive()
    assert rcpt_reply(gw.port, "x@new.test")[0] == 250
    msg = make_message("after reload")
    gw.assert_delivered(send_raw(gw.port, msg, rcpts=("x@new.test",)), msg)


def test_access_list_change_applies_to_new_connections(make_gateway):
    gw = make_gateway()
    assert rcpt_reply(gw.port, "x@example.test")[0] == 250
    gw.overrides["extra_toml"] = '\n[access]\nblock = ["127.0.0.0/8"]\n'
    gw.write_config()
    reload(gw, "reloaded", 1)
    with smtplib.SMTP(timeout=10) as s:
        try:
            code, _ = s.connect("127.0.0.1", gw.port)
        except smtplib.SMTPConnectError as e:
            code = e.smtp_code
    assert code == 554


def test_broken_file_keeps_the_running_rules(make_gateway):
    gw = make_gateway()
    gw.config.write_text(gw.config.read_text() + "\n[queue]\nnot valid toml = = =\n")
    failed = reload(gw, "reload_failed", 1)
    assert "syntax" in failed["reason"] or "bridgehead.toml" in failed["reason"], failed
    assert gw.alive()
    assert rcpt_reply(gw.port, "x@example.test")[0] == 250


def test_route_to_connector_not_running_is_refused(make_gateway):
    gw = make_gateway()
    gw.overrides["routes"] = [{"domains": ["example.test"], "connector": "files"},
                              {"domains": ["other.test"], "connector": "later"}]
    gw.overrides["connectors"] = [{"name": "files", "type": "file", "directory": gw.outdir},
                                  {"name": "later", "type": "discard"}]
    gw.write_config()
    failed = reload(gw, "reload_failed", 1)
    assert "later" in failed["reason"] and "restart" in failed["reason"], failed
    assert rcpt_reply(gw.port, "x@other.test")[0] == 550
