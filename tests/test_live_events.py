"""The live event channel: POST /events, then libvirt's events over a WebSocket, each only to
the users who see its VM, resumable by `seq`."""

import asyncio
import json
import time
from pathlib import Path

import pytest
import webtest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from virtdancer.interfaces import IConsole, IEventHub, IHostRegistry
from virtdancer.live.hub import QueueSubscription, Viewer

from .conftest import BUILD_1, DEMO_USERS, WEB_1, WEB_2, close_app, make_app

ORIGIN = "http://localhost"
POLICY_VIOLATION, TRY_AGAIN_LATER = 1008, 1013


@pytest.fixture
def app():
    app = make_app(**{"virtdancer.console.listen": "127.0.0.1:0",
                      "virtdancer.events.keep": "5"})
    try:
        host_connected(app)
        yield app
    finally:
        close_app(app)


def host_connected(app, timeout=10):
    """Wait for the host's first event, "connected": the feed's thread publishes it when it
    gets its turn, which on a loaded machine may fall between the events a test publishes."""
    hub = app.registry.getUtility(IEventHub)
    deadline = time.monotonic() + timeout
    while not any(event["type"] == "host" for event in list(hub._kept)):
        assert time.monotonic() < deadline, "the host's connection was never told"
        time.sleep(0.01)


def client(app, user):
    testapp = webtest.TestApp(app)
    testapp.authorization = ("Basic", (user, user))
    return testapp


def channel_url(app, user, since="now"):
    """The URL POST /events answers `user`, on 127.0.0.1 (the answer names `localhost`).

    By default it resumes from the hub's newest event: what a test does once `connect`
    returns may happen before the server has subscribed the channel, and must not be missed.
    """
    url = client(app, user).post("/events").json["url"]
    url = url.replace("ws://localhost:", "ws://127.0.0.1:")
    if since == "now":
        since = app.registry.getUtility(IEventHub).seq
    return url if since is None else f"{url}&since={since}"


def act(app, uuid, action, user="admin"):
    client(app, user).post_json(f"/vm/{uuid}/action", {"action": action})


