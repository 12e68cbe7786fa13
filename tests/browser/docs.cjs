// The API documentation page works offline: headless Chromium opens the service's /docs with
// every request to another origin aborted (and every other host name unresolvable), and the
// page must render the OpenAPI document (its info.title and an operation's summary) from the
// renderer the service serves itself under /docs/assets/, with no page errors and without even
// trying to reach another host. The assets the page references are then fetched directly: 200,
// a JavaScript (or CSS) content type and a Cache-Control header.
// Prints one line per check and `N passed, N failed`; exits non-zero on any failure. The
// screenshot goes to $ARTIFACTS/docs-offline.png (default target/browser-artifacts).
// Started by tests/browser/run.sh once the service is up; standalone:
//   PROMO_URL=http://127.0.0.1:8080 BROWSER_NODE_MODULES=target/browser-node/node_modules \
//     node tests/browser/docs.cjs
// (or with playwright-core resolvable through NODE_PATH instead of BROWSER_NODE_MODULES)
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const PROMO_URL = (process.env.PROMO_URL || "").replace(/\/+$/, "");
if (!PROMO_URL) {
  console.log("FAIL  PROMO_URL is not set (the service's base URL, e.g. http://127.0.0.1:18381)");
  process.exit(1);
}
const ORIGIN = new URL(PROMO_URL).origin;
const { chromium } = process.env.BROWSER_NODE_MODULES
  ? require(path.join(path.resolve(process.env.BROWSER_NODE_MODULES), "playwright-core"))
  : require("playwright-core");
