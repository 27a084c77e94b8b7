/* Phone mode connection codes: generate, read out (copy), revoke, with a live countdown. */

import { $, announce, copyText, formatCountdown, h, replace } from "../assets/dom.js";

const CODES_REFRESH_MS = 8000;

function grouped(code) {
  return code.replace(/(\d{3})(?=\d)/g, "$1 ");
}

export function setupCodes({ authed, toast, companies: served }) {
  // Until dispatch says which of them have a Phone portal, none: a code for a Web or Queue
  // portal would have nowhere to be entered.
  let companies = [];
  let known = false;
  const form = $("#code-form");
  const select = $("#code-company");
  const errorBox = $("#code-error");
  const list = $("#codes");
  let codes = [];

  // Ids until portal-svc tells us the companies' names.
  const names = new Map(served.map((id) => [id, id]));
  const label = (id) => names.get(id) || id;
  const hint = $("#codes-hint");
  const renderOptions = () => {
    const keep = select.value;
    replace(select, companies.map((id) => h("option", { value: id }, label(id))));
    if (companies.includes(keep)) select.value = keep;
    $("#code-company-field").hidden = companies.length <= 1;
    form.hidden = !companies.length;
    hint.textContent = !known ? "" : companies.length
      ? "For customers you are helping on the phone: read the code out; it works once, for you only."
      : "Connection codes are for Phone-mode portals, and none of the companies you serve has one.";
  };
  renderOptions();
  const loadNames = () => authed("/api/portal/companies").then((list) => {
    for (const company of list) names.set(company.company_id, company.name);
    renderOptions();
    render();
  }).catch(() => {});
  loadNames();

  function render() {
    const now = Date.now();
    codes = codes.filter((c) => Date.parse(c.expires_at) > now);
    replace(list, codes.length ? codes.map((c) => {
      const countdown = h("span", { class: "small muted", dataset: { expires: c.expires_at } });
      return h("li", { dataset: { codeId: c.code_id } },
        h("div", { class: "row" },
          h("span", { class: "code", "aria-label": `Code ${c.code.split("").join(" ")}` }, grouped(c.code)),
          countdown),
        companies.length > 1 ? h("p", { class: "small muted" }, `For ${label(c.company_id)}`) : null,
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
      const answer = await authed("/api/dispatch/codes");
      codes = answer.codes;
      if (Array.isArray(answer.company_ids)) {
        const changed = answer.company_ids.join(",") !== companies.join(",");
        companies = answer.company_ids;
        known = true;
        if (changed && companies.some((id) => names.get(id) === id)) loadNames();
        renderOptions();
      }
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
  return {
    stop: () => { clearInterval(ticker); clearInterval(refresher); },
    /* The technician's access changed: names of new companies, and which take codes. */
    setCompanies: (ids) => { for (const id of ids) if (!names.has(id)) names.set(id, id); loadNames(); load(); },
  };
}
