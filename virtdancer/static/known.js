// The fleet as the page last knew it. A host that does not answer (unavailable, or still
// connecting) comes in `GET fleet` with no VMs at all; its VMs must not vanish from the screen
// as if they were gone, so each host's VMs are kept from its last good answer and shown as
// `stale`: greyed, their last known state, no actions.

export class KnownFleet {
  constructor() {
    this.clear();
  }

  clear() {
    this.lastGood = new Map();   // host name → [VM], from the last answer where it answered
    this.seenAt = new Map();     // host name → when that answer came (ms since the epoch)
  }

  /** Take a `GET fleet?detail=1` answer; give back {hosts, vms}, stale VMs marked so. */
  take({ hosts, vms }) {
    const names = new Set(hosts.map((host) => host.name));
    for (const name of [...this.lastGood.keys()]) {
      if (!names.has(name)) {   // no longer one of the user's hosts: forget it
        this.lastGood.delete(name);
        this.seenAt.delete(name);
      }
    }
    const now = Date.now();
    const shown = [];
    for (const host of hosts) {
      if (host.state === "connected") {
        const its = vms.filter((vm) => vm.host === host.name);
        this.lastGood.set(host.name, its);
        this.seenAt.set(host.name, now);
        shown.push(...its);
      } else {
        const seenAt = this.seenAt.get(host.name) ?? null;
        shown.push(...(this.lastGood.get(host.name) || [])
          .map((vm) => ({ ...vm, stale: true, seenAt })));
      }
    }
    return { hosts, vms: shown };
  }
}
