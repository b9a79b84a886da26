#!/usr/bin/env python3
"""Benchmark: how long a console takes to show its first byte, through VirtDancer's proxy and not.

Starts one tiny QEMU domain (`vdconsole-bench`, transient, VNC on 127.0.0.1) on a real libvirtd
and VirtDancer behind waitress on 127.0.0.1 with its console proxy inline, then measures, warm,
the time from "connect" to the first byte of QEMU's RFB banner (`RFB 003.008\\n`) for:

  direct  a TCP connection to the VM's VNC port (from the live domain XML): the floor;
  proxy   a WebSocket to VirtDancer's proxy with a token issued beforehand, untimed, through the
          app's IConsole utility: the proxy alone (WebSocket handshake, token check, libvirt
          openGraphicsFD, first message);
  full    POST /vm/<uuid>/console over HTTP (waitress, keep-alive) and then the proxy: what a
          browser waits for after clicking "Console";

timed alternately, connection by connection, so that a change of load weighs on all alike. It
also times the pieces: the POST alone, the proxy's libvirt part alone (Fleet.open_console and
the first byte over the socket libvirt hands back), and a refused WebSocket (no token: the
WebSocket handshake and the close, no libvirt).

The domain is always destroyed at the end (it is transient: that removes it), and a leftover of
an interrupted run is removed at the start. Only loopback traffic; every loop is bounded.

    python benchmarks/console_latency.py [--reps 50] [--warmup 5] [--uri qemu:///system]

Exit status: 0 measured, 2 the benchmark could not measure, 130 interrupted.
"""

import argparse
import asyncio
import http.client
import json
import logging
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import libvirt  # noqa: E402
from common import (  # noqa: E402  (also puts the repository root on sys.path)
    REQUEST_HEADERS,
    BenchmarkError,
    ConnectionLosses,
    Server,
    Timing,
    add_json_option,
    check_limits,
    cleanup_with_reconnect,
    close_quietly,
    destroy_and_undefine,
    libvirt_version,
    log,
    open_libvirt,
    run_and_report,
    table_header,
    timing_row,
    tiny_domain_xml,
    write_json,
)
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, WebSocketException  # noqa: E402

# Not vdbench-*: benchmarks/list_vms.py removes those as leftovers of its own.
DEFAULT_NAME = "vdconsole-bench"
BANNER = b"RFB 003.008\n"
ORIGIN = "http://127.0.0.1"         # the proxy-alone tokens' origin; the full path's is the app's
STEP_TIMEOUT = 10                   # seconds for any one connection; nothing should take one


def fmt_ms(seconds):
    """Like common.fmt_ms, but with a decimal from 100 ms up too."""
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"



# -- the VM -------------------------------------------------------------------------------------

def remove_vm(conn, name):
    """Destroy (and undefine, if a leftover was persistent) the VM; True if it was there."""
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise
    try:
        destroy_and_undefine(dom)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
    return True


def vm_running(conn, name):
    try:
        return bool(conn.lookupByName(name).isActive())
    except libvirt.libvirtError:
        return False


def final_cleanup(uri, conn, name, attempts=20, delay=0.5):
    """Remove the VM even if the connection died meanwhile (libvirtd restarted): reopen it a
    bounded number of times."""
    def remove(conn):
        remove_vm(conn, name)
        log(f"removed {name}")

    _conn, done = cleanup_with_reconnect(uri, conn, remove, attempts, delay)
    if not done:
        log(f"warning: could not remove {name}; run `virsh destroy {name}`")


# -- VirtDancer behind waitress, its console proxy inline --------------------------------------

class ConsoleServer(Server):
    """common.Server with VirtDancer's console proxy inline on 127.0.0.1."""

    def __init__(self, uri):
        from virtdancer.interfaces import IConsole

        super().__init__(uri, **{"virtdancer.session.secure": "false",
                                 "virtdancer.console.listen": "127.0.0.1:0"})
        self.console = self.app.registry.getUtility(IConsole)

    @property
    def proxy_port(self):
        return self.console.proxy_thread.bound_port

    @property
    def sessions(self):
        return self.console.proxy_thread.proxy.sessions

    def close(self):
        super().close()
        self.console.close()


# -- the measurements ---------------------------------------------------------------------------

