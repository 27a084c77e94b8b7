/* Technician help center: sign-in, availability, incoming requests, lists, chats. */

import { StaffAuth, signInStaff, staffSession } from "../assets/api.js";
import { $, announce, formatCountdown, formatTime, h, replace, trackTopbar } from "../assets/dom.js";
import { chime, dismissNotification, notify, primeAudio } from "./alerts.js";
import { ChatPanel } from "./chat.js";
import { setupCodes } from "./codes.js";
import { setupMessages } from "./messages.js";
import { setupPreferences } from "./prefs.js";
import { PresenceSocket } from "./presence.js";
import { showMissedNotice, showReason } from "./status-reason.js";
import { setupCanned } from "./canned.js";
import { setupTransfers } from "./transfer.js";
import { setupInvitations } from "./invite.js";

const STORE = "assistline:help";
const REFRESH_MS = 4000;
const ACCESS_CHECK_MS = 8000;
const TITLE = document.title;
const COMPLETED_PAGE = 10;
const COMPLETED_REFRESH_MS = 30000;

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
  accessTimer: null,
  // Requests whose chat this page saw end: dispatch may list them a moment longer.
  finished: new Set(),
  completed: [],
  completedQuery: "",
  completedPage: 0,
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
  // Nothing is sent for a signed-out page (a stray control, a timer after sign-out).
  if (!auth.token) return Promise.reject(Object.assign(new Error("Sign in first."), { status: 401, code: "signed_out" }));
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
  for (const id of [...state.alerts.keys()]) removeAlert(id);
  state.transfers?.clear();
  state.invitations?.clear();
  state.finished.clear();
  state.known = null;
  state.dismissed.clear();
  state.completed = [];
  state.completedAt = 0;
  $("#chats-empty").hidden = false;
  clearInterval(state.refreshTimer);
  clearInterval(state.tickTimer);
  clearInterval(state.accessTimer);
  updateTitle();
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
  showReason(view);
  const hint = $("#incoming-hint");
  hint.textContent = view.status === "available"
    ? "You are available: requests offered to you appear here."
    : "You are unavailable for chat requests: no new requests will be offered to you.";
}

async function chooseStatus(event) {
  const select = event.currentTarget;
  if (!state.me) {
    showSignIn("Sign in first: your status applies to your signed-in help center.");
    return;
  }
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
      state.transfers?.refresh();
      state.prefs = frame.preferences || state.prefs;
      state.preferences?.show(state.prefs);
      break;
    case "status":
      showStatus(frame);
      break;
    case "missed_requests":
      showMissedNotice(frame);
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
      if (!state.transfers?.onFrame(frame)) state.invitations?.onFrame(frame);
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
  const handovers = (state.transfers?.count || 0) + (state.invitations?.count || 0);
  $("#incoming-count").textContent = String(state.alerts.size + handovers);
}

