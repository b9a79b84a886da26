"""POST /events: a one-time ticket to the live event channel, on the console proxy's server."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotImplemented

from .. import answers
from ..interfaces import IConsole, IEventHub
from ..live.hub import Viewer
from ..permissions import Permission
from ..resources import Root
from .service import VirtDancerService

events = VirtDancerService(name="virtdancer.events", pyramid_route="virtdancer.events",
                           description="A ticket to the live event channel")


@events.post(context=Root, permission=Permission.READ,
             response_schemas={200: answers.EventsAnswer()}, errors=(501,))
def open_events(request):
    """`{url, expires}`: connect a WebSocket to `url` within a minute, once."""
    service = request.registry.queryUtility(IConsole)
    if service is None or not service.configured or service.event_tickets is None:
        raise HTTPNotImplemented("the event channel is not configured: set "
                                 "virtdancer.console.listen (and virtdancer.secret)")
    if service.base_url(request) is None:
        raise HTTPBadRequest("the request's Host is not a host name, so VirtDancer cannot say "
                             "where the event channel is (set virtdancer.console.public_url)")
    root = request.context
    operates = bool(request.has_permission(Permission.OPERATE, root))
    hub = request.registry.queryUtility(IEventHub)
    ticket, expires = service.event_tickets.issue(
        user=request.authenticated_userid or "", origin=request.host_url, operates=operates,
        mark=hub.mark if hub is not None else "",
        viewer=Viewer(root.sees_host, root.sees, operates,
                      user=getattr(request.identity, "name", None),
                      everyone=bool(request.has_permission(Permission.ADMIN, root))))
    return {"url": service.events_url_for(request, ticket), "expires": expires}
