"""The first VirtDancer's API: the fleet, one VM, and lifecycle actions."""

from .. import answers
from ..permissions import Permission
from ..resources import Domain, VMCollection
from ..schemas import ActionBody, ActionQuery, DetailQuery
from ..shapes import detail_answer, summary_answer
from .bodies import body_validator
from .errors import error_response
from .etags import unless_unchanged
from .service import PerHostService
from .tasks import accept

vms = PerHostService("virtdancer.vms", "Every VM of the host")
vm = PerHostService("virtdancer.vm", "One VM")
vm_action = PerHostService("virtdancer.vm.action", "Lifecycle actions on one VM")


def may_operate(request, resource):
    """Whether the user may run lifecycle actions on the VMs of `resource`.

    VirtDancer's resources hold their ACL at the root, so the answer is the same for every VM
    of a host (those the user does not see are not in it): one check, not one per VM.
    """
    return bool(request.has_permission(Permission.OPERATE, resource))


@vms.get(context=VMCollection, permission=Permission.READ, query=DetailQuery(),
          response_schemas={200: answers.VMList()}, etag=True)
def list_vms(request):
    """`[{uuid, name, active}]`, or with `?detail=1` every VM's full detail."""
    collection = request.context
    if request.validated["detail"]:
        operates = may_operate(request, collection)
        return unless_unchanged(request, [detail_answer(vm, operates)
                                          for vm in collection.details()])
    return unless_unchanged(request, [summary_answer(vm) for vm in collection.summaries()])


@vm.get(context=Domain, permission=Permission.READ,
        response_schemas={200: answers.VMFullDetail()}, etag=True)
def show_vm(request):
    """The seed's detail object of one VM, with its `actions` and its devices (disks,
    CD-ROMs, NICs with the guest's addresses, graphics)."""
    domain = request.context
    return unless_unchanged(request, {**detail_answer(domain.detail(),
                                                      may_operate(request, domain)),
                                      **domain.devices()})


@vm_action.post(context=Domain, permission=Permission.OPERATE, schema=ActionBody(),
                validators=(body_validator,), query=ActionQuery(),
                response_schemas={200: answers.ActionAnswer(), 202: answers.TaskAnswer()},
                errors=(400, 409))
def run_action(request):
    """Run a lifecycle action and answer with the VM as it is afterwards.

    `vm` is null when the action made the VM vanish (destroying a transient VM). A shutdown
    with `?wait=<seconds>` is a task instead (202): it fails if the VM still runs by then.
    """
    domain = request.context
    wait = request.validated["wait"]
    if wait is not None:
        if request.validated["action"] != "shutdown":
            return error_response(400, "wait= goes with the action shutdown only",
                                  location="querystring", name="wait")
        domain.check_running("shutdown")
        # Cancelling stops the wait (`task.wait` raises); the guest may still shut down.
        return accept(request, "shutdown",
                      lambda task: domain.shutdown_and_wait(wait, task.wait),
                      domain.host.name, domain, canceller=lambda: None)
    domain.run(request.validated["action"])
    after = domain.detail()
    return {"result": "done",
            "vm": None if after is None else detail_answer(after, may_operate(request, domain))}
