"""The Storage and Networks views ask again as soon as the live channel tells of a change to
their host's pools or networks, instead of waiting for their next poll (every 5 s)."""

from .hostviews import network_row, open_view, pool_row
from .pages import expect, log_in
from .test_live import FakeChannel

# Well under the views' poll: a change shown this soon after a poll came from the event.
SOON_MS = 2000


def listing_of(what):
    return lambda request: request.method == "GET" and request.url.endswith(f"/{what}")


def test_a_pool_event_redraws_the_storage_view_before_its_poll(page, server, api):
    channel = FakeChannel(page, server)
    log_in(page, server.url, "admin")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    view = open_view(page, "storage")
    state = pool_row(view, "default").locator(".pool-state")
    expect(state).to_have_text("running")
    # Right after a poll (its last request, the chosen pool's volumes): the next is 5 s away.
    page.wait_for_event("requestfinished", listing_of("volumes"), timeout=10000)
    assert api.call("POST", "pools/default/action", {"action": "stop"})[0] == 200
    # An event of another host changes nothing here.
    channel.send({"seq": 7, "time": 1.0, "host": "lab", "type": "pool", "vm": None,
                  "pool": "default", "event": "stopped"})
    page.wait_for_timeout(300)
    expect(state).to_have_text("running")
    channel.send({"seq": 8, "time": 1.0, "host": "default", "type": "pool", "vm": None,
                  "pool": "default", "event": "stopped"})
    expect(state).to_have_text("inactive", timeout=SOON_MS)


def test_a_network_event_redraws_the_networks_view_before_its_poll(page, server, api):
    channel = FakeChannel(page, server)
    log_in(page, server.url, "admin")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    view = open_view(page, "networks")
    state = network_row(view, "isolated").locator(".net-state")
    expect(state).to_have_text("active")
    page.wait_for_event("requestfinished", listing_of("networks"), timeout=10000)
    assert api.call("POST", "networks/isolated/action", {"action": "stop"})[0] == 200
    channel.send({"seq": 9, "time": 1.0, "host": "default", "type": "network", "vm": None,
                  "network": "isolated", "event": "stopped"})
    expect(state).to_have_text("inactive", timeout=SOON_MS)
