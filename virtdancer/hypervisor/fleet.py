"""The VMs of one host: what they are and what can be done to them, in plain Python values.

Listing every VM costs a fixed number of libvirt round trips however many VMs exist: domains,
their state, CPU time, memory and vCPUs come from `getAllDomainStats`, persistence and autostart
from `listAllDomains` filters (the transient list, usually empty, rather than the persistent
one), and name, UUID and ID travel with the domain objects themselves.
Only where a driver lacks a stats group (the test driver has just "state") does VirtDancer fall
back to asking each VM.
"""

import functools
import time
from operator import attrgetter
from typing import NamedTuple

import libvirt

from . import display
from .errors import InvalidState
from .facts import DomainFacts
from .known_domains import KnownDomains
from .overlaps import ActionOverlaps

ACTIONS = ("start", "pause", "resume", "shutdown", "reboot", "reset", "destroy")

# The names `virsh domstate` uses, so that what users read matches their other tools.
STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: "no state",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "idle",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "in shutdown",
    libvirt.VIR_DOMAIN_SHUTOFF: "shut off",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
}

_RUNNING = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED)
_PAUSED = libvirt.VIR_DOMAIN_PAUSED

_INACTIVE_GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_BALLOON
                    | libvirt.VIR_DOMAIN_STATS_VCPU)
_ACTIVE_GROUPS = _INACTIVE_GROUPS | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
_ONLY_ACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
_ONLY_INACTIVE = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE
_MEMORY_KEYS = ("balloon.maximum", "balloon.current", "vcpu.current")
# Requests for one VM this close together (seconds) share one answer from libvirt: pollers of a
# busy VM then cost one round trip between them, not one each (each lets go of the interpreter
# lock, a thread switch under load). Far below any poller's interval, and anything that changes
# the VM (an event, VirtDancer's own change) drops the shared answer at once (see `DomainRef`).
SHARED_FOR = 0.02


class VMSummary(NamedTuple):
    """What a list of the host's VMs says of each."""

    uuid: str
    name: str
    active: bool            # it has an ID on the host: running, paused, in shutdown…


class VMDetail(NamedTuple):
    """Everything VirtDancer knows of one VM at once, in libvirt's own units.

    The views decide how an answer shows it (the first VirtDancer's detail object); this
    package only says what is true.
    """

    id: int                 # -1 unless active
    uuid: str
    name: str
    active: bool
    persistent: bool        # defined, not only running
    updated: bool           # its definition changed since it started (the next boot differs)
    os: str                 # the guest's OS type, e.g. "hvm"
    autostart: bool
    max_memory_kib: int
    memory_kib: int
    cpu_time_ns: int        # 0 unless active
    vcpus: int
    state: int              # libvirt's virDomainState
    state_name: str         # as `virsh domstate` says it
    # Its <description>, "" when none; None in lists, which would pay a round trip per VM.
    description: str | None = None


class DomainRef:
    """One domain as found on the host: its identity, and a handle only this package uses.

    Each libvirt-python call lets go of the interpreter lock and takes it back, which costs a
    thread switch when other requests wait for it; so what a ref knows is asked once. A kept ref
    (`KnownDomains`) lives until an event or VirtDancer changes its domain, so the detail it
    shares (`recent`: when it was asked, and the `VMDetail`) goes with it.
    """

    __slots__ = ("uuid", "name", "id", "active", "handle", "recent")

    def __init__(self, dom, uuid=None):
        # The UUID it was looked up by, in libvirt's own spelling, need not be asked again.
        self.uuid = uuid.lower() if uuid is not None else dom.UUIDString()
        self.name = dom.name()
        self.id = dom.ID()
        self.active = self.id >= 0
        self.handle = dom
        self.recent = None


def state_name(state):
    return STATE_NAMES.get(state, f"unknown ({state})")


