#!/usr/bin/env python3
"""Helper of tests/transport/run.sh (Python 3 standard library only): connection limits.

`transport.py flood --url URL --pid PID --timeout T ...` (the server runs with
PROMO_HEADER_READ_TIMEOUT_SECS=T): measures the server's RSS idle, opens `--silent` TCP
connections that send nothing, `--partial` that send an unfinished request head
("GET / HTTP/1.1\\r\\nHost: x\\r\\n") and `--idle` that complete one keep-alive request and then
go quiet; samples VmRSS every 50 ms, checks that /health/live answers 200 quickly while they are
all open, then waits T + `--grace` seconds and checks that the server closed every one of them
(EOF or reset; never closed before T - 0.5 s); `--trickle` more send one header line every
0.5 s without ever ending the head (a slow-loris client) and must be closed by T + grace too, and measures RSS and open descriptors again.
Fails when the RSS peak exceeds `--rss-bound-mb`.

`transport.py cap --url URL --pid PID --max M --open N` (the server runs with
PROMO_MAX_CONNECTIONS=M): opens N > M silent connections; the N - M over the cap must be closed
by the server at once and the first M held; /health/live cannot connect while the cap is full
(reported, not asserted); once the client releases them /health/live answers 200 again, and M
new connections are all held again (no slot leaked) while one more is closed at once. Before
that, a request head of half PROMO_MAX_HEADER_BYTES (`--max-header`, default 16384) must be
served and one of twice it must not.

Prints the measured figures and one line per violated assertion; exit 0 when all hold, 1 when
one is violated, 2 when the check could not run.
"""

import argparse
import http.client
import os
import resource
import selectors
import socket
import statistics
import sys
import threading
import time
import urllib.parse

PARTIAL = b"GET / HTTP/1.1\r\nHost: x\r\n"


