"""The fax connector's spool backend in the tests (test_fax_spool.py,
test_fax_report_thumbnail.py): a gateway whose fax connector writes a hot folder, with the
real render helper, and the test's side of the fax server (the job it finds, the result it
writes)."""
from __future__ import annotations

import json
import os
import re
import subprocess
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from bhtest import REPO_ROOT, wait_until
from faxhelp import PERMITTED, import_fax_senders
from smtppeers import FAST_QUEUE

FAX = "fax.example.com"
BUILD = Path(os.environ.get("BRIDGEHEAD_BUILD_DIR", REPO_ROOT / "build"))
RENDER_HELPER = BUILD / "bridgehead-render"


def fax_gateway(make_gateway, routes=(), connectors=(), extra_toml="", dsn_connector=None,
                **connector):
    """fax.example.com -> fax connector "fax" (spool backend), origin.test (the senders, so
    the DSNs) -> a file connector writing gw.outdir (or dsn_connector, e.g. an smtp connector
    to a peer). The route names no service: a fax
    connector's recipients use the fax service all the same, so sender@origin.test may fax
    and nofax@origin.test may not (faxhelp)."""
    if not os.access(RENDER_HELPER, os.X_OK):
        pytest.fail(f"render helper not found: {RENDER_HELPER} (build bridgehead-render)",
                    pytrace=False)
    gw = make_gateway(start=False, extra_toml=extra_toml, **PERMITTED)
    spool = gw.tmp / "faxspool"
    o = gw.overrides
    o["routes"] = [{"domains": [FAX], "connector": "fax"},
                   {"domains": ["origin.test"], "connector": "dsn"}, *routes]
    o["connectors"] = [{"name": "fax", "type": "fax", "backend": "spool", "spool_directory": spool,
                        "domains": [FAX], "poll_interval": 1, "render_helper": RENDER_HELPER,
                        **connector},
                       {"name": "dsn", **(dsn_connector or {"type": "file",
                                                            "directory": gw.outdir})},
                       *connectors]
    o["queue"] = dict(FAST_QUEUE)
    import_fax_senders(gw)
    gw.start()
    gw.fax_spool = spool
    return gw


def text_mail(subject: str, body: str) -> bytes:
    m = EmailMessage(policy=SMTP)
    m["From"] = "Sender <sender@origin.test>"
    m["To"] = f"+4930123456@{FAX}"
    m["Subject"] = subject
    m.set_content(body, charset="utf-8", cte="quoted-printable")
    return m.as_bytes()


def wait_job(gw, qid: str, timeout: float = 60.0) -> tuple[dict, Path]:
    """The job file (and its TIFF) that the connector wrote for message qid."""
    outgoing = gw.fax_spool / "outgoing"
    found = wait_until(lambda: [p for p in outgoing.glob(f"{qid}.*.json")], timeout)
    assert found, f"no job for {qid} in {outgoing}: {list(outgoing.iterdir())}\n{gw.log_text()[-3000:]}"
    job = json.loads(found[0].read_text())
    tiff = outgoing / job["tiff"]
    assert tiff.exists(), "the TIFF is there before its job file"
    return job, tiff


def tiff_pages(tiff: Path) -> list[dict]:
    """Per page: width, length and compression, as tiffinfo (libtiff-tools) reads them."""
    r = subprocess.run(["tiffinfo", str(tiff)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pages = []
    for block in r.stdout.split("TIFF Directory")[1:]:
        size = re.search(r"Image Width: (\d+) Image Length: (\d+)", block)
        compression = re.search(r"Compression Scheme: (.+)", block)
        pages.append({"width": int(size.group(1)), "length": int(size.group(2)),
                      "compression": compression.group(1).strip()})
    return pages


def write_result(gw, reference: str, **fields):
    """As a fax server does: under a temporary name, then renamed."""
    results = gw.fax_spool / "results"
    tmp = results / f".{reference}.tmp"
    tmp.write_text(json.dumps({"reference": reference, **fields}))
    os.rename(tmp, results / f"{reference}.json")
