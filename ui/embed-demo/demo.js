/* The host site's own script: it drives the Assistline widget through its JavaScript API. */
function useWidget(api) {
  const state = document.getElementById("widget-state");
  const plain = document.getElementById("open-chat");
  const prefilled = document.getElementById("open-prefilled");
  plain.disabled = false;
  prefilled.disabled = false;
  state.textContent = "The chat widget is ready.";
  plain.addEventListener("click", () => api.open());
  prefilled.addEventListener("click", () => {
    api.prefill({ name: "Dana Visitor", email: "dana@example.com" });
    api.open();
  });
}

if (window.Assistline && window.Assistline.widget) useWidget(window.Assistline);
else window.addEventListener("assistline:ready", (event) => useWidget(event.detail), { once: true });