async def in_thread(function, *args):
    """Run a blocking request (WebTest) off the loop that receives the events."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def receive(websocket, wanted, timeout=20):
    """The messages received until one `wanted(message)` is (that one last)."""
    received = []
    async with asyncio.timeout(timeout):
        while True:
            received.append(json.loads(await websocket.recv()))
            if wanted(received[-1]):
                return received


def about(uuid, state_name):
    return lambda message: (message.get("vm") or {}).get("uuid") == uuid \
        and message.get("state_name") == state_name


def test_post_events_answers_a_websocket_url_with_a_ticket(app):
    answer = client(app, "viewer").post("/events").json
    assert answer["url"].startswith("ws://localhost:") and "/events?ticket=" in answer["url"]
    assert answer["expires"] > 0


def test_post_events_without_a_proxy_is_a_501():
    app = make_app()
    try:
        response = client(app, "viewer").post("/events", status=501)
        assert "virtdancer.console.listen" in response.json["message"]
    finally:
        close_app(app)


def test_a_suspended_vm_is_an_event_with_its_new_state_and_summary(app):
    async def scenario():
        async with connect(channel_url(app, "tenant"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(act, app, WEB_1, "pause")
            return await receive(websocket, about(WEB_1, "paused"))

    paused = asyncio.run(scenario())[-1]
    assert paused["type"] == "lifecycle" and paused["host"] == "default"
    assert paused["vm"] == {"uuid": WEB_1, "name": "web-1"}
    assert (paused["event"], paused["detail"], paused["state"]) == ("suspended", "paused", 3)
    assert paused["summary"] == {"uuid": WEB_1, "name": "web-1", "active": True}
    assert paused["vm_detail"]["state_name"] == "paused"
    assert "resume" in paused["vm_detail"]["actions"]
    assert isinstance(paused["seq"], int) and isinstance(paused["time"], float)


def test_a_viewer_gets_the_vms_detail_without_actions(app):
    async def scenario():
        async with connect(channel_url(app, "viewer"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(act, app, WEB_1, "pause")
            return await receive(websocket, about(WEB_1, "paused"))

    detail = asyncio.run(scenario())[-1]["vm_detail"]
    assert (detail["actions"], detail["operable"], detail["console"]) == ([], False, False)


def test_a_tenant_never_receives_the_events_of_a_vm_it_does_not_see(app):
    hub = app.registry.getUtility(IEventHub)
    everything = QueueSubscription(Viewer())   # what the hub published meanwhile, to anyone
    hub.subscribe(everything)
    since = hub.seq

    async def scenario():
        async with connect(channel_url(app, "tenant", since), origin=ORIGIN,
                           proxy=None) as websocket:
            await in_thread(act, app, BUILD_1, "pause")    # hidden from the tenant
            await in_thread(act, app, WEB_1, "pause")      # then one it sees
            return await receive(websocket, about(WEB_1, "paused"))

    try:
        received = asyncio.run(scenario())
    finally:
        hub.unsubscribe(everything)
    assert all(message["vm"] is None or message["vm"]["name"].startswith("web-")
               for message in received)
    # Each action's audit record is published by the trail's thread, and may come after the
    # paused event: only what was published up to it can be compared.
    last = received[-1]["seq"]
    published = [event for event in iter_queue(everything) if since < event["seq"] <= last]
    # The hidden VM's lifecycle event came before (one host's events are published in order),
    # and was skipped; every other one was received.
    assert any(event["vm"] and event["vm"]["uuid"] == BUILD_1 for event in published)
    assert [message["seq"] for message in received] == [
        event["seq"] for event in published
        if not (event["vm"] and event["vm"]["uuid"] == BUILD_1)]


def iter_queue(subscription):
    """The events a `QueueSubscription` holds, oldest first."""
    while not subscription.queue.empty():
        yield subscription.queue.get_nowait()


def test_a_client_resumes_from_its_last_seq(app):
    hub = app.registry.getUtility(IEventHub)
    last = hub.publish("lifecycle", "default", {"uuid": WEB_1, "name": "web-1"})["seq"]
    hub.publish("lifecycle", "default", {"uuid": BUILD_1, "name": "build-1"}, state_name="x")
    missed = hub.publish("lifecycle", "default", {"uuid": WEB_2, "name": "web-2"},
                         state_name="missed")

    async def scenario():
        async with connect(channel_url(app, "tenant", since=last), origin=ORIGIN,
                           proxy=None) as websocket:
            return await receive(websocket, about(WEB_2, "missed"))

    # Only what the tenant sees of what it missed, and nothing it had already.
    assert [message["seq"] for message in asyncio.run(scenario())] == [missed["seq"]]


def test_a_channel_without_since_starts_when_its_ticket_was_issued(app):
    """The page says "Live" as soon as its socket opens, before the server has subscribed it:
    what was published after POST /events comes first, not lost."""
    hub = app.registry.getUtility(IEventHub)
    url = channel_url(app, "tenant", since=None)
    hub.publish("lifecycle", "default", {"uuid": BUILD_1, "name": "build-1"}, state_name="x")
    between = hub.publish("lifecycle", "default", {"uuid": WEB_2, "name": "web-2"},
                          state_name="between")

    async def scenario():
        async with connect(url, origin=ORIGIN, proxy=None) as websocket:
            return await receive(websocket, about(WEB_2, "between"))

    # Only what the tenant sees of it: build-1's event is not the tenant's.
    assert [message["seq"] for message in asyncio.run(scenario())] == [between["seq"]]


def test_a_mark_of_another_hub_means_nothing_here(app):
    hub = app.registry.getUtility(IEventHub)
    assert hub.since_mark(hub.mark) == hub.seq
    # Another process's hub (a separate proxy's, or this one before a restart) counts its own.
    assert hub.since_mark(f"{'0' * 16}:{hub.seq}") is None
    for mark in ("", ":", f"{hub.numbering}:", f"{hub.numbering}:-1", f"{hub.numbering}:x"):
        assert hub.since_mark(mark) is None, mark


def test_a_client_too_far_behind_is_told_to_reload(app):
    hub = app.registry.getUtility(IEventHub)
    first = hub.publish("lifecycle", "default", {"uuid": WEB_1, "name": "web-1"})["seq"]
    for _ in range(6):   # the app keeps 5
        hub.publish("lifecycle", "default", {"uuid": WEB_1, "name": "web-1"})

    async def first_message(since):
        async with connect(channel_url(app, "tenant", since=since), origin=ORIGIN,
                           proxy=None) as websocket:
            return json.loads(await asyncio.wait_for(websocket.recv(), 5))

    reload = asyncio.run(first_message(first - 1))
    assert (reload["type"], reload["seq"], reload["vm"]) == ("reload", hub.seq, None)
    # A seq this process never gave (the server restarted since) is as old.
    assert asyncio.run(first_message(hub.seq + 100))["type"] == "reload"


def refusal(url, origin=ORIGIN):
    async def scenario():
        async with connect(url, origin=origin, proxy=None) as websocket:
            try:
                async with asyncio.timeout(5):
                    await websocket.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code, closed.rcvd.reason
        pytest.fail("the channel accepted the connection")

    return asyncio.run(scenario())


def test_a_ticket_opens_one_channel_only(app):
    url = channel_url(app, "viewer")

    async def use_once():
        async with connect(url, origin=ORIGIN, proxy=None):
            pass

    asyncio.run(use_once())
    assert refusal(url) == (POLICY_VIOLATION,
                            "event ticket was used already: ask POST /events for another")


def test_an_expired_ticket_is_refused(app):
    tickets = app.registry.getUtility(IConsole).event_tickets
    url = channel_url(app, "viewer")
    tickets.clock = lambda: 4e9
    code, reason = refusal(url)
    assert (code, reason) == (POLICY_VIOLATION,
                              "event ticket expired: ask POST /events for another")


def test_a_forged_or_missing_ticket_is_refused(app):
    url = channel_url(app, "viewer", since=None)
    assert refusal(url[:-3] + "AAA")[0] == POLICY_VIOLATION
    assert refusal(url.split("?")[0])[1] == "no event ticket: ask POST /events for the " \
                                            "channel's URL"


def test_a_page_of_another_origin_is_refused_and_its_ticket_stays_good(app):
    url = channel_url(app, "viewer")
    assert refusal(url, origin="http://evil.example") == (
        POLICY_VIOLATION, "origin http://evil.example may not open the event channel")

    async def scenario():
        async with connect(url, origin=ORIGIN, proxy=None) as websocket:
            return websocket.state.name

    assert asyncio.run(scenario()) == "OPEN"


def test_a_bad_since_is_refused(app):
    code, reason = refusal(channel_url(app, "viewer", since=None) + "&since=-1")
    assert (code, reason) == (POLICY_VIOLATION,
                              "since must be the seq of the last event received")


def test_many_clients_each_receive_every_event(app):
    hub = app.registry.getUtility(IEventHub)

    async def scenario():
        urls = [channel_url(app, "viewer") for _ in range(20)]
        websockets = [await connect(url, origin=ORIGIN, proxy=None) for url in urls]
        try:
            await in_thread(act, app, WEB_1, "pause")
            return [(await receive(websocket, about(WEB_1, "paused")))[-1]["seq"]
                    for websocket in websockets]
        finally:
            for websocket in websockets:
                await websocket.close()

    async def unsubscribed(timeout=10):
        # The proxy's loop ends each closed channel's subscription after the client's close.
        async with asyncio.timeout(timeout):
            while hub.subscribers:
                await asyncio.sleep(0.05)

    seqs = asyncio.run(scenario())
    assert len(seqs) == 20 and len(set(seqs)) == 1
    asyncio.run(unsubscribed())
    assert hub.subscribers == 0


def test_a_client_that_does_not_keep_up_is_dropped(app):
    hub = app.registry.getUtility(IEventHub)
    console = app.registry.getUtility(IConsole)
    channel = console.proxy_thread.proxy.events
    channel.queue_size = 3

    async def scenario():
        # A client that reads nothing: past one message, websockets stops reading its socket.
        async with connect(channel_url(app, "viewer"), origin=ORIGIN, proxy=None,
                           max_queue=1) as websocket:
            # `connect` may return before the server has subscribed the channel. Flooded
            # before that, the hub (which keeps 5 events here) would answer the channel
            # "reload" and nothing more, and nothing would ever overflow its queue.
            async with asyncio.timeout(10):
                while not hub.subscribers:
                    await asyncio.sleep(0.01)

            def flood():
                for number in range(3000):
                    hub.publish("metadata", "default", None, text="x" * 2000, number=number)

            await in_thread(flood)
            # Dropped by the server without reading a thing (its close gives up waiting for
            # the client's answer after websockets' close timeout, 10 s).
            async with asyncio.timeout(30):
                while hub.subscribers:
                    await asyncio.sleep(0.1)
            try:
                async with asyncio.timeout(10):
                    while True:
                        await websocket.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd is not None else None

    # The close frame, if it got through before the server cut the connection.
    assert asyncio.run(scenario()) in (TRY_AGAIN_LATER, None)
    assert hub.subscribers == 0


def test_a_description_changed_is_a_metadata_event(app):
    async def scenario():
        async with connect(channel_url(app, "tenant"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(lambda: client(app, "admin").patch_json(
                f"/vm/{WEB_1}", {"description": "a new one"}))
            return await receive(websocket, lambda message: message["type"] == "metadata")

    metadata = asyncio.run(scenario())[-1]
    assert (metadata["vm"]["uuid"], metadata["metadata"]) == (WEB_1, "description")


def test_a_lost_host_and_its_return_are_host_events(app):
    connection = app.registry.getUtility(IHostRegistry).get("default").connection

    async def scenario():
        async with connect(channel_url(app, "viewer"), origin=ORIGIN, proxy=None) as websocket:
            await in_thread(connection._lost, connection.get(), "a test pulled the plug")
            return await receive(websocket, lambda message: message.get("state") == "back",
                                 timeout=30)

    received = [message for message in asyncio.run(scenario()) if message["type"] == "host"]
    # The app's first "connected" may reach the channel too, when the feed told it late.
    while received and received[0]["state"] == "connected":
        received.pop(0)
    assert [(message["host"], message["state"], message["vm"]) for message in received] == [
        ("default", "lost", None), ("default", "back", None)]
    assert received[0]["reason"] == "a test pulled the plug"


def test_the_channel_of_a_user_removed_meanwhile_closes(app, tmp_path, monkeypatch):
    users = tmp_path / "users.ini"
    users.write_text(Path(DEMO_USERS).read_text())
    other = make_app(**{"virtdancer.console.listen": "127.0.0.1:0",
                        "virtdancer.users_file": str(users)})
    monkeypatch.setattr("virtdancer.live.channel.RECHECK", 0)
    try:
        async def scenario():
            async with connect(channel_url(other, "tenant"), origin=ORIGIN,
                               proxy=None) as websocket:
                users.write_text(Path(DEMO_USERS).read_text().replace("[tenant]", "[gone]"))
                await in_thread(act, other, WEB_1, "pause")
                try:
                    await receive(websocket, lambda message: False)
                except ConnectionClosed as closed:
                    return closed.rcvd.code, closed.rcvd.reason

        assert asyncio.run(scenario()) == (POLICY_VIOLATION,
                                           "the event ticket's user no longer exists")
    finally:
        close_app(other)
