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
import base64
import cProfile
import http.client
import io
import json
import logging
import math
import os
import platform
import pstats
import signal
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import libvirt  # noqa: E402

PREFIX = "vdbench-"
# The demo admin (virtdancer/demo/users.ini), as a script would authenticate.
REQUEST_HEADERS = {"Accept": "application/json",
                   "Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
DETAIL_GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                 | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_VCPU)
NO_CPU_GROUPS = DETAIL_GROUPS & ~libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
ACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
INACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE
DETAIL_KEYS = {"id", "uuid", "name", "active", "persistent", "updated", "os", "autostart",
               "info", "state_name"}
INFO_KEYS = {"maxMem", "memory", "cpuTime", "nrVirtCpu", "state"}

TARGET_C_OVER_B = 1.5    # (c)/(b) at most
TARGET_A_OVER_C = 20.0   # (a)/(c) at least
TARGET_CONNECTIONS = 0   # (d) exactly

DOMAIN_XML = """\
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <currentMemory unit='MiB'>32</currentMemory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
  </devices>
</domain>
"""


class BenchmarkError(Exception):
    """The benchmark could not measure what it should (exit status 2)."""


class Disturbed(BenchmarkError):
    """Something outside the benchmark interfered (libvirtd restarted): worth another try."""


class ConnectionLosses(logging.Handler):
    """Collects VirtDancer's "lost the libvirt connection" log records during a run."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if "lost the libvirt connection" in message:
            self.messages.append(message)

    @property
    def external(self):
        """Losses that libvirtd caused by going away (not, e.g., a keepalive timeout)."""
        return [m for m in self.messages if "libvirtd closed the connection" in m]


def _silence(_opaque, _error):
    pass


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- statistics ---------------------------------------------------------------------------------

def percentile(samples, q):
    """Nearest-rank percentile, 0 < q <= 100."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class Timing:
    def __init__(self, label, samples):
        self.label = label
        self.samples = list(samples)

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def p90(self):
        return percentile(self.samples, 90)

    @property
    def minimum(self):
        return min(self.samples)

    def as_dict(self):
        return {"median_s": self.median, "p90_s": self.p90, "min_s": self.minimum,
                "max_s": max(self.samples), "reps": len(self.samples)}


def measure(label, func, *, warmup, reps):
    """Run `func` `warmup` times untimed, then `reps` times timed; `func` returns a value that
    `measure` passes back (the last one) so callers can check it."""
    result = None
    for _ in range(warmup):
        result = func()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - start)
    return Timing(label, samples), result


def measure_interleaved(pieces, *, warmup, reps):
    """Like `measure` for several functions at once, alternating them call by call, so that a
    change of load on the host (other users of libvirtd) weighs on all of them alike.

    `pieces` is a list of (label, func); returns a list of (Timing, last result)."""
    results = [None] * len(pieces)
    samples = [[] for _ in pieces]
    for rep_index in range(warmup + reps):
        for index, (_, func) in enumerate(pieces):
            start = time.perf_counter()
            results[index] = func()
            if rep_index >= warmup:
                samples[index].append(time.perf_counter() - start)
    return [(Timing(label, samples[index]), results[index])
            for index, (label, _) in enumerate(pieces)]


def fmt_ms(seconds):
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


# -- the bench domains --------------------------------------------------------------------------

def bench_domains(conn):
    return [dom for dom in conn.listAllDomains(0) if dom.name().startswith(PREFIX)]


def remove_bench_domains(conn):
    """Destroy (if running) and undefine every `vdbench-*` domain; return how many."""
    removed = 0
    for dom in bench_domains(conn):
        name = dom.name()
        try:
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                try:
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                      | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                      | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
                except libvirt.libvirtError:
                    dom.undefine()
            removed += 1
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                log(f"warning: could not remove {name}: {error}")
    return removed


SLOW_DEFINE_S = 5.0


