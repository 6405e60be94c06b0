"""Fax -> mail (issue 10): a received fax (a TIFF and the call's numbers) becomes a mail to the
mailbox the directory gives the called number, through the intake pipeline (the processed
stamp), and is delivered by the smtp connector the tenant's domain routes to (an aiosmtpd peer).
Faxes come in through `bridgehead ingest fax` (what HylaFAX's FaxDispatch calls: it drops the
fax into the connector's ingest folder) and through POST /v1/ingest/fax (202 once the fax is in
that folder). An unknown number goes to the catch-all, or is moved to rejected/ with a reason; so
is a fax that cannot be read, and the gateway carries on. The folder's writer cannot make the
gateway read or write elsewhere: a symlinked or hard-linked TIFF is refused, and rejected/ must be
the gateway's own directory. Real gateway, real render helper (bridgehead-render), real Ghostscript
to make the TIFF-F and poppler's pdfinfo to read the PDF."""
from __future__ import annotations

import email
import email.policy
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from adminhelp import Api, admin_toml
from bhtest import REPO_ROOT, free_port, wait_until
from smtppeers import FAST_QUEUE
from test_topologies import STAMP, STAMP_RE, TopoGateway, render, smtp_out

T1 = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"
T2 = "9f8e7d6c-5b4a-4321-8fed-cba987654321"
DOMAIN1, DOMAIN2 = "contoso.test", "fabrikam.test"
ANNA = f"anna@{DOMAIN1}"
ANNA_FAX = "+4930654321"          # anna's DID
BOB = f"bob@{DOMAIN2}"
BOB_FAX = "+4940777777"           # a number of the other tenant
UNKNOWN_NUMBER = "+4930555555"    # nobody's
CATCH_ALL = f"fax-desk@{DOMAIN1}"
CALLER = "+4930123456"
CALLER_DISPLAY = "+49 30 123456"
FAX_DOMAIN = "fax.example.com"

BUILD = Path(os.environ.get("BRIDGEHEAD_BUILD_DIR", REPO_ROOT / "build"))
RENDER_HELPER = BUILD / "bridgehead-render"


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


def make_two_page_tiff(out: Path) -> Path:
    """A 2-page TIFF-F (G4, 1728 pels at 204 x 196 dpi) made by Ghostscript."""
    ps = out / "fax.ps"
    ps.write_text("%!PS\n/Helvetica findfont 40 scalefont setfont\n"
                  "1 1 2 { /n exch def 72 700 moveto (Fax page ) show n 2 string cvs show "
                  "showpage } for\n")
    tiff = out / "fax.tif"
    r = run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg4", "-r204x196",
             "-g1728x2292", "-dFIXEDMEDIA", "-dPDFFitPage", f"-sOutputFile={tiff}", ps])
    assert r.returncode == 0 and tiff.exists(), f"gs: {r.stderr}"
    info = run(["tiffinfo", tiff]).stdout
    assert info.count("TIFF Directory") == 2, info
    return tiff


@pytest.fixture(scope="module")
def two_page_tiff(tmp_path_factory) -> Path:
    return make_two_page_tiff(tmp_path_factory.mktemp("tiff"))


def fax_connector(spool: Path, **extra) -> dict:
    """A fax connector with the spool backend (its folders made here) and the real helper."""
    if not RENDER_HELPER.exists():
        pytest.fail(f"render helper not found: {RENDER_HELPER} (build bridgehead-render)",
                    pytrace=False)
    for folder in ("outgoing", "results"):
        (spool / folder).mkdir(parents=True, exist_ok=True)
    return {"name": "fax", "type": "fax", "backend": "spool", "domains": [FAX_DOMAIN],
            "spool_directory": spool, "poll_interval": 1, "ingest_poll_interval": 1,
            "render_helper": RENDER_HELPER, **extra}


