#!/usr/bin/env bash
# A killed server loses no acknowledged work: a code generation is interrupted with kill -9
# mid-way, the server is started again, and the action must finish with exactly the asked-for
# number of distinct codes. Postgres is found the way the service finds it.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet -p promo-api
port=${PROMO_RESTART_PORT:-18192}
export PROMO_MANAGEMENT_ID=mgmt_restart_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port PROMO_JOB_LEASE_SECS=2
url=http://127.0.0.1:$port
count=60000
log=$(mktemp)
server=
start() {
  ./target/debug/promo-api >>"$log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do
    curl -fsS "$url/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  cat "$log"; echo "the service did not start" >&2; exit 1
}
trap 'kill $server 2>/dev/null || true' EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

start
project=$(curl -fsS -X POST "$url/management/v1/projects" -H "X-Management-Id: $PROMO_MANAGEMENT_ID" \
  -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN" -H 'Content-Type: application/json' -d '{"name": "restart check"}')
h=(-H "X-App-Id: $(json 'd["server_side_key"]["app_id"]' <<<"$project")"
   -H "X-App-Token: $(json 'd["server_side_key"]["app_token"]' <<<"$project")" -H 'Content-Type: application/json')
curl -fsS -X POST "$url/v1/campaigns" "${h[@]}" -d "{\"name\": \"restart\", \"vouchers_count\": $count,
  \"voucher\": {\"discount\": {\"type\": \"AMOUNT\", \"amount_off\": 100}, \"code_config\": {\"length\": 12}}}" >/dev/null
action=$(curl -fsS "$url/v1/async-actions?limit=1" "${h[@]}" | json 'd["async_actions"][0]["id"]')
progress=0
for _ in $(seq 1 600); do
  progress=$(curl -fsS "$url/v1/async-actions/$action" "${h[@]}" | json 'd["progress"]')
  [ "$progress" -gt 0 ] && break
  sleep 0.05
done
kill -9 "$server"; wait "$server" 2>/dev/null || true
echo "killed at progress $progress%"
[ "$progress" -lt 100 ] || { echo "the generation finished before the kill; raise count" >&2; exit 1; }
start
for _ in $(seq 1 600); do
  state=$(curl -fsS "$url/v1/async-actions/$action" "${h[@]}")
  [ "$(json 'd["status"]' <<<"$state")" = DONE ] && break
  sleep 0.2
done
result=$(json '(d["status"], d["operation_status"], d["result"]["count"])' <<<"$state")
made=$(curl -fsS "$url/v1/campaigns/restart" "${h[@]}" | json 'd["vouchers_count"]')
echo "after restart: $result, campaign has $made codes"
[ "$result" = "('DONE', 'SUCCESS', $count)" ] && [ "$made" = "$count" ] || { tail -20 "$log"; exit 1; }
echo "restart check: the action resumed and made exactly $count codes"
