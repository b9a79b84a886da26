"""Browser tests: VirtDancer's page in Debian's Chromium, driven by Playwright.

Every test gets the demo fleet fresh (its own app behind waitress on 127.0.0.1, a free port) and
a fresh browser context; the browser itself is started once per test module (a session-wide
one would leave Playwright's event loop running under every later test, and asyncio.run()
refuses that). Two rules hold for every test, checked when it ends:

- no request leaves the app's origin (the page must work offline behind a firewall);
- no console error and no uncaught exception — except those a test declares with
  `@pytest.mark.console_errors(pattern, ...)`, because it makes them happen on purpose
  (Chromium logs every 4xx and 5xx answer, a wrong password's 401 among them).

Outside CI, the tests skip when Playwright or Chromium is missing; with CI=true they fail.
Playwright only drives the browser: its own browser downloads (`playwright install`) are
never used.
"""

import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ..conftest import DEMO_URI, Server

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() == "true"
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def unavailable(reason):
    if IN_CI:
        pytest.fail(f"{reason}; with CI=true the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[testing]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# -- the app under test ---------------------------------------------------------------------

@pytest.fixture
def app_settings(request):
    """The demo fleet, quick statistics, cookies over plain HTTP; a test adds its own with
    `@pytest.mark.app_settings({...})`."""
    settings = {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.session.secure": "false",
                "virtdancer.stats.interval": "0.5"}
    marker = request.node.get_closest_marker("app_settings")
    if marker is not None:
        settings.update(marker.args[0])
    return settings


@pytest.fixture
def app_path():
    """Where the app's page is, on the server (a test module mounting it elsewhere overrides
    this and `app`)."""
    return "/"


@pytest.fixture
def server(app, app_path):
    running = Server(app, app_path)
    yield running
    running.close()


class Api:
    """The API as a script sees it: urllib with HTTP Basic (or a token), against the same
    server."""

    def __init__(self, base_url):
        self.base_url = base_url

    def call(self, method, path, body=None, user="admin", password=None, bearer=None):
        """`bearer`: an API token to send instead of `user`'s password."""
        if bearer is not None:
            authorization = f"Bearer {bearer}"
        else:
            basic = base64.b64encode(f"{user}:{password or user}".encode()).decode()
            authorization = f"Basic {basic}"
        headers = {"Authorization": authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def get(self, path, **kwargs):
        status, body = self.call("GET", path, **kwargs)
        assert status == 200, (path, status, body)
        return body

    def action(self, uuid, action, **kwargs):
        status, body = self.call("POST", f"vm/{uuid}/action", {"action": action}, **kwargs)
        assert status == 200, (action, status, body)
        return body

    def state(self, uuid):
        return self.get(f"vm/{uuid}")["state_name"]

    def task(self, path, body, timeout=10):
        """POST an operation run as a task (202); its task once it has ended."""
        status, task = self.call("POST", path, body)
        assert status == 202, (path, status, task)
        deadline = time.monotonic() + timeout
        while task["state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.05)
            task = self.get(f"tasks/{task['id']}")
        return task

    def raw_volume(self, name, pool="default"):
        """Make a 1 MiB raw volume `name` in `pool` (a task), and check it was made."""
        made = self.task(f"pools/{pool}/volumes",
                         {"name": name, "format": "raw", "capacity_mib": 1})
        assert made["state"] == "done", made
        return made


@pytest.fixture
def api(server):
    return Api(server.url)


# -- the browser side -----------------------------------------------------------------------

class Record:
    """What the page did: every request's URL, and every console error or page error."""

    def __init__(self):
        self.requests = []
        self.responses = []   # (status, url)
        self.errors = []


@pytest.fixture
def record():
    return Record()


@pytest.fixture
def context(browser, server, record, request):
    context = browser.new_context(viewport=DESKTOP)
    context.on("request", lambda sent: record.requests.append(sent.url))
    context.on("response", lambda answer: record.responses.append((answer.status, answer.url)))
    context.on("console", lambda message: message.type == "error" and record.errors.append(
        f"console error: {message.text} at {message.location.get('url')}"))
    context.on("weberror", lambda error: record.errors.append(f"page error: {error.error}"))
    yield context
    context.close()

    foreign = [url for url in record.requests
               if not url.startswith("data:") and urlsplit(url)._replace(
                   path="", query="", fragment="").geturl() != server.origin]
    assert not foreign, f"requests left the app's origin {server.origin}: {foreign}"
    marker = request.node.get_closest_marker("console_errors")
    allowed = [re.compile(pattern) for pattern in (marker.args if marker else ())]
    unexpected = [error for error in record.errors
                  if not any(pattern.search(error) for pattern in allowed)]
    assert not unexpected, "the page logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def page(context):
    from playwright.sync_api import expect

    page = context.new_page()
    # Waits for what must happen, not timings: on a loaded 2-core machine a page can take
    # more than Playwright's 5 s to settle, and a longer wait only costs time when a test
    # fails anyway.
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    return page

