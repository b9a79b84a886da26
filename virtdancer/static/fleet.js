// The fleet table: every host the user sees, in the settings' order, each a group of rows with
// its state and its VMs. It is filled from one `GET fleet?detail=1` answer — never one request
// per host or per VM — and from events. A host stays in it whatever it holds: one with no VMs,
// or one that does not answer, is shown with words saying so, never silently left out.
//
// The order is stable: rows are ordered when the user sorts (a column's header) and when VMs
// come or go, never because a value changed, so a VM does not move under the pointer when its
// state does. Filters (host, name, state) never hide the selected VM without saying so. Arrow
// keys move through the rows, Enter shows one, Space marks it for a bulk action.

import { HostGroup, plural } from "./hostgroup.js";
import { vmKey } from "./hosts.js";

const STATE_RANK = { running: 0, paused: 1, "in shutdown": 2, pmsuspended: 3, crashed: 4,
                     "shut off": 5 };

// What each sortable column sorts by; ties are broken by name.
const SORTS = {
  name: () => 0,
  host: () => 0,   // the host groups' order; see sortedHosts()
  state: (vm) => STATE_RANK[vm.state_name] ?? 9,
  cpus: (vm) => vm.info?.nrVirtCpu ?? -1,
  memory: (vm) => vm.info?.memory ?? -1,
  cpu: (vm, cpu) => cpu.get(vmKey(vm)) ?? -1,
};

const byName = (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true });

/** The state filter's choices: a state name, or "other" for the rarer ones. */
function stateMatches(vm, wanted) {
  if (!wanted) return true;
  if (wanted === "other") return !["running", "paused", "shut off"].includes(vm.state_name);
  return vm.state_name === wanted;
}

