/* Confirmations for destructive actions: a modal dialog that says what will happen and
   names the action on its button (never a bare "OK"). Resolves true when confirmed. */

import { h } from "../assets/dom.js";

export function confirmAction({ title, body, confirmLabel, danger = true }) {
  return new Promise((resolve) => {
    const returnTo = document.activeElement;
    const titleId = `confirm-${Math.random().toString(36).slice(2, 8)}`;
    const cancel = h("button", { type: "button", class: "quiet" }, "Cancel");
    const confirm = h("button", { type: "button", class: danger ? "danger" : "" }, confirmLabel);
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": titleId },
      h("div", { class: "dialog-body stack" },
        h("h2", { id: titleId }, title),
        ...(Array.isArray(body) ? body : [body]).map((part) => (typeof part === "string" ? h("p", {}, part) : part)),
        h("div", { class: "actions" }, confirm, cancel)));
    let answered = false;
    const finish = (value) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      if (returnTo && returnTo.isConnected) returnTo.focus();
      resolve(value);
    };
    confirm.addEventListener("click", () => finish(true));
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
