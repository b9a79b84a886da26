"""Lifecycle actions on a real QEMU VM: what the API answers is what libvirt then reports.

Every action goes through `POST /vm/<uuid>/action`; its effect is checked independently with
`virsh domstate`, and the answer's `vm` detail is checked against the domain XML.
"""

from .conftest import MEMORY_KIB, PAUSED, RUNNING, SHUT_OFF, VCPUS

VIRSH_STATE = {RUNNING: "running", PAUSED: "paused", SHUT_OFF: "shut off"}


def act(testapp, vm, action, expected_state):
    """Run `action` on `vm` through the API; check the answer and virsh agree on the state."""
    response = testapp.post_json(f"/vm/{vm.uuid}/action", {"action": action})
    assert response.status_int == 200
    assert response.json["result"] == "done"
    detail = response.json["vm"]
    assert_detail(detail, vm, expected_state)
    assert vm.state() == VIRSH_STATE[expected_state], f"virsh domstate after {action}"
    return detail


def assert_detail(detail, vm, expected_state):
    """The detail object of `vm` in `expected_state`, as the domain XML defines it."""
    assert detail["uuid"] == vm.uuid
    assert detail["name"] == vm.name
    assert detail["info"]["state"] == expected_state
    assert detail["state_name"] == VIRSH_STATE[expected_state]
    assert detail["active"] is (expected_state != SHUT_OFF)
    assert detail["id"] == vm.domid()
    if expected_state == SHUT_OFF:
        assert detail["id"] == -1
        assert detail["info"]["cpuTime"] == 0
    else:
        assert detail["id"] > 0
        assert detail["info"]["cpuTime"] > 0
    assert detail["info"]["maxMem"] == MEMORY_KIB
    assert 0 < detail["info"]["memory"] <= MEMORY_KIB
    assert detail["info"]["nrVirtCpu"] == VCPUS
    assert detail["persistent"] is True
    assert detail["os"] == "hvm"


def test_actions_drive_a_qemu_vm_through_its_lifecycle(testapp, make_vm):
    """Every action does to a real QEMU VM what it says, and answers the VM as it is after.

    - start, pause, resume and destroy move the VM between running, paused and shut off;
    - start on a paused VM resumes it (the seed's semantics): same domain ID, no new boot;
    - reset restarts the machine in place: it stays running as the same domain;
    - shutdown and reboot only ask the guest (over ACPI) and answer at once: this VM has no
      disk, so no guest OS to honour them, and it must still be running afterwards, as the
      same domain. They never kill a VM; only destroy then powers it off.

    One VM goes through all of it, because starting a QEMU domain takes seconds.
    """
    vm = make_vm()
    assert vm.state() == "shut off"

    started = act(testapp, vm, "start", RUNNING)
    act(testapp, vm, "pause", PAUSED)
    act(testapp, vm, "resume", RUNNING)
    act(testapp, vm, "pause", PAUSED)
    resumed = act(testapp, vm, "start", RUNNING)
    assert resumed["id"] == started["id"], "start on a paused VM must resume it, not reboot it"
    reset = act(testapp, vm, "reset", RUNNING)
    assert reset["id"] == started["id"]

    after_shutdown = act(testapp, vm, "shutdown", RUNNING)
    assert after_shutdown["id"] == started["id"]
    after_reboot = act(testapp, vm, "reboot", RUNNING)
    assert after_reboot["id"] == started["id"]

    act(testapp, vm, "destroy", SHUT_OFF)
