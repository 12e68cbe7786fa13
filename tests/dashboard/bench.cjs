// Dashboard first-paint benchmark (not a test), started by scripts/dashboard-bench.sh: in
// headless Chromium, signed in through sessionStorage, times (median of RUNS, fresh page each):
//  - the campaigns page: first contentful paint, the first page of the table drawn, and every
//    row's counters filled;
//  - analytics of the campaign holding the redemptions over its window.
// Prints one JSON line of figures (milliseconds from navigation start).
const path = require("node:path");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const { chromium } = require(path.join(env("DASHBOARD_NODE_MODULES"), "playwright-core"));
const URL_ = env("PROMO_URL");
const KEY = { appId: env("APP_ID"), appToken: env("APP_TOKEN") };
const CAMPAIGN = env("CAMPAIGN");
const FROM = env("FROM");
const TO = env("TO");
const RUNS = Number(process.env.RUNS || 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((key) => sessionStorage.setItem("promo-dashboard-key", JSON.stringify(key)), KEY);
  const figures = { campaigns_fcp: [], campaigns_table: [], campaigns_counters: [], analytics_drawn: [] };
  for (let run = 0; run < RUNS + 1; run++) {
    const page = await context.newPage();
    await page.goto(`${URL_}/dashboard#/campaigns`);
    await page.waitForFunction(() => document.querySelectorAll("#campaigns tbody tr").length === 20, null, { timeout: 60000 });
    const table = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => ![...document.querySelectorAll("[data-counter=redemptions]")].some((c) => c.textContent === "…"), null, { timeout: 60000 });
    const counters = await page.evaluate(() => performance.now());
    const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN);
    await page.close();
    // a page of its own: its clock starts at its own navigation
    const charts = await context.newPage();
    await charts.goto(`${URL_}/dashboard#/analytics?campaign=${encodeURIComponent(CAMPAIGN)}&from=${FROM}&to=${TO}`);
    await charts.waitForSelector("[data-analytics] polyline[data-series=redemptions]", { state: "attached", timeout: 60000 });
    const analytics = await charts.evaluate(() => performance.now());
    const total = await charts.locator("[data-analytics] [data-stat=redemptions] .value").innerText();
    await charts.close();
    if (run === 0) {
      console.error(`warm-up run; analytics shows ${total} redemptions`);
      continue; // the first run warms the server's caches and the browser's
    }
    figures.campaigns_fcp.push(fcp);
    figures.campaigns_table.push(table);
    figures.campaigns_counters.push(counters);
    figures.analytics_drawn.push(analytics);
  }
  await browser.close();
  const out = {};
  for (const [k, v] of Object.entries(figures)) out[k] = Math.round(median(v));
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
