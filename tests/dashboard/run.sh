#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium (Debian's, driven over CDP by
# playwright-core, which never downloads a browser) goes through a marketer's day against a
# release server (tests/dashboard/day.cjs). Screenshots of every page, the console and the
# server log go to target/dashboard-artifacts/.
#
# Usage: bash tests/dashboard/run.sh
#   PROMO_BIN=path/to/promo-api   use that binary (else: cargo build --release -p promo-api)
#   PROMO_DASHBOARD_PORT=18481    the service's port
# Postgres is found the way the service finds it (DATABASE_URL, 127.0.0.1:5432, private cluster).
set -euo pipefail
if [ -n "${PROMO_BIN:-}" ]; then PROMO_BIN=$(realpath "$PROMO_BIN"); fi
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
node_dir=target/dashboard-node
if [ ! -d "$node_dir/node_modules/playwright-core" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 \
    npm install --silent --no-audit --no-fund --no-save --no-package-lock playwright-core@1.65.2 >/dev/null)
fi
export DASHBOARD_NODE_MODULES=$PWD/$node_dir/node_modules

if [ -n "${PROMO_BIN:-}" ]; then
  bin=$PROMO_BIN
else
  cargo build --quiet --release -p promo-api
  bin=./target/release/promo-api
fi

port=${PROMO_DASHBOARD_PORT:-18481}
export PROMO_MANAGEMENT_ID=mgmt_dashboard_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port
export PROMO_URL=http://127.0.0.1:$port
export ARTIFACTS=$PWD/target/dashboard-artifacts
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
export SERVER_LOG=$ARTIFACTS/server.log
# every request logged, so that the test can show the key never reaches a log line
RUST_LOG=info,tower_http=debug "$bin" >"$SERVER_LOG" 2>&1 &
server=$!
driver=
cleanup() {
  if [ -n "$driver" ]; then kill "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; fi
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/service.sh
source tests/service.sh
wait_ready "$PROMO_URL" $server "$SERVER_LOG" "dashboard check"

timeout --kill-after=10 420 node tests/dashboard/day.cjs &
driver=$!
status=0
wait $driver || status=$?
driver=
if [ $status -ne 0 ]; then
  echo "dashboard browser test failed (artifacts in $ARTIFACTS); last server log lines:" >&2
  tail -20 "$SERVER_LOG" >&2
fi
exit $status
