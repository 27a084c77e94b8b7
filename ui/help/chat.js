/* A chat panel in the help center: messages, composer, typing, end of session. */

import { ChatSocket } from "../assets/chatsocket.js";
import { announce, formatTime, h, replace } from "../assets/dom.js";

const OUTCOMES = [
  ["resolved", "Resolved"],
  ["unresolved", "Unresolved"],
  ["unknown", "Unknown"],
];

export class ChatPanel {
  constructor(session, ctx) {
    this.session = session;
    this.ctx = ctx;
    this.id = session.session_id;
    this.ended = session.state === "completed";
    // Joined as an invited colleague: the chat is another technician's (they end it).
    this.guest = Boolean(session.guest);
    this.typingTimer = null;
    this.lastTyping = 0;
    this.unread = 0;
    // Messages older than the panel are history, not news (the socket replays them on join).
    this.openedAt = Date.now() - 2000;
    this.build();
    this.socket = new ChatSocket(`/api/chat/ws/${encodeURIComponent(this.id)}`, ctx.token, {
      renew: ctx.renew,
      onMessage: (m) => this.addMessage(m),
      onSession: (s) => this.onSession(s),
      onTyping: (t) => this.showTyping(t),
      onError: (e) => { this.error.textContent = e.message; },
      onRefused: (reason) => {
        // A colleague who just joined may open the chat a moment before chat-svc heard of it: once more.
        if (this.guest && !this.guestRetried && !this.socket.closed) {
          this.guestRetried = true;
          setTimeout(() => { if (!this.socket.closed) this.socket.open(); }, 1500);
          return;
        }
        this.error.textContent = reason || "This chat is not available to you.";
      },
    });
    this.socket.open();
  }

