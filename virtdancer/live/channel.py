"""The event channel: a WebSocket at `/events` of the console proxy's server, one JSON event
per text frame, for as long as the client stays.

A connection brings an event ticket (`?ticket=`, from `POST /events`) and, to resume, the last
`seq` it saw (`&since=`): the events it missed come first, or `{"type": "reload"}` when the hub
no longer holds them all. A page must come from the origin the ticket was issued to or one of
`virtdancer.console.allowed_origins`; a script, which sends no Origin, is let in on its ticket
alone (a browser always sends one, and nothing stops a script from sending any). The channel
holds no thread: it lives on the proxy's asyncio loop, and waits there for its queue.
"""

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed

from ..permissions import ROLE_PERMISSIONS, Permission
from ..signed_tickets import TokenRefused
from .hub import Subscription, Viewer

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
QUEUE = 256          # events waiting for one client before it is dropped as too slow
RECHECK = 5.0        # seconds between two looks at the users file for an open channel


def is_events_path(path):
    """Whether a WebSocket's request path asks for the event channel (under any prefix a
    reverse proxy keeps)."""
    return urlsplit(path).path.rstrip("/").endswith("/events")


class Viewers:
    """Who a ticket's user is now: what they see and whether they may act.

    From the users file VirtDancer's security reads, asked again while the channel is open.
    Without one (a host portal's own security), from what the identity saw when the ticket was
    issued, kept by `tickets` in this process (an inline proxy); a separate proxy has neither,
    and its channels get every event (documented: run it inline under a portal that filters).
    """

    def __init__(self, users=None, tickets=None):
        self.users = users
        self.tickets = tickets

    def viewer_of(self, claims):
        if self.users is None:
            kept = self.tickets.viewer_of(claims) if self.tickets is not None else None
            return kept if kept is not None else Viewer(operates=claims["p"])
        user = self.users.get(claims["u"])
        if user is None:
            raise TokenRefused("the event ticket's user no longer exists")
        operates = claims["p"] and Permission.OPERATE in ROLE_PERMISSIONS[user.role]
        return Viewer(user.sees_host, user.sees, operates, user=user.name,
                      everyone=Permission.ADMIN in ROLE_PERMISSIONS[user.role])


class ChannelSubscription(Subscription):
    """A hub subscription feeding a queue on the channel's event loop; `on_overflow()` is
    called there once, when the queue is full (the client does not keep up)."""

    def __init__(self, viewer, loop, size=QUEUE, on_overflow=None):
        super().__init__(viewer)
        self.loop = loop
        self.size = size
        self.queue = asyncio.Queue()
        self.overflowed = False
        self.on_overflow = on_overflow

    def offer(self, event):
        try:
            self.loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:
            pass   # the loop has ended: the channel is gone

    def _put(self, event):
        if self.overflowed:
            return
        if self.queue.qsize() >= self.size:
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self.queue.put_nowait(event)


def for_viewer(event, viewer):
    """The event as this viewer receives it: a VM's detail offers actions only to those who
    may run them."""
    detail = event.get("vm_detail")
    if viewer.operates or not detail:
        return event
    return {**event, "vm_detail": {**detail, "actions": [], "console": False,
                                   "operable": False}}


class EventChannel:
    def __init__(self, hub, tickets, allowed_origins=(), viewers=None, queue_size=QUEUE):
        self.hub = hub
        self.tickets = tickets
        self.allowed_origins = {origin.rstrip("/") for origin in allowed_origins}
        self.viewers = viewers or Viewers()
        self.queue_size = queue_size
        self.open = 0

    async def handle(self, websocket):
        """One client: check it, send what it missed, then every event until it leaves."""
        try:
            claims, since = self._admit(websocket)
            viewer = self.viewers.viewer_of(claims)
        except TokenRefused as refusal:
            log.warning("event channel refused: %s", refusal)
            await websocket.close(POLICY_VIOLATION, str(refusal)[:120])
            return

        def drop():
            # Closed from here, not by the sender: a client that reads nothing leaves the
            # sender waiting in `send` for room that never comes. The close frame, or after
            # websockets' close timeout the cut connection, ends that wait.
            log.warning("event channel of %s dropped: too slow", claims["u"])
            reason = "too slow for the events: reconnect with since"
            closing.append(asyncio.ensure_future(websocket.close(TRY_AGAIN_LATER, reason)))

        closing = []   # the task closing it, kept until it is done
        subscription = ChannelSubscription(viewer, asyncio.get_running_loop(),
                                           self.queue_size, on_overflow=drop)
        missed = self.hub.subscribe(subscription, since)
        self.open += 1
        try:
            if missed is None:
                await websocket.send(json.dumps({"seq": self.hub.seq, "time": time.time(),
                                                 "host": None, "type": "reload", "vm": None}))
            else:
                for event in missed:
                    await websocket.send(json.dumps(for_viewer(event, viewer)))
            await self._pump(websocket, subscription, claims)
        except ConnectionClosed:
            pass
        finally:
            self.hub.unsubscribe(subscription)
            self.open -= 1

    def _admit(self, websocket):
        request = websocket.request
        query = parse_qs(urlsplit(request.path).query)
        ticket = query.get("ticket", [""])[0]
        if not ticket:
            raise TokenRefused("no event ticket: ask POST /events for the channel's URL")
        since = query.get("since", [None])[0]
        if since is not None:
            if not since.isascii() or not since.isdigit() or len(since) > 18:
                raise TokenRefused("since must be the seq of the last event received")
            since = int(since)
        claims = self.tickets.verify(ticket)
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != claims["o"].rstrip("/") \
                and origin.rstrip("/") not in self.allowed_origins:
            raise TokenRefused(f"origin {origin} may not open the event channel")
        self.tickets.consume(claims)
        if since is None:
            # Not resuming: from when the ticket was issued, if this hub issued its mark (a
            # separate proxy's hub numbers its own events, and then starts now).
            since = self.hub.since_mark(claims["m"])
        return claims, since

    async def _pump(self, websocket, subscription, claims):
        async def ignore_what_the_client_says():
            async for _ in websocket:
                pass

        listener = asyncio.ensure_future(ignore_what_the_client_says())
        checked = time.monotonic()
        try:
            while not listener.done():
                getting = asyncio.ensure_future(subscription.queue.get())
                await asyncio.wait([getting, listener], return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                event = getting.result()
                if time.monotonic() - checked > RECHECK:
                    checked = time.monotonic()
                    try:
                        subscription.viewer = self.viewers.viewer_of(claims)
                    except TokenRefused as refusal:
                        await websocket.close(POLICY_VIOLATION, str(refusal)[:120])
                        return
                    if not subscription.viewer.may_see(event):
                        continue
                await websocket.send(json.dumps(for_viewer(event, subscription.viewer)))
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
