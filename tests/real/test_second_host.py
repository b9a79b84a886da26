"""The second test host: a libvirtd apart from qemu:///system, reached over qemu+tcp.

Issue 11 (many hosts) needs proof that one VirtDancer manages two real hosts. These tests prove
first that the second host really is a host of its own: its own host UUID, its own VMs, which
VirtDancer's Fleet lists and operates over the remote URI, and a life of its own, so that it
can die while the main host carries on.
"""

import os
import signal
import xml.etree.ElementTree as ET

import libvirt
import pytest

from virtdancer.hypervisor import Hypervisor
from virtdancer.hypervisor.errors import HostUnavailable

from .conftest import (
    RECONNECT_MAX_DELAY,
    SECOND_HOST_UUID,
    START_SECOND_LIBVIRTD,
    URI,
    libvirtd_problem,
    process_gone,
    second_libvirtd_pid,
    start_libvirtd,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("second_host")

RECOVERY_WITHIN = 30.0   # seconds after start-second-libvirtd.sh returns


@pytest.fixture
def open_host():
    """`open_host(uri)`: a VirtDancer Hypervisor on that host, connected; all closed after."""
    opened = []

    def open_(uri):
        hypervisor = Hypervisor(uri, retry_max=RECONNECT_MAX_DELAY)
        opened.append(hypervisor)
        hypervisor.start(statistics=False)
        assert hypervisor.connection.connected, f"VirtDancer could not connect to {uri}"
        return hypervisor

    yield open_
    for hypervisor in opened:
        hypervisor.close()


def host_uuid(uri):
    """The host UUID that the libvirtd at `uri` reports in its capabilities."""
    conn = libvirt.open(uri)
    try:
        return ET.fromstring(conn.getCapabilities()).findtext("host/uuid")
    finally:
        conn.close()


def listed(hypervisor):
    """{uuid: row} of what VirtDancer's Fleet lists on that host."""
    return {row.uuid: row for row in hypervisor.fleet.summaries()}


def test_the_second_host_has_its_own_host_uuid(second_host):
    second = host_uuid(second_host)
    assert second == SECOND_HOST_UUID
    assert host_uuid(URI) != second


def test_each_host_lists_only_its_own_vms(second_host, make_vm, open_host):
    """A VM defined on one host is VirtDancer's to list there, and unknown on the other."""
    there = make_vm(uri=second_host)
    here = make_vm()

    second_fleet = listed(open_host(second_host))
    main_fleet = listed(open_host(URI))
    assert second_fleet[there.uuid].name == there.name
    assert here.uuid not in second_fleet
    assert main_fleet[here.uuid].name == here.name
    assert there.uuid not in main_fleet

    # And as libvirt itself says, not only as VirtDancer lists it.
    for uri, stranger in ((URI, there), (second_host, here)):
        conn = libvirt.open(uri)
        try:
            with pytest.raises(libvirt.libvirtError) as missing:
                conn.lookupByUUIDString(stranger.uuid)
            assert missing.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
        finally:
            conn.close()


def test_the_fleet_starts_and_destroys_a_vm_on_the_second_host(second_host, make_vm,
                                                                open_host):
    vm = make_vm(uri=second_host)
    fleet = open_host(second_host).fleet

    started = fleet.run(fleet.find(vm.uuid), "start")
    assert started.active and started.uuid == vm.uuid
    assert vm.state() == "running"
    assert vm.uuid not in listed(open_host(URI)), "the main host sees the second host's VM"

    stopped = fleet.run(started, "destroy")
    assert not stopped.active
    assert vm.state() == "shut off"
    assert listed(open_host(second_host))[vm.uuid].active is False


def test_killing_the_second_libvirtd_spares_the_main_one(second_host, make_vm, open_host):
    """While the second libvirtd is dead the main host works, and VirtDancer says the second
    is unavailable; start-second-libvirtd.sh brings it back, with its running VM, and
    VirtDancer reconnects to it by itself."""
    vm = make_vm(start=True, uri=second_host)
    here = make_vm()
    second = open_host(second_host)
    main = open_host(URI)

    pid = second_libvirtd_pid()
    try:
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: process_gone(pid), timeout=10), "libvirtd survived SIGKILL"

        assert libvirtd_problem(second_host) is not None, "the second host still answers"
        assert wait_until(lambda: not second.connection.connected, timeout=5), (
            "VirtDancer did not notice that the second host is gone")
        with pytest.raises(HostUnavailable):
            second.fleet.summaries()

        assert libvirtd_problem(URI) is None
        assert listed(main)[here.uuid].name == here.name
        assert here.state() == "shut off"
    finally:
        start_libvirtd(START_SECOND_LIBVIRTD)

    assert second_libvirtd_pid() != pid
    assert libvirtd_problem(second_host) is None
    assert host_uuid(second_host) == SECOND_HOST_UUID

    def back():
        try:
            return listed(second)
        except HostUnavailable:
            return None

    fleet = wait_until(back, RECOVERY_WITHIN, interval=0.25)
    assert fleet is not None, (
        f"VirtDancer has not reconnected {RECOVERY_WITHIN:.0f} s after the second host came back")
    assert fleet[vm.uuid].active is True, "the running VM did not outlive its libvirtd"
    assert vm.state() == "running"
    assert second.connection.connections_opened >= 2
