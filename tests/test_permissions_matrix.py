"""Every permissioned view × every role × a visible and a hidden VM.

The cells are generated from the app's own registered views, so an endpoint added later is in
the matrix without anyone remembering to add it. A refused request must change nothing.
"""

import pytest
import webtest
from pyramid.security import NO_PERMISSION_REQUIRED

from virtdancer.interfaces import IHypervisor

from .conftest import BUILD_1, WEB_1, close_app, make_app

# What each demo user may do, as the issue states it (not as the code grants it).
USERS = {
    "viewer": {"password": "viewer", "permissions": {"vm:read"}, "sees": {WEB_1, BUILD_1}},
    "tenant": {"password": "tenant", "permissions": {"vm:read", "vm:operate"},
               "sees": {WEB_1}},
    "admin": {"password": "admin", "permissions": {"vm:read", "vm:operate", "vm:admin"},
              "sees": {WEB_1, BUILD_1}},
}

# A valid body for each route that takes one; a new write route needs an entry here.
BODIES = {"virtdancer.vm.action": {"action": "pause"}}

# What an allowed request answers where the demo fleet's host cannot give 200: the test
# driver's host is not this machine, so it has no network interfaces to count, and its VMs have
# no graphical display to open a console on.
ALLOWED_ON_THE_TEST_DRIVER = {"virtdancer.stats.nic": 501, "virtdancer.stats.nic.one": 404,
                              "virtdancer.vm.console": 409}
# The console needs a proxy to point at; none has to run for the test driver's 409.
SETTINGS = {"virtdancer.console.public_url": "ws://127.0.0.1:9/"}


def permissioned_views():
    """(route name, pattern, method, permission) of every view that needs a permission."""
    app = make_app(**SETTINGS)
    try:
        introspector = app.registry.introspector
        patterns = {item["introspectable"]["name"]: item["introspectable"]["pattern"]
                    for item in introspector.get_category("routes")}
        views = set()
        for item in introspector.get_category("views"):
            view = item["introspectable"]
            route = view["route_name"] or ""
            methods = view["request_methods"]
            permissions = [related["value"] for related in item["related"]
                           if related.category_name == "permissions"]
            if not route.startswith("virtdancer.") or not methods:
                continue
            for permission in permissions:
                if permission == NO_PERMISSION_REQUIRED:
                    continue
                for method in ([methods] if isinstance(methods, str) else methods):
                    if method != "HEAD":
                        views.add((route, patterns[route], method, str(permission)))
        return sorted(views)
    finally:
        close_app(app)


def cells():
    for route, pattern, method, permission in permissioned_views():
        vms = [WEB_1, BUILD_1] if "{uuid}" in pattern else [None]
        for vm in vms:
            for user in [None, *USERS]:
                yield pytest.param(route, pattern, method, permission, user, vm,
                                   id=f"{method} {pattern} {user or 'anonymous'} "
                                      f"{'web-1' if vm == WEB_1 else 'build-1' if vm else ''}")


def expected_status(route, permission, user, vm):
    if user is None:
        return 401
    if vm is not None and vm not in USERS[user]["sees"]:
        return 404   # hidden beats forbidden: the user must not learn the VM exists
    if permission not in USERS[user]["permissions"]:
        return 403
    return ALLOWED_ON_THE_TEST_DRIVER.get(route, 200)


def test_the_matrix_covers_the_api():
    routes = {route for route, *_ in permissioned_views()}
    assert {"virtdancer.vms", "virtdancer.vm", "virtdancer.vm.action"} <= routes


@pytest.fixture
def fresh_app():
    app = make_app(**SETTINGS)
    yield app
    close_app(app)


def fleet_state(app):
    fleet = app.registry.getUtility(IHypervisor).fleet
    return [(vm["uuid"], vm["info"]["state"], vm["active"]) for vm in fleet.details()]


@pytest.mark.parametrize("route, pattern, method, permission, user, vm", list(cells()))
def test_cell(fresh_app, route, pattern, method, permission, user, vm):
    client = webtest.TestApp(fresh_app)
    if user is not None:
        client.authorization = ("Basic", (user, USERS[user]["password"]))
    path = pattern.replace("{uuid}", vm or "").replace("{name}", "lo")
    before = fleet_state(fresh_app)

    if method == "GET":
        response = client.get(path, expect_errors=True)
    else:
        response = client.request(path, method=method, json=BODIES.get(route, {}),
                                  expect_errors=True)

    expected = expected_status(route, permission, user, vm)
    assert response.status_int == expected, response.text
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    if expected != 200:
        assert response.content_type == "application/json"
        assert response.json["status"] == "error"
        assert fleet_state(fresh_app) == before