def pdfinfo(pdf: Path) -> tuple[int, list[tuple[float, float]]]:
    r = run(["pdfinfo", "-f", "1", "-l", "9999", pdf])
    assert r.returncode == 0, f"pdfinfo: {r.stderr}"
    pages = int(re.search(r"(?m)^Pages:\s+(\d+)$", r.stdout).group(1))
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"(?m)^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", r.stdout)]
    return pages, sizes


class IngestGateway(TopoGateway):
    """TopoGateway (trust tables, directory, stamp) that keeps extra_toml ([admin])."""

    def config_dict(self) -> dict:
        cfg = super().config_dict()
        if self.overrides.get("max_stale"):
            cfg["directory"]["max_stale"] = self.overrides["max_stale"]
        return cfg

    def write_config(self):
        self.config.write_text(render(self.config_dict()) + self.overrides.get("extra_toml", ""))

    def import_users(self, rows: list[dict]):
        columns = list(rows[0])
        csv = self.tmp / "users.csv"
        csv.write_text(",".join(columns) + "\n" + "".join(",".join(r[c] for c in columns) + "\n"
                                                          for r in rows))
        r = self.directory_cmd("import", csv)
        assert r.returncode == 0, f"directory import: {r.stdout}{r.stderr}"


@pytest.fixture
def fax_gateway(make_gateway, make_peer, tmp_path):
    """Factory: fax_gateway(catch_all=None, admin=False, max_stale=0) -> (gw, peer, ingest folder,
    Api|None); max_stale: [directory] max_stale in seconds (0: the default)."""

    def factory(catch_all: str | None = None, admin: bool = False, max_stale: int = 0):
        peer = make_peer()
        spool = tmp_path / f"fax-spool-{free_port()}"
        fax = fax_connector(spool, **({"catch_all": catch_all} if catch_all else {}))
        admin_port = free_port()
        gw = make_gateway(
            start=False, cls=IngestGateway, directory=True, queue=dict(FAST_QUEUE),
            tenants=[{"id": T1, "name": "contoso", "domains": [DOMAIN1]},
                     {"id": T2, "name": "fabrikam", "domains": [DOMAIN2]}],
            routes=[{"domains": [FAX_DOMAIN], "connector": "fax", "service": "fax"},
                    {"domains": [DOMAIN1, DOMAIN2], "connector": "exo"}],
            connectors=[fax, smtp_out("exo", peer)],
            extra_toml=admin_toml(admin_port) if admin else "", max_stale=max_stale)
        gw.write_config()
        gw.import_users([
            {"address": ANNA, "tenant": T1, "permissions": "fax", "fax_numbers": ANNA_FAX},
            {"address": CATCH_ALL, "tenant": T1, "permissions": "", "fax_numbers": ""},
            {"address": BOB, "tenant": T2, "permissions": "fax", "fax_numbers": BOB_FAX}])
        gw.start()
        return gw, peer, spool / "incoming", Api(gw, admin_port) if admin else None

    return factory


def ingest_cli(gw, tiff: Path, called: str, *extra) -> subprocess.CompletedProcess:
    return gw.cli("ingest", "fax", "--called", called, *extra, tiff)


def wait_mail(gw, peer, rcpt: str, timeout: float = 60.0):
    got = wait_until(lambda: [m for m in list(peer.messages) if rcpt in m.rcpt_tos], timeout, 0.1)
    assert got, (f"no mail for {rcpt} within {timeout}s; got {[m.rcpt_tos for m in peer.messages]}"
                 f"; queue={gw.queue_list()}\n{gw.log_text()[-4000:]}")
    assert len(got) == 1, [m.subject for m in got]
    return got[0]


def pdf_of(message, tmp: Path) -> tuple[str, Path]:
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    pdfs = [p for p in parsed.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in parsed.walk()]
    path = tmp / pdfs[0].get_filename()
    path.write_bytes(pdfs[0].get_content())
    return pdfs[0].get_filename(), path


