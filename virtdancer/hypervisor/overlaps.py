"""Whether another lifecycle action on the same VM ran while one action was running.

When libvirt refuses an action, VirtDancer looks at the VM again to tell a refusal by state
(409) from a hypervisor failure (502). The state it then finds is not always enough: other
requests may have paused and resumed the VM in between, so that it is back in the state
VirtDancer checked, and libvirt's test driver calls such a refusal an internal error. What
VirtDancer's own requests did to the VM meanwhile it can know for sure, by watching each action
from its state check until it has looked at the VM again.
"""

import threading
from contextlib import contextmanager


class Watch:
    """One action's watch: `overlapped` turns true once another action on its VM ran too."""

    __slots__ = ("overlapped",)

    def __init__(self):
        self.overlapped = False


class ActionOverlaps:
    """The actions running on each VM of one host, and which of them ran at the same time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = {}   # uuid -> the watches of the actions running on that VM

    @contextmanager
    def watch(self, uuid):
        """Watch one action on the VM `uuid` for as long as the block runs."""
        watch = Watch()
        with self._lock:
            running = self._running.setdefault(uuid, set())
            # An action already running may change the VM after this one's state check, and
            # this one may change the VM under the others: both ways, they overlap.
            for other in running:
                other.overlapped = True
            watch.overlapped = bool(running)
            running.add(watch)
        try:
            yield watch
        finally:
            with self._lock:
                running.discard(watch)
                if not running:
                    del self._running[uuid]   # one entry per VM being acted on, not per VM ever
