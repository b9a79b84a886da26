"""Statistics of a real host and of real QEMU VMs: /stats/*, /vm/<uuid>/stats*, /metrics.

The app samples every INTERVAL seconds here (not the default 2 s), so that a few rounds take
a few seconds. What libvirt 9+/QEMU report for the ring's test VMs, and so what is asserted:

- a disk-less, NIC-less guest: libvirt reports `block.count` = `net.count` = 0, so the disk and
  network rates are null, as API.md says ("without disks", "without interfaces"), and so are
  the disk and network byte counters (nothing to count, not "zero bytes");
- libvirt adds a virtio balloon, which reports `balloon.current` and `balloon.maximum` (the
  domain XML's 32 MiB); no guest OS runs a balloon driver, so there is no `used` figure;
- the guest sits in the firmware after "no bootable device", so its vCPUs use little (a few
  percent at most); no minimum is asserted;
- qemu:///system is VirtDancer's own machine, so the host's CPU shares come from /proc/stat:
  steal and irq are numbers too, the five shares add up to the total (everything but idle) up
  to rounding, and the first answer after start-up, with no round before it, has the shares
  since boot, which this module can compute from /proc/stat itself.
"""

import math
import os
import signal
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
import webtest
from prometheus_client.parser import text_string_to_metric_families

from virtdancer.hypervisor import hostinfo
from virtdancer.interfaces import IHypervisor
from virtdancer.resources.stats import STALE_AFTER_INTERVALS

from ..conftest import close_app, make_app
from .conftest import (
    MEMORY_KIB,
    VCPUS,
    libvirtd_pid,
    process_gone,
    start_libvirtd,
    virsh,
    wait_until,
)

INTERVAL = 0.5                              # seconds between sampling rounds, in this module
STALE_AFTER = STALE_AFTER_INTERVALS * INTERVAL
ROUNDS_WITHIN = 15.0                        # seconds: bound of every wait for sampling rounds
RECOVERY_WITHIN = 60.0                      # seconds after start-libvirtd.sh returns
ROUNDING = 0.05                             # percent: values are rounded to 2 decimals

MEMORY_BYTES = MEMORY_KIB * 1024
VCPU_KEYS = {f"cpu_{index}" for index in range(VCPUS)}
VM_STATS_KEYS = {"cpu", "vcpus", "memory", "disk", "net", "counters", "running"}
COUNTER_KEYS = {"cpu_seconds", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
                "net_tx_bytes"}
HOST_CPU_KEYS = {"usr", "sys", "steal", "iowait", "irq", "total"}
HOST_MEM_KEYS = {"memTotal", "memFree", "memBuffer", "swapTotal", "swapFree"}
SYS_NET = Path("/sys/class/net")


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "virtdancer.stats.interval": str(INTERVAL)}


@pytest.fixture
def sampler(hypervisor):
    return hypervisor.sampler


# -- helpers -------------------------------------------------------------------------------

def is_number(value):
    return type(value) in (int, float) and math.isfinite(value)


def is_percent(value):
    return is_number(value) and 0 <= value <= 100


def wait_for_vm_rates(sampler, uuid):
    """The newest sample once it has rates for the VM (two rounds have seen it)."""
    def ready():
        sample = sampler.latest()
        vm = sample and sample["vms"].get(uuid)
        # The whole VM's rate and each vCPU's: on a busy machine a round can have one first.
        ready = vm and vm["cpu"] is not None and vm["vcpus"] and \
            all(rate is not None for rate in vm["vcpus"].values())
        return sample if ready else None

    sample = wait_until(ready, ROUNDS_WITHIN)
    assert sample, f"no sample with rates for {uuid} within {ROUNDS_WITHIN:.0f} s"
    return sample


def wait_for_host_rates(sampler):
    sample = wait_until(lambda: (sampler.latest() or {}).get("host", {}).get("cpu"),
                        ROUNDS_WITHIN)
    assert sample, f"no host CPU rates within {ROUNDS_WITHIN:.0f} s"


def wait_for_rounds(sampler, count):
    """Wait until `count` more rounds are done."""
    target = sampler.rounds + count
    assert wait_until(lambda: sampler.rounds >= target, ROUNDS_WITHIN), (
        f"the sampler did not do {count} rounds within {ROUNDS_WITHIN:.0f} s")


