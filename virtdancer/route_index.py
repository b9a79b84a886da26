"""Standalone, a routes mapper that tries only the routes that can match a path's first segment.

Pyramid finds a request's route by trying every route in the order they were added, a regular
expression each: VirtDancer has more than 80, and `/fleet`, which every open page polls, is
among the last. Most patterns begin with a fixed segment (`/vm/...`, `/hosts/...`,
`/fleet`), which a path must begin with too, so the mapper keeps the routes by that segment and
tries only those, and the routes that begin with a placeholder, still in the order they were
added. The route found is always the one Pyramid's own mapper would find.

A host portal keeps its own mapper: `main` includes this, `includeme` does not.
"""

from pyramid.exceptions import URLDecodeError
from pyramid.interfaces import IRoutesMapper
from pyramid.urldispatch import RoutesMapper

# What makes a pattern's segment a placeholder: `{name}`, `*rest`, or an old-style `:name`.
PLACEHOLDER_MARKS = ("{", "*", ":")


def first_segment(path):
    """The text between a path's first slash and its second (`""` for `/`)."""
    return path[1:].partition("/")[0]


def fixed_first_segment(pattern):
    """A pattern's first segment if it is fixed text, else None. Pyramid adds the leading
    slash to a pattern that lacks it."""
    segment = first_segment(pattern if pattern.startswith("/") else "/" + pattern)
    return None if any(mark in segment for mark in PLACEHOLDER_MARKS) else segment


class RoutesByFirstSegment(RoutesMapper):
    """Pyramid's `RoutesMapper`, trying for each path only the routes that could match it."""

    def __init__(self):
        super().__init__()
        self._index = None       # made again at the first request after a route is added

    def connect(self, *args, **kwargs):
        route = super().connect(*args, **kwargs)
        self._index = None
        return route

    def candidates(self, path):
        """The routes that may match `path`, in the order they were added."""
        index = self._index
        if index is None:
            index = self._index = self._make_index()
        by_segment, placeholders = index
        if not path.startswith("/"):
            return self.routelist
        return by_segment.get(first_segment(path), placeholders)

    def _make_index(self):
        firsts = [(route, fixed_first_segment(route.pattern)) for route in self.routelist]
        by_segment = {
            segment: [route for route, first in firsts if first in (segment, None)]
            for segment in {first for _, first in firsts} - {None}}
        placeholders = [route for route, first in firsts if first is None]
        return by_segment, placeholders

    def __call__(self, request):
        try:
            path = request.path_info or "/"
        except KeyError:            # no PATH_INFO at all, as Pyramid's own mapper allows
            path = "/"
        except UnicodeDecodeError as error:
            raise URLDecodeError(error.encoding, error.object, error.start, error.end,
                                 error.reason) from None
        for route in self.candidates(path):
            match = route.match(path)
            if match is None:
                continue
            info = {"match": match, "route": route}
            predicates = route.predicates
            if predicates and not all(predicate(info, request) for predicate in predicates):
                continue
            return info
        return {"route": None, "match": None}


def includeme(config):
    # Before any route is added (add_route asks for the mapper when its action runs); a
    # registry that has a mapper already keeps it.
    if config.registry.queryUtility(IRoutesMapper) is None:
        config.registry.registerUtility(RoutesByFirstSegment(), IRoutesMapper)
