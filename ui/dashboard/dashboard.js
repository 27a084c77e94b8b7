/* The live supervisor dashboard: sign-in (admins and supervisors), a company picker, the
   desk now (tiles), today and the last 7 days (table, charts), CSV export. Pushed over a
   WebSocket (live.js); the oldest wait ticks on between frames. */

import { StaffAuth, signInStaff, staffSession } from "../assets/api.js";
import { $, announce, h, trackTopbar } from "../assets/dom.js";
import { createCharts } from "./charts.js";
import { DashboardSocket } from "./live.js";
import { renderByDay, renderFigures, renderLive } from "./view.js";

const STORE = "assistline:dashboard";
const ROLES = ["admin", "supervisor"];
const STATES = { connecting: ["badge warn", "Connecting…"], live: ["badge ok", "Live"], down: ["badge danger", "Reconnecting…"] };

const state = { companies: [], companyId: null, socket: null, summary: null, receivedAt: 0, charts: null, ticker: null };

function toast(text, kind = "") {
  const item = h("div", { class: `toast ${kind} fade-in`, role: kind === "error" ? "alert" : "status" }, text);
  $("#toasts").append(item);
  setTimeout(() => item.remove(), 6000);
}

const auth = new StaffAuth(STORE, { onSignedOut: (message) => signOut(message) });

function authed(path, options = {}) {
  return auth.call(`/api/portal${path}`, options).catch((error) => {
    if (error.status === 401) signOut("Your session ended; please sign in again.");
    throw error;
  });
}

function oldestNow() {
  const oldest = state.summary?.live.oldest_wait_seconds;
  if (oldest === null || oldest === undefined) return null;
  return oldest + (Date.now() - state.receivedAt) / 1000;
}

function show(summary) {
  if (summary.company_id !== state.companyId) return;
  state.summary = summary;
  state.receivedAt = Date.now();
  renderLive($("#live"), summary.live, oldestNow());
  renderFigures($("#figures tbody"), summary);
  renderByDay($("#by-day tbody"), summary.by_day);
  state.charts.update(summary.by_day);
}

function setConnection(name) {
  const [cls, text] = STATES[name];
  const badge = $("#connection");
  badge.className = cls;
  badge.textContent = text;
}

async function readOnce() {
  try {
    show(await authed(`/dashboard/companies/${encodeURIComponent(state.companyId)}`));
  } catch (error) {
    if (error.status !== 401) $("#app-error").textContent = error.message;
  }
}

function follow(companyId) {
  state.socket?.stop();
  state.companyId = companyId;
  state.summary = null;
  const company = state.companies.find((c) => c.company_id === companyId);
  $("#company-title").textContent = company ? company.name : "Dashboard";
  $("#app-error").textContent = "";
  const url = new URL(location.href);
  url.searchParams.set("company", companyId);
  history.replaceState(null, "", url);
  state.socket = new DashboardSocket(companyId, {
    token: () => auth.token,
    renew: () => auth.refresh(),
    onSummary: show,
    onState: setConnection,
    onDown: readOnce,
    onRefused: (reason) => { setConnection("down"); $("#app-error").textContent = reason; },
  });
  state.socket.open();
}

async function exportCsv() {
  const response = await auth.fetch(`/api/portal/dashboard/companies/${encodeURIComponent(state.companyId)}.csv`);
  if (!response.ok) {
    toast("The export failed; please try again.", "error");
    return;
  }
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `dashboard-${state.companyId}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const me = await signInStaff({
    email: form.email.value.trim(),
    password: form.password.value,
    role: ROLES,
    wrongRole: "The dashboard is for admins and supervisors. Technicians use the help center at /help.",
    store: STORE,
    errorBox: $("#signin-error"),
  });
  if (me) {
    form.reset();
    start(me);
  }
}

function signOut(message) {
  state.socket?.stop();
  state.socket = null;
  clearInterval(state.ticker);
  auth.end();
  $("#app").hidden = true;
  $("#tools").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
}

async function start(me) {
  auth.begin(me);
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#tools").hidden = false;
  $("#who").textContent = me.name;
  $("#admin-link").hidden = me.role !== "admin";
  try {
    state.companies = await authed("/dashboard/companies");
  } catch (error) {
    $("#app-error").textContent = error.message;
    return;
  }
  const picker = $("#company");
  picker.replaceChildren(...state.companies.map((c) => h("option", { value: c.company_id }, c.name)));
  if (!state.companies.length) {
    $("#app-error").textContent = "Your account has no company yet: an admin adds them in the admin console.";
    return;
  }
  const wanted = new URLSearchParams(location.search).get("company");
  picker.value = state.companies.some((c) => c.company_id === wanted) ? wanted : state.companies[0].company_id;
  follow(picker.value);
  clearInterval(state.ticker);
  state.ticker = setInterval(() => { if (state.summary) renderLive($("#live"), state.summary.live, oldestNow()); }, 1000);
  $("#main").focus();
  announce("Signed in to the dashboard.");
}

function init() {
  trackTopbar();
  state.charts = createCharts($("#requests-chart"), $("#wait-chart"));
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut("You signed out."));
  $("#company").addEventListener("change", (event) => follow(event.target.value));
  $("#export").addEventListener("click", exportCsv);
  const saved = staffSession.load(STORE);
  if (saved && ROLES.includes(saved.role)) start(saved); else $("#signin-form [name=email]").focus();
}

init();
