"""Making, editing, cloning and deleting a VM on qemu:///system, checked with virsh at each step.

A `dir` pool in a temporary folder and a NAT network on 10.232.91.0/24; a VM with a new 16 MiB
qcow2 disk and a NIC on that network, started, its memory changed, its XML read and replaced,
cloned once shut off, and both deleted with their volumes. Every refusal (bad XML, a name
taken, cloning a running VM) changes nothing. Everything made here is named `vdedit-<random>`.
"""

import os
import re
import secrets
import shutil
import tempfile

import pytest

from ..test_tasks import finished
from .conftest import virsh

SUBNET = "10.232.91.0/24"


@pytest.fixture
def folder():
    """A temporary folder QEMU may read (it runs as its own user; pytest's tmp_path is
    root's alone)."""
    path = tempfile.mkdtemp(prefix="vdedit-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def names():
    tag = secrets.token_hex(3)
    made = {"pool": f"vdedit-pool-{tag}", "net": f"vdedit-net-{tag}", "vm": f"vdedit-vm-{tag}",
            "copy": f"vdedit-copy-{tag}"}
    yield made
    # Whatever a failed test left: the VMs and their volumes, the pool, the network.
    for vm in (made["vm"], made["copy"]):
        virsh("destroy", vm, check=False)
        virsh("undefine", vm, "--remove-all-storage", check=False)
    virsh("pool-destroy", made["pool"], check=False)
    virsh("pool-undefine", made["pool"], check=False)
    virsh("net-destroy", made["net"], check=False)
    virsh("net-undefine", made["net"], check=False)


def dominfo(name):
    """`virsh dominfo` as {field: value}."""
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in virsh("dominfo", name).splitlines())}


def saved_xml(name):
    return virsh("dumpxml", "--inactive", name)


def volume_names(pool):
    return sorted(line.split()[0] for line in virsh("vol-list", pool).splitlines()[2:] if line)


def macs(name):
    return re.findall(r"([0-9a-f]{2}(?::[0-9a-f]{2}){5})", virsh("domiflist", name))


