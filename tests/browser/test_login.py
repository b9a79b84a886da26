"""Logging in and out of the page."""

import re

import pytest

from .pages import SUMMARY, expect, log_in, screenshot

LOGIN_FORM = "form[data-login]"


def test_admin_logs_in_with_the_form(page, server):
    page.goto(server.url)
    form = page.locator(LOGIN_FORM)
    expect(form).to_be_visible()
    expect(page.locator("[data-workspace]")).to_be_hidden()
    expect(page.locator("input[name=username]")).to_be_focused()
    screenshot(page, "login")

    log_in(page, server.url, "admin")
    expect(form).to_be_hidden()
    expect(page.locator("[data-user]")).to_have_text("admin (admin)")
    expect(page.locator("[data-workspace]")).to_be_visible()
    # The keyboard goes on in the list: its first VM has the focus, and the arrow keys or
    # Enter work from there without a click.
    expect(page.locator("[data-fleet] [data-uuid]").first).to_be_focused()


def test_the_session_survives_a_reload(page, server):
    log_in(page, server.url, "tenant")
    page.reload()
    expect(page.locator("[data-summary]")).to_have_text(SUMMARY)
    expect(page.locator(LOGIN_FORM)).to_be_hidden()
    expect(page.locator("[data-user]")).to_have_text("tenant (operator)")


def test_log_out_ends_the_session(page, server):
    log_in(page, server.url, "admin")
    page.click("[data-logout]")
    expect(page.locator(LOGIN_FORM)).to_be_visible()
    expect(page.locator("[data-login-note]")).to_have_text("You have logged out.")
    expect(page.locator("[data-login-error]")).to_be_hidden()
    expect(page.locator("[data-workspace]")).to_be_hidden()
    expect(page.locator("[data-summary]")).to_have_text("")
    assert page.evaluate("""async () => (await (await fetch("session", {
        headers: {"X-Requested-With": "XMLHttpRequest"}})).json()).user""") is None
    page.reload()
    expect(page.locator(LOGIN_FORM)).to_be_visible()


@pytest.mark.console_errors(r"status of 401")
def test_a_wrong_password_says_so(page, server):
    page.goto(server.url)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click(f"{LOGIN_FORM} button[type=submit]")
    message = page.locator("[data-login-error]")
    expect(message).to_have_text("Wrong user name or password.")
    expect(page.locator("[data-workspace]")).to_be_hidden()
    # The right password then gets in, and the message goes.
    log_in(page, server.url, "admin")
    expect(message).to_be_hidden()


@pytest.mark.app_settings({"virtdancer.login.max_failures_per_user": "1",
                           "virtdancer.login.failure_window": "300"})
@pytest.mark.console_errors(r"status of 401", r"status of 429")
def test_throttling_says_when_to_try_again_in_words(page, server):
    page.goto(server.url)
    message = page.locator("[data-login-error]")
    page.fill("input[name=username]", "tenant")
    for _ in range(2):
        page.fill("input[name=password]", "wrong")
        page.click(f"{LOGIN_FORM} button[type=submit]")
        expect(message).not_to_have_text("")
    expect(message).to_have_text(re.compile(
        r"^Too many failed logins .*Try again in (5 minutes|4 minutes and \d+ seconds)\.$"))


@pytest.mark.app_settings({"virtdancer.login.max_failures_per_user": "1",
                           "virtdancer.login.failure_window": "4"})
@pytest.mark.console_errors(r"status of 401", r"status of 429")
def test_a_lockout_counts_down_with_the_button_disabled(page, server):
    page.goto(server.url)
    message = page.locator("[data-login-error]")
    button = page.locator(f"{LOGIN_FORM} button[type=submit]")
    page.fill("input[name=username]", "tenant")
    page.fill("input[name=password]", "wrong")
    button.click()
    expect(message).to_have_text("Wrong user name or password.")
    page.fill("input[name=password]", "wrong")
    button.click()
    expect(message).to_have_text(
        re.compile(r"^Too many failed logins .*Try again in \d seconds?\.$"))
    expect(button).to_be_disabled()
    first = message.text_content()
    page.keyboard.press("Enter")   # the form cannot be sent meanwhile either
    expect(message).not_to_have_text(first, timeout=2500)   # it counts down
    expect(message).to_have_text(re.compile(r"Try again in \d seconds?\.$"))
    screenshot(page, "login-locked-out")
    expect(button).to_be_enabled(timeout=6000)
    expect(message).to_be_hidden()
    expect(page.locator("[data-login-note]")).to_have_text("You may try again now.")
    log_in(page, server.url, "tenant")


@pytest.mark.console_errors(r"status of 401")
def test_a_session_that_ends_elsewhere_brings_back_the_form(page, server, context):
    log_in(page, server.url, "admin")
    context.clear_cookies()   # as if the session had timed out
    expect(page.locator(LOGIN_FORM)).to_be_visible(timeout=6000)
    expect(page.locator("[data-login-error]")).to_have_text(
        "Your session has ended. Log in again.")
    expect(page.locator("[data-workspace]")).to_be_hidden()
    expect(page.locator("input[name=username]")).to_have_value("admin")
    page.fill("input[name=password]", "admin")
    page.click(f"{LOGIN_FORM} button[type=submit]")
    expect(page.locator("[data-summary]")).to_have_text(SUMMARY)
