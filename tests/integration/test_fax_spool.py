"""Issue 10: the fax connector with the spool backend (a hot folder), through the real gateway
and the real render helper (bridgehead-render): a mail to +4930123456@fax.example.com becomes
a TIFF-F plus a job file in outgoing/; the test plays the fax server and writes the result file,
which resolves the pending recipient (a success DSN when asked for, or always with
success_notice = "report"; a failure DSN with the fax server's text). Bad numbers, blocked
destinations and parts that cannot be faxed bounce with DSNs."""
from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.policy import SMTP

from bhtest import wait_until
from faxhelp import NO_FAX_SENDER, send_refused
from faxspool import FAX, fax_gateway, text_mail, tiff_pages, wait_job, write_result
from smtpclient import make_message, send_raw
from smtppeers import parse_dsn, wait_delivery, wait_state


def pdf_bytes(pages: int) -> bytes:
    """A minimal valid PDF with `pages` A4 pages, one line of text each, written by hand with a
    correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i in range(pages):
        content = f"BT /F1 24 Tf 72 720 Td (PDF page {i + 1}) Tj ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def dsn_of(gw, qid: str, kind: str, timeout: float = 30.0) -> tuple:
    ev = wait_until(lambda: [e for e in gw.events("dsn", id=qid) if e["kind"] == kind], timeout)
    assert ev, f"no {kind} DSN for {qid}:\n{gw.log_text()[-3000:]}"
    return parse_dsn(gw.wait_delivered(ev[0]["dsn_id"]))


def bounced(gw, qid: str, status: str, pending=False) -> tuple[dict, tuple]:
    """The bounce of qid (at delivery, or when its pending result is resolved) and its DSN."""
    if pending:
        found = wait_until(lambda: gw.events("pending_resolved", id=qid, result="bounced"), 60)
        assert found, f"{qid} not resolved as bounced:\n{gw.log_text()[-3000:]}"
        [bounce] = found
    else:
        [bounce] = wait_delivery(gw, qid, "bounced", timeout=60)
    assert bounce["status"] == status, bounce["_line"]
    dsn, parts = dsn_of(gw, qid, "failure")
    [block] = parts["recipients"]
    assert str(block["Status"]).strip() == status
    return bounce, (dsn, parts)


# --------------------------------------------------------------------------- mail -> fax

def test_text_mail_becomes_a_fax_and_a_sent_result_a_success_dsn(make_gateway):
    gw = fax_gateway(make_gateway)
    body = "Grüße aus Köln, Straße 5. Ärger über Öl? Übermorgen!\n" * 3
    asked = send_raw(gw.port, text_mail("Grüße per Fax", body), rcpts=(f"+4930123456@{FAX}",),
                     rcpt_params="NOTIFY=SUCCESS,FAILURE")
    job, tiff = wait_job(gw, asked)
    assert job["number"] == "+4930123456"
    # <queue id>.<16 hex digits>: the queue id and a hash of the recipient's address.
    assert re.fullmatch(re.escape(asked) + r"\.[0-9a-f]{16}", job["tag"]), job["tag"]
    assert job["sender"] == "sender@origin.test"
    assert (job["paper"], job["resolution"], job["compression"]) == ("a4", "fine", "g4")
    pages = tiff_pages(tiff)
    assert len(pages) == job["pages"] == 1, pages
    assert pages[0]["width"] == 1728 and pages[0]["length"] == 2292, pages
    assert "CCITT Group 4" in pages[0]["compression"], pages
    [pending] = wait_delivery(gw, asked, "pending")
    # The sender's text names no local path, and a spool folder is no Remote-MTA.
    assert f"fax job {job['reference']} queued at the fax spool folder" in pending["detail"], \
        pending["_line"]
    assert pending["remote"] == "", pending["_line"]
    assert asked in gw.queue_list(), "a pending message stays queued"
    assert not list((gw.fax_spool / "work").iterdir()), "nothing is left in the work directory"

    # Without NOTIFY=SUCCESS (and success_notice = "dsn") a sent fax reports nothing.
    silent = send_raw(gw.port, text_mail("no report wanted", "Hallo"), rcpts=(f"+4930123456@{FAX}",))
    silent_job, _ = wait_job(gw, silent)

    write_result(gw, job["reference"], status="sent", text="", pages=1, csid="+49 30 999",
                 duration=41, code=0, number="+4930123456")
    write_result(gw, silent_job["reference"], status="sent", pages=1, duration=12)
    dsn, parts = dsn_of(gw, asked, "success")
    assert "sender@origin.test" in dsn["To"]
    [block] = parts["recipients"]
    assert str(block["Action"]).strip() == "delivered"
    assert str(block["Status"]).strip() == "2.0.0"
    assert parts["text"].startswith(
        'Your fax to +49 30 123456 was sent: 1 of 1 pages in 41 s, remote station "+49 30 999".'
    ), parts["text"]
    assert " ".join(str(block["Diagnostic-Code"]).split()).startswith("x-fax; fax to"), block
    assert "+49 30 999" in parts["text"]
    wait_state(gw, asked, None)
    wait_state(gw, silent, None)
    assert gw.events("pending_resolved", id=silent, result="delivered")
    assert not [e for e in gw.events("dsn", id=silent)], "no DSN without NOTIFY=SUCCESS"
    assert not list((gw.fax_spool / "results").glob("*.json")), "reported results are deleted"


def test_report_mode_always_reports_and_a_failed_result_bounces(make_gateway):
    gw = fax_gateway(make_gateway, success_notice="report")
    sent = send_raw(gw.port, text_mail("report", "Seite eins\n"), rcpts=(f"+4930123456@{FAX}",))
    never = send_raw(gw.port, text_mail("never", "Seite eins\n"), rcpts=(f"+4930123456@{FAX}",),
                     rcpt_params="NOTIFY=NEVER")
    failed = send_raw(gw.port, text_mail("failed", "Seite eins\n"), rcpts=(f"004930123456@{FAX}",))
    sent_job, _ = wait_job(gw, sent)
    never_job, _ = wait_job(gw, never)
    failed_job, _ = wait_job(gw, failed)
    assert failed_job["number"] == "+4930123456"
    write_result(gw, sent_job["reference"], status="sent", pages=1, duration=30, csid="REMOTE 1")
    write_result(gw, never_job["reference"], status="sent", pages=1, duration=30)
    write_result(gw, failed_job["reference"], status="failed", text="Kill time expired",
                 code=325, pages=0, pages_total=1)

    _, parts = dsn_of(gw, sent, "success")
    assert parts["text"].startswith("Your fax"), parts["text"]
    assert "1 of 1 pages in 30 s" in parts["text"] and "REMOTE 1" in parts["text"], parts["text"]
    _, (_, parts) = bounced(gw, failed, "5.4.7", pending=True)
    assert "Kill time expired (status 325)" in parts["text"], parts["text"]
    [block] = parts["recipients"]
    assert "Kill time expired" in str(block["Diagnostic-Code"])
    wait_state(gw, never, None)
    assert not gw.events("dsn", id=never), "NOTIFY=NEVER: no report"


def test_malformed_result_is_moved_aside(make_gateway):
    gw = fax_gateway(make_gateway)
    qid = send_raw(gw.port, text_mail("bad result", "x\n"), rcpts=(f"+4930123456@{FAX}",))
    job, _ = wait_job(gw, qid)
    write_result(gw, job["reference"], status="perhaps")
    bad = gw.fax_spool / "results" / "bad" / f"{job['reference']}.json"
    assert wait_until(bad.exists, 20), gw.log_text()[-3000:]
    assert gw.events("fax_result_malformed")
    assert qid in gw.queue_list(), "still pending: a bad result file resolves nothing"


def test_invalid_number_bounces_5_1_3(make_gateway):
    gw = fax_gateway(make_gateway)
    qid = send_raw(gw.port, make_message("to nobody", to=f"ann@{FAX}"), rcpts=(f"ann@{FAX}",))
    bounce, (_, parts) = bounced(gw, qid, "5.1.3")
    assert "'ann' is not a fax number" in bounce["detail"], bounce["_line"]
    assert not list((gw.fax_spool / "outgoing").iterdir())


def test_premium_rate_number_bounces_5_7_1(make_gateway):
    gw = fax_gateway(make_gateway, blocked_prefixes=["+4940"])
    premium = send_raw(gw.port, make_message("premium"), rcpts=(f"+499001234567@{FAX}",))
    bounce, _ = bounced(gw, premium, "5.7.1")
    assert "premium rate" in bounce["detail"], bounce["_line"]
    prefix = send_raw(gw.port, make_message("prefix"), rcpts=(f"FAX=+49-40-123456@{FAX}",))
    bounce, _ = bounced(gw, prefix, "5.7.1")
    assert 'blocked_prefixes entry "+4940"' in bounce["detail"], bounce["_line"]
    assert not list((gw.fax_spool / "outgoing").iterdir())


def test_zip_attachment_bounces_naming_the_part(make_gateway):
    gw = fax_gateway(make_gateway)
    m = EmailMessage(policy=SMTP)
    m["From"] = "Sender <sender@origin.test>"
    m["To"] = f"+4930123456@{FAX}"
    m["Subject"] = "with a zip"
    m.set_content("see the archive\n")
    m.add_attachment(b"PK\x03\x04 not really", maintype="application", subtype="zip",
                     filename="report.zip")
    qid = send_raw(gw.port, m.as_bytes(), rcpts=(f"+4930123456@{FAX}",))
    [bounce] = wait_delivery(gw, qid, "bounced", timeout=60)
    assert bounce["status"].startswith("5."), bounce["_line"]
    assert "application/zip" in bounce["detail"] and "report.zip" in bounce["detail"], bounce["_line"]
    _, parts = dsn_of(gw, qid, "failure")
    assert "report.zip" in parts["text"], parts["text"]
    assert not list((gw.fax_spool / "outgoing").iterdir())


def test_pdf_attachment_pages_become_fax_pages(make_gateway):
    gw = fax_gateway(make_gateway, resolution="normal", compression="g3")
    m = EmailMessage(policy=SMTP)
    m["From"] = "Sender <sender@origin.test>"
    m["To"] = f"+4930123456@{FAX}"
    m["Subject"] = "a PDF"
    m.set_content(pdf_bytes(3), maintype="application", subtype="pdf", filename="three.pdf")
    qid = send_raw(gw.port, m.as_bytes(), rcpts=(f"+4930123456@{FAX}",))
    job, tiff = wait_job(gw, qid)
    pages = tiff_pages(tiff)
    assert job["pages"] == len(pages) == 3, (job, pages)
    assert all(p["width"] == 1728 and p["length"] == 1146 for p in pages), pages
    assert (job["resolution"], job["compression"]) == ("normal", "g3")
    assert all("CCITT Group 3" in p["compression"] for p in pages), pages


def test_message_over_max_message_size_bounces_5_3_4(make_gateway):
    gw = fax_gateway(make_gateway, max_message_size=2048)
    qid = send_raw(gw.port, make_message("big", (b"x" * 70 + b"\r\n") * 60),
                   rcpts=(f"+4930123456@{FAX}",))
    bounce, _ = bounced(gw, qid, "5.3.4")
    assert "max_message_size" in bounce["detail"], bounce["_line"]


def test_one_render_per_message_and_one_per_recipient_with_a_cover(make_gateway, tmp_path):
    cover = tmp_path / "cover.txt"
    cover.write_text("Fax für {recipient}\nvon {sender}\nBetreff: {subject}\n{pages} Seite(n), {date}\n")
    plain = fax_gateway(make_gateway)
    rcpts = (f"+4930123456@{FAX}", f"FAX=+49-30-654321@{FAX}")
    qid = send_raw(plain.port, text_mail("two numbers", "Hallo\n"), rcpts=rcpts)
    wait_delivery(plain, qid, "pending", n=2)
    jobs = sorted(json.loads(p.read_text())["number"]
                  for p in (plain.fax_spool / "outgoing").glob(f"{qid}.*.json"))
    assert jobs == ["+4930123456", "+4930654321"]
    assert len(plain.events("fax_rendered", id=qid)) == 1, "rendered once for both recipients"

    covered = fax_gateway(make_gateway, cover_template=cover)
    qid = send_raw(covered.port, text_mail("with a cover", "Hallo\n"), rcpts=rcpts)
    wait_delivery(covered, qid, "pending", n=2)
    rendered = covered.events("fax_rendered", id=qid)
    assert len(rendered) == 2, "the cover names the recipient: one render each"
    assert all(e["pages"] == "2" and e["document_pages"] == "1" for e in rendered), rendered
    for path in (covered.fax_spool / "outgoing").glob(f"{qid}.*.json"):
        job = json.loads(path.read_text())
        assert job["pages"] == len(tiff_pages(covered.fax_spool / "outgoing" / job["tiff"])) == 2


# --------------------------------------------------------------------------- the fax permission

def test_sender_without_the_fax_permission_is_refused(make_gateway):
    """The route names no service: the fax connector's kind implies it. A sender the directory
    lists without the permission, and one it does not list, are refused at the end of DATA;
    nothing is queued and nothing reaches the spool folder."""
    gw = fax_gateway(make_gateway)
    number = f"+4930123456@{FAX}"
    for sender, reason in ((NO_FAX_SENDER, "no fax permission"),
                           ("stranger@origin.test", "sender not in the directory")):
        final = send_refused(gw.port, make_message("no permission", sender=sender), number, sender)
        assert (final.code, final.enhanced) == (550, "5.7.1"), str(final)
        assert f"Sender <{sender}> is not permitted to use the fax service" in final.text, str(final)
        assert wait_until(lambda: reason in gw.log_text(), 5), gw.log_text()[-3000:]
    assert not gw.queue_list(), "a refused message was queued"
    qid = send_raw(gw.port, text_mail("permitted", "Hallo\n"), rcpts=(number,))
    job, _ = wait_job(gw, qid)
    assert job["sender"] == "sender@origin.test"
    assert [p.name for p in (gw.fax_spool / "outgoing").glob("*.json")] == [f"{job['reference']}.json"]


def test_transport_rule_redirect_to_the_fax_connector_needs_the_permission(make_gateway, tmp_path):
    """fax2.example.com is routed to a file connector; a transport rule sends it to the fax
    connector instead, which no route for it names: the fax service applies all the same."""
    (tmp_path / "files2").mkdir()
    gw = fax_gateway(
        make_gateway, domains=[FAX, "fax2.example.com"],
        routes=[{"domains": ["fax2.example.com"], "connector": "files2"}],
        connectors=[{"name": "files2", "type": "file", "directory": tmp_path / "files2"}],
        extra_toml='\n[[rule]]\nname = "fax2 to fax"\nif_recipient_domain = ["fax2.example.com"]\n'
                   'route_to = "fax"\n')
    number = "+4930123456@fax2.example.com"
    final = send_refused(gw.port, make_message("redirected", sender=NO_FAX_SENDER), number,
                         NO_FAX_SENDER)
    assert (final.code, final.enhanced) == (550, "5.7.1"), str(final)
    assert f"Sender <{NO_FAX_SENDER}> is not permitted to use the fax service" in final.text, \
        str(final)
    assert not gw.queue_list(), "a refused message was queued"
    qid = send_raw(gw.port, text_mail("redirected, permitted", "Hallo\n"), rcpts=(number,))
    job, _ = wait_job(gw, qid)
    assert job["number"] == "+4930123456", job


def test_a_bounce_to_a_fax_address_is_discarded_not_faxed(make_gateway, make_peer):
    """A forged envelope sender at the fax domain: the mail needs no service (it goes to
    bounce.test, whose next hop refuses it), but its bounce would go to the fax connector.
    The DSN is discarded with a log line instead; nothing reaches the spool folder."""
    refuser = make_peer(rcpt_reply=lambda addr, n: "550 5.1.1 no such user")
    gw = fax_gateway(
        make_gateway, routes=[{"domains": ["bounce.test"], "connector": "out"}],
        connectors=[{"name": "out", "type": "smtp", "smarthosts": [f"127.0.0.1:{refuser.port}"],
                     "tls": "none"}])
    forged = f"+499001234567@{FAX}"
    qid = send_raw(gw.port, make_message("bounce me", sender=forged, to="x@bounce.test"),
                   rcpts=("x@bounce.test",), sender=forged)
    [bounce] = wait_delivery(gw, qid, "bounced", timeout=30)
    assert bounce["status"] == "5.1.1", bounce["_line"]
    discarded = gw.wait_event("dsn_discarded", timeout=15, id=qid)
    assert discarded["to"] == forged and discarded["kind"] == "failure", discarded
    assert "routed to connector fax (service fax)" in discarded["reason"], discarded
    wait_state(gw, qid, None)
    assert not gw.events("dsn", id=qid), "a DSN was queued"
    assert not gw.queue_list(), gw.queue_list()
    assert not list((gw.fax_spool / "outgoing").iterdir()), "the bounce became a fax"
