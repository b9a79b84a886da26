"""The console proxy: a WebSocket from the browser on one side, the VM's VNC server on the other.

Every connection must bring a console token (query parameter `token`) that VirtDancer issued
for this host less than a minute ago and that nobody used yet, from a page of an allowed origin:
the origin the token was issued to, or one of `virtdancer.console.allowed_origins`; and the
token's user must still be allowed to open that VM's console (`ConsoleAccess`). Refused
connections are closed with a policy-violation code and a reason a person can read.
"""

import asyncio
import logging
import threading
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from ..hypervisor.errors import HypervisorError
from ..live.channel import is_events_path
from ..server import why_not
from .access import ConsoleAccess
from .tokens import TokenRefused

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
UNAVAILABLE = 1011
CHUNK = 64 * 1024


def parse_listen(listen):
    """`host:port` (or `[v6]:port`) as a (host, port) pair."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class ProxyCannotListen(Exception):
    """The proxy's address is taken or not this machine's; the message says what to do."""


class ConsoleProxy:
    """The proxy for every host of a host registry: each token names its host."""

    def __init__(self, hosts, tokens, allowed_origins=(), access=None, events=None):
        self.hosts = hosts
        self.events = events   # the live event channel (live/channel.py), served at /events
        self.tokens = tokens
        self.allowed_origins = {origin.rstrip("/") for origin in allowed_origins}
        self.access = access or ConsoleAccess()
        self.sessions = 0

    async def handle(self, websocket):
        """One browser connection: check it, then pump bytes until either side closes."""
        if self.events is not None and is_events_path(websocket.request.path):
            await self.events.handle(websocket)
            return
        try:
            claims = self._admit(websocket)
        except TokenRefused as refusal:
            log.warning("console connection refused: %s", refusal)
            await websocket.close(POLICY_VIOLATION, str(refusal)[:120])
            return
        loop = asyncio.get_running_loop()
        try:
            # libvirt's calls block: run them off the event loop.
            vnc = await loop.run_in_executor(None, self._open_display, claims)
        except TokenRefused as refusal:
            log.warning("console connection refused: %s", refusal)
            await websocket.close(POLICY_VIOLATION, str(refusal)[:120])
            return
        except (HypervisorError, OSError) as error:
            message = getattr(error, "message", None) or str(error)
            await websocket.close(UNAVAILABLE, f"cannot open the display: {message}"[:120])
            return
        log.info("console of %s opened by %s", claims["v"], claims["u"])
        self.sessions += 1
        try:
            await self._pump(websocket, vnc)
        finally:
            self.sessions -= 1
            log.info("console of %s closed", claims["v"])

    def _admit(self, websocket):
        request = websocket.request
        token = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        origin = (request.headers.get("Origin") or "").rstrip("/")
        if not token:
            raise TokenRefused("no console token")
        claims = self.tokens.verify(token, hosts=self.hosts.names())
        if origin != claims["o"].rstrip("/") and origin not in self.allowed_origins:
            raise TokenRefused(f"origin {origin or '(none)'} may not open consoles")
        self.tokens.consume(claims)
        return claims

    def _open_display(self, claims):
        """The VM's display, once its user is known to be still allowed to open it."""
        hypervisor = self.hosts.get(claims["h"])
        self.access.check(claims["u"], claims["h"], hypervisor.fleet.find(claims["v"]).name)
        return hypervisor.fleet.open_console(claims["v"], hypervisor.local)

    async def _pump(self, websocket, vnc):
        reader, writer = await asyncio.open_connection(sock=vnc)

        async def browser_to_vm():
            async for message in websocket:
                writer.write(message if isinstance(message, bytes) else message.encode())
                await writer.drain()

        async def vm_to_browser():
            while data := await reader.read(CHUNK):
                await websocket.send(data)

        tasks = [asyncio.ensure_future(browser_to_vm()), asyncio.ensure_future(vm_to_browser())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
            try:
                await websocket.close(1000, "the display closed")
            except ConnectionClosed:
                pass

    async def serve_forever(self, host, port, started=None, stop=None):
        async with serve(self.handle, host, port, select_subprotocol=_binary_if_offered,
                         compression=None, max_size=None) as server:
            if started is not None:
                started(server)
            await (stop.wait() if stop is not None else asyncio.get_running_loop().create_future())


def _binary_if_offered(connection, subprotocols):
    # Older noVNC asks for the "binary" subprotocol; newer sends none. Both are welcome.
    return "binary" if "binary" in subprotocols else None


class ProxyThread:
    """The proxy on an event loop of its own, in a thread of the web application's process."""

    def __init__(self, proxy, listen):
        self.proxy = proxy
        self.host, self.port = parse_listen(listen)
        self._loop = None
        self._stop = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="virtdancer-console-proxy")
        self.bound_port = None
        self.failure = None

    def start(self, timeout=10):
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"console proxy did not start on {self.host}:{self.port}")
        if self.failure is not None:
            self._thread.join(timeout=5)
            raise self.failure
        return self

    def close(self):
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=5)

    def _run(self):
        asyncio.run(self._main())

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def started(server):
            self.bound_port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()

        try:
            await self.proxy.serve_forever(self.host, self.port, started=started,
                                           stop=self._stop)
        except OSError as error:
            self.failure = cannot_listen(self.host, self.port, error)
            self._ready.set()


def cannot_listen(host, port, error):
    """`ProxyCannotListen` saying, in one line, why and which setting moves the proxy."""
    return ProxyCannotListen(f"the console proxy's address {host}:{port} {why_not(error)}: set "
                             "virtdancer.console.listen to another host:port")
