// The selected VM's facts, as the first VirtDancer's page showed them (ID, UUID, name, active,
// persistent, config changed, autostart, CPUs, memory, CPU time), in human units, and the
// line where the outcome of an action is told.

import { kibibytes, nanoseconds, duration, UNKNOWN, yesNo } from "./format.js";
import { stateIcon, stateSlug } from "./icons.js";

export class DetailPanel {
  constructor(root) {
    this.root = root;
    this.title = root.querySelector("[data-detail-title]");
    this.state = root.querySelector("[data-detail-state]");
    this.hint = root.querySelector("[data-detail-hint]");
    this.body = root.querySelector("[data-detail-body]");
    this.message = root.querySelector("[data-action-message]");
    this.fields = Object.fromEntries(
      [...root.querySelectorAll("[data-field]")].map((dd) => [dd.dataset.field, dd]));
    this.uuid = null;
    this.cpuSeconds = null;   // from the statistics, fresher than the listing's CPU time
  }

  /** Show `vm` (a detail object), or the hint when nothing is selected. */
  show(vm) {
    if (!vm) {
      this.uuid = null;
      this.title.textContent = "No VM selected";
      this.state.replaceChildren();
      this.hint.hidden = false;
      this.body.hidden = true;
      this.say("");
      return;
    }
    if (vm.uuid !== this.uuid) {
      this.uuid = vm.uuid;
      this.cpuSeconds = null;
      this.say("");
    }
    this.root.dataset.state = vm.state_name;
    this.title.textContent = vm.name;
    this.state.className = `state-label state-${stateSlug(vm.state_name)}`;
    this.state.replaceChildren(stateIcon(vm.state_name), document.createTextNode(vm.state_name));
    this.hint.hidden = true;
    this.body.hidden = false;

    const info = vm.info || {};
    this.set("id", vm.id >= 0 ? String(vm.id) : `${UNKNOWN} (not running)`);
    this.set("uuid", vm.uuid);
    this.set("name", vm.name);
    this.set("active", yesNo(vm.active));
    this.set("persistent", yesNo(vm.persistent));
    this.set("updated", yesNo(vm.updated));
    this.set("autostart", yesNo(vm.autostart));
    this.set("os", vm.os ?? UNKNOWN);
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
  setCpuSeconds(uuid, seconds) {
    if (uuid !== this.uuid) return;
    this.cpuSeconds = Number.isFinite(seconds) ? seconds : null;
    this.showCpuTime();
  }

  showCpuTime() {
    if (!this.vm) return;
    if (this.cpuSeconds !== null && this.vm.active) this.set("cputime", duration(this.cpuSeconds));
    else this.set("cputime", nanoseconds(this.vm.info?.cpuTime));
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
