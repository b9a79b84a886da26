"""The audit trail: a record for each write, login, failed login and users-file reload, on the
logger `virtdancer.audit` and at GET /audit, with filters, paging and per-user visibility; and
never a secret in it."""

import json
import logging
import os
import time

import pytest
import webtest

from virtdancer.audit.recorder import action_name, task_of
from virtdancer.audit.trail import AuditTrail
from virtdancer.interfaces import IAuditTrail, IEventHub, IStateStore
from virtdancer.live.hub import Subscription, Viewer
from virtdancer.security.passwords import hash_password
from virtdancer.state import StateStore

from .conftest import BUILD_1, DB_1, DEMO_URI, LAB_URI, WEB_1, close_app, make_app

WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"     # lab's, seen by web- users
PASSWORD = "correct-horse-battery-97"                     # everybody's in USERS below
USERS = "".join(
    f"[{name}]\npassword = {{hash}}\nrole = {role}\n{filters}\n"
    for name, role, filters in (
        ("root", "admin", "vms = all"),
        ("webadmin", "admin", "prefix = web-"),
        ("labadmin", "admin", "vms = all\nhosts = lab"),
        ("tenant", "operator", "prefix = web-"),
        ("viewer", "viewer", "vms = all"),
    ))


@pytest.fixture(scope="module")
def users_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def users_file(tmp_path, users_hash):
    path = tmp_path / "users.ini"
    path.write_text(USERS.format(hash=users_hash))
    return path


@pytest.fixture
def app(tmp_path, users_file):
    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.state_file": str(tmp_path / "state.sqlite"),
                      "virtdancer.hosts": f"default = {DEMO_URI}\nlab = {LAB_URI}",
                      # A console needs a proxy to point at; none runs for the driver's 409.
                      "virtdancer.console.public_url": "ws://127.0.0.1:9/"})
    yield app
    close_app(app)


def client(app, user="root", password=PASSWORD):
    test = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.7"})
    if user is not None:
        test.authorization = ("Basic", (user, password))
    return test


def records(app, query="", user="root"):
    return client(app, user).get(f"/audit{query}").json["records"]


def test_an_action_is_one_record_in_the_store_and_in_the_log(app, caplog):
    with caplog.at_level(logging.INFO, logger="virtdancer.audit"):
        client(app, "tenant").post_json(f"/vm/{WEB_1}/action", {"action": "destroy"})
        # The trail's thread logs a record after it wrote it, which reading the records waits
        # for: read them while the logger is still at INFO.
        [record] = records(app)
    assert record["user"] == "tenant" and record["action"] == "vm.destroy"
    assert record["vm"] == {"uuid": WEB_1, "name": "web-1"}
    assert (record["host"], record["method"], record["route"], record["status"]) == (
        "default", "POST", "/vm/{uuid}/action", 200)
    assert record["client_addr"] == "192.0.2.7"
    assert record["error"] is None and record["task"] is None
    [line] = [json.loads(entry.getMessage()) for entry in caplog.records
              if entry.name == "virtdancer.audit"]
    assert line["id"] == record["id"] and line["action"] == "vm.destroy"
    assert (line["user"], line["vm_uuid"], line["vm_name"]) == ("tenant", WEB_1, "web-1")


def test_reads_are_not_recorded(app):
    admin = client(app)
    admin.get("/vm")
    admin.get(f"/vm/{WEB_1}")
    assert records(app) == []


def test_a_refusal_of_libvirt_keeps_its_message(app):
    client(app).post_json(f"/vm/{DB_1}/action", {"action": "shutdown"}, status=409)
    [record] = records(app)
    assert record["status"] == 409 and record["action"] == "vm.shutdown"
    assert isinstance(record["error"], str) and record["error"]


def test_logins_failed_logins_and_logouts(app):
    browser = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.8"})
    browser.post_json("/login", {"username": "tenant", "password": "guess"}, status=401)
    token = browser.post_json("/login", {"username": "tenant",
                                         "password": PASSWORD}).json["csrf_token"]
    browser.post("/logout", headers={"X-CSRF-Token": token})
    client(app, "nobody", "guess").get("/vm", status=401)
    logout, nobody = records(app, "?action=logout"), records(app, "?user=nobody")
    logins = records(app, "?action=login")
    assert [(r["user"], r["status"]) for r in logins] == [
        ("nobody", 401), ("tenant", 200), ("tenant", 401)]
    assert [(r["user"], r["status"]) for r in logout] == [("tenant", 200)]
    assert nobody[0]["route"] == "/vm" and nobody[0]["method"] == "GET"


