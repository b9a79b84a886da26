#!/usr/bin/env python3
"""Benchmark: listing every VM with its detail, the first VirtDancer's way and today's.

Defines N tiny, shut-off QEMU domains (`vdbench-NNNN`) on a real libvirtd, then measures in one
run:

  (a) the seed's pattern, simulated with libvirt-python: one list "request" (new connection,
      listAllDomains, per-VM name/UUID/isActive) and then one detail "request" per VM (new
      connection, lookupByUUIDString, one call per field, close);
  (b) the raw bulk call on one open connection: getAllDomainStats(STATE|CPU_TOTAL|BALLOON|VCPU);
  (c) GET /vm?detail=1 on VirtDancer served by waitress on 127.0.0.1, keep-alive client;
  (d) the libvirt connections VirtDancer opens while answering --requests such requests;

checks the targets (c)/(b) <= 1.5, (a)/(c) >= 20, (d) == 0, and prints where the time of (c)
goes (libvirt round trips, Python in Fleet.details, Pyramid/Cornice/JSON, waitress + HTTP).

The domains are always undefined at the end, and leftovers of an interrupted run are removed at
the start. Only loopback traffic; every loop is bounded.

    python benchmarks/list_vms.py [--count N] [--uri qemu:///system] [--requests 1000]

Exit status: 0 all targets met (or --no-check), 1 a target failed, 2 the benchmark could not run.
"""

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import libvirt  # noqa: E402
from common import (  # noqa: E402  (also puts the repository root on sys.path)
    DETAIL_KEYS,
    PREFIX,
    BenchmarkError,
    Client,
    ConnectionLosses,
    Disturbed,
    Server,
    Timing,
    add_attempt_options,
    add_count_option,
    add_json_option,
    check_limits,
    close_quietly,
    define_domains,
    final_cleanup,
    fmt_ms,
    libvirt_version,
    log,
    measure,
    measure_interleaved,
    open_libvirt,
    remove_leftovers,
    run_and_report,
    table_header,
    timing_row,
    write_json,
    wsgi_get,
)

from virtdancer.shapes import detail_answer  # noqa: E402

DETAIL_GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                 | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_VCPU)
NO_CPU_GROUPS = DETAIL_GROUPS & ~libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
ACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
INACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE
INFO_KEYS = {"maxMem", "memory", "cpuTime", "nrVirtCpu", "state"}

TARGET_C_OVER_B = 1.5    # (c)/(b) at most
TARGET_A_OVER_C = 20.0   # (a)/(c) at least
TARGET_CONNECTIONS = 0   # (d) exactly

# -- (a) the seed's pattern ---------------------------------------------------------------------

def seed_list_request(uri):
    """The seed's GET /vm: a new connection, listAllDomains, name/UUID/isActive per VM."""
    conn = libvirt.open(uri)
    try:
        rows = []
        for dom in conn.listAllDomains(0):
            try:
                rows.append({"uuid": dom.UUIDString(), "name": dom.name(),
                             "active": bool(dom.isActive())})
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                # Undefined meanwhile by someone else: the seed would have answered 404.
    finally:
        conn.close()
    return sorted(rows, key=lambda row: row["name"])


def seed_detail_request(uri, uuid):
    """The seed's GET /vm/{uuid}: a new connection and one libvirt call per field."""
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByUUIDString(uuid)
        domain_id = dom.ID()
        dom_uuid = dom.UUIDString()
        name = dom.name()
        active = bool(dom.isActive())
        persistent = bool(dom.isPersistent())
        updated = bool(dom.isUpdated())
        os_type = dom.OSType()
        autostart = bool(dom.autostart())
        state, max_mem, mem, vcpus, cpu_time = dom.info()
    finally:
        conn.close()
    return {"id": domain_id, "uuid": dom_uuid, "name": name, "active": active,
            "persistent": persistent, "updated": updated, "os": os_type,
            "autostart": autostart,
            "info": {"maxMem": max_mem, "memory": mem, "cpuTime": cpu_time,
                     "nrVirtCpu": vcpus, "state": state}}


def seed_pattern(uri):
    """The old UI's 1 + N requests (a 404 for a VM undefined meanwhile is skipped)."""
    details = []
    for row in seed_list_request(uri):
        try:
            details.append(seed_detail_request(uri, row["uuid"]))
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
    return details


# -- (c) VirtDancer behind waitress: common.Server and common.Client -----------------------

