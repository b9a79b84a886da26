#!/usr/bin/env python3
"""Benchmark: the cost of one statistics sampling round, with many VMs defined and some running.

Defines N tiny QEMU domains (`vdbench-NNNN`, as benchmarks/list_vms.py does) on a real libvirtd
and measures `StatsSampler.sample_once()` (VirtDancer's background round: one getAllDomainStats
for the running VMs, node CPU and memory statistics, /proc/meminfo and /sys/class/net) twice:

  phase 0: none of the bench domains running;
  phase R: R of them running (started with `virDomain.create`).

In each phase, timed alternately call by call (median / p90 over --reps rounds):

  (a) StatsSampler.sample_once() on VirtDancer's supervised HostConnection;
  (b) the raw getAllDomainStats(SAMPLE_GROUPS, ACTIVE) call it makes, on a connection of its own;
  (c) the round's three libvirt calls, raw: (b) + getCPUStats + getMemoryStats;
  (d) the round's reads of this machine: hostinfo.swap() + hostinfo.nic_counters();
  (e) the Python that turns two raw reads into a sample (rates), without libvirt;

and (--groups, on by default) getAllDomainStats with one stats group at a time, to show which
groups cost libvirtd what.

It counts the libvirt calls of sample_once() in both phases and checks that a round makes
exactly one getAllDomainStats call, and the same calls with 0 and with R VMs running. It reports
the cost per running VM ((a) at R minus (a) at 0, over R) and what the running VMs cost the
machine (resident memory of their QEMU processes, host CPU while idle).

Each running TCG VM takes real memory (measured: 42 MiB resident for a 32 MiB, 1-vCPU guest; 47
MiB with 2 vCPUs) and CPU: about 1 % of a core while it idles once the firmware has given up
booting (--settle waits for that). While rounds run back to back, the QEMU that libvirtd is
querying works too: about 0.8 host CPUs in all, whatever R. The default --running 24 keeps
memory to ~1 GiB and leaves libvirtd a core on the machine it was written on (24 GiB, 2 cores).
The script refuses an R whose estimated memory exceeds half of MemAvailable.

The domains are always destroyed and undefined at the end (also on Ctrl-C, SIGTERM, SIGHUP), and
leftovers of an interrupted run are removed at the start. Only the local libvirt socket; every
loop is bounded.

    python benchmarks/sample_round.py [--count 300] [--running 24] [--reps 30] [--json FILE]

Exit status: 0 the call checks passed, 1 a check failed, 2 the benchmark could not run,
130 interrupted.
"""

import argparse
import os
import platform
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import libvirt  # noqa: E402
from common import (  # noqa: E402  (also puts the repository root on sys.path)
    PREFIX,
    BenchmarkError,
    Disturbed,
    Timing,
    add_attempt_options,
    add_count_option,
    add_json_option,
    bench_domains,
    check_limits,
    close_quietly,
    define_domains,
    final_cleanup,
    libvirt_version,
    log,
    measure_interleaved,
    open_libvirt,
    remove_domains,
    remove_leftovers,
    run_and_report,
    table_header,
    timing_row,
    write_json,
)

from virtdancer.hypervisor import hostinfo  # noqa: E402
from virtdancer.hypervisor import sampler as sampler_module  # noqa: E402
from virtdancer.hypervisor.connection import HostConnection  # noqa: E402
from virtdancer.hypervisor.sampler import SAMPLE_GROUPS, StatsSampler  # noqa: E402

ACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
ALL_CPUS = libvirt.VIR_NODE_CPU_STATS_ALL_CPUS
ALL_CELLS = libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS
# Methods of libvirt-python that answer from the object itself, without asking libvirtd.
LOCAL_METHODS = {"name", "UUIDString", "UUID", "ID", "connect"}
EXPECTED_BULK_CALLS = 1          # getAllDomainStats per round
ESTIMATED_RSS_MIB = 64           # per running VM, for the memory guard (measured: ~47 MiB)
QEMU_PIDS = "/var/run/libvirt/qemu"
# The groups of SAMPLE_GROUPS, for --groups: what each costs libvirtd on its own.
GROUPS = [(name, getattr(libvirt, f"VIR_DOMAIN_STATS_{name}"))
          for name in ("STATE", "CPU_TOTAL", "BALLOON", "VCPU", "BLOCK", "INTERFACE")]
