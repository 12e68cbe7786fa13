#!/usr/bin/env bash
# Starts the service and drives it with the official Python SDK (voucherify==6.1.1) and the
# official JS SDK (@voucherify/sdk@2.9.0, from npm).
# Postgres is found the way the service finds it (DATABASE_URL, 127.0.0.1:5432, private cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/sdk-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check voucherify==6.1.1

node_dir=target/sdk-node
if [ ! -d "$node_dir/node_modules/@voucherify/sdk" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund --no-save @voucherify/sdk@2.9.0 >/dev/null)
fi
export SDK_NODE_MODULES=$PWD/$node_dir/node_modules

cargo build --quiet -p promo-api
port=${PROMO_SDK_PORT:-18181}
export PROMO_MANAGEMENT_ID=mgmt_sdk_check
export PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LISTEN_ADDR=127.0.0.1:$port
export PROMO_URL=http://127.0.0.1:$port
log=$(mktemp)
./target/debug/promo-api >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -fsS "$PROMO_URL/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then cat "$log"; echo "the service exited" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "$PROMO_URL/health/ready" >/dev/null || { cat "$log"; echo "the service did not become ready" >&2; exit 1; }
"$venv/bin/python" tests/sdk/python_sdk.py || { tail -50 "$log"; exit 1; }
node tests/sdk/js_sdk.cjs || { tail -50 "$log"; exit 1; }
