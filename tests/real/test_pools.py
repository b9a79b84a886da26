"""Storage pools and volumes on qemu:///system: a dir pool in a temporary folder, a qcow2 volume
made and grown, a volume a defined VM uses refused for deletion (and its pool), an upload
streamed through a virStream, and nothing left behind.

Everything made here is named `vdh1-<random>`.
"""

import hashlib
import json
import secrets
import subprocess

import pytest

from ..test_tasks import finished
from .conftest import MEMORY_KIB, virsh

MIB = 1024 * 1024


def vm_xml(name, disk):
    return f"""<domain type='qemu'><name>{name}</name>
  <memory unit='KiB'>{MEMORY_KIB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='{disk}'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>"""


@pytest.fixture
def names():
    tag = secrets.token_hex(4)
    made = {"pool": f"vdh1-pool-{tag}", "vm": f"vdh1-vm-{tag}"}
    yield made
    # Whatever a failed test left: the VM, then the pool (its files go with the tmp folder).
    virsh("undefine", made["vm"], check=False)
    virsh("pool-destroy", made["pool"], check=False)
    virsh("pool-undefine", made["pool"], check=False)


def test_pools_and_volumes_on_a_real_host(testapp, names, tmp_path):
    pool, vm = names["pool"], names["vm"]
    folder = tmp_path / "pool"
    made = testapp.post_json("/pools", {"name": pool, "path": str(folder)}, status=201).json
    assert made["state"] == "running" and made["type"] == "dir" and folder.is_dir()
    assert made["name"] in [row["name"] for row in testapp.get("/pools").json]

    base = f"/pools/{pool}/volumes"
    accepted = testapp.post_json(base, {"name": "vdh1-disk.qcow2", "format": "qcow2",
                                        "capacity_mib": 16}, status=202)
    done = finished(testapp, accepted.location, timeout=60)
    assert done["state"] == "done" and done["type"] == "create_volume", done
    disk = done["result"]
    assert disk["url"].endswith(f"{base}/vdh1-disk.qcow2")
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", disk["path"]],
                                     capture_output=True, check=True, text=True).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 16 * MIB

    grown = testapp.patch_json(f"{base}/vdh1-disk.qcow2", {"capacity_mib": 32}).json
    assert grown["capacity"] == 32 * MIB
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", disk["path"]],
                                     capture_output=True, check=True, text=True).stdout)
    assert info["virtual-size"] == 32 * MIB
    testapp.patch_json(f"{base}/vdh1-disk.qcow2", {"capacity_mib": 8}, status=400)

    definition = tmp_path / "vm.xml"
    definition.write_text(vm_xml(vm, disk["path"]))
    virsh("define", str(definition))
    listed = {row["name"]: row for row in testapp.get(base).json}
    assert [user["name"] for user in listed["vdh1-disk.qcow2"]["used_by"]] == [vm]
    refused = testapp.delete(f"{base}/vdh1-disk.qcow2", status=409)
    assert vm in refused.json["message"]
    assert vm in testapp.delete(f"/pools/{pool}", status=409).json["message"]

    # 20 MiB into a volume the request makes (201), then again into the same volume (200).
    data = secrets.token_bytes(20 * MIB)
    uploaded = testapp.put(f"{base}/vdh1-up.raw/content", data,
                           content_type="application/octet-stream", status=201).json
    again = secrets.token_bytes(20 * MIB)
    testapp.put(f"{base}/vdh1-up.raw/content", again, content_type="application/octet-stream",
                status=200)
    data = again
    on_disk = (folder / "vdh1-up.raw").read_bytes()
    assert len(on_disk) == 20 * MIB == uploaded["capacity"]
    assert hashlib.sha256(on_disk).hexdigest() == hashlib.sha256(data).hexdigest()

    virsh("undefine", vm)
    testapp.delete(f"{base}/vdh1-disk.qcow2")
    testapp.delete(f"{base}/vdh1-up.raw")
    assert testapp.get(base).json == []
    assert virsh("vol-list", pool).count("vdh1-") == 0
    testapp.delete(f"/pools/{pool}")
    assert pool not in virsh("pool-list", "--all")
    assert folder.is_dir()      # the folder stays: deleting a pool never deletes its files
