"""The Storage view: an admin's pools and volumes, what they make and delete, uploads with
their progress, cancel and refusals in words."""

import json

import pytest

from .hostviews import confirm, open_view, pool_row, start_upload, volume_row
from .pages import expect, log_in, screenshot


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
    # The size's number has room for a few digits, and its unit stays inside the form.
    form = view.locator("[data-volume-form]").bounding_box()
    number = view.locator("#volume-size").bounding_box()
    unit = view.locator("[data-volume-form] .size-row select").bounding_box()
    assert number["width"] >= 48, number
    assert unit["x"] + unit["width"] <= form["x"] + form["width"], (unit, form)

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
    expect(message).to_have_text("h4pool stopped.")
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
    expect(volumes_message).to_contain_text("web-1.qcow2 was not grown: this host's libvirt "
                                            "driver cannot grow a volume (this function is not "
                                            "supported by the connection driver")
    expect(volume.get_by_role("button", name="Grow web-1.qcow2")).to_be_visible()


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
    # libvirt's test driver cannot upload into a volume: the task that writes the file into
    # it fails, and the page says so in words, after the whole file went out.
    message = view.locator(".volumes [role=status]")
    expect(message).to_contain_text("tiny.iso was not uploaded: VirtDancer could not write it "
                                    "into the volume: this host's libvirt driver cannot write a "
                                    "file into a volume")
    assert sent == [(f"{server.url}hosts/default/pools/default/volumes/tiny.iso/content",
                     "application/octet-stream")]
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_enabled()
    assert "tiny.iso" not in {volume["name"] for volume in api.get("pools/default/volumes")}
    screenshot(page, "storage-upload")


TASK_ID = "00112233aabbccdd"
VOLUME = {"name": "tiny.iso", "format": "raw", "capacity": 200000, "allocation": 200000,
          "path": "/var/lib/libvirt/images/tiny.iso", "in_use": False, "used_by": [],
          "url": "http://x/pools/default/volumes/tiny.iso", "created": True}


class PlayedTask:
    """A real host's upload task, played to the page: 202, then the states `states` gives."""

    def __init__(self, page):
        self.state, self.progress, self.error, self.deleted = "running", 0.0, None, 0
        page.route("**/content", lambda route: route.fulfill(
            status=202, content_type="application/json", headers={
                "Location": f"http://x/tasks/{TASK_ID}"}, body=json.dumps(self.body())))
        page.route(f"**/tasks/{TASK_ID}", self.answer)

    def body(self):
        done = self.state == "done"
        return {"id": TASK_ID, "type": "upload_volume", "host": "default", "vm": None,
                "user": "admin", "state": self.state, "progress": self.progress,
                "created": 1.0, "started": 1.0, "finished": 2.0 if done else None,
                "result": VOLUME if done else None, "error": self.error}

    def answer(self, route):
        if route.request.method == "DELETE":
            self.deleted += 1
            self.state, self.error = "cancelled", "cancelled (the upload was stopped)"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(self.body()))


def test_a_finished_upload_is_told_and_the_form_is_ready_for_the_next(page, server):
    # libvirt's test driver cannot take uploads (see above): a real host's task is played here.
    task = PlayedTask(page)
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    start_upload(view, 200_000)
    words = view.locator(".upload-words")
    expect(words).to_have_text("VirtDancer writes it into the volume: 0 %")
    task.progress = 0.42
    expect(words).to_have_text("VirtDancer writes it into the volume: 42 %")
    assert view.locator("progress").evaluate("bar => bar.value") == pytest.approx(0.42)
    expect(view.locator("button", has_text="Cancel upload")).to_be_visible()
    view.locator(".upload-progress").scroll_into_view_if_needed()
    screenshot(page, "storage-upload-writing", full_page=False)
    task.state, task.progress = "done", 1.0
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "tiny.iso uploaded as tiny.iso (195 KiB): a new raw volume in "
        "/var/lib/libvirt/images/tiny.iso.")
    expect(view.locator("#upload-name")).to_have_value("")
    expect(view.locator("button", has_text="Cancel upload")).to_be_hidden()
    # Disabled while it ran, Upload had lost the focus to the page's body: it has it back.
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_focused()


def test_an_upload_can_be_cancelled_while_virtdancer_writes_it(page, server):
    task = PlayedTask(page)
    task.progress = 0.3
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    start_upload(view, 1000)
    expect(view.locator(".upload-words")).to_have_text("VirtDancer writes it into the volume: 30 %")
    view.locator("button", has_text="Cancel upload").click()
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "The upload of tiny.iso was cancelled (the upload was stopped).")
    assert task.deleted == 1
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_enabled()


@pytest.mark.console_errors(r"status of 409")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_volume_is_cloned_from_its_row_into_a_pool_chosen(page, server, api, scheme):
    api.raw_volume("orig.img")
    page.emulate_media(color_scheme=scheme)
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    volume_row(view, "orig.img").get_by_role("button", name="Clone orig.img").click()
    dialog = page.locator("dialog[data-clone-volume-dialog]")
    expect(dialog.locator("h2")).to_have_text("Clone orig.img")
    name = dialog.get_by_label("Name of the copy")
    expect(name).to_have_value("orig-copy.img")
    expect(dialog.get_by_label("Into the pool")).to_have_value("default")
    screenshot(page, f"storage-clone-volume-{scheme}", full_page=False)
    name.fill("web-1.qcow2")
    dialog.locator("[data-clone-volume-submit]").click()
    expect(dialog.locator(".field-error").first).to_contain_text(
        "The pool default has a volume named web-1.qcow2 already.")
    name.fill("orig-copy.img")
    dialog.locator("[data-clone-volume-submit]").click()
    expect(dialog).to_be_hidden()
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "orig.img copied as orig-copy.img into default (1 MiB, raw).")
    expect(volume_row(view, "orig-copy.img")).to_be_visible()
    assert "orig-copy.img" in {volume["name"] for volume in api.get("pools/default/volumes")}


