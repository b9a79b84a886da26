#!/usr/bin/env python3
"""Benchmark: GET /fleet?detail=1 against the slowest single host's GET /hosts/<h>/vm?detail=1.

Writes libvirt test-driver node files of --count domains each (a temporary folder, removed at
the end), starts VirtDancer behind waitress on 127.0.0.1 with 1, 2 and 4 such hosts in turn, and
measures, alternating the requests call by call over one keep-alive connection:

  - each host's GET /hosts/<h>/vm?detail=1 and GET /fleet?detail=1, and their ratio
    fleet / slowest host (medians);
  - the same with one more host that is unreachable (a libvirt socket that does not exist);
  - where the time of /fleet goes, in-process: each host's Fleet.details(), all of them one
    after the other and concurrently (the registry's ask_each), json.dumps of the answer, the
    WSGI app without a socket;
  - the process's resident memory (VmRSS) with the largest fleet, after its requests.

With --real, also the two real hosts (qemu:///system and qemu+tcp://127.0.0.1:16519/system),
read-only: alone, and beside the largest test-driver fleet.

    python benchmarks/fleet.py [--hosts 1,2,4] [--count 1000] [--reps 30] [--real]

Exit status: 0 all targets met (or --no-check), 1 a target failed, 2 the benchmark could not run.
"""

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import libvirt  # noqa: E402
from common import (  # noqa: E402  (also puts the repository root on sys.path)
    DETAIL_KEYS,
    BenchmarkError,
    Client,
    ConnectionLosses,
    Disturbed,
    Server,
    Timing,
    add_attempt_options,
    add_json_option,
    check_limits,
    fmt_ms,
    libvirt_version,
    log,
    measure,
    measure_interleaved,
    run_and_report,
    table_header,
    timing_row,
    write_json,
    wsgi_get,
)

from virtdancer.hypervisor.registry import ANSWER_WAIT  # noqa: E402
from virtdancer.interfaces import IHostRegistry  # noqa: E402
from virtdancer.shapes import detail_answer  # noqa: E402

# The two real hosts of the test ring (scripts/test.sh starts the second one).
REAL_HOSTS = (("system", "qemu:///system"), ("second", "qemu+tcp://127.0.0.1:16519/system"))
UNREACHABLE = ("gone", "qemu+unix:///system?socket=/nonexistent/x.sock")

TARGET_RATIO = 1.3            # fleet / slowest host (medians), at most
TARGET_RSS_MIB = 150.0        # VmRSS with the largest test-driver fleet, below
# With one host unreachable, every fleet answer within the time the fleet waits for a host
# (the registry's ANSWER_WAIT, 5 s, as long as a host's first connection is waited for) plus
# the bound above.
UNREACHABLE_SLACK_S = ANSWER_WAIT

# test:runstate, cycling over the domains: 4 running, 2 paused, 4 shut off in every ten.
RUNSTATES = (1, 1, 3, 5, 1, 5, 3, 5, 1, 5)
STATE_NAMES = {1: "running", 3: "paused", 5: "shut off"}

NODE_HEAD = """\
<node>
  <cpu><mhz>2900</mhz><model>x86_64</model><nodes>1</nodes><sockets>2</sockets>
    <cores>16</cores><threads>2</threads><active>64</active></cpu>
  <memory>1073741824</memory>
"""
DOMAIN = """\
  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <memory unit="MiB">{memory}</memory>
    <currentMemory unit="MiB">{memory}</currentMemory>
    <vcpu>{vcpus}</vcpu>
    <os><type arch="x86_64">hvm</type></os>
    <test:runstate>{runstate}</test:runstate>
  </domain>
"""


# -- the test-driver hosts ----------------------------------------------------------------------

def host_name(index):
    return f"t{index}"


def vm_name(host, index):
    return f"{host}-vm-{index:04d}"


def vm_uuid(host_index, index):
    # Distinct across hosts and domains, and the same from run to run.
    return str(uuid.UUID(int=(0xfbe0 << 112) | (host_index << 32) | index))


def node_xml(host_index, count):
    """A test-driver node of `count` domains, named and numbered after host `host_index`."""
    host = host_name(host_index)
    parts = [NODE_HEAD]
    for index in range(1, count + 1):
        parts.append(DOMAIN.format(name=vm_name(host, index), uuid=vm_uuid(host_index, index),
                                   memory=256 * (1 + index % 4), vcpus=1 + index % 2,
                                   runstate=RUNSTATES[index % len(RUNSTATES)]))
    parts.append("</node>\n")
    return "".join(parts)


