"""GET and PUT /vm/<uuid>/xml, and POST /vm with a domain's XML, on a test-driver host."""

import libvirt
import pytest

from .test_create_vm import OLD_VM, app_settings, client, names  # noqa: F401
from .test_edit_vm import definition
from .test_tasks import finished

XML = "application/xml"


def read(testapp, uuid=OLD_VM):
    response = testapp.get(f"/vm/{uuid}/xml")
    return response.text, response.headers["ETag"]


def put(testapp, xml, etag=None, status=200, uuid=OLD_VM, content_type=XML):
    headers = {"Content-Type": content_type}
    if etag is not None:
        headers["If-Match"] = etag
    return testapp.put(f"/vm/{uuid}/xml", xml.encode(), headers=headers, status=status)


def test_get_answers_the_definition_with_a_strong_etag(app, hypervisor):
    response = client(app, "viewer", "viewer").get(f"/vm/{OLD_VM}/xml")
    assert response.content_type == XML
    assert response.text == definition(hypervisor, "old-vm")
    assert response.headers["ETag"].startswith('"')    # strong: not W/"..."
    assert client(app, "viewer", "viewer").get(f"/hosts/default/vm/{OLD_VM}/xml").headers[
        "ETag"] == response.headers["ETag"]


def test_put_replaces_the_definition_and_answers_the_new_etag(testapp, hypervisor):
    xml, etag = read(testapp)
    edited = xml.replace("<vcpu placement='static'>1</vcpu>", "<vcpu>3</vcpu>")
    response = put(testapp, edited, etag)
    assert response.json["info"]["nrVirtCpu"] == 3
    assert response.headers["ETag"] == read(testapp)[1] != etag


def test_put_with_any_version(testapp):
    xml, _ = read(testapp)
    put(testapp, xml.replace("<vcpu placement='static'>1</vcpu>", "<vcpu>2</vcpu>"), "*")
    assert testapp.get(f"/vm/{OLD_VM}").json["info"]["nrVirtCpu"] == 2


def test_put_without_if_match_is_428(testapp, hypervisor):
    xml, _ = read(testapp)
    answer = put(testapp, xml.replace(">1</vcpu>", ">2</vcpu>"), status=428).json
    assert "If-Match" in answer["message"]
    assert definition(hypervisor, "old-vm") == xml


def test_an_empty_if_match_matches_nothing(testapp, hypervisor):
    xml, _ = read(testapp)
    put(testapp, xml.replace(">1</vcpu>", ">2</vcpu>"), "", status=412)
    assert definition(hypervisor, "old-vm") == xml


def test_put_over_a_change_it_did_not_see_is_412(testapp, hypervisor):
    xml, etag = read(testapp)
    testapp.patch_json(f"/vm/{OLD_VM}", {"description": "meanwhile"})
    changed = definition(hypervisor, "old-vm")
    put(testapp, xml.replace(">1</vcpu>", ">2</vcpu>"), etag, status=412)
    put(testapp, xml, f'W/{etag}', status=412)     # a weak ETag never matches
    assert definition(hypervisor, "old-vm") == changed


@pytest.mark.parametrize("change,words", [
    (lambda xml: xml.replace("<name>old-vm</name>", "<name>new-name</name>"), "renames"),
    (lambda xml: xml.replace("0d7a7f5e-1c2b-4c3d-8e4f-5a6b7c8d9e01",
                             "0d7a7f5e-1c2b-4c3d-8e4f-5a6b7c8d9e99"), "UUID"),
    (lambda xml: '<!DOCTYPE d [<!ENTITY e "x">]>' + xml, "DOCTYPE"),
    (lambda xml: xml[:-20], "well-formed"),
    (lambda xml: xml.replace("<memory unit='KiB'>65536</memory>", "<memory>lots</memory>"),
     "memory"),
    (lambda xml: "<network><name>old-vm</name></network>", "<domain>"),
    (lambda xml: xml.replace("<name>old-vm</name>", "<name>../etc</name>"), "<name>"),
])
def test_refused_xml_is_400_and_changes_nothing(testapp, hypervisor, change, words):
    xml, etag = read(testapp)
    answer = put(testapp, change(xml), etag, status=400).json
    assert words in answer["message"]
    assert definition(hypervisor, "old-vm") == xml


def test_put_as_json_is_400(testapp):
    xml, etag = read(testapp)
    answer = put(testapp, '{"xml": 1}', etag, status=400, content_type="application/json").json
    assert XML in answer["message"]


