"""Uploads and copies of volumes as tasks, on the test driver.

The test driver cannot upload (no virStorageVolUpload): a stand-in stream takes the bytes here,
so that progress, cancelling and the undoing of a failed upload are tested in the fast ring;
tests/real/test_pools.py uploads into a real pool.
"""

import io
import threading
import time

import libvirt
import pytest

from virtdancer.views.taken_body import BodyTooShort, take_body

from . import test_pools
from .conftest import close_app, make_app
from .test_pools import STORAGE_URI, by_name, client
from .test_tasks import finished

# The storage fleet's app and its admin, as tests/test_pools.py makes them.
app = test_pools.app
admin = test_pools.admin

URL = "/pools/images/volumes"


class FakeStream:
    """What libvirt's stream would take: the bytes sent, whether it was finished or aborted."""

    def __init__(self, gate=None, fail_after=None):
        self.sent = bytearray()
        self.finished = self.aborted = False
        # When given, sends after the first wait for it: every test sets it once done, and
        # on a loaded machine its requests meanwhile may take longer than a few seconds.
        self.gate = gate
        self.fail_after = fail_after
        self.first_sent = threading.Event()

    def send(self, data):
        if self.gate is not None and self.sent:
            self.first_sent.set()
            self.gate.wait(60)
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise libvirt.libvirtError("the disk went away")
        self.sent += data
        return len(data)

    def finish(self):
        self.finished = True

    def abort(self):
        self.aborted = True


class Streams(list):
    """The streams opened so far; `next`: how the next one behaves (FakeStream's arguments)."""

    next = {}


@pytest.fixture
def streams(monkeypatch):
    """Every stream an upload opens, a `FakeStream` (make the next with `streams.next`)."""
    made = Streams()
    made.next = {}

    def new_stream(conn, flags=0):
        made.append(FakeStream(**made.next))
        return made[-1]

    monkeypatch.setattr(libvirt.virConnect, "newStream", new_stream)
    monkeypatch.setattr(libvirt.virStorageVol, "upload",
                        lambda vol, stream, offset, length, flags=0: 0)
    return made


def wait_for_first_chunk(streams):
    for _ in range(500):
        if streams and streams[0].first_sent.wait(0.01):
            return
        time.sleep(0.01)
    raise AssertionError("the upload sent nothing")


def put(test, name, data, **kwargs):
    return test.put(f"{URL}/{name}/content", data, content_type="application/octet-stream",
                    **kwargs)


@pytest.mark.parametrize("name, created, capacity", [("fresh.raw", True, 1024 * 1024),
                                                     ("spare.raw", False, 16 * 1024 * 1024)])
def test_an_upload_is_a_task_whose_result_is_the_volume_and_whether_it_was_made(
        admin, streams, name, created, capacity):
    data = bytes(range(256)) * 4096         # 1 MiB: more than one chunk
    accepted = put(admin, name, data, status=202)
    assert accepted.location.endswith(f"/tasks/{accepted.json['id']}")
    assert accepted.json["type"] == "upload_volume" and accepted.json["vm"] is None
    done = finished(admin, accepted.location)
    assert done["state"] == "done" and done["progress"] == 1.0, done
    assert done["result"]["created"] is created
    assert done["result"]["name"] == name and done["result"]["capacity"] == capacity
    assert done["result"]["url"] == f"http://localhost/pools/images/volumes/{name}"
    assert bytes(streams[0].sent) == data and streams[0].finished
    assert name in by_name(admin.get(URL).json)


@pytest.mark.parametrize("name, existing", [("slow.raw", False), ("spare.raw", True)])
def test_a_cancel_deletes_a_new_volume_or_says_an_existing_one_is_partly_written(
        admin, streams, name, existing):
    """Progress follows the bytes sent until the cancel."""
    gate = threading.Event()
    streams.next = {"gate": gate}
    accepted = put(admin, name, b"c" * (768 * 1024), status=202)
    try:
        wait_for_first_chunk(streams)
        running = admin.get(accepted.location).json
        assert running["state"] == "running" and 0 < running["progress"] < 1, running
        assert admin.delete(accepted.location).json["id"] == accepted.json["id"]
    finally:
        gate.set()
    done = finished(admin, accepted.location)
    assert done["state"] == "cancelled" and streams[0].aborted, done
    # Two chunks of 256 KiB went: the first, and the one the cancel waited for.
    assert ("partly overwritten: its first 512.0 KiB" in done["error"]) is existing, done
    assert (name in by_name(admin.get(URL).json)) is existing


def test_a_failed_upload_deletes_the_volume_it_made_and_says_why(admin, streams):
    streams.next = {"fail_after": 256 * 1024}
    done = finished(admin, put(admin, "broken.raw", b"b" * (600 * 1024), status=202).location)
    assert done["state"] == "failed" and "the disk went away" in done["error"], done
    assert "partly" not in done["error"]
    assert "broken.raw" not in by_name(admin.get(URL).json)


def test_a_second_task_on_the_volume_is_a_409_naming_the_first(admin, streams):
    gate = threading.Event()
    streams.next = {"gate": gate}
    first = put(admin, "spare.raw", b"1" * (512 * 1024), status=202)
    try:
        refused = put(admin, "spare.raw", b"2" * 10, status=409)
        assert first.json["id"] in refused.json["message"]
        assert "spare.raw" in refused.json["message"]
        admin.post_json(f"{URL}/spare.raw/clone", {"name": "copy.raw"}, status=409)
        admin.delete(f"{URL}/spare.raw", status=409)
        admin.patch_json(f"{URL}/spare.raw", {"capacity_mib": 32}, status=409)
    finally:
        gate.set()
    assert finished(admin, first.location)["state"] == "done"
    # Once it has ended, the volume is free again.
    assert finished(admin, put(admin, "spare.raw", b"3", status=202).location)["state"] == "done"


