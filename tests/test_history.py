"""The compact statistics history: what goes in comes back, the window moves, memory stays small.

Samples are made as the sampler makes them (`_rates` on crafted raw counters, see test_stats.py)
or written out in its shape.
"""

import math
import random
import tracemalloc

from virtdancer.hypervisor.history import History
from virtdancer.hypervisor.sampler import _rates

from .test_stats import VM_A, VM_B, raw_round, vm_counters

T0 = 1_800_000_000.0
FLOAT32_PRECISION = 2 ** -23   # relative


def host_part(cpu=True, nic=None):
    return {"cpu": {"usr": 1.5, "sys": 0.25, "steal": None, "iowait": 0.0, "irq": None,
                    "total": 2.0} if cpu else None,
            "mem": {"memTotal": 64 * 2 ** 30, "memFree": 2 ** 30, "memBuffer": None,
                    "swapTotal": None, "swapFree": None},
            "nic": nic}


def vm_sample(name="vm-a", *, cpu=12.34, vcpus=None, used=512 * 2 ** 20, read=1024.0,
              cpu_seconds=10.5, written=4096):
    return {
        "name": name,
        "cpu": cpu,
        "vcpus": {"cpu_0": 3.0, "cpu_1": None} if vcpus is None else vcpus,
        "memory": {"current": 2 ** 31, "maximum": 2 ** 31, "used": used},
        "disk": {"read": read, "write": 0.0},
        "net": {"rx": None, "tx": None},
        "counters": {"cpu_seconds": cpu_seconds, "disk_read_bytes": 10 ** 12,
                     "disk_write_bytes": written, "net_rx_bytes": None, "net_tx_bytes": None},
    }


def sample(index, vms, **host):
    return {"time": T0 + 2 * index, "host": host_part(**host), "vms": vms}


def filled(capacity, samples):
    history = History(capacity)
    for one in samples:
        history.append(one)
    return history


def test_what_goes_in_comes_back_in_the_same_shape_and_order():
    samples = [sample(0, {VM_A: vm_sample()}),
               sample(1, {VM_A: vm_sample(cpu=None, used=None, read=2048.0, written=8192),
                          VM_B: vm_sample("vm-b", vcpus={})}, cpu=False)]
    history = filled(10, samples)
    assert history.samples() == samples
    assert [list(vm) for vm in history.samples()[1]["vms"].values()] == \
        [list(vm_sample()) for _ in range(2)]   # the sampler's key order: it is the JSON's
    assert history.times() == [T0, T0 + 2]
    assert history.host("cpu") == [(T0, samples[0]["host"]["cpu"]), (T0 + 2, None)]
    assert history.host("mem") == [(T0, samples[0]["host"]["mem"]),
                                   (T0 + 2, samples[1]["host"]["mem"])]
    assert history.vm(VM_B) == [(T0 + 2, samples[1]["vms"][VM_B])]
    assert history.vm("no-such-vm") == []


def test_exact_where_the_sampler_is_exact():
    """Percentages (rounded to 0.01 by the sampler), integers and CPU seconds come back exactly,
    whatever they are; types too (an int stays an int)."""
    rng = random.Random(7)
    samples = [sample(index, {VM_A: vm_sample(cpu=round(rng.uniform(0, 100), 2),
                                              vcpus={"cpu_0": round(rng.uniform(0, 100), 2)},
                                              used=rng.randrange(2 ** 40),
                                              cpu_seconds=rng.randrange(10 ** 16) / 1e9,
                                              written=rng.randrange(2 ** 62), read=0.0)})
               for index in range(50)]
    history = filled(50, samples)
    assert history.samples() == samples
    kept = [vm for _, vm in history.vm(VM_A)]
    assert all(type(vm["memory"]["used"]) is int and type(vm["cpu"]) is float for vm in kept)


def test_rates_are_float32():
    rates = [random.Random(index).uniform(0, 1e9) for index in range(20)]
    history = filled(20, [sample(index, {VM_A: vm_sample(read=rate)})
                          for index, rate in enumerate(rates)])
    kept = [vm["disk"]["read"] for _, vm in history.vm(VM_A)]
    assert all(abs(back - rate) <= rate * FLOAT32_PRECISION for back, rate in zip(kept, rates))
    assert kept != rates   # they are not float64


