"""The event log panel: the last events the user sees, newest first, in words."""

import re

import pytest

from ..conftest import DB_1, WEB_1
from .pages import expect, log_in, screenshot
from .test_live import FakeChannel

WEB = {"uuid": WEB_1, "name": "web-1"}
DB = {"uuid": DB_1, "name": "db-1"}

# Messages as the live channel sends them (API.md, "Live events"), and their words.
SAID = [
    ({"type": "lifecycle", "vm": WEB, "event": "suspended", "detail": "paused"}, "web-1 paused"),
    ({"type": "lifecycle", "vm": DB, "event": "shutdown", "detail": "by the guest"},
     "db-1 shut down by the guest"),
    ({"type": "lifecycle", "vm": WEB, "event": "stopped", "detail": "destroyed"},
     "web-1 powered off"),
    ({"type": "lifecycle", "vm": WEB, "event": "started", "detail": "booted"}, "web-1 started"),
    ({"type": "lifecycle", "vm": WEB, "event": "resumed", "detail": "unpaused"},
     "web-1 resumed"),
    ({"type": "lifecycle", "vm": WEB, "event": "suspended", "detail": "paused on an I/O error"},
     "web-1 paused on an I/O error"),
    ({"type": "lifecycle", "vm": WEB, "event": "undefined", "detail": "removed"},
     "web-1 deleted"),
    ({"type": "reboot", "vm": WEB}, "web-1 rebooted"),
    ({"type": "task", "vm": WEB, "task": {"type": "snapshot", "state": "running",
                                          "progress": 0.4}},
     "Task snapshot of web-1: running (40 %)"),
    ({"type": "task", "vm": WEB, "task": {"type": "revert", "state": "failed", "progress": None,
                                          "error": "no such snapshot"}},
     "Task revert of web-1: failed: no such snapshot"),
    ({"type": "audit", "vm": WEB, "audit": {"user": "tenant", "action": "snapshot.create",
                                            "status": "ok"}},
     "web-1 had a snapshot requested by tenant"),
    ({"type": "device-added", "vm": WEB, "device": "net1"}, "web-1: device net1 added"),
    ({"type": "metadata", "vm": WEB, "metadata": "description"},
     "web-1's description changed"),
    ({"type": "audit", "host": "default", "vm": WEB,
      "audit": {"user": "tenant", "action": "destroy", "status": "ok"}},
     "web-1 destroyed by tenant"),
    ({"type": "audit", "host": "default", "vm": WEB,
      "audit": {"user": "tenant", "action": "start", "status": "failed"}},
     "web-1: start by tenant failed"),
    ({"type": "host", "host": "lab", "vm": None, "state": "lost", "reason": "Connection reset"},
     "Lost the connection to host lab: Connection reset"),
    ({"type": "host", "host": "lab", "vm": None, "state": "back"}, "Host lab is back"),
    ({"type": "reload", "vm": None}, "Some events were missed: the list was read again"),
]


def words_of(page, server, messages):
    return page.evaluate("""async ([url, messages]) => {
        const { eventWords } = await import(url);
        return messages.map(eventWords);
    }""", [f"{server.url}static/eventlog.js", messages])


def test_events_in_words(page, server):
    log_in(page, server.url, "viewer")
    assert words_of(page, server, [message for message, _ in SAID]) == [
        words for _, words in SAID]


def test_the_log_shows_the_channels_messages_newest_first_once_each(page, server):
    log_in(page, server.url, "viewer")
    # A second panel, built as the page's is, fed by hand: the channel is not in this page yet.
    texts = page.evaluate("""async ([url, messages]) => {
        const { EventLog } = await import(url);
        const panel = document.querySelector('[data-event-log]').cloneNode(true);
        panel.querySelector('[data-event-list]').replaceChildren();
        document.body.append(panel);
        const log = new EventLog(panel);
        messages.forEach((message) => log.add(message));
        log.add(messages[0]);   // a resumed channel may send one again: shown once
        return [...panel.querySelectorAll('li .event-words')].map((li) => li.textContent);
    }""", [f"{server.url}static/eventlog.js", [
        {"seq": 7, "time": 1796400000, "type": "lifecycle", "vm": WEB, "event": "suspended",
         "detail": "paused"},
        {"seq": 8, "time": 1796400001, "type": "audit", "vm": WEB,
         "audit": {"user": "tenant", "action": "destroy", "status": "ok"}},
    ]])
    assert texts == ["web-1 destroyed by tenant.", "web-1 paused."]


