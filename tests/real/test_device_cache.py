"""The detail's devices, kept between requests, on qemu:///system: what another client (virsh)
changes behind VirtDancer's back shows once libvirt has announced it. The announcement (an
event) reaches VirtDancer on libvirt's event loop thread, which a loaded machine may run after
the test's next GET: the test asks until the change shows, for EVENT_WITHIN seconds at most.

Everything made here is named `h1-<random>`: a tiny running QEMU domain and its disk files in
a temporary folder; all removed after.
"""

import os
import secrets
import shutil
import subprocess
import tempfile

import pytest

from .conftest import MEMORY_KIB, remove_domain, virsh, wait_until

DEVICE_KEYS = ("disks", "cdroms", "nics", "graphics", "boot", "description")
EVENT_WITHIN = 10   # seconds; a kept detail that no event drops would never change


def vm_xml(name):
    # A SCSI controller: a disk on it leaves the VM at once when detached (no guest OS here).
    return f"""<domain type='qemu'><name>{name}</name>
  <memory unit='KiB'>{MEMORY_KIB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <description>before</description>
  <devices>
    <controller type='scsi' model='virtio-scsi'/>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/><readonly/></disk>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>"""


@pytest.fixture
def running_vm():
    """`(name, folder)`: a running VM, and a folder QEMU may read; both removed after."""
    name = f"h1-{secrets.token_hex(4)}"
    folder = tempfile.mkdtemp(prefix="h1-")
    os.chmod(folder, 0o755)     # QEMU runs as its own user: it must reach the files
    definition = os.path.join(folder, "vm.xml")
    with open(definition, "w") as file:
        file.write(vm_xml(name))
    try:
        virsh("define", definition)
        virsh("start", name)
        yield name, folder
    finally:
        remove_domain(name)
        shutil.rmtree(folder, ignore_errors=True)
    assert name not in virsh("list", "--all", "--name").split()


def raw_file(folder, name, mib=1):
    path = os.path.join(folder, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, f"{mib}M"], check=True,
                   timeout=60)
    os.chmod(path, 0o644)
    return path


def targets(testapp, url):
    return [disk["target"] for disk in testapp.get(url).json["disks"]]


def once_shown(read, expected):
    """`read()`'s answer once it is `expected`, else its last within EVENT_WITHIN seconds."""
    answers = []
    wait_until(lambda: answers.append(read()) or answers[-1] == expected, EVENT_WITHIN)
    return answers[-1]


def test_changes_made_with_virsh_show_once_libvirt_announces_them(testapp, hypervisor, running_vm):
    name, folder = running_vm
    uuid = virsh("domuuid", name)
    url = f"/vm/{uuid}"
    shown = testapp.get(url).json
    # QEMU's libvirt announces every change: the devices are kept, not read at each request.
    assert hypervisor.connection.change_events_supported
    assert hypervisor.devices.cache.entry(uuid, shown["id"])[0] is not None
    assert shown["disks"] == [] and shown["cdroms"][0]["path"] is None
    again = testapp.get(url).json
    assert all(again[key] == shown[key] for key in DEVICE_KEYS)     # kept: the same

    # A disk hot-plugged by another client: libvirt's device-added event.
    extra = raw_file(folder, "h1-extra.img")
    virsh("attach-disk", name, extra, "sdb", "--targetbus", "scsi", "--live")
    assert once_shown(lambda: targets(testapp, url), ["sdb"]) == ["sdb"]
    [disk] = testapp.get(url).json["disks"]
    assert disk["path"] == extra and disk["capacity"] == 1024 * 1024

    # ... and unplugged again: the device-removed event.
    virsh("detach-disk", name, "sdb", "--live")
    assert once_shown(lambda: targets(testapp, url), []) == []

    # A medium inserted into the CD-ROM drive: the tray and disk-change events.
    iso = raw_file(folder, "h1-medium.iso")
    virsh("change-media", name, "sda", iso, "--insert", "--live")
    assert once_shown(lambda: testapp.get(url).json["cdroms"][0]["path"], iso) == iso

    # The description edited: the metadata event.
    virsh("desc", name, "--config", "after")
    assert once_shown(lambda: testapp.get(url).json["description"], "after") == "after"

    # Stopped and started again with virsh: the kept domain's ID is never shown stale.
    virsh("destroy", name)
    stopped = testapp.get(url).json
    assert (stopped["id"], stopped["active"], stopped["state_name"]) == (-1, False, "shut off")
    virsh("start", name)
    started = testapp.get(url).json
    assert started["active"] and started["id"] == int(virsh("domid", name))
