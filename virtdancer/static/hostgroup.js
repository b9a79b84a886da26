// One host in the fleet table: a <tbody> whose first row is the host — its name, its state in
// words (connected, connecting…, unavailable with libvirt's reason, and since when), its VM
// counts — and whose other rows are its VMs, in the order the table gives. Rows are updated in
// place and moved only when the order changes, so that a poll or an event does not steal the
// keyboard focus or the scroll position from someone walking the table.

import { kibibytes, percent } from "./format.js";
import { answers, sinceWords, stateWords, vmKey } from "./hosts.js";
import { hostStateIcon, stateIcon, stateSlug } from "./icons.js";

export const COLUMN_COUNT = 7;   // mark, name, host, state, CPUs, memory, CPU %

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
    this.rows = new Map();   // key → <tr>
    this.root = element("tbody", "host-group");
    this.root.dataset.hostGroup = name;
    const headRow = element("tr", "host-row");
    const head = element("th", "host-head");
    head.scope = "rowgroup";
    head.colSpan = COLUMN_COUNT;
    const title = element("h3", "host-name", name);
    title.id = `fleet-host-${name}`;   // host names are lowercase letters, digits and '-'
    this.state = element("span", "host-state");
    this.facts = element("p", "host-facts");
    this.reason = element("p", "host-reason");
    head.append(title, this.state, this.facts, this.reason);
    headRow.append(head);
    const noteRow = element("tr", "host-note-row");
    const noteCell = element("td");
    noteCell.colSpan = COLUMN_COUNT;
    this.note = element("p", "muted host-note");
    noteCell.append(this.note);
    noteRow.append(noteCell);
    this.head = headRow;
    this.noteRow = noteRow;
    this.root.append(headRow, noteRow);
  }

  /** Show `host` (a `GET fleet` host) and its VMs, in the order given. */
  show(host, vms, { selected = null, marked = new Set(), cpu = new Map() } = {}) {
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

    const focused = this.root.contains(document.activeElement) ? document.activeElement : null;
    const seen = new Set();
    const ordered = vms.map((vm) => {
      const key = vmKey(vm);
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = this.createRow(vm);
        this.rows.set(key, row);
      }
      this.fillRow(row, vm, { selected: key === selected, marked: marked.has(key),
                              cpu: cpu.get(key) });
      return row;
    });
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.remove();
        this.rows.delete(key);
      }
    }
    // Move rows only when the order changed: moving a node drops its focus.
    const current = [...this.root.children].slice(1, -1);
    if (current.length !== ordered.length || current.some((row, at) => row !== ordered[at])) {
      this.root.replaceChildren(this.head, ...ordered, this.noteRow);
      if (focused && focused.isConnected) focused.focus({ preventScroll: true });
    }
  }

  /**
   * Show only the VMs `wanted(vm)` keeps; answer how many are shown. quiet: say nothing of a
   * host where none is kept (the table says it once). kept: a VM shown whatever the filters
   * (the selected one: a filter never hides it without a word).
   */
  filter(wanted, quiet = false, kept = null) {
    let shown = 0;
    for (const vm of this.vms) {
      const match = wanted(vm) || vmKey(vm) === kept;
      this.rows.get(vmKey(vm)).hidden = !match;
      if (match) shown += 1;
    }
    let note = "";
    if (!this.vms.length) {
      note = answers(this.host) ? `You see no VMs on ${this.name}.`
        : `No VMs known: ${this.name} has not answered since this page was opened.`;
    } else if (!shown && !quiet) {
      note = `No VM on ${this.name} matches the filter.`;
    }
    this.note.textContent = note;
    this.noteRow.hidden = !note;
    return shown;
  }

  select(key) {
    for (const [rowKey, row] of this.rows) {
      if (rowKey === key) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  createRow(vm) {
    const row = element("tr", "vm");
    row.dataset.uuid = vm.uuid;
    row.dataset.vmHost = vm.host;
    row.dataset.key = vmKey(vm);
    row.tabIndex = -1;   // the table keeps one row in the tab order (fleet.js)
    row.setAttribute("aria-controls", "detail");
    const mark = element("input");
    mark.type = "checkbox";
    mark.tabIndex = -1;   // Space on the row marks it
    mark.dataset.mark = "";
    const name = element("td", "vm-name-cell");
    name.append(stateIcon(vm.state_name), element("span", "vm-name"));
    const markCell = element("td", "vm-mark");
    markCell.append(mark);
    row.append(markCell, name, element("td", "vm-host"), element("td", "vm-state"),
               element("td", "vm-cpus num"), element("td", "vm-memory num"),
               element("td", "vm-cpu num"));
    return row;
  }

  fillRow(row, vm, { selected, marked, cpu }) {
    const icon = row.querySelector(".state-icon");
    if (row.dataset.state !== vm.state_name) icon.replaceWith(stateIcon(vm.state_name));
    row.dataset.state = vm.state_name;
    row.dataset.name = vm.name;
    row.className = `vm state-${stateSlug(vm.state_name)}${vm.stale ? " is-stale" : ""}`
      + (vm.changedFrom ? " was-changed" : "");
    if (vm.stale) row.dataset.stale = "true";
    else delete row.dataset.stale;
    if (vm.changedFrom) row.dataset.changedFrom = vm.changedFrom;
    else delete row.dataset.changedFrom;
    row.querySelector(".vm-name").textContent = vm.name;
    row.querySelector(".vm-host").textContent = vm.host;
    // Stale: the state is what the host said last; changed while the page was cut off: said
    // in words, not by a colour alone.
    let state = vm.state_name;
    if (vm.stale) state = `${vm.state_name}, last known`;
    else if (vm.changedFrom) state = `${vm.state_name}, was ${vm.changedFrom}`;
    row.querySelector(".vm-state").textContent = state;
    row.querySelector(".vm-cpus").textContent = vm.info?.nrVirtCpu ?? "—";
    row.querySelector(".vm-memory").textContent = kibibytes(vm.info?.memory);
    row.querySelector(".vm-cpu").textContent = cpu === undefined || cpu === null || vm.stale
      ? "—" : percent(cpu);
    row.title = vm.stale ? `${vm.name} was ${vm.state_name} when ${vm.host} last answered`
      : vm.changedFrom ? `${vm.name} was ${vm.changedFrom} before the page was cut off` : "";
    const mark = row.querySelector("[data-mark]");
    mark.checked = marked;
    mark.setAttribute("aria-label", `Mark ${vm.name}`);
    if (marked) row.classList.add("is-marked");
    if (selected) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
  }
}