def test_the_log_tells_what_changed_while_the_page_polls(page, server, api):
    log_in(page, server.url, "admin")
    panel = page.locator("[data-event-log]")
    expect(panel.locator("[data-event-status]")).to_have_text(re.compile("^Not live"))
    expect(panel.locator("[data-event-empty]")).to_be_visible()
    api.action(WEB_1, "pause")
    first = panel.locator("li").first
    expect(first.locator(".event-words")).to_have_text("web-1 is now paused (was running).")
    expect(first.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d"))
    api.action(WEB_1, "resume")
    expect(panel.locator("li").first.locator(".event-words")).to_have_text(
        "web-1 is now running (was paused).")
    expect(panel.locator("li")).to_have_count(2)
    expect(panel.locator("[data-event-empty]")).to_be_hidden()
    screenshot(page, "event-log")


def test_a_tenant_hears_only_of_its_own_vms(page, server, api):
    log_in(page, server.url, "tenant")
    api.action(DB_1, "start")      # not the tenant's
    api.action(WEB_1, "pause")     # the tenant's
    panel = page.locator("[data-event-log]")
    expect(panel.locator("li").first.locator(".event-words")).to_have_text(
        "web-1 is now paused (was running).")
    page.wait_for_timeout(2500)    # one more round of the fleet
    expect(panel.locator("li")).to_have_count(1)
    expect(panel).not_to_contain_text("db-1")


def test_logging_out_clears_the_log(page, server, api):
    log_in(page, server.url, "admin")
    api.action(WEB_1, "pause")
    expect(page.locator("[data-event-log] li")).to_have_count(1)
    page.click("[data-logout]")
    log_in(page, server.url, "viewer")
    expect(page.locator("[data-event-log] li")).to_have_count(0)


def test_the_log_shows_what_the_channel_sends(page, server):
    channel = FakeChannel(page, server)
    log_in(page, server.url, "admin")
    panel = page.locator("[data-event-log]")
    expect(panel.locator("[data-event-status]")).to_have_text(re.compile("^Live"))
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    channel.send({"seq": 1, "time": 1796400000.5, "host": "default", "type": "lifecycle",
                  "vm": {"uuid": DB_1, "name": "db-1"}, "event": "shutdown",
                  "detail": "by the guest", "state": 1, "state_name": "running"})
    channel.send({"seq": 2, "time": 1796400001.5, "host": "default", "type": "audit",
                  "vm": WEB, "audit": {"user": "tenant", "action": "destroy", "status": "ok"}})
    expect(panel.locator("li .event-words")).to_have_text(
        ["web-1 destroyed by tenant.", "db-1 shut down by the guest."])


@pytest.mark.app_settings({"virtdancer.console.listen": "127.0.0.1:0"})
def test_a_change_reaches_the_log_through_the_servers_channel(page, server, api):
    log_in(page, server.url, "admin")
    panel = page.locator("[data-event-log]")
    expect(panel.locator("[data-event-status]")).to_have_text(re.compile("^Live"))
    api.action(WEB_1, "pause")
    # libvirt's event and the audit trail's record of the action, each from a thread of its
    # own: which comes first (the upper line) is theirs to decide, and the audit's record
    # comes about 50 ms after the answer, so the order on screen changes under a reader.
    words = panel.locator("li .event-words")
    expect(words.filter(has_text=re.compile(r"^web-1 paused\.$"))).to_have_count(1)
    expect(words.filter(has_text=re.compile(r"^web-1 paused by admin\.$"))).to_have_count(1)
    expect(words).to_have_count(2)
    screenshot(page, "event-log-live")
