// The lifecycle buttons and the Console link of the selected VM, decided from the server's
// answer alone: the page keeps no copy of the roles or of which states have a display, so it
// cannot disagree with the server when those rules change. Each VM of the API says whether
// the user may act on it at all (`operable`: a viewer may not, and then gets no buttons, since
// there is nothing they could press, but the words why), which lifecycle `actions` they may
// run on it now (the enabled buttons) and whether they may open its `console` now (the link).
// The state may have changed since the last poll, so the server can still refuse, and its
// refusal is shown. A VM whose host does not answer (a stale VM) gets every button disabled
// and no console: what the server said of it is no longer news.

import { confirmAction } from "./confirm.js";

export const ACTIONS = [
  { name: "start", label: "Start", done: "started" },
  { name: "pause", label: "Pause", done: "paused" },
  { name: "resume", label: "Resume", done: "resumed" },
  { name: "shutdown", label: "Shut down",
    done: "asked to shut down (the guest decides when)" },
  { name: "reboot", label: "Reboot",
    done: "asked to reboot (the guest decides when)" },
  { name: "reset", label: "Reset", done: "reset", danger: true,
    confirm: (vm) => ({
      title: `Reset ${vm.name}?`,
      text: `${vm.name} restarts at once, like pressing a reset button: its guest does not `
        + "shut down, and whatever it has not saved is lost.",
      confirmLabel: `Reset ${vm.name}`,
    }) },
  { name: "destroy", label: "Destroy", done: "powered off", danger: true,
    confirm: (vm) => ({
      title: `Destroy ${vm.name}?`,
      text: `${vm.name} powers off at once, like pulling the plug: its guest does not shut down `
        + "and whatever it has not saved is lost. Its disks are kept.",
      confirmLabel: `Destroy ${vm.name}`,
    }) },
];

export class ActionBar {
  /**
   * container: the [data-actions] element; note: where to say that the user may not act on
   * the VM; run(vm, action) performs an action (a promise).
   */
  constructor(container, note, run) {
    this.container = container;
    this.note = note;
    this.run = run;
    this.buttons = new Map();
    this.vm = null;
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

  /**
   * Show `vm`'s buttons, enabled as its `actions` say, and its console link if `console` and
   * its `host` (the fleet's host answer) has graphical displays at all.
   */
  show(vm, host = null) {
    this.vm = vm;
    this.host = host;
    const operable = Boolean(vm?.operable);
    this.note.hidden = !vm || operable;
    this.note.textContent = vm && !operable
      ? `You may look at ${vm.name}, not act on it or open its console.` : "";
    if (!operable) {
      this.container.replaceChildren();
      this.container.hidden = true;
      return;
    }
    if (!this.container.childElementCount) {
      this.container.append(...this.buttons.values(), this.console);
    }
    this.container.hidden = false;
    this.console.hidden = !vm.console || Boolean(vm.stale) || host?.displays === false;
    // The console page asks the VM's own host for its ticket.
    this.console.href = `console?host=${encodeURIComponent(vm.host)}`
      + `&vm=${encodeURIComponent(vm.uuid)}`;
    this.console.setAttribute("aria-label", `Open the console of ${vm.name}`);
    const possible = new Set(vm.actions || []);
    // The server lets Start resume a paused VM (as the first VirtDancer did); one button for
    // one thing is clearer, so a paused VM offers Resume alone.
    const startResumes = possible.has("start") && possible.has("resume");
    for (const action of ACTIONS) {
      const button = this.buttons.get(action.name);
      button.hidden = action.name === "start" && startResumes;
      const allowed = !vm.stale && possible.has(action.name);
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
    const pressed = this.buttons.get(action.name);
    for (const button of this.buttons.values()) button.disabled = true;
    try {
      await this.run(vm, action);
    } finally {
      this.busy = false;
      this.show(this.vm, this.host);   // the selected VM as it is now, perhaps another one
      this.keepFocus(pressed);
    }
  }

  /**
   * A disabled button loses the focus to the page's body; bring it back to the action bar
   * (the pressed button, or the first one still enabled), so that the keyboard stays here.
   */
  keepFocus(pressed) {
    const active = document.activeElement;
    if (active && active !== document.body && active !== pressed) return;
    if (this.container.hidden) return;
    const usable = [pressed, ...this.buttons.values(), this.console]
      .find((control) => !control.hidden && !control.disabled);
    usable?.focus();
  }
}
