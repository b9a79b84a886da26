"""The login session's cookie: Pyramid's signed cookie, its signature checked once per value.

A browser sends the same cookie with every request until the session is reissued (at most once
a minute). Checking its signature and decoding it is about a sixth of an authenticated
request, so the outcome is remembered by the cookie's exact text: the same text always checks
and decodes the same way. A forged or damaged cookie raises, and raising is not remembered.
What a request gets is its own copy, since a session is changed in place.

Parsing the Cookie header that holds it costs as much again, and is remembered the same way:
WebOb's own parse of the same text, handed to each request as a copy of its own.
"""

import functools

from pyramid.session import BaseCookieSessionFactory, JSONSerializer
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
        self._loads = functools.lru_cache(maxsize=size)(signed.loads)

    def loads(self, bstruct):
        # Pyramid's session value: [renewed, created, state]; the state is the changeable part.
        return [dict(part) if isinstance(part, dict) else part
                for part in self._loads(bstruct)]


@functools.lru_cache(maxsize=REMEMBERED_COOKIES)
def _parsed(header):
    """The cookies of a Cookie header, as WebOb parses them."""
    return tuple(RequestCookies({"HTTP_COOKIE": header}).items())


def _parse_once(make_session):
    def session(request):
        environ = request.environ
        header = environ.get("HTTP_COOKIE")
        if header and len(header) <= REMEMBERED_HEADER_LENGTH:
            # Where WebOb keeps a request's parsed cookies, with the header they came from.
            environ.setdefault(RequestCookies._cache_key, (dict(_parsed(header)), header))
        return make_session(request)
    return session


def session_factory(secret, **options):
    """`SignedCookieSessionFactory(secret, **options)`, with the same signature (salt and
    hash) and JSON, reading each cookie value once."""
    signed = SignedSerializer(secret, "pyramid.session.", "sha512",
                              serializer=JSONSerializer())
    return _parse_once(BaseCookieSessionFactory(RememberingSerializer(signed), **options))
