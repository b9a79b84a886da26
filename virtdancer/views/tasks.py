"""Tasks: GET /tasks lists them, GET /tasks/<id> follows one, DELETE /tasks/<id> cancels it;
and `accept`, with which a view runs an operation as a task and answers `202 Accepted`."""

from .. import answers
from ..permissions import Permission
from ..resources.tasks import Task, TaskCollection
from ..schemas import TaskQuery
from .service import VirtDancerService as Service

tasks = Service(name="virtdancer.tasks", pyramid_route="virtdancer.tasks",
                description="The user's tasks (an admin's: everyone's they may see)")
task = Service(name="virtdancer.task", pyramid_route="virtdancer.task",
               description="One task: follow it, or cancel it")


def accept(request, type, work, host, vm=None, changes_vm=True, canceller=None, holds=()):
    """Run `work(context)` as a task of `host` on `vm` (a resource with `uuid` and `name`, or
    None) and answer `202 Accepted` with its Location and body. `canceller`, `holds`: see
    `TaskRunner.submit`.

    The task's id is left on the request as `request.virtdancer_task_id`, for the audit trail.
    """
    user = getattr(request.identity, "name", None)
    record = request.tasks.submit(type, host, work, vm=(vm.uuid, vm.name) if vm else None,
                                  user=user, changes_vm=changes_vm, canceller=canceller,
                                  holds=holds)
    request.virtdancer_task_id = record.id
    request.response.status = 202
    request.response.location = request.route_url("virtdancer.task", task=record.id)
    return record.answer()


@tasks.get(context=TaskCollection, permission=Permission.READ, query=TaskQuery(),
           response_schemas={200: answers.TaskList()})
def list_tasks(request):
    """The tasks the user sees, the newest first, filtered by host, VM and state."""
    wanted = request.validated
    return [record.answer() for record in request.context.records(
        host=wanted["host"], vm=wanted["vm"], state=wanted["state"], limit=wanted["limit"])]


@task.get(context=Task, permission=Permission.READ,
          response_schemas={200: answers.TaskAnswer()})
def show_task(request):
    """One task as it is now."""
    return request.context.record.answer()


@task.delete(context=Task, permission=Permission.OPERATE,
             response_schemas={200: answers.TaskAnswer()}, errors=(409,))
def cancel_task(request):
    """Cancel it: a queued task at once, a running one where libvirt can abort its job (the
    answer then says `running` until it has stopped); 409 when it cannot be cancelled."""
    return request.context.cancel().answer()
