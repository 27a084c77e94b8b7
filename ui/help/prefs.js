/* Notification preferences (stored by presence-svc) and the browser's notification permission. */

import { $, h, replace } from "../assets/dom.js";
import { askPermission, permissionState } from "./alerts.js";

export function setupPreferences({ authed, toast, getPrefs, setPrefs }) {
  const form = $("#prefs-form");
  const errorBox = $("#prefs-error");
  const contacts = $("#contacts");
  const contactForm = $("#contact-form");
  const permission = $("#notify-permission");

  function showPermission() {
    const current = permissionState();
    if (current === "granted") {
      replace(permission, "Desktop notifications are allowed in this browser.");
    } else if (current === "denied") {
      replace(permission, "Desktop notifications are blocked for this site; alerts still show in this page.");
    } else if (current === "unsupported") {
      replace(permission, "This browser has no desktop notifications; alerts show in this page.");
    } else {
      replace(permission, h("button", {
        type: "button", class: "small secondary",
        onclick: async () => { await askPermission(); showPermission(); },
      }, "Allow desktop notifications"));
    }
  }

  function show(prefs) {
    for (const name of ["desktop_alerts", "sound", "email_alerts"]) form.elements[name].checked = Boolean(prefs[name]);
    replace(contacts, prefs.contacts.length ? prefs.contacts.map((address) => h("li", { class: "row" },
      h("span", {}, address),
      h("button", {
        type: "button", class: "small quiet", "aria-label": `Remove ${address}`,
        onclick: () => save(() => authed(`/api/presence/me/preferences/contacts/${encodeURIComponent(address)}`, { method: "DELETE" })),
      }, "Remove"))) : h("li", { class: "empty" }, "No contacts yet."));
    showPermission();
  }

  async function save(call) {
    errorBox.textContent = "";
    try {
      const prefs = await call();
      setPrefs(prefs);
      show(prefs);
      return true;
    } catch (error) {
      errorBox.textContent = error.fields?.length ? error.fields.map((f) => f.message).join(" ") : error.message;
      show(getPrefs());
      return false;
    }
  }

  form.onchange = (event) => {
    const input = event.target;
    save(() => authed("/api/presence/me/preferences", { method: "PUT", body: { [input.name]: input.checked } }))
      .then((ok) => { if (ok) toast("Preferences saved."); });
  };

  contactForm.onsubmit = async (event) => {
    event.preventDefault();
    const address = contactForm.address.value.trim();
    if (!address) { errorBox.textContent = "Enter an e-mail address to add."; return; }
    if (await save(() => authed("/api/presence/me/preferences/contacts", { method: "POST", body: { address } }))) {
      contactForm.reset();
    }
  };

  return { show };
}
