"""Cornice services and VirtDancer's JSON error views."""


def includeme(config):
    config.add_view_predicate("virtdancer_route", ".errors.VirtDancerRoutePredicate")
    config.scan(".")
