/* Admin console, Roster tab: every technician of the account with their state, why they are
   unavailable, since when and their open chats (kept live by polling presence-svc while the
   tab is shown), and a drawer with each technician's status history, a page at a time.
   `mountRoster(panel, call, toast)`: `call(path, options)` is the console's authenticated
   api() bound to /api/presence; `chatCall`, bound to /api/chat, adds the account's canned
   replies manager. Every text goes in as text (dom.js `h`), never as HTML. */

import { announce, h, replace } from "../assets/dom.js";
import { mountCannedManager } from "../help/canned.js";

const REFRESH_MS = 5000;
const HISTORY_PAGE = 20;
const STATES = {
  available: ["Available", "badge ok"],
  chosen: ["Unavailable", "badge"],
  disconnected: ["Disconnected", "badge warn"],
  missed_requests: ["Unavailable", "badge danger"],
  access_revoked: ["No access", "badge"],
};
const REASONS = {
  chosen: "Their choice",
  disconnected: "Disconnected",
  missed_requests: "Missed requests",
  access_revoked: "No active portal",
};
const ACTORS = { technician: "the technician", admin: "an admin", system: "the system" };

function ensureStylesheet() {
  const href = new URL("./roster.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

function stateOf(row) {
  return row.available ? "available" : row.reason || "chosen";
}

export function mountRoster(panel, call, toast, chatCall = null) {
  ensureStylesheet();
  const state = { rows: [], timer: null, open: null, cursor: null };
  const body = h("tbody");
  const updated = h("p", { class: "small muted", "aria-live": "off" });
  const historyList = h("ol", { class: "roster-history" });
  const more = h("button", { type: "button", class: "quiet", hidden: true, onclick: () => loadHistory(false) }, "Older changes");
  const historyTitle = h("h2", { id: "roster-history-title" }, "Status history");
  const drawer = h("dialog", { class: "roster-drawer", "aria-labelledby": "roster-history-title" },
    h("div", { class: "dialog-body stack" },
      h("div", { class: "row" }, historyTitle, h("button", { type: "button", class: "quiet", onclick: () => drawer.close() }, "Close")),
      historyList, more));
  replace(panel,
    h("div", { class: "row" }, h("h1", {}, "Roster"), updated),
    h("p", { class: "muted" }, "Who can take requests right now, and why not. Updates every few seconds."),
    h("div", { class: "card table-wrap" },
      h("table", { class: "roster-table", "aria-label": "Technicians roster" },
        h("thead", {}, h("tr", {}, ["Technician", "State", "Reason", "Since", "Chats open", ""].map((t) => h("th", { scope: "col" }, t)))),
        body)),
    drawer);
  if (chatCall) {
    // The account's canned replies (every technician's picker offers them) are managed here.
    const card = h("section", { class: "card", "aria-label": "Team canned replies" });
    panel.append(card);
    mountCannedManager(card, { call: chatCall, scope: "account", toast, heading: "Team canned replies" });
  }

  function render() {
    const rows = state.rows.map((row) => {
      const key = stateOf(row);
      const [label, badge] = STATES[key] || ["Unavailable", "badge"];
      return h("tr", { dataset: { technician: row.technician_id, state: key } },
        h("th", { scope: "row", "data-label": "Technician" }, row.display_name),
        h("td", { "data-label": "State" }, h("span", { class: badge }, label)),
        h("td", { "data-label": "Reason" }, row.available ? "—" : REASONS[row.reason] || row.reason || "—"),
        h("td", { "data-label": "Since" }, row.since ? when(row.since) : "—"),
        h("td", { "data-label": "Chats open" }, String(row.chats_open)),
        h("td", {}, h("button", { type: "button", class: "quiet small", onclick: () => openHistory(row) },
          "History", h("span", { class: "visually-hidden" }, ` of ${row.display_name}`))));
    });
    replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: "6", class: "empty" }, "No technician yet.")));
  }

  async function refresh() {
    try {
      state.rows = (await call("/roster")).technicians;
      render();
      updated.textContent = `Updated ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
    } catch (error) {
      toast(`Could not load the roster: ${error.message}`, "error");
    }
  }

  async function loadHistory(first) {
    if (first) { state.cursor = null; replace(historyList); }
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (state.cursor) query.set("cursor", state.cursor);
    more.disabled = true;
    try {
      const page = await call(`/technicians/${encodeURIComponent(state.open.technician_id)}/history?${query}`);
      for (const entry of page.entries) {
        const what = entry.state === "available" ? "Available" : `Unavailable — ${REASONS[entry.state] || entry.state}`;
        historyList.append(h("li", {}, h("strong", {}, what), h("span", { class: "small muted" }, ` ${when(entry.at)}, by ${ACTORS[entry.actor] || entry.actor}`)));
      }
      if (first && !page.entries.length) historyList.append(h("li", { class: "muted" }, "No change recorded yet."));
      state.cursor = page.next_cursor;
      more.hidden = !state.cursor;
    } catch (error) {
      toast(`Could not load the history: ${error.message}`, "error");
    } finally {
      more.disabled = false;
    }
  }

  async function openHistory(row) {
    state.open = row;
    historyTitle.textContent = `Status history of ${row.display_name}`;
    drawer.showModal();
    await loadHistory(true);
    announce(`Status history of ${row.display_name}.`);
  }

  // Poll only while the tab is shown (the panel's `hidden` flips with the tab).
  // (Not once signed out either: then an ancestor, the app, is hidden.)
  const tick = () => { if (!panel.closest("[hidden]") && !document.hidden) refresh(); };
  new MutationObserver(tick).observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  state.timer = setInterval(tick, REFRESH_MS);
  tick();
  return { refresh, stop: () => clearInterval(state.timer) };
}
