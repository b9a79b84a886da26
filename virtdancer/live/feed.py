"""The hosts' libvirt events, published on the hub as the channel's messages.

The listener methods run on libvirt's event loop thread, which must never call libvirt: they
only queue the typed event. A worker thread per host takes them in order, asks the host for
the VM's new state when its lifecycle changed (so that a client needs no second request), and
publishes the message.
"""

import logging
import queue
import threading

from zope.interface import implementer

from ..hypervisor.errors import HypervisorError
from ..hypervisor.events import HostEvent, NetworkEvent, PoolEvent
from ..interfaces import IEventFeed
from ..shapes import detail_answer, summary_answer

log = logging.getLogger(__name__)

# Events waiting for the worker; beyond this (a host flooding events while the worker is stuck
# on a host that does not answer) they are dropped, and said so in the log.
BACKLOG = 10000
_STOP = object()


@implementer(IEventFeed)
class HostEventFeed:
    """An `events.IEventListener` of every host of a registry, publishing on `hub`.

    Each host has its own queue and worker: a host that does not answer the question about its
    VM's new state holds up its own events only, never the other hosts'.
    """

    def __init__(self, hosts, hub):
        self.hosts = hosts
        self.hub = hub
        self._queues = {name: queue.Queue(BACKLOG) for name in hosts.names()}
        self._lost = set()        # hosts whose connection was lost: the next one is "back"
        self._threads = []
        self.dropped = 0
        hosts.add_listener(self)

    # -- the listener, on libvirt's thread -----------------------------------------------------

    def on_connected(self):
        pass   # the host event that follows says it

    def on_domain_event(self, event):
        self._take(event)

    def on_host_event(self, event):
        self._take(event)

    def on_object_event(self, event):
        self._take(event)

    def _take(self, event):
        try:
            self._queues[event.host].put_nowait(event)
        except queue.Full:
            self.dropped += 1
            log.warning("live events: %d events dropped, the feed of %s is behind",
                        self.dropped, event.host)

    # -- the workers ---------------------------------------------------------------------------

    def start(self):
        if not self._threads:
            self._threads = [threading.Thread(target=self._run, args=(events,),
                                              name="virtdancer-live-feed", daemon=True)
                             for events in self._queues.values()]
            for thread in self._threads:
                thread.start()
        return self

    def close(self):
        threads, self._threads = self._threads, []
        if threads:
            for events in self._queues.values():
                events.put(_STOP)
            for thread in threads:
                thread.join(timeout=5)

    def _run(self, events):
        while (event := events.get()) is not _STOP:
            try:
                self.publish(event)
            except Exception:  # one odd event must not end the feed
                log.exception("live events: cannot publish %r", event)

    def publish(self, event):
        """Publish one typed event of a host (`HostEvent`, `DomainEvent`, `PoolEvent` or
        `NetworkEvent`) on the hub."""
        if isinstance(event, HostEvent):
            self._publish_host(event)
            return
        if isinstance(event, (PoolEvent, NetworkEvent)):
            # No VM: whoever sees the host receives it, as whoever sees it reads its pools and
            # networks (GET /hosts/<name>/pools, /networks).
            kind = "pool" if isinstance(event, PoolEvent) else "network"
            self.hub.publish(kind, event.host, None, **{kind: event.name, "event": event.event})
            return
        vm = {"uuid": event.uuid, "name": event.name}
        if event.kind != "lifecycle":
            self.hub.publish(event.kind, event.host, vm, **event.info)
            return
        state = self._state_of(event)
        self.hub.publish("lifecycle", event.host, vm, event=event.event,
                         detail=event.detail_words, **state)

    def _publish_host(self, event):
        if event.state == "lost":
            self._lost.add(event.host)
            state = "lost"
        else:
            state = "back" if event.host in self._lost else "connected"
            self._lost.discard(event.host)
        self.hub.publish("host", event.host, None, state=state, reason=event.reason)

    def _state_of(self, event):
        """`{state, state_name, summary, vm_detail}` of the VM now (None each when it is gone
        or its host does not answer)."""
        gone = {"state": None, "state_name": None, "summary": None, "vm_detail": None}
        hypervisor = self.hosts.get(event.host)
        if hypervisor is None or event.event == "undefined":
            return gone
        try:
            detail = hypervisor.fleet.detail(hypervisor.fleet.find(event.uuid))
        except HypervisorError:
            return gone
        # With every action the state allows: each channel takes them out for a user who
        # may not run actions (channel.for_viewer).
        return {"state": detail.state, "state_name": detail.state_name,
                "summary": summary_answer(detail), "vm_detail": detail_answer(detail, True)}
