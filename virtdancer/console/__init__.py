"""The VM console in the browser: signed one-time tokens and a WebSocket proxy to VNC.

waitress cannot speak WebSocket, so the proxy runs beside it on a port of its own
(`virtdancer.console.listen`): inside the same process under `pserve development.ini`, or on its
own as `virtdancer console-proxy production.ini`.
"""

from pyramid.settings import aslist
from zope.interface import implementer

from ..hypervisor import START_ORDER
from ..interfaces import IConsole, IHypervisor
from .proxy import ConsoleProxy, ProxyThread
from .tokens import ConsoleTokens


@implementer(IConsole)
class ConsoleService:
    """Issues console tokens and says where the proxy is; runs it too, when it is inline."""

    def __init__(self, tokens, *, listen=None, public_url=None):
        self.tokens = tokens
        self.listen = listen
        self.public_url = public_url.rstrip("/") + "/" if public_url else None
        self.proxy_thread = None

    @property
    def configured(self):
        return bool(self.listen or self.public_url)

    def start_inline(self, hypervisor, allowed_origins):
        proxy = ConsoleProxy(hypervisor, self.tokens, allowed_origins)
        self.proxy_thread = ProxyThread(proxy, self.listen).start()

    def base_url(self, request):
        """Where browsers connect: the public URL, or the proxy's port on this host name."""
        if self.public_url:
            return self.public_url
        if not self.listen:
            return None
        scheme = "wss" if request.scheme == "https" else "ws"
        port = self.proxy_thread.bound_port if self.proxy_thread else \
            int(self.listen.rpartition(":")[2])
        return f"{scheme}://{request.domain}:{port}/"

    def url_for(self, request, token):
        return f"{self.base_url(request)}?token={token}"

    def websocket_origin(self, request):
        """`scheme://host:port` of the proxy, for the pages' Content-Security-Policy."""
        base = self.base_url(request)
        if base is None:
            return None
        scheme, _, rest = base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def close(self):
        if self.proxy_thread is not None:
            self.proxy_thread.close()


def console_from_settings(settings):
    secret = settings.get("virtdancer.secret", "").strip()
    if not secret:
        return None
    return ConsoleService(ConsoleTokens(secret),
                          listen=settings.get("virtdancer.console.listen", "").strip() or None,
                          public_url=settings.get("virtdancer.console.public_url", "").strip()
                          or None)


def includeme(config):
    """Console tokens, and the proxy inside this process unless it runs on its own."""
    settings = config.get_settings()
    console = console_from_settings(settings)
    if console is None:
        return   # no secret to sign tokens with: POST /vm/<uuid>/console says so
    config.registry.registerUtility(console, IConsole)
    inline = settings.get("virtdancer.console.proxy", "inline").strip() == "inline"
    if console.listen and inline:
        config.action(None, console.start_inline,
                      args=(config.registry.getUtility(IHypervisor),
                            aslist(settings.get("virtdancer.console.allowed_origins", ""))),
                      order=START_ORDER)
