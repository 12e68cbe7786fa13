"""Drives the service with the official Python SDK (voucherify==6.1.1).

Every call goes through the SDK's strict pydantic models, so a response shape the SDK does not
accept fails here. Covers what the service implements so far: projects and stacking rules
(ManagementApi), categories, validation rules and assignments, customers, products and SKUs,
campaigns of both kinds, vouchers, promotion tiers and stacks, segments, product collections and orders,
and checkout: validations (with a LOCK session), qualifications, redemptions, both rollbacks,
redemption listings, session release and the client-side variants.
"""

import os
import sys
import time
import uuid

import voucherify
from voucherify import (
    AsyncActionsApi,
    PublicationsApi,
    CampaignsApi,
    CategoriesApi,
    CustomersApi,
    ManagementApi,
    OrdersApi,
    ProductCollectionsApi,
    ProductsApi,
    PromotionsApi,
    QualificationsApi,
    RedemptionsApi,
    SegmentsApi,
    ValidationsApi,
    ClientSideApi,
    ValidationRulesApi,
    VouchersApi,
)

BASE = os.environ["PROMO_URL"]
RUN = uuid.uuid4().hex[:8]


def client(headers):
    cfg = voucherify.Configuration(host=BASE)
    for k, v in headers.items():
        cfg.api_key[k] = v
    return voucherify.ApiClient(cfg)


