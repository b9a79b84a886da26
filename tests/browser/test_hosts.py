"""Many hosts on the page (issue 11): every host's VMs with their host, each host's state, the
host filter, actions on another host than the default, and hosts that do not answer."""

import json
import re

import pytest

from ..conftest import DEMO_URI, LAB_URI, WEB_1
from ..test_errors import UNREACHABLE_URI
from .pages import entries, entry, expect, log_in, screenshot, select

TWO_HOSTS = {"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"}
ONE_AWAY = {"virtdancer.hosts": f"demo = {DEMO_URI}\naway = {UNREACHABLE_URI}"}
WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"   # running, on lab
SCRATCH = "3d9f6a4c-1e57-4b82-8c3f-5a7b9d1e2f77"       # paused, on lab


def group(page, host):
    return page.locator(f"[data-fleet] [data-host-group='{host}']")


def names_in(page, host):
    return group(page, host).locator("[data-uuid]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.name)")


def enabled_actions(page):
    return page.locator("[data-actions] [data-action]").evaluate_all(
        "buttons => buttons.filter(b => !b.disabled).map(b => b.dataset.action)")


@pytest.mark.app_settings(TWO_HOSTS)
def test_every_hosts_vms_are_listed_under_their_host(page, server, api, record):
    log_in(page, server.url, "admin")
    fleet = api.get("fleet?detail=1")
    expect(entries(page)).to_have_count(len(fleet["vms"]))
    assert page.locator("[data-fleet] [data-host-group]").evaluate_all(
        "groups => groups.map(g => g.dataset.hostGroup)") == ["demo", "lab"]
    for host in ("demo", "lab"):
        listed = sorted((vm for vm in fleet["vms"] if vm["host"] == host),
                        key=lambda vm: vm["name"])
        assert names_in(page, host) == [vm["name"] for vm in listed]
        expect(group(page, host).locator(".host-state")).to_have_text("connected")
        expect(group(page, host).locator(".host-facts")).to_have_text(
            re.compile(r"^2/4 running · since "))
    expect(page.locator("[data-summary]")).to_have_text("4/8 running")
    expect(page.locator("[data-hosts-summary]")).to_have_text("2 hosts")

    # A lab VM: its facts say its host, and the host panel follows it to lab.
    select(page, WEB_STAGING, "web-staging")
    expect(page.locator("[data-detail] [data-field='host']")).to_have_text("lab")
    expect(page.locator("[data-host-choice] select")).to_have_value("lab")
    expect(page.locator("[data-host] [data-chart='host-memory'] .chart-note")) \
        .to_have_text("16 GiB in all")   # lab's memory, not demo's 64 GiB
    page.wait_for_timeout(1500)   # a few statistics rounds, for the charts
    assert any(re.search(r"/hosts/lab/stats/cpu\?history=1$", url) for url in record.requests)
    assert any(re.search(rf"/hosts/lab/vm/{WEB_STAGING}/stats\?history=1$", url)
               for url in record.requests)
    # The host panel can be pointed at another host by hand.
    page.select_option("[data-host-choice] select", "demo")
    expect(page.locator("[data-host] [data-chart='host-memory'] .chart-note")) \
        .to_have_text("64 GiB in all")
    page.select_option("[data-host-choice] select", "lab")
    expect(page.locator("[data-host] [data-chart='host-memory'] .chart-note")) \
        .to_have_text("16 GiB in all")
    page.wait_for_timeout(1000)
    screenshot(page, "hosts-two")
    # One request a poll for the whole fleet, never one per host or VM.
    assert not [url for url in record.requests if re.search(r"/vm(\?detail=1)?$", url)]


@pytest.mark.app_settings(TWO_HOSTS)
def test_the_host_filter_shows_one_host_and_the_url_remembers_it(page, server):
    log_in(page, server.url, "admin")
    expect(group(page, "lab")).to_be_visible()
    page.select_option("[data-host-filter] select", "lab")
    expect(group(page, "demo")).to_be_hidden()
    expect(group(page, "lab")).to_be_visible()
    expect(entries(page).locator("visible=true")).to_have_count(4)
    assert page.url == server.url + "?host=lab"
    expect(page.locator("[data-host-choice] select")).to_have_value("lab")
    # The name filter works inside the host filter.
    page.fill("[data-filter]", "web")
    expect(entries(page).locator("visible=true")).to_have_count(1)
    expect(entry(page, WEB_STAGING)).to_be_visible()
    expect(page.locator("[data-filter-count]")).to_have_text("1 of 4 shown")
    page.fill("[data-filter]", "")
    screenshot(page, "hosts-filter-lab")

    page.reload()   # the session survives, and so does the choice
    expect(page.locator("[data-host-filter] select")).to_have_value("lab")
    expect(group(page, "demo")).to_be_hidden()
    expect(entries(page).locator("visible=true")).to_have_count(4)

    page.select_option("[data-host-filter] select", "")
    expect(entries(page).locator("visible=true")).to_have_count(8)
    assert page.url == server.url


