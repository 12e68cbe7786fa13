// A marketer's day in the dashboard, in headless Chromium: sign in with the keyboard, create a
// promotion with two tiers and a coupon campaign with 1,000 codes (progress shown), switch a
// tier off and see it leave qualifications, redeem through the API, see counters and charts
// move, export redemptions to CSV and read the file, roll one back — asserting what the pages
// show. Also: another project's data never shows, the key never reaches a URL, a cookie,
// localStorage or the server's log, no page throws, and the pages fit a phone.
// Prints one line per check and `N passed, N failed`; exits non-zero on any failure.
// Started by tests/dashboard/run.sh.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const { chromium } = require(path.join(env("DASHBOARD_NODE_MODULES"), "playwright-core"));
const URL_ = env("PROMO_URL");
const ARTIFACTS = env("ARTIFACTS");
const SERVER_LOG = env("SERVER_LOG");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const MANAGEMENT = { "X-Management-Id": env("PROMO_MANAGEMENT_ID"), "X-Management-Token": env("PROMO_MANAGEMENT_TOKEN") };

const results = [];
async function check(name, fn) {
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`PASS  ${name}${detail ? `: ${detail}` : ""}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}: ${e && e.stack ? e.stack : e}`);
    if (current) await screenshot(current, `failed-${results.length}`).catch(() => {});
  }
}
let current = null;

