/* Admin console: companies, technicians and their company access, portals and their code. */

import { StaffAuth, fieldErrors, signInStaff, staffSession } from "../assets/api.js";
import { $, announce, copyText, h, replace, trackTopbar } from "../assets/dom.js";
import { mountCompanies } from "./companies.js";
import { confirmAction } from "./confirm.js";
import { plainFieldMessage, sentence } from "./forms.js";
import { companyPicker, mountTechnicians } from "./technicians.js";
import { hoursEditor } from "./hours.js";
import { mountWebhooks } from "./webhooks.js";
import { mountRoster } from "./roster.js";
import { mountSupervisors } from "./supervisors.js";

const STORE = "assistline:admin";
const TYPES = {
  web: [["smart_box", "SmartBox — the customer describes the problem"], ["smart_button", "SmartButton — one “Contact a technician” button"], ["smart_match", "SmartMatch — the customer picks a technician"]],
  phone: [["smart_pin", "SmartPin — connection code read out on the phone"]],
  queue: [["smart_box", "SmartBox — requests wait in a queue"]],
};
const MODES = [["web", "Web"], ["phone", "Phone"], ["queue", "Queue"]];
const TYPE_NAMES = { smart_box: "SmartBox", smart_button: "SmartButton", smart_match: "SmartMatch", smart_pin: "SmartPin" };
const PORTAL_FIELDS = {
  subdomain_taken: "subdomain", invalid_subdomain: "subdomain", company_has_portal: "company_id",
  company_not_found: "company_id", unknown_company: "company_id", invalid_portal_type: "portal_type", invalid_origin: "allowed_origins",
};
const TECH_FIELDS = { email_taken: "email", unknown_company: "company_ids", company_not_found: "company_ids" };

const state = { me: null, companies: [], technicians: [], portals: [] };

function toast(text, kind = "") {
  const item = h("div", { class: `toast ${kind} fade-in`, role: kind === "error" ? "alert" : "status" }, text);
  $("#toasts").append(item);
  setTimeout(() => item.remove(), 6000);
}

/* The signed-in admin's tokens, refreshed silently; a refused refresh signs them out. */
const auth = new StaffAuth(STORE, {
  onSignedOut: (message) => signOut(message),
  onRefreshed: (me) => { state.me = me; },
});

function authed(path, options = {}) {
  return auth.call(`/api/portal${path}`, options).catch((error) => {
    if (error.status === 401) signOut("Your session expired; please sign in again.");
    throw error;
  });
}

function companyName(id) {
  return state.companies.find((c) => c.company_id === id)?.name || "Deleted company";
}

const views = { companies: null, technicians: null };

/* A labelled control with its own error line, so server errors land next to the field. */
function field(name, label, control, hint) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  control.id = id;
  if (!control.name) control.name = name;
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id }, h("span", {}, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null)),
    control,
    h("p", { class: "field-error", id: `${id}-error` }));
}

function showErrors(form, error, codes, generalBox) {
  const errors = error ? fieldErrors(error, codes) : {};
  let first = null;
  for (const wrapper of form.querySelectorAll("[data-field]")) {
    const message = plainFieldMessage(wrapper.dataset.field, errors[wrapper.dataset.field]);
    wrapper.querySelector(".field-error").textContent = message;
    const control = wrapper.querySelector("input, select, textarea");
    if (control && wrapper.tagName !== "FIELDSET") control.setAttribute("aria-invalid", message ? "true" : "false");
    if (message && !first) first = control;
  }
  if (generalBox) generalBox.textContent = error && !first ? sentence(error.message) : "";
  if (first) first.focus();
}

/* ---------- sign-in ---------- */

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const me = await signInStaff({
    email: form.email.value.trim(),
    password: form.password.value,
    role: "admin",
    wrongRole: "The admin console is for admins. Technicians use the help center at /help; supervisors, the dashboard at /dashboard.",
    store: STORE,
    errorBox: $("#signin-error"),
  });
  if (me) {
    form.reset();
    start(me);
  }
}

