"""The console of real QEMU VMs: POST /vm/<uuid>/console, then the WebSocket proxy to VNC.

The app runs the proxy inline on a free port (`virtdancer.console.listen = 127.0.0.1:0`); a
client speaks WebSocket to it as noVNC would, with the `websockets` library, from the origin the
token was issued to (WebTest's host URL, http://localhost). What is asserted:

- the RFB protocol flows both ways through the proxy: QEMU's banner arrives, and a whole RFB
  handshake (version, security type None, ClientInit) ends in QEMU's ServerInit, whose desktop
  name "QEMU (<domain name>)" proves the bytes reach the VM the token names;
- every refusal (bad, expired, reused, foreign tokens; a foreign or missing Origin) is a close
  with code 1008 and a reason that says what is wrong, and the proxy goes on serving;
- destroying one VM ends its console (code 1000) and no other;
- `virtdancer console-proxy` runs the same proxy as a process of its own.

The test VMs have no disk and no password on VNC, so QEMU offers exactly security type None.

"""

import asyncio
import base64
import json
import os
import secrets
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import webtest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from virtdancer.console.tokens import ConsoleTokens
from virtdancer.interfaces import IConsole

from ..conftest import DEMO_USERS, SECRET, close_app, make_app
from ..processes import free_port, stop, wait_for_listener
from .conftest import RECONNECT_MAX_DELAY, URI, domain_xml, remove_domain, virsh

ORIGIN = "http://localhost"    # WebTest's host URL: the origin POST /vm/<uuid>/console binds
BANNER = b"RFB 003.008\n"
POLICY_VIOLATION = 1008
UNAVAILABLE = 1011
STEP_TIMEOUT = 15              # seconds for any one network step; nothing should take one
LIBVIRTD_PATIENCE = 30         # seconds to wait out a libvirtd restart by another test run
SECURITY_NONE = 1


@pytest.fixture
def app_settings(app_settings):
    """The ring's settings, with the console proxy inline on a free port."""
    return {**app_settings, "virtdancer.console.listen": "127.0.0.1:0"}


@pytest.fixture
def console(app):
    """The app's IConsole utility: its tokens, and the inline proxy's thread."""
    return app.registry.getUtility(IConsole)


def client_for(app, user):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (user, user))   # the demo users' passwords are their names
    return client


# -- requesting consoles ---------------------------------------------------------------------

def post_console(client, uuid):
    """POST /vm/<uuid>/console, waiting out a 503 while libvirtd restarts (other test runs
    on this machine kill it); any other answer is returned as it is."""
    deadline = time.monotonic() + LIBVIRTD_PATIENCE
    while True:
        response = client.post(f"/vm/{uuid}/console", expect_errors=True)
        if response.status_int != 503 or time.monotonic() >= deadline:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))


def console_url(client, uuid):
    """The `url` of a console ticket for this VM (asserting the ticket is granted)."""
    response = post_console(client, uuid)
    assert response.status_int == 200, response.text
    return response.json["url"]


def proxy_url(console, token):
    """The inline proxy's URL for a token issued without the view."""
    return f"ws://127.0.0.1:{console.proxy_thread.bound_port}/?token={token}"


def issue(console, vm, **claims):
    """A token from the app's own IConsole utility, as the view would issue it for admin."""
    claims = {"user": "admin", "host": "default", "vm": vm.uuid, "origin": ORIGIN, **claims}
    token, _expires = console.tokens.issue(**claims)
    return token


# -- the client side: WebSocket + RFB ----------------------------------------------------------

