"""Snapshots of a VM: the tree, taking one and reverting to one (each a task, 202), deleting.

Refusals come before a task is made, in words: a VM without disks or with a raw disk, memory
asked of a shut-off VM, a running VM's snapshot without its memory, a name taken (409 each).
"""

from .. import answers
from ..permissions import Permission
from ..resources.snapshots import Snapshot, SnapshotCollection
from ..schemas import DeleteSnapshotQuery, NewSnapshotBody, RevertBody
from .bodies import body_validator
from .service import PerHostService
from .tasks import accept

snapshots = PerHostService("virtdancer.vm.snapshots", "The snapshots of one VM")
snapshot = PerHostService("virtdancer.vm.snapshot", "One snapshot of a VM")
revert = PerHostService("virtdancer.vm.snapshot.revert", "Bring a VM back to a snapshot")


def job_of(collection, task):
    """Let the task follow (and abort, where libvirt can) the VM's libvirt job."""
    jobs = collection.domain.host.hypervisor.jobs
    uuid = collection.domain.uuid
    task.watch(lambda: jobs.progress(uuid))
    task.cancel_with(lambda: jobs.abort(uuid))


@snapshots.get(context=SnapshotCollection, permission=Permission.READ,
               response_schemas={200: answers.SnapshotList()})
def list_snapshots(request):
    """The VM's snapshots, parents before their children."""
    return request.context.tree()


@snapshots.post(context=SnapshotCollection, permission=Permission.OPERATE,
                schema=NewSnapshotBody(), validators=(body_validator,),
                response_schemas={202: answers.TaskAnswer()}, errors=(400, 409))
def take_snapshot(request):
    """202: a task (type `snapshot`) whose result is the snapshot taken."""
    collection = request.context
    body = request.validated
    collection.check_new(body["name"], body["memory"])

    def work(task):
        job_of(collection, task)
        return collection.create(body["name"], body["description"], body["memory"])

    domain = collection.domain
    return accept(request, "snapshot", work, domain.host.name, domain)


@revert.post(context=Snapshot, permission=Permission.OPERATE, schema=RevertBody(),
             validators=(body_validator,), response_schemas={202: answers.TaskAnswer()},
             errors=(400, 409))
def revert_to_snapshot(request):
    """202: a task (type `revert`) whose result is `{snapshot, state}`: the VM's state after.

    It discards the VM's present state: disks, and memory if it runs.
    """
    chosen = request.context
    start = request.validated["start"]

    def work(task):
        job_of(chosen.__parent__, task)
        return chosen.revert(start)

    domain = chosen.domain
    return accept(request, "revert", work, domain.host.name, domain)


@snapshot.get(context=Snapshot, permission=Permission.READ,
              response_schemas={200: answers.SnapshotAnswer()})
def show_snapshot(request):
    return request.context.found


@snapshot.delete(context=Snapshot, permission=Permission.OPERATE, query=DeleteSnapshotQuery(),
                 response_schemas={200: answers.DeletedSnapshotsAnswer()}, errors=(409,))
def delete_snapshot(request):
    """Delete it; `?children=1` its descendants too (else they hang under its parent)."""
    return {"result": "deleted", "removed": request.context.delete(
        request.validated["children"])}
