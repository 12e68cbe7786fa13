#!/usr/bin/env python3
"""Scenario C of tests/fault/run.sh (Python 3 standard library only): the database goes away.

Two roles.

`outage.py proxy --listen 127.0.0.1:P --upstream HOST:PORT --events FILE`: a TCP proxy (asyncio)
between the service and PostgreSQL (the service's DATABASE_URL names the proxy). SIGUSR1 takes
the database away: the listening socket is closed (new connects get ECONNREFUSED) and every
proxied connection is reset (RST to the service, closed towards PostgreSQL). SIGUSR2 listens
again. Each event is appended to FILE as a JSON line with its CLOCK_MONOTONIC time (shared by
all processes, so the helper below measures against it).

`outage.py run --name C --url URL --proxy-pid PID --proxy-events FILE --proxy-port P ...`: creates
a project like fault.py (a generic code whose quantity runs out after the outage, bulk codes of
quantity 1), then runs a steady stream of validations and redemptions (each redemption with its
own Idempotency-Key, driven until answered with the same key and body, as in fault.py) while
GET /health/ready is polled every 100 ms. After `--before` seconds it signals the proxy down,
checks that a new connect to it is refused, and `--outage` seconds later signals it up; the
stream goes on `--after` seconds more. Every answer is recorded, then:

  * every answer to the stream is 200, 400 quantity_exceeded (a code used up), 429
    too_many_requests (hot code, retryable) or 503 service_unavailable with a Retry-After of
    whole seconds >= 1 and a JSON body; never a 500, never another status, never no answer;
  * /health/ready answered 200 before the outage, 503 (service_unavailable, Retry-After) within
    --ready-down-within s of the outage start, never 200 again while the database was away, and
    200 within --ready-up-within s of the restore, staying 200;
  * requests sent --recover-within s after the restore are no longer answered 503 (the same
    service process: run.sh checks that it did not die or restart);
  * then fault.py's checks: every key answered, exactly min(N, keys) redeemed per code, each key
    at most one redemption (ledger listing, byte-for-byte replays), counters equal to the keys
    and the ledger, rollbacks give back exactly their units.

Prints the measured times and counts, one summary line and the violated assertions with
evidence; exit 0 when all hold, 1 when one is violated, 2 when the scenario could not run.
"""

import argparse
import asyncio
import collections
import http.client
import itertools
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault  # noqa: E402  (the colleague's helper: Client, drive, Scenario and its checks)


# ====================================================================== the proxy


