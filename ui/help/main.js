/* Technician help center: sign-in, availability, incoming requests, lists, chats. */

import { StaffAuth, signInStaff, staffSession } from "../assets/api.js";
import { $, announce, formatCountdown, h, replace } from "../assets/dom.js";
import { chime, dismissNotification, notify, primeAudio } from "./alerts.js";
import { ChatPanel } from "./chat.js";
import { setupCodes } from "./codes.js";
import { setupPreferences } from "./prefs.js";
import { PresenceSocket } from "./presence.js";

const STORE = "assistline:help";
const REFRESH_MS = 4000;

const state = {
  me: null,
  presence: null,
  prefs: { desktop_alerts: true, sound: true, email_alerts: false, contacts: [] },
  alerts: new Map(),
  chats: new Map(),
  dismissed: new Set(),
  accepting: new Set(),
  refreshTimer: null,
  tickTimer: null,
};

export function toast(text, kind = "") {
  const item = h("div", { class: `toast ${kind} fade-in`, role: kind === "error" ? "alert" : "status" }, text);
  $("#toasts").append(item);
  setTimeout(() => item.remove(), 6000);
}

/* The signed-in technician's tokens, refreshed silently; a refused refresh signs them out. */
const auth = new StaffAuth(STORE, {
  onSignedOut: (message) => signOut(message),
  onRefreshed: (me) => { state.me = me; },
});

function authed(path, options = {}) {
  return auth.call(path, options);
}

/* ---------- sign-in ---------- */

function showSignIn(message) {
  $("#signin").hidden = false;
  $("#desk").hidden = true;
  $("#tools").hidden = true;
  $("#signin-error").textContent = message || "";
  $("#signin-form [name=email]").focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const errorBox = $("#signin-error");
  errorBox.textContent = "";
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    errorBox.textContent = "Enter your e-mail and password.";
    return;
  }
  const me = await signInStaff({
    email,
    password,
    role: "technician",
    wrongRole: "This help center is for technicians. Admins sign in to the admin console at /admin.",
    store: STORE,
    errorBox,
  });
  if (me) {
    form.reset();
    start(me);
  }
}

function signOut(message) {
  state.presence?.stop();
  state.codes?.stop();
  for (const panel of state.chats.values()) panel.destroy();
  state.chats.clear();
  state.alerts.clear();
  clearInterval(state.refreshTimer);
  clearInterval(state.tickTimer);
  auth.end();
  state.me = null;
  showSignIn(message);
}

/* ---------- presence and status menu ---------- */

function setConnection(kind) {
  const el = $("#connection");
  const dot = el.querySelector(".dot");
  const label = el.querySelector(".label");
  dot.className = `dot ${kind === "connected" ? "ok" : "warn"}`;
  label.textContent = kind === "connected" ? "Connected" : kind === "reconnecting" ? "Reconnecting…" : "Connecting…";
}

function showStatus(view) {
  $("#status-menu").hidden = !view.status_menu;
  $("#no-menu").hidden = Boolean(view.status_menu);
  $("#status-select").value = view.status;
  const hint = $("#incoming-hint");
  hint.textContent = view.status === "available"
    ? "You are available: requests offered to you appear here."
    : "You are unavailable for chat requests: no new requests will be offered to you.";
}

async function chooseStatus(event) {
  const select = event.currentTarget;
  select.disabled = true;
  try {
    const view = await authed("/api/presence/me/status", { method: "PUT", body: { status: select.value } });
    showStatus(view);
    announce(select.value === "available" ? "You are available for chat requests." : "You are unavailable for chat requests.");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    select.disabled = false;
  }
}

function onPresenceFrame(frame) {
  switch (frame.type) {
    case "hello":
      showStatus(frame);
      state.prefs = frame.preferences || state.prefs;
      state.preferences?.show(state.prefs);
      break;
    case "status":
      showStatus(frame);
      break;
    case "alert":
      addAlert(frame);
      break;
    case "alert_withdrawn":
      withdrawAlert(frame.request_id, frame.reason);
      break;
    case "error":
      toast(frame.message, "error");
      break;
    default:
      break;
  }
}

/* ---------- incoming requests (alerts) ---------- */

