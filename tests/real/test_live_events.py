"""Live events from a real QEMU host: a change made behind VirtDancer's back (virsh) reaches the
event channel with its detail, and only the users who see the VM.

The VMs here are named `h2-live-<pid>-...` (a tenant's filter picks one of two by name).
"""

import asyncio
import json
import os
import secrets
import statistics
import time

import pytest
import webtest
from websockets.asyncio.client import connect

from virtdancer.security.passwords import hash_password

from ..conftest import SECRET, close_app, make_app
from .conftest import URI, domain_names, domain_xml, remove_domain, virsh

ORIGIN = "http://localhost"


@pytest.fixture
def live_vm(tmp_path):
    """`live_vm(kind)` starts a tiny VM named h2-live-<pid>-<kind>-<hex>; all removed after."""
    made = []

    def make(kind):
        name = f"h2-live-{os.getpid()}-{kind}-{secrets.token_hex(3)}"
        xml_file = tmp_path / f"{name}.xml"
        xml_file.write_text(domain_xml(name))
        made.append(name)
        virsh("define", str(xml_file))
        virsh("start", name)
        return name, virsh("domuuid", name)

    yield make
    for name in made:
        remove_domain(name)
    assert not set(made) & domain_names()


@pytest.fixture
def live_app(tmp_path):
    users = tmp_path / "users.ini"
    password = hash_password("pw")
    users.write_text(f"[admin]\npassword = {password}\nrole = admin\nvms = all\n"
                     f"[tenant]\npassword = {password}\nrole = operator\n"
                     f"prefix = h2-live-{os.getpid()}-seen-\n")
    app = make_app(**{"virtdancer.libvirt_uri": URI, "virtdancer.users_file": str(users),
                      "virtdancer.secret": SECRET,
                      "virtdancer.console.listen": "127.0.0.1:0"})
    yield app
    close_app(app)


def channel_url(app, user):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (user, "pw"))
    return client.post("/events").json["url"].replace("ws://localhost:", "ws://127.0.0.1:")


async def wait_for(websocket, wanted, timeout=30):
    """Every message until `wanted(message)` (that one last)."""
    received = []
    async with asyncio.timeout(timeout):
        while True:
            received.append(json.loads(await websocket.recv()))
            if wanted(received[-1]):
                return received


def paused(uuid):
    return lambda message: (message.get("vm") or {}).get("uuid") == uuid \
        and message.get("event") == "suspended"


def test_virsh_suspend_behind_virtdancers_back_is_an_event_with_its_detail(live_app, live_vm):
    name, uuid = live_vm("seen")

    async def scenario():
        async with connect(channel_url(live_app, "admin"), origin=ORIGIN,
                           proxy=None) as websocket:
            latencies = []
            for _ in range(3):
                before = time.monotonic()
                await asyncio.to_thread(virsh, "suspend", name)
                [*_, event] = await wait_for(websocket, paused(uuid))
                latencies.append(time.monotonic() - before)
                await asyncio.to_thread(virsh, "resume", name)
                await wait_for(websocket, lambda message: message.get("event") == "resumed")
            return event, latencies

    event, latencies = asyncio.run(scenario())
    assert (event["type"], event["host"], event["vm"]["name"]) == ("lifecycle", "default", name)
    assert (event["detail"], event["state_name"]) == ("paused", "paused")
    assert event["summary"] == {"uuid": uuid, "name": name, "active": True}
    assert "resume" in event["vm_detail"]["actions"]
    # virsh's own round trip is most of it; the event must not wait for a poll.
    print(f"virsh suspend -> event: median {statistics.median(latencies) * 1000:.0f} ms")
    assert statistics.median(latencies) < 5


def test_a_hidden_vms_events_never_reach_a_tenant(live_app, live_vm):
    hidden, hidden_uuid = live_vm("hidden")
    seen, seen_uuid = live_vm("seen")

    async def scenario():
        async with connect(channel_url(live_app, "tenant"), origin=ORIGIN,
                           proxy=None) as tenant, \
                connect(channel_url(live_app, "admin"), origin=ORIGIN, proxy=None) as admin:
            await asyncio.to_thread(virsh, "suspend", hidden)
            await wait_for(admin, paused(hidden_uuid))          # it was published
            await asyncio.to_thread(virsh, "suspend", seen)
            return await wait_for(tenant, paused(seen_uuid))

    received = asyncio.run(scenario())
    assert all((message.get("vm") or {}).get("uuid") != hidden_uuid for message in received)
    assert received[-1]["vm"]["name"] == seen
