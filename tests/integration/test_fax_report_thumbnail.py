"""report_thumbnail (issue 10's fax connector, spool backend): the sender's success report
carries page one as an inline PNG, kept in the shared store from the submission to the report;
without report_thumbnail none is made or kept."""
from __future__ import annotations

import re
import subprocess
import sqlite3
from pathlib import Path

from bhtest import wait_until
from faxhelp import png_size, report_parts
from faxspool import FAX, fax_gateway, text_mail, tiff_pages, wait_job, write_result
from smtpclient import send_raw
from smtppeers import wait_delivery, wait_state


def tiff_resolution(tiff: Path) -> tuple[float, float]:
    """Page one's x and y resolution (pixels per inch), as tiffinfo reads them."""
    r = subprocess.run(["tiffinfo", str(tiff)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    found = re.search(r"Resolution: ([\d.]+), ([\d.]+) pixels/inch", r.stdout)
    assert found, r.stdout
    return float(found.group(1)), float(found.group(2))


def thumbnails_kept(gw) -> int:
    """Rows of the fax connector's thumbnail table in the shared store (the directory's
    SQLite file)."""
    with sqlite3.connect(gw.dbfile) as db:
        return db.execute("SELECT count(*) FROM fax_thumbnails").fetchone()[0]


def test_report_has_a_thumbnail_of_page_one(make_gateway, make_peer):
    """report_thumbnail: the sender's report, delivered over SMTP to a real peer, has its human
    part as multipart/mixed with the text and page one as an inline PNG as wide as configured
    and as high as page one's real aspect. The thumbnail waits in the shared store from the
    submission to the report, over a restart, and is gone once the report is written."""
    peer = make_peer()
    gw = fax_gateway(make_gateway, success_notice="report", report_thumbnail=True,
                     report_thumbnail_width=240,
                     dsn_connector={"type": "smtp", "smarthosts": [f"127.0.0.1:{peer.port}"],
                                    "tls": "none"})
    qid = send_raw(gw.port, text_mail("with a picture", "Seite eins\n" * 20),
                   rcpts=(f"+4930123456@{FAX}",))
    job, tiff = wait_job(gw, qid)
    [page] = tiff_pages(tiff)
    x_dpi, y_dpi = tiff_resolution(tiff)
    kept = gw.wait_event("fax_thumbnail_kept", timeout=30, id=qid)
    assert kept["reference"] == job["reference"], kept
    assert thumbnails_kept(gw) == 1
    wait_delivery(gw, qid, "pending")
    # Kept in the shared store, not in the process: a restart before the result changes nothing.
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    gw.start()
    write_result(gw, job["reference"], status="sent", pages=1, duration=25, csid="REMOTE 2",
                 number="+4930123456")

    [report] = peer.wait_messages(1, timeout=60)
    assert report.mail_from in ("", "<>"), report.mail_from
    assert report.rcpt_tos == ["sender@origin.test"], report.rcpt_tos
    text, extra, types = report_parts(report.content)
    assert types == ["multipart/mixed", "message/delivery-status", "text/rfc822-headers"], types
    assert text.startswith("Your fax to +49 30 123456 was sent: 1 of 1 pages in 25 s"), text
    # Named by the number, in the text and as the file.
    assert "Attached: page1-4930123456.png, page one of the fax to +49 30 123456." in text, text
    [(content_type, disposition, filename, png)] = extra
    assert (content_type, disposition, filename) == ("image/png", "inline",
                                                     "page1-4930123456.png")
    width, height = png_size(png)
    assert width == 240, (width, height)
    # Page one is 1728 x 2292 pels at 204 x 196 dpi: its real height in pels of its width.
    assert height == round(page["length"] * 240 / page["width"] * x_dpi / y_dpi), \
        (width, height, page, x_dpi, y_dpi)
    assert max(len(line) for line in report.content.split(b"\r\n")) <= 998
    body = report.content[report.content.index(b"Content-Transfer-Encoding: base64\r\n\r\n"):]
    base64_lines = body.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0].split(b"\r\n")
    assert max(len(line) for line in base64_lines) == 76, base64_lines[:2]
    wait_state(gw, qid, None)
    assert wait_until(lambda: thumbnails_kept(gw) == 0, 10), "the thumbnail outlived its report"


def test_report_without_report_thumbnail_has_no_picture(make_gateway, make_peer):
    """success_notice = "report" alone: the report's human part is the plain text, and no
    thumbnail is made or kept."""
    peer = make_peer()
    gw = fax_gateway(make_gateway, success_notice="report",
                     dsn_connector={"type": "smtp", "smarthosts": [f"127.0.0.1:{peer.port}"],
                                    "tls": "none"})
    qid = send_raw(gw.port, text_mail("no picture", "Seite eins\n"), rcpts=(f"+4930123456@{FAX}",))
    job, _ = wait_job(gw, qid)
    wait_delivery(gw, qid, "pending")
    write_result(gw, job["reference"], status="sent", pages=1, duration=9, number="+4930123456")
    [report] = peer.wait_messages(1, timeout=60)
    text, extra, types = report_parts(report.content)
    assert types == ["text/plain", "message/delivery-status", "text/rfc822-headers"], types
    assert extra == [], extra
    assert text.startswith("Your fax to +49 30 123456 was sent: 1 of 1 pages in 9 s"), text
    assert "Attached" not in text and b"image/png" not in report.content
    assert not gw.events("fax_thumbnail_kept"), "a thumbnail was made"
    assert thumbnails_kept(gw) == 0
