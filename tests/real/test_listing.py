"""GET /vm, GET /vm?detail=1 and GET /vm/<uuid> on real QEMU domains: right fields, right types.

Other domains may exist on the host (other users, other runs): the tests only look at their own.
"""

import time

from virtdancer.hypervisor.fleet import SHARED_FOR

from .conftest import MEMORY_KIB, RUNNING, SHUT_OFF, VCPUS, virsh

SUMMARY_KEYS = {"uuid", "name", "active"}
DETAIL_KEYS = {"id", "uuid", "name", "active", "persistent", "updated", "os", "autostart",
               "info", "state_name", "actions", "console", "operable"}
INFO_KEYS = {"maxMem", "memory", "cpuTime", "nrVirtCpu", "state"}


def by_uuid(rows, uuid):
    found = [row for row in rows if row["uuid"] == uuid]
    assert len(found) == 1, f"{uuid} is listed {len(found)} times"
    return found[0]


def assert_detail_types(detail):
    """JSON types as the seed's API has them (bool is no int here, and no int is a bool)."""
    assert set(detail) == DETAIL_KEYS
    assert set(detail["info"]) == INFO_KEYS
    for key in ("active", "persistent", "updated", "autostart", "console", "operable"):
        assert type(detail[key]) is bool, key
    for key in ("uuid", "name", "os", "state_name"):
        assert type(detail[key]) is str, key
    assert type(detail["id"]) is int
    assert type(detail["actions"]) is list and all(type(action) is str
                                                   for action in detail["actions"])
    for key, value in detail["info"].items():
        assert type(value) is int, f"info.{key}"


def without_cpu_time(detail):
    return {**detail, "info": {k: v for k, v in detail["info"].items() if k != "cpuTime"}}


def test_list_and_details_show_persistent_and_transient_qemu_vms(testapp, make_vm):
    """GET /vm and GET /vm?detail=1 list a shut-off persistent VM and a running transient one.

    Each detail-list entry is what GET /vm/<uuid> answers (for the running VM, except its CPU
    time, which moves on between two requests), and each field is what virsh knows of the
    domain. A transient VM is not persistent, and vanishes from the API once destroyed.
    """
    stopped = make_vm()
    transient = make_vm(transient=True)
    assert stopped.state() == "shut off"
    assert transient.state() == "running"

    summaries = testapp.get("/vm").json
    for vm, active in ((stopped, False), (transient, True)):
        row = by_uuid(summaries, vm.uuid)
        assert set(row) == SUMMARY_KEYS
        assert row == {"uuid": vm.uuid, "name": vm.name, "active": active}

    details = testapp.get("/vm", params={"detail": "1"}).json
    listed_stopped = by_uuid(details, stopped.uuid)
    listed_transient = by_uuid(details, transient.uuid)
    for detail in (listed_stopped, listed_transient):
        assert_detail_types(detail)
        assert detail["os"] == "hvm"
        assert detail["info"]["maxMem"] == MEMORY_KIB
        assert detail["info"]["nrVirtCpu"] == VCPUS
        assert detail["autostart"] is False
        assert detail["updated"] is False

    # The answer about one VM says more (its devices, description, boot order) than a list can
    # afford to ask of every VM; what the list says, it says the same.
    one = testapp.get(f"/vm/{stopped.uuid}").json
    assert listed_stopped == {key: one[key] for key in listed_stopped}
    assert listed_stopped["name"] == stopped.name
    assert listed_stopped["id"] == -1
    assert listed_stopped["active"] is False
    assert listed_stopped["persistent"] is True
    assert listed_stopped["info"]["state"] == SHUT_OFF
    assert listed_stopped["state_name"] == "shut off"
    assert listed_stopped["info"]["cpuTime"] == 0

    shown_transient = testapp.get(f"/vm/{transient.uuid}").json
    assert without_cpu_time(listed_transient) == without_cpu_time(
        {key: shown_transient[key] for key in listed_transient})
    assert listed_transient["name"] == transient.name
    assert listed_transient["id"] == transient.domid()
    assert listed_transient["id"] > 0
    assert listed_transient["active"] is True
    assert listed_transient["persistent"] is False
    assert listed_transient["info"]["state"] == RUNNING
    assert listed_transient["state_name"] == "running"
    assert 0 < listed_transient["info"]["cpuTime"] <= shown_transient["info"]["cpuTime"]

    virsh("destroy", transient.name)
    testapp.get(f"/vm/{transient.uuid}", status=404)
    assert transient.uuid not in {row["uuid"] for row in testapp.get("/vm").json}

def test_autostart_shows_once_virsh_sets_it(testapp, make_vm):
    """`autostart` follows `virsh autostart`, in GET /vm/<uuid> and in the detail list alike:
    libvirt announces no event for it, so once the moment requests share an answer has passed
    (fleet.SHARED_FOR, 20 ms; virsh can take less)."""
    vm = make_vm()
    assert testapp.get(f"/vm/{vm.uuid}").json["autostart"] is False

    virsh("autostart", vm.name)
    time.sleep(SHARED_FOR)

    assert testapp.get(f"/vm/{vm.uuid}").json["autostart"] is True
    assert by_uuid(testapp.get("/vm?detail=1").json, vm.uuid)["autostart"] is True

    virsh("autostart", "--disable", vm.name)
    time.sleep(SHARED_FOR)

    assert testapp.get(f"/vm/{vm.uuid}").json["autostart"] is False


def test_destroying_a_transient_vm_through_the_api_answers_done(testapp, make_vm):
    """Destroying a transient VM succeeds, and the API says so rather than "not found"."""
    vm = make_vm(transient=True)
    response = testapp.post_json(f"/vm/{vm.uuid}/action", {"action": "destroy"},
                                 expect_errors=True)
    assert vm.name not in virsh("list", "--all", "--name").split()
    assert response.status_int == 200, response.text
    assert response.json == {"result": "done", "vm": None}
