"""The console proxy asks again when a WebSocket connects: a token outlives nothing it needs.

libvirt's test driver has no displays, so a connection that passes every check ends with 1011
("cannot open the display") here; the real ring (tests/real/test_console.py) sees the bytes.
What matters here is which connections never get that far: those closed with 1008.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from virtdancer.interfaces import IConsole
from virtdancer.security.passwords import hash_password
from virtdancer.signed_tickets import b64url_encode

from .conftest import DB_1, WEB_1, close_app, make_app

ORIGIN = "http://localhost"
POLICY_VIOLATION, UNAVAILABLE = 1008, 1011


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.ini"
    path.write_text(USERS.format(prefix="web-"))
    return path


USERS = ("[ops]\npassword = {hash}\nrole = operator\nprefix = {{prefix}}\n"
         "[admin]\npassword = {hash}\nrole = admin\nvms = all\n").format(hash=hash_password("pw"))


@pytest.fixture
def console_app(users_file):
    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.console.listen": "127.0.0.1:0"})
    yield app
    close_app(app)


def closing_of(app, token):
    """(code, reason) with which the proxy closes a connection bringing `token`."""
    console = app.registry.getUtility(IConsole)
    url = f"ws://127.0.0.1:{console.proxy_thread.bound_port}/?token={token}"

    async def scenario():
        async with connect(url, origin=ORIGIN, proxy=None, open_timeout=10) as websocket:
            try:
                async with asyncio.timeout(10):
                    await websocket.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code, closed.rcvd.reason
        pytest.fail("the proxy sent bytes")

    return asyncio.run(scenario())


def token_for(app, user, vm=WEB_1):
    console = app.registry.getUtility(IConsole)
    return console.tokens.issue(user=user, host="default", vm=vm, origin=ORIGIN)[0]


def test_a_token_of_a_user_who_may_open_the_console_gets_through_the_checks(console_app):
    code, reason = closing_of(console_app, token_for(console_app, "ops"))
    assert code == UNAVAILABLE and "cannot open the display" in reason


def test_a_removed_users_token_is_refused(console_app, users_file):
    token = token_for(console_app, "ops")
    users_file.write_text(USERS.split("[admin]")[0].format(prefix="web-").replace("[ops]",
                                                                                   "[other]"))
    code, reason = closing_of(console_app, token)
    assert (code, reason) == (POLICY_VIOLATION, "the console token's user no longer exists")


def test_a_token_for_a_vm_the_user_no_longer_sees_is_refused(console_app, users_file):
    token = token_for(console_app, "ops")
    users_file.write_text(USERS.format(prefix="db-"))
    code, reason = closing_of(console_app, token)
    assert (code, reason) == (POLICY_VIOLATION, "the console token's user no longer sees this VM")


def test_a_token_of_a_user_who_lost_the_operator_role_is_refused(console_app, users_file):
    token = token_for(console_app, "ops", vm=DB_1)
    users_file.write_text(USERS.format(prefix="db-").replace("role = operator", "role = viewer"))
    code, reason = closing_of(console_app, token)
    assert code == POLICY_VIOLATION and "may no longer open consoles" in reason


@pytest.mark.parametrize("claims", [
    [1, 2, 3],
    "a string",
    {"u": "admin"},
    {"u": None, "h": "x", "v": WEB_1, "o": ORIGIN, "e": 9e18, "n": "n"},
    {"u": "admin", "h": "x", "v": WEB_1, "o": ORIGIN, "e": "later", "n": "n"},
    {"u": "admin", "h": "x", "v": WEB_1, "o": ORIGIN, "e": True, "n": "n"},
    {"u": "admin", "h": "x", "v": WEB_1, "o": ORIGIN, "e": float("inf"), "n": "n"},
    {"u": "admin", "h": "x", "v": WEB_1, "o": ORIGIN, "e": float("nan"), "n": "n"},
])
def test_signed_but_malformed_claims_close_with_1008(console_app, claims, caplog):
    tokens = console_app.registry.getUtility(IConsole).tokens
    payload = b64url_encode(json.dumps(claims).encode())
    code, reason = closing_of(console_app, f"{payload}.{tokens._sign(payload)}")
    assert (code, reason) == (POLICY_VIOLATION, "malformed console token")
    assert "Traceback" not in caplog.text and "KeyError" not in caplog.text


# -- the URL and CSP come from a host name or the public URL (finding 14) ------------------

def test_a_host_header_that_is_no_host_name_never_reaches_the_policy(console_app):
    import webtest

    client = webtest.TestApp(console_app)
    evil = "evil.example; script-src *"
    csp = client.get("/", headers={"Host": evil}).headers["Content-Security-Policy"]
    assert "evil" not in csp and "script-src 'self';" in csp
    client.authorization = ("Basic", ("admin", "pw"))
    response = client.post(f"/vm/{WEB_1}/console", headers={"Host": evil}, status=400)
    assert "virtdancer.console.public_url" in response.json["message"]


@pytest.mark.parametrize("host", ["evil.example\n", "evil.example\r\nX: y", "a b", "'self'"])
def test_only_a_whole_host_name_is_used(console_app, host):
    import webtest

    csp = webtest.TestApp(console_app).get("/", extra_environ={"HTTP_HOST": host}).headers[
        "Content-Security-Policy"]
    assert "connect-src 'self';" in csp


def test_the_public_url_wins_over_the_host_header(users_file):
    import webtest

    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.console.listen": "127.0.0.1:0",
                      "virtdancer.console.public_url": "wss://virt.example.com/console"})
    try:
        client = webtest.TestApp(app)
        csp = client.get("/", headers={"Host": "evil.example"}).headers[
            "Content-Security-Policy"]
        assert "wss://virt.example.com" in csp and "evil.example" not in csp
    finally:
        close_app(app)