def main():
    mgmt = client({"X-Management-Id": os.environ["PROMO_MANAGEMENT_ID"], "X-Management-Token": os.environ["PROMO_MANAGEMENT_TOKEN"]})
    management = ManagementApi(mgmt)
    project = management.create_project(
        voucherify.ManagementProjectsCreateRequestBody.from_dict(
            {"name": f"SDK shop {RUN}", "timezone": "Europe/Warsaw", "currency": "EUR", "client_trusted_domains": ["shop.example.com"]}
        )
    )
    assert project.id.startswith("proj_"), project
    assert management.get_project(project.id).name == f"SDK shop {RUN}"
    assert any(p.id == project.id for p in management.list_projects().data)
    rules = management.create_stacking_rules(
        project.id, voucherify.ManagementProjectsStackingRulesCreateRequestBody.from_dict({"applicable_redeemables_limit": 3})
    )
    assert rules.applicable_redeemables_limit == 3 and rules.redeemables_limit == 30
    assert management.get_stacking_rules(project.id, rules.id).id == rules.id
    assert management.list_stacking_rules(project.id).total == 1

    app = client({"X-App-Id": project.server_side_key.app_id, "X-App-Token": project.server_side_key.app_token})

    categories = CategoriesApi(app)
    category = categories.create_category(voucherify.CategoriesCreateRequestBody(name="Summer", hierarchy=2))
    assert categories.get_category(category.id).hierarchy == 2
    assert categories.list_categories().total == 1

    vr = ValidationRulesApi(app)
    rule = vr.create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict(
            {
                "name": "Spend 50",
                "error": {"message": "Spend at least 50"},
                "rules": {"1": {"name": "order.amount", "conditions": {"$more_than_or_equal": [5000]}}, "logic": "1"},
                "applicable_to": {"included": [{"object": "product", "id": "prod_1", "effect": "APPLY_TO_EVERY"}], "excluded": []},
            }
        )
    )
    assert rule.id.startswith("val_")
    assert vr.get_validation_rule(rule.id).name == "Spend 50"
    ruled = VouchersApi(app).create_voucher(
        "RULED",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict({"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 100}}),
    )
    # an assignment names an object that exists (a code is stored as its voucher's id)
    assignment = vr.create_validation_rule_assignment(
        rule.id,
        validation_rules_assignments_create_request_body=voucherify.ValidationRulesAssignmentsCreateRequestBody(
            related_object_type="voucher", related_object_id="RULED"
        ),
    )
    assert assignment.rule_id == rule.id and assignment.related_object_id == ruled.id, assignment
    assert vr.list_validation_rule_assignments(rule.id).total == 1
    assert vr.list_validation_rules().total == 1

    customers = CustomersApi(app)
    customer = customers.create_customer(
        voucherify.CustomersCreateRequestBody.from_dict(
            {"source_id": f"alice-{RUN}@example.com", "name": "Alice", "email": "alice@example.com", "birthdate": "1990-02-03", "metadata": {"club": "gold"}}
        )
    )
    assert customer.id.startswith("cust_")
    assert customers.get_customer(f"alice-{RUN}@example.com").id == customer.id
    assert customers.list_customers().total == 1

    products = ProductsApi(app)
    product = products.create_product(voucherify.ProductsCreateRequestBody.from_dict({"source_id": "tee", "name": "T-shirt", "price": 3000, "attributes": ["size"]}))
    sku = products.create_sku(product.id, voucherify.ProductsSkusCreateRequestBody.from_dict({"source_id": "tee-m", "sku": "M", "price": 3100, "attributes": {"size": "M"}}))
    assert products.get_product(product.id).name == "T-shirt"
    assert products.get_sku(sku.id).product_id == product.id
    assert products.list_skus_in_product(product.id).total == 1
    assert products.list_products().total == 1

    campaigns = CampaignsApi(app)
    coupons = campaigns.create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Ten off",
                "campaign_type": "DISCOUNT_COUPONS",
                "type": "AUTO_UPDATE",
                "vouchers_count": 5,
                "start_date": "2026-01-01T00:00:00Z",
                "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 10}, "redemption": {"quantity": 1}, "code_config": {"pattern": "TEN-####"}},
                "validation_rules": [rule.id],
                "metadata": {"region": "EU"},
            }
        )
    )
    assert coupons.id.startswith("camp_") and coupons.vouchers_count == 5, coupons
    assert campaigns.get_campaign(coupons.id).voucher.code_config.pattern == "TEN-####"
    promotion = campaigns.create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Spend more",
                "campaign_type": "PROMOTION",
                "promotion": {"tiers": [{"name": "Spend 50", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]},
            }
        )
    )
    assert promotion.promotion.tiers[0].name == "Spend 50"
    campaigns.disable_campaign(coupons.id)

    promotions = PromotionsApi(app)
    tier = promotions.add_promotion_tier_to_campaign(
        promotion.id,
        voucherify.PromotionsTiersCreateRequestBody.from_dict(
            {"name": "Spend 100", "banner": "10% off", "action": {"discount": {"type": "PERCENT", "percent_off": 10}}}
        ),
    )
    assert tier.hierarchy == 2 and tier.id.startswith("promo_")
    assert promotions.get_promotion_tier(tier.id).action.discount.percent_off == 10
    assert promotions.list_promotion_tiers_from_campaign(promotion.id).total == 2
    stack = promotions.create_promotion_stack(
        promotion.id,
        voucherify.PromotionsStacksCreateRequestBody.from_dict(
            {"name": "Both", "tiers": {"ids": [tier.id, promotion.promotion.tiers[0].id], "hierarchy_mode": "MANUAL"}}
        ),
    )
    assert stack.id.startswith("stack_") and stack.tiers.ids[0] == tier.id
    assert promotions.get_promotion_stack(promotion.id, stack.id).name == "Both"

    vouchers = VouchersApi(app)
    voucher = vouchers.create_voucher(
        "SUMMER10",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ORDER"}, "redemption": {"quantity": 100}}
        ),
    )
    assert voucher.code == "SUMMER10" and voucher.redemption.quantity == 100
    assert vouchers.get_voucher("summer10").id == voucher.id
    assert vouchers.disable_voucher("SUMMER10").active is False
    assert vouchers.list_vouchers(campaign_id=coupons.id).total == 5

    segments = SegmentsApi(app)
    vip = segments.create_segment(voucherify.SegmentsCreateRequestBody.from_dict({"name": "VIP", "type": "static", "customers": [customer.id]}))
    assert segments.get_segment(vip.id).type == "static"
    poles = segments.create_segment(
        voucherify.SegmentsCreateRequestBody.from_dict({"name": "Poles", "type": "auto-update", "filter": {"junction": "and", "address.country": {"conditions": {"$is": ["Poland"]}}}})
    )
    assert poles.id.startswith("seg_")

    collections = ProductCollectionsApi(app)
    summer = collections.create_product_collection(
        voucherify.ProductCollectionsCreateRequestBody.from_dict({"name": "Summer", "type": "STATIC", "products": [{"id": product.id, "object": "product"}]})
    )
    assert collections.get_product_collection(summer.id).type == "STATIC"

    orders = OrdersApi(app)
    order = orders.create_order(
        voucherify.OrdersCreateRequestBody.from_dict(
            {"source_id": f"order-{RUN}", "status": "PAID", "customer": {"source_id": f"alice-{RUN}@example.com"}, "items": [{"product_id": product.id, "quantity": 2, "price": 3000}]}
        )
    )
    assert order.amount == 6000 and order.status == "PAID"
    assert orders.get_order(order.id).source_id == f"order-{RUN}"

    checkout(app, project, promotion, tier, customer)
    distribution(app)
    bundles(app)
    exports(app)

    try:
        categories.get_category("cat_doesnotexist")
        raise AssertionError("expected 404")
    except voucherify.exceptions.NotFoundException as e:
        assert '"key":"not_found"' in e.body.replace(" ", ""), e.body

    management.delete_project(project.id)
    print("python SDK: every call accepted")


