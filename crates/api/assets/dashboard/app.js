// The marketer's dashboard: a page that calls the service's public API with the project's
// server key. The key lives in this tab's sessionStorage only (never a URL, a cookie or
// localStorage); every text from the API is written with textContent, never as HTML.
"use strict";

const KEY_SLOT = "promo-dashboard-key";
const main = document.getElementById("main");
const PAGE_SIZE = 20;

// ---------------------------------------------------------------- the API

class ApiFailure extends Error {
  constructor(status, body) {
    const text = typeof body === "object" && body ? [body.message, body.details].filter(Boolean).join(": ") : String(body);
    super(text || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// A refusal of one input, found before anything is sent.
class FieldError extends Error {
  constructor(input, message) {
    super(message);
    this.input = input;
  }
}

function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY_SLOT) || "null");
  } catch {
    return null;
  }
}

// `contentType`: send `body` as it is (a CSV) rather than as JSON.
async function api(method, path, body, key = credentials(), contentType = null) {
  if (!key) throw new ApiFailure(401, { message: "Not signed in" });
  const headers = key.projectId
    ? { "X-Management-Id": key.managementId, "X-Management-Token": key.managementToken, "X-Project-Id": key.projectId }
    : { "X-App-Id": key.appId, "X-App-Token": key.appToken };
  if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : contentType ? body : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: kept as text */
  }
  if (response.status === 401 && key === credentials()) {
    signOut("Your key was refused: sign in again.");
  }
  if (!response.ok) throw new ApiFailure(response.status, data);
  return data;
}

const get = (path) => api("GET", path);
const post = (path, body = {}) => api("POST", path, body);
const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  return append(el, ...children);
}

function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function page(title, ...children) {
  main.replaceChildren(h("h1", {}, title), ...children);
  document.title = `${title} · Promotions dashboard`;
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.textContent = ""), 4000);
}

function errorBox(err) {
  return h("div", { class: "error-box", role: "alert" }, err instanceof Error ? err.message : String(err));
}

const money = (minor) => (minor === null || minor === undefined ? "—" : (Number(minor) / 100).toFixed(2));
const count = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en"));
const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "—");
const minorFrom = (text) => Math.round(parseFloat(String(text).replace(",", ".")) * 100);

