"""Storage pools and volumes on the test driver: /pools..., /hosts/<name>/pools..."""

import io
from pathlib import Path

import libvirt
import pytest
import webtest

from virtdancer.security.passwords import hash_password

from .conftest import DEMO_URI, close_app, make_app
from .test_tasks import finished

STORAGE_URI = "test://" + str(Path(__file__).with_name("storage_fleet.xml"))
WEB_1 = "6f1c3a52-2d4e-4b8a-9e61-0a7c5d2f8b11"
DB_1 = "c3d7f0e8-5b26-4a91-8c4f-7d2e1b9a6c33"


@pytest.fixture
def app():
    app = make_app(**{"virtdancer.hosts": f"store = {STORAGE_URI}\ndemo = {DEMO_URI}",
                      "virtdancer.upload.max_bytes": "1048576"})
    yield app
    close_app(app)


def client(app, user="admin", password=None):
    test = webtest.TestApp(app)
    test.authorization = ("Basic", (user, password or user))
    return test


@pytest.fixture
def admin(app):
    return client(app)


def by_name(items):
    return {item["name"]: item for item in items}


def test_the_pools_of_a_host_with_their_figures(app):
    pools = client(app, "viewer").get("/pools").json
    assert [pool["name"] for pool in pools] == sorted(pool["name"] for pool in pools)
    images = by_name(pools)["images"]
    assert images["type"] == "dir"
    assert images["state"] == "running" and images["active"] is True
    assert images["persistent"] is True and images["autostart"] is False
    assert images["volumes"] == 3
    assert images["capacity"] == 100 * 1024 ** 3    # the test driver's figure
    assert images["allocation"] == 104857600 + 1048576 + 16777216
    assert images["available"] == images["capacity"] - images["allocation"]
    assert images["path"] == "/srv/vd/images"
    assert client(app, "viewer").get("/hosts/store/pools/images").json == images


def test_volumes_name_only_the_users_one_sees(app):
    admin = by_name(client(app).get("/pools/images/volumes").json)
    # By name, whatever order libvirt lists the domains in.
    assert admin["shared.raw"]["used_by"] == [{"uuid": DB_1, "name": "db-1"},
                                              {"uuid": WEB_1, "name": "web-1"}]
    assert admin["db1.qcow2"]["format"] == "qcow2"
    assert admin["db1.qcow2"]["capacity"] == 1073741824
    assert admin["spare.raw"] == {"name": "spare.raw", "format": "raw", "capacity": 16777216,
                                  "allocation": 16777216, "path": "/srv/vd/images/spare.raw",
                                  "in_use": False, "used_by": []}
    tenant = by_name(client(app, "tenant").get("/pools/images/volumes").json)
    assert tenant["shared.raw"]["in_use"] is True
    assert tenant["shared.raw"]["used_by"] == [{"uuid": WEB_1, "name": "web-1"}]
    assert tenant["db1.qcow2"]["in_use"] is True
    assert tenant["db1.qcow2"]["used_by"] == []
    assert "db-1" not in client(app, "tenant").get("/pools/images/volumes").text


def test_volume_users_are_found_in_one_domain_listing(app, libvirt_calls):
    calls = libvirt_calls.calls(lambda: client(app).get("/pools/images/volumes"))
    assert calls["virConnect.listAllDomains"] == 1


@pytest.mark.parametrize("user", ["viewer", "tenant"])
def test_only_admins_change_storage(app, user):
    test = client(app, user)
    test.post_json("/pools", {"name": "x", "path": "/srv/x"}, status=403)
    test.post_json("/pools/images/action", {"action": "refresh"}, status=403)
    test.delete("/pools/images", status=403)
    test.post_json("/pools/images/volumes", {"name": "n.raw", "format": "raw",
                                             "capacity_mib": 1}, status=403)
    test.patch_json("/pools/images/volumes/spare.raw", {"capacity_mib": 32}, status=403)
    test.delete("/pools/images/volumes/spare.raw", status=403)
    test.put("/pools/images/volumes/spare.raw/content", b"x" * 10,
             content_type="application/octet-stream", status=403)
    assert len(client(app).get("/pools/images/volumes").json) == 3


def test_admin_makes_and_deletes_a_volume(admin):
    accepted = admin.post_json("/hosts/store/pools/images/volumes",
                               {"name": "new.qcow2", "format": "qcow2", "capacity_mib": 16},
                               status=202)
    assert accepted.json["type"] == "create_volume" and accepted.json["vm"] is None
    done = finished(admin, accepted.location)
    assert done["state"] == "done", done
    made = done["result"]
    assert made["url"].endswith("/hosts/store/pools/images/volumes/new.qcow2")
    assert made["capacity"] == 16 * 1024 * 1024
    assert made["format"] == "qcow2"
    assert admin.get("/pools/images/volumes/new.qcow2").json["name"] == "new.qcow2"
    admin.post_json("/pools/images/volumes", {"name": "new.qcow2", "format": "raw",
                                              "capacity_mib": 1}, status=409)
    assert admin.delete("/pools/images/volumes/new.qcow2").json == {"result": "deleted"}
    admin.get("/pools/images/volumes/new.qcow2", status=404)


