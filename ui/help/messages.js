/* Offline messages in the help center: what customers left when the portal was closed,
   nobody was available or the wait was too long. Open ones first (oldest first), each
   answerable by e-mail; answered ones below with the reply that was sent. The card is built
   here and placed in the right column, so the help center's page needs no markup for it. */

import { $, formatTime, h, replace } from "../assets/dom.js";

const REFRESH_MS = 30000;
const REASONS = {
  closed: "left while the portal was closed",
  no_technician: "left while nobody was available",
  long_wait: "left after a long wait",
  customer_choice: "left a message",
};

function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date().toDateString() === date.toDateString();
  return today ? formatTime(iso) : `${date.toLocaleDateString()} ${formatTime(iso)}`;
}

function ensureStylesheet() {
  const href = new URL("./messages.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

export function setupMessages({ authed, toast }) {
  ensureStylesheet();
  const count = h("span", { class: "count", id: "messages-count" }, "0");
  const openList = h("ul", { class: "list messages", id: "messages-open", "aria-labelledby": "messages-title" });
  const answeredList = h("ul", { class: "list messages answered", id: "messages-answered", "aria-label": "Answered messages" });
  const status = h("p", { class: "small muted", id: "messages-status", role: "status" });
  const card = h("section", { class: "card", id: "messages-card", "aria-labelledby": "messages-title" },
    h("div", { class: "row" }, h("h2", { id: "messages-title" }, "Messages"), count,
      h("button", { type: "button", class: "small quiet", onclick: () => refresh() }, "Refresh")),
    h("p", { class: "small muted" }, "Left by customers who could not be served; your answer is sent by e-mail."),
    status, openList,
    h("details", { class: "messages-history" }, h("summary", {}, "Answered recently"), answeredList));
  const column = $(".col-right") || $("#desk");
  column?.prepend(card);
  const drafts = new Map();

  function item(message) {
    const header = h("div", { class: "row" },
      h("strong", {}, message.customer_name),
      h("span", { class: "small muted" }, ` · ${message.company_name || message.subdomain} · ${when(message.left_at)}`));
    const text = h("p", { class: "message-text" }, message.text);
    const meta = h("p", { class: "small muted" }, `${message.customer_email} — ${REASONS[message.reason] || ""}`);
    if (message.status === "answered") {
      return h("li", { class: "message answered", dataset: { message: message.message_id } }, header, meta, text,
        h("p", { class: "reply" }, h("span", { class: "small muted" },
          `Answered by ${message.answered_by || "a technician"} · ${when(message.answered_at)}${message.reply_sent ? " · e-mail sent" : " · sending…"}`),
        h("span", { class: "reply-text" }, message.reply)));
    }
    const areaId = `answer-${message.message_id}`;
    const area = h("textarea", { id: areaId, rows: "3", maxlength: "4000", required: true });
    area.value = drafts.get(message.message_id) || "";
    area.addEventListener("input", () => drafts.set(message.message_id, area.value));
    const error = h("p", { class: "form-error", role: "alert" });
    const send = h("button", { type: "submit", class: "small" }, "Send answer");
    const form = h("form", {
      class: "answer-form", novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        if (!area.value.trim()) { error.textContent = "Please write your answer."; area.focus(); return; }
        send.disabled = true;
        try {
          await authed(`/api/portal/messages/${encodeURIComponent(message.message_id)}/answer`, { method: "POST", body: { text: area.value.trim() } });
          drafts.delete(message.message_id);
          toast(`Answer sent to ${message.customer_name}.`);
          await refresh();
        } catch (problem) {
          send.disabled = false;
          error.textContent = (problem.fields && problem.fields[0]?.message) || problem.message;
          if (problem.code === "already_answered") refresh();
        }
      },
    },
    h("label", { for: areaId, class: "small" }, `Answer ${message.customer_name} by e-mail`), area, error, send);
    return h("li", { class: "message", dataset: { message: message.message_id } }, header, meta, text, form);
  }

  async function refresh() {
    let listing;
    try {
      listing = await authed("/api/portal/messages");
    } catch (problem) {
      status.textContent = `Messages could not be loaded: ${problem.message}`;
      return;
    }
    status.textContent = listing.open.length ? "" : "No message is waiting for an answer.";
    count.textContent = String(listing.open.length);
    const focused = document.activeElement?.closest?.("[data-message]")?.dataset.message;
    replace(openList, listing.open.map(item));
    replace(answeredList, listing.answered.length ? listing.answered.map(item) : h("li", { class: "small muted" }, "Nothing answered yet."));
    if (focused) openList.querySelector(`[data-message="${CSS.escape(focused)}"] textarea`)?.focus();
  }

  refresh();
  const timer = setInterval(() => {
    // Never re-render under someone typing an answer.
    if (!card.contains(document.activeElement)) refresh();
  }, REFRESH_MS);
  return { refresh, stop: () => clearInterval(timer) };
}
