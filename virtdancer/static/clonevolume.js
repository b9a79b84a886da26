// The Clone dialog of a volume (admins): the copy's name and the pool it goes into (one of the
// host's running pools). The server copies it as a task; the dialog follows the task, with the
// progress it estimates, and closes once the copy is made. libvirt cannot stop a copy half-way,
// so there is no Cancel once it runs: the dialog says so.

import { get, post } from "./api.js";
import { nameProblem } from "./checks.js";
import { blamedField, element, field, fieldError, setOptions } from "./fields.js";
import { bytes, sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { SheetDialog } from "./sheet.js";
import { finished } from "./tasks.js";

/** "spare.raw" → "spare-copy.raw": the copy keeps the volume's extension. */
export function copyName(name) {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const tail = dot > 0 ? name.slice(dot) : "";
  return `${stem.slice(0, 64 - tail.length - 5)}-copy${tail}`;
}

export class CloneVolumeDialog extends SheetDialog {
  /** cloned(copy, words): told of the copy (the task's result) and a sentence saying it. */
  constructor(cloned) {
    super({ name: "clone-volume", submit: "Clone", narrow: true });
    this.cloned = cloned;
    this.text = element("p", "muted");
    this.name = field("Name of the copy", { name: "clone-volume-name", attributes: {
      maxlength: "64", autocomplete: "off", spellcheck: "false", autocapitalize: "none" } });
    this.pool = field("Into the pool", { tag: "select", name: "clone-volume-pool" });
    this.progress = element("p", "clone-progress");
    this.progress.setAttribute("aria-live", "polite");
    this.progress.hidden = true;
    this.fill(this.text, this.name.wrap, this.pool.wrap, this.progress);
    // While the copy runs, Escape would only hide it: the dialog stays until it has ended.
    this.dialog.addEventListener("cancel", (event) => {
      if (this.copying) event.preventDefault();
    });
    this.name.control.addEventListener("input", () => fieldError(this.name, ""));
  }

  /** Ask for the name and pool of a copy of `volume` (a listed volume) of `pool` on `host`. */
  async open(host, pool, volume) {
    Object.assign(this, { host, poolName: pool.name, volume, copying: false });
    this.title.textContent = `Clone ${volume.name}`;
    this.text.textContent = `A copy of ${volume.name} (${bytes(volume.capacity)}, `
      + `${volume.format || "raw"}): it takes room for what ${volume.name} holds now `
      + `(${bytes(volume.allocation)}).`;
    this.name.control.value = copyName(volume.name);
    fieldError(this.name, "");
    setOptions(this.pool.control, [[pool.name, pool.name]], pool.name);
    this.say("");
    this.progress.hidden = true;
    this.dialog.showModal();
    this.name.control.select();
    try {
      const { data } = await get(onHost(host, "pools"));
      const running = data.filter((one) => one.active).map((one) => [one.name, one.name]);
      if (running.length) setOptions(this.pool.control, running, pool.name);
    } catch {
      // Only this pool is offered: the copy can still go there.
    }
  }

  async send() {
    const { volume } = this;
    const name = this.name.control.value.trim();
    const target = this.pool.control.value;
    fieldError(this.name, "");
    const unfit = nameProblem(name, "volume");
    if (unfit) {
      fieldError(this.name, unfit);
      this.name.control.focus();
      return;
    }
    this.busy(true);
    this.say("");
    try {
      const url = onHost(this.host, `pools/${encodeURIComponent(this.poolName)}/volumes/`
                                    + `${encodeURIComponent(volume.name)}/clone`);
      const { data: task } = await post(url, { name, pool: target });
      this.copying = true;
      const copy = await finished(task, (now) => this.showProgress(now));
      this.copying = false;
      this.dialog.close();
      this.cloned(copy, `${volume.name} copied as ${copy.name} into ${target} `
                        + `(${bytes(copy.capacity)}, ${copy.format}).`);
    } catch (problem) {
      this.copying = false;
      if (problem.status === 409 && /already/i.test(problem.message)
          || blamedField(problem) === "name") {
        fieldError(this.name, sentence(problem.message));
        this.name.control.focus();
      } else if (problem.status !== 401) {
        this.say(`${volume.name} was not copied: ${sentence(problem.message)}`);
      }
    } finally {
      this.busy(false);
    }
  }

  showProgress(task) {
    this.progress.hidden = false;
    const share = task.progress === null ? "" : `: about ${Math.floor(task.progress * 100)} %`;
    this.progress.textContent = task.state === "queued"
      ? "The copy waits for its turn on the host."
      : `Copying${share} (an estimate from the room the copy takes; libvirt cannot stop `
        + "a copy half-way).";
  }

  busy(yes) {
    this.submit.disabled = yes;
    this.cancel.disabled = yes;
    this.submit.textContent = yes ? "Cloning…" : "Clone";
    if (!yes) this.progress.hidden = true;
  }

  close() {
    if (!this.copying) super.close();
  }
}
