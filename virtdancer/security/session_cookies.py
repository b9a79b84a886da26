"""The login session's cookie: Pyramid's signed cookie, its signature checked once per value.

A browser sends the same cookie with every request until the session is reissued (at most once
a minute). Checking its signature and decoding it is about a sixth of an authenticated
request, so the outcome is remembered by the cookie's exact text: the same text always checks
and decodes the same way. A forged or damaged cookie raises, and raising is not remembered.
What a request gets is its own copy, since a session is changed in place.
"""

import functools

from pyramid.session import BaseCookieSessionFactory, JSONSerializer
from webob.cookies import SignedSerializer

# Cookies remembered at once (a few hundred bytes each): far more than the users of one
# VirtDancer hold at a time; a client cycling cookies only makes the oldest be checked again.
REMEMBERED_COOKIES = 1024


class RememberingSerializer:
    """A `SignedSerializer` whose `loads` answers from memory for a cookie it has read."""

    def __init__(self, signed, size=REMEMBERED_COOKIES):
        self.dumps = signed.dumps
        self._loads = functools.lru_cache(maxsize=size)(signed.loads)

    def loads(self, bstruct):
        # Pyramid's session value: [renewed, created, state]; the state is the changeable part.
        return [dict(part) if isinstance(part, dict) else part
                for part in self._loads(bstruct)]


def session_factory(secret, **options):
    """`SignedCookieSessionFactory(secret, **options)`, with the same signature (salt and
    hash) and JSON, reading each cookie value once."""
    signed = SignedSerializer(secret, "pyramid.session.", "sha512",
                              serializer=JSONSerializer())
    return BaseCookieSessionFactory(RememberingSerializer(signed), **options)
