"""PATCH /vm/<uuid>: a VM's settings, on a test-driver host (tests/nodes/provisioning.xml)."""

import libvirt
import pytest

from .test_create_vm import BUSY_VM, OLD_VM, app_settings, client  # noqa: F401


def definition(hypervisor, name):
    with hypervisor.connection.session() as conn:
        return conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def test_a_shut_off_vm_takes_every_change_at_once(testapp, hypervisor):
    answer = testapp.patch_json(f"/vm/{OLD_VM}", {
        "vcpus": 2, "max_memory": 256, "memory": 128, "autostart": True,
        "description": "the old one", "boot": ["cdrom", "hd"]}).json
    assert answer["next_boot"] == []
    assert answer["info"]["nrVirtCpu"] == 2 and answer["info"]["maxMem"] == 256 * 1024
    assert answer["info"]["memory"] == 128 * 1024
    assert answer["autostart"] is True and answer["description"] == "the old one"
    xml = definition(hypervisor, "old-vm")
    assert xml.index("<boot dev='cdrom'/>") < xml.index("<boot dev='hd'/>")
    detail = testapp.get(f"/vm/{OLD_VM}").json
    assert detail["description"] == "the old one" and detail["boot"] == ["cdrom", "hd"]


def test_the_detail_tells_a_running_vm_s_boot_order_until_its_next_boot(testapp):
    before = testapp.get(f"/vm/{BUSY_VM}").json["boot"]
    testapp.patch_json(f"/vm/{BUSY_VM}", {"boot": ["network", "hd"]})
    # The detail reads the running VM's XML (no second libvirt call for the definition).
    assert testapp.get(f"/vm/{BUSY_VM}").json["boot"] == before != ["network", "hd"]


def test_description_is_in_the_detail_not_in_lists(testapp):
    assert testapp.get(f"/vm/{OLD_VM}").json["description"] == ""
    assert all("description" not in vm for vm in testapp.get("/vm?detail=1").json)
    testapp.patch_json(f"/vm/{OLD_VM}", {"description": "x"})
    testapp.patch_json(f"/vm/{OLD_VM}", {"description": ""})
    assert testapp.get(f"/vm/{OLD_VM}").json["description"] == ""


def test_a_running_vm_says_what_waits_for_its_next_boot(testapp, hypervisor):
    answer = testapp.patch_json(f"/vm/{BUSY_VM}", {"memory": 32, "max_memory": 128,
                                                   "boot": ["network", "hd"]}).json
    # The test driver balloons memory live; a maximum and a boot order wait for a boot.
    assert answer["next_boot"] == ["max_memory", "boot"]
    assert answer["info"]["memory"] == 32 * 1024
    assert "<memory unit='KiB'>131072</memory>" in definition(hypervisor, "busy-vm")


def test_a_live_change_libvirt_cannot_make_waits(testapp, monkeypatch):
    def refuse(self, count, flags=0):
        if flags & libvirt.VIR_DOMAIN_AFFECT_LIVE:
            raise libvirt.libvirtError("vCPU hot-plug is not supported")
        return 0
    monkeypatch.setattr(libvirt.virDomain, "setVcpusFlags", refuse)
    answer = testapp.patch_json(f"/vm/{BUSY_VM}", {"vcpus": 2}).json
    assert answer["next_boot"] == ["vcpus"]


@pytest.mark.parametrize("body,words", [
    ({}, "at least one"),
    ({"unknown": 1}, "Unrecognized"),
    ({"memory": 32, "colour": "blue"}, "Unrecognized"),
    ({"description": {}}, "text"),                 # found by schemathesis: taken as "{}"
    ({"description": 7}, "text"),
    ({"max_memory": {}, "memory": 1}, "whole number"),    # found by schemathesis: left out
    ({"vcpus": True}, "whole number"),
    ({"memory": ""}, "whole number"),
    ({"vcpus": 1.5}, "whole number"),
    ({"vcpus": 0}, "vcpus"),
    ({"vcpus": 4000}, "maximum"),
    ({"memory": 16 * 1024 * 1024}, "MiB"),
    ({"memory": 128}, "maximum memory of 64 MiB"),
    ({"max_memory": 32, "memory": 48}, "maximum memory of 32 MiB"),
    ({"max_memory": 32}, "raise max_memory"),
    ({"boot": ["hd", "hd"]}, "once"),
    ({"boot": ["floppy"]}, "boot"),
    ({"boot": []}, "boot"),
    ({"description": "x" * 4097}, "description"),
    ({"description": "bell \x07"}, "control character"),
    ({"autostart": "yes"}, "true or false"),
])
def test_bad_changes_are_400_and_change_nothing(testapp, hypervisor, body, words):
    before = definition(hypervisor, "old-vm")
    response = testapp.patch_json(f"/vm/{OLD_VM}", body, status=400)
    assert words in response.json["message"] or words in str(response.json["errors"])
    assert definition(hypervisor, "old-vm") == before


def test_a_failure_half_way_restores_the_definition(testapp, hypervisor, monkeypatch):
    before = definition(hypervisor, "old-vm")

    def refuse(self, flag):
        raise libvirt.libvirtError("autostart link not writable")
    monkeypatch.setattr(libvirt.virDomain, "setAutostart", refuse)
    testapp.patch_json(f"/vm/{OLD_VM}", {"memory": 32, "autostart": True}, status=502)
    assert definition(hypervisor, "old-vm") == before


def test_a_transient_vm_has_no_definition_to_edit(testapp, hypervisor):
    with hypervisor.connection.session() as conn:
        dom = conn.createXML("<domain type='test'><name>fleeting</name><memory>65536</memory>"
                             "<os><type>hvm</type></os></domain>", 0)
        uuid = dom.UUIDString()
    answer = testapp.patch_json(f"/vm/{uuid}", {"memory": 32}, status=409).json
    assert "transient" in answer["message"]


@pytest.mark.parametrize("user,password,status", [("viewer", "viewer", 403),
                                                  ("tenant", "tenant", 404),
                                                  ("boss", "tenant", 404)])
def test_only_admins_who_see_it_edit(app, hypervisor, user, password, status):
    before = definition(hypervisor, "old-vm")
    client(app, user, password).patch_json(f"/vm/{OLD_VM}", {"memory": 32}, status=status)
    assert definition(hypervisor, "old-vm") == before


def test_under_a_host_too(testapp):
    answer = testapp.patch_json(f"/hosts/default/vm/{OLD_VM}", {"vcpus": 3}).json
    assert answer["info"]["nrVirtCpu"] == 3