def wait_rejected(folder: Path, timeout: float = 30.0) -> tuple[Path, str]:
    # The reason is written first, then the fax is moved beside it: wait for both.
    def complete():
        reasons = sorted((folder / "rejected").glob("*.reason"))
        return reasons if reasons and all(
            (folder / "rejected" / (r.name[:-len(".reason")] + ".json")).exists()
            for r in reasons) else None

    reasons = wait_until(complete, timeout, 0.1)
    assert reasons, f"nothing in {folder / 'rejected'}: {sorted(folder.rglob('*'))}"
    [reason] = reasons
    name = reason.name[:-len(".reason")]
    for extension in (".tif", ".json"):
        assert (folder / "rejected" / (name + extension)).exists(), sorted(folder.rglob("*"))
        assert not (folder / (name + extension)).exists(), "left in the ingest folder"
    return reason, reason.read_text()


# =========================================================================== tests

def test_cli_ingest_becomes_a_mail_to_the_numbers_mailbox(fax_gateway, two_page_tiff, tmp_path):
    gw, peer, folder, _ = fax_gateway()
    r = ingest_cli(gw, two_page_tiff, "030 654321", "--caller", "030123456",
                   "--caller-name", "Hans Müller", "--tsi", "HANS FAX")
    assert r.returncode == 0, f"ingest fax ({r.returncode}): {r.stdout}{r.stderr}"
    dropped = Path(r.stdout.strip())
    assert dropped.parent == folder and dropped.suffix == ".tif", r.stdout

    mail = wait_mail(gw, peer, ANNA)
    assert mail.mail_from == "postmaster@localhost", mail.mail_from
    header = mail.content.split(b"\r\n\r\n", 1)[0].decode()
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == f"{CALLER}@{FAX_DOMAIN}"
    assert parsed["From"].addresses[0].display_name == f"Fax {CALLER_DISPLAY}"
    assert str(parsed["Subject"]) == f"Fax from Hans Müller ({CALLER_DISPLAY}) (2 pages)"
    assert parsed["To"].addresses[0].addr_spec == ANNA
    assert parsed["Message-ID"].endswith("@localhost>") and parsed["Date"]
    # The intake stamped it (it went through the pipeline like every message).
    unfolded = re.sub(r"\r\n[ \t]+", " ", header)
    stamps = re.findall(rf"(?m)^{STAMP}: (.*?)\r?$", unfolded)
    assert len(stamps) == 1 and STAMP_RE.fullmatch(stamps[0].strip()), header
    text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Station (TSI):  HANS FAX" in text and "Pages:          2" in text, text

    name, pdf = pdf_of(mail, tmp_path)
    assert re.fullmatch(r"fax-\d{8}-\d{6}-\+4930123456\.pdf", name), name
    pages, sizes = pdfinfo(pdf)
    assert pages == 2, (pages, sizes)
    for width, height in sizes:  # a T.4 page: 1728 pels at 204 dpi by 2292 lines at 196 dpi
        assert 590 <= width <= 612 and abs(height - 842) <= 3, sizes
    # Durable in the queue, so the fax is no longer in the folder.
    assert wait_until(lambda: not list(folder.glob("*.tif")) and not list(folder.glob("*.json")),
                      10, 0.1), sorted(folder.iterdir())
    assert not list((folder / "rejected").iterdir())


