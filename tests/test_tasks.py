"""Tasks: 202 + Location, following and listing them, one changing task per VM, cancelling,
who sees which task, and what a restart makes of a task it interrupted."""

import threading
import time

import pytest
import webtest

from virtdancer.hypervisor.fleet import Fleet
from virtdancer.interfaces import IEventHub, ITasks
from virtdancer.live.hub import QueueSubscription, Viewer
from virtdancer.state import StateStore
from virtdancer.tasks.records import RUNNING, TaskRecord, TaskRecords
from virtdancer.tasks.runner import NotCancellable, TaskConflict, TaskRunner

from .conftest import BUILD_1, DB_1, WEB_1, WEB_2, close_app, make_app

SHUTDOWN = {"action": "shutdown"}


def finished(client, location, timeout=10):
    """The task at `location` once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(location).json
        if body["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def wait_until(condition, timeout=10):
    """Whether `condition()` became true within `timeout` seconds (asked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def as_user(app, name):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (name, name))
    return client


@pytest.fixture
def ignored_shutdown(monkeypatch):
    """Guests that ignore ACPI: a shutdown asks, and the VM goes on running."""
    run = Fleet.run

    def run_but_ignore_shutdown(self, ref, action):
        return ref if action == "shutdown" else run(self, ref, action)

    monkeypatch.setattr(Fleet, "run", run_but_ignore_shutdown)


def test_shutdown_with_wait_is_a_task_that_ends_done(testapp):
    response = testapp.post_json(f"/vm/{WEB_1}/action?wait=5", SHUTDOWN, status=202)
    body = response.json
    assert response.headers["Location"] == f"http://localhost/tasks/{body['id']}"
    assert body["type"] == "shutdown" and body["user"] == "admin" and body["host"] == "default"
    assert body["vm"] == {"uuid": WEB_1, "name": "web-1"}
    assert body["state"] in ("queued", "running", "done")
    done = finished(testapp, response.headers["Location"])
    assert done["state"] == "done" and done["progress"] == 1.0
    assert done["result"] == {"state": "shut off"} and done["error"] is None
    assert done["started"] >= done["created"] and done["finished"] >= done["started"]
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 5


def test_a_task_on_another_host_has_its_route(app_settings):
    app = make_app(**app_settings)
    try:
        client = as_user(app, "admin")
        response = client.post_json(f"/hosts/default/vm/{WEB_1}/action?wait=2", SHUTDOWN,
                                    status=202)
        assert finished(client, response.location)["state"] == "done"
    finally:
        close_app(app)


def test_shutdown_the_guest_ignores_fails_after_its_wait(testapp, ignored_shutdown):
    location = testapp.post_json(f"/vm/{WEB_1}/action?wait=1", SHUTDOWN, status=202).location
    failed = finished(testapp, location)
    assert failed["state"] == "failed"
    assert "web-1 is still running after 1 s" in failed["error"]
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 1


def test_a_second_changing_task_on_the_vm_is_a_409_naming_the_first(testapp, ignored_shutdown):
    first = testapp.post_json(f"/vm/{WEB_1}/action?wait=30", SHUTDOWN, status=202).json
    refused = testapp.post_json(f"/vm/{WEB_1}/action?wait=30", SHUTDOWN, status=409).json
    assert first["id"] in refused["message"]
    # Another VM is free.
    other = testapp.post_json(f"/vm/{BUILD_1}/action?wait=30", SHUTDOWN, status=202).json
    for task in (first, other):
        cancelled = testapp.delete(f"/tasks/{task['id']}").json
        assert cancelled["id"] == task["id"]
        assert finished(testapp, f"/tasks/{task['id']}")["state"] == "cancelled"
    # Once the first has ended, the VM takes a new task.
    again = testapp.post_json(f"/vm/{WEB_1}/action?wait=30", SHUTDOWN, status=202).json
    testapp.delete(f"/tasks/{again['id']}")


def test_cancelling_an_ended_task_is_a_409(testapp):
    location = testapp.post_json(f"/vm/{WEB_1}/action?wait=5", SHUTDOWN, status=202).location
    finished(testapp, location)
    refused = testapp.delete(location, status=409).json
    assert "has ended (done)" in refused["message"]
    assert testapp.get(location).json["state"] == "done"


@pytest.mark.parametrize("query, name", [("?wait=0", "wait"), ("?wait=3601", "wait"),
                                         ("?wait=x", "wait")])
def test_malformed_wait_is_a_400(testapp, query, name):
    body = testapp.post_json(f"/vm/{WEB_1}/action{query}", SHUTDOWN, status=400).json
    assert body["errors"][0]["name"] == name
    assert testapp.get("/tasks").json == []


def test_wait_with_another_action_is_a_400_that_changes_nothing(testapp):
    body = testapp.post_json(f"/vm/{WEB_1}/action?wait=5", {"action": "pause"}, status=400).json
    assert body["errors"][0] == {"location": "querystring", "name": "wait",
                                 "description": "wait= goes with the action shutdown only"}
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 1
    assert testapp.get("/tasks").json == []


