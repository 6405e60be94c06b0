"""Issue 10 end to end, without telephony: a tenant user's mail to +4930123456@fax.example.com
is rendered to TIFF-F by the fax connector (spool backend), transmitted through a real T.30
engine (build/tests/fax_loopback: two spandsp fax terminals over simulated audio), the result
file goes back to the gateway (the sender gets a report with the pages), and the TIFF the
answering terminal received comes back in as an incoming fax (`bridgehead ingest fax`) for the
number the directory gives the user. The mail it becomes reaches a test "Exchange Online" (an
aiosmtpd server whose STARTTLS requires a client certificate from the test CA) on a connection
that presented the tenant's own certificate, with a PDF of as many pages as were faxed, at the
fax page's size (A4 fine: 1728 pels at 204 dpi across, 2292 lines at 196 dpi down).
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import re
import smtplib
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from bhtest import _toml_value, bridgehead_bin, wait_until
from smtppeers import FAST_QUEUE, wait_delivery
from test_topologies import TopoGateway

TENANT = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
TENANT_DOMAIN = "contoso.test"
TENANT_CERT_NAME = "mail.contoso.test"  # a name of the tenant's domain, as Exchange Online wants
FAX_DOMAIN = "fax.example.com"
ALICE = f"alice@{TENANT_DOMAIN}"
ALICE_FAX = "+4930999999"  # the number the directory gives alice (her DID)
REMOTE = "+4930123456"  # the fax machine alice writes to
REMOTE_DISPLAY = "+49 30 123456"  # its international format, as the From display name shows it
REMOTE_CSI = "+49 30 123456"  # the answering terminal's station id (the CSID of the report)
ALICE_TSI = "+49 30 999999"  # the calling terminal's station id (TSI)
PDF_ATTACHMENT_PAGES = 2
# An A4 fine fax page in points: 1728 pels at 204 dpi (215 mm, T.4's scan width, not A4's
# 210 mm) by 2292 lines at 196 lpi (297 mm): 609.9 x 842.0.
A4_FINE_PT = (1728 / 204 * 72, 2292 / 196 * 72)

# The build the gateway under test comes from (read at import, before conftest swaps in a copy).
BUILD = bridgehead_bin().resolve().parent
LOOPBACK = BUILD / "tests" / "fax_loopback"
RENDER_HELPER = BUILD / "bridgehead-render"


# --------------------------------------------------------------------------- tools

def need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} not found: {path} (build the `all` target)", pytrace=False)
    return path


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


def loopback_lines(stdout: str) -> dict[str, dict[str, str]]:
    """fax_loopback's output: {"send": {...}, "receive": {...}, "summary": {...}}."""
    out = {}
    for line in stdout.splitlines():
        fields = dict((k, json.loads(v) if v.startswith('"') else v)
                      for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line))
        if line.startswith("summary "):
            out["summary"] = fields
        elif "side" in fields:
            out[fields["side"]] = fields
    return out


def pdfinfo(pdf: Path) -> tuple[int, list[tuple[float, float]]]:
    """(pages, [(width, height) in points of every page]) by poppler's pdfinfo."""
    r = run(["pdfinfo", "-f", "1", "-l", "9999", pdf])
    assert r.returncode == 0, f"pdfinfo: {r.stderr}"
    pages = int(re.search(r"(?m)^Pages:\s+(\d+)$", r.stdout).group(1))
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"(?m)^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", r.stdout)]
    return pages, sizes


def tiff_pages(tiff: Path) -> list[dict[str, str]]:
    """tiffinfo's directories: width, length, resolution, compression of each page."""
    r = run(["tiffinfo", tiff])
    assert r.returncode == 0, f"tiffinfo: {r.stderr}"
    pages = []
    for block in r.stdout.split("=== TIFF directory")[1:]:
        size = re.search(r"Image Width: (\d+) Image Length: (\d+)", block)
        res = re.search(r"Resolution: ([\d.]+), ([\d.]+)", block)
        pages.append({"width": int(size.group(1)), "length": int(size.group(2)),
                      "x_dpi": float(res.group(1)), "y_dpi": float(res.group(2))})
    return pages


