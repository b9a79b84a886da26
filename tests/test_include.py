"""VirtDancer as an add-on: `config.include` under a prefix leaves the host app as it was."""

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.interfaces import ISecurityPolicy, ISessionFactory
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory

from .conftest import DEMO_URI, DEMO_USERS, SECRET, WEB_1, HostRoot, close_app, host_home


@pytest.fixture
def portal():
    with Configurator(settings={"virtdancer.libvirt_uri": DEMO_URI},
                      root_factory=HostRoot) as config:
        config.add_route("home", "/")
        config.add_view(host_home, route_name="home")
        config.include("virtdancer", route_prefix="/virt")
    app = config.make_wsgi_app()
    yield webtest.TestApp(app)
    close_app(app)


def test_api_answers_under_the_prefix(portal):
    names = [vm["name"] for vm in portal.get("/virt/vm").json]
    assert names == ["build-1", "db-1", "web-1", "web-2"]
    assert portal.get(f"/virt/vm/{WEB_1}").json["name"] == "web-1"
    assert portal.post_json(f"/virt/vm/{WEB_1}/action", {"action": "pause"}).json["result"] \
        == "done"


def test_errors_under_the_prefix_are_virtdancers_json(portal):
    response = portal.get("/virt/vm/00000000-0000-0000-0000-000000000000", status=404)
    assert response.json["status"] == "error"


def test_host_keeps_its_root_and_its_own_404(portal):
    assert portal.get("/").text == "portal home, root is HostRoot"
    # Pyramid's own 404 page, not VirtDancer's JSON: the host's errors are its own.
    for path in ("/no/such/page", "/vm"):
        response = portal.get(path, status=404)
        assert response.content_type != "application/json"
        assert "The resource could not be found" in response.text


def test_a_host_can_opt_into_virtdancers_own_security():
    settings = {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": DEMO_USERS,
                "virtdancer.secret": SECRET, "virtdancer.session.secure": "false"}
    with Configurator(settings=settings, root_factory=HostRoot) as config:
        config.add_route("home", "/")
        config.add_view(host_home, route_name="home")
        config.include("virtdancer", route_prefix="/virt")
        # Under VirtDancer's prefix: the page asks for login and session beside itself.
        config.include("virtdancer.security", route_prefix="/virt")
    app = config.make_wsgi_app()
    try:
        client = webtest.TestApp(app)
        assert client.get("/virt/vm", status=401).headers["WWW-Authenticate"]
        assert client.get("/virt/session").json["user"] is None
        client.get("/session", status=404)
        client.authorization = ("Basic", ("tenant", "tenant"))
        assert [vm["name"] for vm in client.get("/virt/vm").json] == ["web-1", "web-2"]
        assert client.get("/").text == "portal home, root is HostRoot"
    finally:
        close_app(app)


def test_a_host_that_sets_its_own_session_factory_keeps_it():
    """VirtDancer's policy reads sessions without making them only from its own factory: with
    the host's, it asks the host's sessions."""
    settings = {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.users_file": DEMO_USERS,
                "virtdancer.secret": SECRET, "virtdancer.session.secure": "false"}
    host_sessions = SignedCookieSessionFactory("the host's own secret, long enough " * 2,
                                               cookie_name="host_session")
    with Configurator(settings=settings, root_factory=HostRoot) as config:
        config.include("virtdancer", route_prefix="/virt")
        config.include("virtdancer.security", route_prefix="/virt")
        config.set_session_factory(host_sessions)
    app = config.make_wsgi_app()
    try:
        assert app.registry.getUtility(ISessionFactory) is host_sessions
        assert app.registry.getUtility(ISecurityPolicy).sessions is None
        client = webtest.TestApp(app)
        client.post_json("/virt/login", {"username": "tenant", "password": "tenant"})
        assert set(client.cookies) == {"host_session"}
        assert [vm["name"] for vm in client.get("/virt/vm").json] == ["web-1", "web-2"]
    finally:
        close_app(app)


def test_answers_come_from_the_host_response_factory():
    class HostResponse(Response):
        """The host's responses, marked."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.headers["X-Host-Response"] = "yes"

    with Configurator(settings={"virtdancer.libvirt_uri": DEMO_URI},
                      root_factory=HostRoot) as config:
        config.set_response_factory(lambda request: HostResponse())
        config.include("virtdancer", route_prefix="/virt")
    app = config.make_wsgi_app()
    try:
        client = webtest.TestApp(app)
        for path in ("/virt/vm", f"/virt/vm/{WEB_1}", "/virt/fleet"):
            response = client.get(path)
            assert response.headers["X-Host-Response"] == "yes", path
            assert response.headers["ETag"] and response.json
    finally:
        close_app(app)


def test_without_opting_in_the_host_policy_decides(portal):
    # The portal has no security policy: VirtDancer adds none, so nothing asks for a login.
    assert portal.get("/virt/vm").status_int == 200
