"""Event tickets: signed, short-lived, bound to a user and the page's origin, good once.

Made as console tokens are (console/tokens.py): `<payload>.<signature>`, the payload JSON with a
random nonce, signed with HMAC-SHA256 under a key of their own derived from `virtdancer.secret`
(so neither can pass for the other). A ticket opens one channel: a client that reconnects asks
`POST /events` for a new one.
"""

import hashlib
import hmac
import json
import math
import secrets
import threading
import time

from ..console.tokens import TokenRefused, _b64decode, _b64encode

LIFETIME = 60.0   # seconds: the page connects at once; a copied URL is soon worthless

# Each claim and its type: user, origin, whether the user may run actions, expiry, nonce.
_CLAIMS = {"u": str, "o": str, "p": bool, "e": (int, float), "n": str}


def _well_formed(claims):
    return (isinstance(claims, dict)
            and all(isinstance(claims.get(key), kinds)
                    and (kinds is bool or not isinstance(claims.get(key), bool))
                    for key, kinds in _CLAIMS.items())
            and math.isfinite(claims["e"]))


class EventTickets:
    def __init__(self, secret, lifetime=LIFETIME, clock=time.time):
        self._key = hmac.new(secret.encode("utf-8"), b"virtdancer event tickets",
                             hashlib.sha256).digest()
        self.lifetime = lifetime
        self.clock = clock
        self._used = {}   # nonce -> expiry
        self._lock = threading.Lock()

    def issue(self, *, user, origin, operates):
        """A new ticket, and the Unix time it expires."""
        expires = self.clock() + self.lifetime
        payload = json.dumps({"u": user, "o": origin, "p": bool(operates), "e": expires,
                              "n": secrets.token_urlsafe(16)}, separators=(",", ":"))
        encoded = _b64encode(payload.encode("utf-8"))
        return f"{encoded}.{self._sign(encoded)}", expires

    def verify(self, ticket):
        """The claims {u, o, p, e, n} of a genuine, current ticket; `TokenRefused` otherwise.
        Nothing is used up (see `consume`)."""
        if not isinstance(ticket, str) or not ticket.isascii():
            raise TokenRefused("malformed event ticket")
        encoded, dot, signature = ticket.partition(".")
        if not dot or not hmac.compare_digest(signature, self._sign(encoded)):
            raise TokenRefused("event ticket has a wrong signature")
        try:
            claims = json.loads(_b64decode(encoded))
        except ValueError:
            raise TokenRefused("malformed event ticket") from None
        if not _well_formed(claims):
            raise TokenRefused("malformed event ticket")
        if claims["e"] < self.clock():
            raise TokenRefused("event ticket expired: ask POST /events for another")
        return claims

    def consume(self, claims):
        """Mark verified claims used; `TokenRefused` if they were used already."""
        now = self.clock()
        with self._lock:
            self._used = {nonce: expiry for nonce, expiry in self._used.items() if expiry >= now}
            if claims["n"] in self._used:
                raise TokenRefused("event ticket was used already: ask POST /events for "
                                   "another")
            self._used[claims["n"]] = claims["e"]

    def _sign(self, encoded):
        return _b64encode(hmac.new(self._key, encoded.encode("ascii"), hashlib.sha256).digest())
