"""Statistics in the tree: /stats (the host) and /vm/<uuid>/stats (one VM).

Everything here answers from the hypervisor service's sampler: beyond finding the VM, a request
for the statistics of a running VM costs no libvirt round trip. Values the host's driver does
not report are None; a sample older than a few intervals means the host is away, and is refused
rather than shown as if it were current.
"""

from ..hypervisor import hostinfo
from ..hypervisor.errors import HostUnavailable

# A sample older than this many sampling intervals is not "current" any more.
STALE_AFTER_INTERVALS = 3


class NotSampledYet(HostUnavailable):
    """The sampler has no fresh sample: the host is away, or VirtDancer has just started."""


def fresh_sample(sampler):
    """The newest sample, or `NotSampledYet` if there is none recent enough."""
    sample = sampler.latest()
    if sample is None or sampler.wall_clock() - sample["time"] > \
            STALE_AFTER_INTERVALS * sampler.interval:
        raise NotSampledYet("no recent statistics: the hypervisor is unreachable, or "
                            "VirtDancer has only just started", retry_after=sampler.interval)
    return sample


def series(sampler, rounds, pick=None, since=None):
    """`{"interval", "samples": [{"time", ...}]}` for charts, oldest first, from the sampler's
    `(time, value)` rounds; `pick` turns a value into the sample's figures (None, or a None
    value, leaves that round out); `since` (Unix time) leaves out the rounds up to it."""
    samples = []
    for time, value in rounds:
        if since is not None and time <= since:
            continue   # the client has it: not even built
        part = pick(value) if pick is not None and value is not None else value
        if part is not None:
            samples.append({"time": time, **part})
    return {"interval": sampler.interval, "samples": samples}


class HostStats:
    """/stats: the host's CPU, memory and network interfaces."""

    __name__ = "stats"

    def __init__(self, parent):
        self.__parent__ = parent
        self.sampler = parent.sampler
        self.local = parent.local

    def __getitem__(self, name):
        if name in ("cpu", "mem"):
            return HostStatsPart(self, name)
        if name == "nic":
            return NICs(self)
        raise KeyError(name)


class HostStatsPart:
    """/stats/cpu or /stats/mem."""

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.sampler = parent.sampler

    def current(self):
        return fresh_sample(self.sampler)["host"][self.__name__] or _unknown(self.__name__)

    def history(self, since=None):
        return series(self.sampler, self.sampler.host_history(self.__name__), since=since)


def _unknown(part):
    # A driver without node CPU statistics: say "unknown" in the usual shape.
    keys = {"cpu": ("usr", "sys", "steal", "iowait", "irq", "total"),
            "mem": ("memTotal", "memFree", "memBuffer", "swapTotal", "swapFree")}[part]
    return dict.fromkeys(keys)


class NICs:
    """/stats/nic: the host's network interfaces, when libvirt runs on this machine."""

    __name__ = "nic"

    def __init__(self, parent):
        self.__parent__ = parent
        self.sampler = parent.sampler
        self.local = parent.local

    def __getitem__(self, name):
        if not self.local or name not in hostinfo.nic_names():
            raise KeyError(name)
        return NIC(self, name)

    def counters(self, physical_only=False):
        """`{<if>_rx, <if>_tx}` byte counters, as the first VirtDancer answered them."""
        names = hostinfo.nic_names(physical_only)
        flat = {}
        for name, counters in hostinfo.nic_counters(names).items():
            flat[f"{name}_rx"] = counters["rx"]
            flat[f"{name}_tx"] = counters["tx"]
        return flat

    def history(self, physical_only=False, since=None):
        names = set(hostinfo.nic_names(physical_only))

        def pick(rates):
            return {f"{name}_{direction}": rate for name, pair in rates.items()
                    if name in names for direction, rate in pair.items()}

        return series(self.sampler, self.sampler.host_history("nic"), pick, since)


