"""JSON error responses for VirtDancer's own routes.

Every error on a VirtDancer route is JSON in Cornice's shape, extended with a status code and a
message: `{"status": "error", "code": 404, "message": "...", "errors": [...]}`. The views are
scoped to VirtDancer's routes by the `virtdancer_route` predicate, so a portal that mounts
VirtDancer keeps its own error pages. Under a route prefix, a path below it that no route
matches (`/virt/no/such/thing`) is VirtDancer's too: every answer under `/virt` is JSON, every
answer outside it is the host's.
"""

import logging

from pyramid.exceptions import BadCSRFToken, URLDecodeError
from pyramid.httpexceptions import HTTPError, HTTPForbidden, HTTPNotFound
from pyramid.interfaces import ISecurityPolicy
from pyramid.response import Response
from pyramid.view import exception_view_config

from ..hypervisor.errors import (
    DefinitionChanged,
    HostUnavailable,
    HypervisorError,
    InvalidRequest,
    InvalidState,
    NoSuchDomain,
    NoSuchStorage,
    Refused,
    Unsupported,
)
from ..security.policy import CredentialsRefused, VirtDancerSecurityPolicy
from ..security.throttle import LoginThrottled
from ..security.tokens import TOKEN_REFUSAL

REALM = "VirtDancer"

log = logging.getLogger(__name__)

ROUTE_PREFIX = "virtdancer."

# VirtDancer's routes that anybody may use: the page, its files, and logging in. Every other
# route of VirtDancer's answers 401 to an anonymous request, whatever it asks, so that nobody
# learns anything (which VMs exist, which methods a URL has) before logging in.
PUBLIC_ROUTES = frozenset({
    "virtdancer.ui", "virtdancer.ui.slash", "virtdancer.static", "virtdancer.console_page",
    "virtdancer.novnc", "virtdancer.login", "virtdancer.logout", "virtdancer.session",
    "virtdancer.openapi", "virtdancer.api_page", "virtdancer.api_page.bare",
})

# How much of what a client sent an error message quotes.
QUOTE_LIMIT = 100


def quoted(text, limit=QUOTE_LIMIT):
    """`text` cut to `limit` characters (an ellipsis says so), for quoting a client's input."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def shortened(description, head=60, tail=80):
    """A message that may quote a client's input (Colander's do), cut in the middle.

    Colander quotes the value first and explains after, so the start and the end are kept:
    what is left of the client's input stays within about `QUOTE_LIMIT` characters.
    """
    if len(description) <= head + tail + 3:
        return description
    return description[:head] + " … " + description[-tail:]


def raw_path(request):
    """The request's path as the WSGI server gave it: never fails, even when it is not UTF-8."""
    return request.environ.get("PATH_INFO", "")


def is_virtdancers(request):
    """True when the request matched one of VirtDancer's routes, or no route at all at a path
    under the prefix a host mounted VirtDancer at (standalone: at any path)."""
    route = request.matched_route
    if route is not None:
        return route.name.startswith(ROUTE_PREFIX)
    if getattr(request.registry, "virtdancer_owns_every_path", False):
        return True
    mount = getattr(request.registry, "virtdancer_mount_path", "")
    # Compared as the server gave it, which is enough for an ASCII prefix and cannot fail.
    path = raw_path(request)
    return bool(mount) and (path == mount or path.startswith(mount + "/"))


def needs_login(request):
    """True on VirtDancer's routes that are not public (the API, not the page)."""
    route = request.matched_route
    return route is not None and route.name.startswith(ROUTE_PREFIX) \
        and route.name not in PUBLIC_ROUTES


class VirtDancerRoutePredicate:
    """True when the request is VirtDancer's (see `is_virtdancers`)."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"virtdancer_route = {self.value}"

    phash = text

    def __call__(self, context, request):
        return is_virtdancers(request) == self.value


def error_body(status, message, *, location="url", name=None, **extra):
    """VirtDancer's one error shape, as a dict."""
    return {
        "status": "error",
        "code": status,
        "message": message,
        "errors": [{"location": location, "name": name, "description": message}],
        **extra,
    }


def json_response(status, body, headers=None):
    response = Response(json_body=body, status=status, headers=headers or {})
    response.content_type = "application/json"
    return response


def error_response(status, message, *, location="url", name=None, headers=None, **extra):
    """A JSON error response in VirtDancer's one error shape."""
    return json_response(status, error_body(status, message, location=location, name=name,
                                            **extra), headers)


def is_navigation(request):
    """True when a browser asks for a page (the address bar, a link), not a script or the UI."""
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        return True
    return "text/html" in request.headers.get("Accept", "")


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
    refusal = request.environ.get(TOKEN_REFUSAL)
    if refusal is not None:
        return token_refused(refusal)
    if is_navigation(request):
        # A browser that answered a Basic prompt once would send those credentials with every
        # other site's forms: browsers are sent to the page's login form instead.
        page = request.route_url("virtdancer.ui")
        return error_response(303, f"authentication required: log in at {page}",
                              location="header", name="Authorization",
                              headers={"Location": page})
    headers = {}
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return error_response(401, "authentication required: log in, or send HTTP Basic "
                               "credentials", location="header", name="Authorization",
                          headers=headers)


