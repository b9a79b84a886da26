// The XML tab: the selected VM's libvirt definition in a plain monospace text box. Everyone who
// sees the VM may read it; admins may save it, sent with If-Match so that a definition changed
// meanwhile (by someone else, or by libvirt) is never overwritten: the 412 then says so and
// offers to reload. libvirt's reason for refusing a definition is shown as it said it.

import { request } from "./api.js";
import { element, uniqueId } from "./fields.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";

export class XMLPanel {
  /** saved(): the definition was replaced (the VM's detail may have changed with it). */
  constructor(root, saved) {
    this.root = root;
    this.saved = saved;
    this.vm = null;
    this.etag = null;
    this.text = element("textarea", "xml-text mono");
    this.text.id = uniqueId("vm-xml");
    this.text.spellcheck = false;
    this.text.rows = 18;
    this.text.setAttribute("autocapitalize", "none");
    this.text.setAttribute("autocomplete", "off");
    this.text.dataset.xmlText = "";
    this.label = element("label", "", "Definition (libvirt XML)");
    this.label.htmlFor = this.text.id;
    this.message = element("p", "message");
    this.message.hidden = true;
    this.message.dataset.xmlMessage = "";
    this.saveButton = element("button", "primary", "Save XML");
    this.saveButton.type = "button";
    this.saveButton.dataset.xmlSave = "";
    this.reloadButton = element("button", "", "Reload");
    this.reloadButton.type = "button";
    this.reloadButton.dataset.xmlReload = "";
    const buttons = element("div", "xml-buttons");
    buttons.append(this.saveButton, this.reloadButton);
    root.append(this.label, this.text, this.message, buttons);
    this.saveButton.addEventListener("click", () => this.save());
    this.reloadButton.addEventListener("click", () => this.load(this.vm, this.admin));
  }

  /** Load `vm`'s definition; `admin` may edit and save it. */
  async load(vm, admin) {
    this.vm = vm;
    this.admin = admin;
    this.text.readOnly = !admin;
    this.saveButton.hidden = !admin;
    this.text.value = "";
    this.say(`Loading the definition of ${vm.name}…`);
    try {
      const answer = await request("GET", this.url(vm), { xml: true });
      if (vm !== this.vm) return;
      this.etag = answer.etag;
      this.text.value = answer.data;
      this.say(admin ? "" : "Read only: only admins may change a VM's definition.");
    } catch (problem) {
      if (vm === this.vm) this.say(`The definition could not be read: `
        + `${sentence(problem.message)}`, true);
    }
  }

  url(vm) {
    return onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/xml`);
  }

  async save() {
    const vm = this.vm;
    if (!vm || !this.admin) return;
    this.saveButton.disabled = true;
    this.say("");
    try {
      const answer = await request("PUT", this.url(vm), { xml: this.text.value,
                                                          ifMatch: this.etag || "*" });
      if (vm !== this.vm) return;
      this.say(`Saved the definition of ${vm.name}.`);
      // The server normalizes what it stores: show that, with its new ETag.
      const fresh = await request("GET", this.url(vm), { xml: true });
      this.etag = fresh.etag || answer.etag;
      this.text.value = fresh.data;
      this.saved();
    } catch (problem) {
      if (problem.status === 412) {
        this.say(`Someone changed the definition of ${vm.name} since you loaded it, so it was `
          + "not saved. Reload to see theirs (your edits here are then lost).", true);
        this.reloadButton.focus();
      } else {
        this.say(`Not saved: ${sentence(problem.message)}`, true);
      }
    } finally {
      this.saveButton.disabled = false;
    }
  }

  say(text, error = false) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
    this.message.setAttribute("role", error ? "alert" : "status");
  }
}
