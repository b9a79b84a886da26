"""The browser page and its assets come from VirtDancer itself, never from another origin."""

import re


def referenced_urls(html):
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_page_is_served_at_the_root(testapp):
    response = testapp.get("/")
    assert response.content_type == "text/html"
    assert "data-summary" in response.text


def test_every_asset_the_page_references_is_served_locally(testapp):
    urls = referenced_urls(testapp.get("/").text)
    assert "static/fleet.js" in urls and "static/style.css" in urls
    for url in urls:
        assert "//" not in url, f"{url} would leave the app's origin"
        if url.startswith("data:"):
            continue   # inline, no request at all
        assert testapp.get("/" + url).status_int == 200
