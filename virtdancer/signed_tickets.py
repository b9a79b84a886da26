"""Signed tickets: short-lived grants that the WSGI side issues and the asyncio side checks,
each good for one connection (console tokens, event tickets).

A ticket is `<payload>.<signature>`, both base64url: the payload is JSON claims with an expiry
`e` and a random nonce `n`, the signature an HMAC-SHA256 of it under a key derived from
`virtdancer.secret` and the kind's purpose, so that a ticket of one kind never passes for
another's, nor for anything else signed with the same secret. Verifying uses nothing up (a
connection refused for another reason must not burn the ticket of the page it was stolen
from); `consume` does, remembering the nonces used until they expire.
"""

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time


class TokenRefused(Exception):
    """The ticket is forged, expired, used already, or for something else; the message says."""


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedTickets:
    """Tickets of one kind: `claims` maps each claim to its type(s) (`e` and `n` among them);
    refusals name the kind as `noun` ("console token") and say how to get another (`again`).
    A kind's class builds its `issue` and `verify` on `make` and `check`.
    """

    def __init__(self, secret, *, purpose, noun, again, claims, lifetime, clock=time.time):
        self._key = hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()
        self.noun, self.again, self.claims = noun, again, claims
        self.lifetime = lifetime
        self.clock = clock
        self._used = {}   # nonce -> expiry
        self._lock = threading.Lock()

    def make(self, **claims):
        """A new ticket of `claims` (all but `e` and `n`), and its claims as signed."""
        claims = {**claims, "e": self.clock() + self.lifetime, "n": secrets.token_urlsafe(16)}
        payload = json.dumps(claims, separators=(",", ":"))
        encoded = b64url_encode(payload.encode("utf-8"))
        return f"{encoded}.{self._sign(encoded)}", claims

    def check(self, ticket):
        """The claims of a genuine, current ticket; `TokenRefused` otherwise."""
        malformed = TokenRefused(f"malformed {self.noun}")
        if not isinstance(ticket, str) or not ticket.isascii() or ticket.count(".") != 1:
            raise malformed
        encoded, signature = ticket.split(".")
        if not hmac.compare_digest(signature, self._sign(encoded)):
            raise TokenRefused(f"{self.noun} has a wrong signature")
        try:
            claims = json.loads(b64url_decode(encoded))
        except ValueError:
            raise malformed from None
        if not self._well_formed(claims):
            raise malformed
        if claims["e"] < self.clock():
            raise TokenRefused(f"{self.noun} expired: {self.again}")
        return claims

    def _well_formed(self, claims):
        """Whether signed claims have the shape `make` gives them (a key signed by a secret
        that also signed something else, or a future version, could give another)."""
        # bool is an int to Python: a claim takes one only where it is meant to be a bool.
        return (isinstance(claims, dict)
                and all(isinstance(claims.get(key), kinds)
                        and (kinds is bool or not isinstance(claims.get(key), bool))
                        for key, kinds in self.claims.items())
                and math.isfinite(claims["e"]))

    def consume(self, claims):
        """Mark verified claims used; `TokenRefused` if they were used already."""
        now = self.clock()
        with self._lock:
            self._used = {nonce: expiry for nonce, expiry in self._used.items() if expiry >= now}
            if claims["n"] in self._used:
                raise TokenRefused(f"{self.noun} was used already: {self.again}")
            self._used[claims["n"]] = claims["e"]

    def _sign(self, encoded):
        return b64url_encode(hmac.new(self._key, encoded.encode("ascii"),
                                      hashlib.sha256).digest())
