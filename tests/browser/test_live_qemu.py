"""The live page on the real hypervisor: each `virsh suspend` and `resume` of a QEMU VM
reaches the page as an event on its channel, and the VM's row follows it, with the page
still live and asking for no fleet in between.

How fast is measured by benchmarks/ui_latency.py (issue 14's goal: a median under 250 ms,
against polling, with p90 and bytes per minute), not here: a loaded test machine would make
a timed assertion fail for no fault. The test prints what it saw.

Like test_console.py this needs libvirtd with QEMU (the tests/real ring).
"""

import json
import os
import secrets
import statistics
import time

import pytest

from ..real.conftest import domain_xml, libvirtd_problem, remove_domain, virsh
from .conftest import unavailable
from .pages import entry, expect, log_in

QEMU = "qemu:///system"
ROUNDS = 5

# Stamps each change of the VM's row with the page's clock (this machine's wall clock).
WATCH = """uuid => {
  window.stateChanges = [];
  new MutationObserver(() => {
    const state = document.querySelector(`[data-fleet] [data-uuid='${uuid}']`)?.dataset.state;
    if (state && state !== window.stateChanges.at(-1)?.state) {
      window.stateChanges.push({state, at: Date.now()});
    }
  }).observe(document.querySelector("[data-fleet]"),
             {subtree: true, attributes: true, attributeFilter: ["data-state"]});
}"""


@pytest.fixture
def running_vm(tmp_path):
    """A tiny running QEMU VM, named with this helper's prefix; removed afterwards."""
    problem = libvirtd_problem()
    if problem is not None:
        unavailable(f"libvirtd is needed for the live test: {problem}")
    name = f"h3-live-{os.getpid()}-{secrets.token_hex(3)}"
    xml = tmp_path / "vm.xml"
    xml.write_text(domain_xml(name))
    try:
        virsh("create", str(xml))
        yield name, virsh("domuuid", name)
    finally:
        remove_domain(name)


def shown_at(page, state, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = page.evaluate("window.stateChanges.at(-1)")
        if last and last["state"] == state:
            return last["at"] / 1000
        page.wait_for_timeout(10)
    raise AssertionError(f"the row did not show {state} within {timeout_s} s")


def fleet_request(request):
    """Whether the page asked for the fleet (GET vm or hosts, with or without ?detail)."""
    path = request.url.split("?", 1)[0].rstrip("/")
    return request.method == "GET" and path.endswith(("/vm", "/hosts"))


@pytest.mark.app_settings({"virtdancer.libvirt_uri": QEMU,
                           "virtdancer.console.listen": "127.0.0.1:0"})
def test_virsh_suspend_reaches_the_row_as_an_event(page, server, running_vm):
    name, uuid = running_vm
    frames = []
    page.on("websocket", lambda socket: socket.on("framereceived",
                                                        lambda frame: frames.append(frame)))
    log_in(page, server.url, "admin")
    live = page.locator("[data-live-status]")
    expect(live).to_have_text("Live")
    expect(entry(page, uuid)).to_have_attribute("data-state", "running")
    page.evaluate(WATCH, uuid)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if fleet_request(request)
            else None)
    spent = []
    for _ in range(ROUNDS):
        for command, state in (("suspend", "paused"), ("resume", "running")):
            page.wait_for_timeout(300)
            virsh(command, name)
            done = time.time()
            spent.append(max(0.0, shown_at(page, state) - done))
    expect(live).to_have_text("Live")

    events = [json.loads(frame) for frame in frames if isinstance(frame, str)]
    changes = [event["event"] for event in events if event.get("type") == "lifecycle"
               and (event.get("vm") or {}).get("uuid") == uuid
               and event.get("event") in ("suspended", "resumed")]
    assert changes == ["suspended", "resumed"] * ROUNDS, changes
    # Live, the page polls the fleet once a minute as a safety net only: the rows followed
    # the events (a poll could only land here if the rounds took most of a minute).
    assert len(polls) <= 1, polls
    median = statistics.median(spent)
    print(f"virsh → row: median {median * 1000:.0f} ms, max {max(spent) * 1000:.0f} ms "
          f"over {len(spent)} changes, {len(polls)} fleet polls meanwhile")