class Bench:
    def __init__(self, server, uuid, vnc):
        self.server = server
        self.uuid = uuid
        self.vnc = vnc
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=STEP_TIMEOUT)

    def close(self):
        self.http.close()

    def post_console(self):
        """POST /vm/<uuid>/console over the keep-alive connection: the ticket."""
        self.http.request("POST", f"/vm/{self.uuid}/console", headers=REQUEST_HEADERS)
        response = self.http.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchmarkError(f"POST /vm/{self.uuid}/console answered {response.status}: "
                                 f"{body[:300]!r}")
        return json.loads(body)

    def token(self):
        token, _expires = self.server.console.tokens.issue(
            user="admin", host=self.server.hypervisor.uri, vm=self.uuid, origin=ORIGIN)
        return token

    async def idle(self):
        """Wait (untimed) until the proxy has finished with earlier connections."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while self.server.sessions:
                await asyncio.sleep(0.001)

    # Each measure_* returns the seconds to the first banner byte; the rest of the banner is
    # read and checked after the clock stopped.

    async def measure_direct(self):
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection(self.vnc["listen"], self.vnc["port"])
        return await read_banner(reader, writer, start, "direct")

    async def _through_proxy(self, url, origin, start):
        async with connect(url, origin=origin, proxy=None, compression=None,
                           open_timeout=STEP_TIMEOUT) as websocket:
            async with asyncio.timeout(STEP_TIMEOUT):
                try:
                    first = await websocket.recv()
                    elapsed = time.perf_counter() - start
                    while len(first) < len(BANNER):
                        first += await websocket.recv()
                except ConnectionClosed as closed:
                    raise BenchmarkError(f"the proxy closed the console: {closed}") from None
        check_banner(first, "proxy")
        await self.idle()
        return elapsed

    async def measure_proxy(self):
        url = f"ws://127.0.0.1:{self.server.proxy_port}/?token={self.token()}"
        return await self._through_proxy(url, ORIGIN, time.perf_counter())

    async def measure_full(self):
        start = time.perf_counter()
        ticket = self.post_console()
        origin = f"http://127.0.0.1:{self.server.port}"   # the page's: the app's host URL
        return await self._through_proxy(ticket["url"], origin, start)

    async def measure_post(self):
        start = time.perf_counter()
        self.post_console()
        return time.perf_counter() - start

    async def measure_open_console(self):
        """The proxy's libvirt part, in a worker thread as the proxy runs it."""
        fleet, local = self.server.hypervisor.fleet, self.server.hypervisor.local
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        sock = await loop.run_in_executor(None, fleet.open_console, self.uuid, local)
        reader, writer = await asyncio.open_connection(sock=sock)
        return await read_banner(reader, writer, start, "open_console")

    async def measure_refused(self):
        """A WebSocket the proxy refuses at once (no token): handshake and close, no libvirt."""
        url = f"ws://127.0.0.1:{self.server.proxy_port}/"
        start = time.perf_counter()
        async with connect(url, origin=ORIGIN, proxy=None, compression=None,
                           open_timeout=STEP_TIMEOUT) as websocket:
            async with asyncio.timeout(STEP_TIMEOUT):
                try:
                    await websocket.recv()
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                else:
                    code = None
        elapsed = time.perf_counter() - start
        if code != 1008:
            raise BenchmarkError(f"a connection without a token was not refused with 1008: {code}")
        return elapsed


async def read_banner(reader, writer, start, what):
    """Read QEMU's RFB banner from a fresh stream, close it and check the banner; the seconds
    from `start` to its first byte."""
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            first = await reader.read(64)
            elapsed = time.perf_counter() - start
            while len(first) < len(BANNER) and (more := await reader.read(64)):
                first += more
    finally:
        writer.close()
        await writer.wait_closed()
    check_banner(first, what)
    return elapsed


def check_banner(data, what):
    if not data.startswith(BANNER):
        raise BenchmarkError(f"{what}: expected the RFB banner {BANNER!r}, got {data[:40]!r}")


async def interleaved(pieces, warmup, reps):
    """Run each (timing, coroutine function) once per round, `warmup` rounds untimed first."""
    for round_index in range(warmup + reps):
        for timing, measure in pieces:
            elapsed = await measure()
            if round_index >= warmup:
                timing.samples.append(elapsed)


async def measure_all(bench, args):
    main = [(Timing("direct: TCP to the VNC port"), bench.measure_direct),
            (Timing("proxy: WebSocket, token issued beforehand"), bench.measure_proxy),
            (Timing("full: POST /vm/<uuid>/console + proxy"), bench.measure_full)]
    await interleaved(main, args.warmup, args.reps)
    pieces = [(Timing("POST /vm/<uuid>/console alone (waitress)"), bench.measure_post),
              (Timing("Fleet.open_console + first byte (libvirt)"), bench.measure_open_console),
              (Timing("refused WebSocket (handshake + 1008 close)"), bench.measure_refused)]
    await interleaved(pieces, args.warmup, args.reps)
    return [timing for timing, _ in main], [timing for timing, _ in pieces]


