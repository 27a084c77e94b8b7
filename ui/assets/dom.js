/* Tiny DOM helpers. Every piece of text goes in as a text node: nothing from the
   server or from a user is ever parsed as HTML. */

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/* Polite screen-reader announcements for things that change without focus moving. */
export function announce(text) {
  let region = document.getElementById("sr-announcer");
  if (!region) {
    region = h("div", { id: "sr-announcer", "aria-live": "polite", role: "status" });
    // Styled here, not by a class: the customer script runs in pages without our stylesheet.
    Object.assign(region.style, { position: "absolute", width: "1px", height: "1px", overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap" });
    document.body.append(region);
  }
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 30);
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function formatCountdown(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return `${minutes}:${seconds}`;
}

/* Copies text; falls back to selecting it when the Clipboard API is not allowed. */
export async function copyText(text, fallbackField) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackField) {
      fallbackField.focus();
      fallbackField.select();
      return document.execCommand && document.execCommand("copy");
    }
    return false;
  }
}

/* Keeps `--topbar-h` equal to the sticky top bar's height (it wraps on narrow screens), so
   sticky tab bars sit below it and scrolled-to content never hides under it. */
export function trackTopbar(selector = ".topbar") {
  const bar = document.querySelector(selector);
  if (!bar) return;
  const set = () => document.documentElement.style.setProperty("--topbar-h", `${Math.ceil(bar.getBoundingClientRect().height)}px`);
  set();
  if ("ResizeObserver" in window) new ResizeObserver(set).observe(bar);
}
