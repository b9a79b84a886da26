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