class RFBStream:
    """An RFB byte stream carried in WebSocket binary messages of any size."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.buffer = b""

    async def read(self, count):
        while len(self.buffer) < count:
            async with asyncio.timeout(STEP_TIMEOUT):
                message = await self.websocket.recv()
            assert isinstance(message, bytes), f"a text message from the proxy: {message!r}"
            self.buffer += message
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    async def send(self, data):
        await self.websocket.send(data)


def _retryable(closed):
    """A display failure because libvirtd is restarting: worth a new token and another try."""
    reason = closed.rcvd.reason if closed.rcvd else ""
    return (closed.rcvd is not None and closed.rcvd.code == UNAVAILABLE
            and any(word in reason for word in ("unreachable", "connection", "socket")))


async def open_display(get_url, origin=ORIGIN):
    """(websocket, stream) of a console whose RFB banner has arrived; close the websocket.

    `get_url()` gives a URL with a fresh token: a 1011 because libvirtd is restarting is
    retried with a new one for a while; any other close is raised.
    """
    deadline = time.monotonic() + LIBVIRTD_PATIENCE
    while True:
        websocket = await connect(get_url(), origin=origin, proxy=None,
                                  open_timeout=STEP_TIMEOUT)
        stream = RFBStream(websocket)
        try:
            banner = await stream.read(len(BANNER))
        except ConnectionClosed as closed:
            await websocket.close()
            if _retryable(closed) and time.monotonic() < deadline:
                await asyncio.sleep(1)
                continue
            raise
        except BaseException:
            await websocket.close()
            raise
        assert banner == BANNER
        return websocket, stream


async def rfb_handshake(stream):
    """Answer the banner and go on to ServerInit; the desktop name QEMU sends."""
    await stream.send(BANNER)                      # the client's version: 3.8 as well
    count = (await stream.read(1))[0]
    assert count > 0, "QEMU refused the connection instead of offering security types"
    types = list(await stream.read(count))
    assert types == [SECURITY_NONE], f"security types {types}: expected None only"
    await stream.send(bytes([SECURITY_NONE]))
    assert await stream.read(4) == b"\0\0\0\0", "SecurityResult is not OK"
    await stream.send(b"\x01")                     # ClientInit: shared
    width, height = struct.unpack(">HH", await stream.read(4))
    assert width > 0 and height > 0
    await stream.read(16)                          # the pixel format
    (name_length,) = struct.unpack(">I", await stream.read(4))
    return (await stream.read(name_length)).decode("utf-8")


def desktop_name(vm):
    """The name QEMU gives its VNC display: the domain's name, as libvirt passes it."""
    return f"QEMU ({vm.name})"


async def read_until_closed(websocket):
    """Drain the websocket until it closes; (code, reason) of the close frame received."""
    async with asyncio.timeout(STEP_TIMEOUT):
        try:
            while True:
                await websocket.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the proxy dropped the connection without closing it"
            return closed.rcvd.code, closed.rcvd.reason


async def refusal(url, origin=ORIGIN):
    """(code, reason) with which the proxy closes this connection before any RFB byte."""
    async with connect(url, origin=origin, proxy=None, open_timeout=STEP_TIMEOUT) as websocket:
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                message = await websocket.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "the proxy dropped the connection without closing it"
            return closed.rcvd.code, closed.rcvd.reason
    pytest.fail(f"the proxy let the connection through: it sent {message!r}")


async def banner_and_handshake(get_url, origin=ORIGIN):
    websocket, stream = await open_display(get_url, origin)
    try:
        return await rfb_handshake(stream)
    finally:
        await websocket.close()


# -- the RFB protocol through the proxy -------------------------------------------------------

def test_the_rfb_banner_arrives_through_the_proxy(testapp, make_vm):
    vm = make_vm(start=True)

    async def scenario():
        websocket, _stream = await open_display(lambda: console_url(testapp, vm.uuid))
        await websocket.close()

    asyncio.run(scenario())   # open_display asserts the banner


def test_a_whole_rfb_handshake_flows_both_ways_to_the_right_vm(testapp, make_vm):
    """Browser→VM bytes get through as well: QEMU answers each step, up to ServerInit."""
    make_vm(start=True)   # another running VM, which must not be the one reached
    vm = make_vm(start=True)
    name = asyncio.run(banner_and_handshake(lambda: console_url(testapp, vm.uuid)))
    assert name == desktop_name(vm)


def test_a_paused_vm_has_a_console_too(testapp, make_vm):
    vm = make_vm(start=True)
    virsh("suspend", vm.name)
    assert vm.state() == "paused"
    name = asyncio.run(banner_and_handshake(lambda: console_url(testapp, vm.uuid)))
    assert name == desktop_name(vm)


# -- POST /vm/<uuid>/console -----------------------------------------------------------------

def test_the_console_ticket_names_the_proxy_a_token_and_its_expiry(testapp, console, make_vm):
    vm = make_vm(start=True)
    before = time.time()
    response = post_console(testapp, vm.uuid)
    after = time.time()
    assert response.status_int == 200, response.text
    assert response.content_type == "application/json"
    ticket = response.json
    assert set(ticket) == {"url", "token", "expires"}
    port = console.proxy_thread.bound_port
    assert ticket["url"] == f"ws://localhost:{port}/?token={ticket['token']}"
    assert before + 59 <= ticket["expires"] <= after + 61, ticket["expires"] - after
    assert asyncio.run(banner_and_handshake(lambda: ticket["url"])) == desktop_name(vm)


