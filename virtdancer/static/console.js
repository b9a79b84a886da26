// The console page: asks VirtDancer for a one-time ticket to the VM's display, then lets noVNC
// speak VNC over a WebSocket to the console proxy. `console?host=<name>&vm=<uuid>` names the
// VM and its host; without `host`, the VM is on the default host (the first VirtDancer's URL).
// noVNC comes from the npm registry at set-up (or Debian's novnc), never from this repository.
// The page names its VM (heading and tab title), says in a sentence why it cannot connect when
// it cannot, and offers to try again: a ticket is good once, so each try asks for a new one.

import RFB from "../novnc/core/rfb.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";

const HEADERS = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };
const $ = (selector) => document.querySelector(selector);

class CannotConnect extends Error {}

function status(text, state = "ok") {
  const line = $("[data-console-status]");
  line.textContent = text;
  line.dataset.state = state;
  $("[data-console-retry]").hidden = state !== "error";
}

async function json(method, path, headers = {}) {
  const response = await fetch(path, { method, headers: { ...HEADERS, ...headers },
                                       credentials: "same-origin", cache: "no-store" });
  let body = {};
  try { body = await response.json(); } catch { /* a proxy's HTML page: no message */ }
  return { status: response.status, body };
}

// The VM's own URL on its host (or on the default host, as the first VirtDancer's).
function vmPath(host, uuid, rest = "") {
  const path = `vm/${encodeURIComponent(uuid)}${rest}`;
  return host ? onHost(host, path) : path;
}

/** Why an answer refused the console, as a sentence for the page. */
function refusal(answer, name) {
  const message = String(answer.body.message || "");
  const said = message ? ` ${sentence(message[0].toUpperCase() + message.slice(1))}` : "";
  if (answer.status === 401) return "You are not logged in: log in on the fleet page first.";
  if (answer.status === 403) return `You may not open the console of ${name}.`;
  if (answer.status === 404) return `${name} does not exist, or you may not see it.`;
  if (answer.status === 409) return `${name}'s display cannot be opened now.${said}`;
  if (answer.status === 501) return `Consoles are not set up on this VirtDancer.${said}`;
  if (answer.status === 503) return `Its host does not answer.${said}`;
  return `VirtDancer could not open the console (HTTP ${answer.status}).${said}`;
}

class ConsolePage {
  constructor(host, uuid) {
    this.host = host;
    this.uuid = uuid;
    this.name = "the VM";
    this.rfb = null;
    $("[data-ctrl-alt-del]").addEventListener("click", () => this.rfb?.sendCtrlAltDel());
    $("[data-console-retry]").addEventListener("click", () => this.connect());
  }

  // The VM's name, for the heading and the tab's title; the UUID until it is known.
  async learnName() {
    const answer = await json("GET", vmPath(this.host, this.uuid));
    if (answer.status === 200 && answer.body.name) this.name = answer.body.name;
    const where = this.host ? ` on ${this.host}` : "";
    $("[data-console-title]").textContent = `Console of ${this.name}${where}`;
    document.title = `${this.name} — console — VirtDancer`;
  }

  async ticket() {
    const session = await json("GET", "session");
    if (!session.body.user) {
      throw new CannotConnect("You are not logged in: log in on the fleet page first.");
    }
    const answer = await json("POST", vmPath(this.host, this.uuid, "/console"),
                              { "X-CSRF-Token": session.body.csrf_token });
    if (answer.status !== 200) throw new CannotConnect(refusal(answer, this.name));
    return answer.body;
  }

  async connect() {
    this.rfb?.disconnect();
    this.rfb = null;
    $("[data-ctrl-alt-del]").disabled = true;
    status("connecting…");
    let url;
    try {
      await this.learnName();
      ({ url } = await this.ticket());
    } catch (problem) {
      const why = problem instanceof CannotConnect ? problem.message
        : `VirtDancer cannot be reached (${problem.message}).`;
      status(`Cannot connect to ${this.name}'s display. ${why}`, "error");
      return;
    }
    const rfb = new RFB($("[data-console-screen]"), url);
    this.rfb = rfb;
    rfb.scaleViewport = true;
    rfb.resizeSession = false;
    rfb.addEventListener("connect", () => {
      status("connected");
      $("[data-ctrl-alt-del]").disabled = false;
    });
    rfb.addEventListener("disconnect", (event) => {
      if (this.rfb !== rfb) return;   // an earlier try, ended by a retry
      $("[data-ctrl-alt-del]").disabled = true;
      status(event.detail.clean
        ? `Disconnected from ${this.name}'s display: the VM stopped or the display closed.`
        : `The connection to ${this.name}'s display was lost: the console proxy or the `
          + "network went away.", "error");
    });
  }
}

function start() {
  const query = new URLSearchParams(location.search);
  const uuid = query.get("vm");
  if (!uuid) {
    status("No VM is named in this page's address: open the console from the fleet page.",
           "error");
    $("[data-console-retry]").hidden = true;
    return;
  }
  new ConsolePage(query.get("host"), uuid).connect();
}

start();
