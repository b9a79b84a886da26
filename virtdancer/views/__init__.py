"""Cornice services and VirtDancer's JSON error views."""

from .ui import add_novnc_view


def use_cornice(config):
    """Include Cornice once, without its catch-all exception views.

    Those would change a host portal's own error pages; VirtDancer brings error views scoped to
    its own routes instead.
    """
    config.get_settings().setdefault("handle_exceptions", False)
    if not hasattr(config.registry, "cornice_services"):
        config.include("cornice")


def includeme(config):
    use_cornice(config)
    config.add_view_predicate("virtdancer_route", ".errors.VirtDancerRoutePredicate")
    config.scan(".")
    add_novnc_view(config)
