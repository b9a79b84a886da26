"""Virtual networks on a real libvirtd: a NAT network vdh2-... in 10.232.0.0/16, made, started,
seen by virsh, autostart toggled, removed, nothing left behind."""

from .conftest import domain_xml, remove_domain, virsh

NAME = "vdh2-ring-net"


def _cleanup():
    virsh("net-destroy", NAME, check=False)
    virsh("net-undefine", NAME, check=False)


def test_nat_network_round_trip(testapp):
    _cleanup()
    try:
        made = testapp.post_json("/networks", {"name": NAME, "subnet": "10.232.77.0/24",
                                               "start": True}, status=201).json
        assert made["state"] == "active" and made["forward"] == "nat"
        assert NAME in virsh("net-list", "--name").split()
        shown = testapp.get(f"/networks/{NAME}").json
        assert shown["bridge"] and shown["bridge"] in virsh("net-info", NAME)
        assert shown["leases"] == []
        testapp.post_json(f"/networks/{NAME}/action", {"action": "autostart"})
        assert NAME in virsh("net-list", "--autostart", "--name").split()
        testapp.post_json(f"/networks/{NAME}/action", {"action": "noautostart"})
        assert NAME not in virsh("net-list", "--autostart", "--name").split()
        testapp.delete(f"/networks/{NAME}", status=200)
        assert NAME not in virsh("net-list", "--all", "--name").split()
    finally:
        _cleanup()


VM = "vdh2-ring-vm"


def test_a_running_vm_blocks_deletion(testapp, tmp_path):
    _cleanup()
    remove_domain(VM)
    xml = domain_xml(VM).replace(
        "<devices>", f"<devices><interface type='network'><source network='{NAME}'/>"
                     "<model type='e1000'/></interface>")
    path = tmp_path / "vm.xml"
    path.write_text(xml)
    try:
        testapp.post_json("/networks", {"name": NAME, "subnet": "10.232.78.0/24",
                                        "start": True}, status=201)
        virsh("define", str(path))
        virsh("start", VM)
        refused = testapp.delete(f"/networks/{NAME}", status=409).json
        assert VM in refused["message"]
        assert NAME in virsh("net-list", "--name").split()
        virsh("destroy", VM)
        testapp.delete(f"/networks/{NAME}", status=200)
        assert NAME not in virsh("net-list", "--all", "--name").split()
    finally:
        remove_domain(VM)
        _cleanup()
