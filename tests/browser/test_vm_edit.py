"""Changing a VM from the page: the Edit view, the XML view and its 412, the devices in words
and the CD-ROM's media."""

import base64
import re
import urllib.request
from pathlib import Path

import pytest

from virtdancer.security.passwords import hash_password

from ..conftest import DB_1, DEMO_USERS, WEB_1
from .pages import expect, log_in, screenshot, select

PHONE = {"width": 360, "height": 740}   # as test_layout.py
ADMIN = "Basic " + base64.b64encode(b"admin:admin").decode()


@pytest.fixture
def app_settings(app_settings, tmp_path):
    """The demo users and an operator who sees every VM (the demo's operator sees web-* only,
    and only db-1 has a CD-ROM)."""
    users = tmp_path / "users.ini"
    users.write_text(Path(DEMO_USERS).read_text()
                     + f"\n[operator]\npassword = {hash_password('operator')}\n"
                       "role = operator\nvms = all\n")
    return {**app_settings, "virtdancer.users_file": str(users)}


def contains(fragment):
    return re.compile(re.escape(fragment))


def open_view(page, name):
    page.click(f"[data-view={name}]")
    expect(page.locator(f"[data-view={name}]")).to_have_attribute("aria-pressed", "true")


def test_an_admin_edits_the_memory_of_a_running_vm(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    open_view(page, "edit")
    form = page.locator("[data-edit-form]")
    memory = form.get_by_label("Memory (MiB)", exact=True)
    expect(memory).to_have_value("2048")
    # The boot order starts at the VM's own, not at "as it is now".
    boot = form.get_by_label("Boot from")
    expect(boot).to_have_value("hd")
    expect(boot.locator("option:checked")).to_have_text("the disk")
    expect(boot.locator("option", has_text="as it is now")).to_have_count(0)
    memory.fill("1024")
    form.get_by_label("Description").fill("The first web server")
    screenshot(page, "vm-edit-desktop")
    form.get_by_role("button", name="Save changes").click()
    message = page.locator("[data-edit-message]")
    expect(message).to_contain_text("Saved memory and description of web-1.")
    assert api.get(f"vm/{WEB_1}")["description"] == "The first web server"
    assert api.get(f"vm/{WEB_1}")["info"]["memory"] == 1024 * 1024
    # The overview says it in words, and the list follows.
    open_view(page, "overview")
    expect(page.locator(".description")).to_have_text("The first web server")
    expect(page.locator("[data-field=memory]")).to_have_text("1 GiB")


def test_a_change_that_waits_for_the_next_boot_is_said_so(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    open_view(page, "edit")
    form = page.locator("[data-edit-form]")
    form.get_by_label("Maximum memory (MiB)").fill("4096")
    form.get_by_label("CPUs").fill("1")
    form.get_by_role("button", name="Save changes").click()
    # A running VM's maximum memory changes at its next boot; its CPUs at once.
    expect(page.locator("[data-edit-message]")).to_have_text(
        "Saved CPUs and maximum memory of web-1. Waiting for web-1's next boot: maximum "
        "memory; the rest applies now.")
    assert api.get(f"vm/{WEB_1}")["info"]["nrVirtCpu"] == 1
    # What waits is still shown as entered, not as undone.
    expect(form.get_by_label("Maximum memory (MiB)")).to_have_value("4096")
    expect(form.get_by_label("CPUs")).to_have_value("1")
    screenshot(page, "vm-edit-saved-desktop")


def test_a_saved_boot_order_is_the_one_the_edit_view_shows(page, server, api):
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    open_view(page, "edit")
    boot = page.locator("[data-edit-form]").get_by_label("Boot from")
    expect(boot).to_have_value("hd")
    boot.select_option(label="the CD-ROM, then the disk")
    page.locator("[data-edit-form]").get_by_role("button", name="Save changes").click()
    # db-1 is shut off: the order applies at once, and the detail says it.
    expect(page.locator("[data-edit-message]")).to_have_text("Saved boot order of db-1.")
    assert api.get(f"vm/{DB_1}")["boot"] == ["cdrom", "hd"]
    expect(boot).to_have_value("cdrom,hd")
    # Read again from the server, the view starts at the saved order.
    page.reload()
    select(page, DB_1, "db-1")
    open_view(page, "edit")
    expect(boot).to_have_value("cdrom,hd")


@pytest.mark.console_errors(r"status of 400")
def test_a_refused_edit_is_told_next_to_its_field(page, server, api):
    before = api.get(f"vm/{WEB_1}")
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    open_view(page, "edit")
    form = page.locator("[data-edit-form]")
    memory = form.get_by_label("Memory (MiB)", exact=True)
    memory.fill("4096")
    form.get_by_label("Maximum memory (MiB)").fill("2048")
    form.get_by_role("button", name="Save changes").click()
    expect(memory).to_have_attribute("aria-invalid", "true")   # caught before sending
    form.get_by_label("Description").fill("bad \u0001 character")
    memory.fill("2048")
    form.get_by_role("button", name="Save changes").click()
    description = form.get_by_label("Description")
    expect(description).to_have_attribute("aria-invalid", "true")   # the server's 400
    expect(form.locator(f"#{description.get_attribute('id')}-error")).to_contain_text(
        "control character")
    after = api.get(f"vm/{WEB_1}")
    assert after["description"] == before["description"]
    assert after["info"]["maxMem"] == before["info"]["maxMem"]   # nothing was changed


def test_nothing_changed_sends_nothing(page, server):
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    open_view(page, "edit")
    page.locator("[data-edit-form]").get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-edit-message]")).to_have_text(
        "Nothing to save: nothing was changed.")


