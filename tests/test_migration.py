"""`POST /vm/<uuid>/migrate` on libvirt's test driver: validation, permissions, refusals.

The test driver cannot migrate (no peer-to-peer migration), so what is proved here is what
VirtDancer decides before libvirt is asked, and that the driver's refusal ends the task failed
in words; tests/real/test_migration.py moves VMs between two real hosts.
"""

import time

import libvirt
import pytest

from virtdancer.hypervisor.connection import HostConnection
from virtdancer.hypervisor.errors import HostUnavailable, Refused, Unsupported
from virtdancer.hypervisor.migration import DestinationUnavailable, Migration, MigrationAborted

from .conftest import BUILD_1, DB_1, DEMO_URI, LAB_URI, WEB_1, close_app, make_app
from .test_errors import UNREACHABLE_URI, assert_error_body
from .test_hosts import client

TASK_PATIENCE = 10   # seconds for a task on the test driver to end
# A remote host nobody answers at (a loopback port where nothing listens): a local URI would
# be refused before VirtDancer tries to reach it.
AWAY_URI = "qemu+tcp://127.0.0.1:7799/system"


@pytest.fixture
def two_hosts():
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"})
    yield app
    close_app(app)


def migrate(app, uuid, body, status, user="admin", on="/hosts/demo"):
    return client(app, user).post_json(f"{on}/vm/{uuid}/migrate", body, status=status)


