"""The Snapshots view of a VM: the tree, taking, reverting and deleting, each task followed to
its end in words; refusals shown as the server's reason; viewers see the tree only."""

import time

import pytest

from ..conftest import DB_1, WEB_1
from ..test_tasks import ignored_shutdown  # noqa: F401  (a fixture)
from .pages import expect, log_in, screenshot, select

PHONE = {"width": 360, "height": 740}   # as test_layout.py


def open_snapshots(page, uuid, name):
    select(page, uuid, name)
    page.click("[data-view=snapshots]")
    expect(page.locator("[data-view=snapshots]")).to_have_attribute("aria-pressed", "true")
    return page.locator("[data-vm-snapshots]")


def take(view, name, description=""):
    form = view.locator("[data-snapshot-form]")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Take snapshot").click()


def message(view):
    return view.locator("[data-snapshot-message]")


def tree(view):
    return view.locator("[data-snapshot]")


def test_an_admin_takes_reverts_and_deletes_snapshots_of_a_shut_off_vm(page, server, api):
    log_in(page, server.url, "admin")
    view = open_snapshots(page, DB_1, "db-1")
    expect(view.get_by_text("No snapshots yet.")).to_be_visible()
    # A shut-off VM's snapshot keeps its disks alone: no memory to offer.
    expect(view.get_by_label("With its memory")).to_be_hidden()
    take(view, "before-upgrade", "v1.2 still")
    expect(message(view)).to_have_text("Took snapshot before-upgrade of db-1.")
    take(view, "after-upgrade")
    expect(message(view)).to_have_text("Took snapshot after-upgrade of db-1.")

    expect(tree(view)).to_have_count(2)
    first, second = tree(view).nth(0), tree(view).nth(1)
    expect(first).to_contain_text("before-upgrade")
    expect(first).to_contain_text("disks only; taken today")
    expect(first).to_contain_text("while shut off")
    expect(first.locator(".description")).to_have_text("v1.2 still")
    # The child is indented under its parent and is the current one.
    expect(second).to_contain_text("after before-upgrade")
    assert second.bounding_box()["x"] > first.bounding_box()["x"]
    expect(second.locator(".badge")).to_have_text("current")
    expect(first.locator(".badge")).to_have_count(0)
    screenshot(page, "snapshots-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "snapshots-dark")
    page.emulate_media(color_scheme="light")

    # Revert: the question says the present state is discarded; cancelling changes nothing.
    first.get_by_role("button", name="Revert to before-upgrade").click()
    dialog = page.locator("[data-snapshot-dialog]")
    expect(dialog).to_contain_text("This discards its present state")
    screenshot(page, "snapshots-revert", full_page=False)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert api.get(f"vm/{DB_1}/snapshots/after-upgrade")["current"] is True
    first.get_by_role("button", name="Revert to before-upgrade").click()
    dialog.get_by_label("Start db-1 afterwards").check()
    dialog.get_by_role("button", name="Revert").click()
    expect(message(view)).to_have_text("db-1 is back at before-upgrade; it is running now.")
    assert api.state(DB_1) == "running"
    expect(first.locator(".badge")).to_have_text("current")
    # The fleet hears of the new state too.
    expect(page.locator("[data-detail-state]")).to_contain_text("running")

    # Delete with its children: both go.
    first.get_by_role("button", name="Delete before-upgrade").click()
    expect(dialog).to_contain_text("deleted for good")
    dialog.get_by_label("Delete what was taken after it too (after-upgrade)").check()
    dialog.get_by_role("button", name="Delete").click()
    expect(message(view)).to_have_text("Deleted before-upgrade, after-upgrade.")
    expect(tree(view)).to_have_count(0)
    assert api.get(f"vm/{DB_1}/snapshots") == []


def test_the_keyboard_is_not_lost_once_a_revert_or_a_delete_ends(page, server):
    log_in(page, server.url, "admin")
    view = open_snapshots(page, DB_1, "db-1")
    take(view, "kept")
    expect(message(view)).to_have_text("Took snapshot kept of db-1.")
    revert = view.get_by_role("button", name="Revert to kept")
    revert.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("[data-snapshot-dialog]")
    dialog.get_by_role("button", name="Revert").click()
    expect(message(view)).to_have_text("db-1 is back at kept; it is shut off now.")
    # The redrawn tree had dropped the focused button: its twin in the new rows has it.
    expect(revert).to_be_focused()
    view.get_by_role("button", name="Delete kept").focus()
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="Delete").click()
    expect(message(view)).to_have_text("Deleted snapshot kept.")
    expect(view.locator("[data-snapshot-form]").get_by_label("Name")).to_be_focused()


def test_deleting_a_parent_alone_keeps_its_child(page, server, api):
    log_in(page, server.url, "admin")
    view = open_snapshots(page, DB_1, "db-1")
    take(view, "a")
    expect(message(view)).to_have_text("Took snapshot a of db-1.")
    take(view, "b")
    expect(message(view)).to_have_text("Took snapshot b of db-1.")
    tree(view).nth(0).get_by_role("button", name="Delete a").click()
    page.locator("[data-snapshot-dialog]").get_by_role("button", name="Delete").click()
    expect(message(view)).to_have_text("Deleted snapshot a.")
    expect(tree(view)).to_have_count(1)
    expect(tree(view).nth(0)).not_to_contain_text("after ")
    assert [one["name"] for one in api.get(f"vm/{DB_1}/snapshots")] == ["b"]