def token_refused(refusal):
    """401 (or 429) for a Bearer token refused; the answer never quotes the token."""
    if refusal.status == 429:
        return error_response(429, refusal.message, location="header", name="Authorization",
                              headers={"Retry-After": str(refusal.retry_after)})
    # RFC 6750's challenge: the client sent a token, and it is no good.
    challenge = f'Bearer realm="{REALM}", error="invalid_token"'
    return error_response(401, refusal.message, location="header", name="Authorization",
                          headers={"WWW-Authenticate": challenge})


def throttled(exc):
    return error_response(429, f"too many failed logins; try again in {exc.retry_after} s",
                          location="header", headers={"Retry-After": str(exc.retry_after)})


def credentials_refused(exc):
    return error_response(400, exc.message, location="header", name="Authorization")


def anonymous(request):
    """True when a security policy is in force and nobody is authenticated."""
    return (request.registry.queryUtility(ISecurityPolicy) is not None
            and request.authenticated_userid is None)


def login_first(request):
    """The answer to an anonymous request on a route that needs a login, else None.

    Finding out who asks may itself be refused (throttled, malformed credentials): then that
    refusal is the answer.
    """
    if not needs_login(request):
        return None
    try:
        if anonymous(request):
            return authentication_required(request)
    except LoginThrottled as exc:
        return throttled(exc)
    except CredentialsRefused as exc:
        return credentials_refused(exc)
    return None


@exception_view_config(HTTPForbidden, virtdancer_route=True)
def forbidden(exc, request):
    if anonymous(request):
        return authentication_required(request)
    if exc.result is None and exc.detail:
        # Raised by a view with its reason (a name outside the user's filters, say), not by
        # the permission check: the reason is the message.
        return error_response(403, exc.detail)
    permission = getattr(exc.result, "permission", None)
    who = request.authenticated_userid or "this user"
    # A token's scope may be narrower than its user's role: say which of the two refused.
    by_token = " with this API token" if getattr(request.identity, "token_id", None) else ""
    message = f"{who} may not do this{by_token}" + (f" (needs {permission})" if permission
                                                    else "")
    return error_response(403, message)


@exception_view_config(BadCSRFToken, virtdancer_route=True)
def bad_csrf_token(exc, request):
    return error_response(403, "missing or wrong CSRF token: send the X-CSRF-Token header "
                               "that GET /session gives", location="header",
                          name="X-CSRF-Token")


@exception_view_config(LoginThrottled, virtdancer_route=True)
def login_throttled(exc, request):
    return throttled(exc)


@exception_view_config(CredentialsRefused, virtdancer_route=True)
def refused_credentials(exc, request):
    return credentials_refused(exc)


@exception_view_config(URLDecodeError, virtdancer_route=True)
def undecodable_path(exc, request):
    return error_response(400, "the URL's path is not valid UTF-8", location="path")


@exception_view_config(HTTPNotFound, virtdancer_route=True)
def not_found(exc, request):
    # Nobody logged in learns nothing, not even which VMs do not exist.
    refusal = login_first(request)
    if refusal is not None:
        return refusal
    uuid = request.matchdict.get("uuid") if request.matchdict else None
    if uuid is not None:
        return error_response(404, f"no VM with UUID {quoted(uuid)}", location="path",
                              name="uuid")
    return error_response(404, f"nothing at {quoted(request.path)}")


@exception_view_config(HTTPError, virtdancer_route=True)
def http_error(exc, request):
    refusal = login_first(request)
    if refusal is not None:
        return refusal
    # Keep the exception's headers that matter to clients (Allow on a 405, for instance).
    headers = {key: value for key, value in exc.headers.items()
               if key.lower() in ("allow", "www-authenticate", "retry-after", "vary")}
    message = exc.detail or exc.explanation or exc.title
    if exc.code == 405 and exc.allow:
        message = (f"{request.method} is not allowed on {quoted(request.path)}; "
                   f"use {', '.join(exc.allow)}")
    return error_response(exc.code, str(message), headers=headers,
                          location=getattr(exc, "error_location", "url"),
                          name=getattr(exc, "error_name", None))


# How HTTP says what the hypervisor service reports, the most specific first.
HYPERVISOR_STATUS = ((HostUnavailable, 503), (NoSuchDomain, 404), (NoSuchStorage, 404),
                     (Refused, 409), (DefinitionChanged, 412), (Unsupported, 501),
                     (InvalidRequest, 400))


def status_of(error):
    """The HTTP status of a hypervisor error: 502 for a failure of libvirt's own."""
    return next((status for kind, status in HYPERVISOR_STATUS if isinstance(error, kind)), 502)


@exception_view_config(HypervisorError, virtdancer_route=True)
def hypervisor_error(exc, request):
    return error_response(status_of(exc), exc.message, location="hypervisor")


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