def two_page_pdf(tmp: Path) -> bytes:
    """A 2-page A4 PDF made by Ghostscript from a few lines of PostScript."""
    ps = tmp / "attachment.ps"
    ps.write_text("%!PS\n/Helvetica findfont 28 scalefont setfont\n"
                  "1 1 2 { /n exch def 72 720 moveto (Attachment page ) show n 2 string cvs show\n"
                  "72 680 moveto (Quarterly figures) show showpage } for\n")
    pdf = tmp / "attachment.pdf"
    r = run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", "-sPAPERSIZE=a4",
             "-dFIXEDMEDIA", f"-sOutputFile={pdf}", ps])
    assert r.returncode == 0, f"gs: {r.stderr}"
    assert pdfinfo(pdf)[0] == PDF_ATTACHMENT_PAGES
    return pdf.read_bytes()


def alice_mail(tmp: Path) -> bytes:
    """Alice's mail as Exchange Online relays it: UTF-8 text with umlauts and a 2-page PDF."""
    m = EmailMessage()
    m["From"] = f"Alice Müller <{ALICE}>"
    m["To"] = f"<{REMOTE}@{FAX_DOMAIN}>"
    m["Subject"] = "Angebot für Köln"
    m["Message-ID"] = "<angebot-koeln@contoso.test>"
    m["Date"] = "Mon, 24 Nov 2025 12:00:00 +0000"
    for name, value in (("X-MS-Exchange-CrossTenant-Id", TENANT),
                        ("X-OriginatorOrg", TENANT_DOMAIN),
                        ("X-MS-Exchange-CrossTenant-AuthAs", "Internal"),
                        ("X-MS-Exchange-CrossTenant-FromEntityHeader", "Hosted")):
        m[name] = value
    m.set_content("Sehr geehrte Damen und Herren,\n\nanbei das Angebot für die Büroräume in Köln.\n"
                  "Größe: 120 m², Übergabe zum 1. März.\n\nMit freundlichen Grüßen\nAlice Müller\n",
                  charset="utf-8")
    m.add_attachment(two_page_pdf(tmp), maintype="application", subtype="pdf",
                     filename="angebot.pdf")
    return m.as_bytes(policy=email.policy.SMTP)


# --------------------------------------------------------------------------- PKI

