"""API tokens: named, scoped, revocable credentials for scripts (`Authorization: Bearer`).

A token is `vd_<id>_<secret>`. The id (12 hex digits) names it in URLs, lists and log lines;
the secret (64 hex digits, 256 bits from `secrets`) is shown once, when the token is made, and
kept only as its SHA-256. The secret is random, not a password a person chose, so one fast hash
is enough: nobody searches 2^256 secrets for one that hashes alike. Checking a token costs one
row found by its key and one SHA-256 — no argon2 — and needs no key of the server's, so
neither a restart nor a new `virtdancer.secret` loses the tokens.

A token authenticates as its owner with the weaker of its scope and the owner's role *now*,
and the owner's filters now, asked of the users file at every request: a token revoked (its
row deleted), past its `expires`, or of a user no longer in the users file stops working at
the next request. A good token's row is read once and then kept for `ROW_KEPT_FOR` seconds, so
that a script's requests do not each read the state file; only a revocation by another
process sharing the file (`virtdancer token revoke`) waits out that second.

A refused token never counts against its owner's password (the login throttle): refusals are
counted per client address on their own, and an address past
`virtdancer.tokens.max_failures_per_address` within `virtdancer.login.failure_window` gets 429s
for its bad tokens (its log lines stop meanwhile). A good token is never refused for what
others at its address sent: a guesser behind the same NAT does not silence Prometheus.
"""

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import sys
import time
from dataclasses import dataclass, replace

from ..permissions import ROLES
from .throttle import LoginThrottle, LoginThrottled

log = logging.getLogger(__name__)

# The scope a token is made with, and the role it stands for.
SCOPES = {"read": "viewer", "operate": "operator", "admin": "admin"}
TOKEN_PATTERN = r"^vd_([0-9a-f]{12})_([0-9a-f]{64})$"
TOKEN = re.compile(TOKEN_PATTERN)
MAX_NAME = 100
MAX_TOKENS_PER_USER = 100
# `last_used` is written at most this often per token: not a disk write per request.
LAST_USED_RESOLUTION = 60.0
# How long that write waits for another process holding the state file.
LAST_USED_WAIT = 0.05
# Where the policy leaves the reason a request's token was refused, for its 401 (or 429).
TOKEN_REFUSAL = "virtdancer.token_refusal"
# How long a good token's row is kept in memory: a revocation here drops it at once, one by
# another process sharing the state file (the command line's) counts after this long.
ROW_KEPT_FOR = 1.0
# The throttle's "user name" for every refused token: only its address limits count.
_BEARER = "(bearer token)"


def weaker_role(role, other):
    return ROLES[min(ROLES.index(role), ROLES.index(other))]


def scope_within(scope, role):
    """Whether a token of `scope` gives no more than `role` has."""
    return ROLES.index(SCOPES[scope]) <= ROLES.index(role)


def scopes_within(role):
    return [scope for scope in SCOPES if scope_within(scope, role)]


def _digest(secret):
    return hashlib.sha256(secret.encode("ascii")).digest()


@dataclass(frozen=True)
class TokenRecord:
    """A token as stored, without its secret."""

    id: str
    owner: str
    name: str
    scope: str
    created: float
    last_used: float = None
    expires: float = None

    def answer(self):
        """The token as the API shows it (TokenAnswer in answers.py)."""
        return {"id": self.id, "owner": self.owner, "name": self.name, "scope": self.scope,
                "created": self.created, "last_used": self.last_used, "expires": self.expires}


@dataclass(frozen=True)
class TokenRefusal:
    """Why a request's token was refused: a 401, or a 429 for an address sending too many."""

    message: str
    status: int = 401
    retry_after: int = None


class TokenNotMade(Exception):
    """A token that cannot be made as asked (its name is taken, too many tokens): a 409."""

    def __init__(self, message, name="name"):
        super().__init__(message)
        self.message = message
        self.name = name


_COLUMNS = "id, owner, name, scope, created, last_used, expires"


