"""GET /openapi.json: the document generated from the registered services, and the contract
every answer of the tests is checked against (tests/contract.py)."""

import pytest
import webtest
from jsonschema import Draft202012Validator
from pyramid.config import Configurator
from pyramid.interfaces import IRoutesMapper

from virtdancer import shapes
from virtdancer.routes import TRAVERSED

from . import contract
from .conftest import DEMO_URI, WEB_1, HostRoot, close_app

# VirtDancer's routes that are no API operation: the page, its files, the console page, noVNC.
NOT_API = {"virtdancer.ui", "virtdancer.ui.slash", "virtdancer.static",
           "virtdancer.console_page", "virtdancer.novnc", "virtdancer.api_page",
           "virtdancer.api_page.bare"}
# Methods Pyramid and Cornice add by themselves (a HEAD beside each GET is documented too).
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete"}


def document_of(client, path="/openapi.json"):
    response = client.get(path)
    assert response.content_type == "application/json"
    return response.json


def test_the_document_needs_no_login_and_is_openapi_3_1(anonymous):
    document = document_of(anonymous)
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "/"}]
    assert set(document["components"]["securitySchemes"]) == {"basic", "session", "bearer"}
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    assert document["paths"]["/vm"]["get"]["security"] == [{"basic": []}, {"session": []},
                                                            {"bearer": []}]


def test_every_registered_operation_is_documented_and_nothing_else(app, anonymous):
    """Registered (a view Pyramid has for a method on an API route of VirtDancer's, whoever
    registered it) == documented."""
    document = document_of(anonymous)
    routes = {route.name: route.pattern
              for route in app.registry.getUtility(IRoutesMapper).get_routes()
              if route.name.startswith("virtdancer.") and route.name not in NOT_API}
    registered = set()
    for view in app.registry.introspector.get_category("views"):
        found = view["introspectable"]
        methods = found["request_methods"]
        if found["route_name"] in routes and methods:
            # Views without a method are the answers to every other method (405s).
            methods = (methods,) if isinstance(methods, str) else methods
            registered |= {(routes[found["route_name"]], method.lower()) for method in methods}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in HTTP_METHODS}
    assert documented == registered
    assert ("/metrics", "head") in registered and ("/vm/{uuid}/action", "post") in registered
    # Each route of the tree is one path, on the default host and under /hosts/<name>.
    assert {pattern for _, pattern, _ in TRAVERSED} <= set(document["paths"])


def test_every_schema_of_the_document_is_valid_json_schema(anonymous):
    document = document_of(anonymous)
    count = 0
    for item in document["paths"].values():
        for operation in item.values():
            for answer in operation["responses"].values():
                for media in answer.get("content", {}).values():
                    Draft202012Validator.check_schema(media["schema"])
                    count += 1
            for parameter in operation["parameters"]:
                Draft202012Validator.check_schema(parameter["schema"])
    assert count > 100


def test_each_operation_says_its_permission_errors_and_parameters(anonymous):
    paths = document_of(anonymous)["paths"]
    action = paths["/hosts/{host}/vm/{uuid}/action"]["post"]
    assert action["x-permission"] == "vm:operate"
    assert [p["name"] for p in action["parameters"]] == ["host", "uuid", "wait"]
    assert action["requestBody"]["content"]["application/json"]["schema"]["required"] == \
        ["action"]
    assert {"200", "202", "400", "401", "403", "404", "409", "413", "415", "503"} <= \
        set(action["responses"])
    listing = paths["/vm"]["get"]
    assert {"detail", "If-None-Match"} <= {p["name"] for p in listing["parameters"]}
    assert "304" in listing["responses"]
    assert "429" in paths["/login"]["post"]["responses"]


def test_under_a_prefix_the_servers_url_keeps_it():
    with Configurator(settings={"virtdancer.libvirt_uri": DEMO_URI},
                      root_factory=HostRoot) as config:
        config.include("virtdancer", route_prefix="/virt")
    app = config.make_wsgi_app()
    try:
        client = webtest.TestApp(app)
        document = document_of(client, "/virt/openapi.json")
        assert document["servers"] == [{"url": "/virt"}]
        assert "/vm/{uuid}" in document["paths"] and "/virt/vm/{uuid}" not in document["paths"]
        # Behind a Paste mount as well: the script name comes first.
        mounted = webtest.TestApp(app, extra_environ={"SCRIPT_NAME": "/portal"})
        assert document_of(mounted, "/virt/openapi.json")["servers"] == [{"url": "/portal/virt"}]
    finally:
        close_app(app)


def test_an_answer_outside_its_schema_is_a_breach(testapp, monkeypatch):
    """The contract would catch a view that answers a field it does not declare."""
    original = shapes.detail_answer
    monkeypatch.setattr("virtdancer.views.vms.detail_answer",
                        lambda vm, operates: {**original(vm, operates), "surprise": 1})
    testapp.get(f"/vm/{WEB_1}")
    found = contract.take_breaches()
    assert len(found) == 1 and "outside its schema" in found[0] and "surprise" in found[0]