def expected_states(count):
    """How many of a host's `count` domains are running, paused and shut off."""
    states = {}
    for index in range(1, count + 1):
        name = STATE_NAMES[RUNSTATES[index % len(RUNSTATES)]]
        states[name] = states.get(name, 0) + 1
    return states


def write_nodes(folder, hosts, count):
    """Write hosts t1..t<hosts> to `folder`; return [(name, test:/// URI)]."""
    listed = []
    for index in range(1, hosts + 1):
        path = os.path.join(folder, f"{host_name(index)}.xml")
        with open(path, "w") as out:
            out.write(node_xml(index, count))
        listed.append((host_name(index), "test://" + path))
    return listed


# -- the configurations -------------------------------------------------------------------------

class Setup:
    """One set of hosts VirtDancer serves: `tests` test-driver hosts, maybe the real ones."""

    def __init__(self, tests, real=False):
        self.tests = tests
        self.real = real

    @property
    def label(self):
        parts = [f"{self.tests} x test"] if self.tests else []
        return " + ".join(parts + (["2 real"] if self.real else []))

    def hosts(self, test_hosts):
        return test_hosts[:self.tests] + (list(REAL_HOSTS) if self.real else [])


def setups(args):
    chosen = [Setup(n) for n in args.hosts]
    if args.real:
        chosen += [Setup(0, real=True), Setup(max(args.hosts), real=True)]
    return chosen


def is_real(name):
    return name in dict(REAL_HOSTS)


def hosts_setting(hosts):
    return "\n".join(f"{name} = {uri}" for name, uri in hosts)


# -- checks -------------------------------------------------------------------------------------

def check_status(path, status, body):
    if status == 503:
        raise Disturbed(f"GET {path} answered 503: {body[:200]!r}")
    if status != 200:
        raise BenchmarkError(f"GET {path} answered {status}: {body[:300]!r}")


def check_rows(path, rows, host, count):
    """A test host's VMs as generated: `count` of them, named after it, in the right states."""
    mine = [row for row in rows if row["name"].startswith(f"{host}-vm-")]
    if len(mine) != count or len(rows) != count:
        raise BenchmarkError(f"GET {path} listed {len(rows)} VMs ({len(mine)} of {host}), "
                             f"not {count}")
    states = {}
    for row in mine:
        if not DETAIL_KEYS <= set(row):
            raise BenchmarkError(f"GET {path}: unexpected detail object: {row}")
        states[row["state_name"]] = states.get(row["state_name"], 0) + 1
    if states != expected_states(count):
        raise BenchmarkError(f"GET {path}: states {states}, not {expected_states(count)}")


def check_host_answer(path, status, body, host, count):
    check_status(path, status, body)
    rows = json.loads(body)
    if count is not None:   # a test host; a real host's VMs belong to others, and change
        check_rows(path, rows, host, count)
    return len(rows)


def check_fleet_answer(path, status, body, hosts, count, gone=None):
    """The fleet lists every reachable host connected and, for test hosts, all its VMs."""
    check_status(path, status, body)
    answer = json.loads(body)
    states = {entry["name"]: entry["state"] for entry in answer["hosts"]}
    wanted = [name for name, _ in hosts] + ([gone] if gone else [])
    if list(states) != wanted:
        raise BenchmarkError(f"GET {path} listed the hosts {list(states)}, not {wanted}")
    for name, state in states.items():
        if state != ("unavailable" if name == gone else "connected"):
            raise BenchmarkError(f"GET {path}: host {name} is {state}: {answer['hosts']}")
    by_host = {}
    for vm in answer["vms"]:
        by_host.setdefault(vm["host"], []).append(vm)
    for name, _ in hosts:
        if not is_real(name):
            check_rows(path, by_host.get(name, []), name, count)
    if gone in by_host:
        raise BenchmarkError(f"GET {path} lists VMs of the unreachable host {gone}")
    return len(answer["vms"])


# -- measurements -------------------------------------------------------------------------------

def rss_mib():
    """This process's VmRSS and VmHWM (its peak) from /proc/self/status, in MiB."""
    figures = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) / 1024
    return figures["VmRSS"], figures["VmHWM"]