def test_a_failed_creation_is_a_failed_task_in_words(admin, monkeypatch):
    """Past the checks, libvirt may still refuse: the task fails, nothing is left."""
    def refuse(self, xml, flags=0):
        raise libvirt.libvirtError("the disk is full after all")
    monkeypatch.setattr(libvirt.virStoragePool, "createXML", refuse)
    accepted = admin.post_json("/pools/images/volumes",
                               {"name": "late.raw", "format": "raw", "capacity_mib": 1},
                               status=202)
    done = finished(admin, accepted.location)
    assert done["state"] == "failed" and done["result"] is None
    assert "full after all" in done["error"]
    assert "late.raw" not in by_name(admin.get("/pools/images/volumes").json)


def test_a_volume_larger_than_the_room_is_a_400_with_the_figures(admin):
    refused = admin.post_json("/pools/images/volumes",
                              {"name": "big.raw", "format": "raw", "capacity_mib": 200 * 1024},
                              status=400)
    assert "available" in refused.json["message"]
    assert "107251499008 bytes" in refused.json["message"]
    assert "200.0 GiB" in refused.json["message"]
    assert "big.raw" not in by_name(admin.get("/pools/images/volumes").json)


@pytest.mark.parametrize("name", ["", ".hidden", "-dash", "a/b", "x" * 65, "sp ace", "é"])
def test_bad_volume_names_are_400(admin, name):
    admin.post_json("/pools/images/volumes", {"name": name, "format": "raw",
                                              "capacity_mib": 1}, status=400)


@pytest.mark.parametrize("body", [{"name": "a", "format": "vmdk", "capacity_mib": 1},
                                  {"name": "a", "format": "raw", "capacity_mib": 0},
                                  {"name": "a", "format": "raw", "capacity_mib": "many"},
                                  {"name": "a", "format": "raw"}])
def test_bad_volume_bodies_are_400(admin, body):
    admin.post_json("/pools/images/volumes", body, status=400)


def test_a_used_volume_is_not_deleted_and_names_only_visible_users(app, tmp_path):
    admin = client(app)
    refused = admin.delete("/pools/images/volumes/shared.raw", status=409)
    assert "web-1" in refused.json["message"] and "db-1" in refused.json["message"]
    users = tmp_path / "users.ini"
    users.write_text(f"[boss]\npassword = {hash_password('pw')}\nrole = admin\nprefix = web-\n")
    limited = make_app(**{"virtdancer.hosts": f"store = {STORAGE_URI}",
                          "virtdancer.users_file": str(users)})
    try:
        boss = client(limited, "boss", "pw")
        refused = boss.delete("/pools/images/volumes/shared.raw", status=409)
        assert "web-1" in refused.json["message"] and "db-1" not in refused.json["message"]
        assert "another VM" in refused.json["message"]
        refused = boss.delete("/pools/images/volumes/db1.qcow2", status=409)
        assert "db-1" not in refused.json["message"]
        boss.delete("/pools/images", status=409)
    finally:
        close_app(limited)
    assert len(admin.get("/pools/images/volumes").json) == 3


def test_a_pool_with_used_volumes_is_not_deleted(admin):
    refused = admin.delete("/pools/images", status=409)
    assert "shared.raw" in refused.json["message"]
    assert admin.get("/pools/images").json["active"] is True


def test_define_start_stop_and_delete_a_dir_pool(admin, tmp_path):
    made = admin.post_json("/pools", {"name": "scratch", "path": str(tmp_path / "s"),
                                      "autostart": True}, status=201)
    assert made.location.endswith("/pools/scratch")
    assert made.json["state"] == "running" and made.json["autostart"] is True
    admin.post_json("/pools", {"name": "scratch", "path": "/srv/other"}, status=409)
    after = admin.post_json("/pools/scratch/action", {"action": "noautostart"}).json
    assert after["autostart"] is False
    assert admin.post_json("/pools/scratch/action", {"action": "stop"}).json["active"] is False
    admin.post_json("/pools/scratch/action", {"action": "stop"}, status=409)
    admin.post_json("/pools/scratch/action", {"action": "refresh"}, status=409)
    admin.get("/pools/scratch/volumes", status=409)
    assert admin.post_json("/pools/scratch/action", {"action": "start"}).json["active"] is True
    admin.post_json("/pools/scratch/action", {"action": "refresh"})
    admin.post_json("/pools/scratch/action", {"action": "explode"}, status=400)
    assert admin.delete("/pools/scratch").json == {"result": "deleted"}
    admin.get("/pools/scratch", status=404)


@pytest.mark.parametrize("body", [{"name": "p", "path": "relative"},
                                  {"name": ".p", "path": "/srv/p"},
                                  {"name": "p"}, {"path": "/srv/p"}])
def test_bad_pool_bodies_are_400(admin, body):
    admin.post_json("/pools", body, status=400)


