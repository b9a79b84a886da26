"""Statistics of a host and its VMs, sampled in the background.

Every `interval` seconds one round asks libvirt for everything at once: one `getAllDomainStats`
call for all running VMs (CPU, balloon, vCPU, block and interface groups) and the host's node
statistics. Rates (percent, bytes per second) come from the difference with the round before.
The newest round is kept as it is, for the current figures; every round of the last `history`
seconds is kept in a compact history (history.py) for the charts' series. So a request for
statistics costs no libvirt call at all.

The host's CPU time comes from /proc/stat when libvirt runs on this machine (it alone tells
steal and interrupt time apart), from libvirt's node statistics otherwise. Both count from the
host's boot, so a round with no round before it still has CPU shares: those since boot.

When libvirtd is away a round is skipped, which leaves a gap in the history; the first round
after it has no rates, since the counters may have restarted (the host's CPU shares are since
boot again). Drivers that lack a stats group (libvirt's test driver has only "state") give
samples with what there is.
"""

import logging
import threading
import time

import libvirt

from . import hostinfo
from .errors import HypervisorError
from .history import History

log = logging.getLogger(__name__)

SAMPLE_GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                 | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_VCPU
                 | libvirt.VIR_DOMAIN_STATS_BLOCK | libvirt.VIR_DOMAIN_STATS_INTERFACE)
# Running VMs only; and NOWAIT, so that one VM whose monitor is busy (a long job, a hung QEMU)
# gives what libvirt has at hand instead of stalling the round for every other VM.
_RUNNING_ONLY = (libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
                 | libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)
_NS = 1e9
KIB = 1024


