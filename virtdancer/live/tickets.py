"""Event tickets: signed, short-lived, bound to a user and the page's origin, good once (how
they are signed and used up: signed_tickets.py, as console tokens are, under a key of their
own). A ticket opens one channel: a client that reconnects asks `POST /events` for a new one.
"""

import threading
import time

from ..signed_tickets import SignedTickets

LIFETIME = 60.0   # seconds: the page connects at once; a copied URL is soon worthless

# Each claim and its type: user, origin, whether the user may run actions, the hub's mark when
# the ticket was issued (where a channel without `since` starts), expiry, nonce.
CLAIMS = {"u": str, "o": str, "p": bool, "m": str, "e": (int, float), "n": str}


class EventTickets(SignedTickets):
    def __init__(self, secret, lifetime=LIFETIME, clock=time.time):
        super().__init__(secret, purpose=b"virtdancer event tickets", noun="event ticket",
                         again="ask POST /events for another", claims=CLAIMS,
                         lifetime=lifetime, clock=clock)
        self._viewers = {}   # nonce -> (viewer, expiry): see `issue`
        self._viewers_lock = threading.Lock()

    def issue(self, *, user, origin, operates, viewer=None, mark=""):
        """A new ticket, and the Unix time it expires.

        `mark`, the event hub's (`EventHub.mark`) as the ticket is issued: a channel opened
        without `since` starts there, so the events published between `POST /events` and the
        connection are not lost.

        `viewer`, what the request's identity sees, is kept in this process until the ticket
        is used or expires: an inline channel reads it back (`viewer_of`) where no users file
        says who sees what (a host portal's own identities).
        """
        ticket, claims = self.make(u=user, o=origin, p=bool(operates), m=mark)
        if viewer is not None:
            with self._viewers_lock:
                self._forget_expired()
                self._viewers[claims["n"]] = (viewer, claims["e"])
        return ticket, claims["e"]

    def viewer_of(self, claims):
        """The viewer kept with these claims' ticket when it was issued here, or None."""
        with self._viewers_lock:
            kept = self._viewers.get(claims["n"])
        return kept[0] if kept is not None else None

    def _forget_expired(self):
        now = self.clock()
        self._viewers = {nonce: kept for nonce, kept in self._viewers.items() if kept[1] >= now}

    def verify(self, ticket):
        """The claims {u, o, p, m, e, n} of a genuine, current ticket; `TokenRefused` otherwise.
        Nothing is used up (see `consume`)."""
        return self.check(ticket)
