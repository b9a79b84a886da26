"""A VM's whole life from the page: the Create dialog, the views of a VM and the Delete
confirmation, and who sees which of them."""

import re

import pytest

from ..conftest import DB_1, DEMO_URI, LAB_URI, WEB_1
from .pages import entries, entry, expect, log_in, screenshot, select

PHONE = {"width": 360, "height": 740}   # as test_layout.py
TWO_HOSTS = {"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"}


def volume_names(api, pool="default"):
    return {volume["name"] for volume in api.get(f"pools/{pool}/volumes")}


def fleet_uuid(api, name):
    return next(vm["uuid"] for vm in api.get("vm") if vm["name"] == name)


def open_create(page):
    page.click("[data-create-vm]")
    dialog = page.locator("[data-create-dialog]")
    expect(dialog).to_be_visible()
    # The choices come from the host: its pool and its running networks.
    expect(dialog.get_by_label("Pool", exact=True)).to_contain_text("default")
    expect(dialog.get_by_label("Submit", exact=True)).to_have_count(0)
    expect(dialog.locator("[data-create-submit]")).to_be_enabled()
    return dialog


def test_an_admin_creates_a_vm_and_deletes_it_with_its_volume(page, server, api):
    log_in(page, server.url, "admin")
    count = entries(page).count()
    dialog = open_create(page)
    dialog.get_by_label("Name").fill("h3-made")
    dialog.get_by_label("CPUs").fill("2")
    dialog.get_by_label("Memory (MiB)").fill("256")
    dialog.get_by_label("Size (GiB)").fill("2")
    dialog.get_by_label("CD-ROM (ISO)").select_option("default/debian-12-netinst.iso")
    expect(dialog.get_by_label("Network")).to_have_value("default")   # libvirt's own
    # The pool's free room is said under it, whole (in the option it was cut at the edge).
    pool = dialog.get_by_label("Pool")
    expect(pool.locator("option:checked")).to_have_text("default")
    hint = dialog.locator(f"#{pool.get_attribute('id')}-hint")
    expect(hint).to_have_text(re.compile(r"^\d+(\.\d)? [KMGT]iB free$"))
    number, unit = hint.inner_text().split()[:2]
    said = float(number) * 1024 ** "KMGT".index(unit[0]) * 1024
    assert abs(said - api.get("pools/default")["available"]) <= 0.05 * said
    screenshot(page, "vm-create-desktop")
    dialog.locator("[data-create-submit]").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("[data-detail-title]")).to_have_text("h3-made")
    expect(page.locator("[data-action-message]")).to_have_text("h3-made created on default.")
    expect(entries(page)).to_have_count(count + 1)
    uuid = fleet_uuid(api, "h3-made")
    expect(entry(page, uuid)).to_have_attribute("aria-current", "true")
    made = api.get(f"vm/{uuid}")
    assert made["info"]["nrVirtCpu"] == 2 and made["info"]["memory"] == 256 * 1024
    assert "h3-made-disk0.qcow2" in volume_names(api)
    # Its devices, in words, as the server made them.
    expect(page.locator("[data-device-list=disks] li")).to_have_text(re.compile(
        r"^vda \(virtio\): h3-made-disk0\.qcow2 in pool default, qcow2, 2 GiB"))
    expect(page.locator("[data-cdrom]")).to_contain_text("debian-12-netinst.iso in pool default")
    expect(page.locator("[data-device-list=network-cards] li")).to_contain_text(
        "network default")

    # Its memory, edited: shut off, nothing waits for a boot.
    page.click("[data-view=edit]")
    form = page.locator("[data-edit-form]")
    expect(form.get_by_label("Memory (MiB)", exact=True)).to_have_value("256")
    form.get_by_label("Memory (MiB)", exact=True).fill("128")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-edit-message]")).to_have_text("Saved memory of h3-made.")
    assert api.get(f"vm/{uuid}")["info"]["memory"] == 128 * 1024
    expect(entry(page, uuid)).to_contain_text("128 MiB")

    page.click("[data-delete-vm]")
    confirm = page.locator("[data-delete-dialog]")
    expect(confirm).to_be_visible()
    # Its disk volume is listed; the ISO in its CD-ROM is not, and is never deleted.
    expect(confirm.locator("[data-delete-volumes] li")).to_have_count(1)
    expect(confirm.locator("[data-delete-volumes]")).to_contain_text("h3-made-disk0.qcow2")
    button = confirm.locator("[data-delete-submit]")
    expect(button).to_be_disabled()
    expect(confirm.get_by_label("Type h3-made to confirm")).to_be_focused()
    confirm.get_by_label(re.compile("^Type .* to confirm$")).fill("h3-mad")
    expect(button).to_be_disabled()
    confirm.get_by_label(re.compile("^Type .* to confirm$")).fill("h3-made")
    confirm.get_by_label("Also delete these volumes").check()
    screenshot(page, "vm-delete-desktop")
    button.click()

    expect(confirm).to_be_hidden()
    expect(page.locator("[data-fleet-message]")).to_have_text(
        "h3-made deleted, with 1 volume. Kept: debian-12-netinst.iso (a CD-ROM is never removed).")
    expect(entries(page)).to_have_count(count)
    expect(page.locator("[data-detail-title]")).to_have_text("No VM selected")
    names = volume_names(api)
    assert "h3-made-disk0.qcow2" not in names and "debian-12-netinst.iso" in names


