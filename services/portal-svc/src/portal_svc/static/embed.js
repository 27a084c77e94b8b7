/* Assistline embed: <div id="..."></div><script src=".../api/portal/embed.js" data-portal="sub" data-container="..."></script>
   Puts the portal's chat window in an iframe; the portal itself decides (CSP frame-ancestors)
   which sites may show it. */
(function () {
  var script = document.currentScript;
  if (!script) { return; }
  var subdomain = script.getAttribute("data-portal") || "";
  if (!/^[a-z0-9-]{1,63}$/.test(subdomain)) { return; }
  var base = new URL(script.src).origin;
  var container = document.getElementById(script.getAttribute("data-container") || "");
  if (!container) {
    container = document.createElement("div");
    script.parentNode.insertBefore(container, script);
  }
  var frame = document.createElement("iframe");
  frame.src = base + "/p/" + encodeURIComponent(subdomain) + "?embed=1";
  frame.title = "Support chat";
  frame.style.width = "100%";
  frame.style.height = "100%";
  frame.style.minHeight = "480px";
  frame.style.border = "0";
  frame.setAttribute("allow", "clipboard-write");
  container.appendChild(frame);
})();