def bundles(app):
    """A bundle rule written and read back, kept by an update that sends it as null (as the
    models do), and a validation's result.bundle, through the SDK's models."""
    vr = ValidationRulesApi(app)

    def part(product, units):
        return {
            "name": "order.items.any",
            "conditions": {"$is": [{"id": product, "type": "product_or_sku", "object": "product"}]},
            "rules": {"1": {"name": "order.items.quantity", "conditions": {"$more_than_or_equal": [units]}}},
        }

    rule = vr.create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict({"name": "Kit", "bundle_rules": {"limit": 3, "1": part("kit-laptop", 1), "2": part("kit-bag", 2)}})
    )
    assert rule.bundle_rules["limit"] == 3, rule
    updated = vr.update_validation_rule(rule.id, voucherify.ValidationRulesUpdateRequestBody.from_dict({"name": "Kit of three"}))
    assert updated.name == "Kit of three" and updated.bundle_rules["2"]["name"] == "order.items.any", updated
    VouchersApi(app).create_voucher(
        "KIT",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ORDER"}, "validation_rules": [rule.id]}
        ),
    )
    items = [{"product_id": "kit-laptop", "quantity": 2, "price": 100000}, {"product_id": "kit-bag", "quantity": 4, "price": 5000}]
    v = ValidationsApi(app).validate_stacked_discounts(
        voucherify.ValidationsValidateRequestBody.from_dict({"redeemables": [{"object": "voucher", "id": "KIT"}], "order": {"items": items}})
    )
    b = v.redeemables[0].result.bundle
    assert b.quantity == 2 and b.limit == 3 and [(i.item_index, i.item_quantity) for i in b.identified] == [(0, 2), (1, 4)], b
    assert v.order.discount_amount == 2000, v.order


