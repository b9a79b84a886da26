"""Every permissioned view × every role × every host × a visible and a hidden VM.

The cells are generated from the app's own registered views, so an endpoint added later is in
the matrix without anyone remembering to add it. A refused request must change nothing.
"""

import pytest
import webtest
from pyramid.security import NO_PERMISSION_REQUIRED

from virtdancer.interfaces import IHostRegistry

from .conftest import BUILD_1, DEMO_URI, LAB_URI, WEB_1, close_app, make_app

# The lab host's VMs (virtdancer/demo/lab.xml): the tenant (web-*) sees one of them.
WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"
CI_RUNNER_1 = "1b7d4e2a-9c35-4f60-8a1d-3e5f7b9c0d55"
# Each host, with a VM the tenant sees and one it does not.
HOSTS = {"default": (WEB_1, BUILD_1), "lab": (WEB_STAGING, CI_RUNNER_1)}

# What each demo user may do, as the issue states it (not as the code grants it).
USERS = {
    "viewer": {"password": "viewer", "permissions": {"vm:read", "token:own"},
               "sees": {WEB_1, BUILD_1, WEB_STAGING, CI_RUNNER_1}},
    "tenant": {"password": "tenant", "permissions": {"vm:read", "vm:operate", "token:own"},
               "sees": {WEB_1, WEB_STAGING}},
    "admin": {"password": "admin",
              "permissions": {"vm:read", "vm:operate", "vm:admin", "token:own"},
              "sees": {WEB_1, BUILD_1, WEB_STAGING, CI_RUNNER_1}},
}

# A valid body for each route that takes one; a new write route needs an entry here.
BODIES = {"virtdancer.vm.action": {"action": "pause"}, "virtdancer.tokens": {"name": "matrix"},
          "virtdancer.pools": {"name": "matrix", "path": "/srv/matrix"},
          "virtdancer.pool.action": {"action": "refresh"},
          "virtdancer.volumes": {"name": "matrix.raw", "format": "raw", "capacity_mib": 1},
          "virtdancer.volume": {"capacity_mib": 1},
          "virtdancer.volume.clone": {"name": "matrix-copy.raw"},
          "virtdancer.vms": {"name": "matrix-new", "vcpus": 1, "memory": 64},
          "virtdancer.networks": {"name": "matrix", "subnet": "10.232.200.0/24"},
          "virtdancer.network.action": {"action": "autostart"},
          "virtdancer.vm": {"description": "matrix"},       # PATCH (DELETE reads no body)
          "virtdancer.vm.clone": {"name": "matrix-clone"},
          "virtdancer.vm.migrate": {"host": "lab"},      # from the lab host: "default" (body)
          "virtdancer.vm.cdrom": {"pool": "default", "volume": "debian-12-netinst.iso"},
          "virtdancer.vm.disks": {"pool": "default", "size_gib": 0.001, "format": "raw"},
          "virtdancer.vm.nics": {"network": "default"},
          "virtdancer.vm.snapshots": {"name": "matrix", "memory": True},
          "virtdancer.vm.snapshot.revert": {"start": True}}
# Query strings a request needs to be allowed: a running VM is deleted only when forced.
QUERIES = {("virtdancer.vm", "DELETE"): "?force=1"}
# What an allowed request answers where it is not 200: a token made is a 201, and the matrix's
# token id (TOKEN_ID) is nobody's.
ALLOWED = {("virtdancer.tokens", "POST"): 201, ("virtdancer.token", "GET"): 404,
           ("virtdancer.token", "DELETE"): 404, ("virtdancer.vms", "POST"): 201,
           ("virtdancer.networks", "POST"): 201,
           # The matrix's VMs all run: a clone is refused. A replaced XML needs If-Match first.
           ("virtdancer.vm.clone", "POST"): 409, ("virtdancer.vm.xml", "PUT"): 428,
           # A migration is a task (202), which the test driver's refusal fails later.
           ("virtdancer.vm.migrate", "POST"): 202,
           # A snapshot is taken as a task.
           ("virtdancer.vm.snapshots", "POST"): 202}
TOKEN_ID = "0123456789ab"
TASK_ID = "0123456789abcdef"
# The matrix's snapshot (SNAPSHOT) is no VM's.
SNAPSHOT = "matrix-snapshot"
SNAPSHOT_ROUTES = {"virtdancer.vm.snapshot", "virtdancer.vm.snapshot.revert"}
# The whole host's figures tell of every VM's load: only for users who see every VM of the
# host, which the tenant does not on either host (403, whatever its role allows).
WHOLE_HOST_ROUTES = {"virtdancer.stats.cpu", "virtdancer.stats.mem", "virtdancer.stats.nic"}

# What an allowed request answers where the demo fleet's host cannot give 200: the test
# driver's host is not this machine, so it has no network interfaces to count, and its VMs have
# no graphical display to open a console on.
# The test driver cannot attach a device either (501), and the matrix's drive (TARGET) and NIC
# (MAC) are no VM's (404).
ALLOWED_ON_THE_TEST_DRIVER = {"virtdancer.stats.nic": 501, "virtdancer.stats.nic.one": 404,
                              "virtdancer.vm.console": 409, "virtdancer.vm.cdrom": 404,
                              "virtdancer.vm.disks": 501, "virtdancer.vm.disk": 404,
                              "virtdancer.vm.nics": 501, "virtdancer.vm.nic": 404}