const ARTIFACTS = process.env.ARTIFACTS || path.join(__dirname, "..", "..", "target", "browser-artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const VERBOSE = !!process.env.BROWSER_VERBOSE;
const RENDER_TIMEOUT_MS = 20000;
// Requests to other hosts the page can live without: tolerated (and reported) rather than failed.
// Redoc's sidebar logo "API docs by Redocly" comes from its CDN; the vendored bundle is patched
// not to load it (crates/api/assets/README.md), so this only shows after an unpatched refresh.
const LIVE_WITHOUT = [/^https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini\.svg$/];

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

/** Whether a request URL goes over the network to somewhere other than the service. */
function foreign(url) {
  if (/^(data|blob|about):/i.test(url)) return false; // never leaves the page
  try {
    return new URL(url).origin !== ORIGIN;
  } catch {
    return true;
  }
}
const tolerated = (url) => LIVE_WITHOUT.some((re) => re.test(url));

/** An operation summary Redoc shows as plain text: one line, no Markdown, not too long. */
function pickSummary(spec) {
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  for (const item of Object.values(spec.paths || {})) {
    for (const m of methods) {
      const s = item && item[m] && item[m].summary;
      if (typeof s === "string" && s.trim() && s.length <= 120 && !/[\n`*_[\]<>#|\\]/.test(s)) return s.trim();
    }
  }
  return null;
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  // What the page must show, from the document the service serves.
  const specResponse = await fetch(`${PROMO_URL}/openapi.json`);
  assert.equal(specResponse.status, 200, `GET /openapi.json answered ${specResponse.status}`);
  const spec = await specResponse.json();
  const title = spec.info && spec.info.title;
  assert.ok(title, "the OpenAPI document has no info.title");
  const summary = pickSummary(spec);
  assert.ok(summary, "no operation in the OpenAPI document has a plain one-line summary");

  const attempted = []; // {url, resourceType, tolerated}
  const errors = []; // {type, text, url}
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // a second fence behind the routing below: every name but the loopback ones fails to resolve
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ],
    timeout: 60000,
  });
  try {
    console.log(`browser: ${CHROMIUM} ${browser.version()}`);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (!foreign(url)) return route.continue();
      attempted.push({ url, resourceType: route.request().resourceType(), tolerated: tolerated(url) });
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.setDefaultTimeout(RENDER_TIMEOUT_MS);
    page.on("console", (m) => {
      if (VERBOSE) console.log(`   [console.${m.type()}] ${m.text()}`);
      if (m.type() === "error") errors.push({ type: "console.error", text: m.text(), url: m.location().url });
    });
    page.on("pageerror", (e) => errors.push({ type: "pageerror", text: String(e && e.stack ? e.stack : e) }));
    page.on("request", (r) => {
      if (VERBOSE) console.log(`   [request] ${r.method()} ${r.url().slice(0, 200)}`);
    });
    page.on("requestfailed", (r) => {
      if (VERBOSE) console.log(`   [requestfailed] ${r.url().slice(0, 200)} ${r.failure() && r.failure().errorText}`);
    });
    const responses = []; // same-origin answers of 400 and above
    page.on("response", (r) => {
      if (r.status() >= 400) responses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });

    try {
      await check("docs: /docs renders the OpenAPI document offline (info.title and an operation summary)", async () => {
        const started = Date.now();
        const answer = await page.goto(`${PROMO_URL}/docs`, { waitUntil: "load", timeout: RENDER_TIMEOUT_MS });
        assert.ok(answer, "no answer for /docs");
        assert.equal(answer.status(), 200, `GET /docs answered ${answer.status()}`);
        assert.match(answer.headers()["content-type"] || "", /^text\/html\b/i, "the /docs content type");
        const left = () => Math.max(1000, RENDER_TIMEOUT_MS - (Date.now() - started));
        for (const [what, text] of [["info.title", title], ["the operation summary", summary]]) {
          try {
            await page.getByText(text).filter({ visible: true }).first().waitFor({ state: "visible", timeout: left() });
          } catch (e) {
            throw new Error(`${what} ${JSON.stringify(text)} not visible within ${RENDER_TIMEOUT_MS / 1000} s of opening /docs (${e.message.split("\n")[0]})`);
          }
        }
        const ms = Date.now() - started;
        // let late requests (images, fonts, workers) show themselves before the verdicts below
        await page.waitForLoadState("networkidle", { timeout: 5000 }).catch(() => {});
        await page.waitForTimeout(500);
        return `${JSON.stringify(title)} and ${JSON.stringify(summary)} visible after ${ms} ms`;
      });
    } finally {
      try {
        await page.screenshot({ path: path.join(ARTIFACTS, "docs-offline.png") });
      } catch (e) {
        console.log(`(screenshot docs-offline failed: ${e.message})`);
      }
    }

    await check("docs: the page tried to reach no other host", async () => {
      const hard = attempted.filter((a) => !a.tolerated);
      const soft = attempted.filter((a) => a.tolerated);
      const list = (as) => as.map((a) => `${a.resourceType} ${a.url}`).join("\n      ");
      if (hard.length) throw new Error(`${hard.length} request(s) to other hosts (aborted):\n      ${list(hard)}`);
      if (soft.length) return `only ${soft.length} the page lives without (aborted):\n      ${list(soft)}`;
      return `no request left ${ORIGIN}`;
    });

    await check("docs: no page errors, console errors or failed same-origin loads", async () => {
      // an aborted request the page lives without logs "Failed to load resource"; nothing else may
      const unexpected = errors.filter((e) => !(e.type === "console.error" && e.url && tolerated(e.url)));
      const lines = unexpected.map((e) => `${e.type}: ${e.text}${e.url ? ` (${e.url})` : ""}`).concat(responses);
      if (lines.length) throw new Error(`${lines.length}:\n      ${lines.join("\n      ")}`);
      return "none";
    });

    await check("docs: the page loads its renderer from /docs/assets/ only", async () => {
      const refs = await page.evaluate(() =>
        [...document.querySelectorAll("script[src], link[href], img[src], iframe[src]")].map((e) => e.src || e.href),
      );
      const outside = refs.filter((u) => foreign(u) || !new URL(u).pathname.startsWith("/docs/assets/"));
      if (outside.length) throw new Error(`references outside ${ORIGIN}/docs/assets/:\n      ${outside.join("\n      ")}`);
      const scripts = refs.filter((u) => /\.js$/i.test(new URL(u).pathname));
      assert.ok(scripts.length >= 1, `no script under /docs/assets/ (references: ${JSON.stringify(refs)})`);
      return refs.map((u) => new URL(u).pathname).join(", ");
    });

    await check("docs: the assets are served with a JavaScript/CSS type and Cache-Control", async () => {
      const html = await (await fetch(`${PROMO_URL}/docs`)).text();
      assert.ok(!html.includes("$spec"), "the page still has the $spec placeholder");
      const paths = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)]
        .map((m) => new URL(m[1], `${PROMO_URL}/docs`))
        .filter((u) => u.origin === ORIGIN && u.pathname.startsWith("/docs/assets/"))
        .map((u) => u.pathname);
      assert.ok(paths.some((p) => /\.js$/i.test(p)), `the page references no script under /docs/assets/`);
      const seen = [];
      for (const p of [...new Set(paths)]) {
        const r = await fetch(PROMO_URL + p);
        const body = Buffer.from(await r.arrayBuffer());
        const type = r.headers.get("content-type") || "";
        const cache = r.headers.get("cache-control");
        assert.equal(r.status, 200, `GET ${p} answered ${r.status}`);
        const want = /\.css$/i.test(p) ? /^text\/css\b/i : /^(text|application)\/(javascript|ecmascript)\b/i;
        assert.match(type, want, `GET ${p}: content-type ${JSON.stringify(type)}`);
        assert.ok(cache, `GET ${p}: no Cache-Control header`);
        assert.ok(body.length > 0, `GET ${p}: empty body`);
        seen.push(`${p} (${body.length} bytes, ${type}, cache-control: ${cache})`);
      }
      const missing = await fetch(`${PROMO_URL}/docs/assets/no-such-file.js`);
      assert.equal(missing.status, 404, `GET /docs/assets/no-such-file.js answered ${missing.status}`);
      return seen.join("; ");
    });
    await context.close();
  } finally {
    await browser.close().catch(() => {});
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`docs: ${results.length - failed} passed, ${failed} failed (screenshot: ${path.join(ARTIFACTS, "docs-offline.png")})`);
  return failed;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.log(`FAIL  interrupted by ${signal}`);
    process.exit(1); // Playwright kills its browser on exit
  });
}
const watchdog = setTimeout(() => {
  console.log("FAIL  the docs check took longer than its bound");
  process.exit(1);
}, Number(process.env.DOCS_TIMEOUT_MS || 90000));
watchdog.unref();

main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (e) => {
    console.log(`FAIL  docs check aborted: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
