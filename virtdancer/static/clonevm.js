// The Clone dialog (admins, shut-off VMs): the copy's name, and the server copies the rest (new
// UUID and MAC addresses, a copy of each disk volume in its pool). The copy is then selected,
// as a VM made by the Create dialog is.

import { nameProblem } from "./checks.js";
import { blamedField, element, field, fieldError } from "./fields.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { SheetDialog } from "./sheet.js";
import { postTask } from "./tasks.js";

export class CloneVMDialog extends SheetDialog {
  /** cloned(copy, host, original): told of the copy (its detail object) once made. */
  constructor(cloned) {
    super({ name: "clone", submit: "Clone", narrow: true });
    this.cloned = cloned;
    this.vm = null;
    this.text = element("p", "muted");
    this.name = field("Name of the copy", { name: "clone-name", attributes: {
      maxlength: "64", autocomplete: "off", spellcheck: "false", autocapitalize: "none" } });
    this.fill(this.text, this.name.wrap);
    this.name.control.addEventListener("input", () => fieldError(this.name, ""));
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
    const unfit = nameProblem(name, "VM");
    if (unfit) {
      fieldError(this.name, unfit);
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
}
