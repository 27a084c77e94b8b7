/* The customer's rating of an ended chat: 1 to 5 stars and an optional comment, sent once
   with the session's customer token (POST /api/chat/sessions/{id}/rating).

   The stars are a native radio group inside a fieldset with a legend: arrow keys move
   between them and a screen reader reads "4 stars out of 5, radio button, 4 of 5". After
   sending, the form is replaced by a thank-you note that is announced (role="status"). */

import { ApiError, api } from "../assets/api.js";
import { h, replace } from "../assets/dom.js";

const LABELS = ["", "Very poor", "Poor", "OK", "Good", "Excellent"];
const MAX_COMMENT = 1000;
let counter = 0;

function ensureStylesheet() {
  const href = new URL("./rating.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

/* The rating form for `sessionId`, as an element to place on the "session ended" screen. */
export function ratingForm(sessionId, token) {
  ensureStylesheet();
  const id = `al-rate-${++counter}`;
  const box = h("section", { class: "al-rating", "aria-labelledby": `${id}-title` });
  const error = h("p", { class: "al-form-error", role: "alert" });
  const chosen = h("p", { class: "al-rating-chosen al-muted", "aria-hidden": "true" });
  const stars = h("div", { class: "al-stars" });
  for (let score = 1; score <= 5; score += 1) {
    const input = h("input", {
      type: "radio", name: `${id}-score`, id: `${id}-${score}`, value: String(score), class: "al-sr-only",
      onchange: () => { chosen.textContent = LABELS[score]; error.textContent = ""; },
    });
    const label = h("label", { for: `${id}-${score}`, title: LABELS[score] },
      h("span", { "aria-hidden": "true" }, "★"),
      h("span", { class: "al-sr-only" }, `${score} star${score > 1 ? "s" : ""} out of 5, ${LABELS[score]}`));
    stars.append(input, label);
  }
  const comment = h("textarea", { id: `${id}-comment`, rows: "3", maxlength: String(MAX_COMMENT) });
  const submit = h("button", { type: "submit" }, "Send my rating");
  const form = h("form", {
    class: "al-rating-form",
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      const picked = form.querySelector(`input[name="${id}-score"]:checked`);
      if (!picked) {
        error.textContent = "Choose from 1 to 5 stars first.";
        stars.querySelector("input")?.focus();
        return;
      }
      submit.disabled = true;
      error.textContent = "";
      try {
        await api(`/api/chat/sessions/${encodeURIComponent(sessionId)}/rating`, {
          method: "POST", token, body: { score: Number(picked.value), comment: comment.value },
        });
        thank(box);
      } catch (failure) {
        if (failure instanceof ApiError && failure.code === "already_rated") { thank(box); return; }
        error.textContent = failure.message;
        submit.disabled = false;
      }
    },
  },
  h("fieldset", { class: "al-stars-set" },
    h("legend", {}, "Your rating (required)"), stars, chosen),
  h("label", { for: `${id}-comment` }, "Comment (optional)"),
  comment, error, submit);
  box.append(h("h3", { id: `${id}-title` }, "How was your support?"), form);
  return box;
}

function thank(box) {
  const note = h("p", { class: "al-rating-thanks", role: "status", tabindex: "-1" }, "Thank you for your feedback!");
  replace(box, note);
  note.focus();
}
