#!/usr/bin/env bash
# Connection limits hold under a flood of idle and slow clients (tests/transport/transport.py):
#   1. PROMO_HEADER_READ_TIMEOUT_SECS=3: 3,000 silent connections, 1,000 that send a partial
#      request head, 40 idle keep-alive ones and 40 that trickle a header line every 0.5 s
#      (4,080: under the default cap of 4,096); the server's RSS stays under a bound,
#      /health/live answers 200 quickly while they are open, and 3 s + 2 s later the server has
#      closed every one of them (EOF or reset) and given back its descriptors;
#   2. PROMO_MAX_CONNECTIONS=500: of 600 connections the 100 over the cap are closed at once;
#      after the client releases them /health/live answers, and the cap's worth is held again;
#      with the default PROMO_MAX_HEADER_BYTES (16384) an 8 KiB request head is served, a 32 KiB
#      one is not.
# Prints the measured figures; exit 1 when an assertion is violated.
#
#   PROMO_BIN=path/to/promo-api bash tests/transport/run.sh   # without PROMO_BIN: a release build
#
# Postgres as tests/fault/run.sh finds it (PROMO_TRANSPORT_PG_URL, else DATABASE_URL's server,
# else 127.0.0.1:5432, else the private cluster on 55432); psql is needed; a database of its own
# is made and dropped (PROMO_TRANSPORT_KEEP=1 keeps it and the server logs).
# Knobs: PROMO_TRANSPORT_PORT (18472), PROMO_TRANSPORT_RSS_BOUND_MB (the RSS peak bound: twice
# the peak measured on a 2-core machine, see below).
# Bounded: ~15 s; each phase is stopped after 25 s at worst (under 60 s in all).
set -euo pipefail
cd "$(dirname "$0")/../.."
began=$(date +%s%N)

if [ -n "${PROMO_BIN:-}" ]; then
  bin=$PROMO_BIN
else
  cargo build --quiet --release -p promo-api
  bin=./target/release/promo-api
fi
command -v psql >/dev/null || { echo "transport check: psql (PostgreSQL client) is needed" >&2; exit 1; }
# 4,080 client sockets in the helper and as many in the server
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 9000 ]; then
  echo "transport check: at least 9,000 file descriptors are needed (ulimit -n is $(ulimit -n), hard $(ulimit -Hn))" >&2
  exit 1
fi
port=${PROMO_TRANSPORT_PORT:-18472}
# Measured with the release build of a9b6a6c on 2 cores (Linux x86-64, mimalloc), 4 runs: idle
# 35 MiB, peak 111 MiB with the 4,080 connections (~19 KiB each); the allocator keeps most of it
# after they close (94-111 MiB) and a second flood peaks no higher. The bound is ~2x the peak.
rss_bound=${PROMO_TRANSPORT_RSS_BOUND_MB:-224}
export PROMO_MANAGEMENT_ID=mgmt_transport_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port LOG_FORMAT=json
url=http://127.0.0.1:$port
work=$(mktemp -d)
server= pg= db=
. tests/service.sh

stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi
}
cleanup() {
  stop
  if [ -n "${PROMO_TRANSPORT_KEEP:-}" ]; then
    echo "transport check: kept $work and database $db"
  else
    if [ -n "$db" ]; then psql "$pg/postgres" -XAtqc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # log name, then VAR=value... for the server
  local log=$work/$1.log
  shift
  env "$@" "$bin" >>"$log" 2>&1 &
  server=$!
  wait_ready "$url" "$server" "$log" "transport check"
}

if answers "$port"; then echo "transport check: port $port is in use (set PROMO_TRANSPORT_PORT)" >&2; exit 1; fi
pg=$(postgres_server "${PROMO_TRANSPORT_PG_URL:-}")
if [ -z "$pg" ]; then
  start private; stop
  pg=postgres://postgres@127.0.0.1:55432
fi
sql() { psql "$pg/postgres" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
for old in $(sql "select datname from pg_database where datname like 'promo\_transport\_%'"); do
  if [ $(($(date +%s) - ${old##*_})) -gt 3600 ]; then sql "drop database if exists \"$old\" with (force)" >/dev/null || true; fi
done
db=promo_transport_$$_$(date +%s)
sql "create database \"$db\"" >/dev/null
export DATABASE_URL="$pg/$db"

# ---- 1: header-read timeout and memory under 4,080 idle or slow connections
start flood PROMO_HEADER_READ_TIMEOUT_SECS=3
echo "== flood: PROMO_HEADER_READ_TIMEOUT_SECS=3, server pid $server, ulimit -n $(ulimit -n)"
rc1=0
timeout 25 python3 tests/transport/transport.py flood --url "$url" --pid "$server" --timeout 3 \
  --rss-bound-mb "$rss_bound" || rc1=$?
if ! kill -0 "$server" 2>/dev/null; then echo "transport flood: the service died" >&2; tail -20 "$work/flood.log" >&2; rc1=1; fi
stop

# ---- 2: the connection cap
start cap PROMO_MAX_CONNECTIONS=500
echo "== cap: PROMO_MAX_CONNECTIONS=500, server pid $server"
rc2=0
timeout 25 python3 tests/transport/transport.py cap --url "$url" --pid "$server" --max 500 --open 600 || rc2=$?
if ! kill -0 "$server" 2>/dev/null; then echo "transport cap: the service died" >&2; tail -20 "$work/cap.log" >&2; rc2=1; fi
stop

verdict() { if [ "$1" = 0 ]; then echo ok; else echo FAIL; fi; }
echo "transport check: flood $(verdict $rc1), cap $(verdict $rc2) in $((($(date +%s%N) - began) / 1000000000)) s"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ]