def test_values_a_ring_cannot_hold_come_back_exactly_too():
    odd = [vm_sample(), vm_sample(cpu=12.345), vm_sample(used=2.5), vm_sample(read=1e300),
           vm_sample(written=2 ** 70), vm_sample(cpu_seconds=None), vm_sample(cpu=50)]
    samples = [sample(index, {VM_A: vm}) for index, vm in enumerate(odd)]
    history = filled(10, samples)
    assert history.samples() == samples
    assert type(history.vm(VM_A)[-1][1]["cpu"]) is int
    # A figure that is odd from its first round on, too.
    samples = [sample(index, {VM_A: vm_sample(cpu=value)}) for index, value in
               enumerate([math.inf, 50, 12.34])]
    assert filled(10, samples).samples() == samples


def test_the_window_keeps_the_last_capacity_rounds():
    samples = [sample(index, {VM_A: vm_sample(cpu=float(index))}) for index in range(7)]
    history = filled(3, samples)
    assert len(history) == 3
    assert history.samples() == samples[-3:]
    assert history.times() == [T0 + 8, T0 + 10, T0 + 12]
    assert [vm["cpu"] for _, vm in history.vm(VM_A)] == [4.0, 5.0, 6.0]


def test_a_vm_that_stops_and_comes_back_has_the_rounds_it_ran_in():
    running = [True, True, False, False, True, False, True]
    samples = [sample(index, {VM_A: vm_sample(cpu=float(index))} if runs else {})
               for index, runs in enumerate(running)]
    history = filled(10, samples)
    assert [time for time, _ in history.vm(VM_A)] == [T0, T0 + 2, T0 + 8, T0 + 12]
    assert history.samples() == samples
    assert history.vm_rounds() == 4


def test_a_vm_not_sampled_for_a_whole_window_is_dropped():
    history = History(3)
    history.append(sample(0, {VM_A: vm_sample(), VM_B: vm_sample("vm-b")}))
    history.append(sample(1, {VM_B: vm_sample("vm-b")}))
    history.append(sample(2, {VM_B: vm_sample("vm-b")}))
    assert history.vms() == {VM_A, VM_B}   # its round is still in the window
    history.append(sample(3, {VM_B: vm_sample("vm-b")}))
    assert history.vms() == {VM_B} and history.vm(VM_A) == []
    history.append(sample(4, {VM_A: vm_sample(cpu=1.0)}))   # back: a new track, one round
    assert [vm["cpu"] for _, vm in history.vm(VM_A)] == [1.0]


def test_a_vm_that_restarted_has_no_rates_in_its_first_round_and_keeps_its_history():
    """Restarted: a new domain ID, counters from zero. One track, the rates gone for a round."""
    def counters(cpu_s, read):
        return vm_counters(cpu_s, (cpu_s / 2, cpu_s / 2), rd=(read,), wr=(0,))

    ids_and_counters = [(7, counters(10.0, 4000)), (7, counters(12.0, 8000)),
                        (9, counters(0.5, 100)), (9, counters(2.5, 4100))]
    history = History(10)
    previous = None
    for index, (domain_id, stats) in enumerate(ids_and_counters):
        raw = raw_round(100.0 + 2 * index, [(VM_A, "vm-a", domain_id, stats)])
        history.append(_rates(previous, raw))
        previous = raw
    kept = [vm for _, vm in history.vm(VM_A)]
    assert [vm["cpu"] for vm in kept] == [None, 50.0, None, 50.0]
    assert [vm["disk"]["read"] for vm in kept] == [None, 2000.0, None, 2000.0]
    assert [vm["counters"]["cpu_seconds"] for vm in kept] == [10.0, 12.0, 0.5, 2.5]


def test_rounds_the_host_was_away_leave_a_gap_in_time_not_a_round():
    samples = [sample(index, {VM_A: vm_sample()}) for index in (0, 1, 5, 6)]   # away 2 to 4
    history = filled(4, samples)
    assert history.times() == [T0, T0 + 2, T0 + 10, T0 + 12]
    assert [time for time, _ in history.vm(VM_A)] == history.times()


def test_vcpus_that_come_and_go_keep_their_keys_round_by_round():
    keys = [{"cpu_0": 1.0}, {"cpu_0": 2.0, "cpu_1": 3.0}, {"cpu_1": 4.0}, {}, {"cpu_0": None}]
    samples = [sample(index, {VM_A: vm_sample(vcpus=vcpus)}) for index, vcpus in enumerate(keys)]
    assert [vm["vcpus"] for _, vm in filled(5, samples).vm(VM_A)] == keys


