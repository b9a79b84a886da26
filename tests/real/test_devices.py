"""The devices of a running VM on qemu:///system: the detail's disk (with its size) and NIC, an
ISO made at test time inserted into the CD-ROM drive and ejected, a second disk and a NIC
attached and detached (live and persistent), each step checked with virsh; nothing left behind.

Everything made here is named `vddev-<random>`: a `dir` pool in a temporary folder, a NAT
network on 10.232.92.0/24 and a tiny QEMU domain.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from ..test_tasks import finished
from .conftest import MEMORY_KIB, remove_domain, virsh

MIB = 1024 * 1024
SUBNET = "10.232.92.0/24"


def vm_xml(name, disk, network):
    # A SCSI controller: a disk on it leaves the VM at once when detached, where a virtio disk
    # waits for a guest OS (this VM has none) to let go of it.
    return f"""<domain type='qemu'><name>{name}</name>
  <memory unit='KiB'>{MEMORY_KIB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/><readonly/></disk>
    <controller type='scsi' model='virtio-scsi'/>
    <interface type='network'><source network='{network}'/><model type='virtio'/></interface>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>"""


@pytest.fixture
def lab():
    """Names of a pool (in a folder QEMU may read), a network and a VM; all removed after."""
    tag = secrets.token_hex(4)
    folder = tempfile.mkdtemp(prefix="vddev-")
    os.chmod(folder, 0o755)     # QEMU runs as its own user: it must reach the images
    made = {"pool": f"vddev-pool-{tag}", "network": f"vddev-net-{tag}",
            "vm": f"vddev-vm-{tag}", "folder": folder}
    yield made
    remove_domain(made["vm"])
    virsh("net-destroy", made["network"], check=False)
    virsh("net-undefine", made["network"], check=False)
    virsh("pool-destroy", made["pool"], check=False)
    virsh("pool-undefine", made["pool"], check=False)
    shutil.rmtree(folder, ignore_errors=True)
    assert made["vm"] not in virsh("list", "--all", "--name").split()
    assert made["network"] not in virsh("net-list", "--all", "--name").split()
    assert made["pool"] not in virsh("pool-list", "--all", "--name").split()


def block_devices(name, *options):
    """`{target: source}` of `virsh domblklist` ("-" for an empty drive)."""
    rows = virsh("domblklist", name, *options).splitlines()[2:]
    return dict(row.split(None, 1) for row in rows if row.strip())


def macs(name, *options):
    """The MAC addresses of `virsh dumpxml` (with `--inactive`: the definition's)."""
    root = ET.fromstring(virsh("dumpxml", name, *options))
    return {mac.get("address") for mac in root.iterfind("devices/interface/mac")}


def make_iso(path):
    content = os.path.join(os.path.dirname(path), "iso-content")
    os.makedirs(content, exist_ok=True)
    with open(os.path.join(content, "hello.txt"), "w") as file:
        file.write("VirtDancer\n")
    subprocess.run(["genisoimage", "-quiet", "-V", "VDDEV", "-o", path, content], check=True,
                   timeout=60)
    shutil.rmtree(content)


def test_devices_of_a_running_vm(testapp, lab, tmp_path):
    pool, network, vm = lab["pool"], lab["network"], lab["vm"]
    testapp.post_json("/pools", {"name": pool, "path": lab["folder"]}, status=201)
    testapp.post_json("/networks", {"name": network, "subnet": SUBNET, "start": True},
                      status=201)
    accepted = testapp.post_json(f"/pools/{pool}/volumes", {"name": "vddev-root.qcow2",
                                                           "format": "qcow2",
                                                           "capacity_mib": 16}, status=202)
    disk = finished(testapp, accepted.location, timeout=60)["result"]
    iso = os.path.join(lab["folder"], "vddev.iso")
    make_iso(iso)
    testapp.post_json(f"/pools/{pool}/action", {"action": "refresh"})
    definition = tmp_path / "vm.xml"
    definition.write_text(vm_xml(vm, disk["path"], network))
    virsh("define", str(definition))
    virsh("start", vm)
    uuid = virsh("domuuid", vm)
    url = f"/vm/{uuid}"

    # The detail: the disk with its volume and size, the empty drive, the NIC as virsh has it.
    shown = testapp.get(url).json
    [root] = shown["disks"]
    assert (root["target"], root["pool"], root["volume"], root["format"]) == (
        "vda", pool, "vddev-root.qcow2", "qcow2")
    assert root["capacity"] == 16 * MIB and root["path"] == disk["path"]
    assert shown["cdroms"] == [{"target": "sda", "bus": "sata", "pool": None, "volume": None,
                                "path": None}]
    [nic] = shown["nics"]
    assert {nic["mac"]} == macs(vm) and nic["network"] == network and nic["bridge"]
    assert nic["model"] == "virtio" and isinstance(nic["addresses"], list)
    [display] = shown["graphics"]
    assert display["type"] == "vnc" and display["port"] >= 5900

    # An ISO into the running VM's drive (and its definition), then out again.
    drive = testapp.put_json(f"{url}/cdroms/sda", {"pool": pool, "volume": "vddev.iso"}).json
    assert drive["path"] == iso and drive["volume"] == "vddev.iso"
    assert testapp.get(url).json["cdroms"][0]["path"] == iso
    assert block_devices(vm)["sda"] == iso == block_devices(vm, "--inactive")["sda"]
    assert testapp.delete(f"{url}/cdroms/sda").json["path"] is None
    assert block_devices(vm)["sda"] == "-" == block_devices(vm, "--inactive")["sda"]
    testapp.put_json(f"{url}/cdroms/sdc", {"pool": pool, "volume": "vddev.iso"}, status=404)

    # A SATA disk cannot be hot-plugged: a 409 in words, and the volume made for it is gone.
    before = sorted(volume["name"] for volume in testapp.get(f"/pools/{pool}/volumes").json)
    refused = testapp.post_json(f"{url}/disks", {"pool": pool, "size_gib": 0.015625,
                                                 "bus": "sata"}, status=409).json
    assert "running VM" in refused["message"] and "live=false" in refused["message"]
    assert sorted(v["name"] for v in testapp.get(f"/pools/{pool}/volumes").json) == before

    # A second disk: a new 16 MiB volume on the SCSI bus, live and persistent.
    made = testapp.post_json(f"{url}/disks", {"pool": pool, "size_gib": 0.015625,
                                              "format": "qcow2", "bus": "scsi"}, status=201)
    added = made.json
    assert made.location.endswith(f"{url}/disks/sdb")
    assert (added["target"], added["bus"], added["capacity"]) == ("sdb", "scsi", 16 * MIB)
    assert block_devices(vm)["sdb"] == added["path"] == block_devices(vm, "--inactive")["sdb"]
    assert testapp.delete(f"{url}/disks/sda", status=409).json["message"].find("cdroms") > 0
    detached = testapp.delete(f"{url}/disks/sdb").json
    assert detached == {"result": "detached", "live": True, "persistent": True,
                        "pending": False}
    assert "sdb" not in block_devices(vm) and "sdb" not in block_devices(vm, "--inactive")
    testapp.get(f"/pools/{pool}/volumes/{added['volume']}", status=200)     # the volume stays

    # A NIC, live and persistent. Its live removal waits for a guest OS this VM lacks: the
    # definition loses it at once, the running VM when it stops.
    nic = testapp.post_json(f"{url}/nics", {"network": network, "model": "e1000",
                                            "mac": "52:54:00:92:00:02"}, status=201).json
    assert nic["mac"] == "52:54:00:92:00:02" and nic["model"] == "e1000"
    assert nic["mac"] in macs(vm) and nic["mac"] in macs(vm, "--inactive")
    detached = testapp.delete(f"{url}/nics/{nic['mac']}").json
    assert detached["live"] and detached["persistent"]
    assert nic["mac"] not in macs(vm, "--inactive")
    assert (nic["mac"] in macs(vm)) == detached["pending"]
    virsh("destroy", vm)
    assert nic["mac"] not in macs(vm)
    assert [n["mac"] for n in testapp.get(url).json["nics"]] == [shown["nics"][0]["mac"]]
