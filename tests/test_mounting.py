"""VirtDancer mounted in a portal, each way README's "Mounting VirtDancer in your portal" shows.

Each style is loaded as a user would load it:

- `include`: a host Configurator with `config.include("virtdancer", route_prefix="/virt")`,
  under the host's own root factory, exception view and 404 page (and no security policy);
- `include+security`: the same host, opting into VirtDancer's users, Basic auth and login under
  the same prefix;
- `composite`: `pyramid.paster.get_app("examples/portal.ini")`, a Paste URL map (rutter) with the
  portal's own application at / and VirtDancer, behind its access log, at /virt;
- `pipeline`: `get_app` on production.ini as shipped, but for the settings an operator fills in
  (host, users, secret): the access log, then VirtDancer, at the root;
- `url_prefix`: `get_app("examples/behind-proxy.ini")` served by waitress on 127.0.0.1 with the
  INI's own [server:main] settings (url_prefix = /virt, a trusted proxy), asked over HTTP as the
  reverse proxy would ask, with X-Forwarded-* headers.

Every style is checked for the same things: the API, the page and every file it loads, the
console page and noVNC, the redirect to the page's slash, JSON errors under the prefix, and the
host's own pages and errors, which VirtDancer leaves as they were.
"""

import base64
import json
import logging
import re
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import webtest
from paste.deploy.loadwsgi import SERVER, loadcontext
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationExecutionError
from pyramid.interfaces import ISecurityPolicy
from pyramid.paster import get_app
from pyramid.response import Response

from virtdancer.accesslog import AccessLog
from virtdancer.interfaces import IConsole
from virtdancer.resources import Domain
from virtdancer.views.ui import novnc_path

from .conftest import (
    DEMO_URI,
    DEMO_USERS,
    SECRET,
    WEB_1,
    HostRoot,
    Server,
    close_all,
    close_app,
    host_home,
    virtdancer_routers,
)
from .test_ui import JS_TYPES, crawl

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NO_VM = "00000000-0000-0000-0000-000000000000"
PUBLIC_CONSOLE = "wss://portal.example.com/virt/websockify/"
# What the reverse proxy of examples/behind-proxy.ini says about the browser's request.
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "portal.example.com",
             "X-Forwarded-For": "203.0.113.7"}

STYLES = ("include", "include+security", "composite", "pipeline", "url_prefix")
WITH_LOGIN = [style for style in STYLES if style != "include"]
UNDER_A_PREFIX = [style for style in STYLES if style != "pipeline"]
IN_A_HOST = ["include", "include+security", "composite"]
FROM_INI_FILES = ["composite", "pipeline", "url_prefix"]


# -- the host portal of the `include` styles ------------------------------------------------

def host_boom(request):
    raise ValueError("the portal's own bug")


def host_error_page(exc, request):
    response = Response(f"the portal's own error page: {exc}")
    response.status_int = 500
    return response


def make_host(settings, *, security=False, policy=None):
    with Configurator(settings=settings, root_factory=HostRoot) as config:
        config.add_route("home", "/")
        config.add_view(host_home, route_name="home")
        config.add_route("boom", "/boom")
        config.add_view(host_boom, route_name="boom")
        config.add_exception_view(host_error_page, context=ValueError)
        if policy is not None:
            config.set_security_policy(policy)
        config.include("virtdancer", route_prefix="/virt")
        if security:
            # Under the same prefix as VirtDancer: the page looks for /virt/login and /virt/session.
            config.include("virtdancer.security", route_prefix="/virt")
    return config.make_wsgi_app()


# -- production.ini, as an operator fills it in ---------------------------------------------

def set_setting(text, key, value):
    """The INI text with `key = value` in place of the key's one line, or added to VirtDancer's
    section."""
    text, count = re.subn(rf"^{re.escape(key)} =.*$", f"{key} = {value}", text, flags=re.M)
    assert count <= 1, f"production.ini has {count} lines for {key}"
    if count == 0:
        text, count = re.subn(r"^\[app:virtdancer\]$", f"[app:virtdancer]\n{key} = {value}",
                              text, flags=re.M)
        assert count == 1, "production.ini has no [app:virtdancer] section"
    return text


