"""GET /metrics: the sampler's newest figures in the Prometheus text format.

For users who already run Prometheus and Grafana. Authentication is the API's; a user's VM
filters apply, so a tenant's Prometheus sees only the tenant's VMs.
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pyramid.response import Response
from pyramid.view import view_config

from ..hypervisor import hostinfo
from ..permissions import Permission
from ..resources import Root

VM_LABELS = ["name", "uuid"]


class SampleCollector:
    """Turns one sample (already filtered to the visible VMs) into metric families."""

    def __init__(self, sample, vms, nics, rounds):
        self.sample = sample
        self.vms = vms
        self.nics = nics
        self.rounds = rounds

    def collect(self):
        yield CounterMetricFamily("virtdancer_stats_rounds", "Sampling rounds done since start",
                                  value=self.rounds)
        if self.sample is not None:
            yield GaugeMetricFamily("virtdancer_stats_sample_time_seconds",
                                    "Unix time of the newest sample", value=self.sample["time"])
            yield from self._host(self.sample["host"])
        if self.nics:
            yield from self._nics()
        yield from self._vms()

    def _host(self, host):
        cpu = GaugeMetricFamily("virtdancer_host_cpu_percent",
                                "Host CPU use over the last interval, percent", labels=["mode"])
        for mode, value in (host["cpu"] or {}).items():
            if value is not None:
                cpu.add_metric([mode], value)
        yield cpu
        memory = GaugeMetricFamily("virtdancer_host_memory_bytes", "Host memory and swap",
                                   labels=["kind"])
        for kind, value in host["mem"].items():
            if value is not None:
                memory.add_metric([kind], value)
        yield memory

    def _nics(self):
        family = CounterMetricFamily("virtdancer_host_network_bytes",
                                     "Bytes through each host network interface",
                                     labels=["interface", "direction"])
        for name, counters in self.nics.items():
            for direction, value in counters.items():
                family.add_metric([name, direction], value)
        yield family

    def _vms(self):
        families = {
            "active": GaugeMetricFamily("virtdancer_vm_active",
                                        "1 for each VM that runs (or is paused) on the host",
                                        labels=VM_LABELS),
            "cpu": GaugeMetricFamily("virtdancer_vm_cpu_percent",
                                     "VM CPU use over the last interval, percent of its vCPUs",
                                     labels=VM_LABELS),
            "vcpu": GaugeMetricFamily("virtdancer_vm_vcpu_percent", "Use of each vCPU, percent",
                                      labels=VM_LABELS + ["vcpu"]),
            "memory": GaugeMetricFamily("virtdancer_vm_memory_bytes", "VM memory",
                                        labels=VM_LABELS + ["kind"]),
            "cpu_seconds": CounterMetricFamily("virtdancer_vm_cpu_seconds",
                                               "CPU time the VM used since it started",
                                               labels=VM_LABELS),
            "disk": CounterMetricFamily("virtdancer_vm_disk_bytes",
                                        "Bytes the VM read from and wrote to its disks",
                                        labels=VM_LABELS + ["direction"]),
            "net": CounterMetricFamily("virtdancer_vm_network_bytes",
                                       "Bytes the VM received and sent",
                                       labels=VM_LABELS + ["direction"]),
        }
        for uuid, vm in sorted(self.vms.items(), key=lambda item: item[1]["name"]):
            labels = [vm["name"], uuid]
            families["active"].add_metric(labels, 1)
            if vm["cpu"] is not None:
                families["cpu"].add_metric(labels, vm["cpu"])
            for vcpu, value in vm["vcpus"].items():
                if value is not None:
                    families["vcpu"].add_metric(labels + [vcpu.removeprefix("cpu_")], value)
            for kind, value in vm["memory"].items():
                if value is not None:
                    families["memory"].add_metric(labels + [kind], value)
            counters = vm["counters"]
            if counters["cpu_seconds"] is not None:
                families["cpu_seconds"].add_metric(labels, counters["cpu_seconds"])
            for direction in ("read", "write"):
                value = counters[f"disk_{direction}_bytes"]
                if value is not None:
                    families["disk"].add_metric(labels + [direction], value)
            for direction in ("rx", "tx"):
                value = counters[f"net_{direction}_bytes"]
                if value is not None:
                    families["net"].add_metric(labels + [direction], value)
        yield from families.values()


@view_config(route_name="virtdancer.metrics", context=Root, request_method=("GET", "HEAD"),
             permission=Permission.READ)
def metrics(request):
    root = request.context
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SampleCollector(
        sample=root.sampler.latest(),
        vms=root.visible_vm_samples(),
        nics=hostinfo.nic_counters() if root.local else None,
        rounds=root.sampler.rounds,
    ))
    response = Response(body=generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
