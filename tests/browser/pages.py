"""What the browser tests do to VirtDancer's page, in the page's own terms."""

import re
import time
from pathlib import Path

try:
    from playwright.sync_api import expect
except ImportError:   # the `playwright` fixture skips every test (with CI=true, fails it)
    expect = None

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SUMMARY = re.compile(r"^\d+/\d+ running$")


def log_in(page, url, user, password=None):
    """Open the page and log in with its form; return once the fleet is on screen."""
    page.goto(url)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password or user)
    page.click("form[data-login] button[type=submit]")
    expect(page.locator("[data-summary]")).to_have_text(SUMMARY)


def entry(page, uuid):
    """A VM's entry in the fleet list."""
    return page.locator(f"[data-fleet] [data-uuid='{uuid}']")


def entries(page):
    return page.locator("[data-fleet] [data-uuid]")


def select(page, uuid, name):
    entry(page, uuid).click()
    expect(page.locator("[data-detail-title]")).to_have_text(name)


def mark_document(page):
    """Mark the document, so that `assert_not_reloaded` can tell it is still the same one."""
    page.evaluate("window.virtdancerTestMark = 'still here'")


def assert_not_reloaded(page):
    assert page.evaluate("window.virtdancerTestMark") == "still here", "the page was reloaded"


def screenshot(page, name, full_page=True):
    """Save the page as screenshots/<name>.png, for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def requests_once(page, record, fragment, count, timeout_s=15):
    """The URLs the page asked for that contain `fragment`, once there are `count` of them, or
    all there are after `timeout_s`: a poller's next round comes when a loaded machine runs its
    timer, not at a moment a test can count on."""
    deadline = time.monotonic() + timeout_s
    while True:
        asked = [url for url in record.requests if fragment in url]
        if len(asked) >= count or time.monotonic() >= deadline:
            return asked
        page.wait_for_timeout(100)
