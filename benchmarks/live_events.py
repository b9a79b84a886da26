#!/usr/bin/env python3
"""Benchmark: what 50 open pages' event channels cost the server.

Serves VirtDancer with waitress on 127.0.0.1 (its console proxy, which carries the event
channel, inline on 127.0.0.1:7201 unless --proxy-port says otherwise) in front of libvirt's test
driver (the demo fleet; --uri for another host), then:

  threads  opens --clients WebSocket channels (POST /events, then connect, as a page does) and
           counts the waitress worker threads busy meanwhile (goal: 0) and the process's threads;
  idle     the process's CPU time per second over --idle seconds, with no client and with the
           clients open and nothing happening (the clients live in this process too: the figure
           is an upper bound of the server's own);
  latency  GET /vm/<uuid> over a keep-alive connection, timed in rounds that alternate between
           no client and the clients open (opened anew each round; goal: with / without
           <= 1.2 at the median);
  events   with the clients open, one VM paused and resumed --events times: the time until every
           client has the event (median and p90 of the slowest client).

    python benchmarks/live_events.py [--clients 50] [--reps 300] [--rounds 4] [--idle 10]

Exit status: 0 measured, 2 the benchmark could not measure.
"""

import argparse
import asyncio
import http.client
import json
import os
import platform
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from common import (  # noqa: E402  (also puts the repository root on sys.path)
    REQUEST_HEADERS,
    BenchmarkError,
    Client,
    Server,
    Timing,
    fmt_ms,
    log,
    measure,
)

DEMO_URI = "test:///" + os.path.join(os.path.dirname(HERE), "virtdancer", "demo", "fleet.xml")
WEB_1 = "6f1c3a52-2d4e-4b8a-9e61-0a7c5d2f8b11"     # the demo fleet's, read by every GET
BUILD_1 = "e9b2c6a4-0f83-4d57-a1e3-5c8f2d7b9e44"   # the one the events phase pauses


class Channels:
    """`count` event channels on an asyncio loop of their own, each counting what it gets."""

    def __init__(self, port, count):
        self.port = port
        self.count = count
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-channels",
                                       daemon=True)
        self.websockets = []
        self.seen = {}          # seq -> [monotonic time each client got it]
        self.tasks = []

    def open(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self.loop).result(timeout=120)
        return self

    def urls(self):
        urls = []
        for _ in range(self.count):
            http = http_client(self.port)
            http.request("POST", "/events", headers=REQUEST_HEADERS)
            answer = http.getresponse()
            if answer.status != 200:
                raise BenchmarkError(f"POST /events answered {answer.status}: {answer.read()}")
            urls.append(json.loads(answer.read())["url"].replace("localhost", "127.0.0.1"))
            http.close()
        return urls

    async def _open(self):
        from websockets.asyncio.client import connect

        for url in await asyncio.to_thread(self.urls):
            websocket = await connect(url, proxy=None)
            self.websockets.append(websocket)
            self.tasks.append(asyncio.ensure_future(self._read(websocket)))

    async def _read(self, websocket):
        async for message in websocket:
            event = json.loads(message)
            self.seen.setdefault(event["seq"], []).append(time.monotonic())

    def close(self):
        async def close_all():
            for websocket in self.websockets:
                await websocket.close()
            await asyncio.gather(*self.tasks, return_exceptions=True)

        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(timeout=60)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


def http_client(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def cpu_per_second(seconds):
    start_cpu, start = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - start_cpu) / (time.monotonic() - start)


def get_vm(client):
    status, _, _ = client.get(f"/vm/{WEB_1}")
    if status != 200:
        raise BenchmarkError(f"GET /vm/{WEB_1} answered {status}")


