"""The Snapshots view on the real hypervisor: a running QEMU VM's snapshot with its memory,
taken, reverted to and deleted from the page, each task followed to its end (checked with
virsh). Like test_live_qemu.py this needs libvirtd with QEMU (the tests/real ring).

The VM is named `h8-<pid>-<random>`; its qcow2 disk lives in a folder of its own, removed after
the test with the VM and its snapshots.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ..real.conftest import libvirtd_problem, remove_domain, virsh
from ..real.test_snapshots_and_tasks import qcow2_domain_xml
from .conftest import unavailable
from .pages import expect, log_in, screenshot, select

QEMU = "qemu:///system"
PREFIX = "h8-"
TASK_TIMEOUT_MS = 60_000   # a memory snapshot of a 32 MiB VM takes seconds on a busy machine


@pytest.fixture
def running_qcow2_vm():
    """A running QEMU VM with a 16 MiB qcow2 disk and no OS: (name, uuid)."""
    problem = libvirtd_problem()
    if problem is not None:
        unavailable(f"libvirtd is needed for this test: {problem}")
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    folder.chmod(0o777)     # QEMU runs as another user
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
    disk = folder / f"{name}.qcow2"
    try:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"],
                       check=True)
        disk.chmod(0o666)
        xml = folder / f"{name}.xml"
        xml.write_text(qcow2_domain_xml(name, disk))
        virsh("define", str(xml))
        virsh("start", name)
        yield name, virsh("domuuid", name)
    finally:
        virsh("destroy", name, check=False)
        virsh("undefine", name, "--snapshots-metadata", check=False)
        remove_domain(name)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.app_settings({"virtdancer.libvirt_uri": QEMU})
def test_a_memory_snapshot_taken_reverted_to_and_deleted_on_qemu(running_qcow2_vm, page,
                                                                 server):
    # The VM first: it is then removed after the page has closed, which would otherwise see
    # it go (a 404 in its console).
    name, uuid = running_qcow2_vm
    log_in(page, server.url, "admin")
    select(page, uuid, name)
    page.click("[data-view=snapshots]")
    view = page.locator("[data-vm-snapshots]")
    message = view.locator("[data-snapshot-message]")
    expect(view.get_by_label("With its memory")).to_be_checked()
    form = view.locator("[data-snapshot-form]")
    form.get_by_label("Name").fill("h8-before")
    form.get_by_label("Description").fill("taken from the page")
    form.get_by_role("button", name="Take snapshot").click()
    expect(message).to_have_text(f"Took snapshot h8-before of {name}.",
                                 timeout=TASK_TIMEOUT_MS)
    assert virsh("snapshot-list", name, "--name").split() == ["h8-before"]
    row = view.locator("[data-snapshot='h8-before']")
    expect(row).to_contain_text("memory and disks; taken today")
    expect(row).to_contain_text("while running")
    screenshot(page, "snapshots-qemu")

    # A memory snapshot brings the VM back running: no "start afterwards" to choose.
    row.get_by_role("button", name="Revert to h8-before").click()
    dialog = page.locator("[data-snapshot-dialog]")
    expect(dialog).to_contain_text("comes back running")
    expect(dialog.get_by_role("checkbox")).to_be_hidden()
    dialog.get_by_role("button", name="Revert").click()
    expect(message).to_have_text(f"{name} is back at h8-before; it is running now.",
                                 timeout=TASK_TIMEOUT_MS)
    assert virsh("domstate", name).strip() == "running"

    row.get_by_role("button", name="Delete h8-before").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(message).to_have_text("Deleted snapshot h8-before.")
    assert virsh("snapshot-list", name, "--name").split() == []
