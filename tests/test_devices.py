"""The devices of a VM on the test driver: the detail's disks, CD-ROMs, NICs and graphics, and
every refusal of the device changes. libvirt's test driver cannot attach, detach or update a
device (a 501 here); tests/real/test_devices.py makes those changes on QEMU."""

from typing import ClassVar

import libvirt
import pytest
import webtest

from virtdancer.hypervisor import domainxml
from virtdancer.hypervisor.device_detail import guest_addresses

from .conftest import BUILD_1, WEB_1

DB_1 = "c3d7f0e8-5b26-4a91-8c4f-7d2e1b9a6c33"      # shut off, with a CD-ROM drive (sda)
ISO = {"pool": "default", "volume": "debian-12-netinst.iso"}
UNSUPPORTED = 501


def as_user(app, name):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (name, name))
    return client


def volumes(testapp):
    return sorted(volume["name"] for volume in testapp.get("/pools/default/volumes").json)


# -- the detail -------------------------------------------------------------------------------

def test_the_detail_of_one_vm_lists_its_devices(testapp):
    vm = testapp.get(f"/vm/{DB_1}").json
    assert vm["name"] == "db-1" and vm["info"]["nrVirtCpu"] == 4    # the seed's fields stay
    assert vm["disks"] == [{
        "target": "vda", "bus": "virtio", "device": "disk", "pool": "default",
        "volume": "db-1.qcow2", "path": "/var/lib/libvirt/images/db-1.qcow2",
        "format": "qcow2", "capacity": 100 * 1024 ** 3, "allocation": 40 * 1024 ** 3,
        "readonly": False}]
    assert vm["cdroms"] == [{"target": "sda", "bus": "sata", "pool": "default",
                             "volume": "debian-12-netinst.iso",
                             "path": "/var/lib/libvirt/images/debian-12-netinst.iso"}]
    assert vm["nics"] == [{"mac": "52:54:00:3a:10:03", "model": "virtio",
                           "network": "default", "bridge": None, "addresses": []}]
    assert vm["graphics"] == []
    assert vm["boot"] == ["hd"]


def test_a_running_vm_shows_its_leased_address(testapp):
    [nic] = testapp.get(f"/hosts/default/vm/{WEB_1}").json["nics"]
    assert nic["mac"] == "52:54:00:3a:10:01"
    assert nic["addresses"] == [{"address": "192.168.122.129", "prefix": 24, "type": "ipv4",
                                 "source": "lease"}]


def test_the_lists_carry_no_devices(testapp):
    listed = testapp.get("/vm?detail=1").json
    assert listed and all("disks" not in vm and "nics" not in vm for vm in listed)


def test_a_disk_outside_any_pool_has_no_pool_and_unknown_size():
    xml = ("<domain><devices><disk type='file' device='disk'><source file='/nowhere.img'/>"
           "<target dev='hdb' bus='ide'/><readonly/></disk>"
           "<graphics type='vnc' port='-1' autoport='yes'><listen type='address' "
           "address='127.0.0.1'/></graphics><graphics type='spice' port='5901'/>"
           "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' "
           "state='connected'/></channel></devices></domain>")
    devices = domainxml.parse(xml)
    [disk] = devices.disks
    assert (disk.target, disk.bus, disk.path, disk.readonly) == ("hdb", "ide", "/nowhere.img",
                                                                  True)
    assert [g._asdict() for g in devices.graphics] == [
        {"type": "vnc", "port": None, "listen": "127.0.0.1"},
        {"type": "spice", "port": 5901, "listen": None}]
    assert devices.guest_agent is True


def test_the_boot_order_is_that_of_os_not_of_the_devices():
    assert domainxml.parse("<domain><os><type>hvm</type><boot dev='cdrom'/><boot dev='hd'/>"
                           "<boot dev='fd'/></os></domain>").boot == ("cdrom", "hd", "fd")
    # A per-device order names drives, not kinds of device: the detail says [] for it.
    assert domainxml.parse("<domain><os><type>hvm</type></os><devices><disk type='file' "
                           "device='disk'><target dev='vda'/><boot order='1'/></disk>"
                           "</devices></domain>").boot == ()


