"""Console tokens: signed, short-lived, bound to a user, a host and a VM, good for one connection
(how they are signed and used up: signed_tickets.py)."""

import time

from ..signed_tickets import SignedTickets, TokenRefused

__all__ = ["LIFETIME", "ConsoleTokens", "TokenRefused"]

LIFETIME = 60.0   # seconds: long enough to load the console page, too short to be worth stealing

# Each claim and its type: user, host, VM, origin, expiry, nonce.
CLAIMS = {"u": str, "h": str, "v": str, "o": str, "e": (int, float), "n": str}


class ConsoleTokens(SignedTickets):
    def __init__(self, secret, lifetime=LIFETIME, clock=time.time):
        super().__init__(secret, purpose=b"virtdancer console tokens", noun="console token",
                         again="open the console again", claims=CLAIMS, lifetime=lifetime,
                         clock=clock)

    def issue(self, *, user, host, vm, origin):
        """A new token, and the Unix time it expires."""
        token, claims = self.make(u=user, h=host, v=vm, o=origin)
        return token, claims["e"]

    def verify(self, token, *, hosts):
        """The token's claims {u, h, v, o, e, n} if it is genuine, current and for one of
        `hosts` (by name); nothing is used up (see `consume`)."""
        claims = self.check(token)
        if claims["h"] not in hosts:
            raise TokenRefused("console token is for another host")
        return claims
