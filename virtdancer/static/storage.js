// The Storage view of one host: its pools (type, state, autostart, how full, how many
// volumes) and the chosen pool's volumes (volumes.js). Admins also define a `dir` pool, start,
// stop, refresh, switch autostart and delete pools; a refusal (a pool whose volumes a VM uses)
// is shown in the server's words. Viewers and operators see the same without any button.

import { del, post } from "./api.js";
import { nameProblem } from "./checks.js";
import { confirmAction } from "./confirm.js";
import {
  DONE_WORDS, button, cell, element, field, input, keepingFocus, sendSaying, statusLine, table,
} from "./dom.js";
import { bytes, yesNo } from "./format.js";
import { HostPage } from "./hostpage.js";
import { VolumesPanel } from "./volumes.js";

/** How full a pool is, as a bar (a <meter>) and in words. */
function space(pool) {
  const wrap = element("div", "space");
  if (!pool.capacity) {
    wrap.textContent = pool.active ? "—" : "not running";
    return wrap;
  }
  const words = `${bytes(pool.allocation)} of ${bytes(pool.capacity)} used, `
    + `${bytes(pool.available)} free`;
  const meter = element("meter");
  meter.min = 0;
  meter.max = pool.capacity;
  meter.value = pool.allocation;
  meter.high = pool.capacity * 0.9;
  meter.optimum = 0;
  meter.setAttribute("aria-label", `${pool.name}: ${words}`);
  wrap.append(meter, element("span", "space-words", words));
  return wrap;
}

export class StorageView extends HostPage {
  constructor(root) {
    super(root, "Storage", "pool");
    this.chosen = "";        // the pool whose volumes are shown
    const head = element("div", "panel-head");
    const title = element("h2", "", "Storage");
    title.id = "storage-title";
    title.tabIndex = -1;   // keepingFocus's place when a pool's row is gone
    this.title = title;
    head.append(title, button("Refresh", () => this.load(), { className: "refresh" }));
    this.note = element("p", "muted read-only",
                        "You may look: pools and volumes are changed by admins.");
    this.message = statusLine();
    this.form = this.poolForm();
    this.pools = table("pools", "Storage pools", ["Pool", "Type", "State", "Autostart", "Space",
                                                  "Volumes", { text: "Actions", hidden: true }]);
    const scroll = element("div", "listing-wrap");
    scroll.append(this.pools.table);
    this.empty = element("p", "muted", "This host has no storage pools.");
    this.empty.hidden = true;
    this.volumes = new VolumesPanel(() => this.load());
    root.append(head, this.note, scroll, this.empty, this.message, this.form, this.volumes.root);
  }

