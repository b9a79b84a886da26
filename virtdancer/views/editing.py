"""Editing VMs: their settings (PATCH), their domain XML (GET and PUT .../xml), and clones."""

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import Response

from .. import answers
from ..hypervisor import xml_version
from ..hypervisor.storage import VolumesInUse
from ..permissions import Permission
from ..resources import Domain
from ..schemas import VM_NAME, CloneBody, EditVMBody
from ..shapes import detail_answer
from .bodies import body_validator
from .pools import in_use_refusal
from .service import PerHostService
from .tasks import accept
from .vms import may_operate, vm
from .xml_bodies import XML, read_xml, refuse_domain_xml_to_limited_users

XML_CONTENT = {XML: {"schema": {"type": "string", "minLength": 1,
                                "description": "a libvirt domain XML, without a DOCTYPE"}}}
IF_MATCH = [{"name": "If-Match", "in": "header", "required": True,
             "schema": {"type": "string"},
             "description": "the ETag of the XML the edit starts from (GET .../xml), or *: "
                            "428 without it, 412 when the VM's definition changed since"}]

vm_xml = PerHostService("virtdancer.vm.xml", "One VM's domain XML")
vm_clone = PerHostService("virtdancer.vm.clone", "Copy a shut-off VM")


@vm.patch(context=Domain, permission=Permission.ADMIN, schema=EditVMBody(),
          validators=(body_validator,), response_schemas={200: answers.EditedVMAnswer()},
          errors=(400, 409))
def edit_vm(request):
    """Change vCPUs, memory, maximum memory, autostart, description or boot order."""
    domain = request.context
    next_boot = domain.update(request.validated)
    return {**detail_answer(domain.detail(), may_operate(request, domain)),
            "next_boot": next_boot}


def read_domain_xml(request):
    """The body as a domain's XML: `(text, name)`, or None with the error noted."""
    return read_xml(request, "domain", VM_NAME,
                    "at most 64 of A-Z a-z 0-9 . _ -, not starting with . or -")


def replacement_validator(request, **kwargs):
    """PUT .../xml: an If-Match first (428 without it), then the domain's XML."""
    if "If-Match" not in request.headers:
        request.errors.add("header", "If-Match", "a replacement needs If-Match: the ETag of "
                           "the XML it edits (GET .../xml), so that it never overwrites a "
                           "change it did not see")
        request.errors.status = 428
        return
    read = read_domain_xml(request)
    if read is not None:
        # `*` is any version; webob keeps only the strong ETags of an If-Match.
        matcher = request.if_match
        versions = None if request.headers["If-Match"].strip() == "*" else set(
            getattr(matcher, "etags", ()))
        request.validated = {"xml": read[0], "versions": versions}


def _xml_answer(request, xml):
    return Response(body=xml.encode("utf-8"), content_type=XML, charset="utf-8",
                    etag=(xml_version(xml), True), cache_control="private, no-cache")


@vm_xml.get(context=Domain, permission=Permission.READ,
            response_content={200: XML_CONTENT})
def show_vm_xml(request):
    """The VM's domain XML (its definition; no secrets), with a strong ETag."""
    return _xml_answer(request, request.context.definition())


@vm_xml.put(context=Domain, permission=Permission.ADMIN, validators=(replacement_validator,),
            request_content=XML_CONTENT, request_headers=IF_MATCH,
            response_schemas={200: answers.VMDetail()}, errors=(400, 403, 409, 412, 428))
def replace_vm_xml(request):
    """Replace the VM's definition (its name and UUID stay); its detail, and the new ETag."""
    refuse_domain_xml_to_limited_users(request)
    domain = request.context
    try:
        domain.redefine(request.validated["xml"], request.validated["versions"])
    except VolumesInUse as error:
        return in_use_refusal(error, domain.sees)
    request.response.etag = (xml_version(domain.definition()), True)
    return detail_answer(domain.detail(), may_operate(request, domain))


@vm_clone.post(context=Domain, permission=Permission.ADMIN, schema=CloneBody(),
               validators=(body_validator,), response_schemas={202: answers.TaskAnswer()},
               errors=(400, 403, 409))
def clone_vm(request):
    """A copy of a shut-off VM (new UUID and MACs, each disk volume copied in its pool) as a
    task (type `clone`), whose result is the copy's detail and its `url`."""
    name = request.validated["name"]
    original = request.context
    if not original.__parent__.sees(name):
        raise HTTPForbidden(f"your account may not make a VM named {name!r}")
    # Refused now, not as a failed task: a running VM, names taken, pools without room.
    original.check_clone(name)
    operates = may_operate(request, original)    # the same for every VM of the host
    route = request.matched_route.name[:-len(".clone")]     # virtdancer[.host].vm

    def work(task):
        copy = original.clone(name)
        # route_url reads only the request's registry and address: safe in the task's thread.
        url = request.route_url(route, **{**request.matchdict, "uuid": copy.uuid})
        return {**detail_answer(copy.detail(), operates), "url": url}

    # A task on the original: no other task changes it while its disks are copied.
    return accept(request, "clone", work, original.host.name, original)
