"""The Storage and Networks views of a host: what an admin sees and does, what a viewer sees,
the refusals in words, the view kept in the URL's hash."""

import re

import pytest

from ..conftest import DEMO_URI, LAB_URI
from .pages import expect, log_in, screenshot

PHONE = {"width": 360, "height": 740}
TWO_HOSTS = {"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"}


def open_view(page, name):
    page.click(f"[data-view-link={name}]")
    view = page.locator(f"[data-{name}]")
    expect(view).to_be_visible()
    expect(page.locator("[data-workspace]")).to_be_hidden()
    return view


def pool_row(view, name):
    return view.locator(f"tr[data-pool='{name}']")


def volume_row(view, name):
    return view.locator(f"tr[data-volume='{name}']")


def network_row(view, name):
    return view.locator(f"tr[data-network='{name}']")


def confirm(page, title):
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog.locator("[data-confirm-title]")).to_have_text(title)
    dialog.locator("[data-confirm]").click()


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_an_admin_sees_the_pool_and_its_volumes_and_makes_and_deletes_one(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    assert page.url.endswith("#storage/default")
    expect(view.locator("h2")).to_have_text("Storage on default")
    pool = pool_row(view, "default")
    expect(pool).to_contain_text("dir")
    expect(pool).to_contain_text("running")
    expect(pool).to_contain_text("58.6 GiB of 100 GiB used, 41.4 GiB free")
    expect(pool.locator("meter")).to_have_attribute("value", "62935531520")
    expect(view.locator("#volumes-title")).to_have_text("Volumes in default")
    iso = volume_row(view, "debian-12-netinst.iso")
    expect(iso).to_contain_text("db-1")
    expect(volume_row(view, "web-1.qcow2")).to_contain_text("qcow2")
    expect(volume_row(view, "web-1.qcow2")).to_contain_text("/var/lib/libvirt/images/web-1.qcow2")
    screenshot(page, "storage-admin")

    view.locator("#volume-name").fill("scratch.qcow2")
    view.locator("#volume-size").fill("2")
    view.locator("[data-volume-form] button[type=submit]").click()
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "Volume scratch.qcow2 created (2 GiB, qcow2).")
    made = volume_row(view, "scratch.qcow2")
    expect(made).to_contain_text("2 GiB")
    expect(made).to_contain_text("no VM")
    expect(pool).to_contain_text("6")   # the pool's volume count follows
    volumes = api.get("pools/default/volumes")
    assert {"name": "scratch.qcow2", "capacity": 2 * 1024 ** 3} == {
        key: value for volume in volumes if volume["name"] == "scratch.qcow2"
        for key, value in volume.items() if key in ("name", "capacity")}

    made.get_by_role("button", name="Delete scratch.qcow2").click()
    confirm(page, "Delete the volume scratch.qcow2?")
    expect(made).to_have_count(0)
    expect(view.locator(".volumes [role=status]")).to_have_text("Volume scratch.qcow2 deleted.")
    assert "scratch.qcow2" not in {volume["name"] for volume in api.get("pools/default/volumes")}


@pytest.mark.console_errors(r"status of 409")
def test_the_refusals_to_delete_what_vms_use_are_told_in_words(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    volume_row(view, "web-1.qcow2").get_by_role("button", name="Delete web-1.qcow2").click()
    confirm(page, "Delete the volume web-1.qcow2?")
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "web-1.qcow2 was not deleted: in use: web-1.qcow2 is used by web-1.")
    pool_row(view, "default").get_by_role("button", name="Delete default").click()
    confirm(page, "Delete the pool default?")
    refusal = view.locator("[role=status]").first
    expect(refusal).to_contain_text("default was not deleted: in use: ")
    expect(refusal).to_contain_text("web-1.qcow2 is used by web-1")
    assert len(api.get("pools/default/volumes")) == 5
    screenshot(page, "storage-refusal", full_page=False)

    view = open_view(page, "networks")
    network_row(view, "default").get_by_role("button", name="Delete default").click()
    confirm(page, "Delete the network default?")
    # (libvirt lists the VMs in no set order)
    expect(view.locator("[role=status]")).to_have_text(re.compile(
        r"^default was not deleted: the network default is used by running VMs: "
        r"(build-1|web-1|web-2), (build-1|web-1|web-2), (build-1|web-1|web-2)\.$"))
    assert "default" in {network["name"] for network in api.get("networks")}