def production_ini(tmp_path):
    text = (REPO / "production.ini").read_text()
    for key, value in {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": DEMO_USERS,
                       "virtdancer.secret": SECRET,
                       # plain HTTP here, so that WebTest sends the session cookie back
                       "virtdancer.session.secure": "false",
                       # the console proxy inline, as shipped, on a free port
                       "virtdancer.console.listen": "127.0.0.1:0",
                       "virtdancer.state_file": str(tmp_path / "state.sqlite")}.items():
        text = set_setting(text, key, value)
    path = tmp_path / "production.ini"
    path.write_text(text)
    return path


# -- an HTTP client with WebTest's manners, for the app behind waitress ---------------------

class HttpResponse:
    def __init__(self, status, headers, body):
        self.status_int = status
        self.headers = headers
        self.body = body
        self.content_type = headers.get_content_type() if "Content-Type" in headers else None

    @property
    def text(self):
        return self.body.decode("utf-8")

    @property
    def json(self):
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpClient:
    """Asks a server over HTTP as its reverse proxy would: with X-Forwarded-* headers, and the
    browser's cookies (Secure ones too: the browser's side of the proxy is HTTPS)."""

    def __init__(self, origin, headers):
        self.origin = origin
        self.headers = headers
        self.authorization = None
        self.cookies = {}
        self.set_cookies = []
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(self, method, path, body=None, headers=None, status=None):
        headers = {**self.headers, **(headers or {})}
        if self.authorization is not None:
            credentials = ":".join(self.authorization[1]).encode()
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in
                                          self.cookies.items())
        request = urllib.request.Request(self.origin + path, data=body, headers=headers,
                                         method=method)
        try:
            with self.opener.open(request, timeout=10) as answer:
                response = HttpResponse(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            response = HttpResponse(error.code, error.headers, error.read())
        for header in response.headers.get_all("Set-Cookie") or ():
            self.set_cookies.append(header)
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if status is None:
            assert 200 <= response.status_int < 400, f"{method} {path}: {response.status_int}"
        elif status != "*":
            assert response.status_int == status, f"{method} {path}: {response.status_int}"
        return response

    def get(self, path, status=None, headers=None):
        return self.request("GET", path, headers=headers, status=status)

    def post(self, path, status=None, headers=None):
        return self.request("POST", path, body=b"", headers=headers, status=status)

    def post_json(self, path, body, status=None, headers=None):
        return self.request("POST", path, body=json.dumps(body).encode(), status=status,
                            headers={"Content-Type": "application/json", **(headers or {})})


# -- the styles -----------------------------------------------------------------------------

class Mounted:
    """VirtDancer mounted one way: a client, its prefix, and what is around it."""

    def __init__(self, style, app, client, prefix, *, host=None, public=None):
        self.style = style
        self.app = app
        self.client = client
        self.prefix = prefix        # "/virt", or "" at the root
        self.host = host            # "pyramid" for a host Pyramid app; "portal" for portal.ini
        self.public = public        # the URL browsers use for the prefix, behind a proxy
        self.routers = list(virtdancer_routers(app))
        assert len(self.routers) == 1
        self.router = self.routers[0]


def webtest_client(app):
    """WebTest, from 127.0.0.1 as a local browser would be (WebTest leaves REMOTE_ADDR out)."""
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


@pytest.fixture(params=STYLES)
def mounted(request, tmp_path):
    style = request.param
    server = None
    if style in ("include", "include+security"):
        settings = {"virtdancer.libvirt_uri": DEMO_URI}
        if style == "include+security":
            settings.update({"virtdancer.users_file": DEMO_USERS, "virtdancer.secret": SECRET,
                             "virtdancer.session.secure": "false"})
        app = make_host(settings, security=style == "include+security")
        result = Mounted(style, app, webtest_client(app), "/virt", host="pyramid")
    elif style == "composite":
        app = get_app(str(EXAMPLES / "portal.ini"))
        result = Mounted(style, app, webtest_client(app), "/virt", host="portal")
    elif style == "pipeline":
        app = get_app(str(production_ini(tmp_path)))
        result = Mounted(style, app, webtest_client(app), "")
    else:
        ini = EXAMPLES / "behind-proxy.ini"
        app = get_app(str(ini))
        server_settings = dict(loadcontext(SERVER, f"config:{ini}").local_conf)
        # The INI's own settings, but on a free port of 127.0.0.1 rather than its `listen`.
        assert server_settings.pop("listen") == "127.0.0.1:6543"
        server = Server(app, **server_settings)
        result = Mounted(style, app, HttpClient(server.origin, FORWARDED), "/virt",
                         public="https://portal.example.com")
    if style != "include":
        result.client.authorization = ("Basic", ("admin", "admin"))
    yield result
    try:
        if server is not None:
            server.close()
    finally:
        close_all(app)


# -- the API ----------------------------------------------------------------------------------

def test_the_api_answers_under_the_prefix(mounted):
    client, prefix = mounted.client, mounted.prefix
    names = [vm["name"] for vm in client.get(f"{prefix}/vm").json]
    assert names == ["build-1", "db-1", "web-1", "web-2"]
    assert client.get(f"{prefix}/vm/{WEB_1}").json["name"] == "web-1"
    answer = client.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "pause"})
    assert answer.json["result"] == "done" and answer.json["vm"]["state_name"] == "paused"
    assert client.get(f"{prefix}/stats/mem").content_type == "application/json"


