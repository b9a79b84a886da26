"""Statistics: the sampler's rate arithmetic, its rounds on the test driver, and the endpoints.

The demo fleet's test driver reports only the "state" stats group, fixed node CPU counters and
no node memory statistics, and is not this machine: so the arithmetic is tested on crafted
counters fed to `_rates`, and the endpoints for their shapes, fallbacks and permissions.
"""

import contextlib
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import webtest
from prometheus_client.parser import text_string_to_metric_families

from virtdancer.hypervisor.connection import HostConnection
from virtdancer.hypervisor.sampler import StatsSampler, _rates
from virtdancer.interfaces import IHypervisor
from virtdancer.resources import stats as stats_resources

from .conftest import BUILD_1, DB_1, DEMO_URI, WEB_1, WEB_2, close_app, make_app

FLEET_XML = Path(__file__).resolve().parents[1] / "virtdancer" / "demo" / "fleet.xml"
DEMO_FILE_URI = "test://" + str(FLEET_XML)
UNREACHABLE_URI = "qemu+unix:///system?socket=/nonexistent/x.sock"
INTERVAL = 0.2
GIB = 1024 ** 3
MIB = 1024 ** 2
UUID_OF = {"web-1": WEB_1, "web-2": WEB_2, "db-1": DB_1, "build-1": BUILD_1}
CPU_KEYS = {"usr", "sys", "steal", "iowait", "irq", "total"}
MEM_KEYS = {"memTotal", "memFree", "memBuffer", "swapTotal", "swapFree"}
VM_KEYS = {"cpu", "vcpus", "memory", "disk", "net", "counters", "running"}


def demo_fleet():
    """{name: {"memory", "current", "vcpus"}} (bytes, bytes, count) and the node's memory."""
    node = ET.parse(FLEET_XML).getroot()
    units = {"KiB": 1024, "MiB": MIB, "GiB": GIB}
    domains = {}
    for domain in node.findall("domain"):
        def size(tag, domain=domain):
            element = domain.find(tag)
            return int(element.text) * units[element.get("unit", "KiB")]
        domains[domain.findtext("name")] = {"memory": size("memory"),
                                            "current": size("currentMemory"),
                                            "vcpus": int(domain.findtext("vcpu"))}
    return domains, int(node.findtext("memory")) * 1024   # <memory> of the node is in KiB


FLEET, NODE_MEMORY_BYTES = demo_fleet()


# -- the rate arithmetic, on crafted raw counters ---------------------------------------------

def raw_round(clock, vms=(), *, time_offset=1_800_000_000.0, node_cpu=None, proc_stat=None,
              node_memory=None, swap=None, nics=None):
    """A dict shaped like `StatsSampler._read()`; vms as (uuid, name, id, stats) tuples."""
    return {
        "time": time_offset + clock,
        "clock": clock,
        "node_cpu": node_cpu,
        "proc_stat": proc_stat,
        "node_memory": node_memory if node_memory is not None else {"total": 1024},
        "swap": swap,
        "nics": nics,
        "vms": {uuid: (name, domain_id, stats) for uuid, name, domain_id, stats in vms},
    }


def vm_counters(cpu_s=0.0, vcpu_s=(0.0, 0.0), *, current=None, maximum=None, rd=(), wr=(),
                rx=(), tx=(), **extra):
    """libvirt-style stats of one VM; CPU times in seconds here, nanoseconds in the dict."""
    stats = {"state.state": 1, "state.reason": 1, "cpu.time": int(cpu_s * 1e9),
             "vcpu.current": len(vcpu_s) if current is None else current,
             "vcpu.maximum": len(vcpu_s) if maximum is None else maximum}
    for index, seconds in enumerate(vcpu_s):
        stats[f"vcpu.{index}.state"] = 1
        stats[f"vcpu.{index}.time"] = int(seconds * 1e9)
    stats["block.count"] = len(rd)
    for index, (read, written) in enumerate(zip(rd, wr, strict=True)):
        stats[f"block.{index}.name"] = f"vd{'abcdefgh'[index]}"
        stats[f"block.{index}.rd.bytes"] = read
        stats[f"block.{index}.wr.bytes"] = written
    stats["net.count"] = len(rx)
    for index, (received, sent) in enumerate(zip(rx, tx, strict=True)):
        stats[f"net.{index}.name"] = f"vnet{index}"
        stats[f"net.{index}.rx.bytes"] = received
        stats[f"net.{index}.tx.bytes"] = sent
    stats.update(extra)
    return stats


