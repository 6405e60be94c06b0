#!/usr/bin/python3
"""Open N idle SMTP connections and hold them until told to let go.

Usage: idle_conns.py HOST PORT COUNT [PER_SOURCE [BATCH]]

Connects COUNT plain TCP sockets (BATCH at a time, default 200, so the listen
backlog never overflows), reads the 220 greeting on each and then keeps them
open without sending anything. With PER_SOURCE > 0 (and a loopback HOST) at most
PER_SOURCE sockets share a source address: they are bound to 127.0.1.1,
127.0.1.2, ... in turn, so a per-client-IP connection limit is not what is being
measured. Protocol on stdout/stdin (line based, for a bash coproc):

  -> "STARTED"                                 interpreter up, nothing connected yet
  <- any line                                  "connect now" (lets the caller take its
                                               "before" measurement with this process
                                               already running)
  -> "READY ok=N failed=M [first_error=...]"   all attempts done
  <- any line                                  "check the sockets now"
  -> "ALIVE n"                                 sockets still open (no EOF, no error)
  <- EOF (or a second line)                    close everything and exit

Exit status 0 if every connection was greeted with 220, 1 otherwise.
"""
import errno
import resource
import selectors
import socket
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def source_address(index, per_source):
    """127.0.1.1, 127.0.1.2, ... : per_source connections each."""
    k = index // per_source + 1
    return "127.%d.%d.%d" % (1 + k // 65536, (k // 256) % 256, k % 256)


def open_batch(host, port, first, n, per_source, timeout):
    """Connect n sockets, read each greeting; returns (ok_socks, errors)."""
    sel = selectors.DefaultSelector()
    pending = {}
    errors = []
    for i in range(first, first + n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if per_source > 0:
            try:
                s.bind((source_address(i, per_source), 0))
            except OSError as e:
                errors.append("bind %s: %s" % (source_address(i, per_source), e))
                s.close()
                continue
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            errors.append("connect: " + errno.errorcode.get(rc, str(rc)))
            s.close()
            continue
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)
    ok = []
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError as e:
                errors.append("recv: " + (errno.errorcode.get(e.errno) or str(e)))
                sel.unregister(s)
                del pending[s]
                s.close()
                continue
            if not data:
                errors.append("closed before greeting")
                sel.unregister(s)
                del pending[s]
                s.close()
                continue
            buf = pending[s] + data
            if b"\n" not in buf:
                pending[s] = buf
                continue
            sel.unregister(s)
            del pending[s]
            # Multi-line greeting ("220-...") ends with a "220 " line; the first
            # line's code is what matters here.
            if buf.startswith(b"220"):
                ok.append(s)
            else:
                errors.append("greeting: " + buf.split(b"\r\n")[0].decode("latin-1")[:80])
                s.close()
    for s in list(pending):
        errors.append("no greeting within %ss" % timeout)
        sel.unregister(s)
        s.close()
    sel.close()
    return ok, errors


def alive(socks):
    """Count sockets with no pending EOF/error (idle peers send nothing)."""
    n = 0
    for s in socks:
        try:
            data = s.recv(4096, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            n += 1  # nothing to read: still open and idle
            continue
        except OSError:
            continue
        if data:
            n += 1  # open, but the server said something (e.g. a 421 timeout)
    return n


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    per_source = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    if per_source > 0 and not host.startswith("127."):
        per_source = 0  # only loopback has a whole /8 of local addresses
    limit = raise_nofile(count + 64)
    if limit < count + 16:
        print("READY ok=0 failed=%d first_error=RLIMIT_NOFILE=%d" % (count, limit), flush=True)
        return 1
    print("STARTED", flush=True)
    if not sys.stdin.readline():
        return 0
    socks, errors = [], []
    done = 0
    while done < count:
        n = min(batch, count - done)
        ok, errs = open_batch(host, port, done, n, per_source, 10.0)
        socks += ok
        errors += errs
        done += n
    line = "READY ok=%d failed=%d" % (len(socks), len(errors))
    if errors:
        line += " first_error=" + errors[0].replace(" ", "_")
    print(line, flush=True)
    if sys.stdin.readline():
        print("ALIVE %d" % alive(socks), flush=True)
        sys.stdin.readline()
    for s in socks:
        s.close()
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
