"""Many hosts: /hosts, /hosts/<name>/..., /fleet, who sees which host, a host that is away."""

import time
from pathlib import Path

import pytest
import webtest
from plaster import get_settings
from prometheus_client.parser import text_string_to_metric_families

from virtdancer.interfaces import IHostRegistry
from virtdancer.security.passwords import hash_password

from .conftest import DEMO_URI, LAB_URI, WEB_1, close_app, make_app
from .test_errors import HOST_WAITS, UNREACHABLE_URI, assert_error_body
from .test_vm_console_field import rights

WEB_STAGING = "2c8e5f3b-0d46-4a71-9b2e-4f6a8c0d1e66"
TWO_HOSTS = f"demo = {DEMO_URI}\nlab = {LAB_URI}"


def client(app, user="admin", password=None):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", (user, password or user))
    return client


@pytest.fixture
def two_hosts():
    app = make_app(**{"virtdancer.hosts": TWO_HOSTS})
    yield app
    close_app(app)


def names(vms):
    return sorted(vm["name"] for vm in vms)


def test_hosts_lists_every_host_with_its_state_and_counts(two_hosts):
    hosts = client(two_hosts).get("/hosts").json
    assert [host["name"] for host in hosts] == ["demo", "lab"]
    demo, lab = hosts
    assert demo["default"] is True and lab["default"] is False
    assert demo["state"] == lab["state"] == "connected"
    assert demo["reason"] is None and demo["since"] <= time.time()
    assert demo["type"] == "TEST" and demo["version"]
    # The test driver has no graphical displays: the page offers no console there.
    assert demo["displays"] is False
    assert demo["vms"] == {"running": 3, "total": 4}
    assert lab["vms"] == {"running": 3, "total": 4}   # a paused VM is active too
    assert demo["uri"].startswith("test:///") and demo["uri"].endswith("fleet.xml")


def test_only_admins_see_a_hosts_uri(two_hosts):
    for user in ("viewer", "tenant"):
        assert all("uri" not in host for host in client(two_hosts, user).get("/hosts").json)
        assert "uri" not in client(two_hosts, user).get("/hosts/lab").json


def test_one_host(two_hosts):
    assert client(two_hosts).get("/hosts/lab").json["vms"] == {"running": 3, "total": 4}
    response = client(two_hosts).get("/hosts/nowhere", status=404)
    assert_error_body(response, 404)


def test_every_endpoint_is_under_each_host(two_hosts):
    admin = client(two_hosts)
    assert names(admin.get("/hosts/lab/vm").json) == [
        "backup-1", "ci-runner-1", "scratch", "web-staging"]
    assert admin.get(f"/hosts/lab/vm/{WEB_STAGING}").json["name"] == "web-staging"
    admin.get(f"/hosts/lab/vm/{WEB_1}", status=404)          # web-1 lives on demo
    assert admin.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "pause"}).json[
        "vm"]["info"]["state"] == 3
    assert admin.get(f"/hosts/demo/vm/{WEB_1}").json["name"] == "web-1"
    admin.get("/hosts/lab/stats/mem")


def test_the_first_virtdancers_urls_mean_the_default_host(two_hosts):
    admin = client(two_hosts)
    assert admin.get("/vm").json == admin.get("/hosts/demo/vm").json
    admin.get(f"/vm/{WEB_STAGING}", status=404)
    assert admin.get("/stats/mem").json == admin.get("/hosts/demo/stats/mem").json


def test_the_default_host_is_a_setting():
    app = make_app(**{"virtdancer.hosts": TWO_HOSTS, "virtdancer.default_host": "lab"})
    try:
        admin = client(app)
        assert admin.get(f"/vm/{WEB_STAGING}").json["name"] == "web-staging"
        assert [host["default"] for host in admin.get("/hosts").json] == [False, True]
    finally:
        close_app(app)


def test_the_fleet_is_every_vm_of_every_host(two_hosts):
    fleet = client(two_hosts).get("/fleet").json
    assert [host["name"] for host in fleet["hosts"]] == ["demo", "lab"]
    assert {(vm["host"], vm["name"]) for vm in fleet["vms"]} == {
        ("demo", "web-1"), ("demo", "web-2"), ("demo", "db-1"), ("demo", "build-1"),
        ("lab", "ci-runner-1"), ("lab", "web-staging"), ("lab", "scratch"),
        ("lab", "backup-1")}
    assert set(fleet["vms"][0]) == {"uuid", "name", "active", "host"}
    detailed = client(two_hosts).get("/fleet?detail=1").json
    assert all("info" in vm and vm["host"] in ("demo", "lab") for vm in detailed["vms"])
    assert detailed["hosts"] == fleet["hosts"]


