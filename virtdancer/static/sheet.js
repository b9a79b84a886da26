// The form dialogs' common frame: a modal sheet with a title, the form's own fields, a line
// for the server's refusals, Cancel and one submit button. Submitting calls the dialog's
// `send()` (the form never loads a page); the dialog classes add only their fields and what
// they send. Each part is named after the dialog, e.g. "clone": `data-clone-dialog`, the title
// `#clone-title`, the button `data-clone-submit`, so the browser tests find them.

import { element } from "./fields.js";

/** "clone-volume" + "Dialog" → "cloneVolumeDialog", the dataset key of data-clone-volume-dialog. */
function datasetKey(name, part) {
  return `${name}-${part}`.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

export class SheetDialog {
  /**
   * name: names the parts (see above); submit: the button's words; danger: a button that
   * destroys; narrow: a sheet for a few fields.
   */
  constructor({ name, submit, danger = false, narrow = false }) {
    this.dialog = element("dialog", narrow ? "sheet narrow" : "sheet");
    this.dialog.dataset[datasetKey(name, "dialog")] = "";
    this.dialog.setAttribute("aria-labelledby", `${name}-title`);
    this.title = element("h2");
    this.title.id = `${name}-title`;
    this.form = element("form", "sheet-form");
    this.form.noValidate = true;   // the dialog checks, and says it in VirtDancer's words
    this.message = element("p", "message error");
    this.message.setAttribute("role", "alert");
    this.message.hidden = true;
    this.cancel = element("button", "", "Cancel");
    this.cancel.type = "button";
    this.submit = element("button", danger ? "danger" : "primary", submit);
    this.submit.type = "submit";
    this.submit.dataset[datasetKey(name, "submit")] = "";
    this.dialog.append(this.title, this.form);
    document.body.append(this.dialog);
    this.cancel.addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  /** Put the dialog's own parts in the form, above the refusal line and the buttons. */
  fill(...parts) {
    const buttons = element("div", "dialog-buttons");
    buttons.append(this.cancel, this.submit);
    this.form.append(...parts, this.message, buttons);
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Show a refusal or a problem under the fields ("" hides the line). */
  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
    // The submit button, disabled while it sent, lost the focus to the page's body: once the
    // dialog's send() has ended (a microtask later), the keyboard comes back to the dialog.
    if (text) queueMicrotask(() => this.keepFocus());
  }

  keepFocus() {
    if (!this.dialog.open || document.activeElement !== document.body) return;
    (this.submit.disabled ? this.cancel : this.submit).focus();
  }
}
