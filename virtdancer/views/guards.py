"""Checks every request on VirtDancer's routes passes before a view may read it.

- **Body size**: a body larger than `virtdancer.max_body_bytes` (64 KiB) is refused with a 413
  before anything reads it, so a client cannot make VirtDancer hold a 200 MB document.
- **Body type**: writes carry JSON, or a form (the first VirtDancer's clients send one), in
  UTF-8; multipart bodies, which browsers send across sites without asking, and bodies in
  other charsets are refused with a 415 (other types get the views' 400).
- **Query string and dates**: a query string that is not UTF-8 is a 400; an `If-Modified-Since`
  (or `If-Unmodified-Since`, `If-Range`) that is no valid date is ignored, as HTTP says.
- **Origin of writes**: a write that a browser sends from another site's page (`Origin` not
  VirtDancer's own, or `Sec-Fetch-Site` saying cross-site) is refused with a 403, however it
  is authenticated: a browser adds cookies and remembered HTTP Basic credentials to any site's
  forms. Scripts send no `Origin` and are not affected. Pages of other origins that may write
  are listed in `virtdancer.allowed_origins`.

They run when the request has found its route and context (Pyramid's `ContextFound`), before
the view, its permission check and its body validator.
"""

from pyramid.events import ContextFound
from pyramid.httpexceptions import (
    HTTPBadRequest,
    HTTPLengthRequired,
    HTTPRequestEntityTooLarge,
    HTTPUnsupportedMediaType,
)

from ..security.policy import SAFE_METHODS
from ..settings import value
from .bodies import FORM
from .errors import error_response, is_virtdancers, quoted

DEFAULT_MAX_BODY_BYTES = 64 * 1024


class ForeignOrigin(Exception):
    """A write sent from a page of another site."""

    def __init__(self, origin):
        super().__init__(origin)
        self.origin = origin


# Routes whose PUT streams its body to libvirt (a volume's content): limited by
# `virtdancer.upload.max_bytes` instead, and never read into memory.
UPLOAD_ROUTES = frozenset({"virtdancer.volume.content", "virtdancer.host.volume.content"})
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 ** 3


def is_upload(request):
    route = request.matched_route
    return request.method == "PUT" and route is not None and route.name in UPLOAD_ROUTES


class RequestGuards:
    """The limits of `virtdancer.*` settings, applied to one request at a time."""

    def __init__(self, max_body_bytes=DEFAULT_MAX_BODY_BYTES, allowed_origins=(),
                 max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES):
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.allowed_origins = frozenset(origin.rstrip("/") for origin in allowed_origins)

    def check(self, request):
        upload = is_upload(request)
        if upload:
            self.check_upload_size(request)
        else:
            self.check_body_size(request)
        check_query_string(request)
        ignore_bad_dates(request)
        if request.method not in SAFE_METHODS:
            self.check_origin(request)
            if not upload:
                self.check_body_type(request)

    def check_upload_size(self, request):
        length = request.content_length
        if length is None:
            refusal = HTTPLengthRequired("an upload needs its Content-Length")
            refusal.error_location = "header"
            refusal.error_name = "Content-Length"
            raise refusal
        if length > self.max_upload_bytes:
            refusal = HTTPRequestEntityTooLarge(
                f"the upload is larger than {self.max_upload_bytes} bytes, the most "
                f"VirtDancer takes (virtdancer.upload.max_bytes)")
            refusal.error_location = "body"
            raise refusal

    def check_body_size(self, request):
        length = request.content_length
        if length is None and request.environ.get("wsgi.input_terminated"):
            # A body of unannounced length (chunked): read no more than one byte too many.
            data = request.body_file_raw.read(self.max_body_bytes + 1)
            length = len(data)
            if length <= self.max_body_bytes:
                request.body = data
        if length is not None and length > self.max_body_bytes:
            refusal = HTTPRequestEntityTooLarge(
                f"the request body is larger than {self.max_body_bytes} bytes, the most "
                f"VirtDancer takes (virtdancer.max_body_bytes)")
            refusal.error_location = "body"
            raise refusal

    def check_body_type(self, request):
        if not request.content_length:
            return
        problem = None
        if request.content_type.lower().startswith("multipart/"):
            problem = (f"VirtDancer reads bodies of type application/json (or a form, {FORM}), "
                       f"not {quoted(request.content_type)}")
        elif request.charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            problem = f"VirtDancer reads bodies in UTF-8, not in {quoted(request.charset)}"
        if problem is not None:
            refusal = HTTPUnsupportedMediaType(problem)
            refusal.error_location = "header"
            refusal.error_name = "Content-Type"
            raise refusal

    def check_origin(self, request):
        origin = request.headers.get("Origin")
        if origin is not None:
            origin = origin.rstrip("/")
            if origin not in own_origins(request) and origin not in self.allowed_origins:
                raise ForeignOrigin(origin)
        elif request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            raise ForeignOrigin("(another site)")


def check_query_string(request):
    if not request.environ.get("QUERY_STRING"):
        return      # nothing to decode: no need to build an empty MultiDict
    try:
        request.GET
    except UnicodeDecodeError:
        refusal = HTTPBadRequest("the query string is not valid UTF-8")
        refusal.error_location = "querystring"
        raise refusal from None


# Conditional headers holding dates, by their WSGI names and the request's parsed properties.
DATE_HEADERS = {"HTTP_IF_MODIFIED_SINCE": "if_modified_since",
                "HTTP_IF_UNMODIFIED_SINCE": "if_unmodified_since", "HTTP_IF_RANGE": "if_range"}


def ignore_bad_dates(request):
    """Drop date headers that do not parse (a year 99999), which would fail the file views."""
    for name, attribute in DATE_HEADERS.items():
        if name in request.environ:
            try:
                getattr(request, attribute)
            except (ValueError, OverflowError, TypeError):
                del request.environ[name]


def own_origins(request):
    """VirtDancer's own origin, as waitress gives the request (after its trusted-proxy rules).

    A page on https:// of the same host is VirtDancer's too: a proxy in front may speak HTTPS to
    the browser without telling waitress. (The other way round, an http:// page writing to an
    HTTPS VirtDancer, is not.)
    """
    own = request.host_url
    if own.startswith("http://"):
        return (own, "https://" + own[len("http://"):])
    return (own,)


def guards_from_settings(settings):
    return RequestGuards(
        max_body_bytes=value(settings, "virtdancer.max_body_bytes"),
        max_upload_bytes=value(settings, "virtdancer.upload.max_bytes"),
        allowed_origins=value(settings, "virtdancer.allowed_origins"))


def guard_request(event):
    request = event.request
    guards = getattr(request.registry, "virtdancer_guards", None)
    if guards is not None and is_virtdancers(request):
        guards.check(request)


def foreign_origin(exc, request):
    return error_response(403, f"writes from pages of {quoted(exc.origin)} are refused: only "
                               "VirtDancer's own page (and the origins in "
                               "virtdancer.allowed_origins) may write",
                          location="header", name="Origin")


def includeme(config):
    config.registry.virtdancer_guards = guards_from_settings(config.get_settings())
    config.add_subscriber(guard_request, ContextFound)
    config.add_exception_view(foreign_origin, ForeignOrigin, virtdancer_route=True)
