"""Creating and deleting VMs, and what a new VM may be on a host (`/capabilities`)."""

from pyramid.httpexceptions import HTTPForbidden

from .. import answers
from ..hypervisor.storage import VolumesInUse
from ..openapi.links import Link
from ..permissions import Permission
from ..resources import Capabilities, Domain, VMCollection
from ..schemas import DeleteQuery, NewVMBody
from ..shapes import detail_answer
from .bodies import body_validator
from .editing import XML, XML_CONTENT, read_domain_xml
from .pools import in_use_refusal
from .service import PerHostService
from .vms import vm, vms
from .xml_bodies import refuse_domain_xml_to_limited_users

capabilities = PerHostService("virtdancer.capabilities", "What a new VM may be on the host")


@capabilities.get(context=Capabilities, permission=Permission.READ,
                  response_schemas={200: answers.CapabilitiesAnswer()})
def show_capabilities(request):
    """Arch, domain types, machines, limits, firmware, buses and NIC models: a form's defaults."""
    return request.context.describe()


def new_vm_validator(request, **kwargs):
    """The form of `NewVMBody` as JSON, or the domain's XML itself (`application/xml`)."""
    if request.content_type != XML:
        return body_validator(request, **kwargs)
    read = read_domain_xml(request)
    if read is not None:
        request.validated = {"xml": read[0], "name": read[1]}


@vms.post(context=VMCollection, permission=Permission.ADMIN, schema=NewVMBody(),
          validators=(new_vm_validator,), request_content=XML_CONTENT,
          response_schemas={201: answers.VMDetail()}, errors=(400, 403, 409),
          links={201: (Link.to("get", "virtdancer.vm", uuid="uuid"),
                       Link.to("post", "virtdancer.vm.action", uuid="uuid"),
                       Link.to("post", "virtdancer.vm.console", uuid="uuid"),
                       Link.to("delete", "virtdancer.vm", uuid="uuid"))})
def create_vm(request):
    """Make a VM (its new volumes first), or define it from its XML; 201 with its Location
    and detail."""
    collection = request.context
    spec = request.validated
    if not collection.sees(spec["name"]):
        # A tenant admin makes only VMs their own filters let them see.
        raise HTTPForbidden(f"your account may not make a VM named {spec['name']!r}")
    if "xml" in spec:
        refuse_domain_xml_to_limited_users(request)
    try:
        domain = collection.define(spec["xml"]) if "xml" in spec else collection.create(spec)
    except VolumesInUse as error:
        return in_use_refusal(error, collection.sees)
    route = request.matched_route.name[:-1]      # virtdancer[.host].vms → …vm
    request.response.status = 201
    request.response.location = request.route_url(route, **{**request.matchdict,
                                                            "uuid": domain.uuid})
    return detail_answer(domain.detail(), True)


@vm.delete(context=Domain, permission=Permission.ADMIN, query=DeleteQuery(),
           response_schemas={200: answers.DeletedVMAnswer()}, errors=(409,))
def delete_vm(request):
    """Undefine the VM; `?force=1` destroys a running one, `?volumes=remove` its disks."""
    outcome = request.context.delete(force=request.validated["force"],
                                     remove_volumes=request.validated["volumes"] == "remove")
    return {"result": "deleted", **outcome}
