"""The page on a phone-sized screen."""

import pytest

from ..conftest import DEMO_URI, LAB_URI, WEB_1
from .pages import entry, expect, log_in, screenshot, select

NARROW = {"width": 360, "height": 740}
PHONE = {"width": 390, "height": 844}
TWO_HOSTS = {"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"}


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_at_360_pixels_nothing_scrolls_sideways_and_the_panels_stack(page, server):
    page.set_viewport_size(NARROW)
    page.goto(server.url)
    expect(page.locator("input[name=username]")).to_be_visible()
    assert scroll_width(page) <= NARROW["width"]

    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    assert scroll_width(page) <= NARROW["width"]
    # One look at all three at once: the page may still be scrolling to the detail.
    fleet, detail, host = page.evaluate("""() => ["section.fleet", "[data-detail]", "[data-host]"]
        .map(selector => document.querySelector(selector).getBoundingClientRect().toJSON())""")
    assert fleet["bottom"] <= detail["top"] < detail["bottom"] <= host["top"], \
        "the list, the detail and the host panel should stack"
    assert detail["width"] <= NARROW["width"]
    page.wait_for_timeout(1000)   # a few statistics rounds
    screenshot(page, "narrow-360")

    page.click("[data-action=destroy]")
    expect(page.locator("[data-confirm-dialog]")).to_be_visible()
    expect(page.locator("[data-confirm]")).to_have_class("danger")
    assert scroll_width(page) <= NARROW["width"]
    page.click("[data-cancel]")
    expect(entry(page, WEB_1)).to_have_attribute("data-state", "running")


@pytest.mark.app_settings(TWO_HOSTS)
def test_on_a_phone_the_fleet_filters_are_wide_enough_to_read(page, server):
    # In one row, the three were cut to "All", "Filter by" and "any stat".
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    for control in ("#fleet-host", "#fleet-filter", "#fleet-state"):
        expect(page.locator(control)).to_be_visible()
        box = page.locator(control).bounding_box()
        assert box["width"] >= 140, f"{control} is only {box['width']:.0f} px wide"
    assert scroll_width(page) <= PHONE["width"]


def test_on_a_phone_the_account_controls_share_one_line_under_the_user(page, server):
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    user = page.locator("[data-user]").bounding_box()
    boxes = [page.locator(selector).bounding_box()
             for selector in ("[data-tokens-toggle]", "[data-api-link]", "[data-logout]")]
    # Log out wrapped onto a line of its own, indented by its padding.
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) <= 2, boxes
    assert boxes[0]["y"] >= user["y"] + user["height"] - 1, (user, boxes)
    # The words of the line's first control start under the user's.
    text_left = page.evaluate("""() => { const words = document.createRange();
        words.selectNodeContents(document.querySelector('[data-tokens-toggle]'));
        return words.getBoundingClientRect().x; }""")
    assert abs(text_left - user["x"]) <= 2, (user, text_left)
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes)
    screenshot(page, "header-phone")