def define_bench_domains(conn, count):
    started = time.monotonic()
    for index in range(1, count + 1):
        start = time.monotonic()
        conn.defineXML(DOMAIN_XML.format(name=f"{PREFIX}{index:04d}"))
        took = time.monotonic() - start
        if took > SLOW_DEFINE_S and index <= 3:
            # Seen on containers without udev: /dev/kvm exists but the QEMU user may not open
            # it, while QEMU run by libvirt's capability probe does use KVM; libvirt then finds
            # its cached QEMU capabilities "outdated" at every lookup and probes QEMU again
            # (libvirtd debug log: "KVM was enabled when probing ..., but it is not available
            # now"), so that every defineXML takes seconds to minutes.
            log(f"  warning: defining {PREFIX}{index:04d} took {took:.0f} s; libvirtd may be "
                "re-probing QEMU capabilities at every call (see benchmarks/README.md)")
        if index % 100 == 0 or index == count:
            log(f"  defined {index}/{count} in {time.monotonic() - started:.1f} s")


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


# -- (c) VirtDancer behind waitress -------------------------------------------------------------

class Server:
    """VirtDancer served by waitress on 127.0.0.1 in a background thread."""

    def __init__(self, uri):
        from virtdancer import main
        from virtdancer.interfaces import IHypervisor

        self.app = main({}, **{
            "virtdancer.libvirt_uri": uri,
            # The demo users: the benchmark's requests come from a script using HTTP Basic.
            "virtdancer.users_file": os.path.join(REPO, "virtdancer", "demo", "users.ini"),
            "virtdancer.secret": os.urandom(32).hex(),
        })
        self.hypervisor = self.app.registry.getUtility(IHypervisor)
        self.server = None
        self.thread = None

    def start(self):
        import waitress

        if not self.hypervisor.connection.connected:
            raise BenchmarkError("VirtDancer did not connect to libvirt within its connect wait")
        self.server = waitress.create_server(self.app, host="127.0.0.1", port=0,
                                             ident="virtdancer-bench")
        self.thread = threading.Thread(target=self._run, name="bench-waitress", daemon=True)
        self.thread.start()
        return self

    def _run(self):
        try:
            self.server.run()
        except Exception as error:  # pragma: no cover - reported, the main thread carries on
            log(f"waitress stopped: {error!r}")

    @property
    def port(self):
        return self.server.effective_port

    @property
    def connections_opened(self):
        return self.hypervisor.connection.connections_opened

    def close(self):
        if self.server is not None:
            from waitress import wasyncore

            server, self.server = self.server, None
            # Close every socket from inside the loop thread, so that the loop sees an empty
            # map and returns; fall back to closing from here if it does not answer.
            try:
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            except OSError:
                pass
            self.thread.join(timeout=5)
            if self.thread.is_alive():
                wasyncore.close_all(server._map, ignore_all=True)
                self.thread.join(timeout=5)
            server.task_dispatcher.shutdown(timeout=5)
        self.hypervisor.close()


class Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port):
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.sockets = 0
        self._last_sock = None

    def get(self, path):
        self.http.request("GET", path, headers=REQUEST_HEADERS)
        response = self.http.getresponse()
        body = response.read()
        if self.http.sock is not self._last_sock:
            # http.client reconnects silently when the server closed the connection.
            self._last_sock = self.http.sock
            self.sockets += 1
        return response.status, response.getheader("Content-Type", ""), body

    def close(self):
        self.http.close()


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

def wsgi_get(app, path):
    """Call the WSGI app in-process (no socket, no waitress)."""
    from webob import Request

    response = Request.blank(path, headers=REQUEST_HEADERS).get_response(app)
    return response.status_code, response.body


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
        ("json.dumps(Fleet.details())", lambda: json.dumps(fleet.details())),
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
    libvirt.registerErrorHandler(_silence, None)
    try:
        admin = libvirt.open(args.uri)
    except libvirt.libvirtError as error:
        raise BenchmarkError(f"cannot connect to {args.uri}: {error} "
                             "(is libvirtd running? scripts/start-libvirtd.sh)") from error
    results = {}
    try:
        leftovers = remove_bench_domains(admin)
        if leftovers:
            log(f"removed {leftovers} {PREFIX}* domains left by an earlier run")
        log(f"defining {args.count} domains {PREFIX}0001..{PREFIX}{args.count:04d} on {args.uri}")
        try:
            define_bench_domains(admin, args.count)
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
        try:
            admin.close()
        except libvirt.libvirtError:
            pass
    return results


