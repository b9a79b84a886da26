"""Query-string parameters: read through the Colander schema a view declares (`query=`), and
refused in words when malformed."""

import colander
from pyramid.httpexceptions import HTTPBadRequest


class BadQueryParameter(HTTPBadRequest):
    """A query-string parameter VirtDancer cannot read; the error names it."""

    def __init__(self, name, message):
        super().__init__(message)
        self.error_location = "querystring"
        self.error_name = name


def query_validator(request, query=None, **kwargs):
    """A Cornice validator: the view's `query` schema's parameters, read into
    `request.validated` (the missing ones as their schema's default), or a 400 naming the first
    one that is malformed. Parameters the schema does not name are left alone."""
    if query is None:
        return
    for node in query.children:
        given = request.GET.get(node.name)
        if given is None:
            request.validated[node.name] = node.missing
            continue
        try:
            request.validated[node.name] = node.deserialize(given)
        except colander.Invalid as invalid:
            raise BadQueryParameter(node.name, invalid.asdict()[node.name]) from None
