/* Admin console, Technicians: search and page through them; a technician's access and
   capacity are edited in a drawer with a searchable company picker (the page itself never
   draws every company for every technician); removal is confirmed. */

import { $, announce, h, replace } from "../assets/dom.js";
import { confirmAction } from "./confirm.js";
import { fieldBox, sentence, showFormErrors } from "./forms.js";

const PER_PAGE = 20;
const TECH_FIELDS = { email_taken: "email", unknown_company: "company_ids", company_not_found: "company_ids", technician_removed: "company_ids" };

/* A searchable list of checkboxes: `selected` is kept across searches. */
export function companyPicker(companies, selected, { name = "company_ids", legend = "Company access" } = {}) {
  const chosen = new Set(selected);
  const filter = h("input", { type: "search", autocomplete: "off", placeholder: "Find a company", "aria-label": `Find a company (${legend.toLowerCase()})` });
  const options = h("div", { class: "picker-options" });
  const summary = h("p", { class: "small muted", role: "status" });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = companies().filter((c) => !q || c.name.toLowerCase().includes(q));
    replace(options, shown.length ? shown.map((c) => h("label", { class: "check" },
      h("input", {
        type: "checkbox", name, value: c.company_id, checked: chosen.has(c.company_id),
        onchange: (e) => { if (e.currentTarget.checked) chosen.add(c.company_id); else chosen.delete(c.company_id); count(); },
      }), c.name)) : h("p", { class: "empty" }, q ? `No company's name contains “${filter.value.trim()}”.` : "No company yet: add one first."));
  };
  const count = () => { summary.textContent = `${chosen.size} of ${companies().length} companies chosen.`; };
  filter.addEventListener("input", draw);
  draw();
  count();
  const element = h("fieldset", { class: "field picker", dataset: { field: "company_ids" } },
    h("legend", {}, legend), filter, options, summary, h("p", { class: "field-error" }));
  return { element, values: () => [...chosen] };
}

export function mountTechnicians({ authed, toast, companies, companyName, onChanged }) {
  const list = $("#technicians");
  const view = { q: "", page: 1, timer: null };
  const search = h("input", { type: "search", autocomplete: "off", placeholder: "Part of a name or e-mail" });
  const status = h("p", { class: "small muted", role: "status" });
  const prev = h("button", { type: "button", class: "small secondary" }, "Previous");
  const next = h("button", { type: "button", class: "small secondary" }, "Next");
  const pager = h("div", { class: "pager" }, prev, status, next);
  list.closest(".card").before(h("div", { class: "card list-tools" }, fieldBox("q", "Search technicians", search)));
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
      answer = await authed(`/technicians/search?${params}`);
    } catch (error) {
      if (mine === latest) replace(list, h("li", { class: "form-error" }, sentence(error.message)));
      return;
    }
    if (mine !== latest) return;
    if (answer.page > answer.pages) { view.page = answer.pages; return refresh(); }
    replace(list, answer.items.length ? answer.items.map(row) : h("li", { class: "empty" },
      view.q ? `No technician's name or e-mail contains “${view.q}”.` : "No technician yet."));
    status.textContent = `${answer.total} ${answer.total === 1 ? "technician" : "technicians"} · page ${answer.page} of ${answer.pages}`;
    prev.disabled = answer.page <= 1;
    next.disabled = answer.page >= answer.pages;
    pager.hidden = answer.pages <= 1 && !view.q;
  }

  function row(t) {
    const access = t.company_ids.length ? t.company_ids.map(companyName).join(", ") : "No company access";
    return h("li", { class: "tech-row", dataset: { email: t.email } },
      h("div", { class: "row" },
        h("div", { class: "tech-head" }, h("h3", {}, t.name), h("span", { class: "muted" }, t.email),
          h("span", { class: "small muted" }, `${access} · up to ${t.capacity} chats`)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "small secondary", "aria-label": `Edit ${t.name}'s access`, onclick: () => openDrawer(t) }, "Edit access"),
          h("button", { type: "button", class: "small danger", "aria-label": `Remove ${t.name}`, onclick: () => remove(t) }, "Remove"))));
  }

  async function remove(t) {
    const ok = await confirmAction({
      title: `Remove ${t.name}?`,
      body: [`${t.name} (${t.email}) can no longer sign in; their open chats end for them and nothing more is routed to them.`, "This cannot be undone."],
      confirmLabel: `Remove ${t.name}`,
    });
    if (!ok) return;
    try {
      await authed(`/technicians/${encodeURIComponent(t.technician_id)}`, { method: "DELETE" });
      toast(`${t.name} removed.`);
      await onChanged();
    } catch (error) {
      toast(sentence(error.message), "error");
    }
  }

  /* The drawer: a modal dialog at the side, with the picker and the capacity. */
  function openDrawer(t) {
    const returnTo = document.activeElement;
    const titleId = `drawer-${t.technician_id}`;
    const picker = companyPicker(companies, t.company_ids);
    const capacity = h("input", { type: "number", min: "1", max: "50", value: String(t.capacity) });
    const general = h("p", { class: "form-error", role: "alert" });
    const close = () => { drawer.close(); };
    const form = h("form", { novalidate: true, class: "stack" },
      picker.element,
      fieldBox("capacity", "Maximum concurrent chats", capacity),
      general,
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Save access"),
        h("button", { type: "button", class: "quiet", onclick: close }, "Cancel")));
    const drawer = h("dialog", { class: "drawer", "aria-labelledby": titleId },
      h("div", { class: "dialog-body stack" },
        h("div", { class: "row" }, h("h2", { id: titleId }, `${t.name}'s access`),
          h("button", { type: "button", class: "quiet small", onclick: close }, "Close")),
        h("p", { class: "small muted" }, `${t.email}. Changes apply within seconds, also to a help center that is open.`),
        form));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await authed(`/technicians/${encodeURIComponent(t.technician_id)}`, {
          method: "PATCH", body: { company_ids: picker.values(), capacity: Number(capacity.value) },
        });
        showFormErrors(form, null, {}, general);
        close();
        toast(`${t.name}'s access saved. It applies within seconds.`);
        announce(`${t.name}'s access saved.`);
        await onChanged();
      } catch (error) {
        showFormErrors(form, error, TECH_FIELDS, general);
      }
    });
    drawer.addEventListener("close", () => {
      drawer.remove();
      if (returnTo && returnTo.isConnected) returnTo.focus();
    });
    document.body.append(drawer);
    drawer.showModal();
    drawer.querySelector("input[type=search]").focus();
  }

  return { refresh };
}
