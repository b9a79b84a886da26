"""Storage pools' and virtual networks' events on the live channel: typed by the host's
connection, published with `vm` null, and received by every user who sees their host only."""

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from virtdancer.hypervisor.events import NetworkEvent, PoolEvent
from virtdancer.live.feed import HostEventFeed
from virtdancer.live.hub import EventHub, QueueSubscription, Viewer
from virtdancer.live.terminal import in_words
from virtdancer.security.passwords import hash_password

from .conftest import DEMO_URI, DEMO_USERS, LAB_URI, close_app, make_app
from .test_live_events import ORIGIN, channel_url, client, in_thread, receive


@pytest.fixture
def app(tmp_path):
    """The demo and lab hosts; `solo` (password `solo`) sees the demo host only."""
    users_file = tmp_path / "users.ini"
    users_file.write_text(Path(DEMO_USERS).read_text()
                          + f"\n[solo]\npassword = {hash_password('solo')}\nrole = viewer\n"
                          "vms = all\nhosts = default\n")
    app = make_app(**{"virtdancer.console.listen": "127.0.0.1:0",
                      "virtdancer.users_file": str(users_file),
                      "virtdancer.hosts": f"default = {DEMO_URI}\nlab = {LAB_URI}"})
    yield app
    close_app(app)


def about(kind, name, event, host="default"):
    return lambda message: (message["type"], message.get(kind), message.get("event"),
                            message["host"]) == (kind, name, event, host)


def pool_action(app, action, host="default"):
    client(app, "admin").post_json(f"/hosts/{host}/pools/default/action", {"action": action})


def network_action(app, action, host="default", name="isolated"):
    client(app, "admin").post_json(f"/hosts/{host}/networks/{name}/action",
                                   {"action": action})


def test_a_pool_refreshed_reaches_a_tenant_who_reads_the_hosts_pools(app):
    async def scenario():
        async with connect(channel_url(app, "tenant"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(pool_action, app, "refresh")
            return await receive(websocket, about("pool", "default", "refreshed"))

    refreshed = asyncio.run(scenario())[-1]
    assert refreshed["vm"] is None
    assert set(refreshed) == {"seq", "time", "host", "type", "vm", "pool", "event"}


def test_a_pool_stopped_and_started_are_two_events_in_order(app):
    async def scenario():
        async with connect(channel_url(app, "viewer"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(pool_action, app, "stop")
            await in_thread(pool_action, app, "start")
            return await receive(websocket, about("pool", "default", "started"))

    said = [message["event"] for message in asyncio.run(scenario())
            if message["type"] == "pool"]
    assert said == ["stopped", "started"]


def test_a_network_stopped_and_started_are_network_events(app):
    async def scenario():
        async with connect(channel_url(app, "viewer"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(network_action, app, "stop")
            await in_thread(network_action, app, "start")
            return await receive(websocket, about("network", "isolated", "started"))

    received = [message for message in asyncio.run(scenario()) if message["type"] == "network"]
    assert [(message["network"], message["event"], message["vm"]) for message in received] == [
        ("isolated", "stopped", None), ("isolated", "started", None)]


def test_a_user_who_does_not_see_a_host_receives_none_of_its_pools_or_networks(app):
    async def scenario():
        async with connect(channel_url(app, "solo"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(network_action, app, "stop", "lab")     # hidden from solo
            await in_thread(pool_action, app, "refresh", "lab")     # hidden from solo
            await in_thread(network_action, app, "stop")            # then one solo sees
            return await receive(websocket, about("network", "isolated", "stopped"))

    received = asyncio.run(scenario())
    assert all(message["host"] == "default" for message in received)
    assert client(app, "solo").get("/hosts/lab/networks", status=404)


def test_the_feed_publishes_typed_events_with_vm_null():
    class Hosts:
        def names(self):
            return ["default"]

        def add_listener(self, listener):
            pass

    hub = EventHub()
    subscription = QueueSubscription(Viewer())
    hub.subscribe(subscription)
    feed = HostEventFeed(Hosts(), hub)
    feed.publish(PoolEvent("default", "images", "deleted"))
    feed.publish(NetworkEvent("default", "lan", "undefined"))
    pool, network = subscription.queue.get_nowait(), subscription.queue.get_nowait()
    assert (pool["type"], pool["pool"], pool["event"], pool["vm"]) == (
        "pool", "images", "deleted", None)
    assert (network["type"], network["network"], network["event"]) == (
        "network", "lan", "undefined")
    assert in_words(pool).endswith("default  -  pool images deleted")


def test_a_viewer_limited_to_other_hosts_is_not_offered_them():
    hub = EventHub()
    elsewhere = QueueSubscription(Viewer(sees_host=lambda name: name == "lab"))
    limited_to_some_vms = QueueSubscription(Viewer(sees=lambda name: name == "web-1"))
    hub.subscribe(elsewhere)
    hub.subscribe(limited_to_some_vms)
    hub.publish("pool", "default", None, pool="images", event="refreshed")
    assert elsewhere.queue.empty()
    assert limited_to_some_vms.queue.get_nowait()["pool"] == "images"
