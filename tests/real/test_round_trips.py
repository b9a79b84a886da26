"""A request costs a fixed number of libvirt round trips, however many VMs the host has."""

def listing_calls(testapp, libvirt_calls):
    """The libvirt calls behind each form of the listing."""
    return {path: libvirt_calls.calls(lambda path=path: testapp.get(path))
            for path in ("/vm", "/vm?detail=1")}


def test_listing_round_trips_do_not_grow_with_the_fleet(testapp, make_vm, libvirt_calls):
    make_vm()
    make_vm(start=True)
    # The first listing after VMs appear asks once for what no bulk call reports (OS type,
    # "updated"); lifecycle events keep those answers true afterwards.
    testapp.get("/vm?detail=1")
    small = listing_calls(testapp, libvirt_calls)

    for _ in range(6):
        make_vm()
    make_vm(start=True)
    testapp.get("/vm?detail=1")
    large = listing_calls(testapp, libvirt_calls)

    assert large == small, (small, large)
    assert sum(small["/vm"].values()) == 1
    assert sum(small["/vm?detail=1"].values()) <= 4, small["/vm?detail=1"]

