# Sourced by the reporting benchmarks (not a test): starts BIN (default
# target/release/promo-api) on a database of its own ($DB, dropped on exit) at $PORT, makes a
# project and a campaign "bench" with one code, redeems it once through the API and copies that
# ledger row N-1 times in SQL (new ids, spread over 90 days), adding the copies to the analytics
# buckets as the redemption deltas would. Leaves: URL, server, app_id, token, api(), campaign,
# code.
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
BIN=${BIN:-target/release/promo-api}
N=${N:-1000000}
URL=http://127.0.0.1:$PORT
export PROMO_MANAGEMENT_ID=mgmt_bench PROMO_MANAGEMENT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql -q -d postgres -c "drop database if exists $DB" -c "create database $DB"
LISTEN_ADDR=127.0.0.1:$PORT DATABASE_URL=postgres://$PGUSER@$PGHOST:$PGPORT/$DB RUST_LOG=warn "$BIN" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; psql -q -d postgres -c "drop database if exists $DB" || true' EXIT
for _ in $(seq 1 100); do curl -fsS "$URL/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
project=$(curl -fsS -X POST "$URL/management/v1/projects" -H "X-Management-Id: $PROMO_MANAGEMENT_ID" \
  -H "X-Management-Token: $PROMO_MANAGEMENT_TOKEN" -H 'Content-Type: application/json' -d '{"name": "bench"}')
app_id=$(echo "$project" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server_side_key"]["app_id"])')
token=$(echo "$project" | python3 -c 'import json,sys; print(json.load(sys.stdin)["server_side_key"]["app_token"])')
api() { curl -fsS -H "X-App-Id: $app_id" -H "X-App-Token: $token" -H 'Content-Type: application/json' "$@"; }
campaign=$(api -X POST "$URL/v1/campaigns" -d '{"name": "bench", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 1,
  "voucher": {"type": "DISCOUNT_VOUCHER", "code_config": {"pattern": "BENCH-####"}, "discount": {"type": "AMOUNT", "amount_off": 500}}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
code=$(api "$URL/v1/vouchers?campaign_id=$campaign" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vouchers"][0]["code"])')
api -X POST "$URL/v1/redemptions" -d '{"redeemables": [{"object": "voucher", "id": "'"$code"'"}],
  "order": {"items": [{"product_id": "mug", "quantity": 2, "price": 1500}]}, "customer": {"source_id": "ann", "name": "Ann"},
  "metadata": {"channel": "web"}}' >/dev/null
echo "copying the redemption $((N - 1)) times"
psql -q -d $DB <<SQL
insert into redemption (project_id, redemption_id, parent_id, result, status, related_object_type, related_object_id,
                        campaign_id, customer_id, order_id, amount, session_key, failure_code, failure_message, claims,
                        doc, voucher_code, tracking_id, created_at)
select r.project_id, g.id, null, r.result, r.status, r.related_object_type, r.related_object_id, r.campaign_id,
       r.customer_id, r.order_id, r.amount, null, null, null, '[]',
       replace(r.doc::text, 'r_' || replace(r.redemption_id::text, '-', ''), 'r_' || replace(g.id::text, '-', ''))::json,
       r.voucher_code, r.tracking_id, now() - (g.n % 90) * interval '1 day' - g.n * interval '1 millisecond'
  from redemption r,
       lateral (select n, gen_random_uuid() as id from generate_series(1, $N - 1) n) g;
analyze redemption;
-- the copies into the analytics buckets, as their deltas would have put them
delete from redemption_stats_delta;
delete from redemption_series;
insert into redemption_series (project_id, object_id, bucket, succeeded, order_amount, discount_amount)
select r.project_id, x.object_id, date_bin('15 minutes', r.created_at, timestamptz '2000-01-01 00:00:00+00'),
       count(*), sum(coalesce((r.doc -> 'order' ->> 'amount')::bigint, 0)),
       sum(coalesce((r.doc -> 'order' ->> 'total_applied_discount_amount')::bigint, 0))
  from redemption r
  cross join lateral (values (r.related_object_id), ('camp_' || replace(r.campaign_id::text, '-', ''))) x(object_id)
 where r.result = 'SUCCESS'
 group by 1, 2, 3;
analyze redemption_series;
SQL