def test_the_fleet_answers_304_while_nothing_but_cpu_time_changes(two_hosts):
    admin = client(two_hosts)
    first = admin.get("/fleet?detail=1")
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    time.sleep(0.05)   # the running VMs' CPU time moves on meanwhile
    again = admin.get("/fleet?detail=1", headers={"If-None-Match": etag}, status=304)
    assert again.headers["ETag"] == etag and again.body == b""
    assert again.headers["Cache-Control"] == "private, no-cache"
    # A change on any host is a new answer.
    admin.post_json(f"/hosts/lab/vm/{WEB_STAGING}/action", {"action": "pause"})
    changed = admin.get("/fleet?detail=1", headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    assert {vm["name"]: vm["state_name"] for vm in changed.json["vms"]}["web-staging"] \
        == "paused"


def test_vm_filters_apply_on_every_host(two_hosts):
    fleet = client(two_hosts, "tenant").get("/fleet").json
    assert {(vm["host"], vm["name"]) for vm in fleet["vms"]} == {
        ("demo", "web-1"), ("demo", "web-2"), ("lab", "web-staging")}
    assert [host["vms"] for host in fleet["hosts"]] == [{"running": 2, "total": 2},
                                                        {"running": 1, "total": 1}]


def test_console_and_operable_follow_the_vm_filters_on_every_host(two_hosts):
    # The tenant (an operator of the VMs named web-...) on two hosts: only those VMs, each
    # operable, with a console as its state allows (lab's web-staging runs).
    vms = client(two_hosts, "tenant").get("/fleet?detail=1").json["vms"]
    assert {(vm["host"], vm["name"]): rights(vm) for vm in vms} == {
        ("demo", "web-1"): (True, True), ("demo", "web-2"): (True, True),
        ("lab", "web-staging"): (True, True)}
    lab = client(two_hosts, "tenant").get("/hosts/lab/vm?detail=1").json
    assert [(vm["name"], rights(vm)) for vm in lab] == [("web-staging", (True, True))]
    viewer = client(two_hosts, "viewer").get("/hosts/lab/vm?detail=1").json
    assert {rights(vm) for vm in viewer} == {(False, False)}
    # The operator's lab VMs: a console for the running and the paused, none for the shut off.
    admin = client(two_hosts, "admin").get("/hosts/lab/vm?detail=1").json
    assert {vm["name"]: rights(vm) for vm in admin} == {
        "backup-1": (False, True), "ci-runner-1": (True, True), "scratch": (True, True),
        "web-staging": (True, True)}


# -- who sees which host ---------------------------------------------------------------------

@pytest.fixture
def lab_only(tmp_path):
    users = tmp_path / "users.ini"
    users.write_text(f"[ann]\npassword = {hash_password('pw')}\nrole = operator\nvms = all\n"
                     "hosts = lab\n"
                     f"[bob]\npassword = {hash_password('pw')}\nrole = admin\nvms = all\n")
    app = make_app(**{"virtdancer.hosts": TWO_HOSTS, "virtdancer.users_file": str(users)})
    yield app
    close_app(app)


def test_a_hidden_host_is_missing_everywhere(lab_only):
    ann = client(lab_only, "ann", "pw")
    assert [host["name"] for host in ann.get("/hosts").json] == ["lab"]
    assert {vm["host"] for vm in ann.get("/fleet").json["vms"]} == {"lab"}
    assert [host["name"] for host in ann.get("/fleet").json["hosts"]] == ["lab"]
    for path in ("/hosts/demo", "/hosts/demo/vm", f"/hosts/demo/vm/{WEB_1}",
                 "/hosts/demo/stats/cpu", "/vm", f"/vm/{WEB_1}", "/stats/mem"):
        assert_error_body(ann.get(path, status=404), 404)
    ann.post_json(f"/hosts/demo/vm/{WEB_1}/action", {"action": "pause"}, status=404)
    families = {family.name: family for family in text_string_to_metric_families(
        ann.get("/metrics").text)}
    assert {sample.labels["host"] for family in families.values()
            for sample in family.samples} == {"lab"}
    bob = client(lab_only, "bob", "pw")
    assert [host["name"] for host in bob.get("/hosts").json] == ["demo", "lab"]
    assert bob.get(f"/vm/{WEB_1}").json["info"]["state"] == 1


def test_a_users_hosts_key_is_all_or_names(tmp_path, capsys):
    users = tmp_path / "users.ini"
    users.write_text(f"[ann]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n"
                     "hosts = all, lab\n")
    with pytest.raises(SystemExit):
        make_app(**{"virtdancer.users_file": str(users)})
    assert "hosts is 'all' or a list of host names" in capsys.readouterr().err


# -- a host that is away ---------------------------------------------------------------------

@pytest.fixture
def one_host_away():
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\naway = {UNREACHABLE_URI}"})
    yield app
    close_app(app)


def test_a_host_that_is_away_is_unavailable_while_the_others_answer(one_host_away):
    # Far beyond what a request takes on a loaded machine: waiting for the host away could
    # not hide in it.
    one_host_away.registry.getUtility(IHostRegistry).answer_wait = HOST_WAITS
    admin = client(one_host_away)
    admin.get("/session")   # the password is checked once here (argon2id: 2 s when busy)
    started = time.monotonic()
    fleet = admin.get("/fleet").json
    assert time.monotonic() - started < HOST_WAITS / 2
    demo, away = fleet["hosts"]
    assert demo["state"] == "connected" and demo["vms"]["total"] == 4
    assert away["state"] == "unavailable" and away["reason"] and away["vms"] is None
    assert {vm["host"] for vm in fleet["vms"]} == {"demo"}
    assert [host["state"] for host in admin.get("/hosts").json] == ["connected", "unavailable"]
    response = admin.get("/hosts/away/vm", status=503)
    assert response.headers["Retry-After"]
    admin.get("/hosts/demo/vm")


# -- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("hosts, default, says", [
    ("Demo = test:///default", "", "a host name is lowercase letters, digits and '-'"),
    ("demo test:///default", "", "write `name = libvirt URI`"),
    ("demo = ", "", "write `name = libvirt URI`"),
    (f"demo = {DEMO_URI}\ndemo = {LAB_URI}", "", "listed twice"),
    (f"demo = {DEMO_URI}", "lab", "virtdancer.default_host is 'lab'"),
])
def test_wrong_host_settings_are_one_line(capsys, hosts, default, says):
    with pytest.raises(SystemExit) as exit_info:
        make_app(**{"virtdancer.hosts": hosts, "virtdancer.default_host": default})
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("VirtDancer cannot start: ") and says in line