def check_list(status, content_type, body, count, *, full):
    """Raise BenchmarkError unless the response is 200 and lists `count`+ VMs in detail."""
    if status == 503:
        raise Disturbed(f"GET /vm?detail=1 answered 503: {body[:200]!r}")
    if status != 200:
        raise BenchmarkError(f"GET /vm?detail=1 answered {status}: {body[:300]!r}")
    if not full:
        return None
    if "json" not in content_type:
        raise BenchmarkError(f"GET /vm?detail=1 answered {content_type!r}, not JSON")
    rows = json.loads(body)
    if not isinstance(rows, list) or len(rows) < count:
        raise BenchmarkError(f"GET /vm?detail=1 listed {len(rows)} VMs, expected {count}+")
    bench = [row for row in rows if row.get("name", "").startswith(PREFIX)]
    if len(bench) != count:
        raise BenchmarkError(f"GET /vm?detail=1 listed {len(bench)} {PREFIX}* VMs, not {count}")
    for row in bench:
        if set(row) != DETAIL_KEYS or set(row["info"]) != INFO_KEYS:
            raise BenchmarkError(f"unexpected detail object: {row}")
        if row["active"] or row["state_name"] != "shut off" or row["info"]["cpuTime"] != 0:
            raise BenchmarkError(f"a bench VM is not shut off as expected: {row}")
        if row["info"]["maxMem"] != 32 * 1024 or row["os"] != "hvm" or not row["persistent"]:
            raise BenchmarkError(f"a bench VM does not look as defined: {row}")
    return rows


# -- where the time of (c) goes -----------------------------------------------------------------

def breakdown(args, conn, server, reps, warmup):
    """Time the pieces of GET /vm?detail=1, inner to outer."""
    fleet = server.hypervisor.fleet
    transient = libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT
    autostart = libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART

    def stats_by_state():
        return (conn.getAllDomainStats(DETAIL_GROUPS, ACTIVE),
                conn.getAllDomainStats(NO_CPU_GROUPS, INACTIVE))

    pieces = [
        ("getAllDomainStats (= b)", lambda: conn.getAllDomainStats(DETAIL_GROUPS, 0)),
        # VirtDancer asks CPU time of running domains only: libvirt 9.0 answers it for a
        # shut-off domain by reading libvirtd's own figures from /proc, once per domain.
        ("4 groups ACTIVE + 3 groups INACTIVE", stats_by_state),
        ("listAllDomains(TRANSIENT)", lambda: conn.listAllDomains(transient)),
        ("listAllDomains(AUTOSTART)", lambda: conn.listAllDomains(autostart)),
        ("VirtDancer's 4 calls, in sequence", lambda: (stats_by_state(),
                                                       conn.listAllDomains(transient),
                                                       conn.listAllDomains(autostart))),
        ("Fleet.details() (no HTTP)", fleet.details),
        ("json.dumps of the detail answers", lambda: json.dumps(
            [detail_answer(vm, True) for vm in fleet.details()])),
        ("WSGI app in-process (no socket)", lambda: wsgi_get(server.app, "/vm?detail=1")),
    ]
    return [timing for timing, _ in measure_interleaved(pieces, warmup=warmup, reps=reps)]