def test_refusals_come_before_the_task(admin, streams):
    refused = put(admin, "shared.raw", b"u" * 10, status=409)
    assert "web-1" in refused.json["message"]
    put(admin, "spare.raw", b"", status=400)
    assert not streams
    assert admin.get("/tasks").json == []


def test_an_upload_larger_than_the_volume_is_a_400(streams):
    roomy = make_app(**{"virtdancer.hosts": f"store = {STORAGE_URI}"})
    try:
        refused = client(roomy).put(f"{URL}/spare.raw/content", b"", status=400, expect_errors=True,
                                    headers={"Content-Length": str(17 * 1024 * 1024)},
                                    content_type="application/octet-stream")
        assert "does not fit" in refused.json["message"]
    finally:
        close_app(roomy)


def test_uploads_and_clones_are_audited_with_their_task(admin, streams):
    upload = put(admin, "audited.raw", b"a" * 100, status=202)
    finished(admin, upload.location)
    clone = admin.post_json(f"{URL}/spare.raw/clone", {"name": "audited-copy.raw"}, status=202)
    finished(admin, clone.location)
    records = admin.get("/audit").json
    records = records["records"] if isinstance(records, dict) else records
    by_action = {record["action"]: record for record in records}
    assert by_action["volume.upload"]["task"] == upload.json["id"]
    assert by_action["volume.clone"]["task"] == clone.json["id"]
    assert by_action["volume.clone"]["status"] == 202


# -- clones ------------------------------------------------------------------------------------

def test_a_clone_is_a_task_whose_result_is_the_copy(admin):
    accepted = admin.post_json(f"/hosts/store{URL}/spare.raw/clone", {"name": "spare-2.raw"},
                               status=202)
    assert accepted.json["type"] == "clone_volume"
    done = finished(admin, accepted.location)
    assert done["state"] == "done", done
    copy = done["result"]
    assert copy["name"] == "spare-2.raw" and copy["format"] == "raw"
    assert copy["capacity"] == 16777216 and copy["in_use"] is False
    assert copy["url"] == "http://localhost/hosts/store/pools/images/volumes/spare-2.raw"
    assert admin.get(f"{URL}/spare-2.raw").json["name"] == "spare-2.raw"


def test_a_clone_in_another_format(admin):
    done = finished(admin, admin.post_json(f"{URL}/spare.raw/clone",
                                           {"name": "spare.qcow2", "format": "qcow2"},
                                           status=202).location)
    assert done["state"] == "done" and done["result"]["format"] == "qcow2", done


def test_clone_refusals_come_before_the_task(admin):
    taken = admin.post_json(f"{URL}/spare.raw/clone", {"name": "db1.qcow2"}, status=409)
    assert "db1.qcow2" in taken.json["message"]
    running = admin.post_json(f"{URL}/shared.raw/clone", {"name": "c.raw"}, status=409)
    assert "web-1" in running.json["message"] and "inconsistent" in running.json["message"]
    admin.post_json(f"{URL}/spare.raw/clone", {"name": "c.raw", "pool": "nowhere"}, status=404)
    admin.post_json(f"{URL}/nope.raw/clone", {"name": "c.raw"}, status=404)
    admin.post_json(f"{URL}/spare.raw/clone", {"name": "c.raw", "format": "vmdk"}, status=400)
    admin.post_json(f"{URL}/spare.raw/clone", {"name": "a/b"}, status=400)
    admin.post_json(f"{URL}/spare.raw/clone", {}, status=400)
    assert admin.get("/tasks").json == []
    assert "c.raw" not in by_name(admin.get(URL).json)


def test_a_clone_cannot_be_cancelled_once_it_runs(admin, monkeypatch):
    gate = threading.Event()
    original = libvirt.virStoragePool.createXMLFrom

    def slow(pool, xml, vol, flags=0):
        gate.wait(60)      # set once the test has tried to cancel, however long that took
        return original(pool, xml, vol, flags)

    monkeypatch.setattr(libvirt.virStoragePool, "createXMLFrom", slow)
    accepted = admin.post_json(f"{URL}/spare.raw/clone", {"name": "kept.raw"}, status=202)
    try:
        while admin.get(accepted.location).json["state"] != "running":
            pass
        refused = admin.delete(accepted.location, status=409)
        assert "cannot be cancelled" in refused.json["message"]
    finally:
        gate.set()
    assert finished(admin, accepted.location)["state"] == "done"


@pytest.mark.parametrize("user", ["viewer", "tenant"])
def test_only_admins_clone(app, user):
    client(app, user).post_json(f"{URL}/spare.raw/clone", {"name": "c.raw"}, status=403)


# -- the body, taken over ----------------------------------------------------------------------

def test_a_body_in_a_file_is_taken_without_a_copy(tmp_path):
    with open(tmp_path / "body", "w+b") as file:
        file.write(b"head" + b"0123456789")
        file.seek(4)
        taken = take_body({"wsgi.input": file}, 10)
    # The server's file is closed: the taken body still reads its bytes.
    assert taken.read(4) + taken.read(100) + taken.read(1) == b"0123456789"
    taken.close()
    taken.close()


def test_a_body_in_memory_is_copied_in_chunks_and_a_short_one_refused():
    taken = take_body({"wsgi.input": io.BytesIO(b"abcdef")}, 6, chunk=4)
    assert taken.read(3) + taken.read(3) == b"abcdef"
    taken.close()
    with pytest.raises(BodyTooShort):
        take_body({"wsgi.input": io.BytesIO(b"abc")}, 6)