function field(labelText, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const error = h("span", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  input.setAttribute("aria-describedby", `${id}-error`);
  return h("label", { for: id }, labelText, input, hint ? h("span", { class: "note" }, hint) : null, error);
}

// The API names the property a refusal concerns ("Property .promotion.tiers[0].name …"): the
// message is shown at the input written to that path, else above the form.
function showErrors(form, err) {
  for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  form.querySelector(".error-box")?.remove();
  const text = err instanceof ApiFailure && err.body && err.body.details ? String(err.body.details) : err.message;
  const inputs = [...form.querySelectorAll("[data-path]")].sort((a, b) => b.dataset.path.length - a.dataset.path.length);
  if (err instanceof FieldError) {
    err.input.setAttribute("aria-invalid", "true");
    document.getElementById(`${err.input.id}-error`).textContent = err.message;
    err.input.focus();
    return;
  }
  const names = (path) => new RegExp(`(^|\\s)\\.${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w.[])`);
  const target = inputs.find((i) => names(i.dataset.path).test(text));
  if (target) {
    target.setAttribute("aria-invalid", "true");
    document.getElementById(`${target.id}-error`).textContent = text;
    target.focus();
  } else {
    form.prepend(errorBox(text));
  }
}

function statusOf(c, now = Date.now()) {
  if (!c.active) return "disabled";
  if (c.start_date && Date.parse(c.start_date) > now) return "scheduled";
  if (c.expiration_date && Date.parse(c.expiration_date) < now) return "expired";
  return "active";
}

// A figure with its label (`key` names it for tests and styles).
const stat = (label, value, key) => h("div", { class: "stat", dataset: { stat: key } }, h("div", { class: "value" }, value), h("div", { class: "label" }, label));

const badge = (status) => h("span", { class: `badge status-${status}`, dataset: { status } }, status);

function describeDiscount(d) {
  if (!d) return "—";
  switch (d.type) {
    case "PERCENT":
      return `${d.percent_off}% off${d.amount_limit ? ` (at most ${money(d.amount_limit)})` : ""}`;
    case "AMOUNT":
      return `${money(d.amount_off)} off`;
    case "FIXED":
      return `fixed price ${money(d.fixed_amount)}`;
    case "UNIT":
      return `${d.unit_off ?? ""} free unit(s)`;
    default:
      return d.type;
  }
}

// ---------------------------------------------------------------- sign-in

function signOut(message) {
  sessionStorage.removeItem(KEY_SLOT);
  location.hash = "#/signin";
  if (message) toast(message);
  route();
}

function signInPage() {
  const appId = h("input", { autocomplete: "off", required: true, spellcheck: "false", name: "app-id" });
  const appToken = h("input", { type: "password", autocomplete: "off", required: true, name: "app-token" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Sign in" },
    h("p", { class: "note" }, "Sign in with a project's server-side key (its app id and token). The key is kept in this tab only and forgotten when the tab closes or you sign out."),
    h("div", { class: "row" }, field("App ID", appId), field("App token", appToken), h("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = { appId: appId.value.trim(), appToken: appToken.value.trim() };
    try {
      await api("GET", "/v1/campaigns?limit=1", undefined, key);
      sessionStorage.setItem(KEY_SLOT, JSON.stringify(key));
      appToken.value = "";
      afterSignIn();
    } catch (err) {
      showErrors(form, err.status === 401 ? new Error("That key was refused: check the app id and token.") : err);
    }
  });
  page("Sign in", form, managementSignIn());
  appId.focus();
}

// Goes where the address pointed before signing in (a bookmark, a reopened tab), else to the
// campaigns.
function afterSignIn() {
  const wanted = location.hash && !location.hash.startsWith("#/signin") ? location.hash : "#/campaigns";
  if (location.hash === wanted) route();
  else location.hash = wanted;
}

// Operators sign in with the management credential and then choose a project; the page then
// calls the API with that credential and the project's id (`X-Project-Id`).
function managementSignIn() {
  const id = h("input", { autocomplete: "off", spellcheck: "false", name: "management-id" });
  const token = h("input", { type: "password", autocomplete: "off", name: "management-token" });
  const projects = h("div", { id: "projects" });
  const form = h(
    "form",
    { class: "card", "aria-label": "Sign in with the management credential" },
    h("p", { class: "note" }, "Or, as the service's operator, sign in with the management credential and choose a project."),
    h("div", { class: "row" }, field("Management ID", id), field("Management token", token), h("button", { type: "submit", class: "secondary" }, "List projects")),
    projects,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const managementId = id.value.trim();
    const managementToken = token.value.trim();
    try {
      const r = await fetch("/management/v1/projects?limit=100", {
        headers: { "X-Management-Id": managementId, "X-Management-Token": managementToken },
        cache: "no-store",
        credentials: "omit",
      });
      const list = await r.json();
      if (!r.ok) throw new ApiFailure(r.status, list);
      const choose = (p) => {
        sessionStorage.setItem(KEY_SLOT, JSON.stringify({ managementId, managementToken, projectId: p.id, projectName: p.name }));
        token.value = "";
        afterSignIn();
      };
      const items = (list.data || list.projects || []).map((p) => h("li", {}, h("button", { type: "button", class: "link", dataset: { project: p.name }, onclick: () => choose(p) }, p.name), ` (${p.id})`));
      projects.replaceChildren(h("h2", {}, "Choose a project"), items.length ? h("ul", {}, items) : h("p", {}, "No projects yet."));
      projects.querySelector("button")?.focus();
    } catch (err) {
      showErrors(form, err.status === 401 ? new Error("That credential was refused.") : err);
    }
  });
  return form;
}

// ---------------------------------------------------------------- campaigns

async function campaignsPage(params) {
  const search = h("input", { type: "search", value: params.get("q") || "", name: "q", placeholder: "Name contains…" });
  const type = h(
    "select",
    { name: "type" },
    h("option", { value: "" }, "All types"),
    h("option", { value: "PROMOTION" }, "Promotions"),
    h("option", { value: "DISCOUNT_COUPONS" }, "Discount coupons"),
  );
  type.value = params.get("type") || "";
  const pageNo = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  const filters = h("form", { class: "row", role: "search" }, field("Search", search), field("Type", type), h("button", { type: "submit", class: "secondary" }, "Search"));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/campaigns${query({ q: search.value.trim(), type: type.value })}`;
  });
  const actions = h(
    "div",
    { class: "row" },
    h("a", { href: "#/campaigns/new/promotion", class: "button" }, "New promotion"),
    h("a", { href: "#/campaigns/new/coupons", class: "button" }, "New coupon campaign"),
  );
  const body = h("tbody");
  const table = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id: "campaigns" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Status"), h("th", { class: "num" }, "Codes"), h("th", { class: "num" }, "Redemptions"), h("th", { class: "num hide-narrow" }, "Discount given"), h("th", { class: "hide-narrow" }, "Created"))),
      body,
    ),
  );
  const pager = h("div", { class: "pager" });
  page("Campaigns", actions, filters, table, pager);
  let list;
  try {
    list = await get(`/v1/campaigns${query({ limit: PAGE_SIZE, page: pageNo, name: params.get("q"), campaign_type: params.get("type") })}`);
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  const now = Date.now();
  for (const c of list.campaigns) {
    const redemptions = h("td", { class: "num", dataset: { counter: "redemptions" } }, "…");
    const discount = h("td", { class: "num hide-narrow" }, "…");
    body.append(
      h(
        "tr",
        { dataset: { campaign: c.name } },
        h("td", {}, h("a", { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name)),
        h("td", {}, c.campaign_type === "PROMOTION" ? "Promotion" : "Coupons"),
        h("td", {}, badge(statusOf(c, now))),
        h("td", { class: "num" }, c.campaign_type === "PROMOTION" ? "—" : count(c.vouchers_count)),
        redemptions,
        discount,
        h("td", { class: "hide-narrow" }, when(c.created_at)),
      ),
    );
    // counters come after the first paint, one summary per row
    get(`/v1/campaigns/${encodeURIComponent(c.id)}/summary`)
      .then((s) => {
        redemptions.textContent = count(s.redemptions_succeeded);
        discount.textContent = money(s.discounted_amount - s.rolledback_discounted_amount);
      })
      .catch(() => {
        redemptions.textContent = "?";
        discount.textContent = "?";
      });
  }
  if (!list.campaigns.length) body.append(h("tr", {}, h("td", { colspan: 7 }, "No campaigns yet.")));
  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  const to = (n) => `#/campaigns${query({ q: params.get("q"), type: params.get("type"), page: n })}`;
  append(
    pager,
    pageNo > 1 ? h("a", { href: to(pageNo - 1) }, "← Newer") : null,
    h("span", { class: "note" }, `Page ${pageNo} of ${pages} · ${count(list.total)} campaign${list.total === 1 ? "" : "s"}`),
    pageNo < pages ? h("a", { href: to(pageNo + 1) }, "Older →") : null,
  );
}

// The rule builder's part of a form: the common conditions, written as the API's validation
// rule objects, with the message a shopper below the minimum would see.
function ruleBuilder(prefix, banner) {
  const minAmount = h("input", { inputmode: "decimal", name: `${prefix}-min-amount`, size: 8, placeholder: "0.00" });
  const minQuantity = h("input", { inputmode: "numeric", name: `${prefix}-min-quantity`, size: 5 });
  const perCustomer = h("input", { inputmode: "numeric", name: `${prefix}-per-customer`, size: 5 });
  const perDay = h("input", { inputmode: "numeric", name: `${prefix}-per-day`, size: 5 });
  const segment = h("input", { name: `${prefix}-segment`, size: 14, placeholder: "seg_…" });
  const channel = h("input", { name: `${prefix}-channel`, size: 10, placeholder: "web, app, POS…" });
  const included = h("input", { name: `${prefix}-products-in`, size: 18, placeholder: "ids or source ids, commas" });
  const excluded = h("input", { name: `${prefix}-products-out`, size: 18, placeholder: "ids or source ids, commas" });
  const collections = h("input", { name: `${prefix}-collections-in`, size: 14, placeholder: "pc_…" });
  const collectionsOut = h("input", { name: `${prefix}-collections-out`, size: 14, placeholder: "pc_…" });
  const metaKey = h("input", { name: `${prefix}-meta-key`, size: 10, placeholder: "key" });
  const metaValue = h("input", { name: `${prefix}-meta-value`, size: 10, placeholder: "value" });
  const metaOf = h("select", { name: `${prefix}-meta-of` }, h("option", { value: "order.metadata" }, "Order metadata"), h("option", { value: "customer.metadata" }, "Customer metadata"));
  const preview = h("p", { class: "spend-more", "aria-live": "polite" });
  const update = () => {
    const m = minorFrom(minAmount.value);
    preview.textContent = m > 0 ? `A shopper at ${money(m - 1000 > 0 ? m - 1000 : 0)} sees: “Spend ${money(Math.min(1000, m))} more to get ${banner() || "this offer"}”` : "";
  };
  minAmount.addEventListener("input", update);
  const el = h(
    "fieldset",
    {},
    h("legend", {}, "Rules (all must hold)"),
    h(
      "div",
      { class: "row" },
      field("Order amount at least", minAmount),
      field("Items at least", minQuantity),
      field("Per customer at most", perCustomer),
      field("Per day at most", perDay),
      field("Customer segment", segment),
      field("Channel", channel),
    ),
    h(
      "div",
      { class: "row" },
      field("Only for products", included),
      field("Never for products", excluded),
      field("Only for collections", collections),
      field("Never for collections", collectionsOut),
      field("Metadata", metaOf),
      field("Key", metaKey),
      field("equals", metaValue),
    ),
    preview,
  );
  // The validation rule these make, or null when none is set.
  const rule = (name) => {
    const conditions = [];
    const number = (input) => {
      if (input.value.trim() === "") return null;
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 1) throw new FieldError(input, "a whole number, 1 or more");
      return n;
    };
    const m0 = minAmount.value.trim();
    if (m0 !== "" && !(minorFrom(m0) > 0)) throw new FieldError(minAmount, "an amount above 0, e.g. 100.00");
    const m = minorFrom(minAmount.value);
    if (m > 0) conditions.push({ name: "order.amount", conditions: { $more_than_or_equal: [m] } });
    if (number(minQuantity)) conditions.push({ name: "order.items.count", conditions: { $more_than_or_equal: [number(minQuantity)] } });
    if (number(perCustomer)) conditions.push({ name: "redemption.count.per_customer", conditions: { $less_than_or_equal: [number(perCustomer)] } });
    if (number(perDay)) conditions.push({ name: "redemption.count.daily", conditions: { $less_than_or_equal: [number(perDay)] } });
    if (segment.value.trim()) conditions.push({ name: "customer.segment", conditions: { $is: [segment.value.trim()] } });
    if (channel.value.trim()) conditions.push({ name: "redemption.channel", conditions: { $is: [channel.value.trim()] } });
    if (metaKey.value.trim()) conditions.push({ name: metaOf.value, property: metaKey.value.trim(), conditions: { $is: [metaValue.value] } });
    const list = (input, object) => input.value.split(",").map((v) => v.trim()).filter(Boolean).map((id) => ({ object, id }));
    const applicable = { included: [...list(included, "product"), ...list(collections, "products_collection")], excluded: [...list(excluded, "product"), ...list(collectionsOut, "products_collection")] };
    const reaches = applicable.included.length || applicable.excluded.length;
    if (!conditions.length && !reaches) return null;
    const body = { name };
    if (conditions.length) {
      body.rules = { logic: conditions.map((_, i) => String(i + 1)).join(" and ") };
      conditions.forEach((c, i) => (body.rules[String(i + 1)] = c));
    }
    if (reaches) body.applicable_to = applicable;
    if (m > 0) body.error = { message: `Spend ${money(m)} or more` };
    return body;
  };
  return { el, rule };
}

// An ISO instant as a datetime-local input's value (the browser's time zone).
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function scheduleFields(existing = {}, prefix = "") {
  const start = h("input", { type: "datetime-local", name: `${prefix}start`, value: localInput(existing.start_date), dataset: { path: `${prefix}start_date` } });
  const end = h("input", { type: "datetime-local", name: `${prefix}end`, value: localInput(existing.expiration_date), dataset: { path: `${prefix}expiration_date` } });
  const el = h("div", { class: "row" }, field("Starts", start, "your browser's time zone"), field("Ends", end));
  const apply = (body) => {
    if (start.value) body.start_date = new Date(start.value).toISOString();
    if (end.value) body.expiration_date = new Date(end.value).toISOString();
  };
  return { el, apply };
}

function discountFields(pathPrefix, existing) {
  const type = h(
    "select",
    { name: "discount-type", dataset: { path: `${pathPrefix}.type` } },
    h("option", { value: "PERCENT" }, "Percent off"),
    h("option", { value: "AMOUNT" }, "Amount off"),
  );
  const value = h("input", { inputmode: "decimal", name: "discount-value", size: 8, required: true });
  const cap = h("input", { inputmode: "decimal", name: "discount-cap", size: 8, dataset: { path: `${pathPrefix}.amount_limit` } });
  const sync = () => {
    value.dataset.path = type.value === "PERCENT" ? `${pathPrefix}.percent_off` : `${pathPrefix}.amount_off`;
    cap.disabled = type.value !== "PERCENT";
  };
  if (existing?.type === "PERCENT") {
    value.value = existing.percent_off ?? "";
    if (existing.amount_limit) cap.value = money(existing.amount_limit);
  } else if (existing?.type === "AMOUNT") {
    type.value = "AMOUNT";
    value.value = money(existing.amount_off);
  }
  type.addEventListener("change", sync);
  sync();
  const el = h("div", { class: "row" }, field("Discount", type), field("Value (% or amount)", value), field("Percent capped at", cap));
  const discount = () => {
    if (type.value === "PERCENT") {
      const d = { type: "PERCENT", percent_off: Number(value.value) };
      if (cap.value.trim()) d.amount_limit = minorFrom(cap.value);
      return d;
    }
    return { type: "AMOUNT", amount_off: minorFrom(value.value) };
  };
  return { el, discount };
}

// Creates the rule the builder made, if any, noting it in `made` (removed again when the
// campaign it was for is refused).
async function createRule(body, made) {
  if (!body) return [];
  const rule = await post("/v1/validation-rules", body);
  made.push(rule.id);
  return [rule.id];
}

function removeRules(made) {
  return Promise.all(made.splice(0).map((id) => api("DELETE", `/v1/validation-rules/${encodeURIComponent(id)}`).catch(() => {})));
}

function newPromotionPage() {
  const name = h("input", { name: "name", required: true, dataset: { path: "name" } });
  const schedule = scheduleFields();
  const tiers = h("div", { id: "tiers" });
  const tierParts = [];
  const addTier = () => {
    const i = tierParts.length;
    const tierName = h("input", { name: `tier-${i}-name`, required: true, dataset: { path: `promotion.tiers[${i}].name` } });
    const banner = h("input", { name: `tier-${i}-banner`, dataset: { path: `promotion.tiers[${i}].banner` } });
    const discount = discountFields(`promotion.tiers[${i}].action.discount`);
    const rules = ruleBuilder(`tier-${i}`, () => banner.value || tierName.value);
    // a tier's own time frame, within the campaign's
    const when = scheduleFields({}, `promotion.tiers[${i}].`);
    tierParts.push({ tierName, banner, discount, rules, when });
    tiers.append(h("fieldset", { class: "tier" }, h("legend", {}, `Tier ${i + 1}`), h("div", { class: "row" }, field("Tier name", tierName), field("Banner", banner)), discount.el, when.el, rules.el));
  };
  addTier();
  const form = h(
    "form",
    { class: "card", "aria-label": "New promotion" },
    h("div", { class: "row" }, field("Campaign name", name)),
    schedule.el,
    h("h2", {}, "Tiers"),
    h("p", { class: "note" }, "The first tier has the highest priority (hierarchy 1); a cart gets the first tier it qualifies for."),
    tiers,
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: addTier }, "Add a tier"), h("button", { type: "submit" }, "Create promotion")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const made = [];
    try {
      const body = { name: name.value.trim(), campaign_type: "PROMOTION", promotion: { tiers: [] } };
      schedule.apply(body);
      for (const [i, t] of tierParts.entries()) {
        const tier = { name: t.tierName.value.trim(), banner: t.banner.value.trim() || t.tierName.value.trim(), hierarchy: i + 1, action: { discount: t.discount.discount() } };
        t.when.apply(tier);
        const rules = await createRule(t.rules.rule(`${body.name} · ${tier.name}`), made);
        if (rules.length) tier.validation_rules = rules;
        body.promotion.tiers.push(tier);
      }
      const c = await post("/v1/campaigns", body);
      toast(`Promotion ${c.name} created`);
      location.hash = `#/campaigns/${encodeURIComponent(c.id)}`;
    } catch (err) {
      await removeRules(made);
      showErrors(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  page("New promotion", form);
  name.focus();
}

function newCouponsPage() {
  const name = h("input", { name: "name", required: true, dataset: { path: "name" } });
  const codes = h("input", { name: "count", inputmode: "numeric", value: "1000", size: 9 });
  const generic = h("input", { name: "generic-code", size: 14, placeholder: "e.g. WELCOME10" });
  const prefix = h("input", { name: "prefix", size: 8, dataset: { path: "voucher.code_config.prefix" } });
  const length = h("input", { name: "length", inputmode: "numeric", value: "8", size: 4, dataset: { path: "voucher.code_config.length" } });
  const pattern = h("input", { name: "pattern", size: 10, placeholder: "e.g. ##-####", dataset: { path: "voucher.code_config.pattern" } });
  const charset = h(
    "select",
    // refusals of the code settings as a whole (too little room for the codes) show here
    { name: "charset", dataset: { path: "voucher.code_config" } },
    h("option", { value: "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" }, "Letters and digits (no look-alikes)"),
    h("option", { value: "0123456789" }, "Digits"),
    h("option", { value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ" }, "Capital letters"),
  );
  const perCode = h("input", { name: "per-code", inputmode: "numeric", value: "1", size: 5, dataset: { path: "voucher.redemption.quantity" } });
  const discount = discountFields("voucher.discount");
  const schedule = scheduleFields();
  const rules = ruleBuilder("campaign", () => name.value);
  const progress = h("div", { id: "generation", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-label": "New coupon campaign" },
    h("div", { class: "row" }, field("Campaign name", name), field("Codes to generate", codes), field("Or one generic code", generic, "shared by every shopper"), field("Redemptions per code (empty: unlimited)", perCode)),
    h("div", { class: "row" }, field("Prefix", prefix), field("Length", length), field("Pattern (# = a character)", pattern), field("Characters", charset)),
    discount.el,
    schedule.el,
    rules.el,
    h("button", { type: "submit" }, "Create campaign"),
    progress,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const made = [];
    let created = false;
    try {
      const config = { length: Number(length.value), charset: charset.value };
      if (prefix.value) config.prefix = prefix.value;
      if (pattern.value.trim()) config.pattern = pattern.value.trim();
      const n = generic.value.trim() ? 0 : parseInt(codes.value, 10) || 0;
      const body = {
        name: name.value.trim(),
        campaign_type: "DISCOUNT_COUPONS",
        type: "AUTO_UPDATE",
        // generated by the create itself: a pattern without room for them is refused before
        // anything is written
        vouchers_count: n,
        voucher: { type: "DISCOUNT_VOUCHER", discount: discount.discount(), code_config: config, redemption: { quantity: Number(perCode.value) || null } },
      };
      schedule.apply(body);
      body.validation_rules = await createRule(rules.rule(`${body.name} · rules`), made);
      const bar = n > 0 ? codesProgress(n, progress) : null;
      const c = await post("/v1/campaigns", body);
      created = true;
      if (generic.value.trim()) {
        try {
          await post(`/v1/campaigns/${encodeURIComponent(c.id)}/vouchers/${encodeURIComponent(generic.value.trim())}`);
        } catch (err) {
          // no half-made campaign: the code was refused, so the campaign goes too
          await api("DELETE", `/v1/campaigns/${encodeURIComponent(c.id)}?force=true`).catch(() => {});
          created = false;
          throw err;
        }
      } else if (bar) {
        await bar.until(c.id);
      }
      location.hash = `#/campaigns/${encodeURIComponent(c.id)}`;
    } catch (err) {
      if (!created) await removeRules(made);
      showErrors(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  page("New coupon campaign", form);
  name.focus();
}

// A campaign's first codes, generated by its create: progress from its summary.
function codesProgress(n, into) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Codes generated" });
  const label = h("span", { class: "note" }, `Generating ${count(n)} codes… 0%`);
  into.replaceChildren(bar, " ", label);
  const until = async (id) => {
    for (;;) {
      const s = await get(`/v1/campaigns/${encodeURIComponent(id)}/summary`);
      const made = s.vouchers_created ?? 0;
      const percent = Math.min(100, Math.floor((made * 100) / n));
      bar.value = percent;
      label.textContent = `Generating ${count(n)} codes… ${percent}%`;
      const status = s.campaign?.vouchers_generation_status;
      if (status === "FAILED") throw new Error("Code generation failed: see the campaign's async action");
      if (status !== "IN_PROGRESS" && made >= n) break;
      await new Promise((r) => setTimeout(r, 400));
    }
    label.textContent = `${count(n)} codes generated`;
    into.dataset.done = "true";
  };
  return { until };
}

// Generates codes as an async action and follows its progress in `into`.
async function generate(campaignId, n, into) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Codes generated" });
  const label = h("span", { class: "note" }, `Generating ${count(n)} codes… 0%`);
  into.replaceChildren(bar, " ", label);
  const started = await post(`/v1/campaigns/${encodeURIComponent(campaignId)}/vouchers${query({ vouchers_count: n })}`);
  const a = await follow(started.async_action_id, into, `Generating ${count(n)} codes…`, bar, label);
  if (a.status !== "DONE") throw new Error(`Code generation failed: ${JSON.stringify(a.result)}`);
  label.textContent = `${count(n)} codes generated`;
  into.dataset.done = "true";
}

// Follows an async action to its end, its progress shown in `bar` and `label` (made in `into`
// when not given); returns the finished action.
async function follow(id, into, what, bar, label) {
  if (!bar) {
    bar = h("progress", { max: 100, value: 0, "aria-label": what });
    label = h("span", { class: "note" }, `${what} 0%`);
    into.replaceChildren(bar, " ", label);
  }
  for (;;) {
    const a = await get(`/v1/async-actions/${encodeURIComponent(id)}`);
    bar.value = a.progress ?? 0;
    label.textContent = `${what} ${a.progress ?? 0}%`;
    if (a.status === "DONE" || a.status === "FAILED") {
      if (a.status === "DONE") bar.value = 100;
      return a;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

async function campaignPage(id) {
  page("Campaign");
  let c;
  try {
    c = await get(`/v1/campaigns/${encodeURIComponent(id)}`);
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  const status = statusOf(c);
  const toggle = h("button", { type: "button", class: "secondary" }, c.active ? "Disable campaign" : "Enable campaign");
  toggle.addEventListener("click", async () => {
    try {
      await post(`/v1/campaigns/${encodeURIComponent(c.id)}/${c.active ? "disable" : "enable"}`);
      toast(c.active ? "Campaign disabled" : "Campaign enabled");
      route();
    } catch (err) {
      main.prepend(errorBox(err));
    }
  });
  const remove = h("button", { type: "button", class: "danger" }, "Delete (to the bin)");
  remove.addEventListener("click", async () => {
    if (!confirm(`Move campaign ${c.name} to the bin?`)) return;
    try {
      await api("DELETE", `/v1/campaigns/${encodeURIComponent(c.id)}`);
      toast(`Campaign ${c.name} moved to the bin`);
      location.hash = "#/campaigns";
    } catch (err) {
      main.prepend(errorBox(err));
    }
  });
  const stats = h("div", { class: "stats", id: "summary" });
  page(
    c.name,
    h("p", {}, badge(status), " ", c.campaign_type === "PROMOTION" ? "Promotion" : "Discount coupons", c.start_date ? ` · from ${when(c.start_date)}` : "", c.expiration_date ? ` · until ${when(c.expiration_date)}` : ""),
    h("div", { class: "row" }, toggle, remove, h("a", { href: `#/analytics${query({ campaign: c.name })}` }, "Analytics"), h("a", { href: `#/redemptions${query({ campaign: c.name })}` }, "Redemptions")),
    h("h2", {}, "Counters"),
    stats,
  );
  get(`/v1/campaigns/${encodeURIComponent(c.id)}/summary`)
    .then((s) => {
      append(
        stats,
        stat("Redemptions", count(s.redemptions_succeeded), "redemptions"),
        stat("Failed redemptions", count(s.redemptions_failed), "failures"),
        stat("Rollbacks", count(s.rollbacks_succeeded), "rollbacks"),
        stat("Validations", count(s.validations), "validations"),
        stat("Orders (net of rollbacks)", money(s.orders_amount - s.orders_rolledback_amount), "orders"),
        stat("Discount given (net of rollbacks)", money(s.discounted_amount - s.rolledback_discounted_amount), "discount"),
        c.campaign_type === "PROMOTION" ? null : stat("Codes", count(s.vouchers_created), "codes"),
      );
    })
    .catch((err) => stats.append(errorBox(err)));
  main.append(editCampaign(c));
  if (c.campaign_type === "PROMOTION") main.append(tiersSection(c));
  else main.append(codesSection(c));
}

// The campaign's own settings: description and schedule (a coupon campaign's discount is each
// code's, set when the codes are made; tiers are edited in their rows).
function editCampaign(c) {
  const description = h("input", { name: "description", size: 40, value: c.description || "", dataset: { path: "description" } });
  const schedule = scheduleFields(c);
  const rules = ruleBuilder("edit", () => c.name);
  const form = h(
    "form",
    { class: "card", "aria-label": "Edit campaign" },
    h("div", { class: "row" }, field("Description", description)),
    schedule.el,
    currentRules(c.validation_rules_assignments),
    rules.el,
    h("button", { type: "submit", class: "secondary" }, "Save changes"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {};
    if (description.value.trim() !== (c.description || "")) body.description = description.value.trim();
    schedule.apply(body);
    try {
      await replaceRules(rules.rule(`${c.name} · rules`), c.validation_rules_assignments, { campaign: c.id });
      await api("PUT", `/v1/campaigns/${encodeURIComponent(c.id)}`, body);
      toast("Campaign saved");
      route();
    } catch (err) {
      showErrors(form, err);
    }
  });
  return h("details", {}, h("summary", {}, "Edit the campaign"), form);
}

// The rules an object has now, named (the builder below replaces them when it sets any).
function currentRules(assignments) {
  const ids = (assignments?.data || []).map((a) => a.rule_id);
  const line = h("p", { class: "note" }, ids.length ? `Rules now: ${ids.join(", ")} — rules set below replace them.` : "No rules now: rules set below apply from now on.");
  for (const [i, id] of ids.entries()) {
    get(`/v1/validation-rules/${encodeURIComponent(id)}`)
      .then((r) => (ids[i] = `“${r.name}”`, (line.textContent = `Rules now: ${ids.join(", ")} — rules set below replace them.`)))
      .catch(() => {});
  }
  return line;
}

// Puts the rule the builder made in place of the object's current ones (`target`: the
// assignment's `{campaign}` or `{promotion_tier}`); nothing when the builder set none.
async function replaceRules(body, assignments, target) {
  if (!body) return;
  const made = [];
  const [rule] = await createRule(body, made);
  const old = assignments?.data || [];
  try {
    for (const a of old) await api("DELETE", `/v1/validation-rules/${encodeURIComponent(a.rule_id)}/assignments/${encodeURIComponent(a.id)}`);
    await post(`/v1/validation-rules/${encodeURIComponent(rule)}/assignments`, target);
  } catch (err) {
    // put back what was there
    for (const a of old) await post(`/v1/validation-rules/${encodeURIComponent(a.rule_id)}/assignments`, target).catch(() => {});
    await removeRules(made);
    throw err;
  }
}

// A tier's name, banner and discount, edited in place.
function editTier(t, row) {
  const name = h("input", { name: "tier-name", value: t.name, dataset: { path: "name" } });
  const banner = h("input", { name: "tier-banner", value: t.banner || "", dataset: { path: "banner" } });
  const d = t.action?.discount;
  const editable = !d || d.type === "PERCENT" || d.type === "AMOUNT";
  const discount = discountFields("action.discount", d);
  const rules = ruleBuilder(`edit-tier`, () => banner.value || name.value);
  const form = h(
    "form",
    { "aria-label": `Edit tier ${t.name}` },
    h("div", { class: "row" }, field("Tier name", name), field("Banner", banner)),
    editable ? discount.el : h("p", { class: "note" }, `A ${d.type} discount is edited through the API.`),
    currentRules(t.validation_rule_assignments),
    rules.el,
    h("button", { type: "submit" }, "Save tier"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), banner: banner.value.trim() };
    if (editable) body.action = { discount: discount.discount() };
    try {
      await replaceRules(rules.rule(`${t.name} · rules`), t.validation_rule_assignments, { promotion_tier: t.id });
      await api("PUT", `/v1/promotions/tiers/${encodeURIComponent(t.id)}`, body);
      toast(`Tier ${body.name} saved`);
      route();
    } catch (err) {
      showErrors(form, err);
    }
  });
  const cell = h("td", { colspan: 7 }, form);
  row.after(h("tr", { class: "tier-edit" }, cell));
  name.focus();
}

function tiersSection(c) {
  const body = h("tbody");
  for (const t of c.promotion?.tiers || []) {
    const row = h("tr", { class: t.active ? "tier-on" : "tier-off", dataset: { tier: t.name } });
    const sw = h("button", { type: "button", class: "tier-switch", "aria-pressed": String(t.active), "aria-label": `Tier ${t.name} enabled` }, t.active ? "On" : "Off");
    sw.addEventListener("click", async () => {
      // not disabled while it works: a disabled button would drop the keyboard's focus
      if (sw.getAttribute("aria-busy") === "true") return;
      const on = sw.getAttribute("aria-pressed") !== "true";
      sw.setAttribute("aria-busy", "true");
      try {
        await post(`/v1/promotions/tiers/${encodeURIComponent(t.id)}/${on ? "enable" : "disable"}`);
        sw.setAttribute("aria-pressed", String(on));
        sw.textContent = on ? "On" : "Off";
        row.className = on ? "tier-on" : "tier-off";
        toast(`Tier ${t.name} switched ${on ? "on" : "off"}`);
      } catch (err) {
        main.prepend(errorBox(err));
      } finally {
        sw.removeAttribute("aria-busy");
      }
    });
    const edit = h("button", { type: "button", class: "link", "aria-label": `Edit tier ${t.name}` }, "Edit");
    edit.addEventListener("click", () => {
      if (row.nextElementSibling?.classList.contains("tier-edit")) row.nextElementSibling.remove();
      else editTier(t, row);
    });
    append(row, h("td", {}, String(t.hierarchy)), h("td", {}, t.name), h("td", {}, t.banner || ""), h("td", {}, describeDiscount(t.action?.discount)), h("td", { class: "num" }, count(t.summary?.redemptions?.total_redeemed)), h("td", {}, sw), h("td", {}, edit));
    body.append(row);
  }
  return h(
    "section",
    {},
    h("h2", {}, "Tiers"),
    h("div", { class: "table-wrap" }, h("table", { id: "tiers" }, h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Tier"), h("th", {}, "Banner"), h("th", {}, "Discount"), h("th", { class: "num" }, "Redeemed"), h("th", {}, "Enabled"), h("th", {}, h("span", { class: "visually-hidden" }, "Edit")))), body)),
  );
}

function codesSection(c) {
  const body = h("tbody");
  const search = h("input", { type: "search", name: "code", placeholder: "Exact code" });
  const more = h("input", { inputmode: "numeric", name: "more", size: 8, value: "100" });
  const progress = h("div", { id: "generation", "aria-live": "polite" });
  const show = (vouchers) => {
    body.replaceChildren(
      ...vouchers.map((v) =>
        h(
          "tr",
          { dataset: { code: v.code } },
          h("td", {}, h("a", { href: `#/codes/${encodeURIComponent(v.code)}` }, h("code", {}, v.code))),
          h("td", {}, v.active === false ? "disabled" : "active"),
          h("td", { class: "num" }, `${count(v.redemption?.redeemed_quantity ?? 0)} / ${v.redemption?.quantity ?? "∞"}`),
          h("td", { class: "hide-narrow" }, v.holder_id || "—"),
          h("td", { class: "hide-narrow" }, when(v.expiration_date)),
        ),
      ),
    );
    if (!vouchers.length) body.append(h("tr", {}, h("td", { colspan: 5 }, "No codes found.")));
  };
  let codesPage = 1;
  const pager = h("div", { class: "pager" });
  const load = () =>
    get(`/v1/vouchers${query({ campaign_id: c.id, limit: PAGE_SIZE, page: codesPage })}`)
      .then((l) => {
        show(l.vouchers);
        const pages = Math.max(1, Math.ceil(l.total / PAGE_SIZE));
        const to = (n, label) => h("button", { type: "button", class: "link", onclick: () => ((codesPage = n), load()) }, label);
        pager.replaceChildren(codesPage > 1 ? to(codesPage - 1, "← Previous") : "", h("span", { class: "note" }, `Page ${codesPage} of ${count(pages)} · ${count(l.total)} codes`), codesPage < pages ? to(codesPage + 1, "Next →") : "");
        // the counters above follow what the list now holds
        const figure = document.querySelector("[data-stat=codes] .value");
        if (figure) figure.textContent = count(l.total);
      })
      .catch((err) => body.replaceChildren(h("tr", {}, h("td", { colspan: 5 }, err.message))));
  const find = h("form", { class: "row", role: "search" }, field("Find a code", search), h("button", { type: "submit", class: "secondary" }, "Find"));
  find.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!search.value.trim()) return load();
    try {
      const v = await get(`/v1/vouchers/${encodeURIComponent(search.value.trim())}`);
      show(v.campaign_id === c.id ? [v] : []);
    } catch (err) {
      if (err.status === 404) show([]);
      else body.replaceChildren(h("tr", {}, h("td", { colspan: 5 }, err.message)));
    }
  });
  const gen = h("form", { class: "row" }, field("Generate more codes", more), h("button", { type: "submit", class: "secondary" }, "Generate"), progress);
  const file = h("input", { type: "file", name: "csv", accept: ".csv,text/csv" });
  const imported = h("div", { id: "import-status", "aria-live": "polite" });
  const importer = h("form", { class: "row" }, field("Import codes (CSV with a code column)", file), h("button", { type: "submit", class: "secondary" }, "Import"), imported);
  importer.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!file.files[0]) return file.focus();
    try {
      const started = await api("POST", `/v1/campaigns/${encodeURIComponent(c.id)}/importCSV`, await file.files[0].text(), credentials(), "text/csv");
      const done = await follow(started.async_action_id, imported, "Importing");
      const r = done.result || {};
      // all rows or none: a refused import says which rows and why
      const rows = (r.errors || []).slice(0, 5).map((e) => h("li", {}, typeof e === "string" ? e : [e.row !== undefined ? `row ${e.row}` : null, e.code, e.message || e.error].filter(Boolean).join(": ") || JSON.stringify(e)));
      imported.replaceChildren();
      append(imported, h("span", { class: "note", dataset: { done: "true" } }, r.message || done.status), rows.length ? h("ul", {}, rows) : null);
      load();
    } catch (err) {
      showErrors(importer, err);
    }
  });
  const holder = h("input", { name: "holder", size: 16, placeholder: "customer source id" });
  const published = h("div", { id: "publish-status", "aria-live": "polite" });
  const publisher = h("form", { class: "row" }, field("Publish a code to", holder), h("button", { type: "submit", class: "secondary" }, "Publish"), published);
  publisher.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!holder.value.trim()) return holder.focus();
    try {
      const p = await post("/v1/publications", { campaign: { name: c.name, count: 1 }, customer: { source_id: holder.value.trim() } });
      published.replaceChildren(h("span", { dataset: { code: p.vouchers[0] } }, `Published `, h("code", {}, p.vouchers[0]), ` to ${holder.value.trim()}`));
      load();
    } catch (err) {
      showErrors(publisher, err);
    }
  });
  gen.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await generate(c.id, parseInt(more.value, 10) || 0, progress);
      load();
    } catch (err) {
      progress.replaceChildren(errorBox(err));
    }
  });
  load();
  return h(
    "section",
    {},
    h("h2", {}, "Codes"),
    h("div", { class: "row" }, find, gen),
    h("div", { class: "row" }, importer, publisher),
    pager,
    h("div", { class: "table-wrap" }, h("table", { id: "codes" }, h("thead", {}, h("tr", {}, h("th", {}, "Code"), h("th", {}, "State"), h("th", { class: "num" }, "Redeemed"), h("th", { class: "hide-narrow" }, "Holder"), h("th", { class: "hide-narrow" }, "Expires"))), body)),
  );
}