function addAlert(alert) {
  if (state.alerts.has(alert.request_id)) return;
  const accept = h("button", { type: "button", onclick: () => acceptRequest(alert.request_id) }, alert.kind === "assigned" ? "Open chat" : "Accept");
  const countdown = h("span", { class: "countdown" });
  const errorLine = h("p", { class: "alert-error", role: "alert" });
  const card = h("li", { class: `alert ${alert.kind} fade-in`, dataset: { requestId: alert.request_id } },
    h("h3", {}, alert.customer_name),
    h("p", { class: "meta" }, alert.kind === "assigned" ? "Assigned to you" : "Waiting for a technician", " · ", countdown),
    h("p", { class: "desc" }, alert.description || "No description given."),
    h("div", { class: "actions" }, accept),
    errorLine);
  state.alerts.set(alert.request_id, { alert, card, countdown, errorLine, accept });
  $("#alerts").prepend(card);
  tickAlerts();
  updateAlertCount();
  if (state.prefs.desktop_alerts) notify(alert);
  if (alert.sound && state.prefs.sound) chime();
  announce(`New support request from ${alert.customer_name}.`);
}

function removeAlert(requestId) {
  const entry = state.alerts.get(requestId);
  if (!entry) return;
  entry.card.remove();
  state.alerts.delete(requestId);
  dismissNotification(requestId);
  updateAlertCount();
}

function withdrawAlert(requestId, reason) {
  const entry = state.alerts.get(requestId);
  if (!entry) return;
  if (reason === "taken" && !state.accepting.has(requestId)) {
    announce(`The request from ${entry.alert.customer_name} was taken by another technician.`);
  }
  removeAlert(requestId);
  refreshLists();
}

function updateAlertCount() {
  $("#incoming-count").textContent = String(state.alerts.size);
}

function tickAlerts() {
  const now = Date.now();
  for (const [id, entry] of state.alerts) {
    const expires = entry.alert.expires_at ? Date.parse(entry.alert.expires_at) : null;
    if (expires === null) { entry.countdown.textContent = "now"; continue; }
    const left = expires - now;
    if (left <= 0 && !state.accepting.has(id)) { removeAlert(id); continue; }
    entry.countdown.textContent = `${formatCountdown(left)} left to accept`;
  }
}

async function acceptRequest(requestId) {
  if (state.accepting.has(requestId)) return;
  state.accepting.add(requestId);
  const entry = state.alerts.get(requestId);
  if (entry) { entry.accept.disabled = true; entry.errorLine.textContent = ""; }
  try {
    const request = await authed(`/api/dispatch/requests/${encodeURIComponent(requestId)}/accept`, { method: "POST" });
    removeAlert(requestId);
    toast(`You took ${request.customer_name}'s request. The chat opens in a moment.`);
    state.wanted = state.wanted || new Set();
    state.wanted.add(requestId);
    await refreshLists();
  } catch (error) {
    const message = error.code === "already_taken"
      ? "Taken by another technician."
      : error.status === 409 ? error.message : `Could not accept: ${error.message}`;
    if (entry && state.alerts.has(requestId)) {
      entry.card.classList.add("taken");
      entry.errorLine.textContent = message;
      setTimeout(() => removeAlert(requestId), 5000);
    } else {
      toast(message, "error");
    }
    refreshLists();
  } finally {
    state.accepting.delete(requestId);
  }
}

/* ---------- New / Active / Completed ---------- */

function selectTab(tab) {
  for (const other of document.querySelectorAll('.tabs [role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(`#${other.getAttribute("aria-controls")}`).hidden = !selected;
  }
}

function setupTabs() {
  const tabs = [...document.querySelectorAll('.tabs [role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i - 1 + tabs.length) % tabs.length] : null;
      if (next) { e.preventDefault(); next.focus(); selectTab(next); }
    });
  }
}

function renderList(id, items, empty, render) {
  document.querySelector(`[data-count="${id}"]`).textContent = String(items.length);
  const list = $(`#list-${id}`);
  replace(list, items.length ? items.map(render) : h("li", { class: "empty" }, empty));
}

let refreshing = null;

