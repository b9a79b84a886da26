"""What a host's libvirt connection tells: typed events, and the interface of their listeners.

libvirt announces a domain's lifecycle changes (started, suspended, stopped, ...) on its event
loop. A host's connection turns each into a `DomainEvent`, and its own coming and going into a
`HostEvent`, and hands them to every listener added with `add_listener` (a host's
`HostConnection`, or the `HostRegistry` for every host at once): caches stay true with them, and
live updates in the browser are built on them.

Listeners are called on libvirt's event loop thread: they must return quickly and never call
libvirt themselves.
"""

from dataclasses import dataclass

import libvirt
from zope.interface import Interface

# libvirt's lifecycle events, in words.
LIFECYCLE_EVENTS = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: "defined",
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: "undefined",
    libvirt.VIR_DOMAIN_EVENT_STARTED: "started",
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: "suspended",
    libvirt.VIR_DOMAIN_EVENT_RESUMED: "resumed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED: "stopped",
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: "pmsuspended",
    libvirt.VIR_DOMAIN_EVENT_CRASHED: "crashed",
}

# libvirt's other events that say a domain's devices, media, sources or metadata changed
# without a lifecycle event: a device hot-plugged or unplugged (by anyone, virsh included), a
# CD-ROM tray opened or a medium ejected, a block job that moved a disk to another file, a
# migration finished, the guest agent (dis)connected, the description edited.
CHANGE_EVENTS = (
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
    libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_DISK_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
    libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
    libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
    libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
)


@dataclass(frozen=True)
class DomainEvent:
    """A domain of `host` changed: `event` in words ("suspended"), and libvirt's `detail`, the
    number that says how (for "stopped": destroyed, shut down, crashed, ...)."""

    host: str
    uuid: str
    name: str
    event: str
    detail: int


@dataclass(frozen=True)
class HostEvent:
    """The connection to `host` was made (`connected`) or `lost`, with libvirt's reason."""

    host: str
    state: str
    reason: str = None


class IEventListener(Interface):
    """What a listener of a host's connection offers (every method is called on libvirt's
    event loop thread, or the connection's supervisor thread)."""

    def on_connected():
        """A new connection is established: events may have been missed meanwhile."""

    def on_domain_event(event):
        """A `DomainEvent`."""

    def on_host_event(event):
        """A `HostEvent`."""

    def on_domain_changed(uuid):
        """The devices, media or metadata of the domain `uuid` changed (one of `CHANGE_EVENTS`,
        or VirtDancer's own change); None: perhaps of every domain. Optional."""


def lifecycle_event(host, dom, event, detail):
    return DomainEvent(host=host, uuid=dom.UUIDString(), name=dom.name(),
                       event=LIFECYCLE_EVENTS.get(event, f"event {event}"), detail=detail)