@pytest.mark.parametrize("path", ["/pools/nope", "/pools/nope/volumes",
                                  "/pools/images/volumes/nope", "/pools/.x",
                                  "/hosts/nowhere/pools", "/pools/images/volumes/..x"])
def test_unknown_pools_and_volumes_are_404(admin, path):
    assert admin.get(path, status=404).json["code"] == 404


def test_a_hidden_host_has_no_pools(app, tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(f"[ann]\npassword = {hash_password('pw')}\nrole = admin\nvms = all\n"
                     "hosts = demo\n")
    limited = make_app(**{"virtdancer.hosts": f"store = {STORAGE_URI}\ndemo = {DEMO_URI}",
                          "virtdancer.users_file": str(users)})
    try:
        ann = client(limited, "ann", "pw")
        ann.get("/hosts/store/pools", status=404)
        ann.get("/hosts/store/pools/images/volumes", status=404)
        ann.delete("/hosts/store/pools/images/volumes/spare.raw", status=404)
        ann.get("/hosts/demo/pools")
    finally:
        close_app(limited)


def test_an_upload_needs_its_length_and_stays_under_the_limit(admin):
    path = "/pools/images/volumes/spare.raw/content"
    admin.put(path, b"x" * (1048576 + 1), content_type="application/octet-stream",
              status=413)
    request = webtest.TestRequest.blank(path, method="PUT",
                                        headers={"Transfer-Encoding": "chunked",
                                                 "Authorization": "Basic YWRtaW46YWRtaW4="})
    request.environ["wsgi.input_terminated"] = True
    request.body_file_raw = io.BytesIO(b"abc")
    request.environ.pop("CONTENT_LENGTH", None)
    refused = admin.do_request(request, status=411)
    assert refused.json["code"] == 411


def test_the_body_limit_still_holds_for_other_routes(admin):
    admin.post("/pools/images/volumes", "x" * 70000, content_type="application/json",
               status=413)


def test_an_upload_the_driver_cannot_take_leaves_the_volume(admin):
    # The test driver has no virStorageVolUpload: a failed task saying so, no traceback;
    # tests/test_volume_content.py streams through a stand-in, tests/real a real upload.
    answer = admin.put("/pools/images/volumes/spare.raw/content", b"y" * 1000,
                       content_type="application/octet-stream", status=202)
    done = finished(admin, answer.location)
    assert done["state"] == "failed" and "virStorageVolUpload" in done["error"]
    assert "libvirt driver cannot write a file into a volume" in done["error"]
    assert "spare.raw" in by_name(admin.get("/pools/images/volumes").json)


def test_growing_on_the_test_driver_is_a_clear_error_and_shrinking_a_400(admin):
    admin.patch_json("/pools/images/volumes/spare.raw", {"capacity_mib": 8}, status=400)
    answer = admin.patch_json("/pools/images/volumes/spare.raw", {"capacity_mib": 32},
                              status=501)
    assert answer.json["message"].startswith("this host's libvirt driver cannot grow a volume (")
    assert "virStorageVolResize" in answer.json["message"]


def test_a_failed_upload_into_a_new_volume_leaves_no_volume_behind(admin):
    answer = admin.put("/pools/images/volumes/fresh.raw/content", b"z" * 4096,
                       content_type="application/octet-stream", status=202)
    assert finished(admin, answer.location)["state"] == "failed"
    assert "fresh.raw" not in by_name(admin.get("/pools/images/volumes").json)


def test_an_upload_larger_than_the_pool_room_is_a_400(app):
    big = make_app(**{"virtdancer.hosts": f"store = {STORAGE_URI}",
                      "virtdancer.upload.max_bytes": str(10 ** 15)})
    try:
        refused = client(big).put("/pools/images/volumes/huge.raw/content", b"", status=400,
                                  headers={"Content-Length": str(200 * 1024 ** 3)},
                                  content_type="application/octet-stream", expect_errors=True)
        assert "available" in refused.json["message"]
    finally:
        close_app(big)


def test_an_empty_upload_is_a_400_and_makes_nothing(admin):
    admin.put("/pools/images/volumes/empty.raw/content", b"",
              content_type="application/octet-stream", status=400)
    assert "empty.raw" not in by_name(admin.get("/pools/images/volumes").json)


def test_a_second_pool_on_a_folder_is_a_409_naming_the_first(admin):
    # libvirt calls it an "operation failed" (a 502); it is a conflict the user can mend.
    answer = admin.post_json("/pools", {"name": "again", "path": "/srv/vd/images/"}, status=409)
    assert "images" in answer.json["message"]
    assert "again" not in by_name(admin.get("/pools").json)


@pytest.mark.parametrize("body", [{"start": "AAA"}, {"autostart": "yes"}, {"start": 1}])
def test_a_yes_no_field_is_true_or_false_and_nothing_else(admin, body):
    answer = admin.post_json("/pools", {"name": "odd", "path": "/srv/odd", **body}, status=400)
    assert "true or false" in answer.json["message"]
    assert "odd" not in by_name(admin.get("/pools").json)
    admin.post("/pools", {"name": "odd", "path": "/srv/odd", "start": "AAA"}, status=400)