  build() {
    const s = this.session;
    const titleId = `chat-title-${this.id}`;
    this.stateBadge = h("span", { class: "badge ok" }, "Active");
    // Focusable, so keyboard users can scroll a long conversation.
    this.messages = h("ol", { class: "messages", "aria-live": "polite", "aria-label": `Messages with ${s.customer_name}`, tabindex: "0" });
    this.typing = h("div", { class: "typing", "aria-live": "polite" });
    this.error = h("p", { class: "chat-error", role: "alert" });
    this.input = h("textarea", {
      "aria-label": `Message to ${s.customer_name}`, maxlength: "4000", rows: "1", placeholder: "Write a message…",
      onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.composer.requestSubmit(); } },
      oninput: () => this.sendTyping(),
    });
    this.composer = h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.input, h("button", { type: "submit" }, "Send"));
    this.endButton = h("button", { type: "button", class: "danger small", onclick: () => this.toggleEndForm(true) }, "End session");
    this.closeButton = h("button", {
      type: "button", class: "quiet small", "aria-label": `Close the chat with ${s.customer_name}`,
      onclick: () => this.ctx.onClose(this),
    }, "Close");
    this.endForm = this.buildEndForm();
    // Built only when needed (the customer left first): one outcome form per chat at a time.
    this.wrapUp = null;
    this.footer = h("div", { class: "chat-ended", hidden: true });
    this.unreadBadge = h("span", { class: "unread", hidden: true });
    this.el = h("article", { class: "chat fade-in", "aria-labelledby": titleId, dataset: { sessionId: this.id } },
      h("header", {},
        h("div", { class: "row" },
          h("h3", { id: titleId }, s.customer_name, " ", this.unreadBadge),
          h("div", { class: "actions" }, this.stateBadge, this.endButton, this.closeButton)),
        h("p", { class: "problem" }, s.description || "No description given."),
        this.buildCustomerPanel()),
      this.messages, this.typing, this.error, this.composer, this.endForm, this.footer);
    this.el.addEventListener("focusin", () => this.markRead());
    this.el.addEventListener("pointerdown", () => this.markRead());
    if (this.ended) this.showEnded(s.outcome, s.ended_by);
  }

  /* Read = the technician is in this chat (focus inside it) in a visible page. */
  isBeingRead() {
    return document.visibilityState === "visible" && this.el.contains(document.activeElement);
  }

  markRead() {
    if (!this.unread) return;
    this.unread = 0;
    this.unreadBadge.hidden = true;
    this.ctx.onRead?.(this);
  }

  /* Who the customer is, read from portal-svc when first opened. */
  buildCustomerPanel() {
    const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
    const panel = h("details", { class: "customer-panel" }, h("summary", {}, "Customer details"), body);
    let loaded = false;
    panel.addEventListener("toggle", async () => {
      if (!panel.open || loaded) return;
      loaded = true;
      try {
        const c = await this.ctx.authed(`/api/portal/requests/${encodeURIComponent(this.session.request_id)}/customer`);
        const row = (term, value) => [h("dt", {}, term), h("dd", {}, value)];
        replace(body,
          h("dl", {},
            row("Name", c.customer_name),
            row("E-mail", c.customer_email || "Not given"),
            row("Portal", c.portal_subdomain ? `${c.portal_subdomain}${c.company_name ? ` (${c.company_name})` : ""}` : "Unknown"),
            row("Wrote", c.description || "No description given."),
            row("Asked at", formatTime(c.submitted_at))),
          h("p", { class: "small" }, h("strong", {}, "Earlier requests")),
          c.earlier.length
            ? h("ul", {}, c.earlier.map((e) => h("li", {}, `${new Date(e.submitted_at).toLocaleDateString()} · ${e.status.replace(/_/g, " ")} · ${e.description || "No description given."}`)))
            : h("p", { class: "small muted" }, c.customer_email ? "None from this e-mail address." : "Without an e-mail address, earlier requests cannot be found."));
      } catch (error) {
        loaded = false;
        replace(body, h("p", { class: "form-error" }, `Customer details could not be loaded: ${error.message}`));
      }
    });
    return panel;
  }

  buildWrapUp() {
    const notes = h("textarea", { name: "notes", maxlength: "2000", rows: "3" });
    const radios = OUTCOMES.map(([value, label], i) =>
      h("label", { class: "check" }, h("input", { type: "radio", name: `wrap-${this.id}`, value, checked: i === 0 }), label));
    const formError = h("p", { class: "form-error", role: "alert" });
    const saved = h("p", { class: "small", role: "status" });
    const form = h("form", {
      class: "wrap-up", hidden: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const outcome = form.querySelector(`input[name="wrap-${this.id}"]:checked`).value;
        formError.textContent = "";
        saved.textContent = "";
        try {
          const done = await this.ctx.authed(`/api/chat/sessions/${encodeURIComponent(this.id)}/wrap-up`, {
            method: "POST", body: { outcome, notes: notes.value },
          });
          const label = OUTCOMES.find(([v]) => v === done.outcome);
          saved.textContent = `Saved: outcome ${label ? label[1] : done.outcome}${done.notes ? ", with your notes" : ""}.`;
          this.ctx.onEnded(this);
        } catch (error) {
          formError.textContent = error.message;
        }
      },
    },
    h("h4", {}, "Record the outcome"),
    h("label", { class: "field" }, h("span", {}, "Notes ", h("span", { class: "hint" }, "(not shown to the customer)")), notes),
    h("fieldset", {}, h("legend", {}, "Outcome"), radios),
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save outcome and notes"), saved));
    return form;
  }

  buildEndForm() {
    const notes = h("textarea", { name: "notes", maxlength: "2000", rows: "3" });
    const radios = OUTCOMES.map(([value, label], i) =>
      h("label", { class: "check" }, h("input", { type: "radio", name: `outcome-${this.id}`, value, checked: i === 0 }), label));
    const formError = h("p", { class: "form-error", role: "alert" });
    const form = h("form", {
      class: "end-form", hidden: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const outcome = form.querySelector(`input[name="outcome-${this.id}"]:checked`).value;
        formError.textContent = "";
        try {
          const ended = await this.ctx.authed(`/api/chat/sessions/${encodeURIComponent(this.id)}/end`, {
            method: "POST", body: { outcome, notes: notes.value },
          });
          this.showEnded(ended.outcome);
          this.ctx.onEnded(this);
        } catch (error) {
          formError.textContent = error.message;
        }
      },
    },
    h("h4", {}, "End this session"),
    h("label", { class: "field" }, h("span", {}, "Notes ", h("span", { class: "hint" }, "(not shown to the customer)")), notes),
    h("fieldset", {}, h("legend", {}, "Outcome"), radios),
    formError,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "danger" }, "End session"),
      h("button", { type: "button", class: "quiet", onclick: () => this.toggleEndForm(false) }, "Keep chatting")));
    this.notesField = notes;
    return form;
  }

  toggleEndForm(open) {
    this.endForm.hidden = !open;
    this.composer.hidden = open || this.ended;
    if (open) this.notesField.focus(); else this.input.focus();
  }

  addMessage(m) {
    // After a transfer the chat holds a colleague's lines too: only our own read "You".
    const myName = this.ctx.myName?.();
    const mine = m.author === "technician" && (!m.author_name || !myName || m.author_name === myName);
    const who = m.author === "system" ? "" : (mine ? "You" : m.author_name || "Customer");
    const item = h("li", { class: `msg ${m.author === "system" ? "system" : mine ? "mine" : "theirs"}` },
      who ? h("span", { class: "meta" }, `${who} · ${formatTime(m.sent_at)}`) : null,
      h("span", { class: "text" }, m.text));
    this.messages.append(item);
    this.messages.scrollTop = this.messages.scrollHeight;
    if (m.author === "customer") this.typing.textContent = "";
    const news = m.author === "customer" && !(Date.parse(m.sent_at) < this.openedAt);
    if (news && !this.isBeingRead()) {
      this.unread += 1;
      this.unreadBadge.textContent = String(this.unread);
      this.unreadBadge.setAttribute("aria-label", `${this.unread} unread`);
      this.unreadBadge.hidden = false;
      this.ctx.onUnread?.(this);
    }
  }

  showTyping(frame) {
    if (frame.author !== "customer") return;
    this.typing.textContent = `${this.session.customer_name} is typing…`;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typing.textContent = ""; }, 4000);
  }

  sendTyping() {
    const now = Date.now();
    if (now - this.lastTyping > 2500) { this.lastTyping = now; this.socket.send({ type: "typing" }); }
  }

  send() {
    const text = this.input.value.trim();
    if (!text) return;
    if (this.socket.sendMessage(text)) {
      this.input.value = "";
      this.error.textContent = "";
    } else {
      this.error.textContent = "Not connected; your message was kept — try again in a moment.";
    }
  }

  onSession(frame) {
    const me = this.ctx.me?.();
    const guests = frame.guests || [];
    this.onGuests?.(guests);
    if (this.guest && me && !guests.some((g) => g.technician_id === me) && !this.ended && frame.state !== "completed") {
      // We are no longer among the chat's guests (we left, maybe from another tab).
      this.ctx.onLeft?.(this);
      return;
    }
    // Transferred to a colleague: this chat is no longer ours to show.
    if (!this.guest && me && frame.technician_id && frame.technician_id !== me && !this.ended) {
      this.ctx.onTransferredAway?.(this, frame);
      return;
    }
    if (frame.state === "completed" && !this.ended) {
      this.showEnded(frame.outcome, frame.ended_by);
      this.ctx.onEnded(this);
    }
  }

  showEnded(outcome, endedBy) {
    this.ended = true;
    this.stateBadge.className = "badge off";
    this.stateBadge.textContent = "Completed";
    this.composer.hidden = true;
    this.endForm.hidden = true;
    this.endButton.hidden = true;
    for (const el of this.el.querySelectorAll("[data-live-only]")) el.hidden = true;
    for (const form of this.el.querySelectorAll(".transfer-form")) form.hidden = true;
    this.typing.textContent = "";
    const who = endedBy === "customer" ? "The customer left the chat." : endedBy === "abandoned" ? "The customer went away." : "Session ended.";
    const label = OUTCOMES.find(([v]) => v === outcome);
    replace(this.footer, h("strong", {}, who), label && endedBy !== "customer" && endedBy !== "abandoned" ? ` Outcome: ${label[1]}.` : "");
    this.footer.hidden = false;
    // The customer left first: the chat's technician (not a guest) still records what came of it.
    if ((endedBy === "customer" || endedBy === "abandoned") && !this.wrapUp && !this.guest) {
      this.endForm.remove();
      this.wrapUp = this.buildWrapUp();
      this.wrapUp.hidden = false;
      this.el.append(this.wrapUp);
    }
    announce(`Chat with ${this.session.customer_name} ended.`);
  }

  destroy() {
    this.socket.close();
    this.el.remove();
  }
}
