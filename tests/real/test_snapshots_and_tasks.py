"""Snapshots and tasks on QEMU: a qcow2 VM's disk and memory snapshots, reverted to and deleted
(checked with virsh); a shutdown the guest ignores; a task cancelled; and a VirtDancer process
killed (SIGKILL) during a task, whose restart tells the task failed.

VMs here are named `h6-<pid>-<random>` and their disks live in a folder of their own, removed
after each test.
"""

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ..conftest import DEMO_USERS
from ..test_tasks import finished
from .conftest import (
    CLEANUP_PATIENCE,
    domain_names,
    domstate,
    libvirtd_problem,
    virsh,
    wait_until,
)
from .served import Client

PREFIX = "h6-"


def qcow2_domain_xml(name, disk):
    return f"""\
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def qcow2_disk(folder, name):
    """A 16 MiB qcow2 image `folder/<name>.qcow2`, which QEMU (another user) may write."""
    disk = folder / f"{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    disk.chmod(0o666)
    return disk


@pytest.fixture
def qcow2_vm():
    """`qcow2_vm(start=False)`: a defined VM with a 16 MiB qcow2 disk and no OS (so it
    ignores ACPI); (name, uuid). Removed, snapshots and disks too, after the test."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    folder.chmod(0o777)     # QEMU runs as another user

    def make(start=False):
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        xml = folder / f"{name}.xml"
        xml.write_text(qcow2_domain_xml(name, qcow2_disk(folder, name)))
        virsh("define", str(xml))
        if start:
            virsh("start", name)
        return name, virsh("domuuid", name)

    yield make
    try:
        remove_ours(PREFIX)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_ours(prefix):
    """Destroy and undefine the VMs named `<prefix><this process's PID>-...`, their snapshots'
    metadata too; fail if one is left. A libvirtd another run is restarting is waited for
    first: QEMU outlives it, so the VMs would be left running."""
    ours = f"{prefix}{os.getpid()}-"
    wait_until(lambda: libvirtd_problem() is None, CLEANUP_PATIENCE, interval=0.5)
    for name in domain_names():
        if name.startswith(ours):
            virsh("destroy", name, check=False)
            virsh("undefine", name, "--snapshots-metadata", check=False)
    left = sorted(name for name in domain_names() if name.startswith(ours))
    assert not left, f"VMs not cleaned up: {left}"


def snapshot_names(name):
    return set(virsh("snapshot-list", name, "--name").split())


def take(client, uuid, name, memory):
    location = client.post_json(f"/vm/{uuid}/snapshots", {"name": name, "memory": memory},
                                status=202).location
    return finished(client, location, timeout=120)


def test_disk_and_memory_snapshots_reverted_to_and_deleted(testapp, qcow2_vm):
    name, uuid = qcow2_vm()
    # Shut off: its disks alone.
    disk = take(testapp, uuid, "disk-only", memory=False)
    assert disk["state"] == "done", disk
    assert disk["result"]["memory"] is False and disk["result"]["state"] == "shutoff"
    virsh("start", name)
    # Running: without memory, a refusal in words, not a 502.
    refused = testapp.post_json(f"/vm/{uuid}/snapshots", {"name": "x"}, status=409).json
    assert "only with its memory" in refused["message"]
    memory = take(testapp, uuid, "with-memory", memory=True)
    assert memory["state"] == "done", memory
    assert memory["result"]["memory"] is True and memory["result"]["parent"] == "disk-only"
    assert snapshot_names(name) == {"disk-only", "with-memory"}
    tree = testapp.get(f"/vm/{uuid}/snapshots").json
    assert [(s["name"], s["current"]) for s in tree] == [("disk-only", False),
                                                          ("with-memory", True)]

    back = finished(testapp, testapp.post_json(f"/vm/{uuid}/snapshots/disk-only/revert", {},
                                               status=202).location, timeout=120)
    assert back["result"] == {"snapshot": "disk-only", "state": "shut off"}, back
    assert domstate(name) == "shut off"
    back = finished(testapp, testapp.post_json(f"/vm/{uuid}/snapshots/with-memory/revert", {},
                                               status=202).location, timeout=120)
    assert back["result"] == {"snapshot": "with-memory", "state": "running"}, back
    assert domstate(name) == "running"
    assert "with-memory" in virsh("snapshot-current", name, "--name")

    assert testapp.delete(f"/vm/{uuid}/snapshots/disk-only?children=1").json["removed"] == \
        ["disk-only", "with-memory"]
    assert snapshot_names(name) == set()


def test_a_raw_disk_is_refused_in_words(testapp, qcow2_vm, tmp_path):
    name, uuid = qcow2_vm()
    xml = virsh("dumpxml", name, "--inactive").replace("type='qcow2'", "type='raw'")
    path = tmp_path / "raw.xml"
    path.write_text(xml)
    virsh("define", str(path))
    refused = testapp.post_json(f"/vm/{uuid}/snapshots", {"name": "x"}, status=409).json
    assert "its disk vda is raw, and only qcow2 disks keep them" in refused["message"]


def test_a_shutdown_the_guest_ignores_fails_after_its_wait(testapp, qcow2_vm):
    name, uuid = qcow2_vm(start=True)
    started = time.monotonic()
    location = testapp.post_json(f"/vm/{uuid}/action?wait=2", {"action": "shutdown"},
                                 status=202).location
    failed = finished(testapp, location, timeout=30)
    assert failed["state"] == "failed", failed
    assert f"{name} is still running after 2 s" in failed["error"]
    assert time.monotonic() - started >= 2
    assert domstate(name) == "running"


def test_a_long_task_is_cancelled(testapp, qcow2_vm):
    name, uuid = qcow2_vm(start=True)
    location = testapp.post_json(f"/vm/{uuid}/action?wait=600", {"action": "shutdown"},
                                 status=202).location
    assert wait_until(lambda: testapp.get(location).json["state"] == "running", 10)
    started = time.monotonic()
    testapp.delete(location)
    cancelled = finished(testapp, location, timeout=10)
    assert cancelled["state"] == "cancelled" and time.monotonic() - started < 5
    assert domstate(name) == "running"


# -- a VirtDancer process killed during a task -----------------------------------------------

def test_a_task_of_a_killed_process_is_failed_after_a_restart(qcow2_vm, tmp_path, pserve):
    name, uuid = qcow2_vm(start=True)
    first, port = pserve(tmp_path, DEMO_USERS)
    task_id = Client(port, ("admin", "admin")).expect(
        202, "POST", f"/vm/{uuid}/action?wait=600", {"action": "shutdown"})["id"]
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    admin = Client(pserve(tmp_path, DEMO_USERS)[1], ("admin", "admin"))
    task = admin.expect(200, "GET", f"/tasks/{task_id}")
    assert task["state"] == "failed"
    assert task["error"] == (f"VirtDancer stopped during the task; libvirt says {name} "
                             "is running")
    assert task["user"] == "admin" and task["vm"] == {"uuid": uuid, "name": name}
    # Nothing else lost: the VM is there, the tasks list has the task.
    assert [t["id"] for t in admin.expect(200, "GET", "/tasks")] == [task_id]
    assert domstate(name) == "running"