class Fleet:
    """Queries and lifecycle actions on the domains of one host."""

    def __init__(self, host):
        self.host = host
        self._facts = DomainFacts(host)
        self._known = KnownDomains(host)
        self._overlaps = ActionOverlaps()
        self._lacks_stats = None    # the connection whose driver lacks the stats groups
        self.shared_for = SHARED_FOR
        self.clock = time.monotonic

    # -- queries ---------------------------------------------------------------------------

    def summaries(self):
        """A `VMSummary` of every domain, sorted by name: one round trip."""
        with self.host.session() as conn:
            domains = conn.listAllDomains(0)
        rows = [VMSummary(dom.UUIDString(), dom.name(), dom.ID() >= 0) for dom in domains]
        return sorted(rows, key=_by_name)

    def details(self):
        """The `VMDetail` of every domain, sorted by name, from bulk calls."""
        with self.host.session() as conn:
            records = _all_stats(conn)
            transient = _uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
            autostart = _uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
            rows = []
            for dom, uuid, stats in records:
                try:
                    rows.append(self._detail(dom, uuid, dom.name(), dom.ID(), stats,
                                             uuid not in transient, uuid in autostart))
                except libvirt.libvirtError as error:
                    # Undefined while the fleet was being listed: it is no longer part of it.
                    if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                        raise
        return sorted(rows, key=_by_name)

    def find(self, uuid):
        """The domain with this UUID (hyphenated, either case), or `NoSuchDomain`: as found
        before, until an event says it changed (see known_domains)."""
        uuid = uuid.lower()
        ref, stamp = self._known.get(uuid)
        if ref is None:
            with self.host.session() as conn:
                ref = DomainRef(conn.lookupByUUIDString(uuid), uuid)
            self._known.keep(uuid, stamp, ref)
        return ref

    def detail(self, ref):
        """The `VMDetail` of one domain: the one another request had `shared_for` seconds ago
        at most, else libvirt's."""
        asked = self.clock()
        recent = ref.recent
        if recent is not None and asked - recent[0] < self.shared_for:
            return recent[1]
        with self.host.session() as conn:
            detail = self._detail_of(conn, ref)
            if (detail.state == libvirt.VIR_DOMAIN_SHUTOFF) == ref.active:
                # Started or stopped behind VirtDancer's back, its event not here yet: the
                # kept ID is not the domain's any more.
                self._known.forget(ref.uuid)
                ref = self.find(ref.uuid)
                detail = self._detail_of(conn, ref)
        ref.recent = (asked, detail)
        return detail

    def _detail_of(self, conn, ref):
        dom = ref.handle
        stats = self._stats_of_one(conn, dom, ref.active)
        persistent = self._facts.persistent(dom, ref.uuid)
        return self._detail(dom, ref.uuid, ref.name, ref.id, stats, persistent,
                            bool(dom.autostart()),
                            self._facts.description(dom, ref.uuid, persistent))

    def run(self, ref, action):
        """Run a lifecycle action; `InvalidState` if the domain's state does not allow it.

        Answers the domain as it is afterwards (starting it gives it a new ID), or None when
        the action made it vanish, as stopping a transient VM does.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        dom = ref.handle
        with self.host.session() as conn:
            with self._overlaps.watch(ref.uuid) as watch:
                state = dom.state()[0]
                call = _action_call(dom, action, state)
                if call is None:
                    raise _invalid(action, state)
                try:
                    call()
                except libvirt.libvirtError as error:
                    refusal = _refusal(conn, ref.uuid, action, state, error, watch)
                    if refusal is not None:
                        raise refusal from None
                    raise
                finally:
                    # Its lifecycle event says so too, but after the answer may be read.
                    self.host.changed(ref.uuid)
            try:
                return DomainRef(conn.lookupByUUIDString(ref.uuid), ref.uuid)
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return None   # a transient VM ceases to exist when it stops
                raise

    def check_running(self, ref, action):
        """`InvalidState` unless the domain's state allows `action` now."""
        with self.host.session():
            state = ref.handle.state()[0]
        if action not in allowed_actions(state, ref.active):
            raise _invalid(action, state)

    # -- consoles --------------------------------------------------------------------------

    def check_console(self, ref):
        """Raise `ConsoleUnavailable` unless this domain's display can be opened now."""
        with self.host.session() as conn:
            display.check_console(conn, ref.handle, self.host.uri)

    def open_console(self, uuid, local):
        """A connected socket to the VNC display of the domain with this UUID."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            display.check_console(conn, dom, self.host.uri)
            return display.open_display(dom, local, self.host.uri)

    # -- helpers ---------------------------------------------------------------------------

    def forget(self, uuid):
        """Drop what is remembered of a domain whose definition VirtDancer just changed (here
        and in every other listener of the host: its devices too)."""
        self.host.changed(uuid.lower())

    def _stats_of_one(self, conn, dom, active):
        """One domain's bulk stats groups, or {} where its driver lacks them."""
        if conn is self._lacks_stats:
            # Known to lack them: `_detail` asks `info()`, and one call is spared.
            return {}
        try:
            groups = _ACTIVE_GROUPS if active else _INACTIVE_GROUPS
            [(_, stats)] = conn.domainListGetStats([dom], groups, 0)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                raise
            stats = {}
        if not _complete(stats, active):
            # Remembered per connection: a reconnection may reach another libvirtd.
            self._lacks_stats = conn
        return stats

    def _detail(self, dom, uuid, name, domain_id, stats, persistent, autostart,
                description=None):
        active = domain_id >= 0
        if _complete(stats, active):
            state = stats["state.state"]
            max_mem, mem, vcpus = (stats[key] for key in _MEMORY_KEYS)
            cpu_time = stats["cpu.time"] if active else 0
        else:
            # This driver lacks a bulk stats group: ask this one domain.
            state, max_mem, mem, vcpus, cpu_time = dom.info()
        if not active:
            # QEMU keeps the last run's CPU time in its stats and the test driver reports the
            # clock; a VM that is not running has used none, as the seed's API said.
            cpu_time = 0
        return VMDetail(
            domain_id, uuid, name, active, persistent,
            self._facts.updated(dom, uuid, domain_id) if active and persistent else False,
            self._facts.os_type(dom, uuid), autostart,
            int(max_mem), int(mem), int(cpu_time), int(vcpus), int(state), state_name(state),
            description)


