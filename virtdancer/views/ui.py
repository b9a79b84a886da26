"""The browser UI: its page at VirtDancer's root, its files under static/, the console page,
the API reference at api/.

The pages and their files hold no data, so they need no permission: the login form is on them.
The page's URLs are relative, so it is always served at a path ending in a slash: `/virt` (a
route prefix, or a mount point that gives VirtDancer an empty PATH_INFO) redirects to `/virt/`.
Every response of VirtDancer's routes carries headers that keep the UI to its own origin (and
to the console proxy's, for the console's WebSocket); a JSON answer, which no page is, carries
a policy that allows nothing.
"""

import os
from importlib.resources import files

from pyramid.events import NewResponse, subscriber
from pyramid.httpexceptions import HTTPFound
from pyramid.response import FileResponse
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import static_view
from pyramid.view import view_config

from ..interfaces import IConsole
from ..settings import value
from .errors import error_response, is_virtdancers

STATIC = files("virtdancer.static")

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'{console}; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# A JSON answer is data, not a page: it loads nothing, runs nothing and links nowhere, so its
# policy allows nothing and no frame may show it. Fewer and shorter headers than a page's
# matter here: every answer a script or a polling page gets carries them.
DATA_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
JSON_TYPE = "application/json"

# Where noVNC may be, when virtdancer.novnc_path does not say: installed from npm by
# scripts/setup.sh beside the package (a checkout), or Debian's novnc package.
NOVNC_CANDIDATES = (
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                 "node_modules", "@novnc", "novnc"),
    "/usr/share/novnc",
)


def to_the_page(request):
    """A redirect to the page's own URL, with its trailing slash (and the query string)."""
    return HTTPFound(location=request.route_url("virtdancer.ui", _query=request.GET))


@view_config(route_name="virtdancer.ui", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def index(request):
    if request.script_name and not request.path_info:
        # Mounted at /virt by a URL map or waitress's url_prefix, and asked for /virt: the
        # route matched "/", but the browser would resolve static/main.js to /static/main.js.
        return to_the_page(request)
    return FileResponse(str(STATIC / "index.html"), request=request, content_type="text/html")


def add_slash_redirect(config):
    """`/virt` → `/virt/`, under a route prefix (standalone, "/" is the page itself)."""
    if config.route_prefix:
        config.add_view(to_the_page, route_name="virtdancer.ui.slash",
                        request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED)


serve_static = static_view("virtdancer:static", use_subpath=True)


@view_config(route_name="virtdancer.static", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def static_file(request):
    return serve_static(request.context, request)


@view_config(route_name="virtdancer.console_page", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def console_page(request):
    return FileResponse(str(STATIC / "console.html"), request=request, content_type="text/html")


@view_config(route_name="virtdancer.api_page", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def api_page(request):
    """The API reference, drawn in the browser from /openapi.json."""
    return FileResponse(str(STATIC / "api.html"), request=request, content_type="text/html")


@view_config(route_name="virtdancer.api_page.bare", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def to_the_api_page(request):
    return HTTPFound(location=request.route_url("virtdancer.api_page"))


def novnc_path(settings):
    """noVNC's folder (the one holding core/rfb.js), or None if it is nowhere."""
    configured = value(settings, "virtdancer.novnc_path")
    for candidate in (configured,) if configured else NOVNC_CANDIDATES:
        if os.path.isfile(os.path.join(candidate, "core", "rfb.js")):
            return candidate
    return None


def add_novnc_view(config):
    path = novnc_path(config.get_settings())
    if path is not None:
        serve_novnc = static_view(path, use_subpath=True)

        def novnc_file(request):
            return serve_novnc(request.context, request)
    else:
        def novnc_file(request):
            return error_response(404, "noVNC is not installed: run scripts/setup.sh, or set "
                                       "virtdancer.novnc_path to a noVNC folder")
    config.add_view(novnc_file, route_name="virtdancer.novnc", request_method=("GET", "HEAD"),
                    permission=NO_PERMISSION_REQUIRED)


def content_security_policy(request):
    """Scripts, styles and connections only from VirtDancer itself and its console proxy."""
    console = request.registry.queryUtility(IConsole)
    source = console.websocket_origin(request) if console is not None else None
    return CONTENT_SECURITY_POLICY.format(console=f" {source}" if source else "")


# The UI's files may be cached like any file; everything else VirtDancer answers is about VMs
# and users, and is kept by no cache (an answer that wants a 304 says `private, no-cache`).
CACHEABLE_ROUTES = frozenset({"virtdancer.static", "virtdancer.novnc"})


@subscriber(NewResponse)
def add_security_headers(event):
    request, response = event.request, event.response
    if not is_virtdancers(request):
        return
    # The header list is read once: each `headers.setdefault` would scan it again.
    headerlist = response.headerlist
    present = {name.lower(): header for name, header in headerlist}
    if present.get("content-type", "").startswith(JSON_TYPE):
        wanted = DATA_SECURITY_HEADERS
    else:
        wanted = SECURITY_HEADERS
        if "content-security-policy" not in present:
            headerlist.append(("Content-Security-Policy", content_security_policy(request)))
    for name, header in wanted.items():
        if name.lower() not in present:
            headerlist.append((name, header))
    route = request.matched_route
    if "cache-control" not in present and (
            response.status_code >= 400 or route is None
            or route.name not in CACHEABLE_ROUTES):
        headerlist.append(("Cache-Control", "no-store"))
