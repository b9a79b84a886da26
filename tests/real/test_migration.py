"""Live and offline migration between two real hosts (issue 15), in the hypervisor service.

The pair of hosts is scripts/start-migration-hosts.sh's: two system libvirtds in mount and
network namespaces of their own, with distinct host UUIDs, at MIGRATION_A and MIGRATION_B on a
bridge of this machine, so that libvirt's peer-to-peer RPC and QEMU's migration stream travel
between two addresses as between two machines. Only these tests use them: the main and second
daemons are restarted and killed by other tests.

What is proved: a running VM moves live to the other host and back (virsh domstate on both
sides, the UUID kept, the definition moved, progress reported); a shut-off VM's definition moves
offline; a migration is cancelled half-way and the VM stays running where it was; and libvirt's
refusals arrive as VirtDancer's errors: the same host, a destination the source cannot reach,
a destination VirtDancer cannot reach or known by a local URI, the wrong state. Then the same
through the HTTP API: `POST /hosts/a/vm/<uuid>/migrate` as a task whose result is the VM's new
URL, offline migration, and `DELETE /tasks/<id>` cancelling a migration under way.
"""

import os
import secrets
import threading
from pathlib import Path

import libvirt
import pytest

from virtdancer.hypervisor import Hypervisor
from virtdancer.hypervisor.errors import Refused
from virtdancer.hypervisor.migration import DestinationUnavailable, MigrationAborted

from .conftest import (
    NAME_PREFIX,
    REPO_ROOT,
    SECOND_URI,
    URI,
    TestVM,
    _require_libvirtd,
    domain_names,
    domain_xml,
    remove_domain,
    unavailable,
    virsh,
    wait_until,
)

MIGRATION_A = "qemu+tcp://10.77.0.2/system"
MIGRATION_B = "qemu+tcp://10.77.0.3/system"
START_MIGRATION_HOSTS = REPO_ROOT / "scripts" / "start-migration-hosts.sh"
# Long enough for a busy machine; a 32 MiB guest moves in seconds.
MIGRATION_PATIENCE = 60
NOISE_MIB = 16
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


@pytest.fixture(scope="module")
def migration_hosts():
    """Both hosts of the pair, or a skip (a failure on CI) without them."""
    for uri in (MIGRATION_A, MIGRATION_B):
        _require_libvirtd(uri, START_MIGRATION_HOSTS)


@pytest.fixture
def hypervisors(migration_hosts):
    """`{"a": Hypervisor, "b": Hypervisor}` for the pair, connected, closed after."""
    made = {name: Hypervisor(uri, name=name).start(statistics=False)
            for name, uri in (("a", MIGRATION_A), ("b", MIGRATION_B))}
    yield made
    for hypervisor in made.values():
        hypervisor.close()


@pytest.fixture(scope="module")
def noise():
    """A file of random bytes QEMU can read, to load into a guest's memory."""
    path = Path(f"/var/tmp/{NAME_PREFIX}{os.getpid()}-noise.bin")
    path.write_bytes(os.urandom(NOISE_MIB * 1024 * 1024))
    path.chmod(0o644)
    yield path
    path.unlink()


@pytest.fixture
def make_vm(migration_hosts, tmp_path, noise):
    """`make_vm(start=False, noisy=False)`: a tiny test VM defined on host a; removed from both
    hosts after. A noisy one has NOISE_MIB of random bytes in its memory, which a migration
    has to send (a guest without an OS has only zeros, which QEMU sends as a few bytes)."""
    made = []

    def make(start=False, noisy=False):
        name = f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        xml_file = tmp_path / f"{name}.xml"
        xml = domain_xml(name)
        if noisy:
            xml = _with_noise(xml, noise)
        xml_file.write_text(xml)
        made.append(name)
        virsh("define", str(xml_file), uri=MIGRATION_A)
        if start:
            virsh("start", name, uri=MIGRATION_A)
        return TestVM(name=name, uuid=virsh("domuuid", name, uri=MIGRATION_A), uri=MIGRATION_A)

    yield make
    for uri in (MIGRATION_A, MIGRATION_B):
        for name in made:
            remove_domain(name, uri)
        assert not set(made) & domain_names(uri), f"test VMs left on {uri}"


def _with_noise(xml, noise):
    """The domain XML with QEMU's generic loader putting `noise` into its memory at 1 MiB."""
    xml = xml.replace("<domain type='qemu'>", f"<domain type='qemu' xmlns:qemu='{QEMU_NS}'>")
    return xml.replace("</domain>", f"""\
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='loader,file={noise},addr=0x100000,force-raw=on'/>
  </qemu:commandline>
</domain>""")