# Without a security policy (plain include) nothing asks for a login.
@pytest.mark.parametrize("mounted", WITH_LOGIN, indirect=True)
def test_without_credentials_the_api_asks_for_them(mounted):
    mounted.client.authorization = None
    response = mounted.client.get(f"{mounted.prefix}/vm", status=401)
    assert response.json["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="VirtDancer"')


# Without VirtDancer's security (plain include) there is no login of its own.
@pytest.mark.parametrize("mounted", WITH_LOGIN, indirect=True)
def test_the_login_session_is_beside_the_page(mounted):
    client, prefix = mounted.client, mounted.prefix
    client.authorization = None
    assert client.get(f"{prefix}/session").json["user"] is None
    token = client.post_json(f"{prefix}/login", {"username": "tenant", "password": "tenant"}
                             ).json["csrf_token"]
    if mounted.public:
        # HTTPS on the browser's side of the proxy (X-Forwarded-Proto): the cookie is Secure.
        assert "; secure" in client.set_cookies[-1].lower()
    assert client.get(f"{prefix}/session").json["user"] == "tenant"
    assert [vm["name"] for vm in client.get(f"{prefix}/vm").json] == ["web-1", "web-2"]
    client.post(f"{prefix}/logout", headers={"X-CSRF-Token": token})
    client.get(f"{prefix}/vm", status=401)


def test_the_pages_own_origin_writes_and_another_does_not(mounted):
    """In every style the browser's Origin is the page's (behind the proxy, the public one):
    VirtDancer takes its writes, logging in among them, and refuses another site's."""
    client, prefix = mounted.client, mounted.prefix
    own = {"Origin": mounted.public or "http://localhost", "Sec-Fetch-Site": "same-origin"}
    evil = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    client.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "pause"}, headers=own)
    client.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "resume"}, headers=evil,
                     status=403)
    assert client.get(f"{prefix}/vm/{WEB_1}").json["state_name"] == "paused"
    if mounted.style in WITH_LOGIN:
        client.authorization = None
        client.post_json(f"{prefix}/login", {"username": "tenant", "password": "tenant"},
                         headers=evil, status=403)
        client.post_json(f"{prefix}/login", {"username": "tenant", "password": "tenant"},
                         headers=own)


# -- the page ---------------------------------------------------------------------------------

