/* Canned replies in the help center: the `/shortcut` picker of each chat box, and a small
   manager for the technician's own replies. The admin console reuses `mountCannedManager`
   for the account's replies. Replies come from chat-svc (/api/chat/canned-replies).

   Picker: typing "/" at the start of the message opens a list filtered by what follows;
   ArrowUp/ArrowDown move, Enter (or Tab) inserts the reply with its variables filled in,
   Escape closes. Every text goes in as text (dom.js `h`), never as HTML. */

import { announce, h, replace } from "../assets/dom.js";

const PATH = "/canned-replies";
const QUERY = /^\/([a-z0-9_-]*)$/i;
const MAX_SHOWN = 8;
let cache = null; // one list per page, shared by every chat box
let seq = 0;

function ensureStylesheet() {
  const href = new URL("./canned.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

function load(call) {
  cache ||= call(PATH).catch((error) => { cache = null; throw error; });
  return cache;
}

export function fill(text, values) {
  return text.replace(/\{(customer_name|technician_name|company_name)\}/g, (_, name) => values[name] || "");
}

/* The picker of one chat panel (`panel.input` in `panel.composer`). `call(path, options)`
   talks to /api/chat; `values()` gives the variables for this chat. */
export function attachCanned(panel, { call, values }) {
  ensureStylesheet();
  const id = `canned-${++seq}`;
  const list = h("ul", { class: "canned-list", id, role: "listbox", "aria-label": "Canned replies", hidden: true });
  panel.composer.before(list);
  panel.input.setAttribute("aria-controls", id);
  let shown = [];
  let active = 0;

  const close = () => {
    list.hidden = true;
    shown = [];
    panel.input.removeAttribute("aria-activedescendant");
  };
  const highlight = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    const current = list.children[active];
    if (current?.id) panel.input.setAttribute("aria-activedescendant", current.id);
  };
  const insert = (reply) => {
    panel.input.value = fill(reply.text, values());
    close();
    panel.input.focus();
    announce(`Inserted ${reply.title}.`);
  };

  async function update() {
    const match = QUERY.exec(panel.input.value);
    if (!match) { close(); return; }
    let replies;
    try {
      const found = await load(call);
      replies = [...found.personal, ...found.account];
    } catch {
      close();
      return;
    }
    const query = match[1].toLowerCase();
    shown = replies
      .filter((r) => r.shortcut.slice(1).startsWith(query) || r.title.toLowerCase().includes(query))
      .slice(0, MAX_SHOWN);
    active = 0;
    replace(list, shown.length
      ? shown.map((reply, i) => h("li", {
        id: `${id}-${i}`, role: "option", "aria-selected": "false",
        onmousedown: (e) => { e.preventDefault(); insert(reply); },
      }, h("strong", {}, reply.shortcut), " ", h("span", {}, reply.title),
      h("span", { class: "small muted canned-scope" }, reply.scope === "personal" ? " · mine" : " · team")))
      : h("li", { class: "muted canned-empty" }, "No canned reply matches."));
    list.hidden = false;
    if (shown.length) highlight();
  }

  panel.input.addEventListener("input", update);
  panel.input.addEventListener("blur", () => setTimeout(close, 150));
  // On the form, capturing: runs before the chat box's own Enter-to-send.
  panel.composer.addEventListener("keydown", (e) => {
    if (list.hidden || e.target !== panel.input) return;
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); return; }
    if (!shown.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      highlight();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      e.stopImmediatePropagation();
      insert(shown[active]);
    }
  }, true);
}

/* A manager of one scope's replies (`personal` in the help center, `account` in the console)
   mounted in `container`. */
export function mountCannedManager(container, { call, scope, toast, heading = "My canned replies" }) {
  ensureStylesheet();
  const errors = h("p", { class: "form-error", role: "alert" });
  const items = h("ul", { class: "list canned-manage" });
  const form = h("form", { class: "canned-form", novalidate: true },
    h("label", { class: "field" }, h("span", {}, "Title"), h("input", { name: "title", maxlength: "80", required: true })),
    h("label", { class: "field" }, h("span", {}, "Shortcut"), h("input", { name: "shortcut", maxlength: "40", placeholder: "/thanks", required: true })),
    h("label", { class: "field" }, h("span", {}, "Text ", h("span", { class: "hint" }, "Variables: {customer_name}, {technician_name}, {company_name}")),
      h("textarea", { name: "text", rows: "3", maxlength: "2000", required: true })),
    errors,
    h("button", { type: "submit" }, "Add reply"));
  replace(container, h("h2", {}, heading), items, h("details", {}, h("summary", {}, "Add a canned reply"), form));

  async function refresh() {
    cache = null;
    try {
      const found = await load(call);
      const mine = found[scope] || [];
      replace(items, mine.length ? mine.map((reply) => h("li", { class: "canned-item" },
        h("div", {}, h("strong", {}, reply.shortcut), " ", reply.title, h("p", { class: "small muted" }, reply.text)),
        h("button", {
          type: "button", class: "quiet small",
          onclick: async () => {
            try {
              await call(`${PATH}/${scope}/${encodeURIComponent(reply.reply_id)}`, { method: "DELETE" });
              announce(`Deleted ${reply.shortcut}.`);
              await refresh();
            } catch (error) { toast(error.message, "error"); }
          },
        }, "Delete", h("span", { class: "visually-hidden" }, ` ${reply.shortcut}`)))) : h("li", { class: "muted" }, "No canned reply yet."));
    } catch (error) {
      replace(items, h("li", { class: "muted" }, `Could not load the canned replies: ${error.message}`));
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errors.textContent = "";
    const body = { scope, title: form.title.value, shortcut: form.shortcut.value, text: form.text.value };
    try {
      await call(PATH, { method: "POST", body });
      form.reset();
      announce(`Added ${body.shortcut}.`);
      await refresh();
    } catch (error) {
      errors.textContent = error.message;
    }
  });
  refresh();
  return { refresh };
}

/* The help center's hook: the personal manager (a card after Notifications) and a picker per
   chat. `authed(path, options)` is the help center's authenticated api(). */
export function setupCanned({ authed, toast }) {
  const call = (path, options) => authed(`/api/chat${path}`, options);
  const card = h("section", { class: "card", id: "canned-card", "aria-labelledby": "canned-title" });
  const anchor = document.getElementById("prefs-title")?.closest("section");
  if (anchor) anchor.after(card); else document.getElementById("main").append(card);
  mountCannedManager(card, { call, scope: "personal", toast });
  card.querySelector("h2").id = "canned-title";
  return { attach: (panel, values) => attachCanned(panel, { call, values }) };
}