def start_server(hosts):
    server = Server(hosts[0][1], **{"virtdancer.hosts": hosts_setting(hosts)})
    try:
        server.start()
        registry = server.app.registry.getUtility(IHostRegistry)
        for name, uri in hosts:
            if name != UNREACHABLE[0] and not registry.get(name).connection.connected:
                why = registry.get(name).connection.status()["reason"]
                failure = Disturbed if is_real(name) else BenchmarkError
                raise failure(f"VirtDancer did not connect to {name} ({uri}): {why}")
    except BaseException:
        server.close()
        raise
    return server, registry


def http_pieces(client, hosts, count, gone=None):
    """(label, func) for each host's GET and the fleet's, each checking its status."""
    def getter(path, check):
        def get():
            status, _, body = client.get(path)
            check_status(path, status, body)
            return path, status, body, check
        return get

    pieces = []
    for name, _ in hosts:
        path = f"/hosts/{name}/vm?detail=1"
        pieces.append((f"GET {path}", getter(path, lambda p, s, b, name=name: check_host_answer(
            p, s, b, name, None if is_real(name) else count))))
    path = "/fleet?detail=1"
    label = f"GET {path}" + (f" (+ {gone} unreachable)" if gone else "")
    pieces.append((label, getter(path, lambda p, s, b: check_fleet_answer(
        p, s, b, hosts, count, gone))))
    return pieces


def measure_http(client, hosts, args, gone=None):
    """Each host's GET and the fleet's, alternating call by call (as `measure_interleaved`);
    the last answers checked in full. Returns (wall-clock Timings, CPU-time Timings of this
    whole process, VMs listed by label)."""
    pieces = http_pieces(client, hosts, args.count, gone)
    walls, cpus = [[] for _ in pieces], [[] for _ in pieces]
    last = [None] * len(pieces)
    for rep in range(args.warmup + args.reps):
        for index, (_, func) in enumerate(pieces):
            cpu, start = time.process_time(), time.perf_counter()
            last[index] = func()
            if rep >= args.warmup:
                walls[index].append(time.perf_counter() - start)
                cpus[index].append(time.process_time() - cpu)
    listed = {label: check(path, status, body)
              for (label, _), (path, status, body, check) in zip(pieces, last)}
    return ([Timing(label, walls[index]) for index, (label, _) in enumerate(pieces)],
            [Timing(label, cpus[index]) for index, (label, _) in enumerate(pieces)], listed)


def wsgi_body(app, path):
    status, body = wsgi_get(app, path)
    if status != 200:
        raise Disturbed(f"in-process GET {path} answered {status}")
    return body


def breakdown(server, registry, hosts, args):
    """Where the time of /fleet?detail=1 goes, in-process (no socket), inner to outer."""
    names = [name for name, _ in hosts]
    hypervisors = [registry.get(name) for name in names]

    def concurrently():
        answers = registry.ask_each(names, lambda hypervisor: hypervisor.fleet.details())
        for name, (_, error) in answers.items():
            if error is not None:
                raise Disturbed(f"{name} did not answer: {error.message}")
        return answers

    answers = concurrently()
    # The VMs as list_fleet's answer shows them, each naming its host.
    vms = [{**detail_answer(vm, True), "host": name}
           for name, (listed, _) in answers.items() for vm in listed]
    pieces = [(f"Fleet.details() of {name}", hypervisor.fleet.details)
              for name, hypervisor in zip(names, hypervisors)]
    pieces += [
        ("every host's details(), one after the other",
         lambda: [hypervisor.fleet.details() for hypervisor in hypervisors]),
        ("every host's details(), concurrently (ask_each)", concurrently),
        (f"json.dumps of the {len(vms)} VMs", lambda: json.dumps({"vms": vms})),
        ("WSGI GET /fleet?detail=1 in-process", lambda: wsgi_body(server.app,
                                                                  "/fleet?detail=1")),
    ]
    return [timing for timing, _ in measure_interleaved(pieces, warmup=args.warmup,
                                                        reps=args.breakdown_reps)]


