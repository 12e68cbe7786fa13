#!/usr/bin/env bash
# Redemptions stay exact under faults. A storm of concurrent redemptions (16 threads, 1,000
# requests, each with its own Idempotency-Key; more of them than the quantities: a generic code
# of quantity 300 and 20 bulk codes of quantity 1), while
#   A: the server is killed with kill -9 mid-storm (at 20%, 50% and 80% of the requests
#      answered) and started again each time;
#   B: the service's PostgreSQL backends are terminated every ~200 ms for ~3 s;
#   C: the database goes away for ~4 s (tests/fault/outage.py: the service reaches PostgreSQL
#      through a TCP proxy whose listening socket is closed and whose connections are all reset)
#      while a steady stream of validations and redemptions runs and /health/ready is polled
#      every 100 ms: every failure must be 503 service_unavailable with Retry-After, readiness
#      must turn 503 within 1.5 s and 200 within 2 s of the restore, the same process recovers.
# Every request is retried with the same key and body until answered (no answer, 408, 429 and
# 503 are retryable; a 500 is recorded as a failure, then retried). tests/fault/fault.py then
# checks that exactly min(N, keys) were redeemed, that each key produced at most one redemption
# (the ledger listing; byte-for-byte replays), that the counters equal the keys and the ledger,
# and that rollbacks give back exactly their units. One summary line per scenario, the violated
# assertions with evidence; exit 1 on any.
#
#   PROMO_BIN=path/to/promo-api bash tests/fault/run.sh   # without PROMO_BIN: a release build
#
# Postgres: PROMO_FAULT_PG_URL (a server URL), else DATABASE_URL's server, else 127.0.0.1:5432,
# else the service's private cluster (127.0.0.1:55432); psql is needed. The check makes a
# database of its own, dropped at the end (PROMO_FAULT_KEEP=1 keeps it and the server log).
# Knobs: PROMO_FAULT_PORT (18196), PROMO_FAULT_KILL_AT ("20 50 80"), PROMO_FAULT_RATE_A (0: as
# fast as the threads go), PROMO_FAULT_RATE_B (250 requests/s), PROMO_FAULT_ROUNDS (15),
# PROMO_FAULT_SCENARIOS ("A B C": which to run), PROMO_FAULT_PROXY_PORT (18471, scenario C's
# proxy), PROMO_FAULT_OUTAGE_SECS (4), PROMO_FAULT_ALLOW_EARLY_CLOSE (1: only report kept-alive
# connections the server closes after an early error answer without `Connection: close`),
# PROMO_FAULT_VERBOSE (1: C also counts the server log's "request failed" lines by path/cause).
# C keeps every answer it saw in $work/C.answers.jsonl (ms from the outage start; see KEEP).
# Bounded: ~10 s on a 2-core machine for A and B, ~15 s for C; A and B are stopped after 65 s at
# worst, C after 55 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
began=$(date +%s%N)

if [ -n "${PROMO_BIN:-}" ]; then
  bin=$PROMO_BIN
else
  cargo build --quiet --release -p promo-api
  bin=./target/release/promo-api
