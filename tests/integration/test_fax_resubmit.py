"""Issue 10 review: submitting a fax is idempotent. The gateway is killed (SIGKILL, crash point
fax.submitted) right after the job reached the real HylaFAX (tests/support/hylafax-server) and
before its pending reference was recorded; the message is retried at the restart, and the retry
finds the job by its tag (JOBINFO bridgehead/fax/<queue id>.<generation>.<index>) instead of
sending a second fax: there is exactly one job in sendq, and the recipient is pending on it."""
from __future__ import annotations

from smtpclient import make_message, send_raw
from smtppeers import wait_delivery
from bhtest import wait_until

# The HylaFAX server, its fixture and the gateway's fax connector settings are shared with
# the backend's own test.
from test_fax_hylafax import FAX_DOMAIN, NUMBER, fax_gateway, hylafax  # noqa: F401


def our_sendq_jobs(hylafax, qid: str) -> list[tuple[str, str]]:
    """(job id, JOBINFO) of the jobs in sendq tagged for queue id qid."""
    client = hylafax.client()
    try:
        lines = client.listing("sendq", "%j %o %J")
    finally:
        client.close()
    jobs = []
    for line in lines:
        job, owner, tag = (line.split(" ", 2) + ["", ""])[:3]
        if owner == "bridgehead" and tag.startswith(f"bridgehead/fax/{qid}."):
            jobs.append((job, tag))
    return jobs


def test_a_crash_after_the_submission_does_not_send_the_fax_twice(make_gateway, tmp_path,
                                                                   hylafax, monkeypatch):
    (tmp_path / "dsn-out").mkdir()
    gw = fax_gateway(make_gateway, tmp_path, hylafax)
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    monkeypatch.setenv("BRIDGEHEAD_CRASH_AT", "fax.submitted")
    gw.start()
    monkeypatch.delenv("BRIDGEHEAD_CRASH_AT")

    rcpt = f"{NUMBER}@{FAX_DOMAIN}"
    qid = send_raw(gw.port, make_message("Fax, once", b"Only one fax, please.\r\n", to=rcpt),
                   rcpts=(rcpt,))
    died = wait_until(lambda: not gw.alive(), 60)
    assert died, f"crash point fax.submitted was never reached:\n{gw.log_text()[-3000:]}"
    gw.expect_exit = True
    assert "crash_point fax.submitted" in gw.log_text(), gw.log_text()[-3000:]
    [(job, tag)] = our_sendq_jobs(hylafax, qid)  # the job reached HylaFAX
    assert not [e for e in gw.events("delivery", id=qid) if e.get("result") == "pending"], \
        "the crash came before the pending result was recorded"

    gw.start()
    [pending] = wait_delivery(gw, qid, "pending", timeout=60)
    found = gw.wait_event("fax_hylafax_job_found", timeout=10, tag=tag[len("bridgehead/fax/"):])
    assert found["job"] == job, found["_line"]
    assert f"fax job {job} " in pending["detail"], pending["_line"]
    assert our_sendq_jobs(hylafax, qid) == [(job, tag)], "exactly one job, the first one"
    assert not gw.events("fax_hylafax_submitted", job=str(int(job) + 1)), "no second JSUBM"
    assert len(gw.events("fax_hylafax_submitted")) == 1, gw.log_text()[-3000:]
