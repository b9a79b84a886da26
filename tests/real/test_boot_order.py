"""The boot order in the detail of one VM on qemu:///system: the definition's while the VM is
shut off, the running VM's while it runs (a new order waits for its next boot)."""

import secrets

import pytest

from .conftest import domain_xml, remove_domain, virsh


@pytest.fixture
def vm(tmp_path, testapp):
    """A tiny shut-off QEMU VM named `vdboot-<random>`: its UUID."""
    name = f"vdboot-{secrets.token_hex(4)}"
    xml_file = tmp_path / f"{name}.xml"
    xml_file.write_text(domain_xml(name))
    try:
        virsh("define", str(xml_file))
        yield virsh("domuuid", name)
    finally:
        remove_domain(name)


def boot_of(testapp, uuid):
    return testapp.get(f"/vm/{uuid}").json["boot"]


def test_the_detail_says_the_boot_order_a_patch_set(testapp, vm):
    # libvirt gives an HVM definition without any boot order the first disk.
    assert boot_of(testapp, vm) == ["hd"]
    assert testapp.patch_json(f"/vm/{vm}", {"boot": ["cdrom", "network"]}).json[
        "next_boot"] == []
    assert boot_of(testapp, vm) == ["cdrom", "network"]
    saved = virsh("dumpxml", "--inactive", vm)
    assert saved.index("<boot dev='cdrom'/>") < saved.index("<boot dev='network'/>")

    testapp.post_json(f"/vm/{vm}/action", {"action": "start"})
    assert "boot" in testapp.patch_json(f"/vm/{vm}", {"boot": ["hd"]}).json["next_boot"]
    # The running VM keeps the order it started with until it boots again.
    assert boot_of(testapp, vm) == ["cdrom", "network"]
    testapp.post_json(f"/vm/{vm}/action", {"action": "destroy"})
    assert boot_of(testapp, vm) == ["hd"]
