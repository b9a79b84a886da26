"""The host's CPU shares: from /proc/stat on VirtDancer's own machine, from libvirt elsewhere.

The machine's /proc/stat is replaced by a file written here (`hostinfo.PROC_STAT` names it), so
that the shares can be checked to the hundredth. The test driver's host is imaginary, never this
machine: a "local" host is the demo fleet with its URI taken for a local one.
"""

import time

import pytest
import webtest

import virtdancer.hypervisor
from virtdancer.hypervisor import hostinfo
from virtdancer.hypervisor.connection import HostConnection
from virtdancer.hypervisor.sampler import StatsSampler, _rates
from virtdancer.interfaces import IHypervisor

from .conftest import DEMO_URI, close_app, make_app
from .test_stats import DEMO_FILE_URI, raw_round

CPU_KEYS = {"usr", "sys", "steal", "iowait", "irq", "total"}
# Long enough that a test sees the start-up round alone, before any second one.
ONE_ROUND_ONLY = "600"

# user nice system idle iowait irq softirq steal guest guest_nice, in ticks since boot.
BOOT_TO_FIRST = (1000, 200, 500, 7000, 300, 100, 100, 800, 400, 0)
# Of the 1000 ticks between the two: user 150 + nice 50, system 100, idle 500, iowait 40,
# irq 20 + softirq 40, steal 100; guest (within user already) 150.
FIRST_TO_SECOND = (150, 50, 100, 500, 40, 20, 40, 100, 150, 0)


