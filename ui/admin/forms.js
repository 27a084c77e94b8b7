/* Server errors as plain sentences next to their fields.

   A 422 names each field with the validator's own words ("String should match pattern
   '^[^@\s<>\"]{1,64}@…'"): the admin is told what to do instead. Domain errors (a taken
   e-mail, a taken name) already are sentences; they are only tidied. */

import { fieldErrors } from "../assets/api.js";
import { h } from "../assets/dom.js";

const SENTENCES = {
  email: "Enter an e-mail address such as name@example.com.",
  password: "Use a password of 8 to 128 characters.",
  name: "Enter a name of 1 to 100 characters, on one line.",
  capacity: "Enter a number of chats from 1 to 50.",
  company_ids: "Choose companies of your account.",
  subdomain: "Use 1 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen.",
  allowed_origins: "Enter each site as an address such as https://www.example.com, one per line.",
};

const RAW = /should|pattern|String|Input|Value error|valid integer|Field required|at least|at most|less than|greater than/;

export function sentence(text) {
  const trimmed = String(text || "").trim().replace(/^Value error, /, "");
  if (!trimmed) return "";
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/* The message to show next to `field` for what the server said about it. */
export function plainFieldMessage(field, message) {
  if (!message) return "";
  if (RAW.test(message) && SENTENCES[field]) return SENTENCES[field];
  return sentence(message);
}


/* A labelled control with its own error line (`data-field` names the API field). */
export function fieldBox(name, label, control, hint) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  control.id = id;
  if (!control.name) control.name = name;
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id }, h("span", {}, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null)),
    control,
    h("p", { class: "field-error", id: `${id}-error` }));
}

/* Every error of the form at once, each next to its field; what fits no field goes to
   `generalBox`. The first field in error gets the focus. `error` null clears them. */
export function showFormErrors(form, error, codes = {}, generalBox = null) {
  const errors = error ? fieldErrors(error, codes) : {};
  let first = null;
  const placed = new Set();
  for (const wrapper of form.querySelectorAll("[data-field]")) {
    const name = wrapper.dataset.field;
    const message = plainFieldMessage(name, errors[name]);
    if (message) placed.add(name);
    const line = wrapper.querySelector(".field-error");
    if (line) line.textContent = message;
    const control = wrapper.querySelector("input:not([type=checkbox]), select, textarea");
    if (control && wrapper.tagName !== "FIELDSET") control.setAttribute("aria-invalid", message ? "true" : "false");
    if (message && !first) first = control || wrapper.querySelector("input");
  }
  if (generalBox) generalBox.textContent = error && !placed.size ? sentence(error.message) : "";
  if (first) first.focus();
  return placed.size;
}
