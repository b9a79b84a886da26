"""The domains a request names by UUID, kept found between requests.

Finding a domain costs four libvirt calls (the lookup, its name, its ID, and freeing the
handle), each of which lets go of the interpreter lock: under load, each is a thread switch.
A domain's name and ID only change with a lifecycle event (started, stopped, defined, undefined:
a rename is an undefine and a define), so a found `DomainRef` is kept until one comes, until
VirtDancer changes the domain itself, and until the connection is lost. Without events nothing
is kept. A request that finds the domain's state at odds with a kept ID (its event has not
arrived yet) asks again (`Fleet.detail`).
"""

import threading


class KnownDomains:
    """The kept `DomainRef` of each UUID (lower case) of one host (a `HostConnection`)."""

    def __init__(self, host):
        self._host = host
        self._lock = threading.Lock()
        self._refs = {}
        self._generations = {}
        self._epoch = 0
        host.add_listener(self)

    # A listener of the host's connection (events.IEventListener).

    def on_connected(self):
        # Handles belong to their connection; events may have been missed meanwhile.
        self.forget(None)

    def on_host_event(self, event):
        if event.state == "lost":
            self.forget(None)

    def on_domain_event(self, event):
        self.forget(event.uuid)

    def on_domain_changed(self, uuid):
        self.forget(uuid)

    def forget(self, uuid):
        """Find the domain `uuid` (None: every domain) again at its next request."""
        with self._lock:
            if uuid is None:
                dropped = list(self._refs.values())
                self._refs.clear()
                self._generations.clear()
                self._epoch += 1
            else:
                uuid = uuid.lower()
                dropped = [self._refs.pop(uuid, None)]
                self._generations[uuid] = self._generations.get(uuid, 0) + 1
        for ref in dropped:
            if ref is not None:
                # A request still holding it (one that changed the VM) must not answer what
                # another request shared before the change.
                ref.recent = None

    def get(self, uuid):
        """`(ref, stamp)`: the kept `DomainRef` (or None) and the stamp `keep` needs."""
        with self._lock:
            return self._refs.get(uuid), (self._epoch, self._generations.get(uuid, 0))

    def keep(self, uuid, stamp, ref):
        """Keep `ref` unless the domain changed since `stamp` or libvirt has no events."""
        if not self._host.events_supported:
            return
        with self._lock:
            if stamp == (self._epoch, self._generations.get(uuid, 0)):
                self._refs[uuid] = ref
