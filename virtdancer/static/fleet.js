// The fleet list: every host the user sees, in the settings' order, each with its state and
// its VMs (running first, then by name). It is filled from one `GET fleet?detail=1` answer —
// never one request per host or per VM. Two filters narrow it: by host (one host, or all) and
// by name. A host stays in the list whatever it holds: one with no VMs, or one that does not
// answer, is shown with words saying so, never silently left out.

import { HostGroup, plural } from "./hostgroup.js";
import { vmKey } from "./hosts.js";

function byRunningThenName(a, b) {
  const running = Number(b.state_name === "running") - Number(a.state_name === "running");
  return running || a.name.localeCompare(b.name, undefined, { numeric: true });
}

export class FleetList {
  /** root: an element holding the [data-...] hooks of index.html; onSelect(key) on a click. */
  constructor(root, onSelect) {
    this.groupList = root.querySelector("[data-fleet]");
    this.filter = root.querySelector("[data-filter]");
    this.filterCount = root.querySelector("[data-filter-count]");
    this.empty = root.querySelector("[data-fleet-empty]");
    this.summary = document.querySelector("[data-summary]");
    this.hostsSummary = document.querySelector("[data-hosts-summary]");
    this.onSelect = onSelect;
    this.hosts = [];
    this.vms = [];
    this.groups = new Map();   // host name → HostGroup, reused from one update to the next
    this.onlyHost = "";        // the host filter: a host's name, or "" for every host
    this.selected = null;
    this.loaded = false;

    this.filter.addEventListener("input", () => this.applyFilter());
    this.groupList.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-key]");
      if (button) this.onSelect(button.dataset.key);
    });
  }

  get(key) {
    return this.vms.find((vm) => vmKey(vm) === key) || null;
  }

  host(name) {
    return this.hosts.find((host) => host.name === name) || null;
  }

  /** Show these hosts and VMs (a `GET fleet?detail=1` answer, stale VMs marked). */
  update(hosts, vms) {
    this.hosts = hosts;
    this.vms = [...vms].sort(byRunningThenName);
    this.loaded = true;
    const ordered = hosts.map((host) => {
      let group = this.groups.get(host.name);
      if (!group) {
        group = new HostGroup(host.name);
        this.groups.set(host.name, group);
      }
      group.show(host, this.vms.filter((vm) => vm.host === host.name), this.selected);
      return group.root;
    });
    const names = new Set(hosts.map((host) => host.name));
    for (const [name, group] of this.groups) {
      if (!names.has(name)) {
        group.root.remove();
        this.groups.delete(name);
      }
    }
    const current = [...this.groupList.children];
    if (current.length !== ordered.length || current.some((group, at) => group !== ordered[at])) {
      const focused = this.groupList.contains(document.activeElement)
        ? document.activeElement : null;
      this.groupList.replaceChildren(...ordered);
      if (focused && focused.isConnected) focused.focus({ preventScroll: true });
    }

    // The top line counts what is known now: a stale VM's state is a memory.
    const live = this.vms.filter((vm) => !vm.stale);
    const running = live.filter((vm) => vm.state_name === "running").length;
    this.summary.textContent = `${running}/${live.length} running`;
    const away = hosts.filter((host) => host.state !== "connected").length;
    this.hostsSummary.textContent = hosts.length > 1 || away
      ? [plural(hosts.length, "host"), away ? `${away} not answering` : ""]
        .filter(Boolean).join(", ")
      : "";
    this.applyFilter();
  }

  /** Replace one VM's figures (an action's answer) until the next poll brings the list. */
  replace(vm) {
    if (!vm || !this.get(vmKey(vm))) return;
    this.update(this.hosts, this.vms.map((old) => (vmKey(old) === vmKey(vm) ? vm : old)));
  }

  /** Show one host only (its name), or every host (""). */
  showHost(name) {
    this.onlyHost = name || "";
    this.applyFilter();
  }

  clear() {
    this.hosts = [];
    this.vms = [];
    this.groups.clear();
    this.groupList.replaceChildren();
    this.selected = null;
    this.loaded = false;
    this.filter.value = "";
    this.summary.textContent = "";
    this.hostsSummary.textContent = "";
    this.filterCount.textContent = "";
    this.empty.hidden = true;
  }

  select(key) {
    this.selected = key;
    for (const group of this.groups.values()) group.select(key);
  }

  applyFilter() {
    const typed = this.filter.value.trim();
    const wanted = typed.toLowerCase();
    const shownGroups = [...this.groups.values()]
      .filter((group) => !this.onlyHost || group.name === this.onlyHost);
    const inScope = this.vms.filter((vm) => !this.onlyHost || vm.host === this.onlyHost);
    const matches = inScope.filter((vm) => !wanted || vm.name.toLowerCase().includes(wanted));
    for (const group of this.groups.values()) {
      group.root.hidden = !shownGroups.includes(group);
      // Nothing matches anywhere: the list says so once, not once per host.
      group.filter(typed, matches.length === 0);
    }
    this.filterCount.textContent = wanted ? `${matches.length} of ${inScope.length} shown` : "";
    if (!this.loaded) {
      this.empty.hidden = true;
    } else if (this.hosts.length === 0) {
      this.empty.textContent = "You see no hosts.";
      this.empty.hidden = false;
    } else if (wanted && matches.length === 0 && inScope.length > 0) {
      const where = this.onlyHost ? ` on ${this.onlyHost}` : "";
      this.empty.textContent = `No VM's name${where} contains “${typed}”.`;
      this.empty.hidden = false;
    } else {
      this.empty.hidden = true;
    }
  }
}
