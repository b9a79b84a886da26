"""Every error on VirtDancer's routes is JSON with a useful message, never a traceback."""

import time

import libvirt
import pytest
import webtest

from virtdancer.hypervisor.connection import HostConnection
from virtdancer.hypervisor.sampler import StatsSampler

from .conftest import WEB_1, close_app, make_app

UNREACHABLE_URI = "qemu+unix:///system?socket=/nonexistent/virtdancer-test.sock"
# What the start-up may wait for a host, here: far beyond what a loaded machine takes to build
# an app, so that waiting for the host away cannot hide in the time building takes.
HOST_WAITS = 60.0


def assert_error_body(response, code):
    assert response.content_type == "application/json"
    assert response.json["status"] == "error"
    assert response.json["code"] == code
    assert response.json["message"]
    assert response.json["errors"][0]["description"] == response.json["message"]


@pytest.mark.parametrize("path", [
    "/vm/00000000-0000-0000-0000-000000000000",
    "/vm/not-a-uuid",
    "/vm/6f1c3a52-2d4e-4b8a-9e61-0a7c5d2f8b1",     # one digit short
    "/vm/6f1c3a522d4e4b8a9e610a7c5d2f8b11",         # no hyphens: not the canonical form
])
def test_unknown_or_malformed_uuid_is_404(testapp, path):
    response = testapp.get(path, status=404)
    assert_error_body(response, 404)
    assert response.json["errors"][0]["location"] == "path"


def test_path_tricks_are_json_404(testapp):
    assert_error_body(testapp.get("/vm/..%2F..%2Fetc%2Fpasswd", status=404), 404)


def test_unknown_path_is_json_404_in_the_standalone_app(testapp):
    assert_error_body(testapp.get("/no/such/page", status=404), 404)


def test_unknown_subresource_of_a_vm_is_json_404(testapp):
    assert_error_body(testapp.get(f"/vm/{WEB_1}/nothing-here", status=404), 404)


def test_wrong_method_is_json_405_with_allow(testapp):
    response = testapp.put(f"/vm/{WEB_1}", status=405)
    assert_error_body(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH", "DELETE"}


@pytest.fixture
def unreachable_app(monkeypatch):
    start = HostConnection.start

    def start_with_long_waits(connection):
        connection.connect_wait = HOST_WAITS
        return start(connection)

    monkeypatch.setattr(HostConnection, "start", start_with_long_waits)
    monkeypatch.setattr(StatsSampler, "FIRST_ROUND_WAIT", HOST_WAITS)
    started = time.monotonic()
    app = make_app(**{"virtdancer.libvirt_uri": UNREACHABLE_URI})
    # The app starts even when libvirtd is away, and does not wait for it (building it takes
    # 3 s on a loaded machine: a bound of a few seconds would time the machine instead).
    assert time.monotonic() - started < HOST_WAITS / 2
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("admin", "admin"))
    # Checked once here (argon2id takes its time on a busy machine); what the tests time is
    # the answer of a host that is away.
    client.get("/session")
    yield client
    close_app(app)


@pytest.mark.parametrize("method, path", [
    ("GET", "/vm"),
    ("GET", "/vm?detail=1"),
    ("GET", f"/vm/{WEB_1}"),
    ("POST", f"/vm/{WEB_1}/action"),
])
def test_unreachable_libvirtd_is_a_quick_503_with_retry_after(unreachable_app, method, path):
    started = time.monotonic()
    response = unreachable_app.request(path, method=method, body=b'{"action": "start"}',
                                       content_type="application/json", status=503)
    assert time.monotonic() - started < 1
    assert_error_body(response, 503)
    assert "unreachable" in response.json["message"]
    assert int(response.headers["Retry-After"]) >= 1


def genuine_libvirt_error(call, code=None):
    """The libvirt error that `call(conn)` raises on a fresh test-driver connection (and, if
    given, the error code it must have)."""
    conn = libvirt.open("test:///default")
    try:
        call(conn)
    except libvirt.libvirtError as error:
        if code is not None:
            assert error.get_error_code() == code
        return error
    finally:
        conn.close()
    raise AssertionError("libvirt did what it should have refused")


@pytest.fixture
def libvirt_xml_error():
    """A genuine libvirt error that is neither about state nor about the connection."""
    return genuine_libvirt_error(lambda conn: conn.defineXML("<domain"))


@pytest.fixture
def libvirt_internal_error():
    """A genuine libvirt error that is about nothing VirtDancer or its client could change."""
    # Resuming a running domain: the test driver's "internal error".
    return genuine_libvirt_error(lambda conn: conn.lookupByName("test").resume(),
                                 libvirt.VIR_ERR_INTERNAL_ERROR)


def test_other_libvirt_errors_are_502_with_libvirts_message(testapp, monkeypatch,
                                                            libvirt_internal_error):
    def failing_suspend(dom):
        raise libvirt_internal_error

    monkeypatch.setattr(libvirt.virDomain, "suspend", failing_suspend)
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=502)
    assert_error_body(response, 502)
    assert response.json["message"] == libvirt_internal_error.get_error_message()
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == 1


def test_libvirt_errors_that_are_the_requests_own_are_400(testapp, monkeypatch,
                                                          libvirt_xml_error):
    """Invalid XML or arguments: what creating and editing VMs will pass on from clients."""
    def failing_details(*args):
        raise libvirt_xml_error

    monkeypatch.setattr(libvirt.virConnect, "domainListGetStats", failing_details)
    response = testapp.get(f"/vm/{WEB_1}", status=400)
    assert_error_body(response, 400)
    assert response.json["message"] == libvirt_xml_error.get_error_message()


def test_a_bug_is_a_json_500_without_traceback(testapp, monkeypatch):
    def broken(dom):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(libvirt.virDomain, "suspend", broken)
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=500)
    assert_error_body(response, 500)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


@pytest.fixture
def libvirt_not_now_error():
    """A genuine libvirt refusal of something not possible as things are."""
    def reboot_a_stopped_domain(conn):
        dom = conn.lookupByName("test")
        dom.destroy()
        dom.reboot(0)                          # not running: "operation is not valid"

    return genuine_libvirt_error(reboot_a_stopped_domain, libvirt.VIR_ERR_OPERATION_INVALID)


def test_libvirt_refusals_of_what_is_not_possible_now_are_409(testapp, monkeypatch,
                                                               libvirt_not_now_error):
    def refusing_details(*args):
        raise libvirt_not_now_error

    monkeypatch.setattr(libvirt.virConnect, "domainListGetStats", refusing_details)
    response = testapp.get(f"/vm/{WEB_1}", status=409)
    assert_error_body(response, 409)
    assert response.json["message"] == libvirt_not_now_error.get_error_message()
