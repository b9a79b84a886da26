"""VirtDancer's Cornice service: validation errors in VirtDancer's one error shape.

Cornice renders a failed validation as `{"status": "error", "errors": [...]}`; VirtDancer's
service adds the `code` and `message` that every other error of VirtDancer's carries, and keeps
what it quotes of the client's input short (a 10 MB field is not echoed back).
"""

import venusian
from cornice import Service

from ..routes import on_a_host
from .errors import error_body, json_response, shortened
from .query import query_validator


class VirtDancerService(Service):
    """A Cornice service whose validation errors look like every other VirtDancer error, and
    whose views read their query parameters through the schema they declare (`query=`)."""

    default_validators = (query_validator,)

    def error_handler(self, request):
        status = request.errors.status or 400
        errors = [{"location": error.get("location"), "name": error.get("name"),
                   "description": _description(error)} for error in request.errors]
        message = errors[0]["description"] if errors else "invalid request"
        return json_response(status, {**error_body(status, message), "errors": errors})


# Fields whose values an error never quotes, not even in part.
SECRET_FIELDS = frozenset({"password"})


def _description(error):
    if error.get("name") in SECRET_FIELDS:
        return f"{error['name']} is missing, empty, too long or not a string"
    return shortened(str(error.get("description", "")))


class PerHostService:
    """An endpoint every host has: one Cornice service at the first VirtDancer's URL (the
    default host's) and one under /hosts/<name>, sharing their views.

    `get`, `post`, ... register a view on both, as a Cornice service's decorators do.
    """

    def __init__(self, name, description):
        self.services = (VirtDancerService(name=name, pyramid_route=name,
                                           description=description),
                         VirtDancerService(name=on_a_host(name), pyramid_route=on_a_host(name),
                                           description=f"{description}, on a host"))

        # Pyramid's scan finds this object in the module that made it (Cornice's own scan
        # would not see the two services inside), and registers both.
        def register(context, name, ob):
            config = context.config.with_package(info.module)
            for service in self.services:
                config.add_cornice_service(service)

        info = venusian.attach(self, register, category="pyramid", depth=1)

    def _both(self, method, **options):
        def register(view):
            for service in self.services:
                getattr(service, method)(**options)(view)
            return view
        return register

    def get(self, **options):
        return self._both("get", **options)

    def post(self, **options):
        return self._both("post", **options)

    def put(self, **options):
        return self._both("put", **options)

    def patch(self, **options):
        return self._both("patch", **options)

    def delete(self, **options):
        return self._both("delete", **options)
