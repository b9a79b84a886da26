"""What clients send cannot crash VirtDancer or make it hold much: bodies, paths, parameters.

Every refusal is JSON in VirtDancer's one shape, changes nothing, and quotes little of what the
client sent.
"""

import base64
import http.client
import io
import json
from pathlib import Path

import pytest
import webtest

from .conftest import WEB_1, Server, close_app, make_app
from .test_errors import assert_error_body

REPO = Path(__file__).resolve().parents[1]


def vm_state(testapp, uuid=WEB_1):
    return testapp.get(f"/vm/{uuid}").json["info"]["state"]


class CountingInput(io.BytesIO):
    """A request body that counts the bytes anybody read of it."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.bytes_read += len(data)
        return data


# -- body size (finding 2) ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", f"/vm/{WEB_1}/action", "/logout"])
def test_a_body_over_the_limit_is_413_before_it_is_read(app, path):
    body = CountingInput(b'{"username": "' + b"x" * (1024 * 1024) + b'"}')
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "wsgi.input": body,
               "CONTENT_LENGTH": str(len(body.getvalue())), "CONTENT_TYPE": "application/json",
               "HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="}
    response = webtest.TestRequest.blank(path, environ).get_response(app)
    assert response.status_code == 413
    assert_error_body(webtest.TestResponse(response.body, status=413,
                                           content_type=response.content_type), 413)
    assert "virtdancer.max_body_bytes" in response.json["message"]
    assert response.json["errors"][0]["location"] == "body"
    assert body.bytes_read == 0


def test_the_body_limit_is_a_setting():
    app = make_app(**{"virtdancer.max_body_bytes": "100"})
    try:
        client = webtest.TestApp(app)
        client.authorization = ("Basic", ("admin", "admin"))
        client.post_json(f"/vm/{WEB_1}/action", {"action": "pause", "pad": "x" * 200},
                         status=413)
        assert vm_state(client) == 1
        client.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
        assert vm_state(client) == 3
    finally:
        close_app(app)


@pytest.fixture
def server(app):
    served = Server(app)
    yield served
    served.close()


def raw_request(server, method, path, body=None, headers=None, chunked=False):
    connection = http.client.HTTPConnection("127.0.0.1", server.server.effective_port,
                                            timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for start in range(0, len(body), 65536):
                piece = body[start:start + 65536]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        else:
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def test_a_large_chunked_body_through_waitress_is_413_json(server):
    status, content_type, body = raw_request(
        server, "POST", "/login", b'{"username": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        {"Content-Type": "application/json"}, chunked=True)
    assert status == 413 and content_type == "application/json"
    assert json.loads(body)["code"] == 413


# -- bodies and paths that crashed (finding 7) ----------------------------------------------

# As deep as fits in the body limit: 30,000 levels.
DEEP = "[" * 30_000 + "]" * 30_000


@pytest.mark.parametrize("path", ["/login", f"/vm/{WEB_1}/action"])
def test_json_nested_too_deep_is_a_400(testapp, path):
    response = testapp.post(path, DEEP, content_type="application/json", status=400)
    assert_error_body(response, 400)
    assert "nested too deeply" in response.json["message"]
    assert vm_state(testapp) == 1


def test_json_nested_too_deep_is_a_400_without_login(anonymous):
    response = anonymous.post("/login", DEEP, content_type="application/json", status=400)
    assert_error_body(response, 400)


@pytest.mark.parametrize("body", [
    '{"username": "admin", "password": "\\ud800"}',
    '{"username": "\\udfff", "password": "x"}',
])
def test_a_lone_surrogate_in_a_login_is_a_400(anonymous, body):
    response = anonymous.post("/login", body, content_type="application/json", status=400)
    assert_error_body(response, 400)
    assert "surrogate" in response.json["message"]


def test_a_body_that_is_not_utf8_is_a_400(testapp):
    response = testapp.post(f"/vm/{WEB_1}/action", b'{"action": "\xff"}',
                            content_type="application/json", status=400)
    assert_error_body(response, 400)


@pytest.mark.parametrize("path", ["/vm/%FF%FE", "/%FF", "/static/%c0%ae%c0%ae/etc/passwd",
                                  f"/vm/{WEB_1}/%80"])
def test_paths_that_are_not_utf8_are_json_400_through_waitress(server, path):
    status, content_type, body = raw_request(server, "GET", path,
                                             headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert status == 400 and content_type == "application/json"
    assert json.loads(body)["message"] == "the URL's path is not valid UTF-8"


# In UTF-7, ASCII can hide inside a base64 run: the first body below is shallow JSON to a UTF-8
# reader and 5,000 levels deep to a UTF-7 one.
@pytest.mark.parametrize("path", ["/login", f"/vm/{WEB_1}/action"])
@pytest.mark.parametrize("content_type, body", [
    ("application/json; charset=utf-7",
     b'{"k":"+' + base64.b64encode(
         ('", "action": ' + "[" * 5000 + "]" * 5000 + ', "z":"').encode("utf-16-be"))
     .rstrip(b"=") + b'-"}'),
    ("application/json; charset=foo", b'{"action": "pause"}'),
    ("application/x-www-form-urlencoded; charset=latin-1", b"action=pause"),
    ("application/x-www-form-urlencoded; charset=foo", b"action=pause"),
])
def test_bodies_in_another_charset_are_refused(testapp, path, content_type, body):
    response = testapp.post(path, body, content_type=content_type, status=415)
    assert_error_body(response, 415)
    assert "UTF-8" in response.json["message"]
    assert vm_state(testapp) == 1


@pytest.mark.parametrize("path", ["/vm?detail=%FF", f"/vm/{WEB_1}/stats?history=%FF%FE",
                                  "/stats/cpu?%FF=1"])
def test_a_query_string_that_is_not_utf8_is_a_400(testapp, path):
    response = testapp.get(path, status=400)
    assert_error_body(response, 400)
    assert response.json["errors"][0]["location"] == "querystring"


@pytest.mark.parametrize("header", ["If-Modified-Since", "If-Unmodified-Since", "If-Range"])
@pytest.mark.parametrize("path", ["/static/main.js", "/", "/console"])
def test_a_date_header_that_is_no_date_is_ignored_through_waitress(server, header, path):
    status, content_type, _ = raw_request(server, "GET", path,
                                          headers={header: "Mon, 01 Jan 99999 00:00:00 GMT"})
    assert status == 200 and "json" not in content_type


@pytest.mark.parametrize("content_type, body", [
    ("text/plain", '{"username": "viewer", "password": "the-secret-itself"}'),
    ("application/json", '["viewer", "the-secret-itself"]'),
    ("application/json", '{"username": "viewer", "password": ["the-secret-itself"]}'),
    ("application/json", '{"username": "viewer", "password": "the-secret-itself' + "x" * 5000
     + '"}'),
])
def test_a_refused_login_never_quotes_the_password(anonymous, content_type, body):
    response = anonymous.post("/login", body, content_type=content_type, status=400)
    assert_error_body(response, 400)
    assert b"the-secret-itself" not in response.body


# -- what errors quote (finding 12) ---------------------------------------------------------

@pytest.mark.parametrize("action", ["x" * 60_000, ["y" * 60_000], {"z" * 60_000: 1}])
def test_an_error_quotes_little_of_what_was_sent(testapp, action):
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": action}, status=400)
    assert len(response.body) < 1000
    for error in response.json["errors"]:
        assert len(error["description"]) < 250
    assert vm_state(testapp) == 1


def test_a_10_mb_action_is_not_echoed_even_when_the_limit_allows_it():
    app = make_app(**{"virtdancer.max_body_bytes": str(16 * 1024 * 1024)})
    try:
        client = webtest.TestApp(app)
        client.authorization = ("Basic", ("admin", "admin"))
        response = client.post_json(f"/vm/{WEB_1}/action", {"action": "p" * 10_000_000},
                                    status=400)
        assert len(response.body) < 1000
        assert "is not one of" in response.json["message"]
    finally:
        close_app(app)


def test_a_long_unknown_path_is_quoted_short(testapp):
    response = testapp.get("/vm/" + "a" * 5000, status=404)
    assert len(response.json["message"]) < 150


# -- query parameters and methods (finding 16) ------------------------------------------------

@pytest.mark.parametrize("path, name", [
    ("/vm?detail=abc", "detail"),
    ("/stats/cpu?history=abc", "history"),
    (f"/vm/{WEB_1}/stats?history=maybe", "history"),
    ("/stats/mem?history=2", "history"),
])
def test_a_flag_that_is_neither_yes_nor_no_is_a_400(testapp, path, name):
    response = testapp.get(path, status=400)
    assert_error_body(response, 400)
    assert response.json["errors"][0] == {"location": "querystring", "name": name,
                                          "description": response.json["message"]}


@pytest.mark.parametrize("value, detailed", [
    ("1", True), ("true", True), ("yes", True), ("y", True), ("t", True), ("ON", True),
    ("0", False), ("false", False), ("off", False), ("n", False), ("", False)])
def test_flags_keep_their_spellings(testapp, value, detailed):
    [first, *_] = testapp.get(f"/vm?detail={value}").json
    assert ("info" in first) == detailed


@pytest.mark.parametrize("ini", ["development.ini", "production.ini", "examples/portal.ini",
                                 "examples/behind-proxy.ini"])
def test_the_shipped_ini_files_bound_what_waitress_takes_in(ini):
    """waitress spools a body to disk before VirtDancer sees it: its own limit bounds that."""
    from paste.deploy.loadwsgi import SERVER, loadcontext

    server = loadcontext(SERVER, f"config:{REPO / ini}").local_conf
    assert 64 * 1024 <= int(server["max_request_body_size"]) <= 1024 * 1024


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST", "PATCH"])
@pytest.mark.parametrize("path", ["/metrics", "/", "/static/fleet.js", "/console"])
def test_read_only_urls_answer_other_methods_with_405(testapp, method, path):
    response = testapp.request(path, method=method, status=405)
    assert_error_body(response, 405)
    assert response.headers["Allow"] == "GET, HEAD"