def test_the_documented_faxdispatch_hands_a_hylafax_fax_in(fax_gateway, two_page_tiff, tmp_path):
    """The FaxDispatch of src/connectors/fax/README.md, sourced as HylaFAX's bin/faxrcvd does
    (in the spool folder, with its variables set): the fax arrives and faxrcvd mails nothing."""
    gw, peer, _, _ = fax_gateway()
    readme = (REPO_ROOT / "src" / "connectors" / "fax" / "README.md").read_text()
    [snippet] = re.findall(r"```sh\n(# /var/spool/hylafax/etc/FaxDispatch.*?)```", readme, re.S)
    snippet = snippet.replace("/usr/bin/bridgehead", str(gw.binary)).replace(
        "/etc/bridgehead/bridgehead.toml", str(gw.config))
    hylafax = tmp_path / "hylafax-spool"
    (hylafax / "etc").mkdir(parents=True)
    (hylafax / "recvq").mkdir()
    (hylafax / "etc" / "FaxDispatch").write_text(snippet)
    (hylafax / "recvq" / "fax00001.tif").write_bytes(two_page_tiff.read_bytes())
    script = ('FILE=recvq/fax00001.tif DEVICE=ttyS0 MSG= CALLID1=030123456 CALLID2="Hans Meier" '
              'CALLID3=+4930654321 SENDER="ACME FAX" SENDTO= NOTIFY_FAXMASTER=always\n'
              'CIDNUMBER="$CALLID1" CIDNAME="$CALLID2"\n'
              '. etc/FaxDispatch\n'
              'echo "SENDTO=[$SENDTO] NOTIFY_FAXMASTER=[$NOTIFY_FAXMASTER]"\n')
    r = subprocess.run(["/bin/bash", "-c", script], cwd=hylafax, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("SENDTO=[] NOTIFY_FAXMASTER=[errors]"), r.stdout + r.stderr
    mail = wait_mail(gw, peer, ANNA)
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert str(parsed["Subject"]) == f"Fax from Hans Meier ({CALLER_DISPLAY}) (2 pages)"
    text = next(p for p in parsed.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Station (TSI):  ACME FAX" in text, text
    # Without a DID the fax is not handed in and goes to FaxMaster the classic way.
    r = subprocess.run(["/bin/bash", "-c", script.replace("CALLID3=+4930654321", "CALLID3=")],
                       cwd=hylafax, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().endswith("SENDTO=[FaxMaster] NOTIFY_FAXMASTER=[always]"), r.stdout


def test_cli_refuses_what_it_cannot_hand_in(fax_gateway, two_page_tiff, tmp_path):
    gw, _, folder, _ = fax_gateway()
    not_tiff = tmp_path / "note.tif"
    not_tiff.write_bytes(b"%PDF-1.4 not a tiff\n")
    for args, message in [
            ((two_page_tiff, "--connector", "exo"), 'connector "exo" is not a fax connector'),
            ((two_page_tiff, "--connector", "nope"), 'no connector is named "nope"'),
            ((not_tiff,), "is not a TIFF file"),
            ((tmp_path / "missing.tif",), "missing.tif")]:
        r = gw.cli("ingest", "fax", "--called", ANNA_FAX, *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.returncode, r.stderr)
    r = gw.cli("ingest", "fax", two_page_tiff)
    assert r.returncode == 2 and "--called" in r.stderr, r.stderr
    assert not folder.exists() or not [p for p in folder.iterdir() if p.name != "rejected"]


def test_unknown_number_is_rejected_with_a_reason(fax_gateway, two_page_tiff):
    gw, peer, folder, _ = fax_gateway()
    r = ingest_cli(gw, two_page_tiff, UNKNOWN_NUMBER, "--caller", CALLER)
    assert r.returncode == 0, r.stderr
    reason_file, reason = wait_rejected(folder)
    assert reason.startswith("unknown_number: no mailbox owns +4930555555"), reason
    assert reason.count("\n") == 1, reason
    assert gw.events("fax_rejected"), gw.log_text()[-3000:]
    assert not peer.messages


def test_unknown_number_goes_to_the_catch_all(fax_gateway, two_page_tiff):
    gw, peer, folder, _ = fax_gateway(catch_all=CATCH_ALL)
    # No caller id either: empty values, as FaxDispatch passes "$CIDNUMBER" when there is none.
    r = ingest_cli(gw, two_page_tiff, UNKNOWN_NUMBER, "--caller", "", "--caller-name", "",
                   "--tsi", "")
    assert r.returncode == 0, r.stderr
    mail = wait_mail(gw, peer, CATCH_ALL)
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert parsed["From"].addresses[0].addr_spec == f"unknown@{FAX_DOMAIN}"
    assert str(parsed["Subject"]) == "Fax from an unknown caller (2 pages)"
    assert not (folder / "rejected").exists() or not list((folder / "rejected").iterdir())


def test_fax_waits_in_the_folder_while_the_directory_is_unavailable(fax_gateway, two_page_tiff):
    gw, peer, folder, _ = fax_gateway(max_stale=1)
    db = sqlite3.connect(gw.dbfile, timeout=10)
    db.execute("ALTER TABLE directory_version RENAME TO directory_version_away")
    db.commit()
    assert wait_until(lambda: "directory_refresh_failed" in gw.log_text(), 10), gw.log_text()[-2000:]
    time.sleep(1.5)  # past max_stale: the cache no longer answers
    r = ingest_cli(gw, two_page_tiff, ANNA_FAX, "--caller", CALLER)
    assert r.returncode == 0, r.stderr
    dropped = Path(r.stdout.strip())
    deferred = gw.wait_event("fax_ingest_deferred", timeout=30)
    assert "directory is unavailable" in deferred["reason"], deferred
    time.sleep(2.5)  # further looks into the folder: the fax stays, logged once
    assert dropped.exists() and dropped.with_suffix(".json").exists()
    assert len(gw.events("fax_ingest_deferred")) == 1, gw.events("fax_ingest_deferred")
    assert not peer.messages and not list((folder / "rejected").glob("*.reason"))
    db.execute("ALTER TABLE directory_version_away RENAME TO directory_version")
    db.commit()
    db.close()
    mail = wait_mail(gw, peer, ANNA)
    assert b"(2 pages)" in mail.content.split(b"\r\n\r\n", 1)[0]
    assert wait_until(lambda: not dropped.exists(), 10, 0.1)


def test_corrupt_tiff_is_rejected_and_the_gateway_carries_on(fax_gateway, two_page_tiff, tmp_path):
    gw, peer, folder, _ = fax_gateway()
    corrupt = tmp_path / "corrupt.tif"
    good = two_page_tiff.read_bytes()
    corrupt.write_bytes(good[:8] + os.urandom(2000))  # a TIFF header, then noise
    r = ingest_cli(gw, corrupt, ANNA_FAX, "--caller", CALLER)
    assert r.returncode == 0, r.stderr
    _, reason = wait_rejected(folder)
    assert reason.startswith("invalid: not a readable fax"), reason
    assert gw.alive()
    r = ingest_cli(gw, two_page_tiff, ANNA_FAX, "--caller", CALLER)
    assert r.returncode == 0, r.stderr
    mail = wait_mail(gw, peer, ANNA)
    assert b"(2 pages)" in mail.content.split(b"\r\n\r\n", 1)[0]


def test_admin_api_ingests_for_the_tokens_tenant_only(fax_gateway, two_page_tiff, tmp_path):
    gw, peer, _, api = fax_gateway(admin=True)
    tiff = two_page_tiff.read_bytes()
    tiff_type = {"Content-Type": "image/tiff"}
    # A token of the other tenant may not ingest for anna's number (checked before reading).
    t2_token = api.token("write", tenant=T2)
    r = api.post("/v1/ingest/fax", token=t2_token, params={"called": ANNA_FAX}, data=tiff,
                 headers=tiff_type)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    read_token = api.token("read")
    r = api.post("/v1/ingest/fax", token=read_token, params={"called": ANNA_FAX}, data=tiff,
                 headers=tiff_type)
    assert r.status_code == 403, r.text
    # Not a TIFF: 415 by its type, 422 by its content.
    r = api.post("/v1/ingest/fax", params={"called": ANNA_FAX}, data=b"hello",
                 headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    r = api.post("/v1/ingest/fax", params={"called": ANNA_FAX}, data=b"%PDF-1.4 " + b"\1" * 500,
                 headers=tiff_type)
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_a_fax", r.text
    r = api.post("/v1/ingest/fax", params={"caller": CALLER}, data=tiff, headers=tiff_type)
    assert r.status_code == 400, r.text
    r = api.post("/v1/ingest/fax", params={"called": UNKNOWN_NUMBER}, data=tiff, headers=tiff_type)
    assert r.status_code == 404 and UNKNOWN_NUMBER in r.json()["error"]["message"], r.text
    assert not peer.messages

    # The tenant's own token (and an all-tenant one) may: 202, and the mail follows.
    t1_token = api.token("write", tenant=T1)
    r = api.post("/v1/ingest/fax", token=t1_token,
                 params={"called": ANNA_FAX, "caller": CALLER, "tsi": "API FAX"}, data=tiff,
                 headers=tiff_type)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["mailbox"] == ANNA and body["status"] == "accepted", body
    assert re.fullmatch(r"fax-\d+-\d+-[0-9a-f]{8}", body["id"]), body
    mail = wait_mail(gw, peer, ANNA)
    assert b"(2 pages)" in mail.content.split(b"\r\n\r\n", 1)[0]
    text = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert "API FAX" in next(p for p in text.walk()
                             if p.get_content_type() == "text/plain").get_content()
    received = [e for e in gw.events("fax_received") if e.get("file") == body["id"] + ".tif"]
    assert received and received[0]["result"] == "queued", gw.events("fax_received")
    # The message trace shows where the mail came from: the fax, its numbers, its mailbox.
    qid = received[0]["id"]
    found = wait_until(lambda: api.get("/v1/messages", params={"recipient": ANNA}).json()
                       .get("messages"), 10, 0.2)
    assert found and qid in [m["id"] for m in found], found
    trace = wait_until(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        api.get(f"/v1/messages/{qid}")), 10, 0.2)
    assert trace, api.get(f"/v1/messages/{qid}").text
    [event] = [e for e in trace["events"] if e["kind"] == "received"]
    facts = event["facts"]
    assert (facts["source"], facts["caller"], facts["called"], facts["mailbox"]) == (
        "fax", CALLER, ANNA_FAX, ANNA), event
    assert facts["message_id"] == str(text["Message-ID"]), (facts, text["Message-ID"])
    assert event["tenant"] == T1 and event["recipients"] == [ANNA], event
    r = api.post("/v1/ingest/fax", params={"called": BOB_FAX}, data=tiff, headers=tiff_type)
    assert r.status_code == 202 and r.json()["mailbox"] == BOB, r.text
    wait_mail(gw, peer, BOB)


def test_admin_api_accepts_a_corrupt_tiff_that_the_folder_then_rejects(fax_gateway, two_page_tiff):
    """The API checks only the TIFF magic; the render helper's refusal comes from the folder."""
    gw, peer, folder, api = fax_gateway(admin=True)
    r = api.post("/v1/ingest/fax", params={"called": ANNA_FAX}, data=b"II*\0" + b"\1" * 500,
                 headers={"Content-Type": "image/tiff"})
    assert r.status_code == 202, r.text
    reason_file, reason = wait_rejected(folder)
    assert reason_file.name == r.json()["id"] + ".reason", reason_file
    assert reason.startswith("invalid: not a readable fax"), reason
    assert not peer.messages


def drop_job(folder: Path, name: str, called: str):
    """The job file a fax server writes last (its TIFF is already there)."""
    temp = folder / f".{name}.json.tmp"
    temp.write_text('{"called": "%s", "caller": "%s"}\n' % (called, CALLER))
    temp.rename(folder / f"{name}.json")


def reason_of(folder: Path, name: str, timeout: float = 30.0) -> str:
    reason = folder / "rejected" / f"{name}.reason"
    assert wait_until(reason.exists, timeout, 0.1), sorted(folder.rglob("*"))
    return reason.read_text()


def test_folder_refuses_a_symlinked_or_hard_linked_tiff(fax_gateway, two_page_tiff, tmp_path):
    gw, peer, folder, _ = fax_gateway()
    # Another tenant's fax the gateway can read, outside the folder (the same file system).
    secret = tmp_path / "outgoing-of-bob.tif"
    secret.write_bytes(two_page_tiff.read_bytes())
    before = secret.read_bytes()
    assert wait_until((folder / "rejected").is_dir, 10, 0.1), "rejected/ not made at the start"
    assert (folder / "rejected").stat().st_mode & 0o777 == 0o700
    (folder / "via-symlink.tif").symlink_to(secret)
    drop_job(folder, "via-symlink", ANNA_FAX)
    assert "symbolic link" in reason_of(folder, "via-symlink")
    os.link(secret, folder / "via-hardlink.tif")
    drop_job(folder, "via-hardlink", ANNA_FAX)
    assert "2 links" in reason_of(folder, "via-hardlink")
    # A symlinked job file is refused as well.
    real_job = tmp_path / "job.json"
    real_job.write_text('{"called": "%s"}' % ANNA_FAX)
    (folder / "job-link.tif").write_bytes(two_page_tiff.read_bytes())
    (folder / "job-link.json").symlink_to(real_job)
    assert "symbolic link" in reason_of(folder, "job-link")
    # The links were moved, not what they point to; nothing was mailed.
    assert (folder / "rejected" / "via-symlink.tif").is_symlink()
    assert secret.read_bytes() == before and os.stat(secret).st_nlink == 2
    assert real_job.exists()
    # The log line follows the reason file, so wait for it rather than read at once.
    assert wait_until(lambda: len(gw.events("fax_rejected")) >= 3, 10, 0.1)
    assert len(gw.events("fax_rejected")) == 3, gw.events("fax_rejected")
    time.sleep(2)  # further scans: nothing more happens
    assert not peer.messages, [m.rcpt_tos for m in peer.messages]


def test_folder_does_not_write_through_a_planted_rejected(fax_gateway, two_page_tiff, tmp_path):
    gw, peer, folder, _ = fax_gateway()
    assert wait_until((folder / "rejected").is_dir, 10, 0.1)
    # A file of the gateway's that a planted symlink in rejected/ points at.
    victim = tmp_path / "victim.conf"
    victim.write_text("keep me\n")
    (folder / "rejected" / "bad.reason").symlink_to(victim)
    (folder / "bad.tif").write_bytes(two_page_tiff.read_bytes())
    drop_job(folder, "bad", UNKNOWN_NUMBER)
    # Created exclusively: the reason goes to a name of its own, the symlink is left alone.
    assert reason_of(folder, "bad.1").startswith("unknown_number:")
    assert (folder / "rejected" / "bad.1.tif").exists()
    assert victim.read_text() == "keep me\n"

    # rejected/ itself replaced by a symlink to a directory elsewhere: nothing is moved there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "rejected").rename(tmp_path / "rejected-away")
    (folder / "rejected").symlink_to(elsewhere)
    (folder / "worse.tif").write_bytes(two_page_tiff.read_bytes())
    drop_job(folder, "worse", UNKNOWN_NUMBER)
    refused = wait_until(lambda: [e for e in gw.events("fax_ingest_folder")
                                  if "not a directory" in e.get("error", "")], 30, 0.1)
    assert refused and refused[0]["reason"].startswith("unknown_number:"), refused
    time.sleep(2)  # further scans: still nothing moved, logged once
    assert not list(elsewhere.iterdir())
    assert (folder / "worse.tif").exists() and (folder / "worse.json").exists()
    assert len([e for e in gw.events("fax_ingest_folder")
                if "not a directory" in e.get("error", "")]) == 1
    assert not peer.messages and gw.alive()