def assert_cpu_shares_add_up(cpu):
    """Every share a percentage, and the five that are not idle time add up to the total."""
    assert set(cpu) == HOST_CPU_KEYS
    assert all(is_percent(value) for value in cpu.values()), cpu
    parts = cpu["usr"] + cpu["sys"] + cpu["steal"] + cpu["iowait"] + cpu["irq"]
    assert abs(parts - cpu["total"]) <= 3 * ROUNDING, cpu   # each of the six is rounded


def shares_since_boot():
    """{usr, sys, steal, iowait, irq, total} since boot, by this module's own reading."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        label, *columns = line.split()
        if label == "cpu":
            names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
            ticks = dict(zip(names, map(int, columns)))
            break
    spent = sum(ticks.values())
    return {"usr": 100 * (ticks["user"] + ticks["nice"]) / spent,
            "sys": 100 * ticks["system"] / spent, "steal": 100 * ticks["steal"] / spent,
            "iowait": 100 * ticks["iowait"] / spent,
            "irq": 100 * (ticks["irq"] + ticks["softirq"]) / spent,
            "total": 100 - 100 * ticks["idle"] / spent}


def meminfo():
    """/proc/meminfo in bytes."""
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0]) * 1024
    return fields


def sys_counter(interface, name):
    return int((SYS_NET / interface / "statistics" / name).read_text())


def domstats_counts(name):
    """block.count and net.count as `virsh domstats` reports them, as strings."""
    output = virsh("domstats", name, "--block", "--interface")
    fields = dict(line.strip().split("=", 1) for line in output.splitlines() if "=" in line)
    return {key: fields.get(key) for key in ("block.count", "net.count")}


def assert_json_error(response, status):
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert response.json["status"] == "error" and response.json["code"] == status
    assert response.json["message"]


def assert_sample_times_increase(samples):
    times = [sample["time"] for sample in samples]
    assert all(is_number(value) for value in times)
    assert all(later > earlier for earlier, later in pairwise(times)), times


# -- one VM ---------------------------------------------------------------------------------

def test_running_vm_statistics(testapp, sampler, make_vm):
    vm = make_vm(start=True)
    wait_for_vm_rates(sampler, vm.uuid)

    vcpus = testapp.get(f"/vm/{vm.uuid}/stats/cpu").json
    assert set(vcpus) == VCPU_KEYS
    assert all(is_percent(value) for value in vcpus.values()), vcpus

    stats = testapp.get(f"/vm/{vm.uuid}/stats").json
    assert set(stats) == VM_STATS_KEYS
    assert stats["running"] is True
    assert is_percent(stats["cpu"]), stats["cpu"]
    assert set(stats["vcpus"]) == VCPU_KEYS
    assert all(is_percent(value) for value in stats["vcpus"].values()), stats["vcpus"]

    memory = stats["memory"]
    assert memory["maximum"] == MEMORY_BYTES
    assert type(memory["current"]) is int and 0 < memory["current"] <= memory["maximum"]
    assert memory["used"] is None          # no guest balloon driver to report it

    # No disk, no interface: libvirt says so with block.count = net.count = 0, and the rates
    # and byte counters are null ("without disks", API.md), even with a baseline round.
    assert domstats_counts(vm.name) == {"block.count": "0", "net.count": "0"}
    assert stats["disk"] == {"read": None, "write": None}
    assert stats["net"] == {"rx": None, "tx": None}
    counters = stats["counters"]
    assert set(counters) == COUNTER_KEYS
    assert {key: value for key, value in counters.items() if key != "cpu_seconds"} == {
        "disk_read_bytes": None, "disk_write_bytes": None, "net_rx_bytes": None,
        "net_tx_bytes": None}
    assert is_number(counters["cpu_seconds"]) and counters["cpu_seconds"] > 0

    # CPU time grows from one sample to a later one (QEMU's own threads alone see to that).
    first_time = sampler.latest()["time"]
    wait_for_rounds(sampler, 2)
    later = testapp.get(f"/vm/{vm.uuid}/stats").json
    assert sampler.latest()["time"] > first_time
    assert later["counters"]["cpu_seconds"] > counters["cpu_seconds"]


def test_running_vm_history_grows(testapp, sampler, make_vm):
    vm = make_vm(start=True)
    wait_for_vm_rates(sampler, vm.uuid)

    history = testapp.get(f"/vm/{vm.uuid}/stats?history=1").json
    assert set(history) == {"interval", "samples"}
    assert history["interval"] == INTERVAL
    samples = history["samples"]
    assert len(samples) >= 2
    assert_sample_times_increase(samples)
    for sample in samples:
        # The shape of the current answer (API.md), plus the time; a VM is in the samples
        # taken while it ran.
        assert set(sample) == VM_STATS_KEYS | {"time"}
        assert sample["running"] is True
        assert sample["memory"]["maximum"] == MEMORY_BYTES
    # The VM started after the app: the first round that saw it had nothing to compare with.
    assert samples[0]["cpu"] is None
    assert samples[0]["vcpus"] == dict.fromkeys(VCPU_KEYS)
    assert samples[0]["disk"] == {"read": None, "write": None}
    assert all(is_percent(sample["cpu"]) for sample in samples[1:])

    wait_for_rounds(sampler, 3)
    grown = testapp.get(f"/vm/{vm.uuid}/stats?history=1").json["samples"]
    assert len(grown) >= len(samples) + 3
    assert grown[:len(samples)] == samples    # the ring only appends (far from full here)
    assert_sample_times_increase(grown)

    per_vcpu = testapp.get(f"/vm/{vm.uuid}/stats/cpu?history=1").json
    assert per_vcpu["interval"] == INTERVAL
    assert len(per_vcpu["samples"]) >= len(grown)
    assert_sample_times_increase(per_vcpu["samples"])
    for sample in per_vcpu["samples"]:
        assert set(sample) == VCPU_KEYS | {"time"}
        assert all(value is None or is_percent(value)
                   for key, value in sample.items() if key != "time")


# -- the host -------------------------------------------------------------------------------

def test_host_cpu_and_memory(testapp, sampler):
    wait_for_host_rates(sampler)

    cpu = testapp.get("/stats/cpu").json
    # From this machine's /proc/stat: steal and irq are known, and with them the five shares
    # that are not idle make up the total.
    assert is_number(cpu["steal"]) and is_number(cpu["irq"]), cpu
    assert_cpu_shares_add_up(cpu)

    before = meminfo()
    mem = testapp.get("/stats/mem").json
    after = meminfo()
    assert set(mem) == HOST_MEM_KEYS
    assert all(type(value) is int for value in mem.values()), mem
    assert abs(mem["memTotal"] - before["MemTotal"]) <= 1024 * 1024
    assert 0 < mem["memFree"] <= mem["memTotal"]
    assert 0 <= mem["memBuffer"] <= mem["memTotal"]
    assert mem["swapTotal"] == before["SwapTotal"] == after["SwapTotal"]
    assert 0 <= mem["swapFree"] <= mem["swapTotal"]
    low, high = sorted((before["SwapFree"], after["SwapFree"]))
    assert low - 64 * 1024 * 1024 <= mem["swapFree"] <= high + 64 * 1024 * 1024

    history = testapp.get("/stats/cpu?history=1").json
    assert history["interval"] == INTERVAL and history["samples"]
    assert_sample_times_increase(history["samples"])
    for sample in history["samples"]:
        assert set(sample) == HOST_CPU_KEYS | {"time"}
        assert_cpu_shares_add_up({key: value for key, value in sample.items() if key != "time"})


def test_the_first_cpu_answer_after_start_up_has_the_shares_since_boot(app_settings):
    """No second round yet (the interval is far longer than the test): the answer comes from
    the start-up round alone, and is the share of each kind of time since boot."""
    before = shares_since_boot()
    app = make_app(**{**app_settings, "virtdancer.stats.interval": "600"})
    try:
        sampler = app.registry.getUtility(IHypervisor).sampler
        assert wait_until(lambda: sampler.rounds >= 1, ROUNDS_WITHIN), "no start-up round"
        client = webtest.TestApp(app)
        client.authorization = ("Basic", ("admin", "admin"))
        cpu = client.get("/stats/cpu").json
        history = client.get("/stats/cpu?history=1").json["samples"]
        assert sampler.rounds == 1
    finally:
        close_app(app)
    after = shares_since_boot()

    assert_cpu_shares_add_up(cpu)
    # Averages since boot hardly move in the second this takes.
    for key, value in cpu.items():
        low, high = sorted((before[key], after[key]))
        assert low - 0.5 <= value <= high + 0.5, (key, cpu, before, after)
    assert [{key: value for key, value in sample.items() if key != "time"}
            for sample in history] == [cpu]


def test_host_network_interfaces(testapp):
    lo_rx_before = sys_counter("lo", "rx_bytes")
    nics = testapp.get("/stats/nic").json
    assert {"lo_rx", "lo_tx"} <= set(nics)
    assert all(type(value) is int and value >= 0 for value in nics.values()), nics
    assert all(key.endswith(("_rx", "_tx")) for key in nics)
    assert lo_rx_before <= nics["lo_rx"] <= sys_counter("lo", "rx_bytes")

    physical = testapp.get("/stats/nic?filter=physical").json
    assert "lo_rx" not in physical and "lo_tx" not in physical
    for key in physical:
        interface = key.rsplit("_", 1)[0]
        assert (SYS_NET / interface / "device").exists(), key

    before = (sys_counter("lo", "rx_bytes"), sys_counter("lo", "tx_bytes"))
    lo = testapp.get("/stats/nic/lo").json
    after = (sys_counter("lo", "rx_bytes"), sys_counter("lo", "tx_bytes"))
    assert set(lo) == {"rx", "tx"}
    assert type(lo["rx"]) is int and type(lo["tx"]) is int
    assert before[0] <= lo["rx"] <= after[0] and before[1] <= lo["tx"] <= after[1]


@pytest.mark.parametrize("path", [
    "/stats/nic/..%2F..%2Fetc",
    "/stats/nic/..%2F..%2F..%2Fproc%2Fself%2Fenviron",
    "/stats/nic/..",
    "/stats/nic/lo%2Fstatistics",
    "/stats/nic/nonexistent0",
])
def test_unknown_or_tricky_interface_names_are_404(testapp, path):
    assert_json_error(testapp.get(path, expect_errors=True), 404)


def test_an_interface_gone_after_traversal_is_404(testapp, monkeypatch):
    """The interface disappears between traversal (which saw it) and the view reading it, as a
    VM's tap device does when the VM stops."""
    real = hostinfo.nic_counters

    def vanished(names=None):
        return {name: value for name, value in real(names).items() if name != "lo"}

    monkeypatch.setattr(hostinfo, "nic_counters", vanished)
    assert_json_error(testapp.get("/stats/nic/lo", expect_errors=True), 404)


