"""Cornice services and VirtDancer's JSON error views."""

from .ui import add_novnc_view, add_slash_redirect

_UNSET = object()


def use_cornice(config):
    """Include Cornice once, without its catch-all exception views.

    Those would change a host portal's own error pages; VirtDancer brings error views scoped to
    its own routes instead. Cornice reads `handle_exceptions` while it is included, so the
    setting is there only meanwhile: the host's settings are left as they were (a host that sets
    it itself, for Cornice services of its own, keeps its choice).
    """
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


def includeme(config):
    use_cornice(config)
    config.add_view_predicate("virtdancer_route", ".errors.VirtDancerRoutePredicate")
    config.scan(".")
    add_novnc_view(config)
    add_slash_redirect(config)
