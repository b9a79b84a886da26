"""Domain facts that no bulk libvirt call reports, kept until a lifecycle event changes them.

A domain's OS type and its "updated" flag (live configuration differs from the saved one) each
cost one libvirt round trip per domain. They only change when a domain is defined or started,
and libvirt announces both with lifecycle events, so VirtDancer asks once and remembers until
the event arrives. Without events (a driver that has none) nothing is remembered.
"""

import threading


class DomainFacts:
    def __init__(self, host):
        self._host = host
        self._lock = threading.Lock()
        self._os_types = {}
        self._updated = {}  # uuid -> (domain id, flag): a restart gives a new id
        self._generations = {}
        host.add_listener(self)

    # A listener of the host's connection (events.IEventListener).

    def on_connected(self):
        # Events may have been missed while disconnected.
        with self._lock:
            self._os_types.clear()
            self._updated.clear()
            self._generations.clear()

    def on_domain_event(self, event):
        self.forget(event.uuid)

    def forget(self, uuid):
        """Ask libvirt again next time: the domain changed (an event, or VirtDancer's edit)."""
        with self._lock:
            self._os_types.pop(uuid, None)
            self._updated.pop(uuid, None)
            self._generations[uuid] = self._generations.get(uuid, 0) + 1

    # Queries.

    def os_type(self, dom, uuid):
        with self._lock:
            known = self._os_types.get(uuid)
            generation = self._generations.get(uuid, 0)
        if known is not None:
            return known
        os_type = dom.OSType()
        self._remember(self._os_types, uuid, os_type, generation)
        return os_type

    def updated(self, dom, uuid, domain_id):
        with self._lock:
            known = self._updated.get(uuid)
            generation = self._generations.get(uuid, 0)
        if known is not None and known[0] == domain_id:
            return known[1]
        flag = bool(dom.isUpdated())
        self._remember(self._updated, uuid, (domain_id, flag), generation)
        return flag

    def _remember(self, table, uuid, value, generation):
        if not self._host.events_supported:
            return
        with self._lock:
            # An event that arrived while libvirt was being asked makes the answer stale.
            if self._generations.get(uuid, 0) == generation:
                table[uuid] = value
