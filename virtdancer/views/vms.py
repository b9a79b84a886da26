"""The first VirtDancer's API: the fleet, one VM, and lifecycle actions."""

from cornice import Service
from cornice.validators import colander_body_validator
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


@vms.get(context=VMCollection, permission=Permission.READ)
def list_vms(request):
    """`[{uuid, name, active}]`, or with `?detail=1` every VM's full detail."""
    if asbool(request.params.get("detail", "0")):
        return request.context.details()
    return request.context.summaries()


@vm.get(context=Domain, permission=Permission.READ)
def show_vm(request):
    """The seed's detail object of one VM."""
    return request.context.detail()


@vm_action.post(context=Domain, permission=Permission.OPERATE, schema=ActionBody(),
                validators=(colander_body_validator,))
def run_action(request):
    """Run a lifecycle action and answer with the VM as it is afterwards.

    `vm` is null when the action made the VM vanish (destroying a transient VM).
    """
    domain = request.context
    domain.run(request.validated["action"])
    return {"result": "done", "vm": domain.detail()}
