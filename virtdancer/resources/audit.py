"""/audit: the audit records the request's user may read.

Permissions come from `Root.__acl__` above (reading the trail is an admin's); which records
an admin limited by users-file filters reads is `audit.trail.visibility`'s business.
"""

from ..audit.trail import visibility
from ..interfaces import IAuditTrail


class AuditLog:
    """The audit trail, as the request's user sees it."""

    __name__ = "audit"

    def __init__(self, parent):
        self.__parent__ = parent
        request = parent.request
        self.trail = request.registry.queryUtility(IAuditTrail)
        if self.trail is None:      # virtdancer.audit.enabled = false
            raise KeyError("audit")
        self.identity = request.identity

    def records(self, **filters):
        """The records matching `filters` (see `AuditTrail.search`) that the user may read."""
        return self.trail.search(visible=visibility(self.identity), **filters)
