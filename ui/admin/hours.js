/* Business hours on the admin console's portal form: a time zone, one opening interval per
   weekday, dated closures, and how long a customer waits before being offered the message
   form. `hoursEditor(portal)` gives the fieldset and `values()` for the portal's PATCH/POST
   body ({ hours, max_wait_seconds }); portal-svc validates again and its field errors
   (`hours.…`) land in this fieldset's error line. */

import { h } from "../assets/dom.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const WORKDAY = { opens: "09:00", closes: "17:00" };

function ensureStylesheet() {
  const href = new URL("./hours.css", import.meta.url).href;
  if (![...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === href)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

function zones() {
  try { return Intl.supportedValuesOf("timeZone"); } catch { return ["UTC", "Europe/London", "Europe/Paris", "America/New_York"]; }
}

function uid(name) {
  return `hours-${name}-${Math.random().toString(36).slice(2, 7)}`;
}

function labelled(label, control) {
  control.id = control.id || uid(control.name || "x");
  return h("label", { class: "hours-cell", for: control.id }, h("span", { class: "small" }, label), control);
}

export function hoursEditor(portal) {
  ensureStylesheet();
  const hours = portal?.hours || null;
  const limited = h("input", { type: "checkbox", name: "hours_enabled", checked: Boolean(hours) });
  const zoneList = h("datalist", { id: uid("zones") }, zones().map((z) => h("option", { value: z })));
  const zone = h("input", {
    name: "time_zone", list: zoneList.id, autocomplete: "off", spellcheck: "false",
    value: hours?.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  });
  const rows = DAYS.map(([key, name]) => {
    const interval = hours ? (hours.weekly[key] || [])[0] : (key === "sat" || key === "sun" ? null : WORKDAY);
    const open = h("input", { type: "checkbox", name: `open_${key}`, checked: Boolean(interval), "aria-label": `Open on ${name}` });
    const opens = h("input", { type: "time", name: `opens_${key}`, value: interval?.opens || WORKDAY.opens, "aria-label": `${name} opens at` });
    const closes = h("input", {
      type: "time", name: `closes_${key}`, value: (interval?.closes === "24:00" ? "23:59" : interval?.closes) || WORKDAY.closes,
      "aria-label": `${name} closes at`,
    });
    const sync = () => { opens.disabled = !open.checked; closes.disabled = !open.checked; };
    open.addEventListener("change", sync);
    sync();
    return { key, name, open, opens, closes, row: h("div", { class: "hours-day" }, h("span", { class: "hours-name" }, open, ` ${name}`), opens, h("span", { "aria-hidden": "true" }, "–"), closes) };
  });
  const closures = h("textarea", { name: "closures", rows: "2", placeholder: "2026-12-25 Christmas Day", spellcheck: "false" });
  closures.value = (hours?.closures || []).map((c) => `${c.date}${c.note ? ` ${c.note}` : ""}`).join("\n");
  const maxWait = h("input", {
    type: "number", name: "max_wait_minutes", min: "1", max: "60", step: "1",
    value: String(Math.round((portal?.max_wait_seconds || 180) / 60)),
  });
  const errorId = uid("error");
  const detail = h("div", { class: "hours-detail" },
    labelled("Time zone (IANA, e.g. Europe/Paris)", zone), zoneList,
    h("div", { class: "hours-week", role: "group", "aria-label": "Weekly schedule" }, rows.map((r) => r.row)),
    labelled("Closed on these dates (one per line: YYYY-MM-DD and an optional note)", closures));
  const syncDetail = () => { detail.hidden = !limited.checked; };
  limited.addEventListener("change", syncDetail);
  syncDetail();
  const element = h("div", { class: "wide hours-editor" },
    h("fieldset", { class: "field", dataset: { field: "hours" }, "aria-describedby": errorId },
      h("legend", {}, "Business hours"),
      h("label", { class: "hours-toggle" }, limited, " Only accept requests during business hours"),
      h("p", { class: "small muted" }, "Outside them the portal says when it opens again and offers the message form; requests already queued at closing time are still served."),
      detail,
      h("p", { class: "field-error", id: errorId })),
    h("div", { class: "field", dataset: { field: "max_wait_seconds" } },
      labelled("Offer the message form after waiting (minutes)", maxWait),
      h("p", { class: "field-error" })));

  /* Throws an Error with a message for the fieldset when the input cannot be right. */
  function values() {
    const minutes = Number(maxWait.value);
    const result = { max_wait_seconds: Number.isFinite(minutes) && minutes > 0 ? Math.round(minutes * 60) : 180 };
    if (!limited.checked) return { ...result, hours: null };
    const weekly = {};
    for (const r of rows) {
      if (!r.open.checked) continue;
      if (!r.opens.value || !r.closes.value || r.closes.value <= r.opens.value) {
        throw new Error(`${r.name}: the closing time must be after the opening time.`);
      }
      weekly[r.key] = [{ opens: r.opens.value, closes: r.closes.value === "23:59" ? "24:00" : r.closes.value }];
    }
    const list = [];
    for (const line of closures.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const match = line.match(/^(\d{4}-\d{2}-\d{2})\s*(.*)$/);
      if (!match) throw new Error(`“${line}” is not a date like 2026-12-25 (optionally followed by a note).`);
      list.push({ date: match[1], note: match[2].slice(0, 100) });
    }
    if (!zone.value.trim()) throw new Error("Choose a time zone, e.g. Europe/Paris.");
    return { ...result, hours: { time_zone: zone.value.trim(), weekly, closures: list } };
  }

  return { element, values };
}