def fill_history(client, registry, hosts, args):
    """Take as many statistics rounds as each host's sampler keeps (what a server holds once
    it has run for `virtdancer.stats.history` seconds), then measure VmRSS and /fleet again."""
    rounds = 0
    round_times = Timing(f"a statistics round of one host ({args.count} VMs, history filling)")
    for name, _ in hosts:
        sampler = registry.get(name).sampler
        log(f"  filling {name}'s statistics history: {sampler.history_seconds:g} s at "
            f"{sampler.interval:g} s = {sampler.capacity} rounds")
        for _ in range(sampler.capacity):
            start = time.perf_counter()
            if sampler.sample_once() is None:
                raise Disturbed(f"{name} skipped a statistics round")
            round_times.samples.append(time.perf_counter() - start)
        rounds += sampler.capacity
    kept = sum(registry.get(name).sampler.kept_vm_samples() for name, _ in hosts)
    rss, hwm = rss_mib()
    path = "/fleet?detail=1"
    timing, (status, _, body) = measure(f"GET {path}, history full", lambda: client.get(path),
                                        warmup=1, reps=max(3, args.reps // 3))
    check_fleet_answer(path, status, body, hosts, args.count)
    return {"rounds": rounds, "round": round_times, "vm_samples": kept, "rss_mib": rss,
            "hwm_mib": hwm, "fleet": timing}


def measure_setup(setup, test_hosts, args, largest):
    """Everything measured with one set of hosts, then with one more, unreachable."""
    hosts = setup.hosts(test_hosts)
    result = {"label": setup.label, "hosts": [name for name, _ in hosts]}
    log(f"[{setup.label}] starting VirtDancer with {len(hosts)} host(s)")
    server, registry = start_server(hosts)
    client = Client(server.port)
    try:
        log(f"[{setup.label}] each host's GET and the fleet's, alternating: "
            f"{args.warmup} warm-up + {args.reps} timed each")
        result["http"], result["cpu"], result["listed"] = measure_http(client, hosts, args)
        if largest:
            result["rss_mib"], result["hwm_mib"] = rss_mib()
        if not args.no_breakdown:
            log(f"[{setup.label}] where the fleet's time goes, in-process")
            result["breakdown"] = breakdown(server, registry, hosts, args)
        if largest and not args.no_history:
            result["history"] = fill_history(client, registry, hosts, args)
    finally:
        client.close()
        server.close()

    with_gone = hosts + [UNREACHABLE]
    log(f"[{setup.label}] again with {UNREACHABLE[0]} = {UNREACHABLE[1]}")
    server, registry = start_server(with_gone)
    client = Client(server.port)
    try:
        result["gone_http"], _, _ = measure_http(client, hosts, args, gone=UNREACHABLE[0])
        result["gone_reason"] = registry.get(UNREACHABLE[0]).connection.status()["reason"]
    finally:
        client.close()
        server.close()
    return result


def measure_with_retries(setup, test_hosts, args, largest):
    """`measure_setup`, again (at most --attempts times) when someone restarts a real host's
    libvirtd under it; the figures of a disturbed try are thrown away."""
    connection_log = logging.getLogger("virtdancer.hypervisor.connection")
    for attempt in range(1, args.attempts + 1):
        losses = ConnectionLosses()
        connection_log.addHandler(losses)
        try:
            result = measure_setup(setup, test_hosts, args, largest)
            if losses.external:
                raise Disturbed("libvirtd went away during the measurements "
                                f"({len(losses.external)} time(s)); the figures would be wrong")
            result["connection_losses"] = losses.messages
            result["attempts"] = attempt
            return result
        except libvirt.libvirtError as error:
            failure = Disturbed(f"libvirt failed during the measurements: {error}")
        except Disturbed as error:
            failure = error
        finally:
            connection_log.removeHandler(losses)
        log(f"[{setup.label}] attempt {attempt}/{args.attempts} disturbed: {failure}")
        if attempt == args.attempts:
            raise failure
        time.sleep(args.retry_pause)
    raise AssertionError("unreachable")


def run(args):
    folder = tempfile.mkdtemp(prefix="vdbench-fleet-")
    # waitress says so when a request waits for a thread; with one client that is the next
    # request arriving while a thread still finishes the previous answer: noise here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        largest = max(args.hosts)
        log(f"writing {largest} test-driver node file(s) of {args.count} domains to {folder}")
        test_hosts = write_nodes(folder, largest, args.count)
        results = {"count": args.count, "libvirt": libvirt.getVersion(),
                   "python": platform.python_version(), "cpus": os.cpu_count(),
                   "load_at_start": os.getloadavg()[0], "rss_at_start_mib": rss_mib()[0]}
        # The largest test-driver fleet first, while this process is fresh, so that its VmRSS
        # owes nothing to a heap the others left; the real hosts (which others may restart)
        # last. The report lists them in order.
        chosen = setups(args)
        measured = {}
        for index in sorted(range(len(chosen)), key=lambda i: (chosen[i].real, -chosen[i].tests)):
            setup = chosen[index]
            measured[index] = measure_with_retries(
                setup, test_hosts, args, largest=not setup.real and setup.tests == largest)
        results["setups"] = [measured[index] for index in range(len(chosen))]
        results["load_at_end"] = os.getloadavg()[0]
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- report -------------------------------------------------------------------------------------

def slowest_host(timings):
    hosts = [t for t in timings if not t.label.startswith("GET /fleet")]
    return max(hosts, key=lambda t: t.median)


def fleet_timing(timings):
    [fleet] = [t for t in timings if t.label.startswith("GET /fleet")]
    return fleet


def verdicts(results):
    rows = []
    for setup in results["setups"]:
        slowest, fleet = slowest_host(setup["http"]), fleet_timing(setup["http"])
        ratio = fleet.median / slowest.median
        rows.append((f"[{setup['label']}] fleet / slowest host (medians)", f"{ratio:.2f}x",
                     f"<= {TARGET_RATIO}", ratio <= TARGET_RATIO))
        gone_slowest, gone_fleet = slowest_host(setup["gone_http"]), \
            fleet_timing(setup["gone_http"])
        bound = UNREACHABLE_SLACK_S + TARGET_RATIO * gone_slowest.median
        longest = max(gone_fleet.samples)
        rows.append((f"[{setup['label']}] + 1 unreachable: slowest fleet answer",
                     fmt_ms(longest), f"<= {bound:.2f} s", longest <= bound))
        if "rss_mib" in setup:
            rss = setup["rss_mib"]
            rows.append((f"[{setup['label']}] VmRSS after the requests", f"{rss:.0f} MiB",
                         f"< {TARGET_RSS_MIB:g} MiB", rss < TARGET_RSS_MIB))
        if "history" in setup:
            rss = setup["history"]["rss_mib"]
            rows.append((f"[{setup['label']}] VmRSS, statistics history full", f"{rss:.0f} MiB",
                         f"< {TARGET_RSS_MIB:g} MiB", rss < TARGET_RSS_MIB))
    return rows


def report(results, args):
    width = 62
    lines = [
        "",
        f"VirtDancer fleet benchmark: libvirt {libvirt_version(results['libvirt'])}, Python "
        f"{results['python']}, {results['cpus']} CPUs; {results['count']} test-driver domains "
        f"per test host; load average {results['load_at_start']:.1f} at the start, "
        f"{results['load_at_end']:.1f} at the end",
    ]
    for setup in results["setups"]:
        slowest, fleet = slowest_host(setup["http"]), fleet_timing(setup["http"])
        lines += ["", table_header(f"[{setup['label']}] hosts {', '.join(setup['hosts'])}",
                                   width)]
        for timing in setup["http"]:
            mark = "  <- slowest host" if timing is slowest else ""
            lines.append(timing_row(timing.label, timing, width) + mark)
        lines.append(f"{'  fleet / slowest host':<{width}}"
                     f"{fleet.median / slowest.median:>10.2f}x"
                     f"{fleet.p90 / slowest.p90:>10.2f}x  (median, p90)")
        cpu_fleet = fleet_timing(setup["cpu"])
        cpu_slowest = max((t for t in setup["cpu"] if t is not cpu_fleet),
                          key=lambda t: t.median)
        cpu_sum = sum(t.median for t in setup["cpu"] if t is not cpu_fleet)
        lines.append(f"  CPU time of the process (all threads), medians: fleet "
                     f"{fmt_ms(cpu_fleet.median)}, the costliest host {fmt_ms(cpu_slowest.median)}"
                     f", every host's together {fmt_ms(cpu_sum)}: fleet / costliest "
                     f"{cpu_fleet.median / cpu_slowest.median:.2f}x")
        gone_slowest = slowest_host(setup["gone_http"])
        gone_fleet = fleet_timing(setup["gone_http"])
        lines.append(timing_row(gone_fleet.label, gone_fleet, width))
        lines.append(f"{'  its slowest host, same run':<{width}}"
                     f"{fmt_ms(gone_slowest.median):>11}{fmt_ms(gone_slowest.p90):>11}"
                     f"{fmt_ms(gone_slowest.minimum):>11}")
        lines.append(f"  {UNREACHABLE[0]}: {setup['gone_reason']}")
        if "breakdown" in setup:
            lines.append("  where the fleet's time goes, in-process (median, p90):")
            for timing in setup["breakdown"]:
                lines.append(f"    {timing.label:<{width - 4}}{fmt_ms(timing.median):>11}"
                             f"{fmt_ms(timing.p90):>11}")
        if "rss_mib" in setup:
            lines.append(f"  VmRSS after the requests {setup['rss_mib']:.0f} MiB (peak VmHWM "
                         f"{setup['hwm_mib']:.0f} MiB; {results['rss_at_start_mib']:.0f} MiB "
                         f"before any host was started)")
        if "history" in setup:
            history = setup["history"]
            per_sample = ((history["rss_mib"] - setup["rss_mib"]) * 2 ** 20
                          / max(1, history["vm_samples"]))
            lines.append(f"  with a full statistics history ({history['rounds']} rounds, "
                         f"{history['vm_samples']:,} VM samples kept): VmRSS "
                         f"{history['rss_mib']:.0f} MiB, {per_sample:,.0f} bytes per VM sample")
            lines.append(timing_row("  " + history["round"].label, history["round"], width))
            lines.append(timing_row("  " + history["fleet"].label, history["fleet"], width))
        if setup["attempts"] > 1:
            lines.append(f"  (measured at attempt {setup['attempts']}: a real libvirtd was "
                         f"restarted under the earlier ones)")
        for message in setup["connection_losses"]:
            lines.append(f"  note: VirtDancer logged: {message}")
    lines += ["", f"{'target':<{width}}{'value':>10}{'target':>14}{'result':>8}"]
    all_pass = True
    for label, value, target, ok in verdicts(results):
        all_pass &= ok
        lines.append(f"{label:<{width}}{value:>10}{target:>14}{'PASS' if ok else 'FAIL':>8}")
    lines.append("")
    print("\n".join(lines))
    return all_pass


def save_json(results, path):
    def plain(value):
        if isinstance(value, Timing):
            return {"label": value.label, **value.as_dict()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    figures = plain(results)
    figures["verdicts"] = [{"label": label, "value": value, "target": target, "pass": ok}
                           for label, value, target, ok in verdicts(results)]
    write_json(figures, path)


def host_counts(text):
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"a list of host counts such as 1,2,4, not {text!r}")
    if not counts or counts[0] < 1 or counts[-1] > 16:
        raise argparse.ArgumentTypeError("host counts are between 1 and 16")
    return counts


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=host_counts, default=[1, 2, 4], metavar="N,N,...",
                        help="numbers of test-driver hosts to measure (default 1,2,4)")
    parser.add_argument("--count", type=int, default=1000,
                        help="domains per test-driver host (default 1000)")
    parser.add_argument("--reps", type=int, default=30,
                        help="timed repetitions of each request (default 30)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed warm-up repetitions (default 3)")
    parser.add_argument("--breakdown-reps", type=int, default=15,
                        help="timed repetitions of each in-process piece (default 15)")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip timing the in-process pieces of /fleet")
    parser.add_argument("--no-history", action="store_true",
                        help="skip filling the statistics history of the largest fleet (and "
                             "its VmRSS then)")
    parser.add_argument("--real", action="store_true",
                        help="also measure the two real hosts (read-only), alone and beside "
                             "the largest test-driver fleet")
    add_attempt_options(parser)
    parser.add_argument("--no-check", action="store_true",
                        help="only report: exit 0 even if a target fails")
    add_json_option(parser)
    args = parser.parse_args(argv)
    check_limits(parser, {"--count": (args.count, 1, 20000), "--reps": (args.reps, 1, 10000),
                          "--warmup": (args.warmup, 0, 1000),
                          "--breakdown-reps": (args.breakdown_reps, 1, 10000),
                          "--attempts": (args.attempts, 1, 10),
                          "--retry-pause": (args.retry_pause, 0, 600)})
    return args


def main(argv=None):
    args = parse_args(argv)
    # Disturbed runs are tried again set of hosts by set of hosts (measure_with_retries).
    status, all_pass = run_and_report(args, run, report, save_json)
    if status is not None:
        return status
    if all_pass or args.no_check:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
