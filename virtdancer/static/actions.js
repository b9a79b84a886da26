// The lifecycle buttons of the selected VM. Which ones exist depends on the user's role (a
// viewer gets none at all: there is nothing they could press); which are enabled depends on
// the VM's state, by API.md's table, so that a click normally succeeds. The server still has
// the last word — the state may have changed since the last poll — and its refusal is shown.
// A VM whose host does not answer (a stale VM) gets every button disabled and no console.

import { confirmAction } from "./confirm.js";

const when = (...states) => (vm) => states.includes(vm.state_name);

export const ACTIONS = [
  { name: "start", label: "Start", allowed: when("shut off", "crashed", "paused"),
    done: "started" },
  { name: "pause", label: "Pause", allowed: when("running"), done: "paused" },
  { name: "resume", label: "Resume", allowed: when("paused", "pmsuspended"), done: "resumed" },
  { name: "shutdown", label: "Shut down", allowed: when("running"),
    done: "asked to shut down (the guest decides when)" },
  { name: "reboot", label: "Reboot", allowed: when("running"),
    done: "asked to reboot (the guest decides when)" },
  { name: "reset", label: "Reset", allowed: when("running", "paused"), done: "reset",
    danger: true,
    confirm: (vm) => ({
      title: `Reset ${vm.name}?`,
      text: `${vm.name} restarts at once, like pressing a reset button: its guest does not `
        + "shut down, and whatever it has not saved is lost.",
      confirmLabel: `Reset ${vm.name}`,
    }) },
  { name: "destroy", label: "Destroy", allowed: (vm) => vm.active, done: "powered off",
    danger: true,
    confirm: (vm) => ({
      title: `Destroy ${vm.name}?`,
      text: `${vm.name} powers off at once, like pulling the plug: its guest does not shut down `
        + "and whatever it has not saved is lost. Its disks are kept.",
      confirmLabel: `Destroy ${vm.name}`,
    }) },
];

export function mayOperate(role) {
  return role === "operator" || role === "admin";
}

export class ActionBar {
  /**
   * container: the [data-actions] element; note: where to say that a role has no actions;
   * run(vm, action) performs an action (a promise).
   */
  constructor(container, note, run) {
    this.container = container;
    this.note = note;
    this.run = run;
    this.buttons = new Map();
    this.vm = null;
    this.role = null;
    this.busy = false;

    for (const action of ACTIONS) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action.name;
      button.textContent = action.label;
      if (action.danger) button.classList.add("danger");
      button.addEventListener("click", () => this.press(action));
      this.buttons.set(action.name, button);
    }
    // The console opens on a page of its own (noVNC): a link, so it can open in a new tab.
    this.console = document.createElement("a");
    this.console.className = "button";
    this.console.dataset.console = "";
    this.console.textContent = "Console";
  }

  /** Show the buttons this role has, enabled as `vm`'s state allows. */
  show(vm, role) {
    this.vm = vm;
    this.role = role;
    this.note.hidden = !vm || mayOperate(role);
    this.note.textContent = vm ? `Your role (${role}) may look at VMs, not act on them.` : "";
    if (!vm || !mayOperate(role)) {
      this.container.replaceChildren();
      this.container.hidden = true;
      return;
    }
    if (!this.container.childElementCount) {
      this.container.append(...this.buttons.values(), this.console);
    }
    this.container.hidden = false;
    const hasDisplay = ["running", "idle", "paused"].includes(vm.state_name);
    this.console.hidden = !hasDisplay || Boolean(vm.stale);
    // The console page asks the VM's own host for its ticket.
    this.console.href = `console?host=${encodeURIComponent(vm.host)}`
      + `&vm=${encodeURIComponent(vm.uuid)}`;
    this.console.setAttribute("aria-label", `Open the console of ${vm.name}`);
    for (const action of ACTIONS) {
      const button = this.buttons.get(action.name);
      const allowed = !vm.stale && action.allowed(vm);
      button.disabled = this.busy || !allowed;
      if (vm.stale) button.title = `Not possible while ${vm.host} does not answer`;
      else button.title = allowed ? "" : `Not possible while ${vm.name} is ${vm.state_name}`;
    }
  }

  async press(action) {
    const vm = this.vm;
    if (!vm || this.busy) return;
    if (action.confirm && !(await confirmAction(action.confirm(vm)))) return;
    this.busy = true;
    for (const button of this.buttons.values()) button.disabled = true;
    try {
      await this.run(vm, action);
    } finally {
      this.busy = false;
      this.show(this.vm, this.role);   // the selected VM as it is now, perhaps another one
    }
  }
}
