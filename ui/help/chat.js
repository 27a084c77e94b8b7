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
    this.typingTimer = null;
    this.lastTyping = 0;
    this.build();
    this.socket = new ChatSocket(`/api/chat/ws/${encodeURIComponent(this.id)}`, ctx.token, {
      renew: ctx.renew,
      onMessage: (m) => this.addMessage(m),
      onSession: (s) => this.onSession(s),
      onTyping: (t) => this.showTyping(t),
      onError: (e) => { this.error.textContent = e.message; },
      onRefused: (reason) => { this.error.textContent = reason || "This chat is not available to you."; },
    });
    this.socket.open();
  }

  build() {
    const s = this.session;
    const titleId = `chat-title-${this.id}`;
    this.stateBadge = h("span", { class: "badge ok" }, "Active");
    this.messages = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
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
    this.footer = h("div", { class: "chat-ended", hidden: true });
    this.el = h("article", { class: "chat fade-in", "aria-labelledby": titleId, dataset: { sessionId: this.id } },
      h("header", {},
        h("div", { class: "row" },
          h("h3", { id: titleId }, s.customer_name),
          h("div", { class: "actions" }, this.stateBadge, this.endButton, this.closeButton)),
        h("p", { class: "problem" }, s.description || "No description given.")),
      this.messages, this.typing, this.error, this.composer, this.endForm, this.footer);
    if (this.ended) this.showEnded(s.outcome);
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
    const mine = m.author === "technician";
    const who = m.author === "system" ? "" : (mine ? "You" : m.author_name || "Customer");
    const item = h("li", { class: `msg ${m.author === "system" ? "system" : mine ? "mine" : "theirs"}` },
      who ? h("span", { class: "meta" }, `${who} · ${formatTime(m.sent_at)}`) : null,
      h("span", { class: "text" }, m.text));
    this.messages.append(item);
    this.messages.scrollTop = this.messages.scrollHeight;
    if (m.author === "customer") this.typing.textContent = "";
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
    this.typing.textContent = "";
    const who = endedBy === "customer" ? "The customer left the chat." : endedBy === "abandoned" ? "The customer went away." : "Session ended.";
    const label = OUTCOMES.find(([v]) => v === outcome);
    replace(this.footer, h("strong", {}, who), label ? ` Outcome: ${label[1]}.` : "");
    this.footer.hidden = false;
    announce(`Chat with ${this.session.customer_name} ended.`);
  }

  destroy() {
    this.socket.close();
    this.el.remove();
  }
}