assert sum(flag for _, flag in GROUPS) == SAMPLE_GROUPS


# -- counting libvirt calls ---------------------------------------------------------------------

def count_calls(action):
    """The libvirt calls (class.method) that `action()` makes; its result."""
    counts = Counter()
    saved = []

    def counted(qualified_name, method):
        def wrapper(*args, **kwargs):
            counts[qualified_name] += 1
            return method(*args, **kwargs)
        return wrapper

    for cls in (libvirt.virConnect, libvirt.virDomain):
        for name, method in list(vars(cls).items()):
            if name.startswith("_") or name in LOCAL_METHODS or not callable(method):
                continue
            saved.append((cls, name, method))
            setattr(cls, name, counted(f"{cls.__name__}.{name}", method))
    try:
        result = action()
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)
    return counts, result


# -- the running VMs ----------------------------------------------------------------------------

def mem_available():
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise BenchmarkError("no MemAvailable in /proc/meminfo")


def start_domains(conn, running):
    """Start vdbench-0001..R; the time it took."""
    started = time.monotonic()
    for index in range(1, running + 1):
        dom = conn.lookupByName(f"{PREFIX}{index:04d}")
        dom.create()
        if index % 10 == 0 or index == running:
            log(f"  started {index}/{running} in {time.monotonic() - started:.1f} s")
    return time.monotonic() - started


def qemu_rss(names):
    """Resident memory in bytes of the QEMU process of each named running domain."""
    rss = {}
    for name in names:
        try:
            with open(os.path.join(QEMU_PIDS, f"{name}.pid"), encoding="ascii") as pidfile:
                pid = int(pidfile.read().strip())
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss[name] = int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue   # not local, or not readable: reported as unknown
    return rss


def wait_for_cleanup(conn, attempts=20, delay=0.5):
    """How many bench domains are left once the ones still going away are gone (bounded)."""
    left = []
    for _ in range(attempts):
        try:
            left = bench_domains(conn)
            if not left:
                return 0
            remove_domains(conn)   # one still shutting down: try again
        except libvirt.libvirtError as error:
            log(f"  cleanup check failed ({error})")
        time.sleep(delay)
    log(f"warning: {len(left)} {PREFIX}* domains left; run this script again to remove them")
    return len(left)


def host_busy_percent(conn, seconds=2.0):
    """Host CPU use (everything but idle, percent) over `seconds`, from libvirt's node
    statistics, and the host CPUs that the running bench VMs used meanwhile."""
    def bench_cpu_time():
        return {dom.name(): stats.get("cpu.time", 0) for dom, stats in
                conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_CPU_TOTAL, ACTIVE)
                if dom.name().startswith(PREFIX)}

    vms_before, before, start = bench_cpu_time(), conn.getCPUStats(ALL_CPUS), time.monotonic()
    time.sleep(seconds)
    vms_after, after, elapsed = bench_cpu_time(), conn.getCPUStats(ALL_CPUS), \
        time.monotonic() - start
    deltas = {key: after[key] - before[key] for key in after}
    spent = sum(value for value in deltas.values() if value > 0)
    busy = 100.0 * (1 - deltas.get("idle", 0) / spent) if spent else 0.0
    vm_ns = sum(vms_after[name] - vms_before[name] for name in vms_after if name in vms_before)
    return busy, vm_ns / 1e9 / elapsed


# -- one phase ----------------------------------------------------------------------------------

