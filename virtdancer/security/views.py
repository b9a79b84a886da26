"""Logging in and out of the browser UI, and who the session belongs to."""

import colander
from pyramid.csrf import get_csrf_token
from pyramid.interfaces import IRoutesMapper, ISecurityPolicy
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember

from .. import answers
from ..resources import root_factory
from ..views import use_cornice
from ..views.bodies import body_validator
from ..views.errors import error_response
from ..views.service import VirtDancerService as Service


class LoginBody(colander.MappingSchema):
    username = colander.SchemaNode(colander.String(), validator=colander.Length(1, 256))
    password = colander.SchemaNode(colander.String(), validator=colander.Length(1, 4096))


login = Service(name="virtdancer.login", pyramid_route="virtdancer.login",
                description="Log in to the browser UI")
logout = Service(name="virtdancer.logout", pyramid_route="virtdancer.logout",
                 description="Log out of the browser UI")
session = Service(name="virtdancer.session", pyramid_route="virtdancer.session",
                  description="Who is logged in, and the CSRF token for writes")


def events_offered(registry):
    """Whether `POST /events` can hand out a channel: its route exists and the channel's
    asyncio side (the console proxy's) is configured."""
    # Asked before the page tries: a 404 or 501 on every page load would be a console error
    # in every browser, and a wasted request.
    mapper = registry.queryUtility(IRoutesMapper)
    routed = mapper is not None and any(
        route.pattern.strip("/") == "events" for route in mapper.get_routes())
    return routed and bool(registry.settings.get("virtdancer.console.listen"))


def session_body(request, user):
    return {"user": user.name, "role": user.role, "csrf_token": get_csrf_token(request),
            "events": events_offered(request.registry)}


@login.post(permission=NO_PERMISSION_REQUIRED, schema=LoginBody(),
            validators=(body_validator,), response_schemas={200: answers.SessionAnswer()},
            errors=(401, 429))
def log_in(request):
    """Check the password and start a session; throttled like any login."""
    policy = request.registry.getUtility(ISecurityPolicy)
    user = policy.authenticator.authenticate(request.validated["username"],
                                             request.validated["password"],
                                             request.client_addr)
    if user is None:
        return error_response(401, "wrong user name or password", location="body",
                              name="password")
    request.response.headers.extend(remember(request, user.name))
    return session_body(request, user)


@logout.post(permission=NO_PERMISSION_REQUIRED,
             response_schemas={200: answers.LogoutAnswer()})
def log_out(request):
    """End the login session; like every write of a session, it needs the CSRF token."""
    # Finding out whose session it is checks the token (BadCSRFToken): another site's form
    # must not end a session either.
    request.identity  # noqa: B018
    request.response.headers.extend(forget(request))
    return {"result": "logged out"}


@session.get(permission=NO_PERMISSION_REQUIRED,
             response_schemas={200: answers.SessionAnswer()})
def show_session(request):
    """Who is logged in; all null for nobody, which is an answer, not an error."""
    user = request.identity
    if user is None:
        return {"user": None, "role": None, "csrf_token": None, "events": False}
    return session_body(request, user)


def includeme(config):
    use_cornice(config)
    config.add_route("virtdancer.login", "/login")
    config.add_route("virtdancer.logout", "/logout")
    config.add_route("virtdancer.session", "/session")
    config.add_route("virtdancer.tokens", "/tokens", factory=root_factory, traverse="/tokens")
    config.add_route("virtdancer.token", "/tokens/{id}", factory=root_factory,
                     traverse="/tokens/{id}")
    config.scan(".views")
    config.scan(".token_views")