def test_the_page_and_every_file_it_loads_are_under_the_prefix(mounted):
    client, prefix = mounted.client, mounted.prefix
    page = client.get(f"{prefix}/")
    assert page.content_type == "text/html" and "data-summary" in page.text
    served = crawl(client, f"{prefix}/")
    modules = {url for url, response in served.items() if response.content_type in JS_TYPES}
    assert f"{prefix}/static/main.js" in modules and f"{prefix}/static/api.js" in modules
    for url, response in served.items():
        # Every reference is relative (crawl checks it), so behind the proxy each resolves
        # under https://portal.example.com/virt/ as it does here under /virt/.
        assert url.startswith(f"{prefix}/"), url
        assert response.status_int == 200, url


# At the root (the pipeline), / is the page itself.
@pytest.mark.parametrize("mounted", UNDER_A_PREFIX, indirect=True)
def test_the_prefix_without_its_slash_redirects_to_the_page(mounted):
    response = mounted.client.get(mounted.prefix, status=302)
    base = mounted.public or "http://localhost"
    assert response.headers["Location"] == f"{base}{mounted.prefix}/"
    response = mounted.client.get(f"{mounted.prefix}?from=portal", status=302)
    assert response.headers["Location"] == f"{base}{mounted.prefix}/?from=portal"


def test_the_console_page_and_novnc_are_under_the_prefix(mounted):
    assert novnc_path(mounted.router.registry.settings), \
        "noVNC is not installed (scripts/setup.sh runs npm ci)"
    client, prefix = mounted.client, mounted.prefix
    page = client.get(f"{prefix}/console?vm={WEB_1}")
    assert page.content_type == "text/html" and "data-console-screen" in page.text
    served = crawl(client, f"{prefix}/console")
    assert f"{prefix}/static/console.js" in served
    assert f"{prefix}/novnc/core/rfb.js" in served
    for url, response in served.items():
        assert url.startswith(f"{prefix}/") and response.status_int == 200, url


def test_a_console_ticket_is_asked_for_under_the_prefix(mounted):
    # The demo fleet's test driver has no displays (409); without a console proxy, 501.
    response = mounted.client.post(f"{mounted.prefix}/vm/{WEB_1}/console", status="*")
    assert response.status_int in (409, 501)
    assert response.content_type == "application/json"
    assert response.json["code"] == response.status_int


# -- errors -----------------------------------------------------------------------------------

def test_errors_under_the_prefix_are_virtdancers_json(mounted):
    client, prefix = mounted.client, mounted.prefix
    response = client.get(f"{prefix}/vm/{NO_VM}", status=404)
    assert response.json["message"] == f"no VM with UUID {NO_VM}"
    response = client.get(f"{prefix}/no/such/thing", status=404)
    assert response.content_type == "application/json" and response.json["code"] == 404
    response = client.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "fly"}, status=400)
    assert response.json["status"] == "error"
    response = client.request("DELETE", f"{prefix}/vm", status=405) \
        if isinstance(client, HttpClient) else client.delete(f"{prefix}/vm", status=405)
    assert response.json["code"] == 405 and "GET" in response.headers["Allow"]


# -- the host ---------------------------------------------------------------------------------

# The pipeline and url_prefix styles are VirtDancer alone: no host around it.
@pytest.mark.parametrize("mounted", IN_A_HOST, indirect=True)
def test_the_host_keeps_its_pages_and_errors(mounted):
    client = mounted.client
    assert mounted.host is not None
    if mounted.host == "pyramid":
        assert client.get("/").text == "portal home, root is HostRoot"
        # The host's own exception view, not VirtDancer's JSON 500 (nor Cornice's).
        response = client.get("/boom", status=500)
        assert response.text == "the portal's own error page: the portal's own bug"
        assert "handle_exceptions" not in mounted.app.registry.settings
    else:
        home = client.get("/")
        assert "The portal's own page." in home.text and 'href="virt/"' in home.text
    # Pyramid's own 404 page, not VirtDancer's JSON, for every path outside the prefix.
    for path in ("/no/such/page", "/vm", "/virtual", "/static/main.js"):
        response = client.get(path, status=404)
        assert response.content_type != "application/json", path
        assert "The resource could not be found" in response.text, path


