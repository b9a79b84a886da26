"""GET /metrics: the sampler's newest figures in the Prometheus text format.

For users who already run Prometheus and Grafana. Authentication is the API's; a user's VM
filters apply, so a tenant's Prometheus sees only the tenant's VMs, and a host's own CPU,
memory and network figures only where the tenant sees every VM of it (as /stats/cpu says).
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pyramid.response import Response
from pyramid.view import view_config

from ..hypervisor import hostinfo
from ..hypervisor.errors import HypervisorError
from ..permissions import Permission
from ..resources import Root

HOST_LABEL = ["host"]
VM_LABELS = ["host", "name", "uuid"]


class HostFigures:
    """What /metrics says of one host: its newest sample (filtered to the VMs the user sees),
    its NIC counters (local hosts only) and its sampler's rounds. The whole host's figures
    (CPU, memory, NICs) only to a user who sees every VM of it."""

    def __init__(self, host):
        self.name = host.name
        self.sample = host.sampler.latest()
        self.vms = host.visible_vm_samples()
        self.whole_host = _sees_every_vm(host)
        self.nics = hostinfo.nic_counters() if host.local and self.whole_host else None
        self.rounds = host.sampler.rounds


def _sees_every_vm(host):
    try:
        return host.sees_every_vm()
    except HypervisorError:   # the host does not answer now: whether it would is unknown
        return False


class SampleCollector:
    """Turns each host's figures into metric families, every series labelled with its host."""

    def __init__(self, hosts):
        self.hosts = hosts

    def collect(self):
        rounds = CounterMetricFamily("virtdancer_stats_rounds", "Sampling rounds done since start",
                                     labels=HOST_LABEL)
        times = GaugeMetricFamily("virtdancer_stats_sample_time_seconds",
                                  "Unix time of the newest sample", labels=HOST_LABEL)
        cpu = GaugeMetricFamily("virtdancer_host_cpu_percent",
                                "Host CPU use since the sample before (since boot in the first),"
                                " percent", labels=HOST_LABEL + ["mode"])
        memory = GaugeMetricFamily("virtdancer_host_memory_bytes", "Host memory and swap",
                                   labels=HOST_LABEL + ["kind"])
        nics = CounterMetricFamily("virtdancer_host_network_bytes",
                                   "Bytes through each host network interface",
                                   labels=HOST_LABEL + ["interface", "direction"])
        vms = _vm_families()
        for host in self.hosts:
            rounds.add_metric([host.name], host.rounds)
            if host.sample is not None:
                times.add_metric([host.name], host.sample["time"])
            if host.sample is not None and host.whole_host:
                for mode, value in (host.sample["host"]["cpu"] or {}).items():
                    if value is not None:
                        cpu.add_metric([host.name, mode], value)
                for kind, value in host.sample["host"]["mem"].items():
                    if value is not None:
                        memory.add_metric([host.name, kind], value)
            for interface, counters in (host.nics or {}).items():
                for direction, value in counters.items():
                    nics.add_metric([host.name, interface, direction], value)
            _add_vms(vms, host.name, host.vms)
        yield rounds
        # A family nobody has figures for (no local host: no NIC counters) is left out.
        yield from (family for family in (times, cpu, memory, nics) if family.samples)
        yield from vms.values()


def _vm_families():
    return {
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


def _add_vms(families, host_name, vms):
    for uuid, vm in sorted(vms.items(), key=lambda item: item[1]["name"]):
        labels = [host_name, vm["name"], uuid]
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


@view_config(route_name="virtdancer.metrics", context=Root, request_method=("GET", "HEAD"),
             permission=Permission.READ)
def metrics(request):
    """Every host the user sees; a tenant's Prometheus sees only the tenant's VMs."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SampleCollector([HostFigures(host)
                                       for host in request.context.visible_hosts()]))
    response = Response(body=generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
