"""The fleet as a table: sortable columns, a state filter beside the name filter, a stable
order, the selected VM never hidden by a filter without a word, bulk start and shut down of
marked VMs with one confirmation, and the CPU % column."""

import re

from ..conftest import BUILD_1, DB_1, WEB_1, WEB_2
from .pages import entries, entry, expect, log_in, screenshot, select


def names(page):
    return entries(page).locator("visible=true").evaluate_all(
        "rows => rows.map(r => r.dataset.name)")


def test_columns_sort_and_the_order_stays_put_when_a_state_changes(page, server, api):
    log_in(page, server.url, "admin")
    assert names(page) == ["build-1", "db-1", "web-1", "web-2"]
    expect(page.locator("th:has([data-sort=name])")).to_have_attribute("aria-sort", "ascending")

    page.click("[data-sort=memory]")   # 8 GiB, 12 GiB, 2 GiB, 1.5 GiB
    expect(page.locator("th:has([data-sort=memory])")).to_have_attribute(
        "aria-sort", "ascending")
    expect(page.locator("th:has([data-sort=name])")).not_to_have_attribute("aria-sort", "ascending")
    assert names(page) == ["web-2", "web-1", "db-1", "build-1"]
    page.click("[data-sort=memory]")
    expect(page.locator("th:has([data-sort=memory])")).to_have_attribute(
        "aria-sort", "descending")
    assert names(page) == ["build-1", "db-1", "web-1", "web-2"]

    page.click("[data-sort=state]")   # running, paused, shut off
    assert names(page) == ["build-1", "web-1", "web-2", "db-1"]
    # db-1 starts: it is running now, but it does not jump under the pointer.
    api.action(DB_1, "start")
    expect(entry(page, DB_1)).to_have_attribute("data-state", "running", timeout=6000)
    assert names(page) == ["build-1", "web-1", "web-2", "db-1"]
    # Sorting again puts it where it now belongs.
    page.click("[data-sort=name]")
    page.click("[data-sort=state]")
    assert names(page) == ["build-1", "db-1", "web-1", "web-2"]
    expect(entry(page, WEB_1).locator(".vm-cpus")).to_have_text("2")
    expect(entry(page, WEB_1).locator(".vm-memory")).to_have_text("2 GiB")


def test_the_state_filter_and_the_selected_vm(page, server):
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")   # shut off
    page.select_option("[data-state-filter]", "running")
    # Two running VMs shown, and the selected one, said to be outside the filter.
    expect(entries(page).locator("visible=true")).to_have_count(3)
    expect(entry(page, DB_1)).to_be_visible()
    expect(entry(page, DB_1)).to_have_class(re.compile(r"\bis-outside-filter\b"))
    expect(entry(page, WEB_2)).to_be_hidden()
    expect(page.locator("[data-filter-count]")).to_have_text(
        "2 of 4 shown · db-1 is shown as selected, outside the filter")
    page.fill("[data-filter]", "web")
    expect(entries(page).locator("visible=true")).to_have_count(2)   # web-1 and db-1
    expect(entry(page, WEB_1)).to_be_visible()
    page.select_option("[data-state-filter]", "paused")
    expect(entry(page, WEB_2)).to_be_visible()
    expect(page.locator("[data-filter-count]")).to_contain_text("1 of 4 shown")
    screenshot(page, "table-filtered")
    select(page, WEB_2, "web-2")
    expect(entry(page, DB_1)).to_be_hidden()
    expect(page.locator("[data-filter-count]")).to_have_text("1 of 4 shown")


def test_marked_vms_start_with_one_confirmation(page, server, api):
    api.action(WEB_1, "destroy")
    log_in(page, server.url, "admin")
    expect(page.locator("[data-bulk]")).to_be_hidden()
    entry(page, WEB_1).locator("[data-mark]").check()
    entry(page, DB_1).locator("[data-mark]").check()
    entry(page, BUILD_1).focus()
    page.keyboard.press("Space")   # Space marks the row the keyboard is on
    expect(page.locator("[data-bulk-count]")).to_have_text("3 marked")
    page.click("[data-bulk-action=start]")
    dialog = page.locator("[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-title]")).to_have_text("Start 2 VMs?")
    expect(dialog.locator("[data-confirm-text]")).to_have_text(
        "Start: db-1, web-1. build-1: cannot be started now, left as is.")
    # Starting destroys nothing: not the red button of Destroy and Delete.
    expect(dialog.locator("[data-confirm]")).to_have_class("primary")
    screenshot(page, "table-bulk-confirm", full_page=False)
    dialog.locator("[data-confirm]").click()
    expect(page.locator("[data-fleet-message]")).to_have_text(
        "db-1, web-1 started. build-1: cannot be started now, left as is.")
    expect(entry(page, DB_1)).to_have_attribute("data-state", "running")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")
    assert api.state(DB_1) == api.state(WEB_1) == "running"
    expect(page.locator("[data-bulk]")).to_be_hidden()   # done: unmarked


def test_the_cpu_column_shows_each_running_vms_figure(page, server):
    # libvirt's test driver reports no CPU use: the figures are the sampler's as /metrics
    # would give them on a real host.
    metrics = (
        '# TYPE virtdancer_vm_cpu_percent gauge\n'
        f'virtdancer_vm_cpu_percent{{host="default",name="web-1",uuid="{WEB_1}"}} 12.5\n'
        f'virtdancer_vm_cpu_percent{{host="default",name="build-1",uuid="{BUILD_1}"}} 87.25\n'
        f'virtdancer_vm_vcpu_percent{{host="default",name="web-1",uuid="{WEB_1}",vcpu="0"}} 3\n')
    page.route("**/metrics", lambda route: route.fulfill(
        body=metrics, content_type="text/plain; version=0.0.4; charset=utf-8"))
    log_in(page, server.url, "admin")
    expect(entry(page, WEB_1).locator(".vm-cpu")).to_have_text("12.5 %")
    expect(entry(page, BUILD_1).locator(".vm-cpu")).to_have_text("87.3 %")
    expect(entry(page, DB_1).locator(".vm-cpu")).to_have_text("—")   # shut off: no figure
    page.click("[data-sort=cpu]")
    page.click("[data-sort=cpu]")   # the busiest first
    assert names(page)[:2] == ["build-1", "web-1"]
    screenshot(page, "table")
