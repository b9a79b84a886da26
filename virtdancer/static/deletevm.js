// The Delete confirmation (admins): the admin types the VM's name, sees its disk volumes and
// chooses whether they go too, and, for a running VM, whether to power it off first. The
// server still decides: it never deletes a CD-ROM's ISO nor a volume another VM uses, and its
// answer (what it removed, what it kept and why) is told afterwards.

import { del, get } from "./api.js";
import { checkbox, element, field } from "./fields.js";
import { bytes, sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { SheetDialog } from "./sheet.js";

/** The VM's disk volumes, as its host's pools tell who uses what: [{pool, volume, shared}]. */
async function diskVolumes(vm, cdromPaths) {
  const pools = (await get(onHost(vm.host, "pools"))).data.filter((pool) => pool.active);
  const found = [];
  for (const pool of pools) {
    const path = `pools/${encodeURIComponent(pool.name)}/volumes`;
    for (const volume of (await get(onHost(vm.host, path))).data) {
      const users = volume.used_by || [];
      if (!users.some((user) => user.uuid === vm.uuid) || cdromPaths.has(volume.path)) continue;
      found.push({ pool: pool.name, volume, shared: users.length > 1 });
    }
  }
  return found;
}

export class DeleteVMDialog extends SheetDialog {
  /** deleted(vm, answer, volumesToo): told once the server has deleted `vm`. */
  constructor(deleted) {
    super({ name: "delete", submit: "Delete", danger: true });
    this.deleted = deleted;
    this.vm = null;
    this.text = element("p");
    this.volumesNote = element("p", "muted");
    this.list = element("ul", "volume-list");
    this.list.dataset.deleteVolumes = "";
    this.removeVolumes = checkbox("Also delete these volumes", "volumes");
    this.force = checkbox("It is running: power it off first", "force");
    this.typed = field("Type the VM's name to confirm", { name: "confirm-name", attributes: {
      autocomplete: "off", spellcheck: "false", autocapitalize: "none" } });
    this.fill(this.text, this.volumesNote, this.list, this.removeVolumes.wrap, this.force.wrap,
              this.typed.wrap);
    this.typed.control.addEventListener("input", () => this.allow());
    this.force.control.addEventListener("change", () => this.allow());
  }

  /** Ask about deleting `vm` (a fleet VM, with `host`); `detail` may list its CD-ROMs. */
  async open(vm, detail = null) {
    this.vm = vm;
    this.title.textContent = `Delete ${vm.name}?`;
    this.text.textContent = `${vm.name} is removed from ${vm.host} for good: its definition, `
      + "its snapshots' records and its firmware variables.";
    this.typed.control.value = "";
    this.typed.wrap.querySelector("label").textContent = `Type ${vm.name} to confirm`;
    this.force.control.checked = false;
    this.force.wrap.hidden = !vm.active;
    this.removeVolumes.control.checked = false;
    this.removeVolumes.wrap.hidden = true;
    this.list.replaceChildren();
    this.volumesNote.textContent = "Looking for its disk volumes…";
    this.say("");
    this.allow();
    this.dialog.showModal();
    this.typed.control.focus();
    const cdroms = new Set((detail?.cdroms || []).map((cdrom) => cdrom.path).filter(Boolean));
    try {
      const volumes = await diskVolumes(vm, cdroms);
      if (this.vm !== vm) return;
      this.showVolumes(volumes);
    } catch (problem) {
      if (this.vm === vm) this.volumesNote.textContent = "Its volumes could not be listed: "
        + `${sentence(problem.message)} They are kept.`;
    }
  }

  showVolumes(volumes) {
    const ours = volumes.filter((one) => !/\.iso$/i.test(one.volume.name));
    this.volumesNote.textContent = ours.length ? "Its disk volumes:"
      : "It has no disk volume in a pool; its disks, if any, are kept.";
    this.list.replaceChildren(...ours.map(({ pool, volume, shared }) => element(
      "li", "", `${volume.name} in pool ${pool}, ${bytes(volume.capacity)}`
        + (shared ? " — another VM uses it too, so it is kept" : ""))));
    this.removeVolumes.wrap.hidden = !ours.length;
  }

  allow() {
    const vm = this.vm;
    const named = vm && this.typed.control.value.trim() === vm.name;
    this.submit.disabled = !named || (vm.active && !this.force.control.checked);
    this.submit.textContent = vm ? `Delete ${vm.name}` : "Delete";
  }

  async send() {
    const vm = this.vm;
    if (!vm || this.submit.disabled) return;
    const query = new URLSearchParams();
    if (this.force.control.checked) query.set("force", "1");
    if (this.removeVolumes.control.checked) query.set("volumes", "remove");
    const path = `vm/${encodeURIComponent(vm.uuid)}` + (query.size ? `?${query}` : "");
    this.submit.disabled = true;
    this.say("");
    try {
      const { data } = await del(onHost(vm.host, path));
      this.dialog.close();
      this.deleted(vm, data, query.has("volumes"));
    } catch (problem) {
      this.say(`${vm.name} was not deleted: ${sentence(problem.message)}`);
      this.allow();
    }
  }
}

/**
 * What a delete's answer means, in words: "db-1 deleted, with 1 volume. Kept: ...".
 * `volumesToo`: the admin asked for its volumes to go (else keeping them is no news).
 */
export function deletedWords(vm, answer, volumesToo) {
  const removed = answer?.removed || [];
  const kept = answer?.kept || [];
  let words = `${vm.name} deleted`;
  if (removed.length) words += `, with ${removed.length} volume${removed.length > 1 ? "s" : ""}`;
  words += volumesToo || !kept.length ? "." : "; its volumes are kept.";
  if (kept.length && volumesToo) {
    const file = (path) => String(path).split("/").pop();
    words += " Kept: " + kept.map((one) => `${file(one.path)} (${one.reason})`).join("; ")
      + ".";
  }
  return words;
}
