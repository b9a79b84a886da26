// The Edit panel (admins): CPUs, memory, maximum memory, autostart, description and boot
// order of the selected VM, sent as one `PATCH vm/<uuid>` with only what changed. The answer
// says which changes wait for the VM's next boot (`next_boot`), and the panel says so in words.

import { patch } from "./api.js";
import { blamedField, checkbox, element, field, fieldError, setOptions } from "./fields.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";

const BOOT_ORDERS = [
  ["hd", "the disk"],
  ["cdrom,hd", "the CD-ROM, then the disk"],
  ["hd,cdrom", "the disk, then the CD-ROM"],
  ["network,hd", "the network, then the disk"],
  ["hd,network", "the disk, then the network"],
  ["cdrom,hd,network", "the CD-ROM, the disk, then the network"],
];
const DEVICE_WORDS = { hd: "the disk", cdrom: "the CD-ROM", network: "the network",
                       fd: "the floppy" };
const FIELD_WORDS = { vcpus: "CPUs", memory: "memory", max_memory: "maximum memory",
                      autostart: "autostart", description: "description", boot: "boot order" };
const MiB = 1024;   // KiB in a MiB: the detail's memory figures are KiB

/** A boot order the list above lacks, in words: "the floppy, then the disk". */
function orderWords(devices) {
  const words = devices.map((device) => DEVICE_WORDS[device] || device);
  return words.length < 2 ? words.join("")
    : `${words.slice(0, -1).join(", ")}, then ${words[words.length - 1]}`;
}

