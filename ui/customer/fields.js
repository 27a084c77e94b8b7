/* The customer forms' own checks: every problem at once, in the same words the server uses
   (portal-svc `domain/forms.py`), before anything is sent. The server checks again. */

import { h } from "../assets/dom.js";

const EMAIL = /^[^@\s<>"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

export const WORDING = {
  customer_name: "Please enter your name.",
  customer_email: "Please enter a valid e-mail address, like name@example.com.",
  description: "Please describe your problem.",
  text: "Please write your message.",
  connection_code: "Please enter the 9-digit code your technician read out.",
  chosen_technician_id: "Please choose a technician.",
};

/* A visible asterisk (hidden from screen readers, which hear the control's `required`). */
export function markRequired(label) {
  label.append(h("span", { class: "al-required", "aria-hidden": "true" }, " *"));
  return label;
}

/* `values` are the trimmed, non-empty fields of `form`; returns field -> message. */
export function checkFields(form, values) {
  const problems = {};
  for (const wrapper of form.querySelectorAll("[data-field]")) {
    const name = wrapper.dataset.field;
    const control = wrapper.querySelector("input, textarea");
    const required = wrapper.dataset.required === "true" || (control && control.required && control.type !== "radio");
    const value = values[name];
    if (required && !value) problems[name] = WORDING[name] || "Please fill in this field.";
    else if (value && name === "customer_email" && !EMAIL.test(value)) problems[name] = WORDING.customer_email;
    else if (value && name === "connection_code" && !/^\d{9}$/.test(value)) problems[name] = WORDING.connection_code;
  }
  return problems;
}
