"""Domain facts that no bulk libvirt call reports, kept until an event changes them.

A domain's OS type, its "updated" flag (live configuration differs from the saved one), whether
it is persistent and its description each cost one libvirt round trip per domain. The first
three only change when a domain is defined, undefined or started, which libvirt announces with
lifecycle events; the description also with its metadata event (`events.CHANGE_EVENTS`). So
VirtDancer asks once and remembers until the event arrives, or until it changes the domain
itself. Without events (a driver that has none) nothing is remembered.
"""

import libvirt

from .kept_per_domain import KeptPerDomain


class DomainFacts(KeptPerDomain):
    """The facts of each domain of one host (a `HostConnection`), kept as one dict per domain:
    fact name -> (what it was asked for, its value)."""

    def events_told(self):
        return self._host.events_supported

    def on_domain_changed(self, uuid):
        # None is a change to possibly every domain's volumes (a resize): no fact here
        # depends on them.
        if uuid is not None:
            self.forget(uuid)

    # Queries.

    def os_type(self, dom, uuid):
        return self._fact(uuid, "os_type", None, dom.OSType)

    def updated(self, dom, uuid, domain_id):
        # Asked again for a new domain ID: a restart makes the live configuration the saved one.
        return self._fact(uuid, "updated", domain_id, lambda: bool(dom.isUpdated()))

    def persistent(self, dom, uuid):
        return self._fact(uuid, "persistent", None, lambda: bool(dom.isPersistent()))

    def description(self, dom, uuid, persistent):
        """Its <description> (of its definition, when it has one), "" when none."""
        # Kept only if libvirt tells the metadata event that changes it.
        return self._fact(uuid, "description", persistent,
                          lambda: description_of(dom, persistent),
                          keepable=self._host.change_events_supported)

    def _fact(self, uuid, name, asked_for, ask, keepable=True):
        """The fact `name` kept for the domain `uuid` if it was asked for `asked_for`, else
        what `ask()` says now, kept for next time."""
        facts, stamp = self.get(uuid)
        if facts is not None and name in facts and facts[name][0] == asked_for:
            return facts[name][1]
        value = ask()
        if not keepable:
            return value
        if facts is None:
            # Refused if the domain changed while libvirt was being asked.
            self.keep(uuid, stamp, {name: (asked_for, value)})
        else:
            # Into the kept dict, shared by every request: once the domain changes it is
            # no longer the kept one, and what is written into it then is never read.
            facts[name] = (asked_for, value)
        return value


def description_of(dom, persistent):
    """The domain's <description> (of its definition, when it has one), "" when none."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if persistent else libvirt.VIR_DOMAIN_AFFECT_LIVE
    try:
        return dom.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, flags) or ""
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return ""
        raise
