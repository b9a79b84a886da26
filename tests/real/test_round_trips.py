"""A request costs a fixed number of libvirt round trips, however many VMs the host has."""

from collections import Counter

import libvirt
import pytest

# Methods of libvirt-python that answer from the object itself, without asking libvirtd.
LOCAL_METHODS = {"name", "UUIDString", "UUID", "ID", "connect"}


@pytest.fixture
def count_libvirt_calls(monkeypatch):
    """Count every libvirt call that goes to libvirtd, by class and method name."""
    counts = Counter()

    def counted(qualified_name, method):
        def wrapper(*args, **kwargs):
            counts[qualified_name] += 1
            return method(*args, **kwargs)
        return wrapper

    for cls in (libvirt.virConnect, libvirt.virDomain):
        for name, method in list(vars(cls).items()):
            if name.startswith("_") or name in LOCAL_METHODS or not callable(method):
                continue
            monkeypatch.setattr(cls, name, counted(f"{cls.__name__}.{name}", method))

    def calls_of(action):
        counts.clear()
        action()
        return Counter(counts)

    return calls_of


def listing_calls(testapp, count_libvirt_calls):
    """The libvirt calls behind each form of the listing."""
    return {path: count_libvirt_calls(lambda path=path: testapp.get(path))
            for path in ("/vm", "/vm?detail=1")}


def test_listing_round_trips_do_not_grow_with_the_fleet(testapp, make_vm, count_libvirt_calls):
    make_vm()
    make_vm(start=True)
    # The first listing after VMs appear asks once for what no bulk call reports (OS type,
    # "updated"); lifecycle events keep those answers true afterwards.
    testapp.get("/vm?detail=1")
    small = listing_calls(testapp, count_libvirt_calls)

    for _ in range(6):
        make_vm()
    make_vm(start=True)
    testapp.get("/vm?detail=1")
    large = listing_calls(testapp, count_libvirt_calls)

    assert large == small, (small, large)
    assert sum(small["/vm"].values()) == 1
    assert sum(small["/vm?detail=1"].values()) <= 4, small["/vm?detail=1"]

