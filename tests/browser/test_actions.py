"""Lifecycle actions from the detail panel."""

import pytest

from ..conftest import DB_1, WEB_1, WEB_2
from .pages import assert_not_reloaded, entry, expect, log_in, mark_document, screenshot, select

ALL = ("start", "pause", "resume", "shutdown", "reboot", "reset", "destroy")


def enabled_actions(page):
    return page.locator("[data-actions] [data-action]").evaluate_all(
        "buttons => buttons.filter(b => !b.disabled && !b.hidden).map(b => b.dataset.action)")


def edit_the_fleet(page, edit):
    """Give the page the fleet's answers with each VM changed by `edit(vm)` on the way: what
    the page shows must follow whatever the server says, not rules of its own. Its hosts are
    said to have displays (the demo's test driver has none, and the page then offers no
    console at all), so that the console link follows the VMs' own field."""
    def edited(route):
        response = route.fetch()
        if response.status != 200:   # a 304 keeps the edited answer on the page
            route.fulfill(response=response)
            return
        body = response.json()
        for host in body["hosts"]:
            assert host["displays"] is False
            host["displays"] = True
        for vm in body["vms"]:
            edit(vm)
        route.fulfill(response=response, json=body)

    page.route(lambda url: "fleet?detail=1" in url, edited)


def as_if_hosts_had_displays(page):
    """The fleet as the server says it, but on hosts with displays."""
    edit_the_fleet(page, lambda vm: None)


def expect_the_actions_note(page, text):
    note = page.locator("[data-actions-note]")
    if text is None:
        expect(note).to_be_hidden()
    else:
        expect(note).to_be_visible()
        expect(note).to_have_text(text)


@pytest.mark.parametrize(("user", "uuid", "name", "allowed", "console"), [
    ("admin", WEB_1, "web-1", ["pause", "shutdown", "reboot", "reset", "destroy"], True),
    # Paused: Start would resume it too, so only Resume is offered.
    ("admin", WEB_2, "web-2", ["resume", "reset", "destroy"], True),
    ("admin", DB_1, "db-1", ["start"], False),                                  # shut off
    # The tenant is an operator: the same buttons as the admin on the VMs it sees.
    ("tenant", WEB_1, "web-1", ["pause", "shutdown", "reboot", "reset", "destroy"], True),
    ("tenant", WEB_2, "web-2", ["resume", "reset", "destroy"], True),
])
def test_the_buttons_follow_the_vms_state(page, server, user, uuid, name, allowed, console):
    as_if_hosts_had_displays(page)
    log_in(page, server.url, user)
    select(page, uuid, name)
    expect(page.locator("[data-actions] [data-action]")).to_have_count(len(ALL))
    assert enabled_actions(page) == allowed
    link = expect(page.locator("[data-console]"))
    if console:
        link.to_be_visible()
    else:
        link.to_be_hidden()
    expect_the_actions_note(page, None)
    screenshot(page, f"actions-{user}-{name}")


def test_the_operators_console_link_comes_and_goes_with_the_vms_display(page, server):
    as_if_hosts_had_displays(page)
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    expect(page.locator("[data-console]")).to_be_hidden()
    page.click("[data-action=start]")
    expect(page.locator("[data-action-message]")).to_have_text("db-1 started.")
    expect(page.locator("[data-console]")).to_be_visible()
    expect(page.locator("[data-console]")).to_have_attribute(
        "href", f"console?host=default&vm={DB_1}")
    page.click("[data-action=destroy]")
    page.click("[data-confirm]")
    expect(page.locator("[data-action-message]")).to_have_text("db-1 powered off.")
    expect(page.locator("[data-console]")).to_be_hidden()
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-console]")).to_be_visible()


def test_resume_web_2_with_its_button(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_2, "web-2")
    mark_document(page)
    page.click("[data-action=resume]")
    expect(entry(page, WEB_2)).to_have_attribute("data-state", "running")
    expect(page.locator("[data-summary]")).to_have_text("3/4 running")
    expect(page.locator("[data-action-message]")).to_have_text("web-2 resumed.")
    assert enabled_actions(page) == ["pause", "shutdown", "reboot", "reset", "destroy"]
    assert api.state(WEB_2) == "running"
    assert_not_reloaded(page)


def test_destroy_asks_first_and_cancel_changes_nothing(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    dialog = page.locator("dialog[data-confirm-dialog]")

    page.click("[data-action=destroy]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-title]")).to_have_text("Destroy web-1?")
    expect(dialog.locator("[data-cancel]")).to_be_focused()   # Enter does not destroy
    screenshot(page, "confirm-destroy", full_page=False)   # the backdrop covers the view
    page.click("[data-cancel]")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(2500)   # more than a poll: nothing was sent, nothing changed
    assert api.state(WEB_1) == "running"
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")

    # Escape cancels too.
    page.click("[data-action=destroy]")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert api.state(WEB_1) == "running"

    # And confirming destroys.
    page.click("[data-action=destroy]")
    page.click("[data-confirm]")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "shut off")
    assert api.state(WEB_1) == "shut off"
    assert enabled_actions(page) == ["start"]