def test_the_keyboard_stays_in_the_volumes_when_their_rows_are_redrawn(page, server, api):
    api.raw_volume("keys.img")
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    grow = view.get_by_role("button", name="Grow keys.img")
    grow.focus()
    page.keyboard.press("Enter")
    expect(view.get_by_label("New size of keys.img")).to_be_focused()
    page.keyboard.press("Escape")   # as the grow form's Cancel
    expect(grow).to_be_focused()

    clone = view.get_by_role("button", name="Clone keys.img")
    clone.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "keys.img copied as keys-copy.img into default (1 MiB, raw).")
    # The redrawn rows had dropped the focus: the twin of the button pressed has it.
    expect(clone).to_be_focused()

    view.get_by_role("button", name="Delete keys.img").click()
    confirm(page, "Delete the volume keys.img?")
    expect(view.locator(".volumes [role=status]")).to_have_text("Volume keys.img deleted.")
    expect(view.locator("#volumes-title")).to_be_focused()   # its row is gone

    # A pool's Autostart becomes No autostart in the redrawn row: that one has the focus.
    pool_row(view, "default").get_by_role("button", name="Autostart default").focus()
    page.keyboard.press("Enter")
    expect(pool_row(view, "default").get_by_role("button", name="No autostart default")) \
        .to_be_focused()


@pytest.mark.console_errors(r"status of 409")
def test_a_volume_a_running_vm_uses_is_not_cloned_and_the_dialog_says_why(page, server):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    volume_row(view, "web-1.qcow2").get_by_role("button", name="Clone web-1.qcow2").click()
    dialog = page.locator("dialog[data-clone-volume-dialog]")
    dialog.locator("[data-clone-volume-submit]").click()
    expect(dialog.locator("[role=alert]")).to_contain_text(
        "web-1.qcow2 was not copied: in use: web-1.qcow2 is used by web-1; a copy of a disk a "
        "running VM writes to would be inconsistent")
    # Disabled while it sent, the button had lost the focus to the page's body.
    expect(dialog.locator("[data-clone-volume-submit]")).to_be_focused()


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
    # Another view meanwhile does not stop it.
    open_view(page, "networks")
    view = open_view(page, "storage")
    expect(cancel).to_be_visible()
    cancel.click()
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "The upload of tiny.iso was cancelled.")
    expect(cancel).to_be_hidden()
    expect(view.locator("[data-upload-form] button[type=submit]")).to_be_enabled()
    assert len(held) == 1
    assert "tiny.iso" not in {volume["name"] for volume in api.get("pools/default/volumes")}


def test_an_upload_into_a_volume_already_there_asks_first(page, server, api):
    api.raw_volume("spare.img")
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    expect(volume_row(view, "spare.img")).to_be_visible()
    puts = []
    page.on("request", lambda request: request.method == "PUT" and puts.append(request.url))
    view.locator("#upload-name").fill("spare.img")
    start_upload(view, 1000)
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog.locator("[data-confirm-title]")).to_have_text("Replace the content of spare.img?")
    expect(dialog).to_contain_text("/var/lib/libvirt/images/spare.img (1 MiB) is overwritten "
                                   "with tiny.iso (1000 B)")
    dialog.locator("[data-cancel]").click()
    expect(dialog).to_be_hidden()
    assert puts == []
    view.locator("[data-upload-form] button[type=submit]").click()
    confirm(page, "Replace the content of spare.img?")
    expect(view.locator(".volumes [role=status]")).to_contain_text(
        "tiny.iso was not uploaded: VirtDancer could not write it into the volume")
    assert len(puts) == 1 and puts[0].endswith("/volumes/spare.img/content")


@pytest.mark.console_errors(r"status of 400", r"status of 409")
def test_a_volume_the_pool_cannot_hold_or_a_name_taken_is_told_in_words(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    message = view.locator(".volumes [role=status]")
    form = view.locator("[data-volume-form]")
    view.locator("#volume-name").fill("-dash")
    view.locator("#volume-size").fill("1")
    form.locator("button[type=submit]").click()
    expect(message).to_have_text("“-dash” is not a volume name: at most 64 of A-Z a-z 0-9 . _ -, "
                                 "not starting with . or -.")
    view.locator("#volume-name").fill("big.qcow2")
    view.locator("#volume-size").fill("0")
    form.locator("button[type=submit]").click()
    expect(message).to_have_text("Give the size as a positive number of MiB or GiB (whole MiB).")
    expect(view.locator("#volume-size")).to_be_focused()

    view.locator("#volume-size").fill("500")
    form.locator("button[type=submit]").click()
    expect(message).to_have_text(
        "big.qcow2 was not created: the pool default has 41.4 GiB (44438650880 bytes) "
        "available, less than the 500.0 GiB (536870912000 bytes) asked for.")
    view.locator("#volume-name").fill("web-1.qcow2")
    view.locator("#volume-size").fill("1")
    form.locator("button[type=submit]").click()
    expect(message).to_have_text("web-1.qcow2 was not created: the pool default has a volume "
                                 "named web-1.qcow2 already.")
    assert len(api.get("pools/default/volumes")) == 5