def measure_phase(label, args, sampler, raw, expected_bench_running):
    """Time (a)-(d) and count the calls of one round, with `expected_bench_running` bench VMs
    running."""
    def round_once():
        sample = sampler.sample_once()
        if sample is None:
            raise Disturbed("a sampling round was skipped: libvirtd went away")
        return sample

    def node_calls():
        return (raw.getAllDomainStats(SAMPLE_GROUPS, ACTIVE), raw.getCPUStats(ALL_CPUS),
                raw.getMemoryStats(ALL_CELLS))

    def host_reads():
        return hostinfo.swap(), hostinfo.nic_counters()

    # Two raw reads as a round makes them, for timing the Python that turns them into a sample.
    raw_before = sampler._read()
    time.sleep(0.05)
    raw_after = sampler._read()

    pieces = [
        ("(a) StatsSampler.sample_once()", round_once),
        ("(b) getAllDomainStats(SAMPLE_GROUPS, ACTIVE)", lambda: raw.getAllDomainStats(
            SAMPLE_GROUPS, ACTIVE)),
        ("(c) (b) + getCPUStats + getMemoryStats", node_calls),
    ]
    if sampler.local:
        pieces.append(("(d) hostinfo.swap() + nic_counters()", host_reads))
    pieces.append(("(e) rates from two raw reads (Python only)",
                   lambda: sampler_module._rates(raw_before, raw_after)))
    log(f"phase {label}: {args.warmup} warm-up + {args.reps} timed rounds of each")
    measured = measure_interleaved(pieces, warmup=args.warmup, reps=args.reps)

    sample = measured[0][1]
    bench = sorted(vm["name"] for vm in sample["vms"].values() if vm["name"].startswith(PREFIX))
    expected = [f"{PREFIX}{index:04d}" for index in range(1, expected_bench_running + 1)]
    if bench != expected:
        missing, extra = sorted(set(expected) - set(bench)), sorted(set(bench) - set(expected))
        # Someone else started or stopped one of the bench domains meanwhile (a UI test on the
        # same libvirtd, say): the round measured another number of VMs.
        raise Disturbed(f"phase {label}: the round saw {len(bench)} running {PREFIX}* VMs, "
                        f"expected {expected_bench_running} (missing {missing[:5]}, "
                        f"extra {extra[:5]})")
    without_rates = [vm["name"] for vm in sample["vms"].values()
                     if vm["name"].startswith(PREFIX) and vm["cpu"] is None]
    if without_rates:
        raise BenchmarkError(f"phase {label}: no CPU rate for {without_rates[:5]}")
    records = measured[1][1]

    groups = []
    if args.groups:
        log(f"phase {label}: getAllDomainStats one group at a time, {args.reps} rounds each")
        groups = [timing for timing, _ in measure_interleaved(
            [(name, lambda flag=flag: raw.getAllDomainStats(flag, ACTIVE))
             for name, flag in GROUPS], warmup=1, reps=args.reps)]

    calls = []
    for _ in range(args.count_rounds):
        counts, _sample = count_calls(round_once)
        calls.append(counts)
    # Each bench VM has 1 vCPU: its "cpu" percent is a share of one host CPU.
    bench_cpu = sum(vm["cpu"] for vm in sample["vms"].values() if vm["name"].startswith(PREFIX))
    return {
        "label": label,
        "bench_vm_cpus_used": bench_cpu / 100,
        "timings": [timing for timing, _ in measured],
        "groups": groups,
        "running_total": len(sample["vms"]),
        "running_bench": len(bench),
        "raw_records": len(records),
        "calls": calls,
    }


def measure_phases(args, admin, sampler, raw, results):
    results["host_busy_before_percent"], _ = host_busy_percent(admin)
    results["loadavg_before"] = os.getloadavg()
    results["phase0"] = measure_phase("0", args, sampler, raw, 0)
    if args.running:
        log(f"starting {args.running} of them")
        results["start_s"] = start_domains(admin, args.running)
        log(f"letting them settle for {args.settle:g} s")
        time.sleep(args.settle)
        names = [f"{PREFIX}{index:04d}" for index in range(1, args.running + 1)]
        results["rss"] = qemu_rss(names)
        results["host_busy_percent"], results["idle_vm_cpus_used"] = host_busy_percent(admin)
        results["loadavg_running"] = os.getloadavg()
        results["phaseR"] = measure_phase(str(args.running), args, sampler, raw, args.running)


