"""How the page hears of changes (live.js): the event channel when the server offers one, the
old polling when it does not, and being cut off from VirtDancer — said once, greyed, actions
off, and what changed meanwhile marked when it is back.

The channel's server side is faked here with Playwright's WebSocket routes, so that the client
is tested to the contract whatever the server holds; tests/real/ checks the two together."""

import json
import re

import pytest

from ..conftest import DB_1, WEB_1
from .pages import entry, expect, log_in, screenshot, select

CHANNEL = re.compile(r"/events\?")


def fleet_requests(record):
    return [url for url in record.requests if "/fleet?" in url]


class FakeChannel:
    """The server side of the event channel: POST /events answers a URL; each socket opened
    to it is kept, to send events down."""

    def __init__(self, page, server):
        self.sockets = []
        self.urls = []
        self.tickets = 0

        def offer_events(route):
            # The session says the channel is offered, as it does where the server has one.
            answer = route.fetch()
            body = answer.json()
            if body.get("user"):
                body["events"] = True
            route.fulfill(response=answer, json=body)

        def hand_out_url(route):
            self.tickets += 1
            route.fulfill(json={"url": f"{server.origin.replace('http', 'ws')}"
                                       f"/events?ticket=t{self.tickets}"})

        def opened(socket):
            self.urls.append(socket.url)
            self.sockets.append(socket)

        page.route(re.compile(r"/(session|login)$"), offer_events)
        page.route(re.compile(r"/events$"), hand_out_url)
        page.route_web_socket(CHANNEL, opened)

    def send(self, event):
        self.sockets[-1].send(json.dumps(event))


def test_without_a_channel_the_page_polls_and_says_so(page, server, record):
    log_in(page, server.url, "admin")
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("Updated every 2 s")
    expect(status).to_have_attribute("data-status", "polling")
    expect(status).to_have_attribute("title", re.compile("offers no event channel"))
    page.wait_for_timeout(2500)
    # Not even asked for: the session said there is none.
    assert not [url for url in record.requests if re.search(r"/events\b", url)]
    assert len(fleet_requests(record)) >= 2


def test_an_event_puts_the_new_state_in_the_row_with_no_second_request(page, server, api,
                                                                       record):
    channel = FakeChannel(page, server)
    log_in(page, server.url, "admin")
    status = page.locator("[data-live-status]")
    expect(status).to_have_text("Live")
    assert channel.urls[0].endswith("/events?ticket=t1")   # a first channel: no since
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")
    page.wait_for_timeout(500)   # the catch-up listing made on going live has come back
    asked = len(fleet_requests(record))

    api.action(WEB_1, "pause")
    summary = api.get(f"vm/{WEB_1}")
    channel.send({"seq": 41, "time": 1795787993.1, "host": "default", "type": "lifecycle",
                  "vm": {"uuid": WEB_1, "name": "web-1"}, "state": 3,
                  "state_name": "paused", "detail": "paused by an admin",
                  "summary": {"uuid": WEB_1, "name": "web-1", "active": True},
                  "vm_detail": summary})
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "paused")
    expect(entry(page, WEB_1).locator(".vm-state")).to_have_text("paused")
    page.wait_for_timeout(300)
    assert len(fleet_requests(record)) == asked, "the event was followed by a listing"

    # A reload (the server no longer holds what was missed) asks for the whole fleet: waited
    # for, since on a loaded machine the page may send it later than any fixed pause.
    with page.expect_request(lambda request: "/fleet?" in request.url):
        channel.send({"type": "reload"})

    # The channel drops: the page says it polls, opens a new one, and resumes after seq 41.
    channel.sockets[-1].close()
    expect(status).to_have_text("Updated every 2 s")
    expect(status).to_have_text("Live", timeout=5000)
    assert len(channel.urls) == 2 and channel.urls[1].endswith("ticket=t2&since=41"), \
        channel.urls
    screenshot(page, "live-status")


