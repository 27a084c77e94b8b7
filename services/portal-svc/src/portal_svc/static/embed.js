/* Assistline embed script, for any company website. Two ways to use it:

   Floating widget (a launcher button in the bottom corner that opens a chat panel):
     <script src="https://SUPPORT/api/portal/embed.js" data-portal="globex" async></script>
     optional: data-position="left", data-label="Chat with us", data-name / data-email (prefill)

   Inline chat window (in a container of the page; its height follows the portal's content):
     <div id="assistline-portal-globex"></div>
     <script src="https://SUPPORT/api/portal/embed.js" data-portal="globex" data-container="assistline-portal-globex" async></script>

   JavaScript API (widget): window.Assistline.open(), .close(), .toggle(), .isOpen(),
   .prefill({ name, email }); a "assistline:ready" event on window (detail: the API) once the
   portal inside has loaded. The portal runs in an iframe of the support origin: the host page
   never sees the chat, and the portal's own CSP (frame-ancestors) says which sites may show it.
   Everything is styled through element.style (CSSOM), which a host's CSP does not block, so
   the host needs only `script-src` and `frame-src` for the support origin. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var subdomain = script.getAttribute("data-portal") || "";
  if (!/^[a-z0-9-]{1,63}$/.test(subdomain)) { return; }
  var origin = new URL(script.src).origin;
  var src = origin + "/p/" + encodeURIComponent(subdomain) + "?embed=1";
  var containerId = script.getAttribute("data-container") || "";
  var prefill = { name: script.getAttribute("data-name") || "", email: script.getAttribute("data-email") || "" };
  var listeners = [];

  function css(el, styles) { for (var k in styles) { el.style[k] = styles[k]; } return el; }

  function makeFrame(title) {
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = title;
    frame.setAttribute("allow", "clipboard-write");
    css(frame, { width: "100%", border: "0", display: "block", background: "transparent", colorScheme: "normal" });
    return frame;
  }

  function post(frame, type, data) {
    if (frame.contentWindow) { frame.contentWindow.postMessage({ assistline: type, data: data || {} }, origin); }
  }

  /* Messages from the portal inside: only from our frame and the support origin. */
  function listen(frame, handlers) {
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
      var message = event.data || {};
      var handler = handlers[message.assistline];
      if (handler) { handler(message.data || {}); }
    });
  }

  /* ---------- inline chat window ---------- */
  if (containerId || script.getAttribute("data-mode") === "inline") {
    var container = document.getElementById(containerId);
    if (!container) {
      container = document.createElement("div");
      script.parentNode.insertBefore(container, script);
    }
    var inline = makeFrame("Support chat");
    css(inline, { height: "520px", minHeight: "320px" });
    listen(inline, {
      ready: function () { post(inline, "prefill", prefill); },
      height: function (data) {
        var height = Math.max(320, Math.min(2000, Math.round(Number(data.height) || 0)));
        inline.style.height = height + "px";
      }
    });
    container.appendChild(inline);
    return;
  }

  /* ---------- floating widget ---------- */
  if (window.Assistline && window.Assistline.widget) { return; }  // included twice
  var left = script.getAttribute("data-position") === "left";
  var label = script.getAttribute("data-label") || "Chat with support";
  var phone = window.matchMedia("(max-width: 480px)");
  var open = false;
  var unread = 0;
  var panelId = "assistline-panel-" + subdomain;

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "assistline-launcher";
  launcher.setAttribute("aria-controls", panelId);
  launcher.setAttribute("aria-expanded", "false");
  css(launcher, {
    position: "fixed", bottom: "20px", width: "60px", height: "60px", borderRadius: "50%", border: "0",
    background: "#1f5fbf", color: "#fff", cursor: "pointer", zIndex: "2147483000", padding: "0",
    boxShadow: "0 6px 20px rgba(15, 30, 60, 0.3)", display: "grid", placeItems: "center"
  });
  launcher.style[left ? "left" : "right"] = "20px";
  var svgNs = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNs, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var path = document.createElementNS(svgNs, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  icon.appendChild(path);
  launcher.appendChild(icon);
  var badge = document.createElement("span");
  badge.className = "assistline-badge";
  badge.setAttribute("aria-hidden", "true");
  css(badge, {
    position: "absolute", top: "-4px", right: "-4px", minWidth: "22px", height: "22px", borderRadius: "11px",
    background: "#b42318", color: "#fff", font: "700 12px/22px system-ui, sans-serif", textAlign: "center",
    padding: "0 6px", display: "none", boxShadow: "0 0 0 2px #fff"
  });
  launcher.appendChild(badge);

  var panel = document.createElement("div");
  panel.id = panelId;
  panel.className = "assistline-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", label);
  panel.hidden = true;
  css(panel, {
    position: "fixed", zIndex: "2147483001", background: "#fff", overflow: "hidden",
    boxShadow: "0 12px 40px rgba(15, 30, 60, 0.3)", display: "none", flexDirection: "column"
  });
  var bar = document.createElement("div");
  css(bar, {
    display: "flex", justifyContent: "flex-end", alignItems: "center", padding: "4px 6px",
    background: "#1a4d9c", minHeight: "40px"
  });
  var close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  close.setAttribute("aria-label", "Close the support chat");
  css(close, {
    background: "transparent", color: "#fff", border: "1px solid rgba(255,255,255,0.6)", borderRadius: "8px",
    font: "600 14px system-ui, sans-serif", padding: "6px 12px", cursor: "pointer", minHeight: "32px"
  });
  bar.appendChild(close);
  var frame = makeFrame(label);
  css(frame, { flex: "1 1 auto", height: "100%" });
  panel.appendChild(bar);
  panel.appendChild(frame);

  function layout() {
    if (phone.matches) {
      css(panel, { top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", borderRadius: "0" });
    } else {
      css(panel, {
        top: "auto", bottom: "92px", width: "380px", height: "min(640px, calc(100vh - 120px))", borderRadius: "16px",
        left: left ? "20px" : "auto", right: left ? "auto" : "20px"
      });
    }
    launcher.style.display = open && phone.matches ? "none" : "grid";
  }

  function describe() {
    var text = open ? "Close the support chat" : label;
    if (unread && !open) { text += " (" + unread + " unread " + (unread === 1 ? "message" : "messages") + ")"; }
    launcher.setAttribute("aria-label", text);
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.style.display = unread && !open ? "block" : "none";
  }

  function setOpen(value) {
    if (value === open) { return; }
    open = value;
    panel.hidden = !open;
    panel.style.display = open ? "flex" : "none";
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { unread = 0; }
    layout();
    describe();
    post(frame, "visibility", { open: open });
    if (open) { frame.focus(); } else { launcher.focus(); }
  }

  launcher.addEventListener("click", function () { setOpen(!open); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { setOpen(false); } });
  if (phone.addEventListener) { phone.addEventListener("change", layout); }

  var api = {
    widget: true,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    toggle: function () { setOpen(!open); },
    isOpen: function () { return open; },
    prefill: function (values) {
      values = values || {};
      if (typeof values.name === "string") { prefill.name = values.name; }
      if (typeof values.email === "string") { prefill.email = values.email; }
      post(frame, "prefill", prefill);
    },
    onReady: function (callback) { listeners.push(callback); }
  };
  var ready = false;
  listen(frame, {
    ready: function () {
      post(frame, "prefill", prefill);
      post(frame, "visibility", { open: open });
      if (ready) { return; }
      ready = true;
      window.dispatchEvent(new CustomEvent("assistline:ready", { detail: api }));
      for (var i = 0; i < listeners.length; i++) { try { listeners[i](api); } catch (e) { /* the host's own error */ } }
    },
    message: function () {
      if (open) { return; }
      unread += 1;
      describe();
    },
    close: function () { setOpen(false); }
  });
  window.Assistline = api;
  layout();
  describe();
  function attach() { document.body.appendChild(panel); document.body.appendChild(launcher); }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