// One code: its counters, its holder, its redemptions.
async function codePage(code) {
  page(code);
  let v;
  try {
    v = await get(`/v1/vouchers/${encodeURIComponent(code)}`);
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  const toggle = h("button", { type: "button", class: "secondary" }, v.active === false ? "Enable code" : "Disable code");
  toggle.addEventListener("click", async () => {
    try {
      await post(`/v1/vouchers/${encodeURIComponent(v.code)}/${v.active === false ? "enable" : "disable"}`);
      route();
    } catch (err) {
      main.prepend(errorBox(err));
    }
  });
  const body = h("tbody");
  page(
    v.code,
    h("p", {}, v.campaign ? h("a", { href: `#/campaigns/${encodeURIComponent(v.campaign_id)}` }, v.campaign) : "Standalone code", ` · ${describeDiscount(v.discount)}`, v.expiration_date ? ` · expires ${when(v.expiration_date)}` : ""),
    h(
      "div",
      { class: "stats" },
      stat("Redeemed", `${count(v.redemption?.redeemed_quantity ?? 0)} / ${v.redemption?.quantity ?? "∞"}`, "redeemed"),
      stat("State", v.active === false ? "disabled" : "active", "state"),
      stat("Holder", v.holder_id || "nobody", "holder"),
      stat("Published", count(v.publish?.count ?? 0), "published"),
    ),
    h("div", { class: "row", style: "margin-top:12px" }, toggle),
    h("h2", {}, "Redemptions"),
    h("div", { class: "table-wrap" }, h("table", { id: "code-redemptions" }, h("thead", {}, h("tr", {}, h("th", {}, "Date"), h("th", {}, "Customer"), h("th", { class: "num" }, "Order"), h("th", { class: "num" }, "Discount"), h("th", {}, "Result"))), body)),
  );
  if (v.holder_id) {
    get(`/v1/customers/${encodeURIComponent(v.holder_id)}`)
      .then((h) => (document.querySelector("[data-stat=holder] .value").textContent = h.source_id || h.name || v.holder_id))
      .catch(() => {});
  }
  try {
    const list = await get(`/v1/redemptions${query({ voucher_code: v.code, limit: 50 })}`);
    for (const r of list.redemptions) {
      body.append(h("tr", { dataset: { redemption: r.id } }, h("td", {}, h("a", { href: `#/redemptions${query({ code: v.code })}` }, when(r.date))), h("td", {}, r.customer?.source_id || "—"), h("td", { class: "num" }, money(r.order?.amount)), h("td", { class: "num" }, money(r.order?.total_applied_discount_amount)), h("td", {}, h("span", { class: `badge result-${r.result}` }, r.object === "redemption_rollback" ? "rollback" : r.result))));
    }
    if (!list.redemptions.length) body.append(h("tr", {}, h("td", { colspan: 5 }, "Not redeemed yet.")));
  } catch (err) {
    main.append(errorBox(err));
  }
}

// ---------------------------------------------------------------- redemptions

async function redemptionsPage(params) {
  const result = h("select", { name: "result" }, h("option", { value: "" }, "Any result"), h("option", { value: "SUCCESS" }, "Success"), h("option", { value: "FAILURE" }, "Failure"));
  result.value = params.get("result") || "";
  const campaign = h("input", { name: "campaign", value: params.get("campaign") || "", size: 14 });
  const customer = h("input", { name: "customer", value: params.get("customer") || "", size: 14 });
  const code = h("input", { name: "code", value: params.get("code") || "", size: 12 });
  const from = h("input", { type: "date", name: "from", value: params.get("from") || "" });
  const to = h("input", { type: "date", name: "to", value: params.get("to") || "" });
  const filters = h("form", { class: "row card", role: "search" }, field("Result", result), field("Campaign", campaign), field("Customer", customer), field("Code", code), field("From", from), field("To", to), h("button", { type: "submit", class: "secondary" }, "Filter"));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/redemptions${query({ result: result.value, campaign: campaign.value.trim(), customer: customer.value.trim(), code: code.value.trim(), from: from.value, to: to.value })}`;
  });
  const exportButton = h("button", { type: "button", class: "secondary", id: "export" }, "Export CSV");
  const exportStatus = h("div", { id: "export-status", "aria-live": "polite" });
  exportButton.addEventListener("click", () => exportRedemptions(params, exportStatus));
  const body = h("tbody");
  const detail = h("div", { id: "redemption-detail" });
  page(
    "Redemptions",
    filters,
    h("div", { class: "row" }, exportButton, exportStatus),
    h("div", { class: "table-wrap" }, h("table", { id: "redemptions" }, h("thead", {}, h("tr", {}, h("th", {}, "Date"), h("th", {}, "Code or tier"), h("th", { class: "hide-narrow" }, "Campaign"), h("th", {}, "Customer"), h("th", { class: "num" }, "Order"), h("th", { class: "num" }, "Discount"), h("th", {}, "Result"))), body)),
    detail,
  );
  const q = {
    limit: 50,
    result: params.get("result"),
    campaign: params.get("campaign"),
    customer: params.get("customer"),
    voucher_code: params.get("code"),
    "created_at[after]": params.get("from") ? new Date(`${params.get("from")}T00:00:00`).toISOString() : null,
    "created_at[before]": params.get("to") ? new Date(`${params.get("to")}T23:59:59.999`).toISOString() : null,
  };
  let list;
  try {
    list = await get(`/v1/redemptions${query(q)}`);
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  for (const r of list.redemptions) {
    const open = h("button", { type: "button", class: "link" }, when(r.date));
    open.addEventListener("click", () => showRedemption(r.id, detail));
    const what = r.related_object_type === "redemption" ? "stacked redemption" : r.voucher?.code || r.promotion_tier?.name || r.related_object_id || "—";
    const campaignCell = h("td", { class: "hide-narrow" }, r.voucher?.campaign || "—");
    const tierCampaign = r.promotion_tier?.campaign?.id;
    if (tierCampaign) campaignName(tierCampaign).then((n) => (campaignCell.textContent = n));
    const kind = r.object === "redemption_rollback" ? "rollback" : r.status === "ROLLED_BACK" ? "rolled back" : r.result;
    body.append(
      h(
        "tr",
        { dataset: { redemption: r.id } },
        h("td", {}, open),
        h("td", {}, what),
        campaignCell,
        h("td", {}, r.customer?.source_id || r.customer?.name || "—"),
        h("td", { class: "num" }, money(r.order?.amount)),
        // what this redemption gave (a stacked one's: all of its parts)
        h("td", { class: "num" }, money(r.order?.total_applied_discount_amount)),
        h("td", {}, h("span", { class: `badge result-${kind === "rolled back" ? "ROLLED_BACK" : r.result}` }, kind)),
      ),
    );
  }
  if (!list.redemptions.length) body.append(h("tr", {}, h("td", { colspan: 7 }, "No redemptions match.")));
}

// Campaign names by id, read once per page load (tiers in redemptions name only the id).
const campaignNames = new Map();
function campaignName(id) {
  if (!campaignNames.has(id)) campaignNames.set(id, get(`/v1/campaigns/${encodeURIComponent(id)}`).then((c) => c.name, () => "?"));
  return campaignNames.get(id);
}

async function showRedemption(id, into) {
  into.replaceChildren(h("p", { class: "note" }, "Loading…"));
  let r;
  try {
    r = await get(`/v1/redemptions/${encodeURIComponent(id)}`);
  } catch (err) {
    into.replaceChildren(errorBox(err));
    return;
  }
  const o = r.order || {};
  const items = (o.items || []).map((i) =>
    h("tr", {}, h("td", {}, i.product?.name || i.product_id || i.sku_id || i.source_id || "—"), h("td", { class: "num" }, count(i.quantity)), h("td", { class: "num" }, money(i.amount)), h("td", { class: "num" }, money(i.discount_amount)), h("td", { class: "num" }, money(i.subtotal_amount))),
  );
  const reason = h("input", { name: "reason", size: 30, placeholder: "e.g. order cancelled" });
  const rollback = h("form", { class: "row" }, field("Reason", reason), h("button", { type: "submit", class: "danger" }, "Roll back"));
  rollback.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const rb = await post(`/v1/redemptions/${encodeURIComponent(r.id)}/rollback${query({ reason: reason.value.trim() })}`);
      toast(`Rolled back (${rb.id})`);
      route();
    } catch (err) {
      showErrors(rollback, err);
    }
  });
  const canRollBack = r.object === "redemption" && r.result === "SUCCESS" && r.status !== "ROLLED_BACK";
  into.replaceChildren(
    h(
      "section",
      { class: "card", "aria-label": "Redemption" },
      h("h2", {}, `Redemption ${r.id}`),
      h("p", {}, `${when(r.date)} · ${r.result}${r.status ? ` · ${r.status}` : ""}${r.failure_code ? ` · ${r.failure_code}: ${r.failure_message || ""}` : ""}`),
      h("div", { class: "stats" }, ...[["Order amount", money(o.amount)], ["Discount", money(o.total_applied_discount_amount)], ["Total paid", money(o.total_amount)]].map(([l, v]) => h("div", { class: "stat" }, h("div", { class: "value" }, v), h("div", { class: "label" }, l)))),
      items.length ? h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", { class: "num" }, "Qty"), h("th", { class: "num" }, "Amount"), h("th", { class: "num" }, "Discount"), h("th", { class: "num" }, "Subtotal"))), h("tbody", {}, items))) : null,
      canRollBack ? rollback : null,
    ),
  );
  // the keyboard goes on from the detail, not from the row that opened it
  const heading = into.querySelector("h2");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

async function exportRedemptions(params, into) {
  const filters = {};
  if (params.get("result")) filters.result = { conditions: { $in: [params.get("result")] } };
  if (params.get("campaign")) filters.campaign = { conditions: { $in: [params.get("campaign")] } };
  const bar = h("progress", { "aria-label": "Export" });
  into.replaceChildren(bar, " ", h("span", { class: "note" }, "Exporting…"));
  try {
    // what a marketer reads: the code or tier, its campaign, who, how much, and how it ended
    const fields = ["id", "object", "date", "voucher_code", "campaign", "promotion_tier_id", "customer_source_id", "customer_name", "order_id", "order_amount", "result", "failure_code", "failure_message"];
    const body = { exported_object: "redemption", parameters: { order: "-created_at", fields } };
    if (Object.keys(filters).length) body.parameters.filters = filters;
    let e = await post("/v1/exports", body);
    while (e.status !== "DONE" && e.status !== "ERROR") {
      await new Promise((r) => setTimeout(r, 400));
      e = await get(`/v1/exports/${encodeURIComponent(e.id)}`);
    }
    if (e.status === "ERROR") throw new Error(`The export failed: ${JSON.stringify(e.result)}`);
    const link = h("a", { href: e.result.url, id: "export-download", download: `redemptions-${e.id}.csv`, rel: "noreferrer" }, "Download CSV");
    into.replaceChildren(link, " ", h("span", { class: "note" }, "(the link works for an hour)"));
    link.focus();
  } catch (err) {
    into.replaceChildren(errorBox(err));
  }
}

// ---------------------------------------------------------------- analytics

const SERIES = [
  ["validations", "Validations", "#2952cc"],
  ["redemptions", "Redemptions", "#17803d"],
  ["rollbacks", "Rollbacks", "#b42318"],
  ["redemptions_failed", "Failed", "#8a5a00"],
];

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

async function analyticsPage(params) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400000);
  const campaigns = h("input", { name: "campaigns", value: params.get("campaign") || "", size: 30, placeholder: "Name, or names separated by commas" });
  const from = h("input", { type: "date", name: "from", value: params.get("from") || isoDay(monthAgo) });
  const to = h("input", { type: "date", name: "to", value: params.get("to") || isoDay(today) });
  const form = h("form", { class: "row card" }, field("Campaigns (compare up to 20)", campaigns), field("From", from), field("To", to), h("button", { type: "submit", class: "secondary" }, "Show"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/analytics${query({ campaign: campaigns.value.trim(), from: from.value, to: to.value })}`;
  });
  page("Analytics", form);
  const names = (params.get("campaign") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (!names.length) {
    main.append(h("p", { class: "note" }, "Name a campaign to see its orders, validations, redemptions and rollbacks over time (days in the project's time zone)."));
    return;
  }
  let data;
  try {
    data = await get(`/v1/analytics/campaigns${query({ campaigns: names.join(","), start_date: from.value, end_date: to.value })}`);
  } catch (err) {
    main.append(errorBox(err));
    return;
  }
  main.append(h("p", { class: "note" }, `${data.start_date} to ${data.end_date}, by ${data.interval}, time zone ${data.time_zone}`));
  for (const c of data.campaigns) {
    const t = c.totals;
    main.append(
      h(
        "section",
        { class: "card", dataset: { analytics: c.name } },
        h("h2", {}, c.name),
        h(
          "div",
          { class: "stats" },
          stat("Validations", count(t.validations), "validations"),
          stat("Redemptions", count(t.redemptions), "redemptions"),
          stat("Rollbacks", count(t.rollbacks), "rollbacks"),
          stat("Failed redemptions", count(t.redemptions_failed), "failures"),
          // net of rollbacks, as the campaign's counters
          stat("Revenue (net of rollbacks)", money(t.orders_amount - t.rolled_back_orders_amount - (t.discount_amount - t.rolled_back_discount_amount)), "revenue"),
          stat("Discount cost (net of rollbacks)", money(t.discount_amount - t.rolled_back_discount_amount), "discount"),
          stat("Average order", money(t.average_order_amount), "average"),
          stat("New customers", count(t.new_customers), "new-customers"),
        ),
        lineChart(c.data, SERIES, `Validations, redemptions and rollbacks of ${c.name}`),
        lineChart(c.data, [["orders_amount", "Orders (amount)", "#2952cc"], ["discount_amount", "Discount", "#b42318"]], `Orders and discount of ${c.name}`, money),
      ),
    );
  }
  main.append(await failureReasons(names));
}

