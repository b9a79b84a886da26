"""The hosts: GET /hosts, GET /hosts/<name>, and GET /fleet, every VM of every host at once.

Hosts are asked concurrently. A host that is down (or does not answer in time) is reported as
`unavailable` with its reason, while the others answer as usual: one dead host never turns
these answers into a 503.
"""

from .. import answers
from ..hypervisor import driver_has_displays
from ..openapi.links import Link
from ..permissions import Permission
from ..resources import Host, Hosts, Root
from ..schemas import DetailQuery
from ..shapes import detail_answer, summary_answer
from .etags import unless_unchanged
from .service import VirtDancerService
from .vms import may_operate

hosts = VirtDancerService(name="virtdancer.hosts", pyramid_route="virtdancer.hosts",
                          description="Every host the user sees")
host = VirtDancerService(name="virtdancer.host", pyramid_route="virtdancer.host",
                         description="One host")
fleet = VirtDancerService(name="virtdancer.fleet", pyramid_route="virtdancer.fleet",
                          description="Every VM of every host the user sees")


def host_answer(request, resource, active=None, error=None, every=None):
    """One host as the API shows it; the URI only to admins (it can hold names and paths).

    `active`: for each of its VMs the user sees, whether it runs (None: the host did not say);
    `every`: whether those are all of its VMs (None: the host did not say).
    """
    status = resource.status()
    if error is not None and status["state"] == "connected":
        # Connected, but it did not answer this time (too slow, or it failed the call).
        status = {**status, "state": "unavailable", "reason": error.message}
    answer = {
        "name": resource.name,
        "default": resource.is_default,
        "state": status["state"],
        "reason": status["reason"],
        "since": status["since"],
        "type": status.get("type"),
        "version": status.get("version"),
        "vms": None if active is None else {"running": sum(active), "total": len(active)},
        "displays": driver_has_displays(resource.hypervisor.uri),
        "host_figures": every,
    }
    if request.has_permission(Permission.ADMIN, resource):
        answer["uri"] = resource.hypervisor.uri
    return answer


def ask_hosts(parent, resources, question):
    """`[(Host, answer or None, error or None)]`: `question(host)` of each, all at once."""
    by_name = {resource.name: resource for resource in resources}
    answers = parent.registry.ask_each(list(by_name),
                                     lambda hypervisor: question(by_name[hypervisor.name]))
    return [(resource, *answers[resource.name]) for resource in resources]


def activity_of(resource):
    """(whether each VM the user sees runs, whether those are all of the host's VMs)."""
    seen, every = resource["vm"].summaries_seen()
    return [vm.active for vm in seen], every


def host_answers(request, asked):
    """The host answers of `[(Host, (active, every) or None, error or None)]`."""
    answered = []
    for resource, answer, error in asked:
        active, every = answer if answer is not None else (None, None)
        answered.append(host_answer(request, resource, active, error, every))
    return answered


@hosts.get(context=Hosts, permission=Permission.READ,
           response_schemas={200: answers.HostList()},
           # The first host's own URLs; schemathesis follows them in its stateful phase.
           links={200: (Link.to("get", "virtdancer.host", host="0/name"),
                        Link.to("get", "virtdancer.host.vms", host="0/name"),
                        Link.to("get", "virtdancer.host.pools", host="0/name"),
                        Link.to("get", "virtdancer.host.networks", host="0/name"),
                        Link.to("get", "virtdancer.host.stats.cpu", host="0/name"))})
def list_hosts(request):
    """Every host the user sees, in the settings' order, with its state and VM counts."""
    collection = request.context
    return host_answers(request, ask_hosts(collection, collection.visible(), activity_of))


@host.get(context=Host, permission=Permission.READ,
          response_schemas={200: answers.HostAnswer()})
def show_host(request):
    resource = request.context
    return host_answers(request, ask_hosts(resource.__parent__, [resource], activity_of))[0]


@fleet.get(context=Root, permission=Permission.READ, query=DetailQuery(),
           response_schemas={200: answers.FleetAnswer()}, etag=True)
def list_fleet(request):
    """`{hosts, vms}`: every VM of every host the user sees, each with its `host`."""
    detailed = request.validated["detail"]
    root = request.context
    visible = root.visible_hosts()
    # Permissions in the request's own thread (the security policy may be a host portal's),
    # before the hosts are asked.
    operates = {resource.name: detailed and may_operate(request, resource["vm"])
                for resource in visible}

    def vms_of(resource):
        collection = resource["vm"]
        if detailed:
            seen, every = collection.details_seen()
            listed = [detail_answer(vm, operates[resource.name]) for vm in seen]
        else:
            seen, every = collection.summaries_seen()
            listed = [summary_answer(vm) for vm in seen]
        # Each VM's answer is made in its host's own thread: name its host there too.
        for vm in listed:
            vm["host"] = resource.name
        return listed, every

    answers = ask_hosts(root, visible, vms_of)
    # With an ETag like /vm's: a page polling the whole fleet gets 304s while nothing changes.
    return unless_unchanged(request, {
        "hosts": host_answers(request, [
            (resource, None if answer is None
             else ([vm["active"] for vm in answer[0]], answer[1]), error)
            for resource, answer, error in answers]),
        "vms": [vm for _, answer, _ in answers for vm in (answer[0] if answer else ())]})
