"""Issue 10: the fax connector's hylafax backend against a real HylaFAX 6.0.7 (Debian's hfaxd
and faxq, started without a modem by tests/support/hylafax-server in a private spool on a free
port). A mail to +4930123456@fax.example.com is rendered, uploaded and submitted; the job
waits in HylaFAX's send queue with the number and the TIFF-F document; killing it (JKILL, as
an operator would with faxrm) fails the job, and the sender gets a failure DSN carrying the
status text HylaFAX wrote into the job's doneq file. The job is then forgotten (JDELE).

Kill-time expiry (JPARM LASTTIME) takes HylaFAX at least two minutes and is not waited for
here; JKILL covers the same failure path (a finished job in doneq).

No modem can send here, so a sent job is made from a killed one: its doneq file is rewritten
as faxq leaves a sent job's, and the call's session log log/c<commid> is written as faxd
writes it; hfaxd reads both from the spool as it would after a real call. The success
report then carries the pages, the remote CSID (queue file) and the call's duration (session
log, which hfaxd only lets an ADMIN client read at HylaFAX's default LogFileMode 0600)."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from bhtest import REPO_ROOT, free_port, wait_until
from faxhelp import PERMITTED, import_fax_senders
from smtpclient import make_message, send_raw
from smtppeers import FAST_QUEUE, parse_dsn, wait_delivery, wait_state

HYLAFAX_SERVER = REPO_ROOT / "tests" / "support" / "hylafax-server"
BUILD = Path(os.environ.get("BRIDGEHEAD_BUILD_DIR", REPO_ROOT / "build"))
RENDER_HELPER = BUILD / "bridgehead-render"
FAX_DOMAIN = "fax.example.com"
NUMBER = "+4930123456"


# --------------------------------------------------------------------------- HylaFAX

class Hfaxd:
    """A raw client of hfaxd's protocol (user bridgehead, admitted by the test's hosts.hfaxd),
    to look at the queues and to kill a job as its owner."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        assert self.reply()[0] == 220
        assert self.cmd("USER bridgehead")[0] == 230

    def reply(self) -> tuple[int, list[str]]:
        lines = []
        while True:
            line = self.file.readline().decode("utf-8", "replace").rstrip("\r\n")
            assert line, f"hfaxd closed the connection after {lines}"
            lines.append(line)
            if re.match(r"^\d{3} ", line) or re.fullmatch(r"\d{3}", line):
                return int(line[:3]), lines

    def cmd(self, line: str) -> tuple[int, list[str]]:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def value(self, name: str) -> str:
        code, lines = self.cmd(f"JPARM {name}")
        assert code == 213, lines
        return lines[-1][4:]

    def listing(self, queue: str, fmt: str = "%j %a %o %J") -> list[str]:
        assert self.cmd(f'JOBFMT "{fmt}"')[0] == 200
        data = self.transfer(f"LIST {queue}")
        return [line for line in data.decode().split("\r\n") if line]

    def transfer(self, command: str) -> bytes:
        """command (LIST, RETR) with its data on a passive connection."""
        code, lines = self.cmd("PASV")
        assert code == 227, lines
        h1, h2, h3, h4, p1, p2 = map(int, re.search(r"\((\d+(?:,\d+){5})\)", lines[0])
                                     .group(1).split(","))
        with socket.create_connection((f"{h1}.{h2}.{h3}.{h4}", p1 * 256 + p2), timeout=10) as d:
            code, lines = self.cmd(command)
            assert code == 150, lines
            data = b""
            while chunk := d.recv(65536):
                data += chunk
        assert self.reply()[0] == 226
        return data

    def close(self):
        try:
            self.cmd("QUIT")
        except (OSError, AssertionError):
            pass
        self.sock.close()


