"""Issue 8.7: the webhook connector against a real HTTPS server (Python's http.server with
TLS, a test CA made with the openssl CLI): signed JSON on 200, a DSN on 400, retries on 500
and timeouts, certificate checks, and the callback endpoint for pending (202) deliveries."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bhtest import free_port, wait_until
from smtpclient import make_message, send_raw
from smtppeers import FAST_QUEUE, deliveries, parse_dsn, wait_delivery, wait_state

SECRET = "6f1c2a9d8e7b4c3a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6"
CALLBACK_SECRET = "callback-secret-" + "x" * 32


# --------------------------------------------------------------------------- the HTTPS peer

@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certs:
    """A test CA and a server certificate for DNS:localhost only (no IP address SAN)."""
    d = tmp_path_factory.mktemp("webhook-pki")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Bridgehead webhook test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", *ec, "-keyout", "hook.key", "-out", "hook.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "hook.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "hook.pem", "-days", "2", "-extfile", "ext.cnf")
    return Certs(d / "ca.pem", d / "hook.pem", d / "hook.key")


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    sni: str | None

    def json(self):
        return json.loads(self.body)


class HookServer:
    """An HTTPS server on 127.0.0.1. reply(n, request) -> (status, body bytes, delay seconds)
    decides the answer to the n-th request (0-based); every request is recorded."""

    def __init__(self, certs: Certs, reply=None):
        self.requests: list[Request] = []
        self.reply = reply or (lambda n, r: (200, b'{"ok": true}', 0))
        self.sni = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Request(self.path, dict(self.headers.items()), body, server.sni)
                n = len(server.requests)
                server.requests.append(request)
                status, out, delay = server.reply(n, request)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the gateway hanging up after its timeout is expected here

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certs.cert), str(certs.key))
        ctx.sni_callback = lambda sock, name, _: setattr(server, "sni", name)
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_requests(self, n, timeout=15.0) -> list[Request]:
        assert wait_until(lambda: len(self.requests) >= n, timeout), f"{self.requests}, want {n}"
        return self.requests

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def make_hook(certs):
    made = []

    def factory(reply=None):
        made.append(HookServer(certs, reply))
        return made[-1]

    yield factory
    for h in made:
        h.stop()


def write_secret(path: Path, text: str, mode=0o600) -> Path:
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path


def hook_gateway(make_gateway, tmp_path, certs, hook, *, start=True, **connector):
    """Gateway: example.test -> webhook connector "hook", origin.test (the senders, so the
    DSNs) -> a file connector writing gw.outdir."""
    gw = make_gateway(start=False)
    secret = write_secret(tmp_path / f"hook-{gw.port}.key", SECRET)
    o = gw.overrides
    o["routes"] = [{"domains": ["example.test"], "connector": "hook"},
                   {"domains": ["origin.test"], "connector": "dsn"}]
    o["connectors"] = [{"name": "hook", "type": "webhook", "url": f"https://localhost:{hook.port}/hook",
                        "secret_file": secret, "ca_file": certs.ca, "timeout": 5, **connector},
                       {"name": "dsn", "type": "file", "directory": gw.outdir}]
    o["queue"] = dict(FAST_QUEUE)
    if start:
        gw.start()
    return gw


def check_signature(request: Request, secret=SECRET):
    header = request.headers["X-Bridgehead-Signature"]
    fields = dict(part.strip().split("=", 1) for part in header.split(","))
    t = int(fields["t"])
    assert abs(time.time() - t) < 120, header
    expected = hmac.new(secret.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected), f"bad signature {header}"


def dsns(gw, qid, kind="failure"):
    ev = wait_until(lambda: [e for e in gw.events("dsn", id=qid) if e["kind"] == kind], 15)
    assert ev, f"no {kind} DSN for {qid}:\n{gw.log_text()[-3000:]}"
    return [gw.wait_delivered(e["dsn_id"]) for e in ev]


# --------------------------------------------------------------------------- delivery

def test_200_delivers_signed_json(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook()
    gw = hook_gateway(make_gateway, tmp_path, certs, hook)
    m = EmailMessage(policy=SMTP)
    m["From"] = "Sender <sender@origin.test>"
    m["To"] = "fax@example.test"
    m["Subject"] = "Gr\u00fc\u00dfe per webhook"
    m.set_content("Hello \u20ac\nsecond line\n", charset="utf-8", cte="quoted-printable")
    pdf = b"%PDF-1.4\n\x00\xff binary\n"
    m.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    qid = send_raw(gw.port, m.as_bytes(), rcpts=("fax@example.test", "other@example.test"))

    [got] = wait_delivery(gw, qid, "delivered", n=2)[:1]
    assert got["status"] == "2.0.0" and got["detail"] == "webhook said: 200 OK", got["_line"]
    wait_state(gw, qid, None)
    [request] = hook.wait_requests(1)
    assert len(hook.requests) == 1, "one POST for both recipients"
    assert request.path == "/hook"
    assert request.sni == "localhost"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"].startswith(qid + "-")
    check_signature(request)
    doc = request.json()
    assert doc["id"] == qid
    assert doc["envelope"] == {"from": "sender@origin.test",
                               "to": ["fax@example.test", "other@example.test"]}
    assert doc["tenant"] is None
    assert doc["subject"] == "Gr\u00fc\u00dfe per webhook"
    assert ["To", "fax@example.test"] in doc["headers"]
    assert not [h for h in doc["headers"] if h[0].lower().startswith("x-bridgehead")]
    assert doc["text"].replace("\r\n", "\n") == "Hello \u20ac\nsecond line\n"
    [attachment] = doc["attachments"]
    assert attachment["filename"] == "invoice.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert base64.b64decode(attachment["content_base64"]) == pdf
    assert not gw.delivered(), "no DSN for a delivered message"


def test_400_bounces_with_a_dsn(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook(lambda n, r: (400, b'{"error": "unknown fax number\x1b[31m"}', 0))
    gw = hook_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("refused by the webhook"))
    [bounce] = wait_delivery(gw, qid, "bounced")
    assert bounce["status"] == "5.0.0", bounce["_line"]
    assert "400 Bad Request" in bounce["detail"] and "unknown fax number" in bounce["detail"]
    assert "\x1b" not in bounce["detail"], "the peer's bytes are escaped"
    wait_state(gw, qid, None)
    [data] = dsns(gw, qid)
    dsn, parts = parse_dsn(data)
    assert "sender@origin.test" in dsn["To"]
    [block] = parts["recipients"]
    assert str(block["Status"]).strip() == "5.0.0"
    assert "unknown fax number" in str(block["Diagnostic-Code"])
    assert len(hook.requests) == 1, "a 4xx is not retried"


def test_document_over_max_body_bounces(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook()
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, max_body=2048)
    qid = send_raw(gw.port, make_message("too big", (b"x" * 70 + b"\r\n") * 60))
    [bounce] = wait_delivery(gw, qid, "bounced")
    assert bounce["status"] == "5.3.4" and "max_body is 2048" in bounce["detail"], bounce["_line"]
    dsns(gw, qid)
    assert not hook.requests


def test_500_is_deferred_then_delivered(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook(lambda n, r: (503, b"busy", 0) if n == 0 else (200, b"{}", 0))
    gw = hook_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("retried"))
    deferred = wait_delivery(gw, qid, "deferred")[0]
    assert deferred["status"].startswith("4.") and "503" in deferred["detail"], deferred["_line"]
    wait_delivery(gw, qid, "delivered", timeout=20)
    wait_state(gw, qid, None)
    first, second = hook.requests
    assert first.body == second.body and first.json()["id"] == qid
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    check_signature(second)
    assert len(deliveries(gw, qid, "delivered")) == 1
    assert not gw.delivered(), "no DSN"


def test_timeout_is_deferred(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook(lambda n, r: (200, b"{}", 4) if n == 0 else (200, b"{}", 0))
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, timeout=1)
    qid = send_raw(gw.port, make_message("slow webhook"))
    deferred = wait_delivery(gw, qid, "deferred")[0]
    assert deferred["status"] == "4.4.2" and "timed out" in deferred["detail"], deferred["_line"]
    wait_delivery(gw, qid, "delivered", timeout=20)
    wait_state(gw, qid, None)


def test_stop_during_a_post_keeps_the_message(make_gateway, make_hook, tmp_path, certs):
    """SIGTERM while the webhook has not answered: the post is cancelled after shutdown_grace,
    the gateway exits cleanly, and the message is posted again (same Idempotency-Key) at the
    next start."""
    hook = make_hook(lambda n, r: (200, b"{}", 30) if n == 0 else (200, b"{}", 0))
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, start=False, timeout=60)
    gw.overrides["server"] = {"shutdown_grace": 1}
    gw.start()
    qid = send_raw(gw.port, make_message("interrupted"))
    hook.wait_requests(1)
    assert gw.stop() == 0, f"unclean exit:\n{gw.log_text()[-3000:]}"
    assert not deliveries(gw, qid, "delivered")
    assert qid in gw.queue_list(), "the message waits for the next start"
    gw.start()
    wait_delivery(gw, qid, "delivered", timeout=20)
    first, second = hook.wait_requests(2)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_certificate_without_the_host_name_is_deferred(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook()
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, url=f"https://127.0.0.1:{hook.port}/hook")
    qid = send_raw(gw.port, make_message("wrong name"))
    deferred = wait_delivery(gw, qid, "deferred")[0]
    assert deferred["status"] == "4.7.5" and "does not name 127.0.0.1" in deferred["detail"], \
        deferred["_line"]
    assert not hook.requests, "nothing is sent to a server whose name is not verified"


def test_unknown_ca_is_deferred(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook()
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, start=False)
    del gw.overrides["connectors"][0]["ca_file"]  # the system's store does not know the test CA
    gw.start()
    qid = send_raw(gw.port, make_message("unknown CA"))
    deferred = wait_delivery(gw, qid, "deferred")[0]
    assert deferred["status"] == "4.7.5" and "certificate" in deferred["detail"], deferred["_line"]
    assert not hook.requests


def test_check_config_refuses_an_unprotected_secret(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook()
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, start=False)
    os.chmod(gw.overrides["connectors"][0]["secret_file"], 0o644)
    gw.write_config()
    r = gw.cli("check-config")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "secret_file" in out and "too open" in out, out
    with pytest.raises(AssertionError, match="too open"):
        gw.start()


# --------------------------------------------------------------------------- callbacks

def post_callback(port, payload, *, secret=CALLBACK_SECRET, t=None, signature=None,
                  path="/callback"):
    """(status, JSON answer) of a POST to the gateway's callback endpoint."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    t = int(time.time()) if t is None else t
    if signature is None:
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        signature = f"t={t}, v1={mac}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # no proxy from the env
    try:
        headers = {"Content-Type": "application/json", **({"X-Bridgehead-Signature": signature}
                                                           if signature else {})}
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        return response.status, json.loads(answer) if answer else None
    finally:
        conn.close()


