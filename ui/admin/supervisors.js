/* Admin console, Supervisors tab: the account's read-only dashboard viewers — add (name,
   e-mail, initial password), list, remove (confirmed; their sign-in stops working at once).
   `mountSupervisors(panel, authed, toast)`: `authed(path, options)` calls /api/portal. */

import { h, replace } from "../assets/dom.js";
import { confirmAction } from "./confirm.js";
import { fieldBox, sentence, showFormErrors } from "./forms.js";

function input(name, label, attrs) {
  return fieldBox(name, label, h("input", { required: true, ...attrs }));
}

export function mountSupervisors(panel, authed, toast) {
  const list = h("ul", { class: "list", id: "supervisors" });
  const general = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "grid-form", novalidate: true, id: "supervisor-form" },
    input("name", "Name", { maxlength: "100", autocomplete: "off" }),
    input("email", "E-mail", { type: "email", maxlength: "254", autocomplete: "off" }),
    input("password", "Initial password", { type: "password", minlength: "8", maxlength: "128", autocomplete: "new-password" }),
    h("div", { class: "wide" }, general, h("button", { type: "submit" }, "Add supervisor")));
  replace(panel,
    h("h1", {}, "Supervisors"),
    h("p", { class: "muted" }, "Supervisors sign in to the live dashboard (/dashboard) and see every company of your account there — read-only, nothing else."),
    h("details", { class: "card", id: "supervisor-add" }, h("summary", {}, h("strong", {}, "Add a supervisor")), form),
    h("div", { class: "card" }, list));

  const showErrors = (error) => showFormErrors(form, error, { email_taken: "email" }, general);

  async function refresh() {
    const supervisors = await authed("/supervisors");
    replace(list, supervisors.length
      ? supervisors.map((s) => h("li", { class: "row", dataset: { supervisor: s.email } },
        h("div", {}, h("strong", {}, s.name), " ", h("span", { class: "muted" }, s.email)),
        h("button", { type: "button", class: "small danger", onclick: () => remove(s) }, `Remove ${s.name}`)))
      : h("li", { class: "empty" }, "No supervisor yet."));
  }

  async function remove(supervisor) {
    const confirmed = await confirmAction({
      title: `Remove ${supervisor.name}?`,
      body: "They are signed out of the dashboard at once and can no longer sign in.",
      confirmLabel: "Remove supervisor",
    });
    if (!confirmed) return;
    try {
      await authed(`/supervisors/${encodeURIComponent(supervisor.supervisor_id)}`, { method: "DELETE" });
      toast(`${supervisor.name} was removed.`);
      await refresh();
    } catch (error) {
      toast(sentence(error.message), "error");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.name.value.trim(), email: form.email.value.trim(), password: form.password.value };
    try {
      await authed("/supervisors", { method: "POST", body });
      showErrors(null);
      form.reset();
      toast(`${body.name} can now sign in to the dashboard.`);
      await refresh();
    } catch (error) {
      showErrors(error);
    }
  });

  return { refresh };
}