def test_creation_console_deletion_and_tokens(app):
    admin = client(app)
    made = admin.post_json("/hosts/lab/vm", {"name": "web-audit", "vcpus": 1, "memory": 64},
                           status=201).json
    admin.post(f"/vm/{WEB_1}/console", status=409)    # the test driver has no display
    admin.delete(f"/hosts/lab/vm/{made['uuid']}")
    token = admin.post_json("/tokens", {"name": "audit"}, status=201).json
    admin.delete(f"/tokens/{token['id']}")
    admin.patch_json(f"/vm/{WEB_1}", {"description": "audited"})
    upload = admin.put("/pools/default/volumes/debian-12-netinst.iso/content", b"\0" * 512,
                       headers={"Content-Type": "application/octet-stream"},
                       expect_errors=True)     # the test driver cannot upload: 501
    trail = [(r["action"], r["host"], r["vm"] and r["vm"]["name"]) for r in records(app)]
    assert records(app, "?action=volume.upload")[0]["status"] == upload.status_int
    assert trail == [("volume.upload", "default", None), ("vm.edit", "default", "web-1"),
                     ("token.revoke", None, None), ("token.create", None, None),
                     ("vm.delete", "lab", "web-audit"), ("vm.console", "default", "web-1"),
                     ("vm.create", "lab", "web-audit")]
    assert records(app, "?action=vm.create")[0]["vm"]["uuid"] == made["uuid"]


def test_a_task_started_and_cancelled_is_kept_before_the_answer_with_its_task_and_vm(app):
    tenant = client(app, "tenant")
    location = tenant.post_json(f"/vm/{WEB_1}/action?wait=5", {"action": "shutdown"},
                                status=202).location
    task_id = location.rsplit("/", 1)[1]
    # In the store already, not only queued: a crash right after the 202 must not lose it
    # (the h12 scenario of tests/real lost it to a SIGKILL).
    store = app.registry.getUtility(IStateStore)
    assert store.execute("SELECT action, user, task FROM audit") == [
        ("vm.shutdown", "tenant", task_id)]
    while tenant.get(location).json["state"] in ("queued", "running"):
        time.sleep(0.02)
    tenant.delete(location, status=409)      # ended: refused, and still recorded
    assert store.execute("SELECT action, task FROM audit ORDER BY id DESC LIMIT 1") == [
        ("task.cancel", task_id)]
    [cancel] = records(app, "?action=task.cancel")
    assert (cancel["user"], cancel["status"], cancel["task"]) == ("tenant", 409, task_id)
    assert (cancel["host"], cancel["vm"]) == ("default", {"uuid": WEB_1, "name": "web-1"})
    assert cancel["route"] == "/tasks/{task}" and cancel["method"] == "DELETE"
    # About a VM the tenant sees: the tenant's own, and a web- admin's to read.
    assert [r["action"] for r in records(app, user="webadmin")] == ["task.cancel",
                                                                     "vm.shutdown"]


def test_write_now_keeps_what_was_queued_before_it_first_and_returns_once_kept(tmp_path):
    store = StateStore(str(tmp_path / "state.sqlite"))
    trail = AuditTrail(store, retention=3600)
    logged = []
    trail.listeners.append(logged.append)
    try:
        trail.write(action="vm.start")           # queued: the writer waits BATCH_WAIT
        trail.write_now(action="vm.shutdown", task="t1")
        assert [r["action"] for r in logged] == ["vm.start", "vm.shutdown"]
        assert store.execute("SELECT id, action, task FROM audit ORDER BY id") == [
            (1, "vm.start", None), (2, "vm.shutdown", "t1")]
        trail.flush()
        assert len(logged) == 2                  # nothing written twice
    finally:
        trail.close()
        store.close()
    trail.write_now(action="vm.destroy")         # closed: logged only, not stored, no error


def test_a_users_file_reload_is_recorded(app, users_file, users_hash):
    users_file.write_text(USERS.format(hash=users_hash) + "\n[newcomer]\npassword = "
                          f"{users_hash}\nrole = viewer\nvms = all\n")
    stamp = time.time() + 5
    os.utime(users_file, (stamp, stamp))
    client(app, "newcomer").get("/vm")
    [record] = records(app, "?action=users-file.reload")
    assert record["user"] is None and record["method"] is None and record["error"] is None


