"""POST /vm/<uuid>/console: a one-time ticket to the VM's display, through the console proxy."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotImplemented

from .. import answers
from ..interfaces import IConsole
from ..permissions import Permission
from ..resources import Domain
from .service import PerHostService

console = PerHostService("virtdancer.vm.console", "Open a VM's console")


@console.post(context=Domain, permission=Permission.OPERATE,
              response_schemas={200: answers.ConsoleAnswer()}, errors=(409, 501))
def open_console(request):
    """`{url, token, expires}`: connect a WebSocket (noVNC) to `url` within a minute."""
    service = request.registry.queryUtility(IConsole)
    if service is None or not service.configured:
        raise HTTPNotImplemented("the console proxy is not configured: set "
                                 "virtdancer.console.listen (and virtdancer.secret)")
    if service.base_url(request) is None:
        raise HTTPBadRequest("the request's Host is not a host name, so VirtDancer cannot say "
                             "where the console proxy is (set virtdancer.console.public_url)")
    domain = request.context
    domain.check_console()
    token, expires = service.tokens.issue(
        user=request.authenticated_userid or "", host=domain.host.name, vm=domain.uuid,
        origin=request.host_url)
    return {"url": service.url_for(request, token), "token": token, "expires": expires}