def proc_stat(columns):
    """A /proc/stat as Linux writes it: the aggregate line, then per-CPU lines and others."""
    half = [value // 2 for value in columns]
    return "\n".join([
        "cpu  " + " ".join(map(str, columns)),
        "cpu0 " + " ".join(map(str, half)),
        "cpu1 " + " ".join(map(str, half)),
        "intr 3807882 0 0 0 1 13 0",
        "ctxt 14015212",
        "btime 1796217879",
        "processes 826401",
        "procs_running 4",
        "procs_blocked 0",
        "softirq 2425587 0 329268 4 527683",
        "",
    ])


def columns_after(*steps):
    return tuple(map(sum, zip(*steps, strict=True)))


@pytest.fixture
def fake_proc_stat(tmp_path, monkeypatch):
    """`write(columns)` puts a /proc/stat with that aggregate line where VirtDancer reads it."""
    path = tmp_path / "stat"
    monkeypatch.setattr(hostinfo, "PROC_STAT", str(path))

    def write(columns):
        path.write_text(proc_stat(columns), encoding="ascii")

    write(BOOT_TO_FIRST)
    return write


# -- reading /proc/stat -------------------------------------------------------------------------

def test_cpu_times_read_the_aggregate_line_without_the_guest_columns(tmp_path):
    path = tmp_path / "stat"
    path.write_text(proc_stat(BOOT_TO_FIRST), encoding="ascii")
    assert hostinfo.cpu_times(str(path)) == {
        "user": 1000, "nice": 200, "system": 500, "idle": 7000, "iowait": 300, "irq": 100,
        "softirq": 100, "steal": 800}


def test_cpu_times_of_an_older_kernel_have_the_columns_it_writes(tmp_path):
    path = tmp_path / "stat"
    path.write_text("cpu  10 0 5 80 5\ncpu0 10 0 5 80 5\n", encoding="ascii")
    assert hostinfo.cpu_times(str(path)) == {"user": 10, "nice": 0, "system": 5, "idle": 80,
                                             "iowait": 5}


def test_cpu_times_read_this_machine_by_default():
    times = hostinfo.cpu_times()
    assert set(times) <= set(hostinfo.CPU_TIME_COLUMNS) and times["idle"] > 0


# -- the arithmetic -----------------------------------------------------------------------------

def local_round(clock, columns):
    """A raw round of a host on this machine, whose /proc/stat "cpu" line holds `columns`."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return raw_round(clock, proc_stat=dict(zip(names, columns)))


def test_two_readings_give_every_share_of_the_time_between_them():
    before = local_round(100.0, BOOT_TO_FIRST)
    after = local_round(102.0, columns_after(BOOT_TO_FIRST, FIRST_TO_SECOND))
    cpu = _rates(before, after)["host"]["cpu"]
    assert cpu == {"usr": 20.0, "sys": 10.0, "steal": 10.0, "iowait": 4.0, "irq": 6.0,
                   "total": 50.0}
    # total is everything but idle: the other five add up to it.
    assert cpu["usr"] + cpu["sys"] + cpu["steal"] + cpu["iowait"] + cpu["irq"] == cpu["total"]


def test_a_single_reading_gives_the_shares_since_boot():
    # Of 10000 ticks since boot: user + nice 1200, system 500, idle 7000, iowait 300,
    # irq + softirq 200, steal 800.
    cpu = _rates(None, local_round(100.0, BOOT_TO_FIRST))["host"]["cpu"]
    assert cpu == {"usr": 12.0, "sys": 5.0, "steal": 8.0, "iowait": 3.0, "irq": 2.0,
                   "total": 30.0}


def test_no_time_between_two_readings_is_zero_everywhere():
    cpu = _rates(local_round(100.0, BOOT_TO_FIRST), local_round(102.0, BOOT_TO_FIRST))
    assert cpu["host"]["cpu"] == dict.fromkeys(CPU_KEYS, 0.0)


def test_a_counter_that_went_back_counts_as_no_time():
    # iowait may go back on a tickless kernel.
    step = (150, 50, 100, 500, -40, 20, 40, 100, 0, 0)
    cpu = _rates(local_round(100.0, BOOT_TO_FIRST),
                 local_round(102.0, columns_after(BOOT_TO_FIRST, step)))["host"]["cpu"]
    # Of the 960 ticks that did go forward.
    assert cpu == {"usr": 20.83, "sys": 10.42, "steal": 10.42, "iowait": 0.0, "irq": 6.25,
                   "total": 47.92}


def test_libvirts_node_statistics_have_no_steal_or_irq_even_on_a_single_reading():
    node = {"user": 10, "kernel": 5, "idle": 80, "iowait": 5}
    assert _rates(None, raw_round(100.0, node_cpu=node))["host"]["cpu"] == {
        "usr": 10.0, "sys": 5.0, "steal": None, "iowait": 5.0, "irq": None, "total": 20.0}


# -- the sampler's rounds -----------------------------------------------------------------------

@pytest.fixture
def demo_host():
    host = HostConnection(DEMO_FILE_URI, retry_min=5.0).start()
    assert host.connected
    yield host
    host.close()


def test_a_local_hosts_rounds_read_proc_stat_instead_of_asking_libvirt(
        demo_host, fake_proc_stat, this_threads_libvirt_calls):
    sampler = StatsSampler(demo_host, interval=1, local=True)
    calls, first = this_threads_libvirt_calls.calls_and_result(sampler.sample_once)
    assert "virConnect.getCPUStats" not in calls, calls
    assert first["host"]["cpu"] == {"usr": 12.0, "sys": 5.0, "steal": 8.0, "iowait": 3.0,
                                    "irq": 2.0, "total": 30.0}   # since boot

    fake_proc_stat(columns_after(BOOT_TO_FIRST, FIRST_TO_SECOND))
    assert sampler.sample_once()["host"]["cpu"] == {
        "usr": 20.0, "sys": 10.0, "steal": 10.0, "iowait": 4.0, "irq": 6.0, "total": 50.0}


def test_a_remote_hosts_rounds_never_read_proc_stat(demo_host, monkeypatch):
    # Were /proc/stat read, the round would fail on the missing file.
    monkeypatch.setattr(hostinfo, "PROC_STAT", "/nonexistent/stat")
    sampler = StatsSampler(demo_host, interval=1, local=False)
    for _ in range(2):
        cpu = sampler.sample_once()["host"]["cpu"]
        assert cpu["steal"] is None and cpu["irq"] is None
        assert all(isinstance(cpu[key], float) for key in ("usr", "sys", "iowait", "total"))


# -- the first answer after start-up ----------------------------------------------------------

def started_app(**settings):
    """An app whose sampler has taken its start-up round and no other yet."""
    app = make_app(**{"virtdancer.libvirt_uri": DEMO_URI,
                      "virtdancer.stats.interval": ONE_ROUND_ONLY, **settings})
    sampler = app.registry.getUtility(IHypervisor).sampler
    deadline = time.monotonic() + 5
    while sampler.rounds < 1:
        assert time.monotonic() < deadline, "no start-up round within 5 s"
        time.sleep(0.01)
    return app


def admin_of(app):
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("admin", "admin"))
    return client


@pytest.fixture
def local_app(fake_proc_stat, monkeypatch):
    """The demo fleet as if libvirt ran on this machine, whose /proc/stat is the fake one."""
    monkeypatch.setattr(virtdancer.hypervisor, "is_local_uri", lambda uri: True)
    app = started_app()
    yield app
    close_app(app)


@pytest.fixture
def remote_app():
    app = started_app()
    yield app
    close_app(app)


def test_the_first_answer_of_a_local_host_has_every_figure(local_app):
    admin = admin_of(local_app)
    assert admin.get("/stats/cpu").json == {"usr": 12.0, "sys": 5.0, "steal": 8.0,
                                            "iowait": 3.0, "irq": 2.0, "total": 30.0}
    samples = admin.get("/stats/cpu?history=1").json["samples"]
    assert [{key: value for key, value in sample.items() if key != "time"}
            for sample in samples] == [admin.get("/stats/cpu").json]
    assert local_app.registry.getUtility(IHypervisor).sampler.rounds == 1


def test_the_first_answer_of_a_remote_host_has_figures_but_no_steal_or_irq(remote_app):
    admin = admin_of(remote_app)
    cpu = admin.get("/stats/cpu").json
    assert set(cpu) == CPU_KEYS
    assert cpu["steal"] is None and cpu["irq"] is None
    assert all(isinstance(cpu[key], float) for key in ("usr", "sys", "iowait", "total")), cpu
    assert len(admin.get("/stats/cpu?history=1").json["samples"]) == 1
    assert remote_app.registry.getUtility(IHypervisor).sampler.rounds == 1