def test_filters(app):
    tenant, admin = client(app, "tenant"), client(app)
    tenant.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
    admin.post_json(f"/vm/{BUILD_1}/action", {"action": "pause"})
    admin.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "pause"})
    middle = records(app)[1]["time"]

    def actions(query):
        return [(r["user"], r["vm"]["name"]) for r in records(app, query)]

    assert actions("?user=tenant") == [("tenant", "web-1")]
    assert actions("?host=lab") == [("root", "web-staging")]
    assert actions(f"?vm={BUILD_1}") == actions("?vm=build-1") == [("root", "build-1")]
    assert actions(f"?vm={BUILD_1.upper()}") == [("root", "build-1")]
    assert actions("?action=vm.pause&user=root") == [("root", "web-staging"),
                                                     ("root", "build-1")]
    assert actions(f"?since={middle}") == [("root", "web-staging"), ("root", "build-1")]
    assert actions(f"?until={middle}") == [("root", "build-1"), ("tenant", "web-1")]
    assert actions("?since=2000-01-01T00:00:00Z&until=2001-01-01") == []
    assert actions("?action=vm.destroy") == []


def test_paging(app):
    admin = client(app)
    for action in ("pause", "resume", "pause", "resume", "pause"):
        admin.post_json(f"/vm/{WEB_1}/action", {"action": action})
    everything = [r["id"] for r in records(app)]
    pages, query = [], "?limit=2"
    while True:
        page = admin.get(f"/audit{query}").json
        pages.append([r["id"] for r in page["records"]])
        if page["next_before"] is None:
            break
        query = f"?limit=2&before={page['next_before']}"
    assert pages == [everything[0:2], everything[2:4], everything[4:5]]
    assert everything == sorted(everything, reverse=True)


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?limit=x", "?before=0",
                                   "?before=99999999999999999999", "?since=yesterday",
                                   "?until=nan", "?vm=%ED%A0%80",
                                   # schemathesis found these: the document says 1 character
                                   # at least, and an empty filter was read as no filter.
                                   "?vm=", "?user=", "?host=", "?action="])
def test_malformed_queries_are_400s(app, query):
    answer = client(app).get(f"/audit{query}", status=400).json
    assert answer["errors"][0]["location"] == "querystring"


def test_only_admins_read_the_trail(app):
    client(app, "tenant").get("/audit", status=403)
    client(app, "viewer").get("/audit", status=403)
    client(app, None).get("/audit", status=401)


def test_a_limited_admin_reads_only_the_records_of_what_they_see(app):
    tenant, root = client(app, "tenant"), client(app)
    tenant.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
    root.post_json(f"/vm/{BUILD_1}/action", {"action": "pause"})
    root.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "pause"})
    root.post_json("/hosts/lab/networks", {"name": "audit", "subnet": "10.232.201.0/24"},
                   status=201)
    root.post_json("/tokens", {"name": "root's"}, status=201)
    client(app, "tenant", "wrong").get("/vm", status=401)
    client(app, "webadmin").post_json(f"/vm/{WEB_1}/action", {"action": "resume"})
    client(app, "tenant").post_json(f"/vm/{BUILD_1}/action", {"action": "pause"}, status=404)

    def seen(user):
        return [(r["user"], r["action"], r["vm"] and r["vm"]["name"])
                for r in records(app, user=user)]

    assert seen("webadmin") == [("webadmin", "vm.resume", "web-1"),
                                ("root", "vm.pause", "web-staging"),
                                ("tenant", "vm.pause", "web-1")]
    assert seen("labadmin") == [("root", "network.create", None),
                                ("root", "vm.pause", "web-staging")]
    assert len(seen("root")) == 8
    # Filters narrow what a limited admin sees, never widen it.
    assert records(app, "?user=root&host=default", user="webadmin") == []


def test_no_secret_in_the_store_nor_in_the_log(app, tmp_path, caplog):
    with caplog.at_level(logging.DEBUG):
        browser = webtest.TestApp(app)
        csrf = browser.post_json("/login", {"username": "root",
                                            "password": PASSWORD}).json["csrf_token"]
        cookie = browser.cookies["virtdancer_session"]
        browser.post_json(f"/vm/{WEB_1}/action", {"action": "pause"},
                          headers={"X-CSRF-Token": csrf})
        token = browser.post_json("/tokens", {"name": "secret", "scope": "admin"}, status=201,
                                  headers={"X-CSRF-Token": csrf}).json["token"]
        bearer = webtest.TestApp(app)
        bearer.authorization = ("Bearer", token)
        bearer.post_json(f"/vm/{WEB_1}/action", {"action": "resume"})
        bearer.authorization = ("Bearer", token[:-4] + "abcd")
        bearer.get("/vm", status=401)
        client(app, "root", PASSWORD + "x").get("/vm", status=401)
        browser.post("/logout", headers={"X-CSRF-Token": csrf})
        assert len(records(app)) == 7     # and logged, while the log is captured
    store = b"".join(path.read_bytes() for path in tmp_path.glob("state.sqlite*"))
    logged = caplog.text
    for secret in (PASSWORD, cookie, token, token.split("_")[-1], csrf):
        assert secret.encode() not in store
        assert secret not in logged


