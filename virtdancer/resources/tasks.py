"""/tasks: the tasks a user may see — their own; an admin's, everyone's — by id.

Never a task of a host or VM the user does not see, an admin's filters included: such a task
does not exist for them (a `KeyError`, 404), as an id nobody has.
"""

from ..permissions import Permission
from ..schemas import well_formed


class TaskCollection:
    """Every task the request's user may see."""

    __name__ = "tasks"

    def __init__(self, parent):
        self.__parent__ = parent
        request = parent.request
        self.runner = request.tasks
        self.sees_vm = parent.sees
        self.sees_host = parent.sees_host
        identity = request.identity
        self.user = getattr(identity, "name", None)
        self.everyone = identity is not None and bool(
            request.has_permission(Permission.ADMIN, parent))

    def __getitem__(self, task_id):
        record = self.runner.get(task_id) if well_formed("task", task_id) else None
        if record is None or not self.sees(record):
            raise KeyError(task_id)
        return Task(self, record)

    def sees(self, record):
        if not self.everyone and (self.user is None or record.user != self.user):
            return False
        return self.sees_host(record.host) and (record.vm_name is None
                                                or self.sees_vm(record.vm_name))

    def records(self, host=None, vm=None, state=None, limit=None):
        """The tasks the user sees that match the filters given, the newest first."""
        found = self.runner.find(user=None if self.everyone else self.user or "",
                                 host=host, vm=vm.lower() if vm else None, state=state)
        seen = [record for record in found if self.sees(record)]
        return seen if limit is None else seen[:limit]


class Task:
    """One task, named in the tree by its id."""

    def __init__(self, parent, record):
        self.__parent__ = parent
        self.__name__ = record.id
        self.record = record
        self.runner = parent.runner

    def cancel(self):
        """Cancel it (`NotCancellable` if it cannot be); its record as it is now."""
        return self.runner.cancel(self.record.id)
