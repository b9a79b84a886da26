"""What a host's libvirt connection tells: typed events, and the interface of their listeners.

libvirt announces a domain's changes (started, suspended, a device added, its metadata
changed, a job completed, ...) on its event loop. A host's connection turns each into a
`DomainEvent`, a storage pool's or virtual network's into a `PoolEvent` or `NetworkEvent`,
and its own coming and going into a `HostEvent`, and hands them to every listener
added with `add_listener` (a host's `HostConnection`, or the `HostRegistry` for every host at
once): caches stay true with them, and live updates in the browser are built on them.

Listeners are called on libvirt's event loop thread: they must return quickly and never call
libvirt themselves.
"""

from dataclasses import dataclass, field

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

# How each lifecycle event happened, in words, by libvirt's detail number (its enums count
# from 0 in this order; a number libvirt adds later is said as a number).
LIFECYCLE_DETAILS = {
    "defined": ("added", "updated", "renamed", "from a snapshot"),
    "undefined": ("removed", "renamed"),
    "started": ("booted", "migrated in", "restored", "from a snapshot", "woken up"),
    "suspended": ("paused", "migrating", "paused on an I/O error", "paused by the watchdog",
                  "restored paused", "from a snapshot", "paused on a libvirt API error",
                  "paused for post-copy migration", "post-copy migration failed",
                  "paused by a guest panic"),
    "resumed": ("unpaused", "migrated in", "from a snapshot", "post-copy migration",
                "post-copy migration failed"),
    "stopped": ("shut down", "destroyed", "crashed", "migrated away", "saved", "failed",
                "from a snapshot"),
    "shutdown": ("finished", "by the guest", "by the host"),
    "pmsuspended": ("to memory", "to disk"),
    "crashed": ("panicked", "crashloaded"),
}

# Metadata kinds of VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, in words.
METADATA_KINDS = {
    libvirt.VIR_DOMAIN_METADATA_DESCRIPTION: "description",
    libvirt.VIR_DOMAIN_METADATA_TITLE: "title",
    libvirt.VIR_DOMAIN_METADATA_ELEMENT: "element",
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
    """A domain of `host` changed.

    `kind` is what libvirt said: "lifecycle" (then `event` says which in words, "suspended",
    and `detail` is libvirt's number saying how, `detail_words` the same in words),
    "reboot", "device-added", "device-removed", "metadata" or "job-completed"; `info` holds
    what else the event carries (the device's alias, the metadata's kind, the job's figures).
    """

    host: str
    uuid: str
    name: str
    event: str
    detail: int
    kind: str = "lifecycle"
    detail_words: str = ""
    info: dict = field(default_factory=dict, compare=False)


# A storage pool's lifecycle events, in words, by libvirt's number (its enum counts from 0 in
# this order); a refresh comes as an event of its own (VIR_STORAGE_POOL_EVENT_ID_REFRESH).
POOL_EVENTS = ("defined", "undefined", "started", "stopped", "created", "deleted")
# A virtual network's lifecycle events, likewise.
NETWORK_EVENTS = ("defined", "undefined", "started", "stopped")


@dataclass(frozen=True)
class PoolEvent:
    """The storage pool `name` of `host` was `event` ("defined", "started", "refreshed", ...)."""

    host: str
    name: str
    event: str


@dataclass(frozen=True)
class NetworkEvent:
    """The virtual network `name` of `host` was `event` ("defined", "started", ...)."""

    host: str
    name: str
    event: str


def in_words(words, number):
    """libvirt's event `number` in `words`; one libvirt adds later is said as a number."""
    return words[number] if 0 <= number < len(words) else f"event {number}"


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

    def on_object_event(event):
        """A `PoolEvent` or `NetworkEvent` (optional: a listener without it is not told)."""


def lifecycle_event(host, dom, event, detail):
    words = LIFECYCLE_EVENTS.get(event, f"event {event}")
    details = LIFECYCLE_DETAILS.get(words, ())
    return DomainEvent(host=host, uuid=dom.UUIDString(), name=dom.name(), event=words,
                       detail=detail,
                       detail_words=details[detail] if 0 <= detail < len(details)
                       else f"detail {detail}")


def _other_event(kind, host, dom, **info):
    return DomainEvent(host=host, uuid=dom.UUIDString(), name=dom.name(), event=kind,
                       detail=0, kind=kind, info=info)


def _job_figures(stats):
    """The job's figures that are plain numbers or words (libvirt's typed parameters)."""
    return {key: value for key, value in (stats or {}).items()
            if isinstance(value, (int, float, str)) and not isinstance(value, bool)}


# The other events a connection registers, each with how to type what libvirt passes (the
# arguments after the domain, without the opaque value).
OTHER_EVENTS = {
    libvirt.VIR_DOMAIN_EVENT_ID_REBOOT:
        lambda host, dom: _other_event("reboot", host, dom),
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED:
        lambda host, dom, alias: _other_event("device-added", host, dom, device=alias),
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED:
        lambda host, dom, alias: _other_event("device-removed", host, dom, device=alias),
    libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE:
        lambda host, dom, kind, namespace: _other_event(
            "metadata", host, dom, metadata=METADATA_KINDS.get(kind, f"kind {kind}"),
            namespace=namespace),
    libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED:
        lambda host, dom, stats: _other_event("job-completed", host, dom,
                                              job=_job_figures(stats)),
}