def tenant_certificate(pki, out: Path) -> tuple[Path, Path]:
    """A clientAuth certificate for mail.contoso.test, signed by the test CA."""
    env = {**os.environ, "OPENSSL_CONF": "/dev/null"}
    key, csr, ext, pem = (out / f"{TENANT_CERT_NAME}.{x}" for x in ("key", "csr", "ext", "pem"))
    ext.write_text("basicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   f"extendedKeyUsage=clientAuth\nsubjectAltName=DNS:{TENANT_CERT_NAME}\n")
    for cmd in (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                ["req", "-new", "-key", key, "-subj", f"/O=Bridgehead Tests/CN={TENANT_CERT_NAME}",
                 "-out", csr],
                ["x509", "-req", "-in", csr, "-CA", pki.ca, "-CAkey", pki.ca_key, "-days", "30",
                 "-sha256", "-extfile", ext, "-set_serial", "0x" + os.urandom(8).hex(), "-out", pem]):
        r = run(["openssl", *cmd], env=env)
        assert r.returncode == 0, f"openssl {cmd[0]}: {r.stderr}"
    key.chmod(0o600)
    return pem, key


# --------------------------------------------------------------------------- gateway

def _value(v) -> str:
    """TOML for a value; tables (and arrays of tables) as inline tables."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return _toml_value(v)


class FaxGateway(TopoGateway):
    """TopoGateway (trust tables, directory, stamp) whose sub-tables are inline tables."""

    def write_config(self):
        out = []
        for name, body in self.config_dict().items():
            if body is None:
                continue
            for table in body if isinstance(body, list) else [body]:
                out.append(f"[[{name}]]" if isinstance(body, list) else f"[{name}]")
                out += [f"{k} = {_value(v)}" for k, v in table.items() if v is not None]
                out.append("")
        self.config.write_text("\n".join(out))

    def import_users(self, rows: list[dict]):
        """`bridgehead directory import` of a users CSV with the given columns."""
        columns = list(rows[0])
        csv = self.tmp / "users.csv"
        csv.write_text(",".join(columns) + "\r\n" +
                       "".join(",".join(r[c] for c in columns) + "\r\n" for r in rows))
        r = self.directory_cmd("import", csv)
        assert r.returncode == 0, f"directory import: {r.stdout}{r.stderr}"


@pytest.fixture
def fax_gateway(make_gateway, make_peer, pki, tmp_path):
    """The gateway, its spool folder and the "Exchange Online" peer (requires a client
    certificate from the test CA)."""
    exo = make_peer(tls=(pki.server, pki.server_key), client_ca=pki.ca, require_client_cert=True)
    cert, key = tenant_certificate(pki, tmp_path)
    spool = tmp_path / "fax-spool"
    for folder in ("outgoing", "results", "incoming"):  # the fax server's side of the folder
        (spool / folder).mkdir(parents=True)
    fax = {"name": "fax", "type": "fax", "backend": "spool", "domains": [FAX_DOMAIN],
           "spool_directory": spool, "poll_interval": 1, "ingest_poll_interval": 1,
           "success_notice": "report", "paper": "a4", "resolution": "fine", "compression": "g4",
           "render_helper": need(RENDER_HELPER, "render helper")}
    exo_connector = {"name": "exo", "type": "smtp", "smarthosts": [f"127.0.0.1:{exo.port}"],
                     "tls": "verify", "ca_file": pki.ca, "idle_time": 0, "audience": "tenant",
                     # mail without a tenant (the gateway's own reports) presents this one
                     "client_certificate": pki.client, "client_key": pki.client_key,
                     "tenant_certificate": [{"tenant": TENANT, "client_certificate": cert,
                                             "client_key": key}]}
    gw = make_gateway(
        start=False, cls=FaxGateway, directory=True, queue=dict(FAST_QUEUE),
        tenants=[{"id": TENANT, "name": "contoso", "domains": [TENANT_DOMAIN]}],
        inbound_connectors=[{"name": "contoso-exo", "kind": "microsoft365",
                             "certificate_names": ["mail.protection.outlook.com"],
                             "tenants": [TENANT], "services": ["fax"]}],
        routes=[{"domains": [FAX_DOMAIN], "connector": "fax", "service": "fax"},
                {"domains": [TENANT_DOMAIN], "connector": "exo"}],
        connectors=[fax, exo_connector])
    gw.write_config()
    gw.import_users([{"address": ALICE, "tenant": TENANT, "permissions": "fax",
                      "fax_numbers": ALICE_FAX}])
    gw.start()
    return gw, spool, exo


def submit_as_exchange_online(gw, message: bytes) -> str:
    """Alice's mail over the Microsoft 365 inbound connector (smtplib, STARTTLS with the
    certificate named like Exchange Online); returns the queue id."""
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="mail.protection.outlook.com",
                      timeout=30) as s:
        s.starttls(context=gw.pki.client_context("client"))
        s.ehlo("mail.protection.outlook.com")
        code, reply = s.mail(ALICE)
        assert code == 250, reply
        code, reply = s.rcpt(f"{REMOTE}@{FAX_DOMAIN}")
        assert code == 250, f"RCPT: {code} {reply}\n{gw.log_text()[-2000:]}"
        code, reply = s.data(message)
        assert code == 250, f"end of DATA: {code} {reply}\n{gw.log_text()[-2000:]}"
    m = re.search(rb"queued as <?([^\s<>]+)>?", reply)
    assert m, reply
    return m.group(1).decode()


def wait_messages(peer, pred, what: str, gw, timeout: float = 60.0):
    found = wait_until(lambda: [m for m in list(peer.messages) if pred(m)], timeout, 0.1)
    assert found, (f"Exchange Online got no {what} within {timeout}s (got: "
                   f"{[m.subject for m in peer.messages]}); queue={gw.queue_list()}\n"
                   f"log tail:\n{gw.log_text()[-4000:]}")
    return found


def parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)


def readable_text(msg) -> str:
    """Every text part and delivery-status block of a message, decoded, one after the other."""
    out = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            out += [str(block) for block in part.get_payload()]
        elif part.get_content_maintype() == "text":
            out.append(part.get_content())
    return "\n".join(out)


# =========================================================================== test

@pytest.mark.parametrize("ecm", [False, True], ids=["t4", "ecm"])
def test_mail_to_fax_through_t30_and_back_to_exchange_online(fax_gateway, tmp_path, ecm):
    gw, spool, exo = fax_gateway
    loopback = need(LOOPBACK, "fax_loopback")

    # (a) Alice's mail becomes a fax job in the spool folder.
    qid = submit_as_exchange_online(gw, alice_mail(tmp_path))
    outgoing = spool / "outgoing"
    jobs = wait_until(lambda: sorted(outgoing.glob("*.json")), 60, 0.1)
    assert jobs, f"no job in {outgoing} within 60 s; queue={gw.queue_list()}\n{gw.log_text()[-4000:]}"
    [job_file] = jobs
    job = json.loads(job_file.read_text())
    ref = job_file.stem
    tiff = outgoing / f"{ref}.tif"
    assert tiff.exists(), f"job {ref} without its TIFF: {sorted(outgoing.iterdir())}"
    assert job["number"] == REMOTE and job["reference"] == ref, job
    wait_delivery(gw, qid, "pending")  # handed to the fax server, the result still to come
    sent_tiff = tiff_pages(tiff)
    # One page of body text and the PDF's two pages (no cover page), A4 fine.
    assert len(sent_tiff) == 1 + PDF_ATTACHMENT_PAGES, sent_tiff
    assert job["pages"] == len(sent_tiff), job
    for page in sent_tiff:
        geometry = (page["width"], page["length"], page["x_dpi"], page["y_dpi"])
        assert geometry == (1728, 2292, 204, 196), page

    # (b) A real T.30 session between two spandsp terminals over simulated audio.
    received = tmp_path / "received.tif"
    r = run([loopback, "--send", tiff, "--receive", received, "--tsi", ALICE_TSI,
             "--csi", REMOTE_CSI, *(["--ecm"] if ecm else [])])
    result = loopback_lines(r.stdout)
    assert r.returncode == 0, f"fax_loopback failed ({r.returncode}):\n{r.stdout}{r.stderr}"
    send, recv = result["send"], result["receive"]
    assert (send["result"], recv["result"]) == ("0", "0"), result
    assert (send["ecm"], send["bit_rate"]) == ("1" if ecm else "0", "14400"), result
    pages = int(send["pages"])
    assert pages == int(recv["pages"]) == len(sent_tiff), result
    assert send["remote_ident"] == REMOTE_CSI and recv["remote_ident"] == ALICE_TSI, result
    received_pages = tiff_pages(received)
    assert len(received_pages) == pages, received_pages

    # (c) The fax server reports the job done; alice gets a report with the pages.
    results = spool / "results"
    results.mkdir(exist_ok=True)
    report = {"reference": ref, "status": "sent", "pages": pages, "pages_total": len(sent_tiff),
              "csid": send["remote_ident"], "duration": int(result["summary"]["simulated_seconds"]),
              "text": send["text"]}
    (results / f"{ref}.json.tmp").write_text(json.dumps(report))
    os.rename(results / f"{ref}.json.tmp", results / f"{ref}.json")
    gw.wait_event("pending_report", timeout=30, reference=ref, result="delivered")
    gw.wait_event("pending_resolved", timeout=30, id=qid, result="delivered")
    [notice] = wait_messages(exo, lambda m: ALICE in m.rcpt_tos and m.mail_from in ("<>", ""),
                             "success report", gw)
    text = readable_text(parsed(notice.content))
    assert re.search(rf"\b{pages} of {pages} pages\b", text), \
        f"the report does not say the {pages} pages were sent:\n{text}"
    assert REMOTE_CSI in text, f"the report does not name the remote station:\n{text}"
    wait_until(lambda: not (results / f"{ref}.json").exists(), 30, 0.1)
    assert not (results / f"{ref}.json").exists(), "the result file was not taken"

    # (d) The received TIFF comes back in as a fax to alice's number.
    r = gw.cli("ingest", "fax", "--called", ALICE_FAX, "--caller", REMOTE, "--tsi",
               recv["remote_ident"], received)
    assert r.returncode == 0, f"ingest fax ({r.returncode}): {r.stdout}{r.stderr}"
    taken = gw.wait_event("fax_received", timeout=60, called=ALICE_FAX, result="queued")
    assert (taken["mailbox"], taken["tenant"], taken["pages"]) == (ALICE, TENANT, str(pages)), taken
    wait_delivery(gw, taken["id"], "delivered", timeout=30)

    # (e) It reaches Exchange Online with the tenant's certificate, from the caller's fax address.
    [fax_mail] = wait_messages(exo, lambda m: m.mail_from not in ("<>", "") and ALICE in m.rcpt_tos,
                               "fax mail", gw)
    assert fax_mail.tls, "delivered without TLS"
    assert fax_mail.peer_cn() == TENANT_CERT_NAME, f"presented {fax_mail.tls['peercert']}"
    issuer = dict(x for rdn in fax_mail.tls["peercert"]["issuer"] for x in rdn)
    assert issuer.get("commonName") == "Bridgehead Test CA"
    msg = parsed(fax_mail.content)
    sender = msg["From"].addresses[0]
    assert sender.addr_spec == f"{REMOTE}@{FAX_DOMAIN}", msg["From"]
    assert sender.display_name == f"Fax {REMOTE_DISPLAY}", msg["From"]
    assert msg["To"].addresses[0].addr_spec == ALICE, msg["To"]
    assert REMOTE_DISPLAY in msg["Subject"] and re.search(rf"\b{pages} pages\b", msg["Subject"]), \
        msg["Subject"]
    pdfs = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in msg.walk()]
    pdf = tmp_path / "fax.pdf"
    pdf.write_bytes(pdfs[0].get_content())
    pdf_pages, sizes = pdfinfo(pdf)
    assert pdf_pages == pages, f"the PDF has {pdf_pages} pages, {pages} were faxed"
    assert len(sizes) == pages
    for (w, h), page in zip(sizes, received_pages):
        # Each PDF page has the size of the fax page it shows, which is A4 fine.
        faxed = (page["width"] / page["x_dpi"] * 72, page["length"] / page["y_dpi"] * 72)
        assert abs(w - faxed[0]) <= 1 and abs(h - faxed[1]) <= 1, \
            f"PDF page {w} x {h} pt, the fax page is {faxed} pt ({page})"
        assert abs(w - A4_FINE_PT[0]) <= 2 and abs(h - A4_FINE_PT[1]) <= 2, \
            f"page size {w} x {h} pt, expected {A4_FINE_PT} (an A4 fine fax page)"


def test_loopback_fails_when_the_receiver_cannot_take_the_page(tmp_path):
    """The loopback is only as good as its failures: a 300 dpi page is no T.4 resolution, the
    receiver cannot take it (T.30 phase E code 11 on the sending side), and the tool says so."""
    ps = tmp_path / "page.ps"
    ps.write_text("%!PS\n/Helvetica findfont 28 scalefont setfont 72 720 moveto (300 dpi) show showpage\n")
    tiff = tmp_path / "300dpi.tif"
    r = run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg4", "-r300",
             "-sPAPERSIZE=a4", f"-sOutputFile={tiff}", ps])
    assert r.returncode == 0, f"gs: {r.stderr}"
    r = run([need(LOOPBACK, "fax_loopback"), "--send", tiff, "--receive", tmp_path / "out.tif"])
    result = loopback_lines(r.stdout)
    assert r.returncode == 1, f"fax_loopback exit {r.returncode}:\n{r.stdout}{r.stderr}"
    assert result["send"]["result"] == "11", result  # T30_ERR_NORESSUPPORT
    assert "resolution" in result["send"]["text"], result
    assert result["summary"]["ok"] == "0" and result["receive"]["pages"] == "0", result