# -- the run ------------------------------------------------------------------------------------

def run(args):
    admin = open_libvirt(args.uri)
    results = {"uri": args.uri, "count": args.count, "running": args.running,
               "libvirt": libvirt.getVersion(), "python": platform.python_version(),
               "reps": args.reps}
    host = raw = None
    try:
        remove_leftovers(admin)
        available = mem_available()
        needed = args.running * ESTIMATED_RSS_MIB * 1024 * 1024
        if needed > available / 2:
            raise BenchmarkError(
                f"--running {args.running} would need about {needed / 2**30:.1f} GiB "
                f"({ESTIMATED_RSS_MIB} MiB each), more than half of MemAvailable "
                f"({available / 2**30:.1f} GiB)")
        try:
            define_domains(admin, args.count, args.uri)
            host = HostConnection(args.uri, retry_max=1.0).start()
            if not host.connected:
                raise BenchmarkError("VirtDancer's HostConnection did not connect")
            sampler = StatsSampler(host, local=hostinfo.is_local_uri(args.uri))
            raw = libvirt.open(args.uri)
            try:
                measure_phases(args, admin, sampler, raw, results)
            except libvirt.libvirtError as error:
                raise Disturbed(f"libvirt failed during the measurements: {error}") from error
            if host.connections_opened != 1:
                raise Disturbed(f"VirtDancer's connection was reopened "
                                f"({host.connections_opened} connections): libvirtd restarted")
        finally:
            if raw is not None:
                close_quietly(raw)
            if host is not None:
                host.close()
            log(f"destroying and undefining the {PREFIX}* domains")
            admin = final_cleanup(args.uri, admin)
            results["left_after_cleanup"] = wait_for_cleanup(admin)
    finally:
        close_quietly(admin)
    return results


# -- report -------------------------------------------------------------------------------------

def checks(results):
    """(label, ok) of the call checks."""
    phases = [results[key] for key in ("phase0", "phaseR") if key in results]
    rounds = [calls for phase in phases for calls in phase["calls"]]
    bulk = [calls["virConnect.getAllDomainStats"] for calls in rounds]
    return [
        (f"getAllDomainStats calls per round == {EXPECTED_BULK_CALLS} "
         f"(seen: {sorted(set(bulk))})", all(count == EXPECTED_BULK_CALLS for count in bulk)),
        ("the same libvirt calls in every round, with 0 and with R running",
         all(calls == rounds[0] for calls in rounds)),
    ]


