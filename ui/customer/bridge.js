/* The portal inside a host page's frame (embed.js: inline window or floating widget).
   Tells the host its height, that it is ready, and that a technician's message arrived (for
   the unread badge) — never what the message says; takes a prefilled name and e-mail from
   the host. Messages are accepted from the parent window only. */

const FIELDS = { name: "al-customer_name", email: "al-customer_email" };

export function connectHost(portal) {
  if (window.parent === window) return;
  const tell = (type, data = {}) => window.parent.postMessage({ assistline: type, data }, "*");
  portal.prefill = { name: "", email: "" };
  const fill = () => {
    for (const [key, id] of Object.entries(FIELDS)) {
      const input = document.getElementById(id);
      if (input && !input.value && portal.prefill[key]) input.value = portal.prefill[key];
    }
  };
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data || {};
    if (message.assistline === "prefill") {
      const data = message.data || {};
      portal.prefill = {
        name: typeof data.name === "string" ? data.name.slice(0, 100) : "",
        email: typeof data.email === "string" ? data.email.slice(0, 254) : "",
      };
      fill();
    }
  });
  new MutationObserver(fill).observe(portal.root, { childList: true, subtree: true });
  let last = 0;
  const measure = () => {
    const height = Math.ceil(portal.root.getBoundingClientRect().height) + 2;
    if (Math.abs(height - last) > 1) { last = height; tell("height", { height }); }
  };
  new ResizeObserver(measure).observe(portal.root);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") tell("close"); });
  portal.onTechnicianMessage = () => tell("message");
  tell("ready");
  measure();
}
