"""What the benchmarks in this folder share: the tiny test domain, its cleanup, VirtDancer
behind waitress, timing statistics, table rows and the main() scaffolding.

The scripts run as `python benchmarks/<script>.py`, so this folder is on sys.path and they
import this module as `common`; importing it puts the repository root on sys.path too, so that
`virtdancer` imports from the checkout.
"""

import base64
import http.client
import json
import logging
import math
import os
import signal
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import libvirt  # noqa: E402

# The bench domains of list_vms.py and sample_round.py (console_latency.py uses another name).
PREFIX = "vdbench-"
SLOW_DEFINE_S = 5.0
# The demo admin (virtdancer/demo/users.ini), as a script would authenticate.
REQUEST_HEADERS = {"Accept": "application/json",
                   "Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}

TINY_DOMAIN_XML = """\
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


# The keys of the first VirtDancer's detail object, as VirtDancer answers it (with `actions`,
# `console` and `operable`).
DETAIL_KEYS = {"id", "uuid", "name", "active", "persistent", "updated", "os", "autostart",
               "info", "state_name", "actions", "console", "operable"}


def wsgi_get(app, path):
    """Call the WSGI app in-process (no socket, no waitress): (status, body)."""
    from webob import Request

    response = Request.blank(path, headers=REQUEST_HEADERS).get_response(app)
    return response.status_code, response.body


def tiny_domain_xml(name):
    """The XML of a tiny QEMU domain: 32 MiB, 1 vCPU, no disk, VNC on 127.0.0.1 (autoport)."""
    return TINY_DOMAIN_XML.format(name=name)


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


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- libvirt connections ------------------------------------------------------------------------

def _silence(_opaque, _error):
    pass


def open_libvirt(uri):
    """Silence libvirt's own error printing and open `uri`; BenchmarkError if that fails."""
    libvirt.registerErrorHandler(_silence, None)
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as error:
        raise BenchmarkError(f"cannot connect to {uri}: {error} "
                             "(is libvirtd running? scripts/start-libvirtd.sh)") from error


def close_quietly(conn):
    """Close a libvirt connection, ignoring that it may be dead already."""
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def libvirt_version(number):
    """libvirt's version number (as libvirt.getVersion() gives it) as "major.minor.micro"."""
    major, rest = divmod(number, 1000000)
    minor, micro = divmod(rest, 1000)
    return f"{major}.{minor}.{micro}"


def destroy_and_undefine(dom):
    """Destroy `dom` if it runs and undefine it if it is persistent (with its managed save,
    snapshot metadata and NVRAM where libvirt allows); libvirtError passes through."""
    if dom.isActive():
        dom.destroy()
    if dom.isPersistent():
        try:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                              | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            dom.undefine()


def cleanup_with_reconnect(uri, conn, action, attempts=20, delay=0.5):
    """Call `action(conn)` until it succeeds, reopening the connection to `uri` before each
    further attempt (libvirtd may have restarted); at most `attempts` times.

    Return (the connection last used, True if `action` succeeded)."""
    for attempt in range(attempts):
        try:
            if attempt:
                conn = libvirt.open(uri)
            action(conn)
            return conn, True
        except libvirt.libvirtError as error:
            log(f"  cleanup failed ({error}); retrying in {delay} s")
            time.sleep(delay)
    return conn, False


# -- the vdbench-* domains ----------------------------------------------------------------------

def bench_domains(conn):
    """The `vdbench-*` domains on `conn`."""
    return [dom for dom in conn.listAllDomains(0) if dom.name().startswith(PREFIX)]


def remove_domains(conn):
    """Destroy (if running) and undefine every `vdbench-*` domain; return how many."""
    removed = 0
    for dom in bench_domains(conn):
        name = dom.name()
        try:
            destroy_and_undefine(dom)
            removed += 1
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                log(f"warning: could not remove {name}: {error}")
    return removed


def remove_leftovers(conn):
    """Remove the `vdbench-*` domains an interrupted run left, saying so if there were any."""
    leftovers = remove_domains(conn)
    if leftovers:
        log(f"removed {leftovers} {PREFIX}* domains left by an earlier run")


def define_domains(conn, count, uri):
    """Define the tiny domains `vdbench-0001` .. `vdbench-<count>` (shut off) on `conn`, the
    connection to `uri`."""
    log(f"defining {count} domains {PREFIX}0001..{PREFIX}{count:04d} on {uri}")
    started = time.monotonic()
    for index in range(1, count + 1):
        start = time.monotonic()
        conn.defineXML(tiny_domain_xml(f"{PREFIX}{index:04d}"))
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


def final_cleanup(uri, conn, attempts=20, delay=0.5):
    """Undefine the bench domains even if the connection died meanwhile: reopen it a bounded
    number of times. Return the connection last used."""
    def undefine(conn):
        removed = remove_domains(conn)
        log(f"  undefined {removed}; {len(bench_domains(conn))} left")

    conn, done = cleanup_with_reconnect(uri, conn, undefine, attempts, delay)
    if not done:
        log(f"warning: could not undefine the {PREFIX}* domains; run this script again "
            f"(it removes leftovers first) or `virsh undefine` them")
    return conn


# -- VirtDancer behind waitress -----------------------------------------------------------------

class Server:
    """VirtDancer served by waitress on 127.0.0.1 in a background thread.

    `settings` are added to (or override) the app settings below."""

    def __init__(self, uri, **settings):
        from virtdancer import main
        from virtdancer.interfaces import IHypervisor

        self.app = main({}, **{
            "virtdancer.libvirt_uri": uri,
            # The demo users: the benchmark's requests come from a script using HTTP Basic.
            "virtdancer.users_file": os.path.join(REPO, "virtdancer", "demo", "users.ini"),
            "virtdancer.secret": os.urandom(32).hex(),
            **settings,
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
        # Every host's threads and connection, not only the default host's.
        import virtdancer

        virtdancer.close(self.app)


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


# -- statistics ---------------------------------------------------------------------------------

def percentile(samples, q):
    """Nearest-rank percentile, 0 < q <= 100."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class Timing:
    """The timed samples (seconds) of one measurement and their summary."""

    def __init__(self, label, samples=()):
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
    """Seconds as milliseconds with 3 or so significant digits ("1,234 ms", "12.3 ms")."""
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


# -- tables and files ---------------------------------------------------------------------------

def table_header(title, width, *, reps=True):
    """The header of a table of timings: `title` left in `width`, then median, p90, min
    (and reps)."""
    header = f"{title:<{width}}{'median':>11}{'p90':>11}{'min':>11}"
    return header + (f"{'reps':>6}" if reps else "")


def timing_row(label, timing, width, *, reps=True, fmt=fmt_ms):
    """One row of such a table: `label` left in `width`, then the timing's median, p90, min
    formatted by `fmt` (and its number of samples)."""
    row = f"{label:<{width}}{fmt(timing.median):>11}{fmt(timing.p90):>11}{fmt(timing.minimum):>11}"
    return row + (f"{len(timing.samples):>6}" if reps else "")


def write_json(plain, path):
    """Write the plain figures `plain` to `path` as indented JSON, creating its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as out:
        json.dump(plain, out, indent=2)
    log(f"wrote {path}")


# -- options and main() -------------------------------------------------------------------------

def add_count_option(parser):
    parser.add_argument("--count", type=int, default=300,
                        help="number of vdbench-NNNN domains to define (default 300)")


def add_attempt_options(parser):
    """--attempts and --retry-pause, for `run_and_report`."""
    parser.add_argument("--attempts", type=int, default=3,
                        help="runs to try when libvirtd restarts under the benchmark "
                             "(default 3)")
    parser.add_argument("--retry-pause", type=float, default=5.0, metavar="SECONDS",
                        help="pause before another attempt (default 5)")


def add_json_option(parser):
    parser.add_argument("--json", metavar="FILE",
                        help="also write the figures as JSON (e.g. benchmarks/results/x.json)")


def check_limits(parser, limits):
    """Exit with a usage error unless low <= value <= high for each flag: (value, low, high)."""
    for flag, (value, low, high) in limits.items():
        if not low <= value <= high:
            parser.error(f"{flag} must be between {low} and {high}")


def _terminate(signum, _frame):
    # Turn SIGTERM/SIGHUP into an exception so that the finally blocks remove the domains.
    raise KeyboardInterrupt(f"signal {signum}")


def cleanup_on_signals():
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt, so that cleanup in `finally` runs."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)


def run_and_report(args, run, report, save_json, *, attempts=1, retry_pause=0.0):
    """The main() of a benchmark: cleanup on SIGTERM/SIGHUP, `run(args)` (again after
    `retry_pause` seconds when it raises Disturbed, at most `attempts` times), then
    `report(results, args)` and, with --json, `save_json(results, args.json)`.

    Return (None, what `report` returned), or (exit status, None) once the failure is logged:
    2 the benchmark could not run, 130 interrupted."""
    cleanup_on_signals()
    try:
        for attempt in range(1, attempts + 1):
            try:
                results = run(args)
                break
            except Disturbed as error:
                log(f"attempt {attempt}/{attempts} disturbed: {error}")
                if attempt == attempts:
                    raise
                time.sleep(retry_pause)
    except BenchmarkError as error:
        log(f"benchmark failed: {error}")
        return 2, None
    except KeyboardInterrupt:
        log("interrupted")
        return 130, None
    reported = report(results, args)
    if args.json:
        save_json(results, args.json)
    return None, reported
