"""The API reference at api/: drawn by the page itself from /openapi.json, also under a prefix."""

import json
import urllib.request

import pytest
from pyramid.config import Configurator

from ..conftest import DEMO_USERS, SECRET, close_app
from .pages import expect, log_in, screenshot

# The server builds its OpenAPI document at the first request for it: seconds on a loaded
# machine (2 to 5 s seen with CI's load), on top of the page drawing every operation. What
# waits for the drawn document waits this long (ms), not Playwright's 5 s.
DOCUMENT_DRAWN_WITHIN = 30_000


def operations_in(document):
    return sum(1 for item in document["paths"].values() for method in item
               if method in ("get", "head", "post", "put", "patch", "delete"))


def test_the_reference_lists_every_operation_of_the_document(page, server):
    with urllib.request.urlopen(server.url + "openapi.json") as answer:
        document = json.load(answer)
    page.goto(server.url + "api/")
    cards = page.locator("[data-operation]")
    expect(cards).to_have_count(operations_in(document), timeout=DOCUMENT_DRAWN_WITHIN)
    expect(page.locator("[data-api-summary]")).to_contain_text(
        f"{operations_in(document)} operations")
    # One operation opened: its parameters, body and answers, from the document.
    action = page.locator("[id='post:virtdancer.vm.action']")
    action.locator("summary").first.click()
    expect(action).to_contain_text("vm:operate")
    expect(action).to_contain_text('one of: "start", "pause"')
    expect(action.locator(".api-answers summary", has_text="409")).to_be_visible()
    screenshot(page, "api-reference")
    page.fill("[data-api-filter]", "tokens")
    visible = page.locator("[data-operation]:visible")
    expect(visible.first).to_contain_text("/tokens")
    assert all("/tokens" in text for text in visible.all_text_contents())


def test_the_page_links_to_the_reference(page, server):
    log_in(page, server.url, "viewer")
    page.click("[data-api-link]")
    assert page.url == server.url + "api/"
    expect(page.locator("[data-operation]").first).to_be_visible(timeout=DOCUMENT_DRAWN_WITHIN)


class TestUnderAPrefix:
    @pytest.fixture
    def app(self, app_settings):
        settings = {**app_settings, "virtdancer.users_file": DEMO_USERS,
                    "virtdancer.secret": SECRET}
        with Configurator(settings=settings) as config:
            config.include("virtdancer", route_prefix="/virt")
        portal = config.make_wsgi_app()
        yield portal
        close_app(portal)

    @pytest.fixture
    def app_path(self):
        return "/virt/"

    def test_the_reference_and_its_servers_url_keep_the_prefix(self, page, server, record):
        page.goto(server.origin + "/virt/api")           # without its slash: redirected
        assert page.url == server.origin + "/virt/api/"
        expect(page.locator("[data-api-summary]")).to_contain_text(
            "paths below /virt", timeout=DOCUMENT_DRAWN_WITHIN)
        outside = [url for url in record.requests if not url.startswith(server.url)]
        assert outside == []