fi
command -v psql >/dev/null || { echo "fault check: psql (PostgreSQL client) is needed" >&2; exit 1; }
port=${PROMO_FAULT_PORT:-18196}
export PROMO_MANAGEMENT_ID=mgmt_fault_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port LOG_FORMAT=json
url=http://127.0.0.1:$port
work=$(mktemp -d)
log=$work/server.log
server= helper= pg= db= proxy=
scenarios=" ${PROMO_FAULT_SCENARIOS:-A B C} "
want() { [[ "$scenarios" == *" $1 "* ]]; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
. tests/service.sh

cleanup() {
  if [ -n "$helper" ]; then kill "$helper" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi
  if [ -n "${PROMO_FAULT_KEEP:-}" ]; then
    echo "fault check: kept $work and database $db"
  else
    if [ -n "$db" ]; then psql "$pg/postgres" -XAtqc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
  "$bin" >>"$log" 2>&1 &
  server=$!
  wait_ready "$url" "$server" "$log" "fault check"
}

if answers "$port"; then echo "fault check: port $port is in use (set PROMO_FAULT_PORT)" >&2; exit 1; fi
pg=$(postgres_server "${PROMO_FAULT_PG_URL:-}")
if [ -z "$pg" ]; then
  # the service starts its private cluster on 55432 (README, Quick start) and leaves it running
  start; kill "$server"; wait "$server" 2>/dev/null || true; server=
  pg=postgres://postgres@127.0.0.1:55432
fi
sql() { psql "$pg/postgres" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
# databases left by killed runs (named promo_fault_<pid>_<unix time>) after an hour
for old in $(sql "select datname from pg_database where datname like 'promo\_fault\_%'"); do
  if [ $(($(date +%s) - ${old##*_})) -gt 3600 ]; then sql "drop database if exists \"$old\" with (force)" >/dev/null || true; fi
done
db=promo_fault_$$_$(date +%s)
app=promo-fault-$$
sql "create database \"$db\"" >/dev/null
# the service's connections are those to its database, named by application_name
export DATABASE_URL="$pg/$db?application_name=$app"

# the helper runs one scenario in the background; it keeps `phase answered sent total` in
# $work/<name>.progress and verifies once $work/<name>.done says what was injected
scenario() {
  local name=$1
  shift
  timeout 65 python3 tests/fault/fault.py --name "$name" --url "$url" --deadline 50 \
    --progress "$work/$name.progress" --fault-done "$work/$name.done" --server-log "$log" "$@" &
  helper=$!
}
progress() {
  phase=setup answered=0 sent=0 total=1
  if [ -f "$1" ]; then read -r phase answered sent total <"$1" || true; fi
}
finish() { # name, fault description; sets rc
  echo "$2" >"$work/$1.done.tmp" && mv "$work/$1.done.tmp" "$work/$1.done"
  rc=0
  wait "$helper" || rc=$?
  helper=
  if [ "$rc" = 124 ]; then echo "fault $1: the helper was stopped after 65 s" >&2; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "fault $1: the service died" >&2; tail -20 "$log" >&2; rc=1
    start
  fi
}

rc_a=skipped rc_b=skipped rc_c=skipped
# ---- A: kill -9 mid-storm (at each PROMO_FAULT_KILL_AT percent answered), restart; the
# unanswered requests are retried with their keys and bodies
if want A; then
start
scenario A --rate "${PROMO_FAULT_RATE_A:-0}"
fault=
for kill_at in ${PROMO_FAULT_KILL_AT:-20 50 80}; do
  while kill -0 "$helper" 2>/dev/null; do
    progress "$work/A.progress"
    if [ "$phase" = storm ] && [ $((answered * 100)) -ge $((total * kill_at)) ]; then
      kill -9 "$server"; wait "$server" 2>/dev/null || true
      down=$(date +%s%N)
      fault="${fault:+$fault; }kill -9 at $answered/$total answered, $sent sent"
      start
      fault="$fault, back in $(ms "$down") ms"
      continue 2
    fi
    if [ "$phase" != setup ] && [ "$phase" != storm ]; then break; fi
    sleep 0.02
  done
  fault="${fault:+$fault; }NOT INJECTED: the storm ended before $kill_at% was answered"
done
finish A "$fault"
rc_a=$rc
case "$fault" in *"NOT INJECTED"*) echo "fault A: a kill was not injected mid-storm" >&2; rc_a=1 ;; esac
fi

# ---- B: the service's PostgreSQL backends terminated every ~200 ms during the storm
if want B; then
if [ -z "$server" ]; then start; fi
target="datname = '$db' and application_name = '$app'"
if [ "$(sql "select count(*) from pg_stat_activity where $target")" = 0 ]; then
  echo "fault B: no backend shows application_name $app; targeting database $db alone"
  target="datname = '$db'"
fi
scenario B --rate "${PROMO_FAULT_RATE_B:-250}"
while kill -0 "$helper" 2>/dev/null; do
  progress "$work/B.progress"
  if [ "$phase" = storm ] && [ $((answered * 100)) -ge $((total * 3)) ]; then break; fi
  if [ "$phase" != setup ] && [ "$phase" != storm ]; then break; fi
  sleep 0.02
done
rounds=0 during=0 terminated=0
t=$(date +%s%N)
for _ in $(seq 1 "${PROMO_FAULT_ROUNDS:-15}"); do
  kill -0 "$helper" 2>/dev/null || break
  progress "$work/B.progress"
  n=$(sql "select count(*) from (select pg_terminate_backend(pid) as t from pg_stat_activity
           where $target and pid <> pg_backend_pid()) s where t" || echo 0)
  rounds=$((rounds + 1)) terminated=$((terminated + n))
  if [ "$phase" = storm ]; then during=$((during + 1)); fi
  sleep 0.2
done
progress "$work/B.progress"
fault="$terminated backends terminated in $rounds rounds over $(ms "$t") ms, $during during the storm"
fault="$fault (at the end $answered/$total answered)"
finish B "$fault"
rc_b=$rc
if [ "$terminated" = 0 ] || [ "$during" = 0 ]; then echo "fault B: no backend was terminated during the storm" >&2; rc_b=1; fi
fi

# ---- C: the database unreachable for ~4 s. The service is started again behind a TCP proxy
# (tests/fault/outage.py proxy); the helper signals it down (listener closed, every proxied
# connection reset) and up while its stream and readiness poller run, then checks every answer.
if want C; then
if [ -n "$server" ]; then kill "$server"; wait "$server" 2>/dev/null || true; server=; fi
proxy_port=${PROMO_FAULT_PROXY_PORT:-18471}
if answers "$proxy_port"; then echo "fault C: port $proxy_port is in use (set PROMO_FAULT_PROXY_PORT)" >&2; exit 1; fi
# PostgreSQL's host:port, and the service's URL with the proxy in their place
read -r upstream proxied < <(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
auth = p.netloc.rpartition("@")[0]
host = p.hostname or "127.0.0.1"
at = auth + "@" if auth else ""
print(f"{host}:{p.port or 5432}", f"{p.scheme}://{at}127.0.0.1:{sys.argv[2]}/{sys.argv[3]}?application_name={sys.argv[4]}")
' "$pg" "$proxy_port" "$db" "$app")
python3 tests/fault/outage.py proxy --listen "127.0.0.1:$proxy_port" --upstream "$upstream" \
  --events "$work/C.proxy" >>"$work/proxy.log" 2>&1 &
proxy=$!
for _ in $(seq 1 100); do answers "$proxy_port" && break; sleep 0.05; done
export DATABASE_URL=$proxied
start
pid_before=$server
rc_c=0
timeout 55 python3 tests/fault/outage.py run --name C --url "$url" --proxy-pid "$proxy" \
  --proxy-port "$proxy_port" --proxy-events "$work/C.proxy" --outage "${PROMO_FAULT_OUTAGE_SECS:-4}" \
  --progress "$work/C.progress" --server-log "$log" --dump "$work/C.answers.jsonl" \
  ${PROMO_FAULT_ALLOW_EARLY_CLOSE:+--allow-early-close} || rc_c=$?
if [ "$rc_c" = 124 ]; then echo "fault C: the helper was stopped after 55 s" >&2; fi
if ! kill -0 "$pid_before" 2>/dev/null; then
  echo "fault C: the service died during the outage (it must recover without a restart)" >&2
  tail -20 "$log" >&2; rc_c=1; server=
fi
if [ "$(grep -c '"request failed"' "$log" || true)" != 0 ] && [ -n "${PROMO_FAULT_VERBOSE:-}" ]; then
  echo "fault C: server log, request failures by message:"
  grep '"request failed"' "$log" | python3 -c 'import sys, json, collections
c = collections.Counter((j.get("span", {}).get("path"), j.get("fields", {}).get("error", "?")[:160]) for j in map(json.loads, (l for l in sys.stdin if l.startswith("{"))))
for (path, err), n in c.most_common(8): print(f"  {n:5d}  {path}: error {err}")' || true
fi
fi

verdict() { case "$1" in 0) echo ok ;; skipped) echo skipped ;; *) echo FAIL ;; esac; }
echo "fault check: A (kill -9) $(verdict $rc_a), B (terminated backends) $(verdict $rc_b)," \
  "C (database unreachable) $(verdict $rc_c) in $(($(ms "$began") / 1000)) s"
for rc in $rc_a $rc_b $rc_c; do case "$rc" in 0 | skipped) ;; *) exit 1 ;; esac; done