def test_a_viewer_may_not_open_a_console(app, make_vm):
    vm = make_vm(start=True)
    response = post_console(client_for(app, "viewer"), vm.uuid)
    assert response.status_int == 403
    assert response.content_type == "application/json"
    assert response.json["status"] == "error" and response.json["code"] == 403


def test_a_vm_the_user_does_not_see_has_no_console(app, make_vm):
    """The tenant (an operator for VMs named web-*) does not see the ring's vdtest-* VMs."""
    vm = make_vm(start=True)
    response = post_console(client_for(app, "tenant"), vm.uuid)
    assert response.status_int == 404
    assert response.content_type == "application/json"
    assert response.json["code"] == 404


def test_an_operator_opens_the_console_of_a_vm_it_sees(app, tmp_path):
    """The tenant's own kind of VM (web-*): granted, and the token works for the tenant.

    This VM is transient and named web-vdtest-..., outside the ring's make_vm (whose names must
    start with vdtest-); it is removed here, whatever happens.
    """
    name = f"web-vdtest-{os.getpid()}-{secrets.token_hex(4)}"
    xml_file = tmp_path / f"{name}.xml"
    xml_file.write_text(domain_xml(name))
    try:
        virsh("create", str(xml_file))
        uuid = virsh("domuuid", name)
        tenant = client_for(app, "tenant")
        name_seen = asyncio.run(banner_and_handshake(lambda: console_url(tenant, uuid)))
        assert name_seen == f"QEMU ({name})"
    finally:
        remove_domain(name)


def test_a_shut_off_vm_has_no_console(testapp, make_vm):
    vm = make_vm()
    response = post_console(testapp, vm.uuid)
    assert response.status_int == 409
    assert response.content_type == "application/json"
    assert response.json["code"] == 409
    assert "not running" in response.json["message"]


def test_without_a_proxy_the_console_is_not_implemented(make_vm):
    vm = make_vm(start=True)
    app = make_app(**{"virtdancer.libvirt_uri": URI,
                      "virtdancer.reconnect_max_delay": str(RECONNECT_MAX_DELAY)})
    try:
        response = post_console(client_for(app, "admin"), vm.uuid)
    finally:
        close_app(app)
    assert response.status_int == 501
    assert response.content_type == "application/json"
    assert "virtdancer.console.listen" in response.json["message"]


# -- refusals ----------------------------------------------------------------------------------

def _flip(char):
    return "A" if char != "A" else "B"


def _forged_signature(console, vm, monkeypatch):
    payload, signature = issue(console, vm).split(".")
    middle = len(signature) // 2
    signature = signature[:middle] + _flip(signature[middle]) + signature[middle + 1:]
    return proxy_url(console, f"{payload}.{signature}"), ORIGIN


def _tampered_payload(console, vm, monkeypatch):
    """The claims changed (another user) under the original signature."""
    payload, signature = issue(console, vm).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["u"] = "mallory"
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return proxy_url(console, f"{encoded}.{signature}"), ORIGIN


def _other_secret(console, vm, monkeypatch):
    other = ConsoleTokens("another-secret-that-is-long-enough-0123456789abcdef")
    token, _ = other.issue(user="admin", host="default", vm=vm.uuid, origin=ORIGIN)
    return proxy_url(console, token), ORIGIN


