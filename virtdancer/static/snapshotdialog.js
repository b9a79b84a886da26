// The Snapshots view's question before a Revert or a Delete: what will happen, at most one
// tick box ("start afterwards", "with its children"), Cancel (focused first) and the button.
// A <dialog> of its own rather than confirm.js's, which has no room for a choice.

import { checkbox, element } from "./fields.js";

/** The Revert and Delete question: a text, at most one tick box, Cancel and a danger button. */
export class SnapshotDialog {
  constructor() {
    this.dialog = element("dialog", "sheet narrow");
    this.dialog.dataset.snapshotDialog = "";
    this.dialog.setAttribute("aria-labelledby", "snapshot-dialog-title");
    this.title = element("h2");
    this.title.id = "snapshot-dialog-title";
    const form = element("form", "sheet-form");
    form.method = "dialog";
    this.text = element("p");
    this.note = element("p", "muted");
    this.choice = checkbox("", "snapshot-choice");
    const cancel = element("button", "", "Cancel");
    cancel.type = "button";
    cancel.autofocus = true;   // Enter never discards a VM's state by accident
    // Named before its first question too: every control of the page has a name.
    this.confirm = element("button", "danger", "Confirm");
    this.confirm.type = "submit";
    this.confirm.value = "confirm";
    const buttons = element("div", "dialog-buttons");
    buttons.append(cancel, this.confirm);
    form.append(this.text, this.note, this.choice.wrap, buttons);
    this.dialog.append(this.title, form);
    document.body.append(this.dialog);
    cancel.addEventListener("click", () => this.dialog.close(""));
    this.dialog.addEventListener("close", () => {
      const confirmed = this.dialog.returnValue === "confirm";
      this.dialog.returnValue = "";
      if (this.pending) this.pending(confirmed ? { choice: this.choice.control.checked } : null);
      this.pending = null;
    });
  }

  /** Resolve to {choice} when confirmed, null when cancelled (or Escape). */
  ask({ title, text, choice = "", choiceNote = "", confirmLabel }) {
    this.close();
    this.title.textContent = title;
    this.text.textContent = text;
    this.note.textContent = choiceNote;
    this.note.hidden = !choiceNote;
    this.choice.wrap.querySelector("label").textContent = choice;
    this.choice.wrap.hidden = !choice;
    this.choice.control.checked = false;
    this.confirm.textContent = confirmLabel;
    this.dialog.returnValue = "";
    return new Promise((resolve) => {
      this.pending = resolve;
      this.dialog.showModal();
    });
  }

  close() {
    if (this.dialog.open) this.dialog.close("");
  }
}
