"""The VM console in the browser: signed one-time tokens and a WebSocket proxy to VNC.

waitress cannot speak WebSocket, so the proxy runs beside it on a port of its own
(`virtdancer.console.listen`): inside the same process under `pserve development.ini`, or on its
own as `virtdancer console-proxy production.ini`. The same server carries the live event
channel at `/events` (virtdancer/live), with tickets `POST /events` issues.
"""

import re

from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from ..hypervisor import START_ORDER
from ..interfaces import IConsole, IEventHub, IHostRegistry
from ..published_secrets import refuse_published_secret
from ..settings import value
from ..live.channel import EventChannel, Viewers
from ..live.tickets import EventTickets
from .access import access_of_policy
from .proxy import ConsoleProxy, ProxyThread
from .tokens import ConsoleTokens

# A DNS name, an IPv4 address or a bracketed IPv6 address: nothing that could break out of a
# URL or a Content-Security-Policy (`Host: evil; script-src *`).
HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


@implementer(IConsole)
class ConsoleService:
    """Issues console tokens and says where the proxy is; runs it too, when it is inline."""

    def __init__(self, tokens, *, listen=None, public_url=None, event_tickets=None,
                 event_queue=None):
        self.tokens = tokens
        self.event_tickets = event_tickets
        self.event_queue = event_queue
        self.listen = listen
        self.public_url = public_url.rstrip("/") + "/" if public_url else None
        self.proxy_thread = None

    @property
    def configured(self):
        return bool(self.listen or self.public_url)

    def start_inline(self, registry, allowed_origins):
        access = access_of_policy(registry.queryUtility(ISecurityPolicy))
        proxy = ConsoleProxy(registry.getUtility(IHostRegistry), self.tokens, allowed_origins,
                             access,
                             events=self.event_channel(registry.queryUtility(IEventHub),
                                                       allowed_origins, access.users))
        self.proxy_thread = ProxyThread(proxy, self.listen).start()

    def base_url(self, request):
        """Where browsers connect: the public URL, or the proxy's port on this host name.

        Without `virtdancer.console.public_url` the host name is the request's (as waitress
        gives it: a proxy's X-Forwarded-Host only when waitress trusts that proxy), and only
        when it is a host name; production should set the public URL.
        """
        if self.public_url:
            return self.public_url
        if not self.listen or not HOST_NAME.fullmatch(request.domain):
            return None
        scheme = "wss" if request.scheme == "https" else "ws"
        port = self.proxy_thread.bound_port if self.proxy_thread else \
            int(self.listen.rpartition(":")[2])
        return f"{scheme}://{request.domain}:{port}/"

    def event_channel(self, hub, allowed_origins, users):
        """The channel the proxy serves at /events, or None without a hub."""
        if hub is None or self.event_tickets is None:
            return None
        return EventChannel(hub, self.event_tickets, allowed_origins, Viewers(users),
                            **({"queue_size": self.event_queue} if self.event_queue else {}))

    def events_url_for(self, request, ticket):
        """The event channel's URL with `ticket`, or None when the request's host is no name."""
        base = self.base_url(request)
        return f"{base}events?ticket={ticket}" if base is not None else None

    def url_for(self, request, token):
        """The URL to connect to with `token`, or None when the request's host is no name."""
        base = self.base_url(request)
        return f"{base}?token={token}" if base is not None else None

    def websocket_origin(self, request):
        """`scheme://host:port` of the proxy, for the pages' Content-Security-Policy."""
        base = self.base_url(request)
        if base is None:
            return None
        scheme, _, rest = base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def close(self):
        # Forget the thread first: a second close must not reach a loop that has ended.
        thread, self.proxy_thread = self.proxy_thread, None
        if thread is not None:
            thread.close()


def console_from_settings(settings):
    secret = value(settings, "virtdancer.secret")
    if not secret:
        return None
    refuse_published_secret(settings)
    return ConsoleService(ConsoleTokens(secret),
                          listen=value(settings, "virtdancer.console.listen") or None,
                          public_url=value(settings, "virtdancer.console.public_url") or None,
                          event_tickets=EventTickets(secret),
                          event_queue=value(settings, "virtdancer.events.queue"))


def includeme(config):
    """Console tokens, and the proxy inside this process unless it runs on its own."""
    settings = config.get_settings()
    console = console_from_settings(settings)
    if console is None:
        return   # no secret to sign tokens with: POST /vm/<uuid>/console says so
    config.registry.registerUtility(console, IConsole)
    inline = value(settings, "virtdancer.console.proxy") == "inline"
    if console.listen and inline:
        config.action(None, console.start_inline,
                      args=(config.registry,
                            value(settings, "virtdancer.console.allowed_origins")),
                      order=START_ORDER)
