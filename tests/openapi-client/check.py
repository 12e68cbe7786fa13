"""Drives the service with a client generated from its served OpenAPI document.

Every call goes through the generated client (openapi-python-client). For each response the
check asks that:
  - the status is 2xx and the client parsed it into the documented model (not None, not ErrorBody);
  - the model's to_dict() gives back exactly the JSON the service sent (nothing lost or changed);
  - no model holds properties the document does not declare (additional_properties of a model
    that declares properties);
  - the raw JSON validates against the response schema in the document (types, required, enums).
A call the client cannot express at all is recorded too. Exits 1 when anything failed.

Environment: PROMO_URL, PROMO_MANAGEMENT_ID, PROMO_MANAGEMENT_TOKEN, OPENAPI_DOC (the served
document saved to a file), GEN_CLIENT_DIR (the generated project, holding the package).
"""

import datetime
import inspect
import json
import os
import sys
import uuid

import attrs
import jsonschema

sys.path.insert(0, os.environ["GEN_CLIENT_DIR"])

from promotion_engine_api_client import AuthenticatedClient  # noqa: E402
from promotion_engine_api_client.api.campaigns import create_campaign, list_campaigns  # noqa: E402
from promotion_engine_api_client.api.checkout import list_redemptions, redeem, validate  # noqa: E402
from promotion_engine_api_client.api.customers import create_customer, list_customers  # noqa: E402
from promotion_engine_api_client.api.management import create_project  # noqa: E402
from promotion_engine_api_client.api.products import create_product, list_products  # noqa: E402
from promotion_engine_api_client.api.promotions import create_tier, list_tiers  # noqa: E402
from promotion_engine_api_client.api.publications import create_publication, list_publications  # noqa: E402
from promotion_engine_api_client.api.vouchers import list_vouchers  # noqa: E402
from promotion_engine_api_client.models import (  # noqa: E402
    CampaignIn,
    CampaignType,
    DiscountType,
    VoucherType,
    CheckoutIn,
    CustomerIn,
    DiscountSchema,
    ErrorBody,
    OrderIn,
    ProductIn,
    ProjectIn,
    PromotionIn,
    PublicationIn,
    RedeemableIn,
    TierActionSchema,
    TierIn,
    VoucherIn,
)
from promotion_engine_api_client.types import UNSET  # noqa: E402

URL = os.environ["PROMO_URL"]
DOC = json.load(open(os.environ["OPENAPI_DOC"]))
RUN = uuid.uuid4().hex[:8]

failures = []
passed = 0


def fail(label, msg):
    failures.append(f"{label}: {msg}")
    print(f"FAIL {label}: {msg}", flush=True)


def response_schema(method, path, status):
    op = DOC["paths"][path][method]
    resp = op["responses"].get(str(status)) or op["responses"].get(f"{str(status)[0]}XX")
    if resp is None:
        return None
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    # resolve "#/components/..." against the document
    return {**schema, "components": DOC["components"]}


