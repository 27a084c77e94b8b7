/* Admin console, Webhooks tab: the account's endpoints (URL, event types), the signing
   secret shown once (at creation and rotation) with a copy button, and each endpoint's
   delivery log with response codes and "Send again". Talks to webhook-svc (/api/webhook).
   `mountWebhooks(panel, call, toast)`: `call(path, options)` is the console's authenticated
   api() bound to /api/webhook. Every text goes in as text (dom.js `h`), never as HTML. */

import { announce, copyText, h, replace } from "../assets/dom.js";

const PAGE = 25;

function ensureStylesheet() {
  const href = new URL("./webhooks.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}

function statusBadge(endpoint) {
  if (endpoint.enabled) return h("span", { class: endpoint.failure_streak ? "badge warn" : "badge ok" }, endpoint.failure_streak ? `Failing (${endpoint.failure_streak})` : "Enabled");
  return h("span", { class: "badge danger" }, endpoint.disabled_reason === "failures" ? "Disabled after failures" : "Disabled");
}

/* Why an endpoint disabled after failures stopped receiving, and what brings it back. */
function disabledNotice(endpoint) {
  if (endpoint.enabled || endpoint.disabled_reason !== "failures") return null;
  const since = endpoint.failing_since ? ` since ${when(endpoint.failing_since)}` : "";
  return h("div", { class: "webhook-disabled", role: "note" },
    h("strong", {}, "Deliveries stopped. "),
    `Disabled after ${endpoint.failure_streak} failed deliveries in a row${since}`,
    endpoint.last_error ? `; the last one got: ${endpoint.last_error}.` : ".",
    " Fix the receiver, then choose Enable; given-up deliveries can be sent again from Deliveries.");
}

const DELIVERY_BADGE = { delivered: "badge ok", pending: "badge warn", failed: "badge danger" };

export function mountWebhooks(panel, call, toast) {
  ensureStylesheet();
  const state = { endpoints: [], types: [], open: null, offset: 0 };
  const error = h("p", { class: "form-error", role: "alert" });
  const secretBox = h("div", { class: "card webhook-secret", hidden: true });
  const form = h("form", { class: "card stack", hidden: true, novalidate: true });
  const table = h("tbody");
  const log = h("div", { class: "card stack", hidden: true });
  const add = h("button", { type: "button", onclick: () => { form.hidden = !form.hidden; if (!form.hidden) form.url.focus(); } }, "Add endpoint");
  replace(panel,
    h("div", { class: "row" }, h("h1", {}, "Webhooks"), add),
    h("p", { class: "muted" }, "Your account's request and chat events, POSTed as signed CloudEvents (Standard Webhooks signatures) to HTTPS endpoints of your systems."),
    error, secretBox, form,
    h("div", { class: "card table-wrap" }, h("table", { "aria-label": "Webhook endpoints" },
      h("thead", {}, h("tr", {}, ["URL", "Status", "Events", "Actions"].map((t) => h("th", { scope: "col" }, t)))), table)),
    log);

  function showSecret(secret, note) {
    const value = h("input", { class: "mono", readOnly: true, value: secret, "aria-label": "Signing secret", size: "50" });
    replace(secretBox,
      h("p", {}, h("strong", {}, "Signing secret — shown only now. "), note),
      h("div", { class: "row" }, value,
        h("button", { type: "button", class: "small", onclick: async () => toast((await copyText(secret, value)) ? "Secret copied." : "Select the secret and copy it.") }, "Copy"),
        h("button", { type: "button", class: "quiet small", onclick: () => { secretBox.hidden = true; } }, "Done")));
    secretBox.hidden = false;
    value.focus();
  }

  function renderForm() {
    const checks = state.types.map((type) => h("label", { class: "webhook-check" },
      h("input", { type: "checkbox", name: "event_types", value: type, checked: true }), ` ${type}`));
    const formError = h("p", { class: "form-error", role: "alert" });
    replace(form,
      h("h2", {}, "New endpoint"),
      h("label", { class: "field" }, h("span", {}, "URL (https://)"), h("input", { name: "url", type: "url", required: true, maxlength: "2048", placeholder: "https://crm.example.com/hooks/assistline" })),
      h("label", { class: "field" }, h("span", {}, "Description"), h("input", { name: "description", maxlength: "200" })),
      h("fieldset", { class: "webhook-types" }, h("legend", {}, "Events to send"), checks),
      formError,
      h("div", { class: "row" }, h("button", { type: "submit" }, "Register endpoint")));
    form.onsubmit = async (event) => {
      event.preventDefault();
      const body = {
        url: form.url.value.trim(),
        description: form.description.value.trim(),
        event_types: [...form.querySelectorAll('input[name="event_types"]:checked')].map((c) => c.value),
      };
      try {
        const created = await call("/endpoints", { method: "POST", body });
        form.reset();
        form.hidden = true;
        formError.textContent = "";
        showSecret(created.secret, "Your receiver verifies each delivery's webhook-signature with it.");
        await load();
      } catch (problem) {
        formError.textContent = problem.message;
      }
    };
  }

  async function act(label, fn) {
    try { await fn(); } catch (problem) { toast(`${label}: ${problem.message}`, "error"); }
  }

  function renderEndpoints() {
    const rows = state.endpoints.map((e) => h("tr", {},
      h("td", {}, h("div", { class: "mono webhook-url" }, e.url), e.description ? h("div", { class: "small muted" }, e.description) : null,
        e.last_error && !disabledNotice(e) ? h("div", { class: "small muted" }, `Last error: ${e.last_error}`) : null,
        disabledNotice(e)),
      h("td", {}, statusBadge(e)),
      h("td", { class: "small" }, `${e.event_types.length} type${e.event_types.length === 1 ? "" : "s"}`),
      h("td", {}, h("div", { class: "webhook-actions" },
        h("button", { type: "button", class: "small", onclick: () => openLog(e, 0) }, "Deliveries"),
        h("button", { type: "button", class: "quiet small", onclick: () => act("Rotate", async () => {
          const rotated = await call(`/endpoints/${encodeURIComponent(e.endpoint_id)}/rotate-secret`, { method: "POST" });
          showSecret(rotated.secret, `The previous secret also signs until ${when(rotated.previous_valid_until)}.`);
          await load();
        }) }, "Rotate secret"),
        h("button", { type: "button", class: e.enabled ? "quiet small" : "small", "aria-label": `${e.enabled ? "Disable" : "Enable"} ${e.url}`, onclick: () => act("Update", async () => {
          await call(`/endpoints/${encodeURIComponent(e.endpoint_id)}`, { method: "PATCH", body: { enabled: !e.enabled } });
          announce(e.enabled ? "Endpoint disabled." : "Endpoint enabled.");
          await load();
        }) }, e.enabled ? "Disable" : "Enable"),
        h("button", { type: "button", class: "danger small", onclick: () => act("Delete", async () => {
          if (!confirm(`Delete the endpoint ${e.url} and its delivery log?`)) return;
          await call(`/endpoints/${encodeURIComponent(e.endpoint_id)}`, { method: "DELETE" });
          if (state.open?.endpoint_id === e.endpoint_id) log.hidden = true;
          await load();
        }) }, "Delete")))));
    replace(table, rows.length ? rows : h("tr", {}, h("td", { colspan: "4", class: "empty" }, "No endpoint yet: add one to receive your account's events.")));
  }

  async function openLog(endpoint, offset) {
    state.open = endpoint;
    state.offset = offset;
    const path = `/endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries?limit=${PAGE}&offset=${offset}`;
    let page;
    try { page = await call(path); } catch (problem) { toast(problem.message, "error"); return; }
    const rows = page.deliveries.map((d) => h("tr", {},
      h("td", { class: "small" }, when(d.last_attempt_at || d.created_at)),
      h("td", {}, d.event_type, h("div", { class: "small muted mono" }, d.event_id)),
      h("td", {}, h("span", { class: DELIVERY_BADGE[d.status] || "badge" }, d.status)),
      h("td", { class: "small" }, String(d.attempts)),
      h("td", { class: "mono" }, d.last_status_code == null ? "—" : String(d.last_status_code)),
      h("td", { class: "small" }, d.last_error || ""),
      h("td", {}, d.status === "pending" ? null : h("button", { type: "button", class: "small", onclick: () => act("Send again", async () => {
        await call(`/endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries/${encodeURIComponent(d.delivery_id)}/resend`, { method: "POST" });
        toast("Queued to be sent again.");
        await openLog(endpoint, state.offset);
      }) }, "Send again"))));
    replace(log,
      h("div", { class: "row" }, h("h2", {}, "Delivery log"), h("span", { class: "mono small" }, endpoint.url),
        h("button", { type: "button", class: "quiet small", onclick: () => openLog(endpoint, state.offset) }, "Refresh")),
      h("div", { class: "table-wrap" }, h("table", { "aria-label": "Deliveries" },
        h("thead", {}, h("tr", {}, ["Time", "Event", "Status", "Attempts", "Response", "Error", ""].map((t) => h("th", { scope: "col" }, t || h("span", { class: "sr-only" }, "Actions"))))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "7", class: "empty" }, "Nothing delivered yet."))))),
      h("div", { class: "row" },
        offset > 0 ? h("button", { type: "button", class: "quiet small", onclick: () => openLog(endpoint, Math.max(0, offset - PAGE)) }, "Newer") : h("span"),
        page.next_offset != null ? h("button", { type: "button", class: "quiet small", onclick: () => openLog(endpoint, page.next_offset) }, "Older") : null));
    log.hidden = false;
  }

  async function load() {
    try {
      if (!state.types.length) {
        state.types = (await call("/event-types")).event_types;
        renderForm();
      }
      state.endpoints = (await call("/endpoints")).endpoints;
      error.textContent = "";
      renderEndpoints();
    } catch (problem) {
      error.textContent = `Webhooks could not be loaded: ${problem.message}`;
    }
  }

  return load();
}