function signOut(message) {
  auth.end();
  state.me = null;
  $("#app").hidden = true;
  $("#tools").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      $(`#${other.getAttribute("aria-controls")}`).hidden = !on;
    }
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i + tabs.length - 1) % tabs.length] : null;
      if (next) { e.preventDefault(); next.focus(); select(next); }
    });
  }
}

async function loadAll() {
  const [companies, technicians, portals] = await Promise.all([authed("/companies"), authed("/technicians"), authed("/portals")]);
  state.companies = companies;
  state.technicians = technicians;
  state.portals = portals;
  renderPortals();
  await Promise.all([views.companies?.refresh(), views.technicians?.refresh()]);
}

/* ---------- portals ---------- */

function renderPortals() {
  const rows = state.portals.map((p) => h("tr", { dataset: { subdomain: p.subdomain } },
    h("td", { dataset: { label: "Subdomain" } }, h("a", { href: p.url, target: "_blank", rel: "noopener" }, p.subdomain)),
    h("td", { dataset: { label: "Company" } }, companyName(p.company_id)),
    h("td", { dataset: { label: "Status" } }, h("span", { class: `badge ${p.status === "active" ? "ok" : "off"}` }, p.status === "active" ? "Active" : "Inactive")),
    h("td", { dataset: { label: "Mode and type" } }, `${MODES.find(([m]) => m === p.mode)?.[1] || p.mode} · ${TYPE_NAMES[p.portal_type] || p.portal_type}`),
    h("td", { class: "row-actions" }, h("div", { class: "actions" },
      h("button", { type: "button", class: "small secondary", onclick: () => editPortal(p) }, "Edit"),
      h("button", { type: "button", class: "small secondary", onclick: () => toggleStatus(p) }, p.status === "active" ? "Deactivate" : "Activate"),
      h("button", { type: "button", class: "small", onclick: () => showCode(p) }, "Show URLs and code")))));
  replace($("#portals-table tbody"), rows.length ? rows : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No portal yet: add one for a company.")));
}

function editPortal(portal) {
  const editor = $("#portal-editor");
  const creating = !portal;
  const company = h("select", { disabled: !creating },
    state.companies
      .filter((c) => !creating || !state.portals.some((p) => p.company_id === c.company_id))
      .map((c) => h("option", { value: c.company_id }, c.name)));
  if (!creating) replace(company, h("option", { value: portal.company_id }, companyName(portal.company_id)));
  const subdomain = h("input", { maxlength: "63", autocomplete: "off", spellcheck: "false", value: portal?.subdomain || "" });
  const status = h("select", {}, h("option", { value: "active" }, "Active"), h("option", { value: "inactive" }, "Inactive"));
  status.value = portal?.status || "active";
  const mode = h("select", {}, MODES.map(([v, l]) => h("option", { value: v }, l)));
  mode.value = portal?.mode || "web";
  const type = h("select", {});
  const fillTypes = () => {
    const keep = type.value || portal?.portal_type;
    replace(type, TYPES[mode.value].map(([v, l]) => h("option", { value: v }, l)));
    if (TYPES[mode.value].some(([v]) => v === keep)) type.value = keep;
  };
  mode.addEventListener("change", fillTypes);
  fillTypes();
  const origins = h("textarea", { rows: "2", placeholder: "https://www.example.com" });
  origins.value = (portal?.allowed_origins || []).join("\n");
  const general = h("p", { class: "form-error", role: "alert" });
  const hours = hoursEditor(portal);
  const form = h("form", { class: "grid-form", novalidate: true },
    field("company_id", "Company", company),
    field("subdomain", "Subdomain", subdomain, "(unique, e.g. globex)"),
    field("status", "Status", status),
    field("mode", "Connection mode", mode),
    field("portal_type", "Portal type", type),
    h("div", { class: "wide" }, field("allowed_origins", "Sites allowed to embed it", origins, "(one per line, optional)")),
    hours.element,
    h("div", { class: "wide" }, general,
      h("div", { class: "actions" },
        h("button", { type: "submit" }, creating ? "Create portal" : "Save changes"),
        h("button", { type: "button", class: "quiet", onclick: () => { editor.hidden = true; $("#add-portal").focus(); } }, "Cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {
      subdomain: subdomain.value.trim().toLowerCase(),
      status: status.value,
      mode: mode.value,
      portal_type: type.value,
      allowed_origins: origins.value.split(/\s+/).map((s) => s.trim()).filter(Boolean),
    };
    try {
      Object.assign(values, hours.values());
    } catch (problem) {
      showErrors(form, { fields: [{ field: "hours", message: problem.message }] }, {}, general);
      return;
    }
    if (!values.subdomain) {
      showErrors(form, { fields: [{ field: "subdomain", message: "Enter a subdomain." }] }, {}, general);
      return;
    }
    let body = values;
    if (!creating) {
      body = {};
      for (const [key, value] of Object.entries(values)) {
        if (JSON.stringify(value) !== JSON.stringify(portal[key])) body[key] = value;
      }
    } else {
      body = { company_id: company.value, ...values };
    }
    try {
      const saved = creating
        ? await authed("/portals", { method: "POST", body })
        : await authed(`/portals/${encodeURIComponent(portal.portal_id)}`, { method: "PATCH", body });
      showErrors(form, null, {}, general);
      editor.hidden = true;
      toast(creating ? `Portal ${saved.subdomain} created.` : `Portal ${saved.subdomain} saved.`);
      await loadAll();
      $(`#portals-table tr[data-subdomain="${CSS.escape(saved.subdomain)}"] a`)?.focus();
    } catch (error) {
      showErrors(form, error, PORTAL_FIELDS, general);
    }
  });
  replace(editor, h("h2", {}, creating ? "Add a portal" : `Edit portal ${portal.subdomain}`), form);
  editor.hidden = false;
  if (creating && !company.options.length) {
    general.textContent = "Every company already has a portal: add a company first.";
  }
  (creating ? company : subdomain).focus();
}

async function toggleStatus(portal) {
  const action = portal.status === "active" ? "deactivate" : "activate";
  if (action === "deactivate") {
    const ok = await confirmAction({
      title: `Deactivate ${portal.subdomain}?`,
      body: [
        `Customers of ${companyName(portal.company_id)} who open this portal see “Service unavailable”, and no new request is accepted.`,
        "Chats already open go on. You can activate it again at any time.",
      ],
      confirmLabel: `Deactivate ${portal.subdomain}`,
    });
    if (!ok) return;
  }
  try {
    const saved = await authed(`/portals/${encodeURIComponent(portal.portal_id)}/${action}`, { method: "POST" });
    toast(`Portal ${saved.subdomain} is now ${saved.status}.`);
    await loadAll();
  } catch (error) {
    toast(error.message, "error");
  }
}

async function showCode(portal) {
  const dialog = $("#embed-dialog");
  const body = $("#embed-body");
  replace(body, h("p", { class: "muted" }, "Loading…"));
  dialog.showModal();
  try {
    const code = await authed(`/portals/${encodeURIComponent(portal.portal_id)}/embed`);
    const block = (title, help, value, multiline) => {
      const control = multiline
        ? h("textarea", { class: "snippet mono", readonly: true, rows: "4", spellcheck: "false", "aria-label": title })
        : h("input", { class: "mono", readonly: true, "aria-label": title });
      control.value = value;
      const status = h("span", { class: "copy-status", role: "status" });
      return h("div", { class: "snippet-block", dataset: { snippet: title } },
        h("div", { class: "row" }, h("h3", {}, title),
          h("button", {
            type: "button", class: "small secondary", "aria-label": `Copy ${title.toLowerCase()}`,
            onclick: async () => { status.textContent = (await copyText(value, control)) ? "Copied" : "Select and copy it yourself"; setTimeout(() => { status.textContent = ""; }, 4000); },
          }, "Copy"), status),
        h("p", { class: "small muted" }, help), control);
    };
    replace(body,
      h("p", {}, "Portal ", h("strong", {}, portal.subdomain), ` for ${companyName(portal.company_id)}.`),
      block("Stand-alone URL", "Send it to customers or link to it.", code.standalone_url, false),
      block("Pop-up window", "A link for the company's website that opens the portal in a small window.", code.popup_snippet, true),
      block("Embedded chat window", "Paste into the company's web page to show the portal inside it.", code.embed_snippet, true),
      code.widget_snippet ? block("Floating chat widget", "One script tag for every page of the site: a chat button in the bottom corner (JavaScript API and CSP recipe: docs/embedding.md).", code.widget_snippet, true) : null,
      h("p", { class: "small muted" }, code.allowed_origins.length
        ? `Only these sites may embed it: ${code.allowed_origins.join(", ")}.`
        : "No other site may embed it yet: add the company's website under “Sites allowed to embed it”."));
    body.querySelector("button").focus();
  } catch (error) {
    replace(body, h("p", { class: "form-error" }, error.message));
  }
}

/* ---------- companies ---------- */

/* ---------- companies and technicians: see companies.js and technicians.js ---------- */

function setupTechnicianForm() {
  const form = $("#technician-form");
  let newAccess = null;
  const general = h("p", { class: "form-error", role: "alert" });
  const render = () => replace(form,
    field("name", "Name", h("input", { maxlength: "100", autocomplete: "off" })),
    field("email", "Sign-in e-mail", h("input", { type: "email", maxlength: "254", autocomplete: "off" })),
    field("password", "Initial password", h("input", { type: "password", minlength: "8", maxlength: "128", autocomplete: "new-password" }), "(at least 8 characters)"),
    field("capacity", "Maximum concurrent chats", h("input", { type: "number", min: "1", max: "50", value: "3" })),
    h("div", { class: "wide" }, (newAccess = companyPicker(() => state.companies, [], { name: "new_company_ids" })).element),
    h("div", { class: "wide" }, general, h("button", { type: "submit" }, "Add technician")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: form.elements.name.value.trim(),
      email: form.elements.email.value.trim(),
      password: form.elements.password.value,
      capacity: Number(form.elements.capacity.value || 3),
      company_ids: newAccess ? newAccess.values() : [],
    };
    try {
      const tech = await authed("/technicians", { method: "POST", body });
      toast(`${tech.name} added.`);
      await loadAll();
      render();
    } catch (error) {
      showErrors(form, error, TECH_FIELDS, general);
    }
  });
  return render;
}

/* ---------- start ---------- */

let renderTechnicianForm = null;

async function start(me) {
  auth.begin(me);
  state.me = me;
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#tools").hidden = false;
  $("#who").textContent = me.name;
  try {
    await loadAll();
    renderTechnicianForm();
    mountWebhooks($("#section-webhooks"), (path, options) => auth.call(`/api/webhook${path}`, options), toast);
    views.roster?.stop();
    views.roster = mountRoster($("#section-roster"), (path, options) => auth.call(`/api/presence${path}`, options), toast,
      (path, options) => auth.call(`/api/chat${path}`, options));
    await mountSupervisors($("#section-supervisors"), authed, toast).refresh();
  } catch (error) {
    toast(error.message, "error");
  }
  $("#main").focus();
  announce("Signed in to the admin console.");
}

function init() {
  trackTopbar();
  setupTabs();
  renderTechnicianForm = setupTechnicianForm();
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut("You signed out."));
  $("#add-portal").addEventListener("click", () => editPortal(null));
  views.companies = mountCompanies({ authed, toast, onChanged: loadAll });
  views.technicians = mountTechnicians({ authed, toast, companies: () => state.companies, companyName, onChanged: loadAll });
  $("#embed-close").addEventListener("click", () => $("#embed-dialog").close());
  const saved = staffSession.load(STORE);
  if (saved) start(saved); else $("#signin-form [name=email]").focus();
}

init();