def test_network_interfaces_come_and_go_in_the_samplers_order():
    nics = [{"eth0": {"rx": 1.0, "tx": 2.0}, "lo": {"rx": None, "tx": None}},
            {"eth0": {"rx": 3.0, "tx": 4.0}, "tap0": {"rx": None, "tx": None},
             "lo": {"rx": 0.0, "tx": 0.0}},
            {"lo": {"rx": 0.0, "tx": 0.0}},
            None]
    samples = [sample(index, {}, nic=nic) for index, nic in enumerate(nics)]
    history = filled(4, samples)
    assert [nic for _, nic in history.host("nic")] == nics
    assert [list(nic) for _, nic in history.host("nic")[:3]] == \
        [["eth0", "lo"], ["eth0", "lo", "tap0"], ["lo"]]   # sorted, as hostinfo lists them


def test_a_driver_that_reports_nothing_costs_no_ring():
    """The test driver: only libvirt's "state" group, so every figure of every VM is None."""
    nothing = {"name": "vm", "cpu": None, "vcpus": {},
               "memory": dict.fromkeys(("current", "maximum", "used")),
               "disk": dict.fromkeys(("read", "write")), "net": dict.fromkeys(("rx", "tx")),
               "counters": dict.fromkeys(("cpu_seconds", "disk_read_bytes", "disk_write_bytes",
                                          "net_rx_bytes", "net_tx_bytes"))}
    vms = {f"00000000-0000-4000-8000-{index:012d}": dict(nothing, name=f"vm-{index}")
           for index in range(200)}
    per_vm_round = bytes_per_vm_round(vms=200, rounds=300, make=lambda index: vms)
    assert per_vm_round < 8, per_vm_round   # ~5.7: the round's byte, and each VM's few objects


def qemu_like(rng, vms, index):
    """A round of VMs whose every figure moves, as a busy QEMU host's do."""
    return {f"00000000-0000-4000-8000-{vm:012d}": {
        "name": f"vm-{vm:04d}",
        "cpu": round(rng.uniform(0, 100), 2),
        "vcpus": {"cpu_0": round(rng.uniform(0, 100), 2), "cpu_1": round(rng.uniform(0, 100), 2)},
        "memory": {"current": 2 ** 31, "maximum": 2 ** 31,
                   "used": 2 ** 30 + rng.randrange(2 ** 20) * 1024},
        "disk": {"read": rng.uniform(0, 1e8), "write": rng.uniform(0, 1e7)},
        "net": {"rx": rng.uniform(0, 1e6), "tx": rng.uniform(0, 1e6)},
        "counters": {"cpu_seconds": 1000.0 + index * 1.7 + rng.random(),
                     "disk_read_bytes": 10 ** 12 + index * 10 ** 8,
                     "disk_write_bytes": 10 ** 11 + index * 10 ** 7,
                     "net_rx_bytes": 10 ** 9 + index * 10 ** 6,
                     "net_tx_bytes": 10 ** 9 + index * 10 ** 6 + vm},
    } for vm in range(vms)}


def bytes_per_vm_round(*, vms, rounds, make):
    """What a full window of `rounds` rounds of `vms` VMs costs, in bytes per VM per round
    (traced after one more round than the window holds: the oldest has been evicted)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        history = History(rounds)
        for index in range(rounds + 1):
            history.append(sample(index, make(index)))
        # The samples made are gone by now but for the newest, which the sampler keeps anyway.
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert history.vm_rounds() == vms * rounds
    return used / (vms * rounds)


def test_a_busy_qemu_host_costs_under_100_bytes_per_vm_per_round():
    """500 VMs × 300 rounds (the default 600 s at 2 s) of figures that all change every round:
    kept as the samples themselves, that was ~1.7 KiB per VM per round; here ~80 bytes (one
    shape byte, uint16 percentages, float32 rates, int64 counters and memory used). The cost
    per VM and round does not depend on the number of VMs; 500 keep the test quick under
    tracemalloc."""
    rng = random.Random(11)
    # A few rounds made once and taken in turn: every round differs from the one before, and
    # the test times the history, not the making of 150,000 dicts.
    rounds = [qemu_like(rng, 500, index) for index in range(3)]
    per_vm_round = bytes_per_vm_round(vms=500, rounds=300,
                                      make=lambda index: rounds[index % len(rounds)])
    assert per_vm_round < 100, per_vm_round
