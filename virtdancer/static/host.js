// The host panel: live charts of one host's CPU, memory and network traffic, from
// `hosts/<name>/stats/cpu?history=1`, `.../stats/mem?history=1` and `.../stats/nic?history=1`.
// With several hosts, a chooser in the panel's heading says which one; the page points the
// panel at the selected VM's host, or at the host the fleet list is filtered to. A host that
// does not answer is not asked at all (each request would be a 503): the panel says why.
//
// Network counters exist only when libvirt runs on VirtDancer's own machine; elsewhere (the
// demo's test driver, a remote host) `stats/nic` answers 501, and Chromium logs every 4xx/5xx
// answer in the console. So the page asks only when it has reason to believe the answer is
// there: swap figures come from the same machine-local source (API.md: they are null unless
// libvirt runs on VirtDancer's machine). With swap known it asks once, and a 501 then still
// settles it for good: the chart says "not available for this host" and the page asks no more.

import { get } from "./api.js";
import { LineChart, spanMenu } from "./charts.js";
import { bytes, percent, rate } from "./format.js";
import { SampleWindow } from "./history.js";
import { answers, notAnswering, onHost, sinceWords, stateWords, whyNot } from "./hosts.js";
import { hostStateIcon } from "./icons.js";
import { Poller } from "./poll.js";