// Why redemptions failed: the latest failures, counted by their code.
async function failureReasons(names) {
  const section = h("section", { class: "card" }, h("h2", {}, "Failure reasons (latest 100 failures)"));
  try {
    const counts = new Map();
    for (const name of names) {
      const list = await get(`/v1/redemptions${query({ result: "FAILURE", campaign: name, limit: 100 })}`);
      for (const r of list.redemptions) counts.set(r.failure_code || "unknown", (counts.get(r.failure_code || "unknown") || 0) + 1);
    }
    if (!counts.size) section.append(h("p", { class: "note" }, "No failed redemptions."));
    else section.append(h("table", {}, h("tbody", {}, [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, count(n)))))));
  } catch (err) {
    section.append(errorBox(err));
  }
  return section;
}

// An SVG line chart of `series` ([key, label, colour]) over `rows` (each with `period`).
function lineChart(rows, series, title, format = count) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs = {}) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  };
  const W = 720, H = 220, L = 56, R = 10, T = 10, B = 28;
  const max = Math.max(1, ...rows.flatMap((r) => series.map(([k]) => Number(r[k]) || 0)));
  const x = (i) => L + (rows.length <= 1 ? 0 : (i * (W - L - R)) / (rows.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title });
  const t = svg("title");
  t.textContent = title;
  chart.append(t);
  // a middle line only where it is a whole number of what is counted
  for (const f of format === count && max % 2 ? [0, 1] : [0, 0.5, 1]) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), stroke: "#e3e7ee" }));
    const label = svg("text", { x: L - 6, y: y(max * f) + 4, "text-anchor": "end" });
    label.textContent = format(Math.round(max * f));
    chart.append(label);
  }
  const step = Math.max(1, Math.ceil(rows.length / 6));
  rows.forEach((r, i) => {
    if (i % step) return;
    const label = svg("text", { x: x(i), y: H - 8, "text-anchor": "middle" });
    label.textContent = String(r.period).slice(5, 16);
    chart.append(label);
  });
  for (const [key, , colour] of series) {
    const points = rows.map((r, i) => `${x(i).toFixed(1)},${y(Number(r[key]) || 0).toFixed(1)}`).join(" ");
    const total = rows.reduce((s, r) => s + (Number(r[key]) || 0), 0);
    chart.append(svg("polyline", { points, fill: "none", stroke: colour, "stroke-width": 2, "data-series": key, "data-total": total }));
  }
  const legend = h("div", { class: "legend" }, series.map(([key, label, colour]) => h("span", { style: `--swatch:${colour}` }, `${label}: ${format(rows.reduce((s, r) => s + (Number(r[key]) || 0), 0))}`)));
  return h("figure", { style: "margin:12px 0" }, chart, legend);
}