VM_A = "11111111-2222-4333-8444-555555555555"
VM_B = "66666666-7777-4888-9999-aaaaaaaaaaaa"


def two_rounds(before, after, *, elapsed=4.0, id_before=7, id_after=7):
    """The sample of one VM (VM_A, "vm-a") whose counters went from `before` to `after`."""
    previous = raw_round(100.0, [(VM_A, "vm-a", id_before, before)])
    now = raw_round(100.0 + elapsed, [(VM_A, "vm-a", id_after, after)])
    return _rates(previous, now)["vms"][VM_A]


def test_vm_cpu_percent_is_cpu_time_per_second_per_vcpu():
    # 3 s of CPU time in 4 s on 2 vCPUs: 0.75 of one CPU, 37.5 % of the VM's two.
    vm = two_rounds(vm_counters(10, (6, 4)), vm_counters(13, (8, 5)))
    assert vm["cpu"] == 37.5
    assert vm["vcpus"] == {"cpu_0": 50.0, "cpu_1": 25.0}
    assert vm["name"] == "vm-a"


def test_vm_cpu_divides_by_the_current_vcpus_not_the_maximum():
    before = vm_counters(10, (6, 4), current=2, maximum=4)
    after = vm_counters(12, (7, 5), current=2, maximum=4)
    vm = two_rounds(before, after)
    assert vm["cpu"] == 25.0                       # 2 s / 4 s / 2 vCPUs, not / 4
    assert vm["vcpus"] == {"cpu_0": 25.0, "cpu_1": 25.0}   # offline vCPUs have no entry


def test_vm_cpu_falls_back_to_the_maximum_vcpus():
    before = vm_counters(10, (6, 4))
    after = vm_counters(12, (7, 5))
    del before["vcpu.current"], after["vcpu.current"]
    assert two_rounds(before, after)["cpu"] == 25.0


def test_vm_percentages_are_rounded_to_two_decimals():
    vm = two_rounds(vm_counters(0, (0,)), vm_counters(1, (1,)), elapsed=3.0)
    assert vm["cpu"] == 33.33 and vm["vcpus"] == {"cpu_0": 33.33}


def test_vm_percentages_are_clamped_to_100():
    # More CPU time than wall time (emulator threads count in cpu.time): at most 100 %.
    vm = two_rounds(vm_counters(10, (5, 5)), vm_counters(30, (15, 6)), elapsed=4.0)
    assert vm["cpu"] == 100.0
    assert vm["vcpus"] == {"cpu_0": 100.0, "cpu_1": 25.0}


def test_rates_use_the_monotonic_clock_not_the_wall_clock():
    previous = raw_round(100.0, [(VM_A, "vm-a", 7, vm_counters(10, (5, 5)))])
    now = raw_round(104.0, [(VM_A, "vm-a", 7, vm_counters(12, (6, 6)))],
                    time_offset=1_800_003_600.0)   # the wall clock jumped an hour meanwhile
    sample = _rates(previous, now)
    assert sample["vms"][VM_A]["cpu"] == 25.0
    assert sample["time"] == now["time"]


def test_disk_and_network_rates_are_summed_over_the_devices():
    before = vm_counters(rd=(1000, 0), wr=(0, 500), rx=(100, 2000), tx=(0, 0))
    after = vm_counters(rd=(5000, 4000), wr=(4096, 500), rx=(900, 2400), tx=(8000, 0))
    vm = two_rounds(before, after, elapsed=4.0)
    assert vm["disk"] == {"read": 2000.0, "write": 1024.0}
    assert vm["net"] == {"rx": 300.0, "tx": 2000.0}


def test_memory_is_in_bytes_and_used_needs_available_and_unused():
    stats = vm_counters(**{"balloon.current": 1048576, "balloon.maximum": 2097152,
                           "balloon.available": 1000000, "balloon.unused": 250000})
    vm = two_rounds(stats, stats)
    assert vm["memory"] == {"current": GIB, "maximum": 2 * GIB, "used": 750000 * 1024}

    for missing in ("balloon.available", "balloon.unused"):
        partial = dict(stats)
        del partial[missing]
        assert two_rounds(partial, partial)["memory"] == \
            {"current": GIB, "maximum": 2 * GIB, "used": None}, missing


def test_counters_are_running_totals():
    stats = vm_counters(12.5, rd=(100, 200), wr=(10, 20), rx=(1, 2), tx=(30, 40))
    sample = _rates(None, raw_round(100.0, [(VM_A, "vm-a", 7, stats)]))
    assert sample["vms"][VM_A]["counters"] == {
        "cpu_seconds": 12.5, "disk_read_bytes": 300, "disk_write_bytes": 30,
        "net_rx_bytes": 3, "net_tx_bytes": 70}


