/* Leave a message: name, e-mail and text, checked all at once, sent to the portal's
   `/messages` route. A customer who gives up waiting has their request cancelled first, so
   no technician is still offered a request nobody waits on. */

import { ApiError, fieldErrors } from "../assets/api.js";
import { h } from "../assets/dom.js";
import { checkFields } from "./fields.js";

export class MessageForm {
  constructor(portal, reason, intro, requestId) {
    this.portal = portal;
    this.reason = reason;
    this.requestId = requestId || null;
    const field = (name, label, control) => portal.field(name, label, control);
    this.error = h("p", { class: "al-form-error", role: "alert" });
    this.button = h("button", { type: "submit" }, "Send message");
    const saved = portal.request || {};
    this.element = h("form", {
      class: "al-form al-message-form", novalidate: true, "aria-label": "Leave a message",
      onsubmit: (e) => { e.preventDefault(); this.send(); },
    },
      intro ? h("p", { class: "al-muted" }, intro) : null,
      h("p", { class: "al-required-note" }, h("span", { "aria-hidden": "true" }, "* "), "Required"),
      field("customer_name", "Your name", h("input", { autocomplete: "name", maxlength: "100", required: true, value: saved.customer_name || portal.prefill?.name || "" })),
      field("customer_email", "E-mail", h("input", { type: "email", autocomplete: "email", maxlength: "254", required: true, value: saved.customer_email || portal.prefill?.email || "" })),
      field("text", "Your message", h("textarea", { rows: "4", maxlength: "4000", required: true })),
      this.error, this.button);
  }

  values() {
    const body = {};
    for (const [key, value] of new FormData(this.element).entries()) {
      const text = String(value).trim();
      if (text) body[key] = text;
    }
    return body;
  }

  async send() {
    const form = this.element;
    this.error.textContent = "";
    const body = this.values();
    const problems = checkFields(form, body);
    this.portal.showFieldErrors(form, problems);
    if (Object.keys(problems).length) { this.error.textContent = "Please check the highlighted fields."; return; }
    this.button.disabled = true;
    try {
      if (this.requestId && this.portal.request) {
        this.portal.leavingMessage = true;
        try {
          await this.portal.authed(`/requests/${encodeURIComponent(this.requestId)}/cancel`, { method: "POST" });
        } catch (error) {
          // Taken by a technician meanwhile: the chat is better than a message.
          if (error.code === "already_assigned") { this.portal.leavingMessage = false; this.portal.poll(); return; }
        }
      }
      const path = `/public/portals/${encodeURIComponent(this.portal.subdomain)}/messages`;
      await this.portal.api(path, { method: "POST", body: { ...body, reason: this.reason, request_id: this.requestId || undefined } });
      this.portal.showMessageSent(body.customer_email);
    } catch (error) {
      this.button.disabled = false;
      if (!(error instanceof ApiError)) throw error;
      const errors = fieldErrors(error);
      const pinned = this.portal.showFieldErrors(form, errors);
      this.error.textContent = pinned ? "Please check the highlighted fields." : error.message;
    }
  }
}