@pytest.mark.console_errors("status of 409")
def test_a_running_vms_memory_is_offered_and_refusals_are_the_servers_reason(page, server, api):
    log_in(page, server.url, "tenant")
    view = open_snapshots(page, WEB_1, "web-1")
    memory = view.get_by_label("With its memory")
    expect(memory).to_be_checked()
    # A malformed name is refused before anything is sent.
    take(view, "-not-a-name")
    expect(message(view)).to_contain_text("Give the snapshot a name of letters, digits")
    take(view, "café")
    expect(message(view)).to_contain_text("Give the snapshot a name of letters, digits")
    memory.uncheck()
    take(view, "disks-alone")
    expect(message(view)).to_contain_text("disks-alone was not taken: ")
    expect(message(view)).to_have_attribute("role", "alert")
    assert api.get(f"vm/{WEB_1}/snapshots") == []
    memory.check()
    take(view, "with-memory")
    expect(message(view)).to_have_text("Took snapshot with-memory of web-1.")
    expect(tree(view).nth(0)).to_contain_text("memory and disks; taken today")
    expect(tree(view).nth(0)).to_contain_text("while running")
    # The same name again: the server's 409, in its words.
    take(view, "with-memory")
    expect(message(view)).to_contain_text("with-memory was not taken: ")
    expect(tree(view)).to_have_count(1)


def taken_by_script(api, uuid, name, **fields):
    """Take a snapshot through the API and wait for its task to end."""
    status, task = api.call("POST", f"vm/{uuid}/snapshots", {"name": name, **fields})
    assert status == 202
    for _ in range(50):   # the task ends at once on the test driver; wait for it all the same
        if api.get(f"tasks/{task['id']}")["state"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert api.get(f"tasks/{task['id']}")["state"] == "done"


def test_a_viewer_sees_the_tree_without_buttons(page, server, api):
    taken_by_script(api, DB_1, "kept")
    log_in(page, server.url, "viewer")
    view = open_snapshots(page, DB_1, "db-1")
    expect(tree(view)).to_have_count(1)
    expect(tree(view).nth(0)).to_contain_text("kept")
    expect(view.locator("[data-snapshot-form]")).to_be_hidden()
    expect(view.get_by_role("button")).to_have_count(0)


@pytest.mark.app_settings({"virtdancer.console.listen": "127.0.0.1:0"})
def test_snapshots_taken_or_deleted_elsewhere_show_up_live(page, server, api):
    log_in(page, server.url, "admin")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    view = open_snapshots(page, DB_1, "db-1")
    expect(view.get_by_text("No snapshots yet.")).to_be_visible()
    status, _ = api.call("POST", f"vm/{DB_1}/snapshots", {"name": "by-a-script"})
    assert status == 202
    expect(tree(view)).to_have_count(1)
    expect(tree(view).nth(0)).to_contain_text("by-a-script")
    status, _ = api.call("DELETE", f"vm/{DB_1}/snapshots/by-a-script")
    assert status == 200
    expect(tree(view)).to_have_count(0)
    expect(view.get_by_text("No snapshots yet.")).to_be_visible()


def test_a_deep_tree_fits_a_phone(page, server, api):
    for number in range(1, 9):
        taken_by_script(api, DB_1, f"step-{number}-with-a-rather-long-name",
                        description="A description long enough to wrap on a small screen.")
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    view = open_snapshots(page, DB_1, "db-1")
    expect(tree(view)).to_have_count(8)
    # The indentation stops growing, so the deepest snapshot keeps room for its words.
    last = tree(view).nth(7).bounding_box()
    assert last["width"] > PHONE["width"] / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tree(view).nth(4).scroll_into_view_if_needed()
    screenshot(page, "snapshots-phone", full_page=False)


@pytest.mark.app_settings({"virtdancer.tasks.per_host": "1"})
def test_a_snapshot_waiting_for_its_turn_is_cancelled(page, server, api,
                                                     ignored_shutdown):  # noqa: F811
    # web-1's guest ignores the shutdown: its task holds the host's only turn for a minute.
    status, shutdown = api.call("POST", f"vm/{WEB_1}/action?wait=60", {"action": "shutdown"})
    assert status == 202
    try:
        log_in(page, server.url, "admin")
        view = open_snapshots(page, DB_1, "db-1")
        take(view, "waits")
        expect(message(view)).to_have_text("Waiting for a free turn on default to take waits…")
        cancel = view.get_by_role("button", name="Cancel it")
        screenshot(page, "snapshots-queued", full_page=False)
        cancel.click()
        expect(message(view)).to_have_text(
            "Taking waits was cancelled: cancelled before it started.")
        expect(cancel).to_be_hidden()
        assert api.get(f"vm/{DB_1}/snapshots") == []
    finally:
        api.call("DELETE", f"tasks/{shutdown['id']}")
    for _ in range(50):
        if api.get(f"tasks/{shutdown['id']}")["state"] == "cancelled":
            break
        time.sleep(0.1)
    assert api.get(f"tasks/{shutdown['id']}")["state"] == "cancelled"