def undeclared(obj, where="$"):
    """Paths of properties a parsed model kept in additional_properties although it declares
    properties of its own (a free-form object, e.g. metadata, declares none)."""
    out = []
    if attrs.has(type(obj)):
        declared = [f.name for f in attrs.fields(type(obj)) if f.name != "additional_properties"]
        extra = getattr(obj, "additional_properties", {})
        if declared and extra:
            out += [f"{where}.{k}" for k in extra]
        for f in declared:
            out += undeclared(getattr(obj, f), f"{where}.{f}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += undeclared(v, f"{where}[{i}]")
    return out



def instants(x):
    """The body with every RFC 3339 date-time as the instant it names: a `date-time` property is
    parsed by the generated client, and written back in Python's form (`…751000+00:00` for the
    service's `…751Z`)."""
    if isinstance(x, dict):
        return {k: instants(v) for k, v in x.items()}
    if isinstance(x, list):
        return [instants(v) for v in x]
    if isinstance(x, str) and len(x) >= 20 and x[4:5] == "-" and x[10:11] == "T":
        try:
            return datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return x
    return x

def call(label, module, method, path, expect, **kwargs):
    """Calls module.sync_detailed(**kwargs) and checks its typed result. Returns the parsed model
    or None."""
    global passed
    missing = [k for k in kwargs if k not in inspect.signature(module.sync_detailed).parameters]
    if missing:
        fail(label, f"the generated client has no parameter {missing} for {method.upper()} {path}")
        return None
    try:
        r = module.sync_detailed(**kwargs)
    except Exception as e:  # noqa: BLE001 - any raise is a finding
        fail(label, f"{type(e).__name__}: {str(e)[:600]}")
        return None
    status = int(r.status_code)
    raw = json.loads(r.content) if r.content else None
    ok = True
    if not 200 <= status < 300:
        fail(label, f"status {status}: {r.content[:400]!r}")
        return None
    if r.parsed is None or isinstance(r.parsed, ErrorBody) or not isinstance(r.parsed, expect):
        fail(label, f"status {status} parsed as {type(r.parsed).__name__}, expected {expect.__name__}")
        return None
    back = r.parsed.to_dict()
    if instants(back) != instants(raw):
        ok = False
        fail(label, f"to_dict() differs from the body sent: sent {json.dumps(raw)[:400]} / got {json.dumps(back)[:400]}")
    extra = undeclared(r.parsed)
    if extra:
        ok = False
        fail(label, f"properties the document does not declare: {extra[:20]}")
    schema = response_schema(method, path, status)
    if schema is None:
        ok = False
        fail(label, f"the document has no JSON schema for status {status}")
    else:
        errs = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
        for e in errs[:10]:
            ok = False
            fail(label, f"schema: at {'/'.join(map(str, e.path)) or '$'}: {e.message[:300]}")
    if ok:
        passed += 1
        print(f"ok   {label}", flush=True)
    return r.parsed


def expect_true(label, cond, msg):
    global passed
    if cond:
        passed += 1
        print(f"ok   {label}", flush=True)
    else:
        fail(label, msg)


class Missing:
    """Stands for a model the generator dropped (its schema could not be processed)."""


def model(name):
    import promotion_engine_api_client.models as m

    found = getattr(m, name, None)
    if found is None:
        fail(f"model {name}", "the generated client has no such model (the generator dropped its schema)")
        return Missing
    return found


# --- project (management API) ---
mgmt = AuthenticatedClient(
    base_url=URL,
    token=os.environ["PROMO_MANAGEMENT_TOKEN"],
    auth_header_name="X-Management-Token",
    prefix="",
    headers={"X-Management-Id": os.environ["PROMO_MANAGEMENT_ID"]},
    raise_on_unexpected_status=True,
)
project = call(
    "POST /management/v1/projects",
    create_project,
    "post",
    "/management/v1/projects",
    model("ProjectOut"),
    client=mgmt,
    body=ProjectIn(name=f"gen-{RUN}"),
)
if project is None or not project.server_side_key:
    print("no project: cannot go on")
    sys.exit(1)
key = project.server_side_key
app = AuthenticatedClient(
    base_url=URL,
    token=key.app_token,
    auth_header_name="X-App-Token",
    prefix="",
    headers={"X-App-Id": key.app_id},
    raise_on_unexpected_status=True,
)

# --- campaigns ---
CampaignOut = model("CampaignOut")
c1_name = f"c1-{RUN}"
c1 = call(
    "POST /v1/campaigns (DISCOUNT_COUPONS)",
    create_campaign,
    "post",
    "/v1/campaigns",
    CampaignOut,
    client=app,
    body=CampaignIn(
        name=c1_name,
        campaign_type=CampaignType.DISCOUNT_COUPONS,
        voucher=VoucherIn(type_=VoucherType.DISCOUNT_VOUCHER, discount=DiscountSchema(type_=DiscountType.AMOUNT, amount_off=500)),
        vouchers_count=3,
    ),
)
c2 = call(
    "POST /v1/campaigns (second DISCOUNT_COUPONS)",
    create_campaign,
    "post",
    "/v1/campaigns",
    CampaignOut,
    client=app,
    body=CampaignIn(
        name=f"c2-{RUN}",
        campaign_type=CampaignType.DISCOUNT_COUPONS,
        voucher=VoucherIn(type_=VoucherType.DISCOUNT_VOUCHER, discount=DiscountSchema(type_=DiscountType.PERCENT, percent_off=10.0)),
        vouchers_count=2,
    ),
)
promo = call(
    "POST /v1/campaigns (PROMOTION with a tier)",
    create_campaign,
    "post",
    "/v1/campaigns",
    CampaignOut,
    client=app,
    body=CampaignIn(
        name=f"p1-{RUN}",
        campaign_type=CampaignType.PROMOTION,
        promotion=PromotionIn(
            tiers=[
                TierIn(
                    name="5 off",
                    banner="5 off every order",
                    action=TierActionSchema(discount=DiscountSchema(type_=DiscountType.AMOUNT, amount_off=500)),
                )
            ]
        ),
    ),
)
if promo is not None:
    call(
        "POST /v1/promotions/{campaignId}/tiers",
        create_tier,
        "post",
        "/v1/promotions/{campaignId}/tiers",
        model("TierOut"),
        campaign_id=promo.id,
        client=app,
        body=TierIn(
            name="10% off",
            hierarchy=2,
            action=TierActionSchema(discount=DiscountSchema(type_=DiscountType.PERCENT, percent_off=10.0)),
        ),
    )

# --- list campaigns: limit, page, campaign_type ---
CampaignsList = model("CampaignsList")
lst = call("GET /v1/campaigns?limit=2&page=1", list_campaigns, "get", "/v1/campaigns", CampaignsList,
           client=app, limit=2, page=1)
if lst is not None:
    expect_true("  limit=2 gives 2 campaigns", len(lst.campaigns) == 2 and lst.total == 3,
                f"got {len(lst.campaigns)} of total {lst.total}")
lst = call("GET /v1/campaigns?limit=2&page=2", list_campaigns, "get", "/v1/campaigns", CampaignsList,
           client=app, limit=2, page=2)
if lst is not None:
    expect_true("  page=2 gives the third", len(lst.campaigns) == 1, f"got {len(lst.campaigns)}")
lst = call("GET /v1/campaigns?campaign_type=PROMOTION", list_campaigns, "get", "/v1/campaigns", CampaignsList,
           client=app, campaign_type="PROMOTION", limit=10)
if lst is not None:
    # an enum in the document: the generated client reads it as its enum class
    types = [getattr(c.campaign_type, "value", c.campaign_type) for c in lst.campaigns]
    expect_true("  campaign_type=PROMOTION filters", types == ["PROMOTION"], f"got {types}")

# --- list vouchers: campaign, campaign_id, limit ---
VouchersList = model("VouchersList")
codes = []
lst = call("GET /v1/vouchers?campaign=<name>&limit=2", list_vouchers, "get", "/v1/vouchers", VouchersList,
           client=app, campaign=c1_name, limit=2)
if lst is not None:
    expect_true("  campaign + limit=2 gives 2 of 3 of c1",
                len(lst.vouchers) == 2 and lst.total == 3 and all(v.campaign == c1_name for v in lst.vouchers),
                f"got {[(v.code, v.campaign) for v in lst.vouchers]} total {lst.total}")
if c1 is not None:
    lst = call("GET /v1/vouchers?campaign_id=<id>", list_vouchers, "get", "/v1/vouchers", VouchersList,
               client=app, campaign_id=c1.id, limit=10)
    if lst is not None:
        codes = [v.code for v in lst.vouchers]
        expect_true("  campaign_id gives c1's 3", len(codes) == 3 and all(v.campaign_id == c1.id for v in lst.vouchers),
                    f"got {[(v.code, v.campaign_id) for v in lst.vouchers]}")
lst = call("GET /v1/vouchers?limit=100", list_vouchers, "get", "/v1/vouchers", VouchersList, client=app, limit=100)
if lst is not None:
    expect_true("  all vouchers", lst.total == 5 and len(lst.vouchers) == 5, f"got {len(lst.vouchers)} total {lst.total}")

# --- tiers ---
lst = call("GET /v1/promotions/tiers?limit=10", list_tiers, "get", "/v1/promotions/tiers", model("TiersList"),
           client=app, limit=10)
if lst is not None:
    expect_true("  two tiers", len(lst.tiers) == 2, f"got {len(lst.tiers)}")

# --- customers, products, publications (one of each first) ---
call("POST /v1/customers", create_customer, "post", "/v1/customers", model("CustomerOut"), client=app,
     body=CustomerIn(source_id=f"cust-{RUN}", name="Gen Client", email="gen@example.com"))
call("POST /v1/products", create_product, "post", "/v1/products", model("CatalogItemOut"), client=app,
     body=ProductIn(name="Mug", source_id=f"mug-{RUN}", price=1500))
if c2 is not None:
    call("POST /v1/publications", create_publication, "post", "/v1/publications", model("PublicationOut"),
         client=app, body=PublicationIn(campaign=c2.name, customer=CustomerIn(source_id=f"cust-{RUN}"), channel="API"))

lst = call("GET /v1/customers?limit=5", list_customers, "get", "/v1/customers", model("CustomersList"),
           client=app, limit=5)
if lst is not None:
    expect_true("  one customer", len(lst.customers) == 1, f"got {len(lst.customers)}")
lst = call("GET /v1/products?limit=5", list_products, "get", "/v1/products", model("ProductsList"), client=app, limit=5)
lst = call("GET /v1/publications?campaign=<name>&limit=5", list_publications, "get", "/v1/publications",
           model("PublicationsList"), client=app, campaign=f"c2-{RUN}", limit=5)
if lst is not None:
    expect_true("  one publication", len(lst.publications) == 1, f"got {len(lst.publications)}")
lst = call("GET /v1/publications?customer=<source_id>", list_publications, "get", "/v1/publications",
           model("PublicationsList"), client=app, customer=f"cust-{RUN}")

# --- checkout ---
if codes:
    code = codes[0]
    body = CheckoutIn(
        redeemables=[RedeemableIn(object_="voucher", id=code)],
        order=OrderIn(amount=10000),
        customer=CustomerIn(source_id=f"cust-{RUN}"),
    )
    v = call("POST /v1/validations", validate, "post", "/v1/validations", model("ValidationsOut"), client=app, body=body)
    if v is not None:
        expect_true("  valid, 500 off", v.valid is True and v.order is not None and v.order.total_discount_amount == 500,
                    f"valid={v.valid} order={v.order.to_dict() if v.order else None}")
    rd = call("POST /v1/redemptions", redeem, "post", "/v1/redemptions", model("RedemptionsOut"), client=app,
              body=body, idempotency_key=f"gen-{RUN}")
    if rd is not None:
        ok = [x.result for x in rd.redemptions]
        expect_true("  redeemed", ok == ["SUCCESS"], f"results {ok}")
    lst = call("GET /v1/redemptions?limit=5", list_redemptions, "get", "/v1/redemptions", model("RedemptionsList"),
               client=app, limit=5)
    if lst is not None:
        expect_true("  one redemption", len(lst.redemptions) == 1 and lst.redemptions[0].voucher is not UNSET,
                    f"got {len(lst.redemptions)}")
    # The service's documented filters (operation description, reference §11.2): the client must be able to send them.
    call("GET /v1/redemptions?result=SUCCESS&voucher_code=<code>", list_redemptions, "get", "/v1/redemptions",
         model("RedemptionsList"), client=app, limit=5, result=["SUCCESS"], voucher_code=code)
else:
    fail("checkout", "no voucher code to validate/redeem")

print(f"\n{passed} passed, {len(failures)} failed")
for f in failures:
    print(" -", f)
sys.exit(1 if failures else 0)