class HylafaxServer:
    def __init__(self):
        # Not under pytest's tmp_path: its parents are private to root, and the daemons
        # run as uucp.
        self.spool = Path(tempfile.mkdtemp(prefix="bh-hylafax-", dir="/tmp"))
        self.spool.chmod(0o755)
        self.port = free_port()
        r = subprocess.run([str(HYLAFAX_SERVER), "start", str(self.spool), str(self.port)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"hylafax-server start: {r.stdout}{r.stderr}"

    def client(self) -> Hfaxd:
        return Hfaxd(self.port)

    def stop(self):
        subprocess.run([str(HYLAFAX_SERVER), "stop", str(self.spool)], capture_output=True,
                       timeout=60)
        shutil.rmtree(self.spool, ignore_errors=True)


@pytest.fixture
def hylafax():
    server = HylafaxServer()
    yield server
    server.stop()


def fax_gateway(make_gateway, tmp_path, hylafax: HylafaxServer, **fax_settings):
    """fax.example.com -> fax connector "fax" (backend hylafax on the test's hfaxd, with
    fax_settings on top); origin.test (the senders, so their DSNs) -> a file connector writing
    tmp_path/dsn-out."""
    if not RENDER_HELPER.exists():
        pytest.fail(f"render helper not found: {RENDER_HELPER} (build bridgehead-render)",
                    pytrace=False)
    work = tmp_path / "fax-work"
    work.mkdir()
    fax = {"name": "fax", "type": "fax", "backend": "hylafax", "domains": [FAX_DOMAIN],
           "hylafax_host": "127.0.0.1", "hylafax_port": hylafax.port, "hylafax_timeout": 10,
           "poll_interval": 2, "work_directory": work, "render_helper": RENDER_HELPER,
           "paper": "a4", "resolution": "fine", **fax_settings}
    # The route implies the fax service: the senders may fax (faxhelp).
    gw = make_gateway(
        start=False, queue=dict(FAST_QUEUE), **PERMITTED,
        routes=[{"domains": [FAX_DOMAIN], "connector": "fax"},
                {"domains": ["origin.test"], "connector": "dsn"}],
        connectors=[fax, {"name": "dsn", "type": "file", "directory": tmp_path / "dsn-out"}])
    import_fax_senders(gw)
    return gw.start()


def tiff_width(path: Path) -> list[int]:
    r = subprocess.run(["tiffinfo", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return [int(w) for w in re.findall(r"Image Width: (\d+)", r.stdout)]


# --------------------------------------------------------------------------- steps

def submit_fax(gw) -> tuple[str, str]:
    """A UTF-8 text mail to the fax number: (queue id, HylaFAX job id) once it is pending."""
    message = make_message("Fax via HylaFAX", "Hallo Köln,\r\nbitte faxen.\r\n".encode(),
                           to=f"{NUMBER}@{FAX_DOMAIN}",
                           headers=["MIME-Version: 1.0",
                                    "Content-Type: text/plain; charset=utf-8",
                                    "Content-Transfer-Encoding: 8bit"])
    qid = send_raw(gw.port, message, rcpts=(f"{NUMBER}@{FAX_DOMAIN}",))
    [pending] = wait_delivery(gw, qid, "pending", timeout=60)
    job = gw.wait_event("fax_submitted", timeout=10, id=qid)["reference"]
    assert re.fullmatch(r"\d+", job) and f"fax job {job} " in pending["detail"], pending["_line"]
    return qid, job


def check_queued_and_kill(hylafax: HylafaxServer, qid: str, job: str):
    """The job waits in the send queue (no modem) with the number, our tag and the TIFF-F
    document; then an operator kills it."""
    hfaxd = hylafax.client()
    try:
        [listed] = [line for line in hfaxd.listing("sendq") if line.split(" ")[0] == job]
        _, state, owner, tag = listed.split(" ", 3)
        assert state in "TPSBW", listed  # not yet done or failed
        assert owner == "bridgehead" and tag.startswith("bridgehead/fax/" + qid), listed
        assert hfaxd.cmd(f"JOB {job}")[0] == 200
        assert hfaxd.value("DIALSTRING") == NUMBER
        assert hfaxd.value("EXTERNAL") == NUMBER
        assert hfaxd.value("NOTIFY") == "NONE"
        assert hfaxd.value("VRES") == "196"
        code, lines = hfaxd.cmd("JPARM DOCUMENT")
        assert code == 213, lines
        [document] = [m.group(1) for line in lines
                      if (m := re.search(r"TIFF (docq/\S+)", line))]
        widths = tiff_width(hylafax.spool / document)
        assert widths and set(widths) == {1728}, (document, widths)
        code, lines = hfaxd.cmd("JKILL")
        assert code == 200, lines
    finally:
        hfaxd.close()


def doneq_status(hylafax: HylafaxServer, job: str) -> str:
    """The status text HylaFAX wrote into the killed job's doneq file."""
    qfile = hylafax.spool / "doneq" / f"q{job}"
    fields = wait_until(lambda: qfile.exists() and dict(
        line.split(":", 1) for line in qfile.read_text().splitlines() if ":" in line), 5, 0.01)
    assert fields, f"no {qfile} after JKILL"
    assert fields["state"] == "8", fields  # FAILED
    assert fields["status"], fields
    return fields["status"]


def check_failure_dsn(gw, tmp_path, qid: str, job: str, status: str):
    resolved = gw.wait_event("pending_resolved", timeout=30, id=qid)
    assert resolved["reference"] == job, resolved["_line"]
    dsn_files = wait_until(lambda: list((tmp_path / "dsn-out").iterdir()), 15)
    assert dsn_files, f"no DSN for {qid}:\n{gw.log_text()[-3000:]}"
    [data] = [f.read_bytes() for f in dsn_files]
    dsn, parts = parse_dsn(data)
    assert "sender@origin.test" in dsn["To"]
    [block] = parts["recipients"]
    assert str(block["Status"]).strip().startswith("5."), block
    assert status in " ".join(str(block["Diagnostic-Code"]).split()), block
    wait_state(gw, qid, None)


def check_forgotten(hylafax: HylafaxServer, job: str):
    def forgotten():
        client = hylafax.client()
        try:
            return not [line for line in client.listing("doneq") if line.split(" ")[0] == job]
        finally:
            client.close()
    assert wait_until(forgotten, 15), "the gateway removes the reported job (JDELE)"


# --------------------------------------------------------------------------- the tests

def test_a_mail_becomes_a_hylafax_job_and_killing_it_bounces(make_gateway, tmp_path, hylafax):
    (tmp_path / "dsn-out").mkdir()
    gw = fax_gateway(make_gateway, tmp_path, hylafax)
    qid, job = submit_fax(gw)
    check_queued_and_kill(hylafax, qid, job)
    # Read before the gateway's next poll reports and forgets (JDELE) the job.
    status = doneq_status(hylafax, job)
    check_failure_dsn(gw, tmp_path, qid, job, status)
    check_forgotten(hylafax, job)


def test_a_job_that_fails_while_the_gateway_is_down_is_reported_after_its_restart(
        make_gateway, tmp_path, hylafax):
    """finished() needs no memory of the submission: the done queue and JOBINFO suffice."""
    (tmp_path / "dsn-out").mkdir()
    gw = fax_gateway(make_gateway, tmp_path, hylafax)
    qid, job = submit_fax(gw)
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    check_queued_and_kill(hylafax, qid, job)
    status = doneq_status(hylafax, job)
    # The backend reads the receiver's CSID from the queue file, as the job's owner may.
    hfaxd = hylafax.client()
    try:
        assert hfaxd.cmd("TYPE I")[0] == 200
        qfile = hfaxd.transfer(f"RETR doneq/q{job}").decode()
    finally:
        hfaxd.close()
    assert re.search(r"(?m)^csi:", qfile) and f"status:{status}" in qfile, qfile
    gw.start()
    check_failure_dsn(gw, tmp_path, qid, job, status)
    check_forgotten(hylafax, job)


# --------------------------------------------------------------------------- a sent job

COMMIDS = ("000000042", "000000043")
REMOTE_CSID = "+49 30 999"


def admit_admin(hylafax: HylafaxServer, password: str):
    """hosts.hfaxd's fourth field: the crypt(3) hash of the ADMIN password (hfaxd/User.c++);
    no login password (the empty third field)."""
    r = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    hosts = hylafax.spool / "etc" / "hosts.hfaxd"
    hosts.write_text("^bridgehead@127\\.0\\.0\\.1$:::" + r.stdout.strip() + "\n")  # mode 600 kept


def plant_sent_job(hylafax: HylafaxServer, job: str, commid: str):
    """The killed job's doneq file rewritten as a sent job's and the call's session log.

    The queue file holds what hfaxd's reader (faxd/FaxRequest.c++ readQFile) requires
    (number, mailaddr, sender, jobid, modem, client, owner), the job's tag and what a sent
    job has: state 7 (DONE), all pages sent, the call's commid and the receiver's CSID. The
    session log has faxd/FaxMachineLog.c++'s lines ("%h %d %T.cc: [pid]: ..."): DIAL at
    16:40:12.50, SESSION END at 16:40:53.20, so the call took 41 s; mode 0600 and owner
    uucp, as faxgetty creates it by default."""
    qfile = hylafax.spool / "doneq" / f"q{job}"
    fields = dict(line.split(":", 1) for line in qfile.read_text().splitlines() if ":" in line)
    kept = ["jobid", "jobtag", "owner", "number", "external", "mailaddr", "sender", "modem",
            "client"]
    # The page counts faxq sets when it prepares the job for a modem (this one never was):
    # the document is one page.
    lines = [f"{name}:{fields[name]}" for name in kept] + [
        "state:7", "npages:1", "totpages:1", f"commid:{commid}", f"csi:{REMOTE_CSID}",
        "status:", "statuscode:0"]
    qfile.write_text("\n".join(lines) + "\n")  # in place: owner and mode stay faxq's
    stamp = "Dec 02 16:40:{}: [ 4242]: {}\n"
    log = hylafax.spool / "log" / f"c{commid}"
    log.write_text(stamp.format("12.05", f"SESSION BEGIN {commid} 4930123456")
                   + stamp.format("12.05", "HylaFAX (tm) Version 6.0.7")
                   + stamp.format("12.06", f"SEND FAX: JOB {job} DEST {NUMBER} COMMID {commid}")
                   + stamp.format("12.50", f"DIAL {NUMBER}")
                   + stamp.format("33.70", f'REMOTE CSI "{REMOTE_CSID}"')
                   + stamp.format("53.20", "SESSION END"))
    uucp = pwd.getpwnam("uucp")
    os.chown(log, uucp.pw_uid, uucp.pw_gid)
    log.chmod(0o600)


def success_reports(gw, tmp_path, qids: list[str]) -> list[str]:
    """The success reports' diagnostics, one per queue id, once each job resolved."""
    for qid in qids:
        gw.wait_event("pending_resolved", timeout=30, id=qid)
        wait_state(gw, qid, None)
    dsn_files = wait_until(lambda: (lambda f: f if len(f) == len(qids) else None)(
        list((tmp_path / "dsn-out").iterdir())), 15)
    assert dsn_files, f"not {len(qids)} reports:\n{gw.log_text()[-3000:]}"
    texts = []
    for data in (f.read_bytes() for f in dsn_files):
        dsn, parts = parse_dsn(data)
        assert dsn["Subject"] == "Your fax was sent", dsn["Subject"]
        [block] = parts["recipients"]
        assert str(block["Action"]).strip() == "delivered", block
        assert str(block["Status"]).strip() == "2.0.0", block
        texts.append(" ".join(str(block["Diagnostic-Code"]).split()))
    return texts


def test_a_sent_jobs_report_has_its_pages_csid_and_call_duration(make_gateway, tmp_path,
                                                                   hylafax):
    (tmp_path / "dsn-out").mkdir()
    admin = tmp_path / "hylafax-admin.pass"
    admin.write_text("Adm1n \"pw\"\n")
    admin.chmod(0o600)
    admit_admin(hylafax, 'Adm1n "pw"')
    gw = fax_gateway(make_gateway, tmp_path, hylafax, success_notice="report",
                     hylafax_admin_password_file=admin)
    qid, job = submit_fax(gw)
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    check_queued_and_kill(hylafax, qid, job)
    doneq_status(hylafax, job)
    plant_sent_job(hylafax, job, COMMIDS[0])
    gw.start()
    [text] = success_reports(gw, tmp_path, [qid])
    assert f'was sent: 1 of 1 pages in 41 s, remote station "{REMOTE_CSID}"' in text, text
    check_forgotten(hylafax, job)


def test_without_admin_the_report_has_no_duration_and_every_job_its_csid(make_gateway, tmp_path,
                                                                          hylafax):
    """hfaxd refuses the 0600 session logs (550) and keeps its passive listener: the next
    job's queue file must still be read over it, so both reports name the remote station."""
    (tmp_path / "dsn-out").mkdir()
    gw = fax_gateway(make_gateway, tmp_path, hylafax, success_notice="report")
    submitted = [submit_fax(gw) for _ in COMMIDS]
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    for (qid, job), commid in zip(submitted, COMMIDS):
        check_queued_and_kill(hylafax, qid, job)
        doneq_status(hylafax, job)
        plant_sent_job(hylafax, job, commid)
    gw.start()
    texts = success_reports(gw, tmp_path, [qid for qid, _ in submitted])
    for text in texts:
        assert f'was sent: 1 of 1 pages, remote station "{REMOTE_CSID}"' in text, texts
    for _, job in submitted:
        check_forgotten(hylafax, job)
