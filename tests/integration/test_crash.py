"""Crash safety: kill -9 the gateway under concurrent load, restart it on the same spool,
and check that every message acknowledged with 250 is delivered byte-exact (or still
queued), and that nothing delivered is corrupt or duplicated."""
from __future__ import annotations

import random
import smtplib
import threading
import time

from bhtest import free_port, wait_until
from smtpclient import CRLF, QUEUED_AS, header_value, make_message, split_received

SENDERS = 6
ROUNDS = 2
TRAFFIC_SECONDS = 1.5


class AckSMTP(smtplib.SMTP):
    def data(self, msg):
        code, text = super().data(msg)
        self.last_data = (code, text)
        return code, text


def _build(subject: str, rng: random.Random) -> bytes:
    size = rng.choice([300, 2000, 20000, 150000])
    line = (subject.replace(" ", "-") + " ").encode()
    body = b""
    i = 0
    while len(body) < size:
        body += (b"." if i % 17 == 0 else b"") + line + str(i).encode() + b" " + b"abcdefghij" * 5 + CRLF
        i += 1
    return make_message(subject, body)


def _traffic(port, round_no, sent, acked, lock, stop):
    def sender(tid):
        rng = random.Random(round_no * 1000 + tid)
        seq = 0
        while not stop.is_set():
            try:
                with AckSMTP("127.0.0.1", port, timeout=10) as s:
                    for _ in range(rng.randint(1, 5)):
                        if stop.is_set():
                            break
                        subject = f"crash r{round_no} t{tid} n{seq}"
                        seq += 1
                        msg = _build(subject, rng)
                        with lock:
                            sent[subject] = msg
                        s.sendmail("a@origin.test", [f"t{tid}@example.test"], msg)
                        code, text = s.last_data
                        m = QUEUED_AS.search(text.decode())
                        assert code == 250 and m, (code, text)
                        with lock:
                            acked[subject] = m.group(1)
            except (smtplib.SMTPException, OSError):
                time.sleep(0.05)

    threads = [threading.Thread(target=sender, args=(t,), daemon=True) for t in range(SENDERS)]
    for t in threads:
        t.start()
    return threads


def _drained(gw):
    q = gw.queue_list()
    return not any(s in ("incoming", "active") for s in q.values())


def test_kill9_under_load_loses_no_acknowledged_message(make_gateway):
    gw = make_gateway()
    sent: dict[str, bytes] = {}
    acked: dict[str, str] = {}
    lock = threading.Lock()

    for round_no in range(ROUNDS):
        stop = threading.Event()
        before = len(acked)
        threads = _traffic(gw.port, round_no, sent, acked, lock, stop)
        time.sleep(TRAFFIC_SECONDS)
        gw.kill9()
        stop.set()
        for t in threads:
            t.join(30)
        assert len(acked) > before, f"round {round_no}: no message was acknowledged before the kill\n" \
                                    f"{gw.log_text()[-2000:]}"
        gw.port = free_port()  # same spool and connector directory, fresh port
        gw.start()

    assert wait_until(lambda: _drained(gw), 30, 0.5), f"queue did not drain: {gw.queue_list()}"
    time.sleep(1)
    queue = gw.queue_list()

    # 1. every acknowledged message is delivered byte-exact or still queued (not corrupt)
    missing, bad = [], []
    for subject, qid in acked.items():
        p = gw.eml_path(qid)
        if p.exists():
            _, body = split_received(p.read_bytes())
            if body != sent[subject]:
                bad.append(f"{qid} ({subject}): delivered bytes differ ({len(body)} vs {len(sent[subject])})")
        elif queue.get(qid) not in ("incoming", "active", "deferred", "hold"):
            missing.append(f"{qid} ({subject}): not delivered, queue state {queue.get(qid)}")
    # 2. nothing delivered is corrupt, unknown or duplicated
    seen: dict[str, str] = {}
    for p in gw.delivered():
        data = p.read_bytes()
        _, body = split_received(data)
        subject = header_value(body, "Subject")
        if subject not in sent:
            bad.append(f"{p.name}: unknown or mangled subject {subject!r}")
            continue
        if body != sent[subject]:
            bad.append(f"{p.name} ({subject}): corrupt ({len(body)} bytes, sent {len(sent[subject])})")
        if subject in seen:
            bad.append(f"{p.name} and {seen[subject]}: same message delivered twice ({subject})")
        seen[subject] = p.name
        if subject in acked and acked[subject] != p.stem:
            bad.append(f"{p.name}: {subject} was acknowledged as {acked[subject]}")

    summary = (f"sent {len(sent)}, acknowledged {len(acked)}, delivered {len(seen)}, "
               f"queued {len(queue)} {sorted(set(queue.values()))}")
    print(summary)
    assert not missing and not bad, summary + "\n" + "\n".join(missing + bad)
    assert len(acked) >= SENDERS, summary
