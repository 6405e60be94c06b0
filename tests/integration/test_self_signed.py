"""Self-signed certificate creation is atomic (issue 12 item 9): gateways started at once on
the same missing certificate and key end with one matching pair, and every one of them serves
that certificate."""
from __future__ import annotations

import ssl
import subprocess
import threading

from bhtest import Gateway
from smtpclient import SmtpClient

GATEWAYS = 4
ROUNDS = 3


def _public_key(args: list[str]) -> str:
    r = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr}"
    return r.stdout


def _served_certificate(port: int) -> bytes:
    with SmtpClient(port) as c:
        c.greet()
        c.starttls(ssl._create_unverified_context())
        return c.sock.getpeercert(binary_form=True)


def test_gateways_started_together_share_one_matching_pair(tmp_path, pki, bh_bin):
    for round_ in range(ROUNDS):
        shared = tmp_path / f"round{round_}" / "tls"
        cert, key = shared / "cert.pem", shared / "key.pem"
        gws = []
        for i in range(GATEWAYS):
            d = tmp_path / f"round{round_}" / f"gw{i}"
            d.mkdir(parents=True)
            gws.append(Gateway(d, pki, binary=bh_bin, overrides={
                "tls": {"certificate": cert, "private_key": key, "generate_self_signed": True}}))
        errors = []

        def start(gw):
            try:
                gw.start()
            except AssertionError as e:  # reported below, with the others
                errors.append(str(e))

        for gw in gws:
            gw.write_config()
        threads = [threading.Thread(target=start, args=(gw,)) for gw in gws]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert not errors, "\n".join(errors)

            cert_key = _public_key(["x509", "-noout", "-pubkey", "-in", str(cert)])
            key_key = _public_key(["pkey", "-pubout", "-in", str(key)])
            assert cert_key == key_key, f"round {round_}: the key does not match the certificate"
            assert (key.stat().st_mode & 0o777) == 0o600
            assert sorted(p.name for p in shared.iterdir()) == ["cert.pem", "key.pem"], \
                "no temporary files are left behind"

            generated = [gw for gw in gws if gw.events("tls_certificate_generated")]
            assert len(generated) == 1, \
                f"round {round_}: {len(generated)} gateways generated a certificate, expected one"
            on_disk = ssl.PEM_cert_to_DER_cert(cert.read_text())
            for gw in gws:
                assert _served_certificate(gw.port) == on_disk, \
                    f"round {round_}: gateway on {gw.port} serves another certificate"
        finally:
            for gw in gws:
                gw.stop()
