// The console page: asks VirtDancer for a one-time ticket to the VM's display, then lets noVNC
// speak VNC over a WebSocket to the console proxy. `console?host=<name>&vm=<uuid>` names the
// VM and its host; without `host`, the VM is on the default host (the first VirtDancer's URL).
// noVNC comes from the npm registry at set-up (or Debian's novnc), never from this repository.

import RFB from "../novnc/core/rfb.js";
import { onHost } from "./hosts.js";

const HEADERS = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };
const $ = (selector) => document.querySelector(selector);

function status(text, state = "ok") {
  const line = $("[data-console-status]");
  line.textContent = text;
  line.dataset.state = state;
}

async function json(method, path, headers = {}) {
  const response = await fetch(path, { method, headers: { ...HEADERS, ...headers },
                                       credentials: "same-origin", cache: "no-store" });
  return { status: response.status, body: await response.json() };
}

async function ticket(host, uuid) {
  const session = await json("GET", "session");
  if (!session.body.user) throw new Error("not logged in: log in on the fleet page first");
  const vm = `vm/${encodeURIComponent(uuid)}/console`;
  const answer = await json("POST", host ? onHost(host, vm) : vm,
                            { "X-CSRF-Token": session.body.csrf_token });
  if (answer.status !== 200) throw new Error(answer.body.message || `HTTP ${answer.status}`);
  return answer.body;
}

async function start() {
  const query = new URLSearchParams(location.search);
  const uuid = query.get("vm");
  if (!uuid) { status("no VM given: open the console from the fleet page", "error"); return; }
  let rfb;
  try {
    const { url } = await ticket(query.get("host"), uuid);
    rfb = new RFB($("[data-console-screen]"), url);
  } catch (problem) {
    status(`cannot open the console: ${problem.message}`, "error");
    return;
  }
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.addEventListener("connect", () => {
    status("connected");
    $("[data-ctrl-alt-del]").disabled = false;
  });
  rfb.addEventListener("disconnect", (event) => {
    $("[data-ctrl-alt-del]").disabled = true;
    status(event.detail.clean ? "disconnected" : "the connection was lost", "error");
  });
  rfb.addEventListener("desktopname", (event) => {
    $("[data-console-title]").textContent = `Console — ${event.detail.name}`;
  });
  $("[data-ctrl-alt-del]").addEventListener("click", () => rfb.sendCtrlAltDel());
}

start();
