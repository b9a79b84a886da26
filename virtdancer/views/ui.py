"""The browser UI: its page at VirtDancer's root, its files under static/.

The page and its files hold no data, so they need no permission: the login form is on them.
Every response of VirtDancer's routes carries headers that keep the UI to its own origin.
"""

from importlib.resources import files

from pyramid.events import NewResponse, subscriber
from pyramid.response import FileResponse
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import static_view
from pyramid.view import view_config

from .errors import ROUTE_PREFIX

STATIC = files("virtdancer.static")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@view_config(route_name="virtdancer.ui", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def index(request):
    return FileResponse(str(STATIC / "index.html"), request=request, content_type="text/html")


serve_static = static_view("virtdancer:static", use_subpath=True)


@view_config(route_name="virtdancer.static", request_method=("GET", "HEAD"),
             permission=NO_PERMISSION_REQUIRED)
def static_file(request):
    return serve_static(request.context, request)


@subscriber(NewResponse)
def add_security_headers(event):
    route = event.request.matched_route
    if route is not None and route.name.startswith(ROUTE_PREFIX):
        for name, value in SECURITY_HEADERS.items():
            event.response.headers.setdefault(name, value)