@pytest.mark.parametrize("status", [418])
def test_an_undocumented_status_is_a_breach(testapp, monkeypatch, status):
    from pyramid.httpexceptions import exception_response

    def teapot(*args):
        raise exception_response(status)

    monkeypatch.setattr("virtdancer.views.vms.unless_unchanged", teapot)
    testapp.get(f"/vm/{WEB_1}", status=status)
    found = contract.take_breaches()
    assert found and f"answered {status}" in found[0]


def test_query_parameters_are_read_through_the_declared_schema(testapp, anonymous):
    """What the document offers is what the views accept, and nothing else."""
    detail = next(parameter for parameter in document_of(anonymous)["paths"]["/vm"]["get"]
                  ["parameters"] if parameter["name"] == "detail")
    for spelling in detail["schema"]["enum"]:
        answer = testapp.get("/vm", params={"detail": spelling})
        assert ("info" in answer.json[0]) == (spelling.lower() in ("1", "t", "true", "y", "yes",
                                                                   "on"))
    refused = testapp.get("/vm?detail=maybe", status=400).json
    assert refused["errors"][0]["location"] == "querystring"
    assert refused["errors"][0]["name"] == "detail" and "'maybe'" in refused["message"]
    # `filter` takes only what the schema says: once a typo was ignored without a word.
    refused = testapp.get("/stats/nic?filter=virtual", status=400).json
    assert refused["errors"][0]["name"] == "filter"


# -- from the review of the document's first version --------------------------------------------

WRONG_BASIC = {"Authorization": "Basic dGVuYW50Ondyb25n"}     # tenant:wrong


@pytest.mark.parametrize("method, path", [("get", "/session"), ("post", "/logout")])
def test_throttled_basic_credentials_on_public_routes_are_documented(app, method, path):
    anonymous = webtest.TestApp(app)
    statuses = [getattr(anonymous, method)(path, headers=WRONG_BASIC, expect_errors=True)
                .status_int for _ in range(6)]
    assert 429 in statuses
    assert not contract.take_breaches()


def test_a_json_answer_asked_for_as_text_is_documented_so(testapp):
    assert testapp.get("/vm", headers={"Accept": "text/plain"}).content_type == "text/plain"
    assert not contract.take_breaches()


def test_head_metrics_is_documented(testapp, anonymous):
    testapp.head("/metrics", status=200)
    assert "head" in document_of(anonymous)["paths"]["/metrics"]


def test_a_query_value_outside_its_schema_is_refused_on_a_local_host(app, testapp):
    from virtdancer.interfaces import IHostRegistry

    app.registry.getUtility(IHostRegistry).get("default").local = True   # NICs readable
    assert testapp.get("/stats/nic").status_int == 200
    testapp.get("/stats/nic?filter=virtual", status=400)


def test_token_urls_promise_no_hypervisor_errors(anonymous):
    paths = document_of(anonymous)["paths"]
    assert {"409", "502", "503"}.isdisjoint(paths["/tokens/{id}"]["delete"]["responses"])
    assert "404" in paths["/tokens/{id}"]["get"]["responses"]


@pytest.mark.parametrize(("path", "method"), [("/logout", "post"),
                                              ("/vm/{uuid}/console", "post")])
def test_an_operation_that_reads_no_body_documents_none(anonymous, path, method):
    """schemathesis sent POST /logout a body its document called invalid (`[null, null]`) and
    the view, which reads none, took it: the document promised a JSON object it never reads."""
    assert "requestBody" not in document_of(anonymous)["paths"][path][method]


def test_path_parameters_are_the_schemas_the_resources_find_things_by(testapp, anonymous):
    from virtdancer.schemas import well_formed

    paths = document_of(anonymous)["paths"]
    uuid = next(p for p in paths["/hosts/{host}/vm/{uuid}"]["get"]["parameters"]
                if p["name"] == "uuid")
    assert uuid["schema"]["pattern"].startswith("^[0-9a-fA-F]{8}-")
    assert well_formed("uuid", WEB_1.upper()) and not well_formed("uuid", WEB_1 + "0")
    testapp.get(f"/vm/{WEB_1.upper()}", status=200)
    testapp.get(f"/vm/{WEB_1.replace('-', '')}", status=404)
    assert not well_formed("host", "Demo") and well_formed("host", "demo")
    testapp.get("/hosts/DEFAULT", status=404)
    testapp.get("/tokens/not-a-token-id", status=404)


