"""The page inside a portal that mounts VirtDancer under /virt/: every URL stays under it."""

import pytest
from pyramid.config import Configurator
from pyramid.response import Response

from ..conftest import DEMO_USERS, SECRET, WEB_2, close_app
from .pages import entry, expect, log_in, select


@pytest.fixture
def app(app_settings):
    settings = {**app_settings, "virtdancer.users_file": DEMO_USERS, "virtdancer.secret": SECRET}
    with Configurator(settings=settings) as config:
        config.add_route("home", "/")
        config.add_view(lambda request: Response("the portal's own home"), route_name="home")
        config.include("virtdancer", route_prefix="/virt")
        # Under the same prefix, so that the page finds /virt/login and /virt/session.
        config.include("virtdancer.security", route_prefix="/virt")
    portal = config.make_wsgi_app()
    yield portal
    close_app(portal)


@pytest.fixture
def app_path():
    return "/virt/"


def test_the_page_works_under_a_prefix(page, server, record):
    log_in(page, server.url, "admin")
    select(page, WEB_2, "web-2")
    page.click("[data-action=resume]")
    expect(entry(page, WEB_2)).to_have_attribute("data-state", "running")
    page.click("[data-logout]")
    expect(page.locator("form[data-login]")).to_be_visible()

    outside = [url for url in record.requests
               if not url.startswith("data:") and not url.startswith(server.url)]
    assert outside == [], "requests outside /virt/"
    assert any(url.startswith(server.url + "fleet?detail=1") for url in record.requests)


def test_the_prefix_without_its_slash_opens_the_page(page, server, record):
    """A link to /virt (no slash) lands on /virt/, where the page's relative URLs work."""
    log_in(page, server.origin + "/virt", "viewer")
    assert page.url == server.origin + "/virt/"
    assert any(url == server.origin + "/virt/static/main.js" for url in record.requests)