def test_the_next_free_target_of_a_bus():
    assert domainxml.next_target({"vda", "sda"}, "virtio") == "vdb"
    assert domainxml.next_target(set(), "sata") == "sda"
    assert domainxml.next_target({"hda"}, "ide") == "hdb"
    assert domainxml.next_target({f"vd{chr(c)}" for c in range(97, 123)}, "virtio") == "vdaa"


class GuestWithAnAgent:
    """A running VM whose guest agent knows one NIC, and whose leases know both."""

    AGENT: ClassVar = {"eth0": {"hwaddr": "52:54:00:00:00:01", "addrs": [
        {"addr": "10.0.0.5", "prefix": 24, "type": libvirt.VIR_IP_ADDR_TYPE_IPV4},
        {"addr": "fe80::1", "prefix": 64, "type": libvirt.VIR_IP_ADDR_TYPE_IPV6}]},
        "lo": {"hwaddr": "00:00:00:00:00:00", "addrs": [
            {"addr": "127.0.0.1", "prefix": 8, "type": libvirt.VIR_IP_ADDR_TYPE_IPV4}]}}
    LEASES: ClassVar = {"vnet0": {"hwaddr": "52:54:00:00:00:01", "addrs": [
        {"addr": "10.0.0.99", "prefix": 24, "type": libvirt.VIR_IP_ADDR_TYPE_IPV4}]},
        "vnet1": {"hwaddr": "52:54:00:00:00:02", "addrs": [
            {"addr": "10.0.1.7", "prefix": 24, "type": libvirt.VIR_IP_ADDR_TYPE_IPV4}]}}

    def __init__(self, agent_answers=True):
        self.agent_answers = agent_answers

    def interfaceAddresses(self, source, flags):
        if source == libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT:
            if not self.agent_answers:
                raise libvirt.libvirtError("Guest agent is not responding")
            return self.AGENT
        return self.LEASES


def agent_devices(connected):
    state = "connected" if connected else "disconnected"
    return domainxml.parse(f"<domain><devices><channel type='unix'><target type='virtio' "
                           f"name='org.qemu.guest_agent.0' state='{state}'/></channel>"
                           f"</devices></domain>")


def test_the_guest_agent_answers_first_and_leases_fill_in():
    found = guest_addresses(GuestWithAnAgent(), agent_devices(True))
    assert found["52:54:00:00:00:01"] == [
        {"address": "10.0.0.5", "prefix": 24, "type": "ipv4", "source": "agent"},
        {"address": "fe80::1", "prefix": 64, "type": "ipv6", "source": "agent"}]
    assert found["52:54:00:00:00:02"] == [{"address": "10.0.1.7", "prefix": 24,
                                          "type": "ipv4", "source": "lease"}]


@pytest.mark.parametrize("connected, answers", [(False, True), (True, False)])
def test_without_an_agent_the_leases_tell(connected, answers):
    found = guest_addresses(GuestWithAnAgent(answers), agent_devices(connected))
    assert {address["source"] for addresses in found.values() for address in addresses} == {
        "lease"}
    assert found["52:54:00:00:00:01"][0]["address"] == "10.0.0.99"


# -- CD-ROM media -----------------------------------------------------------------------------

def test_inserting_and_ejecting_ask_libvirt(testapp):
    # The test driver has no virDomainUpdateDeviceFlags: everything before the call passed.
    answer = testapp.put_json(f"/vm/{DB_1}/cdroms/sda", ISO, status=UNSUPPORTED).json
    assert "not supported" in answer["message"]
    testapp.delete(f"/vm/{DB_1}/cdroms/sda", status=UNSUPPORTED)


def test_another_vms_disk_is_no_medium(testapp):
    # A CD-ROM reads the volume: another VM's disk would show its data to this VM's users.
    answer = testapp.put_json(f"/vm/{DB_1}/cdroms/sda", {"pool": "default",
                                                         "volume": "web-2.qcow2"}, status=409)
    assert "web-2.qcow2 is used by web-2" in answer.json["message"]


