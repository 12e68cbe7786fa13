"""Creates test data in the fuzzed project and tells Schemathesis about it.

usage: fixtures.py BASE_URL BASE_CONFIG.toml OUT_DIR

Random path ids almost always answer 404 and random bodies almost always 400, so on their own the
fuzzer seldom reaches a handler's real work. This script creates one object of every kind (a
campaign of each type with codes, tiers and a stack, a standalone code, a LOCK session, single
and stacked redemptions, a publication, an async action, customers, products, ...) and writes:

- OUT_DIR/schemathesis.toml: BASE_CONFIG plus dictionaries of those ids bound to the path and
  query parameters that take them (used for part of the generated values only, so random ids are
  still sent too);
- OUT_DIR/seeds.json: valid request bodies per operation, which hooks.py mutates (a free-form
  `{"type": "object"}` body schema gives the fuzzer nothing to go on). `{u}` in a seed stands for
  a fresh unique value.
- OUT_DIR/twins.json: for each fixture the seeds rely on (by every name it answers to), the id of
  a twin made only to be deleted; hooks.py sends DELETEs aimed at the fixture there.

Credentials and the origin come from the FUZZ_* environment variables that run.sh exports.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

import requests

BASE = sys.argv[1].rstrip("/")
BASE_CONFIG, OUT = sys.argv[2], sys.argv[3]
ENV = os.environ
SINK = ENV.get("FUZZ_WEBHOOK_SINK", "http://127.0.0.1:9/fuzz-webhook")

APP = {"X-App-Id": ENV["FUZZ_APP_ID"], "X-App-Token": ENV["FUZZ_APP_TOKEN"]}
MGMT = {"X-Management-Id": ENV["FUZZ_MANAGEMENT_ID"], "X-Management-Token": ENV["FUZZ_MANAGEMENT_TOKEN"]}
PROJECT = ENV["FUZZ_PROJECT_ID"]
session = requests.Session()


def call(method: str, path: str, body=None, headers=APP, expect=(200, 201, 202, 204)):
    r = session.request(method, BASE + path, json=body, headers=headers, timeout=30)
    if r.status_code not in expect:
        sys.exit(f"fixture {method} {path} answered {r.status_code}: {r.text[:500]}")
    return r.json() if r.content else None


def wait_action(action_id: str) -> dict:
    for _ in range(120):
        action = call("GET", f"/v1/async-actions/{action_id}")
        if action.get("status") == "DONE":
            return action
        time.sleep(0.25)
    sys.exit(f"async action {action_id} did not finish")


def main() -> None:
    ids: dict[str, list[str]] = {}

    def keep(name: str, *values: str) -> None:
        ids.setdefault(name, []).extend(v for v in values if v)

    # Management: stacking rules and a webhook endpoint (to a closed loopback port) on the
    # fuzzed project; the decoy project too.
    keep("projects", PROJECT, ENV["FUZZ_DECOY_PROJECT_ID"])
    rules = call("POST", f"/management/v1/projects/{PROJECT}/stacking-rules",
                 {"applicable_redeemables_limit": 5, "redeemables_application_mode": "PARTIAL"}, headers=MGMT)
    keep("stacking_rules", rules["id"])
    hook = call("POST", f"/management/v1/projects/{PROJECT}/webhooks", {"url": SINK, "events": ["*"]}, headers=MGMT)
    keep("webhooks", hook["id"])

    category = call("POST", "/v1/categories", {"name": "fuzz-category", "hierarchy": 1})
    keep("categories", category["id"])
    customer = call("POST", "/v1/customers", {
        "source_id": "fuzz-alice", "name": "Alice", "email": "alice@example.com", "birthdate": "1990-02-03",
        "address": {"country": "Poland", "city": "Warsaw"}, "metadata": {"club": "gold"}})
    keep("customers", customer["id"], "fuzz-alice")
    product = call("POST", "/v1/products", {"source_id": "fuzz-tee", "name": "T-shirt", "price": 3000,
                                             "attributes": ["size"], "metadata": {"color": "red"}})
    sku = call("POST", f"/v1/products/{product['id']}/skus", {"source_id": "fuzz-tee-m", "sku": "M", "price": 3100,
                                                               "attributes": {"size": "M"}})
    keep("products", product["id"], "fuzz-tee")
    keep("skus", sku["id"], "fuzz-tee-m")
    collection = call("POST", "/v1/product-collections", {
        "name": "fuzz-collection", "type": "STATIC", "products": [{"id": product["id"], "object": "product"}]})
    keep("collections", collection["id"])
    segment = call("POST", "/v1/segments", {"name": "fuzz-segment", "type": "static", "customers": [customer["id"]]})
    keep("segments", segment["id"])
    rule = call("POST", "/v1/validation-rules", {
        "name": "fuzz-rule", "error": {"message": "Spend at least 10"},
        "rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [1000]}}, "logic": "1"}})
    keep("validation_rules", rule["id"])

    coupons = call("POST", "/v1/campaigns", {
        "name": "fuzz-coupons", "campaign_type": "DISCOUNT_COUPONS", "type": "AUTO_UPDATE", "vouchers_count": 5,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 10},
                    "redemption": {"quantity": 100}, "code_config": {"pattern": "FZ-####"}},
        "validation_rules": [rule["id"]], "metadata": {"region": "EU"}})
    promotion = call("POST", "/v1/campaigns", {
        "name": "fuzz-promotion", "campaign_type": "PROMOTION",
        "promotion": {"tiers": [{"name": "five off", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]}})
    tier2 = call("POST", f"/v1/promotions/{promotion['id']}/tiers",
                 {"name": "ten off", "banner": "10%", "action": {"discount": {"type": "PERCENT", "percent_off": 10}}})
    tiers = [promotion["promotion"]["tiers"][0]["id"], tier2["id"]]
    stack = call("POST", f"/v1/promotions/{promotion['id']}/stacks",
                 {"name": "fuzz-stack", "tiers": {"ids": tiers, "hierarchy_mode": "MANUAL"}})
    keep("campaigns", coupons["id"], promotion["id"], "fuzz-coupons")
    keep("tiers", *tiers)
    keep("stacks", stack["id"])
    assignment = call("POST", f"/v1/validation-rules/{rule['id']}/assignments",
                      {"related_object_type": "promotion_tier", "related_object_id": tiers[1]})
    keep("assignments", assignment["id"])

    solo = call("POST", "/v1/vouchers/FUZZ-SOLO", {
        "type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500, "effect": "APPLY_TO_ORDER"},
        "redemption": {"quantity": 100000}, "metadata": {"note": "fuzz"}})
    codes = [v["code"] for v in call("GET", f"/v1/vouchers?campaign_id={coupons['id']}&limit=5")["vouchers"]]
    keep("codes", "FUZZ-SOLO", *codes)
    keep("vouchers", solo["id"])

    order = {"items": [{"product_id": product["id"], "quantity": 2, "price": 3000},
                       {"sku_id": sku["id"], "quantity": 1, "price": 3100}]}
    created_order = call("POST", "/v1/orders", dict(order, source_id="fuzz-order", status="PAID",
                                                   customer={"source_id": "fuzz-alice"}))
    keep("orders", created_order["id"], "fuzz-order")

    locked = call("POST", "/v1/validations", {
        "redeemables": [{"object": "voucher", "id": "FUZZ-SOLO"}], "order": order,
        "customer": {"source_id": "fuzz-alice"}, "session": {"type": "LOCK", "ttl": 7, "ttl_unit": "DAYS"}})
    keep("sessions", locked["session"]["key"])
    single = call("POST", "/v1/redemptions", {"redeemables": [{"object": "voucher", "id": "FUZZ-SOLO"}],
                                              "order": order, "customer": {"source_id": "fuzz-alice"}})
    stacked = call("POST", "/v1/redemptions", {
        "redeemables": [{"object": "voucher", "id": codes[0]}, {"object": "promotion_tier", "id": tiers[0]}],
        "order": order, "customer": {"source_id": "fuzz-alice"}})
    keep("redemptions", single["redemptions"][0]["id"], *[r["id"] for r in stacked["redemptions"]])
    keep("parent_redemptions", stacked["parent_redemption"]["id"])

    publication = call("POST", "/v1/publications", {"campaign": {"name": "fuzz-coupons", "count": 1},
                                                     "customer": {"source_id": "fuzz-alice"}})
    keep("publications", publication["id"])
    generated = call("POST", f"/v1/campaigns/{coupons['id']}/vouchers?vouchers_count=3", {})
    wait_action(generated["async_action_id"])
    keep("async_actions", generated["async_action_id"])

    # Twins: same kinds again, for the DELETEs (hooks.py) so that the fixtures above survive.
    twins: dict[str, str] = {}

    def twin(twin_id: str, *names: str) -> None:
        twins.update({name: twin_id for name in names if name})

    twin(call("POST", "/v1/categories", {"name": "fuzz-category-twin"})["id"], category["id"])
    twin(call("POST", "/v1/customers", {"source_id": "fuzz-alice-twin"})["id"], customer["id"], "fuzz-alice")
    product2 = call("POST", "/v1/products", {"source_id": "fuzz-tee-twin", "name": "twin", "price": 100})
    sku2 = call("POST", f"/v1/products/{product2['id']}/skus", {"source_id": "fuzz-tee-m-twin", "sku": "M", "price": 1})
    twin(product2["id"], product["id"], "fuzz-tee")
    twin(sku2["id"], sku["id"], "fuzz-tee-m")
    twin(call("POST", "/v1/product-collections", {"name": "fuzz-collection-twin", "type": "STATIC", "products": []})["id"],
         collection["id"])
    twin(call("POST", "/v1/segments", {"name": "fuzz-segment-twin", "type": "static", "customers": []})["id"], segment["id"])
    rule2 = call("POST", "/v1/validation-rules", {"name": "fuzz-rule-twin", "rules": {
        "1": {"name": "order.amount", "conditions": {"$more_than": [1]}}, "logic": "1"}})
    twin(rule2["id"], rule["id"])
    coupons2 = call("POST", "/v1/campaigns", {
        "name": "fuzz-coupons-twin", "campaign_type": "DISCOUNT_COUPONS", "vouchers_count": 1,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1},
                    "code_config": {"pattern": "FZT-####"}}})
    twin(coupons2["id"], coupons["id"], "fuzz-coupons")
    twin_code = call("GET", f"/v1/vouchers?campaign_id={coupons2['id']}&limit=1")["vouchers"][0]["code"]
    twin(twin_code, *codes)
    promotion2 = call("POST", "/v1/campaigns", {
        "name": "fuzz-promotion-twin", "campaign_type": "PROMOTION",
        "promotion": {"tiers": [{"name": "t1", "action": {"discount": {"type": "PERCENT", "percent_off": 1}}},
                                {"name": "t2", "action": {"discount": {"type": "PERCENT", "percent_off": 2}}}]}})
    twin_tiers = [t["id"] for t in promotion2["promotion"]["tiers"]]
    twin(promotion2["id"], promotion["id"], "fuzz-promotion")
    twin(twin_tiers[0], *tiers)
    twin(call("POST", f"/v1/promotions/{promotion2['id']}/stacks",
              {"name": "fuzz-stack-twin", "tiers": {"ids": twin_tiers}})["id"], stack["id"])
    twin(call("POST", f"/v1/validation-rules/{rule2['id']}/assignments",
              {"related_object_type": "promotion_tier", "related_object_id": twin_tiers[1]})["id"], assignment["id"])
    call("POST", "/v1/vouchers/FUZZ-SOLO-TWIN", {"type": "DISCOUNT_VOUCHER",
                                                 "discount": {"type": "AMOUNT", "amount_off": 1}})
    twin("FUZZ-SOLO-TWIN", "FUZZ-SOLO", solo["id"])
    twin(call("POST", f"/management/v1/projects/{PROJECT}/webhooks", {"url": SINK, "events": ["*"]},
              headers=MGMT)["id"], hook["id"])
    with open(os.path.join(OUT, "twins.json"), "w", encoding="utf-8") as f:
        json.dump(twins, f, indent=1)

    dictionaries = {
        "project_ids": ids["projects"], "stacking_rules_ids": ids["stacking_rules"], "webhook_ids": ids["webhooks"],
        "async_action_ids": ids["async_actions"], "campaign_ids": ids["campaigns"], "category_ids": ids["categories"],
        "customer_ids": ids["customers"], "order_ids": ids["orders"], "collection_ids": ids["collections"],
        "product_ids": ids["products"], "sku_ids": ids["skus"], "tier_ids": ids["tiers"], "stack_ids": ids["stacks"],
        "redemption_ids": ids["redemptions"], "parent_redemption_ids": ids["parent_redemptions"],
        "segment_ids": ids["segments"], "rule_ids": ids["validation_rules"], "assignment_ids": ids["assignments"],
        "codes": ids["codes"], "session_keys": ids["sessions"],
        "related_ids": ids["vouchers"] + ids["tiers"] + ids["campaigns"][:2],
    }
    bindings = {
        "path.projectId": "project_ids", "path.stackingRulesId": "stacking_rules_ids", "path.webhookId": "webhook_ids",
        "path.asyncActionId": "async_action_ids", "path.campaignId": "campaign_ids", "path.categoryId": "category_ids",
        "path.customerId": "customer_ids", "path.orderId": "order_ids", "path.productCollectionId": "collection_ids",
        "path.productId": "product_ids", "path.skuId": "sku_ids", "path.promotionTierId": "tier_ids",
        "path.stackId": "stack_ids", "path.redemptionId": "redemption_ids",
        "path.parentRedemptionId": "parent_redemption_ids", "path.segmentId": "segment_ids",
        "path.validationRuleId": "rule_ids", "path.assignmentId": "assignment_ids", "path.code": "codes",
        "path.sessionKey": "session_keys",
        # query parameters (declared `in: path` by the served document; see openapi_check.py)
        "query.campaign_id": "campaign_ids", "query.campaign": "campaign_ids", "query.customer": "customer_ids",
        "query.voucher": "codes", "query.code": "codes", "query.related_object_id": "related_ids",
        "query.rule": "rule_ids",
    }
    with open(BASE_CONFIG, encoding="utf-8") as f:
        config = f.read()
    config += "\n# Written by tests/fuzz/fixtures.py: ids of the objects it created.\n"
    for name, values in dictionaries.items():
        config += f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n"
    config += "\n[parameters]\n"
    for key, name in bindings.items():
        config += f'"{key}" = {{ dictionary = "{name}", probability = 0.6 }}\n'
    with open(os.path.join(OUT, "schemathesis.toml"), "w", encoding="utf-8") as f:
        f.write(config)

    with open(os.path.join(OUT, "seeds.json"), "w", encoding="utf-8") as f:
        json.dump(seeds(ids, order), f, indent=1)
    with open(os.path.join(OUT, "fixtures.json"), "w", encoding="utf-8") as f:
        json.dump(ids, f, indent=1)


def seeds(ids: dict[str, list[str]], order: dict) -> dict[str, list]:
    meta = {"channel": "web", "score": 1.5, "tags": ["a", "b"], "nested": {"ok": True}}
    customer = {"source_id": "fuzz-{u}", "name": "Bob", "email": "bob@example.com", "metadata": meta}
    discount_pct = {"type": "PERCENT", "percent_off": 15, "amount_limit": 1000}
    voucher = {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 700},
               "redemption": {"quantity": 10}, "start_date": "2026-01-01T00:00:00Z",
               "expiration_date": "2030-01-01T00:00:00Z", "active": True, "additional_info": "x", "metadata": meta}
    tier = {"name": "tier {u}", "banner": "b", "action": {"discount": discount_pct}, "metadata": meta,
            "validation_rules": ids["validation_rules"][:1]}
    rule = {"name": "rule {u}", "error": {"message": "no"},
            "rules": {"1": {"name": "order.amount", "conditions": {"$more_than": [500]}},
                      "2": {"name": "customer.metadata", "property": "club", "conditions": {"$is": ["gold"]}},
                      "logic": "1 and 2"},
            "applicable_to": {"included": [{"object": "product", "id": ids["products"][0], "effect": "APPLY_TO_EVERY"}],
                              "excluded": []}}
    checkout = {"redeemables": [{"object": "voucher", "id": ids["codes"][0]},
                                {"object": "promotion_tier", "id": ids["tiers"][1]}],
                "order": dict(order, metadata=meta), "customer": {"source_id": "fuzz-alice", "metadata": meta},
                "options": {"expand": ["order", "redeemable", "category"]}, "metadata": meta}
    stacked_codes = [{"object": "voucher", "id": c} for c in ids["codes"][1:3]]
    return {
        "POST /management/v1/projects": [{"name": "p {u}", "timezone": "Europe/Warsaw", "currency": "EUR",
                                          "client_trusted_domains": ["*.example.com"], "case_sensitive_codes": True,
                                          "client_redeem_enabled": True, "description": "d"}],
        "PUT /management/v1/projects/{projectId}": [{"name": "renamed {u}", "timezone": "America/New_York"}],
        "POST /management/v1/projects/{projectId}/stacking-rules": [
            {"applicable_redeemables_limit": 3, "applicable_exclusive_redeemables_limit": 1, "redeemables_limit": 10,
             "exclusive_categories": ids["categories"], "joint_categories": [], "redeemables_application_mode": "ALL",
             "redeemables_sorting_rule": "CATEGORY_HIERARCHY"}],
        "PUT /management/v1/projects/{projectId}/stacking-rules/{stackingRulesId}": [
            {"redeemables_application_mode": "PARTIAL", "applicable_redeemables_limit": 5}],
        "POST /management/v1/projects/{projectId}/webhooks": [{"url": SINK, "events": ["voucher.created"], "active": True}],
        "PUT /management/v1/projects/{projectId}/webhooks/{webhookId}": [{"events": ["*"], "active": False}],
        "POST /v1/campaigns": [
            {"name": "coupons {u}", "campaign_type": "DISCOUNT_COUPONS", "type": "STATIC", "vouchers_count": 3,
             "start_date": "2026-01-01T00:00:00Z", "expiration_date": "2031-01-01T00:00:00Z",
             "voucher": {"type": "DISCOUNT_VOUCHER", "discount": discount_pct, "redemption": {"quantity": 2},
                         "code_config": {"length": 8, "charset": "ABCDEFGH12345678", "prefix": "P-", "postfix": "-S"}},
             "validity_timeframe": {"interval": "P2D", "duration": "P1D"}, "validity_day_of_week": [1, 2, 3],
             "join_once": True, "auto_join": False, "category_id": ids["categories"][0], "metadata": meta},
            {"name": "promotion {u}", "campaign_type": "PROMOTION", "promotion": {"tiers": [tier]}, "metadata": meta}],
        "PUT /v1/campaigns/{campaignId}": [{"description": "changed", "expiration_date": "2032-01-01T00:00:00Z",
                                            "metadata": meta, "join_once": False}],
        "POST /v1/campaigns/{campaignId}/import": [[{"code": "IMP-{u}", "redemption": {"quantity": 2},
                                                    "metadata": meta, "active": True}]],
        "POST /v1/campaigns/{campaignId}/vouchers": [{"code": "ADD-{u}", "metadata": meta}],
        "POST /v1/categories": [{"name": "category {u}", "hierarchy": 2}],
        "PUT /v1/categories/{categoryId}": [{"name": "category {u}", "hierarchy": 3}],
        "POST /v1/customers": [dict(customer, birthdate="1980-12-31", address={"country": "Poland"},
                                    phone="+48123456789")],
        "PUT /v1/customers/{customerId}": [{"name": "Carol", "metadata": meta, "address": {"city": "Gdansk"}}],
        "POST /v1/orders": [dict(order, source_id="order-{u}", status="CREATED", customer=customer, metadata=meta)],
        "PUT /v1/orders/{orderId}": [{"status": "FULFILLED", "metadata": meta}],
        "POST /v1/product-collections": [
            {"name": "collection {u}", "type": "AUTO_UPDATE",
             "filter": {"junction": "and", "price": {"conditions": {"$more_than": [1000]}}}},
            {"name": "collection {u}", "type": "STATIC",
             "products": [{"id": ids["skus"][0], "object": "sku", "product_id": ids["products"][0]}]}],
        "POST /v1/products": [{"source_id": "prod-{u}", "name": "Mug", "price": 1299, "attributes": ["color"],
                               "image_url": "https://example.com/m.png", "metadata": meta}],
        "PUT /v1/products/{productId}": [{"name": "Mug 2", "price": 1499, "metadata": meta}],
        "POST /v1/products/{productId}/skus": [{"source_id": "sku-{u}", "sku": "L", "price": 3200,
                                                "attributes": {"size": "L"}, "metadata": meta}],
        "PUT /v1/products/{productId}/skus/{skuId}": [{"sku": "XL", "price": 3300}],
        "PUT /v1/promotions/tiers/{promotionTierId}": [{"name": "renamed {u}", "banner": "b2",
                                                        "action": {"discount": discount_pct}, "metadata": meta}],
        "POST /v1/promotions/{campaignId}/stacks": [{"name": "stack {u}",
                                                     "tiers": {"ids": ids["tiers"], "hierarchy_mode": "MANUAL"}}],
        "PUT /v1/promotions/{campaignId}/stacks/{stackId}": [{"name": "stack {u}",
                                                               "tiers": {"ids": ids["tiers"][::-1]}}],
        "POST /v1/promotions/{campaignId}/tiers": [tier],
        "POST /v1/publications": [
            {"campaign": {"name": "fuzz-coupons", "count": 2}, "customer": customer, "metadata": meta},
            {"voucher": "FUZZ-SOLO", "customer": {"id": ids["customers"][0]}, "source_id": "pub-{u}"}],
        "POST /v1/qualifications": [{"order": order, "customer": {"source_id": "fuzz-alice"}, "scenario": "ALL",
                                     "options": {"limit": 10, "sorting_rule": "BEST_DEAL"}, "metadata": meta}],
        "POST /v1/redemptions": [checkout, {"redeemables": stacked_codes, "order": order}],
        "POST /v1/redemptions/{parentRedemptionId}/rollbacks": [{"reason": "returned", "metadata": meta}],
        "POST /v1/redemptions/{redemptionId}/rollback": [{"reason": "mistake", "metadata": meta}],
        "POST /v1/segments": [
            {"name": "segment {u}", "type": "auto-update",
             "filter": {"junction": "and", "address.country": {"conditions": {"$is": ["Poland"]}}}},
            {"name": "segment {u}", "type": "static", "customers": ids["customers"]}],
        "POST /v1/validation-rules": [rule],
        "PUT /v1/validation-rules/{validationRuleId}": [rule],
        "POST /v1/validation-rules/{validationRuleId}/assignments": [
            {"related_object_type": "voucher", "related_object_id": ids["vouchers"][0]},
            {"related_object_type": "campaign", "related_object_id": ids["campaigns"][0]}],
        "POST /v1/validations": [dict(checkout, session={"type": "LOCK", "ttl": 1, "ttl_unit": "HOURS"})],
        "POST /v1/vouchers": [dict(voucher, code_config={"pattern": "V-####-{u}"})],
        "POST /v1/vouchers/import": [[dict(voucher, code="IMPORT-{u}")]],
        "POST /v1/vouchers/{code}": [voucher],
        "PUT /v1/vouchers/{code}": [{"metadata": meta, "redemption": {"quantity": 50}, "active": True,
                                     "expiration_date": "2033-01-01T00:00:00Z"}],
        "POST /client/v1/validations": [checkout],
        "POST /client/v1/qualifications": [{"order": order, "customer": {"source_id": "fuzz-alice"}}],
        "POST /client/v1/redemptions": [{"redeemables": [{"object": "voucher", "id": "FUZZ-SOLO"}], "order": order}],
    }


if __name__ == "__main__":
    main()
