"""Tasks: operations that outlast a request, answered `202 Accepted` with a record to follow.

- `records`  the tasks table of the state store (virtdancer/state.py)
- `runner`   the bounded pools per host that run them, one changing task per VM

`includeme` registers the runner (`ITasks`, `request.tasks`) and, once the hosts are started,
fails the tasks a stopped process left unfinished. `virtdancer.close` stops it.

A view runs an operation as a task with `views/tasks.py`'s `accept(request, type, work, vm)`.
"""

from ..interfaces import IEventHub, IHostRegistry, IStateStore, ITasks
from ..settings import value
from .records import TaskRecords
from .runner import NotCancellable, TaskCancelled, TaskConflict, TaskRunner  # noqa: F401

# After the hosts' connections start (hypervisor.START_ORDER): recovery asks them about VMs.
RECOVER_ORDER = 1001


def event_publisher(registry):
    """A `publish(record)` that sends a "task" event, the task's body under `task`, through
    the event hub (which only the task's user and admins who see its VM receive)."""
    def publish(record):
        hub = registry.queryUtility(IEventHub)
        if hub is not None:
            body = record.answer()
            hub.publish("task", record.host, vm=body["vm"], task=body)

    return publish


def recover(registry):
    """Fail what a stopped process left running, and forget records past their days."""
    runner = registry.getUtility(ITasks)
    hosts = registry.getUtility(IHostRegistry)

    def describe_vm(host, uuid):
        hypervisor = hosts.get(host)
        if hypervisor is None:
            return f"its host {host} is no longer one of VirtDancer's"
        return hypervisor.jobs.state_words(uuid)

    runner.recover(describe_vm, keep_days=runner.keep_days)


def includeme(config):
    registry = config.registry
    if registry.queryUtility(ITasks) is None:
        settings = config.get_settings()
        runner = TaskRunner(TaskRecords(registry.getUtility(IStateStore)),
                            per_host=value(settings, "virtdancer.tasks.per_host"),
                            publish=event_publisher(registry))
        runner.keep_days = value(settings, "virtdancer.tasks.keep_days")
        registry.registerUtility(runner, ITasks)
        config.action(None, recover, args=(registry,), order=RECOVER_ORDER)
    config.add_request_method(lambda request: request.registry.getUtility(ITasks), "tasks",
                              reify=True)
