"""Refused actions and unknown VMs on a real QEMU VM: a clear JSON error that changes nothing.

An action the VM's state forbids is a 409 that names the state (as `virsh domstate` would), and
libvirt must not have been asked to do anything: the VM is left exactly as it was.
"""

import uuid as uuidlib

import pytest

from .conftest import PAUSED, RUNNING, SHUT_OFF

STATE_NAME = {RUNNING: "running", PAUSED: "paused", SHUT_OFF: "shut off"}


def detail_without_cpu_time(testapp, vm):
    detail = testapp.get(f"/vm/{vm.uuid}").json
    del detail["info"]["cpuTime"]  # a running VM's CPU time moves on by itself
    return detail


def assert_refused(testapp, vm, action, state, virsh_state):
    """`action` is a 409 naming `state`, and neither the API nor virsh sees any change."""
    before = detail_without_cpu_time(testapp, vm)
    domid = vm.domid()

    response = testapp.post_json(f"/vm/{vm.uuid}/action", {"action": action}, status=409)

    assert response.content_type == "application/json"
    body = response.json
    assert body["status"] == "error" and body["code"] == 409
    assert body["state"] == state
    assert body["state_name"] == STATE_NAME[state]
    assert action in body["message"] and body["state_name"] in body["message"]
    assert vm.state() == virsh_state, f"{action} was refused but the VM changed state"
    assert vm.domid() == domid, f"{action} was refused but the VM was restarted"
    assert detail_without_cpu_time(testapp, vm) == before


def test_actions_a_vms_state_forbids_are_409_and_change_nothing(testapp, make_vm):
    """Refused actions on a shut-off, a running and a paused QEMU VM leave it as it was.

    Shut off: only start is allowed. Running: start and resume are refused. Paused: pause,
    shutdown and reboot are refused (a paused guest cannot answer ACPI).
    """
    vm = make_vm()
    for action in ("pause", "resume", "shutdown", "reboot", "reset", "destroy"):
        assert_refused(testapp, vm, action, SHUT_OFF, "shut off")

    testapp.post_json(f"/vm/{vm.uuid}/action", {"action": "start"})
    assert vm.state() == "running"
    for action in ("start", "resume"):
        assert_refused(testapp, vm, action, RUNNING, "running")

    testapp.post_json(f"/vm/{vm.uuid}/action", {"action": "pause"})
    assert vm.state() == "paused"
    for action in ("pause", "shutdown", "reboot"):
        assert_refused(testapp, vm, action, PAUSED, "paused")


@pytest.mark.parametrize("make_path", [
    lambda: f"/vm/{uuidlib.uuid4()}",
    lambda: "/vm/not-a-uuid",
    lambda: f"/vm/{str(uuidlib.uuid4())[:-1]}",        # one digit short
    lambda: f"/vm/{uuidlib.uuid4().hex}",              # no hyphens: not the canonical form
], ids=["unknown", "malformed", "short", "unhyphenated"])
def test_unknown_or_malformed_uuid_is_a_json_404(testapp, make_path):
    """A UUID that names no domain on the host is a JSON 404, for GET and for actions alike."""
    path = make_path()
    for response in (testapp.get(path, status=404),
                     testapp.post_json(f"{path}/action", {"action": "start"}, status=404)):
        assert response.content_type == "application/json"
        assert response.json["status"] == "error" and response.json["code"] == 404
        assert response.json["message"]

