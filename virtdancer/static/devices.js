// The selected VM's description and devices in plain words: its disks (sizes in GiB/MiB), its
// CD-ROMs with the ISO in each, its network cards with MAC, network and IP addresses, and its
// displays. These
// come from the VM's own detail (`GET vm/<uuid>`), not from the fleet's listing. Operators may
// change a CD-ROM's media: insert an ISO from one of the host's pools, or eject it; viewers
// see the same words with no buttons.

import { del, get, put } from "./api.js";
import { element, setOptions, uniqueId } from "./fields.js";
import { bytes, sentence } from "./format.js";
import { onHost } from "./hosts.js";

// Where the host learnt a guest's address.
const SOURCES = { lease: " (DHCP lease)", agent: " (guest agent)" };

function diskWords(disk) {
  const source = disk.volume ? `${disk.volume} in pool ${disk.pool}` : disk.path || "no source";
  const size = disk.capacity != null ? `, ${bytes(disk.capacity)}` : "";
  const used = disk.allocation != null ? ` (${bytes(disk.allocation)} used on the host)` : "";
  const format = disk.format ? `, ${disk.format}` : "";
  const bus = disk.bus ? ` (${disk.bus})` : "";
  return `${disk.target}${bus}: ${source}${format}${size}${used}`;
}

function cdromWords(cdrom) {
  const media = cdrom.volume ? `${cdrom.volume} in pool ${cdrom.pool}`
    : cdrom.path || "empty, no disc";
  return `${cdrom.target}${cdrom.bus ? ` (${cdrom.bus})` : ""}: ${media}`;
}

function nicWords(nic) {
  const where = nic.network ? `network ${nic.network}`
    : nic.bridge ? `bridge ${nic.bridge}` : "no network";
  const model = nic.model ? `, ${nic.model}` : "";
  const addresses = (nic.addresses || []).map((one) => one.address
    + (one.prefix != null ? `/${one.prefix}` : "") + (SOURCES[one.source] || ""));
  const ips = addresses.length ? `; ${addresses.join(", ")}` : "; no IP address known";
  return `${nic.mac}: ${where}${model}${ips}`;
}

function displayWords(display) {
  const type = String(display.type || "display").toUpperCase();
  if (display.port == null || display.port < 0) return `${type}, no port while it is off`;
  return `${type} on port ${display.port}` + (display.listen ? `, listening on ${display.listen}`
    : "");
}

export class DevicesView {
  /** root: the [data-devices] element; changed(): the VM's detail changed (media). */
  constructor(root, changed) {
    this.root = root;
    this.changed = changed;
    this.vm = null;
    this.isos = null;   // [value, text] of the host's ISOs, asked once per VM shown
  }

  /** Show `detail` (a `GET vm/<uuid>` answer) of the fleet VM `vm`. */
  show(vm, detail) {
    if (this.vm?.uuid !== vm?.uuid || this.vm?.host !== vm?.host) this.isos = null;
    this.vm = vm;
    if (!vm || !detail) {
      this.root.replaceChildren();
      return;
    }
    const parts = [];
    if (detail.description) {
      parts.push(element("h3", "", "Description"),
                 element("p", "description", detail.description));
    }
    parts.push(...this.list("Disks", detail.disks, diskWords, "No disks."));
    if (Array.isArray(detail.cdroms)) {
      parts.push(element("h3", "", "CD-ROM drives"));
      if (!detail.cdroms.length) parts.push(element("p", "muted", "No CD-ROM drive."));
      for (const cdrom of detail.cdroms) parts.push(this.cdrom(cdrom, vm));
    }
    parts.push(...this.list("Network cards", detail.nics, nicWords, "No network cards."));
    parts.push(...this.list("Displays", detail.graphics, displayWords, "No display."));
    this.message = element("p", "message");
    this.message.setAttribute("role", "status");
    this.message.hidden = true;
    parts.push(this.message);
    this.root.replaceChildren(...parts);
  }

  list(title, items, words, none) {
    if (!Array.isArray(items)) return [];
    const list = element("ul", "device-list");
    list.dataset.deviceList = title.toLowerCase().replace(/\s+/g, "-");
    list.append(...items.map((item) => element("li", "", words(item))));
    return [element("h3", "", title), items.length ? list : element("p", "muted", none)];
  }

  cdrom(cdrom, vm) {
    const row = element("div", "cdrom");
    row.dataset.cdrom = cdrom.target;
    row.append(element("p", "", cdromWords(cdrom)));
    if (!vm.operable || vm.stale) return row;
    const controls = element("div", "cdrom-controls");
    const select = element("select");
    select.id = uniqueId("cdrom-iso");
    select.name = "iso";
    const label = element("label", "visually-hidden", `ISO for ${cdrom.target}`);
    label.htmlFor = select.id;
    setOptions(select, [["", "Choose an ISO…"]]);
    const insert = element("button", "", "Insert");
    insert.type = "button";
    insert.dataset.cdromInsert = "";
    insert.setAttribute("aria-label", `Insert the chosen ISO into ${cdrom.target}`);
    const eject = element("button", "", "Eject");
    eject.type = "button";
    eject.dataset.cdromEject = "";
    eject.setAttribute("aria-label", `Eject the disc of ${cdrom.target}`);
    eject.disabled = !(cdrom.volume || cdrom.path);
    controls.append(label, select, insert, eject);
    row.append(controls);
    this.fillIsos(select);
    insert.addEventListener("click", () => {
      if (!select.value) {
        this.say("Choose an ISO to insert first.", true);
        select.focus();
        return;
      }
      const [pool, ...rest] = select.value.split("/");
      this.media(cdrom, "put", { pool, volume: rest.join("/") }, `${rest.join("/")} inserted `
        + `into ${cdrom.target}.`);
    });
    eject.addEventListener("click", () => this.media(cdrom, "delete", null,
                                                     `${cdrom.target} ejected.`));
    return row;
  }

  async fillIsos(select) {
    const vm = this.vm;
    if (!this.isos) {
      try {
        const pools = (await get(onHost(vm.host, "pools"))).data.filter((one) => one.active);
        const isos = [];
        for (const pool of pools) {
          const path = `pools/${encodeURIComponent(pool.name)}/volumes`;
          for (const volume of (await get(onHost(vm.host, path))).data) {
            if (/\.iso$/i.test(volume.name)) isos.push([`${pool.name}/${volume.name}`,
                                                        `${volume.name} (${pool.name})`]);
          }
        }
        this.isos = isos;
      } catch (problem) {
        this.say(`The host's ISOs could not be listed: ${sentence(problem.message)}`, true);
        return;
      }
    }
    if (vm !== this.vm) return;
    setOptions(select, [["", this.isos.length ? "Choose an ISO…" : "No ISO in any pool"],
                        ...this.isos]);
  }

  async media(cdrom, how, body, done) {
    const vm = this.vm;
    const path = onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/cdroms/`
      + encodeURIComponent(cdrom.target));
    for (const button of this.root.querySelectorAll("[data-cdrom] button")) {
      button.disabled = true;
    }
    try {
      if (how === "put") await put(path, body);
      else await del(path);
      await this.changed();
      this.say(done);
    } catch (problem) {
      this.say(`The media of ${cdrom.target} did not change: ${sentence(problem.message)}`,
               true);
      for (const button of this.root.querySelectorAll("[data-cdrom] button")) {
        button.disabled = false;
      }
    }
  }

  say(text, error = false) {
    if (!this.message) return;
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
    this.message.setAttribute("role", error ? "alert" : "status");
  }
}