def where(vm):
    """{host: virsh domstate} of the VM on each host of the pair that has it."""
    return {host: virsh("domstate", vm.name, uri=uri)
            for host, uri in (("a", MIGRATION_A), ("b", MIGRATION_B))
            if vm.name in domain_names(uri)}


def persistent_on(vm, uri):
    return virsh("dominfo", vm.name, uri=uri).split("Persistent:")[1].split()[0] == "yes"


def test_a_running_vm_moves_live_and_back(make_vm, hypervisors):
    vm = make_vm(start=True, noisy=True)
    virsh("migrate-setspeed", vm.name, "16", uri=MIGRATION_A)    # MiB/s: a second or two
    fractions = []

    name = hypervisors["a"].migration.migrate(vm.uuid, hypervisors["b"].connection,
                                              progress=fractions.append, progress_interval=0.02)

    assert name == vm.name
    assert where(vm) == {"b": "running"}
    assert virsh("domuuid", vm.name, uri=MIGRATION_B) == vm.uuid
    assert persistent_on(vm, MIGRATION_B)
    assert fractions, "no progress reported while the VM moved"
    assert all(0.0 <= fraction <= 1.0 for fraction in fractions)
    assert max(fractions) > 0.5
    assert fractions == sorted(fractions)

    hypervisors["b"].migration.migrate(vm.uuid, hypervisors["a"].connection, live=False)

    assert where(vm) == {"a": "running"}
    assert persistent_on(vm, MIGRATION_A)


def test_a_shut_off_definition_moves_offline(make_vm, hypervisors):
    vm = make_vm()

    hypervisors["a"].migration.migrate(vm.uuid, hypervisors["b"].connection, offline=True)

    assert where(vm) == {"b": "shut off"}
    assert virsh("domuuid", vm.name, uri=MIGRATION_B) == vm.uuid
    assert persistent_on(vm, MIGRATION_B)


def test_a_migration_is_cancelled_and_the_vm_stays(make_vm, hypervisors):
    vm = make_vm(start=True, noisy=True)
    # At 1 MiB/s its memory takes many seconds to move: time to cancel it for sure.
    virsh("migrate-setspeed", vm.name, "1", uri=MIGRATION_A)
    source = hypervisors["a"].migration
    outcome = {}

    def migrate():
        try:
            source.migrate(vm.uuid, hypervisors["b"].connection)
        except Exception as error:  # whatever it raised is the question
            outcome["error"] = error

    mover = threading.Thread(target=migrate)
    mover.start()
    try:
        # Once memory is on its way, libvirt cancels by telling QEMU to (earlier, in the
        # handshake between the two libvirtds, an abort may come too late to stop it).
        assert wait_until(lambda: _moving_memory(hypervisors["a"], vm.uuid),
                          MIGRATION_PATIENCE, interval=0.02)
        source.abort(vm.uuid)
    finally:
        mover.join(MIGRATION_PATIENCE)
    assert isinstance(outcome.get("error"), MigrationAborted), outcome
    assert where(vm) == {"a": "running"}


def _moving_memory(hypervisor, uuid):
    stats = hypervisor.connection.get().lookupByUUIDString(uuid).jobStats()
    return stats.get("type") != libvirt.VIR_DOMAIN_JOB_NONE and stats.get("data_total", 0) > 0


def test_the_wrong_state_is_refused_in_words(make_vm, hypervisors):
    running = make_vm(start=True)
    shut_off = make_vm()
    to_b = hypervisors["b"].connection

    with pytest.raises(Refused, match="offline migration moves only a shut-off"):
        hypervisors["a"].migration.migrate(running.uuid, to_b, offline=True)
    with pytest.raises(Refused, match="shut off: only its definition can move"):
        hypervisors["a"].migration.migrate(shut_off.uuid, to_b)
    with pytest.raises(Refused, match="is not being migrated"):
        hypervisors["a"].migration.abort(running.uuid)
    assert where(running) == {"a": "running"}
    assert where(shut_off) == {"a": "shut off"}


def test_the_same_host_under_two_names_is_refused(make_vm, hypervisors):
    vm = make_vm(start=True)
    again = Hypervisor(MIGRATION_A, name="a-again").start(statistics=False)
    try:
        with pytest.raises(Refused, match="a and a-again are the same libvirt host"):
            hypervisors["a"].migration.migrate(vm.uuid, again.connection)
    finally:
        again.close()
    assert where(vm) == {"a": "running"}