# -- /metrics ---------------------------------------------------------------------------------

def test_metrics_list_the_running_vm(testapp, sampler, make_vm):
    vm = make_vm(start=True)
    wait_for_vm_rates(sampler, vm.uuid)

    response = testapp.get("/metrics")
    assert response.content_type == "text/plain"
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    labels = {"host": "default", "name": vm.name, "uuid": vm.uuid}

    active = [sample for sample in families["virtdancer_vm_active"].samples
              if sample.labels == labels]
    assert [sample.value for sample in active] == [1.0]

    vcpus = {sample.labels["vcpu"]: sample.value
             for sample in families["virtdancer_vm_vcpu_percent"].samples
             if sample.labels["uuid"] == vm.uuid}
    assert set(vcpus) == {str(index) for index in range(VCPUS)}
    assert all(0 <= value <= 100 for value in vcpus.values()), vcpus

    memory = {sample.labels["kind"]: sample.value
              for sample in families["virtdancer_vm_memory_bytes"].samples
              if sample.labels["uuid"] == vm.uuid}
    assert memory["maximum"] == MEMORY_BYTES
    assert families["virtdancer_stats_rounds"].type == "counter"


# -- libvirtd goes away and comes back --------------------------------------------------------

def test_sampler_survives_a_libvirtd_restart(testapp, sampler, make_vm):
    """While libvirtd is dead no round succeeds: host statistics are answered from the last
    sample for STALE_AFTER seconds, then refused with a 503; the sampler thread keeps going and
    resumes once libvirtd is back, leaving a gap in the history."""
    vm = make_vm(start=True)
    wait_for_vm_rates(sampler, vm.uuid)
    thread = sampler._thread
    assert thread.is_alive()

    outage = []   # (sent, received, response) of GET /stats/cpu while libvirtd is dead
    pid = libvirtd_pid()
    try:
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: process_gone(pid), timeout=10), "libvirtd survived SIGKILL"
        # A round that read libvirt just before the kill may still be storing its sample, for
        # as long as a loaded machine makes it: once a round has failed (it forgets the raw
        # counters it keeps for rates), the rounds before it have all ended.
        assert wait_until(lambda: sampler._previous is None, ROUNDS_WITHIN), (
            "no sampling round failed after libvirtd was killed")
        rounds = sampler.rounds
        last = sampler.latest()

        deadline = time.monotonic() + STALE_AFTER + 3.0   # bounded whatever the clocks do
        while time.monotonic() < deadline:
            sent = time.time()
            response = testapp.get("/stats/cpu", expect_errors=True)
            outage.append((sent, time.time(), response))
            if sent - last["time"] > STALE_AFTER + 0.5:
                break
            time.sleep(0.1)

        vm_stats = testapp.get(f"/vm/{vm.uuid}/stats", expect_errors=True)
        mem = testapp.get("/stats/mem", expect_errors=True)
        lo = testapp.get("/stats/nic/lo", expect_errors=True)
        metrics = testapp.get("/metrics", expect_errors=True)
        outage_end = time.time()

        assert thread.is_alive(), "the sampler thread died with libvirtd"
        assert sampler.rounds == rounds, "a round succeeded without libvirtd"
        assert sampler.latest() is last
    finally:
        start_libvirtd()

    # Within STALE_AFTER seconds of the last sample: 200 with that sample; later: 503.
    for sent, received, response in outage:
        age_sent, age_received = sent - last["time"], received - last["time"]
        if response.status_int == 200:
            assert age_sent <= STALE_AFTER, f"a {age_sent:.2f} s old sample was served"
            assert response.json == last["host"]["cpu"]
        else:
            assert age_received > STALE_AFTER, f"503 for a {age_received:.2f} s old sample"
            assert_json_error(response, 503)
            assert response.headers["Retry-After"] == "1"   # the interval, at least 1 s
    assert outage[-1][2].status_int == 503, "never refused a stale sample"
    # Finding the VM needs libvirt; memory is as stale as CPU; interfaces need only /sys.
    assert_json_error(vm_stats, 503)
    assert_json_error(mem, 503)
    assert lo.status_int == 200 and set(lo.json) == {"rx", "tx"}
    assert metrics.status_int == 200
    rounds_metric = {family.name: family for family in
                     text_string_to_metric_families(metrics.text)}["virtdancer_stats_rounds"]
    assert rounds_metric.samples[0].value == rounds

    # Back: the same thread samples again, without the app being restarted.
    assert wait_until(lambda: sampler.rounds >= rounds + 3, RECOVERY_WITHIN), (
        f"no sampling rounds {RECOVERY_WITHIN:.0f} s after libvirtd restarted")
    assert sampler._thread is thread and thread.is_alive()
    wait_for_vm_rates(sampler, vm.uuid)
    assert testapp.get("/stats/cpu").status_int == 200
    assert testapp.get(f"/vm/{vm.uuid}/stats").json["running"] is True

    samples = sampler.samples()
    # The history gives its rounds back as new dicts: the round before the outage by its time.
    index = next(i for i, sample in enumerate(samples) if sample["time"] == last["time"])
    resumed = samples[index + 1]
    assert_sample_times_increase(samples)
    gap = resumed["time"] - last["time"]
    assert gap > STALE_AFTER and resumed["time"] > outage_end, (
        f"the outage left a gap of {gap:.2f} s only")
    # The first round after the gap has no rates: the counters may have restarted. The host's
    # CPU shares are since boot again (/proc/stat's counters began then).
    assert_cpu_shares_add_up(resumed["host"]["cpu"])
    assert resumed["vms"][vm.uuid]["cpu"] is None
    history = testapp.get(f"/vm/{vm.uuid}/stats?history=1").json["samples"]
    times = [sample["time"] for sample in history]
    assert last["time"] in times and resumed["time"] in times
    assert times.index(resumed["time"]) == times.index(last["time"]) + 1


# -- libvirt round trips of a round -----------------------------------------------------------

def test_a_round_is_one_bulk_call_however_many_vms_run(sampler, make_vm,
                                                      this_threads_libvirt_calls):
    vms = [make_vm(start=True)]
    one, sample = this_threads_libvirt_calls.calls_and_result(sampler.sample_once)
    assert sample is not None and vms[0].uuid in sample["vms"]

    vms += [make_vm(start=True) for _ in range(3)]
    four, sample = this_threads_libvirt_calls.calls_and_result(sampler.sample_once)
    assert sample is not None and {vm.uuid for vm in vms} <= set(sample["vms"])

    assert four == one, (one, four)
    # No getCPUStats: this machine's CPU times come from its /proc/stat.
    assert one == Counter({"virConnect.getAllDomainStats": 1,
                           "virConnect.getMemoryStats": 1}), one
