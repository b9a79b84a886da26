"""POST /vm/<uuid>/action: lifecycle actions on the demo fleet, valid and refused."""

import pytest

from .conftest import DB_1, WEB_1, WEB_2

RUNNING, PAUSED, SHUT_OFF = 1, 3, 5

# (VM, action) -> state afterwards, for every action the VM's state allows.
ALLOWED = [
    (WEB_1, "pause", PAUSED),
    (WEB_1, "shutdown", SHUT_OFF),   # the test driver powers off at once; QEMU asks the guest
    (WEB_1, "reboot", RUNNING),
    (WEB_1, "reset", RUNNING),
    (WEB_1, "destroy", SHUT_OFF),
    (WEB_2, "start", RUNNING),       # the seed's "start" resumes a paused VM
    (WEB_2, "resume", RUNNING),
    (WEB_2, "reset", PAUSED),
    (WEB_2, "destroy", SHUT_OFF),
    (DB_1, "start", RUNNING),
]

# (VM, action, state it is in), for every action the VM's state forbids.
REFUSED = [
    (WEB_1, "start", RUNNING),
    (WEB_1, "resume", RUNNING),
    (WEB_2, "pause", PAUSED),
    (WEB_2, "shutdown", PAUSED),
    (WEB_2, "reboot", PAUSED),
    (DB_1, "pause", SHUT_OFF),
    (DB_1, "resume", SHUT_OFF),
    (DB_1, "shutdown", SHUT_OFF),
    (DB_1, "reboot", SHUT_OFF),
    (DB_1, "reset", SHUT_OFF),
    (DB_1, "destroy", SHUT_OFF),
]


def state_of(testapp, uuid):
    return testapp.get(f"/vm/{uuid}").json["info"]["state"]


def fleet_without_cpu_time(testapp):
    return [(vm["uuid"], vm["active"], vm["id"], vm["info"]["state"])
            for vm in testapp.get("/vm?detail=1").json]


@pytest.mark.parametrize("uuid, action, after", ALLOWED)
def test_allowed_action_is_done_and_answers_the_fresh_vm(testapp, uuid, action, after):
    response = testapp.post_json(f"/vm/{uuid}/action", {"action": action})
    assert response.json["result"] == "done"
    assert response.json["vm"]["uuid"] == uuid
    assert response.json["vm"]["info"]["state"] == after
    assert response.json["vm"]["active"] is (after != SHUT_OFF)
    assert state_of(testapp, uuid) == after


@pytest.mark.parametrize("uuid, action, state", REFUSED)
def test_action_the_state_forbids_is_a_409_that_changes_nothing(testapp, uuid, action, state):
    before = fleet_without_cpu_time(testapp)
    response = testapp.post_json(f"/vm/{uuid}/action", {"action": action}, status=409)
    assert response.json["status"] == "error"
    assert response.json["state"] == state
    assert action in response.json["message"]
    assert response.json["state_name"] in response.json["message"]
    assert fleet_without_cpu_time(testapp) == before


def test_json_with_charset_as_angularjs_sends_it(testapp):
    response = testapp.post(f"/vm/{WEB_1}/action", '{"action": "pause"}',
                            content_type="application/json;charset=utf-8")
    assert response.json["result"] == "done"
    assert state_of(testapp, WEB_1) == PAUSED


def test_form_encoded_action(testapp):
    response = testapp.post(f"/vm/{DB_1}/action", {"action": "start"})
    assert response.json["result"] == "done"
    assert state_of(testapp, DB_1) == RUNNING


def test_actions_chain_through_a_whole_lifecycle(testapp):
    for action, after in [("start", RUNNING), ("pause", PAUSED), ("start", RUNNING),
                          ("shutdown", SHUT_OFF), ("start", RUNNING), ("destroy", SHUT_OFF)]:
        response = testapp.post_json(f"/vm/{DB_1}/action", {"action": action})
        assert response.json["vm"]["info"]["state"] == after, action


@pytest.mark.parametrize("body", [
    {"action": "stop"},
    {"action": "START"},
    {"action": ""},
    {"action": 5},
    {"verb": "start"},
    {},
])
def test_invalid_action_is_a_cornice_400_that_changes_nothing(testapp, body):
    before = fleet_without_cpu_time(testapp)
    response = testapp.post_json(f"/vm/{WEB_1}/action", body, status=400)
    assert response.json["status"] == "error"
    [error] = response.json["errors"]
    assert error["location"] == "body" and error["name"] == "action"
    assert error["description"]
    assert fleet_without_cpu_time(testapp) == before


@pytest.mark.parametrize("body, content_type", [
    ('{"action": "pause"', "application/json"),
    ("not json", "application/json;charset=utf-8"),
    ('["pause"]', "application/json"),
    ("action pause", "text/plain"),
])
def test_malformed_body_is_a_400_that_changes_nothing(testapp, body, content_type):
    before = fleet_without_cpu_time(testapp)
    response = testapp.post(f"/vm/{WEB_1}/action", body, content_type=content_type, status=400)
    assert response.json["status"] == "error"
    assert response.json["errors"][0]["location"] == "body"
    assert fleet_without_cpu_time(testapp) == before


def test_action_on_unknown_vm_is_404(testapp):
    response = testapp.post_json("/vm/00000000-0000-0000-0000-000000000000/action",
                                 {"action": "start"}, status=404)
    assert response.json["errors"][0] == {
        "location": "path", "name": "uuid",
        "description": "no VM with UUID 00000000-0000-0000-0000-000000000000"}


def test_get_on_action_is_405_in_json(testapp):
    response = testapp.get(f"/vm/{WEB_1}/action", status=405)
    assert response.headers["Allow"] == "POST"
    assert response.json["code"] == 405 and "POST" in response.json["message"]