@pytest.mark.console_errors(r"status of 409")
def test_the_create_form_says_what_is_wrong_next_to_the_field(page, server, api):
    log_in(page, server.url, "admin")
    count = entries(page).count()
    dialog = open_create(page)
    name = dialog.get_by_label("Name")
    submit = dialog.locator("[data-create-submit]")
    # Caught before sending: no request at all.
    name.fill("-bad name")
    dialog.get_by_label("CPUs").fill("0")
    submit.click()
    expect(name).to_have_attribute("aria-invalid", "true")
    name_error = dialog.locator(f"#{name.get_attribute('id')}-error")
    expect(name_error).to_have_text("“-bad name” is not a VM name: at most 64 of "
                                    "A-Z a-z 0-9 . _ -, not starting with . or -.")
    expect(dialog.get_by_label("CPUs")).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    # Only the server knows that the name is taken: its words come back next to the field.
    name.fill("web-1")
    dialog.get_by_label("CPUs").fill("1")
    dialog.get_by_label("Disk", exact=True).select_option("none")
    submit.click()
    expect(name_error).to_have_text(
        "A VM named 'web-1' exists already on this host.")
    expect(dialog).to_be_visible()
    screenshot(page, "vm-create-error-desktop")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert len(api.get("vm")) == count


def test_a_running_vm_is_deleted_only_with_force(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    page.click("[data-delete-vm]")
    confirm = page.locator("[data-delete-dialog]")
    confirm.get_by_label(re.compile("^Type .* to confirm$")).fill("web-1")
    button = confirm.locator("[data-delete-submit]")
    expect(button).to_be_disabled()
    confirm.get_by_label("It is running: power it off first").check()
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("[data-fleet-message]")).to_have_text(
        "web-1 deleted; its volumes are kept.")
    assert all(vm["uuid"] != WEB_1 for vm in api.get("vm"))
    assert "web-1.qcow2" in volume_names(api)   # not asked to remove it: kept


def test_a_viewer_sees_everything_read_only(page, server):
    log_in(page, server.url, "viewer")
    expect(page.locator("[data-create-vm]")).to_be_hidden()
    select(page, DB_1, "db-1")
    expect(page.locator("[data-vm-manage]")).to_be_visible()
    expect(page.locator("[data-delete-vm]")).to_be_hidden()
    expect(page.locator("[data-clone-vm]")).to_be_hidden()
    expect(page.locator("[data-view=edit]")).to_be_hidden()
    expect(page.locator("[data-cdrom] button")).to_have_count(0)
    expect(page.locator("[data-view=xml]")).to_be_visible()


