// The Create VM dialog (admins): name, CPUs, memory, one disk (a new volume in a pool, or an
// existing volume), an ISO as CD-ROM, a network, and whether to start it. Its limits and
// choices come from the host itself (`GET capabilities`, its pools, volumes and networks), so
// the form offers only what the host can do; what the form cannot know (a name taken, a pool
// that filled up meanwhile) comes back from the server and is shown next to its field.

import { get, post } from "./api.js";
import { nameProblem } from "./checks.js";
import { checkbox, element, field, fieldError, blamedField, setOptions } from "./fields.js";
import { bytes, sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { SheetDialog } from "./sheet.js";
const GIB = 1024 ** 3;
const MIN_MEMORY_MIB = 16;

export class CreateVMDialog extends SheetDialog {
  /** created(vm, host): told of the new VM (its detail object) once the server made it. */
  constructor(created) {
    super({ name: "create", submit: "Create VM" });
    this.created = created;
    this.host = "";
    this.pools = [];
    this.volumes = new Map();   // pool name -> its volumes
    this.build();
  }

  build() {
    this.title.textContent = "Create a VM";
    this.fields = {
      host: field("Host", { tag: "select", name: "host" }),
      name: field("Name", { name: "name", attributes: {
        maxlength: "64", autocomplete: "off", spellcheck: "false", required: "" },
        hint: "Letters, digits, dots, dashes and underscores." }),
      vcpus: field("CPUs", { name: "vcpus", attributes: {
        type: "number", min: "1", step: "1", value: "1", required: "" } }),
      memory: field("Memory (MiB)", { name: "memory", attributes: {
        type: "number", min: String(MIN_MEMORY_MIB), step: "1", value: "1024",
        required: "" } }),
      disk: field("Disk", { tag: "select", name: "disk" }),
      // The pool's free room under it: in the option's text it was cut at the field's edge.
      pool: field("Pool", { tag: "select", name: "pool", hint: " " }),
      size: field("Size (GiB)", { name: "size_gib", attributes: {
        type: "number", min: "1", step: "1", value: "10" } }),
      format: field("Format", { tag: "select", name: "format" }),
      volume: field("Volume", { tag: "select", name: "volume" }),
      bus: field("Disk bus", { tag: "select", name: "bus" }),
      cdrom: field("CD-ROM (ISO)", { tag: "select", name: "cdrom" }),
      network: field("Network", { tag: "select", name: "network" }),
    };
    setOptions(this.fields.disk.control, [
      ["new", "a new volume"], ["existing", "an existing volume"], ["none", "no disk"]]);
    setOptions(this.fields.format.control, [["qcow2", "qcow2"], ["raw", "raw"]]);
    this.start = checkbox("Start it once created", "start");

    const basics = element("fieldset", "sheet-group");
    basics.append(element("legend", "", "The VM"), this.fields.host.wrap, this.fields.name.wrap,
                  this.fields.vcpus.wrap, this.fields.memory.wrap);
    const disk = element("fieldset", "sheet-group");
    disk.append(element("legend", "", "Storage"), this.fields.disk.wrap, this.fields.pool.wrap,
                this.fields.size.wrap, this.fields.format.wrap, this.fields.volume.wrap,
                this.fields.bus.wrap, this.fields.cdrom.wrap);
    const more = element("fieldset", "sheet-group");
    more.append(element("legend", "", "Network and start"), this.fields.network.wrap,
                this.start.wrap);

    this.fill(basics, disk, more);
    this.fields.host.control.addEventListener("change", () => this.load());
    this.fields.disk.control.addEventListener("change", () => this.showDiskFields());
    this.fields.pool.control.addEventListener("change", () => this.showPool());
  }

  /** Open the form for one of `hosts` (names of hosts that answer), `host` chosen first. */
  async open(hosts, host) {
    setOptions(this.fields.host.control, hosts.map((name) => [name, name]), host);
    this.fields.host.wrap.hidden = hosts.length < 2;
    this.form.reset();
    this.fields.host.control.value = host;
    for (const one of Object.values(this.fields)) fieldError(one, "");
    this.say("");
    this.dialog.showModal();
    this.fields.name.control.focus();
    await this.load();
  }

  /** Ask the chosen host what it offers, and fill the form's choices with it. */
  async load() {
    const host = this.fields.host.control.value;
    this.host = host;
    this.submit.disabled = true;
    try {
      const [capabilities, pools, networks] = await Promise.all([
        get(onHost(host, "capabilities")), get(onHost(host, "pools")),
        get(onHost(host, "networks"))]);
      if (host !== this.host) return;
      this.pools = pools.data.filter((pool) => pool.active)
        .sort((one, other) => (other.name === "default") - (one.name === "default")
          || one.name.localeCompare(other.name));
      this.volumes = new Map(await Promise.all(this.pools.map(async (pool) => [
        pool.name, (await get(onHost(host, `pools/${encodeURIComponent(pool.name)}/volumes`)))
          .data])));
      if (host !== this.host) return;
      this.offer(capabilities.data, networks.data);
      this.submit.disabled = false;
    } catch (problem) {
      if (host === this.host) this.say(`${host} cannot be asked what it offers: `
        + `${sentence(problem.message)}`);
    }
  }

  offer(capabilities, networks) {
    const { vcpus, memory, bus } = this.fields;
    vcpus.control.max = String(capabilities.max_vcpus);
    memory.control.max = String(capabilities.host_memory_mib);
    setOptions(bus.control, capabilities.disk_buses.map((name) => [name, name]), "virtio");
    setOptions(this.fields.pool.control, this.pools.map((pool) => [pool.name, pool.name]),
               this.pools[0]?.name);
    const isos = [];
    for (const [pool, volumes] of this.volumes) {
      for (const volume of volumes) {
        if (/\.iso$/i.test(volume.name)) isos.push([`${pool}/${volume.name}`, volume.name]);
      }
    }
    setOptions(this.fields.cdrom.control, [["", "none"], ...isos]);
    const usable = networks.filter((network) => network.state === "active")
      .sort((one, other) => one.name.localeCompare(other.name));
    // libvirt's own "default" network where it runs, else the first running one.
    const first = usable.find((network) => network.name === "default") || usable[0];
    setOptions(this.fields.network.control, [
      ...usable.map((network) => [network.name, network.name]), ["", "no network"]],
    first?.name ?? "");
    this.showPool();
  }

  showPool() {
    const pool = this.pools.find((one) => one.name === this.fields.pool.control.value);
    const size = this.fields.size;
    size.control.max = pool ? String(Math.floor(pool.available / GIB)) : "";
    this.fields.pool.wrap.querySelector(".field-hint").textContent =
      pool ? `${bytes(pool.available)} free` : "";
    const free = (this.volumes.get(pool?.name) || []).filter(
      (volume) => !volume.in_use && !/\.iso$/i.test(volume.name));
    setOptions(this.fields.volume.control, free.map((volume) => [
      volume.name, `${volume.name} (${bytes(volume.capacity)})`]));
    this.showDiskFields();
  }

  showDiskFields() {
    const mode = this.fields.disk.control.value;
    this.fields.pool.wrap.hidden = mode === "none";
    this.fields.size.wrap.hidden = mode !== "new";
    this.fields.format.wrap.hidden = mode !== "new";
    this.fields.volume.wrap.hidden = mode !== "existing";
    this.fields.bus.wrap.hidden = mode === "none";
  }

  /** The body of `POST vm`, or null when a field is wrong (each then says why). */
  body() {
    const f = this.fields;
    for (const one of Object.values(f)) fieldError(one, "");
    let ok = true;
    const wrong = (one, text) => {
      fieldError(one, text);
      if (ok) one.control.focus();
      ok = false;
    };
    const name = f.name.control.value.trim();
    const unfit = nameProblem(name, "VM");
    if (unfit) wrong(f.name, unfit);
    const number = (one, min, what) => {
      const value = Number(one.control.value);
      const max = Number(one.control.max) || Infinity;
      if (!Number.isInteger(value) || value < min || value > max) {
        wrong(one, `${what} is a whole number from ${min}`
          + (max < Infinity ? ` to ${max}.` : "."));
      }
      return value;
    };
    const body = { name, vcpus: number(f.vcpus, 1, "CPUs"),
                   memory: number(f.memory, MIN_MEMORY_MIB, "Memory"),
                   start: this.start.control.checked };
    const mode = f.disk.control.value;
    const pool = f.pool.control.value;
    if (mode !== "none" && !pool) wrong(f.pool, "This host has no running pool for a disk.");
    if (mode === "new") {
      body.disks = [{ pool, size_gib: number(f.size, 1, "The size"),
                      format: f.format.control.value, bus: f.bus.control.value }];
    } else if (mode === "existing") {
      if (!f.volume.control.value) wrong(f.volume, "This pool has no volume free to use.");
      body.disks = [{ pool, volume: f.volume.control.value, bus: f.bus.control.value }];
    }
    if (f.cdrom.control.value) {
      const [isoPool, ...rest] = f.cdrom.control.value.split("/");
      body.cdrom = { pool: isoPool, volume: rest.join("/") };
    }
    if (f.network.control.value) body.networks = [{ network: f.network.control.value }];
    body.boot = body.cdrom && mode === "new" ? ["hd", "cdrom"] : ["hd"];
    return ok ? body : null;
  }

  async send() {
    const body = this.body();
    if (!body) return;
    const host = this.host;
    this.say("");
    this.submit.disabled = true;
    this.submit.textContent = "Creating…";
    try {
      const { data } = await post(onHost(host, "vm"), body);
      this.dialog.close();
      this.created(data, host);
    } catch (problem) {
      this.blame(problem);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Create VM";
    }
  }

  /** The server's refusal, next to the field it is about, else for the whole form. */
  blame(problem) {
    const words = sentence(problem.message);
    const byField = { name: "name", vcpus: "vcpus", memory: "memory", disks: "size",
                      cdrom: "cdrom", networks: "network" };
    let key = byField[blamedField(problem)];
    if (problem.status === 409) key = "name";
    if (key === "size" && this.fields.disk.control.value !== "new") key = "volume";
    if (key && !this.fields[key].wrap.hidden) {
      fieldError(this.fields[key], words);
      this.fields[key].control.focus();
    } else {
      this.say(`The VM was not created: ${words}`);
    }
  }
}
