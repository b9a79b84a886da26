"""The first VirtDancer's API: the fleet, one VM, and lifecycle actions."""

import hashlib
import json

from pyramid.httpexceptions import HTTPNotModified

from ..hypervisor import allowed_actions
from ..permissions import Permission
from ..resources import Domain, VMCollection
from ..schemas import ActionBody
from .bodies import body_validator
from .query import flag
from .service import PerHostService

REVALIDATE = "private, no-cache"

vms = PerHostService("virtdancer.vms", "Every VM of the host")
vm = PerHostService("virtdancer.vm", "One VM")
vm_action = PerHostService("virtdancer.vm.action", "Lifecycle actions on one VM")


def _without_cpu_time(body):
    # Anywhere in the answer: a VM's `info` lies at the top (/vm/<uuid>), in a list (/vm) or in
    # the list of a larger answer (/fleet's `vms`).
    if isinstance(body, list):
        return [_without_cpu_time(item) for item in body]
    if isinstance(body, dict):
        return {key: ({k: v for k, v in value.items() if k != "cpuTime"}
                      if key == "info" and isinstance(value, dict) else _without_cpu_time(value))
                for key, value in body.items()}
    return body


def unless_unchanged(request, body):
    """`body`, or 304 Not Modified when the client's copy is still good.

    The ETag is weak and leaves CPU time out: it grows on every running VM all the time, so
    counting it would make every poll of a UI a full answer although nothing it shows changed.
    """
    canonical = json.dumps(_without_cpu_time(body), sort_keys=True).encode()
    etag = hashlib.sha256(canonical).hexdigest()[:32]
    request.response.etag = (etag, False)
    # Kept by the browser (for this user only), but asked about every time: a 304 then.
    request.response.cache_control = REVALIDATE
    if etag in request.if_none_match:
        raise HTTPNotModified(headers={"ETag": f'W/"{etag}"', "Cache-Control": REVALIDATE})
    return body


def may_operate(request, resource):
    return bool(request.has_permission(Permission.OPERATE, resource))


def with_actions(vm, operates):
    """`vm` (a detail object, or None) with its `actions`: those its state allows if the user
    `operates` it (may run its lifecycle actions), none otherwise."""
    if vm is not None:
        vm["actions"] = allowed_actions(vm["info"]["state"], vm["active"]) if operates else []
    return vm


def details_with_actions(request, collection):
    """Every VM's detail object of `collection` (the VMs of one host), with its `actions`.

    VirtDancer's resources hold their ACL at the root, so the permission is the same for every
    VM of the collection (those the user does not see are not in it): one check, not one per VM.
    """
    operates = may_operate(request, collection)
    return [with_actions(vm, operates) for vm in collection.details()]


@vms.get(context=VMCollection, permission=Permission.READ)
def list_vms(request):
    """`[{uuid, name, active}]`, or with `?detail=1` every VM's full detail."""
    if flag(request, "detail"):
        return unless_unchanged(request, details_with_actions(request, request.context))
    return unless_unchanged(request, request.context.summaries())


@vm.get(context=Domain, permission=Permission.READ)
def show_vm(request):
    """The seed's detail object of one VM, with its `actions`."""
    domain = request.context
    return unless_unchanged(request, with_actions(domain.detail(), may_operate(request, domain)))


@vm_action.post(context=Domain, permission=Permission.OPERATE, schema=ActionBody(),
                validators=(body_validator,))
def run_action(request):
    """Run a lifecycle action and answer with the VM as it is afterwards.

    `vm` is null when the action made the VM vanish (destroying a transient VM).
    """
    domain = request.context
    domain.run(request.validated["action"])
    return {"result": "done", "vm": with_actions(domain.detail(), may_operate(request, domain))}