def run(args):
    # The refused connections of the last piece would each log a warning.
    logging.getLogger("virtdancer.console.proxy").setLevel(logging.ERROR)
    conn = open_libvirt(args.uri)
    losses = ConnectionLosses()
    logging.getLogger("virtdancer.hypervisor.connection").addHandler(losses)
    server = None
    try:
        if remove_vm(conn, args.name):
            log(f"removed {args.name}, left by an earlier run")
        log(f"starting {args.name} on {args.uri}")
        try:
            dom = conn.createXML(tiny_domain_xml(args.name), 0)
        except libvirt.libvirtError as error:
            raise BenchmarkError(f"cannot start {args.name}: {error}") from error
        from virtdancer.hypervisor.display import vnc_display

        vnc = vnc_display(dom)
        if vnc is None or vnc["port"] <= 0:
            raise BenchmarkError(f"{args.name} has no VNC port in its live XML")
        log(f"{args.name}: VNC on {vnc['listen']}:{vnc['port']}; "
            "starting VirtDancer behind waitress")
        server = ConsoleServer(args.uri).start()
        bench = Bench(server, dom.UUIDString(), vnc)
        try:
            main, pieces = asyncio.run(measure_all(bench, args))
        except (BenchmarkError, OSError, WebSocketException) as error:
            if not vm_running(conn, args.name):
                raise BenchmarkError(
                    f"{args.name} stopped during the run: did another script destroy it? "
                    f"[{error}]") from error
            if isinstance(error, BenchmarkError):
                raise
            raise BenchmarkError(f"a connection failed: {error!r}") from error
        finally:
            bench.close()
        if losses.messages:
            raise BenchmarkError("libvirtd went away during the run; the figures would be "
                                 f"wrong: {losses.messages}")
        return {"uri": args.uri, "libvirt": libvirt.getVersion(),
                "python": platform.python_version(), "vnc": vnc, "main": main,
                "pieces": pieces}
    finally:
        logging.getLogger("virtdancer.hypervisor.connection").removeHandler(losses)
        if server is not None:
            server.close()
        final_cleanup(args.uri, conn, args.name)
        close_quietly(conn)


def report(results, args):
    header = table_header("time to the first RFB byte, warm", 46, reps=False)
    lines = ["", f"VirtDancer console latency: {args.uri}, "
             f"libvirt {libvirt_version(results['libvirt'])}, "
             f"Python {results['python']}, {args.reps} connections each after "
             f"{args.warmup} warm-up, alternated", "", header]
    for timing in results["main"]:
        lines.append(timing_row(timing.label, timing, 46, reps=False, fmt=fmt_ms))
    direct, proxy, full = results["main"]
    lines += ["", f"proxy - direct: {fmt_ms(proxy.median - direct.median)} (medians); "
              f"full - proxy: {fmt_ms(full.median - proxy.median)}",
              "", table_header("pieces (timed apart, alternated)", 46, reps=False)]
    for timing in results["pieces"]:
        lines.append(timing_row(timing.label, timing, 46, reps=False, fmt=fmt_ms))
    lines.append("")
    print("\n".join(lines))


def save_json(results, path):
    plain = {key: value for key, value in results.items() if key not in ("main", "pieces")}
    for key in ("main", "pieces"):
        plain[key] = {timing.label: timing.as_dict() for timing in results[key]}
    write_json(plain, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", default="qemu:///system",
                        help="a local libvirt URI with the QEMU driver (default: qemu:///system)")
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"the benchmark VM's name (default: {DEFAULT_NAME}); a domain of "
                             "this name is destroyed first")
    parser.add_argument("--reps", type=int, default=50, help="timed connections of each kind")
    parser.add_argument("--warmup", type=int, default=5, help="untimed connections first")
    add_json_option(parser)
    args = parser.parse_args(argv)
    check_limits(parser, {"--reps": (args.reps, 1, 10000), "--warmup": (args.warmup, 0, 1000)})
    return args


def main(argv=None):
    status, _ = run_and_report(parse_args(argv), run, report, save_json)
    return 0 if status is None else status


if __name__ == "__main__":
    sys.exit(main())