def callback_gateway(make_gateway, tmp_path, certs, hook):
    port = free_port()
    secret = write_secret(tmp_path / "callback.key", CALLBACK_SECRET)
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, callback_listen=f"127.0.0.1:{port}",
                      callback_secret_file=secret)
    gw.wait_event("webhook_callbacks", connector="hook")
    return gw, port


def test_callback_endpoint_refuses_what_it_cannot_trust(make_gateway, make_hook, tmp_path, certs):
    gw, port = callback_gateway(make_gateway, tmp_path, certs, make_hook())
    report = {"id": "job-1", "status": "delivered", "detail": "ok"}
    assert post_callback(port, report, signature="")[0] == 401
    assert post_callback(port, report, secret=SECRET)[0] == 401, "the delivery secret is not the callback's"
    assert post_callback(port, report, t=int(time.time()) - 301)[0] == 401
    assert post_callback(port, report, signature="t=1, v1=nonsense")[0] == 401
    assert post_callback(port, b'{"id": "job-1", "status": ')[0] == 400
    assert post_callback(port, {"id": "job-1", "status": "lost"})[0] == 400
    assert post_callback(port, report, path="/other")[0] == 404
    assert post_callback(port, b'{"id": "' + b"a" * 70000 + b'"}')[0] == 413
    assert gw.events("webhook_callback", status=401), "refusals are logged"
    assert not gw.events("pending_report"), "no refused report reached the gateway's store"


