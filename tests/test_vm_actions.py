"""Each VM's `actions`: what its state allows, for a user who may operate it; none for a viewer."""

import libvirt
import pytest
import webtest

from virtdancer.hypervisor import ACTIONS, allowed_actions

from .conftest import BUILD_1, DB_1, WEB_1, WEB_2

RUNNING = ["pause", "shutdown", "reboot", "reset", "destroy"]
PAUSED = ["start", "resume", "reset", "destroy"]
SHUT_OFF = ["start"]

# The demo fleet's VMs by state, and what an operator may do to each.
EXPECTED = {"web-1": RUNNING, "web-2": PAUSED, "db-1": SHUT_OFF, "build-1": RUNNING}
UUIDS = {"web-1": WEB_1, "web-2": WEB_2, "db-1": DB_1, "build-1": BUILD_1}
SEES = {"admin": set(EXPECTED), "tenant": {"web-1", "web-2"}, "viewer": set(EXPECTED)}
PREFIXES = ["", "/hosts/default"]   # the first VirtDancer's URLs, and the default host's


def client(app, user):
    test_client = webtest.TestApp(app)
    test_client.authorization = ("Basic", (user, user))
    return test_client


def expected(user, name):
    return [] if user == "viewer" else EXPECTED[name]


def by_name(vms):
    return {vm["name"]: vm["actions"] for vm in vms}


@pytest.mark.parametrize("state, active, actions", [
    (libvirt.VIR_DOMAIN_RUNNING, True, RUNNING),
    (libvirt.VIR_DOMAIN_BLOCKED, True, RUNNING),
    (libvirt.VIR_DOMAIN_PAUSED, True, PAUSED),
    (libvirt.VIR_DOMAIN_SHUTOFF, False, SHUT_OFF),
    (libvirt.VIR_DOMAIN_SHUTOFF, True, SHUT_OFF),        # stopping: its ID is not gone yet
    (libvirt.VIR_DOMAIN_CRASHED, False, SHUT_OFF),
    (libvirt.VIR_DOMAIN_CRASHED, True, ["destroy"]),
    (libvirt.VIR_DOMAIN_PMSUSPENDED, True, ["resume", "destroy"]),
    (libvirt.VIR_DOMAIN_SHUTDOWN, True, ["destroy"]),
    (libvirt.VIR_DOMAIN_NOSTATE, False, SHUT_OFF),
])
def test_the_hypervisor_says_what_a_state_allows(state, active, actions):
    assert allowed_actions(state, active) == actions
    assert set(actions) <= set(ACTIONS)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", sorted(SEES))
def test_each_vm_of_the_detailed_list_has_its_actions(app, prefix, user):
    vms = client(app, user).get(f"{prefix}/vm?detail=1").json
    assert by_name(vms) == {name: expected(user, name) for name in SEES[user]}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", sorted(SEES))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_vm_has_its_actions(app, prefix, user, name):
    url = f"{prefix}/vm/{UUIDS[name]}"
    if name not in SEES[user]:
        client(app, user).get(url, status=404)
        return
    assert client(app, user).get(url).json["actions"] == expected(user, name)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_summaries_stay_the_seed_shape(app, prefix):
    for vm in client(app, "admin").get(f"{prefix}/vm").json:
        assert set(vm) == {"uuid", "name", "active"}


@pytest.mark.parametrize("user", sorted(SEES))
def test_the_detailed_fleet_has_each_vms_actions(app, user):
    vms = client(app, user).get("/fleet?detail=1").json["vms"]
    assert by_name(vms) == {name: expected(user, name) for name in SEES[user]}


def test_the_fleet_summaries_have_no_actions(app):
    for vm in client(app, "admin").get("/fleet").json["vms"]:
        assert "actions" not in vm


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", ["admin", "tenant"])
def test_the_actions_answer_has_the_actions_of_the_vm_afterwards(app, prefix, user):
    operator = client(app, user)
    answer = operator.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "pause"}).json
    assert answer["vm"]["state_name"] == "paused"
    assert answer["vm"]["actions"] == PAUSED
    answer = operator.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "destroy"}).json
    assert answer["vm"]["actions"] == SHUT_OFF
    assert operator.get(f"{prefix}/vm/{WEB_1}").json["actions"] == SHUT_OFF


def test_a_change_of_state_changes_the_actions_everyone_sees(app):
    client(app, "admin").post_json(f"/vm/{DB_1}/action", {"action": "start"})
    assert by_name(client(app, "admin").get("/vm?detail=1").json)["db-1"] == RUNNING
    assert by_name(client(app, "viewer").get("/vm?detail=1").json)["db-1"] == []


@pytest.mark.parametrize("path", ["/vm?detail=1", f"/vm/{WEB_1}", "/fleet?detail=1"])
def test_the_etag_tells_a_viewers_answer_from_an_operators(app, path):
    admin, viewer = client(app, "admin"), client(app, "viewer")
    admin_etag = admin.get(path).headers["ETag"]
    viewer_etag = viewer.get(path).headers["ETag"]
    assert admin_etag != viewer_etag
    # Each still gets a 304 for their own copy, and a full answer for the other's.
    admin.get(path, headers={"If-None-Match": admin_etag}, status=304)
    viewer.get(path, headers={"If-None-Match": viewer_etag}, status=304)
    assert viewer.get(path, headers={"If-None-Match": admin_etag}, status=200).json
