/* Why the technician is unavailable (next to the status menu), and the "missed requests"
   notice that asks them to choose Available again. Hooked from main.js: showReason(view)
   whenever a presence view arrives, showMissedNotice(frame) on a `missed_requests` frame. */

import { $, announce, formatTime, h, replace } from "../assets/dom.js";

const REASONS = {
  chosen: "Unavailable: your choice",
  disconnected: "Unavailable: disconnected",
  missed_requests: "Unavailable: missed requests",
  access_revoked: "Unavailable: no active portal for your companies",
};

let styled = false;
function style() {
  if (styled) return;
  styled = true;
  document.head.append(h("link", { rel: "stylesheet", href: new URL("status-reason.css", import.meta.url).href }));
}

function reasonLine() {
  let line = $("#status-reason");
  if (!line) {
    style();
    line = h("span", { id: "status-reason", class: "status-reason small", "aria-live": "polite" });
    $("#status-menu").append(line);
    // The select is described by its reason, so screen readers hear why with the value.
    $("#status-select").setAttribute("aria-describedby", "status-reason");
  }
  return line;
}

function noticeBox() {
  let box = $("#missed-notice");
  if (!box) {
    style();
    box = h("div", { id: "missed-notice", class: "missed-notice", role: "alert", hidden: true });
    $("#main").prepend(box);
  }
  return box;
}

function chooseAvailable() {
  const select = $("#status-select");
  select.value = "available";
  // main.js's own change handler sends the choice (one code path for both).
  select.dispatchEvent(new Event("change"));
}

export function showReason(view) {
  if (!view || !$("#status-menu")) return;
  const line = reasonLine();
  const since = view.since ? ` since ${formatTime(view.since)}` : "";
  const text = view.reason ? `${REASONS[view.reason] || `Unavailable: ${view.reason}`}${since}` : `Available${since}`;
  replace(line, text);
  line.dataset.reason = view.reason || "available";
  // A view only says the reason; the frame that stopped them also says how many (kept if shown).
  if (view.reason === "missed_requests") { if (noticeBox().hidden) showMissedNotice({ missed: null }); }
  else noticeBox().hidden = true;
}

export function showMissedNotice(frame) {
  const box = noticeBox();
  const count = frame.missed ? `${frame.missed} requests` : "Several requests";
  replace(
    box,
    h("p", {}, h("strong", {}, "You were set to Unavailable. "), `${count} in a row went unanswered, so no new requests are offered to you.`),
    h("button", { type: "button", class: "small", onclick: chooseAvailable }, "Choose Available again"),
  );
  if (box.hidden) announce("You were set to Unavailable after missed requests.");
  box.hidden = false;
}