@pytest.mark.console_errors(r"ERR_INTERNET_DISCONNECTED", r"Failed to fetch")
def test_cut_off_the_page_says_so_once_greys_what_it_shows_and_marks_what_changed(
        page, server, api, context):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-actions] [data-action=pause]")).to_be_enabled()
    context.set_offline(True)

    banner = page.locator("[data-banner]")
    expect(banner).to_contain_text("VirtDancer cannot be reached.")
    expect(page.locator("[data-live-status]")).to_have_text("Offline")
    expect(page.locator("body")).to_have_class(re.compile("is-offline"))
    # The actions wait: every button of the selected VM is off.
    for button in page.locator("[data-actions] button").all():
        expect(button).to_be_disabled()
    expect(banner).to_contain_text(re.compile(r"last updated \d+ seconds? ago"))
    page.wait_for_timeout(3000)   # a few polls, a chart refresh: still one message
    said = page.locator("body").inner_text().count("cannot be reached")
    assert said == 1, f"'cannot be reached' said {said} times"
    screenshot(page, "live-offline")

    api.action(DB_1, "start")   # changed elsewhere while the page is cut off
    context.set_offline(False)
    expect(banner).to_be_hidden()
    expect(page.locator("[data-live-status]")).to_have_text("Updated every 2 s")
    expect(page.locator("[data-actions] [data-action=pause]")).to_be_enabled()
    expect(entry(page, DB_1)).to_have_attribute("data-changed-from", "shut off")
    expect(entry(page, DB_1).locator(".vm-state")).to_have_text("running, was shut off")
    expect(entry(page, WEB_1)).not_to_have_attribute("data-changed-from", re.compile(".*"))
    screenshot(page, "live-back")
    # Seen: no longer news.
    select(page, DB_1, "db-1")
    expect(entry(page, DB_1)).not_to_have_attribute("data-changed-from", re.compile(".*"))
    expect(entry(page, DB_1).locator(".vm-state")).to_have_text("running")


def test_an_asked_to_line_is_replaced_when_the_state_it_announces_arrives(page, server):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")

    # A guest that takes its time: the answer still says running (the test driver's guests
    # shut down at once, so the answer is made to say what a real guest's would).
    def still_running(route):
        answer = route.fetch()
        body = answer.json()
        body["vm"]["state_name"] = "running"
        body["vm"]["state"] = 1
        route.fulfill(response=answer, json=body)

    page.route("**/action", still_running)
    page.click("[data-action=shutdown]")
    message = page.locator("[data-action-message]")
    # The next listing brings the shut-off state, and the line follows it.
    expect(message).to_have_text("web-1 is now shut off.")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "shut off")


@pytest.mark.console_errors(r"ERR_INTERNET_DISCONNECTED", r"ERR_FAILED", r"Failed to fetch")
def test_an_error_line_of_a_cut_clears_when_virtdancer_is_back(page, server, context):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")

    def cut(route):
        context.set_offline(True)
        route.abort()

    page.route("**/action", cut)
    page.click("[data-action=pause]")
    message = page.locator("[data-action-message]")
    expect(message).to_have_text("Could not pause web-1: no answer.")
    expect(page.locator("[data-banner]")).to_contain_text("cannot be reached")
    context.set_offline(False)
    expect(page.locator("[data-banner]")).to_be_hidden()
    expect(message).to_be_hidden()
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")   # nothing happened


@pytest.mark.app_settings({"virtdancer.console.listen": "127.0.0.1:0"})
def test_with_the_servers_channel_a_change_made_elsewhere_arrives_as_an_event(page, server,
                                                                             api, record):
    log_in(page, server.url, "admin")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")
    page.wait_for_timeout(500)   # the catch-up listing made on going live has come back
    asked = len(fleet_requests(record))
    # Live, the page lists the fleet once a minute: what changes the row before that, with no
    # listing asked, is the event. How soon it comes is the loaded machine's business.
    api.action(WEB_1, "pause")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "paused")
    api.action(WEB_1, "resume")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")
    assert len(fleet_requests(record)) == asked, "the change came by a listing, not an event"


def test_the_charts_ask_for_their_history_once_then_only_what_is_new(page, server, record):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    memory = page.locator("[data-vm-charts] [data-chart=memory]")
    expect(memory.locator(".value").first).to_have_text("2 GiB")
    page.wait_for_timeout(7000)   # a few polls of the VM's charts and the host's
    for path in (f"/vm/{WEB_1}/stats?history=1", "/stats/cpu?history=1",
                 "/stats/mem?history=1"):
        asked = [url for url in record.requests if path in url]
        assert len(asked) >= 2, (path, asked)
        assert "since=" not in asked[0], asked[0]
        assert all(re.search(r"&since=\d+(\.\d+)?$", url) for url in asked[1:]), asked
    # The chart still spans what it held: the new samples were added to it, not put instead.
    expect(memory.locator(".chart-window")).not_to_have_text("")
    assert memory.locator("path.line.series-0").get_attribute("d").count("L") >= 3
