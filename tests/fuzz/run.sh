#!/usr/bin/env bash
# Fuzzes every operation of the served OpenAPI document (/openapi.json) with Schemathesis
# (PyPI, pinned below) against a running service, seeded so that a run can be repeated.
#
#   bash tests/fuzz/run.sh [extra `st run` options, e.g. --include-path-regex '^/v1/orders']
#
# Environment (all optional):
#   PROMO_BIN            the service binary to fuzz; default: cargo build --release, then
#                        ./target/release/promo-api
#   PROMO_FUZZ_PORT      port to serve on (default 18195; must be free)
#   FUZZ_SEED            Schemathesis seed (default 20261204)
#   FUZZ_MAX_EXAMPLES    examples per operation (default 250: 4-5 minutes on 2 cores)
#   FUZZ_WORKERS         concurrent Schemathesis workers (default 2)
#   FUZZ_REQUEST_TIMEOUT seconds per request (default 10)
#   FUZZ_TIME_LIMIT      hard limit for the Schemathesis run in seconds (default 1800)
#   DATABASE_URL         as for the service; when unset and a PostgreSQL answers on 127.0.0.1:5432,
#                        a fresh database `promo_fuzz` is made there for the run
#
# Checks: no 5xx (not_a_server_error), status codes, content types and bodies as documented
# (status_code_conformance, content_type_conformance, response_schema_conformance), and the
# document itself (openapi-spec-validator). Exits non-zero when any fails, after a compact
# summary. Everything else is in target/fuzz/: summary.txt, failures.md (each distinct failure
# with a curl command), schemathesis.txt (Schemathesis' own output), report.json, junit.xml,
# events.ndjson (every test case, check, request and response), server.log, fixtures.json,
# seeds.json, twins.json, schemathesis.toml (the generated configuration), openapi.served.json,
# openapi.fuzzed.json, openapi-issues.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

schemathesis_version=4.32.5
spec_validator_version=0.9.0

out=$PWD/target/fuzz
rm -rf "$out"
mkdir -p "$out"

venv=target/fuzz-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "schemathesis==$schemathesis_version" "openapi-spec-validator==$spec_validator_version"

if [ -n "${PROMO_BIN:-}" ]; then
  bin=$PROMO_BIN
else
  cargo build --quiet --release -p promo-api
  bin=./target/release/promo-api
fi
# A private copy: the original may be rebuilt or replaced while the run goes on.
cp "$bin" "$out/promo-api"

port=${PROMO_FUZZ_PORT:-18195}
url=http://127.0.0.1:$port
if curl -s -o /dev/null --max-time 2 "$url/"; then
  echo "something already answers on port $port; set PROMO_FUZZ_PORT" >&2
  exit 1
fi

if [ -z "${DATABASE_URL:-}" ] && command -v psql >/dev/null 2>&1 \
  && psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qAtX -c 'select 1' >/dev/null 2>&1; then
  PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qAtX \
    -c 'drop database if exists promo_fuzz with (force)' -c 'create database promo_fuzz' >/dev/null
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/promo_fuzz
fi

export PROMO_MANAGEMENT_ID=mgmt_fuzz
PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export PROMO_MANAGEMENT_TOKEN
export LISTEN_ADDR=127.0.0.1:$port LOG_FORMAT=json
# The fuzzer is one client sending a few hundred requests a second: per-key and per-IP rate
# limits would answer most of them 429 (builds without rate limits ignore these).
export PROMO_RATE_SERVER_PER_SECOND=1000000 PROMO_RATE_CLIENT_IP_PER_SECOND=1000000
export PROMO_RATE_UNKNOWN_CODES_PER_MINUTE=1000000
"$out/promo-api" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -fsS "$url/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then cat "$out/server.log"; echo "the service exited" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "$url/health/ready" >/dev/null || { cat "$out/server.log"; echo "the service did not become ready" >&2; exit 1; }
kill -0 $server 2>/dev/null || { cat "$out/server.log"; echo "the service exited" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
management=(-H "X-Management-Id: $PROMO_MANAGEMENT_ID" -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN"
  -H 'Content-Type: application/json')
origin_host=fuzz.example.com
project=$(curl -fsS -X POST "$url/management/v1/projects" "${management[@]}" \
  -d "{\"name\": \"fuzz\", \"client_trusted_domains\": [\"$origin_host\"], \"client_redeem_enabled\": true}")
# The hooks send PUT/DELETE aimed at the fuzzed project here instead (see hooks.py).
decoy=$(curl -fsS -X POST "$url/management/v1/projects" "${management[@]}" -d '{"name": "fuzz decoy"}')

export FUZZ_DIR=$PWD/tests/fuzz
export FUZZ_APP_ID=$(json 'd["server_side_key"]["app_id"]' <<<"$project")
export FUZZ_APP_TOKEN=$(json 'd["server_side_key"]["app_token"]' <<<"$project")
export FUZZ_CLIENT_ID=$(json 'd["client_side_key"]["app_id"]' <<<"$project")
export FUZZ_CLIENT_TOKEN=$(json 'd["client_side_key"]["app_token"]' <<<"$project")
export FUZZ_MANAGEMENT_ID=$PROMO_MANAGEMENT_ID FUZZ_MANAGEMENT_TOKEN=$PROMO_MANAGEMENT_TOKEN
export FUZZ_ORIGIN=https://$origin_host
export FUZZ_PROJECT_ID=$(json 'd["id"]' <<<"$project")
export FUZZ_PROJECT_HEX=${FUZZ_PROJECT_ID#proj_}
export FUZZ_DECOY_PROJECT_ID=$(json 'd["id"]' <<<"$decoy")

curl -fsS "$url/openapi.json" -o "$out/openapi.served.json"
"$venv/bin/python" tests/fuzz/openapi_check.py \
  "$out/openapi.served.json" "$out/openapi.fuzzed.json" "$out/openapi-issues.txt"

export FUZZ_SEED=${FUZZ_SEED:-20261204} FUZZ_SEEDS=$out/seeds.json FUZZ_TWINS=$out/twins.json
"$venv/bin/python" tests/fuzz/fixtures.py "$url" tests/fuzz/schemathesis.toml "$out"
seed=$FUZZ_SEED
echo "fuzzing $url (seed $seed, ${FUZZ_MAX_EXAMPLES:-250} examples per operation; details in target/fuzz/)"
started=$(date +%s)
# Hypothesis' own cache (constants, Unicode tables) in the run's directory, not the work tree.
export HYPOTHESIS_STORAGE_DIRECTORY=$out/hypothesis
set +e
timeout --kill-after=30 "${FUZZ_TIME_LIMIT:-1800}" "$venv/bin/st" --config-file "$out/schemathesis.toml" --no-color \
  run "$out/openapi.fuzzed.json" --url "$url" \
  --seed "$seed" --max-examples "${FUZZ_MAX_EXAMPLES:-250}" --workers "${FUZZ_WORKERS:-2}" \
  --request-timeout "${FUZZ_REQUEST_TIMEOUT:-10}" --generation-database none --continue-on-failure \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --report json,junit,ndjson --report-dir "$out" --report-json-path "$out/report.json" \
  --report-junit-path "$out/junit.xml" --report-ndjson-path "$out/events.ndjson" \
  "$@" >"$out/schemathesis.txt" 2>&1
st_status=$?
set -e
elapsed=$(($(date +%s) - started))
server_alive=1
kill -0 $server 2>/dev/null || server_alive=0

"$venv/bin/python" tests/fuzz/summarize.py "$out" "$st_status" "$elapsed" "$server_alive"
