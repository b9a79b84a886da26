"""VirtDancer's security policy: HTTP Basic for scripts, a session cookie for the browser UI.

Permissions are granted by the resources' `__acl__` to the principals of the user's role
(`role:viewer`, `role:operator`, `role:admin`); Pyramid's `ACLHelper` decides.
"""

import functools
import hashlib
import hmac
import logging
import math
import os
import secrets
import threading
import time

from pyramid.authentication import extract_http_basic_credentials
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.csrf import check_csrf_token, new_csrf_token
from pyramid.request import RequestLocalCache
from pyramid.traversal import lineage

from ..permissions import role_principal
from .passwords import check_password, waste_time_like_a_check
from .tokens import TOKEN_REFUSAL

log = logging.getLogger(__name__)

SESSION_USER = "virtdancer.user"
SESSION_ID = "virtdancer.session_id"
SESSION_STARTED = "virtdancer.started"
SESSION_BINDING = "virtdancer.binding"
CSRF_SESSION_KEY = "_csrft_"    # where Pyramid's session keeps the CSRF token
CLOCK_SLACK = 60.0              # seconds a session's start may be ahead of this clock
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# A Basic-authenticated script sends its password with every request; checking argon2id each
# time would cost tens of milliseconds a request, so a good password is remembered this long.
GOOD_PASSWORD_MEMORY = 300.0
# The longest user name and password VirtDancer reads, over HTTP Basic as in the login form.
MAX_NAME = 256
MAX_PASSWORD = 4096
# Password checks from one address run one at a time (so that concurrent guesses are counted
# one by one); addresses share this many locks.
ADDRESS_LOCKS = 64
# ACL decisions remembered (per ACLs, principals and permission): about users x permissions.
MAX_DECISIONS = 4096