def test_development_ini_shows_two_demo_hosts():
    """`scripts/demo.sh` (pserve development.ini) shows many hosts with no hypervisor at hand."""
    ini = Path(__file__).resolve().parents[1] / "development.ini"
    hosts = get_settings(str(ini), "app:main")["virtdancer.hosts"]
    app = make_app(**{"virtdancer.hosts": hosts})
    try:
        admin = client(app)
        assert [(host["name"], host["default"]) for host in admin.get("/hosts").json] \
            == [("demo", True), ("lab", False)]
        assert admin.get(f"/vm/{WEB_1}").json["name"] == "web-1"
        assert admin.get(f"/hosts/lab/vm/{WEB_STAGING}").json["name"] == "web-staging"
    finally:
        close_app(app)


def test_in_process_hosts_are_asked_in_the_request_thread_the_others_on_the_pool(two_hosts):
    """The test driver has nothing to wait for: threads would only fight over the GIL."""
    import threading

    from virtdancer.interfaces import IHostRegistry

    registry = two_hosts.registry.getUtility(IHostRegistry)
    registry.get("lab").in_process = False     # as if it were remote
    asked_on = {}

    def question(hypervisor):
        asked_on[hypervisor.name] = threading.current_thread()
        return hypervisor.name

    answers = registry.ask_each(["lab", "demo"], question)
    assert list(answers) == ["lab", "demo"]          # in the order asked, whoever answered first
    assert answers == {"lab": ("lab", None), "demo": ("demo", None)}
    assert asked_on["demo"] is threading.current_thread()
    assert asked_on["lab"] is not threading.current_thread()
    assert asked_on["lab"].name.startswith("virtdancer-hosts")


def test_a_host_that_hangs_neither_holds_up_the_fleet_nor_piles_up_questions(two_hosts):
    """A host whose libvirtd stopped answering (a blocked call) is unavailable after the wait,
    then not asked again until it answers, while the other host answers every time."""
    import threading

    from virtdancer.interfaces import IHostRegistry

    registry = two_hosts.registry.getUtility(IHostRegistry)
    registry.answer_wait = 0.3
    hung = threading.Event()
    asked = []

    def hanging_summaries():
        asked.append(time.monotonic())
        hung.wait(30)
        return []

    lab = registry.get("lab")
    # A remote host's libvirtd, that is: the test driver runs in this process and cannot hang.
    lab.in_process = False
    original, lab.fleet.summaries = lab.fleet.summaries, hanging_summaries
    try:
        admin = client(two_hosts)
        for attempt in range(8):
            started = time.monotonic()
            fleet = admin.get("/fleet").json
            assert time.monotonic() - started < 2
            demo, lab_answer = fleet["hosts"]
            assert demo["vms"]["total"] == 4 and lab_answer["state"] == "unavailable"
            time.sleep(0.1)
        assert "has not answered for" in lab_answer["reason"]
        assert len(asked) <= 3          # not one stuck question per request
    finally:
        hung.set()
        lab.fleet.summaries = original
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if client(two_hosts).get("/hosts/lab").json["state"] == "connected":
            break
        time.sleep(0.1)
    assert client(two_hosts).get("/hosts/lab").json["vms"]["total"] == 4