def test_a_destination_the_source_cannot_reach_is_unavailable(make_vm, hypervisors):
    # VirtDancer reaches the second test host on loopback; host a's libvirtd, in a network
    # namespace of its own, finds nothing at its own 127.0.0.1.
    vm = make_vm(start=True)
    second = Hypervisor(SECOND_URI, name="second").start(statistics=False)
    try:
        if not second.connection.connected:
            unavailable(f"the second test host is not up at {SECOND_URI}")
        with pytest.raises(DestinationUnavailable, match="a cannot reach the destination "
                                                         "host second"):
            hypervisors["a"].migration.migrate(vm.uuid, second.connection)
    finally:
        second.close()
    assert where(vm) == {"a": "running"}
    assert hypervisors["a"].connection.connected   # the source's connection was not at fault


def test_a_destination_known_by_a_local_uri_is_refused(make_vm, hypervisors):
    # The source's libvirtd would connect to itself (qemu:///system is its own).
    vm = make_vm(start=True)
    local = Hypervisor(URI, name="local").start(statistics=False)
    try:
        with pytest.raises(Refused, match="destination host local is known by a local URI"):
            hypervisors["a"].migration.check(vm.uuid, local.connection)
    finally:
        local.close()
    assert where(vm) == {"a": "running"}


def test_a_destination_virtdancer_cannot_reach_is_unavailable(make_vm, hypervisors):
    vm = make_vm(start=True)
    nowhere = Hypervisor("qemu+tcp://10.77.0.1:7799/system", name="nowhere",
                         connect_wait=1).start(statistics=False)
    try:
        with pytest.raises(DestinationUnavailable, match="destination host nowhere is "
                                                         "unreachable") as raised:
            hypervisors["a"].migration.migrate(vm.uuid, nowhere.connection)
    finally:
        nowhere.close()
    assert raised.value.retry_after >= 1
    assert where(vm) == {"a": "running"}


# -- through the HTTP API: POST /vm/<uuid>/migrate as a task -------------------------------

@pytest.fixture
def app_settings(app_settings, migration_hosts):
    return {**app_settings, "virtdancer.hosts": f"a = {MIGRATION_A}\nb = {MIGRATION_B}"}


def finished(testapp, location):
    """The task at `location` once it has ended (or MIGRATION_PATIENCE has passed)."""
    task = None

    def ended():
        nonlocal task
        task = testapp.get(location).json
        return task["state"] not in ("queued", "running")

    wait_until(ended, MIGRATION_PATIENCE, interval=0.1)
    return task


def test_the_api_moves_a_running_vm_and_says_where_it_is(make_vm, testapp):
    vm = make_vm(start=True)

    response = testapp.post_json(f"/hosts/a/vm/{vm.uuid}/migrate", {"host": "b"}, status=202)
    task = finished(testapp, response.headers["Location"])

    assert task["state"] == "done", task
    assert task["progress"] == 1
    url = f"http://localhost/hosts/b/vm/{vm.uuid}"
    assert task["result"] == {"host": "b", "uuid": vm.uuid, "url": url}
    assert where(vm) == {"b": "running"}
    moved = testapp.get(url).json
    assert (moved["uuid"], moved["name"], moved["state_name"]) == (vm.uuid, vm.name, "running")
    testapp.get(f"/hosts/a/vm/{vm.uuid}", status=404)

    # And back, by the new URL, paused while it moves.
    response = testapp.post_json(f"{url}/migrate", {"host": "a", "live": False}, status=202)
    assert finished(testapp, response.headers["Location"])["state"] == "done"
    assert where(vm) == {"a": "running"}


def test_the_api_moves_a_shut_off_definition_offline(make_vm, testapp):
    vm = make_vm()
    testapp.post_json(f"/hosts/a/vm/{vm.uuid}/migrate", {"host": "b"}, status=409)

    response = testapp.post_json(f"/hosts/a/vm/{vm.uuid}/migrate",
                                 {"host": "b", "offline": True}, status=202)

    assert finished(testapp, response.headers["Location"])["state"] == "done"
    assert where(vm) == {"b": "shut off"}
    assert testapp.get(f"/hosts/b/vm/{vm.uuid}").json["persistent"] is True


def test_deleting_the_task_cancels_the_migration(make_vm, testapp):
    vm = make_vm(start=True, noisy=True)
    virsh("migrate-setspeed", vm.name, "1", uri=MIGRATION_A)
    location = testapp.post_json(f"/hosts/a/vm/{vm.uuid}/migrate", {"host": "b"},
                                 status=202).headers["Location"]
    assert wait_until(lambda: (testapp.get(location).json["progress"] or 0) > 0,
                      MIGRATION_PATIENCE, interval=0.05), "the migration never showed progress"

    testapp.delete(location, status=200)
    task = finished(testapp, location)

    assert task["state"] == "cancelled", task
    assert where(vm) == {"a": "running"}
    assert testapp.get(f"/hosts/a/vm/{vm.uuid}").json["state_name"] == "running"