def test_a_driver_with_only_the_state_group_gives_nones():
    # What the test driver reports.
    stats = {"state.state": 1, "state.reason": 0}
    vm = two_rounds(stats, stats)
    assert vm == {"name": "vm-a", "cpu": None, "vcpus": {},
                  "memory": {"current": None, "maximum": None, "used": None},
                  "disk": {"read": None, "write": None}, "net": {"rx": None, "tx": None},
                  "counters": dict.fromkeys(("cpu_seconds", "disk_read_bytes",
                                             "disk_write_bytes", "net_rx_bytes",
                                             "net_tx_bytes"))}


def assert_no_rates(vm, vcpus=2):
    assert vm["cpu"] is None
    assert vm["vcpus"] == {f"cpu_{index}": None for index in range(vcpus)}
    assert vm["disk"] == {"read": None, "write": None}
    assert vm["net"] == {"rx": None, "tx": None}


def test_no_rates_on_the_first_round_but_totals_memory_and_host_cpu_since_boot():
    stats = vm_counters(10, (6, 4), rd=(100,), wr=(50,), rx=(7,), tx=(8,),
                        **{"balloon.current": 1024, "balloon.maximum": 2048})
    sample = _rates(None, raw_round(100.0, [(VM_A, "vm-a", 7, stats)],
                                    node_cpu={"user": 10, "kernel": 5, "idle": 80, "iowait": 5},
                                    nics={"eth0": {"rx": 10, "tx": 20}}))
    vm = sample["vms"][VM_A]
    assert_no_rates(vm)
    assert vm["counters"]["cpu_seconds"] == 10.0 and vm["counters"]["disk_read_bytes"] == 100
    assert vm["memory"]["current"] == 1024 * 1024
    # The host's CPU counters began at its boot: a share of that time needs no round before.
    assert sample["host"]["cpu"] == {"usr": 10.0, "sys": 5.0, "steal": None, "iowait": 5.0,
                                     "irq": None, "total": 20.0}
    assert sample["host"]["nic"] == {"eth0": {"rx": None, "tx": None}}


def test_a_vm_new_in_this_round_has_no_rates_while_the_others_do():
    previous = raw_round(100.0, [(VM_A, "vm-a", 7, vm_counters(10, (5, 5)))])
    now = raw_round(104.0, [(VM_A, "vm-a", 7, vm_counters(12, (6, 6))),
                            (VM_B, "vm-b", 8, vm_counters(50, (25, 25)))])
    sample = _rates(previous, now)
    assert sample["vms"][VM_A]["cpu"] == 25.0
    assert_no_rates(sample["vms"][VM_B])
    assert sample["vms"][VM_B]["name"] == "vm-b"


def test_no_rates_after_the_vm_restarted():
    # A new domain ID: the counters began again, even if they happen to be higher now.
    before = vm_counters(10, (5, 5), rd=(100,), wr=(100,), rx=(100,), tx=(100,))
    after = vm_counters(12, (6, 6), rd=(900,), wr=(900,), rx=(900,), tx=(900,))
    assert two_rounds(before, after, id_before=7, id_after=7)["cpu"] == 25.0
    assert_no_rates(two_rounds(before, after, id_before=7, id_after=9))


@pytest.mark.parametrize("key, field, part", [
    ("cpu.time", "cpu", None),
    ("vcpu.1.time", "vcpus", "cpu_1"),
    ("block.0.rd.bytes", "disk", "read"),
    ("block.1.wr.bytes", "disk", "write"),
    ("net.1.rx.bytes", "net", "rx"),
    ("net.0.tx.bytes", "net", "tx"),
])
def test_no_rate_from_a_counter_that_went_backwards(key, field, part):
    before = vm_counters(10, (5, 5), rd=(100, 100), wr=(100, 100), rx=(100, 100),
                         tx=(100, 100))
    after = vm_counters(12, (6, 6), rd=(500, 500), wr=(500, 500), rx=(500, 500),
                        tx=(500, 500))
    assert two_rounds(before, after)[field] is not None
    after[key] = before[key] - 1
    vm = two_rounds(before, after)
    value = vm[field] if part is None else vm[field][part]
    assert value is None
    if field != "cpu":
        assert vm["cpu"] == 25.0   # the other counters still give rates