# -- the access log ---------------------------------------------------------------------------

def access_lines(caplog, count, timeout=5):
    """The access log's lines, once there are `count` (behind waitress, a line comes when the
    server has sent the last byte and closed the body, just after the client has its answer)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [record.getMessage() for record in caplog.records
                 if record.name == "virtdancer.access"]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


# The INI-file styles have VirtDancer's access log in their pipelines.
@pytest.mark.parametrize("mounted", FROM_INI_FILES, indirect=True)
def test_the_access_log_has_the_prefix_and_no_secrets(mounted, caplog):
    assert any(isinstance(layer, AccessLog) for layer in wsgi_layers(mounted.app))
    caplog.set_level(logging.INFO, logger="virtdancer.access")
    client, prefix = mounted.client, mounted.prefix
    client.get(f"{prefix}/vm?detail=1&token=do-not-log-me")
    client.get(f"{prefix}/vm/{NO_VM}", status=404)
    lines = access_lines(caplog, 2)
    assert len(lines) == 2, lines
    # Behind waitress a line comes once the client has its answer: the second request's line
    # may come before the first's.
    listed, missing = sorted(lines, key=lambda line: f"/vm/{NO_VM}" in line)
    address = FORWARDED["X-Forwarded-For"] if mounted.public else "127.0.0.1"
    assert re.fullmatch(rf'{re.escape(address)} "GET {prefix}/vm" 200 \d+ [\d.]+ms', listed)
    assert re.fullmatch(rf'{address} "GET {prefix}/vm/{NO_VM}" 404 \d+ [\d.]+ms', missing)
    logged = "\n".join(lines)
    for secret in ("do-not-log-me", "token", "admin", "Basic"):
        assert secret not in logged


def wsgi_layers(app):
    while app is not None:
        yield app
        if hasattr(app, "applications"):
            app = dict((url, mapped) for (_, url), mapped in app.applications).get("/virt")
        else:
            app = getattr(app, "app", None)


# -- the console's public URL -----------------------------------------------------------------

@pytest.fixture
def displays_everywhere(monkeypatch):
    """As if the test driver's VMs had displays: the console answers a ticket."""
    monkeypatch.setattr(Domain, "check_console", lambda self: None)


def test_behind_the_proxy_the_console_url_keeps_the_public_prefix(displays_everywhere):
    ini = EXAMPLES / "behind-proxy.ini"
    app = get_app(str(ini))
    server_settings = dict(loadcontext(SERVER, f"config:{ini}").local_conf)
    server_settings.pop("listen")
    server = Server(app, **server_settings)
    try:
        client = HttpClient(server.origin, FORWARDED)
        client.authorization = ("Basic", ("admin", "admin"))
        ticket = client.post(f"/virt/vm/{WEB_1}/console").json
        assert ticket["url"] == f"{PUBLIC_CONSOLE}?token={ticket['token']}"
        # The token is for the page's public origin, which the browser will send as Origin.
        router, = virtdancer_routers(app)
        console = router.registry.getUtility(IConsole)
        claims = console.tokens.verify(ticket["token"],
                                       hosts=["default"])
        assert claims["o"] == "https://portal.example.com"
        policy = client.get("/virt/").headers["Content-Security-Policy"]
        assert "connect-src 'self' wss://portal.example.com;" in policy
    finally:
        server.close()
        close_all(app)


def test_in_a_host_the_console_url_keeps_the_public_prefix(displays_everywhere):
    app = make_host({"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.secret": SECRET,
                     "virtdancer.console.public_url": PUBLIC_CONSOLE.rstrip("/")})
    try:
        client = webtest.TestApp(app)
        ticket = client.post(f"/virt/vm/{WEB_1}/console").json
        assert ticket["url"] == f"{PUBLIC_CONSOLE}?token={ticket['token']}"
    finally:
        close_app(app)


# -- security in a host -----------------------------------------------------------------------

