// Drives checkout with the official JS SDK (@voucherify/sdk@2.9.0): validate, qualify, redeem,
// both rollbacks, listings, session release and a client-side validation. The JS SDK has no
// runtime response validation, so this checks the fields a shop's code reads.
const assert = require("node:assert/strict");
const { VoucherifyServerSide, VoucherifyClientSide } = require(process.env.SDK_NODE_MODULES + "/@voucherify/sdk");

const BASE = process.env.PROMO_URL;
const RUN = Math.random().toString(16).slice(2, 10);

async function management(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: {
      "X-Management-Id": process.env.PROMO_MANAGEMENT_ID,
      "X-Management-Token": process.env.PROMO_MANAGEMENT_TOKEN,
      "Content-Type": "application/json",
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(r.ok, `${method} ${path}: ${r.status}`);
  return r.status === 204 ? null : r.json();
}

async function main() {
  const project = await management("POST", "/management/v1/projects", {
    name: `JS shop ${RUN}`,
    client_trusted_domains: ["shop.example.com"],
  });
  const sdk = VoucherifyServerSide({
    applicationId: project.server_side_key.app_id,
    secretKey: project.server_side_key.app_token,
    apiUrl: BASE,
  });

  await sdk.vouchers.create({
    code: "JS-TEN",
    type: "DISCOUNT_VOUCHER",
    discount: { type: "AMOUNT", amount_off: 1000, effect: "APPLY_TO_ORDER" },
    redemption: { quantity: 5 },
  });
  const campaign = await sdk.campaigns.create({
    name: `JS promo ${RUN}`,
    campaign_type: "PROMOTION",
    promotion: { tiers: [{ name: "5%", action: { discount: { type: "PERCENT", percent_off: 5 } } }] },
  });
  const tierId = campaign.promotion.tiers[0].id;
  const order = { source_id: `js-order-${RUN}`, items: [{ product_id: "prod_js", quantity: 1, price: 10000 }] };
  const customer = { source_id: `js-${RUN}@example.com`, email: `js-${RUN}@example.com` };
  const redeemables = [
    { object: "voucher", id: "JS-TEN" },
    { object: "promotion_tier", id: tierId },
  ];

  const validation = await sdk.validations.validateStackable({
    redeemables,
    order,
    customer,
    session: { type: "LOCK" },
    options: { expand: ["order"] },
  });
  assert.equal(validation.valid, true);
  // 1000 off, then 5% of the remaining 9000
  assert.equal(validation.order.total_discount_amount, 1450);
  assert.equal(validation.order.total_amount, 8550);
  assert.equal(validation.redeemables[1].order.applied_discount_amount, 450);
  assert.ok(validation.session.key.startsWith("ssn_"));

  const qualification = await sdk.qualifications.checkEligibility({ order, customer, options: { limit: 5 } });
  assert.equal(qualification.redeemables.total, 1);
  assert.equal(qualification.redeemables.data[0].id, tierId);

  const redeemed = await sdk.redemptions.redeemStackable({ redeemables, order, customer, session: { key: validation.session.key } });
  assert.equal(redeemed.redemptions.length, 2);
  assert.equal(redeemed.order.total_amount, 8550);
  const parentId = redeemed.parent_redemption.id;
  assert.equal((await sdk.redemptions.get(parentId)).result, "SUCCESS");
  assert.equal((await sdk.redemptions.list({ limit: 10 })).total, 3);
  assert.equal((await sdk.redemptions.getForVoucher("JS-TEN")).redeemed_quantity, 1);
  // counters and summaries read back through the SDK
  assert.equal((await sdk.vouchers.get("JS-TEN")).redemption.redeemed_quantity, 1);
  const tierNow = await sdk.promotions.tiers.get(tierId);
  assert.deepEqual(tierNow.summary, { redemptions: { total_redeemed: 1 }, orders: { total_amount: 10000, total_discount_amount: 450 } });
  const buyer = await sdk.customers.get(customer.source_id);
  assert.equal(buyer.summary.orders.total_count, 1);
  assert.equal(buyer.summary.orders.last_order_amount, 8550);
  assert.equal(buyer.summary.redemptions.total_succeeded, 2);
  // an order-level discount reaches no line in particular
  assert.equal(validation.redeemables[0].applicable_to.total, 0);

  const rolled = await sdk.redemptions.rollbackStackable(parentId, { reason: "returned" });
  assert.equal(rolled.rollbacks.length, 2);
  assert.equal(rolled.order.status, "CANCELED");
  assert.equal(rolled.order.total_discount_amount, 0);
  assert.equal((await sdk.promotions.tiers.get(tierId)).summary.redemptions.total_redeemed, 0);
  assert.equal((await sdk.customers.get(customer.source_id)).summary.orders.total_count, 0);

  const single = await sdk.redemptions.redeemStackable({ redeemables: [{ object: "voucher", id: "JS-TEN" }], order: { amount: 5000 } });
  const back = await sdk.redemptions.rollback(single.redemptions[0].id, { reason: "mistake" });
  assert.equal(back.result, "SUCCESS");
  assert.equal(back.reason, "mistake");
  await assert.rejects(sdk.redemptions.rollback(single.redemptions[0].id), (e) => {
    assert.equal(e.code, 400);
    assert.equal(e.key, "already_rolled_back");
    return true;
  });
  await assert.rejects(
    sdk.redemptions.redeemStackable({ redeemables: [{ object: "voucher", id: "NOPE" }], order: { amount: 5000 } }),
    (e) => e.code === 404 && e.key === "not_found",
  );

  const locked = await sdk.validations.validateStackable({ redeemables: [{ object: "voucher", id: "JS-TEN" }], order, session: { type: "LOCK" } });
  await sdk.vouchers.releaseValidationSession("JS-TEN", locked.session.key);

  // exports: created, polled until done, listed, read through the download URL, deleted
  const exported = await sdk.distributions.exports.create({ exported_object: "redemption", parameters: { fields: ["id", "result"] } });
  assert.equal(exported.status, "SCHEDULED");
  let done = exported;
  for (let i = 0; i < 200 && done.status !== "DONE"; i++) {
    await new Promise((r) => setTimeout(r, 50));
    done = await sdk.distributions.exports.get(exported.id);
  }
  assert.equal(done.status, "DONE");
  assert.equal((await sdk.distributions.exports.list()).total, 1);
  const csv = await (await fetch(done.result.url)).text();
  const lines = csv.trim().split("\n");
  assert.equal(lines[0], "Id,Result");
  assert.equal(lines.length - 1, (await sdk.redemptions.list({ limit: 100 })).total);
  await sdk.distributions.exports.delete(exported.id);
  assert.equal((await sdk.distributions.exports.list()).total, 0);

  const client = VoucherifyClientSide({
    clientApplicationId: project.client_side_key.app_id,
    clientSecretKey: project.client_side_key.app_token,
    apiUrl: BASE,
    origin: "https://shop.example.com",
  });
  const clientValidation = await client.validateStackable({ redeemables: [{ object: "voucher", id: "JS-TEN" }], order });
  assert.equal(clientValidation.valid, true);

  await management("DELETE", `/management/v1/projects/${project.id}`);
  console.log("JS SDK: every call accepted");
}

main().catch((e) => {
  console.error("JS SDK check failed:", e);
  process.exit(1);
});
