"""The fleet list, the detail panel and the host panel, as the API sees the fleet."""

import re

from ..conftest import BUILD_1, DB_1, WEB_1, WEB_2
from .pages import (
    assert_not_reloaded,
    entries,
    entry,
    expect,
    log_in,
    mark_document,
    screenshot,
    select,
)


def as_listed(vms):
    """The API's listing in the page's first order: by name."""
    return sorted(vms, key=lambda vm: vm["name"])


def test_the_fleet_and_the_summary_match_the_api(page, server, api, record):
    log_in(page, server.url, "admin")
    vms = as_listed(api.get("vm?detail=1"))
    expect(entries(page)).to_have_count(len(vms))
    assert entries(page).evaluate_all(
        "buttons => buttons.map(b => [b.dataset.uuid, b.dataset.state])") \
        == [[vm["uuid"], vm["state_name"]] for vm in vms]
    assert [name.strip() for name in page.locator("[data-fleet] .vm-name").all_text_contents()] \
        == [vm["name"] for vm in vms]
    running = sum(vm["state_name"] == "running" for vm in vms)
    expect(page.locator("[data-summary]")).to_have_text(f"{running}/{len(vms)} running")
    assert running == 2 and len(vms) == 4
    # Every entry says its state in words beside its icon.
    for vm in vms:
        expect(entry(page, vm["uuid"]).locator(".vm-state")).to_have_text(vm["state_name"])
        expect(entry(page, vm["uuid"]).locator("svg.state-icon")).to_have_count(1)

    # One request fills the list (every host's VMs at once), and while nothing changes the
    # polls are answered 304.
    page.wait_for_timeout(4500)
    listings = [status for status, url in record.responses if url.endswith("/fleet?detail=1")]
    assert listings[0] == 200 and 304 in listings, listings
    assert not [url for url in record.requests
                if re.search(r"/vm/[0-9a-f-]{36}$", url)], "the page asked VM by VM"


def test_the_detail_shows_the_vm_in_human_units(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    vm = api.get(f"vm/{WEB_1}")
    field = lambda name: page.locator(f"[data-detail] [data-field='{name}']")  # noqa: E731
    expect(field("id")).to_have_text(str(vm["id"]))
    expect(field("uuid")).to_have_text(WEB_1)
    expect(field("name")).to_have_text("web-1")
    expect(field("active")).to_have_text("yes")
    expect(field("persistent")).to_have_text("yes")
    expect(field("updated")).to_have_text("no")
    expect(field("autostart")).to_have_text("no")
    expect(field("cpus")).to_have_text(str(vm["info"]["nrVirtCpu"]))
    expect(field("memory")).to_have_text("2 GiB")          # 2097152 KiB
    expect(field("maxmemory")).to_have_text("2 GiB")
    # The test driver's CPU time is the Unix time (decades): shown as unknown.
    expect(field("cputime")).to_have_text("—")
    expect(entry(page, WEB_1)).to_have_attribute("aria-current", "true")

    # The test driver reports no VM statistics: every VM chart says so.
    for chart in ("cpu", "memory", "disk", "network"):
        expect(page.locator(f"[data-vm-charts] [data-chart='{chart}'] .chart-empty")) \
            .to_have_text(re.compile("^no data"))
    # The host panel: CPU figures exist (zeros), network counters do not on this host, and
    # the page did not even ask for them (a 501 would be a console error).
    cpu = page.locator("[data-host] [data-chart='host-cpu']")
    expect(cpu.locator(".chart-empty")).to_be_hidden()
    expect(cpu.locator("path.line.series-0")).to_have_attribute("d", re.compile(r"^M"))
    # Steal and interrupt time are known on VirtDancer's own machine only: not on the demo's.
    for index, label in ((4, "steal"), (5, "interrupts")):
        item = cpu.locator(f".chart-legend li.series-{index}")
        expect(item.locator(".label")).to_have_text(label)
        expect(item.locator(".value")).to_have_text("—")
    expect(page.locator("[data-host] [data-chart='host-memory'] .chart-note")) \
        .to_have_text("64 GiB in all")
    expect(page.locator("[data-host-nic] .chart-empty")) \
        .to_have_text("not available for this host")

    # A shut-off VM: no ID, no CPU time.
    select(page, DB_1, "db-1")
    expect(field("id")).to_have_text("none (not running)")
    expect(field("memory")).to_have_text("8 GiB")
    expect(field("cputime")).to_have_text("none (not running)")
    expect(page.locator("[data-vm-charts] [data-chart='cpu'] .chart-empty")) \
        .to_have_text("no data: not running")

    select(page, WEB_1, "web-1")
    page.wait_for_timeout(1500)   # a few statistics rounds, for the host CPU chart
    screenshot(page, "fleet-admin")


def test_the_filter_box_narrows_the_list_by_name(page, server):
    log_in(page, server.url, "admin")
    page.fill("[data-filter]", "WEB")
    expect(entries(page).locator("visible=true")).to_have_count(2)
    expect(entry(page, WEB_1)).to_be_visible()
    expect(entry(page, WEB_2)).to_be_visible()
    expect(entry(page, DB_1)).to_be_hidden()
    expect(entry(page, BUILD_1)).to_be_hidden()
    expect(page.locator("[data-filter-count]")).to_have_text("2 of 4 shown")
    expect(page.locator("[data-summary]")).to_have_text("2/4 running")   # the fleet's
    page.fill("[data-filter]", "nothing-like-this")
    expect(entries(page).locator("visible=true")).to_have_count(0)
    expect(page.locator("[data-fleet-empty]")).to_contain_text("nothing-like-this")
    page.fill("[data-filter]", "")
    expect(entries(page).locator("visible=true")).to_have_count(4)


def test_a_change_made_elsewhere_appears_without_a_reload(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-action=pause]")).to_be_enabled()
    mark_document(page)

    api.action(WEB_1, "pause")   # a script, not the page
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "paused", timeout=6000)
    expect(page.locator("[data-summary]")).to_have_text("1/4 running")
    expect(page.locator("[data-detail-state]")).to_have_text("paused")
    expect(page.locator("[data-action=pause]")).to_be_disabled()
    expect(page.locator("[data-action=resume]")).to_be_enabled()

    api.action(DB_1, "start")
    expect(entry(page, DB_1)).to_have_attribute("data-state", "running", timeout=6000)
    expect(page.locator("[data-summary]")).to_have_text("2/4 running")
    # A stable order: nobody moved because a state changed.
    assert entries(page).evaluate_all("buttons => buttons.map(b => b.dataset.name)") \
        == ["build-1", "db-1", "web-1", "web-2"]
    assert_not_reloaded(page)