def test_host_cpu_shares():
    before = {"user": 100, "kernel": 50, "idle": 800, "iowait": 50}
    after = {"user": 300, "kernel": 100, "idle": 1400, "iowait": 200}
    sample = _rates(raw_round(100.0, node_cpu=before), raw_round(102.0, node_cpu=after))
    # Of 1000 ticks: 200 user, 50 kernel, 150 iowait, 600 idle.
    assert sample["host"]["cpu"] == {"usr": 20.0, "sys": 5.0, "steal": None, "iowait": 15.0,
                                     "irq": None, "total": 40.0}


def test_host_cpu_without_progress_is_zero_and_without_a_baseline_since_boot():
    counters = {"user": 100, "kernel": 50, "idle": 800, "iowait": 50}
    idle = _rates(raw_round(100.0, node_cpu=counters), raw_round(102.0, node_cpu=counters))
    assert idle["host"]["cpu"] == {"usr": 0.0, "sys": 0.0, "steal": None, "iowait": 0.0,
                                   "irq": None, "total": 0.0}
    # Of 1000 ns since boot: 100 user, 50 kernel, 50 iowait, 800 idle.
    assert _rates(None, raw_round(100.0, node_cpu=counters))["host"]["cpu"] == {
        "usr": 10.0, "sys": 5.0, "steal": None, "iowait": 5.0, "irq": None, "total": 20.0}
    # A driver without node CPU statistics.
    assert _rates(raw_round(100.0), raw_round(102.0))["host"]["cpu"] is None


def test_host_cpu_shares_stay_within_0_and_100():
    before = {"user": 500, "kernel": 50, "idle": 800, "iowait": 50}
    after = {"user": 400, "kernel": 150, "idle": 800, "iowait": 50}   # user went backwards
    cpu = _rates(raw_round(100.0, node_cpu=before), raw_round(102.0, node_cpu=after))
    cpu = cpu["host"]["cpu"]
    assert cpu["usr"] == 0.0 and cpu["sys"] == 100.0 and cpu["total"] == 100.0
    assert all(0.0 <= value <= 100.0 for value in cpu.values() if value is not None)


def test_host_memory_kib_to_bytes_and_swap_in_bytes():
    node = {"total": 16_000_000, "free": 4_000_000, "buffers": 100_000, "cached": 2_000_000}
    swap = {"total": 8 * GIB, "free": 6 * GIB}
    sample = _rates(None, raw_round(100.0, node_memory=node, swap=swap))
    assert sample["host"]["mem"] == {"memTotal": 16_000_000 * 1024, "memFree": 4_000_000 * 1024,
                                     "memBuffer": 100_000 * 1024, "swapTotal": 8 * GIB,
                                     "swapFree": 6 * GIB}


def test_host_memory_of_a_remote_driver_without_memory_stats():
    sample = _rates(None, raw_round(100.0, node_memory={"total": 65536 * 1024}))
    assert sample["host"]["mem"] == {"memTotal": 65536 * 1024 * 1024, "memFree": None,
                                     "memBuffer": None, "swapTotal": None, "swapFree": None}


def test_nic_rates():
    before = {"eth0": {"rx": 1000, "tx": 500}, "lo": {"rx": 0, "tx": 0},
              "eth1": {"rx": 900, "tx": 900}}
    after = {"eth0": {"rx": 5000, "tx": 900}, "lo": {"rx": 64, "tx": 64},
             "eth1": {"rx": 100, "tx": 1300}, "tap0": {"rx": 10, "tx": 10}}
    sample = _rates(raw_round(100.0, nics=before), raw_round(102.0, nics=after))
    assert sample["host"]["nic"] == {
        "eth0": {"rx": 2000.0, "tx": 200.0},
        "lo": {"rx": 32.0, "tx": 32.0},          # from 0: a zero counter is a baseline too
        "eth1": {"rx": None, "tx": 200.0},       # rx went backwards
        "tap0": {"rx": None, "tx": None},        # new since the last round
    }
    # Not this machine: no interface counters at all.
    assert _rates(raw_round(100.0), raw_round(102.0))["host"]["nic"] is None


# -- the sampler on the test driver -------------------------------------------------------------

@pytest.fixture
def open_host():
    """`open_host(uri)` starts a HostConnection, closed at the end of the test."""
    hosts = []

    def opener(uri):
        host = HostConnection(uri, retry_min=5.0)
        hosts.append(host)
        return host.start()

    yield opener
    for host in hosts:
        host.close()