@pytest.mark.console_errors(r"status of 501")
def test_an_upload_shows_its_progress_and_the_hosts_refusal(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    expect(view.locator("[data-upload-form]")).to_be_visible()
    sent = []
    page.on("request", lambda request: request.method == "PUT" and sent.append(
        (request.url, request.headers.get("content-type"))))
    view.locator("#upload-file").set_input_files(
        files=[{"name": "tiny.iso", "mimeType": "application/x-iso9660-image",
                "buffer": b"\x00" * 300_000}])
    expect(view.locator("#upload-name")).to_have_value("tiny.iso")
    view.locator("[data-upload-form] button[type=submit]").click()
    # libvirt's test driver cannot upload into a volume: the page says so in words, after
    # the whole file went out.
    message = view.locator(".volumes [role=status]")
    expect(message).to_contain_text("tiny.iso was not uploaded: this host's libvirt driver "
                                     "cannot upload into a volume (501).")
    expect(view.locator(".upload-words")).to_have_text("293 KiB of 293 KiB (100 %)")
    assert view.locator("progress").evaluate("bar => bar.value") == 1
    assert sent == [(f"{server.url}hosts/default/pools/default/volumes/tiny.iso/content",
                     "application/octet-stream")]
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_enabled()
    assert "tiny.iso" not in {volume["name"] for volume in api.get("pools/default/volumes")}
    screenshot(page, "storage-upload")


def test_an_admin_defines_a_network_and_deletes_it(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    default = network_row(view, "default")
    expect(default).to_contain_text("nat")
    expect(default).to_contain_text("virbr0")
    expect(default).to_contain_text("192.168.122.1/24")
    expect(default).to_contain_text("192.168.122.128 – 192.168.122.254")
    # Leases go to admins; the test driver cannot tell them.
    expect(default).to_contain_text("not reported by this host")
    expect(network_row(view, "isolated")).to_contain_text("isolated")
    screenshot(page, "networks-admin")

    view.locator("#network-name").fill("h4lab")
    view.locator("#network-subnet").fill("10.44.0.0/24")
    view.locator("#network-dhcp-start").fill("10.44.0.50")
    view.locator("#network-dhcp-end").fill("10.44.0.99")
    view.locator("[data-network-form] button[type=submit]").click()
    expect(view.locator("[role=status]")).to_have_text("Network h4lab defined and started.")
    made = network_row(view, "h4lab")
    expect(made).to_contain_text("active")
    expect(made).to_contain_text("10.44.0.50 – 10.44.0.99")
    assert api.get("networks/h4lab")["ips"][0]["dhcp_start"] == "10.44.0.50"

    made.get_by_role("button", name="Stop h4lab").click()
    expect(made).to_contain_text("inactive")
    made.get_by_role("button", name="Delete h4lab").click()
    confirm(page, "Delete the network h4lab?")
    expect(made).to_have_count(0)
    assert api.call("GET", "networks/h4lab")[0] == 404


@pytest.mark.parametrize("subnet, start, end, words, field", [
    ("10.44.0.0", "", "", "“10.44.0.0” is not an IPv4 subnet such as 10.0.5.0/24.", "subnet"),
    ("10.44.0.0/31", "", "", "A prefix of /31 is outside 8 to 30.", "subnet"),
    ("10.44.0.7/24", "", "", "10.44.0.7/24 has host bits set: the subnet is 10.44.0.0/24.",
     "subnet"),
    ("10.44.0.0/24", "10.45.0.9", "", "The DHCP range's start, 10.45.0.9, is outside "
     "10.44.0.0/24.", "dhcp_start"),
    ("10.44.0.0/24", "10.44.0.1", "", "The DHCP range's start, 10.44.0.1, is the gateway's "
     "address.", "dhcp_start"),
    ("10.44.0.0/24", "10.44.0.90", "10.44.0.20", "The DHCP range ends before it starts.",
     "dhcp_end"),
])
def test_a_network_form_with_a_slip_is_told_before_sending(page, server, subnet, start, end,
                                                            words, field):
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    view.locator("#network-name").fill("h4lab")
    view.locator("#network-subnet").fill(subnet)
    view.locator("#network-dhcp-start").fill(start)
    view.locator("#network-dhcp-end").fill(end)
    view.locator("[data-network-form] button[type=submit]").click()
    expect(view.locator("[role=status]")).to_have_text(words)
    expect(view.locator(f"[name={field}]")).to_have_attribute("aria-invalid", "true")
    expect(view.locator(f"[name={field}]")).to_be_focused()
    assert posts == []


@pytest.mark.parametrize("user", ["viewer", "tenant"])
def test_viewers_and_operators_see_storage_and_networks_without_buttons(page, server, user):
    log_in(page, server.url, user)
    view = open_view(page, "storage")
    expect(volume_row(view, "web-1.qcow2")).to_be_visible()
    for form in ("[data-pool-form]", "[data-volume-form]", "[data-upload-form]"):
        expect(view.locator(form)).to_be_hidden()
    expect(view.locator(".row-actions")).to_have_count(0)
    expect(view.locator(".read-only")).to_have_text(
        "You may look: pools and volumes are changed by admins.")
    screenshot(page, f"storage-{user}", full_page=False)

    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    expect(view.locator("[data-network-form]")).to_be_hidden()
    expect(view.locator(".row-actions")).to_have_count(0)
    # Leases are for admins: no such column at all.
    expect(view.locator("th", has_text="Leases")).to_have_count(0)


def test_the_view_is_kept_in_the_hash_for_reload_and_back(page, server):
    log_in(page, server.url, "admin")
    open_view(page, "networks")
    page.reload()
    expect(page.locator("[data-networks]")).to_be_visible()
    expect(network_row(page.locator("[data-networks]"), "default")).to_be_visible()
    expect(page.locator("[data-view-link=networks]")).to_have_attribute("aria-current", "page")
    open_view(page, "storage")
    page.go_back()
    expect(page.locator("[data-networks]")).to_be_visible()
    expect(page.locator("[data-storage]")).to_be_hidden()
    page.click("[data-view-link=vms]")
    expect(page.locator("[data-workspace]")).to_be_visible()
    expect(page.locator("[data-networks]")).to_be_hidden()


@pytest.mark.app_settings(TWO_HOSTS)
def test_with_two_hosts_the_view_shows_the_chosen_hosts_storage(page, server):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    choice = page.locator("#view-host")
    expect(choice).to_have_value("demo")
    expect(view.locator("h2")).to_have_text("Storage on demo")
    expect(pool_row(view, "default")).to_contain_text("41.4 GiB free")
    choice.select_option("lab")
    expect(view.locator("h2")).to_have_text("Storage on lab")
    expect(pool_row(view, "default")).to_contain_text("1.61 GiB of 100 GiB used")
    assert page.url.endswith("#storage/lab")
    # The other tab keeps the host.
    page.click("[data-view-link=networks]")
    expect(page.locator("[data-networks] h2")).to_have_text("Networks on lab")
    assert page.url.endswith("#networks/lab")
    page.go_back()
    expect(view.locator("h2")).to_have_text("Storage on lab")


def test_on_a_phone_the_listings_become_cards_and_nothing_scrolls_sideways(page, server):
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    expect(volume_row(view, "web-1.qcow2")).to_be_visible()
    assert scroll_width(page) <= PHONE["width"]
    screenshot(page, "storage-phone")
    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    assert scroll_width(page) <= PHONE["width"]
    screenshot(page, "networks-phone")


def start_upload(view, size):
    view.locator("#upload-file").set_input_files(
        files=[{"name": "tiny.iso", "mimeType": "application/octet-stream",
                "buffer": b"\x00" * size}])
    view.locator("[data-upload-form] button[type=submit]").click()


@pytest.mark.console_errors(r"status of 413")
@pytest.mark.app_settings({"virtdancer.upload.max_bytes": "100000"})
def test_an_upload_above_the_servers_limit_is_told_in_words(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    start_upload(view, 300_000)
    expect(view.locator(".volumes [role=status]")).to_contain_text(
        "tiny.iso was not uploaded: the file is larger than this server takes for an upload "
        "(413): the limit is virtdancer.upload.max_bytes")
    assert "tiny.iso" not in {volume["name"] for volume in api.get("pools/default/volumes")}


@pytest.mark.console_errors(r"status of 411")
def test_an_upload_the_server_wants_a_length_for_is_told_in_words(page, server):
    # A browser always sends the file's length: the server's 411 is played by the test.
    page.route("**/content", lambda route: route.fulfill(
        status=411, content_type="application/json",
        body='{"status": "error", "code": 411, "message": "Content-Length is required"}'))
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    start_upload(view, 1000)
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "tiny.iso was not uploaded: the server needs the file's length before it takes an "
        "upload, and none was sent (411). The server said: Content-Length is required.")


def test_an_upload_under_way_can_be_cancelled(page, server, api):
    held = []
    page.route("**/content", lambda route: held.append(route))   # never answered
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    start_upload(view, 1000)
    cancel = view.locator("button", has_text="Cancel upload")
    expect(cancel).to_be_visible()
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_disabled()
    screenshot(page, "storage-uploading", full_page=False)
    cancel.click()
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "The upload of tiny.iso was cancelled.")
    expect(cancel).to_be_hidden()
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_enabled()
    assert len(held) == 1
    assert "tiny.iso" not in {volume["name"] for volume in api.get("pools/default/volumes")}


@pytest.mark.console_errors(r"status of 501")
def test_an_admin_defines_a_pool_stops_it_and_deletes_it_and_is_told_why_a_volume_cannot_grow(
        page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    view.locator("#pool-name").fill("h4pool")
    view.locator("#pool-path").fill("relative/isos")
    view.locator("[data-pool-form] button[type=submit]").click()
    message = view.locator("[role=status]").first
    expect(message).to_have_text("Give the pool's folder as an absolute path: /srv/isos.")
    view.locator("#pool-path").fill("/srv/h4pool")
    view.locator("[data-pool-form] button[type=submit]").click()
    expect(message).to_have_text("Pool h4pool defined and started.")
    made = pool_row(view, "h4pool")
    expect(made).to_contain_text("running")
    expect(view.locator("#volumes-title")).to_have_text("Volumes in h4pool")
    expect(view.locator(".volumes")).to_contain_text("h4pool holds no volumes.")
    assert api.get("pools/h4pool")["path"] == "/srv/h4pool"

    made.get_by_role("button", name="Stop h4pool").click()
    expect(made).to_contain_text("inactive")
    expect(view.locator(".volumes")).to_contain_text("h4pool is not running: start it to see")
    expect(view.locator("[data-volume-form]")).to_be_hidden()
    made.get_by_role("button", name="Delete h4pool").click()
    confirm(page, "Delete the pool h4pool?")
    expect(made).to_have_count(0)
    expect(message).to_have_text("Pool h4pool deleted.")
    assert api.call("GET", "pools/h4pool")[0] == 404

    # libvirt's test driver cannot resize a volume: the page says so in the server's words.
    pool_row(view, "default").get_by_role("button", name="default", exact=True).click()
    volume = volume_row(view, "web-1.qcow2")
    volume.get_by_role("button", name="Grow web-1.qcow2").click()
    size = volume.locator("input[name=size]")
    expect(size).to_be_focused()
    expect(size).to_have_value("20480")
    size.fill("100")
    volume.locator("button[type=submit]").click()
    volumes_message = view.locator(".volumes [role=status]")
    expect(volumes_message).to_have_text(
        "Give web-1.qcow2 a size larger than 20 GiB: a volume can only grow.")
    size.fill("30000")
    volume.locator("button[type=submit]").click()
    expect(volumes_message).to_contain_text("web-1.qcow2 was not grown: this function is not "
                                            "supported by the connection driver")
    expect(volume.get_by_role("button", name="Grow web-1.qcow2")).to_be_visible()
