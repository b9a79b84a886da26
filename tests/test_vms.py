"""GET /vm and GET /vm/<uuid>: the first VirtDancer's shapes, on the demo fleet."""

import pytest
import webtest

from .conftest import BUILD_1, DB_1, WEB_1, WEB_2

SEED_DETAIL_FIELDS = {
    "id": int, "uuid": str, "name": str, "active": bool, "persistent": bool,
    "updated": bool, "os": str, "autostart": bool, "info": dict,
}
SEED_INFO_FIELDS = ("maxMem", "memory", "cpuTime", "nrVirtCpu", "state")

# name -> (uuid, active, state, maxMem KiB, memory KiB, vCPUs), from virtdancer/demo/fleet.xml
DEMO_FLEET = {
    "build-1": (BUILD_1, True, 1, 16 * 1024 * 1024, 12 * 1024 * 1024, 8),
    "db-1": (DB_1, False, 5, 8 * 1024 * 1024, 8 * 1024 * 1024, 4),
    "web-1": (WEB_1, True, 1, 2 * 1024 * 1024, 2 * 1024 * 1024, 2),
    "web-2": (WEB_2, True, 3, 2 * 1024 * 1024, 1536 * 1024, 2),
}


def test_list_is_the_seed_shape_sorted_by_name(testapp):
    response = testapp.get("/vm")
    assert response.content_type == "application/json"
    assert response.json == [
        {"uuid": uuid, "name": name, "active": active}
        for name, (uuid, active, *_rest) in sorted(DEMO_FLEET.items())
    ]


@pytest.mark.parametrize("name", sorted(DEMO_FLEET))
def test_detail_has_the_seed_fields_and_types(testapp, name):
    uuid, active, state, max_mem, memory, vcpus = DEMO_FLEET[name]
    vm = testapp.get(f"/vm/{uuid}").json
    for field, kind in SEED_DETAIL_FIELDS.items():
        assert type(vm[field]) is kind, field
    assert all(type(vm["info"][field]) is int for field in SEED_INFO_FIELDS)
    assert (vm["uuid"], vm["name"], vm["active"]) == (uuid, name, active)
    assert vm["info"]["state"] == state
    assert (vm["info"]["maxMem"], vm["info"]["memory"], vm["info"]["nrVirtCpu"]) == \
        (max_mem, memory, vcpus)
    assert vm["persistent"] is True
    assert vm["state_name"] == {1: "running", 3: "paused", 5: "shut off"}[state]
    # A shut-off domain has no ID on the host and has used no CPU time since it stopped.
    if active:
        assert vm["id"] > 0
    else:
        assert vm["id"] == -1 and vm["info"]["cpuTime"] == 0


def test_uuid_lookup_is_case_insensitive(testapp):
    assert testapp.get(f"/vm/{WEB_1.upper()}").json["uuid"] == WEB_1


def without_cpu_time(vm):
    # The test driver reports the wall clock as CPU time, so it moves between two calls.
    return {**vm, "info": {k: v for k, v in vm["info"].items() if k != "cpuTime"}}


# What only the detail of one VM has (a list stays a fixed number of libvirt calls).
DEVICE_FIELDS = ("disks", "cdroms", "nics", "graphics", "boot")


def test_detail_list_matches_each_detail(testapp):
    listed = testapp.get("/vm?detail=1").json
    assert [vm["name"] for vm in listed] == sorted(DEMO_FLEET)
    for vm in listed:
        one = testapp.get(f"/vm/{vm['uuid']}").json
        # The description is in answers about one VM only: a list would ask it of each VM.
        assert isinstance(one.pop("description"), str)
        assert all(field in one for field in DEVICE_FIELDS)
        one = {key: value for key, value in one.items() if key not in DEVICE_FIELDS}
        assert without_cpu_time(vm) == without_cpu_time(one)


@pytest.mark.parametrize("value", ["0", "false", "no"])
def test_detail_can_be_turned_off(testapp, value):
    assert testapp.get(f"/vm?detail={value}").json == testapp.get("/vm").json


def test_head_answers_like_get_without_a_body(testapp):
    response = testapp.head("/vm")
    assert response.status_int == 200 and response.body == b""


@pytest.mark.parametrize("path", ["/vm", "/vm?detail=1", f"/vm/{WEB_1}"])
def test_an_unchanged_answer_costs_a_304(testapp, path):
    first = testapp.get(path)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = testapp.get(path, headers={"If-None-Match": etag}, status=304)
    assert again.body == b"" and again.headers["ETag"] == etag


def test_a_change_of_state_changes_the_etag(testapp):
    etag = testapp.get("/vm?detail=1").headers["ETag"]
    testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"})
    changed = testapp.get("/vm?detail=1", headers={"If-None-Match": etag})
    assert changed.status_int == 200 and changed.headers["ETag"] != etag
    assert {vm["name"]: vm["state_name"] for vm in changed.json}["web-1"] == "paused"


def test_users_who_see_different_fleets_get_different_etags(app, testapp):
    tenant = webtest.TestApp(app)
    tenant.authorization = ("Basic", ("tenant", "tenant"))
    etag = testapp.get("/vm").headers["ETag"]
    assert tenant.get("/vm", headers={"If-None-Match": etag}).status_int == 200


def _etag_of(body, accept="application/json"):
    from pyramid.request import Request
    from pyramid.threadlocal import get_current_registry

    from virtdancer.views.etags import unless_unchanged

    request = Request.blank("/", headers={"Accept": accept})
    request.registry = get_current_registry()
    response = unless_unchanged(request, body)
    return response.etag, response


def test_the_etag_leaves_cpu_time_out_and_only_cpu_time():
    vm = {"name": "web-1", "info": {"cpuTime": 10, "state": 1}}
    assert _etag_of([vm])[0] == _etag_of([{**vm, "info": {"cpuTime": 99, "state": 1}}])[0]
    assert _etag_of([vm])[0] != _etag_of([{**vm, "info": {"cpuTime": 10, "state": 3}}])[0]
    # A name that spells a CPU time is still part of the ETag: inside a JSON string the quotes
    # are escaped, so it never looks like the CPU time the digest leaves out.
    assert _etag_of([{**vm, "name": '"cpuTime": 1'}])[0] != \
        _etag_of([{**vm, "name": '"cpuTime": 2'}])[0]


def test_the_answer_is_encoded_once_as_the_json_renderer_would():
    body = [{"name": "café", "info": {"cpuTime": 1}}]
    _, response = _etag_of(body)
    assert response.content_type == "application/json" and response.charset is None
    assert response.json == body and response.cache_control.no_cache
    _, as_text = _etag_of(body, accept="text/plain")
    assert as_text.content_type == "text/plain" and as_text.json == body


def test_an_answer_orjson_cannot_encode_is_encoded_all_the_same():
    # An integer beyond 64 bits (no libvirt figure is one): the standard encoder takes over.
    body = [{"name": "web-1", "info": {"cpuTime": 2 ** 70, "memory": 2 ** 65}}]
    etag, response = _etag_of(body)
    assert response.json == body
    assert etag == _etag_of([{"name": "web-1", "info": {"cpuTime": 5, "memory": 2 ** 65}}])[0]
    assert etag != _etag_of([{"name": "web-1", "info": {"cpuTime": 5, "memory": 2 ** 66}}])[0]