def report(results, args):
    lines = [
        "",
        f"VirtDancer sampling-round benchmark: {args.uri}, "
        f"libvirt {libvirt_version(results['libvirt'])}, "
        f"Python {results['python']}, {os.cpu_count()} CPUs",
        f"{results['count']} {PREFIX}* domains defined, {results['running']} of them running",
        f"before starting them: host CPU busy {results['host_busy_before_percent']:.1f} % "
        f"(other users), load average {results['loadavg_before'][0]:.2f}",
    ]
    if "start_s" in results:
        rss = results["rss"]
        lines.append(f"starting {results['running']} took {results['start_s']:.1f} s; "
                     f"QEMU resident memory {sum(rss.values()) / 2**20:,.0f} MiB in all, "
                     f"{sum(rss.values()) / max(1, len(rss)) / 2**20:.1f} MiB per VM "
                     f"(max {max(rss.values(), default=0) / 2**20:.1f})")
        lines.append(f"while they idle: host CPU busy {results['host_busy_percent']:.1f} %, "
                     f"load average {results['loadavg_running'][0]:.2f}; their QEMU processes "
                     f"use {results['idle_vm_cpus_used']:.2f} host CPUs idle, "
                     f"{results['phaseR']['bench_vm_cpus_used']:.2f} during the rounds "
                     f"(answering libvirt's queries)")
    lines += ["", table_header("measurement", 54)]
    for key in ("phase0", "phaseR"):
        if key not in results:
            continue
        phase = results[key]
        lines.append(f"{phase['running_bench']} {PREFIX}* running "
                     f"({phase['running_total']} running domains on the host):")
        for timing in phase["timings"]:
            lines.append("  " + timing_row(timing.label, timing, 52))
        a, b, c = phase["timings"][:3]
        lines.append(f"  (a)/(b) {a.median / b.median:.2f}x, (a)/(c) {a.median / c.median:.2f}x "
                     f"(medians)")
        if phase["groups"]:
            lines.append("  getAllDomainStats(<one group>, ACTIVE), for comparison with (b):")
            for timing in phase["groups"]:
                lines.append("    " + timing_row(timing.label, timing, 50))
        calls = ", ".join(f"{name} {count}" for name, count in sorted(phase["calls"][0].items()))
        lines.append(f"  libvirt calls of one round: {calls}")
    if "phaseR" in results and results["running"]:
        a0, ar = results["phase0"]["timings"][0], results["phaseR"]["timings"][0]
        b0, br = results["phase0"]["timings"][1], results["phaseR"]["timings"][1]
        per_vm = (ar.median - a0.median) / results["running"]
        per_vm_raw = (br.median - b0.median) / results["running"]
        lines += ["", f"per running VM: (a) {per_vm * 1e6:,.0f} us, (b) {per_vm_raw * 1e6:,.0f} us "
                      f"(median at {results['running']} minus median at 0, over "
                      f"{results['running']})"]
    lines += ["", f"{'check':<72}{'result':>8}"]
    all_pass = True
    for label, ok in checks(results):
        all_pass &= ok
        lines.append(f"{label:<72}{'PASS' if ok else 'FAIL':>8}")
    if results.get("left_after_cleanup"):
        lines.append(f"warning: {results['left_after_cleanup']} {PREFIX}* domains left")
    lines.append("")
    print("\n".join(lines))
    return all_pass


def save_json(results, path):
    plain = {}
    for key, value in results.items():
        if key in ("phase0", "phaseR"):
            plain[key] = {**value, "timings": {t.label: t.as_dict() for t in value["timings"]},
                          "groups": {t.label: t.as_dict() for t in value["groups"]},
                          "calls": [dict(calls) for calls in value["calls"]]}
        elif isinstance(value, Timing):
            plain[key] = value.as_dict()
        else:
            plain[key] = value
    plain["checks"] = [{"label": label, "pass": ok} for label, ok in checks(results)]
    write_json(plain, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_count_option(parser)
    parser.add_argument("--running", type=int, default=24,
                        help="how many of them to start (default 24, ~1 GiB of QEMU)")
    parser.add_argument("--uri", default="qemu:///system", help="libvirt URI")
    parser.add_argument("--reps", type=int, default=30,
                        help="timed rounds of each measurement per phase (default 30)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed warm-up rounds per phase (default 3)")
    parser.add_argument("--count-rounds", type=int, default=3,
                        help="rounds whose libvirt calls are counted per phase (default 3)")
    parser.add_argument("--groups", action=argparse.BooleanOptionalAction, default=True,
                        help="also time getAllDomainStats one stats group at a time "
                             "(default on)")
    parser.add_argument("--settle", type=float, default=10.0, metavar="SECONDS",
                        help="wait after starting the VMs, before measuring, so that their "
                             "firmware is done and they idle (default 10)")
    add_attempt_options(parser)
    add_json_option(parser)
    args = parser.parse_args(argv)
    limits = {"--count": (args.count, 1, 9999), "--running": (args.running, 0, args.count),
              "--reps": (args.reps, 1, 10000), "--warmup": (args.warmup, 1, 1000),
              "--count-rounds": (args.count_rounds, 1, 100), "--settle": (args.settle, 0, 600),
              "--attempts": (args.attempts, 1, 10), "--retry-pause": (args.retry_pause, 0, 600)}
    check_limits(parser, limits)
    return args


def main(argv=None):
    args = parse_args(argv)
    status, all_pass = run_and_report(args, run, report, save_json, attempts=args.attempts,
                                      retry_pause=args.retry_pause)
    if status is not None:
        return status
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
