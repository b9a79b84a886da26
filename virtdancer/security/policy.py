"""VirtDancer's security policy: HTTP Basic for scripts, a session cookie for the browser UI.

Permissions are granted by the resources' `__acl__` to the principals of the user's role
(`role:viewer`, `role:operator`, `role:admin`); Pyramid's `ACLHelper` decides.
"""

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time

from pyramid.authentication import extract_http_basic_credentials
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.csrf import check_csrf_token, new_csrf_token
from pyramid.request import RequestLocalCache

from ..permissions import role_principal
from .passwords import check_password, waste_time_like_a_check

log = logging.getLogger(__name__)

SESSION_USER = "virtdancer.user"
SESSION_ID = "virtdancer.session_id"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# A Basic-authenticated script sends its password with every request; checking argon2id each
# time would cost tens of milliseconds a request, so a good password is remembered this long.
GOOD_PASSWORD_MEMORY = 300.0


class Authenticator:
    """Checks a user name and password against the users file, throttling failures."""

    def __init__(self, users, throttle, clock=time.monotonic):
        self.users = users
        self.throttle = throttle
        self.clock = clock
        self._key = os.urandom(32)
        self._remembered = {}
        self._lock = threading.Lock()

    def authenticate(self, name, password, address):
        """The `User`, or None for a wrong name or password; `LoginThrottled` if throttled."""
        self.throttle.check(name, address)
        user = self.users.get(name)
        fingerprint = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        if user is not None and self._recall(fingerprint) == user.password_hash:
            return user
        if user is None:
            waste_time_like_a_check(password)
            matches, better_hash = False, None
        else:
            matches, better_hash = check_password(password, user.password_hash)
        if not matches:
            self.throttle.failed(name, address)
            log.warning("failed login for user %r from %s", name, address)
            return None
        self.throttle.succeeded(name)
        if better_hash is not None and self.users.replace_hash(name, user.password_hash,
                                                               better_hash):
            log.warning("password hash of user %r upgraded to argon2id", name)
            user = self.users.get(name)
        with self._lock:
            self._remembered[fingerprint] = (user.password_hash,
                                             self.clock() + GOOD_PASSWORD_MEMORY)
        return user

    def _recall(self, fingerprint):
        with self._lock:
            remembered = self._remembered.get(fingerprint)
            if remembered is None:
                return None
            if remembered[1] < self.clock():
                del self._remembered[fingerprint]
                return None
            return remembered[0]


def _vary_on_credentials(request, response):
    response.vary = tuple(response.vary or ()) + ("Authorization", "Cookie")


class VirtDancerSecurityPolicy:
    """Pyramid 2 security policy over VirtDancer's users file."""

    def __init__(self, authenticator, session_lifetime=8 * 3600.0, clock=time.time):
        self.authenticator = authenticator
        self.acl = ACLHelper()
        self._identities = RequestLocalCache(self._load_identity)
        # Sessions live in signed cookies: logging out must also refuse a copy of the cookie,
        # so the ID of every session ended is remembered as long as its cookie could live.
        self.session_lifetime = session_lifetime
        self.clock = clock
        self._ended = {}
        self._ended_lock = threading.Lock()

    def identity(self, request):
        """The `User` making the request, or None."""
        return self._identities.get_or_create(request)

    def authenticated_userid(self, request):
        user = self.identity(request)
        return user.name if user is not None else None

    def permits(self, request, context, permission):
        return self.acl.permits(context, self.principals(request), permission)

    def principals(self, request):
        user = self.identity(request)
        if user is None:
            return [Everyone]
        return [Everyone, Authenticated, f"user:{user.name}", role_principal(user.role)]

    def remember(self, request, userid, **kw):
        # A fresh session on login, so that a session planted before it is worth nothing.
        request.session.invalidate()
        request.session[SESSION_USER] = userid
        request.session[SESSION_ID] = secrets.token_urlsafe(16)
        new_csrf_token(request)
        self._identities.clear(request)
        return []

    def forget(self, request, **kw):
        session_id = request.session.get(SESSION_ID)
        if session_id is not None:
            now = self.clock()
            with self._ended_lock:
                self._ended = {ended: until for ended, until in self._ended.items()
                               if until > now}
                self._ended[session_id] = now + self.session_lifetime
        request.session.invalidate()
        self._identities.clear(request)
        return []

    def _ended_session(self, session_id):
        with self._ended_lock:
            return session_id in self._ended

    def _load_identity(self, request):
        request.add_response_callback(_vary_on_credentials)
        credentials = extract_http_basic_credentials(request)
        if credentials is not None:
            return self.authenticator.authenticate(credentials.username, credentials.password,
                                                   request.client_addr)
        name = request.session.get(SESSION_USER)
        if name is None or self._ended_session(request.session.get(SESSION_ID)):
            return None
        user = self.authenticator.users.get(name)
        if user is not None and request.method not in SAFE_METHODS:
            # The browser sends the cookie to any site's form; only VirtDancer's page knows
            # the token. Raises BadCSRFToken.
            check_csrf_token(request, header=CSRF_HEADER, token=None)
        return user
