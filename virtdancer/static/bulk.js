// Start or shut down several VMs at once: the VMs marked in the fleet table, with one
// confirmation for all of them. A marked VM the action does not apply to now (already running,
// a viewer's, a host that does not answer) is left alone, and the confirmation says so.

import { post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { sentence } from "./format.js";
import { onHost, vmKey } from "./hosts.js";

const BULK = {
  start: { label: "Start", done: "started", cannot: "started" },
  shutdown: { label: "Shut down", done: "asked to shut down", cannot: "shut down" },
};

const names = (vms) => vms.map((vm) => vm.name).join(", ");

export class BulkBar {
  /** root: the [data-bulk] bar; fleet: the FleetList; tell(text), done(): the page's. */
  constructor(root, fleet, { tell, done }) {
    this.root = root;
    this.fleet = fleet;
    this.tell = tell;
    this.done = done;
    this.count = root.querySelector("[data-bulk-count]");
    for (const button of root.querySelectorAll("[data-bulk-action]")) {
      button.addEventListener("click", () => this.run(button.dataset.bulkAction));
    }
    root.querySelector("[data-bulk-clear]").addEventListener("click",
                                                             () => fleet.unmarkAll());
  }

  /** The marked VMs' keys changed. */
  show(keys) {
    this.root.hidden = keys.length === 0;
    this.count.textContent = `${keys.length} marked`;
  }

  async run(name) {
    const words = BULK[name];
    const marked = this.fleet.vms.filter((vm) => this.fleet.marked.has(vmKey(vm)));
    const able = marked.filter((vm) => !vm.stale && (vm.actions || []).includes(name));
    const left = marked.filter((vm) => !able.includes(vm));
    const leftWords = left.length ? `${names(left)}: cannot be ${words.cannot} now, left as is.`
      : "";
    if (!able.length) {
      this.tell(`None of the marked VMs can be ${words.cannot} now.`);
      return;
    }
    const count = able.length === 1 ? able[0].name : `${able.length} VMs`;
    const confirmed = await confirmAction({
      title: `${words.label} ${count}?`,
      text: [`${words.label}: ${names(able)}.`, leftWords].filter(Boolean).join(" "),
      confirmLabel: `${words.label} ${count}`,
      danger: false,   // a start or a clean shutdown destroys nothing: not a red button
    });
    if (!confirmed) return;
    this.tell(`${words.label}: asking for ${names(able)}…`);
    const results = await Promise.allSettled(able.map((vm) => post(
      onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/action`), { action: name })));
    const done = able.filter((vm, at) => results[at].status === "fulfilled");
    const failed = able.map((vm, at) => [vm, results[at]])
      .filter(([, result]) => result.status === "rejected")
      .map(([vm, result]) => `${vm.name}: ${sentence(result.reason.message)}`);
    this.tell([done.length ? `${names(done)} ${words.done}.` : "",
               failed.length ? `Not ${words.cannot}: ${failed.join(" ")}` : "", leftWords]
      .filter(Boolean).join(" "));
    this.fleet.unmarkAll();
    this.done();
  }
}
