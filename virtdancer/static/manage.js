// The selected VM beyond its lifecycle: its views (Overview with its devices, Edit for admins,
// XML, Snapshots), the Clone and Delete buttons for admins, and the VM's own detail (`GET vm/<uuid>`),
// which carries what the fleet's listing leaves out (description, disks, CD-ROMs, NICs). What
// the user may do is decided by the session's role for the admin's tools and by the VM's
// `operable` for media; the server checks both again.

import { get } from "./api.js";
import { CloneVMDialog } from "./clonevm.js";
import { DeleteVMDialog } from "./deletevm.js";
import { DevicesView } from "./devices.js";
import { EditPanel } from "./editvm.js";
import { element } from "./fields.js";
import { sentence } from "./format.js";
import { onHost, vmKey } from "./hosts.js";
import { SnapshotsView } from "./snapshots.js";
import { XMLPanel } from "./vmxml.js";

const VIEWS = [
  { name: "overview", label: "Overview" },
  { name: "edit", label: "Edit", admin: true },
  { name: "xml", label: "XML" },
  { name: "snapshots", label: "Snapshots" },
];

// What in a fleet VM, when it changes, may change its detail too (CPU time is left out: it
// changes all the time and is no device).
function signature(vm) {
  const info = vm.info || {};
  return [vm.state_name, vm.updated, vm.autostart, info.memory, info.maxMem,
          info.nrVirtCpu].join("|");
}

export class VMManager {
  /**
   * root: the detail panel; hooks: {changed(vm), deleted(vm, answer, volumesToo),
   * cloned(copy, host, original), told(text, options)}: the VM changed (refresh the fleet),
   * it was deleted, it was copied, and a line for the detail panel.
   */
  constructor(root, hooks) {
    this.hooks = hooks;
    this.bar = root.querySelector("[data-vm-manage]");
    this.views = {
      overview: root.querySelector("[data-vm-overview]"),
      edit: root.querySelector("[data-vm-edit]"),
      xml: root.querySelector("[data-vm-xml]"),
      snapshots: root.querySelector("[data-vm-snapshots]"),
    };
    this.devices = new DevicesView(root.querySelector("[data-devices]"),
                                   () => this.reload(true));
    this.edit = new EditPanel(this.views.edit, (detail) => this.savedEdit(detail));
    this.xml = new XMLPanel(this.views.xml, () => this.reload(true));
    this.snapshots = new SnapshotsView(this.views.snapshots, () => this.reload(true));
    this.deleteDialog = new DeleteVMDialog(hooks.deleted);
    this.cloneDialog = new CloneVMDialog(hooks.cloned);
    this.vm = null;
    this.detail = null;
    this.admin = false;
    this.view = "overview";
    this.seen = "";
    this.asked = 0;

    this.tabs = new Map();
    const tabs = element("div", "view-tabs");
    tabs.setAttribute("role", "group");
    tabs.setAttribute("aria-label", "Views of the VM");
    for (const view of VIEWS) {
      const button = element("button", "tab", view.label);
      button.type = "button";
      button.dataset.view = view.name;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => this.open(view.name));
      this.tabs.set(view.name, button);
      tabs.append(button);
    }
    this.deleteButton = element("button", "danger", "Delete…");
    this.deleteButton.type = "button";
    this.deleteButton.dataset.deleteVm = "";
    this.deleteButton.addEventListener("click", () => {
      if (this.vm) this.deleteDialog.open(this.vm, this.detail);
    });
    this.cloneButton = element("button", "", "Clone…");
    this.cloneButton.type = "button";
    this.cloneButton.dataset.cloneVm = "";
    this.cloneButton.addEventListener("click", () => {
      if (this.vm) this.cloneDialog.open(this.vm);
    });
    const tools = element("div", "vm-tools");
    tools.append(this.cloneButton, this.deleteButton);
    this.bar.append(tabs, tools);
  }

  /** Show `vm` (a fleet VM, or null); `admin`: the user is an admin. */
  show(vm, admin) {
    const key = vm ? vmKey(vm) : null;
    const other = key !== (this.vm ? vmKey(this.vm) : null);
    this.vm = vm;
    this.admin = admin;
    this.bar.hidden = !vm;
    if (!vm) {
      this.detail = null;
      this.seen = "";
      this.devices.show(null, null);
      this.snapshots.reset();
      this.deleteDialog.close();
      this.cloneDialog.close();
      return;
    }
    this.tabs.get("edit").hidden = !admin;
    this.deleteButton.hidden = !admin;
    this.deleteButton.disabled = Boolean(vm.stale);
    this.deleteButton.setAttribute("aria-label", `Delete ${vm.name}`);
    // Only a shut-off VM is cloned: its disks are not being written.
    this.cloneButton.hidden = !admin;
    this.cloneButton.disabled = Boolean(vm.stale || vm.active);
    this.cloneButton.title = this.cloneButton.disabled
      ? `${vm.name} can be cloned once it is shut off` : "";
    this.cloneButton.setAttribute("aria-label", `Clone ${vm.name}`);
    if (other) {
      this.detail = null;
      this.devices.show(null, null);
      this.snapshots.show(null);
      this.open("overview");
    }
    if (other || signature(vm) !== this.seen) {
      this.seen = signature(vm);
      if (!vm.stale) this.reload(false);
      // A new state changes what the Snapshots view offers (memory only while it runs).
      if (!other && this.view === "snapshots") this.snapshots.show(vm);
    }
  }

  /** Ask for the VM's detail again; `told`: the fleet should hear of the change too. */
  async reload(told) {
    const vm = this.vm;
    if (!vm) return;
    const number = ++this.asked;
    try {
      const { data } = await get(onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}`));
      if (number !== this.asked || vm !== this.vm) return;
      this.detail = data;
      this.devices.show(vm, data);
      if (this.view === "edit" && !this.editFilled) {
        this.edit.fill(vm, data);
        this.editFilled = true;
      }
    } catch (problem) {
      if (number === this.asked && problem.status !== 404 && problem.status !== 401) {
        this.hooks.told(`The devices of ${vm.name} could not be read: `
          + `${sentence(problem.message)}`, { error: true });
      }
    }
    if (told) this.hooks.changed(vm);
  }

  savedEdit(detail) {
    this.detail = detail;
    this.devices.show(this.vm, detail);
    this.hooks.changed(this.vm);
  }

  /** Show one view of the VM: "overview", "edit", "xml" or "snapshots". */
  open(name) {
    if (name === "edit" && !this.admin) name = "overview";
    this.view = name;
    for (const [view, section] of Object.entries(this.views)) section.hidden = view !== name;
    for (const [view, button] of this.tabs) {
      button.setAttribute("aria-pressed", String(view === name));
    }
    this.editFilled = false;
    if (name === "edit" && this.detail) {
      this.edit.fill(this.vm, this.detail);
      this.editFilled = true;
    }
    if (name === "xml" && this.vm) this.xml.load(this.vm, this.admin);
    if (name === "snapshots" && this.vm) this.snapshots.show(this.vm);
  }

  /** The session ended or the user changed: close what is open. */
  reset() {
    this.show(null, false);
  }
}