class NIC:
    """/stats/nic/<name>: one interface."""

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.sampler = parent.sampler

    def counters(self):
        counters = hostinfo.nic_counters([self.__name__]).get(self.__name__)
        if counters is None:
            raise KeyError(self.__name__)   # gone since traversal found it
        return counters

    def history(self, since=None):
        return series(self.sampler, self.sampler.host_history("nic"),
                      lambda rates: rates.get(self.__name__), since)


class DomainStats:
    """/vm/<uuid>/stats: one VM's CPU, memory, disk and network."""

    __name__ = "stats"

    def __init__(self, parent):
        self.__parent__ = parent
        self.domain = parent
        self.sampler = parent.sampler
        self._known_detail = None

    def __getitem__(self, name):
        if name == "cpu":
            return DomainCPUStats(self)
        raise KeyError(name)

    def current(self):
        """The VM's newest sample; a VM that is not running uses nothing."""
        vm = fresh_sample(self.sampler)["vms"].get(self.domain.uuid)
        if vm is not None:
            return self._answer(vm)
        detail = self._detail()
        return _completed(detail, _idle_sample(detail) if not detail.active
                          else _unsampled(detail))

    def history(self, since=None):
        """Every kept sample of the VM, each in the shape of `current()`: it ran in each."""
        return series(self.sampler, self.sampler.vm_history(self.domain.uuid),
                      lambda vm: {**self._answer(vm), "running": True}, since)

    def _answer(self, vm):
        """A sample of the VM in the API's shape; where the driver lacks the balloon or vCPU
        group (the test driver), completed from the VM's detail."""
        vm = {key: value for key, value in vm.items() if key != "name"}
        memory = vm["memory"]
        if vm["vcpus"] and None not in (memory["current"], memory["maximum"]):
            return {**vm, "running": True}
        return _completed(self._detail(), vm)

    def _detail(self):
        # At most one libvirt round trip per request, however many samples need it.
        if self._known_detail is None:
            self._known_detail = self.domain.detail()
        return self._known_detail


class DomainCPUStats:
    """/vm/<uuid>/stats/cpu: per-vCPU use in percent, `{cpu_0, cpu_1, ...}`."""

    __name__ = "cpu"

    def __init__(self, parent):
        self.__parent__ = parent
        self.stats = parent

    def current(self):
        return self.stats.current()["vcpus"]

    def history(self, since=None):
        whole = self.stats.history(since)
        return {"interval": whole["interval"],
                "samples": [{"time": sample["time"], **sample["vcpus"]}
                            for sample in whole["samples"]]}


_NO_COUNTERS = dict.fromkeys(("cpu_seconds", "disk_read_bytes", "disk_write_bytes",
                              "net_rx_bytes", "net_tx_bytes"))


def _idle_sample(detail):
    vcpus = {f"cpu_{index}": 0.0 for index in range(detail.vcpus)}
    return {"cpu": 0.0, "vcpus": vcpus, "memory": {"current": None, "maximum": None,
                                                   "used": None},
            "disk": {"read": 0.0, "write": 0.0}, "net": {"rx": 0.0, "tx": 0.0},
            "counters": dict(_NO_COUNTERS)}


def _unsampled(detail):
    # Started since the last round: nothing is known yet.
    vcpus = dict.fromkeys(f"cpu_{index}" for index in range(detail.vcpus))
    return {"cpu": None, "vcpus": vcpus,
            "memory": {"current": None, "maximum": None, "used": None},
            "disk": {"read": None, "write": None}, "net": {"rx": None, "tx": None},
            "counters": dict(_NO_COUNTERS)}


def _completed(detail, sample):
    """Fill from the VM's detail what a driver without balloon or vCPU stats leaves out."""
    memory = dict(sample["memory"])
    if memory["current"] is None:
        memory["current"] = detail.memory_kib * 1024
    if memory["maximum"] is None:
        memory["maximum"] = detail.max_memory_kib * 1024
    vcpus = sample["vcpus"] or dict.fromkeys(
        f"cpu_{index}" for index in range(detail.vcpus))
    return {**sample, "running": detail.active, "memory": memory, "vcpus": vcpus}