TARGET, MAC = "vdz", "52:54:00:00:00:99"
# Storage: the matrix's pool (POOL) is on no host, so what an allowed request on it answers is a
# 404 from libvirt; listing and defining pools work.
POOL, VOLUME = "matrix-pool", "matrix.raw"
ALLOWED_ON_STORAGE = {("virtdancer.pools", "POST"): 201}
STORAGE_ROUTES = {"virtdancer.pool", "virtdancer.pool.action", "virtdancer.volumes",
                  "virtdancer.volume", "virtdancer.volume.content", "virtdancer.volume.clone"}
# The console needs a proxy to point at; none has to run for the test driver's 409.
SETTINGS = {"virtdancer.console.public_url": "ws://127.0.0.1:9/",
            "virtdancer.hosts": f"default = {DEMO_URI}\nlab = {LAB_URI}"}


def body(route, path):
    """The body of a request that would be allowed: a VM migrates to the host it is not on."""
    if on_any_host(route) == "virtdancer.vm.migrate":
        return {"host": "default" if path.startswith("/hosts/lab/") else "lab"}
    return BODIES.get(on_any_host(route), {})


def on_any_host(route):
    """The route's name at the first VirtDancer's URL: virtdancer.host.vm → virtdancer.vm."""
    return route.replace("virtdancer.host.", "virtdancer.", 1)


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


VM_NAMES = {WEB_1: "web-1", BUILD_1: "build-1", WEB_STAGING: "web-staging",
            CI_RUNNER_1: "ci-runner-1", None: ""}


def cells():
    for route, pattern, method, permission in permissioned_views():
        hosts = list(HOSTS) if "{host}" in pattern else ["default"]
        for host in hosts:
            vms = list(HOSTS[host]) if "{uuid}" in pattern else [None]
            for vm in vms:
                for user in [None, *USERS]:
                    path = pattern.replace("{host}", host)
                    yield pytest.param(route, path, method, permission, user, vm,
                                       id=f"{method} {path} {user or 'anonymous'} "
                                          f"{VM_NAMES[vm]}")


def expected_status(route, method, permission, user, vm):
    if user is None:
        return 401
    if vm is not None and vm not in USERS[user]["sees"]:
        return 404   # hidden beats forbidden: the user must not learn the VM exists
    if route == "virtdancer.task" or on_any_host(route) in SNAPSHOT_ROUTES:
        return 404   # the matrix's task and snapshot are nobody's: not found, whoever asks
    if permission not in USERS[user]["permissions"]:
        return 403
    if (on_any_host(route), method) == ("virtdancer.vm.snapshots", "POST") \
            and vm in HOSTS["lab"]:
        return 409   # the lab's VMs have no disk to keep a snapshot in
    if on_any_host(route) in WHOLE_HOST_ROUTES and user == "tenant":
        return 403
    if (on_any_host(route), method) in ALLOWED_ON_STORAGE:
        return ALLOWED_ON_STORAGE[on_any_host(route), method]
    if on_any_host(route) in STORAGE_ROUTES:
        return 404
    return ALLOWED.get((on_any_host(route), method),
                       ALLOWED_ON_THE_TEST_DRIVER.get(on_any_host(route), 200))


def test_the_matrix_covers_the_api():
    routes = {route for route, *_ in permissioned_views()}
    assert {"virtdancer.vms", "virtdancer.vm", "virtdancer.vm.action", "virtdancer.hosts",
            "virtdancer.host", "virtdancer.fleet", "virtdancer.host.vm.action",
            "virtdancer.events"} <= routes


@pytest.fixture
def fresh_app():
    app = make_app(**SETTINGS)
    yield app
    close_app(app)


def fleet_state(app):
    return [(name, vm.uuid, vm.state, vm.active)
            for name, hypervisor in app.registry.getUtility(IHostRegistry).items()
            for vm in hypervisor.fleet.details()]


@pytest.mark.parametrize("route, pattern, method, permission, user, vm", list(cells()))
def test_cell(fresh_app, route, pattern, method, permission, user, vm):
    client = webtest.TestApp(fresh_app)
    if user is not None:
        client.authorization = ("Basic", (user, USERS[user]["password"]))
    path = pattern.replace("{uuid}", vm or "").replace("{name}", "lo").replace("{id}", TOKEN_ID)
    path = path.replace("{task}", TASK_ID).replace("{snapshot}", SNAPSHOT)
    path = path.replace("{pool}", POOL).replace("{volume}", VOLUME)
    path = path.replace("{network}", "isolated")   # the demo hosts' network no VM uses
    path = path.replace("{target}", TARGET).replace("{mac}", MAC)
    path += QUERIES.get((on_any_host(route), method), "")
    before = fleet_state(fresh_app)

    if method == "GET":
        response = client.get(path, expect_errors=True)
    else:
        response = client.request(path, method=method, json=body(route, path),
                                  expect_errors=True)

    expected = expected_status(route, method, permission, user, vm)
    assert response.status_int == expected, response.text
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    if expected not in (200, 201, 202):
        assert response.content_type == "application/json"
        assert response.json["status"] == "error"
        assert fleet_state(fresh_app) == before
