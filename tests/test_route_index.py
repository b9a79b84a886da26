"""The standalone app's routes mapper finds the route Pyramid's own would, trying fewer."""

import re

import pytest
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.urldispatch import RoutesMapper

from virtdancer.route_index import RoutesByFirstSegment, fixed_first_segment

from .conftest import WEB_1


def sample_path(pattern):
    """A path the pattern matches: each placeholder filled with a word."""
    return re.sub(r"\{[^}]*\}|\*\w+", "x1", pattern)


def both_mappers(routes):
    """Pyramid's mapper and VirtDancer's, with the same routes in the same order."""
    plain, indexed = RoutesMapper(), RoutesByFirstSegment()
    for name, pattern in routes:
        plain.connect(name, pattern)
        indexed.connect(name, pattern)
    return plain, indexed


def found(mapper, path):
    route = mapper(Request.blank(path))["route"]
    return None if route is None else route.name


@pytest.fixture
def app_routes(app):
    mapper = app.registry.getUtility(IRoutesMapper)
    assert isinstance(mapper, RoutesByFirstSegment)
    return [(route.name, route.pattern) for route in mapper.get_routes()]


def test_every_route_of_the_app_is_found_as_pyramid_finds_it(app_routes):
    plain, indexed = both_mappers(app_routes)
    paths = {sample_path(pattern) for _, pattern in app_routes}
    paths |= {"/", "//", "/vm/", "/VM", "/vm//x", "/unknown", "/hosts/x1/vm/x1/nope",
              "/static", "/static/", "/api", "/api/", "/openapi.json/x", "/fleet?x=1"}
    assert len(paths) > 80
    for path in sorted(paths):
        assert found(indexed, path) == found(plain, path), path


def test_routes_that_begin_with_a_placeholder_keep_their_place():
    routes = [("first", "/vm/{uuid}"), ("anything", "/{name}/{uuid}"), ("later", "/vm/{a}"),
              ("rest", "*subpath"), ("page", "/"), ("old", "/:who/x"), ("file", "static/x")]
    plain, indexed = both_mappers(routes)
    for path in ("/vm/1", "/ab/1", "/", "/static/x", "/joe/x", "/vm/1/2", "/z"):
        assert found(indexed, path) == found(plain, path), path
    assert found(indexed, "/vm/1") == "first" and found(indexed, "/ab/1") == "anything"
    assert found(indexed, "/z") == "rest" and found(indexed, "/static/x") == "anything"


def test_a_route_added_later_is_found():
    plain, indexed = both_mappers([("a", "/a")])
    assert found(indexed, "/b") is None
    indexed.connect("b", "/b")
    indexed.connect("a", "/a/{x}")        # a name added again replaces its route
    assert found(indexed, "/b") == "b" and found(indexed, "/a") is None
    assert found(indexed, "/a/1") == "a"


@pytest.mark.parametrize("pattern, segment", [
    ("/vm/{uuid}", "vm"), ("vm", "vm"), ("/", ""), ("/openapi.json", "openapi.json"),
    ("/{host}/vm", None), ("*subpath", None), ("/:name", None), ("/vm{n}", None),
])
def test_fixed_first_segment(pattern, segment):
    assert fixed_first_segment(pattern) == segment


def test_a_polled_path_tries_few_routes(app, testapp, monkeypatch):
    mapper = app.registry.getUtility(IRoutesMapper)
    tried = []
    for route in mapper.get_routes():
        monkeypatch.setattr(route, "match",
                            lambda path, _match=route.match, _name=route.name:
                            tried.append(_name) or _match(path))
    testapp.get("/fleet")
    assert tried == ["virtdancer.fleet"], "the route is the only one that begins with fleet"
    tried.clear()
    testapp.get(f"/vm/{WEB_1}")
    assert tried == ["virtdancer.vms", "virtdancer.vm"]
