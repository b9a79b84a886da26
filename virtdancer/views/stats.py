"""Statistics of the host and of each VM, current or as a series for charts (`?history=1`)."""

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPNotImplemented

from .. import answers
from ..permissions import Permission
from ..resources.stats import NIC, DomainCPUStats, DomainStats, HostStatsPart, NICs
from ..schemas import HistoryQuery, NICQuery
from .service import PerHostService


def _service(name, description):
    return PerHostService(name, description)


host_cpu = _service("virtdancer.stats.cpu", "The host's CPU use, in percent")
host_mem = _service("virtdancer.stats.mem", "The host's memory and swap, in bytes")
host_nics = _service("virtdancer.stats.nic", "The host's network interfaces, byte counters")
host_nic = _service("virtdancer.stats.nic.one", "One host network interface, byte counters")
vm_stats = _service("virtdancer.vm.stats", "One VM's CPU, memory, disk and network use")
vm_cpu = _service("virtdancer.vm.stats.cpu", "One VM's use of each vCPU, in percent")


# The whole host's figures (CPU, memory, network traffic) are the sum of every VM's load: to a
# user whose filters hide some of its VMs they would tell of those (that a hidden VM is busy,
# how much memory the others take). They are for users who see every VM of the host.
WHOLE_HOST_WORDS = ("the whole host's figures are for users who see every VM of the host; "
                    "your VM filters leave some of host {host}'s VMs out")


def host_of(context):
    node = context
    while not hasattr(node, "sees_every_vm"):
        node = node.__parent__
    return node


def check_whole_host(request):
    """403 unless the user sees every VM of the host whose figures are asked for."""
    host = host_of(request.context)
    if not host.sees_every_vm():
        raise HTTPForbidden(WHOLE_HOST_WORDS.format(host=host.name))


def wants_history(request):
    return request.validated["history"]


def since(request):
    """`?since=<Unix time>`: only the samples newer than that (None: every one kept)."""
    return request.validated["since"]


@host_cpu.get(context=HostStatsPart, permission=Permission.READ, query=HistoryQuery(),
              response_schemas={200: answers.HOST_CPU})
@host_mem.get(context=HostStatsPart, permission=Permission.READ, query=HistoryQuery(),
              response_schemas={200: answers.HOST_MEMORY})
@vm_stats.get(context=DomainStats, permission=Permission.READ, query=HistoryQuery(),
              response_schemas={200: answers.VM_STATS})
@vm_cpu.get(context=DomainCPUStats, permission=Permission.READ, query=HistoryQuery(),
            response_schemas={200: answers.VM_CPU})
def show_stats(request):
    """The newest sample, or with `?history=1` every sample kept (or newer than `since`)."""
    if isinstance(request.context, HostStatsPart):
        check_whole_host(request)
    if wants_history(request):
        return request.context.history(since(request))
    return request.context.current()


@host_nics.get(context=NICs, permission=Permission.READ, query=NICQuery(),
               response_schemas={200: answers.NIC_LIST}, errors=(501,))
def list_nics(request):
    """`{<if>_rx, <if>_tx}`; `?filter=physical` keeps interfaces backed by a device."""
    check_whole_host(request)
    nics = request.context
    if not nics.local:
        raise HTTPNotImplemented(
            "network interface counters exist only when libvirt runs on VirtDancer's machine")
    physical_only = request.validated["filter"] == "physical"
    if wants_history(request):
        return nics.history(physical_only, since(request))
    return nics.counters(physical_only)


@host_nic.get(context=NIC, permission=Permission.READ, query=HistoryQuery(),
              response_schemas={200: answers.NIC})
def show_nic(request):
    """`{rx, tx}` byte counters of one interface."""
    check_whole_host(request)
    if wants_history(request):
        return request.context.history(since(request))
    try:
        return request.context.counters()
    except KeyError:
        # Gone since traversal found it (a VM's tap device, say): as if it never was.
        raise HTTPNotFound(f"no network interface {request.context.__name__}") from None
