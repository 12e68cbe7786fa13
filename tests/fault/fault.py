#!/usr/bin/env python3
"""Helper of tests/fault/run.sh (Python 3 standard library only): one fault scenario.

`fault.py --name A --url URL ...` creates a project with a generic code of quantity N and a
campaign of bulk codes of quantity 1, then fires a storm of redemptions (every request with its
own Idempotency-Key, more requests than the quantities allow) from several threads. Meanwhile
run.sh injects the fault (kill -9 + restart, or terminated database backends), reading the
progress file this helper keeps. Every request is driven until it is answered: no answer,
408, 429 and 503 are retried with the same key and the same body; a 5xx other than 503 is
recorded as a violation and retried the same way. Once run.sh says the fault is over, the
helper checks:

  * every key answered; exactly min(N, keys) redeemed per code (never more than N);
  * each key produced at most one redemption: the ledger listing (GET /v1/redemptions
    ?voucher_code=, paged) holds exactly the redemptions the keys were answered with, each
    key's metadata at most once, and a replay of every answered key returns the same answer
    byte for byte (same redemption id) with `Idempotent-Replayed: true`;
  * the counters equal the keys: GET /v1/vouchers/{code} redemption.redeemed_quantity and
    GET /v1/vouchers/{code}/redemption redeemed_quantity (and quantity, total);
  * a few rollbacks (replayed by key, refused a second time) give back exactly their units:
    the same checks again, and as many new redemptions as were rolled back succeed.

Prints one summary line and the violated assertions with evidence; exit 0 when all hold, 1
when one is violated, 2 when the scenario could not run.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse

RETRYABLE = {408, 429, 503}


class Client:
    """One keep-alive HTTP connection (one per thread)."""

    def __init__(self, base, headers, timeout):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.headers, self.timeout, self.conn = headers, timeout, None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def call(self, method, path, body=None, headers=None):
        """(status, lower-cased headers, body bytes); raises OSError/HTTPException on no answer."""
        h = dict(self.headers)
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            raw = r.read()
        except Exception:
            self.close()
            raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return r.status, hdrs, raw


class Stats:
    """Retries by cause and the 5xx answers (evidence), shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.errors = []  # (phase, what, status, request_id, body)

    def add(self, what, n=1):
        with self.lock:
            self.counts[what] += n

    def error(self, phase, what, status, raw):
        try:
            rid = json.loads(raw).get("request_id")
        except (ValueError, AttributeError):
            rid = None
        with self.lock:
            self.errors.append((phase, what, status, rid, raw[:300].decode("utf-8", "replace")))


def backoff(n):
    return min(0.4, 0.005 * 2 ** min(n, 7)) * (0.5 + random.random())


def drive(client, method, path, body, headers, deadline, stats, phase, what):
    """Sends until answered (same key, same body); None when the deadline passes first."""
    n = 0
    while time.monotonic() < deadline:
        try:
            status, hdrs, raw = client.call(method, path, body, headers)
        except (OSError, http.client.HTTPException):
            stats.add(phase + ":no answer")
            time.sleep(backoff(n))
            n += 1
            continue
        if status in RETRYABLE:
            stats.add(f"{phase}:{status}")
            time.sleep(backoff(n))
            n += 1
            continue
        if status >= 500:
            stats.add(f"{phase}:{status}")
            stats.error(phase, what, status, raw)
            time.sleep(backoff(n))
            n += 1
            continue
        return status, hdrs, raw
    return None


class Violations:
    """Violated assertions by kind; a kind seen at several stages is one line."""

    def __init__(self):
        self.kinds = collections.OrderedDict()  # kind -> OrderedDict(stage -> details)

    def add(self, kind, detail, stage=""):
        self.kinds.setdefault(kind, collections.OrderedDict()).setdefault(stage, []).append(detail)

    def __len__(self):
        return sum(len(d) for stages in self.kinds.values() for d in stages.values())

    def print(self, out):
        for kind, stages in self.kinds.items():
            first = next(iter(stages.values()))
            more = f" (+{len(first) - 3} more)" if len(first) > 3 else ""
            where = ", ".join(f"{st} {len(d)}" if st else f"{len(d)}x" for st, d in stages.items())
            print(f"  FAIL {kind}: {where} — e.g. " + "; ".join(first[:3]) + more, file=out)


