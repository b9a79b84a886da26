// While the page cannot reach VirtDancer, what it shows is a memory. When VirtDancer answers
// again, the VMs whose state changed meanwhile are marked, until the user selects them: a
// change that happened while nobody could see it is not passed over in silence.

import { vmKey } from "./hosts.js";

export class CutOff {
  constructor() {
    this.before = null;          // key → state when the cut began; null when not cut off
    this.changed = new Map();    // key → the state it had before the cut
  }

  /** The page was cut off showing these VMs. */
  begin(vms) {
    if (this.before) return;
    this.before = new Map(vms.filter((vm) => !vm.stale).map((vm) => [vmKey(vm), vm.state_name]));
  }

  /** The first listing since the cut ended (or any later one): each VM, marked if it changed. */
  marked(vms) {
    if (this.before) {
      for (const vm of vms) {
        const was = this.before.get(vmKey(vm));
        if (was !== undefined && was !== vm.state_name && !vm.stale) {
          this.changed.set(vmKey(vm), was);
        }
      }
      this.before = null;
    }
    return vms.map((vm) => (this.changed.has(vmKey(vm))
      ? { ...vm, changedFrom: this.changed.get(vmKey(vm)) } : vm));
  }

  /** The user has seen this VM (selected it): no longer news. True if it was marked. */
  seen(key) {
    return this.changed.delete(key);
  }

  clear() {
    this.before = null;
    this.changed.clear();
  }
}
