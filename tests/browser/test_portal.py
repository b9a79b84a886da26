"""examples/portal.ini as a user runs it: a portal's page at /, VirtDancer beside it at /virt/.

The app is what `pserve examples/portal.ini` serves (`pyramid.paster.get_app` on the file): a
Paste URL map with the portal's own application and VirtDancer behind its access log.
"""

from pathlib import Path

import pytest
from pyramid.paster import get_app

from ..conftest import WEB_2, close_all
from .pages import entry, expect, select

PORTAL_INI = Path(__file__).resolve().parents[2] / "examples" / "portal.ini"


@pytest.fixture
def app():
    portal = get_app(str(PORTAL_INI))
    yield portal
    close_all(portal)


def test_from_the_portals_page_to_virtdancer_and_back(page, server, record):
    page.goto(server.url)
    expect(page.locator("h1")).to_have_text("Example portal")
    page.click("text=Virtual machines")
    page.fill("input[name=username]", "tenant")
    page.fill("input[name=password]", "tenant")
    page.click("form[data-login] button[type=submit]")
    expect(page.locator("[data-summary]")).to_have_text("1/2 running")
    assert page.url == server.origin + "/virt/"
    select(page, WEB_2, "web-2")
    page.click("[data-action=resume]")
    expect(entry(page, WEB_2)).to_have_attribute("data-state", "running")
    page.click("[data-logout]")
    expect(page.locator("form[data-login]")).to_be_visible()

    # Past the portal's own page, every request stayed under /virt/.
    after_home = [url for url in record.requests
                  if not url.startswith("data:") and url != server.url]
    outside = [url for url in after_home if not url.startswith(server.origin + "/virt/")]
    assert outside == [], "requests outside /virt/"