export class FleetList {
  /**
   * root: an element holding the [data-...] hooks of index.html; onSelect(key) on a click or
   * Enter; onMarked(keys) when the marks for a bulk action change.
   */
  constructor(root, onSelect, onMarked = () => {}) {
    this.table = root.querySelector("[data-fleet]");
    this.filter = root.querySelector("[data-filter]");
    this.stateFilter = root.querySelector("[data-state-filter]");
    this.filterCount = root.querySelector("[data-filter-count]");
    this.empty = root.querySelector("[data-fleet-empty]");
    this.summary = document.querySelector("[data-summary]");
    this.hostsSummary = document.querySelector("[data-hosts-summary]");
    this.sortButtons = [...this.table.querySelectorAll("[data-sort]")];
    this.onSelect = onSelect;
    this.onMarked = onMarked;
    this.hosts = [];
    this.vms = [];
    this.groups = new Map();   // host name → HostGroup, reused from one update to the next
    this.order = [];           // VM keys in the order shown (stable; see the top)
    this.sort = { column: "name", descending: false };
    this.onlyHost = "";        // the host filter: a host's name, or "" for every host
    this.selected = null;
    this.marked = new Set();
    this.cpu = new Map();      // key → CPU % (the newest figure), for the CPU % column
    this.loaded = false;

    this.filter.addEventListener("input", () => this.applyFilter());
    this.stateFilter.addEventListener("change", () => this.applyFilter());
    for (const button of this.sortButtons) {
      button.addEventListener("click", () => this.sortBy(button.dataset.sort));
    }
    this.table.addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-key]");
      if (!row) return;
      if (event.target.matches("[data-mark]")) this.mark(row.dataset.key, event.target.checked);
      else this.onSelect(row.dataset.key);
    });
    this.table.addEventListener("keydown", (event) => this.key(event));
    this.showSort();
  }

  get(key) {
    return this.vms.find((vm) => vmKey(vm) === key) || null;
  }

  host(name) {
    return this.hosts.find((host) => host.name === name) || null;
  }

  compare(a, b) {
    const value = SORTS[this.sort.column];
    const [x, y] = [value(a, this.cpu), value(b, this.cpu)];
    const order = (x < y ? -1 : x > y ? 1 : 0) || byName(a, b);
    return this.sort.descending ? -order : order;
  }

  /** The keys in a stable order: the old order kept, new VMs put where the sort puts them. */
  ordered(vms) {
    const present = new Map(vms.map((vm) => [vmKey(vm), vm]));
    const order = this.order.filter((key) => present.has(key));
    const known = new Set(order);
    const added = vms.filter((one) => !known.has(vmKey(one))).sort((a, b) => this.compare(a, b));
    for (const vm of added) {
      const at = order.findIndex((key) => this.compare(vm, present.get(key)) < 0);
      order.splice(at < 0 ? order.length : at, 0, vmKey(vm));
    }
    return order;
  }

  sortedHosts() {
    if (this.sort.column !== "host") return this.hosts;
    const sorted = [...this.hosts].sort((a, b) => a.name.localeCompare(b.name));
    return this.sort.descending ? sorted.reverse() : sorted;
  }

  /** Sort by a column (its key); the same column again turns the order around. */
  sortBy(column) {
    this.sort = { column, descending: this.sort.column === column && !this.sort.descending };
    this.order = [];
    this.showSort();
    this.update(this.hosts, this.vms);
  }

  showSort() {
    for (const button of this.sortButtons) {
      const header = button.closest("th");
      if (button.dataset.sort === this.sort.column) {
        header.setAttribute("aria-sort", this.sort.descending ? "descending" : "ascending");
      } else {
        header.removeAttribute("aria-sort");
      }
    }
  }

  /** Show these hosts and VMs (a `GET fleet?detail=1` answer, stale VMs marked). */
  update(hosts, vms) {
    this.hosts = hosts;
    this.vms = [...vms];
    this.order = this.ordered(this.vms);
    this.loaded = true;
    const rank = new Map(this.order.map((key, at) => [key, at]));
    const showing = { selected: this.selected, marked: this.marked, cpu: this.cpu };
    const ordered = this.sortedHosts().map((host) => {
      let group = this.groups.get(host.name);
      if (!group) {
        group = new HostGroup(host.name);
        this.groups.set(host.name, group);
      }
      const its = this.vms.filter((vm) => vm.host === host.name)
        .sort((a, b) => rank.get(vmKey(a)) - rank.get(vmKey(b)));
      group.show(host, its, showing);
      return group.root;
    });
    const names = new Set(hosts.map((host) => host.name));
    for (const [name, group] of this.groups) {
      if (!names.has(name)) {
        group.root.remove();
        this.groups.delete(name);
      }
    }
    for (const key of [...this.marked]) if (!rank.has(key)) this.marked.delete(key);
    const current = [...this.table.tBodies];
    if (current.length !== ordered.length || current.some((group, at) => group !== ordered[at])) {
      const focused = this.table.contains(document.activeElement)
        ? document.activeElement : null;
      for (const body of current) body.remove();
      this.table.append(...ordered);
      if (focused && focused.isConnected) focused.focus({ preventScroll: true });
    }
    this.table.classList.toggle("one-host", hosts.length < 2);

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

  /** Replace one VM's figures (an action's answer, an event) until the next listing. */
  replace(vm) {
    if (!vm || !this.get(vmKey(vm))) return;
    this.update(this.hosts, this.vms.map((old) => (vmKey(old) === vmKey(vm) ? vm : old)));
  }

  /** The newest CPU % of each VM (key → percent), for the CPU % column. */
  setCpu(figures) {
    this.cpu = figures;
    if (this.loaded) this.update(this.hosts, this.vms);
  }

  /** Show one host only (its name), or every host (""). */
  showHost(name) {
    this.onlyHost = name || "";
    this.applyFilter();
  }

  clear() {
    this.hosts = [];
    this.vms = [];
    this.order = [];
    this.groups.clear();
    for (const body of [...this.table.tBodies]) body.remove();
    this.selected = null;
    this.marked.clear();
    this.cpu = new Map();
    this.loaded = false;
    this.filter.value = "";
    this.stateFilter.value = "";
    this.summary.textContent = "";
    this.hostsSummary.textContent = "";
    this.filterCount.textContent = "";
    this.empty.hidden = true;
    this.onMarked([]);
  }

  select(key) {
    const changed = key !== this.selected;
    this.selected = key;
    for (const group of this.groups.values()) group.select(key);
    // The VM shown only for being selected goes once another is.
    if (changed && this.loaded) this.applyFilter();
    else this.rovingRow(key);
  }

  /** Mark a VM for a bulk action, or unmark it. */
  mark(key, on) {
    if (on) this.marked.add(key);
    else this.marked.delete(key);
    const row = this.rowOf(key);
    if (row) {
      row.querySelector("[data-mark]").checked = on;
      row.classList.toggle("is-marked", on);
    }
    this.onMarked([...this.marked]);
  }

  unmarkAll() {
    for (const key of [...this.marked]) this.mark(key, false);
  }

  rowOf(key) {
    for (const group of this.groups.values()) {
      if (group.rows.has(key)) return group.rows.get(key);
    }
    return null;
  }

  visibleRows() {
    return [...this.table.querySelectorAll("tbody:not([hidden]) tr[data-key]:not([hidden])")];
  }

  // One row is in the tab order (the selected one, else the first shown): Tab enters the
  // table there, arrows move within it.
  rovingRow(key = this.selected) {
    const rows = this.visibleRows();
    const chosen = rows.find((row) => row.dataset.key === key) || rows[0];
    for (const row of this.table.querySelectorAll("tr[data-key]")) {
      row.tabIndex = row === chosen ? 0 : -1;
    }
  }

  key(event) {
    const row = event.target.closest?.("tr[data-key]");
    if (!row || event.target.matches("[data-mark]")) return;
    const rows = this.visibleRows();
    const at = rows.indexOf(row);
    let next = null;
    if (event.key === "ArrowDown") next = rows[at + 1];
    else if (event.key === "ArrowUp") next = rows[at - 1];
    else if (event.key === "Home") next = rows[0];
    else if (event.key === "End") next = rows.at(-1);
    else if (event.key === "Enter") {
      this.onSelect(row.dataset.key);
    } else if (event.key === " ") {
      this.mark(row.dataset.key, !this.marked.has(row.dataset.key));
    } else {
      return;
    }
    event.preventDefault();
    if (next) {
      for (const one of rows) one.tabIndex = one === next ? 0 : -1;
      next.focus();
    }
  }

  applyFilter() {
    const typed = this.filter.value.trim();
    const wanted = typed.toLowerCase();
    const state = this.stateFilter.value;
    const matches = (vm) => (!wanted || vm.name.toLowerCase().includes(wanted))
      && stateMatches(vm, state);
    const inScope = this.vms.filter((vm) => !this.onlyHost || vm.host === this.onlyHost);
    const shown = inScope.filter(matches);
    const selectedVm = this.selected ? this.get(this.selected) : null;
    const keptAnyway = selectedVm && inScope.includes(selectedVm) && !matches(selectedVm)
      ? this.selected : null;
    for (const group of this.groups.values()) {
      group.root.hidden = Boolean(this.onlyHost) && group.name !== this.onlyHost;
      // Nothing matches anywhere: the table says so once, not once per host.
      group.filter(matches, shown.length === 0, keptAnyway);
    }
    const filtering = Boolean(wanted || state);
    const counts = filtering ? `${shown.length} of ${inScope.length} shown` : "";
    // The selected VM stays in view, said to be outside the filter.
    const kept = keptAnyway ? `${selectedVm.name} is shown as selected, outside the filter` : "";
    this.filterCount.textContent = [counts, kept].filter(Boolean).join(" · ");
    if (keptAnyway) this.rowOf(keptAnyway)?.classList.add("is-outside-filter");
    for (const row of this.table.querySelectorAll(".is-outside-filter")) {
      if (row.dataset.key !== keptAnyway) row.classList.remove("is-outside-filter");
    }
    if (!this.loaded) {
      this.empty.hidden = true;
    } else if (this.hosts.length === 0) {
      this.empty.textContent = "You see no hosts.";
      this.empty.hidden = false;
    } else if (filtering && shown.length === 0 && inScope.length > 0) {
      const where = this.onlyHost ? ` on ${this.onlyHost}` : "";
      const words = [typed ? `whose name contains “${typed}”` : "",
                     state ? `that is ${state === "other" ? "in another state" : state}` : ""]
        .filter(Boolean).join(" and ");
      this.empty.textContent = `No VM${where} ${words}.`;
      this.empty.hidden = false;
    } else {
      this.empty.hidden = true;
    }
    this.rovingRow();
  }
}