class ApiTokens:
    """The tokens in the state store, and the check of a token a request presents."""

    def __init__(self, store, users, max_failures_per_address=100, failure_window=300.0,
                 clock=time.time):
        self.store = store
        self.users = users
        self.clock = clock
        self.refusals = LoginThrottle(per_user=max_failures_per_address,
                                      per_address=max_failures_per_address,
                                      per_name=sys.maxsize, window=failure_window)
        self._last_used = {}     # token id -> when its last_used was last written
        self._rows = {}          # token id -> (its row, when it was read)
        self._acting_users = {}  # token id -> (its owner's User, the User it acts as)
        self._revocations = 0
        self.row_kept_for = ROW_KEPT_FOR
        self.monotonic = time.monotonic

    def create(self, owner, name, scope, expires=None):
        """`(TokenRecord, token)`: the only moment the token's text exists outside the client."""
        secret = secrets.token_hex(32)
        now = self.clock()
        # Not a 400: a body's JSON Schema cannot say "later than now", so a past time is
        # well-formed input that is refused for the moment it comes, as a taken name is.
        if expires is not None and expires <= now:
            raise TokenNotMade("expires is in the past: a token's expiry must be later than "
                               "now", name="expires")
        with self.store.transaction() as database:
            count, = database.execute("SELECT count(*) FROM tokens WHERE owner = ?",
                                      (owner,)).fetchone()
            if count >= MAX_TOKENS_PER_USER:
                raise TokenNotMade(f"{owner} has {count} API tokens, the most one user may "
                                   "have: revoke some first", name=None)
            while True:
                token_id = secrets.token_hex(6)
                try:
                    database.execute(
                        "INSERT INTO tokens (id, owner, name, scope, secret_sha256, created, "
                        "expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (token_id, owner, name, scope, _digest(secret), now, expires))
                    break
                except sqlite3.IntegrityError:
                    if database.execute("SELECT 1 FROM tokens WHERE owner = ? AND name = ?",
                                        (owner, name)).fetchone():
                        raise TokenNotMade(f"{owner} has an API token named {name!r} "
                                           "already") from None
                    # else the id was taken: one chance in 2^48, draw again
        return TokenRecord(token_id, owner, name, scope, now, None, expires), \
            f"vd_{token_id}_{secret}"

    def records(self, owner=None):
        """Every token (of `owner`), the newest first."""
        where, parameters = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        rows = self.store.execute(f"SELECT {_COLUMNS} FROM tokens {where} "
                                  "ORDER BY created DESC, id", parameters)
        return [TokenRecord(*row) for row in rows]

    def record(self, token_id):
        rows = self.store.execute(f"SELECT {_COLUMNS} FROM tokens WHERE id = ?", (token_id,))
        return TokenRecord(*rows[0]) if rows else None

    def revoke(self, token_id):
        """Delete the token: the next request with it is refused. False if it was not there."""
        with self.store.transaction() as database:
            deleted = database.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount
        self._last_used.pop(token_id, None)
        self._revocations += 1
        self._rows.pop(token_id, None)
        self._acting_users.pop(token_id, None)
        return bool(deleted)

    def authenticate(self, text, address):
        """`(User, None)` for a good token — the owner with the token's scope and id — or
        `(None, TokenRefusal)`."""
        match = TOKEN.fullmatch(text)
        if match is None:
            return None, self._refuse(address, None, "the Bearer token is not a VirtDancer "
                                                     "API token (vd_<id>_<secret>)")
        token_id, secret = match.groups()
        row = self._row(token_id)
        if row is None or not hmac.compare_digest(row[2], _digest(secret)):
            return None, self._refuse(address, token_id, "the API token is unknown or revoked")
        owner, scope, _, expires, last_used = row
        now = self.clock()
        if expires is not None and expires <= now:
            return None, self._refuse(address, token_id, "the API token has expired")
        user = self.users.get(owner)
        if user is None:
            return None, self._refuse(address, token_id,
                                      "the API token's user is no longer in the users file")
        self._note_use(token_id, last_used, now)
        return self._acting(user, scope, token_id), None

    def _acting(self, user, scope, token_id):
        """`user` as the token makes them act; the same object while the users file's entry
        is (a new `User` per request costs a tenth of answering one)."""
        kept = self._acting_users.get(token_id)
        if kept is not None and kept[0] is user:
            return kept[1]
        acting = replace(user, role=weaker_role(user.role, SCOPES[scope]), token_id=token_id)
        self._acting_users[token_id] = (user, acting)
        return acting

    def _row(self, token_id):
        """`(owner, scope, secret_sha256, expires, last_used)` of the token, or None."""
        now = self.monotonic()
        kept = self._rows.get(token_id)
        if kept is not None and now - kept[1] < self.row_kept_for:
            return kept[0]
        revocations = self._revocations
        rows = self.store.execute("SELECT owner, scope, secret_sha256, expires, last_used "
                                  "FROM tokens WHERE id = ?", (token_id,))
        if not rows:
            self._rows.pop(token_id, None)
            self._acting_users.pop(token_id, None)
            return None
        if revocations == self._revocations:   # else perhaps read before a revocation here
            # One per token there is (a hundred per user at most), whatever clients send.
            self._rows[token_id] = (rows[0], now)
        return rows[0]

    def _refuse(self, address, token_id, message):
        try:
            with self.refusals.attempt(_BEARER, address) as attempt:
                attempt.failed()
        except LoginThrottled as throttled:
            return TokenRefusal("too many refused API tokens from this address; try again "
                                f"in {throttled.retry_after} s", 429, throttled.retry_after)
        # The id only: it names the token, and is no secret.
        log.warning("API token %s refused from %s: %s", token_id or "(malformed)", address,
                    message)
        return TokenRefusal(message)

    def _note_use(self, token_id, last_used, now):
        written = self._last_used.get(token_id, last_used or 0.0)
        if now - written < LAST_USED_RESOLUTION:
            return
        self._last_used[token_id] = now
        try:
            # Best effort: a state file busy with another process's write (the CLI, a second
            # server) must neither fail a good token nor stall the other requests.
            self.store.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now, token_id),
                               wait=LAST_USED_WAIT)
        except sqlite3.OperationalError as error:
            self._last_used[token_id] = written
            log.info("API token %s: last use not written (%s)", token_id, error)