def exports(app):
    """create_export -> get_export polling -> download_export for every exported object, and
    the orders export; the CSV's rows are the list's."""
    api = voucherify.ExportsApi(app)
    for exported, header in [
        ("redemption", "Id,Object,Voucher Code,Customer Id,Date,Result"),
        ("voucher", "Code,Voucher Type,Value,Discount Type"),
        ("customer", "Name,Source Id"),
        ("publication", "Voucher Code,Customer Id,Date,Channel"),
        ("order", "Id,Source Id,Status"),
        ("product", "Id,Name,Price,Image Url,Source Id,Attributes,Created At"),
        ("sku", "Id,Sku,Product Id,Currency,Price,Image Url,Source Id,Attributes,Created At"),
    ]:
        created = api.create_export(voucherify.ExportsCreateRequestBody.from_dict({"exported_object": exported}))
        assert created.status == "SCHEDULED" and created.id.startswith("exp_"), created
        for _ in range(200):
            got = api.get_export(created.id)
            if got.status == "DONE":
                break
            time.sleep(0.05)
        assert got.status == "DONE", got
        token = got.result.url.split("token=")[1]
        csv_text = api.download_export(created.id, token=token)
        lines = csv_text.strip("\n").split("\n")
        assert lines[0] == header, (exported, lines[0])
        if exported == "redemption":
            listed = RedemptionsApi(app).list_redemptions(limit=100)
            assert len(lines) - 1 == listed.total, (len(lines), listed.total)
            assert [l.split(",")[0] for l in lines[1:]] == [r.id for r in listed.redemptions]
    order_export = voucherify.OrdersApi(app).create_order_export(
        voucherify.OrdersExportCreateRequestBody.from_dict({"parameters": {"fields": ["id", "source_id", "status"]}})
    )
    assert order_export.exported_object == "order", order_export
    listed = api.list_exports()
    assert listed.total == 8, listed.total
    api.delete_export(order_export.id)
    assert api.list_exports().total == 7


def distribution(app):
    """Codes at scale and publications: async generation, an import, publications, the wallet."""
    import time

    campaigns = CampaignsApi(app)
    actions = AsyncActionsApi(app)
    campaign = campaigns.create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {"name": f"Welcome codes {RUN}", "campaign_type": "DISCOUNT_COUPONS", "type": "AUTO_UPDATE", "vouchers_count": 1500,
             "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500}, "redemption": {"quantity": 1},
                         "code_config": {"pattern": "WELCOME-########"}}}
        )
    )
    assert campaign.vouchers_generation_status == "IN_PROGRESS", campaign
    action_id = actions.list_async_actions(limit=1).async_actions[0].id
    for _ in range(120):
        action = actions.get_async_action(action_id)
        if action.status == "DONE":
            break
        time.sleep(0.5)
    assert action.status == "DONE" and action.progress == 100, action
    assert campaigns.get_campaign(campaign.id).vouchers_count == 1500
    added = campaigns.add_vouchers_to_campaign(campaign.id, vouchers_count=1)
    assert added.code.startswith("WELCOME-"), added
    imported = campaigns.import_vouchers_to_campaign(
        campaign.id, [voucherify.CampaignsImportVoucherItem.from_dict({"code": f"IMPORTED-{RUN}", "redemption": {"quantity": 2}})]
    )
    for _ in range(60):
        action = actions.get_async_action(imported.async_action_id)
        if action.status == "DONE":
            break
        time.sleep(0.5)
    assert action.operation_status == "SUCCESS", action

    publications = PublicationsApi(app)
    customer = {"source_id": f"dora-{RUN}", "name": "Dora"}
    published = publications.create_publication(
        publications_create_request_body=voucherify.PublicationsCreateRequestBody.from_dict(
            {"campaign": {"name": campaign.name, "count": 2}, "customer": customer, "metadata": {"channel": "email"}}
        )
    )
    assert len(published.vouchers) == 2 and published.result == "SUCCESS", published
    codes = sorted(published.vouchers)
    listed = publications.list_publications(customer=published.customer_id, limit=10)
    assert listed.total == 1 and listed.publications[0].id == published.id, listed
    once = publications.create_publication(
        join_once=True,
        publications_create_request_body=voucherify.PublicationsCreateRequestBody.from_dict(
            {"campaign": {"name": campaign.name}, "customer": customer}
        ),
    )
    assert once.id == published.id, "join_once returns the first publication"
    wallet = CustomersApi(app).list_customer_redeemables(published.customer_id, limit=10)
    assert sorted(r.redeemable.voucher.code for r in wallet.data) == codes, wallet


