// The fleet list: every VM the user sees, running first and then by name, each a button that
// selects it. The list is filled from one `GET /vm?detail=1` answer — never one request per
// VM — and updated in place, so that a poll does not steal the keyboard focus or the scroll
// position from someone walking the list.

import { kibibytes } from "./format.js";
import { stateIcon, stateSlug } from "./icons.js";

function byRunningThenName(a, b) {
  const running = Number(b.state_name === "running") - Number(a.state_name === "running");
  return running || a.name.localeCompare(b.name, undefined, { numeric: true });
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export class FleetList {
  /** root: an element holding the [data-...] hooks of index.html; onSelect(uuid) on a click. */
  constructor(root, onSelect) {
    this.list = root.querySelector("[data-fleet]");
    this.filter = root.querySelector("[data-filter]");
    this.filterCount = root.querySelector("[data-filter-count]");
    this.empty = root.querySelector("[data-fleet-empty]");
    this.summary = document.querySelector("[data-summary]");
    this.onSelect = onSelect;
    this.vms = [];
    this.entries = new Map();   // uuid → <li>, reused from one update to the next
    this.selected = null;
    this.loaded = false;

    this.filter.addEventListener("input", () => this.applyFilter());
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-uuid]");
      if (button) this.onSelect(button.dataset.uuid);
    });
  }

  get(uuid) {
    return this.vms.find((vm) => vm.uuid === uuid) || null;
  }

  /** Show this fleet (a `GET /vm?detail=1` answer). */
  update(vms) {
    this.vms = [...vms].sort(byRunningThenName);
    this.loaded = true;
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const seen = new Set();
    const ordered = this.vms.map((vm) => {
      seen.add(vm.uuid);
      let item = this.entries.get(vm.uuid);
      if (!item) {
        item = this.createEntry(vm);
        this.entries.set(vm.uuid, item);
      }
      this.fillEntry(item, vm);
      return item;
    });
    for (const [uuid, item] of this.entries) {
      if (!seen.has(uuid)) {
        item.remove();
        this.entries.delete(uuid);
      }
    }
    // Move entries only when the order changed: moving a node drops its focus.
    const current = [...this.list.children];
    if (current.length !== ordered.length || current.some((item, at) => item !== ordered[at])) {
      this.list.replaceChildren(...ordered);
      if (focused && focused.isConnected) focused.focus({ preventScroll: true });
    }

    const running = this.vms.filter((vm) => vm.state_name === "running").length;
    this.summary.textContent = `${running}/${this.vms.length} running`;
    this.applyFilter();
  }

  /** Replace one VM's figures (an action's answer) until the next poll brings the list. */
  replace(vm) {
    if (!vm || !this.get(vm.uuid)) return;
    this.update(this.vms.map((old) => (old.uuid === vm.uuid ? vm : old)));
  }

  clear() {
    this.vms = [];
    this.entries.clear();
    this.list.replaceChildren();
    this.selected = null;
    this.loaded = false;
    this.filter.value = "";
    this.summary.textContent = "";
    this.filterCount.textContent = "";
    this.empty.hidden = true;
  }

  select(uuid) {
    this.selected = uuid;
    for (const [key, item] of this.entries) {
      const button = item.firstElementChild;
      if (key === uuid) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  createEntry(vm) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "vm";
    button.dataset.uuid = vm.uuid;
    button.setAttribute("aria-controls", "detail");
    const name = document.createElement("span");
    name.className = "vm-name";
    const state = document.createElement("span");
    state.className = "vm-state";
    const facts = document.createElement("span");
    facts.className = "vm-facts";
    button.append(stateIcon(vm.state_name), name, state, facts);
    item.append(button);
    return item;
  }

  fillEntry(item, vm) {
    const button = item.firstElementChild;
    if (button.dataset.state !== vm.state_name) {
      button.firstElementChild.replaceWith(stateIcon(vm.state_name));
    }
    button.dataset.state = vm.state_name;
    button.dataset.name = vm.name;
    button.className = `vm state-${stateSlug(vm.state_name)}`;
    button.querySelector(".vm-name").textContent = vm.name;
    button.querySelector(".vm-state").textContent = vm.state_name;
    button.querySelector(".vm-facts").textContent =
      `${plural(vm.info.nrVirtCpu, "CPU")} · ${kibibytes(vm.info.memory)}`;
    if (vm.uuid === this.selected) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }

  applyFilter() {
    const wanted = this.filter.value.trim().toLowerCase();
    let shown = 0;
    for (const vm of this.vms) {
      const match = !wanted || vm.name.toLowerCase().includes(wanted);
      this.entries.get(vm.uuid).hidden = !match;
      if (match) shown += 1;
    }
    this.filterCount.textContent = wanted ? `${shown} of ${this.vms.length} shown` : "";
    if (!this.loaded) {
      this.empty.hidden = true;
    } else if (this.vms.length === 0) {
      this.empty.textContent = "You see no VMs on this host.";
      this.empty.hidden = false;
    } else if (shown === 0) {
      this.empty.textContent = `No VM's name contains “${this.filter.value.trim()}”.`;
      this.empty.hidden = false;
    } else {
      this.empty.hidden = true;
    }
  }
}
