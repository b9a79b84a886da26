// The CPU % column of the fleet table: every VM's newest CPU use at once, from `GET metrics`
// (the sampler's last round, the VMs the user sees), read every few seconds. The fleet's own
// listing leaves CPU figures out on purpose: they change at every round and would turn each
// of its cheap 304s into a full answer.

import { vmKey } from "./hosts.js";
import { Poller } from "./poll.js";

const LINE = /^virtdancer_vm_cpu_percent\{([^}]*)\}\s+(\S+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** key ("host/uuid") → CPU % of each VM in a Prometheus text answer. */
export function cpuFigures(text) {
  const figures = new Map();
  for (const line of text.split("\n")) {
    const found = LINE.exec(line);
    if (!found) continue;
    const labels = Object.fromEntries([...found[1].matchAll(LABEL)].map((m) => [m[1], m[2]]));
    const value = Number(found[2]);
    if (labels.host && labels.uuid && Number.isFinite(value)) {
      figures.set(vmKey({ host: labels.host, uuid: labels.uuid }), value);
    }
  }
  return figures;
}

export class CpuColumn {
  /** told(figures): the newest figures, a Map key → percent. */
  constructor(told, intervalMs) {
    this.told = told;
    this.poller = new Poller(() => this.refresh(), intervalMs);
  }

  start() {
    this.poller.start();
  }

  stop() {
    this.poller.stop();
  }

  set intervalMs(ms) {
    this.poller.intervalMs = ms;
  }

  async refresh() {
    let response;
    try {
      response = await fetch("metrics", { credentials: "same-origin", cache: "no-store",
                                          headers: { "X-Requested-With": "XMLHttpRequest" } });
    } catch {
      return undefined;   // unreachable: main.js says so, once
    }
    // Not this user's (a 401 ends the session through the other requests): keep quiet.
    if (!response.ok) return undefined;
    this.told(cpuFigures(await response.text()));
    return undefined;
  }
}
