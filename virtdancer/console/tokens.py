"""Console tokens: signed, short-lived, bound to a user, a host and a VM, good for one connection.

A token is `<payload>.<signature>`, both base64url: the payload is JSON, the signature an
HMAC-SHA256 of it under a key derived from `virtdancer.secret` (so a console token can never
pass for anything else signed with the same secret). Each carries a random nonce; the proxy
remembers the nonces it has accepted until they expire, so a token opens one connection only.
"""

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time

LIFETIME = 60.0   # seconds: long enough to load the console page, too short to be worth stealing


class TokenRefused(Exception):
    """The token is forged, expired, used already, or for something else; the message says."""


def _b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# Each claim and its type: user, host, VM, origin, expiry, nonce.
_CLAIMS = {"u": str, "h": str, "v": str, "o": str, "e": (int, float), "n": str}


def _well_formed(claims):
    """Whether signed claims have the shape `issue` gives them (a key signed by a secret that
    also signed something else, or a future version, could give another)."""
    return (isinstance(claims, dict)
            and all(isinstance(claims.get(key), kinds) and not isinstance(claims.get(key), bool)
                    for key, kinds in _CLAIMS.items())
            and math.isfinite(claims["e"]))


class ConsoleTokens:
    def __init__(self, secret, lifetime=LIFETIME, clock=time.time):
        self._key = hmac.new(secret.encode("utf-8"), b"virtdancer console tokens",
                             hashlib.sha256).digest()
        self.lifetime = lifetime
        self.clock = clock
        self._used = {}   # nonce -> expiry
        self._lock = threading.Lock()

    def issue(self, *, user, host, vm, origin):
        """A new token, and the Unix time it expires."""
        expires = self.clock() + self.lifetime
        payload = json.dumps({"u": user, "h": host, "v": vm, "o": origin, "e": expires,
                              "n": secrets.token_urlsafe(16)}, separators=(",", ":"))
        encoded = _b64encode(payload.encode("utf-8"))
        return f"{encoded}.{self._sign(encoded)}", expires

    def verify(self, token, *, hosts):
        """The token's claims {u, h, v, o, e, n} if it is genuine, current and for one of
        `hosts` (by name).

        Verifying uses nothing up: a connection refused for another reason (its Origin) must
        not burn the token of the page it was stolen from.
        """
        if not isinstance(token, str) or not token.isascii():
            raise TokenRefused("malformed console token")
        try:
            encoded, signature = token.split(".")
        except ValueError:
            raise TokenRefused("malformed console token") from None
        if not hmac.compare_digest(signature, self._sign(encoded)):
            raise TokenRefused("console token has a wrong signature")
        try:
            claims = json.loads(_b64decode(encoded))
        except ValueError:
            raise TokenRefused("malformed console token") from None
        if not _well_formed(claims):
            raise TokenRefused("malformed console token")
        if claims["e"] < self.clock():
            raise TokenRefused("console token expired: open the console again")
        if claims["h"] not in hosts:
            raise TokenRefused("console token is for another host")
        return claims

    def consume(self, claims):
        """Mark verified claims used; `TokenRefused` if they were used already."""
        now = self.clock()
        with self._lock:
            self._used = {nonce: expiry for nonce, expiry in self._used.items() if expiry >= now}
            if claims["n"] in self._used:
                raise TokenRefused("console token was used already: open the console again")
            self._used[claims["n"]] = claims["e"]

    def _sign(self, encoded):
        return _b64encode(hmac.new(self._key, encoded.encode("ascii"), hashlib.sha256).digest())
