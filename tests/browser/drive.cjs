// Drives Voucherify's browser libraries in headless Chromium against the service:
// @voucherify/sdk (VoucherifyClientSide), voucherify.js (plain XHR and jQuery widgets) and
// @voucherify/react-widget, first from the project's trusted origin (everything must work and
// return real values), then from untrusted origins (the browser must refuse and nothing may be
// redeemed). Prints one line per check and `N passed, N failed`; exits non-zero on any failure.
// Started by tests/browser/run.sh, which makes the project and the voucher.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { serve } = require("./static.cjs");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const NODE_MODULES = env("BROWSER_NODE_MODULES");
const { chromium } = require(path.join(NODE_MODULES, "playwright-core"));
const PROMO_URL = env("PROMO_URL");
const SHOP_PORT = Number(env("SHOP_PORT"));
const OTHER_PORT = Number(env("OTHER_PORT"));
const ARTIFACTS = env("ARTIFACTS");
const CODE = env("VOUCHER_CODE");
const TIER_ID = env("TIER_ID");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const VERBOSE = !!process.env.BROWSER_VERBOSE;
const SERVER_KEY = { id: env("SERVER_APP_ID"), token: env("SERVER_APP_TOKEN") };
const CONFIG = {
  apiUrl: PROMO_URL,
  clientApplicationId: env("CLIENT_APP_ID"),
  clientSecretKey: env("CLIENT_APP_TOKEN"),
};
const SHOP = `http://127.0.0.1:${SHOP_PORT}`;
const UNTRUSTED = [`http://127.0.0.1:${OTHER_PORT}`, `http://localhost:${SHOP_PORT}`];

// ---- checks and their summary -------------------------------------------------------------

const results = [];
async function check(name, fn) {
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`PASS  ${name}${detail ? `: ${detail}` : ""}`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    console.log(`FAIL  ${name}: ${e && e.message ? e.message : e}`);
    if (VERBOSE && e && e.stack) console.log(e.stack);
  }
}
const short = (v) => {
  const s = JSON.stringify(v);
  return s && s.length > 600 ? s.slice(0, 600) + "…" : s;
};

// ---- the service, server side -------------------------------------------------------------

