"""Virtual networks on the test driver: list, define, actions, delete, permissions."""

from pathlib import Path

import pytest
import webtest

from virtdancer.security.passwords import hash_password

from .conftest import DEMO_USERS


@pytest.fixture
def app_settings(app_settings, tmp_path):
    """The demo users and `boss`, a tenant admin who sees the web-* VMs only."""
    users = tmp_path / "users.ini"
    users.write_text(Path(DEMO_USERS).read_text()
                     + f"\n[boss]\npassword = {hash_password('boss')}\nrole = admin\n"
                       "prefix = web-\n")
    return {**app_settings, "virtdancer.users_file": str(users)}


def as_user(app, name):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (name, name))
    return client


def make(testapp, name="vdh2-lab", subnet="10.232.1.0/24", status=201, **more):
    return testapp.post_json("/networks", {"name": name, "subnet": subnet, **more},
                             status=status)


def test_define_list_show_and_leases_for_admins(testapp):
    made = make(testapp, start=True)
    assert made.location.endswith("/networks/vdh2-lab")
    assert made.json["ips"] == [{"address": "10.232.1.1", "prefix": 24,
                                 "dhcp_start": "10.232.1.128", "dhcp_end": "10.232.1.254"}]
    assert made.json["forward"] == "nat"
    one = testapp.get("/networks/vdh2-lab").json
    assert one["state"] == "active"
    assert "leases" in one
    names = [n["name"] for n in testapp.get("/hosts/default/networks").json]
    assert "vdh2-lab" in names


@pytest.mark.parametrize("user", ["viewer", "tenant"])
def test_others_read_without_leases_and_may_not_write(app, testapp, user):
    make(testapp)
    client = as_user(app, user)
    assert "leases" not in client.get("/networks/vdh2-lab").json
    assert all("leases" not in n for n in client.get("/networks").json)
    client.post_json("/networks", {"name": "vdh2-x", "subnet": "10.232.9.0/24"}, status=403)
    client.post_json("/networks/vdh2-lab/action", {"action": "stop"}, status=403)
    client.delete("/networks/vdh2-lab", status=403)


def test_a_tenant_admin_gets_no_leases(app, testapp):
    """A network's leases are every VM's on it: an admin whom filters limit gets none."""
    make(testapp, start=True)
    assert "leases" in testapp.get("/networks/vdh2-lab").json
    boss = as_user(app, "boss")
    assert "leases" not in boss.get("/networks/vdh2-lab").json
    assert all("leases" not in n for n in boss.get("/networks").json)


def test_actions_and_refusals(testapp):
    make(testapp)
    after = testapp.post_json("/networks/vdh2-lab/action", {"action": "start"}).json
    assert after["network"]["state"] == "active"
    testapp.post_json("/networks/vdh2-lab/action", {"action": "start"}, status=409)
    after = testapp.post_json("/networks/vdh2-lab/action", {"action": "autostart"}).json
    assert after["network"]["autostart"] is True
    after = testapp.post_json("/networks/vdh2-lab/action", {"action": "stop"}).json
    assert after["network"]["state"] == "inactive"
    testapp.post_json("/networks/vdh2-lab/action", {"action": "stop"}, status=409)
    testapp.post_json("/networks/vdh2-lab/action", {"action": "fly"}, status=400)


def test_conflicts_and_bad_input(testapp):
    make(testapp)
    assert "exists" in make(testapp, subnet="10.232.2.0/24", status=409).json["message"]
    clash = make(testapp, name="vdh2-other", subnet="10.232.1.128/25", status=409).json
    assert "vdh2-lab" in clash["message"]
    for name in ("-bad", ".bad", "a" * 65, "a/b", ""):
        make(testapp, name=name, subnet="10.232.3.0/24", status=400)
    for subnet in ("10.232.3.0/31", "10.0.0.0/7", "nonsense", "10.232.3.1/24"):
        make(testapp, name="vdh2-b", subnet=subnet, status=400)
    make(testapp, name="vdh2-b", subnet="10.232.3.0/24", dhcp_start="10.232.4.5", status=400)
    make(testapp, name="vdh2-b", subnet="10.232.3.0/24", dhcp_start="10.232.3.1", status=400)
    make(testapp, name="vdh2-b", subnet="10.232.3.0/24", dhcp_start="10.232.3.90",
         dhcp_end="10.232.3.20", status=400)
    assert "vdh2-b" not in [n["name"] for n in testapp.get("/networks").json]


