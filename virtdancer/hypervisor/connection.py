"""One long-lived, supervised libvirt connection per host.

libvirt connections are thread-safe, so every request thread shares one. A supervisor thread
opens it, and reopens it with exponential backoff whenever it is lost: libvirt's close callback
tells us at once when libvirtd goes away, and keepalive probes tell us when a remote host stops
answering. Requests never wait for a reconnection: while the connection is down they get
`HostUnavailable` at once, with the number of seconds until the next attempt.
"""

import logging
import math
import threading
import time
from contextlib import contextmanager

import libvirt

from . import eventloop
from .errors import (
    HostUnavailable,
    HypervisorFailure,
    InvalidRequest,
    NoSuchDomain,
    NoSuchStorage,
    Refused,
    Unsupported,
)
from .events import (
    CHANGE_EVENTS,
    NETWORK_EVENTS,
    OTHER_EVENTS,
    POOL_EVENTS,
    HostEvent,
    NetworkEvent,
    PoolEvent,
    in_words,
    lifecycle_event,
)

log = logging.getLogger(__name__)

# Error codes that mean the connection itself is gone, whatever the call was.
_CONNECTION_ERRORS = {
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_AUTH_FAILED,
}

# Errors that say the request itself was wrong (what VirtDancer passed on from a client).
_THE_CLIENTS_MISTAKES = {
    libvirt.VIR_ERR_XML_ERROR,
    libvirt.VIR_ERR_XML_DETAIL,
    libvirt.VIR_ERR_XML_INVALID_SCHEMA,     # what VIR_DOMAIN_DEFINE_VALIDATE refuses
    libvirt.VIR_ERR_INVALID_ARG,
    libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
}
# Errors that say the request is fine but not possible as things are: a state, a name in use.
_NOT_NOW = {
    libvirt.VIR_ERR_OPERATION_INVALID,
    libvirt.VIR_ERR_DOM_EXIST,
    libvirt.VIR_ERR_NETWORK_EXIST,
}

_CLOSE_REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "connection error",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "libvirtd closed the connection",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "keepalive timed out",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "closed by client",
}