class StatsSampler:
    """Samples one host on a thread of its own; answers from memory."""

    def __init__(self, host, *, interval=2.0, history=600.0, local=False,
                 wall_clock=time.time, clock=time.monotonic):
        self.host = host
        self.interval = float(interval)
        self.history_seconds = float(history)
        self.local = local
        self.wall_clock = wall_clock
        self.clock = clock
        self.rounds = 0
        # round(), not int(): 0.6 / 0.2 is 2.9999999999999996 in floating point.
        self.capacity = max(2, round(self.history_seconds / self.interval))   # rounds kept
        self._history = History(self.capacity)
        self._latest = None
        self._previous = None   # raw counters of the last round, for rates
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    # -- life cycle ------------------------------------------------------------------------

    # How long start() waits for the first round: the first requests then find figures.
    FIRST_ROUND_WAIT = 2.0

    def start(self):
        self._first_round = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="virtdancer-stats-sampler")
        self._thread.start()
        self._first_round.wait(self.FIRST_ROUND_WAIT)
        return self

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.is_set():
            started = self.clock()
            try:
                self.sample_once()
            except Exception:  # pragma: no cover - a bug must not end the sampling for good
                log.exception("statistics round failed")
            self._first_round.set()
            self._stop.wait(max(0.0, self.interval - (self.clock() - started)))

    # -- one round -------------------------------------------------------------------------

    def sample_once(self):
        """Take one sample of the host and every running VM; None when the host is away."""
        try:
            raw = self._read()
        except HypervisorError as error:
            log.info("statistics round skipped: %s", error.message)
            with self._lock:
                self._previous = None
            return None
        with self._lock:
            sample = _rates(self._previous, raw)
            self._previous = raw
            self._history.append(sample)
            self._latest = sample
            self.rounds += 1
        return sample

    def _read(self):
        """Raw counters, as libvirt and the host report them."""
        with self.host.session() as conn:
            records = conn.getAllDomainStats(SAMPLE_GROUPS, _RUNNING_ONLY)
            # This machine's own /proc/stat says more than libvirt would, for no round trip.
            node_cpu = (None if self.local
                        else _optional(conn.getCPUStats, libvirt.VIR_NODE_CPU_STATS_ALL_CPUS))
            node_memory = _optional(conn.getMemoryStats, libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
            if node_memory is None:
                # Drivers without node memory statistics still know the host's size (MiB).
                node_memory = {"total": conn.getInfo()[1] * KIB}
        return {
            "time": self.wall_clock(),
            "clock": self.clock(),
            "node_cpu": node_cpu,
            "proc_stat": hostinfo.cpu_times() if self.local else None,
            "node_memory": node_memory,
            "swap": hostinfo.swap() if self.local else None,
            "nics": hostinfo.nic_counters() if self.local else None,
            "vms": {dom.UUIDString(): (dom.name(), dom.ID(), stats) for dom, stats in records},
        }

    # -- answers ---------------------------------------------------------------------------

    def latest(self):
        """The newest sample, or None before the first round."""
        return self._latest   # one attribute, replaced whole by each round: no lock

    def forget(self, uuid):
        """Drop a deleted VM from the newest round, so that /stats and /metrics lose it at once."""
        latest = self._latest
        if latest is not None and uuid in latest.get("vms", {}):
            self._latest = {**latest, "vms": {key: vm for key, vm in latest["vms"].items()
                                              if key != uuid}}

    def host_history(self, part):
        """`[(time, value)]` of the host's "cpu", "mem" or "nic" in every kept round, oldest
        first; None where a round had none."""
        with self._lock:
            return self._history.host(part)

    def vm_history(self, uuid):
        """`[(time, sample)]` of the VM in every kept round it ran in, oldest first."""
        with self._lock:
            return self._history.vm(uuid)

    def samples(self):
        """Every round kept, oldest first, in the shape of `latest()`. For tests and tools: it
        builds the whole history as dicts again."""
        with self._lock:
            return self._history.samples()

    def kept_vm_samples(self):
        """How many VM samples the history holds (each VM's rounds, summed)."""
        with self._lock:
            return self._history.vm_rounds()


def _optional(call, *args):
    try:
        return call(*args)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise


# -- from raw counters to a sample -----------------------------------------------------------

def _rates(previous, raw):
    elapsed = raw["clock"] - previous["clock"] if previous else None
    return {
        "time": raw["time"],
        "host": {
            "cpu": _host_cpu(previous and _cpu_times(previous), _cpu_times(raw)),
            "mem": _host_memory(raw["node_memory"], raw["swap"]),
            "nic": _nic_rates(previous and previous["nics"], raw["nics"], elapsed),
        },
        "vms": {uuid: _vm_sample(previous and previous["vms"].get(uuid), record, elapsed)
                for uuid, record in raw["vms"].items()},
    }


def _cpu_times(raw):
    """The host's CPU time since boot in the API's categories plus idle, or None if unknown.

    A category the source does not tell apart is None. libvirt's node statistics count
    interrupts as kernel time and have no steal time; /proc/stat has both.
    """
    if raw["proc_stat"] is not None:
        ticks = raw["proc_stat"]

        def column(*names):
            return sum(ticks.get(name, 0) for name in names)

        return {"usr": column("user", "nice"), "sys": column("system"),
                "steal": column("steal"), "iowait": column("iowait"),
                "irq": column("irq", "softirq"), "idle": column("idle")}
    node = raw["node_cpu"]
    if node is None:
        return None
    return {"usr": node.get("user", 0), "sys": node.get("kernel", 0), "steal": None,
            "iowait": node.get("iowait", 0), "irq": None, "idle": node.get("idle", 0)}


def _host_cpu(before, now):
    """{usr, sys, steal, iowait, irq, total} in percent of all CPU time since the last round.

    Without a round before (`before` None), since the host booted: its counters began at zero
    then. `total` is all but idle time, so the other five add up to it where all are known.
    """
    if now is None:
        return None
    deltas = {key: now[key] - (before[key] if before else 0)
              for key, value in now.items() if value is not None}
    # A counter that went back (iowait may, on a tickless kernel) counts as no time at all.
    spent = sum(value for value in deltas.values() if value > 0)

    def share(key):
        if key not in deltas:
            return None   # the source does not tell this time apart
        return _percent(deltas[key] / spent) if spent > 0 else 0.0

    return {"usr": share("usr"), "sys": share("sys"), "steal": share("steal"),
            "iowait": share("iowait"), "irq": share("irq"),
            "total": _percent(1 - deltas["idle"] / spent) if spent > 0 else 0.0}


def _host_memory(node, swap):
    """{memTotal, memFree, memBuffer, swapTotal, swapFree} in bytes; None what is not known."""
    def kib(key):
        value = node.get(key)
        return value * KIB if value is not None else None

    swap = swap or {}
    return {"memTotal": kib("total"), "memFree": kib("free"), "memBuffer": kib("buffers"),
            "swapTotal": swap.get("total"), "swapFree": swap.get("free")}


def _nic_rates(before, now, elapsed):
    if not now:
        return None
    rates = {}
    for name, counters in now.items():
        old = before.get(name) if before else None
        rates[name] = {direction: _per_second(old and old[direction], value, elapsed)
                       for direction, value in counters.items()}
    return rates


def _vm_sample(previous, record, elapsed):
    name, domain_id, stats = record
    if previous is not None and previous[1] != domain_id:
        previous = None   # restarted since: its counters began again
    before = previous[2] if previous else {}
    vcpu_count = stats.get("vcpu.current") or stats.get("vcpu.maximum")

    def rate(key):
        return _per_second(before.get(key), stats.get(key), elapsed)

    cpu_ns = rate("cpu.time")
    vcpus = {}
    for index in range(stats.get("vcpu.maximum", 0)):
        key = f"vcpu.{index}.time"
        if key in stats:
            per_second = rate(key)
            vcpus[f"cpu_{index}"] = _percent(per_second / _NS) if per_second is not None else None
    return {
        "name": name,
        "cpu": (_percent(cpu_ns / _NS / vcpu_count) if cpu_ns is not None and vcpu_count
                else None),
        "vcpus": vcpus,
        "memory": _vm_memory(stats),
        "disk": {"read": _summed_rate(before, stats, "block", "rd.bytes", elapsed),
                 "write": _summed_rate(before, stats, "block", "wr.bytes", elapsed)},
        "net": {"rx": _summed_rate(before, stats, "net", "rx.bytes", elapsed),
                "tx": _summed_rate(before, stats, "net", "tx.bytes", elapsed)},
        # Running totals since the VM started, for tools that compute rates themselves.
        "counters": {
            "cpu_seconds": stats["cpu.time"] / _NS if "cpu.time" in stats else None,
            "disk_read_bytes": _summed(stats, "block", "rd.bytes"),
            "disk_write_bytes": _summed(stats, "block", "wr.bytes"),
            "net_rx_bytes": _summed(stats, "net", "rx.bytes"),
            "net_tx_bytes": _summed(stats, "net", "tx.bytes"),
        },
    }


def _summed(stats, group, field):
    count = stats.get(f"{group}.count")
    if not count:
        return None
    return sum(stats.get(f"{group}.{index}.{field}", 0) for index in range(count))


def _vm_memory(stats):
    """{current, maximum, used} in bytes; used only where the guest's balloon driver reports."""
    def kib(key):
        value = stats.get(key)
        return value * KIB if value is not None else None

    available, unused = stats.get("balloon.available"), stats.get("balloon.unused")
    used = (available - unused) * KIB if available is not None and unused is not None else None
    return {"current": kib("balloon.current"), "maximum": kib("balloon.maximum"), "used": used}


def _summed_rate(before, now, group, field, elapsed):
    """Bytes per second summed over every disk (block) or interface (net) of the VM."""
    count = now.get(f"{group}.count")
    if not count:
        return None   # no disks (or no interfaces): nothing to report, not "zero bytes"
    keys = [f"{group}.{index}.{field}" for index in range(count)]
    if not before or any(key not in before for key in keys if key in now):
        return None
    total = 0.0
    for key in keys:
        if key in now:
            per_second = _per_second(before[key], now[key], elapsed)
            if per_second is None:
                return None
            total += per_second
    return total


def _per_second(before, now, elapsed):
    """Counter growth per second; None without a baseline, or when the counter went back."""
    if before is None or now is None or not elapsed or now < before:
        return None
    return (now - before) / elapsed


def _percent(fraction):
    return round(min(100.0, max(0.0, fraction * 100)), 2)