def test_a_body_a_form_cannot_carry_is_documented_as_json_only(anonymous):
    # POST /vm has lists (disks, networks): form fields are text, one value each. (Its other
    # body is the domain's XML.)
    paths = document_of(anonymous)["paths"]
    assert list(paths["/vm"]["post"]["requestBody"]["content"]) == ["application/json",
                                                                     "application/xml"]
    flat = paths["/pools"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in flat


def test_an_upload_documents_its_bytes(anonymous):
    paths = document_of(anonymous)["paths"]
    body = paths["/pools/{pool}/volumes/{volume}/content"]["put"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    assert "501" in paths["/pools/{pool}/volumes/{volume}/content"]["put"]["responses"]


def _operations(document):
    return {operation["operationId"]: (path, operation)
            for path, item in document["paths"].items() for operation in item.values()}


def test_what_a_post_makes_links_to_its_read_and_delete(anonymous):
    document = document_of(anonymous)
    expected = {("/vm", "201"): {"GetVm", "PostVmAction", "PostVmConsole", "DeleteVm"},
                ("/hosts/{host}/vm", "201"): {"GetVm", "PostVmAction", "PostVmConsole",
                                              "DeleteVm"},
                ("/pools", "201"): {"GetPool", "GetVolumes", "PostVolumes", "PostPoolAction",
                                    "DeletePool"},
                ("/networks", "201"): {"GetNetwork", "PostNetworkAction", "DeleteNetwork"},
                ("/tokens", "201"): {"GetToken", "DeleteToken"}}
    for (path, status), names in expected.items():
        links = document["paths"][path]["post"]["responses"][status]["links"]
        assert set(links) == names, path
    on_host = document["paths"]["/hosts/{host}/vm"]["post"]["responses"]["201"]["links"]
    assert on_host["DeleteVm"] == {"operationId": "delete:virtdancer.host.vm", "parameters": {
        "host": "$request.path.host", "uuid": "$response.body#/uuid"}}
    # A volume is made by a task (202): its body is the task's, which names no volume.
    volume = document["paths"]["/hosts/{host}/pools/{pool}/volumes"]["post"]["responses"]
    assert set(volume) >= {"202"} and "links" not in volume["202"]
    assert "GetHostVms" in document["paths"]["/hosts"]["get"]["responses"]["200"]["links"]
    assert "links" not in document["paths"]["/hosts"]["head"]["responses"]["200"]


def test_every_link_leads_to_an_operation_with_all_its_path_parameters(anonymous):
    document = document_of(anonymous)
    operations = _operations(document)
    found = 0
    for path, item in document["paths"].items():
        for operation in item.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    target_path, target = operations[link["operationId"]]
                    needed = {parameter["name"] for parameter in target["parameters"]
                              if parameter["in"] == "path"}
                    assert set(link["parameters"]) == needed, (path, link)
                    found += 1
    assert found >= 20


def _follow(client, document, link, answer, request_path):
    """The URL a link leads to, from the answer's body and the request's path."""
    target_path, _ = _operations(document)[link["operationId"]]
    for name, expression in link["parameters"].items():
        if expression.startswith("$request.path."):
            value = request_path[expression[len("$request.path."):]]
        else:
            value = answer
            for step in expression.split("#/", 1)[1].split("/"):
                value = value[int(step)] if isinstance(value, list) else value[step]
        target_path = target_path.replace("{%s}" % name, str(value))
    return target_path


def test_following_the_links_of_a_new_token_reads_then_revokes_it(testapp):
    document = document_of(testapp)
    made = testapp.post_json("/tokens", {"name": "linked", "scope": "read"}, status=201)
    links = document["paths"]["/tokens"]["post"]["responses"]["201"]["links"]
    url = _follow(testapp, document, links["GetToken"], made.json, {})
    assert testapp.get(url).json["name"] == "linked"
    testapp.delete(_follow(testapp, document, links["DeleteToken"], made.json, {}))
    testapp.get(url, status=404)


def test_following_the_links_of_the_host_list_reaches_the_first_hosts_vms(testapp):
    document = document_of(testapp)
    hosts = testapp.get("/hosts").json
    link = document["paths"]["/hosts"]["get"]["responses"]["200"]["links"]["GetHostVms"]
    url = _follow(testapp, document, link, hosts, {})
    assert url == f"/hosts/{hosts[0]['name']}/vm"
    assert testapp.get(url).json


@pytest.mark.parametrize("value", ["%C2%85", "%20", "%201", "1%0A", "%C4%B0"])
def test_a_yes_no_parameter_outside_its_documented_spellings_is_refused(testapp, value):
    # The deep fuzz run's find: `?history=<U+0085>` was read as no, because Python strips any
    # Unicode space, while the document lists the spellings exactly.
    answer = testapp.get(f"/vm/{WEB_1}/stats/cpu?history={value}", status=400)
    assert answer.json["errors"][0]["name"] == "history"


def test_a_yes_no_parameter_is_documented_in_every_case_it_is_read_in(testapp, anonymous):
    document = document_of(anonymous)
    [history] = [parameter for parameter in document["paths"]["/vm/{uuid}/stats/cpu"]["get"][
        "parameters"] if parameter["name"] == "history"]
    spellings = history["schema"]["enum"]
    assert {"TRUE", "Yes", "oFf", "", "1"} <= set(spellings) and " 1" not in spellings
    for spelling in ("TRUE", "Yes", "oFf", ""):
        testapp.get(f"/vm/{WEB_1}/stats/cpu?history={spelling}", status=200)