def test_the_keyboard_stays_on_save_changes_once_saved(page, server):
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    open_view(page, "edit")
    page.fill("[data-edit-form] input[name=vcpus]", "3")
    save = page.locator("[data-edit-form]").get_by_role("button", name="Save changes")
    save.focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-edit-message]")).to_have_text(contains("Saved CPUs of db-1."))
    # Disabled while it saved, the button had lost the focus to the page's body.
    expect(save).to_be_focused()


def raw_put_xml(server, uuid, text, etag):
    """Save a definition as another admin would, behind the page's back."""
    request = urllib.request.Request(
        f"{server.url}vm/{uuid}/xml", data=text.encode(), method="PUT",
        headers={"Content-Type": "application/xml", "If-Match": etag, "Authorization": ADMIN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def current_xml(server, uuid):
    request = urllib.request.Request(
        f"{server.url}vm/{uuid}/xml", headers={"Accept": "application/xml",
                                                "Authorization": ADMIN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode(), response.headers["ETag"]


@pytest.mark.console_errors(r"status of 412")
def test_the_xml_view_saves_and_says_when_someone_changed_it_meanwhile(page, server, api):
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    open_view(page, "xml")
    text = page.locator("[data-xml-text]")
    expect(text).to_have_value(contains("<name>db-1</name>"))
    # Saved as it is: the page's ETag is current.
    page.click("[data-xml-save]")
    expect(page.locator("[data-xml-message]")).to_have_text("Saved the definition of db-1.")

    # Someone else changes it meanwhile: the page's save is refused, and says so.
    xml, etag = current_xml(server, DB_1)
    assert raw_put_xml(server, DB_1, xml.replace("PostgreSQL database", "theirs"), etag) == 200
    text.fill(xml.replace("PostgreSQL database", "mine"))
    page.click("[data-xml-save]")
    message = page.locator("[data-xml-message]")
    expect(message).to_contain_text("Someone changed the definition of db-1 since you loaded")
    expect(page.locator("[data-xml-reload]")).to_be_focused()
    screenshot(page, "vm-xml-412-desktop")
    assert api.get(f"vm/{DB_1}")["description"] == "theirs"
    page.click("[data-xml-reload]")
    expect(text).to_have_value(contains("<description>theirs</description>"))


def test_a_viewer_reads_the_xml_but_cannot_save_it(page, server):
    log_in(page, server.url, "viewer")
    select(page, DB_1, "db-1")
    open_view(page, "xml")
    text = page.locator("[data-xml-text]")
    expect(text).to_have_value(contains("<name>db-1</name>"))
    expect(text).to_have_attribute("readonly", "")
    expect(page.locator("[data-xml-save]")).to_be_hidden()


def test_the_devices_are_told_in_words(page, server):
    log_in(page, server.url, "viewer")
    select(page, DB_1, "db-1")
    disks = page.locator("[data-device-list=disks] li")
    expect(disks).to_have_count(1)
    expect(disks.first).to_have_text("vda (virtio): db-1.qcow2 in pool default, qcow2, 100 GiB "
                                     "(40 GiB used on the host)")
    expect(page.locator(".description")).to_have_text("PostgreSQL database")
    expect(page.locator("[data-cdrom]")).to_contain_text("debian-12-netinst.iso")
    expect(page.locator("[data-device-list=network-cards] li").first).to_contain_text(
        "network default")
    expect(page.locator("[data-cdrom] button")).to_have_count(0)
    expect(page.locator("[data-devices]")).to_contain_text("No display.")   # the test driver


class FakeDrive:
    """libvirt's test driver cannot change media (501): the page's requests for it are answered
    here as a QEMU host would, and the VM's detail follows the fake drive."""

    def __init__(self, page):
        self.medium = {"pool": "default", "volume": "debian-12-netinst.iso",
                       "path": "/var/lib/libvirt/images/debian-12-netinst.iso"}
        self.sent = []
        page.route(f"**/vm/{DB_1}/cdroms/*", self.change)
        page.route(f"**/vm/{DB_1}", self.detail)

    def change(self, route):
        request = route.request
        self.sent.append((request.method, request.url.rsplit("/", 1)[1],
                          request.post_data_json if request.method == "PUT" else None))
        if request.method == "PUT":
            volume = request.post_data_json["volume"]
            self.medium = {"pool": "default", "volume": volume,
                           "path": f"/var/lib/libvirt/images/{volume}"}
        else:
            self.medium = {"pool": None, "volume": None, "path": None}
        route.fulfill(json={"target": "sda", "bus": "sata", **self.medium})

    def detail(self, route):
        response = route.fetch()
        body = response.json()
        if route.request.method == "GET" and response.status == 200:
            body["cdroms"] = [{"target": "sda", "bus": "sata", **self.medium}]
        route.fulfill(response=response, json=body)


def test_an_operator_ejects_and_inserts_the_iso(page, server):
    drive_on_host = FakeDrive(page)
    log_in(page, server.url, "operator")
    expect(page.locator("[data-create-vm]")).to_be_hidden()
    select(page, DB_1, "db-1")
    expect(page.locator("[data-delete-vm]")).to_be_hidden()
    expect(page.locator("[data-view=edit]")).to_be_hidden()
    drive = page.locator("[data-cdrom]")
    expect(drive).to_contain_text("sda (sata): debian-12-netinst.iso in pool default")
    drive.locator("[data-cdrom-eject]").click()
    expect(drive).to_contain_text("sda (sata): empty, no disc")
    expect(page.locator("[data-devices] .message")).to_have_text("sda ejected.")
    expect(drive.locator("[data-cdrom-eject]")).to_be_disabled()
    drive.get_by_label("ISO for sda").select_option("default/debian-12-netinst.iso")
    drive.locator("[data-cdrom-insert]").click()
    expect(drive).to_contain_text("sda (sata): debian-12-netinst.iso in pool default")
    expect(page.locator("[data-devices] .message")).to_have_text(
        "debian-12-netinst.iso inserted into sda.")
    assert drive_on_host.sent == [
        ("DELETE", "sda", None),
        ("PUT", "sda", {"pool": "default", "volume": "debian-12-netinst.iso"})]
    screenshot(page, "vm-devices-operator-desktop")


@pytest.mark.console_errors(r"status of 501")
def test_a_host_that_cannot_change_media_says_so(page, server, api):
    log_in(page, server.url, "operator")
    select(page, DB_1, "db-1")
    drive = page.locator("[data-cdrom]")
    drive.locator("[data-cdrom-eject]").click()
    message = page.locator("[data-devices] .message")
    expect(message).to_contain_text("The media of sda did not change: ")
    expect(message).to_have_class(re.compile("error"))
    assert api.get(f"vm/{DB_1}")["cdroms"][0]["volume"] == "debian-12-netinst.iso"
    expect(drive.locator("[data-cdrom-eject]")).to_be_enabled()


@pytest.mark.parametrize("view", ["edit", "xml"])
def test_the_edit_and_xml_views_on_a_phone(page, server, view):
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    select(page, DB_1, "db-1")
    open_view(page, view)
    page.locator("[data-vm-manage]").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('[data-vm-manage]').scrollIntoView()")
    screenshot(page, f"vm-{view}-phone", full_page=False)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone"
