// The Clone dialog (admins, shut-off VMs): the copy's name, and the server copies the rest (new
// UUID and MAC addresses, a copy of each disk volume in its pool). The copy is then selected,
// as a VM made by the Create dialog is.

import { blamedField, element, field, fieldError } from "./fields.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { postTask } from "./tasks.js";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export class CloneVMDialog {
  /** cloned(copy, host, original): told of the copy (its detail object) once made. */
  constructor(cloned) {
    this.cloned = cloned;
    this.vm = null;
    this.dialog = element("dialog", "sheet narrow");
    this.dialog.dataset.cloneDialog = "";
    this.dialog.setAttribute("aria-labelledby", "clone-title");
    this.title = element("h2");
    this.title.id = "clone-title";
    const form = element("form", "sheet-form");
    form.noValidate = true;
    this.text = element("p", "muted");
    this.name = field("Name of the copy", { name: "clone-name", attributes: {
      maxlength: "64", autocomplete: "off", spellcheck: "false", autocapitalize: "none" } });
    this.message = element("p", "message error");
    this.message.setAttribute("role", "alert");
    this.message.hidden = true;
    const cancel = element("button", "", "Cancel");
    cancel.type = "button";
    this.submit = element("button", "primary", "Clone");
    this.submit.type = "submit";
    this.submit.dataset.cloneSubmit = "";
    const buttons = element("div", "dialog-buttons");
    buttons.append(cancel, this.submit);
    form.append(this.text, this.name.wrap, this.message, buttons);
    this.dialog.append(this.title, form);
    document.body.append(this.dialog);
    cancel.addEventListener("click", () => this.dialog.close());
    this.name.control.addEventListener("input", () => fieldError(this.name, ""));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  /** Ask for the name of a copy of `vm` (a fleet VM, with `host`). */
  open(vm) {
    this.vm = vm;
    this.title.textContent = `Clone ${vm.name}`;
    this.text.textContent = `The copy gets a new UUID and new MAC addresses, and a copy of each `
      + `of ${vm.name}'s disk volumes in the same pool; CD-ROMs stay as they are.`;
    this.name.control.value = `${vm.name}-copy`.slice(0, 64);
    fieldError(this.name, "");
    this.say("");
    this.dialog.showModal();
    this.name.control.select();
  }

  async send() {
    const vm = this.vm;
    const name = this.name.control.value.trim();
    fieldError(this.name, "");
    if (!NAME.test(name)) {
      fieldError(this.name, "Give a name of 1 to 64 letters, digits, dots, dashes or "
        + "underscores, not starting with a dot or a dash.");
      this.name.control.focus();
      return;
    }
    this.submit.disabled = true;
    this.submit.textContent = "Cloning…";
    this.say("");
    try {
      // A task: the disks are copied while the dialog says "Cloning…".
      const copy = await postTask(onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/clone`),
                                  { name });
      this.dialog.close();
      this.cloned(copy, vm.host, vm);
    } catch (problem) {
      if (problem.status === 409 && /name|exists/i.test(problem.message)
          || blamedField(problem) === "name") {
        fieldError(this.name, sentence(problem.message));
        this.name.control.focus();
      } else {
        this.say(`${vm.name} was not cloned: ${sentence(problem.message)}`);
      }
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Clone";
    }
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }
}