def checkout(app, project, promotion, tier, customer):
    """Validate, qualify, redeem and both rollbacks through the SDK's strict models."""
    vouchers = VouchersApi(app)
    vouchers.create_voucher(
        "CHECKOUT5",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 500, "effect": "APPLY_TO_ITEMS"}, "redemption": {"quantity": 10}}
        ),
    )
    order = {"source_id": f"checkout-{RUN}", "items": [{"product_id": "prod_a", "quantity": 2, "price": 2000, "related_object": "product"}]}
    body = {
        "redeemables": [{"object": "voucher", "id": "CHECKOUT5"}, {"object": "promotion_tier", "id": tier.id}],
        "order": order,
        "customer": {"source_id": f"alice-{RUN}@example.com"},
        "options": {"expand": ["order", "redeemable", "category"]},
        "session": {"type": "LOCK", "ttl": 1, "ttl_unit": "HOURS"},
        "metadata": {"channel": "web"},
    }
    validation = ValidationsApi(app).validate_stacked_discounts(voucherify.ValidationsValidateRequestBody.from_dict(body))
    assert validation.valid is True, validation
    assert validation.order.amount == 4000 and validation.order.items_discount_amount == 500, validation.order
    # 10% of the remaining 3500
    assert validation.order.discount_amount == 350 and validation.order.total_amount == 3150, validation.order
    assert validation.session.key.startswith("ssn_") and validation.stacking_rules.redeemables_limit == 30
    assert [r.status for r in validation.redeemables] == ["APPLICABLE", "APPLICABLE"]

    qualification = QualificationsApi(app).check_eligibility(
        voucherify.QualificationsCheckEligibilityRequestBody.from_dict(
            {"order": order, "customer": {"source_id": f"alice-{RUN}@example.com"}, "scenario": "ALL", "options": {"limit": 10, "sorting_rule": "BEST_DEAL"}}
        )
    )
    assert qualification.redeemables.total == 2, qualification
    assert qualification.redeemables.data[0].id == tier.id, "10% beats 5%"

    redemptions = RedemptionsApi(app)
    body["session"] = {"key": validation.session.key}
    redeemed = redemptions.redeem_stacked_discounts(voucherify.RedemptionsRedeemRequestBody.from_dict(body))
    assert redeemed.parent_redemption.id.startswith("r_") and len(redeemed.redemptions) == 2, redeemed
    assert redeemed.order.total_amount == 3150 and redeemed.order.status == "PAID"
    assert redemptions.get_redemption(redeemed.redemptions[0].id).result == "SUCCESS"
    listed = redemptions.list_redemptions(limit=10, result="SUCCESS")
    assert listed.total == 3, listed
    assert redemptions.get_voucher_redemptions("CHECKOUT5").redeemed_quantity == 1
    # the counters and summaries, read back through the SDK's models, equal what was redeemed
    assert vouchers.get_voucher("CHECKOUT5").redemption.redeemed_quantity == 1
    tier_now = PromotionsApi(app).get_promotion_tier(tier.id)
    assert tier_now.summary.redemptions.total_redeemed == 1, tier_now.summary
    assert tier_now.summary.orders.total_amount == 4000 and tier_now.summary.orders.total_discount_amount == 350, tier_now.summary
    alice = CustomersApi(app).get_customer(f"alice-{RUN}@example.com")
    assert alice.summary.redemptions.total_succeeded == 2, alice.summary
    # her admin order (6000, PAID) and the checkout's (3150)
    assert alice.summary.orders.total_count == 2 and alice.summary.orders.total_amount == 9150, alice.summary
    assert alice.summary.orders.last_order_amount == 3150, alice.summary
    rolled = redemptions.rollback_stacked_redemptions(
        redeemed.parent_redemption.id, reason="returned", redemptions_rollbacks_create_request_body=voucherify.RedemptionsRollbacksCreateRequestBody.from_dict({})
    )
    assert len(rolled.rollbacks) == 2 and rolled.parent_rollback.reason == "returned", rolled
    assert redemptions.get_voucher_redemptions("CHECKOUT5").redeemed_quantity == 0
    assert rolled.order.total_discount_amount == 0 and rolled.order.total_amount == 4000, rolled.order
    tier_now = PromotionsApi(app).get_promotion_tier(tier.id)
    assert tier_now.summary.redemptions.total_redeemed == 0 and tier_now.summary.orders.total_discount_amount == 0, tier_now.summary
    # a custom event and the customer's activity, through the SDK's models
    event = voucherify.EventsApi(app).track_custom_event(
        voucherify.EventsCreateRequestBody.from_dict({"event": "checkout_done", "customer": {"source_id": f"alice-{RUN}@example.com"}, "metadata": {"step": 3}})
    )
    assert event.type == "checkout_done" and event.customer.source_id == f"alice-{RUN}@example.com", event
    activity = CustomersApi(app).list_customer_activity(f"alice-{RUN}@example.com", limit=50)
    kinds = [a.type for a in activity.data]
    assert kinds[0] == "customer.custom_event" and "customer.redemption.rollback.succeeded" in kinds, kinds
    # the promotion's summary, through the SDK's model: one redemption, rolled back
    summary = CampaignsApi(app).get_campaign_summary(promotion.id)
    assert summary.redemptions_succeeded == 1 and summary.rollbacks_succeeded == 1, summary
    assert summary.orders_amount == 4000 and summary.rolledback_discounted_amount == 350, summary
    alice = CustomersApi(app).get_customer(f"alice-{RUN}@example.com")
    # the rolled-back checkout's order is cancelled; the admin order still counts
    assert alice.summary.orders.total_count == 1 and alice.summary.orders.total_amount == 6000, alice.summary
    assert alice.summary.redemptions.total_rolled_back == 2, alice.summary
    assert redemptions.get_redemption(rolled.parent_rollback.id).id == rolled.parent_rollback.id

    single = redemptions.redeem_stacked_discounts(
        voucherify.RedemptionsRedeemRequestBody.from_dict({"redeemables": [{"object": "voucher", "id": "CHECKOUT5"}], "order": order})
    )
    assert single.parent_redemption is None and single.redemptions[0].voucher.code == "CHECKOUT5"
    back = redemptions.rollback_redemption(single.redemptions[0].id, reason="mistake")
    assert back.result == "SUCCESS" and back.redemption == single.redemptions[0].id, back
    try:
        redemptions.rollback_redemption(single.redemptions[0].id)
        raise AssertionError("expected already_rolled_back")
    except voucherify.exceptions.BadRequestException as e:
        assert "already_rolled_back" in e.body, e.body

    # a session released through the SDK
    locked = ValidationsApi(app).validate_stacked_discounts(
        voucherify.ValidationsValidateRequestBody.from_dict({"redeemables": [{"object": "voucher", "id": "CHECKOUT5"}], "order": order, "session": {"type": "LOCK"}})
    )
    vouchers.release_validation_session("CHECKOUT5", locked.session.key)

    # client side: validation and qualification with the publishable key
    client_app = client({"X-Client-Application-Id": project.client_side_key.app_id, "X-Client-Token": project.client_side_key.app_token})
    client_api = ClientSideApi(client_app)
    client_app.default_headers["origin"] = "https://shop.example.com"
    v = client_api.validate_stacked_discounts_client_side(
        "https://shop.example.com",
        voucherify.ClientValidationsValidateRequestBody.from_dict({"redeemables": [{"object": "voucher", "id": "CHECKOUT5"}], "order": order})
    )
    assert v.valid is True
    q = client_api.check_eligibility_client_side(voucherify.ClientQualificationsCheckEligibilityRequestBody.from_dict({"order": order}))
    assert q.redeemables.total >= 1


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - print what the SDK rejected
        print(f"python SDK check failed: {exc!r}", file=sys.stderr)
        raise