_by_name = attrgetter("name")


def _complete(stats, active):
    """Whether a domain's bulk stats say all that a `VMDetail` needs."""
    return ("state.state" in stats and all(key in stats for key in _MEMORY_KEYS)
            and (not active or "cpu.time" in stats))


def _all_stats(conn):
    """`(domain, UUID, stats)` for every domain: two bulk calls, or one list where there are
    none."""
    try:
        # CPU time only for running domains: libvirt answers it for a shut-off domain by
        # reading its own process's figures, once per domain, and VirtDancer reports 0 there.
        records = conn.getAllDomainStats(_ACTIVE_GROUPS, _ONLY_ACTIVE)
        records += conn.getAllDomainStats(_INACTIVE_GROUPS, _ONLY_INACTIVE)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        return [(dom, dom.UUIDString(), {}) for dom in conn.listAllDomains(0)]
    # A domain that started or stopped between the two calls is in both: keep one. Its UUID
    # travels along, so that it is asked of libvirt-python once per domain.
    unique = {dom.UUIDString(): (dom, stats) for dom, stats in records}
    return [(dom, uuid, stats) for uuid, (dom, stats) in unique.items()]


def _uuids(conn, flags):
    return {dom.UUIDString() for dom in conn.listAllDomains(flags)}


@functools.cache
def _allowed(state, active):
    """`allowed_actions`, as a tuple."""
    live = active and state != libvirt.VIR_DOMAIN_SHUTOFF
    running = state in _RUNNING
    allowed = {
        "start": state == _PAUSED or not live,     # a paused VM resumes, as the seed's did
        "pause": running,
        "resume": state in (_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED),
        "shutdown": running,
        "reboot": running,
        "reset": running or state == _PAUSED,
        "destroy": live,
    }
    return tuple(action for action in ACTIONS if allowed[action])


def allowed_actions(state, active):
    """The lifecycle actions (of `ACTIONS`, in its order) that a domain in libvirt's `state`
    allows, as a new list; `active`: it has an ID on the host. Plain Python: no libvirt call.

    A list of every VM asks this of each: the few answers there are are worked out once.
    """
    return list(_allowed(state, active))


def _action_call(dom, action, state):
    """The libvirt call that runs `action` in `state`, or None if the state forbids it."""
    if action not in allowed_actions(state, dom.ID() >= 0):
        return None
    if action in ("start", "resume") and state == _PAUSED:
        return dom.resume
    calls = {
        "start": dom.create,
        "resume": lambda: dom.pMWakeup(0),
        "pause": dom.suspend,
        "shutdown": dom.shutdown,
        "reboot": lambda: dom.reboot(0),
        "reset": lambda: dom.reset(0),
        "destroy": dom.destroy,
    }
    return calls[action]


def _invalid(action, state):
    name = state_name(state)
    return InvalidState(f"cannot {action} a VM that is {name}", action, state, name)


def _refusal(conn, uuid, action, checked, error, watch):
    """The `InvalidState` that libvirt's failed `action` call means, or None when libvirt
    failed for another reason (which the session makes a 502).

    Looking at the VM again tells most refusals: its state now forbids the action, or it is
    not the state VirtDancer checked. But another request may have changed the state and
    changed it back (pause, resume) before this look, so `watch` (of this action, from its
    state check until now) says whether one ran meanwhile. QEMU names every such refusal
    VIR_ERR_OPERATION_INVALID; libvirt's test driver calls it an internal error. A real
    failure that happens while another action runs on the same VM is told as a refusal too:
    the client sees the VM's true state and can try again.
    """
    fresh = conn.lookupByUUIDString(uuid)
    now = fresh.state()[0]
    if _action_call(fresh, action, now) is None:
        return _invalid(action, now)
    name = state_name(now)
    libvirt_says = error.get_error_message() or str(error)
    if now != checked or watch.overlapped:
        return InvalidState(f"cannot {action} the VM: another action changed its state "
                            f"meanwhile (libvirt: {libvirt_says}); it is {name} now",
                            action, now, name)
    if error.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
        return InvalidState(f"libvirt refuses to {action} the VM now: {libvirt_says} (it is "
                            f"{name})", action, now, name)
    return None

