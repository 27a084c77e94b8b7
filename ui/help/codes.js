/* Phone mode connection codes: generate, read out (copy), revoke, with a live countdown. */

import { $, announce, copyText, formatCountdown, h, replace } from "../assets/dom.js";

const CODES_REFRESH_MS = 8000;

function grouped(code) {
  return code.replace(/(\d{3})(?=\d)/g, "$1 ");
}

export function setupCodes({ authed, toast, companies }) {
  const form = $("#code-form");
  const select = $("#code-company");
  const errorBox = $("#code-error");
  const list = $("#codes");
  let codes = [];

  // Ids until portal-svc tells us the companies' names.
  const names = new Map(companies.map((id) => [id, id]));
  const label = (id) => names.get(id) || id;
  const renderOptions = () => replace(select, companies.map((id) => h("option", { value: id }, label(id))));
  renderOptions();
  $("#code-company-field").hidden = companies.length <= 1;
  authed("/api/portal/companies").then((known) => {
    for (const company of known) names.set(company.company_id, company.name);
    renderOptions();
    render();
  }).catch(() => {});

  function render() {
    const now = Date.now();
    codes = codes.filter((c) => Date.parse(c.expires_at) > now);
    replace(list, codes.length ? codes.map((c) => {
      const countdown = h("span", { class: "small muted", dataset: { expires: c.expires_at } });
      return h("li", { dataset: { codeId: c.code_id } },
        h("div", { class: "row" },
          h("span", { class: "code", "aria-label": `Code ${c.code.split("").join(" ")}` }, grouped(c.code)),
          countdown),
        h("p", { class: "small muted" }, companies.length > 1 ? `For ${label(c.company_id)}` : ""),
        h("div", { class: "actions" },
          h("button", {
            type: "button", class: "small secondary",
            onclick: async () => { toast((await copyText(c.code)) ? "Code copied." : "Copy failed; select the code instead.", ""); },
          }, "Copy"),
          h("button", { type: "button", class: "small danger", onclick: () => revoke(c) }, "Revoke")));
    }) : h("li", { class: "empty" }, "No live codes."));
    tick();
  }

  function tick() {
    const now = Date.now();
    let expired = false;
    for (const el of list.querySelectorAll("[data-expires]")) {
      const left = Date.parse(el.dataset.expires) - now;
      if (left <= 0) expired = true;
      el.textContent = left > 0 ? `expires in ${formatCountdown(left)}` : "expired";
    }
    if (expired) render();
  }

  async function load() {
    try {
      codes = (await authed("/api/dispatch/codes")).codes;
      render();
    } catch (error) {
      errorBox.textContent = error.message;
    }
  }

  async function revoke(code) {
    try {
      await authed(`/api/dispatch/codes/${encodeURIComponent(code.code_id)}`, { method: "DELETE" });
      codes = codes.filter((c) => c.code_id !== code.code_id);
      render();
      announce("Code revoked.");
    } catch (error) {
      toast(error.message, "error");
      load();
    }
  }

  form.onsubmit = async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    if (!select.value) { errorBox.textContent = "You do not serve any company yet."; return; }
    try {
      const code = await authed("/api/dispatch/codes", { method: "POST", body: { company_id: select.value } });
      codes = [...codes.filter((c) => c.code_id !== code.code_id), code];
      render();
      announce(`New code ${code.code.split("").join(" ")}.`);
    } catch (error) {
      errorBox.textContent = error.message;
    }
  };

  load();
  const ticker = setInterval(tick, 1000);
  // A code disappears once a customer uses it: the server is the one who knows.
  const refresher = setInterval(load, CODES_REFRESH_MS);
  return { stop: () => { clearInterval(ticker); clearInterval(refresher); } };
}