@pytest.mark.app_settings(TWO_HOSTS)
def test_an_action_on_a_lab_vm_goes_to_lab(page, server, api, record):
    log_in(page, server.url, "admin")
    select(page, WEB_STAGING, "web-staging")
    assert enabled_actions(page) == ["pause", "shutdown", "reboot", "reset", "destroy"]
    expect(page.locator("[data-console]")).to_have_attribute(
        "href", f"console?host=lab&vm={WEB_STAGING}")
    page.click("[data-action=pause]")
    expect(page.locator("[data-action-message]")).to_have_text("web-staging paused.")
    expect(entry(page, WEB_STAGING)).to_have_attribute("data-state", "paused")
    assert api.get(f"hosts/lab/vm/{WEB_STAGING}")["state_name"] == "paused"
    assert api.state(WEB_1) == "running"   # demo's VMs are untouched
    assert any(url == f"{server.url}hosts/lab/vm/{WEB_STAGING}/action"
               for url in record.requests)
    expect(group(page, "lab").locator(".host-facts")).to_have_text(
        re.compile(r"^1/4 running"))
    expect(page.locator("[data-summary]")).to_have_text("3/8 running")

    # A change made on lab by a script shows up too.
    status, _ = api.call("POST", f"hosts/lab/vm/{SCRATCH}/action", {"action": "resume"})
    assert status == 200
    expect(entry(page, SCRATCH)).to_have_attribute("data-state", "running", timeout=6000)


@pytest.mark.app_settings(ONE_AWAY)
def test_an_unreachable_host_is_shown_unavailable_with_its_reason(page, server, record):
    log_in(page, server.url, "admin")
    away = group(page, "away")
    expect(away).to_be_visible()
    expect(away.locator(".host-state")).to_have_text("unavailable")
    expect(away.locator(".host-reason")).to_contain_text("/nonexistent/virtdancer-test.sock")
    expect(away.locator(".host-facts")).to_have_text(re.compile(r"^since "))
    expect(away.locator(".host-note")).to_have_text(
        "No VMs known: away has not answered since this page was opened.")
    expect(page.locator("[data-hosts-summary]")).to_have_text("2 hosts, 1 not answering")
    expect(page.locator("[data-summary]")).to_have_text("2/4 running")   # demo's, all known
    expect(group(page, "demo").locator("[data-uuid]")).to_have_count(4)
    expect(page.locator("[data-host-filter] select option[value='away']")) \
        .to_have_text("away (unavailable)")

    # Its host panel says why it has no charts, and asks nothing of it.
    page.select_option("[data-host-choice] select", "away")
    expect(page.locator("[data-host-note]")).to_contain_text("away is unavailable: ")
    expect(page.locator("[data-host] [data-chart='host-cpu'] .chart-empty")) \
        .to_have_text("no data: away is unavailable")
    page.wait_for_timeout(2500)   # more than a fleet poll and a statistics round
    screenshot(page, "hosts-unavailable")
    assert not [url for url in record.requests if "/hosts/away/" in url], \
        "the page asked a host that does not answer"
    # The filter on the host that does not answer: it is there, with its words.
    page.select_option("[data-host-filter] select", "away")
    expect(away).to_be_visible()
    expect(group(page, "demo")).to_be_hidden()


def take_lab_away(route, away):
    """The fleet's answer as the server gives it, or, once `away` is set, as it would be with
    lab not answering: lab unavailable and none of its VMs (libvirt's test driver cannot be
    made to go away, so the answer is edited on its way to the page). Its hosts have displays
    there, so that the console link has something to lose."""
    headers = {key: value for key, value in route.request.headers.items()
               if key.lower() != "if-none-match"}   # a 304 would leave nothing to edit
    answer = route.fetch(headers=headers)
    fleet = answer.json()
    for host in fleet["hosts"]:
        host["displays"] = True
        if host["name"] == "lab" and away:
            host.update(state="unavailable", reason="Cannot recv data: Connection reset by peer",
                        vms=None, type=None, version=None)
    if away:
        fleet["vms"] = [vm for vm in fleet["vms"] if vm["host"] != "lab"]
    route.fulfill(status=200, content_type="application/json", body=json.dumps(fleet))


