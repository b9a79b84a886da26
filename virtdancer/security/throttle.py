"""Throttling of failed logins: per user name and address, per address, and per user name.

Three limits count failures within a sliding window:

- per (user name, address) pair (`per_user`, 5): the guesser at one address is stopped after a
  few tries, while the user the guesses aim at goes on logging in from their own address;
- per address (`per_address`, 20): one address trying many names is stopped;
- per user name from every address together (`per_name`, 100): a guesser spread over many
  addresses is stopped too, but far later, so that locking a user out for everybody takes many
  addresses.

A (user name, address) pair that logged in successfully within `trust_period` (a day) is
trusted: only its own pair limit applies to it, so neither guesses at that name from elsewhere
nor guesses at other names from the same address (a NAT, a jump host) lock that user out there.
Every use of the right password renews the trust. IPv6 addresses count by their /64 network,
which one machine usually has all of.

An attempt holds its place from the check to its outcome, so concurrent guesses cannot all pass
the check before the first failure is counted. The table is swept of expired entries as it is
used and never grows beyond `max_entries` keys (the pairs' own counters are forgotten first).
"""

import functools
import ipaddress
import math
import threading
import time
from collections import deque
from contextlib import contextmanager

_FORGET_FIRST = {"pair": 0, "address": 1, "name": 2}
TRUST_RENEWED_EVERY = 1.0     # seconds


class LoginThrottled(Exception):
    """Too many failed logins lately; try again in `retry_after` seconds."""

    def __init__(self, retry_after):
        super().__init__("too many failed logins; try again later")
        self.retry_after = max(1, math.ceil(retry_after))


class Attempt:
    """One login attempt admitted by the throttle; say how it ended."""

    def __init__(self):
        self.outcome = None

    def failed(self):
        self.outcome = "failed"

    def succeeded(self):
        self.outcome = "succeeded"


class LoginThrottle:
    def __init__(self, per_user=5, per_address=20, per_name=100, window=300.0,
                 trust_period=86400.0, max_entries=20_000, clock=time.monotonic):
        self.limits = {"pair": per_user, "address": per_address, "name": per_name}
        self.window = window
        self.trust_period = max(trust_period, window)
        self.max_entries = max_entries
        self.clock = clock
        self._failures = {}    # key -> deque of failure times, oldest first
        self._pending = {}     # key -> attempts admitted and not yet ended
        self._trusted = {}     # (name, address) -> time of the last success there
        self._last_sweep = clock()
        self._lock = threading.Lock()

    def check(self, user, address):
        """Raise `LoginThrottled` if an attempt now would be refused; reserves nothing."""
        keys = self._keys(user, address)
        # Nothing counted against any key (a script sending its good password): no lock to
        # take, which waitress's other threads would queue behind. Reading the dicts is safe
        # without it; counting, below, is not.
        if not any(key in self._failures or key in self._pending for key in keys):
            return
        now = self.clock()
        with self._lock:
            wait = max(self._wait(key, now) for key in keys)
        if wait > 0:
            raise LoginThrottled(wait)

    @contextmanager
    def attempt(self, user, address):
        """Admit one attempt (or raise `LoginThrottled`); the caller marks how it ended.

        An attempt that ends without `failed()` (an error, or a users file being rewritten)
        counts for nothing.
        """
        keys = self._keys(user, address)
        now = self.clock()
        with self._lock:
            self._sweep_now_and_then(now)
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                raise LoginThrottled(wait)
            for key in keys:
                self._pending[key] = self._pending.get(key, 0) + 1
        attempt = Attempt()
        try:
            yield attempt
        finally:
            self._end(user, address, keys, attempt.outcome)

    def trust(self, user, address):
        """Renew the trust of a pair whose password was right (known good, not checked)."""
        pair, now = (user, _network(address)), self.clock()
        # A script sends its password many times a second; a trust of a day renewed at most
        # once a second is the same trust.
        if now - self._trusted.get(pair, -math.inf) < TRUST_RENEWED_EVERY:
            return
        with self._lock:
            self._trusted[pair] = now

    def _keys(self, user, address):
        address = _network(address)
        pair = ("pair", user, address)
        trusted = self._trusted.get((user, address))
        if trusted is not None and trusted > self.clock() - self.trust_period:
            return [pair]
        return [pair, ("address", address), ("name", user)]

    def _end(self, user, address, keys, outcome):
        now = self.clock()
        with self._lock:
            for key in keys:
                left = self._pending.get(key, 1) - 1
                if left:
                    self._pending[key] = left
                else:
                    self._pending.pop(key, None)
            if outcome == "failed":
                for key in keys:
                    self._failures.setdefault(key, deque()).append(now)
                self._cap()
            elif outcome == "succeeded":
                self._failures.pop(keys[0], None)
                self._trusted[(user, _network(address))] = now

    def _wait(self, key, now):
        """Seconds until `key` may try again, counting the attempts under way as failures."""
        failures = self._failures.get(key)
        if failures:
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if not failures:
                del self._failures[key]
        count = len(failures or ()) + self._pending.get(key, 0)
        limit = self.limits[key[0]]
        if count < limit:
            return 0.0
        if not failures or len(failures) < limit:
            # Held back by attempts still running: their outcome decides, very soon.
            return 1.0
        # Free again when enough of the oldest failures have left the window.
        return failures[len(failures) - limit] + self.window - now

    def _sweep_now_and_then(self, now):
        if now - self._last_sweep < min(self.window, 60.0):
            return
        self._last_sweep = now
        horizon = now - self.window
        self._failures = {key: times for key, times in self._failures.items()
                          if times and times[-1] > horizon}
        trusted_since = now - self.trust_period
        self._trusted = {pair: when for pair, when in self._trusted.items()
                         if when > trusted_since}
        if len(self._trusted) > self.max_entries:
            newest = sorted(self._trusted.items(), key=lambda item: item[1])
            self._trusted = dict(newest[-self.max_entries // 2:])

    def _cap(self):
        """Forget keys when the table is full: pairs first, then addresses, then names, the
        oldest of each first.

        A pair's counter matters least (the address's and the name's still count what it
        forgets); a name's most, as it is what stops guesses spread over many addresses.
        """
        if len(self._failures) <= self.max_entries:
            return
        order = sorted(self._failures, key=lambda key: (_FORGET_FIRST[key[0]],
                                                        self._failures[key][-1]))
        for key in order[:len(order) - self.max_entries // 2]:
            del self._failures[key]

    def entries(self):
        """How many keys the table holds (for tests and the curious)."""
        with self._lock:
            return len(self._failures) + len(self._trusted)


@functools.lru_cache(maxsize=4096)
def _network(address):
    """The key an address counts under: itself, or its /64 network for IPv6. Remembered (a
    bounded number): every request authenticated by a password asks it twice."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