def proxy_main(a):
    host, port = a.listen.rsplit(":", 1)
    up_host, up_port = a.upstream.rsplit(":", 1)
    port, up_port = int(port), int(up_port)
    state = {"server": None, "down": False, "accepted": 0}
    conns = set()  # (client writer, upstream writer)

    def event(name, t=None, **kw):
        with open(a.events, "a") as f:
            f.write(json.dumps({"event": name, "t": time.monotonic() if t is None else t, **kw}) + "\n")

    async def pipe(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            return

    def reset(writer):
        """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        writer.transport.abort()

    async def handle(cr, cw):
        if state["down"]:
            reset(cw)
            return
        try:
            ur, uw = await asyncio.open_connection(up_host, up_port)
        except OSError:
            reset(cw)
            return
        if state["down"]:  # went down while connecting upstream
            reset(cw)
            reset(uw)
            return
        state["accepted"] += 1
        pair = (cw, uw)
        conns.add(pair)
        tasks = [asyncio.ensure_future(pipe(cr, uw)), asyncio.ensure_future(pipe(ur, cw))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            conns.discard(pair)
            cw.transport.abort()
            uw.transport.abort()

    async def listen():
        state["server"] = await asyncio.start_server(handle, host, port, reuse_address=True, backlog=512)

    async def down():
        if state["down"]:
            return
        # the outage starts before the first reset: an answer that reset caused comes after it
        started = time.monotonic()
        state["down"] = True
        state["server"].close()  # the listening socket: new connects are refused from now on
        n = 0
        for cw, uw in list(conns):
            reset(cw)
            reset(uw)
            n += 1
        conns.clear()
        event("down", t=started, reset=n, accepted=state["accepted"])

    async def up():
        if not state["down"]:
            return
        await listen()
        state["down"] = False
        event("up", accepted=state["accepted"])

    async def main():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(down()))
        loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(up()))
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await listen()
        event("listening", port=port)
        await stop.wait()
        event("stopped", accepted=state["accepted"], open=len(conns))

    asyncio.run(main())
    return 0


# ====================================================================== the traffic


class Recorder:
    """Every answer (or none) the stream, the rollbacks and the readiness poller met."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []  # dict(sent, recv, phase, method, path, status, key, retry, code, err, body)

    def add(self, **row):
        with self.lock:
            self.rows.append(row)


def error_of(raw):
    """(key, code) of a JSON error body; ("<not json>", None) when it is not one."""
    try:
        j = json.loads(raw)
        return j.get("key"), j.get("code")
    except (ValueError, AttributeError):
        return "<not json>", None


class Observed(fault.Client):
    """fault.Client that records every call into a Recorder, tagged with the scenario phase."""

    serial = itertools.count(1)  # connection ids (next() is atomic under the GIL)

    def __init__(self, base, headers, timeout, rec, phase):
        super().__init__(base, headers, timeout)
        self.rec, self.phase = rec, phase
        self.used = 0  # requests sent on the current connection

    def call(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.cid, self.used = next(Observed.serial), 0
        self.used += 1
        where = dict(conn=self.cid, nth=self.used)
        sent = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            if self.conn.sock is None:
                self.conn.connect()
            where["port"] = self.conn.sock.getsockname()[1]
            status, hdrs, raw = super().call(method, path, body, headers)
        except Exception as e:
            self.rec.add(sent=sent, recv=time.monotonic(), phase=self.phase(), method=method, path=path,
                         status=None, key=None, retry=None, code=None, err=f"{type(e).__name__}: {e}", body=b"", **where)
            self.close()
            raise
        key = code = None
        if status >= 400:
            key, code = error_of(raw)
        self.rec.add(sent=sent, recv=time.monotonic(), phase=self.phase(), method=method, path=path, status=status,
                     key=key, retry=hdrs.get("retry-after"), code=code, err=None, body=raw[:300],
                     closed=hdrs.get("connection"), **where)
        return status, hdrs, raw


# how a send on a connection the server has closed fails
STALE = {"BrokenPipeError", "ConnectionResetError", "RemoteDisconnected", "ConnectionAbortedError"}


class Outage(fault.Scenario):
    def __init__(self, a):
        super().__init__(a)
        self.rec = Recorder()
        self.ready = []  # dict(sent, recv, status, key, retry, err)
        self.events = {}  # proxy event -> its JSON
        self.refused = None  # what a connect to the proxy met during the outage
        self.items = []  # ("redeem", key) / ("validate", code), in sending order

    def client(self, timeout=10):
        return Observed(self.a.url, self.headers, timeout, self.rec, lambda: self.phase)

    # ---------- the plan ----------

    def setup(self):
        super().setup()  # project, the generic code, the bulk codes; self.order = the redemption keys
        codes = [self.generic] + self.bulk
        reds = iter(self.order)
        n_total = len(self.order) + self.validations
        # validations spread evenly among the redemptions
        for i in range(n_total):
            if self.validations and (i * self.validations) // n_total != ((i + 1) * self.validations) // n_total:
                self.items.append(("validate", codes[i % len(codes)]))
            else:
                self.items.append(("redeem", next(reds)))

    # ---------- readiness and the fault ----------

    def poll_ready(self, stop):
        """A probe every `ready_every` s, like an orchestrator's: each on a connection of its own,
        sent on time even while earlier ones are still waiting for their answer."""
        lock = threading.Lock()
        out = []

        def probe():
            c = fault.Client(self.a.url, {"Connection": "close"}, 5)
            sent = time.monotonic()
            try:
                status, hdrs, raw = c.call("GET", "/health/ready")
                key, code = error_of(raw) if status >= 400 else (None, None)
                row = dict(sent=sent, recv=time.monotonic(), status=status, key=key, code=code,
                           retry=hdrs.get("retry-after"), err=None, body=raw[:200])
            except (OSError, http.client.HTTPException) as e:
                row = dict(sent=sent, recv=time.monotonic(), status=None, key=None, code=None,
                           retry=None, err=f"{type(e).__name__}: {e}", body=b"")
            c.close()
            with lock:
                out.append(row)

        probes = []
        nxt = time.monotonic()
        while not stop.is_set():
            t = threading.Thread(target=probe, daemon=True)
            t.start()
            probes.append(t)
            nxt += self.a.ready_every
            stop.wait(max(0.0, nxt - time.monotonic()))
        for t in probes:
            t.join()
        self.ready = sorted(out, key=lambda r: r["sent"])

    def proxy_event(self, name, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with open(self.a.proxy_events) as f:
                    for line in f:
                        e = json.loads(line)
                        if e["event"] == name and e["t"] >= self.t0 - 1:
                            self.events[name] = e
                            return e
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        raise RuntimeError(f"the proxy did not report `{name}` within {timeout} s")

    def inject(self):
        """Down at t0 + before, up `outage` seconds later; a connect in between must be refused."""
        time.sleep(max(0.0, self.t0 + self.a.before - time.monotonic()))
        os.kill(self.a.proxy_pid, signal.SIGUSR1)
        down = self.proxy_event("down")
        try:
            s = socket.create_connection(("127.0.0.1", self.a.proxy_port), timeout=2)
            s.close()
            self.refused = "a connect to the proxy succeeded"
        except ConnectionRefusedError:
            self.refused = "ECONNREFUSED"
        except OSError as e:
            self.refused = f"{type(e).__name__}: {e}"
        time.sleep(max(0.0, down["t"] + self.a.outage - time.monotonic()))
        os.kill(self.a.proxy_pid, signal.SIGUSR2)
        self.proxy_event("up")

    # ---------- the stream (replaces fault.py's storm) ----------

    def storm(self):
        self.phase = "storm"
        lock = threading.Lock()
        nxt = [0]
        self.t0 = time.monotonic()
        rate = len(self.items) / (self.a.before + self.a.outage + self.a.after)
        stop_ready = threading.Event()
        poller = threading.Thread(target=self.poll_ready, args=(stop_ready,), daemon=True)
        poller.start()
        injector_error = []

        def injector():
            try:
                self.inject()
            except Exception as e:  # noqa: BLE001
                injector_error.append(e)

        inj = threading.Thread(target=injector, daemon=True)
        inj.start()

        def worker():
            c = self.client()
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(self.items):
                    return
                pause = self.t0 + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                with lock:
                    self.sent += 1
                kind, what = self.items[i]
                if kind == "redeem":
                    answered = self.redeem(c, what, "storm") is not None
                else:
                    answered = self.validate(c, what)
                if answered:
                    with lock:
                        self.answered += 1

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        inj.join()
        # readiness a little longer: it must stay 200
        time.sleep(max(0.0, self.a.ready_tail - (time.monotonic() - self.events.get("up", {}).get("t", 0))))
        stop_ready.set()
        poller.join()
        self.storm_secs = time.monotonic() - self.t0
        self.phase = "storm-done"
        if injector_error:
            raise RuntimeError(f"the outage was not injected: {injector_error[0]}")

    def validate(self, c, code):
        body = json.dumps({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 10000}}).encode()
        r = fault.drive(c, "POST", "/v1/validations", body, None, self.deadline, self.stats, "storm", "validation " + code)
        if r is None:
            return False
        if r[0] != 200:
            self.v.add("a validation's final answer is not 200", f"{code}: {r[0]} {r[2][:200]!r}")
        return True

    def wait_for_fault(self):
        d, u = self.events["down"], self.events["up"]
        return (f"database away {u['t'] - d['t']:.1f} s: listener closed, {d['reset']} proxied connections reset, "
                f"a new connect met {self.refused}")

    # ---------- the outage checks ----------

    def check_outage(self):
        td, tu = self.events["down"]["t"], self.events["up"]["t"]
        f = {}  # figures for the report
        rows = [r for r in self.rec.rows if r["phase"] == "storm"]
        by = collections.Counter()

        def rel(t, base):
            return f"{(t - base) * 1000:+.0f} ms"

        prev = {(r["conn"], r["nth"]): r for r in rows}
        early = []
        for r in rows:
            st, key = r["status"], r["key"]
            window = "before" if r["sent"] < td else "outage" if r["sent"] < tu else "after"
            what = f"{r['method']} {r['path']} sent {rel(r['sent'], td)} after the outage start"
            p = prev.get((r["conn"], r["nth"] - 1))
            if (st is None and p is not None and p["status"] is not None and p["status"] >= 400
                    and p["recv"] - p["sent"] < 0.1 and r["err"].split(":")[0] in STALE):
                # the request was not delivered: the server had closed the kept-alive connection
                # after the previous (early) error answer, without saying `Connection: close`
                early.append(f"{what} on a connection whose previous request ({p['path']}, "
                             f"{rel(p['sent'], td)}) was answered {p['status']} {p['key']} in "
                             f"{(p['recv'] - p['sent']) * 1000:.0f} ms (Connection: {p.get('closed')}): {r['err']}")
                by[(window, "connection closed after an early error")] += 1
                continue
            tag = f"{st} {key}" if st and st >= 400 else str(st) if st else "no answer"
            by[(window, tag)] += 1
            if st is None:
                self.v.add("the service gave no answer (connection error or client timeout)", f"{what}: {r['err']}")
            elif st == 200:
                pass
            elif st == 400 and key == "quantity_exceeded" and r["path"] == "/v1/redemptions":
                pass
            elif st == 429 and key == "too_many_requests":
                pass
            elif st == 503:
                if key != "service_unavailable" or r["code"] != 503:
                    self.v.add("a 503 without the service_unavailable JSON body", f"{what}: {r['body']!r}")
                if r["retry"] is None or not r["retry"].isdigit() or int(r["retry"]) < 1:
                    self.v.add("a 503 without a Retry-After of whole seconds >= 1", f"{what}: Retry-After {r['retry']!r}")
            else:
                self.v.add(f"an unexpected answer (HTTP {st})", f"{what}: {r['body']!r}")
        f["by"] = by
        f["early"] = early
        if early and not self.a.allow_early_close:
            for e in early:
                self.v.add("the server closed a kept-alive connection after an early error answer without "
                           "`Connection: close` (the next request on it was not delivered)", e)
        s503 = [r for r in rows if r["status"] == 503]
        f["first503"] = min((r["recv"] for r in s503 if r["sent"] >= td), default=None)
        f["last503"] = max((r["recv"] for r in s503), default=None)
        late = [r for r in s503 if r["sent"] >= tu + self.a.recover_within]
        for r in late:
            self.v.add(f"a request sent more than {self.a.recover_within} s after the restore was answered 503",
                       f"{r['method']} {r['path']} sent {rel(r['sent'], tu)} after the restore: {r['body']!r}")
        lat = sorted(r["recv"] - r["sent"] for r in s503)
        f["lat503"] = (lat[len(lat) // 2], lat[-1]) if lat else None
        outage_rows = [r for r in rows if td <= r["sent"] < tu]
        f["outage_ok"] = sum(1 for r in outage_rows if r["status"] == 200)
        f["outage_ok_during"] = sum(1 for r in rows if td <= r["sent"] and r["recv"] < tu and r["status"] == 200)
        f["outage_total"] = len(outage_rows)
        f["after_ok"] = sum(1 for r in rows if r["sent"] >= tu + self.a.recover_within and r["status"] == 200)

        # readiness
        polls = self.ready
        for p in polls:
            if p["status"] is None:
                self.v.add("/health/ready gave no answer", f"sent {rel(p['sent'], td)}: {p['err']}")
            elif p["status"] == 503:
                if p["key"] != "service_unavailable" or p["retry"] is None or not p["retry"].isdigit():
                    self.v.add("/health/ready 503 without service_unavailable and Retry-After",
                               f"sent {rel(p['sent'], td)}: Retry-After {p['retry']!r} {p['body']!r}")
            elif p["status"] != 200:
                self.v.add(f"/health/ready answered {p['status']}", f"sent {rel(p['sent'], td)}: {p['body']!r}")
        before = [p for p in polls if p["recv"] < td]
        if not before or before[-1]["status"] != 200:
            self.v.add("/health/ready was not 200 before the outage",
                       f"last poll before it: {before[-1]['status'] if before else 'none'}")
        down = next((p for p in polls if p["sent"] >= td and p["status"] == 503), None)
        f["ready_down"] = down["recv"] - td if down else None
        if down is None or f["ready_down"] > self.a.ready_down_within:
            self.v.add(f"/health/ready did not turn 503 within {self.a.ready_down_within} s of the outage start",
                       f"first 503 {'never' if down is None else rel(down['recv'], td)}")
        if down is not None:
            wrong = [p for p in polls if p["sent"] > down["recv"] and p["recv"] < tu and p["status"] == 200]
            for p in wrong:
                self.v.add("/health/ready answered 200 while the database was unreachable",
                           f"sent {rel(p['sent'], td)} after the outage start ({rel(p['recv'], tu)} of the restore)")
        upp = next((p for p in polls if p["sent"] >= tu and p["status"] == 200), None)
        f["ready_up"] = upp["recv"] - tu if upp else None
        if upp is None or f["ready_up"] > self.a.ready_up_within:
            self.v.add(f"/health/ready did not turn 200 within {self.a.ready_up_within} s of the restore",
                       f"first 200 after it {'never' if upp is None else rel(upp['recv'], tu)}")
        if upp is not None:
            flaps = [p for p in polls if p["sent"] > upp["recv"] and p["status"] != 200]
            f["flaps"] = len(flaps)
            for p in flaps:
                self.v.add("/health/ready fell back from 200 after the recovery",
                           f"{p['status']} sent {rel(p['sent'], tu)} after the restore")
        in_outage = [p for p in polls if td <= p["sent"] < tu]
        f["ready_polls"] = (len(polls), sum(1 for p in in_outage if p["status"] == 503), len(in_outage))
        lat = sorted(p["recv"] - p["sent"] for p in polls if p["status"] is not None)
        f["ready_lat"] = (lat[len(lat) // 2], lat[-1]) if lat else None
        f["td"], f["tu"] = td, tu
        self.figures = f
        if self.a.dump:
            with open(self.a.dump, "w") as out:
                for kind, rows in (("stream", self.rec.rows), ("ready", [dict(p, phase="ready", method="GET", path="/health/ready") for p in polls])):
                    for r in rows:
                        out.write(json.dumps({"kind": kind, "phase": r["phase"], "sent_ms": round((r["sent"] - td) * 1000),
                                              "recv_ms": round((r["recv"] - td) * 1000), "method": r["method"], "path": r["path"],
                                              "status": r["status"], "key": r["key"], "retry_after": r["retry"], "err": r["err"],
                                              "conn": r.get("conn"), "nth": r.get("nth"), "port": r.get("port"), "connection": r.get("closed"),
                                              "body": r["body"][:200].decode("utf-8", "replace")}) + "\n")

    def report(self):
        f = self.figures
        td, tu = f["td"], f["tu"]

        def ms(x):
            return "never" if x is None else f"{x * 1000:.0f} ms"

        by = f["by"]
        windows = []
        for w in ("before", "outage", "after"):
            parts = sorted(((tag, n) for (win, tag), n in by.items() if win == w), key=lambda x: -x[1])
            windows.append(f"{w}: " + ", ".join(f"{tag} x{n}" for tag, n in parts))
        polls, p503, pin = f["ready_polls"]
        print(f"fault C outage: /health/ready 503 after {ms(f['ready_down'])} (limit {self.a.ready_down_within * 1000:.0f} ms), "
              f"200 again {ms(f['ready_up'])} after the restore (limit {self.a.ready_up_within * 1000:.0f} ms); "
              f"{polls} polls, {p503}/{pin} sent during the outage answered 503, p50/max poll latency "
              f"{ms(f['ready_lat'][0]) if f['ready_lat'] else '-'}/{ms(f['ready_lat'][1]) if f['ready_lat'] else '-'}")
        print(f"  stream answers by send time — " + "; ".join(windows))
        last = "never" if f["last503"] is None else f"{(f['last503'] - tu) * 1000:+.0f} ms"
        print(f"  first 503 {ms(None if f['first503'] is None else f['first503'] - td)} after the outage start, last 503 "
              f"{last} from the restore; 503 latency p50/max "
              f"{ms(f['lat503'][0]) if f['lat503'] else '-'}/{ms(f['lat503'][1]) if f['lat503'] else '-'}; "
              f"{f['outage_ok']}/{f['outage_total']} attempts sent during the outage answered 200 "
              f"({f['outage_ok_during']} before the restore); "
              f"{f['after_ok']} answered 200 when sent {self.a.recover_within} s or more after the restore")
        if f["early"]:
            print(f"  {len(f['early'])} request(s) not delivered: the server had closed their kept-alive connection "
                  f"after an early error answer (before it read the request body) without `Connection: close`"
                  + (" (allowed by --allow-early-close)" if self.a.allow_early_close else ""))
        if f["lat503"] and f["lat503"][1] > 1.0:
            print(f"  note: 503s during the outage took up to {f['lat503'][1]:.1f} s (waiting for a pool connection "
                  f"that cannot be opened) rather than failing fast")

    def run(self):
        result = super().run()
        self.check_outage()
        return result

    def summary(self, *result):
        self.report()
        return super().summary(*result)


def run_main(a):
    s = Outage(a)
    s.validations = a.validations
    try:
        result = s.run()
    except Exception as e:  # a setup or verification call that could not be made
        s.phase = "error"
        try:
            s.write_progress()
        except OSError:
            pass
        print(f"fault {a.name}: could not run: {e}", file=sys.stderr)
        return 2
    s.summary(*result)
    return 1 if s.v else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="role", required=True)
    p = sub.add_parser("proxy")
    p.add_argument("--listen", required=True, help="HOST:PORT the service connects to")
    p.add_argument("--upstream", required=True, help="HOST:PORT of PostgreSQL")
    p.add_argument("--events", required=True, help="file the proxy appends its events to")
    r = sub.add_parser("run")
    r.add_argument("--name", default="C")
    r.add_argument("--url", required=True)
    r.add_argument("--management-id", default=os.environ.get("PROMO_MANAGEMENT_ID"))
    r.add_argument("--management-token", default=os.environ.get("PROMO_MANAGEMENT_TOKEN"))
    r.add_argument("--proxy-pid", type=int, required=True)
    r.add_argument("--proxy-port", type=int, required=True)
    r.add_argument("--proxy-events", required=True)
    r.add_argument("--before", type=float, default=2.0, help="seconds of traffic before the outage")
    r.add_argument("--outage", type=float, default=4.0, help="seconds the database is away")
    r.add_argument("--after", type=float, default=4.0, help="seconds of traffic after the restore")
    r.add_argument("--ready-tail", type=float, default=3.0, help="readiness is polled this long after the restore")
    r.add_argument("--ready-every", type=float, default=0.1)
    r.add_argument("--ready-down-within", type=float, default=1.5)
    r.add_argument("--ready-up-within", type=float, default=1.0)
    r.add_argument("--recover-within", type=float, default=2.0,
                   help="requests sent this long after the restore must not be answered 503")
    r.add_argument("--requests", type=int, default=360, help="redemption keys in the stream")
    r.add_argument("--validations", type=int, default=240, help="validations in the stream")
    r.add_argument("--quantity", type=int, default=0,
                   help="the generic code's quantity N (0: 85%% of its keys, so it runs out after the outage)")
    r.add_argument("--bulk", type=int, default=20)
    r.add_argument("--per-bulk", type=int, default=3)
    r.add_argument("--threads", type=int, default=32)
    r.add_argument("--rollbacks", type=int, default=5)
    r.add_argument("--deadline", type=float, default=40.0)
    r.add_argument("--seed", type=int, default=11)
    r.add_argument("--progress", required=True)
    r.add_argument("--server-log")
    r.add_argument("--allow-early-close", action="store_true",
                   help="only report (do not fail on) kept-alive connections the server closed after an early error answer")
    r.add_argument("--dump", help="file to write every recorded answer to (JSON lines, ms from the outage start)")
    a = ap.parse_args()
    if a.role == "proxy":
        return proxy_main(a)
    if a.per_bulk * a.bulk >= a.requests:
        ap.error("--requests must exceed --bulk × --per-bulk")
    if a.quantity <= 0:
        a.quantity = max(1, int(0.85 * (a.requests - a.bulk * a.per_bulk)))
    a.rate = 0  # unused: the stream paces itself
    a.fault_wait = 0
    return run_main(a)


if __name__ == "__main__":
    sys.exit(main())