@pytest.fixture
def demo_host(open_host):
    host = open_host(DEMO_FILE_URI)
    assert host.connected
    return host


def test_sample_once_returns_a_sample_of_the_running_and_paused_vms(demo_host):
    sampler = StatsSampler(demo_host, interval=1, history=10)
    assert sampler.latest() is None and sampler.samples() == []
    first = sampler.sample_once()
    assert first is sampler.latest() and sampler.rounds == 1
    assert {uuid: vm["name"] for uuid, vm in first["vms"].items()} == \
        {WEB_1: "web-1", WEB_2: "web-2", BUILD_1: "build-1"}
    assert first["host"]["mem"]["memTotal"] == NODE_MEMORY_BYTES
    assert first["host"]["nic"] is None
    # The host's CPU since boot already (the test driver's fixed counters), no steal or irq.
    assert first["host"]["cpu"]["total"] > 0
    assert first["host"]["cpu"]["steal"] is None and first["host"]["cpu"]["irq"] is None
    assert abs(first["time"] - time.time()) < 60

    second = sampler.sample_once()
    assert second["time"] >= first["time"]
    assert second["host"]["cpu"]["steal"] is None and second["host"]["cpu"]["irq"] is None
    assert sampler.samples() == [first, second]


def test_history_is_capped_at_history_over_interval_samples(demo_host):
    sampler = StatsSampler(demo_host, interval=1, history=3)
    taken = [sampler.sample_once() for _ in range(5)]
    assert sampler.rounds == 5
    assert sampler.samples() == taken[-3:]
    assert sampler.latest() is taken[-1]


def test_history_keeps_every_interval_for_fractional_intervals(demo_host):
    sampler = StatsSampler(demo_host, interval=0.2, history=0.6)
    for _ in range(5):
        sampler.sample_once()
    assert len(sampler.samples()) == 3


def write_big_fleet(directory, count):
    domains = "\n".join(f"""
  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>vm-{index:03d}</name>
    <uuid>00000000-0000-4000-8000-{index:012d}</uuid>
    <memory unit="MiB">512</memory>
    <vcpu>{1 + index % 4}</vcpu>
    <os><type arch="x86_64">hvm</type></os>
    <test:runstate>1</test:runstate>
  </domain>""" for index in range(count))
    path = directory / "big-fleet.xml"
    path.write_text(f"""<node>
  <cpu><mhz>2900</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets>
    <cores>8</cores><threads>2</threads><active>16</active></cpu>
  <memory>67108864</memory>
{domains}
</node>
""", encoding="ascii")
    return path


def test_one_bulk_call_per_round_whatever_the_number_of_vms(demo_host, open_host, tmp_path,
                                                            this_threads_libvirt_calls):
    big_host = open_host("test://" + str(write_big_fleet(tmp_path, 60).resolve()))
    assert big_host.connected
    small, big = StatsSampler(demo_host), StatsSampler(big_host)
    rounds = {}
    for label, sampler in (("small", small), ("big", big)):
        sampler.sample_once()   # a first round, then the one that is counted
        rounds[label] = this_threads_libvirt_calls.calls(sampler.sample_once)

    assert len(small.latest()["vms"]) == 3 and len(big.latest()["vms"]) == 60
    assert rounds["small"]["virConnect.getAllDomainStats"] == 1
    assert not [name for name in rounds["small"] if name.startswith("virDomain.")]
    assert rounds["big"] == rounds["small"], rounds


def test_a_round_without_the_host_is_skipped_and_leaves_a_gap(demo_host, open_host):
    away = open_host(UNREACHABLE_URI)
    assert not away.connected
    sampler = StatsSampler(demo_host, interval=1)
    sampler.sample_once()
    before = sampler.sample_once()
    assert before["host"]["cpu"] is not None   # two rounds in a row give rates

    sampler.host = away
    assert sampler.sample_once() is None
    assert sampler.rounds == 2 and sampler.latest() is before
    assert sampler.samples()[-1] == before   # the history holds it, compactly

    sampler.host = demo_host
    after = sampler.sample_once()
    assert after is not None and sampler.rounds == 3
    # No rates across the gap: the host's CPU is since boot again, as in the first round.
    assert after["host"]["cpu"] == sampler.samples()[0]["host"]["cpu"] != before["host"]["cpu"]
    assert sampler.samples() == [sampler.samples()[0], before, after]
    assert sampler.sample_once()["host"]["cpu"] is not None


# -- the endpoints --------------------------------------------------------------------------

