"""Domain facts that no bulk libvirt call reports, kept until an event changes them.

A domain's OS type, its "updated" flag (live configuration differs from the saved one), whether
it is persistent and its description each cost one libvirt round trip per domain. The first
three only change when a domain is defined, undefined or started, which libvirt announces with
lifecycle events; the description also with its metadata event (`events.CHANGE_EVENTS`). So
VirtDancer asks once and remembers until the event arrives, or until it changes the domain
itself. Without events (a driver that has none) nothing is remembered.
"""

import threading

import libvirt


class DomainFacts:
    def __init__(self, host):
        self._host = host
        self._lock = threading.Lock()
        self._os_types = {}
        self._updated = {}  # uuid -> (domain id, flag): a restart gives a new id
        self._persistent = {}
        self._descriptions = {}
        self._generations = {}
        host.add_listener(self)

    # A listener of the host's connection (events.IEventListener).

    def on_connected(self):
        # Events may have been missed while disconnected.
        with self._lock:
            self._os_types.clear()
            self._updated.clear()
            self._persistent.clear()
            self._descriptions.clear()
            self._generations.clear()

    def on_domain_event(self, event):
        self.forget(event.uuid)

    def on_domain_changed(self, uuid):
        if uuid is not None:
            self.forget(uuid)

    def forget(self, uuid):
        """Ask libvirt again next time: the domain changed (an event, or VirtDancer's edit)."""
        with self._lock:
            self._os_types.pop(uuid, None)
            self._updated.pop(uuid, None)
            self._persistent.pop(uuid, None)
            self._descriptions.pop(uuid, None)
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

    def persistent(self, dom, uuid):
        with self._lock:
            known = self._persistent.get(uuid)
            generation = self._generations.get(uuid, 0)
        if known is not None:
            return known
        flag = bool(dom.isPersistent())
        self._remember(self._persistent, uuid, flag, generation)
        return flag

    def description(self, dom, uuid, persistent):
        """Its <description> (of its definition, when it has one), "" when none."""
        with self._lock:
            known = self._descriptions.get(uuid)
            generation = self._generations.get(uuid, 0)
        if known is not None and known[0] == persistent:
            return known[1]
        text = description_of(dom, persistent)
        self._remember(self._descriptions, uuid, (persistent, text), generation,
                       self._host.change_events_supported)
        return text

    def _remember(self, table, uuid, value, generation, allowed=True):
        if not (self._host.events_supported and allowed):
            return
        with self._lock:
            # An event that arrived while libvirt was being asked makes the answer stale.
            if self._generations.get(uuid, 0) == generation:
                table[uuid] = value


def description_of(dom, persistent):
    """The domain's <description> (of its definition, when it has one), "" when none."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if persistent else libvirt.VIR_DOMAIN_AFFECT_LIVE
    try:
        return dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, flags) or ""
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""
        raise
