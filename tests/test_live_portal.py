"""The event channel in a host portal with its own security: what the portal's identity sees
when it asks for the ticket is what its channel receives."""

import asyncio

from websockets.asyncio.client import connect

from virtdancer.interfaces import IEventHub

from .conftest import BUILD_1, DEMO_URI, SECRET, WEB_1, close_app
from .test_live_events import ORIGIN, about, receive
from .test_mounting import PortalSecurityPolicy, as_user, make_host


def test_a_portal_users_channel_has_only_the_vms_it_sees():
    app = make_host({"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.secret": SECRET,
                     "virtdancer.console.listen": "127.0.0.1:0"},
                    policy=PortalSecurityPolicy())
    try:
        alice = as_user(app, "alice")      # an operator who sees web-*
        url = alice.post("/virt/events").json["url"].replace("localhost", "127.0.0.1")
        # Resuming from now: carol's actions must not come before the channel is subscribed.
        url += f"&since={app.registry.getUtility(IEventHub).seq}"
        carol = as_user(app, "carol")      # an admin who sees every VM

        async def scenario():
            async with connect(url, origin=ORIGIN, proxy=None) as websocket:
                for uuid in (BUILD_1, WEB_1):
                    await asyncio.to_thread(carol.post_json, f"/virt/vm/{uuid}/action",
                                            {"action": "pause"})
                return await receive(websocket, about(WEB_1, "paused"))

        received = asyncio.run(scenario())
    finally:
        close_app(app)
    # web-1's audit record (published by the trail's thread) may come before or after its
    # lifecycle event; build-1's events, lifecycle and audit, never come.
    assert {message["vm"]["name"] for message in received if message["vm"]} == {"web-1"}
    assert "resume" in received[-1]["vm_detail"]["actions"]