# Pending (202: the recipient waits for its report) needs the scheduler's PendingSink.

def test_202_waits_for_a_delivered_callback(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook(lambda n, r: (202, json.dumps({"id": f"job-{r.json()['id']}"}).encode(), 0))
    gw, port = callback_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("pending then delivered"))
    pending = wait_delivery(gw, qid, "pending")[0]
    assert "202" in pending["detail"], pending["_line"]
    time.sleep(1)
    assert qid in gw.cli("queue", "list").stdout, "a pending message stays queued"
    report = {"id": f"job-{qid}", "status": "delivered", "detail": "faxed, 2 pages"}
    assert post_callback(port, report, secret="w" * 40)[0] == 401
    assert qid in gw.cli("queue", "list").stdout, "a forged report changes nothing"
    assert post_callback(port, report)[0] == 200
    wait_state(gw, qid, None)
    assert not gw.events("dsn", id=qid)


def test_202_then_a_failed_callback_sends_a_dsn(make_gateway, make_hook, tmp_path, certs):
    hook = make_hook(lambda n, r: (202, b'{"id": "job-77"}', 0))
    gw, port = callback_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("pending then failed"))
    wait_delivery(gw, qid, "pending")
    report = {"id": "job-77", "status": "failed", "detail": "no fax tone at +4930123456"}
    assert post_callback(port, report)[0] == 200
    [data] = dsns(gw, qid)
    dsn, parts = parse_dsn(data)
    [block] = parts["recipients"]
    assert str(block["Status"]).strip() == "5.0.0"
    assert "no fax tone" in str(block["Diagnostic-Code"])
    wait_state(gw, qid, None)


