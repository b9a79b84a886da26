// Live charts of the selected VM — CPU, memory, disk and network — from its host's
// `GET hosts/<host>/vm/<uuid>/stats?history=1`, polled every few seconds while a VM is
// selected and its host answers (a stale VM's host would answer 503). The server
// samples in the background, so a poll costs it no libvirt call: the first asks for the whole
// history, the next ones only for what is new (`&since=`). A VM has samples only while it
// runs; on libvirt's test driver most values are null: the charts then say "no data".

import { get } from "./api.js";
import { LineChart, spanMenu } from "./charts.js";
import { bytes, percent, rate } from "./format.js";
import { SampleWindow } from "./history.js";
import { onHost, vmKey } from "./hosts.js";
import { Poller } from "./poll.js";

const POLL_MS = 3000;

const pick = (...path) => (sample) => path.reduce((value, key) => value?.[key], sample) ?? null;

export class VMCharts {
  /** container: where the charts go; onCpuSeconds(key, seconds) gets the newest CPU time. */
  constructor(container, onCpuSeconds) {
    this.onCpuSeconds = onCpuSeconds;
    this.vm = null;
    this.key = null;
    this.charts = [
      new LineChart({ key: "cpu", title: "CPU", max: 100, format: percent,
                      series: [{ label: "all vCPUs", value: pick("cpu") }] }),
      new LineChart({ key: "memory", title: "Memory", bytes: true, format: bytes,
                      max: (samples) => pick("memory", "maximum")(samples.at(-1) || {}),
                      series: [{ label: "current", value: pick("memory", "current") },
                               { label: "used by the guest", value: pick("memory", "used") }] }),
      new LineChart({ key: "disk", title: "Disk", bytes: true, format: rate,
                      series: [{ label: "read", value: pick("disk", "read") },
                               { label: "write", value: pick("disk", "write") }] }),
      new LineChart({ key: "network", title: "Network", bytes: true, format: rate,
                      series: [{ label: "received", value: pick("net", "rx") },
                               { label: "sent", value: pick("net", "tx") }] }),
    ];
    container.replaceChildren(...this.charts.map((chart) => chart.element));
    container.before(spanMenu("vm-chart-span"));
    this.poller = new Poller(() => this.refresh(), POLL_MS);
    this.window = new SampleWindow();   // the whole history once, then only what is new
  }

  /**
   * Chart this VM (a `GET fleet` VM, with its host), or nothing (null). away: why its host
   * cannot be asked now ("lab is unavailable"): the charts say so, and nothing is asked.
   */
  follow(vm, away = "") {
    const key = vm ? `${vmKey(vm)}${away ? " away" : ""}` : null;
    if (key === this.key) return;
    this.vm = away ? null : vm;
    this.key = key;
    this.window.reset();
    for (const chart of this.charts) chart.clear(away ? `no data: ${away}` : "no data");
    this.poller.stop();
    if (this.vm) this.poller.start();
  }

  /** Resolves once a request on its way has come back. */
  idle() {
    return this.poller.idle();
  }

  stop() {
    this.follow(null);
  }

  async refresh() {
    const { vm, key } = this;
    if (!vm) return undefined;
    try {
      const since = this.window.since();
      const path = `vm/${encodeURIComponent(vm.uuid)}/stats?history=1${since}`;
      const answer = await get(onHost(vm.host, path));
      if (key !== this.key) return undefined;   // another VM was selected meanwhile
      const data = this.window.take(answer.data, since);
      const samples = data.samples || [];
      const message = samples.length ? "no data" : "no data: not running";
      for (const chart of this.charts) chart.update(data, message);
      this.onCpuSeconds(vmKey(vm), pick("counters", "cpu_seconds")(samples.at(-1) || {}));
      return undefined;
    } catch (problem) {
      if (key !== this.key) return undefined;
      // VirtDancer unreachable: the page says so once (main.js); the charts keep what they had.
      if (problem.status === 0) return undefined;
      this.window.reset();
      for (const chart of this.charts) chart.clear(`no data: ${problem.message}`);
      // The VM is gone (404) or the session ended (401): asking again would only fail again.
      if (problem.status === 404 || problem.status === 401) this.poller.stop();
      return problem.retryAfter ? problem.retryAfter * 1000 : undefined;
    }
  }
}
