#!/usr/bin/env python3
"""Extracts, from Voucherify's published OpenAPI (voucherifyio/voucherify-openapi,
production/readOnly-openAPI.json), the field tree of each response the parity test compares.

    python3 extract_voucherify_trees.py readOnly-openAPI.json > voucherify_response_trees.json

A tree is {"fields": {name: tree}} for an object, {"items": tree} for an array, {} for a leaf,
and {"one_of": [tree, ...]} where the spec allows alternatives (a redeemable is a voucher or a
tier). Only names are kept: the parity test asks "is every documented field there (a value or
null)?"; our own OpenAPI and the conformance checker already pin types.
"""
import json
import sys

# (method, path template, status) of the responses compared; keep in step with tests/api/parity.rs.
OPERATIONS = [
    ("post", "/v1/validations", "200"),
    ("post", "/v1/qualifications", "200"),
    ("post", "/v1/redemptions", "200"),
    ("get", "/v1/redemptions", "200"),
    ("get", "/v1/redemptions/{redemptionId}", "200"),
    ("post", "/v1/redemptions/{redemptionId}/rollback", "200"),
    ("get", "/v1/vouchers/{code}", "200"),
    ("get", "/v1/vouchers", "200"),
    ("get", "/v1/campaigns/{campaignId}", "200"),
    ("get", "/v1/promotions/tiers/{promotionTierId}", "200"),
    ("get", "/v1/customers/{customerId}", "200"),
    ("get", "/v1/orders/{orderId}", "200"),
    ("get", "/v1/products/{productId}", "200"),
    ("get", "/v1/publications", "200"),
    ("get", "/v1/campaigns", "200"),
    ("get", "/v1/customers", "200"),
    ("get", "/v1/products", "200"),
    ("get", "/v1/skus/{skuId}", "200"),
    ("get", "/v1/orders", "200"),
    ("get", "/v1/categories", "200"),
    ("get", "/v1/promotions/{campaignId}/tiers", "200"),
    ("get", "/v1/vouchers/{code}/redemption", "200"),
    ("post", "/v1/redemptions/{parentRedemptionId}/rollbacks", "200"),
    ("post", "/client/v1/validations", "200"),
    ("post", "/client/v1/qualifications", "200"),
    ("get", "/v1/segments/{segmentId}", "200"),
    ("get", "/v1/validation-rules/{validationRuleId}", "200"),
]
MAX_DEPTH = 7


def main():
    doc = json.load(open(sys.argv[1]))
    schemas = doc["components"]["schemas"]

    def resolve(node):
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
        return node

    def tree(node, depth, seen):
        node = resolve(node)
        if depth > MAX_DEPTH:
            return {}
        alternatives = node.get("oneOf") or node.get("anyOf")
        if alternatives:
            trees = [tree(a, depth, seen) for a in alternatives]
            trees = [t for t in trees if t]
            return {"one_of": trees} if len(trees) > 1 else (trees[0] if trees else {})
        if "allOf" in node:
            merged = {}
            for part in node["allOf"]:
                merged = merge(merged, tree(part, depth, seen))
            return merged
        if node.get("type") == "array" or "items" in node:
            item = tree(node.get("items", {}), depth + 1, seen)
            return {"items": item} if item else {"items": {}}
        props = node.get("properties")
        if props:
            return {"fields": {k: tree(v, depth + 1, seen) for k, v in sorted(props.items())}}
        return {}

    def merge(a, b):
        if not a:
            return b
        if not b:
            return a
        if "fields" in a and "fields" in b:
            fields = dict(a["fields"])
            for k, v in b["fields"].items():
                fields[k] = merge(fields.get(k, {}), v)
            return {"fields": fields}
        if "items" in a and "items" in b:
            return {"items": merge(a["items"], b["items"])}
        return b

    out = {"source": "voucherifyio/voucherify-openapi production/readOnly-openAPI.json",
           "version": doc["info"].get("version"), "responses": {}}
    for method, path, status in OPERATIONS:
        op = doc["paths"][path][method]
        schema = op["responses"][status]["content"]["application/json"]["schema"]
        out["responses"][f"{method.upper()} {path}"] = tree(schema, 0, set())
    json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