# --------------------------------------------------------------------------- pending lifecycle

def test_pending_without_a_report_bounces_after_the_connector_timeout(make_gateway, make_hook,
                                                                      tmp_path, certs):
    hook = make_hook(lambda n, r: (202, b'{"id": "job-silent"}', 0))
    port = free_port()
    secret = write_secret(tmp_path / "callback.key", CALLBACK_SECRET)
    gw = hook_gateway(make_gateway, tmp_path, certs, hook, callback_listen=f"127.0.0.1:{port}",
                      callback_secret_file=secret, pending_timeout=2)
    qid = send_raw(gw.port, make_message("nobody reports"))
    wait_delivery(gw, qid, "pending")
    expired = gw.wait_event("pending_expired", timeout=20, id=qid)
    assert expired["reference"] == "job-silent", expired["_line"]
    [data] = dsns(gw, qid)
    dsn, parts = parse_dsn(data)
    [block] = parts["recipients"]
    assert str(block["Status"]).strip() == "5.4.7"
    assert "no report from hook" in str(block["Diagnostic-Code"])
    wait_state(gw, qid, None)
    assert len(hook.requests) == 1, "a pending recipient is not delivered again"


def test_pending_survives_a_restart_and_resolves_afterwards(make_gateway, make_hook, tmp_path,
                                                            certs):
    hook = make_hook(lambda n, r: (202, b'{"id": "job-restart"}', 0))
    gw, port = callback_gateway(make_gateway, tmp_path, certs, hook)
    qid = send_raw(gw.port, make_message("pending across a restart"))
    wait_delivery(gw, qid, "pending")
    assert gw.stop() == 0
    gw.start()
    gw.wait_event("webhook_callbacks", connector="hook")
    assert qid in gw.cli("queue", "list").stdout, "the pending message is still queued"
    report = {"id": "job-restart", "status": "delivered", "detail": "sent after the restart"}
    assert post_callback(port, report)[0] == 200
    resolved = gw.wait_event("pending_resolved", timeout=15, id=qid)
    assert resolved["result"] == "delivered", resolved["_line"]
    wait_state(gw, qid, None)
    assert len(hook.requests) == 1, "the restart did not deliver it again"


def test_a_report_that_arrives_before_its_202_is_recorded_is_kept(make_gateway, make_hook,
                                                                  tmp_path, certs):
    """A fast foreign system reports before the gateway has recorded the pending result:
    the report waits in the store and resolves the recipient as soon as it is recorded."""
    state = {}

    def reply(n, request):
        # Report from inside the request, before the 202 leaves.
        report = {"id": "job-early", "status": "delivered", "detail": "reported first"}
        state["answer"] = post_callback(state["port"], report)[0]
        return 202, b'{"id": "job-early"}', 0

    hook = make_hook(reply)
    gw, port = callback_gateway(make_gateway, tmp_path, certs, hook)
    state["port"] = port
    qid = send_raw(gw.port, make_message("early report"))
    wait_state(gw, qid, None)
    assert state["answer"] == 200
    resolved = gw.wait_event("pending_resolved", timeout=15, id=qid)
    assert resolved["result"] == "delivered" and resolved["reference"] == "job-early"
