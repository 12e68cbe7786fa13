#!/usr/bin/env bash
# Reporting benchmark (not a test): N redemptions (default 1,000,000) of one campaign's code.
# Starts BIN (default target/release/promo-api) on a database of its own, redeems once through
# the API, copies that ledger row N-1 times in SQL (new ids, spread over 90 days) and adds them to
# the analytics buckets as the redemption deltas would; then times a 90-day analytics series and
# the campaign summary (median of 5), POST /v1/exports → DONE and the download, and reads the
# server's resident memory idle and at its peak (VmHWM) from /proc.
# Usage: BIN=target/release/promo-api N=1000000 scripts/export-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18195}
DB=promo_export_bench
# shellcheck source=scripts/bench-seed.sh
source scripts/bench-seed.sh
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_ms() { for _ in 1 2 3 4 5; do curl -fsS -o /dev/null -w '%{time_total}\n' -H "X-App-Id: $app_id" -H "X-App-Token: $token" "$1"; done \
  | awk '{printf "%.1f\n", $1 * 1000}' | median; }
start_day=$(date -u -d '89 days ago' +%Y-%m-%d)
echo "90-day series by day: $(time_ms "$URL/v1/analytics/series?object_id=$campaign&start_date=$start_day") ms (median of 5)"
echo "campaign summary: $(time_ms "$URL/v1/campaigns/$campaign/summary") ms (median of 5)"
rows=$(api "$URL/v1/analytics/series?object_id=$campaign&start_date=$start_day" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["redemptions"])')
echo "series total: $rows redemptions"
rss() { awk '/^VmRSS/ {print $2}' /proc/$server/status; }
sleep 1
idle=$(rss)
# the peak from here on (resettable by the process owner)
echo 5 > /proc/$server/clear_refs 2>/dev/null || echo "(cannot reset the peak: VmHWM counts from the start)"
start=$(date +%s.%N)
id=$(api -X POST "$URL/v1/exports" -d '{"exported_object": "redemption"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
while true; do
  status=$(api "$URL/v1/exports/$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["rows"])')
  case "$status" in DONE*) break ;; ERROR*) echo "export failed: $status"; exit 1 ;; esac
  sleep 0.5
done
done_at=$(date +%s.%N)
link=$(api "$URL/v1/exports/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["url"])')
bytes=$(curl -fsS "$link" | wc -c)
fetched=$(date +%s.%N)
peak=$(awk '/^VmHWM/ {print $2}' /proc/$server/status)
lines=$(curl -fsS "$link" | wc -l)
echo "rows: $((lines - 1)) (header + $((lines - 1)) lines, $((bytes / 1024 / 1024)) MiB)"
awk -v s="$start" -v d="$done_at" -v f="$fetched" 'BEGIN {printf "export: %.1f s to DONE; download: %.1f s\n", d - s, f - d}'
echo "server memory: idle ${idle} KiB RSS, peak ${peak} KiB (VmHWM)"