class HostConnection:
    """A libvirt connection to one host, kept open for the life of the application.

    Listeners added with `add_listener` (see `events.IEventListener`) are told when a new
    connection is established (`on_connected()`), when it comes or goes (`on_host_event`, a
    `HostEvent`) and when a domain's lifecycle changes (`on_domain_event`, a `DomainEvent`), so
    that caches above can stay true without asking libvirt on every request; those with an
    `on_object_event` also when a storage pool or network changes (`PoolEvent`, `NetworkEvent`).
    """

    def __init__(self, uri, *, name="default", keepalive_interval=5, keepalive_count=3,
                 retry_min=0.5, retry_max=15.0, connect_wait=5.0):
        self.uri = uri
        self.name = name
        self.keepalive_interval = keepalive_interval
        self.keepalive_count = keepalive_count
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.connect_wait = connect_wait
        self.connections_opened = 0
        self.events_supported = False
        # Whether libvirt also announces device, medium and metadata changes on this
        # connection: only then may a VM's devices be remembered between requests.
        self.change_events_supported = False
        self._event_callbacks = ()
        self._object_callbacks = None  # (deregister, id) of its pools' and networks' callbacks
        self._cond = threading.Condition()
        self._conn = None
        self._stopping = False
        self._attempts = 0
        self._retry_delay = retry_min
        self._next_attempt = 0.0
        self._last_error = "not connected yet"
        self._state = "connecting"            # connected, connecting or unavailable
        self._state_since = time.time()
        self.facts = {}                       # the hypervisor's type and version, once known
        self._listeners = []
        self._retired = []   # lost connections, released by the supervisor thread
        self._telling_loss = False   # a loss is being told to the listeners
        self._thread = None

    def add_listener(self, listener):
        self._listeners.append(listener)

    def changed(self, uuid=None):
        """VirtDancer itself changed the domain `uuid` (None: possibly every domain, as a
        volume's resize does): listeners forget it now, not when libvirt's event comes."""
        self._tell_changed(uuid)

    # -- life cycle ------------------------------------------------------------------------

    def start(self):
        """Start supervising; wait a little for the first connection, never forever."""
        eventloop.ensure_running()
        self._thread = threading.Thread(target=self._supervise, daemon=True,
                                        name="virtdancer-host-supervisor")
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self._attempts > 0, timeout=self.connect_wait)
        return self

    def close(self):
        """Stop the supervisor and let go of the connection."""
        with self._cond:
            self._stopping = True
            conn, self._conn = self._conn, None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._release_retired()
        if conn is not None:
            self._dispose(conn)

    @property
    def connected(self):
        return self._conn is not None

    def status(self):
        """`{state, reason, since}`: connected, connecting (not yet tried) or unavailable (with
        libvirt's reason), and the Unix time that state began."""
        with self._cond:
            reason = self._last_error if self._state == "unavailable" else None
            return {"state": self._state, "reason": reason, "since": self._state_since}

    def _set_state(self, state):
        # Called with self._cond held.
        if state != self._state:
            self._state = state
            self._state_since = time.time()

    # -- for the rest of the hypervisor service ---------------------------------------------

    def get(self):
        """The live connection, or `HostUnavailable` at once if there is none."""
        conn = self._conn
        if conn is None:
            raise self._unavailable()
        return conn

    @contextmanager
    def session(self):
        """Yield the connection; translate any libvirt error raised inside."""
        conn = self.get()
        try:
            yield conn
        except libvirt.libvirtError as error:
            raise self.translate(conn, error) from error

    def translate(self, conn, error):
        """Map a libvirt error to VirtDancer's errors; notice a dead connection."""
        code = error.get_error_code()
        message = error.get_error_message() or str(error)
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return NoSuchDomain(message)
        if code in (libvirt.VIR_ERR_NO_STORAGE_POOL, libvirt.VIR_ERR_NO_STORAGE_VOL):
            return NoSuchStorage(message)
        if code in _CONNECTION_ERRORS or not _is_alive(conn):
            self._lost(conn, message)
            return self._unavailable()
        if code == libvirt.VIR_ERR_NO_SUPPORT:
            return Unsupported.from_libvirt(message)
        if code in _THE_CLIENTS_MISTAKES:
            return InvalidRequest(message)
        if code in _NOT_NOW:
            return Refused(message)
        return HypervisorFailure(message)

    # -- supervision -----------------------------------------------------------------------

    def _unavailable(self):
        wait = math.ceil(self._next_attempt - time.monotonic())
        return HostUnavailable(
            f"the hypervisor is unreachable ({self._last_error}); VirtDancer is reconnecting",
            retry_after=wait)

    def _supervise(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping
                                    or (self._conn is None and not self._telling_loss))
                if self._stopping:
                    return
                wait = self._next_attempt - time.monotonic()
                if wait > 0 and self._cond.wait_for(lambda: self._stopping, timeout=wait):
                    return
            self._release_retired()
            try:
                conn = self._open()
            except libvirt.libvirtError as error:
                with self._cond:
                    self._attempts += 1
                    self._last_error = error.get_error_message() or str(error)
                    self._set_state("unavailable")
                    self._next_attempt = time.monotonic() + self._retry_delay
                    log.info("connecting to %s failed (%s); next try in %.1f s",
                             self.uri, self._last_error, self._retry_delay)
                    self._retry_delay = min(self._retry_delay * 2, self.retry_max)
                    self._cond.notify_all()
                continue
            for listener in self._listeners:
                listener.on_connected()
            self._tell(HostEvent(self.name, "connected"))
            with self._cond:
                self._attempts += 1
                self._retry_delay = self.retry_min
                self._next_attempt = 0.0
                stopped = self._stopping
                if not stopped:
                    self._conn = conn
                    self._set_state("connected")
                self._cond.notify_all()
            if stopped:
                self._dispose(conn)
                return
            level = logging.WARNING if self.connections_opened > 1 else logging.INFO
            log.log(level, "connected to libvirt at %s", self.uri)

    def _open(self):
        conn = libvirt.open(self.uri)
        self.connections_opened += 1
        try:
            conn.setKeepAlive(self.keepalive_interval, self.keepalive_count)
        except libvirt.libvirtError:
            # Drivers that run inside this process (the test driver) have no keepalive: there
            # is no peer that could go silent.
            pass
        conn.registerCloseCallback(self._on_close, None)
        self.facts = _facts(conn)
        callbacks = []
        try:
            callbacks.append(conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, None))
            self.events_supported = True
        except libvirt.libvirtError:
            self.events_supported = False
        changes = 0
        # libvirt takes one callback per event of a connection: each of the other events has
        # one that forgets what the VM's kept devices may no longer be, then tells the
        # listeners (the live channel among them) the typed event.
        for event_id in _other_event_ids() if self.events_supported else ():
            try:
                callbacks.append(conn.domainEventRegisterAny(
                    None, event_id, self._on_other(event_id), None))
            except libvirt.libvirtError:
                continue   # a driver without this event: the others still come
            changes += event_id in CHANGE_EVENTS
        self.change_events_supported = changes == len(CHANGE_EVENTS)
        self._event_callbacks = tuple(callbacks)
        self._object_callbacks = self._register_object_events(conn)
        return conn

    def _register_object_events(self, conn):
        """Register the storage pools' and networks' events; answer how to deregister each."""
        registrations = (
            (conn.storagePoolEventRegisterAny, conn.storagePoolEventDeregisterAny,
             libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, self._on_pool_lifecycle),
            (conn.storagePoolEventRegisterAny, conn.storagePoolEventDeregisterAny,
             libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, self._on_pool_refresh),
            (conn.networkEventRegisterAny, conn.networkEventDeregisterAny,
             libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, self._on_network_lifecycle))
        deregistrations = []
        for register, deregister, event_id, callback in registrations:
            try:
                deregistrations.append((deregister, register(None, event_id, callback, None)))
            except libvirt.libvirtError:
                pass   # a driver without pools or networks, or without their events
        return deregistrations

    def _release(self, conn, event_callbacks, object_callbacks=()):
        """Drop the callbacks, which hold references to the connection and so keep it open."""
        for callback_id in event_callbacks or ():
            try:
                conn.domainEventDeregisterAny(callback_id)
            except libvirt.libvirtError:
                pass
        for deregister, callback_id in object_callbacks or ():
            try:
                deregister(callback_id)
            except libvirt.libvirtError:
                pass
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass

    def _dispose(self, conn):
        """Release and close a connection no request can be using any more."""
        self._release(conn, self._event_callbacks, self._object_callbacks)
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    def _release_retired(self):
        # Lost connections are not closed: request threads may still hold one, and closing a
        # libvirt-python connection under them would turn their libvirt errors into Python
        # errors. Without its callbacks, a connection is freed with its last reference.
        with self._cond:
            retired, self._retired = self._retired, []
        for conn, event_callbacks, object_callbacks in retired:
            self._release(conn, event_callbacks, object_callbacks)

    def _lost(self, conn, why):
        with self._cond:
            if self._conn is not conn:
                return
            self._conn = None
            self._last_error = why
            self._set_state("unavailable")
            self._next_attempt = 0.0
            # The supervisor reconnects once the loss is told: its "connected" must never
            # reach the listeners before this "lost" (they would take the host for lost).
            self._telling_loss = True
            # Released later by the supervisor: this may run inside libvirt's close callback,
            # where unregistering that callback would deadlock.
            self._retired.append((conn, self._event_callbacks, self._object_callbacks))
        log.warning("lost the libvirt connection to %s: %s", self.uri, why)
        try:
            self._tell(HostEvent(self.name, "lost", why))
        finally:
            with self._cond:
                self._telling_loss = False
                self._cond.notify_all()

    def _tell(self, event):
        for listener in self._listeners:
            if hasattr(listener, "on_host_event"):
                listener.on_host_event(event)

    def _tell_changed(self, uuid):
        for listener in self._listeners:
            if hasattr(listener, "on_domain_changed"):
                listener.on_domain_changed(uuid)

    # Both callbacks run on the libvirt event loop thread.

    def _on_close(self, conn, reason, _opaque):
        self._lost(conn, _CLOSE_REASONS.get(reason, f"closed (reason {reason})"))

    def _on_lifecycle(self, _conn, dom, event, detail, _opaque):
        self._tell_domain(lifecycle_event(self.name, dom, event, detail))

    def _on_other(self, event_id):
        """The callback of one of `events.CHANGE_EVENTS` or `events.OTHER_EVENTS`: libvirt
        passes the connection, the domain, the event's own arguments and the opaque value."""
        changes = event_id in CHANGE_EVENTS
        typed = OTHER_EVENTS.get(event_id)

        def callback(_conn, dom, *arguments):
            if changes:
                self._tell_changed(dom.UUIDString())
            if typed is not None:
                self._tell_domain(typed(self.name, dom, *arguments[:-1]))
        return callback

    def _tell_domain(self, event):
        for listener in self._listeners:
            listener.on_domain_event(event)

    def _on_pool_lifecycle(self, _conn, pool, event, _detail, _opaque):
        self._tell_object(PoolEvent(self.name, pool.name(), in_words(POOL_EVENTS, event)))

    def _on_pool_refresh(self, _conn, pool, _opaque):
        self._tell_object(PoolEvent(self.name, pool.name(), "refreshed"))

    def _on_network_lifecycle(self, _conn, network, event, _detail, _opaque):
        self._tell_object(NetworkEvent(self.name, network.name(),
                                        in_words(NETWORK_EVENTS, event)))

    def _tell_object(self, event):
        for listener in self._listeners:
            if hasattr(listener, "on_object_event"):
                listener.on_object_event(event)


def _other_event_ids():
    """The events besides the lifecycle's, each once, in a stable order."""
    return sorted(set(CHANGE_EVENTS) | set(OTHER_EVENTS))


def _facts(conn):
    """The hypervisor's type and version ("QEMU", "7.2.0"), asked once per connection."""
    def dotted(number):
        return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"

    facts = {}
    try:
        facts["type"] = conn.getType()
        facts["version"] = dotted(conn.getVersion())
    except libvirt.libvirtError:
        pass
    try:
        facts["libvirt_version"] = dotted(conn.getLibVersion())
    except libvirt.libvirtError:
        pass
    return facts


def _is_alive(conn):
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False