  poolForm() {
    const form = element("form", "add-form");
    form.noValidate = true;
    form.dataset.poolForm = "";
    const name = input("pool-name", "name", { maxlength: 64, placeholder: "isos" });
    const path = input("pool-path", "path", { placeholder: "/var/lib/libvirt/isos" });
    const heading = element("h3", "", "Define a directory pool");
    form.append(heading, field("Name", name), field("Folder on the host", path,
                                                    "made when it does not exist"),
                button("Define pool", null, { className: "primary", type: "submit" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.define();
    });
    return form;
  }

  forget() {
    super.forget();
    this.chosen = "";
    this.pools.body.replaceChildren();
  }

  /** The session ended: hidden, and an upload under way is cancelled (merely hidden, as
   * when another view is shown, an upload goes on: its progress is there on coming back). */
  end() {
    this.hide();
    this.volumes.stop();
  }

  /** List the pools and the chosen one's volumes; unless `fresh`, only what changed. */
  async load(fresh = true) {
    await this.ask("pools", "The pools", async (data) => {
      if (!data.some((pool) => pool.name === this.chosen)) this.chosen = data[0]?.name || "";
      const answer = JSON.stringify([this.chosen, data]);
      if (fresh || answer !== this.shown) this.render(data);
      this.shown = answer;
      const pool = data.find((one) => one.name === this.chosen);
      await this.volumes.show(this.host, pool, this.admin, fresh);
    });
  }

  render(pools) {
    keepingFocus(this.pools.body, () => this.draw(pools), this.title);
  }

  draw(pools) {
    this.pools.table.querySelector("th:last-child").hidden = !this.admin;
    this.empty.hidden = pools.length > 0;
    this.pools.table.hidden = pools.length === 0;
    this.pools.body.replaceChildren(...pools.map((pool) => {
      const row = element("tr");
      row.dataset.pool = pool.name;
      // Its name shows its volumes; pressed is the pool whose volumes are shown.
      const choose = button(pool.name, () => this.choose(pool.name), { className: "link" });
      choose.title = `Show the volumes of ${pool.name}`;
      choose.setAttribute("aria-pressed", String(pool.name === this.chosen));
      row.classList.toggle("is-chosen", pool.name === this.chosen);
      row.append(cell(choose, "", "name"), cell(pool.type, "Type"),
                 cell(pool.state, "State", `pool-state is-${pool.active ? "on" : "off"}`),
                 cell(yesNo(pool.autostart), "Autostart"), cell(space(pool), "Space"),
                 cell(pool.active ? String(pool.volumes ?? "—") : "—", "Volumes"));
      if (this.admin) row.append(cell(this.poolButtons(pool), "", "row-actions"));
      return row;
    }));
  }

  poolButtons(pool) {
    const group = element("div", "row-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Actions on ${pool.name}`);
    // Each button's name for screen readers is its text and what it acts on: "Stop default".
    const act = (text, action) => button(text, () => this.act(pool, action, text),
                                         { label: `${text} ${pool.name}` });
    if (pool.active) {
      group.append(act("Stop", "stop"), act("Refresh", "refresh"));
    } else {
      group.append(act("Start", "start"));
    }
    group.append(pool.autostart
      ? act("No autostart", "noautostart")
      : act("Autostart", "autostart"));
    group.append(button("Delete", () => this.remove(pool),
                        { className: "danger", label: `Delete ${pool.name}` }));
    return group;
  }

  choose(name) {
    this.chosen = name;
    this.load();
  }

  async define() {
    const name = this.form.elements.name.value.trim();
    const path = this.form.elements.path.value.trim();
    const problem = nameProblem(name, "pool")
      || (path.startsWith("/") ? "" : "Give the pool's folder as an absolute path: /srv/isos.");
    if (problem) {
      this.message.say(problem, { error: true });
      (problem.includes("folder") ? this.form.elements.path : this.form.elements.name).focus();
      return;
    }
    const made = await this.send(`Defining ${name}…`,
                                 () => post(this.on("pools"), { name, path }),
                                 `Pool ${name} defined and started.`,
                                 `${name} could not be defined`);
    if (made) {
      this.form.reset();
      this.chosen = name;
    }
    this.load();
  }

  async act(pool, action, text) {
    await this.send(`${text}: asking for ${pool.name}…`,
                    () => post(this.on(`pools/${encodeURIComponent(pool.name)}/action`),
                               { action }),
                    `${pool.name} ${DONE_WORDS[action]}.`,
                    `Could not ${text.toLowerCase()} ${pool.name}`);
    this.load();
  }

  async remove(pool) {
    const sure = await confirmAction({
      title: `Delete the pool ${pool.name}?`,
      text: `${pool.name} is stopped and its definition removed. Its folder ${pool.path || ""} `
        + "and the files in it stay on the host.",
      confirmLabel: "Delete pool",
    });
    if (!sure) return;
    await this.send(`Deleting ${pool.name}…`,
                    () => del(this.on(`pools/${encodeURIComponent(pool.name)}`)),
                    `Pool ${pool.name} deleted.`, `${pool.name} was not deleted`);
    this.load();
  }

  /** Run one request, saying what happens and then how it went; true when it worked. */
  send(doing, call, done, failed) {
    return sendSaying(this.message, doing, call, done, failed);
  }
}