def _expired(console, vm, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(console.tokens, "clock", lambda: time.time() - console.tokens.lifetime - 1)
        token = issue(console, vm)
    return proxy_url(console, token), ORIGIN


def _other_host(console, vm, monkeypatch):
    return proxy_url(console, issue(console, vm, host="elsewhere")), \
        ORIGIN


def _no_token(console, vm, monkeypatch):
    return f"ws://127.0.0.1:{console.proxy_thread.bound_port}/", ORIGIN


def _empty_token(console, vm, monkeypatch):
    return proxy_url(console, ""), ORIGIN


def _malformed_token(console, vm, monkeypatch):
    return proxy_url(console, "not-a-console-token"), ORIGIN


def _foreign_origin(console, vm, monkeypatch):
    return proxy_url(console, issue(console, vm)), "http://evil.example"


def _no_origin(console, vm, monkeypatch):
    return proxy_url(console, issue(console, vm)), None


def _user_gone(console, vm, monkeypatch):
    """Signed for a user who is not (or no longer) in the users file."""
    return proxy_url(console, issue(console, vm, user="removed-meanwhile")), ORIGIN


def _user_no_longer_sees_it(console, vm, monkeypatch):
    """Signed for the tenant, whose filters (web-*) do not show the ring's vdtest-* VMs."""
    return proxy_url(console, issue(console, vm, user="tenant")), ORIGIN


def _user_no_longer_operates(console, vm, monkeypatch):
    return proxy_url(console, issue(console, vm, user="viewer")), ORIGIN


REFUSALS = [
    pytest.param(_forged_signature, "console token has a wrong signature", id="forged-signature"),
    pytest.param(_tampered_payload, "console token has a wrong signature", id="tampered-claims"),
    pytest.param(_other_secret, "console token has a wrong signature", id="other-secret"),
    pytest.param(_expired, "console token expired", id="expired"),
    pytest.param(_other_host, "console token is for another host", id="other-host"),
    pytest.param(_no_token, "no console token", id="no-token"),
    pytest.param(_empty_token, "no console token", id="empty-token"),
    pytest.param(_malformed_token, "malformed console token", id="malformed-token"),
    pytest.param(_foreign_origin, "origin http://evil.example may not open consoles",
                 id="foreign-origin"),
    pytest.param(_no_origin, "origin (none) may not open consoles", id="no-origin"),
    pytest.param(_user_gone, "the console token's user no longer exists", id="user-gone"),
    pytest.param(_user_no_longer_sees_it, "the console token's user no longer sees this VM",
                 id="vm-hidden-now"),
    pytest.param(_user_no_longer_operates, "the console token's user may no longer open",
                 id="role-lowered"),
]


@pytest.mark.parametrize(("make_request", "reason"), REFUSALS)
def test_the_proxy_refuses_with_1008_and_says_why(console, make_vm, monkeypatch, make_request,
                                                   reason):
    """Each refusal closes before any RFB byte, and the proxy keeps serving good tokens."""
    vm = make_vm(start=True)
    url, origin = make_request(console, vm, monkeypatch)
    code, said = asyncio.run(refusal(url, origin))
    assert code == POLICY_VIOLATION
    assert said.startswith(reason), said
    # The same VM, a good token: the refusal was about the token or origin alone.
    assert asyncio.run(banner_and_handshake(lambda: proxy_url(console, issue(console, vm)))) \
        == desktop_name(vm)


@pytest.mark.parametrize("token", ["%C3%A9t%C3%A9.abc", "abc.%C3%A9t%C3%A9"],
                         ids=["non-ascii-payload", "non-ascii-signature"])
def test_a_token_with_non_ascii_characters_is_refused_as_malformed(console, token):
    assert asyncio.run(refusal(proxy_url(console, token))) == (POLICY_VIOLATION,
                                                                "malformed console token")


def test_a_token_opens_one_connection_only(testapp, make_vm):
    """A second connection with the same token is refused, while the first one still works,
    and after it closed."""
    vm = make_vm(start=True)
    url = console_url(testapp, vm.uuid)

    async def scenario():
        first, stream = await open_display(lambda: url)
        try:
            assert await refusal(url) == (
                POLICY_VIOLATION, "console token was used already: open the console again")
            assert await rfb_handshake(stream) == desktop_name(vm)
        finally:
            await first.close()
        assert (await refusal(url))[0] == POLICY_VIOLATION

    asyncio.run(scenario())


def test_a_connection_refused_for_its_origin_does_not_use_the_token_up(console, make_vm):
    vm = make_vm(start=True)
    url = proxy_url(console, issue(console, vm))
    assert asyncio.run(refusal(url, "http://evil.example"))[0] == POLICY_VIOLATION
    assert asyncio.run(banner_and_handshake(lambda: url)) == desktop_name(vm)


def test_allowed_origins_may_open_consoles_for_tokens_issued_elsewhere(make_vm):
    """`virtdancer.console.allowed_origins`: a portal's pages may use the app's tokens."""
    vm = make_vm(start=True)
    app = make_app(**{"virtdancer.libvirt_uri": URI,
                      "virtdancer.reconnect_max_delay": str(RECONNECT_MAX_DELAY),
                      "virtdancer.console.listen": "127.0.0.1:0",
                      "virtdancer.console.allowed_origins": "https://portal.example"})
    try:
        console = app.registry.getUtility(IConsole)
        name = asyncio.run(banner_and_handshake(
            lambda: proxy_url(console, issue(console, vm)), origin="https://portal.example"))
        assert name == desktop_name(vm)
        refused = asyncio.run(refusal(proxy_url(console, issue(console, vm)),
                                      "https://other.example"))
        assert refused == (POLICY_VIOLATION, "origin https://other.example may not open consoles")
    finally:
        close_app(app)


# -- one VM going away -------------------------------------------------------------------------

def test_destroying_a_vm_ends_its_console_and_no_other(testapp, console, make_vm):
    doomed, survivor = make_vm(start=True), make_vm(start=True)
    proxy = console.proxy_thread.proxy

    async def sessions_become(count):
        async with asyncio.timeout(STEP_TIMEOUT):
            while proxy.sessions != count:
                await asyncio.sleep(0.05)

    async def scenario():
        doomed_ws, _ = await open_display(lambda: console_url(testapp, doomed.uuid))
        survivor_ws, survivor_stream = await open_display(
            lambda: console_url(testapp, survivor.uuid))
        try:
            await sessions_become(2)
            await asyncio.to_thread(virsh, "destroy", doomed.name)
            assert await read_until_closed(doomed_ws) == (1000, "the display closed")
            await sessions_become(1)
            # The other console carries bytes both ways, after the destroy.
            assert await rfb_handshake(survivor_stream) == desktop_name(survivor)
            # And a new console can still be opened.
            assert await banner_and_handshake(
                lambda: console_url(testapp, survivor.uuid)) == desktop_name(survivor)
        finally:
            await survivor_ws.close()
            await doomed_ws.close()
        await sessions_become(0)

    asyncio.run(scenario())
    assert doomed.state() == "shut off"
    response = post_console(testapp, doomed.uuid)
    assert response.status_int == 409 and "not running" in response.json["message"]


# -- `virtdancer console-proxy`: the proxy as a process of its own ------------------------------

def virtdancer_command():
    """The installed `virtdancer` script beside this Python, else the module."""
    script = Path(sys.executable).parent / "virtdancer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "virtdancer.cli"]


def test_the_console_proxy_command_serves_consoles_on_its_own(make_vm, tmp_path):
    vm = make_vm(start=True)
    port = free_port()
    settings = {
        "virtdancer.libvirt_uri": URI,
        "virtdancer.reconnect_max_delay": str(RECONNECT_MAX_DELAY),
        "virtdancer.users_file": DEMO_USERS,
        "virtdancer.secret": SECRET,
        "virtdancer.session.secure": "false",
        "virtdancer.console.listen": f"127.0.0.1:{port}",
        "virtdancer.console.proxy": "separate",
    }
    ini = tmp_path / "console-proxy.ini"
    ini.write_text("[app:main]\nuse = egg:virtdancer\n"
                   + "".join(f"{key} = {value}\n" for key, value in settings.items()))
    log_file = tmp_path / "console-proxy.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen([*virtdancer_command(), "console-proxy", str(ini)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    app = None
    try:
        wait_for_listener(process, port, log_file, timeout=LIBVIRTD_PATIENCE)
        app = make_app(**settings)
        console = app.registry.getUtility(IConsole)
        assert console.proxy_thread is None, "the app started a proxy of its own"
        admin = client_for(app, "admin")
        ticket = post_console(admin, vm.uuid)
        assert ticket.status_int == 200, ticket.text
        assert ticket.json["url"] == f"ws://localhost:{port}/?token={ticket.json['token']}"
        unused, used = [ticket.json["url"]], []

        def next_url():   # the ticket's URL; a new one only if libvirtd restarts meanwhile
            used.append(unused.pop() if unused else console_url(admin, vm.uuid))
            return used[-1]

        async def scenario():
            websocket, stream = await open_display(next_url)
            try:
                assert await rfb_handshake(stream) == desktop_name(vm)
            finally:
                await websocket.close()
            # Single use holds in the separate process as well.
            assert (await refusal(used[-1]))[0] == POLICY_VIOLATION

        asyncio.run(scenario())
        assert process.poll() is None, log_file.read_text()
    finally:
        if app is not None:
            close_app(app)
        stop(process)