def ended(app, location):
    """The task at `location` once it has ended."""
    admin = client(app)
    deadline = time.monotonic() + TASK_PATIENCE
    while True:
        task = admin.get(location).json
        if task["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_the_test_drivers_refusal_ends_the_task_failed_in_words(two_hosts):
    response = migrate(two_hosts, WEB_1, {"host": "lab"}, 202)
    accepted = response.json
    assert accepted["type"] == "migrate" and accepted["host"] == "demo"
    assert accepted["vm"] == {"uuid": WEB_1, "name": "web-1"}
    assert response.headers["Location"].endswith(f"/tasks/{accepted['id']}")

    task = ended(two_hosts, response.headers["Location"])

    assert task["state"] == "failed"
    assert "demo's libvirt driver cannot migrate VMs" in task["error"]
    assert task["result"] is None
    # Nothing moved: the VM is where it was, running, and not on the other host.
    assert client(two_hosts).get(f"/hosts/demo/vm/{WEB_1}").json["state_name"] == "running"
    client(two_hosts).get(f"/hosts/lab/vm/{WEB_1}", status=404)


def test_the_default_hosts_url_migrates_too(two_hosts):
    response = client(two_hosts).post_json(f"/vm/{WEB_1}/migrate", {"host": "lab"}, status=202)
    assert response.json["host"] == "demo"
    assert ended(two_hosts, response.headers["Location"])["state"] == "failed"


@pytest.mark.parametrize("host, says", [
    ("nowhere", "no host named 'nowhere'; the VM can move to: lab"),
    ("demo", "web-1 is on demo already"),
])
def test_a_host_that_is_not_another_host_is_a_400(two_hosts, host, says):
    response = migrate(two_hosts, WEB_1, {"host": host}, 400)
    assert_error_body(response, 400)
    assert response.json["message"] == says
    assert response.json["errors"][0]["name"] == "host"
    assert client(two_hosts).get("/tasks").json == []


@pytest.mark.parametrize("body, field", [
    ({}, "host"),
    ({"host": "Lab!"}, "host"),
    ({"host": 7}, "host"),
    ({"host": "lab", "live": "yes"}, "live"),
    ({"host": "lab", "offline": 1}, "offline"),
])
def test_a_malformed_body_is_a_400(two_hosts, body, field):
    response = migrate(two_hosts, WEB_1, body, 400)
    assert response.json["errors"][0]["name"] == field
    assert client(two_hosts).get("/tasks").json == []


@pytest.mark.parametrize("uuid, body, says", [
    (DB_1, {"host": "lab"}, "db-1 is shut off: only its definition can move, with offline"),
    (BUILD_1, {"host": "lab", "offline": True}, "build-1 is running: offline migration moves "
                                                "only a shut-off VM's definition"),
])
def test_the_wrong_state_is_a_409_before_any_task(two_hosts, uuid, body, says):
    response = migrate(two_hosts, uuid, body, 409)
    assert says in response.json["message"]
    assert client(two_hosts).get("/tasks").json == []


def test_an_offline_migration_is_a_task_the_driver_refuses(two_hosts):
    response = migrate(two_hosts, DB_1, {"host": "lab", "offline": True}, 202)
    task = ended(two_hosts, response.headers["Location"])
    assert task["state"] == "failed" and "cannot migrate" in task["error"]
    assert client(two_hosts).get(f"/hosts/demo/vm/{DB_1}").json["state_name"] == "shut off"


def test_only_admins_migrate(two_hosts):
    for user in ("viewer", "tenant"):
        response = migrate(two_hosts, WEB_1, {"host": "lab"}, 403, user=user)
        assert_error_body(response, 403)
    # A VM the tenant does not see is no VM at all for them.
    migrate(two_hosts, DB_1, {"host": "lab"}, 404, user="tenant")
    assert client(two_hosts).get("/tasks").json == []


def test_a_destination_that_is_away_is_a_503():
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\naway = {AWAY_URI}"})
    try:
        response = migrate(app, WEB_1, {"host": "away"}, 503)
        assert "the destination host away is unreachable" in response.json["message"]
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        close_app(app)


def test_a_destination_known_by_a_local_uri_is_a_409():
    # The source's libvirtd would connect to its own qemu:///system (here: a local socket).
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nhere = {UNREACHABLE_URI}"})
    try:
        response = migrate(app, WEB_1, {"host": "here"}, 409)
        assert "the destination host here is known by a local URI" in response.json["message"]
        assert client(app).get("/tasks").json == []
    finally:
        close_app(app)


# -- libvirt's errors of a migration under way, in VirtDancer's words ---------------------------

class AliveConnection:
    """A source connection that still answers: what failed was the migration, not the source."""

    def __init__(self, alive=True):
        self.alive = alive

    def isAlive(self):
        return int(self.alive)


def libvirt_error(code, message="libvirt's reason"):
    error = libvirt.libvirtError(message)
    error.err = (code, libvirt.VIR_FROM_QEMU, message, libvirt.VIR_ERR_ERROR,
                 None, None, None, 0, 0)
    return error


@pytest.mark.parametrize("code, kind, says", [
    (libvirt.VIR_ERR_SYSTEM_ERROR, DestinationUnavailable,
     "source cannot reach the destination host lab"),
    (libvirt.VIR_ERR_RPC, DestinationUnavailable, "source cannot reach the destination"),
    (libvirt.VIR_ERR_OPERATION_ABORTED, MigrationAborted, "the migration was cancelled"),
    (libvirt.VIR_ERR_CPU_INCOMPATIBLE, Refused, "the CPU of lab cannot run this VM"),
    (libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, Unsupported, "source's libvirt driver cannot migrate"),
    (libvirt.VIR_ERR_OPERATION_INVALID, Refused, "libvirt's reason"),
])
def test_libvirts_errors_of_a_migration_are_mapped(code, kind, says):
    migration = Migration(HostConnection("test:///default", name="source"))
    error = migration._translate(AliveConnection(), libvirt_error(code), "lab")
    assert type(error) is kind
    assert says in error.message


def test_an_rpc_error_of_a_dead_source_is_the_sources_own():
    source = HostConnection("test:///default", name="source")
    error = Migration(source)._translate(AliveConnection(alive=False),
                                         libvirt_error(libvirt.VIR_ERR_RPC), "lab")
    assert type(error) is HostUnavailable
    assert "the hypervisor is unreachable" in error.message