@pytest.mark.parametrize("target, body, words", [
    ("sdb", ISO, "no drive sdb"),
    ("vda", ISO, "vda is a disk"),
    ("sda", {"pool": "default", "volume": "missing.iso"}, "missing.iso"),
    ("sda", {"pool": "nopool", "volume": "x.iso"}, "nopool"),
])
def test_an_unknown_drive_or_volume_is_a_404(testapp, target, body, words):
    answer = testapp.put_json(f"/vm/{DB_1}/cdroms/{target}", body, status=404).json
    assert words in answer["message"]


@pytest.mark.parametrize("body", [{}, {"pool": "default"}, {"pool": "../x", "volume": "a"},
                                  {"pool": "default", "volume": ""}])
def test_a_bad_medium_body_is_a_400(testapp, body):
    testapp.put_json(f"/vm/{DB_1}/cdroms/sda", body, status=400)


def test_a_malformed_target_is_a_404(testapp):
    testapp.put_json(f"/vm/{DB_1}/cdroms/SDA", ISO, status=404)
    testapp.delete(f"/vm/{DB_1}/disks/a..b", status=404)


def test_operators_change_media_and_viewers_do_not(app):
    tenant, viewer = as_user(app, "tenant"), as_user(app, "viewer")
    tenant.put_json(f"/vm/{WEB_1}/cdroms/sda", ISO, status=404)    # allowed; web-1 has none
    viewer.put_json(f"/vm/{WEB_1}/cdroms/sda", ISO, status=403)
    viewer.delete(f"/vm/{DB_1}/cdroms/sda", status=403)


# -- disks ------------------------------------------------------------------------------------

def test_a_new_disk_is_made_and_deleted_again_when_the_attach_fails(testapp):
    before = volumes(testapp)
    testapp.post_json(f"/vm/{DB_1}/disks", {"pool": "default", "size_gib": 0.01,
                                            "format": "raw"}, status=UNSUPPORTED)
    assert volumes(testapp) == before


def test_a_volume_another_vm_uses_is_a_409_naming_it(testapp):
    answer = testapp.post_json(f"/vm/{DB_1}/disks", {"pool": "default",
                                                     "volume": "web-2.qcow2"}, status=409)
    assert "web-2" in answer.json["message"]
    # A CD-ROM's ISO too: a disk would write to what another VM reads.
    answer = testapp.post_json(f"/vm/{WEB_1}/disks", ISO, status=409)
    assert "db-1" in answer.json["message"]


@pytest.mark.parametrize("body, status, words", [
    ({"pool": "default", "size_gib": 0.01, "target": "sdb"}, 400, "virtio bus"),
    ({"pool": "default", "size_gib": 0.01, "target": "vda"}, 409, "vda already"),
    ({"pool": "default", "size_gib": 0.01, "live": True}, 409, "not running"),
    ({"pool": "default", "size_gib": 0.01, "persistent": False}, 400, "nothing would change"),
    ({"pool": "default", "size_gib": 60000}, 400, "available"),
    ({"pool": "nopool", "size_gib": 0.01}, 404, "nopool"),
    ({"pool": "default", "volume": "missing.qcow2"}, 404, "missing.qcow2"),
])
def test_disk_refusals_change_nothing(testapp, body, status, words):
    before = volumes(testapp), testapp.get(f"/vm/{DB_1}").json["disks"]
    answer = testapp.post_json(f"/vm/{DB_1}/disks", body, status=status).json
    assert words in answer["message"]
    assert (volumes(testapp), testapp.get(f"/vm/{DB_1}").json["disks"]) == before


@pytest.mark.parametrize("body", [
    {"pool": "default"},
    {"pool": "default", "size_gib": 1, "volume": "db-1.qcow2"},
    {"pool": "default", "size_gib": 1, "bus": "floppy"},
    {"pool": "default", "size_gib": 1, "format": "vmdk"},
    {"pool": "default", "size_gib": 0},
    {"pool": "default", "size_gib": 1, "target": "vd1"},
    {"pool": "default", "size_gib": 1, "live": "yes"},
])
def test_a_bad_disk_body_is_a_400(testapp, body):
    testapp.post_json(f"/vm/{DB_1}/disks", body, status=400)