def final_cleanup(uri, conn, attempts=20, delay=0.5):
    """Undefine the bench domains even if the connection died meanwhile: reopen it a bounded
    number of times. Return the connection last used."""
    for attempt in range(attempts):
        try:
            if attempt:
                conn = libvirt.open(uri)
            removed = remove_bench_domains(conn)
            log(f"  undefined {removed}; {len(bench_domains(conn))} left")
            return conn
        except libvirt.libvirtError as error:
            log(f"  cleanup failed ({error}); retrying in {delay} s")
            time.sleep(delay)
    log(f"warning: could not undefine the {PREFIX}* domains; run this script again "
        f"(it removes leftovers first) or `virsh undefine` them")
    return conn


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
    major, rest = divmod(results["libvirt"], 1000000)
    minor, micro = divmod(rest, 1000)
    lines = [
        "",
        f"VirtDancer list benchmark: {args.uri}, libvirt {major}.{minor}.{micro}, "
        f"Python {results['python']}",
        f"{results['count']} {PREFIX}* domains defined (shut off); domains listed: "
        f"{results['c_vms_listed']} by (c), {n} by (a)",
        "",
        f"{'measurement':<58}{'median':>11}{'p90':>11}{'min':>11}{'reps':>6}",
    ]
    rows = [
        (f"(a) seed pattern: 1 + {n} requests, new connection each", a),
        ("(b) getAllDomainStats(STATE|CPU_TOTAL|BALLOON|VCPU)", b),
        ("(c) GET /vm?detail=1 via waitress, keep-alive", c),
    ]
    for label, timing in rows:
        lines.append(f"{label:<58}{fmt_ms(timing.median):>11}{fmt_ms(timing.p90):>11}"
                     f"{fmt_ms(timing.minimum):>11}{len(timing.samples):>6}")
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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as out:
        json.dump(plain, out, indent=2)
    log(f"wrote {path}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300,
                        help="number of vdbench-NNNN domains to define (default 300)")
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
    parser.add_argument("--attempts", type=int, default=3,
                        help="runs to try when libvirtd restarts under the benchmark "
                             "(default 3)")
    parser.add_argument("--retry-pause", type=float, default=5.0, metavar="SECONDS",
                        help="pause before another attempt (default 5)")
    parser.add_argument("--no-check", action="store_true",
                        help="only report: exit 0 even if a target fails")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip timing the pieces of (c)")
    parser.add_argument("--profile", type=int, default=0, metavar="CALLS",
                        help="also print a cProfile of Fleet.details() and of the WSGI call "
                             "over CALLS calls each")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the figures as JSON (e.g. benchmarks/results/x.json)")
    args = parser.parse_args(argv)
    limits = {"--count": (args.count, 1, 9999), "--requests": (args.requests, 1, 100000),
              "--reps": (args.reps, 1, 10000), "--warmup": (args.warmup, 0, 1000),
              "--seed-reps": (args.seed_reps, 1, 100), "--seed-warmup": (args.seed_warmup, 0, 10),
              "--profile": (args.profile, 0, 1000), "--attempts": (args.attempts, 1, 10),
              "--retry-pause": (args.retry_pause, 0, 600)}
    for flag, (value, low, high) in limits.items():
        if not low <= value <= high:
            parser.error(f"{flag} must be between {low} and {high}")
    return args


def _terminate(signum, _frame):
    # Turn SIGTERM/SIGHUP into an exception so that the finally blocks undefine the domains.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    results = None
    try:
        for attempt in range(1, args.attempts + 1):
            try:
                results = run(args)
                break
            except Disturbed as error:
                log(f"attempt {attempt}/{args.attempts} disturbed: {error}")
                if attempt == args.attempts:
                    raise
                time.sleep(args.retry_pause)
    except BenchmarkError as error:
        log(f"benchmark failed: {error}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    all_pass = report(results, args)
    if args.json:
        save_json(results, args.json)
    if all_pass or args.no_check:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
