"""The browser page and its assets come from VirtDancer itself, never from another origin.

The page is plain HTML, CSS and JavaScript modules: what index.html references, and what those
modules import, is all there is. (tests/browser/ drives the page itself in Chromium.)
"""

import re
from urllib.parse import urljoin

HTML_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')
# `import "./x.js"`, `import {a, b} from "./x.js"`, `export {a} from "./x.js"`
JS_IMPORT = re.compile(
    r'^\s*(?:import\s*|(?:import|export)\b[^"\'`;]*?\bfrom\s*)["\']([^"\']+)["\']', re.M)
CSS_URL = re.compile(r'url\(\s*["\']?([^"\')]+)')
JS_TYPES = ("text/javascript", "application/javascript")


def referenced_urls(html):
    return HTML_REFERENCE.findall(html)


def references(url, response):
    """The URLs a served file refers to, relative to the site root, as the browser reads them."""
    if response.content_type == "text/html":
        found = referenced_urls(response.text)
    elif response.content_type in JS_TYPES:
        found = JS_IMPORT.findall(response.text)
    elif response.content_type == "text/css":
        found = CSS_URL.findall(response.text)
    else:
        found = []
    return [(reference, urljoin(url, reference)) for reference in found]


def crawl(testapp, start="/"):
    """Every file the page at `start` loads, and `start` itself: {url: response}."""
    served = {}
    waiting = [start]
    while waiting:
        url = waiting.pop()
        if url in served:
            continue
        served[url] = response = testapp.get(url)
        for reference, absolute in references(url, response):
            assert "//" not in reference, f"{url} refers to {reference}, off the app's origin"
            if reference.startswith("data:") or reference.startswith("#"):
                continue   # inline, no request at all
            assert not reference.startswith("/"), \
                f"{url} refers to {reference}: absolute, it breaks under a prefix"
            waiting.append(absolute)
    return served


def test_page_is_served_at_the_root(testapp):
    response = testapp.get("/")
    assert response.content_type == "text/html"
    assert "data-summary" in response.text


def test_every_asset_the_page_references_is_served_locally(testapp):
    urls = referenced_urls(testapp.get("/").text)
    assert "static/main.js" in urls and "static/style.css" in urls
    for url in urls:
        assert "//" not in url, f"{url} would leave the app's origin"
        if url.startswith("data:"):
            continue   # inline, no request at all
        assert testapp.get("/" + url).status_int == 200


def test_every_module_the_page_imports_is_served_as_javascript(testapp):
    served = crawl(testapp)
    modules = {url for url, response in served.items() if response.content_type in JS_TYPES}
    # The modules of the page, each with one job (see their opening comments).
    assert {f"/static/{name}.js" for name in (
        "main", "api", "fleet", "detail", "actions", "confirm", "charts", "host", "vmstats",
        "format", "login", "poll", "icons", "manage", "createvm", "clonevm", "deletevm", "editvm",
        "vmxml", "devices", "fields", "views", "storage", "volumes", "uploadform",
        "upload", "networks", "checks", "dom", "hostpage", "snapshots",
        "snapshottask", "snapshotdialog", "tasks", "clonevolume", "sheet")} <= modules
    for url, response in served.items():
        assert response.status_int == 200, url
        # Module scripts are refused unless served as JavaScript (nosniff is on).
        if url.endswith(".js"):
            assert response.content_type in JS_TYPES, url


def test_the_page_has_nothing_inline_that_its_policy_would_block(testapp):
    response = testapp.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert not re.search(r"<style\b|\sstyle=", html), "an inline style"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_the_page_asks_the_api_with_relative_urls_only(testapp):
    """A path starting with / would leave the prefix VirtDancer is mounted under."""
    for url, response in crawl(testapp).items():
        if response.content_type in JS_TYPES:
            assert not re.search(r"\b(?:get|post|request|fetch)\(\s*(?:\"[A-Z]+\",\s*)?[\"'`]/",
                                 response.text), url
