/* Transfer a chat to a colleague: the "Transfer" form in a chat, the colleague's alert (with
   the note) and their Accept / Decline, and what the first technician is told when nobody
   takes it. Dispatch holds the truth: alerts come from presence frames and, after a
   (re)connection, from GET /api/dispatch/transfers. */

import { announce, formatCountdown, h, replace } from "../assets/dom.js";

const NOTE_MAX = 500;
const QUEUE = "queue"; // the select's value for "the company's queue"

function ensureStylesheet() {
  const href = new URL("./transfer.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

const requestPath = (requestId, tail) => `/api/dispatch/requests/${encodeURIComponent(requestId)}/${tail}`;

/* `list` is the incoming-requests list the offers join; `onAccepted(offer)` opens the chat;
   `onHandedOff(panel, message)` closes a chat its technician sent back to the queue;
   `onRefreshed(body)` gets the whole read of GET /api/dispatch/transfers (its invitations too). */
export function setupTransfers({ authed, toast, list, onAccepted, onCountChange, onHandedOff, onRefreshed }) {
  ensureStylesheet();
  const offers = new Map(); // request_id -> { offer, card, countdown, errorLine, buttons }
  const notes = new Map(); // request_id -> the accepted offer, to show its note in the chat
  const panels = new Map(); // request_id -> the chat panel (to tell its technician what happened)

  function showOffer(offer) {
    if (offers.has(offer.request_id)) return;
    const countdown = h("span", { class: "countdown" });
    const errorLine = h("p", { class: "alert-error", role: "alert" });
    const accept = h("button", { type: "button", onclick: () => answer(offer.request_id, "accept") }, "Accept transfer");
    const decline = h("button", { type: "button", class: "secondary", onclick: () => answer(offer.request_id, "decline") }, "Decline");
    const from = offer.from_name || "A colleague";
    const card = h("li", { class: "alert transfer fade-in", dataset: { requestId: offer.request_id, transfer: "1" } },
      h("h3", {}, offer.customer_name),
      h("p", { class: "meta" }, `${from} asks you to take over this chat · `, countdown),
      h("p", { class: "desc" }, offer.description || "No description given."),
      offer.note ? h("p", { class: "transfer-note" }, h("strong", {}, `Note from ${from}: `), offer.note) : null,
      h("div", { class: "actions" }, accept, decline),
      errorLine);
    offers.set(offer.request_id, { offer, card, countdown, errorLine, buttons: [accept, decline] });
    list.prepend(card);
    tick();
    onCountChange?.();
    announce(`${from} asks you to take over the chat with ${offer.customer_name}.`);
  }

  function dropOffer(requestId) {
    const entry = offers.get(requestId);
    if (!entry) return;
    entry.card.remove();
    offers.delete(requestId);
    onCountChange?.();
  }

  function tick() {
    const now = Date.now();
    for (const [id, entry] of offers) {
      const left = Date.parse(entry.offer.expires_at) - now;
      if (left <= 0) { dropOffer(id); continue; }
      entry.countdown.textContent = `${formatCountdown(left)} left to answer`;
    }
  }

  async function answer(requestId, verb) {
    const entry = offers.get(requestId);
    if (!entry) return;
    for (const button of entry.buttons) button.disabled = true;
    entry.errorLine.textContent = "";
    try {
      await authed(requestPath(requestId, `transfer/${verb}`), { method: "POST" });
      dropOffer(requestId);
      if (verb === "accept") {
        notes.set(requestId, entry.offer);
        toast(`You took over the chat with ${entry.offer.customer_name}. It opens in a moment.`);
        onAccepted(entry.offer);
      } else {
        toast(`You declined the chat with ${entry.offer.customer_name}.`);
      }
    } catch (error) {
      entry.errorLine.textContent = error.message;
      entry.card.classList.add("taken");
      setTimeout(() => dropOffer(requestId), 5000);
    }
  }

  /* The panel's "Transfer" button and form (a colleague with a free slot, and a note). */
  function attach(panel, handoverNote) {
    if (panel.guest) return; // a chat joined as a guest stays its technician's to transfer
    const requestId = panel.session.request_id;
    panels.set(requestId, panel);
    const accepted = notes.get(requestId) || (handoverNote ? { note: handoverNote } : null);
    if (accepted?.note) {
      const from = accepted.from_name || "your colleague";
      panel.messages.before(h("p", { class: "transfer-note handover" }, h("strong", {}, `Note from ${from}: `), accepted.note));
    }
    const ids = { to: `transfer-to-${panel.id}`, note: `transfer-note-${panel.id}` };
    const select = h("select", { id: ids.to, name: "to_technician_id", required: true });
    const note = h("textarea", { id: ids.note, name: "note", maxlength: String(NOTE_MAX), rows: "2" });
    const formError = h("p", { class: "form-error", role: "alert" });
    const status = h("p", { class: "small transfer-status", role: "status" });
    const submit = h("button", { type: "submit" }, "Send transfer");
    const form = h("form", {
      class: "transfer-form", hidden: true,
      onsubmit: async (e) => {
        e.preventDefault();
        formError.textContent = "";
        if (!select.value) { formError.textContent = "Pick a colleague or the queue to transfer the chat to."; return; }
        submit.disabled = true;
        try {
          if (select.value === QUEUE) {
            await authed(requestPath(requestId, "return"), { method: "POST", body: { note: note.value } });
            onHandedOff(panel, `The chat with ${panel.session.customer_name} went back to the queue.`);
            return;
          }
          const sent = await authed(requestPath(requestId, "transfer"), {
            method: "POST", body: { to_technician_id: select.value, note: note.value },
          });
          form.hidden = true;
          panel.composer.hidden = panel.ended;
          status.textContent = `Waiting for ${sent.to_name || "your colleague"} to accept…`;
          announce(status.textContent);
        } catch (error) {
          formError.textContent = error.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h4", {}, "Transfer this chat"),
    h("div", { class: "field" }, h("label", { for: ids.to }, "Transfer to"), select),
    h("div", { class: "field" },
      h("label", { for: ids.note }, "Note for your colleague ", h("span", { class: "hint" }, `(not shown to the customer, up to ${NOTE_MAX} characters)`)),
      note),
    formError,
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", class: "quiet", onclick: () => { form.hidden = true; panel.composer.hidden = panel.ended; } }, "Cancel")));

    async function open() {
      formError.textContent = "";
      replace(select, h("option", { value: "" }, "Loading…"));
      for (const other of panel.el.querySelectorAll(".invite-form")) other.hidden = true;
      form.hidden = false;
      panel.endForm.hidden = true;
      try {
        const { colleagues } = await authed(requestPath(requestId, "colleagues"));
        replace(select,
          colleagues.map((c) => h("option", { value: c.technician_id }, c.display_name)),
          h("option", { value: QUEUE }, colleagues.length ? "The company's queue" : "The company's queue (no colleague is available right now)"));
      } catch (error) {
        replace(select, h("option", { value: "" }, "—"));
        formError.textContent = error.message;
      }
      select.focus();
    }

    const button = h("button", { type: "button", class: "secondary small", dataset: { liveOnly: "1" }, onclick: open }, "Transfer");
    panel.endButton.before(button);
    panel.endForm.after(form, status);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "transfer_offer":
        showOffer(frame);
        return true;
      case "transfer_closed":
        dropOffer(frame.request_id);
        return true;
      case "transfer_lapsed": {
        const panel = panels.get(frame.request_id);
        const line = panel?.el.querySelector(".transfer-status");
        if (line) line.textContent = frame.message;
        toast(frame.message);
        return true;
      }
      default:
        return false;
    }
  }

  /* After a (re)connection: the offers still open, from dispatch. */
  async function refresh() {
    try {
      const body = await authed("/api/dispatch/transfers");
      const { transfers } = body;
      onRefreshed?.(body);
      const open = new Set(transfers.map((t) => t.request_id));
      for (const id of [...offers.keys()]) if (!open.has(id)) dropOffer(id);
      for (const offer of transfers) showOffer(offer);
    } catch {
      /* The next connection tries again; frames keep coming meanwhile. */
    }
  }

  return {
    attach, onFrame, refresh, tick,
    detach: (panel) => panels.delete(panel.session.request_id),
    get count() { return offers.size; },
    clear: () => { for (const id of [...offers.keys()]) dropOffer(id); notes.clear(); panels.clear(); },
  };
}