async function serverApi(method, p) {
  const r = await fetch(PROMO_URL + p, {
    method,
    headers: { "X-App-Id": SERVER_KEY.id, "X-App-Token": SERVER_KEY.token, Accept: "application/json" },
  });
  const body = await r.json();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${short(body)}`);
  return body;
}
async function redemptionCounts() {
  const voucher = await serverApi("GET", `/v1/vouchers/${encodeURIComponent(CODE)}`);
  const list = await serverApi("GET", `/v1/redemptions?voucher_code=${encodeURIComponent(CODE)}&limit=1`);
  return { redeemed: voucher.redemption.redeemed_quantity, rows: list.total };
}

// ---- the browser --------------------------------------------------------------------------

const consoleLog = []; // {page, trusted, type, text}
// What went over the wire to the service, from Chromium's own network log (the DevTools
// protocol sees the responses CORS hides from the page): requestId -> {page, trusted, method,
// url, status, headers, corsError}
const wire = new Map();
const wireEntry = (id, page, trusted) => {
  if (!wire.has(id)) wire.set(id, { page, trusted });
  return wire.get(id);
};
// the one refusal the trusted pages provoke on purpose (an unknown code, to read the error body)
const UNKNOWN_REDEEM = "NOPE-REDEEM";
const pending = []; // reading the messages of logged errors
// what a refused request logs on an untrusted page: Chromium's CORS report, the failed load and
// the react widgets' console.error(err) of the SDK's "Network Error"
const CORS_NOISE = [/blocked by CORS policy/, /Failed to load resource: net::ERR_FAILED/, /Network Error/];

async function openPage(context, origin, file, label) {
  const page = await context.newPage();
  const trusted = origin === SHOP;
  page.setDefaultTimeout(15000);
  page.on("console", (m) => {
    if (VERBOSE) console.log(`   [${label} console.${m.type()}] ${m.text()}`);
    if (m.type() !== "error") return;
    const entry = { page: label, trusted, type: "console.error", text: m.text(), url: m.location().url };
    consoleLog.push(entry);
    // console.error(someError) shows as the (minified) class name: read its message as well
    pending.push(
      Promise.all(m.args().map((a) => a.evaluate((v) => (v instanceof Error ? `${v.name}: ${v.message}` : null)).catch(() => null)))
        .then((parts) => {
          const messages = parts.filter(Boolean);
          if (messages.length) entry.text += ` (${messages.join("; ")})`;
        }),
    );
  });
  page.on("pageerror", (e) => consoleLog.push({ page: label, trusted, type: "pageerror", text: String(e && e.stack ? e.stack : e) }));
  page.on("requestfailed", (r) => {
    if (VERBOSE) console.log(`   [${label} requestfailed] ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`);
  });
  page.on("response", (r) => {
    if (VERBOSE) console.log(`   [${label} response] ${r.status()} ${r.request().method()} ${r.url()}`);
    if (trusted && r.status() >= 400) {
      consoleLog.push({ page: label, trusted, type: "http", text: `${r.status()} ${r.request().method()} ${r.url()}`, url: r.url() });
    }
  });
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Network.requestWillBeSent", (e) => {
    if (!e.request.url.startsWith(PROMO_URL + "/")) return;
    Object.assign(wireEntry(e.requestId, label, trusted), { method: e.request.method, url: e.request.url, body: e.request.postData, preflight: e.type === "Preflight" });
  });
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    const headers = Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), v]));
    Object.assign(wireEntry(e.requestId, label, trusted), { status: e.statusCode, headers });
  });
  cdp.on("Network.loadingFailed", (e) => {
    Object.assign(wireEntry(e.requestId, label, trusted), { failed: e.errorText, corsError: e.corsErrorStatus && e.corsErrorStatus.corsError });
  });
  await cdp.send("Network.enable");
  await page.goto(`${origin}/${file}`, { waitUntil: "load" });
  return page;
}

async function closePage(page) {
  await Promise.all(pending);
  await page.close();
}

async function screenshot(page, name) {
  try {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  } catch (e) {
    console.log(`(screenshot ${name} failed: ${e.message})`);
  }
}

/** Waits until the page's log has an event of one of `kinds`, and returns it. */
async function shopEvent(page, kinds, timeout = 15000) {
  const handle = await page.waitForFunction(
    (ks) => (window.shopEvents || []).find((e) => ks.includes(e.kind)) || false,
    kinds,
    { timeout },
  );
  return handle.jsonValue();
}
const clearEvents = (page) => page.evaluate(() => (window.shopEvents.length = 0));
const value = (page, sel) => page.$eval(sel, (e) => e.value);
const classes = (page, sel) => page.$eval(sel, (e) => e.className);

// In-page helpers: every library call answers {ok: response} or {error: {...}}, also shown in
// the page's log (and so in the screenshots).
const SDK_CALL = async ({ fn, args }) => {
  let answer;
  try {
    answer = { ok: await window.shopClient[fn](...args) };
  } catch (e) {
    answer = { error: { name: e && e.name, message: e && e.message, code: e && e.code, key: e && e.key } };
  }
  window.shopRecord(`sdk ${fn}`, answer);
  return answer;
};
const VJS_CALL = ({ fn, args }) =>
  new Promise((resolve) => {
    window.Voucherify[fn](...args, (r) => {
      const answer = r && r.type === "error" ? { error: { message: r.message, context: r.context && (r.context.status ?? r.context) } } : { ok: r };
      window.shopRecord(`Voucherify.${fn}`, answer);
      resolve(answer);
    });
  });
const VJS_PROMISE = ({ fn, args }) =>
  new Promise((resolve) => {
    const done = (answer) => {
      window.shopRecord(`Voucherify.${fn} (jQuery)`, answer);
      resolve(answer);
    };
    window.Voucherify[fn](...args)
      .done((r) => done({ ok: r }))
      .fail((e) => {
        const json = e.context && e.context.responseJSON;
        done({ error: { message: e.message, status: e.context && e.context.status, key: json && json.key } });
      });
  });

function okOf(answer, what) {
  assert.ok(answer && !answer.error, `${what} failed in the browser: ${short(answer && answer.error)}`);
  return answer.ok;
}

// ---- the scenario -------------------------------------------------------------------------

async function trustedOrigin(context, expected) {
  const customer = { source_id: "browser-shopper@example.com" };
  const cart = { amount: 5000, items: [{ product_id: "prod_shirt", quantity: 2, price: 2500 }] };

  // @voucherify/sdk + @voucherify/react-widget
  const page = await openPage(context, SHOP, "sdk.html", "trusted sdk.html");
  try {
    await check("trusted: page loads React, axios, Qs, VoucherifySDK, VoucherifyWidget from /vendor", async () => {
      const globals = await page.evaluate(() =>
        ["React", "ReactDOM", "axios", "Qs", "VoucherifySDK", "VoucherifyWidget", "shopClient"].filter((g) => !window[g]),
      );
      assert.deepEqual(globals, [], `missing globals: ${globals}`);
      await page.waitForSelector("#validate-widget .voucherifyContainer");
      await page.waitForSelector("#redeem-widget .voucherifyContainer");
    });

    await check("trusted: sdk validate (GET /client/v1/validate) with cart", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "validate", args: [{ code: CODE, amount: cart.amount, items: cart.items, customer, metadata: { channel: "browser" } }] }), "validate");
      assert.equal(r.valid, true, short(r));
      assert.equal(r.code, CODE);
      assert.equal(r.discount && r.discount.type, "AMOUNT", short(r));
      assert.equal(r.discount.amount_off, 1000);
      assert.equal(r.order && r.order.amount, 5000, short(r.order));
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      assert.equal(r.order.total_amount, 4000, short(r.order));
      return `valid=${r.valid} amount_off=${r.discount.amount_off} total_discount_amount=${r.order.total_discount_amount} total_amount=${r.order.total_amount}`;
    });

    await check("trusted: sdk validate of an unknown code resolves valid=false (HTTP 200)", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "validate", args: [{ code: "NOPE-404", amount: 5000 }] }), "validate");
      assert.equal(r.valid, false, short(r));
      assert.equal(typeof r.reason, "string", `reason: ${short(r)}`);
      return `valid=false reason=${JSON.stringify(r.reason)}`;
    });

    await check("trusted: sdk validateStackable (POST /client/v1/validations)", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "validateStackable", args: [{ redeemables: [{ object: "voucher", id: CODE }], order: cart, customer }] }), "validateStackable");
      assert.equal(r.valid, true, short(r));
      assert.equal(r.redeemables[0].status, "APPLICABLE", short(r.redeemables));
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      assert.equal(r.order.total_amount, 4000, short(r.order));
      return `valid=true status=APPLICABLE total_discount_amount=${r.order.total_discount_amount}`;
    });

    await check("trusted: sdk qualifications (POST /client/v1/qualifications)", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "qualifications", args: [{ customer, order: cart }] }), "qualifications");
      const tier = (r.redeemables && r.redeemables.data || []).find((d) => d.id === TIER_ID);
      assert.ok(tier, `tier ${TIER_ID} not among ${short(r.redeemables)}`);
      assert.equal(tier.result.discount.percent_off, 5, short(tier.result));
      assert.equal(tier.order.total_discount_amount, 250, short(tier.order));
      return `tier qualifies, percent_off=5 discount=${tier.order.total_discount_amount}`;
    });

    await check("trusted: sdk redeem (POST /client/v1/redeem?code=)", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "redeem", args: [CODE, { order: { amount: 5000 }, customer }] }), "redeem");
      expected.redeemed += 1;
      assert.equal(r.result, "SUCCESS", short(r));
      assert.equal(r.object, "redemption", short(r));
      assert.equal(r.voucher && r.voucher.code, CODE, short(r.voucher));
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      assert.equal(r.order.total_amount, 4000, short(r.order));
      assert.equal(r.customer && r.customer.source_id, customer.source_id, short(r.customer));
      return `result=${r.result} id=${r.id} total_discount_amount=${r.order.total_discount_amount}`;
    });

    await check("trusted: sdk redeemStackable (POST /client/v1/redemptions)", async () => {
      const r = okOf(await page.evaluate(SDK_CALL, { fn: "redeemStackable", args: [{ redeemables: [{ object: "voucher", id: CODE }], order: cart, customer }] }), "redeemStackable");
      expected.redeemed += 1;
      assert.equal(r.redemptions.length, 1, short(r));
      assert.equal(r.redemptions[0].result, "SUCCESS", short(r.redemptions[0]));
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      assert.equal(r.order.total_amount, 4000, short(r.order));
      return `result=SUCCESS total_discount_amount=${r.order.total_discount_amount}`;
    });

    await check("trusted: sdk redeem of an unknown code rejects with the service's error (CORS on 4xx)", async () => {
      const a = await page.evaluate(SDK_CALL, { fn: "redeem", args: [UNKNOWN_REDEEM, { order: { amount: 5000 } }] });
      assert.ok(a.error, `redeeming an unknown code succeeded: ${short(a)}`);
      assert.equal(a.error.code, 404, short(a.error));
      assert.equal(a.error.key, "not_found", short(a.error));
      return `VoucherifyError code=${a.error.code} key=${a.error.key}`;
    });

    await check("trusted: react VoucherifyValidate shows an unknown code as invalid", async () => {
      await clearEvents(page);
      await page.fill("#validate-widget input[name=voucherifyCode]", "NOPE-404");
      await page.click("#validate-widget button.voucherifyValidate");
      await page.waitForSelector("#validate-widget button.voucherifyValidate.voucherifyInvalid");
      const events = await page.evaluate(() => window.shopEvents.map((e) => e.kind));
      assert.deepEqual(events, [], "an invalid code must be neither validated nor an error");
      return "button.voucherifyInvalid";
    });

    await check("trusted: react VoucherifyValidate validates the code", async () => {
      await page.fill("#validate-widget input[name=voucherifyCode]", CODE);
      await page.fill("#validate-widget input[name=voucherifyAmount]", "50.00");
      await page.click("#validate-widget button.voucherifyValidate");
      const ev = await shopEvent(page, ["widget-validated", "widget-validate-error"]);
      assert.equal(ev.kind, "widget-validated", short(ev));
      await page.waitForSelector("#validate-widget button.voucherifyValidate.voucherifyValid");
      assert.match(await classes(page, "#validate-widget input[name=voucherifyCode]"), /voucherifyValid/);
      assert.equal(await value(page, "#validate-widget input[name=voucherifyDiscountType]"), "AMOUNT");
      assert.equal(await value(page, "#validate-widget input[name=voucherifyAmountOff]"), "1000");
      assert.equal(ev.data.valid, true);
      assert.equal(ev.data.order.total_discount_amount, 1000, short(ev.data.order));
      assert.ok(await page.$eval("#validate-widget button.voucherifyValidate", (b) => b.disabled), "controls are disabled after a valid code");
      return "button.voucherifyValid, voucherifyDiscountType=AMOUNT, voucherifyAmountOff=1000";
    });

    await check("trusted: react VoucherifyRedeem redeems the code", async () => {
      await clearEvents(page);
      await page.fill("#redeem-widget input[name=voucherifyCode]", CODE);
      await page.fill("#redeem-widget input[name=voucherifyAmount]", "50.00");
      await page.click("#redeem-widget button.voucherifyRedeem");
      const ev = await shopEvent(page, ["widget-redeemed", "widget-redeem-error"]);
      if (ev.kind === "widget-redeemed") expected.redeemed += 1;
      assert.equal(ev.kind, "widget-redeemed", short(ev));
      assert.equal(ev.data.result, "SUCCESS", short(ev.data));
      assert.equal(ev.data.order.amount, 5000, short(ev.data.order));
      assert.equal(ev.data.order.total_discount_amount, 1000, short(ev.data.order));
      await page.waitForSelector("#redeem-widget button.voucherifyRedeem.voucherifyValid");
      return `result=SUCCESS, button.voucherifyValid`;
    });
  } finally {
    await screenshot(page, "01-trusted-sdk-react-widget");
    await closePage(page);
  }

  // voucherify.js without jQuery (plain XMLHttpRequest, withCredentials)
  const legacy = await openPage(context, SHOP, "legacy.html", "trusted legacy.html");
  try {
    await check("trusted: voucherify.js validate (XHR, withCredentials)", async () => {
      await legacy.evaluate((c) => window.Voucherify.setIdentity(c), customer.source_id);
      const r = okOf(await legacy.evaluate(VJS_CALL, { fn: "validate", args: [{ code: CODE, amount: cart.amount, items: cart.items, metadata: { channel: "browser" }, orderMetadata: { page: "legacy" }, customer: { source_id: customer.source_id, metadata: { country: "PL" } } }] }), "Voucherify.validate");
      assert.equal(r.valid, true, short(r));
      assert.equal(r.discount.type, "AMOUNT");
      assert.equal(r.discount.amount_off, 1000);
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      return `valid=true amount_off=${r.discount.amount_off} total_discount_amount=${r.order.total_discount_amount}`;
    });

    await check("trusted: voucherify.js validate of an unknown code is valid=false", async () => {
      const r = okOf(await legacy.evaluate(VJS_CALL, { fn: "validate", args: ["NOPE-404"] }), "Voucherify.validate");
      assert.equal(r.valid, false, short(r));
      return `valid=false reason=${JSON.stringify(r.reason)}`;
    });

    await check("trusted: voucherify.js redeem (XHR, withCredentials)", async () => {
      const r = okOf(await legacy.evaluate(VJS_CALL, { fn: "redeem", args: [CODE, { order: { amount: 5000 } }] }), "Voucherify.redeem");
      expected.redeemed += 1;
      assert.equal(r.result, "SUCCESS", short(r));
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      assert.equal(r.customer && r.customer.source_id, customer.source_id, short(r.customer));
      return `result=SUCCESS total_discount_amount=${r.order.total_discount_amount}`;
    });
  } finally {
    await screenshot(legacy, "02-trusted-voucherify-js");
    await closePage(legacy);
  }

  // voucherify.js with jQuery: the promise API and the render / renderRedeem widgets
  const jq = await openPage(context, SHOP, "legacy-jquery.html", "trusted legacy-jquery.html");
  try {
    await check("trusted: voucherify.js + jQuery validate (promise API)", async () => {
      const r = okOf(await jq.evaluate(VJS_PROMISE, { fn: "validate", args: [{ code: CODE, amount: 5000 }] }), "Voucherify.validate");
      assert.equal(r.valid, true, short(r));
      assert.equal(r.discount.amount_off, 1000);
      assert.equal(r.order.total_discount_amount, 1000, short(r.order));
      return `valid=true total_discount_amount=${r.order.total_discount_amount}`;
    });

    await check("trusted: voucherify.js + jQuery redeem of an unknown code fails with the service's error key", async () => {
      const a = await jq.evaluate(VJS_PROMISE, { fn: "redeem", args: [UNKNOWN_REDEEM, { order: { amount: 5000 } }] });
      assert.ok(a.error, `redeeming an unknown code succeeded: ${short(a)}`);
      assert.equal(a.error.status, 404, short(a.error));
      assert.equal(a.error.key, "not_found", short(a.error));
      return `status=${a.error.status} responseJSON.key=${a.error.key}`;
    });

    await check("trusted: voucherify.js Voucherify.render widget validates the code", async () => {
      await clearEvents(jq);
      await jq.fill("#vjs-validate input[name=voucherifyCode]", CODE);
      await jq.fill("#vjs-validate input[name=voucherifyAmount]", "50.00");
      await jq.click("#vjs-validate button.voucherifyValidate");
      await jq.waitForSelector("#vjs-validate button.voucherifyValidate.voucherifyValid, #vjs-validate button.voucherifyValidate.voucherifyInvalid");
      assert.match(await classes(jq, "#vjs-validate button.voucherifyValidate"), /voucherifyValid/);
      assert.equal(await value(jq, "#vjs-validate input[name=voucherifyDiscountType]"), "AMOUNT");
      assert.equal(await value(jq, "#vjs-validate input[name=voucherifyAmountOff]"), "1000");
      const ev = await shopEvent(jq, ["vjs-validated"]);
      assert.equal(ev.data.valid, true);
      return "button.voucherifyValid, voucherifyAmountOff=1000";
    });

    await check("trusted: voucherify.js Voucherify.renderRedeem widget redeems (order.amount null)", async () => {
      await clearEvents(jq);
      await jq.fill("#vjs-redeem input[name=voucherifyCode]", CODE);
      await jq.click("#vjs-redeem button.voucherifyRedeem");
      await jq.waitForSelector("#vjs-redeem button.voucherifyRedeem.voucherifyValid, #vjs-redeem button.voucherifyRedeem.voucherifyInvalid");
      const cls = await classes(jq, "#vjs-redeem button.voucherifyRedeem");
      if (/voucherifyValid/.test(cls)) expected.redeemed += 1;
      assert.match(cls, /voucherifyValid/);
      const ev = await shopEvent(jq, ["vjs-redeemed"]);
      assert.equal(ev.data.result, "SUCCESS", short(ev.data));
      const sent = [...wire.values()].filter((w) => w.page === "trusted legacy-jquery.html" && w.method === "POST" && w.url.endsWith(`/client/v1/redeem?code=${CODE}`));
      assert.equal(sent.length, 1, short(sent));
      assert.deepEqual(JSON.parse(sent[0].body).order, { amount: null }, `body sent: ${sent[0].body}`);
      return `body ${sent[0].body} -> result=SUCCESS, button.voucherifyValid`;
    });
  } finally {
    await screenshot(jq, "03-trusted-voucherify-js-jquery");
    await closePage(jq);
  }

  await check("trusted: server counts every browser redemption", async () => {
    const c = await redemptionCounts();
    assert.equal(c.redeemed, expected.redeemed, `redeemed_quantity ${c.redeemed}, expected ${expected.redeemed}`);
    return `redeemed_quantity=${c.redeemed}`;
  });
}

async function untrustedOrigin(context, origin, n) {
  const before = await redemptionCounts();
  const tag = `untrusted ${origin}`;
  const isCorsFailure = (a, what) => {
    assert.ok(a && a.error && !a.ok, `${what} was answered from an untrusted origin: ${short(a)}`);
    return a.error;
  };

  const page = await openPage(context, origin, "sdk.html", `${tag} sdk.html`);
  try {
    await check(`${tag}: sdk validate is refused by the browser`, async () => {
      const e = isCorsFailure(await page.evaluate(SDK_CALL, { fn: "validate", args: [{ code: CODE, amount: 5000 }] }), "validate");
      return `rejected: ${e.message}`;
    });
    await check(`${tag}: sdk redeem is refused by the browser`, async () => {
      const e = isCorsFailure(await page.evaluate(SDK_CALL, { fn: "redeem", args: [CODE, { order: { amount: 5000 } }] }), "redeem");
      return `rejected: ${e.message}`;
    });
    await check(`${tag}: sdk redeemStackable is refused by the browser`, async () => {
      const e = isCorsFailure(await page.evaluate(SDK_CALL, { fn: "redeemStackable", args: [{ redeemables: [{ object: "voucher", id: CODE }], order: { amount: 5000 } }] }), "redeemStackable");
      return `rejected: ${e.message}`;
    });
    await check(`${tag}: react VoucherifyValidate reports an error, not a valid code`, async () => {
      await clearEvents(page);
      await page.fill("#validate-widget input[name=voucherifyCode]", CODE);
      await page.click("#validate-widget button.voucherifyValidate");
      const ev = await shopEvent(page, ["widget-validated", "widget-validate-error"]);
      assert.equal(ev.kind, "widget-validate-error", short(ev));
      assert.doesNotMatch(await classes(page, "#validate-widget button.voucherifyValidate"), /voucherifyValid\b/);
      return `onError: ${ev.data.message}`;
    });
    await check(`${tag}: react VoucherifyRedeem reports an error, not a redemption`, async () => {
      await clearEvents(page);
      await page.fill("#redeem-widget input[name=voucherifyCode]", CODE);
      await page.fill("#redeem-widget input[name=voucherifyAmount]", "50.00");
      await page.click("#redeem-widget button.voucherifyRedeem");
      const ev = await shopEvent(page, ["widget-redeemed", "widget-redeem-error"]);
      assert.equal(ev.kind, "widget-redeem-error", short(ev));
      return `onError: ${ev.data.message}`;
    });
  } finally {
    await screenshot(page, `${String(4 + 2 * n).padStart(2, "0")}-untrusted-${new URL(origin).host.replace(/[^a-z0-9]+/gi, "-")}-sdk`);
    await closePage(page);
  }

  const legacy = await openPage(context, origin, "legacy.html", `${tag} legacy.html`);
  try {
    await check(`${tag}: voucherify.js redeem is refused by the browser`, async () => {
      const e = isCorsFailure(await legacy.evaluate(VJS_CALL, { fn: "redeem", args: [CODE, { order: { amount: 5000 } }] }), "Voucherify.redeem");
      return `error callback: ${e.message}`;
    });
  } finally {
    await screenshot(legacy, `${String(5 + 2 * n).padStart(2, "0")}-untrusted-${new URL(origin).host.replace(/[^a-z0-9]+/gi, "-")}-voucherify-js`);
    await closePage(legacy);
  }

  await check(`${tag}: nothing was redeemed (server side)`, async () => {
    const after = await redemptionCounts();
    assert.equal(after.redeemed, before.redeemed, `redeemed_quantity went ${before.redeemed} -> ${after.redeemed}`);
    assert.equal(after.rows, before.rows, `redemption rows went ${before.rows} -> ${after.rows}`);
    return `redeemed_quantity stays ${after.redeemed}, redemption rows stay ${after.rows}`;
  });
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const servers = [];
  for (const port of [SHOP_PORT, OTHER_PORT]) {
    servers.push(await serve(port, NODE_MODULES, CONFIG, VERBOSE ? console.log : null));
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "promo-browser-"));
  process.on("exit", () => {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a browser killed mid-write; the directory is in the system's temp dir
    }
  });
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // every name but the loopback ones fails to resolve: the pages can reach nothing else
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
      ],
      viewport: { width: 1000, height: 900 },
      timeout: 60000,
    });
    console.log(`browser: ${CHROMIUM} ${context.browser() ? context.browser().version() : ""}`.trim());
    const expected = { redeemed: (await redemptionCounts()).redeemed };
    await trustedOrigin(context, expected);
    for (const [n, origin] of UNTRUSTED.entries()) await untrustedOrigin(context, origin, n);

    await Promise.all(pending);
    await check("console: the refused requests were blocked by CORS in the browser", async () => {
      const cors = consoleLog.filter((m) => !m.trusted && /blocked by CORS policy/.test(m.text));
      for (const origin of UNTRUSTED) {
        assert.ok(cors.some((m) => m.page.includes(origin)), `no CORS refusal logged for ${origin}`);
      }
      assert.ok(cors.every((m) => /No 'Access-Control-Allow-Origin' header/.test(m.text)), short(cors.map((m) => m.text)));
      // the preflight is answered for any origin; the request itself is what the service refuses
      const preflight = cors.filter((m) => /preflight/.test(m.text));
      assert.deepEqual(preflight.map((m) => m.text), [], "preflights were refused");
      return `${cors.length} CORS refusals of the requests themselves (no Access-Control-Allow-Origin header)`;
    });
    const calls = [...wire.values()].filter((w) => w.url);
    const isPreflight = (w) => w.preflight || w.method === "OPTIONS";
    const brief = (w) => ({ page: w.page, method: w.method, url: w.url, status: w.status, acao: w.headers && w.headers["access-control-allow-origin"], corsError: w.corsError, failed: w.failed });
    await check("network: trusted requests answered with the origin echoed and credentials allowed", async () => {
      const trusted = calls.filter((w) => w.trusted && !isPreflight(w));
      assert.ok(trusted.length > 10, `only ${trusted.length} requests seen`);
      const wrong = trusted.filter((w) => !w.headers || w.headers["access-control-allow-origin"] !== SHOP || w.headers["access-control-allow-credentials"] !== "true" || w.failed);
      assert.deepEqual(wrong.map(brief), [], "answers without Access-Control-Allow-Origin: <origin> / -Credentials: true");
      return `${trusted.length} answers with Access-Control-Allow-Origin: ${SHOP}, Access-Control-Allow-Credentials: true`;
    });
    await check("network: untrusted preflights 204, the requests themselves 403 without Access-Control-Allow-Origin", async () => {
      const untrusted = calls.filter((w) => !w.trusted);
      const requests = untrusted.filter((w) => !isPreflight(w));
      // six calls per untrusted origin: sdk validate, redeem, redeemStackable, both widgets, voucherify.js
      assert.ok(requests.length >= 6 * UNTRUSTED.length, `only ${requests.length} requests seen`);
      const wrong = requests.filter((w) => w.status !== 403 || (w.headers && "access-control-allow-origin" in w.headers) || w.corsError !== "MissingAllowOriginHeader");
      assert.deepEqual(wrong.map(brief), [], "untrusted requests not refused with a bare 403");
      const preflights = untrusted.filter(isPreflight);
      const badPreflights = preflights.filter((w) => w.status !== 204 || w.failed);
      assert.deepEqual(badPreflights.map(brief), [], "preflights not answered 204");
      return `${requests.length} requests answered 403 (CORS error MissingAllowOriginHeader), ${preflights.length} preflights 204`;
    });
    await check("console: no unexpected browser errors", async () => {
      const expected = (m) =>
        m.trusted ? (m.url || "").includes(UNKNOWN_REDEEM) || m.text.includes(UNKNOWN_REDEEM) : CORS_NOISE.some((re) => re.test(m.text));
      const unexpected = consoleLog.filter((m) => !expected(m));
      assert.deepEqual(unexpected, [], unexpected.map((m) => `[${m.page}] ${m.type}: ${m.text}`).join("\n      "));
      const refused = consoleLog.filter((m) => !m.trusted).length;
      return `${refused} expected errors on untrusted origins, ${consoleLog.length - refused} from the deliberate unknown-code redemptions, nothing else`;
    });
  } finally {
    if (context) await context.close().catch(() => {});
    for (const s of servers) s.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
  fs.writeFileSync(path.join(ARTIFACTS, "console.json"), JSON.stringify({ console: consoleLog, wire: [...wire.values()].filter((w) => w.url) }, null, 2));
  return failed;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.log(`FAIL  interrupted by ${signal}`);
    process.exit(1); // Playwright kills its browser on exit
  });
}
const watchdog = setTimeout(() => {
  console.log("FAIL  the browser check took longer than its bound");
  process.exit(1);
}, Number(process.env.BROWSER_TIMEOUT_MS || 240000));
watchdog.unref();

main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (e) => {
    console.log(`FAIL  browser check aborted: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