const POLL_MS = 3000;
const NOT_AVAILABLE = "not available for this host";
// The server keeps the whole host's figures from users who do not see every VM of it (403).
const NOT_YOURS = "not shown to you";
const NOT_YOURS_WHY = "The whole host's CPU, memory and network are shown only to users who "
  + "see every VM of it: they tell of the other VMs too.";

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
  /** root: the [data-host] section; onChoose(name) when someone picks a host in its chooser. */
  constructor(root, onChoose) {
    this.note = root.querySelector("[data-host-note]");
    this.state = root.querySelector("[data-host-state]");
    this.nameLabel = root.querySelector("[data-host-name]");
    this.chooser = root.querySelector("[data-host-choice]");
    this.chooser.querySelector("select").addEventListener("change", (event) => {
      onChoose(event.target.value);
    });
    this.host = null;   // the host charted: a `GET fleet` host
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
    const charts = root.querySelector("[data-host-charts]");
    charts.replaceChildren(this.cpu.element, this.memory.element, this.nic.element);
    charts.before(spanMenu("host-chart-span"));
    this.poller = new Poller(() => this.refresh(), POLL_MS);
    this.reset();
  }

  reset() {
    // null: not known yet; true: ask for it on every poll; false: never ask again.
    this.nicAvailable = null;
    // Each chart's history: whole once, then only what is new.
    this.windows = new Map([this.cpu, this.memory, this.nic]
      .map((chart) => [chart, new SampleWindow()]));
    for (const chart of [this.cpu, this.memory, this.nic]) chart.clear();
    this.note.textContent = "";
  }

  /**
   * Chart the host named `name`, one of `hosts` (a `GET fleet` answer's): polled while it
   * answers, left alone while it does not.
   */
  follow(hosts, name) {
    const host = hosts.find((one) => one.name === name) || null;
    this.offer(hosts, host);
    const changed = host?.name !== this.host?.name;
    const wasAnswering = answers(this.host);
    this.host = host;
    if (changed) {
      this.poller.stop();
      this.reset();
    }
    this.showState();
    const wasYours = this.yours;
    this.yours = host?.host_figures !== false;
    if (!answers(host)) {
      this.poller.stop();
      const why = host ? `no data: ${notAnswering(host)}` : "no data";
      for (const chart of [this.cpu, this.memory, this.nic]) {
        chart.clear(why);
        this.windows.get(chart).reset();
      }
      this.note.textContent = host ? whyNot(host) : "";
      this.note.classList.add("is-reason");
    } else if (!this.yours) {
      this.notYours();
    } else if (changed || !wasAnswering || !wasYours) {
      this.note.textContent = "";
      this.note.classList.remove("is-reason");
      this.poller.start();
    }
  }

  // The chooser, with one option per host, shown only when there is more than one.
  offer(hosts, host) {
    const select = this.chooser.querySelector("select");
    const names = hosts.map((one) => one.name);
    if ([...select.options].map((option) => option.value).join(" ") !== names.join(" ")) {
      select.replaceChildren(...names.map((name) => new Option(name, name)));
    }
    if (host) select.value = host.name;
    this.chooser.hidden = hosts.length < 2;
    // With one host, its name stands in the heading instead.
    this.nameLabel.textContent = hosts.length < 2 && host ? host.name : "";
  }

  // The user does not see every VM of the host: its figures are not theirs to see (API.md).
  notYours() {
    this.poller.stop();
    for (const chart of [this.cpu, this.memory, this.nic]) chart.clear(NOT_YOURS);
    this.note.classList.remove("is-reason");
    this.note.textContent = NOT_YOURS_WHY;
  }

  showState() {
    const host = this.host;
    if (!host) {
      this.state.replaceChildren();
      return;
    }
    const state = document.createElement("span");
    state.className = `host-state host-${host.state}`;
    state.append(hostStateIcon(host.state), document.createTextNode(stateWords(host)));
    const about = document.createElement("span");
    about.className = "muted";
    about.textContent = [sinceWords(host), answers(host) && host.type
      ? `${host.type} ${host.version ?? ""}`.trim() : ""].filter(Boolean).join(" · ");
    this.state.replaceChildren(state, about);
  }

  /** Resolves once a request on its way has come back. */
  idle() {
    return this.poller.idle();
  }

  stop() {
    this.poller.stop();
    this.host = null;
    this.reset();
    this.showState();
  }

  // The panel was pointed at another host (or its host stopped answering) during a request.
  repointed(host) {
    return host.name !== this.host?.name || !answers(this.host);
  }

  async refresh() {
    const host = this.host;
    if (!answers(host)) return undefined;
    const on = (path) => onHost(host.name, path);
    const ask = (chart, path) => {
      const since = this.windows.get(chart).since();
      return get(on(`${path}${since}`)).then((answer) => ({ ...answer, since }));
    };
    const [cpu, memory] = await Promise.allSettled([
      ask(this.cpu, "stats/cpu?history=1"), ask(this.memory, "stats/mem?history=1"),
    ]);
    if (this.repointed(host)) return undefined;
    // VirtDancer unreachable: the page says so once (main.js); the charts keep what they had.
    if ([cpu, memory].some((answer) => answer.reason?.status === 0)) return undefined;
    if ([cpu, memory].some((answer) => answer.reason?.status === 403)) {
      this.notYours();   // the listing said otherwise a moment ago: the VMs changed meanwhile
      return undefined;
    }
    this.show(this.cpu, cpu);
    this.show(this.memory, memory);
    const failed = [cpu, memory].find((answer) => answer.status === "rejected");
    this.note.classList.remove("is-reason");
    this.note.textContent = failed ? `Statistics unavailable: ${failed.reason.message}` : "";

    if (this.nicAvailable === null && memory.status === "fulfilled") {
      const newest = this.windows.get(this.memory).data?.samples.at(-1);
      if (newest) this.nicAvailable = Number.isFinite(newest.swapTotal) ? true : false;
      if (this.nicAvailable === false) this.nic.clear(NOT_AVAILABLE);
    }
    if (this.nicAvailable) {
      try {
        const answer = await ask(this.nic, "stats/nic?history=1&filter=physical");
        if (!this.repointed(host)) this.show(this.nic, { status: "fulfilled", value: answer });
      } catch (problem) {
        if (problem.status === 501) {
          this.nicAvailable = false;
          this.nic.clear(NOT_AVAILABLE);
        } else if (problem.status !== 0) {
          this.nic.clear(`no data: ${problem.message}`);
          this.windows.get(this.nic).reset();
        }
      }
    }
    if (failed && failed.reason.status === 401) this.poller.stop();
    return failed?.reason.retryAfter ? failed.reason.retryAfter * 1000 : undefined;
  }

  show(chart, answer) {
    const held = this.windows.get(chart);
    if (answer.status === "fulfilled") {
      chart.update(held.take(answer.value.data, answer.value.since));
    } else {
      chart.clear(`no data: ${answer.reason.message}`);
      held.reset();
    }
  }
}
