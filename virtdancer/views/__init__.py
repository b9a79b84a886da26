"""Cornice services and VirtDancer's JSON error views."""

from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.security import NO_PERMISSION_REQUIRED

from ..permissions import Permission
from .ui import add_novnc_view, add_slash_redirect

_UNSET = object()


def documented_view(view, info):
    """A view deriver that changes nothing: it lets views declare what the OpenAPI document
    says of them (`openapi.document`) beside their Cornice arguments."""
    return view


documented_view.options = ("response_schemas", "query", "etag", "errors", "request_content",
                           "response_content", "request_headers", "links")


def use_cornice(config):
    """Include Cornice once, without its catch-all exception views; and let VirtDancer's views
    declare their answers for the OpenAPI document.

    Those would change a host portal's own error pages; VirtDancer brings error views scoped to
    its own routes instead. Cornice reads `handle_exceptions` while it is included, so the
    setting is there only meanwhile: the host's settings are left as they were (a host that sets
    it itself, for Cornice services of its own, keeps its choice).
    """
    if not getattr(config.registry, "virtdancer_documents_views", False):
        config.registry.virtdancer_documents_views = True
        config.add_view_deriver(documented_view, name="virtdancer_documented")
    if hasattr(config.registry, "cornice_services"):
        return
    settings = config.get_settings()
    host_value = settings.get("handle_exceptions", _UNSET)
    if host_value is _UNSET:
        settings["handle_exceptions"] = False
    try:
        config.include("cornice")
    finally:
        if host_value is _UNSET:
            del settings["handle_exceptions"]


# Routes whose views are not Cornice services (which answer other methods with a 405 of their
# own), with the permission a wrong method is checked against: an anonymous PUT /metrics is a
# 401 like any anonymous request to the API, a PUT / a 405.
READ_ONLY_ROUTES = (
    ("virtdancer.ui", NO_PERMISSION_REQUIRED),
    ("virtdancer.static", NO_PERMISSION_REQUIRED),
    ("virtdancer.console_page", NO_PERMISSION_REQUIRED),
    ("virtdancer.api_page", NO_PERMISSION_REQUIRED),
    ("virtdancer.api_page.bare", NO_PERMISSION_REQUIRED),
    ("virtdancer.novnc", NO_PERMISSION_REQUIRED),
    ("virtdancer.metrics", Permission.READ),
)


def method_not_allowed(request):
    raise HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD"})


def refuse_other_methods(config):
    """A 405 naming GET and HEAD for any other method on the read-only routes.

    These views have no method predicate, so Pyramid tries them after the GET views.
    """
    routes = list(READ_ONLY_ROUTES)
    if config.route_prefix:
        routes.append(("virtdancer.ui.slash", NO_PERMISSION_REQUIRED))
    for route_name, permission in routes:
        config.add_view(method_not_allowed, route_name=route_name, permission=permission)


def includeme(config):
    use_cornice(config)
    config.add_view_predicate("virtdancer_route", ".errors.VirtDancerRoutePredicate")
    config.include(".guards")
    config.include(".etags")
    config.scan(".")
    add_novnc_view(config)
    add_slash_redirect(config)
    refuse_other_methods(config)
