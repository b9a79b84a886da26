"""The security review's fixes as a browser meets them: no Basic prompt, no cross-site writes,
and the page's polling still costs 304s."""

import time

import pytest

from ..conftest import WEB_1
from .pages import SUMMARY, expect, log_in, screenshot


def test_an_api_url_in_the_address_bar_leads_to_the_login_form(page, server):
    """No Basic password prompt: the navigation lands on the page with its login form."""
    challenges = []
    page.on("response", lambda answer: "www-authenticate" in answer.headers
            and challenges.append(answer.url))
    page.goto(server.url + "vm")
    assert page.url == server.url
    expect(page.locator("form[data-login]")).to_be_visible()
    assert challenges == []
    screenshot(page, "navigation-to-the-api-without-login")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "viewer")
    page.click("form[data-login] button[type=submit]")
    expect(page.locator("[data-summary]")).to_have_text(SUMMARY)


def test_the_fleet_poll_is_answered_with_304s_while_nothing_changes(page, server, record):
    log_in(page, server.url, "admin")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        polls = [status for status, url in record.responses
                 if url.split("?")[0].endswith("/fleet")]
        if polls.count(304) >= 2:
            break
        page.wait_for_timeout(500)
    assert polls.count(304) >= 2, f"the fleet polls were answered {polls}"


ATTACKER = "http://attacker.invalid/"


@pytest.mark.console_errors(r"status of 403")
def test_another_sites_form_cannot_act_with_the_users_credentials(page, server, api, record):
    """A page of another site posts the seed's form-encoded action to VirtDancer, in a browser
    logged in to VirtDancer: the browser sends the form with that site's Origin, and VirtDancer
    refuses it. (The attacker's page is made up by Playwright: nothing leaves the machine.)"""
    log_in(page, server.url, "admin")
    page.route(ATTACKER, lambda route: route.fulfill(content_type="text/html", body=f"""
        <form method="post" action="{server.url}vm/{WEB_1}/action">
        <input name="action" value="pause"></form>"""))
    page.goto(ATTACKER)
    with page.expect_response(lambda answer: answer.url.endswith("/action")) as posted:
        page.evaluate("document.forms[0].submit()")
    assert posted.value.status == 403
    assert api.state(WEB_1) == "running"
    # The made-up page is the one request to another origin, on purpose.
    record.requests[:] = [url for url in record.requests if not url.startswith(ATTACKER)]


def test_another_sites_form_cannot_ride_on_remembered_basic_credentials(browser, server, api):
    """A browser that answered VirtDancer's Basic prompt once sends those credentials with
    every request to it, other sites' forms included: the Origin still gives the form away."""
    context = browser.new_context(http_credentials={
        "username": "admin", "password": "admin", "origin": server.origin, "send": "always"})
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.route(ATTACKER, lambda route: route.fulfill(content_type="text/html", body=f"""
            <form method="post" action="{server.url}vm/{WEB_1}/action">
            <input name="action" value="pause"></form>"""))
        # The browser does send the credentials: the API answers it as admin.
        assert page.goto(server.url + "vm").status == 200
        page.goto(ATTACKER)
        with page.expect_response(lambda answer: answer.url.endswith("/action")) as posted:
            page.evaluate("document.forms[0].submit()")
        assert posted.value.status == 403
        assert api.state(WEB_1) == "running"
    finally:
        context.close()