def test_old_records_are_pruned(app):
    trail = app.registry.getUtility(IAuditTrail)
    trail.write(action="vm.destroy", time=time.time() - 31 * 86400)
    trail.write(action="vm.start", time=time.time() - 29 * 86400)
    trail.prune()
    assert [r["action"] for r in records(app)] == ["vm.start"]


def test_without_the_trail_nothing_is_recorded_and_there_is_no_audit():
    app = make_app(**{"virtdancer.audit.enabled": "false"})
    try:
        admin = webtest.TestApp(app)
        admin.authorization = ("Basic", ("admin", "admin"))
        admin.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
        admin.get("/audit", status=404)
        assert app.registry.queryUtility(IAuditTrail) is None
    finally:
        close_app(app)


@pytest.mark.parametrize("key, method, body, action", [
    ("vm.action", "POST", {"action": "destroy"}, "vm.destroy"),
    ("pool.action", "POST", {"action": "refresh"}, "pool.refresh"),
    ("vm.action", "POST", {}, "vm.action"),     # a body refused: no action to name
    ("vms", "POST", {}, "vm.create"),
    ("vm.snapshots", "POST", {"name": "before"}, "vm.snapshot.create"),
    ("vm.snapshot.revert", "POST", {}, "vm.snapshot.revert"),
    ("vm.migrate", "POST", {}, "vm.migrate"),
    ("vm", "DELETE", None, "vm.delete"),
    ("vm", "PATCH", {}, "vm.edit"),
    ("volume.content", "PUT", None, "volume.upload"),
    ("task", "DELETE", None, "task.cancel"),
])
def test_action_names_cover_routes_made_later(key, method, body, action):
    assert action_name(key, method, body) == action


class FakeResponse:
    def __init__(self, status_code, location=None):
        self.status_code, self.location = status_code, location


class FakeRequest:
    def __init__(self, environ=None):
        self.environ = environ or {}


def test_the_task_of_a_request():
    assert task_of(FakeRequest(), FakeResponse(202, "http://x/tasks/ab12")) == "ab12"
    assert task_of(FakeRequest(), FakeResponse(200)) is None
    assert task_of(FakeRequest({"virtdancer.audit.task": "t1"}), FakeResponse(200)) == "t1"


class Collected(Subscription):
    """A subscriber of the hub that keeps what it is offered."""

    def __init__(self, viewer):
        super().__init__(viewer)
        self.events = []

    def offer(self, event):
        self.events.append(event)


def test_records_of_a_vm_are_audit_events_for_those_who_see_it(app):
    hub = app.registry.getUtility(IEventHub)
    everyone, tenant = Collected(Viewer()), Collected(Viewer(sees=lambda name:
                                                             name.startswith("web-")))
    hub.subscribe(everyone)
    hub.subscribe(tenant)
    try:
        client(app, "tenant").post_json(f"/vm/{WEB_1}/action", {"action": "destroy"})
        client(app).post_json(f"/vm/{BUILD_1}/action", {"action": "resume"}, status=409)
        client(app).post_json("/tokens", {"name": "not an event"}, status=201)
        client(app, "tenant", "wrong").get("/vm", status=401)
        app.registry.getUtility(IAuditTrail).flush()
    finally:
        hub.unsubscribe(everyone)
        hub.unsubscribe(tenant)
    audits = [event for event in everyone.events if event["type"] == "audit"]
    assert [(event["vm"]["name"], event["audit"]["action"], event["audit"]["user"],
             event["audit"]["status"], event["audit"]["code"]) for event in audits] == [
        ("web-1", "destroy", "tenant", "ok", 200), ("build-1", "resume", "root", "failed", 409)]
    assert audits[1]["audit"]["error"] and audits[0]["host"] == "default"
    assert [event["vm"]["name"] for event in tenant.events if event["type"] == "audit"] == [
        "web-1"]
