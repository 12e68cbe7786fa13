#!/usr/bin/env bash
# Dashboard first-paint benchmark (not a test): N redemptions (default 1,000,000) of one
# campaign over 90 days (scripts/bench-seed.sh) and CAMPAIGNS campaigns in all (default 1,000,
# the rest made through the API), then headless Chromium times the campaigns page (first
# contentful paint, the first page of the table, every row's counters) and the campaign's
# analytics over the 90 days (median of RUNS, default 5), from each page's navigation start.
# Usage: BIN=target/release/promo-api N=1000000 CAMPAIGNS=1000 scripts/dashboard-bench.sh
# Needs playwright-core in target/dashboard-node (bash tests/dashboard/run.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18196}
DB=promo_dashboard_bench
CAMPAIGNS=${CAMPAIGNS:-1000}
# shellcheck source=scripts/bench-seed.sh
source scripts/bench-seed.sh
echo "making $((CAMPAIGNS - 1)) more campaigns"
seq 1 $((CAMPAIGNS - 1)) | xargs -P 4 -I{} curl -fsS -o /dev/null -H "X-App-Id: $app_id" -H "X-App-Token: $token" \
  -H 'Content-Type: application/json' -X POST "$URL/v1/campaigns" \
  -d '{"name": "Campaign {}", "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "Tier {}", "banner": "5% off",
       "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]}}'
total=$(api "$URL/v1/campaigns?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "campaigns: $total"
# the bench campaign is the oldest: the list's first page shows the newest 20, analytics shows it
DASHBOARD_NODE_MODULES=$PWD/target/dashboard-node/node_modules PROMO_URL=$URL APP_ID=$app_id APP_TOKEN=$token \
  CAMPAIGN=bench FROM=$(date -u -d '89 days ago' +%Y-%m-%d) TO=$(date -u +%Y-%m-%d) RUNS=${RUNS:-5} \
  node tests/dashboard/bench.cjs
