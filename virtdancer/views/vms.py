"""The first VirtDancer's API: the fleet, one VM, and lifecycle actions."""

import hashlib
import json

from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.httpexceptions import HTTPNotModified
from pyramid.settings import asbool

from ..permissions import Permission
from ..resources import Domain, VMCollection
from ..schemas import ActionBody

vms = Service(name="virtdancer.vms", pyramid_route="virtdancer.vms",
              description="Every VM of the host")
vm = Service(name="virtdancer.vm", pyramid_route="virtdancer.vm",
             description="One VM")
vm_action = Service(name="virtdancer.vm.action", pyramid_route="virtdancer.vm.action",
                    description="Lifecycle actions on one VM")


def _without_cpu_time(body):
    if isinstance(body, list):
        return [_without_cpu_time(item) for item in body]
    if isinstance(body, dict) and isinstance(body.get("info"), dict):
        return {**body, "info": {k: v for k, v in body["info"].items() if k != "cpuTime"}}
    return body


def unless_unchanged(request, body):
    """`body`, or 304 Not Modified when the client's copy is still good.

    The ETag is weak and leaves CPU time out: it grows on every running VM all the time, so
    counting it would make every poll of a UI a full answer although nothing it shows changed.
    """
    canonical = json.dumps(_without_cpu_time(body), sort_keys=True).encode()
    etag = hashlib.sha256(canonical).hexdigest()[:32]
    request.response.etag = (etag, False)
    request.response.cache_control = "no-cache"
    if etag in request.if_none_match:
        raise HTTPNotModified(headers={"ETag": f'W/"{etag}"', "Cache-Control": "no-cache"})
    return body


@vms.get(context=VMCollection, permission=Permission.READ)
def list_vms(request):
    """`[{uuid, name, active}]`, or with `?detail=1` every VM's full detail."""
    if asbool(request.params.get("detail", "0")):
        return unless_unchanged(request, request.context.details())
    return unless_unchanged(request, request.context.summaries())


@vm.get(context=Domain, permission=Permission.READ)
def show_vm(request):
    """The seed's detail object of one VM."""
    return unless_unchanged(request, request.context.detail())


@vm_action.post(context=Domain, permission=Permission.OPERATE, schema=ActionBody(),
                validators=(colander_body_validator,))
def run_action(request):
    """Run a lifecycle action and answer with the VM as it is afterwards.

    `vm` is null when the action made the VM vanish (destroying a transient VM).
    """
    domain = request.context
    domain.run(request.validated["action"])
    return {"result": "done", "vm": domain.detail()}