def test_the_tenant_sees_only_its_vms(page, server):
    log_in(page, server.url, "tenant")
    assert entries(page).evaluate_all("buttons => buttons.map(b => b.dataset.name)") \
        == ["web-1", "web-2"]
    expect(page.locator("[data-summary]")).to_have_text("1/2 running")
    select(page, WEB_2, "web-2")
    expect(page.locator("[data-actions] [data-action]")).to_have_count(7)   # an operator


def test_a_viewer_sees_no_action_buttons(page, server):
    log_in(page, server.url, "viewer")
    expect(entries(page)).to_have_count(4)
    for uuid, name in ((DB_1, "db-1"), (WEB_2, "web-2"), (WEB_1, "web-1")):
        select(page, uuid, name)
        expect(page.locator("[data-action]")).to_have_count(0)
    expect(page.locator("[data-actions]")).to_be_hidden()
    expect(page.locator("[data-actions-note]")).to_have_text(
        "You may look at web-1, not act on it or open its console.")
    page.wait_for_timeout(1000)   # a few statistics rounds
    screenshot(page, "viewer")


def test_the_keyboard_reaches_and_selects_vms_and_every_control_is_labelled(page, server):
    log_in(page, server.url, "admin")
    # After the column headers, Tab enters the table at one row; arrows move within it.
    page.locator("[data-sort=cpu]").focus()
    page.keyboard.press("Tab")
    first = entries(page).first
    expect(first).to_be_focused()
    name = first.get_attribute("data-name")
    page.keyboard.press("Enter")
    expect(page.locator("[data-detail-title]")).to_have_text(name)
    page.keyboard.press("ArrowDown")
    expect(entries(page).nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-detail-title]")) \
        .to_have_text(entries(page).nth(1).get_attribute("data-name"))
    page.keyboard.press("End")
    expect(entries(page).last).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(entries(page).nth(2)).to_be_focused()
    # Shift+Tab leaves the table, and Tab comes back to the row last on.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(entries(page).nth(2)).to_be_focused()

    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            "button, input, select, textarea, a[href]")]
        .filter(control => !(control.labels?.length || control.getAttribute("aria-label")
                             || control.getAttribute("aria-labelledby")
                             || control.textContent.trim()))
        .map(control => control.outerHTML)""")
    assert unlabelled == []
