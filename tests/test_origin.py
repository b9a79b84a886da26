"""Writes from other sites' pages are refused however they are authenticated; browsers get no
Basic prompt; anonymous clients learn nothing, whatever the method."""

import pytest
import webtest

from .conftest import WEB_1, WEB_2, close_app, make_app
from .test_errors import assert_error_body

EVIL = "http://evil.example"


def vm_state(app, uuid=WEB_1):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("viewer", "viewer"))
    return client.get(f"/vm/{uuid}").json["info"]["state"]


# -- finding 4: cross-site writes ----------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Origin": "http://localhost.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_a_cross_site_form_riding_on_basic_credentials_is_refused(app, testapp, headers):
    response = testapp.post(f"/vm/{WEB_1}/action", {"action": "pause"}, headers=headers,
                            status=403)
    assert_error_body(response, 403)
    assert response.json["errors"][0]["name"] == "Origin"
    assert vm_state(app) == 1


def test_a_cross_site_write_with_a_session_is_refused_too(app):
    browser = webtest.TestApp(app)
    token = browser.post_json("/login", {"username": "admin", "password": "admin"}) \
        .json["csrf_token"]
    browser.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                      headers={"X-CSRF-Token": token, "Origin": EVIL}, status=403)
    assert vm_state(app) == 1


def test_same_origin_and_originless_writes_work(app, testapp):
    # The seed's form-encoded action, from VirtDancer's own origin and from curl (no Origin).
    testapp.post(f"/vm/{WEB_1}/action", {"action": "pause"},
                 headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert vm_state(app) == 3
    testapp.post(f"/vm/{WEB_1}/action", {"action": "resume"})
    assert vm_state(app) == 1


def test_an_https_page_of_the_same_host_may_write_through_a_proxy_that_does_not_say_so(
        app, testapp):
    testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                      headers={"Origin": "https://localhost"})
    assert vm_state(app) == 3
    # The reverse, a plain-http page writing to VirtDancer on HTTPS, is foreign.
    testapp.post_json(f"/vm/{WEB_1}/action", {"action": "resume"},
                      headers={"Origin": "http://localhost"},
                      extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "localhost"},
                      status=403)
    assert vm_state(app) == 3


def test_allowed_origins_may_write():
    app = make_app(**{"virtdancer.allowed_origins": "https://portal.example\nhttp://ops.example"})
    try:
        client = webtest.TestApp(app)
        client.authorization = ("Basic", ("admin", "admin"))
        client.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                         headers={"Origin": "https://portal.example"})
        client.post_json(f"/vm/{WEB_1}/action", {"action": "resume"},
                         headers={"Origin": EVIL}, status=403)
        assert vm_state(app) == 3
    finally:
        close_app(app)


def test_reads_from_anywhere_are_not_refused(testapp):
    testapp.get("/vm", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})


def test_multipart_bodies_are_refused(app, testapp):
    response = testapp.post(f"/vm/{WEB_1}/action", {"action": "pause"},
                            upload_files=[("file", "a.txt", b"x")], status=415)
    assert_error_body(response, 415)
    assert response.json["errors"][0]["name"] == "Content-Type"
    testapp.post(f"/vm/{WEB_1}/action", b'--x\r\n\r\naction=pause\r\n--x--\r\n',
                 content_type="Multipart/Form-Data; boundary=x", status=415)
    assert vm_state(app) == 1


# -- finding 10: login and logout across sites ----------------------------------------------

def test_a_foreign_login_form_sets_no_cookie(anonymous):
    response = anonymous.post("/login", {"username": "admin", "password": "admin"},
                              headers={"Origin": EVIL}, status=403)
    assert "Set-Cookie" not in response.headers


def test_a_foreign_page_cannot_log_the_user_out(anonymous):
    token = anonymous.post_json("/login", {"username": "viewer", "password": "viewer"}) \
        .json["csrf_token"]
    anonymous.post("/logout", headers={"Origin": EVIL, "X-CSRF-Token": token}, status=403)
    anonymous.post("/logout", status=403)       # no token
    assert anonymous.get("/session").json["user"] == "viewer"


# -- the Basic challenge is for scripts, not for browsers ------------------------------------

@pytest.mark.parametrize("headers", [
    {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    {"Sec-Fetch-Mode": "navigate"},
])
def test_a_browser_navigation_is_sent_to_the_page(anonymous, headers):
    response = anonymous.get("/vm", headers=headers, status=303)
    assert "WWW-Authenticate" not in response.headers
    assert response.headers["Location"] == "http://localhost/"


def test_scripts_still_get_the_basic_challenge(anonymous):
    response = anonymous.get("/vm", headers={"Accept": "application/json"}, status=401)
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


# -- finding 5: anonymous requests are 401 whatever their method --------------------------

UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "POST", "OPTIONS"])
@pytest.mark.parametrize("path", [f"/vm/{WEB_2}/action", f"/vm/{UNKNOWN}/action",
                                  f"/vm/{WEB_2}", f"/vm/{UNKNOWN}", "/vm", "/metrics",
                                  "/stats/cpu", f"/vm/{WEB_2}/console"])
def test_anonymous_requests_are_401_whatever_the_method(anonymous, method, path):
    response = anonymous.request(path, method=method, status=401)
    assert_error_body(response, 401)
    assert "Allow" not in response.headers
