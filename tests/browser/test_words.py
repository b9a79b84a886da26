"""The selected VM in words a person uses, and the actions offered as its state and host allow."""

from ..conftest import DB_1, WEB_1, WEB_2
from .pages import expect, log_in, screenshot, select


def fact(page, label):
    """The value next to the fact named `label` in the detail."""
    return page.locator("[data-detail] .facts div").filter(
        has=page.locator("dt", has_text=label)).locator("dd")


def test_the_detail_speaks_plainly(page, server):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(fact(page, "Kept when stopped")).to_have_text("yes")
    expect(fact(page, "Changes wait for the next boot")).to_have_text("no")
    expect(fact(page, "Guest")).to_have_text("linux")   # the test driver's word, kept
    # The test driver reports the Unix time as CPU time ("56 y"): not believable, so unknown.
    expect(fact(page, "CPU time used")).to_have_text("—")
    expect(page.locator("[data-detail] .description")).to_have_text("Front-end web server")
    expect(page.locator("[data-detail] .facts")).not_to_contain_text("Config changed")
    expect(page.locator("[data-detail] .facts")).not_to_contain_text("Persistent")
    select(page, DB_1, "db-1")
    expect(fact(page, "ID on its host")).to_have_text("none (not running)")
    expect(fact(page, "CPU time used")).to_have_text("none (not running)")
    screenshot(page, "words-detail")


def test_a_paused_vm_offers_resume_not_start(page, server):
    log_in(page, server.url, "admin")
    select(page, WEB_2, "web-2")
    bar = page.locator("[data-actions]")
    expect(bar.locator("[data-action=resume]")).to_be_enabled()
    expect(bar.locator("[data-action=start]")).to_be_hidden()
    select(page, DB_1, "db-1")   # shut off: Start is back, Resume is not possible
    expect(bar.locator("[data-action=start]")).to_be_enabled()
    expect(bar.locator("[data-action=resume]")).to_be_disabled()


def test_no_console_where_the_host_has_no_displays(page, server):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")   # running, and the user may open consoles: but a test host
    expect(page.locator("[data-action=pause]")).to_be_enabled()
    expect(page.locator("[data-console]")).to_be_hidden()


def test_after_an_action_the_focus_stays_on_the_action_bar(page, server):
    log_in(page, server.url, "tenant")
    select(page, WEB_1, "web-1")
    page.locator("[data-action=pause]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-action-message]")).to_have_text("web-1 paused.")
    focused = page.evaluate("document.activeElement.closest('[data-actions]') !== null")
    assert focused, page.evaluate("document.activeElement.outerHTML")
    # Pause is no longer possible: the focus went to a button that is.
    expect(page.locator("[data-actions] :focus")).to_be_enabled()


def test_a_vms_name_and_a_snapshots_name_are_explained_in_the_same_words(page, server):
    # The snapshot's hint said "Letters, digits, . _ and -", the Create dialog's in words.
    log_in(page, server.url, "admin")
    page.click("[data-create-vm]")
    vm_hint = page.locator("[data-create-dialog] .field-hint").first.inner_text()
    page.keyboard.press("Escape")
    select(page, DB_1, "db-1")
    page.click("[data-view=snapshots]")
    snapshot_hint = page.locator("[data-snapshot-form] .field-hint").first
    expect(snapshot_hint).to_have_text(vm_hint.rstrip(".") + "; up to 64.")
