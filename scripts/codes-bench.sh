#!/usr/bin/env bash
# Bulk code generation benchmark (not a test): a release server on a fresh database generates
# CODES codes (default 1,000,000) for one campaign as an async action; prints codes per second
# and the server's peak memory. Needs PostgreSQL on 127.0.0.1:5432 (or PGHOST/PGPORT).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
count=${CODES:-1000000}
cargo build --release --quiet -p promo-api
psql -q -d postgres -c "drop database if exists promo_codes" -c "create database promo_codes"
port=18183
export PROMO_MANAGEMENT_ID=mgmt_codes PROMO_MANAGEMENT_TOKEN=codes-bench-token
export LISTEN_ADDR=127.0.0.1:$port DATABASE_URL=postgres://$PGUSER@$PGHOST:$PGPORT/promo_codes
url=http://127.0.0.1:$port
RUST_LOG=warn ./target/release/promo-api >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
project=$(curl -fsS -X POST "$url/management/v1/projects" -H "X-Management-Id: $PROMO_MANAGEMENT_ID" \
  -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN" -H 'Content-Type: application/json' -d '{"name": "codes"}')
app_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["server_side_key"]["app_id"])' <<<"$project")
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["server_side_key"]["app_token"])' <<<"$project")
h=(-H "X-App-Id: $app_id" -H "X-App-Token: $token" -H 'Content-Type: application/json')
start=$(date +%s.%N)
curl -fsS -X POST "$url/v1/campaigns" "${h[@]}" -d "{\"name\": \"bulk\", \"campaign_type\": \"DISCOUNT_COUPONS\",
  \"type\": \"STATIC\", \"vouchers_count\": $count, \"voucher\": {\"type\": \"DISCOUNT_VOUCHER\",
  \"discount\": {\"type\": \"PERCENT\", \"percent_off\": 10}, \"redemption\": {\"quantity\": 1},
  \"code_config\": {\"pattern\": \"BULK-##########\"}}}" >/dev/null
action=$(curl -fsS "$url/v1/async-actions?limit=1" "${h[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["async_actions"][0]["id"])')
while :; do
  state=$(curl -fsS "$url/v1/async-actions/$action" "${h[@]}")
  status=$(python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["status"], a["progress"], a["operation_status"])' <<<"$state")
  case "$status" in DONE*) break ;; esac
  sleep 0.5
done
end=$(date +%s.%N)
peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
made=$(psql -Atq -d promo_codes -c "select count(*) from voucher")
python3 - "$start" "$end" "$made" "$peak" "$rss_before" "$status" <<'PY'
import sys
start, end, made, peak, before, status = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
secs = end - start
print(f"| generate {made:,} codes | {secs:.1f} s | {made / secs:,.0f} codes/s | server peak RSS {peak / 1024:.0f} MiB (idle {before / 1024:.0f} MiB) | {status} |")
PY

# An import of IMPORT_ROWS (default 100,000) standalone codes from a CSV upload.
rows=${IMPORT_ROWS:-100000}
csv=$(mktemp)
python3 - "$rows" >"$csv" <<'PY'
import sys
print("Code,Discount Type,Value,Redemption Limit,Region")
for i in range(int(sys.argv[1])):
    print(f"IMP-{i:08d},AMOUNT,500,1,EU")
PY
start=$(date +%s.%N)
action=$(curl -fsS -X POST "$url/v1/vouchers/importCSV" -H "X-App-Id: $app_id" -H "X-App-Token: $token" \
  -F "file=@$csv;type=text/csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["async_action_id"])')
while :; do
  status=$(curl -fsS "$url/v1/async-actions/$action" "${h[@]}" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["status"], a["progress"], a["operation_status"])')
  case "$status" in DONE*) break ;; esac
  sleep 0.5
done
end=$(date +%s.%N)
imported=$(psql -Atq -d promo_codes -c "select count(*) from voucher where code like 'IMP-%'")
python3 -c "import sys; s=$end-$start; print(f'| import {$imported:,} codes (CSV) | {s:.1f} s | {$imported/s:,.0f} codes/s | | $status |')"