def test_delete_and_404s(app, testapp):
    make(testapp, start=True)
    assert testapp.delete("/networks/vdh2-lab").json == {"result": "removed",
                                                         "name": "vdh2-lab"}
    testapp.get("/networks/vdh2-lab", status=404)
    testapp.delete("/networks/vdh2-lab", status=404)
    testapp.get("/networks/.hidden", status=404)
    testapp.get("/hosts/nowhere/networks", status=404)


VM_ON_NETWORK = """<domain type='test'><name>vdh2-vm</name><memory>65536</memory>
<os><type>hvm</type></os><devices><interface type='network'><source network='vdh2-lab'/>
</interface></devices></domain>"""


def test_delete_refuses_a_network_a_running_vm_uses(testapp, hypervisor):
    make(testapp, start=True)
    dom = hypervisor.connection.get().defineXML(VM_ON_NETWORK)
    dom.create()
    refused = testapp.delete("/networks/vdh2-lab", status=409).json
    assert "vdh2-vm" in refused["message"]
    assert testapp.get("/networks/vdh2-lab").json["state"] == "active"
    dom.destroy()
    testapp.delete("/networks/vdh2-lab", status=200)


def test_a_tenant_admin_is_refused_without_the_name_of_a_vm_they_do_not_see(app, testapp,
                                                                           hypervisor):
    make(testapp, start=True)
    hidden = hypervisor.connection.get().defineXML(VM_ON_NETWORK)
    hidden.create()
    boss = as_user(app, "boss")
    boss.get(f"/vm/{hidden.UUIDString()}", status=404)
    refused = boss.delete("/networks/vdh2-lab", status=409)
    assert "vdh2-vm" not in refused.text
    assert refused.json["message"] == ("the network vdh2-lab is used by running VMs: VMs you "
                                       "do not see")
    # A VM of theirs on it is named; the hidden one still is not.
    seen = hypervisor.connection.get().defineXML(
        VM_ON_NETWORK.replace("vdh2-vm", "web-vdh2"))
    seen.create()
    refused = boss.delete("/networks/vdh2-lab", status=409)
    assert "web-vdh2" in refused.json["message"] and "vdh2-vm" not in refused.text
    assert testapp.get("/networks/vdh2-lab").json["state"] == "active"
    hidden.destroy()
    seen.destroy()
    assert boss.delete("/networks/vdh2-lab").json["result"] == "removed"


ISOLATED = """<network><name>vdh2-xml</name>
<ip address='10.232.5.1' netmask='255.255.255.0'/></network>"""


def test_define_from_xml_and_refuse_doctype(testapp):
    made = testapp.post("/networks", ISOLATED, content_type="application/xml", status=201)
    assert made.json["name"] == "vdh2-xml" and made.json["forward"] is None
    testapp.post("/networks", ISOLATED, content_type="application/xml", status=409)
    evil = ("<?xml version='1.0'?><!DOCTYPE n [<!ENTITY e 'x'>]>"
            "<network><name>vdh2-e</name></network>")
    testapp.post("/networks", evil, content_type="application/xml", status=400)
    testapp.post("/networks", "<network><name>-x</name></network>",
                 content_type="application/xml", status=400)
    testapp.post("/networks", "<network>", content_type="application/xml", status=400)
    assert "vdh2-e" not in [n["name"] for n in testapp.get("/networks").json]
