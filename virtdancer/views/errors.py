"""JSON error responses for VirtDancer's own routes.

Every error on a VirtDancer route is JSON in Cornice's shape, extended with a status code and a
message: `{"status": "error", "code": 404, "message": "...", "errors": [...]}`. The views are
scoped to VirtDancer's routes by the `virtdancer_route` predicate, so a portal that mounts
VirtDancer keeps its own error pages. Under a route prefix, a path below it that no route
matches (`/virt/no/such/thing`) is VirtDancer's too: every answer under `/virt` is JSON, every
answer outside it is the host's.
"""

import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPError, HTTPForbidden, HTTPNotFound
from pyramid.interfaces import ISecurityPolicy
from pyramid.response import Response
from pyramid.view import exception_view_config

from ..hypervisor.errors import HostUnavailable, HypervisorError, InvalidState
from ..security.policy import VirtDancerSecurityPolicy
from ..security.throttle import LoginThrottled

REALM = "VirtDancer"

log = logging.getLogger(__name__)

ROUTE_PREFIX = "virtdancer."


def is_virtdancers(request):
    """True when the request matched one of VirtDancer's routes, or no route at all at a path
    under the prefix a host mounted VirtDancer at."""
    route = request.matched_route
    if route is not None:
        return route.name.startswith(ROUTE_PREFIX)
    mount = getattr(request.registry, "virtdancer_mount_path", "")
    path = request.path_info
    return bool(mount) and (path == mount or path.startswith(mount + "/"))


class VirtDancerRoutePredicate:
    """True when the request is VirtDancer's (see `is_virtdancers`)."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"virtdancer_route = {self.value}"

    phash = text

    def __call__(self, context, request):
        return is_virtdancers(request) == self.value


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


def authentication_required(request):
    """401, asking scripts for HTTP Basic credentials when VirtDancer's own policy is in force.

    VirtDancer's own page sends `X-Requested-With: XMLHttpRequest` and gets no Basic challenge,
    which would make the browser pop up its own password dialog over the login form. Under a
    host portal's policy there is no challenge either: Basic credentials would not help, the
    portal's own login does.
    """
    if not isinstance(request.registry.queryUtility(ISecurityPolicy), VirtDancerSecurityPolicy):
        return error_response(401, "authentication required",
                              location="header", name="Authorization")
    headers = {}
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return error_response(401, "authentication required: log in, or send HTTP Basic "
                               "credentials", location="header", name="Authorization",
                          headers=headers)


def throttled(exc):
    return error_response(429, f"too many failed logins; try again in {exc.retry_after} s",
                          location="header", headers={"Retry-After": str(exc.retry_after)})


def anonymous(request):
    """True when a security policy is in force and nobody is authenticated."""
    return (request.registry.queryUtility(ISecurityPolicy) is not None
            and request.authenticated_userid is None)


@exception_view_config(HTTPForbidden, virtdancer_route=True)
def forbidden(exc, request):
    if anonymous(request):
        return authentication_required(request)
    permission = getattr(exc.result, "permission", None)
    who = request.authenticated_userid or "this user"
    message = f"{who} may not do this" + (f" (needs {permission})" if permission else "")
    return error_response(403, message)


@exception_view_config(BadCSRFToken, virtdancer_route=True)
def bad_csrf_token(exc, request):
    return error_response(403, "missing or wrong CSRF token: send the X-CSRF-Token header "
                               "that GET /session gives", location="header",
                          name="X-CSRF-Token")


@exception_view_config(LoginThrottled, virtdancer_route=True)
def login_throttled(exc, request):
    return throttled(exc)


@exception_view_config(HTTPNotFound, virtdancer_route=True)
def not_found(exc, request):
    # Nobody logged in learns nothing, not even which VMs do not exist.
    try:
        if anonymous(request):
            return authentication_required(request)
    except LoginThrottled as exc:
        return throttled(exc)
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
