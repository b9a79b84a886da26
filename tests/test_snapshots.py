"""Snapshots on the demo fleet: the tree, taking and reverting as tasks, deleting, refusals."""

import pytest
import webtest

from .conftest import BUILD_1, DB_1, WEB_1
from .test_tasks import finished, ignored_shutdown  # noqa: F401  (a fixture)

SHUT_OFF = 5


def take(client, uuid, name, **fields):
    location = client.post_json(f"/vm/{uuid}/snapshots", {"name": name, **fields},
                                status=202).location
    return finished(client, location)


def test_a_running_vms_snapshot_with_memory_is_a_task(testapp):
    response = testapp.post_json(f"/vm/{WEB_1}/snapshots",
                                 {"name": "before-upgrade", "description": "v1", "memory": True},
                                 status=202)
    assert response.json["type"] == "snapshot" and response.location.endswith(response.json["id"])
    done = finished(testapp, response.location)
    assert done["state"] == "done"
    snapshot = done["result"]
    assert snapshot["name"] == "before-upgrade" and snapshot["memory"] is True
    assert snapshot["state"] == "running" and snapshot["current"] is True
    assert testapp.get(f"/vm/{WEB_1}/snapshots").json == [snapshot]
    assert testapp.get(f"/vm/{WEB_1}/snapshots/before-upgrade").json == snapshot


def test_the_tree_lists_parents_before_children_and_marks_the_current(testapp):
    take(testapp, DB_1, "a")
    take(testapp, DB_1, "b")
    take(testapp, DB_1, "c")
    tree = testapp.get(f"/vm/{DB_1}/snapshots").json
    assert [(s["name"], s["parent"], s["current"], s["memory"]) for s in tree] == \
        [("a", None, False, False), ("b", "a", False, False), ("c", "b", True, False)]
    assert all(s["state"] == "shutoff" for s in tree)


def test_revert_with_start_runs_the_vm_and_the_snapshot_becomes_current(testapp):
    take(testapp, DB_1, "a")
    take(testapp, DB_1, "b")
    location = testapp.post_json(f"/vm/{DB_1}/snapshots/a/revert", {"start": True},
                                 status=202).location
    done = finished(testapp, location)
    assert done["type"] == "revert" and done["state"] == "done"
    assert done["result"] == {"snapshot": "a", "state": "running"}
    assert testapp.get(f"/vm/{DB_1}").json["info"]["state"] == 1
    assert testapp.get(f"/vm/{DB_1}/snapshots/a").json["current"] is True


def test_delete_keeps_or_removes_the_children(testapp):
    for name in ("a", "b", "c"):
        take(testapp, DB_1, name)
    assert testapp.delete(f"/vm/{DB_1}/snapshots/b").json == {"result": "deleted",
                                                              "removed": ["b"]}
    tree = testapp.get(f"/vm/{DB_1}/snapshots").json
    assert [(s["name"], s["parent"]) for s in tree] == [("a", None), ("c", "a")]
    assert testapp.delete(f"/vm/{DB_1}/snapshots/a?children=1").json == \
        {"result": "deleted", "removed": ["a", "c"]}
    assert testapp.get(f"/vm/{DB_1}/snapshots").json == []


def test_a_vm_with_snapshots_is_deleted_with_their_records(testapp):
    """The delete dialog promises the snapshots' records go with the VM: the test driver, which
    refuses the NVRAM flag, took the undefine without any flag and refused it."""
    take(testapp, DB_1, "a")
    take(testapp, DB_1, "b")
    testapp.delete(f"/vm/{DB_1}", status=200)
    testapp.get(f"/vm/{DB_1}", status=404)
    testapp.get(f"/vm/{DB_1}/snapshots", status=404)


