// One host in the fleet list: its name, its state in words (connected, connecting…,
// unavailable with libvirt's reason, and since when), its VM counts, and its VMs, each a
// button that selects it. Entries are updated in place, so that a poll does not steal the
// keyboard focus or the scroll position from someone walking the list.

import { kibibytes } from "./format.js";
import { answers, sinceWords, stateWords, vmKey } from "./hosts.js";
import { hostStateIcon, stateIcon, stateSlug } from "./icons.js";

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

export class HostGroup {
  constructor(name) {
    this.name = name;
    this.vms = [];
    this.entries = new Map();   // key → <li>
    this.root = element("section", "host-group");
    this.root.dataset.hostGroup = name;
    const head = element("div", "host-head");
    const title = element("h3", "host-name", name);
    title.id = `fleet-host-${name}`;   // host names are lowercase letters, digits and '-'
    this.state = element("span", "host-state");
    this.facts = element("p", "host-facts");
    this.reason = element("p", "host-reason");
    head.append(title, this.state, this.facts, this.reason);
    this.list = element("ul", "vm-list");
    this.list.setAttribute("aria-labelledby", title.id);
    this.note = element("p", "muted host-note");
    this.root.append(head, this.list, this.note);
  }

  /** Show `host` (a `GET fleet` host) and its VMs, in the order given. */
  show(host, vms, selected) {
    this.host = host;
    this.vms = vms;
    const state = host.state;
    this.root.dataset.groupState = state;
    this.state.className = `host-state host-${state}`;
    this.state.replaceChildren(hostStateIcon(state), document.createTextNode(stateWords(host)));

    const since = sinceWords(host);
    const live = vms.filter((vm) => !vm.stale);
    const running = live.filter((vm) => vm.state_name === "running").length;
    this.facts.textContent = answers(host)
      ? [`${running}/${live.length} running`, since].filter(Boolean).join(" · ")
      : [since, vms.length ? `${plural(vms.length, "VM")} as last seen` : ""]
        .filter(Boolean).join(" · ");
    this.reason.textContent = host.state === "unavailable" ? host.reason || "no reason given" : "";
    this.reason.hidden = !this.reason.textContent;

    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const seen = new Set();
    const ordered = vms.map((vm) => {
      const key = vmKey(vm);
      seen.add(key);
      let item = this.entries.get(key);
      if (!item) {
        item = this.createEntry(vm);
        this.entries.set(key, item);
      }
      this.fillEntry(item, vm, key === selected);
      return item;
    });
    for (const [key, item] of this.entries) {
      if (!seen.has(key)) {
        item.remove();
        this.entries.delete(key);
      }
    }
    // Move entries only when the order changed: moving a node drops its focus.
    const current = [...this.list.children];
    if (current.length !== ordered.length || current.some((item, at) => item !== ordered[at])) {
      this.list.replaceChildren(...ordered);
      if (focused && focused.isConnected) focused.focus({ preventScroll: true });
    }
  }

  /**
   * Show only the VMs whose name contains `typed` (any case; "" for all); answer how many are
   * shown. quiet: say nothing of a host where none matches (the list says it once).
   */
  filter(typed, quiet = false) {
    const wanted = typed.toLowerCase();
    let shown = 0;
    for (const vm of this.vms) {
      const match = !wanted || vm.name.toLowerCase().includes(wanted);
      this.entries.get(vmKey(vm)).hidden = !match;
      if (match) shown += 1;
    }
    let note = "";
    if (!this.vms.length) {
      note = answers(this.host) ? `You see no VMs on ${this.name}.`
        : `No VMs known: ${this.name} has not answered since this page was opened.`;
    } else if (!shown && !quiet) {
      note = `No VM's name on ${this.name} contains “${typed}”.`;
    }
    this.note.textContent = note;
    this.note.hidden = !note;
    this.list.hidden = shown === 0;
    return shown;
  }

  select(key) {
    for (const [entryKey, item] of this.entries) {
      const button = item.firstElementChild;
      if (entryKey === key) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  createEntry(vm) {
    const item = element("li");
    const button = element("button", "vm");
    button.type = "button";
    button.dataset.uuid = vm.uuid;
    button.dataset.vmHost = vm.host;
    button.dataset.key = vmKey(vm);
    button.setAttribute("aria-controls", "detail");
    button.append(stateIcon(vm.state_name), element("span", "vm-name"),
                  element("span", "vm-state"), element("span", "vm-facts"));
    item.append(button);
    return item;
  }

  fillEntry(item, vm, selected) {
    const button = item.firstElementChild;
    if (button.dataset.state !== vm.state_name) {
      button.firstElementChild.replaceWith(stateIcon(vm.state_name));
    }
    button.dataset.state = vm.state_name;
    button.dataset.name = vm.name;
    button.className = `vm state-${stateSlug(vm.state_name)}${vm.stale ? " is-stale" : ""}`
      + (vm.changedFrom ? " was-changed" : "");
    if (vm.changedFrom) button.dataset.changedFrom = vm.changedFrom;
    else delete button.dataset.changedFrom;
    if (vm.stale) button.dataset.stale = "true";
    else delete button.dataset.stale;
    button.querySelector(".vm-name").textContent = vm.name;
    // Changed while the page was cut off: said in words, not by a colour alone.
    button.querySelector(".vm-state").textContent = vm.changedFrom
      ? `${vm.state_name}, was ${vm.changedFrom}` : vm.state_name;
    const facts = `${plural(vm.info.nrVirtCpu, "CPU")} · ${kibibytes(vm.info.memory)}`;
    button.querySelector(".vm-facts").textContent = vm.stale ? `last known · ${facts}` : facts;
    // Stale: the state in words is what the host said last, not what it is now.
    button.title = vm.stale ? `${vm.name} was ${vm.state_name} when ${vm.host} last answered`
      : vm.changedFrom ? `${vm.name} was ${vm.changedFrom} before the page was cut off` : "";
    if (selected) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}