def test_detaching_disks(testapp):
    answer = testapp.delete(f"/vm/{DB_1}/disks/sda", status=409).json
    assert f"/vm/{DB_1}/cdroms/sda" in answer["message"]
    assert "no drive vdb" in testapp.delete(f"/vm/{DB_1}/disks/vdb", status=404).json["message"]
    testapp.delete(f"/vm/{DB_1}/disks/vda", status=UNSUPPORTED)
    testapp.delete(f"/vm/{DB_1}/disks/vda?live=1", status=409)        # it is not running
    testapp.delete(f"/vm/{DB_1}/disks/vda?live=maybe", status=400)


# -- NICs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, status, words", [
    ({"network": "nonet"}, 404, "nonet"),
    ({"network": "default", "mac": "52:54:00:3A:10:01"}, 409, "52:54:00:3a:10:01"),
    ({"network": "default"}, UNSUPPORTED, "not supported"),
    ({"bridge": "br0", "model": "e1000", "persistent": True}, UNSUPPORTED, "not supported"),
])
def test_attaching_nics(testapp, body, status, words):
    assert words in testapp.post_json(f"/vm/{DB_1}/nics", body, status=status).json["message"]


@pytest.mark.parametrize("body", [
    {}, {"network": "default", "bridge": "br0"}, {"network": "default", "model": "ne2k"},
    {"network": "default", "mac": "01:00:5e:00:00:01"}, {"network": "default", "mac": "xx"},
    {"bridge": "a-bridge-name-too-long"},
])
def test_a_bad_nic_body_is_a_400(testapp, body):
    testapp.post_json(f"/vm/{DB_1}/nics", body, status=400)


def test_detaching_nics(testapp):
    testapp.delete(f"/vm/{DB_1}/nics/52:54:00:3a:10:09", status=404)
    testapp.delete(f"/vm/{DB_1}/nics/52:54:00:3A:10:03", status=UNSUPPORTED)
    testapp.delete(f"/vm/{DB_1}/nics/not-a-mac", status=404)


# -- who may -----------------------------------------------------------------------------------

DEVICE_WRITES = [
    ("PUT", "cdroms/sda", ISO),
    ("DELETE", "cdroms/sda", None),
    ("POST", "disks", {"pool": "default", "size_gib": 0.01}),
    ("DELETE", "disks/vda", None),
    ("POST", "nics", {"network": "default"}),
    ("DELETE", "nics/52:54:00:3a:10:04", None),
]


@pytest.mark.parametrize("method, path, body", DEVICE_WRITES)
def test_a_hidden_vm_is_a_404_on_every_device_route(app, method, path, body):
    tenant = as_user(app, "tenant")     # sees web-* only
    for url in (f"/vm/{BUILD_1}/{path}", f"/hosts/default/vm/{BUILD_1}/{path}"):
        answer = tenant.request(url, method=method, json=body, expect_errors=True)
        assert answer.status_int == 404
    assert as_user(app, "tenant").get(f"/vm/{BUILD_1}", status=404)


@pytest.mark.parametrize("method, path, body", DEVICE_WRITES[2:])
def test_only_admins_attach_and_detach(app, method, path, body):
    for user in ("viewer", "tenant"):
        answer = as_user(app, user).request(f"/vm/{WEB_1}/{path}", method=method, json=body,
                                             expect_errors=True)
        assert answer.status_int == 403


def test_a_sata_or_ide_disk_is_not_hot_plugged(testapp):
    before = volumes(testapp)
    for bus in ("sata", "ide"):
        answer = testapp.post_json(f"/vm/{WEB_1}/disks", {"pool": "default", "size_gib": 0.01,
                                                          "bus": bus}, status=409).json
        assert "live=false" in answer["message"]
    assert volumes(testapp) == before