@pytest.mark.app_settings(TWO_HOSTS)
def test_a_host_that_stops_answering_keeps_its_vms_greyed_without_actions(page, server,
                                                                           record):
    away = []
    page.route("**/fleet?detail=1", lambda route: take_lab_away(route, away))
    log_in(page, server.url, "admin")
    select(page, WEB_STAGING, "web-staging")
    expect(page.locator("[data-console]")).to_be_visible()
    away.append(True)

    lab = group(page, "lab")
    expect(lab.locator(".host-state")).to_have_text("unavailable", timeout=6000)
    expect(lab.locator(".host-reason")).to_have_text("Cannot recv data: Connection reset by peer")
    expect(lab.locator("[data-uuid]")).to_have_count(4)   # still there, as last seen
    expect(lab.locator("[data-uuid][data-stale='true']")).to_have_count(4)
    expect(lab.locator(".host-facts")).to_have_text(re.compile(r"4 VMs as last seen$"))
    expect(entry(page, WEB_STAGING)).to_have_class(re.compile(r"\bis-stale\b"))
    expect(entry(page, WEB_STAGING).locator(".vm-state")).to_have_text(
        re.compile(r", last known$"))
    # The selected lab VM: its last known facts, said to be no more than that; no actions.
    expect(page.locator("[data-detail-stale]")).to_contain_text(
        "lab is unavailable: Cannot recv data")
    expect(page.locator("[data-actions] [data-action]")).to_have_count(7)
    assert enabled_actions(page) == []
    expect(page.locator("[data-console]")).to_be_hidden()
    expect(page.locator("[data-vm-charts] [data-chart='cpu'] .chart-empty")) \
        .to_contain_text("no data: lab is unavailable")
    expect(page.locator("[data-summary]")).to_have_text("2/4 running")   # demo's
    # demo's VMs are as they were.
    expect(group(page, "demo").locator("[data-uuid][data-stale]")).to_have_count(0)
    page.wait_for_timeout(500)
    screenshot(page, "hosts-lab-stops-answering")
    asked = len(record.requests)
    page.wait_for_timeout(3500)   # more than a round of VM and host statistics
    assert not [url for url in record.requests[asked:] if "/hosts/lab/" in url]

    away.clear()   # lab answers again: its VMs come back to life
    expect(lab.locator(".host-state")).to_have_text("connected", timeout=6000)
    expect(lab.locator("[data-uuid][data-stale]")).to_have_count(0)
    expect(page.locator("[data-detail-stale]")).to_be_hidden()
    assert enabled_actions(page) == ["pause", "shutdown", "reboot", "reset", "destroy"]


@pytest.mark.app_settings({"virtdancer.hosts":
                           f"demo = {DEMO_URI}\nlab = {LAB_URI}\naway = {UNREACHABLE_URI}"})
def test_three_hosts_at_360_pixels_nothing_scrolls_sideways(page, server):
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, server.url, "tenant")   # an operator who sees web-* VMs only
    expect(page.locator("[data-hosts-summary]")).to_have_text("3 hosts, 1 not answering")
    assert names_in(page, "demo") == ["web-1", "web-2"]
    assert names_in(page, "lab") == ["web-staging"]
    expect(group(page, "away").locator(".host-state")).to_have_text("unavailable")
    select(page, WEB_STAGING, "web-staging")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.wait_for_timeout(1000)
    screenshot(page, "hosts-narrow-360")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "hosts-narrow-360-list", full_page=False)   # the list, at a readable size


@pytest.mark.app_settings(TWO_HOSTS)
def test_a_tenant_limited_to_some_vms_sees_no_whole_host_figures(page, server, record):
    log_in(page, server.url, "tenant")
    panel = page.locator("[data-host]")
    expect(panel.locator("[data-host-note]")).to_have_text(
        "The whole host's CPU, memory and network are shown only to users who see every VM "
        "of it: they tell of the other VMs too.")
    for chart in ("host-cpu", "host-memory", "host-network"):
        expect(panel.locator(f"[data-chart='{chart}'] .chart-empty")).to_have_text(
            "not shown to you")
    page.select_option("#host-choice", "lab")
    expect(panel.locator("[data-chart='host-cpu'] .chart-empty")).to_have_text(
        "not shown to you")
    screenshot(page, "host-panel-tenant")
    # The page knew from the fleet's answer: it did not ask (a 403 would be a console error).
    assert not [url for url in record.requests if "/stats/cpu" in url or "/stats/mem" in url]
