"""The event hub: every live event of the process, numbered, kept a while, and handed to each
open channel whose user may see it.

`publish` may be called from any thread (a view, a task's thread, the feed of libvirt's events).
Each event gets `seq`, a counter that only grows for the life of the process, and `time` (Unix
time, as every time of the API). The last `keep` events stay, so that a client that lost its
channel resumes from the last `seq` it saw; older than that, it is told to reload.

Subscribers are offered each event they may see without waiting: each has a bounded queue, and
one that does not keep up is dropped (`overflowed`) rather than let memory grow.
"""

import collections
import queue
import secrets
import threading
import time

from zope.interface import implementer

from ..interfaces import IEventHub

KEEP = 1000


class Viewer:
    """Who receives events: which hosts and VMs (by name) they see, and whether they may
    run actions on those VMs (which the VM's detail in an event then offers)."""

    def __init__(self, sees_host=None, sees=None, operates=False, user=None, everyone=True):
        self.sees_host = sees_host or _everything
        self.sees = sees or _everything
        self.operates = operates
        # Whose tasks they see: their own (`user`), or everyone's (an admin), as GET /tasks.
        self.user = user
        self.everyone = everyone

    def may_see(self, event):
        host, vm = event.get("host"), event.get("vm")
        if host is not None and not self.sees_host(host):
            return False
        if event.get("type") == "task" and not self.everyone \
                and (self.user is None or event["task"]["user"] != self.user):
            return False
        return vm is None or self.sees(vm["name"])


def _everything(_name):
    return True


class Subscription:
    """One receiver of events (a WebSocket channel, a terminal): `viewer` filters them, `offer`
    takes one without ever blocking the publisher."""

    def __init__(self, viewer):
        self.viewer = viewer

    def offer(self, event):
        raise NotImplementedError


@implementer(IEventHub)
class EventHub:
    def __init__(self, keep=KEEP, clock=time.time):
        self.clock = clock
        self._kept = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._seq = 0
        self._subscriptions = set()
        # Names this hub's numbering: a `seq` means something only to the hub that gave it
        # (another process, or this one restarted, counts from 0 again).
        self.numbering = secrets.token_hex(8)

    @property
    def seq(self):
        """The `seq` of the newest event, 0 before the first."""
        return self._seq

    @property
    def mark(self):
        """"<numbering>:<seq>": where a channel opened later starts (see `since_mark`)."""
        return f"{self.numbering}:{self._seq}"

    def since_mark(self, mark):
        """The `seq` of a `mark` this hub gave, or None for another hub's (or no) mark."""
        numbering, _, seq = (mark or "").partition(":")
        if numbering != self.numbering or not seq.isdigit():
            return None
        return int(seq)

    def publish(self, type, host, vm=None, **fields):
        """Number, keep and deliver an event; answer it. `vm` is {uuid, name} or None."""
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "time": self.clock(), "host": host, "type": type,
                     "vm": vm, **fields}
            self._kept.append(event)
            # Offered under the lock, so that every subscriber gets events in `seq` order
            # whichever threads publish them; an offer never blocks.
            for subscription in list(self._subscriptions):
                if subscription.viewer.may_see(event):
                    subscription.offer(event)
        return event

    def subscribe(self, subscription, since=None):
        """Start offering events to `subscription`; answer what it missed after `since`: the
        events it may see, or None when they are no longer all kept (it must reload)."""
        with self._lock:
            self._subscriptions.add(subscription)
            if since is None or since == self._seq:
                return []
            oldest = self._kept[0]["seq"] if self._kept else self._seq + 1
            # A `since` beyond the newest is another process's (VirtDancer restarted).
            if since > self._seq or since + 1 < oldest:
                return None
            return [event for event in self._kept
                    if event["seq"] > since and subscription.viewer.may_see(event)]

    def unsubscribe(self, subscription):
        with self._lock:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self):
        return len(self._subscriptions)


class QueueSubscription(Subscription):
    """A hub subscription for a thread that waits for events (`virtdancer events`): a bounded
    queue, and `overflowed` once events had to be dropped."""

    def __init__(self, viewer, size=10000):
        super().__init__(viewer)
        self.queue = queue.Queue(size)
        self.overflowed = False

    def offer(self, event):
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.overflowed = True
