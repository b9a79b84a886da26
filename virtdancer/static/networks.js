// The Networks view of one host: each virtual network's state, autostart, bridge, forward
// mode, addresses and DHCP range, and its DHCP leases when the server sends them (to admins).
// Admins also define a NAT network (checked here before sending), start, stop, switch
// autostart and delete one; a refusal (a network running VMs use) is shown in the server's
// words. Viewers and operators see the same without any button.

import { del, post } from "./api.js";
import { nameProblem, subnetProblem } from "./checks.js";
import { confirmAction } from "./confirm.js";
import {
  DONE_WORDS, button, cell, element, field, input, keepingFocus, sendSaying, statusLine, table,
} from "./dom.js";
import { yesNo } from "./format.js";
import { HostPage } from "./hostpage.js";

function addresses(network) {
  return (network.ips || []).map((ip) => `${ip.address}/${ip.prefix}`).join(", ") || "—";
}

function dhcp(network) {
  const ranges = (network.ips || []).filter((ip) => ip.dhcp_start)
    .map((ip) => `${ip.dhcp_start} – ${ip.dhcp_end}`);
  return ranges.join(", ") || "none";
}

/** A network's leases: a list, "none", or that the host does not tell. */
function leases(network) {
  if (network.leases === null) return "not reported by this host";
  if (!network.leases.length) return "none";
  const list = element("ul", "leases");
  list.append(...network.leases.map((lease) => element(
    "li", "", [lease.ip, lease.mac, lease.hostname].filter(Boolean).join(" · "))));
  return list;
}

export class NetworksView extends HostPage {
  constructor(root) {
    super(root, "Networks", "network");
    const head = element("div", "panel-head");
    this.title = element("h2", "", "Networks");
    this.title.id = "networks-title";
    this.title.tabIndex = -1;   // keepingFocus's place when a network's row is gone
    head.append(this.title, button("Refresh", () => this.load(), { className: "refresh" }));
    this.note = element("p", "muted read-only", "You may look: networks are changed by admins.");
    this.message = statusLine();
    this.form = this.networkForm();
    this.scroll = element("div", "listing-wrap");
    this.empty = element("p", "muted", "This host has no virtual networks.");
    this.empty.hidden = true;
    root.append(head, this.note, this.scroll, this.empty, this.message, this.form);
  }

  networkForm() {
    const form = element("form", "add-form");
    form.noValidate = true;
    form.dataset.networkForm = "";
    form.append(
      element("h3", "", "Define a NAT network"),
      field("Name", input("network-name", "name", { maxlength: 64, placeholder: "lab" })),
      field("Subnet", input("network-subnet", "subnet", { placeholder: "10.0.5.0/24" }),
            "the gateway is its first address"),
      field("DHCP from", input("network-dhcp-start", "dhcp_start",
                               { placeholder: "upper half if empty" })),
      field("DHCP to", input("network-dhcp-end", "dhcp_end",
                             { placeholder: "upper half if empty" })),
      button("Define network", null, { className: "primary", type: "submit" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.define();
    });
    return form;
  }

  forget() {
    super.forget();
    this.scroll.replaceChildren();
  }

  /** List the networks; unless `fresh`, redraw only when the answer changed. */
  async load(fresh = true) {
    await this.ask("networks", "The networks", (data) => {
      const answer = JSON.stringify(data);
      if (fresh || answer !== this.shown) this.render(data);
      this.shown = answer;
    });
  }

  render(networks) {
    keepingFocus(this.scroll, () => this.draw(networks), this.title);
  }

  draw(networks) {
    // Leases come to admins only: the column is there when the answer has them.
    const withLeases = networks.some((network) => "leases" in network);
    const headings = ["Network", "State", "Autostart", "Bridge", "Forward", "Addresses", "DHCP"];
    if (withLeases) headings.push("Leases");
    if (this.admin) headings.push({ text: "Actions", hidden: true });
    const { table: made, body } = table("networks-list", "Virtual networks", headings);
    body.append(...networks.map((network) => {
      const row = element("tr");
      row.dataset.network = network.name;
      const active = network.state === "active";
      row.append(cell(network.name, "", "name"),
                 cell(network.state, "State", `net-state is-${active ? "on" : "off"}`),
                 cell(yesNo(network.autostart), "Autostart"),
                 cell(network.bridge || "—", "Bridge", "mono nowrap"),
                 cell(network.forward || "isolated", "Forward"),
                 cell(addresses(network), "Addresses", "mono nowrap"),
                 cell(dhcp(network), "DHCP", "mono"));
      if (withLeases) row.append(cell(leases(network), "Leases"));
      if (this.admin) row.append(cell(this.networkButtons(network, active), "", "row-actions"));
      return row;
    }));
    this.scroll.replaceChildren(made);
    made.hidden = networks.length === 0;
    this.empty.hidden = networks.length > 0;
  }

  networkButtons(network, active) {
    const group = element("div", "row-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Actions on ${network.name}`);
    // Each button's name for screen readers is its text and what it acts on: "Stop default".
    const act = (text, action) => button(text, () => this.act(network, action, text),
                                         { label: `${text} ${network.name}` });
    group.append(active ? act("Stop", "stop") : act("Start", "start"),
                 network.autostart ? act("No autostart", "noautostart")
                   : act("Autostart", "autostart"),
                 button("Delete", () => this.remove(network),
                        { className: "danger", label: `Delete ${network.name}` }));
    return group;
  }

  async define() {
    const fields = this.form.elements;
    for (const control of fields) control.removeAttribute?.("aria-invalid");
    const body = { name: fields.name.value.trim(), subnet: fields.subnet.value.trim(),
                   start: true };
    for (const bound of ["dhcp_start", "dhcp_end"]) {
      if (fields[bound].value.trim()) body[bound] = fields[bound].value.trim();
    }
    let problem = nameProblem(body.name, "network");
    let wrong = "name";
    if (!problem) ({ problem, field: wrong } = subnetProblem(body.subnet, body.dhcp_start,
                                                              body.dhcp_end));
    if (problem) {
      this.message.say(problem, { error: true });
      fields[wrong].setAttribute("aria-invalid", "true");
      fields[wrong].focus();
      return;
    }
    const made = await sendSaying(this.message, `Defining ${body.name}…`,
                                  () => post(this.on("networks"), body),
                                  `Network ${body.name} defined and started.`,
                                  `${body.name} could not be defined`);
    if (made) this.form.reset();
    this.load();
  }

  async act(network, action, text) {
    await sendSaying(this.message, `${text}: asking for ${network.name}…`,
                     () => post(this.on(`networks/${encodeURIComponent(network.name)}/action`),
                                { action }),
                     `${network.name} ${DONE_WORDS[action]}.`,
                     `Could not ${text.toLowerCase()} ${network.name}`);
    this.load();
  }

  async remove(network) {
    const sure = await confirmAction({
      title: `Delete the network ${network.name}?`,
      text: `${network.name} is stopped and its definition removed. VMs with a NIC on it `
        + "cannot start until it is back.",
      confirmLabel: "Delete network",
    });
    if (!sure) return;
    await sendSaying(this.message, `Deleting ${network.name}…`,
                     () => del(this.on(`networks/${encodeURIComponent(network.name)}`)),
                     `Network ${network.name} deleted.`, `${network.name} was not deleted`);
    this.load();
  }
}
