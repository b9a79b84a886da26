"""JSON error responses for VirtDancer's own routes.

Every error on a VirtDancer route is JSON in Cornice's shape, extended with a status code and a
message: `{"status": "error", "code": 404, "message": "...", "errors": [...]}`. The views are
scoped to VirtDancer's routes by the `virtdancer_route` predicate, so a portal that mounts
VirtDancer keeps its own error pages.
"""

import logging

from pyramid.httpexceptions import HTTPError, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config

from ..hypervisor.errors import HostUnavailable, HypervisorError, InvalidState

log = logging.getLogger(__name__)

ROUTE_PREFIX = "virtdancer."


class VirtDancerRoutePredicate:
    """True when the request matched one of VirtDancer's routes."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"virtdancer_route = {self.value}"

    phash = text

    def __call__(self, context, request):
        route = request.matched_route
        ours = route is not None and route.name.startswith(ROUTE_PREFIX)
        return ours == self.value


def error_response(status, message, *, location="url", name=None, headers=None, **extra):
    """A JSON error response in VirtDancer's one error shape."""
    body = {
        "status": "error",
        "code": status,
        "message": message,
        "errors": [{"location": location, "name": name, "description": message}],
        **extra,
    }
    response = Response(json_body=body, status=status, headers=headers or {})
    response.content_type = "application/json"
    return response


@exception_view_config(HTTPNotFound, virtdancer_route=True)
def not_found(exc, request):
    uuid = request.matchdict.get("uuid") if request.matchdict else None
    if uuid is not None:
        return error_response(404, f"no VM with UUID {uuid}", location="path", name="uuid")
    return error_response(404, f"nothing at {request.path}")


@exception_view_config(HTTPError, virtdancer_route=True)
def http_error(exc, request):
    # Keep the exception's headers that matter to clients (Allow on a 405, for instance).
    headers = {key: value for key, value in exc.headers.items()
               if key.lower() in ("allow", "www-authenticate", "retry-after", "vary")}
    message = exc.detail or exc.explanation or exc.title
    if exc.code == 405 and exc.allow:
        message = f"{request.method} is not allowed on {request.path}; use {', '.join(exc.allow)}"
    return error_response(exc.code, str(message), headers=headers)


@exception_view_config(HypervisorError, virtdancer_route=True)
def hypervisor_error(exc, request):
    return error_response(exc.status, exc.message, location="hypervisor")


@exception_view_config(InvalidState, virtdancer_route=True)
def invalid_state(exc, request):
    return error_response(409, exc.message, location="body", name="action",
                          state=exc.state, state_name=exc.state_name)


@exception_view_config(HostUnavailable, virtdancer_route=True)
def host_unavailable(exc, request):
    return error_response(503, exc.message, location="hypervisor",
                          headers={"Retry-After": str(exc.retry_after)})


@exception_view_config(Exception, virtdancer_route=True)
def unexpected_error(exc, request):
    # A bug in VirtDancer: log it whole for the operator, tell the client only that it happened.
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "VirtDancer hit an unexpected error; the server log has details")