def test_a_shutdown_the_state_forbids_is_a_409_and_no_task(testapp):
    body = testapp.post_json(f"/vm/{DB_1}/action?wait=5", SHUTDOWN, status=409).json
    assert body["message"] == "cannot shutdown a VM that is shut off"
    assert testapp.get("/tasks").json == []


def test_listing_is_newest_first_and_filtered(testapp):
    made = []
    for uuid in (WEB_1, BUILD_1):
        location = testapp.post_json(f"/vm/{uuid}/action?wait=5", SHUTDOWN,
                                     status=202).location
        made.append(finished(testapp, location)["id"])
    assert [task["id"] for task in testapp.get("/tasks").json] == made[::-1]
    assert [task["id"] for task in testapp.get(f"/tasks?vm={BUILD_1}").json] == [made[1]]
    assert [task["id"] for task in testapp.get(f"/tasks?vm={BUILD_1.upper()}").json] == \
        [made[1]]
    assert len(testapp.get("/tasks?state=done&host=default").json) == 2
    assert testapp.get("/tasks?state=failed").json == []
    assert testapp.get("/tasks?host=lab").json == []
    assert len(testapp.get("/tasks?limit=1").json) == 1
    for query in ("state=finished", "vm=web-1", "limit=0", "host=-x", "vm=", "state=", "host=",
                  "limit="):
        assert testapp.get(f"/tasks?{query}", status=400).json["code"] == 400


def test_a_tenant_sees_its_own_tasks_only_and_an_admin_every_one_it_sees(app):
    admin, tenant, viewer = (as_user(app, name) for name in ("admin", "tenant", "viewer"))
    mine = tenant.post_json(f"/vm/{WEB_1}/action?wait=5", SHUTDOWN, status=202).json
    theirs = admin.post_json(f"/vm/{BUILD_1}/action?wait=5", SHUTDOWN, status=202).json
    finished(admin, f"/tasks/{theirs['id']}")
    finished(admin, f"/tasks/{mine['id']}")
    # An admin's task on a VM the tenant does not see: not there at all.
    assert [task["id"] for task in tenant.get("/tasks").json] == [mine["id"]]
    tenant.get(f"/tasks/{theirs['id']}", status=404)
    tenant.delete(f"/tasks/{theirs['id']}", status=404)
    # Even the tenant's own VM: an admin's task there is not the tenant's.
    admins_on_web = admin.post_json(f"/vm/{WEB_2}/action", {"action": "destroy"})
    assert admins_on_web.status_int == 200
    assert {task["id"] for task in admin.get("/tasks").json} == {mine["id"], theirs["id"]}
    assert admin.get(f"/tasks/{mine['id']}").json["user"] == "tenant"
    assert viewer.get("/tasks").json == []
    viewer.get(f"/tasks/{mine['id']}", status=404)
    # A viewer cannot cancel: it may not act at all.
    viewer.post_json(f"/vm/{WEB_1}/action?wait=5", SHUTDOWN, status=403)


def test_anonymous_gets_401(anonymous):
    anonymous.get("/tasks", status=401)
    anonymous.get("/tasks/0123456789abcdef", status=401)


@pytest.mark.parametrize("task_id", ["0123456789ABCDEF", "0123", "../tasks"])
def test_malformed_task_ids_are_404(testapp, task_id):
    testapp.get(f"/tasks/{task_id}", status=404)


# -- the runner itself ----------------------------------------------------------------------

@pytest.fixture
def runner():
    store = StateStore()
    runner = TaskRunner(TaskRecords(store), per_host=2)
    yield runner
    runner.close()
    store.close()


def blocked(release):
    def work(context):
        context.cancel_with(release.set)
        release.wait(10)
        context.check_cancelled()
        return {"made": "it"}
    return work


def test_no_more_than_per_host_tasks_run_at_once_on_a_host(runner):
    release = threading.Event()
    records = [runner.submit("test", "h", blocked(release), vm=(f"u{n}", f"vm{n}"))
               for n in range(3)]
    other_host = runner.submit("test", "other", blocked(release))

    def states_now():
        return [runner.get(record.id).state for record in records]

    # The pools' threads start the tasks when the machine lets them: wait for two, then give
    # a third the time to start too, were the limit not kept.
    assert wait_until(lambda: states_now().count("running") == 2
                      and runner.get(other_host.id).state == "running")
    time.sleep(0.2)
    states = states_now()
    assert states.count("running") == 2 and states.count("queued") == 1
    assert runner.get(other_host.id).state == "running"
    # A queued task is cancelled at once.
    queued = records[states.index("queued")]
    assert runner.cancel(queued.id).state == "cancelled"
    release.set()


