"""POST /vm, DELETE /vm/<uuid> and GET /capabilities on a test-driver host with a pool
(tests/nodes/provisioning.xml)."""

from pathlib import Path

import libvirt
import pytest
import webtest

from .conftest import DEMO_USERS

NODE = Path(__file__).resolve().parent / "nodes" / "provisioning.xml"
OLD_VM = "0d7a7f5e-1c2b-4c3d-8e4f-5a6b7c8d9e01"
BUSY_VM = "0d7a7f5e-1c2b-4c3d-8e4f-5a6b7c8d9e02"
TENANT_HASH = "$argon2id$v=19$m=65536,t=3,p=4$DOt07wEaM9S3NhC8+M+qBw$" \
              "+HZfHuCGB8V7A2vdFgfluBwsSdhMFwYMiNsPsbPXMNg"


@pytest.fixture
def app_settings(tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(Path(DEMO_USERS).read_text()
                     + f"\n[boss]\npassword = {TENANT_HASH}\nrole = admin\nprefix = web-\n")
    return {"virtdancer.libvirt_uri": f"test://{NODE}", "virtdancer.users_file": str(users)}


def client(app, user, password):
    made = webtest.TestApp(app)
    made.authorization = ("Basic", (user, password))
    return made


def new_vm(**changes):
    return {"name": "web-new", "vcpus": 1, "memory": 64,
            "disks": [{"pool": "default", "size_gib": 1}], **changes}


def volumes(hypervisor):
    with hypervisor.connection.session() as conn:
        return sorted(conn.storagePoolLookupByName("default").listVolumes())


def names(testapp):
    return sorted(vm["name"] for vm in testapp.get("/vm").json)


def test_capabilities_say_what_a_new_vm_may_be(app):
    answer = client(app, "viewer", "viewer").get("/capabilities").json
    assert answer["max_vcpus"] >= 1 and answer["host_memory_mib"] > 0
    assert "bios" in answer["firmware"] and "virtio" in answer["nic_models"]
    assert client(app, "viewer", "viewer").get("/hosts/default/capabilities").json == answer


def test_create_makes_the_volume_and_the_vm(testapp, hypervisor):
    response = testapp.post_json("/vm", new_vm(networks=[{"network": "default"}]), status=201)
    vm = response.json
    assert vm["name"] == "web-new" and vm["info"]["memory"] == 64 * 1024
    assert response.location.endswith(f"/vm/{vm['uuid']}")
    assert testapp.get(response.location).json["uuid"] == vm["uuid"]
    assert "web-new-disk0.qcow2" in volumes(hypervisor)
    with hypervisor.connection.session() as conn:
        xml = conn.lookupByName("web-new").XMLDesc(0)
    assert "/default-pool/web-new-disk0.qcow2" in xml and "network='default'" in xml


def test_create_under_a_host_answers_the_hosts_url(testapp):
    response = testapp.post_json("/hosts/default/vm", new_vm(start=True), status=201)
    assert f"/hosts/default/vm/{response.json['uuid']}" in response.location
    assert response.json["active"] is True


@pytest.mark.parametrize("user,password", [("viewer", "viewer"), ("tenant", "tenant")])
def test_only_admins_create(app, hypervisor, user, password):
    client(app, user, password).post_json("/vm", new_vm(), status=403)
    assert "web-new" not in names(client(app, "admin", "admin"))


def test_tenant_admin_creates_only_names_their_filters_allow(app, hypervisor):
    boss = client(app, "boss", "tenant")
    boss.post_json("/vm", new_vm(name="db-new"), status=403)
    assert "db-new-disk0.qcow2" not in volumes(hypervisor)
    boss.post_json("/vm", new_vm(), status=201)
    assert names(boss) == ["web-new"]


@pytest.mark.parametrize("name", ["", ".hidden", "-dash", "a" * 65, "sp ace", "ü"])
def test_bad_names_are_400_before_libvirt(testapp, hypervisor, name):
    testapp.post_json("/vm", new_vm(name=name), status=400)
    assert volumes(hypervisor) == ["boot.iso", "old-vm.img", "shared.img"]


@pytest.mark.parametrize("changes,words", [
    ({"vcpus": 4000}, "maximum"),
    ({"memory": 16 * 1024 * 1024}, "MiB"),
    ({"disks": [{"pool": "default", "size_gib": 5000}]}, "available"),
    ({"disks": [{"pool": "nope", "size_gib": 1}]}, "no storage pool"),
    ({"disks": [{"pool": "default", "volume": "nope"}]}, "no volume"),
])
def test_out_of_bounds_is_400_in_words(testapp, hypervisor, changes, words):
    response = testapp.post_json("/vm", new_vm(**changes), status=400)
    assert words in response.json["message"]
    assert volumes(hypervisor) == ["boot.iso", "old-vm.img", "shared.img"]


def test_taken_name_is_409_and_changes_nothing(testapp, hypervisor):
    testapp.post_json("/vm", new_vm(name="old-vm"), status=409)
    assert volumes(hypervisor) == ["boot.iso", "old-vm.img", "shared.img"]


def test_a_failing_second_disk_rolls_back_the_first(testapp, hypervisor):
    disks = [{"pool": "default", "size_gib": 1}, {"pool": "default", "volume": "nope"}]
    testapp.post_json("/vm", new_vm(disks=disks), status=400)
    assert volumes(hypervisor) == ["boot.iso", "old-vm.img", "shared.img"]
    assert "web-new" not in names(testapp)


def test_a_failing_start_rolls_back_the_definition_and_volume(testapp, hypervisor,
                                                              monkeypatch):
    def refuse(self, flags=0):
        raise libvirt.libvirtError("no room to start")
    monkeypatch.setattr(libvirt.virDomain, "create", refuse)
    testapp.post_json("/vm", new_vm(start=True), status=502)
    assert volumes(hypervisor) == ["boot.iso", "old-vm.img", "shared.img"]
    assert "web-new" not in names(testapp)


def test_delete_keeps_volumes_unless_asked(testapp, hypervisor):
    answer = testapp.delete(f"/vm/{OLD_VM}").json
    assert answer["removed"] == [] and len(answer["kept"]) == 2
    assert "old-vm" not in names(testapp)
    assert "old-vm.img" in volumes(hypervisor)
    testapp.get(f"/vm/{OLD_VM}", status=404)


def test_delete_with_volumes_removes_disks_but_never_a_cdrom(testapp, hypervisor):
    answer = testapp.delete(f"/vm/{OLD_VM}?volumes=remove").json
    assert answer["removed"] == ["/default-pool/old-vm.img"]
    assert answer["kept"] == [{"path": "/default-pool/boot.iso",
                               "reason": "a CD-ROM is never removed"}]
    assert volumes(hypervisor) == ["boot.iso", "shared.img"]


def test_delete_never_removes_a_volume_another_vm_uses(testapp, hypervisor):
    disks = [{"pool": "default", "volume": "old-vm.img"}]
    testapp.post_json("/vm", new_vm(disks=disks), status=201)
    answer = testapp.delete(f"/vm/{OLD_VM}?volumes=remove").json
    assert answer["removed"] == []
    assert {"path": "/default-pool/old-vm.img", "reason": "another VM uses it"} in answer["kept"]
    assert "old-vm.img" in volumes(hypervisor)


def test_running_vm_delete_is_409_unless_forced(testapp):
    testapp.delete(f"/vm/{BUSY_VM}", status=409)
    assert "busy-vm" in names(testapp)
    testapp.delete(f"/vm/{BUSY_VM}?force=1")
    assert "busy-vm" not in names(testapp)


@pytest.mark.parametrize("user,password", [("viewer", "viewer"), ("tenant", "tenant"),
                                           ("boss", "tenant")])
def test_only_admins_who_see_it_delete(app, user, password):
    expected = 403 if user == "viewer" else 404     # the others do not see old-vm
    client(app, user, password).delete(f"/vm/{OLD_VM}", status=expected)
    assert "old-vm" in names(client(app, "admin", "admin"))


def test_a_deleted_vm_leaves_the_newest_statistics_at_once(testapp, hypervisor):
    hypervisor.sampler.sample_once()
    assert BUSY_VM in hypervisor.sampler.latest()["vms"]
    testapp.delete(f"/vm/{BUSY_VM}?force=1")
    assert BUSY_VM not in hypervisor.sampler.latest()["vms"]