def test_reset_asks_first(page, server, api):
    log_in(page, server.url, "tenant")
    select(page, WEB_2, "web-2")
    page.click("[data-action=reset]")
    expect(page.locator("[data-confirm-title]")).to_have_text("Reset web-2?")
    page.click("[data-confirm]")
    expect(page.locator("[data-action-message]")).to_have_text("web-2 reset.")


@pytest.mark.console_errors(r"status of 409")
def test_a_refused_action_is_told_in_words(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-action=pause]")).to_be_enabled()

    # The VM is shut off by someone else just before the page's request reaches the server,
    # so that the server refuses it for real (409), and the page must say why.
    def shut_off_first(route):
        api.action(WEB_1, "destroy")
        route.continue_()

    page.route("**/action", shut_off_first)
    page.click("[data-action=pause]")
    message = page.locator("[data-action-message]")
    expect(message).to_have_text("Could not pause web-1: cannot pause a VM that is shut off.")
    expect(message).to_have_class("message error")
    # ...and the list catches up at once.
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "shut off")
    assert enabled_actions(page) == ["start"]


def test_the_buttons_are_the_servers_actions(page, server, api):
    # The server's word, not the page's: give web-1 (running) fewer actions than its state
    # allows, and only those are enabled.
    def fewer_actions(vm):
        if vm["name"] == "web-1":
            vm["actions"] = ["reboot", "destroy"]

    edit_the_fleet(page, fewer_actions)
    log_in(page, server.url, "tenant")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-actions] [data-action]")).to_have_count(len(ALL))
    expect(page.locator("[data-action=reboot]")).to_be_enabled()
    assert enabled_actions(page) == ["reboot", "destroy"]
    assert page.locator("[data-action=pause]").get_attribute("title") == \
        "Not possible while web-1 is running"


def test_a_viewer_has_no_actions_and_no_enabled_button(page, server, api):
    assert all((vm["actions"], vm["console"], vm["operable"]) == ([], False, False)
               for vm in api.get("vm?detail=1", user="viewer"))
    log_in(page, server.url, "viewer")
    for uuid, name in ((WEB_1, "web-1"), (WEB_2, "web-2"), (DB_1, "db-1")):
        select(page, uuid, name)
        expect(page.locator("[data-action]:enabled")).to_have_count(0)
        expect(page.locator("[data-console]")).to_have_count(0)
        # Said in words, for the VM shown: there is nothing to press, and why.
        expect_the_actions_note(page, f"You may look at {name}, not act on it or open its "
                                      "console.")
    screenshot(page, "viewer-actions")


def test_who_may_act_is_the_servers_word_not_the_roles(page, server):
    # The admin, told by the server that it may not act on web-1: no buttons, the words why,
    # whatever its role would allow. A page with its own copy of the roles would show them.
    def not_on_web_1(vm):
        if vm["name"] == "web-1":
            vm.update(actions=[], console=False, operable=False)

    edit_the_fleet(page, not_on_web_1)
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-action]")).to_have_count(0)
    expect(page.locator("[data-console]")).to_have_count(0)
    expect_the_actions_note(page, "You may look at web-1, not act on it or open its console.")
    select(page, WEB_2, "web-2")   # the others are the admin's as ever
    assert enabled_actions(page) == ["resume", "reset", "destroy"]
    expect_the_actions_note(page, None)


def test_a_viewer_told_it_may_act_gets_the_servers_buttons(page, server):
    # The other way round: the viewer's role is no rule of the page's either.
    def operable_db_1(vm):
        if vm["name"] == "db-1":
            vm.update(actions=["start"], console=False, operable=True)

    edit_the_fleet(page, operable_db_1)
    log_in(page, server.url, "viewer")
    select(page, DB_1, "db-1")
    expect(page.locator("[data-actions] [data-action]")).to_have_count(len(ALL))
    assert enabled_actions(page) == ["start"]
    expect(page.locator("[data-console]")).to_be_hidden()
    expect_the_actions_note(page, None)
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-action]")).to_have_count(0)
    expect_the_actions_note(page, "You may look at web-1, not act on it or open its console.")


def test_the_console_link_is_the_servers_field_not_the_state(page, server):
    # web-1 runs, but the server says no console; db-1 is shut off, but the server says one:
    # the link follows the field. A page with its own list of states with a display would
    # show the opposite.
    def swapped(vm):
        if vm["name"] in ("web-1", "db-1"):
            vm["console"] = vm["name"] == "db-1"

    edit_the_fleet(page, swapped)
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page.locator("[data-action=pause]")).to_be_enabled()
    expect(page.locator("[data-console]")).to_be_hidden()
    select(page, DB_1, "db-1")
    expect(page.locator("[data-action=start]")).to_be_enabled()
    expect(page.locator("[data-console]")).to_be_visible()
    expect(page.locator("[data-console]")).to_have_attribute(
        "href", f"console?host=default&vm={DB_1}")
