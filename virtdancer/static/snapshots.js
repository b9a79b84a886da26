// The selected VM's Snapshots view: the tree (each child under its parent, the current one
// marked), and for operators and admins Create, Revert and Delete. Taking and reverting are
// tasks on the server: the view follows each one to its end (`GET tasks/<id>`) and says the
// outcome in words. A refusal (409) is shown as the server's reason. Viewers see the tree only;
// the server checks the role again. Where the live channel is offered, a snapshot taken or
// deleted elsewhere (another tab, a script) shows up too.

import { del, get, post } from "./api.js";
import { checkbox, element, field } from "./fields.js";
import { clock, sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { liveEvents } from "./live.js";
import { SnapshotDialog } from "./snapshotdialog.js";
import { snapshotTaskWords } from "./snapshottask.js";
import { ENDED, FollowedTask } from "./tasks.js";

// libvirt's names of a VM's state when a snapshot was taken, as the page says them elsewhere.
const STATES = { shutoff: "shut off", running: "running", paused: "paused", crashed: "crashed",
                 "disk-snapshot": "running (disks only)", pmsuspended: "suspended" };

function stateWords(state) {
  return STATES[state] || state || "unknown";
}

function takenWords(created) {
  if (!Number.isFinite(created)) return "when unknown";
  // clock() says the day only when it is not today.
  const time = clock(created);
  return time.includes(",") ? time : `today, ${time}`;
}

/** The tree's snapshots with their depth: the answer lists each parent before its children. */
function withDepth(snapshots) {
  const depth = new Map();
  return snapshots.map((one) => {
    const level = one.parent && depth.has(one.parent) ? depth.get(one.parent) + 1 : 0;
    depth.set(one.name, level);
    return { snapshot: one, level };
  });
}

/** The names of every descendant of `name` in the tree. */
function descendants(snapshots, name) {
  const found = [];
  const parents = new Set([name]);
  for (const one of snapshots) {
    if (parents.has(one.parent)) {
      found.push(one.name);
      parents.add(one.name);
    }
  }
  return found;
}

export class SnapshotsView {
  /** root: the view's element; changed(vm): the VM may have changed (a revert). */
  constructor(root, changed) {
    this.root = root;
    this.changed = changed;
    this.vm = null;
    this.snapshots = [];
    this.asked = 0;
    this.follows = new Set();   // the tasks followed now, stopped on reset

    this.heading = element("h3", "", "Snapshots");
    this.intro = element("p", "muted", "A snapshot keeps the VM's disks (and its memory, "
      + "when taken while it runs) inside its qcow2 disks, to come back to later.");
    this.form = this.createForm();
    this.message = element("p", "message");
    this.message.dataset.snapshotMessage = "";
    this.message.hidden = true;
    // Stops the task followed now (a snapshot or revert aborts libvirt's job; a queued one
    // never starts).
    this.cancelButton = element("button", "", "Cancel it");
    this.cancelButton.type = "button";
    this.cancelButton.dataset.snapshotCancel = "";
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener("click", () => this.cancel());
    this.active = null;   // the FollowedTask of the shown VM, while it has not ended
    const status = element("div", "snapshot-status");
    status.append(this.message, this.cancelButton);
    this.tree = element("ul", "snapshot-tree");
    this.tree.dataset.snapshotTree = "";
    this.empty = element("p", "muted", "No snapshots yet.");
    this.root.append(this.heading, this.intro, status, this.empty, this.tree, this.form);
    this.dialog = new SnapshotDialog();
    liveEvents.onEvent((event) => this.heard(event));
  }

  /** A live event: read the tree again when it tells of a change to the shown VM's snapshots. */
  heard(event) {
    if (!this.vm || this.root.hidden || event.host !== this.vm.host
        || event.vm?.uuid !== this.vm.uuid) return;
    const task = event.type === "task" ? event.task || {} : null;
    const taskEnded = task && ["snapshot", "revert"].includes(task.type) && ENDED.has(task.state);
    // A deletion is no task: its audit record ("snapshot.delete") is what the channel says.
    const audited = event.type === "audit"
      && String(event.audit?.action || "").startsWith("snapshot.");
    if (taskEnded || audited) this.load();
  }

  createForm() {
    const form = element("form", "snapshot-form");
    form.dataset.snapshotForm = "";
    form.noValidate = true;
    this.name = field("Name", { name: "snapshot-name", attributes: {
      maxlength: "64", autocomplete: "off", spellcheck: "false", required: "",
      pattern: "[A-Za-z0-9_][A-Za-z0-9._\\-]*" },
      hint: "Letters, digits, dots, dashes and underscores; up to 64." });
    this.description = field("Description", { tag: "textarea", name: "snapshot-description",
                                              attributes: { rows: "2", maxlength: "1000" } });
    this.memory = checkbox("With its memory (it comes back running)", "snapshot-memory");
    this.memoryHint = element("p", "field-hint");
    const title = element("h4", "", "Take a snapshot");
    const take = element("button", "primary", "Take snapshot");
    take.type = "submit";
    form.append(title, this.name.wrap, this.description.wrap, this.memory.wrap,
                this.memoryHint, take);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    return form;
  }

  /** Show the snapshots of `vm` (a fleet VM), or nothing for null. */
  show(vm) {
    const other = vm?.uuid !== this.vm?.uuid || vm?.host !== this.vm?.host;
    this.vm = vm;
    if (!vm) {
      this.snapshots = [];
      this.tree.replaceChildren();
      return;
    }
    if (other) {
      this.say("");
      this.showCancel(null);
      this.name.control.value = "";
      this.description.control.value = "";
      this.snapshots = [];
      this.tree.replaceChildren();
    }
    this.offerActions();
    this.load();
  }

  /** Whether `vm` is the VM shown (the fleet hands a new object for it at each refresh). */
  shows(vm) {
    return Boolean(this.vm && vm && this.vm.uuid === vm.uuid && this.vm.host === vm.host);
  }

  /** Whether the user may act on the shown VM now (the server checks again). */
  operable() {
    return Boolean(this.vm?.operable && !this.vm.stale);
  }

  offerActions() {
    const vm = this.vm;
    this.form.hidden = !this.operable();
    // Only a running VM's snapshot keeps its memory; libvirt keeps a running VM's internal
    // snapshot only with it, so the box starts ticked there and is not offered elsewhere.
    const running = vm.state_name === "running";
    if (running !== this.wasRunning) this.memory.control.checked = running;
    this.wasRunning = running;
    this.memory.wrap.hidden = !running;
    this.memoryHint.textContent = running
      ? `${vm.name} runs: its snapshot keeps its memory; shut it down for its disks alone.`
      : `${vm.name} is not running: its snapshot keeps its disks alone.`;
  }

  /** Ask for the tree again and draw it. */
  async load() {
    const vm = this.vm;
    if (!vm) return;
    const number = ++this.asked;
    try {
      const path = `vm/${encodeURIComponent(vm.uuid)}/snapshots`;
      const { data } = await get(onHost(vm.host, path));
      if (number !== this.asked || !this.shows(vm)) return;
      this.snapshots = data;
      this.draw();
    } catch (problem) {
      if (number !== this.asked || problem.status === 401) return;
      this.say(`The snapshots of ${vm.name} could not be read: ${sentence(problem.message)}`,
               { error: true });
    }
  }

  draw() {
    // Redrawn rows drop the focused button (Revert… once a revert ends): its twin in the new
    // rows takes the focus, or, its snapshot gone, the name field of "Take a snapshot".
    const active = document.activeElement;
    const focused = this.tree.contains(active) ? active.getAttribute("aria-label") : null;
    this.empty.hidden = this.snapshots.length > 0;
    this.tree.replaceChildren(...withDepth(this.snapshots).map(
      ({ snapshot, level }) => this.row(snapshot, level)));
    if (focused === null) return;
    const twin = [...this.tree.querySelectorAll("button")]
      .find((one) => one.getAttribute("aria-label") === focused);
    (twin || this.name.control).focus({ preventScroll: Boolean(twin) });
  }

  row(snapshot, level) {
    const row = element("li", "snapshot");
    row.dataset.snapshot = snapshot.name;
    row.style.setProperty("--level", String(level));
    if (snapshot.current) row.classList.add("is-current");
    const head = element("div", "snapshot-head");
    const name = element("strong", "snapshot-name", snapshot.name);
    head.append(name);
    if (snapshot.current) {
      const mark = element("span", "badge", "current");
      mark.title = "The VM's disks now build on this snapshot";
      head.append(mark);
    }
    const facts = element("p", "snapshot-facts",
      `${snapshot.memory ? "memory and disks" : "disks only"}; taken `
      + `${takenWords(snapshot.created)}, while ${stateWords(snapshot.state)}`
      + (level ? `; after ${snapshot.parent}` : ""));
    row.append(head, facts);
    if (snapshot.description) row.append(element("p", "description", snapshot.description));
    if (this.operable()) {
      const tools = element("div", "snapshot-tools");
      const revert = element("button", "", "Revert…");
      revert.type = "button";
      revert.setAttribute("aria-label", `Revert to ${snapshot.name}`);
      revert.addEventListener("click", () => this.askRevert(snapshot));
      const remove = element("button", "danger", "Delete…");
      remove.type = "button";
      remove.setAttribute("aria-label", `Delete ${snapshot.name}`);
      remove.addEventListener("click", () => this.askDelete(snapshot));
      tools.append(revert, remove);
      row.append(tools);
    }
    return row;
  }

  async create() {
    const vm = this.vm;
    const name = this.name.control.value.trim();
    if (!this.name.control.checkValidity() || !name) {
      this.say("Give the snapshot a name of letters, digits, . _ and - (not starting with . "
               + "or -).", { error: true });
      this.name.control.focus();
      return;
    }
    const body = { name, memory: !this.memory.wrap.hidden && this.memory.control.checked };
    const description = this.description.control.value.trim();
    if (description) body.description = description;
    await this.start(vm, "snapshot", name, () => post(
      onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/snapshots`), body));
    if (this.shows(vm)) {
      this.name.control.value = "";
      this.description.control.value = "";
    }
  }

  async askRevert(snapshot) {
    const vm = this.vm;
    const answer = await this.dialog.ask({
      title: `Revert ${vm.name} to ${snapshot.name}?`,
      text: `${vm.name} goes back to how it was when ${snapshot.name} was taken. This `
        + `discards its present state: what its disks${vm.active ? " and memory" : ""} hold `
        + "now is lost, unless another snapshot keeps it.",
      choice: snapshot.memory ? "" : `Start ${vm.name} afterwards`,
      choiceNote: snapshot.memory ? `${snapshot.name} keeps the memory: ${vm.name} comes back `
        + `${stateWords(snapshot.state)}.` : "",
      confirmLabel: "Revert",
    });
    if (!answer) return;
    const path = `vm/${encodeURIComponent(vm.uuid)}/snapshots/`
      + `${encodeURIComponent(snapshot.name)}/revert`;
    await this.start(vm, "revert", snapshot.name, () => post(
      onHost(vm.host, path), { start: answer.choice }));
  }

  async askDelete(snapshot) {
    const vm = this.vm;
    const below = descendants(this.snapshots, snapshot.name);
    const answer = await this.dialog.ask({
      title: `Delete snapshot ${snapshot.name}?`,
      text: `${snapshot.name} of ${vm.name} is deleted for good; ${vm.name} itself stays as it `
        + "is." + (below.length ? ` Its children are kept under its parent unless you tick `
        + "the box." : ""),
      choice: below.length ? `Delete what was taken after it too (${below.join(", ")})` : "",
      confirmLabel: "Delete",
    });
    if (!answer) return;
    const path = `vm/${encodeURIComponent(vm.uuid)}/snapshots/`
      + `${encodeURIComponent(snapshot.name)}${answer.choice ? "?children=1" : ""}`;
    this.say(`Deleting ${snapshot.name}…`);
    try {
      const { data } = await del(onHost(vm.host, path));
      const removed = data.removed || [snapshot.name];
      if (this.shows(vm)) {
        this.say(removed.length > 1 ? `Deleted ${removed.join(", ")}.`
          : `Deleted snapshot ${snapshot.name}.`);
      }
    } catch (problem) {
      if (problem.status === 401) return;
      if (this.shows(vm)) {
        this.say(`${snapshot.name} was not deleted: ${sentence(problem.message)}`,
                 { error: true });
      }
    }
    if (this.shows(vm)) this.load();
  }

  /** Send the request that makes a task of `type` about snapshot `name`, then follow it. */
  async start(vm, type, name, send) {
    this.say(type === "snapshot" ? `Asking to take ${name}…` : `Asking to revert to ${name}…`);
    let task;
    try {
      task = (await send()).data;
    } catch (problem) {
      if (problem.status === 401) return;
      if (this.shows(vm)) {
        this.say(snapshotTaskWords({ type, state: "refused", error: problem.message }, vm, name),
                 { error: true });
      }
      return;
    }
    const followed = new FollowedTask(task, (now) => {
      if (ENDED.has(now.state)) this.follows.delete(followed);
      if (!this.shows(vm)) return;
      const ended = ENDED.has(now.state);
      const refusal = followed.refusal && !ended ? ` ${followed.refusal}` : "";
      this.say(snapshotTaskWords(now, vm, name) + refusal,
               { error: ended && now.state !== "done" });
      this.showCancel(ended || followed.refusal ? null : followed);
      if (ended) this.load();
    }, () => {
      // A revert changes the VM's state: the fleet and the detail should hear of it.
      if (type === "revert") this.changed(vm);
    });
    this.follows.add(followed);
    followed.begin();
  }

  showCancel(followed) {
    this.active = followed;
    this.cancelButton.hidden = !followed;
    this.cancelButton.disabled = false;
  }

  /** Ask the server to cancel the task followed now; it ends "cancelled" when it can. */
  async cancel() {
    const followed = this.active;
    if (!followed) return;
    this.cancelButton.disabled = true;
    try {
      await del(`tasks/${encodeURIComponent(followed.task.id)}`);
    } catch (problem) {
      if (problem.status === 401) return;
      // Ended meanwhile, or not to be stopped half-way: the server's reason, beside the task's
      // own words, which the next look at the task keeps.
      followed.refusal = `It could not be cancelled: ${sentence(problem.message)}`;
      if (this.active === followed) {
        this.say(`${this.message.textContent} ${followed.refusal}`);
        this.showCancel(null);
      }
    }
  }

  say(text, { error = false } = {}) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
    this.message.setAttribute("role", error ? "alert" : "status");
  }

  /** The session ended: stop following, close the question. */
  reset() {
    for (const followed of this.follows) followed.stop();
    this.follows.clear();
    this.showCancel(null);
    this.dialog.close();
    this.show(null);
  }
}