function tickAlerts() {
  state.transfers?.tick();
  state.invitations?.tick();
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
  // Alerts shown before this refresh began, to check against dispatch's current list.
  const shownBefore = new Set(state.alerts.keys());
  refreshing = (async () => {
    try {
      // Completed changes only when a chat ends: read it then, and now and again.
      const readCompleted = state.completedStale || Date.now() - (state.completedAt || 0) > COMPLETED_REFRESH_MS;
      if (readCompleted) state.completedStale = false;
      const [requests, active, completed] = await Promise.all([
        authed("/api/dispatch/requests"),
        authed("/api/chat/sessions?state=active&limit=100"),
        readCompleted ? authed("/api/chat/sessions?state=completed&limit=100") : null,
      ]);
      if (completed) state.completedAt = Date.now();
      // Notes of chats sent back to the queue, shown in the chat when it opens.
      state.handoverNotes = new Map(requests.requests.filter((r) => r.handover_note).map((r) => [r.request_id, r.handover_note]));
      // Chats joined as an invited colleague are another technician's, listed by dispatch.
      state.guestOf = new Set(requests.requests.filter((r) => r.guest).map((r) => r.request_id));
      const mine = (s) => s.technician_id === state.me.user_id || state.guestOf.has(s.request_id);
      const ownedOnly = (s) => s.technician_id === state.me.user_id;
      const activeSessions = active.sessions.filter(mine);
      const withSession = new Set(activeSessions.map((s) => s.request_id));
      const completedMine = completed ? completed.sessions.filter(ownedOnly) : state.completed;
      for (const session of completedMine) state.finished.add(session.request_id);
      // A request whose chat is open or over is not "new", even while dispatch catches up.
      const fresh = requests.requests.filter((r) => !withSession.has(r.request_id) && !state.finished.has(r.request_id));
      const pending = new Set(fresh.filter((r) => r.state === "offered" || r.acknowledged === false).map((r) => r.request_id));
      for (const id of shownBefore) {
        if (!pending.has(id) && !state.accepting.has(id)) removeAlert(id);
      }
      renderList("new", fresh, "Nothing new.", renderRequest);
      renderList("active", activeSessions, "No active chats.", renderActive);
      state.completed = completedMine;
      renderCompletedList();
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
    r.handover_note ? h("p", { class: "small transfer-note" }, h("strong", {}, "Note from your colleague: "), r.handover_note) : null,
    label ? h("button", { type: "button", class: "small", onclick: () => acceptRequest(r.request_id) }, label)
      : h("p", { class: "small muted" }, "The chat is opening…"));
}

function renderActive(s) {
  const unread = state.chats.get(s.session_id)?.unread || 0;
  return h("li", { dataset: { sessionId: s.session_id } },
    h("div", { class: "row" },
      h("strong", {}, s.customer_name, unread ? h("span", { class: "unread", "aria-label": `${unread} unread` }, String(unread)) : null),
      h("button", { type: "button", class: "small secondary", onclick: () => openChat(s, true) }, state.chats.has(s.session_id) ? "Go to chat" : "Open chat")),
    h("p", { class: "small muted" }, s.description || "No description given."));
}

function outcomeLabel(outcome) {
  return outcome ? outcome[0].toUpperCase() + outcome.slice(1) : "Unknown";
}

function formatDuration(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/* Completed: searchable (customer, problem, notes) and paged, newest first. */
function renderCompletedList() {
  const query = state.completedQuery.trim().toLowerCase();
  const matching = query
    ? state.completed.filter((s) => [s.customer_name, s.description, s.notes].some((t) => (t || "").toLowerCase().includes(query)))
    : state.completed;
  const pages = Math.max(1, Math.ceil(matching.length / COMPLETED_PAGE));
  state.completedPage = Math.min(state.completedPage, pages - 1);
  const start = state.completedPage * COMPLETED_PAGE;
  document.querySelector('[data-count="completed"]').textContent = String(state.completed.length);
  const empty = query ? "No completed session matches your search." : "No completed sessions yet.";
  const list = $("#list-completed");
  const open = new Set([...list.querySelectorAll("li[data-open]")].map((li) => li.dataset.sessionId));
  const items = matching.slice(start, start + COMPLETED_PAGE).map((s) => renderCompleted(s, open.has(s.session_id)));
  replace(list, items.length ? items : h("li", { class: "empty" }, empty));
  $("#completed-pager").hidden = matching.length <= COMPLETED_PAGE;
  $("#completed-page").textContent = `Page ${state.completedPage + 1} of ${pages} · ${matching.length} sessions`;
  $("#completed-prev").disabled = state.completedPage === 0;
  $("#completed-next").disabled = state.completedPage >= pages - 1;
}

function renderCompleted(s, reopen) {
  const transcript = h("ol", { class: "transcript", hidden: true, tabindex: "0", "aria-label": `Transcript of the chat with ${s.customer_name}` });
  const read = h("button", { type: "button", class: "small secondary", "aria-expanded": "false" }, "Read transcript");
  const item = h("li", { dataset: { sessionId: s.session_id } },
    h("div", { class: "row" },
      h("strong", {}, s.customer_name),
      h("span", { class: `badge ${s.outcome === "resolved" ? "ok" : s.outcome === "unresolved" ? "warn" : "off"}` }, outcomeLabel(s.outcome))),
    h("p", { class: "small muted done-meta" },
      h("span", {}, formatDate(s.opened_at)),
      s.ended_at ? h("span", {}, `Lasted ${formatDuration(Date.parse(s.ended_at) - Date.parse(s.opened_at))}`) : null),
    h("p", { class: "small muted" }, s.description || "No description given."),
    s.notes ? h("p", { class: "small" }, "Notes: ", s.notes) : null,
    s.rating ? h("p", { class: "small", dataset: { rating: String(s.rating.score) } }, `Customer rating: ${s.rating.score} of 5`, s.rating.comment ? ` — “${s.rating.comment}”` : "") : null,
    h("div", { class: "actions" }, read,
      h("button", { type: "button", class: "small quiet", onclick: () => downloadTranscript(s) }, "Download transcript")),
    transcript);
  const toggle = async () => {
    const opening = transcript.hidden;
    read.setAttribute("aria-expanded", String(opening));
    read.textContent = opening ? "Hide transcript" : "Read transcript";
    transcript.hidden = !opening;
    if (opening) item.dataset.open = "1"; else delete item.dataset.open;
    if (!opening) return;
    replace(transcript, h("li", { class: "muted" }, "Loading…"));
    try {
      const detail = await authed(`/api/chat/sessions/${encodeURIComponent(s.session_id)}`);
      replace(transcript, detail.messages.length ? detail.messages.map((m) => h("li", {},
        h("span", { class: "who" }, m.author === "system" ? "" : `${m.author === "technician" ? "You" : m.author_name || "Customer"} · ${formatTime(m.sent_at)}: `),
        m.text)) : h("li", { class: "muted" }, "No messages were exchanged."));
    } catch (error) {
      replace(transcript, h("li", { class: "form-error" }, `The transcript could not be loaded: ${error.message}`));
    }
  };
  read.addEventListener("click", toggle);
  if (reopen) toggle();
  return item;
}

function setupCompletedTools() {
  const search = $("#completed-search");
  search.addEventListener("input", () => { state.completedQuery = search.value; state.completedPage = 0; renderCompletedList(); });
  $("#completed-prev").addEventListener("click", () => { state.completedPage -= 1; renderCompletedList(); });
  $("#completed-next").addEventListener("click", () => { state.completedPage += 1; renderCompletedList(); });
}

/* ---------- unread messages ---------- */

function updateTitle() {
  let unread = 0;
  for (const panel of state.chats.values()) unread += panel.unread;
  document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
  for (const li of document.querySelectorAll("#list-active li[data-session-id]")) {
    const count = state.chats.get(li.dataset.sessionId)?.unread || 0;
    const strong = li.querySelector("strong");
    strong.querySelector(".unread")?.remove();
    if (count) strong.append(h("span", { class: "unread", "aria-label": `${count} unread` }, String(count)));
  }
}

function onUnread(panel) {
  updateTitle();
  if (state.prefs.sound) chime();
  if (panel.unread === 1) announce(`New message from ${panel.session.customer_name}.`);
}

/* ---------- access changes, live ---------- */

/* An admin may change the technician's companies at any time: follow their record (not
   the token's claims) and renew the token so sockets and lists use the new access. */
async function checkAccess() {
  if (!state.me) return;
  try {
    const current = await authed("/api/portal/auth/me");
    const before = [...(state.me.company_ids || [])].sort().join(",");
    const now = [...(current.company_ids || [])].sort().join(",");
    if (before === now) return;
    await auth.refresh();
    state.me = { ...state.me, ...auth.me, company_ids: current.company_ids };
    state.codes?.setCompanies(current.company_ids);
    toast(current.company_ids.length
      ? "Your company access changed: lists and codes now follow it."
      : "You no longer have access to any company.");
    refreshLists();
  } catch {
    /* The next check tries again. */
  }
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

/* The chat went to a colleague or back to the queue: it is no longer this technician's. */
function handOff(panel, message) {
  if (state.chats.get(panel.id) !== panel) return; // already closed (the click and the frame both say so)
  state.transfers?.detach(panel);
  state.invitations?.detach(panel);
  panel.destroy();
  state.chats.delete(panel.id);
  state.dismissed.add(panel.id);
  $("#chats-empty").hidden = state.chats.size > 0;
  toast(message);
  refreshLists();
}

function openChat(session, focus) {
  let panel = state.chats.get(session.session_id);
  // A chat joined as an invited colleague opens as a guest's (Leave chat, no End session).
  if (state.guestOf?.has(session.request_id)) session = { ...session, guest: true };
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
      onEnded: (p) => { state.finished.add(p.session.request_id); state.completedStale = true; refreshLists(); },
      onUnread,
      onRead: () => updateTitle(),
      me: () => state.me?.user_id,
      myName: () => state.me?.name,
      onTransferredAway: (p) => handOff(p, `The chat with ${p.session.customer_name} is now with your colleague.`),
      onLeft: (p) => handOff(p, `You left the chat with ${p.session.customer_name}.`),
      sound: () => state.prefs.sound,
    });
    state.chats.set(session.session_id, panel);
    state.transfers?.attach(panel, state.handoverNotes?.get(session.request_id));
    state.invitations?.attach(panel);
    state.canned?.attach(panel, () => ({ customer_name: session.customer_name, technician_name: state.me?.name, company_name: session.company_name }));
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
  state.messages ||= setupMessages({ authed, toast });
  state.canned ||= setupCanned({ authed, toast });
  state.invitations ||= setupInvitations({
    authed,
    toast,
    list: $("#alerts"),
    onAccepted: (invitation) => { state.wanted ||= new Set(); state.wanted.add(invitation.request_id); refreshLists(); },
    onCountChange: updateAlertCount,
    onLeft: handOff,
  });
  state.transfers ||= setupTransfers({
    authed,
    toast,
    list: $("#alerts"),
    onAccepted: (offer) => { state.wanted ||= new Set(); state.wanted.add(offer.request_id); refreshLists(); },
    onCountChange: updateAlertCount,
    onHandedOff: handOff,
    onRefreshed: (body) => state.invitations?.sync(body.invitations || []),
  });
  state.transfers.refresh();
  authed("/api/presence/me").then(showStatus).catch(() => {});
  authed("/api/presence/me/preferences").then((p) => { state.prefs = p; state.preferences.show(p); }).catch(() => {});
  refreshLists();
  state.refreshTimer = setInterval(refreshLists, REFRESH_MS);
  state.tickTimer = setInterval(tickAlerts, 1000);
  state.accessTimer = setInterval(checkAccess, ACCESS_CHECK_MS);
  $("#main").focus();
}

function init() {
  trackTopbar();
  primeAudio();
  setupTabs();
  setupCompletedTools();
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut("You signed out."));
  $("#status-select").addEventListener("change", chooseStatus);
  const saved = staffSession.load(STORE);
  if (saved) start(saved); else showSignIn();
}

init();
