"""Virtual networks of a host: listed by viewers; defined, started, stopped, removed by admins."""

import ipaddress

from .. import answers
from ..hypervisor.networks import nat_network_xml
from ..openapi.links import Link
from ..permissions import Permission, limited_by_filters
from ..resources.networks import Network, NetworkCollection
from ..schemas import NETWORK_NAME, NetworkActionBody, NewNetworkBody
from .bodies import body_validator
from .errors import error_response
from .service import PerHostService
from .xml_bodies import XML, read_xml

networks = PerHostService("virtdancer.networks", "The host's virtual networks")
network = PerHostService("virtdancer.network", "One virtual network")
network_action = PerHostService("virtdancer.network.action", "Start, stop, autostart a network")


def sees_leases(request, resource):
    """Admins whom no filter limits: a lease names a VM's MAC, address and host name, and the
    network's leases are every VM's on it, those the user does not see among them."""
    return (bool(request.has_permission(Permission.ADMIN, resource))
            and not limited_by_filters(request.identity))


@networks.get(context=NetworkCollection, permission=Permission.READ,
              response_schemas={200: answers.NetworkList()})
def list_networks(request):
    """Every network; DHCP leases for admins whom no filter limits."""
    return request.context.all(sees_leases(request, request.context))


def network_body_validator(request, **kwargs):
    """A network's XML as it is (`application/xml`), or the form of `NewNetworkBody`."""
    if request.content_type != XML:
        return body_validator(request, **kwargs)
    read = read_xml(request, "network", NETWORK_NAME, "at most 64 of A-Z a-z 0-9 . _ -")
    if read is not None:
        request.validated = {"xml": read[0], "name": read[1]}


def _bad(name, message):
    return error_response(400, message, location="body", name=name)


@networks.post(context=NetworkCollection, permission=Permission.ADMIN, schema=NewNetworkBody(),
               validators=(network_body_validator,),
               response_schemas={201: answers.NetworkAnswer()},
               errors=(400, 409),
               links={201: (Link.to("get", "virtdancer.network", network="name"),
                            Link.to("post", "virtdancer.network.action", network="name"),
                            Link.to("delete", "virtdancer.network", network="name"))})
def define_network(request):
    """Define a NAT network on a subnet; 201 with its Location."""
    body = request.validated
    if "xml" in body:
        made = request.context.define(body["name"], body["xml"])
        return _made(request, made)
    try:
        subnet = ipaddress.IPv4Network(body["subnet"], strict=True)
    except ValueError as error:
        return _bad("subnet", f"subnet is not an IPv4 network: {error}")
    if not 8 <= subnet.prefixlen <= 30:
        return _bad("subnet", f"the subnet's prefix is {subnet.prefixlen}, not within 8..30")
    gateway = next(subnet.hosts())
    bounds = {}
    for field in ("dhcp_start", "dhcp_end"):
        if body[field] is None:
            continue
        try:
            address = ipaddress.IPv4Address(body[field])
        except ValueError as error:
            return _bad(field, f"{field} is not an IPv4 address: {error}")
        if address not in subnet or address in (subnet.network_address,
                                                subnet.broadcast_address):
            return _bad(field, f"{field} {address} is not a host address of {subnet}")
        if address == gateway:
            return _bad(field, f"{field} {address} is the gateway")
        bounds[field] = address
    if "dhcp_start" in bounds and "dhcp_end" in bounds and \
            bounds["dhcp_start"] > bounds["dhcp_end"]:
        return _bad("dhcp_end", "dhcp_end is before dhcp_start")
    xml = nat_network_xml(body["name"], subnet, bounds.get("dhcp_start"),
                          bounds.get("dhcp_end"))
    made = request.context.define(body["name"], xml, autostart=body["autostart"],
                                  start=body["start"])
    return _made(request, made)


def _made(request, made):
    request.response.status = 201
    route = request.matched_route.name.replace("virtdancer.networks",
                                               "virtdancer.network")
    request.response.location = request.route_url(route, network=made["name"],
                                                  **request.matchdict)
    return made


@network.get(context=Network, permission=Permission.READ,
             response_schemas={200: answers.NetworkAnswer()})
def show_network(request):
    """One network; DHCP leases for admins whom no filter limits."""
    return request.context.describe(sees_leases(request, request.context))


@network.delete(context=Network, permission=Permission.ADMIN,
                response_schemas={200: answers.RemovedNetworkAnswer()}, errors=(409,))
def remove_network(request):
    """Stop and undefine it; 409 while a running VM uses it."""
    seen, running = request.context.running_users()
    if running:
        names = ", ".join(seen) if seen else "VMs you do not see"
        return error_response(409, f"the network {request.context.name} is used by running "
                                   f"VMs: {names}", location="url", name="network")
    request.context.remove()
    return {"result": "removed", "name": request.context.name}


@network_action.post(context=Network, permission=Permission.ADMIN, schema=NetworkActionBody(),
                     validators=(body_validator,), errors=(409,),
                     response_schemas={200: answers.NetworkActionAnswer()})
def run_network_action(request):
    """start, stop, autostart or noautostart; answers the network afterwards."""
    request.context.run(request.validated["action"])
    return {"result": "done", "network": request.context.describe(False)}
