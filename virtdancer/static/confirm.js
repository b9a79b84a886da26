// Asks "are you sure?" in the page's own <dialog>, not window.confirm: it looks like the rest of
// the page, says what exactly will happen, and a test can press its buttons.

let pending = null;   // resolve() of the question on screen
let opener = null;    // what had the focus when it was asked

function dialogParts() {
  const dialog = document.querySelector("[data-confirm-dialog]");
  return {
    dialog,
    title: dialog.querySelector("[data-confirm-title]"),
    text: dialog.querySelector("[data-confirm-text]"),
    confirm: dialog.querySelector("[data-confirm]"),
    cancel: dialog.querySelector("[data-cancel]"),
  };
}

export function setUpConfirm() {
  const { dialog, confirm, cancel } = dialogParts();
  confirm.addEventListener("click", () => dialog.close("confirm"));
  cancel.addEventListener("click", () => dialog.close("cancel"));
  // Escape closes the dialog too (returnValue stays ""), which counts as cancelling.
  dialog.addEventListener("close", () => {
    // A redraw behind the dialog may have replaced the button that opened it: the focus goes
    // to its twin (the same name for screen readers), not to the page's body.
    const label = opener?.getAttribute?.("aria-label");
    if (opener && !opener.isConnected && label) {
      [...document.querySelectorAll("button[aria-label]")]
        .find((one) => one.getAttribute("aria-label") === label)?.focus();
    }
    opener = null;
    const answer = dialog.returnValue === "confirm";
    dialog.returnValue = "";
    if (pending) pending(answer);
    pending = null;
  });
}

/**
 * Resolve to true when the user confirms, false when they cancel or press Escape. `danger`:
 * the button destroys something (red); starting VMs, say, is not.
 */
export function confirmAction({ title, text, confirmLabel, danger = true }) {
  const { dialog, title: titleElement, text: textElement, confirm } = dialogParts();
  if (dialog.open) dialog.close("cancel");
  titleElement.textContent = title;
  textElement.textContent = text;
  confirm.textContent = confirmLabel;
  confirm.className = danger ? "danger" : "primary";
  dialog.returnValue = "";
  opener = document.activeElement;
  return new Promise((resolve) => {
    pending = resolve;
    dialog.showModal();   // focus goes to Cancel (autofocus): Enter never destroys by accident
  });
}

/** Close the question, as cancelled (the user logged out, say). */
export function dismissConfirm() {
  const { dialog } = dialogParts();
  if (dialog.open) dialog.close("cancel");
}
