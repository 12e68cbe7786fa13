#!/usr/bin/env bash
# A/B of two server builds under the same load (not a test): starts BIN_A and BIN_B on databases
# of their own and alternates closed-loop rounds of promo-loadgen (LOAD_ONLY=$STEP) between them,
# so a host whose speed drifts within minutes treats both alike. Prints req/s per round, the
# ratio B/A, and CPU per request (the server and its PostgreSQL backends, from /proc).
# Usage: BIN_A=/tmp/promo-api.old BIN_B=target/release/promo-api scripts/load-ab.sh
#        (STEP=redeem|validate|qualify, ROUNDS=4, SECS=5; DB_SQL_B runs before B's server starts;
#        SETTINGS_A / SETTINGS_B: project settings JSON for each side's benchmark project)
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PROMO_MANAGEMENT_ID=mgmt_load PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
cargo build --release --quiet -p promo-loadgen
: "${BIN_A:?set BIN_A and BIN_B to two promo-api binaries}" "${BIN_B:?}"
declare -A pid port=([a]=18191 [b]=18192) bin=([a]=$BIN_A [b]=$BIN_B)
for side in a b; do
  psql -q -d postgres -c "drop database if exists promo_ab_$side" -c "create database promo_ab_$side" 2>/dev/null
done
[ -n "${DB_SQL_B:-}" ] && psql -q -d postgres -c "$DB_SQL_B"
trap 'kill ${pid[a]:-} ${pid[b]:-} 2>/dev/null || true' EXIT
for side in a b; do
  LISTEN_ADDR=127.0.0.1:${port[$side]} DATABASE_URL=postgres://$PGUSER@$PGHOST:$PGPORT/promo_ab_$side \
    DB_MAX_CONNECTIONS=$([ $side = a ] && echo "${POOL_A:-32}" || echo "${POOL_B:-32}") RUST_LOG=warn "${bin[$side]}" >/dev/null 2>&1 &
  pid[$side]=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:${port[$side]}/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
done
declare -A total=([a]=0 [b]=0)
for round in $(seq 1 "${ROUNDS:-4}"); do
  line="round $round:"
  for side in a b; do
    settings=$([ $side = a ] && echo "${SETTINGS_A:-}" || echo "${SETTINGS_B:-}")
    rate=$(PROMO_URL=http://127.0.0.1:${port[$side]} LOAD_ONLY=${STEP:-redeem} LOAD_SECONDS=${SECS:-5} \
      LOAD_PROJECT_SETTINGS=${settings:-'{}'} \
      ./target/release/promo-loadgen 2>/dev/null | grep -o '[0-9]* req/s' | cut -d' ' -f1)
    total[$side]=$((total[$side] + rate)); line="$line ${side^^} $rate"
  done
  echo "$line"
done
ticks=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$ticks" '{s += $14 + $15} END {printf "%d", s * 1000 / t}' "$@"; }
for side in a b; do
  backends=$(psql -d postgres -Atc "select pid from pg_stat_activity where datname = 'promo_ab_$side'" | sed 's|.*|/proc/&/stat|')
  requests=$((total[$side] * ${SECS:-5}))
  # shellcheck disable=SC2086
  echo "${side^^}: $((total[$side] / ${ROUNDS:-4})) req/s on average; CPU per request: postgres $(( $(cpu_ms $backends) * 1000 / requests )) µs, server $(( $(cpu_ms /proc/${pid[$side]}/stat) * 1000 / requests )) µs (setup included)"
done
awk -v a="${total[a]}" -v b="${total[b]}" 'BEGIN {printf "B/A %.3f\n", b / a}'
