/* Admin console, Companies: add, search and page through, rename, delete (confirmed, with
   what deletion means spelt out). Rows come from GET /companies/search (one page at a time). */

import { $, announce, h, replace } from "../assets/dom.js";
import { confirmAction } from "./confirm.js";
import { fieldBox, sentence, showFormErrors } from "./forms.js";

const PER_PAGE = 20;
const NAME_CODES = { company_name_taken: "name", company_not_found: "name" };

export function mountCompanies({ authed, toast, onChanged }) {
  const section = $("#section-companies");
  const list = $("#companies");
  const view = { q: "", page: 1, timer: null };

  // Add a company: the error lands next to the field.
  const addForm = $("#company-form");
  const nameInput = addForm.querySelector("[name=name]");
  const nameWrapper = nameInput.closest(".field");
  nameWrapper.dataset.field = "name";
  nameInput.setAttribute("aria-describedby", "company-error");
  const nameError = $("#company-error");
  nameError.classList.add("field-error");
  nameWrapper.append(nameError);
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) {
      showFormErrors(addForm, { fields: [{ field: "name", message: "Enter the company's name." }] });
      return;
    }
    try {
      const company = await authed("/companies", { method: "POST", body: { name } });
      addForm.reset();
      showFormErrors(addForm, null);
      toast(`Company ${company.name} added.`);
      await onChanged();
    } catch (error) {
      showFormErrors(addForm, error, NAME_CODES);
    }
  });

  // Search and pages.
  const search = h("input", { type: "search", autocomplete: "off", placeholder: "Part of a name" });
  const status = h("p", { class: "small muted", role: "status" });
  const prev = h("button", { type: "button", class: "small secondary" }, "Previous");
  const next = h("button", { type: "button", class: "small secondary" }, "Next");
  const pager = h("div", { class: "pager" }, prev, status, next);
  const tools = h("div", { class: "card list-tools" }, fieldBox("q", "Search companies", search));
  list.closest(".card").before(tools);
  list.closest(".card").after(pager);
  search.addEventListener("input", () => {
    clearTimeout(view.timer);
    view.timer = setTimeout(() => { view.q = search.value.trim(); view.page = 1; refresh(); }, 250);
  });
  prev.addEventListener("click", () => { view.page -= 1; refresh(); });
  next.addEventListener("click", () => { view.page += 1; refresh(); });

  // Only the latest refresh draws: on a slow connection an older answer (the console's first
  // load, a search typed before a page turn) can arrive last, and would put back a list the
  // admin already left, closing a rename open in it.
  let latest = 0;
  async function refresh() {
    const mine = ++latest;
    const params = new URLSearchParams({ q: view.q, page: String(view.page), per_page: String(PER_PAGE) });
    let answer;
    try {
      answer = await authed(`/companies/search?${params}`);
    } catch (error) {
      if (mine === latest) replace(list, h("li", { class: "form-error" }, sentence(error.message)));
      return;
    }
    if (mine !== latest) return;
    if (answer.page > answer.pages) { view.page = answer.pages; return refresh(); }
    replace(list, answer.items.length ? answer.items.map(row) : h("li", { class: "empty" },
      view.q ? `No company's name contains “${view.q}”.` : "No company yet."));
    status.textContent = `${answer.total} ${answer.total === 1 ? "company" : "companies"} · page ${answer.page} of ${answer.pages}`;
    prev.disabled = answer.page <= 1;
    next.disabled = answer.page >= answer.pages;
    pager.hidden = answer.pages <= 1 && !view.q;
  }

  function row(company) {
    const portal = company.portal_subdomain
      ? `Portal: ${company.portal_subdomain}${company.portal_status === "inactive" ? " (inactive)" : ""}`
      : "No portal yet";
    const access = `${company.technician_count} ${company.technician_count === 1 ? "technician" : "technicians"}`;
    const item = h("li", { class: "company-row", dataset: { companyId: company.company_id } });
    const show = () => replace(item,
      h("div", { class: "row" },
        h("div", {}, h("strong", { class: "company-name" }, company.name),
          h("p", { class: "small muted" }, `${portal} · ${access}`)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "small secondary", "aria-label": `Rename ${company.name}`, onclick: () => rename() }, "Rename"),
          h("button", { type: "button", class: "small danger", "aria-label": `Delete ${company.name}`, onclick: () => remove(company) }, "Delete"))));
    const rename = () => {
      const input = h("input", { maxlength: "100", value: company.name, autocomplete: "off" });
      const form = h("form", { class: "inline-form", novalidate: true },
        fieldBox("name", `New name for ${company.name}`, input),
        h("div", { class: "actions" },
          h("button", { type: "submit", class: "small" }, "Save name"),
          h("button", { type: "button", class: "small quiet", onclick: () => { show(); item.querySelector("button").focus(); } }, "Cancel")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const name = input.value.trim();
        if (!name) { showFormErrors(form, { fields: [{ field: "name", message: "Enter the company's name." }] }); return; }
        try {
          const saved = await authed(`/companies/${encodeURIComponent(company.company_id)}`, { method: "PATCH", body: { name } });
          toast(`Renamed to ${saved.name}.`);
          await onChanged();
        } catch (error) {
          showFormErrors(form, error, NAME_CODES);
        }
      });
      replace(item, form);
      input.focus();
      input.select();
    };
    show();
    return item;
  }

  async function remove(company) {
    const people = company.technician_count === 1 ? "the 1 technician" : `the ${company.technician_count} technicians`;
    const ok = await confirmAction({
      title: `Delete ${company.name}?`,
      body: [
        company.portal_subdomain
          ? `Its portal “${company.portal_subdomain}” is switched off at once: customers see “Service unavailable” and no new request is accepted.`
          : "It has no portal, so no customer is affected.",
        company.technician_count
          ? `${sentence(people)} who serve it lose access to it: their open chats with its customers end for them.`
          : "No technician serves it.",
        "Requests still waiting for a technician are cancelled, and each waiting customer is told the company no longer offers support here.",
        "Past chats stay in the transcripts. This cannot be undone.",
      ],
      confirmLabel: `Delete ${company.name}`,
    });
    if (!ok) return;
    try {
      await authed(`/companies/${encodeURIComponent(company.company_id)}`, { method: "DELETE" });
      toast(`${company.name} deleted.`);
      announce(`${company.name} deleted.`);
      await onChanged();
    } catch (error) {
      toast(sentence(error.message), "error");
    }
  }

  section.dataset.mounted = "1";
  return { refresh };
}
