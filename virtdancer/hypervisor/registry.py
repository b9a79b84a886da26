"""The host registry: every libvirt host VirtDancer manages, by name, one `Hypervisor` each.

`virtdancer.hosts` lists them, one `name = libvirt URI` per line (remote hosts through
libvirt's own transports: `qemu+ssh://`, `qemu+tls://`, `qemu+tcp://`). Without it there is one
host, `default`, at `virtdancer.libvirt_uri`, as before hosts existed. `virtdancer.default_host`
names the host the first VirtDancer's URLs (`/vm`, `/stats/...`) mean: the first one listed,
unless it says otherwise.

Hosts are asked concurrently, on a small pool of threads the registry owns, so that a fleet of
hosts answers in the time of the slowest, and a host that does not answer in time is reported
as such rather than holding up the others. A host whose driver runs inside this process (the
test driver) is the exception: it answers from memory with nothing to wait for, so it is asked
in the request's own thread while the others work; on threads of their own, such hosts would
only take turns at Python's interpreter lock, slower than one after the other.
"""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from pyramid.exceptions import ConfigurationError
from zope.interface import implementer

from ..interfaces import IHostRegistry
from .errors import HostUnavailable, HypervisorError

HOST_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
DEFAULT_NAME = "default"
# How long a fleet-wide answer waits for one host before it says that host did not answer.
ANSWER_WAIT = 5.0


class HostsSettingsError(ConfigurationError):
    """`virtdancer.hosts` or `virtdancer.default_host` says something VirtDancer cannot use."""


def parse_hosts(text):
    """`[(name, uri)]` from the text of `virtdancer.hosts`, in its order."""
    hosts = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, uri = (part.strip() for part in line.partition("="))
        if not equals or not uri:
            raise HostsSettingsError(f"virtdancer.hosts, line {number}: write `name = libvirt "
                                     f"URI`, not {line[:80]!r}")
        if not HOST_NAME.fullmatch(name):
            raise HostsSettingsError(f"virtdancer.hosts, line {number}: a host name is lowercase "
                                     f"letters, digits and '-', not {name[:80]!r}")
        if name in (known for known, _ in hosts):
            raise HostsSettingsError(f"virtdancer.hosts: the host {name!r} is listed twice")
        hosts.append((name, uri))
    return hosts


@implementer(IHostRegistry)
class HostRegistry:
    """The hosts by name, in the order the settings list them, and which one is the default."""

    def __init__(self, hypervisors, default_name=None):
        if not hypervisors:
            raise HostsSettingsError("virtdancer.hosts lists no host")
        self._hosts = dict(hypervisors)
        self.default_name = default_name or next(iter(self._hosts))
        if self.default_name not in self._hosts:
            raise HostsSettingsError(f"virtdancer.default_host is {self.default_name!r}, which "
                                     f"virtdancer.hosts does not list "
                                     f"({', '.join(self._hosts)})")
        self.answer_wait = ANSWER_WAIT
        self._pool = None
        self._pool_lock = threading.Lock()
        # name -> {future: when it was asked}, for the questions a host has not answered yet
        self._unanswered = {name: {} for name in self._hosts}

    def names(self):
        return list(self._hosts)

    def add_listener(self, listener):
        """Tell `listener` (an `events.IEventListener`) the events of every host."""
        for hypervisor in self._hosts.values():
            hypervisor.connection.add_listener(listener)

    def get(self, name):
        """The `Hypervisor` of the host called `name`, or None."""
        return self._hosts.get(name)

    @property
    def default(self):
        return self._hosts[self.default_name]

    def items(self):
        return list(self._hosts.items())

    def start(self, statistics=True):
        """Start every host at once: each waits a little for its first connection."""
        threads = [threading.Thread(target=hypervisor.start, args=(statistics,),
                                    name=f"virtdancer-start-{name}")
                   for name, hypervisor in self._hosts.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self

    def close(self):
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for hypervisor in self._hosts.values():
            hypervisor.close()

    def ask_each(self, names, question, timeout=None):
        """`{name: (answer, None) or (None, HypervisorError)}`: `question(hypervisor)` asked of
        the named hosts concurrently; a host slower than `timeout` is unavailable.

        A host that has left a question unanswered for longer than `timeout` is not asked
        again until it answers: its questions would only pile up on the pool and hold up the
        questions to the other hosts.
        """
        timeout = self.answer_wait if timeout is None else timeout
        pool = self._the_pool()
        now = time.monotonic()
        answers, futures, here = {}, {}, []
        for name in names:
            if getattr(self._hosts[name], "in_process", False):   # stand-ins are remote
                here.append(name)
                continue
            with self._pool_lock:
                oldest = min(self._unanswered[name].values(), default=None)
            if oldest is not None and now - oldest > timeout:
                answers[name] = (None, HostUnavailable(
                    f"the host has not answered for {now - oldest:.0f} s", retry_after=timeout))
                continue
            futures[name] = self._submit(pool, name, question)
        for name in here:
            try:
                answers[name] = (question(self._hosts[name]), None)
            except HypervisorError as error:
                answers[name] = (None, error)
        wait(futures.values(), timeout=max(0.0, timeout - (time.monotonic() - now)))
        for name, future in futures.items():
            if not future.done():
                answers[name] = (None, HostUnavailable(
                    f"the host did not answer within {timeout:g} s", retry_after=timeout))
                continue
            try:
                answers[name] = (future.result(), None)
            except HypervisorError as error:
                answers[name] = (None, error)
        return {name: answers[name] for name in names}

    def _submit(self, pool, name, question):
        future = pool.submit(question, self._hosts[name])
        with self._pool_lock:
            self._unanswered[name][future] = time.monotonic()

        def answered(done):
            with self._pool_lock:
                self._unanswered[name].pop(done, None)

        future.add_done_callback(answered)
        return future

    def _the_pool(self):
        with self._pool_lock:
            if self._pool is None:
                # Room for a few stuck questions per host before the others wait for a thread.
                self._pool = ThreadPoolExecutor(max_workers=4 * len(self._hosts) + 4,
                                                thread_name_prefix="virtdancer-hosts")
            return self._pool
