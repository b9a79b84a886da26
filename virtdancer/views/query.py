"""Query-string parameters that VirtDancer's views read, refused in words when malformed."""

from pyramid.httpexceptions import HTTPBadRequest

from .errors import quoted

# Pyramid's asbool spellings, which VirtDancer always took; an empty value (`?detail=`) is no.
_TRUE = frozenset({"1", "t", "true", "y", "yes", "on"})
_FALSE = frozenset({"", "0", "f", "false", "n", "no", "off"})


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
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise BadQueryParameter(name, f"?{name}= is 1 or 0 (true or false), not "
                                  f"{quoted(value)!r}")
