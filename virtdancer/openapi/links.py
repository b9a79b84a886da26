"""OpenAPI `links`: what an answer's fields lead to, declared on the view that answers them.

A view says `links={201: (Link("get", "virtdancer.vm", uuid="uuid"), ...)}`: its 201 answer's
`uuid` field is the `uuid` path parameter of `GET` on the route `virtdancer.vm`. The document
turns that into the operation's `links` (schemathesis follows them in its stateful phase:
create, then read and delete what was made). A per-host route's links lead to the same host's
routes, its name taken from the request's path.
"""

from typing import NamedTuple

from ..routes import PER_HOST, on_a_host

_PER_HOST_NAMES = frozenset(name for name, _, _ in PER_HOST)


class Link(NamedTuple):
    """`method` on the route `route`, each path parameter taken from a field of the answer."""

    method: str
    route: str
    parameters: dict

    @classmethod
    def to(cls, method, route, **fields):
        """A link whose parameter `name` is the answer's `fields[name]` (a JSON pointer below
        the body: `"uuid"`, or `"0/name"` for the first item of a list), or a runtime
        expression of its own (`"$request.path.pool"`)."""
        return cls(method.lower(), route, fields)

    @property
    def name(self):
        words = self.route[len("virtdancer."):].replace(".", " ").split()
        return self.method.capitalize() + "".join(word.capitalize() for word in words)


def document_links(links, pattern):
    """`{link name: OpenAPI link}` of the answer of a route with this URL pattern."""
    on_host = "{host}" in pattern
    documented = {}
    for link in links:
        route, parameters = link.route, {
            name: field if field.startswith("$") else f"$response.body#/{field}"
            for name, field in link.parameters.items()}
        if on_host and route in _PER_HOST_NAMES:
            route = on_a_host(route)
            parameters = {"host": "$request.path.host", **parameters}
        documented[link.name] = {"operationId": f"{link.method}:{route}",
                                 "parameters": parameters}
    return documented


def drop_dangling(paths):
    """Remove links to operations the document lacks (a host portal without VirtDancer's
    security has no /tokens)."""
    operations = {operation["operationId"] for item in paths.values()
                  for operation in item.values()}
    for item in paths.values():
        for operation in item.values():
            for response in operation["responses"].values():
                links = response.get("links")
                if links is None:
                    continue
                for name in [name for name, link in links.items()
                             if link["operationId"] not in operations]:
                    del links[name]
                if not links:
                    del response["links"]
