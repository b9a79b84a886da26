"""The "API tokens" view: list, make (shown once), revoke behind a confirmation."""

import re

import pytest

from .pages import expect, log_in, screenshot

TOKEN = re.compile(r"^vd_[0-9a-f]{12}_[0-9a-f]{64}$")


def open_tokens(page):
    page.click("[data-tokens-toggle]")
    view = page.locator("[data-tokens]")
    expect(view).to_be_visible()
    return view


def test_a_token_made_in_the_view_is_shown_once_and_works(page, server, api):
    log_in(page, server.url, "tenant")
    view = open_tokens(page)
    expect(view.locator("[data-token-empty]")).to_have_text("No tokens yet.")
    # An operator may give a token at most their own role.
    assert view.locator("select[name=scope] option").evaluate_all(
        "options => options.map(o => o.value)") == ["read", "operate"]
    screenshot(page, "tokens-empty", full_page=False)

    page.fill("#token-name", "prometheus")
    page.click("[data-token-form] button[type=submit]")
    text = view.locator("[data-token-text]")
    expect(text).to_have_value(TOKEN)
    token = text.input_value()
    expect(view.locator("[data-token-made]")).to_contain_text("shown this once")
    row = view.locator("[data-token-list] tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("prometheus")
    expect(row).to_contain_text("read")
    view.locator("[data-token-copy]").click()
    expect(view.locator("[data-token-copied]")).not_to_have_text("")
    screenshot(page, "tokens-made", full_page=False)

    # The token works for a script, with the tenant's filters.
    status, vms = api.call("GET", "vm", user=None, bearer=token)
    assert status == 200 and {vm["name"] for vm in vms} == {"web-1", "web-2"}

    # Done: the token's text is gone from the page, and so is it after closing the view.
    view.locator("[data-token-done]").click()
    expect(view.locator("[data-token-made]")).to_be_hidden()
    assert token not in page.content()


@pytest.mark.console_errors(r"status of 401")
def test_revoking_asks_first_and_then_the_token_stops_working(page, server, api):
    status, made = api.call("POST", "tokens", {"name": "backup", "scope": "operate"},
                            user="tenant")
    assert status == 201
    log_in(page, server.url, "tenant")
    view = open_tokens(page)
    row = view.locator("[data-token-list] tr", has_text="backup")
    expect(row).to_be_visible()
    row.locator("button", has_text="Revoke").click()
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog.locator("[data-confirm-title]")).to_have_text("Revoke backup?")
    expect(dialog.locator("[data-cancel]")).to_be_focused()
    screenshot(page, "tokens-revoke", full_page=False)
    dialog.locator("[data-cancel]").click()
    expect(row).to_be_visible()
    assert api.call("GET", "vm", user=None, bearer=made["token"])[0] == 200

    row.locator("button", has_text="Revoke").click()
    dialog.locator("[data-confirm]").click()
    expect(view.locator("[data-token-message]")).to_have_text("backup revoked.")
    expect(view.locator("[data-token-empty]")).to_be_visible()
    assert api.call("GET", "vm", user=None, bearer=made["token"])[0] == 401


def test_an_admin_sees_every_users_tokens_with_their_owner(page, server, api):
    assert api.call("POST", "tokens", {"name": "tenant's"}, user="tenant")[0] == 201
    log_in(page, server.url, "admin")
    view = open_tokens(page)
    expect(view.locator("[data-token-owner-head]")).to_be_visible()
    row = view.locator("[data-token-list] tr", has_text="tenant's")
    expect(row.locator("td").nth(1)).to_have_text("tenant")
    page.fill("#token-name", "grafana")
    page.select_option("select[name=scope]", "admin")
    page.select_option("select[name=expires]", "0")
    page.click("[data-token-form] button[type=submit]")
    expect(view.locator("[data-token-list] tr")).to_have_count(2)
    expect(view.locator("[data-token-list] tr", has_text="grafana")).to_contain_text("never")
    screenshot(page, "tokens-admin", full_page=True)
    page.click("[data-tokens-close]")
    expect(view).to_be_hidden()
    expect(page.locator("[data-tokens-toggle]")).to_have_attribute("aria-expanded", "false")


def test_a_viewer_may_make_read_tokens_only_and_a_name_is_needed(page, server):
    log_in(page, server.url, "viewer")
    view = open_tokens(page)
    assert view.locator("select[name=scope] option").evaluate_all(
        "options => options.map(o => o.value)") == ["read"]
    page.click("[data-token-form] button[type=submit]")
    expect(view.locator("[data-token-message]")).to_have_text(re.compile("Give the token a name"))
    expect(view.locator("[data-token-made]")).to_be_hidden()


def test_escape_closes_the_view_and_the_keyboard_goes_back_to_its_button(page, server):
    log_in(page, server.url, "viewer")
    view = open_tokens(page)
    expect(page.locator("#token-name")).to_be_focused()
    page.keyboard.press("Escape")
    expect(view).to_be_hidden()
    toggle = page.locator("[data-tokens-toggle]")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()


def test_the_view_goes_at_logout(page, server):
    log_in(page, server.url, "tenant")
    view = open_tokens(page)
    page.fill("#token-name", "short-lived")
    page.click("[data-token-form] button[type=submit]")
    expect(view.locator("[data-token-text]")).to_have_value(TOKEN)
    page.click("[data-logout]")
    expect(view).to_be_hidden()
    expect(page.locator("[data-token-text]")).to_have_value("")
