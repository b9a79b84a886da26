"""Moving a VM from one host of the registry to another with libvirt's peer-to-peer migration.

Peer-to-peer: VirtDancer asks the source's libvirtd, which connects to the destination's by the
URI VirtDancer knows it by, so that URI must reach the destination from the source too (a
`qemu+tcp://` or `qemu+tls://` address both see; `qemu:///system` would mean the source itself).
A running VM moves live (or paused while it moves, with live off) with its definition; a shut-off
VM moves offline, which is its definition only. The UUID stays; the source forgets the VM.

While libvirt migrates, the calling thread waits in `migrateToURI3`; a watcher thread reads the
job's progress from `jobStats` for whoever asked. `abort` cancels from any other thread.
"""

import threading
import weakref
import xml.etree.ElementTree as ET

import libvirt

from .errors import HostUnavailable, HypervisorError, Refused, Unsupported
from .hostinfo import is_local_uri

# How often the watcher reads the job's progress, in seconds.
PROGRESS_INTERVAL = 0.5

# The source's libvirtd could not reach the destination's (no route, refused, a dead RPC).
_UNREACHABLE = {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_NO_CONNECT,
                libvirt.VIR_ERR_AUTH_FAILED}
# The driver cannot migrate at all (libvirt's test driver has no peer-to-peer migration).
_CANNOT = {libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED}


class MigrationAborted(HypervisorError):
    """The migration was cancelled (`abort`) before it finished; the VM stayed where it was."""


class DestinationUnavailable(HostUnavailable):
    """The destination host cannot be reached, by VirtDancer or by the source's libvirtd."""