@pytest.mark.parametrize("user,password,status", [("viewer", "viewer", 403),
                                                  ("tenant", "tenant", 404),
                                                  ("boss", "tenant", 404)])
def test_only_admins_who_see_it_replace_it(app, testapp, hypervisor, user, password, status):
    xml, etag = read(testapp)
    put(client(app, user, password), xml.replace(">1</vcpu>", ">2</vcpu>"), etag,
        status=status)
    assert definition(hypervisor, "old-vm") == xml


def test_a_hidden_vm_has_no_xml(app):
    client(app, "tenant", "tenant").get(f"/vm/{OLD_VM}/xml", status=404)


# -- POST /vm with the domain's XML ----------------------------------------------------------

NEW = ("<domain type='test'><name>{name}</name>{uuid}<memory unit='MiB'>64</memory>"
       "<vcpu>1</vcpu><os><type>hvm</type></os></domain>")


def post(testapp, name="web-xml", uuid="", status=201):
    uuid = f"<uuid>{uuid}</uuid>" if uuid else ""
    return testapp.post("/vm", NEW.format(name=name, uuid=uuid).encode(),
                        headers={"Content-Type": XML}, status=status)


def test_post_xml_defines_a_vm(testapp):
    response = post(testapp)
    assert response.json["name"] == "web-xml" and response.json["active"] is False
    assert response.location.endswith(f"/vm/{response.json['uuid']}")
    assert "web-xml" in names(testapp)


def test_post_xml_under_a_host(testapp):
    response = testapp.post("/hosts/default/vm", NEW.format(name="web-xml", uuid="").encode(),
                            headers={"Content-Type": XML}, status=201)
    assert f"/hosts/default/vm/{response.json['uuid']}" in response.location


@pytest.mark.parametrize("name,uuid", [("old-vm", ""), ("web-xml", OLD_VM)])
def test_post_xml_of_a_taken_name_or_uuid_is_409(testapp, hypervisor, name, uuid):
    before = definition(hypervisor, "old-vm")
    post(testapp, name, uuid, status=409)
    assert definition(hypervisor, "old-vm") == before
    assert "web-xml" not in names(testapp)


@pytest.mark.parametrize("body,words", [
    ('<!DOCTYPE domain [<!ENTITY x "y">]><domain><name>web-x</name></domain>', "DOCTYPE"),
    ("<domain><name>web-x</name>", "well-formed"),
    ("<domain type='test'><name>web-x</name><memory>nope</memory></domain>", "memory"),
    ("<domain type='test'><name>.web</name></domain>", "<name>"),
])
def test_post_bad_xml_is_400(testapp, body, words):
    answer = testapp.post("/vm", body.encode(), headers={"Content-Type": XML},
                          status=400).json
    assert words in answer["message"]
    assert not any(name.startswith("web-x") for name in names(testapp))


def test_a_tenant_admin_posts_no_xml_whatever_its_name(app, testapp):
    boss = client(app, "boss", "tenant")
    post(boss, "db-xml", status=403)
    post(boss, "web-xml", status=403)
    assert not any(name.endswith("-xml") for name in names(testapp))


@pytest.mark.parametrize("user,password", [("viewer", "viewer"), ("tenant", "tenant")])
def test_only_admins_post_xml(app, testapp, user, password):
    post(client(app, user, password), status=403)
    assert "web-xml" not in names(testapp)


# -- another VM's disk ------------------------------------------------------------------------

SHARED = ("<disk type='file' device='{device}'><source file='/default-pool/{file}'/>"
          "<target dev='{target}' bus='sata'/></disk>")


def with_disk(xml, file, device="disk", target="sdz"):
    disk = SHARED.format(device=device, file=file, target=target)
    if "</devices>" in xml:
        return xml.replace("</devices>", disk + "</devices>")
    return xml.replace("</domain>", f"<devices>{disk}</devices></domain>")


def test_xml_may_not_name_the_disk_of_another_vm(testapp):
    # As the disk attach refuses it: the other VM's data would be read and written by this one.
    body = with_disk(NEW.format(name="web-xml", uuid=""), "old-vm.img")
    refused = testapp.post("/vm", body.encode(), headers={"Content-Type": XML}, status=409)
    assert "old-vm" in refused.json["message"]
    assert "web-xml" not in names(testapp)


