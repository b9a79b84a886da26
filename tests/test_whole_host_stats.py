"""The whole host's figures (CPU, memory, network) only for users who see every VM of the host.

A host's CPU and memory are the sum of every VM's load: to a tenant limited to some VMs they
would tell of the others (that a hidden VM is busy). Such a user gets a 403 that says why on
`/stats/cpu`, `/stats/mem` and `/stats/nic` of that host, and /metrics leaves those figures out;
a user whose filters happen to cover every VM of the host gets them.
"""

import pytest
import webtest
from prometheus_client.parser import text_string_to_metric_families

from virtdancer.security.passwords import hash_password

from .conftest import DEMO_URI, LAB_URI, close_app, make_app
from .test_errors import assert_error_body
from .test_stats import INTERVAL, late_rounds_tolerated

WHOLE_HOST = ["/stats/cpu", "/stats/mem", "/stats/nic", "/stats/cpu?history=1",
              "/stats/mem?history=1&since=0", "/stats/nic?history=1&filter=physical"]
# The demo host's VMs are web-1, web-2, db-1 and build-1; lab's are ci-runner-1, web-staging,
# scratch and backup-1.
USERS = {
    "tenant": "role = operator\nprefix = web-\n",            # some VMs of each host
    "every": "role = viewer\nexact = web-1, web-2, db-1, build-1\n",   # all of demo's
    "admin": "role = admin\nvms = all\n",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    users = tmp_path_factory.mktemp("users") / "users.ini"
    users.write_text("".join(f"[{name}]\npassword = {hash_password(name)}\n{rest}\n"
                             for name, rest in USERS.items()))
    app = make_app(**{"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}",
                      "virtdancer.users_file": str(users),
                      "virtdancer.stats.interval": str(INTERVAL)})
    with late_rounds_tolerated():
        yield app
    close_app(app)


def client(app, user):
    testapp = webtest.TestApp(app)
    testapp.authorization = ("Basic", (user, user))
    return testapp


@pytest.mark.parametrize("path", WHOLE_HOST)
@pytest.mark.parametrize("host", ["", "/hosts/demo", "/hosts/lab"])
def test_a_tenant_limited_to_some_vms_gets_no_whole_host_figures(app, host, path):
    response = client(app, "tenant").get(host + path, status=403)
    assert_error_body(response, 403)
    name = host.rpartition("/")[2] or "demo"
    assert response.json["message"] == (
        "the whole host's figures are for users who see every VM of the host; "
        f"your VM filters leave some of host {name}'s VMs out")


@pytest.mark.parametrize("path", ["/stats/cpu", "/stats/mem?history=1"])
def test_filters_that_cover_every_vm_of_a_host_get_its_figures(app, path):
    every = client(app, "every")
    assert every.get(f"/hosts/demo{path}").status_int == 200
    # ... but not lab's, whose VMs it does not see at all.
    every.get(f"/hosts/lab{path}", status=403)


def test_the_tenant_still_sees_its_own_vms_figures(app):
    tenant = client(app, "tenant")
    web_1 = next(vm for vm in tenant.get("/vm").json if vm["name"] == "web-1")
    assert tenant.get(f"/vm/{web_1['uuid']}/stats").json["running"] is True


def metric_names(app, user):
    text = client(app, user).get("/metrics").text
    return {sample.name.removesuffix("_total"): sample.labels
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_leave_the_host_figures_out_for_a_limited_tenant(app):
    tenant = metric_names(app, "tenant")
    assert "virtdancer_vm_active" in tenant
    assert not any(name.startswith(("virtdancer_host_cpu", "virtdancer_host_memory"))
                   for name in tenant), tenant
    admin = metric_names(app, "admin")
    assert "virtdancer_host_memory_bytes" in admin and "virtdancer_host_cpu_percent" in admin


@pytest.mark.parametrize(("user", "figures"), [
    ("tenant", {"demo": False, "lab": False}),
    ("every", {"demo": True, "lab": False}),
    ("admin", {"demo": True, "lab": True}),
])
def test_hosts_and_the_fleet_say_whose_the_host_figures_are(app, user, figures):
    """The page asks for the host's figures only where it may: no 403 to show."""
    some = client(app, user)
    assert {host["name"]: host["host_figures"] for host in some.get("/hosts").json} == figures
    assert some.get("/hosts/lab").json["host_figures"] is figures["lab"]
    for query in ("", "?detail=1"):
        fleet = some.get(f"/fleet{query}").json
        assert {host["name"]: host["host_figures"] for host in fleet["hosts"]} == figures
