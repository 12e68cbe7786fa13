#!/usr/bin/env bash
# Voucherify's browser libraries in a real browser against the service: headless Chromium
# (Debian's) loads a tiny shop page from a trusted origin and drives @voucherify/sdk@2.9.0
# (VoucherifyClientSide), voucherify.js@1.32.0 (plain XHR and the jQuery widgets) and
# @voucherify/react-widget@2.0.2 (VoucherifyValidate, VoucherifyRedeem) through CORS; then the
# same page from untrusted origins must be refused by the browser, with nothing redeemed.
# Screenshots and the console log go to target/browser-artifacts/.
#
# Usage: bash tests/browser/run.sh
#   PROMO_BIN=path/to/promo-api   use that binary (else: cargo build --release -p promo-api)
#   PROMO_BROWSER_PORT=18381      the service's port; the shop uses +1 (trusted), +2 (untrusted)
#   BROWSER_VERBOSE=1             log every browser console line, request and response
# Postgres is found the way the service finds it (DATABASE_URL, 127.0.0.1:5432, private cluster).
set -euo pipefail
if [ -n "${PROMO_BIN:-}" ]; then PROMO_BIN=$(realpath "$PROMO_BIN"); fi
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# The libraries, vendored from npm at test time; every version pinned. playwright-core only
# drives the system Chromium over CDP and never downloads a browser.
packages=(
  playwright-core@1.65.2
  @voucherify/sdk@2.9.0
  @voucherify/react-widget@2.0.2
  voucherify.js@1.32.0
  react@17.0.2
  react-dom@17.0.2
  axios@1.7.5
  qs@6.9.7
  jquery@1.12.4
)
node_dir=target/browser-node
stamp="$node_dir/installed.txt"
if [ "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]; then
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 \
    npm install --silent --no-audit --no-fund --no-save --no-package-lock "${packages[@]}" >/dev/null)
  echo "${packages[*]}" >"$stamp"
fi
export BROWSER_NODE_MODULES=$PWD/$node_dir/node_modules

if [ -n "${PROMO_BIN:-}" ]; then
  bin=$PROMO_BIN
else
  cargo build --quiet --release -p promo-api
  bin=./target/release/promo-api
fi

port=${PROMO_BROWSER_PORT:-18381}
export SHOP_PORT=$((port + 1)) OTHER_PORT=$((port + 2))
export PROMO_MANAGEMENT_ID=mgmt_browser_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port
export PROMO_URL=http://127.0.0.1:$port
export ARTIFACTS=$PWD/target/browser-artifacts
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
log=$ARTIFACTS/server.log
"$bin" >"$log" 2>&1 &
server=$!
driver=
cleanup() {
  if [ -n "$driver" ]; then kill "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; fi
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 120); do
  if curl -fsS "$PROMO_URL/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then cat "$log"; echo "the service exited" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "$PROMO_URL/health/ready" >/dev/null || { cat "$log"; echo "the service did not become ready" >&2; exit 1; }

# call METHOD PATH [JSON]: the service's answer, with the headers in the array `auth`
call() {
  local args=(-sS --fail-with-body --max-time 10 -X "$1" "$PROMO_URL$2" "${auth[@]}" -H 'Content-Type: application/json')
  if [ $# -ge 3 ]; then args+=(-d "$3"); fi
  curl "${args[@]}" || { echo " <- $1 $2 failed" >&2; return 1; }
}
# json PATH: the value at a dotted path (a.0.b) of the JSON on stdin
json() {
  node -e 'let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const k of process.argv[1].split(".")) v = v[k];
    if (v === undefined || v === null) process.exit(1);
    console.log(v);' "$1"
}

auth=(-H "X-Management-Id: $PROMO_MANAGEMENT_ID" -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN")
project=$(call POST /management/v1/projects "$(printf '{
  "name": "Browser shop %s",
  "client_trusted_domains": ["http://127.0.0.1:%s"],
  "client_redeem_enabled": true,
  "rate_limits": {"client_ip_per_second": 1000, "unknown_codes_per_minute": 1000}
}' "$(date +%s)" "$SHOP_PORT")")
project_id=$(json id <<<"$project")
SERVER_APP_ID=$(json server_side_key.app_id <<<"$project")
SERVER_APP_TOKEN=$(json server_side_key.app_token <<<"$project")
CLIENT_APP_ID=$(json client_side_key.app_id <<<"$project")
CLIENT_APP_TOKEN=$(json client_side_key.app_token <<<"$project")
export SERVER_APP_ID SERVER_APP_TOKEN CLIENT_APP_ID CLIENT_APP_TOKEN VOUCHER_CODE=BROWSER10

auth=(-H "X-App-Id: $SERVER_APP_ID" -H "X-App-Token: $SERVER_APP_TOKEN")
call POST "/v1/vouchers/$VOUCHER_CODE" '{
  "type": "DISCOUNT_VOUCHER",
  "discount": {"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ORDER"},
  "redemption": {"quantity": 100}
}' >/dev/null
campaign=$(call POST /v1/campaigns '{
  "name": "Browser promotion",
  "campaign_type": "PROMOTION",
  "promotion": {"tiers": [{"name": "5% off", "banner": "5% off everything",
                           "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]}
}')
TIER_ID=$(json promotion.tiers.0.id <<<"$campaign")
export TIER_ID

# in the background, so that a signal to this script stops it (and its Chromium) at once
timeout --kill-after=10 300 node tests/browser/drive.cjs &
driver=$!
status=0
wait $driver || status=$?
driver=

# /docs renders offline: its renderer from the service's /docs/assets/, nothing from other hosts
timeout --kill-after=10 120 node tests/browser/docs.cjs &
driver=$!
docs_status=0
wait $driver || docs_status=$?
driver=
if [ $status -eq 0 ]; then status=$docs_status; fi
if [ $status -ne 0 ]; then
  echo "--- service log (last 40 lines; all of it in $log)"
  tail -40 "$log"
fi
auth=(-H "X-Management-Id: $PROMO_MANAGEMENT_ID" -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN")
call DELETE "/management/v1/projects/$project_id" >/dev/null || true
echo "screenshots and console log: $ARTIFACTS"
exit $status