def event_delivery(server, channels, client, count):
    """Per action, the time until the slowest client has its event."""
    hub_seq = server.app.registry.getUtility(__import__(
        "virtdancer.interfaces", fromlist=["IEventHub"]).IEventHub)
    times = []
    for number in range(count):
        action = "pause" if number % 2 == 0 else "resume"
        before_seq = hub_seq.seq
        start = time.monotonic()
        client.http.request("POST", f"/vm/{BUILD_1}/action",
                            body=json.dumps({"action": action}),
                            headers={**REQUEST_HEADERS, "Content-Type": "application/json"})
        client.http.getresponse().read()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            arrived = [stamps for seq, stamps in list(channels.seen.items())
                       if seq > before_seq and len(stamps) == channels.count]
            if arrived:
                times.append(max(arrived[0]) - start)
                break
            time.sleep(0.001)
        else:
            raise BenchmarkError(f"not every client got the event of {action} within 10 s")
    return Timing("events", times)


def run(args):
    server = Server(args.uri, **{"virtdancer.console.listen": f"127.0.0.1:{args.proxy_port}"})
    channels = None
    try:
        server.start()
        dispatcher = server.server.task_dispatcher
        client = Client(server.port)
        idle_without = cpu_per_second(args.idle)
        without, with_clients = [], []
        for round_number in range(args.rounds):
            timing, _ = measure("none", lambda: get_vm(client), warmup=20, reps=args.reps)
            without.extend(timing.samples)
            channels = Channels(server.port, args.clients).open()
            time.sleep(1)
            if round_number == 0:
                busy = dispatcher.active_count
                threads = threading.active_count()
                idle_with = cpu_per_second(args.idle)
            timing, _ = measure("clients", lambda: get_vm(client), warmup=20, reps=args.reps)
            with_clients.extend(timing.samples)
            if round_number < args.rounds - 1:   # the last round's stay for the events
                channels.close()
                channels = None
            log(f"round {round_number + 1}/{args.rounds}: GET median "
                f"{fmt_ms(statistics.median(without[-args.reps:]))} without, "
                f"{fmt_ms(statistics.median(with_clients[-args.reps:]))} with")
        deliveries = event_delivery(server, channels, client, args.events)
        client.close()
        return {
            "clients": args.clients, "waitress_threads_busy_with_clients": busy,
            "process_threads_with_clients": threads,
            "cpu_per_s_idle_without": idle_without, "cpu_per_s_idle_with": idle_with,
            "get_vm_without": Timing("without", without), "get_vm_with": Timing("with",
                                                                                with_clients),
            "event_to_every_client": deliveries,
        }
    finally:
        if channels is not None:
            channels.close()
        server.close()


def report(figures):
    without, with_clients = figures["get_vm_without"], figures["get_vm_with"]
    ratio = with_clients.median / without.median
    print(f"live_events on {platform.node()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  {figures['clients']} channels open: waitress threads busy "
          f"{figures['waitress_threads_busy_with_clients']} (goal 0), process threads "
          f"{figures['process_threads_with_clients']}")
    print(f"  idle CPU: {figures['cpu_per_s_idle_without'] * 100:.1f} % without clients, "
          f"{figures['cpu_per_s_idle_with'] * 100:.1f} % with them (clients included)")
    print(f"  GET /vm/<uuid>: median {fmt_ms(without.median)} without, "
          f"{fmt_ms(with_clients.median)} with; p90 {fmt_ms(without.p90)} / "
          f"{fmt_ms(with_clients.p90)}; ratio {ratio:.2f}x (goal <= 1.2x): "
          f"{'PASS' if ratio <= 1.2 else 'FAIL'}")
    deliveries = figures["event_to_every_client"]
    print(f"  action -> event at every client: median {fmt_ms(deliveries.median)}, p90 "
          f"{fmt_ms(deliveries.p90)} ({len(deliveries.samples)} actions)")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=DEMO_URI, help="the libvirt host (default: the demo "
                                                        "fleet on the test driver)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reps", type=int, default=300, help="GETs per round and phase")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU sampling")
    parser.add_argument("--events", type=int, default=20, help="actions timed to every client")
    parser.add_argument("--proxy-port", type=int, default=7201)
    args = parser.parse_args()
    try:
        return report(run(args))
    except BenchmarkError as error:
        log(f"live_events: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