async function refreshLists() {
  if (!state.me) return;
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const [requests, active, completed] = await Promise.all([
        authed("/api/dispatch/requests"),
        authed("/api/chat/sessions?state=active&limit=100"),
        authed("/api/chat/sessions?state=completed&limit=50"),
      ]);
      const mine = (s) => s.technician_id === state.me.user_id;
      const activeSessions = active.sessions.filter(mine);
      const withSession = new Set(activeSessions.map((s) => s.request_id));
      const fresh = requests.requests.filter((r) => !withSession.has(r.request_id));
      renderList("new", fresh, "Nothing new.", renderRequest);
      renderList("active", activeSessions, "No active chats.", renderActive);
      renderList("completed", completed.sessions.filter(mine), "No completed sessions yet.", renderCompleted);
      for (const session of activeSessions) {
        const wanted = state.wanted && state.wanted.has(session.request_id);
        const isNew = !state.known?.has(session.session_id);
        if (!state.chats.has(session.session_id) && (wanted || (isNew && !state.dismissed.has(session.session_id)))) {
          openChat(session, wanted);
          state.wanted?.delete(session.request_id);
        }
      }
      state.known = new Set([...(state.known || []), ...activeSessions.map((s) => s.session_id)]);
    } catch (error) {
      if (error.status === 401) signOut("Your session expired; please sign in again.");
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function renderRequest(r) {
  const label = r.state === "offered" ? "Accept" : r.acknowledged === false ? "Acknowledge" : null;
  return h("li", {},
    h("div", { class: "row" },
      h("strong", {}, r.customer_name),
      h("span", { class: `badge ${r.state === "offered" ? "" : "ok"}` }, r.state === "offered" ? "Offered" : "Assigned")),
    h("p", { class: "small muted" }, r.description || "No description given."),
    label ? h("button", { type: "button", class: "small", onclick: () => acceptRequest(r.request_id) }, label)
      : h("p", { class: "small muted" }, "The chat is opening…"));
}

function renderActive(s) {
  return h("li", {},
    h("div", { class: "row" },
      h("strong", {}, s.customer_name),
      h("button", { type: "button", class: "small secondary", onclick: () => openChat(s, true) }, state.chats.has(s.session_id) ? "Go to chat" : "Open chat")),
    h("p", { class: "small muted" }, s.description || "No description given."));
}

function renderCompleted(s) {
  const outcome = s.outcome ? s.outcome[0].toUpperCase() + s.outcome.slice(1) : "Unknown";
  return h("li", {},
    h("div", { class: "row" },
      h("strong", {}, s.customer_name),
      h("span", { class: `badge ${s.outcome === "resolved" ? "ok" : s.outcome === "unresolved" ? "warn" : "off"}` }, outcome)),
    s.notes ? h("p", { class: "small" }, "Notes: ", s.notes) : null,
    h("button", { type: "button", class: "small quiet", onclick: () => downloadTranscript(s) }, "Download transcript"));
}

async function downloadTranscript(session) {
  try {
    const response = await auth.fetch(`/api/chat/sessions/${encodeURIComponent(session.session_id)}/transcript`);
    if (!response.ok) throw new Error("The transcript could not be downloaded.");
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: `chat-${session.session_id}.txt` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (error) {
    toast(error.message, "error");
  }
}

/* ---------- chats side by side ---------- */

function openChat(session, focus) {
  let panel = state.chats.get(session.session_id);
  if (!panel) {
    panel = new ChatPanel(session, {
      token: () => auth.token,
      renew: () => auth.refresh(),
      authed,
      onClose: (p) => {
        p.destroy();
        state.chats.delete(p.id);
        state.dismissed.add(p.id);
        $("#chats-empty").hidden = state.chats.size > 0;
        refreshLists();
      },
      onEnded: () => refreshLists(),
    });
    state.chats.set(session.session_id, panel);
    $("#chats").append(panel.el);
    $("#chats-empty").hidden = true;
    announce(`Chat with ${session.customer_name} opened.`);
  }
  if (focus) panel.input.focus();
}

/* ---------- start ---------- */

function start(me) {
  auth.begin(me);
  state.me = me;
  $("#signin").hidden = true;
  $("#desk").hidden = false;
  $("#tools").hidden = false;
  $("#who").textContent = me.name;
  state.presence = new PresenceSocket(() => auth.token, {
    renew: () => auth.refresh(),
    onConnection: setConnection,
    onFrame: onPresenceFrame,
    onRefused: (reason) => signOut(`Signed out: ${reason}`),
  });
  state.presence.start();
  state.preferences = setupPreferences({ authed, toast, getPrefs: () => state.prefs, setPrefs: (p) => { state.prefs = p; } });
  state.codes = setupCodes({ authed, toast, companies: me.company_ids });
  authed("/api/presence/me").then(showStatus).catch(() => {});
  authed("/api/presence/me/preferences").then((p) => { state.prefs = p; state.preferences.show(p); }).catch(() => {});
  refreshLists();
  state.refreshTimer = setInterval(refreshLists, REFRESH_MS);
  state.tickTimer = setInterval(tickAlerts, 1000);
  $("#main").focus();
}

function init() {
  primeAudio();
  setupTabs();
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut("You signed out."));
  $("#status-select").addEventListener("change", chooseStatus);
  const saved = staffSession.load(STORE);
  if (saved) start(saved); else showSignIn();
}

init();
