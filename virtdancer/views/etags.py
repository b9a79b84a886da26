"""Answers a polling client may keep: JSON with an ETag, and 304 Not Modified while it holds.

The ETag is weak and leaves every VM's CPU time out: it grows on every running VM all the time,
so counting it would make each poll of a UI a full answer although nothing it shows changed.

The answer is encoded once, and its ETag is the digest of those very bytes with the CPU times
blanked: a second encoding (or a walk through the answer to take them out) would cost as much as
the answer itself on a large fleet. These answers are the ones clients poll, so they are encoded
by orjson, several times faster than the standard library's encoder; what orjson refuses (an
integer beyond 64 bits) falls back to the standard encoder.
"""

import functools
import hashlib
import json
import re

import orjson
from pyramid.httpexceptions import HTTPNotModified
from pyramid.interfaces import PHASE3_CONFIG, IResponseFactory
from pyramid.response import Response
from webob.acceptparse import create_accept_header

REVALIDATE = "private, no-cache"
# What the JSON encoders write for a VM's CPU time (orjson without the space). Inside a JSON
# string every quote is escaped, so a VM's name can never look like this to the pattern.
_CPU_TIME = re.compile(rb'"cpuTime": ?-?\d+')
# What the JSON renderer of VirtDancer's services offers, in its order of preference.
_MEDIA_TYPES = ("application/json", "text/plain")
_HEADERS_SET_HERE = frozenset({"content-type", "etag", "cache-control"})


def unless_unchanged(request, body):
    """The response to send: `body` as JSON, or 304 Not Modified when the client's copy (its
    If-None-Match) is still good. Kept by the browser for this user only, and asked about every
    time."""
    encoded = _encoded(body)
    etag = hashlib.sha256(_CPU_TIME.sub(b"", encoded)).hexdigest()[:32]
    if etag in request.if_none_match:
        raise HTTPNotModified(headers={"ETag": f'W/"{etag}"', "Cache-Control": REVALIDATE})
    headers = [
        ("Content-Type", _content_type(request.environ.get("HTTP_ACCEPT"))),
        ("ETag", f'W/"{etag}"'),
        ("Cache-Control", REVALIDATE),
    ]
    if "response" not in vars(request) and getattr(request.registry,
                                                    "virtdancer_default_responses", False):
        # The view set nothing on `request.response`: a response made with its body and
        # headers at once skips the default type and charset Pyramid's gets, and the setters
        # that would then scan and rewrite its header list one by one (together about a tenth
        # of a small answer's time).
        return Response(body=encoded, headerlist=headers)
    response = request.response
    response.body = encoded
    response.headerlist[:] = [
        *(header for header in response.headerlist
          if header[0].lower() not in _HEADERS_SET_HERE),
        *headers,
    ]
    return response


def note_response_factory(registry):
    """Note whether the application makes Pyramid's own responses (a host portal may set a
    response factory of its own, which VirtDancer's answers then come from)."""
    registry.virtdancer_default_responses = registry.queryUtility(IResponseFactory) is None


def includeme(config):
    # Once every include's factory is set, as the session factory is checked.
    config.action(None, note_response_factory, args=(config.registry,),
                  order=PHASE3_CONFIG + 1)


def _encoded(body):
    try:
        return orjson.dumps(body)
    except TypeError:     # orjson.JSONEncodeError is one
        return json.dumps(body).encode()


def _content_type(accept):
    """The Content-Type header of an answer to this Accept header, with the charset WebOb
    adds to a text type."""
    media_type = _media_type(accept)
    return f"{media_type}; charset=UTF-8" if media_type.startswith("text/") else media_type


@functools.lru_cache(maxsize=256)
def _media_type(accept):
    """The media type to answer a request with this Accept header (None: it sent none) in.

    Remembered: parsing the header costs more than the rest of a small answer, and a client
    sends the same one every time; bounded, since the header is the client's to choose.
    """
    offers = create_accept_header(accept).acceptable_offers(_MEDIA_TYPES)
    return offers[0][0] if offers else _MEDIA_TYPES[0]
