"""Moving a VM to another host of the registry (`POST /vm/<uuid>/migrate`), as a task."""

from .. import answers
from ..permissions import Permission
from ..resources import Domain
from ..schemas import MigrateBody
from .bodies import body_validator
from .errors import error_response
from .service import PerHostService
from .tasks import accept

vm_migrate = PerHostService("virtdancer.vm.migrate", "Move a VM to another host")


@vm_migrate.post(context=Domain, permission=Permission.ADMIN, schema=MigrateBody(),
                 validators=(body_validator,), response_schemas={202: answers.TaskAnswer()},
                 errors=(400, 409, 503))
def migrate_vm(request):
    """Move the VM to another host with libvirt's peer-to-peer migration: 202 with a task,
    whose result says where the VM is now (its UUID stays, its URL is the new host's)."""
    domain = request.context
    spec = request.validated
    try:
        destination = domain.destination(spec["host"])
    except KeyError:
        return error_response(400, f"no host named {spec['host']!r}; the VM can move to: "
                                   f"{', '.join(domain.other_hosts()) or 'no other host'}",
                              location="body", name="host")
    if destination.name == domain.host.name:
        return error_response(400, f"{domain.name} is on {destination.name} already",
                              location="body", name="host")
    # Refused now, not as a failed task: the state, a destination away, one host by two names.
    domain.check_migration(destination, spec["live"], spec["offline"])
    where = {"host": destination.name, "uuid": domain.uuid,
             "url": request.route_url("virtdancer.host.vm", host=destination.name,
                                      uuid=domain.uuid)}

    def work(task):
        domain.migrate(destination, spec["live"], spec["offline"], progress=task.progress)
        return where

    # Cancelling aborts libvirt's job: the VM stays where it was, as it was.
    return accept(request, "migrate", work, domain.host.name, domain,
                  canceller=domain.abort_migration)
