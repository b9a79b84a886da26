"""A request costs a fixed number of libvirt round trips, however many VMs the host has."""

import time


def listing_calls(testapp, libvirt_calls):
    """The libvirt calls behind each form of the listing."""
    return {path: libvirt_calls.calls(lambda path=path: testapp.get(path))
            for path in ("/vm", "/vm?detail=1")}


def settled_listing_calls(testapp, libvirt_calls):
    """The listing's calls once the events of the VMs just made have all come: each of those
    makes the next listing ask again for what it changed, and on a busy machine they can come
    after the first listing. The same calls twice in a row, at most 5 s."""
    previous = None
    for _ in range(25):
        calls = listing_calls(testapp, libvirt_calls)
        if calls == previous:
            return calls
        previous = calls
        time.sleep(0.2)
    return calls


def test_listing_round_trips_do_not_grow_with_the_fleet(testapp, make_vm, libvirt_calls):
    make_vm()
    make_vm(start=True)
    # The first listing after VMs appear asks once for what no bulk call reports (OS type,
    # "updated"); lifecycle events keep those answers true afterwards.
    testapp.get("/vm?detail=1")
    small = settled_listing_calls(testapp, libvirt_calls)

    for _ in range(6):
        make_vm()
    make_vm(start=True)
    testapp.get("/vm?detail=1")
    large = settled_listing_calls(testapp, libvirt_calls)

    assert large == small, (small, large)
    assert sum(small["/vm"].values()) == 1
    assert sum(small["/vm?detail=1"].values()) <= 4, small["/vm?detail=1"]

