"""/tokens: the API tokens a user may see — their own; an admin's, everyone's — by id.

Like a VM outside a user's filters, a token the user may not see does not exist for them: a
`KeyError` (404), the same as an id nobody has. Permissions come from `Root.__acl__` above.
"""

from ..interfaces import IApiTokens
from ..permissions import Permission
from ..schemas import well_formed


class TokenCollection:
    """Every token the request's user may see."""

    __name__ = "tokens"

    def __init__(self, parent):
        self.__parent__ = parent
        request = parent.request
        self.service = request.registry.queryUtility(IApiTokens)
        if self.service is None:     # a host portal's own security: no tokens of ours
            raise KeyError("tokens")
        identity = request.identity
        self.owner = getattr(identity, "name", None)
        self.everyone = identity is not None and request.has_permission(Permission.ADMIN,
                                                                        parent)

    def __getitem__(self, token_id):
        record = self.service.record(token_id) if well_formed("id", token_id) else None
        if record is None or not self.sees(record):
            raise KeyError(token_id)
        return Token(self, record)

    def sees(self, record):
        return self.everyone or (self.owner is not None and record.owner == self.owner)

    def records(self):
        return self.service.records(None if self.everyone else self.owner or "")


class Token:
    """One API token, named in the tree by its id."""

    def __init__(self, parent, record):
        self.__parent__ = parent
        self.__name__ = record.id
        self.record = record
        self.service = parent.service

    def revoke(self):
        self.service.revoke(self.record.id)
