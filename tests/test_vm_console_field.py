"""Each VM's `console` and `operable`: whether the user may open its console now, and whether
they may act on it at all; the page shows its Console link and its buttons from these alone."""

import libvirt
import pytest
import webtest

from virtdancer.hypervisor import has_display_state
from virtdancer.hypervisor.display import ConsoleUnavailable, check_console

from .conftest import BUILD_1, DB_1, WEB_1, WEB_2

UUIDS = {"web-1": WEB_1, "web-2": WEB_2, "db-1": DB_1, "build-1": BUILD_1}
# The demo fleet's VMs: running, paused, shut off, running. Each has a display while it runs
# or is paused.
DISPLAY = {"web-1": True, "web-2": True, "db-1": False, "build-1": True}
SEES = {"admin": set(UUIDS), "tenant": {"web-1", "web-2"}, "viewer": set(UUIDS)}
OPERATES = {"admin": True, "tenant": True, "viewer": False}
PREFIXES = ["", "/hosts/default"]   # the first VirtDancer's URLs, and the default host's


def client(app, user):
    test_client = webtest.TestApp(app)
    test_client.authorization = ("Basic", (user, user))
    return test_client


def rights(vm):
    """(console, operable) of a detail object; JSON booleans, never 0/1 or null."""
    assert type(vm["console"]) is bool and type(vm["operable"]) is bool, vm
    return vm["console"], vm["operable"]


def expected(user, name):
    return OPERATES[user] and DISPLAY[name], OPERATES[user]


@pytest.mark.parametrize("state", range(libvirt.VIR_DOMAIN_PMSUSPENDED + 1))
def test_a_ticket_is_refused_for_the_states_without_a_display(state):
    # One rule for the field and for POST console: a state without a display is refused there
    # too, before the display is looked for.
    class Domain:
        def state(self):
            return [state, 0]

        def XMLDesc(self, _flags):
            return "<domain><devices><graphics type='vnc' port='5900'/></devices></domain>"

    if has_display_state(state):
        check_console(None, Domain(), "qemu:///system")
    else:
        with pytest.raises(ConsoleUnavailable, match="not running"):
            check_console(None, Domain(), "qemu:///system")
    assert has_display_state(state) == (state in (libvirt.VIR_DOMAIN_RUNNING,
                                                  libvirt.VIR_DOMAIN_BLOCKED,
                                                  libvirt.VIR_DOMAIN_PAUSED))


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", sorted(SEES))
def test_each_vm_of_the_detailed_list_says_console_and_operable(app, prefix, user):
    vms = client(app, user).get(f"{prefix}/vm?detail=1").json
    assert {vm["name"]: rights(vm) for vm in vms} == \
        {name: expected(user, name) for name in SEES[user]}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", sorted(SEES))
@pytest.mark.parametrize("name", sorted(UUIDS))
def test_one_vm_says_console_and_operable(app, prefix, user, name):
    url = f"{prefix}/vm/{UUIDS[name]}"
    if name not in SEES[user]:   # the tenant's name filter: db-1 and build-1 do not exist
        client(app, user).get(url, status=404)
        return
    assert rights(client(app, user).get(url).json) == expected(user, name)


@pytest.mark.parametrize("user", sorted(SEES))
def test_the_detailed_fleet_says_console_and_operable(app, user):
    vms = client(app, user).get("/fleet?detail=1").json["vms"]
    assert {vm["name"]: rights(vm) for vm in vms} == \
        {name: expected(user, name) for name in SEES[user]}


@pytest.mark.parametrize("path", ["/vm", "/fleet"])
def test_the_short_forms_stay_without_them(app, path):
    answer = client(app, "admin").get(path).json
    for vm in answer if path == "/vm" else answer["vms"]:
        assert "console" not in vm and "operable" not in vm


def test_a_viewer_who_may_not_act_gets_no_console_in_any_state(app):
    # Not operable: no actions and no console whatever the state; the state alone makes no
    # console appear for a viewer when the VM starts.
    client(app, "admin").post_json(f"/vm/{DB_1}/action", {"action": "start"})
    viewer = client(app, "viewer").get(f"/vm/{DB_1}").json
    assert (viewer["actions"], rights(viewer)) == ([], (False, False))
    admin = client(app, "admin").get(f"/vm/{DB_1}").json
    assert rights(admin) == (True, True)
    client(app, "viewer").post(f"/vm/{DB_1}/console", status=403)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("user", ["admin", "tenant"])
def test_the_action_answer_says_console_as_the_vm_is_afterwards(app, prefix, user):
    operator = client(app, user)
    answer = operator.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "pause"}).json
    assert rights(answer["vm"]) == (True, True)            # a paused VM keeps its display
    answer = operator.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "destroy"}).json
    assert answer["vm"]["state_name"] == "shut off"
    assert rights(answer["vm"]) == (False, True)           # operable still: it can be started
    assert answer["vm"]["actions"] == ["start"]
    answer = operator.post_json(f"{prefix}/vm/{WEB_1}/action", {"action": "start"}).json
    assert rights(answer["vm"]) == (True, True)