class PortalUser:
    def __init__(self, name, groups, vm_prefix=None):
        self.name = name
        self.groups = groups
        self.vm_prefix = vm_prefix

    def sees(self, vm_name):
        """VirtDancer hides the VMs for which this says False (optional)."""
        return self.vm_prefix is None or vm_name.startswith(self.vm_prefix)


PORTAL_USERS = {"alice": PortalUser("alice", {"virt-operators"}, vm_prefix="web-"),
                "bob": PortalUser("bob", {"staff"}),
                "carol": PortalUser("carol", {"admins"})}


class PortalSecurityPolicy:
    """A host's own policy, as in API.md: its users' groups become VirtDancer's principals."""

    ROLES = {"admins": "role:admin", "virt-operators": "role:operator", "staff": "role:viewer"}

    def identity(self, request):
        # The portal's own login; a header stands for it here.
        return PORTAL_USERS.get(request.headers.get("X-Portal-User"))

    def authenticated_userid(self, request):
        user = self.identity(request)
        return user.name if user is not None else None

    def permits(self, request, context, permission):
        from pyramid.authorization import ACLHelper, Authenticated, Everyone

        principals = [Everyone]
        user = self.identity(request)
        if user is not None:
            principals += [Authenticated, f"user:{user.name}"]
            principals += [self.ROLES[group] for group in user.groups if group in self.ROLES]
        return ACLHelper().permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


@pytest.fixture
def policy_host():
    policy = PortalSecurityPolicy()
    app = make_host({"virtdancer.libvirt_uri": DEMO_URI}, policy=policy)
    yield app, policy
    close_app(app)


def as_user(app, name=None):
    return webtest.TestApp(app, extra_environ={"HTTP_X_PORTAL_USER": name} if name else {})


def test_the_hosts_policy_stays_and_decides(policy_host):
    app, policy = policy_host
    assert app.registry.getUtility(ISecurityPolicy) is policy
    alice = as_user(app, "alice")   # role:operator, sees web-*
    assert [vm["name"] for vm in alice.get("/virt/vm").json] == ["web-1", "web-2"]
    assert alice.post_json(f"/virt/vm/{WEB_1}/action", {"action": "pause"}).json["result"] \
        == "done"
    bob = as_user(app, "bob")       # role:viewer
    assert len(bob.get("/virt/vm").json) == 4
    refused = bob.post_json(f"/virt/vm/{WEB_1}/action", {"action": "resume"}, status=403)
    assert refused.json["message"] == "bob may not do this (needs vm:operate)"
    carol = as_user(app, "carol")   # role:admin
    assert carol.post_json(f"/virt/vm/{WEB_1}/action", {"action": "resume"}).json["result"] \
        == "done"


def test_under_the_hosts_policy_nobody_gets_json_401_without_a_basic_challenge(policy_host):
    app, _ = policy_host
    anonymous = as_user(app)
    response = anonymous.get("/virt/vm", status=401)
    assert response.json["message"] == "authentication required"
    # Basic credentials would not help: the portal's own login does.
    assert "WWW-Authenticate" not in response.headers
    # The page and its files need no permission: they carry no data.
    assert anonymous.get("/virt/").content_type == "text/html"
    assert anonymous.get("/virt/static/main.js").status_int == 200
    assert anonymous.get("/").text == "portal home, root is HostRoot"


@pytest.mark.parametrize("first", ["virtdancer", "virtdancer.security"])
def test_virtdancers_security_must_be_under_virtdancers_prefix(first):
    settings = {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": DEMO_USERS,
                "virtdancer.secret": SECRET}
    config = Configurator(settings=settings)
    # Either order: the check waits until everything is included.
    for package in sorted(["virtdancer", "virtdancer.security"], key=lambda p: p != first):
        if package == "virtdancer":
            config.include(package, route_prefix="/virt")
        else:
            config.include(package)
    try:
        with pytest.raises(ConfigurationExecutionError,
                           match=r"virtdancer.security is included under '/' but virtdancer "
                                 r"under '/virt': include both with the same route_prefix"):
            config.commit()
    finally:
        # Threads start last, so the failed commit started none; close all the same.
        close_app(config)
