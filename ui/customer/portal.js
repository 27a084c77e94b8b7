/* Assistline customer portal, progressive enhancement of
   <div id="assistline-portal" data-subdomain="...">: the right screen for the portal's
   state (open, closed, nobody available), the request form with every problem listed at
   once, a live waiting screen pushed by the server over a WebSocket (status, queue
   position, estimated wait, how long offers have been out), the leave-a-message form, the
   chat, and the transcript at the end. Every text from the server or the technician is
   inserted with textContent. */

import { ApiError, api, fieldErrors, socketProtocols, wsUrl } from "../assets/api.js";
import { ChatSocket } from "../assets/chatsocket.js";
import { announce, formatTime, h, replace } from "../assets/dom.js";
import { checkFields, markRequired } from "./fields.js";
import { connectHost } from "./bridge.js";
import { MessageForm } from "./message.js";
import { ratingForm } from "./rating.js";
import { describeWait, elapsed } from "./wait.js";

const RECHECK_MS = 15000;
const RECONNECT_MS = [500, 1000, 2000, 5000, 10000];
const FINISHED_OR_CHAT = new Set(["ended", "rejected", "cancelled", "chat_open"]);
const CODE_FIELDS = {
  technician_unavailable: "chosen_technician_id",
};

function ensureStylesheet() {
  const href = new URL("./portal.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

function findSubdomain(root) {
  const given = root.dataset.subdomain || new URLSearchParams(location.search).get("s") || "";
  const fromPath = location.pathname.match(/^\/p\/([A-Za-z0-9-]+)/);
  return (given || (fromPath ? fromPath[1] : "")).toLowerCase();
}

class Portal {
  constructor(root, subdomain) {
    this.root = root;
    this.subdomain = subdomain;
    this.storeKey = `assistline:request:${subdomain}`;
    this.statusSocket = null;
    this.tick = null;
    this.recheckTimer = null;
    this.chat = null;
    this.lastStatus = null;
    root.classList.add("al-portal");
    root.setAttribute("aria-live", "polite");
    this.header = h("header", { class: "al-header" });
    this.body = h("div", { class: "al-body" });
    replace(root, this.header, this.body);
  }

  api(path, options) {
    return api(`/api/portal${path}`, options);
  }

  saved() {
    try { return JSON.parse(sessionStorage.getItem(this.storeKey) || "null"); } catch { return null; }
  }

  async start() {
    const request = this.saved();
    if (request) {
      this.setTitle(request.company_name || "Support");
      this.follow(request);
      return;
    }
    await this.load();
  }

  setTitle(company) {
    this.company = company;
    replace(this.header, h("h1", { class: "al-title" }, `${company} support`));
  }

  screen(...children) {
    clearInterval(this.recheckTimer);
    clearInterval(this.tick);
    replace(this.body, h("section", { class: "al-screen al-fade" }, ...children));
    const heading = this.body.querySelector("h2");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }

  async load() {
    let view;
    try {
      view = await this.api(`/public/portals/${encodeURIComponent(this.subdomain)}`);
    } catch (error) {
      this.setTitle("Assistline");
      this.screen(h("h2", {}, error.status === 404 ? "Support portal not found" : "Something went wrong"),
        h("p", {}, error.message),
        error.status === 404 ? null : h("button", { type: "button", onclick: () => this.load() }, "Try again"));
      return;
    }
    this.view = view;
    this.setTitle(view.company_name);
    this.root.dataset.view = view.view;
    if (view.view === "unavailable") return this.showUnavailable(view);
    if (view.view === "closed") return this.showClosed(view);
    if (view.view === "no_technician") return this.showNoTechnician(view);
    return this.showForm(view);
  }

  showClosed(view) {
    this.screen(h("div", { class: "al-icon al-icon-clock", "aria-hidden": "true" }),
      h("h2", {}, "We are closed"),
      h("p", { class: "al-lead al-reopen" }, view.message),
      this.messageForm("closed", "Leave us a message and we will answer by e-mail."));
  }

  /* The leave-a-message form, for `reason` (closed, no_technician, long_wait, customer_choice). */
  messageForm(reason, intro, requestId) {
    return new MessageForm(this, reason, intro, requestId).element;
  }

  showMessageSent(email) {
    this.forget();
    this.screen(h("div", { class: "al-icon al-icon-done", "aria-hidden": "true" }),
      h("h2", {}, "Thank you, your message was sent"),
      h("p", { class: "al-lead" }, `We will answer by e-mail to ${email}.`),
      h("button", { type: "button", class: "al-secondary", onclick: () => { this.reset(); this.load(); } }, "Back to the start"));
  }

  showUnavailable(view) {
    this.screen(h("div", { class: "al-icon al-icon-pause", "aria-hidden": "true" }),
      h("h2", {}, "Service unavailable"),
      h("p", { class: "al-lead" }, view.message));
  }

  showNoTechnician(view) {
    this.screen(h("div", { class: "al-icon al-icon-clock", "aria-hidden": "true" }),
      h("h2", {}, "No technician available right now"),
      h("p", { class: "al-lead" }, view.message),
      h("p", { class: "al-muted" }, "This page checks again every few seconds and shows the form as soon as someone is free."),
      h("div", { class: "al-actions" },
        h("button", { type: "button", class: "al-secondary", onclick: () => this.load() }, "Check again"),
        h("button", { type: "button", class: "al-secondary", onclick: () => this.offerMessage("no_technician") }, "Leave a message")));
    this.recheckTimer = setInterval(() => this.load(), RECHECK_MS);
  }

  offerMessage(reason, requestId) {
    const intro = "Tell us what you need and we will answer by e-mail.";
    const back = () => (requestId && this.request ? this.follow(this.request) : this.load());
    this.screen(h("h2", {}, "Leave a message"), this.messageForm(reason, intro, requestId),
      h("button", { type: "button", class: "al-link", onclick: back }, requestId ? "Back to waiting" : "Back"));
  }

  field(name, label, control, hint) {
    const id = `al-${name}`;
    const errorId = `${id}-error`;
    control.id = id;
    control.name = name;
    control.setAttribute("aria-describedby", errorId);
    const labelEl = h("label", { for: id }, label, hint ? h("span", { class: "al-hint" }, ` ${hint}`) : null);
    if (control.required) markRequired(labelEl);
    return h("div", { class: "al-field", dataset: { field: name } },
      labelEl,
      control,
      h("p", { class: "al-field-error", id: errorId }));
  }

  showForm(view) {
    const type = view.portal_type;
    const parts = [];
    parts.push(this.field("customer_name", "Your name", h("input", { autocomplete: "name", maxlength: "100", required: true })));
    if (type === "smart_pin") {
      parts.push(this.field("connection_code", "Connection code",
        h("input", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "11", required: true, placeholder: "123 456 789" }),
        "(9 digits, read out by your technician)"));
    } else {
      parts.push(this.field("customer_email", "E-mail", h("input", { type: "email", autocomplete: "email", maxlength: "254" }), "(optional)"));
      if (type === "smart_match") {
        const errorId = "al-chosen_technician_id-error";
        const legend = h("legend", {}, "Choose a technician");
        markRequired(legend);
        parts.push(h("fieldset", { class: "al-field al-choices", dataset: { field: "chosen_technician_id", required: "true" }, "aria-describedby": errorId },
          legend,
          view.technicians.map((t) => h("label", { class: "al-choice" },
            h("input", { type: "radio", name: "chosen_technician_id", value: t.technician_id }),
            h("span", { class: "al-avatar", "aria-hidden": "true" }, (t.display_name || "?").slice(0, 1).toUpperCase()),
            h("span", {}, t.display_name))),
          h("p", { class: "al-field-error", id: errorId })));
      }
      if (type === "smart_box" || type === "smart_match") {
        parts.push(this.field("description", "Describe your problem",
          h("textarea", { rows: "4", maxlength: "2000", required: type === "smart_box" }),
          type === "smart_box" ? "" : "(optional)"));
      }
    }
    const label = type === "smart_pin" ? "Connect" : type === "smart_button" ? "Contact a technician" : "Send request";
    const formError = h("p", { class: "al-form-error", role: "alert" });
    const submit = h("button", { type: "submit" }, label);
    const form = h("form", { class: "al-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.submit(form, submit, formError); } },
      h("p", { class: "al-required-note" }, h("span", { "aria-hidden": "true" }, "* "), "Required"),
      parts, formError, submit);
    const intro = type === "smart_pin" ? view.message
      : view.mode === "queue" ? "Tell us how we can help. Requests are answered in order; you will see your place in the queue."
      : view.message;
    this.screen(h("h2", {}, type === "smart_pin" ? "Connect to your technician" : "How can we help?"),
      h("p", { class: "al-lead" }, intro), form);
    this.body.querySelector("h2").blur();
  }

  showFieldErrors(form, errors) {
    let first = null;
    for (const wrapper of form.querySelectorAll("[data-field]")) {
      const message = errors[wrapper.dataset.field] || "";
      wrapper.querySelector(".al-field-error").textContent = message;
      const control = wrapper.querySelector("input, textarea");
      if (wrapper.tagName !== "FIELDSET" && control) control.setAttribute("aria-invalid", message ? "true" : "false");
      wrapper.classList.toggle("al-invalid", Boolean(message));
      if (message && !first) first = control;
    }
    if (first) first.focus();
    return Boolean(first);
  }

  async submit(form, button, formError) {
    formError.textContent = "";
    const body = {};
    for (const [key, value] of new FormData(form).entries()) {
      const text = String(value).trim();
      if (text) body[key] = key === "connection_code" ? text.replace(/\s+/g, "") : text;
    }
    const problems = checkFields(form, body);
    this.showFieldErrors(form, problems);
    if (Object.keys(problems).length) {
      formError.textContent = "Please check the highlighted fields.";
      return;
    }
    button.disabled = true;
    try {
      const submitted = await this.api(`/public/portals/${encodeURIComponent(this.subdomain)}/requests`, { method: "POST", body });
      const request = {
        ...submitted, company_name: this.company, portal_type: this.view.portal_type,
        mode: this.view.mode, max_wait_seconds: this.view.max_wait_seconds,
        customer_name: body.customer_name, customer_email: body.customer_email,
      };
      sessionStorage.setItem(this.storeKey, JSON.stringify(request));
      this.follow(request);
    } catch (error) {
      button.disabled = false;
      if (!(error instanceof ApiError)) throw error;
      if (["no_technician", "portal_unavailable", "portal_closed"].includes(error.code)) { await this.load(); return; }
      const errors = fieldErrors(error, CODE_FIELDS);
      if (error.code === "technician_unavailable") this.refreshChoices(form);
      const pinned = this.showFieldErrors(form, errors);
      if (!pinned || error.status === 429) formError.textContent = error.message;
      else formError.textContent = "Please check the highlighted fields.";
    }
  }

  async refreshChoices(form) {
    try {
      const view = await this.api(`/public/portals/${encodeURIComponent(this.subdomain)}`);
      const keep = new FormData(form);
      if (view.view !== "form") { this.load(); return; }
      this.view = view;
      this.showForm(view);
      const fresh = this.body.querySelector("form");
      for (const name of ["customer_name", "customer_email", "description"]) {
        if (fresh.elements[name] && keep.get(name)) fresh.elements[name].value = keep.get(name);
      }
      fresh.querySelector("[data-field=chosen_technician_id] .al-field-error").textContent =
        "The technician you chose is no longer available; please choose another.";
    } catch { /* the message already shown is enough */ }
  }

  /* ---------- waiting ---------- */

  follow(request) {
    this.request = request;
    this.statusText = h("p", { class: "al-lead", id: "al-status-text" }, "Sending your request…");
    this.position = h("p", { class: "al-position", hidden: true });
    this.estimate = h("p", { class: "al-estimate", hidden: true });
    this.since = h("p", { class: "al-muted al-since", hidden: true });
    this.offerBox = h("div", { class: "al-offer-message", hidden: true });
    this.cancelButton = h("button", { type: "button", class: "al-danger", hidden: true, onclick: () => this.cancel() }, "Cancel my request");
    this.waitError = h("p", { class: "al-form-error", role: "alert" });
    this.screen(h("div", { class: "al-pulse", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
      h("h2", {}, "Your request"),
      this.statusText, this.position, this.estimate, this.since, this.offerBox, this.waitError, this.cancelButton);
    this.watch();
  }

  authed(path, options = {}) {
    return this.api(path, { ...options, token: this.request.token });
  }

  /* The server pushes every change of the request (and of the queue ahead of it). */
  watch() {
    this.unwatch();
    const request = this.request;
    const path = `/api/portal/requests/${encodeURIComponent(request.request_id)}/ws`;
    const socket = new WebSocket(wsUrl(path), socketProtocols(request.token));
    this.statusSocket = socket;
    this.retry = this.retry || 0;
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type !== "status") return;
      this.retry = 0;
      if (this.waitError) this.waitError.textContent = "";
      this.onStatus(frame.status);
    });
    socket.addEventListener("close", (event) => {
      if (this.statusSocket !== socket) return;
      this.statusSocket = null;
      if (!this.request || this.request !== request || FINISHED_OR_CHAT.has(this.lastStatus?.status)) return;
      if (event.code === 1008) { this.forget(); this.load(); return; }
      if (this.waitError) this.waitError.textContent = "Connection problem; reconnecting…";
      const delay = RECONNECT_MS[Math.min(this.retry, RECONNECT_MS.length - 1)];
      this.retry += 1;
      this.reconnectTimer = setTimeout(() => { if (this.request === request) this.watch(); }, delay);
    });
  }

  unwatch() {
    clearTimeout(this.reconnectTimer);
    const socket = this.statusSocket;
    this.statusSocket = null;
    if (socket) socket.close();
  }

  async poll() {
    /* One read after an action of ours (cancel): the socket brings everything else. */
    try {
      this.onStatus(await this.authed(`/requests/${encodeURIComponent(this.request.request_id)}`));
    } catch (error) {
      if (error.status === 401 || error.status === 403 || error.status === 404) { this.forget(); this.load(); }
    }
  }

  onStatus(status) {
    const changed = !this.lastStatus || this.lastStatus.status !== status.status || this.lastStatus.position !== status.position;
    this.lastStatus = status;
    if (status.status === "chat_open" && status.chat_ws_path) {
      this.unwatch();
      if (!this.chat) this.openChat(status);
      return;
    }
    if (status.status === "ended") {
      this.unwatch();
      if (!this.chat) this.showEnded(status.session_id, status.message);
      return;
    }
    if (status.status === "rejected" || status.status === "cancelled") {
      this.unwatch();
      this.forget();
      if (this.leavingMessage) return;
      return this.showFinished(status);
    }
    if (!this.statusText || !this.statusText.isConnected) return;
    this.statusText.textContent = status.technician
      ? `${status.message} (${status.technician.display_name})`
      : status.message;
    this.position.hidden = !status.position;
    this.position.textContent = status.position
      ? (status.position === 1 ? "You are next in the queue." : `Your position in the queue: ${status.position}`)
      : "";
    this.cancelButton.hidden = !status.cancellable;
    const estimate = describeWait(status.estimated_wait_seconds);
    this.estimate.hidden = !estimate;
    this.estimate.textContent = estimate;
    this.estimate.dataset.seconds = status.estimated_wait_seconds ?? "";
    this.showWaitingTime(status);
    if (changed) announce([this.statusText.textContent, this.position.textContent, estimate].filter(Boolean).join(" "));
  }

  /* Web mode: how long the offers have been out; after the portal's maximum wait, or when
     nobody is left to answer, the message form is offered. A local clock, not a request. */
  showWaitingTime(status) {
    const since = new Date(status.waiting_since).getTime();
    const web = this.request.mode === "web" || status.status === "offered";
    const maxWait = (this.request.max_wait_seconds || 180) * 1000;
    const update = () => {
      const waited = Date.now() - since;
      if (web && status.cancellable) {
        this.since.hidden = false;
        this.since.textContent = `Offered to our technicians for ${elapsed(waited)}.`;
      } else {
        this.since.hidden = true;
      }
      const offer = status.cancellable && (status.nobody_available || waited >= maxWait);
      if (offer && this.offerBox.hidden) {
        const reason = status.nobody_available ? "no_technician" : "long_wait";
        replace(this.offerBox,
          h("p", {}, status.nobody_available ? "Nobody can answer right now." : "Taking longer than expected?"),
          h("button", { type: "button", class: "al-secondary", onclick: () => this.offerMessage(reason, this.request.request_id) }, "Leave a message instead"));
        this.offerBox.hidden = false;
      }
    };
    clearInterval(this.tick);
    update();
    if (status.cancellable) this.tick = setInterval(update, 1000);
  }

  async cancel() {
    this.cancelButton.disabled = true;
    try {
      const status = await this.authed(`/requests/${encodeURIComponent(this.request.request_id)}/cancel`, { method: "POST" });
      this.onStatus(status);
    } catch (error) {
      this.waitError.textContent = error.message;
      this.cancelButton.disabled = false;
      this.poll();
    }
  }

  showFinished(status) {
    const title = status.status === "cancelled" ? "Request cancelled" : "We could not connect you";
    this.screen(h("h2", {}, title),
      h("p", { class: "al-lead" }, status.message),
      h("button", { type: "button", onclick: () => this.load() }, status.status === "rejected" ? "Try again" : "Start a new request"));
  }

  forget() {
    sessionStorage.removeItem(this.storeKey);
  }

  /* ---------- chat ---------- */

  openChat(status) {
    const technician = status.technician ? status.technician.display_name : "Your technician";
    // The list stays a list (its items are announced as such); the log around it is what
    // assistive technologies read out as messages arrive.
    this.messages = h("ol", { class: "al-messages" });
    const log = h("div", { role: "log", "aria-label": "Messages", "aria-live": "polite" }, this.messages);
    this.typing = h("p", { class: "al-typing", "aria-live": "polite" });
    this.chatError = h("p", { class: "al-form-error", role: "alert" });
    const input = h("textarea", {
      id: "al-message", rows: "1", maxlength: "4000", placeholder: "Write a message…",
      onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); } },
      oninput: () => {
        const now = Date.now();
        if (!this.lastTyping || now - this.lastTyping > 2500) { this.lastTyping = now; this.chat?.send({ type: "typing" }); }
      },
    });
    const composer = h("form", {
      class: "al-composer",
      onsubmit: (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        if (this.chat.sendMessage(text)) { input.value = ""; this.chatError.textContent = ""; }
        else this.chatError.textContent = "Reconnecting… your message was kept; send it again in a moment.";
      },
    }, h("label", { for: "al-message", class: "al-sr-only" }, `Message to ${technician}`), input, h("button", { type: "submit" }, "Send"));
    this.composer = composer;
    this.chatHeading = h("h2", {}, `Chat with ${technician}`);
    this.avatar = h("span", { class: "al-avatar", "aria-hidden": "true" }, technician.slice(0, 1).toUpperCase());
    this.composerLabel = composer.querySelector("label");
    this.screen(
      h("div", { class: "al-chat-head" },
        this.avatar,
        h("div", {}, this.chatHeading, h("p", { class: "al-muted" }, "You are connected."))),
      log, this.typing, this.chatError, composer,
      h("button", { type: "button", class: "al-link", onclick: () => this.leave() }, "Leave the chat"));
    input.focus();
    this.technician = technician;
    this.guestNames = new Set();
    this.chat = new ChatSocket(status.chat_ws_path, this.request.token, {
      onMessage: (m) => this.addMessage(m),
      onSession: (s) => {
        // Colleagues invited into the chat write in it too, but the chat stays with its technician.
        for (const guest of s.guests || []) if (guest.name) this.guestNames.add(guest.name);
        if (s.state === "completed") this.showEnded(s.session_id);
        else if (s.technician_name && s.technician_name !== this.technician) this.showTechnician(s.technician_name);
      },
      onTyping: (t) => {
        if (t.author !== "technician") return;
        this.typing.textContent = `${this.technician} is typing…`;
        clearTimeout(this.typingTimer);
        this.typingTimer = setTimeout(() => { this.typing.textContent = ""; }, 4000);
      },
      onError: (e) => { this.chatError.textContent = e.message; },
      onRefused: () => { this.chat = null; this.poll(); },
      onClosed: () => {},
    });
    this.sessionId = status.session_id;
    this.chat.open();
  }

  /* A colleague took the chat over (a transfer): the heading follows who is helping now. */
  showTechnician(name) {
    if (!this.chatHeading) return;
    this.technician = name;
    this.chatHeading.textContent = `Chat with ${name}`;
    this.avatar.textContent = name.slice(0, 1).toUpperCase();
    this.composerLabel.textContent = `Message to ${name}`;
  }

  addMessage(m) {
    if (!this.messages) return;
    const mine = m.author === "customer";
    const kind = m.author === "system" ? "system" : mine ? "mine" : "theirs";
    const who = m.author === "system" ? null : mine ? "You" : m.author_name || this.technician;
    this.messages.append(h("li", { class: `al-msg al-${kind}` },
      who ? h("span", { class: "al-meta" }, `${who} · ${formatTime(m.sent_at)}`) : null,
      h("span", { class: "al-text" }, m.text)));
    this.messages.scrollTop = this.messages.scrollHeight;
    if (m.author === "technician") { this.typing.textContent = ""; this.onTechnicianMessage?.(m); }
    // Whoever writes now is who helps now (the chat may have come from the queue to a colleague).
    if (m.author === "technician" && m.author_name && m.author_name !== this.technician && !this.guestNames?.has(m.author_name)) {
      this.showTechnician(m.author_name);
    }
  }

  leave() {
    if (!window.confirm("Leave the chat? The session will end.")) return;
    if (!this.chat || !this.chat.send({ type: "end" })) this.chatError.textContent = "Not connected; try again in a moment.";
  }

  showEnded(sessionId, message) {
    const id = sessionId || this.sessionId;
    if (this.ended) return;
    this.ended = true;
    this.chat?.close();
    this.unwatch();
    const downloadError = h("p", { class: "al-form-error", role: "alert" });
    const token = this.request.token;
    const history = this.messages;
    const children = [
      h("div", { class: "al-icon al-icon-done", "aria-hidden": "true" }),
      h("h2", {}, "Your support session has ended"),
      h("p", { class: "al-lead" }, message || "Thank you for contacting us."),
      h("div", { class: "al-actions" },
        id ? h("button", { type: "button", onclick: () => this.download(id, token, downloadError) }, "Download the transcript") : null,
        h("button", { type: "button", class: "al-secondary", onclick: () => { this.reset(); this.load(); } }, "Start a new request")),
      downloadError,
    ];
    if (id && token) children.push(ratingForm(id, token)); // satisfaction: ./rating.js
    if (history && history.children.length) {
      history.classList.add("al-history");
      children.push(h("details", { class: "al-details" }, h("summary", {}, "Show the conversation"), history));
    }
    this.forget();
    this.screen(...children);
  }

  reset() {
    this.unwatch();
    this.leavingMessage = false;
    this.chat = null;
    this.messages = null;
    this.ended = false;
    this.lastStatus = null;
    this.request = null;
  }

  async download(sessionId, token, errorBox) {
    errorBox.textContent = "";
    try {
      const response = await fetch(`/api/chat/sessions/${encodeURIComponent(sessionId)}/transcript`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error("The transcript is not available.");
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: `support-chat-${sessionId}.txt`, class: "al-sr-only" }, "transcript");
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      errorBox.textContent = error.message;
    }
  }
}

export function mount(root) {
  if (!root || root.dataset.assistlineMounted) return null;
  root.dataset.assistlineMounted = "true";
  ensureStylesheet();
  const subdomain = findSubdomain(root);
  const portal = new Portal(root, subdomain);
  connectHost(portal);
  if (!subdomain) {
    portal.setTitle("Assistline");
    portal.screen(h("h2", {}, "Support portal not found"), h("p", {}, "This page does not say which support portal to open."));
    return portal;
  }
  portal.start();
  return portal;
}

function boot() {
  let root = document.getElementById("assistline-portal");
  if (!root) {
    root = h("div", { id: "assistline-portal" });
    (document.querySelector("main") || document.body).append(root);
  }
  mount(root);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
