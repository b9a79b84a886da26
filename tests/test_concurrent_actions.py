"""Actions racing on one VM: each is done or refused with a 409 and the VM's state, never a 502.

VirtDancer checks a VM's state, then asks libvirt; another request may change the state in
between, and libvirt then refuses. libvirt's test driver calls that refusal an internal error
("domain 'web-1' not paused"), so a race through the real server hits it only now and then;
the tests below the first make each kind of race happen on purpose, at the moment it matters.
"""

import threading

import libvirt
import pytest
import webtest

from .concurrently import assert_done_or_refused, post_actions
from .conftest import DB_1, WEB_1, Server

RUNNING, PAUSED, SHUT_OFF = 1, 3, 5
STATE_NAMES = {RUNNING: "running", PAUSED: "paused", SHUT_OFF: "shut off"}

# Mixed so that every kind of refusal can meet every kind of change; start comes back after
# the stops, so the VM does not stay shut off for the rest of a round.
ACTIONS = ("pause", "resume", "start", "pause", "resume", "reset", "shutdown", "start",
           "reboot", "destroy", "start", "resume")
REQUESTS_PER_ROUND = 50
# One round of 50 meets the race about one time in four on the test driver; twelve rounds
# (under 3 s) meet it almost always. More server threads than this only add GIL contention.
ROUNDS = 12
SERVER_THREADS = 16


@pytest.fixture
def server(app):
    running = Server(app, threads=SERVER_THREADS)
    yield running
    running.close()


def test_racing_actions_through_the_server_are_done_or_409(server):
    statuses = {}
    for _ in range(ROUNDS):
        actions = [ACTIONS[i % len(ACTIONS)] for i in range(REQUESTS_PER_ROUND)]
        answers = post_actions(server.origin, WEB_1, actions)
        for status, count in assert_done_or_refused(answers, STATE_NAMES).items():
            statuses[status] = statuses.get(status, 0) + count
    assert statuses.get(200) and statuses.get(409), statuses


# -- each race on purpose ------------------------------------------------------------------

def on_first_call(monkeypatch, method, first_call):
    """Make the first call of `virDomain.<method>` run `first_call(dom, original)` instead.

    Later calls (those of the requests that `first_call` itself makes) are the real ones.
    """
    original = getattr(libvirt.virDomain, method)
    called = threading.Event()

    def replacement(dom, *args):
        if called.is_set():
            return original(dom, *args)
        called.set()
        return first_call(dom, original)

    monkeypatch.setattr(libvirt.virDomain, method, replacement)


def refusal(call):
    """The libvirtError that libvirt raises for `call()`, which must fail."""
    with pytest.raises(libvirt.libvirtError) as raised:
        call()
    return raised.value


def libvirt_error(code, message):
    """A libvirtError as libvirtd sends it for `code`, for refusals the test driver never makes."""
    error = libvirt.libvirtError(message)
    error.err = (code, libvirt.VIR_FROM_QEMU, message, libvirt.VIR_ERR_ERROR, None, None, None,
                 -1, -1)
    return error


def other_request(app, uuid, action):
    """POST `action` from another thread, as a concurrent client would, and wait for it."""
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("admin", "admin"))
    done = []
    thread = threading.Thread(target=lambda: done.append(
        client.post_json(f"/vm/{uuid}/action", {"action": action}).json["result"]))
    thread.start()
    thread.join(timeout=30)
    assert done == ["done"], f"the concurrent {action} failed"


def assert_refused_with_state(response, action, state):
    body = response.json
    assert body["code"] == 409 and body["status"] == "error"
    assert body["state"] == state and body["state_name"] == STATE_NAMES[state]
    assert action in body["message"] and body["state_name"] in body["message"]


def test_state_changed_and_changed_back_by_other_requests_is_a_409(app, testapp, monkeypatch):
    """Pause meets a VM two other requests pause and resume: it is running again when
    VirtDancer looks, and only knowing they ran meanwhile tells the refusal from a failure."""
    def paused_and_resumed_meanwhile(dom, suspend):
        other_request(app, WEB_1, "pause")
        error = refusal(lambda: suspend(dom))   # "domain 'web-1' not running"
        other_request(app, WEB_1, "resume")
        raise error

    on_first_call(monkeypatch, "suspend", paused_and_resumed_meanwhile)
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=409)
    assert_refused_with_state(response, "pause", RUNNING)


def test_state_changed_to_one_that_allows_the_action_is_a_409(testapp, monkeypatch):
    """Start meets a shut-off VM that someone else starts and pauses: start is allowed on a
    paused VM (it resumes), but libvirt refused to boot one that was already running."""
    def started_and_paused_meanwhile(dom, create):
        create(dom)
        dom.suspend()
        raise refusal(lambda: create(dom))      # "Domain 'db-1' is already running"

    on_first_call(monkeypatch, "create", started_and_paused_meanwhile)
    response = testapp.post_json(f"/vm/{DB_1}/action", {"action": "start"}, status=409)
    assert_refused_with_state(response, "start", PAUSED)


def test_qemus_operation_invalid_is_a_409_whatever_the_state_is_by_then(testapp, monkeypatch):
    """QEMU names a refusal by state VIR_ERR_OPERATION_INVALID, even when the state it refused
    is gone by the time VirtDancer looks (changed by another client than VirtDancer)."""
    def refused_by_qemu(dom, suspend):
        raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID,
                            "Requested operation is not valid: domain is not running")

    on_first_call(monkeypatch, "suspend", refused_by_qemu)
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=409)
    assert_refused_with_state(response, "pause", RUNNING)
    assert "domain is not running" in response.json["message"]


def test_a_failure_with_no_change_of_state_stays_a_502_with_libvirts_message(testapp,
                                                                          monkeypatch):
    def qemu_failed(dom, suspend):
        raise libvirt_error(libvirt.VIR_ERR_INTERNAL_ERROR,
                            "internal error: unable to execute QEMU command 'stop'")

    on_first_call(monkeypatch, "suspend", qemu_failed)
    response = testapp.post_json(f"/vm/{WEB_1}/action", {"action": "pause"}, status=502)
    assert response.json["message"] == "internal error: unable to execute QEMU command 'stop'"
    assert testapp.get(f"/vm/{WEB_1}").json["info"]["state"] == RUNNING
