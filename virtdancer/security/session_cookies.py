"""The login session's cookie: Pyramid's signed cookie, its signature checked once per value.

A browser sends the same cookie with every request until the session is reissued (at most once
a minute). Checking its signature and decoding it is about a sixth of an authenticated
request, so the outcome is remembered by the cookie's exact text: the same text always checks
and decodes the same way. A forged or damaged cookie raises, and raising is not remembered.
What a request gets is its own copy, since a session is changed in place.

Parsing the Cookie header that holds it costs as much again, and is remembered the same way:
WebOb's own parse of the same text, handed to each request as a copy of its own.

Most requests only read who the session is, and making a session of the cookie for that costs
more than reading it: `SessionCookies.peek` gives the session's state read-only, without a
session, whenever reading it through one would change nothing (no renewal due, not expired).
"""

import functools
import types

import pyramid.session
from pyramid.session import BaseCookieSessionFactory, JSONSerializer
from pyramid.util import bytes_
from webob.cookies import RequestCookies, SignedSerializer

# Cookies remembered at once (a few hundred bytes each): far more than the users of one
# VirtDancer hold at a time; a client cycling cookies only makes the oldest be checked again.
REMEMBERED_COOKIES = 1024
# Cookie headers longer than this are parsed each time, not remembered: memory stays bounded.
REMEMBERED_HEADER_LENGTH = 4096


class RememberingSerializer:
    """A `SignedSerializer` whose `loads` answers from memory for a cookie it has read."""

    def __init__(self, signed, size=REMEMBERED_COOKIES):
        self.dumps = signed.dumps
        self.remembered = functools.lru_cache(maxsize=size)(signed.loads)

    def loads(self, bstruct):
        # Pyramid's session value: [renewed, created, state]; the state is the changeable part.
        return [dict(part) if isinstance(part, dict) else part
                for part in self.remembered(bstruct)]


@functools.lru_cache(maxsize=REMEMBERED_COOKIES)
def _parsed(header):
    """The cookies of a Cookie header, as WebOb parses them."""
    return tuple(RequestCookies({"HTTP_COOKIE": header}).items())


class SessionCookies:
    """Pyramid's session factory over the signed cookie (`SignedCookieSessionFactory`'s
    signature, salt, hash and JSON), reading each cookie value once; and `peek`."""

    def __init__(self, secret, cookie_name="session", timeout=1200, reissue_time=0,
                 **options):
        signed = SignedSerializer(secret, "pyramid.session.", "sha512",
                                  serializer=JSONSerializer())
        self._serializer = RememberingSerializer(signed)
        self._make_session = BaseCookieSessionFactory(
            self._serializer, cookie_name=cookie_name, timeout=timeout,
            reissue_time=reissue_time, **options)
        self.cookie_name = cookie_name
        self.timeout = timeout
        self.reissue_time = reissue_time
        self._states = functools.lru_cache(maxsize=REMEMBERED_COOKIES)(self._state)

    def __call__(self, request):
        environ = request.environ
        header = environ.get("HTTP_COOKIE")
        if header and len(header) <= REMEMBERED_HEADER_LENGTH:
            # Where WebOb keeps a request's parsed cookies, with the header they came from.
            environ.setdefault(RequestCookies._cache_key, (dict(_parsed(header)), header))
        return self._make_session(request)

    def peek(self, request):
        """The state of the request's session, read-only, if making a session of the cookie
        would read the same state and change nothing; else None (no cookie, a bad one, one
        due to be renewed or expired: the caller makes the session, which deals with it)."""
        header = request.environ.get("HTTP_COOKIE")
        if not header or len(header) > REMEMBERED_HEADER_LENGTH:
            return None
        value = None
        for name, text in _parsed(header):
            if name == self.cookie_name:
                value = text     # the last one, as the session's own lookup finds it
        if value is None:
            return None
        try:
            renewed, state = self._states(value)
        except (ValueError, TypeError):
            return None
        # The session's own rules, in its own arithmetic and by its own clock (the `time` its
        # module reads): expired after `timeout` seconds without renewal; renewed when whole
        # seconds since the last one pass `reissue_time`.
        now = pyramid.session.time.time()
        if self.timeout is not None and now - renewed > self.timeout:
            return None
        if self.reissue_time is not None and int(now) - renewed > self.reissue_time:
            return None
        return state

    def _state(self, value):
        """(renewed, state) of a cookie value; raises ValueError for one that does not check
        or does not unpack, as the session would refuse it."""
        renewed, created, state = self._serializer.remembered(bytes_(value))
        float(created)
        if not isinstance(state, dict):
            raise ValueError("the session's state is not an object")
        return float(renewed), types.MappingProxyType(state)


def session_factory(secret, **options):
    """`SignedCookieSessionFactory(secret, **options)`, with the same signature (salt and
    hash) and JSON, reading each cookie value once, and able to `peek`."""
    return SessionCookies(secret, **options)
