"""Query-string parameters that VirtDancer's views read, refused in words when malformed."""

from pyramid.httpexceptions import HTTPBadRequest

from ..settings import NO, YES
from .errors import quoted


class BadQueryParameter(HTTPBadRequest):
    """A query-string parameter VirtDancer cannot read; the error names it."""

    def __init__(self, name, message):
        super().__init__(message)
        self.error_location = "querystring"
        self.error_name = name


def flag(request, name):
    """The yes/no parameter `name` (`?detail=1`), False when absent; 400 when it is neither."""
    value = request.GET.get(name)
    if value is None:
        return False
    spelt = value.strip().lower()
    if spelt in YES:
        return True
    if spelt in NO or not spelt:      # an empty value (`?detail=`) is no
        return False
    raise BadQueryParameter(name, f"?{name}= is 1 or 0 (true or false), not "
                                  f"{quoted(value)!r}")