/** "CPUs and memory", "CPUs, memory and boot order". */
function listWords(names) {
  const words = names.map((name) => FIELD_WORDS[name] || name);
  return words.length < 2 ? words.join("")
    : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

export class EditPanel {
  /** saved(detail): the server's answer to a save, the VM's new detail. */
  constructor(root, saved) {
    this.root = root;
    this.saved = saved;
    this.vm = null;
    this.form = element("form", "edit-form");
    this.form.noValidate = true;
    this.form.dataset.editForm = "";
    this.fields = {
      vcpus: field("CPUs", { name: "vcpus", attributes: { type: "number", min: "1",
                                                             step: "1" } }),
      memory: field("Memory (MiB)", { name: "memory", attributes: { type: "number",
                                                                    min: "16", step: "1" } }),
      max_memory: field("Maximum memory (MiB)", { name: "max_memory", attributes: {
        type: "number", min: "16", step: "1" } }),
      boot: field("Boot from", { tag: "select", name: "boot" }),
      description: field("Description", { tag: "textarea", name: "description",
                                          attributes: { rows: "3", maxlength: "1000" } }),
    };
    this.autostart = checkbox("Start it when the host starts", "autostart");
    this.message = element("p", "message");
    this.message.hidden = true;
    this.message.dataset.editMessage = "";
    const save = element("button", "primary", "Save changes");
    save.type = "submit";
    this.save = save;
    const grid = element("div", "edit-grid");
    grid.append(this.fields.vcpus.wrap, this.fields.memory.wrap, this.fields.max_memory.wrap,
                this.fields.boot.wrap);
    this.form.append(grid, this.autostart.wrap, this.fields.description.wrap, this.message,
                     save);
    root.append(this.form);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  /** Fill the form from `detail` (a `GET vm/<uuid>` answer) of the fleet VM `vm`. */
  fill(vm, detail) {
    this.vm = vm;
    this.detail = detail;
    const info = detail.info || {};
    const f = this.fields;
    f.vcpus.control.value = info.nrVirtCpu ?? "";
    f.memory.control.value = info.memory ? Math.round(info.memory / MiB) : "";
    f.max_memory.control.value = info.maxMem ? Math.round(info.maxMem / MiB) : "";
    // The detail's `boot` is the VM's order now; [] when its devices carry their own (or
    // none is named): the field then starts at "as it is now", which sends no change.
    const current = Array.isArray(detail.boot) ? detail.boot : [];
    const boot = current.join(",");
    const orders = boot ? [...BOOT_ORDERS] : [["", "as it is now"], ...BOOT_ORDERS];
    if (boot && !orders.some(([value]) => value === boot)) {
      orders.push([boot, orderWords(current)]);
    }
    setOptions(f.boot.control, orders, boot);
    f.description.control.value = detail.description ?? "";
    this.autostart.control.checked = Boolean(detail.autostart);
    for (const one of Object.values(f)) fieldError(one, "");
  }

  /** What changed, as a PATCH body, or null when a field is wrong (it then says why). */
  changes() {
    const f = this.fields;
    const info = this.detail.info || {};
    const body = {};
    let ok = true;
    for (const one of Object.values(f)) fieldError(one, "");
    const whole = (one, min, was) => {
      const value = Number(one.control.value);
      if (!Number.isInteger(value) || value < min) {
        fieldError(one, `A whole number, at least ${min}.`);
        if (ok) one.control.focus();
        ok = false;
      } else if (value !== was) {
        body[one.control.name] = value;
      }
    };
    whole(f.vcpus, 1, info.nrVirtCpu);
    whole(f.memory, 16, Math.round((info.memory || 0) / MiB));
    whole(f.max_memory, 16, Math.round((info.maxMem || 0) / MiB));
    const memory = Number(f.memory.control.value);
    if (ok && memory > Number(f.max_memory.control.value)) {
      fieldError(f.memory, "Memory cannot be more than the maximum memory.");
      f.memory.control.focus();
      ok = false;
    }
    const boot = f.boot.control.value;
    const wasBoot = Array.isArray(this.detail.boot) ? this.detail.boot.join(",") : "";
    if (boot && boot !== wasBoot) body.boot = boot.split(",");
    if (this.autostart.control.checked !== Boolean(this.detail.autostart)) {
      body.autostart = this.autostart.control.checked;
    }
    if (f.description.control.value !== (this.detail.description ?? "")) {
      body.description = f.description.control.value;
    }
    return ok ? body : null;
  }

  async send() {
    const vm = this.vm;
    const body = this.changes();
    if (!vm || !body) return;
    if (!Object.keys(body).length) {
      this.say("Nothing to save: nothing was changed.");
      return;
    }
    this.save.disabled = true;
    this.say("");
    try {
      const { data } = await patch(onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}`), body);
      if (vm !== this.vm) return;
      const waiting = (data.next_boot || []).filter((name) => name in body);
      const applied = Object.keys(body).filter((name) => !waiting.includes(name));
      let words = `Saved ${listWords(Object.keys(body))} of ${vm.name}.`;
      if (waiting.length) {
        words += ` Waiting for ${vm.name}'s next boot: ${listWords(waiting)}`;
        words += applied.length ? "; the rest applies now." : ".";
      } else if (vm.active) {
        words += " It applies now.";
      }
      // The detail tells the running VM's figures: a change that waits for the next boot
      // stays in its field as entered, not shown as undone.
      const entered = Object.fromEntries(waiting.filter((name) => name in this.fields)
        .map((name) => [name, this.fields[name].control.value]));
      // The answer has no devices nor boot order: those of the detail stay, with the boot
      // order saved when it applies now (a shut-off VM's).
      const after = { ...this.detail, ...data };
      if (body.boot && !waiting.includes("boot")) after.boot = body.boot;
      this.fill(vm, after);
      for (const [name, value] of Object.entries(entered)) this.fields[name].control.value = value;
      this.say(words);
      this.saved(after);
    } catch (problem) {
      const key = blamedField(problem);
      if (key in this.fields) {
        fieldError(this.fields[key], sentence(problem.message));
        this.fields[key].control.focus();
      } else {
        this.say(`Not saved: ${sentence(problem.message)}`, true);
      }
    } finally {
      this.save.disabled = false;
      // Disabled while saving, the button lost the focus to the page's body: give it back,
      // so that the keyboard stays in the form (a wrong field has taken it instead).
      if (document.activeElement === document.body && !this.form.hidden) this.save.focus();
    }
  }

  say(text, error = false) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
    this.message.setAttribute("role", error ? "alert" : "status");
  }
}
