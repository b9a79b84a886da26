"""VirtDancer's one supervised libvirt connection, against a real libvirtd that can die.

Users must get a quick, explicit 503 (with Retry-After) while libvirtd is down, never a hang
or a 500, and the application must come back on its own once libvirtd is back, without being
restarted. Meanwhile requests share one connection: none is opened per request.
"""

import math
import os
import shutil
import signal
import time

import pytest

from tests.conftest import close_app, make_app

from .conftest import (
    PAUSED,
    RECONNECT_MAX_DELAY,
    libvirtd_clients_of,
    libvirtd_pid,
    process_gone,
    start_libvirtd,
    wait_until,
)

REQUESTS = 50
OUTAGE_ANSWER_WITHIN = 3.0   # seconds: a 503 must come at once, not after a libvirt timeout
RECOVERY_WITHIN = 60.0       # seconds after start-libvirtd.sh returns


def by_uuid(rows, uuid):
    found = [row for row in rows if row["uuid"] == uuid]
    assert len(found) == 1, f"{uuid} is listed {len(found)} times"
    return found[0]


def test_requests_share_one_libvirt_connection(testapp, hypervisor, make_vm):
    """Fleet listings and VM details reuse the app's connection: none is opened per request."""
    vm = make_vm()
    testapp.get("/vm")
    opened = hypervisor.connection.connections_opened
    assert opened >= 1

    for _ in range(REQUESTS):
        assert vm.uuid in {row["uuid"] for row in testapp.get("/vm?detail=1").json}
        assert testapp.get(f"/vm/{vm.uuid}").json["uuid"] == vm.uuid

    assert hypervisor.connection.connections_opened == opened


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response, elapsed):
    """A 503 in VirtDancer's JSON error shape, with a Retry-After the client can act on."""
    assert elapsed < OUTAGE_ANSWER_WITHIN, f"the 503 took {elapsed:.1f} s"
    assert response.status_int == 503
    assert response.content_type == "application/json"
    assert response.json["status"] == "error" and response.json["code"] == 503
    assert response.json["message"]
    retry_after = int(response.headers["Retry-After"])
    # Never more than the longest wait between two reconnection attempts.
    assert 1 <= retry_after <= math.ceil(RECONNECT_MAX_DELAY)


def poll_until_ok(testapp, path, timeout):
    """GET `path` until it answers 200 or `timeout` seconds pass; the last response."""
    last = None

    def ok():
        nonlocal last
        last = testapp.get(path, expect_errors=True)
        return last.status_int == 200

    wait_until(ok, timeout, interval=0.25)
    return last


def test_libvirtd_outage_is_a_quick_503_and_the_app_reconnects_by_itself(testapp, hypervisor,
                                                                         make_vm):
    """While libvirtd is dead, every request is a 503 with Retry-After, answered at once.

    When libvirtd is back, the same app (not restarted) serves the fleet again over a new
    connection, and the running VM, which outlives libvirtd, is still listed and can be
    operated. A request refused during the outage did nothing to it.
    """
    vm = make_vm(start=True)
    assert by_uuid(testapp.get("/vm").json, vm.uuid)["active"] is True
    opened_before = hypervisor.connection.connections_opened

    pid = libvirtd_pid()
    try:
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: process_gone(pid), timeout=10), "libvirtd survived SIGKILL"

        outage_requests = [
            lambda: testapp.get("/vm", expect_errors=True),
            lambda: testapp.get("/vm?detail=1", expect_errors=True),
            lambda: testapp.get(f"/vm/{vm.uuid}", expect_errors=True),
            lambda: testapp.post_json(f"/vm/{vm.uuid}/action", {"action": "pause"},
                                      expect_errors=True),
            lambda: testapp.get("/vm", expect_errors=True),  # and again: still 503, still at once
        ]
        for request in outage_requests:
            assert_unavailable(*timed(request))
    finally:
        start_libvirtd()

    recovered = poll_until_ok(testapp, "/vm", RECOVERY_WITHIN)
    assert recovered.status_int == 200, (
        f"still {recovered.status_int} {RECOVERY_WITHIN:.0f} s after libvirtd restarted")
    assert by_uuid(recovered.json, vm.uuid)["active"] is True
    assert hypervisor.connection.connections_opened > opened_before
    assert vm.state() == "running", "the pause refused during the outage was done after all"

    response = testapp.post_json(f"/vm/{vm.uuid}/action", {"action": "pause"})
    assert response.json["vm"]["info"]["state"] == PAUSED
    assert vm.state() == "paused"


def test_closing_the_app_releases_its_libvirtd_connection(app_settings):
    """An app that is closed (shutdown, reload, each test) leaves no connection in libvirtd."""
    assert shutil.which("virt-admin"), "virt-admin (Debian's libvirt-clients) is needed"
    me = os.getpid()
    before = libvirtd_clients_of(me)
    app = make_app(**app_settings)
    try:
        if len(libvirtd_clients_of(me) - before) != 1:
            pytest.fail("the app did not open exactly one libvirtd connection")
    finally:
        close_app(app)
    assert wait_until(lambda: libvirtd_clients_of(me) <= before, timeout=2), (
        "the closed app is still connected to libvirtd")
