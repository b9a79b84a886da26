// The volumes of one pool, in the Storage view: format, size, allocation, path and the VMs
// using each. Admins create a volume (name, format, size), grow one, clone one (into this pool
// or another), delete one (a volume in use is refused: the server names its VMs), and upload a
// file (an ISO) with a progress bar and a Cancel button.

import { del, get, patch } from "./api.js";
import { nameProblem } from "./checks.js";
import { CloneVolumeDialog } from "./clonevolume.js";
import { confirmAction } from "./confirm.js";
import { button, cell, element, field, input, keepingFocus, select, sendSaying, statusLine,
         table } from "./dom.js";
import { bytes, sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { postTask } from "./tasks.js";
import { UploadForm } from "./uploadform.js";

const MIB = 1024 * 1024;
const UNITS = [["1024", "GiB"], ["1", "MiB"]];

/** Who uses a volume, in words: VM names, "another VM" for one the user does not see. */
function users(volume) {
  const names = (volume.used_by || []).map((vm) => vm.name);
  if (volume.in_use && !names.length) return "another VM";
  return names.length ? names.join(", ") : "no VM";
}

/** A size field and its unit, read as MiB; null when it is not a positive whole MiB. */
function sizeControls(prefix, labelText) {
  const size = input(`${prefix}-size`, "size", { type: "number", min: "1", step: "any",
                                                 inputmode: "decimal" });
  const unit = select(`${prefix}-unit`, "unit", UNITS);
  const wrap = element("div", "field size-field");
  const label = element("label", "", labelText);
  label.htmlFor = size.id;
  const unitLabel = element("label", "visually-hidden", "Unit");
  unitLabel.htmlFor = unit.id;
  const row = element("div", "size-row");
  row.append(size, unitLabel, unit);
  wrap.append(label, row);
  wrap.mib = () => {
    const value = Number(size.value) * Number(unit.value);
    return Number.isFinite(value) && value >= 1 && Number.isInteger(value) ? value : null;
  };
  wrap.size = size;
  return wrap;
}

export class VolumesPanel {
  constructor(changed) {
    this.changed = changed;   // the pool's figures changed: the Storage view reloads
    this.host = "";
    this.pool = null;
    this.admin = false;
    this.root = element("section", "volumes");
    this.root.setAttribute("aria-labelledby", "volumes-title");
    this.title = element("h3", "volumes-title", "Volumes");
    this.title.id = "volumes-title";
    this.title.tabIndex = -1;   // keepingFocus's place when a volume's row is gone
    this.message = statusLine();
    this.form = this.volumeForm();
    this.shown = null;   // the volumes on screen
    this.upload = new UploadForm(this.message, (name) => this.url(name, "/content"),
                                 (name) => this.shown?.find((volume) => volume.name === name),
                                 () => this.changed());
    this.cloneDialog = new CloneVolumeDialog((copy, words) => {
      this.message.say(words);
      this.changed();
    });
    this.list = table("volumes-list", "Volumes", ["Volume", "Format", "Capacity", "Allocation",
                                                  "Path", "Used by",
                                                  { text: "Actions", hidden: true }]);
    const scroll = element("div", "listing-wrap");
    scroll.append(this.list.table);
    this.empty = element("p", "muted", "");
    this.empty.hidden = true;
    const forms = element("div", "add-forms");
    forms.append(this.form, this.upload.root);
    this.root.append(this.title, scroll, this.empty, this.message, forms);
    this.root.hidden = true;
  }

  volumeForm() {
    const form = element("form", "add-form");
    form.noValidate = true;
    form.dataset.volumeForm = "";
    this.size = sizeControls("volume", "Size");
    form.append(element("h4", "", "Create a volume"),
                field("Name", input("volume-name", "name", { maxlength: 64,
                                                             placeholder: "data.qcow2" })),
                field("Format", select("volume-format", "format",
                                       [["qcow2", "qcow2"], ["raw", "raw"]])),
                this.size,
                button("Create volume", null, { className: "primary", type: "submit" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    return form;
  }

  url(name, tail = "") {
    const pool = encodeURIComponent(this.pool.name);
    return onHost(this.host, `pools/${pool}/volumes/${encodeURIComponent(name)}${tail}`);
  }

  /**
   * Show the volumes of `pool` (a `GET pools` item), or nothing when there is none. Unless
   * `fresh`, the listing is redrawn only when it changed, and not while a volume is being grown.
   */
  async show(host, pool, admin, fresh = true) {
    if (host !== this.host || pool?.name !== this.pool?.name) {
      this.message.say("");
      this.shown = null;
    }
    this.host = host;
    this.pool = pool || null;
    this.admin = admin;
    this.root.hidden = !pool;
    if (!pool) return;
    this.title.textContent = `Volumes in ${pool.name}`;
    this.form.hidden = !admin || !pool.active;
    this.upload.show(admin && pool.active, pool.name);
    if (!pool.active) {
      this.render([], `${pool.name} is not running: start it to see its volumes.`);
      return;
    }
    const asked = `${host}/${pool.name}`;
    this.asked = asked;
    try {
      const { data } = await get(onHost(host, `pools/${encodeURIComponent(pool.name)}/volumes`));
      if (this.asked !== asked) return;
      const growing = this.list.body.querySelector(".grow-form");
      if (fresh || (!growing && JSON.stringify(data) !== JSON.stringify(this.shown))) {
        this.render(data, `${pool.name} holds no volumes.`);
      }
    } catch (problem) {
      if (this.asked !== asked || problem.status === 401) return;
      this.render([], "");
      this.message.say(`The volumes could not be listed: ${sentence(problem.message)}`,
                       { error: true });
    }
  }

  stop() {
    this.asked = null;
    this.upload.cancel();
    this.cloneDialog.close();
  }

  render(volumes, emptyWords) {
    keepingFocus(this.list.body, () => this.draw(volumes, emptyWords), this.title);
  }

  draw(volumes, emptyWords) {
    this.shown = volumes;
    this.list.table.querySelector("th:last-child").hidden = !this.admin;
    this.empty.textContent = emptyWords;
    this.empty.hidden = volumes.length > 0 || !emptyWords;
    this.list.table.hidden = volumes.length === 0;
    this.list.body.replaceChildren(...volumes.map((volume) => {
      const row = element("tr");
      row.dataset.volume = volume.name;
      row.append(cell(volume.name, "", "name"), cell(volume.format || "—", "Format"),
                 cell(bytes(volume.capacity), "Capacity"),
                 cell(bytes(volume.allocation), "Allocation"),
                 cell(volume.path, "Path", "mono path"),
                 cell(users(volume), "Used by", volume.in_use ? "in-use" : "unused"));
      if (this.admin) row.append(cell(this.volumeButtons(volume), "", "row-actions"));
      return row;
    }));
  }

  volumeButtons(volume) {
    const group = element("div", "row-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Actions on ${volume.name}`);
    group.append(button("Grow", () => this.askGrow(volume, group),
                        { label: `Grow ${volume.name}` }),
                 button("Clone", () => this.cloneDialog.open(this.host, this.pool, volume),
                        { label: `Clone ${volume.name}` }),
                 button("Delete", () => this.remove(volume),
                        { className: "danger", label: `Delete ${volume.name}` }));
    return group;
  }

  async create() {
    const name = this.form.elements.name.value.trim();
    const mib = this.size.mib();
    const problem = nameProblem(name, "volume")
      || (mib ? "" : "Give the size as a positive number of MiB or GiB (whole MiB).");
    if (problem) {
      this.message.say(problem, { error: true });
      (mib || !name ? this.form.elements.name : this.size.size).focus();
      return;
    }
    const format = this.form.elements.format.value;
    const made = await sendSaying(
      this.message, `Creating ${name}…`,
      () => postTask(onHost(this.host, `pools/${encodeURIComponent(this.pool.name)}/volumes`),
                     { name, format, capacity_mib: mib }),
      `Volume ${name} created (${bytes(mib * MIB)}, ${format}).`, `${name} was not created`);
    if (made) this.form.reset();
    this.changed();
  }

  /** Grow: the row's buttons give way to a size field, filled with the volume's size. */
  askGrow(volume, group) {
    const form = element("form", "grow-form");
    form.noValidate = true;
    const size = sizeControls(`grow-${group.closest("tr").rowIndex}`,
                              `New size of ${volume.name}`);
    size.size.value = String(Math.ceil(volume.capacity / MIB));
    size.querySelector("select").value = "1";
    const buttons = element("div", "row-buttons");
    buttons.append(button("Grow", null, { className: "primary", type: "submit" }),
                   button("Cancel", () => this.changed()));
    form.append(size, buttons);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.changed();   // as Cancel
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const mib = size.mib();
      if (!mib || mib * MIB <= volume.capacity) {
        this.message.say(`Give ${volume.name} a size larger than ${bytes(volume.capacity)}: `
                         + "a volume can only grow.", { error: true });
        size.size.focus();
        return;
      }
      await sendSaying(this.message, `Growing ${volume.name}…`,
                       () => patch(this.url(volume.name), { capacity_mib: mib }),
                       `${volume.name} now holds ${bytes(mib * MIB)}.`,
                       `${volume.name} was not grown`);
      this.changed();
    });
    group.replaceWith(form);
    size.size.focus();
  }

  async remove(volume) {
    const using = volume.in_use ? ` It is used by ${users(volume)}: the server will refuse.` : "";
    const sure = await confirmAction({
      title: `Delete the volume ${volume.name}?`,
      text: `${volume.path} is deleted from the host, with everything in it.${using}`,
      confirmLabel: "Delete volume",
    });
    if (!sure) return;
    await sendSaying(this.message, `Deleting ${volume.name}…`, () => del(this.url(volume.name)),
                     `Volume ${volume.name} deleted.`, `${volume.name} was not deleted`);
    this.changed();
  }
}