def proc_status(pid):
    """{VmRSS, VmHWM} in KiB, and the open descriptor count, of the server."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    try:
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        out["fds"] = None
    return out


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


class Sampler(threading.Thread):
    """VmRSS every `every` s; the peak and when it was seen."""

    def __init__(self, pid, every=0.05):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.stop = threading.Event()
        self.peak = 0
        self.samples = []

    def run(self):
        while not self.stop.is_set():
            try:
                rss = proc_status(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            self.samples.append((time.monotonic(), rss))
            self.peak = max(self.peak, rss)
            self.stop.wait(self.every)


def live(host, port, timeout=2.0):
    """(status or None, seconds, error) of GET /health/live on a fresh connection."""
    t = time.monotonic()
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", "/health/live", headers={"Connection": "close"})
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - t, None
    except (OSError, http.client.HTTPException) as e:
        return None, time.monotonic() - t, f"{type(e).__name__}: {e}"
    finally:
        c.close()


class Conn:
    __slots__ = ("sock", "group", "opened", "closed", "how", "got")

    def __init__(self, sock, group, opened):
        self.sock, self.group, self.opened = sock, group, opened
        self.closed, self.how, self.got = None, None, b""


def open_conns(host, port, n, group, send=None, keepalive_request=False):
    out = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        if keepalive_request:
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            buf = b""
            while True:
                head, sep, body = buf.partition(b"\r\n\r\n")
                if sep:
                    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            if not buf.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"the keep-alive request was answered {buf[:60]!r}")
        elif send:
            s.sendall(send)
        s.setblocking(False)
        out.append(Conn(s, group, time.monotonic()))
    return out


def watch(conns, until, stop_when_all=True):
    """Records when the server closes each connection (EOF or reset) until `until`."""
    sel = selectors.DefaultSelector()
    live_ = 0
    for c in conns:
        if c.closed is None:
            sel.register(c.sock, selectors.EVENT_READ, c)
            live_ += 1
    while live_ and time.monotonic() < until:
        for key, _ in sel.select(timeout=max(0.0, min(0.05, until - time.monotonic()))):
            c = key.data
            try:
                d = c.sock.recv(65536)
            except ConnectionResetError:
                d, c.how = None, "reset"
            except BlockingIOError:
                continue
            if d:
                c.got += d  # an answer before the close (e.g. a 408) is recorded, then EOF awaited
                continue
            c.closed = time.monotonic()
            c.how = c.how or "EOF"
            sel.unregister(c.sock)
            live_ -= 1
        if not stop_when_all and time.monotonic() >= until:
            break
    sel.close()
    return live_


def spread(xs):
    if not xs:
        return "-"
    xs = sorted(xs)
    return f"min {xs[0]:.2f} s, median {statistics.median(xs):.2f} s, max {xs[-1]:.2f} s"


def flood(a, host, port, bad):
    for _ in range(20):
        live(host, port)
    time.sleep(0.5)
    idle = proc_status(a.pid)
    print(f"idle: VmRSS {mib(idle['VmRSS'])}, VmHWM {mib(idle['VmHWM'])}, {idle['fds']} descriptors, {idle['Threads']} threads")
    peaks = []
    for r in range(1, a.rounds + 1):
        print(f"round {r}/{a.rounds}:")
        peaks.append(flood_round(a, host, port, bad, idle))
    if len(peaks) > 1:
        grew = peaks[-1] - peaks[0]
        print(f"RSS peak by round: {', '.join(mib(p) for p in peaks)} (the same flood again: memory reused, not leaked, "
              f"when it does not grow; limit +{a.leak_mb:g} MiB)")
        if grew > a.leak_mb * 1024:
            bad(f"the RSS peak grew by {mib(grew)} from round 1 to round {len(peaks)} of the same flood (a leak?)")


def flood_round(a, host, port, bad, idle):
    sampler = Sampler(a.pid)
    sampler.start()
    t0 = time.monotonic()
    conns = open_conns(host, port, a.silent, "silent")
    conns += open_conns(host, port, a.partial, "partial head", send=PARTIAL)
    conns += open_conns(host, port, a.idle, "idle keep-alive", keepalive_request=True)
    trickle = open_conns(host, port, a.trickle, "trickling head", send=PARTIAL)
    conns += trickle
    t_open = time.monotonic()
    print(f"opened {a.silent} silent + {a.partial} partial-head + {a.idle} idle keep-alive + {a.trickle} trickling-head "
          f"connections in {t_open - t0:.2f} s")
    stop_trickle = threading.Event()

    def trickler():
        # a slow client: one more header line every 0.5 s, never the end of the head
        while not stop_trickle.wait(0.5):
            for c in trickle:
                if c.closed is None:
                    try:
                        c.sock.send(b"X-Slow: 1\r\n")
                    except OSError:
                        pass

    tt = threading.Thread(target=trickler, daemon=True)
    tt.start()
    # the server has accepted them (not just the kernel's backlog): its descriptors
    time.sleep(0.3)
    watch(conns, time.monotonic() + 0.01)
    held = proc_status(a.pid)
    early = [c for c in conns if c.closed is not None]
    print(f"while open: {held['fds']} server descriptors (idle {idle['fds']}, +{held['fds'] - idle['fds']}), "
          f"VmRSS {mib(held['VmRSS'])}; {len(early)} already closed by the server")
    if held["fds"] - idle["fds"] < 0.95 * len(conns):
        bad(f"the server holds only {held['fds'] - idle['fds']} more descriptors than idle for {len(conns)} connections "
            f"(not accepted?)")
    lat = []
    for _ in range(a.live_probes):
        st, secs, err = live(host, port)
        lat.append(secs)
        if st != 200:
            bad(f"/health/live while {len(conns)} connections were open: {st} {err}")
        time.sleep(0.05)
    print(f"/health/live while they are open: {len(lat)} probes, max {max(lat) * 1000:.0f} ms, "
          f"median {statistics.median(lat) * 1000:.0f} ms (limit {a.live_within * 1000:.0f} ms)")
    if max(lat) > a.live_within:
        bad(f"/health/live took {max(lat) * 1000:.0f} ms (> {a.live_within * 1000:.0f} ms) while the connections were open")
    # the idle keep-alive ones count from their answer, the others from their connect
    deadline = t_open + a.timeout + a.grace
    left = watch(conns, deadline)
    t_end = time.monotonic()
    stop_trickle.set()
    tt.join()
    sampler.stop.set()
    sampler.join()
    peak = max(sampler.peak, proc_status(a.pid)["VmRSS"])
    hwm = proc_status(a.pid)["VmHWM"]
    for group in ("silent", "partial head", "idle keep-alive", "trickling head"):
        g = [c for c in conns if c.group == group]
        shut = [c for c in g if c.closed is not None]
        ages = [c.closed - c.opened for c in shut]
        hows = {}
        for c in shut:
            hows[c.how] = hows.get(c.how, 0) + 1
        answered = [c for c in g if c.got]
        print(f"  {group}: {len(shut)}/{len(g)} closed by the server ({', '.join(f'{k} {v}' for k, v in hows.items()) or '-'}) "
              f"after {spread(ages)}" + (f"; {len(answered)} got bytes first, e.g. {answered[0].got[:80]!r}" if answered else ""))
        if len(shut) != len(g):
            bad(f"{len(g) - len(shut)} of {len(g)} {group} connections were still open {a.timeout + a.grace:.0f} s "
                f"after being opened (PROMO_HEADER_READ_TIMEOUT_SECS={a.timeout:g})")
        too_soon = [x for x in ages if x < a.timeout - 0.5]
        if too_soon:
            bad(f"{len(too_soon)} {group} connections were closed before the timeout (after {min(too_soon):.2f} s)")
    for c in conns:
        c.sock.close()
    time.sleep(1.0)
    after = proc_status(a.pid)
    st, secs, err = live(host, port)
    print(f"RSS: idle {mib(idle['VmRSS'])}, peak {mib(peak)} (VmHWM {mib(hwm)}), "
          f"{(peak - idle['VmRSS']) / max(1, len(conns)):.1f} KiB per connection; after they closed "
          f"{mib(after['VmRSS'])}, {after['fds']} descriptors (idle {idle['fds']}); bound {a.rss_bound_mb} MiB")
    if peak > a.rss_bound_mb * 1024:
        bad(f"RSS peak {mib(peak)} over the bound {a.rss_bound_mb} MiB")
    if after["fds"] > idle["fds"] + 10:
        bad(f"{after['fds'] - idle['fds']} more server descriptors after the connections closed than idle")
    if st != 200:
        bad(f"/health/live after the connections closed: {st} {err}")
    print(f"waited {t_end - t_open:.1f} s after the last connection opened; {left} still open at the deadline")
    return peak


def head_of(host, port, size):
    """The status line the server answers a GET /health/live whose head is ~`size` bytes with
    (or how the connection ended)."""
    pad = b"X-Pad: " + b"a" * max(0, size - 60) + b"\r\n"
    s = socket.create_connection((host, port), timeout=3)
    try:
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n" + pad + b"\r\n")
        buf = b""
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                return "closed without an answer"
            buf += d
        return buf.split(b"\r\n")[0].decode(errors="replace")
    except ConnectionResetError:
        return "reset without an answer"
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        s.close()


def cap(a, host, port, bad):
    st, _, err = live(host, port)
    if st != 200:
        raise RuntimeError(f"/health/live before the check: {st} {err}")
    # PROMO_MAX_HEADER_BYTES (default 16384): a head well under it is served, one over it is not
    small, big = head_of(host, port, a.max_header // 2), head_of(host, port, a.max_header * 2)
    print(f"request heads: {a.max_header // 2} bytes -> {small}; {a.max_header * 2} bytes -> {big} "
          f"(PROMO_MAX_HEADER_BYTES {a.max_header})")
    if " 200 " not in small + " ":
        bad(f"a {a.max_header // 2}-byte request head was answered {small!r}, not 200")
    if " 200 " in big + " ":
        bad(f"a {a.max_header * 2}-byte request head was served (200) with PROMO_MAX_HEADER_BYTES {a.max_header}")
    conns = open_conns(host, port, a.open, "capped")
    t_open = time.monotonic()
    watch(conns, t_open + a.quick, stop_when_all=False)
    shut = [c for c in conns if c.closed is not None]
    ages = [c.closed - c.opened for c in shut]
    late_idx = sorted(i for i, c in enumerate(conns) if c.closed is not None)
    excess = a.open - a.max
    print(f"cap {a.max}: opened {a.open}; {len(shut)} closed by the server within {a.quick:.1f} s "
          f"({spread(ages)} after connecting; indexes {late_idx[0] if late_idx else '-'}..{late_idx[-1] if late_idx else '-'}), "
          f"{a.open - len(shut)} held")
    if not (excess - a.slack <= len(shut) <= excess + a.slack):
        bad(f"{len(shut)} connections closed at once, expected {excess} (± {a.slack}) over the cap of {a.max}")
    st, secs, err = live(host, port, timeout=1.0)
    print(f"/health/live while the cap is full: {st or err} in {secs * 1000:.0f} ms (expected: refused/closed)")
    for c in conns:
        c.sock.close()
    t_rel = time.monotonic()
    ok_after = None
    while time.monotonic() < t_rel + a.live_within_after:
        st, secs, err = live(host, port, timeout=1.0)
        if st == 200:
            ok_after = time.monotonic() - t_rel
            break
        time.sleep(0.02)
    print(f"/health/live after releasing them: " + (f"200 {ok_after * 1000:.0f} ms after the release" if ok_after is not None
                                                     else f"not 200 within {a.live_within_after} s ({st} {err})"))
    if ok_after is None:
        bad(f"/health/live did not answer 200 within {a.live_within_after} s of releasing the connections")
        return
    # every slot came back: the cap's worth held again, one more closed at once
    time.sleep(0.2)
    again = open_conns(host, port, a.max, "again")
    extra = open_conns(host, port, 1, "extra")
    watch(again + extra, time.monotonic() + a.quick, stop_when_all=False)
    n_shut = sum(1 for c in again if c.closed is not None)
    print(f"again: {a.max - n_shut}/{a.max} held, connection {a.max + 1} "
          f"{'closed at once' if extra[0].closed is not None else 'held'}")
    if n_shut > a.slack:
        bad(f"after the release only {a.max - n_shut} of {a.max} new connections were held (slots leaked?)")
    if extra[0].closed is None:
        bad(f"connection {a.max + 1} was held with the cap at {a.max}")
    for c in again + extra:
        c.sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--timeout", type=float, required=True, help="the server's PROMO_HEADER_READ_TIMEOUT_SECS")
    f.add_argument("--grace", type=float, default=2.0)
    f.add_argument("--silent", type=int, default=3000)
    f.add_argument("--partial", type=int, default=1000)
    f.add_argument("--idle", type=int, default=40)
    f.add_argument("--trickle", type=int, default=40, help="connections that send one more header line every 0.5 s")
    f.add_argument("--server-max", type=int, default=4096, help="the server's PROMO_MAX_CONNECTIONS (the flood stays under it)")
    f.add_argument("--live-probes", type=int, default=10)
    f.add_argument("--live-within", type=float, default=0.5, help="seconds /health/live may take while they are open")
    f.add_argument("--rss-bound-mb", type=float, required=True)
    f.add_argument("--rounds", type=int, default=2, help="the same flood again on the same server (a leak grows the peak)")
    f.add_argument("--leak-mb", type=float, default=16.0, help="how much the peak may grow from round 1 to the last")
    c = sub.add_parser("cap")
    c.add_argument("--max", type=int, required=True, help="the server's PROMO_MAX_CONNECTIONS")
    c.add_argument("--open", type=int, required=True)
    c.add_argument("--quick", type=float, default=1.0, help="seconds within which the excess must be closed")
    c.add_argument("--slack", type=int, default=2)
    c.add_argument("--live-within-after", type=float, default=2.0)
    c.add_argument("--max-header", type=int, default=16384, help="the server's PROMO_MAX_HEADER_BYTES")
    for p in (f, c):
        p.add_argument("--url", required=True)
        p.add_argument("--pid", type=int, required=True)
    a = ap.parse_args()
    if a.mode == "flood" and a.silent + a.partial + a.idle + a.trickle + 8 > a.server_max:
        ap.error(f"more connections than the server's PROMO_MAX_CONNECTIONS ({a.server_max}) would leave room for")
    need = (a.silent + a.partial + a.idle + a.trickle if a.mode == "flood" else 2 * a.open + 2) + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))
        except (ValueError, OSError):
            pass
        if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
            print(f"transport {a.mode}: {need} descriptors needed, the limit is {soft} (hard {hard})", file=sys.stderr)
            return 2
    u = urllib.parse.urlsplit(a.url)
    failures = []

    def bad(msg):
        failures.append(msg)

    try:
        (flood if a.mode == "flood" else cap)(a, u.hostname, u.port, bad)
    except (OSError, RuntimeError) as e:
        print(f"transport {a.mode}: could not run: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    for m in failures:
        print(f"  FAIL {m}")
    print(f"transport {a.mode}: {'ok' if not failures else f'FAIL ({len(failures)})'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