def parse_answer(status, raw):
    """(redemption id or None, error key or None, resource id, parsed body)."""
    try:
        j = json.loads(raw)
    except ValueError:
        return None, "unparsable", None, None
    if status == 200:
        reds = j.get("redemptions") or []
        return (reds[0].get("id") if len(reds) == 1 else None), None, None, j
    return None, j.get("key"), j.get("resource_id"), j


class Scenario:
    def __init__(self, a):
        self.a = a
        self.stats = Stats()
        self.v = Violations()
        self.mgmt = {"X-Management-Id": a.management_id, "X-Management-Token": a.management_token}
        self.headers = {}
        self.keys = {}  # key -> dict(code, body, status, raw, rid, err, rf, replayed)
        self.order = []  # keys in plan order
        self.quantity = {}  # code -> N
        self.rolled = set()  # rolled back redemption ids
        self.phase = "setup"
        self.answered = 0
        self.sent = 0
        self.deadline = time.monotonic() + a.deadline

    # ---------- plumbing ----------

    def client(self, timeout=10):
        return Client(self.a.url, self.headers, timeout)

    def must(self, client, method, path, body=None, headers=None, ok=(200,), what=None):
        """A setup/verification call that must be answered with one of `ok`."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        r = drive(client, method, path, data, headers, self.deadline, self.stats, self.phase, what or path)
        if r is None:
            raise RuntimeError(f"{method} {path}: no answer before the deadline")
        if r[0] not in ok:
            raise RuntimeError(f"{method} {path}: {r[0]} {r[2][:300]!r}")
        return json.loads(r[2]) if r[2] else None

    def write_progress(self):
        tmp = self.a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{self.phase} {self.answered} {self.sent} {len(self.order)}\n")
        os.replace(tmp, self.a.progress)

    def progress_loop(self, stop):
        while not stop.is_set():
            self.write_progress()
            stop.wait(0.02)
        self.write_progress()

    # ---------- setup ----------

    def setup(self):
        c = Client(self.a.url, self.mgmt, 30)
        p = self.must(c, "POST", "/management/v1/projects", {"name": f"fault check {self.a.name}"})
        key = p["server_side_key"]
        self.headers = {"X-App-Id": key["app_id"], "X-App-Token": key["app_token"]}
        c = self.client(30)
        n = self.a.quantity
        gen = f"FAULT-{self.a.name}-GENERIC"
        discount = {"type": "AMOUNT", "amount_off": 100}
        self.must(c, "POST", f"/v1/vouchers/{gen}",
                  {"type": "DISCOUNT_VOUCHER", "discount": discount, "redemption": {"quantity": n}})
        self.quantity[gen] = n
        camp = self.must(c, "POST", "/v1/campaigns", {
            "name": f"fault {self.a.name} bulk", "vouchers_count": self.a.bulk,
            "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount, "redemption": {"quantity": 1},
                        "code_config": {"length": 8, "prefix": f"F{self.a.name}-",
                                        "charset": "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"}}})
        bulk = []
        for _ in range(200):
            got = self.must(c, "GET", f"/v1/vouchers?campaign_id={camp['id']}&limit=100")
            bulk = sorted(v["code"] for v in got["vouchers"])
            if len(bulk) >= self.a.bulk:
                break
            time.sleep(0.1)
        if len(bulk) != self.a.bulk:
            raise RuntimeError(f"the bulk campaign has {len(bulk)} codes, not {self.a.bulk}")
        for code in bulk:
            self.quantity[code] = 1
        self.generic, self.bulk = gen, bulk
        # the plan: `requests` keys, a share on the bulk codes, interleaved
        rng = random.Random(self.a.seed)
        per_bulk = self.a.per_bulk
        codes = [code for code in bulk for _ in range(per_bulk)]
        codes += [gen] * (self.a.requests - len(codes))
        rng.shuffle(codes)
        run = "%06x" % rng.randrange(1 << 24)
        for i, code in enumerate(codes):
            self.add_key(f"{self.a.name}-{run}-{i:04d}", code)

    def add_key(self, key, code):
        body = json.dumps({"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 10000},
                           "metadata": {"fault_key": key}}).encode()
        self.keys[key] = {"code": code, "body": body, "status": None}
        self.order.append(key)

    def redeem(self, client, key, phase):
        k = self.keys[key]
        r = drive(client, "POST", "/v1/redemptions", k["body"], {"Idempotency-Key": key},
                  self.deadline, self.stats, phase, key)
        if r is None:
            return None
        status, hdrs, raw = r
        rid, err, rf, _ = parse_answer(status, raw)
        k.update(status=status, raw=raw, rid=rid, err=err, rf=rf,
                 replayed=hdrs.get("idempotent-replayed") == "true")
        if status == 200 and rid is None:
            self.v.add("a 200 answer without exactly one redemption", f"{key}: {raw[:200]!r}")
        elif status != 200 and (status, err) != (400, "quantity_exceeded"):
            self.v.add("an unexpected final answer (not 200 or 400 quantity_exceeded)",
                       f"{key} on {k['code']}: {status} {raw[:200]!r}")
        return status

    # ---------- the storm ----------

    def storm(self):
        self.phase = "storm"
        lock = threading.Lock()
        nxt = [0]
        t0 = time.monotonic()

        def worker():
            c = self.client()
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(self.order):
                    return
                pause = t0 + i / self.a.rate - time.monotonic() if self.a.rate > 0 else 0
                if pause > 0:
                    time.sleep(pause)
                with lock:
                    self.sent += 1
                if self.redeem(c, self.order[i], "storm") is not None:
                    with lock:
                        self.answered += 1

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.storm_secs = time.monotonic() - t0
        self.phase = "storm-done"

    def wait_for_fault(self):
        """run.sh writes what it injected to --fault-done once the fault is over."""
        end = time.monotonic() + self.a.fault_wait
        while time.monotonic() < end:
            if os.path.exists(self.a.fault_done):
                with open(self.a.fault_done) as f:
                    return f.read().strip()
            time.sleep(0.05)
        self.v.add("the fault injector did not report", f"no {self.a.fault_done} after {self.a.fault_wait} s")
        return "fault: unknown"

    # ---------- checks ----------

    def check_answers(self):
        missing = [k for k in self.order if self.keys[k]["status"] is None]
        for k in missing:
            self.v.add("a request never answered (same key retried until the deadline)", f"{k} on {self.keys[k]['code']}")
        for code, n in self.quantity.items():
            ks = [k for k in self.order if self.keys[k]["code"] == code]
            ok = sum(1 for k in ks if self.keys[k]["status"] == 200)
            if ok > n:
                self.v.add("more successful keys than the quantity (over-redeemed)", f"{code}: {ok} > N={n}")
            elif ok != min(n, len(ks)) and not missing:
                self.v.add("not exactly min(N, keys) redeemed", f"{code}: {ok} succeeded, N={n}, {len(ks)} keys")
        rids = collections.Counter(self.keys[k]["rid"] for k in self.order if self.keys[k].get("rid"))
        for rid, c in rids.items():
            if c > 1:
                self.v.add("one redemption id answered to several keys", f"{rid} x{c}")

    def replays(self):
        """Replays every answered key: the same bytes, marked as a replay."""
        answered = [k for k in self.order if self.keys[k]["status"] is not None]
        lock = threading.Lock()
        it = iter(answered)
        bad = []
        same = [0]

        def worker():
            c = self.client()
            while True:
                with lock:
                    key = next(it, None)
                if key is None:
                    return
                k = self.keys[key]
                r = drive(c, "POST", "/v1/redemptions", k["body"], {"Idempotency-Key": key},
                          self.deadline, self.stats, "replay", key)
                if r is None:
                    with lock:
                        bad.append(("no answer to the replay", key))
                    continue
                status, hdrs, raw = r
                rid, err, _, _ = parse_answer(status, raw)
                if status != k["status"] or rid != k["rid"]:
                    what = ("a replay of an answered key returned another answer",
                            f"{key}: first {k['status']} {k['rid'] or k['err']}, replay {status} {rid or err}")
                elif raw != k["raw"]:
                    what = ("a replay differs from the first answer (not byte for byte)", key)
                elif hdrs.get("idempotent-replayed") != "true":
                    what = ("a replay lacks Idempotent-Replayed: true", key)
                else:
                    with lock:
                        same[0] += 1
                    continue
                with lock:
                    bad.append(what)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for kind, detail in bad:
            self.v.add(kind, detail)
        return same[0], len(answered)

    def listing(self, c, code):
        entries, page, total = [], 1, None
        q = urllib.parse.quote(code, safe="")
        while True:
            j = self.must(c, "GET", f"/v1/redemptions?voucher_code={q}&limit=100&page={page}")
            total = j.get("total")
            entries += j.get("redemptions", [])
            if len(j.get("redemptions", [])) < 100 or page >= 1000:
                return entries, total
            page += 1

    def check_ledger(self, stage):
        """Ledger listing and both counter endpoints against the keys' answers, per code."""
        c = self.client()
        figures = {}

        def bad(kind, detail):
            self.v.add(kind, detail, stage)

        for code, n in self.quantity.items():
            ks = [k for k in self.order if self.keys[k]["code"] == code]
            succ = {self.keys[k]["rid"]: k for k in ks if self.keys[k]["status"] == 200 and self.keys[k]["rid"]}
            rolled = self.rolled & set(succ)
            expect = len(succ) - len(rolled)
            entries, total = self.listing(c, code)
            if total != len(entries):
                bad(f"listing total differs from its entries", f"{code}: total {total}, {len(entries)} listed")
            reds = [e for e in entries if e.get("object") == "redemption"]
            oks = [e for e in reds if e.get("result") == "SUCCESS"]
            fails = [e for e in reds if e.get("result") == "FAILURE"]
            rbs = [e for e in entries if e.get("object") == "redemption_rollback"]
            ledger_ids = {e["id"] for e in oks}
            for rid in ledger_ids - set(succ):
                e = next(x for x in oks if x["id"] == rid)
                key = (e.get("metadata") or {}).get("fault_key")
                ans = self.keys.get(key, {})
                bad(f"a ledger redemption no key was answered with",
                           f"{code}: {rid} of key {key} (that key was answered {ans.get('status')} {ans.get('rid') or ans.get('err')})")
            for rid in set(succ) - ledger_ids:
                bad(f"an answered redemption is missing from the ledger", f"{code}: {rid} of {succ[rid]}")
            per_key = collections.Counter((e.get("metadata") or {}).get("fault_key") for e in oks)
            for key, cnt in per_key.items():
                if cnt > 1:
                    bad(f"one idempotency key produced several redemptions", f"{key} on {code}: {cnt}")
            per_key = collections.Counter((e.get("metadata") or {}).get("fault_key") for e in fails)
            for key, cnt in per_key.items():
                if cnt > 1:
                    bad(f"one idempotency key recorded several failures", f"{key} on {code}: {cnt}")
            live = [e for e in oks if e.get("status") == "SUCCEEDED"]
            back = {e["id"] for e in oks if e.get("status") == "ROLLED_BACK"}
            if back != rolled or len(rbs) != len(rolled):
                bad(f"rolled back redemptions differ from the ledger",
                           f"{code}: rolled back {len(rolled)}, ledger ROLLED_BACK {len(back)}, rollback entries {len(rbs)}")
            if len(live) > n:
                bad(f"the ledger holds more live redemptions than the quantity", f"{code}: {len(live)} > N={n}")
            q = urllib.parse.quote(code, safe="")
            voucher = self.must(c, "GET", f"/v1/vouchers/{q}")
            red = self.must(c, "GET", f"/v1/vouchers/{q}/redemption?limit=1")
            got = {
                "GET /v1/vouchers/{code} redemption.redeemed_quantity": (voucher.get("redemption") or {}).get("redeemed_quantity"),
                "GET /v1/vouchers/{code}/redemption redeemed_quantity": red.get("redeemed_quantity"),
            }
            for what, value in got.items():
                if value != expect:
                    bad(f"{what} != successful keys - rollbacks",
                               f"{code}: {value} != {expect} (ledger {len(live)})")
            quantities = {
                "GET /v1/vouchers/{code} redemption.quantity": (voucher.get("redemption") or {}).get("quantity"),
                "GET /v1/vouchers/{code}/redemption quantity": red.get("quantity"),
            }
            for what, value in quantities.items():
                if value != n:
                    bad(f"{what} != N", f"{code}: {value} != {n}")
            if red.get("total") != len(entries):
                bad(f"GET /v1/vouchers/{{code}}/redemption total != ledger listing",
                           f"{code}: {red.get('total')} != {len(entries)}")
            figures[code] = (expect, len(live), got["GET /v1/vouchers/{code} redemption.redeemed_quantity"],
                             got["GET /v1/vouchers/{code}/redemption redeemed_quantity"])
        return figures

    def rollbacks(self):
        """Rolls back a few redemptions (by key, replayed, refused again), then redeems again."""
        self.phase = "rollback"
        c = self.client()
        gen_ok = sorted(k for k in self.order if self.keys[k]["code"] == self.generic and self.keys[k]["status"] == 200)
        bulk_ok = sorted(k for k in self.order if self.keys[k]["code"] in self.bulk and self.keys[k]["status"] == 200)
        chosen = gen_ok[: self.a.rollbacks] + bulk_ok[:2]
        done = collections.Counter()
        for key in chosen:
            k = self.keys[key]
            path = f"/v1/redemptions/{k['rid']}/rollback"
            first = drive(c, "POST", path, b"{}", {"Idempotency-Key": "rb-" + key}, self.deadline, self.stats, "rollback", key)
            if first is None or first[0] != 200:
                self.v.add("a rollback failed", f"{k['rid']}: {first and first[0]} {first and first[2][:200]!r}")
                continue
            j = json.loads(first[2])
            if j.get("object") != "redemption_rollback" or j.get("redemption") != k["rid"]:
                self.v.add("a rollback answered another object", f"{k['rid']}: {first[2][:200]!r}")
            self.rolled.add(k["rid"])
            done[k["code"]] += 1
            again = drive(c, "POST", path, b"{}", {"Idempotency-Key": "rb-" + key}, self.deadline, self.stats, "rollback", key)
            if again is None or again[0] != 200 or again[2] != first[2] or again[1].get("idempotent-replayed") != "true":
                self.v.add("a rollback replay differs from the first answer", f"{k['rid']}: {again and again[0]}")
            other = drive(c, "POST", path, b"{}", {"Idempotency-Key": "rb2-" + key}, self.deadline, self.stats, "rollback", key)
            if other is None or other[0] != 400 or json.loads(other[2]).get("key") != "already_rolled_back":
                self.v.add("a second rollback was not refused with already_rolled_back",
                           f"{k['rid']}: {other and other[0]} {other and other[2][:200]!r}")
        return done

    def redeem_again(self, done):
        """As many new keys as were rolled back succeed on each code, plus a few that must not."""
        self.phase = "redeem-again"
        c = self.client()
        run = "%06x" % random.randrange(1 << 24)
        ok_total, want_total = 0, 0
        for code, rolled in sorted(done.items()):
            extra = 3 if code == self.generic else 1
            ok = 0
            for i in range(rolled + extra):
                key = f"{self.a.name}-again-{run}-{code}-{i}"
                self.add_key(key, code)
                if self.redeem(c, key, "redeem-again") == 200:
                    ok += 1
            ok_total += ok
            want_total += rolled
            if ok != rolled:
                self.v.add("after rollbacks, not exactly the rolled-back units could be redeemed again",
                           f"{code}: {ok} of {rolled + extra} new keys succeeded, {rolled} rolled back")
        return ok_total, want_total

    def server_log_causes(self):
        """The server log lines naming the request ids of 5xx answers."""
        if not self.a.server_log or not self.stats.errors or not os.path.exists(self.a.server_log):
            return []
        ids = {e[3] for e in self.stats.errors if e[3]}
        out = []
        with open(self.a.server_log, errors="replace") as f:
            for line in f:
                if any(i in line for i in ids):
                    out.append(re.sub(r"\x1b\[[0-9;]*m", "", line.strip())[:400])
        return out

    # ---------- the run ----------

    def run(self):
        stop = threading.Event()
        t = threading.Thread(target=self.progress_loop, args=(stop,), daemon=True)
        t.start()
        self.setup()
        self.storm()
        fault = self.wait_for_fault()
        self.phase = "verify"
        stop.set()
        t.join()
        self.check_answers()
        same, answered = self.replays()
        after_storm = self.check_ledger("after the storm")
        done = self.rollbacks()
        self.check_ledger("after rollbacks")
        again_ok, again_want = self.redeem_again(done)
        after = self.check_ledger("after redeeming again")
        for phase, what, status, rid, _ in self.stats.errors:
            self.v.add(f"HTTP {status} answered (never acceptable; a database outage must be a retryable 503)",
                       f"{what} (request_id {rid})", phase)
        return fault, same, answered, after_storm, done, again_ok, again_want, after

    def summary(self, fault, same, answered, after_storm, done, again_ok, again_want, after):
        ks = [self.keys[k] for k in self.order[: self.a.requests]]
        recovered = sum(1 for k in ks if k.get("replayed"))
        gen = after_storm[self.generic]
        bulk_ok = sum(after_storm[b][0] for b in self.bulk)
        s = self.stats.counts
        retried = ", ".join(f"{w} {sum(v for k, v in s.items() if k.startswith('storm:') and k.endswith(w))}"
                            for w in ("no answer", "408", "429", "503", "500"))
        other = sum(v for k, v in s.items() if k.startswith("storm:") and k.split(":")[1] not in ("no answer", "408", "429", "503", "500"))
        if other:
            retried += f", other 5xx {other}"
        later5 = sum(v for k, v in s.items() if not k.startswith("storm:") and k.split(":")[1].startswith("5") and k.split(":")[1] != "503")
        verdict = "ok" if not self.v else f"FAIL ({len(self.v)} violations)"
        line = (f"fault {self.a.name} [{fault}]: {len(ks)} keys / {self.a.threads} threads in {self.storm_secs:.1f} s, "
                f"answered {sum(1 for k in ks if k['status'] is not None)}/{len(ks)} ({recovered} first answered by a replay); "
                f"{self.generic} {gen[0]}/{self.quantity[self.generic]} redeemed (ledger {gen[1]}, voucher.redeemed_quantity {gen[2]}, "
                f"/redemption {gen[3]}), bulk {bulk_ok}/{len(self.bulk)} codes; "
                f"retried in storm: {retried}; 5xx after storm: {later5}; replays identical {same}/{answered}; "
                f"rolled back {sum(done.values())}, redeemed again {again_ok}/{again_want} — {verdict}")
        print(line)
        self.v.print(sys.stdout)
        if self.stats.errors:
            by = collections.Counter((e[0], e[2]) for e in self.stats.errors)
            print("  5xx answers: " + ", ".join(f"{n}x {st} in {ph}" for (ph, st), n in by.items()))
            for e in self.stats.errors[:3]:
                print(f"    {e[0]} {e[1]}: {e[2]} {e[4]}")
            causes = self.server_log_causes()
            if causes:
                print(f"  server log for those request ids ({len(causes)} lines), e.g.:")
                for l in causes[:3]:
                    print("    " + l)
        return line


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--management-id", default=os.environ.get("PROMO_MANAGEMENT_ID"))
    ap.add_argument("--management-token", default=os.environ.get("PROMO_MANAGEMENT_TOKEN"))
    ap.add_argument("--quantity", type=int, default=300, help="the generic code's redemption quantity N")
    ap.add_argument("--bulk", type=int, default=20, help="bulk codes of quantity 1")
    ap.add_argument("--per-bulk", type=int, default=5, help="requests per bulk code")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--rate", type=float, default=250.0, help="requests started per second (first tries); 0: as fast as the threads go")
    ap.add_argument("--rollbacks", type=int, default=5, help="generic-code redemptions rolled back")
    ap.add_argument("--deadline", type=float, default=60.0, help="seconds for the whole scenario")
    ap.add_argument("--fault-wait", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--progress", required=True, help="file kept at `phase answered sent total`")
    ap.add_argument("--fault-done", required=True, help="file run.sh writes when the fault is over")
    ap.add_argument("--server-log")
    ap.add_argument("--summary", help="file to append the summary line to")
    a = ap.parse_args()
    if a.per_bulk * a.bulk >= a.requests:
        ap.error("--requests must exceed --bulk × --per-bulk")
    s = Scenario(a)
    try:
        result = s.run()
    except Exception as e:  # a setup or verification call that could not be made
        s.phase = "error"
        try:
            s.write_progress()
        except OSError:
            pass
        print(f"fault {a.name}: could not run: {e}", file=sys.stderr)
        if a.summary:
            with open(a.summary, "a") as f:
                f.write(f"fault {a.name}: could not run: {e}\n")
        return 2
    line = s.summary(*result)
    if a.summary:
        with open(a.summary, "a") as f:
            f.write(line + "\n")
    return 1 if s.v else 0


if __name__ == "__main__":
    sys.exit(main())