@pytest.mark.parametrize("user", ["admin", "viewer"])
def test_the_views_of_a_vm_on_a_phone(page, server, user):
    page.set_viewport_size(PHONE)
    log_in(page, server.url, user)
    if user == "admin":
        page.click("[data-create-vm]")
        expect(page.locator("[data-create-dialog] [data-create-submit]")).to_be_enabled()
        screenshot(page, "vm-create-phone", full_page=False)
        page.keyboard.press("Escape")
    select(page, DB_1, "db-1")
    screenshot(page, f"vm-detail-{user}-phone")
    if user == "admin":
        page.click("[data-delete-vm]")
        expect(page.locator("[data-delete-volumes] li")).to_have_count(1)
        screenshot(page, "vm-delete-phone", full_page=False)
        page.keyboard.press("Escape")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone"
    assert re.search("db-1", page.locator("[data-detail-title]").inner_text())


@pytest.mark.app_settings(TWO_HOSTS)
def test_with_two_hosts_the_vm_is_made_on_the_host_chosen(page, server, api):
    log_in(page, server.url, "admin")
    dialog = open_create(page)
    host = dialog.get_by_label("Host")
    expect(host).to_be_visible()
    expect(host).to_have_value("demo")   # the default host first
    host.select_option("lab")
    expect(dialog.locator("[data-create-submit]")).to_be_enabled()   # the lab's choices
    dialog.get_by_label("Disk", exact=True).select_option("none")
    dialog.get_by_label("Name").fill("h3-on-lab")
    dialog.get_by_label("Memory (MiB)").fill("128")
    dialog.get_by_label("Start it once created").check()
    dialog.locator("[data-create-submit]").click()
    expect(page.locator("[data-detail-title]")).to_have_text("h3-on-lab")
    expect(page.locator("[data-action-message]")).to_have_text(
        "h3-on-lab created on lab and started.")
    expect(page.locator("[data-detail-state]")).to_have_text("running")
    assert any(vm["name"] == "h3-on-lab" for vm in api.get("hosts/lab/vm"))
    assert all(vm["name"] != "h3-on-lab" for vm in api.get("hosts/demo/vm"))


@pytest.mark.console_errors(r"status of 409")
@pytest.mark.console_errors(r"status of 409")
def test_an_admin_clones_a_shut_off_vm(page, server, api):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    clone = page.locator("[data-clone-vm]")
    expect(clone).to_be_disabled()   # running
    api.action(WEB_1, "destroy")     # elsewhere: the page follows
    expect(clone).to_be_enabled()
    clone.click()
    dialog = page.locator("[data-clone-dialog]")
    name = dialog.get_by_label("Name of the copy")
    expect(name).to_have_value("web-1-copy")
    error = dialog.locator(f"#{name.get_attribute('id')}-error")
    name.fill(".hidden")   # told before sending, in the words of every name field
    dialog.locator("[data-clone-submit]").click()
    expect(error).to_have_text("“.hidden” is not a VM name: at most 64 of A-Z a-z 0-9 . _ -, "
                               "not starting with . or -.")
    name.fill("db-1")
    dialog.locator("[data-clone-submit]").click()
    expect(error).to_contain_text("db-1")
    name.fill("h3-web-copy")
    screenshot(page, "vm-clone-desktop")
    dialog.locator("[data-clone-submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-detail-title]")).to_have_text("h3-web-copy")
    expect(page.locator("[data-action-message]")).to_have_text("h3-web-copy cloned from web-1.")
    copy = api.get(f"vm/{fleet_uuid(api, 'h3-web-copy')}")
    assert copy["disks"][0]["volume"] != "web-1.qcow2"
    assert copy["disks"][0]["volume"] in volume_names(api)
