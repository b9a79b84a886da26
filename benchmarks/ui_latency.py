"""How soon the page shows a change made elsewhere, and what an idle open page costs.

On the real hypervisor (qemu:///system by default), with a tiny QEMU domain `h3-ui-<random>`:

1. latency: `virsh suspend` / `virsh resume` of the domain (here: the same libvirt calls made
   from this script), and the time until the page's row shows `paused` / `running`, read in
   the browser (a MutationObserver stamps the change with the page's clock, the same machine's
   wall clock as this script's), for the page on the event channel (live) and polling;
2. bytes: what an idle open page (the fleet, one VM selected with its charts, the host panel)
   receives per minute, live and polling, HTTP bodies and headers plus WebSocket frames.

Run: `.venv/bin/python benchmarks/ui_latency.py [--uri URI] [--reps 20] [--idle 60]`.
Needs Playwright and Debian's Chromium, as the browser tests do.
"""

import argparse
import secrets
import statistics
import sys
import time

import common

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# Stamps each change of a row's state in the page, with the page's wall clock.
WATCH = """uuid => {
  window.stateChanges = [];
  const row = () => document.querySelector(`[data-fleet] [data-uuid='${uuid}']`);
  new MutationObserver(() => {
    const state = row()?.dataset.state;
    const last = window.stateChanges.at(-1);
    if (state && state !== last?.state) window.stateChanges.push({state, at: Date.now()});
  }).observe(document.querySelector("[data-fleet]"),
             {subtree: true, attributes: true, attributeFilter: ["data-state"], childList: true});
}"""


def log_in(page, url):
    page.goto(url)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin")
    page.click("form[data-login] button[type=submit]")
    page.wait_for_selector("[data-fleet] [data-uuid]")


def wait_state(page, uuid, state, timeout_s=15):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        changes = page.evaluate("window.stateChanges")
        if changes and changes[-1]["state"] == state:
            return changes[-1]["at"] / 1000
        page.wait_for_timeout(10)
    raise common.BenchmarkError(f"the row never showed {state}")


def latencies(page, dom, uuid, reps):
    page.evaluate(WATCH, uuid)
    found = []
    for _ in range(reps):
        for call, state in ((dom.suspend, "paused"), (dom.resume, "running")):
            page.wait_for_timeout(300 + secrets.randbelow(700))   # not in step with a poll
            done = time.time()
            call()
            shown = wait_state(page, uuid, state)
            found.append(max(0.0, shown - done))
    return found


def idle_bytes(page, seconds):
    total = {"bytes": 0, "requests": 0, "frames": 0}

    def on_response(response):
        try:
            sizes = response.request.sizes()
        except Exception:   # an aborted request has none
            return
        total["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        total["requests"] += 1

    def on_socket(socket):
        def frame(payload):
            total["bytes"] += len(payload)
            total["frames"] += 1
        socket.on("framereceived", frame)

    page.on("response", on_response)
    page.on("websocket", on_socket)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("response", on_response)
    page.remove_listener("websocket", on_socket)
    return {key: value * 60 / seconds for key, value in total.items()}


def run(mode, browser, uri, uuid, dom, name, args):
    settings = {"virtdancer.session.secure": "false"}
    if mode == "live":
        settings["virtdancer.console.listen"] = "127.0.0.1:0"
    server = common.Server(uri, **settings).start()
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in(page, f"http://127.0.0.1:{server.port}/")
        # (A page from before live.js has no such line.)
        status = page.evaluate("document.querySelector('[data-live-status]')?.textContent"
                               " || '(not said)'")
        page.click(f"[data-fleet] [data-uuid='{uuid}']")
        page.wait_for_timeout(3000)
        spent = latencies(page, dom, uuid, args.reps)
        # A fuller statistics window (the server keeps 10 minutes): the page's histories grow
        # with it, and so does what a page that asks for them whole costs.
        page.wait_for_timeout(3000 + args.warm * 1000)
        cost = idle_bytes(page, args.idle)
        context.close()
        return status, spent, cost
    finally:
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default="qemu:///system")
    parser.add_argument("--reps", type=int, default=10, help="suspend+resume pairs per mode")
    parser.add_argument("--idle", type=int, default=60, help="seconds of idle page per mode")
    parser.add_argument("--warm", type=int, default=0,
                        help="seconds to wait before measuring the idle page's bytes")
    parser.add_argument("--modes", default="polling,live",
                        help="which of polling,live to measure (a checkout without the event "
                             "channel, to measure the page before it: polling)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    conn = common.open_libvirt(args.uri)
    name = f"h3-ui-{secrets.token_hex(3)}"
    dom = conn.defineXML(common.tiny_domain_xml(name))
    try:
        dom.create()
        uuid = dom.UUIDString()
        results = {}
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                for mode in args.modes.split(","):
                    results[mode] = run(mode, browser, args.uri, uuid, dom, name, args)
            finally:
                browser.close()
    finally:
        common.destroy_and_undefine(dom)
        common.close_quietly(conn)

    print(f"{'mode':8} {'status shown':22} {'median ms':>9} {'p90 ms':>7} {'max ms':>7} "
          f"{'bytes/min':>10} {'requests/min':>12} {'frames/min':>10}")
    for mode, (status, spent, cost) in results.items():
        ms = sorted(1000 * value for value in spent) or [float("nan")]
        p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
        print(f"{mode:8} {status:22} {statistics.median(ms):9.0f} {p90:7.0f} {ms[-1]:7.0f} "
              f"{cost['bytes']:10.0f} {cost['requests']:12.1f} {cost['frames']:10.1f}")
    if {"polling", "live"} <= set(results):
        polling, live = results["polling"][2]["bytes"], results["live"][2]["bytes"]
        print(f"idle bytes: polling/live = {polling / max(live, 1):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
