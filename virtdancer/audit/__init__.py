"""The audit trail: one record per request that changes something, per login (failed ones
too) and per users-file reload; in the state store, on the logger `virtdancer.audit`, and at
`GET /audit` (views/audit.py).

    trail       the records: writing (stored, logged, published), pruning, searching
    recorder    a record from a request and its response (a NewResponse subscriber)
    events      records about a VM as "audit" events on the live event hub
"""

from pyramid.events import NewResponse

from ..interfaces import IAuditTrail, IEventHub, IStateStore
from ..settings import value
from .events import publisher
from .trail import AuditTrail

__all__ = ["AUDIT_TASK", "AUDIT_USER", "AuditTrail", "includeme"]

# What a view may tell the recorder in the WSGI environ (see recorder.py): who made the
# request when its identity cannot say any more (a logout), and the id of the task it started.
AUDIT_USER = "virtdancer.audit.user"
AUDIT_TASK = "virtdancer.audit.task"

DAY = 86400.0


def includeme(config):
    """Register the trail once, over the state store, and record the responses of writes."""
    if config.registry.queryUtility(IAuditTrail) is not None:
        return
    settings = config.get_settings()
    if not value(settings, "virtdancer.audit.enabled"):
        return
    config.include("virtdancer.state")
    trail = AuditTrail(config.registry.getUtility(IStateStore),
                       retention=value(settings, "virtdancer.audit.retention_days") * DAY)
    trail.prune()
    config.registry.registerUtility(trail, IAuditTrail)
    # By name: the recorder reads the resources, which read this package.
    config.add_subscriber("virtdancer.audit.recorder.record_response", NewResponse)
    # Once everything is included, the live event hub is there, if it is.
    config.action(None, publish_on_the_hub, args=(config.registry, trail))


def publish_on_the_hub(registry, trail):
    hub = registry.queryUtility(IEventHub)
    if hub is not None:
        trail.listeners.append(publisher(hub))
