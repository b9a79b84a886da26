"""Throttling of failed logins, per user name and per client address."""

import math
import threading
import time
from collections import defaultdict, deque


class LoginThrottled(Exception):
    """Too many failed logins lately; try again in `retry_after` seconds."""

    def __init__(self, retry_after):
        super().__init__("too many failed logins; try again later")
        self.retry_after = max(1, math.ceil(retry_after))


class LoginThrottle:
    """At most `per_user` failures per name and `per_address` per address within `window` s.

    Both limits count: a guesser who tries many names from one address is stopped by the
    address limit, one who tries one name from many addresses by the name limit.
    """

    def __init__(self, per_user=5, per_address=20, window=300.0, clock=time.monotonic):
        self.limits = {"user": per_user, "address": per_address}
        self.window = window
        self.clock = clock
        self._failures = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, user, address):
        """Raise `LoginThrottled` if either key is over its limit."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(("user", user), now), self._wait(("address", address), now)]
        wait = max(waits)
        if wait > 0:
            raise LoginThrottled(wait)

    def failed(self, user, address):
        now = self.clock()
        with self._lock:
            for key in (("user", user), ("address", address)):
                self._failures[key].append(now)

    def succeeded(self, user):
        with self._lock:
            self._failures.pop(("user", user), None)

    def _wait(self, key, now):
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0.0
        limit = self.limits[key[0]]
        if len(failures) < limit:
            return 0.0
        # Free again when enough of the oldest failures have left the window.
        return failures[len(failures) - limit] + self.window - now