def profile_details(server, reps):
    """cProfile of Fleet.details() and of the in-process WSGI call, top functions."""
    out = io.StringIO()
    for label, func in (("Fleet.details()", server.hypervisor.fleet.details),
                        ("WSGI GET /vm?detail=1 in-process",
                         lambda: wsgi_get(server.app, "/vm?detail=1"))):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(reps):
            func()
        profiler.disable()
        out.write(f"\n--- cProfile: {label}, {reps} calls, sorted by internal time ---\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


# -- the run ------------------------------------------------------------------------------------

def run(args):
    admin = open_libvirt(args.uri)
    results = {}
    try:
        remove_leftovers(admin)
        try:
            define_domains(admin, args.count, args.uri)
            losses = ConnectionLosses()
            logging.getLogger("virtdancer.hypervisor.connection").addHandler(losses)
            try:
                results = measure_all(args, admin)
            except libvirt.libvirtError as error:
                raise Disturbed(f"libvirt failed during the measurements: {error}") from error
            finally:
                logging.getLogger("virtdancer.hypervisor.connection").removeHandler(losses)
            results["connection_losses"] = losses.messages
            if losses.external:
                raise Disturbed("libvirtd went away during the measurements "
                                f"({len(losses.external)} time(s)); the figures would be wrong")
        finally:
            log(f"undefining the {PREFIX}* domains")
            admin = final_cleanup(args.uri, admin)
    finally:
        close_quietly(admin)
    return results


def measure_all(args, admin):
    results = {"uri": args.uri, "count": args.count,
               "libvirt": libvirt.getVersion(), "python": platform.python_version()}

    # The app is built after the domains are defined, as a long-running server would be.
    log("starting VirtDancer behind waitress on 127.0.0.1")
    server = Server(args.uri)
    client = None
    try:
        server.start()
        client = Client(server.port)
        opened_at_start = server.connections_opened

        # First request: empty fact caches (OSType once per VM).
        start = time.perf_counter()
        status, ctype, body = client.get("/vm?detail=1")
        results["c_first_request_s"] = time.perf_counter() - start
        check_list(status, ctype, body, args.count, full=True)

        # (b) the raw bulk call, on one open connection of this process, and (c) GET
        # /vm?detail=1 over HTTP on one keep-alive connection, call by call in turn.
        log(f"(b) getAllDomainStats and (c) GET /vm?detail=1, alternating: "
            f"{args.warmup} warm-up + {args.reps} timed each")
        bulk = libvirt.open(args.uri)
        try:
            def get_list():
                status, ctype, body = client.get("/vm?detail=1")
                check_list(status, ctype, body, args.count, full=False)
                return status, ctype, body

            (timing_b, records), (timing_c, last) = measure_interleaved(
                [("b", lambda: bulk.getAllDomainStats(DETAIL_GROUPS, 0)), ("c", get_list)],
                warmup=args.warmup, reps=args.reps)
            if len(records) < args.count:
                raise BenchmarkError(f"getAllDomainStats returned {len(records)} records")
            results["c_vms_listed"] = len(check_list(*last, args.count, full=True))
            results["c_response_bytes"] = len(last[2])

            # (d) libvirt connections opened by the app over --requests requests.
            log(f"(d) {args.requests} requests, counting the app's libvirt connections")
            before = server.connections_opened
            start = time.perf_counter()
            for _ in range(args.requests):
                get_list()
            elapsed_d = time.perf_counter() - start
            opened = server.connections_opened - before
            results["d_requests"] = args.requests
            results["d_elapsed_s"] = elapsed_d
            results["d_connections_opened"] = opened
            results["app_connections_opened_total"] = server.connections_opened
            results["app_connections_opened_at_start"] = opened_at_start
            results["http_sockets_used"] = client.sockets

            if not args.no_breakdown:
                log("breakdown of (c)")
                results["breakdown"] = breakdown(args, bulk, server, args.reps, args.warmup)
            if args.profile:
                results["profile"] = profile_details(server, args.profile)
        finally:
            bulk.close()
    finally:
        if client is not None:
            client.close()
        server.close()

    # (a) the seed's pattern, last: it is by far the slowest.
    log(f"(a) seed pattern, 1 + N requests each with a new connection: "
        f"{args.seed_warmup} warm-up + {args.seed_reps} timed")
    timing_a, details = measure("a", lambda: seed_pattern(args.uri),
                                warmup=args.seed_warmup, reps=args.seed_reps)
    if len(details) < args.count:
        raise BenchmarkError(f"the seed pattern saw {len(details)} VMs, expected {args.count}+")
    results["a_vms_listed"] = len(details)

    results.update(a=timing_a, b=timing_b, c=timing_c)
    return results


# -- report -------------------------------------------------------------------------------------

def verdicts(results):
    a, b, c = results["a"], results["b"], results["c"]
    c_over_b = c.median / b.median
    a_over_c = a.median / c.median
    opened = results["d_connections_opened"]
    return [
        ("(c)/(b)  VirtDancer vs raw bulk call", f"{c_over_b:.2f}x", f"<= {TARGET_C_OVER_B}",
         c_over_b <= TARGET_C_OVER_B),
        ("(a)/(c)  seed pattern vs VirtDancer", f"{a_over_c:,.1f}x", f">= {TARGET_A_OVER_C:g}",
         a_over_c >= TARGET_A_OVER_C),
        (f"(d)      libvirt connections opened in {results['d_requests']} requests",
         f"{opened}", f"== {TARGET_CONNECTIONS}", opened == TARGET_CONNECTIONS),
    ]


def report(results, args):
    a, b, c = results["a"], results["b"], results["c"]
    n = results["a_vms_listed"]
    lines = [
        "",
        f"VirtDancer list benchmark: {args.uri}, libvirt {libvirt_version(results['libvirt'])}, "
        f"Python {results['python']}",
        f"{results['count']} {PREFIX}* domains defined (shut off); domains listed: "
        f"{results['c_vms_listed']} by (c), {n} by (a)",
        "",
        table_header("measurement", 58),
    ]
    rows = [
        (f"(a) seed pattern: 1 + {n} requests, new connection each", a),
        ("(b) getAllDomainStats(STATE|CPU_TOTAL|BALLOON|VCPU)", b),
        ("(c) GET /vm?detail=1 via waitress, keep-alive", c),
    ]
    for label, timing in rows:
        lines.append(timing_row(label, timing, 58))
    lines += [
        "",
        f"(c) first request, cold caches: {fmt_ms(results['c_first_request_s'])}; "
        f"response {results['c_response_bytes']:,} bytes; "
        f"{results['d_requests']} requests in {results['d_elapsed_s']:.2f} s "
        f"({results['d_requests'] / results['d_elapsed_s']:,.0f} req/s) "
        f"over {results['http_sockets_used']} HTTP connection(s)",
        f"(a) per VM: {fmt_ms(a.median / (n + 1))} per request; "
        f"(c) per VM: {c.median / results['c_vms_listed'] * 1e6:.1f} us",
    ]
    for message in results.get("connection_losses", []):
        lines.append(f"note: VirtDancer logged: {message}")
    if "breakdown" in results:
        lines += ["", "where the time of (c) goes (median; inner to outer):"]
        for timing in results["breakdown"]:
            lines.append(f"  {timing.label:<44}{fmt_ms(timing.median):>11}"
                         f"{fmt_ms(timing.p90):>11}  p90")
        lines.append(f"  {'GET over HTTP via waitress (= c)':<44}{fmt_ms(c.median):>11}"
                     f"{fmt_ms(c.p90):>11}  p90")
    lines += ["", f"{'target':<62}{'value':>10}{'target':>10}{'result':>8}"]
    all_pass = True
    for label, value, target, ok in verdicts(results):
        all_pass &= ok
        lines.append(f"{label:<62}{value:>10}{target:>10}{'PASS' if ok else 'FAIL':>8}")
    lines.append("")
    print("\n".join(lines))
    if "profile" in results:
        print(results["profile"])
    return all_pass


def save_json(results, path):
    plain = {}
    for key, value in results.items():
        if isinstance(value, Timing):
            plain[key] = value.as_dict()
        elif key == "breakdown":
            plain[key] = {t.label: t.as_dict() for t in value}
        elif key != "profile":
            plain[key] = value
    plain["verdicts"] = [{"label": label, "value": value, "target": target, "pass": ok}
                         for label, value, target, ok in verdicts(results)]
    write_json(plain, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_count_option(parser)
    parser.add_argument("--uri", default="qemu:///system", help="libvirt URI")
    parser.add_argument("--requests", type=int, default=1000,
                        help="requests for (d), the connection count (default 1000)")
    parser.add_argument("--reps", type=int, default=50,
                        help="timed repetitions of (b) and (c) (default 50)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="untimed warm-up repetitions of (b) and (c) (default 5)")
    parser.add_argument("--seed-reps", type=int, default=5,
                        help="timed repetitions of (a) (default 5)")
    parser.add_argument("--seed-warmup", type=int, default=1,
                        help="untimed warm-up repetitions of (a) (default 1)")
    add_attempt_options(parser)
    parser.add_argument("--no-check", action="store_true",
                        help="only report: exit 0 even if a target fails")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip timing the pieces of (c)")
    parser.add_argument("--profile", type=int, default=0, metavar="CALLS",
                        help="also print a cProfile of Fleet.details() and of the WSGI call "
                             "over CALLS calls each")
    add_json_option(parser)
    args = parser.parse_args(argv)
    limits = {"--count": (args.count, 1, 9999), "--requests": (args.requests, 1, 100000),
              "--reps": (args.reps, 1, 10000), "--warmup": (args.warmup, 0, 1000),
              "--seed-reps": (args.seed_reps, 1, 100), "--seed-warmup": (args.seed_warmup, 0, 10),
              "--profile": (args.profile, 0, 1000), "--attempts": (args.attempts, 1, 10),
              "--retry-pause": (args.retry_pause, 0, 600)}
    check_limits(parser, limits)
    return args


def main(argv=None):
    args = parse_args(argv)
    status, all_pass = run_and_report(args, run, report, save_json, attempts=args.attempts,
                                      retry_pause=args.retry_pause)
    if status is not None:
        return status
    if all_pass or args.no_check:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