def test_a_cancelled_queued_task_frees_its_vm(runner):
    release = threading.Event()
    for n in range(2):
        runner.submit("test", "h", blocked(release), vm=(f"u{n}", f"vm{n}"))
    queued = runner.submit("test", "h", blocked(release), vm=("u9", "vm9"))
    with pytest.raises(TaskConflict):
        runner.submit("test", "h", blocked(release), vm=("u9", "vm9"))
    runner.cancel(queued.id)
    again = runner.submit("test", "h", blocked(release), vm=("u9", "vm9"))
    assert again.state == "queued"
    release.set()


def test_a_task_without_a_canceller_cannot_be_cancelled_while_it_runs(runner):
    release = threading.Event()
    record = runner.submit("test", "h", lambda context: release.wait(10), vm=("u", "vm"))
    assert wait_until(lambda: runner.get(record.id).state == "running")
    with pytest.raises(NotCancellable, match="cannot be cancelled now"):
        runner.cancel(record.id)
    release.set()


def test_progress_is_polled_from_its_source_and_published(runner):
    seen, polled_all = [], threading.Event()
    runner.publish = lambda record: seen.append((record.state, record.progress))
    runner.poll_interval = 0.02
    fractions = iter([0.25, 0.5, 0.5, 0.75])

    def source():
        fraction = next(fractions, None)
        if fraction is None:
            polled_all.set()
        return fraction

    def work(context):
        context.watch(source)
        # Until every fraction was polled (and the last one published): a loaded machine
        # may poll less often than every 20 ms.
        polled_all.wait(10)
        return None

    runner.submit("test", "h", work)
    # The record says done before `publish` is told it (from the task's thread).
    assert wait_until(lambda: seen and seen[-1][0] == "done")
    assert ("running", 0.25) in seen and ("running", 0.75) in seen
    assert seen[0] == ("queued", None) and seen[-1] == ("done", 1.0)


def test_closing_fails_what_runs_as_stopped(runner):
    release = threading.Event()
    record = runner.submit("test", "h", blocked(release), vm=("u", "vm"))
    assert wait_until(lambda: runner.get(record.id).state == "running")
    runner.close()
    ended = runner.get(record.id)
    assert ended.state == "failed" and ended.error == "VirtDancer stopped during the task"


# -- a restart --------------------------------------------------------------------------------

def test_a_task_a_killed_process_left_running_is_failed_on_restart(tmp_path):
    state_file = str(tmp_path / "state.sqlite")
    store = StateStore(state_file)
    left = TaskRecord(id="00000000000000aa", type="shutdown", host="default", vm_uuid=WEB_1,
                      vm_name="web-1", user="admin", state=RUNNING, created=time.time() - 5,
                      started=time.time() - 4)
    old = TaskRecord(id="00000000000000bb", type="shutdown", host="default", vm_uuid=WEB_1,
                     vm_name="web-1", user="admin", state="done", created=1.0, started=1.0,
                     finished=2.0)
    TaskRecords(store).add(left)
    TaskRecords(store).add(old)
    store.close()
    app = make_app(**{"virtdancer.state_file": state_file})
    try:
        client = as_user(app, "admin")
        body = client.get(f"/tasks/{left.id}").json
        assert body["state"] == "failed" and body["finished"] is not None
        assert body["error"] == ("VirtDancer stopped during the task; libvirt says web-1 is "
                                 "running")
        # Kept 30 days: a task that ended in 1970 is gone.
        client.get(f"/tasks/{old.id}", status=404)
        assert app.registry.getUtility(ITasks).per_host == 4
    finally:
        close_app(app)


# -- "task" events on the live event stream --------------------------------------------------

def task_events(subscription):
    events = []
    while not subscription.queue.empty():
        event = subscription.queue.get_nowait()
        if event["type"] == "task":
            events.append(event)
    return events


def test_each_change_of_a_task_is_a_task_event_for_its_user_and_admins_only(app):
    hub = app.registry.getUtility(IEventHub)
    tenant = QueueSubscription(Viewer(sees=lambda name: name.startswith("web-"), user="tenant",
                                      everyone=False))
    other_tenant = QueueSubscription(Viewer(sees=lambda name: name.startswith("web-"),
                                            user="someone", everyone=False))
    admin = QueueSubscription(Viewer(user="admin", everyone=True))
    for subscription in (tenant, other_tenant, admin):
        hub.subscribe(subscription)
    client = as_user(app, "tenant")
    location = client.post_json(f"/vm/{WEB_1}/action?wait=5", SHUTDOWN, status=202).location
    done = finished(client, location)
    # The record says done before its event is published (from the task's thread).
    seen = []
    assert wait_until(lambda: seen.extend(task_events(tenant))
                      or (seen and seen[-1]["task"]["state"] == "done"))
    assert [event["task"]["state"] for event in seen] == ["queued", "running", "done"]
    assert seen[-1]["task"] == done and seen[-1]["vm"] == {"uuid": WEB_1, "name": "web-1"}
    assert seen[-1]["host"] == "default"
    assert len(task_events(admin)) == 3     # published to the tenant, so to the admin too
    assert task_events(other_tenant) == []