@pytest.mark.parametrize("uuid, body, words", [
    (WEB_1, {"name": "x"}, "web-1 is running: libvirt keeps a running VM's snapshot only "
                           "with its memory"),
    (DB_1, {"name": "x", "memory": True}, "db-1 is shut off: only a running VM's memory"),
])
def test_refusals_are_409s_in_words_and_make_no_task(testapp, uuid, body, words):
    refused = testapp.post_json(f"/vm/{uuid}/snapshots", body, status=409).json
    assert refused["message"].startswith(words)
    assert testapp.get("/tasks").json == []
    assert testapp.get(f"/vm/{uuid}/snapshots").json == []


def test_a_name_taken_is_a_409(testapp):
    take(testapp, DB_1, "a")
    refused = testapp.post_json(f"/vm/{DB_1}/snapshots", {"name": "a"}, status=409).json
    assert refused["message"] == "db-1 has a snapshot named 'a' already"


def test_a_vm_without_disks_cannot_have_snapshots(app_settings):
    from .conftest import LAB_URI, close_app, make_app
    app = make_app(**{**app_settings, "virtdancer.libvirt_uri": LAB_URI})
    try:
        client = webtest.TestApp(app)
        client.authorization = ("Basic", ("admin", "admin"))
        uuid = client.get("/vm").json[0]["uuid"]
        refused = client.post_json(f"/vm/{uuid}/snapshots", {"name": "a", "memory": True},
                                   status=409).json
        assert "has no disk: a snapshot is kept in the VM's qcow2 disks" in refused["message"]
    finally:
        close_app(app)


@pytest.mark.parametrize("body, name", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "-x"}, "name"), ({"name": "a/b"}, "name"),
    ({"name": 7}, "name"), ({"name": "a", "memory": "yes"}, "memory"),
    ({"name": "a", "description": "x" * 1001}, "description"),
])
def test_malformed_bodies_are_400s(testapp, body, name):
    refused = testapp.post_json(f"/vm/{DB_1}/snapshots", body, status=400).json
    assert refused["errors"][0]["name"] == name
    assert testapp.get(f"/vm/{DB_1}/snapshots").json == []


def test_unknown_snapshots_are_404(testapp):
    testapp.get(f"/vm/{DB_1}/snapshots/none", status=404)
    testapp.post_json(f"/vm/{DB_1}/snapshots/none/revert", {}, status=404)
    testapp.delete(f"/vm/{DB_1}/snapshots/none", status=404)
    testapp.get(f"/vm/{DB_1}/snapshots/..", status=404)


def test_a_snapshot_and_another_changing_task_on_the_vm_conflict(testapp,
                                                                  ignored_shutdown):  # noqa: F811
    waiting = testapp.post_json(f"/vm/{BUILD_1}/action?wait=30", {"action": "shutdown"},
                                status=202).json
    refused = testapp.post_json(f"/vm/{BUILD_1}/snapshots", {"name": "a", "memory": True},
                                status=409).json
    assert waiting["id"] in refused["message"]
    testapp.delete(f"/tasks/{waiting['id']}")
    assert finished(testapp, f"/tasks/{waiting['id']}")["state"] == "cancelled"


def test_a_tenant_operates_the_snapshots_of_its_vms_only(app):
    tenant, viewer = webtest.TestApp(app), webtest.TestApp(app)
    tenant.authorization = ("Basic", ("tenant", "tenant"))
    viewer.authorization = ("Basic", ("viewer", "viewer"))
    assert take(tenant, WEB_1, "mine", memory=True)["state"] == "done"
    tenant.get(f"/vm/{DB_1}/snapshots", status=404)
    tenant.post_json(f"/vm/{DB_1}/snapshots", {"name": "x"}, status=404)
    assert [s["name"] for s in viewer.get(f"/vm/{WEB_1}/snapshots").json] == ["mine"]
    viewer.post_json(f"/vm/{WEB_1}/snapshots", {"name": "x", "memory": True}, status=403)
    viewer.post_json(f"/vm/{WEB_1}/snapshots/mine/revert", {}, status=403)
    viewer.delete(f"/vm/{WEB_1}/snapshots/mine", status=403)
    assert tenant.delete(f"/vm/{WEB_1}/snapshots/mine").json["removed"] == ["mine"]