def test_a_tenant_admin_writes_no_domain_xml(app, testapp):
    """A domain's XML can name any file of the host (another tenant's disk among them), so an
    admin whom filters limit may not write one: the form fields are theirs."""
    boss = client(app, "boss", "tenant")
    # Even a VM of their own name, with the disk of busy-vm, which boss does not see.
    body = with_disk(NEW.format(name="web-xml", uuid=""), "shared.img", "cdrom")
    refused = boss.post("/vm", body.encode(), headers={"Content-Type": XML}, status=403)
    assert "only an admin of every VM" in refused.json["message"]
    assert "busy" not in refused.json["message"]
    assert "web-xml" not in names(testapp)
    uuid = post(testapp).json["uuid"]      # web-xml, made by the admin of every VM
    xml, etag = read(boss, uuid)           # boss sees it and may read its XML
    refused = put(boss, xml.replace("<memory", "<!-- x --><memory"), etag, status=403,
                  uuid=uuid)
    assert "only an admin of every VM" in refused.json["message"]
    assert read(boss, uuid) == (xml, etag)


def test_an_iso_other_vms_share_is_fine_in_xml(testapp):
    body = with_disk(NEW.format(name="web-xml", uuid=""), "boot.iso", "cdrom")
    testapp.post("/vm", body.encode(), headers={"Content-Type": XML}, status=201)


def test_another_vms_disk_named_as_a_pool_volume_is_refused_too(testapp):
    disk = ("<devices><disk type='volume' device='disk'><source pool='default' "
            "volume='shared.img'/><target dev='vdb' bus='virtio'/></disk></devices>")
    body = NEW.format(name="web-xml", uuid="").replace("</domain>", disk + "</domain>")
    refused = testapp.post("/vm", body.encode(), headers={"Content-Type": XML}, status=409)
    assert "busy-vm" in refused.json["message"]
    assert "web-xml" not in names(testapp)


def test_a_volume_a_vm_names_by_pool_and_volume_is_in_use(testapp):
    made = testapp.post_json("/pools/default/volumes", {"name": "web-data.raw", "format": "raw",
                                                        "capacity_mib": 1}, status=202)
    assert finished(testapp, made.location)["state"] == "done"
    disk = ("<devices><disk type='volume' device='disk'><source pool='default' "
            "volume='web-data.raw'/><target dev='vdb' bus='virtio'/></disk></devices>")
    post_body = NEW.format(name="web-xml", uuid="").replace("</domain>", disk + "</domain>")
    testapp.post("/vm", post_body.encode(), headers={"Content-Type": XML}, status=201)
    listed = {vol["name"]: vol for vol in testapp.get("/pools/default/volumes").json}
    assert [user["name"] for user in listed["web-data.raw"]["used_by"]] == ["web-xml"]
    refused = testapp.delete("/pools/default/volumes/web-data.raw", status=409)
    assert "web-xml" in refused.json["message"]


# -- a display's password -----------------------------------------------------------------

LOCKED = ("<domain type='test'><name>web-vnc</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
          "<os><type>hvm</type></os><devices><graphics type='vnc' port='-1' autoport='yes' "
          "passwd='s3cret-pw'/></devices></domain>")


def secure_definition(hypervisor, name):
    with hypervisor.connection.session() as conn:
        return conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE
                                               | libvirt.VIR_DOMAIN_XML_SECURE)


def test_the_xml_never_shows_a_display_password_and_an_edit_keeps_it(testapp, hypervisor):
    uuid = testapp.post("/vm", LOCKED.encode(), headers={"Content-Type": XML}).json["uuid"]
    assert "s3cret-pw" in secure_definition(hypervisor, "web-vnc")
    xml, etag = read(testapp, uuid)
    assert "s3cret-pw" not in xml and "passwd" not in xml
    # An edit of what GET showed is no way to remove the password without saying so.
    put(testapp, xml.replace(">1</vcpu>", ">2</vcpu>"), etag, uuid=uuid)
    assert "s3cret-pw" in secure_definition(hypervisor, "web-vnc")


def test_a_settings_edit_keeps_a_display_password(testapp, hypervisor):
    uuid = testapp.post("/vm", LOCKED.encode(), headers={"Content-Type": XML}).json["uuid"]
    testapp.patch_json(f"/vm/{uuid}", {"vcpus": 2, "description": "locked"})
    assert "s3cret-pw" in secure_definition(hypervisor, "web-vnc")
