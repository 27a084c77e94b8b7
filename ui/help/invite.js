/* Invite a colleague to join a chat: the "Invite a colleague" form in a chat (beside
   Transfer), the colleague's invitation card (Join chat / Decline), and in a chat one joined
   as a guest the "Leave chat" button. Dispatch holds the truth: invitations come from
   presence frames and, after a (re)connection, with the transfers from
   GET /api/dispatch/transfers (handed over by transfer.js). */

import { announce, formatCountdown, h, replace } from "../assets/dom.js";

const NOTE_MAX = 500;

const requestPath = (requestId, tail) => `/api/dispatch/requests/${encodeURIComponent(requestId)}/${tail}`;

/* `list` is the incoming-requests list the cards join; `onAccepted(invitation)` opens the
   chat; `onLeft(panel, message)` closes a chat the technician left. */
export function setupInvitations({ authed, toast, list, onAccepted, onCountChange, onLeft }) {
  const invitations = new Map(); // request_id -> { invitation, card, countdown, errorLine, buttons }
  const panels = new Map(); // request_id -> the chat panel of its technician (to tell them what happened)

  function show(invitation) {
    if (invitations.has(invitation.request_id)) return;
    const countdown = h("span", { class: "countdown" });
    const errorLine = h("p", { class: "alert-error", role: "alert" });
    const from = invitation.from_name || "A colleague";
    const accept = h("button", { type: "button", onclick: () => answer(invitation.request_id, "accept") }, "Join chat");
    const decline = h("button", {
      type: "button", class: "secondary", "aria-label": `Decline the invitation to the chat with ${invitation.customer_name}`,
      onclick: () => answer(invitation.request_id, "decline"),
    }, "Decline");
    const card = h("li", { class: "alert invitation fade-in", dataset: { requestId: invitation.request_id, invitation: "1" } },
      h("h3", {}, invitation.customer_name),
      h("p", { class: "meta" }, `${from} invites you to join this chat · `, countdown),
      h("p", { class: "desc" }, invitation.description || "No description given."),
      invitation.note ? h("p", { class: "transfer-note" }, h("strong", {}, `Note from ${from}: `), invitation.note) : null,
      h("div", { class: "actions" }, accept, decline),
      errorLine);
    invitations.set(invitation.request_id, { invitation, card, countdown, errorLine, buttons: [accept, decline] });
    list.prepend(card);
    tick();
    onCountChange?.();
    announce(`${from} invites you to join the chat with ${invitation.customer_name}.`);
  }

  function drop(requestId) {
    const entry = invitations.get(requestId);
    if (!entry) return;
    entry.card.remove();
    invitations.delete(requestId);
    onCountChange?.();
  }

  function tick() {
    const now = Date.now();
    for (const [id, entry] of invitations) {
      const left = Date.parse(entry.invitation.expires_at) - now;
      if (left <= 0) { drop(id); continue; }
      entry.countdown.textContent = `${formatCountdown(left)} left to answer`;
    }
  }

  async function answer(requestId, verb) {
    const entry = invitations.get(requestId);
    if (!entry) return;
    for (const button of entry.buttons) button.disabled = true;
    entry.errorLine.textContent = "";
    try {
      await authed(requestPath(requestId, `invite/${verb}`), { method: "POST" });
      drop(requestId);
      if (verb === "accept") {
        toast(`You joined the chat with ${entry.invitation.customer_name}. It opens in a moment.`);
        onAccepted(entry.invitation);
      } else {
        toast(`You declined to join the chat with ${entry.invitation.customer_name}.`);
      }
    } catch (error) {
      entry.errorLine.textContent = error.message;
      entry.card.classList.add("taken");
      setTimeout(() => drop(requestId), 5000);
    }
  }

  /* A guest's chat: "Leave chat" instead of ending it (only its technician ends it). */
  function attachGuest(panel) {
    const requestId = panel.session.request_id;
    panel.endButton.hidden = true;
    const leave = h("button", {
      type: "button", class: "secondary small", dataset: { liveOnly: "1" },
      "aria-label": `Leave chat with ${panel.session.customer_name}`,
      onclick: async () => {
        leave.disabled = true;
        try {
          await authed(requestPath(requestId, "leave"), { method: "POST" });
          onLeft(panel, `You left the chat with ${panel.session.customer_name}.`);
        } catch (error) {
          panel.error.textContent = error.message;
          leave.disabled = false;
        }
      },
    }, "Leave chat");
    panel.endButton.before(leave);
  }

  /* The chat technician's "Invite a colleague" button and form (a colleague with a free
     slot who is not in the chat yet, and a note). */
  function attach(panel) {
    if (panel.guest) { attachGuest(panel); return; }
    const requestId = panel.session.request_id;
    panels.set(requestId, panel);
    const ids = { to: `invite-to-${panel.id}`, note: `invite-note-${panel.id}` };
    const select = h("select", { id: ids.to, name: "to_technician_id", required: true });
    const note = h("textarea", { id: ids.note, name: "note", maxlength: String(NOTE_MAX), rows: "2" });
    const formError = h("p", { class: "form-error", role: "alert" });
    const status = h("p", { class: "small invite-status", role: "status" });
    const submit = h("button", { type: "submit" }, "Send invitation");
    const close = () => { form.hidden = true; panel.composer.hidden = panel.ended; };
    const form = h("form", {
      class: "invite-form", hidden: true,
      onsubmit: async (e) => {
        e.preventDefault();
        formError.textContent = "";
        if (!select.value) { formError.textContent = "Pick a colleague to invite into the chat."; return; }
        submit.disabled = true;
        try {
          const sent = await authed(requestPath(requestId, "invite"), {
            method: "POST", body: { to_technician_id: select.value, note: note.value },
          });
          close();
          note.value = "";
          status.dataset.waitingFor = sent.to_technician_id;
          status.textContent = `Waiting for ${sent.to_name || "your colleague"} to join…`;
          announce(status.textContent);
        } catch (error) {
          formError.textContent = error.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h4", {}, "Invite a colleague to this chat"),
    h("div", { class: "field" }, h("label", { for: ids.to }, "Colleague to invite"), select),
    h("div", { class: "field" },
      h("label", { for: ids.note }, "Note for your colleague ", h("span", { class: "hint" }, `(not shown to the customer, up to ${NOTE_MAX} characters)`)),
      note),
    formError,
    h("div", { class: "actions" }, submit, h("button", { type: "button", class: "quiet", onclick: close }, "Cancel")));

    async function open() {
      formError.textContent = "";
      replace(select, h("option", { value: "" }, "Loading…"));
      for (const other of panel.el.querySelectorAll(".transfer-form")) other.hidden = true;
      form.hidden = false;
      panel.endForm.hidden = true;
      try {
        const { colleagues } = await authed(requestPath(requestId, "colleagues"));
        replace(select, colleagues.length
          ? colleagues.map((c) => h("option", { value: c.technician_id }, c.display_name))
          : h("option", { value: "" }, "No colleague is available right now"));
      } catch (error) {
        replace(select, h("option", { value: "" }, "—"));
        formError.textContent = error.message;
      }
      select.focus();
    }

    const button = h("button", { type: "button", class: "secondary small", dataset: { liveOnly: "1" }, onclick: open }, "Invite a colleague");
    panel.endButton.before(button);
    panel.endForm.after(form, status);
    // The colleague joined (the chat's session frame lists them): nothing to wait for.
    panel.onGuests = (guests) => {
      if (status.dataset.waitingFor && guests.some((g) => g.technician_id === status.dataset.waitingFor)) {
        delete status.dataset.waitingFor;
        status.textContent = "";
      }
    };
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "invitation_offer":
        show(frame);
        return true;
      case "invitation_closed":
        drop(frame.request_id);
        return true;
      case "invitation_lapsed": {
        const line = panels.get(frame.request_id)?.el.querySelector(".invite-status");
        if (line) { delete line.dataset.waitingFor; line.textContent = frame.message; }
        toast(frame.message);
        return true;
      }
      default:
        return false;
    }
  }

  /* After a (re)connection: the invitations still open, from dispatch. */
  function sync(open) {
    const ids = new Set(open.map((i) => i.request_id));
    for (const id of [...invitations.keys()]) if (!ids.has(id)) drop(id);
    for (const invitation of open) show(invitation);
  }

  return {
    attach, onFrame, sync, tick,
    detach: (panel) => panels.delete(panel.session.request_id),
    get count() { return invitations.size; },
    clear: () => { for (const id of [...invitations.keys()]) drop(id); panels.clear(); },
  };
}
