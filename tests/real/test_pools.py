"""Storage pools and volumes on qemu:///system: a dir pool in a temporary folder, a qcow2 volume
made and grown, a volume a defined VM uses refused for deletion (and its pool), an upload
streamed through a virStream, and nothing left behind.

Everything made here is named `vdh1-<random>`.
"""

import hashlib
import json
import secrets
import subprocess
import time
import urllib.request

import pytest

from virtdancer.hypervisor import volume_content
from virtdancer.tasks.runner import TaskRunner
from virtdancer.views import taken_body

from ..conftest import Server
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


def upload(testapp, url, data):
    """PUT `data` as the volume's content; the task once it has ended, done."""
    accepted = testapp.put(f"{url}/content", data, content_type="application/octet-stream",
                           status=202)
    done = finished(testapp, accepted.location, timeout=120)
    assert done["state"] == "done" and done["type"] == "upload_volume", done
    return done


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

    # 20 MiB into a volume the task makes, then again into the same volume.
    data = secrets.token_bytes(20 * MIB)
    uploaded = upload(testapp, f"{base}/vdh1-up.raw", data)["result"]
    assert uploaded["created"] is True
    again = secrets.token_bytes(20 * MIB)
    assert upload(testapp, f"{base}/vdh1-up.raw", again)["result"]["created"] is False
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


# -- uploads and copies as tasks (names `h11-<random>`) -----------------------------------------

@pytest.fixture
def pool(testapp, tmp_path):
    """A running dir pool of this test's own; `pool.folder` is its folder."""
    name = f"h11-pool-{secrets.token_hex(4)}"
    folder = tmp_path / "pool"
    testapp.post_json("/pools", {"name": name, "path": str(folder)}, status=201)
    yield name, folder
    for volume in virsh("vol-list", name, check=False).split():
        if volume.startswith("h11-"):
            virsh("vol-delete", volume, "--pool", name, check=False)
    virsh("pool-destroy", name, check=False)
    virsh("pool-undefine", name, check=False)


@pytest.fixture
def progress_seen(monkeypatch):
    """Every progress a task reported, in order."""
    seen = []
    report = TaskRunner._set_progress

    def recorded(runner, context, fraction):
        seen.append(fraction)
        report(runner, context, fraction)

    monkeypatch.setattr(TaskRunner, "_set_progress", recorded)
    return seen


def test_an_upload_streams_with_progress_from_the_bytes_sent(testapp, pool, progress_seen):
    name, folder = pool
    data = secrets.token_bytes(4 * MIB)
    done = upload(testapp, f"/pools/{name}/volumes/h11-up.raw", data)
    assert done["result"]["created"] is True and done["progress"] == 1.0
    assert (folder / "h11-up.raw").read_bytes() == data
    between = [fraction for fraction in progress_seen if 0 < fraction < 1]
    assert len(between) >= 8 and between == sorted(between), progress_seen


def test_a_cancelled_upload_leaves_no_volume(testapp, pool, monkeypatch):
    name, folder = pool
    send = volume_content._send_all

    def slow(stream, data):         # a slow disk: long enough to be cancelled half-way
        time.sleep(0.05)
        send(stream, data)

    monkeypatch.setattr(volume_content, "_send_all", slow)
    accepted = testapp.put(f"/pools/{name}/volumes/h11-gone.raw/content",
                           secrets.token_bytes(8 * MIB), status=202,
                           content_type="application/octet-stream")
    deadline = time.monotonic() + 30
    while not (testapp.get(accepted.location).json["progress"] or 0) > 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    testapp.delete(accepted.location)
    done = finished(testapp, accepted.location, timeout=30)
    assert done["state"] == "cancelled", done
    assert "h11-gone.raw" not in virsh("vol-list", name)
    assert not (folder / "h11-gone.raw").exists()


def test_a_clone_of_a_qcow2_volume_has_the_same_bytes(testapp, pool, tmp_path):
    name, folder = pool
    other = testapp.post_json("/pools", {"name": f"{name}-2", "path": str(tmp_path / "p2")},
                              status=201).json["name"]
    try:
        original = folder / "h11-orig.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(original), "16M"],
                       check=True)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 3M", str(original)],
                       check=True, capture_output=True)
        testapp.post_json(f"/pools/{name}/action", {"action": "refresh"})
        base = f"/pools/{name}/volumes/h11-orig.qcow2/clone"
        same = finished(testapp, testapp.post_json(base, {"name": "h11-copy.qcow2"},
                                                   status=202).location, timeout=120)
        assert same["state"] == "done" and same["result"]["format"] == "qcow2", same
        raw = finished(testapp, testapp.post_json(base, {"name": "h11-copy.raw", "pool": other,
                                                         "format": "raw"},
                                                  status=202).location, timeout=120)
        assert raw["state"] == "done" and raw["result"]["format"] == "raw", raw
        for copy in (same["result"]["path"], raw["result"]["path"]):
            subprocess.run(["qemu-img", "compare", "-q", str(original), copy], check=True)
        testapp.post_json(base, {"name": "h11-copy.qcow2"}, status=409)
    finally:
        for volume in virsh("vol-list", other, check=False).split():
            if volume.startswith("h11-"):
                virsh("vol-delete", volume, "--pool", other, check=False)
        virsh("pool-destroy", other, check=False)
        virsh("pool-undefine", other, check=False)


def test_waitress_keeps_a_large_body_in_a_file_that_the_task_takes_over(app, testapp, pool,
                                                                        monkeypatch):
    """Through waitress, as in production: a body above its in-memory buffer (512 KiB) is a
    temporary file, taken by a duplicated descriptor (no copy) and read after the request."""
    name, folder = pool
    files = []
    regular = taken_body._regular_file
    monkeypatch.setattr(taken_body, "_regular_file",
                        lambda source: files.append(regular(source)) or files[-1])
    data = secrets.token_bytes(3 * MIB)
    server = Server(app)
    try:
        request = urllib.request.Request(
            f"{server.url}pools/{name}/volumes/h11-waitress.raw/content", data=data,
            method="PUT", headers={"Content-Type": "application/octet-stream",
                                   "Authorization": "Basic YWRtaW46YWRtaW4="})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 202
            location = answer.headers["Location"]
    finally:
        server.close()
    done = finished(testapp, location[location.index("/tasks/"):], timeout=60)
    assert done["state"] == "done", done
    assert files and files[0] is not None      # a file of waitress's, not a copy
    assert (folder / "h11-waitress.raw").read_bytes() == data
