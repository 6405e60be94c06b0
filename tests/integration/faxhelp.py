"""Senders that may fax, for the fax connector's tests: every recipient of a fax connector
uses the fax service (connectors/kind.hpp), so the connection's inbound connector must offer
it and the sender needs the fax permission in the directory (docs/inbound-trust.md).

Here 127.0.0.1 is the partner inbound connector "origin" (offers the fax service), origin.test
is the domain of the [[tenant]] ORIGIN_TENANT, and the directory lets sender@origin.test fax;
nofax@origin.test is listed without the permission.
"""
from __future__ import annotations

from smtpclient import SmtpClient, Reply
from trusthelp import TrustGateway

ORIGIN_TENANT = "7d3f1b2a-9c4e-4f6a-8b1d-2e3f4a5b6c7d"
SENDER = "sender@origin.test"
NO_FAX_SENDER = "nofax@origin.test"
FAX_SENDERS = [(SENDER, ORIGIN_TENANT, "fax"), (NO_FAX_SENDER, ORIGIN_TENANT, "")]

# make_gateway(**PERMITTED, ...): the trust tables and the directory.
PERMITTED = dict(
    cls=TrustGateway, directory=True,
    inbound_connectors=[{"name": "origin", "kind": "partner", "ip_ranges": ["127.0.0.1/32"],
                         "services": ["fax"]}],
    tenants=[{"id": ORIGIN_TENANT, "name": "origin", "domains": ["origin.test"]}])


def import_fax_senders(gw: TrustGateway):
    """Writes the gateway's config (routes and connectors set by now) and imports the users."""
    gw.import_directory(FAX_SENDERS)


def send_refused(port: int, msg: bytes, rcpt: str, sender: str) -> Reply:
    """One transaction whose recipient is accepted at RCPT TO; returns the end-of-DATA reply."""
    with SmtpClient(port) as c:
        c.greet()
        c.expect(f"MAIL FROM:<{sender}>", 250)
        c.expect(f"RCPT TO:<{rcpt}>", 250)
        final = c.send_data(msg)
        c.cmd("QUIT")
        return final


# --------------------------------------------------------------------------- success reports

def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, which must come first after the signature."""
    import struct
    assert png[:8] == b"\x89PNG\r\n\x1a\n", png[:16]
    assert png[12:16] == b"IHDR", png[:16]
    return struct.unpack(">II", png[16:24])


def report_parts(data: bytes):
    """A success report (multipart/report) parsed with Python's email module: (the human text,
    [(content type, disposition, filename, decoded bytes) of each part after the text], the
    report's top-level content types). The human part is text/plain, or multipart/mixed with
    the text first."""
    import email
    import email.policy
    if data.startswith(b"Received:"):
        from bhtest import split_received
        data = split_received(data)[1]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status", msg["Content-Type"]
    parts = list(msg.iter_parts())
    types = [p.get_content_type() for p in parts]
    human = parts[0]
    leaves = list(human.iter_parts()) if human.is_multipart() else [human]
    assert leaves[0].get_content_type() == "text/plain", [p.get_content_type() for p in leaves]
    extra = [(p.get_content_type(), p.get_content_disposition(), p.get_filename(),
              p.get_payload(decode=True)) for p in leaves[1:]]
    return leaves[0].get_content(), extra, types