class Migration:
    """Migrations of the VMs of one host (a `HostConnection`, the source)."""

    def __init__(self, host):
        self.host = host

    def check(self, uuid, destination, *, live=True, offline=False):
        """Refuse now what `migrate` would refuse at once: a destination away or the same host
        as this one, a VM in the wrong state. Answers libvirt's flags for the migration."""
        if is_local_uri(destination.uri):
            raise Refused(f"the destination host {destination.name} is known by a local URI, "
                          f"which the libvirtd of {self.host.name} cannot connect to: list it "
                          "in virtdancer.hosts by an address (qemu+tcp://, qemu+tls://, "
                          "qemu+ssh://)")
        target = _destination_conn(destination)
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            _refuse_same_host(conn, target, self.host.name, destination.name)
            return _flags(dom, dom.name(), live, offline)

    def migrate(self, uuid, destination, *, live=True, offline=False, progress=None,
                progress_interval=PROGRESS_INTERVAL):
        """Move the VM `uuid` to `destination` (another host's `HostConnection`); its name.

        `progress(fraction)` is told the share of the data moved, 0..1, every
        `progress_interval` seconds while a running VM moves.
        """
        flags = self.check(uuid, destination, live=live, offline=offline)
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            name = dom.name()
            watched = None if flags & libvirt.VIR_MIGRATE_OFFLINE else progress
            try:
                with _watching(dom, watched, progress_interval):
                    dom.migrateToURI3(destination.uri, {}, flags)
            except libvirt.libvirtError as error:
                raise self._translate(conn, error, destination.name) from error
        return name

    def progress(self, uuid):
        """The share of a running migration's data moved so far, 0..1; None when unknown."""
        with self.host.session() as conn:
            return _fraction(conn.lookupByUUIDString(uuid).jobStats())

    def abort(self, uuid):
        """Cancel the migration (or other job) the VM `uuid` is in; `Refused` if there is none."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            try:
                dom.abortJob()
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
                    raise Refused(f"{dom.name()} is not being migrated") from None
                raise

    def _translate(self, conn, error, destination):
        """What a failed `migrateToURI3` means, where the generic mapping would mislead."""
        code = error.get_error_code()
        message = error.get_error_message() or str(error)
        alive = _is_alive(conn)
        if alive and code in _UNREACHABLE:
            # The source is fine (it answered): the RPC that failed was its own to the other.
            return DestinationUnavailable(
                f"{self.host.name} cannot reach the destination host {destination}: {message}")
        if code == libvirt.VIR_ERR_OPERATION_ABORTED:
            return MigrationAborted(f"the migration was cancelled: {message}")
        if code == libvirt.VIR_ERR_CPU_INCOMPATIBLE:
            return Refused(f"the CPU of {destination} cannot run this VM: {message}")
        if alive and code in _CANNOT:
            return Unsupported(f"{self.host.name}'s libvirt driver cannot migrate VMs: {message}")
        return self.host.translate(conn, error)


def _destination_conn(destination):
    try:
        return destination.get()
    except HostUnavailable as error:
        raise DestinationUnavailable(f"the destination host {destination.name} is unreachable: "
                                     f"{error.message}", error.retry_after) from None


def _refuse_same_host(conn, target, source_name, destination_name):
    """Two names of the registry for one libvirtd: libvirt would refuse, in other words."""
    try:
        here, there = _host_uuid(conn), _host_uuid(target)
    except libvirt.libvirtError:
        return    # a driver that does not say; libvirt checks again when it migrates
    if here is not None and here == there:    # the test driver's hosts have none
        raise Refused(f"{source_name} and {destination_name} are the same libvirt host (the "
                      "same host UUID): a VM cannot migrate to where it is")


# Each connection's host UUID, asked once: a daemon's host UUID is fixed while it runs, and a
# restarted one is a new connection. The capabilities it comes in are a round trip and ~10 KB.
_host_uuids = weakref.WeakKeyDictionary()
_host_uuids_lock = threading.Lock()


def _host_uuid(conn):
    with _host_uuids_lock:
        if conn in _host_uuids:
            return _host_uuids[conn]
    found = ET.fromstring(conn.getCapabilities()).findtext("host/uuid")
    with _host_uuids_lock:
        _host_uuids[conn] = found
    return found


def _flags(dom, name, live, offline):
    """libvirt's migration flags for this VM and request; `Refused` for a mismatch of state."""
    active = bool(dom.isActive())
    persistent = bool(dom.isPersistent())
    flags = libvirt.VIR_MIGRATE_PEER2PEER
    if persistent:
        # The definition moves with the VM: it lives on the destination from now on.
        flags |= libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if offline:
        if active:
            raise Refused(f"{name} is running: offline migration moves only a shut-off VM's "
                          "definition; migrate it live, or shut it down first")
        return flags | libvirt.VIR_MIGRATE_OFFLINE
    if not active:
        raise Refused(f"{name} is shut off: only its definition can move, with offline: true")
    return flags | libvirt.VIR_MIGRATE_LIVE if live else flags


class _watching:
    """While inside, a thread tells `progress` the job's fraction done, every interval."""

    def __init__(self, dom, progress, interval=PROGRESS_INTERVAL):
        self.dom = dom
        self.progress = progress
        self.interval = interval
        self.done = threading.Event()
        self.thread = None

    def __enter__(self):
        if self.progress is not None:
            self.thread = threading.Thread(target=self._watch, daemon=True,
                                           name="virtdancer-migration-progress")
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        if self.thread is not None:
            self.thread.join()

    def _watch(self):
        while not self.done.wait(self.interval):
            try:
                fraction = _fraction(self.dom.jobStats())
            except libvirt.libvirtError:
                return    # the job (or the domain, on this host) is gone: nothing to report
            if fraction is not None:
                self.progress(fraction)


def _fraction(stats):
    """The share of the job's data moved, 0..1, from `jobStats`; None before it is known.

    From what remains rather than what was processed: QEMU sends a page of zeros as a few
    bytes and counts only those, so the processed figure of a mostly empty guest never nears
    the total.
    """
    total = stats.get("data_total") or 0
    if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE or not total:
        return None
    return min(1.0, max(0.0, 1 - stats.get("data_remaining", total) / total))


def _is_alive(conn):
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False