// ---------------------------------------------------------------- try a cart

function tryPage() {
  const lines = h("tbody");
  const addLine = (product = "", quantity = "1", price = "") => {
    const row = h("tr", {}, h("td", {}, h("input", { name: "product", value: product, size: 14, "aria-label": "Product id or source id" })), h("td", {}, h("input", { name: "quantity", value: quantity, size: 4, inputmode: "numeric", "aria-label": "Quantity" })), h("td", {}, h("input", { name: "price", value: price, size: 8, inputmode: "decimal", "aria-label": "Unit price" })));
    lines.append(row);
  };
  addLine();
  const amount = h("input", { name: "amount", inputmode: "decimal", size: 9, placeholder: "items' sum" });
  const customer = h("input", { name: "customer", size: 14, placeholder: "source id" });
  const code = h("input", { name: "code", size: 14 });
  const out = h("div", { id: "try-result", "aria-live": "polite" });
  const order = () => {
    const items = [...lines.children]
      .map((row) => {
        const [p, q, pr] = row.querySelectorAll("input");
        if (!p.value.trim()) return null;
        const item = { source_id: p.value.trim(), related_object: "product", quantity: parseInt(q.value, 10) || 1 };
        if (p.value.startsWith("prod_")) {
          delete item.source_id;
          delete item.related_object;
          item.product_id = p.value.trim();
        }
        if (pr.value.trim()) item.price = minorFrom(pr.value);
        return item;
      })
      .filter(Boolean);
    const o = { items };
    if (amount.value.trim()) o.amount = minorFrom(amount.value);
    return o;
  };
  const body = () => {
    const b = { order: order() };
    if (customer.value.trim()) b.customer = { source_id: customer.value.trim() };
    return b;
  };
  const qualify = h("button", { type: "button", id: "qualify" }, "What qualifies?");
  qualify.addEventListener("click", async () => {
    out.replaceChildren(h("p", { class: "note" }, "Asking…"));
    try {
      const q = await post("/v1/qualifications", { ...body(), scenario: "ALL", options: { limit: 50 } });
      const rows = q.redeemables.data.map((r) =>
        h("tr", { dataset: { qualified: r.name || r.id } }, h("td", {}, r.object === "promotion_tier" ? "tier" : r.object), h("td", {}, r.name || r.id), h("td", {}, r.banner || r.campaign_name || ""), h("td", { class: "num" }, money(r.order?.total_applied_discount_amount ?? r.order?.total_discount_amount))),
      );
      // what almost qualified, and what is missing (the message a shopper would see)
      const near = (q.near_misses || []).map((m) =>
        h("li", { dataset: { nearMiss: m.name || m.id } }, h("strong", {}, m.banner || m.name || m.id), ": ", (m.missing || []).map((x) => [x.message, x.missing?.metric === "order.amount" && x.missing.needed ? ` (spend ${money(x.missing.needed)} more)` : x.missing?.text ? ` (${x.missing.text})` : ""].join("")).join("; ")),
      );
      out.replaceChildren(h("h2", {}, `${q.redeemables.total} qualify`), rows.length ? h("div", { class: "table-wrap" }, h("table", { id: "qualified" }, h("thead", {}, h("tr", {}, h("th", {}, "Kind"), h("th", {}, "Name"), h("th", {}, "Banner or campaign"), h("th", { class: "num" }, "Discount"))), h("tbody", {}, rows))) : h("p", {}, "Nothing qualifies for this cart."));
      if (near.length) out.append(h("h2", {}, "Almost"), h("ul", { id: "near-misses" }, near));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  const check = h("button", { type: "button", class: "secondary", id: "check-code" }, "Check the code");
  check.addEventListener("click", async () => {
    if (!code.value.trim()) return code.focus();
    out.replaceChildren(h("p", { class: "note" }, "Asking…"));
    try {
      const v = await post("/v1/validations", { ...body(), redeemables: [{ object: "voucher", id: code.value.trim() }] });
      const applicable = v.redeemables?.[0];
      if (v.valid && applicable) {
        out.replaceChildren(h("p", { class: "badge result-SUCCESS", id: "code-verdict" }, `Valid: ${money(v.order?.total_applied_discount_amount ?? v.order?.total_discount_amount)} off`), h("p", {}, `Total to pay: ${money(v.order?.total_amount)}`));
      } else {
        const r = v.inapplicable_redeemables?.[0] || v.skipped_redeemables?.[0];
        const e = r?.result?.error || {};
        // the rule's own message and what is missing, else the error's
        const failures = (r?.result?.failures || []).map((f) => `${f.message || f.key}${f.missing?.metric === "order.amount" && f.missing.needed ? ` (spend ${money(f.missing.needed)} more)` : ""}`);
        const why = failures.length ? failures.join("; ") : e.error?.message || r?.result?.details?.message || e.message || e.key || "No reason given";
        out.replaceChildren(h("p", { class: "badge result-FAILURE", id: "code-verdict" }, "Not valid"), h("p", { id: "code-reason" }, why), e.key ? h("p", { class: "note" }, e.key) : "");
      }
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  page(
    "Try a cart",
    h(
      "form",
      { class: "card", "aria-label": "Cart" },
      h("p", { class: "note" }, "Build a cart as your checkout would send it: a product's id (prod_…) or source id, the quantity and the unit price."),
      h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Product"), h("th", {}, "Qty"), h("th", {}, "Price"))), lines)),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => addLine() }, "Add a line"), field("Order amount", amount), field("Customer", customer), field("Code", code)),
      h("div", { class: "row", style: "margin-top:12px" }, qualify, check),
    ),
    out,
  );
}

// ---------------------------------------------------------------- routing

async function route() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(search);
  const signedIn = Boolean(credentials());
  document.getElementById("nav").hidden = !signedIn;
  for (const a of document.querySelectorAll("#nav a")) {
    if (path.startsWith(a.getAttribute("href").slice(1))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const who = document.getElementById("project-name");
  who.textContent = credentials()?.projectName ? `Project: ${credentials().projectName}` : "";
  if (!signedIn) return signInPage();
  const parts = path.split("/").filter(Boolean);
  try {
    if (parts[0] === "campaigns" && parts[1] === "new" && parts[2] === "promotion") return newPromotionPage();
    if (parts[0] === "campaigns" && parts[1] === "new") return newCouponsPage();
    if (parts[0] === "campaigns" && parts[1]) return await campaignPage(decodeURIComponent(parts[1]));
    if (parts[0] === "codes" && parts[1]) return await codePage(decodeURIComponent(parts[1]));
    if (parts[0] === "redemptions") return await redemptionsPage(params);
    if (parts[0] === "analytics") return await analyticsPage(params);
    if (parts[0] === "try") return tryPage();
    return await campaignsPage(params);
  } catch (err) {
    main.append(errorBox(err));
  } finally {
    // a page that focused one of its fields keeps it; otherwise the keyboard starts at the page
    if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }
}

document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out"));
window.addEventListener("hashchange", route);
route();
