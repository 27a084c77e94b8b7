/* The dashboard's tiles and tables from one summary (GET /api/portal/dashboard/companies/{id}
   or a socket frame). Text goes in as text only (dom.js `h`). */

import { h, replace } from "../assets/dom.js";
import { NONE, dayLabel, duration, rating, share } from "./format.js";

function tile(key, label, value, { unit = "", detail = "", alert = false } = {}) {
  return h("dl", { class: alert ? "tile alert" : "tile", dataset: { tile: key } },
    h("dt", {}, label),
    h("dd", {}, h("span", { class: "value" }, String(value)), unit ? h("span", { class: "unit" }, ` ${unit}`) : null,
      detail ? h("span", { class: "detail" }, detail) : null));
}

/* `oldestNow` is the oldest wait as of now (the page ticks it between frames). */
export function renderLive(box, live, oldestNow) {
  const t = live.technicians;
  replace(box,
    tile("waiting", "Requests waiting", live.requests_waiting, { alert: live.requests_waiting > 0 && oldestNow > 300 }),
    tile("oldest", "Oldest wait", oldestNow === null ? NONE : duration(oldestNow)),
    tile("offers", "Offers out", live.offers_out),
    tile("chats", "Chats active", live.chats_active, { detail: `${live.technicians_in_chat} technician${live.technicians_in_chat === 1 ? "" : "s"} in a chat` }),
    tile("available", "Technicians available", t.available, { detail: `${t.away} away · ${t.paused} paused · ${t.offline} offline` }));
}

const ROWS = [
  ["requests", "Requests", (f) => String(f.requests)],
  ["answered", "Answered", (f) => String(f.answered)],
  ["median_wait", "Median wait", (f) => duration(f.median_wait_seconds)],
  ["p90_wait", "90% waited at most", (f) => duration(f.p90_wait_seconds)],
  ["median_handling", "Median handling time", (f) => duration(f.median_handling_seconds)],
  ["abandonment", "Abandoned", (f) => (f.requests ? `${share(f.abandonment)} (${f.abandoned})` : NONE)],
  ["satisfaction", "Satisfaction", rating],
];

export function renderFigures(tbody, summary) {
  replace(tbody, ROWS.map(([key, label, show]) => h("tr", { dataset: { figure: key } },
    h("th", { scope: "row" }, label), h("td", { dataset: { span: "today" } }, show(summary.today)),
    h("td", { dataset: { span: "week" } }, show(summary.last_7_days)))));
}

export function renderByDay(tbody, byDay) {
  replace(tbody, byDay.map((d) => h("tr", {},
    h("th", { scope: "row" }, dayLabel(d.day)), h("td", {}, String(d.requests)),
    h("td", {}, duration(d.median_wait_seconds)), h("td", {}, duration(d.p90_wait_seconds)),
    h("td", {}, duration(d.median_handling_seconds)), h("td", {}, String(d.abandoned)), h("td", {}, rating(d)))));
}
