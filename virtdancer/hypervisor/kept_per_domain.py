"""Something a host keeps per domain until the domain changes: the base of device_cache.py and
known_domains.py.

A kept value is forgotten when libvirt announces a change of its domain (an event), when
VirtDancer changes the domain itself (`HostConnection.changed`) and when the connection is made
again (events may have been missed meanwhile, and it may be another libvirtd). A value read
while such a change came is not kept: `get` gives a stamp with what it found, and `keep` keeps
only under the stamp that is still current. Without events nothing is kept.
"""

import threading


class KeptPerDomain:
    """A value per domain UUID (lower case) of one host (a `HostConnection`, whose listener
    this is), kept while `events_told` says libvirt tells this host's changes."""

    def __init__(self, host):
        self._host = host
        self._lock = threading.Lock()
        self._kept = {}
        # Bumped by every change, so that a value read while a change came is not kept.
        self._generations = {}
        self._epoch = 0
        host.add_listener(self)

    def events_told(self):
        """Whether libvirt tells every change that makes a kept value wrong."""
        raise NotImplementedError

    # A listener of the host's connection (events.IEventListener).

    def on_connected(self):
        self.forget(None)

    def on_domain_event(self, event):
        self.forget(event.uuid)

    def on_domain_changed(self, uuid):
        self.forget(uuid)

    def forget(self, uuid):
        """Ask libvirt again for the domain `uuid` (None: every domain) at its next request."""
        with self._lock:
            if uuid is None:
                dropped = list(self._kept.values())
                self._kept.clear()
                self._generations.clear()
                self._epoch += 1
            else:
                uuid = uuid.lower()
                dropped = [self._kept.pop(uuid, None)]
                self._generations[uuid] = self._generations.get(uuid, 0) + 1
        self.dropped(value for value in dropped if value is not None)

    def dropped(self, values):
        """Told the values just forgotten (requests may still hold them); nothing by default."""

    def get(self, uuid):
        """`(value, stamp)`: what is kept for `uuid` (or None) and the stamp `keep` needs."""
        with self._lock:
            return self._kept.get(uuid), (self._epoch, self._generations.get(uuid, 0))

    def keep(self, uuid, stamp, value):
        """Keep `value` unless the domain changed since `stamp` was taken (what was read may
        predate the change) or libvirt would not tell a change."""
        if not self.events_told():
            return
        with self._lock:
            if stamp == (self._epoch, self._generations.get(uuid, 0)):
                self._kept[uuid] = value
