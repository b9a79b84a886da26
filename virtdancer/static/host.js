// The host panel: live charts of the host's CPU, memory and network traffic, from
// `stats/cpu?history=1`, `stats/mem?history=1` and `stats/nic?history=1`.
//
// Network counters exist only when libvirt runs on VirtDancer's own machine; elsewhere (the
// demo's test driver, a remote host) `stats/nic` answers 501, and Chromium logs every 4xx/5xx
// answer in the console. So the page asks only when it has reason to believe the answer is
// there: swap figures come from the same machine-local source (API.md: they are null unless
// libvirt runs on VirtDancer's machine). With swap known it asks once, and a 501 then still
// settles it for good: the chart says "not available for this host" and the page asks no more.

import { get } from "./api.js";
import { LineChart } from "./charts.js";
import { bytes, percent, rate } from "./format.js";
import { Poller } from "./poll.js";

const POLL_MS = 3000;
const NOT_AVAILABLE = "not available for this host";

const field = (key) => (sample) => sample[key] ?? null;

function difference(minuend, ...subtrahends) {
  return (sample) => {
    const values = [minuend, ...subtrahends].map((key) => sample[key]);
    if (values.some((value) => value === null || value === undefined)) return null;
    return values.slice(1).reduce((rest, value) => rest - value, values[0]);
  };
}

// The sum of every interface's rate in one direction ("_rx" or "_tx"), null if none is known.
function sumOf(suffix) {
  return (sample) => {
    let total = null;
    for (const [key, value] of Object.entries(sample)) {
      if (key.endsWith(suffix) && Number.isFinite(value)) total = (total ?? 0) + value;
    }
    return total;
  };
}

function interfacesOf(samples) {
  const names = new Set();
  for (const sample of samples) {
    for (const key of Object.keys(sample)) {
      if (key.endsWith("_rx") || key.endsWith("_tx")) names.add(key.slice(0, -3));
    }
  }
  return [...names].sort();
}

export class HostPanel {
  constructor(root) {
    this.note = root.querySelector("[data-host-note]");
    this.cpu = new LineChart({
      key: "host-cpu", title: "CPU", max: 100, format: percent,
      series: [{ label: "total", value: field("total") }, { label: "user", value: field("usr") },
               { label: "system", value: field("sys") },
               { label: "I/O wait", value: field("iowait") },
               // Known only when libvirt runs on VirtDancer's machine; "—" elsewhere.
               { label: "steal", value: field("steal") },
               { label: "interrupts", value: field("irq") }],
    });
    this.memory = new LineChart({
      key: "host-memory", title: "Memory", bytes: true, format: bytes,
      max: (samples) => {
        const newest = samples.at(-1) || {};
        return Math.max(newest.memTotal ?? 0, newest.swapTotal ?? 0) || undefined;
      },
      note: (samples) => {
        const total = samples.at(-1)?.memTotal;
        return Number.isFinite(total) ? `${bytes(total)} in all` : "";
      },
      series: [{ label: "used", value: difference("memTotal", "memFree") },
               { label: "swap used", value: difference("swapTotal", "swapFree") }],
    });
    this.nic = new LineChart({
      key: "host-network", title: "Network", bytes: true, format: rate,
      note: (samples) => interfacesOf(samples).join(", "),
      series: [{ label: "received", value: sumOf("_rx") }, { label: "sent", value: sumOf("_tx") }],
    });
    this.nic.element.dataset.hostNic = "";
    root.querySelector("[data-host-charts]")
      .replaceChildren(this.cpu.element, this.memory.element, this.nic.element);
    this.poller = new Poller(() => this.refresh(), POLL_MS);
    this.reset();
  }

  reset() {
    // null: not known yet; true: ask for it on every poll; false: never ask again.
    this.nicAvailable = null;
    for (const chart of [this.cpu, this.memory, this.nic]) chart.clear();
    this.note.textContent = "";
  }

  start() {
    this.poller.start();
  }

  stop() {
    this.poller.stop();
    this.reset();
  }

  async refresh() {
    const [cpu, memory] = await Promise.allSettled([
      get("stats/cpu?history=1"), get("stats/mem?history=1"),
    ]);
    this.show(this.cpu, cpu);
    this.show(this.memory, memory);
    const failed = [cpu, memory].find((answer) => answer.status === "rejected");
    this.note.textContent = failed ? `Statistics unavailable: ${failed.reason.message}` : "";

    if (this.nicAvailable === null && memory.status === "fulfilled") {
      const newest = memory.value.data.samples.at(-1);
      if (newest) this.nicAvailable = Number.isFinite(newest.swapTotal) ? true : false;
      if (this.nicAvailable === false) this.nic.clear(NOT_AVAILABLE);
    }
    if (this.nicAvailable) {
      try {
        const { data } = await get("stats/nic?history=1&filter=physical");
        this.nic.update(data);
      } catch (problem) {
        if (problem.status === 501) {
          this.nicAvailable = false;
          this.nic.clear(NOT_AVAILABLE);
        } else {
          this.nic.clear(`no data: ${problem.message}`);
        }
      }
    }
    if (failed && failed.reason.status === 401) this.poller.stop();
    return failed?.reason.retryAfter ? failed.reason.retryAfter * 1000 : undefined;
  }

  show(chart, answer) {
    if (answer.status === "fulfilled") chart.update(answer.value.data);
    else chart.clear(`no data: ${answer.reason.message}`);
  }
}