class CredentialsRefused(Exception):
    """Credentials VirtDancer will not even check (too long, not text); the message says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def for_the_log(name, limit=64):
    """A user name as log lines quote it: at most `limit` characters."""
    return name if len(name) <= limit else name[:limit] + "…"


def _keyed_digest(key, name, secret):
    """HMAC-SHA256 of a user name and a secret of theirs (a password, a password hash)."""
    # The name's length first: no other name and secret give the same text.
    text = f"{len(name)}:{name}{secret}".encode("utf-8")
    # Not `hmac.digest`: its one call lets go of the interpreter lock, and taking it back
    # behind waitress's other threads costs a busy server more than the digest itself.
    return hmac.new(key, text, hashlib.sha256).digest()


def _fingerprint(key, name, password):
    try:
        return _keyed_digest(key, name, password)
    except UnicodeEncodeError:
        raise CredentialsRefused("the user name or password is not valid Unicode") from None


class Authenticator:
    """Checks a user name and password against the users file, throttling failures."""

    def __init__(self, users, throttle, clock=time.monotonic):
        self.users = users
        self.throttle = throttle
        self.clock = clock
        self._key = os.urandom(32)
        self._remembered = {}
        self._lock = threading.Lock()
        self._address_locks = [threading.Lock() for _ in range(ADDRESS_LOCKS)]

    def authenticate(self, name, password, address):
        """The `User`, or None for a wrong name or password.

        Raises `LoginThrottled` when throttled, `CredentialsRefused` for credentials too long
        to be anyone's.
        """
        if len(name) > MAX_NAME:
            raise CredentialsRefused(f"the user name is longer than {MAX_NAME} characters")
        if len(password) > MAX_PASSWORD:
            raise CredentialsRefused(f"the password is longer than {MAX_PASSWORD} characters")
        fingerprint = _fingerprint(self._key, name, password)
        # Throttled means throttled, even for a password that was right a minute ago: else a
        # guesser could go on guessing, and learn the right guess by the missing 429.
        self.throttle.check(name, address)
        # A password known to be good is no guess: scripts sending it with every request do
        # not queue behind each other.
        user = self._recalled(name, fingerprint)
        if user is not None:
            self.throttle.trust(name, address)
            return user
        with self._address_locks[hash(address) % ADDRESS_LOCKS]:
            user = self._recalled(name, fingerprint)
            if user is not None:
                self.throttle.trust(name, address)
                return user
            with self.throttle.attempt(name, address) as attempt:
                user = self._check(name, password, address, attempt)
        if user is not None:
            with self._lock:
                self._forget_expired()
                self._remembered[fingerprint] = (user.password_hash,
                                                 self.clock() + GOOD_PASSWORD_MEMORY)
        return user

    def _check(self, name, password, address, attempt):
        user = self.users.get(name)
        if user is None:
            waste_time_like_a_check(password)
            matches, better_hash = False, None
        else:
            matches, better_hash = check_password(password, user.password_hash)
        if not matches:
            if self.users.settled:
                attempt.failed()
            # else the users file is being rewritten: the name may be missing only meanwhile.
            log.warning("failed login for user %r from %s", for_the_log(name), address)
            return None
        attempt.succeeded()
        if better_hash is not None and self.users.replace_hash(name, user.password_hash,
                                                               better_hash):
            log.warning("password hash of user %r upgraded to argon2id", name)
            user = self.users.get(name)
        return user

    def _recalled(self, name, fingerprint):
        user = self.users.get(name)
        if user is None:
            return None
        # Read without the lock, which only writers need: one dict lookup is safe as it is.
        remembered = self._remembered.get(fingerprint)
        if remembered is None or remembered[1] < self.clock():
            return None
        return user if remembered[0] == user.password_hash else None

    def _forget_expired(self):
        now = self.clock()
        self._remembered = {fingerprint: kept for fingerprint, kept in self._remembered.items()
                            if kept[1] >= now}


def _tuple_acls(context):
    """The ACLs along `context`'s lineage if each is a tuple, else None (a list or a callable
    may say something else next time)."""
    acls = []
    for location in lineage(context):
        acl = getattr(location, "__acl__", None)
        if acl is None:
            continue
        if type(acl) is not tuple:
            return None
        acls.append(acl)
    return acls


def _vary_on_credentials(request, response):
    headerlist = response.headerlist
    for index, (name, value) in enumerate(headerlist):
        if name.lower() == "vary":
            headerlist[index] = (name, f"{value}, Authorization, Cookie")
            return
    # Appended as it is: WebOb's `vary` setter parses and rewrites the whole header list.
    headerlist.append(("Vary", "Authorization, Cookie"))


class VirtDancerSecurityPolicy:
    """Pyramid 2 security policy over VirtDancer's users file.

    A login session lives in a signed cookie, which a browser may hold a copy of after the
    session ended. So every session carries its ID, when it started, and a binding to this
    VirtDancer process and to the user's password hash. It ends for good at logout (its ID is
    remembered as ended), `session_max_age` seconds after the login whatever happens, when the
    user's password changes, and when VirtDancer restarts (the ended sessions are remembered in
    memory only). A session refused for any reason is dropped there and then, never renewed.
    """

    # A user who logs out this many times within a maximum age ends all their sessions at once,
    # so that the memory of ended sessions stays small whatever a client does.
    MAX_ENDED_PER_USER = 100
    SWEEP_INTERVAL = 60.0

    def __init__(self, authenticator, session_lifetime=8 * 3600.0, session_max_age=None,
                 clock=time.time, tokens=None):
        self.authenticator = authenticator
        self.tokens = tokens           # ApiTokens, for `Authorization: Bearer`
        # The session factory, when it is VirtDancer's (`SessionCookies`, which can `peek`).
        self.sessions = None
        self.acl = ACLHelper()
        self._decisions = {}
        self._decided_acls = {}      # id -> ACL: no id in a key is reused by another object
        self._identities = RequestLocalCache(self._load_identity)
        self.session_lifetime = session_lifetime
        self.session_max_age = max(session_max_age or 3 * session_lifetime, session_lifetime)
        self.clock = clock
        self._key = os.urandom(32)     # this process's: sessions end when it does
        self._bindings = {}            # (user name, password hash) -> the sessions' binding
        self._ended = {}               # user -> {session ID: until when a copy could be shown}
        self._not_before = {}          # user -> their sessions started before it are ended
        self._last_sweep = 0.0
        self._ended_lock = threading.Lock()

    def identity(self, request):
        """The `User` making the request, or None."""
        return self._identities.get_or_create(request)

    def authenticated_userid(self, request):
        user = self.identity(request)
        return user.name if user is not None else None

    def permits(self, request, context, permission):
        principals = self.principals(request)
        acls = _tuple_acls(context)
        if acls is None:
            return self.acl.permits(context, principals, permission)
        # Tuples cannot change, so the same ones with the same principals and permission get
        # the same decision: a request asking two (READ for its view, OPERATE for the actions
        # it offers) walks no ACE. Keyed by identity, and each ACL kept alive by its key.
        key = (tuple(map(id, acls)), tuple(principals), permission)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self.acl.permits(context, principals, permission)
            if len(self._decisions) < MAX_DECISIONS:
                self._decisions[key] = decision
                self._decided_acls.update(zip(key[0], acls))
        return decision

    def principals(self, request):
        user = self.identity(request)
        if user is None:
            return [Everyone]
        return [Everyone, Authenticated, f"user:{user.name}", role_principal(user.role)]

    def remember(self, request, userid, **kw):
        # A fresh session on login, so that a session planted before it is worth nothing.
        request.session.invalidate()
        user = self.authenticator.users.get(userid)
        request.session[SESSION_USER] = userid
        request.session[SESSION_ID] = secrets.token_urlsafe(16)
        request.session[SESSION_STARTED] = self.clock()
        request.session[SESSION_BINDING] = self._binding(user)
        new_csrf_token(request)
        self._identities.clear(request)
        return []

    def forget(self, request, **kw):
        session = request.session
        name, session_id = session.get(SESSION_USER), session.get(SESSION_ID)
        started = session.get(SESSION_STARTED)
        if isinstance(name, str) and isinstance(session_id, str) \
                and isinstance(started, (int, float)):
            self._end(name, session_id, started)
        session.invalidate()
        self._identities.clear(request)
        return []

    def _binding(self, user):
        """What ties a session to this process and to the user's password as it is now."""
        if user is None:
            return None
        key = (user.name, user.password_hash)
        binding = self._bindings.get(key)
        if binding is None:
            binding = _keyed_digest(self._key, user.name, user.password_hash).hex()[:32]
            if len(self._bindings) >= MAX_DECISIONS:
                self._bindings.clear()     # names and hashes come from the users file only
            self._bindings[key] = binding
        return binding

    def _end(self, name, session_id, started):
        now = self.clock()
        with self._ended_lock:
            self._sweep(now)
            ended = self._ended.setdefault(name, {})
            # No copy of this cookie is good after its session's maximum age anyway.
            ended[session_id] = started + self.session_max_age
            if len(ended) > self.MAX_ENDED_PER_USER:
                self._not_before[name] = now
                del self._ended[name]

    def _sweep(self, now):
        if now - self._last_sweep < self.SWEEP_INTERVAL:
            return
        self._last_sweep = now
        for name in list(self._ended):
            kept = {sid: until for sid, until in self._ended[name].items() if until > now}
            if kept:
                self._ended[name] = kept
            else:
                del self._ended[name]
        self._not_before = {name: since for name, since in self._not_before.items()
                            if since + self.session_max_age > now}

    def _ended_session(self, name, session_id, started):
        with self._ended_lock:
            return (session_id in self._ended.get(name, ())
                    or started <= self._not_before.get(name, float("-inf")))

    def _session_user(self, request):
        """The user of the request's login session, or None (and the session dropped)."""
        # Most requests only read the session: its state, without making a session of it.
        state = self.sessions.peek(request) if self.sessions is not None else None
        if state is not None:
            user = self._user_of(state, state.get)
            if user is not None:
                return user
        # Through the session itself: it renews the cookie when due, and a session refused
        # is dropped there and then.
        session = request.session
        # One read through its accessors (which note the access, and renew the cookie when it
        # is due); the other keys straight from the dict it is.
        if session.get(SESSION_USER) is None:
            return None
        user = self._user_of(session, functools.partial(dict.get, session)
                             if isinstance(session, dict) else session.get)
        if user is None:
            # Invalidated, the session is not sent back renewed: the browser drops the cookie.
            session.invalidate()
        return user

    def _user_of(self, session, peek):
        """The user whose session this is, if it is still good; `peek` reads its keys."""
        name = peek(SESSION_USER)
        if not isinstance(name, str):
            return None
        session_id = peek(SESSION_ID)
        started = peek(SESSION_STARTED)
        user = self.authenticator.users.get(name)
        now = self.clock()
        if (user is None or not isinstance(session_id, str)
                or not isinstance(started, (int, float)) or not math.isfinite(started)
                or not now - self.session_max_age <= started <= now + CLOCK_SLACK
                or not isinstance(peek(CSRF_SESSION_KEY, ""), str)
                or not hmac.compare_digest(str(peek(SESSION_BINDING)),
                                           str(self._binding(user)))
                or self._ended_session(name, session_id, started)):
            return None
        return user

    def _load_identity(self, request):
        request.add_response_callback(_vary_on_credentials)
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and self.tokens is not None:
            # Like Basic, nothing a browser sends by itself: no CSRF token needed.
            user, refusal = self.tokens.authenticate(token.strip(), request.client_addr)
            if refusal is not None:
                request.environ[TOKEN_REFUSAL] = refusal
            return user
        credentials = extract_http_basic_credentials(request)
        if credentials is not None:
            return self.authenticator.authenticate(credentials.username, credentials.password,
                                                   request.client_addr)
        user = self._session_user(request)
        if user is not None and request.method not in SAFE_METHODS:
            # The browser sends the cookie to any site's form; only VirtDancer's page knows
            # the token. Raises BadCSRFToken.
            check_csrf_token(request, header=CSRF_HEADER, token=None)
        return user