async function call(headers, method, p, body) {
  const r = await fetch(URL_ + p, {
    method,
    headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function project(name) {
  const p = await call(MANAGEMENT, "POST", "/management/v1/projects", { name: `${name} ${Date.now()}`, timezone: "Europe/Warsaw", currency: "EUR" });
  const key = p.server_side_key;
  return { id: p.id, name: p.name, key, headers: { "X-App-Id": key.app_id, "X-App-Token": key.app_token } };
}

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

const text = (page, selector) => page.locator(selector).innerText();

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const shop = await project("Dashboard shop");
  const other = await project("Another shop");
  await call(other.headers, "POST", "/v1/campaigns", {
    name: "Other shop secret sale",
    campaign_type: "PROMOTION",
    promotion: { tiers: [{ name: "Secret tier", banner: "secret", action: { discount: { type: "PERCENT", percent_off: 50 } } }] },
  });
  const otherCampaign = (await call(other.headers, "GET", "/v1/campaigns?limit=1")).campaigns[0];

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
    timeout: 60000,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(15000);
  const urls = [];
  const consoleErrors = [];
  const pageErrors = [];
  page.on("request", (r) => urls.push(r.url()));
  page.on("console", (m) => {
    fs.appendFileSync(path.join(ARTIFACTS, "console.log"), `${m.type()}: ${m.text()}\n`);
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  await check("the page and its assets are served with caching headers", async () => {
    const r = await page.goto(`${URL_}/dashboard`);
    assert.equal(r.status(), 200);
    assert.equal(r.headers()["cache-control"], "no-cache");
    assert.match(r.headers()["content-security-policy"], /script-src 'self'/);
    const script = urls.find((u) => /\/dashboard\/assets\/[0-9a-f]{16}\/app\.js$/.test(u));
    assert.ok(script, `no versioned script among ${urls}`);
    const asset = await fetch(script);
    assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    await page.waitForSelector("h1:text('Sign in')");
    await screenshot(page, "sign-in");
    return script.replace(URL_, "");
  });

  await check("sign-in with the keyboard; a wrong key is refused with a message", async () => {
    // the page starts at the first field
    assert.equal(await page.evaluate(() => document.activeElement.name), "app-id");
    await page.keyboard.type(shop.key.app_id);
    await page.keyboard.press("Tab");
    await page.keyboard.type("not-the-token");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".error-box:text('refused')");
    await page.fill("input[name=app-token]", shop.key.app_token);
    await page.keyboard.press("Enter");
    await page.waitForSelector("h1:text('Campaigns')");
    await screenshot(page, "campaigns-empty");
  });

  let winter;
  await check("a promotion with two tiers and their rules; the engine's refusal shows at its field", async () => {
    await page.click("text=New promotion");
    await page.fill("input[name=name]", "Winter sale");
    await page.fill("input[name=tier-0-name]", "10% over 100");
    await page.fill("input[name=tier-0-banner]", "10% off orders over 100");
    await page.locator("fieldset.tier").nth(0).locator("input[name=discount-value]").fill("150");
    await page.fill("input[name=tier-0-min-amount]", "100");
    assert.match(await page.locator("fieldset.tier").nth(0).locator(".spend-more").innerText(), /Spend 10\.00 more to get 10% off orders over 100/);
    await page.click("text=Add a tier");
    await page.fill("input[name=tier-1-name]", "20% over 300");
    await page.fill("input[name=tier-1-banner]", "20% off orders over 300");
    await page.locator("fieldset.tier").nth(1).locator("input[name=discount-value]").fill("20");
    await page.fill("input[name=tier-1-min-amount]", "300");
    // the second tier's own time frame
    await page.fill("input[name='promotion.tiers[1].end']", "2030-12-31T23:59");
    await page.click("button:text('Create promotion')");
    const value = page.locator("fieldset.tier").nth(0).locator("input[name=discount-value]");
    await page.waitForSelector("fieldset.tier input[name=discount-value][aria-invalid=true]");
    const message = await page.locator(`#${await value.getAttribute("id")}-error`).innerText();
    assert.match(message, /percent_off.*150/);
    await screenshot(page, "promotion-refused");
    const before = await call(shop.headers, "GET", "/v1/validation-rules");
    assert.equal(before.total, 0, "the refused campaign's rules were removed");
    await value.fill("10");
    await page.click("button:text('Create promotion')");
    await page.waitForSelector("h1:text('Winter sale')");
    const rows = page.locator("#tiers tbody tr");
    assert.equal(await rows.count(), 2);
    for (const name of ["10% over 100", "20% over 300"]) {
      const row = page.locator(`#tiers tr[data-tier="${name}"]`);
      assert.equal(await row.getAttribute("class"), "tier-on");
      assert.equal(await row.locator("button.tier-switch").getAttribute("aria-pressed"), "true");
      const colour = await row.locator("button.tier-switch").evaluate((b) => getComputedStyle(b).backgroundColor);
      assert.equal(colour, "rgb(23, 128, 61)", "enabled tiers are green");
    }
    winter = (await call(shop.headers, "GET", "/v1/campaigns/Winter%20sale"));
    assert.match(winter.promotion.tiers[1].expiration_date, /^2030-12-31T/);
    assert.equal(winter.promotion.tiers[1].validation_rules_assignments?.total ?? winter.promotion.tiers[1].validation_rule_assignments.total, 1);
    await screenshot(page, "promotion");
  });

  await check("a campaign and a tier edited in place", async () => {
    await page.click("summary:text('Edit the campaign')");
    await page.fill("input[name=description]", "Winter clearance");
    await page.click("button:text('Save changes')");
    await page.waitForSelector("text=Campaign saved");
    assert.equal((await call(shop.headers, "GET", "/v1/campaigns/Winter%20sale")).description, "Winter clearance");
    await page.click(`#tiers tr[data-tier="10% over 100"] button:text('Edit')`);
    await page.fill("input[name=tier-banner]", "10% off from 100");
    // its rule replaced by a new minimum
    await page.fill("input[name=edit-tier-min-amount]", "120");
    await page.click("button:text('Save tier')");
    await page.waitForSelector(`#tiers tr[data-tier="10% over 100"] td:text('10% off from 100')`);
    const tier = (await call(shop.headers, "GET", "/v1/campaigns/Winter%20sale")).promotion.tiers[0];
    assert.equal(tier.banner, "10% off from 100");
    assert.equal(tier.action.discount.percent_off, 10, "the discount kept its value");
    assert.equal(tier.validation_rule_assignments.total, 1, "one rule, the new one");
    const rule = await call(shop.headers, "GET", `/v1/validation-rules/${tier.validation_rule_assignments.data[0].rule_id}`);
    assert.deepEqual(rule.rules["1"].conditions, { $more_than_or_equal: [12000] });
  });

  let thanks;
  await check("a coupon campaign with 1,000 codes, the generation's progress shown", async () => {
    await page.click("nav >> text=Campaigns");
    await page.click("text=New coupon campaign");
    await page.fill("input[name=name]", "Thank you");
    await page.fill("input[name=count]", "1000");
    await page.fill("input[name=prefix]", "TY-");
    await page.selectOption("select[name=discount-type]", "AMOUNT");
    await page.fill("input[name=discount-value]", "5");
    await page.click("button:text('Create campaign')");
    await page.waitForSelector("#generation progress", { state: "attached" });
    await screenshot(page, "codes-generating");
    await page.waitForSelector("h1:text('Thank you')", { timeout: 60000 });
    await page.waitForSelector("[data-stat=codes] .value:text('1,000')");
    assert.equal(await page.locator("#codes tbody tr").count(), 20);
    const code = await page.locator("#codes tbody tr").first().getAttribute("data-code");
    assert.match(code, /^TY-/);
    thanks = await call(shop.headers, "GET", "/v1/campaigns/Thank%20you");
    assert.equal(thanks.vouchers_count, 1000);
    await screenshot(page, "coupon-campaign");
    return `first code ${code}`;
  });

  await check("codes imported from a CSV file and one published to a customer", async () => {
    const csv = "code\nTY-IMPORTED-1\nTY-IMPORTED-2\n";
    await page.setInputFiles("input[name=csv]", { name: "codes.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.click("button:text('Import')");
    await page.waitForSelector("#import-status [data-done]", { timeout: 60000 });
    assert.match(await text(page, "#import-status"), /2 voucher\(s\) imported/);
    assert.equal((await call(shop.headers, "GET", "/v1/vouchers/TY-IMPORTED-2")).campaign_id, thanks.id);
    await page.fill("input[name=holder]", "vip-ann");
    await page.click("button:text('Publish')");
    await page.waitForSelector("#publish-status [data-code]");
    const published = await page.locator("#publish-status [data-code]").getAttribute("data-code");
    const wallet = await call(shop.headers, "GET", "/v1/customers/vip-ann/redeemables");
    assert.ok(JSON.stringify(wallet).includes(published), `${published} is not in vip-ann's wallet`);
    await screenshot(page, "codes-imported-published");
    return `published ${published}`;
  });

  await check("codes the pattern has no room for are refused at its field, and no campaign is left behind", async () => {
    await page.click("nav >> text=Campaigns");
    await page.click("text=New coupon campaign");
    await page.fill("input[name=name]", "Too many");
    await page.fill("input[name=count]", "5000");
    await page.fill("input[name=length]", "2");
    await page.selectOption("select[name=charset]", "0123456789");
    await page.fill("input[name=discount-value]", "10");
    await page.click("button:text('Create campaign')");
    await page.waitForSelector("select[name=charset][aria-invalid=true]");
    const id = await page.locator("select[name=charset]").getAttribute("id");
    assert.match(await text(page, `#${id}-error`), /code_config/);
    const r = await fetch(`${URL_}/v1/campaigns/Too%20many`, { headers: shop.headers });
    assert.equal(r.status, 404, "nothing was created");
  });

  await check("a coupon campaign with one generic code shared by every shopper", async () => {
    await page.click("nav >> text=Campaigns");
    await page.click("text=New coupon campaign");
    await page.fill("input[name=name]", "Welcome");
    await page.fill("input[name=generic-code]", "WELCOME10");
    await page.fill("input[name=per-code]", "");
    await page.fill("input[name=discount-value]", "10");
    await page.click("button:text('Create campaign')");
    await page.waitForSelector("h1:text('Welcome')");
    await page.waitForSelector("#codes tr[data-code=WELCOME10]");
    const v = await call(shop.headers, "GET", "/v1/vouchers/WELCOME10");
    assert.equal(v.redemption.quantity, null, "unlimited");
    assert.equal(v.discount.percent_off, 10);
  });

  const qualifying = async (amount) => {
    await page.click("nav >> text=Try a cart");
    await page.fill("input[name=amount]", amount);
    await page.click("#qualify");
    await page.waitForSelector("#try-result h2");
    return page.locator("#qualified tr[data-qualified]").evaluateAll((rows) => rows.map((r) => r.dataset.qualified));
  };
  await check("the try-it cart shows what qualifies", async () => {
    const names = await qualifying("400");
    assert.deepEqual(names.sort(), ["10% over 100", "20% over 300"]);
    await screenshot(page, "try-cart");
  });

  await check("the try-it cart says what almost qualifies and what is missing", async () => {
    await qualifying("50");
    await page.waitForSelector("#near-misses");
    assert.match(await text(page, "#near-misses"), /spend 70\.00 more/);
  });

  await check("a tier switched off leaves qualifications", async () => {
    await page.click("nav >> text=Campaigns");
    await page.waitForSelector("#campaigns tr[data-campaign='Thank you']");
    await page.fill("input[name=q]", "Winter");
    await page.keyboard.press("Enter");
    // the list is drawn again once the page has seen the new address
    await page.waitForFunction(() => document.querySelectorAll("#campaigns tbody tr").length === 1);
    const found = await page.locator("#campaigns tbody tr").getAttribute("data-campaign");
    assert.equal(found, "Winter sale", "the search finds only Winter sale");
    await page.click("#campaigns >> text=Winter sale");
    const row = page.locator(`#tiers tr[data-tier="20% over 300"]`);
    await row.locator("button.tier-switch").click();
    await page.waitForSelector(`#tiers tr[data-tier="20% over 300"] button[aria-pressed=false]`);
    assert.equal(await row.getAttribute("class"), "tier-off");
    await screenshot(page, "tier-off");
    const names = await qualifying("400");
    assert.deepEqual(names, ["10% over 100"]);
  });

  // the checkout redeems through the API
  const firstTier = winter.promotion.tiers[0].id;
  const code = (await call(shop.headers, "GET", `/v1/vouchers?campaign_id=${thanks.id}&limit=1`)).vouchers[0].code;
  const stacked = await call(shop.headers, "POST", "/v1/redemptions", {
    redeemables: [{ object: "voucher", id: code }, { object: "promotion_tier", id: firstTier }],
    order: { amount: 40000 },
    customer: { source_id: "shopper-1" },
  });
  const single = await call(shop.headers, "POST", "/v1/redemptions", {
    redeemables: [{ object: "promotion_tier", id: firstTier }],
    order: { amount: 15000 },
    customer: { source_id: "shopper-2" },
  });
  const toRollBack = single.redemptions[0].id;

  await check("counters show the redemptions", async () => {
    await page.click("nav >> text=Campaigns");
    await page.waitForSelector("#campaigns tr[data-campaign='Winter sale'] [data-counter=redemptions]:text('2')");
    await page.waitForSelector("#campaigns tr[data-campaign='Thank you'] [data-counter=redemptions]:text('1')");
    await page.click("#campaigns >> text=Winter sale");
    await page.waitForSelector("[data-stat=redemptions] .value:text('2')");
    // 10% of 395.00 (after the code's 5.00) and of 150.00
    assert.equal(await text(page, "[data-stat=discount] .value"), "54.50");
    await screenshot(page, "promotion-counters");
  });

  await check("a code's page shows its counters and redemptions", async () => {
    await page.goto(`${URL_}/dashboard#/codes/${encodeURIComponent(code)}`);
    await page.waitForSelector("#code-redemptions tr[data-redemption]");
    assert.equal(await text(page, "[data-stat=redeemed] .value"), "1 / 1");
    await screenshot(page, "code");
    await page.goto(`${URL_}/dashboard#/campaigns/${winter.id}`);
    await page.waitForSelector("[data-stat=redemptions] .value:text('2')");
  });

  await check("analytics chart the redemptions over the window", async () => {
    await page.click("main >> text=Analytics");
    await page.waitForSelector("[data-analytics='Winter sale']");
    assert.equal(await text(page, "[data-analytics='Winter sale'] [data-stat=redemptions] .value"), "2");
    const figures = await call(shop.headers, "GET", `/v1/analytics/series?object_id=${winter.id}`);
    const t = figures.totals;
    const net = t.orders_amount - t.rolled_back_orders_amount - (t.discount_amount - t.rolled_back_discount_amount);
    const revenue = (net / 100).toFixed(2);
    assert.equal(await text(page, "[data-analytics='Winter sale'] [data-stat=revenue] .value"), revenue);
    const total = await page.locator("[data-analytics='Winter sale'] polyline[data-series=redemptions]").getAttribute("data-total");
    assert.equal(total, "2");
    await screenshot(page, "analytics");
  });

  await check("redemptions export to CSV, and the file holds them", async () => {
    await page.click("nav >> text=Redemptions");
    await page.waitForSelector(`#redemptions tr[data-redemption="${toRollBack}"]`);
    await screenshot(page, "redemptions");
    await page.click("#export");
    await page.waitForSelector("#export-download", { timeout: 60000 });
    const href = await page.locator("#export-download").getAttribute("href");
    const csv = await (await fetch(href)).text();
    const ids = [toRollBack, ...stacked.redemptions.map((r) => r.id)];
    for (const id of ids) assert.ok(csv.includes(id), `${id} is not in the export:\n${csv}`);
    const header = csv.split("\n")[0].toLowerCase();
    for (const column of ["campaign", "order amount", "customer source id"]) assert.ok(header.includes(column), header);
    await screenshot(page, "export");
    return `${csv.trim().split("\n").length - 1} rows`;
  });

  await check("a redemption rolled back with a reason", async () => {
    await page.locator(`#redemptions tr[data-redemption="${toRollBack}"] button`).click();
    await page.waitForSelector("#redemption-detail h2");
    await page.fill("#redemption-detail input[name=reason]", "customer returned the goods");
    await page.click("#redemption-detail button:text('Roll back')");
    await page.waitForSelector("#redemptions .badge:text('rollback')");
    const r = await call(shop.headers, "GET", `/v1/redemptions/${toRollBack}`);
    assert.equal(r.status, "ROLLED_BACK");
    await screenshot(page, "rolled-back");
    await page.click("nav >> text=Campaigns");
    await page.click("#campaigns >> text=Winter sale");
    await page.waitForSelector("[data-stat=rollbacks] .value:text('1')");
    assert.equal(await text(page, "[data-stat=discount] .value"), "39.50");
  });

  await check("another project's campaigns never show", async () => {
    await page.click("nav >> text=Campaigns");
    await page.fill("input[name=q]", "Other shop");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#campaigns td:text('No campaigns yet.')");
    await page.goto(`${URL_}/dashboard#/campaigns/${otherCampaign.id}`);
    await page.waitForSelector(".error-box");
    const body = await page.locator("body").innerText();
    assert.ok(!body.includes("Other shop secret sale") && !body.includes("Secret tier"), body);
    await screenshot(page, "other-project");
  });

  await check("the key is in this tab's sessionStorage only: no URL, cookie, localStorage or log line", async () => {
    const storage = await page.evaluate(() => ({ local: localStorage.length, cookie: document.cookie, session: Object.values(sessionStorage).join() }));
    assert.equal(storage.local, 0);
    assert.equal(storage.cookie, "");
    assert.ok(storage.session.includes(shop.key.app_token), "signed in through sessionStorage");
    assert.deepEqual(await context.cookies(), []);
    const leaked = urls.filter((u) => u.includes(shop.key.app_token));
    assert.deepEqual(leaked, []);
    const log = fs.readFileSync(SERVER_LOG, "utf8");
    assert.ok(log.includes("/v1/campaigns"), "the server logged the requests");
    assert.ok(!log.includes(shop.key.app_token), "the token is in the server log");
    return `${urls.length} requests checked`;
  });

  await check("sign-out forgets the key", async () => {
    await page.click("#sign-out");
    await page.waitForSelector("h1:text('Sign in')");
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });

  await check("an operator signs in with the management credential and chooses the project", async () => {
    await page.fill("input[name=management-id]", MANAGEMENT["X-Management-Id"]);
    await page.fill("input[name=management-token]", MANAGEMENT["X-Management-Token"]);
    await page.click("button:text('List projects')");
    await page.click(`#projects button[data-project="${shop.name}"]`);
    await page.waitForSelector("#campaigns tr[data-campaign='Winter sale']");
    assert.match(await text(page, "#project-name"), new RegExp(shop.name));
    const body = await page.locator("body").innerText();
    assert.ok(!body.includes("Other shop secret sale"), "only the chosen project's campaigns");
    await screenshot(page, "operator-campaigns");
    const leaked = urls.filter((u) => u.includes(MANAGEMENT["X-Management-Token"]));
    assert.deepEqual(leaked, []);
    assert.ok(!fs.readFileSync(SERVER_LOG, "utf8").includes(MANAGEMENT["X-Management-Token"]));
    await page.click("#sign-out");
    await page.waitForSelector("h1:text('Sign in')");
  });

  await check("a link followed before signing in is where signing in leads", async () => {
    const fresh = await context.newPage();
    await fresh.goto(`${URL_}/dashboard#/redemptions`);
    await fresh.fill("input[name=app-id]", shop.key.app_id);
    await fresh.fill("input[name=app-token]", shop.key.app_token);
    await fresh.keyboard.press("Enter");
    await fresh.waitForSelector("h1:text('Redemptions')");
    await fresh.click("#sign-out");
    await fresh.close();
  });

  await check("pages fit a phone's width", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await phone.newPage();
    current = p;
    p.on("pageerror", (e) => pageErrors.push(String(e)));
    await p.goto(`${URL_}/dashboard`);
    await p.fill("input[name=app-id]", shop.key.app_id);
    await p.fill("input[name=app-token]", shop.key.app_token);
    await p.keyboard.press("Enter");
    await p.waitForSelector("h1:text('Campaigns')");
    for (const [hash, ready, name] of [
      ["#/campaigns", "#campaigns tbody tr", "phone-campaigns"],
      [`#/campaigns/${winter.id}`, "#tiers", "phone-promotion"],
      ["#/redemptions", "#redemptions tbody tr", "phone-redemptions"],
      ["#/analytics?campaign=Winter%20sale", "[data-analytics]", "phone-analytics"],
      ["#/try", "#qualify", "phone-try"],
    ]) {
      await p.evaluate((h) => (location.hash = h), hash);
      await p.waitForSelector(ready);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      const culprits = await p.evaluate(() =>
        [...document.querySelectorAll("main *")]
          .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`),
      );
      assert.ok(overflow <= 1, `${hash} is ${overflow}px wider than the phone: ${culprits}`);
      await screenshot(p, name);
    }
    await phone.close();
    current = page;
  });

  await check("no page threw, and the console holds only the refusals asked for", async () => {
    assert.deepEqual(pageErrors, []);
    // the wrong key (401), the refused promotion (400) and the other project's campaign (404)
    const unexpected = consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of (400|401|404)/.test(m));
    assert.deepEqual(unexpected, []);
    return `${consoleErrors.length} expected refusals`;
  });

  await browser.close();
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
