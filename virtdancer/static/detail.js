// The selected VM's facts, as the first VirtDancer's page showed them (ID, UUID, name, active,
// persistent, config changed, autostart, CPUs, memory, CPU time), in human units, with the
// host it runs on, and the line where the outcome of an action is told. A VM whose host does
// not answer shows its last known facts, under a line that says they are no more than that.

import { clock, cpuTime, kibibytes, sentence, UNKNOWN, yesNo } from "./format.js";
import { vmKey, whyNot } from "./hosts.js";
import { stateIcon, stateSlug } from "./icons.js";

// libvirt's OS types that have a plain name; the others ("linux", "xen": what each driver
// means by them differs) are shown as libvirt says them.
const GUEST_KINDS = {
  hvm: "full virtualisation (hvm)",
  exe: "container (exe)",
};

function guestKind(os) {
  return os ? GUEST_KINDS[os] || os : UNKNOWN;
}

export class DetailPanel {
  constructor(root) {
    this.root = root;
    this.title = root.querySelector("[data-detail-title]");
    this.state = root.querySelector("[data-detail-state]");
    this.hint = root.querySelector("[data-detail-hint]");
    this.body = root.querySelector("[data-detail-body]");
    this.message = root.querySelector("[data-action-message]");
    this.staleNote = root.querySelector("[data-detail-stale]");
    this.fields = Object.fromEntries(
      [...root.querySelectorAll("[data-field]")].map((dd) => [dd.dataset.field, dd]));
    this.key = null;          // the VM shown: its host and UUID
    this.cpuSeconds = null;   // from the statistics, fresher than the listing's CPU time
  }

  /** Show `vm` (a `GET fleet` VM) on `host` (its host), or the hint when nothing is selected. */
  show(vm, host = null) {
    if (!vm) {
      this.key = null;
      this.vm = null;
      this.staleNote.hidden = true;
      this.title.textContent = "No VM selected";
      this.state.replaceChildren();
      this.hint.hidden = false;
      this.body.hidden = true;
      this.say("");
      return;
    }
    if (vmKey(vm) !== this.key) {
      this.key = vmKey(vm);
      this.cpuSeconds = null;
      this.say("");
    }
    this.root.dataset.state = vm.state_name;
    this.title.textContent = vm.name;
    this.state.className = `state-label state-${stateSlug(vm.state_name)}`
      + (vm.stale ? " is-stale" : "");
    this.state.replaceChildren(stateIcon(vm.state_name), document.createTextNode(
      vm.stale ? `${vm.state_name} (last known)` : vm.state_name));
    this.hint.hidden = true;
    this.body.hidden = false;
    this.root.classList.toggle("is-stale", Boolean(vm.stale));
    this.staleNote.hidden = !vm.stale;
    if (vm.stale) {
      const when = vm.seenAt ? ` at ${clock(vm.seenAt / 1000)}` : "";
      this.staleNote.textContent = `${sentence(whyNot(host || { name: vm.host }))} What you `
        + `see is what it said last${when}; ${vm.name} cannot be acted on until it answers.`;
    }

    const info = vm.info || {};
    this.set("id", vm.id >= 0 ? String(vm.id) : "none (not running)");
    this.set("uuid", vm.uuid);
    this.set("name", vm.name);
    this.set("host", vm.host);
    this.set("active", yesNo(vm.active));
    this.set("persistent", vm.persistent === false
      ? "no: it is gone once it stops" : yesNo(vm.persistent));
    this.set("updated", vm.updated ? "yes: they apply when it next starts" : yesNo(vm.updated));
    this.set("autostart", yesNo(vm.autostart));
    this.set("os", guestKind(vm.os));
    this.set("cpus", info.nrVirtCpu ?? UNKNOWN);
    this.set("memory", kibibytes(info.memory));
    this.set("maxmemory", kibibytes(info.maxMem));
    this.vm = vm;
    this.showCpuTime();
  }

  /**
   * The CPU time from the VM's statistics (seconds), when the host reports it. The listing's
   * figure goes stale between two changes of the fleet: its ETag leaves CPU time out, so
   * that polling it costs a 304 while nothing else changes.
   */
  setCpuSeconds(key, seconds) {
    if (key !== this.key) return;
    this.cpuSeconds = Number.isFinite(seconds) ? seconds : null;
    this.showCpuTime();
  }

  showCpuTime() {
    if (!this.vm) return;
    const fresh = this.cpuSeconds !== null && this.vm.active && !this.vm.stale;
    const info = this.vm.info || {};
    const seconds = fresh ? this.cpuSeconds : (info.cpuTime ?? NaN) / 1e9;
    this.set("cputime", this.vm.active ? cpuTime(seconds, info.nrVirtCpu) : "none (not running)");
  }

  set(field, text) {
    this.fields[field].textContent = String(text);
  }

  /** Tell the outcome of an action: plain, or as an error. An empty text hides the line. */
  say(text, { error = false } = {}) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
    // An error interrupts a screen reader; a success waits its turn.
    this.message.setAttribute("role", error ? "alert" : "status");
  }
}