def test_make_edit_clone_and_delete_a_vm(testapp, names, folder):
    pool, net, vm, copy = names["pool"], names["net"], names["vm"], names["copy"]
    testapp.post_json("/networks", {"name": net, "subnet": SUBNET, "start": True}, status=201)
    testapp.post_json("/pools", {"name": pool, "path": f"{folder}/pool"}, status=201)

    made = testapp.post_json("/vm", {
        "name": vm, "vcpus": 1, "memory": 48,
        "disks": [{"pool": pool, "size_gib": 16 / 1024, "format": "qcow2"}],
        "networks": [{"network": net}], "description": "made by the ring",
        "start": True}, status=201).json
    uuid = made["uuid"]
    info = dominfo(vm)
    assert info["State"] == "running" and info["CPU(s)"] == "1"
    assert info["Max memory"] == f"{48 * 1024} KiB"
    assert volume_names(pool) == [f"{vm}-disk0.qcow2"]
    assert testapp.get(f"/vm/{uuid}").json["description"] == "made by the ring"

    # While it runs: a higher maximum waits for the next boot; less memory applies live when
    # QEMU's balloon takes it, else it waits too. Both are in the saved definition at once.
    edited = testapp.patch_json(f"/vm/{uuid}", {"max_memory": 64, "memory": 40}).json
    assert "max_memory" in edited["next_boot"]
    assert set(edited["next_boot"]) <= {"max_memory", "memory"}
    assert dominfo(vm)["Max memory"] == f"{48 * 1024} KiB"
    xml = saved_xml(vm)
    assert f"<memory unit='KiB'>{64 * 1024}</memory>" in xml
    assert f"<currentMemory unit='KiB'>{40 * 1024}</currentMemory>" in xml

    # A running VM is not cloned: refused before a task is made, and it makes no volume.
    refused = testapp.post_json(f"/vm/{uuid}/clone", {"name": copy}, status=409).json
    assert "running" in refused["message"]
    assert volume_names(pool) == [f"{vm}-disk0.qcow2"] and copy not in virsh("list", "--all")

    testapp.post_json(f"/vm/{uuid}/action", {"action": "destroy"})
    info = dominfo(vm)
    assert info["State"] == "shut off" and info["Max memory"] == f"{64 * 1024} KiB"
    assert info["Used memory"] == f"{40 * 1024} KiB"
    assert testapp.patch_json(f"/vm/{uuid}", {"vcpus": 2}).json["next_boot"] == []
    assert dominfo(vm)["CPU(s)"] == "2"

    # The XML: read, replaced under its ETag, refused when libvirt or VirtDancer says no.
    response = testapp.get(f"/vm/{uuid}/xml")
    assert response.text == saved_xml(vm) + "\n" or response.text.strip() == saved_xml(vm)
    etag = response.headers["ETag"]
    headers = {"Content-Type": "application/xml", "If-Match": etag}
    before = saved_xml(vm)
    bad = response.text.replace("<vcpu placement='static'>2</vcpu>", "<vcpu>two</vcpu>")
    answer = testapp.put(f"/vm/{uuid}/xml", bad.encode(), headers=headers, status=400).json
    assert "vcpu" in answer["message"].lower()
    unknown = response.text.replace("</devices>", "<gizmo/></devices>")
    testapp.put(f"/vm/{uuid}/xml", unknown.encode(), headers=headers, status=400)
    assert saved_xml(vm) == before
    new = response.text.replace("<vcpu placement='static'>2</vcpu>",
                                "<vcpu placement='static'>1</vcpu>")
    replaced = testapp.put(f"/vm/{uuid}/xml", new.encode(), headers=headers)
    assert replaced.json["info"]["nrVirtCpu"] == 1 and dominfo(vm)["CPU(s)"] == "1"
    assert replaced.headers["ETag"] == testapp.get(f"/vm/{uuid}/xml").headers["ETag"] != etag
    testapp.put(f"/vm/{uuid}/xml", new.encode(), headers=headers, status=412)

    # A name taken: as XML and as a form, nothing is made.
    testapp.post("/vm", new.encode(), headers={"Content-Type": "application/xml"}, status=409)
    testapp.post_json("/vm", {"name": vm, "vcpus": 1, "memory": 32,
                              "disks": [{"pool": pool, "size_gib": 0.01}]}, status=409)
    assert volume_names(pool) == [f"{vm}-disk0.qcow2"]

    # The clone: a new UUID, a new MAC, its own copy of the disk.
    accepted = testapp.post_json(f"/vm/{uuid}/clone", {"name": copy}, status=202)
    assert accepted.json["type"] == "clone" and accepted.json["vm"]["uuid"] == uuid
    done = finished(testapp, accepted.location, timeout=120)
    assert done["state"] == "done", done
    cloned = done["result"]
    assert cloned["url"].endswith(f"/vm/{cloned['uuid']}")
    assert cloned["uuid"] != uuid and copy in virsh("list", "--all", "--name").split()
    assert volume_names(pool) == sorted([f"{vm}-disk0.qcow2", f"{copy}-disk0.qcow2"])
    assert f"{copy}-disk0.qcow2" in saved_xml(copy)
    assert macs(copy) and macs(copy) != macs(vm)
    assert dominfo(copy)["Max memory"] == f"{64 * 1024} KiB"

    for gone, its_uuid in ((vm, uuid), (copy, cloned["uuid"])):
        deleted = testapp.delete(f"/vm/{its_uuid}?volumes=remove").json
        assert [path.rsplit("/", 1)[1] for path in deleted["removed"]] == [
            f"{gone}-disk0.qcow2"]
    assert volume_names(pool) == []
    listed = virsh("list", "--all", "--name").split()
    assert vm not in listed and copy not in listed