def wait_for_rounds(sampler, rounds, timeout=5.0):
    deadline = time.monotonic() + timeout
    while sampler.rounds < rounds:
        assert time.monotonic() < deadline, f"the sampler took {sampler.rounds} rounds only"
        time.sleep(0.01)


def sampler_of(app):
    return app.registry.getUtility(IHypervisor).sampler


APP_SETTINGS = {"virtdancer.libvirt_uri": DEMO_URI, "virtdancer.stats.interval": str(INTERVAL)}
# How long a sample stays current for an app that samples every INTERVAL seconds.
CURRENT_FOR = 10.0


@contextlib.contextmanager
def late_rounds_tolerated():
    """Samples stay current for CURRENT_FOR seconds, not three intervals (0.6 s here): on a
    loaded machine the sampler's thread can wait longer than that for its turn, and the
    tests of fast-sampling apps are about the figures, not their freshness (which
    test_a_stale_sample_is_refused_with_503 tests)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats_resources, "STALE_AFTER_INTERVALS", CURRENT_FOR / INTERVAL)
        yield


@pytest.fixture(scope="module")
def stats_app():
    """One app for the read-only endpoint tests, sampling every INTERVAL seconds."""
    app = make_app(**APP_SETTINGS)
    try:
        wait_for_rounds(sampler_of(app), 2)   # two rounds: rates exist
        with late_rounds_tolerated():
            yield app
    finally:
        close_app(app)


def client(app, user=None):
    testapp = webtest.TestApp(app)
    if user is not None:
        testapp.authorization = ("Basic", (user, user))   # demo passwords are the user names
    return testapp


@pytest.fixture
def admin(stats_app):
    return client(stats_app, "admin")


@pytest.fixture
def viewer(stats_app):
    return client(stats_app, "viewer")


@pytest.fixture
def tenant(stats_app):
    return client(stats_app, "tenant")


def is_percent_or_none(value):
    return value is None or (isinstance(value, (int, float)) and 0.0 <= value <= 100.0)


def test_host_cpu(admin):
    cpu = admin.get("/stats/cpu").json
    assert set(cpu) == CPU_KEYS
    assert all(is_percent_or_none(value) for value in cpu.values()), cpu
    assert cpu["steal"] is None and cpu["irq"] is None
    # After two rounds the test driver's node counters give rates (it reports them fixed).
    assert all(isinstance(cpu[key], (int, float)) for key in ("usr", "sys", "iowait", "total"))


def test_host_memory(admin):
    mem = admin.get("/stats/mem").json
    assert set(mem) == MEM_KEYS
    assert mem["memTotal"] == NODE_MEMORY_BYTES == 64 * GIB
    # No node memory statistics on the test driver, no swap on a host that is not this one.
    assert mem["memFree"] is mem["memBuffer"] is mem["swapTotal"] is mem["swapFree"] is None


@pytest.mark.parametrize("path", ["/stats/nic", "/stats/nic?filter=physical",
                                  "/stats/nic?history=1"])
def test_host_nics_are_not_implemented_on_a_host_that_is_not_this_one(admin, path):
    response = admin.get(path, status=501)
    assert response.content_type == "application/json"
    assert response.json["code"] == 501 and "VirtDancer's machine" in response.json["message"]


@pytest.mark.parametrize("name", ["lo", "eth0"])
def test_one_host_nic_is_not_found_on_a_host_that_is_not_this_one(admin, name):
    response = admin.get(f"/stats/nic/{name}", status=404)
    assert response.content_type == "application/json" and response.json["code"] == 404


@pytest.mark.parametrize("name", ["web-1", "web-2", "build-1"])
def test_stats_of_an_active_vm(admin, name):
    stats = admin.get(f"/vm/{UUID_OF[name]}/stats").json
    assert set(stats) == VM_KEYS
    assert stats["running"] is True
    assert stats["memory"]["current"] == FLEET[name]["current"]
    assert stats["memory"]["maximum"] == FLEET[name]["memory"]
    assert stats["memory"]["used"] is None
    assert set(stats["vcpus"]) == {f"cpu_{index}" for index in range(FLEET[name]["vcpus"])}
    assert all(is_percent_or_none(value) for value in stats["vcpus"].values())
    assert is_percent_or_none(stats["cpu"])


def test_stats_of_a_shut_off_vm(admin):
    stats = admin.get(f"/vm/{DB_1}/stats").json
    assert set(stats) == VM_KEYS
    assert stats["running"] is False
    assert stats["cpu"] == 0.0
    assert stats["vcpus"] == {"cpu_0": 0.0, "cpu_1": 0.0, "cpu_2": 0.0, "cpu_3": 0.0}
    assert stats["disk"] == {"read": 0.0, "write": 0.0}
    assert stats["net"] == {"rx": 0.0, "tx": 0.0}
    assert stats["memory"]["current"] == FLEET["db-1"]["current"] == 8 * GIB
    assert stats["memory"]["maximum"] == FLEET["db-1"]["memory"]


@pytest.mark.parametrize("name", ["web-1", "web-2", "db-1", "build-1"])
def test_vm_cpu_stats_have_one_key_per_vcpu(admin, name):
    uuid = UUID_OF[name]
    vcpus = admin.get(f"/vm/{uuid}").json["info"]["nrVirtCpu"]
    assert vcpus == FLEET[name]["vcpus"]
    cpu = admin.get(f"/vm/{uuid}/stats/cpu").json
    assert list(cpu) == [f"cpu_{index}" for index in range(vcpus)]
    assert all(is_percent_or_none(value) for value in cpu.values())


def test_unknown_vm_stats_are_404(admin):
    missing = "00000000-0000-0000-0000-000000000000"
    assert admin.get(f"/vm/{missing}/stats", status=404).json["message"] == \
        f"no VM with UUID {missing}"
    admin.get(f"/vm/{missing}/stats/cpu", status=404)
    admin.get(f"/vm/{WEB_1}/stats/mem", status=404)


def history_of(client_, path):
    history = client_.get(path, params={"history": "1"}).json
    assert set(history) == {"interval", "samples"}
    assert history["interval"] == INTERVAL
    times = [sample["time"] for sample in history["samples"]]
    assert times == sorted(times) and len(set(times)) == len(times), times
    return history


@pytest.mark.parametrize("path, keys", [
    ("/stats/cpu", CPU_KEYS),
    ("/stats/mem", MEM_KEYS),
    (f"/vm/{WEB_1}/stats", None),
    (f"/vm/{BUILD_1}/stats/cpu", None),
])
def test_history_grows_round_by_round(stats_app, admin, path, keys):
    sampler = sampler_of(stats_app)
    first = history_of(admin, path)["samples"]
    assert first, path
    if keys is not None:
        assert all(set(sample) == keys | {"time"} for sample in first), first[-1]
    wait_for_rounds(sampler, sampler.rounds + 1)   # read after the request: one round more
    second = history_of(admin, path)["samples"]
    assert len(second) > len(first)
    assert second[-1]["time"] > first[-1]["time"]
    assert second[:len(first)] == first   # the same samples, one more at the end


def test_vm_history_samples_hold_the_vm_figures(admin):
    samples = history_of(admin, f"/vm/{WEB_1}/stats")["samples"]
    for sample in samples:
        assert {"time", "cpu", "vcpus", "memory", "disk", "net", "counters"} <= set(sample)
        assert "name" not in sample


@pytest.mark.parametrize("path", [f"/vm/{BUILD_1}/stats/cpu", f"/vm/{BUILD_1}/stats"])
def test_vm_history_samples_have_the_shape_of_the_current_answer(admin, path):
    current = admin.get(path).json
    samples = history_of(admin, path)["samples"]
    assert samples
    for sample in samples:
        assert set(sample) == set(current) | {"time"}
    if "memory" in current:
        assert samples[-1]["memory"]["maximum"] == current["memory"]["maximum"]


def test_history_of_a_vm_that_never_ran_is_empty(admin):
    assert admin.get(f"/vm/{DB_1}/stats", params={"history": "1"}).json == \
        {"interval": INTERVAL, "samples": []}
    assert admin.get(f"/vm/{DB_1}/stats/cpu?history=1").json["samples"] == []


def test_tenant_sees_only_the_stats_of_its_vms(tenant):
    for path in (f"/vm/{DB_1}/stats", f"/vm/{BUILD_1}/stats/cpu", f"/vm/{DB_1}/stats/cpu",
                 f"/vm/{BUILD_1}/stats?history=1"):
        response = tenant.get(path, status=404)
        assert response.json["code"] == 404 and response.json["message"].startswith("no VM")
    assert tenant.get(f"/vm/{WEB_1}/stats").json["running"] is True
    assert list(tenant.get(f"/vm/{WEB_1}/stats/cpu").json) == ["cpu_0", "cpu_1"]


def vm_active(metrics_text):
    families = {family.name: family for family in text_string_to_metric_families(metrics_text)}
    active = families["virtdancer_vm_active"]
    assert active.type == "gauge"
    assert all(sample.value == 1 for sample in active.samples)
    assert all(set(sample.labels) == {"host", "name", "uuid"} for sample in active.samples)
    assert all(sample.labels["host"] == "default" for sample in active.samples)
    return families, {(sample.labels["name"], sample.labels["uuid"])
                      for sample in active.samples}


def test_metrics_for_a_tenant_show_only_its_vms(tenant):
    response = tenant.get("/metrics")
    assert response.content_type == "text/plain"
    families, active = vm_active(response.text)
    assert active == {("web-1", WEB_1), ("web-2", WEB_2)}
    for family in families.values():
        for sample in family.samples:
            assert sample.labels.get("name") in (None, "web-1", "web-2"), sample


def test_metrics_for_an_admin(admin):
    response = admin.get("/metrics")
    assert response.content_type == "text/plain"
    families, active = vm_active(response.text)
    assert active == {("web-1", WEB_1), ("web-2", WEB_2), ("build-1", BUILD_1)}  # never db-1
    rounds = families["virtdancer_stats_rounds"]
    assert rounds.type == "counter" and rounds.samples[0].name == "virtdancer_stats_rounds_total"
    assert rounds.samples[0].value >= 2 and rounds.samples[0].labels == {"host": "default"}
    memory = {sample.labels["kind"]: sample.value
              for sample in families["virtdancer_host_memory_bytes"].samples}
    assert memory == {"memTotal": NODE_MEMORY_BYTES}
    modes = {sample.labels["mode"] for sample in families["virtdancer_host_cpu_percent"].samples}
    assert modes == {"usr", "sys", "iowait", "total"}
    sample_time = families["virtdancer_stats_sample_time_seconds"].samples[0].value
    assert abs(sample_time - time.time()) < 60
    assert "virtdancer_host_network_bytes" not in families   # not this machine


def test_metrics_head(admin):
    response = admin.head("/metrics")
    assert response.status_int == 200 and response.body == b""
    assert response.content_type == "text/plain"


@pytest.mark.parametrize("path", ["/metrics", "/stats/cpu", "/stats/mem", f"/vm/{WEB_1}/stats",
                                  f"/vm/{WEB_1}/stats/cpu", "/stats/nic"])
def test_anonymous_gets_401_json(stats_app, path):
    response = client(stats_app).get(path, status=401)
    assert response.content_type == "application/json" and response.json["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_a_viewer_reads_every_statistics_endpoint(viewer):
    for path in ("/stats/cpu", "/stats/mem", "/stats/cpu?history=1",
                 f"/vm/{WEB_1}/stats", f"/vm/{DB_1}/stats", f"/vm/{BUILD_1}/stats/cpu",
                 f"/vm/{WEB_2}/stats?history=1", "/metrics"):
        assert viewer.get(path).status_int == 200, path
    assert viewer.get("/stats/nic", status=501).json["code"] == 501   # not 403
    _, active = vm_active(viewer.get("/metrics").text)
    assert {name for name, _ in active} == {"web-1", "web-2", "build-1"}


# -- a sample that is too old ---------------------------------------------------------------

@pytest.fixture
def own_app():
    """An app of its own, for a test that stops its sampler; a 2 s interval, for Retry-After.

    Nothing waits for those 2 s: the first round is taken at start-up.
    """
    app = make_app(**{**APP_SETTINGS, "virtdancer.stats.interval": "2"})
    yield app
    close_app(app)


STALE_PATHS = ("/stats/cpu", "/stats/mem", f"/vm/{WEB_1}/stats", f"/vm/{DB_1}/stats",
               f"/vm/{BUILD_1}/stats/cpu")


def test_a_stale_sample_is_refused_with_503(own_app, monkeypatch):
    admin = client(own_app, "admin")
    sampler = sampler_of(own_app)
    wait_for_rounds(sampler, 1)
    for path in STALE_PATHS:
        assert admin.get(path).status_int == 200, path

    sampler.close()   # no more rounds; then the clock runs far past three intervals
    monkeypatch.setattr(sampler, "wall_clock", lambda: time.time() + 3600)
    for path in STALE_PATHS:
        response = admin.get(path, status=503)
        assert response.content_type == "application/json" and response.json["code"] == 503
        assert response.headers["Retry-After"] == "2"   # the sampling interval
        # The series for charts still answers: old samples are history, not current figures.
        assert admin.get(path, params={"history": "1"}).status_int == 200, path
